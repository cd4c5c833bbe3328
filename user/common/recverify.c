/*
 * Flight recorder verifier: walks the chain across files (plain or gzip), checks
 * every signature and names the first bad line. Format: recorder.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zlib.h>

#include "recorder.h"
#include "recorder_int.h"
#include "xmalloc.h"

/* Line reader over gzread, which also reads plain files unchanged. */
struct lreader {
	gzFile g;
	char *buf;
	size_t cap, start, end;
	int eof;
	uint64_t lineno;
	char err[160];
};

static int lr_open(struct lreader *lr, const char *path)
{
	memset(lr, 0, sizeof(*lr));
	if (!(lr->g = gzopen(path, "rb")))
		return -1;
	lr->cap = REC_MAX_LINE + 1;
	lr->buf = xmalloc(lr->cap);
	return 0;
}

static void lr_close(struct lreader *lr)
{
	if (lr->g)
		gzclose(lr->g);
	free(lr->buf);
}

/* 1: a line (nl says whether it ended with a newline), 0: end of file, -1: error in lr->err. */
static int lr_next(struct lreader *lr, const char **line, size_t *len, int *nl)
{
	for (;;) {
		char *p = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);

		if (p) {
			*line = lr->buf + lr->start;
			*len = (size_t)(p - *line);
			*nl = 1;
			lr->start += *len + 1;
			lr->lineno++;
			return 1;
		}
		if (lr->eof) {
			if (lr->start == lr->end)
				return 0;
			*line = lr->buf + lr->start;
			*len = lr->end - lr->start;
			*nl = 0;
			lr->start = lr->end;
			lr->lineno++;
			return 1;
		}
		if (lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
			lr->end -= lr->start;
			lr->start = 0;
		}
		if (lr->end == lr->cap) {
			snprintf(lr->err, sizeof(lr->err), "line longer than %d bytes",
				 REC_MAX_LINE);
			lr->lineno++;
			return -1;
		}
		{
			int n = gzread(lr->g, lr->buf + lr->end, (unsigned)(lr->cap - lr->end));
			int zerr;
			const char *m;

			if (n < 0) {
				m = gzerror(lr->g, &zerr);
				snprintf(lr->err, sizeof(lr->err), "read error: %s",
					 zerr == Z_ERRNO ? strerror(errno) : m);
				lr->lineno++;
				return -1;
			}
			if (n == 0) {
				m = gzerror(lr->g, &zerr);
				if (zerr != Z_OK && zerr != Z_STREAM_END) {
					snprintf(lr->err, sizeof(lr->err),
						 "compressed data damaged: %s", m);
					lr->lineno++;
					return -1;
				}
				lr->eof = 1;
			}
			lr->end += (size_t)n;
		}
	}
}

struct vline {
	cJSON *j;
	uint64_t seq;
	const char *kind;
	unsigned char prev[32];
};

/* Parse the fields every line has; NULL on success, else why not. */
static const char *vline_parse(struct vline *v, const char *line, size_t len)
{
	const char *end = NULL;
	cJSON *it;

	memset(v, 0, sizeof(*v));
	v->j = cJSON_ParseWithLengthOpts(line, len, &end, 0);
	if (!v->j || end != line + len)
		return "not valid JSON";
	if (!cJSON_IsObject(v->j))
		return "not a JSON object";
	it = cJSON_GetObjectItemCaseSensitive(v->j, "seq");
	if (!cJSON_IsNumber(it) || it->valuedouble < 1 || it->valuedouble > 9007199254740992.0 ||
	    it->valuedouble != (double)(uint64_t)it->valuedouble)
		return "no valid \"seq\"";
	v->seq = (uint64_t)it->valuedouble;
	it = cJSON_GetObjectItemCaseSensitive(v->j, "kind");
	if (!cJSON_IsString(it))
		return "no \"kind\"";
	v->kind = it->valuestring;
	it = cJSON_GetObjectItemCaseSensitive(v->j, "prev");
	if (!cJSON_IsString(it) || rec_unhex(it->valuestring, strlen(it->valuestring), v->prev, 32))
		return "no valid \"prev\" hash";
	return NULL;
}

