/*
 * The control socket: where `mcpguard run` registers sessions and reports verdicts.
 * Anyone may connect (mode 0666); what a peer may do is decided from SO_PEERCRED:
 * a user acts only on its own sessions, only root lifts a quarantine, and a process
 * that is itself inside the guarded cgroup may only ask for status.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "evidence.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "xmalloc.h"

#define MAX_CONNS 256

struct conn {
	int fd;
	struct ucred cred;
	bool guarded; /* the peer runs inside the guarded cgroup */
};

struct control {
	int ep;
	int lfd;
	char path[PATH_MAX];
	struct conn conns[MAX_CONNS];
	struct session *sessions;
	char *buf;
};

struct session **control_sessions(struct daemon *d);

struct session **control_sessions(struct daemon *d)
{
	static struct session *none;
	struct control *c = d->control;

	return c ? &c->sessions : &none;
}

int control_start(struct daemon *d, const char *sock_path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct epoll_event ev = {.events = EPOLLIN};
	struct control *c;
	char dir[PATH_MAX], *slash;

	if (!sock_path)
		sock_path = MG_CTL_SOCK;
	if (strlen(sock_path) >= sizeof(sun.sun_path)) {
		warnx("control socket path too long: %s", sock_path);
		return -1;
	}
	c = xcalloc(1, sizeof(*c));
	c->lfd = c->ep = -1;
	for (int i = 0; i < MAX_CONNS; i++)
		c->conns[i].fd = -1;
	mg_strlcpy(c->path, sock_path, sizeof(c->path));
	mg_strlcpy(dir, sock_path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			warn("mkdir %s", dir);
			goto fail;
		}
	}
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	unlink(sock_path);
	if ((c->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(c->lfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(sock_path, 0666) < 0 ||
	    listen(c->lfd, 64) < 0) {
		warn("control socket %s", sock_path);
		goto fail;
	}
	if ((c->ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		warn("epoll_create1");
		goto fail;
	}
	ev.data.fd = c->lfd;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) < 0) {
		warn("epoll_ctl");
		goto fail;
	}
	c->buf = xmalloc(MG_CTL_MAX + 1);
	d->control = c;
	return c->ep;
fail:
	if (c->lfd >= 0)
		close(c->lfd);
	if (c->ep >= 0)
		close(c->ep);
	free(c);
	return -1;
}

static struct conn *conn_of(struct control *c, int fd)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (c->conns[i].fd == fd)
			return &c->conns[i];
	return NULL;
}

static void conn_close(struct daemon *d, struct conn *k)
{
	struct control *c = d->control;

	epoll_ctl(c->ep, EPOLL_CTL_DEL, k->fd, NULL);
	session_end_conn(d, k->fd);
	close(k->fd);
	k->fd = -1;
}

static void accept_one(struct daemon *d)
{
	struct control *c = d->control;
	struct epoll_event ev = {.events = EPOLLIN};
	socklen_t len = sizeof(struct ucred);
	struct conn *k;
	int fd;

	if ((fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		return;
	if ((k = conn_of(c, -1)) == NULL) {
		warnx("control: too many connections, refusing one");
		close(fd);
		return;
	}
	k->fd = fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &k->cred, &len) < 0) {
		warn("SO_PEERCRED");
		close(fd);
		k->fd = -1;
		return;
	}
	k->guarded = session_pid_guarded(d, k->cred.pid);
	ev.data.fd = fd;
	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		k->fd = -1;
	}
}

static void reply(struct conn *k, cJSON *r)
{
	char *text = cJSON_PrintUnformatted(r);

	/* Never leave the caller waiting for a reply that cannot be sent (many sessions). */
	if (!text || strlen(text) > MG_CTL_MAX) {
		const char *e = text
				    ? "{\"ok\":false,\"error\":\"reply too large for one message\"}"
				    : "{\"ok\":false,\"error\":\"out of memory\"}";

		free(text);
		text = xstrdup(e);
	}
	if (text) {
		if (ctl_send(k->fd, text, strlen(text), -1) < 0)
			debug("control: reply: %s", strerror(errno));
		free(text);
	}
	cJSON_Delete(r);
}

