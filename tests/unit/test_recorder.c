/* Flight recorder: writing, chain verification, tamper and crash detection, rotation. */
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "findings.h"
#include "recorder.h"
#include "t.h"
#include "xmalloc.h"

struct tdir {
	char dir[64];
	char log[128];
	char key[128];
};

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)flag, (void)f;
	return remove(p);
}

static void tdir_init(struct tdir *t)
{
	strcpy(t->dir, "/tmp/mg-rec-XXXXXX");
	if (!mkdtemp(t->dir))
		abort();
	snprintf(t->log, sizeof(t->log), "%s/audit.jsonl", t->dir);
	snprintf(t->key, sizeof(t->key), "%s/keys/recorder.key", t->dir);
}

static void tdir_free(struct tdir *t)
{
	nftw(t->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write n events with a checkpoint every `every` lines; returns 0 on success. */
static int write_log(const struct tdir *t, const char *key, int n, unsigned every, uint64_t rot)
{
	struct rec_opts o = {.path = t->log,
			     .source = "proxy",
			     .key_path = key,
			     .checkpoint_every = every,
			     .rotate_bytes = rot};
	char err[256], sum[64];
	struct recorder *r = recorder_open(&o, err, sizeof(err));

	if (!r) {
		fprintf(stderr, "  recorder_open: %s\n", err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct rec_event ev = {.kind = i % 3 ? "allow" : "block",
				       .scanner = "dlp",
				       .rule = "github-pat",
				       .tool = "write_file",
				       .verdict = i % 3 ? "allow" : "block"};

		snprintf(sum, sizeof(sum), "argument content matched ghp_...(40 chars) #%d", i);
		ev.summary = sum;
		if (recorder_append(r, &ev) < 0)
			return -1;
	}
	return recorder_close(r);
}

/* The file as an array of lines (without newlines); *tail gets bytes after the last one. */
struct lines {
	char **v;
	size_t n;
	char *tail;
};

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *b;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	b = xmalloc((size_t)n + 1);
	if (fread(b, 1, (size_t)n, fp) != (size_t)n)
		abort();
	fclose(fp);
	b[n] = '\0';
	*len = (size_t)n;
	return b;
}

static void lines_read(struct lines *l, const char *path)
{
	size_t len;
	char *b = slurp(path, &len), *p = b, *nl;

	memset(l, 0, sizeof(*l));
	while ((nl = strchr(p, '\n'))) {
		l->v = xreallocarray(l->v, l->n + 1, sizeof(char *));
		l->v[l->n++] = xstrndup(p, (size_t)(nl - p));
		p = nl + 1;
	}
	l->tail = xstrdup(p);
	free(b);
}

static void lines_write(const struct lines *l, const char *path)
{
	FILE *fp = fopen(path, "wb");

	for (size_t i = 0; i < l->n; i++)
		fprintf(fp, "%s\n", l->v[i]);
	fputs(l->tail, fp);
	fclose(fp);
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->tail);
}

static enum rec_status verify1(const char *path, const unsigned char *pk,
			       struct rec_verify_result *res)
{
	const char *p[1] = {path};

	return rec_verify_files(p, 1, pk, res);
}

static void pubkey_of(const struct tdir *t, unsigned char pk[32])
{
	char pub[160], err[128];

	snprintf(pub, sizeof(pub), "%s.pub", t->key);
	if (rec_read_pubkey(pub, pk, err, sizeof(err)) < 0)
		abort();
}

TEST(recorder_intact_log_verifies)
{
	struct tdir t;
	struct rec_verify_result res;
	unsigned char pk[32];
	struct lines l;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 100, 10, 0), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	/* genesis + 100 events + 10 periodic checkpoints + the closing one */
	ASSERT_EQ(res.lines, 112);
	ASSERT_EQ(res.checkpoints, 11);
	ASSERT_EQ(res.first_seq, 1);
	ASSERT_EQ(res.last_seq, 112);
	ASSERT_EQ(res.unsigned_tail, 0);
	ASSERT_FALSE(res.key_pinned);
	pubkey_of(&t, pk);
	ASSERT_EQ(verify1(t.log, pk, &res), REC_INTACT);
	ASSERT_TRUE(res.key_pinned);
	/* the line format the README promises */
	lines_read(&l, t.log);
	ASSERT_TRUE(strstr(l.v[0], "\"kind\":\"genesis\"") && strstr(l.v[0], "\"pubkey\":\""));
	ASSERT_TRUE(strncmp(l.v[1], "{\"seq\":2,\"time\":\"", 17) == 0);
	ASSERT_TRUE(strstr(l.v[1], "\"source\":\"proxy\",\"kind\":\"block\",\"scanner\":\"dlp\""));
	ASSERT_TRUE(strstr(l.v[l.n - 1], "\"final\":\"close\""));
	ASSERT_STREQ(l.tail, "");
	lines_free(&l);
	/* the key is private: 0600 in a 0700 directory */
	{
		struct stat st;
		char dir[160];

		ASSERT_EQ(stat(t.key, &st), 0);
		ASSERT_EQ(st.st_mode & 0777, 0600);
		snprintf(dir, sizeof(dir), "%s/keys", t.dir);
		ASSERT_EQ(stat(dir, &st), 0);
		ASSERT_EQ(st.st_mode & 0777, 0700);
	}
	tdir_free(&t);
}

