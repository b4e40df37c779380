/*
 * Scaffolding for the VMX tests (test_vmx_*.c): the silicon driven through cpu/vmx.h
 * the way L0 drives it. vmx_init() builds the sys_harness machine (32 MiB RAM, GDT,
 * 64-bit TSS, identity paging of the first 64 MiB), enters native VMX operation and
 * makes a fresh VMCS current; vmcs_setup_guest64() fills it with a valid 64-bit guest
 * (the harness's own state: CPL 0, flat segments, RIP = CODE_BASE) and the minimum
 * controls, so that a test changes only what it is about (vmcs_setup_guest32() and
 * vmcs_setup_guest_real() for the other modes, vmcs_setup_host64() for the host-state
 * area a software VMM needs; vmcs_clear_fields() starts over). vmx_entry_succeeds()
 * is VM entry as one check. Header-only.
 */
#ifndef TURTLES_TESTS_VMX_HARNESS_H
#define TURTLES_TESTS_VMX_HARNESS_H

#include "sys_harness.h"

#include "cpu/dcache.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_caps.h"
#include "cpu/vmx/vmx_internal.h"

static struct dcache DC;
static struct vmcs *V;

/* VMWRITE/VMREAD that must succeed (a failure is a harness bug: abort loudly). */
static UNUSED void vw(uint32_t field, uint64_t value)
{
	if (vmx_vmwrite(C, field, value) != VMX_SUCCEED) {
		fprintf(stderr, "vmwrite 0x%x failed\n", field);
		exit(2);
	}
}

static UNUSED uint64_t vr(uint32_t field)
{
	uint64_t v = 0;
	if (vmx_vmread(C, field, &v) != VMX_SUCCEED) {
		fprintf(stderr, "vmread 0x%x failed\n", field);
		exit(2);
	}
	return v;
}

/* Start over with the current VMCS: every field zero, launch state clear (as after
 * VMCLEAR of a zeroed region). The caller then sets up a guest (vmcs_setup_guest*). */
static UNUSED void vmcs_clear_fields(void)
{
	memset(V->field, 0, sizeof(V->field));
	V->launch_state = VMCS_STATE_CLEAR;
}

/* Between test cases: the CPU back in native VMX root operation with no event, halt,
 * shadow or exit pending, and the current VMCS zeroed with its revision identifier (as
 * software prepares a region before VMPTRLD, SDM 26.2). The caller then sets up a
 * guest (vmcs_setup_guest*). */
static UNUSED void vmx_reset_cpu_and_vmcs(void)
{
	C->vmx.non_root = false;
	C->vmx.host = VMX_HOST_NATIVE;
	C->shutdown = C->halted = C->wait_for_sipi = false;
	C->events = 0;
	C->intr_shadow = 0;
	C->nmi_blocked = false;
	C->vmx.vectoring_info = 0;
	C->vmx.exit_pending = false;
	memset(V, 0, sizeof(*V));
	V->revision_id = VMX_REVISION_ID;
}

/* Copy bytes into guest RAM (guest-physical = host-side offset, no EPT). */
static UNUSED void put_bytes(gpa_t pa, const void *bytes, size_t n)
{
	if (bus_copy_to(&B, pa, bytes, n)) {
		fprintf(stderr, "put_bytes: 0x%llx is not RAM\n", (unsigned long long)pa);
		exit(2);
	}
}

static UNUSED void vmcs_put_seg(uint32_t sel_field, const struct seg *s)
{
	/* Encodings of one segment's selector, limit, AR and base are spaced alike
	 * (SDM App. B.1.2, B.3.3, B.4.3): ES 0x800/0x4800/0x4814/0x6806, then +2. */
	uint32_t i = sel_field - VMCS_GUEST_ES_SELECTOR;
	vw(sel_field, s->sel);
	vw(VMCS_GUEST_ES_LIMIT + i, s->limit);
	vw(VMCS_GUEST_ES_AR_BYTES + i, s->ar);
	vw(VMCS_GUEST_ES_BASE + i, s->base);
}

