/*
 * mcpguardd: kernel enforcement for the MCP cgroup.
 *
 *   mcpguardd --cgroup /mcp [--policy FILE] [--audit] [--require-lsm] [--pin-root DIR]
 *             [--events FILE] [--socket PATH] [--record FILE|none]
 *             [--record-rotate SIZE] [--metrics ADDR|unix:PATH|none] [-v]
 *   mcpguardd --uninstall [--pin-root DIR]
 *
 * Start-up order matters: policy (refuse a bad one), cgroup, BPF load + rules +
 * attach (or adopt pinned links), files, flight recorder and metrics (the
 * recorder key is root's), events, control socket, then drop capabilities and
 * serve. Any hook that cannot be attached is fatal: the daemon never runs while
 * pretending to enforce. On exit the pinned links stay; only --uninstall turns
 * enforcement off.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <linux/types.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "caps.h"
#include "cgroup.h"
#include "ctl.h"
#include "daemon.h"
#include "egress.h"
#include "events.h"
#include "evidence.h"
#include "log.h"
#include "pin.h"

#define TICK_MS 1000
#define FILES_TICK_SECS 5

static void usage(void)
{
	fprintf(stderr, "usage: mcpguardd --cgroup PATH [--policy FILE] [--audit] [--require-lsm]\n"
			"                 [--pin-root DIR] [--events FILE] [--socket PATH]\n"
			"                 [--record FILE|none] [--record-rotate SIZE]\n"
			"                 [--metrics ADDR|unix:PATH|none] [-v]\n"
			"       mcpguardd --uninstall [--pin-root DIR]\n");
	exit(2);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbose() < 2)
		return 0;
	if (level == LIBBPF_INFO && log_verbose() < 1)
		return 0;
	fputs("mcpguardd: libbpf: ", stderr);
	return vfprintf(stderr, fmt, ap);
}

static const char *files_mode_name(enum files_mode m)
{
	switch (m) {
	case FILES_OFF:
		return "OFF";
	case FILES_LSM:
		return "enforcing with BPF-LSM";
	case FILES_FALLBACK:
		return "FALLBACK kill-on-access (no BPF-LSM)";
	case FILES_UNAVAILABLE:
		return "UNAVAILABLE: credential files are NOT protected";
	}
	return "unknown";
}

static int setup_signals(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		fatal("signalfd");
	return fd;
}

/* Returns 1 when the daemon should stop. */
static int on_signal(struct daemon *d, int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			daemon_reload(d);
			continue;
		}
		info("signal %u: stopping (pinned enforcement stays; --uninstall removes it)",
		     si.ssi_signo);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"cgroup", required_argument, NULL, 'c'},
	    {"policy", required_argument, NULL, 'p'},
	    {"audit", no_argument, NULL, 'a'},
	    {"require-lsm", no_argument, NULL, 'L'},
	    {"uninstall", no_argument, NULL, 'U'},
	    {"pin-root", required_argument, NULL, 'P'},
	    {"events", required_argument, NULL, 'e'},
	    {"socket", required_argument, NULL, 's'},
	    {"record", required_argument, NULL, 'R'},
	    {"record-rotate", required_argument, NULL, 'O'},
	    {"metrics", required_argument, NULL, 'M'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct daemon d;
	const char *cgroup = NULL, *events_path = NULL, *sock = NULL;
	const char *record = NULL, *metrics = NULL;
	uint64_t rotate = EVIDENCE_ROTATE_DEFAULT;
	bool audit = false, uninstall = false;
	int verbose = 0, ch, sfd, rbfd, ctlfd, stop = 0;
	time_t next_files = 0;
	char err[1024];

	d.cgroup_fd = -1;
	d.pin_root = MG_PIN_ROOT;
	while ((ch = getopt_long(argc, argv, "c:p:aLUP:e:s:vh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			cgroup = optarg;
			break;
		case 'p':
			d.policy_path = optarg;
			break;
		case 'a':
			audit = true;
			break;
		case 'L':
			d.require_lsm = true;
			break;
		case 'U':
			uninstall = true;
			break;
		case 'P':
			d.pin_root = optarg;
			break;
		case 'e':
			events_path = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'R':
			record = optarg;
			break;
		case 'M':
			metrics = optarg;
			break;
		case 'O':
			if (evidence_parse_size(optarg, &rotate) < 0)
				fatalx(
				    "--record-rotate: '%s' is not a size (e.g. 64M, 1G; 0: never)",
				    optarg);
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("mcpguardd", verbose);
	libbpf_set_print(libbpf_log);

	if (uninstall) {
		int rc = 0, lock = -1;

		/* A running daemon's open links would keep its hooks attached: refuse. */
		if (access(d.pin_root, F_OK) == 0 && (lock = pin_lock(d.pin_root)) < 0)
			fatalx("stop the running mcpguardd first; nothing removed");
		if (files_uninstall(d.pin_root) < 0)
			rc = 1;
		if (pin_uninstall(d.pin_root) < 0)
			rc = 1;
		if (lock >= 0)
			close(lock);
		return rc;
	}
	if (!cgroup)
		usage();
	if (!sock)
		sock = getenv("MCPGUARD_CTL_SOCK");
	if (!sock)
		sock = MG_CTL_SOCK;

	/* A bad policy stops here, naming file, line and key. */
	if ((d.pol = policy_load(d.policy_path, err, sizeof(err))) == NULL)
		fatalx("policy not loaded, not starting: %s", err);
	d.audit_cli = audit;
	d.audit = audit || d.pol->audit;
	if (geteuid() != 0)
		fatalx("must run as root (loads BPF programs and manages cgroups)");

	sfd = setup_signals();
	if (cgroup_setup(&d, cgroup, err, sizeof(err)) < 0)
		fatalx("%s", err);
	if (pin_prepare(d.pin_root) < 0)
		fatalx("cannot prepare pin root %s", d.pin_root);
	if (pin_lock(d.pin_root) < 0) /* held (fd left open) until exit */
		fatalx("not starting");
	if (egress_start(&d) < 0)
		fatalx("network egress enforcement could not be set up; not starting");
	if (files_start(&d) < 0)
		fatalx("credential-file enforcement could not be set up (%s); not starting",
		       d.files_reason[0] ? d.files_reason : "see above");
	if (egress_lsm_start(&d, d.files_mode == FILES_LSM,
			     d.files_mode == FILES_OFF ? "not probed: files disabled by policy"
						       : "unavailable on this kernel") < 0)
		fatalx("packet-socket enforcement could not be set up; not starting");
	if (evidence_start(&d, record, record != NULL, rotate, metrics, metrics != NULL) < 0)
		fatalx("flight recorder or metrics could not be set up as asked; not starting");
	if ((rbfd = events_start(&d, events_path)) < 0)
		fatalx("events could not be set up; not starting");
	if ((ctlfd = control_start(&d, sock)) < 0)
		fatalx("control socket %s could not be set up; not starting", sock);
	if (caps_drop() < 0)
		fatalx("could not drop capabilities; not starting");
	/* Loading parsed the kernel's BTF (megabytes, now freed): give it back. */
	malloc_trim(0);

	info("guarding %s (cgroup2 at %s, id %llu, level %u); %s pins under %s", d.cgroup_rel,
	     d.cgroup_mount, (unsigned long long)d.cgid, d.level,
	     d.adopted ? "adopted the enforcement" : "installed", d.pin_root);
	info("network: %s", egress_describe(&d));
	info("files: %s%s%s", files_mode_name(d.files_mode), d.files_reason[0] ? ": " : "",
	     d.files_reason);
	info("policy: %s; events to %s; control socket %s; capabilities kept: %s",
	     d.policy_path ? d.policy_path : "built-in defaults",
	     events_path ? events_path : "stdout", sock, caps_kept());
	info("evidence: %s; %s", evidence_record_note(&d), evidence_metrics_note(&d));

	while (!stop) {
		struct pollfd pfd[5] = {
		    {.fd = rbfd, .events = POLLIN},
		    {.fd = ctlfd, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		    {.fd = egress_fd(&d), .events = POLLIN},
		    {.fd = evidence_metrics_fd(&d), .events = POLLIN}, /* -1: ignored */
		};
		time_t now;

		if (poll(pfd, 5, TICK_MS) < 0 && errno != EINTR)
			fatal("poll");
		if (pfd[4].revents)
			evidence_metrics_serve(&d);
		if (pfd[3].revents)
			egress_poll(&d);
		if (pfd[0].revents)
			events_poll(&d);
		if (pfd[1].revents)
			control_dispatch(&d);
		if (pfd[2].revents)
			stop = on_signal(&d, sfd);
		now = time(NULL);
		egress_tick(&d, now);
		events_tick(&d, now);
		control_tick(&d);
		evidence_tick(&d, now);
		if (now >= next_files) {
			files_tick(&d);
			next_files = now + FILES_TICK_SECS;
		}
	}

	control_stop(&d);
	files_stop(&d);
	events_stop(&d);
	evidence_stop(&d); /* after the last events and session ends are recorded */
	egress_stop(&d);
	close(d.cgroup_fd);
	policy_free(d.pol);
	daemon_rules_free(&d);
	return 0;
}
