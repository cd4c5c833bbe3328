/*
 * Kernel-path microbenchmark for mcpguardd: the cost the hooks add to the calls an
 * MCP server makes all the time.
 *
 *   kernel open FILE N          open(FILE, O_RDONLY) + close, N times
 *   kernel connect ADDR PORT N  socket + connect (TCP, IPv4 loopback) + close, N times
 *   kernel sides FILE ADDR PORT NOPEN NCONN BATCHES NAME=CG...
 *       both loops in BATCHES small batches per side, the process moving itself into
 *       each side's cgroup before its batch (rotating order), so the noise of a
 *       shared machine falls on every side alike.
 *
 *   kernel pair BASE_CG GUARD_CG FILE ADDR PORT NOPEN NCONN BATCHES
 *       the same with two sides named base and guarded.
 *
 * Prints "<what> <ns per op>" (sides: "<what> <name> <median of the batches>").
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per op, or -1 on error. */
static double loop_open(const char *path, long n)
{
	double t0 = now_ns();

	if (n <= 0) /* a side that skips this loop */
		return 0;
	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return -1;
		}
		close(fd);
	}
	return (now_ns() - t0) / (double)n;
}

static double loop_connect(const struct sockaddr_in *sin, long n)
{
	/* RST on close: no TIME_WAIT pile-up eating the ephemeral ports. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	double t0 = now_ns();

	if (n <= 0)
		return 0;
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
		    connect(fd, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
			perror("connect");
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	return (now_ns() - t0) / (double)n;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(port));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		return -1;
	}
	return 0;
}

static int join(const char *cg)
{
	char path[4096], pid[32];
	int fd, n, rc;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		perror(path);
		return -1;
	}
	rc = write(fd, pid, (size_t)n) == n ? 0 : -1;
	if (rc < 0)
		perror(path);
	close(fd);
	return rc;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_SIDES 4

/*
 * Median over batches: a stray 1 s SYN retransmit on a loaded machine skews a mean.
 * The sides take turns, the first of each round rotating, so drift in the machine's
 * load falls on all of them alike.
 */
static int bench_sides(char **a, int nsides)
{
	const char *file = a[0];
	long nopen = atol(a[3]), nconn = atol(a[4]), batches = atol(a[5]);
	const char *name[MAX_SIDES], *cg[MAX_SIDES];
	double *v[MAX_SIDES][2];
	struct sockaddr_in sin;

	if (parse_addr(a[1], a[2], &sin) < 0 || batches <= 0 || batches > 100000 || nsides < 1 ||
	    nsides > MAX_SIDES)
		return 2;
	for (int i = 0; i < nsides; i++) {
		char *eq = strchr(a[6 + i], '=');

		if (!eq) {
			fprintf(stderr, "want NAME=CGROUP_DIR, got %s\n", a[6 + i]);
			return 2;
		}
		*eq = '\0';
		name[i] = a[6 + i];
		cg[i] = eq + 1;
		for (int k = 0; k < 2; k++)
			if ((v[i][k] = calloc((size_t)batches, sizeof(double))) == NULL)
				return 1;
	}
	for (long b = 0; b < batches; b++) {
		for (int k = 0; k < nsides; k++) {
			int side = (int)((b + k) % nsides);

			if (join(cg[side]) < 0 ||
			    (v[side][0][b] = loop_open(file, nopen / batches)) < 0 ||
			    (v[side][1][b] = loop_connect(&sin, nconn / batches)) < 0)
				return 1;
		}
	}
	for (int i = 0; i < nsides; i++) {
		printf("open_close %s %.1f\n", name[i], median(v[i][0], batches));
		printf("connect %s %.1f\n", name[i], median(v[i][1], batches));
		free(v[i][0]);
		free(v[i][1]);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	double r;

	if (argc == 4 && strcmp(argv[1], "open") == 0) {
		if ((r = loop_open(argv[2], atol(argv[3]))) < 0)
			return 1;
		printf("open_close %.1f\n", r);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "connect") == 0) {
		if (parse_addr(argv[2], argv[3], &sin) < 0 ||
		    (r = loop_connect(&sin, atol(argv[4]))) < 0)
			return 1;
		printf("connect %.1f\n", r);
		return 0;
	}
	if (argc >= 9 && strcmp(argv[1], "sides") == 0)
		return bench_sides(argv + 2, argc - 8);
	if (argc == 10 && strcmp(argv[1], "pair") == 0) {
		/* The two-sided form (tests/vm/init-tests.sh uses it). */
		char base[4200], guard[4200];
		char *a[8] = {argv[4], argv[5], argv[6], argv[7], argv[8], argv[9], base, guard};

		if (snprintf(base, sizeof(base), "base=%s", argv[2]) >= (int)sizeof(base) ||
		    snprintf(guard, sizeof(guard), "guarded=%s", argv[3]) >= (int)sizeof(guard))
			return 2;
		return bench_sides(a, 2);
	}
	fprintf(stderr, "usage: kernel open FILE N | kernel connect ADDR PORT N |\n"
			"       kernel sides FILE ADDR PORT NOPEN NCONN BATCHES NAME=CG...\n"
			"       kernel pair BASE_CG GUARD_CG FILE ADDR PORT NOPEN NCONN BATCHES\n");
	return 2;
}
