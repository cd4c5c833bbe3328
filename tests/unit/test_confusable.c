/* UTS #39 skeletons from the build-time table: look-alikes meet, distinct text does not. */
#include <stdlib.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

#include "confusable.h"
#include "t.h"

static int same_skeleton(const char *a, const char *b)
{
	char *sa = conf_skeleton(a, strlen(a)), *sb = conf_skeleton(b, strlen(b));
	int same = sa && sb && strcmp(sa, sb) == 0;

	free(sa);
	free(sb);
	return same;
}

TEST(confusable_lookalikes_across_scripts_meet)
{
	/* Cyrillic a, Greek capital alpha, Armenian o, Cherokee A, fullwidth a, math bold a. */
	ASSERT_TRUE(same_skeleton("p\xd0\xb0ypal", "paypal"));
	ASSERT_TRUE(same_skeleton("\xce\x91PI", "API"));
	ASSERT_TRUE(same_skeleton("t\xd6\x85ken", "token"));
	ASSERT_TRUE(same_skeleton("\xe1\x8e\xaaWS", "AWS"));
	ASSERT_TRUE(same_skeleton("\xef\xbd\x81pi", "api"));
	ASSERT_TRUE(same_skeleton("\xf0\x9d\x90\x9a"
				  "dmin",
				  "admin"));
	/* ASCII look-alikes too: l, 1 and I; rn and m; 0 and O. */
	ASSERT_TRUE(same_skeleton("fiIe", "file"));
	ASSERT_TRUE(same_skeleton("fi1e", "file"));
	ASSERT_TRUE(same_skeleton("rnodel", "model"));
	ASSERT_TRUE(same_skeleton("r00t", "rOOt"));
}

TEST(confusable_distinct_text_stays_distinct)
{
	ASSERT_FALSE(same_skeleton("read_file", "read_files"));
	ASSERT_FALSE(same_skeleton("send", "sand"));
	ASSERT_FALSE(same_skeleton("\xd0\x96", "X")); /* Cyrillic zhe: no Latin twin */
	/* Case is not a confusable: skeletons keep it (callers fold case themselves). */
	ASSERT_FALSE(same_skeleton("File", "file"));
}

TEST(confusable_skeleton_is_nfd_and_handles_bad_utf8)
{
	char *s = conf_skeleton("caf\xc3\xa9", 5); /* precomposed e acute */

	ASSERT_TRUE(s != NULL);
	ASSERT_TRUE(same_skeleton("caf\xc3\xa9", "cafe\xcc\x81"));
	ASSERT_FALSE(same_skeleton("caf\xc3\xa9", "cafe"));
	free(s);
	/* An invalid byte is U+FFFD, never dropped: "a\xff" is not "a". */
	ASSERT_TRUE(same_skeleton("a\xff", "a\xef\xbf\xbd"));
	ASSERT_FALSE(same_skeleton("a\xff", "a"));
	/* Length counts, not NUL: a cut UTF-8 sequence at the end is one U+FFFD. */
	s = conf_skeleton("ab\xd0", 3);
	ASSERT_STREQ(s, "ab\xef\xbf\xbd");
	free(s);
}

TEST(confusable_single_code_point)
{
	int32_t out[4];

	ASSERT_EQ(conf_skeleton_cp('I', out, 4), 1);
	ASSERT_EQ(out[0], 'l');
	ASSERT_EQ(conf_skeleton_cp(0x043E, out, 4), 1); /* Cyrillic o */
	ASSERT_EQ(out[0], 'o');
	ASSERT_EQ(conf_skeleton_cp('x', out, 4), 1);
	ASSERT_EQ(out[0], 'x');
	/* A ligature's skeleton is several letters; it must fit or nothing is returned. */
	ASSERT_EQ(conf_skeleton_cp(0xFB03, out, 4), 3);
	ASSERT_TRUE(out[0] == 'f' && out[1] == 'f' && out[2] == 'i');
	ASSERT_EQ(conf_skeleton_cp(0xFB03, out, 2), 0);
	ASSERT_EQ(conf_skeleton_cp(0x110000, out, 4), 0);
	ASSERT_EQ(conf_skeleton_cp(0xD800, out, 4), 0);
}

