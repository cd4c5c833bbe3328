#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pipeline.h"
#include "xmalloc.h"

#include "binding.h"
#include "chain.h"
#include "dlp.h"
#include "drift.h"
#include "guard.h"
#include "injection.h"
#include "jsonparse.h"
#include "jsonsafe.h"
#include "pmetrics.h"
#include "poison.h"
#include "shell.h"
#include "ssrf.h"

static const char *dir_name[2] = {"client->server", "server->client"};

static int prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

enum pol_action pipeline_action(const struct policy *pol, const struct finding *f)
{
	enum pol_action a;
	const char *s = f->scanner ? f->scanner : "";

	if (f->action != PA_ALLOW)
		return f->action; /* a policy rule with its own action */
	if (prefix(s, "poison") || prefix(s, "drift"))
		a = pol->tool_scanning.action;
	else if (prefix(s, "dlp") || prefix(s, "framing"))
		a = pol->input_scanning.action;
	else if (prefix(s, "shell") || prefix(s, "tool"))
		a = pol->tool_policy.action;
	else if (prefix(s, "inject"))
		a = pol->response_scanning.action;
	else if (prefix(s, "ssrf"))
		a = pol->ssrf.action;
	else if (prefix(s, "chain"))
		a = pol->tool_chain.action;
	else if (prefix(s, "binding"))
		a = pol->session_binding.enabled ? PA_BLOCK : PA_WARN;
	else
		a = PA_BLOCK; /* a scanner this table does not know: fail closed */
	if (f->confidence == CONF_LOW && a > PA_WARN)
		a = PA_WARN;
	return a;
}

int pipeline_init(struct pipeline *p, const struct policy *pol, struct findlog *log,
		  const char *server_id, char **envp, int scan, char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	p->pol = pol;
	p->log = log;
	p->scan = scan;
	jr_table_init(&p->pending[DIR_C2S], 4096);
	jr_table_init(&p->pending[DIR_S2C], 1024);
	if (!scan)
		return 0;
	if (inject_init(err, errlen) != 0)
		return -1;
	if (poison_init(err, errlen) != 0)
		return -1;
	if (dlp_init(envp, err, errlen) != 0)
		return -1;
	if (shell_init(pol, err, errlen) != 0)
		return -1;
	if (pol->tool_scanning.enabled && pol->tool_scanning.detect_drift) {
		p->drift = drift_open(server_id, pol->baseline_dir);
		if (!p->drift) {
			snprintf(
			    err, errlen,
			    "cannot keep drift baselines for '%s' (set baseline_dir in the policy, "
			    "or mcp_tool_scanning.detect_drift: false)",
			    server_id);
			return -1;
		}
	}
	p->binding = binding_new();
	if (pol->tool_chain.enabled)
		p->chain = chain_new(pol);
	return 0;
}

static void withheld_clear(struct pipeline *p)
{
	for (size_t i = 0; i < p->nwithheld; i++)
		free(p->withheld[i]);
	free(p->withheld);
	p->withheld = NULL;
	p->nwithheld = 0;
}

void pipeline_free(struct pipeline *p)
{
	jr_table_free(&p->pending[DIR_C2S]);
	jr_table_free(&p->pending[DIR_S2C]);
	if (p->drift)
		drift_close(p->drift);
	if (p->binding)
		binding_free(p->binding);
	if (p->chain)
		chain_free(p->chain);
	if (p->scan)
		shell_free();
	withheld_clear(p);
	cJSON_Delete(p->tools_pages);
	for (size_t i = 0; i < p->nwithheld_items; i++)
		free(p->withheld_items[i]);
	free(p->withheld_items);
}

void verdict_free(struct verdict *v)
{
	free(v->out);
	free(v->reply);
	memset(v, 0, sizeof(*v));
}

static int is_withheld(const struct pipeline *p, const char *tool)
{
	for (size_t i = 0; i < p->nwithheld; i++)
		if (strcmp(p->withheld[i], tool) == 0)
			return 1;
	return 0;
}

/*
 * A blocked credential leak or high-confidence injection means the server (or
 * what it answers) is hostile: tell the kernel, which quarantines the session's
 * egress, freezes or kills it, as policy says. Once per session.
 */
