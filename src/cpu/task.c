/*
 * Hardware task switching (SDM Vol.3A ch.8 "Task Management"; SDM Vol.2 JMP and CALL
 * "TASK-GATE" / "TASK-STATE-SEGMENT", INT n "TASK-GATE", IRET "TASK-RETURN").
 *
 * The four causes (SDM 8.3): a far JMP or CALL to a TSS descriptor or to a task gate,
 * an interrupt or exception that vectors through a task gate in the IDT, and IRET with
 * EFLAGS.NT = 1. Each cause checks its descriptors as its instruction says, then
 * task_switch() runs the steps of SDM 8.3 "Task Switching":
 *
 *   before the commit point (a fault leaves the registers as they were):
 *     step 3   the new TSS limit >= 67H (32-bit TSS) or 2BH (16-bit TSS): #TS(new TSS);
 *     step 5   every access that could fault comes first: the new TSS is read, and
 *              what steps 6-10 write (old TSS save area, busy bytes in the GDT, back
 *              link) is translated for writing;
 *     step 6   JMP, IRET: the old TSS descriptor's busy flag is cleared;
 *     step 7   IRET: NT is cleared in the EFLAGS image saved (task_iret does it);
 *     step 8   EIP, EFLAGS, the general-purpose registers and the segment selectors go
 *              to the old TSS (its dynamic fields, SDM 8.2.1);
 *     step 9   CALL, events: NT is set in the new EFLAGS, and the previous task link of
 *              the new TSS gets the old TSS selector (Table 8-2);
 *     step 10  JMP, CALL, events: the new TSS descriptor becomes busy;
 *     step 11  TR is loaded: the commit point. CR0.TS is set (SDM 2.5) and DR7.L0-L3
 *              are cleared (SDM 18.2.4).
 *   after it (a fault is raised in the new task: RIP is already the new EIP):
 *     step 12  CR3 (32-bit TSS, paging on, value changed: TLB and PDPTEs as for MOV
 *              CR3, SDM 4.10.4.1, 4.4.1; a reserved PDPTE bit is #GP(0) with RIP still
 *              the old one, "in the prior execution environment"), EFLAGS, EIP, the
 *              GPRs, the segment selectors and LDTR, their caches unusable until checked;
 *     step 13  the descriptors are checked and loaded in the order of Table 8-1;
 *     then an exception's error code is pushed on the new stack and EIP is checked
 *     against the new CS limit (#GP(0); #GP(EXT) for events); last, the T flag of a
 *     32-bit TSS makes a #DB trap (DR6.BT) pending for the new task's first
 *     instruction boundary (SDM 8.2.1, 18.3.1.5; debug.c).
 *
 * The I/O permission bit map needs nothing here: exec_io.c reads its base from the
 * TSS in TR at every check, so the new task's map applies from the switch on.
 *
 * Not implemented (documented limits):
 *   - a new task whose EFLAGS image has VM = 1 (virtual-8086 mode, which the silicon
 *     does not have): #GP(0) before anything changes;
 *   - the new TSS is read in step 5, before the old state is saved, so if the two
 *     TSSs overlap the new task gets the values from before the save;
 *   - a page fault on a TSS or descriptor access is #PF (SDM 6.15 Table 6-6 lists
 *     "stores to the old TSS encounter a fault condition" as #TS).
 * VMX non-root operation (SDM 27.4.2 "Treatment of Task Switches"): task switches are
 * not allowed; once the checks that come first have passed (the task gate's P flag
 * and privilege, the new TSS selector, its descriptor read and checked for type, P, S
 * and limit: each cause's checks and step 3 here), the attempt is a VM exit with
 * reason 9 (task_vmexit) and nothing of the switch happens. A VMM emulates it with
 * task_switch_emulate() on an emulation context (L0: hv/exit_task.c).
 *
 * Choices where the SDM is not one voice: the busy check (#GP/#TS) comes before the
 * present check (#NP) as in the Vol.2 pseudo code (Table 8-1 lists present first); a
 * 16-bit TSS needs a limit of 2BH (its size - 1, like 67H; Table 6-6 says 2CH).
 */
