#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonparse.h"

struct jp {
	const char *p, *end;
	int depth;
	const char *base;
	size_t nul_at; /* offset of the first \\u0000 escape, SIZE_MAX if none */
};

static cJSON *value(struct jp *j);

static void ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static cJSON *node(int type)
{
	cJSON *c = calloc(1, sizeof(*c));

	if (c)
		c->type = type;
	return c;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

#if defined(__SSE2__)
#include <emmintrin.h>

/* Bits of the 16 bytes at p: *quote_ctl '"' or control (< 0x20), return value '\\'. */
static inline unsigned classes16(const char *p, unsigned *quote_ctl)
{
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i qc = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
				  _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v));

	*quote_ctl = (unsigned)_mm_movemask_epi8(qc);
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
}
#endif

/*
 * Offset of the first '"' or raw control byte in s[0..n), or n; *bs is set if a
 * backslash comes before it. Backslashes do not stop the scan (the caller tells
 * an escaped quote by the backslashes before it), so text with an escape every
 * line is still one pass. SSE2 (baseline on x86-64) 64 bytes per step.
 */
static size_t quote_or_ctl(const char *s, size_t n, int *bs)
{
	size_t i = 0;

#if defined(__SSE2__)
	for (; i + 64 <= n; i += 64) {
		unsigned qa, qb, qc, qd;
		uint64_t b = (uint64_t)classes16(s + i, &qa) |
			     (uint64_t)classes16(s + i + 16, &qb) << 16 |
			     (uint64_t)classes16(s + i + 32, &qc) << 32 |
			     (uint64_t)classes16(s + i + 48, &qd) << 48;
		uint64_t m =
		    (uint64_t)qa | (uint64_t)qb << 16 | (uint64_t)qc << 32 | (uint64_t)qd << 48;

		if (m) {
			unsigned k = (unsigned)__builtin_ctzll(m);

			*bs |= (b & ((1ull << k) - 1)) != 0;
			return i + k;
		}
		*bs |= b != 0;
	}
#endif
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c < 0x20)
			return i;
		*bs |= c == '\\';
	}
	return n;
}

/* What each one-character escape stands for; 0: not one (\u, or invalid). */
static const char esc1[256] = {
    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
    ['f'] = '\f', ['n'] = '\n',	 ['r'] = '\r', ['t'] = '\t',
};

/*
 * A string starting at the opening quote: malloc'd, NUL-terminated. The first
 * pass finds the closing quote (the first one after an even run of backslashes)
 * and refuses raw control characters as JSON.parse does; decoded text is never
 * longer than its source, so one allocation of the source length suffices.
 */
