/*
 * Emulation of the commands attackers use to build text (see shemu.h). Only
 * transformations of text we already have: nothing here reads a real file,
 * touches the network or runs anything.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "shemu.h"
#include "shtext.h"
#include "xmalloc.h"

static const signed char b64v[256] = {
    ['A'] = 1,	['B'] = 2,  ['C'] = 3,	['D'] = 4,  ['E'] = 5,	['F'] = 6,  ['G'] = 7,	['H'] = 8,
    ['I'] = 9,	['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
    ['-'] = 63, ['_'] = 64,
};

static char *b64_decode(const char *in, size_t *olen)
{
	struct shbuf b = {0};
	unsigned acc = 0;
	int bits = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int v = b64v[*p];

		if (*p == '=')
			break;
		if (!v) {
			if (isspace(*p))
				continue;
			free(b.p);
			return NULL; /* base64 -d stops with an error on garbage */
		}
		acc = (acc << 6) | (unsigned)(v - 1);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			shb_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	*olen = b.n;
	return shb_take(&b);
}

static char *b64_encode(const char *in)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct shbuf b = {0};
	size_t n = strlen(in);

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		shb_putc(&b, al[(v >> 18) & 63]);
		shb_putc(&b, al[(v >> 12) & 63]);
		shb_putc(&b, i + 1 < n ? al[(v >> 6) & 63] : '=');
		shb_putc(&b, i + 2 < n ? al[v & 63] : '=');
	}
	shb_putc(&b, '\n');
	return shb_take(&b);
}

static char *b32_decode(const char *in, size_t *olen)
{
	struct shbuf b = {0};
	unsigned long acc = 0;
	int bits = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int v;

		if (*p == '=')
			break;
		if (isspace(*p))
			continue;
		if (*p >= 'A' && *p <= 'Z')
			v = *p - 'A';
		else if (*p >= '2' && *p <= '7')
			v = *p - '2' + 26;
		else {
			free(b.p);
			return NULL;
		}
		acc = (acc << 5) | (unsigned long)v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			shb_putc(&b, (char)((acc >> bits) & 0xff));
		}
	}
	*olen = b.n;
	return shb_take(&b);
}

static char *hex_decode(const char *in, size_t *olen)
{
	struct shbuf b = {0};
	int hi = -1;

	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		int v = sh_hexval(*p);

		if (v < 0)
			continue; /* xxd -r -p skips what is not hex */
		if (hi < 0) {
			hi = v;
		} else {
			shb_putc(&b, (char)(hi * 16 + v));
			hi = -1;
		}
	}
	*olen = b.n;
	return shb_take(&b);
}

