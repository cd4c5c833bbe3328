/*
 * A strict RFC 8259 JSON parser building cJSON trees, for the proxy's hot
 * path. cJSON's own parser walks every string byte twice, one at a time, and
 * was most of the proxy's CPU on large tool results; this one copies string
 * runs with memchr/memcpy. It accepts only what JSON.parse accepts (cJSON is
 * laxer: "+1", "01", "1."), so nothing the receiver would read differently
 * gets through; on valid input the tree equals cJSON's.
 */
#ifndef MG_JSONPARSE_H
#define MG_JSONPARSE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Parse one JSON value from s[0..n). On success returns the tree (free with
 * cJSON_Delete) and sets *end just past the value; trailing bytes are the
 * caller's business. NULL if the text is not JSON or nests deeper than
 * CJSON_NESTING_LIMIT.
 */
cJSON *jp_parse(const char *s, size_t n, const char **end);
/*
 * The same, also giving the byte offset of the first \u0000 escape (SIZE_MAX if
 * none): the one way a NUL gets into a decoded string, since raw control bytes
 * are refused. Saves the caller a pass over the text (json_nul_free).
 */
cJSON *jp_parse_nul(const char *s, size_t n, const char **end, size_t *nul_at);

#endif