static void session_verdict(struct pipeline *p, const struct msgctx *c, const struct findings *fs,
			    size_t from)
{
	const char *action = p->pol->session_verdict ? p->pol->session_verdict : "quarantine";
	char err[256], reason[192];

	/* Without a daemon there is no session to act on; that was said once at start. */
	if (!p->guard || !p->guard->session[0] || p->verdict_sent || strcmp(action, "none") == 0)
		return;
	for (size_t i = from; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];

		if (f->action != PA_BLOCK)
			continue;
		if (strcmp(f->scanner, "dlp") != 0 &&
		    !(strcmp(f->scanner, "injection") == 0 && f->confidence == CONF_HIGH))
			continue;
		snprintf(reason, sizeof(reason), "%s/%s at %s", f->scanner, f->rule, f->where);
		p->verdict_sent = 1;
		if (guard_verdict(p->guard, action, reason, err, sizeof(err)) < 0)
			findlog_event(p->log, c, "session-verdict-failed", PA_BLOCK, err);
		else
			findlog_event(p->log, c, action, PA_BLOCK, reason);
		return;
	}
}

/*
 * Map and log every finding made since index `from`; return the strongest
 * action and point *worst at the first finding that carries it.
 */
static enum pol_action judge(struct pipeline *p, const struct msgctx *c, struct findings *fs,
			     size_t from, const struct finding **worst)
{
	enum pol_action best = PA_ALLOW;

	if (worst)
		*worst = NULL;
	for (size_t i = from; i < fs->n; i++) {
		struct finding *f = &fs->v[i];

		f->action = pipeline_action(p->pol, f);
		findlog_finding(p->log, c, f);
		pmetrics_finding(p->metrics, f);
		if (f->action > best ||
		    (worst && !*worst && f->action == best && best > PA_ALLOW)) {
			best = f->action;
			if (worst)
				*worst = f;
		}
	}
	if (best == PA_BLOCK)
		session_verdict(p, c, fs, from);
	if (fs->dropped) {
		/* Findings past the array were never judged: one of them could be the real
		 * secret behind a screen of decoys. Fail closed, also for a later part of a
		 * message judged on its own (a tool of a tools/list): its findings may be
		 * the ones that were only counted. */
		static struct finding overflow;
		char d[64];

		snprintf(d, sizeof(d), "%zu further findings not recorded", fs->dropped);
		findlog_event(p->log, c, "findings-dropped", PA_BLOCK, d);
		memset(&overflow, 0, sizeof(overflow));
		overflow.scanner = "pipeline";
		mg_strlcpy(overflow.rule, "too-many-findings", sizeof(overflow.rule));
		overflow.confidence = CONF_HIGH;
		overflow.action = PA_BLOCK;
		snprintf(overflow.detail, sizeof(overflow.detail),
			 "more than %d findings in one message; %zu not judged", MG_MAX_FINDINGS,
			 fs->dropped);
		best = PA_BLOCK;
		if (worst)
			*worst = &overflow;
	}
	return best;
}

static cJSON *block_data(const struct finding *f)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "scanner", f->scanner ? f->scanner : "?");
	cJSON_AddStringToObject(d, "rule", f->rule);
	cJSON_AddStringToObject(d, "where", f->where);
	cJSON_AddStringToObject(d, "detail", f->detail);
	return d;
}

static char *block_line(const char *idtext, const char *what, const struct finding *f, size_t *len)
{
	char msg[512];
	cJSON *d = block_data(f);
	char *line;

	snprintf(msg, sizeof(msg), "mcpguard blocked %s: %s rule '%s' (%s)", what,
		 f->scanner ? f->scanner : "?", f->rule, f->detail);
	line = jr_error_line(idtext, JR_BLOCKED, msg, d, len);
	cJSON_Delete(d);
	return line;
}

/* ---- Redaction (policy action strip) ---- */

/* Resolve a finding's path such as "result.content[0].text" in the message m. */
static cJSON *path_get(cJSON *m, const char *path)
{
	const char *s = path;
	cJSON *cur = m;

	while (*s && cur) {
		if (*s == '[') {
			char *end;
			long idx = strtol(s + 1, &end, 10);

			if (*end != ']' || idx < 0)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
			s = end + 1;
			continue;
		}
		if (*s == '.')
			s++;
		char key[128];
		size_t n = strcspn(s, ".[");

		if (n == 0 || n >= sizeof(key))
			return NULL;
		memcpy(key, s, n);
		key[n] = '\0';
		cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		s += n;
	}
	return cur;
}

/*
 * A member name with '.', '[' or ']' makes finding paths ambiguous: for
 * {"a":{"b":"x"},"a.b":"secret"} "a.b" names both strings, and path_get would
 * redact the wrong one while the secret went out.
 */
