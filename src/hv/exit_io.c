/*
 * Port I/O (exit reason 30): every IN/OUT/INS/OUTS exits ("unconditional I/O
 * exiting", SDM 27.1.3) and L0 dispatches it to the device models on its guest bus,
 * the same models the bare PC uses (KVM hands it to the vmm as KVM_EXIT_IO; L0's
 * devices are in-process). The exit qualification gives size, direction, string/REP
 * and port (SDM 29.2.1 Table 29-5).
 */
#include "cpu/exec.h"
#include "hv/hv_internal.h"

/* REP string I/O in chunks: the instruction stays at RIP until RCX reaches 0, so a
 * long REP gives the slice back between chunks (SDM Vol.2 REP: interruptible). */
#define IO_STRING_CHUNK 4096

uint32_t hv_io_in(struct hv_vm *vm, uint16_t port, int size)
{
	return bus_in(vm->guest, port, size);
}

void hv_io_out(struct hv_vm *vm, uint16_t port, int size, uint32_t value)
{
	bus_out(vm->guest, port, size, value);
}

/* IN/OUT with AL/AX/EAX (SDM Vol.2 IN, OUT). */
static void io_accumulator(struct hv_vcpu *v, uint16_t port, int size, bool in)
{
	uint64_t rax = v->cpu->gpr[RAX];
	if (!in) {
		hv_io_out(v->vm, port, size, (uint32_t)(rax & size_mask(size == 4 ? 2 : size - 1)));
		return;
	}
	uint32_t val = hv_io_in(v->vm, port, size);
	if (size == 4)
		rax = val; /* a 32-bit destination zero-extends (Vol.1 3.4.1.1) */
	else if (size == 2)
		rax = (rax & ~0xFFFFULL) | (val & 0xFFFF);
	else
		rax = (rax & ~0xFFULL) | (val & 0xFF);
	v->cpu->gpr[RAX] = rax;
}

/* The address size and source segment of INS/OUTS, from the instruction itself. */
static bool string_operands(struct hv_vcpu *v, int *asz, int *seg)
{
	struct insn in;
	uint64_t la;
	if (hv_fetch_insn(v, hv_guest_decode_mode(v), &in, &la) <= 0)
		return false;
	*asz = in.asz;
	*seg = in.seg;
	return true;
}

/* Both ends of an element of guest-linear memory are mapped by the guest's paging. */
static bool linear_mapped(struct hv_vcpu *v, uint64_t la, int size)
{
	struct hv_guest_paging pg;
	gpa_t pa;
	hv_guest_paging(v, &pg);
	return hv_gwalk(v->vm->guest, &pg, la, false, &pa) &&
	       hv_gwalk(v->vm->guest, &pg, la + (uint64_t)size - 1, false, &pa);
}

/* INS/OUTS, one element at a time through the guest's paging (SDM Vol.2 INS, OUTS):
 * OUTS reads seg:rSI (DS unless overridden), INS writes ES:rDI; DF picks the
 * direction; REP counts rCX down. */
static enum hv_action io_string(struct hv_vcpu *v, uint16_t port, int size, bool in, bool rep)
{
	int asz, seg;
	if (!string_operands(v, &asz, &seg)) /* the silicon's fetch faults (#PF) */
		return hv_emulate_string_io(v, hv_vmread(v, VMCS_GUEST_RIP));
	uint64_t amask = size_mask(asz);
	int ptr = in ? RDI : RSI;
	uint32_t base_field = in ? VMCS_GUEST_ES_BASE : VMCS_GUEST_ES_BASE + 2 * (uint32_t)seg;
	uint64_t base = hv_vmread(v, base_field);
	int64_t step = (hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_DF) ? -size : size;
	uint64_t count = rep ? v->cpu->gpr[RCX] & amask : 1;
	for (int i = 0; count && i < IO_STRING_CHUNK; i++, count--) {
		uint64_t off = v->cpu->gpr[ptr] & amask;
		uint64_t la = asz == 3 ? base + off : (uint32_t)(base + off);
		uint32_t val = 0;
		if (!linear_mapped(v, la, size)) /* the silicon raises the #PF */
			return hv_emulate_string_io(v, la);
		if (in) {
			val = hv_io_in(v->vm, port, size);
			if (hv_write_guest_linear(v, la, &val, size) != size)
				return hv_shutdown(v, "INS to unmapped guest-linear %#llx",
						   (unsigned long long)la);
		} else {
			if (hv_read_guest_linear(v, la, &val, size) != size)
				return hv_shutdown(v, "OUTS from unmapped guest-linear %#llx",
						   (unsigned long long)la);
			hv_io_out(v->vm, port, size, val);
		}
		uint64_t next = (off + (uint64_t)step) & amask;
		v->cpu->gpr[ptr] = (v->cpu->gpr[ptr] & ~amask) | next;
		if (rep)
			v->cpu->gpr[RCX] = (v->cpu->gpr[RCX] & ~amask) | ((count - 1) & amask);
	}
	if (!count) {
		hv_skip_insn(v);
		hv_io_breakpoints(v, port, size);
	}
	return HV_RESUME;
}

/* The I/O-instruction exit (see the top): the qualification's fields, then the
 * access; RIP steps only when the whole (REP) instruction is done. */
enum hv_action hv_exit_io(struct hv_vcpu *v)
{
	uint64_t q = hv_vmread(v, VMCS_EXIT_QUALIFICATION);
	int size = (int)IOQUAL_SIZE_MINUS_1(q) + 1;
	uint16_t port = (uint16_t)IOQUAL_PORT(q);
	bool in = q & IOQUAL_IN;
	if (size != 1 && size != 2 && size != 4)
		return hv_shutdown(v, "I/O exit with size %d", size);
	if (q & IOQUAL_STRING)
		return io_string(v, port, size, in, q & IOQUAL_REP);
	io_accumulator(v, port, size, in);
	hv_skip_insn(v);
	hv_io_breakpoints(v, port, size);
	return HV_RESUME;
}
