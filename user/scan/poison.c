#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalize.h"
#include "jsonpath.h"
#include "poison.h"
#include "textscan.h"

/*
 * Poisoning-only rules, compiled into the injection database (textscan.c).
 * Signals (TS_SIG) never make a finding alone: a tool that reads files may
 * mention ~/.aws/credentials; one that asks for its contents to be passed as a
 * parameter, or hides that from the user, is exfiltrating.
 */
const struct trule poison_rules[] = {
    /* cross-tool shadowing */
    {TC_SHADOW, TS_HIGH, 0,
     "when(?:ever)? (?:any |another |other |a different |the other )(?:other )?(?:tools?|"
     "functions?|mcp tools?)[^\\n]{0,24} (?:is |are |gets |get |has been |have been )?(?:"
     "called|used|invoked|run|executed|requested)\\b"},
    {TC_SHADOW, TS_HIGH, 0,
     "(?:modif(?:y|ies)|changes?|alters?|overrides?|affects?|hijacks?|intercepts?) (?:the )?(?:"
     "behaviou?r|functionality|output|parameters|arguments|recipients?|results?) of (?:(?:the|"
     "all|any|other|every) )*(?:\\S+ )?(?:tools?|functions?)\\b"},
    {TC_SHADOW, TS_HIGH, 0,
     "(?:side effects?|effects?) on (?:(?:the|all|any|every) )?(?:other )?(?:tools?|functions?)"
     "\\b"},
    {TC_SHADOW, TS_HIGH, 0,
     "(?:all|every|any) (?:outgoing )?(?:emails?|messages?|mails?|payments?|transfers?) (?:must|"
     "should|will|shall|need to|have to) [^\\n]{0,24}(?:be )?(?:sent|forwarded|redirected|cc d|"
     "bcc d|copied|routed|addressed) [^\\n]{0,24}to\\b"},
    {TC_SHADOW, TS_HIGH, 0,
     "(?:send|forward|redirect|bcc|cc|copy|route) (?:a copy of )?(?:all|every|any) (?:emails?|"
     "messages?|mails?)[^\\n]{0,36} to \\S+@"},
    {TC_SHADOW, TS_HIGH, 0,
     "(?:change|set|replace|redirect|override) (?:the )?(?:recipient|to address|destination|"
     "receiver|account number|iban|wallet address)s?[^\\n]{0,36} to (?:\\S+@\\S|the following|"
     "this (?:address|account|wallet))"},
    {TC_SHADOW, TS_LOW, 0,
     "(?:must|should|has to|needs to) (?:always )?be (?:called|used|invoked|run) (?:before|prior "
     "to|instead of|in place of)\\b"},
    {TC_SHADOW, TS_LOW, 0, "instead of (?:using |calling )?(?:the )?\\S+ (?:tool|function)\\b"},
    {TC_SHADOW, TS_LOW, 0, "(?:replaces?|supersedes?) (?:the )?\\S+ (?:tool|function)\\b"},
    {TC_SHADOW, TS_LOW, 0,
     "(?:do not|don t|dont|never) (?:use|call|invoke|run) (?:the|any) (?:other )?(?:\\S+ )?"
     "(?:tools?|functions?)\\b"},
    /* signals */
    {TC_CRED_PATH, TS_SIG, TS_RAW,
     "\\.ssh\\b|\\bid_(?:rsa|ed25519|ecdsa|dsa)\\b|\\.aws/(?:credentials|config)|(?:^|[\\s'\"`(/"
     "~=])\\.env\\b|\\.npmrc|\\.pypirc|\\.netrc|\\.git-credentials|\\.docker/config\\.json|"
     "\\.kube/config|\\bmcp\\.json|claude_desktop_config|\\.cursor/|/etc/(?:shadow|passwd|"
     "sudoers)|\\.gnupg|\\.pgpass|gcloud/(?:credentials|application_default)|wallet\\.dat|"
     "\\.(?:bash|zsh)_history|\\bcredentials\\.json|\\bsecrets?\\.(?:ya?ml|json|toml|env)|"
     "private[_ -]?keys?\\b|\\.pem\\b|keychain"},
    {TC_READ_FIRST, TS_SIG, 0,
     "before (?:using|calling|invoking|running|executing|you use|you call) (?:this|the|any) "
     "(?:tool|function)"},
    {TC_READ_FIRST, TS_SIG, 0,
     "(?:must|always|should|need to) (?:first )?(?:read|cat|fetch|retrieve) (?:the |your )?(?:"
     "contents?|file|~|/|\\.)"},
    {TC_PARAM_PASS, TS_SIG, 0,
     "\\b(?:pass|provide|include|put|insert|attach|supply|place|append|encode|fill)\\b"
     "[^\\n]{0,40}\\b(?:contents?|file|text|key|data|output|value)s?\\b[^\\n]{0,60}\\b(?:"
     "parameter|argument|param|arg|field|sidenote|side note|notes?|metadata)\\b"},
    {TC_PARAM_PASS, TS_SIG, 0,
     "(?:content|contents|text|value) of (?:(?:the|this|that|each|those) )?(?:file|key|config|"
     "configuration|credentials?)\\b"},
};
const size_t poison_nrules = sizeof(poison_rules) / sizeof(poison_rules[0]);

