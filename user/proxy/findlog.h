/*
 * The findings log: one JSON object per line on stderr or a --log file,
 * never on stdout (stdout carries the JSON-RPC stream to the client).
 */
#ifndef MG_FINDLOG_H
#define MG_FINDLOG_H

#include <stdio.h>

#include "findings.h"

struct recorder;

struct findlog {
	FILE *fp;
	int own; /* fp was opened by findlog_open */
	unsigned long long seq;
	struct recorder *rec; /* --log FILE: the tamper-evident flight recorder (recorder.h) */
};

/* path NULL: stderr; else a flight-recorder file. -1 with errno set if it cannot be opened. */
int findlog_open(struct findlog *l, const char *path);
void findlog_close(struct findlog *l);

/* Context of the message a finding was made in. */
struct msgctx {
	const char *dir;    /* "client->server" or "server->client" */
	const char *kind;   /* "request", "response", "notification" */
	const char *method; /* the method, or for a response the request's method */
	const char *id;	    /* JSON text of the id, or NULL */
	const char *tool;   /* tools/call: the tool, else NULL */
};

void findlog_finding(struct findlog *l, const struct msgctx *c, const struct finding *f);
/* A proxy-level event (unsolicited response, oversize, parse error...). */
void findlog_event(struct findlog *l, const struct msgctx *c, const char *event,
		   enum pol_action action, const char *detail);
/*
 * A tools/call that went on to the server (action: allow, or warn/strip when
 * findings let it pass): a flight-recorder line of kind "allow" naming the tool
 * and its argument names, never their values. Only with --log (the recorder).
 */
struct cJSON;
void findlog_allow(struct findlog *l, const struct msgctx *c, const char *tool,
		   enum pol_action action, const struct cJSON *args);

#endif
