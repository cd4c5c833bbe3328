/*
 * mcpguard assess [--policy FILE] [--log FILE]... [--baselines DIR] [--json]
 *                 [--out PREFIX] [--key FILE]
 * A report of how protected this machine is: the enforcement mode (the doctor's
 * checks), the policy's coverage of each attack vector, the MCP servers seen
 * with their tools and fingerprints (drift baselines), and the findings in the
 * flight-recorder logs (verified first). With --out it writes PREFIX.json,
 * PREFIX.md and PREFIX.json.sig (Ed25519 over the JSON bytes with the recorder
 * key); `mcpguard verify --report PREFIX.json` checks it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <zlib.h>

#include "assess.h"
#include "cmds.h"
#include "doctor.h"
#include "drift.h"
#include "policy.h"
#include "recorder.h"
#include "xmalloc.h"

#define RECENT_MAX 20

static const char *status_of(bool enabled, enum pol_action a)
{
	if (!enabled)
		return "off";
	return a == PA_BLOCK || a == PA_STRIP ? "enforced" : "audit only";
}

static void cover(cJSON *arr, const char *vector, const char *section, bool enabled,
		  enum pol_action a, const char *note)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "vector", vector);
	cJSON_AddStringToObject(c, "policy_section", section);
	cJSON_AddBoolToObject(c, "enabled", enabled);
	cJSON_AddStringToObject(c, "action", pol_action_name(a));
	cJSON_AddStringToObject(c, "status", status_of(enabled, a));
	if (note)
		cJSON_AddStringToObject(c, "note", note);
	cJSON_AddItemToArray(arr, c);
}

static cJSON *policy_part(const struct policy *p, const char *path)
{
	cJSON *o = cJSON_CreateObject(), *cov = cJSON_AddArrayToObject(o, "coverage"), *k;
	char note[128];

	cJSON_AddStringToObject(o, "file", path ? path : "(built-in defaults)");
	cover(cov, "tool poisoning", "mcp_tool_scanning", p->tool_scanning.enabled,
	      p->tool_scanning.action, NULL);
	cover(cov, "rug-pull drift", "mcp_tool_scanning.detect_drift",
	      p->tool_scanning.enabled && p->tool_scanning.detect_drift, p->tool_scanning.action,
	      NULL);
	cover(cov, "argument DLP", "mcp_input_scanning", p->input_scanning.enabled,
	      p->input_scanning.action, NULL);
	cover(cov, "response injection", "mcp_response_scanning", p->response_scanning.enabled,
	      p->response_scanning.action, NULL);
	cover(cov, "SSRF", "mcp_ssrf", p->ssrf.enabled, p->ssrf.action,
	      p->ssrf.resolve ? "host names are resolved and their addresses judged" : NULL);
	snprintf(note, sizeof(note), "%zu policy rule(s) plus the built-in shell rules",
		 p->tool_policy.nrules);
	cover(cov, "shell obfuscation", "mcp_tool_policy", p->tool_policy.enabled,
	      p->tool_policy.action, note);
	snprintf(note, sizeof(note), "%zu chain(s)", p->tool_chain.nchains);
	cover(cov, "tool chains", "tool_chain_detection", p->tool_chain.enabled,
	      p->tool_chain.action, note);
	cover(cov, "session binding", "mcp_session_binding", p->session_binding.enabled, PA_BLOCK,
	      NULL);

	k = cJSON_AddObjectToObject(o, "kernel");
	cJSON_AddBoolToObject(k, "audit_only", p->audit);
	cJSON_AddBoolToObject(k, "egress_enabled", p->egress.enabled);
	cJSON_AddStringToObject(k, "egress_default", pol_action_name(p->egress.default_action));
	cJSON_AddNumberToObject(k, "egress_rules", (double)p->egress.nrules);
	cJSON_AddBoolToObject(k, "deny_raw_sockets", p->egress.deny_raw_sockets);
	cJSON_AddBoolToObject(k, "files_enabled", p->files.enabled);
	cJSON_AddStringToObject(k, "files_action", pol_action_name(p->files.action));
	cJSON_AddNumberToObject(k, "file_rules", (double)p->files.nrules);
	cJSON_AddBoolToObject(k, "sandbox_enabled", p->sandbox.enabled);
	cJSON_AddBoolToObject(k, "sandbox_strict", p->sandbox.strict);
	return o;
}

static char *default_baselines(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	char *d = NULL;

	if (x && x[0] == '/')
		xasprintf(&d, "%s/mcpguard/baselines", x);
	else if (h && h[0] == '/')
		xasprintf(&d, "%s/.local/state/mcpguard/baselines", h);
	return d;
}

static cJSON *read_json_file(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *buf;
	long n;
	cJSON *j;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) < 0 || (n = ftell(fp)) < 0 || n > 64L * 1024 * 1024) {
		fclose(fp);
		return NULL;
	}
	rewind(fp);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		free(buf);
		return NULL;
	}
	fclose(fp);
	buf[n] = '\0';
	j = cJSON_ParseWithLength(buf, (size_t)n);
	free(buf);
	return j;
}

/* One entry per baseline file: the server and each tool's fingerprints. */
static cJSON *servers_part(const char *dir)
{
	cJSON *arr = cJSON_CreateArray();
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return arr;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char *path;
		cJSON *j, *srv, *tools, *t, *out, *ta;

		cJSON *hash, *pj, *pt;
		char *ppath;

		/* Changed definitions awaiting `mcpguard accept` are counted with their server. */
		if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 ||
		    (n > 13 && strcmp(e->d_name + n - 13, ".pending.json") == 0))
			continue;
		xasprintf(&path, "%s/%s", dir, e->d_name);
		j = read_json_file(path);
		srv = cJSON_GetObjectItemCaseSensitive(j, "server_id");
		hash = cJSON_GetObjectItemCaseSensitive(j, "server_id_sha256");
		tools = cJSON_GetObjectItemCaseSensitive(j, "tools");
		out = cJSON_CreateObject();
		/* The proxy stores only a hash of the command line (it may hold secrets). */
		if (cJSON_IsString(srv))
			cJSON_AddStringToObject(out, "server_id", srv->valuestring);
		else if (cJSON_IsString(hash)) {
			char *h;

			xasprintf(&h, "sha256:%.64s", hash->valuestring);
			cJSON_AddStringToObject(out, "server_id", h);
			free(h);
		} else
			cJSON_AddStringToObject(out, "server_id", "(unreadable)");
		cJSON_AddStringToObject(out, "baseline_file", path);
		ppath = drift_pending_file(path);
		pj = read_json_file(ppath);
		pt = cJSON_GetObjectItemCaseSensitive(pj, "tools");
		if (cJSON_IsArray(pt) && cJSON_GetArraySize(pt) > 0)
			cJSON_AddNumberToObject(out, "pending_changes", cJSON_GetArraySize(pt));
		cJSON_Delete(pj);
		free(ppath);
		if (!cJSON_IsArray(tools))
			cJSON_AddStringToObject(out, "problem", "not a valid baseline file");
		ta = cJSON_AddArrayToObject(out, "tools");
		cJSON_ArrayForEach(t, tools)
		{
			static const char *const keep[] = {"name", "sha256", "structure_sha256",
							   "first_seen"};
			cJSON *o = cJSON_CreateObject();

			for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
				cJSON *v = cJSON_GetObjectItemCaseSensitive(t, keep[i]);

				if (v)
					cJSON_AddItemToObject(o, keep[i], cJSON_Duplicate(v, 1));
			}
			cJSON_AddItemToArray(ta, o);
		}
		cJSON_AddItemToArray(arr, out);
		cJSON_Delete(j);
		free(path);
	}
	closedir(d);
	return arr;
}

