/*
 * ACPI for the PC board: static tables written into guest RAM (acpi.c) and the PIIX4-
 * style power-management I/O block (acpi_pm.c) with the 3.579545 MHz PM timer.
 *
 * Tables (ACPI 6.5 chapter 5; layout as QEMU's pc machine where it matters):
 *   RSDP rev 2 at ACPI_TABLES_BASE (0xE0000: in the BIOS area, 16-byte aligned) ->
 *   RSDT and XSDT -> FADT (rev 3) and MADT; FADT -> FACS and DSDT.
 *   MADT: one Processor Local APIC per CPU (UID = index, APIC ID = index), the IOAPIC
 *   (ID 0, 0xFEC00000, GSI base 0), ISA IRQ0 -> GSI 2 override, the SCI (IRQ9) override
 *   as level/active-high, and a Local APIC NMI entry (all processors, LINT1), as QEMU's
 *   acpi_build_madt.
 *   DSDT: an AML header plus Name(_S5, Package(4){0,0,0,0}) (PIIX4 SLP_TYP 0 = off).
 * PM block at 0x600 as QEMU's PIIX4 PM: PM1a_EVT 0x600 (4 bytes), PM1a_CNT 0x604
 * (2 bytes), PM_TMR 0x608 (4 bytes, 24-bit counter: FADT TMR_VAL_EXT = 0). No SMI_CMD:
 * the machine is always in ACPI mode (SCI_EN reads 1). Sleep type 0 with SLP_EN powers
 * off through the power_off callback. No SCI is ever raised.
 */
#ifndef TURTLES_DEV_ACPI_H
#define TURTLES_DEV_ACPI_H

#include "cpu/bus.h"
#include "cpu/clock.h"

#define ACPI_TABLES_BASE 0xE0000ULL
#define ACPI_TABLES_LIMIT 0x100000ULL
#define ACPI_PM_BASE 0x600
#define ACPI_PM_TMR_PORT (ACPI_PM_BASE + 8)
#define ACPI_PM_TIMER_HZ 3579545ULL
#define ACPI_SCI_IRQ 9

/* Write the tables for ncpus CPUs (APIC IDs 0..ncpus-1) at base (16-byte aligned, in
 * RAM below 1 MiB). Returns the RSDP's address, or 0 if they do not fit. */
gpa_t acpi_build_tables(struct bus *bus, gpa_t base, int ncpus);

struct acpi_pm {
	struct clock *clock;
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint64_t tmr_sts_ack; /* PM timer bit-23 toggles acknowledged via TMR_STS */
	void (*power_off)(void *opaque);
	void *opaque;
};

void acpi_pm_init(struct acpi_pm *pm, struct clock *clock, void (*power_off)(void *opaque),
		  void *opaque);
int acpi_pm_map(struct acpi_pm *pm, struct bus *bus);

/* The PM timer value: 3.579545 MHz ticks since power-on, 24 bits. */
uint32_t acpi_pm_timer(const struct acpi_pm *pm);

#endif
