#include <ctype.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "binding.h"
#include "chain.h"
#include "log.h"
#include "xmalloc.h"

/* ---- class names ---- */

static const struct {
	const char *name;
	unsigned bit;
} class_names[] = {
    {"read-sensitive", CC_READ_SENSITIVE}, {"read-file", CC_READ_FILE},
    {"list-files", CC_LIST_FILES},	   {"search-files", CC_LIST_FILES},
    {"write-file", CC_WRITE_FILE},	   {"network-send", CC_NET_SEND},
    {"network-fetch", CC_NET_FETCH},	   {"exec", CC_EXEC},
    {"secret-access", CC_SECRET},	   {"database-query", CC_DB_QUERY},
    {"memory-write", CC_MEMORY_WRITE},
};
#define NCLASSNAMES (sizeof(class_names) / sizeof(class_names[0]))

unsigned chain_class_bit(const char *name)
{
	for (size_t i = 0; i < NCLASSNAMES; i++)
		if (strcmp(class_names[i].name, name) == 0)
			return class_names[i].bit;
	return 0;
}

const char *chain_class_names(unsigned mask, char *buf, size_t buflen)
{
	size_t o = 0;

	if (!buflen)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < NCLASSNAMES; i++) {
		if (!(mask & class_names[i].bit) ||
		    strcmp(class_names[i].name, "search-files") == 0)
			continue;
		int w = snprintf(buf + o, buflen - o, "%s%s", o ? "," : "", class_names[i].name);

		if (w < 0 || (size_t)w >= buflen - o)
			break;
		o += (size_t)w;
	}
	return buf;
}

/* ---- words of tool names and descriptions ---- */

enum verb { V_NONE, V_READ, V_LIST, V_WRITE, V_SEND, V_EXEC, V_FETCH };

#define N_FILE (1u << 0)
#define N_DIR (1u << 1)
#define N_SHELL (1u << 2)
#define N_DB (1u << 3)
#define N_REMOTE (1u << 4)  /* a place where written things are seen by others */
#define N_SERVICE (1u << 5) /* a messaging service: the word alone means "send" */
#define N_NET (1u << 6)
#define N_SECRET (1u << 7)
#define N_MEMORY (1u << 8)
#define N_QUERY                                                                                    \
	(1u << 9) /* a query is a database's only when run: "run_query", not "research_query" */

struct word {
	const char *w;
	enum verb verb;
	unsigned nouns;
};

/*
 * Written for this project from what MCP servers' tools are called in practice.
 * A word's verb counts only if it is the first verb of the name ("get_post"
 * reads a post; "slack_post_message" posts one); its nouns always count.
 */
