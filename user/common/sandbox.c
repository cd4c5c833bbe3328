/*
 * Landlock only grants: there is no "deny this file". So the protected set is
 * carved out by granting everything around it: for every directory on the way
 * from / to a protected path, each other entry in it gets full access, and the
 * directory itself only READ_DIR. A file created later directly in such a
 * directory is therefore not readable by the server: the safe side of the trade.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/landlock.h>
#include <pwd.h>
#include <seccomp.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "xmalloc.h"

/* Newer ABI pieces that Debian 12's uapi header predates. */
struct ll_ruleset_attr {
	uint64_t fs;
	uint64_t net;	 /* ABI 4 */
	uint64_t scoped; /* ABI 6 */
};
struct ll_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};
#define LL_RULE_PATH_BENEATH 1
#define LL_RULE_NET_PORT 2
#define LL_FS_REFER (1ULL << 13)
#define LL_FS_TRUNCATE (1ULL << 14)
#define LL_FS_IOCTL_DEV (1ULL << 15)
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0)
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_FS_FILE_RIGHTS                                                                          \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |                              \
	 LANDLOCK_ACCESS_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV)
#define MAX_SANDBOX_PATHS 4096
/*
 * int arguments (pids, socket family) are compared on their low 32 bits: the kernel
 * truncates the register to int, so upper bits set by a raw syscall must not slip
 * past an equality test on all 64.
 */
#define LOW32 0xffffffffULL

struct strset {
	char **v;
	size_t n, cap;
	bool full; /* an entry was dropped at MAX_SANDBOX_PATHS */
};

static int set_has(const struct strset *s, const char *p)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], p) == 0)
			return 1;
	return 0;
}

static void set_add(struct strset *s, const char *p)
{
	if (set_has(s, p))
		return;
	if (s->n >= MAX_SANDBOX_PATHS) {
		s->full = true;
		return;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->v[s->n++] = xstrdup(p);
}

static void set_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int expand_one(const char *pat, void (*fn)(const char *, void *), void *arg)
{
	char buf[PATH_MAX];
	size_t n;
	glob_t g;
	int r;

	/* A trailing any-depth glob protects the whole directory: Landlock works on hierarchies. */
	if (strlen(pat) >= sizeof(buf))
		return -1;
	memcpy(buf, pat, strlen(pat) + 1);
	n = strlen(buf);
	if (n >= 3 && strcmp(buf + n - 3, "/**") == 0)
		buf[n - 3] = '\0';
	r = glob(buf, GLOB_NOSORT, NULL, &g);
	if (r == GLOB_NOMATCH)
		return 0;
	if (r != 0)
		return -1;
	for (size_t i = 0; i < g.gl_pathc; i++)
		fn(g.gl_pathv[i], arg);
	globfree(&g);
	return 0;
}

int sandbox_expand(const char *pattern, const char *home_override,
		   void (*fn)(const char *path, void *arg), void *arg)
{
	char path[PATH_MAX];
	struct passwd *pw;
	struct strset homes = {0};
	int rc = 0;

	if (strncmp(pattern, "~/", 2) != 0)
		return expand_one(pattern, fn, arg);
	if (home_override)
		set_add(&homes, home_override);
	else {
		/* Every user's home: a server may run as anyone, and root's is included. */
		setpwent();
		while ((pw = getpwent()) != NULL)
			if (pw->pw_dir && pw->pw_dir[0] == '/' && strcmp(pw->pw_dir, "/") != 0)
				set_add(&homes, pw->pw_dir);
		endpwent();
		if (getenv("HOME") && getenv("HOME")[0] == '/')
			set_add(&homes, getenv("HOME"));
	}
	if (homes.full)
		rc = -1;
	for (size_t i = 0; i < homes.n; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", homes.v[i], pattern + 2) >=
		    (int)sizeof(path))
			continue;
		if (expand_one(path, fn, arg) < 0)
			rc = -1;
	}
	set_free(&homes);
	return rc;
}

static void collect(const char *path, void *arg)
{
	char real[PATH_MAX];

	/* Protect what the name points at: a symlinked key is the key. */
	if (realpath(path, real))
		set_add(arg, real);
}

static long ll_create(const struct ll_ruleset_attr *a, size_t size, uint32_t flags)
{
	return syscall(SYS_landlock_create_ruleset, a, size, flags);
}

static int ll_add_path(int ruleset, int fd, uint64_t access)
{
	struct landlock_path_beneath_attr pb = {.allowed_access = access, .parent_fd = fd};

	return (int)syscall(SYS_landlock_add_rule, ruleset, LL_RULE_PATH_BENEATH, &pb, 0);
}

