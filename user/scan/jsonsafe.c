#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonsafe.h"
#include "xmalloc.h"

/*
 * A NUL byte, or a \u0000 escape, anywhere in the text. Only called on text
 * that parsed, where a backslash occurs only inside strings: each run of
 * backslashes is looked at once, and an odd run escapes the character after
 * it. memchr keeps this at memory speed on large tool results.
 */
static int nul_in_text(const char *s, size_t n, size_t *at)
{
	const char *p = memchr(s, '\0', n), *q = s, *end = s + n;

	if (p) {
		*at = (size_t)(p - s);
		return 1;
	}
	while ((q = memchr(q, '\\', (size_t)(end - q)))) {
		const char *r = q;

		while (r < end && *r == '\\')
			r++;
		if ((r - q) % 2 == 1 && end - r >= 5 && memcmp(r, "u0000", 5) == 0) {
			*at = (size_t)(r - 1 - s);
			return 1;
		}
		q = r;
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first duplicate key of any object under v, or NULL. */
static const char *dup_key(const cJSON *v)
{
	const cJSON *c;
	size_t n = 0;

	if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
		return NULL;
	for (c = v->child; c; c = c->next) {
		const char *d = dup_key(c);

		if (d)
			return d;
		n++;
	}
	if (!cJSON_IsObject(v) || n < 2)
		return NULL;
	if (n <= 16) {
		for (c = v->child; c; c = c->next)
			for (const cJSON *o = c->next; o; o = o->next)
				if (c->string && o->string && strcmp(c->string, o->string) == 0)
					return c->string;
		return NULL;
	}
	/* Large objects: sort the names once instead of comparing every pair. */
	const char **names = xcalloc(n, sizeof(*names)), *found = NULL;
	size_t i = 0;

	for (c = v->child; c; c = c->next)
		names[i++] = c->string ? c->string : "";
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 1; i < n && !found; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			found = names[i];
	free(names);
	return found;
}

static int nul_why(size_t at, char *why, size_t whylen)
{
	snprintf(why, whylen,
		 "a NUL character (byte %zu) would hide the rest of a string from the scanners",
		 at);
	return 1;
}

int json_ambiguous_parsed(const cJSON *root, size_t nul_at, char *why, size_t whylen)
{
	const char *k;

	if (nul_at != SIZE_MAX)
		return nul_why(nul_at, why, whylen);
	if ((k = dup_key(root)) != NULL) {
		char shown[48];
		size_t j = 0;

		for (; k[j] && j < sizeof(shown) - 1; j++)
			shown[j] = (k[j] >= 0x20 && k[j] < 0x7f) ? k[j] : '?';
		shown[j] = '\0';
		snprintf(why, whylen,
			 "duplicate key \"%s\": parsers disagree on which value counts", shown);
		return 1;
	}
	return 0;
}

int json_ambiguous(const char *raw, size_t len, const cJSON *root, char *why, size_t whylen)
{
	size_t at;

	if (nul_in_text(raw, len, &at))
		return nul_why(at, why, whylen);
	return json_ambiguous_parsed(root, SIZE_MAX, why, whylen);
}