#include "cpu/task.h"

#include "cpu/debug.h"
#include "cpu/vmx/vmx_internal.h"

/* What the cause supplies about the old task. */
struct task_from {
	enum task_cause cause;
	uint32_t ext;     /* EXT bit of the error codes the switch raises (SDM 6.13) */
	uint32_t err;     /* error code to push on the new stack, or NO_ERROR_CODE */
	uint32_t eip;     /* return address saved in the old TSS */
	uint32_t eflags;  /* EFLAGS image saved in the old TSS */
};

/* The fields a task switch loads from the new TSS. */
struct tss_image {
	uint32_t cr3, eip, eflags, gpr[8];
	uint16_t sel[SEG_COUNT], ldt;
	bool trap;        /* T flag (32-bit TSS byte 64H bit 0, SDM 8.2.1) */
};

/* Where the fields are: the 32-bit TSS (SDM 8.2.1 Figure 8-2) and the 16-bit TSS
 * (SDM 8.6 Figure 8-10, no CR3, FS, GS, T or I/O map). Segment selectors are in Sreg
 * order (ES, CS, SS, DS, FS, GS), GPRs in ModRM order, each item w bytes apart. */
struct tss_layout {
	uint32_t eip, eflags, gpr, seg, ldt;
	int w;
	int nseg;
};
static const struct tss_layout TSS32 = { 0x20, 0x24, 0x28, 0x48, 0x60, 4, 6 };
static const struct tss_layout TSS16 = { 0x0E, 0x10, 0x12, 0x22, 0x2A, 2, 4 };

static const struct tss_layout *layout_of(unsigned type)
{
	return (type & 8) ? &TSS32 : &TSS16;
}

/* --- descriptors ------------------------------------------------------------------ */

/* An available or busy 16/32-bit TSS descriptor (SDM Table 3-2: types 1, 3, 9, 11). */
static bool is_tss(uint64_t d)
{
	unsigned t = desc_type(d);
	return !desc_s(d) && (t == SYS_TSS16_AVAIL || t == SYS_TSS16_BUSY ||
			      t == SYS_TSS_AVAIL || t == SYS_TSS_BUSY);
}

static bool is_busy(uint64_t d)
{
	return desc_type(d) & 2; /* SDM 8.2.2: the B flag is type bit 1 */
}

/* SDM Table 8-1 rows 1-4: a TSS descriptor in the GDT (TI = 0), busy or available as
 * the cause needs, else vector(sel): #GP for JMP, CALL and events, #TS for IRET; then
 * present, else #NP(sel). The order is SDM Vol.2's (JMP, CALL, INT n, IRET pseudo
 * code: the busy check before the present check). */
static void tss_check(struct cpu *cpu, uint16_t sel, const uint64_t d[2], bool busy,
		      int vector, uint32_t ext)
{
	if ((sel & 4) || !is_tss(d[0]) || is_busy(d[0]) != busy)
		cpu_exception(cpu, vector, sel_err(sel, ext));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, ext));
}

/* The same for a selector from a task gate or a back link: it must index the GDT
 * within its limit (Table 8-1 row 1). */
static void tss_fetch(struct cpu *cpu, uint16_t sel, uint64_t d[2], bool busy, int vector,
		      uint32_t ext)
{
	if ((sel & 4) || !seg_read_descriptor(cpu, sel, d, false))
		cpu_exception(cpu, vector, sel_err(sel, ext));
	tss_check(cpu, sel, d, busy, vector, ext);
}

/* --- TSS memory (implicit supervisor accesses; linear addresses wrap at 4 GiB) ----- */

static gva_t tss_la(uint64_t base, uint32_t off)
{
	return (uint32_t)(base + off);
}

static uint32_t tss_rd(struct cpu *cpu, uint64_t base, uint32_t off, int w)
{
	return (uint32_t)lin_read(cpu, tss_la(base, off), w == 4 ? 2 : 1,
				  ACC_READ | ACC_IMPLICIT);
}