/* Grant `access` (narrowed for non-directories) on path; symlinks are skipped. */
static int grant(int ruleset, const char *path, uint64_t access, uint64_t handled)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0; /* vanished or unreadable: stays denied */
	if (fstat(fd, &st) < 0 || S_ISLNK(st.st_mode)) {
		close(fd);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		access &= LL_FS_FILE_RIGHTS;
	access &= handled;
	r = access ? ll_add_path(ruleset, fd, access) : 0;
	close(fd);
	return r < 0 ? -1 : 1;
}

static int landlock_apply(const struct policy *pol, const struct sandbox_opts *o,
			  struct sandbox_report *rep)
{
	struct ll_ruleset_attr attr = {0};
	struct strset prot = {0}, anc = {0};
	uint64_t handled;
	size_t attr_size;
	int abi, ruleset, rc = -1;

	abi = (int)ll_create(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(rep->why, sizeof(rep->why), "Landlock unavailable (%s)", strerror(errno));
		return -1;
	}
	rep->landlock_abi = abi;
	handled = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
	if (abi >= 2)
		handled |= LL_FS_REFER;
	if (abi >= 3)
		handled |= LL_FS_TRUNCATE;
	if (abi >= 5)
		handled |= LL_FS_IOCTL_DEV;
	if (!o->fs)
		handled = 0; /* BPF-LSM guards the files; only scoping is wanted here */
	attr.fs = handled;
	attr_size = sizeof(uint64_t);

	/* TCP connect by port only where the policy is an allowlist of ports. */
	if (abi >= 4 && pol->egress.enabled && pol->egress.default_action == PA_BLOCK &&
	    pol->egress.nrules > 0) {
		bool ports_only = true;

		for (size_t i = 0; i < pol->egress.nrules; i++)
			if (pol->egress.rules[i].action != PA_BLOCK &&
			    pol->egress.rules[i].nports == 0)
				ports_only = false;
		if (ports_only) {
			attr.net = LL_NET_CONNECT_TCP;
			attr_size = 2 * sizeof(uint64_t);
		}
	}
	if (abi >= 6) {
		/* The server may not signal the proxy or reach abstract sockets outside. */
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		attr_size = sizeof(attr);
	}
	if (!attr.fs && !attr.net && !attr.scoped)
		return 0; /* nothing Landlock could add on this kernel */
	ruleset = (int)ll_create(&attr, attr_size, 0);
	if (ruleset < 0) {
		snprintf(rep->why, sizeof(rep->why), "landlock_create_ruleset: %s",
			 strerror(errno));
		return -1;
	}

	/* Only blocking rules: an audit rule means "allowed, but watched" (and tainting). */
	if (pol->files.enabled && o->fs && !pol->audit)
		for (size_t i = 0; i < pol->files.nrules; i++)
			if (pol->files.rules[i].action == PA_BLOCK)
				for (size_t j = 0; j < pol->files.rules[i].npaths; j++)
					if (sandbox_expand(pol->files.rules[i].paths[j],
							   o->home_override, collect, &prot) < 0)
						prot.full = true;
	rep->protected = (int)prot.n;

	/* Ancestors of every protected path, "/" included. */
	if (o->fs)
		set_add(&anc, "/");
	for (size_t i = 0; i < prot.n; i++) {
		char tmp[PATH_MAX];
		char *slash;

		mg_strlcpy(tmp, prot.v[i], sizeof(tmp));
		while ((slash = strrchr(tmp, '/')) != NULL && slash != tmp) {
			*slash = '\0';
			set_add(&anc, tmp);
		}
	}
	/*
	 * A protected path left out of the sets would be granted with its directory's
	 * other entries: refuse rather than leave it readable.
	 */
	if (prot.full || anc.full) {
		snprintf(rep->why, sizeof(rep->why),
			 "Landlock: the protected paths could not all be expanded (at most %d "
			 "paths and %d directories): some would be readable",
			 MAX_SANDBOX_PATHS, MAX_SANDBOX_PATHS);
		goto out;
	}
	for (size_t i = 0; i < anc.n; i++) {
		struct dirent *de;
		DIR *d;

		if (grant(ruleset, anc.v[i], LANDLOCK_ACCESS_FS_READ_DIR, handled) < 0)
			goto fail;
		rep->fs_rules++;
		if ((d = opendir(anc.v[i])) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			char child[PATH_MAX];
			int r;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (snprintf(child, sizeof(child), "%s/%s",
				     strcmp(anc.v[i], "/") == 0 ? "" : anc.v[i],
				     de->d_name) >= (int)sizeof(child))
				continue;
			if (set_has(&anc, child) || set_has(&prot, child))
				continue;
			if ((r = grant(ruleset, child, handled, handled)) < 0) {
				closedir(d);
				goto fail;
			}
			rep->fs_rules += r;
		}
		closedir(d);
	}
	if (attr.net) {
		for (size_t i = 0; i < pol->egress.nrules; i++) {
			const struct pol_egress_rule *r = &pol->egress.rules[i];

			if (r->action == PA_BLOCK)
				continue;
			for (size_t j = 0; j < r->nports; j++) {
				struct ll_net_port_attr np = {LL_NET_CONNECT_TCP, r->ports[j]};

				if (syscall(SYS_landlock_add_rule, ruleset, LL_RULE_NET_PORT, &np,
					    0) < 0)
					goto fail;
			}
		}
		rep->net = true;
	}
	rep->scoped = attr.scoped != 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		goto fail;
	rc = 0;
	goto out;
fail:
	snprintf(rep->why, sizeof(rep->why), "Landlock: %s", strerror(errno));
out:
	close(ruleset);
	set_free(&prot);
	set_free(&anc);
	return rc;
}