static void bump(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (v)
		cJSON_SetNumberValue(v, v->valuedouble + 1);
	else
		cJSON_AddNumberToObject(obj, key, 1);
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Findings from recorder logs: verified first, then counted. */
static cJSON *findings_part(const char **logs, size_t nlogs)
{
	static const char *const words[] = {"intact", "tampered", "error", "truncated",
					    "torn-tail"};
	cJSON *o = cJSON_CreateObject(), *v, *kinds, *scanners, *rules, *recent, *servers;
	struct rec_verify_result res;
	char *line = xmalloc(REC_MAX_LINE + 2);
	size_t total = 0;

	cJSON_AddItemToObject(o, "logs", cJSON_CreateStringArray(logs, (int)nlogs));
	if (nlogs == 0) {
		free(line);
		return o;
	}
	rec_verify_files(logs, nlogs, NULL, &res);
	v = cJSON_AddObjectToObject(o, "verification");
	cJSON_AddStringToObject(v, "status", words[res.status]);
	cJSON_AddStringToObject(v, "key_id", res.key_id);
	cJSON_AddNumberToObject(v, "lines", (double)res.lines);
	if (res.status != REC_INTACT) {
		cJSON_AddStringToObject(v, "file", res.bad_file);
		cJSON_AddNumberToObject(v, "line", (double)res.bad_line);
		cJSON_AddStringToObject(v, "reason", res.reason);
	}
	kinds = cJSON_AddObjectToObject(o, "by_kind");
	scanners = cJSON_AddObjectToObject(o, "by_scanner");
	rules = cJSON_AddObjectToObject(o, "by_rule");
	servers = cJSON_AddObjectToObject(o, "by_server");
	recent = cJSON_AddArrayToObject(o, "recent");
	for (size_t i = 0; i < nlogs; i++) {
		gzFile g = gzopen(logs[i], "rb");

		if (!g)
			continue;
		while (gzgets(g, line, REC_MAX_LINE + 2)) {
			cJSON *j = cJSON_Parse(line), *r;
			const char *kind = jstr(j, "kind"), *s;

			if (!kind || !strcmp(kind, "genesis") || !strcmp(kind, "checkpoint") ||
			    !strcmp(kind, "recovered")) {
				cJSON_Delete(j);
				continue;
			}
			total++;
			bump(kinds, kind);
			if ((s = jstr(j, "scanner")))
				bump(scanners, s);
			if ((s = jstr(j, "rule")))
				bump(rules, s);
			if ((s = jstr(j, "server")))
				bump(servers, s);
			if (strcmp(kind, "allow") != 0) {
				static const char *const keep[] = {"seq",  "time",    "source",
								   "kind", "scanner", "rule",
								   "tool", "summary", "server"};

				r = cJSON_CreateObject();
				for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++) {
					cJSON *x = cJSON_GetObjectItemCaseSensitive(j, keep[k]);

					if (x)
						cJSON_AddItemToObject(r, keep[k],
								      cJSON_Duplicate(x, 1));
				}
				cJSON_AddItemToArray(recent, r);
				if (cJSON_GetArraySize(recent) > RECENT_MAX)
					cJSON_DeleteItemFromArray(recent, 0);
			}
			cJSON_Delete(j);
		}
		gzclose(g);
	}
	cJSON_AddNumberToObject(o, "decisions", (double)total);
	free(line);
	return o;
}

