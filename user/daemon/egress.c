/*
 * Network egress: compiles the policy's egress section into the LPM tries of
 * egress.bpf.c and keeps host-name rules and the resolver list fresh.
 *
 * Trie contents are recomputed as a whole ("desired set") and synced to the maps:
 * new and changed entries first, stale ones deleted after, so a refresh never
 * opens a window where a rule is missing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "egress.h"
#include "egress.skel.h"
#include "netlsm.skel.h"
#include "log.h"
#include "pin.h"
#include "xmalloc.h"

#define RESOLV_CONF "/etc/resolv.conf"
#define MAX_HOST_ADDRS 64
#define NPROGS 5

struct net_entry {
	int family; /* trie: AF_INET or AF_INET6 */
	uint8_t addr[16];
	int plen;
	struct mg_net_rule v;
	const char *rule;
};

struct host_cache {
	const struct pol_egress_rule *rule; /* main thread only */
	const char *rname;		    /* the rule's name, for the resolver's messages */
	const char *host;
	struct pol_cidr addrs[MAX_HOST_ADDRS];
	size_t n;
};

struct egress {
	struct egress_bpf *skel;
	struct bpf_link *links[NPROGS];
	struct net_entry *ents;
	size_t nents, cap;
	struct host_cache *hosts;
	size_t nhosts;
	struct pol_cidr *dns;
	size_t ndns;
	size_t n4, n6;
	time_t next_resolve;
	int job_pipe[2]; /* resolver thread -> main loop: a finished struct resolve_job * */
	bool job_running;
	unsigned gen; /* host list generation: a reload makes running jobs' results stale */
	struct netlsm_bpf *lsm;
	struct bpf_link *lsm_link;
	char packet[200]; /* packet-socket coverage, for the banner */
	char desc[768];
};

static uint32_t kernel_action(enum pol_action a)
{
	switch (a) {
	case PA_ALLOW:
		return MG_ACT_ALLOW;
	case PA_WARN:
		return MG_ACT_AUDIT;
	default:
		return MG_ACT_BLOCK;
	}
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static void add_entry(struct egress *eg, int family, const uint8_t *src, int plen,
		      const struct mg_net_rule *v, const char *rule)
{
	struct net_entry *e;
	uint8_t addr[16] = {0};

	memcpy(addr, src, family == AF_INET ? 4 : 16);
	pol_prefix_key(&family, addr, &plen);
	for (size_t i = 0; i < eg->nents; i++) {
		e = &eg->ents[i];
		if (e->family == family && e->plen == plen && memcmp(e->addr, addr, 16) == 0) {
			/* One trie slot per prefix: the rule listed first keeps it. */
			if (strcmp(e->rule, rule) != 0)
				debug("rule '%s': prefix already taken by rule '%s'", rule,
				      e->rule);
			return;
		}
	}
	if (eg->nents == eg->cap) {
		eg->cap = eg->cap ? eg->cap * 2 : 64;
		eg->ents = xreallocarray(eg->ents, eg->cap, sizeof(*eg->ents));
	}
	e = &eg->ents[eg->nents++];
	memset(e, 0, sizeof(*e));
	e->family = family;
	memcpy(e->addr, addr, 16);
	e->plen = plen;
	e->v = *v;
	e->v.prefixlen = (uint32_t)plen;
	e->rule = rule;
}

static void rule_value(struct daemon *d, const struct pol_egress_rule *r, struct mg_net_rule *v)
{
	memset(v, 0, sizeof(*v));
	v->rule_id = daemon_rule_id(d, r->name);
	v->action = kernel_action(r->action);
	v->nports = (uint32_t)(r->nports < MG_MAX_PORTS ? r->nports : MG_MAX_PORTS);
	for (uint32_t i = 0; i < v->nports; i++)
		v->ports[i] = r->ports[i];
}

/* Policy rules first (their order decides ties), then host names. */
static void compile(struct daemon *d, struct egress *eg)
{
	const struct policy *p = d->pol;
	struct mg_net_rule v;

	eg->nents = 0;
	for (size_t i = 0; i < p->egress.nrules; i++) {
		const struct pol_egress_rule *r = &p->egress.rules[i];

		rule_value(d, r, &v);
		for (size_t j = 0; j < r->ncidrs; j++)
			add_entry(eg, r->cidrs[j].family, r->cidrs[j].addr, r->cidrs[j].prefixlen,
				  &v, r->name);
	}
	for (size_t i = 0; i < eg->nhosts; i++) {
		struct host_cache *h = &eg->hosts[i];

		rule_value(d, h->rule, &v);
		for (size_t j = 0; j < h->n; j++)
			add_entry(eg, h->addrs[j].family, h->addrs[j].addr, h->addrs[j].prefixlen,
				  &v, h->rule->name);
	}
}

static int in_desired(const struct egress *eg, int family, const void *key)
{
	for (size_t i = 0; i < eg->nents; i++) {
		const struct net_entry *e = &eg->ents[i];

		if (e->family != family)
			continue;
		if (family == AF_INET) {
			const struct mg_lpm4 *k = key;

			if (k->prefixlen == (uint32_t)e->plen && memcmp(k->addr, e->addr, 4) == 0)
				return 1;
		} else {
			const struct mg_lpm6 *k = key;

			if (k->prefixlen == (uint32_t)e->plen && memcmp(k->addr, e->addr, 16) == 0)
				return 1;
		}
	}
	return 0;
}

/* Delete every key of fd for which keep() says no. Keys are collected first. */
static int prune(int fd, size_t keysz, int (*keep)(const void *key, const void *arg),
		 const void *arg)
{
	uint8_t *keys = NULL, cur[32], next[32];
	size_t n = 0, cap = 0;
	int rc = 0, first = 1;

	while (bpf_map_get_next_key(fd, first ? NULL : cur, next) == 0) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			keys = xreallocarray(keys, cap, keysz);
		}
		memcpy(keys + n * keysz, next, keysz);
		n++;
		memcpy(cur, next, keysz);
		first = 0;
	}
	for (size_t i = 0; i < n; i++) {
		if (keep(keys + i * keysz, arg))
			continue;
		if (bpf_map_delete_elem(fd, keys + i * keysz) < 0 && errno != ENOENT) {
			warn("delete stale egress entry");
			rc = -1;
		}
	}
	free(keys);
	return rc;
}

