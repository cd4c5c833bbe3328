/*
 * Static shell parser and expander (see shparse.h). The structure follows bash:
 * a list of pipelines of simple commands; each word goes through brace
 * expansion, then parameter/command/arithmetic expansion with quote removal,
 * then field splitting on IFS. Command substitutions and fed-to-a-shell texts
 * are parsed recursively; their output is computed only for the few commands
 * that merely transform text (echo, printf, base64 -d, ...: shemu.c). Everything is
 * addressed by index because recursion grows the command array.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shemu.h"
#include "shparse.h"
#include "shtext.h"
#include "xmalloc.h"

#define SH_MAX_WORK 2000000u	/* characters and tokens handled per parse */
#define SH_MAX_OUTBYTES 1048576 /* all computed outputs of one parse */
#define SH_MAX_VARS 512

/* ---- variables ---- */

struct sh_var {
	char *name;
	char *val; /* NULL: unset (shadows the base environment) */
};

struct sh_env {
	struct sh_var *v;
	size_t n;
};

static int valid_name(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return 0;
	return 1;
}

struct sh_env *sh_env_new(char *const *envp)
{
	struct sh_env *e = xcalloc(1, sizeof(*e));
	size_t cap = 0;

	for (size_t i = 0; envp && envp[i] && e->n < 4096; i++) {
		const char *eq = strchr(envp[i], '=');

		if (!eq || !valid_name(envp[i], (size_t)(eq - envp[i])))
			continue;
		if (e->n == cap) {
			cap = cap ? cap * 2 : 64;
			e->v = xreallocarray(e->v, cap, sizeof(*e->v));
		}
		e->v[e->n].name = xstrndup(envp[i], (size_t)(eq - envp[i]));
		e->v[e->n].val = xstrdup(eq + 1);
		e->n++;
	}
	return e;
}

void sh_env_free(struct sh_env *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].name);
		free(e->v[i].val);
	}
	free(e->v);
	free(e);
}

const char *sh_env_get(const struct sh_env *e, const char *name)
{
	for (size_t i = 0; e && i < e->n; i++)
		if (strcmp(e->v[i].name, name) == 0)
			return e->v[i].val;
	return NULL;
}

/* ---- known commands (for globbed command names and "looks executable") ---- */

static const char *const known_cmds[] = {
    "apt",	"apt-get",  "ash",     "at",	   "awk",      "aws",	   "az",       "base32",
    "base64",	"basenc",   "bash",    "bc",	   "busybox",  "bzip2",	   "cat",      "cc",
    "cd",	"chattr",   "chgrp",   "chmod",	   "chown",    "chpasswd", "chroot",   "cmp",
    "comm",	"cp",	    "crontab", "csh",	   "curl",     "cut",	   "dash",     "date",
    "dd",	"df",	    "diff",    "dig",	   "docker",   "doas",	   "du",       "echo",
    "ed",	"egrep",    "emacs",   "env",	   "eval",     "exec",	   "expr",     "fgrep",
    "file",	"find",	    "fish",    "ftp",	   "gawk",     "gcc",	   "gcloud",   "gdb",
    "git",	"gpg",	    "grep",    "gunzip",   "gzip",     "halt",	   "head",     "hexdump",
    "host",	"hostname", "id",      "install",  "ip",       "jq",	   "kill",     "killall",
    "ksh",	"kubectl",  "less",    "ln",	   "ls",       "lsof",	   "lua",      "make",
    "mkdir",	"mkfifo",   "mkfs",    "mknod",	   "mkswap",   "more",	   "mount",    "mv",
    "mysql",	"nano",	    "nc",      "ncat",	   "netcat",   "netstat",  "nice",     "nl",
    "nmap",	"node",	    "nodejs",  "nohup",	   "npm",      "npx",	   "nslookup", "od",
    "openssl",	"passwd",   "perl",    "php",	   "ping",     "pip",	   "pip3",     "pkill",
    "poweroff", "printenv", "printf",  "ps",	   "psql",     "pwd",	   "python",   "python2",
    "python3",	"readelf",  "reboot",  "rev",	   "rg",       "rm",	   "rmdir",    "rsync",
    "ruby",	"scp",	    "sed",     "seq",	   "service",  "setsid",   "sftp",     "sh",
    "shred",	"shutdown", "sleep",   "socat",	   "sort",     "source",   "split",    "sqlite3",
    "ss",	"ssh",	    "stat",    "strace",   "strings",  "su",	   "sudo",     "systemctl",
    "tac",	"tail",	    "tar",     "tclsh",	   "tcsh",     "tee",	   "telnet",   "terraform",
    "tftp",	"time",	    "timeout", "touch",	   "tr",       "truncate", "uname",    "uniq",
    "unzip",	"useradd",  "usermod", "uudecode", "uuencode", "vi",	   "vim",      "wc",
    "wget",	"whoami",   "wipefs",  "xargs",	   "xxd",      "xz",	   "yarn",     "zcat",
    "zip",	"zsh",
};
#define NKNOWN (sizeof(known_cmds) / sizeof(known_cmds[0]))

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char *sh_basename(const char *w)
{
	const char *s = strrchr(w, '/');

	return s ? s + 1 : w;
}

int sh_known_command(const char *name)
{
	const char *key = name;

	if (strncmp(name, "mkfs.", 5) == 0)
		return 1;
	return bsearch(&key, known_cmds, NKNOWN, sizeof(known_cmds[0]), cmp_str) != NULL;
}

static const char *const bin_dirs[] = {"/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/",
				       "/usr/local/bin/"};

static int is_shell_name(const char *n)
{
	static const char *const sh[] = {"sh",	"bash", "zsh", "dash", "ksh",
					 "ash", "mksh", "csh", "tcsh", "fish"};

	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++)
		if (strcmp(n, sh[i]) == 0)
			return 1;
	return 0;
}

/* ---- parse state ---- */

struct frame {
	int depth;
	enum sh_ctx ctx;
	int parent;
	const char *func;
	char **pos; /* $0 $1 ...; NULL: none */
	size_t npos;
};

struct heredoc {
	int cmd;  /* command index, or -1 for the command being read */
	size_t r; /* its redirection */
	char *delim;
	int strip; /* <<- */
	int quoted;
};

struct vfile {
	char *name;
	char *text;
	int decoded; /* written by a pipeline with a decoding stage */
};

struct pstate {
	const struct sh_env *base;
	struct sh_var *loc;
	size_t nloc;
	struct sh_parse *out;
	size_t cap;
	unsigned long work;
	size_t outbytes;
	int stop;
	int nlist;
	int in_case;
	struct heredoc hd[8];
	size_t nhd;
	size_t hd_base; /* here-documents below this belong to an enclosing parse */
	int brace;	/* open "{ ..." groups */
	struct vfile vf[16];
	size_t nvf;
};

struct src {
	const char *s;
	size_t len, i;
};

/* A command being read: words, redirections, assignments. */
struct cmdb {
	char **argv;
	unsigned char *wf;
	size_t argc, cap;
	struct sh_redir *redir;
	size_t nredir;
	char **assign;
	size_t nassign;
	unsigned obf;
	char *ps_out; /* output of the last process substitution among the words */
	int ps_first;
	int funcdef;
	const char *func;
	int words_only; /* a word list (for NAME in ...), not a command */
};

static void list_parse(struct pstate *ps, const struct frame *fr, struct src *sr, int stop);
static void parse_text(struct pstate *ps, const struct frame *fr, const char *s, size_t len,
		       enum sh_ctx ctx, int parent, char **pos, size_t npos);

static int tick(struct pstate *ps, unsigned long n)
{
	ps->work += n;
	if (ps->work > SH_MAX_WORK) {
		ps->stop = 1;
		ps->out->truncated |= SH_TR_UNSEEN;
	}
	return ps->stop;
}

static void set_error(struct pstate *ps, const char *msg)
{
	if (!ps->out->error) {
		ps->out->error = 1;
		mg_strlcpy(ps->out->errmsg, msg, sizeof(ps->out->errmsg));
	}
}

static const char *var_get(const struct pstate *ps, const char *name)
{
	for (size_t i = ps->nloc; i-- > 0;)
		if (strcmp(ps->loc[i].name, name) == 0)
			return ps->loc[i].val;
	return sh_env_get(ps->base, name);
}

static void var_set(struct pstate *ps, const char *name, size_t nlen, const char *val)
{
	for (size_t i = 0; i < ps->nloc; i++)
		if (strlen(ps->loc[i].name) == nlen && memcmp(ps->loc[i].name, name, nlen) == 0) {
			free(ps->loc[i].val);
			ps->loc[i].val = val ? xstrdup(val) : NULL;
			return;
		}
	if (ps->nloc >= SH_MAX_VARS) {
		ps->out->truncated |= SH_TR_LIMIT;
		return;
	}
	ps->loc = xreallocarray(ps->loc, ps->nloc + 1, sizeof(*ps->loc));
	ps->loc[ps->nloc].name = xstrndup(name, nlen);
	ps->loc[ps->nloc].val = val ? xstrdup(val) : NULL;
	ps->nloc++;
}

static const char *ifs(const struct pstate *ps)
{
	const char *v = var_get(ps, "IFS");

	return v ? v : " \t\n";
}

/* ---- skipping quoted and nested constructs (index of the closing char, or len) ---- */

static size_t skip_paren(const char *s, size_t len, size_t i);
static size_t skip_dq(const char *s, size_t len, size_t i);

static size_t skip_sq(const char *s, size_t len, size_t i)
{
	const char *q = memchr(s + i, '\'', len - i);

	return q ? (size_t)(q - s) : len;
}

static size_t skip_ansic(const char *s, size_t len, size_t i)
{
	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '\'')
			return i;
	}
	return len;
}

static size_t skip_bt(const char *s, size_t len, size_t i)
{
	for (; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '`')
			return i;
	}
	return len;
}

static size_t skip_brace(const char *s, size_t len, size_t i)
{
	int depth = 1;

	for (; i < len; i++) {
		switch (s[i]) {
		case '\\':
			i++;
			break;
		case '\'':
			i = skip_sq(s, len, i + 1);
			break;
		case '"':
			i = skip_dq(s, len, i + 1);
			break;
		case '`':
			i = skip_bt(s, len, i + 1);
			break;
		case '$':
			if (i + 1 < len && s[i + 1] == '(')
				i = skip_paren(s, len, i + 2);
			break;
		case '{':
			depth++;
			break;
		case '}':
			if (--depth == 0)
				return i;
			break;
		}
	}
	return len;
}

static size_t skip_dq(const char *s, size_t len, size_t i)
{
	for (; i < len; i++) {
		switch (s[i]) {
		case '\\':
			i++;
			break;
		case '"':
			return i;
		case '`':
			i = skip_bt(s, len, i + 1);
			break;
		case '$':
			if (i + 1 < len && s[i + 1] == '(')
				i = skip_paren(s, len, i + 2);
			else if (i + 1 < len && s[i + 1] == '{')
				i = skip_brace(s, len, i + 2);
			break;
		}
	}
	return len;
}

/* i is just after the opening '('. */
static size_t skip_paren(const char *s, size_t len, size_t i)
{
	int depth = 1;

	for (; i < len; i++) {
		switch (s[i]) {
		case '\\':
			i++;
			break;
		case '\'':
			i = skip_sq(s, len, i + 1);
			break;
		case '"':
			i = skip_dq(s, len, i + 1);
			break;
		case '`':
			i = skip_bt(s, len, i + 1);
			break;
		case '(':
			depth++;
			break;
		case ')':
			if (--depth == 0)
				return i;
			break;
		}
	}
	return len;
}

static int is_meta(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' ||
	       c == ')' || c == '<' || c == '>';
}

