#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ctl.h"
#include "guard.h"
#include "xmalloc.h"

int guard_open(struct guard *g, char *msg, size_t msglen)
{
	cJSON *req, *reply = NULL, *v;
	char err[256];

	memset(g, 0, sizeof(*g));
	g->ctl = -1;
	g->go[0] = g->go[1] = -1;
	g->proxy = getpid();
	if (pipe2(g->go, O_CLOEXEC) < 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return -1;
	}
	/* The proxy holds the session's secrets and its verdict channel: no same-uid
	 * ptrace and no /proc/<pid>/mem or environ for the server. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((g->ctl = ctl_connect(NULL)) < 0) {
		snprintf(msg, msglen,
			 "no mcpguardd running: kernel enforcement is OFF; the server is "
			 "sandboxed with Landlock and seccomp only");
		return 0;
	}
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "status");
	if (ctl_call(g->ctl, req, -1, &reply, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s", err);
		cJSON_Delete(req);
		close(g->ctl);
		g->ctl = -1;
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(reply, "files_mode");
	mg_strlcpy(g->files_mode, cJSON_IsString(v) ? v->valuestring : "?", sizeof(g->files_mode));
	snprintf(msg, msglen, "mcpguardd enforcing in the kernel (files: %s)", g->files_mode);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	return 1;
}

int guard_wait(struct guard *g)
{
	char c = 0;
	ssize_t r;

	close(g->go[1]);
	g->go[1] = -1;
	if (g->ctl >= 0) {
		close(g->ctl); /* the session belongs to the proxy's connection, not ours */
		g->ctl = -1;
	}
	/* Die with the proxy: an orphaned server would run on without its scanner. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != g->proxy)
		return -1;
	do
		r = read(g->go[0], &c, 1);
	while (r < 0 && errno == EINTR);
	close(g->go[0]);
	g->go[0] = -1;
	return r == 1 && c == 'g' ? 0 : -1;
}

int guard_place(struct guard *g, pid_t child, char *const argv[], char *err, size_t errlen)
{
	close(g->go[0]);
	g->go[0] = -1;
	if (g->ctl < 0)
		return 0;
	return ctl_place(g->ctl, child, argv, g->session, sizeof(g->session), &g->cgid, err,
			 errlen);
}

void guard_release(struct guard *g, bool ok)
{
	if (g->go[1] < 0)
		return;
	if (ok && write(g->go[1], "g", 1) != 1) {
		/* the child is gone; the caller sees it exit */
	}
	close(g->go[1]);
	g->go[1] = -1;
}

int guard_child(const struct policy *pol, const struct guard *g, struct sandbox_report *rep)
{
	/*
	 * Landlock's file layer is for when BPF-LSM is not what enforces the files.
	 * Decided from the daemon's status, known before fork ("" without a daemon):
	 * the session id is filled in by the parent after fork, never seen here.
	 */
	struct sandbox_opts o = {
	    .fs = strcmp(g->files_mode, "lsm") != 0,
	    .protect = g->proxy,
	    .home_override = NULL,
	};

	return sandbox_apply(pol, &o, rep);
}

int guard_verdict(struct guard *g, const char *action, const char *reason, char *err, size_t errlen)
{
	if (g->ctl < 0 || !g->session[0]) {
		snprintf(err, errlen, "no daemon: %s not applied in the kernel", action);
		return -1;
	}
	return ctl_verdict(g->ctl, g->session, action, reason, err, errlen);
}

void guard_close(struct guard *g)
{
	for (int i = 0; i < 2; i++)
		if (g->go[i] >= 0) {
			close(g->go[i]);
			g->go[i] = -1;
		}
	if (g->ctl >= 0) {
		close(g->ctl);
		g->ctl = -1;
	}
}
