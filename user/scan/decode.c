#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "decode.h"
#include "xmalloc.h"

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64val(unsigned char c, int urlsafe)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (urlsafe != DEC_B64_URL) {
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
	}
	if (urlsafe != DEC_B64_STD) {
		if (c == '-')
			return 62;
		if (c == '_')
			return 63;
	}
	return -1;
}

size_t dec_base64(const char *in, size_t n, unsigned char *out, size_t outcap, int urlsafe)
{
	unsigned acc = 0;
	int bits = 0;
	size_t o = 0, data = n;

	while (data > 0 && in[data - 1] == '=')
		data--;
	if (n - data > 2 || data % 4 == 1)
		return DEC_ERR;
	if (n != data && n % 4 != 0)
		return DEC_ERR; /* padded input must be whole quanta */
	for (size_t i = 0; i < data; i++) {
		int v = b64val((unsigned char)in[i], urlsafe);

		if (v < 0)
			return DEC_ERR;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return DEC_ERR;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

size_t dec_hex(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	if (n % 2 != 0 || n / 2 > outcap)
		return DEC_ERR;
	for (size_t i = 0; i < n; i += 2) {
		int a = hexval((unsigned char)in[i]), b = hexval((unsigned char)in[i + 1]);

		if (a < 0 || b < 0)
			return DEC_ERR;
		out[i / 2] = (unsigned char)(a << 4 | b);
	}
	return n / 2;
}

static int b32val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

size_t dec_base32(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	unsigned long long acc = 0;
	int bits = 0;
	size_t o = 0, data = n, r;

	while (data > 0 && in[data - 1] == '=')
		data--;
	if (n - data > 6)
		return DEC_ERR;
	if (n != data && n % 8 != 0)
		return DEC_ERR;
	r = data % 8;
	if (r == 1 || r == 3 || r == 6)
		return DEC_ERR; /* no whole number of bytes ends there */
	for (size_t i = 0; i < data; i++) {
		int v = b32val((unsigned char)in[i]);

		if (v < 0)
			return DEC_ERR;
		acc = (acc << 5) | (unsigned)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return DEC_ERR;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1ull << bits) - 1;
		}
	}
	return o;
}

size_t dec_url(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '%' && i + 2 < n && hexval((unsigned char)in[i + 1]) >= 0 &&
		    hexval((unsigned char)in[i + 2]) >= 0) {
			c = (unsigned char)(hexval((unsigned char)in[i + 1]) << 4 |
					    hexval((unsigned char)in[i + 2]));
			i += 2;
		}
		if (o >= outcap)
			return DEC_ERR;
		out[o++] = c;
	}
	return o;
}

static int hex4(const char *p, size_t left, unsigned *v)
{
	unsigned x = 0;

	if (left < 4)
		return -1;
	for (int k = 0; k < 4; k++) {
		int h = hexval((unsigned char)p[k]);

		if (h < 0)
			return -1;
		x = x << 4 | (unsigned)h;
	}
	*v = x;
	return 0;
}

static size_t put_utf8(unsigned cp, unsigned char *o)
{
	if (cp < 0x80) {
		o[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (unsigned char)(0xc0 | cp >> 6);
		o[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (unsigned char)(0xe0 | cp >> 12);
		o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (unsigned char)(0xf0 | cp >> 18);
	o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t dec_json_escapes(const char *in, size_t n, unsigned char *out, size_t outcap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char tmp[4], *w = tmp;
		size_t wn = 1;
		unsigned cp, lo;

		tmp[0] = (unsigned char)in[i];
		if (in[i] == '\\' && i + 1 < n) {
			char e = in[i + 1];

			switch (e) {
			case '"':
			case '\\':
			case '/':
			case '\'':
				tmp[0] = (unsigned char)e;
				i++;
				break;
			case 'b':
				tmp[0] = '\b';
				i++;
				break;
			case 'f':
				tmp[0] = '\f';
				i++;
				break;
			case 'n':
				tmp[0] = '\n';
				i++;
				break;
			case 'r':
				tmp[0] = '\r';
				i++;
				break;
			case 't':
				tmp[0] = '\t';
				i++;
				break;
			case 'x':
				if (i + 3 < n && hexval((unsigned char)in[i + 2]) >= 0 &&
				    hexval((unsigned char)in[i + 3]) >= 0) {
					tmp[0] =
					    (unsigned char)(hexval((unsigned char)in[i + 2]) << 4 |
							    hexval((unsigned char)in[i + 3]));
					i += 3;
				}
				break;
			case 'u':
				if (hex4(in + i + 2, n - i - 2, &cp) != 0)
					break;
				i += 5;
				if (cp >= 0xd800 && cp < 0xdc00 && i + 6 < n && in[i + 1] == '\\' &&
				    in[i + 2] == 'u' && hex4(in + i + 3, n - i - 3, &lo) == 0 &&
				    lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				} else if (cp >= 0xd800 && cp < 0xe000) {
					cp = 0xfffd; /* lone surrogate */
				}
				wn = put_utf8(cp, tmp);
				break;
			default:
				break;
			}
		}
		if (o + wn > outcap)
			return DEC_ERR;
		memcpy(out + o, w, wn);
		o += wn;
	}
	return o;
}

int dec_is_text(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return 0;
			if (c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3;
		else
			return 0;
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
		i += k + 1;
	}
	return 1;
}

int dec_has_url_escape(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '%', (size_t)(end - p))) != NULL) {
		if (end - p >= 3 && hexval((unsigned char)p[1]) >= 0 &&
		    hexval((unsigned char)p[2]) >= 0)
			return 1;
		p++;
	}
	return 0;
}

