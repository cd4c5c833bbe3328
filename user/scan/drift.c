#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "binding.h"
#include "canonjson.h"
#include "drift.h"
#include "fdio.h"
#include "log.h"
#include "xmalloc.h"

#define BASELINE_VERSION 1
#define BASELINE_MAX_BYTES (64u << 20) /* the file */
#define BASELINE_MAX_DEFS (32u << 20)  /* canonical definitions kept, in memory and on disk */
#define BASELINE_MAX_TOOLS 4096
#define DETAIL_MAX 240

struct btool {
	char *name;
	cJSON *def;	       /* the first-seen definition, verbatim */
	unsigned char fp[32];  /* canonical JSON of def */
	unsigned char sfp[32]; /* canonical JSON of its structure */
	long long first_seen;
	size_t clen; /* canonical size of def */
};

struct memo {
	char *name;
	unsigned char fp[32];
};

struct drift {
	char
	    server_hash[65]; /* the id may hold secrets (a command line): only its hash is stored */
	char *path;	     /* baseline file */
	char *pending;	     /* changed definitions awaiting `mcpguard accept` */
	struct memo *memo;   /* per tool, the definition this session last kept as pending */
	size_t nmemo;
	struct btool *t;
	size_t n, cap;
	int corrupt; /* the file on disk failed validation: never overwritten */
	char why[200];
	int corrupt_reported;
	int unsaved_reported;
	int full_reported;
	size_t bytes; /* canonical size of the definitions held */
};

/* ---- structure: what a client can call, without the prose ---- */

static cJSON *schema_struct(const cJSON *s, int depth);

static cJSON *struct_map(const cJSON *m, int depth)
{
	cJSON *o = cJSON_CreateObject();

	for (const cJSON *c = m ? m->child : NULL; c; c = c->next)
		cJSON_AddItemToObject(o, c->string ? c->string : "", schema_struct(c, depth + 1));
	return o;
}

static cJSON *struct_list(const cJSON *a, int depth)
{
	cJSON *o = cJSON_CreateArray();

	for (const cJSON *c = a ? a->child : NULL; c; c = c->next)
		cJSON_AddItemToArray(o, schema_struct(c, depth + 1));
	return o;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The required list as a set: its order carries no meaning. */
static cJSON *sorted_required(const cJSON *r)
{
	size_t n = 0, i = 0;
	const char **v;
	cJSON *o = cJSON_CreateArray();

	for (const cJSON *c = r->child; c; c = c->next)
		n += cJSON_IsString(c) ? 1 : 0;
	v = xcalloc(n ? n : 1, sizeof(*v));
	for (const cJSON *c = r->child; c; c = c->next)
		if (cJSON_IsString(c))
			v[i++] = c->valuestring;
	qsort(v, n, sizeof(*v), str_cmp);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(o, cJSON_CreateString(v[i]));
	free(v);
	return o;
}

/*
 * Keep the JSON Schema keywords that decide which arguments exist, their types
 * and nesting; drop descriptions, titles, defaults, examples.
 */
static cJSON *schema_struct(const cJSON *s, int depth)
{
	static const char *const keep_map[] = {"properties", "patternProperties", "$defs",
					       "definitions"};
	static const char *const keep_list[] = {"anyOf", "oneOf", "allOf", "prefixItems"};
	static const char *const keep_schema[] = {"items", "additionalProperties", "not"};
	cJSON *o;
	const cJSON *v;

	if (cJSON_IsBool(s))
		return cJSON_Duplicate(s, 0);
	if (!cJSON_IsObject(s) || depth > 64)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "type")))
		cJSON_AddItemToObject(o, "type", cJSON_Duplicate(v, 1));
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "$ref")))
		cJSON_AddItemToObject(o, "$ref", cJSON_Duplicate(v, 1));
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "required")) && cJSON_IsArray(v))
		cJSON_AddItemToObject(o, "required", sorted_required(v));
	for (size_t i = 0; i < sizeof(keep_map) / sizeof(keep_map[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(s, keep_map[i])) && cJSON_IsObject(v))
			cJSON_AddItemToObject(o, keep_map[i], struct_map(v, depth));
	for (size_t i = 0; i < sizeof(keep_list) / sizeof(keep_list[0]); i++)
		if ((v = cJSON_GetObjectItemCaseSensitive(s, keep_list[i])) && cJSON_IsArray(v))
			cJSON_AddItemToObject(o, keep_list[i], struct_list(v, depth));
	for (size_t i = 0; i < sizeof(keep_schema) / sizeof(keep_schema[0]); i++) {
		v = cJSON_GetObjectItemCaseSensitive(s, keep_schema[i]);
		if (!v)
			continue;
		cJSON_AddItemToObject(o, keep_schema[i],
				      cJSON_IsArray(v) ? struct_list(v, depth)
						       : schema_struct(v, depth + 1));
	}
	return o;
}

