/* Framing of newline-delimited JSON-RPC: splitting, the size cap, id recovery. */
#include <stdlib.h>

#include "../../user/proxy/framing.c"
#include "t.h"

/* Frames taken while feeding, as the relay takes them between reads. */
static struct frame got[8];
static char gotbuf[8][64];
static size_t ngot, nread;

static void take(struct framer *f, int eof)
{
	struct frame fr;

	while (framer_next(f, eof, &fr) != FR_NONE && ngot < 8) {
		if (fr.kind == FR_LINE) {
			size_t n = fr.len < 63 ? fr.len : 63;

			memcpy(gotbuf[ngot], fr.p, n);
			gotbuf[ngot][n] = '\0';
			fr.p = gotbuf[ngot];
		}
		got[ngot++] = fr;
	}
}

/* Feed in reads of at most `chunk` bytes, taking frames after each. */
static void feed_chunks(struct framer *f, const char *s, size_t chunk)
{
	size_t n = strlen(s);

	ngot = nread = 0;
	while (n > 0) {
		size_t avail;
		char *p = framer_space(f, &avail);
		size_t k = n < avail ? n : avail;

		if (k > chunk)
			k = chunk;
		memcpy(p, s, k);
		framer_commit(f, k);
		nread++;
		s += k;
		n -= k;
		take(f, 0);
	}
}

static void feed(struct framer *f, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		size_t avail;
		char *p = framer_space(f, &avail);
		size_t k = n < avail ? n : avail;

		memcpy(p, s, k);
		framer_commit(f, k);
		s += k;
		n -= k;
	}
}

TEST(framing_splits_lines_across_reads)
{
	struct framer f;
	struct frame fr;

	framer_init(&f, 1024);
	feed(&f, "{\"a\":1}\n{\"b\"");
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_LINE);
	ASSERT_EQ(fr.len, 7);
	ASSERT_EQ(fr.total, 8);
	ASSERT_EQ(fr.off, 0);
	ASSERT_TRUE(memcmp(fr.p, "{\"a\":1}", 7) == 0);
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_NONE);
	feed(&f, ":2}\n\n");
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_LINE);
	ASSERT_EQ(fr.off, 8);
	ASSERT_TRUE(fr.len == 7 && memcmp(fr.p, "{\"b\":2}", 7) == 0);
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_LINE); /* the empty line is a frame of its own */
	ASSERT_EQ(fr.len, 0);
	ASSERT_EQ(fr.off, 16);
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_NONE);
	framer_free(&f);
}

TEST(framing_unterminated_last_line_only_at_eof)
{
	struct framer f;
	struct frame fr;

	framer_init(&f, 1024);
	feed(&f, "{\"x\":true}");
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_NONE);
	ASSERT_EQ(framer_next(&f, 1, &fr), FR_LINE);
	ASSERT_EQ(fr.len, 10);
	ASSERT_EQ(fr.total, 10);
	ASSERT_EQ(framer_next(&f, 1, &fr), FR_NONE);
	framer_free(&f);
}

/* The SDK puts "id" after "params": it must be found at the end of a discarded line. */
TEST(framing_oversize_line_is_discarded_and_its_id_recovered)
{
	struct framer f;
	char *big = malloc(300000);
	size_t n, total;

	framer_init(&f, 1000);
	strcpy(big, "{\"method\":\"tools/call\",\"params\":{\"id\":7,\"s\":\"");
	n = strlen(big);
	memset(big + n, 'A', 200000);
	strcpy(big + n + 200000, "\\\"}\"},\"jsonrpc\":\"2.0\",\"id\":\"req-42\"}\n{\"ok\":1}\n");
	total = strlen(big) - 9;
	feed_chunks(&f, big, 4096);
	ASSERT_EQ(ngot, 2);
	ASSERT_EQ(got[0].kind, FR_OVERSIZE);
	ASSERT_STREQ(got[0].id, "\"req-42\"");
	ASSERT_EQ(got[0].off, 0);
	ASSERT_EQ(got[0].total, total);
	ASSERT_TRUE(f.cap <= 1002); /* never buffered whole */
	ASSERT_EQ(got[1].kind, FR_LINE);
	ASSERT_STREQ(got[1].p, "{\"ok\":1}");
	ASSERT_EQ(got[1].off, total);
	free(big);
	framer_free(&f);
}