/* ---- Markdown ---- */

static void md_counts(FILE *fp, const char *title, const cJSON *obj)
{
	const cJSON *c;

	if (!obj || !obj->child)
		return;
	fprintf(fp, "\n**%s:**", title);
	cJSON_ArrayForEach(c, obj) fprintf(fp, " %s %d;", c->string, (int)c->valuedouble);
	fprintf(fp, "\n");
}

/* Markdown table cells: no pipes or newlines from the data. */
static void md_cell(FILE *fp, const char *s)
{
	for (; s && *s; s++)
		fputc(*s == '|' ? '/' : *s == '\n' ? ' ' : *s, fp);
}

void assess_markdown(FILE *fp, const cJSON *r, const char *sigline)
{
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(r, "enforcement");
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(r, "policy");
	const cJSON *srv = cJSON_GetObjectItemCaseSensitive(r, "servers");
	const cJSON *fi = cJSON_GetObjectItemCaseSensitive(r, "findings");
	const cJSON *c, *t;

	fprintf(fp, "# mcpguard assessment\n\nHost `%s`, Linux %s, generated %s.\n",
		jstr(r, "host") ?: "?", jstr(en, "kernel") ?: "?", jstr(r, "generated") ?: "?");
	fprintf(
	    fp,
	    "\n## Enforcement\n\n**Mode: %s.** %s\n\n| check | status | detail |\n|---|---|---|\n",
	    jstr(en, "mode") ?: "?", jstr(en, "summary") ?: "");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(en, "checks"))
	{
		fprintf(fp, "| %s | %s | ", jstr(c, "name") ?: "", jstr(c, "status") ?: "");
		md_cell(fp, jstr(c, "detail"));
		if (jstr(c, "fix")) {
			fprintf(fp, " Fix: ");
			md_cell(fp, jstr(c, "fix"));
		}
		fprintf(fp, " |\n");
	}
	fprintf(fp,
		"\n## Policy coverage\n\nPolicy: `%s`.\n\n| vector | section | status | action | "
		"note |\n|---|---|---|---|---|\n",
		jstr(pol, "file") ?: "?");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(pol, "coverage"))
	{
		fprintf(fp, "| %s | `%s` | %s | %s | ", jstr(c, "vector") ?: "",
			jstr(c, "policy_section") ?: "", jstr(c, "status") ?: "",
			jstr(c, "action") ?: "");
		md_cell(fp, jstr(c, "note"));
		fprintf(fp, " |\n");
	}
	{
		const cJSON *k = cJSON_GetObjectItemCaseSensitive(pol, "kernel");

		fprintf(fp,
			"\nKernel: egress %s (default %s, %d rule(s)), credential files %s (%d "
			"rule(s), action %s)%s; sandbox for `mcpguard run` %s.\n",
			cJSON_IsTrue(cJSON_GetObjectItem(k, "egress_enabled")) ? "on" : "off",
			jstr(k, "egress_default") ?: "?",
			(int)cJSON_GetNumberValue(cJSON_GetObjectItem(k, "egress_rules")),
			cJSON_IsTrue(cJSON_GetObjectItem(k, "files_enabled")) ? "on" : "off",
			(int)cJSON_GetNumberValue(cJSON_GetObjectItem(k, "file_rules")),
			jstr(k, "files_action") ?: "?",
			cJSON_IsTrue(cJSON_GetObjectItem(k, "audit_only"))
			    ? "; **audit only: kernel blocks are reported, not enforced**"
			    : "",
			cJSON_IsTrue(cJSON_GetObjectItem(k, "sandbox_enabled")) ? "on" : "off");
	}
	fprintf(fp, "\n## MCP servers seen\n\n");
	if (!srv || !srv->child)
		fprintf(fp, "No drift baselines found (directory `%s`).\n",
			jstr(r, "baselines_dir") ?: "?");
	cJSON_ArrayForEach(c, srv)
	{
		fprintf(fp, "### `");
		md_cell(fp, jstr(c, "server_id"));
		fprintf(fp, "`\n\n");
		if (jstr(c, "problem"))
			fprintf(fp, "Baseline problem: %s.\n\n", jstr(c, "problem"));
		if (cJSON_GetObjectItemCaseSensitive(c, "pending_changes"))
			fprintf(fp,
				"%d changed tool definition(s) pending review: `mcpguard accept "
				"--list -- <server command>`.\n\n",
				(int)cJSON_GetNumberValue(
				    cJSON_GetObjectItemCaseSensitive(c, "pending_changes")));
		fprintf(fp, "| tool | sha256 | structure sha256 |\n|---|---|---|\n");
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "tools"))
		{
			fprintf(fp, "| ");
			md_cell(fp, jstr(t, "name"));
			fprintf(fp, " | `%.16s` | `%.16s` |\n", jstr(t, "sha256") ?: "",
				jstr(t, "structure_sha256") ?: "");
		}
		fprintf(fp, "\n");
	}
	fprintf(fp, "\n## Findings\n\n");
	{
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(fi, "verification");

		if (!v) {
			fprintf(fp, "No flight-recorder log given (--log FILE).\n");
		} else {
			fprintf(fp, "Flight recorder: %d decision(s); verification **%s** (key %s)",
				(int)cJSON_GetNumberValue(cJSON_GetObjectItem(fi, "decisions")),
				jstr(v, "status") ?: "?", jstr(v, "key_id") ?: "?");
			if (jstr(v, "reason")) {
				fprintf(fp, ": %s:%d: ", jstr(v, "file") ?: "",
					(int)cJSON_GetNumberValue(cJSON_GetObjectItem(v, "line")));
				md_cell(fp, jstr(v, "reason"));
			}
			fprintf(fp, ".\n");
			md_counts(fp, "By kind", cJSON_GetObjectItem(fi, "by_kind"));
			md_counts(fp, "By scanner", cJSON_GetObjectItem(fi, "by_scanner"));
			md_counts(fp, "By rule", cJSON_GetObjectItem(fi, "by_rule"));
			md_counts(fp, "By server", cJSON_GetObjectItem(fi, "by_server"));
			t = cJSON_GetObjectItem(fi, "recent");
			if (t && t->child) {
				fprintf(fp,
					"\nMost recent (up to %d):\n\n| seq | time | kind | "
					"scanner | rule | tool | summary |\n|---|---|---|---|---|"
					"---|---|\n",
					RECENT_MAX);
				cJSON_ArrayForEach(c, t)
				{
					fprintf(fp, "| %d | %s | %s | %s | ",
						(int)cJSON_GetNumberValue(
						    cJSON_GetObjectItem(c, "seq")),
						jstr(c, "time") ?: "", jstr(c, "kind") ?: "",
						jstr(c, "scanner") ?: "");
					md_cell(fp, jstr(c, "rule"));
					fprintf(fp, " | ");
					md_cell(fp, jstr(c, "tool"));
					fprintf(fp, " | ");
					md_cell(fp, jstr(c, "summary"));
					fprintf(fp, " |\n");
				}
			}
		}
	}
	if (sigline)
		fprintf(fp, "\n---\nSigned: %s\n", sigline);
	else
		fprintf(
		    fp,
		    "\n---\nUnsigned: write a signed copy with `mcpguard assess --out PREFIX`.\n");
}

