/*
 * Links (and, through libbpf's pin_root_path, the shared maps) are pinned so that a
 * daemon killed with -9 leaves enforcement in place. Pinned links hold their
 * programs, programs hold their maps: nothing else needs pinning to keep enforcing.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "log.h"
#include "pin.h"
#include "xmalloc.h"

#define BPFFS_DEFAULT "/sys/fs/bpf"

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int pin_prepare(const char *pin_root)
{
	char parent[PATH_MAX], *slash;

	if (mg_strlcpy(parent, pin_root, sizeof(parent)) >= sizeof(parent)) {
		warnx("pin root too long: %s", pin_root);
		return -1;
	}
	if ((slash = strrchr(parent, '/')) == NULL || slash == parent) {
		warnx("pin root %s: want a directory on a bpf filesystem, e.g. %s", pin_root,
		      MG_PIN_ROOT);
		return -1;
	}
	*slash = '\0';
	if (!is_bpffs(parent)) {
		/* Distributions without systemd (and this sandbox) leave bpffs unmounted. */
		if (strcmp(parent, BPFFS_DEFAULT) != 0) {
			warnx("%s is not on a bpf filesystem", pin_root);
			return -1;
		}
		if (mount("bpf", BPFFS_DEFAULT, "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
			  "mode=0700") < 0 &&
		    !is_bpffs(parent)) {
			warn("mount bpf filesystem on %s", BPFFS_DEFAULT);
			return -1;
		}
		info("mounted the bpf filesystem on %s", BPFFS_DEFAULT);
	}
	if (mkdir(pin_root, 0700) < 0 && errno != EEXIST) {
		warn("mkdir %s", pin_root);
		return -1;
	}
	return 0;
}

static int link_matches(struct bpf_link *link, const struct daemon *d, struct bpf_program *prog)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(bpf_link__fd(link), &info, &len) < 0)
		return 0;
	return info.type == BPF_LINK_TYPE_CGROUP && info.cgroup.cgroup_id == d->cgid &&
	       info.cgroup.attach_type == bpf_program__expected_attach_type(prog);
}

struct bpf_link *pin_attach_cgroup(struct daemon *d, struct bpf_program *prog, const char *name)
{
	struct bpf_link *old, *link;
	char path[PATH_MAX];
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", d->pin_root, name) >= (int)sizeof(path)) {
		warnx("pin path too long: %s/%s", d->pin_root, name);
		return NULL;
	}
	/* Probe first: libbpf complains loudly about a missing pin. */
	old = access(path, F_OK) == 0 ? bpf_link__open(path) : NULL;
	if (old && link_matches(old, d, prog)) {
		if ((err = bpf_link__update_program(old, prog)) < 0) {
			warnx("adopt %s: update program: %s", path, strerror(-err));
			bpf_link__destroy(old);
			return NULL;
		}
		d->adopted = true;
		debug("adopted %s", path);
		return old;
	}
	link = bpf_program__attach_cgroup(prog, d->cgroup_fd);
	if (!link) {
		warn("attach %s to %s", bpf_program__name(prog), d->cgroup_path);
		bpf_link__destroy(old);
		return NULL;
	}
	if (old) {
		/* A pin for another cgroup (or a dead one): replaced after the new link is up. */
		warnx("%s: pinned link was for another cgroup; replacing it", path);
		if (unlink(path) < 0)
			warn("unlink %s", path);
		bpf_link__destroy(old);
	}
	if ((err = bpf_link__pin(link, path)) < 0) {
		warnx("pin %s: %s", path, strerror(-err));
		bpf_link__destroy(link);
		return NULL;
	}
	return link;
}

int pin_lock(const char *pin_root)
{
	int fd = open(pin_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		warn("%s", pin_root);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			warnx("another mcpguardd is running with pin root %s", pin_root);
		else
			warn("lock %s", pin_root);
		close(fd);
		return -1;
	}
	return fd;
}

static int removed;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) < 0) {
		warn("remove %s", path);
		return 0;
	}
	if (flag != FTW_DP)
		removed++;
	return 0;
}

int pin_uninstall(const char *pin_root)
{
	struct stat st;
	int rc = 0;

	if (lstat(pin_root, &st) < 0) {
		if (errno == ENOENT) {
			info("nothing pinned under %s", pin_root);
			return 0;
		}
		warn("%s", pin_root);
		return -1;
	}
	if (!is_bpffs(pin_root)) {
		warnx("%s is not on a bpf filesystem; not removing anything", pin_root);
		return -1;
	}
	removed = 0;
	if (nftw(pin_root, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		warn("walk %s", pin_root);
		rc = -1;
	} else if (lstat(pin_root, &st) == 0) {
		warnx("%s: could not remove everything", pin_root);
		rc = -1;
	} else {
		info("removed %d pins under %s: enforcement is off", removed, pin_root);
	}
	return rc;
}
