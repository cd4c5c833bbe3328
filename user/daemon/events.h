/* Ring-buffer events -> one JSON line each (stdout or --events FILE). */
#ifndef MG_EVENTS_H
#define MG_EVENTS_H

#include <time.h>

#include "daemon.h"

/* Open the pinned ring buffer and the output; returns a pollable fd, -1 on error. */
int events_start(struct daemon *d, const char *path);
/* Drain what is ready. */
void events_poll(struct daemon *d);
/* Report ring-buffer drops when they grew. */
void events_tick(struct daemon *d, time_t now);
/* Drain, report drops, close. */
void events_stop(struct daemon *d);

#endif
