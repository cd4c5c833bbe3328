/*
 * Multi-pattern matcher: every pattern of a scanner compiled once into one
 * Vectorscan database, scanned in one pass. Scratch space is per thread.
 */
#ifndef MG_MPM_H
#define MG_MPM_H

#include <stddef.h>

#define MPM_CASELESS (1u << 0)
#define MPM_DOTALL (1u << 1)
#define MPM_SOM (1u << 2)	  /* report start of match (costs speed; only where needed) */
#define MPM_SINGLEMATCH (1u << 3) /* report each id once per scan */
#define MPM_UTF8 (1u << 4)

struct mpm;
/* Return non-zero from the callback to stop scanning. from is 0 unless MPM_SOM. */
typedef int (*mpm_cb)(unsigned id, unsigned long long from, unsigned long long to, void *ctx);

struct mpm *mpm_new(void);
/* Add a pattern (PCRE syntax subset Vectorscan accepts). Returns 0, or -1 if mpm is compiled. */
int mpm_add(struct mpm *m, unsigned id, const char *regex, unsigned flags);
/* Compile; on error writes which pattern failed and why into err, returns -1. */
int mpm_compile(struct mpm *m, char *err, size_t errlen);
/*
 * Bounds on the length of a match of the idx-th pattern added (UINT_MAX:
 * unbounded); 0, or -1 before a successful mpm_compile or for a bad idx.
 */
int mpm_width(const struct mpm *m, size_t idx, unsigned *minw, unsigned *maxw);
/* Returns 0 when the scan ran to the end or was stopped by cb, -1 on engine error. */
int mpm_scan(const struct mpm *m, const char *buf, size_t len, mpm_cb cb, void *ctx);
size_t mpm_count(const struct mpm *m);
/* Databases this process read from the cache, compiled, and wrote to the cache. */
void mpm_stats(size_t *cached, size_t *compiled, size_t *stored);
void mpm_free(struct mpm *m);

#endif
