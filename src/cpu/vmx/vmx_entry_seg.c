/*
 * VM entry: checks on the guest segment registers (SDM 28.3.1.2) and descriptor-table
 * registers (28.3.1.3). Part of the guest-state checks (vmx_entry_guest.c): a failure
 * is a VM-entry failure exit, reason 33, qualification 0 (SDM 28.8).
 *
 * Access rights are in the VMX layout (SDM 26.4.1, Table 26-2), which struct seg uses
 * too (cpu.h): type 3:0, S 4, DPL 6:5, P 7, reserved 11:8, AVL 12, L 13, D/B 14, G 15,
 * unusable 16, reserved 31:17.
 */
#include "cpu/vmx/vmx_entry.h"

struct seg vmx_guest_seg(const struct vmcs *v, int which)
{
	return (struct seg){
		.sel = (uint16_t)vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_ES_SELECTOR + which)),
		.limit = (uint32_t)vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_ES_LIMIT + which)),
		.ar = (uint32_t)vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_ES_AR_BYTES + which)),
		.base = vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_ES_BASE + which)),
	};
}

static unsigned ar_type(const struct seg *s) { return s->ar & AR_TYPE_MASK; }
static unsigned ar_dpl(const struct seg *s) { return (s->ar & AR_DPL_MASK) >> AR_DPL_SHIFT; }
static bool usable(const struct seg *s) { return !(s->ar & AR_UNUSABLE); }

#define AR_RESERVED (0xF00u | 0xFFFE0000u) /* bits 11:8 and 31:17 */

/* The granularity rule: limit bits 11:0 not all 1 -> G = 0; any of limit bits 31:20
 * set -> G = 1. */
static bool granularity_ok(const struct seg *s)
{
	if ((s->limit & 0xFFF) != 0xFFF && (s->ar & AR_G))
		return false;
	if ((s->limit & 0xFFF00000u) && !(s->ar & AR_G))
		return false;
	return true;
}

/* Virtual-8086 guest: base = selector * 16, limit FFFFH, access rights F3H. */
static bool check_v86_segs(struct cpu *cpu, const struct seg *sr)
{
	for (int i = 0; i < SEG_COUNT; i++) {
		ENTRY_CHECK(cpu, sr[i].base == (uint64_t)sr[i].sel << 4);
		ENTRY_CHECK(cpu, sr[i].limit == 0xFFFF);
		ENTRY_CHECK(cpu, sr[i].ar == 0xF3);
	}
	return true;
}

/* CS outside virtual-8086 mode. */
static bool check_cs(struct cpu *cpu, const struct seg *cs, const struct seg *ss,
		     bool unrestricted, bool ia32e)
{
	unsigned type = ar_type(cs);
	/* Accessed code (9, 11, 13, 15), or accessed read/write data (3) with
	 * "unrestricted guest". */
	ENTRY_CHECK(cpu, type == 9 || type == 11 || type == 13 || type == 15 ||
				 (unrestricted && type == 3));
	ENTRY_CHECK(cpu, cs->ar & AR_S);
	if (type == 3)
		ENTRY_CHECK(cpu, ar_dpl(cs) == 0);
	if (type == 9 || type == 11) /* non-conforming */
		ENTRY_CHECK(cpu, ar_dpl(cs) == ar_dpl(ss));
	if (type == 13 || type == 15) /* conforming */
		ENTRY_CHECK(cpu, ar_dpl(cs) <= ar_dpl(ss));
	ENTRY_CHECK(cpu, cs->ar & AR_P);
	ENTRY_CHECK(cpu, !(cs->ar & AR_RESERVED));
	if (ia32e && (cs->ar & AR_L))
		ENTRY_CHECK(cpu, !(cs->ar & AR_DB));
	ENTRY_CHECK(cpu, granularity_ok(cs));
	return true;
}

/* SS outside virtual-8086 mode. */
static bool check_ss(struct cpu *cpu, const struct seg *ss, const struct seg *cs,
		     bool unrestricted, bool pe)
{
	if (!unrestricted)
		ENTRY_CHECK(cpu, ar_dpl(ss) == (ss->sel & 3u));
	if (ar_type(cs) == 3 || !pe)
		ENTRY_CHECK(cpu, ar_dpl(ss) == 0);
	if (!usable(ss))
		return true;
	ENTRY_CHECK(cpu, ar_type(ss) == 3 || ar_type(ss) == 7);
	ENTRY_CHECK(cpu, ss->ar & AR_S);
	ENTRY_CHECK(cpu, ss->ar & AR_P);
	ENTRY_CHECK(cpu, !(ss->ar & AR_RESERVED));
	ENTRY_CHECK(cpu, granularity_ok(ss));
	return true;
}

/* DS, ES, FS, GS outside virtual-8086 mode, when usable. */
static bool check_data_seg(struct cpu *cpu, const struct seg *s, bool unrestricted)
{
	if (!usable(s))
		return true;
	unsigned type = ar_type(s);
	ENTRY_CHECK(cpu, type & 1);                   /* accessed */
	if (type & 8)
		ENTRY_CHECK(cpu, type & 2);           /* code must be readable */
	ENTRY_CHECK(cpu, s->ar & AR_S);
	if (!unrestricted && type <= 11)              /* data or non-conforming code */
		ENTRY_CHECK(cpu, ar_dpl(s) >= (s->sel & 3u));
	ENTRY_CHECK(cpu, s->ar & AR_P);
	ENTRY_CHECK(cpu, !(s->ar & AR_RESERVED));
	ENTRY_CHECK(cpu, granularity_ok(s));
	return true;
}

