/*
 * Shell scanner (see shell.h). Arguments are found, parsed by shparse, and every
 * resolved command (including those reached through $(..), eval, sh -c and
 * decoded payloads) is judged by the built-in rules below and by the policy's
 * mcp_tool_policy rules. The rules look at what a command would do, not at its
 * spelling, so quoting tricks cannot hide it and quoted text that is only
 * printed ("echo 'rm -rf /'") is not mistaken for a command.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <fnmatch.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"
#include "shell.h"
#include "shparse.h"
#include "toolrules.h"
#include "xmalloc.h"

extern char **environ;

#define SHELL_MAX_HEURISTIC 8192 /* strings tried as commands only by their shape */
#define SHELL_MAX_JSON_DEPTH 32
/* What a secret-looking variable expands to: recognisable in a command, never its value. */
#define SECRET_MARK "__MCPGUARD_SECRET_"
#define SHELL_MAX_TEXTS 256	 /* candidate texts for policy rules per call */
#define SHELL_MAX_PARSES 256	 /* command lines parsed per call */
#define SHELL_MAX_WORK 8000000ul /* parser work per call (see sh_parse.work) */

/* ---- built-in rules ---- */

enum rule_id {
	R_CRED_READ,
	R_SYS_READ,
	R_EXFIL_UPLOAD,
	R_EXFIL_PIPE,
	R_EXFIL_COPY,
	R_EXFIL_DEVTCP,
	R_EXFIL_SUBST,
	R_EXFIL_CRED,
	R_SECRET_VAR,
	R_REVSHELL,
	R_RM,
	R_DISK,
	R_FORKBOMB,
	R_PERMS,
	R_POWER,
	R_DLEXEC,
	R_CRON,
	R_RC,
	R_SSHKEY,
	R_SYSPERSIST,
	R_DECODE_EXEC,
	R_EVAL_DYN,
	R_HISTORY,
	R_OBF,
	R_PARSE,
	R_LIMIT,
	R_COUNT
};

static const struct {
	const char *name;
	enum scan_conf conf;
	const char *what;
} rules[R_COUNT] = {
    [R_CRED_READ] = {"credential-read", CONF_HIGH, "reads a credential file"},
    [R_SYS_READ] = {"system-file-read", CONF_LOW, "reads an account database"},
    [R_EXFIL_UPLOAD] = {"exfil-upload", CONF_HIGH, "uploads a local file"},
    [R_EXFIL_PIPE] = {"exfil-pipe", CONF_HIGH, "sends local data to the network"},
    [R_EXFIL_COPY] = {"exfil-remote-copy", CONF_HIGH, "copies local files to a remote host"},
    [R_EXFIL_DEVTCP] = {"exfil-dev-tcp", CONF_HIGH, "writes to a /dev/tcp socket"},
    [R_EXFIL_SUBST] = {"exfil-substitution", CONF_HIGH,
		       "puts file contents into a network request"},
    [R_EXFIL_CRED] = {"exfil-credential", CONF_HIGH,
		      "reads a credential and sends to the network in one command line"},
    [R_SECRET_VAR] = {"secret-in-request", CONF_LOW,
		      "puts a secret environment variable into a network request"},
    [R_REVSHELL] = {"reverse-shell", CONF_HIGH, "connects a shell to the network"},
    [R_RM] = {"destructive-rm", CONF_HIGH, "deletes or moves away a system or home directory"},
    [R_DISK] = {"destructive-disk", CONF_HIGH, "overwrites or formats a disk"},
    [R_FORKBOMB] = {"fork-bomb", CONF_HIGH, "defines a self-replicating function"},
    [R_PERMS] = {"destructive-permissions", CONF_HIGH,
		 "changes permissions or owner of a system tree"},
    [R_POWER] = {"system-shutdown", CONF_HIGH, "shuts down, reboots or kills everything"},
    [R_DLEXEC] = {"download-exec", CONF_HIGH, "runs code fetched from the network"},
    [R_CRON] = {"persistence-cron", CONF_HIGH, "installs a scheduled job"},
    [R_RC] = {"persistence-shell-rc", CONF_HIGH, "writes a shell start-up file"},
    [R_SSHKEY] = {"persistence-ssh-key", CONF_HIGH, "writes authorized_keys"},
    [R_SYSPERSIST] = {"persistence-system", CONF_HIGH,
		      "writes a service, preload, sudoers or account file"},
    [R_DECODE_EXEC] = {"decode-exec", CONF_HIGH, "runs a decoded payload"},
    [R_EVAL_DYN] = {"eval-dynamic", CONF_LOW, "evaluates the output of a command"},
    [R_HISTORY] = {"history-tampering", CONF_LOW, "erases shell history or logs"},
    [R_OBF] = {"obfuscated-command", CONF_LOW, "obfuscated command"},
    [R_PARSE] = {"parse-error", CONF_LOW, "shell syntax error"},
    [R_LIMIT] = {"analysis-limit", CONF_HIGH,
		 "command too long, deep or large to inspect completely"},
};

_Static_assert(R_COUNT <= 32, "judge.fired is a 32-bit set");

/* Patterns on single resolved words (paths). */
enum pat_id {
	P_CRED,
	P_SYSFILE,
	P_RC,
	P_SSHKEY,
	P_CRON,
	P_SYSPERSIST,
	P_BLOCKDEV,
	P_NETCODE,
	P_EXECCODE,
	P_DECODECODE,
	P_LOGS,
	P_CRED_TEXT,
	P_SHELLSPAWN,
	P_CRED_NAME,
	P_CRED_GREP,
	P_COUNT
};

static const char *const pat_src[P_COUNT] = {
    [P_CRED] = "(?<![A-Za-z0-9_])\\.ssh/(?:id_[A-Za-z0-9_-]+|identity|[A-Za-z0-9_.-]*_key)"
	       "(?![A-Za-z0-9_.-])"
	       "|ssh_host_[a-z0-9]+_key(?![A-Za-z0-9_.-])"
	       "|(?<![A-Za-z0-9_])\\.aws/credentials"
	       "|(?:^|[/=@:])\\.env(?:\\.(?!(?:example|sample|template|dist|defaults)$)"
	       "[A-Za-z0-9_-]+)?$"
	       "|(?:^|[/=@:])\\.envrc$"
	       "|/etc/(?:g?shadow|master\\.passwd|security/opasswd)-?$"
	       "|(?<![A-Za-z0-9_])[._]netrc$|(?<![A-Za-z0-9_])\\.pgpass$|\\.my\\.cnf$"
	       "|(?<![A-Za-z0-9_])\\.kube/config"
	       "|(?<![A-Za-z0-9_])\\.config/gcloud/(?:credentials\\.db|access_tokens\\.db|"
	       "application_default_credentials\\.json|legacy_credentials)"
	       "|(?<![A-Za-z0-9_])\\.git-credentials"
	       "|(?<![A-Za-z0-9_])\\.docker/config\\.json"
	       "|(?<![A-Za-z0-9_])\\.(?:npmrc|pypirc|vault-token)$"
	       "|(?<![A-Za-z0-9_])\\.azure/(?:accessTokens\\.json|msal_token_cache)"
	       "|(?<![A-Za-z0-9_])\\.gnupg/(?:private-keys|secring)"
	       "|(?<![A-Za-z0-9_])\\.config/gh/hosts\\.yml"
	       "|(?<![A-Za-z0-9_])\\.terraform\\.d/credentials"
	       "|(?<![A-Za-z0-9_])\\.password-store/"
	       "|/proc/(?:self|[0-9]+)/environ"
	       "|/(?:var/)?run/secrets/"
	       "|(?:^|/)(?:privkey|private[_-]?key)[^/]*\\.pem$|(?:^|/)[^/]+\\.key$"
	       /* whole credential directories: tar czf - ~/.ssh */
	       "|(?<![A-Za-z0-9_])\\.(?:ssh|aws|gnupg|kube|docker|password-store)/?$"
	       "|(?<![A-Za-z0-9_])\\.config/gcloud/?$",
    [P_SYSFILE] = "^/etc/(?:passwd|group|sudoers)$",
    [P_RC] = "(?:^|/)\\.(?:bashrc|bash_profile|bash_login|bash_logout|profile|zshrc|zprofile|"
	     "zshenv|zlogin|kshrc|cshrc|tcshrc)$"
	     "|^/etc/(?:profile|bash\\.bashrc|zsh/zshrc|zshrc|environment)$|^/etc/profile\\.d/"
	     "|\\.config/fish/config\\.fish$|\\.config/autostart/|^/etc/xdg/autostart/"
	     "|^/etc/rc\\.local$",
    [P_SSHKEY] = "authorized_keys2?$",
    [P_CRON] = "^/etc/cron|^/etc/crontab$|^/etc/anacrontab$|/var/spool/cron",
    [P_SYSPERSIST] = "^/etc/systemd/|\\.config/systemd/user/|^/(?:usr/)?lib/systemd/system/"
		     "|^/etc/init\\.d/|^/etc/ld\\.so\\.preload$|^/etc/sudoers"
		     "|^/etc/(?:passwd|shadow|group)$|^/etc/update-motd\\.d/"
		     "|^/etc/pam\\.d/|\\.ssh/rc$",
    [P_BLOCKDEV] = "^/dev/(?:sd[a-z]|hd[a-z]|vd[a-z]|xvd[a-z]|nvme[0-9]|mmcblk[0-9]|md[0-9]|"
		   "dm-[0-9]|mapper/|disk/|root$|mem$|kmem$|port$)",
    [P_NETCODE] = "socket|fsockopen|stream_socket_client|TCPSocket|TCPServer|net\\.connect|"
		  "net\\.Socket|createConnection|/inet/tcp|/dev/tcp/|IO::Socket",
    [P_EXECCODE] = "subprocess|pty\\.spawn|dup2|\\bexec|\\bsystem|popen|spawn|passthru|"
		   "proc_open|shell_exec|/bin/(?:ba|z|da)?sh\\b|cmd\\.exe|child_process|"
		   "open\\(STD|io\\.popen|os\\.execute",
    [P_DECODECODE] = "b64decode|base64\\.decode|decode_base64|unhexlify|fromhex|"
		     "Buffer\\.from\\([^)]*base64|pack\\(\\s*['\"][Hh]|zlib\\.decompress|"
		     "rot13|codecs\\.decode",
    [P_LOGS] = "^/var/log/|(?:^|/)\\.(?:bash|zsh|sh)_history$|(?:^|/)\\.history$",
    /* credential paths inside inline code: python -c "open('/etc/shadow')" */
    [P_CRED_TEXT] = "/etc/g?shadow\\b|\\.ssh/id_[A-Za-z0-9_]+(?![A-Za-z0-9_.])|\\.aws/credentials"
		    "|\\.git-credentials|\\.kube/config|[._]netrc\\b|/proc/self/environ"
		    "|\\.docker/config\\.json|\\.config/gcloud/|\\.vault-token",
    /* a shell wired to a socket: what separates a reverse shell from network code */
    /* find -name patterns and grep patterns that hunt for credentials */
    [P_CRED_NAME] = "^(?:id_[a-z0-9*?]+|\\*?\\.pem|\\*?\\.key|\\.env|credentials|\\.netrc|"
		    "\\.git-credentials|\\*_rsa|\\*_ed25519|\\.pgpass|\\*\\.p12|\\*\\.pfx|"
		    "authorized_keys)$",
    [P_CRED_GREP] = "(?i)private key|aws_secret_access_key|BEGIN OPENSSH|BEGIN RSA|ghp_|xox[bp]-",
    [P_SHELLSPAWN] = "dup2|pty\\.spawn|/bin/(?:ba|z|da)?sh\\b|cmd\\.exe|\\bsh -i\\b|fileno\\(\\)",
};