static char *inflate_text(const char *in, size_t n, size_t *olen)
{
	z_stream z;
	struct shbuf b = {0};
	char buf[4096];
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	do {
		z.next_out = (Bytef *)buf;
		z.avail_out = sizeof(buf);
		rc = inflate(&z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
		shb_putn(&b, buf, sizeof(buf) - z.avail_out);
	} while (rc == Z_OK && b.n < SH_MAX_TEXT && z.avail_in > 0);
	inflateEnd(&z);
	if (rc != Z_STREAM_END && rc != Z_OK) {
		free(b.p);
		return NULL;
	}
	*olen = b.n;
	return shb_take(&b);
}

/* tr set: ranges, escapes, a few classes. */
static size_t tr_set(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0, len = strlen(s);

	for (size_t i = 0; i < len && n < max;) {
		unsigned char c;

		if (s[i] == '[' && s[i + 1] == ':') {
			const char *e = strstr(s + i, ":]");
			char cls[16] = {0};

			if (e && (size_t)(e - s - i - 2) < sizeof(cls)) {
				memcpy(cls, s + i + 2, (size_t)(e - s - i - 2));
				for (int ch = 0; ch < 256 && n < max; ch++)
					if ((!strcmp(cls, "upper") && isupper(ch)) ||
					    (!strcmp(cls, "lower") && islower(ch)) ||
					    (!strcmp(cls, "digit") && isdigit(ch)) ||
					    (!strcmp(cls, "alpha") && isalpha(ch)) ||
					    (!strcmp(cls, "space") && isspace(ch)) ||
					    (!strcmp(cls, "alnum") && isalnum(ch)))
						out[n++] = (unsigned char)ch;
				i = (size_t)(e - s) + 2;
				continue;
			}
		}
		if (s[i] == '\\' && i + 1 < len) {
			struct shbuf b = {0};

			sh_decode_escape(s, len, &i, &b, 0);
			c = b.n ? (unsigned char)b.p[0] : '\\';
			free(b.p);
		} else {
			c = (unsigned char)s[i++];
		}
		if (i + 1 < len && s[i] == '-') {
			unsigned char hi = (unsigned char)s[i + 1];

			i += 2;
			for (unsigned v = c; v <= hi && n < max; v++)
				out[n++] = (unsigned char)v;
			continue;
		}
		out[n++] = c;
	}
	return n;
}

static char *emu_tr(const struct sh_cmd *c, size_t a, const char *in)
{
	unsigned char s1[512], s2[512], map[256];
	int del = 0;
	size_t n1, n2 = 0;
	struct shbuf b = {0};

	if (a < c->argc && strcmp(c->argv[a], "-d") == 0) {
		del = 1;
		a++;
	} else if (a < c->argc && c->argv[a][0] == '-' && c->argv[a][1]) {
		return NULL;
	}
	if (a >= c->argc)
		return NULL;
	n1 = tr_set(c->argv[a], s1, sizeof(s1));
	if (!del) {
		if (a + 1 >= c->argc)
			return NULL;
		n2 = tr_set(c->argv[a + 1], s2, sizeof(s2));
		if (!n2)
			return NULL;
	}
	for (int i = 0; i < 256; i++)
		map[i] = (unsigned char)i;
	if (!del)
		for (size_t i = 0; i < n1; i++)
			map[s1[i]] = s2[i < n2 ? i : n2 - 1];
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (del && memchr(s1, *p, n1))
			continue;
		shb_putc(&b, (char)map[*p]);
	}
	return shb_take(&b);
}

static char *emu_printf(const struct sh_cmd *c, size_t a, int *numeric)
{
	struct shbuf b = {0};
	const char *fmt;
	size_t flen, ai;
	int rounds = 0;

	if (a < c->argc && strcmp(c->argv[a], "--") == 0)
		a++;
	if (a >= c->argc)
		return NULL;
	fmt = c->argv[a];
	flen = strlen(fmt);
	ai = a + 1;
	do {
		for (size_t i = 0; i < flen;) {
			if (fmt[i] == '\\') {
				if (sh_decode_escape(fmt, flen, &i, &b, 0) > 0)
					*numeric = 1;
				continue;
			}
			if (fmt[i] != '%') {
				shb_putc(&b, fmt[i++]);
				continue;
			}
			i++;
			if (i < flen && fmt[i] == '%') {
				shb_putc(&b, '%');
				i++;
				continue;
			}
			while (i < flen && strchr("-+ #0123456789.", fmt[i]))
				i++;
			if (i >= flen)
				break;
			{
				const char *arg = ai < c->argc ? c->argv[ai++] : "";
				char num[32];

				switch (fmt[i]) {
				case 'b':
					for (size_t k = 0, al = strlen(arg); k < al;) {
						if (arg[k] == '\\') {
							if (sh_decode_escape(arg, al, &k, &b, 1) >
							    0)
								*numeric = 1;
						} else {
							shb_putc(&b, arg[k++]);
						}
					}
					break;
				case 'c':
					if (*arg)
						shb_putc(&b, arg[0]);
					break;
				case 'd':
				case 'i':
				case 'u':
					snprintf(num, sizeof(num), "%lld", sh_num(arg));
					shb_puts(&b, num);
					break;
				case 'x':
				case 'X':
				case 'o':
					snprintf(num, sizeof(num),
						 fmt[i] == 'o'	 ? "%llo"
						 : fmt[i] == 'x' ? "%llx"
								 : "%llX",
						 (unsigned long long)sh_num(arg));
					shb_puts(&b, num);
					break;
				default:
					shb_puts(&b, arg);
				}
				i++;
			}
		}
	} while (ai < c->argc && ai > a + 1 && ++rounds < 256 && strchr(fmt, '%'));
	return shb_take(&b);
}

