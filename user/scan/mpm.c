#include <hs/hs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mpm.h"
#include "xmalloc.h"

struct mpm {
	char **exprs;
	unsigned *flags;
	unsigned *ids;
	size_t n, cap;
	hs_database_t *db;
	hs_scratch_t *proto; /* scratch prototype, cloned per thread */
};

static __thread hs_scratch_t *tls_scratch;
/* Databases the scratch has been grown for: re-checking on every switch is costly. */
#define MPM_FITTED 32
static __thread const struct mpm *tls_fitted[MPM_FITTED];
static __thread size_t tls_nfitted;

struct mpm *mpm_new(void)
{
	return xcalloc(1, sizeof(struct mpm));
}

int mpm_add(struct mpm *m, unsigned id, const char *regex, unsigned flags)
{
	unsigned hf = 0;

	if (m->db)
		return -1;
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 32;
		m->exprs = xreallocarray(m->exprs, m->cap, sizeof(*m->exprs));
		m->flags = xreallocarray(m->flags, m->cap, sizeof(*m->flags));
		m->ids = xreallocarray(m->ids, m->cap, sizeof(*m->ids));
	}
	if (flags & MPM_CASELESS)
		hf |= HS_FLAG_CASELESS;
	if (flags & MPM_DOTALL)
		hf |= HS_FLAG_DOTALL;
	if (flags & MPM_SOM)
		hf |= HS_FLAG_SOM_LEFTMOST;
	if (flags & MPM_SINGLEMATCH)
		hf |= HS_FLAG_SINGLEMATCH;
	if (flags & MPM_UTF8)
		hf |= HS_FLAG_UTF8 | HS_FLAG_UCP;
	m->exprs[m->n] = xstrdup(regex);
	m->flags[m->n] = hf;
	m->ids[m->n] = id;
	m->n++;
	return 0;
}

int mpm_compile(struct mpm *m, char *err, size_t errlen)
{
	hs_compile_error_t *ce = NULL;

	if (m->n == 0) {
		snprintf(err, errlen, "no patterns");
		return -1;
	}
	if (hs_compile_multi((const char *const *)m->exprs, m->flags, m->ids, (unsigned)m->n,
			     HS_MODE_BLOCK, NULL, &m->db, &ce) != HS_SUCCESS) {
		int at = ce ? ce->expression : -1;

		snprintf(err, errlen, "pattern %d (%s): %s", at,
			 at >= 0 && (size_t)at < m->n ? m->exprs[at] : "?",
			 ce && ce->message ? ce->message : "compile failed");
		hs_free_compile_error(ce);
		return -1;
	}
	if (hs_alloc_scratch(m->db, &m->proto) != HS_SUCCESS) {
		snprintf(err, errlen, "cannot allocate scratch");
		return -1;
	}
	return 0;
}

struct cbwrap {
	mpm_cb cb;
	void *ctx;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned fl,
		    void *ctx)
{
	struct cbwrap *w = ctx;

	(void)fl;
	return w->cb(id, from, to, w->ctx) ? 1 : 0;
}

int mpm_scan(const struct mpm *m, const char *buf, size_t len, mpm_cb cb, void *ctx)
{
	struct cbwrap w = {cb, ctx};
	hs_error_t r;

	if (!m->db)
		return -1;
	if (len > 0xffffffffu)
		return -1;
	/* One scratch per thread, grown to fit every database this thread uses. */
	size_t i;

	for (i = 0; i < tls_nfitted && tls_fitted[i] != m; i++)
		;
	if (i == tls_nfitted) {
		if (tls_scratch == NULL) {
			if (hs_clone_scratch(m->proto, &tls_scratch) != HS_SUCCESS)
				return -1;
		} else if (hs_alloc_scratch(m->db, &tls_scratch) != HS_SUCCESS)
			return -1;
		if (tls_nfitted == MPM_FITTED)
			tls_nfitted = 0; /* forget: each is fitted again when next used */
		tls_fitted[tls_nfitted++] = m;
	}
	r = hs_scan(m->db, buf, (unsigned)len, 0, tls_scratch, on_match, &w);
	if (r == HS_SUCCESS || r == HS_SCAN_TERMINATED)
		return 0;
	return -1;
}

size_t mpm_count(const struct mpm *m)
{
	return m->n;
}

void mpm_free(struct mpm *m)
{
	if (!m)
		return;
	/* A later mpm at the same address must re-size scratch. */
	for (size_t i = 0; i < tls_nfitted; i++)
		if (tls_fitted[i] == m)
			tls_fitted[i] = tls_fitted[--tls_nfitted];
	for (size_t i = 0; i < m->n; i++)
		free(m->exprs[i]);
	free(m->exprs);
	free(m->flags);
	free(m->ids);
	if (m->proto)
		hs_free_scratch(m->proto);
	if (m->db)
		hs_free_database(m->db);
	free(m);
}
