/*
 * Local APIC, one per CPU: xAPIC (the 4 KiB page at IA32_APIC_BASE, reached through
 * cpu_apic_ops.mmio_read/write: the core routes that page, not the bus) and x2APIC
 * (MSRs 0x800-0x8FF through cpu_apic_ops.msr_read/write). Version 0x14 with six LVT
 * entries (timer, thermal, performance, LINT0, LINT1, error): VER reads 0x00050014.
 *
 * Interrupts reach the CPU through cpu_set_intr(): the line is high while a fixed
 * interrupt in IRR has a priority class above PPR (and the APIC is enabled), or while
 * LINT0 carries the 8259's INTR in ExtINT mode. The CPU then calls intr_ack, which
 * returns the APIC's vector or, for ExtINT, runs the 8259's INTA cycle.
 *
 * The PIC's INTR reaches the CPU when LINT0 is unmasked with delivery mode ExtINT
 * (virtual-wire mode, MP spec 1.4 3.6.2.2), or when the BSP's APIC is hardware- or
 * software-disabled (through-local-APIC wiring that a disabled APIC leaves as a plain
 * INTR pin). As QEMU, the BSP's LINT0 resets to ExtINT (0x700) and the other LVTs to
 * masked.
 *
 * The timer counts a 1 GHz base clock (one tick per virtual ns, the TSC rate of
 * clock.h) through the divide configuration register; TSC-deadline mode compares
 * against TSC = clock_now() + cpu->tsc_offset.
 *
 * References: SDM Vol.3A chapter 11 (11.4 registers, 11.5 LVT/timer/ESR, 11.6 IPIs,
 * 11.8 priorities and EOI, 11.12 x2APIC).
 */
#ifndef TURTLES_DEV_LAPIC_H
#define TURTLES_DEV_LAPIC_H

#include "cpu/cpu.h"
#include "dev/apic_bus.h"

#define LAPIC_DEFAULT_BASE 0xFEE00000ULL
#define LAPIC_VERSION 0x00050014u /* max LVT entry 5, version 0x14 */
#define LAPIC_TIMER_HZ 1000000000ULL

/* LVT indices, in register order 0x320-0x370. */
enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_NR };

#define LVT_MASKED BIT(16)
#define LVT_TIMER_MODE_SHIFT 17
enum { LAPIC_TIMER_ONESHOT = 0, LAPIC_TIMER_PERIODIC = 1, LAPIC_TIMER_TSC_DEADLINE = 2 };

/* ESR bits, SDM Figure 11-9. */
#define ESR_SEND_ILLEGAL_VECTOR BIT(5)
#define ESR_RECV_ILLEGAL_VECTOR BIT(6)
#define ESR_ILLEGAL_REGISTER BIT(7)

#define MSR_IA32_APIC_BASE 0x1B
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_EN BIT(11)

/*
 * Where the APIC's outputs go. NULL (the default, --level 0): straight to the silicon
 * CPU (cpu_set_intr, cpu_signal, cpu->tsc_offset). At level 1 the layer above (L0, hv/)
 * fills one in so that the APIC is L0's virtual LAPIC and its interrupts reach the vCPU
 * (KVM's in-kernel irqchip model). dev/ never depends on hv/: this is the only way up.
 */
struct lapic_sink {
	void (*set_intr)(void *opaque, bool asserted);  /* as cpu_set_intr() */
	void (*signal)(void *opaque, uint32_t event, uint8_t sipi_vector); /* as cpu_signal() */
	uint64_t (*tsc_offset)(void *opaque);           /* guest TSC = virtual ns + this */
};

struct lapic {
	struct cpu *cpu;
	const struct lapic_sink *sink; /* NULL: the silicon CPU (see struct lapic_sink) */
	void *sink_opaque;
	struct apic_bus *bus;
	struct clock *clock;
	uint32_t id;          /* APIC ID (xAPIC: ID register bits 31:24) */
	bool bsp;
	bool hw_enabled;      /* IA32_APIC_BASE.EN */
	bool x2apic;          /* IA32_APIC_BASE.EXTD */
	uint32_t tpr, svr, ldr, dfr;
	uint32_t esr, esr_pending; /* visible ESR; errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_NR];
	uint32_t irr[8], isr[8], tmr[8];
	bool lint[2];         /* LINT0/LINT1 input levels */

	/* Timer (lapic_timer.c). */
	int timer;
	uint32_t initial_count, dcr;
	uint64_t timer_start; /* ns at which the current count started */
	bool timer_expired;   /* one-shot count reached zero */
	uint64_t tsc_deadline;

	/* INTA for ExtINT: the 8259's acknowledge cycle. */
	uint8_t (*extint_ack)(void *opaque);
	void *extint_opaque;
};

extern const struct cpu_apic_ops lapic_ops;

/* Build the LAPIC of cpu (APIC ID = cpu->id), attach it to the CPU (apic_ops, apic),
 * join the APIC bus and reset it. Takes enable/x2APIC state from cpu->apic_base. */
int lapic_init(struct lapic *l, struct cpu *cpu, struct apic_bus *bus, struct clock *clock);

/* Redirect the APIC's outputs (NULL: back to the silicon CPU). */
void lapic_set_sink(struct lapic *l, const struct lapic_sink *sink, void *opaque);

/* Power-on / INIT state (SDM 11.4.7.3): everything but the APIC ID. */
void lapic_reset(struct lapic *l);

/* Where ExtINT acknowledges go (the 8259 pair). */
void lapic_set_extint(struct lapic *l, uint8_t (*ack)(void *opaque), void *opaque);

/* Drive the LINT0 (pin 0) or LINT1 (pin 1) input. */
void lapic_set_lint(struct lapic *l, int pin, bool level);

/* APIC bus side. */
bool lapic_match_dest(const struct lapic *l, const struct apic_msg *m);
void lapic_accept(struct lapic *l, const struct apic_msg *m);

/* IA32_TSC_DEADLINE (MSR 0x6E0, SDM 11.5.4.1), also reached through
 * cpu_apic_ops.tsc_deadline_read/write: reads 0 outside TSC-deadline mode and after the
 * deadline fired; writes are ignored outside that mode; writing 0 disarms. */
uint64_t lapic_tsc_deadline_read(struct lapic *l);
void lapic_tsc_deadline_write(struct lapic *l, uint64_t value);

/* Current interrupt priority state, for tests and debugging. */
uint32_t lapic_ppr(const struct lapic *l);

#endif