/* clang-format off */
static struct word words[] = {
	{"add", V_WRITE, 0},           {"api", V_NONE, N_NET},        {"append", V_WRITE, 0},
	{"apikey", V_NONE, N_SECRET},  {"bash", V_NONE, N_SHELL},     {"bigquery", V_NONE, N_DB},
	{"broadcast", V_SEND, 0},      {"browse", V_FETCH, N_NET},    {"bucket", V_NONE, N_REMOTE},
	{"cat", V_READ, N_FILE},       {"channel", V_NONE, N_REMOTE}, {"chat", V_NONE, N_REMOTE},
	{"clickhouse", V_NONE, N_DB},  {"cmd", V_NONE, N_SHELL},      {"command", V_NONE, N_SHELL},
	{"comment", V_SEND, N_REMOTE}, {"console", V_NONE, N_SHELL},  {"copy", V_WRITE, 0},
	{"cp", V_WRITE, N_FILE},       {"crawl", V_FETCH, N_NET},     {"create", V_WRITE, 0},
	{"credential", V_NONE, N_SECRET}, {"credentials", V_NONE, N_SECRET}, {"curl", V_FETCH, N_NET},
	{"database", V_NONE, N_DB},    {"db", V_NONE, N_DB},          {"delete", V_WRITE, 0},
	{"describe", V_READ, 0},       {"dir", V_NONE, N_DIR},        {"directory", V_NONE, N_DIR},
	{"discord", V_NONE, N_SERVICE}, {"display", V_READ, 0},        {"dm", V_SEND, N_SERVICE},
	{"doc", V_NONE, N_FILE},       {"document", V_NONE, N_FILE},  {"download", V_FETCH, N_NET},
	{"duckdb", V_NONE, N_DB},      {"dump", V_READ, 0},           {"edit", V_WRITE, 0},
	{"email", V_NONE, N_SERVICE},  {"endpoint", V_NONE, N_NET},   {"entity", V_NONE, N_MEMORY},
	{"entities", V_NONE, N_MEMORY}, {"env", V_NONE, N_SECRET},     {"environ", V_NONE, N_SECRET},
	{"environment", V_NONE, N_SECRET}, {"envvar", V_NONE, N_SECRET},  {"eval", V_EXEC, N_SHELL},
	{"evaluate", V_EXEC, 0},       {"exec", V_EXEC, N_SHELL},     {"execute", V_EXEC, 0},
	{"exfiltrate", V_SEND, 0},     {"export", V_READ, 0},         {"fact", V_NONE, N_MEMORY},
	{"fetch", V_FETCH, N_NET},     {"file", V_NONE, N_FILE},      {"filesystem", V_NONE, N_FILE},
	{"find", V_LIST, 0},           {"folder", V_NONE, N_DIR},     {"forward", V_SEND, 0},
	{"fs", V_NONE, N_FILE},        {"ftp", V_NONE, N_REMOTE},     {"get", V_READ, 0},
	{"getenv", V_READ, N_SECRET},  {"gist", V_NONE, N_REMOTE},    {"github", V_NONE, N_REMOTE},
	{"gitlab", V_NONE, N_REMOTE},  {"glob", V_LIST, N_FILE},      {"gmail", V_NONE, N_SERVICE},
	{"graph", V_NONE, N_MEMORY},   {"grep", V_LIST, N_FILE},      {"head", V_READ, 0},
	{"http", V_NONE, N_NET},       {"https", V_NONE, N_NET},      {"insert", V_WRITE, 0},
	{"inspect", V_READ, 0},        {"internet", V_NONE, N_NET},   {"invoke", V_EXEC, 0},
	{"issue", V_NONE, N_REMOTE},   {"javascript", V_NONE, N_SHELL}, {"jira", V_NONE, N_REMOTE},
	{"keychain", V_NONE, N_SECRET}, {"keyring", V_NONE, N_SECRET}, {"knowledge", V_NONE, N_MEMORY},
	{"launch", V_EXEC, 0},         {"list", V_LIST, 0},           {"load", V_READ, 0},
	{"locate", V_LIST, 0},         {"lookup", V_READ, 0},         {"ls", V_LIST, N_DIR},
	{"mail", V_NONE, N_SERVICE},   {"mastodon", V_NONE, N_SERVICE}, {"memorize", V_WRITE, N_MEMORY},
	{"memory", V_NONE, N_MEMORY},  {"memories", V_NONE, N_MEMORY}, {"message", V_NONE, N_REMOTE},
	{"mkdir", V_WRITE, N_DIR},     {"modify", V_WRITE, 0},        {"mongo", V_NONE, N_DB},
	{"mongodb", V_NONE, N_DB},     {"move", V_WRITE, 0},          {"mv", V_WRITE, N_FILE},
	{"mysql", V_NONE, N_DB},       {"navigate", V_FETCH, N_NET},  {"note", V_NONE, N_MEMORY},
	{"notification", V_NONE, N_REMOTE}, {"notify", V_SEND, 0},         {"observation", V_NONE, N_MEMORY},
	{"open", V_READ, 0},           {"overwrite", V_WRITE, 0},     {"passwd", V_NONE, N_SECRET},
	{"password", V_NONE, N_SECRET}, {"paste", V_NONE, N_REMOTE},   {"pastebin", V_NONE, N_SERVICE},
	{"patch", V_WRITE, 0},         {"path", V_NONE, N_FILE},      {"pg", V_NONE, N_DB},
	{"post", V_SEND, N_REMOTE},    {"postgres", V_NONE, N_DB},    {"postgresql", V_NONE, N_DB},
	{"powershell", V_NONE, N_SHELL}, {"pr", V_NONE, N_REMOTE},      {"print", V_READ, 0},
	{"printenv", V_READ, N_SECRET}, {"process", V_NONE, N_SHELL},  {"program", V_NONE, N_SHELL},
	{"publish", V_SEND, 0},        {"pull", V_NONE, N_REMOTE},    {"push", V_SEND, 0},
	{"put", V_WRITE, 0},           {"pwsh", V_NONE, N_SHELL},     {"python", V_NONE, N_SHELL},
	{"query", V_NONE, N_QUERY},    {"read", V_READ, 0},           {"redis", V_NONE, N_DB},
	{"relation", V_NONE, N_MEMORY}, {"remember", V_WRITE, N_MEMORY}, {"remove", V_WRITE, 0},
	{"rename", V_WRITE, 0},        {"replace", V_WRITE, 0},       {"reply", V_SEND, 0},
	{"repl", V_NONE, N_SHELL},     {"repo", V_NONE, N_REMOTE},    {"repository", V_NONE, N_REMOTE},
	{"request", V_NONE, N_NET},    {"retrieve", V_READ, 0},       {"rm", V_WRITE, N_FILE},
	{"run", V_EXEC, 0},            {"s3", V_NONE, N_REMOTE},      {"save", V_WRITE, 0},
	{"scan", V_LIST, 0},           {"scrape", V_FETCH, N_NET},    {"script", V_NONE, N_SHELL},
	{"search", V_LIST, 0},         {"secret", V_NONE, N_SECRET},  {"send", V_SEND, 0},
	{"set", V_WRITE, 0},           {"sftp", V_NONE, N_REMOTE},    {"sh", V_NONE, N_SHELL},
	{"share", V_SEND, 0},          {"shell", V_NONE, N_SHELL},    {"show", V_READ, 0},
	{"site", V_NONE, N_NET},       {"slack", V_NONE, N_SERVICE},  {"sms", V_NONE, N_SERVICE},
	{"smtp", V_NONE, N_SERVICE},   {"snowflake", V_NONE, N_DB},   {"sql", V_NONE, N_DB},
	{"sqlite", V_NONE, N_DB},      {"store", V_WRITE, 0},         {"submit", V_SEND, 0},
	{"subprocess", V_NONE, N_SHELL}, {"table", V_NONE, N_DB},       {"tail", V_READ, 0},
	{"teams", V_NONE, N_SERVICE},  {"telegram", V_NONE, N_SERVICE}, {"terminal", V_NONE, N_SHELL},
	{"ticket", V_NONE, N_REMOTE},  {"token", V_NONE, N_SECRET},   {"touch", V_WRITE, N_FILE},
	{"transmit", V_SEND, 0},       {"tree", V_NONE, N_DIR},       {"tweet", V_SEND, N_SERVICE},
	{"update", V_WRITE, 0},        {"upload", V_SEND, 0},         {"upsert", V_WRITE, 0},
	{"uri", V_NONE, N_NET},        {"url", V_NONE, N_NET},        {"vault", V_NONE, N_SECRET},
	{"view", V_READ, 0},           {"visit", V_FETCH, N_NET},     {"walk", V_LIST, 0},
	{"web", V_NONE, N_NET},        {"webhook", V_SEND, N_SERVICE}, {"website", V_NONE, N_NET},
	{"wget", V_FETCH, N_NET},      {"whatsapp", V_NONE, N_SERVICE}, {"write", V_WRITE, 0},
	{"zsh", V_NONE, N_SHELL},
};
/* clang-format on */
#define NWORDS (sizeof(words) / sizeof(words[0]))

