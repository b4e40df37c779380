/* apic.c - local APIC in xAPIC mode (SDM Vol.3A ch.12) */
#include "rt.h"

static volatile uint32_t *apic_base(void)
{
	/* IA32_APIC_BASE[51:12] = base (SDM Vol.3A 12.4.4); identity mapped below 4 GiB */
	return (volatile uint32_t *)(uintptr_t)(rdmsr(MSR_APIC_BASE) & 0xfffff000ull);
}

uint32_t apic_read(uint32_t reg) { return apic_base()[reg / 4]; }
void apic_write(uint32_t reg, uint32_t v) { apic_base()[reg / 4] = v; }
uint32_t apic_id(void) { return apic_read(APIC_ID) >> 24; }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }

/* IA32_APIC_BASE bit 11 = global enable; SVR bit 8 = software enable (12.4.3). */
void apic_enable(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | BIT(11));
	apic_write(APIC_SVR, 0x100 | 0xff);
	apic_write(APIC_TPR, 0);
}

/* ICR: write the high half first; the low write sends. Bit 12 = delivery status
 * (send pending), SDM Vol.3A 12.6.1. */
void apic_icr(uint32_t dest, uint32_t lo)
{
	apic_write(APIC_ICR_HI, dest << 24);
	apic_write(APIC_ICR_LO, lo);
	for (int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & BIT(12)); i++)
		pause();
}
