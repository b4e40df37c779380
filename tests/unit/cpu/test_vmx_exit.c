/*
 * VM exits (SDM ch.29): the exit-information fields (29.2), the guest state saved
 * (29.3), the VM-exit MSR-store and MSR-load lists (29.4, 29.6) and VMX abort (29.7),
 * the host state a software VMM gets back (29.5), and guests run to their exit
 * through vmx_vmlaunch()/vmx_vmresume() (vmx_run_native).
 *
 * The direct tests put the harness CPU in non-root operation by hand (vmcs_setup
 * guest state, then cpu->vmx.non_root) and call vmx_vmexit(), so that every saved
 * field can be compared with a known register value.
 */
#include "vmx_harness.h"

#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

#define MSR_LIST 0x60000ULL /* VM-exit MSR-store / MSR-load lists */
#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })

/* Non-root operation by hand, with the controls of the current VMCS. */
static void enter_by_hand(void)
{
	memset(&C->vmx.ctl, 0, sizeof(C->vmx.ctl));
	C->vmx.ctl.pin = (uint32_t)vr(VMCS_PIN_BASED_VM_EXEC_CONTROL);
	C->vmx.ctl.proc = (uint32_t)vr(VMCS_CPU_BASED_VM_EXEC_CONTROL);
	C->vmx.ctl.exit = (uint32_t)vr(VMCS_VM_EXIT_CONTROLS);
	C->vmx.ctl.entry = (uint32_t)vr(VMCS_VM_ENTRY_CONTROLS);
	C->cr0 |= CR0_NE;
	C->cr4 |= CR4_VMXE;
	C->vmx.non_root = true;
}

static void fresh(void)
{
	mode_long64(0);
	vmx_reset_cpu_and_vmcs();
	vmcs_setup_guest64();
}

