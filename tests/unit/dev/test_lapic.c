/*
 * Two local APICs on one APIC bus, driven through cpu_apic_ops as the core would
 * (xAPIC page offsets, x2APIC MSRs, INTA, CR8). Expected behaviour from SDM Vol.3A
 * chapter 11: register reset values (11.4.7.1), timer (11.5.4, Figure 11-10 divide
 * values), ESR (11.5.3), IPI addressing (11.6.2), priorities (11.8.3), EOI (11.8.5),
 * x2APIC MSR rules (11.12.1.2, Table 11-6). The timer's base clock is 1 GHz.
 */
#include "dev/lapic.h"
#include "dev/pic8259.h"
#include "test_util.h"

static struct clock clk;
static struct apic_bus abus;
static struct cpu cpu[2];
static struct lapic lapic[2];
static const struct cpu_apic_ops *ops = &lapic_ops;

static uint32_t rd(int i, uint32_t off) { return ops->mmio_read(&lapic[i], off); }
static void wr(int i, uint32_t off, uint32_t v) { ops->mmio_write(&lapic[i], off, v); }
static bool intr(int i) { return cpu[i].events & CPU_EV_INTR; }

/* INTA followed by EOI; returns the vector or -1. */
static int ack_eoi(int i)
{
	int v = ops->intr_ack(&lapic[i]);
	if (v >= 0)
		wr(i, 0xB0, 0);
	return v;
}

static void test_reset_values(void)
{
	CHECK_EQ(rd(0, 0x30), 0x00050014, "version: 0x14, max LVT 5");
	CHECK_EQ(rd(1, 0x20), 1u << 24, "xAPIC ID of CPU 1 in bits 31:24");
	CHECK_EQ(rd(0, 0xF0), 0xFF, "SVR resets to 0xFF (software-disabled)");
	CHECK_EQ(rd(0, 0xE0), 0xFFFFFFFF, "DFR resets to flat model");
	CHECK_EQ(rd(1, 0x350), 0x10000, "AP LINT0 masked");
	CHECK_EQ(rd(0, 0x350), 0x700, "BSP LINT0 = ExtINT (QEMU reset value)");
	wr(0, 0x320, 0x40);
	CHECK_EQ(rd(0, 0x320), 0x10040, "LVT mask cannot be cleared while software-disabled");
	wr(0, 0xF0, 0x1FF);
	wr(1, 0xF0, 0x1FF);
	CHECK_EQ(rd(0, 0xF0), 0x1FF, "SVR: software-enabled, spurious vector 0xFF");
}

static void test_timer(void)
{
	uint64_t t0 = clock_now(&clk);
	wr(0, 0x320, 0x40);      /* one-shot, vector 0x40 */
	wr(0, 0x3E0, 0x3);       /* divide by 16 */
	wr(0, 0x380, 1000);
	clock_set(&clk, t0 + 8000);
	CHECK_EQ(rd(0, 0x390), 500, "one-shot current count halfway (8000 ns / 16)");
	CHECK_EQ(clock_step(&clk, t0 + 100000), t0 + 16000, "one-shot fires at 1000 * 16 ns");
	CHECK_EQ(rd(0, 0x390), 0, "current count 0 after expiry");
	CHECK(intr(0) && (rd(0, 0x200 + 0x20) & 1), "IRR bit 0x40 set, INTR asserted");
	CHECK_EQ(ops->intr_ack(&lapic[0]), 0x40, "INTA returns vector 0x40");
	CHECK_EQ(rd(0, 0x100 + 0x20), 1, "ISR bit 0x40 set");
	CHECK_EQ(rd(0, 0xA0), 0x40, "PPR = in-service class");
	wr(0, 0xB0, 0);
	CHECK_EQ(rd(0, 0x100 + 0x20), 0, "EOI clears ISR");
	CHECK_EQ(clock_step(&clk, t0 + 100000), CLOCK_NEVER, "one-shot fires only once");

	t0 = clock_now(&clk);
	wr(0, 0x320, 0x20041);   /* periodic, vector 0x41 */
	wr(0, 0x3E0, 0xB);       /* divide by 1 */
	wr(0, 0x380, 5000);
	for (int k = 1; k <= 3; k++) {
		CHECK_EQ(clock_step(&clk, t0 + 100000), t0 + 5000ULL * k, "periodic tick k * 5000 ns");
		CHECK_EQ(ack_eoi(0), 0x41, "periodic vector 0x41");
	}
	clock_set(&clk, t0 + 15000 + 1234);
	CHECK_EQ(rd(0, 0x390), 5000 - 1234, "periodic current count reloads");
	wr(0, 0x380, 0);
	CHECK_EQ(clock_step(&clk, t0 + 100000), CLOCK_NEVER, "initial count 0 stops the timer");
}

