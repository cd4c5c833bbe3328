// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Network egress of the guarded cgroup: connect4/6 (TCP, connected UDP), sendmsg4/6
 * (unconnected UDP) and sock_create (raw and ICMP sockets).
 *
 * Verdict, in this order:
 *   1. not inside the guarded cgroup, or egress disabled: allow, no event.
 *   2. session quarantined (a verdict of the proxy): every destination is refused,
 *      loopback and rule-allowed ones included. Quarantine is containment; the
 *      operator lifts it, not the policy.
 *   3. port 53 when dns_restrict: allowed only to a resolver in eg_dns, whatever the
 *      rule tries say (a resolver may sit in a private range); else refused ("dns").
 *   4. the longest prefix in the v4 or v6 trie whose port list takes the port; a
 *      port miss falls back to the next wider prefix (value.prefixlen - 1). IPv4-mapped
 *      IPv6 (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) go to the v4 trie.
 *   5. no rule: loopback (127/8, ::1, and 0.0.0.0 / :: which reach the local host)
 *      follows config.allow_loopback; anything else config.egress_default.
 *   6. session tainted: anything but a rule with action allow is refused ("taint").
 *   7. audit_only turns a block into an audit. Blocks and audits send an event.
 * Returning 0 from a sock_addr program makes the syscall fail with EPERM.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_RAW 3
#define SOCK_PACKET 10
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_UDPLITE 136
#define PROTO_MPTCP 262
#define DNS_PORT 53
#define MAX_WALK 8 /* nested prefixes a port miss may fall back through */
#define MAX_NET_ENTRIES 16384

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_NET_ENTRIES);
	__type(key, struct mg_lpm4);
	__type(value, struct mg_net_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} eg_rules4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MAX_NET_ENTRIES);
	__type(key, struct mg_lpm6);
	__type(value, struct mg_net_rule);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} eg_rules6 SEC(".maps");

/* Resolvers port 53 may reach; IPv4 ones stored as ::ffff:a.b.c.d/(96 + len). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__type(key, struct mg_lpm6);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} eg_dns SEC(".maps");

static __always_inline int port_ok(const struct mg_net_rule *r, __u16 port)
{
	if (r->nports == 0)
		return 1;
#pragma unroll
	for (int i = 0; i < MG_MAX_PORTS; i++) {
		if (i >= r->nports)
			break;
		if (r->ports[i] == port)
			return 1;
	}
	return 0;
}

static __always_inline const struct mg_net_rule *lookup4(__u32 ip, __u16 port)
{
	struct mg_lpm4 key = {.prefixlen = 32};
	const struct mg_net_rule *r;

	__builtin_memcpy(key.addr, &ip, 4);
	for (int i = 0; i < MAX_WALK; i++) {
		r = bpf_map_lookup_elem(&eg_rules4, &key);
		if (!r)
			return 0;
		if (port_ok(r, port))
			return r;
		if (r->prefixlen == 0 || r->prefixlen > key.prefixlen)
			return 0;
		key.prefixlen = r->prefixlen - 1;
	}
	return 0;
}

static __always_inline const struct mg_net_rule *lookup6(const __u32 ip[4], __u16 port)
{
	struct mg_lpm6 key = {.prefixlen = 128};
	const struct mg_net_rule *r;

	__builtin_memcpy(key.addr, ip, 16);
	for (int i = 0; i < MAX_WALK; i++) {
		r = bpf_map_lookup_elem(&eg_rules6, &key);
		if (!r)
			return 0;
		if (port_ok(r, port))
			return r;
		if (r->prefixlen == 0 || r->prefixlen > key.prefixlen)
			return 0;
		key.prefixlen = r->prefixlen - 1;
	}
	return 0;
}

static __always_inline int dns_resolver(const __u32 ip[4])
{
	struct mg_lpm6 key = {.prefixlen = 128};

	__builtin_memcpy(key.addr, ip, 16);
	return bpf_map_lookup_elem(&eg_dns, &key) != 0;
}

/* 127/8, ::1, and the unspecified addresses, which connect to the local host too. */
static __always_inline int is_loopback(const __u32 ip[4], int is4)
{
	if (is4)
		return (bpf_ntohl(ip[3]) >> 24) == 127 || ip[3] == 0;
	return ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && (ip[3] == 0 || ip[3] == bpf_htonl(1));
}

