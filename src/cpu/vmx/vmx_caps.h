/*
 * What this silicon's VMX implements: the allowed settings of every control field and
 * the capability values reported through the IA32_VMX_* MSRs (SDM Appendix A). VM
 * entry checks the controls against exactly these (SDM 28.2.1.1) and vmx_caps.c builds
 * the MSRs from them, so the two cannot disagree.
 *
 * For each control field: DEFAULT1 is the "default1" class (SDM A.2: reported as
 * must-be-1 by the non-TRUE MSR), MUST1 the bits that must be 1 (the TRUE MSR's
 * allowed-0 settings, SDM A.3-A.5), ALLOWED1 the bits that may be 1.
 */
#ifndef TURTLES_CPU_VMX_VMX_CAPS_H
#define TURTLES_CPU_VMX_VMX_CAPS_H

#include "cpu/cpu.h"
#include "cpu/vmx/vmx_arch.h"

/* IA32_VMX_BASIC (SDM A.1). Bit 31 of a revision identifier is always 0. */
#define VMX_REVISION_ID 0x00007475u /* "tu" */
#define VMX_VMCS_REGION_BYTES 4096
#define VMX_BASIC_MEMTYPE_WB 6ULL
/* IA32_VMX_BASIC[54]: VM exits due to INS/OUTS report the VM-exit instruction-
 * information field (vmx_intercept_io.c fills it). */
#define VMX_BASIC_INS_OUTS_INFO 1

/* Pin-based controls (SDM A.3.1): default1 bits 1, 2, 4. */
#define VMX_PIN_DEFAULT1 (BIT(1) | BIT(2) | BIT(4))
#define VMX_PIN_MUST1 VMX_PIN_DEFAULT1
#define VMX_PIN_ALLOWED1                                                             \
	(VMX_PIN_DEFAULT1 | PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS |   \
	 PIN_PREEMPTION_TIMER)

/* Primary processor-based controls (SDM A.3.2): default1 bits 1, 4-6, 8, 13-16, 26;
 * CR3-load and CR3-store exiting may be 0 (TRUE MSR). */
#define VMX_PROC_DEFAULT1                                                             \
	(BIT(1) | BIT(4) | BIT(5) | BIT(6) | BIT(8) | BIT(13) | BIT(14) | BIT(15) |      \
	 BIT(16) | BIT(26))
#define VMX_PROC_MUST1 (VMX_PROC_DEFAULT1 & ~(PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING))
#define VMX_PROC_ALLOWED1                                                             \
	(VMX_PROC_DEFAULT1 | PROC_INTR_WINDOW_EXITING | PROC_USE_TSC_OFFSETTING |         \
	 PROC_HLT_EXITING | PROC_INVLPG_EXITING | PROC_MWAIT_EXITING |                    \
	 PROC_RDPMC_EXITING | PROC_RDTSC_EXITING | PROC_CR8_LOAD_EXITING |               \
	 PROC_CR8_STORE_EXITING | PROC_TPR_SHADOW | PROC_NMI_WINDOW_EXITING |            \
	 PROC_MOV_DR_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_IO_BITMAPS |            \
	 PROC_MONITOR_TRAP_FLAG | PROC_USE_MSR_BITMAPS | PROC_MONITOR_EXITING |          \
	 PROC_PAUSE_EXITING | PROC_SECONDARY_CONTROLS)

/* Secondary processor-based controls (SDM A.3.3): no default1 class. */
#define VMX_PROC2_ALLOWED1                                                            \
	(PROC2_VIRTUALIZE_APIC_ACCESSES | PROC2_ENABLE_EPT | PROC2_DESC_TABLE_EXITING |  \
	 PROC2_ENABLE_RDTSCP | PROC2_ENABLE_VPID | PROC2_WBINVD_EXITING |                \
	 PROC2_UNRESTRICTED_GUEST | PROC2_RDRAND_EXITING | PROC2_ENABLE_INVPCID |         \
	 PROC2_ENABLE_PML)

/* VM-exit controls (SDM A.4): default1 bits 0-8, 10, 11, 13, 14, 16, 17; "save debug
 * controls" may be 0 (TRUE MSR). */