/* Credential paths a glob might name: "cat /etc/sha*", "cat ~/.ssh/id_*". */
static const char *const cred_examples[] = {
    "/etc/shadow",
    "/etc/gshadow",
    "~/.ssh/id_rsa",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ecdsa",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519",
    "~/.aws/credentials",
    "/root/.aws/credentials",
    ".env",
    "~/.netrc",
    "~/.kube/config",
    "~/.git-credentials",
    "/root/.git-credentials",
    "/root/.kube/config",
    "~/.docker/config.json",
    "/proc/self/environ",
    "~/.config/gcloud/credentials.db",
};

static void cls_build(void);

static struct {
	int inited;
	int enabled; /* mcp_tool_policy.enabled */
	/* per call: what is left of the parse budget */
	int parses_left;
	unsigned long work_left;
	struct sh_env *env;
	struct toolrules *tr;
	pcre2_code *re[P_COUNT];
	pcre2_match_data *md;
	char *home;
} S;

void shell_free(void)
{
	sh_env_free(S.env);
	toolrules_free(S.tr);
	for (int i = 0; i < P_COUNT; i++)
		pcre2_code_free(S.re[i]);
	pcre2_match_data_free(S.md);
	free(S.home);
	memset(&S, 0, sizeof(S));
}

/*
 * Secret-looking variables resolve to a placeholder: commands are judged by
 * shape, never by a token's value, and resolved commands end up in logs.
 */
static int secret_name(const char *name, size_t n)
{
	static const char *const marks[] = {"SECRET",  "TOKEN",	 "PASSW",   "APIKEY",
					    "API_KEY", "_KEY",	 "PRIVATE", "CREDENTIAL",
					    "AUTH",    "COOKIE", "SESSION", NULL};
	char up[128];

	if (n >= sizeof(up))
		n = sizeof(up) - 1;
	for (size_t i = 0; i < n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	up[n] = '\0';
	if (strstr(up, "SOCK")) /* SSH_AUTH_SOCK is a socket path */
		return 0;
	for (const char *const *m = marks; *m; m++)
		if (strstr(up, *m))
			return 1;
	return 0;
}

static struct sh_env *env_snapshot(char *const *envp)
{
	size_t n = 0;
	char **copy;
	struct sh_env *e;

	while (envp && envp[n])
		n++;
	copy = xcalloc(n + 1, sizeof(*copy));
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(envp[i], '=');

		if (eq && secret_name(envp[i], (size_t)(eq - envp[i])))
			xasprintf(&copy[i], "%.*s=" SECRET_MARK "%.*s__", (int)(eq - envp[i]),
				  envp[i], (int)(eq - envp[i]), envp[i]);
		else
			copy[i] = xstrdup(envp[i]);
	}
	e = sh_env_new(copy);
	for (size_t i = 0; i < n; i++)
		free(copy[i]);
	free(copy);
	return e;
}

int shell_init_env(const struct policy *pol, char *const *envp, char *err, size_t errlen)
{
	const char *h;

	shell_free();
	for (int i = 0; i < P_COUNT; i++) {
		int ec;
		PCRE2_SIZE off;

		S.re[i] = pcre2_compile((PCRE2_SPTR)pat_src[i], PCRE2_ZERO_TERMINATED,
					PCRE2_MATCH_INVALID_UTF | PCRE2_UTF, &ec, &off, NULL);
		if (!S.re[i]) {
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "shell: built-in pattern %d: %s at %zu", i,
				 (const char *)msg, (size_t)off);
			shell_free();
			return -1;
		}
		(void)pcre2_jit_compile(S.re[i], PCRE2_JIT_COMPLETE);
	}
	S.md = pcre2_match_data_create(4, NULL);
	S.tr = toolrules_new(pol, err, errlen);
	if (!S.md || !S.tr) {
		if (!S.md)
			snprintf(err, errlen, "shell: out of memory");
		shell_free();
		return -1;
	}
	S.env = env_snapshot(envp);
	cls_build();
	h = sh_env_get(S.env, "HOME");
	S.home = h && *h ? xstrdup(h) : NULL;
	S.enabled = !pol || pol->tool_policy.enabled;
	S.inited = 1;
	return 0;
}

int shell_init(const struct policy *pol, char *err, size_t errlen)
{
	return shell_init_env(pol, environ, err, errlen);
}

static int re_hit(enum pat_id p, const char *s)
{
	return pcre2_match(S.re[p], (PCRE2_SPTR)s, strlen(s), 0, 0, S.md, NULL) >= 0;
}

/* ---- command classes ---- */

static int in_list(const char *n, const char *const *l)
{
	for (; *l; l++)
		if (strcmp(n, *l) == 0)
			return 1;
	return 0;
}

static const char *const readers[] = {
    "cat",     "tac",	  "less",     "more",	 "head",   "tail",  "nl",    "od",	 "xxd",
    "hexdump", "strings", "base64",   "base32",	 "basenc", "cp",    "mv",    "scp",	 "rsync",
    "tar",     "zip",	  "gzip",     "bzip2",	 "xz",	   "7z",    "dd",    "grep",	 "egrep",
    "fgrep",   "rg",	  "ag",	      "sed",	 "awk",	   "gawk",  "cut",   "sort",	 "uniq",
    "paste",   "vi",	  "vim",      "view",	 "nano",   "emacs", "ed",    "openssl",	 "gpg",
    "curl",    "wget",	  "python",   "python3", "perl",   "ruby",  "node",  "php",	 "jq",
    "yq",      "sqlite3", "install",  "diff",	 "cmp",	   "comm",  "iconv", "uuencode", "xclip",
    "pbcopy",  "nc",	  "ncat",     "netcat",	 "socat",  "tee",   "split", "look",	 "fold",
    "fmt",     "pr",	  "column",   "rev",	 "tr",	   "wc",    "bat",   "batcat",	 "zcat",
    "zless",   "mail",	  "sendmail", NULL};

static const char *const net_senders[] = {
    "curl", "wget",  "nc",	  "ncat",   "netcat",	"socat",   "telnet", "scp",
    "sftp", "rsync", "ftp",	  "tftp",   "ssh",	"openssl", "http",   "https",
    "xh",   "lftp",  "smbclient", "rclone", "sendmail", "mail",	   "mailx",  NULL};

static const char *const stream_senders[] = {
    "nc", "ncat", "netcat", "socat", "telnet", "openssl", "ssh", "sendmail", "mail", "mailx", NULL};

static const char *const downloaders[] = {"curl",	 "wget", "fetch",  "http",
					  "https",	 "xh",	 "aria2c", "lwp-download",
					  "lwp-request", "GET",	 NULL};

static const char *const interpreters[] = {"python", "python2", "python3", "perl", "ruby",
					   "node",   "nodejs",	"php",	   "lua",  "tclsh",
					   "pwsh",   "deno",	"bun",	   NULL};

static const char *const shells[] = {"sh",   "bash", "zsh",  "dash", "ksh", "ash",
				     "mksh", "csh",  "tcsh", "fish", NULL};

/*
 * Command classes, looked up once per command: the rules ask "is this a
 * reader / a network sender / a shell..." many times per command.
 */
enum {
	C_READER = 1u << 0,
	C_NET = 1u << 1,
	C_STREAM = 1u << 2,
	C_DL = 1u << 3,
	C_INTERP = 1u << 4,
	C_SHELL = 1u << 5,
};

struct cls_ent {
	const char *name;
	unsigned cls;
};

static struct cls_ent *cls_tab;
static size_t ncls;

static int cmp_cls(const void *a, const void *b)
{
	return strcmp(((const struct cls_ent *)a)->name, ((const struct cls_ent *)b)->name);
}

