/*
 * hltwake - the cost of sleeping in HLT until an interrupt wakes the CPU: each
 * iteration arms the local APIC timer in one-shot mode with the smallest count (1 at
 * divide-by-1, SDM Vol.3A 12.5.4), halts, takes the timer interrupt and acknowledges
 * it. At level 1 this is a HLT exit, L0's virtual timer, an injected interrupt and an
 * EOI exit; the time includes the timer's own period, which is the same at every
 * level and under QEMU only if they run the APIC timer at the same rate, so compare
 * the level-0 and level-1 rows rather than against QEMU.
 */
#include "bench.h"

#define TIMER_VECTOR 0x40

static volatile uint64_t ticks;

static void on_timer(struct frame *f)
{
	(void)f;
	ticks++;
	apic_eoi();
}

int main(void)
{
	uint64_t n = bench_iterations();

	irq_register(TIMER_VECTOR, on_timer);
	apic_enable();
	apic_write(APIC_TDCR, 0xB); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, TIMER_VECTOR); /* one-shot, unmasked */
	for (uint64_t i = 0; i < n; i++) {
		uint64_t before = ticks;
		apic_write(APIC_TMICT, 1);
		/* STI; HLT: the interrupt shadow of STI keeps the wake-up from slipping
		 * in between (SDM 6.8.3), so HLT always sleeps or returns at once. */
		while (ticks == before)
			__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	bench_done("hltwake", n, 0, ticks);
}