/* SDM 29.3: every register the guest-state area holds, from distinct values. */
static void test_save_guest_state(void)
{
	fresh();
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1 | EXIT_HOST_ADDR_SPACE_SIZE |
					  EXIT_SAVE_DEBUG_CONTROLS | EXIT_SAVE_PAT |
					  EXIT_SAVE_EFER);
	vw(VMCS_VM_ENTRY_CONTROLS, VMX_ENTRY_MUST1 | ENTRY_LOAD_EFER); /* IA-32e bit clear */
	enter_by_hand();
	C->rip = 0x1234567;
	C->gpr[RSP] = 0x8765430;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_IF | RFLAGS_DF);
	C->cr3 = 0x10000;
	C->dr[7] = 0x400 | 0x3;
	C->debugctl = 0x1;
	C->pat = 0x0007040600070406ULL ^ 0x100;
	C->sysenter_cs = 0x10;
	C->sysenter_esp = 0xAAAA0000;
	C->sysenter_eip = 0xBBBB0000;
	C->seg[SEG_FS].base = 0xFFFF800000001000ULL;
	C->seg[SEG_GS].base = 0x7000;
	C->gdtr = (struct dtr){ 0x1111000, 0x7F };
	C->idtr = (struct dtr){ 0x2222000, 0xFFF };
	C->ldtr = (struct seg){ .sel = 0x50, .ar = 0x82, .limit = 0x77, .base = 0x9000 };
	struct vmx_exit_info info = { .reason = EXIT_REASON_CPUID, .insn_len = 2 };
	vmx_vmexit(C, &info);
	CHECK(!C->vmx.non_root);
	CHECK(C->vmx.exit_pending); /* native VMM: vmx_run_native() returns (29.1) */
	CHECK(C->events & CPU_EV_VMEXIT);
	C->events &= ~CPU_EV_VMEXIT;
	C->vmx.exit_pending = false;
	/* SDM 29.3.1 control and debug registers, MSRs */
	CHECK_EQ(vr(VMCS_GUEST_CR0), C->cr0);
	CHECK_EQ(vr(VMCS_GUEST_CR3), 0x10000);
	CHECK_EQ(vr(VMCS_GUEST_CR4), C->cr4);
	CHECK_EQ(vr(VMCS_GUEST_DR7), 0x403);
	CHECK_EQ(vr(VMCS_GUEST_IA32_DEBUGCTL), 1);
	CHECK_EQ(vr(VMCS_GUEST_IA32_PAT), 0x0007040600070406ULL ^ 0x100);
	CHECK_EQ(vr(VMCS_GUEST_IA32_EFER), C->efer);
	CHECK_EQ(vr(VMCS_GUEST_SYSENTER_CS), 0x10);
	CHECK_EQ(vr(VMCS_GUEST_SYSENTER_ESP), 0xAAAA0000);
	CHECK_EQ(vr(VMCS_GUEST_SYSENTER_EIP), 0xBBBB0000);
	/* IA32_VMX_MISC[5]: "IA-32e mode guest" <- EFER.LMA (1 here). */
	CHECK(vr(VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE);
	/* SDM 29.3.2 segments in the access-rights layout, descriptor tables */
	CHECK_EQ(vr(VMCS_GUEST_CS_SELECTOR), C->seg[SEG_CS].sel);
	CHECK_EQ(vr(VMCS_GUEST_CS_AR_BYTES), C->seg[SEG_CS].ar);
	CHECK_EQ(vr(VMCS_GUEST_SS_LIMIT), C->seg[SEG_SS].limit);
	CHECK_EQ(vr(VMCS_GUEST_FS_BASE), 0xFFFF800000001000ULL);
	CHECK_EQ(vr(VMCS_GUEST_GS_BASE), 0x7000);
	CHECK_EQ(vr(VMCS_GUEST_TR_SELECTOR), SEL_TSS);
	CHECK_EQ(vr(VMCS_GUEST_TR_AR_BYTES), C->tr.ar);
	CHECK_EQ(vr(VMCS_GUEST_LDTR_SELECTOR), 0x50);
	CHECK_EQ(vr(VMCS_GUEST_LDTR_AR_BYTES), 0x82);
	CHECK_EQ(vr(VMCS_GUEST_LDTR_LIMIT), 0x77);
	CHECK_EQ(vr(VMCS_GUEST_LDTR_BASE), 0x9000);
	CHECK_EQ(vr(VMCS_GUEST_GDTR_BASE), 0x1111000);
	CHECK_EQ(vr(VMCS_GUEST_GDTR_LIMIT), 0x7F);
	CHECK_EQ(vr(VMCS_GUEST_IDTR_BASE), 0x2222000);
	CHECK_EQ(vr(VMCS_GUEST_IDTR_LIMIT), 0xFFF);
	/* SDM 29.3.3 RIP, RSP, RFLAGS */
	CHECK_EQ(vr(VMCS_GUEST_RIP), 0x1234567);
	CHECK_EQ(vr(VMCS_GUEST_RSP), 0x8765430);
	CHECK_EQ(vr(VMCS_GUEST_RFLAGS), RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_IF | RFLAGS_DF);
	/* SDM 29.3.4: active, no blocking, nothing pending */
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);

	/* Without the save controls, DR7/DEBUGCTL, PAT and EFER are left alone; an exit
	 * from a guest with EFER.LMA = 0 clears "IA-32e mode guest". */
	fresh();
	vw(VMCS_GUEST_DR7, 0x400);
	vw(VMCS_GUEST_IA32_PAT, 0x0606060606060606ULL);
	vw(VMCS_GUEST_IA32_EFER, 0x500);
	enter_by_hand();
	C->dr[7] = 0x401;
	C->efer = 0;
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_GUEST_DR7), 0x400);
	CHECK_EQ(vr(VMCS_GUEST_IA32_PAT), 0x0606060606060606ULL);
	CHECK_EQ(vr(VMCS_GUEST_IA32_EFER), 0x500);
	CHECK(!(vr(VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE));
	C->dr[7] = 0x400;
}