/* Fingerprints of a tool definition and its canonical size; -1 if it has no canonical form. */
static int fingerprint(const cJSON *tool, unsigned char fp[32], unsigned char sfp[32], size_t *clen)
{
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(tool, "name");
	cJSON *st;
	char *canon = canonjson(tool, clen);
	int rc;

	if (!canon)
		return -1;
	crypto_hash_sha256(fp, (const unsigned char *)canon, *clen);
	free(canon);
	st = cJSON_CreateObject();

	cJSON_AddItemToObject(st, "name", cJSON_Duplicate(name, 1) ?: cJSON_CreateNull());
	cJSON_AddItemToObject(
	    st, "input", schema_struct(cJSON_GetObjectItemCaseSensitive(tool, "inputSchema"), 0));
	cJSON_AddItemToObject(
	    st, "output", schema_struct(cJSON_GetObjectItemCaseSensitive(tool, "outputSchema"), 0));
	rc = canonjson_sha256(st, sfp);
	cJSON_Delete(st);
	return rc;
}

/* ---- what changed, in words ---- */

struct notes {
	char s[DETAIL_MAX];
	size_t len;
	int n, dropped;
};

static void note(struct notes *nt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct notes *nt, const char *fmt, ...)
{
	char one[160];
	va_list ap;
	size_t l;

	va_start(ap, fmt);
	vsnprintf(one, sizeof(one), fmt, ap);
	va_end(ap);
	l = strlen(one);
	/* Keep room for the "(+N more)" tail. */
	if (nt->len + l + 2 + 16 >= sizeof(nt->s)) {
		nt->dropped++;
		return;
	}
	if (nt->n++) {
		memcpy(nt->s + nt->len, "; ", 2);
		nt->len += 2;
	}
	memcpy(nt->s + nt->len, one, l + 1);
	nt->len += l;
}

static int json_equal(const cJSON *a, const cJSON *b)
{
	char *ca, *cb;
	int eq;

	if (!a || !b)
		return a == b;
	ca = canonjson(a, NULL);
	cb = canonjson(b, NULL);
	eq = ca && cb && strcmp(ca, cb) == 0;
	free(ca);
	free(cb);
	return eq;
}

static const char *type_name(const cJSON *s)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");

	if (cJSON_IsString(t))
		return t->valuestring;
	return t ? "(union)" : "(any)";
}

static int in_required(const cJSON *s, const char *name)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "required");

	for (const cJSON *c = cJSON_IsArray(r) ? r->child : NULL; c; c = c->next)
		if (cJSON_IsString(c) && strcmp(c->valuestring, name) == 0)
			return 1;
	return 0;
}

static int is_schema_handled(const char *k)
{
	return strcmp(k, "type") == 0 || strcmp(k, "properties") == 0 ||
	       strcmp(k, "required") == 0 || strcmp(k, "items") == 0;
}

/* path.key with the key shown safely (a server picks these names). */
static void subpath(char *out, size_t len, const char *path, const char *k)
{
	char shown[52];

	binding_display_name(k, shown, sizeof(shown));
	snprintf(out, len, "%s%s%s", path, *path ? "." : "", shown);
}

/*
 * Describe differences between two schemas. what is "parameter" or "output
 * field"; path is the dotted name of the schema ("" for the root).
 */
