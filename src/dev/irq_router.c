/* PC interrupt wiring: see irq_router.h. */
#include "dev/irq_router.h"

#include "dev/ioapic.h"
#include "dev/pic8259.h"

void irq_router_init(struct irq_router *r, struct pic *pic, struct ioapic *ioapic)
{
	r->pic = pic;
	r->ioapic = ioapic;
	r->level = 0;
}

struct irq_line irq_router_line(struct irq_router *r, int n)
{
	struct irq_line l = { r, (uint8_t)n };
	return l;
}

int irq_router_gsi(int n)
{
	return n == 0 ? 2 : n;
}

void irq_set(const struct irq_line *line, int level)
{
	struct irq_router *r = line->router;
	int n = line->n;
	uint32_t bit = 1u << n;

	if (!r || n >= IRQ_NR_LINES)
		return;
	if (!!(r->level & bit) == !!level)
		return; /* no change: the controllers detect edges themselves */
	r->level = level ? r->level | bit : r->level & ~bit;

	/* ISA IRQ2 does not exist on an AT bus: 8259 input 2 is the slave's cascade. */
	if (r->pic && n < 16 && n != 2)
		pic_set_irq(r->pic, n, level);
	if (r->ioapic && n != 2)
		ioapic_set_irq(r->ioapic, irq_router_gsi(n), level);
}
