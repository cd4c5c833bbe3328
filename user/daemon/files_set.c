/*
 * Policy files rules compiled into basename keys and rule ids, and the pinned maps
 * kept equal to the protected set (resolved by fileset.c on every refresh).
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filepat.h"
#include "files.h"
#include "log.h"
#include "xmalloc.h"

static uint32_t action_of(const struct daemon *d, enum pol_action a)
{
	switch (a) {
	case PA_ALLOW:
		return MG_ACT_ALLOW;
	case PA_WARN:
		return MG_ACT_AUDIT;
	case PA_STRIP:
	case PA_BLOCK:
		break;
	}
	return d->audit ? MG_ACT_AUDIT : MG_ACT_BLOCK;
}

/* Prefilter bits the kernel tests before any lookup (mg_files_conf). */
static void set_bit(uint8_t *set, unsigned char c)
{
	set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static int add_len(uint32_t *lens, uint32_t *n, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < *n; i++)
		if (lens[i] == len)
			return 0;
	if (*n >= MG_MAX_AFFIX_LENS)
		return -1;
	lens[(*n)++] = len;
	return 0;
}

int files_rules_compile(struct daemon *d, struct files_rules *fr, char *err, size_t errlen)
{
	const struct policy *pol = d->pol;
	size_t i, j, k, total = 0;

	memset(fr, 0, sizeof(*fr));
	fr->rule_ids = xcalloc(pol->files.nrules + 1, sizeof(*fr->rule_ids));
	fr->actions = xcalloc(pol->files.nrules + 1, sizeof(*fr->actions));
	for (i = 0; i < pol->files.nrules; i++)
		total += pol->files.rules[i].nbasenames;
	if (total > MG_MAX_BASENAMES) {
		snprintf(err, errlen, "%s: files: %zu basename patterns, at most %d",
			 pol->path ? pol->path : "policy", total, MG_MAX_BASENAMES);
		return -1;
	}
	fr->names = xcalloc(total + 1, sizeof(*fr->names));
	fr->conf.dir_rule_id = daemon_rule_id(d, "protected-parent-dir");
	for (i = 0; i < pol->files.nrules; i++) {
		const struct pol_file_rule *r = &pol->files.rules[i];

		fr->rule_ids[i] = daemon_rule_id(d, r->name);
		fr->actions[i] = action_of(d, r->action);
		for (j = 0; j < r->npaths; j++) {
			if (r->paths[j][0] != '/' && strncmp(r->paths[j], "~/", 2) != 0) {
				snprintf(
				    err, errlen,
				    "%s:%d: files rule '%s': path '%s' must start with / or ~/",
				    pol->path ? pol->path : "policy", r->line, r->name,
				    r->paths[j]);
				return -1;
			}
		}
		for (j = 0; j < r->nbasenames; j++) {
			struct fs_name n = {0};
			enum filepat_kind kind;
			const char *why;
			char text[MG_NAME_LEN];

			if (filepat_basename(r->basenames[j], &kind, text, sizeof(text), &why)) {
				snprintf(err, errlen, "%s:%d: files rule '%s': basename '%s': %s",
					 pol->path ? pol->path : "policy", r->line, r->name,
					 r->basenames[j], why);
				return -1;
			}
			if (fr->actions[i] == MG_ACT_ALLOW)
				continue;
			n.key.kind = kind == FILEPAT_PREFIX   ? MG_NAME_PREFIX
				     : kind == FILEPAT_SUFFIX ? MG_NAME_SUFFIX
							      : MG_NAME_EXACT;
			memcpy(n.key.name, text, strlen(text));
			n.rule.rule_id = fr->rule_ids[i];
			n.rule.action = fr->actions[i];
			/* The first rule naming a pattern keeps it. */
			for (k = 0; k < fr->nnames; k++)
				if (!memcmp(&fr->names[k].key, &n.key, sizeof(n.key)))
					break;
			if (k < fr->nnames)
				continue;
			if (n.key.kind == MG_NAME_PREFIX &&
			    add_len(fr->conf.prefix_lens, &fr->conf.nprefix, strlen(text))) {
				snprintf(err, errlen, "%s:%d: files: more than %d prefix lengths",
					 pol->path ? pol->path : "policy", r->line,
					 MG_MAX_AFFIX_LENS);
				return -1;
			}
			if (n.key.kind == MG_NAME_SUFFIX &&
			    add_len(fr->conf.suffix_lens, &fr->conf.nsuffix, strlen(text))) {
				snprintf(err, errlen, "%s:%d: files: more than %d suffix lengths",
					 pol->path ? pol->path : "policy", r->line,
					 MG_MAX_AFFIX_LENS);
				return -1;
			}
			set_bit(kind == FILEPAT_PREFIX	 ? fr->conf.prefix_first
				: kind == FILEPAT_SUFFIX ? fr->conf.suffix_last
							 : fr->conf.exact_first,
				(unsigned char)(kind == FILEPAT_SUFFIX ? text[strlen(text) - 1]
								       : text[0]));
			fr->names[fr->nnames++] = n;
		}
	}
	return 0;
}

