/*
 * mcpguard doctor [--json]: is this machine able to enforce? Every kernel feature
 * mcpguard uses is tried for real (programs loaded, attached and seen to run),
 * explained in plain words, and for what is missing the exact way to enable it.
 * Exit: 0 full enforcement possible, 1 degraded, 2 not possible (or not root).
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <zlib.h>

#include "cmds.h"
#include "ctl.h"
#include "dlp.h"
#include "doctor.h"
#include "injection.h"
#include "mpm.h"
#include "poison.h"
#include "probe.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

#define GRUB_EXAMPLE "lsm=landlock,lockdown,yama,integrity,apparmor,bpf"

enum cstat { C_OK, C_WARN, C_FAIL, C_SKIP };
static const char *const cstat_word[] = {"ok", "warn", "FAIL", "skip"};

struct check {
	const char *id;
	const char *title;
	enum cstat st;
	char detail[512];
	char fix[768];
	const char *why;
};

enum { CG, BTF, BPFFS, LSM, TPBTF, SOCKADDR, RINGBUF, LANDLOCK, SECCOMP, USERNS, SCANNER, NCHECKS };

static struct check checks[NCHECKS] = {
    [CG] = {"cgroup2", "cgroup v2", C_SKIP, "", "",
	    "MCP servers run in a guarded cgroup; the network hooks attach to it"},
    [BTF] = {"btf", "BTF", C_SKIP, "", "",
	     "the BPF programs are compiled once and adapted to this kernel with its type "
	     "information (CO-RE)"},
    [BPFFS] = {"bpffs", "bpffs", C_SKIP, "", "",
	       "maps and links are pinned there so enforcement survives a daemon restart"},
    [LSM] = {"bpf_lsm", "BPF-LSM", C_SKIP, "", "",
	     "denies opening, linking, renaming or truncating credential files with EPERM"},
    [TPBTF] = {"tp_btf", "tp_btf fallback", C_SKIP, "", "",
	       "without BPF-LSM, kills a guarded process at the syscall that names a "
	       "protected file (weaker: path strings, not files)"},
    [SOCKADDR] = {"cgroup_sock_addr", "cgroup sock_addr", C_SKIP, "", "",
		  "connect/sendmsg hooks decide network egress for guarded processes"},
    [RINGBUF] = {"ringbuf", "BPF ring buffer", C_SKIP, "", "",
		 "carries kernel deny/audit events to the daemon"},
    [LANDLOCK] = {"landlock", "Landlock", C_SKIP, "", "",
		  "mcpguard run's unprivileged sandbox hides protected files from the server"},
    [SECCOMP] = {"seccomp", "seccomp", C_SKIP, "", "",
		 "mcpguard run denies the server dangerous syscalls (ptrace, mount, bpf, "
		 "io_uring, new user namespaces)"},
    [USERNS] = {"userns", "unprivileged user namespaces", C_SKIP, "", "",
		"a way for an unprivileged process to gain capabilities in a new namespace; "
		"the sandbox denies it to MCP servers"},
    [SCANNER] = {"scanner", "content scanner", C_SKIP, "", "",
		 "mcpguard run scans every message with these pattern databases and does not "
		 "start without them"},
};

static void set(int i, enum cstat st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set(int i, enum cstat st, const char *fmt, ...)
{
	va_list ap;

	checks[i].st = st;
	va_start(ap, fmt);
	vsnprintf(checks[i].detail, sizeof(checks[i].detail), fmt, ap);
	va_end(ap);
}

static void fix(int i, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fix(int i, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(checks[i].fix, sizeof(checks[i].fix), fmt, ap);
	va_end(ap);
}

static int quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	(void)l, (void)fmt, (void)ap;
	return 0;
}

/* ---- facts that explain failures ---- */