#define VMX_EXIT_DEFAULT1 (0x1FFULL | BIT(10) | BIT(11) | BIT(13) | BIT(14) | BIT(16) | BIT(17))
#define VMX_EXIT_MUST1 (VMX_EXIT_DEFAULT1 & ~EXIT_SAVE_DEBUG_CONTROLS)
#define VMX_EXIT_ALLOWED1                                                             \
	(VMX_EXIT_DEFAULT1 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_PERF_GLOBAL_CTRL |     \
	 EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |         \
	 EXIT_LOAD_EFER | EXIT_SAVE_PREEMPTION_TIMER)

/* VM-entry controls (SDM A.5): default1 bits 0-8, 12; "load debug controls" may be 0
 * (TRUE MSR). Entry to SMM and deactivating the dual-monitor treatment are not
 * supported (no SMM). */
#define VMX_ENTRY_DEFAULT1 (0x1FFULL | BIT(12))
#define VMX_ENTRY_MUST1 (VMX_ENTRY_DEFAULT1 & ~ENTRY_LOAD_DEBUG_CONTROLS)
#define VMX_ENTRY_ALLOWED1                                                            \
	(VMX_ENTRY_DEFAULT1 | ENTRY_IA32E_MODE | ENTRY_LOAD_PERF_GLOBAL_CTRL |            \
	 ENTRY_LOAD_PAT | ENTRY_LOAD_EFER)

/* IA32_VMX_MISC (SDM A.6). */
#define VMX_MISC_PREEMPT_RATE 5          /* bits 4:0: timer ticks every 2^5 TSC ticks */
#define VMX_MISC_STORE_LMA BIT(5)        /* exit stores EFER.LMA in "IA-32e mode guest" */
#define VMX_MISC_ACTIVITY_HLT BIT(6)
#define VMX_MISC_ACTIVITY_SHUTDOWN BIT(7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI BIT(8)
#define VMX_CR3_TARGETS 4                /* bits 24:16 */
#define VMX_MSR_LIST_MAX 512             /* bits 27:25 = 0: 512 * (N + 1) entries */
#define VMX_MISC_VMWRITE_ANY_FIELD BIT(29)
#define VMX_MISC_INJECT_ZERO_LEN BIT(30)
#define VMX_MISC_VALUE                                                                \
	(VMX_MISC_PREEMPT_RATE | VMX_MISC_STORE_LMA | VMX_MISC_ACTIVITY_HLT |            \
	 VMX_MISC_ACTIVITY_WAIT_SIPI | ((uint64_t)VMX_CR3_TARGETS << 16) |              \
	 VMX_MISC_VMWRITE_ANY_FIELD | VMX_MISC_INJECT_ZERO_LEN)

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
#define VMX_EPT_VPID_CAP_VALUE                                                        \
	(BIT(0) /* execute-only */ | BIT(6) /* 4-level walk */ | BIT(8) /* UC */ |      \
	 BIT(14) /* WB */ | BIT(16) /* 2-MByte pages */ | BIT(17) /* 1-GByte pages */ |  \
	 BIT(20) /* INVEPT */ | BIT(21) /* accessed and dirty flags */ |                 \
	 BIT(22) /* advanced exit information for EPT violations */ |                    \
	 BIT(25) /* single-context INVEPT */ | BIT(26) /* all-context INVEPT */ |         \
	 BIT(32) /* INVVPID */ | BIT(40) /* individual-address */ |                      \
	 BIT(41) /* single-context */ | BIT(42) /* all-context */ |                      \
	 BIT(43) /* single-context-retaining-globals */)

/* IA32_VMX_CR0_FIXED0/1 and CR4_FIXED0/1 (SDM A.7, A.8). CR0.PE and CR0.PG may be 0 in
 * the guest only with "unrestricted guest" (SDM 28.3.1.1). CR4 fixed-1 is every CR4
 * bit the silicon implements (computed in vmx_caps.c from the CR4 reserved mask). */
#define VMX_CR0_FIXED0 (CR0_PE | CR0_NE | CR0_PG)
#define VMX_CR0_FIXED1 0xFFFFFFFFULL
#define VMX_CR4_FIXED0 CR4_VMXE

#endif
