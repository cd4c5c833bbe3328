/*
 * dlp_scan_text throughput on benign text, against a baseline measured in the
 * same run: one memchr pass over the same buffer (what "reading it once" costs).
 * Usage: dlp_bench [MiB] [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "findings.h"

#include "dlp.h"

static double now(void)
{
	return bench_cpu_seconds();
}

/* Tool output: paths, dates, URLs, JSON bits, and the words generic rules key on. */
static const char *const dense[] = {"the",
				    "server",
				    "returned",
				    "a",
				    "list",
				    "of",
				    "files",
				    "in",
				    "/home/user/project",
				    "with",
				    "sizes",
				    "1024",
				    "and",
				    "dates",
				    "2024-05-01T12:00:00Z",
				    "see",
				    "https://example.com/docs/page?id=42",
				    "for",
				    "details;",
				    "function",
				    "returns",
				    "value",
				    "error:",
				    "none",
				    "{\"ok\":",
				    "true}",
				    "README.md",
				    "configuration",
				    "tokens",
				    "password",
				    "reset",
				    "link",
				    "was",
				    "sent."};
/* Prose. */
static const char *const prose[] = {
    "the",     "model",	    "read",   "a",	 "short",     "story", "about",	     "rivers",
    "and",     "mountains", "which",  "was",	 "written",   "long",  "ago",	     "by",
    "someone", "who",	    "liked",  "walking", "in",	      "quiet", "places",     "near",
    "old",     "towns",	    "during", "autumn",	 "evenings,", "then",  "summarised", "it."};

static unsigned long long r = 88172645463325252ull;

static void fill(char *buf, size_t n, const char *const *w, size_t nw)
{
	size_t o = 0;

	while (o < n) {
		const char *x;
		size_t l;

		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		x = w[r % nw];
		l = strlen(x);
		if (o + l + 1 > n)
			break;
		memcpy(buf + o, x, l);
		o += l;
		buf[o++] = (r >> 20) % 12 ? ' ' : '\n';
	}
	memset(buf + o, ' ', n - o);
}

/* Random bytes, base64-encoded: an image or archive passed as an argument. */
static void fill_b64(char *buf, size_t n)
{
	static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		buf[i] = A[r & 63];
	}
}

static void run(const char *name, const char *buf, size_t n, int rounds)
{
	double best = 1e9, base = 1e9;
	struct findings f;

	for (int i = 0; i < rounds; i++) {
		double t = now();
		unsigned long sum = 0;

		/* baseline: read every byte once */
		for (size_t k = 0; k < n; k++)
			sum += (unsigned char)buf[k] == 0x01;
		t = now() - t;
		if (sum)
			exit(1);
		if (t < base)
			base = t;
		f.n = f.dropped = 0;
		t = now();
		dlp_scan_text(buf, n, "result", &f);
		t = now() - t;
		if (t < best)
			best = t;
	}
	printf("dlp_scan_text %-24s %zu KiB: %8.3f ms CPU, %6.0f MB/s (byte-loop baseline %5.0f "
	       "MB/s, %.1fx its time), findings %zu\n",
	       name, n >> 10, best * 1e3, (double)n / best / 1e6, (double)n / base / 1e6,
	       best / base, f.n);
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 1, n = mib << 20;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	char err[256], *buf;

	if (mib == 0 || rounds <= 0 || dlp_init(NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "dlp_bench: %s\n", mib == 0 || rounds <= 0 ? "bad arguments" : err);
		return 1;
	}
	buf = malloc(n);
	if (!buf)
		return 1;
	fill(buf, n, dense, sizeof(dense) / sizeof(dense[0]));
	run("benign tool output", buf, n, rounds);
	fill(buf, n, prose, sizeof(prose) / sizeof(prose[0]));
	run("benign prose", buf, n, rounds);
	fill_b64(buf, n);
	run("base64 of random bytes", buf, n, rounds);
	run("small (1 KiB) argument", buf + n / 2, 1024, rounds * 100);
	free(buf);
	return 0;
}
