/*
 * Credential-file enforcement. BPF-LSM (fileguard.bpf.c) when the kernel both
 * loads the programs and really calls them; otherwise the kill-on-access fallback
 * (killguard.bpf.c) from syscall entry; otherwise FILES_UNAVAILABLE, said loudly.
 *
 * Order at start: load (pinned maps are created or reused), fill the maps, attach
 * new links, check the LSM hook really runs, then swap the new links into the pins.
 * Tracing and LSM links cannot be retargeted (the kernel has no update_prog for
 * them), so a restarted daemon adopts enforcement by attaching its own links first
 * and only then replacing the pinned ones: there is no moment without a hook.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h" /* before the skeletons: they use the mcpguard.h types */
#include "fileguard.skel.h"
#include "killguard.skel.h"
#include "log.h"
#include "xmalloc.h"

#define REFRESH_SEC 2 /* how often path globs are re-resolved */

/* Pin names of the links under pin_root. */
static const char *const lsm_pins[] = {"link_file_open", "link_inode_link", "link_inode_rename",
				       "link_path_truncate"};
static const char *const kill_pin = "link_kill_sys_enter";
static const char *const kill_exit_pin = "link_kill_sys_exit";
/* Maps this module owns (the shared ones in maps.bpf.h belong to the daemon). */
static const char *const map_pins[] = {"mg_file_inodes", "mg_file_dirs",  "mg_file_names",
				       "mg_file_conf",	 "mg_file_paths", "mg_file_pairs"};

#define NLINKS 6

struct files_state {
	struct fileguard_bpf *lsm;
	struct killguard_bpf *kill;
	struct bpf_link *links[NLINKS];
	const char *link_pins[NLINKS];
	size_t nlinks;
	struct files_rules fr;
	struct fileset cur;
	int fd_inodes, fd_dirs, fd_names, fd_conf, fd_paths, fd_pairs;
	time_t last_refresh;
};

/*
 * Messages for the banner: truncation is acceptable (and expected for long libbpf
 * reasons), so format through vsnprintf rather than have every call site checked.
 */
static void msg(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void msg(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static time_t now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void pin_path(char *buf, size_t len, const char *pin_root, const char *name)
{
	if (snprintf(buf, len, "%s/%s", pin_root, name) >= (int)len)
		fatalx("pin path too long: %s/%s", pin_root, name);
}

static int unpin(const char *pin_root, const char *name)
{
	char path[PATH_MAX];

	pin_path(path, sizeof(path), pin_root, name);
	if (unlink(path) && errno != ENOENT) {
		warn("files: remove %s", path);
		return -1;
	}
	return 0;
}

static void drop_links(struct files_state *st)
{
	size_t i;

	/* Closing an unpinned link detaches it; a pinned one stays in the kernel. */
	for (i = 0; i < st->nlinks; i++)
		bpf_link__destroy(st->links[i]);
	st->nlinks = 0;
}

static int attach_one(struct files_state *st, struct bpf_program *prog, const char *pin, char *why,
		      size_t whylen)
{
	struct bpf_link *l;

	if (!bpf_program__autoload(prog))
		return 0;
	l = bpf_program__attach(prog);
	if (!l) {
		msg(why, whylen, "attach %s: %s", bpf_program__section_name(prog), strerror(errno));
		return -1;
	}
	st->links[st->nlinks] = l;
	st->link_pins[st->nlinks] = pin;
	st->nlinks++;
	return 0;
}

/* Replace whatever is pinned under each link's name by the new link. */
static void pin_links(struct files_state *st, const char *pin_root)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < st->nlinks; i++) {
		pin_path(path, sizeof(path), pin_root, st->link_pins[i]);
		/* Unlinking the old pin drops the last reference of the old link. */
		if (unlink(path) && errno != ENOENT)
			warn("files: replace pin %s", path);
		if (bpf_link__pin(st->links[i], path))
			warn("files: pin %s (enforcement ends with this daemon)", path);
	}
}

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

