/*
 * netprobe: real sockets for the host egress tests and the benchmark.
 *
 *   netprobe serve [-t SECS] SPEC...   bind listeners (tcp: accept+close, udp: echo),
 *                                      fork, print the server pid, exit once bound.
 *   netprobe probe [-n N] SPEC...      try each SPEC (N times), print "SPEC RESULT" per
 *                                      line, RESULT = OK or the errno name (EPERM, ...),
 *                                      MIXED when the N tries disagreed.
 * SPEC: tcp:ADDR:PORT   connect (cgroup connect4/6)
 *       udp:ADDR:PORT   unconnected sendto, then wait for the echo (sendmsg4/6)
 *       udpc:ADDR:PORT  connect, then send (connect4/6 on a UDP socket)
 *       tfo:ADDR:PORT   TCP fast open: sendto(MSG_FASTOPEN) without connect
 *       mptcp:ADDR:PORT connect over Multipath TCP
 *       udplite:ADDR:PORT  unconnected sendto over UDP-Lite (no echo expected)
 *       raw4 raw6 ping4 ping6 packet   socket creation only
 * ADDR: 1.2.3.4 or [v6] (IPv4-mapped: [::ffff:1.2.3.4], an IPv6 socket).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef AF_PACKET
#define AF_PACKET 17
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif

#define MAX_LISTEN 32
#define TIMEOUT_MS 1500

struct target {
	char proto[8];
	struct sockaddr_storage ss;
	socklen_t len;
};

static int parse(const char *spec, struct target *t)
{
	char buf[128], *addr, *port, *colon;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&t->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->ss;

	memset(t, 0, sizeof(*t));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf) ||
	    (colon = strchr(buf, ':')) == NULL || colon - buf >= (long)sizeof(t->proto))
		return -1;
	*colon = '\0';
	strcpy(t->proto, buf);
	addr = colon + 1;
	if (*addr == '[') {
		char *end = strchr(addr, ']');

		if (!end || end[1] != ':')
			return -1;
		*end = '\0';
		port = end + 2;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET6, addr + 1, &s6->sin6_addr) != 1)
			return -1;
		t->len = sizeof(*s6);
	} else {
		if ((port = strrchr(addr, ':')) == NULL)
			return -1;
		*port++ = '\0';
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -1;
		t->len = sizeof(*s4);
	}
	return 0;
}

static const char *ename(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "EUNKNOWN";
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};

	return poll(&p, 1, TIMEOUT_MS) == 1 ? 0 : -1;
}

/* Returns 0 or an errno; ETIMEDOUT when an allowed probe got no answer. */
static int probe(const char *spec)
{
	static const struct {
		const char *name;
		int family, type, proto;
	} socks[] = {
	    {"raw4", AF_INET, SOCK_RAW, IPPROTO_ICMP},
	    {"raw6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6},
	    {"ping4", AF_INET, SOCK_DGRAM, IPPROTO_ICMP},
	    {"ping6", AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6},
	    {"packet", AF_PACKET, SOCK_RAW, 0},
	};
	struct target t;
	char buf[16];
	int fd, e = 0;

	for (size_t i = 0; i < sizeof(socks) / sizeof(socks[0]); i++) {
		if (strcmp(spec, socks[i].name) != 0)
			continue;
		if ((fd = socket(socks[i].family, socks[i].type, socks[i].proto)) < 0)
			return errno;
		close(fd);
		return 0;
	}
	if (parse(spec, &t) < 0)
		return EINVAL;
	if (strcmp(t.proto, "tcp") == 0 || strcmp(t.proto, "tfo") == 0) {
		fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		if (strcmp(t.proto, "tfo") == 0) {
			if (sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&t.ss, t.len) < 0 &&
			    errno != EINPROGRESS)
				e = errno;
		} else if (connect(fd, (struct sockaddr *)&t.ss, t.len) < 0) {
			e = errno;
		}
		if (e == EINPROGRESS || (e == 0 && strcmp(t.proto, "tfo") == 0)) {
			socklen_t l = sizeof(e);

			e = 0;
			if (wait_fd(fd, POLLOUT) < 0)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
				e = errno;
		}
		close(fd);
		return e;
	}
	if (strcmp(t.proto, "mptcp") == 0) {
		if ((fd = socket(t.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 262)) < 0)
			return errno;
		if (connect(fd, (struct sockaddr *)&t.ss, t.len) < 0)
			e = errno;
		close(fd);
		return e;
	}
	if (strcmp(t.proto, "udplite") == 0) {
		if ((fd = socket(t.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 136)) < 0)
			return errno;
		if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&t.ss, t.len) < 0)
			e = errno;
		close(fd);
		return e;
	}
	if (strcmp(t.proto, "udp") == 0 || strcmp(t.proto, "udpc") == 0) {
		if ((fd = socket(t.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
			return errno;
		if (strcmp(t.proto, "udpc") == 0) {
			if (connect(fd, (struct sockaddr *)&t.ss, t.len) < 0 ||
			    send(fd, "ping", 4, 0) < 0)
				e = errno;
		} else if (sendto(fd, "ping", 4, 0, (struct sockaddr *)&t.ss, t.len) < 0) {
			e = errno;
		}
		if (!e) {
			if (wait_fd(fd, POLLIN) < 0)
				e = ETIMEDOUT;
			else if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) < 0)
				e = errno;
		}
		close(fd);
		return e;
	}
	return EINVAL;
}

