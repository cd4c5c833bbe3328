/*
 * mcp_tool_policy rules: {name, tool_pattern, arg_pattern, action}. Both
 * patterns are PCRE2 regexes compiled once (with JIT). tool_pattern is searched
 * in the tool name (empty: every tool); arg_pattern in each candidate text of a
 * call, which the shell scanner supplies: every raw string argument, and for
 * command-like arguments the resolved command line and each resolved word
 * (empty: the tool name alone decides). A hit is a "tool-policy" finding whose
 * action is the rule's own.
 */
#ifndef MG_TOOLRULES_H
#define MG_TOOLRULES_H

#include <stddef.h>

#include "findings.h"
#include "policy.h"

struct toolrules;

struct tr_text {
	const char *s;
	size_t len;
	const char *where; /* JSON path the text came from */
};

/*
 * Compile pol->tool_policy.rules. NULL pol or no rules: an empty set. A bad
 * regex: NULL, err says "mcp_tool_policy rule 'NAME' (line N): tool_pattern: why".
 */
struct toolrules *toolrules_new(const struct policy *pol, char *err, size_t errlen);
void toolrules_free(struct toolrules *tr);
size_t toolrules_count(const struct toolrules *tr);

/* Does rule i apply to this tool name? */
int toolrules_tool_match(const struct toolrules *tr, size_t i, const char *tool);

/* Add one finding per rule that matches the tool and (if it has one) any text. */
void toolrules_scan(const struct toolrules *tr, const char *tool, const struct tr_text *t, size_t n,
		    struct findings *out);

/* Printable excerpt (at most 120 chars) with long key-like tokens redacted. */
void toolrules_excerpt(const char *s, size_t len, char *out, size_t outlen);

#endif