/* End of the word starting at i. Sets *bad on an unterminated construct. */
static size_t word_end(const char *s, size_t len, size_t i, int *bad)
{
	size_t e;

	while (i < len && !is_meta(s[i])) {
		switch (s[i]) {
		case '\\':
			i += 2;
			continue;
		case '\'':
			e = skip_sq(s, len, i + 1);
			break;
		case '"':
			e = skip_dq(s, len, i + 1);
			break;
		case '`':
			e = skip_bt(s, len, i + 1);
			break;
		case '$':
			if (i + 1 < len && s[i + 1] == '\'')
				e = skip_ansic(s, len, i + 2);
			else if (i + 1 < len && s[i + 1] == '"')
				e = skip_dq(s, len, i + 2);
			else if (i + 1 < len && s[i + 1] == '(')
				e = skip_paren(s, len, i + 2);
			else if (i + 1 < len && s[i + 1] == '{')
				e = skip_brace(s, len, i + 2);
			else
				e = i;
			break;
		default:
			e = i;
		}
		if (e >= len) {
			*bad = 1;
			return len;
		}
		i = e + 1;
	}
	return i < len ? i : len;
}

/* ---- arithmetic: + - * / % ( ) unary, integers and variable names ---- */

struct arith {
	const struct pstate *ps;
	const char *s;
	size_t len, i;
	int depth;
};

static long long ar_expr(struct arith *a);

static void ar_ws(struct arith *a)
{
	while (a->i < a->len && isspace((unsigned char)a->s[a->i]))
		a->i++;
}

static long long ar_primary(struct arith *a)
{
	char tmp[64];
	size_t n = 0;

	ar_ws(a);
	if (a->i >= a->len)
		return 0;
	if (a->s[a->i] == '(' && a->depth < 32) {
		long long v;

		a->i++;
		a->depth++;
		v = ar_expr(a);
		a->depth--;
		ar_ws(a);
		if (a->i < a->len && a->s[a->i] == ')')
			a->i++;
		return v;
	}
	if (a->s[a->i] == '-' || a->s[a->i] == '+') {
		int neg = a->s[a->i] == '-';
		long long v;

		if (a->depth >= 32)
			return 0;
		a->i++;
		a->depth++;
		v = ar_primary(a);
		a->depth--;
		return neg ? (long long)(0ULL - (unsigned long long)v) : v;
	}
	if (a->s[a->i] == '$')
		a->i++;
	while (a->i < a->len && (isalnum((unsigned char)a->s[a->i]) || a->s[a->i] == '_')) {
		if (n < sizeof(tmp) - 1)
			tmp[n++] = a->s[a->i];
		a->i++;
	}
	tmp[n] = '\0';
	if (n == 0) {
		a->i++; /* skip what we do not understand */
		return 0;
	}
	if (isdigit((unsigned char)tmp[0]))
		return sh_num(tmp);
	{
		const char *v = var_get(a->ps, tmp);

		return v ? sh_num(v) : 0;
	}
}

static long long ar_term(struct arith *a)
{
	long long v = ar_primary(a);

	for (;;) {
		char op;
		long long r;

		ar_ws(a);
		if (a->i >= a->len || !strchr("*/%", a->s[a->i]))
			return v;
		op = a->s[a->i++];
		r = ar_primary(a);
		if (op == '*')
			v = (long long)((unsigned long long)v * (unsigned long long)r);
		else if (r == 0 || (v == LLONG_MIN && r == -1))
			v = 0;
		else
			v = op == '/' ? v / r : v % r;
	}
}

static long long ar_expr(struct arith *a)
{
	long long v = ar_term(a);

	for (;;) {
		char op;
		long long r;

		ar_ws(a);
		if (a->i >= a->len || (a->s[a->i] != '+' && a->s[a->i] != '-'))
			return v;
		op = a->s[a->i++];
		r = ar_term(a);
		v = (long long)(op == '+' ? (unsigned long long)v + (unsigned long long)r
					  : (unsigned long long)v - (unsigned long long)r);
	}
}

/* ---- word expansion ---- */

struct fieldb {
	struct pstate *ps;
	const struct frame *fr;
	struct shbuf cur;
	int have;
	unsigned curflags;
	char **f;
	unsigned char *ff;
	size_t n;
	int nosplit; /* assignments, here-strings, ${x:-word}: one string */
	int cmdpos;  /* the command-name word: obfuscation there matters most */
	int cmd;     /* index of the command being built (parent of substitutions) */
	unsigned obf;
	int nexp_empty; /* expansions that produced nothing */
	int npos_used;	/* positional parameters expanded to something */
};

static void fb_emit(struct fieldb *fb)
{
	if (!fb->have)
		return;
	if (fb->n >= SH_MAX_WORDS) {
		fb->ps->out->truncated |= SH_TR_LIMIT;
		free(shb_take(&fb->cur));
	} else {
		fb->f = xreallocarray(fb->f, fb->n + 1, sizeof(*fb->f));
		fb->ff = xreallocarray(fb->ff, fb->n + 1, 1);
		fb->cur.trunc ? (void)(fb->ps->out->truncated |= SH_TR_LIMIT) : (void)0;
		fb->f[fb->n] = shb_take(&fb->cur);
		fb->ff[fb->n] = (unsigned char)fb->curflags;
		fb->n++;
	}
	fb->cur.trunc = 0;
	fb->have = 0;
	fb->curflags = 0;
}

static void fb_lit(struct fieldb *fb, const char *s, size_t n)
{
	shb_putn(&fb->cur, s, n);
	fb->have = 1;
}

/* Append the result of an expansion: split on IFS unless quoted. */
static void fb_exp(struct fieldb *fb, const char *v, size_t n, int quoted, unsigned wflags)
{
	const char *sep;

	fb->curflags |= wflags;
	if (quoted || fb->nosplit) {
		fb_lit(fb, v, n);
		return;
	}
	sep = ifs(fb->ps);
	for (size_t i = 0; i < n; i++) {
		if (*sep && strchr(sep, v[i]) && v[i] != '\0') {
			if (isspace((unsigned char)v[i])) {
				fb_emit(fb);
			} else {
				fb->have = 1;
				fb_emit(fb);
			}
			fb->curflags |= wflags;
			continue;
		}
		shb_putc(&fb->cur, v[i]);
		fb->have = 1;
	}
}

static void expand_into(struct fieldb *fb, const char *s, size_t len, int quoted);

/* Expand s to one string (no field splitting), with quote removal. */
static char *expand_str(struct pstate *ps, const struct frame *fr, int cmd, const char *s,
			size_t len, unsigned *obf)
{
	struct fieldb fb = {.ps = ps, .fr = fr, .nosplit = 1, .cmd = cmd};
	char *r;

	expand_into(&fb, s, len, 0);
	fb.have = 1;
	fb_emit(&fb);
	if (obf)
		*obf |= fb.obf;
	r = fb.n ? fb.f[0] : xstrdup("");
	for (size_t i = 1; i < fb.n; i++)
		free(fb.f[i]);
	free(fb.f);
	free(fb.ff);
	return r;
}

static long long arith_eval(struct pstate *ps, const struct frame *fr, int cmd, const char *s,
			    size_t len)
{
	char *t = expand_str(ps, fr, cmd, s, len, NULL);
	struct arith a = {.ps = ps, .s = t, .len = strlen(t)};
	long long v = ar_expr(&a);

	free(t);
	return v;
}

/* Output of the commands of list id (each pipeline's last stage), NULL if unknown. */
static char *list_output(struct pstate *ps, int list)
{
	struct shbuf b = {0};

	for (size_t k = 0; k < ps->out->ncmd; k++) {
		struct sh_cmd *c = &ps->out->cmd[k];

		if (c->list != list || c->sep == SH_SEP_PIPE)
			continue;
		if (c->argc == 0 && !c->nassign)
			continue;
		if (c->argc == 0)
			continue;
		if (!c->output) {
			free(b.p);
			return NULL;
		}
		shb_puts(&b, c->output);
	}
	return shb_take(&b);
}

/* Run text as a command or process substitution; its output, or NULL when unknown. */
static char *substitute(struct pstate *ps, const struct frame *fr, int parent, const char *s,
			size_t len, enum sh_ctx ctx)
{
	int list;
	char *o;
	size_t n;

	if (fr->depth + 1 >= SH_MAX_DEPTH) {
		ps->out->truncated |= SH_TR_UNSEEN;
		return NULL;
	}
	list = ps->nlist; /* the next list id is the one parse_text opens */
	parse_text(ps, fr, s, len, ctx, parent, fr->pos, fr->npos);
	o = list_output(ps, list);
	if (o && ctx == SH_CTX_CMDSUB) {
		n = strlen(o);
		while (n && o[n - 1] == '\n')
			o[--n] = '\0';
	}
	return o;
}

/* Value of a parameter by name ("HOME", "1", "@", "#"...); NULL if unset. */
static const char *param(struct fieldb *fb, const char *name, char *tmp, size_t tmplen)
{
	const struct frame *fr = fb->fr;

	if (isdigit((unsigned char)name[0])) {
		unsigned long n = strtoul(name, NULL, 10);

		if (fr->pos && n < fr->npos) {
			if (fr->pos[n][0])
				fb->npos_used++;
			return fr->pos[n];
		}
		return n == 0 ? "bash" : NULL;
	}
	if (!name[1] && strchr("@*#?$!-", name[0])) {
		switch (name[0]) {
		case '#':
			snprintf(tmp, tmplen, "%zu", fr->npos ? fr->npos - 1 : 0);
			return tmp;
		case '?':
			return "0";
		case '$':
			return "4242";
		case '-':
			return "hB";
		case '!':
			return "";
		default: { /* $@ $*: the positional parameters, usually none */
			size_t o = 0;

			tmp[0] = '\0';
			for (size_t i = 1; fr->pos && i < fr->npos && o < tmplen - 1; i++) {
				int w = snprintf(tmp + o, tmplen - o, "%s%s", i > 1 ? " " : "",
						 fr->pos[i]);

				if (w < 0)
					break;
				o += (size_t)w;
				if (o >= tmplen)
					o = tmplen - 1;
			}
			if (tmp[0])
				fb->npos_used++;
			return tmp;
		}
		}
	}
	if (!strcmp(name, "IFS")) {
		const char *v = var_get(fb->ps, name);

		/* $IFS as a space that is not a space: cat${IFS}/etc/passwd */
		fb->obf |= SH_OB_IFS;
		return v ? v : " \t\n"; /* a fresh shell sets it */
	}
	return var_get(fb->ps, name);
}

