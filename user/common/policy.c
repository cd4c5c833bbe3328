/*
 * Policy loader. The YAML is loaded as a libyaml document (nodes keep their line
 * numbers), then walked against a fixed schema: an unknown key, a wrong type or a
 * bad value stops the load with "FILE:LINE: key 'a.b': what is wrong". Nothing is
 * guessed, so a typo can never silently turn a control off.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

#include "policy.h"
#include "xmalloc.h"

extern const char mg_default_policy[];

#define MAX_POLICY_BYTES (4u << 20)
#define MAX_LIST 4096
#define BASENAME_MAX 63 /* MG_NAME_LEN - 1 in bpf/mcpguard.h */

struct ld {
	yaml_document_t *doc;
	const char *file;
	char *err;
	size_t errlen;
};

static int fail(struct ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(l->err, l->errlen, "%s:%lu: key '%s': %s", l->file,
		 n ? (unsigned long)n->start_mark.line + 1 : 0UL, key, msg);
	return -1;
}

static yaml_node_t *node(struct ld *l, int idx)
{
	return yaml_document_get_node(l->doc, idx);
}

static const char *scalar(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* "a.b" + "c" -> "a.b.c", bounded. */
static void join(char *out, size_t cap, const char *parent, const char *k)
{
	if (parent && *parent)
		snprintf(out, cap, "%s.%s", parent, k);
	else
		snprintf(out, cap, "%s", k);
}

static int get_bool(struct ld *l, yaml_node_t *n, const char *key, bool *out)
{
	const char *s = scalar(n);
	static const char *yes[] = {"true", "yes", "on"}, *no[] = {"false", "no", "off"};

	if (s) {
		for (size_t i = 0; i < 3; i++) {
			if (strcasecmp(s, yes[i]) == 0)
				return *out = true, 0;
			if (strcasecmp(s, no[i]) == 0)
				return *out = false, 0;
		}
	}
	return fail(l, n, key, "expected true or false, got '%s'", s ? s : "(not a scalar)");
}

static int get_uint(struct ld *l, yaml_node_t *n, const char *key, unsigned long long min,
		    unsigned long long max, unsigned long long *out)
{
	const char *s = scalar(n);
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return fail(l, n, key, "expected a number, got '%s'", s ? s : "(not a scalar)");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return fail(l, n, key, "expected a number, got '%s'", s);
	if (v < min || v > max)
		return fail(l, n, key, "%llu is out of range %llu..%llu", v, min, max);
	*out = v;
	return 0;
}

/* allowed: bit mask of (1 << PA_x) that this key accepts. */
static int get_action(struct ld *l, yaml_node_t *n, const char *key, unsigned allowed,
		      enum pol_action *out)
{
	static const struct {
		const char *name;
		enum pol_action a;
	} names[] = {{"allow", PA_ALLOW}, {"warn", PA_WARN},	{"audit", PA_WARN},
		     {"strip", PA_STRIP}, {"redact", PA_STRIP}, {"block", PA_BLOCK},
		     {"deny", PA_BLOCK}};
	const char *s = scalar(n);
	char want[96] = "";

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(s, names[i].name) != 0)
			continue;
		if (!(allowed & (1u << names[i].a)))
			break;
		*out = names[i].a;
		return 0;
	}
	for (int a = PA_ALLOW; a <= PA_BLOCK; a++) {
		if (allowed & (1u << a)) {
			if (*want)
				strncat(want, ", ", sizeof(want) - strlen(want) - 1);
			strncat(want, pol_action_name((enum pol_action)a),
				sizeof(want) - strlen(want) - 1);
		}
	}
	return fail(l, n, key, "expected one of %s, got '%s'", want, s ? s : "(not a scalar)");
}

/* A rule that names no action takes its section's, decided after the whole file is read. */
#define PA_UNSET ((enum pol_action)0x7f)

static void init_tool_rule(void *el)
{
	((struct pol_tool_rule *)el)->action = PA_UNSET;
}

