/* mcp_tool_policy rules compiled into PCRE2 programs (see toolrules.h). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toolrules.h"
#include "xmalloc.h"

/* Bounds a user's pathological pattern; hitting them counts as a match (fail closed). */
#define TR_MATCH_LIMIT 1000000
#define TR_DEPTH_LIMIT 10000

struct trule {
	const struct pol_tool_rule *r;
	pcre2_code *tool; /* NULL: every tool */
	pcre2_code *arg;  /* NULL: the tool name decides */
	pcre2_match_data *md;
};

struct toolrules {
	struct trule *v;
	size_t n;
	pcre2_match_context *mctx;
};

static pcre2_code *compile(const char *pat, const struct pol_tool_rule *r, const char *key,
			   char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE off;
	pcre2_code *re;

	if (!pat || !*pat)
		return NULL;
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
			   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "mcp_tool_policy rule '%s' (line %d): %s: %s at offset %zu",
			 r->name ? r->name : "?", r->line, key, (const char *)msg, (size_t)off);
		return NULL;
	}
	/* JIT is an accelerator: without it the interpreter gives the same answers. */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

struct toolrules *toolrules_new(const struct policy *pol, char *err, size_t errlen)
{
	struct toolrules *tr = xcalloc(1, sizeof(*tr));
	size_t n = pol ? pol->tool_policy.nrules : 0;

	if (errlen)
		err[0] = '\0';
	tr->mctx = pcre2_match_context_create(NULL);
	if (!tr->mctx) {
		snprintf(err, errlen, "mcp_tool_policy: out of memory");
		free(tr);
		return NULL;
	}
	pcre2_set_match_limit(tr->mctx, TR_MATCH_LIMIT);
	pcre2_set_depth_limit(tr->mctx, TR_DEPTH_LIMIT);
	if (n)
		tr->v = xcalloc(n, sizeof(*tr->v));
	for (size_t i = 0; i < n; i++) {
		const struct pol_tool_rule *r = &pol->tool_policy.rules[i];
		struct trule *t = &tr->v[tr->n++];

		t->r = r;
		t->tool = compile(r->tool_pattern, r, "tool_pattern", err, errlen);
		if (!t->tool && r->tool_pattern && *r->tool_pattern)
			goto bad;
		t->arg = compile(r->arg_pattern, r, "arg_pattern", err, errlen);
		if (!t->arg && r->arg_pattern && *r->arg_pattern)
			goto bad;
		t->md = pcre2_match_data_create(4, NULL);
		if (!t->md) {
			snprintf(err, errlen, "mcp_tool_policy: out of memory");
			goto bad;
		}
	}
	return tr;
bad:
	toolrules_free(tr);
	return NULL;
}

void toolrules_free(struct toolrules *tr)
{
	if (!tr)
		return;
	for (size_t i = 0; i < tr->n; i++) {
		pcre2_code_free(tr->v[i].tool);
		pcre2_code_free(tr->v[i].arg);
		pcre2_match_data_free(tr->v[i].md);
	}
	pcre2_match_context_free(tr->mctx);
	free(tr->v);
	free(tr);
}

size_t toolrules_count(const struct toolrules *tr)
{
	return tr ? tr->n : 0;
}

/* 1 match, 0 no match, -1 a limit was hit (the caller treats it as a match). */
static int search(const struct toolrules *tr, const struct trule *t, pcre2_code *re, const char *s,
		  size_t len)
{
	int rc = pcre2_match(re, (PCRE2_SPTR)s, len, 0, 0, t->md, tr->mctx);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return -1;
}

int toolrules_tool_match(const struct toolrules *tr, size_t i, const char *tool)
{
	const struct trule *t = &tr->v[i];

	if (!t->tool)
		return 1;
	return search(tr, t, t->tool, tool ? tool : "", tool ? strlen(tool) : 0) != 0;
}

static int tokchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '=' || c == '_' || c == '-';
}

/*
 * A short printable excerpt for a finding's detail. Long tokens mixing letters
 * and digits (keys, tokens) are shown redacted: details end up in logs.
 */
void toolrules_excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0, i = 0, max = outlen > 1 ? outlen - 1 : 0;

	if (max > 120)
		max = 120;
	while (i < len && o < max) {
		size_t e = i;
		int alpha = 0, digit = 0;

		while (e < len && tokchar(s[e])) {
			alpha |= (s[e] >= 'a' && s[e] <= 'z') || (s[e] >= 'A' && s[e] <= 'Z');
			digit |= s[e] >= '0' && s[e] <= '9';
			e++;
		}
		if (e - i >= 24 && alpha && digit && !memchr(s + i, '/', e - i)) {
			char r[48];

			redact(s + i, e - i, r, sizeof(r));
			for (size_t k = 0; r[k] && o < max; k++)
				out[o++] = r[k];
			i = e;
			continue;
		}
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : ' ';
		i++;
	}
	if (i < len && o >= 3)
		memcpy(out + o - 3, "...", 3);
	if (outlen)
		out[o] = '\0';
}

void toolrules_scan(const struct toolrules *tr, const char *tool, const struct tr_text *t, size_t n,
		    struct findings *out)
{
	for (size_t i = 0; tr && i < tr->n; i++) {
		const struct trule *r = &tr->v[i];
		char ex[128];
		size_t before = out->n;

		if (!toolrules_tool_match(tr, i, tool))
			continue;
		if (!r->arg) {
			findings_add(out, "tool-policy", r->r->name, CONF_HIGH, "params.name",
				     "rule '%s' (line %d): tool '%s'", r->r->name, r->r->line,
				     tool ? tool : "");
		} else {
			for (size_t k = 0; k < n; k++) {
				int m = search(tr, r, r->arg, t[k].s, t[k].len);

				if (!m)
					continue;
				toolrules_excerpt(t[k].s, t[k].len, ex, sizeof(ex));
				findings_add(out, "tool-policy", r->r->name, CONF_HIGH, t[k].where,
					     "rule '%s' (line %d)%s: tool '%s': %s", r->r->name,
					     r->r->line, m < 0 ? " (regex limit hit)" : "",
					     tool ? tool : "", ex);
				break;
			}
		}
		if (out->n > before)
			out->v[out->n - 1].action = r->r->action;
	}
}
