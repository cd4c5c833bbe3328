// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kill-on-access fallback for kernels that refuse BPF-LSM programs. Two checks on
 * a task inside the guarded cgroup, each sending SIGKILL (the caller dies before
 * the syscall returns to it) and writing an MG_ACT_KILL event:
 *
 *  - sys_enter, for every syscall that takes a path to a file it may read, link
 *    or rename: the path STRING. Basename patterns match its last component;
 *    glob-resolved files match by the absolute path the daemon expanded, by their
 *    last two components ("parent/name") in the string, or by the bare name opened
 *    in a directory of that parent name (cwd or dirfd). Where the kernel allows
 *    bpf_probe_write_user (not under lockdown) the path is also blanked so the
 *    syscall itself fails; otherwise a link or rename completes before the kill.
 *  - sys_exit, for the syscalls that return a new fd (open, openat, openat2, creat,
 *    open_by_handle_at): the FILE that fd refers to, by (dev, ino) and its own
 *    name, as the LSM would. This catches what the string hid: symlinks and hard
 *    links with innocent names, "../", /proc/self/fd reopen.
 *
 * Not covered, and said at start: io_uring (no syscall returns the fd); links and
 * renames through names that hide the file; a path rewritten by another thread
 * after entry (TOCTOU); a sibling thread using the new fd before the kill lands.
 * A kill also taints the session, so what escaped cannot be sent out.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "files.bpf.h"

#define SIGKILL 9

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Absolute paths of the glob-resolved files, zero-padded. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_FILE_PATHS);
	__type(key, char[MG_PATH_LEN]);
	__type(value, struct mg_file_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_paths SEC(".maps");

/*
 * "parent/name" of the glob-resolved files: a path string whose last two
 * components are these, or a bare name opened in a directory of that name (cwd or
 * dirfd), names the file even when relative, with "//" or with ".." before them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MG_MAX_FILE_PATHS);
	__type(key, char[MG_PAIR_LEN]);
	__type(value, struct mg_file_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mg_file_pairs SEC(".maps");

struct scratch {
	char path[MG_PATH_LEN] __attribute__((aligned(8))); /* 8-byte stores for the memset */
	char pair[MG_PAIR_LEN] __attribute__((aligned(8)));
	struct mg_file_rule rule; /* what match_user_path found */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} kg_scratch SEC(".maps");

/* The *at syscalls: a path in argument 1 or 3 is relative to the dirfd just before it. */
#define AT_REL (1u << 4)

/*
 * Syscalls and which arguments are paths (bit i = argument i). Numbers are the
 * native table; 32-bit callers (int 0x80 on x86-64) use the ia32 table below.
 */
#if defined(__TARGET_ARCH_x86)
static __always_inline __u32 path_args(long id)
{
	switch (id) {
	case 2:	 /* open */
	case 85: /* creat */
	case 59: /* execve */
	case 76: /* truncate */
	case 88: /* symlink: the target */
		return 1 << 0;
	case 257: /* openat */
	case 437: /* openat2 */
	case 322: /* execveat */
	case 303: /* name_to_handle_at */
		return 1 << 1 | AT_REL;
	case 86: /* link */
	case 82: /* rename */
		return 1 << 0 | 1 << 1;
	case 266: /* symlinkat: the target */
		return 1 << 0;
	case 265: /* linkat */
	case 264: /* renameat */
	case 316: /* renameat2 */
		return 1 << 1 | 1 << 3 | AT_REL;
	}
	return 0;
}

static __always_inline __u32 path_args_ia32(long id)
{
	switch (id) {
	case 5:	  /* open */
	case 8:	  /* creat */
	case 11:  /* execve */
	case 92:  /* truncate */
	case 83:  /* symlink */
	case 304: /* symlinkat */
		return 1 << 0;
	case 295: /* openat */
	case 437: /* openat2 */
	case 358: /* execveat */
	case 341: /* name_to_handle_at */
		return 1 << 1 | AT_REL;
	case 9:	 /* link */
	case 38: /* rename */
		return 1 << 0 | 1 << 1;
	case 303: /* linkat */
	case 302: /* renameat */
	case 353: /* renameat2 */
		return 1 << 1 | 1 << 3 | AT_REL;
	}
	return 0;
}

/* Syscalls that return a new fd for a path: checked again at exit on the file itself. */
static __always_inline int opens_native(long id)
{
	return id == 2 || id == 85 || id == 257 || id == 437 || id == 304;
}

