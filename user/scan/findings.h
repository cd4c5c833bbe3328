/*
 * What a scanner reports. Scanners never decide the final action: they say how
 * sure they are, and the proxy's pipeline maps that through the policy section
 * (high confidence -> the section's action; heuristic -> at most warn).
 */
#ifndef MG_FINDINGS_H
#define MG_FINDINGS_H

#include <stddef.h>

#include "policy.h"

enum scan_conf {
	CONF_LOW = 0,  /* heuristic */
	CONF_HIGH = 1, /* checksum-valid secret, unambiguous directive, ... */
};

struct finding {
	const char *scanner; /* static string: "dlp", "injection", "poisoning", ... */
	char rule[64];	     /* e.g. "github-pat", "authority-claim" */
	enum scan_conf confidence;
	enum pol_action action; /* filled in by the pipeline */
	char where[128];	/* JSON path of the offending value, e.g. "params.arguments.cmd" */
	char detail[256];	/* redacted summary: never the secret itself */
};

#define MG_MAX_FINDINGS 64
struct findings {
	struct finding v[MG_MAX_FINDINGS];
	size_t n;
	size_t dropped; /* findings past MG_MAX_FINDINGS are counted, not stored */
};

void findings_add(struct findings *f, const char *scanner, const char *rule, enum scan_conf conf,
		  const char *where, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Has any finding from this scanner (NULL: any) been recorded? */
int findings_has(const struct findings *f, const char *scanner, const char *rule);
/* Redact a secret for logs: keep at most 4 leading chars, then "...(N chars)". */
void redact(const char *s, size_t len, char *out, size_t outlen);

#endif
