/*
 * A vCPU's guest-state area (SDM 26.4): its segment registers and the code mode they
 * give; filled from the boot state the vmm put in the silicon CPU, at INIT
 * (wait-for-SIPI) and at SIPI (real mode, which "unrestricted guest" allows: SDM
 * 28.3.1.1).
 */
#include "cpu/cpuid.h"
#include "cpu/flags.h"
#include "hv/hv_internal.h"

/* Encodings of one segment's selector, limit, AR and base are spaced alike (SDM App.
 * B.1.2, B.3.3, B.4.3): ES 0x800/0x4800/0x4814/0x6806, then +2 per segment. */
void hv_seg_read(struct hv_vcpu *v, int seg, struct seg *s)
{
	uint32_t d = 2 * (uint32_t)seg;
	s->sel = (uint16_t)hv_vmread(v, VMCS_GUEST_ES_SELECTOR + d);
	s->base = hv_vmread(v, VMCS_GUEST_ES_BASE + d);
	s->limit = (uint32_t)hv_vmread(v, VMCS_GUEST_ES_LIMIT + d);
	s->ar = (uint32_t)hv_vmread(v, VMCS_GUEST_ES_AR_BYTES + d);
}

void hv_seg_write(struct hv_vcpu *v, int seg, const struct seg *s)
{
	uint32_t d = 2 * (uint32_t)seg;
	hv_vmwrite(v, VMCS_GUEST_ES_SELECTOR + d, s->sel);
	hv_vmwrite(v, VMCS_GUEST_ES_BASE + d, s->base);
	hv_vmwrite(v, VMCS_GUEST_ES_LIMIT + d, s->limit);
	hv_vmwrite(v, VMCS_GUEST_ES_AR_BYTES + d, s->ar);
}

static void put_seg(struct hv_vcpu *v, int seg, uint16_t sel, uint64_t base, uint32_t limit,
		    uint32_t ar)
{
	hv_seg_write(v, seg, &(struct seg){ .sel = sel, .base = base, .limit = limit, .ar = ar });
}

