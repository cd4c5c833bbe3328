/* `mcpguard sessions` and `mcpguard release`: talk to mcpguardd's control socket. */
#ifndef MG_SESSIONS_CMD_H
#define MG_SESSIONS_CMD_H

int cmd_sessions(int argc, char **argv);
int cmd_release(int argc, char **argv);

#endif
