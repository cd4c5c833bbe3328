#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "framing.h"
#include "log.h"
#include "pmetrics.h"
#include "relay.h"
#include "xmalloc.h"

#define HOLD_PIPE_SIZE (1024 * 1024)
/* Stop reading a source while its destinations have this much queued in memory. */
#define QUEUE_HIGH (1024 * 1024)
/* First read of a message: messages up to this size are copied, not spliced. */
#define SMALL_READ (64 * 1024)
/*
 * After the client closed our stdin and we closed the server's, the MCP
 * shutdown sequence: wait, then SIGTERM, then SIGKILL (a client that died
 * cannot do it for us).
 */
#define SHUTDOWN_TERM_MS 5000
#define SHUTDOWN_KILL_MS 10000
/* Quiet this long, buffers grown for large messages are given back. */
#define IDLE_RELEASE_MS 1000

enum chunk_kind {
	CH_MEM,	 /* bytes in memory */
	CH_HOLD, /* bytes waiting in the hold pipe: splice them out */
	CH_DROP, /* bytes in the hold pipe that must never go out: read and discard */
};

struct chunk {
	enum chunk_kind kind;
	char *data;
	size_t len, off;
	struct chunk *next;
};

/* Everything bound for one fd, in order. */
struct outq {
	int fd;
	int hold; /* read end of the hold pipe CH_HOLD/CH_DROP refer to, or -1 */
	struct chunk *head, **tail, *last;
	size_t mem; /* bytes of CH_MEM queued (what counts against memory) */
	int broken; /* the reader went away: output is discarded */
	int closed; /* fd closed by us */
};

/* One direction of flow. */
struct side {
	enum direction dir;
	int in;
	int hold[2];   /* tee target, or -1 */
	int tee_off;   /* tee refused (EINVAL): copies only; queued hold bytes still go */
	uint64_t rpos; /* stream bytes read */
	uint64_t hold_lo, hold_hi; /* stream range in the hold pipe not yet judged */
	struct framer fr;
	int eof;
	struct outq *fwd;  /* where allowed messages go */
	struct outq *back; /* where answers to the sender go */
};

struct relay {
	struct pipeline *p;
	struct side side[2];
	struct outq q[2]; /* [DIR_C2S]: to the server's stdin; [DIR_S2C]: to the client's stdout */
	struct relay_stats *st;
	char scratch[65536];
};

