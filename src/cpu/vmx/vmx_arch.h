/*
 * Architectural VMX constants: field encodings, exit reasons, VM-instruction errors,
 * control bits and the layouts of the event and qualification fields. Facts from the
 * Intel SDM (Dec-2024 numbering: VMCS ch.26, VM entries ch.28, VM exits ch.29, EPT
 * 30.3, VMX instructions ch.32, capability MSRs App. A, encodings App. B, exit reasons
 * App. C). Shared by the silicon, L0 and the guest runtime; data only.
 */
#ifndef TURTLES_CPU_VMX_VMX_ARCH_H
#define TURTLES_CPU_VMX_VMX_ARCH_H

#include "cpu/types.h"

/* --- VMCS field encodings (App. B), from vmcs_fields.def ---------------------- */

enum vmcs_field {
#define VMCS_FIELD(name, enc, width, type) VMCS_##name = (enc),
#include "cpu/vmx/vmcs_fields.def"
#undef VMCS_FIELD
};

/* Encoding bits (SDM 26.11.2, Table 26-21). */
#define VMCS_ENC_HIGH BIT(0)              /* access type: high 32 bits of a 64-bit field */
#define VMCS_ENC_INDEX(e) (((e) >> 1) & 0x1FF)
#define VMCS_ENC_TYPE(e) (((e) >> 10) & 3)  /* 0 control, 1 exit info, 2 guest, 3 host */
#define VMCS_ENC_WIDTH(e) (((e) >> 13) & 3) /* 0 16-bit, 1 64-bit, 2 32-bit, 3 natural */

/* --- exit reasons (App. C), from exit_reasons.def -------------------------------- */

enum exit_reason {
#define EXIT_REASON(name, num, str) EXIT_REASON_##name = (num),
#include "cpu/vmx/exit_reasons.def"
#undef EXIT_REASON
	EXIT_REASON_MAX = 86, /* one past the largest basic exit reason: table sizes */
};
#define EXIT_REASON_ENTRY_FAILURE BIT(31) /* VM-entry failure (SDM 26.9.1 Table 26-17) */

/* Name of a basic exit reason for traces and --stats, "unknown" if undefined. */
const char *vmx_exit_reason_name(uint32_t basic_reason);

/* --- VM-instruction error numbers (SDM 32.4, Table 32-1) ------------------------ */

enum vmx_insn_error {
	VMXERR_VMCALL_IN_ROOT = 1,
	VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
	VMXERR_VMCLEAR_VMXON_POINTER = 3,
	VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4,
	VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6,
	VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7,
	VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8,
	VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
	VMXERR_VMPTRLD_VMXON_POINTER = 10,
	VMXERR_VMPTRLD_INCORRECT_REVISION_ID = 11,
	VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12,
	VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT = 13,
	VMXERR_VMXON_IN_VMX_ROOT_OPERATION = 15,
	VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS = 26,
	VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID = 28,
};

/* --- pin-based VM-execution controls (SDM 26.6.1, Table 26-5) ------------------- */
#define PIN_EXT_INTR_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)
#define PIN_POSTED_INTR BIT(7)

/* --- primary processor-based controls (SDM 26.6.2, Table 26-6) ------------------ */
#define PROC_INTR_WINDOW_EXITING BIT(2)
#define PROC_USE_TSC_OFFSETTING BIT(3)
#define PROC_HLT_EXITING BIT(7)
#define PROC_INVLPG_EXITING BIT(9)
#define PROC_MWAIT_EXITING BIT(10)
#define PROC_RDPMC_EXITING BIT(11)
#define PROC_RDTSC_EXITING BIT(12)
#define PROC_CR3_LOAD_EXITING BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_TERTIARY_CONTROLS BIT(17)
#define PROC_CR8_LOAD_EXITING BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_TPR_SHADOW BIT(21)
#define PROC_NMI_WINDOW_EXITING BIT(22)
#define PROC_MOV_DR_EXITING BIT(23)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_USE_IO_BITMAPS BIT(25)
#define PROC_MONITOR_TRAP_FLAG BIT(27)
#define PROC_USE_MSR_BITMAPS BIT(28)
#define PROC_MONITOR_EXITING BIT(29)
#define PROC_PAUSE_EXITING BIT(30)
#define PROC_SECONDARY_CONTROLS BIT(31)

