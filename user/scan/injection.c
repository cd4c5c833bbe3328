#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"
#include "injection.h"
#include "normalize.h"
#include "textscan.h"

/*
 * Rules in the phrase notation of textscan.h: a space is any run of
 * non-alphanumerics, a e i o s t l also match their leet stand-ins, matching is
 * caseless. TS_HIGH only where benign text has no reason to say it; the rest are
 * TS_LOW and become HIGH only in combination (see judge()).
 */
#define CREDS                                                                                      \
	"(?:api keys?|apikeys?|passwords?|passphrases?|secret keys?|private keys?|ssh keys?|"      \
	"access tokens?|auth tokens?|bearer tokens?|session (?:cookies?|tokens?)|credentials|"     \
	"env(?:ironment)? var(?:iable)?s|system prompt|secrets)\\b"
#define DATA_OBJ                                                                                   \
	"(?:conversation|chat history|chat log|message history|previous messages|this chat|"       \
	"user s (?:data|files|messages|information|details|secrets)|secrets?|credentials?|"        \
	"api keys?|passwords?|private keys?|tokens|system prompt|env(?:ironment)? variables|"      \
	"\\.env\\b)"
#define DEST                                                                                       \
	"(?:https?://|ftp://|wss?://|\\S+@\\S+\\.[a-z]|the (?:following |attacker s |external |"   \
	"remote |this )?(?:url|endpoint|server|address|webhook|link))"

