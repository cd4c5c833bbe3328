/* The subcommands of mcpguard; each lives in its own file and returns the exit code. */
#ifndef MG_COMMANDS_H
#define MG_COMMANDS_H

int cmd_run(int argc, char **argv);
int cmd_accept(int argc, char **argv);

/* The identity baselines are kept under: the server's command line (malloc'd). */
char *server_id(char **argv);

#endif
