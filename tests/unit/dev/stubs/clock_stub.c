/*
 * Test-only implementation of src/cpu/clock.h (deterministic mode only is exercised):
 * now = retired + skipped_ns. Timers fire in deadline order; a timer is disarmed before
 * its callback runs so the callback may re-arm it.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu/clock.h"

uint64_t clock_host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void clock_init(struct clock *c, bool deterministic)
{
	*c = (struct clock){ .deterministic = deterministic, .next_deadline = CLOCK_NEVER };
	c->host_base_ns = clock_host_ns();
}

uint64_t clock_now(const struct clock *c)
{
	if (c->deterministic)
		return c->retired + c->skipped_ns;
	return clock_host_ns() - c->host_base_ns;
}

static void recompute(struct clock *c)
{
	c->next_deadline = CLOCK_NEVER;
	for (int i = 0; i < c->n_timers; i++)
		if (c->timers[i].deadline < c->next_deadline)
			c->next_deadline = c->timers[i].deadline;
}

int clock_timer_new(struct clock *c, timer_fn fn, void *opaque)
{
	if (c->n_timers >= CLOCK_MAX_TIMERS)
		return -1;
	c->timers[c->n_timers] = (struct timer){ CLOCK_NEVER, fn, opaque };
	return c->n_timers++;
}

void clock_timer_arm(struct clock *c, int id, uint64_t deadline_ns)
{
	c->timers[id].deadline = deadline_ns;
	recompute(c);
}

void clock_timer_cancel(struct clock *c, int id)
{
	c->timers[id].deadline = CLOCK_NEVER;
	recompute(c);
}

int clock_run_timers(struct clock *c)
{
	uint64_t now = clock_now(c);
	int fired = 0;
	while (c->next_deadline <= now) {
		int best = -1;
		for (int i = 0; i < c->n_timers; i++)
			if (c->timers[i].deadline <= now &&
			    (best < 0 || c->timers[i].deadline < c->timers[best].deadline))
				best = i;
		struct timer *t = &c->timers[best];
		t->deadline = CLOCK_NEVER;
		recompute(c);
		t->fn(t->opaque, now);
		if (++fired > 10000) { /* a device re-arming at or before now: a bug */
			fprintf(stderr, "clock stub: timer %d keeps firing at %llu\n", best,
				(unsigned long long)now);
			abort();
		}
	}
	return fired;
}

void clock_idle(struct clock *c, uint64_t max_ns)
{
	uint64_t now = clock_now(c), target = now + max_ns;
	if (c->next_deadline < target)
		target = c->next_deadline > now ? c->next_deadline : now;
	c->skipped_ns += target - now;
}
