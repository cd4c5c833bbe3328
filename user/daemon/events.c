/*
 * Events: every deny or audit from any mcpguard BPF program arrives in the shared
 * pinned ring buffer and leaves as one JSON line:
 *   {"time":"2026-01-02T03:04:05.678Z","pid":..,"tgid":..,"uid":..,"comm":..,
 *    "exe":..,"cgroup":..,"hook":..,"target":..,"rule":..,"action":..}
 * The ring buffer is read through its pin, so events a killed daemon left behind
 * are delivered by the next one. Each event is also a flight-recorder line
 * (kind kernel-deny/kernel-audit/kernel-kill) and a count in
 * mcpguard_kernel_decisions_total{hook,rule,action} (evidence.h).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "cgroup.h"
#include "events.h"
#include "evidence.h"
#include "metrics.h"
#include "session.h"
#include "log.h"
#include "xmalloc.h"

#define CG_CACHE 512
#define DROP_REPORT_SECS 10

struct cg_ent {
	uint64_t id;
	char *path; /* relative to the cgroup2 mount, e.g. /mcp/s1a2 */
};

struct events {
	struct daemon *d;
	struct ring_buffer *rb;
	int rb_fd, cnt_fd;
	FILE *out;
	bool own_out;
	uint64_t drops_reported;
	time_t next_drop_check;
	struct cg_ent cg[CG_CACHE];
	size_t ncg;
	struct timespec last_scan;
	unsigned long nevents;
};

static const char *hook_names[MG_HOOK_MAX] = {
    [MG_HOOK_CONNECT4] = "connect4",	   [MG_HOOK_CONNECT6] = "connect6",
    [MG_HOOK_SENDMSG4] = "sendmsg4",	   [MG_HOOK_SENDMSG6] = "sendmsg6",
    [MG_HOOK_SOCK_CREATE] = "sock_create", [MG_HOOK_FILE_OPEN] = "file_open",
    [MG_HOOK_INODE_LINK] = "path_link",	   [MG_HOOK_INODE_RENAME] = "path_rename",
    [MG_HOOK_TRUNCATE] = "path_truncate",  [MG_HOOK_EXEC] = "bprm_check_security",
    [MG_HOOK_SYS_ENTER] = "sys_enter",
};

/* What the process tried, for the record's summary: "connect 169.254.169.254:80". */
static const char *hook_verb(unsigned h)
{
	switch (h) {
	case MG_HOOK_CONNECT4:
	case MG_HOOK_CONNECT6:
		return "connect";
	case MG_HOOK_SENDMSG4:
	case MG_HOOK_SENDMSG6:
		return "sendmsg";
	case MG_HOOK_SOCK_CREATE:
		return "socket";
	case MG_HOOK_FILE_OPEN:
		return "open";
	case MG_HOOK_INODE_LINK:
		return "link";
	case MG_HOOK_INODE_RENAME:
		return "rename";
	case MG_HOOK_TRUNCATE:
		return "truncate";
	case MG_HOOK_EXEC:
		return "exec";
	case MG_HOOK_SYS_ENTER:
		return "access"; /* a path-taking syscall, seen at entry by the fallback */
	}
	return "unknown";
}

/* Which enforcement layer decided: the recorder's "scanner". */
static const char *hook_layer(unsigned h)
{
	if (h >= MG_HOOK_CONNECT4 && h <= MG_HOOK_SOCK_CREATE)
		return "egress";
	if (h == MG_HOOK_SYS_ENTER)
		return "fallback";
	return "lsm";
}

static const char *action_name(unsigned a)
{
	switch (a) {
	case MG_ACT_ALLOW:
		return "allow";
	case MG_ACT_AUDIT:
		return "audit";
	case MG_ACT_BLOCK:
		return "block";
	case MG_ACT_KILL:
		return "kill";
	}
	return "unknown";
}

/* nftw has no user pointer: the scan in progress. */
static struct events *scanning;

static int cg_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct events *ev = scanning;
	size_t mlen = strlen(ev->d->cgroup_mount);
	uint64_t id;

	(void)st;
	(void)ftw;
	if (flag != FTW_D)
		return 0;
	if (cgroup_id_of(path, &id) < 0)
		return 0;
	for (size_t i = 0; i < ev->ncg; i++)
		if (ev->cg[i].id == id)
			return 0;
	if (ev->ncg == CG_CACHE) {
		/* Full: forget the oldest half (ended sessions, most likely). */
		for (size_t i = 0; i < CG_CACHE / 2; i++)
			free(ev->cg[i].path);
		memmove(ev->cg, ev->cg + CG_CACHE / 2, (CG_CACHE / 2) * sizeof(ev->cg[0]));
		ev->ncg = CG_CACHE / 2;
	}
	ev->cg[ev->ncg].id = id;
	ev->cg[ev->ncg].path = xstrdup(path + mlen);
	ev->ncg++;
	return 0;
}

static long ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000L + (b->tv_nsec - a->tv_nsec) / 1000000L;
}

