/*
 * The relay loop: poll() on both directions, bounded queues, and zero-copy
 * forwarding. When a source is a pipe, its bytes are tee()d into a private
 * hold pipe before they are read for scanning; a message the pipeline allows
 * is then splice()d from the hold pipe to its destination, so the bytes are
 * copied to user space once (for scanning) and never written back. Messages
 * that do not fit the hold pipe, or sources that are not pipes, fall back to
 * write() from the scan buffer.
 */
#ifndef MG_RELAY_H
#define MG_RELAY_H

#include "pipeline.h"
#include "spawn.h"

struct relay_stats {
	unsigned long long spliced, written, dropped; /* bytes */
};

/*
 * Relay between the client (cin/cout) and the server until both are done.
 * sigfd is a signalfd for SIGCHLD and the signals to forward. Returns the
 * server's wait status.
 */
int relay_run(struct pipeline *p, int cin, int cout, struct child *c, int sigfd,
	      struct relay_stats *st);

#endif
