#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decode.h"
#include "jsonpath.h"
#include "dlp.h"
#include "dlp_rules.h"
#include "mpm.h"
#include "xmalloc.h"

#define SCANNER "dlp"
#define PCRE_WINDOW 4096 /* bytes after a candidate the confirmation may read */
#define MAX_SPANS 64	 /* reported secret spans per layer (for the generic rules) */
#define MAX_DEFER 128	 /* generic candidates held until the specific rules ran */
#define MAX_SEEN 128	 /* secrets already reported in one call */
#define MAX_LOW 16	 /* heuristic findings per call (the findings array holds 64) */
#define CONCAT_MAX 65536 /* joined string arguments scanned as one text */
#define CONCAT_LEAVES 256
#define JSON_DEPTH 64
#define ENV_MIN 8
#define ENV_MAX 65536

struct envsec {
	char name[64];
	char *v;
	size_t n;
};

static struct {
	struct mpm *db;
	pcre2_code **re; /* per rule, NULL when the rule has no confirmation */
	unsigned *width; /* per rule: fixed match width (start = end - width), 0: see mode */
	unsigned *minw, *maxw;
	unsigned char *mode; /* enum from_mode */
	pcre2_code **reu;    /* M_WINDOW: the prefilter, unanchored, to find where it started */
	struct envsec *env;
	size_t nenv;
} G;

/*
 * How the start of a prefilter match is found. Asking Vectorscan for it (SOM)
 * made the whole database five times slower, so it is the exception.
 */
enum from_mode {
	M_FIXED,  /* end - width */
	M_VALUE,  /* generic rules: the match ends at the assignment; the value follows */
	M_SCHEME, /* back from userinfo's '@' to the scheme */
	M_WINDOW, /* the prefilter searched with PCRE2 a little before the end */
	M_SOM,	  /* Vectorscan reports it: card numbers (all digits, no anchor) */
};

#define BACK_MAX 256 /* how far before the end a variable-width match may start */

struct span {
	size_t a, b;
};

/*
 * The string arguments of one message are scanned as one text: first joined
 * without separators (part A: a token cut in pieces), then one per line
 * (part B). A span inside one argument is reported at that argument's path.
 */
struct leafmap {
	size_t n;
	const size_t *a, *b; /* start of leaf i in part A and in part B */
	const size_t *len;
	char (*path)[128];
};

struct seen {
	uint64_t secret, where;
};

struct scan {
	struct findings *out;
	const char *where;
	const char *chain;    /* decoders applied to this layer, NULL for the raw text */
	const char *note;     /* e.g. "split across 3 arguments" */
	int concat;	      /* joined arguments: report only secrets no single argument showed */
	const size_t *bounds; /* raw joined text: where each argument starts (sorted) */
	size_t nbounds;
	const struct leafmap *map; /* raw joined text: which argument a span came from */
	pcre2_match_data *md;
	size_t nlow; /* heuristic findings added: capped so they cannot crowd out the rest */
	struct seen seen[MAX_SEEN];
	size_t nseen;
	/* per layer */
	const char *buf;
	size_t len;
	uint64_t layer; /* tls_last entries of this layer carry this number */
	struct span spans[MAX_SPANS];
	size_t nspans;
	struct {
		unsigned id;
		size_t from, to;
	} defer[MAX_DEFER];
	size_t ndefer;
};

/* ---- small helpers ---- */

static uint64_t fnv(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

double dlp_entropy(const char *s, size_t n)
{
	unsigned cnt[256] = {0};
	double e = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		cnt[(unsigned char)s[i]]++;
	for (int i = 0; i < 256; i++) {
		if (cnt[i]) {
			double p = (double)cnt[i] / (double)n;

			e -= p * log2(p);
		}
	}
	return e;
}

static int in_ext(int ext, unsigned char c)
{
	if (isalnum(c))
		return ext != X_NONE && (ext != X_HEX || isxdigit(c));
	switch (ext) {
	case X_B64URL:
		return c == '-' || c == '_';
	case X_B64:
		return c == '+' || c == '/' || c == '=';
	case X_B64ANY:
		return c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
	case X_TOKEN:
		return c == '-' || c == '_' || c == '.';
	default:
		return 0;
	}
}

static int classes(const char *s, size_t n, int *up, int *lo, int *dg)
{
	*up = *lo = *dg = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isupper(c))
			*up = 1;
		else if (islower(c))
			*lo = 1;
		else if (isdigit(c))
			*dg = 1;
	}
	return *up + *lo + *dg;
}

static int ci_contains(const char *s, size_t n, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i + wl <= n; i++)
		if (strncasecmp(s + i, w, wl) == 0)
			return 1;
	return 0;
}

/*
 * Values people write where a secret would go in examples and templates.
 * A finding on these would teach users to ignore the scanner.
 */
static int placeholder(const char *s, size_t n)
{
	static const char *const words[] = {
	    "changeme", "change_me",   "password", "passwd",   "secret", "example",   "sample",
	    "dummy",	"placeholder", "redacted", "your_",    "your-",	 "yourpass",  "<",
	    ">",	"${",	       "{{",	   "%s",       "xxxx",	 "****",      "....",
	    "todo",	"fixme",       "insert",   "replace",  "null",	 "undefined", "none",
	    "empty",	"test1234",    "12345678", "abcdefgh", "qwerty",
	};
	int same = 1;

	if (n == 0)
		return 1;
	for (size_t i = 1; i < n; i++)
		if (s[i] != s[0])
			same = 0;
	if (same)
		return 1;
	if (s[0] == '$' || s[0] == '%' || s[0] == '{' || s[0] == '<' || s[0] == '[')
		return 1;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (ci_contains(s, n, words[i]))
			return 1;
	return 0;
}

/* process.env.X, os.environ, getenv(...), settings.DB_PASSWORD: a reference, not a value. */
static int reference(const char *s, size_t n)
{
	int dot = 0, other = 0;

	if (memchr(s, '(', n) || ci_contains(s, n, "process.env") || ci_contains(s, n, "environ"))
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.')
			dot = 1;
		else if (!isalpha((unsigned char)s[i]) && s[i] != '_')
			other = 1;
	}
	return dot && !other;
}