static __always_inline int egress(struct bpf_sock_addr *ctx, __u16 hook, int v6)
{
	struct mg_config *cfg = mg_get_config();
	const struct mg_net_rule *r = 0;
	struct mg_session *s;
	struct mg_event *e;
	__u32 ip[4], action, rule, flags;
	__u16 port;
	__u64 sess;
	int is4;

	if (!cfg || !cfg->egress_enabled)
		return 1;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 1;
	port = bpf_ntohs((__u16)ctx->user_port);
	if (v6) {
		ip[0] = ctx->user_ip6[0];
		ip[1] = ctx->user_ip6[1];
		ip[2] = ctx->user_ip6[2];
		ip[3] = ctx->user_ip6[3];
		/* ::ffff:a.b.c.d is IPv4 on this host; 64:ff9b::a.b.c.d is IPv4 through
		 * any NAT64 gateway on the path (RFC 6052), private ranges included. */
		is4 = (ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0xffff)) ||
		      (ip[0] == bpf_htonl(0x0064ff9b) && ip[1] == 0 && ip[2] == 0);
	} else {
		/* Kept in mapped form so the resolver trie has one key shape. */
		ip[0] = 0;
		ip[1] = 0;
		ip[2] = bpf_htonl(0xffff);
		ip[3] = ctx->user_ip4;
		is4 = 1;
	}

	s = bpf_map_lookup_elem(&mg_sessions, &sess);
	flags = s ? s->flags : 0;
	if (flags & MG_SESS_QUARANTINE) {
		action = MG_ACT_BLOCK;
		rule = MG_RULE_QUARANTINE;
		goto verdict;
	}
	if (port == DNS_PORT && cfg->dns_restrict) {
		__u32 mapped[4] = {0, 0, bpf_htonl(0xffff), ip[3]};

		if (dns_resolver(is4 ? mapped : ip))
			return 1;
		action = MG_ACT_BLOCK;
		rule = MG_RULE_DNS;
		goto verdict;
	}
	r = is4 ? lookup4(ip[3], port) : lookup6(ip, port);
	if (r) {
		action = r->action;
		rule = r->rule_id;
	} else if (is_loopback(ip, is4)) {
		action = cfg->allow_loopback ? MG_ACT_ALLOW : MG_ACT_BLOCK;
		rule = MG_RULE_LOOPBACK;
	} else {
		action = cfg->egress_default;
		rule = MG_RULE_DEFAULT;
	}
	/* Policy-allowed loopback counts as explicitly allowed. */
	if ((flags & MG_SESS_TAINTED) && !(r && r->action == MG_ACT_ALLOW) &&
	    !(rule == MG_RULE_LOOPBACK && action == MG_ACT_ALLOW)) {
		action = MG_ACT_BLOCK;
		rule = MG_RULE_TAINT;
	}

verdict:
	if (action == MG_ACT_ALLOW)
		return 1;
	if (action != MG_ACT_AUDIT)
		action = cfg->audit_only ? MG_ACT_AUDIT : MG_ACT_BLOCK;
	if (action == MG_ACT_BLOCK && s)
		__sync_fetch_and_add(&s->denies, 1);
	e = mg_event_reserve(hook, action, rule);
	if (e) {
		e->proto = ctx->protocol;
		e->dport = port;
		if (v6) {
			e->family = AF_INET6;
			__builtin_memcpy(e->daddr, ip, 16);
		} else {
			e->family = AF_INET;
			__builtin_memcpy(e->daddr, &ip[3], 4);
		}
		bpf_ringbuf_submit(e, 0);
	}
	return action == MG_ACT_AUDIT;
}

SEC("cgroup/connect4")
int mg_connect4(struct bpf_sock_addr *ctx)
{
	return egress(ctx, MG_HOOK_CONNECT4, 0);
}

SEC("cgroup/connect6")
int mg_connect6(struct bpf_sock_addr *ctx)
{
	return egress(ctx, MG_HOOK_CONNECT6, 1);
}

SEC("cgroup/sendmsg4")
int mg_sendmsg4(struct bpf_sock_addr *ctx)
{
	return egress(ctx, MG_HOOK_SENDMSG4, 0);
}

SEC("cgroup/sendmsg6")
int mg_sendmsg6(struct bpf_sock_addr *ctx)
{
	return egress(ctx, MG_HOOK_SENDMSG6, 1);
}

/*
 * Raw IP sockets bypass the sock_addr hooks, and so do ICMP "ping" sockets (datagram,
 * unprivileged, arbitrary payload) and protocols whose sendmsg has no cgroup hook
 * (SCTP, L2TP/IP...). So only the protocols the hooks above see are let through:
 * TCP, UDP, UDP-Lite and MPTCP (whose subflows pass connect4/6). This hook only sees
 * AF_INET/AF_INET6 sockets: the kernel runs it from inet_create/inet6_create, so
 * AF_PACKET is left to netlsm.bpf.c.
 */
SEC("cgroup/sock_create")
int mg_sock_create(struct bpf_sock *sk)
{
	struct mg_config *cfg = mg_get_config();
	__u32 family, type, proto, action;
	struct mg_event *e;
	int ping, hooked;

	if (!cfg || !cfg->egress_enabled || !cfg->deny_raw_sockets)
		return 1;
	if (!mg_session_of_current(cfg))
		return 1;
	family = sk->family;
	type = sk->type;
	proto = sk->protocol;
	ping = (family == AF_INET && proto == PROTO_ICMP) ||
	       (family == AF_INET6 && proto == PROTO_ICMPV6);
	hooked = proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_UDPLITE ||
		 proto == PROTO_MPTCP;
	if (type != SOCK_RAW && type != SOCK_PACKET && hooked)
		return 1;
	action = cfg->audit_only ? MG_ACT_AUDIT : MG_ACT_BLOCK;
	e = mg_event_reserve(MG_HOOK_SOCK_CREATE, action, MG_RULE_RAWSOCK);
	if (e) {
		e->family = family;
		e->proto = proto;
		if (type == SOCK_RAW)
			__builtin_memcpy(e->path, "raw socket", sizeof("raw socket"));
		else if (type == SOCK_PACKET)
			__builtin_memcpy(e->path, "packet socket", sizeof("packet socket"));
		else if (ping)
			__builtin_memcpy(e->path, "icmp socket", sizeof("icmp socket"));
		else
			__builtin_memcpy(e->path, "unhooked protocol socket",
					 sizeof("unhooked protocol socket"));
		bpf_ringbuf_submit(e, 0);
	}
	return action == MG_ACT_AUDIT;
}
