/* fwcfg.c - QEMU firmware configuration device, legacy I/O ports (QEMU docs
 * specs/fw_cfg: selector 0x510 16-bit write, data 0x511 byte reads, little endian) */
#include "rt.h"

void fw_cfg_read(uint16_t key, void *buf, uint32_t len)
{
	uint8_t *p = buf;
	outw(0x510, key);
	while (len--)
		*p++ = inb(0x511);
}

bool fw_cfg_present(void)
{
	char sig[4];
	fw_cfg_read(FW_CFG_SIGNATURE, sig, 4);
	return memcmp(sig, "QEMU", 4) == 0;
}

int cpu_count(void)
{
	if (fw_cfg_present()) {
		uint16_t n = 0;
		fw_cfg_read(FW_CFG_NB_CPUS, &n, 2);
		if (n)
			return n;
	}
	int m = acpi_madt_cpus();
	return m > 0 ? m : 1;
}
