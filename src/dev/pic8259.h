/*
 * A cascaded pair of Intel 8259A programmable interrupt controllers as on every PC:
 * master at ports 0x20/0x21, slave at 0xA0/0xA1 cascaded into master input 2, and the
 * PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 * Reference: Intel 8259A datasheet (order 231468), PIIX4 datasheet 4.1.18 (ELCR).
 */
#ifndef TURTLES_DEV_PIC8259_H
#define TURTLES_DEV_PIC8259_H

#include "cpu/bus.h"

struct pic_chip {
	uint8_t irr;       /* interrupt request register */
	uint8_t isr;       /* in-service register */
	uint8_t imr;       /* interrupt mask register (OCW1) */
	uint8_t lines;     /* current input levels, for edge detection */
	uint8_t elcr;      /* 1 = level-triggered input */
	uint8_t elcr_mask; /* ELCR bits that exist */
	uint8_t base;      /* vector base from ICW2 (bits 7:3) */
	uint8_t prio_add;  /* input with the highest priority (rotation) */
	uint8_t icw3;
	uint8_t init_step; /* 0 = operational; 2, 3, 4 = expecting ICW2, ICW3, ICW4 */
	bool icw4_needed, single, ltim;
	bool read_isr;     /* OCW3 RR/RIS: command port reads ISR instead of IRR */
	bool poll;         /* OCW3 P: next read is a poll command */
	bool special_mask; /* OCW3 SMM */
	bool auto_eoi;     /* ICW4 AEOI */
	bool rotate_aeoi;  /* OCW2 rotate in automatic EOI mode */
	bool sfnm;         /* ICW4 special fully nested mode */
};

struct pic {
	struct pic_chip chip[2]; /* 0 = master, 1 = slave */
	bool output;             /* master INT pin */
	void (*intr)(void *opaque, bool level); /* INT pin changed */
	void *intr_opaque;
};

void pic_init(struct pic *p, void (*intr)(void *opaque, bool level), void *opaque);
int pic_map(struct pic *p, struct bus *bus);

/* Drive input irq (0-15) to level. */
void pic_set_irq(struct pic *p, int irq, int level);

/* The interrupt-acknowledge cycle (two INTA pulses): returns the vector. With nothing
 * pending it returns the spurious vector of IR7 of the chip asked (SDM-era 8259A
 * behaviour; datasheet "Interrupt Sequence"). */
uint8_t pic_intack(struct pic *p);

/* Whether the master's INT output is asserted. */
static inline bool pic_output(const struct pic *p)
{
	return p->output;
}

#endif
