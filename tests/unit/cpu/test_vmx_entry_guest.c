/*
 * VM entry: the checks on the guest-state area (SDM 28.3.1). Each case starts from
 * one of the harness's valid guests (64-bit, 32-bit with paging, real mode with
 * "unrestricted guest"), breaks one field and expects VMLAUNCH to end in a VM-entry
 * failure exit (SDM 28.8): exit reason 33 with bit 31 set, exit qualification 0, 2
 * (PDPTEs) or 4 (VMCS link pointer), the guest not entered, the VMCS still clear.
 */
#include "vmx_harness.h"

#include "cpu/vmx/vmx_entry.h"

enum { G64, G32, G32PAE, GREAL };

static void reset_as(int kind)
{
	vmcs_clear_fields();
	C->vmx.non_root = false;
	switch (kind) {
	case G64: vmcs_setup_guest64(); break;
	case G32: vmcs_setup_guest32(false); break;
	case G32PAE: vmcs_setup_guest32(true); break;
	default: vmcs_setup_guest_real(); break;
	}
}

static void reset(void)
{
	reset_as(G64);
}

static void guest_fails(uint64_t qual, int line)
{
	vw(VMCS_VM_EXIT_REASON, 0);
	vw(VMCS_EXIT_QUALIFICATION, 0xDEAD);
	enum vmx_result r = vmx_vmlaunch(C);
	uint64_t reason = vr(VMCS_VM_EXIT_REASON), q = vr(VMCS_EXIT_QUALIFICATION);
	if (r != VMX_SUCCEED || reason != (EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE) ||
	    q != qual)
		fprintf(stderr, "line %d: result %d reason 0x%" PRIx64 " qual %" PRIu64 "\n",
			line, r, reason, q);
	CHECK_EQ(r, VMX_SUCCEED);
	CHECK_EQ(reason, EXIT_REASON_ENTRY_FAILURE | EXIT_REASON_INVALID_STATE);
	CHECK_EQ(q, qual);
	CHECK(!C->vmx.non_root);
	CHECK_EQ(V->launch_state, VMCS_STATE_CLEAR);
}
#define FAILS() guest_fails(ENTRY_QUAL_DEFAULT, __LINE__)
#define FAILS_Q(q) guest_fails((q), __LINE__)

static void guest_passes(int line)
{
	uint64_t qual = 99;
	C->vmx.entry_failed_check = NULL;
	bool ok = vmx_check_controls(C, V) && vmx_check_guest_state(C, V, &qual);
	if (!ok)
		fprintf(stderr, "line %d: %s\n", line, C->vmx.entry_failed_check);
	CHECK(ok);
	CHECK_EQ(qual, 0);
}
#define PASSES() guest_passes(__LINE__)

static void or_field(uint32_t f, uint64_t bits) { vw(f, vr(f) | bits); }
static void andnot_field(uint32_t f, uint64_t bits) { vw(f, vr(f) & ~bits); }