/* The harness CPU's current architectural state as a valid guest-state area (SDM
 * 28.3.1), and controls with every must-be-1 bit, HLT exiting, a 64-bit guest and a
 * 64-bit host. */
static UNUSED void vmcs_setup_guest64(void)
{
	mode_long64(0);
	C->gpr[RSP] = KSTACK_TOP;
	for (int s = 0; s < SEG_COUNT; s++)
		vmcs_put_seg(VMCS_GUEST_ES_SELECTOR + 2 * (uint32_t)s, &C->seg[s]);
	struct seg ldtr = { .ar = AR_UNUSABLE };
	vmcs_put_seg(VMCS_GUEST_LDTR_SELECTOR, &ldtr);
	vmcs_put_seg(VMCS_GUEST_TR_SELECTOR, &C->tr);
	vw(VMCS_GUEST_GDTR_BASE, C->gdtr.base);
	vw(VMCS_GUEST_GDTR_LIMIT, C->gdtr.limit);
	vw(VMCS_GUEST_IDTR_BASE, C->idtr.base);
	vw(VMCS_GUEST_IDTR_LIMIT, C->idtr.limit);
	vw(VMCS_GUEST_CR0, C->cr0 | CR0_NE);
	vw(VMCS_GUEST_CR3, C->cr3);
	vw(VMCS_GUEST_CR4, C->cr4 | CR4_VMXE);
	vw(VMCS_GUEST_DR7, 0x400);
	vw(VMCS_GUEST_RSP, C->gpr[RSP]);
	vw(VMCS_GUEST_RIP, CODE_BASE);
	vw(VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	vw(VMCS_GUEST_IA32_EFER, C->efer);
	vw(VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL);
	vw(VMCS_VMCS_LINK_POINTER, ~0ULL);
	vw(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vw(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vw(VMCS_PIN_BASED_VM_EXEC_CONTROL, VMX_PIN_MUST1);
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1 | PROC_HLT_EXITING);
	vw(VMCS_VM_EXIT_CONTROLS, VMX_EXIT_MUST1 | EXIT_HOST_ADDR_SPACE_SIZE);
	vw(VMCS_VM_ENTRY_CONTROLS, VMX_ENTRY_MUST1 | ENTRY_IA32E_MODE | ENTRY_LOAD_EFER);
	vw(VMCS_CR0_GUEST_HOST_MASK, 0);
	vw(VMCS_CR4_GUEST_HOST_MASK, 0);
}

/* The harness's own 64-bit state as the host-state area of a software VMM (SDM
 * 26.5, checked by 28.2.2-28.2.4), with exits going to rsp and rip. */
static UNUSED void vmcs_setup_host64(uint64_t rsp, uint64_t rip)
{
	vw(VMCS_HOST_CR0, C->cr0 | CR0_NE);
	vw(VMCS_HOST_CR3, C->cr3);
	vw(VMCS_HOST_CR4, C->cr4 | CR4_VMXE);
	vw(VMCS_HOST_CS_SELECTOR, SEL_CODE64);
	vw(VMCS_HOST_SS_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_DS_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_ES_SELECTOR, SEL_DATA32);
	vw(VMCS_HOST_FS_SELECTOR, 0);
	vw(VMCS_HOST_GS_SELECTOR, 0);
	vw(VMCS_HOST_TR_SELECTOR, SEL_TSS);
	vw(VMCS_HOST_TR_BASE, TSS_BASE);
	vw(VMCS_HOST_GDTR_BASE, GDT_BASE);
	vw(VMCS_HOST_IDTR_BASE, IDT_BASE);
	vw(VMCS_HOST_RSP, rsp);
	vw(VMCS_HOST_RIP, rip);
	vw(VMCS_HOST_IA32_EFER, C->efer);
	vw(VMCS_HOST_IA32_PAT, 0x0007040600070406ULL);
}

static UNUSED void vmx_init(void)
{
	sys_init();
	if (dcache_init(&DC, 10)) {
		fprintf(stderr, "cannot set up the decode cache\n");
		exit(2);
	}
	C->dcache = &DC;
	if (vmx_native_on(C) != VMX_SUCCEED || !(V = vmcs_alloc()) ||
	    vmx_vmclear(C, V) != VMX_SUCCEED || vmx_vmptrld(C, V) != VMX_SUCCEED) {
		fprintf(stderr, "cannot enter VMX operation\n");
		exit(2);
	}
	vmcs_setup_guest64();
}

/* Activate the secondary processor-based controls and set them to proc2. */
static UNUSED void vmcs_set_proc2(uint32_t proc2)
{
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, vr(VMCS_CPU_BASED_VM_EXEC_CONTROL) |
						   PROC_SECONDARY_CONTROLS);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
}

/* --- other guests: 32-bit protected mode, real mode with "unrestricted guest" ------ */

#define VMX_EPT_BASE 0x40000ULL  /* 2 pages: an identity EPT of the first 1 GiB */
#define VMX_PD32_BASE 0x50000ULL /* 32-bit paging: one PD of 4-MByte pages */
#define VMX_PDPT_BASE 0x52000ULL /* PAE paging: the PDPT, then one PD at +0x1000 */

/* An EPT identity map of the first GiB with one 1-GByte page (RWX, WB) and its EPTP
 * (WB, 4-level walk: SDM 26.6.11, 30.3.2). */
static UNUSED uint64_t vmx_ept_identity(void)
{
	memset(B.ram + VMX_EPT_BASE, 0, 2 * PAGE_SIZE);
	*ram64(VMX_EPT_BASE) = (VMX_EPT_BASE + PAGE_SIZE) | EPT_READ | EPT_WRITE | EPT_EXEC;
	*ram64(VMX_EPT_BASE + PAGE_SIZE) = EPT_READ | EPT_WRITE | EPT_EXEC |
					   (6ULL << EPT_MEMTYPE_SHIFT) | EPT_LARGE;
	return VMX_EPT_BASE | EPTP_MEMTYPE_WB | (3ULL << EPTP_WALK_LENGTH_SHIFT);
}

/* A 32-bit protected-mode guest at CPL 0 (flat segments, 32-bit busy TSS): paging is
 * required without "unrestricted guest" (CR0.PG is fixed to 1, SDM A.7): identity
 * 4-MByte pages (CR4.PSE), or with pae PAE paging with 2-MByte pages (the PDPT at
 * VMX_PDPT_BASE). Not IA-32e: EFER is loaded as 0. */
static UNUSED void vmcs_setup_guest32(bool pae)
{
	vmcs_setup_guest64();
	mode_prot32(0);
	uint64_t cr4 = CR4_VMXE;
	if (pae) {
		memset(B.ram + VMX_PDPT_BASE, 0, 2 * PAGE_SIZE);
		*ram64(VMX_PDPT_BASE) = (VMX_PDPT_BASE + PAGE_SIZE) | 1; /* PDPTE: P only */
		for (uint64_t i = 0; i < 16; i++) /* 32 MiB of 2-MByte pages, P RW PS */
			*ram64(VMX_PDPT_BASE + PAGE_SIZE + 8 * i) = (i << 21) | 0x83;
		cr4 |= CR4_PAE;
		vw(VMCS_GUEST_CR3, VMX_PDPT_BASE);
	} else {
		memset(B.ram + VMX_PD32_BASE, 0, PAGE_SIZE);
		for (uint32_t i = 0; i < 8; i++) /* 32 MiB of 4-MByte pages, P RW PS */
			*ram32(VMX_PD32_BASE + 4 * i) = (i << 22) | 0x83;
		cr4 |= CR4_PSE;
		vw(VMCS_GUEST_CR3, VMX_PD32_BASE);
	}
	for (int s = 0; s < SEG_COUNT; s++)
		vmcs_put_seg(VMCS_GUEST_ES_SELECTOR + 2 * (uint32_t)s, &C->seg[s]);
	vmcs_put_seg(VMCS_GUEST_TR_SELECTOR, &C->tr);
	vw(VMCS_GUEST_IDTR_BASE, C->idtr.base);
	vw(VMCS_GUEST_IDTR_LIMIT, C->idtr.limit);
	vw(VMCS_GUEST_CR0, C->cr0 | CR0_NE | CR0_PG);
	vw(VMCS_GUEST_CR4, cr4);
	vw(VMCS_GUEST_IA32_EFER, 0);
	vw(VMCS_VM_ENTRY_CONTROLS, VMX_ENTRY_MUST1 | ENTRY_LOAD_EFER);
}

/* A real-mode guest (CR0.PE = CR0.PG = 0) with "unrestricted guest", which needs
 * "enable EPT" (SDM 28.2.1.1): CS:IP = CODE_BASE >> 4 : 0, data segments at 0,
 * stack at 0:USTACK_TOP, the IVT at 0. Access rights as after RESET (93H, CS 9BH);
 * TR a busy 32-bit TSS (SDM 28.3.1.2 allows 3 or 11 outside IA-32e mode). */
static UNUSED void vmcs_setup_guest_real(void)
{
	vmcs_setup_guest64();
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL,
	   VMX_PROC_MUST1 | PROC_HLT_EXITING | PROC_SECONDARY_CONTROLS);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST);
	vw(VMCS_EPT_POINTER, vmx_ept_identity());
	vw(VMCS_VM_ENTRY_CONTROLS, VMX_ENTRY_MUST1);
	vw(VMCS_GUEST_CR0, CR0_ET | CR0_NE);
	vw(VMCS_GUEST_CR3, 0);
	vw(VMCS_GUEST_CR4, CR4_VMXE);
	struct seg cs = { .sel = (uint16_t)(CODE_BASE >> 4), .base = CODE_BASE,
			  .limit = 0xFFFF, .ar = 0x9B };
	struct seg data = { .sel = 0, .base = 0, .limit = 0xFFFF, .ar = 0x93 };
	for (int s = 0; s < SEG_COUNT; s++)
		vmcs_put_seg(VMCS_GUEST_ES_SELECTOR + 2 * (uint32_t)s, s == SEG_CS ? &cs : &data);
	struct seg tr = { .sel = SEL_TSS, .base = TSS_BASE, .limit = 0x67, .ar = 0x8B };
	vmcs_put_seg(VMCS_GUEST_TR_SELECTOR, &tr);
	vw(VMCS_GUEST_IDTR_BASE, 0);
	vw(VMCS_GUEST_IDTR_LIMIT, 0x3FF);
	vw(VMCS_GUEST_RIP, 0);
	vw(VMCS_GUEST_RSP, USTACK_TOP);
	vw(VMCS_GUEST_IA32_EFER, 0);
}