/* SDM 29.3.4: activity state, interruptibility state, pending debug exceptions. */
static void test_save_non_register_state(void)
{
	fresh();
	enter_by_hand();
	C->halted = true;
	C->intr_shadow = 1;
	C->intr_shadow_kind = SHADOW_MOVSS;
	C->nmi_blocked = true;
	C->dr[7] = 0x400 | 0x4; /* L1: breakpoint 1 enabled */
	C->dbg.pending = DR6_B(1) | DR6_BS;
	C->events |= CPU_EV_DBTRAP;
	struct vmx_exit_info info = { .reason = EXIT_REASON_EXTERNAL_INTERRUPT };
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI);
	/* Table 26-4: B1, BS, and bit 12 for an enabled breakpoint. */
	CHECK_EQ(vr(VMCS_GUEST_PENDING_DBG_EXCEPTIONS),
		 DR6_B(1) | PENDING_DBG_BS | PENDING_DBG_ENABLED_BP);
	CHECK(!(C->events & CPU_EV_DBTRAP)); /* moved into the VMCS, not delivered */
	CHECK(!C->halted);                     /* native: no CPU state left running */
	C->dr[7] = 0x400;

	fresh();
	enter_by_hand();
	C->wait_for_sipi = true;
	C->intr_shadow = 1;
	C->intr_shadow_kind = SHADOW_STI;
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_WAIT_SIPI);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_STI);

	/* With virtual NMIs, bit 3 is virtual-NMI blocking (Table 26-3). */
	fresh();
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, VMX_PIN_MUST1 | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	enter_by_hand();
	C->nmi_blocked = false;
	C->vmx.virtual_nmi_blocked = true;
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_NMI);
	CHECK(!C->vmx.virtual_nmi_blocked);
}

/* SDM 29.2: the exit-information fields. */
static void test_exit_information(void)
{
	fresh();
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x20);
	enter_by_hand();
	C->vmx.vectoring_info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 |
				INTR_INFO_DELIVER_CODE | EXC_GP;
	C->vmx.vectoring_error = 0x18;
	struct vmx_exit_info info = {
		.reason = EXIT_REASON_EPT_VIOLATION, .qualification = 0x182,
		.guest_linear = 0xFFFF800000123456ULL, .guest_physical = 0x123456,
		.intr_info = 0, .insn_len = 0, .insn_info = 0,
	};
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_VM_EXIT_REASON), EXIT_REASON_EPT_VIOLATION);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), 0x182);
	CHECK_EQ(vr(VMCS_GUEST_LINEAR_ADDRESS), 0xFFFF800000123456ULL);
	CHECK_EQ(vr(VMCS_GUEST_PHYSICAL_ADDRESS), 0x123456);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), 0);            /* 29.2.2: invalid */
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD),         /* 29.2.4 */
		 INTR_INFO_VALID | 3 << 8 | INTR_INFO_DELIVER_CODE | EXC_GP);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_ERROR_CODE), 0x18);
	/* 29.2: the VM-entry interruption information's valid bit is cleared. */
	CHECK_EQ(vr(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x20);
	CHECK_EQ(C->vmx.vectoring_info, 0);

	/* SDM 29.3.3: an EPT violation outside event delivery saves RF = 1; during the
	 * delivery of a software interrupt, RF as that frame would hold it (0 here). */
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF); /* the #GP being delivered: a fault */
	fresh();
	enter_by_hand();
	info = (struct vmx_exit_info){ .reason = EXIT_REASON_EPT_VIOLATION };
	vmx_vmexit(C, &info);
	CHECK(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
	fresh();
	enter_by_hand();
	C->vmx.vectoring_info = INTR_INFO_VALID | INTR_TYPE_SW_INTR << 8 | 0x80;
	C->next_rip = C->rip + 2;
	vmx_vmexit(C, &info);
	CHECK(!(vr(VMCS_GUEST_RFLAGS) & RFLAGS_RF));
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 2); /* SDM 29.2.5: the INT's length */

	/* An instruction exit: length and instruction information (29.2.5). */
	fresh();
	enter_by_hand();
	info = (struct vmx_exit_info){ .reason = EXIT_REASON_VMREAD, .insn_len = 3,
				       .insn_info = 0x12345678, .intr_info = 0 };
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 3);
	CHECK_EQ(vr(VMCS_VMX_INSTRUCTION_INFO), 0x12345678);
	CHECK_EQ(vr(VMCS_IDT_VECTORING_INFO_FIELD), 0);

	/* A vectored event with an error code (29.2.2). */
	fresh();
	enter_by_hand();
	info = (struct vmx_exit_info){
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = INTR_INFO_VALID | 3 << 8 | INTR_INFO_DELIVER_CODE | EXC_PF,
		.intr_error = 0x6, .qualification = 0xDEAD000,
	};
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | 3 << 8 | INTR_INFO_DELIVER_CODE | 14);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_ERROR_CODE), 6);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), 0xDEAD000);

	/* SDM 28.8: a VM-entry failure writes the reason (bit 31) and qualification
	 * only: no guest state, no other information, entry info still valid. */
	fresh();
	vw(VMCS_GUEST_RIP, 0x5555);
	vw(VMCS_VM_EXIT_INSTRUCTION_LEN, 7);
	vw(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | 0x21);
	C->rip = 0x9999;
	info = (struct vmx_exit_info){
		.reason = EXIT_REASON_INVALID_STATE | EXIT_REASON_ENTRY_FAILURE,
		.qualification = 4, .insn_len = 3,
	};
	vmx_vmexit(C, &info);
	CHECK_EQ(vr(VMCS_VM_EXIT_REASON), 0x80000021);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), 4);
	CHECK_EQ(vr(VMCS_GUEST_RIP), 0x5555);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 7);
	CHECK_EQ(vr(VMCS_VM_ENTRY_INTR_INFO_FIELD), INTR_INFO_VALID | 0x21);
}

