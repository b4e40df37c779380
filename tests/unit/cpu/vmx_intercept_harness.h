/*
 * Scaffolding for the instruction-exit tests (test_vmx_intercept_*.c): the harness CPU
 * put into VMX non-root operation by hand (cpu->vmx.non_root and the cached controls,
 * with a current VMCS from vmx_init()), real instruction bytes decoded as the run
 * loop decodes them, and two ways to run them:
 *   decide()  asks only the exit decision (vmx_insn_exits): EXIT, NOEXIT, or
 *             FAULT(vector) for a fault that has priority over the exit (SDM 27.1.1);
 *   run()     runs the instruction as the run loop binds it in non-root operation
 *             (vmx_intercepted) when it does not exit, so the SDM 27.3 behaviour shows.
 * Header-only.
 */
#ifndef TURTLES_TESTS_VMX_INTERCEPT_HARNESS_H
#define TURTLES_TESTS_VMX_INTERCEPT_HARNESS_H

#include "vmx_harness.h"

#include "cpu/sys.h"
#include "cpu/vmx/vmx_intercept.h"

#define NOEXIT 0
#define EXIT 1
#define FAULT(v) (100 + (v))

static struct vmx_exit_info X; /* what the last decide() would report */
static struct insn IN;         /* the last instruction decoded */

/* Physical pages for bitmaps and the virtual-APIC page (below the 32 MiB of RAM). */
#define IO_BITMAP_A 0x40000ULL
#define IO_BITMAP_B 0x41000ULL
#define MSR_BITMAP 0x42000ULL
#define VAPIC_PAGE 0x43000ULL

/* Enter non-root operation by hand: the given primary controls on top of the
 * must-be-1 bits (CR3 exiting off), secondary controls activated iff proc2 != 0,
 * everything else zero. CR0.NE and CR4.VMXE as VMX operation requires. */
static UNUSED void nonroot(uint32_t proc, uint32_t proc2)
{
	memset(&C->vmx.ctl, 0, sizeof(C->vmx.ctl));
	C->vmx.ctl.proc = VMX_PROC_MUST1 | proc | (proc2 ? PROC_SECONDARY_CONTROLS : 0);
	C->vmx.ctl.proc2 = proc2;
	C->vmx.ctl.pin = VMX_PIN_MUST1;
	C->vmx.ctl.io_bitmap[0] = IO_BITMAP_A;
	C->vmx.ctl.io_bitmap[1] = IO_BITMAP_B;
	C->vmx.ctl.msr_bitmap = MSR_BITMAP;
	C->vmx.ctl.virtual_apic_page = VAPIC_PAGE;
	memset(B.ram + IO_BITMAP_A, 0, 3 * 4096);
	C->cr0 |= CR0_NE;
	C->cr4 |= CR4_VMXE;
	C->vmx.non_root = true;
}

/* 64-bit mode at the given CPL, in non-root operation with the given controls. */
static UNUSED void guest64(unsigned cpl, uint32_t proc, uint32_t proc2)
{
	mode_long64(cpl);
	nonroot(proc, proc2);
}

static UNUSED void guest32(unsigned cpl, uint32_t proc, uint32_t proc2)
{
	mode_prot32(cpl);
	nonroot(proc, proc2);
}

static enum decode_mode cur_dmode(void)
{
	if (C->mode == MODE_LONG64)
		return DMODE_64;
	return (C->seg[SEG_CS].ar & AR_DB) ? DMODE_32 : DMODE_16;
}

static UNUSED void decode_bytes(const uint8_t *b, int n)
{
	int len = decode(b, n, cur_dmode(), &IN);
	if (len != n) {
		fprintf(stderr, "test bytes decode to length %d, not %d\n", len, n);
		exit(2);
	}
	C->next_rip = C->rip + (uint64_t)len;
}

static UNUSED int decide_bytes(const uint8_t *b, int n)
{
	decode_bytes(b, n);
	if (setjmp(C->fault_jmp))
		return FAULT(C->exc_vector);
	return vmx_insn_exits(C, &IN, &X) ? EXIT : NOEXIT;
}

/* Run the decoded instruction the way the run loop does in non-root operation.
 * Returns NO_FAULT or the vector of a fault (left undelivered). */
static UNUSED int run_bytes(const uint8_t *b, int n)
{
	decode_bytes(b, n);
	return run_insn(vmx_intercepted, &IN);
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ })
#define NBYTES(...) ((int)sizeof((const uint8_t[]){ __VA_ARGS__ }))
#define decide(...) decide_bytes(BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))
#define run(...) run_bytes(BYTES(__VA_ARGS__), NBYTES(__VA_ARGS__))

/* An exit with the given basic reason, qualification and length, and nothing else
 * reported (SDM 29.2.1: fields the reason does not define are 0 here). */
#define CHECK_EXIT(call, reason_, qual_, len_)                                   \
	do {                                                                     \
		CHECK_EQ((call), EXIT);                                          \
		CHECK_EQ(X.reason, (reason_));                                   \
		CHECK_EQ(X.qualification, (qual_));                              \
		CHECK_EQ(X.insn_len, (len_));                                    \
	} while (0)

/* After run() of an instruction that exits (native VMM: the exit ends in the VMCS and
 * the CPU leaves non-root operation, SDM 29.2, 29.3): the exit-information fields and
 * the saved guest RIP. */
#define CHECK_VMCS_EXIT(reason_, qual_, len_, info_, rip_)                       \
	do {                                                                     \
		CHECK(!C->vmx.non_root);                                         \
		CHECK_EQ(exit_reason(), (reason_));                              \
		CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), (qual_));                  \
		CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), (len_));              \
		CHECK_EQ(vr(VMCS_VMX_INSTRUCTION_INFO), (info_));                \
		CHECK_EQ(vr(VMCS_GUEST_RIP), (rip_));                            \
	} while (0)

static UNUSED void set_bit(gpa_t base, uint32_t bit)
{
	B.ram[base + (bit >> 3)] |= (uint8_t)(1u << (bit & 7));
}

#endif
