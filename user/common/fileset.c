/*
 * The protected set resolved from the policy's path globs: for every user's home,
 * the (dev, ino) of each matching file (dev in the kernel's encoding, also under the
 * superblock device where stat() reports another), the directories above them, and
 * the absolute paths. Sorted by key, so two resolutions can be diffed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "filepat.h"
#include "fileset.h"
#include "log.h"
#include "xmalloc.h"

#define WALK_BUDGET 200000 /* directory entries visited per refresh, all globs together */
#define WALK_DEPTH 32

/* A mount's superblock device, from /proc/self/mountinfo (id -> major:minor). */
struct mnt {
	int id;
	dev_t dev;
};

struct resolver {
	struct fileset *fs;
	struct mnt *mnts;
	size_t nmnts;
	struct mg_file_rule rule;
	const char *pattern;
	int recursive;
	long budget;
};

static void push_key(struct fs_inode **v, size_t *n, size_t *c, dev_t dev, ino_t ino,
		     const struct mg_file_rule *rule)
{
	if (*n == *c) {
		*c = *c ? *c * 2 : 64;
		*v = xreallocarray(*v, *c, sizeof(**v));
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].key.dev = filepat_kdev(dev);
	(*v)[*n].key.ino = ino;
	(*v)[*n].rule = *rule;
	(*n)++;
}

static void load_mounts(struct resolver *rv)
{
	unsigned maj, mnr;
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int id, parent;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%d %d %u:%u", &id, &parent, &maj, &mnr) != 4)
			continue;
		rv->mnts = xreallocarray(rv->mnts, rv->nmnts + 1, sizeof(*rv->mnts));
		rv->mnts[rv->nmnts].id = id;
		rv->mnts[rv->nmnts].dev = makedev(maj, mnr);
		rv->nmnts++;
	}
	fclose(f);
}

/*
 * The LSM sees inode->i_sb->s_dev. stat() reports the same device except where a
 * filesystem's getattr substitutes another: btrfs gives each subvolume (often
 * /home) its own anonymous device. The superblock's device is the mount's
 * major:minor in mountinfo, found by the file's mount id.
 */
static void push_inode(const struct resolver *rv, struct fs_inode **v, size_t *n, size_t *c,
		       const char *path, const struct stat *st)
{
	struct statx sx;
	size_t i;

	push_key(v, n, c, st->st_dev, st->st_ino, &rv->rule);
	if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_MNT_ID, &sx) != 0 ||
	    !(sx.stx_mask & STATX_MNT_ID))
		return;
	for (i = 0; i < rv->nmnts; i++) {
		if (rv->mnts[i].id != (int)sx.stx_mnt_id)
			continue;
		if (rv->mnts[i].dev != st->st_dev)
			push_key(v, n, c, rv->mnts[i].dev, st->st_ino, &rv->rule);
		return;
	}
}

int fileset_pair(const char *path, char out[MG_PAIR_LEN])
{
	const char *name, *parent, *pend;
	size_t n = strlen(path), nlen, plen;

	memset(out, 0, MG_PAIR_LEN);
	while (n > 0 && path[n - 1] == '/')
		n--;
	name = path + n;
	while (name > path && name[-1] != '/')
		name--;
	nlen = (size_t)(path + n - name);
	pend = name;
	while (pend > path && pend[-1] == '/')
		pend--; /* "a//b": the kernel side skips empty components too */
	parent = pend;
	while (parent > path && parent[-1] != '/')
		parent--;
	plen = (size_t)(pend - parent);
	if (nlen == 0 || plen == 0 || nlen >= MG_NAME_LEN || plen >= MG_NAME_LEN)
		return -1;
	memcpy(out, parent, plen);
	out[plen] = '/';
	memcpy(out + plen + 1, name, nlen);
	return 0;
}

static void push_pair(struct fileset *fs, const char *path, const struct mg_file_rule *rule)
{
	char pair[MG_PAIR_LEN];

	if (fileset_pair(path, pair))
		return;
	if (fs->npairs == fs->cpairs) {
		fs->cpairs = fs->cpairs ? fs->cpairs * 2 : 64;
		fs->pairs = xreallocarray(fs->pairs, fs->cpairs, sizeof(*fs->pairs));
	}
	memcpy(fs->pairs[fs->npairs].pair, pair, MG_PAIR_LEN);
	fs->pairs[fs->npairs].rule = *rule;
	fs->npairs++;
}

