/*
 * Bounded decoders for the encodings a secret or a host name is hidden in:
 * URL percent-encoding, base64 (std and url-safe, padded or not), hex, base32
 * and JSON/C string escapes. Each writes at most outcap bytes and returns the
 * decoded length, or DEC_ERR when the input is not in that encoding or the
 * output does not fit. None allocates; none NUL-terminates.
 *
 * dec_expand() peels nested encodings (a base64 of a URL-encoded key) and hands
 * every decoded layer that reads as text to a visitor, within a depth and a
 * byte budget.
 */
#ifndef MG_DECODE_H
#define MG_DECODE_H

#include <stddef.h>

#define DEC_ERR ((size_t)-1)

#define DEC_B64_STD 0 /* A-Z a-z 0-9 + / */
#define DEC_B64_URL 1 /* A-Z a-z 0-9 - _ */
#define DEC_B64_ANY 2 /* either alphabet, also mixed */

/* '=' padding optional; a dangling single sextet (length % 4 == 1) is an error. */
size_t dec_base64(const char *in, size_t n, unsigned char *out, size_t outcap, int urlsafe);
/* Even number of hex digits, either case. */
size_t dec_hex(const char *in, size_t n, unsigned char *out, size_t outcap);
/* RFC 4648 base32 (A-Z 2-7), either case, '=' padding optional. */
size_t dec_base32(const char *in, size_t n, unsigned char *out, size_t outcap);
/* %XX sequences decoded; anything else (incl. a stray '%' and '+') copied. */
size_t dec_url(const char *in, size_t n, unsigned char *out, size_t outcap);
/*
 * Backslash escapes: \" \\ \/ \b \f \n \r \t, \uXXXX (surrogate pairs joined,
 * written as UTF-8), \xHH. Unknown escapes are copied as written.
 */
size_t dec_json_escapes(const char *in, size_t n, unsigned char *out, size_t outcap);

/* Does s[0..n) read as text (printable ASCII, whitespace, valid UTF-8; no NUL)? */
int dec_is_text(const unsigned char *s, size_t n);
/* Does s hold a %XX sequence / a backslash escape dec_json_escapes knows? */
int dec_has_url_escape(const char *s, size_t n);
int dec_has_json_escape(const char *s, size_t n);

/* Visitor: one decoded layer; chain names the decoders applied, e.g. "base64>url". */
typedef void (*dec_visit_fn)(const char *s, size_t n, const char *chain, void *ctx);

struct dec_limits {
	int maxdepth;  /* layers peeled (4) */
	size_t budget; /* total decoded bytes over all layers */
	size_t minrun; /* shortest base64/hex/base32 run worth decoding (16) */
};

/*
 * Find encoded spans in s (the whole string for URL and escape decoding; runs
 * of the base64/hex/base32 alphabets of at least minrun characters) and call
 * fn on each decoded result that is text, then recurse into it. The original
 * s is not visited. Returns the number of layers visited.
 */
size_t dec_expand(const char *s, size_t n, const struct dec_limits *lim, dec_visit_fn fn,
		  void *ctx);

#endif
