/* Evidence and operations subcommands (verify.c, doctor.c, assess.c); each returns the exit code.
 */
#ifndef MG_CMDS_H
#define MG_CMDS_H

int cmd_verify(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_assess(int argc, char **argv);

#endif