static void cls_build(void)
{
	static const struct {
		const char *const *l;
		unsigned bit;
	} lists[] = {{readers, C_READER}, {net_senders, C_NET},	    {stream_senders, C_STREAM},
		     {downloaders, C_DL}, {interpreters, C_INTERP}, {shells, C_SHELL}};
	size_t n = 0, o = 0;

	if (cls_tab)
		return;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (const char *const *p = lists[i].l; *p; p++)
			n++;
	cls_tab = xcalloc(n, sizeof(*cls_tab));
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		for (const char *const *p = lists[i].l; *p; p++)
			cls_tab[o++] = (struct cls_ent){*p, lists[i].bit};
	qsort(cls_tab, n, sizeof(*cls_tab), cmp_cls);
	/* merge duplicates */
	for (size_t i = 0; i < n; i++) {
		if (ncls && !strcmp(cls_tab[ncls - 1].name, cls_tab[i].name))
			cls_tab[ncls - 1].cls |= cls_tab[i].cls;
		else
			cls_tab[ncls++] = cls_tab[i];
	}
}

static unsigned name_cls(const char *n)
{
	struct cls_ent key = {n, 0}, *e;
	char tmp[32];

	e = bsearch(&key, cls_tab, ncls, sizeof(*cls_tab), cmp_cls);
	if (e)
		return e->cls;
	/* python3.11, php8.2 */
	mg_strlcpy(tmp, n, sizeof(tmp));
	for (char *p = tmp; *p; p++)
		if (*p == '.' || (isdigit((unsigned char)*p) && p > tmp)) {
			*p = '\0';
			key.name = tmp;
			e = bsearch(&key, cls_tab, ncls, sizeof(*cls_tab), cmp_cls);
			return e ? e->cls : 0;
		}
	return 0;
}

/* Per-parse cache of each command's start index and class. */
static struct {
	const struct sh_parse *p;
	struct cinfo {
		int done;
		size_t start;
		unsigned cls;
	} * v;
} JC;

static struct cinfo *cinfo(const struct sh_cmd *c)
{
	static struct cinfo one;
	struct cinfo *ci = &one;

	if (JC.p && c >= JC.p->cmd && c < JC.p->cmd + JC.p->ncmd)
		ci = &JC.v[c - JC.p->cmd];
	else
		one.done = 0;
	if (!ci->done) {
		ci->start = sh_cmd_start(c);
		ci->cls = ci->start < c->argc ? name_cls(sh_basename(c->argv[ci->start])) : 0;
		if ((ci->cls & (C_NET | C_STREAM)) &&
		    !strcmp(sh_basename(c->argv[ci->start]), "openssl")) {
			/* openssl talks to the network only as s_client / s_server */
			int net = 0;

			for (size_t i = ci->start + 1; i < c->argc; i++)
				net |= !strcmp(c->argv[i], "s_client") ||
				       !strcmp(c->argv[i], "s_server");
			if (!net)
				ci->cls &= ~(unsigned)(C_NET | C_STREAM);
		}
		ci->done = 1;
	}
	return ci;
}

/* The real command name (after sudo, env, ...) and its index; NULL if none. */
static const char *cname(const struct sh_cmd *c, size_t *at)
{
	size_t a = cinfo(c)->start;

	if (a >= c->argc)
		return NULL;
	if (at)
		*at = a;
	return sh_basename(c->argv[a]);
}

static int is_name(const struct sh_cmd *c, const char *const *l)
{
	unsigned bit = l == readers	     ? C_READER
		       : l == net_senders    ? C_NET
		       : l == stream_senders ? C_STREAM
		       : l == downloaders    ? C_DL
		       : l == interpreters   ? C_INTERP
		       : l == shells	     ? C_SHELL
					     : 0;
	const char *n;

	if (bit)
		return (cinfo(c)->cls & bit) != 0;
	n = cname(c, NULL);
	return n && in_list(n, l);
}

/* An option of a short-option cluster or a long option: "-rf" has 'r'. */
static int has_flag(const struct sh_cmd *c, size_t from, const char *shortc, const char *longo)
{
	for (size_t i = from; i < c->argc; i++) {
		const char *o = c->argv[i];

		if (!strcmp(o, "--"))
			return 0;
		if (longo && o[0] == '-' && o[1] == '-' && !strcmp(o, longo))
			return 1;
		if (shortc && o[0] == '-' && o[1] != '-' && o[1] && strpbrk(o + 1, shortc))
			return 1;
	}
	return 0;
}

/* Interpreters and shells that execute what arrives on stdin. */
static int runs_stdin(const struct sh_cmd *c)
{
	size_t a;
	const char *n = cname(c, &a);

	if (!n)
		return 0;
	if (c->runs_stdin)
		return 1;
	if (is_name(c, shells) || is_name(c, interpreters)) {
		for (size_t i = a + 1; i < c->argc; i++) {
			const char *o = c->argv[i];

			if (!strcmp(o, "-") || !strcmp(o, "/dev/stdin"))
				return 1;
			if (!strcmp(o, "-c") || !strcmp(o, "-e") || !strcmp(o, "-r") ||
			    !strcmp(o, "-E") || !strcmp(o, "-m"))
				return 0;
			if (o[0] != '-')
				return 0;
		}
		return 1;
	}
	return 0;
}

static int is_decoder(const struct sh_cmd *c)
{
	size_t a;
	const char *n = cname(c, &a);

	if (!n)
		return 0;
	if (c->decoder)
		return 1;
	if (!strcmp(n, "base64") || !strcmp(n, "base32") || !strcmp(n, "basenc"))
		return has_flag(c, a + 1, "dD", "--decode");
	if (!strcmp(n, "xxd"))
		return has_flag(c, a + 1, "r", "--revert");
	if (!strcmp(n, "openssl"))
		return has_flag(c, a + 1, "d", NULL);
	if (!strcmp(n, "gunzip") || !strcmp(n, "zcat") || !strcmp(n, "unxz") ||
	    !strcmp(n, "uudecode") || !strcmp(n, "rev") || !strcmp(n, "tr") ||
	    !strcmp(n, "bunzip2"))
		return 1;
	if (!strcmp(n, "gzip") || !strcmp(n, "xz") || !strcmp(n, "bzip2"))
		return has_flag(c, a + 1, "d", "--decompress");
	if (!strcmp(n, "printf") || !strcmp(n, "echo")) {
		for (size_t i = a + 1; i < c->argc; i++) {
			const char *w = c->argv[i];

			for (const char *p = strchr(w, '\\'); p; p = strchr(p + 1, '\\'))
				if (p[1] == 'x' || p[1] == 'u' || (p[1] >= '0' && p[1] <= '7'))
					return 1;
		}
		return 0;
	}
	if (is_name(c, interpreters))
		for (size_t i = a + 1; i < c->argc; i++)
			if (re_hit(P_DECODECODE, c->argv[i]))
				return 1;
	return 0;
}

/* ---- one parse, judged ---- */

struct judge {
	const struct sh_parse *p;
	const char *where;
	struct findings *out;
	unsigned fired; /* one finding per rule per argument */
};

static void fire(struct judge *j, enum rule_id r, enum scan_conf conf, int k, const char *extra)
{
	char line[512], ex[128];
	int first = k;

	if (j->fired & (1u << r))
		return;
	j->fired |= 1u << r;
	if (k >= 0) {
		/* The pipeline of k and whatever its members started through $(..) / <(..). */
		unsigned char *sel = xcalloc(j->p->ncmd, 1);

		while (j->p->cmd[first].pipe_prev >= 0)
			first = j->p->cmd[first].pipe_prev;
		for (int i = first; i >= 0; i = j->p->cmd[i].pipe_next)
			sel[i] = 1;
		for (size_t i = (size_t)first; i < j->p->ncmd; i++) {
			int par = j->p->cmd[i].parent;

			if (par >= 0 && sel[par] &&
			    (j->p->cmd[i].ctx == SH_CTX_CMDSUB ||
			     j->p->cmd[i].ctx == SH_CTX_PROCSUB))
				sel[i] = 1;
		}
		sh_render_sel(j->p, (size_t)first, j->p->ncmd, sel, line, sizeof(line));
		free(sel);
	} else {
		sh_render(j->p, 0, j->p->ncmd, line, sizeof(line));
	}
	toolrules_excerpt(line, strlen(line), ex, sizeof(ex));
	findings_add(j->out, "shell", rules[r].name, conf, j->where, "%s%s%s: %s", rules[r].what,
		     extra ? " " : "", extra ? extra : "", ex);
}

static int is_cred_word(const struct sh_cmd *c, size_t i)
{
	const char *w = c->argv[i];

	if (re_hit(P_CRED, w))
		return 1;
	if (c->wflags[i] & SH_W_GLOB) {
		for (size_t e = 0; e < sizeof(cred_examples) / sizeof(cred_examples[0]); e++) {
			char alt[512];

			if (fnmatch(w, cred_examples[e], 0) == 0)
				return 1;
			if (S.home && cred_examples[e][0] == '~') {
				snprintf(alt, sizeof(alt), "%s%s", S.home, cred_examples[e] + 1);
				if (fnmatch(w, alt, 0) == 0)
					return 1;
			}
		}
	}
	return 0;
}

/* A credential path among the operands or input redirections of c. */
static int reads_cred(const struct sh_cmd *c, size_t a)
{
	for (size_t r = 0; r < c->nredir; r++)
		if ((!strcmp(c->redir[r].op, "<") || !strcmp(c->redir[r].op, "<>")) &&
		    re_hit(P_CRED, c->redir[r].text))
			return 1;
	if (is_name(c, interpreters))
		for (size_t i = a + 1; i < c->argc; i++)
			if (re_hit(P_CRED_TEXT, c->argv[i]))
				return 1;
	if (!is_name(c, readers))
		return 0;
	for (size_t i = a + 1; i < c->argc; i++) {
		/* scp -i KEY authenticates with the key; it does not send it */
		if (i > a + 1 && !strcmp(c->argv[i - 1], "-i") &&
		    in_list(sh_basename(c->argv[a]),
			    (const char *const[]){"scp", "sftp", "rsync", NULL}))
			continue;
		if (is_cred_word(c, i))
			return 1;
	}
	return 0;
}

