/* The checks behind `mcpguard doctor`, also used by `mcpguard assess`. */
#ifndef MG_DOCTOR_H
#define MG_DOCTOR_H

#include <cjson/cJSON.h>

enum doctor_mode {
	DOCTOR_FULL = 0,     /* network and BPF-LSM file enforcement */
	DOCTOR_DEGRADED = 1, /* network enforced; files by the fallback or Landlock only */
	DOCTOR_NONE = 2,     /* the daemon cannot enforce (or not run as root: unknown) */
};

/* Run every check (loads and attaches probe programs when root). desc: one-line verdict. */
enum doctor_mode doctor_run(const char **desc);
/* The result of the last doctor_run as the object `mcpguard doctor --json` prints. */
cJSON *doctor_json(enum doctor_mode m, const char *desc);

#endif