static int pat_match(const char *pat, const char *s, size_t n)
{
	char tmp[1024];

	if (n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return fnmatch(pat, tmp, 0) == 0;
}

/* ${name OP word}: s..len is the text between the braces. */
static void expand_param(struct fieldb *fb, const char *s, size_t len, int quoted)
{
	struct pstate *ps = fb->ps;
	char name[128], tmp[1024];
	size_t i = 0, nl = 0;
	int length = 0, indirect = 0;
	const char *val;
	char *owned = NULL, *vcopy = NULL;
	struct shbuf r = {0};

	if (len > 1 && s[0] == '#' && s[1] != '}') {
		length = 1;
		i = 1;
	} else if (len > 1 && s[0] == '!') {
		indirect = 1;
		i = 1;
	}
	if (i < len && (isalpha((unsigned char)s[i]) || s[i] == '_')) {
		while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_') &&
		       nl < sizeof(name) - 1)
			name[nl++] = s[i++];
	} else if (i < len && isdigit((unsigned char)s[i])) {
		while (i < len && isdigit((unsigned char)s[i]) && nl < 8)
			name[nl++] = s[i++];
	} else if (i < len && strchr("@*#?$!-", s[i])) {
		name[nl++] = s[i++];
	}
	name[nl] = '\0';
	if (!nl) {
		set_error(ps, "bad substitution");
		return;
	}
	if (i < len && s[i] == '[') { /* arrays: treat a[..] as a */
		const char *cb = memchr(s + i, ']', len - i);

		i = cb ? (size_t)(cb - s) + 1 : len;
	}
	val = param(fb, name, tmp, sizeof(tmp));
	if (indirect) {
		fb->obf |= SH_OB_VAR_OP;
		if (val && valid_name(val, strlen(val))) {
			char n2[128];

			mg_strlcpy(n2, val, sizeof(n2));
			val = param(fb, n2, tmp, sizeof(tmp));
		} else {
			val = NULL;
		}
	}
	/* Our own copy: expanding operator words may reassign the variable. */
	vcopy = val ? xstrdup(val) : NULL;
	val = vcopy;
	if (length) {
		if (fb->cmdpos)
			fb->obf |= SH_OB_VAR_OP;
		snprintf(tmp, sizeof(tmp), "%zu", val ? strlen(val) : 0);
		fb_exp(fb, tmp, strlen(tmp), quoted, SH_W_EXPANDED);
		goto out;
	}
	if (i >= len) {
		if (!val || ((name[0] == '@' || name[0] == '*') && !*val))
			fb->nexp_empty++;
		fb_exp(fb, val ? val : "", val ? strlen(val) : 0, quoted, SH_W_EXPANDED);
		goto out;
	}
	/* An operator follows. */
	{
		int colon = s[i] == ':';
		char op = colon && i + 1 < len ? s[i + 1] : s[i];
		size_t w = i + (colon ? 2 : 1);
		int isnull = !val || (colon && !*val);

		if (colon && !strchr("-=+?", op)) {
			/* ${v:offset[:length]} */
			const char *c2 = NULL;
			size_t vlen = val ? strlen(val) : 0;
			long long off, cnt;
			size_t depth = 0;

			for (size_t j = i + 1; j < len; j++) {
				if (s[j] == '(')
					depth++;
				else if (s[j] == ')' && depth)
					depth--;
				else if (s[j] == ':' && !depth) {
					c2 = s + j;
					break;
				}
			}
			fb->obf |= SH_OB_VAR_OP;
			off = arith_eval(ps, fb->fr, fb->cmd, s + i + 1,
					 (c2 ? (size_t)(c2 - s) : len) - (i + 1));
			if (off < 0)
				off = (long long)vlen + off < 0 ? 0 : (long long)vlen + off;
			if (off > (long long)vlen)
				off = (long long)vlen;
			cnt = (long long)vlen - off;
			if (c2) {
				long long l = arith_eval(ps, fb->fr, fb->cmd, c2 + 1,
							 len - (size_t)(c2 + 1 - s));

				if (l < 0)
					l = (long long)vlen - off + l < 0
						? 0
						: (long long)vlen - off + l;
				if (l < cnt)
					cnt = l;
			}
			fb_exp(fb, val ? val + off : "", (size_t)cnt, quoted, SH_W_EXPANDED);
			goto out;
		}
		switch (op) {
		case '-':
		case '=':
		case '+':
		case '?': {
			int use_word = (op == '+') ? !isnull : isnull;

			if (!use_word) {
				fb_exp(fb, (op == '+' || !val) ? "" : val,
				       (op == '+' || !val) ? 0 : strlen(val), quoted,
				       SH_W_EXPANDED);
				goto out;
			}
			owned = expand_str(ps, fb->fr, fb->cmd, s + w, len - w, &fb->obf);
			if (op == '=' && valid_name(name, nl))
				var_set(ps, name, nl, owned);
			if (op == '?')
				owned[0] = '\0';
			fb_exp(fb, owned, strlen(owned), quoted, SH_W_EXPANDED);
			free(owned);
			goto out;
		}
		case '#':
		case '%': {
			int longest = w < len && s[w] == op;

			if (val &&
			    strlen(val) > 4096) { /* quadratic matching: leave long values be */
				ps->out->truncated |= SH_TR_LIMIT;
				fb_exp(fb, val, strlen(val), quoted, SH_W_EXPANDED);
				goto out;
			}
			const char *v = val ? val : "";
			size_t vlen = strlen(v), best = 0, found = 0;
			char *pat;

			w += longest;
			pat = expand_str(ps, fb->fr, fb->cmd, s + w, len - w, &fb->obf);
			if (fb->cmdpos) /* ${f%.c}.o is everyday scripting; in a name it hides */
				fb->obf |= SH_OB_VAR_OP;
			for (size_t k = 0; k <= vlen && !tick(ps, 1); k++) {
				size_t m = longest ? vlen - k : k; /* length removed */

				if (op == '#' ? pat_match(pat, v, m)
					      : pat_match(pat, v + vlen - m, m)) {
					best = m;
					found = 1;
					break;
				}
			}
			free(pat);
			if (!found)
				best = 0;
			if (op == '#')
				fb_exp(fb, v + best, vlen - best, quoted, SH_W_EXPANDED);
			else
				fb_exp(fb, v, vlen - best, quoted, SH_W_EXPANDED);
			goto out;
		}
		case '/': {
			int all = w < len && s[w] == '/';

			if (val && strlen(val) > 4096) {
				ps->out->truncated |= SH_TR_LIMIT;
				fb_exp(fb, val, strlen(val), quoted, SH_W_EXPANDED);
				goto out;
			}
			int anchor = w < len && (s[w] == '#' || s[w] == '%') ? s[w] : 0;
			const char *v = val ? val : "", *sl;
			size_t vlen = strlen(v), pe;
			char *pat, *rep;

			w += (all || anchor);
			sl = NULL;
			for (size_t j = w; j < len; j++) {
				if (s[j] == '\\') {
					j++;
					continue;
				}
				if (s[j] == '/') {
					sl = s + j;
					break;
				}
			}
			pe = sl ? (size_t)(sl - s) : len;
			pat = expand_str(ps, fb->fr, fb->cmd, s + w, pe - w, &fb->obf);
			rep = sl ? expand_str(ps, fb->fr, fb->cmd, sl + 1, len - pe - 1, &fb->obf)
				 : xstrdup("");
			if (fb->cmdpos)
				fb->obf |= SH_OB_VAR_OP;
			for (size_t k = 0; k < vlen;) {
				size_t m = 0;
				int hit = 0;

				if (tick(ps, 1))
					break;
				if ((anchor != '#' || k == 0) && *pat) {
					for (size_t e = vlen - k > 1023 ? k + 1023 : vlen; e > k;
					     e--) {
						if (anchor == '%' && e != vlen)
							break;
						if (tick(ps, 1))
							break;
						if (pat_match(pat, v + k, e - k)) {
							m = e - k;
							hit = 1;
							break;
						}
					}
				}
				if (hit && (all || !r.trunc)) {
					shb_puts(&r, rep);
					k += m;
					if (!all) {
						shb_putn(&r, v + k, vlen - k);
						k = vlen;
					}
					continue;
				}
				shb_putc(&r, v[k++]);
			}
			free(pat);
			free(rep);
			owned = shb_take(&r);
			fb_exp(fb, owned, strlen(owned), quoted, SH_W_EXPANDED);
			free(owned);
			goto out;
		}
		case '^':
		case ',':
		case '~': {
			int all = w < len && s[w] == op;
			const char *v = val ? val : "";

			fb->obf |= SH_OB_VAR_OP;
			owned = xstrdup(v);
			for (size_t k = 0; owned[k] && (all || k == 0); k++) {
				unsigned char ch = (unsigned char)owned[k];

				if (op == '^')
					owned[k] = (char)toupper(ch);
				else if (op == ',')
					owned[k] = (char)tolower(ch);
				else
					owned[k] = (char)(isupper(ch) ? tolower(ch) : toupper(ch));
			}
			fb_exp(fb, owned, strlen(owned), quoted, SH_W_EXPANDED);
			free(owned);
			goto out;
		}
		case '@': {
			const char *v = val ? val : "";
			char t = w < len ? s[w] : 0;

			fb->obf |= SH_OB_VAR_OP;
			if (t == 'E') {
				for (size_t k = 0; v[k];) {
					if (v[k] == '\\')
						sh_decode_escape(v, strlen(v), &k, &r, 0);
					else
						shb_putc(&r, v[k++]);
				}
				owned = shb_take(&r);
			} else {
				owned = xstrdup(v);
				for (size_t k = 0; owned[k]; k++) {
					if (t == 'U' || (t == 'u' && k == 0))
						owned[k] = (char)toupper((unsigned char)owned[k]);
					else if (t == 'L')
						owned[k] = (char)tolower((unsigned char)owned[k]);
				}
			}
			fb_exp(fb, owned, strlen(owned), quoted, SH_W_EXPANDED);
			free(owned);
			goto out;
		}
		default:
			set_error(ps, "bad substitution");
			goto out;
		}
	}
out:
	free(vcopy);
}

/* Is the character next to a quote a letter or digit (so the quote splits a word)? */
static int alnum_at(const char *s, size_t len, size_t i)
{
	return i < len && isalnum((unsigned char)s[i]);
}

static void note_quote(struct fieldb *fb, const char *s, size_t len, size_t open, size_t close)
{
	size_t inner = close - open - 1;

	if (inner == 0 && (open > 0 || close + 1 < len))
		fb->obf |= SH_OB_EMPTY_QUOTE;
	else if (fb->cmdpos &&
		 ((open > 0 && alnum_at(s, len, open - 1)) || alnum_at(s, len, close + 1)))
		fb->obf |= SH_OB_QUOTE_SPLIT;
}

/*
 * An expansion that inserted nothing between two letters (c${x}at, c$@at) is
 * there only to break up a word. mark_n and mark_e are the field length and
 * the empty-expansion count before it; next is the raw index after it.
 */
static void note_empty(struct fieldb *fb, size_t mark_n, int mark_e, const char *s, size_t len,
		       size_t next)
{
	if (fb->nexp_empty == mark_e || fb->cur.n != mark_n || mark_n == 0)
		return;
	if (!isalnum((unsigned char)fb->cur.p[mark_n - 1]))
		return;
	if (next < len && (isalnum((unsigned char)s[next]) || s[next] == '\'' || s[next] == '"' ||
			   s[next] == '\\'))
		fb->obf |= SH_OB_EMPTY_VAR;
}

