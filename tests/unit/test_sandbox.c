/* The unprivileged sandbox, applied in a forked child as `mcpguard run` does. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"
#include "sandbox.h"
#include "t.h"

static void touch(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	if (fd >= 0) {
		if (write(fd, "x\n", 2) != 2)
			perror("write");
		close(fd);
	}
}

static int can_read(const char *dir, const char *name)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return -errno;
	close(fd);
	return 1;
}

/* Child: apply, then return 0, or the number of the first expectation that failed. */
static int child(struct policy *pol, const char *home)
{
	struct sandbox_report rep;
	pid_t parent = getppid();
	struct sandbox_opts o = {.fs = true, .protect = parent, .home_override = home};

	if (sandbox_apply(pol, &o, &rep) < 0) {
		fprintf(stderr, "sandbox_apply: %s\n", rep.why);
		return 100;
	}
	if (can_read(home, ".ssh/id_rsa") != -EACCES)
		return 1;
	if (can_read(home, "project/notes.txt") != 1 || can_read(home, ".ssh/known_hosts") != 1)
		return 2;
	/* A symlink to the key elsewhere reaches the same inode: still refused. */
	if (can_read(home, "project/link") != -EACCES)
		return 3;
	if (unshare(CLONE_NEWUSER) == 0 || errno != EPERM)
		return 4;
	if (ptrace(PTRACE_ATTACH, parent, 0, 0) == 0 || errno != EPERM)
		return 5;
	if (syscall(SYS_bpf, 0, NULL, 0) == 0 || errno != EPERM)
		return 6;
	if (socket(AF_PACKET, SOCK_RAW, 0) >= 0 || errno != EPERM)
		return 7;
	/* The proxy (here: the parent) cannot be signalled, directly, by group or by -1. */
	if (kill(parent, SIGKILL) == 0 || errno != EPERM)
		return 8;
	if (kill(0, SIGKILL) == 0 || kill(-1, SIGKILL) == 0)
		return 9;
	if (syscall(SYS_io_uring_setup, 1, NULL) >= 0 || errno != EPERM)
		return 10;
	return 0;
}