/* Does an argument start at off in the joined text? Then off is a token boundary. */
static int at_bound(const struct scan *c, size_t off)
{
	size_t lo = 0, hi = c->nbounds;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->bounds[mid] == off)
			return 1;
		if (c->bounds[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- validators ---- */

static const char B62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

int dlp_base62_crc_ok(const char *tok, size_t n)
{
	const char *us = memchr(tok, '_', n);
	char want[7];
	uLong crc;
	size_t p;

	if (!us)
		return 0;
	p = (size_t)(us - tok) + 1;
	if (n - p != 36)
		return 0;
	crc = crc32(0L, (const Bytef *)tok + p, 30);
	for (int i = 5; i >= 0; i--) {
		want[i] = B62[crc % 62];
		crc /= 62;
	}
	want[6] = '\0';
	return memcmp(tok + p + 30, want, 6) == 0;
}

int dlp_luhn_ok(const char *d, size_t n)
{
	unsigned sum = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned)(d[n - 1 - i] - '0');

		if (v > 9)
			return 0;
		if (i % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return sum % 10 == 0;
}

static int iin_ok(const char *d, size_t n)
{
	int p2 = (d[0] - '0') * 10 + (d[1] - '0');
	int p3 = p2 * 10 + (d[2] - '0');
	int p4 = p3 * 10 + (d[3] - '0');

	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19; /* Visa */
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return n == 16; /* Mastercard */
	if (p2 == 34 || p2 == 37)
		return n == 15; /* American Express */
	if (p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649))
		return n >= 16 && n <= 19; /* Discover */
	if (p4 >= 3528 && p4 <= 3589)
		return n >= 16 && n <= 19; /* JCB */
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
		return n >= 14 && n <= 19; /* Diners Club */
	if (p2 == 62)
		return n >= 16 && n <= 19; /* UnionPay */
	return 0;
}

static int v_card(const struct scan *c, size_t from, size_t *s1)
{
	char d[20];
	size_t nd = 0, i = from, groups[8], ng = 0, glen = 0;
	char sep = 0;
	int distinct = 0, seen[10] = {0};

	if (from > 0 && (isdigit((unsigned char)c->buf[from - 1]) || c->buf[from - 1] == '-' ||
			 c->buf[from - 1] == '.'))
		return -1;
	while (i < c->len) {
		unsigned char ch = (unsigned char)c->buf[i];

		if (isdigit(ch)) {
			if (nd == sizeof(d))
				return -1;
			d[nd++] = (char)ch;
			glen++;
			i++;
			continue;
		}
		if ((ch == ' ' || ch == '-') && i + 1 < c->len &&
		    isdigit((unsigned char)c->buf[i + 1]) && (sep == 0 || sep == (char)ch) &&
		    ng < 7) {
			sep = (char)ch;
			groups[ng++] = glen;
			glen = 0;
			i++;
			continue;
		}
		break;
	}
	if (i < c->len && (c->buf[i] == '.' || isalnum((unsigned char)c->buf[i])))
		return -1;
	groups[ng++] = glen;
	if (nd < 13 || nd > 19 || !iin_ok(d, nd) || !dlp_luhn_ok(d, nd))
		return -1;
	for (size_t k = 0; k < nd; k++)
		if (!seen[d[k] - '0']++)
			distinct++;
	*s1 = i;
	if (distinct <= 3)
		return CONF_LOW; /* 4111 1111 1111 1111 and friends: test numbers */
	if (ng == 4 && groups[0] == 4 && groups[1] == 4 && groups[2] == 4 && groups[3] >= 1)
		return CONF_HIGH;
	if (ng == 3 && groups[0] == 4 && groups[1] == 6 && groups[2] == 5)
		return CONF_HIGH; /* Amex grouping */
	{
		size_t back = from > 48 ? from - 48 : 0;
		const char *ctx = c->buf + back;
		size_t cn = from - back;

		if (ci_contains(ctx, cn, "card") || ci_contains(ctx, cn, "credit") ||
		    ci_contains(ctx, cn, "visa") || ci_contains(ctx, cn, "pan") ||
		    ci_contains(ctx, cn, "amex") || ci_contains(ctx, cn, "mastercard") ||
		    ci_contains(ctx, cn, "cc"))
			return CONF_HIGH;
	}
	return CONF_LOW; /* a bare Luhn-valid number: could be an id */
}

static int v_jwt(const struct scan *c, size_t from, size_t *s1)
{
	const char *b = c->buf;
	size_t i = from, h0 = from, h1, p0, p1, g0, g1;
	unsigned char hdr[1024];
	unsigned char pl[16];
	size_t hn, pn;
	int none;

	while (i < c->len && in_ext(X_B64URL, (unsigned char)b[i]))
		i++;
	h1 = i;
	if (i >= c->len || b[i] != '.')
		return -1;
	p0 = ++i;
	while (i < c->len && in_ext(X_B64URL, (unsigned char)b[i]))
		i++;
	p1 = i;
	if (p1 - p0 < 4 || i >= c->len || b[i] != '.')
		return -1;
	g0 = ++i;
	while (i < c->len && in_ext(X_B64URL, (unsigned char)b[i]))
		i++;
	g1 = i;
	hn = dec_base64(b + h0, h1 - h0, hdr, sizeof(hdr) - 1, DEC_B64_URL);
	if (hn == DEC_ERR || hn < 2 || hdr[0] != '{')
		return -1;
	hdr[hn] = '\0';
	if (!strstr((char *)hdr, "\"alg\""))
		return -1;
	/* The payload must be base64url too; its first bytes are a JSON object. */
	pn = dec_base64(b + p0, ((p1 - p0) < 20 ? (p1 - p0) : 20) & ~(size_t)3, pl, sizeof(pl),
			DEC_B64_URL);
	if (pn == DEC_ERR || pn == 0 || pl[0] != '{')
		return -1;
	*s1 = g1;
	none = strstr((char *)hdr, "\"none\"") != NULL;
	return (!none && g1 - g0 >= 16) ? CONF_HIGH : CONF_LOW;
}

static int v_discord(const char *s, size_t n)
{
	const char *dot = memchr(s, '.', n);
	unsigned char id[32];
	size_t k;

	if (!dot)
		return -1;
	k = dec_base64(s, (size_t)(dot - s), id, sizeof(id), DEC_B64_URL);
	if (k == DEC_ERR || k < 17 || k > 20)
		return -1;
	for (size_t i = 0; i < k; i++)
		if (!isdigit(id[i]))
			return -1;
	return CONF_HIGH;
}

static uint32_t bech32_polymod(const unsigned char *v, size_t n)
{
	static const uint32_t g[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3};
	uint32_t chk = 1;

	for (size_t i = 0; i < n; i++) {
		uint32_t top = chk >> 25;

		chk = (chk & 0x1ffffff) << 5 ^ v[i];
		for (int k = 0; k < 5; k++)
			if ((top >> k) & 1)
				chk ^= g[k];
	}
	return chk;
}

static int v_bech32(const char *s, size_t n)
{
	static const char cs[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
	unsigned char v[256];
	size_t sep = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] == '1')
			sep = i;
	if (sep == 0 || sep * 2 + 1 + (n - sep - 1) > sizeof(v))
		return -1;
	for (size_t i = 0; i < sep; i++)
		v[k++] = (unsigned char)tolower((unsigned char)s[i]) >> 5;
	v[k++] = 0;
	for (size_t i = 0; i < sep; i++)
		v[k++] = (unsigned char)tolower((unsigned char)s[i]) & 31;
	for (size_t i = sep + 1; i < n; i++) {
		const char *p = strchr(cs, tolower((unsigned char)s[i]));

		if (!p || !*p)
			return -1;
		v[k++] = (unsigned char)(p - cs);
	}
	return bech32_polymod(v, k) == 1 ? CONF_HIGH : -1;
}

