#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <hs/hs.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdio.h"
#include "log.h"
#include "mpm.h"
#include "xmalloc.h"

struct mpm {
	char **exprs;
	unsigned *flags;
	unsigned *ids;
	size_t n, cap;
	unsigned *minw, *maxw; /* per pattern, after compile (UINT_MAX: unbounded) */
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

/* The CPU features a database may be built for (the runtime refuses a mismatch). */
static void cpu_features(char out[8])
{
	memset(out, '-', 8);
#if defined(__x86_64__) || defined(__i386__)
	/* The builtin takes only string literals. */
	out[0] = __builtin_cpu_supports("sse4.2") ? '1' : '0';
	out[1] = __builtin_cpu_supports("popcnt") ? '1' : '0';
	out[2] = __builtin_cpu_supports("avx2") ? '1' : '0';
	out[3] = __builtin_cpu_supports("bmi2") ? '1' : '0';
	out[4] = __builtin_cpu_supports("avx512f") ? '1' : '0';
	out[5] = __builtin_cpu_supports("avx512bw") ? '1' : '0';
	out[6] = __builtin_cpu_supports("avx512vbmi") ? '1' : '0';
#endif
	out[7] = '\0';
}

#define CACHE_MAGIC "mpm2"

static void cache_key(const struct mpm *m, char hex[65])
{
	crypto_hash_sha256_state h;
	unsigned char d[crypto_hash_sha256_BYTES];
	char cpu[8];

	cpu_features(cpu);
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)CACHE_MAGIC, 4);
	crypto_hash_sha256_update(&h, (const unsigned char *)hs_version(),
				  strlen(hs_version()) + 1);
	crypto_hash_sha256_update(&h, (const unsigned char *)cpu, sizeof(cpu));
	for (size_t i = 0; i < m->n; i++) {
		unsigned meta[2] = {m->ids[i], m->flags[i]};

		crypto_hash_sha256_update(&h, (const unsigned char *)meta, sizeof(meta));
		crypto_hash_sha256_update(&h, (const unsigned char *)m->exprs[i],
					  strlen(m->exprs[i]) + 1);
	}
	crypto_hash_sha256_final(&h, d);
	sodium_bin2hex(hex, 65, d, sizeof(d));
}

/* Room for the width bounds of every pattern of m (filled by whoever knows them). */
static void widths_alloc(struct mpm *m)
{
	m->minw = xreallocarray(m->minw, m->n, sizeof(*m->minw));
	m->maxw = xreallocarray(m->maxw, m->n, sizeof(*m->maxw));
}

/*
 * A cache file: CACHE_MAGIC, the pattern count, each pattern's min and max
 * width (uint32 each, host order), then the serialized database.
 */
static size_t cache_head(const struct mpm *m)
{
	return 4 + 4 + 8 * m->n;
}

/* Load the database and widths of m from path; 0 on success. */
static int cache_load(struct mpm *m, const char *path)
{
	size_t head = cache_head(m);
	struct stat st;
	char *buf;
	uint32_t n;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) || st.st_size <= (off_t)head || st.st_size > (256 << 20)) {
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size);
	if (read(fd, buf, (size_t)st.st_size) == st.st_size && memcmp(buf, CACHE_MAGIC, 4) == 0) {
		memcpy(&n, buf + 4, 4);
		ok = n == m->n && hs_deserialize_database(buf + head, (size_t)st.st_size - head,
							  &m->db) == HS_SUCCESS;
	}
	close(fd);
	if (ok) {
		widths_alloc(m);
		for (size_t i = 0; i < m->n; i++) {
			uint32_t w[2];

			memcpy(w, buf + 8 + 8 * i, 8);
			m->minw[i] = w[0];
			m->maxw[i] = w[1];
		}
	} else
		m->db = NULL;
	free(buf);
	return ok ? 0 : -1;
}

/* 0 when the database is in the cache file now. */
static int cache_store(const struct mpm *m, const char *dir, const char *path, const char *bytes,
		       size_t len)
{
	char tmp[PATH_MAX + 16], *head;
	size_t hl = cache_head(m);
	uint32_t n = (uint32_t)m->n;
	int fd, k, rc = -1;

	if (cache_mkdir(dir) < 0)
		return -1;
	head = xmalloc(hl);
	memcpy(head, CACHE_MAGIC, 4);
	memcpy(head + 4, &n, 4);
	for (size_t i = 0; i < m->n; i++) {
		uint32_t w[2] = {m->minw[i], m->maxw[i]};

		memcpy(head + 8 + 8 * i, w, 8);
	}
	k = snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	if (k > 0 && (size_t)k < sizeof(tmp) &&
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) >= 0) {
		int ok = write(fd, head, hl) == (ssize_t)hl &&
			 write(fd, bytes, len) == (ssize_t)len && fsync(fd) == 0;

		close(fd);
		if (!ok || rename(tmp, path) < 0)
			unlink(tmp);
		else
			rc = 0;
	}
	free(head);
	return rc;
}

