#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "mpm.h"
#include "normalize.h"
#include "textscan.h"
#include "xmalloc.h"

#define ID_POISON 10000u
#define WIN_BEFORE 200 /* bytes of a window before an anchor's end */
#define WIN_AFTER 200  /* and after it: longer than any rule's reach */

/*
 * Two stages, because this Vectorscan build scans the full rule set at only
 * ~0.15 GB/s on benign prose (every rule that starts with a common word keeps
 * an engine busy). Stage 1 is one database of anchor words, at least one of
 * which every rule of a category needs; stage 2 scans only windows around
 * anchor hits, with the small database of that category.
 */
static struct mpm *adb_inj;    /* anchors of the injection categories */
static struct mpm *adb_all;    /* anchors of every category (poisoning) */
static struct mpm *cdb[TC__N]; /* rules, one database per category */
static char init_err[256];
static int init_rc = -1;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#define B(c) TS_BIT(c)
#define A_OVR B(TC_OVERRIDE)
struct anchor {
	const char *lit; /* regex-escaped literal, matched caseless anywhere */
	unsigned cats;
	unsigned after; /* window reach after the anchor if longer than WIN_AFTER */
};

/*
 * Every rule of a category contains (caselessly) one of the anchors listed for
 * it; a rule added to injection.c or poison.c needs its anchor here too.
 */
