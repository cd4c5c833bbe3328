/* Starting the MCP server as a child with pipes on its stdin and stdout. */
#ifndef MG_SPAWN_H
#define MG_SPAWN_H

#include <sys/types.h>

#include "policy.h"

struct child {
	pid_t pid;
	int in;	 /* write end: the server's stdin */
	int out; /* read end: the server's stdout */
};

/*
 * Fork and exec argv[0] (PATH searched). The server's stderr is ours.
 * Returns 0, or -1 with errno set (also when exec itself failed, which the
 * child reports back over a close-on-exec pipe).
 */
int spawn_server(char *const argv[], const struct policy *pol, struct child *c);

/* Does a mcpguardd answer on its control socket? */
int kernel_enforcement_active(void);

#endif
