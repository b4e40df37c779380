/*
 * ACPI tables for the PC board: see acpi.h. Offsets in comments are those of the
 * ACPI 6.5 table definitions (5.2.5 RSDP, 5.2.6 header, 5.2.9 FADT, 5.2.10 FACS,
 * 5.2.12 MADT).
 */
#include "dev/acpi.h"

#include <assert.h>
#include <string.h>

#include "dev/ioapic.h"
#include "dev/lapic.h"
#include "dev/rtc_cmos.h"

#define ACPI_BUF_SIZE 4096
#define FADT_LEN 244 /* revision 3 (ACPI 2.0) layout, as QEMU's pc machine */
#define FACS_LEN 64

struct acpi_buf {
	uint8_t b[ACPI_BUF_SIZE];
	uint32_t len;
	gpa_t base;
};

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t checksum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

/* Reserve len bytes at the given alignment; returns the offset, or -1 if full. */
static int64_t alloc(struct acpi_buf *a, uint32_t len, uint32_t align)
{
	uint32_t off = (a->len + align - 1) & ~(align - 1);
	if (off + len > ACPI_BUF_SIZE)
		return -1;
	a->len = off + len;
	return off;
}

/* The 36-byte system description header; the checksum is filled in by finish(). */
static void header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put(t + 4, len, 4);
	t[8] = rev;
	memcpy(t + 10, "TURTLE", 6);    /* OEMID */
	memcpy(t + 16, "TURTLESP", 8);  /* OEM table ID */
	put(t + 24, 1, 4);              /* OEM revision */
	memcpy(t + 28, "TRTL", 4);      /* creator ID */
	put(t + 32, 1, 4);              /* creator revision */
}

static void finish(uint8_t *t)
{
	uint32_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24;
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure (5.2.3.2) for a system I/O register. */
static void gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint64_t port)
{
	p[0] = 1; /* system I/O space */
	p[1] = bits;
	p[2] = 0;
	p[3] = access; /* 1 = byte, 2 = word, 3 = dword */
	put(p + 4, port, 8);
}

static int64_t build_dsdt(struct acpi_buf *a)
{
	/* Name(_S5, Package(4){0,0,0,0}): NameOp, "_S5_", PackageOp, PkgLength 6,
	 * NumElements 4, four ZeroOps (ACPI 6.5 20.2.5.4). */
	static const uint8_t aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				       0x00, 0x00, 0x00, 0x00 };
	uint32_t len = 36 + sizeof(aml);
	int64_t off = alloc(a, len, 16);
	if (off < 0)
		return -1;
	header(a->b + off, "DSDT", len, 1);
	memcpy(a->b + off + 36, aml, sizeof(aml));
	finish(a->b + off);
	return off;
}

static int64_t build_facs(struct acpi_buf *a)
{
	int64_t off = alloc(a, FACS_LEN, 64); /* FACS must be 64-byte aligned */
	if (off < 0)
		return -1;
	uint8_t *t = a->b + off;
	memcpy(t, "FACS", 4);
	put(t + 4, FACS_LEN, 4);
	t[32] = 1; /* version (ACPI 2.0+); no checksum in the FACS */
	return off;
}

static int64_t build_fadt(struct acpi_buf *a, gpa_t facs, gpa_t dsdt)
{
	int64_t off = alloc(a, FADT_LEN, 16);
	if (off < 0)
		return -1;
	uint8_t *t = a->b + off;
	header(t, "FACP", FADT_LEN, 3);
	put(t + 36, facs, 4);                   /* FIRMWARE_CTRL */
	put(t + 40, dsdt, 4);                   /* DSDT */
	put(t + 46, ACPI_SCI_IRQ, 2);           /* SCI_INT; SMI_CMD (48) = 0: no legacy */
	put(t + 56, ACPI_PM_BASE, 4);           /* PM1a_EVT_BLK */
	put(t + 64, ACPI_PM_BASE + 4, 4);       /* PM1a_CNT_BLK */
	put(t + 76, ACPI_PM_TMR_PORT, 4);       /* PM_TMR_BLK */
	t[88] = 4;                              /* PM1_EVT_LEN */
	t[89] = 2;                              /* PM1_CNT_LEN */
	t[91] = 4;                              /* PM_TMR_LEN */
	put(t + 96, 0xFFF, 2);                  /* P_LVL2_LAT > 100: no C2 (as QEMU) */
	put(t + 98, 0x3E9, 2);                  /* P_LVL3_LAT > 1000: no C3 */
	t[108] = RTC_CENTURY;                   /* CENTURY: CMOS index */
	put(t + 109, 0x0005, 2);                /* IAPC_BOOT_ARCH: LEGACY_DEVICES, no VGA */
	/* Flags: WBINVD(0), PROC_C1(2), SLP_BUTTON(5), RTC_S4(7), USE_PLATFORM_CLOCK(15)
	 * as QEMU's PIIX4; TMR_VAL_EXT(8) clear: the PM timer is 24 bits. */
	put(t + 112, BIT(0) | BIT(2) | BIT(5) | BIT(7) | BIT(15), 4);
	put(t + 140, dsdt, 8);                  /* X_DSDT */
	gas_io(t + 148, 32, 2, ACPI_PM_BASE);   /* X_PM1a_EVT_BLK */
	gas_io(t + 172, 16, 2, ACPI_PM_BASE + 4); /* X_PM1a_CNT_BLK */
	gas_io(t + 208, 32, 3, ACPI_PM_TMR_PORT); /* X_PM_TMR_BLK */
	finish(t);
	return off;
}