static const struct anchor anchors[] = {
    {"<\\|", B(TC_AUTH_TOKEN), 0},
    {"<<sys", B(TC_AUTH_TOKEN), 0},
    {"inst\\]", B(TC_AUTH_TOKEN), 0},
    /* [SYSTEM], <system>, </admin>: the tag rules allow one space inside */
    {"\\[sys", B(TC_AUTH_TAG), 0},
    {"\\[ sys", B(TC_AUTH_TAG), 0},
    {"<sys", B(TC_AUTH_TAG), 0},
    {"< sys", B(TC_AUTH_TAG), 0},
    {"</sys", B(TC_AUTH_TAG), 0},
    {"</ sys", B(TC_AUTH_TAG), 0},
    {"\\[admin", B(TC_AUTH_TAG), 0},
    {"\\[ admin", B(TC_AUTH_TAG), 0},
    {"<admin", B(TC_AUTH_TAG), 0},
    {"< admin", B(TC_AUTH_TAG), 0},
    {"</admin", B(TC_AUTH_TAG), 0},
    {"\\[developer", B(TC_AUTH_TAG), 0},
    {"\\[ developer", B(TC_AUTH_TAG), 0},
    {"<developer", B(TC_AUTH_TAG), 0},
    {"< developer", B(TC_AUTH_TAG), 0},
    {"</developer", B(TC_AUTH_TAG), 0},
    {"admin", B(TC_AUTH), 0},
    {"developer", B(TC_AUTH) | A_OVR, 0},
    {"anthropic", B(TC_AUTH), 0},
    {"openai", B(TC_AUTH), 0},
    {"creator", B(TC_AUTH), 0},
    {"operator", B(TC_AUTH), 0},
    {"attention", B(TC_AUTH), 0},
    {"dear", B(TC_AUTH), 0},
    {"note to", B(TC_AUTH), 0},
    {"message for", B(TC_AUTH), 0},
    {"instructions for", B(TC_AUTH), 0},
    {"important for", B(TC_AUTH), 0},
    {"assistant", B(TC_AUTH), 0},
    {"llm", B(TC_AUTH), 0},
    {"claude", B(TC_AUTH), 0},
    {"gpt", B(TC_AUTH), 0},
    {"copilot", B(TC_AUTH), 0},
    {"gemini", B(TC_AUTH), 0},
    {"note", B(TC_PARAM_PASS), 0},
    {"message", B(TC_SHADOW), 0},
    {"message history", B(TC_EXFIL), 0},
    {"previous messages", B(TC_EXFIL), 0},
    {"instruction", A_OVR | B(TC_MEMORY) | B(TC_CRED_ASK), 0},
    {"ignor", A_OVR, 0},
    {"disregard", A_OVR, 0},
    {"forget", A_OVR, 0},
    {"override", A_OVR, 0},
    {"bypass", A_OVR, 0},
    {"discard", A_OVR, 0},
    {"abandon", A_OVR, 0},
    {"neglect", A_OVR, 0},
    {"directive", A_OVR, 0},
    {"persona", A_OVR | B(TC_MEMORY), 0},
    {"prompt", A_OVR | B(TC_CRED_ASK) | B(TC_MEMORY) | B(TC_EXFIL), 0},
    {"objective", A_OVR, 0},
    {"unrestrict", A_OVR, 0},
    {"unfilter", A_OVR, 0},
    {"uncensor", A_OVR, 0},
    {"jailbr", A_OVR, 0},
    {"god mode", A_OVR, 0},
    {"bound", A_OVR, 0},
    {"longer", A_OVR, 0},
    {"follow", A_OVR, 0},
    {"obey", A_OVR, 0},
    {"comply", A_OVR, 0},
    {"adhere", A_OVR, 0},
    {"restriction", A_OVR, 0},
    {"rules", A_OVR, 0},
    {"guideline", A_OVR, 0},
    {"safety", A_OVR, 0},
    {"_result", A_OVR, 0},
    {"_output", A_OVR, 0},
    {"_response", A_OVR, 0},
    {"user", B(TC_CRED_ASK) | B(TC_CONCEAL) | B(TC_EXFIL), 0},
    {"reveal", B(TC_CRED_ASK), 0},
    {"leak", B(TC_CRED_ASK) | B(TC_EXFIL), 0},
    {"disclose", B(TC_CRED_ASK), 0},
    {"dump", B(TC_CRED_ASK), 0},
    {"exfiltrat", B(TC_CRED_ASK) | B(TC_EXFIL), 0},
    {"api", B(TC_CRED_ASK) | B(TC_EXFIL), 0},
    {"password", B(TC_CRED_ASK) | B(TC_EXFIL), 0},
    {"passphrase", B(TC_CRED_ASK), 0},
    {"secret", B(TC_CRED_ASK) | B(TC_EXFIL) | B(TC_CRED_PATH), 0},
    {"private", B(TC_CRED_ASK) | B(TC_EXFIL) | B(TC_CRED_PATH), 0},
    {"ssh", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"token", B(TC_CRED_ASK) | B(TC_EXFIL), 0},
    {"cookie", B(TC_CRED_ASK), 0},
    {"credential", B(TC_CRED_ASK) | B(TC_EXFIL) | B(TC_CRED_PATH) | B(TC_PARAM_PASS), 0},
    {"env", B(TC_CRED_ASK) | B(TC_EXFIL) | B(TC_CRED_PATH), 0},
    {"id_", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"\\.aws", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"\\.git-cred", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"shadow", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"pgpass", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"wallet", B(TC_CRED_ASK) | B(TC_CRED_PATH) | B(TC_SHADOW), 0},
    {"npmrc", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"netrc", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"\\.docker", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"\\.kube", B(TC_CRED_ASK) | B(TC_CRED_PATH), 0},
    {"future", B(TC_MEMORY), 0},
    {"subsequent", B(TC_MEMORY), 0},
    {"memor", B(TC_MEMORY), 0},
    {"knowledge", B(TC_MEMORY), 0},
    {"from now", B(TC_MEMORY), 0},
    {"remember", B(TC_MEMORY), 0},
    {"before", B(TC_STEER) | B(TC_SHADOW) | B(TC_READ_FIRST), 0},
    {"tool", B(TC_STEER) | B(TC_SHADOW) | B(TC_READ_FIRST), 0},
    {"function", B(TC_STEER) | B(TC_SHADOW) | B(TC_READ_FIRST), 0},
    {"silently", B(TC_STEER), 0},
    {"secretly", B(TC_STEER), 0},
    {"quietly", B(TC_STEER), 0},
    {"covertly", B(TC_STEER), 0},
    {"stealthily", B(TC_STEER), 0},
    {"discreetly", B(TC_STEER), 0},
    {"conversation", B(TC_EXFIL), 0},
    {"chat", B(TC_EXFIL), 0},
    {"upload", B(TC_EXFIL), 0},
    {"forward", B(TC_EXFIL), 0},
    {"transmit", B(TC_EXFIL), 0},
    {"!\\[", B(TC_EXFIL), 2048}, /* alt text and URL before the query */
    {"mention", B(TC_CONCEAL), 0},
    /* <IMPORTANT>, < secret >, <system_instructions>: one space allowed after '<' */
    {"<important", B(TC_HIDDEN_TAG), 0},
    {"< important", B(TC_HIDDEN_TAG), 0},
    {"<secret", B(TC_HIDDEN_TAG), 0},
    {"< secret", B(TC_HIDDEN_TAG), 0},
    {"<hidden", B(TC_HIDDEN_TAG), 0},
    {"< hidden", B(TC_HIDDEN_TAG), 0},
    {"<instruction", B(TC_HIDDEN_TAG), 0},
    {"< instruction", B(TC_HIDDEN_TAG), 0},
    {"<system_instruction", B(TC_HIDDEN_TAG), 0},
    {"<system-instruction", B(TC_HIDDEN_TAG), 0},
    {"<systeminstruction", B(TC_HIDDEN_TAG), 0},
    {"<ai", B(TC_HIDDEN_TAG), 0},
    {"< ai", B(TC_HIDDEN_TAG), 0},
    {"<note", B(TC_HIDDEN_TAG), 0},
    {"< note", B(TC_HIDDEN_TAG), 0},
    {"<critical", B(TC_HIDDEN_TAG), 0},
    {"< critical", B(TC_HIDDEN_TAG), 0},
    {"<mandatory", B(TC_HIDDEN_TAG), 0},
    {"< mandatory", B(TC_HIDDEN_TAG), 0},
    {"<!--", B(TC_COMMENT), 1024},
    /* poisoning only */
    {"mail", B(TC_SHADOW), 0},
    {"payment", B(TC_SHADOW), 0},
    {"transfer", B(TC_SHADOW), 0},
    {"recipient", B(TC_SHADOW), 0},
    {"address", B(TC_SHADOW), 0},
    {"destination", B(TC_SHADOW), 0},
    {"receiver", B(TC_SHADOW), 0},
    {"account", B(TC_SHADOW), 0},
    {"iban", B(TC_SHADOW), 0},
    {"prior", B(TC_SHADOW), 0},
    {"instead", B(TC_SHADOW), 0},
    {"in place", B(TC_SHADOW), 0},
    {"mcp\\.json", B(TC_CRED_PATH), 0},
    {"claude_desktop", B(TC_CRED_PATH), 0},
    {"\\.cursor", B(TC_CRED_PATH), 0},
    {"/etc/", B(TC_CRED_PATH), 0},
    {"gnupg", B(TC_CRED_PATH), 0},
    {"gcloud", B(TC_CRED_PATH), 0},
    {"_history", B(TC_CRED_PATH), 0},
    {"\\.pem", B(TC_CRED_PATH), 0},
    {"keychain", B(TC_CRED_PATH), 0},
    {"pypirc", B(TC_CRED_PATH), 0},
    {"read", B(TC_READ_FIRST), 0},
    {"cat", B(TC_READ_FIRST), 0},
    {"fetch", B(TC_READ_FIRST), 0},
    {"retrieve", B(TC_READ_FIRST), 0},
    {"param", B(TC_PARAM_PASS), 0},
    {"arg", B(TC_PARAM_PASS), 0},
    {"field", B(TC_PARAM_PASS), 0},
    {"side", B(TC_PARAM_PASS), 0},
    {"metadata", B(TC_PARAM_PASS), 0},
    {"file", B(TC_PARAM_PASS), 0},
    {"key", B(TC_PARAM_PASS), 0},
    {"config", B(TC_PARAM_PASS), 0},
};
#define NANCHORS (sizeof(anchors) / sizeof(anchors[0]))