static void expand_into(struct fieldb *fb, const char *s, size_t len, int quoted)
{
	struct pstate *ps = fb->ps;
	size_t i = 0, e;

	while (i < len) {
		char c = s[i];
		size_t mark_n = fb->cur.n;
		int mark_e = fb->nexp_empty;

		if (tick(ps, 1))
			return;
		if (c == '\'' && !quoted) {
			e = skip_sq(s, len, i + 1);
			note_quote(fb, s, len, i, e);
			fb_lit(fb, s + i + 1, e - i - 1);
			i = e + 1;
			continue;
		}
		if (c == '"' && !quoted) {
			e = skip_dq(s, len, i + 1);
			if (e == i + 3 && s[i + 1] == '$' && s[i + 2] == '@' && fb->fr->npos < 2) {
				i = e + 1; /* "$@" with no parameters is no word at all */
				continue;
			}
			note_quote(fb, s, len, i, e);
			fb->have = 1;
			expand_into(fb, s + i + 1, e - i - 1, 1);
			i = e + 1;
			continue;
		}
		if (c == '\\') {
			if (i + 1 >= len) {
				fb_lit(fb, "\\", 1);
				i++;
				continue;
			}
			if (s[i + 1] == '\n') {
				i += 2;
				continue;
			}
			if (quoted && !strchr("$`\"\\", s[i + 1])) {
				fb_lit(fb, "\\", 1);
				i++;
				continue;
			}
			if (!quoted && isalnum((unsigned char)s[i + 1]))
				fb->obf |= SH_OB_ESCAPE;
			fb_lit(fb, s + i + 1, 1);
			i += 2;
			continue;
		}
		if (c == '`') {
			struct shbuf in = {0};
			char *o;

			e = skip_bt(s, len, i + 1);
			for (size_t k = i + 1; k < e; k++) {
				if (s[k] == '\\' && k + 1 < e && strchr("$`\\", s[k + 1]))
					k++;
				shb_putc(&in, s[k]);
			}
			if (fb->cmdpos)
				fb->obf |= SH_OB_CMDSUB_CMD;
			o = substitute(ps, fb->fr, fb->cmd, in.p ? in.p : "", in.n, SH_CTX_CMDSUB);
			free(in.p);
			if (o && !*o)
				fb->nexp_empty++;
			fb_exp(fb, o ? o : "", o ? strlen(o) : 0, quoted,
			       SH_W_EXPANDED | SH_W_CMDSUB);
			free(o);
			i = e + 1;
			note_empty(fb, mark_n, mark_e, s, len, i);
			continue;
		}
		if (c == '$' && i + 1 < len) {
			char d = s[i + 1];

			if (d == '\'' && !quoted) {
				struct shbuf b = {0};

				e = skip_ansic(s, len, i + 2);
				for (size_t k = i + 2; k < e;) {
					if (s[k] == '\\') {
						if (sh_decode_escape(s, e, &k, &b, 0) > 0)
							fb->obf |= SH_OB_ANSIC;
					} else {
						shb_putc(&b, s[k++]);
					}
				}
				if (e == i + 2 && (i > 0 || e + 1 < len))
					fb->obf |= SH_OB_EMPTY_QUOTE;
				fb_lit(fb, b.p ? b.p : "", b.n);
				free(b.p);
				i = e + 1;
				continue;
			}
			if (d == '"' && !quoted) {
				e = skip_dq(s, len, i + 2);
				fb->have = 1;
				expand_into(fb, s + i + 2, e - i - 2, 1);
				i = e + 1;
				continue;
			}
			if (d == '(' && i + 2 < len && s[i + 2] == '(') {
				char num[32];
				/* $(( expr )): the inner text ends one before the closing pair. */
				size_t ce = skip_paren(s, len, i + 3);

				if (ce < len && ce + 1 < len && s[ce + 1] == ')') {
					snprintf(
					    num, sizeof(num), "%lld",
					    arith_eval(ps, fb->fr, fb->cmd, s + i + 3, ce - i - 3));
					fb_exp(fb, num, strlen(num), quoted, SH_W_EXPANDED);
					i = ce + 2;
					continue;
				}
			}
			if (d == '(') {
				char *o;

				e = skip_paren(s, len, i + 2);
				if (fb->cmdpos)
					fb->obf |= SH_OB_CMDSUB_CMD;
				o = substitute(ps, fb->fr, fb->cmd, s + i + 2, e - i - 2,
					       SH_CTX_CMDSUB);
				if (o && !*o)
					fb->nexp_empty++;
				fb_exp(fb, o ? o : "", o ? strlen(o) : 0, quoted,
				       SH_W_EXPANDED | SH_W_CMDSUB);
				free(o);
				i = e + 1;
				note_empty(fb, mark_n, mark_e, s, len, i);
				continue;
			}
			if (d == '{') {
				e = skip_brace(s, len, i + 2);
				expand_param(fb, s + i + 2, e - i - 2, quoted);
				i = e + 1;
				note_empty(fb, mark_n, mark_e, s, len, i);
				continue;
			}
			if (isalpha((unsigned char)d) || d == '_' || isdigit((unsigned char)d) ||
			    strchr("@*#?$!-", d)) {
				char name[128], tmp[1024];
				size_t nl = 0;
				const char *v;

				e = i + 1;
				if (isdigit((unsigned char)d) || strchr("@*#?$!-", d)) {
					name[nl++] = d;
					e++;
				} else {
					while (e < len &&
					       (isalnum((unsigned char)s[e]) || s[e] == '_')) {
						if (nl < sizeof(name) - 1)
							name[nl++] = s[e];
						e++;
					}
				}
				name[nl] = '\0';
				v = param(fb, name, tmp, sizeof(tmp));
				if (!v || ((d == '@' || d == '*') && !*v))
					fb->nexp_empty++; /* unset: nothing is inserted */
				if (quoted && (d == '@') && (!v || !*v) && len == 2) {
					i = e; /* "$@" with no parameters is no word at all */
					continue;
				}
				fb_exp(fb, v ? v : "", v ? strlen(v) : 0, quoted, SH_W_EXPANDED);
				i = e;
				note_empty(fb, mark_n, mark_e, s, len, i);
				continue;
			}
		}
		/* Ordinary character. */
		if (!quoted && (c == '*' || c == '?' || c == '['))
			fb->curflags |= SH_W_GLOB;
		fb_lit(fb, &c, 1);
		i++;
	}
}

/* ---- brace expansion (on the raw word, before anything else) ---- */

static void brace_expand(struct pstate *ps, const char *w, size_t len, char ***out, size_t *n,
			 int depth)
{
	size_t i = 0, open = SIZE_MAX;

	if (*n >= SH_MAX_BRACE || depth > 8 || tick(ps, len)) {
		ps->out->truncated |= SH_TR_LIMIT;
		return;
	}
	/* Find the first unquoted '{' (not "${") whose match has a top-level ',' or '..'. */
	for (; i < len; i++) {
		char c = w[i];

		if (c == '\\') {
			i++;
		} else if (c == '\'') {
			i = skip_sq(w, len, i + 1);
		} else if (c == '"') {
			i = skip_dq(w, len, i + 1);
		} else if (c == '`') {
			i = skip_bt(w, len, i + 1);
		} else if (c == '$' && i + 1 < len && (w[i + 1] == '{' || w[i + 1] == '(')) {
			i = w[i + 1] == '{' ? skip_brace(w, len, i + 2) : skip_paren(w, len, i + 2);
		} else if (c == '$' && i + 1 < len && w[i + 1] == '\'') {
			i = skip_ansic(w, len, i + 2);
		} else if (c == '{') {
			int d = 0, comma = 0;
			size_t j, close = SIZE_MAX;

			for (j = i + 1; j < len; j++) {
				if (w[j] == '\\') {
					j++;
				} else if (w[j] == '\'') {
					j = skip_sq(w, len, j + 1);
				} else if (w[j] == '"') {
					j = skip_dq(w, len, j + 1);
				} else if (w[j] == '$' && j + 1 < len && w[j + 1] == '{') {
					j = skip_brace(w, len, j + 2);
				} else if (w[j] == '{') {
					d++;
				} else if (w[j] == '}') {
					if (d-- == 0) {
						close = j;
						break;
					}
				} else if (w[j] == ',' && d == 0) {
					comma = 1;
				}
			}
			if (close == SIZE_MAX)
				break;
			if (comma || (memmem(w + i + 1, close - i - 1, "..", 2) != NULL)) {
				open = i;
				i = close;
				break;
			}
		}
	}
	if (open == SIZE_MAX) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		(*out)[(*n)++] = xstrndup(w, len);
		return;
	}
	{
		size_t close = i, start = open + 1;
		int d = 0, comma = 0;
		struct shbuf b = {0};

		for (size_t j = open + 1; j < close; j++)
			if (w[j] == ',' && !d)
				comma = 1;
			else if (w[j] == '{')
				d++;
			else if (w[j] == '}')
				d--;
		if (!comma) {
			/* {a..e} or {1..5}[..step] */
			const char *body = w + open + 1,
				   *dots = memmem(body, close - open - 1, "..", 2);
			char lo[32], hi[32];
			size_t l1 = (size_t)(dots - body), l2 = close - open - 1 - l1 - 2;

			if (l1 == 0 || l2 == 0 || l1 >= sizeof(lo) || l2 >= sizeof(hi)) {
				*out = xreallocarray(*out, *n + 1, sizeof(**out));
				(*out)[(*n)++] = xstrndup(w, len);
				return;
			}
			memcpy(lo, body, l1);
			lo[l1] = '\0';
			memcpy(hi, dots + 2, l2);
			hi[l2] = '\0';
			if (l1 == 1 && l2 == 1 && isalpha((unsigned char)lo[0]) &&
			    isalpha((unsigned char)hi[0])) {
				int step = lo[0] <= hi[0] ? 1 : -1;

				for (int ch = lo[0];; ch += step) {
					b.n = 0;
					shb_putn(&b, w, open);
					shb_putc(&b, (char)ch);
					shb_putn(&b, w + close + 1, len - close - 1);
					brace_expand(ps, b.p, b.n, out, n, depth + 1);
					if (ch == hi[0] || *n >= SH_MAX_BRACE)
						break;
				}
			} else {
				char *e1, *e2;
				long a = strtol(lo, &e1, 10), z = strtol(hi, &e2, 10);

				if (*e1 || *e2 || labs(a) > 100000 || labs(z) > 100000) {
					*out = xreallocarray(*out, *n + 1, sizeof(**out));
					(*out)[(*n)++] = xstrndup(w, len);
					free(b.p);
					return;
				}
				for (long v = a;; v += a <= z ? 1 : -1) {
					char num[24];

					snprintf(num, sizeof(num), "%ld", v);
					b.n = 0;
					shb_putn(&b, w, open);
					shb_puts(&b, num);
					shb_putn(&b, w + close + 1, len - close - 1);
					brace_expand(ps, b.p, b.n, out, n, depth + 1);
					if (v == z || *n >= SH_MAX_BRACE)
						break;
				}
			}
			free(b.p);
			return;
		}
		d = 0;
		for (size_t j = open + 1; j <= close && *n < SH_MAX_BRACE; j++) {
			if (j < close && w[j] == '\\') {
				j++;
				continue;
			}
			if (j < close && w[j] == '\'') {
				j = skip_sq(w, close, j + 1);
				continue;
			}
			if (j < close && w[j] == '"') {
				j = skip_dq(w, close, j + 1);
				continue;
			}
			if (j < close && w[j] == '$' && j + 1 < close && w[j + 1] == '{') {
				j = skip_brace(w, close, j + 2);
				continue;
			}
			if (j < close && w[j] == '{')
				d++;
			else if (j < close && w[j] == '}')
				d--;
			else if (j == close || (w[j] == ',' && d == 0)) {
				b.n = 0;
				shb_putn(&b, w, open);
				shb_putn(&b, w + start, j - start);
				shb_putn(&b, w + close + 1, len - close - 1);
				brace_expand(ps, b.p ? b.p : "", b.n, out, n, depth + 1);
				start = j + 1;
			}
		}
		free(b.p);
	}
}

/* ---- commands ---- */

static void cmdb_add(struct pstate *ps, struct cmdb *b, char *w, unsigned char fl)
{
	if (b->argc >= SH_MAX_WORDS) {
		ps->out->truncated |= SH_TR_LIMIT;
		free(w);
		return;
	}
	if (b->argc + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->argv = xreallocarray(b->argv, b->cap, sizeof(*b->argv));
		b->wf = xreallocarray(b->wf, b->cap, 1);
	}
	b->wf[b->argc] = fl;
	b->argv[b->argc++] = w;
	b->argv[b->argc] = NULL;
}