const struct trule inject_rules[] = {
    /* authority claims */
    {TC_AUTH_TOKEN, TS_HIGH, TS_RAW,
     "<\\|im_start\\|>\\s*(?:system|assistant|developer)|<\\|(?:system|assistant|developer)\\|>|"
     "<<SYS>>|\\[/?INST\\]|<\\|eot_id\\|>|<\\|start_header_id\\|>"},
    {TC_AUTH_TAG, TS_LOW, TS_RAW,
     "\\[\\s?(?:system|sys|admin|administrator|developer)(?:\\s+(?:message|note|"
     "notice|prompt|instructions?|override|update))?\\s*\\]"},
    {TC_AUTH_TAG, TS_LOW, TS_RAW,
     "</?\\s?(?:system|system[_-]?(?:message|prompt)|admin|developer)\\s*>"},
    /* A <system> element holding prose is addressed to a model, not a pom.xml field. */
    {TC_AUTH_TAG, TS_HIGH, TS_RAW,
     "<\\s?(?:system|system[_-]?(?:message|prompt))\\s*>\\s*[A-Za-z][^<]{0,20}\\s[^<]{20}"},
    {TC_AUTH, TS_LOW, 0,
     "\\badmin(?:istrator)? (?:note|message|notice|override|instructions?|directive)\\b"},
    {TC_AUTH, TS_LOW, 0,
     "(?:message|note|notice|instructions?|update|directive|memo) from (?:the )?(?:developers?|"
     "anthropic|openai|system administrator|administrators?|admins?|your (?:creators?|"
     "developers?|operators?))\\b"},
    {TC_AUTH, TS_LOW, 0,
     "\\b(?:attention|note to|dear|instructions for|message for|important for) (?:the |all "
     ")?(?:ai|assistants?|llms?|language models?|ai models?|ai agents?|claude|chatgpt|gpt|"
     "copilot|gemini)\\b"},
    /* instruction overrides */
    {TC_OVERRIDE, TS_HIGH, 0,
     "(?:ignore|disregard|forget|override|bypass|discard|abandon|neglect) (?:(?:all|any|the|"
     "your|my|every|of|these|those) )*(?:previous|prior|above|earlier|preceding|former|original|"
     "initial|foregoing|old|system|safety)[^\\n]{0,16} (?:instructions?|prompts?|rules|directions|"
     "directives|guidelines|guidance|context|commands?|constraints|orders|programming|"
     "restrictions)\\b"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "(?:ignore|disregard|forget) (?:all |everything )(?:you (?:were|have been|ve been) told|"
     "(?:that )?(?:came|was said|was written) (?:before|above)|above|before this|prior)\\b"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "(?:ignore|disregard|forget|override) (?:(?:the|all|any) )?(?:system prompt|system "
     "message|system instructions|instructions you (?:were|have been) given|your (?:"
     "instructions|rules|guidelines|programming|training|directives|system prompt))\\b"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "your (?:new|real|actual|true) (?:instructions|directives|persona|system prompt|objective) "
     "(?:are|is)\\b"},
    {TC_OVERRIDE, TS_LOW, 0,
     "(?:new|updated|revised|real|actual|true) (?:instructions|directives|system prompt)\\s*:"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "you are (?:now |no longer )(?:an? )?(?:unrestricted|unfiltered|uncensored|jailbroken|in "
     "developer mode|in god mode|no longer bound)"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "you are no longer (?:an? )?(?:ai|assistant|bound|restricted|limited|claude|chatgpt)\\b"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "(?:do not|don t|dont|never|stop) (?:follow|following|obey|obeying|comply with|adhere to) "
     "(?:your|the|any) (?:(?:previous|prior|original|system|safety|earlier) )?(?:instructions|"
     "rules|guidelines|policies|directives|programming)\\b"},
    {TC_OVERRIDE, TS_HIGH, 0,
     "(?:act|behave|respond|answer|operate) (?:as if|like) (?:you have|there are|you had) no "
     "(?:restrictions|rules|guidelines|safety)\\b"},
    {TC_OVERRIDE, TS_LOW, TS_RAW,
     "</\\s*(?:tool_result|function_results|tool_output|function_output|tool_response)\\s*>"},
    /* credential solicitation */
    {TC_CRED_ASK, TS_HIGH, 0,
     "(?:ask|prompt|convince|trick|persuade) (?:the |your )?users? (?:for|to (?:enter|provide|"
     "share|give|send|type|paste|reveal|confirm|tell you)) (?:(?:their|your|the|his|her) )?"
     "[^\\n]{0,20}(?:passwords?|"
     "passphrases?|api keys?|apikeys?|access keys?|secret keys?|private keys?|ssh keys?|"
     "credentials|credit card|card numbers?|cvv|social security|ssn|2fa codes?|otp|one time "
     "(?:code|password)|seed phrase|recovery phrase|mnemonic|login details|bank details|pin)\\b"},
    {TC_CRED_ASK, TS_HIGH, 0,
     "(?:reveal|leak|disclose|dump|exfiltrate) (?:(?:me|us|all|of|any) )*(?:your|the user s|"
     "their) " CREDS},
    /* "curl could leak the password" in a changelog is a report, not an order. */
    {TC_CRED_ASK, TS_HIGH, 0,
     "(?:reveal|disclose|dump|print|output|repeat|show me) (?:your|the) (?:system prompt|initial "
     "instructions|hidden instructions)\\b"},
    {TC_CRED_ASK, TS_HIGH, 0,
     "(?:send|give|tell|email|show) (?:me|us) (?:(?:all|the|your|any|of) )*" CREDS},
    {TC_CRED_ASK, TS_LOW, 0,
     "(?:provide|share|paste|enter|type|print|output) (?:(?:all|the|your|any) )*" CREDS},
    {TC_CRED_ASK, TS_HIGH, TS_RAW,
     "(?:read|cat|output|print|show|include|attach|paste|send|upload|post|forward|leak|"
     "exfiltrate)\\s+(?:me\\s+|us\\s+)?(?:the\\s+)?(?:(?:full\\s+|entire\\s+)?contents?\\s+of\\s+"
     ")?(?:\\S*/)?(?:id_(?:rsa|ed25519|ecdsa|dsa)(?:[^.\\w]|\\.[^p]|$)|\\.aws/credentials|"
     "\\.git-credentials|/etc/shadow|\\.pgpass|wallet\\.dat)"},
    {TC_CRED_ASK, TS_HIGH, TS_RAW,
     "(?:send|upload|post|forward|leak|exfiltrate|transmit|email)\\s+(?:me\\s+|us\\s+)?(?:the\\s+"
     ")?(?:(?:full\\s+|entire\\s+)?contents?\\s+of\\s+)?(?:\\S*/)?(?:\\.ssh\\b|\\.env\\b|\\.npmrc|"
     "\\.netrc|\\.docker/config|\\.kube/config|\\.aws/)"},
    /* memory persistence */
    {TC_MEMORY, TS_HIGH, 0,
     "(?:remember|memori[sz]e|store|save|keep|retain|note) (?:this|that|the following|these "
     "(?:instructions|rules)|this (?:instruction|rule)|it) [^\\n]{0,36}(?:for|in|across|"
     "during|throughout) (?:all |every |any )(?:future|subsequent) "
     "(?:conversations?|sessions?|chats?|interactions?|requests?|responses?|tasks?|turns?|"
     "queries|prompts)\\b"},
    {TC_MEMORY, TS_HIGH, 0,
     "(?:add|save|write|store|insert|put|commit|persist|append) (?:this|that|the following|"
     "these|it)[^\\n]{0,36} (?:to|in|into) (?:your|the assistant s|the model s|the ai s) "
     "(?:long term |persistent |permanent )?(?:memory|memories|system prompt|custom "
     "instructions|core instructions|knowledge)\\b"},
    {TC_MEMORY, TS_HIGH, 0,
     "update (?:your|the assistant s) (?:system prompt|core instructions|custom "
     "instructions|persona|personality)\\b"},
    /* Prompts that users give their own assistant say this too: a warning only. */
    {TC_MEMORY, TS_LOW, 0, "update (?:your|the assistant s) (?:memory|memories)\\b"},
    {TC_MEMORY, TS_LOW, 0,
     "from now on (?:you )?(?:(?:will|must|should|shall) )?(?:always|never|only|must|respond|"
     "reply|answer|act|behave|include|use|call|send|refer)\\b"},
    {TC_MEMORY, TS_LOW, 0,
     "(?:future|subsequent) (?:responses|conversations|sessions|replies|"
     "answers|interactions) (?:you )?(?:must|should|will|always|never)\\b"},
    {TC_MEMORY, TS_LOW, 0, "(?:always|permanently|forever) remember (?:that|to)\\b"},
    /* tool-call steering */
    {TC_STEER, TS_HIGH, 0,
     "before (?:answering|responding|replying|you respond|you answer|you reply|continuing|"
     "proceeding|doing anything else|returning|completing)[^\\n]{0,36} (?:you (?:must|should|"
     "need to|have to) )?(?:first )?(?:call|run|use|invoke|execute|read|fetch|send|open|visit|"
     "query)\\b"},
    {TC_STEER, TS_LOW, 0,
     "(?:call|use|invoke|run|execute|trigger) (?:the )?\\S+ (?:tool|function) (?:with|"
     "using|passing|and pass|and send|and set)\\b"},
    {TC_STEER, TS_LOW, 0,
     "you (?:must|have to|need to|are required to|shall) (?:(?:always|now|immediately) )?(?:first "
     ")?(?:call|use|invoke|run|execute) (?:the )?\\S+ (?:tool|function)\\b"},
    /* "silently send": covert data movement. "would silently overwrite" is a code
     * comment, so the verb must be a word of its own. */
    {TC_STEER, TS_HIGH, 0,
     "(?:secretly|covertly|stealthily) (?:\\w+ )?\\b(?:call|invoke|execute|run|use|send|read|"
     "upload|forward|delete|write|post|email|copy|transfer)\\b"},
    {TC_STEER, TS_HIGH, 0,
     "(?:silently|quietly|discreetly) (?:\\w+ )?\\b(?:send|upload|forward|post|email|copy|"
     "transfer|exfiltrate)\\b"},
    {TC_STEER, TS_LOW, 0,
     "(?:silently|quietly|discreetly) (?:\\w+ )?\\b(?:call|invoke|execute|run|use|read|delete|"
     "write)\\b"},
    {TC_STEER, TS_LOW, 0,
     "(?:immediately|now|next|then|also|automatically) (?:call|invoke|execute|run) (?:the )?"
     "\\S+ (?:tool|function)\\b"},
    /* exfiltration */
    {TC_EXFIL, TS_HIGH, 0,
     "(?:send|upload|post|forward|transmit|exfiltrate|leak|email|mail|sync|submit|copy) "
     "[^\\n]{0,48}" DATA_OBJ "[^\\n]{0,100}(?:to|at|into|via) " DEST},
    {TC_EXFIL, TS_LOW, 0,
     "(?:upload|forward|transmit|exfiltrate|leak) (?:(?:all|the|every|any|of|this|"
     "these) )*(?:data|contents?|files?|results?|output|information|info|everything|messages|"
     "history|logs)[^\\n]{0,60}(?:to|at) (?:https?://|\\S+@\\S+\\.[a-z])"},
    {TC_EXFIL, TS_HIGH, 0,
     "(?:append|add|include|insert|put|encode|embed|replace|substitute)[^\\n]{0,72} " DATA_OBJ
     "[^\\n]{0,72} (?:in|to|into|as) (?:the |this |a )?(?:url|query string|query parameter|"
     "image url|image link|link|markdown image)\\b"},
    /* A markdown image whose URL carries a placeholder for data is a beacon. */
    {TC_EXFIL, TS_HIGH, TS_RAW,
     "!\\[[^\\]\\n]*\\]\\(\\s*<?https?://[^\\s)]+[?&#][^\\s)]*(?:\\{|\\$\\{|"
     "%7[bB]|<[a-z_]|\\[[A-Za-z_ ]{3,}\\])"},
    {TC_EXFIL, TS_LOW, TS_RAW,
     "!\\[[^\\]\\n]*\\]\\(\\s*<?https?://[^\\s)]+[?&][^\\s)=&]{1,50}=[A-Za-z0-9+/%_.="
     "-]{24}"},
    /* concealment from the user */
    {TC_CONCEAL, TS_HIGH, 0,
     "(?:do not|don t|dont|never|must not|should not) [^\\n]{0,24}(?:tell|inform) [^\\n]{0,36}"
     "(?:the|your) users?\\b"},
    /* "e2fsck clears it quietly without telling the user" describes software. */
    {TC_CONCEAL, TS_LOW, 0, "without (?:telling|informing) (?:the|your) users?\\b"},
    {TC_CONCEAL, TS_LOW, 0,
     "(?:do not|don t|dont|never|must not|should not|without) [^\\n]{0,24}(?:notify(?:ing)?|"
     "alert(?:ing)?|warn(?:ing)?|ask(?:ing)?) (?:the |your )?users?\\b"},
    {TC_CONCEAL, TS_HIGH, 0,
     "(?:do not|don t|dont|never|must not) (?:let (?:the |your )?users? know|mention (?:that|this|"
     "it) (?:you|to))"},
    {TC_CONCEAL, TS_HIGH, 0,
     "(?:do not|don t|dont|never|must not) (?:mention|reveal|disclose|say|show|explain|admit|"
     "acknowledge) (?:(?:this|that|it|these|anything|any of this)[^\\n]{0,48} )?(?:to|with) "
     "(?:the |your )?users?\\b"},
    {TC_CONCEAL, TS_HIGH, 0,
     "(?:keep|hide|conceal) (?:this|it|that|these|them)[^\\n]{0,36} (?:from|hidden from|secret "
     "from) (?:the |your )?users?\\b"},
    {TC_CONCEAL, TS_HIGH, 0,
     "(?:the )?users? (?:must|should|will|shall|need) (?:not|never) (?:know|notice|find out|be "
     "told|be informed|suspect)\\b"},
    {TC_CONCEAL, TS_HIGH, 0,
     "without (?:the )?users? (?:s )?(?:knowledge|knowing|noticing|awareness)\\b"},
    /* hidden text */
    {TC_HIDDEN_TAG, TS_LOW, TS_RAW,
     "<\\s?(?:important|secret|hidden|instructions?|system[_-]?instructions?|ai[_-]?"
     "instructions?|note[_-]?to[_-]?(?:ai|assistant|model)|critical|mandatory)\\s*>"},
    {TC_COMMENT, TS_LOW, TS_RAW,
     "<!--[^>]*\\b(?:ai|assistant|llm|language model|claude|chatgpt|gpt|copilot|gemini|"
     "you must|ignore (?:all|previous|the))\\b"},
};
const size_t inject_nrules = sizeof(inject_rules) / sizeof(inject_rules[0]);