/* --- secondary processor-based controls (SDM 26.6.2, Table 26-7) ---------------- */
#define PROC2_VIRTUALIZE_APIC_ACCESSES BIT(0)
#define PROC2_ENABLE_EPT BIT(1)
#define PROC2_DESC_TABLE_EXITING BIT(2)
#define PROC2_ENABLE_RDTSCP BIT(3)
#define PROC2_VIRTUALIZE_X2APIC_MODE BIT(4)
#define PROC2_ENABLE_VPID BIT(5)
#define PROC2_WBINVD_EXITING BIT(6)
#define PROC2_UNRESTRICTED_GUEST BIT(7)
#define PROC2_APIC_REGISTER_VIRT BIT(8)
#define PROC2_VIRTUAL_INTR_DELIVERY BIT(9)
#define PROC2_PAUSE_LOOP_EXITING BIT(10)
#define PROC2_RDRAND_EXITING BIT(11)
#define PROC2_ENABLE_INVPCID BIT(12)
#define PROC2_ENABLE_VMFUNC BIT(13)
#define PROC2_SHADOW_VMCS BIT(14)
#define PROC2_RDSEED_EXITING BIT(16)
#define PROC2_ENABLE_PML BIT(17)
#define PROC2_EPT_VIOLATION_VE BIT(18)
#define PROC2_ENABLE_XSAVES BIT(20)
#define PROC2_TSC_SCALING BIT(25)

/* --- primary VM-exit controls (SDM 26.7.1, Table 26-14) ------------------------- */
#define EXIT_SAVE_DEBUG_CONTROLS BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_LOAD_PERF_GLOBAL_CTRL BIT(12)
#define EXIT_ACK_INTR_ON_EXIT BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
#define EXIT_SAVE_PREEMPTION_TIMER BIT(22)
#define EXIT_CLEAR_BNDCFGS BIT(23)

/* --- VM-entry controls (SDM 26.8.1, Table 26-16) -------------------------------- */
#define ENTRY_LOAD_DEBUG_CONTROLS BIT(2)
#define ENTRY_IA32E_MODE BIT(9)
#define ENTRY_SMM BIT(10)
#define ENTRY_DEACT_DUAL_MONITOR BIT(11)
#define ENTRY_LOAD_PERF_GLOBAL_CTRL BIT(13)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)
#define ENTRY_LOAD_BNDCFGS BIT(16)

/* --- interruption information (VM-entry 0x4016, VM-exit 0x4404, IDT-vectoring 0x4408;
 *     SDM 26.8.3 Table 26-17, 26.9.2 Table 26-19, 26.9.3 Table 26-20) --------------- */
#define INTR_INFO_VECTOR_MASK 0xFFu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_DELIVER_CODE BIT(11)
#define INTR_INFO_NMI_UNBLOCKED_BY_IRET BIT(12) /* exit info only */
#define INTR_INFO_VALID BIT(31)
enum intr_type {
	INTR_TYPE_EXT_INTR = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HW_EXCEPTION = 3,
	INTR_TYPE_SW_INTR = 4,
	INTR_TYPE_PRIV_SW_EXCEPTION = 5, /* INT1 */
	INTR_TYPE_SW_EXCEPTION = 6,      /* INT3, INTO */
	INTR_TYPE_OTHER_EVENT = 7,       /* MTF pending on entry */
};

/* --- guest interruptibility state (SDM 26.4.2, Table 26-3) ----------------------- */
#define INTERRUPTIBILITY_STI BIT(0)
#define INTERRUPTIBILITY_MOV_SS BIT(1)
#define INTERRUPTIBILITY_SMI BIT(2)
#define INTERRUPTIBILITY_NMI BIT(3)
#define INTERRUPTIBILITY_ENCLAVE BIT(4)

/* --- guest activity state (SDM 26.4.2) ------------------------------------------- */
enum activity_state {
	ACTIVITY_ACTIVE = 0,
	ACTIVITY_HLT = 1,
	ACTIVITY_SHUTDOWN = 2,
	ACTIVITY_WAIT_SIPI = 3,
};

/* --- pending debug exceptions (SDM 26.4.2, Table 26-4) --------------------------- */
#define PENDING_DBG_B0_B3 0xFULL
#define PENDING_DBG_ENABLED_BP BIT(12)
#define PENDING_DBG_BS BIT(14)
#define PENDING_DBG_RTM BIT(16)