static int reads_sysfile(const struct sh_cmd *c, size_t a)
{
	for (size_t r = 0; r < c->nredir; r++)
		if (!strcmp(c->redir[r].op, "<") && re_hit(P_SYSFILE, c->redir[r].text))
			return 1;
	if (!is_name(c, readers))
		return 0;
	for (size_t i = a + 1; i < c->argc; i++) {
		if (re_hit(P_SYSFILE, c->argv[i]))
			return 1;
		if ((c->wflags[i] & SH_W_GLOB) && (fnmatch(c->argv[i], "/etc/passwd", 0) == 0 ||
						   fnmatch(c->argv[i], "/etc/group", 0) == 0))
			return 1;
	}
	return 0;
}

/* Does any command started by command k (through $(..) / <(..)) match pred? */
static int child_has(const struct sh_parse *p, int k, int (*pred)(const struct sh_cmd *))
{
	for (size_t i = 0; i < p->ncmd; i++) {
		const struct sh_cmd *c = &p->cmd[i];

		if (c->parent != k || (c->ctx != SH_CTX_CMDSUB && c->ctx != SH_CTX_PROCSUB))
			continue;
		if (pred(c))
			return 1;
		if (child_has(p, (int)i, pred))
			return 1;
	}
	return 0;
}

static int is_downloader(const struct sh_cmd *c)
{
	return is_name(c, downloaders);
}

static int uploads_file(const struct sh_cmd *c, size_t a, int *cred);

static int reads_any_file(const struct sh_cmd *c)
{
	size_t a;
	const char *n = cname(c, &a);

	if (!n)
		return 0;
	for (size_t r = 0; r < c->nredir; r++)
		if (!strcmp(c->redir[r].op, "<"))
			return 1;
	if (!is_name(c, readers) && strcmp(n, "env") && strcmp(n, "printenv") && strcmp(n, "ls"))
		return 0;
	if (!strcmp(n, "env") || !strcmp(n, "printenv"))
		return 1;
	if (is_name(c, net_senders)) {
		/* curl URL reads no file; curl -d @file does */
		int cred = 0;

		return uploads_file(c, a, &cred);
	}
	for (size_t i = a + 1; i < c->argc; i++)
		if (c->argv[i][0] != '-')
			return 1;
	return 0;
}

/* Normalize a path for the danger check: "//", "/./", trailing "/" and "/." go. */
static void norm_path(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; in[i] && o + 1 < outlen; i++) {
		if (in[i] == '/' && o && out[o - 1] == '/')
			continue;
		if (in[i] == '.' && o && out[o - 1] == '/' && (in[i + 1] == '/' || !in[i + 1]))
			continue;
		out[o++] = in[i];
	}
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
}

static int danger_dir(const char *w, int glob)
{
	static const char *const dirs[] = {
	    "/",     "/*",	"~",	  "~/*",    "/home",  "/root", "/etc", "/usr", "/var",
	    "/bin",  "/sbin",	"/lib",	  "/lib64", "/boot",  "/opt",  "/srv", "/dev", "/sys",
	    "/proc", "/home/*", "/usr/*", "/etc/*", "/var/*", "$HOME", NULL};
	char n[512];

	norm_path(w, n, sizeof(n));
	if (in_list(n, dirs))
		return 1;
	if (S.home) {
		char h[512], hs[520];

		norm_path(S.home, h, sizeof(h));
		snprintf(hs, sizeof(hs), "%s/*", h);
		if (!strcmp(n, h) || !strcmp(n, hs))
			return 1;
	}
	if (glob)
		for (const char *const *d = dirs; *d; d++)
			if ((*d)[0] == '/' && !strchr(*d, '*') && fnmatch(n, *d, FNM_PATHNAME) == 0)
				return 1;
	return 0;
}

/* Paths command c writes: redirections, tee, cp/mv/install/ln destinations, dd of=, sed -i. */
static size_t written_paths(const struct sh_cmd *c, const char **out, size_t max)
{
	size_t n = 0, a;
	const char *nm = cname(c, &a);

	for (size_t r = 0; r < c->nredir && n < max; r++) {
		const char *op = c->redir[r].op;

		if (!strcmp(op, ">") || !strcmp(op, ">>") || !strcmp(op, ">|") ||
		    !strcmp(op, "&>") || !strcmp(op, "&>>") || !strcmp(op, "<>"))
			out[n++] = c->redir[r].text;
	}
	if (!nm)
		return n;
	if (!strcmp(nm, "tee")) {
		for (size_t i = a + 1; i < c->argc && n < max; i++)
			if (c->argv[i][0] != '-')
				out[n++] = c->argv[i];
	} else if (!strcmp(nm, "cp") || !strcmp(nm, "mv") || !strcmp(nm, "install") ||
		   !strcmp(nm, "ln") || !strcmp(nm, "rsync") || !strcmp(nm, "scp")) {
		size_t last = 0;

		for (size_t i = a + 1; i < c->argc; i++)
			if (c->argv[i][0] != '-')
				last = i;
		if (last && n < max)
			out[n++] = c->argv[last];
	} else if (!strcmp(nm, "dd")) {
		for (size_t i = a + 1; i < c->argc && n < max; i++)
			if (!strncmp(c->argv[i], "of=", 3))
				out[n++] = c->argv[i] + 3;
	} else if (!strcmp(nm, "sed") && has_flag(c, a + 1, "i", "--in-place")) {
		int script = 0;

		for (size_t i = a + 1; i < c->argc && n < max; i++) {
			if (c->argv[i][0] == '-') {
				if (!strcmp(c->argv[i], "-e") || !strcmp(c->argv[i], "-f")) {
					script = 1;
					i++;
				}
				continue;
			}
			if (!script) {
				script = 1;
				continue;
			}
			out[n++] = c->argv[i];
		}
	}
	return n;
}

/* curl/wget/httpie options that send a local file. */
static int uploads_file(const struct sh_cmd *c, size_t a, int *cred)
{
	const char *n = sh_basename(c->argv[a]);
	int hit = 0;

	for (size_t i = a + 1; i < c->argc; i++) {
		const char *o = c->argv[i], *v = NULL;

		if (!strcmp(n, "curl")) {
			static const char *const dopt[] = {
			    "-d",     "--data", "--data-binary", "--data-ascii", "--data-urlencode",
			    "--json", NULL};
			static const char *const fopt[] = {"-F", "--form", NULL};
			static const char *const topt[] = {"-T", "--upload-file", NULL};
			const char *eq = strchr(o, '=');
			char key[32] = "";

			if (o[0] == '-' && eq && o[1] == '-' && (size_t)(eq - o) < sizeof(key)) {
				memcpy(key, o, (size_t)(eq - o));
				key[eq - o] = '\0';
			}
			if (in_list(o, dopt) || in_list(key, dopt) ||
			    (o[0] == '-' && o[1] == 'd' && o[2])) {
				v = in_list(o, dopt) ? (i + 1 < c->argc ? c->argv[++i] : "")
				    : key[0]	     ? eq + 1
						     : o + 2;
				if (strcmp(v, "@-") == 0)
					continue;
				v = strchr(v, '@');
				if (v && strcmp(v, "@-"))
					v++;
				else
					v = NULL;
			} else if (in_list(o, fopt) || (o[0] == '-' && o[1] == 'F' && o[2])) {
				const char *f = in_list(o, fopt)
						    ? (i + 1 < c->argc ? c->argv[++i] : "")
						    : o + 2;
				const char *p = strstr(f, "=@");

				if (!p)
					p = strstr(f, "=<");
				v = p && strcmp(p + 2, "-") ? p + 2 : NULL;
			} else if (in_list(o, topt) || (o[0] == '-' && o[1] == 'T' && o[2])) {
				v = in_list(o, topt) ? (i + 1 < c->argc ? c->argv[++i] : "")
						     : o + 2;
				if (!strcmp(v, "-") || !strcmp(v, "."))
					v = NULL;
			}
		} else if (!strcmp(n, "wget")) {
			if (!strncmp(o, "--post-file=", 12) || !strncmp(o, "--body-file=", 12))
				v = o + 12;
			else if ((!strcmp(o, "--post-file") || !strcmp(o, "--body-file")) &&
				 i + 1 < c->argc)
				v = c->argv[++i];
		} else if (!strcmp(n, "http") || !strcmp(n, "https") || !strcmp(n, "xh")) {
			const char *at = strchr(o, '@');

			if (at && at > o && (at[-1] == '=' || at[-1] == ':' || o[0] == '@'))
				v = at + 1;
			else if (o[0] == '@')
				v = o + 1;
		}
		if (v && *v) {
			hit = 1;
			if (re_hit(P_CRED, v))
				*cred = 1;
		}
	}
	return hit;
}

/* An argument with ':' after a host part: "user@host:path", "host:" (not a URL, not C:\). */
static int remote_spec(const char *w)
{
	const char *colon = strchr(w, ':');

	if (!colon || colon == w || w[0] == '-' || w[0] == '/' || w[0] == '.')
		return 0;
	if (strstr(w, "://"))
		return strncmp(w, "rsync://", 8) == 0 || strncmp(w, "sftp://", 7) == 0 ||
		       strncmp(w, "scp://", 6) == 0;
	for (const char *p = w; p < colon; p++)
		if (*p == '/')
			return 0;
	return colon - w > 1;
}

static int dev_tcp(const char *t)
{
	return !strncmp(t, "/dev/tcp/", 9) || !strncmp(t, "/dev/udp/", 9);
}