static const char *vstr(const struct vline *v, const char *k)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(v->j, k);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The signature is the last member: ...,"sig":"<128 hex>"} and covers what precedes ,"sig". */
static int sig_ok(const char *line, size_t len, const unsigned char pk[32])
{
	static const char tag[] = ",\"sig\":\"";
	size_t pos, dl = sizeof(REC_SIG_DOMAIN) - 1;
	unsigned char sig[64], *msg;
	int ok;

	if (len < 8 + 128 + 2 + 1)
		return 0;
	pos = len - 2 - 128 - 8;
	if (memcmp(line + pos, tag, 8) != 0 || memcmp(line + len - 2, "\"}", 2) != 0 ||
	    rec_unhex(line + pos + 8, 128, sig, 64) < 0)
		return 0;
	msg = xmalloc(dl + pos);
	memcpy(msg, REC_SIG_DOMAIN, dl);
	memcpy(msg + dl, line, pos);
	ok = crypto_sign_verify_detached(sig, msg, dl + pos, pk) == 0;
	free(msg);
	return ok;
}

static enum rec_status fail(struct rec_verify_result *res, enum rec_status st, const char *file,
			    uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum rec_status fail(struct rec_verify_result *res, enum rec_status st, const char *file,
			    uint64_t line, const char *fmt, ...)
{
	va_list ap;

	res->status = st;
	mg_strlcpy(res->bad_file, file, sizeof(res->bad_file));
	res->bad_line = line;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
	return st;
}

struct vstate {
	unsigned char head[32]; /* hash of the last line */
	uint64_t expect;	/* next seq; 0 before the first line */
	int have_key;
	unsigned char pk[32];
	char key_id[17];
	int last_final;	   /* the last line was a closing checkpoint */
	char cp_file[256]; /* where the unsigned tail starts */
	uint64_t cp_line;
	int mid_open; /* an earlier file ended without a closing checkpoint */
	char mid_reason[256];
	char mid_file[256];
	uint64_t mid_line;
};

static enum rec_status check_genesis(struct vstate *s, struct vline *v, const char *line,
				     size_t len, const char *path, uint64_t ln, size_t fi,
				     const unsigned char *pinned, struct rec_verify_result *res)
{
	const char *pub = vstr(v, "pubkey"), *kid = vstr(v, "key_id");
	unsigned char pk[32];
	char id[17], pid[17];
	static const unsigned char zero[32];

	if (strcmp(v->kind, "genesis") != 0)
		return fail(res, REC_TAMPERED, path, ln,
			    "first line is a \"%s\" line, not the genesis line: the beginning of "
			    "the file was removed",
			    v->kind);
	if (!pub || rec_unhex(pub, strlen(pub), pk, 32) < 0)
		return fail(res, REC_TAMPERED, path, ln, "genesis line has no valid public key");
	rec_key_id(pk, id);
	if (!kid || strcmp(kid, id) != 0)
		return fail(res, REC_TAMPERED, path, ln,
			    "genesis key_id does not match its public key");
	if (pinned && memcmp(pinned, pk, 32) != 0) {
		rec_key_id(pinned, pid);
		return fail(res, REC_TAMPERED, path, ln,
			    "log is signed by key %s, not the trusted key %s given with --pubkey",
			    id, pid);
	}
	if (!sig_ok(line, len, pk))
		return fail(res, REC_TAMPERED, path, ln,
			    "genesis signature does not verify: the line was modified");
	if (fi == 0) {
		res->continues = memcmp(v->prev, zero, 32) != 0;
		res->first_seq = v->seq;
	} else {
		if (v->seq != s->expect)
			return fail(res, REC_TAMPERED, path, ln,
				    "file does not continue the previous one: starts at seq %llu, "
				    "expected %llu (files missing or given out of order)",
				    (unsigned long long)v->seq, (unsigned long long)s->expect);
		if (memcmp(v->prev, s->head, 32) != 0)
			return fail(res, REC_TAMPERED, path, ln,
				    "file does not continue the previous one: its prev is not the "
				    "hash of that file's last line");
	}
	memcpy(s->pk, pk, 32);
	mg_strlcpy(s->key_id, id, sizeof(s->key_id));
	s->have_key = 1;
	return REC_INTACT;
}

/* Peek at the next line's seq, to tell a reordering from a deletion. */
static int peek_seq(struct lreader *lr, uint64_t *seq)
{
	const char *l;
	size_t n;
	int nl, ok = 0;
	struct vline v;

	if (lr_next(lr, &l, &n, &nl) != 1 || !nl)
		return 0;
	if (!vline_parse(&v, l, n)) {
		*seq = v.seq;
		ok = 1;
	}
	cJSON_Delete(v.j);
	return ok;
}

static enum rec_status check_line(struct vstate *s, struct lreader *lr, struct vline *v,
				  const char *line, size_t len, const char *path, uint64_t ln,
				  struct rec_verify_result *res)
{
	if (v->seq != s->expect) {
		unsigned long long a = (unsigned long long)v->seq,
				   e = (unsigned long long)s->expect;
		uint64_t next;

		if (v->seq < s->expect)
			return fail(res, REC_TAMPERED, path, ln,
				    "seq %llu where %llu was expected: a line was inserted, "
				    "duplicated or moved here",
				    a, e);
		if (peek_seq(lr, &next) && next == s->expect)
			return fail(res, REC_TAMPERED, path, ln,
				    "lines out of order: seq %llu comes before seq %llu", a, e);
		return fail(res, REC_TAMPERED, path, ln,
			    "seq %llu where %llu was expected: %llu line(s) deleted before this "
			    "line",
			    a, e, a - e);
	}
	if (memcmp(v->prev, s->head, 32) != 0) {
		/* the line before this one is the suspect: it no longer counts as verified */
		res->lines--;
		res->last_seq--;
		return fail(res, REC_TAMPERED, path, ln - 1,
			    "line %llu was modified: its SHA-256 does not match the prev recorded "
			    "in line %llu (or that prev was edited)",
			    (unsigned long long)(ln - 1), (unsigned long long)ln);
	}
	if (strcmp(v->kind, "genesis") == 0)
		return fail(res, REC_TAMPERED, path, ln,
			    "a genesis line in the middle of a file: lines from another log were "
			    "inserted");
	if (strcmp(v->kind, "checkpoint") == 0) {
		const char *head = vstr(v, "head"), *kid = vstr(v, "key_id");
		unsigned char h[32];

		if (!head || rec_unhex(head, strlen(head), h, 32) < 0 || memcmp(h, s->head, 32))
			return fail(res, REC_TAMPERED, path, ln,
				    "checkpoint head does not match the chain before it");
		if (!kid || strcmp(kid, s->key_id) != 0)
			return fail(res, REC_TAMPERED, path, ln,
				    "checkpoint names key %s, but the log's key is %s",
				    kid ? kid : "(none)", s->key_id);
		if (!sig_ok(line, len, s->pk))
			return fail(
			    res, REC_TAMPERED, path, ln,
			    "checkpoint signature does not verify: the line was modified or "
			    "signed by another key");
		res->checkpoints++;
		res->unsigned_tail = 0;
		s->last_final = vstr(v, "final") != NULL;
		mg_strlcpy(s->cp_file, path, sizeof(s->cp_file));
		s->cp_line = ln + 1;
	} else {
		res->unsigned_tail++;
		s->last_final = 0;
	}
	return REC_INTACT;
}

static enum rec_status verify_file(struct vstate *s, const char *path, size_t fi, size_t n,
				   const unsigned char *pinned, struct rec_verify_result *res)
{
	struct lreader lr;
	const char *line;
	size_t len;
	int nl, r;
	enum rec_status st = REC_INTACT;

	if (lr_open(&lr, path) < 0)
		return fail(res, REC_ERROR, path, 0, "cannot open: %s", strerror(errno));
	while ((r = lr_next(&lr, &line, &len, &nl)) == 1) {
		struct vline v;
		const char *why;
		uint64_t ln = lr.lineno;

		if (!nl) {
			if (fi + 1 < n)
				st = fail(res, REC_TAMPERED, path, ln,
					  "incomplete line at the end of a file that later files "
					  "continue");
			else
				st =
				    fail(res, REC_TORN, path, ln,
					 "incomplete last line (%zu bytes, no newline): the writer "
					 "stopped mid-write; every line before it verified",
					 len);
			break;
		}
		if ((why = vline_parse(&v, line, len))) {
			cJSON_Delete(v.j);
			st = fail(res, REC_TAMPERED, path, ln, "not a recorder line: %s", why);
			break;
		}
		if (ln == 1)
			st = check_genesis(s, &v, line, len, path, ln, fi, pinned, res);
		else
			st = check_line(s, &lr, &v, line, len, path, ln, res);
		if (st == REC_INTACT) {
			crypto_hash_sha256(s->head, (const unsigned char *)line, len);
			s->expect = v.seq + 1;
			res->last_seq = v.seq;
			res->lines++;
			if (ln == 1) {
				s->last_final = 0;
				res->unsigned_tail = 0;
				mg_strlcpy(s->cp_file, path, sizeof(s->cp_file));
				s->cp_line = 2;
			}
		}
		cJSON_Delete(v.j);
		if (st != REC_INTACT)
			break;
	}
	if (r < 0 && st == REC_INTACT)
		st = fail(res, REC_TAMPERED, path, lr.lineno, "%s", lr.err);
	if (st == REC_INTACT && lr.lineno == 0)
		st = fail(res, fi + 1 < n ? REC_TAMPERED : REC_TRUNCATED, path, 1,
			  "empty file: not even the genesis line");
	if (st == REC_INTACT && fi + 1 < n && !s->last_final && !s->mid_open) {
		s->mid_open = 1;
		mg_strlcpy(s->mid_file, s->cp_file, sizeof(s->mid_file));
		s->mid_line = s->cp_line;
		snprintf(s->mid_reason, sizeof(s->mid_reason),
			 "%s ends without a closing checkpoint (%llu unsigned line(s))", path,
			 (unsigned long long)res->unsigned_tail);
	}
	lr_close(&lr);
	return st;
}

enum rec_status rec_verify_files(const char *const *paths, size_t n, const unsigned char *pinned_pk,
				 struct rec_verify_result *res)
{
	struct vstate s;
	enum rec_status st = REC_INTACT;

	memset(res, 0, sizeof(*res));
	memset(&s, 0, sizeof(s));
	if (sodium_init() < 0)
		return fail(res, REC_ERROR, "", 0, "libsodium failed to initialise");
	if (n == 0)
		return fail(res, REC_ERROR, "", 0, "no file given");
	for (size_t i = 0; i < n && st == REC_INTACT; i++)
		st = verify_file(&s, paths[i], i, n, pinned_pk, res);
	mg_strlcpy(res->key_id, s.key_id, sizeof(res->key_id));
	res->key_pinned = pinned_pk != NULL && s.have_key;
	rec_hex(s.head, 32, res->head);
	if (st != REC_INTACT)
		return st;
	if (s.mid_open)
		return fail(res, REC_TRUNCATED, s.mid_file, s.mid_line, "%s", s.mid_reason);
	if (!s.last_final && res->unsigned_tail == 0)
		return fail(res, REC_TRUNCATED, s.cp_file, s.cp_line,
			    "no closing checkpoint: the log ends at a periodic checkpoint (the "
			    "writer is still running, crashed, or the end of the log was cut off)");
	if (!s.last_final)
		return fail(res, REC_TRUNCATED, s.cp_file, s.cp_line,
			    "no closing checkpoint: the last %llu line(s) are not covered by a "
			    "signature (the writer is still running, crashed, or the end of the "
			    "log was cut off)",
			    (unsigned long long)res->unsigned_tail);
	res->status = REC_INTACT;
	return REC_INTACT;
}
