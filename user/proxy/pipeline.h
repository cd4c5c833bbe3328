/*
 * The scanning pipeline: one JSON-RPC message in, a verdict out. It runs the
 * scanners that apply to the message, maps each finding through the policy
 * section of its scanner (high confidence: the section's action; heuristic: at
 * most warn; a rule's own action wins), and turns the strongest action into
 * what the relay does: forward the raw bytes, drop them, or send something
 * else on, plus possibly an error response back to the sender.
 */
#ifndef MG_PIPELINE_H
#define MG_PIPELINE_H

#include <stddef.h>

#include "findings.h"
#include "findlog.h"
#include "jsonrpc.h"
#include "policy.h"

#include <cjson/cJSON.h>

enum direction {
	DIR_C2S = 0, /* client -> server */
	DIR_S2C = 1, /* server -> client */
};

enum verdict_kind {
	V_FORWARD = 0, /* pass the original bytes on unchanged */
	V_DROP,	       /* the original never reaches the other side */
	V_REPLACE,     /* send out instead of the original */
};

struct verdict {
	enum verdict_kind kind;
	char *out; /* V_REPLACE: one line ending in '\n', malloc'd */
	size_t outlen;
	char *reply; /* back to the sender (e.g. an error response), or NULL */
	size_t replylen;
};

struct drift;
struct guard;
struct binding;
struct chain;
struct pmetrics;

struct pipeline {
	const struct policy *pol;
	struct findlog *log;
	int scan; /* 0: framing and id checks only (the benchmark's baseline) */
	/* [DIR_C2S]: client requests the server still owes an answer to; [DIR_S2C]: the reverse. */
	struct jr_table pending[2];
	struct drift *drift;
	struct binding *binding;
	struct chain *chain;
	char **withheld; /* tools removed from the last tools/list: calls to them are refused */
	size_t nwithheld;
	char **withheld_items; /* "prompt:NAME", "resource:URI" removed from their lists */
	size_t nwithheld_items;
	int withheld_full;  /* more than PIPE_MAX_WITHHELD: every get/read is refused */
	int list_changed;   /* notifications/tools/list_changed seen since the last tools/list */
	cJSON *tools_pages; /* earlier pages of a paginated tools/list, as the server sent them */
	unsigned long long nmsg[2], nblocked[2];
	struct guard *guard;	  /* the session in the kernel, or NULL: verdicts go there */
	int verdict_sent;	  /* the session verdict is sent once */
	struct pmetrics *metrics; /* counts for mcpguardd (pmetrics.h), or NULL */
};

/* Compiles every scanner's patterns once. Returns -1 with err filled if one fails. */
int pipeline_init(struct pipeline *p, const struct policy *pol, struct findlog *log,
		  const char *server_id, char **envp, int scan, char *err, size_t errlen);
void pipeline_free(struct pipeline *p);

void pipeline_line(struct pipeline *p, enum direction dir, const char *line, size_t len,
		   struct verdict *v);
/* A message over max_message_bytes was consumed; idtext is its top-level id or "". */
void pipeline_oversize(struct pipeline *p, enum direction dir, const char *idtext, size_t len,
		       struct verdict *v);
/* The server is gone: error responses for every request it still owed (malloc'd lines). */
char *pipeline_server_gone(struct pipeline *p, size_t *len);
void verdict_free(struct verdict *v);

/* Finding -> action under the policy (exposed for tests). */
enum pol_action pipeline_action(const struct policy *pol, const struct finding *f);

#endif
