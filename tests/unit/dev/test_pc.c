/*
 * The whole board: pc_init on a 64 MiB bus with two CPUs, then the paths a guest
 * uses: the BIOS timer interrupt through PIT -> 8259 -> LAPIC virtual wire -> CPU,
 * COM1 output and its IRQ, the IOAPIC path, fw_cfg, CMOS memory sizes (QEMU's
 * pc_cmos_init), ACPI RSDP, isa-debug-exit and ACPI soft-off.
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "dev/pc.h"
#include "test_util.h"

static struct bus bus;
static struct clock clk;
static struct cpu cpu[2];
static struct cpu *cpus[2] = { &cpu[0], &cpu[1] };
static struct pc pc;
static int exits, exit_status;

static void on_exit_req(void *opaque, int status)
{
	(void)opaque;
	exits++;
	exit_status = status;
}

static uint8_t cmos(uint8_t i)
{
	outb(&bus, 0x70, i);
	return inb(&bus, 0x71);
}

static int ack(int i)
{
	return cpu[i].apic_ops->intr_ack(cpu[i].apic);
}

static void test_board_state(void)
{
	CHECK(cpu[1].apic == pc_lapic(&pc, 1) && cpu[1].apic_ops, "CPU 1 has its LAPIC");
	bus_out(&bus, 0x510, 2, FW_CFG_NB_CPUS);
	CHECK_EQ(inb(&bus, 0x511), 2, "fw_cfg: 2 CPUs");
	bus_out(&bus, 0x510, 2, FW_CFG_RAM_SIZE);
	uint64_t ram = 0;
	for (int i = 0; i < 8; i++)
		ram |= (uint64_t)inb(&bus, 0x511) << (8 * i);
	CHECK_EQ(ram, 64ULL << 20, "fw_cfg: RAM size 64 MiB");
	bus_out(&bus, 0x510, 2, FW_CFG_CMDLINE_DATA);
	char cmd[8] = { 0 };
	for (int i = 0; i < 7; i++)
		cmd[i] = (char)inb(&bus, 0x511);
	CHECK(strcmp(cmd, "quiet") == 0, "fw_cfg: command line");
	CHECK_EQ(cmos(0x15) | cmos(0x16) << 8, 640, "CMOS 0x15: 640 KiB base memory");
	CHECK_EQ(cmos(0x17) | cmos(0x18) << 8, 63 * 1024, "CMOS 0x17: 63 MiB above 1 MiB, KiB");
	CHECK_EQ(cmos(0x30) | cmos(0x31) << 8, 63 * 1024, "CMOS 0x30: same");
	CHECK_EQ(cmos(0x34) | cmos(0x35) << 8, 48 * 16, "CMOS 0x34: above 16 MiB in 64 KiB");
	CHECK_EQ(cmos(0x5B) | cmos(0x5C) << 8 | cmos(0x5D) << 16, 0, "CMOS 0x5b: none above 4G");
	CHECK_EQ(cmos(0x09) | cmos(0x32) << 8, 0x2000, "RTC: year 2000 in deterministic mode");
	CHECK(memcmp(bus.ram + 0xE0000, "RSD PTR ", 8) == 0, "RSDP at 0xE0000");
	CHECK_EQ(pc.rsdp, 0xE0000, "pc.rsdp");
}

static void test_timer_path(void)
{
	/* BIOS: PIT mode 2, count 65536 -> first IRQ0 edge after 65536 ticks. */
	uint64_t first = (65536ULL * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
	while (!(cpu[0].events & CPU_EV_INTR) && clock_now(&clk) < 100000000)
		clock_step(&clk, 100000000);
	CHECK_EQ(clock_now(&clk), first, "first BIOS timer tick at 65536 PIT ticks (~54.9 ms)");
	CHECK(!(cpu[1].events & CPU_EV_INTR), "the AP does not see 8259 interrupts");
	CHECK_EQ(ack(0), 0x08, "INTA through the LAPIC's ExtINT: vector 08h");
	outb(&bus, 0x20, 0x20);
	CHECK(!(cpu[0].events & CPU_EV_INTR), "INTR low after EOI");
}

static void test_uart_and_ioapic(int out_rd)
{
	outb(&bus, 0x3F8, 'X');
	char c = 0;
	CHECK(read(out_rd, &c, 1) == 1 && c == 'X', "COM1 output reaches the host fd");
	outb(&bus, 0x21, 0xEA);   /* unmask IRQ4 */
	outb(&bus, 0x3F9, 0x02);  /* THRE interrupt */
	CHECK_EQ(ack(0), 0x0C, "COM1 THRE -> IRQ4 -> vector 0Ch via the 8259");
	outb(&bus, 0x20, 0x20);
	inb(&bus, 0x3FA);         /* IIR read clears THRE */
	outb(&bus, 0x21, 0xFA);

	/* The same line through the IOAPIC to CPU 1 (guest switched to APIC mode). */
	cpu[1].apic_ops->mmio_write(cpu[1].apic, 0xF0, 0x1FF);
	bus_write(&bus, IOAPIC_DEFAULT_BASE, 4, 0x10 + 2 * 4 + 1);
	bus_write(&bus, IOAPIC_DEFAULT_BASE + 0x10, 4, 1u << 24);
	bus_write(&bus, IOAPIC_DEFAULT_BASE, 4, 0x10 + 2 * 4);
	bus_write(&bus, IOAPIC_DEFAULT_BASE + 0x10, 4, 0x44);
	outb(&bus, 0x3F8, 'Y');   /* THRE interrupt again: IRQ4 rises */
	CHECK_EQ(ack(1), 0x44, "COM1 IRQ4 -> IOAPIC pin 4 -> CPU 1 vector 0x44");
	CHECK(read(out_rd, &c, 1) == 1 && c == 'Y', "second byte on the host fd");
	outb(&bus, 0x3F9, 0x00);
}

int main(void)
{
	int out[2];
	static const uint8_t kernel[16] = { 1, 2, 3 };
	if (pipe(out) < 0 || bus_init(&bus, 64 << 20) < 0)
		return 1;
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	clock_init(&clk, true);
	for (int i = 0; i < 2; i++) {
		cpu[i].id = i;
		cpu[i].bsp = i == 0;
		cpu[i].apic_base = LAPIC_DEFAULT_BASE | APIC_BASE_EN | (i ? 0 : APIC_BASE_BSP);
	}
	struct pc_config cfg = {
		.ncpus = 2,
		.cmdline = "quiet",
		.kernel = { kernel, sizeof(kernel), 0x100000 },
		.uart_in_fd = -1,
		.uart_out_fd = out[1],
		.request_exit = on_exit_req,
	};
	CHECK_EQ(pc_init(&pc, &bus, &clk, cpus, &cfg), 0, "pc_init");
	test_board_state();
	test_timer_path();
	test_uart_and_ioapic(out[0]);
	outb(&bus, 0xF4, 0x2A);
	CHECK(exits == 1 && exit_status == 0x55, "isa-debug-exit: status (0x2a << 1) | 1");
	bus_out(&bus, 0x604, 2, 1 << 13);
	CHECK(exits == 2 && exit_status == 0, "ACPI S5 soft-off exits with status 0");

	struct pc_config bad = cfg;
	struct pc pc2;
	bad.ncpus = PC_MAX_CPUS + 1;
	CHECK_EQ(pc_init(&pc2, &bus, &clk, cpus, &bad), -1, "too many CPUs rejected");
	pc_destroy(&pc);
	CHECK(cpu[0].apic == NULL, "pc_destroy detaches the LAPICs");
	bus_destroy(&bus);
	return test_done();
}
