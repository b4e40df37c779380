/*
 * RDMSR/WRMSR in VMX non-root operation (SDM 27.1.3, MSR bitmaps 26.6.9) and TSC
 * offsetting (SDM 26.6.5, 27.3 RDTSC/RDTSCP/RDMSR).
 *
 * With "use MSR bitmaps" = 0 every RDMSR and WRMSR exits. With it = 1 the 4-KByte
 * bitmap page holds four 1-KByte bitmaps: read-low (MSRs 00000000H-00001FFFH) at 0,
 * read-high (C0000000H-C0001FFFH) at 1024, write-low at 2048, write-high at 3072; a
 * set bit exits, and an ECX outside both ranges always exits. The CPL check comes
 * first (SDM 27.1.1: RDMSR at CPL 3 is #GP, not an exit); the #GP for an unknown MSR
 * or a bad value does not: it happens only if the instruction does not exit.
 */
#include "cpu/vmx/vmx_intercept.h"

#define MSR_HIGH_BASE 0xC0000000u
#define MSR_RANGE 0x2000u

/* SDM 27.1.3, 26.6.9: RDMSR/WRMSR exit without MSR bitmaps, for an ECX outside the
 * low (0-1FFFH) and high (C0000000H-C0001FFFH) ranges, or if the ECX bit is set in
 * the read or write bitmap of its range. */
static bool msr_exits(struct cpu *cpu, bool write)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	uint32_t msr = (uint32_t)cpu->gpr[RCX];
	if (!(c->proc & PROC_USE_MSR_BITMAPS))
		return true;
	uint32_t offset = write ? 2048 : 0;
	if (msr >= MSR_HIGH_BASE && msr - MSR_HIGH_BASE < MSR_RANGE) {
		offset += 1024;
		msr -= MSR_HIGH_BASE;
	} else if (msr >= MSR_RANGE) {
		return true;
	}
	gpa_t byte = c->msr_bitmap + offset + (msr >> 3);
	return bus_read(cpu->bus, byte, 1) & (1u << (msr & 7));
}

bool vmx_icept_rdmsr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	x->reason = EXIT_REASON_MSR_READ;
	return msr_exits(cpu, false);
}

bool vmx_icept_wrmsr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	(void)in;
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	x->reason = EXIT_REASON_MSR_WRITE;
	return msr_exits(cpu, true);
}

/* SDM 27.3 RDTSC, RDTSCP, RDMSR: with "use TSC offsetting" the value read is the TSC
 * plus the TSC offset (no TSC scaling on this silicon). */
uint64_t vmx_guest_tsc(const struct cpu *cpu, uint64_t tsc)
{
	if (cpu->vmx.ctl.proc & PROC_USE_TSC_OFFSETTING)
		tsc += cpu->vmx.ctl.tsc_offset;
	return tsc;
}
