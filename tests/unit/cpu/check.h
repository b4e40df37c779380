/* The check macros of the cpu unit tests: count passes, print each failure with its
 * place and (for CHECK_EQ) both values. Header-only; each test program is one file. */
#ifndef TURTLES_TESTS_CHECK_H
#define TURTLES_TESTS_CHECK_H

#include <inttypes.h>
#include <stdio.h>

static int n_pass, n_fail;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (cond) {                                                      \
			n_pass++;                                                \
		} else {                                                         \
			n_fail++;                                                \
			fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #cond); \
		}                                                                \
	} while (0)

#define CHECK_EQ(a, b)                                                           \
	do {                                                                     \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                 \
		if (a_ == b_) {                                                  \
			n_pass++;                                                \
		} else {                                                         \
			n_fail++;                                                \
			fprintf(stderr, "%s:%d: FAIL %s == %s: 0x%" PRIx64 " != 0x%" PRIx64 "\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);             \
		}                                                                \
	} while (0)

#endif
