/*
 * fileprobe MODE PATH [PATH2]: try one way of reaching a file's contents (or of
 * giving it another name) and report how it went, for the credential-file tests.
 *
 *   open      open(O_RDONLY) and read          openat2   openat2(RESOLVE_NO_MAGICLINKS off)
 *   opath     O_PATH open, then read() that fd procfd    O_PATH open, reopen /proc/self/fd/N
 *   uring     io_uring IORING_OP_OPENAT, read  truncate  truncate(PATH, 0)
 *   link      link(PATH, PATH2)                rename    rename(PATH, PATH2)
 *   openat    openat(open(PATH, O_PATH), PATH2): a name relative to a directory fd
 *   handle    name_to_handle_at(PATH)
 *   int80     open through the 32-bit syscall ABI (int $0x80) from this 64-bit process
 *
 * Prints "ok N" (bytes read) or "err NAME" and exits 0 on success, else with the
 * errno value (EPERM = 1), so a shell test can tell a kernel deny from any failure.
 * A kill-on-access verdict shows as death by SIGKILL (status 137 in sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int report_err(int e)
{
	printf("err %s\n", strerrorname_np(e) ? strerrorname_np(e) : "?");
	return e ? e : 255;
}

/* Read what an fd gives; a directory opened fine counts as opened. */
static int read_fd(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && errno != EISDIR) {
		int e = errno;

		close(fd);
		return report_err(e);
	}
	close(fd);
	printf("ok %zd\n", n < 0 ? (ssize_t)0 : n);
	return 0;
}

static int do_open(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? report_err(errno) : read_fd(fd);
}

static int do_openat2(const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	int fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));

	return fd < 0 ? report_err(errno) : read_fd(fd);
}

static int do_opath(const char *path, int reopen)
{
	char proc[64];
	int fd = open(path, O_PATH | O_CLOEXEC), fd2;

	if (fd < 0)
		return report_err(errno);
	if (!reopen)
		return read_fd(fd); /* read() on an O_PATH fd: EBADF, never data */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	fd2 = open(proc, O_RDONLY | O_CLOEXEC);
	if (fd2 < 0) {
		int e = errno;

		close(fd);
		return report_err(e);
	}
	close(fd);
	return read_fd(fd2);
}

/* One IORING_OP_OPENAT through raw syscalls (no liburing on the test images). */
static int do_uring(const char *path)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	char *sq, *cq;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask, tail;
	size_t sqlen, cqlen;
	int ring, res;

	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring < 0)
		return report_err(errno);
	sqlen = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	cqlen = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	sq = mmap(NULL, sqlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_SQ_RING);
	cq = mmap(NULL, cqlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
		  IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(*sqes), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
		return report_err(errno);
	sq_tail = (unsigned *)(sq + p.sq_off.tail);
	sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)(sq + p.sq_off.array);
	cq_head = (unsigned *)(cq + p.cq_off.head);
	cq_tail = (unsigned *)(cq + p.cq_off.tail);
	cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);

	memset(&sqes[0], 0, sizeof(sqes[0]));
	sqes[0].opcode = IORING_OP_OPENAT;
	sqes[0].fd = AT_FDCWD;
	sqes[0].addr = (unsigned long)path;
	sqes[0].open_flags = O_RDONLY | O_CLOEXEC;
	tail = *sq_tail;
	sq_array[tail & *sq_mask] = 0;
	atomic_store_explicit((_Atomic unsigned *)sq_tail, tail + 1, memory_order_release);
	if (syscall(__NR_io_uring_enter, ring, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0)
		return report_err(errno);
	if (atomic_load_explicit((_Atomic unsigned *)cq_tail, memory_order_acquire) == *cq_head) {
		printf("err no-completion\n");
		return 254;
	}
	cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) + (*cq_head & *cq_mask);
	res = cqe->res;
	close(ring);
	return res < 0 ? report_err(-res) : read_fd(res);
}

static int do_handle(const char *path)
{
	struct file_handle *fh = calloc(1, sizeof(*fh) + MAX_HANDLE_SZ);
	int mount_id;

	if (!fh)
		return report_err(ENOMEM);
	fh->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0)) {
		free(fh);
		return report_err(errno);
	}
	free(fh);
	printf("ok 0\n");
	return 0;
}

#if defined(__x86_64__)
/*
 * The ia32 table numbers syscalls differently (open = 5): a filter that only
 * knows the 64-bit numbers misses it. The path must sit below 4 GiB.
 */
static int do_int80(const char *path)
{
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	long ret;

	if (low == MAP_FAILED)
		return report_err(errno);
	snprintf(low, 4096, "%s", path);
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(5L), "b"((long)(unsigned long)low), "c"((long)O_RDONLY), "d"(0L)
			 : "memory");
	if (ret < 0)
		return report_err((int)-ret);
	return read_fd((int)ret);
}
#endif

static int status(int rc)
{
	if (rc)
		return report_err(errno);
	printf("ok 0\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *m;

	if (argc < 3) {
		fprintf(stderr, "usage: fileprobe MODE PATH [PATH2]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	m = argv[1];
	if (!strcmp(m, "open"))
		return do_open(argv[2]);
	if (!strcmp(m, "openat2"))
		return do_openat2(argv[2]);
	if (!strcmp(m, "opath"))
		return do_opath(argv[2], 0);
	if (!strcmp(m, "procfd"))
		return do_opath(argv[2], 1);
	if (!strcmp(m, "uring"))
		return do_uring(argv[2]);
	if (!strcmp(m, "truncate"))
		return status(truncate(argv[2], 0));
	if (!strcmp(m, "handle"))
		return do_handle(argv[2]);
#if defined(__x86_64__)
	if (!strcmp(m, "int80"))
		return do_int80(argv[2]);
#endif
	if (argc < 4) {
		fprintf(stderr, "fileprobe %s: needs two paths\n", m);
		return 2;
	}
	if (!strcmp(m, "openat")) {
		int dfd = open(argv[2], O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

		if (dfd < 0)
			return report_err(errno);
		fd = openat(dfd, argv[3], O_RDONLY | O_CLOEXEC);
		close(dfd);
		return fd < 0 ? report_err(errno) : read_fd(fd);
	}
	if (!strcmp(m, "link"))
		return status(link(argv[2], argv[3]));
	if (!strcmp(m, "rename"))
		return status(rename(argv[2], argv[3]));
	fprintf(stderr, "fileprobe: unknown mode %s\n", m);
	return 2;
}
