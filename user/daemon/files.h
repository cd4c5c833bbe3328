/*
 * Private to the files module: the protected set compiled from the policy
 * (files_set.c) and written into the pinned maps (files.c).
 */
#ifndef MG_FILES_H
#define MG_FILES_H

#include <linux/types.h>
#include <stddef.h>

#include "daemon.h"
#include "fileset.h"
#include "mcpguard.h"

struct fs_name {
	struct mg_name_key key;
	struct mg_file_rule rule;
};

/* Per-rule data computed once at start. */
struct files_rules {
	uint32_t *rule_ids; /* one per policy files rule */
	uint32_t *actions;  /* enum mg_action; MG_ACT_ALLOW = rule ignored */
	struct fs_name *names;
	size_t nnames;
	struct mg_files_conf conf;
};

/* Compile basename patterns and rule ids; -1 with a message in err on a bad pattern. */
int files_rules_compile(struct daemon *d, struct files_rules *fr, char *err, size_t errlen);
void files_rules_free(struct files_rules *fr);

/*
 * Make a pinned map hold exactly the entries of a set: update everything in the
 * set, delete keys that are not (found by walking the map). Returns -1 on error.
 */
int files_sync_inodes(int fd, const struct fs_inode *v, size_t n);
int files_sync_paths(int fd, const struct fs_path *v, size_t n);
int files_sync_pairs(int fd, const struct fs_pair *v, size_t n);
int files_sync_names(int fd, const struct fs_name *v, size_t n);

#endif