static void diff_schema(struct notes *nt, const char *what, const char *path, const cJSON *a,
			const cJSON *b, int depth)
{
	const cJSON *pa, *pb;
	char label[96], sub[96];

	if (json_equal(a, b))
		return;
	if (*path)
		snprintf(label, sizeof(label), "%s '%s'", what, path);
	else
		snprintf(label, sizeof(label), "%s schema",
			 strcmp(what, "parameter") == 0 ? "input" : "output");
	if (!cJSON_IsObject(a) || !cJSON_IsObject(b) || depth > 16) {
		note(nt, "%s changed", label);
		return;
	}
	if (!json_equal(cJSON_GetObjectItemCaseSensitive(a, "type"),
			cJSON_GetObjectItemCaseSensitive(b, "type")))
		note(nt, "%s type changed %s -> %s", label, type_name(a), type_name(b));

	pa = cJSON_GetObjectItemCaseSensitive(a, "properties");
	pb = cJSON_GetObjectItemCaseSensitive(b, "properties");
	for (const cJSON *c = pb ? pb->child : NULL; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(pa, k);

		subpath(sub, sizeof(sub), path, k);
		if (!old)
			note(nt, "%s '%s' added%s", what, sub,
			     in_required(b, k) ? " (required)" : "");
		else
			diff_schema(nt, what, sub, old, c, depth + 1);
	}
	for (const cJSON *c = pa ? pa->child : NULL; c; c = c->next) {
		const char *k = c->string ? c->string : "";

		subpath(sub, sizeof(sub), path, k);
		if (!cJSON_GetObjectItemCaseSensitive(pb, k))
			note(nt, "%s '%s' removed", what, sub);
	}
	for (const cJSON *c = pb ? pb->child : NULL; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		int ra = in_required(a, k), rb = in_required(b, k);

		if (!cJSON_GetObjectItemCaseSensitive(pa, k) || ra == rb)
			continue;
		subpath(sub, sizeof(sub), path, k);
		note(nt, "%s '%s' %s", what, sub, rb ? "now required" : "no longer required");
	}
	snprintf(sub, sizeof(sub), "%.80s[]", *path ? path : "items");
	diff_schema(nt, what, sub, cJSON_GetObjectItemCaseSensitive(a, "items"),
		    cJSON_GetObjectItemCaseSensitive(b, "items"), depth + 1);

	/* Every other keyword, by name: description, default, enum, pattern, ... */
	for (const cJSON *c = b->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";

		if (is_schema_handled(k))
			continue;
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(a, k);

		if (!old)
			note(nt, "%s '%.32s' added", label, k);
		else if (!json_equal(old, c))
			note(nt, "%s %.32s changed", label, k);
	}
	for (const cJSON *c = a->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";

		if (!is_schema_handled(k) && !cJSON_GetObjectItemCaseSensitive(b, k))
			note(nt, "%s '%.32s' removed", label, k);
	}
}

static void diff_tool(struct notes *nt, const cJSON *a, const cJSON *b)
{
	for (const cJSON *c = b->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(a, k);

		if (strcmp(k, "inputSchema") == 0 || strcmp(k, "outputSchema") == 0)
			continue;
		if (!old)
			note(nt, "'%.32s' added", k);
		else if (!json_equal(old, c))
			note(nt, "%.32s changed", k);
	}
	for (const cJSON *c = a->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";

		if (strcmp(k, "inputSchema") != 0 && strcmp(k, "outputSchema") != 0 &&
		    !cJSON_GetObjectItemCaseSensitive(b, k))
			note(nt, "'%.32s' removed", k);
	}
	diff_schema(nt, "parameter", "", cJSON_GetObjectItemCaseSensitive(a, "inputSchema"),
		    cJSON_GetObjectItemCaseSensitive(b, "inputSchema"), 0);
	diff_schema(nt, "output field", "", cJSON_GetObjectItemCaseSensitive(a, "outputSchema"),
		    cJSON_GetObjectItemCaseSensitive(b, "outputSchema"), 0);
	if (nt->n == 0 && nt->dropped == 0)
		note(nt, "definition changed"); /* e.g. duplicate keys reordered */
	if (nt->dropped)
		snprintf(nt->s + nt->len, sizeof(nt->s) - nt->len, " (+%d more)", nt->dropped);
}

/* ---- baseline set ---- */

static struct btool *find(struct drift *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->t[i].name, name) == 0)
			return &d->t[i];
	return NULL;
}

static struct btool *add(struct drift *d, const char *name, cJSON *def, const unsigned char fp[32],
			 const unsigned char sfp[32], long long first_seen, size_t clen)
{
	struct btool *b;

	d->bytes += clen;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->t = xreallocarray(d->t, d->cap, sizeof(*d->t));
	}
	b = &d->t[d->n++];
	b->name = xstrdup(name);
	b->def = def;
	memcpy(b->fp, fp, 32);
	memcpy(b->sfp, sfp, 32);
	b->first_seen = first_seen;
	b->clen = clen;
	return b;
}

/* ---- the file ---- */

static int mkdirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			rc = -1;
		*s = c;
		if (!c)
			break;
	}
	free(p);
	return rc;
}

static char *default_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *dir;

	if (x && x[0] == '/') {
		xasprintf(&dir, "%s/mcpguard/baselines", x);
		return dir;
	}
	if (!home || home[0] != '/') {
		struct passwd *pw = getpwuid(geteuid());

		home = pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
	}
	if (!home)
		return NULL;
	xasprintf(&dir, "%s/.local/state/mcpguard/baselines", home);
	return dir;
}

/* Decode 64 hex digits; -1 if s is not exactly that. */
static int unhex32(const char *s, unsigned char out[32])
{
	size_t bin_len = 0;

	if (!s || strlen(s) != 64)
		return -1;
	if (sodium_hex2bin(out, 32, s, 64, NULL, &bin_len, NULL) != 0 || bin_len != 32)
		return -1;
	return 0;
}

