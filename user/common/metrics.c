/* Prometheus registry, text exposition and a non-blocking HTTP endpoint (metrics.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "xmalloc.h"

enum mtype { MT_COUNTER, MT_GAUGE, MT_HISTOGRAM };

struct series {
	struct family *fam;
	char *labels;	  /* exposition syntax, "" for none */
	uint64_t count;	  /* counter value; histogram observation count */
	double value;	  /* gauge value; histogram sum */
	uint64_t *bucket; /* histogram: per-bound counts (not cumulative) */
	struct series *next;
};

struct family {
	char *name;
	char *help;
	enum mtype type;
	double *bounds;
	size_t nbounds;
	struct series *first, *last;
};

struct conn {
	int fd;
	char in[4096];
	size_t inlen;
	char *out;
	size_t outlen, outoff;
	uint64_t serial; /* age, for dropping the oldest */
};

struct metrics {
	struct family **fam;
	size_t nfam;
	struct series **tab; /* open addressing on name + labels */
	size_t tabcap, nseries;
	/* server */
	int ep, lfd;
	char unix_path[108];
	struct conn *conn[METRICS_MAX_CONN];
	uint64_t serial;
};

static const double default_bounds[] = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
					0.001,	 0.0025,   0.005,   0.01,   0.025,   0.05,
					0.1,	 0.25,	   0.5,	    1};

struct metrics *metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->tabcap = 256;
	m->tab = xcalloc(m->tabcap, sizeof(*m->tab));
	m->ep = m->lfd = -1;
	return m;
}

static void conn_close(struct metrics *m, int i)
{
	struct conn *c = m->conn[i];

	if (!c)
		return;
	close(c->fd); /* also leaves the epoll set */
	free(c->out);
	free(c);
	m->conn[i] = NULL;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_MAX_CONN; i++)
		conn_close(m, i);
	if (m->lfd >= 0)
		close(m->lfd);
	if (m->ep >= 0)
		close(m->ep);
	if (m->unix_path[0])
		unlink(m->unix_path);
	for (size_t i = 0; i < m->nfam; i++) {
		struct family *f = m->fam[i];
		struct series *s, *n;

		for (s = f->first; s; s = n) {
			n = s->next;
			free(s->labels);
			free(s->bucket);
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f);
	}
	free(m->fam);
	free(m->tab);
	free(m);
}

/* ---- validation ---- */

static int valid_name(const char *s)
{
	if (!s || !*s || (s[0] >= '0' && s[0] <= '9') || strncmp(s, "__", 2) == 0)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == ':'))
			return 0;
	return 1;
}

/*
 * name="value",... with \\ \" \n escapes, each name once, at most 16 labels; "le" is
 * reserved for histogram buckets.
 */
static int valid_labels(const char *s, int histogram)
{
	const char *names[16];
	size_t lens[16], n = 0;

	while (s && *s) {
		const char *k = s;

		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
			return 0;
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		       (*s >= '0' && *s <= '9') || *s == '_')
			s++;
		if (histogram && s - k == 2 && strncmp(k, "le", 2) == 0)
			return 0;
		if (s - k >= 2 && strncmp(k, "__", 2) == 0)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (lens[i] == (size_t)(s - k) && strncmp(names[i], k, lens[i]) == 0)
				return 0;
		if (n == 16)
			return 0;
		names[n] = k;
		lens[n++] = (size_t)(s - k);
		if (s[0] != '=' || s[1] != '"')
			return 0;
		for (s += 2; *s != '"'; s++) {
			if (!*s || *s == '\n')
				return 0;
			if (*s == '\\') {
				s++;
				if (*s != '\\' && *s != '"' && *s != 'n')
					return 0;
			}
		}
		s++;
		if (*s == ',')
			s++;
		else if (*s)
			return 0;
	}
	return 1;
}

