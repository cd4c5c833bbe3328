/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel/user contract shared by every mcpguard BPF program and mcpguardd:
 * event layout, map keys and values, enums. Fixed-width types only.
 */
#ifndef MCPGUARD_H
#define MCPGUARD_H

#define MG_PIN_ROOT "/sys/fs/bpf/mcpguard"
#define MG_COMM_LEN 16
#define MG_PATH_LEN 256
#define MG_NAME_LEN 64	  /* basename patterns are matched on the last path component */
#define MG_MAX_RULES 1024 /* rule ids index the daemon's name table */
#define MG_MAX_BASENAMES 256
#define MG_MAX_SESSIONS 4096

enum mg_hook {
	MG_HOOK_CONNECT4 = 1,
	MG_HOOK_CONNECT6,
	MG_HOOK_SENDMSG4,
	MG_HOOK_SENDMSG6,
	MG_HOOK_SOCK_CREATE,
	MG_HOOK_FILE_OPEN,    /* lsm/file_open */
	MG_HOOK_INODE_LINK,   /* lsm/path_link */
	MG_HOOK_INODE_RENAME, /* lsm/path_rename */
	MG_HOOK_TRUNCATE,     /* lsm/path_truncate */
	MG_HOOK_EXEC,	      /* lsm/bprm_check_security */
	MG_HOOK_SYS_ENTER,    /* tp_btf/sys_enter kill-on-access fallback */
	MG_HOOK_MAX,
};

enum mg_action {
	MG_ACT_ALLOW = 0,
	MG_ACT_AUDIT = 1, /* allowed, but an event is sent */
	MG_ACT_BLOCK = 2,
	MG_ACT_KILL = 3, /* fallback: SIGKILL the caller */
};

/* Why a verdict was reached when no numbered rule matched. */
enum mg_reason {
	MG_RULE_NONE = 0xffffffffu,
	MG_RULE_DEFAULT = 0xfffffffeu,	  /* policy default for unmatched destinations */
	MG_RULE_QUARANTINE = 0xfffffffdu, /* session quarantined by a verdict */
	MG_RULE_TAINT = 0xfffffffcu,	  /* session tainted by a watched file read */
	MG_RULE_DNS = 0xfffffffbu,	  /* port 53 to a resolver not named in policy */
	MG_RULE_RAWSOCK = 0xfffffffau,
	MG_RULE_LOOPBACK = 0xfffffff9u, /* loopback with allow_loopback off and no rule */
};

/* Global configuration, one element of an array map, written by the daemon. */
struct mg_config {
	__u64 guard_cgid;     /* id of the guarded cgroup (/mcp) */
	__u32 guard_level;    /* its level in the hierarchy, for ancestor lookups */
	__u32 audit_only;     /* --audit: every block becomes an audit */
	__u32 egress_default; /* enum mg_action for destinations no rule names */
	__u32 egress_enabled;
	__u32 files_enabled;
	__u32 dns_restrict; /* port 53 only to resolvers in the dns map */
	__u32 deny_raw_sockets;
	__u32 pad;
	__u32 allow_loopback; /* 127/8, 0.0.0.0, ::1, :: when no rule names them */
	__u32 pad2;
};

/* Per-session state, keyed by the session cgroup id (child of the guarded cgroup). */
#define MG_SESS_QUARANTINE (1u << 0)
#define MG_SESS_TAINTED (1u << 1)
struct mg_session {
	__u32 flags;
	__u32 pad;
	__u64 denies;
};

/* LPM keys. prefixlen counts bits of addr. */
struct mg_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};
struct mg_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Value of an egress rule: which ports (0 = any) and what to do. */
#define MG_MAX_PORTS 8
struct mg_net_rule {
	__u32 rule_id;
	__u32 action; /* enum mg_action */
	__u16 ports[MG_MAX_PORTS];
	__u32 nports;	 /* 0: every port */
	__u32 prefixlen; /* of the trie entry holding it: lets a port miss fall back to a wider
			    prefix */
};

/* Protected file identity, resolved by the daemon from path globs. */
struct mg_inode_key {
	__u64 dev; /* kernel dev_t (new_encode_dev is not applied: s_dev as the kernel holds it) */
	__u64 ino;
};
struct mg_file_rule {
	__u32 rule_id;
	__u32 action;
};

/* Basename patterns: matched in the kernel so files created later are covered. */
enum mg_name_kind {
	MG_NAME_EXACT = 0,
	MG_NAME_PREFIX, /* "id_rsa*" */
	MG_NAME_SUFFIX, /* "*.pem" */
};
struct mg_name_rule {
	char name[MG_NAME_LEN];
	__u32 len;
	__u32 kind;
	__u32 rule_id;
	__u32 action;
};

struct mg_event {
	__u64 ts_ns; /* bpf_ktime_get_boot_ns */
	__u64 cgid;
	__u32 pid;
	__u32 tgid;
	__u32 uid;
	__u32 rule_id;
	__u16 hook;  /* enum mg_hook */
	__u8 action; /* enum mg_action actually taken */
	__u8 family; /* AF_INET / AF_INET6, 0 for files */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u8 pad[1];
	__u16 dport; /* host byte order */
	__u8 daddr[16];
	__u64 dev;
	__u64 ino;
	char comm[MG_COMM_LEN];
	char path[MG_PATH_LEN];
};

/* Counters (per-CPU array indexes). */
enum mg_counter {
	MG_CNT_RINGBUF_DROPS = 0,
	MG_CNT_DENIES,
	MG_CNT_AUDITS,
	MG_CNT_MAX,
};

/*
 * Files (fileguard.bpf.c, killguard.bpf.c). Basename patterns live in one hash map
 * keyed by kind + zero-padded text; the kernel tries the exact name, then each
 * prefix and suffix length the policy uses (few distinct lengths), so a match costs
 * a handful of lookups and no byte loops.
 */
#define MG_MAX_AFFIX_LENS 16
#define MG_MAX_FILE_INODES 16384
#define MG_MAX_FILE_PATHS 4096
/* Fallback: "parent/name", the last two components of a protected file's path. */
#define MG_PAIR_LEN (2 * MG_NAME_LEN)
struct mg_name_key {
	__u32 kind;		/* enum mg_name_kind */
	char name[MG_NAME_LEN]; /* zero-padded; prefixes/suffixes are at most MG_NAME_LEN-1 */
};
struct mg_files_conf {
	__u32 nprefix;
	__u32 nsuffix;
	__u32 dir_rule_id; /* events for renames of directories above protected files */
	__u32 pad;
	__u32 prefix_lens[MG_MAX_AFFIX_LENS];
	__u32 suffix_lens[MG_MAX_AFFIX_LENS];
	/*
	 * Bit c set: some exact name / prefix starts with byte c, some suffix ends
	 * with it. Most names then cost no hash lookup at all.
	 */
	__u8 exact_first[32];
	__u8 prefix_first[32];
	__u8 suffix_last[32];
	/*
	 * Bit n set: some protected absolute path (mg_file_paths) is n bytes long.
	 * A path of another length needs no hash of its 256-byte key.
	 */
	__u8 path_lens[32];
	/* Bit c set: the name part of some "parent/name" pair starts with byte c. */
	__u8 pair_first[32];
};

#endif
