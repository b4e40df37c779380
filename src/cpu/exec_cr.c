/*
 * Control and debug registers: MOV to/from CRn and DRn, CLTS, LMSW, SMSW (SDM Vol.2
 * "MOV—Move to/from Control Registers", "MOV—Move to/from Debug Registers"; SDM Vol.3A
 * 2.5 "Control Registers", 4.10.4 TLB invalidation, 18.2 debug registers).
 *
 * TLB effects go through the MMU's notifications (mem.h: tlb_cr3_written,
 * tlb_ctl_written), which do every invalidation SDM 4.10.4.1 requires; PAE paging
 * loads the PDPTE registers at MOV CR0/CR3/CR4 (SDM 4.4.1) and a reserved bit in a
 * present PDPTE is #GP(0) with the old value kept.
 */
#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_intercept.h"
#include "cpu/vmx/vmx_internal.h"

/* CR0 bits the silicon keeps; the other bits of CR0[31:0] are reserved and writes to
 * them are ignored (SDM 2.5 "Reserved bits ... ignored"); ET is fixed to 1. */
#define CR0_KEEP (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		  CR0_NW | CR0_CD | CR0_PG)

/* CR4 bits of advertised features (SDM 2.5: setting a bit of an unsupported feature,
 * or a reserved bit, is #GP(0)). No VME/PVI (no virtual-8086 extensions), no OSFXSR/
 * OSXMMEXCPT/OSXSAVE (no SSE, XSAVE), no LA57, PKE, SMXE. IA32_VMX_CR4_FIXED1 is this
 * set (vmx_caps.c). */
uint64_t cpu_cr4_allowed(const struct cpu *cpu)
{
	uint64_t a = CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE | CR4_PGE | CR4_PCE |
		     CR4_UMIP | CR4_FSGSBASE | CR4_PCIDE | CR4_SMEP | CR4_SMAP;
	if (cpu_has_feature(cpu, FEAT_VMX))
		a |= CR4_VMXE;
	return a;
}

/* PAE paging outside IA-32e mode (SDM 4.1.1, 4.4). */
static bool pae_paging(const struct cpu *cpu)
{
	return (cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) && !(cpu->efer & EFER_LMA);
}

static void need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

/* The GPR operand of MOV CR/DR: 64 bits in 64-bit mode, else 32 (SDM Vol.2 MOV CR). */
static uint64_t cr_operand(const struct cpu *cpu, const struct insn *in)
{
	return cpu_is_64(cpu) ? cpu->gpr[in->rm] : (uint32_t)cpu->gpr[in->rm];
}

/* MOV to CR0 (SDM Vol.2 MOV CR "Protected Mode Exceptions" and 9.8.5). */
void cpu_write_cr0(struct cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr0, old_efer = cpu->efer;
	if (v >> 32)
		cpu_gp(cpu, 0);
	v = (v & CR0_KEEP) | CR0_ET;
	if (unlikely(cpu->vmx.host != VMX_HOST_NONE) && !vmx_cr0_allowed(cpu, v))
		cpu_gp(cpu, 0); /* IA32_VMX_CR0_FIXED0/1 in VMX operation (SDM 25.8, A.7) */
	if ((v & CR0_PG) && !(v & CR0_PE))
		cpu_gp(cpu, 0); /* PG without PE */
	if ((v & CR0_NW) && !(v & CR0_CD))
		cpu_gp(cpu, 0); /* NW without CD */
	bool pg_on = (v & CR0_PG) && !(old & CR0_PG);
	bool pg_off = !(v & CR0_PG) && (old & CR0_PG);
	if (pg_on && (cpu->efer & EFER_LME)) {
		/* Activating IA-32e mode (SDM 9.8.5): PAE required, CS.L must be 0. */
		if (!(cpu->cr4 & CR4_PAE) || (cpu->seg[SEG_CS].ar & AR_L))
			cpu_gp(cpu, 0);
	}
	if (pg_off && (cpu->cr4 & CR4_PCIDE))
		cpu_gp(cpu, 0); /* SDM 4.10.1: clearing PG with CR4.PCIDE = 1 */
	if (pg_off && cpu_is_64(cpu))
		cpu_gp(cpu, 0); /* leaving IA-32e mode must start in compatibility mode */
	cpu->cr0 = v;
	if (pg_on && (cpu->efer & EFER_LME))
		cpu->efer |= EFER_LMA;
	if (pg_off)
		cpu->efer &= ~EFER_LMA;
	if (pae_paging(cpu) && ((old ^ v) & (CR0_PG | CR0_CD | CR0_NW)) &&
	    !mmu_load_pdptrs(cpu)) {
		cpu->cr0 = old; /* a reserved bit in a present PDPTE (SDM 4.4.1) */
		cpu->efer = old_efer;
		cpu_gp(cpu, 0);
	}
	tlb_ctl_written(cpu);
	cpu_update_mode(cpu);
}

