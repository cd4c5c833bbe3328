/*
 * Rug-pull detection: every tool's first-seen definition is the baseline, kept
 * per server identity on disk, and later definitions are compared with it by
 * canonical-JSON fingerprints. A change is reported, never adopted.
 */
#ifndef MG_DRIFT_H
#define MG_DRIFT_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "findings.h"

enum drift_verdict {
	DRIFT_SAME,    /* identical to the baseline */
	DRIFT_NEW,     /* not in the baseline: added to it (binding judges whether allowed) */
	DRIFT_CHANGED, /* text changed (description, title, annotations, defaults, ...) */
	DRIFT_CHANGED_STRUCT, /* parameters added/removed/retyped, required list, nesting */
};

struct drift;

/*
 * Open (or start) the baselines of server_id under baseline_dir (NULL:
 * $XDG_STATE_HOME/mcpguard/baselines, else ~/.local/state/mcpguard/baselines),
 * creating the directory 0700. A corrupt or tampered baseline file is not an
 * error here: it is reported by the first drift_check and never overwritten.
 * NULL (with a warning saying why) if the directory cannot be used safely.
 */
struct drift *drift_open(const char *server_id, const char *baseline_dir);

/*
 * Compare a tools/list "tools" array with the baselines. verdict[i] is set for
 * every element i of tools (the caller provides cJSON_GetArraySize(tools)
 * slots). Findings: scanner "drift", rules "tool-changed",
 * "tool-changed-structure", "tool-removed" (all CONF_HIGH); about the
 * baseline itself "baseline-corrupt", "baseline-full", "tool-unpinnable" (a
 * definition with no canonical form; CONF_HIGH) and "baseline-unsaved" (CONF_LOW). New tools are
 * added to the baseline and saved. tools must be the complete list, not one page of it.
 */
void drift_check(struct drift *d, const cJSON *tools, enum drift_verdict *verdict,
		 struct findings *out);

/* A deep copy of the baseline definition of tool name (caller frees), or NULL. */
cJSON *drift_baseline_tool(struct drift *d, const char *name);

void drift_close(struct drift *d);

/*
 * A changed definition is kept as pending (the latest one per tool) next to the
 * baseline, and only an operator makes it the baseline. For server_id: print
 * each pending change (tool, what changed) to out and, with apply, make it the
 * baseline. names: the tools to take (nnames 0: all pending). Returns how many
 * changes were listed or accepted, or -1 with why (a named tool has nothing
 * pending, a file is invalid: nothing is written then).
 */
int drift_accept(const char *server_id, const char *baseline_dir, char *const *names, size_t nnames,
		 int apply, FILE *out, char *why, size_t whylen);

/* The file holding server_id's baselines (for tests and `mcpguard assess`); malloc'd. */
char *drift_baseline_path(const struct drift *d);
/* The pending changes kept next to a baseline file (NAME.json: NAME.pending.json); malloc'd. */
char *drift_pending_file(const char *baseline_file);

#endif
