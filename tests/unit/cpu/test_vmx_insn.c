/*
 * The VMX instructions executed by software on the silicon (SDM 32.3): each
 * instruction's #UD, #GP(0) and memory-fault cases, VMsucceed/VMfailInvalid/
 * VMfailValid in RFLAGS (SDM 32.2) and the VM-instruction error numbers (SDM 32.4),
 * run through the sys_harness run loop emulation (run_insn) with decoded-instruction
 * structs, and a few from real instruction bytes.
 */
#include "sys_harness.h"

#include "cpu/exec_fast.h"
#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_internal.h"

/* Physical layout: VMXON region, two VMCS regions, operand scratch. */
#define VMXON_PA 0x100000ULL
#define VMCS_A 0x101000ULL
#define VMCS_B 0x102000ULL
#define OPND DATA_BASE        /* m64 operands, descriptors */
#define UNMAPPED 0x8000000ULL /* beyond the 64 MiB identity map: #PF */

enum { OK = 0, FAIL_INVALID = 1, FAIL_VALID = 2 };

/* The SDM 32.2 outcome in RFLAGS: 0 VMsucceed (all six clear), 1 VMfailInvalid (CF
 * only), 2 VMfailValid (ZF only), -1 anything else. */
static int outcome(void)
{
	uint64_t f = cpu_get_rflags(C) & RFLAGS_ARITH;
	if (f == 0)
		return OK;
	if (f == RFLAGS_CF)
		return FAIL_INVALID;
	if (f == RFLAGS_ZF)
		return FAIL_VALID;
	return -1;
}

/* Make every arithmetic flag 1 so that VMsucceed visibly clears them. */
static void dirty_flags(void)
{
	cpu_set_rflags(C, cpu_get_rflags(C) | RFLAGS_ARITH);
}

static uint32_t insn_error(void)
{
	return (uint32_t)VMCS_GET(C->vmx.current, VM_INSTRUCTION_ERROR);
}

static void put_region(gpa_t pa, uint32_t rev)
{
	memset(B.ram + pa, 0, 4096);
	*ram32(pa) = rev;
}

/* 64-bit mode at CPL cpl with what VMXON needs: CR0.NE, CR4.VMXE, the feature-control
 * lock and enable bits (SDM 32.3 VMXON). Leaves VMX operation first. */
static void setup(unsigned cpl)
{
	C->vmx.host = VMX_HOST_NONE;
	C->vmx.current = NULL;
	C->vmx.current_ptr = VMX_NO_VMCS;
	C->vmx.vmxon_ptr = 0;
	C->wait_for_sipi = false;
	C->halted = false;
	C->events = 0;
	mode_long64(cpl);
	C->cr0 |= CR0_NE;
	C->cr4 |= CR4_VMXE;
	C->feature_control = FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	put_region(VMXON_PA, VMX_REVISION_ID);
	put_region(VMCS_A, VMX_REVISION_ID);
	put_region(VMCS_B, VMX_REVISION_ID);
}

/* An m64 instruction whose operand at OPND holds value. */
static int run_m64(exec_fn fn, uint64_t value)
{
	*ram64(OPND) = value;
	struct insn in = insn_mem(3, OPND);
	dirty_flags();
	return run_insn(fn, &in);
}

static int vmxon(uint64_t pa) { return run_m64(exec_VMXON, pa); }
static int vmclear(uint64_t pa) { return run_m64(exec_VMCLEAR, pa); }
static int vmptrld(uint64_t pa) { return run_m64(exec_VMPTRLD, pa); }

static int run_none(exec_fn fn)
{
	struct insn in = insn();
	dirty_flags();
	return run_insn(fn, &in);
}

static uint64_t vmptrst(void)
{
	struct insn in = insn_mem(3, OPND + 8);
	*ram64(OPND + 8) = 0x1111;
	CHECK_EQ(run_insn(exec_VMPTRST, &in), NO_FAULT);
	return *ram64(OPND + 8);
}

/* In VMX root operation with VMCS_A current. */
static void setup_root_current(void)
{
	setup(0);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	CHECK_EQ(outcome(), OK);
}

/* VMREAD/VMWRITE with register operands: enc in RCX, value in/out RAX. */
static int vmread_reg(uint64_t enc, uint64_t *value)
{
	struct insn in = insn();
	in.reg = RCX;
	in.rm = RAX;
	C->gpr[RCX] = enc;
	C->gpr[RAX] = 0x5A5A5A5A5A5A5A5AULL;
	dirty_flags();
	int v = run_insn(exec_VMREAD, &in);
	*value = C->gpr[RAX];
	return v;
}

static int vmwrite_reg(uint64_t enc, uint64_t value)
{
	struct insn in = insn();
	in.reg = RCX;
	in.rm = RAX;
	C->gpr[RCX] = enc;
	C->gpr[RAX] = value;
	dirty_flags();
	return run_insn(exec_VMWRITE, &in);
}