static int64_t build_madt(struct acpi_buf *a, int ncpus)
{
	uint32_t len = 44 + 8 * (uint32_t)ncpus + 12 + 2 * 10 + 6;
	int64_t off = alloc(a, len, 16);
	if (off < 0)
		return -1;
	uint8_t *t = a->b + off, *p = t + 44;
	header(t, "APIC", len, 1);
	put(t + 36, LAPIC_DEFAULT_BASE, 4);
	put(t + 40, 1, 4);                       /* PCAT_COMPAT: 8259s present */
	for (int i = 0; i < ncpus; i++, p += 8) {
		p[0] = 0; p[1] = 8;                  /* Processor Local APIC */
		p[2] = (uint8_t)i;                   /* ACPI processor UID */
		p[3] = (uint8_t)i;                   /* APIC ID */
		put(p + 4, 1, 4);                    /* enabled */
	}
	p[0] = 1; p[1] = 12; p[2] = 0;           /* I/O APIC, ID 0 as QEMU */
	put(p + 4, IOAPIC_DEFAULT_BASE, 4);
	put(p + 8, 0, 4);                        /* GSI base */
	p += 12;
	p[0] = 2; p[1] = 10; p[2] = 0; p[3] = 0; /* ISA IRQ0 -> GSI 2, bus-conforming */
	put(p + 4, 2, 4);
	put(p + 8, 0, 2);
	p += 10;
	p[0] = 2; p[1] = 10; p[2] = 0; p[3] = ACPI_SCI_IRQ; /* SCI: level, active high */
	put(p + 4, ACPI_SCI_IRQ, 4);
	put(p + 8, 0x000D, 2);
	p += 10;
	p[0] = 4; p[1] = 6; p[2] = 0xFF;         /* Local APIC NMI: all processors */
	put(p + 3, 0, 2);
	p[5] = 1;                                /* LINT1 */
	finish(t);
	return off;
}

/* RSDT (32-bit entries) or XSDT (64-bit entries) pointing at FADT and MADT. */
static int64_t build_sdt(struct acpi_buf *a, const char *sig, int width, gpa_t fadt,
			 gpa_t madt)
{
	uint32_t len = 36 + 2 * (uint32_t)width;
	int64_t off = alloc(a, len, 16);
	if (off < 0)
		return -1;
	header(a->b + off, sig, len, 1);
	put(a->b + off + 36, fadt, width);
	put(a->b + off + 36 + width, madt, width);
	finish(a->b + off);
	return off;
}

static void build_rsdp(uint8_t *p, gpa_t rsdt, gpa_t xsdt)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "TURTLE", 6);
	p[15] = 2;             /* revision 2: ACPI 2.0+ with XSDT */
	put(p + 16, rsdt, 4);
	put(p + 20, 36, 4);    /* length */
	put(p + 24, xsdt, 8);
	p[8] = checksum(p, 20);   /* covers the ACPI 1.0 part */
	p[32] = checksum(p, 36);  /* extended checksum over the whole structure */
}

gpa_t acpi_build_tables(struct bus *bus, gpa_t base, int ncpus)
{
	static_assert(ACPI_BUF_SIZE % 64 == 0, "FACS alignment needs an aligned buffer");
	struct acpi_buf a = { .len = 36, .base = base }; /* RSDP first */
	int64_t dsdt, facs, fadt, madt, rsdt, xsdt;

	memset(a.b, 0, sizeof(a.b));
	if ((base & 63) || ncpus < 1 || ncpus > 255)
		return 0;
	if ((dsdt = build_dsdt(&a)) < 0 || (facs = build_facs(&a)) < 0 ||
	    (fadt = build_fadt(&a, base + facs, base + dsdt)) < 0 ||
	    (madt = build_madt(&a, ncpus)) < 0 ||
	    (rsdt = build_sdt(&a, "RSDT", 4, base + fadt, base + madt)) < 0 ||
	    (xsdt = build_sdt(&a, "XSDT", 8, base + fadt, base + madt)) < 0)
		return 0;
	build_rsdp(a.b, base + rsdt, base + xsdt);
	if (base + a.len > ACPI_TABLES_LIMIT || bus_copy_to(bus, base, a.b, a.len) < 0)
		return 0;
	return base;
}
