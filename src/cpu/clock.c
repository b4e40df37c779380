/* Virtual time and timers (see clock.h). */
#include "cpu/clock.h"

#include <time.h>

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

uint64_t clock_retired(const struct clock *c)
{
	return c->retired + (c->slice_left ? c->slice_budget - *c->slice_left : 0);
}

uint64_t clock_now(const struct clock *c)
{
	if (c->deterministic)
		return clock_retired(c) + c->skipped_ns;
	return clock_host_ns() - c->host_base_ns + c->skipped_ns;
}

static void recompute_next(struct clock *c)
{
	uint64_t next = CLOCK_NEVER;
	for (int i = 0; i < c->n_timers; i++)
		if (c->timers[i].deadline < next)
			next = c->timers[i].deadline;
	c->next_deadline = next;
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
	if (deadline_ns < c->next_deadline)
		c->next_deadline = deadline_ns;
}

void clock_timer_cancel(struct clock *c, int id)
{
	uint64_t old = c->timers[id].deadline;
	c->timers[id].deadline = CLOCK_NEVER;
	if (old == c->next_deadline)
		recompute_next(c);
}

int clock_run_timers(struct clock *c)
{
	int fired = 0;
	uint64_t now = clock_now(c);
	while (c->next_deadline <= now) {
		for (int i = 0; i < c->n_timers; i++) {
			struct timer *t = &c->timers[i];
			if (t->deadline <= now) {
				t->deadline = CLOCK_NEVER;
				t->fn(t->opaque, now); /* may re-arm */
				fired++;
			}
		}
		recompute_next(c);
		now = clock_now(c);
	}
	return fired;
}

void clock_idle(struct clock *c, uint64_t max_ns)
{
	uint64_t now = clock_now(c);
	uint64_t target = now + max_ns;
	if (c->next_deadline < target)
		target = c->next_deadline;
	if (target <= now)
		return;
	if (c->deterministic) {
		c->skipped_ns += target - now;
		return;
	}
	uint64_t wait = target - now;
	struct timespec ts = { (time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL) };
	nanosleep(&ts, NULL);
}
