/* cpu.c - CPUID feature queries (SDM Vol.2A CPUID) */
#include "rt.h"

static uint32_t max_leaf(uint32_t base) { return cpuid(base, 0).a; }

bool has_feature(enum cpu_feature f)
{
	static const uint32_t leaf[] = { 1, 1, 7, 7, 0x80000001, 0x80000001 };
	int group = f >> 8, bit = f & 0xff;
	uint32_t l = leaf[group];

	if (l < 0x80000000 ? max_leaf(0) < l : max_leaf(0x80000000) < l)
		return false;
	struct cpuid r = cpuid(l, 0);
	uint32_t reg = (group == 0 || group == 3 || group == 4) ? r.c : group == 2 ? r.b : r.d;
	return (reg >> bit) & 1;
}

static bool vendor_is(uint32_t leaf, const char *sig, bool order_bdc)
{
	struct cpuid r = cpuid(leaf, 0);
	uint32_t w[3] = { r.b, order_bdc ? r.d : r.c, order_bdc ? r.c : r.d };
	return memcmp(w, sig, 12) == 0;
}

bool cpu_is_intel(void) { return vendor_is(0, "GenuineIntel", true); }

bool cpu_is_qemu_tcg(void)
{
	if (!has_feature(F_HYPERVISOR))
		return false;
	return vendor_is(0x40000000, "TCGTCGTCGTCG", false);
}

int cpu_maxphyaddr(void)
{
	if (max_leaf(0x80000000) < 0x80000008)
		return 36;
	return cpuid(0x80000008, 0).a & 0xff;
}
