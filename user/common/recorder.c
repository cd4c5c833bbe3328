/*
 * Flight recorder writer and key handling; the verifier is in recverify.c.
 * Format and guarantees: recorder.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zlib.h>

#include "fdio.h"
#include "findings.h"
#include "log.h"
#include "recorder.h"
#include "recorder_int.h"
#include "xmalloc.h"

struct recorder {
	int fd;
	char path[PATH_MAX];
	char source[16];
	unsigned every;
	uint64_t rotate;
	uint64_t seq;		/* of the last line written */
	unsigned char head[32]; /* hash of the last line written */
	unsigned since_cp;	/* lines since the last checkpoint */
	uint64_t size;		/* bytes in the file, all complete lines */
	unsigned char *sk;	/* sodium_malloc'd, 64 bytes */
	unsigned char pk[32];
	char key_id[17];
	int broken;	/* a partial line could not be removed: refuse to write after it */
	time_t last_cp; /* CLOCK_MONOTONIC seconds of the last checkpoint */
};

static time_t mono_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void rec_hex(const unsigned char *b, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[b[i] >> 4];
		out[2 * i + 1] = d[b[i] & 15];
	}
	out[2 * n] = '\0';
}

int rec_unhex(const char *s, size_t slen, unsigned char *out, size_t n)
{
	if (slen != 2 * n)
		return -1;
	for (size_t i = 0; i < 2 * n; i++) {
		int c = s[i], v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else
			return -1; /* lower case only: one spelling per hash */
		if (i % 2 == 0)
			out[i / 2] = (unsigned char)(v << 4);
		else
			out[i / 2] |= (unsigned char)v;
	}
	return 0;
}

void rec_key_id(const unsigned char pk[32], char out[17])
{
	unsigned char h[32];

	crypto_hash_sha256(h, pk, 32);
	rec_hex(h, 8, out);
}

/* ---- keys ---- */

