// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Feature probes for `mcpguard doctor`: one tiny program per kind of hook the
 * daemon uses. Each is loaded and attached on its own, and the LSM and tp_btf
 * ones count their calls from the doctor process, so "attached" is told apart
 * from "really called" (an LSM program attaches fine on a kernel whose lsm=
 * list lacks bpf, and then never runs). They never deny anything.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 probe_tgid = 0; /* the doctor's own process */

__u64 lsm_hits = 0;
__u64 tp_hits = 0;

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == probe_tgid;
}

SEC("lsm/file_open")
int BPF_PROG(probe_lsm, struct file *file)
{
	if (mine())
		__sync_fetch_and_add(&lsm_hits, 1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(probe_tp_btf, struct pt_regs *regs, long id)
{
	if (mine())
		__sync_fetch_and_add(&tp_hits, 1);
	return 0;
}

SEC("cgroup/connect4")
int probe_connect4(struct bpf_sock_addr *ctx)
{
	return 1; /* allow */
}
