/* Pins under the pin root: enforcement that outlives the daemon. */
#ifndef MG_PIN_H
#define MG_PIN_H

#include <bpf/libbpf.h>

#include "daemon.h"

/* Make sure the pin root exists on a bpf filesystem (mounting /sys/fs/bpf if needed). */
int pin_prepare(const char *pin_root);
/*
 * Attach prog to the guarded cgroup under the pin <pin_root>/<name>. A link pinned
 * there by an earlier daemon for the same cgroup is adopted: its program is swapped
 * for prog in one step, so enforcement has no gap. Sets d->adopted when it does.
 */
struct bpf_link *pin_attach_cgroup(struct daemon *d, struct bpf_program *prog, const char *name);
/*
 * One daemon per pin root: an exclusive flock on the pin root directory, held for
 * the daemon's life. Returns the fd, or -1 (busy or error, reported).
 */
int pin_lock(const char *pin_root);
/* Remove every pin under the pin root, then the root itself (take pin_lock first). */
int pin_uninstall(const char *pin_root);

#endif