TEST(recorder_byte_flip_names_the_line)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;
	char *p;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 30, 10, 0), 0);
	lines_read(&l, t.log);
	/* line 5 (index 4): an ordinary event; change one digit of its summary */
	p = strstr(l.v[4], "#3\"");
	ASSERT_TRUE(p != NULL);
	p[1] = '7';
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 5);
	ASSERT_TRUE(strstr(res.reason, "line 5 was modified") != NULL);
	ASSERT_EQ(res.lines, 4); /* lines 1-4 are still good */
	/* a flip that breaks the JSON is caught on the line itself */
	p[1] = '3';
	p = strchr(l.v[7], ':');
	*p = ';';
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 8);
	ASSERT_TRUE(strstr(res.reason, "not a recorder line") != NULL);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_rechained_edit_fails_at_the_checkpoint)
{
	/* An attacker without the key edits a line and recomputes every later hash. */
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;
	unsigned char h[32];
	char hex[65], *p;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 30, 10, 0), 0);
	lines_read(&l, t.log);
	p = strstr(l.v[2], "\"verdict\":\"block\"");
	if (!p)
		p = strstr(l.v[2], "\"verdict\":\"allow\"");
	ASSERT_TRUE(p != NULL);
	memcpy(p + 11, "xxxxx", 5);
	for (size_t i = 3; i < l.n; i++) {
		crypto_hash_sha256(h, (unsigned char *)l.v[i - 1], strlen(l.v[i - 1]));
		for (int k = 0; k < 32; k++)
			sprintf(hex + 2 * k, "%02x", h[k]);
		p = strstr(l.v[i], "\"prev\":\"");
		ASSERT_TRUE(p != NULL);
		memcpy(p + 8, hex, 64);
		if ((p = strstr(l.v[i], "\"head\":\"")))
			memcpy(p + 8, hex, 64);
	}
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	/* seq 11 is the first checkpoint (genesis + 9 events + checkpoint after the 10th event) */
	ASSERT_TRUE(strstr(l.v[res.bad_line - 1], "\"kind\":\"checkpoint\"") != NULL);
	ASSERT_EQ(res.bad_line, 12);
	ASSERT_TRUE(strstr(res.reason, "signature does not verify") != NULL);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_deleted_line_detected)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 20, 64, 0), 0);
	lines_read(&l, t.log);
	free(l.v[6]);
	memmove(l.v + 6, l.v + 7, (l.n - 7) * sizeof(char *));
	l.n--;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 7);
	ASSERT_TRUE(strstr(res.reason, "seq 8 where 7 was expected: 1 line(s) deleted") != NULL);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_reordered_and_duplicated_lines_detected)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;
	char *tmp;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 20, 64, 0), 0);
	lines_read(&l, t.log);
	tmp = l.v[9];
	l.v[9] = l.v[10];
	l.v[10] = tmp;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 10);
	ASSERT_TRUE(strstr(res.reason, "out of order: seq 11 comes before seq 10") != NULL);
	/* put back, then duplicate line 4 after itself */
	l.v[10] = l.v[9];
	l.v[9] = tmp;
	l.v = xreallocarray(l.v, l.n + 1, sizeof(char *));
	memmove(l.v + 5, l.v + 4, (l.n - 4) * sizeof(char *));
	l.v[4] = xstrdup(l.v[3]);
	l.n++;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 5);
	ASSERT_TRUE(strstr(res.reason, "inserted, duplicated or moved") != NULL);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_truncated_log_is_not_intact)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 25, 10, 0), 0);
	lines_read(&l, t.log);
	/* cut after line 15: lines 1..15 hold genesis, events 1-10, checkpoint (12), events 11-13
	 */
	for (size_t i = 15; i < l.n; i++)
		free(l.v[i]);
	l.n = 15;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TRUNCATED);
	ASSERT_EQ(res.unsigned_tail, 3);
	ASSERT_EQ(res.bad_line, 13); /* the first line no signature covers */
	ASSERT_TRUE(strstr(res.reason, "no closing checkpoint") != NULL);
	/* cut right after a periodic checkpoint: still not the closing one */
	free(l.v[14]), free(l.v[13]), free(l.v[12]);
	l.n = 12;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TRUNCATED);
	ASSERT_EQ(res.unsigned_tail, 0);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_torn_tail_after_crash)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 12, 5, 0), 0);
	lines_read(&l, t.log);
	/* the writer died inside the write of line 10: half of it is on disk, no newline */
	free(l.tail);
	l.tail = xstrndup(l.v[9], strlen(l.v[9]) / 2);
	for (size_t i = 9; i < l.n; i++)
		free(l.v[i]);
	l.n = 9;
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TORN);
	ASSERT_EQ(res.bad_line, 10);
	ASSERT_EQ(res.lines, 9);
	ASSERT_TRUE(strstr(res.reason, "incomplete last line") != NULL);
	/* the same torn bytes followed by more lines is tampering, not a crash */
	{
		FILE *fp = fopen(t.log, "ab");

		fputs("\n", fp);
		fclose(fp);
	}
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 10);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_resumes_after_torn_tail)
{
	struct tdir t;
	struct rec_verify_result res;
	struct lines l;
	FILE *fp;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 5, 64, 0), 0);
	static const char torn[] = "{\"seq\":8,\"time\":\"2026-";
	char want[64];

	fp = fopen(t.log, "ab");
	fputs(torn, fp);
	fclose(fp);
	ASSERT_EQ(write_log(&t, t.key, 5, 64, 0), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	/* genesis, 5 events, close (7); recovered (8), 5 events, close (14) */
	ASSERT_EQ(res.last_seq, 14);
	lines_read(&l, t.log);
	ASSERT_TRUE(strstr(l.v[7], "\"kind\":\"recovered\"") != NULL);
	snprintf(want, sizeof(want), "\"torn_bytes\":%zu", strlen(torn));
	ASSERT_TRUE(strstr(l.v[7], want) != NULL);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_bad_signature_and_wrong_key)
{
	struct tdir t, u;
	struct rec_verify_result res;
	unsigned char pk_t[32], pk_u[32];
	struct lines l;
	char *p;

	tdir_init(&t);
	tdir_init(&u);
	ASSERT_EQ(write_log(&t, t.key, 10, 64, 0), 0);
	ASSERT_EQ(write_log(&u, u.key, 10, 64, 0), 0);
	pubkey_of(&t, pk_t);
	pubkey_of(&u, pk_u);
	/* signed by another key: fine unpinned, refused when the trusted key is pinned */
	ASSERT_EQ(verify1(u.log, NULL, &res), REC_INTACT);
	ASSERT_EQ(verify1(u.log, pk_t, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 1);
	ASSERT_TRUE(strstr(res.reason, "not the trusted key") != NULL);
	/* a changed signature on the closing checkpoint */
	lines_read(&l, t.log);
	p = strstr(l.v[l.n - 1], "\"sig\":\"");
	ASSERT_TRUE(p != NULL);
	p[7] = p[7] == 'a' ? 'b' : 'a';
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, pk_t, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, l.n);
	ASSERT_TRUE(strstr(res.reason, "signature does not verify") != NULL);
	/* a checkpoint whose unsigned-looking field changed is caught by the signature */
	p[7] = p[7] == 'a' ? 'b' : 'a';
	p = strstr(l.v[l.n - 1], "\"final\":\"close\"");
	memcpy(p + 9, "CLOSE", 5);
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, pk_t, &res), REC_TAMPERED);
	ASSERT_TRUE(strstr(res.reason, "signature does not verify") != NULL);
	/* a genesis line swapped for one from the other log */
	memcpy(p + 9, "close", 5);
	{
		struct lines m;

		lines_read(&m, u.log);
		free(l.v[0]);
		l.v[0] = xstrdup(m.v[0]);
		lines_free(&m);
	}
	lines_write(&l, t.log);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TAMPERED);
	ASSERT_EQ(res.bad_line, 1); /* line 2's prev no longer matches line 1 */
	ASSERT_EQ(verify1(t.log, pk_t, &res), REC_TAMPERED);
	ASSERT_TRUE(strstr(res.reason, "not the trusted key") != NULL);
	lines_free(&l);
	tdir_free(&t);
	tdir_free(&u);
}