static void take_fds(struct files_state *st, struct bpf_object *obj)
{
	st->fd_inodes = map_fd(obj, "mg_file_inodes");
	st->fd_dirs = map_fd(obj, "mg_file_dirs");
	st->fd_names = map_fd(obj, "mg_file_names");
	st->fd_conf = map_fd(obj, "mg_file_conf");
	st->fd_paths = map_fd(obj, "mg_file_paths");
	st->fd_pairs = map_fd(obj, "mg_file_pairs");
}

/*
 * What lets killguard skip hashing a path or a pair key (mg_files_conf):
 * the lengths of fs's paths, the first bytes of its pairs' names.
 */
static void key_filters(const struct fileset *fs, __u8 lens[32], __u8 first[32])
{
	memset(lens, 0, 32);
	memset(first, 0, 32);
	for (size_t i = 0; i < fs->npaths; i++) {
		size_t n = strnlen(fs->paths[i].path, MG_PATH_LEN) & 255;

		lens[n >> 3] |= (__u8)(1u << (n & 7));
	}
	for (size_t i = 0; i < fs->npairs; i++) {
		const char *slash = memchr(fs->pairs[i].pair, '/', MG_PAIR_LEN);
		unsigned char c;

		if (!slash || slash + 1 >= fs->pairs[i].pair + MG_PAIR_LEN)
			continue;
		c = (unsigned char)slash[1];
		first[c >> 3] |= (__u8)(1u << (c & 7));
	}
}

static int write_conf(struct files_state *st)
{
	__u32 zero = 0;

	return bpf_map_update_elem(st->fd_conf, &zero, &st->fr.conf, BPF_ANY) ? -1 : 0;
}

static int write_set(struct files_state *st, const struct fileset *fs)
{
	__u8 lens[32], first[32];
	int rc = 0;

	/*
	 * The filters of keys being added count before the keys are in the maps,
	 * and those of keys being removed until they are gone: a key in a map is
	 * never skipped.
	 */
	key_filters(fs, lens, first);
	for (int i = 0; i < 32; i++) {
		st->fr.conf.path_lens[i] |= lens[i];
		st->fr.conf.pair_first[i] |= first[i];
	}
	rc |= write_conf(st);
	rc |= files_sync_inodes(st->fd_inodes, fs->inodes, fs->ninodes);
	rc |= files_sync_inodes(st->fd_dirs, fs->dirs, fs->ndirs);
	if (st->fd_paths >= 0)
		rc |= files_sync_paths(st->fd_paths, fs->paths, fs->npaths);
	if (st->fd_pairs >= 0)
		rc |= files_sync_pairs(st->fd_pairs, fs->pairs, fs->npairs);
	memcpy(st->fr.conf.path_lens, lens, sizeof(lens));
	memcpy(st->fr.conf.pair_first, first, sizeof(first));
	rc |= write_conf(st);
	return rc;
}

static int fill_maps(struct files_state *st)
{
	/* Compiled rules carry no key filters: those of the set about to be written. */
	key_filters(&st->cur, st->fr.conf.path_lens, st->fr.conf.pair_first);
	if (files_sync_names(st->fd_names, st->fr.names, st->fr.nnames) || write_conf(st)) {
		warn("files: write basename maps");
		return -1;
	}
	if (write_set(st, &st->cur)) {
		warn("files: write protected inode/path maps");
		return -1;
	}
	return 0;
}

/*
 * A pinned map of this module left by an older daemon with another layout would
 * make the load fail ("couldn't reuse pinned map"): its contents come from the
 * policy anyway, so drop the pin and let the load create the map afresh.
 */