/*
 * The Vectorscan compiler (libhs with its C++ runtime) is loaded only when a
 * database is not in the cache: scanning needs only the runtime, linked in
 * statically, and keeping the compiler mapped would cost every proxy about
 * 3 MB of resident pages. A database it builds is serialized and read back by
 * the runtime, so no object crosses from one library to the other.
 */
#ifndef MPM_HS_COMPILER
#define MPM_HS_COMPILER "libhs.so.5"
#endif

static struct {
	void *h;
	hs_error_t (*compile_multi)(const char *const *, const unsigned *, const unsigned *,
				    unsigned, unsigned, const hs_platform_info_t *,
				    hs_database_t **, hs_compile_error_t **);
	hs_error_t (*free_compile_error)(hs_compile_error_t *);
	hs_error_t (*expression_info)(const char *, unsigned, hs_expr_info_t **,
				      hs_compile_error_t **);
	hs_error_t (*serialize_database)(const hs_database_t *, char **, size_t *);
	hs_error_t (*free_database)(hs_database_t *);
	const char *(*version)(void);
	char err[160];
} hsc;
static pthread_mutex_t hsc_lock = PTHREAD_MUTEX_INITIALIZER;
/* Databases made ready in this process: read from the cache, compiled, stored (hsc_lock). */
static size_t n_cached, n_compiled, n_stored;

