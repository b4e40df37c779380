/*
 * The machine state a PC BIOS leaves for a real-mode program, set up directly instead
 * of by running firmware:
 *   - IVT at 0: every vector -> F000:FF53, an IRET (the IBM PC BIOS dummy-interrupt
 *     address), except vector 08h (IRQ0) -> F000:FEA5 (the IBM BIOS INT 08h entry), a
 *     stub that sends a non-specific EOI to the master 8259 and returns;
 *   - the stubs' machine code at F000:FEA5 and F000:FF53;
 *   - BIOS data area: COM1 base 0x3F8 at 0x400, equipment word at 0x410 (one serial
 *     port, FPU), base memory size in KiB at 0x413 (640, or less with less RAM);
 *   - the 8259 pair initialised through their ports with vector bases 08h and 70h, all
 *     inputs masked except IRQ0 and the cascade;
 *   - PIT channel 0 in mode 2 with count 65536 (18.2 Hz), as SeaBIOS's pit_setup;
 *   - the BSP's local APIC in virtual-wire mode as SeaBIOS's smp_setup leaves it:
 *     software-enabled, LINT0 = ExtINT, LINT1 = NMI (both level).
 */
#ifndef TURTLES_DEV_BIOS_H
#define TURTLES_DEV_BIOS_H

#include "cpu/bus.h"

#define BIOS_IRET_STUB 0xFFF53ULL  /* F000:FF53 */
#define BIOS_TIMER_STUB 0xFFEA5ULL /* F000:FEA5 */
#define BIOS_PIC_MASTER_BASE 0x08
#define BIOS_PIC_SLAVE_BASE 0x70

struct lapic;

/* Returns 0, or -1 if RAM does not cover the first MiB. bsp may be NULL. */
int bios_setup(struct bus *bus, struct lapic *bsp);

#endif
