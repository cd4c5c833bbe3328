/*
 * The proxy's evidence: allowed tools/call requests in the flight recorder (names of
 * arguments, never values), and the metric deltas it sends to the daemon.
 * pipeline.c, findlog.c and pmetrics.c are compiled into test_pipeline.c (the
 * proxy's files are not in the library); this file uses them through their headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ctl.h"
#include "findlog.h"
#include "guard.h"
#include "metrics.h"
#include "pipeline.h"
#include "pmetrics.h"
#include "recorder.h"
#include "t.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* Lines of kind `kind` in the log, parsed (caller frees the array). */
static cJSON *lines_of(const char *text, const char *kind)
{
	cJSON *out = cJSON_CreateArray();
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		cJSON *o = cJSON_ParseWithLength(p, len);
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "kind");

		if (cJSON_IsString(k) && strcmp(k->valuestring, kind) == 0)
			cJSON_AddItemToArray(out, o);
		else
			cJSON_Delete(o);
		p = nl ? nl + 1 : NULL;
	}
	return out;
}

static void feed(struct pipeline *p, const char *s)
{
	struct verdict v;

	pipeline_line(p, DIR_C2S, s, strlen(s), &v);
	verdict_free(&v);
}

TEST(evidence_allowed_tool_calls_are_recorded_with_argument_names_only)
{
	char dir[] = "/tmp/mg-t-allowrec.XXXXXX", key[128], path[128], err[256], *text, line[4096];
	struct findlog fl;
	struct pipeline p;
	struct policy *pol;
	struct rec_verify_result res;
	const char *paths[1];
	cJSON *allow, *blocks, *a;
	size_t off;

	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(key, sizeof(key), "%s/key/recorder.key", dir);
	snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
	setenv("MCPGUARD_RECORDER_KEY", key, 1);
	pol = policy_load(NULL, err, sizeof(err));
	ASSERT_TRUE(pol != NULL);
	ASSERT_EQ(findlog_open(&fl, path), 0);
	ASSERT_EQ(pipeline_init(&p, pol, &fl, "test-server", NULL, 1, err, sizeof(err)), 0);

	feed(&p, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"read_file\",\"arguments\":{\"path\":\"/srv/value-not-to-record\","
		 "\"encoding\":\"utf-8\"}}}");
	/* Blocked (a private key): a block line, no allow line. */
	feed(&p, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"note\",\"arguments\":{\"text\":\"-----BEGIN OPENSSH PRIVATE KEY-----\\n"
		 "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\n"
		 "QyNTUxOQAAACBMdXJ0c3pPa1ZxWlh2Y2l2M1FmV0RwT0s0d1RoVnF0UwAAAJiqDPtbqgz7\\n"
		 "-----END OPENSSH PRIVATE KEY-----\\n\"}}}");
	/* Not a tool call: not an allow line. */
	feed(&p, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
	/* Forty arguments: the first 32 names, and how many more. */
	off = (size_t)snprintf(line, sizeof(line),
			       "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":"
			       "{\"name\":\"many\",\"arguments\":{");
	for (int i = 0; i < 40; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s\"a%d\":%d",
					i ? "," : "", i, i);
	snprintf(line + off, sizeof(line) - off, "}}}");
	feed(&p, line);
	pipeline_free(&p);
	findlog_close(&fl);

	text = slurp(path);
	ASSERT_TRUE(text != NULL);
	ASSERT_TRUE(strstr(text, "value-not-to-record") == NULL);
	ASSERT_TRUE(strstr(text, "b3BlbnNzaC1rZXktdjE") == NULL);
	allow = lines_of(text, "allow");
	ASSERT_EQ(cJSON_GetArraySize(allow), 2);
	a = cJSON_GetArrayItem(allow, 0);
	ASSERT_STREQ(cJSON_GetObjectItem(a, "tool")->valuestring, "read_file");
	ASSERT_STREQ(cJSON_GetObjectItem(a, "verdict")->valuestring, "allow");
	ASSERT_STREQ(cJSON_GetObjectItem(a, "summary")->valuestring,
		     "tools/call read_file(path, encoding)");
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(a, "arguments")), 2);
	a = cJSON_GetArrayItem(allow, 1);
	ASSERT_STREQ(cJSON_GetObjectItem(a, "tool")->valuestring, "many");
	ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(a, "arguments")), 32);
	ASSERT_TRUE(strstr(cJSON_GetObjectItem(a, "summary")->valuestring, "a31, +8 more)") !=
		    NULL);
	blocks = lines_of(text, "block");
	ASSERT_TRUE(cJSON_GetArraySize(blocks) >= 1);
	ASSERT_STREQ(cJSON_GetObjectItem(cJSON_GetArrayItem(blocks, 0), "tool")->valuestring,
		     "note");
	paths[0] = path;
	ASSERT_EQ(rec_verify_files(paths, 1, NULL, &res), REC_INTACT);

	cJSON_Delete(allow);
	cJSON_Delete(blocks);
	free(text);
	policy_free(pol);
	unsetenv("MCPGUARD_RECORDER_KEY");
	snprintf(line, sizeof(line), "rm -rf '%s'", dir);
	ASSERT_EQ(system(line), 0);
}

