/*
 * CPUID: one coherent Intel Core-class processor, "GenuineIntel" family 6, that
 * advertises exactly what the silicon implements (SDM Vol.2 CPUID; feature bits in
 * cpuid.h, declared once).
 *
 * Decisions:
 *   - No x87, MMX, SSE*, FXSR, XSAVE or AVX: CPUID.1:EDX.FPU = 0 and every such
 *     instruction raises #NM/#UD (exec_misc.c). CR4.OSFXSR/OSXMMEXCPT/OSXSAVE are
 *     therefore reserved (MOV CR4 #GP), and leaf 0DH is all zeros.
 *   - CRC32 is enumerated by CPUID.1:ECX.SSE4_2[bit 20] (SDM Vol.2 CRC32). Claiming
 *     SSE4.2 without SSE would make software use PCMPxSTRx, so SSE4.2 is not
 *     advertised and CRC32 raises #UD: the executor checks FEAT_SSE4_2.
 *   - MONITOR/MWAIT: 64-byte lines, MWAIT extensions with interrupt break events
 *     (leaf 05H); MWAIT waits as HLT does (exec_misc.c).
 *   - VMX (CPUID.1:ECX.VMX = 1): one level, exactly what cpu/vmx/vmx_caps.h lists.
 *   - No performance counters, but architectural performance monitoring version 2
 *     (leaf 0AH: EAX = 2, zero general-purpose and zero fixed-function counters),
 *     because the VM-entry/VM-exit controls that load IA32_PERF_GLOBAL_CTRL are
 *     advertised and that MSR exists from version 2 (SDM Vol.4 Table 2-2; SDM
 *     20.2.2). With no counters every bit of IA32_PERF_GLOBAL_CTRL is reserved: it
 *     reads 0 and only 0 may be written or loaded (msr.c). RDPMC has no valid
 *     counter and raises #GP(0).
 *   - Topology: nr_cpus cores in one package, one thread per core; x2APIC ID = cpu->id
 *     (leaves 1, 4, 0BH, 1FH agree).
 *   - MAXPHYADDR = CPU_MAXPHYADDR (39), linear 48 bits.
 *   - TSC: CLOCK_TSC_HZ from a 25 MHz crystal (leaf 15H), invariant.
 */
#include "cpu/cpuid.h"

#include <string.h>

#include "cpu/msr.h"
#include "cpu/sys.h"

#define CPUID_MAX_BASIC 0x1F
#define CPUID_MAX_EXT 0x80000008u
#define CPUID_CRYSTAL_HZ 25000000u

struct feature_row {
	const char *name;
	uint32_t leaf, subleaf;
	uint8_t reg, bit, on;
};

