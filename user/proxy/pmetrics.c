/* Proxy-side counting and the periodic send to mcpguardd (pmetrics.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "findings.h"
#include "guard.h"
#include "log.h"
#include "metrics.h"
#include "pmetrics.h"
#include "xmalloc.h"

struct pmetrics {
	struct metrics *m;
	struct guard *g;
	int pending;	   /* counted since the last send */
	int off;	   /* the daemon refused once (e.g. an older one): counting stops */
	long long sent_ms; /* CLOCK_MONOTONIC of the last send */
};

static const char *dir_label[2] = {"direction=\"client_to_server\"",
				   "direction=\"server_to_client\""};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct pmetrics *pmetrics_new(struct guard *g)
{
	struct pmetrics *pm;

	if (!g || g->ctl < 0 || !g->session[0])
		return NULL;
	pm = xcalloc(1, sizeof(*pm));
	pm->m = metrics_new();
	pm->g = g;
	pm->sent_ms = now_ms();
	return pm;
}

void pmetrics_message(struct pmetrics *pm, int dir, size_t bytes, double secs)
{
	if (!pm || pm->off || dir < 0 || dir > 1)
		return;
	metrics_counter_add(pm->m, MX_MESSAGES, NULL, dir_label[dir], 1);
	metrics_counter_add(pm->m, MX_BYTES, NULL, dir_label[dir], bytes);
	metrics_histogram_observe(pm->m, MX_SCAN_SECONDS, NULL, dir_label[dir], secs);
	pm->pending = 1;
}

void pmetrics_finding(struct pmetrics *pm, const struct finding *f)
{
	char labels[256];

	if (!pm || pm->off)
		return;
	if (metrics_labels(labels, sizeof(labels), "scanner", f->scanner ? f->scanner : "?",
			   "action", pol_action_name(f->action), NULL) < 0)
		return;
	metrics_counter_add(pm->m, MX_FINDINGS, NULL, labels, 1);
	pm->pending = 1;
}

void pmetrics_flush(struct pmetrics *pm, int force)
{
	char err[256];
	cJSON *deltas;

	if (!pm || pm->off || !pm->pending || pm->g->ctl < 0)
		return;
	if (!force && pmetrics_due_ms(pm) > 0)
		return;
	deltas = metrics_take_json(pm->m);
	pm->pending = 0;
	pm->sent_ms = now_ms();
	/* Counts are lost if the daemon refuses them; enforcement is not affected. */
	if (ctl_metrics(pm->g->ctl, pm->g->session, deltas, err, sizeof(err)) < 0) {
		warnx("metrics not delivered to mcpguardd (%s): not sending more", err);
		pm->off = 1;
	}
	cJSON_Delete(deltas);
}

int pmetrics_due_ms(const struct pmetrics *pm)
{
	long long left;

	if (!pm || !pm->pending)
		return -1;
	left = pm->sent_ms + PMETRICS_EVERY_MS - now_ms();
	return left > 0 ? (int)left : 0;
}

void pmetrics_free(struct pmetrics *pm)
{
	if (!pm)
		return;
	pmetrics_flush(pm, 1);
	metrics_free(pm->m);
	free(pm);
}
