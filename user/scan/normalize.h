/*
 * Text folding before pattern matching, so that an instruction written with
 * look-alike letters, invisible characters, smuggled tag characters, leetspeak
 * or odd spacing reads the same as the plain one.
 */
#ifndef MG_NORMALIZE_H
#define MG_NORMALIZE_H

#include <stddef.h>

/* What norm_fold found and removed or mapped (flags out-parameter). */
#define NORM_INVISIBLE                                                                             \
	1u	     /* invisible/format characters splitting words, bidi overrides, bad UTF-8 */
#define NORM_TAGS 2u /* Unicode tag characters or variation-selector runs carrying text */
#define NORM_CONFUSABLE 4u /* letters mapped to their UTS #39 skeleton */
#define NORM_LEET 8u	   /* digits/symbols inside words read as letters */

/*
 * Fold in[0..len) into a malloc'd NUL-terminated copy in *out and return its
 * length. Steps: invalid UTF-8 bytes dropped (never truncates: the rest is kept),
 * invisible and tag characters removed (text smuggled in tag characters or
 * variation selectors is decoded and appended after a space), NFKC with marks
 * stripped, non-ASCII letters mapped to their UTS #39 skeleton (confusable.h) when
 * it is ASCII, lowercase, digits and @ $ inside words read as letters (0->o 1->i
 * 3->e 4->a 5->s 7->t @->a $->s), and runs of whitespace and punctuation
 * collapsed to one space. Pure-ASCII input takes a table-driven path that never
 * touches utf8proc. flags may be NULL.
 */
size_t norm_fold(const char *in, size_t len, char **out, unsigned *flags);

/*
 * The same, but ASCII punctuation is kept (only whitespace runs collapse), for
 * patterns that need structure: tags, paths, URLs, brackets.
 */
size_t norm_fold_punct(const char *in, size_t len, char **out, unsigned *flags);

/* The letter a leet digit reads as ('0' -> 'o', '1' -> 'i' ...), or 0 (2, 6, 8, 9, non-digits). */
char norm_leet_letter(unsigned char c);

/*
 * The byte length of the code point at s[at] if folding gives only non-ASCII
 * letters for it (itself, its lower case, Hangul jamo: most CJK, Hangul,
 * Cyrillic and Greek), so ASCII phrases read the same folded or not; else 0:
 * bad UTF-8, invisible, tag, mark, space or symbol, look-alike, or a letter
 * that folds to ASCII (é). Cached per thread; the text scanner folds only
 * around code points that fold to something that matters.
 */
size_t norm_plain_at(const char *s, size_t n, size_t at);

/* Is in[0..len) pure ASCII? (word-at-a-time; used to skip the Unicode work) */
int norm_is_ascii(const char *in, size_t len);

#endif