static void push_path(struct fileset *fs, const char *path, const struct mg_file_rule *rule)
{
	push_pair(fs, path, rule);
	if (strlen(path) >= MG_PATH_LEN)
		return; /* the fallback reads at most MG_PATH_LEN bytes: it could never match */
	if (fs->npaths == fs->cpaths) {
		fs->cpaths = fs->cpaths ? fs->cpaths * 2 : 64;
		fs->paths = xreallocarray(fs->paths, fs->cpaths, sizeof(*fs->paths));
	}
	memset(&fs->paths[fs->npaths], 0, sizeof(*fs->paths));
	memcpy(fs->paths[fs->npaths].path, path, strlen(path));
	fs->paths[fs->npaths].rule = *rule;
	fs->npaths++;
}

static void add_match(struct resolver *rv, const char *path)
{
	struct fileset *fs = rv->fs;
	char buf[PATH_MAX], *slash, *real;
	struct stat st;

	if (stat(path, &st) != 0)
		return;
	/* A "**" protects the files under a directory, not the act of listing it. */
	if (rv->recursive && S_ISDIR(st.st_mode))
		return;
	push_inode(rv, &fs->inodes, &fs->ninodes, &fs->cinodes, path, &st);
	push_path(fs, path, &rv->rule);
	real = realpath(path, NULL);
	if (real) {
		if (strcmp(real, path) != 0)
			push_path(fs, real, &rv->rule);
		free(real);
	}
	if (mg_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return;
	while ((slash = strrchr(buf, '/')) != NULL && slash != buf) {
		*slash = '\0';
		if (stat(buf, &st) == 0)
			push_inode(rv, &fs->dirs, &fs->ndirs, &fs->cdirs, buf, &st);
	}
}

static void walk(struct resolver *rv, const char *dir, int depth_left)
{
	char child[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *dp;

	if (depth_left <= 0 || rv->budget <= 0)
		return;
	dp = opendir(dir);
	if (!dp)
		return;
	while ((de = readdir(dp)) != NULL && rv->budget-- > 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", strcmp(dir, "/") ? dir : "",
			     de->d_name) >= (int)sizeof(child))
			continue;
		if (filepat_glob_match(rv->pattern, child))
			add_match(rv, child);
		/* lstat: never follow a symlinked directory (loops, escapes from the glob). */
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			walk(rv, child, depth_left - 1);
	}
	closedir(dp);
}

static void expand(struct resolver *rv, const char *pattern)
{
	char base[PATH_MAX];
	const char *p, *wild, *comp_start;
	int depth = 0;

	wild = strpbrk(pattern, "*?[");
	if (!wild) {
		add_match(rv, pattern);
		return;
	}
	/* Walk from the last literal directory before the first wildcard. */
	comp_start = wild;
	while (comp_start > pattern && comp_start[-1] != '/')
		comp_start--;
	if ((size_t)(comp_start - pattern) >= sizeof(base))
		return;
	memcpy(base, pattern, comp_start - pattern);
	base[comp_start - pattern] = '\0';
	if (strlen(base) > 1)
		base[strlen(base) - 1] = '\0'; /* drop the trailing '/' */
	rv->recursive = strstr(pattern, "**") != NULL;
	for (p = comp_start; *p; p++)
		if (*p == '/')
			depth++;
	rv->pattern = pattern;
	walk(rv, base, rv->recursive ? WALK_DEPTH : depth + 1);
	rv->recursive = 0;
}

static void add_home(char ***v, size_t *n, const char *h)
{
	struct stat st;
	size_t i;

	if (!h || h[0] != '/' || !strcmp(h, "/") || stat(h, &st) || !S_ISDIR(st.st_mode))
		return;
	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i], h))
			return;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = xstrdup(h);
}

/* Home directories of every passwd entry, and /root, without duplicates. */
static char **homes(size_t *n)
{
	struct passwd *pw;
	char **v = NULL;

	*n = 0;
	setpwent();
	while ((pw = getpwent()) != NULL)
		add_home(&v, n, pw->pw_dir);
	endpwent();
	add_home(&v, n, "/root");
	return v;
}

static int cmp_inode(const void *a, const void *b)
{
	const struct fs_inode *x = a, *y = b;
	int c = memcmp(&x->key, &y->key, sizeof(x->key));

	if (c)
		return c;
	/* Among duplicates the strongest action, then the first rule, comes first. */
	if (x->rule.action != y->rule.action)
		return x->rule.action > y->rule.action ? -1 : 1;
	return x->rule.rule_id < y->rule.rule_id ? -1 : x->rule.rule_id > y->rule.rule_id;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct fs_pair *x = a, *y = b;
	int c = memcmp(x->pair, y->pair, sizeof(x->pair));

	if (c)
		return c;
	if (x->rule.action != y->rule.action)
		return x->rule.action > y->rule.action ? -1 : 1;
	return x->rule.rule_id < y->rule.rule_id ? -1 : x->rule.rule_id > y->rule.rule_id;
}

