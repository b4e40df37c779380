/*
 * The machine's timebase and timer queue.
 *
 * Virtual time is in nanoseconds since power-on. By default it follows host monotonic
 * time. With --deterministic it is derived from retired instructions (1 instruction,
 * delivered fault or REP iteration = 1 ns) plus time skipped while every CPU is halted, so that a run
 * repeats exactly.
 * The TSC runs at CLOCK_TSC_HZ derived from virtual time.
 *
 * Devices arm timers with absolute virtual deadlines; the run loop fires them.
 */
#ifndef TURTLES_CPU_CLOCK_H
#define TURTLES_CPU_CLOCK_H

#include "cpu/types.h"

#define CLOCK_TSC_HZ 1000000000ULL /* 1 GHz: one TSC tick per virtual ns */
#define CLOCK_MAX_TIMERS 128
#define CLOCK_NEVER UINT64_MAX

typedef void (*timer_fn)(void *opaque, uint64_t now_ns);

struct timer {
	uint64_t deadline; /* CLOCK_NEVER when disarmed */
	timer_fn fn;
	void *opaque;
};

struct clock {
	bool deterministic;
	uint64_t host_base_ns;  /* host monotonic ns at power-on */
	/* Work done by all CPUs up to the running slice: instructions retired, faults
	 * delivered and REP iterations (each one unit, so a fault storm or a long REP
	 * still advances time). */
	uint64_t retired;
	/* The running CPU's slice: clock_now() counts its retired instructions too, so a
	 * device sees exact deterministic time in the middle of a slice. */
	const uint64_t *slice_left;
	uint64_t slice_budget;
	uint64_t skipped_ns;    /* time skipped while all CPUs were halted */
	uint64_t next_deadline; /* min over armed timers, CLOCK_NEVER if none */
	struct timer timers[CLOCK_MAX_TIMERS];
	int n_timers;
};

void clock_init(struct clock *c, bool deterministic);
uint64_t clock_now(const struct clock *c);
/* Instructions retired so far, the running slice included. */
uint64_t clock_retired(const struct clock *c);
uint64_t clock_host_ns(void);

/* Timers are allocated once at machine build time; returns an id or -1. */
int clock_timer_new(struct clock *c, timer_fn fn, void *opaque);
void clock_timer_arm(struct clock *c, int id, uint64_t deadline_ns);
void clock_timer_cancel(struct clock *c, int id);

/* Fire every timer whose deadline <= now. Returns the number fired. */
int clock_run_timers(struct clock *c);

/* All CPUs are halted: advance (deterministic) or sleep (host time) towards the next
 * deadline, at most max_ns. */
void clock_idle(struct clock *c, uint64_t max_ns);

#endif
