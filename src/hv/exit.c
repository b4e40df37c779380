/*
 * The exit-handler table (one row per basic exit reason, SDM App. C) and what every
 * handler shares: stepping over an instruction, injecting an exception, shutting the
 * VM down. Each exit is counted with the host time L0 spent handling it (--stats).
 */
#include <stdarg.h>

#include "hv/hv_internal.h"

/* Handlers are named after the exit reason (KVM's handle_<reason>), except those
 * several reasons share: hv_exit_resume (the cause is dealt with elsewhere: the
 * windows and the kick by hv_inject_pending() at the next entry, INIT/SIPI by the
 * virtual LAPIC), hv_exit_undefined_insn (#UD: L1's CPUID offers no VMX or XSAVE)
 * and hv_exit_nop_insn (caches are not modelled; MONITOR/MWAIT run as NOPs, KVM's
 * default, while L1's CPUID hides them). */
const hv_exit_fn hv_exit_handlers[EXIT_REASON_MAX] = {
	[EXIT_REASON_EXCEPTION_NMI] = hv_exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT] = hv_exit_resume, /* L0's kick (irqchip.c) */
	[EXIT_REASON_TRIPLE_FAULT] = hv_exit_triple_fault,
	[EXIT_REASON_INIT_SIGNAL] = hv_exit_resume, /* pins not driven at level 1 */
	[EXIT_REASON_SIPI_SIGNAL] = hv_exit_resume,
	[EXIT_REASON_TASK_SWITCH] = hv_exit_task_switch,
	[EXIT_REASON_INTERRUPT_WINDOW] = hv_exit_resume,
	[EXIT_REASON_NMI_WINDOW] = hv_exit_resume,
	[EXIT_REASON_CPUID] = hv_exit_cpuid,
	[EXIT_REASON_HLT] = hv_exit_hlt,
	[EXIT_REASON_INVD] = hv_exit_nop_insn,
	[EXIT_REASON_RDTSC] = hv_exit_rdtsc,
	[EXIT_REASON_VMCALL] = hv_exit_vmcall,
	[EXIT_REASON_VMCLEAR] = hv_exit_undefined_insn,
	[EXIT_REASON_VMLAUNCH] = hv_exit_undefined_insn,
	[EXIT_REASON_VMPTRLD] = hv_exit_undefined_insn,
	[EXIT_REASON_VMPTRST] = hv_exit_undefined_insn,
	[EXIT_REASON_VMREAD] = hv_exit_undefined_insn,
	[EXIT_REASON_VMRESUME] = hv_exit_undefined_insn,
	[EXIT_REASON_VMWRITE] = hv_exit_undefined_insn,
	[EXIT_REASON_VMOFF] = hv_exit_undefined_insn,
	[EXIT_REASON_VMON] = hv_exit_undefined_insn,
	[EXIT_REASON_CR_ACCESS] = hv_exit_cr_access,
	[EXIT_REASON_IO_INSTRUCTION] = hv_exit_io,
	[EXIT_REASON_MSR_READ] = hv_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE] = hv_exit_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION] = hv_exit_nop_insn,
	[EXIT_REASON_MONITOR_INSTRUCTION] = hv_exit_nop_insn,
	[EXIT_REASON_EPT_VIOLATION] = hv_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG] = hv_exit_ept_misconfig,
	[EXIT_REASON_INVEPT] = hv_exit_undefined_insn,
	[EXIT_REASON_RDTSCP] = hv_exit_rdtscp,
	[EXIT_REASON_PREEMPTION_TIMER] = hv_exit_preemption_timer,
	[EXIT_REASON_INVVPID] = hv_exit_undefined_insn,
	[EXIT_REASON_WBINVD] = hv_exit_nop_insn,
	[EXIT_REASON_XSETBV] = hv_exit_undefined_insn,
	[EXIT_REASON_VMFUNC] = hv_exit_undefined_insn,
};

/*
 * With --deterministic, virtual time is retired instructions (clock.h), and L0's work
 * would take none: a guest polling a device through port I/O would need hundreds of
 * millions of exits to see a timer advance. A VM exit and entry cost real silicon on
 * the order of a thousand cycles, so each exit advances virtual time by this much
 * (clock_idle() in deterministic mode moves time forward, never past the next timer
 * deadline). Host-time runs need nothing: time passes while L0 works.
 */
#define HV_EXIT_VIRTUAL_NS 500