static int serve(int argc, char **argv)
{
	struct pollfd p[MAX_LISTEN];
	int types[MAX_LISTEN], n = 0, secs = 20, ready[2], one = 1;
	pid_t pid;

	if (argc > 1 && strcmp(argv[0], "-t") == 0) {
		secs = atoi(argv[1]);
		argc -= 2;
		argv += 2;
	}
	for (int i = 0; i < argc && n < MAX_LISTEN; i++) {
		struct target t;
		int fd, dgram;

		if (parse(argv[i], &t) < 0) {
			fprintf(stderr, "netprobe: bad spec %s\n", argv[i]);
			return 2;
		}
		dgram = strcmp(t.proto, "udp") == 0;
		fd = socket(t.ss.ss_family, (dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
		if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    (t.ss.ss_family == AF_INET6 &&
		     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
		    bind(fd, (struct sockaddr *)&t.ss, t.len) < 0 ||
		    (!dgram && listen(fd, 4096) < 0)) {
			fprintf(stderr, "netprobe: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		p[n].fd = fd;
		p[n].events = POLLIN;
		types[n++] = dgram;
	}
	if (pipe(ready) < 0 || (pid = fork()) < 0)
		return 1;
	if (pid > 0) {
		char c;

		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			return 1;
		printf("%d\n", (int)pid);
		return 0;
	}
	/* The server: detached from the caller's stdout so $(netprobe serve) returns. */
	close(ready[0]);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
	}
	alarm((unsigned)secs);
	if (write(ready[1], "r", 1) != 1)
		_exit(1);
	close(ready[1]);
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			_exit(1);
		for (int i = 0; i < n; i++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			char buf[512];
			ssize_t r;
			int c;

			if (!(p[i].revents & POLLIN))
				continue;
			if (!types[i]) {
				if ((c = accept(p[i].fd, NULL, NULL)) >= 0) {
					/* Drain TFO data so the client sees a normal close. */
					(void)!recv(c, buf, sizeof(buf), MSG_DONTWAIT);
					close(c);
				}
			} else if ((r = recvfrom(p[i].fd, buf, sizeof(buf), 0,
						 (struct sockaddr *)&from, &fl)) >= 0) {
				(void)!sendto(p[i].fd, buf, (size_t)r, 0, (struct sockaddr *)&from,
					      fl);
			}
		}
	}
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0) {
		long repeat = 1;
		int first = 2;

		if (argc >= 4 && strcmp(argv[2], "-n") == 0) {
			repeat = atol(argv[3]);
			first = 4;
		}
		printf("pid %d\n", (int)getpid());
		for (int i = first; i < argc; i++) {
			int e = probe(argv[i]), mixed = 0;

			/* -n N: the same probe N times (floods for ring-buffer tests). */
			for (long r = 1; r < repeat; r++)
				mixed |= probe(argv[i]) != e;
			printf("%s %s\n", argv[i], mixed ? "MIXED" : e ? ename(e) : "OK");
			fflush(stdout);
		}
		return 0;
	}
	fprintf(stderr, "usage: netprobe serve [-t SECS] SPEC... | netprobe probe SPEC...\n");
	return 2;
}