static void put_msr_entry(gpa_t list, int i, uint32_t index, uint32_t reserved, uint64_t data)
{
	*ram32(list + 16 * (uint64_t)i) = index;
	*ram32(list + 16 * (uint64_t)i + 4) = reserved;
	*ram64(list + 16 * (uint64_t)i + 8) = data;
}

/* SDM 29.4: the VM-exit MSR-store list; a bad entry is VMX abort 1 (29.7). */
static void test_msr_store(void)
{
	fresh();
	put_msr_entry(MSR_LIST, 0, MSR_IA32_SYSENTER_ESP, 0, 0);
	put_msr_entry(MSR_LIST, 1, MSR_IA32_STAR, 0, 0);
	vw(VMCS_VM_EXIT_MSR_STORE_ADDR, MSR_LIST);
	vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 2);
	enter_by_hand();
	C->sysenter_esp = 0x12345678;
	C->star = 0x0023001000000000ULL;
	struct vmx_exit_info info = { .reason = EXIT_REASON_CPUID };
	vmx_vmexit(C, &info);
	CHECK_EQ(*ram64(MSR_LIST + 8), 0x12345678);
	CHECK_EQ(*ram64(MSR_LIST + 24), 0x0023001000000000ULL);
	CHECK(!C->shutdown);
	CHECK_EQ(V->abort, 0);

	/* Reserved bits 63:32 of an entry: abort with indicator 1. */
	fresh();
	put_msr_entry(MSR_LIST, 0, MSR_IA32_STAR, 1, 0);
	vw(VMCS_VM_EXIT_MSR_STORE_ADDR, MSR_LIST);
	vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
	enter_by_hand();
	vmx_vmexit(C, &info);
	CHECK_EQ(V->abort, 1);
	CHECK(C->shutdown);
	CHECK(!C->vmx.exit_pending);
	/* IA32_SMBASE cannot be stored; an MSR that does not exist neither. */
	int bad[] = { 0x9E, 0x12345 };
	for (int i = 0; i < 2; i++) {
		fresh();
		put_msr_entry(MSR_LIST, 0, (uint32_t)bad[i], 0, 0);
		vw(VMCS_VM_EXIT_MSR_STORE_ADDR, MSR_LIST);
		vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
		enter_by_hand();
		vmx_vmexit(C, &info);
		CHECK_EQ(V->abort, 1);
	}
	fresh();
}

/* SDM 29.4: the list gets the MSR's value. IA32_TSC is stored without the TSC offset
 * the guest's RDMSR would add (SDM 27.3 RDMSR is what changes in non-root operation,
 * not the MSR). A guest with TSC offsetting (offset 2^40) exits at CPUID. */
static void test_msr_store_tsc(void)
{
	fresh();
	put_bytes(CODE_BASE, BYTES(0x90, 0x0F, 0xA2), 3); /* nop; cpuid */
	put_msr_entry(MSR_LIST, 0, MSR_IA32_TSC, 0, 0);
	vw(VMCS_VM_EXIT_MSR_STORE_ADDR, MSR_LIST);
	vw(VMCS_VM_EXIT_MSR_STORE_COUNT, 1);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL,
	   vr(VMCS_CPU_BASED_VM_EXEC_CONTROL) | PROC_USE_TSC_OFFSETTING);
	vw(VMCS_TSC_OFFSET, 1ULL << 40);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_CPUID);
	uint64_t stored = *ram64(MSR_LIST + 8), tsc = cpu_read_tsc(C);
	CHECK(stored <= tsc);
	CHECK(tsc - stored < 100);
	CHECK_EQ(V->abort, 0);
	fresh();
}