static char lsm_list[256]; /* /sys/kernel/security/lsm, "" if unreadable */
static char lockdown[128]; /* /sys/kernel/security/lockdown */
static char cg_mount[4096];
static int cfg_bpf_lsm = -1; /* CONFIG_BPF_LSM from the kernel config: 1, 0, -1 unknown */

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* Kernel config from /boot/config-$(uname -r) or /proc/config.gz (gzread reads both). */
static void read_kconfig(void)
{
	struct utsname u;
	char path[512], line[256];
	const char *tries[2] = {path, "/proc/config.gz"};

	if (uname(&u) < 0)
		return;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	for (int i = 0; i < 2; i++) {
		gzFile g = gzopen(tries[i], "rb");

		if (!g)
			continue;
		cfg_bpf_lsm = 0;
		while (gzgets(g, line, sizeof(line)))
			if (strncmp(line, "CONFIG_BPF_LSM=y", 16) == 0)
				cfg_bpf_lsm = 1;
		gzclose(g);
		return;
	}
}

static int find_cgroup2(char *out, size_t len)
{
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = 0;

	if (!fp)
		return -1;
	while (!found && getline(&line, &cap, fp) > 0) {
		char *sep = strstr(line, " - "), *f[5] = {0}, *save = NULL, *p;
		int n = 0;

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		for (p = strtok_r(line, " ", &save); p && n < 5; p = strtok_r(NULL, " ", &save))
			f[n++] = p;
		if (n == 5) {
			snprintf(out, len, "%s", f[4]);
			found = 1;
		}
	}
	free(line);
	fclose(fp);
	return found ? 0 : -1;
}

/* ---- checks ---- */

static void check_cgroup2(void)
{
	if (find_cgroup2(cg_mount, sizeof(cg_mount)) == 0) {
		set(CG, C_OK, "mounted at %s", cg_mount);
		return;
	}
	set(CG, C_FAIL, "no cgroup2 file system is mounted");
	fix(CG, "mount it: mount -t cgroup2 none /sys/fs/cgroup (systemd does this when booted "
		"with systemd.unified_cgroup_hierarchy=1)");
}

static void check_btf(void)
{
	struct btf *b;

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		set(BTF, C_FAIL, "/sys/kernel/btf/vmlinux is missing");
		fix(BTF, "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default in Debian, "
			 "Ubuntu, Fedora and RHEL kernels)");
		return;
	}
	b = btf__load_vmlinux_btf();
	if (!b) {
		set(BTF, C_FAIL, "/sys/kernel/btf/vmlinux cannot be parsed: %s", strerror(errno));
		return;
	}
	set(BTF, C_OK, "/sys/kernel/btf/vmlinux (%u types)", btf__type_cnt(b));
	btf__free(b);
}

static void check_bpffs(void)
{
	struct statfs sf;

	if (statfs("/sys/fs/bpf", &sf) == 0 && (unsigned long)sf.f_type == BPF_FS_MAGIC) {
		set(BPFFS, C_OK, "mounted at /sys/fs/bpf");
		return;
	}
	set(BPFFS, C_FAIL, "/sys/fs/bpf is not a bpf file system");
	fix(BPFFS, "mount -t bpf bpf /sys/fs/bpf (add \"bpf /sys/fs/bpf bpf defaults 0 0\" to "
		   "/etc/fstab to keep it)");
}

/* Load (and attach) one program of the probe object; returns 0 or -errno, *hits after a trigger. */
enum probe_kind { P_LSM, P_TPBTF, P_SOCKADDR };

