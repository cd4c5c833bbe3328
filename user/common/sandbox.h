/*
 * The unprivileged sandbox `mcpguard run` puts around the server when no daemon
 * enforces in the kernel: Landlock for the protected files (and TCP ports where the
 * ABI has them), seccomp for the calls a server never needs, no_new_privs.
 * Applied in the child between fork and exec; irreversible for it and its children.
 */
#ifndef MG_SANDBOX_H
#define MG_SANDBOX_H

#include <stdbool.h>

#include "policy.h"

struct sandbox_report {
	int landlock_abi; /* 0: not available */
	int fs_rules;	  /* Landlock rules added */
	int protected;	  /* protected paths that exist and were carved out */
	bool net;	  /* TCP connect restricted (ABI >= 4 and the policy allows by port) */
	bool scoped;	  /* signals and abstract unix sockets scoped (ABI >= 6) */
	bool seccomp;
	char why[256]; /* what could not be applied, in plain words */
};

struct sandbox_opts {
	bool fs;       /* Landlock carve-out of protected paths (no BPF-LSM enforcing) */
	pid_t protect; /* the proxy: the server may not signal or pidfd_open it */
	const char *home_override; /* replaces the homes "~/" expands to (tests) */
};

/*
 * Apply to the calling process: seccomp and Landlock scoping always, the Landlock
 * file carve-out when o->fs. Returns 0, or -1 when policy says strict and a layer
 * is missing, or when a layer that exists fails to apply.
 */
int sandbox_apply(const struct policy *pol, const struct sandbox_opts *o,
		  struct sandbox_report *rep);

/* Expand a policy path glob ("~/" = every home) into existing paths; calls fn for each. */
int sandbox_expand(const char *pattern, const char *home_override,
		   void (*fn)(const char *path, void *arg), void *arg);

#endif
