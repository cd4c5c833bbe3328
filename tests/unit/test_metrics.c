/* Prometheus metrics: registry, exposition checked by promtool, HTTP endpoint. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "t.h"
#include "xmalloc.h"

static char *render(struct metrics *m)
{
	size_t n = metrics_render(m, NULL, 0);
	char *b = xmalloc(n + 1);

	if (metrics_render(m, b, n + 1) != n)
		abort();
	return b;
}

/* A registry the way the daemon fills it: every family, labelled series, a histogram. */
static struct metrics *sample(void)
{
	struct metrics *m = metrics_new();
	char lb[256];

	metrics_declare_mcpguard(m);
	metrics_labels(lb, sizeof(lb), "hook", "file_open", "rule", "ssh-keys", "action", "block",
		       NULL);
	metrics_counter_add(m, MX_KERNEL_DECISIONS, NULL, lb, 3);
	metrics_labels(lb, sizeof(lb), "hook", "connect4", "rule", "cloud-metadata", "action",
		       "block", NULL);
	metrics_counter_add(m, MX_KERNEL_DECISIONS, NULL, lb, 1);
	metrics_labels(lb, sizeof(lb), "scanner", "dlp", "action", "block", "server",
		       "npx @mcp/fs \"quoted\" \\ path", NULL);
	metrics_counter_add(m, MX_FINDINGS, NULL, lb, 2);
	metrics_gauge_add(m, MX_SESSIONS, NULL, "state=\"live\"", 2);
	metrics_counter_add(m, MX_MESSAGES, NULL, "direction=\"client_to_server\"", 10);
	metrics_counter_add(m, MX_BYTES, NULL, "direction=\"client_to_server\"", 4096);
	metrics_histogram_observe(m, MX_SCAN_SECONDS, NULL, "direction=\"client_to_server\"",
				  0.00003);
	metrics_histogram_observe(m, MX_SCAN_SECONDS, NULL, "direction=\"client_to_server\"",
				  0.002);
	metrics_histogram_observe(m, MX_SCAN_SECONDS, NULL, "direction=\"client_to_server\"", 3);
	return m;
}

TEST(metrics_exposition_format)
{
	struct metrics *m = sample();
	char *t = render(m);

	ASSERT_TRUE(strstr(t, "# TYPE mcpguard_kernel_decisions_total counter\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_kernel_decisions_total{hook=\"file_open\",rule=\"ssh-keys\","
			   "action=\"block\"} 3\n") != NULL);
	ASSERT_TRUE(strstr(t, "mcpguard_ringbuf_dropped_events_total 0\n") != NULL);
	ASSERT_TRUE(strstr(t, "mcpguard_sessions{state=\"live\"} 2\n") != NULL);
	ASSERT_TRUE(strstr(t, "mcpguard_sessions{state=\"quarantined\"} 0\n") != NULL);
	/* label values are escaped */
	ASSERT_TRUE(strstr(t, "server=\"npx @mcp/fs \\\"quoted\\\" \\\\ path\"} 2\n") != NULL);
	/* histogram: cumulative buckets, +Inf equals count, sum of observations */
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{direction=\"client_to_server\","
			   "le=\"1e-05\"} 0\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{direction=\"client_to_server\","
			   "le=\"5e-05\"} 1\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{direction=\"client_to_server\","
			   "le=\"0.0025\"} 2\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{direction=\"client_to_server\","
			   "le=\"1\"} 2\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{direction=\"client_to_server\","
			   "le=\"+Inf\"} 3\n") != NULL);
	ASSERT_TRUE(strstr(t, "mcpguard_scan_duration_seconds_sum{direction=\"client_to_server\"} "
			      "3.00203\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_count{direction=\"client_to_server\"} "
			   "3\n") != NULL);
	/* a family's series come together, right after its TYPE line */
	{
		char *a = strstr(t, "# TYPE mcpguard_kernel_decisions_total");
		char *b = strstr(t, "cloud-metadata");
		char *c = strstr(t, "# HELP mcpguard_ringbuf");

		ASSERT_TRUE(a && b && c && a < b && b < c);
	}
	ASSERT_EQ(metrics_value(m, MX_SESSIONS, "state=\"live\""), 2);
	free(t);
	metrics_free(m);
}