static __always_inline int opens_ia32(long id)
{
	return id == 5 || id == 8 || id == 295 || id == 437 || id == 342;
}

/* regs is a trusted BTF pointer here: a direct load, no probe read on every exit. */
static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return regs->orig_ax;
}

#define TS_COMPAT 0x0002

static __always_inline int is_compat(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return (t->thread_info.status & TS_COMPAT) != 0;
}

static __always_inline unsigned long syscall_arg(struct pt_regs *regs, int i, int compat)
{
	if (compat) {
		/* ia32 ABI: ebx, ecx, edx, esi; pointers are 32-bit. */
		switch (i) {
		case 0:
			return (__u32)BPF_CORE_READ(regs, bx);
		case 1:
			return (__u32)BPF_CORE_READ(regs, cx);
		case 2:
			return (__u32)BPF_CORE_READ(regs, dx);
		default:
			return (__u32)BPF_CORE_READ(regs, si);
		}
	}
	switch (i) {
	case 0:
		return BPF_CORE_READ(regs, di);
	case 1:
		return BPF_CORE_READ(regs, si);
	case 2:
		return BPF_CORE_READ(regs, dx);
	default:
		return BPF_CORE_READ(regs, r10);
	}
}
#elif defined(__TARGET_ARCH_arm64)
static __always_inline __u32 path_args(long id)
{
	switch (id) {
	case 56:  /* openat */
	case 437: /* openat2 */
	case 281: /* execveat */
	case 264: /* name_to_handle_at */
		return 1 << 1 | AT_REL;
	case 221: /* execve */
	case 45:  /* truncate */
	case 36:  /* symlinkat: the target */
		return 1 << 0;
	case 37:  /* linkat */
	case 38:  /* renameat */
	case 276: /* renameat2 */
		return 1 << 1 | 1 << 3 | AT_REL;
	}
	return 0;
}

static __always_inline __u32 path_args_ia32(long id)
{
	return 0;
}

static __always_inline int opens_native(long id)
{
	return id == 56 || id == 437 || id == 265;
}

static __always_inline int opens_ia32(long id)
{
	return 0;
}

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return regs->syscallno;
}

static __always_inline int is_compat(void)
{
	return 0;
}

static __always_inline unsigned long syscall_arg(struct pt_regs *regs, int i, int compat)
{
	return BPF_CORE_READ(regs, regs[i & 3]);
}
#else
#error "killguard: syscall numbers for this architecture are missing"
#endif

struct scan {
	const char *path;
	__u32 len;
	__u32 base; /* index after the last '/' */
	__u32 prev; /* start and end of the last non-empty component before it */
	__u32 pend;
	__u32 state; /* 0: looking for the last '/'; 1: in the '/'s; 2: in the component */
};

/*
 * bpf_loop body, from the end of the path back: the name and the component
 * before it are found without reading the rest of a long path. The verifier
 * checks it once instead of once per character and state.
 */
static long scan_slash(__u32 i, void *ctx)
{
	struct scan *sc = ctx;
	__u32 j;
	char c;

	if (i >= sc->len)
		return 1;
	j = sc->len - 1 - i;
	c = sc->path[j & (MG_PATH_LEN - 1)];
	if (sc->state == 0) {
		if (c == '/') {
			sc->base = j + 1;
			sc->state = 1;
		}
		return 0;
	}
	if (sc->state == 1) { /* "a//b": empty components do not count */
		if (c != '/') {
			sc->pend = j + 1;
			sc->state = 2;
		}
		return 0;
	}
	if (c != '/')
		return 0;
	sc->prev = j + 1;
	return 1;
}

#define AT_FDCWD -100

/* The current task's open file for fd, or NULL. */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt; /* trusted task: plain loads */
	unsigned int max = fdt->max_fds;
	struct file **fds = fdt->fd;
	struct file *f = 0;

	if (fd < 0 || (unsigned int)fd >= max)
		return 0;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return 0;
	return f;
}

/* Name of the directory a relative path starts from: the cwd or dirfd's dentry. */
static __always_inline const unsigned char *dir_name(int dirfd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct file *f;

	if (dirfd == AT_FDCWD)
		return t->fs->pwd.dentry->d_name.name;
	f = fd_file(dirfd);
	if (!f)
		return 0;
	return BPF_CORE_READ(f, f_path.dentry, d_name.name);
}