/* MOV to CR3 (SDM 4.10.4.1; 4.5 CR3 format with and without PCIDE). */
static void write_cr3(struct cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr3;
	bool no_flush = (cpu->cr4 & CR4_PCIDE) && (v & BIT(63));
	if (no_flush)
		v &= ~BIT(63); /* bit 63 is not stored */
	if (cpu_is_ia32e(cpu) && (v >> CPU_MAXPHYADDR))
		cpu_gp(cpu, 0); /* reserved bits beyond MAXPHYADDR */
	cpu->cr3 = v;
	if (pae_paging(cpu) && !mmu_load_pdptrs(cpu)) {
		cpu->cr3 = old;
		cpu_gp(cpu, 0);
	}
	tlb_cr3_written(cpu, no_flush);
}

/* MOV to CR4 (SDM 2.5, 4.10.1, 4.10.4.1). */
void cpu_write_cr4(struct cpu *cpu, uint64_t v)
{
	uint64_t old = cpu->cr4;
	if (v & ~cpu_cr4_allowed(cpu))
		cpu_gp(cpu, 0);
	if (unlikely(cpu->vmx.host != VMX_HOST_NONE) && !vmx_cr4_allowed(cpu, v))
		cpu_gp(cpu, 0); /* CR4.VMXE stays 1 in VMX operation (SDM 25.8, A.8) */
	if ((v & CR4_PCIDE) && !(old & CR4_PCIDE) &&
	    ((cpu->cr3 & 0xFFF) || !cpu_is_ia32e(cpu)))
		cpu_gp(cpu, 0); /* PCIDE 0->1 needs IA-32e mode and CR3[11:0] = 0 */
	if (!(v & CR4_PAE) && cpu_is_ia32e(cpu))
		cpu_gp(cpu, 0); /* PAE cannot be cleared in IA-32e mode */
	cpu->cr4 = v;
	if (pae_paging(cpu) && ((old ^ v) & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)) &&
	    !mmu_load_pdptrs(cpu)) {
		cpu->cr4 = old;
		cpu_gp(cpu, 0);
	}
	tlb_ctl_written(cpu);
	if ((old ^ v) & CR4_DE)
		debug_update(cpu); /* R/W = 10 means I/O breakpoints with DE only (SDM 18.2.4) */
}

static void write_cr8(struct cpu *cpu, uint64_t v)
{
	if (v >> 4)
		cpu_gp(cpu, 0); /* SDM 2.5: CR8[63:4] reserved */
	if (unlikely(cpu->vmx.non_root) && vmx_cr8_write(cpu, v))
		return; /* the virtual TPR (SDM 27.3 MOV to CR8) */
	if (cpu->apic_ops && cpu->apic_ops->set_tpr)
		cpu->apic_ops->set_tpr(cpu->apic, (uint8_t)(v << 4)); /* TPR[7:4] = CR8[3:0] */
}

static uint64_t read_cr8(struct cpu *cpu)
{
	if (cpu->apic_ops && cpu->apic_ops->get_tpr)
		return cpu->apic_ops->get_tpr(cpu->apic) >> 4;
	return 0;
}

/* Only CR0, CR2, CR3, CR4 and CR8 exist (SDM Vol.2 MOV CR: others #UD). */
static bool cr_exists(unsigned n)
{
	return n == 0 || n == 2 || n == 3 || n == 4 || n == 8;
}

void exec_MOV_TO_CR(struct cpu *cpu, const struct insn *in)
{
	if (!cr_exists(in->reg))
		cpu_ud(cpu);
	need_cpl0(cpu);
	uint64_t v = cr_operand(cpu, in);
	if (unlikely(cpu->vmx.non_root))
		v = vmx_cr_guest_write(cpu, in->reg, v); /* SDM 27.3: masked bits kept */
	switch (in->reg) {
	case 0: cpu_write_cr0(cpu, v); break;
	case 2: cpu->cr2 = v; break;
	case 3: write_cr3(cpu, v); break;
	case 4: cpu_write_cr4(cpu, v); break;
	default: write_cr8(cpu, v); break;
	}
}

