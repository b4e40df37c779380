/*
 * IOAPIC at 0xFEC00000 through MMIO, routing ISA/GSI lines from the irq router to two
 * LAPICs. Expected behaviour from the 82093AA datasheet (3.2: IOREGSEL/IOWIN, ID,
 * version 0x11 with max redirection entry 23, RTE format, Remote IRR) and the PC
 * wiring of irq_router.h (IRQ0 -> pin 2).
 */
#include "dev/ioapic.h"
#include "dev/irq_router.h"
#include "dev/lapic.h"
#include "test_util.h"

#define BASE IOAPIC_DEFAULT_BASE

static struct bus bus;
static struct clock clk;
static struct apic_bus abus;
static struct ioapic io;
static struct irq_router router;
static struct cpu cpu[2];
static struct lapic lapic[2];

static uint32_t io_rd(uint8_t reg)
{
	bus_write(&bus, BASE, 4, reg);
	return (uint32_t)bus_read(&bus, BASE + 0x10, 4);
}

static void io_wr(uint8_t reg, uint32_t v)
{
	bus_write(&bus, BASE, 4, reg);
	bus_write(&bus, BASE + 0x10, 4, v);
}

static void rte(int pin, uint32_t lo, uint8_t dest)
{
	io_wr((uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
	io_wr((uint8_t)(0x10 + 2 * pin), lo);
}

static void line(int n, int level)
{
	struct irq_line l = irq_router_line(&router, n);
	irq_set(&l, level);
}

/* INTA + EOI on a LAPIC; returns the vector or -1. */
static int take(int i)
{
	int v = lapic_ops.intr_ack(&lapic[i]);
	if (v >= 0)
		lapic_ops.mmio_write(&lapic[i], 0xB0, 0);
	return v;
}

static void test_registers(void)
{
	CHECK_EQ(io_rd(0x01), 0x00170011, "version: 24 entries, version 0x11");
	CHECK_EQ(io_rd(0x00), 0, "ID 0 (as QEMU and the MADT)");
	io_wr(0x00, 0x05000000);
	CHECK_EQ(io_rd(0x00), 0x05000000, "ID is writable (bits 27:24)");
	io_wr(0x00, 0);
	CHECK_EQ(io_rd(0x10 + 2 * 7), 0x10000, "redirection entries reset masked");
	CHECK_EQ(bus_read(&bus, BASE, 4), 0x1E, "IOREGSEL reads back");
}

static void test_edge(void)
{
	rte(4, 0x34, 1); /* fixed, physical, edge, dest APIC 1 */
	line(4, 1);
	CHECK(cpu[1].events & CPU_EV_INTR, "ISA IRQ4 edge reaches APIC 1");
	CHECK_EQ(take(1), 0x34, "vector 0x34");
	line(4, 1);
	CHECK_EQ(take(1), -1, "no new edge, no new interrupt");
	line(4, 0);
	rte(4, 0x10034, 1); /* masked */
	line(4, 1);
	rte(4, 0x34, 1);
	CHECK_EQ(take(1), -1, "an edge on a masked pin is lost");
	line(4, 0);

	rte(2, 0x30, 0);
	line(0, 1);
	CHECK_EQ(take(0), 0x30, "ISA IRQ0 arrives on IOAPIC pin 2");
	line(0, 0);
	rte(16, 0x40, 1);
	line(16, 1);
	CHECK_EQ(take(1), 0x40, "GSI 16 reaches pin 16");
	line(16, 0);
}

static void test_level(void)
{
	rte(9, 0x8000 | 0x39, 0); /* level, dest APIC 0 */
	line(9, 1);
	CHECK(io_rd(0x10 + 18) & IOAPIC_RTE_REMOTE_IRR, "level delivery sets Remote IRR");
	CHECK_EQ(lapic_ops.intr_ack(&lapic[0]), 0x39, "level vector 0x39");
	CHECK(lapic[0].tmr[0x39 / 32] & (1u << (0x39 % 32)), "TMR set for a level interrupt");
	lapic_ops.mmio_write(&lapic[0], 0xB0, 0); /* EOI, broadcast to the IOAPIC */
	CHECK(io_rd(0x10 + 18) & IOAPIC_RTE_REMOTE_IRR, "still asserted: redelivered at EOI");
	CHECK_EQ(lapic_ops.intr_ack(&lapic[0]), 0x39, "second delivery of 0x39");
	line(9, 0);
	lapic_ops.mmio_write(&lapic[0], 0xB0, 0);
	CHECK_EQ(io_rd(0x10 + 18) & IOAPIC_RTE_REMOTE_IRR, 0, "EOI clears Remote IRR");
	CHECK_EQ(take(0), -1, "deasserted: no more deliveries");

	rte(10, 0x18000 | 0x3A, 0); /* level, masked */
	line(10, 1);
	CHECK_EQ(take(0), -1, "masked level pin holds");
	rte(10, 0x8000 | 0x3A, 0);
	CHECK_EQ(lapic_ops.intr_ack(&lapic[0]), 0x3A, "unmasking an asserted level pin delivers");
	line(10, 0); /* the handler quiets the device before EOI */
	lapic_ops.mmio_write(&lapic[0], 0xB0, 0);
	CHECK_EQ(take(0), -1, "nothing left after the level handler's EOI");
}

static void test_modes(void)
{
	lapic_ops.mmio_write(&lapic[0], 0xD0, 0x01000000);
	lapic_ops.mmio_write(&lapic[1], 0xD0, 0x02000000);
	rte(5, 0x800 | 0x35, 0x03); /* logical flat, both */
	line(5, 1);
	CHECK(take(0) == 0x35 && take(1) == 0x35, "logical destination 0x03 reaches both");
	line(5, 0);
	rte(6, 0x900 | 0x36, 0x03); /* lowest priority */
	line(6, 1);
	CHECK(take(0) == 0x36 && take(1) == -1, "lowest priority: APIC 0 only");
	line(6, 0);
	rte(7, 0x400, 1); /* NMI */
	line(7, 1);
	CHECK(cpu[1].events & CPU_EV_NMI, "NMI delivery mode");
	line(7, 0);
}

int main(void)
{
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	clock_init(&clk, true);
	apic_bus_init(&abus);
	for (int i = 0; i < 2; i++) {
		cpu[i].id = i;
		cpu[i].apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (i ? 0 : APIC_BASE_BSP);
		if (lapic_init(&lapic[i], &cpu[i], &abus, &clk) < 0)
			return 1;
		lapic_ops.mmio_write(&lapic[i], 0xF0, 0x1FF);
	}
	ioapic_init(&io, &abus, 0);
	irq_router_init(&router, NULL, &io);
	if (ioapic_map(&io, &bus, BASE) < 0)
		return 1;
	test_registers();
	test_edge();
	test_level();
	test_modes();
	bus_destroy(&bus);
	return test_done();
}