static int path_ambiguous(const cJSON *v)
{
	for (const cJSON *c = v ? v->child : NULL; c; c = c->next) {
		if (c->string && strpbrk(c->string, ".[]"))
			return 1;
		if (path_ambiguous(c))
			return 1;
	}
	return 0;
}

/* Replace every string a stripped finding points at. -1 if one cannot be found. */
static int redact_findings(cJSON *root, const struct findings *fs, size_t from)
{
	if (path_ambiguous(root))
		return -1;
	for (size_t i = from; i < fs->n; i++) {
		const struct finding *f = &fs->v[i];
		char repl[160];
		cJSON *v;

		if (f->action != PA_STRIP)
			continue;
		v = path_get(root, f->where);
		if (!v || !cJSON_IsString(v))
			return -1;
		snprintf(repl, sizeof(repl), "[redacted by mcpguard: %s]", f->rule);
		if (!cJSON_SetValuestring(v, repl))
			return -1;
	}
	return 0;
}

/* ---- tools/list ---- */

static void withhold(struct pipeline *p, const char *name)
{
	if (!name || is_withheld(p, name))
		return;
	p->withheld = xreallocarray(p->withheld, p->nwithheld + 1, sizeof(*p->withheld));
	p->withheld[p->nwithheld++] = xstrdup(name);
}

static const char *tool_name(const cJSON *tool)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(tool, "name");

	return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* Drop the findings from index `from` on whose rule is (or is not, keep_only) `rule`. */
static void filter_rule(struct findings *fs, size_t from, const char *rule, int keep_only)
{
	size_t o = from;

	for (size_t i = from; i < fs->n; i++)
		if ((strcmp(fs->v[i].rule, rule) == 0) == (keep_only != 0))
			fs->v[o++] = fs->v[i];
	fs->n = o;
}

/*
 * Drift first (a changed tool is put back to its first-seen definition when
 * blocked), then poisoning on what the client would get, then session binding.
 * A paginated listing (nextCursor) is judged page by page for drift and
 * poisoning; what needs the whole list (tools removed, session binding) is
 * judged on the union when the last page arrives, so page two is not "added"
 * and page one's tools are not "removed". Returns 1 if the page was changed.
 */
static int scan_tools_list(struct pipeline *p, const struct msgctx *c, cJSON *result, int cont,
			   struct findings *fs)
{
	cJSON *tools = cJSON_GetObjectItemCaseSensitive(result, "tools"), *all = NULL;
	int n, changed = 0, more, multi, off = 0;
	char *drop;

