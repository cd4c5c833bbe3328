#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "binding.h"
#include "confusable.h"
#include "log.h"
#include "xmalloc.h"

/*
 * Two keys per name, because case folding and confusable mapping do not
 * commute: "fiIe" only meets "file" when the skeleton comes first (I -> l),
 * "FILE" only meets "file" when folding comes first.
 */
struct pinned {
	char *name;
	char *vis;  /* fold(skeleton(name)) */
	char *fold; /* skeleton(fold(name)) */
};

struct binding {
	int pinned;
	struct pinned *p;
	size_t n;
};

struct binding *binding_new(void)
{
	return xcalloc(1, sizeof(struct binding));
}

static char *ascii_lower(const char *s)
{
	char *r = xstrdup(s);

	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/*
 * Both keys of name: vis = casefold(skeleton(n)), fold = skeleton(casefold(n)),
 * where n is name with default-ignorable code points (zero-width, tags,
 * variation selectors) removed: they make two names look one. Full case
 * folding, as Unicode defines it (ß -> ss).
 */
static void keys(const char *name, char **vis, char **fold)
{
	size_t len = strlen(name);
	char *n = conf_drop_ignorables(name, len);
	char *s1 = n ? conf_skeleton(n, strlen(n)) : NULL;
	char *f2 = n ? conf_utf8_map(n, strlen(n), UTF8PROC_CASEFOLD) : NULL;

	*vis = s1 ? conf_utf8_map(s1, strlen(s1), UTF8PROC_CASEFOLD) : NULL;
	*fold = f2 ? conf_skeleton(f2, strlen(f2)) : NULL;
	if (!*vis || !*fold) { /* utf8proc out of memory: compare by ASCII case only */
		free(*vis);
		free(*fold);
		*vis = ascii_lower(name);
		*fold = ascii_lower(name);
	}
	free(n);
	free(s1);
	free(f2);
}

void binding_display_name(const char *name, char *out, size_t outlen)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t o = 0;

	if (!outlen)
		return;
	while (*s) {
		char piece[16];
		size_t pl;
		unsigned cp = 0, need = 0;

		if (*s >= 0x20 && *s < 0x7f) {
			piece[0] = (char)*s++;
			piece[1] = '\0';
		} else {
			if (*s >= 0xc2 && *s <= 0xdf)
				need = 1, cp = *s & 0x1f;
			else if (*s >= 0xe0 && *s <= 0xef)
				need = 2, cp = *s & 0x0f;
			else if (*s >= 0xf0 && *s <= 0xf4)
				need = 3, cp = *s & 0x07;
			unsigned i;

			for (i = 1; i <= need && (s[i] & 0xc0) == 0x80; i++)
				cp = (cp << 6) | (s[i] & 0x3f);
			if (need && i == need + 1) {
				snprintf(piece, sizeof(piece), "<U+%04X>", cp);
				s += need + 1;
			} else {
				snprintf(piece, sizeof(piece), "<x%02X>", *s);
				s++;
			}
		}
		pl = strlen(piece);
		if (o + pl + 4 > outlen) {
			/* Cut: say so rather than show a name that looks complete. */
			if (o + 4 <= outlen) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, piece, pl);
		o += pl;
	}
	out[o < outlen ? o : outlen - 1] = '\0';
}

static const struct pinned *exact(const struct binding *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->p[i].name, name) == 0)
			return &b->p[i];
	return NULL;
}

/* A pinned name (other than name itself) that name imitates, or NULL. */
static const struct pinned *lookalike(const struct binding *b, const char *name, const char *vis,
				      const char *fold, size_t upto)
{
	for (size_t i = 0; i < upto; i++) {
		if (strcmp(b->p[i].name, name) == 0)
			continue;
		if (strcmp(b->p[i].vis, vis) == 0 || strcmp(b->p[i].fold, fold) == 0)
			return &b->p[i];
	}
	return NULL;
}

static void pin(struct binding *b, const cJSON *tools, struct findings *out)
{
	int i = 0;

	for (const cJSON *t = tools->child; t; t = t->next, i++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const struct pinned *like;
		char *vis, *fold;

		if (!cJSON_IsString(name) || exact(b, name->valuestring))
			continue;
		keys(name->valuestring, &vis, &fold);
		like = lookalike(b, name->valuestring, vis, fold, b->n);
		if (like) {
			char shown[96], other[96], where[48];

			binding_display_name(name->valuestring, shown, sizeof(shown));
			binding_display_name(like->name, other, sizeof(other));
			snprintf(where, sizeof(where), "result.tools[%d].name", i);
			findings_add(out, "binding", "tool-impersonation", CONF_HIGH, where,
				     "tool '%s' differs from tool '%s' of the same list only by "
				     "case or look-alike characters",
				     shown, other);
		}
		b->p = xreallocarray(b->p, b->n + 1, sizeof(*b->p));
		b->p[b->n].name = xstrdup(name->valuestring);
		b->p[b->n].vis = vis;
		b->p[b->n].fold = fold;
		b->n++;
	}
	b->pinned = 1;
}

void binding_check(struct binding *b, const cJSON *tools, int *added, struct findings *out)
{
	int i = 0;

	if (!cJSON_IsArray(tools))
		return;
	for (const cJSON *t = tools->child; t; t = t->next)
		added[i++] = 0;
	if (!b->pinned) {
		pin(b, tools, out);
		return;
	}
	i = 0;
	for (const cJSON *t = tools->child; t; t = t->next, i++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const struct pinned *like;
		char shown[96], other[96], where[48];
		char *vis, *fold;

		snprintf(where, sizeof(where), "result.tools[%d].name", i);
		if (!cJSON_IsString(name)) {
			added[i] = 1;
			findings_add(out, "binding", "tool-added", CONF_HIGH, where,
				     "a tool without a name appeared after the first tools/list");
			continue;
		}
		if (exact(b, name->valuestring))
			continue;
		added[i] = 1;
		binding_display_name(name->valuestring, shown, sizeof(shown));
		findings_add(out, "binding", "tool-added", CONF_HIGH, where,
			     "tool '%s' was not in the session's first tools/list", shown);
		keys(name->valuestring, &vis, &fold);
		like = lookalike(b, name->valuestring, vis, fold, b->n);
		if (like) {
			binding_display_name(like->name, other, sizeof(other));
			findings_add(out, "binding", "tool-impersonation", CONF_HIGH, where,
				     "new tool '%s' differs from pinned tool '%s' only by case or "
				     "look-alike characters",
				     shown, other);
		}
		free(vis);
		free(fold);
	}
}

void binding_free(struct binding *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->p[i].name);
		free(b->p[i].vis);
		free(b->p[i].fold);
	}
	free(b->p);
	free(b);
}
