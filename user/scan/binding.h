/*
 * Session binding: the first tools/list of a session is the inventory the user
 * agreed to; tools that appear later are reported (and withheld when the policy
 * enables binding), and so are names made to pass for a pinned one.
 */
#ifndef MG_BINDING_H
#define MG_BINDING_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "findings.h"

struct binding;

struct binding *binding_new(void);

/*
 * The first call with an array pins its tool names. Later calls set added[i]
 * (the caller provides cJSON_GetArraySize(tools) slots) for every tool whose
 * name is not exactly a pinned one and report it: scanner "binding", rule
 * "tool-added"; a name equal to a pinned one up to case or look-alike letters
 * (UTS #39 skeleton) or invisible characters is also "tool-impersonation". Two
 * such names already in the first list are reported as impersonation too.
 */
void binding_check(struct binding *b, const cJSON *tools, int *added, struct findings *out);

void binding_free(struct binding *b);

/*
 * A tool name made safe to show in a finding: printable ASCII as is, anything
 * else as <U+XXXX> (invalid bytes <xHH>), at most outlen-1 bytes, ellipsis if cut.
 */
void binding_display_name(const char *name, char *out, size_t outlen);

#endif
