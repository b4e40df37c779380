/*
 * timer - interrupt sources and delivery: 8254 PIT channel 0 through the remapped
 * 8259 PIC, the local APIC timer in one-shot, periodic and TSC-deadline modes (SDM
 * Vol.3A 12.5.4), HLT wake-up (Vol.2A HLT) and the STI interrupt shadow (Vol.2B STI:
 * "interrupts are recognized ... after the instruction following STI").
 */
#include "rt.h"

#define VEC_PIT (PIC_BASE + 0)
#define VEC_LAPIC 0x30
#define VEC_SELF 0x31

static volatile uint64_t ticks, last_rip, isr_bit;
extern char hlt_after[], shadow_after[];

static void pit_handler(struct frame *f)
{
	ticks++;
	last_rip = f->rip;
	pic_eoi(0);
}

static void apic_handler(struct frame *f)
{
	int v = (int)f->vector;
	ticks++;
	last_rip = f->rip;
	/* the in-service bit for this vector is set until EOI (12.8.4) */
	isr_bit = (apic_read(APIC_ISR + (v / 32) * 0x10) >> (v % 32)) & 1;
	apic_eoi();
}

/* Wait (with interrupts enabled) for ticks to reach n; bounded. */
static void wait_ticks(uint64_t n)
{
	for (long i = 0; i < 100000 && ticks < n; i++)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

static void pit_pic(void)
{
	pic_init();
	irq_register(VEC_PIT, pit_handler);
	ticks = 0;
	pit_periodic(PIT_HZ / 1000);
	pic_mask(0, 0);
	/* STI; HLT: the shadow keeps the interrupt off until HLT executes, and the saved
	 * RIP is the instruction after HLT */
	__asm__ volatile("sti\n\thlt\n.globl hlt_after\nhlt_after:\n\tcli" ::: "memory");
	/* (another tick may land between the IRETQ and the CLI: that one also
	 * interrupts at hlt_after, so check the RIP, not an exact count) */
	check(ticks >= 1, "PIT IRQ0 via 8259 wakes HLT");
	check_eq(last_rip, (uintptr_t)hlt_after, "interrupted RIP is the instruction after HLT");
	wait_ticks(10);
	check(ticks >= 10, "PIT IRQ0 periodic: 10 interrupts at vector 0x20");
	pic_mask(0, 1);
	pit_stop();
	uint64_t t = ticks;
	udelay(5000);
	__asm__ volatile("sti; nop; nop; cli");
	check_eq(ticks, t, "masked IRQ0: no more interrupts");
}

static void lapic_oneshot_periodic(void)
{
	apic_enable();
	irq_register(VEC_LAPIC, apic_handler);
	apic_write(APIC_TDCR, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, VEC_LAPIC); /* one-shot, unmasked */
	ticks = 0;
	apic_write(APIC_TMICT, 200000);
	uint32_t c1 = apic_read(APIC_TMCCT), c2 = apic_read(APIC_TMCCT);
	check(c1 <= 200000 && c2 <= c1, "LAPIC current count counts down from initial count");
	wait_ticks(1);
	check_eq(ticks, 1, "LAPIC one-shot fires");
	check_eq(isr_bit, 1, "LAPIC ISR bit set in the handler before EOI");
	check_eq(apic_read(APIC_TMCCT), 0, "LAPIC one-shot: current count stays 0");
	udelay(2000);
	__asm__ volatile("sti; nop; nop; cli");
	check_eq(ticks, 1, "LAPIC one-shot fires only once");

	ticks = 0;
	apic_write(APIC_LVT_TIMER, VEC_LAPIC | APIC_TIMER_PERIODIC);
	apic_write(APIC_TMICT, 100000);
	wait_ticks(5);
	check(ticks >= 5, "LAPIC periodic: 5 interrupts");
	check(apic_read(APIC_TMCCT) != 0, "LAPIC periodic: count reloads");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	apic_write(APIC_TMICT, 0);
}

static void tsc_deadline(void)
{
	if (!has_feature(F_TSC_DEADLINE)) {
		skip("LAPIC TSC-deadline mode", "CPUID.01H:ECX[24] clear");
		return;
	}
	/* A periodic interrupt of the previous test may still be pending in IRR: take it
	 * now, or it would pass for the deadline's interrupt below. */
	__asm__ volatile("sti; nop; nop; cli");
	ticks = 0;
	apic_write(APIC_LVT_TIMER, VEC_LAPIC | APIC_TIMER_DEADLINE);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 100000);
	wait_ticks(1);
	check_eq(ticks, 1, "TSC-deadline timer fires");
	check_eq(rdmsr(MSR_TSC_DEADLINE), 0, "IA32_TSC_DEADLINE reads 0 after it fired");
	apic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
}

/* A self-IPI made pending while IF=0 is taken after the instruction following STI. */
static void sti_shadow(void)
{
	irq_register(VEC_SELF, apic_handler);
	__asm__ volatile("sti; nop; nop; cli"); /* drain anything the timer left pending */
	ticks = 0;
	apic_icr(0, 0x40000 | VEC_SELF); /* shorthand 01b: self, fixed delivery */
	uint32_t irr = (apic_read(APIC_IRR + (VEC_SELF / 32) * 0x10) >> (VEC_SELF % 32)) & 1;
	check_eq(irr, 1, "self-IPI pending in IRR while IF=0");
	check_eq(ticks, 0, "no delivery while IF=0");
	__asm__ volatile("sti\n\tnop\n.globl shadow_after\nshadow_after:\n\tnop\n\tcli" ::: "memory");
	check_eq(ticks, 1, "pending interrupt delivered after STI");
	check_eq(last_rip, (uintptr_t)shadow_after, "delivered after the instruction following STI");
}

int main(void)
{
	pit_pic();
	lapic_oneshot_periodic();
	tsc_deadline();
	sti_shadow();
	return 0;
}
