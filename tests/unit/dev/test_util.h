/*
 * Minimal harness for the device tests: one line per check ("ok" / "FAIL"), a closing
 * "N passed, M failed" line, and a non-zero exit status on any failure. Time is driven
 * by moving a deterministic clock (clock.h: now = retired + skipped_ns) and firing due
 * timers in deadline order, as the machine's run loop does.
 */
#ifndef TURTLES_TESTS_DEV_TEST_UTIL_H
#define TURTLES_TESTS_DEV_TEST_UTIL_H

#include <inttypes.h>
#include <stdio.h>

#include "cpu/bus.h"
#include "cpu/clock.h"

static int t_passed, t_failed;

#define CHECK(cond, ...)                                        \
	do {                                                    \
		int ok_ = !!(cond);                             \
		ok_ ? t_passed++ : t_failed++;                  \
		printf("%s ", ok_ ? "ok  " : "FAIL");           \
		printf(__VA_ARGS__);                            \
		printf("\n");                                   \
	} while (0)

#define CHECK_EQ(actual, expected, what)                                              \
	do {                                                                          \
		uint64_t a_ = (uint64_t)(actual), e_ = (uint64_t)(expected);          \
		CHECK(a_ == e_, "%s: got 0x%" PRIx64 ", want 0x%" PRIx64, what, a_, e_); \
	} while (0)

static inline int test_done(void)
{
	printf("%d passed, %d failed\n", t_passed, t_failed);
	return t_failed != 0;
}

/* Move virtual time to t without firing timers. */
static inline void clock_set(struct clock *c, uint64_t t)
{
	uint64_t now = clock_now(c);
	if (t > now)
		c->retired += t - now;
}

static inline uint64_t clock_earliest(const struct clock *c)
{
	uint64_t d = CLOCK_NEVER;
	for (int i = 0; i < c->n_timers; i++)
		if (c->timers[i].deadline < d)
			d = c->timers[i].deadline;
	return d;
}

/* Advance to t, stopping at every timer deadline on the way to fire it. */
static inline void clock_advance_to(struct clock *c, uint64_t t)
{
	for (;;) {
		uint64_t d = clock_earliest(c);
		if (d > t)
			break;
		clock_set(c, d);
		clock_run_timers(c);
	}
	clock_set(c, t);
}

/* Advance until the next timer fires (at most to limit); returns the time it fired. */
static inline uint64_t clock_step(struct clock *c, uint64_t limit)
{
	uint64_t d = clock_earliest(c);
	if (d > limit) {
		clock_set(c, limit);
		return CLOCK_NEVER;
	}
	clock_set(c, d);
	clock_run_timers(c);
	return d;
}

static inline uint8_t inb(struct bus *b, uint16_t port)
{
	return (uint8_t)bus_in(b, port, 1);
}

static inline void outb(struct bus *b, uint16_t port, uint8_t v)
{
	bus_out(b, port, 1, v);
}

#endif
