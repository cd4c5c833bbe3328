/*
 * mcpguard accept: review and accept a server's changed tool definitions. A
 * session never adopts a change (rug-pull); it keeps the latest changed
 * definition of each tool as pending, and this command, run by the operator
 * with the same server command line, shows those changes and makes them the
 * baseline.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "drift.h"
#include "log.h"
#include "policy.h"
#include "xmalloc.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: mcpguard accept [--policy FILE] [--list] [--tool NAME]... -- CMD "
		"[ARGS...]\n"
		"  CMD ARGS: the server command line, as given to mcpguard run\n"
		"  --list: show the pending changes, accept nothing\n"
		"  --tool NAME: accept only this tool's change (repeatable; default: all)\n");
	return 2;
}

int cmd_accept(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"list", no_argument, NULL, 'l'},
	    {"tool", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL;
	char **tools = NULL, *id, err[512];
	size_t ntools = 0;
	int list = 0, c, n;
	struct policy *pol;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'l':
			list = 1;
			break;
		case 't':
			tools = xreallocarray(tools, ntools + 1, sizeof(*tools));
			tools[ntools++] = optarg;
			break;
		default:
			free(tools);
			return usage();
		}
	}
	if (optind >= argc) {
		free(tools);
		return usage();
	}
	log_init("mcpguard", 0);
	pol = policy_load(policy_path, err, sizeof(err));
	if (!pol) {
		warnx("policy: %s", err);
		free(tools);
		return 2;
	}
	id = server_id(argv + optind);
	n = drift_accept(id, pol->baseline_dir, tools, ntools, !list, stdout, err, sizeof(err));
	free(id);
	free(tools);
	policy_free(pol);
	if (n < 0) {
		warnx("%s", err);
		return 1;
	}
	if (n == 0) {
		printf("no pending changes for this server\n");
		return 1;
	}
	return 0;
}
