/* The subcommands of mcpguard; each lives in its own file and returns the exit code. */
#ifndef MG_COMMANDS_H
#define MG_COMMANDS_H

int cmd_run(int argc, char **argv);

#endif
