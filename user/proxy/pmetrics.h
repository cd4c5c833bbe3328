/*
 * The proxy's metrics: messages and bytes scanned, scan latency, findings by
 * scanner and action, counted in a registry of its own (metrics.h) and sent as
 * deltas to mcpguardd over the session's control connection, which serves them
 * with the server's command as a label. Without a daemon session nothing is
 * counted: every function takes NULL and does nothing.
 */
#ifndef MG_PMETRICS_H
#define MG_PMETRICS_H

#include <stddef.h>

struct guard;
struct finding;
struct pmetrics;

#define PMETRICS_EVERY_MS 5000 /* deltas go to the daemon at most this often, and at exit */

/* NULL when the guard has no daemon session. */
struct pmetrics *pmetrics_new(struct guard *g);
/* dir: 0 client->server, 1 server->client (enum direction); secs: time spent judging it. */
void pmetrics_message(struct pmetrics *pm, int dir, size_t bytes, double secs);
void pmetrics_finding(struct pmetrics *pm, const struct finding *f);
/* Send what was counted if it is due (or now with force). */
void pmetrics_flush(struct pmetrics *pm, int force);
/* Milliseconds until counted deltas are due, for a poll timeout; -1: nothing pending. */
int pmetrics_due_ms(const struct pmetrics *pm);
/* Last flush, then free. */
void pmetrics_free(struct pmetrics *pm);

#endif