struct dl_file {
	const char *path;
};

/* Is path the target of a truncating redirection (">", not ">>") of c? */
static int truncates(const struct sh_cmd *c, const char *path)
{
	for (size_t r = 0; r < c->nredir; r++)
		if (c->redir[r].text == path &&
		    (!strcmp(c->redir[r].op, ">") || !strcmp(c->redir[r].op, ">|") ||
		     !strcmp(c->redir[r].op, "&>")))
			return 1;
	return 0;
}

static void judge_cmd(struct judge *j, int k, const char **dl, size_t *ndl)
{
	const struct sh_parse *p = j->p;
	const struct sh_cmd *c = &p->cmd[k];
	size_t a = 0;
	const char *n = cname(c, &a);
	const char *w[16];
	size_t nw;

	/* Redirections first: they apply even to "exec 3<>/dev/tcp/..". */
	for (size_t r = 0; r < c->nredir; r++) {
		const char *t = c->redir[r].text, *op = c->redir[r].op;

		if (dev_tcp(t)) {
			int dup = 0;

			for (size_t r2 = 0; r2 < c->nredir; r2++)
				if (strchr(c->redir[r2].op, '&') || !strcmp(c->redir[r2].op, "<>"))
					dup = 1;
			if (dup || (n && (is_name(c, shells) || is_name(c, interpreters))) ||
			    (c->argc && !strcmp(sh_basename(c->argv[0]), "exec")))
				fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
			else
				fire(j, R_EXFIL_DEVTCP, CONF_HIGH, k, NULL);
		}
		if (op[0] == '>' || op[0] == '&')
			if (re_hit(P_BLOCKDEV, t))
				fire(j, R_DISK, CONF_HIGH, k, NULL);
	}
	nw = written_paths(c, w, sizeof(w) / sizeof(w[0]));
	for (size_t i = 0; i < nw; i++) {
		if (re_hit(P_RC, w[i]))
			fire(j, R_RC, CONF_HIGH, k, NULL);
		if (re_hit(P_SSHKEY, w[i]))
			fire(j, R_SSHKEY, CONF_HIGH, k, NULL);
		if (re_hit(P_CRON, w[i]))
			fire(j, R_CRON, CONF_HIGH, k, NULL);
		if (re_hit(P_SYSPERSIST, w[i]))
			fire(j, R_SYSPERSIST, CONF_HIGH, k, NULL);
		if (re_hit(P_LOGS, w[i]) && truncates(c, w[i]))
			fire(j, R_HISTORY, CONF_LOW, k, NULL);
		if (re_hit(P_BLOCKDEV, w[i]))
			fire(j, R_DISK, CONF_HIGH, k, NULL);
	}
	if (c->funcdef || !n)
		return;

	/* Fork bomb: a function that runs itself in a pipe or in the background. */
	if (c->func && !strcmp(c->argv[a], c->func) &&
	    (c->sep == SH_SEP_PIPE || c->sep == SH_SEP_BG || c->pipe_prev >= 0))
		fire(j, R_FORKBOMB, CONF_HIGH, k, NULL);

	if (reads_cred(c, a))
		fire(j, R_CRED_READ, CONF_HIGH, k, NULL);
	/* Hunting for credentials: find -name id_rsa -exec cat, grep -r 'PRIVATE KEY' ~ */
	if (!strcmp(n, "find")) {
		int named = 0, acts = c->pipe_next >= 0;

		for (size_t i = a + 1; i + 1 < c->argc; i++) {
			if ((!strcmp(c->argv[i], "-name") || !strcmp(c->argv[i], "-iname") ||
			     !strcmp(c->argv[i], "-path")) &&
			    (re_hit(P_CRED_NAME, c->argv[i + 1]) || re_hit(P_CRED, c->argv[i + 1])))
				named = 1;
			if (!strcmp(c->argv[i], "-exec") || !strcmp(c->argv[i], "-execdir") ||
			    !strcmp(c->argv[i], "-ok"))
				acts = 1;
		}
		if (named && acts)
			fire(j, R_CRED_READ, CONF_HIGH, k, "(search)");
	}
	if (!strcmp(n, "grep") || !strcmp(n, "egrep") || !strcmp(n, "rg") || !strcmp(n, "ag")) {
		for (size_t i = a + 1; i < c->argc; i++)
			if (c->argv[i][0] != '-' && re_hit(P_CRED_GREP, c->argv[i]))
				fire(j, R_CRED_READ, CONF_HIGH, k, "(search)");
	}
	/* A secret variable's value in a network request: how exfiltration looks, and also
	 * how "curl -H 'Authorization: token $GITHUB_TOKEN' api.github.com" looks, so only
	 * heuristic. */
	if (is_name(c, net_senders))
		for (size_t i = a + 1; i < c->argc; i++)
			if (strstr(c->argv[i], SECRET_MARK))
				fire(j, R_SECRET_VAR, CONF_LOW, k, NULL);
	if (reads_sysfile(c, a))
		fire(j, R_SYS_READ, p->obf ? CONF_HIGH : CONF_LOW, k,
		     p->obf ? "(obfuscated)" : NULL);

	/* Exfiltration. */
	if (is_name(c, net_senders)) {
		int cred = 0;

		if (uploads_file(c, a, &cred))
			fire(j, R_EXFIL_UPLOAD, CONF_HIGH, k, cred ? "(credential file)" : NULL);
		if ((!strcmp(n, "scp") || !strcmp(n, "rsync") || !strcmp(n, "sftp")) &&
		    c->argc > a + 2) {
			size_t last = 0, local = 0;

			for (size_t i = a + 1; i < c->argc; i++) {
				if (c->argv[i][0] == '-') {
					if (!strcmp(c->argv[i], "-P") ||
					    !strcmp(c->argv[i], "-i") ||
					    !strcmp(c->argv[i], "-e") ||
					    !strcmp(c->argv[i], "-o") ||
					    !strcmp(c->argv[i], "-F") || !strcmp(c->argv[i], "-J"))
						i++;
					continue;
				}
				if (last && !remote_spec(c->argv[last]))
					local++;
				last = i;
			}
			if (last && remote_spec(c->argv[last]) && local)
				fire(j, R_EXFIL_COPY, CONF_HIGH, k, NULL);
		}
		if (child_has(p, k, reads_any_file))
			fire(j, R_EXFIL_SUBST, CONF_HIGH, k, NULL);
	}
	if (is_name(c, stream_senders)) {
		/* raw sockets, ssh, mail: whatever arrives on stdin leaves the machine */
		int input = c->pipe_prev >= 0;

		for (size_t r = 0; r < c->nredir; r++)
			if (!strcmp(c->redir[r].op, "<") && !dev_tcp(c->redir[r].text))
				input = 1;
		if (input && !(c->pipe_prev >= 0 && is_name(&p->cmd[c->pipe_prev], stream_senders)))
			fire(j, R_EXFIL_PIPE, CONF_HIGH, k, NULL);
	} else if ((!strcmp(n, "curl") || !strcmp(n, "wget")) &&
		   (has_flag(c, a + 1, NULL, "--data-binary") ||
		    has_flag(c, a + 1, "dT", "--data") ||
		    has_flag(c, a + 1, NULL, "--upload-file"))) {
		/* an HTTP body from stdin: exfiltration when what feeds it read files or the
		 * environment, not when it is a literal (echo '{"a":1}' | curl -d @- ...) */
		int fed = 0;

		for (int u = c->pipe_prev; u >= 0 && !fed; u = p->cmd[u].pipe_prev)
			fed = reads_any_file(&p->cmd[u]);
		for (size_t r = 0; r < c->nredir; r++)
			if (!strcmp(c->redir[r].op, "<"))
				fed = 1;
		if (fed)
			fire(j, R_EXFIL_PIPE, CONF_HIGH, k, NULL);
	}
	if (is_name(c, (const char *const[]){"dig", "nslookup", "host", "ping", "drill", NULL}) &&
	    child_has(p, k, reads_any_file))
		fire(j, R_EXFIL_SUBST, CONF_HIGH, k, NULL);

	/* Reverse shells. */
	if (!strcmp(n, "nc") || !strcmp(n, "ncat") || !strcmp(n, "netcat")) {
		for (size_t i = a + 1; i < c->argc; i++) {
			const char *o = c->argv[i];

			if (!strcmp(o, "--exec") || !strcmp(o, "--sh-exec") ||
			    !strcmp(o, "--lua-exec") ||
			    (o[0] == '-' && o[1] != '-' && strpbrk(o + 1, "ec")))
				fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
		}
	}
	if (!strcmp(n, "socat"))
		for (size_t i = a + 1; i < c->argc; i++)
			if (!strncasecmp(c->argv[i], "exec:", 5) ||
			    !strncasecmp(c->argv[i], "system:", 7))
				fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
	if (is_name(c, stream_senders) && c->pipe_next >= 0 && runs_stdin(&p->cmd[c->pipe_next]))
		fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
	if (!strcmp(n, "mkfifo") ||
	    (!strcmp(n, "mknod") && c->argc > a + 2 && !strcmp(c->argv[a + 2], "p"))) {
		for (size_t i = 0; i < p->ncmd; i++)
			if (is_name(&p->cmd[i], stream_senders))
				fire(j, R_REVSHELL, CONF_HIGH, (int)i, NULL);
	}
	if (is_name(c, interpreters) || !strcmp(n, "awk") || !strcmp(n, "gawk")) {
		for (size_t i = a + 1; i < c->argc; i++)
			if ((re_hit(P_NETCODE, c->argv[i]) && re_hit(P_EXECCODE, c->argv[i])) ||
			    ((!strcmp(n, "awk") || !strcmp(n, "gawk")) &&
			     (strstr(c->argv[i], "/inet/tcp/") ||
			      strstr(c->argv[i], "/inet/udp/"))))
				fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
	}
	if (is_name(c, interpreters) && c->input && runs_stdin(c)) {
		/* python3 <<EOF ... EOF, echo '...' | node: the program is the input */
		if (re_hit(P_NETCODE, c->input) && re_hit(P_SHELLSPAWN, c->input))
			fire(j, R_REVSHELL, CONF_HIGH, k, NULL);
		if (re_hit(P_CRED_TEXT, c->input))
			fire(j, R_CRED_READ, CONF_HIGH, k, NULL);
		if (re_hit(P_DECODECODE, c->input) && re_hit(P_EXECCODE, c->input))
			fire(j, R_DECODE_EXEC, CONF_HIGH, k, NULL);
	}

	/* Destruction. */
	if (!strcmp(n, "rm") && has_flag(c, a + 1, "rR", "--recursive")) {
		for (size_t i = a + 1; i < c->argc; i++)
			if ((c->argv[i][0] != '-' &&
			     danger_dir(c->argv[i], c->wflags[i] & SH_W_GLOB)) ||
			    !strcmp(c->argv[i], "--no-preserve-root"))
				fire(j, R_RM, CONF_HIGH, k, NULL);
	}
	if (!strcmp(n, "mv")) {
		size_t last = 0;

		for (size_t i = a + 1; i < c->argc; i++)
			if (c->argv[i][0] != '-')
				last = i;
		for (size_t i = a + 1; i < last; i++)
			if (c->argv[i][0] != '-' &&
			    danger_dir(c->argv[i], c->wflags[i] & SH_W_GLOB))
				fire(j, R_RM, CONF_HIGH, k, NULL);
	}
	if (!strcmp(n, "find") && a + 1 < c->argc && danger_dir(c->argv[a + 1], 0)) {
		for (size_t i = a + 2; i < c->argc; i++)
			if (!strcmp(c->argv[i], "-delete") ||
			    ((!strcmp(c->argv[i], "-exec") || !strcmp(c->argv[i], "-execdir")) &&
			     i + 1 < c->argc &&
			     (!strcmp(sh_basename(c->argv[i + 1]), "rm") ||
			      !strcmp(sh_basename(c->argv[i + 1]), "shred"))))
				fire(j, R_RM, CONF_HIGH, k, NULL);
	}
	if (!strncmp(n, "mkfs", 4) || !strcmp(n, "mke2fs") || !strcmp(n, "mkswap") ||
	    !strcmp(n, "wipefs") || !strcmp(n, "blkdiscard") || !strcmp(n, "sfdisk") ||
	    !strcmp(n, "fdisk") || !strcmp(n, "parted") || !strcmp(n, "shred") ||
	    !strcmp(n, "sgdisk")) {
		int dev = !strncmp(n, "mkfs", 4) || !strcmp(n, "mke2fs") || !strcmp(n, "wipefs") ||
			  !strcmp(n, "blkdiscard");

		for (size_t i = a + 1; i < c->argc && !dev; i++)
			dev = re_hit(P_BLOCKDEV, c->argv[i]);
		if (dev && !(!strcmp(n, "fdisk") && has_flag(c, a + 1, "l", "--list")))
			fire(j, R_DISK, CONF_HIGH, k, NULL);
	}
	if ((!strcmp(n, "chmod") || !strcmp(n, "chown") || !strcmp(n, "chgrp"))) {
		int rec = has_flag(c, a + 1, "R", "--recursive");

		for (size_t i = a + 2; i < c->argc; i++)
			if (c->argv[i][0] != '-' && danger_dir(c->argv[i], 0) &&
			    (rec || !strcmp(c->argv[i], "/")))
				fire(j, R_PERMS, CONF_HIGH, k, NULL);
	}
	if (!strcmp(n, "shutdown") || !strcmp(n, "reboot") || !strcmp(n, "halt") ||
	    !strcmp(n, "poweroff") || !strcmp(n, "killall5") ||
	    ((!strcmp(n, "init") || !strcmp(n, "telinit")) && c->argc > a + 1 &&
	     (!strcmp(c->argv[a + 1], "0") || !strcmp(c->argv[a + 1], "6"))) ||
	    (!strcmp(n, "systemctl") && c->argc > a + 1 &&
	     in_list(c->argv[a + 1],
		     (const char *const[]){"poweroff", "reboot", "halt", "kexec", NULL})))
		fire(j, R_POWER, CONF_HIGH, k, NULL);
	if (!strcmp(n, "kill") || !strcmp(n, "pkill")) {
		for (size_t i = a + 1; i < c->argc; i++)
			if (!strcmp(c->argv[i], "-1") && i > a + 1)
				fire(j, R_POWER, CONF_HIGH, k, NULL);
	}

	/* PowerShell: -EncodedCommand, and Invoke-Expression of a download. */
	if (!strcmp(n, "powershell") || !strcmp(n, "pwsh") || !strcmp(n, "powershell.exe") ||
	    !strcmp(n, "pwsh.exe")) {
		int iex = 0, fetch = 0;

		for (size_t i = a + 1; i < c->argc; i++) {
			const char *o = c->argv[i];

			if ((o[0] == '-' || o[0] == '/') && o[1] && strlen(o + 1) <= 14 &&
			    !strncasecmp(o + 1, "encodedcommand", strlen(o + 1)) &&
			    (o[1] == 'e' || o[1] == 'E'))
				fire(j, R_DECODE_EXEC, CONF_HIGH, k, "(-EncodedCommand)");
			if (strcasestr(o, "iex") || strcasestr(o, "invoke-expression"))
				iex = 1;
			if (strcasestr(o, "downloadstring") || strcasestr(o, "invoke-webrequest") ||
			    strcasestr(o, "iwr ") || strcasestr(o, "net.webclient") ||
			    strcasestr(o, "invoke-restmethod") || strcasestr(o, "irm "))
				fetch = 1;
		}
		if (iex && fetch)
			fire(j, R_DLEXEC, CONF_HIGH, k, NULL);
	}

	/* Download and execute. */
	if (is_downloader(c)) {
		for (int d = c->pipe_next; d >= 0; d = p->cmd[d].pipe_next)
			if (runs_stdin(&p->cmd[d]))
				fire(j, R_DLEXEC, CONF_HIGH, k, NULL);
		/* remember files it saves, for "&& sh file" */
		for (size_t i = a + 1; i < c->argc && *ndl < 8; i++) {
			if ((!strcmp(c->argv[i], "-o") || !strcmp(c->argv[i], "-O") ||
			     !strcmp(c->argv[i], "--output") ||
			     !strcmp(c->argv[i], "--output-document")) &&
			    i + 1 < c->argc && strcmp(c->argv[i + 1], "-"))
				dl[(*ndl)++] = c->argv[i + 1];
			else if (!strncmp(c->argv[i], "--output-document=", 18))
				dl[(*ndl)++] = c->argv[i] + 18;
			else if (strstr(c->argv[i], "://") && strrchr(c->argv[i], '/')[1] &&
				 (!strcmp(n, "wget") || has_flag(c, a + 1, "O", "--remote-name")))
				dl[(*ndl)++] = strrchr(c->argv[i], '/') + 1;
		}
		for (size_t r = 0; r < c->nredir && *ndl < 8; r++)
			if (!strcmp(c->redir[r].op, ">"))
				dl[(*ndl)++] = c->redir[r].text;
	}
	{
		/* Running a file a downloader saved. */
		const char *x = c->argv[a];

		for (size_t d = 0; d < *ndl; d++) {
			const char *f = dl[d], *bx = x;

			while (bx[0] == '.' && bx[1] == '/')
				bx += 2;
			while (f[0] == '.' && f[1] == '/')
				f += 2;
			if (!strcmp(bx, f) && strchr(x, '/'))
				fire(j, R_DLEXEC, CONF_HIGH, k, NULL);
			if ((is_name(c, shells) || is_name(c, interpreters) ||
			     !strcmp(n, "source") || !strcmp(n, ".")))
				for (size_t i = a + 1; i < c->argc; i++) {
					const char *y = c->argv[i];

					while (y[0] == '.' && y[1] == '/')
						y += 2;
					if (!strcmp(y, f))
						fire(j, R_DLEXEC, CONF_HIGH, k, NULL);
				}
		}
	}

	/* Things that run text: eval, sh -c, bash <(..), source <(..), bash <<< "$(..)". */
	if (!strcmp(n, "eval") || is_name(c, shells) || !strcmp(n, "source") || !strcmp(n, ".") ||
	    is_name(c, interpreters)) {
		int runs_text = !strcmp(n, "eval") || !strcmp(n, "source") || !strcmp(n, ".") ||
				is_name(c, shells);

		if (runs_text && child_has(p, k, is_downloader))
			fire(j, R_DLEXEC, CONF_HIGH, k, NULL);
		if (runs_text && child_has(p, k, is_decoder))
			fire(j, R_DECODE_EXEC, CONF_HIGH, k, NULL);
		else if (!strcmp(n, "eval") && c->argc > a + 1 &&
			 (c->wflags[a + 1] & SH_W_CMDSUB) && !child_has(p, k, is_downloader))
			fire(j, R_EVAL_DYN, CONF_LOW, k, NULL);
		if (is_name(c, interpreters))
			for (size_t i = a + 1; i < c->argc; i++)
				if (re_hit(P_DECODECODE, c->argv[i]) &&
				    re_hit(P_EXECCODE, c->argv[i]))
					fire(j, R_DECODE_EXEC, CONF_HIGH, k, NULL);
	}
	if (c->decoded_input)
		fire(j, R_DECODE_EXEC, CONF_HIGH, k, NULL);
	if (runs_stdin(c)) {
		for (int u = c->pipe_prev; u >= 0; u = p->cmd[u].pipe_prev)
			if (is_decoder(&p->cmd[u]))
				fire(j, R_DECODE_EXEC, CONF_HIGH, k, NULL);
	}

	/* Persistence by command. */
	if (!strcmp(n, "crontab")) {
		int list_only = has_flag(c, a + 1, "lr", NULL) && !has_flag(c, a + 1, "e", NULL);
		int operand = 0;

		for (size_t i = a + 1; i < c->argc; i++)
			if (c->argv[i][0] != '-' || !strcmp(c->argv[i], "-"))
				operand = 1;
		if (!list_only &&
		    (operand || c->pipe_prev >= 0 || has_flag(c, a + 1, "e", NULL) || c->nredir))
			fire(j, R_CRON, CONF_HIGH, k, NULL);
	}

	/* Covering tracks. */
	if ((!strcmp(n, "history") && has_flag(c, a + 1, "c", NULL)) ||
	    (!strcmp(n, "unset") && c->argc > a + 1 && !strcmp(c->argv[a + 1], "HISTFILE")) ||
	    ((!strcmp(n, "shred") || !strcmp(n, "rm") || !strcmp(n, "truncate")) &&
	     c->argc > a + 1 && re_hit(P_LOGS, c->argv[c->argc - 1])))
		fire(j, R_HISTORY, CONF_LOW, k, NULL);
}