/*
 * Read and validate the baseline file into a fresh tool list. Returns 0 (the
 * file may be absent: empty list), or -1 with why filled: the file exists but
 * is not a baseline we wrote for this server, or was edited by hand.
 */
static int load_file(const char *path, const char *server_hash, struct drift *into, char *why,
		     size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	char *text;
	ssize_t got;
	size_t off = 0;
	cJSON *root, *tools, *v;
	int rc = -1;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(why, whylen, "cannot open: %s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > BASELINE_MAX_BYTES) {
		snprintf(why, whylen, "not a regular file of at most %u bytes", BASELINE_MAX_BYTES);
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (off < (size_t)st.st_size &&
	       ((got = read(fd, text + off, (size_t)st.st_size - off)) > 0 ||
		(got < 0 && errno == EINTR)))
		off += got > 0 ? (size_t)got : 0;
	close(fd);
	text[off] = '\0';
	root = off == (size_t)st.st_size ? cJSON_ParseWithLength(text, off) : NULL;
	free(text);
	if (!root) {
		snprintf(why, whylen, "not valid JSON (or short read)");
		return -1;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "mcpguard_baseline");
	if (!cJSON_IsNumber(v) || v->valuedouble != BASELINE_VERSION) {
		snprintf(why, whylen, "missing or unknown 'mcpguard_baseline' version");
		goto out;
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "server_id_sha256");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, server_hash) != 0) {
		snprintf(why, whylen, "'server_id_sha256' does not name this server");
		goto out;
	}
	tools = cJSON_GetObjectItemCaseSensitive(root, "tools");
	if (!cJSON_IsArray(tools)) {
		snprintf(why, whylen, "'tools' is not an array");
		goto out;
	}
	int i = 0;
	for (cJSON *t = tools->child; t; t = t->next, i++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(t, "sha256");
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(t, "structure_sha256");
		const cJSON *fs = cJSON_GetObjectItemCaseSensitive(t, "first_seen");
		cJSON *def = cJSON_GetObjectItemCaseSensitive(t, "definition");
		const cJSON *dn = cJSON_GetObjectItemCaseSensitive(def, "name");
		unsigned char fp[32], sfp[32], cfp[32], csfp[32];
		size_t clen = 0;

		if (!cJSON_IsString(name) || !cJSON_IsObject(def) || !cJSON_IsString(dn) ||
		    strcmp(dn->valuestring, name->valuestring) != 0 ||
		    unhex32(cJSON_GetStringValue(h), fp) != 0 ||
		    unhex32(cJSON_GetStringValue(sh), sfp) != 0) {
			snprintf(why, whylen, "tools[%d] is malformed", i);
			goto out;
		}
		/* A definition edited without its hash, or a hash edited alone. */
		if (fingerprint(def, cfp, csfp, &clen) != 0 || sodium_memcmp(cfp, fp, 32) != 0 ||
		    sodium_memcmp(csfp, sfp, 32) != 0) {
			snprintf(why, whylen, "tools[%d] ('%.64s') does not match its fingerprint",
				 i, name->valuestring);
			goto out;
		}
		if (find(into, name->valuestring)) {
			snprintf(why, whylen, "tool '%.64s' appears twice", name->valuestring);
			goto out;
		}
		add(into, name->valuestring, cJSON_Duplicate(def, 1), fp, sfp,
		    cJSON_IsNumber(fs) ? (long long)fs->valuedouble : 0, clen);
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

static void free_tools(struct btool *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		cJSON_Delete(t[i].def);
	}
	free(t);
}

static cJSON *tool_entry(const struct btool *b)
{
	cJSON *e = cJSON_CreateObject();
	char hex[65];

	cJSON_AddStringToObject(e, "name", b->name);
	canonjson_hex(b->fp, hex);
	cJSON_AddStringToObject(e, "sha256", hex);
	canonjson_hex(b->sfp, hex);
	cJSON_AddStringToObject(e, "structure_sha256", hex);
	cJSON_AddNumberToObject(e, "first_seen", (double)b->first_seen);
	cJSON_AddItemToObject(e, "definition", cJSON_Duplicate(b->def, 1));
	return e;
}

