/*
 * Canonical JSON (RFC 8785 style) so that two definitions that mean the same
 * hash the same: object members sorted by their keys' UTF-16 code units, no
 * whitespace, minimal string escapes, numbers in ECMAScript's shortest
 * round-trip form. Used for the drift fingerprints.
 */
#ifndef MG_CANONJSON_H
#define MG_CANONJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define CANON_MAX_DEPTH 512

/*
 * Serialize v canonically into a malloc'd NUL-terminated string; *len (may be
 * NULL) gets its length. NULL if v cannot be represented: a non-finite number,
 * a raw or invalid item, or nesting deeper than CANON_MAX_DEPTH.
 * Bytes that are not valid UTF-8 are kept as they are (so distinct inputs keep
 * distinct outputs) and sort as U+DC80..U+DCFF would.
 */
char *canonjson(const cJSON *v, size_t *len);

/* Format d as ECMAScript Number::toString does; -1 if not finite or buf too small. */
int canonjson_number(double d, char *buf, size_t buflen);

/* SHA-256 of canonjson(v); 0, or -1 if v cannot be canonicalized. */
int canonjson_sha256(const cJSON *v, unsigned char out[32]);

/* Lowercase hex of a 32-byte digest into out[65]. */
void canonjson_hex(const unsigned char d[32], char out[65]);

#endif