int inject_init(char *err, size_t errlen)
{
	return ts_init(err, errlen);
}

static const char SCANNER[] = "injection";

#define DIRECTIVES                                                                                 \
	(TS_BIT(TC_OVERRIDE) | TS_BIT(TC_CRED_ASK) | TS_BIT(TC_MEMORY) | TS_BIT(TC_STEER) |        \
	 TS_BIT(TC_EXFIL) | TS_BIT(TC_CONCEAL))
#define AUTHORITY                                                                                  \
	(TS_BIT(TC_AUTH_TOKEN) | TS_BIT(TC_AUTH_TAG) | TS_BIT(TC_AUTH) | TS_BIT(TC_HIDDEN_TAG) |   \
	 TS_BIT(TC_COMMENT))

struct outcat {
	const char *rule;
	unsigned cats;
	const char *what;
};

static const struct outcat outcats[] = {
    {"authority-claim", TS_BIT(TC_AUTH_TOKEN) | TS_BIT(TC_AUTH_TAG) | TS_BIT(TC_AUTH),
     "claims system/developer authority"},
    {"instruction-override", TS_BIT(TC_OVERRIDE), "tries to override the model's instructions"},
    {"credential-solicitation", TS_BIT(TC_CRED_ASK), "solicits credentials"},
    {"memory-persistence", TS_BIT(TC_MEMORY), "tries to persist instructions"},
    {"tool-call-steering", TS_BIT(TC_STEER), "steers the model to call tools"},
    {"exfiltration", TS_BIT(TC_EXFIL), "directs data to an external destination"},
    {"concealment", TS_BIT(TC_CONCEAL), "tells the model to hide actions from the user"},
    {"hidden-text", TS_BIT(TC_HIDDEN_TAG) | TS_BIT(TC_COMMENT), "hides instructions in markup"},
};