	if (!cJSON_IsArray(tools))
		return 0;
	more = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(result, "nextCursor"));
	if (!cont) {
		withheld_clear(p);
		cJSON_Delete(p->tools_pages);
		p->tools_pages = NULL;
	}
	multi = more || (cont && p->tools_pages);
	n = cJSON_GetArraySize(tools);
	drop = xcalloc((size_t)n + 1, 1);
	if (multi) {
		/* The server's list so far, this page included, before any change of ours. */
		if (!p->tools_pages)
			p->tools_pages = cJSON_CreateArray();
		off = cJSON_GetArraySize(p->tools_pages);
		for (int i = 0; i < n; i++)
			cJSON_AddItemToArray(p->tools_pages,
					     cJSON_Duplicate(cJSON_GetArrayItem(tools, i), 1));
		if (!more)
			all = p->tools_pages;
	}

	if (p->drift) {
		enum drift_verdict *dv = xcalloc((size_t)n + 1, sizeof(*dv));
		size_t from = fs->n;
		enum pol_action a;

		drift_check(p->drift, tools, dv, fs);
		if (multi)
			filter_rule(fs, from, "tool-removed", 0);
		if (all) {
			/* Removed tools: only the whole list can tell. */
			enum drift_verdict *uv =
			    xcalloc((size_t)cJSON_GetArraySize(all) + 1, sizeof(*uv));
			size_t ufrom = fs->n;

			drift_check(p->drift, all, uv, fs);
			filter_rule(fs, ufrom, "tool-removed", 1);
			free(uv);
		}
		a = judge(p, c, fs, from, NULL);
		if (a >= PA_STRIP) {
			for (int i = 0; i < n; i++) {
				cJSON *t = cJSON_GetArrayItem(tools, i), *base;
				const char *name = tool_name(t);

				if (dv[i] != DRIFT_CHANGED && dv[i] != DRIFT_CHANGED_STRUCT)
					continue;
				base = name ? drift_baseline_tool(p->drift, name) : NULL;
				if (base)
					cJSON_ReplaceItemInArray(tools, i, base);
				else
					drop[i] = 1;
				changed = 1;
			}
		}
		free(dv);
	}
	if (p->pol->tool_scanning.enabled) {
		for (int i = 0; i < n; i++) {
			cJSON *t = cJSON_GetArrayItem(tools, i);
			char where[64];
			size_t from = fs->n;

			snprintf(where, sizeof(where), "result.tools[%d]", i);
			if (!poison_scan_tool(t, where, fs))
				continue;
			if (judge(p, c, fs, from, NULL) >= PA_STRIP) {
				drop[i] = 1;
				changed = 1;
			}
		}
	}
	if (p->binding && (!multi || all)) {
		cJSON *list = all ? all : tools;
		int total = cJSON_GetArraySize(list);
		int *added = xcalloc((size_t)total + 1, sizeof(*added));
		size_t from = fs->n;

		binding_check(p->binding, list, added, fs);
		if (judge(p, c, fs, from, NULL) >= PA_STRIP) {
			for (int i = 0; i < total; i++) {
				if (!added[i])
					continue;
				if (i >= off) {
					drop[i - off] = 1;
					changed = 1;
				} else {
					/* On a page already delivered: its calls are refused. */
					withhold(p, tool_name(cJSON_GetArrayItem(list, i)));
				}
			}
		}
		free(added);
	}
	if (changed) {
		cJSON *keep = cJSON_CreateArray(), *t;

		for (int i = 0; (t = cJSON_DetachItemFromArray(tools, 0)); i++) {
			if (i < n && drop[i]) {
				withhold(p, tool_name(t));
				cJSON_Delete(t);
			} else {
				cJSON_AddItemToArray(keep, t);
			}
		}
		cJSON_ReplaceItemInObjectCaseSensitive(result, "tools", keep);
		tools = keep;
	}
	if (p->chain && (!multi || all))
		chain_learn_tools(p->chain, all ? all : tools);
	if (all) {
		cJSON_Delete(p->tools_pages);
		p->tools_pages = NULL;
	}
	p->list_changed = 0;
	free(drop);
	return changed;
}

/* ---- prompts, resources, templates, initialize ---- */

/* Withheld prompts and resources remembered per session (a bound on a hostile server). */
#define PIPE_MAX_WITHHELD 4096

static int item_withheld(const struct pipeline *p, const char *kind, const char *key)
{
	size_t kl = strlen(kind);

	for (size_t i = 0; i < p->nwithheld_items; i++) {
		const char *w = p->withheld_items[i];

		if (strncmp(w, kind, kl) == 0 && w[kl] == ':' && strcmp(w + kl + 1, key) == 0)
			return 1;
	}
	return 0;
}

/*
 * Like a poisoned tool, a poisoned prompt, resource or template is taken out of
 * its list (and later requests for it refused), and poisoned initialize
 * instructions are dropped, instead of failing the whole response. Returns -1
 * if a blocking finding points somewhere that cannot be withheld: the caller
 * then blocks the response.
 */