static int probe(enum probe_kind k, char *why, size_t whylen)
{
	struct probe_bpf *s;
	struct bpf_program *keep;
	struct bpf_link *link = NULL;
	char cg[4200] = "";
	int err, cgfd = -1;

	if (!(s = probe_bpf__open())) {
		snprintf(why, whylen, "cannot open the probe object: %s", strerror(errno));
		return -errno;
	}
	s->rodata->probe_tgid = (__u32)getpid();
	keep = k == P_LSM     ? s->progs.probe_lsm
	       : k == P_TPBTF ? s->progs.probe_tp_btf
			      : s->progs.probe_connect4;
	bpf_program__set_autoload(s->progs.probe_lsm, keep == s->progs.probe_lsm);
	bpf_program__set_autoload(s->progs.probe_tp_btf, keep == s->progs.probe_tp_btf);
	bpf_program__set_autoload(s->progs.probe_connect4, keep == s->progs.probe_connect4);
	if ((err = probe_bpf__load(s)) < 0) {
		snprintf(why, whylen, "loading the program was refused: %s", strerror(-err));
		goto out;
	}
	if (k == P_SOCKADDR) {
		/* a private, empty cgroup: the probe never sees anyone's traffic */
		if (!cg_mount[0]) {
			err = -ENOENT;
			snprintf(why, whylen, "no cgroup2 mount to attach to");
			goto out;
		}
		snprintf(cg, sizeof(cg), "%s/mcpguard-doctor.%d", cg_mount, (int)getpid());
		if (mkdir(cg, 0700) < 0 || (cgfd = open(cg, O_RDONLY | O_DIRECTORY)) < 0) {
			err = -errno;
			snprintf(why, whylen, "cannot create a test cgroup %s: %s", cg,
				 strerror(errno));
			goto out;
		}
		link = bpf_program__attach_cgroup(keep, cgfd);
	} else {
		link = bpf_program__attach(keep);
	}
	if (!link) {
		err = -errno;
		snprintf(why, whylen, "loaded, but attaching was refused: %s", strerror(errno));
		goto out;
	}
	/* make the hook fire in this process */
	if (k == P_LSM) {
		int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

		if (fd >= 0)
			close(fd);
		if (s->bss->lsm_hits == 0) {
			err = -ENOEXEC;
			snprintf(why, whylen,
				 "loaded and attached, but the kernel never called it: bpf is not "
				 "in the active LSM list");
		}
	} else if (k == P_TPBTF) {
		(void)getppid();
		if (s->bss->tp_hits == 0) {
			err = -ENOEXEC;
			snprintf(why, whylen, "loaded and attached, but never called");
		}
	}
out:
	bpf_link__destroy(link);
	if (cgfd >= 0)
		close(cgfd);
	if (cg[0])
		rmdir(cg);
	probe_bpf__destroy(s);
	return err;
}

static void check_lsm(void)
{
	char why[256], list[300];
	int err = probe(P_LSM, why, sizeof(why));
	int listed = lsm_list[0] && strstr(lsm_list, "bpf") != NULL;

	if (err == 0) {
		set(LSM, C_OK, "an lsm/file_open program loaded, attached and ran");
		return;
	}
	set(LSM, C_FAIL, "%s%s%s", why,
	    lsm_list[0] ? "; active LSMs: " : "; /sys/kernel/security/lsm is not readable",
	    lsm_list[0] ? lsm_list : "");
	if (cfg_bpf_lsm == 0) {
		fix(LSM,
		    "this kernel is built without CONFIG_BPF_LSM: use a kernel with "
		    "CONFIG_BPF_LSM=y (Debian, Ubuntu and Fedora kernels have it), then boot it "
		    "with bpf in the LSM list: in /etc/default/grub set "
		    "GRUB_CMDLINE_LINUX=\"" GRUB_EXAMPLE "\", run update-grub and reboot");
		return;
	}
	if (lsm_list[0] && !listed) {
		snprintf(list, sizeof(list), "lsm=%s,bpf", lsm_list);
		fix(LSM,
		    "add bpf to the kernel's LSM list: in /etc/default/grub set "
		    "GRUB_CMDLINE_LINUX=\"%s\" (keep your other options), run update-grub and "
		    "reboot; the kernel needs CONFIG_BPF_LSM=y",
		    list);
		return;
	}
	fix(LSM,
	    "the kernel refused the program%s. On a distribution kernel enable BPF-LSM at boot: "
	    "in /etc/default/grub set GRUB_CMDLINE_LINUX=\"" GRUB_EXAMPLE "\", run update-grub "
	    "and reboot. The kernel must be built with CONFIG_BPF_LSM=y%s%s. Some sandboxed or "
	    "microVM kernels refuse every BPF trampoline program (lsm, fentry) even to root: "
	    "there use a full kernel or VM",
	    err == -EPERM ? " with EPERM even as root" : "",
	    lockdown[0] && !strstr(lockdown, "[none]") ? " and lockdown must not forbid it (now: "
						       : "",
	    lockdown[0] && !strstr(lockdown, "[none]") ? lockdown : "");
	if (lockdown[0] && !strstr(lockdown, "[none]"))
		strncat(checks[LSM].fix, ")",
			sizeof(checks[LSM].fix) - strlen(checks[LSM].fix) - 1);
}