TEST(recorder_rotation_chains_across_gz_files)
{
	struct tdir t;
	struct rec_verify_result res;
	glob_t g;
	char pat[160];
	const char **files;
	size_t n;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 300, 16, 8192), 0);
	snprintf(pat, sizeof(pat), "%s.*.gz", t.log);
	ASSERT_EQ(glob(pat, 0, NULL, &g), 0);
	ASSERT_TRUE(g.gl_pathc >= 3);
	n = g.gl_pathc + 1;
	files = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < g.gl_pathc; i++)
		files[i] = g.gl_pathv[i];
	files[n - 1] = t.log;
	/* real gzip files */
	{
		size_t len;
		char *b = slurp(files[0], &len);

		ASSERT_TRUE(len > 2 && (unsigned char)b[0] == 0x1f && (unsigned char)b[1] == 0x8b);
		free(b);
	}
	ASSERT_EQ(rec_verify_files(files, n, NULL, &res), REC_INTACT);
	ASSERT_EQ(res.first_seq, 1);
	ASSERT_FALSE(res.continues);
	/* 300 events, 18 periodic + rotation checkpoints vary, one genesis per file, one close */
	ASSERT_EQ(res.last_seq, res.lines);
	/* the live file alone verifies and says it continues an earlier file */
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	ASSERT_TRUE(res.continues);
	/* a rotated file missing from the middle */
	{
		const char *gap[2] = {files[0], files[2]};

		ASSERT_EQ(rec_verify_files(gap, 2, NULL, &res), REC_TAMPERED);
		ASSERT_STREQ(res.bad_file, files[2]);
		ASSERT_EQ(res.bad_line, 1);
		ASSERT_TRUE(strstr(res.reason, "does not continue the previous one") != NULL);
	}
	/* files out of order */
	{
		const char *swapped[2] = {files[1], files[0]};

		ASSERT_EQ(rec_verify_files(swapped, 2, NULL, &res), REC_TAMPERED);
		ASSERT_STREQ(res.bad_file, files[0]);
	}
	free(files);
	globfree(&g);
	tdir_free(&t);
}

