/*
 * Placing a server into its session cgroup. An unprivileged process cannot move a
 * child into /mcp/<session> (cgroup v2 wants write access to the common
 * ancestor's cgroup.procs), so the proxy forks a child that waits before exec and
 * hands us its pidfd; we check it is the caller's own child, move it, and only then
 * does it exec. No instruction of the server runs outside the cgroup, and the
 * proxy keeps an ordinary parent/child relation (waitpid, signals, stdio pipes).
 * The session cgroup stays root-owned, so nothing inside can write cgroup.procs.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"
#include "log.h"
#include "session.h"
#include "xmalloc.h"

struct control;
/* The session list head lives in control.c's state; reach it through these two. */
struct session **control_sessions(struct daemon *d);

static int read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int write_small(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -1;
}

/* A field "Name:\tvalue" of a /proc status-like file. */
static long proc_field(const char *path, const char *name)
{
	char buf[4096], *p;
	size_t n = strlen(name);

	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ':')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}

static pid_t pidfd_pid(int pidfd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	return (pid_t)proc_field(path, "Pid");
}

/* The cgroup v2 path of pid ("0::/mcp/s1"), relative to the mount. */
static int pid_cgroup(pid_t pid, char *out, size_t cap)
{
	char path[64], buf[PATH_MAX + 16], *p;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, "0::", 3) == 0) {
			size_t len = strcspn(p + 3, "\n");

			if (len >= cap)
				return -1;
			memcpy(out, p + 3, len);
			out[len] = '\0';
			return 0;
		}
	}
	return -1;
}

bool session_pid_guarded(struct daemon *d, pid_t pid)
{
	char cg[PATH_MAX];
	size_t n = strlen(d->cgroup_rel);

	if (pid_cgroup(pid, cg, sizeof(cg)) < 0)
		return true; /* cannot tell: treat as guarded, refuse */
	return strncmp(cg, d->cgroup_rel, n) == 0 && (cg[n] == '\0' || cg[n] == '/');
}

static int sessions_map(struct daemon *d)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/mg_sessions", d->pin_root);
	return bpf_obj_get(path);
}

