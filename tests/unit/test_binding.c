/* Session binding: the first inventory is pinned; later and look-alike tools are reported. */
#include <stdlib.h>

#include "binding.h"
#include "t.h"

struct bres {
	int added[16];
	struct findings f;
};

static void bcheck(struct binding *b, const char *names_json, struct bres *r)
{
	cJSON *names = cJSON_Parse(names_json), *tools = cJSON_CreateArray();
	const cJSON *n;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 16; i++)
		r->added[i] = -1;
	cJSON_ArrayForEach(n, names)
	{
		cJSON *t = cJSON_CreateObject();

		if (!cJSON_IsNull(n))
			cJSON_AddItemToObject(t, "name", cJSON_Duplicate(n, 0));
		cJSON_AddItemToObject(t, "inputSchema", cJSON_CreateObject());
		cJSON_AddItemToArray(tools, t);
	}
	binding_check(b, tools, r->added, &r->f);
	cJSON_Delete(names);
	cJSON_Delete(tools);
}

static int count(const struct findings *f, const char *rule)
{
	int c = 0;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->v[i].scanner, "binding") == 0 && strcmp(f->v[i].rule, rule) == 0 &&
		    f->v[i].confidence == CONF_HIGH)
			c++;
	return c;
}

TEST(binding_same_inventory_quiet)
{
	struct binding *b = binding_new();
	struct bres r;

	bcheck(b, "[\"read_file\",\"write_file\",\"list_directory\"]", &r);
	ASSERT_EQ(r.f.n, 0);
	ASSERT_EQ(r.added[0] + r.added[1] + r.added[2], 0);
	/* Fewer tools, other order: nothing added. */
	bcheck(b, "[\"list_directory\",\"read_file\"]", &r);
	ASSERT_EQ(r.f.n, 0);
	ASSERT_EQ(r.added[0], 0);
	ASSERT_EQ(r.added[1], 0);
	ASSERT_EQ(r.added[2], -1); /* only as many slots as tools are written */
	binding_free(b);
}

TEST(binding_added_tool_marked)
{
	struct binding *b = binding_new();
	struct bres r;

	bcheck(b, "[\"read_file\",\"write_file\"]", &r);
	bcheck(b, "[\"read_file\",\"write_file\",\"send_report\"]", &r);
	ASSERT_EQ(r.added[0], 0);
	ASSERT_EQ(r.added[1], 0);
	ASSERT_EQ(r.added[2], 1);
	ASSERT_EQ(count(&r.f, "tool-added"), 1);
	ASSERT_EQ(count(&r.f, "tool-impersonation"), 0);
	ASSERT_STREQ(r.f.v[0].where, "result.tools[2].name");
	ASSERT_TRUE(strstr(r.f.v[0].detail, "send_report") != NULL);
	/* Still added the next time: the pinned inventory does not grow. */
	bcheck(b, "[\"send_report\"]", &r);
	ASSERT_EQ(r.added[0], 1);
	/* A tool without a name cannot be matched to the inventory. */
	bcheck(b, "[\"read_file\", null]", &r);
	ASSERT_EQ(r.added[0], 0);
	ASSERT_EQ(r.added[1], 1);
	binding_free(b);
}

TEST(binding_impersonation_case_and_confusables)
{
	struct binding *b = binding_new();
	struct bres r;

	bcheck(b, "[\"read_file\",\"send_email\"]", &r);
	/* Capital I for l, Cyrillic a (U+0430) for a, a zero-width space, upper case. */
	bcheck(b,
	       "[\"read_fiIe\",\"send_em\\u0430il\",\"read\\u200b_file\",\"SEND_EMAIL\","
	       "\"read_files\"]",
	       &r);
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(r.added[i], 1);
	ASSERT_EQ(count(&r.f, "tool-added"), 5);
	ASSERT_EQ(count(&r.f, "tool-impersonation"), 4); /* not read_files: a different word */
	/* The finding shows the hidden character instead of passing for the real name. */
	int shown = 0;
	for (size_t i = 0; i < r.f.n; i++)
		if (strstr(r.f.v[i].detail, "send_em<U+0430>il") &&
		    strcmp(r.f.v[i].rule, "tool-impersonation") == 0)
			shown = 1;
	ASSERT_TRUE(shown);
	binding_free(b);
}

TEST(binding_impersonation_ignorables_and_full_case_folding)
{
	struct binding *b = binding_new();
	struct bres r;

	bcheck(b, "[\"read_file\",\"strasse\"]", &r);
	/*
	 * A tag character, a variation selector, a soft hyphen, an unassigned
	 * default-ignorable (U+E0080); sharp s folds to ss.
	 */
	bcheck(b,
	       "[\"read_file\\udb40\\udc41\",\"read\\ufe0f_file\",\"re\\u00adad_file\","
	       "\"read_fi\\udb40\\udc80le\",\"stra\\u00dfe\",\"street\"]",
	       &r);
	ASSERT_EQ(count(&r.f, "tool-added"), 6);
	ASSERT_EQ(count(&r.f, "tool-impersonation"), 5); /* not street */
	binding_free(b);
}

TEST(binding_impersonation_within_first_list)
{
	struct binding *b = binding_new();
	struct bres r;

	bcheck(b, "[\"get_balance\",\"get_baIance\",\"transfer\"]", &r);
	ASSERT_EQ(count(&r.f, "tool-impersonation"), 1);
	ASSERT_STREQ(r.f.v[0].where, "result.tools[1].name");
	/* Pinned all the same: the first list is what the session agreed to. */
	ASSERT_EQ(r.added[0] + r.added[1] + r.added[2], 0);
	binding_free(b);

	/* Distinct ordinary names are not look-alikes of each other. */
	b = binding_new();
	bcheck(b, "[\"get_user\",\"get_users\",\"list_user\",\"set_user\",\"getUser2\"]", &r);
	ASSERT_EQ(r.f.n, 0);
	binding_free(b);
}

TEST(binding_display_name_bounded)
{
	char out[16], big[32];

	binding_display_name("abc\xd0\xb0\xff", big, sizeof(big));
	ASSERT_STREQ(big, "abc<U+0430><xFF>");
	binding_display_name("a_very_long_tool_name", out, sizeof(out));
	ASSERT_STREQ(out, "a_very_long_...");
	binding_display_name("", out, sizeof(out));
	ASSERT_STREQ(out, "");
}