static const struct feature_row features[FEAT_COUNT] = {
#define FEATURE(nm, lf, sub, rg, bt, o) \
	[FEAT_##nm] = { .name = #nm, .leaf = lf, .subleaf = sub, .reg = rg, .bit = bt, .on = o },
	CPUID_FEATURES(FEATURE)
#undef FEATURE
};

bool cpu_has_feature(const struct cpu *cpu, int feature)
{
	(void)cpu;
	return feature >= 0 && feature < FEAT_COUNT && features[feature].on;
}

const char *cpu_feature_name(int feature)
{
	return feature >= 0 && feature < FEAT_COUNT ? features[feature].name : "?";
}

/* OR the advertised feature bits of (leaf, subleaf) into out. */
static void feature_bits(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	for (int i = 0; i < FEAT_COUNT; i++) {
		const struct feature_row *f = &features[i];
		if (f->on && f->leaf == leaf && f->subleaf == subleaf)
			out[f->reg] |= 1u << f->bit;
	}
}

static unsigned pow2_ceil(unsigned n)
{
	unsigned p = 1;
	while (p < n)
		p <<= 1;
	return p;
}

static unsigned log2_ceil(unsigned n)
{
	unsigned s = 0;
	while ((1u << s) < n)
		s++;
	return s;
}

static void leaf_1(struct cpu *cpu, uint32_t out[4])
{
	unsigned n = cpu->nr_cpus > 0 ? (unsigned)cpu->nr_cpus : 1;
	out[CPUID_EAX] = CPUID_SIGNATURE;
	/* EBX: brand index 0, CLFLUSH line 8 * 8 = 64 bytes, logical processor IDs,
	 * initial APIC ID. */
	out[CPUID_EBX] = (8u << 8) | ((pow2_ceil(n) & 0xFF) << 16) | ((uint32_t)cpu->id << 24);
	feature_bits(1, 0, out);
	if (cpu->apic_base & BIT(11))
		out[CPUID_EDX] |= 1u << 9; /* APIC: clear while IA32_APIC_BASE.EN = 0 */
	if (cpu->cr4 & CR4_OSXSAVE)
		out[CPUID_ECX] |= 1u << 27;
}

/* Leaf 4: deterministic cache parameters (SDM Vol.2 Table 3-8). */
static void leaf_4(struct cpu *cpu, uint32_t sub, uint32_t out[4])
{
	static const struct { uint8_t type, level, ways; uint32_t sets; bool shared; } c[] = {
		{ 1, 1, 8, 64, false },    /* L1d 32 KiB */
		{ 2, 1, 8, 64, false },    /* L1i 32 KiB */
		{ 3, 2, 16, 1024, false }, /* L2 1 MiB */
		{ 3, 3, 16, 8192, true },  /* L3 8 MiB */
	};
	if (sub >= ARRAY_SIZE(c))
		return; /* type 0: no more caches */
	unsigned n = pow2_ceil(cpu->nr_cpus > 0 ? (unsigned)cpu->nr_cpus : 1);
	uint32_t sharing = c[sub].shared ? n - 1 : 0;
	out[CPUID_EAX] = c[sub].type | (c[sub].level << 5) | BIT(8) | (sharing << 14) |
			 ((n - 1) << 26);
	out[CPUID_EBX] = 63u | ((uint32_t)(c[sub].ways - 1) << 22); /* 64-byte lines */
	out[CPUID_ECX] = c[sub].sets - 1;
	out[CPUID_EDX] = c[sub].level == 3 ? BIT(1) : 0; /* inclusive L3 */
}

/* Leaves 0BH and 1FH: x2APIC topology, SMT level then core level (SDM 9.9.1). */
static void leaf_topology(struct cpu *cpu, uint32_t sub, uint32_t out[4])
{
	unsigned n = cpu->nr_cpus > 0 ? (unsigned)cpu->nr_cpus : 1;
	out[CPUID_EDX] = (uint32_t)cpu->id;
	out[CPUID_ECX] = sub & 0xFF;
	if (sub == 0) { /* SMT: one thread per core */
		out[CPUID_EAX] = 0;
		out[CPUID_EBX] = 1;
		out[CPUID_ECX] |= 1u << 8;
	} else if (sub == 1) { /* core: n cores per package */
		out[CPUID_EAX] = log2_ceil(n);
		out[CPUID_EBX] = n;
		out[CPUID_ECX] |= 2u << 8;
	}
}

static void brand_string(uint32_t leaf, uint32_t out[4])
{
	static const char brand[48] = "turtles virtual CPU";
	memcpy(out, brand + (leaf - 0x80000002u) * 16, 16);
}

static void basic_leaf(struct cpu *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	switch (leaf) {
	case 0:
		out[CPUID_EAX] = (cpu->misc_enable & BIT(22)) ? 2 : CPUID_MAX_BASIC;
		memcpy(&out[CPUID_EBX], "Genu", 4);
		memcpy(&out[CPUID_EDX], "ineI", 4);
		memcpy(&out[CPUID_ECX], "ntel", 4);
		break;
	case 1: leaf_1(cpu, out); break;
	case 2: out[CPUID_EAX] = 0x00FF0001; break; /* FFH: use leaf 4 */
	/* Architectural perfmon version 2 with no counters (see the top of this file):
	 * EAX[7:0] version, EAX[15:8] = 0 GP counters, EDX[4:0] = 0 fixed counters. */
	case 0xA: out[CPUID_EAX] = 2; break;
	case 4: leaf_4(cpu, sub, out); break;
	/* SDM Vol.2 CPUID leaf 05H: EAX[15:0] smallest and EBX[15:0] largest monitor-line
	 * size (bytes); ECX[0] MWAIT extensions enumerated, ECX[1] interrupts break MWAIT
	 * even when masked; EDX[3:0] C0 and EDX[7:4] C1 sub-states: one each (the
	 * MWAIT wait is C1-like), no deeper C-states. */
	case 5:
		out[CPUID_EAX] = CPU_MONITOR_LINE;
		out[CPUID_EBX] = CPU_MONITOR_LINE;
		out[CPUID_ECX] = BIT(0) | BIT(1);
		out[CPUID_EDX] = 0x11;
		break;
	case 6: feature_bits(6, 0, out); break;
	case 7:
		if (sub == 0) /* EAX = 0: the highest subleaf */
			feature_bits(7, 0, out);
		break;
	case 0xB:
	case 0x1F: leaf_topology(cpu, sub, out); break;
	case 0x15:
		out[CPUID_EAX] = 1;
		out[CPUID_EBX] = (uint32_t)(CLOCK_TSC_HZ / CPUID_CRYSTAL_HZ);
		out[CPUID_ECX] = CPUID_CRYSTAL_HZ;
		break;
	case 0x16:
		out[CPUID_EAX] = out[CPUID_EBX] = (uint32_t)(CLOCK_TSC_HZ / 1000000);
		out[CPUID_ECX] = 100; /* bus MHz */
		break;
	default: break; /* reserved or not supported: zeros */
	}
}

static void ext_leaf(const struct cpu *cpu, uint32_t leaf, uint32_t out[4])
{
	switch (leaf) {
	case 0x80000000: out[CPUID_EAX] = CPUID_MAX_EXT; break;
	case 0x80000001:
		feature_bits(leaf, 0, out);
		if (cpu->misc_enable & MISC_ENABLE_XD_DISABLE)
			out[CPUID_EDX] &= ~(1u << 20); /* NX hidden (SDM Vol.4 Table 2-2) */
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: brand_string(leaf, out); break;
	case 0x80000006: out[CPUID_ECX] = (1024u << 16) | (6u << 12) | 64; break;
	case 0x80000007: feature_bits(leaf, 0, out); break;
	case 0x80000008: out[CPUID_EAX] = CPU_MAXPHYADDR | (48u << 8); break;
	default: break;
	}
}

void cpuid_query(struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	uint32_t max_basic = (cpu->misc_enable & BIT(22)) ? 2 : CPUID_MAX_BASIC;
	memset(out, 0, 4 * sizeof(uint32_t));
	/* Beyond the highest basic or extended leaf, Intel returns the highest basic
	 * leaf's data (SDM Vol.2 CPUID, "INPUT EAX = 0" note). */
	if ((leaf < 0x80000000u && leaf > max_basic) || leaf > CPUID_MAX_EXT)
		leaf = max_basic;
	if (leaf >= 0x80000000u)
		ext_leaf(cpu, leaf, out);
	else
		basic_leaf(cpu, leaf, subleaf, out);
}

void exec_CPUID(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint32_t r[4];
	cpuid_query(cpu, (uint32_t)cpu->gpr[RAX], (uint32_t)cpu->gpr[RCX], r);
	cpu->gpr[RAX] = r[CPUID_EAX]; /* 32-bit results zero-extend (SDM Vol.1 3.4.1.1) */
	cpu->gpr[RBX] = r[CPUID_EBX];
	cpu->gpr[RCX] = r[CPUID_ECX];
	cpu->gpr[RDX] = r[CPUID_EDX];
}