static void tss_wr(struct cpu *cpu, uint64_t base, uint32_t off, int w, uint32_t v)
{
	lin_write(cpu, tss_la(base, off), w == 4 ? 2 : 1, v, ACC_WRITE | ACC_IMPLICIT);
}

/* The byte of a GDT descriptor that holds its type (SDM 3.4.5 Figure 3-8: byte 5). */
static gva_t type_byte(const struct cpu *cpu, uint16_t sel)
{
	return (uint32_t)(cpu->gdtr.base + (sel & 0xFFF8) + 5);
}

static void set_busy(struct cpu *cpu, uint16_t sel, bool busy)
{
	gva_t la = type_byte(cpu, sel);
	uint64_t b = lin_read(cpu, la, 0, ACC_READ | ACC_IMPLICIT);
	lin_write(cpu, la, 0, busy ? b | 2 : b & ~2ULL, ACC_WRITE | ACC_IMPLICIT);
}

/* Step 5 for a write: translate the first and the last byte of [la, la + len) for a
 * supervisor write now (#PF if one cannot be written; A/D set as the write will). */
static void probe_write(struct cpu *cpu, gva_t la, uint32_t len)
{
	const gva_t ends[2] = { la, (uint32_t)(la + len - 1) };
	for (int i = 0; i < 2; i++) {
		gpa_t gpa;
		uint32_t pfec;
		if (!mmu_translate(cpu, ends[i], ACC_WRITE | ACC_IMPLICIT, 0, &gpa, &pfec))
			cpu_page_fault(cpu, ends[i], pfec);
	}
}

/* Step 5: the new TSS image. A 16-bit TSS has no CR3, FS or GS (null selectors); the
 * upper halves of the GPRs are "modified and not maintained" (SDM 8.6): they become
 * FFFFH (what Bochs models for real processors), EIP and EFLAGS bits 31:16 zero. */
static void tss_read(struct cpu *cpu, const struct seg *n, struct tss_image *t)
{
	const struct tss_layout *l = layout_of(n->ar & AR_TYPE_MASK);
	int w = l->w;
	uint32_t hi = w == 4 ? 0 : 0xFFFF0000u;
	t->cr3 = w == 4 ? tss_rd(cpu, n->base, 0x1C, 4) : 0;
	t->eip = tss_rd(cpu, n->base, l->eip, w);
	t->eflags = tss_rd(cpu, n->base, l->eflags, w);
	for (int i = 0; i < 8; i++)
		t->gpr[i] = hi | tss_rd(cpu, n->base, l->gpr + (uint32_t)(w * i), w);
	for (int i = 0; i < SEG_COUNT; i++)
		t->sel[i] = i < l->nseg ? (uint16_t)tss_rd(cpu, n->base,
							   l->seg + (uint32_t)(w * i), 2) : 0;
	t->ldt = (uint16_t)tss_rd(cpu, n->base, l->ldt, 2);
	t->trap = w == 4 && (tss_rd(cpu, n->base, 0x64, 2) & 1);
}

/* Step 8: the dynamic fields of the old TSS (SDM 8.2.1); a 16-bit TSS keeps the low
 * halves of EIP, EFLAGS and the GPRs and no FS/GS (SDM 8.6). */
static void tss_save(struct cpu *cpu, const struct task_from *f)
{
	const struct tss_layout *l = layout_of(cpu->tr.ar & AR_TYPE_MASK);
	uint64_t base = cpu->tr.base;
	int w = l->w;
	tss_wr(cpu, base, l->eip, w, f->eip);
	tss_wr(cpu, base, l->eflags, w, f->eflags);
	for (int i = 0; i < 8; i++)
		tss_wr(cpu, base, l->gpr + (uint32_t)(w * i), w, (uint32_t)cpu->gpr[i]);
	for (int i = 0; i < l->nseg; i++)
		tss_wr(cpu, base, l->seg + (uint32_t)(w * i), 2, cpu->seg[i].sel);
}

