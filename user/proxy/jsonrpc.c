#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "log.h"
#include "xmalloc.h"

/*
 * The id as compact JSON. Integer ids (what clients send) are formatted here:
 * cJSON prints numbers through sprintf and checks them with sscanf, which is
 * most of the cost of a small message.
 */
char *jr_id_text(const cJSON *id)
{
	double v = id->valuedouble;

	/* Range first: converting a double outside long long's range is undefined. */
	if (cJSON_IsNumber(id) && v > -9007199254740992.0 && v < 9007199254740992.0 &&
	    v == (double)(long long)v) {
		char tmp[24], *s;
		long long n = (long long)v;
		unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
		size_t i = sizeof(tmp);

		do {
			tmp[--i] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		if (n < 0)
			tmp[--i] = '-';
		s = xmalloc(sizeof(tmp) - i + 1);
		memcpy(s, tmp + i, sizeof(tmp) - i);
		s[sizeof(tmp) - i] = '\0';
		return s;
	}
	return cJSON_PrintUnformatted(id);
}

enum jr_kind jr_classify(const cJSON *m, char **idtext, const char **method)
{
	const cJSON *ver, *id, *meth, *res, *err;

	*idtext = NULL;
	*method = NULL;
	if (!cJSON_IsObject(m))
		return JR_INVALID;
	ver = cJSON_GetObjectItemCaseSensitive(m, "jsonrpc");
	if (!cJSON_IsString(ver) || strcmp(ver->valuestring, "2.0") != 0)
		return JR_INVALID;
	id = cJSON_GetObjectItemCaseSensitive(m, "id");
	meth = cJSON_GetObjectItemCaseSensitive(m, "method");
	res = cJSON_GetObjectItemCaseSensitive(m, "result");
	err = cJSON_GetObjectItemCaseSensitive(m, "error");
	/* Ids are strings or numbers; null only appears in error responses. */
	if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !(cJSON_IsNull(id) && err && !meth))
		return JR_INVALID;
	/* Known even for an invalid message, so its sender can be answered. */
	if (id && !(*idtext = jr_id_text(id)))
		return JR_INVALID;
	if (meth) {
		if (!cJSON_IsString(meth) || res || err)
			return JR_INVALID;
		*method = meth->valuestring;
		return id ? JR_REQUEST : JR_NOTIFICATION;
	}
	if (!id || (!res == !err))
		return JR_INVALID;
	if (err && !cJSON_IsObject(err))
		return JR_INVALID;
	return JR_RESPONSE;
}

void jr_table_init(struct jr_table *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->max = max;
}

void jr_pending_free(struct jr_pending *p)
{
	free(p->id);
	free(p->method);
	free(p->tool);
	memset(p, 0, sizeof(*p));
}

void jr_table_free(struct jr_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		jr_pending_free(&t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

int jr_table_add(struct jr_table *t, const char *id, const char *method, const char *tool)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->v[i].id, id) == 0)
			return -1;
	if (t->n >= t->max)
		return -2;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].id = xstrdup(id);
	t->v[t->n].method = xstrdup(method ? method : "");
	t->v[t->n].tool = tool ? xstrdup(tool) : NULL;
	t->v[t->n].cursor = 0;
	t->n++;
	return 0;
}

int jr_table_take(struct jr_table *t, const char *id, struct jr_pending *out)
{
	for (size_t i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].id, id) != 0)
			continue;
		*out = t->v[i];
		t->v[i] = t->v[--t->n];
		return 0;
	}
	return -1;
}

char *jr_line(const cJSON *m, size_t *len)
{
	char *s = cJSON_PrintUnformatted(m);
	size_t n;

	if (!s)
		fatalx("out of memory serialising a message");
	n = strlen(s);
	s = xreallocarray(s, 1, n + 2);
	s[n] = '\n';
	s[n + 1] = '\0';
	*len = n + 1;
	return s;
}

char *jr_error_line(const char *idtext, int code, const char *message, const cJSON *data,
		    size_t *len)
{
	cJSON *m = cJSON_CreateObject(), *id = NULL, *err;
	char *line;

	if (idtext && *idtext)
		id = cJSON_Parse(idtext);
	if (!id)
		id = cJSON_CreateNull();
	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	cJSON_AddItemToObject(m, "id", id);
	err = cJSON_AddObjectToObject(m, "error");
	cJSON_AddNumberToObject(err, "code", code);
	cJSON_AddStringToObject(err, "message", message);
	if (data)
		cJSON_AddItemToObject(err, "data", cJSON_Duplicate(data, 1));
	line = jr_line(m, len);
	cJSON_Delete(m);
	return line;
}