static int new_cmd(struct pstate *ps, const struct frame *fr, int list)
{
	struct sh_cmd *c;

	if (ps->out->ncmd >= SH_MAX_CMDS) {
		ps->stop = 1;
		ps->out->truncated |= SH_TR_UNSEEN;
		return -1;
	}
	if (ps->out->ncmd == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 16;
		ps->out->cmd = xreallocarray(ps->out->cmd, ps->cap, sizeof(*ps->out->cmd));
	}
	c = &ps->out->cmd[ps->out->ncmd];
	memset(c, 0, sizeof(*c));
	c->ctx = fr->ctx;
	c->depth = fr->depth;
	c->parent = fr->parent;
	c->list = list;
	c->pipe_prev = c->pipe_next = -1;
	c->procsub_first = -1;
	return (int)ps->out->ncmd++;
}

/* Expand one raw word and add its fields to b. */
static void add_word(struct pstate *ps, const struct frame *fr, int k, struct cmdb *b,
		     const char *w, size_t len)
{
	char **alts = NULL;
	size_t nalt = 0;
	int cmdpos = b->argc == 0 && !b->words_only;

	brace_expand(ps, w, len, &alts, &nalt, 0);
	if (nalt > 1 && cmdpos)
		b->obf |= SH_OB_BRACE_CMD;
	for (size_t a = 0; a < nalt; a++) {
		struct fieldb fb = {.ps = ps, .fr = fr, .cmdpos = cmdpos && a == 0, .cmd = k};
		expand_into(&fb, alts[a], strlen(alts[a]), 0);
		fb_emit(&fb);
		if (fb.npos_used && cmdpos)
			fb.obf |= SH_OB_POSITIONAL;
		if (cmdpos && a == 0 && fb.n && (fb.ff[0] & SH_W_EXPANDED) &&
		    sh_known_command(sh_basename(fb.f[0])))
			fb.obf |= SH_OB_VAR_CMD;
		b->obf |= fb.obf;
		for (size_t j = 0; j < fb.n; j++)
			cmdb_add(ps, b, fb.f[j], fb.ff[j]);
		free(fb.f);
		free(fb.ff);
		free(alts[a]);
	}
	free(alts);
}

/* A globbed command name: what it matches among common binaries (all, sorted). */
static void glob_command(struct pstate *ps, struct cmdb *b)
{
	char **m = NULL, dirpat[256];
	size_t nm = 0, nd = sizeof(bin_dirs) / sizeof(bin_dirs[0]);
	const char *pat, *base, *slash;

	if (!b->argc || !(b->wf[0] & SH_W_GLOB))
		return;
	pat = b->argv[0];
	/* Split "DIR/NAME": match the directory once, then names only in the dirs that fit. */
	slash = strrchr(pat, '/');
	base = slash ? slash + 1 : pat;
	if (slash && (size_t)(slash - pat) + 2 > sizeof(dirpat))
		return;
	if (slash) {
		memcpy(dirpat, pat, (size_t)(slash - pat) + 1);
		dirpat[slash - pat + 1] = '\0';
	}
	for (size_t d = 0; d < nd + 1; d++) {
		if (slash ? d == nd || fnmatch(dirpat, bin_dirs[d], FNM_PATHNAME) != 0 : d != nd)
			continue;
		for (size_t k = 0; k < NKNOWN; k++) {
			char path[96];

			/* a literal first character rules most names out cheaply */
			if (!strchr("*?[\\", base[0]) && base[0] != known_cmds[k][0])
				continue;
			if (fnmatch(base, known_cmds[k], 0) != 0)
				continue;
			snprintf(path, sizeof(path), "%s%s", slash ? bin_dirs[d] : "",
				 known_cmds[k]);
			m = xreallocarray(m, nm + 1, sizeof(*m));
			m[nm++] = xstrdup(path);
		}
	}
	tick(ps, NKNOWN);
	if (!nm)
		return;
	qsort(m, nm, sizeof(*m), cmp_str);
	b->obf |= SH_OB_GLOB_CMD;
	/* The shell replaces the word by every match, in order. */
	free(b->argv[0]);
	b->argv[0] = m[0];
	b->wf[0] &= (unsigned char)~SH_W_GLOB;
	for (size_t j = 1; j < nm; j++) {
		if (b->argc >= SH_MAX_WORDS) {
			free(m[j]);
			continue;
		}
		cmdb_add(ps, b, m[j], 0);
		/* move it right after argv[0] */
		memmove(&b->argv[j + 1], &b->argv[j], (b->argc - 1 - j) * sizeof(*b->argv));
		memmove(&b->wf[j + 1], &b->wf[j], b->argc - 1 - j);
		b->argv[j] = m[j];
		b->wf[j] = 0;
	}
	free(m);
}

size_t sh_cmd_start(const struct sh_cmd *c)
{
	static const char *const wrappers[] = {
	    "sudo",	"doas",	      "env",	 "nohup",   "nice",	"timeout",
	    "time",	"command",    "builtin", "exec",    "stdbuf",	"setsid",
	    "ionice",	"chroot",     "xargs",	 "busybox", "torsocks", "proxychains",
	    "unbuffer", "caffeinate", "chrt",	 "taskset", "watch"};
	size_t i = 0;

	while (i < c->argc) {
		const char *n = sh_basename(c->argv[i]);
		size_t w, nw = sizeof(wrappers) / sizeof(wrappers[0]);

		for (w = 0; w < nw; w++)
			if (strcmp(n, wrappers[w]) == 0)
				break;
		if (w == nw)
			return i;
		i++;
		/* Skip the wrapper's options and arguments. */
		if (strcmp(n, "chroot") == 0 && i < c->argc) {
			i++;
			continue;
		}
		while (i < c->argc) {
			const char *a = c->argv[i];

			if (strcmp(n, "env") == 0 && strchr(a, '=') && a[0] != '-') {
				i++;
				continue;
			}
			if ((strcmp(n, "timeout") == 0 || strcmp(n, "taskset") == 0) &&
			    isdigit((unsigned char)a[0])) {
				i++;
				continue;
			}
			if (a[0] != '-')
				break;
			if (strcmp(a, "--") == 0) {
				i++;
				break;
			}
			/* Options that take a value. */
			if ((strcmp(n, "sudo") == 0 &&
			     (!strcmp(a, "-u") || !strcmp(a, "-g") || !strcmp(a, "-C") ||
			      !strcmp(a, "-D") || !strcmp(a, "-h") || !strcmp(a, "-p"))) ||
			    (strcmp(n, "nice") == 0 && !strcmp(a, "-n")) ||
			    (strcmp(n, "env") == 0 && (!strcmp(a, "-u") || !strcmp(a, "-C"))) ||
			    (strcmp(n, "exec") == 0 && !strcmp(a, "-a")) ||
			    (strcmp(n, "timeout") == 0 && (!strcmp(a, "-s") || !strcmp(a, "-k"))) ||
			    (strcmp(n, "xargs") == 0 &&
			     (!strcmp(a, "-I") || !strcmp(a, "-n") || !strcmp(a, "-P") ||
			      !strcmp(a, "-d") || !strcmp(a, "-L") || !strcmp(a, "-s"))) ||
			    (strcmp(n, "watch") == 0 && !strcmp(a, "-n")))
				i++;
			i++;
		}
	}
	return i;
}

/* Does the option cluster at argv[i] ask a shell to run a string (-c, -lc, -xc...)? */
static int shell_c_opt(const char *a)
{
	return a[0] == '-' && a[1] != '-' && strchr(a + 1, 'c') != NULL;
}

static struct vfile *vfile_get(struct pstate *ps, const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (size_t i = 0; i < ps->nvf; i++)
		if (strcmp(ps->vf[i].name, name) == 0)
			return &ps->vf[i];
	return NULL;
}

static void vfile_put(struct pstate *ps, const char *name, const char *text, int append,
		      int decoded)
{
	struct vfile *f = vfile_get(ps, name);
	struct shbuf b = {0};

	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (!f) {
		if (ps->nvf >= sizeof(ps->vf) / sizeof(ps->vf[0]))
			return;
		f = &ps->vf[ps->nvf++];
		f->name = xstrdup(name);
		f->text = NULL;
	}
	if (append && f->text)
		shb_puts(&b, f->text);
	shb_puts(&b, text);
	free(f->text);
	f->text = shb_take(&b);
	f->decoded |= decoded;
}

static const char *vfile_text(void *ctx, const char *name)
{
	const struct vfile *f = vfile_get(ctx, name);

	return f ? f->text : NULL;
}

/* ---- what a finished command does to the parse ---- */

/* A shell that reads its program from stdin (no -c, no script operand). */
static int shell_reads_stdin(const struct sh_cmd *c, size_t a)
{
	if (a >= c->argc || !is_shell_name(sh_basename(c->argv[a])))
		return 0;
	for (size_t i = a + 1; i < c->argc; i++) {
		const char *o = c->argv[i];

		if (shell_c_opt(o))
			return 0;
		if (!strcmp(o, "-") || !strcmp(o, "/dev/stdin") || !strcmp(o, "-s"))
			return 1;
		if (o[0] == '-' || o[0] == '+') {
			if (!strcmp(o, "-o") || !strcmp(o, "+o"))
				i++;
			continue;
		}
		return 0; /* a script file */
	}
	return 1;
}

