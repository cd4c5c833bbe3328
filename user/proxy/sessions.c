#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "sessions.h"

static int connect_or_say(void)
{
	int s = ctl_connect(NULL);

	if (s < 0)
		fprintf(stderr, "mcpguard: no mcpguardd at %s (%s): kernel enforcement is off\n",
			getenv("MCPGUARD_CTL_SOCK") ? getenv("MCPGUARD_CTL_SOCK") : MG_CTL_SOCK,
			strerror(errno));
	return s;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

int cmd_sessions(int argc, char **argv)
{
	cJSON *req = cJSON_CreateObject(), *reply = NULL, *arr, *s;
	int json = argc > 1 && strcmp(argv[1], "--json") == 0;
	char err[256];
	int fd, rc = 1;

	if ((fd = connect_or_say()) < 0) {
		cJSON_Delete(req);
		return 2;
	}
	cJSON_AddStringToObject(req, "op", "sessions");
	if (ctl_call(fd, req, -1, &reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "mcpguard: %s\n", err);
		goto out;
	}
	arr = cJSON_GetObjectItemCaseSensitive(reply, "sessions");
	if (json) {
		char *t = cJSON_PrintUnformatted(arr);

		if (t)
			puts(t);
		free(t);
	} else {
		printf("%-18s %-8s %-6s %-12s %-7s %s\n", "SESSION", "PID", "UID", "STATE",
		       "DENIES", "COMMAND");
		cJSON_ArrayForEach(s, arr)
		{
			int q = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "quarantined"));
			int t = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "tainted"));

			printf("%-18s %-8.0f %-6.0f %-12s %-7.0f %s\n", jstr(s, "session"),
			       jnum(s, "pid"), jnum(s, "uid"),
			       q   ? "quarantined"
			       : t ? "tainted"
				   : "guarded",
			       jnum(s, "kernel_denies"), jstr(s, "command"));
		}
	}
	rc = 0;
out:
	cJSON_Delete(reply);
	cJSON_Delete(req);
	close(fd);
	return rc;
}

int cmd_release(int argc, char **argv)
{
	cJSON *req, *reply = NULL;
	char err[256];
	int fd, rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: mcpguard release SESSION\n");
		return 2;
	}
	if ((fd = connect_or_say()) < 0)
		return 2;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "release");
	cJSON_AddStringToObject(req, "session", argv[1]);
	if (ctl_call(fd, req, -1, &reply, err, sizeof(err)) < 0)
		fprintf(stderr, "mcpguard: %s\n", err);
	else {
		printf("session %s released: quarantine and taint lifted\n", argv[1]);
		rc = 0;
	}
	cJSON_Delete(reply);
	cJSON_Delete(req);
	close(fd);
	return rc;
}
