#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "mpm.h"
#include "normalize.h"
#include "textscan.h"
#include "xmalloc.h"

#define ID_POISON 10000u
#define ID_RUN 99999u

/* Encoded payloads: a run of >= 24 base64/hex characters, reported once at its end. */
#define RUN_RE "[A-Za-z0-9+/_-]{24,}={0,2}(?:[^A-Za-z0-9+/_=-]|$)"

static struct mpm *db;
static char init_err[256];
static int init_rc = -1;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/*
 * Phrase notation: a space stands for any run of non-alphanumeric bytes (so
 * "ignore previous" also matches "IGNORE...previous" and "ignore\u200bprevious").
 * Backslash escapes, [classes] and {counts} are copied unchanged. Leetspeak is
 * not spelled out in the patterns (that made the database five times slower to
 * compile); text that has digits inside words goes through norm_fold instead.
 */
char *ts_expand(const char *p)
{
	size_t cap = strlen(p) * 6 + 1, n = 0;
	char *out = xmalloc(cap);

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			out[n++] = *p++;
			out[n++] = *p;
			continue;
		}
		if (*p == '[' || *p == '{') {
			char close = *p == '[' ? ']' : '}';

			out[n++] = *p++;
			if (close == ']' && *p == ']')
				out[n++] = *p++;
			while (*p && *p != close) {
				if (*p == '\\' && p[1])
					out[n++] = *p++;
				out[n++] = *p++;
			}
			if (!*p)
				break;
			out[n++] = *p;
			continue;
		}
		if (*p == ' ') {
			memcpy(out + n, "[\\W_]+", 6);
			n += 6;
			continue;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

static int add_rules(const struct trule *r, size_t nr, unsigned base)
{
	for (size_t i = 0; i < nr; i++) {
		char *re = (r[i].flags & TS_RAW) ? xstrdup(r[i].re) : ts_expand(r[i].re);
		int rc = mpm_add(db, base + (unsigned)i, re, MPM_CASELESS | MPM_SINGLEMATCH);

		free(re);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void do_init(void)
{
	char err[200];

	if (norm_ready(err, sizeof(err)) != 0) {
		snprintf(init_err, sizeof(init_err), "normalization: %s", err);
		return;
	}
	db = mpm_new();
	if (add_rules(inject_rules, inject_nrules, 0) != 0 ||
	    add_rules(poison_rules, poison_nrules, ID_POISON) != 0 ||
	    mpm_add(db, ID_RUN, RUN_RE, 0) != 0) {
		snprintf(init_err, sizeof(init_err), "text patterns: cannot add");
		return;
	}
	if (mpm_compile(db, err, sizeof(err)) != 0) {
		snprintf(init_err, sizeof(init_err), "text patterns: %s", err);
		mpm_free(db);
		db = NULL;
		return;
	}
	init_rc = 0;
}

int ts_init(char *err, size_t errlen)
{
	pthread_once(&init_once, do_init);
	if (init_rc != 0)
		snprintf(err, errlen, "%s", init_err);
	return init_rc;
}

static int is_run_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '_' || c == '-';
}

struct sctx {
	const char *s;
	size_t len;
	struct thits *h;
	int folded;
	unsigned raw_mask;
};

static void take_ctx(char *dst, const char *s, size_t end)
{
	size_t start = end > TS_CTX - 16 ? end - (TS_CTX - 16) : 0, n = 0;

	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80)
			c = '?';
		else if (c == '"')
			c = '\'';
		else if (c == '\\')
			c = '/';
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

static void take_run(struct sctx *x, size_t end)
{
	struct thits *h = x->h;
	size_t start;

	if (end > x->len)
		end = x->len;
	if (end > 0 && !is_run_char((unsigned char)x->s[end - 1]) && x->s[end - 1] != '=')
		end--;
	start = end;
	while (start > 0 && x->s[start - 1] == '=')
		start--;
	while (start > 0 && is_run_char((unsigned char)x->s[start - 1]))
		start--;
	if (h->nruns > 0 && h->runs[h->nruns - 1].off == start)
		return;
	if (h->nruns == TS_MAXRUNS)
		return;
	h->runs[h->nruns].off = start;
	h->runs[h->nruns].len = end - start;
	h->nruns++;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, void *vctx)
{
	struct sctx *x = vctx;
	struct thits *h = x->h;
	const struct trule *r;
	unsigned bit;

	(void)from;
	if (id == ID_RUN) {
		if (!x->folded)
			take_run(x, (size_t)to);
		return 0;
	}
	r = id >= ID_POISON ? &poison_rules[id - ID_POISON] : &inject_rules[id];
	bit = TS_BIT(r->cat);
	if (x->folded && !(x->raw_mask & bit))
		h->fold_only |= bit;
	if (!(h->mask & bit) || (r->conf == TS_HIGH && !(h->high & bit)))
		take_ctx(h->ctx[r->cat], x->s, (size_t)to);
	h->mask |= bit;
	if (r->conf == TS_HIGH)
		h->high |= bit;
	return 0;
}

void ts_scan(const char *s, size_t len, struct thits *h)
{
	struct sctx x = {s, len, h, 0, 0};

	memset(h, 0, sizeof(*h));
	if (!db)
		return;
	if (mpm_scan(db, s, len, on_hit, &x) != 0) {
		/* Engine failure must not read as "clean": report it as a signal-less hit. */
		h->mask |= TS_BIT(TC_OVERRIDE);
		snprintf(h->ctx[TC_OVERRIDE], TS_CTX, "(pattern engine failed on this text)");
	}
	if ((h->mask & TS_BIT(TC_LEET)) || !norm_is_ascii(s, len)) {
		char *f = NULL;
		size_t fn = norm_fold_punct(s, len, &f, &h->fold_flags);

		x = (struct sctx){f, fn, h, 1, h->mask};
		if (mpm_scan(db, f, fn, on_hit, &x) != 0)
			h->mask |= TS_BIT(TC_OVERRIDE);
		free(f);
	}
}

/* ---- decoding of encoded runs ---- */

#define DEC_MAX 65536 /* decoded bytes looked at per run */
#define DEC_PROBE 512 /* decoded bytes that decide text or binary */

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode up to max output bytes; returns bytes written. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && o < max; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			break; /* '=' padding ends the data */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

static size_t hex_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n && o < max; i += 2)
		out[o++] = (unsigned char)(hexval((unsigned char)s[i]) << 4 |
					   hexval((unsigned char)s[i + 1]));
	return o;
}

