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
		/* Leet hits are wanted at every position: each opens a window to fold. */
		unsigned fl = MPM_CASELESS | (r[i].cat == TC_LEET ? 0 : MPM_SINGLEMATCH);
		int rc = mpm_add(db, base + (unsigned)i, re, fl);

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
	    add_rules(poison_rules, poison_nrules, ID_POISON) != 0) {
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

/* ---- encoded runs ---- */

#define DEC_MAX 65536 /* decoded bytes looked at per run */
#define DEC_PROBE 512 /* decoded bytes that decide text or binary */
#define RUN_MIN 24

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
			utf8proc_ssize_t k =
			    utf8proc_iterate(b + i, (utf8proc_ssize_t)(n - i > 4 ? 4 : n - i), &cp);

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

static int run_is_hex(const char *p, size_t n)
{
	if (n % 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (hexval((unsigned char)p[i]) < 0)
			return 0;
	return 1;
}

/* Decode a prefix of the run; keep it only if it reads as text. Every run is
 * probed (no cap), so benign hashes and ids in front cannot push a payload out. */
static void take_run(const char *s, size_t off, size_t len, struct thits *h)
{
	unsigned char buf[DEC_PROBE];
	size_t o;

	if (h->nruns == TS_MAXRUNS)
		return;
	o = run_is_hex(s + off, len) ? hex_decode(s + off, len, buf, sizeof(buf))
				     : b64_decode(s + off, len, buf, sizeof(buf));
	if (!looks_text(buf, o))
		return;
	h->runs[h->nruns].off = off;
	h->runs[h->nruns].len = len;
	h->nruns++;
}

static inline int is_run_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '_' || c == '-';
}

#if defined(__SSE2__)
#include <emmintrin.h>

static inline __m128i in_range(__m128i v, char lo, char hi)
{
	return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)(lo - 1))),
			     _mm_cmplt_epi8(v, _mm_set1_epi8((char)(hi + 1))));
}

/* Bit i set when byte i of the 16 is a base64/hex character (bytes >= 0x80 are negative). */
static inline unsigned run_mask16(const char *p)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(in_range(v, 'A', 'Z'), in_range(v, 'a', 'z'));

	m = _mm_or_si128(m, in_range(v, '0', '9'));
	m = _mm_or_si128(m, in_range(v, '+', '/')); /* + , - . / */
	m = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), m);
	m = _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')), m);
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

/*
 * Runs of >= 24 base64/hex characters, 16 bytes at a time: a block of all run
 * characters extends the current run, a mixed block ends it at its first gap
 * and starts a new one with its trailing run characters (a run inside one
 * block is shorter than 24 and cannot count).
 */
static void find_runs(const char *s, size_t n, struct thits *h)
{
	size_t i = 0, run = 0;

#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		unsigned m = run_mask16(s + i);

		if (m == 0xFFFF) {
			run += 16;
			continue;
		}
		if (run) {
			size_t lead = (size_t)__builtin_ctz(~m);

			run += lead;
			if (run >= RUN_MIN)
				take_run(s, i + lead - run, run, h);
		}
		/* trailing run characters at the top of the block */
		run = (size_t)(15 - (31 - __builtin_clz(~m & 0xFFFFu)));
	}
#endif
	for (; i < n; i++) {
		if (is_run_char((unsigned char)s[i])) {
			run++;
			continue;
		}
		if (run >= RUN_MIN)
			take_run(s, i - run, run, h);
		run = 0;
	}
	if (run >= RUN_MIN)
		take_run(s, n - run, run, h);
}

/* ---- scanning ---- */

#define LEET_WIN 160 /* bytes folded around digits inside words */
#define LEET_MAXWIN 32

struct sctx {
	const char *s;
	size_t len;
	struct thits *h;
	int folded;
	unsigned raw_mask;
	size_t nwin;
	size_t win[LEET_MAXWIN][2];
	int leet_all; /* too many windows: fold the whole text */
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

static void take_leet(struct sctx *x, size_t to)
{
	size_t a = to > LEET_WIN ? to - LEET_WIN : 0, b = to + LEET_WIN;

	if (b > x->len)
		b = x->len;
	if (x->nwin && a <= x->win[x->nwin - 1][1]) {
		x->win[x->nwin - 1][1] = b;
		return;
	}
	if (x->nwin == LEET_MAXWIN) {
		x->leet_all = 1;
		return;
	}
	x->win[x->nwin][0] = a;
	x->win[x->nwin][1] = b;
	x->nwin++;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, void *vctx)
{
	struct sctx *x = vctx;
	struct thits *h = x->h;
	const struct trule *r;
	unsigned bit;

	(void)from;
	r = id >= ID_POISON ? &poison_rules[id - ID_POISON] : &inject_rules[id];
	if (r->cat == TC_LEET) {
		if (!x->folded)
			take_leet(x, (size_t)to);
		return 0;
	}
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

/* Fold s[a..b) (widened to word edges) and scan the folded copy. */
static void scan_folded(const char *s, size_t len, size_t a, size_t b, struct thits *h,
			unsigned raw_mask)
{
	struct sctx x;
	char *f = NULL;
	unsigned fl = 0;
	size_t fn;

	while (a > 0 && is_run_char((unsigned char)s[a - 1]))
		a--;
	while (b < len && is_run_char((unsigned char)s[b]))
		b++;
	fn = norm_fold_punct(s + a, b - a, &f, &fl);
	h->fold_flags |= fl;
	memset(&x, 0, sizeof(x));
	x.s = f;
	x.len = fn;
	x.h = h;
	x.folded = 1;
	x.raw_mask = raw_mask;
	if (mpm_scan(db, f, fn, on_hit, &x) != 0)
		h->mask |= TS_BIT(TC_OVERRIDE);
	free(f);
}

void ts_scan(const char *s, size_t len, struct thits *h)
{
	struct sctx x;

	memset(h, 0, sizeof(*h));
	if (!db)
		return;
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.len = len;
	x.h = h;
	if (mpm_scan(db, s, len, on_hit, &x) != 0) {
		/* Engine failure must not read as "clean". */
		h->mask |= TS_BIT(TC_OVERRIDE);
		snprintf(h->ctx[TC_OVERRIDE], TS_CTX, "(pattern engine failed on this text)");
	}
	find_runs(s, len, h);
	/* Non-ASCII text is folded whole; ASCII only where digits sit inside words. */
	if (x.leet_all || !norm_is_ascii(s, len)) {
		scan_folded(s, len, 0, len, h, h->mask);
		return;
	}
	for (size_t i = 0; i < x.nwin; i++)
		scan_folded(s, len, x.win[i][0], x.win[i][1], h, h->mask);
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