static const char SCANNER[] = "poisoning";

int poison_init(char *err, size_t errlen)
{
	return ts_init(err, errlen);
}

#define DIRECTIVES                                                                                 \
	(TS_BIT(TC_OVERRIDE) | TS_BIT(TC_CRED_ASK) | TS_BIT(TC_MEMORY) | TS_BIT(TC_STEER) |        \
	 TS_BIT(TC_EXFIL) | TS_BIT(TC_CONCEAL) | TS_BIT(TC_SHADOW))
#define SIGNALS (TS_BIT(TC_CRED_PATH) | TS_BIT(TC_READ_FIRST) | TS_BIT(TC_PARAM_PASS))
#define MARKUP (TS_BIT(TC_HIDDEN_TAG) | TS_BIT(TC_AUTH_TAG) | TS_BIT(TC_AUTH) | TS_BIT(TC_COMMENT))
/* What turns a mention of a credential file into an exfiltration directive. */
#define CRED_USE                                                                                   \
	(TS_BIT(TC_PARAM_PASS) | TS_BIT(TC_READ_FIRST) | TS_BIT(TC_CONCEAL) |                      \
	 TS_BIT(TC_HIDDEN_TAG) | TS_BIT(TC_STEER) | TS_BIT(TC_EXFIL) | TS_BIT(TC_CRED_ASK))

/* Per definition (one tool, prompt, resource): what was seen across its strings. */
struct pstate {
	unsigned mask;
	int high;	     /* a CONF_HIGH finding was added */
	int cred_exfil_high; /* credential-exfiltration already reported at HIGH */
	char cred_where[128];
	char cred_ctx[TS_CTX];
};

static void add(struct pstate *st, struct findings *out, const char *rule, int high,
		const char *where, const char *what, const char *ob, const char *via,
		const char *ctx)
{
	findings_add(out, SCANNER, rule, high ? CONF_HIGH : CONF_LOW, where, "%s%s%s%s%s%s", what,
		     ob, via, ctx ? ": \"" : "", ctx ? ctx : "", ctx ? "\"" : "");
	if (high)
		st->high = 1;
}

static const char *obf(const struct thits *h, unsigned cats)
{
	if (!(h->fold_only & cats))
		return "";
	if (h->fold_flags & NORM_TAGS)
		return " (in smuggled tag characters)";
	if (h->fold_flags & NORM_INVISIBLE)
		return " (split by invisible characters)";
	if (h->fold_flags & NORM_CONFUSABLE)
		return " (written with look-alike letters)";
	if (h->fold_flags & NORM_LEET)
		return " (written in leetspeak)";
	return " (after normalization)";
}

static void judge(const struct thits *h, const char *where, const char *via, struct pstate *st,
		  struct findings *out)
{
	unsigned m = h->mask, high = h->high;
	int ob = (h->fold_flags & (NORM_TAGS | NORM_INVISIBLE | NORM_CONFUSABLE | NORM_LEET)) != 0;
	unsigned hid = m & (MARKUP | TS_BIT(TC_CONCEAL) | TS_BIT(TC_AUTH_TOKEN));

