/*
 * Prometheus metrics: an in-memory registry rendered in the text exposition
 * format (version 0.0.4), and a small HTTP server for the daemon's event loop.
 *
 * Series are named by a metric name and a label string in exposition syntax,
 * e.g. `hook="file_open",rule="ssh-keys",action="block"` (build it with
 * metrics_labels(), which escapes values). A name keeps the type it was first
 * used with. Not thread-safe: the daemon updates and serves from one loop.
 *
 * Serving: metrics_listen() opens the socket; metrics_fd() is ONE descriptor
 * (an epoll set holding the listener and the open connections) to add to the
 * daemon's poll/epoll set for reading; call metrics_serve() when it is readable.
 * metrics_serve() never blocks: connections are non-blocking, at most
 * METRICS_MAX_CONN are kept (the oldest is dropped), requests are capped at 4 KiB.
 */
#ifndef MG_METRICS_H
#define MG_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define METRICS_MAX_CONN 16
#define METRICS_MAX_SERIES 20000 /* past this, new series are refused (ENOSPC) */

/* The names mcpguard exposes (declared with help by metrics_declare_mcpguard). */
#define MX_KERNEL_DECISIONS "mcpguard_kernel_decisions_total" /* {hook,rule,action} */
#define MX_RINGBUF_DROPS "mcpguard_ringbuf_dropped_events_total"
#define MX_SESSIONS "mcpguard_sessions"			 /* gauge {state="live|quarantined"} */
#define MX_FINDINGS "mcpguard_proxy_findings_total"	 /* {scanner,action,server} */
#define MX_MESSAGES "mcpguard_messages_scanned_total"	 /* {direction} */
#define MX_BYTES "mcpguard_scanned_bytes_total"		 /* {direction} */
#define MX_SCAN_SECONDS "mcpguard_scan_duration_seconds" /* histogram {direction} */
#define MX_RECORDER_LINES "mcpguard_recorder_lines_total"
#define MX_UP_SECONDS "mcpguard_daemon_start_time_seconds" /* gauge: unix time */

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m); /* also closes the server */

/*
 * Updates. help is used the first time a name is seen (may be NULL later).
 * labels may be NULL or "". Return 0, or -1 (errno EINVAL) for a bad name,
 * bad label syntax or a name already used with another type; never fatal.
 */
int metrics_counter_add(struct metrics *m, const char *name, const char *help, const char *labels,
			uint64_t v);
/* Mirror a total kept elsewhere (e.g. the kernel's mg_counters map); -1 if it went down. */
int metrics_counter_set(struct metrics *m, const char *name, const char *help, const char *labels,
			uint64_t total);
int metrics_gauge_set(struct metrics *m, const char *name, const char *help, const char *labels,
		      double v);
int metrics_gauge_add(struct metrics *m, const char *name, const char *help, const char *labels,
		      double delta);
/* Buckets (upper bounds, increasing) for a histogram; before its first observation. */
int metrics_histogram_define(struct metrics *m, const char *name, const char *help,
			     const double *bounds, size_t n);
/* Without a definition the buckets are scan latencies: 10us .. 1s. */
int metrics_histogram_observe(struct metrics *m, const char *name, const char *help,
			      const char *labels, double v);
/* A family with no series yet (shows HELP and TYPE): type "counter", "gauge" or "histogram". */
int metrics_declare(struct metrics *m, const char *name, const char *type, const char *help);
/* Declare every MX_* family above with its help text (and zero the unlabelled counters). */
void metrics_declare_mcpguard(struct metrics *m);

/* Current value of a counter or gauge series (tests, and the daemon's own status line). */
double metrics_value(struct metrics *m, const char *name, const char *labels);

/*
 * Build a label string from NULL-terminated key, value pairs, escaping values:
 * metrics_labels(buf, sizeof(buf), "hook", "file_open", "action", "block", NULL).
 * Returns 0, or -1 if it does not fit (buf then holds "").
 */
int metrics_labels(char *buf, size_t cap, ...) __attribute__((sentinel));

/*
 * mcpguard run counts in a registry of its own and reports to the daemon:
 * metrics_take_json() returns the counter and histogram increments since the last
 * call (and zeroes them); the daemon adds them with metrics_merge_json(), putting
 * extra_labels (e.g. server="...", which the daemon knows from the session) in
 * front of each series' labels. Only families the daemon declared are accepted,
 * histogram bounds must match, counts must be whole and consistent; the rest is
 * applied and -1 (EINVAL) says something was refused.
 */
cJSON *metrics_take_json(struct metrics *m);
int metrics_merge_json(struct metrics *m, const cJSON *j, const char *extra_labels);

/* Text exposition into buf; returns the full length (as snprintf), buf always terminated. */
size_t metrics_render(struct metrics *m, char *buf, size_t cap);

/*
 * addr: "127.0.0.1:9464", "[::1]:9464", "localhost:9464" or "unix:/run/mcpguard/metrics.sock"
 * (a stale socket file is replaced; mode 0666: the same data loopback TCP gives any local user).
 * Returns 0 or -1 with a message in err.
 */
int metrics_listen(struct metrics *m, const char *addr, char *err, size_t errlen);
int metrics_fd(const struct metrics *m);   /* -1 before metrics_listen */
int metrics_port(const struct metrics *m); /* TCP port bound (for "127.0.0.1:0"), else -1 */
void metrics_serve(struct metrics *m);

#endif