/* A 40-character base64 run that looks random near an access key id: the secret key. */
static int v_aws_id(const struct scan *c, size_t from, size_t to)
{
	size_t a = from > 600 ? from - 600 : 0, b = to + 600 < c->len ? to + 600 : c->len;
	size_t i = a;

	while (i < b) {
		size_t j = i;
		int up, lo, dg;

		while (j < c->len &&
		       (isalnum((unsigned char)c->buf[j]) || c->buf[j] == '/' || c->buf[j] == '+'))
			j++;
		if (j - i == 40 && classes(c->buf + i, 40, &up, &lo, &dg) == 3 &&
		    dlp_entropy(c->buf + i, 40) >= 4.0)
			return CONF_HIGH;
		i = j + 1;
	}
	return CONF_LOW;
}

static int v_pem(const struct scan *c, size_t to, size_t *s1)
{
	size_t i = to, body = 0;

	/* RFC 1421 style headers (Proc-Type:, DEK-Info:) come before the body. */
	for (int line = 0; line < 4; line++) {
		size_t j = i;

		while (j < c->len && (c->buf[j] == '\r' || c->buf[j] == '\n' || c->buf[j] == ' '))
			j++;
		if (j + 2 < c->len && c->buf[j] == '\\' && c->buf[j + 1] == 'n')
			j += 2;
		size_t k = j;

		while (k < c->len && (isalnum((unsigned char)c->buf[k]) || c->buf[k] == '-'))
			k++;
		if (k < c->len && c->buf[k] == ':' && k > j) {
			while (k < c->len && c->buf[k] != '\n')
				k++;
			i = k;
			continue;
		}
		break;
	}
	while (i < c->len && body < 4096) {
		unsigned char ch = (unsigned char)c->buf[i];

		if (isalnum(ch) || ch == '+' || ch == '/' || ch == '=') {
			body++;
			i++;
		} else if (isspace(ch)) {
			i++;
		} else if (ch == '\\' && i + 1 < c->len &&
			   (c->buf[i + 1] == 'n' || c->buf[i + 1] == 'r')) {
			i += 2;
		} else {
			break;
		}
	}
	if (body < 40)
		return -1; /* the header alone: documentation, a grep pattern */
	*s1 = i;
	return CONF_HIGH;
}

static int v_basic(const char *s, size_t n)
{
	unsigned char out[512];
	size_t k = dec_base64(s, n, out, sizeof(out), DEC_B64_STD);
	unsigned char *colon;

	if (k == DEC_ERR || k < 3 || !dec_is_text(out, k))
		return -1;
	colon = memchr(out, ':', k);
	if (!colon || colon == out || (size_t)(colon - out) + 1 >= k)
		return -1;
	if (placeholder((char *)colon + 1, k - (size_t)(colon - out) - 1))
		return -1;
	return CONF_HIGH;
}

static int generic_ok(const char *s, size_t n)
{
	int up, lo, dg;

	if (n < 12 || placeholder(s, n) || reference(s, n))
		return 0;
	if (ci_contains(s, n, "://") || s[0] == '/' || s[0] == '.' || s[0] == '~')
		return 0;
	classes(s, n, &up, &lo, &dg);
	if (!dg || !(up || lo))
		return 0;
	return dlp_entropy(s, n) >= 3.5;
}

static int password_ok(const char *s, size_t n)
{
	if (n < 8 || placeholder(s, n) || reference(s, n))
		return 0;
	return dlp_entropy(s, n) >= 2.5;
}

static const char *const db_schemes[] = {"postgres", "mysql", "mariadb",   "mongodb", "redis",
					 "amqp",     "mssql", "sqlserver", "jdbc"};

static int v_urlpass(const struct scan *c, const struct dlp_rule *r, size_t from, const char *pw,
		     size_t n)
{
	if (n < 3 || placeholder(pw, n))
		return -1;
	if (strcmp(r->name, "odbc-connection-string") == 0) {
		size_t back = from > 400 ? from - 400 : 0;
		const char *b = c->buf + back;
		size_t bn = from - back;

		if (!ci_contains(b, bn, "server=") && !ci_contains(b, bn, "data source=") &&
		    !ci_contains(b, bn, "host=") && !ci_contains(b, bn, "dsn=") &&
		    !ci_contains(b, bn, "user id=") && !ci_contains(b, bn, "uid="))
			return -1;
	}
	if (strcmp(r->name, "url-credentials") == 0) {
		for (size_t i = 0; i < sizeof(db_schemes) / sizeof(db_schemes[0]); i++)
			if (strncasecmp(c->buf + from, db_schemes[i], strlen(db_schemes[i])) == 0)
				return -1; /* the scheme's own rule reports it */
	}
	/* user == password: a default such as postgres:postgres, not a secret. */
	{
		const char *us = c->buf + from;
		const char *end = pw;
		const char *p = end;

		while (p > us && p[-1] != '/' && p[-1] != '\n')
			p--;
		if ((size_t)(end - 1 - p) == n && memcmp(p, pw, n) == 0)
			return -1;
	}
	return CONF_HIGH;
}