enum hv_action hv_handle_exit(struct hv_vcpu *v, uint32_t reason)
{
	uint64_t t0 = hv_host_ticks();
	if (v->vm->clock->deterministic)
		clock_idle(v->vm->clock, HV_EXIT_VIRTUAL_NS);
	enum hv_action a;
	uint32_t slot;
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		/* VM-entry failure (SDM 28.8): invalid guest state (33), MSR loading
		 * (34), machine check (41). The guest state is L0's to keep valid. */
		slot = EXIT_REASON_MAX;
		a = hv_shutdown(v, "VM entry failed: %s (exit reason %u, qualification %llu)",
				vmx_exit_reason_name(reason & 0xFFFF), reason & 0xFFFF,
				(unsigned long long)hv_vmread(v, VMCS_EXIT_QUALIFICATION));
	} else {
		slot = reason & 0xFFFF;
		hv_exit_fn fn = slot < EXIT_REASON_MAX ? hv_exit_handlers[slot] : NULL;
		if (slot >= EXIT_REASON_MAX)
			slot = EXIT_REASON_MAX;
		a = fn ? fn(v) : hv_exit_unexpected(v);
	}
	struct hv_exit_stat *s = &v->vm->stats[slot];
	s->count++;
	s->ticks += hv_host_ticks() - t0;
	return a;
}

void hv_complete_insn(struct hv_vcpu *v, uint64_t rip)
{
	hv_vmwrite(v, VMCS_GUEST_RIP, rip);
	hv_single_step_trap(v);
	uint64_t intr = hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO,
			   intr & ~(uint64_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void hv_skip_insn(struct hv_vcpu *v)
{
	uint64_t rip = hv_vmread(v, VMCS_GUEST_RIP);
	rip += hv_vmread(v, VMCS_VM_EXIT_INSTRUCTION_LEN);
	/* Outside 64-bit mode RIP wraps at 32 bits (EIP) (SDM 28.3.1.4 checks the same). */
	if (!hv_guest_64bit_code(v))
		rip = (uint32_t)rip;
	hv_complete_insn(v, rip);
}

/* Exceptions with an error code (SDM 6.13, Table 6-1): #DF, #TS, #NP, #SS, #GP, #PF,
 * #AC, #CP. SDM 28.2.1.3: "deliver error code" must match the vector. */
static bool has_error_code(uint8_t vector)
{
	switch (vector) {
	case EXC_DF: case EXC_TS: case EXC_NP: case EXC_SS: case EXC_GP: case EXC_PF:
	case EXC_AC: case EXC_CP:
		return true;
	default:
		return false;
	}
}

void hv_inject_exception(struct hv_vcpu *v, uint8_t vector, uint32_t error_code)
{
	/* SDM 26.8.3 Table 26-17: vector, type 3 (hardware exception), valid. In real
	 * mode there is no error code (SDM 28.2.1.3: deliver-error-code requires CR0.PE
	 * with unrestricted guest). */
	uint32_t info = vector | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
	bool pe = hv_vmread(v, VMCS_GUEST_CR0) & CR0_PE;
	if (has_error_code(vector) && pe) {
		info |= INTR_INFO_DELIVER_CODE;
		hv_vmwrite(v, VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	v->reinject_info = info; /* takes the place of any event being re-injected */
	v->reinject_error = error_code;
	v->reinject_len = 0;
}

enum hv_action hv_shutdown(struct hv_vcpu *v, const char *fmt, ...)
{
	struct hv_vm *vm = v->vm;
	if (!vm->shutdown) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->shutdown_why, sizeof(vm->shutdown_why), fmt, ap);
		va_end(ap);
		vm->shutdown = vm->shutdown_why;
		vm->shutdown_vcpu = v->id;
		const char *why = vm->shutdown;
		fflush(stdout);
		fprintf(stderr, "turtles: L0: VM shut down: %s on vCPU %d at RIP %#llx "
				"(CS base %#llx, CR0 %#llx)\n",
			why, v->id, (unsigned long long)hv_vmread(v, VMCS_GUEST_RIP),
			(unsigned long long)hv_vmread(v, VMCS_GUEST_CS_BASE),
			(unsigned long long)hv_vmread(v, VMCS_CR0_READ_SHADOW));
	}
	return HV_SHUTDOWN;
}

/* A basic exit reason L0's controls never ask for (SDM App. C): reported. */
enum hv_action hv_exit_unexpected(struct hv_vcpu *v)
{
	uint32_t reason = (uint32_t)hv_vmread(v, VMCS_VM_EXIT_REASON) & 0xFFFF;
	return hv_shutdown(v, "unexpected VM exit '%s' (%u)", vmx_exit_reason_name(reason),
			   reason);
}