/* --- VMXON (SDM 32.3 VMXON) ------------------------------------------------------ */

static void test_vmxon_ud(void)
{
	setup(0);
	C->cr4 &= ~CR4_VMXE; /* CR4.VMXE = 0: #UD */
	CHECK_EQ(vmxon(VMXON_PA), EXC_UD);
	setup(0); /* compatibility mode (IA32_EFER.LMA = 1, CS.L = 0): #UD */
	load_seg(&C->seg[SEG_CS], SEL_CODE32);
	cpu_update_mode(C);
	CHECK_EQ(C->mode, MODE_COMPAT32);
	CHECK_EQ(vmxon(VMXON_PA), EXC_UD);
	mode_real(); /* CR0.PE = 0: #UD */
	C->cr4 |= CR4_VMXE;
	C->feature_control = 5;
	CHECK_EQ(vmxon(VMXON_PA), EXC_UD);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
}

static void test_vmxon_gp(void)
{
	setup(3); /* CPL > 0 */
	CHECK_EXC(vmxon(VMXON_PA), EXC_GP, 0);
	setup(0); /* CR0.NE = 0: CR0 not supported in VMX operation (IA32_VMX_CR0_FIXED0) */
	C->cr0 &= ~CR0_NE;
	CHECK_EXC(vmxon(VMXON_PA), EXC_GP, 0);
	setup(0); /* IA32_FEATURE_CONTROL lock bit clear */
	C->feature_control = FEATURE_CONTROL_VMX_OUTSIDE_SMX;
	CHECK_EXC(vmxon(VMXON_PA), EXC_GP, 0);
	setup(0); /* locked, but VMX outside SMX disabled */
	C->feature_control = FEATURE_CONTROL_LOCKED;
	CHECK_EXC(vmxon(VMXON_PA), EXC_GP, 0);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	/* The memory operand faults like any read: #PF (not present, read, CPL 0) with
	 * CR2 = the address; non-canonical: #GP(0). */
	setup(0);
	struct insn in = insn_mem(3, UNMAPPED);
	CHECK_EXC(run_insn(exec_VMXON, &in), EXC_PF, 0);
	CHECK_EQ(C->exc_cr2, UNMAPPED);
	in.disp = 0;
	in.base = RBX;
	C->gpr[RBX] = 0x0000800000000000ULL;
	CHECK_EXC(run_insn(exec_VMXON, &in), EXC_GP, 0);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
}

static void test_vmxon_fail(void)
{
	/* Bad pointers and revisions: VMfailInvalid (no current VMCS), still outside VMX
	 * operation (SDM 32.3 VMXON). */
	uint64_t bad[] = { VMXON_PA + 0x800, VMXON_PA | 1, 1ULL << CPU_MAXPHYADDR,
			   (1ULL << 63) | VMXON_PA, RAM_BYTES, RAM_BYTES - 4096 + 4096 * 16 };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		setup(0);
		CHECK_EQ(vmxon(bad[i]), NO_FAULT);
		CHECK_EQ(outcome(), FAIL_INVALID);
		CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	}
	setup(0);
	put_region(VMXON_PA, VMX_REVISION_ID + 1);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	put_region(VMXON_PA, VMX_REVISION_ID | BIT(31)); /* rev[31] = 1 */
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	CHECK_EQ(C->rip, CODE_BASE + 2 * 2); /* each VMfail retires the instruction */
}

static void test_vmxon_ok(void)
{
	setup(0);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(C->vmx.host, VMX_HOST_SOFTWARE);
	CHECK_EQ(C->vmx.vmxon_ptr, VMXON_PA);
	CHECK_EQ(vmptrst(), VMX_NO_VMCS); /* current-VMCS pointer <- FFFFFFFF_FFFFFFFFH */
	/* VMXON in VMX root operation: VMfail(15): invalid without a current VMCS ... */
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	/* ... valid with one, error 15 in it. */
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	CHECK_EQ(vmxon(VMCS_B), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMXON_IN_VMX_ROOT_OPERATION);
	/* At CPL 3 in root operation: #GP(0) before the VMfail. */
	C->cpl = 3;
	CHECK_EXC(vmxon(VMXON_PA), EXC_GP, 0);
	C->cpl = 0;
}

/* --- VMX operation restrictions (SDM 25.8) --------------------------------------- */