bool hv_guest_64bit_code(struct hv_vcpu *v)
{
	return (hv_vmread(v, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE) &&
	       (hv_vmread(v, VMCS_GUEST_CS_AR_BYTES) & AR_L);
}

enum decode_mode hv_guest_decode_mode(struct hv_vcpu *v)
{
	if (!(hv_vmread(v, VMCS_GUEST_CR0) & CR0_PE))
		return DMODE_16;
	if (hv_guest_64bit_code(v))
		return DMODE_64;
	return (hv_vmread(v, VMCS_GUEST_CS_AR_BYTES) & AR_DB) ? DMODE_32 : DMODE_16;
}

/* State no architectural register carries: no events blocked, nothing pending, no
 * link VMCS (SDM 26.4.2; link pointer ~0, SDM 28.3.1.5). */
static void put_nonregister_state(struct hv_vcpu *v)
{
	hv_vmwrite(v, VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	hv_vmwrite(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	hv_vmwrite(v, VMCS_VMCS_LINK_POINTER, ~0ULL);
	hv_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	v->reinject_info = 0;
}

/* IA-32e mode guest follows EFER.LMA (SDM 28.3.1.1: must equal it at entry with
 * "load IA32_EFER"). */
static void put_efer(struct hv_vcpu *v, uint64_t efer)
{
	hv_vmwrite(v, VMCS_GUEST_IA32_EFER, efer);
	uint64_t entry = hv_vmread(v, VMCS_VM_ENTRY_CONTROLS);
	if (efer & EFER_LMA)
		entry |= ENTRY_IA32E_MODE;
	else
		entry &= ~(uint64_t)ENTRY_IA32E_MODE;
	hv_vmwrite(v, VMCS_VM_ENTRY_CONTROLS, entry);
}

void hv_state_from_cpu(struct hv_vcpu *v, const struct cpu *c)
{
	for (int s = 0; s < SEG_COUNT; s++)
		hv_seg_write(v, s, &c->seg[s]);
	/* A null LDTR is unusable (SDM 26.4.1); TR must be a busy TSS (SDM 28.3.1.2). */
	uint32_t ldtr_ar = c->ldtr.sel ? c->ldtr.ar : AR_UNUSABLE;
	put_seg(v, HV_SEG_LDTR, c->ldtr.sel, c->ldtr.base, c->ldtr.limit, ldtr_ar);
	hv_seg_write(v, HV_SEG_TR, &c->tr);
	hv_vmwrite(v, VMCS_GUEST_GDTR_BASE, c->gdtr.base);
	hv_vmwrite(v, VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
	hv_vmwrite(v, VMCS_GUEST_IDTR_BASE, c->idtr.base);
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);
	hv_set_guest_cr0(v, c->cr0);
	hv_set_guest_cr4(v, c->cr4);
	hv_vmwrite(v, VMCS_GUEST_CR3, c->cr3);
	hv_vmwrite(v, VMCS_GUEST_DR7, c->dr[7]);
	hv_vmwrite(v, VMCS_GUEST_RSP, c->gpr[RSP]);
	hv_vmwrite(v, VMCS_GUEST_RIP, c->rip);
	struct cpu tmp = *c; /* the lazy flags fold into a copy: c stays untouched */
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, cpu_get_rflags(&tmp));
	put_efer(v, c->efer);
	hv_vmwrite(v, VMCS_GUEST_IA32_PAT, c->pat);
	hv_vmwrite(v, VMCS_GUEST_SYSENTER_CS, c->sysenter_cs);
	hv_vmwrite(v, VMCS_GUEST_SYSENTER_ESP, c->sysenter_esp);
	hv_vmwrite(v, VMCS_GUEST_SYSENTER_EIP, c->sysenter_eip);
	put_nonregister_state(v);
	v->mp = HV_MP_RUNNABLE;
}

/* Real mode at CS = vector << 8 (SDM 10.4.4.1 / 10.1.1 Table 10-1 after INIT), the
 * segments as a real-mode far jump leaves them: limit 64 KiB, accessed data/code. */
static void real_mode(struct hv_vcpu *v, uint16_t cs, uint64_t cs_base, uint64_t rip)
{
	for (int s = 0; s < SEG_COUNT; s++)
		put_seg(v, s, 0, 0, 0xFFFF, 0x93); /* P, S, read/write accessed, DPL 0 */
	put_seg(v, SEG_CS, cs, cs_base, 0xFFFF, 0x9B); /* P, S, exec/read accessed */
	put_seg(v, HV_SEG_LDTR, 0, 0, 0xFFFF, 0x82);    /* present LDT */
	put_seg(v, HV_SEG_TR, 0, 0, 0xFFFF, 0x8B);      /* busy 32-bit TSS */
	hv_vmwrite(v, VMCS_GUEST_GDTR_BASE, 0);
	hv_vmwrite(v, VMCS_GUEST_GDTR_LIMIT, 0xFFFF);
	hv_vmwrite(v, VMCS_GUEST_IDTR_BASE, 0);
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, 0xFFFF);
	hv_set_guest_cr0(v, CR0_ET | CR0_CD | CR0_NW); /* Table 10-1: 60000010H */
	hv_set_guest_cr4(v, 0);
	hv_vmwrite(v, VMCS_GUEST_CR3, 0);
	hv_vmwrite(v, VMCS_GUEST_DR7, 0x400);
	hv_vmwrite(v, VMCS_GUEST_RSP, 0);
	hv_vmwrite(v, VMCS_GUEST_RIP, rip);
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	put_efer(v, 0);
	hv_vmwrite(v, VMCS_GUEST_IA32_PAT, 0x0007040600070406ULL);
	put_nonregister_state(v);
	for (int r = 0; r < 16; r++)
		if (r != RSP)
			v->cpu->gpr[r] = 0;
	v->cpu->gpr[RDX] = CPUID_SIGNATURE; /* EDX = signature (Table 10-1) */
}

void hv_state_init(struct hv_vcpu *v)
{
	real_mode(v, 0xF000, 0xFFFF0000ULL, 0xFFF0);
	/* The BSP restarts at the reset vector, APs wait for SIPI (SDM 10.4.1), as the
	 * silicon's INIT does at level 0. */
	v->mp = v->id == 0 ? HV_MP_RUNNABLE : HV_MP_WAIT_SIPI;
	v->nmi_pending = false;
}

void hv_state_sipi(struct hv_vcpu *v, uint8_t vector)
{
	real_mode(v, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
	v->mp = HV_MP_RUNNABLE;
}

void hv_guest_paging(struct hv_vcpu *v, struct hv_guest_paging *pg)
{
	pg->cr0 = hv_vmread(v, VMCS_GUEST_CR0);
	pg->cr3 = hv_vmread(v, VMCS_GUEST_CR3);
	pg->cr4 = hv_vmread(v, VMCS_GUEST_CR4);
	pg->efer = hv_vmread(v, VMCS_GUEST_IA32_EFER);
}