/* ---- reporting ---- */

static int overlaps(const struct scan *c, size_t a, size_t b)
{
	for (size_t i = 0; i < c->nspans; i++)
		if (a < c->spans[i].b && c->spans[i].a < b)
			return 1;
	return 0;
}

/* Record a secret once per (where, value); in concat mode, once per value. */
static int first_sighting(struct scan *c, const char *where, int concat, const char *s, size_t n)
{
	uint64_t hs = fnv(s, n), hw = fnv(where, strlen(where));

	for (size_t i = 0; i < c->nseen; i++)
		if (c->seen[i].secret == hs && (concat || c->seen[i].where == hw))
			return 0;
	if (c->nseen < MAX_SEEN) {
		c->seen[c->nseen].secret = hs;
		c->seen[c->nseen].where = hw;
		c->nseen++;
	}
	return 1;
}

/* The argument span [a, b) of the joined text lies in, or -1 if it spans several. */
static long leaf_of(const struct leafmap *m, size_t a, size_t b)
{
	const size_t *st = a >= m->b[0] ? m->b : m->a;
	size_t lo = 0, hi = m->n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (st[mid] <= a)
			lo = mid;
		else
			hi = mid;
	}
	return (a >= st[lo] && b <= st[lo] + m->len[lo]) ? (long)lo : -1;
}

/* Where a finding at [a, b) of the current layer is reported, and whether it is a split. */
static const char *where_of(const struct scan *c, size_t a, size_t b, int *concat,
			    const char **note)
{
	*concat = c->concat;
	*note = c->note;
	if (c->map && !c->chain) {
		long i = leaf_of(c->map, a, b);

		if (i >= 0) {
			*concat = 0;
			*note = NULL;
			return c->map->path[i];
		}
	}
	return c->where;
}

static void report(struct scan *c, const char *rule, const char *what, int conf, size_t a, size_t b)
{
	char red[64];
	const char *where, *note;
	int concat;

	if (c->nspans < MAX_SPANS) {
		c->spans[c->nspans].a = a;
		c->spans[c->nspans].b = b;
		c->nspans++;
	}
	if (!conf && c->nlow >= MAX_LOW)
		return;
	where = where_of(c, a, b, &concat, &note);
	if (!first_sighting(c, where, concat, c->buf + a, b - a))
		return;
	if (!conf)
		c->nlow++;
	redact(c->buf + a, b - a, red, sizeof(red));
	findings_add(c->out, SCANNER, rule, conf ? CONF_HIGH : CONF_LOW, where, "%s %s%s%s%s%s",
		     what, red, c->chain ? " (decoded: " : "", c->chain ? c->chain : "",
		     c->chain ? ")" : "", note ? note : "");
}

static void candidate(struct scan *c, unsigned id, size_t from, size_t to)
{
	const struct dlp_rule *r = &dlp_rules[id];
	size_t s0 = from, s1 = to;
	int conf = r->conf;
	int v = CONF_HIGH;

	if (r->val == V_OPENAI) {
		size_t k = from;

		while (k > 0 && from - k < 240 && in_ext(X_B64URL, (unsigned char)c->buf[k - 1]))
			k--;
		/* sk- may be the start of the run: the '-' after "sk" is in the alphabet. */
		while (k < from && strncmp(c->buf + k, "sk-", 3) != 0)
			k++;
		if (k == from || from - k < 19)
			return;
		from = s0 = k;
	}
	if (from >= c->len)
		return; /* an assignment at the very end: no value */
	/* Inside a longer word it is not this token; "bot123:AA..." (letters, then a
	 * token that starts with a digit) and argument boundaries are boundaries. */
	if (from > 0 && isalnum((unsigned char)c->buf[from]) &&
	    isalnum((unsigned char)c->buf[from - 1]) && r->val != V_GENERIC &&
	    r->val != V_PASSWORD && !at_bound(c, from) &&
	    !(isdigit((unsigned char)c->buf[from]) && isalpha((unsigned char)c->buf[from - 1])))
		return;
	if (r->ext != X_NONE) {
		while (s1 < c->len && s1 - s0 < 4096 && in_ext(r->ext, (unsigned char)c->buf[s1])) {
			if (r->len_min && s1 - s0 >= r->len_min && at_bound(c, s1))
				break; /* the next argument starts here */
			s1++;
		}
		if ((r->len_max && s1 - s0 > r->len_max) || (r->len_min && s1 - s0 < r->len_min))
			return;
		/* Cut out of a base64 blob (an image, an archive) by its '+' and '/': chance. */
		if (r->ext != X_B64 && r->ext != X_B64ANY && s0 > 0 && s1 < c->len &&
		    strchr("+/", c->buf[s0 - 1]) && c->buf[s0 - 1] && strchr("+/=", c->buf[s1]) &&
		    c->buf[s1])
			return;
	}
	if (r->val == V_GENERIC || r->val == V_PASSWORD) {
		/* from is where the value starts (after the assignment) */
		while (s1 < c->len && s1 - s0 < 256 && !isspace((unsigned char)c->buf[s1]) &&
		       !strchr("\"',;&<>", c->buf[s1]))
			s1++;
	}
	if (G.re[id]) {
		size_t win = c->len - from < PCRE_WINDOW ? c->len - from : PCRE_WINDOW;
		int rc = pcre2_match(G.re[id], (PCRE2_SPTR)(c->buf + from), win, 0, 0, c->md, NULL);
		PCRE2_SIZE *ov;

		if (rc < 0)
			return;
		ov = pcre2_get_ovector_pointer(c->md);
		if (rc >= 2 && ov[2] != PCRE2_UNSET) {
			s0 = from + ov[2];
			s1 = from + ov[3];
		} else {
			s1 = from + ov[1];
		}
	}
	switch (r->val) {
	case V_B62CRC:
		v = dlp_base62_crc_ok(c->buf + s0, s1 - s0) ? CONF_HIGH : -1;
		break;
	case V_CARD:
		v = v_card(c, from, &s1);
		break;
	case V_JWT:
		v = v_jwt(c, from, &s1);
		break;
	case V_ENTROPY:
		v = (!placeholder(c->buf + s0, s1 - s0) && dlp_entropy(c->buf + s0, s1 - s0) >= 3.0)
			? CONF_HIGH
			: -1;
		break;
	case V_MIXED: {
		int up, lo, dg;

		v = (classes(c->buf + s0, s1 - s0, &up, &lo, &dg) >= 2 &&
		     dlp_entropy(c->buf + s0, s1 - s0) >= 3.0)
			? CONF_HIGH
			: -1;
		break;
	}
	case V_GENERIC:
		v = generic_ok(c->buf + s0, s1 - s0) ? CONF_LOW : -1;
		break;
	case V_PASSWORD:
		v = password_ok(c->buf + s0, s1 - s0) ? CONF_LOW : -1;
		break;
	case V_URLPASS:
		v = v_urlpass(c, r, from, c->buf + s0, s1 - s0);
		break;
	case V_DISCORD:
		v = v_discord(c->buf + s0, s1 - s0);
		break;
	case V_BECH32:
		v = v_bech32(c->buf + s0, s1 - s0);
		break;
	case V_AWS_ID:
		v = v_aws_id(c, s0, s1);
		break;
	case V_AZURE_KEY: {
		unsigned char k[80];

		v = dec_base64(c->buf + s0, s1 - s0, k, sizeof(k), DEC_B64_STD) == 64 ? CONF_HIGH
										      : -1;
		break;
	}
	case V_AZURE_SAS: {
		size_t back = from > 512 ? from - 512 : 0;

		v = ci_contains(c->buf + back, from - back, "sv=") ? CONF_HIGH : CONF_LOW;
		break;
	}
	case V_PEM:
		v = v_pem(c, to, &s1);
		break;
	case V_PUTTY: {
		size_t win = c->len - from < PCRE_WINDOW ? c->len - from : PCRE_WINDOW;

		v = ci_contains(c->buf + from, win, "Private-Lines:") ? CONF_HIGH : -1;
		s1 = from + win;
		break;
	}
	case V_BASIC:
		v = v_basic(c->buf + s0, s1 - s0);
		break;
	case V_OPENAI_NOSIG:
		v = memmem(c->buf + s0, s1 - s0, "T3BlbkFJ", 8) ? -1 : CONF_HIGH;
		break;
	default:
		break;
	}
	if (v < 0 || s1 <= s0)
		return;
	if (v < conf)
		conf = v;
	if ((r->val == V_GENERIC || r->val == V_PASSWORD || r->conf == CONF_LOW) &&
	    overlaps(c, s0, s1))
		return; /* a specific rule already named this value */
	report(c, r->name, r->what, conf, s0, s1);
}