static int keep4(const void *key, const void *arg)
{
	return in_desired(arg, AF_INET, key);
}

static int keep6(const void *key, const void *arg)
{
	return in_desired(arg, AF_INET6, key);
}

static int sync_rules(struct egress *eg)
{
	int fd4 = bpf_map__fd(eg->skel->maps.eg_rules4);
	int fd6 = bpf_map__fd(eg->skel->maps.eg_rules6);

	eg->n4 = eg->n6 = 0;
	for (size_t i = 0; i < eg->nents; i++) {
		const struct net_entry *e = &eg->ents[i];
		int err;

		if (e->family == AF_INET) {
			struct mg_lpm4 k = {.prefixlen = (uint32_t)e->plen};

			memcpy(k.addr, e->addr, 4);
			err = bpf_map_update_elem(fd4, &k, &e->v, BPF_ANY);
			eg->n4++;
		} else {
			struct mg_lpm6 k = {.prefixlen = (uint32_t)e->plen};

			memcpy(k.addr, e->addr, 16);
			err = bpf_map_update_elem(fd6, &k, &e->v, BPF_ANY);
			eg->n6++;
		}
		if (err < 0) {
			warn("egress rule '%s': map update", e->rule);
			return -1;
		}
	}
	if (prune(fd4, sizeof(struct mg_lpm4), keep4, eg) < 0 ||
	    prune(fd6, sizeof(struct mg_lpm6), keep6, eg) < 0)
		return -1;
	return 0;
}

static void dns_key(const struct pol_cidr *c, struct mg_lpm6 *k)
{
	memset(k, 0, sizeof(*k));
	if (c->family == AF_INET) {
		memcpy(k->addr, v4mapped, 12);
		memcpy(k->addr + 12, c->addr, 4);
		k->prefixlen = 96 + (uint32_t)c->prefixlen;
	} else {
		memcpy(k->addr, c->addr, 16);
		k->prefixlen = (uint32_t)c->prefixlen;
	}
}

