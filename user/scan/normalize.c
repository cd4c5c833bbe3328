#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "confusable.h"
#include "log.h"
#include "normalize.h"
#include "xmalloc.h"

/* Byte classes of the final folding pass. */
enum { C_SEP = 0, C_LET, C_DIG, C_LEET, C_LEETSYM, C_HI };

static unsigned char cls[256];
static char low[256]; /* lowercase letter, or the letter a leet character stands for */
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
	for (int c = 0; c < 256; c++) {
		cls[c] = C_SEP;
		low[c] = (char)c;
	}
	for (int c = 'a'; c <= 'z'; c++) {
		cls[c] = C_LET;
		cls[c - 'a' + 'A'] = C_LET;
		low[c - 'a' + 'A'] = (char)c;
	}
	for (int c = '0'; c <= '9'; c++)
		cls[c] = C_DIG;
	/* Only the substitutions the brief lists: each reads as one letter. */
	static const char leet[][2] = {{'0', 'o'}, {'1', 'i'}, {'3', 'e'}, {'4', 'a'},
				       {'5', 's'}, {'7', 't'}, {'@', 'a'}, {'$', 's'}};
	for (size_t i = 0; i < sizeof(leet) / sizeof(leet[0]); i++) {
		unsigned char c = (unsigned char)leet[i][0];

		cls[c] = (c >= '0' && c <= '9') ? C_LEET : C_LEETSYM;
		low[c] = leet[i][1];
	}
	for (int c = 0x80; c < 256; c++)
		cls[c] = C_HI; /* bytes of non-ASCII letters left by the Unicode pass */
}

int norm_is_ascii(const char *in, size_t len)
{
	size_t i = 0;
	uint64_t acc = 0;

	for (; i + 32 <= len; i += 32) {
		uint64_t w[4];

		memcpy(w, in + i, sizeof(w));
		acc |= w[0] | w[1] | w[2] | w[3];
		if (acc & 0x8080808080808080ull)
			return 0;
	}
	for (; i < len; i++)
		if ((unsigned char)in[i] & 0x80)
			return 0;
	return !(acc & 0x8080808080808080ull);
}

static inline int is_word_byte(unsigned char k)
{
	return k == C_LET || k == C_HI;
}

/*
 * Lowercase, leet inside words, collapse separators. Writes at most n bytes to
 * dst (every input byte yields at most one output byte). Bytes >= 0x80 are
 * copied: they belong to letters the Unicode pass kept.
 */
static size_t fold_final(const unsigned char *src, size_t n, char *dst, unsigned *fl, int keep)
{
	size_t o = 0;
	int prev_word = 0; /* last emitted byte is a letter */

	for (size_t i = 0; i < n; i++) {
		unsigned char c = src[i];
		unsigned char k = cls[c];

		if (k == C_LET || k == C_HI) {
			dst[o++] = low[c];
			prev_word = 1;
			continue;
		}
		if (k == C_SEP)
			goto sep;
		if (k == C_LEET || k == C_LEETSYM) {
			if (prev_word || (i + 1 < n && is_word_byte(cls[src[i + 1]]))) {
				dst[o++] = low[c];
				*fl |= NORM_LEET;
				prev_word = 1;
				continue;
			}
			if (k == C_LEETSYM)
				goto sep;
		}
		dst[o++] = (char)c; /* digit */
		prev_word = 0;
		continue;
	sep:
		prev_word = 0;
		if (keep && c > 0x20 && c < 0x7f) {
			dst[o++] = (char)c; /* punctuation kept for structural patterns */
			continue;
		}
		if (o > 0 && dst[o - 1] != ' ')
			dst[o++] = ' ';
	}
	if (o > 0 && dst[o - 1] == ' ')
		o--;
	dst[o] = '\0';
	return o;
}

/* ---- Unicode path ---- */

struct obuf {
	char *p;
	size_t n, cap;
};