/*
 * Phrase notation: a space stands for any run of non-alphanumeric bytes (so
 * "ignore previous" also matches "IGNORE...previous" and "ignore\u200bprevious").
 * Backslash escapes, [classes] and {counts} are copied unchanged. Leetspeak is
 * not spelled out in the patterns (that made the database five times slower to
 * compile); text that has digits inside words goes through norm_fold instead.
 */
char *ts_expand(const char *p)
{
	size_t cap = strlen(p) * 6 + 1, n = 0;
	char *out = xmalloc(cap);

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			out[n++] = *p++;
			out[n++] = *p;
			continue;
		}
		if (*p == '[' || *p == '{') {
			char close = *p == '[' ? ']' : '}';

			out[n++] = *p++;
			if (close == ']' && *p == ']')
				out[n++] = *p++;
			while (*p && *p != close) {
				if (*p == '\\' && p[1])
					out[n++] = *p++;
				out[n++] = *p++;
			}
			if (!*p)
				break;
			out[n++] = *p;
			continue;
		}
		if (*p == ' ') {
			memcpy(out + n, "[\\W_]+", 6);
			n += 6;
			continue;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
	return out;
}

static int add_rules(const struct trule *r, size_t nr, unsigned base)
{
	for (size_t i = 0; i < nr; i++) {
		char *re = (r[i].flags & TS_RAW) ? xstrdup(r[i].re) : ts_expand(r[i].re);
		int rc;

		if (r[i].cat >= TC__N) {
			free(re);
			return -1;
		}
		if (!cdb[r[i].cat])
			cdb[r[i].cat] = mpm_new();
		rc = mpm_add(cdb[r[i].cat], base + (unsigned)i, re, MPM_CASELESS | MPM_SINGLEMATCH);
		free(re);
		if (rc != 0)
			return -1;
	}
	return 0;
}

static void rw_from_rules(const struct trule *r, size_t nr);
static void rw_letters_init(void);

static void do_init(void)
{
	char err[200];

	rw_letters_init();
	rw_from_rules(inject_rules, inject_nrules);
	rw_from_rules(poison_rules, poison_nrules);

	adb_inj = mpm_new();
	adb_all = mpm_new();
	for (size_t i = 0; i < NANCHORS; i++) {
		if ((anchors[i].cats & TS_INJECTION_CATS) &&
		    mpm_add(adb_inj, (unsigned)i, anchors[i].lit, MPM_CASELESS) != 0)
			goto fail_add;
		if (mpm_add(adb_all, (unsigned)i, anchors[i].lit, MPM_CASELESS) != 0)
			goto fail_add;
	}
	if (add_rules(inject_rules, inject_nrules, 0) != 0 ||
	    add_rules(poison_rules, poison_nrules, ID_POISON) != 0)
		goto fail_add;
	if (mpm_compile(adb_inj, err, sizeof(err)) != 0 ||
	    mpm_compile(adb_all, err, sizeof(err)) != 0) {
		snprintf(init_err, sizeof(init_err), "text anchors: %s", err);
		return;
	}
	for (int c = 0; c < TC__N; c++) {
		if (cdb[c] && mpm_compile(cdb[c], err, sizeof(err)) != 0) {
			snprintf(init_err, sizeof(init_err), "text patterns: %s", err);
			return;
		}
	}
	init_rc = 0;
	return;
fail_add:
	snprintf(init_err, sizeof(init_err), "text patterns: cannot add");
}

int ts_init(char *err, size_t errlen)
{
	pthread_once(&init_once, do_init);
	if (init_rc != 0)
		snprintf(err, errlen, "%s", init_err);
	return init_rc;
}

/* ---- encoded runs ---- */

#define DEC_MAX 65536 /* decoded bytes looked at per run */
#define DEC_PROBE 512 /* decoded bytes that decide text or binary */
#define RUN_MIN 24

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decode up to max output bytes; returns bytes written. */
static size_t b64_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	unsigned acc = 0, bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < n && o < max; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			break; /* '=' padding ends the data */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

static size_t hex_decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n && o < max; i += 2)
		out[o++] = (unsigned char)(hexval((unsigned char)s[i]) << 4 |
					   hexval((unsigned char)s[i + 1]));
	return o;
}

/* Mostly printable ASCII or valid UTF-8, few control bytes: something a model reads. */
static int looks_text(const unsigned char *b, size_t n)
{
	size_t bad = 0, letters = 0, maxbad = n / 20;

	for (size_t i = 0; i < n;) {
		unsigned char c = b[i];

		if (bad > maxbad)
			return 0; /* binary: decided early */
		if (c >= 0x80) {
			utf8proc_int32_t cp;
			utf8proc_ssize_t k =
			    utf8proc_iterate(b + i, (utf8proc_ssize_t)(n - i > 4 ? 4 : n - i), &cp);

			if (k <= 0) {
				/* A sequence cut by the probe window's end is not evidence. */
				if (n - i >= 4)
					bad++;
				i++;
				continue;
			}
			letters++;
			i += (size_t)k;
			continue;
		}
		if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
			bad++;
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
			letters++;
		i++;
	}
	return n >= 8 && bad * 20 <= n && letters * 2 >= n;
}

/* Decode a prefix of the run; keep it only if it reads as text. Every run is
 * probed (no cap), so benign hashes and ids in front cannot push a payload out. */
#define RUN_PROBE 48 /* decoded bytes that sort a run into text or not */

