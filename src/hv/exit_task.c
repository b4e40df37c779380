/*
 * Task switches of the guest (exit reason 9). The silicon does not switch tasks in VMX
 * non-root operation: once the checks that come first have passed it exits (SDM
 * 27.4.2), with the TSS selector and the source (CALL, IRET, JMP, task gate in the
 * IDT) in the qualification (SDM 29.2.1 Table 29-2). L0 then performs the switch on
 * the guest's state, as KVM's emulator does (kvm_task_switch).
 *
 * Not a second implementation: the silicon's own task.c runs the switch
 * (task_switch_emulate) on an emulation context, a struct cpu that L0 owns (one per
 * VM, allocated on first use, never run). It gets the guest's state from the VMCS and
 * the guest GPRs, and L0's guest bus as its memory, so its page walks and its TSS and
 * GDT accesses go through the guest's paging to guest-physical memory (EPT01 maps
 * guest RAM 1:1, so that is the memory the guest sees). The state the switch leaves
 * goes back into the VMCS and the GPRs. A fault of the switch (#TS, #NP, #SS, #GP,
 * #PF) is injected into the guest at the next VM entry (SDM 28.6.1) with the state
 * the fault left (SDM 8.3: the old task's before the commit point, the new task's
 * after it); L0 itself never fails.
 *
 * A fault of a switch through a task gate while an exception is being delivered
 * follows SDM 6.15 Table 6-5 against that exception: #DF (error code 0), or a triple
 * fault (the VM shuts down as for exit reason 2) if it was a #DF.
 *
 * Not implemented (documented limits):
 *   - the new task's T flag (#DB trap, SDM 8.2.1) and data breakpoints on the TSS
 *     accesses are dropped (pending debug exceptions have no BT bit, SDM 26.4.2);
 *   - after a fault past the commit point that left CS unusable, CS gets a flat
 *     code segment cache (RPL = DPL) so that VM entry accepts the state; delivering
 *     the injected fault loads CS from the IDT anyway.
 */
#include <setjmp.h>
#include <stdlib.h>

#include "cpu/flags.h"
#include "cpu/mem.h"
#include "cpu/task.h"
#include "hv/hv_internal.h"

/* Task-switch exit qualification, SDM 29.2.1 Table 29-2: the new TSS selector in
 * bits 15:0, the source in bits 31:30 (0 CALL, 1 IRET, 2 JMP, 3 task gate in the
 * IDT: enum task_cause's values). */
#define TSQUAL_SEL(q) ((uint16_t)(q))
#define TSQUAL_SOURCE(q) ((enum task_cause)(((q) >> 30) & 3))

/* The emulation context: a CPU on the guest bus, reset once, its TLB its own. */
struct cpu *hv_emu_context(struct hv_vcpu *v)
{
	struct hv_vm *vm = v->vm;
	if (vm->task_emu)
		return vm->task_emu;
	struct cpu *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	cpu_init(c, v->id, vm->guest, vm->clock, v->cpu->dcache);
	if (tlb_init(&c->tlb)) {
		free(c);
		return NULL;
	}
	vm->task_emu = c;
	return c;
}

void hv_task_emu_free(struct hv_vm *vm)
{
	if (!vm->task_emu)
		return;
	tlb_destroy(&vm->task_emu->tlb);
	free(vm->task_emu);
	vm->task_emu = NULL;
}

/* CR0/CR4 as the guest sees them: the bits L0 owns come from the read shadows (SDM
 * 26.6.6). */
static uint64_t guest_cr(struct hv_vcpu *v, uint32_t cr, uint32_t mask, uint32_t shadow)
{
	uint64_t m = hv_vmread(v, mask);
	return (hv_vmread(v, cr) & ~m) | (hv_vmread(v, shadow) & m);
}

/* The registers and descriptor tables a task switch reads, CR3 and the PDPTE
 * registers the walks use (with EPT and PAE paging they are the VMCS's, SDM 28.3.1.6). */
static void emu_load_system(struct hv_vcpu *v, struct cpu *c)
{
	for (int i = 0; i < SEG_COUNT; i++)
		hv_seg_read(v, i, &c->seg[i]);
	hv_seg_read(v, HV_SEG_LDTR, &c->ldtr);
	hv_seg_read(v, HV_SEG_TR, &c->tr);
	c->gdtr.base = hv_vmread(v, VMCS_GUEST_GDTR_BASE);
	c->gdtr.limit = (uint32_t)hv_vmread(v, VMCS_GUEST_GDTR_LIMIT);
	c->idtr.base = hv_vmread(v, VMCS_GUEST_IDTR_BASE);
	c->idtr.limit = (uint32_t)hv_vmread(v, VMCS_GUEST_IDTR_LIMIT);
	c->cr0 = guest_cr(v, VMCS_GUEST_CR0, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW);
	c->cr4 = guest_cr(v, VMCS_GUEST_CR4, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_READ_SHADOW);
	c->cr3 = hv_vmread(v, VMCS_GUEST_CR3);
	c->efer = hv_vmread(v, VMCS_GUEST_IA32_EFER);
	c->dr[7] = hv_vmread(v, VMCS_GUEST_DR7);
	tlb_ctl_written(c);
	tlb_flush_all(c);
	for (int i = 0; i < 4; i++)
		c->tlb.pdpte[i] = hv_vmread(v, VMCS_GUEST_PDPTR0 + 2 * (uint32_t)i);
	c->tlb.pdpte_cr3 = c->cr3 | 1;
}