static void q_push(struct outq *q, enum chunk_kind k, char *data, size_t len)
{
	struct chunk *c;

	if (len == 0) {
		free(data);
		return;
	}
	/* Adjacent hold chunks merge: fewer splice calls. */
	if (k != CH_MEM && q->last && q->last->kind == k) {
		q->last->len += len;
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->kind = k;
	c->data = data;
	c->len = len;
	*q->tail = c;
	q->tail = &c->next;
	q->last = c;
	if (k == CH_MEM)
		q->mem += len;
}

static void q_pop(struct outq *q)
{
	struct chunk *c = q->head;

	if (c->kind == CH_MEM)
		q->mem -= c->len;
	q->head = c->next;
	if (!q->head) {
		q->tail = &q->head;
		q->last = NULL;
	}
	free(c->data);
	free(c);
}

/* Discard n bytes from a hold pipe (they were judged and must not go out). */
static int hold_discard(struct relay *r, int fd, size_t *n)
{
	while (*n > 0) {
		ssize_t k = read(fd, r->scratch, *n < sizeof(r->scratch) ? *n : sizeof(r->scratch));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		*n -= (size_t)k;
		r->st->dropped += (size_t)k;
	}
	return 0;
}

/* Write what can be written without blocking. */
static void q_flush(struct relay *r, struct outq *q)
{
	while (q->head) {
		struct chunk *c = q->head;
		size_t left = c->len - c->off;
		ssize_t k;

		if (c->kind == CH_DROP || (q->broken && c->kind == CH_HOLD)) {
			if (hold_discard(r, q->hold, &left) != 0)
				fatalx("hold pipe lost %zu bytes", left);
			q_pop(q);
			continue;
		}
		if (q->broken) {
			q_pop(q);
			continue;
		}
		if (c->kind == CH_MEM)
			k = write(q->fd, c->data + c->off, left);
		else
			k = splice(q->hold, NULL, q->fd, NULL, left,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			if (errno != EPIPE)
				warn("writing to %s",
				     q == &r->q[DIR_C2S] ? "the server" : "the client");
			q->broken = 1;
			continue;
		}
		if (k == 0) {
			/* Nothing moved although bytes are due: never spin on it. */
			warnx("no progress writing to %s",
			      q == &r->q[DIR_C2S] ? "the server" : "the client");
			q->broken = 1;
			continue;
		}
		if (c->kind == CH_MEM)
			r->st->written += (size_t)k;
		else
			r->st->spliced += (size_t)k;
		c->off += (size_t)k;
		if (c->off == c->len)
			q_pop(q);
	}
}

/* The hold pipe's share of the judged stream range [a, b) is no longer wanted. */
static void hold_skip(struct side *s, uint64_t b)
{
	uint64_t end = b < s->hold_hi ? b : s->hold_hi;

	if (s->hold_lo < end) {
		q_push(s->fwd, CH_DROP, NULL, (size_t)(end - s->hold_lo));
		s->hold_lo = end;
	}
}

/* Queue n bytes from the scan buffer; written at once when nothing is queued ahead. */
static void send_mem(struct relay *r, struct outq *q, const char *p, size_t n)
{
	size_t done = 0;

	if (n == 0 || q->broken)
		return;
	if (!q->head) {
		ssize_t k = write(q->fd, p, n);

		if (k > 0) {
			done = (size_t)k;
			r->st->written += done;
		} else if (k < 0 && errno != EAGAIN && errno != EINTR) {
			q->broken = 1;
			return;
		}
	}
	if (done < n) {
		char *copy = xmalloc(n - done);

		memcpy(copy, p + done, n - done);
		q_push(q, CH_MEM, copy, n - done);
	}
}

/*
 * Send an allowed line [a, b) on. Whatever part of it is in the hold pipe goes
 * by splice; the parts before and after (read while the hold pipe was out of
 * step or full) go from the scan buffer.
 */
static void forward(struct relay *r, struct side *s, const struct frame *f)
{
	uint64_t a = f->off, b = f->off + f->total, lo, end;
	struct outq *q = s->fwd;

	hold_skip(s, a); /* nothing of earlier lines may be left; keeps the pipe in step if so */
	lo = s->hold_lo;
	if (s->hold[0] < 0 || lo >= s->hold_hi || lo >= b) {
		send_mem(r, q, f->p, f->total);
		return;
	}
	end = b < s->hold_hi ? b : s->hold_hi;
	send_mem(r, q, f->p, (size_t)(lo - a));
	q_push(q, CH_HOLD, NULL, (size_t)(end - lo));
	s->hold_lo = end;
	if (end < b)
		q_flush(r, q); /* with the queue empty the tail is written, not copied */
	send_mem(r, q, f->p + (end - a), (size_t)(b - end));
}

static void apply(struct relay *r, struct side *s, const struct frame *f, struct verdict *v)
{
	if (v->kind == V_FORWARD) {
		forward(r, s, f);
	} else {
		hold_skip(s, f->off + f->total);
		if (v->kind == V_REPLACE && !s->fwd->closed) {
			q_push(s->fwd, CH_MEM, v->out, v->outlen);
			v->out = NULL;
		}
	}
	if (v->reply && !s->back->closed) {
		q_push(s->back, CH_MEM, v->reply, v->replylen);
		v->reply = NULL;
	}
	verdict_free(v);
}

static int backed_up(const struct side *s)
{
	return s->fwd->mem >= QUEUE_HIGH || s->back->mem >= QUEUE_HIGH;
}

/* Judge every complete message buffered on this side. */
static void process(struct relay *r, struct side *s)
{
	struct frame f;
	struct verdict v;

	while (!backed_up(s) && framer_next(&s->fr, s->eof, &f) != FR_NONE) {
		if (f.kind == FR_LINE)
			pipeline_line(r->p, s->dir, f.p, f.len, &v);
		else
			pipeline_oversize(r->p, s->dir, f.id, f.len, &v);
		apply(r, s, &f, &v);
	}
}

static void fill(struct side *s)
{
	size_t avail;
	char *buf = framer_space(&s->fr, &avail);
	ssize_t k;

	/*
	 * A message that fits one read is cheaper to copy than to tee and splice:
	 * the hold pipe is used once a message has proved larger than that.
	 */
	int mid = framer_pending(&s->fr) > 0;

	if (s->hold[0] >= 0 && s->hold_lo == s->hold_hi)
		s->hold_lo = s->hold_hi = s->rpos; /* nothing unjudged in the pipe: back in step */
	if (s->hold[0] >= 0 && !s->tee_off && s->hold_hi == s->rpos && !s->fr.discarding && mid) {
		k = tee(s->in, s->hold[1], avail, SPLICE_F_NONBLOCK);
		if (k > 0) {
			/* The same bytes, now read once for scanning. */
			size_t got = 0;

			while (got < (size_t)k) {
				ssize_t n = read(s->in, buf + got, (size_t)k - got);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0)
					fatal("reading bytes already teed");
				got += (size_t)n;
			}
			s->hold_hi += (uint64_t)k;
			s->rpos += (uint64_t)k;
			framer_commit(&s->fr, (size_t)k);
			return;
		}
		if (k < 0 && errno == EINVAL)
			s->tee_off = 1;
		/* EAGAIN (hold full or nothing there) or 0 (EOF): a plain read tells which. */
	}
	k = read(s->in, buf, mid || avail < SMALL_READ ? avail : SMALL_READ);
	if (k < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		warn("reading from %s", s->dir == DIR_C2S ? "the client" : "the server");
		s->eof = 1;
		return;
	}
	if (k == 0) {
		s->eof = 1;
		return;
	}
	s->rpos += (uint64_t)k;
	framer_commit(&s->fr, (size_t)k);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int set_nonblock(int fd, int *saved)
{
	int fl = fcntl(fd, F_GETFL);

	if (saved)
		*saved = fl;
	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* splice() needs a pipe on one end; the other must take splice_write. */
static int splice_ok(int in, int out)
{
	struct stat a, b;

	if (fstat(in, &a) < 0 || fstat(out, &b) < 0)
		return 0;
	return S_ISFIFO(a.st_mode) && (S_ISFIFO(b.st_mode) || S_ISSOCK(b.st_mode));
}

static void side_init(struct relay *r, enum direction dir, int in, size_t max)
{
	struct side *s = &r->side[dir];

	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->in = in;
	s->hold[0] = s->hold[1] = -1;
	framer_init(&s->fr, max);
	s->fwd = &r->q[dir];
	s->back = &r->q[!dir];
	if (getenv("MCPGUARD_NO_SPLICE") || !splice_ok(in, s->fwd->fd))
		return;
	if (pipe2(s->hold, O_CLOEXEC | O_NONBLOCK) < 0) {
		s->hold[0] = s->hold[1] = -1;
		return;
	}
	/* Larger hold pipes let larger messages go by splice; failure only costs copies. */
	(void)fcntl(s->hold[1], F_SETPIPE_SZ, HOLD_PIPE_SIZE);
	s->fwd->hold = s->hold[0];
}

static void q_init(struct outq *q, int fd)
{
	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->hold = -1;
	q->tail = &q->head;
}

static void q_free(struct outq *q)
{
	while (q->head)
		q_pop(q);
}

/*
 * Returns 1 if a signal came for a server already reaped: then it is the
 * proxy's own, and the relay stops (a grandchild still writing, or a client no
 * longer reading, would otherwise keep it running with the signal swallowed).
 */
static int handle_signals(int sigfd, pid_t pid, int *reaped, int *status)
{
	struct signalfd_siginfo si;
	int stop = 0;

	while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue;
		/* Forwarded as is: the server decides what a signal means. */
		if (!*reaped)
			kill(pid, (int)si.ssi_signo);
		else
			stop = 1;
	}
	if (!*reaped) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			*reaped = 1;
	}
	return stop;
}

