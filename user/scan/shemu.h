/*
 * What the text-transforming commands of a pipeline print: echo, printf, cat,
 * tee, base64/base32/basenc, openssl base64, xxd -r -p, rev, tr, gunzip/zcat.
 * The shell parser uses it to compute $(..) output and what a pipeline feeds
 * to a shell. Internal to user/scan/sh*.c.
 */
#ifndef MG_SHEMU_H
#define MG_SHEMU_H

#include <stddef.h>

#include "shparse.h"

/* Text of a file the same command line wrote earlier ("> x.sh"), or NULL. */
typedef const char *(*sh_file_fn)(void *ctx, const char *name);

/*
 * The stdout of c given stdin in (inlen bytes; NULL: unknown), malloc'd, or
 * NULL when c is not a command we emulate or its input is unknown. *olen is set
 * for binary output (decoders) and left alone for text. *numeric is set when c
 * decodes (base64 -d, xxd -r, printf '\x..', rev, tr...).
 */
char *sh_emulate(const struct sh_cmd *c, const char *in, size_t inlen, size_t *olen, int *numeric,
		 sh_file_fn file, void *ctx);

/* Option in a short cluster ("-di" has 'd') or a long option, among argv[a..]. */
int sh_has_opt(const struct sh_cmd *c, size_t a, const char *shortc, const char *longo);

#endif