static void run_semantics(struct pstate *ps, const struct frame *fr, int k, struct cmdb *b)
{
	struct sh_cmd *c = &ps->out->cmd[k];
	size_t a = sh_cmd_start(c);
	const char *n;

	if (a >= c->argc)
		return;
	n = sh_basename(c->argv[a]);
	if (strchr(c->argv[a], '/') && vfile_get(ps, c->argv[a])) {
		/* ./x.sh after x.sh was written with text we know */
		const struct vfile *f = vfile_get(ps, c->argv[a]);
		char *t = xstrdup(f->text);

		ps->out->cmd[k].obf |= SH_OB_DECODED;
		ps->out->cmd[k].decoded_input = f->decoded;
		parse_text(ps, fr, t, strlen(t), SH_CTX_DECODED, k, NULL, 0);
		free(t);
		return;
	}
	if (!strcmp(n, "eval")) {
		struct shbuf t = {0};
		int exp = 0;

		for (size_t i = a + 1; i < c->argc; i++) {
			if (i > a + 1)
				shb_putc(&t, ' ');
			shb_puts(&t, c->argv[i]);
			exp |= c->wflags[i] & SH_W_EXPANDED;
		}
		if (exp && t.n)
			ps->out->cmd[k].obf |= SH_OB_EVAL;
		if (c->argc > a + 1 && (c->wflags[a + 1] & SH_W_CMDSUB) && t.n)
			ps->out->cmd[k].obf |= SH_OB_DECODED;
		parse_text(ps, fr, t.p ? t.p : "", t.n, SH_CTX_EVAL, k, fr->pos, fr->npos);
		free(t.p);
		return;
	}
	if (is_shell_name(n) || !strcmp(n, "su") || !strcmp(n, "runuser")) {
		for (size_t i = a + 1; i < c->argc; i++) {
			if (shell_c_opt(c->argv[i]) || !strcmp(c->argv[i], "--command")) {
				char **pos = NULL;
				size_t np = 0;
				char *text;

				if (i + 1 >= c->argc)
					return;
				if ((c->wflags[i + 1] & SH_W_CMDSUB) && c->argv[i + 1][0])
					ps->out->cmd[k].obf |= SH_OB_DECODED;
				if (i + 2 < c->argc) {
					pos = &c->argv[i + 2];
					np = c->argc - i - 2;
				}
				/* c may move while the nested text is parsed: copy what we need. */
				text = xstrdup(c->argv[i + 1]);
				{
					char **pcopy = NULL;

					if (np) {
						pcopy = xcalloc(np, sizeof(*pcopy));
						for (size_t j = 0; j < np; j++)
							pcopy[j] = xstrdup(pos[j]);
					}
					parse_text(ps, fr, text, strlen(text), SH_CTX_SHELL_C, k,
						   pcopy, np);
					for (size_t j = 0; j < np; j++)
						free(pcopy[j]);
					free(pcopy);
				}
				free(text);
				return;
			}
		}
		if (!is_shell_name(n))
			return;
		/* bash <(...) or bash script-we-saw-written */
		for (size_t i = a + 1; i < c->argc; i++) {
			const struct vfile *f;

			if (c->argv[i][0] == '-')
				continue;
			if ((c->wflags[i] & SH_W_PROCSUB) && b->ps_out) {
				ps->out->cmd[k].obf |= SH_OB_DECODED;
				parse_text(ps, fr, b->ps_out, strlen(b->ps_out), SH_CTX_DECODED, k,
					   NULL, 0);
			} else if ((f = vfile_get(ps, c->argv[i])) != NULL) {
				char *t = xstrdup(f->text);

				ps->out->cmd[k].obf |= SH_OB_DECODED;
				ps->out->cmd[k].decoded_input = f->decoded;
				parse_text(ps, fr, t, strlen(t), SH_CTX_DECODED, k, NULL, 0);
				free(t);
			}
			break;
		}
		return;
	}
	if (!strcmp(n, "source") || !strcmp(n, ".")) {
		if (a + 1 < c->argc && (c->wflags[a + 1] & SH_W_PROCSUB) && b->ps_out) {
			ps->out->cmd[k].obf |= SH_OB_DECODED;
			parse_text(ps, fr, b->ps_out, strlen(b->ps_out), SH_CTX_DECODED, k, NULL,
				   0);
		} else if (a + 1 < c->argc && vfile_get(ps, c->argv[a + 1])) {
			char *t = xstrdup(vfile_get(ps, c->argv[a + 1])->text);

			ps->out->cmd[k].obf |= SH_OB_DECODED;
			ps->out->cmd[k].decoded_input = vfile_get(ps, c->argv[a + 1])->decoded;
			parse_text(ps, fr, t, strlen(t), SH_CTX_DECODED, k, NULL, 0);
			free(t);
		}
		return;
	}
	if (!strcmp(n, "export") || !strcmp(n, "declare") || !strcmp(n, "typeset") ||
	    !strcmp(n, "local") || !strcmp(n, "readonly")) {
		for (size_t i = a + 1; i < c->argc; i++) {
			const char *eq = strchr(c->argv[i], '=');

			if (eq && valid_name(c->argv[i], (size_t)(eq - c->argv[i]))) {
				if (eq - c->argv[i] == 3 && !strncmp(c->argv[i], "IFS", 3) &&
				    eq[1 + strspn(eq + 1, " \t\n")])
					ps->out->cmd[k].obf |= SH_OB_IFS;
				var_set(ps, c->argv[i], (size_t)(eq - c->argv[i]), eq + 1);
			}
		}
		return;
	}
	if (!strcmp(n, "unset")) {
		for (size_t i = a + 1; i < c->argc; i++)
			if (valid_name(c->argv[i], strlen(c->argv[i])))
				var_set(ps, c->argv[i], strlen(c->argv[i]), NULL);
		return;
	}
	if (!strcmp(n, "printf") && a + 2 < c->argc && !strcmp(c->argv[a + 1], "-v") &&
	    valid_name(c->argv[a + 2], strlen(c->argv[a + 2]))) {
		/* printf -v VAR FMT ARGS: the output goes into VAR. Emulate "printf FMT ARGS"
		 * by letting "printf" stand where VAR is for the moment. */
		struct sh_cmd tmp = *c;
		int num = 0;
		char *o, *save = c->argv[a + 2], *pf = xstrdup("printf");
		size_t ol = SIZE_MAX;

		c->argv[a + 2] = pf;
		tmp.argv = &c->argv[a + 2];
		tmp.argc = c->argc - a - 2;
		o = sh_emulate(&tmp, NULL, 0, &ol, &num, vfile_text, ps);
		c->argv[a + 2] = save;
		free(pf);
		if (o) {
			var_set(ps, c->argv[a + 2], strlen(c->argv[a + 2]), o);
			if (num)
				ps->out->cmd[k].obf |= SH_OB_DECODED;
			free(o);
		}
		return;
	}
}

/* At the end of a pipeline: data flow, shells fed computed text, written files. */
static void pipeline_end(struct pstate *ps, const struct frame *fr, int last)
{
	int first = last, j, dec = 0;
	char *in = NULL;
	size_t inlen = SIZE_MAX, ol;

	while (ps->out->cmd[first].pipe_prev >= 0)
		first = ps->out->cmd[first].pipe_prev;
	for (j = first; j >= 0 && !ps->stop; j = ps->out->cmd[j].pipe_next) {
		struct sh_cmd *c = &ps->out->cmd[j];
		int num = 0;
		char *o;
		size_t a;

		for (size_t r = 0; r < c->nredir; r++) {
			const char *op = c->redir[r].op;

			inlen = SIZE_MAX;
			if (!strcmp(op, "<<<")) {
				free(in);
				xasprintf(&in, "%s\n", c->redir[r].text);
			} else if (!strcmp(op, "<<")) {
				free(in);
				in = xstrdup(c->redir[r].text);
			} else if (!strcmp(op, "<") && c->redir[r].procsub >= 0) {
				free(in);
				in = xstrdup(c->redir[r].text);
			} else if (!strcmp(op, "<")) {
				const struct vfile *f = vfile_get(ps, c->redir[r].text);

				free(in);
				in = f ? xstrdup(f->text) : NULL;
				dec |= f && f->decoded;
			}
		}
		if (in && !c->input)
			c->input = xstrdup(in);
		if (in && c->argc && !strcmp(sh_basename(c->argv[0]), "xargs") &&
		    !sh_has_opt(c, 1, "I", NULL) && !sh_has_opt(c, 1, "i", "--replace")) {
			/* xargs CMD: the words it reads become arguments */
			struct cmdb xb = {
			    .argv = c->argv, .wf = c->wflags, .argc = c->argc, .cap = c->argc + 1};
			char *save = xstrdup(in), *tok, *sp = NULL;

			for (tok = strtok_r(save, " \t\n", &sp); tok;
			     tok = strtok_r(NULL, " \t\n", &sp))
				cmdb_add(ps, &xb, xstrdup(tok), 0);
			free(save);
			c = &ps->out->cmd[j];
			c->argv = xb.argv;
			c->wflags = xb.wf;
			c->argc = xb.argc;
		}
		a = sh_cmd_start(c);
		if (in && shell_reads_stdin(c, a)) {
			char *t = xstrdup(in);

			c->obf |= SH_OB_DECODED;
			c->runs_stdin = 1;
			c->decoded_input = dec;
			parse_text(ps, fr, t, strlen(t), SH_CTX_DECODED, j, NULL, 0);
			free(t);
			c = &ps->out->cmd[j];
		} else if (a < c->argc && shell_reads_stdin(c, a)) {
			c->runs_stdin = 1;
		} else if (a < c->argc &&
			   (!strcmp(sh_basename(c->argv[a]), "source") ||
			    !strcmp(sh_basename(c->argv[a]), ".")) &&
			   a + 1 < c->argc && !strcmp(c->argv[a + 1], "/dev/stdin")) {
			c->runs_stdin = 1;
			if (in) {
				char *t = xstrdup(in);

				c->obf |= SH_OB_DECODED;
				c->decoded_input = dec;
				parse_text(ps, fr, t, strlen(t), SH_CTX_DECODED, j, NULL, 0);
				free(t);
				c = &ps->out->cmd[j];
			}
		}
		ol = SIZE_MAX;
		o = sh_emulate(c, in, in ? (inlen != SIZE_MAX ? inlen : strlen(in)) : 0, &ol, &num,
			       vfile_text, ps);
		if (o && ps->outbytes + strlen(o) > SH_MAX_OUTBYTES) {
			free(o);
			o = NULL;
			ps->out->truncated |= SH_TR_LIMIT;
		}
		if (o)
			ps->outbytes += strlen(o);
		c = &ps->out->cmd[j];
		free(c->output);
		c->output = o ? xstrdup(o) : NULL;
		c->decoder = num;
		dec |= num;
		if (o) {
			/* > file with text we know: a later "sh file" runs it. */
			for (size_t r = 0; r < c->nredir; r++) {
				const char *op = c->redir[r].op;

				if ((c->redir[r].fd == -1 || c->redir[r].fd == 1) &&
				    (!strcmp(op, ">") || !strcmp(op, ">>") || !strcmp(op, ">|")) &&
				    strncmp(c->redir[r].text, "/dev/", 5) != 0)
					vfile_put(ps, c->redir[r].text, o, !strcmp(op, ">>"), dec);
			}
			if (a < c->argc && !strcmp(sh_basename(c->argv[a]), "tee"))
				for (size_t i = a + 1; i < c->argc; i++)
					if (c->argv[i][0] != '-')
						vfile_put(ps, c->argv[i], o,
							  sh_has_opt(c, a + 1, "a", NULL), dec);
		}
		free(in);
		in = o;
		inlen = ol; /* SIZE_MAX: a text, measure it */
	}
	free(in);
}

static void finalize(struct pstate *ps, const struct frame *fr, int k, struct cmdb *b,
		     enum sh_sep sep, int *prev)
{
	struct sh_cmd *c;

	glob_command(ps, b);
	for (size_t h = ps->hd_base; h < ps->nhd; h++)
		if (ps->hd[h].cmd < 0)
			ps->hd[h].cmd = k; /* its body comes after the line: "cat <<EOF | sh" */
	c = &ps->out->cmd[k];
	c->argv = b->argv ? b->argv : xcalloc(1, sizeof(char *));
	c->wflags = b->wf ? b->wf : xcalloc(1, 1);
	c->argc = b->argc;
	c->redir = b->redir;
	c->nredir = b->nredir;
	c->assign = b->assign;
	c->nassign = b->nassign;
	c->sep = sep;
	c->obf = b->obf;
	c->funcdef = b->funcdef;
	c->func = fr->func ? xstrdup(fr->func) : NULL;
	c->procsub_first = b->ps_first;
	if (*prev >= 0 && ps->out->cmd[*prev].sep == SH_SEP_PIPE) {
		ps->out->cmd[*prev].pipe_next = k;
		c->pipe_prev = *prev;
	}
	*prev = k;
	run_semantics(ps, fr, k, b);
	free(b->ps_out);
	memset(b, 0, sizeof(*b));
	if (ps->out->cmd[k].sep != SH_SEP_PIPE)
		pipeline_end(ps, fr, k);
}

static void add_redir(struct pstate *ps, struct cmdb *b, int fd, const char *op, char *text,
		      int procsub)
{
	struct sh_redir *r;

	if (b->nredir >= 32) {
		ps->out->truncated |= SH_TR_LIMIT;
		free(text);
		return;
	}
	b->redir = xreallocarray(b->redir, b->nredir + 1, sizeof(*b->redir));
	r = &b->redir[b->nredir++];
	r->fd = fd;
	mg_strlcpy(r->op, op, sizeof(r->op));
	r->text = text;
	r->procsub = procsub;
}

static void skip_blanks(struct src *sr)
{
	while (sr->i < sr->len) {
		char c = sr->s[sr->i];

		if (c == ' ' || c == '\t' || c == '\r')
			sr->i++;
		else if (c == '\\' && sr->i + 1 < sr->len && sr->s[sr->i + 1] == '\n')
			sr->i += 2;
		else
			break;
	}
}

