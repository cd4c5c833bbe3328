/*
 * Minimal unit-test harness. Each TEST() registers itself; the runner prints
 * "ok - name" / "not ok - name" per test and a closing "N passed, N failed" line.
 */
#ifndef MG_T_H
#define MG_T_H

#include <stdio.h>
#include <string.h>

struct t_case {
	const char *name;
	const char *file;
	void (*fn)(int *failed);
	struct t_case *next;
};
void t_register(struct t_case *c);

#define TEST(name)                                                                                 \
	static void t_fn_##name(int *t_failed);                                                    \
	static struct t_case t_case_##name = {#name, __FILE__, t_fn_##name, NULL};                 \
	__attribute__((constructor)) static void t_reg_##name(void)                                \
	{                                                                                          \
		t_register(&t_case_##name);                                                        \
	}                                                                                          \
	static void t_fn_##name(int *t_failed)

#define T_FAIL(...)                                                                                \
	do {                                                                                       \
		fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                  \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		*t_failed = 1;                                                                     \
	} while (0)

#define ASSERT_TRUE(c)                                                                             \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			T_FAIL("expected true: %s", #c);                                           \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define ASSERT_FALSE(c) ASSERT_TRUE(!(c))
#define ASSERT_EQ(a, b)                                                                            \
	do {                                                                                       \
		long long t_a = (long long)(a), t_b = (long long)(b);                              \
		if (t_a != t_b) {                                                                  \
			T_FAIL("%s == %s: %lld != %lld", #a, #b, t_a, t_b);                        \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define ASSERT_STREQ(a, b)                                                                         \
	do {                                                                                       \
		const char *t_a = (a), *t_b = (b);                                                 \
		if (!t_a || !t_b || strcmp(t_a, t_b) != 0) {                                       \
			T_FAIL("%s == %s: \"%s\" != \"%s\"", #a, #b, t_a ? t_a : "(null)",         \
			       t_b ? t_b : "(null)");                                              \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#endif
