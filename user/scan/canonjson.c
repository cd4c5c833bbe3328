#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "canonjson.h"
#include "xmalloc.h"

struct buf {
	char *p;
	size_t n, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void putc_(struct buf *b, char c)
{
	put(b, &c, 1);
}

/*
 * Next UTF-16 code unit of a UTF-8 string, for key ordering. *pend carries the
 * low surrogate of a supplementary character. Invalid bytes map to 0xDC00+byte
 * (lone low surrogates), which no valid string produces on its own.
 */
static unsigned next_unit(const unsigned char **ps, unsigned *pend)
{
	const unsigned char *s = *ps;
	unsigned cp, need, min;

	if (*pend) {
		unsigned u = *pend;

		*pend = 0;
		return u;
	}
	if (s[0] < 0x80) {
		*ps = s + 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		cp = s[0] & 0x1f;
		need = 1;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		cp = s[0] & 0x0f;
		need = 2;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		cp = s[0] & 0x07;
		need = 3;
		min = 0x10000;
	} else {
		goto bad;
	}
	for (unsigned i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		goto bad;
	*ps = s + need + 1;
	if (cp >= 0x10000) {
		cp -= 0x10000;
		*pend = 0xdc00 | (cp & 0x3ff);
		return 0xd800 | (cp >> 10);
	}
	return cp;
bad:
	*ps = s + 1;
	return 0xdc00 | s[0];
}

static int key_cmp_utf16(const char *a, const char *b)
{
	const unsigned char *pa = (const unsigned char *)a, *pb = (const unsigned char *)b;
	unsigned ea = 0, eb = 0;

	for (;;) {
		int enda = !*pa && !ea, endb = !*pb && !eb;

		if (enda || endb)
			return enda - endb ? (enda ? -1 : 1) : 0;
		unsigned ua = next_unit(&pa, &ea), ub = next_unit(&pb, &eb);

		if (ua != ub)
			return ua < ub ? -1 : 1;
	}
}

struct member {
	const cJSON *item;
	size_t idx;
};

static int member_cmp(const void *x, const void *y)
{
	const struct member *a = x, *b = y;
	int c = key_cmp_utf16(a->item->string ? a->item->string : "",
			      b->item->string ? b->item->string : "");

	/* Duplicate keys keep their document order, so the result is deterministic. */
	if (c == 0)
		c = a->idx < b->idx ? -1 : a->idx > b->idx;
	return c;
}

static void put_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	putc_(b, '"');
	while (*s) {
		size_t run = 0;

		/* Copy the longest stretch needing no escape in one go. */
		while (s[run] && (unsigned char)s[run] >= 0x20 && s[run] != '"' && s[run] != '\\')
			run++;
		if (run) {
			put(b, s, run);
			s += run;
			continue;
		}
		unsigned char c = (unsigned char)*s++;
		char e[7] = {'\\', 0};

		switch (c) {
		case '"':
		case '\\':
			e[1] = (char)c;
			break;
		case '\b':
			e[1] = 'b';
			break;
		case '\f':
			e[1] = 'f';
			break;
		case '\n':
			e[1] = 'n';
			break;
		case '\r':
			e[1] = 'r';
			break;
		case '\t':
			e[1] = 't';
			break;
		default:
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(b, e, 6);
			continue;
		}
		put(b, e, 2);
	}
	putc_(b, '"');
}

int canonjson_number(double d, char *buf, size_t buflen)
{
	char tmp[40], digits[20];
	int k = 0, exp10, n;
	size_t o = 0;

	if (!isfinite(d) || buflen < 2)
		return -1;
	if (d == 0) {
		/* -0 prints as 0 (ECMAScript). */
		buf[0] = '0';
		buf[1] = '\0';
		return 0;
	}
	/* Shortest %e precision that reads back as the same double. */
	for (int prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	{
		const char *p = tmp;
		char *e;

		if (*p == '-')
			p++;
		for (; *p && *p != 'e'; p++)
			if (*p >= '0' && *p <= '9' && k < (int)sizeof(digits) - 1)
				digits[k++] = *p;
		if (*p != 'e')
			return -1;
		exp10 = (int)strtol(p + 1, &e, 10);
	}
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = '\0';
	n = exp10 + 1; /* position of the decimal point relative to the digits */

	char out[64];

	if (d < 0)
		out[o++] = '-';
	if (k <= n && n <= 21) {
		memcpy(out + o, digits, (size_t)k);
		o += (size_t)k;
		for (int i = 0; i < n - k; i++)
			out[o++] = '0';
	} else if (0 < n && n <= 21) {
		memcpy(out + o, digits, (size_t)n);
		o += (size_t)n;
		out[o++] = '.';
		memcpy(out + o, digits + n, (size_t)(k - n));
		o += (size_t)(k - n);
	} else if (-6 < n && n <= 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = 0; i < -n; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)k);
		o += (size_t)k;
	} else {
		out[o++] = digits[0];
		if (k > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)(k - 1));
			o += (size_t)(k - 1);
		}
		o += (size_t)snprintf(out + o, sizeof(out) - o, "e%c%d", n - 1 < 0 ? '-' : '+',
				      abs(n - 1));
	}
	out[o] = '\0';
	if (o + 1 > buflen)
		return -1;
	memcpy(buf, out, o + 1);
	return 0;
}

