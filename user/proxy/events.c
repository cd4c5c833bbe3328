#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "events.h"

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/*
 * comm, target and exe come from the guarded process (its name, the paths it
 * opens): control characters in them would be terminal escapes that can hide
 * or forge lines of this very listing.
 */
static void defang(cJSON *e)
{
	cJSON *c;

	cJSON_ArrayForEach(c, e)
	{
		unsigned char *p;

		if (!cJSON_IsString(c))
			continue;
		for (p = (unsigned char *)c->valuestring; *p; p++) {
			if (*p < 0x20 || *p == 0x7f)
				*p = '?';
			else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
				p[0] = p[1] = '?'; /* C1 controls (U+0080..U+009F), e.g. CSI */
		}
	}
}

int evcmd_render(const char *line, int colour, char *out, size_t cap)
{
	cJSON *e = cJSON_Parse(line);
	const char *action, *time, *kind, *c0 = "", *c1 = "";
	const cJSON *pid;
	int n;

	if (!e || !cJSON_IsObject(e)) {
		cJSON_Delete(e);
		return -1;
	}
	defang(e);
	action = jstr(e, "action");
	kind = jstr(e, "kind");
	time = jstr(e, "time");
	pid = cJSON_GetObjectItemCaseSensitive(e, "pid");
	if (colour && action) {
		c1 = "\033[0m";
		if (!strcmp(action, "block") || !strcmp(action, "kill"))
			c0 = "\033[1;31m";
		else if (!strcmp(action, "audit") || !strcmp(action, "warn"))
			c0 = "\033[33m";
		else
			c0 = "\033[32m";
	}
	if (kind && !action)
		n = snprintf(out, cap, "%s %s session=%s action=%s", time ? time : "-", kind,
			     jstr(e, "session") ? jstr(e, "session") : "-",
			     jstr(e, "action") ? jstr(e, "action") : "-");
	else
		n = snprintf(
		    out, cap, "%s %s%-6s%s %-9s %s[%d] %s -> %s (rule %s) exe=%s cgroup=%s",
		    time ? time : "-", c0, action ? action : "?", c1,
		    jstr(e, "hook") ? jstr(e, "hook") : "-",
		    jstr(e, "comm") ? jstr(e, "comm") : "?",
		    cJSON_IsNumber(pid) ? pid->valueint : -1,
		    jstr(e, "hook") && strncmp(jstr(e, "hook"), "file", 4) == 0 ? "open"
										: "connect",
		    jstr(e, "target") ? jstr(e, "target") : "?",
		    jstr(e, "rule") ? jstr(e, "rule") : "-", jstr(e, "exe") ? jstr(e, "exe") : "-",
		    jstr(e, "cgroup") ? jstr(e, "cgroup") : "-");
	cJSON_Delete(e);
	return n < 0 ? -1 : 0;
}

static void emit(const char *line, int json, int colour)
{
	char buf[2048];

	if (json) {
		fputs(line, stdout);
		fputc('\n', stdout);
	} else if (evcmd_render(line, colour, buf, sizeof(buf)) == 0)
		puts(buf);
	fflush(stdout);
}

int cmd_events(int argc, char **argv)
{
	const char *file = getenv("MCPGUARD_EVENTS") ?: MG_EVENTS_FILE;
	int follow = 0, json = 0, colour = isatty(STDOUT_FILENO), ino = -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f"))
			follow = 1;
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--file") && i + 1 < argc)
			file = argv[++i];
		else {
			fprintf(stderr, "usage: mcpguard events [--follow] [--json] [--file F]\n");
			return 2;
		}
	}
	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "mcpguard: %s: %s (is mcpguardd running with --events?)\n", file,
			strerror(errno));
		return 1;
	}
	if (follow && (ino = inotify_init1(IN_CLOEXEC)) >= 0)
		inotify_add_watch(ino, file, IN_MODIFY);
	for (;;) {
		while ((n = getline(&line, &cap, f)) > 0) {
			if (line[n - 1] != '\n') {
				/* A line still being written: come back for the rest. */
				fseek(f, -(long)n, SEEK_CUR);
				break;
			}
			line[n - 1] = '\0';
			emit(line, json, colour);
		}
		if (!follow)
			break;
		clearerr(f);
		if (ino >= 0) {
			struct pollfd p = {.fd = ino, .events = POLLIN};
			char ev[4096];

			if (poll(&p, 1, 1000) > 0 && read(ino, ev, sizeof(ev)) < 0)
				break;
		} else
			sleep(1);
	}
	free(line);
	fclose(f);
	if (ino >= 0)
		close(ino);
	return 0;
}
