/* Logging in the OpenBSD manner: fatal() never returns, warn() keeps going. */
#ifndef MG_LOG_H
#define MG_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

void log_init(const char *progname, int verbose);
int log_verbose(void);
noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))); /* with strerror(errno) */
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* without */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