void exec_MOV_FROM_CR(struct cpu *cpu, const struct insn *in)
{
	uint64_t v;
	if (!cr_exists(in->reg))
		cpu_ud(cpu);
	need_cpl0(cpu);
	switch (in->reg) {
	case 0: v = cpu->cr0; break;
	case 2: v = cpu->cr2; break;
	case 3: v = cpu->cr3; break;
	case 4: v = cpu->cr4; break;
	default: v = read_cr8(cpu); break;
	}
	if (unlikely(cpu->vmx.non_root))
		v = vmx_cr_guest_read(cpu, in->reg, v); /* SDM 27.3: shadows, virtual TPR */
	cpu->gpr[in->rm] = cpu_is_64(cpu) ? v : (uint32_t)v;
}

/* SDM Vol.2 CLTS: CPL 0; CR0.TS = 0. */
void exec_CLTS(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	need_cpl0(cpu);
	if (unlikely(cpu->vmx.non_root) && vmx_clts_keeps_ts(cpu))
		return; /* SDM 27.3 CLTS: TS owned by the VMM */
	cpu->cr0 &= ~CR0_TS;
}

/* SDM Vol.2 LMSW: CPL 0; loads PE, MP, EM, TS; can set PE but never clear it. */
void exec_LMSW(struct cpu *cpu, const struct insn *in)
{
	uint64_t src = (in->flags & INSN_MEM) ? mem_read(cpu, in->seg, insn_ea(cpu, in), 1)
					      : cpu->gpr[in->rm] & 0xFFFF;
	need_cpl0(cpu);
	uint64_t v = (cpu->cr0 & ~0xEULL) | (src & 0xF) | (cpu->cr0 & CR0_PE);
	if (unlikely(cpu->vmx.non_root))
		v = vmx_cr_guest_write(cpu, 0, v); /* SDM 27.3 LMSW: masked bits kept */
	cpu_write_cr0(cpu, v);
}

/* UMIP (SDM 2.5 CR4.UMIP): SGDT, SIDT, SLDT, SMSW, STR at CPL > 0 raise #GP(0). */
void cpu_umip_check(struct cpu *cpu)
{
	if ((cpu->cr4 & CR4_UMIP) && cpu->cpl > 0)
		cpu_gp(cpu, 0);
}

/* SDM Vol.2 SMSW: memory takes 16 bits; a register takes CR0 at the operand size. */
void exec_SMSW(struct cpu *cpu, const struct insn *in)
{
	cpu_umip_check(cpu);
	uint64_t cr0 = cpu->cr0;
	if (unlikely(cpu->vmx.non_root))
		cr0 = vmx_cr_guest_read(cpu, 0, cr0); /* SDM 27.3 SMSW: CR0 read shadow */
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), 1, cr0 & 0xFFFF);
	else
		reg_write(cpu, in->rm, in->osz, false, cr0);
}

/* --- debug registers (SDM 18.2) ------------------------------------------------ */

/* DR4/DR5: #UD with CR4.DE, else aliases of DR6/DR7 (SDM 18.2.2). Also DR7.GD: the
 * access raises a fault-class #DB with DR6.BD set (SDM 18.2.4, 18.3.1.3) and GD
 * cleared, so that the handler may use the debug registers. */
static unsigned dr_index(struct cpu *cpu, unsigned n)
{
	if (n > 7)
		cpu_ud(cpu);
	need_cpl0(cpu);
	if (n == 4 || n == 5) {
		if (cpu->cr4 & CR4_DE)
			cpu_ud(cpu);
		n += 2;
	}
	if (cpu->dr[7] & DR7_GD) {
		cpu->dr[7] &= ~DR7_GD;
		debug_fault(cpu, DR6_BD, true);
	}
	return n;
}

void exec_MOV_TO_DR(struct cpu *cpu, const struct insn *in)
{
	unsigned n = dr_index(cpu, in->reg);
	uint64_t v = cr_operand(cpu, in);
	if (n >= 6 && (v >> 32))
		cpu_gp(cpu, 0); /* DR6/DR7[63:32] must be 0 (SDM Vol.2 MOV DR) */
	if (n == 6)
		v = (v & DR6_STATUS) | DR6_FIXED1; /* B0-B3, BD, BS, BT; reserved bits read 1 */
	else if (n == 7)
		v = (v & ~0xD800ULL) | DR7_FIXED1; /* bits 11, 12, 14, 15 read 0, bit 10 1 */
	cpu->dr[n] = v;
	if (n != 6)
		debug_update(cpu); /* DR0-DR3 and DR7 arm breakpoints */
}

void exec_MOV_FROM_DR(struct cpu *cpu, const struct insn *in)
{
	unsigned n = dr_index(cpu, in->reg);
	cpu->gpr[in->rm] = cpu_is_64(cpu) ? cpu->dr[n] : (uint32_t)cpu->dr[n];
}
