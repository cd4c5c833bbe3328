// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Credential files under BPF-LSM. A task inside the guarded cgroup may not open a
 * protected file: one whose (dev, ino) the daemon resolved from the policy's path
 * globs, or whose name matches a basename pattern (checked here, so files created
 * later are covered). file_open sees the opened inode whatever the route to it:
 * symlinks, relative and fd-relative paths, /proc/self/fd reopen of an O_PATH fd,
 * openat2, io_uring openat and exec all end in do_dentry_open. O_PATH itself is
 * not an open for reading (no file_open call) and its fd cannot be read.
 * The other hooks close the ways to give a protected file another name or inode
 * identity: hard links, renames (of the file, of its parent directories, or to a
 * protected name), and truncation.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "files.bpf.h"

#define EPERM 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * Self-test: the daemon sets probe_tgid and opens a file, to learn whether the
 * hook really runs (a kernel without "bpf" in its LSM list attaches and never calls).
 */
__u32 probe_tgid = 0;
__u64 probe_hits = 0;

/*
 * Hook arguments are BTF pointers: plain loads (JITed as guarded memory loads) are
 * much cheaper than a bpf_probe_read_kernel call per field on every open.
 */
static __always_inline struct mg_file_rule *match_btf(struct dentry *de, struct verdict *v)
{
	struct inode *ino = de->d_inode;
	struct mg_facts f = {};

	if (ino) {
		f.has_inode = 1;
		f.dev = ino->i_sb->s_dev;
		f.ino = ino->i_ino;
		f.mode = ino->i_mode;
	}
	f.name = (const char *)de->d_name.name;
	f.len = de->d_name.len;
	return mg_match_facts(&f, v);
}

/* Name-only check for the target of a link or rename (the new name). */
static __always_inline struct mg_file_rule *match_new_name(struct dentry *de)
{
	return mg_match_name((const char *)de->d_name.name, de->d_name.len);
}

static __always_inline int protected_dir(struct dentry *de, struct verdict *v)
{
	struct inode *ino = de->d_inode;
	struct mg_inode_key key = {};

	if (!ino)
		return 0;
	key.dev = ino->i_sb->s_dev;
	key.ino = ino->i_ino;
	v->dev = key.dev;
	v->ino = key.ino;
	return bpf_map_lookup_elem(&mg_file_dirs, &key) != 0;
}

/*
 * Apply a matched rule: event, taint on audit, and the return value for the hook.
 * name_de gives the event path when there is no struct path to resolve.
 */
static __always_inline int enforce(const struct mg_config *cfg, __u64 sess, __u16 hook,
				   const struct mg_file_rule *r, const struct verdict *v,
				   const struct path *path, struct dentry *name_de)
{
	__u32 act = mg_file_action(cfg, r);
	struct mg_event *e;

	if (act != MG_ACT_BLOCK && act != MG_ACT_AUDIT)
		return 0;
	mg_session_mark(sess, act == MG_ACT_AUDIT ? MG_SESS_TAINTED : 0, act == MG_ACT_BLOCK);
	e = mg_event_reserve(hook, act, r->rule_id);
	if (e) {
		e->dev = v->dev;
		e->ino = v->ino;
		if (path) {
			if (bpf_d_path((struct path *)path, e->path, sizeof(e->path)) < 0)
				e->path[0] = 0;
		}
		if (!e->path[0] && name_de)
			bpf_probe_read_kernel_str(e->path, sizeof(e->path),
						  BPF_CORE_READ(name_de, d_name.name));
		bpf_ringbuf_submit(e, 0);
	}
	return act == MG_ACT_BLOCK ? -EPERM : 0;
}

SEC("lsm/file_open")
int BPF_PROG(mg_file_open, struct file *file, int ret)
{
	struct mg_config *cfg = mg_get_config();
	struct verdict v = {};
	struct mg_file_rule *r;
	__u64 sess;

	if (probe_tgid && (bpf_get_current_pid_tgid() >> 32) == probe_tgid)
		__sync_fetch_and_add(&probe_hits, 1);
	if (ret)
		return ret; /* an earlier BPF LSM program already decided */
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	r = match_btf(file->f_path.dentry, &v);
	if (!r)
		return 0;
	return enforce(cfg, sess, MG_HOOK_FILE_OPEN, r, &v, &file->f_path, 0);
}

/* link(2): no second name for a protected inode, and no new file under a protected name. */
SEC("lsm/inode_link")
int BPF_PROG(mg_inode_link, struct dentry *old_dentry, struct inode *dir, struct dentry *new_dentry,
	     int ret)
{
	struct dentry *named = old_dentry; /* the event names what matched */
	struct mg_config *cfg = mg_get_config();
	struct verdict v = {};
	struct mg_file_rule *r;
	__u64 sess;

	if (ret)
		return ret; /* an earlier BPF LSM program already decided */
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	r = match_btf(old_dentry, &v);
	if (!r) {
		r = match_new_name(new_dentry);
		named = new_dentry;
	}
	if (!r)
		return 0;
	return enforce(cfg, sess, MG_HOOK_INODE_LINK, r, &v, 0, named);
}

/*
 * rename(2) and RENAME_EXCHANGE (called once per direction): a protected file
 * keeps its name, nothing takes a protected name (it would replace the secret or
 * escape the name check), and the directories above protected files stay put.
 */
SEC("lsm/inode_rename")
int BPF_PROG(mg_inode_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	struct dentry *named = old_dentry; /* the event names what matched */
	struct mg_config *cfg = mg_get_config();
	struct mg_file_rule *r, dir_rule;
	struct verdict v = {};
	__u64 sess;

	if (ret)
		return ret; /* an earlier BPF LSM program already decided */
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	r = match_btf(old_dentry, &v);
	if (!r) {
		struct verdict nv = {};

		/* A protected name, or replacing a protected file, which destroys or swaps it. */
		r = match_btf(new_dentry, &nv);
		if (r) {
			v = nv;
			named = new_dentry;
		}
	}
	if (!r && protected_dir(old_dentry, &v)) {
		/* Always refused (audit mode aside), under the daemon's rule name for it. */
		__u32 zero = 0;
		struct mg_files_conf *fc = bpf_map_lookup_elem(&mg_file_conf, &zero);

		dir_rule.rule_id = fc ? fc->dir_rule_id : MG_RULE_NONE;
		dir_rule.action = MG_ACT_BLOCK;
		r = &dir_rule;
	}
	if (!r)
		return 0;
	return enforce(cfg, sess, MG_HOOK_INODE_RENAME, r, &v, 0, named);
}

/* truncate(2) by path; O_TRUNC opens are refused by file_open already. */
SEC("lsm/path_truncate")
int BPF_PROG(mg_path_truncate, const struct path *path, int ret)
{
	struct mg_config *cfg = mg_get_config();
	struct dentry *de;
	struct verdict v = {};
	struct mg_file_rule *r;
	__u64 sess;

	if (ret)
		return ret; /* an earlier BPF LSM program already decided */
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	de = path->dentry;
	r = match_btf(de, &v);
	if (!r)
		return 0;
	/* bpf_d_path is allowed in file_open only (on 6.1): the event names the file. */
	return enforce(cfg, sess, MG_HOOK_TRUNCATE, r, &v, 0, de);
}
