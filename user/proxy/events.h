/* `mcpguard events [--follow] [--json] [--file F]`: what is being blocked, and why. */
#ifndef MG_EVENTS_CMD_H
#define MG_EVENTS_CMD_H

#define MG_EVENTS_FILE "/var/log/mcpguard/events.jsonl"

int cmd_events(int argc, char **argv);
/* Render one event line for a person; returns 0, or -1 when it is not an event. */
int evcmd_render(const char *line, int colour, char *out, size_t cap);

#endif