TEST(evidence_proxy_metric_deltas_reach_a_daemon_registry)
{
	struct guard g;
	struct pmetrics *pm;
	struct metrics *daemon;
	struct finding f = {0};
	char buf[65536], out[16384];
	const char *ok = "{\"ok\":true}";
	cJSON *req, *deltas;
	ssize_t n;
	int sv[2];

	memset(&g, 0, sizeof(g));
	g.ctl = -1;
	ASSERT_TRUE(pmetrics_new(&g) == NULL); /* no daemon: nothing counted */
	ASSERT_EQ(pmetrics_due_ms(NULL), -1);
	ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	g.ctl = sv[0];
	snprintf(g.session, sizeof(g.session), "s1");
	pm = pmetrics_new(&g);
	ASSERT_TRUE(pm != NULL);
	ASSERT_EQ(pmetrics_due_ms(pm), -1); /* nothing pending: no poll timeout */
	pmetrics_message(pm, 0, 120, 0.0003);
	pmetrics_message(pm, 1, 80, 0.002);
	f.scanner = "dlp";
	f.action = PA_BLOCK;
	pmetrics_finding(pm, &f);
	ASSERT_TRUE(pmetrics_due_ms(pm) > 0 && pmetrics_due_ms(pm) <= PMETRICS_EVERY_MS);
	pmetrics_flush(pm, 0); /* not due yet: nothing sent */
	ASSERT_EQ(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	/* The daemon's answer is queued first, so the synchronous call returns at once. */
	ASSERT_EQ(send(sv[1], ok, strlen(ok), 0), (ssize_t)strlen(ok));
	pmetrics_flush(pm, 1);
	ASSERT_EQ(pmetrics_due_ms(pm), -1);
	n = recv(sv[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);
	ASSERT_TRUE(n > 0);
	buf[n] = '\0';
	req = cJSON_Parse(buf);
	ASSERT_TRUE(req != NULL);
	ASSERT_STREQ(cJSON_GetObjectItem(req, "op")->valuestring, "metrics");
	ASSERT_STREQ(cJSON_GetObjectItem(req, "session")->valuestring, "s1");
	deltas = cJSON_GetObjectItem(req, "metrics");

	/* What the daemon does with it (control.c): merged under the server's label. */
	daemon = metrics_new();
	metrics_declare_mcpguard(daemon);
	ASSERT_EQ(metrics_merge_json(daemon, deltas, "server=\"npx srv\""), 0);
	ASSERT_EQ(
	    metrics_value(daemon, MX_MESSAGES, "server=\"npx srv\",direction=\"client_to_server\""),
	    1);
	ASSERT_EQ(
	    metrics_value(daemon, MX_BYTES, "server=\"npx srv\",direction=\"server_to_client\""),
	    80);
	ASSERT_EQ(metrics_value(daemon, MX_FINDINGS,
				"server=\"npx srv\",scanner=\"dlp\",action=\"block\""),
		  1);
	metrics_render(daemon, out, sizeof(out));
	ASSERT_TRUE(strstr(out, "mcpguard_scan_duration_seconds_count{server=\"npx srv\","
				"direction=\"server_to_client\"} 1\n") != NULL);
	cJSON_Delete(req);

	/* A daemon that refuses (an older one: unknown op) is not asked again. */
	pmetrics_message(pm, 0, 10, 0.0001);
	ok = "{\"ok\":false,\"error\":\"unknown op 'metrics'\"}";
	ASSERT_EQ(send(sv[1], ok, strlen(ok), 0), (ssize_t)strlen(ok));
	pmetrics_flush(pm, 1);
	ASSERT_TRUE(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) > 0);
	pmetrics_message(pm, 0, 10, 0.0001);
	ASSERT_EQ(pmetrics_due_ms(pm), -1);
	pmetrics_flush(pm, 1);
	ASSERT_EQ(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);

	/* Nothing new, nothing sent at free. */
	pmetrics_free(pm);
	ASSERT_EQ(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), -1);
	metrics_free(daemon);
	close(sv[0]);
	close(sv[1]);
}
