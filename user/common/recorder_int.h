/* Shared by the recorder's writer (recorder.c) and verifier (recverify.c). */
#ifndef MG_RECORDER_INT_H
#define MG_RECORDER_INT_H

#include <stddef.h>

/* Prefixed to the signed bytes so a signature cannot be replayed in another protocol. */
#define REC_SIG_DOMAIN "mcpguard-recorder-v1\n"

void rec_hex(const unsigned char *b, size_t n, char *out);		 /* out: 2n+1 */
int rec_unhex(const char *s, size_t slen, unsigned char *out, size_t n); /* lower-case hex only */

#endif
