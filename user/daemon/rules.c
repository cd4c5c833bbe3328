/*
 * Rule names carried in events: the kernel reports a small integer, this table
 * turns it back into the policy's name. Ids are handed out per name, so two rules
 * sharing a name share an id. Names are copied: a reload frees the policy they
 * came from, while events of its rules may still be on their way.
 */
#include <linux/types.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"
#include "xmalloc.h"

uint32_t daemon_rule_id(struct daemon *d, const char *name)
{
	for (uint32_t i = 0; i < d->nrules; i++)
		if (strcmp(d->rule_names[i], name) == 0)
			return i;
	if (d->nrules >= MG_MAX_RULES) {
		warnx("more than %d rules: '%s' will show as rule \"none\" in events", MG_MAX_RULES,
		      name);
		return MG_RULE_NONE;
	}
	d->rule_names[d->nrules] = xstrdup(name);
	return d->nrules++;
}

void daemon_rules_free(struct daemon *d)
{
	for (uint32_t i = 0; i < d->nrules; i++)
		free((char *)d->rule_names[i]);
	d->nrules = 0;
}

const char *daemon_rule_name(const struct daemon *d, uint32_t id)
{
	if (id < d->nrules)
		return d->rule_names[id];
	switch (id) {
	case MG_RULE_NONE:
		return "none";
	case MG_RULE_DEFAULT:
		return "default";
	case MG_RULE_QUARANTINE:
		return "quarantine";
	case MG_RULE_TAINT:
		return "taint";
	case MG_RULE_DNS:
		return "dns";
	case MG_RULE_RAWSOCK:
		return "raw-socket";
	case MG_RULE_LOOPBACK:
		return "loopback";
	}
	return "unknown";
}