/* ---- signing ---- */

int assess_sign(const char *json, size_t len, const unsigned char sk[64],
		const unsigned char pk[32], char *sigline, size_t siglen)
{
	size_t dl = sizeof(ASSESS_SIG_DOMAIN) - 1;
	unsigned char sig[64], *msg = xmalloc(dl + len);
	char id[17], pkhex[65], sighex[129];
	static const char d[] = "0123456789abcdef";

	memcpy(msg, ASSESS_SIG_DOMAIN, dl);
	memcpy(msg + dl, json, len);
	crypto_sign_detached(sig, NULL, msg, dl + len, sk);
	free(msg);
	rec_key_id(pk, id);
	for (int i = 0; i < 32; i++) {
		pkhex[2 * i] = d[pk[i] >> 4];
		pkhex[2 * i + 1] = d[pk[i] & 15];
	}
	pkhex[64] = '\0';
	for (int i = 0; i < 64; i++) {
		sighex[2 * i] = d[sig[i] >> 4];
		sighex[2 * i + 1] = d[sig[i] & 15];
	}
	sighex[128] = '\0';
	return snprintf(sigline, siglen, "ed25519 %s %s %s", id, pkhex, sighex) < (int)siglen ? 0
											      : -1;
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return s[2 * n] == '\0' || s[2 * n] == '\n' || s[2 * n] == ' ' ? 0 : -1;
}