/* Look up "parent/name" where the parent is a string in the path or a dentry name. */
static __always_inline struct mg_file_rule *match_pair(struct scratch *s, const struct scan *sc,
						       int dirfd)
{
	__u32 nlen = sc->len - sc->base, plen = 0, zero = 0;
	const unsigned char *dname;
	struct mg_files_conf *fc;
	long n;

	if (nlen == 0 || nlen >= MG_NAME_LEN || sc->base >= MG_PATH_LEN)
		return 0;
	/* No pair has this name's first byte: no key to build, no 128-byte hash. */
	fc = bpf_map_lookup_elem(&mg_file_conf, &zero);
	if (fc && !mg_bit(fc->pair_first, (__u8)s->path[sc->base & (MG_PATH_LEN - 1)]))
		return 0;
	__builtin_memset(s->pair, 0, sizeof(s->pair));
	if (sc->pend > sc->prev && !(sc->pend - sc->prev == 1 && s->path[sc->prev & 255] == '.')) {
		plen = sc->pend - sc->prev;
		if (plen == 2 && s->path[sc->prev & 255] == '.' &&
		    s->path[(sc->prev + 1) & 255] == '.')
			return 0; /* "../name": the parent is not in the string */
		if (plen >= MG_NAME_LEN || sc->prev >= MG_PATH_LEN)
			return 0;
		asm volatile("" : "+r"(plen));
		plen &= MG_NAME_LEN - 1;
		if (bpf_probe_read_kernel(s->pair, plen, s->path + sc->prev))
			return 0;
	} else {
		/* "name" or "./name": relative to the cwd or dirfd; "/name" has no parent name. */
		if (s->path[0] == '/')
			return 0;
		dname = dir_name(dirfd);
		if (!dname)
			return 0;
		n = bpf_probe_read_kernel_str(s->pair, MG_NAME_LEN, dname);
		if (n <= 1)
			return 0;
		plen = (n - 1) & (MG_NAME_LEN - 1);
	}
	s->pair[plen & (MG_NAME_LEN - 1)] = '/';
	asm volatile("" : "+r"(nlen));
	nlen &= MG_NAME_LEN - 1;
	if (bpf_probe_read_kernel(s->pair + (plen & (MG_NAME_LEN - 1)) + 1, nlen,
				  s->path + (sc->base & (MG_PATH_LEN - 1))))
		return 0;
	return bpf_map_lookup_elem(&mg_file_pairs, s->pair);
}

/*
 * Check one user path (relative to dirfd); 1 with the path and the rule left in
 * this CPU's scratch. A global function: the verifier checks it once, not once
 * per call site and caller state (as a static one, the four calls below took
 * some kernels past the verifier's million-instruction limit). It takes only
 * scalars and looks the scratch up itself: older kernels refuse a pointer
 * argument (PTR_TO_MEM) as a map key.
 */
__noinline int match_user_path(unsigned long uptr, int dirfd)
{
	struct mg_files_conf *fc;
	struct mg_file_rule *r;
	struct scratch *s;
	__u32 zero = 0;
	long n;

	s = bpf_map_lookup_elem(&kg_scratch, &zero);
	if (!s)
		return 0;

	struct scan sc = {.path = s->path};

	__builtin_memset(s->path, 0, sizeof(s->path));
	n = bpf_probe_read_user_str(s->path, sizeof(s->path), (const void *)uptr);
	if (n <= 1)
		return 0;
	sc.len = n - 1;
	r = 0;
	fc = bpf_map_lookup_elem(&mg_file_conf, &zero);
	if (s->path[0] == '/' && (!fc || mg_bit(fc->path_lens, (__u8)sc.len)))
		r = bpf_map_lookup_elem(&mg_file_paths, s->path);
	if (!r) {
		bpf_loop(MG_PATH_LEN, scan_slash, &sc, 0);
		if (sc.base >= sc.len || sc.base >= MG_PATH_LEN)
			return 0;
		r = mg_match_name(s->path + sc.base, sc.len - sc.base);
	}
	if (!r)
		r = match_pair(s, &sc, dirfd);
	if (!r)
		return 0;
	s->rule = *r;
	return 1;
}

