#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdio.h>

#include "spawn.h"

static void child_exec(char *const argv[], const struct policy *pol, struct guard *g, int in,
		       int out, int errfd)
{
	struct sandbox_report rep;
	sigset_t none;
	int e;

	/* Nothing of the server runs before the daemon has placed this process. */
	if (guard_wait(g) < 0) {
		errno = EPERM;
		goto fail;
	}
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
	if (guard_child(pol, g, &rep) != 0) {
		/* stderr is still the proxy's: say why the server was not started */
		fprintf(stderr, "mcpguard: sandbox: %s\n", rep.why);
		errno = EPERM;
		goto fail;
	}
	execvp(argv[0], argv);
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0) {
		/* nothing more to say */
	}
	_exit(127);
}

int spawn_server(char *const argv[], const struct policy *pol, struct guard *g, struct child *c,
		 char *err, size_t errlen)
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
		child_exec(argv, pol, g, to[0], from[1], ep[1]);
	}
	/* With a daemon, a server that cannot be placed does not run at all. */
	if (guard_place(g, pid, argv, err, errlen) < 0) {
		guard_release(g, false);
		close(ep[1]);
		ep[1] = -1;
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		close(ep[0]);
		ep[0] = -1;
		for (int i = 0; i < 2; i++) {
			close(to[i]);
			close(from[i]);
		}
		errno = EPERM;
		return -1;
	}
	guard_release(g, true);
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
		snprintf(err, errlen, "%s", strerror(e));
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
