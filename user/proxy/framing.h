/*
 * Newline-delimited JSON-RPC framing with a hard size cap. Bytes are read
 * straight into the framer's buffer (no staging copy). A line longer than the
 * cap is never buffered whole: it is consumed to its newline while a small
 * state machine picks out its top-level "id", so the sender can still be
 * answered with an error for the right request.
 */
#ifndef MG_FRAMING_H
#define MG_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#define FR_IDLEN 128

/* Streaming extractor of the top-level "id" member of a JSON object. */
struct idgrab {
	int depth;
	int in_str, esc;
	int want_key;  /* at depth 1: next string is a member name */
	int key_state; /* 0: other key, 1..3: matching "id", 4: matched, awaiting ':' */
	int capturing; /* 1: capturing the value after "id": */
	int done;      /* a complete id value is in buf */
	int overflow;  /* id longer than FR_IDLEN: unusable */
	size_t n;
	char buf[FR_IDLEN];
};

enum fr_kind {
	FR_NONE = 0,	 /* need more input */
	FR_LINE = 1,	 /* a complete line (without its '\n') */
	FR_OVERSIZE = 2, /* a line over the cap was consumed; id (JSON text) or "" */
};

struct frame {
	enum fr_kind kind;
	const char
	    *p;	      /* FR_LINE: points into the framer buffer, valid until the next framer call */
	size_t len;   /* FR_LINE: bytes without the newline; FR_OVERSIZE: bytes consumed */
	uint64_t off; /* stream offset of the first byte */
	size_t total; /* stream bytes consumed, including the newline */
	char id[FR_IDLEN + 1];
};

struct framer {
	char *buf;
	size_t cap;	    /* allocated */
	size_t max;	    /* largest message accepted, newline excluded */
	size_t start;	    /* first unconsumed byte */
	size_t len;	    /* bytes held */
	size_t scanned;	    /* bytes after start already searched for '\n' */
	unsigned small_run; /* small messages since the last large one (shrink hysteresis) */
	uint64_t pos;	    /* stream offset of buf[start] (or of the next byte while discarding) */

	int discarding;
	uint64_t disc_off;
	size_t disc_len;
	int disc_done; /* the oversize line ended: report it before anything else */
	struct idgrab ig;
};

void framer_init(struct framer *f, size_t max);
void framer_free(struct framer *f);
/* Where to read into, and how much fits (always > 0). Take every frame first. */
char *framer_space(struct framer *f, size_t *avail);
/* n bytes were read into the space framer_space returned. */
void framer_commit(struct framer *f, size_t n);
/* Next complete frame; with eof set a final unterminated line is returned too. */
int framer_next(struct framer *f, int eof, struct frame *out);
/* Bytes held that no frame has consumed yet. */
size_t framer_pending(const struct framer *f);
/* Is the buffer grown past its idle size (kept while large messages flow)? */
int framer_large(const struct framer *f);
/* The stream went quiet: give a large, empty buffer back. 1 if it did. */
int framer_release_idle(struct framer *f);

void idgrab_reset(struct idgrab *g);
void idgrab_feed(struct idgrab *g, const char *p, size_t n);

#endif