/* Read the bodies of pending here-documents, starting at sr->i (a line start). */
static void read_heredocs(struct pstate *ps, const struct frame *fr, struct src *sr, struct cmdb *b)
{
	struct heredoc pend[sizeof(ps->hd) / sizeof(ps->hd[0])];
	size_t np = ps->nhd - ps->hd_base;

	/* Expanding a body may parse nested text: take ours off the shared list first. */
	memcpy(pend, ps->hd + ps->hd_base, np * sizeof(*pend));
	ps->nhd = ps->hd_base;
	for (size_t h = 0; h < np; h++) {
		struct heredoc *hd = &pend[h];
		struct shbuf body = {0};
		char *text;
		int found = 0;

		while (sr->i < sr->len) {
			const char *ls = sr->s + sr->i, *nl = memchr(ls, '\n', sr->len - sr->i);
			size_t ll = nl ? (size_t)(nl - ls) : sr->len - sr->i;
			const char *t = ls;
			size_t tl = ll;

			sr->i += ll + (nl ? 1 : 0);
			if (hd->strip)
				while (tl && *t == '\t') {
					t++;
					tl--;
				}
			if (tl == strlen(hd->delim) && memcmp(t, hd->delim, tl) == 0) {
				found = 1;
				break;
			}
			shb_putn(&body, t, tl);
			shb_putc(&body, '\n');
		}
		if (!found)
			set_error(ps, "here-document not terminated");
		if (hd->quoted) {
			text = shb_take(&body);
		} else {
			struct fieldb fb = {.ps = ps, .fr = fr, .nosplit = 1, .cmd = hd->cmd};

			expand_into(&fb, body.p ? body.p : "", body.n, 1);
			fb.have = 1;
			fb_emit(&fb);
			text = fb.f[0];
			for (size_t j = 1; j < fb.n; j++)
				free(fb.f[j]);
			free(fb.f);
			free(fb.ff);
			free(body.p);
		}
		if (hd->cmd < 0 && b && hd->r < b->nredir) {
			free(b->redir[hd->r].text);
			b->redir[hd->r].text = text;
		} else if (hd->cmd >= 0 && hd->r < ps->out->cmd[hd->cmd].nredir) {
			struct sh_cmd *c = &ps->out->cmd[hd->cmd];

			free(c->redir[hd->r].text);
			c->redir[hd->r].text = text;
		} else {
			free(text);
		}
		free(hd->delim);
	}
}

static int is_reserved(const char *w, size_t n)
{
	static const char *const rw[] = {"if",	 "then",  "else",  "elif", "fi",   "do",
					 "done", "while", "until", "!",	   "esac", "in",
					 "{",	 "}",	  "[[",	   "]]"};

	for (size_t i = 0; i < sizeof(rw) / sizeof(rw[0]); i++)
		if (strlen(rw[i]) == n && memcmp(rw[i], w, n) == 0)
			return 1;
	return 0;
}

static int word_is(const char *w, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(w, lit, n) == 0;
}

/* Process substitution <(..) / >(..) at sr->i: its output (or NULL) and first command. */
static char *procsub(struct pstate *ps, const struct frame *fr, struct src *sr, int k, int *first)
{
	size_t e = skip_paren(sr->s, sr->len, sr->i + 2);
	char *o;

	if (e >= sr->len) {
		set_error(ps, "unterminated process substitution");
		e = sr->len;
	}
	*first = (int)ps->out->ncmd;
	o = substitute(ps, fr, k, sr->s + sr->i + 2, e - sr->i - 2, SH_CTX_PROCSUB);
	sr->i = e < sr->len ? e + 1 : sr->len;
	return o;
}

/* Read one simple command (and whatever compound syntax surrounds it). */
static void parse_simple(struct pstate *ps, const struct frame *fr, struct src *sr, int list,
			 int stop, int *prev)
{
	struct cmdb b = {.ps_first = -1};
	int k = new_cmd(ps, fr, list);
	enum sh_sep sep = SH_SEP_END;
	const char *s = sr->s;

	if (k < 0) {
		sr->i = sr->len;
		return;
	}
	for (;;) {
		size_t ws, we;
		int bad = 0;
		char c;

		skip_blanks(sr);
		if (sr->i >= sr->len || tick(ps, 1))
			break;
		c = s[sr->i];
		if (c == '#') {
			while (sr->i < sr->len && s[sr->i] != '\n')
				sr->i++;
			continue;
		}
		if (c == '\n') {
			sr->i++;
			if (ps->nhd > ps->hd_base)
				read_heredocs(ps, fr, sr, &b);
			break;
		}
		if (c == ';') {
			sr->i +=
			    (sr->i + 1 < sr->len && (s[sr->i + 1] == ';' || s[sr->i + 1] == '&'))
				? 2
				: 1;
			break;
		}
		if (c == '&' && sr->i + 1 < sr->len && s[sr->i + 1] == '&') {
			sr->i += 2;
			sep = SH_SEP_AND;
			break;
		}
		if (c == '|' && sr->i + 1 < sr->len && s[sr->i + 1] == '|') {
			sr->i += 2;
			sep = SH_SEP_OR;
			break;
		}
		if (c == '|') {
			sr->i += (sr->i + 1 < sr->len && s[sr->i + 1] == '&') ? 2 : 1;
			sep = SH_SEP_PIPE;
			break;
		}
		if (c == '&' && !(sr->i + 1 < sr->len && s[sr->i + 1] == '>')) {
			sr->i++;
			sep = SH_SEP_BG;
			break;
		}
		if (c == ')') {
			if (stop == ')')
				break;
			sr->i++;
			if (ps->in_case) {
				/* "pattern)" of a case item: drop the pattern words */
				for (size_t j = 0; j < b.argc; j++)
					free(b.argv[j]);
				b.argc = 0;
				continue;
			}
			set_error(ps, "unexpected ')'");
			break;
		}
		if (c == '(') {
			if (sr->i + 1 < sr->len && s[sr->i + 1] == '(' && b.argc == 0) {
				/* (( arithmetic )) */
				size_t e = skip_paren(s, sr->len, sr->i + 1);

				sr->i = e < sr->len ? e + 1 : sr->len;
				if (sr->i < sr->len && s[sr->i] == ')')
					sr->i++;
				continue;
			}
			if (b.argc == 0) {
				struct frame sub = *fr;

				sr->i++;
				list_parse(ps, &sub, sr, ')');
				if (sr->i < sr->len && s[sr->i] == ')')
					sr->i++;
				else
					set_error(ps, "missing ')'");
				continue;
			}
			{
				size_t j = sr->i + 1;

				while (j < sr->len && (s[j] == ' ' || s[j] == '\t'))
					j++;
				if (j < sr->len && s[j] == ')' && b.argc == 1) {
					/* name() body: a function definition */
					struct frame fn = *fr;

					sr->i = j + 1;
					b.funcdef = 1;
					fn.func = b.argv[0];
					while (sr->i < sr->len && isspace((unsigned char)s[sr->i]))
						sr->i++;
					if (sr->i < sr->len &&
					    (s[sr->i] == '{' || s[sr->i] == '(')) {
						int close = s[sr->i] == '{' ? '}' : ')';

						sr->i++;
						list_parse(ps, &fn, sr, close);
						if (sr->i < sr->len && s[sr->i] == close)
							sr->i++;
						else
							set_error(ps, "function body not closed");
					}
					continue;
				}
			}
			set_error(ps, "unexpected '('");
			sr->i++;
			break;
		}
		if ((c == '<' || c == '>') && sr->i + 1 < sr->len && s[sr->i + 1] == '(') {
			int first;
			char *o = procsub(ps, fr, sr, k, &first);

			free(b.ps_out);
			b.ps_out = o;
			b.ps_first = first;
			cmdb_add(ps, &b, xstrdup("/dev/fd/63"), SH_W_PROCSUB);
			continue;
		}
		ws = sr->i;
		we = word_end(s, sr->len, ws, &bad);
		if (bad) {
			set_error(ps, "unterminated quote or substitution");
		}
		/* fd number before a redirection: 2>file, 3<>/dev/tcp/.. */
		if (we < sr->len && (s[we] == '<' || s[we] == '>') && we > ws &&
		    strspn(s + ws, "0123456789") == we - ws && we - ws < 4)
			c = s[we];
		if (we == ws || (c == '<' || c == '>')) {
			char op[4] = {0};
			int fd = -1;
			size_t o = 0;
			char *text;

			if (we > ws && (s[we] == '<' || s[we] == '>')) {
				fd = atoi(s + ws);
				sr->i = we;
			}
			if (s[sr->i] == '&') { /* &> &>> */
				op[o++] = '&';
				sr->i++;
			}
			if (sr->i >= sr->len || (s[sr->i] != '<' && s[sr->i] != '>')) {
				set_error(ps, "unexpected character");
				sr->i++;
				continue;
			}
			op[o++] = s[sr->i++];
			while (o < 3 && sr->i < sr->len && strchr("<>&|", s[sr->i]) &&
			       !(s[sr->i] == '&' && op[0] == '<' && o == 2)) {
				if (s[sr->i] == '|' && op[0] != '>')
					break;
				op[o++] = s[sr->i++];
			}
			if (!strcmp(op, "<<") && sr->i < sr->len && s[sr->i] == '-') {
				sr->i++;
				mg_strlcpy(op, "<<-", sizeof(op));
			}
			skip_blanks(sr);
			if (sr->i + 1 < sr->len && s[sr->i] == '<' && s[sr->i + 1] == '(') {
				int first;
				char *out = procsub(ps, fr, sr, k, &first);

				add_redir(ps, &b, fd, op, out ? out : xstrdup("/dev/fd/63"),
					  out ? first : -1);
				continue;
			}
			ws = sr->i;
			we = word_end(s, sr->len, ws, &bad);
			if (we == ws) {
				set_error(ps, "redirection without a target");
				continue;
			}
			sr->i = we;
			if (!strncmp(op, "<<", 2) && strcmp(op, "<<<") != 0) {
				struct heredoc *hd;
				int quoted = memchr(s + ws, '\'', we - ws) ||
					     memchr(s + ws, '"', we - ws) ||
					     memchr(s + ws, '\\', we - ws);

				if (ps->nhd >= sizeof(ps->hd) / sizeof(ps->hd[0])) {
					ps->out->truncated |= SH_TR_LIMIT;
					continue;
				}
				hd = &ps->hd[ps->nhd++];
				hd->cmd = -1;
				hd->r = b.nredir;
				hd->strip = op[2] == '-';
				hd->quoted = quoted;
				hd->delim = expand_str(ps, fr, k, s + ws, we - ws, NULL);
				add_redir(ps, &b, fd, "<<", xstrdup(""), -1);
				continue;
			}
			text = expand_str(ps, fr, k, s + ws, we - ws, &b.obf);
			add_redir(ps, &b, fd, op, text, -1);
			continue;
		}
		sr->i = we;
		/* Assignments before the command name. */
		if (b.argc == 0) {
			const char *eq = memchr(s + ws, '=', we - ws);
			size_t nl = eq ? (size_t)(eq - s - ws) : 0;

			if (eq && nl && s[ws + nl - 1] == '+')
				nl--;
			if (eq && valid_name(s + ws, nl)) {
				char *v = expand_str(ps, fr, k, eq + 1, we - (size_t)(eq + 1 - s),
						     &b.obf);
				char *full;

				if (s[ws + nl] == '+') { /* NAME+=value appends */
					char nm[128], *cat;
					const char *ov;

					mg_strlcpy(nm, s + ws,
						   nl + 1 < sizeof(nm) ? nl + 1 : sizeof(nm));
					ov = var_get(ps, nm);
					xasprintf(&cat, "%s%s", ov ? ov : "", v);
					free(v);
					v = cat;
				}
				if (nl == 3 && !memcmp(s + ws, "IFS", 3) && v[strspn(v, " \t\n")])
					b.obf |= SH_OB_IFS; /* IFS= and IFS=$'\n' are everyday */
				var_set(ps, s + ws, nl, v);
				xasprintf(&full, "%.*s=%s", (int)nl, s + ws, v);
				free(v);
				b.assign =
				    xreallocarray(b.assign, b.nassign + 1, sizeof(*b.assign));
				b.assign[b.nassign++] = full;
				continue;
			}
			if (is_reserved(s + ws, we - ws)) {
				if (word_is(s + ws, we - ws, "esac") && ps->in_case)
					ps->in_case--;
				if (word_is(s + ws, we - ws, "}") && stop == '}') {
					sr->i = ws;
					break;
				}
				if (word_is(s + ws, we - ws, "{"))
					ps->brace++;
				else if (word_is(s + ws, we - ws, "}") && ps->brace > 0)
					ps->brace--;
				else if (word_is(s + ws, we - ws, "}"))
					set_error(ps, "unexpected '}'");
				continue;
			}
			if (word_is(s + ws, we - ws, "case")) {
				/* case WORD in: patterns end in ')' and are dropped there */
				ps->in_case++;
				skip_blanks(sr);
				sr->i = word_end(s, sr->len, sr->i, &bad);
				skip_blanks(sr);
				ws = sr->i;
				we = word_end(s, sr->len, ws, &bad);
				if (word_is(s + ws, we - ws, "in"))
					sr->i = we;
				continue;
			}
			if (word_is(s + ws, we - ws, "for") || word_is(s + ws, we - ws, "select")) {
				/* for NAME in WORDS: NAME takes the first word (enough to resolve
				 * "for c in cat; do $c ..."). */
				size_t ns, ne;
				struct cmdb items = {.words_only = 1};

				skip_blanks(sr);
				ns = sr->i;
				ne = word_end(s, sr->len, ns, &bad);
				sr->i = ne;
				skip_blanks(sr);
				ws = sr->i;
				we = word_end(s, sr->len, ws, &bad);
				if (word_is(s + ws, we - ws, "in")) {
					sr->i = we;
					for (;;) {
						skip_blanks(sr);
						if (sr->i >= sr->len || is_meta(s[sr->i]))
							break;
						ws = sr->i;
						we = word_end(s, sr->len, ws, &bad);
						sr->i = we;
						add_word(ps, fr, k, &items, s + ws, we - ws);
					}
				}
				if (valid_name(s + ns, ne - ns))
					var_set(ps, s + ns, ne - ns,
						items.argc ? items.argv[0] : "");
				for (size_t j = 0; j < items.argc; j++)
					free(items.argv[j]);
				free(items.argv);
				free(items.wf);
				b.obf |= items.obf;
				continue;
			}
			if (word_is(s + ws, we - ws, "function")) {
				skip_blanks(sr);
				ws = sr->i;
				we = word_end(s, sr->len, ws, &bad);
				sr->i = we;
				cmdb_add(ps, &b, xstrndup(s + ws, we - ws), 0);
				skip_blanks(sr);
				if (sr->i + 1 < sr->len && s[sr->i] == '(' && s[sr->i + 1] == ')')
					sr->i += 2;
				{
					struct frame fn = *fr;

					b.funcdef = 1;
					fn.func = b.argv[0];
					while (sr->i < sr->len && isspace((unsigned char)s[sr->i]))
						sr->i++;
					if (sr->i < sr->len && s[sr->i] == '{') {
						sr->i++;
						list_parse(ps, &fn, sr, '}');
						if (sr->i < sr->len && s[sr->i] == '}')
							sr->i++;
					}
				}
				continue;
			}
			if (word_is(s + ws, we - ws, "{") || word_is(s + ws, we - ws, "}"))
				continue;
		}
		add_word(ps, fr, k, &b, s + ws, we - ws);
	}
	finalize(ps, fr, k, &b, sep, prev);
}

