/*
 * The daemon's evidence: its flight recorder (recorder.h) and its Prometheus
 * endpoint (metrics.h). Both are optional; every function here is a no-op for
 * the half that is off, so callers do not test for it.
 */
#ifndef MG_EVIDENCE_H
#define MG_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon.h"
#include "recorder.h"

#define EVIDENCE_RECORD_DEFAULT "/var/log/mcpguard/record.jsonl"
#define EVIDENCE_METRICS_DEFAULT "127.0.0.1:9464"
/* A daemon's record grows with every kernel decision: rotated (gzip) past this by default. */
#define EVIDENCE_ROTATE_DEFAULT (64ULL << 20)

struct session;

/*
 * Open the record (and its directory, 0750) and the metrics listener; before
 * caps_drop, since the key lives in root's /var/lib/mcpguard. "none" turns a half
 * off. Something asked for explicitly (given) that cannot be set up is fatal
 * (-1); a default that cannot is a loud warning and said in the start banner, so
 * a second daemon (tests, another cgroup) on the same machine still enforces.
 */
int evidence_start(struct daemon *d, const char *record, bool record_given, uint64_t rotate_bytes,
		   const char *metrics, bool metrics_given);
/* "64M", "1G", "500000", "0" (never) -> bytes; -1 if not a size. */
int evidence_parse_size(const char *s, uint64_t *out);
/* One line each for the start banner: where the record and metrics go, or why not. */
const char *evidence_record_note(const struct daemon *d);
const char *evidence_metrics_note(const struct daemon *d);
/* The metrics listener's fd for the main loop's poll set, or -1. */
int evidence_metrics_fd(const struct daemon *d);
void evidence_metrics_serve(struct daemon *d);
/* The registry (NULL when metrics are off), for the modules that count. */
struct metrics *evidence_metrics(struct daemon *d);

/* Append one line; a lost line is warned about (once per run of failures). */
void evidence_record(struct daemon *d, const struct rec_event *ev);
/*
 * A session's life: kind "session-start", "session-end", "quarantine", "freeze",
 * "kill", "release"; by is the uid that asked; summary may be NULL.
 */
void evidence_session(struct daemon *d, const struct session *s, const char *kind,
		      const char *summary, uid_t by);
/* Periodic: sign a quiet record's recent lines, refresh the sessions gauges. */
void evidence_tick(struct daemon *d, time_t now);
/* Final signed checkpoint, close the listener. */
void evidence_stop(struct daemon *d);

#endif
