/* Bounded text and shell escapes (see shtext.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "shparse.h"
#include "shtext.h"
#include "xmalloc.h"

void shb_putn(struct shbuf *b, const char *s, size_t n)
{
	if (n > SH_MAX_TEXT - b->n) {
		n = SH_MAX_TEXT - b->n;
		b->trunc = 1;
	}
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 32;

		while (cap < b->n + n + 1)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

void shb_putc(struct shbuf *b, char c)
{
	shb_putn(b, &c, 1);
}

void shb_puts(struct shbuf *b, const char *s)
{
	shb_putn(b, s, strlen(s));
}

/* The text (malloc'd, never NULL); the buffer is emptied. */
char *shb_take(struct shbuf *b)
{
	char *r = b->p ? b->p : xstrdup("");

	b->p = NULL;
	b->n = b->cap = 0;
	return r;
}

static void put_utf8(struct shbuf *b, unsigned long cp)
{
	char u[4];

	if (cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		shb_putc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		shb_putn(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		shb_putn(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		shb_putn(b, u, 4);
	}
}

int sh_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode the backslash escape at s[*i] (s[*i] == '\\') as $'..', echo -e and printf
 * do. Returns 1 for a numeric escape (\x \NNN \u \c: the ones that hide text), 0
 * for a plain one, -1 for "\c" in echo (stop output). Advances *i past it.
 */
int sh_decode_escape(const char *s, size_t len, size_t *i, struct shbuf *b, int echo_octal)
{
	size_t j = *i + 1;
	unsigned long v = 0;
	int n = 0, h;

	if (j >= len) {
		shb_putc(b, '\\');
		*i = j;
		return 0;
	}
	switch (s[j]) {
	case 'a':
		shb_putc(b, '\a');
		break;
	case 'b':
		shb_putc(b, '\b');
		break;
	case 'e':
	case 'E':
		shb_putc(b, 0x1b);
		break;
	case 'f':
		shb_putc(b, '\f');
		break;
	case 'n':
		shb_putc(b, '\n');
		break;
	case 'r':
		shb_putc(b, '\r');
		break;
	case 't':
		shb_putc(b, '\t');
		break;
	case 'v':
		shb_putc(b, '\v');
		break;
	case '\\':
		shb_putc(b, '\\');
		break;
	case '\'':
		shb_putc(b, '\'');
		break;
	case '"':
		shb_putc(b, '"');
		break;
	case '?':
		shb_putc(b, '?');
		break;
	case 'x':
		for (j++; n < 2 && j < len && (h = sh_hexval((unsigned char)s[j])) >= 0; j++, n++)
			v = v * 16 + (unsigned long)h;
		if (!n) {
			shb_puts(b, "\\x");
			*i = j;
			return 0;
		}
		shb_putc(b, (char)v);
		*i = j;
		return 1;
	case 'u':
	case 'U': {
		int max = s[j] == 'u' ? 4 : 8;

		for (j++; n < max && j < len && (h = sh_hexval((unsigned char)s[j])) >= 0; j++, n++)
			v = v * 16 + (unsigned long)h;
		if (!n) {
			shb_putc(b, '\\');
			shb_putc(b, s[j - 1]);
			*i = j;
			return 0;
		}
		put_utf8(b, v);
		*i = j;
		return 1;
	}
	case 'c':
		if (echo_octal) {
			*i = j + 1;
			return -1;
		}
		if (j + 1 < len) {
			shb_putc(b, (char)(s[j + 1] & 0x1f));
			*i = j + 2;
			return 1;
		}
		shb_puts(b, "\\c");
		*i = j + 1;
		return 0;
	default:
		if (s[j] >= '0' && s[j] <= '7') {
			/* echo -e wants \0NNN; $'..' and printf take \NNN. */
			int max = 3;

			if (echo_octal) {
				if (s[j] != '0')
					goto literal;
				j++;
			}
			for (; n < max && j < len && s[j] >= '0' && s[j] <= '7'; j++, n++)
				v = v * 8 + (unsigned long)(s[j] - '0');
			shb_putc(b, (char)(v & 0xff));
			*i = j;
			return 1;
		}
	literal:
		shb_putc(b, '\\');
		shb_putc(b, s[j]);
		break;
	}
	*i = j + 1;
	return 0;
}

long long sh_num(const char *s)
{
	unsigned long long v = strtoull(s, NULL, 0);

	return (long long)(v & (unsigned long long)LLONG_MAX);
}
