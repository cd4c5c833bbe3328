#include <sys/sysmacros.h>

#include "filepat.h"
#include "t.h"

TEST(filepat_basename_kinds)
{
	enum filepat_kind k;
	const char *why;
	char text[64];

	ASSERT_EQ(filepat_basename("id_rsa*", &k, text, sizeof(text), &why), 0);
	ASSERT_EQ(k, FILEPAT_PREFIX);
	ASSERT_STREQ(text, "id_rsa");
	ASSERT_EQ(filepat_basename("*.pem", &k, text, sizeof(text), &why), 0);
	ASSERT_EQ(k, FILEPAT_SUFFIX);
	ASSERT_STREQ(text, ".pem");
	ASSERT_EQ(filepat_basename(".env", &k, text, sizeof(text), &why), 0);
	ASSERT_EQ(k, FILEPAT_EXACT);
	ASSERT_STREQ(text, ".env");
	ASSERT_EQ(filepat_basename(".env.*", &k, text, sizeof(text), &why), 0);
	ASSERT_EQ(k, FILEPAT_PREFIX);
	ASSERT_STREQ(text, ".env.");
}

TEST(filepat_basename_refuses_what_the_kernel_cannot_match)
{
	enum filepat_kind k;
	const char *why;
	char text[8];

	ASSERT_EQ(filepat_basename("*", &k, text, sizeof(text), &why), -1);
	ASSERT_TRUE(why != NULL);
	ASSERT_EQ(filepat_basename("a*b", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename("*a*", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename("id_?sa", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename(".ssh/id_rsa", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename("", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename("toolongname", &k, text, sizeof(text), &why), -1);
	ASSERT_EQ(filepat_basename("1234567", &k, text, sizeof(text), &why), 0);
}

TEST(filepat_match_kinds)
{
	ASSERT_TRUE(filepat_match(FILEPAT_PREFIX, "id_rsa", "id_rsa"));
	ASSERT_TRUE(filepat_match(FILEPAT_PREFIX, "id_rsa", "id_rsa.pub"));
	ASSERT_TRUE(!filepat_match(FILEPAT_PREFIX, "id_rsa", "my_id_rsa"));
	ASSERT_TRUE(filepat_match(FILEPAT_SUFFIX, ".pem", "server.pem"));
	ASSERT_TRUE(!filepat_match(FILEPAT_SUFFIX, ".pem", "pem"));
	ASSERT_TRUE(filepat_match(FILEPAT_EXACT, ".env", ".env"));
	ASSERT_TRUE(!filepat_match(FILEPAT_EXACT, ".env", ".envrc"));
}

TEST(filepat_kdev_is_kernel_mkdev)
{
	/* 259:3 (nvme) and a minor above 255 (userspace splits it around the major). */
	ASSERT_EQ(filepat_kdev(makedev(259, 3)), (259ull << 20) | 3);
	ASSERT_EQ(filepat_kdev(makedev(8, 300)), (8ull << 20) | 300);
	ASSERT_EQ(filepat_kdev(makedev(0, 45)), 45ull);
}

TEST(filepat_glob_components_and_recursion)
{
	ASSERT_TRUE(filepat_glob_match("/h/u/.ssh/id_*", "/h/u/.ssh/id_ed25519"));
	ASSERT_TRUE(!filepat_glob_match("/h/u/.ssh/id_*", "/h/u/.ssh/sub/id_rsa"));
	ASSERT_TRUE(!filepat_glob_match("/h/u/.ssh/id_*", "/h/u/.ssh"));
	ASSERT_TRUE(filepat_glob_match("/h/*/.aws/credentials", "/h/u/.aws/credentials"));
	ASSERT_TRUE(filepat_glob_match("/h/u/.config/gcloud/**", "/h/u/.config/gcloud/a/b/c.json"));
	ASSERT_TRUE(filepat_glob_match("/h/u/.config/gcloud/**", "/h/u/.config/gcloud/x"));
	ASSERT_TRUE(!filepat_glob_match("/h/u/.config/gcloud/**", "/h/u/.config/gh/hosts.yml"));
	ASSERT_TRUE(filepat_glob_match("/h/**/hosts.yml", "/h/u/.config/gh/hosts.yml"));
	ASSERT_TRUE(filepat_glob_match("/h/**/hosts.yml", "/h/hosts.yml"));
	ASSERT_TRUE(!filepat_glob_match("/h/**/hosts.yml", "/h/u/hosts.yaml"));
	ASSERT_TRUE(filepat_glob_match("/m/*/Login Data", "/m/Default/Login Data"));
}
