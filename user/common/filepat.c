/* Credential-file patterns: basename kinds for the kernel, globs with "**". */
#include <fnmatch.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "filepat.h"

int filepat_basename(const char *pat, enum filepat_kind *kind, char *text, size_t textlen,
		     const char **why)
{
	size_t n = strlen(pat);
	const char *body = pat;

	*why = NULL;
	if (n == 0) {
		*why = "empty pattern";
		return -1;
	}
	if (strchr(pat, '/')) {
		*why = "a basename cannot contain '/' (use paths: for locations)";
		return -1;
	}
	if (strpbrk(pat, "?[]\\")) {
		*why = "only '*' at the start or the end is supported in basenames";
		return -1;
	}
	if (pat[0] == '*') {
		*kind = FILEPAT_SUFFIX;
		body = pat + 1;
		n--;
	} else if (pat[n - 1] == '*') {
		*kind = FILEPAT_PREFIX;
		n--;
	} else {
		*kind = FILEPAT_EXACT;
	}
	if (n == 0) {
		*why = "a lone '*' would protect every file";
		return -1;
	}
	if (memchr(body, '*', n)) {
		*why = "only one '*', at the start or the end, is supported in basenames";
		return -1;
	}
	if (n >= textlen) {
		*why = "basename pattern too long";
		return -1;
	}
	memcpy(text, body, n);
	text[n] = '\0';
	return 0;
}

int filepat_match(enum filepat_kind kind, const char *text, const char *name)
{
	size_t tl = strlen(text), nl = strlen(name);

	switch (kind) {
	case FILEPAT_EXACT:
		return strcmp(text, name) == 0;
	case FILEPAT_PREFIX:
		return nl >= tl && memcmp(name, text, tl) == 0;
	case FILEPAT_SUFFIX:
		return nl >= tl && memcmp(name + nl - tl, text, tl) == 0;
	}
	return 0;
}

uint64_t filepat_kdev(dev_t st_dev)
{
	return ((uint64_t)major(st_dev) << 20) | (minor(st_dev) & 0xfffff);
}

/* Copy one component (up to '/' or end) into buf; returns its length or -1 if too long. */
static int component(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "/");

	if (n >= len)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
}

static int match_at(const char *p, const char *s, int depth)
{
	char pc[256], sc[256];
	int pn, sn;

	if (depth > 64)
		return 0;
	if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == '\0')) {
		if (p[2] == '\0')
			return 1;
		p += 3;
		for (;;) {
			if (match_at(p, s, depth + 1))
				return 1;
			s = strchr(s, '/');
			if (!s)
				return 0;
			s++;
		}
	}
	pn = component(p, pc, sizeof(pc));
	sn = component(s, sc, sizeof(sc));
	if (pn < 0 || sn < 0 || fnmatch(pc, sc, 0) != 0)
		return 0;
	p += pn;
	s += sn;
	if (*p == '\0' || *s == '\0')
		return *p == '\0' && *s == '\0';
	return match_at(p + 1, s + 1, depth + 1);
}

int filepat_glob_match(const char *pattern, const char *path)
{
	return match_at(pattern, path, 0);
}
