/* Network egress enforcement (egress.bpf.c): policy rules compiled into LPM tries. */
#ifndef MG_EGRESS_H
#define MG_EGRESS_H

#include <time.h>

#include "daemon.h"

/* Load, write config and rules, attach or adopt the pinned links. -1: fatal. */
int egress_start(struct daemon *d);
/*
 * Packet sockets need BPF-LSM (netlsm.bpf.c): loaded when lsm_works (files.c found
 * BPF-LSM hooks that really run), else reported as not covered. -1: fatal.
 */
int egress_lsm_start(struct daemon *d, bool lsm_works, const char *why_not);
/* Re-read resolvers and start a host-name refresh when resolve_interval has passed. */
void egress_tick(struct daemon *d, time_t now);
/* Results of a background host-name refresh: poll egress_fd, then egress_poll. */
int egress_fd(struct daemon *d);
void egress_poll(struct daemon *d);
/*
 * d->pol was replaced (SIGHUP): config, rules and host names follow it. Names
 * both policies have keep their addresses; new ones are resolved at the next
 * tick. -1 when the maps could not be written (the previous rules stay).
 */
int egress_reload(struct daemon *d);
/* One line for the start banner. */
const char *egress_describe(struct daemon *d);
/* Free userspace state; pinned links keep enforcing. */
void egress_stop(struct daemon *d);

#endif
