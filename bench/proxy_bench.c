/*
 * Proxy benchmark. One binary, three roles:
 *   proxy_bench server          a minimal MCP-like server answering tools/call with
 *                               "size" bytes of benign prose
 *   proxy_bench relay -- CMD    the plain relay baseline: copy bytes both ways, no parsing
 *   proxy_bench client MCPGUARD the driver: runs the same workload directly, through the
 *                               relay, through `mcpguard run --no-scan` and through
 *                               `mcpguard run` with every detector on, in one run, and
 *                               prints round-trip latency, the proxy's CPU time per byte
 *                               (scanner throughput per core) and its peak RSS, with ratios.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			die("write");
		p += k;
		n -= (size_t)k;
	}
}

/* ---- server ---- */

/* Benign prose, JSON-escaped: what a file-reading or search tool returns. */
static char *prose(size_t size)
{
	static const char *words[] = {
	    "the",     "build",	 "system", "reads",   "configuration", "from", "a",
	    "file",    "and",	 "writes", "objects", "into",	       "the",  "output",
	    "folder.", "Each",	 "module", "has",     "tests",	       "that", "run",
	    "quickly", "on",	 "every",  "commit;", "results",       "go",   "to",
	    "a",       "report", "(HTML)", "with",    "charts",	       "for",  "2024-05-01",
	    "latency", "p50",	 "=",	   "12ms,",   "p99",	       "=",    "48ms.\\n",
	};
	size_t nw = sizeof(words) / sizeof(words[0]), i = 0, n = 0;
	char *s = malloc(size + 64);

	if (!s)
		die("malloc");
	while (n < size) {
		const char *w = words[(i * 7 + i / nw) % nw];
		size_t l = strlen(w);

		memcpy(s + n, w, l);
		n += l;
		s[n++] = ' ';
		i++;
	}
	s[size] = '\0';
	/* Never end on a lone backslash of a cut escape. */
	if (s[size - 1] == '\\')
		s[size - 1] = '.';
	return s;
}

static int server(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	char *cache[3] = {0};
	size_t cachesz[3] = {0};

	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		ssize_t k = read(0, buf + len, cap - len);
		char *nl;

		if (k <= 0)
			return 0;
		len += (size_t)k;
		while ((nl = memchr(buf, '\n', len))) {
			*nl = '\0';
			char *id = strstr(buf, "\"id\":"), *sz = strstr(buf, "\"size\":");
			char head[96];
			long n = sz ? atol(sz + 7) : 0, idn = id ? atol(id + 5) : 0;

			if (strstr(buf, "\"initialize\"")) {
				int h = snprintf(head, sizeof(head),
						 "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"result\":{"
						 "\"protocolVersion\":"
						 "\"2025-06-18\",\"capabilities\":{},",
						 idn);
				write_all(1, head, (size_t)h);
				{
					const char *t = "\"serverInfo\":{\"name\":\"bench\","
							"\"version\":\"1\"}}}\n";

					write_all(1, t, strlen(t));
				}
			} else if (id && strstr(buf, "tools/call")) {
				int slot = n <= 100 ? -1 : n <= 20000 ? 0 : n <= 2000000 ? 1 : 2;
				const char *body = "ok";

				if (slot >= 0) {
					if (cachesz[slot] != (size_t)n) {
						free(cache[slot]);
						cache[slot] = prose((size_t)n);
						cachesz[slot] = (size_t)n;
					}
					body = cache[slot];
				}
				int h = snprintf(
				    head, sizeof(head),
				    "{\"jsonrpc\":\"2.0\",\"id\":%ld,\"result\":{\"content\":[{"
				    "\"type\":\"text\",\"text\":\"",
				    idn);
				/* One write per response, as a real server would. */
				size_t bl = strlen(body), tot = (size_t)h + bl + 6;
				char *out = malloc(tot);

				memcpy(out, head, (size_t)h);
				memcpy(out + h, body, bl);
				memcpy(out + h + bl, "\"}]}}\n", 6);
				write_all(1, out, tot);
				free(out);
			}
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len);
		}
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				die("realloc");
		}
	}
}

/* ---- spawning ---- */