void files_rules_free(struct files_rules *fr)
{
	free(fr->rule_ids);
	free(fr->actions);
	free(fr->names);
	memset(fr, 0, sizeof(*fr));
}

static int cmp_name(const void *a, const void *b)
{
	const struct fs_name *x = a, *y = b;

	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* ---- map sync ---- */

static int in_sorted(const char *v, size_t n, size_t esz, const void *key, size_t ksz)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(v + mid * esz, key, ksz);

		if (c == 0)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static int sync_map(int fd, const void *entries, size_t n, size_t esz, size_t ksz, size_t voff)
{
	const char *e = entries;
	char *keys = NULL, *cur = xcalloc(1, ksz), *next = xcalloc(1, ksz);
	size_t nstale = 0, cstale = 0, i;
	int first = 1, rc = 0;

	/* Collect stale keys first: deleting while iterating a hash map restarts the walk. */
	while (bpf_map_get_next_key(fd, first ? NULL : cur, next) == 0) {
		first = 0;
		if (!in_sorted(e, n, esz, next, ksz)) {
			if (nstale == cstale) {
				cstale = cstale ? cstale * 2 : 16;
				keys = xreallocarray(keys, cstale, ksz);
			}
			memcpy(keys + nstale++ * ksz, next, ksz);
		}
		memcpy(cur, next, ksz);
	}
	for (i = 0; i < nstale; i++)
		if (bpf_map_delete_elem(fd, keys + i * ksz) && errno != ENOENT)
			rc = -1;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, e + i * esz, e + i * esz + voff, BPF_ANY))
			rc = -1;
	free(keys);
	free(cur);
	free(next);
	return rc;
}

int files_sync_inodes(int fd, const struct fs_inode *v, size_t n)
{
	return sync_map(fd, v, n, sizeof(*v), sizeof(v->key), offsetof(struct fs_inode, rule));
}

int files_sync_paths(int fd, const struct fs_path *v, size_t n)
{
	return sync_map(fd, v, n, sizeof(*v), sizeof(v->path), offsetof(struct fs_path, rule));
}

int files_sync_pairs(int fd, const struct fs_pair *v, size_t n)
{
	return sync_map(fd, v, n, sizeof(*v), sizeof(v->pair), offsetof(struct fs_pair, rule));
}

int files_sync_names(int fd, const struct fs_name *v, size_t n)
{
	struct fs_name *s = xcalloc(n + 1, sizeof(*s));
	int rc;

	/* Names are compiled in rule order; the map walk needs them sorted by key. */
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_name);
	rc = sync_map(fd, s, n, sizeof(*s), sizeof(s->key), offsetof(struct fs_name, rule));
	free(s);
	return rc;
}
