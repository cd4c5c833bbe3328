/*
 * Parser differentials. The proxy judges what cJSON reads; the client and the
 * server read the same bytes with their own parsers. Where those disagree, text
 * can reach a peer unscanned: cJSON ends a string at a \u0000 escape that
 * JavaScript reads past, and with a duplicate key cJSON sees the first value,
 * JavaScript the last. Such messages are refused like malformed ones.
 */
#ifndef MG_JSONSAFE_H
#define MG_JSONSAFE_H

#include <cjson/cJSON.h>
#include <stddef.h>

/* 0 when raw (parsed by cJSON into root) reads the same everywhere; else 1 and why. */
int json_ambiguous(const char *raw, size_t len, const cJSON *root, char *why, size_t whylen);
/*
 * The same for a tree whose parser already located any \u0000 escape (nul_at:
 * its byte offset, SIZE_MAX if none) and refused raw NUL bytes: no pass over
 * the text.
 */
int json_ambiguous_parsed(const cJSON *root, size_t nul_at, char *why, size_t whylen);

#endif