/* VM entry as VMLAUNCH performs it after its own checks (vmx_vmentry()), counted as
 * one check that it succeeds; a failure names the failed entry check and the test's
 * line. */
static UNUSED enum vmx_result vmx_entry_succeeds(int line)
{
	enum vmx_result r = vmx_vmentry(C, true);
	if (r != VMX_SUCCEED || !C->vmx.non_root)
		fprintf(stderr, "line %d: entry failed: %s\n", line,
			C->vmx.entry_failed_check ? C->vmx.entry_failed_check : "-");
	CHECK_EQ(r, VMX_SUCCEED);
	return r;
}

/* r is VMfailValid(want) (SDM 28.2: a control or host-state check failed) and the CPU
 * stayed in root operation: three checks; a failure names the failed entry check and
 * the test's line. */
static UNUSED void vmx_check_fail_valid(enum vmx_result r, uint64_t want, int line)
{
	uint64_t err = vr(VMCS_VM_INSTRUCTION_ERROR);
	if (r != VMX_FAIL_VALID || err != want)
		fprintf(stderr, "line %d: result %d error %" PRIu64 " (%s)\n", line, r, err,
			C->vmx.entry_failed_check ? C->vmx.entry_failed_check : "-");
	CHECK_EQ(r, VMX_FAIL_VALID);
	CHECK_EQ(err, want);
	CHECK(!C->vmx.non_root);
}

/* The basic exit reason of the last VM exit. */
static UNUSED uint32_t exit_reason(void)
{
	return (uint32_t)vr(VMCS_VM_EXIT_REASON) & 0xFFFF;
}

#endif