TEST(recorder_damaged_gz_is_tampered)
{
	struct tdir t;
	struct rec_verify_result res;
	glob_t g;
	char pat[160];
	size_t len;
	char *b;
	FILE *fp;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 120, 16, 4096), 0);
	snprintf(pat, sizeof(pat), "%s.*.gz", t.log);
	ASSERT_EQ(glob(pat, 0, NULL, &g), 0);
	b = slurp(g.gl_pathv[0], &len);
	fp = fopen(g.gl_pathv[0], "wb");
	fwrite(b, 1, len - 20, fp); /* cut inside the deflate stream */
	fclose(fp);
	free(b);
	ASSERT_TRUE(verify1(g.gl_pathv[0], NULL, &res) != REC_INTACT);
	ASSERT_TRUE(res.status == REC_TAMPERED || res.status == REC_TORN);
	globfree(&g);
	tdir_free(&t);
}

TEST(recorder_reopen_continues_chain_and_locks)
{
	struct tdir t;
	struct rec_verify_result res;
	struct rec_opts o;
	struct recorder *r, *r2;
	char err[256];

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 3, 64, 0), 0);
	ASSERT_EQ(write_log(&t, t.key, 3, 64, 0), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	ASSERT_EQ(res.lines, 1 + 3 + 1 + 3 + 1);
	memset(&o, 0, sizeof(o));
	o.path = t.log;
	o.source = "daemon";
	o.key_path = t.key;
	r = recorder_open(&o, err, sizeof(err));
	ASSERT_TRUE(r != NULL);
	r2 = recorder_open(&o, err, sizeof(err));
	ASSERT_TRUE(r2 == NULL);
	ASSERT_TRUE(strstr(err, "in use by another recorder") != NULL);
	ASSERT_EQ(recorder_close(r), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	tdir_free(&t);
}

TEST(recorder_new_key_starts_a_new_file)
{
	struct tdir t;
	struct rec_verify_result res;
	char key2[160], pat[160];
	glob_t g;
	const char *files[2];

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 3, 64, 0), 0);
	snprintf(key2, sizeof(key2), "%s/keys/other.key", t.dir);
	ASSERT_EQ(write_log(&t, key2, 3, 64, 0), 0);
	snprintf(pat, sizeof(pat), "%s.*.gz", t.log);
	ASSERT_EQ(glob(pat, 0, NULL, &g), 0);
	ASSERT_EQ(g.gl_pathc, 1);
	files[0] = g.gl_pathv[0];
	files[1] = t.log;
	ASSERT_EQ(rec_verify_files(files, 2, NULL, &res), REC_INTACT);
	globfree(&g);
	tdir_free(&t);
}

