/*
 * SIGHUP: the policy file is read again and applied to the running
 * enforcement. All or nothing from the operator's view: a policy that does not
 * load or compile leaves the running one in force, and says why.
 */
#include <linux/types.h>
#include <stdlib.h>

#include "daemon.h"
#include "egress.h"
#include "log.h"

void daemon_reload(struct daemon *d)
{
	struct policy *np, *old = d->pol;
	const char *path = d->policy_path ? d->policy_path : "the built-in policy";
	struct files_rules *files = NULL;
	char err[1024];

	if ((np = policy_load(d->policy_path, err, sizeof(err))) == NULL) {
		warnx("SIGHUP: %s not reloaded, the running policy stays: %s", path, err);
		return;
	}
	/* Turning the file guard on or off loads or removes BPF programs: a restart's job. */
	if (np->files.enabled != old->files.enabled) {
		warnx("SIGHUP: %s not reloaded, the running policy stays: files.enabled "
		      "changed to %s; restart mcpguardd for that",
		      path, np->files.enabled ? "true" : "false");
		policy_free(np);
		return;
	}
	d->pol = np;
	if (files_reload_prepare(d, &files, err, sizeof(err)) < 0) {
		d->pol = old;
		policy_free(np);
		warnx("SIGHUP: %s not reloaded, the running policy stays: %s", path, err);
		return;
	}
	d->audit = d->audit_cli || np->audit;
	files_reload_apply(d, files);
	if (egress_reload(d) < 0)
		warnx("SIGHUP: network rules not all written; restart mcpguardd");
	/* Nothing refers to the old policy now: rule names are copies, jobs own theirs. */
	policy_free(old);
	info("SIGHUP: reloaded %s", path);
	info("network: %s", egress_describe(d));
}
