#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "findlog.h"

int findlog_open(struct findlog *l, const char *path)
{
	int fd;

	memset(l, 0, sizeof(*l));
	if (!path) {
		l->fp = stderr;
		return 0;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	l->fp = fdopen(fd, "a");
	if (!l->fp) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	l->own = 1;
	return 0;
}

void findlog_close(struct findlog *l)
{
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

static void emit(struct findlog *l, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

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

	if (!l || !l->fp)
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

	if (!l || !l->fp)
		return;
	o = record(l, c, event);
	cJSON_AddStringToObject(o, "action", pol_action_name(action));
	if (detail)
		cJSON_AddStringToObject(o, "detail", detail);
	emit(l, o);
}
