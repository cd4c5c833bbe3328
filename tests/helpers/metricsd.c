/*
 * A metrics endpoint with known values, for the real Prometheus scrape test
 * (tests/host/t_metrics.sh): metricsd ADDR SECONDS. Serves what the daemon
 * would after 2 metadata blocks, 1 fallback kill, 3 DLP findings, one live
 * session and four scans; exits after SECONDS.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"

int main(int argc, char **argv)
{
	static const double lat[] = {0.000031, 0.000044, 0.00012, 0.0021};
	struct metrics *m;
	char err[256], lb[256];
	time_t end;

	if (argc != 3) {
		fprintf(stderr, "usage: metricsd ADDR SECONDS\n");
		return 2;
	}
	m = metrics_new();
	metrics_declare_mcpguard(m);
	metrics_labels(lb, sizeof(lb), "hook", "connect4", "rule", "cloud-metadata", "action",
		       "block", NULL);
	metrics_counter_add(m, MX_KERNEL_DECISIONS, NULL, lb, 2);
	metrics_labels(lb, sizeof(lb), "hook", "file_open", "rule", "ssh-keys", "action", "kill",
		       NULL);
	metrics_counter_add(m, MX_KERNEL_DECISIONS, NULL, lb, 1);
	metrics_labels(lb, sizeof(lb), "scanner", "dlp", "action", "block", "server",
		       "npx \"fs\" \\ server", NULL);
	metrics_counter_add(m, MX_FINDINGS, NULL, lb, 3);
	metrics_gauge_add(m, MX_SESSIONS, NULL, "state=\"live\"", 1);
	for (size_t i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		metrics_histogram_observe(m, MX_SCAN_SECONDS, NULL,
					  "direction=\"client_to_server\"", lat[i]);
	if (metrics_listen(m, argv[1], err, sizeof(err)) < 0) {
		fprintf(stderr, "metricsd: %s\n", err);
		return 1;
	}
	end = time(NULL) + atoi(argv[2]);
	while (time(NULL) < end) {
		struct pollfd p = {metrics_fd(m), POLLIN, 0};

		if (poll(&p, 1, 200) > 0)
			metrics_serve(m);
	}
	metrics_free(m);
	return 0;
}