int dec_has_json_escape(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	while ((p = memchr(p, '\\', (size_t)(end - p))) != NULL) {
		if (end - p >= 2 && strchr("\"\\/'bfnrtxu", p[1]) && p[1] != '\0')
			return 1;
		p++;
	}
	return 0;
}

/* ---- nested expansion ---- */

struct xst {
	const struct dec_limits *lim;
	size_t left;
	size_t nvisit;
	dec_visit_fn fn;
	void *ctx;
};

static void expand(struct xst *x, const char *s, size_t n, int depth, const char *chain);

/* n less a multi-byte character cut off at the end (the probe stops at a byte count). */
static size_t whole_chars(const unsigned char *s, size_t n)
{
	for (size_t k = 1; k <= 3 && k <= n; k++) {
		unsigned char c = s[n - k];

		if ((c & 0xc0) == 0x80)
			continue;
		if (c >= 0xc0 && (size_t)(c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2) > k)
			return n - k;
		break;
	}
	return n;
}

/* Decode p[0..len) with kind; visit and recurse when it is text. Returns 1 if visited. */
static int layer(struct xst *x, const char *kind, const char *p, size_t len, int depth,
		 const char *chain)
{
	unsigned char stackbuf[4096], *buf;
	size_t m, cap = len;
	char ch[96];
	int visited = 0;

	if (cap == 0 || cap > x->left)
		return 0;
	/* Most runs in ordinary text are words and paths: one quantum tells. */
	if (len >= 16 && (kind[0] == 'b' || kind[0] == 'h')) {
		unsigned char probe[16];
		size_t pn;

		if (strcmp(kind, "base64") == 0)
			pn = dec_base64(p, 16, probe, sizeof(probe), DEC_B64_ANY);
		else if (strcmp(kind, "hex") == 0)
			pn = dec_hex(p, 16, probe, sizeof(probe));
		else
			pn = dec_base32(p, 16, probe, sizeof(probe));
		if (pn == DEC_ERR || !dec_is_text(probe, whole_chars(probe, pn)))
			return 0;
	}
	buf = cap <= sizeof(stackbuf) ? stackbuf : xmalloc(cap);
	if (strcmp(kind, "base64") == 0)
		m = dec_base64(p, len, buf, cap, DEC_B64_ANY);
	else if (strcmp(kind, "hex") == 0)
		m = dec_hex(p, len, buf, cap);
	else if (strcmp(kind, "base32") == 0)
		m = dec_base32(p, len, buf, cap);
	else if (strcmp(kind, "url") == 0)
		m = dec_url(p, len, buf, cap);
	else
		m = dec_json_escapes(p, len, buf, cap);
	if (m != DEC_ERR && m >= 4 && dec_is_text(buf, m) &&
	    !(m == len && memcmp(buf, p, m) == 0)) {
		x->left -= m;
		snprintf(ch, sizeof(ch), "%s%s%s", chain ? chain : "", chain ? ">" : "", kind);
		x->fn((const char *)buf, m, ch, x->ctx);
		x->nvisit++;
		visited = 1;
		if (depth + 1 < x->lim->maxdepth)
			expand(x, (const char *)buf, m, depth + 1, ch);
	}
	if (buf != stackbuf)
		free(buf);
	return visited;
}

/* The base64 alphabets, both: what a run of encoded text is made of. */
static const unsigned char B64T[256] = {
    ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['0' ... '9'] = 1, ['+'] = 1,
    ['/'] = 1,	       ['-'] = 1,	  ['_'] = 1,
};

