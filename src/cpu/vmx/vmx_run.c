/*
 * Running a guest for a native VMM (cpu/vmx.h): after a successful VM entry,
 * vmx_vmlaunch()/vmx_vmresume() call vmx_run_native(), which drives the ordinary run
 * loop (cpu_run) in slices until the guest's next VM exit.
 *
 * While the guest runs, the machine's own round-robin loop is not running (the
 * native VMM called us from it), so this loop fires the machine's due timers between
 * slices, as the machine would, and in deterministic mode ends a slice at the next
 * timer deadline.
 *
 * A guest that waits (HLT or wait-for-SIPI activity, cpu_run returns
 * CPU_EXIT_HALTED) is woken only by an event. If the VMX-preemption timer counts
 * (not in wait-for-SIPI, SDM 27.5.1), virtual time advances to its expiry (skipped
 * in deterministic mode, slept otherwise) and the timer's exit follows. Otherwise,
 * if a machine timer is armed, time advances to it and its device may raise an
 * interrupt. With neither, nothing can ever wake the guest: rather than spin, the
 * run returns VMX_STOPPED (the guest stays in non-root operation, as for a stop
 * request; the VMM must not resume it).
 */
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

#define VMX_RUN_SLICE 4096 /* instructions per cpu_run(), as the machine's slices */

static uint64_t slice_budget(const struct clock *c)
{
	if (c->deterministic && c->next_deadline != CLOCK_NEVER) {
		uint64_t now = clock_now(c);
		uint64_t left = c->next_deadline > now ? c->next_deadline - now : 1;
		return left < VMX_RUN_SLICE ? left : VMX_RUN_SLICE;
	}
	return VMX_RUN_SLICE;
}

/* The guest waits: advance time to whatever can wake it. False if nothing can. */
static bool wait_for_wakeup(struct cpu *cpu)
{
	struct clock *c = cpu->clock;
	uint64_t now = clock_now(c);
	uint64_t wait = CLOCK_NEVER;
	if (cpu->vmx.preempt_active && !cpu->wait_for_sipi) {
		/* The TSC ticks once per virtual ns (clock.h). */
		uint64_t tsc = cpu_read_tsc(cpu);
		uint64_t deadline = vmx_preempt_deadline(cpu);
		wait = deadline > tsc ? deadline - tsc : 0;
	} else if (c->next_deadline != CLOCK_NEVER) {
		wait = c->next_deadline > now ? c->next_deadline - now : 0;
	} else {
		return false;
	}
	clock_idle(c, wait);
	clock_run_timers(c);
	return true;
}

enum vmx_result vmx_run_native(struct cpu *cpu)
{
	for (;;) {
		if (cpu->vmx.exit_pending) { /* this exit, possibly taken during entry */
			cpu->vmx.exit_pending = false;
			cpu->events &= ~CPU_EV_VMEXIT;
			return VMX_SUCCEED;
		}
		if (cpu->shutdown || !cpu->vmx.non_root) /* VMX abort */
			return VMX_STOPPED;
		switch (cpu_run(cpu, slice_budget(cpu->clock))) {
		case CPU_EXIT_VMEXIT:
			break;
		case CPU_EXIT_BUDGET:
			clock_run_timers(cpu->clock);
			break;
		case CPU_EXIT_HALTED:
			if (!wait_for_wakeup(cpu))
				return VMX_STOPPED;
			break;
		case CPU_EXIT_STOP:
		case CPU_EXIT_SHUTDOWN:
		default:
			return VMX_STOPPED;
		}
	}
}