static void init_chain(void *el)
{
	((struct pol_chain *)el)->action = PA_UNSET;
}

static void init_egress_rule(void *el)
{
	((struct pol_egress_rule *)el)->action = PA_UNSET;
}

static void init_file_rule(void *el)
{
	((struct pol_file_rule *)el)->action = PA_UNSET;
}

#define ACT_ANY ((1u << PA_ALLOW) | (1u << PA_WARN) | (1u << PA_STRIP) | (1u << PA_BLOCK))
#define ACT_WB ((1u << PA_WARN) | (1u << PA_BLOCK))
#define ACT_KERNEL ((1u << PA_ALLOW) | (1u << PA_WARN) | (1u << PA_BLOCK))

static int get_str(struct ld *l, yaml_node_t *n, const char *key, char **out)
{
	const char *s = scalar(n);

	if (!s)
		return fail(l, n, key, "expected a string");
	if (n->data.scalar.length != strlen(s))
		return fail(l, n, key, "string contains a NUL byte");
	free(*out);
	*out = xstrdup(s);
	return 0;
}

/* A sequence of scalars, or one scalar meaning a list of one. Replaces *out. */
static int get_strlist(struct ld *l, yaml_node_t *n, const char *key, char ***out, size_t *nout)
{
	char **v = NULL;
	size_t cnt = 0;

	for (size_t i = 0; i < *nout; i++)
		free((*out)[i]);
	free(*out);
	*out = NULL;
	*nout = 0;
	if (n->type == YAML_SCALAR_NODE) {
		v = xcalloc(1, sizeof(*v));
		v[0] = NULL;
		if (get_str(l, n, key, &v[0]) < 0) {
			free(v);
			return -1;
		}
		*out = v;
		*nout = 1;
		return 0;
	}
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, n, key, "expected a list");
	size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (len > MAX_LIST)
		return fail(l, n, key, "list has %zu items, at most %u", len, MAX_LIST);
	if (len)
		v = xcalloc(len, sizeof(*v));
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *e = node(l, *it);

		if (!e || get_str(l, e, key, &v[cnt]) < 0) {
			for (size_t i = 0; i < cnt; i++)
				free(v[i]);
			free(v);
			return e ? -1 : fail(l, n, key, "bad list item");
		}
		cnt++;
	}
	*out = v;
	*nout = cnt;
	return 0;
}

int pol_parse_cidr(const char *s, struct pol_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash, *end;
	long plen = -1;

	if (strlen(s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash = '\0';
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (errno || *end || slash[1] == '\0' || plen < 0)
			return -1;
	}
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		if (plen > 32)
			return -1;
		out->prefixlen = plen < 0 ? 32 : (int)plen;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		if (plen > 128)
			return -1;
		out->prefixlen = plen < 0 ? 128 : (int)plen;
	} else
		return -1;
	/* Host bits set under the prefix are almost always a typo: refuse them. */
	for (int bit = out->prefixlen; bit < (out->family == AF_INET ? 32 : 128); bit++)
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	return 0;
}

static int get_cidrs(struct ld *l, yaml_node_t *n, const char *key, struct pol_cidr **out,
		     size_t *nout)
{
	char **strs = NULL;
	size_t ns = 0;
	struct pol_cidr *v = NULL;

	if (get_strlist(l, n, key, &strs, &ns) < 0)
		return -1;
	if (ns)
		v = xcalloc(ns, sizeof(*v));
	for (size_t i = 0; i < ns; i++) {
		if (pol_parse_cidr(strs[i], &v[i]) < 0) {
			fail(l, n, key, "'%s' is not an address or CIDR (host bits must be zero)",
			     strs[i]);
			for (size_t j = 0; j < ns; j++)
				free(strs[j]);
			free(strs);
			free(v);
			return -1;
		}
		v[i].line = (int)n->start_mark.line + 1;
	}
	for (size_t j = 0; j < ns; j++)
		free(strs[j]);
	free(strs);
	free(*out);
	*out = v;
	*nout = ns;
	return 0;
}