/* SDM 29.3.4: with "enable EPT" and PAE paging, the PDPTEs in use are saved in the
 * guest PDPTE fields. The 32-bit PAE guest enters with the fields' PDPTEs (SDM
 * 28.3.2.4: PDPTE0 only), then loads another table with MOV CR3 and exits at CPUID:
 * the fields hold the new table. In IA-32e mode they are left alone. */
#define NEW_PDPT (VMX_PDPT_BASE + 0x800) /* in the PDPT page, past the guest's PDPT */
static void test_save_pdptes(void)
{
	const uint64_t pd = (VMX_PDPT_BASE + PAGE_SIZE) | 1;
	fresh();
	vmcs_setup_guest32(true);
	vmcs_set_proc2(PROC2_ENABLE_EPT);
	vw(VMCS_EPT_POINTER, vmx_ept_identity());
	vw(VMCS_GUEST_PDPTR0, pd);
	const uint64_t table[4] = { pd, pd, 0, pd };
	put_bytes(NEW_PDPT, table, sizeof(table));
	/* mov eax, NEW_PDPT; mov cr3, eax; cpuid */
	put_bytes(CODE_BASE, BYTES(0xB8, (uint8_t)NEW_PDPT, (uint8_t)(NEW_PDPT >> 8),
				   (uint8_t)(NEW_PDPT >> 16), 0, 0x0F, 0x22, 0xD8, 0x0F, 0xA2),
		  10);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_CPUID);
	CHECK_EQ(vr(VMCS_GUEST_CR3), NEW_PDPT);
	CHECK_EQ(vr(VMCS_GUEST_PDPTR0), pd);
	CHECK_EQ(vr(VMCS_GUEST_PDPTR1), pd);
	CHECK_EQ(vr(VMCS_GUEST_PDPTR2), 0);
	CHECK_EQ(vr(VMCS_GUEST_PDPTR3), pd);

	/* A 64-bit guest with EPT: no PDPTEs in use, the fields stay as they were. */
	fresh();
	vmcs_set_proc2(PROC2_ENABLE_EPT);
	vw(VMCS_EPT_POINTER, vmx_ept_identity());
	vw(VMCS_GUEST_PDPTR1, 0x5000 | 1);
	put_bytes(CODE_BASE, BYTES(0x0F, 0xA2), 2);
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_CPUID);
	CHECK_EQ(vr(VMCS_GUEST_PDPTR1), 0x5000 | 1);
	fresh();
}