static const char *obfuscation(unsigned fl)
{
	if (fl & NORM_TAGS)
		return " (in smuggled tag characters)";
	if (fl & NORM_INVISIBLE)
		return " (split by invisible characters)";
	if (fl & NORM_CONFUSABLE)
		return " (written with look-alike letters)";
	if (fl & NORM_LEET)
		return " (written in leetspeak)";
	return " (after normalization)";
}

static void judge(const struct thits *h, const char *where, const char *via, struct findings *out)
{
	unsigned high = h->high, directive = h->mask & DIRECTIVES;
	int obf = (h->fold_flags & (NORM_TAGS | NORM_INVISIBLE | NORM_CONFUSABLE | NORM_LEET)) != 0;

	/* A claim of authority together with a directive is unambiguous, and so is
	 * a directive that only shows once look-alikes or invisibles are removed. */
	if ((h->mask & AUTHORITY) && directive)
		high |= h->mask & (AUTHORITY | DIRECTIVES);
	if (obf)
		high |= h->fold_only & (AUTHORITY | DIRECTIVES);
	for (size_t i = 0; i < sizeof(outcats) / sizeof(outcats[0]); i++) {
		const struct outcat *o = &outcats[i];
		unsigned hit = h->mask & o->cats, best;
		int c;

		if (!hit)
			continue;
		/* Context from the most specific category that fired at high confidence. */
		best = (hit & high) ? (hit & high) : hit;
		c = __builtin_ctz(best);
		findings_add(out, SCANNER, o->rule, (hit & high) ? CONF_HIGH : CONF_LOW, where,
			     "%s%s%s: \"%s\"", o->what,
			     (h->fold_only & hit) ? obfuscation(h->fold_flags) : "", via,
			     h->ctx[c]);
	}
	if (h->fold_flags & NORM_TAGS)
		findings_add(out, SCANNER, "hidden-text", CONF_HIGH, where,
			     "text smuggled in Unicode tag characters or variation selectors%s",
			     via);
	else if (h->fold_flags & NORM_INVISIBLE)
		findings_add(
		    out, SCANNER, "hidden-text", (h->fold_only & DIRECTIVES) ? CONF_HIGH : CONF_LOW,
		    where, "invisible characters inside words, bidi controls or bad UTF-8%s", via);
}