static const char *cg_lookup(struct events *ev, uint64_t id)
{
	struct timespec now;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ev->ncg; i++)
			if (ev->cg[i].id == id)
				return ev->cg[i].path;
		/* Rescan the guarded subtree on a miss, at most every 100 ms. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (pass || ms_between(&ev->last_scan, &now) < 100)
			break;
		ev->last_scan = now;
		scanning = ev;
		nftw(ev->d->cgroup_path, cg_visit, 16, FTW_PHYS);
		scanning = NULL;
	}
	return NULL;
}

static void fmt_time(uint64_t ts_boot, char *buf, size_t len)
{
	struct timespec real, boot;
	int64_t ns;
	time_t sec;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	ns = (int64_t)real.tv_sec * 1000000000LL + real.tv_nsec -
	     ((int64_t)boot.tv_sec * 1000000000LL + boot.tv_nsec - (int64_t)ts_boot);
	sec = (time_t)(ns / 1000000000LL);
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((ns / 1000000LL) % 1000));
}

static const char *family_name(unsigned f)
{
	switch (f) {
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_PACKET:
		return "packet";
	}
	return "other";
}

static void fmt_target(const struct mg_event *e, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	char path[MG_PATH_LEN + 1];

	memcpy(path, e->path, MG_PATH_LEN);
	path[MG_PATH_LEN] = '\0';
	if (e->hook == MG_HOOK_SOCK_CREATE) {
		snprintf(buf, len, "%s (%s, protocol %u)", path[0] ? path : "socket",
			 family_name(e->family), e->proto);
	} else if (e->family == AF_INET) {
		inet_ntop(AF_INET, e->daddr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, e->dport);
	} else if (e->family == AF_INET6) {
		inet_ntop(AF_INET6, e->daddr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, e->dport);
	} else if (path[0]) {
		snprintf(buf, len, "%s", path);
	} else {
		snprintf(buf, len, "dev %llu inode %llu", (unsigned long long)e->dev,
			 (unsigned long long)e->ino);
	}
}

static const char *session_of(struct daemon *d, uint64_t cgid)
{
	for (struct session *s = session_list(d); s; s = s->next)
		if (s->cgid == cgid)
			return s->id;
	return NULL;
}

/* The flight-recorder line and the metrics count of one kernel decision. */
static void evidence_of(struct events *ev, const struct mg_event *e, const char *hook,
			const char *target, const char *comm, const char *cg)
{
	const char *rule = daemon_rule_name(ev->d, e->rule_id), *act = action_name(e->action);
	struct metrics *m = evidence_metrics(ev->d);
	char kind[32], summary[MG_PATH_LEN + 96], labels[512];
	const char *sess = session_of(ev->d, e->cgid);
	struct rec_event rev;
	cJSON *x;

	if (m && metrics_labels(labels, sizeof(labels), "hook", hook, "rule", rule, "action", act,
				NULL) == 0)
		metrics_counter_add(m, MX_KERNEL_DECISIONS, NULL, labels, 1);
	snprintf(kind, sizeof(kind), "kernel-%s", e->action == MG_ACT_BLOCK ? "deny" : act);
	snprintf(summary, sizeof(summary), "%s %s", hook_verb(e->hook), target);
	x = cJSON_CreateObject();
	cJSON_AddNumberToObject(x, "pid", e->tgid);
	cJSON_AddStringToObject(x, "comm", comm);
	cJSON_AddStringToObject(x, "cgroup", cg);
	if (sess)
		cJSON_AddStringToObject(x, "session", sess);
	else
		cJSON_AddNullToObject(x, "session");
	cJSON_AddStringToObject(x, "hook", hook);
	rev = (struct rec_event){.kind = kind,
				 .scanner = hook_layer(e->hook),
				 .rule = rule,
				 .verdict = act,
				 .summary = summary,
				 .extra = x};
	evidence_record(ev->d, &rev);
	cJSON_Delete(x);
}