/* Step 5 for the writes of steps 6-10, so that none of them faults once the first
 * has been made. The old TSS descriptor must still lie in the GDT for JMP and IRET
 * ("old TSS descriptor is not writable": #TS, SDM 6.15 Table 6-6). */
static void task_probe(struct cpu *cpu, uint16_t sel, const struct seg *n,
		       const struct task_from *f)
{
	const struct tss_layout *l = layout_of(cpu->tr.ar & AR_TYPE_MASK);
	uint16_t old = cpu->tr.sel;
	if (f->cause == TASK_JMP || f->cause == TASK_IRET) {
		if ((old & 4) || (old & 0xFFF8) + 7u > cpu->gdtr.limit)
			cpu_exception(cpu, EXC_TS, sel_err(old, f->ext));
		probe_write(cpu, type_byte(cpu, old), 1);
	}
	uint32_t last = l->seg + (uint32_t)(l->w * (l->nseg - 1)) + 1;
	probe_write(cpu, tss_la(cpu->tr.base, l->eip), last - l->eip + 1);
	if (f->cause == TASK_CALL || f->cause == TASK_EVENT)
		probe_write(cpu, tss_la(n->base, 0), 2);
	if (f->cause != TASK_IRET)
		probe_write(cpu, type_byte(cpu, sel), 1);
}

/* --- after the commit point ------------------------------------------------------- */

/* Step 11: TR, CR0.TS (SDM 2.5: set on every task switch), DR7.L0-L3 (SDM 18.2.4:
 * cleared on every task switch). The IRET that switches unblocks NMIs (SDM 6.7.1). */
static void task_commit(struct cpu *cpu, const struct seg *n, enum task_cause cause)
{
	cpu->tr = *n;
	cpu->tr.ar |= 2; /* busy */
	cpu->cr0 |= CR0_TS;
	cpu->dr[7] &= ~DR7_LOCAL_ENABLES;
	debug_update(cpu);
	if (cause == TASK_IRET)
		cpu->nmi_blocked = false;
}

/* Step 12. CR3 first: a reserved bit in a present PDPTE is #GP(0) "in the prior
 * execution environment" (SDM 8.3, note after step 13). The segment registers and
 * LDTR get their selectors with unusable caches; SS keeps DPL = the new CPL (CS.RPL),
 * so CPL is the new task's from here on (SDM 8.3: "CPL field of the CS register"). */
static void task_load_state(struct cpu *cpu, const struct tss_image *t, bool is32)
{
	if (is32 && (cpu->cr0 & CR0_PG) && t->cr3 != cpu->cr3) {
		cpu->cr3 = t->cr3;
		tlb_cr3_written(cpu, false);
		if ((cpu->cr4 & CR4_PAE) && !mmu_load_pdptrs(cpu))
			cpu_gp(cpu, 0);
	}
	cpu_set_rflags(cpu, t->eflags);
	cpu->rip = cpu->next_rip = t->eip;
	for (int i = 0; i < 8; i++)
		cpu->gpr[i] = t->gpr[i];
	unsigned cpl = t->sel[SEG_CS] & 3;
	for (int i = 0; i < SEG_COUNT; i++)
		seg_make_null(&cpu->seg[i], t->sel[i], i == SEG_SS ? cpl : 0);
	seg_make_null(&cpu->ldtr, t->ldt, 0);
	cpu_update_mode(cpu);
}

static _Noreturn void task_fault(struct cpu *cpu, int vector, uint16_t sel, uint32_t ext)
{
	cpu_exception(cpu, vector, sel_err(sel, ext));
}

/* A segment selector of the new task: false if null or outside its table (part of
 * "valid", Table 8-1 note 3; the type is the caller's part). */
static bool task_desc(struct cpu *cpu, uint16_t sel, uint64_t d[2])
{
	return (sel & 0xFFFC) && seg_read_descriptor(cpu, sel, d, false);
}

/* Table 8-1 "LDT segment selector of new task is valid": null, or an LDT descriptor
 * in the GDT, else #TS(LDT). LDTR is loaded at once (the CS/SS/data descriptors may
 * be in the LDT); the result is its P flag, checked later in the table. */
