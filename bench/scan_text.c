/*
 * Throughput of the text scanners on benign input, against memchr over the same
 * bytes (a floor measured in the same run). Times are this thread's CPU time
 * (per core, and steady when other work shares the machine); best of reps.
 * Usage: scan_text [MB] [reps]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "injection.h"
#include "normalize.h"
#include "poison.h"
#include "xmalloc.h"

static uint32_t rng = 2463534242u;

static double now(void)
{
	return bench_cpu_seconds();
}

static uint32_t next(void)
{
	return bench_rand(&rng);
}

/* Worst case: benign prose made of words the injection rules are built from. */
static char *prose(size_t n)
{
	static const char *const w[] = {
	    "the",    "report",	  "shows",   "that",	 "revenue", "grew",    "in",
	    "every",  "region",	  "and",     "users",	 "can",	    "review",  "results",
	    "before", "release",  "system",  "memory",	 "file",    "ignore",  "case",
	    "option", "previous", "section", "explains", "how",	    "to",      "configure",
	    "server", "with",	  "default", "settings", "tool",    "call",    "returns",
	    "data",   "for",	  "a",	     "query",	 "about",   "weather", "today",
	    "is",     "sunny",	  "while",   "tomorrow", "may",	    "rain",
	};
	char *s = malloc(n + 1);
	size_t o = 0;

	while (o < n) {
		const char *x = w[next() % (sizeof(w) / sizeof(w[0]))];
		size_t l = strlen(x);
		uint32_t r = next() % 20;

		if (o + l + 2 > n)
			break;
		memcpy(s + o, x, l);
		o += l;
		s[o++] = r == 0 ? '.' : r == 1 ? ',' : r == 2 ? '\n' : ' ';
	}
	while (o < n)
		s[o++] = ' ';
	s[n] = '\0';
	return s;
}

/* Ordinary English, frequent words more frequent (a rough Zipf law). */
static char *natural(size_t n)
{
	static const char *const w[] = {
	    "the",	"of",	  "and",     "to",	 "a",	    "in",      "is",
	    "it",	"that",	  "for",     "was",	 "on",	    "are",     "as",
	    "with",	"they",	  "at",	     "be",	 "this",    "have",    "from",
	    "or",	"one",	  "had",     "by",	 "word",    "but",     "not",
	    "what",	"all",	  "were",    "we",	 "when",    "your",    "can",
	    "said",	"there",  "each",    "which",	 "she",	    "do",      "how",
	    "their",	"if",	  "will",    "up",	 "other",   "about",   "out",
	    "many",	"then",	  "them",    "these",	 "so",	    "some",    "her",
	    "would",	"make",	  "like",    "him",	 "into",    "time",    "has",
	    "look",	"two",	  "more",    "write",	 "go",	    "see",     "number",
	    "no",	"way",	  "could",   "people",	 "my",	    "than",    "first",
	    "water",	"been",	  "called",  "who",	 "oil",	    "its",     "now",
	    "find",	"long",	  "down",    "day",	 "did",	    "get",     "come",
	    "made",	"may",	  "part",    "report",	 "quarter", "revenue", "growth",
	    "customer", "region", "weather", "forecast", "project", "budget",  "meeting",
	    "schedule", "team",	  "result",  "summary",	 "page",    "section", "table",
	};
	size_t nw = sizeof(w) / sizeof(w[0]), o = 0;
	char *s = malloc(n + 1);

	while (o < n) {
		const char *x = w[next() % (next() % nw + 1)];
		size_t l = strlen(x);
		uint32_t r = next() % 16;

		if (o + l + 2 > n)
			break;
		memcpy(s + o, x, l);
		o += l;
		s[o++] = r == 0 ? '.' : r == 1 ? ',' : r == 2 ? '\n' : ' ';
	}
	while (o < n)
		s[o++] = ' ';
	s[n] = '\0';
	return s;
}