int relay_run(struct pipeline *p, int cin, int cout, struct child *c, int sigfd,
	      struct relay_stats *st)
{
	struct relay *r = xcalloc(1, sizeof(*r));
	int status = 0, reaped = 0, gone_sent = 0, saved_in = -1, saved_out = -1, term_sent = 0;
	uint64_t closed_at = 0;
	struct relay_stats dummy = {0};
	size_t max = p->pol->max_message_bytes;

	r->p = p;
	r->st = st ? st : &dummy;
	q_init(&r->q[DIR_C2S], c->in);
	q_init(&r->q[DIR_S2C], cout);
	side_init(r, DIR_C2S, cin, max);
	side_init(r, DIR_S2C, c->out, max);
	/* Non-blocking so one stuck peer never stalls the other direction. */
	if (set_nonblock(cin, &saved_in) < 0 || set_nonblock(cout, &saved_out) < 0 ||
	    set_nonblock(c->in, NULL) < 0 || set_nonblock(c->out, NULL) < 0)
		fatal("setting stdio non-blocking");

	for (;;) {
		struct pollfd pf[5];
		int n = 0, ip[2] = {-1, -1}, op[2] = {-1, -1}, timeout = -1;
		struct side *cs = &r->side[DIR_C2S], *ss = &r->side[DIR_S2C];

		for (int d = 0; d < 2; d++) {
			process(r, &r->side[d]);
			q_flush(r, &r->q[d]);
		}
		/* The client is done and everything it sent is out: let the server see EOF. */
		if (cs->eof && framer_pending(&cs->fr) == 0 && !cs->fr.discarding &&
		    (!r->q[DIR_C2S].head || r->q[DIR_C2S].broken) && !r->q[DIR_C2S].closed) {
			q_free(&r->q[DIR_C2S]);
			close(c->in);
			r->q[DIR_C2S].closed = r->q[DIR_C2S].broken = 1;
			closed_at = now_ms();
		}
		if (closed_at && !reaped) {
			uint64_t waited = now_ms() - closed_at;

			if (waited >= SHUTDOWN_KILL_MS && term_sent < 2) {
				kill(c->pid, SIGKILL);
				term_sent = 2;
			} else if (waited >= SHUTDOWN_TERM_MS && term_sent < 1) {
				kill(c->pid, SIGTERM);
				term_sent = 1;
			}
		}
		/* The server is done: whatever it still owed the client becomes an error. */
		if (ss->eof && framer_pending(&ss->fr) == 0 && !ss->fr.discarding && !gone_sent) {
			size_t len;
			char *errs = pipeline_server_gone(p, &len);

			if (errs)
				q_push(&r->q[DIR_S2C], CH_MEM, errs, len);
			gone_sent = 1;
			q_flush(r, &r->q[DIR_S2C]);
		}
		if (gone_sent && (!r->q[DIR_S2C].head || r->q[DIR_S2C].broken))
			break;

		pf[n] = (struct pollfd){.fd = sigfd, .events = POLLIN};
		n++;
		for (int d = 0; d < 2; d++) {
			struct side *s = &r->side[d];

			if (!s->eof && !backed_up(s)) {
				ip[d] = n;
				pf[n++] = (struct pollfd){.fd = s->in, .events = POLLIN};
			}
			if (r->q[d].head && !r->q[d].broken && !r->q[d].closed) {
				op[d] = n;
				pf[n++] = (struct pollfd){.fd = r->q[d].fd, .events = POLLOUT};
			}
		}
		/*
		 * A server that exited may leave its stdout open in a grandchild:
		 * after the exit, stop once it has been quiet for a moment.
		 */
		if (reaped && !ss->eof)
			timeout = 200;
		else if (closed_at && !reaped && term_sent < 2) {
			int64_t left = (int64_t)(term_sent ? SHUTDOWN_KILL_MS : SHUTDOWN_TERM_MS) -
				       (int64_t)(now_ms() - closed_at);

			timeout = left < 1 ? 1 : (int)left;
		}
		/* Counts for the daemon leave every few seconds, also when traffic stops. */
		pmetrics_flush(p->metrics, 0);
		if (timeout < 0)
			timeout = pmetrics_due_ms(p->metrics);
		/* Buffers grown for large messages go back after a quiet second. */
		int large = framer_large(&r->side[0].fr) || framer_large(&r->side[1].fr);

		if (large && (timeout < 0 || timeout > IDLE_RELEASE_MS))
			timeout = IDLE_RELEASE_MS;
		int k = poll(pf, (nfds_t)n, timeout);

		if (k == 0 && large) {
			framer_release_idle(&r->side[0].fr);
			framer_release_idle(&r->side[1].fr);
		}

		if (k < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (k == 0 && reaped) {
			ss->eof = 1;
			continue;
		}
		if ((pf[0].revents & POLLIN) && handle_signals(sigfd, c->pid, &reaped, &status))
			break;
		for (int d = 0; d < 2; d++) {
			if (ip[d] >= 0 && pf[ip[d]].revents)
				fill(&r->side[d]);
			if (op[d] >= 0 && (pf[op[d]].revents & (POLLERR | POLLHUP)) &&
			    !(pf[op[d]].revents & POLLOUT))
				r->q[d].broken = 1;
		}
	}

	if (!r->q[DIR_C2S].closed) {
		close(c->in);
		r->q[DIR_C2S].closed = 1;
	}
	while (!reaped) {
		pid_t w = waitpid(c->pid, &status, 0);

		if (w == c->pid)
			reaped = 1;
		else if (w < 0 && errno != EINTR)
			fatal("waitpid");
	}
	/* Give the client back its descriptors as they were. */
	if (saved_in >= 0)
		(void)fcntl(cin, F_SETFL, saved_in);
	if (saved_out >= 0)
		(void)fcntl(cout, F_SETFL, saved_out);
	for (int d = 0; d < 2; d++) {
		q_free(&r->q[d]);
		framer_free(&r->side[d].fr);
		if (r->side[d].hold[0] >= 0) {
			close(r->side[d].hold[0]);
			close(r->side[d].hold[1]);
		}
	}
	close(c->out);
	free(r);
	return status;
}
