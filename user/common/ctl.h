/*
 * The control protocol between `mcpguard` (any user) and mcpguardd (root):
 * one JSON object per SOCK_SEQPACKET message, replies likewise. The daemon knows
 * who is asking from SO_PEERCRED, never from the message.
 *
 *   {"op":"place","argv":[...]} + SCM_RIGHTS pidfd of a child that waits before exec
 *        -> {"ok":true,"session":"s1a2b","cgroup":"/mcp/s1a2b","cgid":N}
 *   {"op":"verdict","session":S,"action":"quarantine"|"freeze"|"kill","reason":R}
 *   {"op":"release","session":S}          (root only: the operator lifts quarantine)
 *   {"op":"sessions"}                     -> {"ok":true,"sessions":[...]} (own, or all for root)
 *   {"op":"status"}                       -> daemon mode, for `mcpguard doctor`/run banners
 *   {"op":"metrics","session":S,"metrics":{...}}  counter deltas (metrics_take_json) from
 *        the proxy of session S, on the connection that placed it; served with server="cmd"
 * Errors: {"ok":false,"error":"..."}. A session ends when the connection that
 * placed it closes: its processes are killed and its cgroup removed.
 */
#ifndef MG_CTL_H
#define MG_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MG_CTL_DIR "/run/mcpguard"
#define MG_CTL_SOCK MG_CTL_DIR "/control.sock"
#define MG_CTL_MAX 65536

struct cJSON;

/* Connect; path NULL means MG_CTL_SOCK (or $MCPGUARD_CTL_SOCK, for tests). -1 if no daemon. */
int ctl_connect(const char *path);
/* Send req (with fd attached when fd >= 0) and wait for the reply. Caller frees *reply. */
int ctl_call(int s, const struct cJSON *req, int fd, struct cJSON **reply, char *err,
	     size_t errlen);

/* Ask the daemon to move the waiting child into a new session cgroup. */
int ctl_place(int s, pid_t child, char *const argv[], char *session, size_t sesslen, uint64_t *cgid,
	      char *err, size_t errlen);
int ctl_verdict(int s, const char *session, const char *action, const char *reason, char *err,
		size_t errlen);
/* Report metric deltas (metrics_take_json) of this connection's session. */
int ctl_metrics(int s, const char *session, const struct cJSON *deltas, char *err, size_t errlen);

/* Helpers for both ends: a message with an optional fd. */
ssize_t ctl_send(int s, const char *buf, size_t len, int fd);
ssize_t ctl_recv(int s, char *buf, size_t cap, int *fd);

#endif
