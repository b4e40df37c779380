/*
 * Fast system calls: SYSCALL/SYSRET (SDM Vol.2 SYSCALL, SYSRET; IA32_STAR, IA32_LSTAR,
 * IA32_FMASK) and SYSENTER/SYSEXIT (SDM Vol.2 SYSENTER, SYSEXIT; IA32_SYSENTER_CS/
 * ESP/EIP). These load CS and SS with fixed flat attributes, not from the GDT.
 *
 * Intel behaviour: SYSCALL/SYSRET exist only in 64-bit mode (#UD in compatibility
 * mode, CSTAR is never used); SYSRET checks RCX for canonical form and raises #GP(0)
 * at CPL 0; SYSENTER/SYSEXIT work in 64-bit mode, SYSEXIT with REX.W returns to
 * 64-bit mode.
 */
#include "cpu/far.h"

/* SYSCALL/SYSRET need IA-32e mode, 64-bit code and EFER.SCE, else #UD. */
static void syscall_allowed(struct cpu *cpu)
{
	if (!(cpu->efer & EFER_SCE) || !cpu_is_64(cpu))
		cpu_ud(cpu);
}

void exec_SYSCALL(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	syscall_allowed(cpu);
	uint16_t sel = (uint16_t)(cpu->star >> 32) & 0xFFFC;
	uint64_t fl = cpu_get_rflags(cpu);
	cpu->gpr[RCX] = cpu->next_rip;
	cpu->gpr[R11] = fl & ~RFLAGS_RF;
	cpu_set_rflags(cpu, fl & ~cpu->sfmask & ~RFLAGS_RF);
	/* CS: base 0, limit 4G, type 11, S, DPL 0, P, L = 1; SS: type 3, B = 1. */
	seg_set_flat(&cpu->seg[SEG_CS], sel, 0xB, 0, true);
	seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)(sel + 8), 0x3, 0, false);
	cpu_update_mode(cpu);
	cpu->next_rip = cpu->lstar;
}

void exec_SYSRET(struct cpu *cpu, const struct insn *in)
{
	syscall_allowed(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	bool to64 = in->osz == 3;
	uint16_t base = (uint16_t)(cpu->star >> 48);
	uint64_t rip = cpu->gpr[RCX];
	if (to64 && !is_canonical(rip))
		cpu_gp(cpu, 0); /* Intel: #GP(0) at CPL 0 for a non-canonical RCX */
	if (!to64)
		rip = (uint32_t)rip;
	/* "RFLAGS := (R11 AND 3C7FD7H) OR 2" */
	cpu_set_rflags(cpu, (cpu->gpr[R11] & 0x3C7FD7) | RFLAGS_FIXED1);
	uint16_t cs = to64 ? (uint16_t)(base + 16) : base;
	seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(cs | 3), 0xB, 3, to64);
	seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((base + 8) | 3), 0x3, 3, false);
	cpu_update_mode(cpu);
	cpu->next_rip = rip;
}

void exec_SYSENTER(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	uint16_t sel = (uint16_t)cpu->sysenter_cs & 0xFFFC;
	if (!(cpu->cr0 & CR0_PE) || sel == 0)
		cpu_gp(cpu, 0);
	bool lm = cpu_is_ia32e(cpu);
	cpu_set_rflags(cpu, cpu_get_rflags(cpu) & ~(RFLAGS_VM | RFLAGS_IF | RFLAGS_RF));
	seg_set_flat(&cpu->seg[SEG_CS], sel, 0xB, 0, lm);
	seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)(sel + 8), 0x3, 0, false);
	cpu_update_mode(cpu);
	cpu->gpr[RSP] = lm ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
	cpu->next_rip = lm ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip;
}

void exec_SYSEXIT(struct cpu *cpu, const struct insn *in)
{
	uint16_t base = (uint16_t)cpu->sysenter_cs;
	if ((base & 0xFFFC) == 0 || !(cpu->cr0 & CR0_PE) || cpu->cpl != 0 ||
	    cpu->mode == MODE_VM86)
		cpu_gp(cpu, 0);
	bool to64 = in->osz == 3;
	uint64_t rip = cpu->gpr[RDX], rsp = cpu->gpr[RCX];
	if (to64 && (!is_canonical(rip) || !is_canonical(rsp)))
		cpu_gp(cpu, 0);
	uint16_t cs = (uint16_t)(base + (to64 ? 32 : 16));
	seg_set_flat(&cpu->seg[SEG_CS], (uint16_t)(cs | 3), 0xB, 3, to64);
	seg_set_flat(&cpu->seg[SEG_SS], (uint16_t)((cs + 8) | 3), 0x3, 3, false);
	cpu_update_mode(cpu);
	cpu->gpr[RSP] = to64 ? rsp : (uint32_t)rsp;
	cpu->next_rip = to64 ? rip : (uint32_t)rip;
}