/* A software VMM's host-state area (SDM 29.5: the values a VMM would have). */
static void setup_host_state(void)
{
	vw(VMCS_HOST_CR0, CR0_PE | CR0_NE | CR0_PG | CR0_WP | CR0_MP | CR0_ET);
	vw(VMCS_HOST_CR3, 0x10000);
	vw(VMCS_HOST_CR4, CR4_PAE | CR4_VMXE | CR4_PGE);
	vw(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	vw(VMCS_HOST_SS_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_DS_SELECTOR, 0);
	vw(VMCS_HOST_ES_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_FS_SELECTOR, 0);
	vw(VMCS_HOST_GS_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vw(VMCS_HOST_FS_BASE, 0xF5000);
	vw(VMCS_HOST_GS_BASE, 0x65000);
	vw(VMCS_HOST_TR_BASE, TSS_BASE);
	vw(VMCS_HOST_GDTR_BASE, GDT_BASE);
	vw(VMCS_HOST_IDTR_BASE, IDT_BASE);
	vw(VMCS_HOST_IA32_SYSENTER_CS, 0x8);
	vw(VMCS_HOST_IA32_SYSENTER_ESP, 0x7777);
	vw(VMCS_HOST_IA32_SYSENTER_EIP, 0x8888);
	vw(VMCS_HOST_RSP, 0x7F00);
	vw(VMCS_HOST_RIP, 0x21000);
	vw(VMCS_HOST_IA32_PAT, 0x0000000000070406ULL);
	vw(VMCS_HOST_IA32_EFER, EFER_LME | EFER_LMA | EFER_SCE);
}

/* SDM 29.5: loading the host state for a software VMM. */
static void test_host_state(void)
{
	fresh();
	setup_host_state();
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_PAT |
					  EXIT_LOAD_EFER);
	enter_by_hand();
	C->vmx.host = VMX_HOST_SOFTWARE;
	/* As an unrestricted guest may leave it: paging off. */
	C->cr0 = (C->cr0 | CR0_TS | CR0_AM) & ~(uint64_t)CR0_PG;
	C->dr[7] = 0x401;
	C->debugctl = 1;
	C->efer &= ~EFER_SCE;
	C->ldtr = (struct seg){ .sel = 0x50, .ar = 0x82, .limit = 0x77, .base = 0x9000 };
	C->halted = true;
	C->intr_shadow = 1;
	C->intr_shadow_kind = SHADOW_STI;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_ZF);
	struct vmx_exit_info info = { .reason = EXIT_REASON_CPUID, .insn_len = 2 };
	vmx_vmexit(C, &info);
	CHECK(!C->vmx.non_root);
	CHECK(!C->vmx.exit_pending);
	CHECK(!(C->events & CPU_EV_VMEXIT));
	/* 29.5.1: CR0 loads MP, EM, TS, WP, AM (TS and AM cleared here); PE, NE, PG are
	 * fixed to 1 in VMX root operation (25.8). CR4.VMXE stays 1, PAE with a 64-bit
	 * host. */
	CHECK_EQ(C->cr0 & (CR0_TS | CR0_AM | CR0_MP | CR0_WP), CR0_MP | CR0_WP);
	CHECK_EQ(C->cr0 & (CR0_PE | CR0_NE | CR0_PG), CR0_PE | CR0_NE | CR0_PG);
	CHECK_EQ(C->cr3, 0x10000);
	CHECK_EQ(C->cr4, CR4_PAE | CR4_VMXE | CR4_PGE);
	CHECK_EQ(C->dr[7], 0x400);
	CHECK_EQ(C->debugctl, 0);
	CHECK_EQ(C->sysenter_cs, 8);
	CHECK_EQ(C->sysenter_esp, 0x7777);
	CHECK_EQ(C->sysenter_eip, 0x8888);
	CHECK_EQ(C->pat, 0x70406);
	CHECK_EQ(C->efer, EFER_LME | EFER_LMA | EFER_SCE);
	/* 29.5.2: CS type 11, S, DPL 0, P, L (64-bit host), G, limit 4 GiB, base 0 */
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE64);
	CHECK_EQ(C->seg[SEG_CS].ar, 0xB | AR_S | AR_P | AR_L | AR_G);
	CHECK_EQ(C->seg[SEG_CS].limit, 0xFFFFFFFF);
	CHECK_EQ(C->seg[SEG_CS].base, 0);
	CHECK_EQ(C->seg[SEG_SS].ar, 0x3 | AR_S | AR_P | AR_DB | AR_G);
	CHECK_EQ(C->seg[SEG_ES].limit, 0xFFFFFFFF);
	CHECK(C->seg[SEG_DS].ar & AR_UNUSABLE); /* null selector: unusable */
	CHECK(C->seg[SEG_FS].ar & AR_UNUSABLE);
	CHECK_EQ(C->seg[SEG_FS].base, 0xF5000); /* FS/GS base loaded regardless */
	CHECK_EQ(C->seg[SEG_GS].base, 0x65000);
	CHECK_EQ(C->seg[SEG_GS].ar, 0x3 | AR_S | AR_P | AR_DB | AR_G);
	CHECK_EQ(C->tr.sel, SEL_TSS);
	CHECK_EQ(C->tr.ar, 0xB | AR_P); /* busy TSS, S = 0, G = 0 */
	CHECK_EQ(C->tr.limit, 0x67);
	CHECK_EQ(C->tr.base, TSS_BASE);
	CHECK_EQ(C->ldtr.sel, 0);
	CHECK(C->ldtr.ar & AR_UNUSABLE);
	CHECK_EQ(C->gdtr.base, GDT_BASE);
	CHECK_EQ(C->gdtr.limit, 0xFFFF);
	CHECK_EQ(C->idtr.base, IDT_BASE);
	CHECK_EQ(C->idtr.limit, 0xFFFF);
	/* 29.5.3: RIP, RSP, RFLAGS = 2; CPL 0, 64-bit mode; active, no shadow */
	CHECK_EQ(C->rip, 0x21000);
	CHECK_EQ(C->gpr[RSP], 0x7F00);
	CHECK_EQ(cpu_get_rflags(C), 2);
	CHECK_EQ(C->cpl, 0);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK(!C->halted);
	CHECK_EQ(C->intr_shadow, 0);
	/* The guest was saved before: RFLAGS with ZF, activity HLT, STI blocking. */
	CHECK_EQ(VMCS_GET(V, GUEST_RFLAGS), RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_ZF);
	CHECK_EQ(VMCS_GET(V, GUEST_ACTIVITY_STATE), ACTIVITY_HLT);
	CHECK_EQ(VMCS_GET(V, GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_STI);

	/* An NMI exit leaves NMIs blocked in the VMM; other exits do not block them. */
	fresh();
	setup_host_state();
	enter_by_hand();
	C->vmx.host = VMX_HOST_SOFTWARE;
	info = (struct vmx_exit_info){
		.reason = EXIT_REASON_EXCEPTION_NMI,
		.intr_info = INTR_INFO_VALID | INTR_TYPE_NMI << 8 | EXC_NMI,
	};
	vmx_vmexit(C, &info);
	CHECK(C->nmi_blocked);
	fresh();
	setup_host_state();
	enter_by_hand();
	C->vmx.host = VMX_HOST_SOFTWARE;
	info = (struct vmx_exit_info){ .reason = EXIT_REASON_CPUID };
	vmx_vmexit(C, &info);
	CHECK(!C->nmi_blocked);
	C->vmx.host = VMX_HOST_NATIVE;
}

