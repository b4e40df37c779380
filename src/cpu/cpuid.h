/*
 * CPUID feature flags, declared once (SDM Vol.2 CPUID, Tables 3-8 .. 3-10 and the
 * leaf 7 / 80000001H descriptions).
 *
 * X-macro: FEATURE(name, leaf, subleaf, reg, bit, on)
 *   leaf/subleaf/reg/bit  where CPUID enumerates it
 *   on                    1 = the silicon implements it and CPUID advertises it
 *
 * From this one list cpuid.c builds the CPUID registers and cpu_has_feature() answers
 * executors ("#UD unless CPUID.(EAX=07H,ECX=0):EBX.BMI1[bit 3] = 1", SDM Vol.2). A bit
 * that is not in the list, or listed with on = 0, reads 0 and its instructions #UD.
 * Bits whose value depends on state (OSXSAVE mirrors CR4, APIC mirrors
 * IA32_APIC_BASE.EN) are computed in cpuid.c and are not listed.
 */
#ifndef TURTLES_CPU_CPUID_H
#define TURTLES_CPU_CPUID_H

#include "cpu/cpu.h"

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

#define CPUID_FEATURES(FEATURE) \
	/* leaf 1 EDX */ \
	FEATURE(FPU, 1, 0, CPUID_EDX, 0, 0)        /* no x87: D8-DF raise #NM/#UD */ \
	FEATURE(VME, 1, 0, CPUID_EDX, 1, 0)        /* no virtual-8086 extensions */ \
	FEATURE(DE, 1, 0, CPUID_EDX, 2, 1)         /* CR4.DE: DR4/DR5 #UD */ \
	FEATURE(PSE, 1, 0, CPUID_EDX, 3, 1) \
	FEATURE(TSC, 1, 0, CPUID_EDX, 4, 1) \
	FEATURE(MSR, 1, 0, CPUID_EDX, 5, 1) \
	FEATURE(PAE, 1, 0, CPUID_EDX, 6, 1) \
	FEATURE(MCE, 1, 0, CPUID_EDX, 7, 1)        /* CR4.MCE; #MC never raised */ \
	FEATURE(CX8, 1, 0, CPUID_EDX, 8, 1) \
	FEATURE(SEP, 1, 0, CPUID_EDX, 11, 1)       /* SYSENTER/SYSEXIT */ \
	FEATURE(MTRR, 1, 0, CPUID_EDX, 12, 1) \
	FEATURE(PGE, 1, 0, CPUID_EDX, 13, 1) \
	FEATURE(MCA, 1, 0, CPUID_EDX, 14, 1)       /* IA32_MCG_CAP with 0 banks */ \
	FEATURE(CMOV, 1, 0, CPUID_EDX, 15, 1) \
	FEATURE(PAT, 1, 0, CPUID_EDX, 16, 1) \
	FEATURE(PSE36, 1, 0, CPUID_EDX, 17, 1)     /* 4-MByte pages above 4 GB (MMU) */ \
	FEATURE(CLFSH, 1, 0, CPUID_EDX, 19, 1) \
	FEATURE(MMX, 1, 0, CPUID_EDX, 23, 0) \
	FEATURE(FXSR, 1, 0, CPUID_EDX, 24, 0) \
	FEATURE(SSE, 1, 0, CPUID_EDX, 25, 0) \
	FEATURE(SSE2, 1, 0, CPUID_EDX, 26, 0) \
	FEATURE(HTT, 1, 0, CPUID_EDX, 28, 1)       /* CPUID.1:EBX[23:16] is valid */ \
	/* leaf 1 ECX */ \
	FEATURE(SSE3, 1, 0, CPUID_ECX, 0, 0) \
	FEATURE(MONITOR, 1, 0, CPUID_ECX, 3, 1)    /* MONITOR/MWAIT, leaf 05H */ \
	FEATURE(VMX, 1, 0, CPUID_ECX, 5, 1)        /* VMX: cpu/vmx/, SDM ch.25-32 */ \
	FEATURE(SMX, 1, 0, CPUID_ECX, 6, 0)        /* GETSEC #UD */ \
	FEATURE(SSSE3, 1, 0, CPUID_ECX, 9, 0) \
	FEATURE(CX16, 1, 0, CPUID_ECX, 13, 1) \
	FEATURE(PCID, 1, 0, CPUID_ECX, 17, 1) \
	FEATURE(SSE4_1, 1, 0, CPUID_ECX, 19, 0) \
	FEATURE(SSE4_2, 1, 0, CPUID_ECX, 20, 0)    /* also enumerates CRC32: #UD */ \
	FEATURE(X2APIC, 1, 0, CPUID_ECX, 21, 1) \
	FEATURE(MOVBE, 1, 0, CPUID_ECX, 22, 1) \
	FEATURE(POPCNT, 1, 0, CPUID_ECX, 23, 1) \
	FEATURE(TSC_DEADLINE, 1, 0, CPUID_ECX, 24, 1) \
	FEATURE(XSAVE, 1, 0, CPUID_ECX, 26, 0)     /* XGETBV/XSETBV #UD */ \
	FEATURE(AVX, 1, 0, CPUID_ECX, 28, 0) \
	FEATURE(RDRAND, 1, 0, CPUID_ECX, 30, 1) \
	FEATURE(HYPERVISOR, 1, 0, CPUID_ECX, 31, 0) /* the silicon is not a VM */ \
	/* leaf 6 */ \
	FEATURE(ARAT, 6, 0, CPUID_EAX, 2, 1)       /* APIC timer runs in every C-state */ \
	/* leaf 7, subleaf 0 */ \
	FEATURE(FSGSBASE, 7, 0, CPUID_EBX, 0, 1) \
	FEATURE(TSC_ADJUST, 7, 0, CPUID_EBX, 1, 0) \
	FEATURE(BMI1, 7, 0, CPUID_EBX, 3, 1) \
	FEATURE(HLE, 7, 0, CPUID_EBX, 4, 0) \
	FEATURE(AVX2, 7, 0, CPUID_EBX, 5, 0) \
	FEATURE(SMEP, 7, 0, CPUID_EBX, 7, 1) \
	FEATURE(BMI2, 7, 0, CPUID_EBX, 8, 1) \
	FEATURE(ERMS, 7, 0, CPUID_EBX, 9, 1) \
	FEATURE(INVPCID, 7, 0, CPUID_EBX, 10, 1) \
	FEATURE(RTM, 7, 0, CPUID_EBX, 11, 0) \
	FEATURE(RDSEED, 7, 0, CPUID_EBX, 18, 0) \
	FEATURE(ADX, 7, 0, CPUID_EBX, 19, 0) \
	FEATURE(SMAP, 7, 0, CPUID_EBX, 20, 1)      /* CLAC/STAC, CR4.SMAP */ \
	FEATURE(CLFLUSHOPT, 7, 0, CPUID_EBX, 23, 1) \
	FEATURE(CLWB, 7, 0, CPUID_EBX, 24, 0) \
	FEATURE(UMIP, 7, 0, CPUID_ECX, 2, 1) \
	FEATURE(PKU, 7, 0, CPUID_ECX, 3, 0) \
	FEATURE(LA57, 7, 0, CPUID_ECX, 16, 0) \
	FEATURE(RDPID, 7, 0, CPUID_ECX, 22, 1) \
	FEATURE(IBRS_IBPB, 7, 0, CPUID_EDX, 26, 1) /* IA32_SPEC_CTRL.IBRS, IA32_PRED_CMD */ \
	FEATURE(STIBP, 7, 0, CPUID_EDX, 27, 1) \
	FEATURE(ARCH_CAPABILITIES, 7, 0, CPUID_EDX, 29, 1) \
	FEATURE(SSBD, 7, 0, CPUID_EDX, 31, 1) \
	/* leaf 80000001H */ \
	FEATURE(LAHF_LM, 0x80000001, 0, CPUID_ECX, 0, 1) /* LAHF/SAHF in 64-bit mode */ \
	FEATURE(LZCNT, 0x80000001, 0, CPUID_ECX, 5, 1)   /* "ABM" */ \
	FEATURE(PREFETCHW, 0x80000001, 0, CPUID_ECX, 8, 0) \
	FEATURE(SYSCALL, 0x80000001, 0, CPUID_EDX, 11, 1) \
	FEATURE(NX, 0x80000001, 0, CPUID_EDX, 20, 1) \
	FEATURE(PAGE1GB, 0x80000001, 0, CPUID_EDX, 26, 1) \
	FEATURE(RDTSCP, 0x80000001, 0, CPUID_EDX, 27, 1) \
	FEATURE(LM, 0x80000001, 0, CPUID_EDX, 29, 1) \
	/* leaf 80000007H */ \
	FEATURE(INVARIANT_TSC, 0x80000007, 0, CPUID_EDX, 8, 1)

enum cpu_feature {
#define FEATURE(name, leaf, sub, reg, bit, on) FEAT_##name,
	CPUID_FEATURES(FEATURE)
#undef FEATURE
	FEAT_COUNT
};

/* Execute CPUID for this processor: leaf in eax, subleaf in ecx (SDM Vol.2 CPUID). */
void cpuid_query(struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* The family/model/stepping signature: CPUID.1:EAX, and EDX after RESET/INIT. */
#define CPUID_SIGNATURE 0x000F06F1u /* family 6, model 0xFF (unassigned), stepping 1 */

const char *cpu_feature_name(int feature);

#endif
