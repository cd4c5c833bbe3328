/*
 * The protected set resolved from the policy's files rules (path globs; "~/" is
 * every user's home): what mcpguardd writes into the pinned file maps.
 */
#ifndef MG_FILESET_H
#define MG_FILESET_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "mcpguard.h"
#include "policy.h"

struct fs_inode {
	struct mg_inode_key key;
	struct mg_file_rule rule;
};

struct fs_path {
	char path[MG_PATH_LEN]; /* zero-padded: it is the map key as is */
	struct mg_file_rule rule;
};

struct fs_pair {
	char pair[MG_PAIR_LEN]; /* "parent/name", zero-padded: the fallback's map key */
	struct mg_file_rule rule;
};

/* Everything the path globs protect, each array sorted by key and without duplicates. */
struct fileset {
	struct fs_inode *inodes; /* protected files */
	size_t ninodes, cinodes;
	struct fs_inode *dirs; /* directories above them (rename refused) */
	size_t ndirs, cdirs;
	struct fs_path *paths; /* absolute paths, for the fallback */
	size_t npaths, cpaths;
	struct fs_pair *pairs; /* their last two components, for the fallback */
	size_t npairs, cpairs;
	size_t truncated; /* entries dropped because a map was full */
};

/*
 * Resolve the path globs of every files rule: rule_ids[i] and actions[i] (enum
 * mg_action; MG_ACT_ALLOW skips the rule) go with pol->files.rules[i]. "~/" expands
 * to each of homes[] (NULL: every passwd entry's home that exists, and /root).
 * A file named by two rules keeps the stronger action, then the lower rule id.
 */
void fileset_resolve(const struct policy *pol, const uint32_t *rule_ids, const uint32_t *actions,
		     const char *const *homes, size_t nhomes, struct fileset *fs);
void fileset_free(struct fileset *fs);

/* "parent/name" of an absolute or relative path into out (zeroed); -1 if it has none. */
int fileset_pair(const char *path, char out[MG_PAIR_LEN]);

#endif
