/*
 * Tool chains: a session's tool calls, each classified by what it does (from
 * the tool's name, its tools/list description and the meaning of its
 * arguments), matched against chains of classes such as "read a credential
 * file, later send something out". Steps need not be adjacent.
 */
#ifndef MG_CHAIN_H
#define MG_CHAIN_H

#include <cjson/cJSON.h>

#include "findings.h"
#include "policy.h"

/* Call classes (bits). Names as policy chain steps use them. */
#define CC_READ_SENSITIVE (1u << 0) /* "read-sensitive": a credential file or secret store */
#define CC_READ_FILE (1u << 1)	    /* "read-file" (sensitive reads are file reads too) */
#define CC_LIST_FILES (1u << 2)	    /* "list-files": listing, searching, globbing */
#define CC_WRITE_FILE (1u << 3)	    /* "write-file" */
#define CC_NET_SEND (1u << 4)	    /* "network-send": data leaves (post, mail, upload, ...) */
#define CC_NET_FETCH (1u << 5)	    /* "network-fetch": a URL is fetched, nothing sent */
#define CC_EXEC (1u << 6)	    /* "exec": shell, command, code */
#define CC_SECRET (1u << 7)	    /* "secret-access": environment, keychain, vault */
#define CC_DB_QUERY (1u << 8)	    /* "database-query" */
#define CC_MEMORY_WRITE (1u << 9)   /* "memory-write": persistent agent memory */

#define CHAIN_HISTORY 256 /* calls remembered; older ones no longer start a chain */
#define CHAIN_MAX_STEPS 16

struct chain;

/* Built-in chains plus pol->tool_chain.chains (pol may be NULL: built-ins only). */
struct chain *chain_new(const struct policy *pol);

/* Learn the tools' descriptions from a tools/list "tools" array (replaces the last one). */
void chain_learn_tools(struct chain *c, const cJSON *tools);

/*
 * Record a tools/call and report every chain it completes, once each: scanner
 * "chain", rule = the chain's name, the tools involved in the detail. A call
 * completes a chain when it matches the last step and the earlier steps match
 * earlier calls, in order, within the last CHAIN_HISTORY calls; so every send
 * after a credential read is reported, not only the first (blocked or not, a
 * first attempt must not clear the way for a second). One call is one step.
 * Policy chains carry their own action in finding.action; built-in ones leave
 * it to the section's.
 */
void chain_observe(struct chain *c, const char *tool, const cJSON *args, struct findings *out);

void chain_free(struct chain *c);

/* The classes of one call, as chain_observe sees it (args may be NULL). */
unsigned chain_classify(const struct chain *c, const char *tool, const cJSON *args);

/* "read-sensitive,network-send" for a class mask, into buf. */
const char *chain_class_names(unsigned mask, char *buf, size_t buflen);

/* Bit of a class name ("read-sensitive", ...), 0 if it is not one. */
unsigned chain_class_bit(const char *name);

#endif