static void test_tsc_deadline(void)
{
	uint64_t t0 = clock_now(&clk);
	wr(0, 0x320, 0x40042);   /* TSC-deadline, vector 0x42 */
	wr(0, 0x380, 10);
	CHECK_EQ(rd(0, 0x380), 0, "initial count ignored in TSC-deadline mode");
	/* As cpu_reset() leaves it: TSC = 0 now, so tsc_offset = -now (mod 2^64). */
	cpu[0].tsc_offset = (uint64_t)0 - t0;
	ops->tsc_deadline_write(&lapic[0], 7000);
	CHECK_EQ(ops->tsc_deadline_read(&lapic[0]), 7000, "IA32_TSC_DEADLINE reads back");
	CHECK_EQ(clock_step(&clk, t0 + 100000), t0 + 7000, "fires when TSC reaches the deadline");
	CHECK_EQ(ack_eoi(0), 0x42, "TSC-deadline vector 0x42");
	CHECK_EQ(lapic_tsc_deadline_read(&lapic[0]), 0, "MSR cleared after firing");
	lapic_tsc_deadline_write(&lapic[0], 5); /* in the past */
	CHECK(intr(0) && lapic_tsc_deadline_read(&lapic[0]) == 0,
	      "a past deadline is pending at the WRMSR, before any timer run");
	clock_run_timers(&clk);
	CHECK_EQ(ack_eoi(0), 0x42, "a past deadline fires at once");
	cpu[0].tsc_offset = 1000000; /* TSC ahead of virtual time */
	lapic_tsc_deadline_write(&lapic[0], clock_now(&clk) + cpu[0].tsc_offset + 500);
	wr(0, 0x320, 0x10000);   /* back to one-shot, masked: disarms */
	CHECK_EQ(clock_step(&clk, clock_now(&clk) + 100000), CLOCK_NEVER,
		 "leaving TSC-deadline mode disarms");
	lapic_tsc_deadline_write(&lapic[0], 1);
	CHECK_EQ(lapic_tsc_deadline_read(&lapic[0]), 0, "MSR ignored outside TSC-deadline mode");
	cpu[0].tsc_offset = 0;
}

static void send(int from, uint32_t dest, uint32_t lo)
{
	wr(from, 0x310, dest << 24);
	wr(from, 0x300, lo);
}

static void test_ipi(void)
{
	send(0, 1, 0x50);
	CHECK(intr(1) && !intr(0), "fixed physical IPI 0 -> 1 asserts CPU 1's INTR only");
	CHECK_EQ(ack_eoi(1), 0x50, "CPU 1 takes vector 0x50");
	CHECK_EQ(rd(0, 0x300) & BIT(12), 0, "delivery status idle");

	wr(0, 0xD0, 0x01000000); wr(1, 0xD0, 0x02000000); /* flat logical IDs */
	send(0, 0x03, 0x800 | 0x51);
	CHECK(ack_eoi(0) == 0x51 && ack_eoi(1) == 0x51, "logical flat 0x03 reaches both");
	send(0, 0x03, 0x800 | 0x100 | 0x52); /* lowest priority */
	CHECK(ack_eoi(0) == 0x52 && ack_eoi(1) == -1, "lowest priority: lowest APIC ID only");

	wr(0, 0xE0, 0x0FFFFFFF); wr(1, 0xE0, 0x0FFFFFFF); /* cluster model */
	wr(0, 0xD0, 0x11000000); wr(1, 0xD0, 0x12000000);
	send(0, 0x12, 0x800 | 0x53);
	CHECK(ack_eoi(0) == -1 && ack_eoi(1) == 0x53, "cluster 1, member bit 1: CPU 1 only");
	send(0, 0x21, 0x800 | 0x54);
	CHECK(ack_eoi(0) == -1 && ack_eoi(1) == -1, "cluster 2 matches nobody");

	send(1, 0, 0xC0000 | 0x55); /* all excluding self */
	CHECK(ack_eoi(0) == 0x55 && ack_eoi(1) == -1, "all-but-self from CPU 1");
	send(1, 0, 0x40000 | 0x56); /* self */
	CHECK(ack_eoi(0) == -1 && ack_eoi(1) == 0x56, "self");
	send(0, 0, 0x80000 | 0x57); /* all including self */
	CHECK(ack_eoi(0) == 0x57 && ack_eoi(1) == 0x57, "all including self");
	send(0, 0xFF, 0x58);
	CHECK(ack_eoi(0) == 0x58 && ack_eoi(1) == 0x58, "physical broadcast 0xFF");

	send(0, 1, 0x400); /* NMI */
	CHECK(cpu[1].events & CPU_EV_NMI, "NMI IPI");
	send(0, 1, 0x4500); /* INIT assert, edge */
	CHECK(cpu[1].events & CPU_EV_INIT, "INIT IPI signals the CPU");
	CHECK_EQ(rd(1, 0xF0), 0xFF, "INIT resets the target LAPIC (SVR 0xFF)");
	CHECK_EQ(rd(1, 0x20), 1u << 24, "INIT keeps the APIC ID");
	send(0, 1, 0x4600 | 0x9A); /* SIPI */
	CHECK((cpu[1].events & CPU_EV_SIPI) && cpu[1].sipi_vector == 0x9A, "SIPI vector 0x9A");
	wr(1, 0xF0, 0x1FF);
	wr(0, 0xE0, 0xFFFFFFFF); wr(1, 0xE0, 0xFFFFFFFF);
}

