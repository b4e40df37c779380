/*
 * modes - leave 64-bit mode and come back (SDM Vol.3A 10.8.5.4, 10.9.2): 32-bit
 * protected mode with paging off, real mode with a BIOS-less IVT handler and segment
 * arithmetic, and compatibility mode (a 32-bit code segment in IA-32e mode).
 */
#include "rt.h"

void pm32_snippet(void), compat_snippet(void);
extern char rm_snippet[], rm_snippet_end[], rm_after_int[];

static void pm32(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_pm32(pm32_snippet, &r);
	check_eq(r.eax & (CR0_PE | CR0_PG), CR0_PE, "protected mode: CR0.PE=1, CR0.PG=0");
	check_eq(r.ebx & (EFER_LME | EFER_LMA), 0, "protected mode: EFER.LME=LMA=0");
	check_eq(r.ecx, SEL_KCODE32, "protected mode: CS = 32-bit code selector");
	check_eq(r.edx, 1, "protected mode: 32-bit add wraps");
	check_eq(r.esi, 0x5a5a1234, "protected mode: 32-bit stack push/pop");
	check(rdmsr(MSR_EFER) & EFER_LMA, "back in IA-32e mode after protected mode");
	check_eq(read_cs(), SEL_KCODE64, "back in 64-bit code segment");
}

static void real(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_real(rm_snippet, rm_snippet_end - rm_snippet, &r);
	check_eq(r.eax & 1, 0, "real mode: CR0.PE=0 (SMSW)");
	check_eq(r.ebx & 0xffff, rm_after_int - rm_snippet, "real mode INT pushes IP of the next instruction");
	check_eq(r.edx & 0xffff, 0xbeef, "real mode INT 0x60 ran the IVT handler");
	check_eq((r.esi - r.edi) & 0xffff, 0, "real mode IRET restores SP");
	check_eq(r.ecx & 0xffff, 0x7e57, "real mode segment arithmetic: 2000:0010 == 2001:0000");
	check_eq(*(volatile uint16_t *)phys_ptr(0x20010), 0x7e57, "real mode write landed at physical 0x20010");
	check_eq(r.ds, 0x2001, "real mode DS returned");
	check_eq(r.ebp, 0xfffffffe, "real mode 32-bit operand-size prefix arithmetic");
	check(rdmsr(MSR_EFER) & EFER_LMA, "back in IA-32e mode after real mode");
	/* runtime still works: an exception is caught normally */
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile("ud2");
		fault_end(&f);
	}
	check_eq(f.vector, 6, "IDT works again after the round trip");
}

static void compat(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_compat(compat_snippet, &r);
	check_eq(r.eax, 2, "compatibility mode: 0x40 decodes as INC EAX");
	check_eq(r.ebx & EFER_LMA, EFER_LMA, "compatibility mode: EFER.LMA=1");
	check_eq(r.ecx, SEL_KCODE32, "compatibility mode: CS = 32-bit code selector");
	check_eq(r.edx & CR0_PG, CR0_PG, "compatibility mode: paging on");
}

int main(void)
{
	pm32();
	real();
	compat();
	return 0;
}