static void check_tpbtf(void)
{
	char why[256];

	if (probe(P_TPBTF, why, sizeof(why)) == 0) {
		set(TPBTF, C_OK, "a tp_btf/sys_enter program loaded, attached and ran");
		return;
	}
	set(TPBTF, C_FAIL, "%s", why);
	fix(TPBTF, "needs BTF and CONFIG_BPF_EVENTS; without it protected files are guarded only "
		   "by the Landlock sandbox of mcpguard run");
}

static void check_sockaddr(void)
{
	char why[256];

	if (probe(P_SOCKADDR, why, sizeof(why)) == 0) {
		set(SOCKADDR, C_OK,
		    "a cgroup/connect4 program loaded and attached to a test cgroup");
		return;
	}
	set(SOCKADDR, C_FAIL, "%s", why);
	fix(SOCKADDR, "needs a kernel with CONFIG_CGROUP_BPF=y and cgroup v2");
}

static void check_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "mg_doctor_rb", 0, 0, 64 * 1024, NULL);

	if (fd >= 0) {
		close(fd);
		set(RINGBUF, C_OK, "a 64 KiB ring buffer map was created");
		return;
	}
	set(RINGBUF, C_FAIL, "creating a ring buffer map failed: %s", strerror(errno));
	fix(RINGBUF, "ring buffers need Linux 5.8 or later");
}

static void check_landlock(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	if (abi >= 1) {
		set(LANDLOCK, C_OK, "ABI version %ld%s", abi,
		    abi < 3 ? " (before ABI 3 truncate is not restricted)" : "");
		return;
	}
	if (errno == EOPNOTSUPP) {
		set(LANDLOCK, C_WARN, "built in but disabled at boot");
		fix(LANDLOCK, "add landlock to the LSM list: GRUB_CMDLINE_LINUX=\"" GRUB_EXAMPLE
			      "\" in /etc/default/grub, update-grub, reboot");
	} else {
		set(LANDLOCK, C_WARN, "not available: %s", strerror(errno));
		fix(LANDLOCK, "use a kernel with CONFIG_SECURITY_LANDLOCK=y (Linux 5.13 or later)");
	}
}

static void check_seccomp(void)
{
	unsigned int act = SECCOMP_RET_KILL_PROCESS;

	if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
		set(SECCOMP, C_WARN, "not available: %s", strerror(errno));
		fix(SECCOMP, "use a kernel with CONFIG_SECCOMP_FILTER=y");
		return;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) < 0) {
		set(SECCOMP, C_WARN, "filters available, but not SECCOMP_RET_KILL_PROCESS: %s",
		    strerror(errno));
		return;
	}
	set(SECCOMP, C_OK, "filter mode with SECCOMP_RET_KILL_PROCESS");
}

/*
 * The pattern databases mcpguard run starts with: read from the cache, or
 * compiled (and cached) by the Vectorscan compiler, which is loaded only then.
 */
static void check_scanner(void)
{
	struct timespec a, b;
	char err[512] = "";
	size_t cached, compiled, stored;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (inject_init(err, sizeof(err)) != 0 || poison_init(err, sizeof(err)) != 0 ||
	    dlp_init(NULL, err, sizeof(err)) != 0) {
		set(SCANNER, C_FAIL, "the pattern databases cannot be loaded: %s", err);
		fix(SCANNER, "install Vectorscan's shared library, which carries its compiler "
			     "(Debian/Ubuntu: apt-get install libvectorscan5)");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	mpm_stats(&cached, &compiled, &stored);
	if (compiled > stored) {
		set(SCANNER, C_WARN,
		    "pattern databases ready in %.0f ms: %zu from the cache, %zu compiled, %zu "
		    "of them could not be cached: every mcpguard run compiles them again",
		    ms, cached, compiled, compiled - stored);
		fix(SCANNER, "give the user a writable cache directory (XDG_CACHE_HOME or "
			     "~/.cache, or MCPGUARD_CACHE_DIR), 0700 and owned by them");
		return;
	}
	set(SCANNER, C_OK, "pattern databases ready in %.0f ms: %zu from the cache, %zu compiled%s",
	    ms, cached, compiled, compiled ? " and cached for the next start" : "");
}

/* Try it as nobody in a child: the answer a server started by a user would get. */
static void check_userns(void)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(3);
		_exit(unshare(CLONE_NEWUSER) == 0 ? 0 : errno == EPERM || errno == EACCES ? 1 : 2);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) {
		set(USERNS, C_SKIP, "could not test");
		return;
	}
	switch (WEXITSTATUS(st)) {
	case 0:
		set(USERNS, C_OK,
		    "available to unprivileged users (denied to guarded servers by "
		    "the sandbox's seccomp filter)");
		break;
	case 1:
		set(USERNS, C_OK, "not available to unprivileged users (smaller attack surface)");
		break;
	default:
		set(USERNS, C_SKIP, "could not test");
	}
}