/* SDM 28.3.1.1: control registers, debug registers, MSRs. */
static void test_regs(void)
{
	reset(); PASSES();
	reset_as(G32); PASSES();
	reset_as(G32PAE); PASSES();
	reset_as(GREAL); PASSES();
	/* CR0 fixed bits (A.7): NE; PE and PG without "unrestricted guest". */
	reset(); andnot_field(VMCS_GUEST_CR0, CR0_NE); FAILS();
	reset(); or_field(VMCS_GUEST_CR0, BIT(32)); FAILS();
	reset_as(G32); andnot_field(VMCS_GUEST_CR0, CR0_PG); FAILS();
	/* Unrestricted guest: PE/PG may be 0, but PG = 1 needs PE = 1. */
	reset_as(GREAL); or_field(VMCS_GUEST_CR0, CR0_PG); FAILS();
	/* CR4 fixed bits (A.8): VMXE, and no unsupported bit. */
	reset(); andnot_field(VMCS_GUEST_CR4, CR4_VMXE); FAILS();
	reset(); or_field(VMCS_GUEST_CR4, CR4_LA57); FAILS();
	/* Load debug controls: DEBUGCTL reserved bits, DR7 bits 63:32. */
	reset(); or_field(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_DEBUG_CONTROLS);
	vw(VMCS_GUEST_IA32_DEBUGCTL, 3); PASSES();
	vw(VMCS_GUEST_IA32_DEBUGCTL, BIT(2)); FAILS();
	vw(VMCS_GUEST_IA32_DEBUGCTL, 0); vw(VMCS_GUEST_DR7, 0x400 | BIT(32)); FAILS();
	/* IA-32e mode guest: CR0.PG and CR4.PAE; otherwise CR4.PCIDE = 0. */
	reset(); andnot_field(VMCS_GUEST_CR4, CR4_PAE); FAILS();
	reset_as(G32); or_field(VMCS_GUEST_CR4, CR4_PCIDE); FAILS();
	/* CR3 within the physical-address width. */
	reset(); vw(VMCS_GUEST_CR3, 1ULL << CPU_MAXPHYADDR); FAILS();
	/* SYSENTER_ESP/EIP canonical. */
	reset(); vw(VMCS_GUEST_SYSENTER_ESP, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_SYSENTER_EIP, 0x1000000000000000ULL); FAILS();
	/* Load IA32_PERF_GLOBAL_CTRL (no counters: 0), load IA32_PAT (memory types). */
	reset(); or_field(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_PERF_GLOBAL_CTRL); PASSES();
	vw(VMCS_GUEST_IA32_PERF_GLOBAL_CTRL, 1); FAILS();
	reset(); or_field(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_PAT); PASSES();
	vw(VMCS_GUEST_IA32_PAT, 0x0007040600070403ULL); FAILS();
	/* Load IA32_EFER: reserved bits; LMA = IA-32e mode guest; with CR0.PG, LME too. */
	reset(); or_field(VMCS_GUEST_IA32_EFER, BIT(1)); FAILS();
	reset(); andnot_field(VMCS_GUEST_IA32_EFER, EFER_LMA); FAILS();
	reset(); andnot_field(VMCS_GUEST_IA32_EFER, EFER_LME); FAILS();
	reset_as(G32); vw(VMCS_GUEST_IA32_EFER, EFER_LME); FAILS();
	/* Without "load IA32_EFER" the field is not checked. */
	reset(); andnot_field(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_EFER);
	vw(VMCS_GUEST_IA32_EFER, BIT(1)); PASSES();
}

static void set_ar(uint32_t ar_field, uint32_t ar) { vw(ar_field, ar); }

/* SDM 28.3.1.2: selectors and bases. */
static void test_seg_sel_base(void)
{
	/* TR.TI = 0; a usable LDTR has TI = 0. */
	reset(); or_field(VMCS_GUEST_TR_SELECTOR, 4); FAILS();
	reset(); vw(VMCS_GUEST_LDTR_SELECTOR, 0x60); vw(VMCS_GUEST_LDTR_AR_BYTES, 0x82);
	vw(VMCS_GUEST_LDTR_LIMIT, 0xFFF); PASSES();
	vw(VMCS_GUEST_LDTR_SELECTOR, 0x64); FAILS();
	/* SS.RPL = CS.RPL without unrestricted guest. */
	reset(); or_field(VMCS_GUEST_SS_SELECTOR, 1); FAILS();
	/* Bases: TR, FS, GS, usable LDTR canonical; CS 63:32 zero; usable SS/DS/ES too. */
	reset(); vw(VMCS_GUEST_TR_BASE, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_FS_BASE, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_GS_BASE, 0xFFFF800000000000ULL); PASSES();
	reset(); vw(VMCS_GUEST_CS_BASE, 1ULL << 32); FAILS();
	reset(); vw(VMCS_GUEST_DS_BASE, 1ULL << 32); FAILS();
	reset(); vw(VMCS_GUEST_DS_AR_BYTES, AR_UNUSABLE); vw(VMCS_GUEST_DS_BASE, 1ULL << 32);
	PASSES();
}

