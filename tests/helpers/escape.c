/*
 * Escape suite. `escape --protected FILE [--uid N] [--daemon-pid P]` places an
 * attacker in a session exactly as `mcpguard run` places a server (guard.c: fork,
 * wait, daemon places it, sandbox, exec), in a network namespace of its own with
 * only lo (so an escape that works still sends nothing off this machine), as an
 * unprivileged user. The attacker tries each technique in a forked process and
 * prints "ok - escape: T refused" or "not ok - escape: T WORKED". A technique
 * whose process is killed by the kernel fallback counts as refused.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "guard.h"
#include "policy.h"

static const char *protected_path;
static pid_t proxy_pid, daemon_pid;
static int tried, escaped;

/* Run fn in a child: exit 0 = refused, 1 = worked, 2 = could not be tried here. */
static void technique(const char *name, int (*fn)(void))
{
	int st;
	pid_t p = fork();

	if (p < 0) {
		printf("not ok - escape: %s: fork: %s\n", name, strerror(errno));
		escaped++;
		return;
	}
	if (p == 0)
		_exit(fn());
	while (waitpid(p, &st, 0) < 0 && errno == EINTR)
		;
	tried++;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		printf("ok - escape: %s refused (killed by the kernel fallback)\n", name);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		printf("ok - escape: %s refused\n", name);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 2) {
		printf("skip - escape: %s: not available on this kernel\n", name);
		tried--;
	} else {
		printf("not ok - escape: %s WORKED (status 0x%x)\n", name, st);
		escaped++;
	}
	fflush(stdout);
}

static int refused(int r)
{
	return r < 0 ? 0 : 1;
}

static int t_cgroup_root(void)
{
	char path[PATH_MAX + 32], cg[PATH_MAX] = "";
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	int fd;

	/* Find the cgroup2 mount, then try the root's and the guarded parent's procs. */
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ")) {
			sscanf(line, "%*s %*s %*s %*s %4095s", cg);
			break;
		}
	if (f)
		fclose(f);
	if (!cg[0])
		return 2;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		char pid[16];
		int n = snprintf(pid, sizeof(pid), "%d", getpid());

		if (write(fd, pid, (size_t)n) == n)
			return 1;
		close(fd);
	}
	return 0;
}

static int t_cgroup_parent(void)
{
	char rel[PATH_MAX], path[PATH_MAX + 64], cg[PATH_MAX] = "", line[1024], *slash;
	FILE *f = fopen("/proc/self/cgroup", "r");
	int fd, n;

	/* The unified hierarchy's line; v1 controllers may come first on hybrid hosts. */
	rel[0] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "0::%4095s", rel) == 1)
			break;
	if (f)
		fclose(f);
	if (!rel[0])
		return 2;
	if ((slash = strrchr(rel, '/')) != NULL)
		*slash = '\0'; /* the guarded cgroup itself */
	if ((f = fopen("/proc/self/mountinfo", "r")) == NULL)
		return 2;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ")) {
			sscanf(line, "%*s %*s %*s %*s %4095s", cg);
			break;
		}
	fclose(f);
	n = snprintf(path, sizeof(path), "%s%s/cgroup.procs", cg, rel);
	if (n <= 0 || (size_t)n >= sizeof(path))
		return 2;
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		char pid[16];

		n = snprintf(pid, sizeof(pid), "%d", getpid());
		if (write(fd, pid, (size_t)n) == n)
			return 1;
		close(fd);
	}
	return 0;
}

static int t_ptrace_proxy(void)
{
	return refused((int)ptrace(PTRACE_ATTACH, proxy_pid, 0, 0));
}

static int t_signal_proxy(void)
{
	return refused(kill(proxy_pid, 0));
}

static int t_signal_daemon(void)
{
	return daemon_pid > 0 ? refused(kill(daemon_pid, 0)) : 2;
}

static int t_proc_mem_proxy(void)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/mem", (int)proxy_pid);
	return refused(open(p, O_RDONLY));
}

static int t_proc_environ_proxy(void)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/environ", (int)proxy_pid);
	return refused(open(p, O_RDONLY));
}

static int t_proc_environ_daemon(void)
{
	char p[64];

	if (daemon_pid <= 0)
		return 2;
	snprintf(p, sizeof(p), "/proc/%d/environ", (int)daemon_pid);
	return refused(open(p, O_RDONLY));
}

