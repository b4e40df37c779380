/*
 * Intel 82093AA I/O APIC at 0xFEC00000: IOREGSEL at offset 0x00, IOWIN at 0x10;
 * registers ID (0x00), version (0x01, reads 0x00170011: 24 entries, version 0x11),
 * arbitration ID (0x02) and the redirection table (0x10-0x3F, two per pin).
 *
 * Pins are active-high logical levels: polarity bits are stored but, as in QEMU's
 * model, the board drives each pin with the asserted/deasserted state. An edge pin
 * delivers on a rising edge unless masked (a masked edge is lost, datasheet 3.2.4); a
 * level pin delivers while asserted and Remote IRR is clear, and Remote IRR clears on
 * the EOI broadcast for its vector, redelivering if the pin is still asserted.
 *
 * Reference: 82093AA I/O APIC datasheet (order 290566), 3.2.
 */
#ifndef TURTLES_DEV_IOAPIC_H
#define TURTLES_DEV_IOAPIC_H

#include "cpu/bus.h"
#include "dev/apic_bus.h"

#define IOAPIC_DEFAULT_BASE 0xFEC00000ULL
#define IOAPIC_NR_PINS 24
#define IOAPIC_VERSION 0x11

#define IOAPIC_RTE_MASKED BIT(16)
#define IOAPIC_RTE_LEVEL BIT(15)
#define IOAPIC_RTE_REMOTE_IRR BIT(14)
#define IOAPIC_RTE_DELIVS BIT(12)

struct ioapic {
	uint8_t regsel;
	uint8_t id;                     /* 4-bit APIC ID of the IOAPIC */
	uint64_t rte[IOAPIC_NR_PINS];   /* redirection table entries */
	uint32_t pins;                  /* asserted inputs */
	struct apic_bus *bus;
};

void ioapic_init(struct ioapic *io, struct apic_bus *bus, uint8_t id);
int ioapic_map(struct ioapic *io, struct bus *bus, gpa_t base);

void ioapic_set_irq(struct ioapic *io, int pin, int level);
/* EOI broadcast from a LAPIC for a level-triggered vector. */
void ioapic_eoi(struct ioapic *io, uint8_t vector);

#endif
