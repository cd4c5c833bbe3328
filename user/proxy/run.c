/* mcpguard run: spawn the MCP server and relay its stdio through the scanning pipeline. */
#include <errno.h>
#include <getopt.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "findlog.h"
#include "log.h"
#include "pipeline.h"
#include "pmetrics.h"
#include "relay.h"
#include "spawn.h"
#include "xmalloc.h"

static int run_usage(void)
{
	fprintf(stderr, "usage: mcpguard run [--policy FILE] [--log FILE] [-v] -- CMD [ARGS...]\n");
	return 2;
}

/* The server's identity for drift baselines: its command line. */
char *server_id(char **argv)
{
	size_t n = 1;
	char *s;

	for (char **a = argv; *a; a++)
		n += strlen(*a) + 1;
	s = xcalloc(1, n);
	for (char **a = argv; *a; a++) {
		if (a != argv)
			strcat(s, " ");
		strcat(s, *a);
	}
	return s;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"policy", required_argument, NULL, 'p'},
	    {"log", required_argument, NULL, 'l'},
	    {"no-scan", no_argument, NULL, 'N'}, /* benchmark baseline: framing and ids only */
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *policy_path = NULL, *log_path = NULL;
	int c, scan = 1, verbose = 0, status, sfd, code;
	struct policy *pol;
	struct findlog flog;
	struct pipeline p;
	struct child child;
	struct guard g;
	char gmsg[256];
	int gr;
	struct relay_stats st = {0};
	char err[512], *id;
	sigset_t mask;

	while ((c = getopt_long(argc, argv, "+p:l:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			policy_path = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'N':
			scan = 0;
			break;
		case 'v':
			verbose++;
			break;
		default:
			return run_usage();
		}
	}
	if (optind >= argc)
		return run_usage();
	/*
	 * Signals arrive on a descriptor so the relay loop sees them between
	 * messages; blocked from the start so one sent while the scanners compile
	 * is forwarded to the server rather than lost.
	 */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		fatal("sigprocmask");
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		fatal("signalfd");
	signal(SIGPIPE, SIG_IGN); /* a peer that went away is seen as EPIPE */
	argv += optind;
	log_init("mcpguard", verbose);

	pol = policy_load(policy_path, err, sizeof(err));
	if (!pol) {
		warnx("policy: %s", err);
		return 2;
	}
	mg_malloc_keep_large();
	if (findlog_open(&flog, log_path) < 0) {
		warn("cannot open log file %s", log_path);
		policy_free(pol);
		return 2;
	}
	/* Said once, on stderr: whether the kernel guards this server or only we do. */
	gr = guard_open(&g, gmsg, sizeof(gmsg));
	if (gr < 0) {
		warnx("mcpguardd answered but not usefully: %s; not starting the server", gmsg);
		findlog_close(&flog);
		policy_free(pol);
		return 2;
	}
	if (gr == 0)
		warnx("%s", gmsg);
	else
		info("%s", gmsg);
	id = server_id(argv);
	if (pipeline_init(&p, pol, &flog, id, environ, scan, err, sizeof(err)) != 0) {
		warnx("cannot start the scanners (the server is not started): %s", err);
		free(id);
		return 2;
	}
	free(id);
#if defined(__GLIBC__)
	(void)malloc_trim(0); /* what loading the pattern databases freed */
#endif

	p.guard = &g;
	err[0] = '\0';
	if (spawn_server(argv, pol, &g, &child, err, sizeof(err)) < 0) {
		warnx("cannot start '%s': %s", argv[0], err[0] ? err : strerror(errno));
		code = errno == ENOENT ? 127 : 126;
		guard_close(&g);
		pipeline_free(&p);
		findlog_close(&flog);
		policy_free(pol);
		return code;
	}
	/* With a daemon session, what is scanned and found is counted and served by it. */
	p.metrics = pmetrics_new(&g);
	status = relay_run(&p, STDIN_FILENO, STDOUT_FILENO, &child, sfd, &st);
	pmetrics_free(p.metrics); /* the last counts, while the connection is open */
	p.metrics = NULL;
	close(sfd);
	debug("relay: %llu messages from the client (%llu blocked), %llu from the server (%llu "
	      "blocked); %llu bytes spliced, %llu written, %llu dropped",
	      p.nmsg[DIR_C2S], p.nblocked[DIR_C2S], p.nmsg[DIR_S2C], p.nblocked[DIR_S2C],
	      st.spliced, st.written, st.dropped);
	/* Closing the control connection ends the session: the daemon removes its cgroup. */
	guard_close(&g);
	pipeline_free(&p);
	findlog_close(&flog);
	policy_free(pol);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