/*
 * The build-time tables and utf8proc's NFD must give exactly ICU's skeletons
 * and default-ignorables
 * (the spoof checker the table was generated from; only the unit tests link
 * ICU): every code point alone, and strings that mix scripts, combining marks
 * (whose order NFD fixes across mapped pieces) and compatibility characters.
 */
static char *icu_skeleton(const USpoofChecker *sc, const UChar *u, int32_t n)
{
	UChar out[512];
	char *s;
	int32_t m, k = 0;
	UErrorCode st = U_ZERO_ERROR;

	m = uspoof_getSkeleton(sc, 0, u, n, out, 512, &st);
	if (U_FAILURE(st))
		return NULL;
	s = malloc(4 * (size_t)m + 1);
	u_strToUTF8(s, 4 * m + 1, &k, out, m, &st);
	if (U_FAILURE(st)) {
		free(s);
		return NULL;
	}
	return s;
}

static int same_as_icu(const USpoofChecker *sc, const UChar32 *cps, int ncp)
{
	UChar u[64];
	char u8[128];
	int32_t n = 0, k = 0;
	UErrorCode st = U_ZERO_ERROR;
	char *a, *b;
	int same;

	for (int i = 0; i < ncp; i++)
		U16_APPEND_UNSAFE(u, n, cps[i]);
	u_strToUTF8(u8, sizeof(u8), &k, u, n, &st);
	a = icu_skeleton(sc, u, n);
	b = conf_skeleton(u8, (size_t)k);
	same = a && b && strcmp(a, b) == 0;
	if (!same)
		fprintf(stderr, "  U+%04X...(%d): ICU \"%s\", ours \"%s\"\n", (unsigned)cps[0], ncp,
			a ? a : "(error)", b ? b : "(null)");
	free(a);
	free(b);
	return same;
}

TEST(confusable_skeletons_are_icus)
{
	static const UChar32 pool[] = {
	    'a',    'l',    'I',    '1',    'O',    '0',    'm',    'r',    'n',     '/',
	    0x0430, 0x043E, 0x0440, 0x0435, 0x0391, 0x03BF, 0x0585, 0x13AA, 0x0301,  0x0308,
	    0x0327, 0x0323, 0x031B, 0x00E9, 0x1E9B, 0x01C6, 0xFB03, 0x2160, 0x1D41A, 0xFF41,
	    0x0627, 0x0661, 0x4E00, 0x3131, 0x0E01, 0x200B, 0x00AD, 0xFE0F, 0x0131,  0x0069};
	UErrorCode st = U_ZERO_ERROR;
	USpoofChecker *sc = uspoof_open(&st);
	uint32_t x = 2463534242u;
	int bad = 0;

	ASSERT_TRUE(U_SUCCESS(st));
	for (UChar32 c = 0; c <= 0x10FFFF && bad < 10; c++) {
		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		bad += !same_as_icu(sc, &c, 1);
		if (conf_is_ignorable(c) !=
		    u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT)) {
			fprintf(stderr, "  U+%04X: ignorable %d, ICU says %d\n", (unsigned)c,
				conf_is_ignorable(c),
				u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT));
			bad++;
		}
	}
	for (int i = 0; i < 20000 && bad < 10; i++) {
		UChar32 cps[6];
		int n;

		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		n = 2 + (int)(x % 5);
		for (int j = 0; j < n; j++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			cps[j] = pool[x % (sizeof(pool) / sizeof(pool[0]))];
		}
		bad += !same_as_icu(sc, cps, n);
	}
	uspoof_close(sc);
	ASSERT_EQ(bad, 0);
}
