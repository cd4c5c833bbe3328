#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonsafe.h"
#include "xmalloc.h"

/* A NUL byte, or a \u0000 escape inside a string, anywhere in the text. */
static int nul_in_text(const char *s, size_t n, size_t *at)
{
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\0') {
			*at = i;
			return 1;
		}
		if (!in_str) {
			in_str = s[i] == '"';
			continue;
		}
		if (s[i] == '"') {
			in_str = 0;
		} else if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] == 'u' && i + 5 < n && memcmp(s + i + 2, "0000", 4) == 0) {
				*at = i;
				return 1;
			}
			i++; /* the escaped character, whatever it is */
		}
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

int json_ambiguous(const char *raw, size_t len, const cJSON *root, char *why, size_t whylen)
{
	const char *k;
	size_t at;

	if (nul_in_text(raw, len, &at)) {
		snprintf(why, whylen,
			 "a NUL character (byte %zu) would hide the rest of a string from the "
			 "scanners",
			 at);
		return 1;
	}
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