/* RUN_NONHEX / RUN_DASH: what prescan saw in the run. */
#define RUN_NONHEX 1u
#define RUN_DASH 2u

static unsigned run_flags(const char *p, size_t n);

static void take_run(const char *s, size_t off, size_t len, struct thits *h)
{
	unsigned char buf[RUN_PROBE];
	size_t o;
	unsigned fl;
	int kind;

	fl = run_flags(s + off, len);
	kind = (fl & RUN_NONHEX) ? 0 : (fl & RUN_DASH) ? 2 : 1;
	if (kind == 2)
		return;
	o = kind == 1 ? hex_decode(s + off, len & ~(size_t)1, buf, sizeof(buf))
		      : b64_decode(s + off, len, buf, sizeof(buf));
	if (!looks_text(buf, o))
		return;
	if (h->nruns == h->caprun) {
		h->caprun = h->caprun ? h->caprun * 2 : 4;
		h->runs = xreallocarray(h->runs, h->caprun, sizeof(*h->runs));
	}
	h->runs[h->nruns].off = off;
	h->runs[h->nruns].len = len;
	h->nruns++;
}

static inline int is_run_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/' || c == '_' || c == '-';
}

#if defined(__SSE2__)
#include <emmintrin.h>

/*
 * Bytes in [lo, hi] (unsigned): one add moves lo to -128, so one signed compare
 * tests the range (two compares and an and would do what this does in two).
 */
static inline __m128i in_range(__m128i v, unsigned char lo, unsigned char hi)
{
	return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8((char)(0x80 - lo))),
			      _mm_set1_epi8((char)(hi - lo - 0x7f)));
}

/* ASCII letters folded to lower case (v | 0x20); nothing else lands on a..z. */
static inline __m128i lower16(__m128i v)
{
	return _mm_or_si128(v, _mm_set1_epi8(0x20));
}

/* Bit i set when byte i of the 16 is a base64/hex character (bytes >= 0x80 never are). */
static inline unsigned run_mask16(__m128i v, __m128i lv)
{
	__m128i m = in_range(lv, 'a', 'z');

	m = _mm_or_si128(m, in_range(v, '+', '9')); /* + , - . / 0-9 */
	m = _mm_andnot_si128(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')),
					  _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))),
			     m);
	m = _mm_or_si128(m, _mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
	return (unsigned)_mm_movemask_epi8(m);
}
#endif

static inline int is_leet_digit(unsigned char c)
{
	return c == '0' || c == '1' || c == '3' || c == '4' || c == '5' || c == '7';
}

static inline int is_gz(unsigned char c)
{
	c |= 0x20;
	return c >= 'g' && c <= 'z';
}

struct wlist;
static void add_window(struct wlist *l, size_t a, size_t b);

#define LEET_WIN 160  /* bytes folded around a leet word */
#define LEET_REACH 12 /* a leet digit this far into a word at most (not deep in base64) */

static inline int is_alpha(unsigned char c)
{
	c |= 0x20;
	return c >= 'a' && c <= 'z';
}

static inline int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The short words the rules are written with ("all", "any", "is", "you"...),
 * lowercase, in an open-addressing set built once by ts_init: a short token
 * like "4ll" is leetspeak exactly when it reads as one of them.
 */
#define RW_SLOTS 4096
#define RW_MAX 6
/* A word as one number: its length, then its letters (at most 6 fit in the 7 bytes above). */
static uint64_t rule_words[RW_SLOTS];

static uint64_t rw_key(const char *w, size_t n)
{
	uint64_t k = n;

	for (size_t i = 0; i < n; i++)
		k |= (uint64_t)(unsigned char)w[i] << (8 * (i + 1));
	return k;
}

static unsigned rw_slot(uint64_t k)
{
	return (unsigned)((k * 0x9E3779B97F4A7C15ull) >> 52) % RW_SLOTS;
}

/*
 * Bit i: some word's probe sequence starts at slot i. Almost every token asked
 * about is no rule word: this 512-byte map answers that without touching the
 * 32 KB table.
 */
static uint64_t rw_home[RW_SLOTS / 64];

static int rw_has(const char *w, size_t n)
{
	uint64_t k = rw_key(w, n);
	unsigned h = rw_slot(k);

	if (!(rw_home[h / 64] >> (h % 64) & 1))
		return 0;
	for (unsigned i = h;; i = (i + 1) % RW_SLOTS) {
		if (rule_words[i] == k)
			return 1;
		if (!rule_words[i])
			return 0;
	}
}

static void rw_add(const char *w, size_t n)
{
	static size_t used;
	uint64_t k;
	unsigned i;

	if (n < 2 || n > RW_MAX || rw_has(w, n) || used >= RW_SLOTS / 2)
		return;
	k = rw_key(w, n);
	rw_home[rw_slot(k) / 64] |= 1ull << (rw_slot(k) % 64);
	for (i = rw_slot(k); rule_words[i]; i = (i + 1) % RW_SLOTS)
		;
	rule_words[i] = k;
	used++;
}

/* Every alphabetic run of the rules' text (regex syntax splits words; extra words only cost). */
static void rw_from_rules(const struct trule *r, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		const char *p = r[i].re;

		while (*p) {
			char w[RW_MAX + 1];
			size_t n = 0;

			while (*p && !is_alpha((unsigned char)*p))
				p++;
			/* A letter after a backslash is an escape (\b, \s, \W), not a word. */
			if (p > r[i].re && p[-1] == '\\' && *p) {
				p++;
				continue;
			}
			while (is_alpha((unsigned char)*p)) {
				if (n < sizeof(w))
					w[n] = (char)(*p | 0x20);
				n++;
				p++;
			}
			if (n <= RW_MAX)
				rw_add(w, n);
		}
	}
}