static char *string(struct jp *j)
{
	const char *s = j->p + 1, *q, *e = j->end;
	char *out, *o;
	int escaped = 0;

	if (j->p >= e || *j->p != '"')
		return NULL;
	for (q = s;;) {
		size_t run = 0;

		q += quote_or_ctl(q, (size_t)(e - q), &escaped);
		if (q >= e || (unsigned char)*q < 0x20)
			return NULL;
		/* A quote after an odd run of backslashes is escaped: text, not the end. */
		while (q - run > s && q[-1 - (ptrdiff_t)run] == '\\')
			run++;
		if (run % 2 == 0)
			break;
		q++;
	}
	out = o = malloc((size_t)(q - s) + 1);
	if (!out)
		return NULL;
	if (!escaped) {
		memcpy(out, s, (size_t)(q - s));
		out[q - s] = '\0';
		j->p = q + 1;
		return out;
	}
	/*
	 * Every escape lies wholly before q: its second byte is never the closing
	 * quote. Decoded text is never longer than its source, so o stays at most
	 * s - (j->p + 1) bytes into out and a 16-byte store below s + 16 <= q fits.
	 */
	while (s < q) {
#if defined(__SSE2__)
		while (q - s >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
			unsigned m =
			    (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
			unsigned k;
			char c;

			_mm_storeu_si128((__m128i *)(void *)o, v);
			if (!m) {
				o += 16;
				s += 16;
				continue;
			}
			/*
			 * The one-character escapes (\n, \", \\...), most of what text
			 * has, are decoded here without leaving the vector loop; \u
			 * and bad escapes go to the switch below.
			 */
			k = (unsigned)__builtin_ctz(m);
			o += k;
			s += k;
			if (!(c = esc1[(unsigned char)s[1]]))
				break;
			*o++ = c;
			s += 2;
		}
#endif
		while (s < q && *s != '\\')
			*o++ = *s++;
		if (s == q)
			break;
		s++;
		switch (*s) {
		case '"':
		case '\\':
		case '/':
			*o++ = *s++;
			break;
		case 'b':
			*o++ = '\b';
			s++;
			break;
		case 'f':
			*o++ = '\f';
			s++;
			break;
		case 'n':
			*o++ = '\n';
			s++;
			break;
		case 'r':
			*o++ = '\r';
			s++;
			break;
		case 't':
			*o++ = '\t';
			s++;
			break;
		case 'u': {
			unsigned cp, lo;

			if (q - s < 5 || hex4(s + 1, &cp) < 0)
				goto bad;
			if (cp == 0 && j->nul_at == SIZE_MAX)
				j->nul_at = (size_t)(s - 1 - j->base);
			s += 5;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad; /* a low surrogate alone */
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (q - s < 6 || s[0] != '\\' || s[1] != 'u' ||
				    hex4(s + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad; /* a high surrogate without its pair */
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			}
			o += utf8_put(o, cp);
			break;
		}
		default:
			goto bad;
		}
	}
	*o = '\0';
	j->p = q + 1;
	return out;
bad:
	free(out);
	return NULL;
}

/* RFC 8259 number grammar; the value itself comes from strtod like cJSON's. */
static cJSON *number(struct jp *j)
{
	const char *s = j->p, *p = s;
	char tmp[64], *buf = tmp, *e;
	double d;
	cJSON *c;

	if (p < j->end && *p == '-')
		p++;
	if (p < j->end && *p == '0')
		p++;
	else if (p < j->end && *p >= '1' && *p <= '9')
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	else
		return NULL;
	if (p < j->end && *p == '.') {
		p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return NULL;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < j->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < j->end && (*p == '+' || *p == '-'))
			p++;
		if (p >= j->end || *p < '0' || *p > '9')
			return NULL;
		while (p < j->end && *p >= '0' && *p <= '9')
			p++;
	}
	if ((size_t)(p - s) >= sizeof(tmp) && !(buf = malloc((size_t)(p - s) + 1)))
		return NULL;
	memcpy(buf, s, (size_t)(p - s));
	buf[p - s] = '\0';
	d = strtod(buf, &e);
	if (buf != tmp)
		free(buf);
	c = cJSON_CreateNumber(d);
	if (c)
		j->p = p;
	return c;
}

static int literal(struct jp *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static void append(cJSON *parent, cJSON **tail, cJSON *item)
{
	if (!*tail) {
		parent->child = item;
	} else {
		(*tail)->next = item;
		item->prev = *tail;
	}
	*tail = item;
	parent->child->prev = item; /* cJSON keeps the last element in child->prev */
}

static cJSON *container(struct jp *j, int obj)
{
	cJSON *c = node(obj ? cJSON_Object : cJSON_Array), *tail = NULL;
	char close = obj ? '}' : ']';

	if (!c)
		return NULL;
	if (++j->depth > CJSON_NESTING_LIMIT)
		goto bad;
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return c;
	}
	for (;;) {
		char *key = NULL;
		cJSON *v;

		if (obj) {
			if (!(key = string(j)))
				goto bad;
			ws(j);
			if (j->p >= j->end || *j->p != ':') {
				free(key);
				goto bad;
			}
			j->p++;
			ws(j);
		}
		if (!(v = value(j))) {
			free(key);
			goto bad;
		}
		v->string = key;
		append(c, &tail, v);
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return c;
		}
		goto bad;
	}
bad:
	cJSON_Delete(c);
	return NULL;
}

static cJSON *value(struct jp *j)
{
	cJSON *c;
	char *s;

	if (j->p >= j->end)
		return NULL;
	switch (*j->p) {
	case '{':
		return container(j, 1);
	case '[':
		return container(j, 0);
	case '"':
		if (!(s = string(j)) || !(c = node(cJSON_String))) {
			free(s);
			return NULL;
		}
		c->valuestring = s;
		return c;
	case 't':
		return literal(j, "true") == 0 ? node(cJSON_True) : NULL;
	case 'f':
		return literal(j, "false") == 0 ? node(cJSON_False) : NULL;
	case 'n':
		return literal(j, "null") == 0 ? node(cJSON_NULL) : NULL;
	default:
		return number(j);
	}
}

cJSON *jp_parse_nul(const char *s, size_t n, const char **end, size_t *nul_at)
{
	struct jp j = {s, s + n, 0, s, SIZE_MAX};
	cJSON *c;

	ws(&j);
	c = value(&j);
	if (c && end)
		*end = j.p;
	if (c && nul_at)
		*nul_at = j.nul_at;
	return c;
}

cJSON *jp_parse(const char *s, size_t n, const char **end)
{
	return jp_parse_nul(s, n, end, NULL);
}