static int keepdns(const void *key, const void *arg)
{
	const struct egress *eg = arg;
	struct mg_lpm6 k;

	for (size_t i = 0; i < eg->ndns; i++) {
		dns_key(&eg->dns[i], &k);
		if (memcmp(&k, key, sizeof(k)) == 0)
			return 1;
	}
	return 0;
}

/* The policy's resolvers, or the system's; glibc falls back to loopback with none. */
static void load_resolvers(struct daemon *d, struct egress *eg)
{
	const struct policy *p = d->pol;
	char *line = NULL;
	size_t cap = 0, max = 16;
	FILE *f;

	free(eg->dns);
	eg->dns = NULL;
	eg->ndns = 0;
	if (p->egress.ndns_resolvers) {
		eg->dns = xreallocarray(NULL, p->egress.ndns_resolvers, sizeof(*eg->dns));
		memcpy(eg->dns, p->egress.dns_resolvers,
		       p->egress.ndns_resolvers * sizeof(*eg->dns));
		eg->ndns = p->egress.ndns_resolvers;
		return;
	}
	eg->dns = xreallocarray(NULL, max, sizeof(*eg->dns));
	if ((f = fopen(RESOLV_CONF, "re")) != NULL) {
		while (getline(&line, &cap, f) > 0 && eg->ndns < max) {
			char *s = line, *pct;

			s += strspn(s, " \t");
			if (strncmp(s, "nameserver", 10) != 0 || (s[10] != ' ' && s[10] != '\t'))
				continue;
			s += 10;
			s += strspn(s, " \t");
			s[strcspn(s, " \t\r\n#;")] = '\0';
			if ((pct = strchr(s, '%')) != NULL) /* fe80::1%eth0 */
				*pct = '\0';
			if (strchr(s, '/') == NULL && pol_parse_cidr(s, &eg->dns[eg->ndns]) == 0)
				eg->ndns++;
			else
				warnx("%s: ignoring nameserver '%s'", RESOLV_CONF, s);
		}
		free(line);
		fclose(f);
	}
	if (eg->ndns == 0) {
		pol_parse_cidr("127.0.0.1", &eg->dns[eg->ndns++]);
		pol_parse_cidr("::1", &eg->dns[eg->ndns++]);
	}
}

static int sync_dns(struct egress *eg)
{
	int fd = bpf_map__fd(eg->skel->maps.eg_dns);
	uint32_t one = 1;
	struct mg_lpm6 k;

	for (size_t i = 0; i < eg->ndns; i++) {
		dns_key(&eg->dns[i], &k);
		if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) < 0) {
			warn("dns resolver map update");
			return -1;
		}
	}
	return prune(fd, sizeof(k), keepdns, eg);
}

/* Resolve every host name; a name that fails keeps its last good addresses. */
static void resolve_hosts(struct host_cache *hosts, size_t nhosts)
{
	for (size_t i = 0; i < nhosts; i++) {
		struct host_cache *h = &hosts[i];
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
		struct addrinfo *res, *ai;
		struct pol_cidr got[MAX_HOST_ADDRS];
		size_t n = 0;
		int rc;

		if ((rc = getaddrinfo(h->host, NULL, &hints, &res)) != 0) {
			warnx("egress rule '%s': cannot resolve %s (%s); keeping %zu old addresses",
			      h->rname, h->host, gai_strerror(rc), h->n);
			continue;
		}
		for (ai = res; ai && n < MAX_HOST_ADDRS; ai = ai->ai_next) {
			struct pol_cidr *c = &got[n];

			memset(c, 0, sizeof(*c));
			if (ai->ai_family == AF_INET) {
				c->family = AF_INET;
				c->prefixlen = 32;
				memcpy(c->addr, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, 4);
			} else if (ai->ai_family == AF_INET6) {
				c->family = AF_INET6;
				c->prefixlen = 128;
				memcpy(c->addr, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr,
				       16);
			} else {
				continue;
			}
			n++;
		}
		freeaddrinfo(res);
		memcpy(h->addrs, got, n * sizeof(got[0]));
		h->n = n;
		debug("egress rule '%s': %s -> %zu addresses", h->rname, h->host, n);
	}
}