/* Iterate a mapping, calling fn for each key; rejects non-mappings and non-scalar keys. */
typedef int (*pair_fn)(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg);

static int each_pair(struct ld *l, yaml_node_t *n, const char *path, pair_fn fn, void *arg)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0)
		return 0; /* "section:" with nothing under it */
	if (n->type != YAML_MAPPING_NODE)
		return fail(l, n, path && *path ? path : "(top)", "expected a mapping");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *ks;

		if (!k || !v || !(ks = scalar(k)))
			return fail(l, k, path, "keys must be strings");
		/* Duplicate keys would let a later line silently undo an earlier one. */
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
			const char *qs = scalar(node(l, q->key));

			if (qs && strcmp(qs, ks) == 0) {
				char full[160];

				join(full, sizeof(full), path, ks);
				return fail(l, k, full, "given twice");
			}
		}
		if (fn(l, path, ks, v, arg) < 0)
			return -1;
	}
	return 0;
}

static int unknown(struct ld *l, yaml_node_t *v, const char *path, const char *k)
{
	char full[160];

	join(full, sizeof(full), path, k);
	return fail(l, v, full, "unknown key");
}

/* ---- content sections ---- */

struct sect {
	bool *enabled;
	enum pol_action *action;
	unsigned allowed;
	bool *flag; /* one extra boolean key */
	const char *flag_name;
	enum pol_action *action2; /* one extra action key */
	const char *action2_name;
};

static int sect_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct sect *s = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0 && s->enabled)
		return get_bool(l, v, full, s->enabled);
	if (strcmp(k, "action") == 0 && s->action)
		return get_action(l, v, full, s->allowed, s->action);
	if (s->flag_name && strcmp(k, s->flag_name) == 0)
		return get_bool(l, v, full, s->flag);
	if (s->action2_name && strcmp(k, s->action2_name) == 0)
		return get_action(l, v, full, ACT_WB, s->action2);
	return unknown(l, v, path, k);
}

static void free_tool_rules(struct policy *p)
{
	for (size_t i = 0; i < p->tool_policy.nrules; i++) {
		free(p->tool_policy.rules[i].name);
		free(p->tool_policy.rules[i].tool_pattern);
		free(p->tool_policy.rules[i].arg_pattern);
	}
	free(p->tool_policy.rules);
	p->tool_policy.rules = NULL;
	p->tool_policy.nrules = 0;
}

static int tool_rule_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct pol_tool_rule *r = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "name") == 0)
		return get_str(l, v, full, &r->name);
	if (strcmp(k, "tool_pattern") == 0)
		return get_str(l, v, full, &r->tool_pattern);
	if (strcmp(k, "arg_pattern") == 0)
		return get_str(l, v, full, &r->arg_pattern);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_ANY, &r->action);
	return unknown(l, v, path, k);
}

typedef int (*check_fn)(struct ld *l, yaml_node_t *e, const char *path, void *el);

/* Walk a list of mappings into a new array of elsize elements. */
static int each_item(struct ld *l, yaml_node_t *n, const char *path, size_t elsize, void **arr,
		     size_t *narr, void (*init)(void *el), pair_fn fn, check_fn check)
{
	char full[160];
	size_t len, i = 0;
	char *v;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(l, n, path, "expected a list");
	len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (len > MAX_LIST)
		return fail(l, n, path, "list has %zu items, at most %u", len, MAX_LIST);
	v = len ? xcalloc(len, elsize) : NULL;
	*arr = v;
	*narr = 0;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		yaml_node_t *e = node(l, *it);
		void *el = v + i * elsize;

		snprintf(full, sizeof(full), "%s[%zu]", path, i);
		*narr = i + 1; /* so the caller frees what was filled on error */
		if (!e || e->type != YAML_MAPPING_NODE)
			return fail(l, e ? e : n, full, "expected a mapping");
		if (init)
			init(el);
		if (each_pair(l, e, full, fn, el) < 0)
			return -1;
		if (check && check(l, e, full, el) < 0)
			return -1;
	}
	return 0;
}