static void test_priority_esr(void)
{
	wr(0, 0x80, 0x50); /* TPR class 5 */
	send(1, 0, 0xC0000 | 0x45); /* all-but-self from CPU 1 */
	CHECK(!intr(0), "vector 0x45 held below TPR 0x50");
	CHECK_EQ(ops->get_tpr(&lapic[0]), 0x50, "get_tpr returns the whole TPR");
	send(1, 0, 0xC0000 | 0x65);
	CHECK(intr(0), "vector 0x65 above TPR is deliverable");
	CHECK_EQ(ops->intr_ack(&lapic[0]), 0x65, "INTA: 0x65");
	CHECK_EQ(rd(0, 0xA0), 0x60, "PPR: in-service class 6 above TPR");
	wr(0, 0xB0, 0);
	ops->set_tpr(&lapic[0], 0x00); /* CR8 = 0 */
	CHECK_EQ(ack_eoi(0), 0x45, "lowering TPR releases 0x45");

	wr(0, 0x370, 0xEE); /* error LVT unmasked, vector 0xEE */
	send(0, 1, 0x05);   /* illegal vector */
	CHECK_EQ(ack_eoi(1), -1, "illegal vector not delivered");
	CHECK_EQ(ack_eoi(0), 0xEE, "error interrupt on the sender");
	wr(0, 0x280, 0);
	CHECK_EQ(rd(0, 0x280), 0x20, "ESR: send illegal vector (after ESR write)");
	wr(0, 0x280, 0);
	CHECK_EQ(rd(0, 0x280), 0, "next ESR write clears it");
	wr(0, 0x370, 0x10000);
}

