/*
 * The system bus between interrupt sources and local APICs (on P6 the 3-wire APIC bus,
 * since Pentium 4 the front-side/system bus; SDM Vol.3A 11.6-11.7). A message names
 * its destination the way an ICR or an IOAPIC redirection entry does; every LAPIC
 * decides whether it is addressed, as the hardware does.
 */
#ifndef TURTLES_DEV_APIC_BUS_H
#define TURTLES_DEV_APIC_BUS_H

#include "cpu/types.h"

#define APIC_BUS_MAX_LAPICS 32

/* Delivery modes, ICR and redirection-entry bits 10:8 (SDM Figure 11-12). */
enum apic_delivery {
	APIC_DM_FIXED = 0,
	APIC_DM_LOWEST = 1,
	APIC_DM_SMI = 2,
	APIC_DM_NMI = 4,
	APIC_DM_INIT = 5,
	APIC_DM_STARTUP = 6,
	APIC_DM_EXTINT = 7,
};

/* Destination shorthand, ICR bits 19:18. */
enum apic_shorthand {
	APIC_SH_NONE = 0,
	APIC_SH_SELF = 1,
	APIC_SH_ALL = 2,
	APIC_SH_OTHERS = 3,
};

struct lapic;
struct ioapic;

struct apic_msg {
	uint32_t dest;        /* APIC ID (physical) or message destination address */
	uint8_t vector;
	uint8_t delivery;     /* enum apic_delivery */
	uint8_t shorthand;    /* enum apic_shorthand */
	bool logical;         /* destination mode */
	bool level;           /* trigger mode: level */
	bool assert;          /* level bit: false only for INIT level de-assert */
	bool x2apic;          /* 32-bit x2APIC destination format (else 8-bit xAPIC) */
	struct lapic *src;    /* sending LAPIC, NULL for the IOAPIC */
};

struct apic_bus {
	struct lapic *lapic[APIC_BUS_MAX_LAPICS];
	int n;
	struct ioapic *ioapic;
};

void apic_bus_init(struct apic_bus *b);
int apic_bus_add_lapic(struct apic_bus *b, struct lapic *l);

/* Deliver a message to every LAPIC it addresses. Lowest-priority delivery goes to the
 * addressed LAPIC with the lowest APIC ID (a fixed arbitration, which SDM 11.6.2.4
 * permits: the choice among equal-priority processors is model specific). */
void apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m);

/* A LAPIC accepted EOI for a level-triggered vector: broadcast to the IOAPIC. */
void apic_bus_eoi(struct apic_bus *b, uint8_t vector);

#endif