static void drop_stale_pins(const char *pin_root, struct bpf_object *obj)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	struct bpf_map *m;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(map_pins) / sizeof(map_pins[0]); i++) {
		m = bpf_object__find_map_by_name(obj, map_pins[i]);
		if (!m)
			continue;
		pin_path(path, sizeof(path), pin_root, map_pins[i]);
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    (info.type != bpf_map__type(m) || info.key_size != bpf_map__key_size(m) ||
		     info.value_size != bpf_map__value_size(m) ||
		     info.max_entries != bpf_map__max_entries(m))) {
			warnx(
			    "files: pinned %s has another layout (older mcpguardd?): replacing it",
			    path);
			if (unlink(path))
				warn("files: remove %s", path);
		}
		close(fd);
	}
}

/* A hook the running kernel lacks (e.g. path_truncate without CONFIG_SECURITY_PATH). */
static int kernel_has(const struct btf *vmlinux, const char *fn)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) > 0;
}

/* Did the attached file_open hook run for our own open? */
static int lsm_really_runs(struct fileguard_bpf *skel)
{
	int fd;

	skel->bss->probe_hits = 0;
	skel->bss->probe_tgid = (__u32)getpid();
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		close(fd);
	skel->bss->probe_tgid = 0;
	return skel->bss->probe_hits > 0;
}

static int start_lsm(struct daemon *d, struct files_state *st, char *why, size_t whylen)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_root);
	struct fileguard_bpf *skel;
	struct btf *vmlinux;
	int err;

	skel = fileguard_bpf__open_opts(&opts);
	if (!skel) {
		msg(why, whylen, "open fileguard: %s", strerror(errno));
		return -1;
	}
	drop_stale_pins(d->pin_root, skel->obj);
	vmlinux = btf__load_vmlinux_btf();
	if (!kernel_has(vmlinux, "bpf_lsm_file_open")) {
		msg(why, whylen, "kernel has no bpf_lsm_file_open (CONFIG_BPF_LSM off)");
		btf__free(vmlinux);
		fileguard_bpf__destroy(skel);
		return -1;
	}
	if (!kernel_has(vmlinux, "bpf_lsm_inode_link"))
		bpf_program__set_autoload(skel->progs.mg_inode_link, false);
	if (!kernel_has(vmlinux, "bpf_lsm_inode_rename"))
		bpf_program__set_autoload(skel->progs.mg_inode_rename, false);
	if (!kernel_has(vmlinux, "bpf_lsm_path_truncate"))
		bpf_program__set_autoload(skel->progs.mg_path_truncate, false);
	btf__free(vmlinux);

	err = fileguard_bpf__load(skel);
	if (err) {
		msg(why, whylen, "load lsm programs: %s", strerror(-err));
		goto fail;
	}
	take_fds(st, skel->obj);
	if (fill_maps(st)) {
		msg(why, whylen, "fill file maps");
		goto fail;
	}
	if (attach_one(st, skel->progs.mg_file_open, lsm_pins[0], why, whylen) ||
	    attach_one(st, skel->progs.mg_inode_link, lsm_pins[1], why, whylen) ||
	    attach_one(st, skel->progs.mg_inode_rename, lsm_pins[2], why, whylen) ||
	    attach_one(st, skel->progs.mg_path_truncate, lsm_pins[3], why, whylen))
		goto fail;
	if (!lsm_really_runs(skel)) {
		msg(why, whylen,
		    "lsm/file_open attached but never ran (is \"bpf\" in lsm= / "
		    "/sys/kernel/security/lsm?)");
		goto fail;
	}
	st->lsm = skel;
	return 0;
fail:
	drop_links(st);
	fileguard_bpf__destroy(skel);
	st->fd_inodes = st->fd_dirs = st->fd_names = st->fd_conf = st->fd_paths = st->fd_pairs = -1;
	return -1;
}