static int check_tool_rule(struct ld *l, yaml_node_t *e, const char *path, void *el)
{
	struct pol_tool_rule *r = el;

	r->line = (int)e->start_mark.line + 1;
	if (!r->name)
		return fail(l, e, path, "a rule needs a name");
	if (!r->tool_pattern && !r->arg_pattern)
		return fail(l, e, path, "rule '%s' needs tool_pattern or arg_pattern", r->name);
	return 0;
}

static int tool_policy_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v,
			    void *arg)
{
	struct policy *p = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0)
		return get_bool(l, v, full, &p->tool_policy.enabled);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_ANY, &p->tool_policy.action);
	if (strcmp(k, "rules") == 0) {
		free_tool_rules(p);
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
			return 0;
		return each_item(l, v, full, sizeof(struct pol_tool_rule),
				 (void **)&p->tool_policy.rules, &p->tool_policy.nrules,
				 init_tool_rule, tool_rule_pair, check_tool_rule);
	}
	return unknown(l, v, path, k);
}

static void free_chains(struct policy *p)
{
	for (size_t i = 0; i < p->tool_chain.nchains; i++) {
		struct pol_chain *c = &p->tool_chain.chains[i];

		free(c->name);
		for (size_t j = 0; j < c->nsteps; j++)
			free(c->steps[j]);
		free(c->steps);
	}
	free(p->tool_chain.chains);
	p->tool_chain.chains = NULL;
	p->tool_chain.nchains = 0;
}

static int chain_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct pol_chain *c = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "name") == 0)
		return get_str(l, v, full, &c->name);
	if (strcmp(k, "steps") == 0)
		return get_strlist(l, v, full, &c->steps, &c->nsteps);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_WB, &c->action);
	return unknown(l, v, path, k);
}

static int check_chain(struct ld *l, yaml_node_t *e, const char *path, void *el)
{
	struct pol_chain *c = el;

	c->line = (int)e->start_mark.line + 1;
	if (!c->name)
		return fail(l, e, path, "a chain needs a name");
	if (c->nsteps < 2)
		return fail(l, e, path, "chain '%s' needs at least two steps", c->name);
	return 0;
}

static int chain_sect_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct policy *p = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0)
		return get_bool(l, v, full, &p->tool_chain.enabled);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_WB, &p->tool_chain.action);
	if (strcmp(k, "chains") == 0) {
		free_chains(p);
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
			return 0;
		return each_item(l, v, full, sizeof(struct pol_chain),
				 (void **)&p->tool_chain.chains, &p->tool_chain.nchains, init_chain,
				 chain_pair, check_chain);
	}
	return unknown(l, v, path, k);
}

static int ssrf_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct policy *p = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0)
		return get_bool(l, v, full, &p->ssrf.enabled);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_WB, &p->ssrf.action);
	if (strcmp(k, "resolve") == 0)
		return get_bool(l, v, full, &p->ssrf.resolve);
	return unknown(l, v, path, k);
}

/* ---- kernel sections ---- */

static void free_egress_rules(struct policy *p)
{
	for (size_t i = 0; i < p->egress.nrules; i++) {
		struct pol_egress_rule *r = &p->egress.rules[i];

		free(r->name);
		free(r->cidrs);
		for (size_t j = 0; j < r->nhosts; j++)
			free(r->hosts[j]);
		free(r->hosts);
	}
	free(p->egress.rules);
	p->egress.rules = NULL;
	p->egress.nrules = 0;
}