static pid_t spawn(char *const argv[], int *to, int *from)
{
	int a[2], b[2];
	pid_t pid;

	if (pipe2(a, O_CLOEXEC) < 0 || pipe2(b, O_CLOEXEC) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(a[0], 0);
		dup2(b[1], 1);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(a[0]);
	close(b[1]);
	*to = a[1];
	*from = b[0];
	return pid;
}

/* ---- relay baseline ---- */

static int relay(char *const argv[])
{
	int to, from;
	pid_t pid = spawn(argv, &to, &from);
	char buf[65536];
	int open_in = 1, st;

	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd pf[2] = {{open_in ? 0 : -1, POLLIN, 0}, {from, POLLIN, 0}};

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf[0].revents) {
			ssize_t k = read(0, buf, sizeof(buf));

			if (k <= 0) {
				open_in = 0;
				close(to);
			} else {
				write_all(to, buf, (size_t)k);
			}
		}
		if (pf[1].revents) {
			ssize_t k = read(from, buf, sizeof(buf));

			if (k <= 0)
				break;
			write_all(1, buf, (size_t)k);
		}
	}
	waitpid(pid, &st, 0);
	return 0;
}

/* ---- client ---- */

struct conn {
	pid_t pid;
	int to, from;
	char *buf;
	size_t cap, len;
	long id;
};

/* Read one response line; returns its length (excluding the newline). */
static size_t read_line(struct conn *c)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return l;
		}
		if (c->len == c->cap) {
			c->cap *= 2;
			c->buf = realloc(c->buf, c->cap);
			if (!c->buf)
				die("realloc");
		}
		ssize_t k = read(c->from, c->buf + c->len, c->cap - c->len);

		if (k <= 0) {
			fprintf(stderr, "proxy_bench: the server side closed\n");
			exit(1);
		}
		c->len += (size_t)k;
	}
}

static size_t call(struct conn *c, long size)
{
	char req[192];
	int n = snprintf(
	    req, sizeof(req),
	    "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{\"name\":\"bench\","
	    "\"arguments\":{\"size\":%ld}},\"id\":%ld}\n",
	    size, ++c->id);

	write_all(c->to, req, (size_t)n);
	return read_line(c);
}

static uint64_t cpu_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

static long rss_kb(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, strlen(field)) == 0)
			kb = atol(line + strlen(field) + 1);
	fclose(f);
	return kb;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

#define NSIZES 3
static const long sizes[NSIZES] = {10 * 1024, 1024 * 1024, 10 * 1024 * 1024};
static const int reps[NSIZES] = {400, 31, 7};

struct result {
	const char *name;
	double p50_us, p99_us;
	double mbps[NSIZES];	   /* wall-clock, end to end (median call) */
	double cpu_gbps[NSIZES];   /* bytes per CPU-second of the middle process (median call) */
	long hwm_kb, rss_small_kb; /* peak RSS; RSS after the small round trips */
	long anon_small_kb;	   /* of which private (not shared library pages) */
};

static void run_config(const char *name, char *const argv[], int has_middle, int rtts,
		       struct result *r)
{
	struct conn c = {0};
	uint64_t *lat = calloc((size_t)rtts, sizeof(*lat));
	int st;

	memset(r, 0, sizeof(*r));
	r->name = name;
	c.cap = 1 << 20;
	c.buf = malloc(c.cap);
	c.pid = spawn(argv, &c.to, &c.from);
	const char *init = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
			   "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{"
			   "\"name\":\"bench\",\"version\":\"1\"}}}\n";
	write_all(c.to, init, strlen(init));
	read_line(&c);
	for (int i = 0; i < 200; i++) /* warm up */
		call(&c, 2);
	for (int i = 0; i < rtts; i++) {
		uint64_t t0 = now_ns();

		call(&c, 2);
		lat[i] = now_ns() - t0;
	}
	qsort(lat, (size_t)rtts, sizeof(*lat), cmp_u64);
	r->p50_us = lat[rtts / 2] / 1000.0;
	r->p99_us = lat[rtts * 99 / 100] / 1000.0;
	if (has_middle) {
		r->rss_small_kb = rss_kb(c.pid, "VmRSS:");
		r->anon_small_kb = rss_kb(c.pid, "RssAnon:");
	}
	/*
	 * Per call: wall time and the middle process's CPU time. Medians, because
	 * these machines are shared and a mean would mostly measure the neighbours.
	 */
	for (int s = 0; s < NSIZES; s++) {
		uint64_t *wall = calloc((size_t)reps[s], sizeof(*wall));
		uint64_t *cpu = calloc((size_t)reps[s], sizeof(*cpu));
		size_t bytes = 0;

		call(&c, sizes[s]); /* warm: the server builds its text once */
		for (int i = 0; i < reps[s]; i++) {
			uint64_t t0 = now_ns(), c0 = has_middle ? cpu_ns(c.pid) : 0;

			bytes = call(&c, sizes[s]);
			wall[i] = now_ns() - t0;
			cpu[i] = has_middle ? cpu_ns(c.pid) - c0 : 0;
		}
		qsort(wall, (size_t)reps[s], sizeof(*wall), cmp_u64);
		qsort(cpu, (size_t)reps[s], sizeof(*cpu), cmp_u64);
		r->mbps[s] = bytes / (wall[reps[s] / 2] / 1e9) / 1e6;
		if (has_middle && cpu[reps[s] / 2] > 0)
			r->cpu_gbps[s] = bytes / (double)cpu[reps[s] / 2];
		free(wall);
		free(cpu);
	}
	if (has_middle)
		r->hwm_kb = rss_kb(c.pid, "VmHWM:");
	close(c.to);
	close(c.from);
	waitpid(c.pid, &st, 0);
	free(lat);
	free(c.buf);
}