TEST(recorder_refuses_exposed_key)
{
	struct tdir t;
	struct rec_opts o;
	char err[256];

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 1, 64, 0), 0);
	ASSERT_EQ(chmod(t.key, 0644), 0);
	memset(&o, 0, sizeof(o));
	o.path = t.log;
	o.source = "proxy";
	o.key_path = t.key;
	ASSERT_TRUE(recorder_open(&o, err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "chmod 600") != NULL);
	tdir_free(&t);
}

TEST(recorder_fields_cut_and_reserved_names_kept)
{
	struct tdir t;
	struct rec_verify_result res;
	struct rec_opts o = {0};
	struct recorder *r;
	struct lines l;
	char err[256], *big, *p;
	cJSON *extra = cJSON_CreateObject(), *j;

	tdir_init(&t);
	o.path = t.log;
	o.source = "proxy";
	o.key_path = t.key;
	r = recorder_open(&o, err, sizeof(err));
	ASSERT_TRUE(r != NULL);
	/* 3000 bytes of two-byte characters: cut below 1024 bytes on a character boundary */
	big = xmalloc(3001);
	for (int i = 0; i < 3000; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[3000] = '\0';
	cJSON_AddStringToObject(extra, "prev", "0000");
	cJSON_AddNumberToObject(extra, "seq", 999);
	cJSON_AddStringToObject(extra, "session", "s-42");
	cJSON_AddNumberToObject(extra, "pid", 1234);
	{
		struct rec_event ev = {.kind = "warn", .summary = big, .extra = extra};

		ASSERT_EQ(recorder_append(r, &ev), 0);
	}
	ASSERT_EQ(recorder_close(r), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	lines_read(&l, t.log);
	j = cJSON_Parse(l.v[1]);
	ASSERT_TRUE(j != NULL);
	p = cJSON_GetObjectItem(j, "summary")->valuestring;
	ASSERT_EQ(strlen(p), 1024);
	ASSERT_STREQ(cJSON_GetObjectItem(j, "session")->valuestring, "s-42");
	ASSERT_EQ(cJSON_GetObjectItem(j, "pid")->valuedouble, 1234);
	ASSERT_EQ(cJSON_GetObjectItem(j, "seq")->valuedouble, 2);
	ASSERT_EQ(strlen(cJSON_GetObjectItem(j, "prev")->valuestring), 64);
	cJSON_Delete(j);
	cJSON_Delete(extra);
	free(big);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_finding_line)
{
	struct tdir t;
	struct rec_verify_result res;
	struct rec_opts o = {0};
	struct recorder *r;
	struct findings fs = {0};
	struct lines l;
	char err[256];
	cJSON *j;

	tdir_init(&t);
	o.path = t.log;
	o.source = "proxy";
	o.key_path = t.key;
	r = recorder_open(&o, err, sizeof(err));
	ASSERT_TRUE(r != NULL);
	findings_add(&fs, "dlp", "github-pat", CONF_HIGH, "params.arguments.body",
		     "GitHub token %s", "ghp_...(40 chars)");
	fs.v[0].action = PA_BLOCK;
	ASSERT_EQ(recorder_finding(r, &fs.v[0], "create_issue", NULL), 0);
	ASSERT_EQ(recorder_close(r), 0);
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_INTACT);
	lines_read(&l, t.log);
	j = cJSON_Parse(l.v[1]);
	ASSERT_TRUE(j != NULL);
	ASSERT_STREQ(cJSON_GetObjectItem(j, "kind")->valuestring, "block");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "verdict")->valuestring, "block");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "scanner")->valuestring, "dlp");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "rule")->valuestring, "github-pat");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "tool")->valuestring, "create_issue");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "summary")->valuestring,
		     "GitHub token ghp_...(40 chars)");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "where")->valuestring, "params.arguments.body");
	ASSERT_STREQ(cJSON_GetObjectItem(j, "confidence")->valuestring, "high");
	cJSON_Delete(j);
	lines_free(&l);
	tdir_free(&t);
}