int assess_verify(const char *json_path, const unsigned char *pinned, char *msg, size_t msglen)
{
	char sigpath[PATH_MAX], line[512], id[17], kid[32], pkhex[80], sighex[160];
	unsigned char pk[32], sig[64], *m;
	FILE *fp;
	long n;
	size_t dl = sizeof(ASSESS_SIG_DOMAIN) - 1;
	int ok;

	snprintf(sigpath, sizeof(sigpath), "%s.sig", json_path);
	if (!(fp = fopen(sigpath, "re")) || !fgets(line, sizeof(line), fp)) {
		snprintf(msg, msglen, "%s: %s", sigpath, fp ? "empty" : strerror(errno));
		if (fp)
			fclose(fp);
		return 2;
	}
	fclose(fp);
	if (sscanf(line, "ed25519 %31s %79s %159s", kid, pkhex, sighex) != 3 ||
	    strlen(pkhex) != 64 || strlen(sighex) != 128 || unhex(pkhex, pk, 32) < 0 ||
	    unhex(sighex, sig, 64) < 0) {
		snprintf(msg, msglen, "%s: not an assessment signature", sigpath);
		return 1;
	}
	rec_key_id(pk, id);
	if (strcmp(id, kid) != 0) {
		snprintf(msg, msglen, "%s: key id does not match its public key", sigpath);
		return 1;
	}
	if (pinned && memcmp(pinned, pk, 32) != 0) {
		snprintf(msg, msglen, "signed by key %s, not the trusted --pubkey", id);
		return 1;
	}
	if (!(fp = fopen(json_path, "re"))) {
		snprintf(msg, msglen, "%s: %s", json_path, strerror(errno));
		return 2;
	}
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	m = xmalloc(dl + (size_t)(n > 0 ? n : 0) + 1);
	memcpy(m, ASSESS_SIG_DOMAIN, dl);
	ok = n >= 0 && fread(m + dl, 1, (size_t)n, fp) == (size_t)n;
	fclose(fp);
	if (sodium_init() < 0)
		ok = 0;
	ok = ok && crypto_sign_verify_detached(sig, m, dl + (size_t)n, pk) == 0;
	free(m);
	if (!ok) {
		snprintf(msg, msglen, "%s: signature does not verify: the report was changed",
			 json_path);
		return 1;
	}
	snprintf(msg, msglen, "%s: signature good, key %s%s", json_path, id,
		 pinned ? " (matches the trusted --pubkey)" : " (pass --pubkey to pin it)");
	return 0;
}

