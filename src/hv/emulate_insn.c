/*
 * The general case of an access L0 must complete: an instruction on a device or
 * unassigned page that emulate.c's few forms do not cover (ADC, string forms, LES,
 * ENTER, ...), and instruction fetches from such pages (SDM 30.3.3.2, EPT violation
 * with bit 2 of the qualification). KVM hands both to its x86 emulator
 * (x86_emulate_instruction); L0's emulator is the silicon itself: the instruction
 * runs once (cpu_run with a budget of 1) on the emulation context of exit_task.c, a
 * struct cpu loaded from the VMCS and the guest GPRs whose memory is L0's guest bus,
 * so its accesses reach the same device models, and unassigned addresses float, as
 * at level 0. A fault of the instruction is delivered by the context through the
 * guest's IDT (L0 intercepts no exception, VMCS exception bitmap 0, SDM 25.6.3), as
 * the silicon would have delivered it in non-root operation; a triple fault is the
 * guest's (SDM 27.1.2 / exit reason 2). The state left goes back into the VMCS.
 *
 * Only instructions that never cause a VM exit by themselves (op_intercept IC_NONE,
 * SDM 27.1.2/27.1.3) run this way: an intercepted one (CPUID, I/O, MOV CR, HLT, ...)
 * would bypass L0's policy, so it still shuts the VM down with its name.
 */
#include "cpu/debug.h"
#include "cpu/exec.h"
#include "dev/lapic.h"
#include "hv/hv_internal.h"

/* The registers L0 leaves in the silicon CPU between exits (hv_internal.h) that an
 * instruction or its fault delivery uses: CR2 and the breakpoint addresses; the
 * activity state is the running guest's (HLT and INIT exit, never reach here). */
static void load_cpu_regs(struct hv_vcpu *v, struct cpu *c)
{
	c->cr2 = v->cpu->cr2;
	for (int i = 0; i < 4; i++)
		c->dr[i] = v->cpu->dr[i];
	c->dr[6] = v->cpu->dr[6];
	c->halted = c->wait_for_sipi = c->shutdown = false;
	c->tf_no_trap = false;
	c->xcr0 = v->cpu->xcr0;
	debug_update(c);
	/* The vCPU's xAPIC page is its virtual LAPIC's (SDM 11.4.1), as in emulate.c. */
	c->apic_ops = v->lapic ? &lapic_ops : NULL;
	c->apic = v->lapic;
	c->apic_base = v->apic_base;
}

/* What the instruction changed beyond hv_emu_store(): CR2 (a #PF delivered), DR6,
 * the descriptor-table registers (LGDT/LIDT from device memory), and a MOV SS / POP SS
 * shadow (SDM 26.4.2 blocking by MOV SS). */
static void store_extra(struct hv_vcpu *v, const struct cpu *c)
{
	v->cpu->cr2 = c->cr2;
	v->cpu->dr[6] = c->dr[6];
	hv_vmwrite(v, VMCS_GUEST_GDTR_BASE, c->gdtr.base);
	hv_vmwrite(v, VMCS_GUEST_GDTR_LIMIT, c->gdtr.limit);
	hv_vmwrite(v, VMCS_GUEST_IDTR_BASE, c->idtr.base);
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, c->idtr.limit);
	if (c->intr_shadow) {
		uint64_t intr = hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO);
		intr |= (c->intr_shadow_kind & SHADOW_MOVSS) ? INTERRUPTIBILITY_MOV_SS
							      : INTERRUPTIBILITY_STI;
		hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, intr);
	}
}

/* The op at guest RIP, or OP_COUNT if it cannot be fetched or decoded. */
static enum op op_at_rip(struct hv_vcpu *v, const struct cpu *c)
{
	uint64_t la = c->seg[SEG_CS].base + c->rip;
	if (c->mode != MODE_LONG64)
		la = (uint32_t)la;
	enum decode_mode dm = c->mode == MODE_LONG64                    ? DMODE_64
			      : (c->seg[SEG_CS].ar & AR_DB) && c->mode != MODE_REAL &&
					c->mode != MODE_VM86 ? DMODE_32
							     : DMODE_16;
	uint8_t bytes[15];
	int n = hv_read_guest_linear(v, la, bytes, (int)sizeof(bytes));
	struct insn in;
	if (n <= 0 || decode(bytes, n, dm, &in) <= 0)
		return OP_COUNT;
	return (enum op)in.op;
}

/* Could the op exit by itself under vmcs01's controls (SDM 27.1.2, 27.1.3)? Then L0's
 * handler must see it: not run here. The descriptor-table instructions exit only with
 * "descriptor-table exiting" (SDM 26.6.2 Table 26-7), which L0 leaves clear; string
 * I/O runs here for hv_emulate_string_io (the context's ports are the guest bus's). */
static bool may_exit(struct hv_vcpu *v, enum intercept ic, bool io)
{
	if (ic == IC_NONE || (io && ic == IC_IO))
		return false;
	if (ic == IC_DTR || ic == IC_LDTR_TR)
		return hv_vmread(v, VMCS_SECONDARY_VM_EXEC_CONTROL) & PROC2_DESC_TABLE_EXITING;
	return true;
}

/* Run the instruction at guest RIP once on the context; io: string I/O may run (its
 * ports are the guest bus's, as hv_io_in/hv_io_out's). */
static enum hv_action run_on_context(struct hv_vcpu *v, const char *what, gpa_t gpa, bool io)
{
	struct cpu *c = hv_emu_context(v);
	if (!c)
		return hv_shutdown(v, "no memory to emulate an instruction");
	hv_emu_load(v, c, hv_vmread(v, VMCS_GUEST_RIP));
	load_cpu_regs(v, c);
	enum op op = op_at_rip(v, c);
	if (op != OP_COUNT && may_exit(v, (enum intercept)op_intercept[op], io))
		return hv_shutdown(v, "L0 cannot emulate %s (%s %#llx)", op_name(op), what,
				   (unsigned long long)gpa);
	enum cpu_exit why = cpu_run(c, 1);
	if (why == CPU_EXIT_SHUTDOWN || c->shutdown)
		return hv_exit_triple_fault(v);
	hv_emu_store(v, c);
	store_extra(v, c);
	return HV_RESUME;
}

enum hv_action hv_emulate_insn(struct hv_vcpu *v, const char *what, gpa_t gpa)
{
	return run_on_context(v, what, gpa, false);
}

/* INS/OUTS whose memory operand L0's walk cannot reach: the silicon raises the #PF
 * (or #GP) with its error code and CR2 (SDM Vol.2 INS/OUTS "Protected Mode
 * Exceptions"), instead of L0 giving up. */
enum hv_action hv_emulate_string_io(struct hv_vcpu *v, gpa_t la)
{
	return run_on_context(v, "string I/O at guest-linear", la, true);
}