static void reply_err(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void reply_err(struct conn *k, const char *fmt, ...)
{
	cJSON *r = cJSON_CreateObject();
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddFalseToObject(r, "ok");
	cJSON_AddStringToObject(r, "error", msg);
	reply(k, r);
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *session_json(struct daemon *d, const struct session *s)
{
	cJSON *o = cJSON_CreateObject();
	uint64_t denies;
	uint32_t fl = session_flags(d, s, &denies);

	cJSON_AddStringToObject(o, "session", s->id);
	cJSON_AddStringToObject(o, "cgroup", s->path + strlen(d->cgroup_mount));
	cJSON_AddNumberToObject(o, "cgid", (double)s->cgid);
	cJSON_AddNumberToObject(o, "pid", s->server);
	cJSON_AddNumberToObject(o, "uid", s->owner);
	cJSON_AddStringToObject(o, "command", s->cmd);
	cJSON_AddNumberToObject(o, "started", (double)s->started);
	cJSON_AddBoolToObject(o, "quarantined", (fl & MG_SESS_QUARANTINE) != 0);
	cJSON_AddBoolToObject(o, "tainted", (fl & MG_SESS_TAINTED) != 0);
	cJSON_AddNumberToObject(o, "kernel_denies", (double)denies);
	return o;
}

/* A session the peer may act on: its own, or any for root. */
static struct session *owned(struct daemon *d, struct conn *k, const cJSON *req)
{
	const char *id = jstr(req, "session");
	struct session *s = id ? session_find(d, id) : NULL;

	if (!s) {
		reply_err(k, "no such session");
		return NULL;
	}
	if (k->cred.uid != 0 && s->owner != k->cred.uid) {
		reply_err(k, "session %s belongs to another user", s->id);
		return NULL;
	}
	return s;
}

static void op_place(struct daemon *d, struct conn *k, const cJSON *req, int fd)
{
	const cJSON *argv = cJSON_GetObjectItemCaseSensitive(req, "argv"), *a;
	char cmd[256] = "", err[256];
	struct session *s;
	cJSON *r;

	if (fd < 0) {
		reply_err(k, "place needs the child's pidfd");
		return;
	}
	cJSON_ArrayForEach(a, argv)
	{
		if (!cJSON_IsString(a))
			continue;
		if (*cmd)
			strncat(cmd, " ", sizeof(cmd) - strlen(cmd) - 1);
		strncat(cmd, a->valuestring, sizeof(cmd) - strlen(cmd) - 1);
	}
	s = session_place(d, fd, k->cred.pid, k->cred.uid, cmd, k->fd, err, sizeof(err));
	if (!s) {
		reply_err(k, "%s", err);
		return;
	}
	r = session_json(d, s);
	cJSON_AddTrueToObject(r, "ok");
	reply(k, r);
}

static void op_verdict(struct daemon *d, struct conn *k, const cJSON *req)
{
	const char *action = jstr(req, "action"), *reason = jstr(req, "reason");
	struct session *s = owned(d, k, req);
	int rc;

	if (!s)
		return;
	if (!action) {
		reply_err(k, "verdict needs an action");
		return;
	}
	if (strcmp(action, "quarantine") == 0)
		rc = session_set_flags(d, s, MG_SESS_QUARANTINE, 0);
	else if (strcmp(action, "freeze") == 0)
		rc = session_freeze(s);
	else if (strcmp(action, "kill") == 0)
		rc = session_kill(s);
	else {
		reply_err(k, "unknown action '%s' (quarantine, freeze, kill)", action);
		return;
	}
	if (rc < 0) {
		reply_err(k, "%s of session %s failed: %s", action, s->id, strerror(errno));
		return;
	}
	/* One JSON line, like every other decision the daemon makes. */
	printf("{\"kind\":\"session-verdict\",\"session\":\"%s\",\"action\":\"%s\",\"uid\":%u,"
	       "\"reason_len\":%zu}\n",
	       s->id, action, (unsigned)k->cred.uid, reason ? strlen(reason) : 0);
	fflush(stdout);
	info("session %s: %s (%s)", s->id, action, reason ? reason : "no reason given");
	evidence_session(d, s, action, reason, k->cred.uid);
	cJSON *r = session_json(d, s);
	cJSON_AddTrueToObject(r, "ok");
	reply(k, r);
}

static void op_release(struct daemon *d, struct conn *k, const cJSON *req)
{
	struct session *s;
	cJSON *r;

	if (k->cred.uid != 0) {
		reply_err(k, "only root may release a session");
		return;
	}
	if ((s = owned(d, k, req)) == NULL)
		return;
	if (session_set_flags(d, s, 0, MG_SESS_QUARANTINE | MG_SESS_TAINTED) < 0) {
		reply_err(k, "release failed: %s", strerror(errno));
		return;
	}
	info("session %s released by the operator", s->id);
	evidence_session(d, s, "release", "quarantine and taint lifted by the operator",
			 k->cred.uid);
	r = session_json(d, s);
	cJSON_AddTrueToObject(r, "ok");
	reply(k, r);
}

/*
 * Counts from the proxy of a session, added under server="<its command>". Only on
 * the connection that placed the session: a process cannot speak for a server it
 * does not front (and guarded processes never get here).
 */
static void op_metrics(struct daemon *d, struct conn *k, const cJSON *req)
{
	const cJSON *deltas = cJSON_GetObjectItemCaseSensitive(req, "metrics");
	const char *id = jstr(req, "session");
	struct metrics *m = evidence_metrics(d);
	struct session *s = id ? session_find(d, id) : NULL;
	char labels[512];
	cJSON *r;

	if (!s || s->conn != k->fd) {
		reply_err(k, "metrics only for a session placed through this connection");
		return;
	}
	if (!cJSON_IsObject(deltas)) {
		reply_err(k, "metrics needs a \"metrics\" object");
		return;
	}
	if (m) {
		if (metrics_labels(labels, sizeof(labels), "server", s->cmd, NULL) < 0) {
			reply_err(k, "server label too long");
			return;
		}
		if (metrics_merge_json(m, deltas, labels) < 0) {
			reply_err(k,
				  "some metrics were refused (unknown family, bounds or counts)");
			return;
		}
	}
	r = cJSON_CreateObject();
	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddBoolToObject(r, "served", m != NULL);
	reply(k, r);
}

static void op_sessions(struct daemon *d, struct conn *k)
{
	cJSON *r = cJSON_CreateObject(), *arr;

	cJSON_AddTrueToObject(r, "ok");
	arr = cJSON_AddArrayToObject(r, "sessions");
	for (struct session *s = session_list(d); s; s = s->next)
		if (!s->ended && (k->cred.uid == 0 || s->owner == k->cred.uid))
			cJSON_AddItemToArray(arr, session_json(d, s));
	reply(k, r);
}

static void op_status(struct daemon *d, struct conn *k)
{
	static const char *modes[] = {"off", "lsm", "fallback", "unavailable"};
	cJSON *r = cJSON_CreateObject();

	cJSON_AddTrueToObject(r, "ok");
	cJSON_AddStringToObject(r, "cgroup", d->cgroup_rel);
	cJSON_AddStringToObject(r, "files_mode",
				d->files_mode <= FILES_UNAVAILABLE ? modes[d->files_mode] : "?");
	cJSON_AddStringToObject(r, "files_reason", d->files_reason);
	cJSON_AddBoolToObject(r, "audit", d->audit);
	reply(k, r);
}

static void handle(struct daemon *d, struct conn *k)
{
	struct control *c = d->control;
	const char *op;
	cJSON *req;
	ssize_t n;
	int fd = -1;

	n = ctl_recv(k->fd, c->buf, MG_CTL_MAX + 1, &fd);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(d, k);
		return;
	}
	req = cJSON_ParseWithLength(c->buf, (size_t)n);
	op = req ? jstr(req, "op") : NULL;
	if (!op)
		reply_err(k, "malformed request");
	else if (strcmp(op, "status") == 0)
		op_status(d, k);
	else if (k->guarded)
		/* From inside a session: no new sessions (a way out of quarantine), no verdicts. */
		reply_err(k, "refused: the caller runs inside the guarded cgroup");
	else if (strcmp(op, "place") == 0)
		op_place(d, k, req, fd);
	else if (strcmp(op, "verdict") == 0)
		op_verdict(d, k, req);
	else if (strcmp(op, "release") == 0)
		op_release(d, k, req);
	else if (strcmp(op, "sessions") == 0)
		op_sessions(d, k);
	else if (strcmp(op, "metrics") == 0)
		op_metrics(d, k, req);
	else
		reply_err(k, "unknown op '%s'", op);
	if (fd >= 0)
		close(fd);
	cJSON_Delete(req);
}

void control_dispatch(struct daemon *d)
{
	struct control *c = d->control;
	struct epoll_event evs[16];
	int n;

	if (!c)
		return;
	n = epoll_wait(c->ep, evs, 16, 0);
	for (int i = 0; i < n; i++) {
		struct conn *k;

		if (evs[i].data.fd == c->lfd) {
			accept_one(d);
			continue;
		}
		if ((k = conn_of(c, evs[i].data.fd)) == NULL)
			continue;
		if (evs[i].events & EPOLLIN)
			handle(d, k);
		else if (evs[i].events & (EPOLLHUP | EPOLLERR))
			conn_close(d, k);
	}
}

void control_tick(struct daemon *d)
{
	if (d->control)
		session_reap(d);
}

void control_stop(struct daemon *d)
{
	struct control *c = d->control;

	if (!c)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (c->conns[i].fd >= 0)
			conn_close(d, &c->conns[i]);
	session_reap(d);
	session_free_all(d);
	close(c->lfd);
	close(c->ep);
	unlink(c->path);
	free(c->buf);
	free(c);
	d->control = NULL;
}
