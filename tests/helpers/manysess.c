/*
 * manysess N: places N waiting children (long command lines) through one control
 * connection, then asks for the session list on another and prints what came back:
 * "sessions: ok N", "sessions: refused: why", or "sessions: no reply: why" (5 s
 * receive timeout, so a reply the daemon could not send shows instead of hanging).
 * Closing the first connection ends the sessions and kills the children.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 0, s1, s2, placed = 0;
	struct timeval tv = {.tv_sec = 5};
	char cmd[251], sess[40], err[256];
	char *cargv[] = {cmd, NULL};
	cJSON *req, *reply = NULL, *arr;
	pid_t *kids;
	uint64_t cgid;

	if (n <= 0 || n > 4000)
		return 2;
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[sizeof(cmd) - 1] = '\0';
	if ((s1 = ctl_connect(NULL)) < 0 || (s2 = ctl_connect(NULL)) < 0) {
		perror("connect to mcpguardd");
		return 2;
	}
	if ((kids = calloc((size_t)n, sizeof(*kids))) == NULL)
		return 2;
	for (int i = 0; i < n; i++) {
		if ((kids[i] = fork()) < 0)
			break;
		if (kids[i] == 0) {
			close(s1);
			close(s2);
			pause();
			_exit(0);
		}
		if (ctl_place(s1, kids[i], cargv, sess, sizeof(sess), &cgid, err, sizeof(err)) <
		    0) {
			printf("place %d: %s\n", i, err);
			break;
		}
		placed++;
	}
	setsockopt(s2, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "sessions");
	if (ctl_call(s2, req, -1, &reply, err, sizeof(err)) == 0) {
		arr = cJSON_GetObjectItemCaseSensitive(reply, "sessions");
		printf("sessions: ok %d (placed %d)\n", cJSON_GetArraySize(arr), placed);
	} else if (strstr(err, "mcpguardd: ") == err) {
		printf("sessions: refused: %s (placed %d)\n", err, placed);
	} else {
		printf("sessions: no reply: %s (placed %d)\n", err, placed);
	}
	fflush(stdout);
	cJSON_Delete(reply);
	cJSON_Delete(req);
	close(s1);
	close(s2);
	for (int i = 0; i < n; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
		}
	free(kids);
	return 0;
}