static int t_bpf(void)
{
	/* BPF_MAP_CREATE of a tiny array. */
	unsigned int attr[32] = {2 /* ARRAY */, 4, 4, 1};

	return refused((int)syscall(SYS_bpf, 0, attr, sizeof(attr)));
}

static int t_userns(void)
{
	return refused(unshare(CLONE_NEWUSER));
}

static int t_userns_clone(void)
{
	pid_t p = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

	if (p == 0)
		_exit(0);
	if (p > 0) {
		waitpid(p, NULL, 0);
		return 1;
	}
	return 0;
}

static int t_mount(void)
{
	return refused(mount("none", "/tmp", "tmpfs", 0, NULL));
}

static int ctl_op(const char *op)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL;
	char err[256];
	int s = ctl_connect(NULL), r;

	if (s < 0)
		return 0; /* cannot even reach it */
	cJSON_AddStringToObject(req, "op", op);
	cJSON_AddStringToObject(req, "session", getenv("MCPGUARD_SESSION") ?: "x");
	r = ctl_call(s, req, -1, &reply, err, sizeof(err));
	cJSON_Delete(reply);
	cJSON_Delete(req);
	close(s);
	return r == 0 ? 1 : 0;
}

static int t_ctl_release(void)
{
	return ctl_op("release");
}

static int t_ctl_new_session(void)
{
	/* A new session would be a way out of a quarantined one. */
	return ctl_op("sessions") || ctl_op("verdict");
}

static int t_open_protected(void)
{
	return refused(open(protected_path, O_RDONLY));
}

/* A directory the attacker may write, beside the protected one (MG_ESCAPE_WORKDIR). */
static int work_path(char *out, size_t cap, const char *name)
{
	const char *w = getenv("MG_ESCAPE_WORKDIR");

	if (!w || snprintf(out, cap, "%s/%s-%d", w, name, (int)getpid()) >= (int)cap)
		return -1;
	unlink(out);
	return 0;
}

static int t_hardlink(void)
{
	char dst[PATH_MAX];
	int r;

	if (work_path(dst, sizeof(dst), "link") < 0)
		return 2;
	if (link(protected_path, dst) < 0)
		return 0;
	r = open(dst, O_RDONLY);
	unlink(dst);
	return refused(r);
}

static int t_symlink(void)
{
	char dst[PATH_MAX];
	int r;

	if (work_path(dst, sizeof(dst), "sym") < 0)
		return 2;
	if (symlink(protected_path, dst) < 0)
		return 0;
	r = open(dst, O_RDONLY);
	unlink(dst);
	return refused(r);
}

static int t_opath_reopen(void)
{
	char p[64];
	int fd = open(protected_path, O_PATH);

	if (fd < 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return refused(open(p, O_RDONLY));
}

static int t_io_uring(void)
{
	unsigned char params[120] = {0};

	return refused((int)syscall(SYS_io_uring_setup, 4, params));
}

static int try_connect(int family, const char *addr, int port, int type)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int s = socket(family, type, 0), r;

	if (s < 0)
		return 0;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, addr, &a->sin6_addr);
		len = sizeof(*a);
	}
	if (type == SOCK_DGRAM)
		r = (int)sendto(s, "x", 1, 0, (struct sockaddr *)&ss, len);
	else
		r = connect(s, (struct sockaddr *)&ss, len);
	close(s);
	/* Our hooks answer EPERM; anything else means the hook did not judge it. */
	return r < 0 && errno == EPERM ? 0 : 1;
}

static int t_metadata_v4(void)
{
	return try_connect(AF_INET, "169.254.169.254", 80, SOCK_STREAM);
}

static int t_metadata_v4mapped(void)
{
	return try_connect(AF_INET6, "::ffff:169.254.169.254", 80, SOCK_STREAM);
}

static int t_udp_exfil(void)
{
	return try_connect(AF_INET, "10.1.2.3", 9999, SOCK_DGRAM);
}

static int t_dns_exfil(void)
{
	/* Port 53 to a host that is not a resolver the policy names. */
	return try_connect(AF_INET, "192.168.77.1", 53, SOCK_DGRAM);
}

static int t_raw_socket(void)
{
	return refused(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP));
}

static int t_packet_socket(void)
{
	return refused(socket(AF_PACKET, SOCK_RAW, 0));
}

