/*
 * The guarded cgroup. Its id is what bpf_get_current_ancestor_cgroup_id() returns
 * for tasks inside it: the kernfs node id, which the kernel exports both as the
 * directory's file handle and (on 64-bit) as its inode number.
 */
#include <errno.h>
#include <linux/types.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "xmalloc.h"

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int cgroup_find_mount(char *out, size_t outlen, char *root, size_t rootlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int found = -1;

	if (!f) {
		warn("/proc/self/mountinfo");
		return -1;
	}
	while (found < 0 && getline(&line, &cap, f) > 0) {
		/* id parent maj:min root mountpoint options [optional...] - fstype source super */
		char *field[5], *sep, *save = NULL, *fstype;
		int i;

		if ((sep = strstr(line, " - ")) == NULL)
			continue;
		*sep = '\0';
		fstype = strtok_r(sep + 3, " \n", &save);
		if (!fstype || strcmp(fstype, "cgroup2") != 0)
			continue;
		save = NULL;
		for (i = 0; i < 5; i++)
			if ((field[i] = strtok_r(i ? NULL : line, " ", &save)) == NULL)
				break;
		if (i < 5)
			continue;
		unescape(field[3]);
		unescape(field[4]);
		if (strlen(field[4]) >= outlen || strlen(field[3]) >= rootlen)
			continue;
		mg_strlcpy(out, field[4], outlen);
		mg_strlcpy(root, field[3], rootlen);
		found = 0;
	}
	free(line);
	fclose(f);
	return found;
}

int cgroup_id_of(const char *path, uint64_t *id)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	struct stat st;
	int mount_id;

	h.fh.handle_bytes = sizeof(h.id);
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) == 0 &&
	    h.fh.handle_bytes == sizeof(uint64_t)) {
		memcpy(id, h.fh.f_handle, sizeof(*id));
		return 0;
	}
	if (stat(path, &st) < 0)
		return -1;
	*id = (uint64_t)st.st_ino;
	return 0;
}

/* Components of a path: "/a/b" -> 2, "/" -> 0. */
static unsigned components(const char *p)
{
	unsigned n = 0;
	int in = 0;

	for (; *p; p++) {
		if (*p == '/')
			in = 0;
		else if (!in) {
			in = 1;
			n++;
		}
	}
	return n;
}

int cgroup_setup(struct daemon *d, const char *rel, char *err, size_t errlen)
{
	char root[PATH_MAX], path[PATH_MAX];
	size_t mlen;

	/* A "." or ".." component would make the level below wrong: nothing guarded. */
	if (rel[0] != '/' || strstr(rel, "/../") || strstr(rel, "/./") ||
	    (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0) ||
	    (strlen(rel) >= 2 && strcmp(rel + strlen(rel) - 2, "/.") == 0) ||
	    components(rel) == 0) {
		snprintf(err, errlen,
			 "--cgroup %s: want an absolute cgroup path below the root, "
			 "e.g. /mcp",
			 rel);
		return -1;
	}
	if (cgroup_find_mount(d->cgroup_mount, sizeof(d->cgroup_mount), root, sizeof(root)) < 0) {
		snprintf(err, errlen,
			 "no cgroup2 hierarchy in /proc/self/mountinfo "
			 "(mount one: mount -t cgroup2 none /sys/fs/cgroup)");
		return -1;
	}
	mg_strlcpy(d->cgroup_rel, rel, sizeof(d->cgroup_rel));
	/* Strip trailing slashes so event paths compare cleanly. */
	for (size_t n = strlen(d->cgroup_rel); n > 1 && d->cgroup_rel[n - 1] == '/'; n--)
		d->cgroup_rel[n - 1] = '\0';
	if (snprintf(d->cgroup_path, sizeof(d->cgroup_path), "%s%s", d->cgroup_mount,
		     d->cgroup_rel) >= (int)sizeof(d->cgroup_path)) {
		snprintf(err, errlen, "--cgroup %s: path too long", rel);
		return -1;
	}
	/* mkdir -p, one component at a time. */
	mlen = strlen(d->cgroup_mount);
	mg_strlcpy(path, d->cgroup_path, sizeof(path));
	for (char *p = path + mlen + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
			return -1;
		}
		if ((*p = c) == '\0')
			break;
	}
	if ((d->cgroup_fd = open(d->cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", d->cgroup_path, strerror(errno));
		return -1;
	}
	if (cgroup_id_of(d->cgroup_path, &d->cgid) < 0) {
		snprintf(err, errlen, "%s: cannot read cgroup id: %s", d->cgroup_path,
			 strerror(errno));
		return -1;
	}
	/*
	 * Level counts from the hierarchy root; when this mount shows a subtree (cgroup
	 * namespace or bind mount), its root path adds to the depth.
	 */
	d->level = components(root) + components(d->cgroup_rel);
	return 0;
}