TEST(sandbox_denies_protected_and_escape_calls)
{
	char home[] = "/tmp/mg-sbx-XXXXXX", p[512];
	char err[256];
	struct policy *pol = policy_load(NULL, err, sizeof(err));
	int status;
	pid_t pid;

	ASSERT_TRUE(pol != NULL);
	ASSERT_TRUE(mkdtemp(home) != NULL);
	snprintf(p, sizeof(p), "%s/.ssh", home);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/project", home);
	mkdir(p, 0700);
	touch(home, ".ssh/id_rsa");
	touch(home, ".ssh/known_hosts");
	touch(home, "project/notes.txt");
	snprintf(p, sizeof(p), "%s/.ssh/id_rsa", home);
	{
		char l[512];

		snprintf(l, sizeof(l), "%s/project/link", home);
		ASSERT_EQ(symlink(p, l), 0);
	}
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(child(pol, home));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status))
		T_FAIL("child expectation %d failed", WEXITSTATUS(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	/* Outside the sandbox the same file reads fine. */
	ASSERT_EQ(can_read(home, ".ssh/id_rsa"), 1);
	policy_free(pol);
}

static void count_cb(const char *path, void *arg)
{
	if (strstr(path, "/.ssh/id_"))
		(*(int *)arg)++;
}

TEST(sandbox_expand_home_glob)
{
	char home[] = "/tmp/mg-sbx-XXXXXX", p[512];
	int n = 0;

	ASSERT_TRUE(mkdtemp(home) != NULL);
	snprintf(p, sizeof(p), "%s/.ssh", home);
	mkdir(p, 0700);
	touch(home, ".ssh/id_ed25519");
	touch(home, ".ssh/id_rsa");
	touch(home, ".ssh/config");
	ASSERT_EQ(sandbox_expand("~/.ssh/id_*", home, count_cb, &n), 0);
	ASSERT_EQ(n, 2); /* config is not a key */
	n = 0;
	ASSERT_EQ(sandbox_expand("~/.nothing/**", home, count_cb, &n), 0);
	ASSERT_EQ(n, 0);
}

/*
 * The kernel reads pids and the socket family as int: a raw syscall with upper bits
 * set in the register reaches the same target and must meet the same filter. The
 * protected pid is the child's own, so Landlock's signal scoping (which allows its
 * own domain) cannot be what refuses it. Signal 0 only: nothing is delivered.
 */
static int child_raw_args(struct policy *pol)
{
	struct sandbox_report rep;
	pid_t self = getpid();
	struct sandbox_opts o = {.fs = false, .protect = self, .home_override = NULL};
	long hi = 1L << 32, fd;

	if (sandbox_apply(pol, &o, &rep) < 0) {
		fprintf(stderr, "sandbox_apply: %s\n", rep.why);
		return 100;
	}
	if (syscall(SYS_kill, (long)self, 0L) == 0 || errno != EPERM)
		return 1; /* the plain call, as a baseline */
	if (syscall(SYS_kill, (long)self | hi, 0L) == 0 || errno != EPERM)
		return 2;
	if (syscall(SYS_kill, -1L, 0L) == 0 || errno != EPERM) /* sign-extended -1 */
		return 3;
	if (syscall(SYS_kill, hi, 0L) == 0 || errno != EPERM) /* 0: the process group */
		return 4;
	if (syscall(SYS_tgkill, (long)self | hi, (long)self, 0L) == 0 || errno != EPERM)
		return 5;
	if (syscall(SYS_tkill, (long)self | hi, 0L) == 0 || errno != EPERM)
		return 6;
	if ((fd = syscall(SYS_pidfd_open, (long)self | hi, 0L)) >= 0 || errno != EPERM)
		return 7;
	if ((fd = syscall(SYS_socket, (long)AF_PACKET | hi, (long)SOCK_DGRAM, 0L)) >= 0 ||
	    errno != EPERM)
		return 8;
	return 0;
}

TEST(sandbox_filters_int_args_on_low_32_bits)
{
	char err[256];
	struct policy *pol = policy_load(NULL, err, sizeof(err));
	int status;
	pid_t pid;

	ASSERT_TRUE(pol != NULL);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(child_raw_args(pol));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status))
		T_FAIL("child expectation %d failed", WEXITSTATUS(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	policy_free(pol);
}

#define MANY_KEYS 4200 /* more than the sandbox's path sets hold */

/* Child: 0 when the sandbox refused to apply, else how many keys it left readable. */
static int child_many(struct policy *pol, const char *home)
{
	struct sandbox_report rep;
	struct sandbox_opts o = {.fs = true, .protect = getppid(), .home_override = home};
	char name[64];
	int readable = 0;

	if (sandbox_apply(pol, &o, &rep) < 0)
		return strstr(rep.why, "could not all be expanded") ? 0 : 100;
	for (int i = 0; i < MANY_KEYS; i++) {
		snprintf(name, sizeof(name), "keys/k%d", i);
		readable += can_read(home, name) == 1;
	}
	return readable ? (readable > 99 ? 99 : readable) : 101;
}

/* More protected files than the carve-out can hold: refused, none left readable. */
TEST(sandbox_refuses_protected_paths_past_its_limit)
{
	char home[] = "/tmp/mg-sbx-XXXXXX", p[512], name[64], err[256];
	struct policy *pol;
	int status;
	FILE *f;
	pid_t pid;

	ASSERT_TRUE(mkdtemp(home) != NULL);
	snprintf(p, sizeof(p), "%s/keys", home);
	ASSERT_EQ(mkdir(p, 0700), 0);
	for (int i = 0; i < MANY_KEYS; i++) {
		snprintf(name, sizeof(name), "keys/k%d", i);
		touch(home, name);
	}
	snprintf(p, sizeof(p), "%s/policy.yaml", home);
	ASSERT_TRUE((f = fopen(p, "w")) != NULL);
	fputs("files:\n  enabled: true\n  action: block\n  rules:\n    - name: many\n"
	      "      paths: [\"~/keys/*\"]\n",
	      f);
	fclose(f);
	pol = policy_load(p, err, sizeof(err));
	if (!pol)
		T_FAIL("policy: %s", err);
	ASSERT_TRUE(pol != NULL);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(child_many(pol, home));
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status))
		T_FAIL("child: %d (100: refused for another reason; 101: applied with all keys "
		       "denied; else keys left readable)",
		       WEXITSTATUS(status));
	ASSERT_EQ(WEXITSTATUS(status), 0);
	for (int i = 0; i < MANY_KEYS; i++) {
		snprintf(p, sizeof(p), "%s/keys/k%d", home, i);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/policy.yaml", home);
	unlink(p);
	snprintf(p, sizeof(p), "%s/keys", home);
	rmdir(p);
	rmdir(home);
	policy_free(pol);
}