/* Last candidate start per rule, tagged with the layer it belongs to (no reset per layer). */
static __thread struct {
	uint64_t layer;
	size_t from;
} tls_last[512];
static __thread uint64_t tls_layer;

static int on_match(unsigned id, unsigned long long from, unsigned long long to, void *ctx)
{
	struct scan *c = ctx;

	if (id >= dlp_nrules)
		return 0;
	if (G.mode[id] == M_FIXED) {
		from = to - G.width[id];
	} else if (G.mode[id] == M_WINDOW) {
		size_t back = G.maxw[id] < BACK_MAX ? G.maxw[id] : BACK_MAX;
		size_t w0 = to > back ? (size_t)to - back : 0;
		size_t wend = c->len - to < PCRE_WINDOW ? c->len : (size_t)to + PCRE_WINDOW;
		int rc = pcre2_match(G.reu[id], (PCRE2_SPTR)c->buf, wend, w0, 0, c->md, NULL);
		PCRE2_SIZE *ov;

		if (rc < 0)
			return 0;
		ov = pcre2_get_ovector_pointer(c->md);
		if (ov[0] + G.minw[id] > to)
			return 0; /* a later match: this end belongs to one that started too early
				   */
		from = ov[0];
	} else if (G.mode[id] == M_SCHEME) {
		/* back from '@' to "://", then over the scheme */
		size_t k = (size_t)to, lim = to > 256 ? (size_t)to - 256 : 0;

		while (k >= lim + 3 && memcmp(c->buf + k - 3, "://", 3) != 0)
			k--;
		if (k < lim + 3)
			return 0;
		k -= 3;
		while (k > 0 && (isalnum((unsigned char)c->buf[k - 1]) || c->buf[k - 1] == '+' ||
				 c->buf[k - 1] == '.' || c->buf[k - 1] == '-'))
			k--;
		from = k;
	} else if (G.mode[id] == M_VALUE) {
		/* matched up to the assignment: the value starts after blanks and quotes */
		from = to;
		while (from < c->len && strchr(" \t\"'=>", c->buf[from]) && c->buf[from])
			from++;
		to = from;
	}
	if (tls_last[id].layer == c->layer && tls_last[id].from == (size_t)from)
		return 0; /* one candidate per start (Vectorscan reports every end) */
	tls_last[id].layer = c->layer;
	tls_last[id].from = (size_t)from;
	if (dlp_rules[id].conf == CONF_LOW || dlp_rules[id].val == V_GENERIC ||
	    dlp_rules[id].val == V_PASSWORD) {
		if (c->ndefer < MAX_DEFER) {
			c->defer[c->ndefer].id = id;
			c->defer[c->ndefer].from = (size_t)from;
			c->defer[c->ndefer].to = (size_t)to;
			c->ndefer++;
			return 0;
		}
	}
	candidate(c, id, (size_t)from, (size_t)to);
	return 0;
}

/* Exact values of the proxy's own secret environment variables in this layer. */
static void env_scan(struct scan *c)
{
	for (size_t i = 0; i < G.nenv; i++) {
		const struct envsec *e = &G.env[i];
		const char *p = c->buf, *end = c->buf + c->len;

		while ((size_t)(end - p) >= e->n &&
		       (p = memmem(p, (size_t)(end - p), e->v, e->n))) {
			size_t a = (size_t)(p - c->buf), b = a + e->n;
			const char *where, *note;
			int concat;
			char red[64];

			p += e->n;
			where = where_of(c, a, b, &concat, &note);
			if (!first_sighting(c, where, concat, c->buf + a, e->n))
				continue;
			redact(c->buf + a, e->n, red, sizeof(red));
			findings_add(c->out, SCANNER, "env-secret", CONF_HIGH, where,
				     "value of the proxy's environment variable %s %s%s%s%s%s",
				     e->name, red, c->chain ? " (decoded: " : "",
				     c->chain ? c->chain : "", c->chain ? ")" : "",
				     note ? note : "");
		}
	}
}

