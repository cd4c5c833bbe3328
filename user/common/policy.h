/*
 * The one policy that drives both layers. Loaded from YAML (libyaml) over the
 * built-in defaults (policy/default.yaml, compiled in), so a file only needs the
 * keys it changes and no file at all means the secure defaults.
 */
#ifndef MG_POLICY_H
#define MG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pol_action {
	PA_ALLOW = 0,
	PA_WARN = 1,  /* "warn" or "audit": forward / allow, and record */
	PA_STRIP = 2, /* content: redact the offending part, forward the rest */
	PA_BLOCK = 3,
};

struct pol_tool_rule {
	char *name;
	char *tool_pattern; /* PCRE2 regex on the tool name */
	char *arg_pattern; /* PCRE2 regex on the normalized argument text (shell: resolved words) */
	enum pol_action action;
	int line;
};

struct pol_chain {
	char *name;
	char **steps; /* tool classes or name globs, in order; need not be adjacent */
	size_t nsteps;
	enum pol_action action;
	int line;
};

struct pol_cidr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefixlen;
	int line; /* policy line of the list that named it; 0 when not from a file */
};

#define POL_MAX_PORTS 8
struct pol_egress_rule {
	char *name;
	struct pol_cidr *cidrs;
	size_t ncidrs;
	char **hosts; /* resolved by the daemon into the CIDR maps, refreshed */
	size_t nhosts;
	uint16_t ports[POL_MAX_PORTS]; /* none: every port */
	size_t nports;
	enum pol_action action; /* PA_ALLOW, PA_WARN (audit) or PA_BLOCK */
	int line;
};

struct pol_file_rule {
	char *name;
	char **paths; /* globs; "~/" expands to every user's home */
	size_t npaths;
	char **basenames; /* "id_rsa*", "*.pem", ".env": matched in the kernel */
	size_t nbasenames;
	enum pol_action action;
	int line;
};

struct policy {
	char *path; /* NULL: built-in defaults only */

	/* Content (mcpguard run). Section names are the seed article's. */
	struct {
		bool enabled;
		enum pol_action action;
		bool detect_drift;
	} tool_scanning; /* mcp_tool_scanning: poisoning + drift */
	struct {
		bool enabled;
		enum pol_action action;
		enum pol_action on_parse_error;
	} input_scanning; /* mcp_input_scanning: argument DLP, framing */
	struct {
		bool enabled;
		enum pol_action action;
		struct pol_tool_rule *rules;
		size_t nrules;
	} tool_policy; /* mcp_tool_policy: rules + built-in shell rules */
	struct {
		bool enabled;
		enum pol_action action;
		struct pol_chain *chains;
		size_t nchains;
	} tool_chain; /* tool_chain_detection */
	struct {
		bool enabled;
	} session_binding; /* mcp_session_binding */
	struct {
		bool enabled;
		bool strict;
	} sandbox;
	struct {
		bool enabled;
		enum pol_action action;
	} response_scanning; /* mcp_response_scanning: injection in responses */
	struct {
		bool enabled;
		enum pol_action action;
		bool resolve; /* resolve host names and judge their addresses */
	} ssrf;		      /* mcp_ssrf */
	size_t max_message_bytes;
	/* What the kernel does to a session whose proxy blocked a credential leak or a
	 * high-confidence injection: "quarantine" (egress denied), "freeze", "kill", "none". */
	char *session_verdict;
	char *baseline_dir; /* drift baselines; NULL: $XDG_STATE_HOME/mcpguard or
			       ~/.local/state/mcpguard */

	/* Kernel (mcpguardd). */
	bool audit; /* global: every block becomes an audit (also --audit) */
	struct {
		bool enabled;
		enum pol_action default_action; /* for destinations no rule names */
		bool allow_loopback;
		bool deny_raw_sockets;
		struct pol_cidr *dns_resolvers; /* port 53 only to these; none named: any */
		size_t ndns_resolvers;
		unsigned resolve_interval; /* seconds between host name refreshes */
		struct pol_egress_rule *rules;
		size_t nrules;
	} egress;
	struct {
		bool enabled;
		enum pol_action action; /* default action of rules that name none */
		struct pol_file_rule *rules;
		size_t nrules;
	} files;
};

/*
 * Load the built-in defaults and then, if path is not NULL, the file over them.
 * On error returns NULL and writes "FILE:LINE: key 'K': what is wrong" to err.
 */
struct policy *policy_load(const char *path, char *err, size_t errlen);
void policy_free(struct policy *p);
const char *pol_action_name(enum pol_action a);
/* Parse "1.2.3.4", "10.0.0.0/8", "fd00::/8"; returns 0 or -1. */
int pol_parse_cidr(const char *s, struct pol_cidr *out);
/*
 * A prefix as the kernel keys it, in place: an IPv4-mapped IPv6 prefix becomes
 * the IPv4 one (judged in the v4 trie), host bits cleared. The daemon fills its
 * tries with it; the policy check for a prefix named twice compares with it.
 */
void pol_prefix_key(int *family, uint8_t addr[16], int *plen);

#endif
