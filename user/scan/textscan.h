/*
 * The pattern databases shared by the injection and poisoning scanners, used
 * in two stages: one database of anchor words finds where a rule could match,
 * then each category's rules (one small database per category) run only over
 * windows around those anchors. A SIMD prescan finds base64/hex runs, leet
 * words, long blank runs and non-ASCII bytes; windows around the last three are
 * folded (normalize.h) and scanned again. Phrase rules are written in a small
 * notation (see ts_expand): a space matches any run of non-alphanumerics.
 */
#ifndef MG_TEXTSCAN_H
#define MG_TEXTSCAN_H

#include <stddef.h>

/* What a rule is evidence of. Injection and poisoning read the ones they need. */
enum tcat {
	TC_AUTH_TOKEN, /* chat-template tokens: <|im_start|>system, [INST], <<SYS>> */
	TC_AUTH_TAG,   /* [SYSTEM], <system> ... */
	TC_AUTH,       /* ADMIN NOTE, message from the developer, note to the AI */
	TC_OVERRIDE,   /* ignore previous instructions, you are now unrestricted */
	TC_CRED_ASK,   /* ask the user for their password, reveal your api keys */
	TC_MEMORY,     /* remember this for all future conversations */
	TC_STEER,      /* before answering, call ...; call the x tool with */
	TC_EXFIL,      /* send the conversation to https://...; markdown image beacons */
	TC_CONCEAL,    /* do not tell the user */
	TC_HIDDEN_TAG, /* <IMPORTANT>, <secret>, <hidden> */
	TC_COMMENT,    /* HTML comment addressed to the model */
	TC_SHADOW,     /* when any other tool is called; all emails must be sent to */
	TC_CRED_PATH,  /* signal: ~/.ssh/id_rsa, .env, ~/.aws/credentials, mcp.json */
	TC_READ_FIRST, /* signal: before using this tool, read ... */
	TC_PARAM_PASS, /* signal: pass its content as the 'sidenote' parameter */
	TC__N
};

#define TS_LOW 0
#define TS_HIGH 1
#define TS_SIG 2 /* evidence only in combination; never a finding alone */

#define TS_RAW 1u /* regex used as written (no phrase expansion) */

struct trule {
	unsigned char cat;  /* enum tcat */
	unsigned char conf; /* TS_LOW, TS_HIGH, TS_SIG */
	unsigned char flags;
	const char *re;
};

extern const struct trule inject_rules[];
extern const size_t inject_nrules;
extern const struct trule poison_rules[];
extern const size_t poison_nrules;

#define TS_CTX 64

struct trun {
	size_t off, len;
};

struct thits {
	unsigned mask;		 /* bit per enum tcat: seen anywhere */
	unsigned high;		 /* bit per enum tcat: seen by a TS_HIGH rule */
	unsigned fold_only;	 /* seen only after folding (obfuscated) */
	unsigned fold_flags;	 /* NORM_* from the folded pass, 0 if none ran */
	char ctx[TC__N][TS_CTX]; /* printable excerpt ending where the match ended */
	/* Encoded runs that decode to text, all of them (decoys cannot crowd a payload
	 * out); owned by the hits, freed by ts_hits_free. */
	struct trun *runs;
	size_t nruns, caprun;
};

/* Release what ts_scan allocated in h. */
void ts_hits_free(struct thits *h);
/*
 * Does the word around s[p] (a digit) read as leetspeak? 1: yes ("1gn0r3",
 * "pr3v10us"); 0: no, a number with a unit or ordinal ("31ms", "10px", "1st")
 * or a hex literal ("0x1f"); 2: a short token spelling a word of the rules
 * ("4ll", "4s"), folded only when a rule's anchor is near it.
 */
int ts_leet_word(const char *s, size_t n, size_t p);
/* Compile the database once (idempotent). */
int ts_init(char *err, size_t errlen);
/*
 * Scan one string for the categories in want (TS_BIT mask): raw, then folded
 * when it is not pure ASCII (whole) or has leet words (around them).
 */
void ts_scan(const char *s, size_t len, unsigned want, struct thits *h);
/*
 * Decode run r of s (hex when it is all hex digits, else base64 std/url, padded
 * or not). Returns 1 and a malloc'd NUL-terminated text in *out when the result
 * reads as text, 0 when it is binary or undecodable. *kind is "hex" or "base64".
 */
int ts_decode_run(const char *s, const struct trun *r, char **out, size_t *outlen,
		  const char **kind);
/* Expand the phrase notation into a regex (exposed for tests). Caller frees. */
char *ts_expand(const char *phrase);

#define TS_BIT(c) (1u << (c))
/* What the injection scanner reads; the rest are poisoning signals. */
#define TS_INJECTION_CATS                                                                          \
	(TS_BIT(TC_AUTH_TOKEN) | TS_BIT(TC_AUTH_TAG) | TS_BIT(TC_AUTH) | TS_BIT(TC_OVERRIDE) |     \
	 TS_BIT(TC_CRED_ASK) | TS_BIT(TC_MEMORY) | TS_BIT(TC_STEER) | TS_BIT(TC_EXFIL) |           \
	 TS_BIT(TC_CONCEAL) | TS_BIT(TC_HIDDEN_TAG) | TS_BIT(TC_COMMENT))

#endif