/* Write text to path atomically: a temp file, fsync, rename, fsync of the directory. */
static int atomic_write(const char *path, const char *text, char *why, size_t whylen)
{
	char *tmp, *dir, *slash;
	int fd, rc = -1;

	xasprintf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(why, whylen, "create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0600) != 0 || fd_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0) {
		snprintf(why, whylen, "write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(why, whylen, "rename %s: %s", tmp, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd) == 0 ? 0 : -1;
		close(fd);
	}
	if (rc != 0)
		snprintf(why, whylen, "fsync of %s failed", dir);
	free(dir);
	return rc;
}

/* An empty baseline document for server_hash; tools go into the returned array. */
static cJSON *set_doc(const char *server_hash, cJSON **arr)
{
	cJSON *root = cJSON_CreateObject();

	cJSON_AddNumberToObject(root, "mcpguard_baseline", BASELINE_VERSION);
	cJSON_AddStringToObject(root, "server_id_sha256", server_hash);
	*arr = cJSON_AddArrayToObject(root, "tools");
	return root;
}

/* Write a tool set as path (atomically); an empty set removes the file. */
static int write_set(const char *path, const char *server_hash, const struct btool *t, size_t n,
		     char *why, size_t whylen)
{
	cJSON *arr, *root;
	char *text;
	int rc;

	if (n == 0) {
		if (unlink(path) != 0 && errno != ENOENT) {
			snprintf(why, whylen, "remove %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	root = set_doc(server_hash, &arr);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, tool_entry(&t[i]));
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	rc = atomic_write(path, text, why, whylen);
	free(text);
	return rc;
}

/* The baseline's lock, shared by sessions saving and `mcpguard accept`; -1 on failure. */
static int lock_baseline(const char *path, char *why, size_t whylen)
{
	char *lockpath;
	int lfd;

	xasprintf(&lockpath, "%s.lock", path);
	lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(lockpath);
	if (lfd < 0 || flock(lfd, LOCK_EX) != 0) {
		snprintf(why, whylen, "lock: %s", strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	return lfd;
}

static void unlock_baseline(int lfd)
{
	flock(lfd, LOCK_UN);
	close(lfd);
}

/* Take b out of set d (its slot is filled by the last one). */
static void drop(struct drift *d, struct btool *b)
{
	d->bytes -= b->clen;
	free(b->name);
	cJSON_Delete(b->def);
	*b = d->t[--d->n];
}

static struct memo *memo_of(struct drift *d, const char *name)
{
	for (size_t i = 0; i < d->nmemo; i++)
		if (strcmp(d->memo[i].name, name) == 0)
			return &d->memo[i];
	return NULL;
}

/*
 * Remember the changed definitions (a set with their fingerprints) as pending:
 * the latest per tool, for the operator to review and accept. Nothing is
 * written when the file already holds exactly these.
 */
static void save_pending(struct drift *d, const struct drift *chg)
{
	struct drift pend = {0}, disk = {0};
	char why[256];
	int lfd, dirty = 0, fresh = 0, ok = 0;

	/*
	 * Each tools/list of a rug-pulled server lands here: touch the files only
	 * when a tool's changed definition differs from what this session last kept.
	 */
	for (size_t i = 0; i < chg->n && !fresh; i++) {
		struct memo *m = memo_of(d, chg->t[i].name);

		fresh = !m || sodium_memcmp(m->fp, chg->t[i].fp, 32) != 0;
	}
	if (!fresh)
		return;
	if ((lfd = lock_baseline(d->path, why, sizeof(why))) < 0)
		return;
	if (load_file(d->pending, d->server_hash, &pend, why, sizeof(why)) != 0 ||
	    load_file(d->path, d->server_hash, &disk, why, sizeof(why)) != 0) {
		warnx("drift: baseline or pending changes of %s are invalid (%s); not updated",
		      d->path, why);
		goto unlock;
	}
	for (size_t i = 0; i < chg->n; i++) {
		const struct btool *c = &chg->t[i];
		struct btool *b = find(&pend, c->name), *base = find(&disk, c->name);

		/* Already pending, or already accepted (this session's baseline is older). */
		if ((b && sodium_memcmp(c->fp, b->fp, 32) == 0) ||
		    (base && sodium_memcmp(c->fp, base->fp, 32) == 0))
			continue;
		/* Within the bounds the file must load again with; else the older one stays. */
		if (pend.n - (b ? 1 : 0) >= BASELINE_MAX_TOOLS ||
		    pend.bytes - (b ? b->clen : 0) + c->clen > BASELINE_MAX_DEFS)
			continue;
		if (b)
			drop(&pend, b);
		add(&pend, c->name, cJSON_Duplicate(c->def, 1), c->fp, c->sfp, c->first_seen,
		    c->clen);
		dirty = 1;
	}
	ok = !dirty || write_set(d->pending, d->server_hash, pend.t, pend.n, why, sizeof(why)) == 0;
	if (!ok)
		warnx("drift: cannot save pending changes %s: %s", d->pending, why);
unlock:
	unlock_baseline(lfd);
	/* Remembered only once on disk (or deliberately left), so a failure is retried. */
	for (size_t i = 0; ok && i < chg->n; i++) {
		struct memo *m = memo_of(d, chg->t[i].name);

		if (!m && d->nmemo < BASELINE_MAX_TOOLS) {
			d->memo = xreallocarray(d->memo, d->nmemo + 1, sizeof(*d->memo));
			m = &d->memo[d->nmemo++];
			m->name = xstrdup(chg->t[i].name);
		}
		if (m)
			memcpy(m->fp, chg->t[i].fp, 32);
	}
	free_tools(pend.t, pend.n);
	free_tools(disk.t, disk.n);
}

/*
 * Persist the baselines. Another session of the same server may have saved
 * since we loaded: under a lock, its tools are kept (first saved wins) and ours
 * are added, so no session erases another's baseline.
 */
static int save(struct drift *d, char *why, size_t whylen)
{
	struct drift disk = {0};
	char *text;
	cJSON *root, *arr;
	int lfd, rc = -1;

	if ((lfd = lock_baseline(d->path, why, whylen)) < 0)
		return -1;
	if (load_file(d->path, d->server_hash, &disk, d->why, sizeof(d->why)) != 0) {
		/* Turned bad since we loaded it: keep it for inspection, report. */
		d->corrupt = 1;
		d->corrupt_reported = 0;
		snprintf(why, whylen, "baseline file became invalid: %s", d->why);
		goto out;
	}
	root = set_doc(d->server_hash, &arr);
	for (size_t i = 0; i < disk.n; i++)
		cJSON_AddItemToArray(arr, tool_entry(&disk.t[i]));
	/* Within the same bound as in memory, so the file always loads again. */
	for (size_t i = 0, n = disk.n; i < d->n; i++) {
		if (find(&disk, d->t[i].name) || n >= BASELINE_MAX_TOOLS ||
		    disk.bytes + d->t[i].clen > BASELINE_MAX_DEFS)
			continue;
		cJSON_AddItemToArray(arr, tool_entry(&d->t[i]));
		disk.bytes += d->t[i].clen;
		n++;
	}
	text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (!text) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	rc = atomic_write(d->path, text, why, whylen);
	free(text);
out:
	free_tools(disk.t, disk.n);
	unlock_baseline(lfd);
	return rc;
}

/*
 * The baseline directory (made 0700 if missing) and this server's file names,
 * or NULL with a warning when the directory cannot be used safely.
 */
static struct drift *open_paths(const char *server_id, const char *baseline_dir)
{
	struct drift *d;
	char *dir = baseline_dir ? xstrdup(baseline_dir) : default_dir();
	unsigned char h[32];
	struct stat st;

	if (!server_id || !dir || dir[0] != '/') {
		warnx("drift: no usable baseline directory (%s)",
		      dir ? "not an absolute path" : "no HOME or XDG_STATE_HOME");
		free(dir);
		return NULL;
	}
	if (mkdirs(dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		warn("drift: baseline directory %s", dir);
		free(dir);
		return NULL;
	}
	/* Anyone else able to write here could swap the baselines. */
	if ((st.st_mode & 022) || (st.st_uid != geteuid() && st.st_uid != 0)) {
		if (st.st_mode & 022)
			warnx("drift: baseline directory %s is group- or world-writable (mode "
			      "%03o); refusing it",
			      dir, (unsigned)(st.st_mode & 0777));
		else
			warnx("drift: baseline directory %s belongs to uid %u; refusing it", dir,
			      (unsigned)st.st_uid);
		free(dir);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	crypto_hash_sha256(h, (const unsigned char *)server_id, strlen(server_id));
	canonjson_hex(h, d->server_hash);
	xasprintf(&d->path, "%s/%s.json", dir, d->server_hash);
	d->pending = drift_pending_file(d->path);
	free(dir);
	return d;
}

struct drift *drift_open(const char *server_id, const char *baseline_dir)
{
	struct drift *d = open_paths(server_id, baseline_dir);

	if (!d)
		return NULL;
	if (load_file(d->path, d->server_hash, d, d->why, sizeof(d->why)) != 0) {
		/* Start empty in memory; the file stays as found. */
		free_tools(d->t, d->n);
		d->t = NULL;
		d->n = d->cap = 0;
		d->corrupt = 1;
		warnx("drift: baseline %s is corrupt or was tampered with (%s); it is kept, "
		      "not replaced, and this session compares against its own first tools/list "
		      "only",
		      d->path, d->why);
	}
	return d;
}

char *drift_pending_file(const char *baseline_file)
{
	size_t n = strlen(baseline_file);
	char *p;

	if (n > 5 && strcmp(baseline_file + n - 5, ".json") == 0)
		n -= 5;
	xasprintf(&p, "%.*s.pending.json", (int)n, baseline_file);
	return p;
}

char *drift_baseline_path(const struct drift *d)
{
	return xstrdup(d->path);
}

void drift_check(struct drift *d, const cJSON *tools, enum drift_verdict *verdict,
		 struct findings *out)
{
	size_t nbase = d->n; /* removals are judged against what existed before this list */
	char *seen = xcalloc(nbase ? nbase : 1, 1);
	int i = 0, added = 0;
	struct drift changed = {0}; /* definitions that differ from the baseline: kept as pending */

	if (d->corrupt && !d->corrupt_reported) {
		findings_add(out, "drift", "baseline-corrupt", CONF_HIGH, "result.tools",
			     "stored baseline of this server is invalid (%.120s); possible "
			     "tampering; it was not replaced",
			     d->why);
		d->corrupt_reported = 1;
	}
	for (const cJSON *t = cJSON_IsArray(tools) ? tools->child : NULL; t; t = t->next, i++) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
		unsigned char fp[32], sfp[32];
		size_t clen = 0;
		struct btool *b;
		char where[48];
		struct notes nt = {0};
		char shown[72];

		verdict[i] = DRIFT_NEW;
		/* Nothing to pin a nameless tool by; the other scanners judge it. */
		if (!cJSON_IsObject(t) || !cJSON_IsString(name))
			continue;
		snprintf(where, sizeof(where), "result.tools[%d]", i);
		binding_display_name(name->valuestring, shown, sizeof(shown));
		b = find(d, name->valuestring);
		if (b && b < d->t + nbase)
			seen[b - d->t] = 1;
		if (fingerprint(t, fp, sfp, &clen) != 0) {
			/* e.g. a number read as infinity: cannot be pinned, not trusted. */
			verdict[i] = b ? DRIFT_CHANGED_STRUCT : DRIFT_NEW;
			findings_add(
			    out, "drift", b ? "tool-changed-structure" : "tool-unpinnable",
			    CONF_HIGH, where,
			    "tool '%s' has no canonical form (non-finite number or nesting "
			    "deeper than %d)",
			    shown, CANON_MAX_DEPTH);
			continue;
		}
		if (!b) {
			/* Bounded: a server cannot grow its baseline file without limit. */
			if (d->n >= BASELINE_MAX_TOOLS || d->bytes + clen > BASELINE_MAX_DEFS) {
				if (!d->full_reported)
					findings_add(out, "drift", "baseline-full", CONF_HIGH,
						     where,
						     "baseline holds %zu tools (%zu bytes); tool "
						     "'%s' and later new ones are not pinned",
						     d->n, d->bytes, shown);
				d->full_reported = 1;
				continue;
			}
			add(d, name->valuestring, cJSON_Duplicate(t, 1), fp, sfp,
			    (long long)time(NULL), clen);
			added = 1;
			continue;
		}
		if (sodium_memcmp(fp, b->fp, 32) == 0) {
			verdict[i] = DRIFT_SAME;
			continue;
		}
		diff_tool(&nt, b->def, t);
		add(&changed, name->valuestring, cJSON_Duplicate(t, 1), fp, sfp,
		    (long long)time(NULL), clen);
		if (sodium_memcmp(sfp, b->sfp, 32) != 0) {
			verdict[i] = DRIFT_CHANGED_STRUCT;
			findings_add(out, "drift", "tool-changed-structure", CONF_HIGH, where,
				     "tool '%s' changed since first seen: %s", shown, nt.s);
		} else {
			verdict[i] = DRIFT_CHANGED;
			findings_add(out, "drift", "tool-changed", CONF_HIGH, where,
				     "tool '%s' changed since first seen: %s", shown, nt.s);
		}
	}
	for (size_t k = 0; k < nbase; k++) {
		char shown[72];

		if (seen[k])
			continue;
		binding_display_name(d->t[k].name, shown, sizeof(shown));
		findings_add(out, "drift", "tool-removed", CONF_HIGH, "result.tools",
			     "tool '%s' of the baseline is no longer offered", shown);
	}
	free(seen);
	if (changed.n && !d->corrupt)
		save_pending(d, &changed);
	free_tools(changed.t, changed.n);
	if (added && !d->corrupt) {
		char why[256];

		if (save(d, why, sizeof(why)) != 0) {
			warnx("drift: cannot save baseline %s: %s", d->path, why);
			if (d->corrupt && !d->corrupt_reported) {
				findings_add(out, "drift", "baseline-corrupt", CONF_HIGH,
					     "result.tools",
					     "stored baseline of this server became invalid "
					     "(%.120s); possible tampering; it was not replaced",
					     d->why);
				d->corrupt_reported = 1;
			} else if (!d->unsaved_reported) {
				findings_add(out, "drift", "baseline-unsaved", CONF_LOW,
					     "result.tools",
					     "baseline not saved (%.160s): a change between runs "
					     "would go unseen",
					     why);
				d->unsaved_reported = 1;
			}
		}
	}
}

cJSON *drift_baseline_tool(struct drift *d, const char *name)
{
	struct btool *b = name ? find(d, name) : NULL;

	return b ? cJSON_Duplicate(b->def, 1) : NULL;
}

void drift_close(struct drift *d)
{
	if (!d)
		return;
	free_tools(d->t, d->n);
	free(d->path);
	free(d->pending);
	for (size_t i = 0; i < d->nmemo; i++)
		free(d->memo[i].name);
	free(d->memo);
	free(d);
}

/* Review and acceptance of pending changes (`mcpguard accept`). */
int drift_accept(const char *server_id, const char *baseline_dir, char *const *names, size_t nnames,
		 int apply, FILE *out, char *why, size_t whylen)
{
	struct drift *d = open_paths(server_id, baseline_dir), pend = {0};
	int lfd, n = 0, rc = -1;
	char *taken = NULL, *text = NULL, *json, safe[2048];
	size_t textlen = 0;
	/* Said only once the files are written: never "accepted" for a failed write. */
	FILE *report = open_memstream(&text, &textlen);

	if (!d || !report) {
		snprintf(why, whylen, "%s", d ? "out of memory" : "no usable baseline directory");
		if (report)
			fclose(report);
		free(text);
		drift_close(d);
		return -1;
	}
	if ((lfd = lock_baseline(d->path, why, whylen)) < 0)
		goto out;
	if (load_file(d->path, d->server_hash, d, d->why, sizeof(d->why)) != 0) {
		snprintf(why, whylen, "baseline %s is invalid (%s); not touched", d->path, d->why);
		goto unlock;
	}
	if (load_file(d->pending, d->server_hash, &pend, d->why, sizeof(d->why)) != 0) {
		snprintf(why, whylen, "pending changes %s are invalid (%s); not touched",
			 d->pending, d->why);
		goto unlock;
	}
	taken = xcalloc(pend.n ? pend.n : 1, 1);
	for (size_t k = 0; k < nnames; k++) {
		if (!find(&pend, names[k])) {
			snprintf(why, whylen, "tool '%.64s' has no pending change", names[k]);
			goto unlock;
		}
	}
	for (size_t i = 0; i < pend.n; i++) {
		struct btool *p = &pend.t[i], *b = find(d, p->name);
		struct notes nt = {0};
		char shown[72];
		int want = nnames == 0;

		for (size_t k = 0; k < nnames && !want; k++)
			want = strcmp(names[k], p->name) == 0;
		if (!want)
			continue;
		binding_display_name(p->name, shown, sizeof(shown));
		if (b && sodium_memcmp(b->fp, p->fp, 32) == 0) {
			taken[i] = 1; /* already the baseline (accepted elsewhere) */
			continue;
		}
		if (b)
			diff_tool(&nt, b->def, p->def);
		/* Server text: escaped, so it cannot drive the operator's terminal. */
		binding_display_name(b ? nt.s : "not in the baseline", safe, sizeof(safe));
		fprintf(report, "%s tool '%s'%s: %s\n", apply ? "accepted" : "pending", shown,
			b && sodium_memcmp(b->sfp, p->sfp, 32) != 0 ? " (structure)" : "", safe);
		if ((json = cJSON_PrintUnformatted(p->def))) {
			binding_display_name(json, safe, sizeof(safe));
			fprintf(report, "  new definition: %s\n", safe);
			free(json);
		}
		n++;
		if (!apply)
			continue;
		if (b)
			drop(d, b);
		add(d, p->name, cJSON_Duplicate(p->def, 1), p->fp, p->sfp, (long long)time(NULL),
		    p->clen);
		taken[i] = 1;
	}
	if (apply) {
		/* The baseline first: a crash between the two leaves a pending entry that
		 * equals the baseline, which the next accept clears. */
		if (write_set(d->path, d->server_hash, d->t, d->n, why, whylen) != 0)
			goto unlock;
		for (size_t i = pend.n; i-- > 0;)
			if (taken[i])
				drop(&pend, &pend.t[i]);
		if (write_set(d->pending, d->server_hash, pend.t, pend.n, why, whylen) != 0)
			goto unlock;
	}
	rc = n;
unlock:
	unlock_baseline(lfd);
out:
	fclose(report);
	if (rc >= 0 && text)
		fputs(text, out);
	free(text);
	free(taken);
	free_tools(pend.t, pend.n);
	drift_close(d);
	return rc;
}