/* ---- command ---- */

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, data, len) == (ssize_t)len;
	if (close(fd) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static int usage(void)
{
	fprintf(stderr, "usage: mcpguard assess [--policy FILE] [--log FILE]... [--baselines DIR] "
			"[--json] [--out PREFIX] [--key FILE]\n"
			"  --log: flight-recorder files in order (rotated .gz first)\n"
			"  --out: write PREFIX.json, PREFIX.md and PREFIX.json.sig (signed)\n");
	return 2;
}

int cmd_assess(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"log", required_argument, NULL, 'l'},
	    {"baselines", required_argument, NULL, 'b'},
	    {"json", no_argument, NULL, 'j'},
	    {"out", required_argument, NULL, 'o'},
	    {"key", required_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *out = NULL, *key = NULL, **logs = NULL, *desc;
	char *bdir = NULL, err[512], host[256] = "", when[32];
	size_t nlogs = 0;
	int json = 0, c, rc = 0;
	struct policy *pol;
	cJSON *r;
	char *text;
	time_t now = time(NULL);
	struct tm tm;
	enum doctor_mode mode;
	char sigline[400] = "";

	optind = 1;
	while ((c = getopt_long(argc, argv, "p:l:b:jo:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'l':
			logs = xreallocarray(logs, nlogs + 1, sizeof(*logs));
			logs[nlogs++] = optarg;
			break;
		case 'b':
			free(bdir);
			bdir = xstrdup(optarg);
			break;
		case 'j':
			json = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		default:
			free(logs);
			free(bdir);
			return usage();
		}
	}
	if (optind != argc) {
		free(logs);
		free(bdir);
		return usage();
	}
	if (!(pol = policy_load(policy_path, err, sizeof(err)))) {
		fprintf(stderr, "mcpguard assess: policy: %s\n", err);
		free(logs);
		free(bdir);
		return 2;
	}
	if (!bdir && pol->baseline_dir)
		bdir = xstrdup(pol->baseline_dir);
	if (!bdir)
		bdir = default_baselines();
	gethostname(host, sizeof(host) - 1);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	mode = doctor_run(&desc);
	r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "mcpguard_assessment", 1);
	cJSON_AddStringToObject(r, "generated", when);
	cJSON_AddStringToObject(r, "host", host);
	cJSON_AddItemToObject(r, "enforcement", doctor_json(mode, desc));
	cJSON_AddItemToObject(r, "policy", policy_part(pol, policy_path));
	cJSON_AddStringToObject(r, "baselines_dir", bdir ? bdir : "");
	cJSON_AddItemToObject(r, "servers", bdir ? servers_part(bdir) : cJSON_CreateArray());
	cJSON_AddItemToObject(r, "findings", findings_part(logs, nlogs));
	policy_free(pol);

	text = cJSON_PrintUnformatted(r);
	if (out) {
		char keypath[PATH_MAX], path[PATH_MAX];
		unsigned char sk[64], pk[32];
		FILE *md;
		size_t tl = strlen(text);

		if (key)
			mg_strlcpy(keypath, key, sizeof(keypath));
		if ((!key && rec_default_key_path(keypath, sizeof(keypath)) < 0) ||
		    rec_load_or_create_key(keypath, sk, pk, err, sizeof(err)) < 0) {
			fprintf(stderr, "mcpguard assess: signing key: %s\n",
				key || err[0] ? err : "no key location");
			rc = 2;
			goto done;
		}
		assess_sign(text, tl, sk, pk, sigline, sizeof(sigline));
		sodium_memzero(sk, sizeof(sk));
		snprintf(path, sizeof(path), "%s.json", out);
		if (write_file(path, text, tl) < 0) {
			fprintf(stderr, "mcpguard assess: %s: %s\n", path, strerror(errno));
			rc = 2;
			goto done;
		}
		snprintf(path, sizeof(path), "%s.json.sig", out);
		{
			char sl[410];
			int n = snprintf(sl, sizeof(sl), "%s\n", sigline);

			if (write_file(path, sl, (size_t)n) < 0) {
				fprintf(stderr, "mcpguard assess: %s: %s\n", path, strerror(errno));
				rc = 2;
				goto done;
			}
		}
		snprintf(path, sizeof(path), "%s.md", out);
		if (!(md = fopen(path, "we"))) {
			fprintf(stderr, "mcpguard assess: %s: %s\n", path, strerror(errno));
			rc = 2;
			goto done;
		}
		assess_markdown(md, r, sigline);
		if (fclose(md) != 0) {
			rc = 2;
			goto done;
		}
		fprintf(stderr, "mcpguard assess: wrote %s.json, %s.json.sig, %s.md\n", out, out,
			out);
	}
	if (json) {
		char *pretty = cJSON_Print(r);

		puts(pretty ? pretty : "");
		free(pretty);
	} else {
		assess_markdown(stdout, r, sigline[0] ? sigline : NULL);
	}
done:
	free(text);
	cJSON_Delete(r);
	free(logs);
	free(bdir);
	return rc;
}