static int withhold_items(struct pipeline *p, cJSON *result, const struct findings *fs)
{
	static const struct {
		const char *key, *kind, *id;
	} lists[] = {
	    {"prompts", "prompt", "name"},
	    {"resources", "resource", "uri"},
	    {"resourceTemplates", "template", "uriTemplate"},
	};
	char *drop[3] = {NULL, NULL, NULL};
	int n[3] = {0, 0, 0}, rc = 0, drop_instructions = 0;

	for (size_t l = 0; l < 3; l++) {
		n[l] = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(result, lists[l].key));
		drop[l] = xcalloc((size_t)n[l] + 1, 1);
	}
	for (size_t i = 0; i < fs->n && rc == 0; i++) {
		const struct finding *f = &fs->v[i];
		const char *w = f->where;
		size_t l;

		if (f->action < PA_STRIP)
			continue;
		if (strncmp(w, "result.instructions", 19) == 0 && (w[19] == '\0' || w[19] == '.')) {
			drop_instructions = 1;
			continue;
		}
		for (l = 0; l < 3; l++) {
			size_t kl = strlen(lists[l].key);

			if (strncmp(w, "result.", 7) == 0 &&
			    strncmp(w + 7, lists[l].key, kl) == 0 && w[7 + kl] == '[')
				break;
		}
		if (l == 3) {
			rc = -1;
			break;
		}
		long idx = strtol(w + 8 + strlen(lists[l].key), NULL, 10);

		if (idx < 0 || idx >= n[l])
			rc = -1;
		else
			drop[l][idx] = 1;
	}
	for (size_t l = 0; l < 3 && rc == 0; l++) {
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(result, lists[l].key), *keep, *it;

		if (!memchr(drop[l], 1, (size_t)n[l]))
			continue;
		keep = cJSON_CreateArray();
		for (int i = 0; (it = cJSON_DetachItemFromArray(arr, 0)); i++) {
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, lists[l].id);

			if (i < n[l] && drop[l][i]) {
				/* Once per item: a client polling the list must not grow this. */
				int fresh = cJSON_IsString(id) &&
					    !item_withheld(p, lists[l].kind, id->valuestring);

				if (fresh && p->nwithheld_items >= PIPE_MAX_WITHHELD) {
					/* A server renaming its poisoned items without end: fail
					 * closed. */
					p->withheld_full = 1;
				} else if (fresh) {
					char *e;

					xasprintf(&e, "%s:%s", lists[l].kind, id->valuestring);
					p->withheld_items =
					    xreallocarray(p->withheld_items, p->nwithheld_items + 1,
							  sizeof(char *));
					p->withheld_items[p->nwithheld_items++] = e;
				}
				cJSON_Delete(it);
			} else {
				cJSON_AddItemToArray(keep, it);
			}
		}
		cJSON_ReplaceItemInObjectCaseSensitive(result, lists[l].key, keep);
	}
	if (rc == 0 && drop_instructions)
		cJSON_DeleteItemFromObjectCaseSensitive(result, "instructions");
	for (size_t l = 0; l < 3; l++)
		free(drop[l]);
	return rc;
}

/* ---- messages ---- */

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

static void forward_or_replace(struct verdict *v, cJSON *m, int changed)
{
	if (!changed) {
		v->kind = V_FORWARD;
		return;
	}
	v->kind = V_REPLACE;
	v->out = jr_line(m, &v->outlen);
}

/* Findings on a request from the client (and on the client's answers to the server). */
static void scan_client_params(struct pipeline *p, const char *method, const cJSON *params,
			       struct findings *fs, const char **tool)
{
	if (p->pol->input_scanning.enabled && params)
		dlp_scan_json(params, "params", fs);
	if (method && p->withheld_full &&
	    (strcmp(method, "prompts/get") == 0 || strcmp(method, "resources/read") == 0))
		findings_add(fs, "tool-policy", "withheld-overflow", CONF_HIGH, "params",
			     "this server had more than %d prompts and resources withheld; none "
			     "is served any more",
			     PIPE_MAX_WITHHELD);
	if (method && p->nwithheld_items) {
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(params, "name");
		const cJSON *uri = cJSON_GetObjectItemCaseSensitive(params, "uri");

		if (strcmp(method, "prompts/get") == 0 && cJSON_IsString(nm) &&
		    item_withheld(p, "prompt", nm->valuestring))
			findings_add(fs, "tool-policy", "withheld-prompt", CONF_HIGH, "params.name",
				     "prompt '%.64s' was withheld from prompts/list by mcpguard",
				     nm->valuestring);
		if (strcmp(method, "resources/read") == 0 && cJSON_IsString(uri) &&
		    item_withheld(p, "resource", uri->valuestring))
			findings_add(
			    fs, "tool-policy", "withheld-resource", CONF_HIGH, "params.uri",
			    "resource '%.64s' was withheld from resources/list by mcpguard",
			    uri->valuestring);
	}
	if (!method || strcmp(method, "tools/call") != 0)
		return;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(params, "name");
	const cJSON *args = cJSON_GetObjectItemCaseSensitive(params, "arguments");

	if (!cJSON_IsString(name)) {
		findings_add(fs, "framing", "tools-call-without-name", CONF_HIGH, "params.name",
			     "tools/call names no tool");
		return;
	}
	*tool = name->valuestring;
	if (is_withheld(p, name->valuestring))
		findings_add(fs, "tool-policy", "withheld-tool", CONF_HIGH, "params.name",
			     "tool '%.64s' was withheld from tools/list by mcpguard",
			     name->valuestring);
	if (p->pol->ssrf.enabled && args)
		ssrf_scan_json(args, "params.arguments", p->pol->ssrf.resolve, fs);
	if (p->pol->tool_policy.enabled)
		shell_scan_call(name->valuestring, args, fs);
	if (p->chain)
		chain_observe(p->chain, name->valuestring, args, fs);
}