/*
 * The host-name rules of d->pol, in rule order. A name the previous list also
 * had keeps its resolved addresses (a reload must not drop them until the next
 * resolve); the previous list is freed.
 */
static void build_hosts(struct daemon *d, struct egress *eg)
{
	const struct policy *p = d->pol;
	struct host_cache *old = eg->hosts;
	size_t nold = eg->nhosts;

	eg->hosts = NULL;
	eg->nhosts = 0;
	for (size_t i = 0; i < p->egress.nrules; i++)
		for (size_t j = 0; j < p->egress.rules[i].nhosts; j++) {
			struct host_cache *h;

			eg->hosts = xreallocarray(eg->hosts, eg->nhosts + 1, sizeof(*eg->hosts));
			h = &eg->hosts[eg->nhosts++];
			memset(h, 0, sizeof(*h));
			h->rule = &p->egress.rules[i];
			h->rname = h->rule->name;
			h->host = p->egress.rules[i].hosts[j];
			for (size_t k = 0; k < nold; k++)
				if (strcmp(old[k].host, h->host) == 0) {
					memcpy(h->addrs, old[k].addrs,
					       old[k].n * sizeof(*h->addrs));
					h->n = old[k].n;
					break;
				}
		}
	free(old);
}

static int write_config(struct daemon *d, struct egress *eg)
{
	int fd = bpf_map__fd(eg->skel->maps.mg_config);
	const struct policy *p = d->pol;
	struct mg_config c;
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(fd, &zero, &c) < 0)
		memset(&c, 0, sizeof(c));
	c.guard_cgid = d->cgid;
	c.guard_level = d->level;
	c.audit_only = d->audit;
	c.egress_enabled = p->egress.enabled;
	c.egress_default = kernel_action(p->egress.default_action);
	c.dns_restrict = 1;
	c.deny_raw_sockets = p->egress.deny_raw_sockets;
	c.allow_loopback = p->egress.allow_loopback;
	/* files.c owns its switch but the initial value follows the policy. */
	c.files_enabled = p->files.enabled;
	if (bpf_map_update_elem(fd, &zero, &c, BPF_ANY) < 0) {
		warn("write mg_config");
		return -1;
	}
	return 0;
}

int egress_start(struct daemon *d)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_root);
	struct egress *eg = xcalloc(1, sizeof(*eg));
	const struct policy *p = d->pol;
	struct bpf_program *progs[NPROGS];
	static const char *pins[NPROGS] = {"egress_connect4", "egress_connect6", "egress_sendmsg4",
					   "egress_sendmsg6", "egress_sock_create"};
	int err;

	d->egress = eg;
	if (pipe2(eg->job_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		warn("pipe");
		return -1;
	}
	eg->skel = egress_bpf__open_opts(&opts);
	if (!eg->skel) {
		warn("open egress BPF object");
		return -1;
	}
	if ((err = egress_bpf__load(eg->skel)) < 0) {
		warnx("load egress BPF programs: %s (pinned maps from an incompatible build? "
		      "try mcpguardd --uninstall --pin-root %s)",
		      strerror(-err), d->pin_root);
		return -1;
	}
	build_hosts(d, eg);
	resolve_hosts(eg->hosts, eg->nhosts);
	load_resolvers(d, eg);
	compile(d, eg);
	if (write_config(d, eg) < 0 || sync_rules(eg) < 0 || sync_dns(eg) < 0)
		return -1;
	eg->next_resolve =
	    time(NULL) + (time_t)(p->egress.resolve_interval ? p->egress.resolve_interval : 60);

	progs[0] = eg->skel->progs.mg_connect4;
	progs[1] = eg->skel->progs.mg_connect6;
	progs[2] = eg->skel->progs.mg_sendmsg4;
	progs[3] = eg->skel->progs.mg_sendmsg6;
	progs[4] = eg->skel->progs.mg_sock_create;
	for (int i = 0; i < NPROGS; i++) {
		/* Never fail open: a hook that cannot be attached stops the daemon. */
		if ((eg->links[i] = pin_attach_cgroup(d, progs[i], pins[i])) == NULL) {
			warnx("cannot attach %s: network egress would be unguarded",
			      bpf_program__section_name(progs[i]));
			return -1;
		}
	}
	return 0;
}

