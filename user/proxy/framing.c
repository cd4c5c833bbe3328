#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <string.h>

#include "framing.h"
#include "log.h"
#include "xmalloc.h"

#define FR_INITIAL (64 * 1024)
#define FR_SHRINK (1024 * 1024)
/*
 * A large buffer is given back only after this many small messages in a row:
 * a stream of large responses keeps its buffer instead of growing it again
 * (realloc copies, fresh pages) for every message.
 */
#define FR_SHRINK_AFTER 16

void idgrab_reset(struct idgrab *g)
{
	memset(g, 0, sizeof(*g));
}

static void grab_put(struct idgrab *g, char c)
{
	if (g->n >= sizeof(g->buf) - 1) {
		g->overflow = 1;
		return;
	}
	g->buf[g->n++] = c;
}

/*
 * A tokenizer just good enough to follow nesting and strings: it never
 * validates, it only has to find `"id": <value>` at depth 1.
 */
void idgrab_feed(struct idgrab *g, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !g->done; i++) {
		char c = p[i];

		if (g->capturing) {
			if (g->in_str) {
				grab_put(g, c);
				if (g->esc)
					g->esc = 0;
				else if (c == '\\')
					g->esc = 1;
				else if (c == '"') {
					g->in_str = 0;
					g->done = 1;
				}
				continue;
			}
			if (g->n == 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
				continue;
			if (g->n == 0 && c == '"') {
				g->in_str = 1;
				grab_put(g, c);
				continue;
			}
			if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
			    c == 'e' || c == 'E' || (c >= 'a' && c <= 'z')) {
				grab_put(g, c); /* numbers, and null */
				continue;
			}
			g->capturing = 0;
			g->done = g->n > 0;
			if (!g->done)
				return;
			continue;
		}
		if (g->in_str) {
			if (g->esc) {
				g->esc = 0;
				g->key_state = 0;
				continue;
			}
			if (c == '\\') {
				g->esc = 1;
				continue;
			}
			if (c == '"') {
				g->in_str = 0;
				g->key_state = g->key_state == 3 ? 4 : 0;
				continue;
			}
			if (g->key_state == 1 && c == 'i')
				g->key_state = 2;
			else if (g->key_state == 2 && c == 'd')
				g->key_state = 3;
			else
				g->key_state = 0;
			continue;
		}
		switch (c) {
		case '"':
			g->in_str = 1;
			g->key_state = (g->depth == 1 && g->want_key) ? 1 : 0;
			break;
		case '{':
		case '[':
			g->depth++;
			g->want_key = (c == '{' && g->depth == 1);
			g->key_state = 0;
			break;
		case '}':
		case ']':
			g->depth--;
			break;
		case ',':
			if (g->depth == 1)
				g->want_key = 1;
			break;
		case ':':
			if (g->depth == 1) {
				g->want_key = 0;
				if (g->key_state == 4) {
					g->capturing = 1;
					g->n = 0;
				}
			}
			g->key_state = 0;
			break;
		default:
			if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
				g->key_state = 0;
			break;
		}
	}
}

void framer_init(struct framer *f, size_t max)
{
	memset(f, 0, sizeof(*f));
	f->max = max;
	f->cap = max + 2 < FR_INITIAL ? max + 2 : FR_INITIAL;
	f->buf = xmalloc(f->cap);
}