/* Tool-output-like JSON text: ids, hashes, paths, numbers, versions. */
static char *records(size_t n)
{
	char *s = malloc(n + 256);
	size_t o = 0;

	while (o < n) {
		o += (size_t)sprintf(
		    s + o,
		    "{\"id\":\"%08x-%04x-4%03x-a%03x-%012llx\",\"path\":\"/srv/app/"
		    "src/mod%u/file%u.ts\",\"size\":%u,\"sha256\":\"%08x%08x%08x%08x\","
		    "\"status\":\"ok\",\"note\":\"updated by build v1.%u\"}\n",
		    next(), next() & 0xffff, next() & 0xfff, next() & 0xfff,
		    (unsigned long long)next() << 16, next() % 50, next() % 900, next() % 100000,
		    next(), next(), next(), next(), next() % 40);
	}
	s[n] = '\0';
	return s;
}

/* Words from w, separated by spaces, to n bytes. */
static char *words_text(size_t n, const char *const *w, size_t nw)
{
	char *s = malloc(n + 1);
	size_t o = 0;

	while (o < n) {
		const char *x = w[next() % nw];
		size_t l = strlen(x);

		if (o + l + 1 > n)
			break;
		memcpy(s + o, x, l);
		o += l;
		s[o++] = ' ';
	}
	while (o < n)
		s[o++] = ' ';
	s[n] = '\0';
	return s;
}

/* Non-ASCII prose (German, Greek, Russian, CJK words mixed). */
static char *intl(size_t n)
{
	static const char *const w[] = {"Gr\u00fc\u00dfe",
					"Stra\u00dfe",
					"\u03ba\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1",
					"\u043f\u0440\u0438\u0432\u0435\u0442",
					"\u4e16\u754c",
					"caf\u00e9",
					"report",
					"na\u00efve",
					"\u65e5\u672c\u8a9e"};

	return words_text(n, w, sizeof(w) / sizeof(w[0]));
}

/* Chinese, Japanese and Korean words with a few ASCII ones: scripts folding leaves alone. */
static char *cjk(size_t n)
{
	static const char *const w[] = {"\u4e2d\u6587",
					"\u6587\u672c",
					"\u62a5\u544a",
					"\u7cfb\u7edf",
					"\u6570\u636e\u5e93",
					"\u3053\u3093\u306b\u3061\u306f",
					"\ud55c\uad6d\uc5b4",
					"2024",
					"OK"};

	return words_text(n, w, sizeof(w) / sizeof(w[0]));
}

static volatile size_t sink;

static double run_inject(const char *s, size_t n, int reps, size_t *nf)
{
	double best = 1e9;

	for (int r = 0; r < reps; r++) {
		struct findings f;
		double t;

		memset(&f, 0, sizeof(f));
		t = now();
		inject_scan_text(s, n, "result.content[0].text", &f);
		t = now() - t;
		if (t < best)
			best = t;
		*nf = f.n;
	}
	return (double)n / best / 1e9;
}

static double run_fold(const char *s, size_t n, int reps)
{
	double best = 1e9;

	for (int r = 0; r < reps; r++) {
		char *out;
		double t = now();

		sink += norm_fold(s, n, &out, NULL);
		t = now() - t;
		free(out);
		if (t < best)
			best = t;
	}
	return (double)n / best / 1e9;
}

static double run_memchr(const char *s, size_t n, int reps)
{
	double best = 1e9;

	for (int r = 0; r < reps; r++) {
		double t = now();

		sink += (size_t)(memchr(s, 0x01, n) != NULL);
		t = now() - t;
		if (t < best)
			best = t;
	}
	return (double)n / best / 1e9;
}

