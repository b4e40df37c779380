/*
 * The BIOS-equivalent state of bios.h on a bus with the 8259s, the PIT and a BSP
 * LAPIC: IVT entries, stub machine code, BDA fields, PIC bases/masks (PC convention:
 * master 08h, slave 70h) and the LAPIC virtual-wire setup SeaBIOS leaves.
 */
#include "dev/bios.h"
#include "dev/lapic.h"
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "test_util.h"

static uint16_t rd16(const uint8_t *ram, uint32_t a)
{
	return (uint16_t)(ram[a] | ram[a + 1] << 8);
}

static struct bus bus;
static struct clock clk;
static struct pic pic;
static struct pit pit;
static struct cpu cpu;
static struct lapic lapic;
static struct apic_bus abus;
static struct irq_router router;

static void check_memory(const uint8_t *ram)
{
	CHECK(rd16(ram, 8 * 4) == 0xFEA5 && rd16(ram, 8 * 4 + 2) == 0xF000,
	      "IVT 08h -> F000:FEA5 (timer stub)");
	int iret_vectors = 0;
	for (int v = 0; v < 256; v++)
		iret_vectors += v != 8 && rd16(ram, v * 4) == 0xFF53 && rd16(ram, v * 4 + 2) == 0xF000;
	CHECK_EQ(iret_vectors, 255, "every other vector -> F000:FF53");
	static const uint8_t timer_stub[] = { 0x50, 0xB0, 0x20, 0xE6, 0x20, 0x58, 0xCF };
	int same = 0;
	for (unsigned i = 0; i < sizeof(timer_stub); i++)
		same += ram[0xFFEA5 + i] == timer_stub[i];
	CHECK_EQ(same, sizeof(timer_stub), "timer stub: push ax; mov al,20h; out 20h,al; pop ax; iret");
	CHECK_EQ(ram[0xFFF53], 0xCF, "IRET stub");
	CHECK_EQ(rd16(ram, 0x400), 0x3F8, "BDA: COM1 base");
	CHECK_EQ(rd16(ram, 0x413), 640, "BDA: 640 KiB base memory");
	CHECK_EQ(rd16(ram, 0x410) & 0x0E00, 0x0200, "BDA equipment: one serial port");
}

static void check_devices(void)
{
	CHECK_EQ(inb(&bus, 0x21), 0xFA, "master IMR: IRQ0 and cascade unmasked");
	CHECK_EQ(inb(&bus, 0xA1), 0xFF, "slave IMR: all masked");
	pic_set_irq(&pic, 0, 0); /* the PIT holds IRQ0 high; make a clean edge */
	pic_set_irq(&pic, 0, 1);
	CHECK_EQ(pic_intack(&pic), 0x08, "IRQ0 -> vector 08h");
	outb(&bus, 0x20, 0x20);
	outb(&bus, 0xA1, 0x00);
	pic_set_irq(&pic, 8, 1);
	CHECK_EQ(pic_intack(&pic), 0x70, "IRQ8 -> vector 70h");

	outb(&bus, 0x43, 0xC2);
	CHECK_EQ(inb(&bus, 0x40), 0xB4, "PIT channel 0: mode 2, lo/hi, binary");
	CHECK_EQ(inb(&bus, 0x40) | inb(&bus, 0x40) << 8, 0, "PIT count 65536 (reads 0)");
	CHECK_EQ(lapic_ops.mmio_read(&lapic, 0xF0) & 0x100, 0x100, "LAPIC software-enabled");
	CHECK_EQ(lapic_ops.mmio_read(&lapic, 0x350), 0x8700, "LINT0: ExtINT, level");
	CHECK_EQ(lapic_ops.mmio_read(&lapic, 0x360), 0x8400, "LINT1: NMI, level");
}

int main(void)
{
	if (bus_init(&bus, 2 << 20) < 0)
		return 1;
	clock_init(&clk, true);
	apic_bus_init(&abus);
	cpu.bsp = true;
	cpu.apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP;
	pic_init(&pic, NULL, NULL);
	irq_router_init(&router, &pic, NULL);
	if (lapic_init(&lapic, &cpu, &abus, &clk) < 0 || pic_map(&pic, &bus) < 0 ||
	    pit_init(&pit, &clk, irq_router_line(&router, 0)) < 0 || pit_map(&pit, &bus) < 0)
		return 1;
	CHECK_EQ(bios_setup(&bus, &lapic), 0, "bios_setup");
	check_memory(bus.ram);
	check_devices();
	bus_destroy(&bus);
	return test_done();
}