static pthread_once_t words_once = PTHREAD_ONCE_INIT;

static int word_cmp(const void *a, const void *b)
{
	return strcmp(((const struct word *)a)->w, ((const struct word *)b)->w);
}

static void words_sort(void)
{
	qsort(words, NWORDS, sizeof(words[0]), word_cmp);
}

static const struct word *lookup_exact(const char *w)
{
	struct word key = {w, V_NONE, 0};

	return bsearch(&key, words, NWORDS, sizeof(words[0]), word_cmp);
}

/*
 * Look a word up; plurals always fold to the singular, and for descriptions a
 * light stemmer reads "sends", "fetches", "writing", "created" as their verbs.
 */
static const struct word *lookup(const char *w, int stem)
{
	const struct word *r = lookup_exact(w);
	size_t n = strlen(w);
	char b[40];

	if (r || n < 3 || n >= sizeof(b))
		return r;
#define TRY(cut, add)                                                                              \
	do {                                                                                       \
		memcpy(b, w, n - (cut));                                                           \
		strcpy(b + n - (cut), add);                                                        \
		if ((r = lookup_exact(b)))                                                         \
			return r;                                                                  \
	} while (0)
	if (w[n - 1] == 's')
		TRY(1, "");
	if (n > 4 && strcmp(w + n - 3, "ies") == 0)
		TRY(3, "y");
	if (!stem)
		return NULL;
	if (n > 3 && strcmp(w + n - 2, "es") == 0)
		TRY(2, "");
	if (n > 4 && strcmp(w + n - 3, "ing") == 0) {
		TRY(3, "");
		TRY(3, "e");
		if (n > 5 && w[n - 4] == w[n - 5])
			TRY(4, "");
	}
	if (n > 3 && strcmp(w + n - 2, "ed") == 0) {
		TRY(2, "");
		TRY(1, "");
	}
#undef TRY
	return NULL;
}

/* Split camelCase, snake_case, kebab-case, dotted and spaced text into lowercase words. */
static size_t split_words(const char *s, size_t maxlen, char out[][40], size_t max)
{
	size_t n = 0, l = 0;
	const char *end = s + strnlen(s, maxlen);

	for (const char *p = s;; p++) {
		int alnum = p < end && isalnum((unsigned char)*p);
		int boundary = !alnum || (l > 0 && isupper((unsigned char)*p) &&
					  islower((unsigned char)p[-1]));

		if (boundary && l) {
			out[n][l < 40 ? l : 39] = '\0';
			if (++n == max)
				break;
			l = 0;
		}
		if (p >= end)
			break;
		if (alnum && l < 39)
			out[n][l++] = (char)tolower((unsigned char)*p);
	}
	return n;
}

/* Classes implied by a run of words: the first verb, and every noun. */
static unsigned classify_words(const char *s, size_t maxlen, int stem)
{
	char w[24][40];
	size_t n = split_words(s, maxlen, w, 24);
	enum verb v = V_NONE;
	unsigned nn = 0, c = 0;

	for (size_t i = 0; i < n; i++) {
		const struct word *e = lookup(w[i], stem);

		if (!e)
			continue;
		if (v == V_NONE && e->verb != V_NONE)
			v = e->verb;
		nn |= e->nouns;
	}
	if ((nn & N_DB) && v != V_SEND && v != V_FETCH)
		c |= CC_DB_QUERY;
	if (v == V_EXEC && (nn & N_QUERY))
		c |= CC_DB_QUERY;
	/* In prose "runs" is loose ("a long running operation"): there, only shells execute. */
	if (v == V_EXEC && !(nn & (N_DB | N_QUERY)) && (!stem || (nn & N_SHELL)))
		c |= CC_EXEC;
	if (v == V_NONE && (nn & N_SHELL) && !(nn & (N_DB | N_FILE | N_DIR)))
		c |= CC_EXEC;
	if (v == V_READ && (nn & N_FILE))
		c |= CC_READ_FILE;
	if ((v == V_READ || v == V_NONE) && (nn & N_DIR) && !(nn & N_FILE))
		c |= CC_LIST_FILES;
	if (v == V_LIST && (nn & (N_FILE | N_DIR)))
		c |= CC_LIST_FILES;
	if (v == V_WRITE && (nn & (N_FILE | N_DIR)))
		c |= CC_WRITE_FILE;
	if (v == V_WRITE && (nn & N_MEMORY))
		c |= CC_MEMORY_WRITE;
	if ((v == V_NONE || v == V_READ || v == V_LIST) && (nn & N_SECRET))
		c |= CC_SECRET;
	if (v == V_SEND || (v == V_WRITE && (nn & (N_REMOTE | N_SERVICE))) ||
	    (v == V_NONE && (nn & N_SERVICE)))
		c |= CC_NET_SEND;
	if (v == V_FETCH || ((v == V_NONE || v == V_READ || v == V_LIST) && (nn & N_NET)))
		c |= CC_NET_FETCH;
	return c;
}

/* The first sentence of a description: later ones tend to be caveats and examples. */
static size_t first_sentence(const char *d)
{
	size_t i;

	for (i = 0; d[i] && i < 240; i++)
		if ((d[i] == '.' || d[i] == '\n') &&
		    (d[i + 1] == ' ' || d[i + 1] == '\n' || d[i + 1] == '\0' || d[i] == '\n'))
			break;
	return i;
}

/* ---- argument meaning ---- */

/* What an argument's key says its value is. */
#define K_URL (1u << 0)
#define K_BODY (1u << 1)
#define K_METHOD (1u << 2)
#define K_MAIL (1u << 3)
#define K_CMD (1u << 4)
#define K_PATH (1u << 5)
#define K_SQL (1u << 6)
#define K_ENV (1u << 7)

struct argkey {
	const char *k;
	unsigned flags;
};