/* Mostly printable ASCII or valid UTF-8, few control bytes: something a model reads. */
static int looks_text(const unsigned char *b, size_t n)
{
	size_t bad = 0, letters = 0;

	for (size_t i = 0; i < n;) {
		unsigned char c = b[i];

		if (c >= 0x80) {
			utf8proc_int32_t cp;
			utf8proc_ssize_t k = utf8proc_iterate(b + i, (utf8proc_ssize_t)(n - i > 4 ? 4 : n - i), &cp);

			if (k <= 0) {
				/* A sequence cut by the probe window's end is not evidence. */
				if (n - i >= 4)
					bad++;
				i++;
				continue;
			}
			letters++;
			i += (size_t)k;
			continue;
		}
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
			bad++;
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			letters++;
		i++;
	}
	return n >= 8 && bad * 20 <= n && letters * 2 >= n;
}

int ts_decode_run(const char *s, const struct trun *r, char **out, size_t *outlen,
		  const char **kind)
{
	const char *p = s + r->off;
	size_t n = r->len, o;
	int hex = n % 2 == 0;
	unsigned char *buf;

	while (n > 0 && p[n - 1] == '=')
		n--;
	for (size_t i = 0; hex && i < n; i++)
		hex = hexval((unsigned char)p[i]) >= 0;
	*kind = hex ? "hex" : "base64";
	buf = xmalloc(DEC_MAX + 1);
	/* Probe a prefix first so a large image is rejected without decoding it all. */
	o = hex ? hex_decode(p, n, buf, DEC_PROBE) : b64_decode(p, n, buf, DEC_PROBE);
	if (!looks_text(buf, o)) {
		free(buf);
		return 0;
	}
	o = hex ? hex_decode(p, n, buf, DEC_MAX) : b64_decode(p, n, buf, DEC_MAX);
	buf[o] = '\0';
	*out = (char *)buf;
	*outlen = o;
	return 1;
}
