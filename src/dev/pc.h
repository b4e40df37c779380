/*
 * The PC board: every device of a QEMU "pc" machine that the silicon needs, wired onto
 * the machine's bus, clock and CPUs. Everything lives in struct pc (no globals), so
 * several machines can exist in one process.
 *
 * The caller owns the bus (bus_init with the RAM size), the clock and the CPUs
 * (cpu_init with id = index, IA32_APIC_BASE at its power-on value). pc_init then:
 *   - gives every CPU a local APIC (cpu->apic_ops / cpu->apic) on one APIC bus;
 *   - maps the 8259 pair, 8254 PIT (+ port 0x61), MC146818 RTC/CMOS, 16550A UART on
 *     COM1 (IRQ4), isa-debug-exit (0xf4), pc-testdev, POST port 0x80, IOAPIC
 *     (0xFEC00000), fw_cfg (0x510) and the ACPI PM block (0x600);
 *   - wires ISA IRQs to the 8259s and the IOAPIC (IRQ0 -> GSI 2), the 8259's INTR to
 *     the BSP's LINT0 and ExtINT acknowledges back to the 8259;
 *   - fills CMOS memory sizes, fw_cfg items and ACPI tables (RSDP at 0xE0000);
 *   - leaves the BIOS state of bios.h (IVT, BDA, stubs, PIC, PIT, LAPIC virtual wire).
 *
 * Exits: isa-debug-exit and ACPI soft-off (SLP_TYP 0 + SLP_EN, status 0) both call
 * config.request_exit; the board never exits the process itself.
 */
#ifndef TURTLES_DEV_PC_H
#define TURTLES_DEV_PC_H

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "cpu/cpu.h"
#include "dev/acpi.h"
#include "dev/apic_bus.h"
#include "dev/debug_exit.h"
#include "dev/fw_cfg.h"
#include "dev/ioapic.h"
#include "dev/irq_router.h"
#include "dev/lapic.h"
#include "dev/pc_testdev.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "dev/port80.h"
#include "dev/rtc_cmos.h"
#include "dev/uart16550.h"

#define PC_MAX_CPUS APIC_BUS_MAX_LAPICS /* bounded by CLOCK_MAX_TIMERS: one per LAPIC */
#define PC_COM1_BASE 0x3F8
#define PC_COM1_IRQ 4
#define PC_RTC_IRQ 8

/* A blob handed to the guest through fw_cfg (the board does not copy it). */
struct pc_blob {
	const void *data;  /* NULL = absent */
	uint32_t size;
	uint32_t addr;     /* load address reported in the *_ADDR item */
};

struct pc_config {
	uint64_t ram_size;      /* bytes; 0 = bus->ram_size. Must be >= 1 MiB */
	int ncpus;              /* 1..PC_MAX_CPUS; cpus[0..ncpus-1] */
	const char *cmdline;    /* kernel command line, NULL = none (not copied) */
	uint32_t cmdline_addr;  /* FW_CFG_CMDLINE_ADDR, 0 = omit */
	struct pc_blob kernel;  /* FW_CFG_KERNEL_ADDR/SIZE/DATA */
	struct pc_blob initrd;  /* FW_CFG_INITRD_ADDR/SIZE/DATA */
	int uart_in_fd;         /* host fd COM1 reads (non-blocking polls), -1 = none */
	int uart_out_fd;        /* host fd COM1 writes to, -1 = none */
	/* The guest asked the machine to stop with this exit status (debug-exit:
	 * (value << 1) | 1; ACPI power-off: 0). Called from inside device emulation:
	 * the callee should cpu_request_stop() and return. */
	void (*request_exit)(void *opaque, int status);
	void *exit_opaque;
	/* RTC time at power-on in seconds since 1970; 0 = the host's wall clock, or
	 * 2000-01-01 00:00:00 (RTC_DETERMINISTIC_EPOCH) when the clock is deterministic. */
	int64_t rtc_epoch;
};

struct pc {
	struct bus *bus;
	struct clock *clock;
	struct cpu **cpus;
	int ncpus;
	int bsp;                   /* index of the bootstrap processor */
	struct pc_config cfg;

	struct irq_router router;
	struct pic pic;
	struct pit pit;
	struct rtc rtc;
	struct uart com1;
	struct debug_exit debug_exit;
	struct port80 port80;
	struct pc_testdev *testdev; /* heap: carries 64 KiB of trapped memory */
	struct apic_bus apic_bus;
	struct lapic *lapics;       /* heap: one per CPU, lapics[i] belongs to cpus[i] */
	struct ioapic ioapic;
	struct fw_cfg fw_cfg;
	struct acpi_pm acpi_pm;
	uint8_t uuid[16];
	gpa_t rsdp;
};

/* Build the board. Returns 0, or -1 (with a message on stderr) on bad configuration
 * or when the bus, clock or host run out of regions, timers or memory; after a failure
 * the bus and clock hold regions and timers of the half-built board: destroy them. */
int pc_init(struct pc *pc, struct bus *bus, struct clock *clock, struct cpu **cpus,
	    const struct pc_config *cfg);
void pc_destroy(struct pc *pc);

/* The local APIC of CPU i (for the core's IA32_TSC_DEADLINE MSR and debugging). */
static inline struct lapic *pc_lapic(struct pc *pc, int i)
{
	return &pc->lapics[i];
}

#endif
