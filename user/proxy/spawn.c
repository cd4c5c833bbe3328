#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "spawn.h"

int kernel_enforcement_active(void)
{
	int s = ctl_connect(NULL);

	if (s < 0)
		return 0;
	close(s);
	return 1;
}

/*
 * Runs in the child between fork and exec. This is the hook point for
 * sandboxing the server when no daemon enforces in the kernel (Landlock
 * rulesets and a seccomp filter built from pol->sandbox and the file rules);
 * that belongs to the sandbox work and is not done here yet.
 */
static int sandbox_child(const struct policy *pol)
{
	(void)pol;
	return 0;
}

static void child_exec(char *const argv[], const struct policy *pol, int in, int out, int errfd)
{
	sigset_t none;
	int e;

	/* The proxy blocks and ignores signals for its own loop; the server gets defaults. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0)
		goto fail;
	if (in != STDIN_FILENO)
		close(in);
	if (out != STDOUT_FILENO)
		close(out);
	if (sandbox_child(pol) != 0)
		goto fail;
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

int spawn_server(char *const argv[], const struct policy *pol, struct child *c)
{
	int to[2] = {-1, -1}, from[2] = {-1, -1}, ep[2] = {-1, -1};
	int e = 0;
	ssize_t r;
	pid_t pid;

	if (pipe2(to, O_CLOEXEC) < 0 || pipe2(from, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		close(ep[0]);
		child_exec(argv, pol, to[0], from[1], ep[1]);
	}
	close(to[0]);
	close(from[1]);
	close(ep[1]);
	to[0] = from[1] = ep[1] = -1;
	/* EOF: exec succeeded (the pipe closed on exec); an int: the child's errno. */
	do
		r = read(ep[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(ep[0]);
	if (r == (ssize_t)sizeof(e)) {
		int st;

		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		close(to[1]);
		close(from[0]);
		errno = e;
		return -1;
	}
	c->pid = pid;
	c->in = to[1];
	c->out = from[0];
	return 0;
fail:
	e = errno;
	for (int i = 0; i < 2; i++) {
		if (to[i] >= 0)
			close(to[i]);
		if (from[i] >= 0)
			close(from[i]);
		if (ep[i] >= 0)
			close(ep[i]);
	}
	errno = e;
	return -1;
}