static void scan_server_value(struct pipeline *p, const cJSON *v, const char *where,
			      struct findings *fs)
{
	if (p->pol->response_scanning.enabled && v)
		inject_scan_json(v, where, fs);
}

static int is_list_method(const char *m)
{
	return strcmp(m, "prompts/list") == 0 || strcmp(m, "resources/list") == 0 ||
	       strcmp(m, "resources/templates/list") == 0 || strcmp(m, "initialize") == 0;
}

static void parse_error(struct pipeline *p, enum direction dir, const char *idtext, const char *why,
			struct verdict *v)
{
	struct msgctx c = {dir_name[dir], "invalid", NULL, idtext, NULL};
	enum pol_action a = p->pol->input_scanning.on_parse_error;

	findlog_event(p->log, &c, "malformed-message", a, why);
	if (a < PA_STRIP) {
		v->kind = V_FORWARD;
		return;
	}
	p->nblocked[dir]++;
	v->kind = V_DROP;
	if (dir == DIR_C2S) {
		char msg[256];

		snprintf(msg, sizeof(msg), "mcpguard blocked a malformed message: %s", why);
		v->reply = jr_error_line(idtext, idtext ? JR_INVALID_REQUEST : JR_PARSE_ERROR, msg,
					 NULL, &v->replylen);
	}
}

/*
 * A cancelled request will not be answered (MCP cancellation): it is no longer
 * outstanding, so the table stays bounded and a late answer counts as unsolicited.
 */
static void cancelled(struct jr_table *t, const char *method, const cJSON *m)
{
	const cJSON *rid;
	struct jr_pending pend;
	char *id;

	if (strcmp(method, "notifications/cancelled") != 0)
		return;
	rid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "params"),
					       "requestId");
	if (!cJSON_IsString(rid) && !cJSON_IsNumber(rid))
		return;
	id = jr_id_text(rid);
	if (id && jr_table_take(t, id, &pend) == 0)
		jr_pending_free(&pend);
	free(id);
}

static void client_message(struct pipeline *p, cJSON *m, enum jr_kind k, char *idtext,
			   const char *method, struct verdict *v)
{
	struct msgctx c = {dir_name[DIR_C2S], NULL, method, idtext, NULL};
	struct findings fs;
	const struct finding *worst = NULL;
	const char *tool = NULL;
	enum pol_action a = PA_ALLOW;
	struct jr_pending pend = {0};
	int changed = 0;

	fs.n = fs.dropped = 0;
	if (k == JR_RESPONSE) {
		c.kind = "response";
		if (jr_table_take(&p->pending[DIR_S2C], idtext, &pend) != 0) {
			findlog_event(p->log, &c, "unsolicited-response", PA_BLOCK,
				      "the server has no outstanding request with this id");
			p->nblocked[DIR_C2S]++;
			v->kind = V_DROP;
			return;
		}
		c.method = pend.method;
		if (p->scan) {
			const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "result");

			if (p->pol->input_scanning.enabled && r)
				dlp_scan_json(r, "result", &fs);
			a = judge(p, &c, &fs, 0, &worst);
		}
		if (a == PA_STRIP && redact_findings(m, &fs, 0) == 0) {
			changed = 1;
		} else if (a >= PA_STRIP) {
			/* The server still gets an answer to its request: an error. */
			p->nblocked[DIR_C2S]++;
			v->kind = V_REPLACE;
			v->out = block_line(idtext, "the client's response", worst, &v->outlen);
			jr_pending_free(&pend);
			return;
		}
		jr_pending_free(&pend);
		forward_or_replace(v, m, changed);
		return;
	}

	c.kind = k == JR_REQUEST ? "request" : "notification";
	if (p->scan) {
		scan_client_params(p, method, cJSON_GetObjectItemCaseSensitive(m, "params"), &fs,
				   &tool);
		c.tool = tool;
		a = judge(p, &c, &fs, 0, &worst);
	} else if (strcmp(method, "tools/call") == 0) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(m, "params"), "name");

		tool = cJSON_IsString(n) ? n->valuestring : NULL;
	}
	if (a == PA_STRIP && redact_findings(m, &fs, 0) == 0) {
		changed = 1;
	} else if (a >= PA_STRIP) {
		p->nblocked[DIR_C2S]++;
		v->kind = V_DROP;
		if (k == JR_REQUEST)
			v->reply = block_line(idtext, "this request", worst, &v->replylen);
		return;
	}
	if (k == JR_REQUEST) {
		int r = jr_table_add(&p->pending[DIR_C2S], idtext, method, tool);

		if (r == 0 && strcmp(method, "tools/list") == 0 &&
		    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(m, "params"),
						     "cursor"))
			p->pending[DIR_C2S].v[p->pending[DIR_C2S].n - 1].cursor = 1;

		if (r != 0) {
			const char *why = r == -1 ? "a request with this id is already outstanding"
						  : "too many outstanding requests";

			findlog_event(p->log, &c, "bad-request-id", PA_BLOCK, why);
			p->nblocked[DIR_C2S]++;
			v->kind = V_DROP;
			/* Answering a duplicate id would confuse the first request's answer. */
			if (r == -2)
				v->reply = jr_error_line(idtext, JR_INVALID_REQUEST, why, NULL,
							 &v->replylen);
			return;
		}
		if (tool) /* a tools/call on its way to the server: recorded, names only */
			findlog_allow(
			    p->log, &c, tool, a,
			    cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(m, "params"), "arguments"));
	} else {
		cancelled(&p->pending[DIR_C2S], method, m);
	}
	forward_or_replace(v, m, changed);
}