int metrics_labels(char *buf, size_t cap, ...)
{
	va_list ap;
	const char *k, *v;
	size_t n = 0;
	int ok = 1;

	if (cap == 0)
		return -1;
	va_start(ap, cap);
	while (ok && (k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (!v)
			v = "";
		if (n && n < cap)
			buf[n] = ',';
		n += n ? 1 : 0;
		for (const char *p = k; *p; p++, n++)
			if (n < cap)
				buf[n] = *p;
		for (const char *p = "=\""; *p; p++, n++)
			if (n < cap)
				buf[n] = *p;
		for (const char *p = v; *p; p++) {
			char e = *p == '\n' ? 'n' : *p;

			if (*p == '\\' || *p == '"' || *p == '\n') {
				if (n < cap)
					buf[n] = '\\';
				n++;
			}
			if (n < cap)
				buf[n] = e;
			n++;
		}
		if (n < cap)
			buf[n] = '"';
		n++;
		if (n >= cap)
			ok = 0;
	}
	va_end(ap);
	if (!ok || n >= cap) {
		buf[0] = '\0';
		return -1;
	}
	buf[n] = '\0';
	return 0;
}

/* ---- registry ---- */

static uint64_t hash2(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ULL;
	h = (h ^ '{') * 1099511628211ULL;
	for (; *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ULL;
	return h;
}

static struct family *family_find(struct metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nfam; i++)
		if (strcmp(m->fam[i]->name, name) == 0)
			return m->fam[i];
	return NULL;
}

static struct family *family_get(struct metrics *m, const char *name, const char *help,
				 enum mtype type)
{
	struct family *f;

	if (!valid_name(name))
		return NULL;
	if ((f = family_find(m, name)))
		return f->type == type ? f : NULL;
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->help = xstrdup(help ? help : "");
	f->type = type;
	if (type == MT_HISTOGRAM) {
		f->nbounds = sizeof(default_bounds) / sizeof(default_bounds[0]);
		f->bounds = xreallocarray(NULL, f->nbounds, sizeof(double));
		memcpy(f->bounds, default_bounds, sizeof(default_bounds));
	}
	m->fam = xreallocarray(m->fam, m->nfam + 1, sizeof(*m->fam));
	m->fam[m->nfam++] = f;
	return f;
}

static void tab_grow(struct metrics *m)
{
	size_t cap = m->tabcap * 2;
	struct series **t = xcalloc(cap, sizeof(*t));

	for (size_t i = 0; i < m->tabcap; i++) {
		struct series *s = m->tab[i];
		size_t j;

		if (!s)
			continue;
		for (j = hash2(s->fam->name, s->labels) & (cap - 1); t[j]; j = (j + 1) & (cap - 1))
			;
		t[j] = s;
	}
	free(m->tab);
	m->tab = t;
	m->tabcap = cap;
}

static struct series *series_get(struct metrics *m, const char *name, const char *help,
				 enum mtype type, const char *labels)
{
	struct family *f;
	struct series *s;
	size_t j;

	if (!labels)
		labels = "";
	for (j = hash2(name, labels) & (m->tabcap - 1); (s = m->tab[j]);
	     j = (j + 1) & (m->tabcap - 1))
		if (strcmp(s->fam->name, name) == 0 && strcmp(s->labels, labels) == 0) {
			if (s->fam->type == type)
				return s;
			errno = EINVAL;
			return NULL;
		}
	if (m->nseries >= METRICS_MAX_SERIES) {
		errno =
		    ENOSPC; /* label values from clients must not grow the daemon without bound */
		return NULL;
	}
	if (!(f = family_get(m, name, help, type)) || !valid_labels(labels, type == MT_HISTOGRAM)) {
		errno = EINVAL;
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->fam = f;
	s->labels = xstrdup(labels);
	if (type == MT_HISTOGRAM)
		s->bucket = xcalloc(f->nbounds + 1, sizeof(uint64_t));
	if (f->last)
		f->last->next = s;
	else
		f->first = s;
	f->last = s;
	m->tab[j] = s;
	if (++m->nseries * 2 > m->tabcap)
		tab_grow(m);
	return s;
}

#define BAD()                                                                                      \
	do {                                                                                       \
		errno = EINVAL;                                                                    \
		return -1;                                                                         \
	} while (0)

int metrics_counter_add(struct metrics *m, const char *name, const char *help, const char *labels,
			uint64_t v)
{
	struct series *s = series_get(m, name, help, MT_COUNTER, labels);

	if (!s)
		return -1;
	s->count += v;
	return 0;
}

int metrics_counter_set(struct metrics *m, const char *name, const char *help, const char *labels,
			uint64_t total)
{
	struct series *s = series_get(m, name, help, MT_COUNTER, labels);

	if (!s)
		return -1;
	if (total < s->count)
		BAD(); /* a counter never goes down */
	s->count = total;
	return 0;
}

int metrics_gauge_set(struct metrics *m, const char *name, const char *help, const char *labels,
		      double v)
{
	struct series *s = series_get(m, name, help, MT_GAUGE, labels);

	if (!s)
		return -1;
	s->value = v;
	return 0;
}

int metrics_gauge_add(struct metrics *m, const char *name, const char *help, const char *labels,
		      double delta)
{
	struct series *s = series_get(m, name, help, MT_GAUGE, labels);

	if (!s)
		return -1;
	s->value += delta;
	return 0;
}

int metrics_histogram_define(struct metrics *m, const char *name, const char *help,
			     const double *bounds, size_t n)
{
	struct family *f;

	if (n == 0 || family_find(m, name))
		BAD(); /* buckets cannot change under existing series */
	for (size_t i = 0; i < n; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			BAD();
	if (!(f = family_get(m, name, help, MT_HISTOGRAM)))
		BAD();
	free(f->bounds);
	f->bounds = xreallocarray(NULL, n, sizeof(double));
	memcpy(f->bounds, bounds, n * sizeof(double));
	f->nbounds = n;
	return 0;
}

int metrics_histogram_observe(struct metrics *m, const char *name, const char *help,
			      const char *labels, double v)
{
	struct series *s = series_get(m, name, help, MT_HISTOGRAM, labels);
	size_t i;

	if (!s)
		return -1;
	if (isnan(v))
		BAD();
	for (i = 0; i < s->fam->nbounds && v > s->fam->bounds[i]; i++)
		;
	s->bucket[i]++;
	s->count++;
	s->value += v;
	return 0;
}

int metrics_declare(struct metrics *m, const char *name, const char *type, const char *help)
{
	enum mtype t;

	if (strcmp(type, "counter") == 0)
		t = MT_COUNTER;
	else if (strcmp(type, "gauge") == 0)
		t = MT_GAUGE;
	else if (strcmp(type, "histogram") == 0)
		t = MT_HISTOGRAM;
	else
		BAD();
	return family_get(m, name, help, t) ? 0 : -1;
}

void metrics_declare_mcpguard(struct metrics *m)
{
	metrics_declare(m, MX_KERNEL_DECISIONS, "counter",
			"Kernel enforcement decisions by BPF hook, policy rule and action "
			"(block = denied, audit = allowed and reported, kill = fallback SIGKILL).");
	metrics_counter_add(m, MX_RINGBUF_DROPS,
			    "Kernel events lost because the ring buffer was full.", NULL, 0);
	metrics_declare(m, MX_SESSIONS, "gauge",
			"MCP server sessions under guard, by state (live, quarantined).");
	metrics_gauge_add(m, MX_SESSIONS, NULL, "state=\"live\"", 0);
	metrics_gauge_add(m, MX_SESSIONS, NULL, "state=\"quarantined\"", 0);
	metrics_declare(
	    m, MX_FINDINGS, "counter",
	    "Content findings reported by mcpguard run, by scanner, action and server.");
	metrics_declare(m, MX_MESSAGES, "counter", "JSON-RPC messages scanned, by direction.");
	metrics_declare(m, MX_BYTES, "counter",
			"Bytes of JSON-RPC messages scanned, by direction.");
	metrics_declare(m, MX_SCAN_SECONDS, "histogram",
			"Time spent scanning one JSON-RPC message, in seconds.");
	metrics_counter_add(m, MX_RECORDER_LINES, "Lines written to the flight recorder.", NULL, 0);
	metrics_gauge_set(m, MX_UP_SECONDS, "Unix time the daemon started, in seconds.", NULL,
			  (double)time(NULL));
}

double metrics_value(struct metrics *m, const char *name, const char *labels)
{
	struct series *s;

	if (!labels)
		labels = "";
	for (size_t j = hash2(name, labels) & (m->tabcap - 1); (s = m->tab[j]);
	     j = (j + 1) & (m->tabcap - 1))
		if (strcmp(s->fam->name, name) == 0 && strcmp(s->labels, labels) == 0)
			return s->fam->type == MT_GAUGE ? s->value : (double)s->count;
	return NAN;
}

/* ---- deltas from mcpguard run to the daemon ---- */

cJSON *metrics_take_json(struct metrics *m)
{
	cJSON *o = cJSON_CreateObject(), *fa = cJSON_AddArrayToObject(o, "families");

	for (size_t i = 0; i < m->nfam; i++) {
		struct family *f = m->fam[i];
		cJSON *fj, *sa;

		if (f->type == MT_GAUGE || !f->first)
			continue; /* gauges are the daemon's own state */
		fj = cJSON_CreateObject();
		cJSON_AddStringToObject(fj, "name", f->name);
		cJSON_AddStringToObject(fj, "type",
					f->type == MT_COUNTER ? "counter" : "histogram");
		if (f->type == MT_HISTOGRAM)
			cJSON_AddItemToObject(fj, "bounds",
					      cJSON_CreateDoubleArray(f->bounds, (int)f->nbounds));
		sa = cJSON_AddArrayToObject(fj, "series");
		for (struct series *s = f->first; s; s = s->next) {
			cJSON *sj;

			if (s->count == 0)
				continue;
			sj = cJSON_CreateObject();
			cJSON_AddStringToObject(sj, "labels", s->labels);
			cJSON_AddNumberToObject(sj, "count", (double)s->count);
			if (f->type == MT_HISTOGRAM) {
				cJSON *b = cJSON_AddArrayToObject(sj, "buckets");

				for (size_t k = 0; k <= f->nbounds; k++) {
					cJSON_AddItemToArray(
					    b, cJSON_CreateNumber((double)s->bucket[k]));
					s->bucket[k] = 0;
				}
				cJSON_AddNumberToObject(sj, "sum", s->value);
				s->value = 0;
			}
			s->count = 0;
			cJSON_AddItemToArray(sa, sj);
		}
		cJSON_AddItemToArray(fa, fj);
	}
	return o;
}

static int count_of(const cJSON *v, uint64_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
	    v->valuedouble != (double)(uint64_t)v->valuedouble)
		return -1;
	*out = (uint64_t)v->valuedouble;
	return 0;
}

int metrics_merge_json(struct metrics *m, const cJSON *j, const char *extra_labels)
{
	const cJSON *fj, *sj;
	int bad = 0;

	if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "families")))
		BAD();
	cJSON_ArrayForEach(fj, cJSON_GetObjectItemCaseSensitive(j, "families"))
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(fj, "name");
		const cJSON *bounds = cJSON_GetObjectItemCaseSensitive(fj, "bounds");
		struct family *f;

		/* only families the daemon declared: a client cannot invent metrics */
		if (!cJSON_IsString(name) || !(f = family_find(m, name->valuestring)) ||
		    f->type == MT_GAUGE) {
			bad++;
			continue;
		}
		if (f->type == MT_HISTOGRAM) {
			size_t k = 0;
			const cJSON *b;

			if (cJSON_GetArraySize(bounds) != (int)f->nbounds) {
				bad++;
				continue;
			}
			cJSON_ArrayForEach(b, bounds)
			{
				if (!cJSON_IsNumber(b) || b->valuedouble != f->bounds[k])
					break;
				k++;
			}
			if (k != f->nbounds) {
				bad++;
				continue;
			}
		}
		cJSON_ArrayForEach(sj, cJSON_GetObjectItemCaseSensitive(fj, "series"))
		{
			const cJSON *lb = cJSON_GetObjectItemCaseSensitive(sj, "labels");
			char labels[1024];
			struct series *s;
			uint64_t cnt, b[64];
			const cJSON *bj;
			size_t k = 0;

			if (!cJSON_IsString(lb) ||
			    count_of(cJSON_GetObjectItemCaseSensitive(sj, "count"), &cnt) < 0 ||
			    snprintf(labels, sizeof(labels), "%s%s%s",
				     extra_labels ? extra_labels : "",
				     extra_labels && *extra_labels && *lb->valuestring ? "," : "",
				     lb->valuestring) >= (int)sizeof(labels)) {
				bad++;
				continue;
			}
			if (f->type == MT_COUNTER) {
				if (!(s = series_get(m, f->name, NULL, MT_COUNTER, labels))) {
					bad++;
					continue;
				}
				s->count += cnt;
				continue;
			}
			bj = cJSON_GetObjectItemCaseSensitive(sj, "buckets");
			if (f->nbounds + 1 > sizeof(b) / sizeof(b[0]) ||
			    cJSON_GetArraySize(bj) != (int)f->nbounds + 1 ||
			    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(sj, "sum"))) {
				bad++;
				continue;
			}
			{
				const cJSON *x;
				uint64_t total = 0;

				cJSON_ArrayForEach(x, bj)
				{
					if (count_of(x, &b[k]) < 0)
						break;
					total += b[k++];
				}
				if (k != f->nbounds + 1 || total != cnt ||
				    !(s = series_get(m, f->name, NULL, MT_HISTOGRAM, labels))) {
					bad++;
					continue;
				}
			}
			for (k = 0; k <= f->nbounds; k++)
				s->bucket[k] += b[k];
			s->count += cnt;
			s->value += cJSON_GetObjectItemCaseSensitive(sj, "sum")->valuedouble;
		}
	}
	if (bad) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- exposition ---- */

struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(o->len < o->cap ? o->buf + o->len : NULL,
		      o->len < o->cap ? o->cap - o->len : 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* Shortest text that reads back as the same double; Prometheus spellings for the rest. */
static void fmt_double(double v, char out[32])
{
	if (isnan(v))
		strcpy(out, "NaN");
	else if (isinf(v))
		strcpy(out, v > 0 ? "+Inf" : "-Inf");
	else {
		snprintf(out, 32, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, 32, "%.17g", v);
	}
}

static void put_help(struct out *o, const struct family *f)
{
	static const char *const tn[] = {"counter", "gauge", "histogram"};

	put(o, "# HELP %s ", f->name);
	for (const char *p = f->help; *p; p++) {
		if (*p == '\\')
			put(o, "\\\\");
		else if (*p == '\n')
			put(o, "\\n");
		else
			put(o, "%c", *p);
	}
	put(o, "\n# TYPE %s %s\n", f->name, tn[f->type]);
}

size_t metrics_render(struct metrics *m, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0};
	char v[32];

	for (size_t i = 0; i < m->nfam; i++) {
		const struct family *f = m->fam[i];

		put_help(&o, f);
		for (const struct series *s = f->first; s; s = s->next) {
			const char *lb = s->labels, *sep = lb[0] ? "," : "";

			if (f->type == MT_COUNTER) {
				put(&o, "%s%s%s%s %llu\n", f->name, lb[0] ? "{" : "", lb,
				    lb[0] ? "}" : "", (unsigned long long)s->count);
			} else if (f->type == MT_GAUGE) {
				fmt_double(s->value, v);
				put(&o, "%s%s%s%s %s\n", f->name, lb[0] ? "{" : "", lb,
				    lb[0] ? "}" : "", v);
			} else {
				uint64_t cum = 0;

				for (size_t b = 0; b < f->nbounds; b++) {
					cum += s->bucket[b];
					fmt_double(f->bounds[b], v);
					put(&o, "%s_bucket{%s%sle=\"%s\"} %llu\n", f->name, lb, sep,
					    v, (unsigned long long)cum);
				}
				put(&o, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, lb, sep,
				    (unsigned long long)s->count);
				fmt_double(s->value, v);
				put(&o, "%s_sum%s%s%s %s\n", f->name, lb[0] ? "{" : "", lb,
				    lb[0] ? "}" : "", v);
				put(&o, "%s_count%s%s%s %llu\n", f->name, lb[0] ? "{" : "", lb,
				    lb[0] ? "}" : "", (unsigned long long)s->count);
			}
		}
	}
	if (cap)
		buf[o.len < cap ? o.len : cap - 1] = '\0';
	return o.len;
}

