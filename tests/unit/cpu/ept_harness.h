/*
 * Scaffolding for the EPT and VPID tests (test_vmx_ept.c, test_vmx_vpid.c): the MMU
 * harness's CPU put into VMX non-root operation by hand (vmx.non_root and vmx.ctl, as
 * VM entry leaves them) with EPT paging structures built in its RAM. Header-only.
 */
#ifndef TURTLES_TESTS_EPT_HARNESS_H
#define TURTLES_TESTS_EPT_HARNESS_H

#include "mmu_harness.h"

#include "cpu/vmx/ept.h"
#include "cpu/vmx/vmx_internal.h"

#define EPT_POOL 0x02000000ULL /* EPT paging structures from 32 MiB up */
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_WB (6ULL << EPT_MEMTYPE_SHIFT)
/* EPTP: WB, 4-level walk (SDM 26.6.11), optionally A/D flags. */
#define EPTP_FLAGS(ad) (EPTP_MEMTYPE_WB | 3ULL << EPTP_WALK_LENGTH_SHIFT | ((ad) ? EPTP_AD_ENABLE : 0))

static gpa_t ept_next;

static UNUSED gpa_t ept_alloc(void)
{
	gpa_t p = ept_next;
	ept_next += PAGE_SIZE;
	memset(B.ram + p, 0, PAGE_SIZE);
	return p;
}

/* A fresh, empty EPT PML4 at pool, where its tables will be allocated; the EPTP.
 * Tests reuse pools: like any VMM that changes EPT paging structures, this one then
 * invalidates the guest-physical mappings of the old ones (SDM 30.4.3.3). */
static UNUSED uint64_t ept_new_at(gpa_t pool, bool ad)
{
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	ept_next = pool;
	return ept_alloc() | EPTP_FLAGS(ad);
}

static UNUSED uint64_t ept_new(bool ad)
{
	return ept_new_at(EPT_POOL, ad);
}

/* The entry at level (1 = PTE ... 4 = PML4E) for gpa under eptp, creating tables with
 * RWX on the way. */
static UNUSED uint64_t *ept_ent(uint64_t eptp, gpa_t gpa, int level)
{
	gpa_t table = eptp & ADDR_BITS;
	for (int l = 4; l > level; l--) {
		uint64_t *e = ram64(table + 8 * ((gpa >> (12 + 9 * (l - 1))) & 511));
		if (!(*e & EPT_RWX))
			*e = ept_alloc() | EPT_RWX;
		table = *e & ADDR_BITS;
	}
	return ram64(table + 8 * ((gpa >> (12 + 9 * (level - 1))) & 511));
}

/* Map gpa to hpa with a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB), memory type WB. */
static UNUSED uint64_t *ept_map(uint64_t eptp, gpa_t gpa, hpa_t hpa, int level, uint64_t perm)
{
	uint64_t *e = ept_ent(eptp, gpa, level);
	*e = hpa | perm | EPT_WB | (level > 1 ? EPT_LARGE : 0);
	return e;
}

/* Identity-map [0, RAM_BYTES), RWX: 4 KiB pages below 16 MiB (so that tests can
 * remap single pages there), 2 MiB pages above. */
#define EPT_SMALL_END 0x01000000ULL
static UNUSED void ept_identity(uint64_t eptp)
{
	for (gpa_t a = 0; a < EPT_SMALL_END; a += PAGE_SIZE)
		ept_map(eptp, a, a, 1, EPT_RWX);
	for (gpa_t a = EPT_SMALL_END; a < RAM_BYTES; a += 2ULL << 20)
		ept_map(eptp, a, a, 2, EPT_RWX);
}

/* Non-root operation with the given secondary controls, EPTP and VPID, as VM entry
 * leaves it, and the TLB switched to the guest's context. */
static UNUSED void enter_nonroot(uint32_t proc2, uint64_t eptp, uint16_t vpid)
{
	C->vmx.non_root = true;
	C->vmx.ctl.proc = PROC_SECONDARY_CONTROLS;
	C->vmx.ctl.proc2 = proc2;
	C->vmx.ctl.eptp = eptp;
	C->vmx.ctl.vpid = vpid;
	vmx_tlb_transition(C);
}

/* Accesses in non-root operation that may end in a VM exit: with a native VMM the
 * exit unwinds the access to the setjmp here (vmx_exit_unwind, CPU_UNWIND_VMEXIT).
 * Each returns NO_FAULT, the vector of a fault, or VMEXIT (the exit information is in
 * the current VMCS). */
#define VMEXIT (-2)

static UNUSED int nonroot_unwound(int r)
{
	if (r != CPU_UNWIND_VMEXIT)
		return C->exc_vector;
	C->events &= ~(uint32_t)CPU_EV_VMEXIT;
	C->vmx.exit_pending = false;
	return VMEXIT;
}

static UNUSED int xrd(gva_t la, uint64_t *v)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	*v = mem_read(C, SEG_DS, la, 3);
	return NO_FAULT;
}

static UNUSED int xwr(gva_t la, uint64_t v)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	mem_write(C, SEG_DS, la, 3, v);
	return NO_FAULT;
}

static UNUSED int xfx(gva_t la)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	int avail;
	gpa_t pa;
	(void)mem_fetch(C, la, &avail, &pa);
	return NO_FAULT;
}

/* Back to root operation (the controls stay, as after a VM exit). */
static UNUSED void exit_to_root(void)
{
	C->vmx.non_root = false;
	vmx_tlb_transition(C);
}

#endif
