/*
 * Flight-recorder writer for the crash test (tests/host/t_recorder.sh).
 * recwriter LOG KEY COUNT EVERY ROTATE_BYTES PAD [DELAY_US]
 *   COUNT events (0: until killed), a checkpoint every EVERY lines, rotation at
 *   ROTATE_BYTES (0: none), each event padded with PAD bytes so that one write(2)
 *   spans many pages (a kill then has a chance to land inside it). After every
 *   append returns, the seq written so far goes to stdout: what the caller was
 *   promised is on disk. DELAY_US between events keeps the crash test's logs small.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "recorder.h"
#include "xmalloc.h"

int main(int argc, char **argv)
{
	struct rec_opts o = {0};
	struct recorder *r;
	char err[256], *pad;
	unsigned long long count, i;
	cJSON *extra;
	size_t padn;

	unsigned delay;

	if (argc != 7 && argc != 8) {
		fprintf(stderr,
			"usage: recwriter LOG KEY COUNT EVERY ROTATE_BYTES PAD [DELAY_US]\n");
		return 2;
	}
	o.path = argv[1];
	o.key_path = argv[2];
	o.source = "daemon";
	count = strtoull(argv[3], NULL, 10);
	o.checkpoint_every = (unsigned)strtoul(argv[4], NULL, 10);
	o.rotate_bytes = strtoull(argv[5], NULL, 10);
	padn = strtoul(argv[6], NULL, 10);
	delay = argc == 8 ? (unsigned)strtoul(argv[7], NULL, 10) : 0;
	if (!(r = recorder_open(&o, err, sizeof(err)))) {
		fprintf(stderr, "recwriter: %s\n", err);
		return 1;
	}
	pad = xmalloc(padn + 1);
	memset(pad, 'x', padn);
	pad[padn] = '\0';
	extra = cJSON_CreateObject();
	cJSON_AddStringToObject(extra, "pad", pad);
	for (i = 0; count == 0 || i < count; i++) {
		struct rec_event ev = {.kind = "kernel-deny",
				       .scanner = "lsm",
				       .rule = "ssh-keys",
				       .verdict = "block",
				       .summary = "open ~/.ssh/id_ed25519",
				       .extra = extra};

		if (recorder_append(r, &ev) < 0) {
			perror("recwriter: append");
			return 1;
		}
		dprintf(1, "%llu\n", (unsigned long long)recorder_seq(r));
		if (delay)
			usleep(delay);
	}
	cJSON_Delete(extra);
	free(pad);
	return recorder_close(r) < 0;
}