/* clang-format off */
static struct argkey argkeys[] = {
	{"url", K_URL},              {"uri", K_URL},              {"endpoint", K_URL},
	{"webhook", K_URL},          {"webhook_url", K_URL},      {"webhookurl", K_URL},
	{"callback", K_URL},         {"callback_url", K_URL},     {"href", K_URL},
	{"link", K_URL},             {"target_url", K_URL},       {"api_url", K_URL},
	{"server_url", K_URL},       {"host_url", K_URL},         {"body", K_BODY},
	{"data", K_BODY},            {"payload", K_BODY},         {"content", K_BODY},
	{"contents", K_BODY},        {"json", K_BODY},            {"form", K_BODY},
	{"message", K_BODY},         {"text", K_BODY},            {"html", K_BODY},
	{"raw", K_BODY},             {"file", K_BODY | K_PATH},   {"files", K_BODY | K_PATH},
	{"attachment", K_BODY},      {"attachments", K_BODY},     {"file_content", K_BODY},
	{"fields", K_BODY},          {"msg", K_BODY},             {"note", K_BODY},
	{"value", K_BODY},           {"method", K_METHOD},        {"http_method", K_METHOD},
	{"verb", K_METHOD},          {"to", K_MAIL},              {"cc", K_MAIL},
	{"bcc", K_MAIL},             {"recipient", K_MAIL},       {"recipients", K_MAIL},
	{"email", K_MAIL},           {"email_address", K_MAIL},   {"address", K_MAIL},
	{"command", K_CMD},          {"cmd", K_CMD},              {"script", K_CMD},
	{"shell", K_CMD},            {"commandline", K_CMD},      {"command_line", K_CMD},
	{"code", K_CMD},             {"bash", K_CMD},             {"path", K_PATH},
	{"paths", K_PATH},           {"filename", K_PATH},        {"file_path", K_PATH},
	{"filepath", K_PATH},        {"source", K_PATH},          {"src", K_PATH},
	{"source_path", K_PATH},     {"dir", K_PATH},             {"directory", K_PATH},
	{"filenames", K_PATH},       {"file_name", K_PATH},       {"target", K_PATH},
	{"location", K_PATH},        {"pathname", K_PATH},        {"input_path", K_PATH},
	{"query", K_SQL},            {"sql", K_SQL},              {"statement", K_SQL},
	{"stmt", K_SQL},             {"name", K_ENV},             {"key", K_ENV},
	{"var", K_ENV},              {"variable", K_ENV},         {"env", K_ENV},
	{"envvar", K_ENV},           {"env_var", K_ENV},          {"variable_name", K_ENV},
	{"secret", K_ENV},           {"secret_name", K_ENV},
};
/* clang-format on */
#define NARGKEYS (sizeof(argkeys) / sizeof(argkeys[0]))

static int argkey_cmp(const void *a, const void *b)
{
	return strcmp(((const struct argkey *)a)->k, ((const struct argkey *)b)->k);
}

/* The tables are sorted once at start so they can stay readable in any order. */
static void tables_sort(void)
{
	words_sort();
	qsort(argkeys, NARGKEYS, sizeof(argkeys[0]), argkey_cmp);
}

static unsigned key_flags(const char *k)
{
	char low[32];
	size_t i;
	struct argkey key = {low, 0}, *r;

	for (i = 0; k[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)k[i]);
	if (k[i])
		return 0;
	low[i] = '\0';
	r = bsearch(&key, argkeys, NARGKEYS, sizeof(argkeys[0]), argkey_cmp);
	return r ? r->flags : 0;
}

static int is_sep(unsigned char c)
{
	switch (c) {
	case '"':
	case '\'':
	case '`':
	case ';':
	case '|':
	case '&':
	case '<':
	case '>':
	case '(':
	case ')':
	case ',':
	case '=':
	case '@':
	case ':':
		return 1;
	default:
		return c <= ' ';
	}
}

static int ends_with(const char *s, size_t n, const char *suf)
{
	size_t l = strlen(suf);

	return n >= l && memcmp(s + n - l, suf, l) == 0;
}

static int ceq(const char *c, size_t n, const char *w)
{
	return c[0] == w[0] && strlen(w) == n && memcmp(c, w, n) == 0;
}

/*
 * Does this path-like token name a credential store? Lowercased in buf;
 * checked component by component so "/srv/ssh-docs/.sshrc" is not ".ssh/".
 */
