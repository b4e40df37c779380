/*
 * Instructions on the system flags of RFLAGS: PUSHF POPF CLI STI CLAC STAC (SDM Vol.2
 * under each name; SDM Vol.1 3.4.3.3, Vol.3A 2.3 for IOPL, IF, AC).
 *
 * No virtual-mode extensions (CPUID.1:EDX.VME = 0, CR4.VME/PVI reserved): where the
 * SDM would use VIF, these raise #GP(0) instead, as a processor without VME does.
 */
#include "cpu/cpuid.h"
#include "cpu/sys.h"

/* PUSHF/PUSHFD/PUSHFQ: the image has VM and RF cleared ("EFLAGS AND 00FCFFFFH"). */
void exec_PUSHF(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode == MODE_VM86 && cpu_iopl(cpu) < 3)
		cpu_gp(cpu, 0);
	uint64_t fl = cpu_get_rflags(cpu) & 0xFCFFFF;
	stack_push(cpu, in->osz, fl & size_mask(in->osz));
}

/* The RFLAGS bits POPF may change (SDM Vol.2 POPF "Operation"): never VM, VIP, VIF;
 * IOPL at CPL 0 only; IF when CPL <= IOPL. RF is always cleared. */
static uint64_t popf_mask(const struct cpu *cpu, int osz)
{
	uint64_t mask = RFLAGS_ARITH | RFLAGS_TF | RFLAGS_DF | RFLAGS_NT | RFLAGS_AC |
			RFLAGS_ID | RFLAGS_IF | RFLAGS_IOPL;
	if (cpu->mode == MODE_VM86) {
		mask &= ~RFLAGS_IOPL; /* IOPL = 3 here, else #GP before */
	} else if (cpu->cpl > 0) {
		mask &= ~RFLAGS_IOPL;
		if (cpu->cpl > cpu_iopl(cpu))
			mask &= ~RFLAGS_IF; /* silently kept, no fault */
	}
	if (osz == 1)
		mask &= 0xFFFF;
	return mask;
}

void exec_POPF(struct cpu *cpu, const struct insn *in)
{
	if (cpu->mode == MODE_VM86 && cpu_iopl(cpu) < 3)
		cpu_gp(cpu, 0);
	uint64_t tmp = stack_pop(cpu, in->osz);
	uint64_t mask = popf_mask(cpu, in->osz);
	uint64_t old = cpu_get_rflags(cpu);
	cpu_set_rflags(cpu, ((old & ~mask) | (tmp & mask)) & ~RFLAGS_RF);
}

/* CLI/STI are allowed in real mode, or with IOPL >= CPL (SDM Vol.2 CLI "Operation");
 * the VIF paths (PVI, VME) do not exist here. */
static void iopl_check(struct cpu *cpu)
{
	if (cpu->mode == MODE_REAL)
		return;
	if (cpu_iopl(cpu) < (cpu->mode == MODE_VM86 ? 3u : cpu->cpl))
		cpu_gp(cpu, 0);
}

void exec_CLI(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	iopl_check(cpu);
	cpu->rflags &= ~RFLAGS_IF;
}

/* STI: interrupts stay blocked until after the next instruction, but only if IF was
 * 0 before (SDM Vol.2 STI; SDM 6.8.3). */
void exec_STI(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	iopl_check(cpu);
	if (!(cpu->rflags & RFLAGS_IF)) {
		cpu->rflags |= RFLAGS_IF;
		cpu->intr_shadow = 1;
		cpu->intr_shadow_kind = SHADOW_STI;
	}
}

/* CLAC/STAC: #UD without SMAP, in virtual-8086 mode, or at CPL > 0 (SDM Vol.2 CLAC). */
static void smap_check(struct cpu *cpu)
{
	if (!cpu_has_feature(cpu, FEAT_SMAP) || cpu->mode == MODE_VM86 || cpu->cpl > 0)
		cpu_ud(cpu);
}

void exec_CLAC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	smap_check(cpu);
	cpu->rflags &= ~RFLAGS_AC;
}

void exec_STAC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	smap_check(cpu);
	cpu->rflags |= RFLAGS_AC;
}