/* SDM 28.3.1.2: access rights of CS, SS, DS-GS outside virtual-8086 mode. */
static void test_seg_ar(void)
{
	uint32_t cs = (uint32_t)(reset(), vr(VMCS_GUEST_CS_AR_BYTES));
	/* CS: accessed code; data type 3 only with unrestricted guest. */
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, (cs & ~0xFu) | 0xA); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, (cs & ~0xFu) | 0x3); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs & ~AR_S); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs & ~AR_P); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs | BIT(8)); FAILS();   /* 11:8 */
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs | BIT(17)); FAILS();  /* 31:17 */
	/* Non-conforming CS: DPL = SS.DPL; conforming: DPL <= SS.DPL. */
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs | (1u << AR_DPL_SHIFT)); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, (cs & ~0xFu) | 0xF | (1u << AR_DPL_SHIFT));
	FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, (cs & ~0xFu) | 0xF); PASSES();
	/* IA-32e mode guest with CS.L = 1: D/B = 0. */
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs | AR_DB); FAILS();
	/* Granularity: limit 11:0 not all ones -> G = 0; limit 31:20 not zero -> G = 1. */
	reset(); vw(VMCS_GUEST_CS_LIMIT, 0xFFFFF000); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs & ~AR_G); FAILS();
	reset(); set_ar(VMCS_GUEST_CS_AR_BYTES, cs & ~AR_G); vw(VMCS_GUEST_CS_LIMIT, 0xFFFFF);
	PASSES();
	/* SS: type 3 or 7, S, P; DPL = RPL. */
	uint32_t ss = (uint32_t)vr(VMCS_GUEST_SS_AR_BYTES);
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, (ss & ~0xFu) | 0x1); FAILS();
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, (ss & ~0xFu) | 0xB); FAILS();
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, (ss & ~0xFu) | 0x7); PASSES();
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, ss & ~AR_P); FAILS();
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, ss | (3u << AR_DPL_SHIFT)); FAILS();
	/* An unusable SS is not type-checked; its DPL still is. */
	reset(); set_ar(VMCS_GUEST_SS_AR_BYTES, AR_UNUSABLE); PASSES();
	/* DS..GS when usable: accessed; readable if code; S; P; DPL >= RPL. */
	uint32_t ds = (uint32_t)vr(VMCS_GUEST_DS_AR_BYTES);
	reset(); set_ar(VMCS_GUEST_DS_AR_BYTES, ds & ~1u); FAILS();
	reset(); set_ar(VMCS_GUEST_ES_AR_BYTES, (ds & ~0xFu) | 0x9); FAILS();
	reset(); set_ar(VMCS_GUEST_FS_AR_BYTES, (ds & ~0xFu) | 0xB); PASSES();
	reset(); set_ar(VMCS_GUEST_GS_AR_BYTES, ds & ~AR_S); FAILS();
	reset(); set_ar(VMCS_GUEST_GS_AR_BYTES, ds & ~AR_P); FAILS();
	reset(); or_field(VMCS_GUEST_DS_SELECTOR, 3); FAILS(); /* DPL 0 < RPL 3 */
	reset(); set_ar(VMCS_GUEST_FS_AR_BYTES, AR_UNUSABLE | 0x1F00); PASSES();
}

