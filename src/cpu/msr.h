/*
 * Model-specific registers (SDM Vol.4 ch.2, Table 2-2 "IA-32 Architectural MSRs").
 *
 * msr.c holds the list once (a table of index ranges with a reader and a writer);
 * RDMSR/WRMSR, and later the VMX MSR-load/store areas, go through msr_read/msr_write.
 */
#ifndef TURTLES_CPU_MSR_H
#define TURTLES_CPU_MSR_H

#include "cpu/cpu.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1B
#define MSR_IA32_FEATURE_CONTROL 0x3A
#define MSR_IA32_SPEC_CTRL 0x48
#define MSR_IA32_PRED_CMD 0x49
#define MSR_IA32_BIOS_SIGN_ID 0x8B
#define MSR_PLATFORM_INFO 0xCE
#define MSR_IA32_MTRRCAP 0xFE
#define MSR_IA32_ARCH_CAPABILITIES 0x10A
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17A
#define MSR_IA32_MISC_ENABLE 0x1A0
#define MISC_ENABLE_XD_DISABLE BIT(34) /* CPUID NX reads 0, EFER.NXE reserved */
#define MSR_IA32_DEBUGCTL 0x1D9
#define MSR_IA32_MTRR_PHYSBASE0 0x200
#define MSR_IA32_MTRR_PHYSMASK7 0x20F
#define MSR_IA32_MTRR_FIX64K_00000 0x250
#define MSR_IA32_MTRR_FIX16K_80000 0x258
#define MSR_IA32_MTRR_FIX16K_A0000 0x259
#define MSR_IA32_MTRR_FIX4K_C0000 0x268
#define MSR_IA32_MTRR_FIX4K_F8000 0x26F
#define MSR_IA32_PAT 0x277
#define MSR_IA32_MTRR_DEF_TYPE 0x2FF
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_FIRST 0x800
#define MSR_X2APIC_LAST 0x8FF
#define MSR_IA32_EFER 0xC0000080
#define MSR_IA32_STAR 0xC0000081
#define MSR_IA32_LSTAR 0xC0000082
#define MSR_IA32_CSTAR 0xC0000083
#define MSR_IA32_FMASK 0xC0000084
#define MSR_IA32_FS_BASE 0xC0000100
#define MSR_IA32_GS_BASE 0xC0000101
#define MSR_IA32_KERNEL_GS_BASE 0xC0000102
#define MSR_IA32_TSC_AUX 0xC0000103

/* false: the MSR does not exist or the value is invalid (RDMSR/WRMSR raise #GP(0)). */
bool msr_read(struct cpu *cpu, uint32_t index, uint64_t *value);
bool msr_write(struct cpu *cpu, uint32_t index, uint64_t value);

/* Whether a write of v to IA32_APIC_BASE whose value is old is allowed: reserved bits,
 * the read-only BSP flag and the x2APIC state transitions of SDM 11.12.5 (Table 11-5).
 * Shared by the silicon's RDMSR/WRMSR and L0's virtual APIC. */
bool apic_base_write_valid(uint64_t old, uint64_t v);

/* Name for traces ("IA32_EFER"), or NULL if the silicon has no such MSR. */
const char *msr_name(uint32_t index);

#endif