/* Each byte as a letter of a leet word: its leet letter, a lowercase letter, or 0. */
static char rw_letter[256];

static void rw_letters_init(void)
{
	for (unsigned c = 0; c < 256; c++)
		rw_letter[c] = is_alpha((unsigned char)c) ? (char)(c | 0x20)
							  : norm_leet_letter((unsigned char)c);
}

/* Does a short digits+letters token read as a rule word? '1' is tried as i and as l. */
static int reads_as_rule_word(const char *t, size_t n)
{
	char w[RW_MAX + 1];
	size_t ones[RW_MAX], nones = 0;

	if (n > RW_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];

		if (!(w[i] = rw_letter[c]))
			return 0;
		if (c == '1')
			ones[nones++] = i;
	}
	for (unsigned m = 0; m < (1u << nones); m++) {
		for (size_t k = 0; k < nones; k++)
			w[ones[k]] = (m >> k) & 1 ? 'l' : 'i';
		if (rw_has(w, n))
			return 1;
	}
	return 0;
}

/* ts_leet_word's answer for the word w[0..n), letters and digits only. */
static int leet_judge(const char *w, size_t n)
{
	size_t i, digits = 0;

	/*
	 * A number with a short unit or ordinal (31ms, 10px, 1st, 4k), unless it
	 * reads as one of the rules' words (4ll, 1s).
	 */
	for (i = 0; i < n && is_digit((unsigned char)w[i]); i++)
		digits++;
	if (digits && n - i <= 3) {
		while (i < n && is_alpha((unsigned char)w[i]))
			i++;
		if (i == n)
			return reads_as_rule_word(w, n) ? 2 : 0;
	}
	/* A hex literal: 0x1f, 0xdeadbeef. */
	if (n > 2 && w[0] == '0' && (w[1] | 0x20) == 'x') {
		for (i = 2; i < n && hexval((unsigned char)w[i]) >= 0; i++)
			;
		if (i == n)
			return 0;
	}
	return 1;
}

/*
 * Answers for short words, per thread, keyed by the word's bytes: logs repeat
 * the same few numbers with units (31ms, 4s) thousands of times. A word has no
 * NUL byte, so its bytes alone are the key and 0 marks an empty slot.
 */
#define LEET_MEMO 256
static __thread struct {
	uint64_t key;
	int kind;
} tls_memo[LEET_MEMO];

/* ts_leet_word; memo: use tls_memo (only after ts_init: answers depend on the rules). */
static int leet_word(const char *s, size_t n, size_t p, int memo)
{
	size_t a = p, b = p;

	while (a > 0 && p - a < 32 &&
	       (is_alpha((unsigned char)s[a - 1]) || is_digit((unsigned char)s[a - 1])))
		a--;
	while (b < n && b - p < 32 &&
	       (is_alpha((unsigned char)s[b]) || is_digit((unsigned char)s[b])))
		b++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (memo && b - a <= 8 && n - a >= 8) {
		uint64_t key;
		unsigned slot;

		memcpy(&key, s + a, 8);
		key &= ~0ull >> (8 * (8 - (b - a))); /* the word's bytes only */
		slot = (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 56) % LEET_MEMO;
		if (tls_memo[slot].key != key) {
			tls_memo[slot].key = key;
			tls_memo[slot].kind = leet_judge(s + a, b - a);
		}
		return tls_memo[slot].kind;
	}
#else
	(void)memo;
#endif
	return leet_judge(s + a, b - a);
}

int ts_leet_word(const char *s, size_t n, size_t p)
{
	return leet_word(s, n, p, 0);
}

/*
 * A leet digit followed by a letter that is not a hex digit, near the start of
 * a word (hashes, UUIDs and base64 bodies do not count), in a word that reads
 * as leetspeak rather than as a number with a unit: fold around it.
 */
static void leet_candidate(const char *s, size_t n, size_t p, struct wlist *leet,
			   struct wlist *weak)
{
	size_t k = 0;
	int kind;

	while (k <= LEET_REACH && p > k && is_run_char((unsigned char)s[p - k - 1]))
		k++;
	if (k > LEET_REACH || !(kind = leet_word(s, n, p, 1)))
		return;
	add_window(kind == 2 ? weak : leet, p > LEET_WIN ? p - LEET_WIN : 0,
		   p + LEET_WIN < n ? p + LEET_WIN : n);
}

#if defined(__SSE2__)
/* Bit i: byte i is a space, tab, CR or LF. */
static inline unsigned blank16(__m128i v)
{
	__m128i b = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
				 _mm_cmpeq_epi8(v, _mm_set1_epi8('\n')));

	b = _mm_or_si128(b, _mm_cmpeq_epi8(v, _mm_set1_epi8('\t')));
	b = _mm_or_si128(b, _mm_cmpeq_epi8(v, _mm_set1_epi8('\r')));
	return (unsigned)_mm_movemask_epi8(b);
}

/* Bit i: byte i is a run character that is neither a hex digit nor '-'; bit 16+i: '-'. */
static inline unsigned hex_mask16(__m128i v)
{
	__m128i hx = _mm_or_si128(in_range(v, '0', '9'), in_range(lower16(v), 'a', 'f'));
	__m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));

	return ((unsigned)_mm_movemask_epi8(dash) << 16) |
	       (unsigned)(~_mm_movemask_epi8(_mm_or_si128(hx, dash)) & 0xFFFF);
}

/* Bit i: byte i is a leet digit (0 1 3 4 5 7). */
static inline unsigned digit_mask16(__m128i v)
{
	__m128i not_leet = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('2')),
					_mm_cmpeq_epi8(v, _mm_set1_epi8('6')));

	return (unsigned)_mm_movemask_epi8(_mm_andnot_si128(not_leet, in_range(v, '0', '7')));
}

