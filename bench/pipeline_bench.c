/*
 * Scanner throughput: the proxy's whole judgement of one tools/call result
 * (pipeline_line: JSON parse, JSON-RPC checks and every detector) on benign
 * 10 KB, 1 MB and 10 MB results, against the same pipeline with scanning off
 * (parse and checks only), both measured in this run. Times are this
 * process's CPU time (per core), medians; pipe I/O is not in it (proxy.sh
 * measures the whole process, relay included).
 * Usage: pipeline_bench [reps-per-size-scale [policy.yaml]] (no file: the defaults)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "findlog.h"
#include "pipeline.h"
#include "policy.h"
#include "xmalloc.h"

extern char **environ;

static uint32_t seed = 88172645u;

static uint32_t next(void)
{
	return bench_rand(&seed);
}

/*
 * A benign tool result: prose, build output and a few numbers, JSON-escaped
 * lines. The id is padded with blanks to a fixed width so set_id can renumber
 * it in place.
 */
static size_t result_json(char *out, size_t n, int id)
{
	static const char *const w[] = {
	    "the",    "build",	  "finished", "in",	    "12.4s;",  "all",	   "tests",
	    "passed", "module",	  "core",     "reads",	    "its",     "settings", "from",
	    "a",      "file",	  "and",      "writes",	    "results", "to",	   "the",
	    "output", "folder.",  "Latency",  "p50",	    "=",       "8ms,",	   "p99",
	    "=",      "31ms.",	  "See",      "the",	    "report",  "for",	   "details",
	    "about",  "each",	  "step",     "of",	    "the",     "release",  "plan",
	    "and",    "schedule", "(HTML)",   "2024-05-01",
	};
	size_t o = (size_t)snprintf(out, 128,
				    "{\"jsonrpc\":\"2.0\",\"id\":%8d,\"result\":{\"content\":[{"
				    "\"type\":\"text\",\"text\":\"",
				    id);
	size_t end = o + n;

	while (o < end) {
		const char *x = w[next() % (sizeof(w) / sizeof(w[0]))];
		size_t l = strlen(x);

		memcpy(out + o, x, l);
		o += l;
		if (next() % 12 == 0) {
			memcpy(out + o, "\\n", 2);
			o += 2;
		} else {
			out[o++] = ' ';
		}
	}
	memcpy(out + o, "\"}]}}", 5);
	return o + 5;
}

static void set_id(char *msg, int id)
{
	char d[16];

	snprintf(d, sizeof(d), "%8d", id % 100000000);
	memcpy(msg + strlen("{\"jsonrpc\":\"2.0\",\"id\":"), d, 8);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Every message here is benign: anything but forwarding means the bench is broken. */
static void judge(struct pipeline *p, enum direction dir, const char *s, size_t n)
{
	struct verdict v;

	pipeline_line(p, dir, s, n, &v);
	if (v.kind != V_FORWARD) {
		fprintf(stderr, "pipeline_bench: a benign message was not forwarded (%.60s)\n", s);
		exit(1);
	}
	verdict_free(&v);
}

static const char *policy_path; /* NULL: the built-in defaults */

/* Median CPU seconds per result (buf, len bytes) through a pipeline with scanning on or off. */
static double run(int scan, size_t len, int reps, char *buf)
{
	char err[256];
	struct pipeline p;
	struct findlog fl;
	struct policy *pol = policy_load(policy_path, err, sizeof(err));
	double *t = calloc((size_t)reps, sizeof(*t)), med;
	const char *init =
	    "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
	    "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":"
	    "\"bench\",\"version\":\"1\"}}}";
	const char *inited = "{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":{\"protocolVersion\":"
			     "\"2025-06-18\",\"capabilities\":{\"tools\":{}},\"serverInfo\":{"
			     "\"name\":\"bench\",\"version\":\"1\"}}}";

	if (!pol || !t || findlog_open(&fl, NULL) < 0 ||
	    pipeline_init(&p, pol, &fl, "pipeline-bench", environ, scan, err, sizeof(err)) != 0) {
		fprintf(stderr, "pipeline_bench: cannot start: %s\n", err);
		exit(1);
	}
	judge(&p, DIR_C2S, init, strlen(init));
	judge(&p, DIR_S2C, inited, strlen(inited));
	for (int r = -1; r < reps; r++) {
		char req[160];
		int rl = snprintf(req, sizeof(req),
				  "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"tools/call\","
				  "\"params\":{\"name\":\"build\",\"arguments\":{}}}",
				  r + 2);
		double c0;

		judge(&p, DIR_C2S, req, (size_t)rl);
		set_id(buf, r + 2);
		c0 = bench_cpu_seconds();
		judge(&p, DIR_S2C, buf, len);
		if (r >= 0) /* the first is a warm-up */
			t[r] = bench_cpu_seconds() - c0;
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp_d);
	med = t[reps / 2];
	pipeline_free(&p);
	findlog_close(&fl);
	policy_free(pol);
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = {10 * 1024, 1024 * 1024, 10 * 1024 * 1024};
	static const int reps[] = {2000, 60, 9};
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	char *buf = malloc(sizes[2] + 4096);

	if (!buf)
		return 1;
	policy_path = argc > 2 ? argv[2] : NULL;
	mg_malloc_keep_large();
	printf("pipeline_line on one benign tools/call result, CPU time per result (median), "
	       "policy: %s\n",
	       policy_path ? policy_path : "none (the defaults)");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int k = (int)(reps[i] * scale) | 1;
		size_t len = result_json(buf, sizes[i], 0);
		double base = run(0, len, k, buf), full = run(1, len, k, buf);
		double mb = (double)sizes[i] / 1e9;

		printf("  %5zu KB  parse+checks only %6.2f GB/s   every detector %6.2f GB/s   "
		       "(%.2fx the parse-only time)%s\n",
		       sizes[i] / 1024, mb / base, mb / full, full / base,
		       i == 1 ? "  target >= 1 GB/s" : "");
	}
	free(buf);
	return 0;
}
