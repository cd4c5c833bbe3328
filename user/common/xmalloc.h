/* Allocation that cannot fail silently: out of memory is fatal. */
#ifndef MG_XMALLOC_H
#define MG_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
int xasprintf(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* strlcpy semantics: always terminates, returns strlen(src). */
size_t mg_strlcpy(char *dst, const char *src, size_t size);

/*
 * The allocator settings of mcpguard run: large message buffers stay on the
 * heap between messages instead of being mapped and faulted in anew (glibc;
 * elsewhere nothing). The benchmarks call it to measure what the proxy runs.
 */
void mg_malloc_keep_large(void);

#endif