static bool task_ldt(struct cpu *cpu, uint16_t sel, uint32_t ext)
{
	uint64_t d[2];
	if ((sel & 0xFFFC) == 0)
		return true; /* LDTR stays unusable */
	if ((sel & 4) || !seg_read_descriptor(cpu, sel, d, false) || desc_s(d[0]) ||
	    desc_type(d[0]) != SYS_LDT)
		task_fault(cpu, EXC_TS, sel, ext);
	seg_from_descriptor(&cpu->ldtr, sel, d);
	return desc_p(d[0]);
}

/* Table 8-1, DS/ES/FS/GS: valid (a code or data descriptor) and readable, else
 * #TS(sel); present, else #NP(sel); unless conforming code, DPL >= CPL (and >= RPL,
 * SDM 6.15 Table 6-6), else #TS(sel). A null selector leaves the register unusable. */
static void task_load_data(struct cpu *cpu, int seg, uint16_t sel, unsigned cpl, uint32_t ext)
{
	uint64_t d[2];
	if ((sel & 0xFFFC) == 0)
		return;
	if (!task_desc(cpu, sel, d) || !desc_s(d[0]) || !desc_readable(d[0]))
		task_fault(cpu, EXC_TS, sel, ext);
	if (!desc_p(d[0]))
		task_fault(cpu, EXC_NP, sel, ext);
	unsigned dpl = desc_dpl(d[0]);
	if (!desc_conforming(d[0]) && (dpl < cpl || dpl < (sel & 3u)))
		task_fault(cpu, EXC_TS, sel, ext);
	seg_set_accessed(cpu, sel, d[0]);
	d[0] |= BIT(40);
	seg_from_descriptor(&cpu->seg[seg], sel, d);
}

/* Step 13 in the order of SDM Table 8-1 (the P6 order): LDT valid; CS DPL vs RPL; SS
 * valid, present (#SS), DPL = CPL; LDT present; CS valid, present (#NP); SS DPL =
 * RPL; then DS, ES, FS, GS in the table's order, each checked fully before the next.
 * CPL is the RPL of the new CS selector. */
static void task_load_segs(struct cpu *cpu, const struct tss_image *t, uint32_t ext)
{
	uint16_t cs = t->sel[SEG_CS], ss = t->sel[SEG_SS];
	unsigned cpl = cs & 3;
	uint64_t cd[2] = { 0, 0 }, sd[2] = { 0, 0 };
	bool ldt_present = task_ldt(cpu, t->ldt, ext);
	bool cs_valid = task_desc(cpu, cs, cd) && desc_is_code(cd[0]);
	/* Non-conforming: DPL = CPL; conforming: DPL <= CPL (SDM 6.15 Table 6-6). */
	unsigned cdpl = desc_dpl(cd[0]);
	if (cs_valid && (desc_conforming(cd[0]) ? cdpl > cpl : cdpl != cpl))
		task_fault(cpu, EXC_TS, cs, ext);
	if (!task_desc(cpu, ss, sd) || !desc_writable_data(sd[0]))
		task_fault(cpu, EXC_TS, ss, ext);
	if (!desc_p(sd[0]))
		task_fault(cpu, EXC_SS, ss, ext);
	if (desc_dpl(sd[0]) != cpl)
		task_fault(cpu, EXC_TS, ss, ext);
	if (!ldt_present) {
		cpu->ldtr.ar |= AR_UNUSABLE;
		task_fault(cpu, EXC_TS, t->ldt, ext);
	}
	if (!cs_valid)
		task_fault(cpu, EXC_TS, cs, ext);
	if (!desc_p(cd[0]))
		task_fault(cpu, EXC_NP, cs, ext);
	if ((ss & 3u) != desc_dpl(sd[0]))
		task_fault(cpu, EXC_TS, ss, ext);
	seg_set_accessed(cpu, ss, sd[0]);
	seg_load_ss(cpu, ss, sd, cpl);
	seg_set_accessed(cpu, cs, cd[0]);
	seg_load_cs(cpu, cs, cd, cpl);
	static const int data[] = { SEG_DS, SEG_ES, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < ARRAY_SIZE(data); i++)
		task_load_data(cpu, data[i], t->sel[data[i]], cpl, ext);
}

