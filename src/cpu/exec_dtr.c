/*
 * Descriptor-table registers and TLB invalidation: LGDT LIDT SGDT SIDT LLDT LTR SLDT
 * STR INVLPG INVPCID (SDM Vol.2 under each name; SDM Vol.3A 2.4, 3.5, 8.2.4, 4.10.4).
 */
#include "cpu/cpuid.h"
#include "cpu/sys.h"

static void need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

static void need_mem(struct cpu *cpu, const struct insn *in)
{
	if (!(in->flags & INSN_MEM))
		cpu_ud(cpu);
}

/* LLDT/LTR/SLDT/STR are not recognised in real-address and virtual-8086 mode. */
static void need_prot(struct cpu *cpu)
{
	if (!cpu_is_prot(cpu))
		cpu_ud(cpu);
}

/* The 16-bit selector operand of LLDT/LTR (register or m16). */
static uint16_t sel_operand(struct cpu *cpu, const struct insn *in)
{
	if (in->flags & INSN_MEM)
		return (uint16_t)mem_read(cpu, in->seg, insn_ea(cpu, in), 1);
	return (uint16_t)cpu->gpr[in->rm];
}

/* --- LGDT / LIDT: limit (2 bytes) then base (3, 4 or 8 bytes) -------------------- */

static void load_dtr(struct cpu *cpu, const struct insn *in, struct dtr *dtr)
{
	need_mem(cpu, in);
	need_cpl0(cpu);
	uint64_t ea = insn_ea(cpu, in);
	uint64_t mask = size_mask(in->asz);
	uint16_t limit = (uint16_t)mem_read(cpu, in->seg, ea, 1);
	uint64_t base;
	if (cpu_is_64(cpu)) {
		base = mem_read(cpu, in->seg, (ea + 2) & mask, 3);
		if (!is_canonical(base))
			cpu_gp(cpu, 0);
	} else {
		base = mem_read(cpu, in->seg, (ea + 2) & mask, 2);
		if (in->osz == 1)
			base &= 0xFFFFFF; /* 16-bit operand: 24-bit base (SDM Vol.2 LGDT) */
	}
	dtr->base = base;
	dtr->limit = limit;
}

void exec_LGDT(struct cpu *cpu, const struct insn *in)
{
	load_dtr(cpu, in, &cpu->gdtr);
}

void exec_LIDT(struct cpu *cpu, const struct insn *in)
{
	load_dtr(cpu, in, &cpu->idtr);
}

/* SGDT/SIDT: 2 + 4 bytes (the full 32-bit base even with a 16-bit operand on current
 * processors), 2 + 8 in 64-bit mode (SDM Vol.2 SGDT). */
static void store_dtr(struct cpu *cpu, const struct insn *in, const struct dtr *dtr)
{
	need_mem(cpu, in);
	cpu_umip_check(cpu);
	uint64_t ea = insn_ea(cpu, in);
	uint64_t mask = size_mask(in->asz);
	int bsz = cpu_is_64(cpu) ? 3 : 2;
	mem_check_write(cpu, in->seg, ea, 2 + (1 << bsz));
	mem_write(cpu, in->seg, ea, 1, dtr->limit);
	mem_write(cpu, in->seg, (ea + 2) & mask, bsz, dtr->base);
}

void exec_SGDT(struct cpu *cpu, const struct insn *in)
{
	store_dtr(cpu, in, &cpu->gdtr);
}

void exec_SIDT(struct cpu *cpu, const struct insn *in)
{
	store_dtr(cpu, in, &cpu->idtr);
}

/* --- LLDT / LTR ------------------------------------------------------------------ */

/* A GDT system descriptor for LLDT/LTR: 16 bytes in IA-32e mode, whose upper type
 * field must be 0 and whose base must be canonical (SDM 8.2.3, Vol.2 LLDT/LTR). */
static void fetch_system_desc(struct cpu *cpu, uint16_t sel, uint64_t d[2])
{
	bool wide = cpu_is_ia32e(cpu);
	if (sel & 4)
		cpu_gp(cpu, sel_err(sel, 0)); /* must be in the GDT */
	seg_fetch_desc(cpu, sel, d, wide, EXC_GP, 0);
	if (wide) {
		struct seg tmp;
		seg_from_descriptor(&tmp, sel, d);
		if (((d[1] >> 40) & 0x1F) || !is_canonical(tmp.base))
			cpu_gp(cpu, sel_err(sel, 0));
	}
}

