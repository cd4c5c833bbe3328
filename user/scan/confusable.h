#ifndef MCPGUARD_CONFUSABLE_H
#define MCPGUARD_CONFUSABLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * UTS #39 confusable skeletons, from Unicode's confusables.txt as carried by
 * ICU, turned into a table at build time (user/tools/genconfusables.c). Two
 * strings are confusable when their skeletons are equal.
 */

/*
 * Skeleton of the single code point cp into out (at most cap code points);
 * returns the count, or 0 if it does not fit or cp is not a valid scalar.
 */
size_t conf_skeleton_cp(int32_t cp, int32_t *out, size_t cap);

/*
 * Skeleton of the UTF-8 string s (n bytes): NFD, each code point mapped to its
 * prototype, NFD again. Invalid bytes count as U+FFFD. Returns a NUL-terminated
 * string the caller frees, or NULL if utf8proc fails (out of memory).
 */
char *conf_skeleton(const char *s, size_t n);

/*
 * Default_Ignorable_Code_Point (zero-width characters, joiners, bidi and tag
 * characters, variation selectors, and the unassigned code points reserved as
 * such): what a renderer shows as nothing.
 */
int conf_is_ignorable(int32_t cp);

/* s (n bytes) without its ignorable code points, invalid bytes as U+FFFD; caller frees. */
char *conf_drop_ignorables(const char *s, size_t n);

/*
 * s (n bytes) with invalid UTF-8 as U+FFFD, then put through utf8proc_map with
 * options (UTF8PROC_* flags). Returns a string the caller frees, or NULL.
 */
char *conf_utf8_map(const char *s, size_t n, int options);

#endif
