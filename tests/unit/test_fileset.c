#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filepat.h"
#include "fileset.h"
#include "t.h"

static void put(const char *root, const char *rel)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	if (f) {
		fputs("x\n", f);
		fclose(f);
	}
}

static void dir(const char *root, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	mkdir(p, 0700);
}

/* The entry for root/rel in v, or NULL. */
static const struct fs_inode *find(const struct fs_inode *v, size_t n, const char *root,
				   const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	if (stat(p, &st) != 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (v[i].key.ino == st.st_ino && v[i].key.dev == filepat_kdev(st.st_dev))
			return &v[i];
	return NULL;
}

static int sorted(const struct fs_inode *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (memcmp(&v[i - 1].key, &v[i].key, sizeof(v[i].key)) >= 0)
			return 0;
	return 1;
}

static void rm_rf(const char *root)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", root);
}

TEST(fileset_resolves_globs_for_every_home)
{
	char root[] = "/tmp/mg-fileset.XXXXXX", h1[PATH_MAX], h2[PATH_MAX], shadow[PATH_MAX],
	     link[PATH_MAX], target[PATH_MAX];
	const char *homes[2] = {h1, h2};
	char *keys[] = {"~/.ssh/id_*"}, *gcloud[] = {"~/.config/gcloud/**"}, *abs[] = {shadow},
	     *dup[] = {"~/.ssh/id_rsa"}, *allow[] = {"~/.ssh/config"};
	struct pol_file_rule rules[] = {
	    {.name = "keys", .paths = keys, .npaths = 1, .action = PA_BLOCK},
	    {.name = "gcloud", .paths = gcloud, .npaths = 1, .action = PA_WARN},
	    {.name = "abs", .paths = abs, .npaths = 1, .action = PA_BLOCK},
	    {.name = "dup", .paths = dup, .npaths = 1, .action = PA_WARN},
	    {.name = "allow", .paths = allow, .npaths = 1, .action = PA_ALLOW},
	};
	uint32_t ids[] = {0, 1, 2, 3, 4};
	uint32_t acts[] = {MG_ACT_BLOCK, MG_ACT_AUDIT, MG_ACT_BLOCK, MG_ACT_AUDIT, MG_ACT_ALLOW};
	struct policy pol;
	struct fileset fs;
	const struct fs_inode *e;
	int found_path = 0;

	ASSERT_TRUE(mkdtemp(root) != NULL);
	snprintf(h1, sizeof(h1), "%s/h1", root);
	snprintf(h2, sizeof(h2), "%s/h2", root);
	snprintf(shadow, sizeof(shadow), "%s/etc/shadow", root);
	dir(root, "h1");
	dir(root, "h2");
	dir(root, "etc");
	dir(root, "elsewhere");
	dir(root, "h1/.ssh");
	dir(root, "h2/.ssh");
	dir(root, "h1/.config");
	dir(root, "h1/.config/gcloud");
	dir(root, "h1/.config/gcloud/a");
	dir(root, "h1/.config/gcloud/a/b");
	put(root, "h1/.ssh/id_rsa");
	put(root, "h1/.ssh/id_rsa.pub");
	put(root, "h1/.ssh/config");
	put(root, "h2/.ssh/id_ed25519");
	put(root, "h1/.config/gcloud/a/b/creds.json");
	put(root, "h1/.config/gcloud/x.db");
	put(root, "elsewhere/not-gcloud.json");
	put(root, "etc/shadow");
	/* A symlinked directory under a "**" is not followed out of the tree. */
	snprintf(link, sizeof(link), "%s/h1/.config/gcloud/linkdir", root);
	snprintf(target, sizeof(target), "%s/elsewhere", root);
	ASSERT_EQ(symlink(target, link), 0);

	memset(&pol, 0, sizeof(pol));
	pol.files.enabled = true;
	pol.files.rules = rules;
	pol.files.nrules = sizeof(rules) / sizeof(rules[0]);
	fileset_resolve(&pol, ids, acts, homes, 2, &fs);

	ASSERT_EQ(fs.ninodes, 6u);
	ASSERT_TRUE(sorted(fs.inodes, fs.ninodes));
	ASSERT_TRUE(sorted(fs.dirs, fs.ndirs));
	/* Named by "keys" (block) and "dup" (audit): the stronger action wins. */
	e = find(fs.inodes, fs.ninodes, root, "h1/.ssh/id_rsa");
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(e->rule.action, (uint32_t)MG_ACT_BLOCK);
	ASSERT_EQ(e->rule.rule_id, 0u);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "h1/.ssh/id_rsa.pub") != NULL);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "h2/.ssh/id_ed25519") != NULL);
	e = find(fs.inodes, fs.ninodes, root, "h1/.config/gcloud/a/b/creds.json");
	ASSERT_TRUE(e != NULL);
	ASSERT_EQ(e->rule.action, (uint32_t)MG_ACT_AUDIT);
	ASSERT_EQ(e->rule.rule_id, 1u);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "h1/.config/gcloud/x.db") != NULL);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "etc/shadow") != NULL);
	/* Not protected: an allow rule's file, the directories a "**" walks, a symlinked dir. */
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "h1/.ssh/config") == NULL);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "h1/.config/gcloud/a") == NULL);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "elsewhere/not-gcloud.json") == NULL);
	/* The directories above protected files, up to the top, are kept from renames. */
	ASSERT_TRUE(find(fs.dirs, fs.ndirs, root, "h1/.ssh") != NULL);
	ASSERT_TRUE(find(fs.dirs, fs.ndirs, root, "h1") != NULL);
	ASSERT_TRUE(find(fs.dirs, fs.ndirs, root, "h1/.config/gcloud/a/b") != NULL);
	ASSERT_TRUE(find(fs.dirs, fs.ndirs, root, "elsewhere") == NULL);
	for (size_t i = 0; i < fs.npaths; i++)
		if (strcmp(fs.paths[i].path, shadow) == 0)
			found_path = 1;
	ASSERT_TRUE(found_path);
	found_path = 0;
	for (size_t i = 0; i < fs.npairs; i++)
		if (strcmp(fs.pairs[i].pair, "etc/shadow") == 0 && fs.pairs[i].rule.rule_id == 2)
			found_path = 1;
	ASSERT_TRUE(found_path);

	fileset_free(&fs);
	rm_rf(root);
}