static int emit(struct buf *b, const cJSON *v, int depth)
{
	if (depth > CANON_MAX_DEPTH)
		return -1;
	switch (v->type & 0xff) {
	case cJSON_NULL:
		put(b, "null", 4);
		return 0;
	case cJSON_False:
		put(b, "false", 5);
		return 0;
	case cJSON_True:
		put(b, "true", 4);
		return 0;
	case cJSON_Number: {
		char num[64];

		if (canonjson_number(v->valuedouble, num, sizeof(num)) != 0)
			return -1;
		put(b, num, strlen(num));
		return 0;
	}
	case cJSON_String:
		put_string(b, v->valuestring ? v->valuestring : "");
		return 0;
	case cJSON_Array: {
		int first = 1;

		putc_(b, '[');
		for (const cJSON *c = v->child; c; c = c->next) {
			if (!first)
				putc_(b, ',');
			first = 0;
			if (emit(b, c, depth + 1) != 0)
				return -1;
		}
		putc_(b, ']');
		return 0;
	}
	case cJSON_Object: {
		size_t n = 0, i = 0;
		struct member *m;
		int rc = 0;

		for (const cJSON *c = v->child; c; c = c->next)
			n++;
		m = xcalloc(n ? n : 1, sizeof(*m));
		for (const cJSON *c = v->child; c; c = c->next, i++) {
			m[i].item = c;
			m[i].idx = i;
		}
		qsort(m, n, sizeof(*m), member_cmp);
		putc_(b, '{');
		for (i = 0; i < n && rc == 0; i++) {
			if (i)
				putc_(b, ',');
			put_string(b, m[i].item->string ? m[i].item->string : "");
			putc_(b, ':');
			rc = emit(b, m[i].item, depth + 1);
		}
		putc_(b, '}');
		free(m);
		return rc;
	}
	default:
		return -1; /* cJSON_Raw, cJSON_Invalid: no canonical form */
	}
}

char *canonjson(const cJSON *v, size_t *len)
{
	struct buf b = {0};

	if (!v || emit(&b, v, 0) != 0) {
		free(b.p);
		return NULL;
	}
	if (!b.p)
		put(&b, "", 0);
	if (len)
		*len = b.n;
	return b.p;
}

int canonjson_sha256(const cJSON *v, unsigned char out[32])
{
	size_t n;
	char *s = canonjson(v, &n);

	if (!s)
		return -1;
	crypto_hash_sha256(out, (const unsigned char *)s, n);
	free(s);
	return 0;
}

void canonjson_hex(const unsigned char d[32], char out[65])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}