static int client(const char *self, const char *mcpguard, int rtts)
{
	char *srv[] = {(char *)self, "server", NULL};
	char *rel[] = {(char *)self, "relay", "--", (char *)self, "server", NULL};
	char *noscan[] = {(char *)mcpguard, "run", "--no-scan", "--", (char *)self, "server", NULL};
	char *full[] = {(char *)mcpguard, "run", "--", (char *)self, "server", NULL};
	struct result r[4];
	const char *label[NSIZES] = {"10 KB", "1 MB", "10 MB"};

	run_config("direct (no middle process)", srv, 0, rtts, &r[0]);
	run_config("plain relay (read/write copy)", rel, 1, rtts, &r[1]);
	run_config("mcpguard run --no-scan", noscan, 1, rtts, &r[2]);
	run_config("mcpguard run (all detectors)", full, 1, rtts, &r[3]);

	printf("%-32s %9s %9s %12s %12s %12s %9s %9s\n", "configuration", "rtt p50", "rtt p99",
	       "10KB MB/s", "1MB MB/s", "10MB MB/s", "RSS KB", "peak KB");
	for (int i = 0; i < 4; i++)
		printf("%-32s %7.1fus %7.1fus %12.0f %12.0f %12.0f %9ld %9ld\n", r[i].name,
		       r[i].p50_us, r[i].p99_us, r[i].mbps[0], r[i].mbps[1], r[i].mbps[2],
		       r[i].rss_small_kb, r[i].hwm_kb);
	printf("\nadded latency per small tools/call round trip (median):\n");
	printf("  mcpguard vs direct:        %+.1f us\n", r[3].p50_us - r[0].p50_us);
	printf("  plain relay vs direct:     %+.1f us\n", r[1].p50_us - r[0].p50_us);
	printf("  mcpguard vs plain relay:   %+.1f us (ratio %.2fx; target <= 10 us)\n",
	       r[3].p50_us - r[1].p50_us, r[3].p50_us / r[1].p50_us);
	printf("\nmiddle process CPU throughput (bytes relayed per CPU-second, one core):\n");
	for (int s = 0; s < NSIZES; s++)
		printf("  %-6s relay %6.2f GB/s  no-scan %6.2f GB/s  mcpguard %6.2f GB/s  "
		       "(mcpguard/relay %.2fx)%s\n",
		       label[s], r[1].cpu_gbps[s], r[2].cpu_gbps[s], r[3].cpu_gbps[s],
		       r[1].cpu_gbps[s] > 0 ? r[3].cpu_gbps[s] / r[1].cpu_gbps[s] : 0,
		       s == 1 ? " target >= 1 GB/s" : "");
	printf("\nmcpguard RSS after small messages: %ld KB (target <= 8192 KB), of which private "
	       "%ld KB (no-scan: %ld KB, %ld private); peak with 10 MB messages: %ld KB (relay "
	       "peak %ld KB)\n",
	       r[3].rss_small_kb, r[3].anon_small_kb, r[2].rss_small_kb, r[2].anon_small_kb,
	       r[3].hwm_kb, r[1].hwm_kb);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "server") == 0)
		return server();
	if (argc >= 4 && strcmp(argv[1], "relay") == 0 && strcmp(argv[2], "--") == 0)
		return relay(argv + 3);
	if (argc >= 3 && strcmp(argv[1], "client") == 0)
		return client(argv[0], argv[2], argc >= 4 ? atoi(argv[3]) : 5000);
	fprintf(stderr, "usage: proxy_bench server | relay -- CMD... | client MCPGUARD [RTTS]\n");
	return 2;
}