/* Bit j set: p[j] is in the base64 alphabets (64 bytes, or fewer at the end). */
static uint64_t b64_mask(const char *p, size_t n)
{
	uint64_t w = 0;

	if (n >= 64) {
#if defined(__SSE2__)
		for (int k = 0; k < 4; k++) {
			__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
			__m128i up = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('A' - 1)),
						   _mm_cmplt_epi8(c, _mm_set1_epi8('Z' + 1)));
			__m128i lo = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('a' - 1)),
						   _mm_cmplt_epi8(c, _mm_set1_epi8('z' + 1)));
			__m128i dg = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
						   _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
			__m128i pu =
			    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('+')),
						      _mm_cmpeq_epi8(c, _mm_set1_epi8('/'))),
					 _mm_or_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('-')),
						      _mm_cmpeq_epi8(c, _mm_set1_epi8('_'))));
			__m128i all = _mm_or_si128(_mm_or_si128(up, lo), _mm_or_si128(dg, pu));

			w |= (uint64_t)(uint16_t)_mm_movemask_epi8(all) << (16 * k);
		}
		return w;
#else
		n = 64;
#endif
	}
	for (size_t j = 0; j < n; j++)
		w |= (uint64_t)B64T[(unsigned char)p[j]] << j;
	return w;
}

/*
 * Start of the first run of at least m alphabet bytes at or after i (s[i - 1]
 * is not in one), or n. 64 bytes at a time: a block is looked into only when a
 * long run reaches into it; ordinary text has none.
 */
static size_t next_run(const char *s, size_t n, size_t i, size_t m)
{
	size_t carry = 0; /* alphabet bytes just before p */

	if (m > 64)
		m = 64;
	for (size_t p = i; p < n; p += 64) {
		size_t len = n - p < 64 ? n - p : 64;
		uint64_t w = b64_mask(s + p, len), x = w;
		size_t head;

		if (len < 64)
			w &= (1ull << len) - 1; /* nothing past the end */
		head = ~w ? (size_t)__builtin_ctzll(~w) : 64;
		if (carry + head >= m)
			return p - carry;
		x = w;
		for (size_t k = 1; k < m && x; k++)
			x &= w >> k;
		if (x)
			return p + (size_t)__builtin_ctzll(x);
		carry = ~w ? (size_t)__builtin_clzll(~w) : carry + 64;
		if (len < 64)
			break;
	}
	return n;
}

static int all_b32(const char *p, size_t n)
{
	int upper = 0, lower = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c >= 'A' && c <= 'Z')
			upper = 1;
		else if (c >= 'a' && c <= 'z')
			lower = 1;
		else if (!(c >= '2' && c <= '7') && c != '=')
			return 0;
	}
	return !(upper && lower); /* base32 is written in one case */
}

static void try_run(struct xst *x, const char *p, size_t len, int depth, const char *chain)
{
	size_t minrun = x->lim->minrun, i = 0;
	int v;

	/* Hex sub-runs (a hex string is also base64-alphabet text). */
	while (i < len) {
		size_t j = i;

		while (j < len && hexval((unsigned char)p[j]) >= 0)
			j++;
		if (j - i >= minrun)
			layer(x, "hex", p + i, (j - i) & ~(size_t)1, depth, chain);
		i = j + 1;
	}
	if (all_b32(p, len))
		layer(x, "base32", p, len, depth, chain);
	v = layer(x, "base64", p, len, depth, chain);
	if (!v && memchr(p, '/', len)) {
		/* A URL path: each segment may be url-safe base64 on its own. */
		i = 0;
		while (i < len) {
			const char *q = memchr(p + i, '/', len - i);
			size_t j = q ? (size_t)(q - p) : len;

			if (j - i >= minrun && j - i < len)
				layer(x, "base64", p + i, j - i, depth, chain);
			i = j + 1;
		}
	}
}

static void expand(struct xst *x, const char *s, size_t n, int depth, const char *chain)
{
	size_t i = 0;

	if (x->left == 0)
		return;
	if (dec_has_url_escape(s, n))
		layer(x, "url", s, n, depth, chain);
	if (dec_has_json_escape(s, n))
		layer(x, "escape", s, n, depth, chain);
	/* Each run of the alphabet at least minrun long (Invariant: s[i - 1] is not in a run). */
	{
		size_t m = x->lim->minrun ? x->lim->minrun : 1;

		while (i + m <= n && x->left > 0) {
			size_t a = next_run(s, n, i, m), b, e;

			if (a >= n)
				break;
			b = a;
			while (b < n && B64T[(unsigned char)s[b]])
				b++;
			e = b;
			while (e < n && e - b < 2 && s[e] == '=')
				e++;
			if (b - a >= m)
				try_run(x, s + a, e - a, depth, chain);
			i = e > b ? e : b + 1;
		}
	}
}

size_t dec_expand(const char *s, size_t n, const struct dec_limits *lim, dec_visit_fn fn, void *ctx)
{
	struct xst x = {lim, lim->budget, 0, fn, ctx};

	if (lim->maxdepth <= 0)
		return 0;
	expand(&x, s, n, 0, NULL);
	return x.nvisit;
}