TEST(metrics_render_is_bounded)
{
	struct metrics *m = sample();
	size_t n = metrics_render(m, NULL, 0);
	char small[64];

	ASSERT_TRUE(n > sizeof(small));
	ASSERT_EQ(metrics_render(m, small, sizeof(small)), n);
	ASSERT_EQ(strlen(small), sizeof(small) - 1);
	metrics_free(m);
}

TEST(metrics_rejects_bad_names_labels_and_types)
{
	struct metrics *m = metrics_new();
	double b[] = {0.1, 0.05};
	char lb[16];

	ASSERT_EQ(metrics_counter_add(m, "9bad", "h", NULL, 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "bad-name", "h", NULL, 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "__reserved", "h", NULL, 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=b", 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=\"b\",", 1),
		  0); /* trailing comma ok */
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=\"b\"c=\"d\"", 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=\"unterminated", 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=\"bad \\x escape\"", 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "__x=\"1\"", 1), -1);
	ASSERT_EQ(metrics_counter_add(m, "ok_total", "h", "a=\"1\",a=\"2\"", 1), -1);
	ASSERT_EQ(errno, EINVAL);
	/* mirrored totals only go up */
	ASSERT_EQ(metrics_counter_set(m, "drops_total", "h", NULL, 5), 0);
	ASSERT_EQ(metrics_counter_set(m, "drops_total", "h", NULL, 9), 0);
	ASSERT_EQ(metrics_counter_set(m, "drops_total", "h", NULL, 4), -1);
	ASSERT_EQ(metrics_value(m, "drops_total", NULL), 9);
	/* a name keeps its first type */
	ASSERT_EQ(metrics_gauge_set(m, "ok_total", "h", NULL, 1), -1);
	ASSERT_EQ(metrics_histogram_observe(m, "lat_seconds", "h", "le=\"1\"", 1), -1);
	ASSERT_EQ(metrics_histogram_observe(m, "lat_seconds", "h", NULL, NAN), -1);
	ASSERT_EQ(metrics_histogram_define(m, "custom_seconds", "h", b, 2),
		  -1);							   /* not increasing */
	ASSERT_EQ(metrics_histogram_define(m, "ok_total", "h", b, 1), -1); /* exists */
	ASSERT_EQ(metrics_histogram_define(m, "custom_seconds", "h", b + 1, 1), 0);
	ASSERT_EQ(metrics_histogram_observe(m, "custom_seconds", NULL, NULL, 0.01), 0);
	{
		char *t = render(m);

		ASSERT_TRUE(strstr(t, "custom_seconds_bucket{le=\"0.05\"} 1\n") != NULL);
		ASSERT_TRUE(strstr(t, "custom_seconds_bucket{le=\"+Inf\"} 1\n") != NULL);
		ASSERT_TRUE(strstr(t, "custom_seconds_bucket{le=\"0.005") == NULL);
		free(t);
	}
	/* metrics_labels refuses to cut a label short */
	ASSERT_EQ(metrics_labels(lb, sizeof(lb), "k", "a value too long", NULL), -1);
	ASSERT_STREQ(lb, "");
	ASSERT_EQ(metrics_labels(lb, sizeof(lb), "k", "v\n", NULL), 0);
	ASSERT_STREQ(lb, "k=\"v\\n\"");
	metrics_free(m);
}

