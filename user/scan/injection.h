/*
 * Response injection: what a server sends back to the model (tool results,
 * errors, notifications, sampling/elicitation requests) scanned for text that
 * tries to steer the model: authority claims, instruction overrides, credential
 * solicitation, memory persistence, tool-call steering, exfiltration, hidden
 * text, concealment. Scanner name "injection". Text is matched raw and, around
 * non-ASCII characters, leet words and long blank runs, again after normalize.h
 * folding; base64/hex runs of >= 24 characters that decode to text are scanned
 * too (two levels deep).
 */
#ifndef MG_INJECTION_H
#define MG_INJECTION_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "findings.h"

/* Compile the shared pattern database (once; also done by poison_init). */
int inject_init(char *err, size_t errlen);
/* Every string value and object key under v, findings at paths like "result.content[0].text". */
void inject_scan_json(const cJSON *v, const char *where, struct findings *out);
void inject_scan_text(const char *s, size_t len, const char *where, struct findings *out);

#endif