static int handle(void *ctx, void *data, size_t size)
{
	struct events *ev = ctx;
	const struct mg_event *e = data;
	char buf[64], target[MG_PATH_LEN + 64], comm[MG_COMM_LEN + 1], exe[PATH_MAX];
	const char *cg, *hook;
	cJSON *o;
	char *line;
	ssize_t n;

	if (size < sizeof(*e)) {
		warnx("short event (%zu bytes)", size);
		return 0;
	}
	o = cJSON_CreateObject();
	fmt_time(e->ts_ns, buf, sizeof(buf));
	cJSON_AddStringToObject(o, "time", buf);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddNumberToObject(o, "tgid", e->tgid);
	cJSON_AddNumberToObject(o, "uid", e->uid);
	memcpy(comm, e->comm, MG_COMM_LEN);
	comm[MG_COMM_LEN] = '\0';
	cJSON_AddStringToObject(o, "comm", comm);
	snprintf(buf, sizeof(buf), "/proc/%u/exe", e->tgid);
	/* The process may be gone by now (or denied and exited): exe is then null. */
	if ((n = readlink(buf, exe, sizeof(exe) - 1)) > 0) {
		exe[n] = '\0';
		cJSON_AddStringToObject(o, "exe", exe);
	} else {
		cJSON_AddNullToObject(o, "exe");
	}
	if ((cg = cg_lookup(ev, e->cgid)) == NULL) {
		snprintf(buf, sizeof(buf), "cgroup id %llu (gone)", (unsigned long long)e->cgid);
		cg = buf;
	}
	cJSON_AddStringToObject(o, "cgroup", cg);
	hook = e->hook < MG_HOOK_MAX && hook_names[e->hook] ? hook_names[e->hook] : "unknown";
	cJSON_AddStringToObject(o, "hook", hook);
	fmt_target(e, target, sizeof(target));
	cJSON_AddStringToObject(o, "target", target);
	if (e->family && e->hook != MG_HOOK_SOCK_CREATE)
		cJSON_AddStringToObject(o, "proto",
					e->proto == 6	 ? "tcp"
					: e->proto == 17 ? "udp"
							 : "other");
	cJSON_AddStringToObject(o, "rule", daemon_rule_name(ev->d, e->rule_id));
	cJSON_AddStringToObject(o, "action", action_name(e->action));
	if ((line = cJSON_PrintUnformatted(o)) != NULL) {
		fprintf(ev->out, "%s\n", line);
		fflush(ev->out);
		free(line);
	}
	evidence_of(ev, e, hook, target, comm, cg);
	cJSON_Delete(o);
	ev->nevents++;
	return 0;
}

static uint64_t drops(struct events *ev)
{
	int ncpu = libbpf_num_possible_cpus();
	uint32_t key = MG_CNT_RINGBUF_DROPS;
	uint64_t *vals, sum = 0;

	if (ncpu <= 0 || ev->cnt_fd < 0)
		return 0;
	vals = xcalloc((size_t)ncpu, sizeof(*vals));
	if (bpf_map_lookup_elem(ev->cnt_fd, &key, vals) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

static void report_drops(struct events *ev)
{
	uint64_t n = drops(ev);
	struct metrics *m = evidence_metrics(ev->d);

	/* The kernel's total since the maps were created (they outlive daemons). */
	if (m)
		metrics_counter_set(m, MX_RINGBUF_DROPS, NULL, NULL, n);
	if (n > ev->drops_reported) {
		warnx("ring buffer full: %llu events lost (%llu in total since the maps were "
		      "created)",
		      (unsigned long long)(n - ev->drops_reported), (unsigned long long)n);
		ev->drops_reported = n;
	}
}

int events_start(struct daemon *d, const char *path)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	char pin[PATH_MAX];

	ev->d = d;
	ev->rb_fd = ev->cnt_fd = -1;
	d->events = ev;
	if (path) {
		/* Events name users' processes and files: not for every local user to read. */
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

		if (fd < 0 || (ev->out = fdopen(fd, "a")) == NULL) {
			warn("events file %s", path);
			if (fd >= 0)
				close(fd);
			return -1;
		}
		ev->own_out = true;
	} else {
		ev->out = stdout;
	}
	snprintf(pin, sizeof(pin), "%s/mg_events", d->pin_root);
	if ((ev->rb_fd = bpf_obj_get(pin)) < 0) {
		warn("open ring buffer %s", pin);
		return -1;
	}
	snprintf(pin, sizeof(pin), "%s/mg_counters", d->pin_root);
	if ((ev->cnt_fd = bpf_obj_get(pin)) < 0)
		warn("open counters %s (drops will not be reported)", pin);
	/* Drops before this start (e.g. while no daemon ran) are reported once. */
	report_drops(ev);
	if ((ev->rb = ring_buffer__new(ev->rb_fd, handle, ev, NULL)) == NULL) {
		warn("ring buffer");
		return -1;
	}
	return ring_buffer__epoll_fd(ev->rb);
}

void events_poll(struct daemon *d)
{
	struct events *ev = d->events;
	int n;

	if (ev && ev->rb && (n = ring_buffer__consume(ev->rb)) < 0 && n != -EINTR)
		warnx("ring buffer: %s", strerror(-n));
}

void events_tick(struct daemon *d, time_t now)
{
	struct events *ev = d->events;

	if (!ev || now < ev->next_drop_check)
		return;
	ev->next_drop_check = now + DROP_REPORT_SECS;
	report_drops(ev);
}

void events_stop(struct daemon *d)
{
	struct events *ev = d->events;

	if (!ev)
		return;
	if (ev->rb) {
		ring_buffer__consume(ev->rb);
		ring_buffer__free(ev->rb);
	}
	report_drops(ev);
	if (ev->rb_fd >= 0)
		close(ev->rb_fd);
	if (ev->cnt_fd >= 0)
		close(ev->cnt_fd);
	if (ev->own_out)
		fclose(ev->out);
	else
		fflush(ev->out);
	for (size_t i = 0; i < ev->ncg; i++)
		free(ev->cg[i].path);
	free(ev);
	d->events = NULL;
}
