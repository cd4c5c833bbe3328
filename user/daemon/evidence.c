/*
 * mcpguardd's flight recorder and metrics endpoint (evidence.h): set up before
 * capabilities are dropped, fed by events.c (kernel decisions) and control.c /
 * session.c (sessions and verdicts), ticked by the main loop.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "evidence.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "xmalloc.h"

/* Unsigned record lines are signed after this long without a checkpoint. */
#define RECORD_SIGN_SECS 30

struct evidence {
	struct recorder *rec;
	struct metrics *m;
	bool rec_failing; /* a line was lost and not yet warned as recovered */
	char rec_note[PATH_MAX + 160];
	char metrics_note[320];
};

static struct evidence *ev_of(const struct daemon *d)
{
	return d->evidence;
}

/* mkdir -p of path's directory; the directories it creates are 0750. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], *p;

	if (mg_strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %.512s: %s", dir, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

int evidence_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	unsigned shift = 0;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	else if (*end != '\0')
		return -1;
	if (shift && end[1] != '\0')
		return -1;
	if (v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

static int record_open(struct evidence *e, const char *path, uint64_t rotate, char *err,
		       size_t errlen)
{
	struct rec_opts o = {.path = path, .source = "daemon", .rotate_bytes = rotate};
	char key[PATH_MAX] = "", rot[64] = "never rotated";

	if (make_parent(path, err, errlen) < 0)
		return -1;
	if ((e->rec = recorder_open(&o, err, errlen)) == NULL)
		return -1;
	if (rec_default_key_path(key, sizeof(key)) < 0)
		mg_strlcpy(key, "(default key)", sizeof(key));
	if (rotate)
		snprintf(rot, sizeof(rot), "rotated past %llu bytes", (unsigned long long)rotate);
	snprintf(e->rec_note, sizeof(e->rec_note),
		 "flight recorder %s (key %s, signed every %d s, %s)", path, key, RECORD_SIGN_SECS,
		 rot);
	return 0;
}

int evidence_start(struct daemon *d, const char *record, bool record_given, uint64_t rotate_bytes,
		   const char *metrics, bool metrics_given)
{
	struct evidence *e = xcalloc(1, sizeof(*e));
	char err[1024];

	d->evidence = e;
	if (!record)
		record = EVIDENCE_RECORD_DEFAULT;
	if (!metrics)
		metrics = EVIDENCE_METRICS_DEFAULT;

	if (strcmp(record, "none") == 0) {
		snprintf(e->rec_note, sizeof(e->rec_note),
			 "flight recorder OFF (--record none): kernel decisions are NOT recorded");
	} else if (record_open(e, record, rotate_bytes, err, sizeof(err)) < 0) {
		if (record_given) {
			warnx("flight recorder %s: %s", record, err);
			return -1;
		}
		warnx("flight recorder %s could not be opened: %s; running WITHOUT a record "
		      "(give --record FILE, or --record none to say so)",
		      record, err);
		snprintf(e->rec_note, sizeof(e->rec_note),
			 "flight recorder OFF: %s could not be opened: %.200s", record, err);
	}

	if (strcmp(metrics, "none") == 0) {
		snprintf(e->metrics_note, sizeof(e->metrics_note), "metrics off (--metrics none)");
		return 0;
	}
	e->m = metrics_new();
	metrics_declare_mcpguard(e->m);
	if (metrics_listen(e->m, metrics, err, sizeof(err)) < 0) {
		metrics_free(e->m);
		e->m = NULL;
		if (metrics_given) {
			warnx("metrics %s: %s", metrics, err);
			return -1;
		}
		warnx("metrics could not listen on %s: %s; metrics OFF (give --metrics ADDR, or "
		      "--metrics none)",
		      metrics, err);
		snprintf(e->metrics_note, sizeof(e->metrics_note), "metrics OFF: %s: %.200s",
			 metrics, err);
		return 0;
	}
	if (metrics_port(e->m) > 0 && strncmp(metrics, "unix:", 5) != 0) {
		/* the port bound, also when ":0" asked for any */
		const char *colon = strrchr(metrics, ':');
		int hostlen = colon ? (int)(colon - metrics) : (int)strlen(metrics);

		snprintf(e->metrics_note, sizeof(e->metrics_note),
			 "metrics on http://%.*s:%d/metrics", hostlen > 200 ? 200 : hostlen,
			 metrics, metrics_port(e->m));
	} else
		snprintf(e->metrics_note, sizeof(e->metrics_note), "metrics on %s (GET /metrics)",
			 metrics);
	return 0;
}

