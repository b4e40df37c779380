/*
 * devices - the PC platform the kernels rely on: QEMU fw_cfg (docs/specs/fw_cfg),
 * ACPI tables (ACPI 6.x ch.5: RSDP 5.2.5, RSDT/XSDT 5.2.7-8, FADT 5.2.9, MADT 5.2.12),
 * the ACPI PM timer (4.8.3.3), the MC146818 CMOS RTC, port 0x80, PIC mask register
 * and the 16550 scratch register.
 */
#include "rt.h"

static void fw_cfg(void)
{
	if (!fw_cfg_present()) {
		check(false, "fw_cfg signature \"QEMU\" at selector 0x0000");
		return;
	}
	check(true, "fw_cfg signature \"QEMU\" at selector 0x0000");
	uint32_t id = 0;
	fw_cfg_read(FW_CFG_ID, &id, 4);
	check_eq(id & 1, 1, "fw_cfg ID: traditional I/O interface bit set");
	uint64_t ram = 0;
	fw_cfg_read(FW_CFG_RAM_SIZE, &ram, 8);
	struct mb_info *mbi = multiboot_info();
	uint64_t upper = ((uint64_t)mbi->mem_upper + 1024) * 1024;
	printf("fw_cfg RAM size 0x%lx, multiboot 1 MiB + mem_upper = 0x%lx\n", ram, upper);
	check(ram >= upper && ram - upper < 16 * 1024 * 1024, "fw_cfg RAM size consistent with mem_upper");
	uint16_t ncpu = 0;
	fw_cfg_read(FW_CFG_NB_CPUS, &ncpu, 2);
	check(ncpu >= 1, "fw_cfg CPU count >= 1");
}

static bool table_ok(struct acpi_sdt *t, const char *sig)
{
	return t && memcmp(t->sig, sig, 4) == 0 && t->length >= sizeof(*t) && acpi_sum(t, t->length) == 0;
}

static void acpi_tables(void)
{
	struct acpi_rsdp *r = acpi_find_rsdp();
	check(r != 0, "RSDP found (EBDA or 0xE0000-0xFFFFF) with valid checksum");
	if (!r)
		return;
	check((uintptr_t)r >= 0xe0000 || (uintptr_t)r < 0xa0000, "RSDP address in a BIOS search area");
	if (r->revision >= 2)
		check_eq(acpi_sum(r, r->length), 0, "RSDP extended checksum (revision >= 2)");
	check(table_ok(phys_ptr(r->rsdt), "RSDT"), "RSDT signature and checksum");
	if (r->revision >= 2 && r->xsdt)
		check(table_ok(phys_ptr(r->xsdt), "XSDT"), "XSDT signature and checksum");
	else
		skip("XSDT", "ACPI 1.0 RSDP (no XSDT)");

	struct acpi_sdt *madt = acpi_find("APIC");
	check(table_ok(madt, "APIC"), "MADT present with valid checksum");
	if (madt) {
		uint32_t lapic;
		memcpy(&lapic, (uint8_t *)madt + 36, 4);
		check_eq(lapic, rdmsr(MSR_APIC_BASE) & 0xfffff000, "MADT local APIC address = IA32_APIC_BASE");
		bool bsp = false, ioapic = false;
		uint8_t *p = (uint8_t *)madt + 44, *end = (uint8_t *)madt + madt->length;
		for (; p + 2 <= end && p[1] >= 2; p += p[1]) {
			bsp |= p[0] == 0 && p[3] == apic_id() && (p[4] & 1);
			ioapic |= p[0] == 1;
		}
		check(bsp, "MADT lists the BSP's APIC ID as enabled");
		check(ioapic, "MADT lists an I/O APIC");
	}
}

/* FADT PM_TMR_BLK (offset 76), flags (offset 112) bit 8 TMR_VAL_EXT: 32-bit counter.
 * The PM timer runs at 3.579545 MHz (ACPI 4.8.3.3). */
static void pm_timer(void)
{
	struct acpi_sdt *fadt = acpi_find("FACP");
	check(table_ok(fadt, "FACP"), "FADT present with valid checksum");
	if (!fadt)
		return;
	uint32_t blk, flags;
	memcpy(&blk, (uint8_t *)fadt + 76, 4);
	memcpy(&flags, (uint8_t *)fadt + 112, 4);
	if (!blk) {
		skip("ACPI PM timer", "FADT PM_TMR_BLK is 0");
		return;
	}
	uint32_t mask = (flags & BIT(8)) ? 0xffffffff : 0xffffff;
	uint32_t t0 = inl(blk) & mask;
	udelay(10000); /* 10 ms by PIT channel 2 */
	uint32_t t1 = inl(blk) & mask;
	uint32_t d = (t1 - t0) & mask;
	printf("PM timer at port 0x%x: %u ticks in 10 ms (expect ~35795)\n", blk, d);
	check(d > 0, "ACPI PM timer counts");
	/* at least 10 ms passed; more may have if the host stalled us, so the upper
	 * bound only catches a wildly wrong rate */
	check(d > 35795 / 2 && d < 35795 * 100, "ACPI PM timer rate plausible (3.58 MHz) against the PIT");
}

static int bcd_ok(uint8_t v, int max, bool binary)
{
	int x = binary ? v : (v >> 4) * 10 + (v & 15);
	return (binary || ((v & 15) < 10 && (v >> 4) < 10)) && x <= max;
}

/* Status A bit 7 = update in progress; status B bit 2 = binary (else BCD). */
static uint8_t rtc_seconds(void)
{
	for (int i = 0; i < 100000 && (cmos_read(0x0a) & 0x80); i++)
		pause();
	return cmos_read(0x00);
}

static void rtc(void)
{
	uint8_t b = cmos_read(0x0b);
	bool bin = b & 4;
	uint8_t s = rtc_seconds(), m = cmos_read(0x02), h = cmos_read(0x04) & 0x7f;
	printf("RTC %02x:%02x:%02x (status B 0x%02x)\n", h, m, s, b);
	check(bcd_ok(s, 59, bin) && bcd_ok(m, 59, bin) && bcd_ok(h, 23, bin), "RTC time registers hold valid values");
	check(cmos_read(0x0d) & 0x80, "RTC status D: valid RAM and time (VRT)");
	bool ticked = false;
	for (int i = 0; i < 250 && !ticked; i++) {
		udelay(10000);
		ticked = rtc_seconds() != s;
	}
	check(ticked, "RTC seconds advance within 2.5 s");
}

static void misc_ports(void)
{
	for (int i = 0; i < 256; i++)
		outb(0x80, (uint8_t)i);
	check(true, "256 writes to port 0x80 are harmless");
	uint8_t old = inb(0x21);
	outb(0x21, 0xa5);
	check_eq(inb(0x21), 0xa5, "8259 master IMR reads back what was written");
	outb(0x21, old);
	outb(0x3ff, 0x5a);
	check_eq(inb(0x3ff), 0x5a, "COM1 scratch register reads back");
	check(inb(0x3fd) & 0x20, "COM1 LSR: transmit holding register empty");
}

int main(void)
{
	fw_cfg();
	acpi_tables();
	pm_timer();
	rtc();
	misc_ports();
	return 0;
}