struct session *session_place(struct daemon *d, int pidfd, pid_t peer_pid, uid_t peer_uid,
			      const char *cmd, int conn, char *err, size_t errlen)
{
	struct session *s, **head = control_sessions(d);
	struct mg_session val = {0};
	unsigned char rnd[SESSION_ID_LEN / 2];
	char path[PATH_MAX + 32], buf[32], cg[PATH_MAX];
	struct stat st;
	pid_t pid;
	long uid, ppid;
	int mfd;

	if ((pid = pidfd_pid(pidfd)) <= 0) {
		snprintf(err, errlen, "not a live process");
		return NULL;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	uid = proc_field(path, "Uid");
	ppid = proc_field(path, "PPid");
	/* Only the caller's own child, running as the caller: nobody places anyone else. */
	if (uid < 0 || ppid != peer_pid || (peer_uid != 0 && (uid_t)uid != peer_uid)) {
		snprintf(err, errlen, "pid %d is not a child of the caller running as its user",
			 (int)pid);
		return NULL;
	}
	/* Already guarded: a new session would lift its session's quarantine and taint. */
	if (session_pid_guarded(d, pid)) {
		snprintf(err, errlen, "pid %d is already inside the guarded cgroup", (int)pid);
		return NULL;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
	if (snprintf(s->path, sizeof(s->path), "%s/%s", d->cgroup_path, s->id) >=
	    (int)sizeof(s->path)) {
		snprintf(err, errlen, "cgroup path too long");
		free(s);
		return NULL;
	}
	if (mkdir(s->path, 0755) < 0 || stat(s->path, &st) < 0) {
		snprintf(err, errlen, "mkdir %s: %s", s->path, strerror(errno));
		free(s);
		return NULL;
	}
	s->cgid = st.st_ino;
	/* Kernel state first, so the process is judged as a session the moment it moves. */
	if ((mfd = sessions_map(d)) < 0 ||
	    bpf_map_update_elem(mfd, &s->cgid, &val, BPF_NOEXIST) < 0) {
		snprintf(err, errlen, "session map: %s", strerror(errno));
		if (mfd >= 0)
			close(mfd);
		rmdir(s->path);
		free(s);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/cgroup.procs", s->path);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	/* The pidfd pins the identity: if the child died and its pid was reused, the
	 * signal-0 probe after the move fails and we undo. */
	if (write_small(path, buf) < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 ||
	    pid_cgroup(pid, cg, sizeof(cg)) < 0 || strstr(cg, s->id) == NULL) {
		snprintf(err, errlen, "moving pid %d into %s failed: %s", (int)pid, s->path,
			 strerror(errno));
		bpf_map_delete_elem(mfd, &s->cgid);
		close(mfd);
		rmdir(s->path);
		free(s);
		return NULL;
	}
	close(mfd);
	s->owner = peer_uid;
	s->server = pid;
	s->conn = conn;
	s->started = time(NULL);
	mg_strlcpy(s->cmd, cmd ? cmd : "", sizeof(s->cmd));
	s->next = *head;
	*head = s;
	info("session %s: pid %d (%s) placed in %s", s->id, (int)pid, s->cmd, s->path);
	evidence_session(d, s, "session-start", NULL, peer_uid);
	return s;
}

struct session *session_find(struct daemon *d, const char *id)
{
	for (struct session *s = *control_sessions(d); s; s = s->next)
		if (!s->ended && strcmp(s->id, id) == 0)
			return s;
	return NULL;
}

struct session *session_list(struct daemon *d)
{
	return *control_sessions(d);
}

uint32_t session_flags(struct daemon *d, const struct session *s, uint64_t *denies)
{
	struct mg_session v = {0};
	int mfd = sessions_map(d);

	if (denies)
		*denies = 0;
	if (mfd < 0)
		return 0;
	if (bpf_map_lookup_elem(mfd, &s->cgid, &v) < 0)
		memset(&v, 0, sizeof(v));
	close(mfd);
	if (denies)
		*denies = v.denies;
	return v.flags;
}

int session_set_flags(struct daemon *d, struct session *s, uint32_t set, uint32_t clear)
{
	struct mg_session v = {0};
	int mfd = sessions_map(d), rc;

	if (mfd < 0)
		return -1;
	if (bpf_map_lookup_elem(mfd, &s->cgid, &v) < 0)
		memset(&v, 0, sizeof(v));
	v.flags = (v.flags | set) & ~clear;
	rc = bpf_map_update_elem(mfd, &s->cgid, &v, BPF_ANY);
	close(mfd);
	return rc;
}

int session_freeze(struct session *s)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/cgroup.freeze", s->path);
	return write_small(path, "1");
}

int session_kill(struct session *s)
{
	char path[PATH_MAX + 32], buf[8192], *p;

	snprintf(path, sizeof(path), "%s/cgroup.kill", s->path);
	if (write_small(path, "1") == 0)
		return 0;
	/* Before 5.14 there is no cgroup.kill: signal each member. */
	snprintf(path, sizeof(path), "%s/cgroup.procs", s->path);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	for (p = buf; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		pid_t pid = (pid_t)strtol(p, NULL, 10);

		if (pid > 0)
			kill(pid, SIGKILL);
	}
	return 0;
}

static void session_remove(struct daemon *d, struct session *s)
{
	int mfd;

	if (rmdir(s->path) < 0 && errno != ENOENT)
		return; /* members still exiting: session_reap retries */
	if ((mfd = sessions_map(d)) >= 0) {
		bpf_map_delete_elem(mfd, &s->cgid);
		close(mfd);
	}
	s->cgid = 0;
}

void session_end_conn(struct daemon *d, int conn)
{
	for (struct session *s = *control_sessions(d); s; s = s->next) {
		if (s->ended || s->conn != conn)
			continue;
		s->ended = true;
		s->conn = -1;
		session_kill(s);
		session_remove(d, s);
		info("session %s ended", s->id);
		evidence_session(d, s, "session-end", "the proxy's control connection closed",
				 s->owner);
	}
}

void session_reap(struct daemon *d)
{
	struct session **pp = control_sessions(d);

	while (*pp) {
		struct session *s = *pp;

		if (s->ended && s->cgid)
			session_remove(d, s);
		if (s->ended && !s->cgid) {
			*pp = s->next;
			free(s);
			continue;
		}
		pp = &s->next;
	}
}

void session_free_all(struct daemon *d)
{
	struct session **pp = control_sessions(d), *s;

	while ((s = *pp) != NULL) {
		*pp = s->next;
		free(s);
	}
}