/* SDM 29.6: the VM-exit MSR-load list; FS_BASE cannot be loaded: abort 4 (29.7). */
static void test_msr_load(void)
{
	fresh();
	setup_host_state();
	put_msr_entry(MSR_LIST, 0, MSR_IA32_STAR, 0, 0x0013000800000000ULL);
	put_msr_entry(MSR_LIST, 1, MSR_IA32_KERNEL_GS_BASE, 0, 0xFFFF800000007000ULL);
	vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, MSR_LIST);
	vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 2);
	enter_by_hand();
	C->vmx.host = VMX_HOST_SOFTWARE;
	struct vmx_exit_info info = { .reason = EXIT_REASON_CPUID };
	vmx_vmexit(C, &info);
	CHECK_EQ(C->star, 0x0013000800000000ULL);
	CHECK_EQ(C->kernel_gs_base, 0xFFFF800000007000ULL);
	CHECK_EQ(V->abort, 0);
	CHECK(!C->shutdown);

	uint32_t bad[][2] = { { MSR_IA32_FS_BASE, 0 }, { MSR_IA32_GS_BASE, 0 },
			      { MSR_IA32_STAR, 2 } /* reserved bits */ };
	for (int i = 0; i < 3; i++) {
		fresh();
		setup_host_state();
		put_msr_entry(MSR_LIST, 0, bad[i][0], bad[i][1], 0);
		vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, MSR_LIST);
		vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
		enter_by_hand();
		C->vmx.host = VMX_HOST_SOFTWARE;
		vmx_vmexit(C, &info);
		CHECK_EQ(V->abort, 4);
		CHECK(C->shutdown);
	}
	/* The native VMM has no host state: the MSR-load list is not processed. */
	fresh();
	put_msr_entry(MSR_LIST, 0, MSR_IA32_FS_BASE, 0, 0);
	vw(VMCS_VM_EXIT_MSR_LOAD_ADDR, MSR_LIST);
	vw(VMCS_VM_EXIT_MSR_LOAD_COUNT, 1);
	enter_by_hand();
	vmx_vmexit(C, &info);
	CHECK_EQ(V->abort, 0);
	CHECK(!C->shutdown);
	C->vmx.host = VMX_HOST_NATIVE;
	fresh();
}

/* A whole guest through vmx_vmlaunch(): an instruction exit and a VMX abort through
 * the native API (vmx_run_native). */