static int sensitive_token(const char *tok, size_t len)
{
	char b[512];
	/* room for every component of b: a path cannot hide its file name behind "./" */
	const char *comp[sizeof(b) / 2];
	size_t clen[sizeof(b) / 2], n = 0, i;

	if (len == 0)
		return 0;
	if (len >= sizeof(b)) {
		/* A long path: its last whole components name the file. */
		size_t k = len - (sizeof(b) - 1);

		while (k < len && tok[k] != '/' && tok[k] != '\\')
			k++;
		if (k == len)
			return 0;
		tok += k;
		len -= k;
	}
	/* Most words of a command or text are no path: only a few bare names then qualify. */
	if (!memchr(tok, '.', len) && !memchr(tok, '/', len) && !memchr(tok, '\\', len)) {
		static const char *const bare[] = {"id_rsa",	 "id_dsa",	"id_ecdsa",
						   "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk",
						   "_netrc",	 "credentials", NULL};

		if (len < 6 || len > 13)
			return 0;
		for (const char *const *p = bare; *p; p++)
			if (strlen(*p) == len && strncasecmp(tok, *p, len) == 0)
				return 1;
		return 0;
	}
	for (i = 0; i < len; i++)
		b[i] = (char)tolower((unsigned char)tok[i]);
	b[len] = '\0';
	for (char *p = b; *p && n < sizeof(comp) / sizeof(comp[0]);) {
		size_t l = strcspn(p, "/\\");

		if (l) {
			comp[n] = p;
			clen[n++] = l;
		}
		p += l;
		while (*p == '/' || *p == '\\')
			p++;
	}
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const char *c = comp[i], *nx = i + 1 < n ? comp[i + 1] : NULL;
		size_t nl = i + 1 < n ? clen[i + 1] : 0;

		if (ceq(c, clen[i], ".ssh") && nx && !ceq(nx, nl, "known_hosts") &&
		    !ceq(nx, nl, "known_hosts.old") && !ceq(nx, nl, "authorized_keys") &&
		    !ends_with(nx, nl, ".pub"))
			return 1;
		if ((ceq(c, clen[i], ".gnupg") || ceq(c, clen[i], ".password-store") ||
		     ceq(c, clen[i], ".azure")) &&
		    nx)
			return 1;
		if (ceq(c, clen[i], ".aws") && nx &&
		    (ceq(nx, nl, "credentials") || ceq(nx, nl, "config") || ceq(nx, nl, "sso") ||
		     ceq(nx, nl, "cli")))
			return 1;
		if (ceq(c, clen[i], ".kube") && nx && ceq(nx, nl, "config"))
			return 1;
		if (ceq(c, clen[i], ".docker") && nx && ceq(nx, nl, "config.json"))
			return 1;
		if (ceq(c, clen[i], "gcloud") && i > 0 &&
		    ceq(comp[i - 1], clen[i - 1], ".config") && nx)
			return 1;
		if (ceq(c, clen[i], "etc") && nx &&
		    (ceq(nx, nl, "shadow") || ceq(nx, nl, "gshadow") ||
		     ceq(nx, nl, "master.passwd") ||
		     (ceq(nx, nl, "ssl") && i + 2 < n && ceq(comp[i + 2], clen[i + 2], "private"))))
			return 1;
		if (ceq(c, clen[i], "proc") && i + 2 < n &&
		    ceq(comp[i + 2], clen[i + 2], "environ"))
			return 1;
		if (ceq(c, clen[i], "secrets") && i > 0 && ceq(comp[i - 1], clen[i - 1], "run") &&
		    nx)
			return 1;
	}
	/* The file name alone. */
	const char *bn = comp[n - 1];
	size_t bl = clen[n - 1];
	static const char *const names[] = {"id_rsa",
					    "id_dsa",
					    "id_ecdsa",
					    "id_ed25519",
					    "id_ecdsa_sk",
					    "id_ed25519_sk",
					    ".netrc",
					    "_netrc",
					    ".pgpass",
					    ".git-credentials",
					    ".npmrc",
					    ".pypirc",
					    ".vault-token",
					    ".htpasswd",
					    ".envrc",
					    ".bash_history",
					    ".zsh_history",
					    ".mysql_history",
					    ".psql_history",
					    "secring.gpg",
					    "wallet.dat",
					    "credentials",
					    "credentials.json",
					    "credentials.db",
					    "access_tokens.db",
					    "application_default_credentials.json",
					    ".boto",
					    ".s3cfg",
					    ".my.cnf",
					    ".dockercfg",
					    "logins.json",
					    "key4.db",
					    "login data",
					    "credentials.tfrc.json",
					    ".env",
					    NULL};
	for (const char *const *p = names; *p; p++)
		if (ceq(bn, bl, *p))
			return 1;
	/* .env.production, .env.local; not the templates meant to be committed. */
	if (bl > 5 && memcmp(bn, ".env.", 5) == 0 && !ends_with(bn, bl, ".example") &&
	    !ends_with(bn, bl, ".sample") && !ends_with(bn, bl, ".template") &&
	    !ends_with(bn, bl, ".dist") && !ends_with(bn, bl, ".defaults"))
		return 1;
	if (bl > 4 && ends_with(bn, bl, ".env"))
		return 1;
	if ((bl > 13 && memcmp(bn, "client_secret", 13) == 0) ||
	    (bl > 15 &&
	     (memcmp(bn, "service-account", 15) == 0 || memcmp(bn, "service_account", 15) == 0)))
		return 1;
	static const char *const exts[] = {".key", ".p12",	".pfx",	    ".ppk", ".kdbx",
					   ".jks", ".keystore", ".tfstate", NULL};
	for (const char *const *p = exts; *p; p++)
		if (bl > strlen(*p) && ends_with(bn, bl, *p))
			return 1;
	/* .pem holds private keys and public certificates alike; skip the certificate names. */
	if (bl > 4 && ends_with(bn, bl, ".pem") && !memmem(bn, bl, "cert", 4) &&
	    !memmem(bn, bl, "chain", 5) && !memmem(bn, bl, "ca-bundle", 9) &&
	    !memmem(bn, bl, "pub", 3) && !(bl == 6 && memcmp(bn, "ca", 2) == 0))
		return 1;
	return 0;
}

/* Any credential path among the words of s (first 64 KiB). */
static int mentions_sensitive(const char *s, int *single)
{
	size_t n = strnlen(s, 65536), ntok = 0;
	int hit = 0;

	for (size_t i = 0; i < n;) {
		while (i < n && is_sep((unsigned char)s[i]))
			i++;
		size_t st = i;

		while (i < n && !is_sep((unsigned char)s[i]))
			i++;
		if (i > st) {
			ntok++;
			if (!hit && sensitive_token(s + st, i - st))
				hit = 1;
		}
	}
	*single = ntok == 1;
	return hit;
}