int rec_default_key_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *env = getenv("MCPGUARD_RECORDER_KEY");
	int n;

	if (env && env[0] == '/')
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/mcpguard/recorder.key");
	else if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/mcpguard/recorder.key", xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.local/state/mcpguard/recorder.key", home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p; the last component (the key's own directory) is 0700 and must stay private. */
static int key_dir(const char *keypath, char *err, size_t errlen)
{
	char dir[PATH_MAX], *p;
	struct stat st;

	if (mg_strlcpy(dir, keypath, sizeof(dir)) >= sizeof(dir)) {
		seterr(err, errlen, "key path too long");
		return -1;
	}
	if (!(p = strrchr(dir, '/')) || p == dir)
		return 0; /* relative name or a file in /: nothing to create */
	*p = '\0';
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			seterr(err, errlen, "mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		seterr(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0) {
		seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0077)) {
		seterr(err, errlen,
		       "key directory %s must be owned by uid %u with mode 0700 (is uid %u, mode "
		       "%04o): fix with chmod 700 %s",
		       dir, (unsigned)geteuid(), (unsigned)st.st_uid,
		       (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

static int write_pub(const char *keypath, const unsigned char pk[32], char *err, size_t errlen)
{
	char pub[PATH_MAX + 8], tmp[PATH_MAX + 16], line[80], hex[65];
	int fd;

	snprintf(pub, sizeof(pub), "%s.pub", keypath);
	snprintf(tmp, sizeof(tmp), "%s.pub.%d", keypath, (int)getpid());
	rec_hex(pk, 32, hex);
	snprintf(line, sizeof(line), "ed25519:%s\n", hex);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644)) < 0 ||
	    fd_write_all(fd, line, strlen(line)) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, pub) < 0) {
		seterr(err, errlen, "writing %s: %s", pub, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return 0;
}

int rec_load_or_create_key(const char *path, unsigned char sk[64], unsigned char pk[32], char *err,
			   size_t errlen)
{
	char tmp[PATH_MAX + 16], pub[PATH_MAX + 8];
	struct stat st;
	int fd, tries;

	if (sodium_init() < 0) {
		seterr(err, errlen, "libsodium failed to initialise");
		return -1;
	}
	if (key_dir(path, err, errlen) < 0)
		return -1;
	for (tries = 0; tries < 3; tries++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n;

			if (fstat(fd, &st) < 0) {
				seterr(err, errlen, "%s: %s", path, strerror(errno));
				close(fd);
				return -1;
			}
			if (st.st_uid != geteuid() || (st.st_mode & 0077)) {
				seterr(err, errlen,
				       "recorder key %s must be owned by uid %u with mode 0600 (is "
				       "uid "
				       "%u, mode %04o): fix with chmod 600 %s",
				       path, (unsigned)geteuid(), (unsigned)st.st_uid,
				       (unsigned)(st.st_mode & 07777), path);
				close(fd);
				return -1;
			}
			n = read(fd, sk, 64);
			close(fd);
			if (n != 64 || st.st_size != 64) {
				seterr(err, errlen,
				       "recorder key %s is damaged (expected 64 bytes, found %lld)",
				       path, (long long)st.st_size);
				return -1;
			}
			crypto_sign_ed25519_sk_to_pk(pk, sk);
			snprintf(pub, sizeof(pub), "%s.pub", path);
			if (access(pub, F_OK) < 0 && write_pub(path, pk, err, errlen) < 0)
				return -1;
			return 0;
		}
		if (errno != ENOENT) {
			seterr(err, errlen, "recorder key %s: %s", path, strerror(errno));
			return -1;
		}
		/* First run: write a temporary file, then link(): exclusive and never half-written.
		 */
		crypto_sign_keypair(pk, sk);
		snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || fd_write_all(fd, sk, 64) < 0 || fsync(fd) < 0 || close(fd) < 0) {
			seterr(err, errlen, "creating recorder key %s: %s", tmp, strerror(errno));
			if (fd >= 0)
				close(fd);
			unlink(tmp);
			sodium_memzero(sk, 64);
			return -1;
		}
		if (link(tmp, path) < 0) {
			int e = errno;

			unlink(tmp);
			sodium_memzero(sk, 64);
			if (e == EEXIST)
				continue; /* another process created it first: use theirs */
			seterr(err, errlen, "creating recorder key %s: %s", path, strerror(e));
			return -1;
		}
		unlink(tmp);
		return write_pub(path, pk, err, errlen);
	}
	seterr(err, errlen, "recorder key %s: could not be read or created", path);
	return -1;
}

int rec_read_pubkey(const char *path, unsigned char pk[32], char *err, size_t errlen)
{
	char buf[256];
	size_t n;
	FILE *fp = fopen(path, "re");
	const char *p;

	if (!fp) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	p = strncmp(buf, "ed25519:", 8) == 0 ? buf + 8 : buf;
	if (rec_unhex(p, strlen(p), pk, 32) < 0) {
		seterr(err, errlen,
		       "%s: not a public key (expected \"ed25519:\" and 64 hex digits)", path);
		return -1;
	}
	return 0;
}

/* ---- lines ---- */

static void now_rfc3339(char out[32])
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Copy at most REC_MAX_FIELD bytes, not splitting a UTF-8 sequence. */
static void add_str(cJSON *o, const char *k, const char *v)
{
	size_t n;
	char *c;

	if (!v)
		return;
	n = strlen(v);
	if (n <= REC_MAX_FIELD) {
		cJSON_AddStringToObject(o, k, v);
		return;
	}
	n = REC_MAX_FIELD;
	while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
		n--;
	c = xstrndup(v, n);
	cJSON_AddStringToObject(o, k, c);
	free(c);
}

static cJSON *line_start(struct recorder *r, const char *kind)
{
	cJSON *o = cJSON_CreateObject();
	char t[32];

	now_rfc3339(t);
	cJSON_AddNumberToObject(o, "seq", (double)(r->seq + 1));
	cJSON_AddStringToObject(o, "time", t);
	cJSON_AddStringToObject(o, "source", r->source);
	cJSON_AddStringToObject(o, "kind", kind);
	return o;
}