static void scan_layer(struct scan *c, const char *s, size_t n, const char *chain)
{
	if (n == 0)
		return;
	c->buf = s;
	c->len = n;
	c->chain = chain;
	c->layer = ++tls_layer;
	c->nspans = 0;
	c->ndefer = 0;
	if (mpm_scan(G.db, s, n, on_match, c) != 0) {
		findings_add(c->out, SCANNER, "scan-error", CONF_HIGH, c->where,
			     "the pattern engine failed on this value; treated as a leak");
		return;
	}
	env_scan(c);
	/* Heuristic rules last, so that a value a provider rule named is not reported twice. */
	for (size_t i = 0; i < c->ndefer; i++)
		candidate(c, c->defer[i].id, c->defer[i].from, c->defer[i].to);
	c->ndefer = 0;
}

static void visit(const char *s, size_t n, const char *chain, void *ctx)
{
	struct scan *c = ctx;
	const size_t *b = c->bounds;
	size_t nb = c->nbounds;

	c->bounds = NULL; /* offsets of the joined text mean nothing in a decoded layer */
	c->nbounds = 0;
	scan_layer(c, s, n, chain);
	c->bounds = b;
	c->nbounds = nb;
}

static void scan_all_layers(struct scan *c, const char *s, size_t n)
{
	struct dec_limits lim = {4, 0, 12};
	size_t budget = n > (16u << 20) / 3 ? (16u << 20) : 3 * n + 4096;

	lim.budget = budget;
	scan_layer(c, s, n, NULL);
	dec_expand(s, n, &lim, visit, c);
}

static __thread pcre2_match_data *tls_md; /* one per thread, kept */

/* Only the counters are reset: the arrays are read below their counts. */
static void scan_init(struct scan *c, struct findings *out, const char *where)
{
	if (!tls_md)
		tls_md = pcre2_match_data_create(4, NULL);
	c->out = out;
	c->where = where ? where : "";
	c->chain = c->note = NULL;
	c->concat = 0;
	c->bounds = NULL;
	c->nbounds = 0;
	c->map = NULL;
	c->md = tls_md;
	c->nlow = c->nseen = 0;
	c->buf = NULL;
	c->len = 0;
	c->layer = 0;
	c->nspans = c->ndefer = 0;
}

static void scan_done(struct scan *c)
{
	c->md = NULL;
}

static int ready(struct findings *out, const char *where)
{
	if (G.db)
		return 1;
	findings_add(out, SCANNER, "not-initialized", CONF_HIGH, where ? where : "",
		     "dlp_init was not called; refusing to pass unscanned data");
	return 0;
}

void dlp_scan_text(const char *s, size_t len, const char *where, struct findings *out)
{
	struct scan c;

	if (!ready(out, where))
		return;
	scan_init(&c, out, where);
	if (c.md)
		scan_all_layers(&c, s, len);
	else
		findings_add(out, SCANNER, "scan-error", CONF_HIGH, c.where,
			     "out of memory for the matcher; treated as a leak");
	scan_done(&c);
}

/* ---- JSON ---- */

/* Is this a key whose string value is a secret by name? 1: key/token, 2: password. */
static int secret_key(const char *k)
{
	char f[64];
	size_t n = 0;
	int kind = 0;

	for (; *k && n + 1 < sizeof(f); k++)
		if (isalnum((unsigned char)*k))
			f[n++] = (char)tolower((unsigned char)*k);
	f[n] = '\0';
	if (strstr(f, "passw") || strcmp(f, "pwd") == 0 || strcmp(f, "pass") == 0 ||
	    strstr(f, "passphrase"))
		kind = 2;
	else if (strstr(f, "secret") || strstr(f, "token") || strstr(f, "apikey") ||
		 strstr(f, "accesskey") || strstr(f, "privatekey") || strstr(f, "credential") ||
		 strstr(f, "authkey") || strcmp(f, "auth") == 0 || strcmp(f, "authorization") == 0)
		kind = 1;
	if (!kind)
		return 0;
	/* pagination and bookkeeping fields that merely mention a token */
	if (strstr(f, "page") || strstr(f, "cursor") || strstr(f, "next") ||
	    strstr(f, "continuation") || strstr(f, "csrf") || strstr(f, "max") ||
	    strstr(f, "count") || strstr(f, "type") || strstr(f, "name") || strstr(f, "file") ||
	    strstr(f, "path") || strstr(f, "url"))
		return 0;
	return kind;
}

struct walk {
	struct scan *c;
	const char *leaf[CONCAT_LEAVES];
	size_t leafn[CONCAT_LEAVES];
	size_t nleaves, total;
};

/* Paths of the collected leaves (per thread, reused). */
static __thread char tls_paths[CONCAT_LEAVES][128];

/*
 * A string argument: judged by its field name here, decoded layers scanned
 * now, its raw text scanned later with the others in one pass (scan_joined).
 * Arguments past the joining bounds are scanned on their own.
 */
static void scan_string(struct walk *w, const char *key, const char *s, const char *path)
{
	struct scan *c = w->c;
	size_t n = strlen(s);
	int kind = key ? secret_key(key) : 0;

	c->where = path;
	if (kind && (kind == 2 ? password_ok(s, n) : generic_ok(s, n))) {
		c->buf = s;
		c->len = n;
		c->chain = NULL;
		c->nspans = 0;
		report(c, kind == 2 ? "password-assignment" : "generic-secret",
		       kind == 2 ? "password in a field named like one"
				 : "secret-looking value in a field named like one",
		       CONF_LOW, 0, n);
	}
	if (w->nleaves < CONCAT_LEAVES && w->total + n + 1 <= CONCAT_MAX) {
		struct dec_limits lim = {4, 3 * n + 4096, 12};

		mg_strlcpy(tls_paths[w->nleaves], path, sizeof(tls_paths[0]));
		w->leaf[w->nleaves] = s;
		w->leafn[w->nleaves] = n;
		w->nleaves++;
		w->total += n + 1;
		dec_expand(s, n, &lim, visit, c);
	} else {
		scan_all_layers(c, s, n);
	}
}