static char *emu_echo(const struct sh_cmd *c, size_t a, int *numeric)
{
	struct shbuf b = {0};
	int nl = 1, esc = 0;

	for (; a < c->argc; a++) {
		const char *o = c->argv[a];

		if (o[0] != '-' || !o[1] || strspn(o + 1, "neE") != strlen(o + 1))
			break;
		for (const char *p = o + 1; *p; p++) {
			if (*p == 'n')
				nl = 0;
			else if (*p == 'e')
				esc = 1;
			else
				esc = 0;
		}
	}
	for (size_t first = a; a < c->argc; a++) {
		const char *w = c->argv[a];
		size_t wl = strlen(w);

		if (a > first)
			shb_putc(&b, ' ');
		for (size_t k = 0; k < wl;) {
			if (esc && w[k] == '\\') {
				int r = sh_decode_escape(w, wl, &k, &b, 1);

				if (r > 0)
					*numeric = 1;
				if (r < 0)
					return shb_take(&b);
			} else {
				shb_putc(&b, w[k++]);
			}
		}
	}
	if (nl)
		shb_putc(&b, '\n');
	return shb_take(&b);
}

int sh_has_opt(const struct sh_cmd *c, size_t a, const char *shortc, const char *longo)
{
	for (; a < c->argc; a++) {
		const char *o = c->argv[a];

		if (longo && strcmp(o, longo) == 0)
			return 1;
		if (o[0] == '-' && o[1] != '-' && shortc && strpbrk(o + 1, shortc))
			return 1;
	}
	return 0;
}

/* The stdout of c given its stdin, for commands that only transform text; NULL if unknown. */
char *sh_emulate(const struct sh_cmd *c, const char *in, size_t inlen, size_t *olen, int *numeric,
		 sh_file_fn file, void *ctx)
{
	size_t a;
	const char *n;

	if (c->argc == 0)
		return NULL;
	a = sh_cmd_start(c);
	if (a >= c->argc)
		return NULL;
	n = sh_basename(c->argv[a]);
	a++;
	if (!strcmp(n, "echo"))
		return emu_echo(c, a, numeric);
	if (!strcmp(n, "printf"))
		return a < c->argc && !strcmp(c->argv[a], "-v") ? xstrdup("")
								: emu_printf(c, a, numeric);
	if (!strcmp(n, "cat") || !strcmp(n, "tee")) {
		if (a < c->argc && strcmp(c->argv[a], "-") != 0 && !strcmp(n, "cat")) {
			const char *t = file ? file(ctx, c->argv[a]) : NULL;

			return t ? xstrdup(t) : NULL;
		}
		return in ? xstrdup(in) : NULL;
	}
	if (!in)
		return NULL;
	if (!strcmp(n, "base64") || !strcmp(n, "base32") || !strcmp(n, "basenc")) {
		int dec = sh_has_opt(c, a, "dD", "--decode");

		*numeric = 1;
		if (!strcmp(n, "base32"))
			return dec ? b32_decode(in, olen) : NULL;
		return dec ? b64_decode(in, olen) : b64_encode(in);
	}
	if (!strcmp(n, "openssl")) {
		if (sh_has_opt(c, a, NULL, "base64") || sh_has_opt(c, a, NULL, "-base64") ||
		    sh_has_opt(c, a, NULL, "-a")) {
			*numeric = 1;
			return sh_has_opt(c, a, NULL, "-d") ? b64_decode(in, olen) : NULL;
		}
		return NULL;
	}
	if (!strcmp(n, "xxd")) {
		int r = sh_has_opt(c, a, "r", "--revert"),
		    p = sh_has_opt(c, a, "p", "-ps") || sh_has_opt(c, a, NULL, "-plain");

		*numeric = 1;
		return r && p ? hex_decode(in, olen) : NULL;
	}
	if (!strcmp(n, "rev")) {
		struct shbuf b = {0};
		size_t len = strlen(in);

		*numeric = 1;
		for (size_t s = 0; s < len;) {
			const char *nlp = memchr(in + s, '\n', len - s);
			size_t e = nlp ? (size_t)(nlp - in) : len;

			for (size_t k = e; k > s; k--)
				shb_putc(&b, in[k - 1]);
			if (nlp)
				shb_putc(&b, '\n');
			s = e + 1;
		}
		return shb_take(&b);
	}
	if (!strcmp(n, "tr")) {
		*numeric = 1;
		return emu_tr(c, a, in);
	}
	if (!strcmp(n, "gunzip") || !strcmp(n, "zcat") ||
	    (!strcmp(n, "gzip") && sh_has_opt(c, a, "d", "--decompress"))) {
		*numeric = 1;
		return inflate_text(in, inlen, olen);
	}
	return NULL;
}
