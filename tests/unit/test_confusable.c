/* UTS #39 skeletons from the build-time table: look-alikes meet, distinct text does not. */
#include <stdlib.h>

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
