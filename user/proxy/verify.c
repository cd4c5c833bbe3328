/*
 * mcpguard verify [--pubkey FILE] [--json] [--all] FILE...
 * mcpguard verify --report PREFIX.json [--pubkey FILE]  (a signed `mcpguard assess` report)
 * Checks a flight-recorder log (files in order, plain or .gz): the hash chain,
 * every signature, and says which line is the first bad one.
 * Exit: 0 intact, 1 tampered, 2 usage or unreadable file, 3 truncated (no
 * closing checkpoint: writer running, crashed, or the end was cut), 4 torn tail
 * (the last line is incomplete after a crash; everything before it verified).
 */
#include <getopt.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "assess.h"
#include "cmds.h"
#include "recorder.h"
#include "xmalloc.h"

static const char *status_word(enum rec_status st)
{
	switch (st) {
	case REC_INTACT:
		return "intact";
	case REC_TAMPERED:
		return "tampered";
	case REC_TRUNCATED:
		return "truncated";
	case REC_TORN:
		return "torn-tail";
	default:
		return "error";
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: mcpguard verify [--pubkey FILE] [--json] [--all] FILE...\n"
			"       mcpguard verify [--pubkey FILE] --report PREFIX.json\n"
			"  files in order, oldest first (rotated .gz files, then the live one);\n"
			"  --all LOG: LOG's rotated files (LOG.<seq>.gz) in order, then LOG\n"
			"  exit: 0 intact, 1 tampered, 2 error, 3 truncated, 4 torn tail\n");
	return REC_ERROR;
}

static void print_json(const struct rec_verify_result *r, int nfiles)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "status", status_word(r->status));
	cJSON_AddNumberToObject(o, "exit", r->status);
	cJSON_AddNumberToObject(o, "files", nfiles);
	cJSON_AddNumberToObject(o, "lines", (double)r->lines);
	cJSON_AddNumberToObject(o, "checkpoints", (double)r->checkpoints);
	if (r->lines) {
		cJSON_AddNumberToObject(o, "first_seq", (double)r->first_seq);
		cJSON_AddNumberToObject(o, "last_seq", (double)r->last_seq);
	}
	cJSON_AddNumberToObject(o, "unsigned_tail", (double)r->unsigned_tail);
	cJSON_AddStringToObject(o, "key_id", r->key_id);
	cJSON_AddBoolToObject(o, "key_pinned", r->key_pinned);
	cJSON_AddBoolToObject(o, "continues_earlier_file", r->continues);
	cJSON_AddStringToObject(o, "head", r->head);
	if (r->status != REC_INTACT) {
		cJSON_AddStringToObject(o, "file", r->bad_file);
		cJSON_AddNumberToObject(o, "line", (double)r->bad_line);
		cJSON_AddStringToObject(o, "reason", r->reason);
	}
	s = cJSON_Print(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
}

static void print_text(const struct rec_verify_result *r, int nfiles)
{
	const char *what = status_word(r->status);

	if (r->status == REC_ERROR) {
		printf("ERROR: %s%s%s\n", r->bad_file, r->bad_file[0] ? ": " : "", r->reason);
		return;
	}
	if (r->status != REC_INTACT)
		printf("%s:%llu: %s: %s\n", r->bad_file, (unsigned long long)r->bad_line,
		       r->status == REC_TAMPERED ? "TAMPERED" : what, r->reason);
	if (r->lines)
		printf("%s: %llu line(s) verified in %d file(s) (seq %llu..%llu), %llu signed "
		       "checkpoint(s)",
		       r->status == REC_INTACT	   ? "intact"
		       : r->status == REC_TAMPERED ? "before that"
						   : "chain intact",
		       (unsigned long long)r->lines, nfiles, (unsigned long long)r->first_seq,
		       (unsigned long long)r->last_seq, (unsigned long long)r->checkpoints);
	else
		printf("no line verified");
	if (r->unsigned_tail && r->status != REC_TAMPERED)
		printf(", %llu line(s) after the last checkpoint unsigned",
		       (unsigned long long)r->unsigned_tail);
	printf("\n");
	if (r->key_id[0])
		printf("key %s %s\n", r->key_id,
		       r->key_pinned
			   ? "(matches the trusted --pubkey)"
			   : "(taken from the log itself: pass --pubkey KEY.pub to pin the "
			     "key you trust)");
	if (r->continues)
		printf("note: the first file continues an earlier log file that was not given\n");
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"pubkey", required_argument, NULL, 'k'}, {"json", no_argument, NULL, 'j'},
	    {"report", no_argument, NULL, 'r'},	      {"all", no_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},	      {NULL, 0, NULL, 0},
	};
	const char *pubfile = NULL;
	unsigned char pk[32];
	char err[256];
	struct rec_verify_result res;
	int json = 0, report = 0, all = 0, c, nfiles;
	const char **files;
	glob_t g = {0};

	optind = 1;
	while ((c = getopt_long(argc, argv, "k:jrah", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			pubfile = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'r':
			report = 1;
			break;
		case 'a':
			all = 1;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	if (pubfile && rec_read_pubkey(pubfile, pk, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpguard verify: %s\n", err);
		return REC_ERROR;
	}
	if (report) {
		char msg[512];
		int rc = 0;

		for (int i = optind; i < argc; i++) {
			int r = assess_verify(argv[i], pubfile ? pk : NULL, msg, sizeof(msg));

			printf("%s%s\n", r ? "BAD: " : "", msg);
			if (r > rc)
				rc = r;
		}
		return rc;
	}
	if (all) {
		char pat[4200];

		if (argc - optind != 1)
			return usage();
		/* rotated names carry the last seq in 12 digits: glob order is chain order */
		snprintf(pat, sizeof(pat),
			 "%s.[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*",
			 argv[optind]);
		if (glob(pat, 0, NULL, &g) != 0)
			g.gl_pathc = 0;
		files = xcalloc(g.gl_pathc + 1, sizeof(*files));
		nfiles = 0;
		for (size_t i = 0; i < g.gl_pathc; i++) {
			size_t n = strlen(g.gl_pathv[i]);

			/* a .gz, or a plain file whose compression did not finish; not temporaries
			 */
			if (n > 4 && strcmp(g.gl_pathv[i] + n - 4, ".tmp") == 0)
				continue;
			/* both X and X.gz: compressed, but X not yet removed; X.gz follows */
			if (i + 1 < g.gl_pathc &&
			    strncmp(g.gl_pathv[i + 1], g.gl_pathv[i], n) == 0 &&
			    strcmp(g.gl_pathv[i + 1] + n, ".gz") == 0)
				continue;
			files[nfiles++] = g.gl_pathv[i];
		}
		files[nfiles++] = argv[optind];
	} else {
		nfiles = argc - optind;
		files = xcalloc((size_t)nfiles, sizeof(*files));
		for (int i = 0; i < nfiles; i++)
			files[i] = argv[optind + i];
	}
	rec_verify_files(files, (size_t)nfiles, pubfile ? pk : NULL, &res);
	if (json)
		print_json(&res, nfiles);
	else
		print_text(&res, nfiles);
	free(files);
	if (all)
		globfree(&g);
	return (int)res.status;
}