static void ob_need(struct obuf *b, size_t more)
{
	if (b->n + more + 1 <= b->cap)
		return;
	while (b->n + more + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 64;
	b->p = xreallocarray(b->p, b->cap, 1);
}

static void ob_putc(struct obuf *b, char c)
{
	ob_need(b, 1);
	b->p[b->n++] = c;
}

/* Strict UTF-8 decode of one code point (no overlongs, surrogates or > U+10FFFF);
 * returns bytes used, or 0 if invalid. */
static inline size_t u8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
	unsigned c = s[0];
	int32_t v;

	if (c < 0x80) {
		*cp = (int32_t)c;
		return 1;
	}
	if (c < 0xC2 || c > 0xF4)
		return 0;
	if (c < 0xE0) {
		if (n < 2 || (s[1] & 0xC0) != 0x80)
			return 0;
		*cp = (int32_t)(((c & 0x1F) << 6) | (s[1] & 0x3F));
		return 2;
	}
	if (c < 0xF0) {
		if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		v = (int32_t)(((c & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu));
		if (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))
			return 0;
		*cp = v;
		return 3;
	}
	if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
		return 0;
	v = (int32_t)(((c & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) |
		      (s[3] & 0x3Fu));
	if (v < 0x10000 || v > 0x10FFFF)
		return 0;
	*cp = v;
	return 4;
}

static int is_ascii_alnum(int32_t cp)
{
	return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
}

static int is_invisible(int32_t cp)
{
	/* Default-ignorables include unassigned ones, which utf8proc does not know. */
	if (conf_is_ignorable(cp) || utf8proc_category(cp) == UTF8PROC_CATEGORY_CF)
		return 1;
	/* Fillers that render blank but are letters, and the blank braille cell. */
	return cp == 0x115F || cp == 0x1160 || cp == 0x3164 || cp == 0xFFA0 || cp == 0x2800;
}

static int is_bidi_control(int32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Variation selector value 0..255 (the byte it can smuggle), or -1. */
static int vs_value(int32_t cp)
{
	if (cp >= 0xFE00 && cp <= 0xFE0F)
		return cp - 0xFE00;
	if (cp >= 0xE0100 && cp <= 0xE01EF)
		return cp - 0xE0100 + 16;
	return -1;
}

/* ---- confusables (UTS #39 skeletons, table built from ICU at build time) ---- */

/* Skeleton of one code point if it is 1..3 ASCII letters/digits; else 0. */
static size_t skeleton_ascii(int32_t cp, char out[3])
{
	int32_t dst[4];
	size_t dn = conf_skeleton_cp(cp, dst, 4);

	if (dn < 1 || dn > 3)
		return 0;
	for (size_t i = 0; i < dn; i++) {
		if (dst[i] >= 0x80 || !is_ascii_alnum(dst[i]))
			return 0;
		out[i] = (char)(dst[i] >= 'A' && dst[i] <= 'Z' ? dst[i] + 32 : dst[i]);
	}
	return dn;
}

/*
 * Everything done to one non-ASCII code point, cached per thread: NFKD
 * (compatibility) decomposition with marks dropped (so composition never
 * matters: we keep base letters only), then each piece mapped to its ASCII
 * UTS #39 skeleton when it has one, else lowercased if it is a letter or
 * digit, else a space. The lowercase form is tried first: UTS #39 maps capital
 * I-like letters to "l", their lowercase forms to "i".
 */
#define CP_OUT 11
struct cp_ent {
	uint32_t cp;
	uint8_t len;   /* bytes in out */
	uint8_t conf;  /* a skeleton was used */
	uint8_t plain; /* norm_plain_at's answer: 0 not yet known, 1 plain, 2 not */
	uint8_t inv;   /* is_invisible */
	char out[CP_OUT];
};
#define CP_CACHE 4096
static __thread struct cp_ent cp_cache[CP_CACHE];

static void put(char *o, size_t *n, size_t cap, const char *s, size_t k)
{
	if (*n + k <= cap) {
		memcpy(o + *n, s, k);
		*n += k;
	}
}

/* Fold cp into o (capacity cap); returns bytes, sets *conf if a skeleton was used. */
static size_t cp_fold(int32_t cp, char *o, size_t cap, int *conf)
{
	utf8proc_int32_t d[18];
	int lb = 0;
	utf8proc_ssize_t k = utf8proc_decompose_char(
	    cp, d, 18, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STRIPMARK, &lb);
	size_t n = 0;

	if (k < 0 || k > 18) {
		d[0] = cp;
		k = 1;
	}
	for (utf8proc_ssize_t i = 0; i < k; i++) {
		int32_t r = d[i];
		char sk[3], enc[4];
		size_t sl = 0;

		if (r < 0x80) {
			char c = (char)r;

			put(o, &n, cap, &c, 1);
			continue;
		}
		int32_t lc = utf8proc_tolower(r);

		sl = skeleton_ascii(lc, sk);
		if (sl == 0 && lc != r)
			sl = skeleton_ascii(r, sk);
		if (sl) {
			put(o, &n, cap, sk, sl);
			*conf = 1;
			continue;
		}
		switch (utf8proc_category(r)) {
		case UTF8PROC_CATEGORY_LU:
		case UTF8PROC_CATEGORY_LL:
		case UTF8PROC_CATEGORY_LT:
		case UTF8PROC_CATEGORY_LM:
		case UTF8PROC_CATEGORY_LO:
		case UTF8PROC_CATEGORY_ND:
		case UTF8PROC_CATEGORY_NL:
		case UTF8PROC_CATEGORY_NO:
		case UTF8PROC_CATEGORY_CO:
		case UTF8PROC_CATEGORY_CN:
			put(o, &n, cap, enc,
			    (size_t)utf8proc_encode_char(utf8proc_tolower(r),
							 (utf8proc_uint8_t *)enc));
			break;
		case UTF8PROC_CATEGORY_MN:
		case UTF8PROC_CATEGORY_MC:
		case UTF8PROC_CATEGORY_ME:
			break;
		default:
			put(o, &n, cap, " ", 1);
		}
	}
	return n;
}

/* Pass B: every code point through cp_fold (cached). */
/* A fold too long for the cache (ligature, square word). */
struct cp_long {
	size_t len;
	int conf;
	int inv;
	char out[80];
};

/* Where cp's answers are cached (or another code point's, to be replaced). */
static struct cp_ent *cp_slot(int32_t cp)
{
	return &cp_cache[((uint32_t)cp * 2654435761u) >> 20];
}

/* cp_entry's miss: fold cp into e, or into big when it is too long for an entry. */
static struct cp_ent *cp_fill(struct cp_ent *e, int32_t cp, struct cp_long *big)
{
	big->conf = 0;
	big->len = cp_fold(cp, big->out, sizeof(big->out), &big->conf);
	big->inv = is_invisible(cp);
	if (big->len > CP_OUT)
		return NULL;
	e->cp = (uint32_t)cp;
	e->len = (uint8_t)big->len;
	e->conf = (uint8_t)big->conf;
	e->plain = 0;
	e->inv = (uint8_t)big->inv;
	memcpy(e->out, big->out, big->len);
	return e;
}

/*
 * cp's cache entry, folded and filled on a miss; NULL for a fold longer than an
 * entry holds, which is then in *big (not cached).
 */
static inline struct cp_ent *cp_entry(int32_t cp, struct cp_long *big)
{
	struct cp_ent *e = cp_slot(cp);

	return e->cp == (uint32_t)cp ? e : cp_fill(e, cp, big);
}

/*
 * One pass over the text: invalid bytes dropped, invisible characters removed,
 * tag characters and variation-selector runs taken out (the text they carry
 * decoded into tag), and every other non-ASCII code point replaced by its
 * cached fold (cp_entry). ASCII runs are copied as they are.
 */
static void sanitize_map(const unsigned char *s, size_t n, struct obuf *c, struct obuf *tag,
			 unsigned *fl)
{
	int32_t prev = -1; /* last kept code point */
	size_t inv_run = 0, vs_run = 0, vs_mark = 0;
	int inv_pending = 0;

	for (size_t i = 0; i < n;) {
		const struct cp_ent *e = NULL;
		struct cp_long big;
		int32_t cp;
		size_t k;
		int vs;

		/* Plain ASCII between the interesting characters: copy it through. */
		if (s[i] < 0x80 && !vs_run && !inv_pending) {
			size_t j = i;

			while (j < n && s[j] < 0x80)
				j++;
			ob_need(c, j - i);
			memcpy(c->p + c->n, s + i, j - i);
			c->n += j - i;
			prev = s[j - 1];
			i = j;
			continue;
		}
		k = u8_decode(s + i, n - i, &cp);
		if (k == 0) {
			/* Bad byte: dropped so it cannot split a word, flagged, rest kept. */
			*fl |= NORM_INVISIBLE;
			i++;
			continue;
		}
		i += k;
		vs = vs_value(cp);
		if (vs >= 0) {
			if (vs_run++ == 0)
				vs_mark = tag->n;
			ob_putc(tag, (vs >= 0x20 && vs < 0x7f) ? (char)vs : ' ');
			continue;
		}
		if (vs_run) {
			/* One selector after an emoji is normal; a run carries bytes. */
			if (vs_run >= 2)
				*fl |= NORM_TAGS;
			else
				tag->n = vs_mark;
			vs_run = 0;
		}
		if (cp >= 0xE0000 && cp <= 0xE007F) {
			if (cp >= 0xE0020 && cp <= 0xE007E)
				ob_putc(tag, (char)(cp - 0xE0000));
			*fl |= NORM_TAGS;
			continue;
		}
		if (cp >= 0x80)
			e = cp_entry(cp, &big); /* NULL for a long fold, which is then in big */
		if (cp >= 0x80 && (e ? e->inv : big.inv)) {
			if (is_bidi_control(cp) || ++inv_run >= 3)
				*fl |= NORM_INVISIBLE;
			inv_pending = 1;
			continue;
		}
		if (inv_pending && prev >= 0 && is_ascii_alnum(prev) && is_ascii_alnum(cp))
			*fl |= NORM_INVISIBLE; /* a word split by invisible characters */
		inv_pending = 0;
		inv_run = 0;
		prev = cp;
		if (cp < 0x80) {
			ob_putc(c, (char)cp);
			continue;
		}
		if (e ? e->conf : big.conf)
			*fl |= NORM_CONFUSABLE;
		k = e ? e->len : big.len;
		ob_need(c, k);
		memcpy(c->p + c->n, e ? e->out : big.out, k);
		c->n += k;
	}
	if (vs_run >= 2)
		*fl |= NORM_TAGS;
	else if (vs_run)
		tag->n = vs_mark;
}

char norm_leet_letter(unsigned char c)
{
	pthread_once(&tab_once, tab_init);
	return cls[c] == C_LEET ? low[c] : 0;
}

size_t norm_plain_at(const char *s, size_t n, size_t at)
{
	const unsigned char *b = (const unsigned char *)s + at;
	int32_t cp;
	size_t k = u8_decode(b, n - at, &cp);
	struct cp_ent *e;
	struct cp_long big;
	int plain = 1;

	if (k == 0)
		return 0; /* bad UTF-8 */
	if (cp < 0x80)
		return 1;
	e = cp_slot(cp);
	if (e->cp == (uint32_t)cp && e->plain)
		return e->plain == 1 ? k : 0;
	if (!(e = cp_entry(cp, &big)))
		return 0; /* a long expansion */
	/*
	 * Folds to non-ASCII letters only (itself, its lower case, Hangul jamo...):
	 * the ASCII phrases of the rules see the same either way. A look-alike, an
	 * ASCII letter or space (é -> e), or nothing (invisibles, which include
	 * bidi controls, variation selectors and tag characters) is what matters.
	 */
	if (e->inv || e->conf || e->len == 0)
		plain = 0;
	for (size_t i = 0; plain && i < e->len; i++)
		if ((unsigned char)e->out[i] < 0x80)
			plain = 0;
	e->plain = plain ? 1 : 2;
	return plain ? k : 0;
}

static size_t fold_unicode(const unsigned char *in, size_t len, char **out, unsigned *fl, int keep)
{
	struct obuf tag = {0}, c = {0};
	char *res;
	size_t n;

	ob_need(&c, len);
	sanitize_map(in, len, &c, &tag, fl);
	if (tag.n) {
		ob_putc(&c, ' ');
		ob_need(&c, tag.n);
		memcpy(c.p + c.n, tag.p, tag.n);
		c.n += tag.n;
	}
	res = xmalloc(c.n + 1);
	n = fold_final((const unsigned char *)c.p, c.n, res, fl, keep);
	free(tag.p);
	free(c.p);
	*out = res;
	return n;
}

static size_t fold(const char *in, size_t len, char **out, unsigned *flags, int keep)
{
	unsigned fl = 0;
	size_t n;

	pthread_once(&tab_once, tab_init);
	if (norm_is_ascii(in, len)) {
		*out = xmalloc(len + 1);
		n = fold_final((const unsigned char *)in, len, *out, &fl, keep);
	} else
		n = fold_unicode((const unsigned char *)in, len, out, &fl, keep);
	if (flags)
		*flags = fl;
	return n;
}

size_t norm_fold(const char *in, size_t len, char **out, unsigned *flags)
{
	return fold(in, len, out, flags, 0);
}

size_t norm_fold_punct(const char *in, size_t len, char **out, unsigned *flags)
{
	return fold(in, len, out, flags, 1);
}
