/* BIOS-equivalent power-on state: see bios.h. */
#include "dev/bios.h"

#include "dev/lapic.h"

/* INT 08h: acknowledge IRQ0 at the master 8259 and return. 7 bytes. */
static const uint8_t timer_stub[] = {
	0x50,       /* push ax */
	0xB0, 0x20, /* mov al, 20h     ; OCW2: non-specific EOI */
	0xE6, 0x20, /* out 20h, al     ; master 8259 command port */
	0x58,       /* pop ax */
	0xCF,       /* iret */
};

/* Every other vector. */
static const uint8_t iret_stub[] = {
	0xCF,       /* iret */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void bios_ivt_and_stubs(uint8_t *ram)
{
	for (int v = 0; v < 256; v++) {
		uint32_t target = v == 8 ? BIOS_TIMER_STUB : BIOS_IRET_STUB;
		put16(ram + v * 4, (uint16_t)(target & 0xFFFF)); /* offset */
		put16(ram + v * 4 + 2, 0xF000);                  /* segment */
	}
	for (unsigned i = 0; i < sizeof(timer_stub); i++)
		ram[BIOS_TIMER_STUB + i] = timer_stub[i];
	for (unsigned i = 0; i < sizeof(iret_stub); i++)
		ram[BIOS_IRET_STUB + i] = iret_stub[i];
}

static void bios_data_area(uint8_t *ram, uint64_t ram_size)
{
	uint64_t kib = ram_size / 1024;
	put16(ram + 0x400, 0x3F8);   /* COM1 I/O base; COM2-4 and LPTs stay 0 */
	put16(ram + 0x40E, 0);       /* no extended BIOS data area */
	put16(ram + 0x410, 0x0202);  /* equipment: 1 serial port (bits 11:9), FPU (1) */
	put16(ram + 0x413, (uint16_t)(kib < 640 ? kib : 640)); /* base memory, KiB */
}

/* ICW1-ICW4 and OCW1 for both 8259s, as a PC BIOS issues them. */
static void bios_pic(struct bus *bus)
{
	static const uint8_t seq[][2] = {
		{ 0x20, 0x11 }, { 0x21, BIOS_PIC_MASTER_BASE }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xA0, 0x11 }, { 0xA1, BIOS_PIC_SLAVE_BASE }, { 0xA1, 0x02 }, { 0xA1, 0x01 },
		{ 0x21, 0xFA }, { 0xA1, 0xFF }, /* unmask IRQ0 and the cascade (IRQ2) */
	};
	for (unsigned i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		bus_out(bus, seq[i][0], 1, seq[i][1]);
}

static void bios_pit(struct bus *bus)
{
	bus_out(bus, 0x43, 1, 0x34); /* channel 0, lo/hi byte, mode 2, binary */
	bus_out(bus, 0x40, 1, 0x00);
	bus_out(bus, 0x40, 1, 0x00); /* count 0 = 65536 */
}

static void bios_lapic(struct lapic *l)
{
	const struct cpu_apic_ops *ops = &lapic_ops;
	ops->mmio_write(l, 0xF0, ops->mmio_read(l, 0xF0) | 0x100); /* SVR: enable */
	ops->mmio_write(l, 0x350, 0x8700); /* LINT0: ExtINT, level */
	ops->mmio_write(l, 0x360, 0x8400); /* LINT1: NMI, level */
}

int bios_setup(struct bus *bus, struct lapic *bsp)
{
	uint8_t *ram = bus_ram_ptr(bus, 0);
	if (!ram || bus->ram_size < 0x100000)
		return -1;
	bios_ivt_and_stubs(ram);
	bios_data_area(ram, bus->ram_size);
	for (uint64_t pfn = 0; pfn < 0x100; pfn++)
		bus_note_write(bus, pfn); /* written behind the bus's back */
	bios_pic(bus);
	bios_pit(bus);
	if (bsp)
		bios_lapic(bsp);
	return 0;
}