/* An upper-case environment variable name that holds a secret, e.g. AWS_SECRET_ACCESS_KEY. */
static int secret_env_name(const char *s, size_t n)
{
	static const char *const marks[] = {"TOKEN",	  "SECRET", "PASSWORD",	   "PASSWD",
					    "API_KEY",	  "APIKEY", "PRIVATE_KEY", "ACCESS_KEY",
					    "CREDENTIAL", "AUTH",   "_PASS",	   "SESSION_KEY",
					    NULL};
	int letters = 0;

	if (n < 3 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!(isupper((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_'))
			return 0;
		letters += isupper((unsigned char)s[i]) != 0;
	}
	if (!letters)
		return 0;
	for (const char *const *m = marks; *m; m++)
		if (memmem(s, n, *m, strlen(*m)))
			return 1;
	return 0;
}

/* $NAME or ${NAME} of a secret variable, or a bare env/printenv, in a command. */
static int command_reads_secrets(const char *s)
{
	size_t n = strnlen(s, 65536);
	const char *p = s;

	while ((p = memchr(p, '$', n - (size_t)(p - s)))) {
		const char *q = ++p;

		if (q < s + n && *q == '{')
			q++;
		const char *st = q;

		while (q < s + n && (isalnum((unsigned char)*q) || *q == '_'))
			q++;
		if (secret_env_name(st, (size_t)(q - st)))
			return 1;
	}
	/* The command words themselves. */
	char w[8][40];
	size_t nw = split_words(s, 256, w, 8);

	for (size_t i = 0; i < nw; i++)
		if (strcmp(w[i], "printenv") == 0 || (strcmp(w[i], "env") == 0 && nw == 1))
			return 1;
	return 0;
}

/*
 * Does a URL have a path or query segment that looks like an encoded value (24+
 * characters of letters and digits, both present, no word separators)? That is
 * how a key rides in a GET: https://x.example/AKIA.../wJalr...
 */
static int token_like_segment(const char *u, size_t ul)
{
	size_t run = 0, letters = 0, digits = 0;

	for (size_t i = 0; i <= ul; i++) {
		unsigned char ch = i < ul ? (unsigned char)u[i] : '/';

		if (isalnum(ch) || ch == '+' || ch == '_' || ch == '%') {
			run++;
			letters += isalpha(ch) != 0;
			digits += isdigit(ch) != 0;
			continue;
		}
		if (run >= 24 && letters && digits)
			return 1;
		run = letters = digits = 0;
	}
	return 0;
}

/* A URL in s: whether one is there, and whether it carries data in its query. */
static void url_info(const char *s, int *has, int *carries)
{
	static const char *const schemes[] = {"http", "https", "ftp", "ws", "wss", "gopher", NULL};
	size_t n = strnlen(s, 65536);
	const char *p = s, *sep;

	/* One pass for "://", then the scheme before it: cheaper than a search per scheme. */
	while ((sep = memmem(p, n - (size_t)(p - s), "://", 3))) {
		const char *u = sep;

		while (u > s && isalpha((unsigned char)u[-1]))
			u--;
		p = sep + 3;
		int known = 0;

		for (const char *const *sc = schemes; *sc; sc++)
			if ((size_t)(sep - u) == strlen(*sc) &&
			    strncasecmp(u, *sc, strlen(*sc)) == 0)
				known = 1;
		if (!known)
			continue;
		*has = 1;
		size_t ul = 0;

		while (u + ul < s + n && !isspace((unsigned char)u[ul]) && u[ul] != '"' &&
		       u[ul] != '\'')
			ul++;
		const char *q = memchr(u, '?', ul);
		size_t ql = q ? ul - (size_t)(q - u) : 0;

		/* A long query or URL can carry a key (GET-based exfiltration). */
		if (ql >= 48 || ul >= 256 || token_like_segment(u, ul))
			*carries = 1;
	}
}

/* SQL, not prose that happens to start with "select" or "update": the keyword's partner too. */
static int sql_text(const char *s)
{
	static const struct {
		const char *kw, *partner;
	} kw[] = {
	    {"select", " from "}, {"select", "*"},   {"insert", " into "},    {"update", " set "},
	    {"delete", " from "}, {"with", " as ("}, {"create", " table "},   {"drop", " table "},
	    {"alter", " table "}, {"pragma", ""},    {"explain", " select "}, {"truncate", ""},
	    {"show", " tables"},
	};
	size_t n;

	while (isspace((unsigned char)*s) || *s == '(')
		s++;
	n = strnlen(s, 65536);
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		size_t l = strlen(kw[i].kw);

		if (strncasecmp(s, kw[i].kw, l) != 0 || !(isspace((unsigned char)s[l]) || !s[l]))
			continue;
		if (!*kw[i].partner)
			return 1;
		/* Case-insensitive search for the partner within the statement. */
		size_t pl = strlen(kw[i].partner);

		for (size_t j = l; j + pl <= n; j++)
			if (strncasecmp(s + j, kw[i].partner, pl) == 0)
				return 1;
	}
	return 0;
}

struct argsense {
	int sens; /* a credential path in a path or command argument, or as a whole value */
	int path; /* some path argument */
	int url, url_carries, body, send_method, mail;
	int cmd, cmd_secret, sql, secret_name;
	int nstrings;
};

static void walk_args(const cJSON *v, const char *key, int depth, struct argsense *a)
{
	if (!v || depth > 16 || a->nstrings > 512)
		return;
	if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		for (const cJSON *c = v->child; c; c = c->next)
			walk_args(c, cJSON_IsObject(v) && c->string ? c->string : key, depth + 1,
				  a);
		return;
	}
	if (!cJSON_IsString(v) || !v->valuestring)
		return;
	const char *s = v->valuestring;
	const char *k = key ? key : "";
	int single = 0, sens, has = 0, carries = 0;

	a->nstrings++;
	if (!*s)
		return;
	unsigned kf = key_flags(k);
	int is_cmd = (kf & K_CMD) && (strcasecmp(k, "code") != 0 || strchr(s, ' '));
	int is_path = (kf & K_PATH) != 0;

	sens = mentions_sensitive(s, &single);
	if (sens && (is_path || is_cmd || single || (kf & K_URL)))
		a->sens = 1;
	if (is_path)
		a->path = 1;
	url_info(s, &has, &carries);
	if (has || (kf & K_URL)) {
		a->url = 1;
		a->url_carries |= carries;
	}
	if (kf & K_BODY)
		a->body = 1;
	if ((kf & K_METHOD) && (strcasecmp(s, "post") == 0 || strcasecmp(s, "put") == 0 ||
				strcasecmp(s, "patch") == 0))
		a->send_method = 1;
	if ((kf & K_MAIL) && strchr(s, '@') && strchr(s, '.'))
		a->mail = 1;
	if (is_cmd) {
		a->cmd = 1;
		if (command_reads_secrets(s))
			a->cmd_secret = 1;
	}
	if ((kf & K_SQL) && sql_text(s))
		a->sql = 1;
	if ((kf & K_ENV) && secret_env_name(s, strlen(s)))
		a->secret_name = 1;
}

/* ---- the matcher ---- */

struct step {
	unsigned any;  /* class bits; 0 with glob */
	unsigned none; /* and none of these */
	char *glob;    /* fnmatch pattern on the tool name */
};

struct cdef {
	char name[64];
	struct step *steps;
	size_t nsteps;
	enum scan_conf conf;
	enum pol_action action; /* PA_ALLOW: the section's */
};

struct learned {
	char *name;
	unsigned cls;
};

struct call {
	char tool[96];
	unsigned cls;
};

struct chain {
	struct cdef *defs;
	size_t ndefs;
	struct learned *tools;
	size_t ntools;
	struct call hist[CHAIN_HISTORY];
	size_t nhist;	      /* calls recorded, ever */
	size_t last_seen[16]; /* per class bit: 1 + index of the latest call with it, 0: never */
};

static const struct {
	const char *name;
	unsigned steps[3][2]; /* {any, none} */
	size_t nsteps;
	enum scan_conf conf;
} builtin[] = {
    {"credential-exfiltration", {{CC_READ_SENSITIVE, 0}, {CC_NET_SEND, 0}}, 2, CONF_HIGH},
    {"secret-exfiltration", {{CC_SECRET, 0}, {CC_NET_SEND, 0}}, 2, CONF_HIGH},
    {"credential-discovery-exfiltration",
     {{CC_LIST_FILES, 0}, {CC_READ_SENSITIVE, 0}, {CC_NET_SEND, 0}},
     3,
     CONF_HIGH},
    /* Ordinary reads: the credential chain above already covers sensitive ones. */
    {"file-exfiltration", {{CC_READ_FILE, CC_READ_SENSITIVE}, {CC_NET_SEND, 0}}, 2, CONF_LOW},
    {"credential-to-exec", {{CC_READ_SENSITIVE, 0}, {CC_EXEC, 0}}, 2, CONF_LOW},
    {"exec-then-send", {{CC_EXEC, 0}, {CC_NET_SEND, 0}}, 2, CONF_LOW},
    {"database-exfiltration", {{CC_DB_QUERY, 0}, {CC_NET_SEND, 0}}, 2, CONF_LOW},
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

struct chain *chain_new(const struct policy *pol)
{
	struct chain *c = xcalloc(1, sizeof(*c));
	size_t npol = pol ? pol->tool_chain.nchains : 0;

	pthread_once(&words_once, tables_sort);
	c->defs = xcalloc(NBUILTIN + npol, sizeof(*c->defs));
	for (size_t i = 0; i < NBUILTIN; i++) {
		struct cdef *d = &c->defs[c->ndefs++];

		mg_strlcpy(d->name, builtin[i].name, sizeof(d->name));
		d->nsteps = builtin[i].nsteps;
		d->steps = xcalloc(d->nsteps, sizeof(*d->steps));
		for (size_t j = 0; j < d->nsteps; j++) {
			d->steps[j].any = builtin[i].steps[j][0];
			d->steps[j].none = builtin[i].steps[j][1];
		}
		d->conf = builtin[i].conf;
		d->action = PA_ALLOW;
	}
	for (size_t i = 0; i < npol; i++) {
		const struct pol_chain *pc = &pol->tool_chain.chains[i];
		struct cdef *d;

		if (pc->nsteps < 2 || pc->nsteps > CHAIN_MAX_STEPS) {
			warnx("tool chain '%s' has %zu steps; a chain needs 2 to %d: ignored",
			      pc->name ? pc->name : "?", pc->nsteps, CHAIN_MAX_STEPS);
			continue;
		}
		d = &c->defs[c->ndefs++];
		mg_strlcpy(d->name, pc->name ? pc->name : "policy-chain", sizeof(d->name));
		d->nsteps = pc->nsteps;
		d->steps = xcalloc(d->nsteps, sizeof(*d->steps));
		for (size_t j = 0; j < d->nsteps; j++) {
			const char *s = pc->steps[j] ? pc->steps[j] : "";
			unsigned bit = chain_class_bit(s);

			/* A class name is a class; anything else is a tool-name glob. */
			if (bit)
				d->steps[j].any = bit;
			else
				d->steps[j].glob = xstrdup(s);
		}
		d->conf = CONF_HIGH;
		/* A rule without its own action has the section's. */
		d->action = pc->action <= PA_BLOCK ? pc->action : pol->tool_chain.action;
	}
	return c;
}

static int learned_cmp(const void *a, const void *b)
{
	return strcmp(((const struct learned *)a)->name, ((const struct learned *)b)->name);
}

static void free_learned(struct chain *c)
{
	for (size_t i = 0; i < c->ntools; i++)
		free(c->tools[i].name);
	free(c->tools);
	c->tools = NULL;
	c->ntools = 0;
}

void chain_learn_tools(struct chain *c, const cJSON *tools)
{
	size_t n = 0;

	if (!cJSON_IsArray(tools))
		return;
	free_learned(c);
	c->tools = xcalloc((size_t)cJSON_GetArraySize(tools) + 1, sizeof(*c->tools));
	for (const cJSON *t = tools->child; t; t = t->next) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *desc = cJSON_GetObjectItemCaseSensitive(t, "description");
		unsigned cls;

		if (!cJSON_IsString(name))
			continue;
		cls = classify_words(name->valuestring, 256, 0);
		if (cJSON_IsString(desc))
			cls |=
			    classify_words(desc->valuestring, first_sentence(desc->valuestring), 1);
		c->tools[n].name = xstrdup(name->valuestring);
		c->tools[n].cls = cls;
		n++;
	}
	c->ntools = n;
	qsort(c->tools, n, sizeof(*c->tools), learned_cmp);
}

unsigned chain_classify(const struct chain *c, const char *tool, const cJSON *args)
{
	struct learned key = {(char *)tool, 0}, *l;
	struct argsense a = {0};
	unsigned cls;

	pthread_once(&words_once, tables_sort);
	l = c && c->ntools ? bsearch(&key, c->tools, c->ntools, sizeof(*c->tools), learned_cmp)
			   : NULL;
	cls = l ? l->cls : classify_words(tool, 256, 0);
	walk_args(args, NULL, 0, &a);

	if (a.cmd)
		cls |= CC_EXEC;
	if (a.sql)
		cls |= CC_DB_QUERY;
	if (a.mail || (a.url && (a.body || a.send_method || a.url_carries)))
		cls |= CC_NET_SEND;
	else if (a.url && !(cls & CC_NET_SEND))
		cls |= CC_NET_FETCH;
	if (a.cmd_secret || (a.secret_name && !(cls & (CC_WRITE_FILE | CC_MEMORY_WRITE))))
		cls |= CC_SECRET;
	if (a.sens) {
		/*
		 * A credential path read, run or sent is a sensitive read; written,
		 * listed or stored it is not (those are other attacks' business).
		 */
		if (cls & (CC_EXEC | CC_READ_FILE | CC_NET_SEND | CC_NET_FETCH | CC_SECRET))
			cls |= CC_READ_SENSITIVE | CC_READ_FILE;
		else if (!(cls & (CC_WRITE_FILE | CC_MEMORY_WRITE | CC_DB_QUERY | CC_LIST_FILES)))
			cls |= CC_READ_SENSITIVE | CC_READ_FILE;
	}
	/* An unknown tool handed a path most likely reads it. */
	if (a.path && cls == 0)
		cls |= CC_READ_FILE;
	return cls;
}

static int step_match(const struct step *s, const struct call *k)
{
	if (s->glob)
		return fnmatch(s->glob, k->tool, 0) == 0;
	return (k->cls & s->any) && !(k->cls & s->none);
}

static const struct call *hist_at(const struct chain *c, size_t i)
{
	return &c->hist[i % CHAIN_HISTORY];
}

/* Append "tool [classes]" to the detail being built. */
static void describe(char *buf, size_t len, const struct call *k, const struct step *s, int arrow)
{
	char shown[48], cls[96];
	size_t o = strlen(buf);

	binding_display_name(k->tool, shown, sizeof(shown));
	if (s->glob)
		snprintf(cls, sizeof(cls), "~%s", s->glob);
	else
		chain_class_names(k->cls & s->any, cls, sizeof(cls));
	snprintf(buf + o, len - o, "%s%s [%s]", arrow ? " -> " : "", shown, cls);
}

/*
 * Could the earlier steps of def be in the window at all? Class steps whose
 * classes were not seen lately rule a chain out without walking the history,
 * which keeps an ordinary call cheap.
 */
static int may_match(const struct chain *c, const struct cdef *def, size_t first)
{
	for (size_t j = 0; j + 1 < def->nsteps; j++) {
		const struct step *s = &def->steps[j];
		int seen = 0;

		if (s->glob)
			continue;
		for (unsigned b = 0; b < 16; b++)
			if ((s->any & (1u << b)) && c->last_seen[b] > first)
				seen = 1;
		if (!seen)
			return 0;
	}
	return 1;
}

void chain_observe(struct chain *c, const char *tool, const cJSON *args, struct findings *out)
{
	struct call now;
	size_t first = c->nhist > CHAIN_HISTORY ? c->nhist - CHAIN_HISTORY : 0;

	if (!tool)
		return;
	mg_strlcpy(now.tool, tool, sizeof(now.tool));
	now.cls = chain_classify(c, tool, args);

	for (size_t d = 0; d < c->ndefs; d++) {
		const struct cdef *def = &c->defs[d];
		size_t pos[CHAIN_MAX_STEPS], k = def->nsteps - 1, at = c->nhist;
		int ok = 1;

		if (!step_match(&def->steps[k], &now))
			continue;
		if (!may_match(c, def, first))
			continue;
		/*
		 * Latest-first search for the earlier steps: if any matching
		 * subsequence exists in the window, this finds one.
		 */
		while (k-- > 0) {
			while (at > first && !step_match(&def->steps[k], hist_at(c, at - 1)))
				at--;
			if (at == first) {
				ok = 0;
				break;
			}
			pos[k] = --at;
		}
		if (!ok)
			continue;

		char detail[200] = "";

		for (size_t j = 0; j + 1 < def->nsteps; j++)
			describe(detail, sizeof(detail), hist_at(c, pos[j]), &def->steps[j], j > 0);
		describe(detail, sizeof(detail), &now, &def->steps[def->nsteps - 1], 1);
		size_t from = out->n;

		findings_add(out, "chain", def->name, def->conf, "params.name", "%s", detail);
		if (out->n > from)
			out->v[from].action = def->action;
	}
	c->hist[c->nhist % CHAIN_HISTORY] = now;
	c->nhist++;
	for (unsigned b = 0; b < 16; b++)
		if (now.cls & (1u << b))
			c->last_seen[b] = c->nhist;
}

void chain_free(struct chain *c)
{
	if (!c)
		return;
	for (size_t d = 0; d < c->ndefs; d++) {
		for (size_t j = 0; j < c->defs[d].nsteps; j++)
			free(c->defs[d].steps[j].glob);
		free(c->defs[d].steps);
	}
	free(c->defs);
	free_learned(c);
	free(c);
}