const char *evidence_record_note(const struct daemon *d)
{
	return ev_of(d) ? ev_of(d)->rec_note : "flight recorder not set up";
}

const char *evidence_metrics_note(const struct daemon *d)
{
	return ev_of(d) ? ev_of(d)->metrics_note : "metrics not set up";
}

int evidence_metrics_fd(const struct daemon *d)
{
	return ev_of(d) && ev_of(d)->m ? metrics_fd(ev_of(d)->m) : -1;
}

void evidence_metrics_serve(struct daemon *d)
{
	if (ev_of(d) && ev_of(d)->m)
		metrics_serve(ev_of(d)->m);
}

struct metrics *evidence_metrics(struct daemon *d)
{
	return ev_of(d) ? ev_of(d)->m : NULL;
}

void evidence_record(struct daemon *d, const struct rec_event *rev)
{
	struct evidence *e = ev_of(d);

	if (!e || !e->rec)
		return;
	if (recorder_append(e->rec, rev) < 0) {
		if (!e->rec_failing)
			warn("flight recorder: a %s line was lost", rev->kind ? rev->kind : "");
		e->rec_failing = true;
		return;
	}
	if (e->rec_failing)
		warnx("flight recorder: writing again");
	e->rec_failing = false;
	if (e->m)
		metrics_counter_add(e->m, MX_RECORDER_LINES, NULL, NULL, 1);
}

void evidence_session(struct daemon *d, const struct session *s, const char *kind,
		      const char *summary, uid_t by)
{
	struct rec_event rev = {.kind = kind, .verdict = kind, .summary = summary};
	cJSON *x;

	if (!ev_of(d) || !ev_of(d)->rec)
		return;
	x = cJSON_CreateObject();
	cJSON_AddStringToObject(x, "session", s->id);
	cJSON_AddStringToObject(x, "server", s->cmd);
	cJSON_AddNumberToObject(x, "pid", s->server);
	cJSON_AddNumberToObject(x, "owner", s->owner);
	cJSON_AddNumberToObject(x, "by", by);
	cJSON_AddStringToObject(x, "cgroup", s->path + strlen(d->cgroup_mount));
	rev.extra = x;
	evidence_record(d, &rev);
	cJSON_Delete(x);
}

static void sessions_gauge(struct daemon *d, struct metrics *m)
{
	unsigned live = 0, quarantined = 0;

	for (struct session *s = session_list(d); s; s = s->next) {
		if (s->ended)
			continue;
		live++;
		if (session_flags(d, s, NULL) & MG_SESS_QUARANTINE)
			quarantined++;
	}
	metrics_gauge_set(m, MX_SESSIONS, NULL, "state=\"live\"", live);
	metrics_gauge_set(m, MX_SESSIONS, NULL, "state=\"quarantined\"", quarantined);
}

void evidence_tick(struct daemon *d, time_t now)
{
	struct evidence *e = ev_of(d);

	(void)now;
	if (!e)
		return;
	if (e->rec && recorder_tick(e->rec, RECORD_SIGN_SECS) < 0 && !e->rec_failing) {
		warn("flight recorder: checkpoint");
		e->rec_failing = true;
	}
	if (e->m)
		sessions_gauge(d, e->m);
}

void evidence_stop(struct daemon *d)
{
	struct evidence *e = ev_of(d);

	if (!e)
		return;
	if (e->rec && recorder_close(e->rec) < 0)
		warn("flight recorder: closing checkpoint");
	if (e->m)
		metrics_free(e->m);
	free(e);
	d->evidence = NULL;
}
