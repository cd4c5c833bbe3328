/* Starting the MCP server as a child with pipes on its stdin and stdout. */
#ifndef MG_SPAWN_H
#define MG_SPAWN_H

#include <sys/types.h>

#include "guard.h"
#include "policy.h"

struct child {
	pid_t pid;
	int in;	 /* write end: the server's stdin */
	int out; /* read end: the server's stdout */
};

/*
 * Fork and exec argv[0] (PATH searched) under guard g (guard_open done): the
 * child waits until the daemon has placed it in its session cgroup, applies its
 * sandbox and execs. The server's stderr is ours. Returns 0, or -1 with errno set
 * (also when placement, the sandbox or exec failed: the child reports its errno
 * back over a close-on-exec pipe) and a reason in err.
 */
int spawn_server(char *const argv[], const struct policy *pol, struct guard *g, struct child *c,
		 char *err, size_t errlen);

#endif