static void test_cr_fixed_and_init(void)
{
	setup_root_current();
	struct insn cr = insn();
	cr.reg = 4;
	cr.rm = RAX;
	C->gpr[RAX] = C->cr4 & ~CR4_VMXE; /* CR4.VMXE cannot be cleared */
	CHECK_EXC(run_insn(exec_MOV_TO_CR, &cr), EXC_GP, 0);
	CHECK(C->cr4 & CR4_VMXE);
	C->gpr[RAX] = C->cr4 | CR4_PGE; /* other CR4 writes are fine */
	CHECK_EQ(run_insn(exec_MOV_TO_CR, &cr), NO_FAULT);
	cr.reg = 0;
	C->gpr[RAX] = C->cr0 & ~CR0_NE; /* CR0.NE fixed to 1 */
	CHECK_EXC(run_insn(exec_MOV_TO_CR, &cr), EXC_GP, 0);
	C->gpr[RAX] = C->cr0 | CR0_WP;
	CHECK_EQ(run_insn(exec_MOV_TO_CR, &cr), NO_FAULT);

	/* INIT is blocked in VMX root operation and stays pending (SDM 25.8, 32.3
	 * VMXON); VMXOFF unblocks it (SDM 32.3 VMXOFF). */
	cpu_signal(C, CPU_EV_INIT, 0);
	CHECK(!cpu_handle_events(C));
	CHECK(C->events & CPU_EV_INIT);
	CHECK_EQ(C->mode, MODE_LONG64);
	CHECK_EQ(run_none(exec_VMXOFF), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK(cpu_handle_events(C));
	CHECK(!(C->events & CPU_EV_INIT));
	CHECK_EQ(C->mode, MODE_REAL);
	/* Outside VMX operation CR4.VMXE may be cleared again. */
	setup(0);
	cr.reg = 4;
	C->gpr[RAX] = C->cr4 & ~CR4_VMXE;
	CHECK_EQ(run_insn(exec_MOV_TO_CR, &cr), NO_FAULT);
}

/* The fixed-bit predicates MOV to CR0/CR4 use (SDM A.7, A.8; 27.3: with "unrestricted
 * guest" in non-root operation CR0.PE and CR0.PG are not fixed). */
static void test_cr_fixed_predicates(void)
{
	setup_root_current();
	uint64_t cr0 = CR0_PE | CR0_NE | CR0_PG | CR0_ET;
	CHECK(vmx_cr0_allowed(C, cr0));
	CHECK(!vmx_cr0_allowed(C, cr0 & ~CR0_PE));
	CHECK(!vmx_cr0_allowed(C, cr0 & ~CR0_PG));
	CHECK(!vmx_cr0_allowed(C, cr0 & ~CR0_NE));
	CHECK(!vmx_cr0_allowed(C, cr0 | BIT(32))); /* beyond FIXED1 */
	C->vmx.non_root = true;
	C->vmx.ctl.proc2 = PROC2_UNRESTRICTED_GUEST;
	CHECK(vmx_cr0_allowed(C, CR0_NE | CR0_ET));
	CHECK(!vmx_cr0_allowed(C, CR0_PE | CR0_ET)); /* NE stays fixed */
	C->vmx.ctl.proc2 = 0;
	CHECK(!vmx_cr0_allowed(C, CR0_NE | CR0_ET));
	C->vmx.non_root = false;
	CHECK(vmx_cr4_allowed(C, CR4_PAE | CR4_VMXE));
	CHECK(!vmx_cr4_allowed(C, CR4_PAE));
	CHECK(!vmx_cr4_allowed(C, CR4_PAE | CR4_VMXE | CR4_LA57)); /* not in FIXED1 */
}

/* --- VMXOFF, VMCALL, VMFUNC ---------------------------------------------------------- */

static void test_vmxoff_vmcall_vmfunc(void)
{
	setup(0); /* outside VMX operation: #UD for all three */
	CHECK_EQ(run_none(exec_VMXOFF), EXC_UD);
	CHECK_EQ(run_none(exec_VMCALL), EXC_UD);
	CHECK_EQ(run_none(exec_VMFUNC), EXC_UD);
	setup(0);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	/* VMCALL in root operation: VMfail(1) (no SMM monitor), invalid without current. */
	CHECK_EQ(run_none(exec_VMCALL), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	CHECK_EQ(run_none(exec_VMCALL), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMCALL_IN_ROOT);
	CHECK_EQ(run_none(exec_VMFUNC), EXC_UD); /* #UD in root operation too */
	C->cpl = 3;
	CHECK_EXC(run_none(exec_VMCALL), EXC_GP, 0);
	CHECK_EXC(run_none(exec_VMXOFF), EXC_GP, 0);
	C->cpl = 0;
	load_seg(&C->seg[SEG_CS], SEL_CODE32); /* compatibility mode: #UD */
	cpu_update_mode(C);
	CHECK_EQ(run_none(exec_VMXOFF), EXC_UD);
	CHECK_EQ(run_none(exec_VMCALL), EXC_UD);
	load_seg(&C->seg[SEG_CS], SEL_CODE64);
	cpu_update_mode(C);
	CHECK_EQ(run_none(exec_VMXOFF), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	CHECK(C->vmx.current == NULL);
	CHECK_EQ(C->vmx.current_ptr, VMX_NO_VMCS);
	CHECK_EQ(run_none(exec_VMXOFF), EXC_UD); /* no longer in VMX operation */
}

/* --- VMCLEAR, VMPTRLD, VMPTRST (SDM 32.3) ---------------------------------------- */

static void test_vmclear(void)
{
	setup(0);
	CHECK_EQ(vmclear(VMCS_A), EXC_UD); /* outside VMX operation */
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	C->cpl = 3;
	CHECK_EXC(vmclear(VMCS_A), EXC_GP, 0);
	C->cpl = 0;
	/* Invalid address: VMfailInvalid without a current VMCS ... */
	CHECK_EQ(vmclear(VMCS_A + 8), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	/* ... VMfailValid(2) with one: misaligned, beyond MAXPHYADDR, outside RAM. */
	uint64_t bad[] = { VMCS_B + 0x10, 1ULL << CPU_MAXPHYADDR, RAM_BYTES };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		VMCS_SET(C->vmx.current, VM_INSTRUCTION_ERROR, 0);
		CHECK_EQ(vmclear(bad[i]), NO_FAULT);
		CHECK_EQ(outcome(), FAIL_VALID);
		CHECK_EQ(insn_error(), VMXERR_VMCLEAR_INVALID_ADDRESS);
	}
	CHECK_EQ(vmclear(VMXON_PA), NO_FAULT); /* the VMXON pointer: error 3 */
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMCLEAR_VMXON_POINTER);
	/* A non-current VMCS: launch state clear in its region, current unchanged. */
	*ram32(VMCS_B + 8) = VMCS_STATE_LAUNCHED;
	CHECK_EQ(vmclear(VMCS_B), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(*ram32(VMCS_B + 8), VMCS_STATE_CLEAR);
	CHECK_EQ(vmptrst(), VMCS_A);
	/* The current VMCS: it stops being current. VMCLEAR does not check the
	 * revision identifier. */
	*ram32(VMCS_A + 8) = VMCS_STATE_LAUNCHED;
	*ram32(VMCS_A) = 0x99;
	CHECK_EQ(vmclear(VMCS_A), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(*ram32(VMCS_A + 8), VMCS_STATE_CLEAR);
	CHECK_EQ(vmptrst(), VMX_NO_VMCS);
	CHECK(C->vmx.current == NULL);
	/* Memory operand fault: #PF, nothing changes. */
	struct insn in = insn_mem(3, UNMAPPED);
	CHECK_EXC(run_insn(exec_VMCLEAR, &in), EXC_PF, 0);
}

static void test_vmptrld(void)
{
	setup(0);
	CHECK_EQ(vmptrld(VMCS_A), EXC_UD);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	C->cpl = 3;
	CHECK_EXC(vmptrld(VMCS_A), EXC_GP, 0);
	C->cpl = 0;
	CHECK_EQ(vmptrld(VMCS_A + 0x100), NO_FAULT); /* invalid, no current: CF */
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(vmptrld(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	put_region(VMCS_B, VMX_REVISION_ID ^ 1);
	CHECK_EQ(vmptrld(VMCS_B), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(C->vmx.current_ptr, VMCS_A);
	CHECK(C->vmx.current == (struct vmcs *)(B.ram + VMCS_A));
	/* With a current VMCS: errors 9, 10, 11 (SDM 32.4), the current one stays. */
	CHECK_EQ(vmptrld(VMCS_B | 0x800), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INVALID_ADDRESS);
	CHECK_EQ(vmptrld(1ULL << CPU_MAXPHYADDR), NO_FAULT);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INVALID_ADDRESS);
	CHECK_EQ(vmptrld(VMXON_PA), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_VMXON_POINTER);
	CHECK_EQ(vmptrld(VMCS_B), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	put_region(VMCS_B, VMX_REVISION_ID | BIT(31)); /* shadow-VMCS indicator */
	CHECK_EQ(vmptrld(VMCS_B), NO_FAULT);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
	CHECK_EQ(vmptrst(), VMCS_A);
	put_region(VMCS_B, VMX_REVISION_ID);
	CHECK_EQ(vmptrld(VMCS_B), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(vmptrst(), VMCS_B);
	/* VMPTRST: CPL 3 #GP(0); a faulting destination is not written. */
	C->cpl = 3;
	struct insn st = insn_mem(3, OPND);
	CHECK_EXC(run_insn(exec_VMPTRST, &st), EXC_GP, 0);
	C->cpl = 0;
	st = insn_mem(3, UNMAPPED);
	CHECK_EXC(run_insn(exec_VMPTRST, &st), EXC_PF, PFEC_W);
}

/* --- VMREAD, VMWRITE (SDM 32.3) --------------------------------------------------- */

static void test_vmread_vmwrite_basic(void)
{
	uint64_t v;
	setup(0);
	CHECK_EQ(vmread_reg(VMCS_GUEST_RIP, &v), EXC_UD);
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_RIP, 1), EXC_UD);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	/* No current VMCS: VMfailInvalid, destination untouched. */
	CHECK_EQ(vmread_reg(VMCS_GUEST_RIP, &v), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(v, 0x5A5A5A5A5A5A5A5AULL);
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_RIP, 1), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(vmptrld(VMCS_A), NO_FAULT);
	C->cpl = 3;
	CHECK_EXC(vmread_reg(VMCS_GUEST_RIP, &v), EXC_GP, 0);
	CHECK_EXC(vmwrite_reg(VMCS_GUEST_RIP, 1), EXC_GP, 0);
	C->cpl = 0;
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_RIP, 0xFFFF800012345678ULL), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(vmread_reg(VMCS_GUEST_RIP, &v), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(v, 0xFFFF800012345678ULL);
	/* The value lives in the region in guest RAM (the VMCS of a software VMM). */
	CHECK_EQ(VMCS_GET((struct vmcs *)(B.ram + VMCS_A), GUEST_RIP), 0xFFFF800012345678ULL);
	/* 16-bit field: the high bits of the source are dropped; read zero-extends. */
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_ES_SELECTOR, 0xABCD1234), NO_FAULT);
	CHECK_EQ(vmread_reg(VMCS_GUEST_ES_SELECTOR, &v), NO_FAULT);
	CHECK_EQ(v, 0x1234);
	/* Unsupported encodings: VMfailValid(12) for both, destination untouched. */
	uint64_t bad[] = { 0x1234, VMCS_GUEST_RIP | (1ULL << 32), VMCS_GUEST_RIP | BIT(15),
			   VMCS_GUEST_RIP | 1 /* high access of a natural-width field */ };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_EQ(vmread_reg(bad[i], &v), NO_FAULT);
		CHECK_EQ(outcome(), FAIL_VALID);
		CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
		CHECK_EQ(v, 0x5A5A5A5A5A5A5A5AULL);
		VMCS_SET(C->vmx.current, VM_INSTRUCTION_ERROR, 0);
		CHECK_EQ(vmwrite_reg(bad[i], 7), NO_FAULT);
		CHECK_EQ(outcome(), FAIL_VALID);
		CHECK_EQ(insn_error(), VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	}
	/* A read-only (exit-information) field is writable: IA32_VMX_MISC[29] = 1. */
	CHECK_EQ(vmwrite_reg(VMCS_VM_EXIT_REASON, 48), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(vmread_reg(VMCS_VM_EXIT_REASON, &v), NO_FAULT);
	CHECK_EQ(v, 48);
	/* High access to a 64-bit field (SDM 26.11.2). */
	CHECK_EQ(vmwrite_reg(VMCS_IO_BITMAP_A, 0x1111222233334444ULL), NO_FAULT);
	CHECK_EQ(vmwrite_reg(VMCS_IO_BITMAP_A | 1, 0xFFFFFFFF55556666ULL), NO_FAULT);
	CHECK_EQ(vmread_reg(VMCS_IO_BITMAP_A, &v), NO_FAULT);
	CHECK_EQ(v, 0x5555666633334444ULL);
	CHECK_EQ(vmread_reg(VMCS_IO_BITMAP_A | 1, &v), NO_FAULT);
	CHECK_EQ(v, 0x55556666);
}

static void test_vmread_vmwrite_memory(void)
{
	setup_root_current();
	/* VMREAD to memory: 8 bytes in 64-bit mode. */
	*ram64(OPND) = 0;
	*ram64(OPND + 8) = 0x77;
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_CR3, 0x123456789000ULL), NO_FAULT);
	struct insn rd = insn_mem(3, OPND);
	rd.reg = RCX;
	C->gpr[RCX] = VMCS_GUEST_CR3;
	CHECK_EQ(run_insn(exec_VMREAD, &rd), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(*ram64(OPND), 0x123456789000ULL);
	CHECK_EQ(*ram64(OPND + 8), 0x77);
	/* VMWRITE from memory. */
	*ram64(OPND) = 0xCAFE000;
	struct insn wr = insn_mem(3, OPND);
	wr.reg = RCX;
	C->gpr[RCX] = VMCS_GUEST_CR3;
	dirty_flags();
	CHECK_EQ(run_insn(exec_VMWRITE, &wr), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(VMCS_GET(C->vmx.current, GUEST_CR3), 0xCAFE000);
	/* Faulting memory operands: #PF with the access kind, flags and VMCS unchanged. */
	rd = insn_mem(3, UNMAPPED);
	rd.reg = RCX;
	dirty_flags();
	CHECK_EXC(run_insn(exec_VMREAD, &rd), EXC_PF, PFEC_W);
	CHECK_EQ(cpu_get_rflags(C) & RFLAGS_ARITH, RFLAGS_ARITH);
	wr = insn_mem(3, UNMAPPED);
	wr.reg = RCX;
	CHECK_EXC(run_insn(exec_VMWRITE, &wr), EXC_PF, 0);
	CHECK_EQ(VMCS_GET(C->vmx.current, GUEST_CR3), 0xCAFE000);
	/* An unsupported field is reported before the destination is written (no #PF). */
	C->gpr[RCX] = 0x7FFE;
	CHECK_EQ(run_insn(exec_VMREAD, &rd), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
}

/* Outside 64-bit mode the operand size is 32 bits (SDM 32.3 VMREAD/VMWRITE). The
 * harness switches modes directly (MOV CR0 would keep CR0.PG in VMX operation). */
static void test_vmread_vmwrite_32(void)
{
	setup_root_current();
	uint64_t v;
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_CR3, 0x123456789000ULL), NO_FAULT);
	CHECK_EQ(vmwrite_reg(VMCS_TSC_OFFSET, 0x8877665544332211ULL), NO_FAULT);
	mode_prot32(0);
	C->cr0 |= CR0_NE;
	CHECK_EQ(vmread_reg(VMCS_GUEST_CR3, &v), NO_FAULT); /* low 32 bits of the field */
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(v, 0x56789000);
	/* Bits 63:32 of the encoding register are not part of the operand. */
	CHECK_EQ(vmread_reg(VMCS_TSC_OFFSET | (1ULL << 32), &v), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(v, 0x44332211);
	CHECK_EQ(vmread_reg(VMCS_TSC_OFFSET | 1, &v), NO_FAULT);
	CHECK_EQ(v, 0x88776655);
	/* VMWRITE of a 64-bit or natural-width field clears its high bits. */
	CHECK_EQ(vmwrite_reg(VMCS_GUEST_CR3, 0xFFFFFFFF00001000ULL), NO_FAULT);
	CHECK_EQ(VMCS_GET(C->vmx.current, GUEST_CR3), 0x1000);
	CHECK_EQ(vmwrite_reg(VMCS_TSC_OFFSET, 0x99), NO_FAULT);
	CHECK_EQ(VMCS_GET(C->vmx.current, TSC_OFFSET), 0x99);
	/* VMREAD to memory writes 4 bytes. */
	*ram64(OPND) = ~0ULL;
	struct insn rd = insn_mem(2, OPND);
	rd.reg = RCX;
	C->gpr[RCX] = VMCS_GUEST_CR3;
	CHECK_EQ(run_insn(exec_VMREAD, &rd), NO_FAULT);
	CHECK_EQ(*ram64(OPND), 0xFFFFFFFF00001000ULL);
}

/* --- INVEPT, INVVPID (SDM 32.3) ---------------------------------------------------- */

static int inv(exec_fn fn, uint64_t type, uint64_t d0, uint64_t d1)
{
	*ram64(OPND) = d0;
	*ram64(OPND + 8) = d1;
	struct insn in = insn_mem(3, OPND);
	in.reg = RDX;
	C->gpr[RDX] = type;
	dirty_flags();
	return run_insn(fn, &in);
}

static void check_inv(exec_fn fn, uint64_t type, uint64_t d0, uint64_t d1, int expect)
{
	VMCS_SET(C->vmx.current, VM_INSTRUCTION_ERROR, 0);
	CHECK_EQ(inv(fn, type, d0, d1), NO_FAULT);
	CHECK_EQ(outcome(), expect);
	CHECK_EQ(insn_error(), expect == OK ? 0 : VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID);
}

static void test_invept_invvpid(void)
{
	const uint64_t eptp = 0x200000 | 0x1E; /* WB, 4-level */
	setup(0);
	CHECK_EQ(inv(exec_INVEPT, 2, 0, 0), EXC_UD);
	CHECK_EQ(inv(exec_INVVPID, 2, 0, 0), EXC_UD);
	setup_root_current();
	C->cpl = 3;
	CHECK_EXC(inv(exec_INVEPT, 2, 0, 0), EXC_GP, 0);
	CHECK_EXC(inv(exec_INVVPID, 2, 0, 0), EXC_GP, 0);
	C->cpl = 0;
	/* INVEPT: types 1 and 2 are supported (IA32_VMX_EPT_VPID_CAP bits 25, 26). */
	check_inv(exec_INVEPT, 0, eptp, 0, FAIL_VALID);
	check_inv(exec_INVEPT, 3, eptp, 0, FAIL_VALID);
	check_inv(exec_INVEPT, 1ULL << 32 | 1, eptp, 0, FAIL_VALID); /* 64-bit register */
	check_inv(exec_INVEPT, 1, eptp, 0, OK);
	check_inv(exec_INVEPT, 1, eptp | 0x100, 0, FAIL_VALID);  /* reserved EPTP bit */
	check_inv(exec_INVEPT, 1, (eptp & ~7ULL) | 1, 0, FAIL_VALID); /* memory type 1 */
	check_inv(exec_INVEPT, 2, 0, 0, OK); /* global: the descriptor is not checked */
	/* INVVPID: types 0-3 (bits 40-43). */
	check_inv(exec_INVVPID, 4, 1, 0, FAIL_VALID);
	check_inv(exec_INVVPID, 0, 1, 0x7FFFFFFFF000ULL, OK);
	check_inv(exec_INVVPID, 0, 1, 0x800000000000ULL, FAIL_VALID); /* non-canonical */
	check_inv(exec_INVVPID, 0, 0, 0x1000, FAIL_VALID);           /* VPID 0 */
	check_inv(exec_INVVPID, 1, 5, 0x800000000000ULL, OK); /* address ignored */
	check_inv(exec_INVVPID, 1, 0, 0, FAIL_VALID);
	check_inv(exec_INVVPID, 3, 0, 0, FAIL_VALID);
	check_inv(exec_INVVPID, 3, 0xFFFF, 0, OK);
	check_inv(exec_INVVPID, 2, 0, 0, OK);                 /* all contexts: VPID 0 ok */
	check_inv(exec_INVVPID, 2, 1ULL << 16, 0, FAIL_VALID); /* bits 63:16 reserved */
	/* The type is checked before the descriptor is read: no #PF for a bad type. */
	struct insn in = insn_mem(3, UNMAPPED);
	in.reg = RDX;
	C->gpr[RDX] = 7;
	CHECK_EQ(run_insn(exec_INVEPT, &in), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	C->gpr[RDX] = 2;
	CHECK_EXC(run_insn(exec_INVEPT, &in), EXC_PF, 0);
	CHECK_EXC(run_insn(exec_INVVPID, &in), EXC_PF, 0);
	/* Without a current VMCS the failures are VMfailInvalid. */
	CHECK_EQ(vmclear(VMCS_A), NO_FAULT);
	CHECK_EQ(inv(exec_INVEPT, 0, eptp, 0), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	CHECK_EQ(inv(exec_INVEPT, 2, 0, 0), NO_FAULT);
	CHECK_EQ(outcome(), OK);
}

/* --- the shared prologue, for every instruction (SDM 32.3 each Operation) ----------- */

static const struct {
	const char *name;
	exec_fn fn;
	bool mem; /* has a memory operand */
} all_insns[] = {
	{ "VMXOFF", exec_VMXOFF, false }, { "VMCALL", exec_VMCALL, false },
	{ "VMCLEAR", exec_VMCLEAR, true }, { "VMPTRLD", exec_VMPTRLD, true },
	{ "VMPTRST", exec_VMPTRST, true }, { "VMREAD", exec_VMREAD, false },
	{ "VMWRITE", exec_VMWRITE, false }, { "INVEPT", exec_INVEPT, true },
	{ "INVVPID", exec_INVVPID, true },
};

static int run_any(unsigned i)
{
	struct insn in = all_insns[i].mem ? insn_mem(3, OPND) : insn();
	in.reg = RCX;
	C->gpr[RCX] = 2;
	*ram64(OPND) = VMCS_A;
	*ram64(OPND + 8) = 0;
	dirty_flags();
	return run_insn(all_insns[i].fn, &in);
}

static void test_prologue_all(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(all_insns); i++) {
		setup(0); /* outside VMX operation: #UD */
		if (run_any(i) != EXC_UD)
			fprintf(stderr, "%s outside VMX operation\n", all_insns[i].name);
		CHECK_EQ(run_any(i), EXC_UD);
		CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
		C->cpl = 3; /* CPL > 0 in root operation: #GP(0) */
		CHECK_EXC(run_any(i), EXC_GP, 0);
		C->cpl = 0;
		load_seg(&C->seg[SEG_CS], SEL_CODE32); /* compatibility mode: #UD */
		cpu_update_mode(C);
		CHECK_EQ(run_any(i), EXC_UD);
		CHECK_EQ(C->vmx.host, VMX_HOST_SOFTWARE);
	}
	/* VMFUNC: #UD everywhere here (no VM functions, SDM 32.3 VMFUNC). */
	setup(0);
	CHECK_EQ(vmxon(VMXON_PA), NO_FAULT);
	CHECK_EQ(run_none(exec_VMFUNC), EXC_UD);
	C->vmx.non_root = true;
	CHECK_EQ(run_none(exec_VMFUNC), EXC_UD);
	C->vmx.non_root = false;
}

static uint64_t mmio_rd(void *opaque, uint64_t off, int size)
{
	(void)opaque, (void)off, (void)size;
	return 0;
}

static void mmio_wr(void *opaque, uint64_t off, int size, uint64_t value)
{
	(void)opaque, (void)off, (void)size, (void)value;
}

/* A region that MMIO overlaps (even in part) is not RAM: invalid physical address. */
static void test_mmio_region(void)
{
	static const struct mmio_ops ops = { mmio_rd, mmio_wr };
	const gpa_t page = 0x1F00000;
	CHECK_EQ(bus_map_mmio(&B, page + 0x800, 0x10, &ops, NULL), 0);
	setup(0);
	put_region(page, VMX_REVISION_ID);
	CHECK_EQ(vmxon(page), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_INVALID);
	setup_root_current();
	CHECK_EQ(vmptrld(page), NO_FAULT);
	CHECK_EQ(outcome(), FAIL_VALID);
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INVALID_ADDRESS);
	CHECK_EQ(vmclear(page), NO_FAULT);
	CHECK_EQ(insn_error(), VMXERR_VMCLEAR_INVALID_ADDRESS);
	CHECK_EQ(vmptrld(page + 0x1000), NO_FAULT); /* the next page is RAM */
	CHECK_EQ(outcome(), FAIL_VALID);              /* (zero revision identifier) */
	CHECK_EQ(insn_error(), VMXERR_VMPTRLD_INCORRECT_REVISION_ID);
}

/* RESET leaves VMX operation entered by software; a new CPU has no current VMCS. */
static void test_reset(void)
{
	setup_root_current();
	cpu_reset(C);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	CHECK(C->vmx.current == NULL);
	CHECK_EQ(C->vmx.current_ptr, VMX_NO_VMCS);
	struct cpu *fresh = calloc(1, sizeof(*fresh));
	CHECK(fresh != NULL);
	cpu_init(fresh, 1, &B, &CLK, NULL);
	CHECK_EQ(fresh->vmx.host, VMX_HOST_NONE);
	CHECK_EQ(fresh->vmx.current_ptr, VMX_NO_VMCS);
	free(fresh);
}

/* --- real instruction bytes through the decoder -------------------------------------- */

static int run_bytes(const uint8_t *bytes, int n)
{
	struct insn in;
	CHECK_EQ(decode(bytes, n, DMODE_64, &in), n);
	dirty_flags();
	return run_insn(exec_generic(in.op), &in);
}

static void test_decoded(void)
{
	setup(0);
	C->gpr[RAX] = OPND;
	*ram64(OPND) = VMXON_PA;
	const uint8_t vmxon_rax[] = { 0xF3, 0x0F, 0xC7, 0x30 };   /* VMXON [rax] */
	const uint8_t vmptrld_rax[] = { 0x0F, 0xC7, 0x30 };       /* VMPTRLD [rax] */
	const uint8_t vmwrite_rcx_rdx[] = { 0x0F, 0x79, 0xCA };   /* VMWRITE rcx, rdx */
	const uint8_t vmread_rbx_rcx[] = { 0x0F, 0x78, 0xCB };    /* VMREAD rbx, rcx */
	const uint8_t vmxoff[] = { 0x0F, 0x01, 0xC4 };
	CHECK_EQ(run_bytes(vmxon_rax, sizeof(vmxon_rax)), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	*ram64(OPND) = VMCS_A;
	CHECK_EQ(run_bytes(vmptrld_rax, sizeof(vmptrld_rax)), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	C->gpr[RCX] = VMCS_GUEST_RSP; /* field encoding in the reg operand */
	C->gpr[RDX] = 0x4321;
	CHECK_EQ(run_bytes(vmwrite_rcx_rdx, sizeof(vmwrite_rcx_rdx)), NO_FAULT);
	CHECK_EQ(outcome(), OK);
	CHECK_EQ(VMCS_GET(C->vmx.current, GUEST_RSP), 0x4321);
	C->gpr[RBX] = 0;
	CHECK_EQ(run_bytes(vmread_rbx_rcx, sizeof(vmread_rbx_rcx)), NO_FAULT);
	CHECK_EQ(C->gpr[RBX], 0x4321);
	CHECK_EQ(run_bytes(vmxoff, sizeof(vmxoff)), NO_FAULT);
	CHECK_EQ(C->vmx.host, VMX_HOST_NONE);
	CHECK_EQ(run_bytes(vmxoff, sizeof(vmxoff)), EXC_UD); /* outside VMX operation */
}

int main(void)
{
	sys_init();
	test_vmxon_ud();
	test_vmxon_gp();
	test_vmxon_fail();
	test_vmxon_ok();
	test_cr_fixed_and_init();
	test_cr_fixed_predicates();
	test_vmxoff_vmcall_vmfunc();
	test_vmclear();
	test_vmptrld();
	test_vmread_vmwrite_basic();
	test_vmread_vmwrite_memory();
	test_vmread_vmwrite_32();
	test_invept_invvpid();
	test_decoded();
	test_prologue_all();
	test_reset();
	test_mmio_region();
	return report("vmx_insn");
}