TEST(fileset_sees_files_that_appear_later)
{
	char root[] = "/tmp/mg-fileset.XXXXXX", h[PATH_MAX];
	const char *homes[1] = {h};
	char *kube[] = {"~/.kube/config"};
	struct pol_file_rule rules[] = {
	    {.name = "kube", .paths = kube, .npaths = 1, .action = PA_BLOCK},
	};
	uint32_t ids[] = {7}, acts[] = {MG_ACT_BLOCK};
	struct policy pol;
	struct fileset fs;

	ASSERT_TRUE(mkdtemp(root) != NULL);
	snprintf(h, sizeof(h), "%s/u", root);
	dir(root, "u");
	memset(&pol, 0, sizeof(pol));
	pol.files.rules = rules;
	pol.files.nrules = 1;
	fileset_resolve(&pol, ids, acts, homes, 1, &fs);
	ASSERT_EQ(fs.ninodes, 0u);
	fileset_free(&fs);

	dir(root, "u/.kube");
	put(root, "u/.kube/config");
	fileset_resolve(&pol, ids, acts, homes, 1, &fs);
	ASSERT_EQ(fs.ninodes, 1u);
	ASSERT_EQ(fs.inodes[0].rule.rule_id, 7u);
	ASSERT_TRUE(find(fs.inodes, fs.ninodes, root, "u/.kube/config") != NULL);
	fileset_free(&fs);
	rm_rf(root);
}

TEST(fileset_pair_is_the_last_two_components)
{
	char out[MG_PAIR_LEN];

	ASSERT_EQ(fileset_pair("/home/u/.kube/config", out), 0);
	ASSERT_STREQ(out, ".kube/config");
	ASSERT_EQ(fileset_pair("/home/u/.kube//config", out), 0);
	ASSERT_STREQ(out, ".kube/config");
	ASSERT_EQ(fileset_pair("/etc/shadow/", out), 0);
	ASSERT_STREQ(out, "etc/shadow");
	ASSERT_EQ(fileset_pair("/shadow", out), -1);
	ASSERT_EQ(fileset_pair("config", out), -1);
	ASSERT_EQ(out[0], 0);
}