static int egress_rule_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v,
			    void *arg)
{
	struct pol_egress_rule *r = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "name") == 0)
		return get_str(l, v, full, &r->name);
	if (strcmp(k, "cidr") == 0)
		return get_cidrs(l, v, full, &r->cidrs, &r->ncidrs);
	if (strcmp(k, "host") == 0) {
		if (get_strlist(l, v, full, &r->hosts, &r->nhosts) < 0)
			return -1;
		for (size_t i = 0; i < r->nhosts; i++) {
			size_t n = strlen(r->hosts[i]);

			if (n == 0 || n > 253 ||
			    strspn(r->hosts[i], "abcdefghijklmnopqrstuvwxyz"
						"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") != n)
				return fail(l, v, full, "'%s' is not a host name", r->hosts[i]);
		}
		return 0;
	}
	if (strcmp(k, "ports") == 0) {
		size_t len;

		if (v->type != YAML_SEQUENCE_NODE)
			return fail(l, v, full, "expected a list of ports");
		len = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
		if (len > POL_MAX_PORTS)
			return fail(l, v, full, "at most %d ports per rule", POL_MAX_PORTS);
		r->nports = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			unsigned long long port;
			yaml_node_t *e = node(l, *it);

			if (!e || get_uint(l, e, full, 1, 65535, &port) < 0)
				return e ? -1 : fail(l, v, full, "bad port");
			r->ports[r->nports++] = (uint16_t)port;
		}
		return 0;
	}
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_KERNEL, &r->action);
	return unknown(l, v, path, k);
}

static int check_egress_rule(struct ld *l, yaml_node_t *e, const char *path, void *el)
{
	struct pol_egress_rule *r = el;

	r->line = (int)e->start_mark.line + 1;
	if (!r->name)
		return fail(l, e, path, "a rule needs a name");
	if (!r->ncidrs && !r->nhosts)
		return fail(l, e, path, "rule '%s' needs cidr or host", r->name);
	if (r->action == PA_UNSET)
		return fail(l, e, path, "rule '%s' needs an action (allow, warn or block)",
			    r->name);
	return 0;
}

static int egress_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct policy *p = arg;
	char full[160];
	unsigned long long n;

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0)
		return get_bool(l, v, full, &p->egress.enabled);
	if (strcmp(k, "default") == 0)
		return get_action(l, v, full, ACT_KERNEL, &p->egress.default_action);
	if (strcmp(k, "allow_loopback") == 0)
		return get_bool(l, v, full, &p->egress.allow_loopback);
	if (strcmp(k, "deny_raw_sockets") == 0)
		return get_bool(l, v, full, &p->egress.deny_raw_sockets);
	if (strcmp(k, "dns_resolvers") == 0)
		return get_cidrs(l, v, full, &p->egress.dns_resolvers, &p->egress.ndns_resolvers);
	if (strcmp(k, "resolve_interval") == 0) {
		if (get_uint(l, v, full, 5, 86400, &n) < 0)
			return -1;
		p->egress.resolve_interval = (unsigned)n;
		return 0;
	}
	if (strcmp(k, "rules") == 0) {
		free_egress_rules(p);
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
			return 0;
		return each_item(l, v, full, sizeof(struct pol_egress_rule),
				 (void **)&p->egress.rules, &p->egress.nrules, init_egress_rule,
				 egress_rule_pair, check_egress_rule);
	}
	return unknown(l, v, path, k);
}

static void free_file_rules(struct policy *p)
{
	for (size_t i = 0; i < p->files.nrules; i++) {
		struct pol_file_rule *r = &p->files.rules[i];

		free(r->name);
		for (size_t j = 0; j < r->npaths; j++)
			free(r->paths[j]);
		free(r->paths);
		for (size_t j = 0; j < r->nbasenames; j++)
			free(r->basenames[j]);
		free(r->basenames);
	}
	free(p->files.rules);
	p->files.rules = NULL;
	p->files.nrules = 0;
}