/* Bit i: byte i is a letter g..z or G..Z. */
static inline unsigned gz_mask16(__m128i lv)
{
	return (unsigned)_mm_movemask_epi8(in_range(lv, 'g', 'z'));
}
#endif

/*
 * One pass, 16 bytes at a time, for what the pattern engine does slowly:
 * runs of >= 24 base64/hex characters (a block of all run characters extends
 * the current run, a mixed block ends it at its first gap and starts a new one
 * with its trailing run characters; a run inside one block is shorter than 24
 * and cannot count), and leet words.
 */
/* RUN_NONHEX / RUN_DASH over a run: only runs of >= 24 get here. */
static unsigned run_flags(const char *p, size_t n)
{
	unsigned fl = 0;
	size_t i = 0;

#if defined(__SSE2__)
	for (; i + 16 <= n; i += 16) {
		unsigned hd = hex_mask16(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));

		fl |= ((hd & 0xFFFF) ? RUN_NONHEX : 0) | ((hd >> 16) ? RUN_DASH : 0);
	}
#endif
	for (; i < n; i++) {
		if (p[i] == '-')
			fl |= RUN_DASH;
		else if (hexval((unsigned char)p[i]) < 0)
			fl |= RUN_NONHEX;
	}
	return fl;
}

#if defined(__SSE2__)
/* Blocks with leet candidates, judged in batches (see prescan). */
struct cand_block {
	size_t at;
	unsigned mask;
};
#define CAND_BATCH 1024
static __thread struct cand_block tls_cb[CAND_BATCH];

static void leet_batch(const char *s, size_t n, const struct cand_block *cb, size_t nc,
		       struct wlist *leet, struct wlist *weak)
{
	for (size_t k = 0; k < nc; k++)
		for (unsigned m = cb[k].mask; m; m &= m - 1)
			leet_candidate(s, n, cb[k].at + (unsigned)__builtin_ctz(m), leet, weak);
}
#endif

/*
 * The first non-ASCII code point starting at i + b for a bit b of hi (byte
 * i + b is >= 0x80) that folding would change, or SIZE_MAX. Text in scripts
 * folding leaves alone (Chinese, Japanese, Korean, most lower-case Cyrillic...)
 * then costs no fold. *plain_to: where the last code point looked at ends (a
 * sequence may run into the next block).
 */
static size_t folds_in(const char *s, size_t n, size_t i, unsigned hi, size_t *plain_to)
{
	for (; hi; hi &= hi - 1) {
		size_t p = i + (size_t)__builtin_ctz(hi), k;

		if (p < *plain_to)
			continue;
		k = norm_plain_at(s, n, p);
		if (!k)
			return p;
		*plain_to = p + k;
	}
	return SIZE_MAX;
}

/*
 * Windows to fold: around non-ASCII bytes (look-alikes, invisibles, tag
 * characters, bad UTF-8), leet words, and blank runs of 64+ bytes (folding
 * collapses them, so padding cannot push a directive's words further apart
 * than one window reaches).
 */
static void prescan(const char *s, size_t n, struct thits *h, struct wlist *fold,
		    struct wlist *leet, struct wlist *weak)
{
	size_t i = 0, run = 0, blank_blocks = 0, blank_start = 0, plain_to = 0;
#if defined(__SSE2__)
	size_t nc = 0;
	struct cand_block *cb = tls_cb;

	for (; i + 16 <= n; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i lv = lower16(v);
		unsigned m = run_mask16(v, lv), d = digit_mask16(v), cand = 0;
		unsigned hi = (unsigned)_mm_movemask_epi8(v);

		/* Non-ASCII bytes: look-alikes, invisibles, tags or bad UTF-8 near here? */
		if (hi) {
			size_t p = folds_in(s, n, i, hi, &plain_to);

			if (p != SIZE_MAX)
				add_window(fold, p > WIN_BEFORE ? p - WIN_BEFORE : 0,
					   i + 16 + WIN_AFTER < n ? i + 16 + WIN_AFTER : n);
		}

		if (!m && blank16(v) == 0xFFFF) {
			if (blank_blocks++ == 0)
				blank_start = i;
		} else {
			if (blank_blocks >= 4)
				add_window(fold,
					   blank_start > WIN_BEFORE ? blank_start - WIN_BEFORE : 0,
					   i + WIN_AFTER < n ? i + WIN_AFTER : n);
			blank_blocks = 0;
		}

		/* Without a branch on d: digits come and go too irregularly to predict. */
		cand = d & (gz_mask16(lv) >> 1);
		if ((d & 0x8000) && i + 16 < n && is_gz((unsigned char)s[i + 16]))
			cand |= 0x8000;
		/*
		 * Deep inside a long run (base64 body) leet digits mean nothing. The
		 * rest are noted without a branch and judged in batches: in logs they
		 * come too irregularly for the branch predictor.
		 */
		if (m == 0xFFFF && run > LEET_REACH + 16)
			cand = 0;
		cb[nc].mask = cand;
		cb[nc].at = i;
		nc += cand != 0;
		if (nc == CAND_BATCH) {
			leet_batch(s, n, cb, nc, leet, weak);
			nc = 0;
		}
		if (m == 0xFFFF) {
			run += 16;
			continue;
		}
		/*
		 * The run carried in ends at the block's first gap. Without a branch on
		 * it: a run starting in this block is shorter than 24, cannot count.
		 */
		size_t lead = (size_t)__builtin_ctz(~m);

		run += lead;
		if (run >= RUN_MIN)
			take_run(s, i + lead - run, run, h);
		/* trailing run characters at the top of the block start the next run */
		run = (size_t)(15 - (31 - __builtin_clz(~m & 0xFFFFu)));
	}
	leet_batch(s, n, cb, nc, leet, weak);
#endif
	/*
	 * The bytes the vector loop left (all of them without SSE2, e.g. on arm64):
	 * the same classes one byte at a time, blank runs of 64+ included.
	 */
	size_t blank_run = 0, blank_at = 0;

	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
			if (blank_run++ == 0)
				blank_at = i;
		} else {
			if (blank_run >= 64)
				add_window(fold, blank_at > WIN_BEFORE ? blank_at - WIN_BEFORE : 0,
					   i + WIN_AFTER < n ? i + WIN_AFTER : n);
			blank_run = 0;
		}
		if (c >= 0x80 && folds_in(s, n, i, 1, &plain_to) != SIZE_MAX)
			add_window(fold, i > WIN_BEFORE ? i - WIN_BEFORE : 0,
				   i + WIN_AFTER < n ? i + WIN_AFTER : n);
		if (is_leet_digit(c) && i + 1 < n && is_gz((unsigned char)s[i + 1]))
			leet_candidate(s, n, i, leet, weak);
		if (is_run_char(c)) {
			run++;
			continue;
		}
		if (run >= RUN_MIN)
			take_run(s, i - run, run, h);
		run = 0;
	}
	if (run >= RUN_MIN)
		take_run(s, n - run, run, h);
	if (blank_blocks >= 4)
		add_window(fold, blank_start > WIN_BEFORE ? blank_start - WIN_BEFORE : 0, n);
	if (blank_run >= 64)
		add_window(fold, blank_at > WIN_BEFORE ? blank_at - WIN_BEFORE : 0, n);
}