#define PATH_CAP 256

/* path holds plen bytes and room for PATH_CAP; children extend it in place. */
static void walk(struct walk *w, const cJSON *v, const char *key, char *path, size_t plen,
		 int depth)
{
	const cJSON *e;

	if (!v)
		return;
	if (depth > JSON_DEPTH) {
		findings_add(w->c->out, SCANNER, "too-deep", CONF_HIGH, path,
			     "JSON nested deeper than %d levels was not scanned", JSON_DEPTH);
		return;
	}
	if (cJSON_IsString(v) && v->valuestring) {
		scan_string(w, key, v->valuestring, path);
		return;
	}
	if (cJSON_IsArray(v)) {
		size_t i = 0;

		cJSON_ArrayForEach(e, v)
		{
			walk(w, e, key, path, jpath_index(path, plen, PATH_CAP, i++), depth + 1);
			path[plen] = '\0';
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		cJSON_ArrayForEach(e, v)
		{
			const char *k = e->string ? e->string : "";
			size_t kl = jpath_key(path, plen, PATH_CAP, k);

			/* The key goes to the server as much as the value does. */
			if (*k) {
				w->c->where = path;
				scan_all_layers(w->c, k, strlen(k));
			}
			walk(w, e, k, path, kl, depth + 1);
			path[plen] = '\0';
		}
	}
}

/*
 * The collected arguments in one pass: part A joined without separators (a
 * token cut in pieces), a newline, part B one per line (an id in one argument
 * and its secret in another). Findings inside one argument carry its path;
 * the others the parent path and a note. Part A is also decoded (a base64
 * value cut in pieces); each argument's own layers were decoded already.
 */
static void scan_joined(struct walk *w, const char *where)
{
	size_t n = 0, cap = 2 * w->total + 2, nl = w->nleaves;
	char *buf = xmalloc(cap);
	size_t *st = xcalloc(3 * nl, sizeof(*st));
	struct leafmap map = {nl, st, st + nl, st + 2 * nl, tls_paths};
	struct dec_limits lim = {4, 0, 12};
	char note[64];

	for (size_t i = 0; i < nl; i++) {
		st[i] = n;
		st[2 * nl + i] = w->leafn[i];
		memcpy(buf + n, w->leaf[i], w->leafn[i]);
		n += w->leafn[i];
	}
	buf[n++] = '\n';
	for (size_t i = 0; i < nl; i++) {
		st[nl + i] = n;
		memcpy(buf + n, w->leaf[i], w->leafn[i]);
		n += w->leafn[i];
		buf[n++] = '\n';
	}
	snprintf(note, sizeof(note), " (split across %zu string arguments)", nl);
	w->c->where = where;
	w->c->note = note;
	w->c->concat = 1;
	w->c->bounds = st;
	w->c->nbounds = nl;
	w->c->map = &map;
	/* one argument: part A is all there is to see */
	scan_layer(w->c, buf, nl > 1 ? n : w->leafn[0], NULL);
	w->c->map = NULL;
	if (nl > 1) {
		lim.budget = 3 * (map.b[0] - 1) + 4096;
		dec_expand(buf, map.b[0] - 1, &lim, visit, w->c);
	}
	w->c->note = NULL;
	w->c->concat = 0;
	w->c->bounds = NULL;
	w->c->nbounds = 0;
	free(st);
	free(buf);
}

void dlp_scan_json(const cJSON *v, const char *where, struct findings *out)
{
	struct scan c;
	struct walk wk, *w;
	char path[PATH_CAP];
	size_t pl;

	if (!ready(out, where))
		return;
	scan_init(&c, out, where);
	if (!c.md) {
		findings_add(out, SCANNER, "scan-error", CONF_HIGH, c.where,
			     "out of memory for the matcher; treated as a leak");
		return;
	}
	w = &wk;
	w->nleaves = w->total = 0;
	w->c = &c;
	pl = mg_strlcpy(path, where ? where : "", sizeof(path));
	walk(w, v, NULL, path, pl < sizeof(path) ? pl : sizeof(path) - 1, 0);
	if (w->nleaves >= 1)
		scan_joined(w, where ? where : "");
	scan_done(&c);
}

/* ---- init ---- */

static int secret_name(const char *name, size_t n)
{
	static const char *const words[] = {"KEY",	   "TOKEN",  "SECRET",
					    "PASSWORD",	   "PASSWD", "CREDENTIAL",
					    "CREDENTIALS", "AUTH",   "PRIVATE"};
	static const char *const not_last[] = {"SOCK", "SOCKET", "PATH",   "FILE",  "DIR",
					       "HOME", "URL",	 "URI",	   "HOST",  "PORT",
					       "TYPE", "MODE",	 "METHOD", "FORMAT"};
	char comp[64];
	size_t i = 0;
	int hit = 0;

	while (i < n) {
		size_t j = i, cl;

		while (j < n && name[j] != '_')
			j++;
		cl = j - i;
		if (cl > 0 && cl < sizeof(comp)) {
			for (size_t k = 0; k < cl; k++)
				comp[k] = (char)toupper((unsigned char)name[i + k]);
			comp[cl] = '\0';
			if (j >= n)
				for (size_t k = 0; k < sizeof(not_last) / sizeof(not_last[0]); k++)
					if (strcmp(comp, not_last[k]) == 0)
						return 0;
			for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
				size_t wl = strlen(words[k]);

				if (cl >= wl && strcmp(comp + cl - wl, words[k]) == 0)
					hit = 1;
			}
		}
		i = j + 1;
	}
	return hit;
}

static void free_env(void)
{
	for (size_t i = 0; i < G.nenv; i++)
		free(G.env[i].v);
	free(G.env);
	G.env = NULL;
	G.nenv = 0;
}

