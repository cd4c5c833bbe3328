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

#endif