static int seccomp_apply(const struct sandbox_opts *o, struct sandbox_report *rep)
{
	static const char *deny[] = {
	    "ptrace",
	    "process_vm_readv",
	    "process_vm_writev",
	    "bpf",
	    "perf_event_open",
	    "unshare",
	    "setns",
	    "mount",
	    "umount2",
	    "pivot_root",
	    "chroot",
	    "fsopen",
	    "fsmount",
	    "fsconfig",
	    "move_mount",
	    "open_tree",
	    "mount_setattr",
	    "init_module",
	    "finit_module",
	    "delete_module",
	    "kexec_load",
	    "kexec_file_load",
	    "open_by_handle_at",
	    "iopl",
	    "ioperm",
	    "swapon",
	    "swapoff",
	    "reboot",
	    "userfaultfd",
	    "keyctl",
	    "add_key",
	    "request_key",
	    "acct",
	    "quotactl",
	    "lookup_dcookie",
	    "syslog",
	    /* io_uring opens and connects do not pass syscall-entry hooks. */
	    "io_uring_setup",
	    "io_uring_enter",
	    "io_uring_register",
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = -1;

	if (!ctx) {
		snprintf(rep->why, sizeof(rep->why), "seccomp_init failed");
		return -1;
	}
	for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		int nr = seccomp_syscall_resolve_name(deny[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0)
			goto out;
	}
	/* New namespaces through clone(): refused. clone3 hides its flags in memory, so
	 * it answers ENOSYS and libc falls back to clone, which we can inspect. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNET, CLONE_NEWNET)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0)
		goto out;
	/* Raw and packet sockets bypass every port and address rule. */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			     SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, AF_PACKET)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, SOCK_RAW)) < 0)
		goto out;
	/* The proxy runs as the same user: keep the server's hands off it. kill(0) and
	 * kill(-1) reach it through the process group and "everyone". */
	if (o->protect > 0 &&
	    (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)o->protect)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, 0)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)-1)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(kill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)-o->protect)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tgkill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)o->protect)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(tkill), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)o->protect)) < 0 ||
	     seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(pidfd_open), 1,
			      SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint32_t)o->protect)) < 0))
		goto out;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0 || seccomp_load(ctx) < 0)
		goto out;
	rep->seccomp = true;
	rc = 0;
out:
	if (rc < 0)
		snprintf(rep->why + strlen(rep->why), sizeof(rep->why) - strlen(rep->why),
			 "%sseccomp filter could not be loaded", rep->why[0] ? "; " : "");
	seccomp_release(ctx);
	return rc;
}

int sandbox_apply(const struct policy *pol, const struct sandbox_opts *o,
		  struct sandbox_report *rep)
{
	int ll, sc;

	memset(rep, 0, sizeof(*rep));
	if (!pol->sandbox.enabled) {
		snprintf(rep->why, sizeof(rep->why), "sandbox disabled by policy");
		return 0;
	}
	ll = landlock_apply(pol, o, rep);
	sc = seccomp_apply(o, rep);
	/* Strict wants the file layer even where the kernel has no Landlock. */
	if (pol->sandbox.strict && (sc < 0 || (o->fs && ll < 0)))
		return -1;
	/* A layer that exists but failed to apply is an error even when not strict. */
	if (sc < 0 || (ll < 0 && rep->landlock_abi > 0))
		return -1;
	return 0;
}