/* An assignment that stops the shell from keeping history. */
static int history_off(const char *as)
{
	return !strncmp(as, "HISTFILE=", 9) || !strcmp(as, "HISTSIZE=0") ||
	       !strcmp(as, "HISTFILESIZE=0");
}

static void judge(const struct sh_parse *p, const char *where, int strong, struct findings *out)
{
	struct judge j = {.p = p, .where = where, .out = out};
	const char *dl[8];
	size_t ndl = 0;

	JC.p = p;
	JC.v = xcalloc(p->ncmd ? p->ncmd : 1, sizeof(*JC.v));

	for (size_t i = 0; i < p->ncmd; i++) {
		const struct sh_cmd *c = &p->cmd[i];

		for (size_t a = 0; a < c->nassign; a++)
			if (history_off(c->assign[a]))
				fire(&j, R_HISTORY, CONF_LOW, (int)i, NULL);
		/* export HISTFILE=/dev/null, declare HISTSIZE=0 */
		for (size_t a = 1; a < c->argc; a++)
			if (history_off(c->argv[a]) &&
			    in_list(sh_basename(c->argv[0]),
				    (const char *const[]){"export", "declare", "typeset", "local",
							  "readonly", NULL}))
				fire(&j, R_HISTORY, CONF_LOW, (int)i, NULL);
		judge_cmd(&j, (int)i, dl, &ndl);
	}
	if (j.fired & (1u << R_CRED_READ)) {
		/* a credential read and a network send in one command line */
		for (size_t i = 0; i < p->ncmd; i++)
			if (is_name(&p->cmd[i], net_senders)) {
				fire(&j, R_EXFIL_CRED, CONF_HIGH, (int)i, NULL);
				break;
			}
	}
	if (p->obf) {
		char names[200], extra[220];

		sh_obf_names(p->obf, names, sizeof(names));
		snprintf(extra, sizeof(extra), "(%s)", names);
		fire(&j, R_OBF, CONF_LOW, -1, extra);
	}
	if (p->truncated & SH_TR_UNSEEN) {
		/* Part of it was never looked at: padding or nesting must not hide a payload.
		 * Where the text is only guessed to be a command, say so without blocking. */
		fire(&j, R_LIMIT, strong ? CONF_HIGH : CONF_LOW, -1, NULL);
	}
	if (p->error && strong) {
		char extra[128];

		snprintf(extra, sizeof(extra), "(%s)", p->errmsg);
		fire(&j, R_PARSE, CONF_LOW, -1, extra);
	}
	free(JC.v);
	JC.v = NULL;
	JC.p = NULL;
}

