/* Signed assessment reports (assess.c); verify.c checks them. */
#ifndef MG_ASSESS_H
#define MG_ASSESS_H

#include <stddef.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* Signed bytes: this prefix, then the PREFIX.json file exactly as written. */
#define ASSESS_SIG_DOMAIN "mcpguard-assess-v1\n"

/* sigline: "ed25519 <key_id> <pubkey hex> <sig hex>" (the PREFIX.json.sig line). */
int assess_sign(const char *json, size_t len, const unsigned char sk[64],
		const unsigned char pk[32], char *sigline, size_t siglen);
/* Check json_path against json_path.sig: 0 good, 1 bad/other key, 2 unreadable; msg says. */
int assess_verify(const char *json_path, const unsigned char *pinned, char *msg, size_t msglen);
void assess_markdown(FILE *fp, const cJSON *report, const char *sigline);

#endif
