/*
 * Intel 8259A pair: see pic8259.h. Priority arithmetic is relative to prio_add, the
 * input that currently has the highest priority (IR0 after ICW1; rotation moves it).
 */
#include "dev/pic8259.h"

#define PIC_MASTER 0
#define PIC_SLAVE 1
#define CASCADE_IRQ 2

/* Priority rank (0 = highest) of the best input in mask, or 8 if mask is empty. */
static int chip_best_rank(const struct pic_chip *c, uint8_t mask)
{
	for (int rank = 0; rank < 8; rank++)
		if (mask & (1u << ((rank + c->prio_add) & 7)))
			return rank;
	return 8;
}

/* The input the chip would present on INT now, or -1 (datasheet "Priority Resolver"). */
static int chip_pending(const struct pic_chip *c, bool is_master)
{
	int req = chip_best_rank(c, c->irr & ~c->imr);
	if (req == 8)
		return -1;
	uint8_t in_service = c->isr;
	/* Special mask mode: masked in-service levels do not inhibit others. */
	if (c->special_mask)
		in_service &= ~c->imr;
	/* Special fully nested mode: the slave's own in-service bit does not block further
	 * (higher priority) requests from the slave. */
	if (c->sfnm && is_master)
		in_service &= ~(1u << CASCADE_IRQ);
	if (req < chip_best_rank(c, in_service))
		return (req + c->prio_add) & 7;
	return -1;
}

static void chip_input(struct pic_chip *c, int irq, int level)
{
	uint8_t bit = 1u << irq;
	bool level_mode = c->ltim || (c->elcr & bit);

	if (level_mode) {
		/* Level-triggered: IRR follows the input. */
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit; /* rising edge */
	}
	/* Edge mode: a falling edge does not clear IRR (as QEMU's i8259). */
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

static void pic_update(struct pic *p)
{
	struct pic_chip *s = &p->chip[PIC_SLAVE];
	chip_input(&p->chip[PIC_MASTER], CASCADE_IRQ, chip_pending(s, false) >= 0);
	bool out = chip_pending(&p->chip[PIC_MASTER], true) >= 0;
	if (out != p->output) {
		p->output = out;
		if (p->intr)
			p->intr(p->intr_opaque, out);
	}
}

void pic_set_irq(struct pic *p, int irq, int level)
{
	if (irq < 0 || irq > 15)
		return;
	chip_input(&p->chip[irq >> 3], irq & 7, level);
	pic_update(p);
}

/* Second INTA pulse for input irq of chip c: ISR set (unless AEOI), edge IRR cleared. */
static void chip_ack(struct pic_chip *c, int irq)
{
	uint8_t bit = 1u << irq;
	if (c->auto_eoi) {
		if (c->rotate_aeoi)
			c->prio_add = (irq + 1) & 7;
	} else {
		c->isr |= bit;
	}
	if (!(c->ltim || (c->elcr & bit)))
		c->irr &= ~bit;
}

uint8_t pic_intack(struct pic *p)
{
	struct pic_chip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
	int irq = chip_pending(m, true);
	uint8_t vec;

	if (irq < 0) {
		/* Request went away before INTA: the 8259A answers IR7 (spurious). */
		vec = m->base + 7;
	} else if (irq == CASCADE_IRQ && !m->single) {
		int irq2 = chip_pending(s, false);
		if (irq2 >= 0)
			chip_ack(s, irq2);
		else
			irq2 = 7; /* spurious on the slave: vector base+7, no slave ISR bit */
		vec = s->base + irq2;
		chip_ack(m, irq);
	} else {
		vec = m->base + irq;
		chip_ack(m, irq);
	}
	pic_update(p);
	return vec;
}

/* OCW3 poll command: the read acts as INTA and returns 1000 0www or 0 (datasheet). */
static uint8_t chip_poll(struct pic *p, struct pic_chip *c, bool is_master)
{
	int irq = chip_pending(c, is_master);
	c->poll = false;
	if (irq < 0)
		return 0;
	chip_ack(c, irq);
	pic_update(p);
	return 0x80 | irq;
}

static void chip_eoi(struct pic_chip *c, int irq, bool rotate)
{
	c->isr &= ~(1u << irq);
	if (rotate)
		c->prio_add = (irq + 1) & 7;
}

/* OCW2, datasheet Figure "Operation Command Word 2": R, SL, EOI in bits 7:5. */
static void chip_ocw2(struct pic_chip *c, uint8_t v)
{
	int level = v & 7;
	int rank = chip_best_rank(c, c->isr);
	int highest = (rank + c->prio_add) & 7;

	switch (v >> 5) {
	case 0: c->rotate_aeoi = false; break;              /* clear rotate in AEOI */
	case 4: c->rotate_aeoi = true; break;               /* set rotate in AEOI */
	case 1: if (rank < 8) chip_eoi(c, highest, false); break; /* non-specific EOI */
	case 5: if (rank < 8) chip_eoi(c, highest, true); break;  /* rotate on n-s EOI */
	case 3: chip_eoi(c, level, false); break;           /* specific EOI */
	case 7: chip_eoi(c, level, true); break;            /* rotate on specific EOI */
	case 6: c->prio_add = (level + 1) & 7; break;       /* set priority: L lowest */
	default: break;                                      /* 2: no operation */
	}
}

/* ICW1: starts the initialization sequence and resets the chip (datasheet "ICW1"). */
static void chip_icw1(struct pic_chip *c, uint8_t v)
{
	c->lines = 0;      /* edge sense reset: inputs must go low-to-high again */
	c->irr &= c->elcr; /* level inputs keep requesting */
	c->imr = 0;
	c->isr = 0;
	c->prio_add = 0;
	c->read_isr = c->poll = c->special_mask = false;
	c->auto_eoi = c->rotate_aeoi = c->sfnm = false;
	c->icw4_needed = v & 0x01;
	c->single = v & 0x02;
	c->ltim = v & 0x08;
	c->init_step = 2;
}

static void chip_write_cmd(struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) {
		chip_icw1(c, v);
	} else if (v & 0x08) { /* OCW3 */
		if (v & 0x04)
			c->poll = true;
		if (v & 0x02)
			c->read_isr = v & 0x01;
		if (v & 0x40)
			c->special_mask = v & 0x20;
	} else {
		chip_ocw2(c, v);
	}
}

