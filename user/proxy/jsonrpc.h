/*
 * JSON-RPC 2.0 bookkeeping: what kind a message is, which request ids are
 * outstanding in each direction (a response must answer one of them), and
 * the error responses the proxy writes itself.
 */
#ifndef MG_JSONRPC_H
#define MG_JSONRPC_H

#include <stddef.h>

#include <cjson/cJSON.h>

enum jr_kind {
	JR_INVALID = 0,
	JR_REQUEST,
	JR_NOTIFICATION,
	JR_RESPONSE,
};

/* Error codes of the proxy's own responses (JSON-RPC reserves -32000..-32099 for servers). */
#define JR_PARSE_ERROR -32700
#define JR_INVALID_REQUEST -32600
#define JR_BLOCKED -32001     /* a scanner's finding was mapped to block */
#define JR_SERVER_GONE -32002 /* the server exited before answering */
#define JR_TOO_LARGE -32003   /* over policy max_message_bytes */

/*
 * Classify a parsed message. *idtext is the id as compact JSON whenever the
 * message has a usable one, also when it is otherwise invalid (malloc'd, caller
 * frees; NULL if none) and *method is borrowed.
 */
enum jr_kind jr_classify(const cJSON *m, char **idtext, const char **method);

/* An id (string or number) as the compact JSON text the tables key on (malloc'd). */
char *jr_id_text(const cJSON *id);

struct jr_pending {
	char *id;     /* compact JSON text of the id */
	char *method; /* the request's method */
	char *tool;   /* tools/call: params.name, else NULL */
	int cursor;   /* a list request for a later page (params.cursor) */
};

/* Outstanding requests in one direction. Few at a time: a linear table is enough. */
struct jr_table {
	struct jr_pending *v;
	size_t n, cap;
	size_t max; /* refuse more than this many outstanding */
};

void jr_table_init(struct jr_table *t, size_t max);
void jr_table_free(struct jr_table *t);
/* 0 added; -1 duplicate id outstanding; -2 table full. Takes copies. */
int jr_table_add(struct jr_table *t, const char *id, const char *method, const char *tool);
/* Remove the entry for id into *out (caller frees with jr_pending_free); -1 if not outstanding. */
int jr_table_take(struct jr_table *t, const char *id, struct jr_pending *out);
void jr_pending_free(struct jr_pending *p);

/*
 * An error response as one line ending in '\n' (malloc'd, *len set). idtext is
 * the id's JSON text, or NULL/"" for null. data may be NULL; it is not consumed.
 */
char *jr_error_line(const char *idtext, int code, const char *message, const cJSON *data,
		    size_t *len);
/* Serialise a message as one line ending in '\n' (malloc'd). */
char *jr_line(const cJSON *m, size_t *len);

#endif