static void server_message(struct pipeline *p, cJSON *m, enum jr_kind k, char *idtext,
			   const char *method, struct verdict *v)
{
	struct msgctx c = {dir_name[DIR_S2C], NULL, method, idtext, NULL};
	struct findings fs;
	const struct finding *worst = NULL;
	enum pol_action a = PA_ALLOW;
	struct jr_pending pend = {0};
	int changed = 0;

	fs.n = fs.dropped = 0;
	if (k == JR_RESPONSE) {
		cJSON *result = cJSON_GetObjectItemCaseSensitive(m, "result");
		cJSON *error = cJSON_GetObjectItemCaseSensitive(m, "error");

		c.kind = "response";
		if (jr_table_take(&p->pending[DIR_C2S], idtext, &pend) != 0) {
			findlog_event(p->log, &c, "unsolicited-response", PA_BLOCK,
				      "the client has no outstanding request with this id");
			p->nblocked[DIR_S2C]++;
			v->kind = V_DROP;
			return;
		}
		c.method = pend.method;
		c.tool = pend.tool;
		if (p->scan) {
			if (error) {
				scan_server_value(p, error, "error", &fs);
			} else if (strcmp(pend.method, "tools/list") == 0) {
				changed = scan_tools_list(p, &c, result, pend.cursor, &fs);
			} else if (is_list_method(pend.method)) {
				if (p->pol->tool_scanning.enabled)
					poison_scan_result(pend.method, result, &fs);
			} else {
				scan_server_value(p, result, "result", &fs);
			}
			/* tools/list findings were judged per tool; only the rest decide here. */
			a = strcmp(pend.method, "tools/list") == 0 ? PA_ALLOW
								   : judge(p, &c, &fs, 0, &worst);
			/*
			 * Items are withheld by their findings: when some were only
			 * counted (too many), the list cannot be cleaned, so it is blocked.
			 */
			if (a >= PA_STRIP && !error && is_list_method(pend.method) && !fs.dropped &&
			    withhold_items(p, result, &fs) == 0) {
				changed = 1;
				a = PA_ALLOW;
			}
		}
		if (a == PA_STRIP && redact_findings(m, &fs, 0) == 0) {
			changed = 1;
		} else if (a >= PA_STRIP) {
			p->nblocked[DIR_S2C]++;
			v->kind = V_REPLACE;
			v->out = block_line(idtext, "the server's response", worst, &v->outlen);
			jr_pending_free(&pend);
			return;
		}
		jr_pending_free(&pend);
		forward_or_replace(v, m, changed);
		return;
	}

	c.kind = k == JR_REQUEST ? "request" : "notification";
	if (k == JR_NOTIFICATION && strcmp(method, "notifications/tools/list_changed") == 0)
		p->list_changed = 1; /* the next tools/list goes through drift and binding again */
	if (p->scan) {
		scan_server_value(p, cJSON_GetObjectItemCaseSensitive(m, "params"), "params", &fs);
		a = judge(p, &c, &fs, 0, &worst);
	}
	if (a == PA_STRIP && redact_findings(m, &fs, 0) == 0) {
		changed = 1;
	} else if (a >= PA_STRIP) {
		p->nblocked[DIR_S2C]++;
		v->kind = V_DROP;
		if (k == JR_REQUEST)
			v->reply = block_line(idtext, "the server's request", worst, &v->replylen);
		return;
	}
	if (k == JR_NOTIFICATION)
		cancelled(&p->pending[DIR_S2C], method, m);
	if (k == JR_REQUEST && jr_table_add(&p->pending[DIR_S2C], idtext, method, NULL) != 0) {
		findlog_event(p->log, &c, "bad-request-id", PA_BLOCK,
			      "duplicate or too many outstanding server requests");
		p->nblocked[DIR_S2C]++;
		v->kind = V_DROP;
		return;
	}
	forward_or_replace(v, m, changed);
}

