/* acpi.c - find ACPI tables (ACPI spec 6.x, 5.2.5 RSDP, 5.2.7 RSDT, 5.2.8 XSDT,
 * 5.2.12 MADT) */
#include "rt.h"

uint8_t acpi_sum(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;
	while (len--)
		s += *b++;
	return s;
}

static struct acpi_rsdp *scan(uint64_t start, uint64_t end)
{
	for (uint64_t a = start; a + 20 <= end; a += 16) {
		struct acpi_rsdp *r = phys_ptr(a);
		if (memcmp(r->sig, "RSD PTR ", 8) == 0 && acpi_sum(r, 20) == 0)
			return r;
	}
	return 0;
}

/* 5.2.5.1: first KiB of the EBDA (segment at 0x40E), then 0xE0000-0xFFFFF. */
struct acpi_rsdp *acpi_find_rsdp(void)
{
	uint64_t ebda = (uint64_t)*(volatile uint16_t *)phys_ptr(0x40e) << 4;
	struct acpi_rsdp *r = 0;

	if (ebda >= 0x80000 && ebda < 0xa0000)
		r = scan(ebda, ebda + 1024);
	return r ? r : scan(0xe0000, 0x100000);
}

struct acpi_sdt *acpi_find(const char sig[4])
{
	struct acpi_rsdp *r = acpi_find_rsdp();
	if (!r)
		return 0;
	bool x = r->revision >= 2 && r->xsdt;
	struct acpi_sdt *root = (void *)(uintptr_t)(x ? r->xsdt : r->rsdt);
	uint32_t esz = x ? 8 : 4;
	uint32_t n = (root->length - sizeof(*root)) / esz;
	uint8_t *ents = (uint8_t *)(root + 1);

	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = 0;
		memcpy(&a, ents + i * esz, esz);
		struct acpi_sdt *t = (void *)(uintptr_t)a;
		if (memcmp(t->sig, sig, 4) == 0)
			return t;
	}
	return 0;
}

/* MADT: 44-byte header (SDT + local APIC address + flags), then entries of
 * (type, length); type 0 = processor local APIC, flags bit 0 = enabled. */
int acpi_madt_cpus(void)
{
	struct acpi_sdt *m = acpi_find("APIC");
	if (!m)
		return 0;
	int n = 0;
	uint8_t *p = (uint8_t *)m + 44, *end = (uint8_t *)m + m->length;
	for (; p + 2 <= end && p[1] >= 2; p += p[1])
		if (p[0] == 0 && (p[4] & 1))
			n++;
	return n;
}
