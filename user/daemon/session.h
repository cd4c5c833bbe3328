/* Session table: one cgroup under the guarded one per `mcpguard run`. */
#ifndef MG_SESSION_H
#define MG_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "daemon.h"

#define SESSION_ID_LEN 16

struct session {
	char id[SESSION_ID_LEN + 1];
	char path[PATH_MAX]; /* absolute cgroup directory */
	uint64_t cgid;
	uid_t owner;
	pid_t server; /* the child placed into it */
	char cmd[256];
	time_t started;
	int conn; /* control connection that placed it; -1 once ended */
	bool ended;
	struct session *next;
};

/* Move the waiting child (pidfd) of peer (pid, uid) into a new session. */
struct session *session_place(struct daemon *d, int pidfd, pid_t peer_pid, uid_t peer_uid,
			      const char *cmd, int conn, char *err, size_t errlen);
struct session *session_find(struct daemon *d, const char *id);
struct session *session_list(struct daemon *d);
/* Kernel state of the session from mg_sessions; 0 on error. */
uint32_t session_flags(struct daemon *d, const struct session *s, uint64_t *denies);
int session_set_flags(struct daemon *d, struct session *s, uint32_t set, uint32_t clear);
int session_freeze(struct session *s);
int session_kill(struct session *s);
/* End every session placed through conn: kill what is left, remove the cgroup. */
void session_end_conn(struct daemon *d, int conn);
void session_reap(struct daemon *d);
void session_free_all(struct daemon *d);
/* Is pid's cgroup inside the guarded cgroup? A guarded process gets no new sessions. */
bool session_pid_guarded(struct daemon *d, pid_t pid);

#endif