/* ---- the running daemon (information only: the exit code is about the kernel) ---- */

static char daemon_state[512];

static void check_daemon(void)
{
	int s = ctl_connect(NULL);
	cJSON *req, *rep = NULL;
	char err[256];
	struct stat st;
	int pinned = stat("/sys/fs/bpf/mcpguard", &st) == 0;

	if (s < 0) {
		snprintf(daemon_state, sizeof(daemon_state),
			 "not running (start it: sudo mcpguardd --cgroup /mcp)%s",
			 pinned ? "; pinned enforcement from an earlier daemon is still in "
				  "/sys/fs/bpf/mcpguard"
				: "");
		return;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "status");
	if (ctl_call(s, req, -1, &rep, err, sizeof(err)) < 0) {
		snprintf(daemon_state, sizeof(daemon_state), "running, but status failed: %s", err);
	} else {
		const cJSON *fm = cJSON_GetObjectItemCaseSensitive(rep, "files_mode");
		const cJSON *cg = cJSON_GetObjectItemCaseSensitive(rep, "cgroup");
		const cJSON *au = cJSON_GetObjectItemCaseSensitive(rep, "audit");

		snprintf(daemon_state, sizeof(daemon_state),
			 "running: cgroup %s, credential files by %s%s",
			 cJSON_IsString(cg) ? cg->valuestring : "?",
			 cJSON_IsString(fm) ? fm->valuestring : "?",
			 cJSON_IsTrue(au) ? ", audit only" : "");
	}
	cJSON_Delete(req);
	cJSON_Delete(rep);
	close(s);
}

/* ---- verdict ---- */

static enum doctor_mode decide(const char **desc)
{
	int base = checks[CG].st == C_OK && checks[BTF].st == C_OK && checks[BPFFS].st == C_OK &&
		   checks[SOCKADDR].st == C_OK && checks[RINGBUF].st == C_OK;

	if (geteuid() != 0) {
		*desc = "unknown: run as root (sudo mcpguard doctor); the daemon runs as root and "
			"these checks load BPF programs";
		return DOCTOR_NONE;
	}
	if (!base) {
		*desc = "none: the daemon cannot enforce on this kernel (mcpguard run still scans "
			"content and sandboxes servers with Landlock and seccomp)";
		return DOCTOR_NONE;
	}
	if (checks[LSM].st == C_OK) {
		*desc = "full: network egress by cgroup hooks, credential files denied by BPF-LSM";
		return DOCTOR_FULL;
	}
	if (checks[TPBTF].st == C_OK) {
		*desc = "degraded: network egress enforced; credential files by the fallback "
			"kill-on-access (tp_btf sys_enter), which sees path strings, not files";
		return DOCTOR_DEGRADED;
	}
	*desc = "degraded: network egress enforced; credential files only by the Landlock sandbox "
		"of mcpguard run";
	return DOCTOR_DEGRADED;
}

/* Print text word-wrapped to 100 columns; continuation lines indented by `indent`. */
static void wrap(const char *lead, const char *text, int indent)
{
	int col = printf("%s", lead);
	const char *p = text;

	while (*p) {
		size_t w = strcspn(p, " ");

		if (col > indent && col + 1 + (int)w > 100)
			col = printf("\n%*s", indent, "") - 1;
		else if (p > text || (*lead && lead[strlen(lead) - 1] != ' '))
			col += printf(" ");
		col += printf("%.*s", (int)w, p);
		p += w;
		while (*p == ' ')
			p++;
	}
	printf("\n");
}