/* ---- HTTP ---- */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int listen_unix(struct metrics *m, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		seterr(err, errlen, "metrics socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			seterr(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path); /* stale socket of an earlier daemon */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, 16) < 0) {
		seterr(err, errlen, "metrics socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	mg_strlcpy(m->unix_path, path, sizeof(m->unix_path));
	return fd;
}

static int listen_tcp(const char *addr, char *err, size_t errlen)
{
	char host[256], *port;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res, *ai;
	int fd = -1, one = 1, rc;

	if (mg_strlcpy(host, addr, sizeof(host)) >= sizeof(host) || !(port = strrchr(host, ':')) ||
	    port == host || !port[1]) {
		seterr(err, errlen, "metrics address \"%s\": expected HOST:PORT or unix:PATH",
		       addr);
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[') {
		size_t n = strlen(host);

		if (host[n - 1] != ']') {
			seterr(err, errlen, "metrics address \"%s\": unbalanced [", addr);
			return -1;
		}
		host[n - 1] = '\0';
		memmove(host, host + 1, n - 1);
	}
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		seterr(err, errlen, "metrics address \"%s\": %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 16) == 0)
			break;
		rc = errno;
		close(fd);
		fd = -1;
		errno = rc;
	}
	if (fd < 0)
		seterr(err, errlen, "metrics address %s: %s", addr, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

int metrics_listen(struct metrics *m, const char *addr, char *err, size_t errlen)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
	int fd;

	if (m->lfd >= 0) {
		seterr(err, errlen, "metrics: already listening");
		return -1;
	}
	fd = strncmp(addr, "unix:", 5) == 0 ? listen_unix(m, addr + 5, err, errlen)
					    : listen_tcp(addr, err, errlen);
	if (fd < 0)
		return -1;
	if ((m->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		seterr(err, errlen, "metrics: epoll: %s", strerror(errno));
		close(fd);
		if (m->ep >= 0)
			close(m->ep);
		m->ep = -1;
		return -1;
	}
	m->lfd = fd;
	return 0;
}

int metrics_fd(const struct metrics *m)
{
	return m->ep;
}

int metrics_port(const struct metrics *m)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (m->lfd < 0 || getsockname(m->lfd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static void respond(struct metrics *m, struct conn *c, const char *status, const char *ctype,
		    const char *body, size_t blen, int head_only)
{
	char hdr[256];
	int n;

	(void)m;
	n = snprintf(hdr, sizeof(hdr),
		     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		     "Connection: close\r\n\r\n",
		     status, ctype, blen);
	c->outlen = (size_t)n + (head_only ? 0 : blen);
	c->out = xmalloc(c->outlen + 1);
	memcpy(c->out, hdr, (size_t)n);
	if (!head_only && blen)
		memcpy(c->out + n, body, blen);
	c->outoff = 0;
}

/* Parse the request line once the header is complete and queue the answer. */
static void handle_request(struct metrics *m, struct conn *c)
{
	char *sp1, *sp2, *path;
	int head;

	c->in[c->inlen] = '\0';
	sp1 = strchr(c->in, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2) {
		respond(m, c, "400 Bad Request", "text/plain", "bad request\n", 12, 0);
		return;
	}
	*sp1 = *sp2 = '\0';
	path = sp1 + 1;
	path[strcspn(path, "?")] = '\0';
	head = strcmp(c->in, "HEAD") == 0;
	if (!head && strcmp(c->in, "GET") != 0) {
		respond(m, c, "405 Method Not Allowed", "text/plain", "GET only\n", 9, 0);
		return;
	}
	if (strcmp(path, "/metrics") == 0) {
		size_t n = metrics_render(m, NULL, 0);
		char *body = xmalloc(n + 1);

		metrics_render(m, body, n + 1);
		respond(m, c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, n, head);
		free(body);
	} else if (strcmp(path, "/") == 0) {
		static const char idx[] = "mcpguard metrics: GET /metrics\n";

		respond(m, c, "200 OK", "text/plain", idx, sizeof(idx) - 1, head);
	} else {
		respond(m, c, "404 Not Found", "text/plain", "not found\n", 10, head);
	}
}

static void conn_accept(struct metrics *m)
{
	for (;;) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;
		struct epoll_event ev = {.events = EPOLLIN};
		uint64_t oldest = UINT64_MAX;

		if (fd < 0)
			return; /* EAGAIN, or a transient error: the next readiness retries */
		for (int i = 0; i < METRICS_MAX_CONN; i++) {
			if (!m->conn[i]) {
				slot = i;
				break;
			}
			if (m->conn[i]->serial < oldest) {
				oldest = m->conn[i]->serial;
				slot = i;
			}
		}
		conn_close(m, slot); /* no-op for a free slot; else drop the oldest */
		m->conn[slot] = xcalloc(1, sizeof(struct conn));
		m->conn[slot]->fd = fd;
		m->conn[slot]->serial = ++m->serial;
		ev.data.u64 = (uint64_t)slot;
		if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			conn_close(m, slot);
	}
}

/* 1: keep the connection, 0: close it. */
static int conn_write(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);

		if (w < 0)
			return errno == EAGAIN || errno == EINTR;
		c->outoff += (size_t)w;
	}
	return 0; /* all sent: Connection: close */
}

static int conn_event(struct metrics *m, struct conn *c)
{
	if (c->out)
		return conn_write(c);
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		if (n == 0)
			return 0;
		c->inlen += (size_t)n;
		c->in[c->inlen] = '\0';
		if (strstr(c->in, "\r\n\r\n") || strstr(c->in, "\n\n")) {
			handle_request(m, c);
			return conn_write(c) ? 2 : 0; /* 2: the rest when writable */
		}
		if (c->inlen == sizeof(c->in) - 1) {
			respond(m, c, "431 Request Header Fields Too Large", "text/plain",
				"request too large\n", 18, 0);
			return conn_write(c) ? 2 : 0;
		}
	}
}

void metrics_serve(struct metrics *m)
{
	struct epoll_event evs[METRICS_MAX_CONN + 1];
	int n;

	if (m->ep < 0)
		return;
	n = epoll_wait(m->ep, evs, METRICS_MAX_CONN + 1, 0);
	for (int i = 0; i < n; i++) {
		uint64_t slot = evs[i].data.u64;
		int r;

		if (slot == UINT64_MAX) {
			conn_accept(m);
			continue;
		}
		if (slot >= METRICS_MAX_CONN || !m->conn[slot])
			continue;
		r = conn_event(m, m->conn[slot]);
		if (r == 0) {
			conn_close(m, (int)slot);
		} else if (r == 2) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = slot};

			if (epoll_ctl(m->ep, EPOLL_CTL_MOD, m->conn[slot]->fd, &ev) < 0)
				conn_close(m, (int)slot);
		}
	}
}