/* The kernel matches exact names, "prefix*" and "*suffix": nothing else. */
static int check_basename(struct ld *l, yaml_node_t *v, const char *key, const char *b)
{
	size_t n = strlen(b);
	const char *star = strchr(b, '*');

	if (n == 0 || n > BASENAME_MAX)
		return fail(l, v, key, "basename '%s' must be 1..%d characters", b, BASENAME_MAX);
	if (strchr(b, '/'))
		return fail(l, v, key, "basename '%s' contains '/': use paths for that", b);
	if (strpbrk(b, "?[]"))
		return fail(l, v, key, "basename '%s': only a leading or trailing '*' is supported",
			    b);
	if (star && (strchr(star + 1, '*') || (star != b && star != b + n - 1) || n == 1))
		return fail(l, v, key, "basename '%s': only a leading or trailing '*' is supported",
			    b);
	return 0;
}

static int file_rule_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct pol_file_rule *r = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "name") == 0)
		return get_str(l, v, full, &r->name);
	if (strcmp(k, "paths") == 0) {
		if (get_strlist(l, v, full, &r->paths, &r->npaths) < 0)
			return -1;
		for (size_t i = 0; i < r->npaths; i++)
			if (r->paths[i][0] != '/' && strncmp(r->paths[i], "~/", 2) != 0)
				return fail(l, v, full, "path '%s' must start with / or ~/",
					    r->paths[i]);
		return 0;
	}
	if (strcmp(k, "basenames") == 0) {
		if (get_strlist(l, v, full, &r->basenames, &r->nbasenames) < 0)
			return -1;
		for (size_t i = 0; i < r->nbasenames; i++)
			if (check_basename(l, v, full, r->basenames[i]) < 0)
				return -1;
		return 0;
	}
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_KERNEL, &r->action);
	return unknown(l, v, path, k);
}

static int check_file_rule(struct ld *l, yaml_node_t *e, const char *path, void *el)
{
	struct pol_file_rule *r = el;

	r->line = (int)e->start_mark.line + 1;
	if (!r->name)
		return fail(l, e, path, "a rule needs a name");
	if (!r->npaths && !r->nbasenames)
		return fail(l, e, path, "rule '%s' needs paths or basenames", r->name);
	return 0;
}

static int files_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct policy *p = arg;
	char full[160];

	join(full, sizeof(full), path, k);
	if (strcmp(k, "enabled") == 0)
		return get_bool(l, v, full, &p->files.enabled);
	if (strcmp(k, "action") == 0)
		return get_action(l, v, full, ACT_KERNEL, &p->files.action);
	if (strcmp(k, "rules") == 0) {
		/* A rule without its own action takes the section's, resolved after the walk. */
		free_file_rules(p);
		if (v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0)
			return 0;
		return each_item(l, v, full, sizeof(struct pol_file_rule), (void **)&p->files.rules,
				 &p->files.nrules, init_file_rule, file_rule_pair, check_file_rule);
	}
	return unknown(l, v, path, k);
}

/* ---- top level ---- */