static void judge_line(struct pipeline *p, enum direction dir, const char *line, size_t len,
		       struct verdict *v);

void pipeline_line(struct pipeline *p, enum direction dir, const char *line, size_t len,
		   struct verdict *v)
{
	struct timespec t0, t1;

	if (!p->metrics) {
		judge_line(p, dir, line, len, v);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	judge_line(p, dir, line, len, v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!blank(line, len))
		pmetrics_message(p->metrics, dir, len,
				 (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
}

static void judge_line(struct pipeline *p, enum direction dir, const char *line, size_t len,
		       struct verdict *v)
{
	const char *end = NULL, *method = NULL;
	size_t nul_at = SIZE_MAX;
	char *idtext = NULL, why[160];
	enum jr_kind k;
	cJSON *m;

	memset(v, 0, sizeof(*v));
	if (blank(line, len)) {
		v->kind = V_DROP; /* not a message: nothing to deliver */
		return;
	}
	p->nmsg[dir]++;
	m = jp_parse_nul(line, len, &end, &nul_at);
	if (!m) {
		parse_error(p, dir, NULL, "not valid JSON", v);
		return;
	}
	if (!blank(end, len - (size_t)(end - line))) {
		parse_error(p, dir, NULL, "bytes after the JSON value", v);
		cJSON_Delete(m);
		return;
	}
	k = jr_classify(m, &idtext, &method);
	if (k != JR_INVALID && json_ambiguous_parsed(m, nul_at, why, sizeof(why))) {
		parse_error(p, dir, idtext, why, v);
	} else if (k == JR_INVALID) {
		parse_error(p, dir, idtext,
			    cJSON_IsArray(m)
				? "JSON-RPC batches are not accepted"
				: "not a JSON-RPC 2.0 request, notification or response",
			    v);
	} else if (dir == DIR_C2S) {
		client_message(p, m, k, idtext, method, v);
	} else {
		server_message(p, m, k, idtext, method, v);
	}
	free(idtext);
	cJSON_Delete(m);
}

void pipeline_oversize(struct pipeline *p, enum direction dir, const char *idtext, size_t len,
		       struct verdict *v)
{
	struct msgctx c = {dir_name[dir], "oversize", NULL, *idtext ? idtext : NULL, NULL};
	char msg[160];
	struct jr_pending pend;

	memset(v, 0, sizeof(*v));
	p->nmsg[dir]++;
	p->nblocked[dir]++;
	snprintf(msg, sizeof(msg), "mcpguard blocked a message of %zu bytes (limit %zu)", len,
		 p->pol->max_message_bytes);
	findlog_event(p->log, &c, "oversize-message", PA_BLOCK, msg);
	v->kind = V_DROP;
	if (dir == DIR_C2S) {
		v->reply = jr_error_line(idtext, JR_TOO_LARGE, msg, NULL, &v->replylen);
		return;
	}
	/* The client is still owed an answer: it gets the error in place of the response. */
	if (*idtext && jr_table_take(&p->pending[DIR_C2S], idtext, &pend) == 0) {
		jr_pending_free(&pend);
		v->kind = V_REPLACE;
		v->out = jr_error_line(idtext, JR_TOO_LARGE, msg, NULL, &v->outlen);
	}
}

char *pipeline_server_gone(struct pipeline *p, size_t *len)
{
	struct jr_table *t = &p->pending[DIR_C2S];
	char *all = NULL;
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		size_t l;
		char *e =
		    jr_error_line(t->v[i].id, JR_SERVER_GONE,
				  "mcpguard: the MCP server exited before answering", NULL, &l);

		all = xreallocarray(all, 1, n + l + 1);
		memcpy(all + n, e, l + 1);
		n += l;
		free(e);
	}
	jr_table_free(t);
	jr_table_init(t, 4096);
	*len = n;
	return all;
}
