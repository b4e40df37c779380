/* APIC message routing: see apic_bus.h. */
#include "dev/apic_bus.h"

#include "dev/ioapic.h"
#include "dev/lapic.h"

void apic_bus_init(struct apic_bus *b)
{
	b->n = 0;
	b->ioapic = NULL;
}

int apic_bus_add_lapic(struct apic_bus *b, struct lapic *l)
{
	if (b->n >= APIC_BUS_MAX_LAPICS)
		return -1;
	b->lapic[b->n++] = l;
	return 0;
}

void apic_bus_deliver(struct apic_bus *b, const struct apic_msg *m)
{
	struct lapic *lowest = NULL;

	for (int i = 0; i < b->n; i++) {
		struct lapic *l = b->lapic[i];
		if (!lapic_match_dest(l, m))
			continue;
		if (m->delivery != APIC_DM_LOWEST)
			lapic_accept(l, m);
		else if (!lowest || l->id < lowest->id)
			lowest = l;
	}
	if (lowest)
		lapic_accept(lowest, m);
}

void apic_bus_eoi(struct apic_bus *b, uint8_t vector)
{
	if (b->ioapic)
		ioapic_eoi(b->ioapic, vector);
}