TEST(framing_line_exactly_at_cap_passes_one_over_does_not)
{
	struct framer f;
	struct frame fr;
	char line[40];

	framer_init(&f, 16);
	memset(line, 'x', 16);
	strcpy(line + 16, "\n");
	feed(&f, line);
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_LINE);
	ASSERT_EQ(fr.len, 16);
	memset(line, 'y', 17);
	strcpy(line + 17, "\n");
	feed(&f, line);
	ASSERT_EQ(framer_next(&f, 0, &fr), FR_OVERSIZE);
	ASSERT_EQ(fr.total, 18);
	ASSERT_STREQ(fr.id, "");
	framer_free(&f);
}

TEST(framing_oversize_at_eof_is_reported)
{
	struct framer f;

	framer_init(&f, 8);
	feed_chunks(&f, "{\"id\":3,\"x\":\"0123456789\"", 5);
	ASSERT_EQ(ngot, 0);
	take(&f, 1);
	ASSERT_EQ(ngot, 1);
	ASSERT_EQ(got[0].kind, FR_OVERSIZE);
	ASSERT_STREQ(got[0].id, "3");
	ASSERT_EQ(got[0].total, 24);
	framer_free(&f);
}

TEST(idgrab_ignores_nested_ids_and_string_values)
{
	struct idgrab g;
	const char *s =
	    "{\"params\":{\"id\":1,\"arr\":[{\"id\":2}]},\"note\":\"id\",\"x\":\"\\\"id\\\"\","
	    "\"id\" : -12}";

	idgrab_reset(&g);
	for (size_t i = 0; s[i]; i++)
		idgrab_feed(&g, s + i, 1); /* byte by byte: state must survive any split */
	ASSERT_TRUE(g.done);
	ASSERT_EQ(g.n, 3);
	ASSERT_TRUE(memcmp(g.buf, "-12", 3) == 0);

	idgrab_reset(&g);
	s = "{\"method\":\"notifications/x\",\"params\":{\"id\":9}}";
	idgrab_feed(&g, s, strlen(s));
	ASSERT_FALSE(g.done);
}

/*
 * A large message grows the buffer. The next large message reuses it (no
 * regrowth per message); after a run of small messages the memory goes back.
 */
TEST(framing_buffer_kept_for_large_messages_then_given_back)
{
	struct framer f;
	size_t n = 3 * 1024 * 1024, avail, cap;
	char *big = malloc(n + 2);
	char small[64];

	framer_init(&f, 16 * 1024 * 1024);
	memset(big, 'a', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	feed_chunks(&f, big, 1 << 20);
	ASSERT_EQ(ngot, 1);
	ASSERT_EQ(got[0].kind, FR_LINE);
	ASSERT_EQ(got[0].len, n);
	ASSERT_TRUE(f.cap > n);
	cap = f.cap;
	feed_chunks(&f, big, 1 << 20);
	ASSERT_EQ(ngot, 1);
	ASSERT_EQ(got[0].len, n);
	ASSERT_EQ(f.cap, cap);
	snprintf(small, sizeof(small), "{\"jsonrpc\":\"2.0\",\"id\":1}\n");
	for (int i = 0; i < 15; i++) {
		feed_chunks(&f, small, 4096);
		ASSERT_EQ(ngot, 1);
	}
	framer_space(&f, &avail);
	ASSERT_EQ(f.cap, cap);
	feed_chunks(&f, small, 4096);
	framer_space(&f, &avail);
	ASSERT_TRUE(f.cap <= 64 * 1024);
	/* A quiet stream gives it back too (the relay calls this after a quiet second). */
	ASSERT_EQ(framer_release_idle(&f), 0);
	feed_chunks(&f, big, 1 << 20);
	ASSERT_TRUE(framer_large(&f));
	ASSERT_EQ(framer_release_idle(&f), 1);
	ASSERT_FALSE(framer_large(&f));
	ASSERT_TRUE(f.cap <= 64 * 1024);
	free(big);
	framer_free(&f);
}