/* registry.example.com, https://auth.example.com/token: where, not what. */
static int plain_location(const char *v)
{
	const char *sch = strstr(v, "://");
	int dot = 0;

	if (sch)
		return strchr(sch + 3, '@') == NULL;
	for (const char *p = v; *p; p++) {
		if (*p == '.')
			dot = 1;
		else if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-' ||
			   *p == ':'))
			return 0;
	}
	return dot && isalpha((unsigned char)v[strlen(v) - 1]);
}

static void load_env(char **envp)
{
	free_env();
	for (char **e = envp; e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t nl, vl;
		int dup = 0;

		if (!eq)
			continue;
		nl = (size_t)(eq - *e);
		vl = strlen(eq + 1);
		if (vl < ENV_MIN || vl > ENV_MAX || !secret_name(*e, nl))
			continue;
		if (eq[1] == '/' || strcasecmp(eq + 1, "true") == 0 ||
		    strcasecmp(eq + 1, "false") == 0 || plain_location(eq + 1))
			continue; /* a path, a switch, a host or URL without credentials */
		for (size_t i = 0; i < G.nenv; i++)
			if (G.env[i].n == vl && memcmp(G.env[i].v, eq + 1, vl) == 0)
				dup = 1;
		if (dup)
			continue;
		G.env = xreallocarray(G.env, G.nenv + 1, sizeof(*G.env));
		snprintf(G.env[G.nenv].name, sizeof(G.env[G.nenv].name), "%.*s",
			 (int)(nl < 63 ? nl : 63), *e);
		G.env[G.nenv].v = xstrndup(eq + 1, vl);
		G.env[G.nenv].n = vl;
		G.nenv++;
	}
}

/* Card numbers are all digits with no anchor: only Vectorscan can say where one starts. */
static int som_wanted(const struct dlp_rule *r)
{
	return r->val == V_CARD && !DLP_FROM_SCHEME(r);
}

/* Undo a failed dlp_init's per-rule tables, so the next call starts over. */
static void free_widths(void)
{
	for (size_t i = 0; G.reu && i < dlp_nrules; i++)
		pcre2_code_free(G.reu[i]);
	free(G.reu);
	free(G.width);
	free(G.minw);
	free(G.maxw);
	free(G.mode);
	G.reu = NULL;
	G.width = G.minw = G.maxw = NULL;
	G.mode = NULL;
}

int dlp_init(char **envp, char *err, size_t errlen)
{
	struct mpm *m;

	if (!G.re) {
		G.re = xcalloc(dlp_nrules, sizeof(*G.re));
		for (size_t i = 0; i < dlp_nrules; i++) {
			int ec;
			PCRE2_SIZE eo;

			if (!dlp_rules[i].pcre)
				continue;
			G.re[i] =
			    pcre2_compile((PCRE2_SPTR)dlp_rules[i].pcre, PCRE2_ZERO_TERMINATED,
					  PCRE2_ANCHORED, &ec, &eo, NULL);
			if (!G.re[i]) {
				PCRE2_UCHAR msg[128];

				pcre2_get_error_message(ec, msg, sizeof(msg));
				snprintf(err, errlen, "dlp rule %s: PCRE2 at offset %zu: %s",
					 dlp_rules[i].name, (size_t)eo, (char *)msg);
				return -1;
			}
			(void)pcre2_jit_compile(G.re[i], PCRE2_JIT_COMPLETE); /* else interpreted */
		}
	}
	if (dlp_nrules > 512) {
		snprintf(err, errlen, "dlp: too many rules (%zu)", dlp_nrules);
		return -1;
	}
	/*
	 * The environment's secret values are matched with memmem, not compiled
	 * in: the rule database stays the same for every environment (mpm caches
	 * it on disk, and a secret must not end up in a cache file).
	 */
	load_env(envp);
	if (G.db)
		return 0;
	m = mpm_new();
	for (size_t i = 0; i < dlp_nrules; i++)
		mpm_add(m, (unsigned)i, dlp_rules[i].hs, som_wanted(&dlp_rules[i]) ? MPM_SOM : 0);
	if (mpm_compile(m, err, errlen) != 0) {
		mpm_free(m);
		return -1;
	}
	/* How each match's start is found, from its pattern's width bounds. */
	G.width = xcalloc(dlp_nrules, sizeof(*G.width));
	G.minw = xcalloc(dlp_nrules, sizeof(*G.minw));
	G.maxw = xcalloc(dlp_nrules, sizeof(*G.maxw));
	G.mode = xcalloc(dlp_nrules, sizeof(*G.mode));
	G.reu = xcalloc(dlp_nrules, sizeof(*G.reu));
	for (size_t i = 0; i < dlp_nrules; i++) {
		const struct dlp_rule *r = &dlp_rules[i];

		if (mpm_width(m, i, &G.minw[i], &G.maxw[i]) != 0) {
			snprintf(err, errlen, "dlp rule %s: no width", r->name);
			goto fail;
		}
		if (r->val == V_GENERIC || r->val == V_PASSWORD) {
			G.mode[i] = M_VALUE;
		} else if (DLP_FROM_SCHEME(r)) {
			G.mode[i] = M_SCHEME;
		} else if (G.minw[i] == G.maxw[i]) {
			G.mode[i] = M_FIXED;
			G.width[i] = G.minw[i];
		} else if (som_wanted(r)) {
			G.mode[i] = M_SOM;
		} else {
			int ec;
			PCRE2_SIZE eo;

			G.mode[i] = M_WINDOW;
			G.reu[i] = pcre2_compile((PCRE2_SPTR)r->hs, PCRE2_ZERO_TERMINATED, 0, &ec,
						 &eo, NULL);
			if (!G.reu[i]) {
				snprintf(err, errlen, "dlp rule %s: prefilter is not PCRE2 (%d)",
					 r->name, ec);
				goto fail;
			}
			(void)pcre2_jit_compile(G.reu[i], PCRE2_JIT_COMPLETE);
		}
	}
	G.db = m;
	return 0;
fail:
	mpm_free(m);
	free_widths();
	return -1;
}

size_t dlp_kinds(void)
{
	size_t n = 0;

	for (size_t i = 0; i < dlp_nrules; i++) {
		int dup = 0;

		for (size_t j = 0; j < i; j++)
			if (strcmp(dlp_rules[i].name, dlp_rules[j].name) == 0)
				dup = 1;
		n += !dup;
	}
	return n;
}

size_t dlp_env_secrets(void)
{
	return G.nenv;
}
