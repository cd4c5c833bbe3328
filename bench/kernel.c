/*
 * Kernel-path microbenchmark for mcpguardd: the cost the hooks add to the calls an
 * MCP server makes all the time.
 *
 *   kernel open FILE N          open(FILE, O_RDONLY) + close, N times
 *   kernel connect ADDR PORT N  socket + connect (TCP, IPv4 loopback) + close, N times
 *
 * Prints "<what> <ns per op>". bench/kernel.sh runs it inside the guarded cgroup and
 * in an unguarded one, alternately, and prints the ratios.
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

static int bench_open(const char *path, long n)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			perror(path);
			return 1;
		}
		close(fd);
	}
	printf("open_close %.1f\n", (now_ns() - t0) / (double)n);
	return 0;
}

static int bench_connect(const char *addr, int port, long n)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	/* RST on close: no TIME_WAIT pile-up eating the ephemeral ports. */
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	double t0;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", addr);
		return 2;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0 ||
		    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			perror("connect");
			return 1;
		}
		close(fd);
	}
	printf("connect %.1f\n", (now_ns() - t0) / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "open") == 0)
		return bench_open(argv[2], atol(argv[3]));
	if (argc == 5 && strcmp(argv[1], "connect") == 0)
		return bench_connect(argv[2], atoi(argv[3]), atol(argv[4]));
	fprintf(stderr, "usage: kernel open FILE N | kernel connect ADDR PORT N\n");
	return 2;
}