int main(int argc, char **argv)
{
	size_t sizes[] = {10 * 1024, 1024 * 1024, 10 * 1024 * 1024};
	int reps = argc > 2 ? atoi(argv[2]) : 20;
	char err[256];
	double t0 = now();

	if (argc > 1)
		sizes[1] = (size_t)(atof(argv[1]) * 1024 * 1024);
	mg_malloc_keep_large();
	if (inject_init(err, sizeof(err)) != 0 || poison_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "scan_text: init: %s\n", err);
		return 1;
	}
	printf("pattern database compiled in %.0f ms\n", (now() - t0) * 1e3);
	{
		/* Latency of one small tools/call result, and of a tools/list of 20 tools. */
		char *txt = prose(200), js[4096], *tl = malloc(64 * 1024);
		cJSON *v, *t;
		double best = 1e9;
		size_t o;

		snprintf(js, sizeof(js), "{\"content\":[{\"type\":\"text\",\"text\":\"%s\"}]}",
			 txt);
		for (char *p = js; *p; p++)
			if (*p == '\n')
				*p = ' ';
		v = cJSON_Parse(js);
		for (int r = 0; r < 2000 && v; r++) {
			struct findings f;
			double t1;

			memset(&f, 0, sizeof(f));
			t1 = now();
			inject_scan_json(v, "result", &f);
			t1 = now() - t1;
			if (t1 < best)
				best = t1;
		}
		printf("small tools/call result (200 B text): inject_scan_json %.1f us\n",
		       best * 1e6);
		cJSON_Delete(v);
		o = (size_t)sprintf(tl, "{\"tools\":[");
		for (int i = 0; i < 20; i++)
			o += (size_t)sprintf(
			    tl + o,
			    "%s{\"name\":\"tool_%d\",\"description\":\"Reads the "
			    "file at the given path and returns its text, up to a limit "
			    "of bytes.\",\"inputSchema\":{\"type\":\"object\","
			    "\"properties\":{\"path\":{\"type\":\"string\","
			    "\"description\":\"Absolute path\"},\"limit\":{\"type\":"
			    "\"number\",\"default\":1000}},\"required\":[\"path\"]}}",
			    i ? "," : "", i);
		sprintf(tl + o, "]}");
		t = cJSON_Parse(tl);
		best = 1e9;
		for (int r = 0; r < 200 && t; r++) {
			struct findings f;
			double t1;

			memset(&f, 0, sizeof(f));
			t1 = now();
			poison_scan_result("tools/list", t, &f);
			t1 = now() - t1;
			if (t1 < best)
				best = t1;
		}
		printf("tools/list of 20 tools: poison_scan_result %.1f us\n", best * 1e6);
		cJSON_Delete(t);
		free(tl);
		free(txt);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i], nf = 0;
		char *a = prose(n), *b = records(n), *c = intl(n), *d = natural(n), *e = cjk(n);
		int rp = n > 2000000 ? (reps + 3) / 4 : reps;
		double base = run_memchr(a, n, rp);
		double ga = run_inject(a, n, rp, &nf);

		printf("%6zu KB trigger-word prose inject_scan_text %6.2f GB/s (%zu findings)  "
		       "memchr %6.2f GB/s  norm_fold %5.2f GB/s\n",
		       n / 1024, ga, nf, base, run_fold(a, n, rp));
		ga = run_inject(d, n, rp, &nf);
		printf("%6zu KB natural English    inject_scan_text %6.2f GB/s (%zu findings)  "
		       "norm_fold %5.2f GB/s\n",
		       n / 1024, ga, nf, run_fold(d, n, rp));
		ga = run_inject(b, n, rp, &nf);
		printf("%6zu KB JSON records       inject_scan_text %6.2f GB/s (%zu findings)  "
		       "norm_fold %5.2f GB/s\n",
		       n / 1024, ga, nf, run_fold(b, n, rp));
		ga = run_inject(c, n, rp, &nf);
		printf("%6zu KB non-ASCII text     inject_scan_text %6.2f GB/s (%zu findings)  "
		       "norm_fold %5.2f GB/s\n",
		       n / 1024, ga, nf, run_fold(c, n, rp));
		ga = run_inject(e, n, rp, &nf);
		printf("%6zu KB CJK text           inject_scan_text %6.2f GB/s (%zu findings)  "
		       "norm_fold %5.2f GB/s\n",
		       n / 1024, ga, nf, run_fold(e, n, rp));
		free(e);
		free(a);
		free(b);
		free(c);
		free(d);
	}
	return 0;
}