static int attack(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} ts[] = {
	    {"write pid to the root cgroup.procs", t_cgroup_root},
	    {"write pid to the guarded parent's cgroup.procs", t_cgroup_parent},
	    {"ptrace the proxy", t_ptrace_proxy},
	    {"signal the proxy", t_signal_proxy},
	    {"signal the daemon", t_signal_daemon},
	    {"read /proc/<proxy>/mem", t_proc_mem_proxy},
	    {"read /proc/<proxy>/environ", t_proc_environ_proxy},
	    {"read /proc/<daemon>/environ", t_proc_environ_daemon},
	    {"bpf() map create", t_bpf},
	    {"unshare a user namespace", t_userns},
	    {"clone into a user namespace", t_userns_clone},
	    {"mount tmpfs", t_mount},
	    {"control socket: release own session", t_ctl_release},
	    {"control socket: list or verdict from inside", t_ctl_new_session},
	    {"open a protected file", t_open_protected},
	    {"hardlink a protected file and open the link", t_hardlink},
	    {"symlink to a protected file and open it", t_symlink},
	    {"O_PATH then /proc/self/fd reopen", t_opath_reopen},
	    {"io_uring setup", t_io_uring},
	    {"connect to cloud metadata", t_metadata_v4},
	    {"connect to metadata as v4-mapped IPv6", t_metadata_v4mapped},
	    {"UDP to a private address", t_udp_exfil},
	    {"DNS to a non-resolver", t_dns_exfil},
	    {"raw socket", t_raw_socket},
	    {"packet socket", t_packet_socket},
	};

	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		technique(ts[i].name, ts[i].fn);
	printf("# escape suite: %d techniques tried, %d escapes\n", tried, escaped);
	return escaped ? 1 : 0;
}

static void lo_up(void)
{
	struct ifreq ifr = {0};
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		return;
	strcpy(ifr.ifr_name, "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
}

int main(int argc, char **argv)
{
	uid_t uid = 65534;
	gid_t gid = 65534;
	char msg[256], err[256], *policy = NULL;
	struct sandbox_report rep;
	struct policy *pol;
	struct guard g;
	int st, rc;
	pid_t child;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--attack") == 0 && i + 3 < argc) {
			protected_path = argv[i + 1];
			proxy_pid = (pid_t)atoi(argv[i + 2]);
			daemon_pid = (pid_t)atoi(argv[i + 3]);
			return attack();
		} else if (strcmp(argv[i], "--protected") == 0 && i + 1 < argc)
			protected_path = argv[++i];
		else if (strcmp(argv[i], "--daemon-pid") == 0 && i + 1 < argc)
			daemon_pid = (pid_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
			uid = gid = (uid_t)atoi(argv[++i]);
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else {
			fprintf(stderr, "usage: escape --protected FILE [--uid N] [--daemon-pid P] "
					"[--policy F]\n");
			return 2;
		}
	}
	if (!protected_path)
		return 2;
	if ((pol = policy_load(policy, err, sizeof(err))) == NULL) {
		printf("not ok - escape: policy: %s\n", err);
		return 1;
	}
	if (guard_open(&g, msg, sizeof(msg)) != 1) {
		printf("not ok - escape: needs a running mcpguardd: %s\n", msg);
		return 1;
	}
	printf("# %s\n", msg);
	fflush(stdout);
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		char self[PATH_MAX], pp[16], dp[16];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

		/* Test-only set-up while still root: private netns, then the user. */
		if (n <= 0 || unshare(CLONE_NEWNET) < 0)
			_exit(120);
		self[n] = '\0';
		lo_up();
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(121);
		if (guard_wait(&g) < 0)
			_exit(122);
		if (guard_child(pol, &g, &rep) < 0) {
			fprintf(stderr, "sandbox: %s\n", rep.why);
			_exit(123);
		}
		setenv("MCPGUARD_SESSION", g.session, 1);
		snprintf(pp, sizeof(pp), "%d", (int)g.proxy);
		snprintf(dp, sizeof(dp), "%d", (int)daemon_pid);
		execl(self, self, "--attack", protected_path, pp, dp, (char *)NULL);
		_exit(124);
	}
	rc = guard_place(&g, child, argv, err, sizeof(err));
	guard_release(&g, rc == 0);
	if (rc < 0)
		printf("not ok - escape: placement: %s\n", err);
	else
		printf("# placed in session %s\n", g.session);
	fflush(stdout);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	guard_close(&g);
	policy_free(pol);
	if (rc < 0)
		return 1;
	if (!WIFEXITED(st) || (WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 1)) {
		printf("not ok - escape: attacker did not run (status 0x%x)\n", st);
		return 1;
	}
	return WEXITSTATUS(st);
}
