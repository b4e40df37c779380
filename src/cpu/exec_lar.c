/*
 * Descriptor inspection without loading: LAR LSL VERR VERW, and ARPL (SDM Vol.2 under
 * each name; SDM Vol.3A 5.10.1 "Checking Access Rights", 5.10.3 "Checking Caller
 * Access Privileges"). All are #UD outside protected mode; a failed check clears ZF
 * instead of faulting.
 */
#include "cpu/sys.h"

static void need_prot(struct cpu *cpu)
{
	if (!cpu_is_prot(cpu))
		cpu_ud(cpu);
}

static uint16_t sel_source(struct cpu *cpu, const struct insn *in)
{
	if (in->flags & INSN_MEM)
		return (uint16_t)mem_read(cpu, in->seg, insn_ea(cpu, in), 1);
	return (uint16_t)cpu->gpr[in->rm];
}

/* System types LAR accepts (SDM Vol.2 LAR Table 3-52): legacy mode 1, 2, 3, 4, 5, 9,
 * B, C; IA-32e mode 2, 9, B, C. LSL: the same without gates. */
static bool system_type_ok(const struct cpu *cpu, unsigned t, bool lsl)
{
	if (cpu_is_ia32e(cpu))
		return t == SYS_LDT || t == SYS_TSS_AVAIL || t == SYS_TSS_BUSY ||
		       (!lsl && t == SYS_CALL);
	switch (t) {
	case SYS_TSS16_AVAIL: case SYS_LDT: case SYS_TSS16_BUSY: case SYS_TSS_AVAIL:
	case SYS_TSS_BUSY:
		return true;
	case SYS_CALL16: case SYS_TASK: case SYS_CALL:
		return !lsl;
	default:
		return false;
	}
}

/* The shared check: is the descriptor visible at CPL/RPL (SDM 5.10.1)? Conforming
 * code segments are exempt from the privilege check. */
static bool visible(struct cpu *cpu, uint16_t sel, uint64_t d[2], bool lsl, bool *ok_type)
{
	if ((sel & 0xFFFC) == 0 || !seg_read_descriptor(cpu, sel, d, false))
		return false;
	*ok_type = desc_s(d[0]) || system_type_ok(cpu, desc_type(d[0]), lsl);
	if (!*ok_type)
		return false;
	if (desc_conforming(d[0]))
		return true;
	unsigned dpl = desc_dpl(d[0]);
	return dpl >= cpu->cpl && dpl >= (sel & 3u);
}

void exec_LAR(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint64_t d[2];
	bool type_ok = false;
	uint16_t sel = sel_source(cpu, in);
	if (!visible(cpu, sel, d, false, &type_ok)) {
		set_zf(cpu, false);
		return;
	}
	/* Access rights: the high doubleword AND 00FxFF00H (SDM Vol.2 LAR; bits 19:16,
	 * "undefined", hold limit[19:16] as on Intel hardware); osz 16: FF00H. */
	uint64_t ar = (d[0] >> 32) & (in->osz == 1 ? 0xFF00 : 0xFFFF00);
	opG_write(cpu, in, ar);
	set_zf(cpu, true);
}

void exec_LSL(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint64_t d[2];
	bool type_ok = false;
	uint16_t sel = sel_source(cpu, in);
	if (!visible(cpu, sel, d, true, &type_ok)) {
		set_zf(cpu, false);
		return;
	}
	struct seg s;
	seg_from_descriptor(&s, sel, d);
	opG_write(cpu, in, s.limit); /* the byte-granular limit, truncated to osz */
	set_zf(cpu, true);
}

/* VERR: readable code or data; VERW: writable data (SDM Vol.2 VERR/VERW). */
static void verify(struct cpu *cpu, const struct insn *in, bool write)
{
	need_prot(cpu);
	uint64_t d[2];
	bool type_ok = false;
	uint16_t sel = sel_source(cpu, in);
	bool ok = visible(cpu, sel, d, false, &type_ok) && desc_s(d[0]);
	if (ok)
		ok = write ? desc_writable_data(d[0]) : desc_readable(d[0]);
	set_zf(cpu, ok);
}

void exec_VERR(struct cpu *cpu, const struct insn *in)
{
	verify(cpu, in, false);
}

void exec_VERW(struct cpu *cpu, const struct insn *in)
{
	verify(cpu, in, true);
}

/* ARPL r/m16, r16: raise the destination RPL to the source RPL (SDM Vol.2 ARPL). */
void exec_ARPL(struct cpu *cpu, const struct insn *in)
{
	need_prot(cpu);
	uint64_t ea = 0;
	uint16_t dst;
	if (in->flags & INSN_MEM) {
		ea = insn_ea(cpu, in);
		mem_check_write(cpu, in->seg, ea, 2);
		dst = (uint16_t)mem_read(cpu, in->seg, ea, 1);
	} else {
		dst = (uint16_t)cpu->gpr[in->rm];
	}
	uint16_t src = (uint16_t)cpu->gpr[in->reg];
	if ((dst & 3) >= (src & 3)) {
		set_zf(cpu, false);
		return;
	}
	dst = (uint16_t)((dst & ~3) | (src & 3));
	if (in->flags & INSN_MEM)
		mem_write(cpu, in->seg, ea, 1, dst);
	else
		reg_write(cpu, in->rm, 1, false, dst);
	set_zf(cpu, true);
}
