/*
 * Call gates (SDM Vol.3A 5.8.3-5.8.6; SDM Vol.2 CALL "CALL-GATE", JMP "CALL-GATE").
 *
 * Legacy mode: 16-bit (type 4) and 32-bit (type 12) 8-byte gates; a CALL to a more
 * privileged non-conforming segment switches to the TSS stack of the target ring and
 * copies the gate's parameter count of words/doublewords (SDM 5.8.5, Figure 5-13).
 * IA-32e mode: 16-byte 64-bit gates to 64-bit code only, no parameter copy, a null SS
 * with RPL = new CPL after a privilege change (SDM 5.8.3.1, 5.8.6).
 */
#include "cpu/far.h"

/* Checks shared by JMP and CALL through a gate; fills the target. */
static void gate_target(struct cpu *cpu, uint16_t gsel, uint64_t g[2], bool is_call,
			uint16_t *csel, uint64_t d[2], uint64_t *off)
{
	bool wide = cpu_is_ia32e(cpu);
	unsigned gdpl = desc_dpl(g[0]);
	/* SDM 5.8.4: gate DPL >= CPL and >= RPL of the gate selector. */
	if (gdpl < cpu->cpl || gdpl < (gsel & 3u))
		cpu_gp(cpu, sel_err(gsel, 0));
	if (!desc_p(g[0]))
		cpu_exception(cpu, EXC_NP, sel_err(gsel, 0));
	if (wide) {
		seg_fetch_desc(cpu, gsel, g, true, EXC_GP, 0);
		if ((g[1] >> 40) & 0x1F) /* upper type field must be 0 (Figure 5-9) */
			cpu_gp(cpu, sel_err(gsel, 0));
	}
	*csel = gate_selector(g[0]);
	if ((*csel & 0xFFFC) == 0)
		cpu_gp(cpu, 0);
	seg_fetch_desc(cpu, *csel, d, false, EXC_GP, 0);
	unsigned dpl = desc_dpl(d[0]);
	if (!desc_is_code(d[0]) || dpl > cpu->cpl)
		cpu_gp(cpu, sel_err(*csel, 0));
	/* JMP cannot change privilege: non-conforming targets need DPL = CPL. */
	if (!is_call && !desc_conforming(d[0]) && dpl != cpu->cpl)
		cpu_gp(cpu, sel_err(*csel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(*csel, 0));
	if (wide && (!desc_l(d[0]) || desc_db(d[0])))
		cpu_gp(cpu, sel_err(*csel, 0)); /* 64-bit gates lead to 64-bit code */
	*off = gate_offset(g, wide);
	if (desc_type(g[0]) == SYS_CALL16)
		*off &= 0xFFFF;
	if (!far_target_ok(cpu, d, *off))
		cpu_gp(cpu, 0);
	seg_set_accessed(cpu, *csel, d[0]);
}

void gate_jmp(struct cpu *cpu, uint16_t gsel, uint64_t g[2])
{
	uint16_t csel;
	uint64_t d[2], off;
	gate_target(cpu, gsel, g, false, &csel, d, &off);
	far_enter(cpu, csel, d, cpu->cpl, off);
}

/* The inner stack of a legacy call gate: SS:ESP for ring dpl from the TSS with the
 * #TS/#SS checks of SDM Vol.2 CALL "MORE-PRIVILEGE". */
static void inner_stack(struct cpu *cpu, unsigned dpl, struct stk *n, uint16_t *ss,
			uint64_t ssd[2])
{
	uint32_t sp;
	tss_legacy_stack(cpu, dpl, ss, &sp, 0);
	if ((*ss & 0xFFFC) == 0)
		cpu_exception(cpu, EXC_TS, 0);
	seg_fetch_desc(cpu, *ss, ssd, false, EXC_TS, 0);
	if ((*ss & 3) != dpl || desc_dpl(ssd[0]) != dpl || !desc_writable_data(ssd[0]))
		cpu_exception(cpu, EXC_TS, sel_err(*ss, 0));
	if (!desc_p(ssd[0]))
		cpu_exception(cpu, EXC_SS, sel_err(*ss, 0));
	seg_from_descriptor(&n->ss, *ss, ssd);
	n->rsp = sp;
	n->mask = (n->ss.ar & AR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
	n->lm64 = false;
	n->vector = EXC_SS;
	n->err = sel_err(*ss, 0);
	n->acc = ACC_IMPLICIT;
}

static void call_inner_legacy(struct cpu *cpu, const uint64_t g[2], uint16_t csel,
			      const uint64_t d[2], uint64_t off)
{
	unsigned dpl = desc_dpl(d[0]);
	int w = desc_type(g[0]) == SYS_CALL ? 4 : 2;
	unsigned count = (g[0] >> 32) & 0x1F; /* parameter count, Figure 5-8 */
	struct stk n, old;
	uint16_t ss;
	uint64_t ssd[2];
	inner_stack(cpu, dpl, &n, &ss, ssd);
	stk_current(cpu, &old);
	stk_push(cpu, &n, w, cpu->seg[SEG_SS].sel);
	stk_push(cpu, &n, w, cpu->gpr[RSP]);
	for (unsigned i = count; i-- > 0;) /* copy so the parameters keep their order */
		stk_push(cpu, &n, w, stk_read(cpu, &old, (uint64_t)i * w, w));
	stk_push(cpu, &n, w, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &n, w, cpu->next_rip);
	seg_set_accessed(cpu, ss, ssd[0]);
	seg_load_ss(cpu, ss, ssd, dpl);
	stk_commit(cpu, &n);
	far_enter(cpu, csel, d, dpl, off);
}

static void call_inner_64(struct cpu *cpu, uint16_t csel, const uint64_t d[2], uint64_t off)
{
	unsigned dpl = desc_dpl(d[0]);
	struct stk n = {
		.rsp = tss64_stack(cpu, dpl, 0, 0), .mask = ~0ULL, .lm64 = true,
		.vector = EXC_SS, .err = 0, .acc = ACC_IMPLICIT,
	};
	stk_push(cpu, &n, 8, cpu->seg[SEG_SS].sel);
	stk_push(cpu, &n, 8, cpu->gpr[RSP]);
	stk_push(cpu, &n, 8, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &n, 8, cpu->next_rip);
	seg_make_null(&cpu->seg[SEG_SS], (uint16_t)dpl, dpl);
	stk_commit(cpu, &n);
	far_enter(cpu, csel, d, dpl, off);
}

void gate_call(struct cpu *cpu, uint16_t gsel, uint64_t g[2])
{
	uint16_t csel;
	uint64_t d[2], off;
	gate_target(cpu, gsel, g, true, &csel, d, &off);
	bool wide = cpu_is_ia32e(cpu);
	if (!desc_conforming(d[0]) && desc_dpl(d[0]) < cpu->cpl) {
		if (wide)
			call_inner_64(cpu, csel, d, off);
		else
			call_inner_legacy(cpu, g, csel, d, off);
		return;
	}
	/* Same privilege: push CS and the return address at the gate's size; a 64-bit
	 * gate pushes 8-byte items on a 64-bit stack. */
	struct stk s;
	stk_current(cpu, &s);
	int w = wide ? 8 : desc_type(g[0]) == SYS_CALL ? 4 : 2;
	if (wide) {
		s.mask = ~0ULL;
		s.lm64 = true;
	}
	stk_push(cpu, &s, w, cpu->seg[SEG_CS].sel);
	stk_push(cpu, &s, w, cpu->next_rip);
	stk_commit(cpu, &s);
	far_enter(cpu, csel, d, cpu->cpl, off);
}