TEST(recorder_disk_full_leaves_no_partial_line)
{
	/* A file size limit makes a write stop part-way, as a full disk does. */
	struct tdir t;
	struct rec_verify_result res;
	pid_t pid;
	int st;

	tdir_init(&t);
	ASSERT_EQ(write_log(&t, t.key, 3, 64, 0), 0);
	pid = fork();
	if (pid == 0) {
		struct rlimit rl;
		struct stat sb;
		struct rec_opts o = {.path = t.log, .source = "proxy", .key_path = t.key};
		char err[256], big[900];
		struct recorder *r;
		int failed = 0;

		signal(SIGXFSZ, SIG_IGN);
		if (stat(t.log, &sb) < 0 || !(r = recorder_open(&o, err, sizeof(err))))
			_exit(10);
		rl.rlim_cur = rl.rlim_max = (rlim_t)sb.st_size + 2000;
		setrlimit(RLIMIT_FSIZE, &rl);
		memset(big, 'y', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		for (int i = 0; i < 10 && !failed; i++) {
			struct rec_event ev = {.kind = "warn", .summary = big};

			failed = recorder_append(r, &ev) < 0;
		}
		_exit(failed && errno == EFBIG ? 0 : 11);
	}
	ASSERT_TRUE(pid > 0);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(WEXITSTATUS(st), 0);
	/* the failed line was cut back: what is there is a crash-free, unsigned tail */
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TRUNCATED);
	ASSERT_TRUE(res.unsigned_tail >= 1);
	tdir_free(&t);
}

TEST(recorder_tick_signs_quiet_tail)
{
	struct tdir t;
	struct rec_verify_result res;
	struct rec_opts o = {0};
	struct recorder *r;
	struct rec_event ev = {.kind = "allow", .tool = "read_file", .verdict = "allow"};
	char err[256];
	uint64_t seq;

	tdir_init(&t);
	o.path = t.log;
	o.source = "daemon";
	o.key_path = t.key;
	r = recorder_open(&o, err, sizeof(err));
	ASSERT_TRUE(r != NULL);
	ASSERT_EQ(recorder_append(r, &ev), 0);
	ASSERT_EQ(recorder_tick(r, 3600), 0); /* young: nothing written */
	ASSERT_EQ(recorder_seq(r), 2);
	ASSERT_EQ(recorder_tick(r, 0), 0); /* due: a checkpoint signs the event */
	ASSERT_EQ(recorder_seq(r), 3);
	seq = recorder_seq(r);
	ASSERT_EQ(recorder_tick(r, 0), 0); /* nothing unsigned: nothing written */
	ASSERT_EQ(recorder_seq(r), seq);
	/* as a crash would leave it: the event is signed although the file was never closed */
	ASSERT_EQ(verify1(t.log, NULL, &res), REC_TRUNCATED);
	ASSERT_EQ(res.unsigned_tail, 0);
	ASSERT_EQ(res.checkpoints, 1);
	ASSERT_EQ(recorder_close(r), 0);
	tdir_free(&t);
}