static void chip_write_data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2: /* ICW2: vector base; A10-A8 ignored in 8086 mode */
		c->base = v & 0xF8;
		c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
		break;
	case 3: /* ICW3: cascade wiring, fixed on a PC */
		c->icw3 = v;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4: /* ICW4: uPM (bit 0) assumed 8086, AEOI bit 1, SFNM bit 4 */
		c->auto_eoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_step = 0;
		break;
	default: /* OCW1 */
		c->imr = v;
		break;
	}
}

static uint32_t pic_io_read(void *opaque, uint16_t port, int size)
{
	struct pic *p = opaque;
	(void)size;
	if (port == 0x4D0 || port == 0x4D1)
		return p->chip[port & 1].elcr;

	int idx = port >= 0xA0;
	struct pic_chip *c = &p->chip[idx];
	if (c->poll)
		return chip_poll(p, c, idx == PIC_MASTER);
	if (port & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct pic *p = opaque;
	uint8_t v = value;
	(void)size;

	if (port == 0x4D0 || port == 0x4D1) {
		struct pic_chip *c = &p->chip[port & 1];
		c->elcr = v & c->elcr_mask;
	} else {
		struct pic_chip *c = &p->chip[port >= 0xA0];
		if (port & 1)
			chip_write_data(c, v);
		else
			chip_write_cmd(c, v);
	}
	pic_update(p);
}

static const struct io_ops pic_io_ops = {
	.read = pic_io_read,
	.write = pic_io_write,
};

void pic_init(struct pic *p, void (*intr)(void *opaque, bool level), void *opaque)
{
	*p = (struct pic){ .intr = intr, .intr_opaque = opaque };
	/* PIIX4 ELCR: IRQ0, 1, 2, 8 and 13 are edge-only (datasheet 4.1.18). */
	p->chip[PIC_MASTER].elcr_mask = 0xF8;
	p->chip[PIC_SLAVE].elcr_mask = 0xDE;
}

int pic_map(struct pic *p, struct bus *bus)
{
	if (bus_map_io(bus, 0x20, 2, &pic_io_ops, p) < 0 ||
	    bus_map_io(bus, 0xA0, 2, &pic_io_ops, p) < 0 ||
	    bus_map_io(bus, 0x4D0, 2, &pic_io_ops, p) < 0)
		return -1;
	return 0;
}