/* SDM 28.3.1.2: TR and LDTR; virtual-8086 and unrestricted guests. */
static void test_seg_special(void)
{
	uint32_t tr = (uint32_t)(reset(), vr(VMCS_GUEST_TR_AR_BYTES));
	/* TR: busy 64-bit TSS (11) in IA-32e mode; 3 or 11 otherwise; S = 0; P = 1;
	 * usable. */
	reset(); set_ar(VMCS_GUEST_TR_AR_BYTES, (tr & ~0xFu) | 0x3); FAILS();
	reset(); set_ar(VMCS_GUEST_TR_AR_BYTES, (tr & ~0xFu) | 0x9); FAILS();
	reset_as(G32); set_ar(VMCS_GUEST_TR_AR_BYTES, (tr & ~0xFu) | 0x3); PASSES();
	reset(); set_ar(VMCS_GUEST_TR_AR_BYTES, tr | AR_S); FAILS();
	reset(); set_ar(VMCS_GUEST_TR_AR_BYTES, tr & ~AR_P); FAILS();
	reset(); set_ar(VMCS_GUEST_TR_AR_BYTES, tr | AR_UNUSABLE); FAILS();
	/* Usable LDTR: type 2. */
	reset(); vw(VMCS_GUEST_LDTR_SELECTOR, 0x60); vw(VMCS_GUEST_LDTR_AR_BYTES, 0x83);
	vw(VMCS_GUEST_LDTR_LIMIT, 0xFFF); FAILS();
	/* Virtual-8086 guest (RFLAGS.VM = 1 in a 32-bit guest): base = sel * 16, limit
	 * FFFFH, AR F3H for all six. */
	reset_as(G32);
	for (int s = 0; s < SEG_COUNT; s++) {
		uint32_t i = 2 * (uint32_t)s;
		vw(VMCS_GUEST_ES_SELECTOR + i, 0x100 + (uint32_t)s);
		vw(VMCS_GUEST_ES_BASE + i, (0x100 + (uint64_t)s) << 4);
		vw(VMCS_GUEST_ES_LIMIT + i, 0xFFFF);
		vw(VMCS_GUEST_ES_AR_BYTES + i, 0xF3);
	}
	or_field(VMCS_GUEST_RFLAGS, RFLAGS_VM); PASSES();
	vw(VMCS_GUEST_DS_BASE, 0x1000); FAILS();
	vw(VMCS_GUEST_DS_BASE, 0x1030); vw(VMCS_GUEST_SS_LIMIT, 0xFFFFF); FAILS();
	vw(VMCS_GUEST_SS_LIMIT, 0xFFFF); vw(VMCS_GUEST_CS_AR_BYTES, 0xFB); FAILS();
	/* RFLAGS.VM with an IA-32e guest (28.3.1.4). */
	reset(); or_field(VMCS_GUEST_RFLAGS, RFLAGS_VM); FAILS();
	/* Unrestricted real-mode guest: CS may be data type 3 (DPL 0), SS.DPL = 0 with
	 * CR0.PE = 0, SS.RPL need not equal CS.RPL, DPL < RPL allowed for data. */
	reset_as(GREAL); vw(VMCS_GUEST_CS_AR_BYTES, 0x93); PASSES();
	vw(VMCS_GUEST_CS_AR_BYTES, 0x93 | (1u << AR_DPL_SHIFT)); FAILS();
	reset_as(GREAL); vw(VMCS_GUEST_SS_SELECTOR, 3); vw(VMCS_GUEST_DS_SELECTOR, 3); PASSES();
	vw(VMCS_GUEST_SS_AR_BYTES, 0x93 | (3u << AR_DPL_SHIFT)); FAILS();
}

/* SDM 28.3.1.3: GDTR/IDTR bases canonical, limits 15:0 only. */
static void test_dtrs(void)
{
	reset(); vw(VMCS_GUEST_GDTR_BASE, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_IDTR_BASE, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_GDTR_LIMIT, 0x10000); FAILS();
	reset(); vw(VMCS_GUEST_IDTR_LIMIT, 0x10000); FAILS();
	reset(); vw(VMCS_GUEST_IDTR_LIMIT, 0xFFFF); PASSES();
}

#define INFO(type, vec) (INTR_INFO_VALID | ((uint32_t)(type) << INTR_INFO_TYPE_SHIFT) | (vec))

/* SDM 28.3.1.4: RIP and RFLAGS. */
static void test_rip_rflags(void)
{
	/* 64-bit guest: RIP canonical; otherwise bits 63:32 zero. */
	reset(); vw(VMCS_GUEST_RIP, 0x0000800000000000ULL); FAILS();
	reset(); vw(VMCS_GUEST_RIP, 0xFFFF800000000000ULL); PASSES();
	reset_as(G32); vw(VMCS_GUEST_RIP, 1ULL << 32); FAILS();
	/* Compatibility mode (IA-32e, CS.L = 0): bits 63:32 zero too. */
	reset(); andnot_field(VMCS_GUEST_CS_AR_BYTES, AR_L); or_field(VMCS_GUEST_CS_AR_BYTES, AR_DB);
	PASSES();
	vw(VMCS_GUEST_RIP, 1ULL << 32); FAILS();
	/* RFLAGS: reserved 63:22, 15, 5, 3 zero; bit 1 set. */
	reset(); or_field(VMCS_GUEST_RFLAGS, BIT(22)); FAILS();
	reset(); or_field(VMCS_GUEST_RFLAGS, BIT(15)); FAILS();
	reset(); or_field(VMCS_GUEST_RFLAGS, BIT(5)); FAILS();
	reset(); or_field(VMCS_GUEST_RFLAGS, BIT(3)); FAILS();
	reset(); vw(VMCS_GUEST_RFLAGS, 0); FAILS();
	/* RFLAGS.VM = 0 with CR0.PE = 0. */
	reset_as(GREAL); or_field(VMCS_GUEST_RFLAGS, RFLAGS_VM); FAILS();
	/* Injecting an external interrupt needs IF = 1. */
	reset(); vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_EXT_INTR, 0x40)); FAILS();
	or_field(VMCS_GUEST_RFLAGS, RFLAGS_IF); PASSES();
}

