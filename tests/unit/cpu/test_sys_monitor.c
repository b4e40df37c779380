/*
 * MONITOR/MWAIT (SDM Vol.2 MONITOR, MWAIT; CPUID leaf 05H): enumeration, the #UD and
 * #GP(0) rules, MWAIT as a no-op when the monitor is not armed or was triggered, and
 * the wait itself through the run loop: woken by a store to the armed line from
 * another CPU, by an interrupt, and with ECX[0] = 1 by an interrupt while IF = 0.
 */
#include "sys_harness.h"

#include "cpu/dcache.h"

#define HANDLER 0x5000ULL
#define LINE (DATA_BASE + 0x100) /* a 64-byte aligned line */
#define VEC 0x40

static struct dcache DC; /* decoded blocks, shared by both CPUs as in a machine */

static struct insn mon(void)
{
	struct insn in = insn();
	in.len = 3; /* 0F 01 C8 / 0F 01 C9 */
	in.asz = C->mode == MODE_LONG64 ? 3 : 2;
	return in;
}

/* SDM Vol.2 CPUID: 01H:ECX.MONITOR[bit 3]; leaf 05H EAX/EBX smallest/largest line
 * size, ECX[0] extensions enumerated, ECX[1] interrupts as break events even when
 * masked, EDX sub-C-state counts (one C0 and one C1 sub-state here). */
static void test_cpuid(void)
{
	uint32_t r[4];
	cpuid_query(C, 1, 0, r);
	CHECK(r[CPUID_ECX] & BIT(3));
	cpuid_query(C, 5, 0, r);
	CHECK_EQ(r[CPUID_EAX], 64);
	CHECK_EQ(r[CPUID_EBX], 64);
	CHECK_EQ(r[CPUID_ECX], 3);
	CHECK_EQ(r[CPUID_EDX], 0x11);
}

static void test_faults(void)
{
	struct insn in;
	/* #UD "If current privilege level is not 0" (SDM Vol.2 MONITOR, MWAIT). */
	mode_long64(3);
	in = mon();
	C->gpr[RAX] = LINE;
	C->gpr[RCX] = 0;
	CHECK_EQ(run_insn(exec_MONITOR, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_MWAIT, &in), EXC_UD);
	mode_long64(0);
	in = mon();
	/* MONITOR: #GP(0) "If ECX != 0" (no extensions are defined). */
	C->gpr[RAX] = LINE;
	C->gpr[RCX] = 1;
	CHECK_EXC(run_insn(exec_MONITOR, &in), EXC_GP, 0);
	CHECK(!C->monitor_armed);
	/* The address is checked as a read: non-canonical DS:RAX is #GP(0). */
	C->gpr[RCX] = 0;
	C->gpr[RAX] = 0x0000800000000000ULL;
	CHECK_EXC(run_insn(exec_MONITOR, &in), EXC_GP, 0);
	CHECK(!C->monitor_armed);
	/* MWAIT: #GP(0) for reserved ECX bits (only ECX[0] is defined, CPUID.05H:ECX). */
	C->gpr[RCX] = 2;
	CHECK_EXC(run_insn(exec_MWAIT, &in), EXC_GP, 0);
	C->gpr[RCX] = 0x80000000u;
	CHECK_EXC(run_insn(exec_MWAIT, &in), EXC_GP, 0);
	/* Real mode is CPL 0: both execute (AX the offset, 16-bit address size). */
	mode_real();
	in = mon();
	in.asz = 1;
	C->gpr[RAX] = 0x12345678; /* AX = 5678H: DS:5678H */
	C->gpr[RCX] = 0;
	CHECK_EQ(run_insn(exec_MONITOR, &in), NO_FAULT);
	CHECK(C->monitor_armed);
	CHECK_EQ(C->monitor_pa, 0x5640); /* the 64-byte line of 5678H */
	C->monitor_armed = false;
}

/* Not armed, or triggered since MONITOR: MWAIT is a no-op (SDM Vol.2 MWAIT). */
static void test_noop(void)
{
	mode_long64(0);
	struct insn in = mon();
	C->monitor_armed = false;
	C->gpr[RCX] = 0;
	C->gpr[RAX] = 0;
	uint64_t rip = C->rip;
	CHECK_EQ(run_insn(exec_MWAIT, &in), NO_FAULT);
	CHECK(!C->halted);
	CHECK_EQ(C->rip, rip + 3);
	/* Armed, then this CPU stores to the line: triggered, MWAIT returns. */
	C->gpr[RAX] = LINE + 5;
	CHECK_EQ(run_insn(exec_MONITOR, &in), NO_FAULT);
	CHECK(C->monitor_armed);
	CHECK_EQ(C->monitor_pa, LINE);
	mem_write(C, SEG_DS, LINE + 63, 0, (uint8_t)(B.ram[LINE + 63] + 1));
	C->gpr[RAX] = 0;
	CHECK_EQ(run_insn(exec_MWAIT, &in), NO_FAULT);
	CHECK(!C->halted);
	CHECK(!C->monitor_armed);
	/* The segment override: FS:RAX, the FS base added in 64-bit mode. */
	C->seg[SEG_FS].base = 0x1000;
	in.seg = SEG_FS;
	C->gpr[RAX] = LINE - 0x1000;
	CHECK_EQ(run_insn(exec_MONITOR, &in), NO_FAULT);
	CHECK_EQ(C->monitor_pa, LINE);
	C->monitor_armed = false;
	C->seg[SEG_FS].base = 0;
}

/* MONITOR then MWAIT at CODE_BASE; the next instruction is HLT. Returns the RIP
 * after MWAIT. */
