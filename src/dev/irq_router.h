/*
 * The PC's interrupt wiring from device lines to the interrupt controllers.
 *
 * A device holds a struct irq_line and drives it with irq_set(). Line n is ISA IRQ n for
 * n < 16 and GSI n above. ISA IRQ n goes to 8259 input n and IOAPIC pin n, except IRQ0
 * (the PIT), which reaches IOAPIC pin 2: the "interrupt source override" every PC
 * chipset has and QEMU's pc machine models (hw/i386/x86.c gsi wiring; ACPI 6.5
 * 5.2.12.5). Lines 16-23 reach the IOAPIC only.
 */
#ifndef TURTLES_DEV_IRQ_ROUTER_H
#define TURTLES_DEV_IRQ_ROUTER_H

#include "cpu/types.h"

#define IRQ_NR_LINES 24

struct pic;
struct ioapic;

struct irq_router {
	struct pic *pic;       /* may be NULL (unit tests) */
	struct ioapic *ioapic; /* may be NULL */
	uint32_t level;        /* bit n: level devices drive on line n */
};

struct irq_line {
	struct irq_router *router;
	uint8_t n;
};

void irq_router_init(struct irq_router *r, struct pic *pic, struct ioapic *ioapic);
struct irq_line irq_router_line(struct irq_router *r, int n);

/* Drive a line high (level != 0) or low. A line without a router is not connected. */
void irq_set(const struct irq_line *line, int level);

/* The IOAPIC pin an ISA IRQ reaches (2 for IRQ0, else n). */
int irq_router_gsi(int n);

#endif
