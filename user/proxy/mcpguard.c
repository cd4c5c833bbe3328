/*
 * mcpguard: the user-side tool. `mcpguard run -- CMD...` is what an MCP
 * client launches in place of a server; the other subcommands inspect and
 * manage what the daemon and the proxy record.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "commands.h"
#include "events.h"
#include "sessions.h"
#include "log.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv); /* NULL: not built yet */
	const char *usage;
};

static const struct command commands[] = {
    {"run", cmd_run, "run [--policy FILE] [--log FILE] -- CMD [ARGS...]"},
    {"accept", cmd_accept, "accept [--policy FILE] [--list] [--tool NAME]... -- CMD [ARGS...]"},
    {"verify", cmd_verify, "verify [--pubkey FILE] [--json] LOGFILE..."},
    {"doctor", cmd_doctor, "doctor [--json]"},
    {"assess", cmd_assess, "assess [--policy FILE] [--log FILE]... [--json] [--out PREFIX]"},
    {"sessions", cmd_sessions, "sessions"},
    {"release", cmd_release, "release SESSION"},
    {"events", cmd_events, "events [--follow] [--json] [--file F]"},
};

static int usage(FILE *fp)
{
	fprintf(fp, "usage:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(fp, "  mcpguard %s\n", commands[i].usage);
	return 2;
}

int main(int argc, char **argv)
{
	log_init("mcpguard", 0);
	if (argc < 2)
		return usage(stderr);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (!commands[i].fn) {
			fprintf(stderr, "mcpguard: %s: not yet implemented\n", argv[1]);
			return 2;
		}
		return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "mcpguard: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
