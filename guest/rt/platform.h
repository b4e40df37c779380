/* platform.h - PC platform discovery: QEMU fw_cfg, ACPI tables, CMOS, SMP start-up */
#ifndef RT_PLATFORM_H
#define RT_PLATFORM_H

#include <stdint.h>
#include <stdbool.h>

/* fw_cfg legacy I/O interface: selector 0x510 (16-bit), data 0x511 (8-bit) */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
bool fw_cfg_present(void); /* signature "QEMU" */
void fw_cfg_read(uint16_t key, void *buf, uint32_t len);
/* Number of CPUs: fw_cfg, else ACPI MADT, else 1. */
int cpu_count(void);

/* ACPI (ACPI spec 5.2): RSDP search in the EBDA and 0xE0000-0xFFFFF */
struct acpi_sdt {
	char sig[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem[6], oem_table[8];
	uint32_t oem_rev, creator, creator_rev;
} __attribute__((packed));

struct acpi_rsdp {
	char sig[8];
	uint8_t checksum;
	char oem[6];
	uint8_t revision;
	uint32_t rsdt;
	uint32_t length;
	uint64_t xsdt;
	uint8_t xchecksum, rsv[3];
} __attribute__((packed));

uint8_t acpi_sum(const void *p, uint32_t len);
struct acpi_rsdp *acpi_find_rsdp(void);
struct acpi_sdt *acpi_find(const char sig[4]); /* via XSDT if present, else RSDT */
int acpi_madt_cpus(void);                       /* enabled processor-local-APIC entries */

uint8_t cmos_read(uint8_t reg);

/* Start all application processors (INIT-SIPI-SIPI broadcast, SDM Vol.3A 11.4.4.1).
 * Each AP enters 64-bit mode on its own stack and calls fn(index), index 1..n-1.
 * Waits (up to ~2 s) for `expected` APs; returns how many checked in. */
int smp_start_aps(void (*fn)(int idx), int expected);

#endif