static void print_text(enum doctor_mode m, const char *desc, const struct utsname *u)
{
	char lead[128];

	printf("mcpguard doctor: Linux %s (%s)\n\n", u->release, u->machine);
	for (int i = 0; i < NCHECKS; i++) {
		const struct check *c = &checks[i];

		snprintf(lead, sizeof(lead), "  [%-4s] %-29s", cstat_word[c->st], c->title);
		wrap(lead, c->detail, 38);
		if (c->st == C_FAIL || c->st == C_WARN)
			wrap("         used for:", c->why, 13);
		if (c->fix[0] && c->st != C_OK)
			wrap("         fix:", c->fix, 13);
	}
	printf("\n  LSM list: %s\n",
	       lsm_list[0] ? lsm_list
			   : "(unknown: securityfs is not mounted; to see it: mount -t securityfs "
			     "securityfs /sys/kernel/security)");
	if (lockdown[0])
		printf("  lockdown: %s\n", lockdown);
	wrap("  daemon:", daemon_state, 10);
	printf("  CONFIG_BPF_LSM: %s\n", cfg_bpf_lsm < 0 ? "unknown (no kernel config found)"
					 : cfg_bpf_lsm	 ? "y"
							 : "not set");
	printf("\n");
	wrap("mode:", desc, 5);
	printf("exit %d (0 full enforcement, 1 degraded, 2 not possible)\n", (int)m);
}

cJSON *doctor_json(enum doctor_mode m, const char *desc)
{
	static const char *const mw[] = {"full", "degraded", "none"};
	cJSON *o = cJSON_CreateObject(), *a;
	struct utsname u;

	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	cJSON_AddStringToObject(o, "kernel", u.release);
	cJSON_AddStringToObject(o, "mode", geteuid() == 0 ? mw[m] : "unknown");
	cJSON_AddStringToObject(o, "summary", desc);
	cJSON_AddNumberToObject(o, "exit", (int)m);
	cJSON_AddStringToObject(o, "lsm_list", lsm_list);
	cJSON_AddStringToObject(o, "daemon", daemon_state);
	if (cfg_bpf_lsm >= 0)
		cJSON_AddBoolToObject(o, "config_bpf_lsm", cfg_bpf_lsm);
	a = cJSON_AddArrayToObject(o, "checks");
	for (int i = 0; i < NCHECKS; i++) {
		cJSON *c = cJSON_CreateObject();

		cJSON_AddStringToObject(c, "id", checks[i].id);
		cJSON_AddStringToObject(c, "name", checks[i].title);
		cJSON_AddStringToObject(c, "status",
					checks[i].st == C_FAIL ? "fail" : cstat_word[checks[i].st]);
		cJSON_AddStringToObject(c, "detail", checks[i].detail);
		cJSON_AddStringToObject(c, "used_for", checks[i].why);
		if (checks[i].fix[0] && checks[i].st != C_OK)
			cJSON_AddStringToObject(c, "fix", checks[i].fix);
		cJSON_AddItemToArray(a, c);
	}
	return o;
}

enum doctor_mode doctor_run(const char **desc)
{
	libbpf_set_print(quiet);
	read_small("/sys/kernel/security/lsm", lsm_list, sizeof(lsm_list));
	read_small("/sys/kernel/security/lockdown", lockdown, sizeof(lockdown));
	read_kconfig();

	check_cgroup2();
	check_btf();
	check_bpffs();
	if (geteuid() == 0) {
		check_lsm();
		check_tpbtf();
		check_sockaddr();
		check_ringbuf();
	} else {
		static const int need_root[] = {LSM, TPBTF, SOCKADDR, RINGBUF};

		for (size_t i = 0; i < sizeof(need_root) / sizeof(need_root[0]); i++)
			set(need_root[i], C_SKIP, "not checked: needs root");
	}
	check_landlock();
	check_seccomp();
	check_userns();
	check_scanner();
	check_daemon();
	return decide(desc);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct utsname u;
	const char *desc;
	enum doctor_mode m;
	int json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (c != 'j') {
			fprintf(stderr, "usage: mcpguard doctor [--json]\n"
					"  exit: 0 full enforcement possible, 1 degraded, 2 not "
					"possible\n");
			return 2;
		}
		json = 1;
	}
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	m = doctor_run(&desc);
	if (json) {
		cJSON *o = doctor_json(m, desc);
		char *out = cJSON_Print(o);

		if (out)
			puts(out);
		free(out);
		cJSON_Delete(o);
	} else
		print_text(m, desc, &u);
	return (int)m;
}
