#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "confusable.h"
#include "xmalloc.h"

#include "confusables.inc" /* generated: conf_key, conf_val, conf_pool, conf_ign */

/* cp's prototype as a slice of conf_pool; *len 0 when cp stands for itself. */
static const uint32_t *proto(int32_t cp, size_t *len)
{
	size_t lo = 0, hi = CONF_N;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (conf_key[mid] < (uint32_t)cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < CONF_N && conf_key[lo] == (uint32_t)cp) {
		*len = conf_val[lo] & 0xff;
		return conf_pool + (conf_val[lo] >> 8);
	}
	*len = 0;
	return NULL;
}

int conf_is_ignorable(int32_t cp)
{
	size_t lo = 0, hi = CONF_NIGN;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (conf_ign[mid][1] < (uint32_t)cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < CONF_NIGN && conf_ign[lo][0] <= (uint32_t)cp;
}

/*
 * s (n bytes) as valid UTF-8, an invalid byte as U+FFFD (3 bytes: at most 3n),
 * without ignorable code points if drop; *len its length. Caller frees.
 */
static utf8proc_uint8_t *clean_utf8(const char *s, size_t n, int drop, size_t *len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_uint8_t *out = xmalloc(3 * n + 1);
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(n - i), &cp);

		if (k <= 0) {
			cp = 0xFFFD;
			k = 1;
		}
		i += (size_t)k;
		if (!drop || !conf_is_ignorable(cp))
			o += (size_t)utf8proc_encode_char(cp, out + o);
	}
	out[o] = '\0';
	*len = o;
	return out;
}

char *conf_drop_ignorables(const char *s, size_t n)
{
	size_t len;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	return (char *)clean_utf8(s, n, 1, &len);
}

char *conf_utf8_map(const char *s, size_t n, int options)
{
	utf8proc_uint8_t *clean, *out = NULL;
	size_t len;

	if (n > (SIZE_MAX - 1) / 3 / 4) /* utf8proc needs room for 4 bytes per code point */
		return NULL;
	clean = clean_utf8(s, n, 0, &len);
	if (utf8proc_map(clean, (utf8proc_ssize_t)len, &out, (utf8proc_option_t)options) < 0)
		out = NULL;
	free(clean);
	return (char *)out;
}

char *conf_skeleton(const char *s, size_t n)
{
	char *nfd = conf_utf8_map(s, n, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE), *mapped, *r;
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)nfd;
	size_t len, cap, o = 0;

	if (!nfd)
		return NULL;
	len = strlen(nfd);
	/* Prototypes are at most 255 code points of 4 bytes; grow as needed. */
	cap = 2 * len + 64;
	mapped = xmalloc(cap);
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t cp;
		utf8proc_ssize_t k = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		const uint32_t *pr;
		size_t pl;

		if (k <= 0) /* cannot happen: nfd is valid UTF-8 */
			break;
		i += (size_t)k;
		pr = proto(cp, &pl);
		if (!pr) {
			pr = (const uint32_t *)&cp;
			pl = 1;
		}
		if (o + 4 * pl + 1 > cap) {
			cap = 2 * cap + 4 * pl;
			mapped = xreallocarray(mapped, cap, 1);
		}
		for (size_t j = 0; j < pl; j++)
			o += (size_t)utf8proc_encode_char((utf8proc_int32_t)pr[j],
							  (utf8proc_uint8_t *)mapped + o);
	}
	free(nfd);
	r = conf_utf8_map(mapped, o, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
	free(mapped);
	return r;
}

size_t conf_skeleton_cp(int32_t cp, int32_t *out, size_t cap)
{
	utf8proc_uint8_t enc[4];
	utf8proc_ssize_t el;
	char *sk;
	size_t n = 0, len;

	if (!utf8proc_codepoint_valid(cp))
		return 0;
	el = utf8proc_encode_char(cp, enc);
	if ((sk = conf_skeleton((const char *)enc, (size_t)el)) == NULL)
		return 0;
	len = strlen(sk);
	for (size_t i = 0; i < len;) {
		utf8proc_int32_t c;
		utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)sk + i,
						      (utf8proc_ssize_t)(len - i), &c);

		if (k <= 0 || n == cap) {
			n = 0;
			break;
		}
		out[n++] = c;
		i += (size_t)k;
	}
	free(sk);
	return n;
}