/* SDM Vol.2 INT n "TASK-GATE": an exception's error code goes on the new task's
 * stack, 4 bytes for a 32-bit TSS and 2 for a 16-bit one; #SS(EXT) if it does not fit. */
static void push_error(struct cpu *cpu, uint32_t err, uint32_t ext, bool is32)
{
	struct stk s;
	stk_current(cpu, &s);
	s.err = ext;
	stk_push(cpu, &s, is32 ? 4 : 2, err);
	stk_commit(cpu, &s);
}

/* --- the switch ----------------------------------------------------------------- */

/* SDM 27.4.2: the VM exit instead of the switch (reason 9). Exit qualification (SDM
 * 29.2.1 Table 29-2): bits 15:0 the new TSS selector, bits 31:30 the source (enum
 * task_cause has its numbering). CALL, JMP and IRET report their length (SDM 29.2.5);
 * for a task gate in the IDT the event being delivered is the IDT-vectoring
 * information (SDM 29.2.4, recorded by cpu_deliver_event), and vmx_vmexit() reports
 * the length of a software interrupt or exception. Nothing has changed yet: the
 * guest state saved is the one before the switch. */
static noreturn void task_vmexit(struct cpu *cpu, uint16_t sel, enum task_cause cause)
{
	struct vmx_exit_info info = {
		.reason = EXIT_REASON_TASK_SWITCH,
		.qualification = sel | (uint64_t)cause << 30,
	};
	if (cause != TASK_EVENT)
		info.insn_len = (uint32_t)(cpu->next_rip - cpu->rip) & 0xF;
	cpu->delivering = -1;
	vmx_exit_unwind(cpu, &info);
}

/* SDM 8.3 steps 3-13 to the TSS of selector sel, descriptor d (checked by the cause). */
static void task_switch(struct cpu *cpu, uint16_t sel, const uint64_t d[2],
			const struct task_from *f)
{
	struct seg n;
	struct tss_image t;
	seg_from_descriptor(&n, sel, d);
	bool is32 = desc_type(d[0]) & 8;
	bool nest = f->cause == TASK_CALL || f->cause == TASK_EVENT;
	if (n.limit < (is32 ? 0x67u : 0x2Bu))
		task_fault(cpu, EXC_TS, sel, f->ext);                  /* step 3 */
	if (unlikely(cpu->vmx.non_root))
		task_vmexit(cpu, sel, f->cause);                       /* SDM 27.4.2 */
	tss_read(cpu, &n, &t);                                         /* step 5 */
	if (t.eflags & RFLAGS_VM)
		cpu_gp(cpu, 0); /* virtual-8086 task: not implemented */
	task_probe(cpu, sel, &n, f);
	uint16_t old = cpu->tr.sel;
	if (f->cause == TASK_JMP || f->cause == TASK_IRET)
		set_busy(cpu, old, false);                             /* step 6 */
	tss_save(cpu, f);                                              /* steps 7-8 */
	if (nest) {
		t.eflags |= RFLAGS_NT;                                 /* step 9 */
		tss_wr(cpu, n.base, 0, 2, old);
	}
	if (f->cause != TASK_IRET)
		set_busy(cpu, sel, true);                              /* step 10 */
	task_commit(cpu, &n, f->cause);                                /* step 11 */
	task_load_state(cpu, &t, is32);                                /* step 12 */
	task_load_segs(cpu, &t, f->ext);                               /* step 13 */
	if (f->err != NO_ERROR_CODE)
		push_error(cpu, f->err, f->ext, is32);
	if (t.eip > cpu->seg[SEG_CS].limit)
		cpu_gp(cpu, f->ext); /* "IF EIP not within code segment limit" */
	if (t.trap)
		debug_task_trap(cpu); /* SDM 18.3.1.5: after the switch, before the task runs */
}

