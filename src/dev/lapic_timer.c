/*
 * Local APIC timer (SDM 11.5.4): one-shot and periodic modes count the 1 GHz base clock
 * divided per the divide configuration register; TSC-deadline mode fires when the TSC
 * reaches IA32_TSC_DEADLINE. Nothing is ticked: the count is derived from virtual time
 * since timer_start and one clock timer is armed at the next expiry.
 */
#include "dev/lapic.h"

#include "dev/lapic_priv.h"

int lapic_timer_mode(const struct lapic *l)
{
	return (l->lvt[LVT_TIMER] >> LVT_TIMER_MODE_SHIFT) & 3;
}

/* DCR bits 3,1:0 (SDM Figure 11-10): 000 = /2 ... 110 = /128, 111 = /1. */
static unsigned div_shift(uint32_t dcr)
{
	unsigned v = ((dcr >> 1) & 4) | (dcr & 3);
	return (v + 1) & 7;
}

static bool counting(const struct lapic *l)
{
	return l->initial_count && !l->timer_expired &&
	       lapic_timer_mode(l) != LAPIC_TIMER_TSC_DEADLINE;
}

/* Base-clock ticks since the count started, after the divider. */
static uint64_t elapsed(const struct lapic *l)
{
	return (clock_now(l->clock) - l->timer_start) >> div_shift(l->dcr);
}

uint32_t lapic_timer_current(struct lapic *l)
{
	if (!counting(l))
		return 0;
	uint64_t e = elapsed(l), n = l->initial_count;
	if (lapic_timer_mode(l) == LAPIC_TIMER_PERIODIC)
		return (uint32_t)(n - e % n);
	return e >= n ? 0 : (uint32_t)(n - e);
}

/* The virtual time at which the TSC reaches the deadline, or now if it has. TSC =
 * clock_now() + tsc_offset modulo 2^64 at CLOCK_TSC_HZ = 1 GHz (clock.h); compare in
 * TSC space so that an offset making the TSC "negative" still works. */
static uint64_t deadline_ns(const struct lapic *l, uint64_t now)
{
	uint64_t tsc = now + lapic_tsc_offset(l);
	return l->tsc_deadline <= tsc ? now : now + (l->tsc_deadline - tsc);
}

/* Arm the clock timer for the next expiry in the current mode, or cancel it. */
static void timer_arm(struct lapic *l)
{
	uint64_t deadline = CLOCK_NEVER;
	unsigned shift = div_shift(l->dcr);

	if (lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE) {
		if (l->tsc_deadline)
			deadline = deadline_ns(l, clock_now(l->clock));
	} else if (counting(l)) {
		uint64_t n = l->initial_count, periods = 1;
		if (lapic_timer_mode(l) == LAPIC_TIMER_PERIODIC)
			periods = elapsed(l) / n + 1;
		deadline = l->timer_start + ((periods * n) << shift);
	}
	if (deadline == CLOCK_NEVER) {
		clock_timer_cancel(l->clock, l->timer);
		return;
	}
	uint64_t now = clock_now(l->clock);
	clock_timer_arm(l->clock, l->timer, deadline > now ? deadline : now);
}

void lapic_timer_fire(void *opaque, uint64_t now)
{
	struct lapic *l = opaque;
	switch (lapic_timer_mode(l)) {
	case LAPIC_TIMER_TSC_DEADLINE:
		if (!l->tsc_deadline || deadline_ns(l, now) > now)
			break;
		l->tsc_deadline = 0; /* firing disarms and clears the MSR (SDM 11.5.4.1) */
		lapic_local_intr(l, LVT_TIMER);
		break;
	case LAPIC_TIMER_PERIODIC:
		if (counting(l))
			lapic_local_intr(l, LVT_TIMER);
		break;
	default:
		if (!counting(l) || lapic_timer_current(l) != 0)
			break;
		l->timer_expired = true;
		lapic_local_intr(l, LVT_TIMER);
		break;
	}
	timer_arm(l);
}

void lapic_timer_write_initial(struct lapic *l, uint32_t v)
{
	if (lapic_timer_mode(l) == LAPIC_TIMER_TSC_DEADLINE)
		return; /* ignored in TSC-deadline mode */
	l->initial_count = v; /* 0 stops the timer */
	l->timer_start = clock_now(l->clock);
	l->timer_expired = false;
	timer_arm(l);
}

/* A new divider applies from now on: keep the current count, rebase the start. */
void lapic_timer_write_dcr(struct lapic *l, uint32_t v)
{
	uint32_t cur = lapic_timer_current(l);
	bool was_counting = counting(l);
	l->dcr = v & 0xB;
	if (was_counting) {
		uint64_t done = (uint64_t)(l->initial_count - cur) << div_shift(l->dcr);
		l->timer_start = clock_now(l->clock) - done;
		timer_arm(l);
	}
}

/* Switching into or out of TSC-deadline mode disarms the timer (SDM 11.5.4.1). */
void lapic_timer_lvt_changed(struct lapic *l, int old_mode)
{
	int mode = lapic_timer_mode(l);
	if ((mode == LAPIC_TIMER_TSC_DEADLINE) != (old_mode == LAPIC_TIMER_TSC_DEADLINE)) {
		l->initial_count = 0;
		l->tsc_deadline = 0;
	}
	timer_arm(l);
}

void lapic_timer_reset(struct lapic *l)
{
	l->initial_count = 0;
	l->dcr = 0;
	l->timer_expired = false;
	l->tsc_deadline = 0;
	clock_timer_cancel(l->clock, l->timer);
}

uint64_t lapic_tsc_deadline_read(struct lapic *l)
{
	if (lapic_timer_mode(l) != LAPIC_TIMER_TSC_DEADLINE)
		return 0;
	return l->tsc_deadline;
}

void lapic_tsc_deadline_write(struct lapic *l, uint64_t value)
{
	if (lapic_timer_mode(l) != LAPIC_TIMER_TSC_DEADLINE)
		return;
	l->tsc_deadline = value;
	uint64_t now = clock_now(l->clock);
	if (value && deadline_ns(l, now) == now)
		lapic_timer_fire(l, now); /* already past: the interrupt is pending at once */
	else
		timer_arm(l);
}