/* TR and LDTR (any mode). */
static bool check_system_segs(struct cpu *cpu, const struct seg *tr, const struct seg *ldtr,
			      bool ia32e)
{
	ENTRY_CHECK(cpu, !(tr->sel & 4)); /* TI = 0 */
	ENTRY_CHECK(cpu, is_canonical(tr->base));
	/* Busy 64-bit TSS in IA-32e mode; else busy 16-bit (3) or 32-bit (11) TSS. */
	if (ia32e)
		ENTRY_CHECK(cpu, ar_type(tr) == 11);
	else
		ENTRY_CHECK(cpu, ar_type(tr) == 3 || ar_type(tr) == 11);
	ENTRY_CHECK(cpu, !(tr->ar & AR_S));
	ENTRY_CHECK(cpu, tr->ar & AR_P);
	ENTRY_CHECK(cpu, !(tr->ar & AR_RESERVED));
	ENTRY_CHECK(cpu, granularity_ok(tr));
	ENTRY_CHECK(cpu, usable(tr));
	if (!usable(ldtr))
		return true;
	ENTRY_CHECK(cpu, !(ldtr->sel & 4));
	ENTRY_CHECK(cpu, is_canonical(ldtr->base));
	ENTRY_CHECK(cpu, ar_type(ldtr) == 2);
	ENTRY_CHECK(cpu, !(ldtr->ar & AR_S));
	ENTRY_CHECK(cpu, ldtr->ar & AR_P);
	ENTRY_CHECK(cpu, !(ldtr->ar & AR_RESERVED));
	ENTRY_CHECK(cpu, granularity_ok(ldtr));
	return true;
}

/* Base addresses (any mode): FS, GS canonical; CS bits 63:32 zero; SS, DS, ES bits
 * 63:32 zero when usable. */
static bool check_seg_bases(struct cpu *cpu, const struct seg *sr)
{
	ENTRY_CHECK(cpu, is_canonical(sr[SEG_FS].base));
	ENTRY_CHECK(cpu, is_canonical(sr[SEG_GS].base));
	ENTRY_CHECK(cpu, !(sr[SEG_CS].base >> 32));
	ENTRY_CHECK(cpu, !usable(&sr[SEG_SS]) || !(sr[SEG_SS].base >> 32));
	ENTRY_CHECK(cpu, !usable(&sr[SEG_DS]) || !(sr[SEG_DS].base >> 32));
	ENTRY_CHECK(cpu, !usable(&sr[SEG_ES]) || !(sr[SEG_ES].base >> 32));
	return true;
}

/* SDM 28.3.1.3: GDTR and IDTR. */
static bool check_guest_dtrs(struct cpu *cpu, const struct vmcs *v)
{
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, GUEST_GDTR_BASE)));
	ENTRY_CHECK(cpu, is_canonical(VMCS_GET(v, GUEST_IDTR_BASE)));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, GUEST_GDTR_LIMIT) >> 16));
	ENTRY_CHECK(cpu, !(VMCS_GET(v, GUEST_IDTR_LIMIT) >> 16));
	return true;
}

bool vmx_check_guest_segments(struct cpu *cpu, const struct vmcs *v)
{
	struct seg sr[VSEG_COUNT];
	for (int i = 0; i < VSEG_COUNT; i++)
		sr[i] = vmx_guest_seg(v, i);
	bool ia32e = VMCS_GET(v, VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE;
	bool unrestricted = vmx_proc2_of(v) & PROC2_UNRESTRICTED_GUEST;
	bool pe = VMCS_GET(v, GUEST_CR0) & CR0_PE;
	bool v86 = VMCS_GET(v, GUEST_RFLAGS) & RFLAGS_VM;
	if (!check_system_segs(cpu, &sr[VSEG_TR], &sr[VSEG_LDTR], ia32e) ||
	    !check_seg_bases(cpu, sr))
		return false;
	if (v86) {
		if (!check_v86_segs(cpu, sr))
			return false;
	} else {
		if (!unrestricted) /* SS.RPL = CS.RPL */
			ENTRY_CHECK(cpu, (sr[SEG_SS].sel & 3) == (sr[SEG_CS].sel & 3));
		if (!check_cs(cpu, &sr[SEG_CS], &sr[SEG_SS], unrestricted, ia32e) ||
		    !check_ss(cpu, &sr[SEG_SS], &sr[SEG_CS], unrestricted, pe) ||
		    !check_data_seg(cpu, &sr[SEG_DS], unrestricted) ||
		    !check_data_seg(cpu, &sr[SEG_ES], unrestricted) ||
		    !check_data_seg(cpu, &sr[SEG_FS], unrestricted) ||
		    !check_data_seg(cpu, &sr[SEG_GS], unrestricted))
			return false;
	}
	return check_guest_dtrs(cpu, v);
}
