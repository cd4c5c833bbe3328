#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/uspoof.h>
#include <unicode/utf16.h>

#include "binding.h"
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
	USpoofChecker *sc; /* NULL if ICU failed: keys fall back to ASCII lowercase */
};

struct binding *binding_new(void)
{
	struct binding *b = xcalloc(1, sizeof(*b));
	UErrorCode st = U_ZERO_ERROR;

	b->sc = uspoof_open(&st);
	if (U_FAILURE(st)) {
		warnx("binding: ICU spoof checker unavailable (%s); look-alike tool names are "
		      "compared by case only",
		      u_errorName(st));
		b->sc = NULL;
	}
	return b;
}

/* UTF-8 -> UTF-16 with invalid bytes as U+FFFD and default-ignorables removed. */
static UChar *to_u16(const char *s, int32_t *len)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = 0, o = 0;
	UChar *u;

	u_strFromUTF8WithSub(NULL, 0, &n, s, -1, 0xfffd, NULL, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	u = xcalloc((size_t)n + 1, sizeof(*u));
	u_strFromUTF8WithSub(u, n + 1, NULL, s, -1, 0xfffd, NULL, &st);
	if (U_FAILURE(st)) {
		free(u);
		return NULL;
	}
	/* Zero-width and tag characters make two names look one: drop them. */
	for (int32_t i = 0; i < n;) {
		int32_t start = i;
		UChar32 c;

		U16_NEXT(u, i, n, c);
		if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT))
			continue;
		while (start < i)
			u[o++] = u[start++];
	}
	u[o] = 0;
	*len = o;
	return u;
}

static UChar *fold16(const UChar *u, int32_t n, int32_t *outn)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t m = u_strFoldCase(NULL, 0, u, n, U_FOLD_CASE_DEFAULT, &st);
	UChar *r;

	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	r = xcalloc((size_t)m + 1, sizeof(*r));
	u_strFoldCase(r, m + 1, u, n, U_FOLD_CASE_DEFAULT, &st);
	if (U_FAILURE(st)) {
		free(r);
		return NULL;
	}
	*outn = m;
	return r;
}

static UChar *skel16(const USpoofChecker *sc, const UChar *u, int32_t n, int32_t *outn)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t m = uspoof_getSkeleton(sc, 0, u, n, NULL, 0, &st);
	UChar *r;

	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	r = xcalloc((size_t)m + 1, sizeof(*r));
	uspoof_getSkeleton(sc, 0, u, n, r, m + 1, &st);
	if (U_FAILURE(st)) {
		free(r);
		return NULL;
	}
	*outn = m;
	return r;
}

static char *to_u8(const UChar *u, int32_t n)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t m = 0;
	char *s;

	u_strToUTF8WithSub(NULL, 0, &m, u, n, 0xfffd, NULL, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return NULL;
	st = U_ZERO_ERROR;
	s = xcalloc((size_t)m + 1, 1);
	u_strToUTF8WithSub(s, m + 1, NULL, u, n, 0xfffd, NULL, &st);
	if (U_FAILURE(st)) {
		free(s);
		return NULL;
	}
	return s;
}

static char *ascii_lower(const char *s)
{
	char *r = xstrdup(s);

	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* Compute both keys of name; on any ICU failure both are the ASCII-lowercased name. */
static void keys(const struct binding *b, const char *name, char **vis, char **fold)
{
	int32_t n = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0;
	UChar *u = b->sc ? to_u16(name, &n) : NULL;
	UChar *s1 = u ? skel16(b->sc, u, n, &n1) : NULL;
	UChar *f1 = s1 ? fold16(s1, n1, &n2) : NULL;
	UChar *f2 = u ? fold16(u, n, &n3) : NULL;
	UChar *s2 = f2 ? skel16(b->sc, f2, n3, &n4) : NULL;

	*vis = f1 ? to_u8(f1, n2) : NULL;
	*fold = s2 ? to_u8(s2, n4) : NULL;
	if (!*vis || !*fold) {
		free(*vis);
		free(*fold);
		*vis = ascii_lower(name);
		*fold = ascii_lower(name);
	}
	free(u);
	free(s1);
	free(f1);
	free(f2);
	free(s2);
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
		keys(b, name->valuestring, &vis, &fold);
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
		keys(b, name->valuestring, &vis, &fold);
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
	if (b->sc)
		uspoof_close(b->sc);
	free(b);
}