/* The guest's state before the switch; next_rip is the EIP the old TSS saves. */
void hv_emu_load(struct hv_vcpu *v, struct cpu *c, uint64_t next_rip)
{
	emu_load_system(v, c);
	for (int r = 0; r < 16; r++)
		c->gpr[r] = hv_gpr_read(v, r);
	c->rip = hv_vmread(v, VMCS_GUEST_RIP);
	c->next_rip = next_rip;
	cpu_set_rflags(c, hv_vmread(v, VMCS_GUEST_RFLAGS));
	c->nmi_blocked = hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_NMI;
	c->events = 0;
	c->delivering = -1;
	c->intr_shadow = 0;
	c->dbg = (struct cpu_dbg){ 0 };
	cpu_update_mode(c);
}

/* A CS left unusable by a fault past the commit point (task_load_state): a flat code
 * cache with DPL = RPL, 32-bit for a 32-bit TSS (see the limits above). */
static struct seg usable_cs(const struct cpu *c)
{
	struct seg s = c->seg[SEG_CS];
	if (!(s.ar & AR_UNUSABLE))
		return s;
	unsigned rpl = s.sel & 3u;
	s.base = 0;
	s.limit = 0xFFFFFFFFu;
	s.ar = 0xBu | AR_S | AR_P | AR_G | (rpl << AR_DPL_SHIFT) |
	       ((c->tr.ar & 8) ? AR_DB : 0);
	return s;
}

/* CR3 changed by the switch (SDM 8.3 step 12): the guest's TLB entries under its VPID
 * go (as MOV to CR3 would flush them, SDM 4.10.4.1), and the PDPTE fields follow. */
static void emu_store_cr3(struct hv_vcpu *v, const struct cpu *c)
{
	if (c->cr3 == hv_vmread(v, VMCS_GUEST_CR3))
		return;
	hv_vmwrite(v, VMCS_GUEST_CR3, c->cr3);
	for (int i = 0; i < 4; i++)
		hv_vmwrite(v, VMCS_GUEST_PDPTR0 + 2 * (uint32_t)i, c->tlb.pdpte[i]);
	uint16_t vpid = (uint16_t)hv_vmread(v, VMCS_VIRTUAL_PROCESSOR_ID);
	vmx_invvpid(v->cpu, INVVPID_SINGLE_CONTEXT, vpid, 0);
}

/* The state the switch left, back into the VMCS and the guest GPRs. The switch ends
 * any STI/MOV-SS blocking; the NMI blocking is the context's (IRET unblocks). */
void hv_emu_store(struct hv_vcpu *v, struct cpu *c)
{
	for (int i = 0; i < SEG_COUNT; i++) {
		struct seg s = i == SEG_CS ? usable_cs(c) : c->seg[i];
		hv_seg_write(v, i, &s);
	}
	hv_seg_write(v, HV_SEG_LDTR, &c->ldtr);
	hv_seg_write(v, HV_SEG_TR, &c->tr);
	hv_set_guest_cr0(v, c->cr0);
	emu_store_cr3(v, c);
	hv_vmwrite(v, VMCS_GUEST_DR7, c->dr[7]);
	for (int r = 0; r < 16; r++)
		hv_gpr_write(v, r, c->gpr[r]);
	hv_vmwrite(v, VMCS_GUEST_RIP, c->rip);
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, cpu_get_rflags(c));
	uint64_t intr = hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO) &
			~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS |
				    INTERRUPTIBILITY_NMI);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO,
		   intr | (c->nmi_blocked ? INTERRUPTIBILITY_NMI : 0));
}

/* The switch on the context; false if it faulted (the fault is in c->exc_*). */
static bool run_switch(struct cpu *c, uint16_t sel, enum task_cause cause, uint32_t ext,
		       uint32_t err)
{
	if (setjmp(c->fault_jmp))
		return false;
	task_switch_emulate(c, sel, cause, ext, err);
	return true;
}