static void list_parse(struct pstate *ps, const struct frame *fr, struct src *sr, int stop)
{
	int list = ps->nlist++, prev = -1;

	while (sr->i < sr->len && !ps->stop) {
		char c;

		skip_blanks(sr);
		if (sr->i >= sr->len)
			break;
		c = sr->s[sr->i];
		if (c == '\n' || c == ';') {
			sr->i++;
			if (c == '\n' && ps->nhd > ps->hd_base) {
				struct cmdb none = {0};

				read_heredocs(ps, fr, sr, &none);
			}
			prev = -1;
			continue;
		}
		if (stop && c == stop) {
			if (stop == '}' && sr->i + 1 < sr->len && !is_meta(sr->s[sr->i + 1])) {
				/* "}x" is a word, not the end of the group */
			} else {
				return;
			}
		}
		if (c == '#') {
			while (sr->i < sr->len && sr->s[sr->i] != '\n')
				sr->i++;
			continue;
		}
		if (stop == '}' && c == '}')
			return;
		{
			size_t before = sr->i;

			parse_simple(ps, fr, sr, list, stop, &prev);
			/* prev links the next command only when this one pipes into it */
			if (prev >= 0 && ps->out->cmd[prev].sep != SH_SEP_PIPE)
				prev = -1;
			if (sr->i == before && sr->i < sr->len) {
				/* no progress: a stray closing char */
				if (stop && sr->s[sr->i] == stop)
					return;
				set_error(ps, "unexpected character");
				sr->i++;
			}
		}
	}
	if (stop && !ps->stop)
		set_error(ps, stop == ')' ? "missing ')'" : "missing '}'");
}

static void parse_text(struct pstate *ps, const struct frame *fr, const char *s, size_t len,
		       enum sh_ctx ctx, int parent, char **pos, size_t npos)
{
	struct frame sub;
	struct src sr = {s, len, 0};
	size_t saved;

	if (fr && fr->depth + 1 >= SH_MAX_DEPTH) {
		ps->out->truncated |= SH_TR_UNSEEN;
		ps->nlist++; /* keep list ids in step with substitute() */
		return;
	}
	if (len > SH_MAX_INPUT) {
		sr.len = SH_MAX_INPUT;
		ps->out->truncated |= SH_TR_UNSEEN;
	}
	memset(&sub, 0, sizeof(sub));
	sub.depth = fr ? fr->depth + 1 : 0;
	sub.ctx = ctx;
	sub.parent = parent;
	sub.func = fr ? fr->func : NULL;
	sub.pos = pos;
	sub.npos = npos;
	saved = ps->hd_base;
	ps->hd_base = ps->nhd;
	list_parse(ps, &sub, &sr, 0);
	if (ps->nhd > ps->hd_base) {
		for (size_t h = ps->hd_base; h < ps->nhd; h++)
			free(ps->hd[h].delim);
		ps->nhd = ps->hd_base;
		set_error(ps, "here-document not terminated");
	}
	ps->hd_base = saved;
}

void sh_parse(const char *src, size_t len, const struct sh_env *env, struct sh_parse *out)
{
	struct pstate ps;

	memset(out, 0, sizeof(*out));
	memset(&ps, 0, sizeof(ps));
	ps.base = env;
	ps.out = out;
	parse_text(&ps, NULL, src, len, SH_CTX_TOP, -1, NULL, 0);
	if (ps.brace > 0 && !ps.stop)
		set_error(&ps, "missing '}'");
	out->work = ps.work;
	for (size_t i = 0; i < out->ncmd; i++)
		out->obf |= out->cmd[i].obf;
	for (size_t i = 0; i < ps.nloc; i++) {
		free(ps.loc[i].name);
		free(ps.loc[i].val);
	}
	free(ps.loc);
	for (size_t i = 0; i < ps.nvf; i++) {
		free(ps.vf[i].name);
		free(ps.vf[i].text);
	}
}

void sh_parse_free(struct sh_parse *p)
{
	for (size_t i = 0; i < p->ncmd; i++) {
		struct sh_cmd *c = &p->cmd[i];

		for (size_t j = 0; j < c->argc; j++)
			free(c->argv[j]);
		free(c->argv);
		free(c->wflags);
		for (size_t j = 0; j < c->nredir; j++)
			free(c->redir[j].text);
		free(c->redir);
		for (size_t j = 0; j < c->nassign; j++)
			free(c->assign[j]);
		free(c->assign);
		free(c->func);
		free(c->input);
		free(c->output);
	}
	free(p->cmd);
	memset(p, 0, sizeof(*p));
}

/* ---- output ---- */

static void put_word(struct shbuf *b, const char *w)
{
	if (!*w) {
		shb_puts(b, "''");
		return;
	}
	if (strpbrk(w, " \t\n;&|<>()'\"")) {
		shb_putc(b, '\'');
		for (; *w; w++) {
			if (*w == '\'')
				shb_puts(b, "'\\''");
			else if (*w == '\n')
				shb_puts(b, "\\n");
			else
				shb_putc(b, *w);
		}
		shb_putc(b, '\'');
		return;
	}
	shb_puts(b, w);
}

size_t sh_render(const struct sh_parse *p, size_t first, size_t last, char *buf, size_t buflen)
{
	return sh_render_sel(p, first, last, NULL, buf, buflen);
}

size_t sh_render_sel(const struct sh_parse *p, size_t first, size_t last, const unsigned char *sel,
		     char *buf, size_t buflen)
{
	struct shbuf b = {0};
	size_t n;

	for (size_t i = first; i < last && i < p->ncmd; i++) {
		const struct sh_cmd *c = &p->cmd[i];
		int any = 0;

		if (sel && !sel[i])
			continue;
		if (!c->argc && !c->nredir && !c->nassign)
			continue;
		if (b.n)
			shb_putc(&b, ' ');
		for (size_t j = 0; j < c->nassign; j++) {
			if (any++)
				shb_putc(&b, ' ');
			shb_puts(&b, c->assign[j]);
		}
		for (size_t j = 0; j < c->argc; j++) {
			if (any++)
				shb_putc(&b, ' ');
			put_word(&b, c->argv[j]);
		}
		for (size_t j = 0; j < c->nredir; j++) {
			if (any++)
				shb_putc(&b, ' ');
			if (c->redir[j].fd >= 0) {
				char fd[16];

				snprintf(fd, sizeof(fd), "%d", c->redir[j].fd);
				shb_puts(&b, fd);
			}
			shb_puts(&b, c->redir[j].op);
			if (!strcmp(c->redir[j].op, "<<"))
				shb_puts(&b, "EOF");
			else
				put_word(&b, c->redir[j].text);
		}
		switch (c->sep) {
		case SH_SEP_PIPE:
			shb_puts(&b, " |");
			break;
		case SH_SEP_AND:
			shb_puts(&b, " &&");
			break;
		case SH_SEP_OR:
			shb_puts(&b, " ||");
			break;
		case SH_SEP_BG:
			shb_puts(&b, " &");
			break;
		default:
			if (i + 1 < last && i + 1 < p->ncmd)
				shb_putc(&b, ';');
		}
	}
	n = b.n;
	/* no dangling separator after the last command shown */
	while (n &&
	       (b.p[n - 1] == ';' || b.p[n - 1] == '|' || b.p[n - 1] == '&' || b.p[n - 1] == ' '))
		b.p[--n] = '\0';
	if (buflen) {
		mg_strlcpy(buf, b.p ? b.p : "", buflen);
	}
	free(b.p);
	return n;
}

void sh_obf_names(unsigned obf, char *buf, size_t buflen)
{
	static const char *const names[] = {
	    "empty-quotes", "quote-split", "escaped-letters", "ansi-c-escapes", "empty-expansion",
	    "var-operator", "var-command", "brace-command",   "glob-command",	"ifs",
	    "decoded-run",  "eval",	   "cmdsub-command",  "positional"};
	size_t o = 0;

	if (buflen)
		buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(obf & (1u << i)))
			continue;
		w = snprintf(buf + o, buflen - o, "%s%s", o ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= buflen - o)
			return;
		o += (size_t)w;
	}
}
