/*
 * replace: can a process already in a session be placed into a new one? That would
 * lift its session's quarantine and taint. Forks a child that waits, places it (as
 * `mcpguard run` does), then asks to place the same child again on a second
 * connection. Prints "first OK session", then "second OK session" or
 * "second REFUSED: why". Uses $MCPGUARD_CTL_SOCK like mcpguard run.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

int main(void)
{
	char *argv[] = {"replace-test", NULL};
	char sess[40], err[256];
	uint64_t cgid;
	int s1, s2, rc = 1;
	pid_t child;

	if ((s1 = ctl_connect(NULL)) < 0 || (s2 = ctl_connect(NULL)) < 0) {
		perror("connect to mcpguardd");
		return 2;
	}
	if ((child = fork()) < 0)
		return 2;
	if (child == 0) {
		close(s1);
		close(s2);
		pause();
		_exit(0);
	}
	if (ctl_place(s1, child, argv, sess, sizeof(sess), &cgid, err, sizeof(err)) < 0) {
		printf("first FAILED: %s\n", err);
		goto out;
	}
	printf("first OK %s\n", sess);
	if (ctl_place(s2, child, argv, sess, sizeof(sess), &cgid, err, sizeof(err)) == 0)
		printf("second OK %s\n", sess);
	else
		printf("second REFUSED: %s\n", err);
	rc = 0;
out:
	fflush(stdout);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	close(s1);
	close(s2);
	return rc;
}
