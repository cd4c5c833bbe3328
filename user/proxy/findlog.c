#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "findlog.h"
#include "log.h"
#include "recorder.h"

int findlog_open(struct findlog *l, const char *path)
{
	struct rec_opts o = {.path = path, .source = "proxy"};
	char err[512];

	memset(l, 0, sizeof(*l));
	if (!path) {
		l->fp = stderr;
		return 0;
	}
	if (!(l->rec = recorder_open(&o, err, sizeof(err)))) {
		warnx("%s", err);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void findlog_close(struct findlog *l)
{
	if (l->rec && recorder_close(l->rec) < 0)
		warn("closing the flight recorder");
	l->rec = NULL;
	if (l->own && l->fp)
		fclose(l->fp);
	l->fp = NULL;
}

static cJSON *record(struct findlog *l, const struct msgctx *c, const char *event)
{
	struct timeval tv;
	cJSON *o = cJSON_CreateObject();

	gettimeofday(&tv, NULL);
	cJSON_AddNumberToObject(o, "ts", (double)tv.tv_sec + tv.tv_usec / 1e6);
	cJSON_AddNumberToObject(o, "seq", (double)++l->seq);
	cJSON_AddStringToObject(o, "event", event);
	if (c) {
		cJSON_AddStringToObject(o, "dir", c->dir);
		if (c->kind)
			cJSON_AddStringToObject(o, "kind", c->kind);
		if (c->method)
			cJSON_AddStringToObject(o, "method", c->method);
		if (c->id) {
			cJSON *id = cJSON_Parse(c->id);

			if (id)
				cJSON_AddItemToObject(o, "id", id);
		}
		if (c->tool)
			cJSON_AddStringToObject(o, "tool", c->tool);
	}
	return o;
}

static const char *ostr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void emit(struct findlog *l, cJSON *o)
{
	char *s;

	if (l->rec) {
		/* kind and verdict: the action taken; the rest of the record rides along */
		struct rec_event ev = {.kind = ostr(o, "action"),
				       .scanner = ostr(o, "scanner"),
				       .rule = ostr(o, "rule"),
				       .tool = ostr(o, "tool"),
				       .verdict = ostr(o, "action"),
				       .summary = ostr(o, "detail"),
				       .extra = o};

		if (recorder_append(l->rec, &ev) < 0)
			warn("flight recorder: a record was lost");
		cJSON_Delete(o);
		return;
	}
	s = cJSON_PrintUnformatted(o);

	cJSON_Delete(o);
	if (!s)
		return;
	/* One fputs per record so concurrent writers to a shared file do not interleave. */
	fprintf(l->fp, "%s\n", s);
	fflush(l->fp);
	free(s);
}

void findlog_finding(struct findlog *l, const struct msgctx *c, const struct finding *f)
{
	cJSON *o;

	if (!l || (!l->fp && !l->rec))
		return;
	o = record(l, c, "finding");
	cJSON_AddStringToObject(o, "scanner", f->scanner ? f->scanner : "?");
	cJSON_AddStringToObject(o, "rule", f->rule);
	cJSON_AddStringToObject(o, "confidence", f->confidence == CONF_HIGH ? "high" : "low");
	cJSON_AddStringToObject(o, "action", pol_action_name(f->action));
	cJSON_AddStringToObject(o, "where", f->where);
	cJSON_AddStringToObject(o, "detail", f->detail);
	emit(l, o);
}

void findlog_event(struct findlog *l, const struct msgctx *c, const char *event,
		   enum pol_action action, const char *detail)
{
	cJSON *o;

	if (!l || (!l->fp && !l->rec))
		return;
	o = record(l, c, event);
	cJSON_AddStringToObject(o, "action", pol_action_name(action));
	if (detail)
		cJSON_AddStringToObject(o, "detail", detail);
	emit(l, o);
}

#define ALLOW_MAX_ARGS 32 /* argument names listed; the rest are counted */

void findlog_allow(struct findlog *l, const struct msgctx *c, const char *tool,
		   enum pol_action action, const cJSON *args)
{
	char summary[REC_MAX_FIELD];
	const cJSON *a, *obj = cJSON_IsObject(args) ? args : NULL;
	struct rec_event ev;
	cJSON *o, *names;
	size_t off;
	int n = 0;

	if (!l || !l->rec || !tool)
		return;
	o = record(l, c, "allow");
	names = cJSON_AddArrayToObject(o, "arguments");
	off = (size_t)snprintf(summary, sizeof(summary), "tools/call %.128s(", tool);
	/* Names only: a value may be the very secret another call was blocked for. */
	cJSON_ArrayForEach(a, obj)
	{
		if (n++ >= ALLOW_MAX_ARGS || !a->string)
			continue;
		cJSON_AddItemToArray(names, cJSON_CreateString(a->string));
		if (off < sizeof(summary))
			off += (size_t)snprintf(summary + off, sizeof(summary) - off, "%s%.64s",
						n > 1 ? ", " : "", a->string);
	}
	if (n > ALLOW_MAX_ARGS && off < sizeof(summary))
		off += (size_t)snprintf(summary + off, sizeof(summary) - off, ", +%d more",
					n - ALLOW_MAX_ARGS);
	if (off < sizeof(summary))
		snprintf(summary + off, sizeof(summary) - off, ")");
	ev = (struct rec_event){.kind = "allow",
				.tool = tool,
				.verdict = pol_action_name(action),
				.summary = summary,
				.extra = o};
	if (recorder_append(l->rec, &ev) < 0)
		warn("flight recorder: a record was lost");
	cJSON_Delete(o);
}
