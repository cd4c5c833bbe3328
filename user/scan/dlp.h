/*
 * Argument DLP: credentials leaving through tool arguments (and the client's
 * answers to the server). Provider token formats, private keys, JWTs,
 * connection strings and generic key=value secrets are matched in one
 * Vectorscan pass, then confirmed (PCRE2 for context, checksums and structure
 * in C). Every string is also peeled of URL/base64/hex/base32/escape layers
 * (decode.h), and the string arguments of one message are scanned joined, so a
 * secret split over several arguments is found. Exact values of the proxy's
 * own secret environment variables are matched in all of these forms.
 * Scanner name "dlp". Details are redacted: a finding never holds the secret.
 */
#ifndef MG_DLP_H
#define MG_DLP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "findings.h"

/*
 * Compile the rule database (once; later calls only re-read the environment)
 * and take the secret values found in envp: names with a KEY, TOKEN, SECRET,
 * PASSWORD, PASSWD, CREDENTIAL, AUTH or PRIVATE word, values of 8 or more bytes
 * that are not file paths, switches, or hosts/URLs without credentials. The
 * values are matched exactly (memmem), never compiled into the database, so
 * they never reach mpm's on-disk cache. Not concurrently with scans. envp may
 * be NULL.
 */
int dlp_init(char **envp, char *err, size_t errlen);
/* Every string under v; where is v's JSON path ("params"). */
void dlp_scan_json(const cJSON *v, const char *where, struct findings *out);
/* One text, with its decoded layers. */
void dlp_scan_text(const char *s, size_t len, const char *where, struct findings *out);

/* For tests and reuse. */
size_t dlp_kinds(void);				  /* distinct credential kinds (rule names) */
size_t dlp_env_secrets(void);			  /* environment values being watched */
int dlp_base62_crc_ok(const char *tok, size_t n); /* GitHub/npm: prefix_ + 30 + 6 base62 CRC32 */
int dlp_luhn_ok(const char *digits, size_t n);
double dlp_entropy(const char *s, size_t n); /* Shannon, bits per byte */

#endif
