/* The DLP rule table (dlp_rules.c) and the vocabulary it is written in. */
#ifndef MG_DLP_RULES_H
#define MG_DLP_RULES_H

#include <stddef.h>

#include "findings.h"

/* Alphabet a token's match is extended over. */
enum dlp_ext {
	X_NONE,
	X_ALNUM,  /* A-Z a-z 0-9 */
	X_B64URL, /* + - _ */
	X_B64,	  /* + + / = */
	X_B64ANY, /* + + / = - _ */
	X_TOKEN,  /* alnum - _ . */
	X_HEX,
};

/* Validators (dlp.c). */
enum dlp_val {
	V_NONE,
	V_B62CRC,	/* GitHub/npm: CRC32 of the random part, base62, last 6 chars */
	V_CARD,		/* Luhn + IIN ranges + lengths */
	V_JWT,		/* header decodes to a JSON object with "alg" */
	V_ENTROPY,	/* random-looking value */
	V_MIXED,	/* letters and digits, or both cases: not a word */
	V_GENERIC,	/* entropy, length, not a placeholder or identifier */
	V_PASSWORD,	/* not a placeholder */
	V_URLPASS,	/* password part of a URL / connection string, not a placeholder */
	V_DISCORD,	/* first part is a base64 snowflake id */
	V_BECH32,	/* bech32 checksum (age) */
	V_AWS_ID,	/* HIGH with a secret key nearby, LOW alone */
	V_AZURE_KEY,	/* base64 of 64 bytes */
	V_AZURE_SAS,	/* sv= nearby */
	V_PEM,		/* header followed by a base64 body */
	V_PUTTY,	/* Private-Lines: follows */
	V_BASIC,	/* base64 of user:password */
	V_OPENAI,	/* the match is inside the token; it must start with sk- */
	V_OPENAI_NOSIG, /* sk-proj- keys without the T3BlbkFJ mark (openai-api-key has those) */
};

struct dlp_rule {
	const char *name;
	const char *hs;	    /* Vectorscan prefilter, start of match is the token start */
	unsigned char ext;  /* enum dlp_ext */
	unsigned char val;  /* enum dlp_val */
	unsigned char conf; /* enum scan_conf at most */
	unsigned short len_min, len_max; /* token length after extension, 0: unbounded */
	const char *pcre; /* anchored confirmation at the match start; group 1 = the secret */
	const char *what;
};

/*
 * Where a match starts: end minus the width for fixed-width patterns, else
 * Vectorscan reports it (SOM), except for prefilters that begin with "://":
 * those end at userinfo's '@' and the start is found walking back to the scheme.
 */
#define DLP_FROM_SCHEME(r) ((r)->hs[0] == ':')

extern const struct dlp_rule dlp_rules[];
extern const size_t dlp_nrules;

#endif