static void scan_text(const char *s, size_t len, const char *where, const char *via, int depth,
		      struct findings *out)
{
	struct thits h;

	ts_scan(s, len, TS_INJECTION_CATS, &h);
	judge(&h, where, via, out);
	for (size_t i = 0; depth < 2 && i < h.nruns; i++) {
		char *txt = NULL, vbuf[96];
		size_t tn = 0;
		const char *kind;

		if (!ts_decode_run(s, &h.runs[i], &txt, &tn, &kind))
			continue;
		/* depth <= 2 keeps this short; a cut note would still be a note */
		if (snprintf(vbuf, sizeof(vbuf), "%s in %s-decoded text", via, kind) < 0)
			vbuf[0] = '\0';
		scan_text(txt, tn, where, vbuf, depth + 1, out);
		free(txt);
	}
	ts_hits_free(&h);
}

void inject_scan_text(const char *s, size_t len, const char *where, struct findings *out)
{
	scan_text(s, len, where, "", 0, out);
}

static void walk(const cJSON *v, char *path, size_t plen, size_t cap, struct findings *out)
{
	if (cJSON_IsString(v) && v->valuestring) {
		inject_scan_text(v->valuestring, strlen(v->valuestring), path, out);
		return;
	}
	if (cJSON_IsArray(v)) {
		int i = 0;

		for (const cJSON *c = v->child; c; c = c->next, i++) {
			size_t nl = jpath_index(path, plen, cap, (size_t)i);

			walk(c, path, nl, cap, out);
			path[plen] = '\0';
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		for (const cJSON *c = v->child; c; c = c->next) {
			size_t nl = jpath_key(path, plen, cap, c->string ? c->string : "");

			if (c->string)
				inject_scan_text(c->string, strlen(c->string), path, out);
			walk(c, path, nl, cap, out);
			path[plen] = '\0';
		}
	}
}

void inject_scan_json(const cJSON *v, const char *where, struct findings *out)
{
	char path[256];
	size_t n;

	if (!v)
		return;
	snprintf(path, sizeof(path), "%s", where ? where : "");
	n = strlen(path);
	walk(v, path, n, sizeof(path), out);
}