void exec_LLDT(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	need_cpl0(cpu);
	uint16_t sel = sel_operand(cpu, in);
	if ((sel & 0xFFFC) == 0) {
		seg_make_null(&cpu->ldtr, sel, 0); /* null: LDTR unusable */
		return;
	}
	uint64_t d[2];
	fetch_system_desc(cpu, sel, d);
	if (desc_s(d[0]) || desc_type(d[0]) != SYS_LDT)
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
	seg_from_descriptor(&cpu->ldtr, sel, d);
}

void exec_LTR(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	need_cpl0(cpu);
	uint16_t sel = sel_operand(cpu, in);
	if ((sel & 0xFFFC) == 0)
		cpu_gp(cpu, 0);
	uint64_t d[2];
	fetch_system_desc(cpu, sel, d);
	unsigned type = desc_type(d[0]);
	/* An available TSS: 32/64-bit (9), or 16-bit (1) outside IA-32e mode. */
	bool ok = type == SYS_TSS_AVAIL || (type == SYS_TSS16_AVAIL && !cpu_is_ia32e(cpu));
	if (desc_s(d[0]) || !ok)
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
	/* Mark it busy in the GDT (type bit 1, byte 5). */
	gva_t la = cpu->gdtr.base + (sel & 0xFFF8) + 5;
	if (!cpu_is_ia32e(cpu))
		la = (uint32_t)la;
	lin_write(cpu, la, 0, ((d[0] >> 40) & 0xFF) | 2, ACC_WRITE | ACC_IMPLICIT);
	d[0] |= BIT(41);
	seg_from_descriptor(&cpu->tr, sel, d);
}

/* SLDT/STR: a register gets the selector zero-extended to the operand size, memory
 * takes 16 bits (SDM Vol.2 SLDT, STR). */
static void store_sel(struct cpu *cpu, const struct insn *in, uint16_t sel)
{
	need_prot(cpu);
	cpu_umip_check(cpu);
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, insn_ea(cpu, in), 1, sel);
	else
		reg_write(cpu, in->rm, in->osz, false, sel);
}

void exec_SLDT(struct cpu *cpu, const struct insn *in)
{
	store_sel(cpu, in, cpu->ldtr.sel);
}

void exec_STR(struct cpu *cpu, const struct insn *in)
{
	store_sel(cpu, in, cpu->tr.sel);
}

/* --- INVLPG / INVPCID (SDM 4.10.4.1) ---------------------------------------------- */

/* INVLPG m: CPL 0; no segment checks and no fault for an absent or non-canonical page
 * (the instruction is then a no-op). */
void exec_INVLPG(struct cpu *cpu, const struct insn *in)
{
	need_mem(cpu, in);
	need_cpl0(cpu);
	uint64_t off = insn_ea(cpu, in);
	gva_t la;
	if (cpu_is_64(cpu))
		la = off + (in->seg == SEG_FS || in->seg == SEG_GS ? cpu->seg[in->seg].base : 0);
	else
		la = (uint32_t)(cpu->seg[in->seg].base + off);
	if (is_canonical(la))
		tlb_flush_page(cpu, la);
}

/* INVPCID r, m128 (SDM Vol.2 INVPCID): types 0 address, 1 single context, 2 all
 * including globals, 3 all but globals. */
void exec_INVPCID(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_INVPCID) || !cpu_is_prot(cpu))
		cpu_ud(cpu);
	need_mem(cpu, in);
	need_cpl0(cpu);
	uint64_t type = cpu_is_64(cpu) ? cpu->gpr[in->reg] : (uint32_t)cpu->gpr[in->reg];
	uint64_t ea = insn_ea(cpu, in);
	uint64_t lo = mem_read(cpu, in->seg, ea, 3);
	uint64_t la = mem_read(cpu, in->seg, (ea + 8) & size_mask(in->asz), 3);
	uint16_t pcid = lo & 0xFFF;
	bool pcide = cpu->cr4 & CR4_PCIDE;
	if (type > 3 || (lo >> 12))
		cpu_gp(cpu, 0); /* descriptor bits 63:12 are reserved */
	if (type <= 1 && !pcide && pcid != 0)
		cpu_gp(cpu, 0);
	switch (type) {
	case 0:
		if (!is_canonical(la))
			cpu_gp(cpu, 0);
		tlb_flush_page(cpu, la); /* every PCID: a permitted over-invalidation */
		break;
	case 1: tlb_flush_pcid(cpu, pcid, true); break;
	case 2: tlb_flush_all(cpu); break;
	default: tlb_flush_all(cpu); break; /* globals too: a permitted over-invalidation */
	}
}