void framer_free(struct framer *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

size_t framer_pending(const struct framer *f)
{
	return f->len - f->start;
}

/* Give a large buffer back, and what the heap keeps of large messages too. */
static void shrink(struct framer *f)
{
	free(f->buf);
	f->cap = f->max + 2 < FR_INITIAL ? f->max + 2 : FR_INITIAL;
	f->buf = xmalloc(f->cap);
	f->start = f->len = f->scanned = 0;
#if defined(__GLIBC__)
	(void)malloc_trim(0);
#endif
}

int framer_large(const struct framer *f)
{
	return f->cap > FR_SHRINK;
}

int framer_release_idle(struct framer *f)
{
	if (f->discarding || f->start != f->len || f->cap <= FR_SHRINK)
		return 0;
	shrink(f);
	return 1;
}

char *framer_space(struct framer *f, size_t *avail)
{
	if (f->discarding) {
		/* Nothing is kept while discarding: the whole buffer is scratch. */
		f->start = f->len = f->scanned = 0;
		*avail = f->cap;
		return f->buf;
	}
	if (f->start == f->len && f->cap > FR_SHRINK && f->small_run >= FR_SHRINK_AFTER)
		shrink(f);
	if (f->start > 0 && (f->start == f->len || f->len == f->cap || f->start > f->cap / 2)) {
		/* Only the unfinished tail of a message moves. */
		memmove(f->buf, f->buf + f->start, f->len - f->start);
		f->len -= f->start;
		f->start = 0;
	}
	if (f->len == f->cap) {
		size_t ncap = f->cap * 2;

		if (ncap > f->max + 2)
			ncap = f->max + 2;
		if (ncap <= f->cap) /* callers drain framer_next() first, which discards */
			fatalx("framer: buffer full with frames not taken");
		f->buf = xreallocarray(f->buf, 1, ncap);
		f->cap = ncap;
	}
	*avail = f->cap - f->len;
	return f->buf + f->len;
}

void framer_commit(struct framer *f, size_t n)
{
	if (!f->discarding) {
		f->len += n;
		return;
	}
	char *nl = memchr(f->buf, '\n', n);

	if (!nl) {
		idgrab_feed(&f->ig, f->buf, n);
		f->disc_len += n;
		return;
	}
	size_t used = (size_t)(nl - f->buf) + 1;

	idgrab_feed(&f->ig, f->buf, used - 1);
	f->disc_len += used;
	f->discarding = 0;
	f->disc_done = 1;
	memmove(f->buf, f->buf + used, n - used);
	f->start = 0;
	f->len = n - used;
	f->scanned = 0;
	f->pos = f->disc_off + f->disc_len;
}

static void report_oversize(struct framer *f, struct frame *out)
{
	out->kind = FR_OVERSIZE;
	out->p = NULL;
	out->len = f->disc_len;
	out->off = f->disc_off;
	out->total = f->disc_len;
	out->id[0] = '\0';
	if (f->ig.done && !f->ig.overflow) {
		memcpy(out->id, f->ig.buf, f->ig.n);
		out->id[f->ig.n] = '\0';
	}
	f->disc_done = 0;
}

int framer_next(struct framer *f, int eof, struct frame *out)
{
	memset(out, 0, sizeof(*out));
	if (f->disc_done) {
		report_oversize(f, out);
		return out->kind;
	}
	if (f->discarding) {
		if (eof) {
			f->discarding = 0;
			f->pos = f->disc_off + f->disc_len;
			report_oversize(f, out);
			return out->kind;
		}
		return FR_NONE;
	}
	char *s = f->buf + f->start;
	size_t have = f->len - f->start;
	char *nl = memchr(s + f->scanned, '\n', have - f->scanned);

	if (nl) {
		size_t l = (size_t)(nl - s);

		if (l > f->max)
			goto oversize;
		out->kind = FR_LINE;
		out->p = s;
		out->len = l;
		out->off = f->pos;
		out->total = l + 1;
		if (l >= FR_INITIAL / 2)
			f->small_run = 0;
		else if (f->small_run < FR_SHRINK_AFTER)
			f->small_run++;
		f->start += l + 1;
		f->pos += l + 1;
		f->scanned = 0;
		return FR_LINE;
	}
	if (have > f->max)
		goto oversize;
	f->scanned = have;
	if (eof && have > 0) {
		out->kind = FR_LINE;
		out->p = s;
		out->len = have;
		out->off = f->pos;
		out->total = have;
		f->start = f->len;
		f->pos += have;
		f->scanned = 0;
		return FR_LINE;
	}
	return FR_NONE;

oversize:
	/* Switch to discarding; whatever follows a newline already held is kept. */
	idgrab_reset(&f->ig);
	f->disc_off = f->pos;
	nl = memchr(s, '\n', have);
	if (nl) {
		size_t used = (size_t)(nl - s) + 1;

		idgrab_feed(&f->ig, s, used - 1);
		f->disc_len = used;
		f->start += used;
		f->pos += used;
		f->scanned = 0;
		report_oversize(f, out);
		return out->kind;
	}
	idgrab_feed(&f->ig, s, have);
	f->disc_len = have;
	f->start = f->len = f->scanned = 0;
	f->discarding = 1;
	return framer_next(f, eof, out);
}
