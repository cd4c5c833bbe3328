/*
 * State of mcpguardd shared by its modules (cgroup, egress, files, events...).
 * The daemon owns this struct; modules keep their private state behind a pointer.
 */
#ifndef MG_DAEMON_H
#define MG_DAEMON_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "mcpguard.h"
#include "policy.h"

enum files_mode {
	FILES_OFF = 0,	   /* disabled by policy */
	FILES_LSM,	   /* BPF-LSM enforcement (deny with EPERM) */
	FILES_FALLBACK,	   /* no BPF-LSM: tp_btf syscall entry, SIGKILL on protected names */
	FILES_UNAVAILABLE, /* neither could be loaded: reported loudly */
};

struct daemon {
	struct policy *pol;
	const char *policy_path;
	bool audit;	  /* --audit or policy audit: true */
	bool audit_cli;	  /* --audit given (a reloaded policy cannot turn it off) */
	bool require_lsm; /* --require-lsm: refuse to start without BPF-LSM */

	char cgroup_mount[PATH_MAX]; /* e.g. /sys/fs/cgroup/unified */
	char cgroup_rel[PATH_MAX];   /* as given: "/mcp" */
	char cgroup_path[PATH_MAX];  /* mount + rel */
	int cgroup_fd;
	uint64_t cgid;	/* guarded cgroup id (its inode number) */
	uint32_t level; /* depth below the root, for bpf_get_current_ancestor_cgroup_id */

	const char *pin_root; /* MG_PIN_ROOT unless overridden for tests */
	bool adopted;	      /* pinned state from an earlier daemon was found */

	enum files_mode files_mode;
	char files_reason[256]; /* why the mode is what it is, for the start banner and doctor */

	/* Rule ids carried in events index this table (names copied: policies are reloaded). */
	const char *rule_names[MG_MAX_RULES];
	uint32_t nrules;

	void *egress;	/* module state, owned by egress.c */
	void *files;	/* owned by files.c */
	void *events;	/* owned by events.c */
	void *control;	/* owned by control.c: sessions and the control socket */
	void *evidence; /* owned by evidence.c: flight recorder and metrics */
};

/* The rule id of a rule name, allocated on first use (the table keeps a copy of name). */
uint32_t daemon_rule_id(struct daemon *d, const char *name);
const char *daemon_rule_name(const struct daemon *d, uint32_t id);
void daemon_rules_free(struct daemon *d);

/*
 * SIGHUP (reload.c): read the policy file again and apply it to the running
 * enforcement (network rules, credential-file rules, audit). A policy that does
 * not load, or that changes what only a restart can (files.enabled), is
 * refused with the reason and the running policy stays.
 */
void daemon_reload(struct daemon *d);

/* Module interface implemented by files.c (LSM + fallback). */
int files_start(struct daemon *d); /* load, fill maps, attach/adopt, set files_mode; -1 = fatal */
void files_tick(struct daemon *d); /* periodic: re-resolve path globs into inode keys */
void files_stop(struct daemon *d); /* free userspace state; pinned enforcement stays */
/*
 * Reload, in two steps so a bad policy changes nothing: files_reload_prepare
 * compiles d->pol's file rules (-1 with err set if they do not compile);
 * files_reload_apply makes them the enforced ones.
 */
struct files_rules;
int files_reload_prepare(struct daemon *d, struct files_rules **prepared, char *err, size_t errlen);
void files_reload_apply(struct daemon *d, struct files_rules *prepared);
int files_uninstall(const char *pin_root); /* remove this module's pins */

/*
 * Sessions and the control socket (control.c, session.c). control_start returns one
 * epoll fd for the main loop to poll; when it is readable call control_dispatch.
 * control_tick reaps ended sessions whose cgroups could not be removed yet.
 */
int control_start(struct daemon *d, const char *sock_path);
void control_dispatch(struct daemon *d);
void control_tick(struct daemon *d);
void control_stop(struct daemon *d);

#endif