	if (ob)
		high |= h->fold_only;
	/* In a definition, markup that frames directives or credential signals hides them. */
	if ((m & MARKUP) && (m & (DIRECTIVES | SIGNALS)))
		high |= m & MARKUP;
	if (hid) {
		unsigned best = (hid & high) ? (hid & high) : hid;

		add(st, out, "hidden-instructions", (hid & high) != 0, where,
		    "instructions hidden from the user", obf(h, hid), via,
		    h->ctx[__builtin_ctz(best)]);
	}
	if (m & TS_BIT(TC_OVERRIDE))
		add(st, out, "instruction-override", (high & TS_BIT(TC_OVERRIDE)) != 0, where,
		    "overrides the model's instructions", obf(h, TS_BIT(TC_OVERRIDE)), via,
		    h->ctx[TC_OVERRIDE]);
	if (m & TS_BIT(TC_MEMORY))
		add(st, out, "memory-persistence", (high & TS_BIT(TC_MEMORY)) != 0, where,
		    "tries to persist instructions", obf(h, TS_BIT(TC_MEMORY)), via,
		    h->ctx[TC_MEMORY]);
	/* Shadowing; steering other tools is only heuristic on its own in a description. */
	if (m & (TS_BIT(TC_SHADOW) | TS_BIT(TC_STEER))) {
		unsigned s = m & (TS_BIT(TC_SHADOW) | TS_BIT(TC_STEER));
		int hi =
		    (high & TS_BIT(TC_SHADOW)) ||
		    ((m & TS_BIT(TC_STEER)) &&
		     (m & (TS_BIT(TC_CONCEAL) | TS_BIT(TC_HIDDEN_TAG) | TS_BIT(TC_CRED_PATH)))) ||
		    (h->fold_only & s);

		add(st, out, "tool-shadowing", hi, where, "steers or shadows other tools",
		    obf(h, s), via, h->ctx[(m & TS_BIT(TC_SHADOW)) ? TC_SHADOW : TC_STEER]);
	}
	if (m & (TS_BIT(TC_CRED_ASK) | TS_BIT(TC_EXFIL))) {
		unsigned s = m & (TS_BIT(TC_CRED_ASK) | TS_BIT(TC_EXFIL));
		int hi = (high & s) != 0;

		add(st, out, "credential-exfiltration", hi, where,
		    "solicits or sends out credentials or data", obf(h, s), via,
		    h->ctx[(s & high & TS_BIT(TC_CRED_ASK)) || !(s & TS_BIT(TC_EXFIL)) ? TC_CRED_ASK
										       : TC_EXFIL]);
		st->cred_exfil_high |= hi;
	}
	/* A credential file named next to a directive to use it; one finding per string. */
	if (m & TS_BIT(TC_CRED_PATH)) {
		int done = (m & high & (TS_BIT(TC_CRED_ASK) | TS_BIT(TC_EXFIL))) != 0;

		if (done) {
			/* already reported above at high confidence */
		} else if (m & CRED_USE) {
			add(st, out, "credential-exfiltration", 1, where,
			    "directs reading a credential file into the call",
			    obf(h, TS_BIT(TC_CRED_PATH)), via, h->ctx[TC_CRED_PATH]);
			st->cred_exfil_high = 1;
		} else {
			/* A tool may say where it reads its own credentials: worth a warning. */
			add(st, out, "credential-path", 0, where, "mentions a credential file", "",
			    via, h->ctx[TC_CRED_PATH]);
		}
		if (!st->cred_where[0]) {
			snprintf(st->cred_where, sizeof(st->cred_where), "%s", where);
			memcpy(st->cred_ctx, h->ctx[TC_CRED_PATH], TS_CTX);
		}
	}
	if (h->fold_flags & NORM_TAGS)
		add(st, out, "hidden-text", 1, where,
		    "text smuggled in Unicode tag characters or variation selectors", "", via,
		    NULL);
	else if (h->fold_flags & NORM_INVISIBLE)
		add(st, out, "hidden-text", h->fold_only != 0, where,
		    "invisible characters inside words, bidi controls or bad UTF-8", "", via, NULL);
	st->mask |= m;
}

/* Whitespace runs that push the rest of a string off screen; very long strings. */
static void padding(const char *s, size_t len, const char *where, struct pstate *st,
		    struct findings *out)
{
	size_t run = 0, longest = 0;
	int text_after = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 1;
		int ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';

		/* U+00A0, U+2000..U+200B, U+202F, U+205F, U+3000: blank but not ASCII space. */
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] == 0xa0)
			ws = 1, k = 2;
		else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			 (((unsigned char)s[i + 2] >= 0x80 && (unsigned char)s[i + 2] <= 0x8b) ||
			  (unsigned char)s[i + 2] == 0xaf))
			ws = 1, k = 3;
		else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x81 &&
			 (unsigned char)s[i + 2] == 0x9f)
			ws = 1, k = 3;
		else if (c == 0xe3 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
			 (unsigned char)s[i + 2] == 0x80)
			ws = 1, k = 3;
		if (ws) {
			run++;
		} else {
			if (run >= 40 && run > longest) {
				longest = run;
				text_after = 1;
			}
			run = 0;
		}
		i += k;
	}
	if (text_after) {
		findings_add(out, SCANNER, "padding", CONF_LOW, where,
			     "%zu blank characters push the text after them off screen", longest);
	}
	if (len > 8192)
		findings_add(out, SCANNER, "padding", CONF_LOW, where,
			     "unusually long text (%zu bytes)", len);
}