static int top_pair(struct ld *l, const char *path, const char *k, yaml_node_t *v, void *arg)
{
	struct policy *p = arg;
	unsigned long long n;
	struct sect s;

	memset(&s, 0, sizeof(s));
	if (strcmp(k, "mcp_tool_scanning") == 0) {
		s = (struct sect){&p->tool_scanning.enabled,
				  &p->tool_scanning.action,
				  ACT_ANY,
				  &p->tool_scanning.detect_drift,
				  "detect_drift",
				  NULL,
				  NULL};
		return each_pair(l, v, k, sect_pair, &s);
	}
	if (strcmp(k, "mcp_input_scanning") == 0) {
		s = (struct sect){&p->input_scanning.enabled,
				  &p->input_scanning.action,
				  ACT_ANY,
				  NULL,
				  NULL,
				  &p->input_scanning.on_parse_error,
				  "on_parse_error"};
		return each_pair(l, v, k, sect_pair, &s);
	}
	if (strcmp(k, "mcp_tool_policy") == 0)
		return each_pair(l, v, k, tool_policy_pair, p);
	if (strcmp(k, "tool_chain_detection") == 0)
		return each_pair(l, v, k, chain_sect_pair, p);
	if (strcmp(k, "mcp_session_binding") == 0) {
		s = (struct sect){&p->session_binding.enabled, NULL, 0, NULL, NULL, NULL, NULL};
		return each_pair(l, v, k, sect_pair, &s);
	}
	if (strcmp(k, "sandbox") == 0) {
		s = (struct sect){
		    &p->sandbox.enabled, NULL, 0, &p->sandbox.strict, "strict", NULL, NULL};
		return each_pair(l, v, k, sect_pair, &s);
	}
	if (strcmp(k, "mcp_response_scanning") == 0) {
		s = (struct sect){&p->response_scanning.enabled,
				  &p->response_scanning.action,
				  ACT_ANY,
				  NULL,
				  NULL,
				  NULL,
				  NULL};
		return each_pair(l, v, k, sect_pair, &s);
	}
	if (strcmp(k, "mcp_ssrf") == 0)
		return each_pair(l, v, k, ssrf_pair, p);
	if (strcmp(k, "max_message_bytes") == 0) {
		if (get_uint(l, v, k, 1024, 1ULL << 30, &n) < 0)
			return -1;
		p->max_message_bytes = (size_t)n;
		return 0;
	}
	if (strcmp(k, "baseline_dir") == 0)
		return get_str(l, v, k, &p->baseline_dir);
	if (strcmp(k, "session_verdict") == 0) {
		static const char *ok[] = {"quarantine", "freeze", "kill", "none"};
		const char *sv = scalar(v);

		for (size_t i = 0; sv && i < sizeof(ok) / sizeof(ok[0]); i++)
			if (strcmp(sv, ok[i]) == 0)
				return get_str(l, v, k, &p->session_verdict);
		return fail(l, v, k, "expected one of quarantine, freeze, kill, none, got '%s'",
			    sv ? sv : "(not a scalar)");
	}
	if (strcmp(k, "audit") == 0)
		return get_bool(l, v, k, &p->audit);
	if (strcmp(k, "egress") == 0)
		return each_pair(l, v, k, egress_pair, p);
	if (strcmp(k, "files") == 0)
		return each_pair(l, v, k, files_pair, p);
	return unknown(l, v, path, k);
}

