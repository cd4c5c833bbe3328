/*
 * The flight recorder: a tamper-evident JSON-lines log of every decision.
 *
 * Each line carries "prev", the hex SHA-256 of the previous line's bytes (without
 * its newline), so editing, deleting or reordering a line breaks the chain.
 * The first line of a file is a signed "genesis" line holding the Ed25519 public
 * key (verification works offline); every N lines and at close a signed
 * "checkpoint" line commits to the chain so far. A line is written with one
 * write(2) on an O_APPEND descriptor, and checkpoints are fdatasync'd, so a
 * writer killed with -9 loses at most the line being written.
 *
 * Line layout (fields in this order; "sig" only on genesis/checkpoint, always last):
 *   {"seq":N,"time":"2026-11-25T10:16:03.123Z","source":"proxy","kind":"block",
 *    "scanner":..,"rule":..,"tool":..,"verdict":..,"summary":..,<extra>...,"prev":"<hex>"}
 * The signature covers "mcpguard-recorder-v1\n" followed by the line's bytes up to
 * (not including) ',"sig":"'.
 *
 * Rotation: past rotate_bytes the file gets a final checkpoint, is renamed to
 * FILE.<last seq, 12 digits>.gz (gzip) and a new FILE starts whose genesis "prev"
 * is the last hash of the old one: seq and chain continue across files.
 *
 * One writer per file (flock); a recorder is not thread-safe. If rotation fails
 * (rename, new file) the recorder warns once and keeps writing the current file.
 */
#ifndef MG_RECORDER_H
#define MG_RECORDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#define REC_DEFAULT_CHECKPOINT 64
#define REC_MAX_LINE 65536 /* a line longer than this is refused by verify */
#define REC_MAX_FIELD 1024 /* string fields are cut (at a UTF-8 boundary) to this */

struct rec_opts {
	const char *path;	   /* the log file (created 0600 if missing) */
	const char *source;	   /* "proxy" or "daemon" */
	const char *key_path;	   /* NULL: rec_default_key_path() */
	unsigned checkpoint_every; /* lines between signed checkpoints; 0: 64 */
	uint64_t rotate_bytes;	   /* rotate when the file reaches this size; 0: never */
};

/* One decision. Every field may be NULL (omitted). Strings are copied, cut to REC_MAX_FIELD. */
struct rec_event {
	const char *kind; /* allow, warn, block, kernel-deny, kernel-audit, drift, quarantine... */
	const char *scanner; /* "dlp", "injection", "lsm", "egress"... */
	const char *rule;
	const char *tool;
	const char *verdict; /* the action taken: "allow", "warn", "block", "deny", "kill"... */
	const char *summary; /* redacted: never the secret itself */
	const cJSON
	    *extra; /* optional object: its members are appended (session, server, pid...) */
};

struct recorder;

/*
 * Open (or continue) a log. An existing file is continued: its last complete line
 * gives the seq and chain head; a torn last line (crash mid-write) is cut off and
 * recorded in a "recovered" line with its length and hash. If the file was started
 * with another key it is rotated first. The key is created on first use (0600 in
 * a 0700 directory, public key beside it as KEY.pub).
 * Returns NULL with a message in err on failure.
 */
struct recorder *recorder_open(const struct rec_opts *o, char *err, size_t errlen);
/*
 * Append one line. Returns 0, or -1 with errno; the file is left without a partial
 * line, or if that cannot be undone every later call fails with EIO (fail closed).
 */
int recorder_append(struct recorder *r, const struct rec_event *ev);
/*
 * A scanner finding from mcpguard run (findings.h): kind and verdict are the
 * action's name ("allow", "warn", "strip", "block"), scanner/rule/summary from
 * the finding, "where" (its JSON path) added; tool and extra may be NULL.
 */
struct finding;
int recorder_finding(struct recorder *r, const struct finding *f, const char *tool,
		     const cJSON *extra);
/* Write a signed checkpoint now (also done every checkpoint_every lines). */
int recorder_checkpoint(struct recorder *r);
/*
 * For a periodic timer: checkpoint if lines are unsigned and the last checkpoint is
 * max_age_sec old, so a quiet writer's recent lines are signed too. 0 or -1.
 */
int recorder_tick(struct recorder *r, unsigned max_age_sec);
/* Final signed checkpoint, fdatasync, close. NULL is a no-op. Returns 0 or -1. */
int recorder_close(struct recorder *r);
/* Seq of the last line written (genesis and checkpoints count). */
uint64_t recorder_seq(const struct recorder *r);

/* Key location: $MCPGUARD_RECORDER_KEY if set (absolute; tests), else
 * /var/lib/mcpguard/recorder.key for root, else $XDG_STATE_HOME/mcpguard/recorder.key
 * ($HOME/.local/state when unset). */
int rec_default_key_path(char *buf, size_t len);
/* Load the secret key at path, or create it (and path.pub). sk: 64 bytes, pk: 32 bytes. */
int rec_load_or_create_key(const char *path, unsigned char sk[64], unsigned char pk[32], char *err,
			   size_t errlen);
/* Read a public key file (as written beside the key: "ed25519:<64 hex>"). */
int rec_read_pubkey(const char *path, unsigned char pk[32], char *err, size_t errlen);
/* key_id: first 8 bytes of SHA-256(pk), 16 hex chars + NUL. */
void rec_key_id(const unsigned char pk[32], char out[17]);

/* ---- verification ---- */

enum rec_status {
	REC_INTACT = 0, /* chain and signatures good, ends with a closing checkpoint */
	REC_TAMPERED =
	    1,	       /* a line was changed, deleted, reordered or inserted, or a bad signature */
	REC_ERROR = 2, /* could not read a file, or usage */
	REC_TRUNCATED = 3, /* intact, but the signed closing checkpoint is missing (crash or cut) */
	REC_TORN = 4, /* as TRUNCATED, and the last line is incomplete (writer killed mid-write) */
};

struct rec_verify_result {
	enum rec_status status;
	uint64_t lines;	      /* complete lines checked */
	uint64_t checkpoints; /* signed checkpoints verified */
	uint64_t first_seq, last_seq;
	uint64_t unsigned_tail; /* lines after the last signed checkpoint */
	char key_id[17];	/* key of the log */
	int key_pinned;		/* verified against a --pubkey */
	int continues;		/* first file continues an earlier one that was not given */
	/* first bad line, for TAMPERED/ERROR (and the torn line for TORN) */
	char bad_file[256];
	uint64_t bad_line; /* 1-based line number in bad_file */
	char reason[512];
	char head[65]; /* hash of the last intact line */
};

/*
 * Verify files in order (plain or gzip). pinned_pk: NULL to trust the key in the
 * log's genesis line, else the key every signature must be made with.
 */
enum rec_status rec_verify_files(const char *const *paths, size_t n, const unsigned char *pinned_pk,
				 struct rec_verify_result *res);

#endif