static int cmp_path(const void *a, const void *b)
{
	const struct fs_path *x = a, *y = b;
	int c = memcmp(x->path, y->path, sizeof(x->path));

	if (c)
		return c;
	if (x->rule.action != y->rule.action)
		return x->rule.action > y->rule.action ? -1 : 1;
	return x->rule.rule_id < y->rule.rule_id ? -1 : x->rule.rule_id > y->rule.rule_id;
}

static size_t uniq(void *v, size_t n, size_t esz, size_t ksz)
{
	char *b = v;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (o > 0 && !memcmp(b + (o - 1) * esz, b + i * esz, ksz))
			continue;
		if (o != i)
			memcpy(b + o * esz, b + i * esz, esz);
		o++;
	}
	return o;
}

static size_t cap(struct fileset *fs, size_t n, size_t max)
{
	if (n <= max)
		return n;
	fs->truncated += n - max;
	return max;
}

/* Sort by key, keep the first (strongest) of equal keys, cap at the map's size. */
static size_t sort_uniq(struct fileset *fs, void *v, size_t n, size_t esz, size_t ksz,
			int (*cmp)(const void *, const void *), size_t max)
{
	if (n == 0)
		return 0; /* v may be NULL: qsort(NULL, 0) is undefined */
	qsort(v, n, esz, cmp);
	return cap(fs, uniq(v, n, esz, ksz), max);
}

void fileset_resolve(const struct policy *pol, const uint32_t *rule_ids, const uint32_t *actions,
		     const char *const *home_list, size_t nhome_list, struct fileset *fs)
{
	struct resolver rv = {.fs = fs, .budget = WALK_BUDGET};
	char pattern[PATH_MAX];
	size_t nh = 0, i, j, h;
	char **hv = NULL;

	if (home_list) {
		for (h = 0; h < nhome_list; h++)
			add_home(&hv, &nh, home_list[h]);
	} else {
		hv = homes(&nh);
	}

	memset(fs, 0, sizeof(*fs));
	load_mounts(&rv);
	for (i = 0; i < pol->files.nrules; i++) {
		const struct pol_file_rule *r = &pol->files.rules[i];

		if (actions[i] == MG_ACT_ALLOW)
			continue;
		rv.rule.rule_id = rule_ids[i];
		rv.rule.action = actions[i];
		for (j = 0; j < r->npaths; j++) {
			if (r->paths[j][0] == '/') {
				expand(&rv, r->paths[j]);
				continue;
			}
			for (h = 0; h < nh; h++) {
				if (snprintf(pattern, sizeof(pattern), "%s%s", hv[h],
					     r->paths[j] + 1) >= (int)sizeof(pattern))
					continue;
				expand(&rv, pattern);
			}
		}
	}
	for (h = 0; h < nh; h++)
		free(hv[h]);
	free(hv);
	free(rv.mnts);
	if (rv.budget <= 0)
		warnx("files: directory walk budget (%d entries) exhausted; some globs are "
		      "partly resolved",
		      WALK_BUDGET);

	fs->ninodes = sort_uniq(fs, fs->inodes, fs->ninodes, sizeof(*fs->inodes),
				sizeof(struct mg_inode_key), cmp_inode, MG_MAX_FILE_INODES);
	fs->ndirs = sort_uniq(fs, fs->dirs, fs->ndirs, sizeof(*fs->dirs),
			      sizeof(struct mg_inode_key), cmp_inode, MG_MAX_FILE_INODES);
	fs->npairs = sort_uniq(fs, fs->pairs, fs->npairs, sizeof(*fs->pairs), MG_PAIR_LEN, cmp_pair,
			       MG_MAX_FILE_PATHS);
	fs->npaths = sort_uniq(fs, fs->paths, fs->npaths, sizeof(*fs->paths), MG_PATH_LEN, cmp_path,
			       MG_MAX_FILE_PATHS);
}

void fileset_free(struct fileset *fs)
{
	free(fs->inodes);
	free(fs->dirs);
	free(fs->paths);
	free(fs->pairs);
	memset(fs, 0, sizeof(*fs));
}