static void scan_string(const char *s, size_t len, const char *where, const char *via, int depth,
			struct pstate *st, struct findings *out)
{
	struct thits h;

	ts_scan(s, len, (1u << TC__N) - 1, &h);
	judge(&h, where, via, st, out);
	if (depth == 0)
		padding(s, len, where, st, out);
	for (size_t i = 0; depth < 2 && i < h.nruns; i++) {
		char *txt = NULL, vbuf[96];
		size_t tn = 0;
		const char *kind;

		if (!ts_decode_run(s, &h.runs[i], &txt, &tn, &kind))
			continue;
		findings_add(out, SCANNER, "encoded-payload", CONF_LOW, where,
			     "%s-encoded text hidden in the definition (%zu bytes decoded)", kind,
			     tn);
		/* depth <= 2 keeps this short; a cut note would still be a note */
		if (snprintf(vbuf, sizeof(vbuf), "%s in %s-decoded text", via, kind) < 0)
			vbuf[0] = '\0';
		scan_string(txt, tn, where, vbuf, depth + 1, st, out);
		free(txt);
	}
	ts_hits_free(&h);
}

static void walk(const cJSON *v, char *path, size_t plen, size_t cap, struct pstate *st,
		 struct findings *out)
{
	if (cJSON_IsString(v) && v->valuestring) {
		scan_string(v->valuestring, strlen(v->valuestring), path, "", 0, st, out);
		return;
	}
	if (cJSON_IsArray(v)) {
		int i = 0;

		for (const cJSON *c = v->child; c; c = c->next, i++) {
			size_t nl = jpath_index(path, plen, cap, (size_t)i);

			walk(c, path, nl, cap, st, out);
			path[plen] = '\0';
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		for (const cJSON *c = v->child; c; c = c->next) {
			size_t nl = jpath_key(path, plen, cap, c->string ? c->string : "");

			/* Property names are text the model reads too. */
			if (c->string)
				scan_string(c->string, strlen(c->string), path, "", 0, st, out);
			walk(c, path, nl, cap, st, out);
			path[plen] = '\0';
		}
	}
}

/* Scan one definition; combine signals spread over its strings. */
static int scan_def(const cJSON *def, const char *where, struct findings *out)
{
	struct pstate st;
	char path[256];

	memset(&st, 0, sizeof(st));
	if (!def)
		return 0;
	snprintf(path, sizeof(path), "%s", where ? where : "");
	walk(def, path, strlen(path), sizeof(path), &st, out);
	/* e.g. the description names ~/.ssh/id_rsa, a parameter says "pass the file content". */
	if ((st.mask & TS_BIT(TC_CRED_PATH)) && (st.mask & CRED_USE) && !st.cred_exfil_high) {
		findings_add(out, SCANNER, "credential-exfiltration", CONF_HIGH, st.cred_where,
			     "credential file named here and its use directed elsewhere in the "
			     "definition: \"%s\"",
			     st.cred_ctx);
		st.high = 1;
	}
	return st.high;
}

int poison_scan_tool(const cJSON *tool, const char *where, struct findings *out)
{
	return scan_def(tool, where, out);
}

static void scan_array(const cJSON *result, const char *key, struct findings *out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(result, key);
	const cJSON *c;
	int i = 0;

	if (!cJSON_IsArray(arr))
		return;
	cJSON_ArrayForEach(c, arr)
	{
		char where[96];

		snprintf(where, sizeof(where), "result.%s[%d]", key, i++);
		scan_def(c, where, out);
	}
}

void poison_scan_result(const char *method, const cJSON *result, struct findings *out)
{
	if (!method || !result)
		return;
	if (strcmp(method, "tools/list") == 0)
		scan_array(result, "tools", out);
	else if (strcmp(method, "prompts/list") == 0)
		scan_array(result, "prompts", out);
	else if (strcmp(method, "resources/list") == 0)
		scan_array(result, "resources", out);
	else if (strcmp(method, "resources/templates/list") == 0)
		scan_array(result, "resourceTemplates", out);
	else if (strcmp(method, "initialize") == 0) {
		scan_def(cJSON_GetObjectItemCaseSensitive(result, "serverInfo"),
			 "result.serverInfo", out);
		scan_def(cJSON_GetObjectItemCaseSensitive(result, "instructions"),
			 "result.instructions", out);
	}
}
