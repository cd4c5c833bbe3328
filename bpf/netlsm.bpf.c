// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Packet sockets (AF_PACKET) from the guarded cgroup. They put arbitrary frames on
 * the wire past every sock_addr hook, and cgroup/sock_create never sees them: the
 * kernel runs it from inet_create/inet6_create only. So this needs BPF-LSM; the
 * daemon loads it only where files.c found BPF-LSM working, and says so otherwise.
 * AF_INET/AF_INET6 raw and ICMP sockets stay with egress.bpf.c (no LSM needed).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "maps.bpf.h"

#define AF_PACKET 17
#define EPERM 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("lsm/socket_create")
int BPF_PROG(mg_socket_create, int family, int type, int protocol, int kern, int ret)
{
	struct mg_config *cfg;
	struct mg_event *e;
	__u32 action;

	if (ret || kern || family != AF_PACKET)
		return ret;
	cfg = mg_get_config();
	if (!cfg || !cfg->egress_enabled || !cfg->deny_raw_sockets)
		return 0;
	if (!mg_session_of_current(cfg))
		return 0;
	action = cfg->audit_only ? MG_ACT_AUDIT : MG_ACT_BLOCK;
	e = mg_event_reserve(MG_HOOK_SOCK_CREATE, action, MG_RULE_RAWSOCK);
	if (e) {
		e->family = AF_PACKET;
		__builtin_memcpy(e->path, "packet socket", sizeof("packet socket"));
		bpf_ringbuf_submit(e, 0);
	}
	return action == MG_ACT_BLOCK ? -EPERM : 0;
}