/* Load killguard with one of its two sys_enter builds; NULL with errno-style err. */
static struct killguard_bpf *load_killguard(struct daemon *d, int blank, int *err)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = d->pin_root);
	struct killguard_bpf *skel = killguard_bpf__open_opts(&opts);

	if (!skel) {
		*err = -errno;
		return NULL;
	}
	bpf_program__set_autoload(blank ? skel->progs.mg_sys_enter : skel->progs.mg_sys_enter_blank,
				  false);
	drop_stale_pins(d->pin_root, skel->obj);
	*err = killguard_bpf__load(skel);
	if (*err) {
		killguard_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static int start_fallback(struct daemon *d, struct files_state *st, int *blank, char *why,
			  size_t whylen)
{
	struct killguard_bpf *skel;
	libbpf_print_fn_t old_print = NULL;
	int err;

	/* The path-blanking build first: lockdown refuses bpf_probe_write_user. */
	if (log_verbose() < 1)
		old_print = libbpf_set_print(NULL);
	skel = load_killguard(d, 1, &err);
	if (log_verbose() < 1)
		libbpf_set_print(old_print);
	*blank = skel != NULL;
	if (!skel)
		skel = load_killguard(d, 0, &err);
	if (!skel) {
		msg(why, whylen, "load tp_btf/sys_enter: %s", strerror(-err));
		return -1;
	}
	take_fds(st, skel->obj);
	if (fill_maps(st)) {
		msg(why, whylen, "fill file maps");
		goto fail;
	}
	if (attach_one(st, skel->progs.mg_sys_enter_blank, kill_pin, why, whylen) ||
	    attach_one(st, skel->progs.mg_sys_enter, kill_pin, why, whylen) ||
	    attach_one(st, skel->progs.mg_sys_exit, kill_exit_pin, why, whylen))
		goto fail;
	st->kill = skel;
	return 0;
fail:
	drop_links(st);
	killguard_bpf__destroy(skel);
	return -1;
}

static void announce_fallback(const char *why_lsm, int blank, const struct files_state *st)
{
	warnx("files: *** BPF-LSM UNAVAILABLE: %s", why_lsm);
	warnx(
	    "files: *** FALLBACK: a guarded process that names a protected file in open, openat, "
	    "openat2, creat, execve(at), truncate, link(at), symlink(at), rename(at/2) or "
	    "name_to_handle_at is SIGKILLed at syscall entry (no EPERM), and its session tainted");
	if (blank)
		info("files: the offending path is blanked so the syscall itself fails");
	else
		warnx(
		    "files: *** this kernel refuses bpf_probe_write_user (lockdown?): the syscall "
		    "still runs before the kill lands, so a link or rename of a protected file "
		    "by a guarded process takes effect");
	warnx("files: *** and an open that returns an fd to a protected file (by inode or own "
	      "name: symlinks, hard links, '..', /proc/self/fd) is SIGKILLed at syscall exit");
	warnx("files: *** NOT covered in fallback: io_uring; link/rename through innocent-named "
	      "symlinks or '../name' paths to files without a protected basename; a path "
	      "rewritten by another thread after entry; a sibling thread using an fd before "
	      "the kill lands");
	info("files: %zu protected absolute paths, %zu basename patterns", st->cur.npaths,
	     st->fr.nnames);
}

int files_start(struct daemon *d)
{
	struct files_state *st;
	char why_lsm[160] = "", why_kill[160] = "", err[512];
	libbpf_print_fn_t old_print = NULL;
	int lsm_ok, blank = 0;

	if (!d->pol->files.enabled) {
		d->files_mode = FILES_OFF;
		msg(d->files_reason, sizeof(d->files_reason), "disabled by policy");
		/* An earlier daemon's links would keep enforcing the old set. */
		files_uninstall(d->pin_root);
		return 0;
	}
	st = xcalloc(1, sizeof(*st));
	st->fd_inodes = st->fd_dirs = st->fd_names = st->fd_conf = st->fd_paths = st->fd_pairs = -1;
	if (files_rules_compile(d, &st->fr, err, sizeof(err))) {
		warnx("%s", err);
		files_rules_free(&st->fr);
		free(st);
		return -1;
	}
	fileset_resolve(d->pol, st->fr.rule_ids, st->fr.actions, NULL, 0, &st->cur);
	if (st->cur.truncated)
		warnx("files: %zu protected entries did not fit in the maps", st->cur.truncated);
	st->last_refresh = now_sec();
	d->files = st;

	/*
	 * Where LSM programs are refused, libbpf's load errors only repeat why_lsm
	 * (and suggest ulimit -l, which is not the cause): keep them for -v.
	 */
	if (log_verbose() < 1)
		old_print = libbpf_set_print(NULL);
	lsm_ok = start_lsm(d, st, why_lsm, sizeof(why_lsm)) == 0;
	if (log_verbose() < 1)
		libbpf_set_print(old_print);
	if (lsm_ok) {
		d->files_mode = FILES_LSM;
		snprintf(
		    d->files_reason, sizeof(d->files_reason),
		    "BPF-LSM file_open/inode_link/inode_rename/path_truncate: deny with EPERM");
		pin_links(st, d->pin_root);
		unpin(d->pin_root, kill_pin);
		unpin(d->pin_root, kill_exit_pin);
		info("files: LSM mode: %zu protected inodes, %zu basename patterns",
		     st->cur.ninodes, st->fr.nnames);
		return 0;
	}
	if (d->require_lsm) {
		msg(d->files_reason, sizeof(d->files_reason),
		    "--require-lsm: BPF-LSM unavailable: %s", why_lsm);
		warnx("files: %s", d->files_reason);
		files_stop(d);
		return -1;
	}
	if (start_fallback(d, st, &blank, why_kill, sizeof(why_kill)) == 0) {
		d->files_mode = FILES_FALLBACK;
		msg(d->files_reason, sizeof(d->files_reason),
		    "SIGKILL when a protected name or path is passed to open and the other "
		    "path syscalls (path blanking %s); BPF-LSM unavailable: %s",
		    blank ? "on" : "off", why_lsm);
		pin_links(st, d->pin_root);
		for (size_t i = 0; i < sizeof(lsm_pins) / sizeof(lsm_pins[0]); i++)
			unpin(d->pin_root, lsm_pins[i]);
		announce_fallback(why_lsm, blank, st);
		return 0;
	}
	d->files_mode = FILES_UNAVAILABLE;
	msg(d->files_reason, sizeof(d->files_reason), "no BPF-LSM (%s); no fallback (%s)", why_lsm,
	    why_kill);
	warnx("files: *** CREDENTIAL FILES ARE NOT PROTECTED: %s", d->files_reason);
	return 0;
}

static int same_inodes(const struct fs_inode *a, size_t na, const struct fs_inode *b, size_t nb)
{
	return na == nb && (na == 0 || !memcmp(a, b, na * sizeof(*a)));
}

static int same_set(const struct fileset *a, const struct fileset *b)
{
	return same_inodes(a->inodes, a->ninodes, b->inodes, b->ninodes) &&
	       same_inodes(a->dirs, a->ndirs, b->dirs, b->ndirs) && a->npaths == b->npaths &&
	       (a->npaths == 0 || !memcmp(a->paths, b->paths, a->npaths * sizeof(*a->paths))) &&
	       a->npairs == b->npairs &&
	       (a->npairs == 0 || !memcmp(a->pairs, b->pairs, a->npairs * sizeof(*a->pairs)));
}

void files_tick(struct daemon *d)
{
	struct files_state *st = d->files;
	struct fileset fs;
	time_t now = now_sec();

	if (!st || (!st->lsm && !st->kill) || now - st->last_refresh < REFRESH_SEC)
		return;
	st->last_refresh = now;
	fileset_resolve(d->pol, st->fr.rule_ids, st->fr.actions, NULL, 0, &fs);
	if (same_set(&fs, &st->cur)) {
		fileset_free(&fs);
		return;
	}
	debug("files: protected set changed: %zu -> %zu inodes", st->cur.ninodes, fs.ninodes);
	if (write_set(st, &fs))
		warn("files: refresh protected maps");
	fileset_free(&st->cur);
	st->cur = fs;
}

int files_reload_prepare(struct daemon *d, struct files_rules **prepared, char *err, size_t errlen)
{
	struct files_rules *fr;

	*prepared = NULL;
	if (!d->files)
		return 0; /* disabled, or no enforcement could be loaded: nothing to update */
	fr = xcalloc(1, sizeof(*fr));
	if (files_rules_compile(d, fr, err, errlen)) {
		files_rules_free(fr);
		free(fr);
		return -1;
	}
	*prepared = fr;
	return 0;
}

void files_reload_apply(struct daemon *d, struct files_rules *fr)
{
	struct files_state *st = d->files;

	if (!st || !fr)
		return;
	files_rules_free(&st->fr);
	st->fr = *fr;
	free(fr);
	fileset_free(&st->cur);
	fileset_resolve(d->pol, st->fr.rule_ids, st->fr.actions, NULL, 0, &st->cur);
	if (st->cur.truncated)
		warnx("files: %zu protected entries did not fit in the maps", st->cur.truncated);
	st->last_refresh = now_sec();
	if ((st->lsm || st->kill) && fill_maps(st) < 0)
		warnx("files: reload: the maps were not all written; restart mcpguardd");
}

void files_stop(struct daemon *d)
{
	struct files_state *st = d->files;

	if (!st)
		return;
	drop_links(st);
	if (st->lsm)
		fileguard_bpf__destroy(st->lsm);
	if (st->kill)
		killguard_bpf__destroy(st->kill);
	fileset_free(&st->cur);
	files_rules_free(&st->fr);
	free(st);
	d->files = NULL;
}

/* The program a pinned link runs, or 0. */
static __u32 pinned_link_prog(const char *pin_root, const char *name)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	pin_path(path, sizeof(path), pin_root, name);
	if ((fd = bpf_obj_get(path)) < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.prog_id = 0;
	close(fd);
	return info.prog_id;
}

/*
 * The kernel frees an unpinned link from a workqueue, a moment after the unlink:
 * wait until its program is gone (released after the detach), so that "uninstall
 * returned" means "no longer enforced". A running daemon still holds the programs.
 */
static void wait_progs_gone(const __u32 *ids, size_t n)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	size_t i, left;
	int tries, fd;

	for (tries = 0; tries < 200; tries++) {
		for (i = 0, left = 0; i < n; i++) {
			if (!ids[i])
				continue;
			if ((fd = bpf_prog_get_fd_by_id(ids[i])) >= 0) {
				close(fd);
				left++;
			}
		}
		if (!left)
			return;
		nanosleep(&ts, NULL);
	}
	warnx("files: programs still loaded 2 s after their links were unpinned (a daemon "
	      "still running?)");
}

int files_uninstall(const char *pin_root)
{
	const char *links[sizeof(lsm_pins) / sizeof(lsm_pins[0]) + 2];
	__u32 progs[sizeof(links) / sizeof(links[0])];
	size_t i, n = 0;
	int rc = 0;

	for (i = 0; i < sizeof(lsm_pins) / sizeof(lsm_pins[0]); i++)
		links[n++] = lsm_pins[i];
	links[n++] = kill_pin;
	links[n++] = kill_exit_pin;
	for (i = 0; i < n; i++) {
		progs[i] = pinned_link_prog(pin_root, links[i]);
		rc |= unpin(pin_root, links[i]);
	}
	for (i = 0; i < sizeof(map_pins) / sizeof(map_pins[0]); i++)
		rc |= unpin(pin_root, map_pins[i]);
	wait_progs_gone(progs, n);
	return rc ? -1 : 0;
}