/* --- exit qualifications (SDM 29.2.1) --------------------------------------------- */
/* Control-register access, Table 29-3. */
#define CRQUAL_CR(q) ((q) & 0xF)
#define CRQUAL_TYPE(q) (((q) >> 4) & 3) /* 0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW */
#define CRQUAL_LMSW_MEM BIT(6)
#define CRQUAL_GPR(q) (((q) >> 8) & 0xF)
#define CRQUAL_LMSW_DATA(q) (((q) >> 16) & 0xFFFF)
enum { CR_ACCESS_MOV_TO = 0, CR_ACCESS_MOV_FROM = 1, CR_ACCESS_CLTS = 2, CR_ACCESS_LMSW = 3 };
/* MOV DR, Table 29-4. */
#define DRQUAL_DR(q) ((q) & 7)
#define DRQUAL_FROM_DR BIT(4)
#define DRQUAL_GPR(q) (((q) >> 8) & 0xF)
/* I/O instructions, Table 29-5. */
#define IOQUAL_SIZE_MINUS_1(q) ((q) & 7)
#define IOQUAL_IN BIT(3)
#define IOQUAL_STRING BIT(4)
#define IOQUAL_REP BIT(5)
#define IOQUAL_IMM_OPERAND BIT(6)
#define IOQUAL_PORT(q) (((q) >> 16) & 0xFFFF)
/* EPT violation, Table 29-7. */
#define EPTQUAL_READ BIT(0)
#define EPTQUAL_WRITE BIT(1)
#define EPTQUAL_FETCH BIT(2)
#define EPTQUAL_READABLE BIT(3)
#define EPTQUAL_WRITABLE BIT(4)
#define EPTQUAL_EXECUTABLE BIT(5)
#define EPTQUAL_USER_EXECUTABLE BIT(6) /* mode-based execute control only */
#define EPTQUAL_GLA_VALID BIT(7)
#define EPTQUAL_GLA_TRANSLATED BIT(8)   /* access to the final translation, not a
					   paging-structure entry (valid if bit 7) */
#define EPTQUAL_NMI_UNBLOCKED_BY_IRET BIT(12)

/* --- EPT (SDM 30.3.2, 26.6.11) ----------------------------------------------------- */
#define EPTP_MEMTYPE_MASK 7ULL
#define EPTP_MEMTYPE_UC 0
#define EPTP_MEMTYPE_WB 6
#define EPTP_WALK_LENGTH_SHIFT 3 /* bits 5:3: page-walk length minus 1 */
#define EPTP_AD_ENABLE BIT(6)
#define EPT_READ BIT(0)
#define EPT_WRITE BIT(1)
#define EPT_EXEC BIT(2)
#define EPT_MEMTYPE_SHIFT 3   /* leaf entries, bits 5:3 */
#define EPT_IGNORE_PAT BIT(6)
#define EPT_LARGE BIT(7)      /* PDPTE/PDE: maps a 1-GByte/2-MByte page */
#define EPT_ACCESSED BIT(8)
#define EPT_DIRTY BIT(9)      /* leaf entries */
#define EPT_USER_EXEC BIT(10) /* mode-based execute control only */
#define EPT_SUPPRESS_VE BIT(63)

/* INVEPT and INVVPID types (SDM 32.3 INVEPT, INVVPID). */
enum { INVEPT_SINGLE_CONTEXT = 1, INVEPT_ALL_CONTEXT = 2 };
enum {
	INVVPID_INDIVIDUAL_ADDRESS = 0,
	INVVPID_SINGLE_CONTEXT = 1,
	INVVPID_ALL_CONTEXT = 2,
	INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS = 3,
};

/* --- capability and control MSRs (SDM App. A; Vol.4 Table 2-2) --------------------- */
#define MSR_IA32_VMX_BASIC 0x480
#define MSR_IA32_VMX_PINBASED_CTLS 0x481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482
#define MSR_IA32_VMX_EXIT_CTLS 0x483
#define MSR_IA32_VMX_ENTRY_CTLS 0x484
#define MSR_IA32_VMX_MISC 0x485
#define MSR_IA32_VMX_CR0_FIXED0 0x486
#define MSR_IA32_VMX_CR0_FIXED1 0x487
#define MSR_IA32_VMX_CR4_FIXED0 0x488
#define MSR_IA32_VMX_CR4_FIXED1 0x489
#define MSR_IA32_VMX_VMCS_ENUM 0x48A
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48B
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48C
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48D
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48E
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48F
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490
#define MSR_IA32_VMX_VMFUNC 0x491
#define MSR_IA32_PERF_GLOBAL_CTRL 0x38F

#define FEATURE_CONTROL_LOCKED BIT(0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

#endif
