/* JSON-RPC message kinds, outstanding-id bookkeeping, the proxy's error responses. */
#include "../../user/proxy/jsonrpc.c"
#include "t.h"

static enum jr_kind kind_of(const char *s, char **id, const char **method)
{
	static cJSON *m;
	static char *last;

	free(last);
	last = NULL;
	cJSON_Delete(m);
	m = s ? cJSON_Parse(s) : NULL;
	if (!m)
		return JR_INVALID;
	enum jr_kind k = jr_classify(m, id, method);

	last = *id; /* freed on the next call */
	return k;
}

TEST(jsonrpc_classifies_messages)
{
	char *id = NULL;
	const char *method;

	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", &id, &method),
		  JR_REQUEST);
	ASSERT_STREQ(id, "1");
	ASSERT_STREQ(method, "tools/list");
	ASSERT_EQ(
	    kind_of("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", &id, &method),
	    JR_NOTIFICATION);
	ASSERT_TRUE(id == NULL);
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}", &id, &method),
		  JR_RESPONSE);
	ASSERT_STREQ(id, "\"a\"");
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":1}}", &id, &method),
		  JR_RESPONSE);
	/* What must never be taken for a message. */
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}", &id, &method),
		  JR_INVALID);
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":{\"a\":1},\"method\":\"x\"}", &id, &method),
		  JR_INVALID);
	ASSERT_EQ(
	    kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}", &id, &method),
	    JR_INVALID);
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1}", &id, &method), JR_INVALID);
	ASSERT_EQ(
	    kind_of("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"result\":1}", &id, &method),
	    JR_INVALID);
	ASSERT_EQ(kind_of("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}]", &id, &method),
		  JR_INVALID);
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"x\"}", &id, &method),
		  JR_INVALID);
	/* Ids print canonically: the same id in another spelling is the same key. */
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":-42.0,\"result\":{}}", &id, &method),
		  JR_RESPONSE);
	ASSERT_STREQ(id, "-42");
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"result\":{}}", &id, &method),
		  JR_RESPONSE);
	ASSERT_STREQ(id, "1.5");
	ASSERT_EQ(
	    kind_of("{\"jsonrpc\":\"2.0\",\"id\":9007199254740991,\"result\":{}}", &id, &method),
	    JR_RESPONSE);
	ASSERT_STREQ(id, "9007199254740991");
	ASSERT_EQ(kind_of("{\"jsonrpc\":\"2.0\",\"id\":7,\"params\":{}}", &id, &method),
		  JR_INVALID);
	ASSERT_STREQ(id, "7"); /* still known, to answer with */
	kind_of(NULL, &id, &method);
}

TEST(jsonrpc_outstanding_ids_answered_once)
{
	struct jr_table t;
	struct jr_pending p;

	jr_table_init(&t, 2);
	ASSERT_EQ(jr_table_add(&t, "1", "tools/call", "echo"), 0);
	ASSERT_EQ(jr_table_add(&t, "1", "tools/list", NULL), -1); /* duplicate outstanding */
	ASSERT_EQ(jr_table_add(&t, "\"1\"", "ping", NULL), 0);	  /* "1" and 1 are different ids */
	ASSERT_EQ(jr_table_add(&t, "3", "ping", NULL), -2);	  /* bounded */
	ASSERT_EQ(jr_table_take(&t, "2", &p), -1);
	ASSERT_EQ(jr_table_take(&t, "1", &p), 0);
	ASSERT_STREQ(p.method, "tools/call");
	ASSERT_STREQ(p.tool, "echo");
	jr_pending_free(&p);
	ASSERT_EQ(jr_table_take(&t, "1", &p), -1);	   /* a second answer is unsolicited */
	ASSERT_EQ(jr_table_add(&t, "1", "ping", NULL), 0); /* ids may be reused once answered */
	jr_table_free(&t);
}

TEST(jsonrpc_error_line_is_one_valid_line)
{
	size_t len;
	cJSON *data = cJSON_CreateObject();
	char *l;
	cJSON *m;

	cJSON_AddStringToObject(data, "rule", "r\n1");
	l = jr_error_line("\"x\\\"y\"", JR_BLOCKED, "blocked\nhere", data, &len);
	ASSERT_EQ(len, strlen(l));
	ASSERT_TRUE(l[len - 1] == '\n');
	ASSERT_TRUE(memchr(l, '\n', len - 1) == NULL); /* newlines inside are escaped */
	m = cJSON_Parse(l);
	ASSERT_TRUE(m != NULL);
	ASSERT_STREQ(cJSON_GetObjectItem(m, "id")->valuestring, "x\"y");
	ASSERT_EQ(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "error"), "code")->valueint,
		  JR_BLOCKED);
	cJSON_Delete(m);
	free(l);
	l = jr_error_line(NULL, JR_PARSE_ERROR, "bad", NULL, &len);
	ASSERT_TRUE(strstr(l, "\"id\":null") != NULL);
	free(l);
	cJSON_Delete(data);
}

/* Ids beyond 2^53 (or not finite) are printed by cJSON, never converted to an integer. */
TEST(jsonrpc_id_text_huge_numbers)
{
	cJSON *a = cJSON_CreateNumber(1e300), *b = cJSON_CreateNumber(-42),
	      *c = cJSON_CreateNumber(7.5);
	char *ta = jr_id_text(a), *tb = jr_id_text(b), *tc = jr_id_text(c);

	ASSERT_TRUE(ta != NULL);
	ASSERT_TRUE(strstr(ta, "e+300") != NULL || strstr(ta, "e300") != NULL);
	ASSERT_STREQ(tb, "-42");
	ASSERT_STREQ(tc, "7.5");
	free(ta);
	free(tb);
	free(tc);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
}
