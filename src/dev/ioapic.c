/* 82093AA I/O APIC: see ioapic.h. */
#include "dev/ioapic.h"

#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REG_RTE 0x10
#define RTE_RO_BITS (IOAPIC_RTE_REMOTE_IRR | IOAPIC_RTE_DELIVS)

static void ioapic_send(struct ioapic *io, int pin)
{
	uint64_t e = io->rte[pin];
	struct apic_msg m = {
		.vector = e & 0xFF,
		.delivery = (e >> 8) & 7,
		.logical = e & BIT(11),
		.level = e & IOAPIC_RTE_LEVEL,
		.assert = true,
		.dest = (uint32_t)(e >> 56),
	};
	apic_bus_deliver(io->bus, &m);
}

/* Deliver a level-triggered pin if it is asserted, unmasked and not awaiting EOI. */
static void ioapic_service_level(struct ioapic *io, int pin)
{
	uint64_t *e = &io->rte[pin];
	if (!(*e & IOAPIC_RTE_LEVEL) || (*e & (IOAPIC_RTE_MASKED | IOAPIC_RTE_REMOTE_IRR)) ||
	    !(io->pins & (1u << pin)))
		return;
	*e |= IOAPIC_RTE_REMOTE_IRR; /* set when the LAPIC accepts (datasheet 3.2.4) */
	ioapic_send(io, pin);
}

void ioapic_set_irq(struct ioapic *io, int pin, int level)
{
	if (pin < 0 || pin >= IOAPIC_NR_PINS)
		return;
	uint32_t bit = 1u << pin;
	bool rising = level && !(io->pins & bit);
	io->pins = level ? io->pins | bit : io->pins & ~bit;

	uint64_t e = io->rte[pin];
	if (e & IOAPIC_RTE_LEVEL)
		ioapic_service_level(io, pin);
	else if (rising && !(e & IOAPIC_RTE_MASKED))
		ioapic_send(io, pin);
}

void ioapic_eoi(struct ioapic *io, uint8_t vector)
{
	for (int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t *e = &io->rte[pin];
		if ((*e & 0xFF) != vector || !(*e & IOAPIC_RTE_REMOTE_IRR))
			continue;
		*e &= ~IOAPIC_RTE_REMOTE_IRR;
		ioapic_service_level(io, pin);
	}
}

static uint32_t ioapic_reg_read(struct ioapic *io)
{
	uint8_t r = io->regsel;
	switch (r) {
	case REG_ID: case REG_ARB: return (uint32_t)io->id << 24;
	case REG_VER: return (IOAPIC_NR_PINS - 1) << 16 | IOAPIC_VERSION;
	default: break;
	}
	if (r >= REG_RTE && r < REG_RTE + 2 * IOAPIC_NR_PINS) {
		uint64_t e = io->rte[(r - REG_RTE) >> 1];
		return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
	}
	return 0;
}

static void ioapic_rte_write(struct ioapic *io, int pin, bool high, uint32_t v)
{
	uint64_t *e = &io->rte[pin];
	if (high) {
		*e = (*e & 0xFFFFFFFFull) | ((uint64_t)(v & 0xFF000000) << 32);
		return;
	}
	*e = (*e & ~0xFFFFFFFFull) | (*e & RTE_RO_BITS) | (v & ~RTE_RO_BITS & 0x1FFFF);
	if (!(*e & IOAPIC_RTE_LEVEL))
		*e &= ~IOAPIC_RTE_REMOTE_IRR; /* Remote IRR is undefined for edge pins */
	ioapic_service_level(io, pin);   /* unmasking an asserted level pin delivers */
}

static void ioapic_reg_write(struct ioapic *io, uint32_t v)
{
	uint8_t r = io->regsel;
	if (r == REG_ID)
		io->id = (v >> 24) & 0x0F;
	else if (r >= REG_RTE && r < REG_RTE + 2 * IOAPIC_NR_PINS)
		ioapic_rte_write(io, (r - REG_RTE) >> 1, r & 1, v);
}

static uint64_t ioapic_mmio_read(void *opaque, uint64_t off, int size)
{
	struct ioapic *io = opaque;
	(void)size;
	switch (off) {
	case 0x00: return io->regsel;
	case 0x10: return ioapic_reg_read(io);
	default: return 0;
	}
}

static void ioapic_mmio_write(void *opaque, uint64_t off, int size, uint64_t value)
{
	struct ioapic *io = opaque;
	(void)size;
	if (off == 0x00)
		io->regsel = (uint8_t)value;
	else if (off == 0x10)
		ioapic_reg_write(io, (uint32_t)value);
}

static const struct mmio_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

void ioapic_init(struct ioapic *io, struct apic_bus *bus, uint8_t id)
{
	io->regsel = 0;
	io->id = id & 0x0F;
	io->pins = 0;
	io->bus = bus;
	for (int i = 0; i < IOAPIC_NR_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED; /* all pins masked at reset */
	bus->ioapic = io;
}

int ioapic_map(struct ioapic *io, struct bus *bus, gpa_t base)
{
	return bus_map_mmio(bus, base, 0x1000, &ioapic_mmio_ops, io);
}