/* What the event being delivered through a task gate gives the switch (SDM 29.2.4,
 * IDT-vectoring information): software events (INT n, INT3, INTO, INT1) return past
 * their instruction; error codes get EXT = 0 for INT n, INT3 and INTO (SDM 6.13). The
 * event is consumed by the switch: L0 does not re-inject it. An NMI delivered this
 * way blocks NMIs (SDM 6.7.1). */
struct gate_event {
	uint32_t info, ext, err;
	bool soft, nmi;
};

static void gate_event(struct hv_vcpu *v, struct gate_event *e)
{
	uint32_t info = (uint32_t)hv_vmread(v, VMCS_IDT_VECTORING_INFO_FIELD);
	unsigned type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	bool valid = info & INTR_INFO_VALID;
	e->info = valid ? info : 0;
	e->soft = valid && (type == INTR_TYPE_SW_INTR || type == INTR_TYPE_SW_EXCEPTION ||
			    type == INTR_TYPE_PRIV_SW_EXCEPTION);
	e->ext = valid && type != INTR_TYPE_SW_INTR && type != INTR_TYPE_SW_EXCEPTION;
	e->err = valid && (info & INTR_INFO_DELIVER_CODE)
			 ? (uint32_t)hv_vmread(v, VMCS_IDT_VECTORING_ERROR_CODE)
			 : NO_ERROR_CODE;
	e->nmi = valid && type == INTR_TYPE_NMI;
	v->reinject_info = 0;
}

/* The EIP the old TSS saves: past the instruction for CALL, JMP, IRET and software
 * events (VM-exit instruction length, SDM 29.2.5), else the guest RIP (SDM 6.12.2). */
static uint64_t return_eip(struct hv_vcpu *v, bool past)
{
	uint64_t rip = hv_vmread(v, VMCS_GUEST_RIP);
	if (past)
		rip += hv_vmread(v, VMCS_VM_EXIT_INSTRUCTION_LEN);
	return (uint32_t)rip; /* no task switches in IA-32e mode (SDM 8.7) */
}

/* SDM 6.15 Table 6-4: contributory exceptions. */
static bool contributory(unsigned vector)
{
	return vector == EXC_DE || (vector >= EXC_TS && vector <= EXC_GP);
}

/* SDM 6.15 Table 6-5: the fault second, raised while delivering the event of IDT-
 * vectoring information first, makes a double fault. */
static bool makes_double_fault(uint32_t first, unsigned second)
{
	unsigned type = (first & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	unsigned vector = first & INTR_INFO_VECTOR_MASK;
	if (!(first & INTR_INFO_VALID) || type != INTR_TYPE_HW_EXCEPTION)
		return false;
	if (vector == EXC_PF)
		return second == EXC_PF || contributory(second);
	return contributory(vector) && contributory(second);
}

/* The fault of the switch, into the guest at the next entry (SDM 28.6.1); a #PF sets
 * the guest's CR2 first (SDM 4.7), as the delivery would. */
static enum hv_action inject_fault(struct hv_vcpu *v, const struct cpu *c, uint32_t first)
{
	unsigned vector = c->exc_vector;
	uint32_t err = c->exc_error == NO_ERROR_CODE ? 0 : c->exc_error;
	bool df = (first & INTR_INFO_VALID) && (first & INTR_INFO_VECTOR_MASK) == EXC_DF &&
		  ((first & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) == INTR_TYPE_HW_EXCEPTION;
	if (df)
		return hv_exit_triple_fault(v); /* SDM 6.15 "Interrupt 8": shutdown */
	if (makes_double_fault(first, vector)) {
		vector = EXC_DF;
		err = 0;
	}
	if (vector == EXC_PF)
		v->cpu->cr2 = c->exc_cr2; /* the guest's CR2 (hv_internal.h) */
	hv_inject_exception(v, (uint8_t)vector, err);
	return HV_RESUME;
}

/* Task switch (exit reason 9, SDM 27.4.2; qualification Table 29-2): as KVM's
 * kvm_task_switch(), on the emulation context (see the top of the file). */
enum hv_action hv_exit_task_switch(struct hv_vcpu *v)
{
	uint64_t q = hv_vmread(v, VMCS_EXIT_QUALIFICATION);
	uint16_t sel = TSQUAL_SEL(q);
	enum task_cause cause = TSQUAL_SOURCE(q);
	struct gate_event e = { 0, 0, NO_ERROR_CODE, false, false };
	if (cause == TASK_EVENT)
		gate_event(v, &e);
	struct cpu *c = hv_emu_context(v);
	if (!c)
		return hv_shutdown(v, "no memory to emulate a task switch");
	hv_emu_load(v, c, return_eip(v, cause != TASK_EVENT || e.soft));
	bool done = run_switch(c, sel, cause, e.ext, e.err);
	if (done && e.nmi)
		c->nmi_blocked = true;
	hv_emu_store(v, c);
	return done ? HV_RESUME : inject_fault(v, c, e.info);
}