/* ---- scanning ---- */

#define MAXWIN 65536 /* windows per category before it scans the whole text */

struct wlist {
	size_t n, cap;
	int all;
	size_t (*w)[2];
};

struct sctx {
	const char *s;
	size_t len;
	struct thits *h;
	int folded;
	unsigned raw_mask;
	unsigned want;
	struct wlist *cat; /* [TC__N] */
};

static void take_ctx(char *dst, const char *s, size_t end)
{
	size_t start = end > TS_CTX - 16 ? end - (TS_CTX - 16) : 0, n = 0;

	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80)
			c = '?';
		else if (c == '"')
			c = '\'';
		else if (c == '\\')
			c = '/';
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
}

/* Hits arrive in order of their end, so a window overlaps only the last one. */
static void add_window(struct wlist *l, size_t a, size_t b)
{
	if (l->all)
		return;
	if (l->n && a <= l->w[l->n - 1][1]) {
		if (b > l->w[l->n - 1][1])
			l->w[l->n - 1][1] = b;
		if (a < l->w[l->n - 1][0])
			l->w[l->n - 1][0] = a;
		return;
	}
	if (l->n == l->cap) {
		if (l->cap == MAXWIN) {
			l->all = 1;
			return;
		}
		l->cap = l->cap ? l->cap * 2 : 64;
		l->w = xreallocarray(l->w, l->cap, sizeof(*l->w));
	}
	l->w[l->n][0] = a;
	l->w[l->n][1] = b;
	l->n++;
}

static int on_anchor(unsigned id, unsigned long long from, unsigned long long to, void *vctx)
{
	struct sctx *x = vctx;
	size_t end = (size_t)to, a, b;
	unsigned cats;

	(void)from;
	if (id >= NANCHORS)
		return 0;
	a = end > WIN_BEFORE ? end - WIN_BEFORE : 0;
	b = end + (anchors[id].after ? anchors[id].after : WIN_AFTER);
	if (b > x->len)
		b = x->len;
	cats = anchors[id].cats & x->want;
	while (cats) {
		int c = __builtin_ctz(cats);

		cats &= cats - 1;
		add_window(&x->cat[c], a, b);
	}
	return 0;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to, void *vctx)
{
	struct sctx *x = vctx;
	struct thits *h = x->h;
	const struct trule *r;
	unsigned bit;

	(void)from;
	r = id >= ID_POISON ? &poison_rules[id - ID_POISON] : &inject_rules[id];
	bit = TS_BIT(r->cat);
	if (x->folded && !(x->raw_mask & bit))
		h->fold_only |= bit;
	if (!(h->mask & bit) || (r->conf == TS_HIGH && !(h->high & bit)))
		take_ctx(h->ctx[r->cat], x->s, (size_t)to);
	h->mask |= bit;
	if (r->conf == TS_HIGH)
		h->high |= bit;
	return 0;
}

static void engine_failed(struct thits *h)
{
	/* An engine failure must not read as "clean". */
	h->mask |= TS_BIT(TC_OVERRIDE);
	h->high |= TS_BIT(TC_OVERRIDE);
	snprintf(h->ctx[TC_OVERRIDE], TS_CTX, "(pattern engine failed on this text)");
}

/* Stage 1 over s, then each wanted category's database over its windows. */
static void scan2(struct sctx *x)
{
	struct sctx y;

	for (int c = 0; c < TC__N; c++)
		x->cat[c].n = x->cat[c].all = 0;
	const struct mpm *adb = (x->want & ~TS_INJECTION_CATS) ? adb_all : adb_inj;

	if (mpm_scan(adb, x->s, x->len, on_anchor, x) != 0) {
		engine_failed(x->h);
		return;
	}
	y = *x;
	for (int c = 0; c < TC__N; c++) {
		const struct wlist *l = &x->cat[c];

		if (!cdb[c] || !(x->want & TS_BIT(c)))
			continue;
		if (l->all) {
			if (mpm_scan(cdb[c], x->s, x->len, on_hit, x) != 0)
				engine_failed(x->h);
			continue;
		}
		for (size_t i = 0; i < l->n; i++) {
			y.s = x->s + l->w[i][0];
			y.len = l->w[i][1] - l->w[i][0];
			if (mpm_scan(cdb[c], y.s, y.len, on_hit, &y) != 0)
				engine_failed(x->h);
		}
	}
}

