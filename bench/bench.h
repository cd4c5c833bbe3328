/* Shared by the benchmarks: a CPU clock and a small deterministic generator. */
#ifndef MG_BENCH_H
#define MG_BENCH_H

#include <stdint.h>
#include <time.h>

/* CPU seconds of this thread: the machine is shared, wall time would measure the neighbours. */
static inline double bench_cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* xorshift32: the same text on every run, so runs compare. */
static inline uint32_t bench_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

#endif
