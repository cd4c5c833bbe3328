/* The guarded cgroup: cgroup2 mount discovery, creation, id and level. */
#ifndef MG_CGROUP_H
#define MG_CGROUP_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

/* Mount point of the cgroup2 hierarchy from /proc/self/mountinfo; -1 if none. */
int cgroup_find_mount(char *out, size_t outlen, char *root, size_t rootlen);
/* Fill d->cgroup_* from rel ("/mcp"), creating the cgroup when missing. */
int cgroup_setup(struct daemon *d, const char *rel, char *err, size_t errlen);
/* Id of the cgroup at path (the kernfs node id bpf_get_current_cgroup_id returns). */
int cgroup_id_of(const char *path, uint64_t *id);

#endif
