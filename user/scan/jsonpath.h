/*
 * JSON paths for findings ("params.arguments.files[2].path"), built in place as a
 * scanner walks a message. A path too long for its buffer is cut and ends in "...",
 * never skipped, so a long key cannot take a value out of the scan.
 */
#ifndef MG_JSONPATH_H
#define MG_JSONPATH_H

#include <stddef.h>

/* Append ".key" ("key" at the root) to path (plen bytes used, cap >= 8); new length. */
size_t jpath_key(char *path, size_t plen, size_t cap, const char *key);
/* Append "[i]"; new length. */
size_t jpath_index(char *path, size_t plen, size_t cap, size_t i);

#endif
