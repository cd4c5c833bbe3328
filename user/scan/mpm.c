#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/*
 * Compiled databases are cached: compiling every scanner's patterns costs over a
 * second of CPU, paid by every MCP server launch otherwise. The key is a SHA-256 of
 * the engine version, this CPU's platform and the exact pattern set, so any change
 * recompiles. A cache file is trusted like the user's own policy file: only when
 * it is ours, 0600, in a 0700 directory of ours. MCPGUARD_NO_CACHE=1 turns it off.
 */
static int cache_dir(char *out, size_t cap)
{
	const char *e = getenv("MCPGUARD_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"),
		   *h = getenv("HOME");
	int n;

	if (getenv("MCPGUARD_NO_CACHE"))
		return -1;
	if (e && e[0] == '/')
		n = snprintf(out, cap, "%s", e);
	else if (x && x[0] == '/')
		n = snprintf(out, cap, "%s/mcpguard/hs", x);
	else if (h && h[0] == '/')
		n = snprintf(out, cap, "%s/.cache/mcpguard/hs", h);
	else
		return -1;
	return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* mkdir -p with 0700, and the leaf must be ours and closed to others. */
static int cache_mkdir(const char *dir)
{
	char tmp[PATH_MAX];
	struct stat st;

	if (strlen(dir) >= sizeof(tmp))
		return -1;
	memcpy(tmp, dir, strlen(dir) + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -1;
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077))
		return -1;
	return 0;
}

static void cache_key(const struct mpm *m, char hex[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];
	hs_platform_info_t plat;

	memset(&plat, 0, sizeof(plat));
	hs_populate_platform(&plat);
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)hs_version(),
				  strlen(hs_version()) + 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)&plat, sizeof(plat));
	for (size_t i = 0; i < m->n; i++) {
		unsigned meta[2] = {m->ids[i], m->flags[i]};

		crypto_hash_sha256_update(&h, (const unsigned char *)meta, sizeof(meta));
		crypto_hash_sha256_update(&h, (const unsigned char *)m->exprs[i],
					  strlen(m->exprs[i]) + 1);
	}
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, 65, d, sizeof(d));
}

static hs_database_t *cache_load(const char *path)
{
	hs_database_t *db = NULL;
	struct stat st;
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size <= 0 || st.st_size > (256 << 20)) {
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size);
	if (read(fd, buf, (size_t)st.st_size) == st.st_size &&
	    hs_deserialize_database(buf, (size_t)st.st_size, &db) != HS_SUCCESS)
		db = NULL;
	close(fd);
	free(buf);
	return db;
}

static void cache_store(const char *dir, const char *path, const hs_database_t *db)
{
	char tmp[PATH_MAX + 16], *bytes = NULL;
	size_t len = 0;
	int fd, n;

	if (cache_mkdir(dir) < 0 || hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return;
	n = snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (n > 0 && (size_t)n < sizeof(tmp) &&
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		int ok = write(fd, bytes, len) == (ssize_t)len && fsync(fd) == 0;

		close(fd);
		if (!ok || rename(tmp, path) < 0)
			unlink(tmp);
	}
	free(bytes);
}

int mpm_compile(struct mpm *m, char *err, size_t errlen)
{
	hs_compile_error_t *ce = NULL;
	char dir[PATH_MAX], path[PATH_MAX + 80], key[65];
	int cached = cache_dir(dir, sizeof(dir)) == 0;

	if (m->n == 0) {
		snprintf(err, errlen, "no patterns");
		return -1;
	}
	if (cached) {
		cache_key(m, key);
		if (snprintf(path, sizeof(path), "%s/%s.hsdb", dir, key) >= (int)sizeof(path))
			cached = 0;
		else if ((m->db = cache_load(path)) != NULL)
			goto scratch;
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
	if (cached)
		cache_store(dir, path, m->db);
scratch:
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
