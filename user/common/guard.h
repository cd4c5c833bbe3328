/*
 * Putting a server under guard, shared by `mcpguard run` and the escape tests.
 * Parent: guard_open before fork; after fork the child blocks in guard_wait while
 * the parent calls guard_place (the daemon moves it into /mcp/<session>) and then
 * guard_release; the child applies its sandbox layers in guard_child and execs.
 * With a daemon, placement failing is fatal: the server never runs unguarded.
 */
#ifndef MG_GUARD_H
#define MG_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"
#include "sandbox.h"

struct guard {
	int ctl;	  /* control connection, open for the session's life; -1: no daemon */
	int go[2];	  /* the child waits on go[0] until placed */
	char session[40]; /* empty without a daemon */
	uint64_t cgid;
	char files_mode[16]; /* the daemon's file enforcement: "lsm", "fallback", ... */
	pid_t proxy;
};

/* 1: a daemon answered; 0: none (kernel enforcement off); -1: error. */
int guard_open(struct guard *g, char *msg, size_t msglen);
/* In the child right after fork: wait for the parent's word. -1: abort. */
int guard_wait(struct guard *g);
/* In the parent after fork. -1 with err when a daemon runs but could not place it. */
int guard_place(struct guard *g, pid_t child, char *const argv[], char *err, size_t errlen);
/* In the parent: let the child go on (ok) or make it exit (!ok). */
void guard_release(struct guard *g, bool ok);
/* In the child after guard_wait: sandbox layers. -1: do not exec. */
int guard_child(const struct policy *pol, const struct guard *g, struct sandbox_report *rep);
/* Tell the daemon about a verdict on this session ("quarantine", "freeze", "kill"). */
int guard_verdict(struct guard *g, const char *action, const char *reason, char *err,
		  size_t errlen);
void guard_close(struct guard *g);

#endif
