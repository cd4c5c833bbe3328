/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps shared by every mcpguard BPF object. Pinned by name under MG_PIN_ROOT, so
 * each object opened with that pin root reuses the same map: one ring buffer, one
 * config, one session table, and the state survives a daemon restart.
 */
#ifndef MCPGUARD_MAPS_BPF_H
#define MCPGUARD_MAPS_BPF_H

#include "mcpguard.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, struct mg_session);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_counters SEC(".maps");

static __always_inline struct mg_config *mg_get_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&mg_config, &zero);
}

static __always_inline void mg_count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&mg_counters, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/*
 * The session a task belongs to: its cgroup ancestor one level below the guarded
 * cgroup. Returns 0 when the task is not inside the guarded cgroup.
 */
static __always_inline __u64 mg_session_of_current(const struct mg_config *cfg)
{
	__u64 id;

	if (!cfg || !cfg->guard_cgid)
		return 0;
	id = bpf_get_current_ancestor_cgroup_id(cfg->guard_level);
	if (id != cfg->guard_cgid)
		return 0;
	id = bpf_get_current_ancestor_cgroup_id(cfg->guard_level + 1);
	/* A task directly in the guarded cgroup is its own session. */
	return id ? id : cfg->guard_cgid;
}

/* Reserve, fill the common part, and submit an event; count a drop on failure. */
static __always_inline struct mg_event *mg_event_reserve(__u16 hook, __u8 action, __u32 rule)
{
	struct mg_event *e = bpf_ringbuf_reserve(&mg_events, sizeof(*e), 0);
	__u64 pidtgid;

	if (!e) {
		mg_count(MG_CNT_RINGBUF_DROPS);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	pidtgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_boot_ns();
	e->cgid = bpf_get_current_cgroup_id();
	e->pid = (__u32)pidtgid;
	e->tgid = pidtgid >> 32;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->hook = hook;
	e->action = action;
	e->rule_id = rule;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	mg_count(action == MG_ACT_AUDIT ? MG_CNT_AUDITS : MG_CNT_DENIES);
	return e;
}

#endif
