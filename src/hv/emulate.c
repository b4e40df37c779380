/*
 * Completing an MMIO access (an EPT violation on a page EPT01 leaves unmapped, SDM
 * 30.3.3.2): fetch the faulting instruction through the guest's paging, decode it with
 * the silicon's decoder (cpu/insn.h decode(), not a second decoder), do its one access
 * against the device model, write back the register, step over the instruction.
 *
 * The forms guests use on device registers: MOV (88/89/8A/8B/A0-A3/C6/C7), MOVZX,
 * MOVSX, XCHG, and ADD/OR/AND/SUB/XOR/CMP/TEST (emulate_alu.c) with memory. Any other
 * instruction that does not exit by itself runs on the emulation context
 * (emulate_insn.c), as does one L0 cannot fetch or decode (the silicon raises its
 * fault); an intercepted one there shuts the VM down with the op's name.
 */
#include "cpu/exec.h"
#include "hv/hv_internal.h"

/* Register operands with the 8-bit AH..BH rule (SDM Vol.1 3.7.2.1). */
static uint64_t reg_get(struct hv_vcpu *v, int r, int osz, bool rex)
{
	if (osz == 0 && !rex && r >= 4 && r < 8)
		return (hv_gpr_read(v, r - 4) >> 8) & 0xFF;
	return hv_gpr_read(v, r) & size_mask(osz);
}

static void reg_put(struct hv_vcpu *v, int r, int osz, bool rex, uint64_t val)
{
	if (osz == 0 && !rex && r >= 4 && r < 8) {
		uint64_t old = hv_gpr_read(v, r - 4);
		hv_gpr_write(v, r - 4, (old & ~0xFF00ULL) | ((val & 0xFF) << 8));
		return;
	}
	uint64_t old = hv_gpr_read(v, r);
	switch (osz) {
	case 0: val = (old & ~0xFFULL) | (val & 0xFF); break;
	case 1: val = (old & ~0xFFFFULL) | (val & 0xFFFF); break;
	case 2: val = (uint32_t)val; break; /* 32-bit writes zero-extend (Vol.1 3.4.1.1) */
	default: break;
	}
	hv_gpr_write(v, r, val);
}

/* The xAPIC page of this vCPU (SDM 11.4.1), if the guest's LAPIC is in xAPIC mode. */
static bool is_apic_page(struct hv_vcpu *v, gpa_t gpa)
{
	return v->lapic && (v->apic_base & APIC_BASE_EN) && !(v->apic_base & APIC_BASE_EXTD) &&
	       (gpa & ~0xFFFULL) == hv_apic_page(v);
}

/* xAPIC registers are 32 bits at 16-byte strides (SDM 11.4.1): a narrower access
 * reads the dword, a narrower write merges into it (as the silicon's mem.c does). */
static uint64_t mmio_read(struct hv_vcpu *v, gpa_t gpa, int size)
{
	if (!is_apic_page(v, gpa))
		return bus_read(v->vm->guest, gpa, size);
	unsigned off = gpa & 0xFFF;
	uint64_t r = lapic_ops.mmio_read(v->lapic, off & ~3u);
	if (size == 8)
		r |= (uint64_t)lapic_ops.mmio_read(v->lapic, (off & ~3u) + 4) << 32;
	return (r >> (8 * (off & 3))) & size_mask(size == 8 ? 3 : size == 4 ? 2 : size == 2 ? 1 : 0);
}

static void mmio_write(struct hv_vcpu *v, gpa_t gpa, int size, uint64_t val)
{
	if (!is_apic_page(v, gpa)) {
		bus_write(v->vm->guest, gpa, size, val);
		return;
	}
	unsigned off = gpa & 0xFFF, sh = 8 * (off & 3);
	uint32_t r = (uint32_t)val;
	if (size < 4) {
		uint32_t m = (uint32_t)(size_mask(size == 2 ? 1 : 0) << sh);
		r = (lapic_ops.mmio_read(v->lapic, off & ~3u) & ~m) | (((uint32_t)val << sh) & m);
	}
	lapic_ops.mmio_write(v->lapic, off & ~3u, r);
	if (size == 8)
		lapic_ops.mmio_write(v->lapic, (off & ~3u) + 4, (uint32_t)(val >> 32));
}

/* Step over the emulated instruction: its length is the decoder's (an EPT violation
 * reports none, SDM 29.2.5); the instruction pointer wraps at its width. */
static void advance_rip(struct hv_vcpu *v, int len, enum decode_mode dm)
{
	uint64_t rip = hv_vmread(v, VMCS_GUEST_RIP) + (uint64_t)len;
	hv_complete_insn(v, dm == DMODE_64 ? rip : dm == DMODE_32 ? (uint32_t)rip : rip & 0xFFFF);
}

/* A read-modify-write (or compare) on the device register (emulate_alu.c). */
static bool do_alu(struct hv_vcpu *v, const struct insn *in, gpa_t gpa)
{
	int bytes = 1 << in->osz;
	bool rex = in->flags & INSN_REX, wmem, wreg;
	uint64_t mem = mmio_read(v, gpa, bytes), res;
	uint64_t reg = in->form == FORM_EI ? 0 : reg_get(v, in->reg, in->osz, rex);
	if (!hv_emulate_mmio_alu(v, in, mem, reg, &res, &wmem, &wreg))
		return false;
	if (wmem)
		mmio_write(v, gpa, bytes, res);
	if (wreg)
		reg_put(v, in->reg, in->osz, rex, res);
	return true;
}

/* Do the instruction's access; false if L0 does not emulate this form. */
static bool do_access(struct hv_vcpu *v, const struct insn *in, gpa_t gpa)
{
	int bytes = 1 << in->osz;
	bool rex = in->flags & INSN_REX;
	switch (in->op) {
	case OP_MOV:
		if (in->form == FORM_EG)
			mmio_write(v, gpa, bytes, reg_get(v, in->reg, in->osz, rex));
		else if (in->form == FORM_EI)
			mmio_write(v, gpa, bytes, in->imm & size_mask(in->osz));
		else if (in->form == FORM_GE)
			reg_put(v, in->reg, in->osz, rex, mmio_read(v, gpa, bytes));
		else
			return false;
		return true;
	case OP_MOVZX:
	case OP_MOVSX: {
		int src = (int)in->imm; /* source size, log2 (insn.h conventions) */
		uint64_t val = mmio_read(v, gpa, 1 << src);
		if (in->op == OP_MOVSX)
			val = sign_extend(val, src);
		reg_put(v, in->reg, in->osz, rex, val);
		return true;
	}
	case OP_XCHG: {
		uint64_t old = mmio_read(v, gpa, bytes);
		mmio_write(v, gpa, bytes, reg_get(v, in->reg, in->osz, rex));
		reg_put(v, in->reg, in->osz, rex, old);
		return true;
	}
	default:
		return hv_is_mmio_alu((enum op)in->op) && do_alu(v, in, gpa);
	}
}

enum hv_action hv_emulate_mmio(struct hv_vcpu *v, gpa_t gpa)
{
	enum decode_mode dm = hv_guest_decode_mode(v);
	struct insn in;
	uint64_t la;
	int len = hv_fetch_insn(v, dm, &in, &la);
	if (len <= 0) /* the silicon's fetch raises the fault (#PF, #GP: > 15 bytes) */
		return hv_emulate_insn(v, "on MMIO address", gpa);
	if (!(in.flags & INSN_MEM) || !do_access(v, &in, gpa))
		return hv_emulate_insn(v, "on MMIO address", gpa); /* emulate_insn.c */
	advance_rip(v, len, dm);
	return HV_RESUME;
}