/*
 * LSM links cannot swap programs (BPF_LINK_UPDATE is cgroup/xdp only), so a restart
 * attaches the new link first and only then drops the old pin: no gap either way.
 */
int egress_lsm_start(struct daemon *d, bool lsm_works, const char *why_not)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_root);
	struct egress *eg = d->egress;
	struct bpf_link *old = NULL;
	char path[PATH_MAX];
	int err;

	if (!d->pol->egress.deny_raw_sockets) {
		snprintf(eg->packet, sizeof(eg->packet), "packet sockets allowed by policy");
		return 0;
	}
	if (!lsm_works) {
		snprintf(eg->packet, sizeof(eg->packet),
			 "packet sockets (AF_PACKET) NOT refused: needs BPF-LSM (%s)", why_not);
		return 0;
	}
	if (snprintf(path, sizeof(path), "%s/netlsm_socket_create", d->pin_root) >=
	    (int)sizeof(path))
		return -1;
	if ((eg->lsm = netlsm_bpf__open_opts(&opts)) == NULL ||
	    (err = netlsm_bpf__load(eg->lsm)) < 0) {
		warnx("load netlsm (packet sockets) BPF program");
		return -1;
	}
	if ((eg->lsm_link = bpf_program__attach_lsm(eg->lsm->progs.mg_socket_create)) == NULL) {
		warn("attach lsm/socket_create");
		return -1;
	}
	if (access(path, F_OK) == 0 && (old = bpf_link__open(path)) != NULL) {
		if (unlink(path) < 0)
			warn("unlink %s", path);
		bpf_link__destroy(old);
	}
	if ((err = bpf_link__pin(eg->lsm_link, path)) < 0) {
		warnx("pin %s: %s", path, strerror(-err));
		return -1;
	}
	snprintf(eg->packet, sizeof(eg->packet), "packet sockets refused (lsm/socket_create)");
	return 0;
}

/*
 * Refreshes run off the main loop: getaddrinfo can block for many seconds when DNS
 * is down, and the loop also serves the control socket and the events. The thread
 * resolves a private copy and hands it back through a pipe.
 */
struct resolve_job {
	struct host_cache *hosts; /* names copied: a reload may free the policy's */
	size_t n;
	unsigned gen;
	int fd;
};

static void job_free(struct resolve_job *job)
{
	for (size_t i = 0; i < job->n; i++) {
		free((char *)job->hosts[i].host);
		free((char *)job->hosts[i].rname);
	}
	free(job->hosts);
	free(job);
}

static void *resolve_thread(void *arg)
{
	struct resolve_job *job = arg;

	resolve_hosts(job->hosts, job->n);
	if (write(job->fd, &job, sizeof(job)) != (ssize_t)sizeof(job))
		warn("resolver thread: hand back results");
	return NULL;
}

static void refresh(struct daemon *d, struct egress *eg)
{
	load_resolvers(d, eg);
	compile(d, eg);
	if (sync_rules(eg) < 0 || sync_dns(eg) < 0)
		warnx("egress refresh failed; the previous rules stay in force");
}

void egress_tick(struct daemon *d, time_t now)
{
	struct egress *eg = d->egress;
	unsigned every = d->pol->egress.resolve_interval ? d->pol->egress.resolve_interval : 60;
	struct resolve_job *job;
	pthread_attr_t attr;
	pthread_t th;
	int err;

	if (!eg || now < eg->next_resolve)
		return;
	eg->next_resolve = now + (time_t)every;
	refresh(d, eg); /* resolv.conf may have changed; host names follow below */
	if (!eg->nhosts || eg->job_running)
		return;
	job = xcalloc(1, sizeof(*job));
	job->n = eg->nhosts;
	job->gen = eg->gen;
	job->hosts = xreallocarray(NULL, eg->nhosts, sizeof(*eg->hosts));
	memcpy(job->hosts, eg->hosts, eg->nhosts * sizeof(*eg->hosts));
	for (size_t i = 0; i < job->n; i++) {
		job->hosts[i].host = xstrdup(eg->hosts[i].host);
		job->hosts[i].rname = xstrdup(eg->hosts[i].rname);
		job->hosts[i].rule = NULL; /* the thread needs names only */
	}
	job->fd = eg->job_pipe[1];
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&th, &attr, resolve_thread, job);
	pthread_attr_destroy(&attr);
	if (err) {
		warnx("resolver thread: %s; resolving in the main loop", strerror(err));
		resolve_hosts(eg->hosts, eg->nhosts);
		refresh(d, eg);
		job_free(job);
		return;
	}
	eg->job_running = true;
}