/* SDM 28.3.1.5: activity and interruptibility state. */
static void test_activity(void)
{
	/* Supported activity states (IA32_VMX_MISC 8:6): HLT, wait-for-SIPI. */
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN); FAILS();
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, 4); FAILS();
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT); PASSES();
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI); PASSES();
	/* HLT needs SS.DPL = 0 (a CPL-3 guest: CS and SS at DPL/RPL 3). */
	reset();
	vw(VMCS_GUEST_CS_SELECTOR, SEL_UCODE64);
	or_field(VMCS_GUEST_CS_AR_BYTES, 3u << AR_DPL_SHIFT);
	vw(VMCS_GUEST_SS_SELECTOR, SEL_UDATA32);
	or_field(VMCS_GUEST_SS_AR_BYTES, 3u << AR_DPL_SHIFT);
	PASSES();
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT); FAILS();
	/* Blocking by STI or MOV SS needs the active state. */
	reset(); or_field(VMCS_GUEST_RFLAGS, RFLAGS_IF);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI); PASSES();
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT); FAILS();
	/* Events injected into HLT: external interrupt, NMI, #DB, #MC, MTF only. */
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_HW_EXCEPTION, EXC_DB)); PASSES();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_NMI, EXC_NMI)); PASSES();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_OTHER_EVENT, 0)); PASSES();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_HW_EXCEPTION, EXC_UD)); FAILS();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_SW_INTR, 0x80)); FAILS();
	/* Nothing may be injected into wait-for-SIPI. */
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_NMI, EXC_NMI)); FAILS();
}

static void test_interruptibility(void)
{
	/* Reserved bits 31:4 (bit 4, enclave interruption, needs SGX). */
	reset(); vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, BIT(4)); FAILS();
	/* Not both STI and MOV SS; STI only with IF = 1. */
	reset(); or_field(VMCS_GUEST_RFLAGS, RFLAGS_IF);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS);
	FAILS();
	reset(); vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI); FAILS();
	reset(); vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS); PASSES();
	/* External-interrupt injection: no STI or MOV SS blocking. */
	reset(); or_field(VMCS_GUEST_RFLAGS, RFLAGS_IF);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_EXT_INTR, 0x40));
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI); FAILS();
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS); FAILS();
	/* NMI injection: no MOV SS blocking. */
	reset(); vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_NMI, EXC_NMI));
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS); FAILS();
	/* Blocking by SMI: never outside SMM. */
	reset(); vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI); FAILS();
	/* NMI injection with virtual NMIs: no blocking by NMI (it is virtual-NMI
	 * blocking then); without virtual NMIs it is allowed. */
	reset(); vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INFO(INTR_TYPE_NMI, EXC_NMI));
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI); PASSES();
	or_field(VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS); FAILS();
}

/* SDM 28.3.1.5: pending debug exceptions. */
static void test_pending_dbg(void)
{
	reset(); vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x500F); PASSES(); /* B0-3 BP BS */
	reset(); vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, BIT(4)); FAILS();
	reset(); vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, BIT(13)); FAILS();
	reset(); vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, BIT(16)); FAILS(); /* no RTM */
	/* With STI/MOV SS blocking or HLT: BS = 1 iff TF = 1 and DEBUGCTL.BTF = 0. */
	reset(); vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS);
	or_field(VMCS_GUEST_RFLAGS, RFLAGS_TF); FAILS();
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS); PASSES();
	vw(VMCS_GUEST_IA32_DEBUGCTL, BIT(1)); FAILS(); /* BTF */
	reset(); vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_HLT);
	vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS); FAILS();
	/* Active, no blocking: BS is free. */
	reset(); vw(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS); PASSES();
}

