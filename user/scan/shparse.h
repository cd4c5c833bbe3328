/*
 * A static shell-word parser and expander. It reads a command line the way
 * bash would (quoting, escapes, $'..', parameter expansion with operators,
 * brace expansion, command and process substitution, IFS, eval, sh -c,
 * here-strings, here-documents, pipelines) and emulates the handful of commands
 * attackers use to build text (echo, printf, base64 -d, xxd -r -p, rev, tr,
 * gunzip...; see shemu.h) so that what a command line would really run is visible. Nothing
 * is ever executed and every dimension is bounded.
 */
#ifndef MG_SHPARSE_H
#define MG_SHPARSE_H

#include <stddef.h>

#define SH_MAX_INPUT 262144 /* longer input is cut and the parse marked truncated */
#define SH_MAX_TEXT 65536   /* any one expanded or decoded text */
#define SH_MAX_DEPTH 8	    /* nested $(..), eval, sh -c, decoded payloads */
#define SH_MAX_CMDS 1024    /* simple commands per parse, all depths */
#define SH_MAX_WORDS 256    /* words per command */
#define SH_MAX_BRACE 256    /* words one brace expansion may produce */

/* Techniques that make the resolved command differ from what is written. */
enum {
	SH_OB_EMPTY_QUOTE = 1u << 0, /* c''at, c""at */
	SH_OB_QUOTE_SPLIT = 1u << 1, /* c"a"t in a command name */
	SH_OB_ESCAPE = 1u << 2,	     /* c\a\t */
	SH_OB_ANSIC = 1u << 3,	     /* $'\x63\141t' */
	SH_OB_EMPTY_VAR = 1u << 4,   /* c${EMPTY}at, c$@at */
	SH_OB_VAR_OP = 1u << 5,	     /* ${PATH:0:1}, ${x/a/b}, ${!x}, ${#x} */
	SH_OB_VAR_CMD = 1u << 6,     /* command name built from expansions: $a$b */
	SH_OB_BRACE_CMD = 1u << 7,   /* {cat,/etc/passwd} */
	SH_OB_GLOB_CMD = 1u << 8,    /* /???/c?t */
	SH_OB_IFS = 1u << 9,	     /* IFS reassigned */
	SH_OB_DECODED = 1u << 10,    /* a decoded or computed payload was run */
	SH_OB_EVAL = 1u << 11,	     /* eval of expanded text */
	SH_OB_CMDSUB_CMD = 1u << 12, /* command name from $(..) or `..` */
	SH_OB_POSITIONAL = 1u << 13, /* sh -c '$0 $1' cat file */
};

/* Bounds reached. */
enum {
	SH_TR_LIMIT = 1u << 0,	/* words, text, braces, variables: the commands were all seen */
	SH_TR_UNSEEN = 1u << 1, /* input length, nesting, command count, work: some were not */
};

enum sh_sep {
	SH_SEP_END = 0, /* end of a list (also ';' and newline) */
	SH_SEP_PIPE,	/* | or |& */
	SH_SEP_AND,	/* && */
	SH_SEP_OR,	/* || */
	SH_SEP_BG,	/* & */
};

/* Why a command runs: typed by the user, or reached through an expansion. */
enum sh_ctx {
	SH_CTX_TOP = 0,
	SH_CTX_CMDSUB,	/* $(..) or `..` */
	SH_CTX_PROCSUB, /* <(..) or >(..) */
	SH_CTX_EVAL,	/* eval words */
	SH_CTX_SHELL_C, /* sh -c STRING */
	SH_CTX_DECODED, /* text computed by a pipeline and fed to a shell */
};

/* Word flags. */
enum {
	SH_W_GLOB = 1u << 0,	 /* has unquoted * ? or [ */
	SH_W_EXPANDED = 1u << 1, /* came (partly) from $var, $(..) or `..` */
	SH_W_CMDSUB = 1u << 2,	 /* came (partly) from $(..) or `..` */
	SH_W_PROCSUB = 1u << 3,	 /* a <(..) / >(..) placeholder */
};

struct sh_redir {
	int fd;	     /* explicit fd number, or -1 */
	char op[4];  /* "<" ">" ">>" ">&" "<&" "&>" "&>>" "<>" ">|" "<<<" "<<" */
	char *text;  /* target word, here-string or here-document body (resolved) */
	int procsub; /* target was <(..) or >(..): index of its first command, else -1 */
};

struct sh_cmd {
	char **argv; /* resolved words; argv[argc] == NULL */
	unsigned char *wflags;
	size_t argc;
	struct sh_redir *redir;
	size_t nredir;
	char **assign; /* NAME=value prefixes, resolved */
	size_t nassign;
	enum sh_sep sep; /* what follows this command */
	enum sh_ctx ctx;
	int depth;
	int parent;	   /* the command whose words or input ran this one, or -1 */
	char *func;	   /* inside the body of this function, or NULL */
	int funcdef;	   /* "argv[0]() { ... }" */
	unsigned obf;	   /* SH_OB_* seen while building this command */
	char *input;	   /* stdin text computed from a here-string/doc or pipe, or NULL */
	char *output;	   /* stdout, when the command only transforms text we know; or NULL */
	int runs_stdin;	   /* a shell (or source /dev/stdin) that runs its standard input */
	int decoder;	   /* this stage decodes text: base64 -d, xxd -r, printf '\x..', rev... */
	int decoded_input; /* runs text that went through a decoder (stdin or a file written) */
	int procsub_first; /* for process substitutions in words: first inner command, else -1 */
	int list;	   /* commands of one list share this id */
	int pipe_prev;	   /* neighbours in the pipeline, or -1 */
	int pipe_next;
};

struct sh_parse {
	struct sh_cmd *cmd;
	size_t ncmd;
	unsigned obf; /* union of every command's obf */
	int error;    /* syntax error (the parse continued as far as it could) */
	char errmsg[96];
	unsigned truncated; /* SH_TR_*: which kinds of bound were reached */
	unsigned long work; /* characters and tokens handled: what the parse cost */
};

struct sh_env; /* the variables a fresh shell would see */

/* Snapshot an environment (NAME=value strings); NULL envp gives an empty one. */
struct sh_env *sh_env_new(char *const *envp);
void sh_env_free(struct sh_env *e);
const char *sh_env_get(const struct sh_env *e, const char *name);

/* Parse src. Always fills out (free with sh_parse_free), even on syntax errors. */
void sh_parse(const char *src, size_t len, const struct sh_env *env, struct sh_parse *out);
void sh_parse_free(struct sh_parse *p);

/* Render commands [first, last) as one line: words, redirections, separators. */
size_t sh_render(const struct sh_parse *p, size_t first, size_t last, char *buf, size_t buflen);
/* The same for the commands i with sel[i] != 0 (sel has p->ncmd entries). */
size_t sh_render_sel(const struct sh_parse *p, size_t first, size_t last, const unsigned char *sel,
		     char *buf, size_t buflen);

/* Index of the real command word after wrappers (sudo, env, nohup, timeout...); argc if none. */
size_t sh_cmd_start(const struct sh_cmd *c);
/* Is this a command name we know (basename, e.g. "cat")? */
int sh_known_command(const char *name);
/* Basename of a command word: "/usr/bin/cat" -> "cat". */
const char *sh_basename(const char *w);
/* Names of the SH_OB_* bits set in obf, comma-separated. */
void sh_obf_names(unsigned obf, char *buf, size_t buflen);

#endif