/* With hsc_lock held: the compiler's entry points, or -1 with hsc.err set. */
static int hsc_load(void)
{
	void *h;

	if (hsc.h)
		return 0;
	if (hsc.err[0])
		return -1;
	if (!(h = dlopen(MPM_HS_COMPILER, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(hsc.err, sizeof(hsc.err), "cannot load the Vectorscan compiler: %s",
			 dlerror());
		return -1;
	}
	*(void **)&hsc.compile_multi = dlsym(h, "hs_compile_multi");
	*(void **)&hsc.free_compile_error = dlsym(h, "hs_free_compile_error");
	*(void **)&hsc.expression_info = dlsym(h, "hs_expression_info");
	*(void **)&hsc.serialize_database = dlsym(h, "hs_serialize_database");
	*(void **)&hsc.free_database = dlsym(h, "hs_free_database");
	*(void **)&hsc.version = dlsym(h, "hs_version");
	if (!hsc.compile_multi || !hsc.free_compile_error || !hsc.expression_info ||
	    !hsc.serialize_database || !hsc.free_database || !hsc.version) {
		snprintf(hsc.err, sizeof(hsc.err), "%s lacks a compiler entry point",
			 MPM_HS_COMPILER);
		dlclose(h);
		return -1;
	}
	/* Its databases must be ones our runtime reads. */
	if (strcmp(hsc.version(), hs_version()) != 0) {
		snprintf(hsc.err, sizeof(hsc.err),
			 "Vectorscan compiler %.40s does not match the runtime %.40s",
			 hsc.version(), hs_version());
		dlclose(h);
		return -1;
	}
	hsc.h = h;
	return 0;
}

/* With hsc_lock held: compile m, fill its widths, return the serialized database. */
static int hsc_build(struct mpm *m, char **bytes, size_t *len, char *err, size_t errlen)
{
	hs_compile_error_t *ce = NULL;
	hs_database_t *db = NULL;
	int rc = -1;

	if (hsc.compile_multi((const char *const *)m->exprs, m->flags, m->ids, (unsigned)m->n,
			      HS_MODE_BLOCK, NULL, &db, &ce) != HS_SUCCESS) {
		int at = ce ? ce->expression : -1;

		snprintf(err, errlen, "pattern %d (%s): %s", at,
			 at >= 0 && (size_t)at < m->n ? m->exprs[at] : "?",
			 ce && ce->message ? ce->message : "compile failed");
		hsc.free_compile_error(ce);
		return -1;
	}
	widths_alloc(m);
	for (size_t i = 0; i < m->n; i++) {
		hs_expr_info_t *info = NULL;

		ce = NULL;
		if (hsc.expression_info(m->exprs[i], m->flags[i], &info, &ce) != HS_SUCCESS) {
			snprintf(err, errlen, "pattern %zu (%s): %s", i, m->exprs[i],
				 ce && ce->message ? ce->message : "no width");
			hsc.free_compile_error(ce);
			goto out;
		}
		m->minw[i] = info->min_width;
		m->maxw[i] = info->max_width;
		free(info); /* allocated with malloc: the default misc allocator */
	}
	if (hsc.serialize_database(db, bytes, len) != HS_SUCCESS) {
		snprintf(err, errlen, "cannot serialize the database");
		goto out;
	}
	rc = 0;
out:
	hsc.free_database(db);
	return rc;
}

/* Does this process run one thread? (fork is then safe to use for anything.) */
static int single_threaded(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n == 1;
}

/* In the compiling child: build m and send the outcome to fd. */
static void child_build(struct mpm *m, int fd)
{
	char e[512] = "", *bytes = NULL;
	size_t len = 0;
	int32_t rc = -1;
	uint32_t el;
	uint64_t l;

	if (hsc_load() != 0)
		snprintf(e, sizeof(e), "%s", hsc.err);
	else
		rc = hsc_build(m, &bytes, &len, e, sizeof(e));
	el = (uint32_t)strlen(e);
	l = len;
	if (fd_write_all(fd, &rc, sizeof(rc)) || fd_write_all(fd, &el, sizeof(el)) ||
	    fd_write_all(fd, e, el))
		return;
	if (rc != 0)
		return;
	for (size_t i = 0; i < m->n; i++) {
		uint32_t w[2] = {m->minw[i], m->maxw[i]};

		if (fd_write_all(fd, w, sizeof(w)))
			return;
	}
	(void)(fd_write_all(fd, &l, sizeof(l)) || fd_write_all(fd, bytes, len));
}

/*
 * Compile in a child process when this one runs a single thread: the compiler
 * and its C++ runtime then never map into the proxy (libhs marks itself
 * unloadable), which keeps a session that had to compile as small as one that
 * read the cache. 1: not possible here (compile in this process instead).
 */
static int build_in_child(struct mpm *m, char **bytes, size_t *len, char *err, size_t errlen)
{
	char e[512];
	int fds[2], st = 0, ok;
	int32_t rc = -1;
	uint32_t el = 0;
	uint64_t l = 0;
	pid_t pid;

	if (!single_threaded() || pipe2(fds, O_CLOEXEC) < 0)
		return 1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return 1;
	}
	if (pid == 0) {
		close(fds[0]);
		child_build(m, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	ok = fd_read_all(fds[0], &rc, sizeof(rc)) == 0 &&
	     fd_read_all(fds[0], &el, sizeof(el)) == 0 && el < sizeof(e) &&
	     fd_read_all(fds[0], e, el) == 0;
	if (ok) {
		e[el] = '\0';
		snprintf(err, errlen, "%s", e);
	}
	if (ok && rc == 0) {
		widths_alloc(m);
		for (size_t i = 0; ok && i < m->n; i++) {
			uint32_t w[2];

			ok = fd_read_all(fds[0], w, sizeof(w)) == 0;
			m->minw[i] = w[0];
			m->maxw[i] = w[1];
		}
		ok = ok && fd_read_all(fds[0], &l, sizeof(l)) == 0 && l > 0 && l < (1ull << 31);
		if (ok) {
			*bytes = xmalloc((size_t)l);
			*len = (size_t)l;
			if (!(ok = fd_read_all(fds[0], *bytes, *len) == 0)) {
				free(*bytes);
				*bytes = NULL;
			}
		}
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!ok) {
		snprintf(err, errlen, "the Vectorscan compiler process failed (status %d)", st);
		return -1;
	}
	return rc == 0 ? 0 : -1;
}

int mpm_compile(struct mpm *m, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], key[65], *bytes = NULL;
	int cached = cache_dir(dir, sizeof(dir)) == 0;
	size_t len = 0;
	int rc;

	if (m->db) {
		snprintf(err, errlen, "already compiled");
		return -1;
	}
	if (m->n == 0) {
		snprintf(err, errlen, "no patterns");
		return -1;
	}
	if (cached) {
		cache_key(m, key);
		if (snprintf(path, sizeof(path), "%s/%s.hsdb", dir, key) >= (int)sizeof(path))
			cached = 0;
		else if (cache_load(m, path) == 0) {
			pthread_mutex_lock(&hsc_lock);
			n_cached++;
			pthread_mutex_unlock(&hsc_lock);
			goto scratch;
		}
	}
	pthread_mutex_lock(&hsc_lock);
	if ((rc = build_in_child(m, &bytes, &len, err, errlen)) == 1) {
		rc = hsc_load();
		if (rc != 0)
			snprintf(err, errlen, "%s", hsc.err);
		else
			rc = hsc_build(m, &bytes, &len, err, errlen);
	}
	n_compiled += rc == 0;
	pthread_mutex_unlock(&hsc_lock);
	if (rc != 0)
		return -1;
	if (hs_deserialize_database(bytes, len, &m->db) != HS_SUCCESS) {
		snprintf(err, errlen, "the runtime cannot read the compiled database");
		free(bytes);
		return -1;
	}
	if (cached && cache_store(m, dir, path, bytes, len) == 0) {
		pthread_mutex_lock(&hsc_lock);
		n_stored++;
		pthread_mutex_unlock(&hsc_lock);
	}
	free(bytes); /* serialized with malloc: the default misc allocator */
scratch:
	if (hs_alloc_scratch(m->db, &m->proto) != HS_SUCCESS) {
		snprintf(err, errlen, "cannot allocate scratch");
		return -1;
	}
	return 0;
}

void mpm_stats(size_t *cached, size_t *compiled, size_t *stored)
{
	pthread_mutex_lock(&hsc_lock);
	*cached = n_cached;
	*compiled = n_compiled;
	*stored = n_stored;
	pthread_mutex_unlock(&hsc_lock);
}

int mpm_width(const struct mpm *m, size_t idx, unsigned *minw, unsigned *maxw)
{
	if (!m->db || idx >= m->n)
		return -1;
	*minw = m->minw[idx];
	*maxw = m->maxw[idx];
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
	free(m->minw);
	free(m->maxw);
	if (m->proto)
		hs_free_scratch(m->proto);
	if (m->db)
		hs_free_database(m->db);
	free(m);
}
