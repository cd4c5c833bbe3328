/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Maps and matching shared by fileguard (BPF-LSM) and killguard (syscall-entry
 * fallback). Pinned by name like the maps in maps.bpf.h, so both objects and a
 * restarted daemon see the same protected set.
 */
#ifndef MCPGUARD_FILES_BPF_H
#define MCPGUARD_FILES_BPF_H

#include "maps.bpf.h"

/* (dev, ino) of every file the path globs resolve to. dev is the kernel's s_dev. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_FILE_INODES);
	__type(key, struct mg_inode_key);
	__type(value, struct mg_file_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_inodes SEC(".maps");

/*
 * Directories above protected files (~/.aws, ~/.ssh...): renaming them would move
 * the files away from their globs, and the next refresh would drop their inodes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_FILE_INODES);
	__type(key, struct mg_inode_key);
	__type(value, struct mg_file_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_dirs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_BASENAMES);
	__type(key, struct mg_name_key);
	__type(value, struct mg_file_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct mg_files_conf);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_conf SEC(".maps");

/* Fill a basename key from n bytes at src (kernel memory); 0 on success. */
static __always_inline int mg_name_key_fill(struct mg_name_key *k, __u32 kind, const char *src,
					    __u32 n)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->kind = kind;
	if (n == 0 || n >= MG_NAME_LEN)
		return -1;
	/* Keep the mask: clang would drop it after the check and the verifier lose the bound. */
	asm volatile("" : "+r"(n));
	n &= MG_NAME_LEN - 1;
	return bpf_probe_read_kernel(k->name, n, src);
}

static __always_inline int mg_bit(const __u8 *set, __u8 c)
{
	return set[(c >> 3) & 31] & (1 << (c & 7));
}

/* The basename rule matching name[0..len), or NULL. name is kernel memory. */
static __always_inline struct mg_file_rule *mg_match_name(const char *name, __u32 len)
{
	struct mg_name_key k;
	struct mg_files_conf *fc;
	struct mg_file_rule *r;
	__u32 zero = 0, i, n;
	__u8 first = 0, last = 0;

	if (len == 0)
		return 0;
	fc = bpf_map_lookup_elem(&mg_file_conf, &zero);
	if (!fc)
		return 0;
	if (bpf_probe_read_kernel(&first, 1, name) ||
	    bpf_probe_read_kernel(&last, 1, name + len - 1))
		return 0;
	if (len < MG_NAME_LEN && mg_bit(fc->exact_first, first) &&
	    !mg_name_key_fill(&k, MG_NAME_EXACT, name, len)) {
		r = bpf_map_lookup_elem(&mg_file_names, &k);
		if (r)
			return r;
	}
	if (mg_bit(fc->prefix_first, first)) {
		for (i = 0; i < MG_MAX_AFFIX_LENS; i++) {
			if (i >= fc->nprefix)
				break;
			n = fc->prefix_lens[i];
			if (n > len || mg_name_key_fill(&k, MG_NAME_PREFIX, name, n))
				continue;
			r = bpf_map_lookup_elem(&mg_file_names, &k);
			if (r)
				return r;
		}
	}
	if (mg_bit(fc->suffix_last, last)) {
		for (i = 0; i < MG_MAX_AFFIX_LENS; i++) {
			if (i >= fc->nsuffix)
				break;
			n = fc->suffix_lens[i];
			if (n > len || mg_name_key_fill(&k, MG_NAME_SUFFIX, name + (len - n), n))
				continue;
			r = bpf_map_lookup_elem(&mg_file_names, &k);
			if (r)
				return r;
		}
	}
	return 0;
}

#define MG_S_IFMT 00170000
#define MG_S_IFDIR 0040000

struct verdict {
	__u64 dev;
	__u64 ino;
};

/* What a dentry tells about a file: read directly (BTF pointers) or by probe reads. */
struct mg_facts {
	__u64 dev; /* inode->i_sb->s_dev */
	__u64 ino;
	const char *name;
	__u32 len;
	__u16 mode;
	__u16 has_inode;
};

/* Rule protecting this inode, or (for non-directories) this name. */
static __always_inline struct mg_file_rule *mg_match_facts(const struct mg_facts *f,
							   struct verdict *v)
{
	struct mg_inode_key key = {};
	struct mg_file_rule *r;

	if (f->has_inode) {
		key.dev = f->dev;
		key.ino = f->ino;
		v->dev = f->dev;
		v->ino = f->ino;
		r = bpf_map_lookup_elem(&mg_file_inodes, &key);
		if (r)
			return r;
	}
	/* A directory called ".env" is a virtualenv, not a secret: names match files only. */
	if ((f->mode & MG_S_IFMT) == MG_S_IFDIR)
		return 0;
	return mg_match_name(f->name, f->len);
}

/* For a dentry pointer the verifier does not know as a BTF pointer (probe reads). */
static __always_inline struct mg_file_rule *match_dentry(struct dentry *de, struct verdict *v)
{
	struct inode *ino = BPF_CORE_READ(de, d_inode);
	struct mg_facts f = {};

	if (ino) {
		f.has_inode = 1;
		f.dev = BPF_CORE_READ(ino, i_sb, s_dev);
		f.ino = BPF_CORE_READ(ino, i_ino);
		f.mode = BPF_CORE_READ(ino, i_mode);
	}
	f.name = (const char *)BPF_CORE_READ(de, d_name.name);
	f.len = BPF_CORE_READ(de, d_name.len);
	return mg_match_facts(&f, v);
}

/* The action a rule gets under the global audit switch. */
static __always_inline __u32 mg_file_action(const struct mg_config *cfg,
					    const struct mg_file_rule *r)
{
	if (r->action == MG_ACT_BLOCK && cfg->audit_only)
		return MG_ACT_AUDIT;
	return r->action;
}

/*
 * 32-bit atomics need -mcpu=v3; flags and pad share a 64-bit word whose low half
 * is flags on the little-endian targets we build for.
 */
static __always_inline void mg_flags_or(struct mg_session *s, __u32 flags)
{
	__sync_fetch_and_or((__u64 *)&s->flags, (__u64)flags);
}

/*
 * A protected file read under an audit rule taints the session: the egress
 * programs then deny everything outside the allowlist (exfiltration after a read).
 */
static __always_inline void mg_session_mark(__u64 sess, __u32 flags, int deny)
{
	struct mg_session *s = bpf_map_lookup_elem(&mg_sessions, &sess);
	struct mg_session init = {};

	if (s) {
		if (flags)
			mg_flags_or(s, flags);
		if (deny)
			__sync_fetch_and_add(&s->denies, 1);
		return;
	}
	/* Only a taint creates an entry: deny counts are kept for known sessions. */
	if (!flags)
		return;
	init.flags = flags;
	init.denies = deny ? 1 : 0;
	if (!bpf_map_update_elem(&mg_sessions, &sess, &init, BPF_NOEXIST))
		return;
	/* Lost a race with another CPU creating it: apply to that one. */
	s = bpf_map_lookup_elem(&mg_sessions, &sess);
	if (s) {
		mg_flags_or(s, flags);
		if (deny)
			__sync_fetch_and_add(&s->denies, 1);
	}
}

#endif