static void test_launch(void)
{
	fresh();
	/* mov ebx, 0x1234; cpuid; hlt */
	put_bytes(CODE_BASE, BYTES(0xBB, 0x34, 0x12, 0, 0, 0x0F, 0xA2, 0xF4), 8);
	enum vmx_result r = vmx_vmlaunch(C);
	CHECK_EQ(r, VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_CPUID); /* SDM 27.1.2: CPUID always exits */
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 5);
	CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK(!C->vmx.non_root);
	CHECK(!C->vmx.exit_pending);
	CHECK_EQ(C->gpr[RBX], 0x1234);
	vw(VMCS_GUEST_RIP, CODE_BASE + 7);
	r = vmx_vmresume(C);
	CHECK_EQ(r, VMX_SUCCEED);
	CHECK_EQ(exit_reason(), EXIT_REASON_HLT);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + 7);

	/* HLT without HLT exiting and nothing to wake the guest: VMX_STOPPED. */
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1);
	r = vmx_vmresume(C);
	CHECK_EQ(r, VMX_STOPPED);
	CHECK(C->vmx.non_root);
	CHECK(C->halted);
}

/* A software VMM end to end: VMLAUNCH executed on the silicon, the guest's CPUID
 * exits, the host state is loaded (SDM 29.5) and the VMM runs on at HOST_RIP. */
static void test_software_vmm(void)
{
	fresh();
	setup_host_state();
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1 | EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER |
					  EXIT_LOAD_PAT);
	put_bytes(CODE_BASE, BYTES(0x90, 0x0F, 0xA2), 3);   /* guest: nop; cpuid */
	put_bytes(0x21000, BYTES(0xF4, 0x0F, 0x01, 0xC3), 4); /* VMM: hlt; vmresume */
	put_bytes(0x22000, BYTES(0x0F, 0x01, 0xC2), 3);     /* VMM: vmlaunch */
	C->cr0 |= CR0_NE;
	C->cr4 |= CR4_VMXE;
	C->vmx.host = VMX_HOST_SOFTWARE;
	C->rip = 0x22000;
	enum cpu_exit why = cpu_run(C, 1000);
	CHECK_EQ(why, CPU_EXIT_HALTED);
	CHECK(!C->vmx.non_root);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(VMCS_GET(V, GUEST_RIP), CODE_BASE + 1);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_INSTRUCTION_LEN), 2);
	CHECK_EQ(C->rip, 0x21001);
	CHECK_EQ(C->gpr[RSP], 0x7F00);
	CHECK_EQ(C->seg[SEG_CS].sel, SEL_CODE64);
	CHECK_EQ(C->mode, MODE_LONG64);
	/* An exit in a MOV-SS shadow (mov ax, ss; mov ss, ax; cpuid): saved in the VMCS,
	 * and nothing of it is left for the VMM, whose VMRESUME (not "blocked by MOV
	 * SS", SDM 32.3) runs the guest on to its next CPUID. */
	put_bytes(CODE_BASE, BYTES(0x8C, 0xD0, 0x8E, 0xD0, 0x0F, 0xA2, 0x0F, 0xA2), 8);
	VMCS_SET(V, GUEST_RIP, CODE_BASE);
	C->halted = false;
	C->rip = 0x21001;
	CHECK_EQ(cpu_run(C, 1000), CPU_EXIT_HALTED);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(VMCS_GET(V, GUEST_RIP), CODE_BASE + 4);
	CHECK_EQ(VMCS_GET(V, GUEST_INTERRUPTIBILITY_INFO), INTERRUPTIBILITY_MOV_SS);
	VMCS_SET(V, GUEST_RIP, CODE_BASE + 6);
	VMCS_SET(V, GUEST_INTERRUPTIBILITY_INFO, 0);
	C->halted = false;
	C->rip = 0x21001;
	CHECK_EQ(cpu_run(C, 1000), CPU_EXIT_HALTED);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_CPUID);
	CHECK_EQ(VMCS_GET(V, GUEST_RIP), CODE_BASE + 6);
	CHECK_EQ(C->rip, 0x21001);
	C->halted = false;
	C->vmx.host = VMX_HOST_NATIVE;
	fresh();
}

int main(void)
{
	vmx_init();
	test_save_guest_state();
	test_save_non_register_state();
	test_exit_information();
	test_msr_store();
	test_msr_store_tsc();
	test_save_pdptes();
	test_host_state();
	test_msr_load();
	test_launch();
	test_software_vmm();
	return report("vmx_exit");
}
