/*
 * ACPI tables found the way an OS finds them (ACPI 6.5 5.2.5.1: scan 0xE0000-0xFFFFF
 * on 16-byte boundaries for "RSD PTR "), checksums (5.2.5.3, 5.2.6), MADT contents
 * (5.2.12) and the PM block at 0x600: 3.579545 MHz timer, PM1 control, soft-off.
 */
#include <string.h>

#include "dev/acpi.h"
#include "test_util.h"

static struct bus bus;
static struct clock clk;

static uint8_t *mem(uint64_t gpa)
{
	return bus_ram_ptr(&bus, gpa);
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	while (len--)
		s += *p++;
	return s;
}

static uint64_t find_rsdp(void)
{
	for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
		if (memcmp(mem(a), "RSD PTR ", 8) == 0)
			return a;
	return 0;
}

static const uint8_t *check_table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = mem(gpa);
	CHECK(t && memcmp(t, sig, 4) == 0, "%s signature at 0x%llx", sig, (unsigned long long)gpa);
	CHECK(t && sum(t, le32(t + 4)) == 0, "%s checksum (length %u)", sig, t ? le32(t + 4) : 0);
	return t;
}

static void check_madt(const uint8_t *m, int ncpus)
{
	uint32_t len = le32(m + 4);
	int lapics = 0, ioapics = 0, nmis = 0;
	bool irq0_to_2 = false, sci_level = false;
	CHECK_EQ(le32(m + 36), 0xFEE00000, "MADT local APIC address");
	CHECK_EQ(le32(m + 40), 1, "MADT flags: PCAT_COMPAT");
	for (uint32_t off = 44; off < len; off += m[off + 1]) {
		const uint8_t *e = m + off;
		if (e[0] == 0 && e[1] == 8 && e[2] == lapics && e[3] == lapics && le32(e + 4) == 1)
			lapics++;
		if (e[0] == 1 && e[2] == 0 && le32(e + 4) == 0xFEC00000 && le32(e + 8) == 0)
			ioapics++;
		if (e[0] == 2 && e[3] == 0 && le32(e + 4) == 2 && (e[8] | e[9] << 8) == 0)
			irq0_to_2 = true;
		if (e[0] == 2 && e[3] == 9 && le32(e + 4) == 9 && (e[8] | e[9] << 8) == 0xD)
			sci_level = true;
		if (e[0] == 4 && e[1] == 6 && e[2] == 0xFF && e[5] == 1)
			nmis++;
	}
	CHECK_EQ(lapics, ncpus, "MADT: one enabled LAPIC per CPU, UID = APIC ID = index");
	CHECK_EQ(ioapics, 1, "MADT: IOAPIC at 0xFEC00000, GSI base 0");
	CHECK(irq0_to_2, "MADT: interrupt source override IRQ0 -> GSI 2");
	CHECK(sci_level, "MADT: SCI IRQ9 override, level / active high");
	CHECK_EQ(nmis, 1, "MADT: local APIC NMI on LINT1 for all processors");
}

static void check_fadt(const uint8_t *f)
{
	CHECK_EQ(f[8], 3, "FADT revision 3");
	CHECK_EQ(f[46] | f[47] << 8, 9, "FADT SCI_INT 9");
	CHECK_EQ(le32(f + 56), 0x600, "FADT PM1a_EVT_BLK 0x600");
	CHECK_EQ(le32(f + 64), 0x604, "FADT PM1a_CNT_BLK 0x604");
	CHECK_EQ(le32(f + 76), 0x608, "FADT PM_TMR_BLK 0x608");
	CHECK_EQ(f[91], 4, "FADT PM_TMR_LEN 4");
	CHECK_EQ(le32(f + 112) & BIT(8), 0, "FADT TMR_VAL_EXT clear: 24-bit PM timer");
	CHECK_EQ(le64(f + 140), le32(f + 40), "X_DSDT equals DSDT");
	CHECK_EQ(le64(f + 208 + 4), 0x608, "X_PM_TMR_BLK address");
	const uint8_t *d = check_table(le32(f + 40), "DSDT");
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04 };
	CHECK(d && le32(d + 4) >= 36 + sizeof(s5) && memcmp(d + 36, s5, sizeof(s5)) == 0,
	      "DSDT defines \\_S5");
	const uint8_t *facs = mem(le32(f + 36));
	CHECK(memcmp(facs, "FACS", 4) == 0 && le32(facs + 4) == 64 && le32(f + 36) % 64 == 0,
	      "FACS: signature, 64 bytes, 64-byte aligned");
}

static void test_tables(int ncpus)
{
	CHECK_EQ(acpi_build_tables(&bus, ACPI_TABLES_BASE, ncpus), 0xE0000, "tables built");
	uint64_t rsdp = find_rsdp();
	CHECK(rsdp && rsdp % 16 == 0, "RSDP found in the BIOS area on a 16-byte boundary");
	const uint8_t *r = mem(rsdp);
	CHECK(sum(r, 20) == 0, "RSDP checksum (first 20 bytes)");
	CHECK(sum(r, 36) == 0, "RSDP extended checksum (36 bytes)");
	CHECK_EQ(r[15], 2, "RSDP revision 2");
	const uint8_t *rsdt = check_table(le32(r + 16), "RSDT");
	const uint8_t *xsdt = check_table(le64(r + 24), "XSDT");
	CHECK_EQ(le32(rsdt + 4), 36 + 8, "RSDT: two 32-bit entries");
	CHECK_EQ(le64(xsdt + 36), le32(rsdt + 36), "XSDT and RSDT agree on entry 0");
	check_fadt(check_table(le32(rsdt + 36), "FACP"));
	check_madt(check_table(le64(xsdt + 44), "APIC"), ncpus);
}

static int power_offs;
static void on_power_off(void *opaque)
{
	(void)opaque;
	power_offs++;
}

static void test_pm(void)
{
	struct acpi_pm pm;
	acpi_pm_init(&pm, &clk, on_power_off, NULL);
	if (acpi_pm_map(&pm, &bus) < 0)
		return;
	clock_set(&clk, 1000000000ULL); /* 1 s = 3579545 ticks */
	CHECK_EQ(bus_in(&bus, 0x608, 4), 3579545, "PM timer after 1 s of virtual time");
	clock_set(&clk, 5 * 1000000000ULL); /* 17897725 ticks, wraps at 2^24 */
	CHECK_EQ(bus_in(&bus, 0x608, 4), 17897725 & 0xFFFFFF, "PM timer is 24 bits");
	CHECK_EQ(bus_in(&bus, 0x600, 2) & 1, 1, "TMR_STS: bit 23 toggled");
	bus_out(&bus, 0x600, 2, 1);
	CHECK_EQ(bus_in(&bus, 0x600, 2) & 1, 0, "TMR_STS write-1-to-clear");
	CHECK_EQ(bus_in(&bus, 0x604, 2) & 1, 1, "PM1_CNT SCI_EN reads 1 (no SMI_CMD)");
	bus_out(&bus, 0x604, 2, 5 << 10 | 1 << 13);
	CHECK_EQ(power_offs, 0, "SLP_TYP 5 does not power off");
	bus_out(&bus, 0x604, 2, 0 << 10 | 1 << 13);
	CHECK_EQ(power_offs, 1, "SLP_TYP 0 + SLP_EN: soft-off (\\_S5)");
}

int main(void)
{
	if (bus_init(&bus, 2 << 20) < 0)
		return 1;
	clock_init(&clk, true);
	test_tables(4);
	test_pm();
	bus_destroy(&bus);
	return test_done();
}