static uint64_t arm_and_wait(uint32_t ecx)
{
	struct insn in = mon();
	C->gpr[RAX] = LINE;
	C->gpr[RCX] = 0;
	CHECK_EQ(run_insn(exec_MONITOR, &in), NO_FAULT);
	C->gpr[RCX] = ecx;
	CHECK_EQ(run_insn(exec_MWAIT, &in), NO_FAULT);
	CHECK(C->halted && C->mwait);
	CHECK(!C->monitor_armed); /* the wait consumed the arming */
	B.ram[C->rip] = 0xF4;     /* hlt */
	return C->rip;
}

static struct cpu *other_cpu(void)
{
	struct cpu *o = calloc(1, sizeof(*o));
	if (!o)
		exit(2);
	cpu_init(o, 1, &B, &CLK, &DC);
	if (tlb_init(&o->tlb))
		exit(2);
	o->wait_for_sipi = false;
	seg_load_real(o, SEG_CS, 0x4000); /* code at 40000H */
	seg_load_real(o, SEG_DS, (uint16_t)(LINE >> 4));
	o->rip = 0;
	return o;
}

/* A store from another CPU to the armed line wakes MWAIT; one to the next line does
 * not (SDM Vol.2 MONITOR: "a store to the address range armed"). */
static void test_wake_by_store(void)
{
	struct cpu *o = other_cpu();
	/* mov byte [0x40], 1 (the next line); mov byte [0x3F], 0AAh (the armed line); hlt */
	static const uint8_t code[] = { 0xC6, 0x06, 0x40, 0x00, 0x01,
					0xC6, 0x06, 0x3F, 0x00, 0xAA, 0xF4 };
	memcpy(B.ram + 0x40000, code, sizeof(code));
	mode_long64(0);
	B.ram[LINE + 0x3F] = 0;
	uint64_t after = arm_and_wait(0);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED); /* nothing changed: still waiting */
	CHECK_EQ(C->rip, after);
	CHECK_EQ(cpu_run(o, 1), CPU_EXIT_BUDGET); /* the next line */
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK(C->mwait);
	CHECK_EQ(C->rip, after);
	CHECK_EQ(cpu_run(o, 1), CPU_EXIT_BUDGET); /* the armed line */
	/* Woken: RIP past MWAIT, it runs the HLT that follows (a plain halt). */
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK(!C->mwait);
	CHECK_EQ(C->rip, after + 1);
	C->halted = false;
	tlb_destroy(&o->tlb);
	free(o);
}

static int ack_vector = -1;
static int intr_ack(void *apic) { (void)apic; return ack_vector; }
static const struct cpu_apic_ops apic = { .intr_ack = intr_ack };

/* Interrupts (SDM Vol.2 MWAIT): an unmasked one wakes and is taken; with IF = 0 only
 * ECX[0] = 1 makes it a break event, and it is then not taken until IF = 1. */
static void test_wake_by_interrupt(void)
{
	mode_long64(0);
	C->apic_ops = &apic;
	ack_vector = VEC;
	idt64_set(VEC, SEL_CODE64, HANDLER, 0xE, 0, 0);
	B.ram[HANDLER] = 0xF4;
	/* IF = 1: the interrupt wakes MWAIT and is delivered, returning after MWAIT. */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF);
	uint64_t after = arm_and_wait(0);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	cpu_set_intr(C, true);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED); /* the handler's HLT */
	CHECK(!C->mwait);
	CHECK_EQ(C->rip, HANDLER + 1);
	CHECK_EQ(stk64(0), after);
	cpu_set_intr(C, false);
	C->halted = false;
	/* IF = 0, ECX[0] = 0: a pending interrupt is no break event. */
	mode_long64(0);
	after = arm_and_wait(0);
	cpu_set_intr(C, true);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK(C->mwait);
	CHECK_EQ(C->rip, after);
	cpu_set_intr(C, false);
	C->halted = C->mwait = false;
	/* IF = 0, ECX[0] = 1: it wakes, is not taken; the HLT after MWAIT runs. */
	mode_long64(0);
	after = arm_and_wait(1);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK(C->mwait);
	cpu_set_intr(C, true);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK(!C->mwait);
	CHECK_EQ(C->rip, after + 1);
	CHECK(C->events & CPU_EV_INTR); /* still pending */
	cpu_set_intr(C, false);
	C->halted = false;
	/* NMI is a break event too (and is delivered). */
	mode_long64(0);
	idt64_set(EXC_NMI, SEL_CODE64, HANDLER, 0xE, 0, 0);
	after = arm_and_wait(0);
	cpu_signal(C, CPU_EV_NMI, 0);
	CHECK_EQ(cpu_run(C, 100), CPU_EXIT_HALTED);
	CHECK_EQ(C->rip, HANDLER + 1);
	CHECK_EQ(stk64(0), after);
	C->halted = false;
	C->nmi_blocked = false;
	C->apic_ops = NULL;
}

/* INIT disarms the monitor (cpu_reset: the monitor is not part of the INIT state). */
static void test_init(void)
{
	mode_long64(0);
	struct insn in = mon();
	C->gpr[RAX] = LINE;
	C->gpr[RCX] = 0;
	CHECK_EQ(run_insn(exec_MONITOR, &in), NO_FAULT);
	CHECK(C->monitor_armed);
	cpu_do_init(C);
	CHECK(!C->monitor_armed && !C->mwait);
}

int main(void)
{
	sys_init();
	if (dcache_init(&DC, 8))
		return 2;
	C->dcache = &DC;
	test_cpuid();
	test_faults();
	test_noop();
	test_wake_by_store();
	test_wake_by_interrupt();
	test_init();
	int rc = report("sys_monitor");
	dcache_destroy(&DC);
	return rc;
}
