/*
 * Credential-file patterns shared by mcpguardd (BPF maps) and tests: basename
 * patterns the kernel can match cheaply, and the kernel's dev_t encoding.
 */
#ifndef MG_FILEPAT_H
#define MG_FILEPAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum filepat_kind {
	FILEPAT_EXACT = 0, /* ".env" */
	FILEPAT_PREFIX,	   /* "id_rsa*": the name starts with the text (or is it) */
	FILEPAT_SUFFIX,	   /* "*.pem": the name ends with the text */
};

/*
 * Parse a basename pattern into kind and text (NUL-terminated, strlen < textlen).
 * Only one '*', at either end, is supported; '?', '[', '/' and a lone '*' are refused.
 * Returns 0, or -1 with *why set to a static explanation.
 */
int filepat_basename(const char *pat, enum filepat_kind *kind, char *text, size_t textlen,
		     const char **why);

/* Does name match a parsed pattern? (The kernel's rule, for tests and userspace checks.) */
int filepat_match(enum filepat_kind kind, const char *text, const char *name);

/*
 * stat() reports st_dev in the userspace encoding (glibc makedev); the kernel's
 * inode->i_sb->s_dev, which the LSM sees, is MKDEV(major, minor) = major << 20 | minor.
 */
uint64_t filepat_kdev(dev_t st_dev);

/*
 * Match a path against a glob where "*", "?" and "[...]" stay inside one component
 * and a "**" component matches zero or more whole components. Hidden names match
 * wildcards too: credentials live in dot-directories. Returns 1 on a match.
 */
int filepat_glob_match(const char *pattern, const char *path);

#endif