/* ---- arguments ---- */

struct texts {
	int on; /* only collected when the policy has rules */
	struct tr_text *v;
	char **own;
	size_t n, cap;
};

static void texts_add(struct texts *t, const char *s, size_t len, const char *where, int copy)
{
	if (!t->on || t->n >= SHELL_MAX_TEXTS)
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
		t->own = xreallocarray(t->own, t->cap, sizeof(*t->own));
	}
	/* where is built on the walker's stack: keep a copy */
	t->v[t->n].s = copy ? xstrndup(s, len) : s;
	t->v[t->n].len = len;
	t->v[t->n].where = xstrdup(where);
	t->own[t->n] = copy ? (char *)t->v[t->n].s : NULL;
	t->n++;
}

static void texts_free(struct texts *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->own[i]);
		free((char *)t->v[i].where);
	}
	free(t->v);
	free(t->own);
	memset(t, 0, sizeof(*t));
}

enum { K_NONE = 0, K_CMD = 1, K_CODE = 2 };

static int looks_like_command(const char *s);
static void scan_text(const char *s, size_t len, const char *where, int strong, struct texts *t,
		      struct findings *out);

/* Is this argument key a command (strong: report syntax errors too) or program code? */
static int key_is_command(const char *k, int *strong)
{
	static const char *const strong_keys[] = {"command", "commands",    "cmd",   "cmds",
						  "cmdline", "commandline", "shell", "shellcommand",
						  "bash",    "sh",	    "exec",  "execute",
						  "run",     "argv",	    NULL};
	static const char *const weak_keys[] = {"args", "arguments", "commandargs", NULL};
	/* code for an interpreter: judged as code, and its string literals as commands */
	static const char *const code_keys[] = {"code",	  "script",  "program",
						"source", "snippet", NULL};
	char norm[40];
	size_t o = 0;

	*strong = 0;
	for (; *k && o < sizeof(norm) - 1; k++)
		if (*k != '_' && *k != '-')
			norm[o++] = (char)tolower((unsigned char)*k);
	norm[o] = '\0';
	if (in_list(norm, strong_keys)) {
		*strong = 1;
		return K_CMD;
	}
	if (in_list(norm, weak_keys))
		return K_CMD;
	if (in_list(norm, code_keys))
		return K_CODE;
	return K_NONE;
}

/* Drop findings after index from that repeat an earlier one's rule and place. */
static void dedupe(struct findings *out, size_t from)
{
	size_t o = from;

	for (size_t i = from; i < out->n; i++) {
		int dup = 0;

		for (size_t k = from; k < o && !dup; k++)
			dup = !strcmp(out->v[k].scanner, out->v[i].scanner) &&
			      !strcmp(out->v[k].rule, out->v[i].rule) &&
			      !strcmp(out->v[k].where, out->v[i].where);
		if (!dup) {
			if (o != i)
				out->v[o] = out->v[i];
			o++;
		}
	}
	out->n = o;
}

/*
 * Program code (python, node, ...) given to a tool: the same checks as for
 * "python -c CODE", and every string literal that looks like a command line
 * (os.system("..."), exec('...')) is scanned as one.
 */
static void scan_code(const char *s, size_t len, const char *where, struct findings *out)
{
	char *z = xstrndup(s, len > SH_MAX_INPUT ? SH_MAX_INPUT : len);
	size_t n = strlen(z), nlit = 0;
	char ex[128];

	toolrules_excerpt(z, n, ex, sizeof(ex));
	if (re_hit(P_CRED_TEXT, z))
		findings_add(out, "shell", rules[R_CRED_READ].name, CONF_HIGH, where, "%s: %s",
			     rules[R_CRED_READ].what, ex);
	if (re_hit(P_NETCODE, z) && re_hit(P_SHELLSPAWN, z))
		findings_add(out, "shell", rules[R_REVSHELL].name, CONF_HIGH, where, "%s: %s",
			     rules[R_REVSHELL].what, ex);
	if (re_hit(P_DECODECODE, z) && re_hit(P_EXECCODE, z))
		findings_add(out, "shell", rules[R_DECODE_EXEC].name, CONF_HIGH, where, "%s: %s",
			     rules[R_DECODE_EXEC].what, ex);
	for (size_t i = 0; i < n && nlit < 64; i++) {
		char q = z[i];
		size_t e;
		struct sbuf_lit {
			char *p;
			size_t n;
		} lit = {0};

		if (q != '\'' && q != '"' && q != '`')
			continue;
		lit.p = xmalloc(n - i + 1);
		for (e = i + 1; e < n && z[e] != q && z[e] != '\n'; e++) {
			if (z[e] == '\\' && e + 1 < n) {
				e++;
				lit.p[lit.n++] = z[e] == 'n' ? '\n' : z[e];
				continue;
			}
			lit.p[lit.n++] = z[e];
		}
		lit.p[lit.n] = '\0';
		if (e < n && z[e] == q && lit.n > 2 && looks_like_command(lit.p)) {
			struct texts t = {0};

			nlit++;
			scan_text(lit.p, lit.n, where, 0, &t, out);
		}
		free(lit.p);
		i = e;
	}
	free(z);
}

/* Shape test for strings under other keys: a first word that names a command. */
static int looks_like_command(const char *s)
{
	char w[64];
	size_t o = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '{' || *s == '`' || (s[0] == '$' && (s[1] == '(' || s[1] == '\'' || s[1] == '{')))
		return 1;
	for (; *s && !isspace((unsigned char)*s) && !strchr(";|&<>()", *s) && o < sizeof(w) - 1;
	     s++)
		if (*s != '\'' && *s != '"' && *s != '\\')
			w[o++] = *s;
	w[o] = '\0';
	if (!o)
		return 0;
	if (strchr(w, '*') || strchr(w, '?'))
		return w[0] == '/';
	/* something must follow the first word: arguments or an operator */
	if (!*s || !(isspace((unsigned char)*s) || strchr(";|&<>", *s)))
		return 0;
	if (w[0] == '/' || (w[0] == '.' && w[1] == '/') || (w[0] == '~' && w[1] == '/'))
		return 1; /* a path to a program */
	return sh_known_command(sh_basename(w)) && !strchr(w, '/');
}

