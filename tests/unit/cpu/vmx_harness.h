/*
 * Scaffolding for the VMX tests (test_vmx_*.c): the silicon driven through cpu/vmx.h
 * the way L0 drives it. vmx_init() builds the sys_harness machine (32 MiB RAM, GDT,
 * 64-bit TSS, identity paging of the first 64 MiB), enters native VMX operation and
 * makes a fresh VMCS current; vmcs_setup_guest64() fills it with a valid 64-bit guest
 * (the harness's own state: CPL 0, flat segments, RIP = CODE_BASE) and the minimum
 * controls, so that a test changes only what it is about. Header-only.
 */
#ifndef TURTLES_TESTS_VMX_HARNESS_H
#define TURTLES_TESTS_VMX_HARNESS_H

#include "sys_harness.h"

#include "cpu/dcache.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_caps.h"

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

/* The basic exit reason of the last VM exit. */
static UNUSED uint32_t exit_reason(void)
{
	return (uint32_t)vr(VMCS_VM_EXIT_REASON) & 0xFFFF;
}

#endif
