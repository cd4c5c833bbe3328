/*
 * Credential-file enforcement: BPF-LSM (fileguard.bpf.c) when the kernel takes it,
 * else the kill-on-access fallback (killguard.bpf.c). This first version only
 * reports that file enforcement is not built yet; it never pretends to enforce.
 */
#include <linux/types.h>
#include <stdio.h>

#include "daemon.h"
#include "log.h"

int files_start(struct daemon *d)
{
	if (!d->pol->files.enabled) {
		d->files_mode = FILES_OFF;
		snprintf(d->files_reason, sizeof(d->files_reason), "disabled by policy");
		return 0;
	}
	d->files_mode = FILES_UNAVAILABLE;
	snprintf(d->files_reason, sizeof(d->files_reason),
		 "credential-file enforcement not built into this daemon yet");
	if (d->require_lsm) {
		warnx("--require-lsm: %s", d->files_reason);
		return -1;
	}
	return 0;
}

void files_tick(struct daemon *d)
{
	(void)d;
}

void files_stop(struct daemon *d)
{
	d->files = NULL;
}

int files_uninstall(const char *pin_root)
{
	(void)pin_root;
	return 0;
}