static int findings_has_conf(const struct findings *f, const char *rule, enum scan_conf conf)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].scanner, "shell") && !strcmp(f->v[i].rule, rule) &&
		    f->v[i].confidence == conf)
			return 1;
	return 0;
}

static void scan_text(const char *s, size_t len, const char *where, int strong, struct texts *t,
		      struct findings *out)
{
	struct sh_parse p;
	char line[1024];
	size_t n;

	if (S.parses_left <= 0 || S.work_left == 0) {
		/* A call with thousands of command lines: the rest is not parsed, and that
		 * is said (blocking when a real command argument was left out). */
		if (!findings_has(out, "shell", rules[R_LIMIT].name) ||
		    (strong && !findings_has_conf(out, rules[R_LIMIT].name, CONF_HIGH)))
			findings_add(out, "shell", rules[R_LIMIT].name,
				     strong ? CONF_HIGH : CONF_LOW, where,
				     "more command lines in one call than mcpguard inspects");
		return;
	}
	S.parses_left--;
	sh_parse(s, len, S.env, &p);
	S.work_left = p.work < S.work_left ? S.work_left - p.work : 0;
	judge(&p, where, strong, out);
	/* Policy rules see the resolved line and each resolved word. */
	if (t->on) {
		n = sh_render(&p, 0, p.ncmd, line, sizeof(line));
		texts_add(t, line, n < sizeof(line) ? n : sizeof(line) - 1, where, 1);
		for (size_t i = 0; i < p.ncmd; i++)
			for (size_t k = 0; k < p.cmd[i].argc; k++)
				texts_add(t, p.cmd[i].argv[k], strlen(p.cmd[i].argv[k]), where, 1);
	}
	sh_parse_free(&p);
}

/* Single-quote each element so the parser sees exactly these words. */
static char *quote_argv(const cJSON *arr, const char *head)
{
	size_t cap = 64, n = 0;
	char *b = xmalloc(cap);
	const cJSON *e;
	int first = 1;

#define PUT(ch)                                                                                    \
	do {                                                                                       \
		if (n + 2 > cap)                                                                   \
			b = xreallocarray(b, cap *= 2, 1);                                         \
		b[n++] = (ch);                                                                     \
	} while (0)
	if (head) {
		for (const char *p = head; *p && n < SH_MAX_INPUT; p++)
			PUT(*p);
		first = 0;
	}
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e) || n >= SH_MAX_INPUT)
			continue;
		if (!first)
			PUT(' ');
		first = 0;
		PUT('\'');
		for (const char *p = e->valuestring; *p && n < SH_MAX_INPUT; p++) {
			if (*p == '\'') {
				PUT('\'');
				PUT('\\');
				PUT('\'');
				PUT('\'');
			} else {
				PUT(*p);
			}
		}
		PUT('\'');
	}
#undef PUT
	b[n] = '\0';
	return b;
}

static int all_strings(const cJSON *arr)
{
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e))
			return 0;
		n++;
	}
	return n > 0;
}

static void walk(const cJSON *v, char *path, size_t plen, size_t cap, int depth, int cmdkey,
		 int strong, struct texts *t, struct findings *out)
{
	const cJSON *e;

	if (depth > SHELL_MAX_JSON_DEPTH) {
		/* not silently: say that something this deep was not looked at */
		if (!findings_has(out, "shell", rules[R_LIMIT].name))
			findings_add(out, "shell", rules[R_LIMIT].name, CONF_LOW, path,
				     "arguments nested deeper than %d levels were not inspected",
				     SHELL_MAX_JSON_DEPTH);
		return;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		size_t len = strlen(s);

		texts_add(t, s, len, path, 0);
		if (cmdkey == K_CODE) {
			/* a shell script or a program: read it both ways, report each rule once */
			size_t from = out->n;

			scan_text(s, len, path, 0, t, out);
			scan_code(s, len, path, out);
			dedupe(out, from);
			return;
		}
		/* By shape only one-line strings: longer texts are documents, not commands. */
		if (cmdkey || (len <= SHELL_MAX_HEURISTIC && !memchr(s, '\n', len ? len - 1 : 0) &&
			       looks_like_command(s)))
			scan_text(s, len, path, cmdkey && strong, t, out);
		return;
	}
	if (cJSON_IsArray(v)) {
		size_t i = 0;

		if (cmdkey && all_strings(v)) {
			/* "commands": [..] are separate lines; any other key holds an argv. */
			const char *k = v->string ? v->string : "";

			if (!strcasecmp(k, "commands") || !strcasecmp(k, "cmds") ||
			    !strcasecmp(k, "script")) {
				cJSON_ArrayForEach(e, v)
				{
					texts_add(t, e->valuestring, strlen(e->valuestring), path,
						  0);
					scan_text(e->valuestring, strlen(e->valuestring), path, 1,
						  t, out);
				}
			} else {
				char *line = quote_argv(v, NULL);

				scan_text(line, strlen(line), path, 1, t, out);
				free(line);
			}
			return;
		}
		cJSON_ArrayForEach(e, v)
		{
			walk(e, path, jpath_index(path, plen, cap, i++), cap, depth + 1, 0, 0, t,
			     out);
			path[plen] = '\0';
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		const cJSON *cmd = NULL, *args = NULL;

		/* {"command": "git", "args": ["status"]}: one command line. */
		cJSON_ArrayForEach(e, v)
		{
			if (!e->string)
				continue;
			if (cJSON_IsString(e) &&
			    (!strcasecmp(e->string, "command") || !strcasecmp(e->string, "cmd") ||
			     !strcasecmp(e->string, "executable") ||
			     !strcasecmp(e->string, "program")))
				cmd = e;
			if (((cJSON_IsArray(e) && all_strings(e)) || cJSON_IsString(e)) &&
			    (!strcasecmp(e->string, "args") || !strcasecmp(e->string, "argv") ||
			     !strcasecmp(e->string, "arguments")))
				args = e;
		}
		if (cmd && args) {
			/* an args array is words; an args string is more command line */
			char *line = cJSON_IsString(args) ? xstrdup(args->valuestring)
							  : quote_argv(args, NULL),
			     *full;
			jpath_key(path, plen, cap, cmd->string);
			xasprintf(&full, "%s %s", cmd->valuestring, line);
			scan_text(full, strlen(full), path, 1, t, out);
			path[plen] = '\0';
			free(line);
			free(full);
		}
		cJSON_ArrayForEach(e, v)
		{
			int strong2 = 0, ck;
			size_t w;

			if (!e->string || (cmd && args && (e == cmd || e == args)))
				continue;
			w = jpath_key(path, plen, cap, e->string);
			ck = key_is_command(e->string, &strong2);
			walk(e, path, w, cap, depth + 1, ck, strong2, t, out);
			path[plen] = '\0';
		}
		if (cmd && args) {
			/* the pair was scanned as one line; policy rules still see the raw parts */
			texts_add(t, cmd->valuestring, strlen(cmd->valuestring), "params.arguments",
				  0);
		}
	}
}

void shell_scan_call(const char *tool, const cJSON *args, struct findings *out)
{
	struct texts t = {.on = toolrules_count(S.tr) > 0};
	char path[128];

	if (!S.inited || !S.enabled)
		return;
	S.parses_left = SHELL_MAX_PARSES;
	S.work_left = SHELL_MAX_WORK;
	mg_strlcpy(path, "params.arguments", sizeof(path));
	if (args)
		walk(args, path, strlen(path), sizeof(path), 0, 0, 0, &t, out);
	toolrules_scan(S.tr, tool, t.v, t.n, out);
	texts_free(&t);
}

void shell_scan_command(const char *cmd, size_t len, const char *where, int strong,
			struct findings *out)
{
	struct texts t = {0};

	if (!S.inited || !S.enabled)
		return;
	S.parses_left = SHELL_MAX_PARSES;
	S.work_left = SHELL_MAX_WORK;
	scan_text(cmd, len, where ? where : "", strong, &t, out);
}

unsigned shell_command_effects(const char *cmd, size_t len)
{
	struct findings *f;
	struct sh_parse p;
	unsigned fx = 0;

	if (!S.inited)
		return 0;
	f = xcalloc(1, sizeof(*f));
	sh_parse(cmd, len, S.env, &p);
	judge(&p, "", 0, f);
	for (size_t i = 0; i < p.ncmd; i++) {
		const struct sh_cmd *c = &p.cmd[i];

		if (is_name(c, net_senders))
			fx |= SHELL_FX_NET_SEND;
		if (reads_any_file(c))
			fx |= SHELL_FX_FILE_READ;
	}
	if (p.obf)
		fx |= SHELL_FX_OBFUSCATED;
	for (size_t i = 0; i < f->n; i++) {
		const char *r = f->v[i].rule;

		if (!strcmp(r, "credential-read"))
			fx |= SHELL_FX_CRED_READ | SHELL_FX_FILE_READ;
		else if (!strncmp(r, "exfil-", 6))
			fx |= SHELL_FX_EXFIL | SHELL_FX_NET_SEND;
		else if (!strcmp(r, "download-exec") || !strcmp(r, "decode-exec") ||
			 !strcmp(r, "reverse-shell"))
			fx |= SHELL_FX_REMOTE_CODE;
		else if (!strncmp(r, "destructive-", 12) || !strcmp(r, "fork-bomb") ||
			 !strcmp(r, "system-shutdown"))
			fx |= SHELL_FX_DESTROY;
		else if (!strncmp(r, "persistence-", 12))
			fx |= SHELL_FX_PERSIST;
	}
	sh_parse_free(&p);
	free(f);
	return fx;
}