static __always_inline int on_sys_enter(struct pt_regs *regs, long id, const int blank)
{
	struct mg_file_rule *r = 0;
	struct mg_config *cfg;
	struct scratch *s;
	struct mg_event *e;
	unsigned long uptr = 0;
	__u32 zero = 0, args, act;
	int dirfd;
	char nul = 0;
	__u64 sess;
	int compat, i;

	/* Every syscall on the host passes here: decide on the number first. */
	args = path_args(id) | path_args_ia32(id);
	if (!args)
		return 0;
	cfg = mg_get_config();
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	compat = is_compat();
	args = compat ? path_args_ia32(id) : path_args(id);
	s = bpf_map_lookup_elem(&kg_scratch, &zero);
	if (!s)
		return 0;
	for (i = 0; i < 4; i++) {
		if (!(args & (1u << i)))
			continue;
		uptr = syscall_arg(regs, i, compat);
		dirfd = (args & AT_REL) && i > 0 ? (int)syscall_arg(regs, i - 1, compat) : AT_FDCWD;
		if (match_user_path(uptr, dirfd)) {
			r = &s->rule;
			break;
		}
	}
	if (!r)
		return 0;
	act = mg_file_action(cfg, r);
	if (act == MG_ACT_BLOCK)
		act = MG_ACT_KILL;
	else if (act != MG_ACT_AUDIT)
		return 0;
	/*
	 * Taint on a kill too: the syscall may still complete (see above), e.g. a
	 * rename that moves the secret out of its name for a sibling to read; the
	 * tainted session then has no egress outside the allowlist.
	 */
	mg_session_mark(sess, MG_SESS_TAINTED, act == MG_ACT_KILL);
	if (act == MG_ACT_KILL) {
		bpf_send_signal(SIGKILL);
		/*
		 * SIGKILL lands only when the syscall returns: blank the caller's path so
		 * the syscall itself fails (ENOENT) instead of opening, linking or
		 * renaming. The caller dies, so its memory no longer matters; a path in
		 * read-only memory cannot be blanked, and then only the kill remains.
		 */
		if (blank)
			bpf_probe_write_user((void *)uptr, &nul, 1);
	}
	e = mg_event_reserve(MG_HOOK_SYS_ENTER, act, r->rule_id);
	if (e) {
		__builtin_memcpy(e->path, s->path, sizeof(e->path));
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}

/*
 * Two builds of the same program: kernels under lockdown (or without
 * CAP_SYS_ADMIN) refuse bpf_probe_write_user, and the daemon then loads the
 * second one (bpf_program__set_autoload) and says the path is not blanked.
 */
SEC("tp_btf/sys_enter")
int BPF_PROG(mg_sys_enter_blank, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id, 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(mg_sys_enter, struct pt_regs *regs, long id)
{
	return on_sys_enter(regs, id, 0);
}

/*
 * At exit of an open that succeeded, judge the file the fd refers to, as the LSM
 * would: its (dev, ino) and its own name. This catches what the path string hid
 * (symlinks and hard links with innocent names, "..", /proc/self/fd reopen). The
 * fd exists by now, so the caller is killed before it returns to user space.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(mg_sys_exit, struct pt_regs *regs, long ret)
{
	struct mg_config *cfg;
	struct mg_file_rule *r;
	struct verdict v = {};
	struct mg_event *e;
	struct file *f;
	long id;
	__u64 sess;
	__u32 act;

	if (ret < 0)
		return 0;
	id = syscall_nr(regs);
	if (!opens_native(id) && !opens_ia32(id))
		return 0;
	cfg = mg_get_config();
	if (!cfg || !cfg->files_enabled)
		return 0;
	sess = mg_session_of_current(cfg);
	if (!sess)
		return 0;
	if (!(is_compat() ? opens_ia32(id) : opens_native(id)))
		return 0;
	f = fd_file((int)ret);
	if (!f)
		return 0;
	r = match_dentry(BPF_CORE_READ(f, f_path.dentry), &v);
	if (!r)
		return 0;
	act = mg_file_action(cfg, r);
	if (act == MG_ACT_BLOCK)
		act = MG_ACT_KILL;
	else if (act != MG_ACT_AUDIT)
		return 0;
	mg_session_mark(sess, MG_SESS_TAINTED, act == MG_ACT_KILL);
	if (act == MG_ACT_KILL)
		bpf_send_signal(SIGKILL);
	e = mg_event_reserve(MG_HOOK_SYS_ENTER, act, r->rule_id);
	if (e) {
		e->dev = v.dev;
		e->ino = v.ino;
		bpf_probe_read_kernel_str(e->path, sizeof(e->path),
					  BPF_CORE_READ(f, f_path.dentry, d_name.name));
		bpf_ringbuf_submit(e, 0);
	}
	return 0;
}