int egress_fd(struct daemon *d)
{
	struct egress *eg = d->egress;

	return eg ? eg->job_pipe[0] : -1;
}

void egress_poll(struct daemon *d)
{
	struct egress *eg = d->egress;
	struct resolve_job *job;

	if (!eg || read(eg->job_pipe[0], &job, sizeof(job)) != (ssize_t)sizeof(job))
		return;
	eg->job_running = false;
	/* Resolved for a list a reload has replaced since: the next tick starts over. */
	if (job->gen != eg->gen) {
		job_free(job);
		eg->next_resolve = 0;
		return;
	}
	for (size_t i = 0; i < job->n; i++) {
		memcpy(eg->hosts[i].addrs, job->hosts[i].addrs,
		       job->hosts[i].n * sizeof(*job->hosts[i].addrs));
		eg->hosts[i].n = job->hosts[i].n;
	}
	job_free(job);
	refresh(d, eg);
}

int egress_reload(struct daemon *d)
{
	struct egress *eg = d->egress;

	if (!eg)
		return 0;
	build_hosts(d, eg);
	eg->gen++;
	eg->next_resolve = 0; /* names new to this policy: resolved at the next tick */
	load_resolvers(d, eg);
	compile(d, eg);
	if (write_config(d, eg) < 0 || sync_rules(eg) < 0 || sync_dns(eg) < 0)
		return -1;
	return 0;
}

const char *egress_describe(struct daemon *d)
{
	struct egress *eg = d->egress;
	const struct policy *p = d->pol;

	if (!eg)
		return "not loaded";
	if (!p->egress.enabled) {
		snprintf(eg->desc, sizeof(eg->desc),
			 "OFF (disabled by policy; hooks attached but passing everything)");
		return eg->desc;
	}
	snprintf(eg->desc, sizeof(eg->desc),
		 "%s on connect4, connect6, sendmsg4, sendmsg6, sock_create: %zu rules -> %zu "
		 "IPv4 + %zu IPv6 prefixes, %zu host names, %zu DNS resolvers, default %s, "
		 "loopback %s, raw/ICMP sockets %s; %s",
		 d->audit ? "AUDIT ONLY (blocks are reported, not enforced)" : "enforcing",
		 p->egress.nrules, eg->n4, eg->n6, eg->nhosts, eg->ndns,
		 pol_action_name(p->egress.default_action),
		 p->egress.allow_loopback ? "allowed" : "denied unless a rule allows it",
		 p->egress.deny_raw_sockets ? "denied" : "allowed",
		 eg->packet[0] ? eg->packet : "packet sockets not checked yet");
	return eg->desc;
}

void egress_stop(struct daemon *d)
{
	struct egress *eg = d->egress;

	if (!eg)
		return;
	/* Closing link fds leaves the pinned links (and enforcement) in place. */
	for (int i = 0; i < NPROGS; i++)
		bpf_link__destroy(eg->links[i]);
	bpf_link__destroy(eg->lsm_link);
	netlsm_bpf__destroy(eg->lsm);
	egress_bpf__destroy(eg->skel);
	/* A resolver thread still running keeps its job; the process is ending. */
	if (!eg->job_running) {
		close(eg->job_pipe[0]);
		close(eg->job_pipe[1]);
	}
	free(eg->ents);
	free(eg->hosts);
	free(eg->dns);
	free(eg);
	d->egress = NULL;
}