/* SDM 28.3.1.5: the VMCS link pointer, qualification 4 (SDM 28.8). */
static void test_link_pointer(void)
{
	uint64_t q;
	reset(); vw(VMCS_VMCS_LINK_POINTER, 0x68000);
	*ram32(0x68000) = VMX_REVISION_ID; PASSES();
	*ram32(0x68000) = VMX_REVISION_ID | BIT(31); FAILS_Q(ENTRY_QUAL_VMCS_LINK);
	*ram32(0x68000) = VMX_REVISION_ID + 1; FAILS_Q(ENTRY_QUAL_VMCS_LINK);
	*ram32(0x68000) = VMX_REVISION_ID;
	vw(VMCS_VMCS_LINK_POINTER, 0x68800); FAILS_Q(ENTRY_QUAL_VMCS_LINK);
	vw(VMCS_VMCS_LINK_POINTER, 1ULL << CPU_MAXPHYADDR); FAILS_Q(ENTRY_QUAL_VMCS_LINK);
	/* Not the current-VMCS pointer (a software VMM's VMCS at 68000H). */
	vw(VMCS_VMCS_LINK_POINTER, 0x68000);
	C->vmx.current_ptr = 0x68000;
	CHECK(!vmx_check_guest_state(C, V, &q));
	CHECK_EQ(q, ENTRY_QUAL_VMCS_LINK);
	C->vmx.current_ptr = VMX_NO_VMCS;
	CHECK(vmx_check_guest_state(C, V, &q));
	vw(VMCS_VMCS_LINK_POINTER, 0x68800);
	/* A check on other guest state is reported with qualification 0 even when the
	 * link pointer is invalid too (this silicon checks it last but the PDPTEs). */
	andnot_field(VMCS_GUEST_CR0, CR0_NE); FAILS();
}

/* SDM 28.3.1.6: PAE paging outside IA-32e mode, qualification 2 (SDM 28.8). */
static void test_pdptes(void)
{
	/* Without EPT: the PDPTEs at CR3. */
	reset_as(G32PAE); PASSES();
	*ram64(VMX_PDPT_BASE + 8) = 0x70000 | 1 | BIT(5); FAILS_Q(ENTRY_QUAL_PDPTE);
	*ram64(VMX_PDPT_BASE + 8) = 0x70000 | BIT(5); PASSES(); /* not present */
	*ram64(VMX_PDPT_BASE + 8) = 0x70000 | 1 | (1ULL << CPU_MAXPHYADDR);
	FAILS_Q(ENTRY_QUAL_PDPTE);
	*ram64(VMX_PDPT_BASE + 8) = 0;
	/* With EPT: the guest PDPTE fields, not memory. */
	reset_as(G32PAE);
	vmcs_set_proc2(PROC2_ENABLE_EPT);
	vw(VMCS_EPT_POINTER, vmx_ept_identity());
	vw(VMCS_GUEST_PDPTR0, (VMX_PDPT_BASE + PAGE_SIZE) | 1);
	PASSES();
	vw(VMCS_GUEST_PDPTR3, 0x71000 | 1 | BIT(2)); FAILS_Q(ENTRY_QUAL_PDPTE);
	vw(VMCS_GUEST_PDPTR3, 0);
	*ram64(VMX_PDPT_BASE + 16) = 0x70000 | 1 | BIT(6); PASSES();
	*ram64(VMX_PDPT_BASE + 16) = 0;
}

int main(void)
{
	vmx_init();
	/* Should an entry succeed where a test expects a failure, the guest halts at
	 * once (HLT exiting, exit reason 12) instead of running whatever is there. */
	B.ram[CODE_BASE] = 0xF4;
	test_regs();
	test_seg_sel_base();
	test_seg_ar();
	test_seg_special();
	test_dtrs();
	test_rip_rflags();
	test_activity();
	test_interruptibility();
	test_pending_dbg();
	test_link_pointer();
	test_pdptes();
	return report("vmx_entry_guest");
}
