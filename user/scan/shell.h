/*
 * Shell obfuscation and dangerous commands in tool arguments. Every command-like
 * argument of a tools/call (by key name: command, cmd, script, code, argv...;
 * by shape: a string whose first word is a known command or a path; or an argv
 * array) is parsed and expanded by shparse, then judged on what it would really
 * run: built-in rules (scanner "shell": credential reads, exfiltration, reverse
 * shells, destructive commands, download-and-execute, persistence,
 * decode-and-run, obfuscation itself) and the mcp_tool_policy rules (scanner
 * "tool-policy", see toolrules.h).
 */
#ifndef MG_SHELL_H
#define MG_SHELL_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "findings.h"
#include "policy.h"

/*
 * Compile the built-in patterns and the policy's rules once. Variables are
 * resolved against the process environment at this moment. Returns -1 with
 * err naming the bad rule and its line. May be called again (replaces the state).
 */
int shell_init(const struct policy *pol, char *err, size_t errlen);
/* The same with an explicit environment (NAME=value strings; NULL: empty). */
int shell_init_env(const struct policy *pol, char *const *envp, char *err, size_t errlen);
void shell_free(void);

/* Scan one tools/call: tool is params.name, args is params.arguments (may be NULL). */
void shell_scan_call(const char *tool, const cJSON *args, struct findings *out);

/* Scan one command line directly (for tests and other scanners); strong: report parse errors. */
void shell_scan_command(const char *cmd, size_t len, const char *where, int strong,
			struct findings *out);

/*
 * What a command line would do, resolved the same way (for other scanners, e.g.
 * tool-chain classification). Needs shell_init. Bits of SHELL_FX_*.
 */
enum {
	SHELL_FX_CRED_READ = 1u << 0,	/* reads a credential file */
	SHELL_FX_FILE_READ = 1u << 1,	/* reads some file or the environment */
	SHELL_FX_NET_SEND = 1u << 2,	/* runs a program that talks to the network */
	SHELL_FX_EXFIL = 1u << 3,	/* sends local data out (any exfil-* rule) */
	SHELL_FX_REMOTE_CODE = 1u << 4, /* runs downloaded or decoded code, or a reverse shell */
	SHELL_FX_DESTROY = 1u << 5,	/* destructive-* / fork bomb / shutdown */
	SHELL_FX_PERSIST = 1u << 6,	/* persistence-* */
	SHELL_FX_OBFUSCATED = 1u << 7,	/* the resolved command differs from its spelling */
};
unsigned shell_command_effects(const char *cmd, size_t len);

#endif