static int load_text(struct policy *p, const char *file, const unsigned char *text, size_t len,
		     char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct ld l = {&doc, file, err, errlen};
	yaml_node_t *root;
	int rc = -1;

	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser", file);
		return -1;
	}
	yaml_parser_set_input_string(&parser, text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: YAML syntax error: %s", file,
			 (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root) {
		/* A second document could carry a shadow policy: refuse it. */
		if (!yaml_parser_load(&parser, &extra)) {
			snprintf(err, errlen, "%s:%lu: YAML syntax error: %s", file,
				 (unsigned long)parser.problem_mark.line + 1,
				 parser.problem ? parser.problem : "unknown");
			goto out;
		}
		if (yaml_document_get_root_node(&extra)) {
			snprintf(err, errlen, "%s:%lu: only one YAML document is allowed", file,
				 (unsigned long)extra.start_mark.line + 1);
			yaml_document_delete(&extra);
			goto out;
		}
		yaml_document_delete(&extra);
		rc = each_pair(&l, root, "", top_pair, p);
	} else
		rc = 0; /* empty file: defaults */
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int read_file(const char *path, unsigned char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = xmalloc(MAX_POLICY_BYTES + 1);
	n = fread(buf, 1, MAX_POLICY_BYTES + 1, f);
	if (ferror(f) || n > MAX_POLICY_BYTES) {
		snprintf(err, errlen, "%s: %s", path,
			 ferror(f) ? "read error" : "larger than 4 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	if (memchr(buf, '\0', n)) {
		snprintf(err, errlen, "%s: contains a NUL byte: not a YAML text file", path);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

static void resolve_rule_actions(struct policy *p)
{
	for (size_t i = 0; i < p->tool_policy.nrules; i++)
		if (p->tool_policy.rules[i].action == PA_UNSET)
			p->tool_policy.rules[i].action = p->tool_policy.action;
	for (size_t i = 0; i < p->tool_chain.nchains; i++)
		if (p->tool_chain.chains[i].action == PA_UNSET)
			p->tool_chain.chains[i].action = p->tool_chain.action;
	for (size_t i = 0; i < p->files.nrules; i++)
		if (p->files.rules[i].action == PA_UNSET)
			p->files.rules[i].action = p->files.action;
}

void pol_prefix_key(int *family, uint8_t addr[16], int *plen)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (*family == AF_INET6 && *plen >= 96 && memcmp(addr, v4mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
		*plen -= 96;
	}
	for (int bit = *plen; bit < (*family == AF_INET ? 32 : 128); bit++)
		addr[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
}

/* c as the kernel keys it. */
static void cidr_key(const struct pol_cidr *c, int *family, uint8_t addr[16], int *plen)
{
	*family = c->family;
	*plen = c->prefixlen;
	memcpy(addr, c->addr, 16);
	pol_prefix_key(family, addr, plen);
}

/*
 * One prefix, one rule: the kernel's tries hold one value per prefix, so a second
 * rule naming the same prefix would lose silently. Refuse the policy instead.
 */
static int check_egress_prefixes(const struct policy *p, const char *file, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->egress.nrules; i++) {
		const struct pol_egress_rule *r = &p->egress.rules[i];

		for (size_t j = 0; j < r->ncidrs; j++) {
			const struct pol_cidr *c = &r->cidrs[j];
			uint8_t ka[16];
			int fa, pa;

			cidr_key(c, &fa, ka, &pa);
			for (size_t k = 0; k <= i; k++) {
				const struct pol_egress_rule *o = &p->egress.rules[k];
				size_t lim = k == i ? j : o->ncidrs;

				for (size_t m = 0; m < lim; m++) {
					const struct pol_cidr *d = &o->cidrs[m];
					char txt[INET6_ADDRSTRLEN];
					uint8_t kb[16];
					int fb, pb;

					cidr_key(d, &fb, kb, &pb);
					if (fa != fb || pa != pb || memcmp(ka, kb, 16) != 0)
						continue;
					if (!inet_ntop(c->family, c->addr, txt, sizeof(txt)))
						mg_strlcpy(txt, "?", sizeof(txt));
					snprintf(
					    err, errlen,
					    "%s:%d: key 'egress.rules[%zu].cidr': %s/%d is already "
					    "named by rule '%s' (line %d): one prefix, one rule",
					    file, c->line ? c->line : r->line, i, txt, c->prefixlen,
					    o->name, d->line ? d->line : o->line);
					return -1;
				}
			}
		}
	}
	return 0;
}

struct policy *policy_load(const char *path, char *err, size_t errlen)
{
	struct policy *p = xcalloc(1, sizeof(*p));
	unsigned char *text = NULL;
	size_t len = 0;

	if (load_text(p, "(built-in default policy)", (const unsigned char *)mg_default_policy,
		      strlen(mg_default_policy), err, errlen) < 0) {
		policy_free(p);
		return NULL;
	}
	if (path) {
		if (read_file(path, &text, &len, err, errlen) < 0 ||
		    load_text(p, path, text, len, err, errlen) < 0) {
			free(text);
			policy_free(p);
			return NULL;
		}
		free(text);
		p->path = xstrdup(path);
	}
	resolve_rule_actions(p);
	if (check_egress_prefixes(p, path ? path : "(built-in default policy)", err, errlen) < 0) {
		policy_free(p);
		return NULL;
	}
	return p;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free_tool_rules(p);
	free_chains(p);
	free_egress_rules(p);
	free_file_rules(p);
	free(p->egress.dns_resolvers);
	free(p->baseline_dir);
	free(p->session_verdict);
	free(p->path);
	free(p);
}

const char *pol_action_name(enum pol_action a)
{
	switch (a) {
	case PA_ALLOW:
		return "allow";
	case PA_WARN:
		return "warn";
	case PA_STRIP:
		return "strip";
	case PA_BLOCK:
		return "block";
	}
	return "?";
}