/* Window lists, grown and reused: scans on one thread never nest. */
static __thread struct wlist tls_cat[TC__N], tls_fold; /* fold: windows to fold */
static __thread struct wlist tls_leet;		       /* around leet words */
static __thread struct wlist tls_m1, tls_m2;	       /* the lists merged */
static __thread struct wlist tls_weak, tls_near;       /* short leet tokens; those near an anchor */

/* One list of the windows of a and b (each in order), overlapping ones merged. */
static void merge_windows(const struct wlist *a, const struct wlist *b, struct wlist *out)
{
	size_t i = 0, j = 0;

	out->n = out->all = 0;
	if (a->all || b->all) {
		out->all = 1;
		return;
	}
	while (i < a->n || j < b->n) {
		const size_t *w =
		    j >= b->n || (i < a->n && a->w[i][0] <= b->w[j][0]) ? a->w[i++] : b->w[j++];

		add_window(out, w[0], w[1]);
	}
}

/*
 * A short token spelling a rule word ("4ll", "4s") is folded only when the raw
 * pass found a rule's anchor near it: "ignore 4ll previous instructions" is,
 * "took 4s" in a log is not.
 */
static void near_anchors(const struct wlist *weak, const struct wlist *cat, unsigned want,
			 size_t len, struct wlist *out)
{
	size_t pos[TC__N] = {0};
	int any = 0;

	out->n = out->all = 0;
	for (int c = 0; c < TC__N; c++)
		any |= (want & TS_BIT(c)) && (cat[c].all || cat[c].n);
	if (!any || (!weak->n && !weak->all))
		return;
	if (weak->all) {
		add_window(out, 0, len);
		return;
	}
	for (size_t i = 0; i < weak->n; i++) {
		size_t a = weak->w[i][0], b = weak->w[i][1];
		int near = 0;

		for (int c = 0; c < TC__N && !near; c++) {
			const struct wlist *l = &cat[c];

			if (!(want & TS_BIT(c)))
				continue;
			if (l->all) {
				near = 1;
				break;
			}
			/* Both lists are in order: windows ending before this one are done. */
			while (pos[c] < l->n && l->w[pos[c]][1] <= a)
				pos[c]++;
			near = pos[c] < l->n && l->w[pos[c]][0] < b;
		}
		if (near)
			add_window(out, a, b);
	}
}

static inline int is_word_char(unsigned char c)
{
	return is_run_char(c) || c >= 0x80;
}

/* Fold s[a..b) (widened to word edges) and scan the folded copy. */
static void scan_folded(const char *s, size_t len, size_t a, size_t b, unsigned want,
			struct thits *h, unsigned raw_mask, struct wlist *cat)
{
	struct sctx x;
	char *f = NULL;
	unsigned fl = 0;

	while (a > 0 && is_word_char((unsigned char)s[a - 1]))
		a--;
	while (b < len && is_word_char((unsigned char)s[b]))
		b++;
	memset(&x, 0, sizeof(x));
	x.len = norm_fold_punct(s + a, b - a, &f, &fl);
	h->fold_flags |= fl;
	x.s = f;
	x.h = h;
	x.folded = 1;
	x.raw_mask = raw_mask;
	x.want = want;
	x.cat = cat;
	scan2(&x);
	free(f);
}

void ts_scan(const char *s, size_t len, unsigned want, struct thits *h)
{
	struct wlist *cat = tls_cat;
	struct sctx x;
	const struct wlist *fold = &tls_fold;

	memset(h, 0, sizeof(*h));
	if (init_rc != 0) {
		engine_failed(h);
		return;
	}
	memset(&x, 0, sizeof(x));
	x.s = s;
	x.len = len;
	x.h = h;
	x.want = want;
	x.cat = cat;
	tls_fold.n = tls_fold.all = 0;
	tls_weak.n = tls_weak.all = 0;
	tls_leet.n = tls_leet.all = 0;
	prescan(s, len, h, &tls_fold, &tls_leet, &tls_weak);
	scan2(&x);
	near_anchors(&tls_weak, cat, want, len, &tls_near);
	/*
	 * Folded around non-ASCII characters, padding and leet words only, as one
	 * list: windows of different kinds that overlap are folded together, so a
	 * directive spanning a look-alike and a leet word is seen whole.
	 */
	merge_windows(fold, &tls_leet, &tls_m1);
	merge_windows(&tls_m1, &tls_near, &tls_m2);
	if (tls_m2.all)
		scan_folded(s, len, 0, len, want, h, h->mask, cat);
	else
		for (size_t i = 0; i < tls_m2.n; i++)
			scan_folded(s, len, tls_m2.w[i][0], tls_m2.w[i][1], want, h, h->mask, cat);
}

void ts_hits_free(struct thits *h)
{
	free(h->runs);
	h->runs = NULL;
	h->nruns = h->caprun = 0;
}

int ts_decode_run(const char *s, const struct trun *r, char **out, size_t *outlen,
		  const char **kind)
{
	const char *p = s + r->off;
	size_t n = r->len, o;
	int hex = n % 2 == 0;
	unsigned char *buf;

	while (n > 0 && p[n - 1] == '=')
		n--;
	for (size_t i = 0; hex && i < n; i++)
		hex = hexval((unsigned char)p[i]) >= 0;
	*kind = hex ? "hex" : "base64";
	buf = xmalloc(DEC_MAX + 1);
	/* Probe a prefix first so a large image is rejected without decoding it all. */
	o = hex ? hex_decode(p, n, buf, DEC_PROBE) : b64_decode(p, n, buf, DEC_PROBE);
	if (!looks_text(buf, o)) {
		free(buf);
		return 0;
	}
	o = hex ? hex_decode(p, n, buf, DEC_MAX) : b64_decode(p, n, buf, DEC_MAX);
	buf[o] = '\0';
	*out = (char *)buf;
	*outlen = o;
	return 1;
}