/* Parse the exposition with Prometheus' own parser and linter. */
static int promtool_check(const char *text, char *out, size_t outlen)
{
	int in[2], res[2], st;
	pid_t pid;
	size_t n = 0;
	ssize_t r;

	if (access("/usr/bin/promtool", X_OK) != 0) {
		snprintf(out, outlen,
			 "promtool missing: install the prometheus package "
			 "(scripts/deps.sh)");
		return -1;
	}
	if (pipe(in) < 0 || pipe(res) < 0)
		return -1;
	if ((pid = fork()) == 0) {
		dup2(in[0], 0);
		dup2(res[1], 1);
		dup2(res[1], 2);
		close(in[1]);
		close(res[0]);
		execl("/usr/bin/promtool", "promtool", "check", "metrics", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(res[1]);
	if (write(in[1], text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(in[1]);
	while (n + 1 < outlen && (r = read(res[0], out + n, outlen - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = '\0';
	close(res[0]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(metrics_promtool_accepts_exposition)
{
	struct metrics *m = sample();
	char *t = render(m), out[4096];
	int rc = promtool_check(t, out, sizeof(out));

	if (rc != 0)
		fprintf(stderr, "  promtool: %s\n", out);
	ASSERT_EQ(rc, 0);
	free(t);
	/* and the check is real: a counter without _total and without help is refused */
	rc = promtool_check("# TYPE bad_counter counter\nbad_counter 1\n", out, sizeof(out));
	ASSERT_TRUE(rc != 0);
	metrics_free(m);
}

/* Drive the server from this thread: send a request, serve until the reply is complete. */
static int fetch(struct metrics *m, int fd, const char *req, char *resp, size_t cap)
{
	size_t n = 0;

	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return -1;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < 400; i++) {
		struct pollfd p[2] = {{metrics_fd(m), POLLIN, 0}, {fd, POLLIN, 0}};
		ssize_t r;

		poll(p, 2, 50);
		if (p[0].revents & POLLIN)
			metrics_serve(m);
		r = read(fd, resp + n, cap - 1 - n);
		if (r == 0)
			break;
		if (r > 0)
			n += (size_t)r;
		if (n == cap - 1)
			break;
	}
	resp[n] = '\0';
	return (int)n;
}

static int connect_tcp(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

TEST(metrics_http_tcp_scrape)
{
	struct metrics *m = sample();
	char err[256], *resp = xmalloc(65536), *body, *want;
	int fd, port;

	ASSERT_EQ(metrics_fd(m), -1);
	ASSERT_EQ(metrics_listen(m, "127.0.0.1:0", err, sizeof(err)), 0);
	ASSERT_TRUE(metrics_fd(m) >= 0);
	port = metrics_port(m);
	ASSERT_TRUE(port > 0);
	fd = connect_tcp(port);
	ASSERT_TRUE(fd >= 0);
	ASSERT_TRUE(fetch(m, fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", resp, 65536) > 0);
	close(fd);
	ASSERT_TRUE(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
	ASSERT_TRUE(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL);
	body = strstr(resp, "\r\n\r\n");
	ASSERT_TRUE(body != NULL);
	want = render(m);
	ASSERT_STREQ(body + 4, want);
	free(want);
	/* other paths and methods */
	fd = connect_tcp(port);
	fetch(m, fd, "GET /nope HTTP/1.0\r\n\r\n", resp, 65536);
	close(fd);
	ASSERT_TRUE(strncmp(resp, "HTTP/1.1 404", 12) == 0);
	fd = connect_tcp(port);
	fetch(m, fd, "POST /metrics HTTP/1.0\r\n\r\n", resp, 65536);
	close(fd);
	ASSERT_TRUE(strncmp(resp, "HTTP/1.1 405", 12) == 0);
	/* a request that never ends its header is cut off at 4 KiB */
	{
		char *big = xmalloc(5000);

		memset(big, 'a', 4999);
		big[4999] = '\0';
		memcpy(big, "GET /", 5);
		fd = connect_tcp(port);
		fetch(m, fd, big, resp, 65536);
		close(fd);
		free(big);
		ASSERT_TRUE(strncmp(resp, "HTTP/1.1 431", 12) == 0);
	}
	/* idle connections cannot lock scrapes out: the oldest is dropped */
	{
		int idle[METRICS_MAX_CONN + 4];

		for (int i = 0; i < METRICS_MAX_CONN + 4; i++) {
			idle[i] = connect_tcp(port);
			ASSERT_TRUE(idle[i] >= 0);
			poll(&(struct pollfd){metrics_fd(m), POLLIN, 0}, 1, 100);
			metrics_serve(m);
		}
		fd = connect_tcp(port);
		ASSERT_TRUE(fetch(m, fd, "GET /metrics HTTP/1.1\r\n\r\n", resp, 65536) > 0);
		close(fd);
		ASSERT_TRUE(strncmp(resp, "HTTP/1.1 200 OK", 15) == 0);
		for (int i = 0; i < METRICS_MAX_CONN + 4; i++)
			close(idle[i]);
	}
	free(resp);
	metrics_free(m);
}

TEST(metrics_http_unix_socket_and_bad_addresses)
{
	struct metrics *m = sample();
	char err[256], path[64], resp[8192];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	snprintf(path, sizeof(path), "/tmp/mg-metrics-%d.sock", (int)getpid());
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	{
		char addr[80];

		snprintf(addr, sizeof(addr), "unix:%s", path);
		ASSERT_EQ(metrics_listen(m, addr, err, sizeof(err)), 0);
	}
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_EQ(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ASSERT_TRUE(fetch(m, fd, "GET /metrics HTTP/1.1\r\n\r\n", resp, sizeof(resp)) > 0);
	close(fd);
	ASSERT_TRUE(strstr(resp, "mcpguard_kernel_decisions_total{") != NULL);
	metrics_free(m); /* removes the socket */
	ASSERT_TRUE(access(path, F_OK) != 0);

	m = metrics_new();
	ASSERT_EQ(metrics_listen(m, "127.0.0.1", err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "HOST:PORT") != NULL);
	ASSERT_EQ(metrics_listen(m, "[::1:9464", err, sizeof(err)), -1);
	ASSERT_EQ(metrics_listen(m, "unix:/etc/passwd", err, sizeof(err)), -1);
	ASSERT_TRUE(strstr(err, "not a socket") != NULL);
	metrics_free(m);
}

TEST(metrics_proxy_deltas_merge_into_daemon)
{
	struct metrics *p = metrics_new(), *d = metrics_new();
	cJSON *j;
	char *t, out[4096];

	metrics_declare_mcpguard(d);
	metrics_counter_add(p, MX_FINDINGS, "h", "scanner=\"dlp\",action=\"block\"", 3);
	metrics_counter_add(p, MX_MESSAGES, "h", "direction=\"client_to_server\"", 10);
	metrics_histogram_observe(p, MX_SCAN_SECONDS, "h", "direction=\"client_to_server\"",
				  0.00003);
	metrics_histogram_observe(p, MX_SCAN_SECONDS, "h", "direction=\"client_to_server\"", 0.002);
	j = metrics_take_json(p);
	ASSERT_EQ(metrics_merge_json(d, j, "server=\"fs\""), 0);
	cJSON_Delete(j);
	/* taken: the proxy's counts start again from zero */
	j = metrics_take_json(p);
	ASSERT_EQ(metrics_merge_json(d, j, "server=\"fs\""), 0);
	cJSON_Delete(j);
	metrics_histogram_observe(p, MX_SCAN_SECONDS, NULL, "direction=\"client_to_server\"", 0.5);
	j = metrics_take_json(p);
	ASSERT_EQ(metrics_merge_json(d, j, "server=\"fs\""), 0);
	cJSON_Delete(j);
	ASSERT_EQ(metrics_value(d, MX_FINDINGS, "server=\"fs\",scanner=\"dlp\",action=\"block\""),
		  3);
	t = render(d);
	ASSERT_TRUE(strstr(t, "mcpguard_messages_scanned_total{server=\"fs\",direction=\"client_to_"
			      "server\"} 10\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_bucket{server=\"fs\",direction=\"client_"
			   "to_server\",le=\"5e-05\"} 1\n") != NULL);
	ASSERT_TRUE(strstr(t,
			   "mcpguard_scan_duration_seconds_count{server=\"fs\",direction=\"client_"
			   "to_server\"} 3\n") != NULL);
	ASSERT_TRUE(strstr(t, "mcpguard_scan_duration_seconds_sum{server=\"fs\",direction=\"client_"
			      "to_server\"} 0.50203\n") != NULL);
	ASSERT_EQ(promtool_check(t, out, sizeof(out)), 0);
	free(t);
	metrics_free(p);
	metrics_free(d);
}

TEST(metrics_merge_refuses_what_a_client_cannot_claim)
{
	struct metrics *d = metrics_new();
	static const char *const bad[] = {
	    /* a family the daemon never declared */
	    "{\"families\":[{\"name\":\"mcpguard_evil_total\",\"series\":[{\"labels\":\"\","
	    "\"count\":1}]}]}",
	    /* a gauge: the daemon's own state */
	    "{\"families\":[{\"name\":\"mcpguard_sessions\",\"series\":[{\"labels\":\"\","
	    "\"count\":9}]}]}",
	    /* the server label is the daemon's to set */
	    "{\"families\":[{\"name\":\"mcpguard_proxy_findings_total\",\"series\":[{\"labels\":"
	    "\"server=\\\"other\\\"\",\"count\":1}]}]}",
	    /* counts must be whole and not negative */
	    "{\"families\":[{\"name\":\"mcpguard_proxy_findings_total\",\"series\":[{\"labels\":"
	    "\"scanner=\\\"x\\\"\",\"count\":-5}]}]}",
	    "{\"families\":[{\"name\":\"mcpguard_proxy_findings_total\",\"series\":[{\"labels\":"
	    "\"scanner=\\\"x\\\"\",\"count\":1.5}]}]}",
	    /* other bucket bounds */
	    "{\"families\":[{\"name\":\"mcpguard_scan_duration_seconds\",\"bounds\":[1],\"series\":"
	    "[{\"labels\":\"\",\"count\":1,\"buckets\":[1,0],\"sum\":0.1}]}]}",
	    "not an object",
	};

	metrics_declare_mcpguard(d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *j = cJSON_Parse(bad[i]);

		ASSERT_EQ(metrics_merge_json(d, j, "server=\"fs\""), -1);
		cJSON_Delete(j);
	}
	/* buckets that do not add up to the count */
	{
		struct metrics *p = metrics_new();
		cJSON *j, *b;

		metrics_histogram_observe(p, MX_SCAN_SECONDS, "h", NULL, 0.001);
		j = metrics_take_json(p);
		b = cJSON_GetObjectItem(
		    cJSON_GetArrayItem(
			cJSON_GetObjectItem(
			    cJSON_GetArrayItem(cJSON_GetObjectItem(j, "families"), 0), "series"),
			0),
		    "buckets");
		cJSON_ReplaceItemInArray(b, 0, cJSON_CreateNumber(7));
		ASSERT_EQ(metrics_merge_json(d, j, NULL), -1);
		cJSON_Delete(j);
		metrics_free(p);
	}
	{
		char *t = render(d);

		ASSERT_TRUE(strstr(t, "evil") == NULL);
		ASSERT_TRUE(strstr(t, "other") == NULL);
		ASSERT_TRUE(strstr(t, "mcpguard_sessions{state=\"live\"} 0\n") != NULL);
		ASSERT_TRUE(strstr(t, "mcpguard_scan_duration_seconds_count") == NULL);
		free(t);
	}
	metrics_free(d);
}

TEST(metrics_series_are_capped)
{
	struct metrics *m = metrics_new();
	char lb[64];
	int i;

	for (i = 0; i < METRICS_MAX_SERIES; i++) {
		snprintf(lb, sizeof(lb), "id=\"%d\"", i);
		if (metrics_counter_add(m, "many_total", "h", lb, 1) < 0)
			break;
	}
	ASSERT_EQ(i, METRICS_MAX_SERIES);
	ASSERT_EQ(metrics_counter_add(m, "many_total", "h", "id=\"one more\"", 1), -1);
	ASSERT_EQ(errno, ENOSPC);
	ASSERT_EQ(metrics_counter_add(m, "many_total", "h", "id=\"7\"", 1), 0); /* existing: fine */
	ASSERT_EQ(metrics_value(m, "many_total", "id=\"7\""), 2);
	metrics_free(m);
}
