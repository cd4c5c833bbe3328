/* Whole-buffer reads and writes on a file descriptor (EINTR retried). */
#ifndef MG_FDIO_H
#define MG_FDIO_H

#include <stddef.h>

/* Write all n bytes of buf; 0, or -1 with errno set (a 0-byte write counts as an error). */
int fd_write_all(int fd, const void *buf, size_t n);
/* Read exactly n bytes into buf; 0, or -1 on error or end of file before n. */
int fd_read_all(int fd, void *buf, size_t n);

#endif
