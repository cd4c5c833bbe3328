/*
 * Once programs are loaded and attached, the daemon no longer needs to load
 * programs, create maps, mount or attach. What the main loop still does, and the
 * capability each needs:
 *   CAP_BPF              bpf() map updates (rule refresh, files_tick, sessions): kernels
 *                        before 6.5 check bpf_capable() on every bpf() command. Where the
 *                        kernel predates CAP_BPF, CAP_SYS_ADMIN stands in for it.
 *   CAP_DAC_READ_SEARCH  files_tick re-resolves path globs in every user's 0700 home.
 *   CAP_KILL             the control socket freezes/kills sessions of other users and
 *                        checks their pidfds (pidfd_send_signal 0).
 *   CAP_SYS_PTRACE       readlink /proc/PID/exe of other users' processes for events.
 * Everything else leaves the permitted, effective, inheritable, ambient and bounding
 * sets, and no_new_privs is set (the daemon never execs).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"
#include "log.h"

static char kept[128];

int caps_drop(void)
{
	cap_value_t keep[4];
	int nkeep = 0, rc = -1;
	cap_t c = NULL;
	char *txt;

	keep[nkeep++] = CAP_IS_SUPPORTED(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
	keep[nkeep++] = CAP_DAC_READ_SEARCH;
	keep[nkeep++] = CAP_KILL;
	keep[nkeep++] = CAP_SYS_PTRACE;

	/* Bounding set first: dropping from it needs CAP_SETPCAP, which goes next. */
	for (cap_value_t v = 0; CAP_IS_SUPPORTED(v); v++) {
		int k = 0;

		for (int i = 0; i < nkeep; i++)
			k |= keep[i] == v;
		if (!k && cap_drop_bound(v) < 0 && errno != EINVAL) {
			warn("drop %s from the bounding set", cap_to_name(v));
			return -1;
		}
	}
	if ((c = cap_init()) == NULL) {
		warn("cap_init");
		return -1;
	}
	if (cap_set_flag(c, CAP_PERMITTED, nkeep, keep, CAP_SET) < 0 ||
	    cap_set_flag(c, CAP_EFFECTIVE, nkeep, keep, CAP_SET) < 0 || cap_set_proc(c) < 0) {
		warn("cap_set_proc");
		goto out;
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL) {
		warn("clear ambient capabilities");
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		warn("no_new_privs");
		goto out;
	}
	cap_free(c);
	c = cap_get_proc();
	if (c && (txt = cap_to_text(c, NULL)) != NULL) {
		snprintf(kept, sizeof(kept), "%s", txt);
		cap_free(txt);
	}
	rc = 0;
out:
	cap_free(c);
	return rc;
}

const char *caps_kept(void)
{
	return kept[0] ? kept : "(not dropped)";
}