static void test_x2apic(void)
{
	uint64_t v = 0;
	wr(1, 0x20, 5u << 24); /* the xAPIC ID is writable... */
	CHECK_EQ(rd(1, 0x20), 5u << 24, "xAPIC ID written");
	for (int i = 0; i < 2; i++) {
		cpu[i].apic_base |= APIC_BASE_EXTD;
		ops->base_changed(&lapic[i], cpu[i].apic_base);
	}
	CHECK(ops->msr_read(&lapic[1], 0x802, &v) && v == 1,
	      "x2APIC ID MSR = 1: the initial APIC ID, not the written one (11.12.5.1)");
	CHECK(ops->msr_read(&lapic[0], 0x803, &v) && v == 0x50014, "version MSR");
	CHECK(ops->msr_read(&lapic[1], 0x80D, &v) && v == 0x2, "LDR: cluster 0, bit 1");
	CHECK(!ops->msr_read(&lapic[0], 0x80E, &v), "DFR does not exist in x2APIC: #GP");
	CHECK(!ops->msr_read(&lapic[0], 0x80B, &v), "EOI is write-only: #GP on read");
	CHECK(!ops->msr_write(&lapic[0], 0x802, 5), "ID is read-only: #GP on write");
	CHECK(!ops->msr_write(&lapic[0], 0x80B, 1), "non-zero EOI write: #GP");
	CHECK(!ops->msr_write(&lapic[0], 0x808, 1ULL << 32), "reserved bits 63:32: #GP");
	CHECK(!ops->msr_read(&lapic[0], 0x831, &v), "no ICR high half in x2APIC: #GP");
	CHECK_EQ(rd(0, 0x30), 0, "xAPIC page not decoded in x2APIC mode");
	CHECK(ops->msr_write(&lapic[0], 0x830, 1ULL << 32 | 0x60), "ICR write, dest 1");
	CHECK(ops->msr_read(&lapic[1], 0x820 + 3, &v) && (v & 1), "IRR bit 0x60 on CPU 1");
	CHECK_EQ(ops->intr_ack(&lapic[1]), 0x60, "CPU 1 takes vector 0x60");
	wr(1, 0xB0, 0);
	CHECK(ops->msr_read(&lapic[1], 0x810 + 3, &v) && (v & 1),
	      "an EOI through the xAPIC page is not decoded in x2APIC mode");
	CHECK(ops->msr_write(&lapic[1], 0x80B, 0), "EOI MSR write of 0");
	CHECK(ops->msr_read(&lapic[1], 0x810 + 3, &v) && v == 0, "ISR 0x60 retired");
	CHECK(ops->msr_write(&lapic[0], 0x83F, 0x61), "SELF IPI MSR");
	CHECK_EQ(ops->intr_ack(&lapic[0]), 0x61, "self IPI delivered");
	ops->msr_write(&lapic[0], 0x80B, 0);
	for (int i = 0; i < 2; i++) {
		cpu[i].apic_base &= ~(APIC_BASE_EXTD | APIC_BASE_EN);
		ops->base_changed(&lapic[i], cpu[i].apic_base);
		cpu[i].apic_base |= APIC_BASE_EN;
		ops->base_changed(&lapic[i], cpu[i].apic_base);
	}
	CHECK_EQ(rd(0, 0xF0), 0xFF, "re-enabled after a hardware disable: reset state");
	wr(1, 0x20, 7u << 24);
	cpu[1].apic_base &= ~APIC_BASE_EN;
	ops->base_changed(&lapic[1], cpu[1].apic_base);
	cpu[1].apic_base |= APIC_BASE_EN;
	ops->base_changed(&lapic[1], cpu[1].apic_base);
	CHECK_EQ(rd(1, 0x20), 1u << 24, "...and the xAPIC ID is the initial one again");
}

static uint8_t pic_ack(void *opaque)
{
	return pic_intack(opaque);
}

static void on_pic(void *opaque, bool level)
{
	lapic_set_lint(opaque, 0, level);
}

static void test_extint(void)
{
	static struct pic pic;
	pic_init(&pic, on_pic, &lapic[0]);
	lapic_set_extint(&lapic[0], pic_ack, &pic);
	struct bus b;
	bus_init(&b, 4096);
	pic_map(&pic, &b);
	outb(&b, 0x20, 0x11); outb(&b, 0x21, 0x08); outb(&b, 0x21, 0x04); outb(&b, 0x21, 0x01);
	outb(&b, 0x21, 0x00);
	pic_set_irq(&pic, 1, 1);
	CHECK(intr(0) && !intr(1), "APIC software-disabled on the BSP: 8259 INTR passes");
	CHECK_EQ(ops->intr_ack(&lapic[0]), 0x09, "INTA goes to the 8259: vector 0x09");
	outb(&b, 0x20, 0x20);
	wr(0, 0xF0, 0x1FF);
	wr(0, 0x350, 0x10700);                 /* LINT0 ExtINT but masked */
	pic_set_irq(&pic, 1, 0); pic_set_irq(&pic, 1, 1);
	CHECK(!intr(0), "enabled APIC with LINT0 masked blocks the 8259");
	wr(0, 0x350, 0x00700);                 /* unmask: virtual wire */
	CHECK(intr(0), "unmasking ExtINT LINT0 passes INTR");
	send(1, 0, 0xC0000 | 0x70);
	CHECK_EQ(ack_eoi(0), 0x70, "APIC vectors are acknowledged before ExtINT (as QEMU)");
	CHECK_EQ(ops->intr_ack(&lapic[0]), 0x09, "then the 8259's vector");
	outb(&b, 0x20, 0x20);
	CHECK(!intr(0), "INTR low when both are serviced");
	bus_destroy(&b);
}

int main(void)
{
	clock_init(&clk, true);
	apic_bus_init(&abus);
	for (int i = 0; i < 2; i++) {
		cpu[i].id = i;
		cpu[i].bsp = i == 0;
		cpu[i].apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (i == 0 ? APIC_BASE_BSP : 0);
		if (lapic_init(&lapic[i], &cpu[i], &abus, &clk) < 0)
			return 1;
	}
	CHECK(cpu[0].apic == &lapic[0] && cpu[0].apic_ops == &lapic_ops, "LAPIC attached to CPU");
	test_reset_values();
	test_timer();
	test_tsc_deadline();
	test_ipi();
	test_priority_esr();
	test_x2apic();
	test_extint();
	return test_done();
}
