/*
 * Text helpers shared by the shell parser and its command emulation: a
 * growable buffer bounded at SH_MAX_TEXT, and the backslash escapes of $'..',
 * echo -e and printf. Internal to user/scan/sh*.c.
 */
#ifndef MG_SHTEXT_H
#define MG_SHTEXT_H

#include <stddef.h>

/* Text that stops growing at SH_MAX_TEXT (trunc is then set). */
struct shbuf {
	char *p;
	size_t n, cap;
	int trunc;
};

void shb_putn(struct shbuf *b, const char *s, size_t n);
void shb_putc(struct shbuf *b, char c);
void shb_puts(struct shbuf *b, const char *s);
/* The text (malloc'd, never NULL); the buffer is emptied. */
char *shb_take(struct shbuf *b);

/* Value of a hex digit, or -1. */
int sh_hexval(int c);
/*
 * Decode the backslash escape at s[*i] (s[*i] == '\\') as $'..', echo -e and
 * printf do. Returns 1 for a numeric escape (\x \NNN \u \c: the ones that hide
 * text), 0 for a plain one, -1 for "\c" in echo (stop output). Advances *i.
 */
int sh_decode_escape(const char *s, size_t len, size_t *i, struct shbuf *b, int echo_octal);
/* A shell number: decimal, 0x hex or 0 octal; garbage is 0, never negative overflow. */
long long sh_num(const char *s);

#endif