/* --- the causes ----------------------------------------------------------------- */

bool task_far(struct cpu *cpu, uint16_t sel, const uint64_t d[2], bool call)
{
	if (cpu_is_ia32e(cpu) || desc_s(d[0]))
		return false; /* IA-32e mode: the caller's #GP(sel) (SDM 8.7) */
	unsigned dpl = desc_dpl(d[0]);
	uint16_t tsel = sel;
	uint64_t td[2] = { d[0], d[1] };
	if (desc_type(d[0]) == SYS_TASK) {
		/* SDM 8.2.5: CPL and the gate selector's RPL <= gate DPL, else #GP(gate);
		 * then #NP(gate); the TSS descriptor's DPL is not used. */
		if (dpl < cpu->cpl || dpl < (sel & 3u))
			cpu_gp(cpu, sel_err(sel, 0));
		if (!desc_p(d[0]))
			cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
		tsel = gate_selector(d[0]);
		tss_fetch(cpu, tsel, td, false, EXC_GP, 0);
	} else if (is_tss(d[0])) {
		/* SDM 8.2.2: CPL and RPL <= TSS DPL, else #GP(TSS). */
		if (dpl < cpu->cpl || dpl < (sel & 3u))
			cpu_gp(cpu, sel_err(sel, 0));
		tss_check(cpu, sel, d, false, EXC_GP, 0);
	} else {
		return false;
	}
	struct task_from f = { call ? TASK_CALL : TASK_JMP, 0, NO_ERROR_CODE,
			       (uint32_t)cpu->next_rip, (uint32_t)cpu_get_rflags(cpu) };
	task_switch(cpu, tsel, td, &f);
	return true;
}

void task_gate_event(struct cpu *cpu, const uint64_t g[2], uint32_t ext, uint32_t err,
		     uint32_t eip, uint32_t eflags)
{
	uint16_t sel = gate_selector(g[0]);
	uint64_t d[2];
	tss_fetch(cpu, sel, d, false, EXC_GP, ext);
	struct task_from f = { TASK_EVENT, ext, err, eip, eflags };
	task_switch(cpu, sel, d, &f);
}

void task_iret(struct cpu *cpu)
{
	uint64_t d[2];
	if (cpu_is_ia32e(cpu))
		cpu_gp(cpu, 0); /* SDM 8.7: no task switches in IA-32e mode */
	/* The back link at TSS offset 0: #TS(current TSS) if the limit does not cover it,
	 * #TS(link) unless it names a busy TSS in the GDT (SDM 6.15 Table 6-6). */
	if (cpu->tr.limit < 1)
		task_fault(cpu, EXC_TS, cpu->tr.sel, 0);
	uint16_t link = (uint16_t)tss_rd(cpu, cpu->tr.base, 0, 2);
	tss_fetch(cpu, link, d, true, EXC_TS, 0);
	struct task_from f = { TASK_IRET, 0, NO_ERROR_CODE, (uint32_t)cpu->next_rip,
			       (uint32_t)(cpu_get_rflags(cpu) & ~RFLAGS_NT) };
	task_switch(cpu, link, d, &f);
}

/* --- emulation for a VMM ------------------------------------------------------------ */

/* The checks SDM 27.4.2 lists before the exit are made again (the descriptor may have
 * changed since): a TSS in the GDT, available (busy for IRET), present. */
void task_switch_emulate(struct cpu *cpu, uint16_t sel, enum task_cause cause, uint32_t ext,
			 uint32_t err)
{
	uint64_t d[2];
	bool iret = cause == TASK_IRET;
	tss_fetch(cpu, sel, d, iret, iret ? EXC_TS : EXC_GP, ext);
	uint64_t flags = cpu_get_rflags(cpu);
	struct task_from f = { cause, ext, cause == TASK_EVENT ? err : NO_ERROR_CODE,
			       (uint32_t)cpu->next_rip,
			       (uint32_t)(iret ? flags & ~RFLAGS_NT : flags) };
	task_switch(cpu, sel, d, &f);
}