/* Names the recorder itself sets: an extra member cannot override them. */
static int reserved(const char *k)
{
	static const char *const names[] = {"seq",  "time",   "source", "kind",	   "prev",  "sig",
					    "head", "key_id", "pubkey", "version", "final", NULL};

	for (size_t i = 0; names[i]; i++)
		if (strcmp(k, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Finish a line (prev, optional signature), write it with one write(2), advance the
 * chain. On failure the file is cut back to its last complete line.
 */
static int emit(struct recorder *r, cJSON *o, int sign)
{
	char hex[65], *s, *line;
	size_t n, len;
	int e;

	if (r->broken) {
		cJSON_Delete(o);
		errno = EIO;
		return -1;
	}
	rec_hex(r->head, 32, hex);
	cJSON_AddStringToObject(o, "prev", hex);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	n = strlen(s);
	line = xmalloc(n + 2 + 8 + 128 + 2 + 1);
	memcpy(line, s, n);
	free(s);
	if (sign) {
		unsigned char sig[64], *msg;
		size_t dl = sizeof(REC_SIG_DOMAIN) - 1;

		n--; /* drop the closing brace: the signature covers everything before ,"sig" */
		msg = xmalloc(dl + n);
		memcpy(msg, REC_SIG_DOMAIN, dl);
		memcpy(msg + dl, line, n);
		crypto_sign_detached(sig, NULL, msg, dl + n, r->sk);
		free(msg);
		memcpy(line + n, ",\"sig\":\"", 8);
		n += 8;
		rec_hex(sig, 64, line + n);
		n += 128;
		memcpy(line + n, "\"}", 2);
		n += 2;
	}
	len = n;
	line[len++] = '\n';
	if (fd_write_all(r->fd, line, len) < 0) {
		e = errno;
		/* Never leave a partial line that later lines would follow. */
		if (ftruncate(r->fd, (off_t)r->size) < 0)
			r->broken = 1; /* verify will report the torn line; add nothing after it */
		free(line);
		errno = e;
		return -1;
	}
	crypto_hash_sha256(r->head, (unsigned char *)line, n);
	r->seq++;
	r->size += len;
	free(line);
	return 0;
}

static int write_checkpoint(struct recorder *r, const char *final)
{
	cJSON *o = line_start(r, "checkpoint");
	char hex[65];

	rec_hex(r->head, 32, hex);
	cJSON_AddStringToObject(o, "head", hex);
	cJSON_AddNumberToObject(o, "lines", r->since_cp);
	cJSON_AddStringToObject(o, "key_id", r->key_id);
	if (final)
		cJSON_AddStringToObject(o, "final", final);
	if (emit(r, o, 1) < 0)
		return -1;
	r->since_cp = 0;
	r->last_cp = mono_sec();
	return fdatasync(r->fd);
}

static int write_genesis(struct recorder *r, const char *previous_file)
{
	cJSON *o = line_start(r, "genesis");
	char hex[65];

	cJSON_AddNumberToObject(o, "version", 1);
	cJSON_AddStringToObject(o, "key_id", r->key_id);
	rec_hex(r->pk, 32, hex);
	cJSON_AddStringToObject(o, "pubkey", hex);
	if (previous_file)
		cJSON_AddStringToObject(o, "previous_file", previous_file);
	if (emit(r, o, 1) < 0)
		return -1;
	return fdatasync(r->fd);
}

/* Open path for appending, exclusively ours (one writer per chain). */
static int open_locked(const char *path, int flags, char *err, size_t errlen)
{
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | flags, 0600);

	if (fd < 0) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		seterr(err, errlen, "%s: %s", path,
		       errno == EWOULDBLOCK ? "in use by another recorder (one writer per log)"
					    : strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* gzip path into path.gz (via a temporary file), then remove path. */
static int compress_file(const char *path)
{
	char gz[PATH_MAX + 48], tmp[PATH_MAX + 56], buf[65536];
	int in, out = -1, ok = 0;
	gzFile g = NULL;
	ssize_t n;

	snprintf(gz, sizeof(gz), "%s.gz", path);
	snprintf(tmp, sizeof(tmp), "%s.gz.tmp", path);
	if ((in = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		goto done;
	if (!(g = gzdopen(dup(out), "wb6")))
		goto done;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (gzwrite(g, buf, (unsigned)n) != (int)n)
			goto done;
	if (n < 0)
		goto done;
	if (gzclose(g) != Z_OK) {
		g = NULL;
		goto done;
	}
	g = NULL;
	if (fsync(out) < 0 || rename(tmp, gz) < 0)
		goto done;
	ok = 1;
	unlink(path);
done:
	if (g)
		gzclose(g);
	if (out >= 0)
		close(out);
	close(in);
	if (!ok)
		unlink(tmp);
	return ok ? 0 : -1;
}

/* Close the current file with a final checkpoint and start a new one continuing the chain. */
static int rotate(struct recorder *r, int sign_old)
{
	char old[PATH_MAX + 32], err[256];
	const char *base;
	int fd;

	if (sign_old && write_checkpoint(r, "rotate") < 0)
		return -1;
	snprintf(old, sizeof(old), "%s.%012llu", r->path, (unsigned long long)r->seq);
	if (rename(r->path, old) < 0)
		return -1;
	if ((fd = open_locked(r->path, O_CREAT | O_EXCL, err, sizeof(err))) < 0) {
		/* keep writing to the renamed file rather than losing records */
		return -1;
	}
	close(r->fd);
	r->fd = fd;
	r->size = 0;
	r->since_cp = 0;
	base = strrchr(old, '/') ? strrchr(old, '/') + 1 : old;
	{
		char gzname[PATH_MAX + 40];

		snprintf(gzname, sizeof(gzname), "%s.gz", base);
		if (write_genesis(r, gzname) < 0) {
			r->broken = 1; /* a file without its genesis line cannot be continued */
			return -1;
		}
	}
	if (compress_file(old) < 0) {
		/* the plain file still verifies; say so once */
		warn("recorder: could not compress %s (it still verifies uncompressed)", old);
	}
	return 0;
}

/*
 * Continue an existing file: find its last complete line (seq, hash) and its
 * genesis key; cut a torn tail off and remember it for a "recovered" line.
 */
struct resume {
	uint64_t seq;
	unsigned char head[32];
	char key_id[17];
	size_t torn; /* bytes cut off */
	unsigned char torn_hash[32];
};

static int resume_file(struct recorder *r, struct resume *rs, char *err, size_t errlen)
{
	size_t cap = REC_MAX_LINE + 2, n, start, end;
	char *buf = xmalloc(cap);
	off_t size = lseek(r->fd, 0, SEEK_END), off;
	ssize_t got;
	cJSON *j = NULL, *it;
	int ret = -1;

	memset(rs, 0, sizeof(*rs));
	if (size < 0)
		goto io;
	/* genesis: the first line */
	if ((got = pread(r->fd, buf, cap - 1, 0)) < 0)
		goto io;
	buf[got] = '\0';
	{
		char *nl = memchr(buf, '\n', (size_t)got);

		if (!nl) {
			/* even the genesis line is torn: start the file over */
			rs->torn = (size_t)size;
			crypto_hash_sha256(rs->torn_hash, (unsigned char *)buf, (size_t)got);
			if (ftruncate(r->fd, 0) < 0)
				goto io;
			r->size = 0;
			free(buf);
			return 1; /* empty now */
		}
		j = cJSON_ParseWithLength(buf, (size_t)(nl - buf));
		it = cJSON_GetObjectItemCaseSensitive(j, "kind");
		if (!cJSON_IsString(it) || strcmp(it->valuestring, "genesis") != 0) {
			seterr(err, errlen,
			       "%s is not a recorder log (no genesis line); move it away", r->path);
			goto out;
		}
		it = cJSON_GetObjectItemCaseSensitive(j, "key_id");
		if (cJSON_IsString(it))
			mg_strlcpy(rs->key_id, it->valuestring, sizeof(rs->key_id));
		cJSON_Delete(j);
		j = NULL;
	}
	/* tail: the last REC_MAX_LINE bytes hold the last complete line and any torn one */
	off = size > (off_t)(cap - 1) ? size - (off_t)(cap - 1) : 0;
	if ((got = pread(r->fd, buf, (size_t)(size - off), off)) != size - off)
		goto io;
	n = (size_t)got;
	end = n;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	if (end == 0) {
		seterr(err, errlen, "%s: last line longer than %d bytes; not a recorder log",
		       r->path, REC_MAX_LINE);
		goto out;
	}
	if (end < n) {
		rs->torn = n - end;
		crypto_hash_sha256(rs->torn_hash, (unsigned char *)buf + end, n - end);
		if (ftruncate(r->fd, off + (off_t)end) < 0)
			goto io;
	}
	start = end - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && off > 0) {
		seterr(err, errlen, "%s: last line longer than %d bytes; not a recorder log",
		       r->path, REC_MAX_LINE);
		goto out;
	}
	crypto_hash_sha256(rs->head, (unsigned char *)buf + start, end - 1 - start);
	j = cJSON_ParseWithLength(buf + start, end - 1 - start);
	it = cJSON_GetObjectItemCaseSensitive(j, "seq");
	if (!cJSON_IsNumber(it) || it->valuedouble < 1) {
		seterr(err, errlen, "%s: last line has no seq; not a recorder log (move it away)",
		       r->path);
		goto out;
	}
	rs->seq = (uint64_t)it->valuedouble;
	r->size = (uint64_t)(off + (off_t)end);
	ret = 0;
	goto out;
io:
	seterr(err, errlen, "%s: %s", r->path, strerror(errno));
out:
	cJSON_Delete(j);
	free(buf);
	return ret;
}

static int append_recovered(struct recorder *r, const struct resume *rs)
{
	cJSON *o = line_start(r, "recovered"), *x;
	char hex[65], sum[160];

	x = o;
	snprintf(sum, sizeof(sum),
		 "the previous writer stopped mid-line; %zu bytes of that line were cut", rs->torn);
	cJSON_AddStringToObject(x, "summary", sum);
	cJSON_AddNumberToObject(x, "torn_bytes", (double)rs->torn);
	rec_hex(rs->torn_hash, 32, hex);
	cJSON_AddStringToObject(x, "torn_sha256", hex);
	r->since_cp++;
	return emit(r, o, 0);
}

struct recorder *recorder_open(const struct rec_opts *o, char *err, size_t errlen)
{
	struct recorder *r;
	char keypath[PATH_MAX];
	unsigned char sk[64];
	struct resume rs;
	int st;

	if (!o || !o->path || !o->source) {
		seterr(err, errlen, "recorder: path and source are required");
		return NULL;
	}
	if (o->key_path)
		mg_strlcpy(keypath, o->key_path, sizeof(keypath));
	else if (rec_default_key_path(keypath, sizeof(keypath)) < 0) {
		seterr(err, errlen, "recorder: no place for the key (set HOME or XDG_STATE_HOME)");
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	if (mg_strlcpy(r->path, o->path, sizeof(r->path)) >= sizeof(r->path)) {
		seterr(err, errlen, "recorder: path too long");
		goto fail;
	}
	mg_strlcpy(r->source, o->source, sizeof(r->source));
	r->every = o->checkpoint_every ? o->checkpoint_every : REC_DEFAULT_CHECKPOINT;
	r->rotate = o->rotate_bytes;
	r->last_cp = mono_sec();
	if (rec_load_or_create_key(keypath, sk, r->pk, err, errlen) < 0)
		goto fail;
	if (!(r->sk = sodium_malloc(64))) {
		seterr(err, errlen, "recorder: sodium_malloc failed");
		sodium_memzero(sk, sizeof(sk));
		goto fail;
	}
	memcpy(r->sk, sk, 64);
	sodium_memzero(sk, sizeof(sk));
	rec_key_id(r->pk, r->key_id);

	if ((r->fd = open_locked(r->path, O_CREAT, err, errlen)) < 0)
		goto fail;
	if ((st = resume_file(r, &rs, err, errlen)) < 0)
		goto fail;
	if (st == 1 || r->size == 0) {
		/* new (or entirely torn) file: a fresh chain */
		memset(r->head, 0, sizeof(r->head));
		r->seq = 0;
		if (write_genesis(r, NULL) < 0)
			goto io;
	} else {
		r->seq = rs.seq;
		memcpy(r->head, rs.head, 32);
		/* Lines written since the last checkpoint are unknown here; the next one counts. */
		r->since_cp = 1;
		if (strcmp(rs.key_id, r->key_id) != 0 && rotate(r, 0) < 0)
			goto io;
	}
	if (rs.torn && append_recovered(r, &rs) < 0)
		goto io;
	return r;
io:
	seterr(err, errlen, "%s: %s", r->path, strerror(errno));
fail:
	if (r->fd >= 0)
		close(r->fd);
	if (r->sk)
		sodium_free(r->sk);
	free(r);
	return NULL;
}

int recorder_append(struct recorder *r, const struct rec_event *ev)
{
	cJSON *o = line_start(r, ev->kind ? ev->kind : "event");
	const cJSON *m;

	add_str(o, "scanner", ev->scanner);
	add_str(o, "rule", ev->rule);
	add_str(o, "tool", ev->tool);
	add_str(o, "verdict", ev->verdict);
	add_str(o, "summary", ev->summary);
	if (cJSON_IsObject(ev->extra)) {
		cJSON_ArrayForEach(m, ev->extra)
		{
			if (!m->string || reserved(m->string) ||
			    cJSON_GetObjectItemCaseSensitive(o, m->string))
				continue;
			if (cJSON_IsString(m))
				add_str(o, m->string, m->valuestring);
			else
				cJSON_AddItemToObject(o, m->string, cJSON_Duplicate(m, 1));
		}
	}
	/* Keep lines within what verify accepts: an oversized extra is dropped, and said so. */
	{
		char *s = cJSON_PrintUnformatted(o);
		size_t n = s ? strlen(s) : 0;

		free(s);
		if (n > REC_MAX_LINE - 256) {
			cJSON_Delete(o);
			o = line_start(r, ev->kind ? ev->kind : "event");
			add_str(o, "scanner", ev->scanner);
			add_str(o, "rule", ev->rule);
			add_str(o, "tool", ev->tool);
			add_str(o, "verdict", ev->verdict);
			add_str(o, "summary", ev->summary);
			cJSON_AddBoolToObject(o, "extra_dropped", 1);
		}
	}
	if (emit(r, o, 0) < 0)
		return -1;
	if (++r->since_cp >= r->every && write_checkpoint(r, NULL) < 0)
		return -1;
	if (r->rotate && r->size >= r->rotate && rotate(r, 1) < 0) {
		/* the event is recorded; only rotation failed: keep the current file */
		warn("recorder: rotating %s failed; rotation disabled", r->path);
		r->rotate = 0;
	}
	return 0;
}

int recorder_finding(struct recorder *r, const struct finding *f, const char *tool,
		     const cJSON *extra)
{
	cJSON *x = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
	const char *act = pol_action_name(f->action);
	struct rec_event ev = {.kind = act,
			       .scanner = f->scanner,
			       .rule = f->rule,
			       .tool = tool,
			       .verdict = act,
			       .summary = f->detail,
			       .extra = x};
	int ret;

	if (f->where[0] && !cJSON_GetObjectItemCaseSensitive(x, "where"))
		cJSON_AddStringToObject(x, "where", f->where);
	if (!cJSON_GetObjectItemCaseSensitive(x, "confidence"))
		cJSON_AddStringToObject(x, "confidence",
					f->confidence == CONF_HIGH ? "high" : "low");
	ret = recorder_append(r, &ev);
	cJSON_Delete(x);
	return ret;
}

int recorder_checkpoint(struct recorder *r)
{
	return write_checkpoint(r, NULL);
}

int recorder_tick(struct recorder *r, unsigned max_age_sec)
{
	if (r->since_cp == 0 || mono_sec() - r->last_cp < (time_t)max_age_sec)
		return 0;
	return write_checkpoint(r, NULL);
}

uint64_t recorder_seq(const struct recorder *r)
{
	return r->seq;
}

int recorder_close(struct recorder *r)
{
	int ret = 0;

	if (!r)
		return 0;
	if (write_checkpoint(r, "close") < 0)
		ret = -1;
	if (close(r->fd) < 0)
		ret = -1;
	sodium_free(r->sk);
	free(r);
	return ret;
}
