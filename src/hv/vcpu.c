/*
 * A vCPU: its vmcs01's controls, and the run loop (inject, enter, dispatch the exit)
 * that hv_vcpu_run() drives for one slice.
 */
#include "hv/hv_internal.h"

uint64_t hv_vmread(struct hv_vcpu *v, uint32_t field)
{
	uint64_t value = 0;
	vmx_vmread(v->cpu, field, &value); /* L0's own fields: a failure is an L0 bug,
					      and reads 0 rather than crash */
	return value;
}

void hv_vmwrite(struct hv_vcpu *v, uint32_t field, uint64_t value)
{
	vmx_vmwrite(v->cpu, field, value);
}

uint64_t hv_gpr_read(struct hv_vcpu *v, int r)
{
	return r == RSP ? hv_vmread(v, VMCS_GUEST_RSP) : v->cpu->gpr[r & 15];
}

void hv_gpr_write(struct hv_vcpu *v, int r, uint64_t value)
{
	if (r == RSP)
		hv_vmwrite(v, VMCS_GUEST_RSP, value);
	else
		v->cpu->gpr[r & 15] = value;
}

uint64_t hv_edx_eax(struct hv_vcpu *v)
{
	return (uint32_t)v->cpu->gpr[RAX] | (v->cpu->gpr[RDX] << 32);
}

void hv_set_edx_eax(struct hv_vcpu *v, uint64_t value)
{
	v->cpu->gpr[RAX] = (uint32_t)value;
	v->cpu->gpr[RDX] = value >> 32;
}

/* SDM 26.6.6: bits set in the guest/host mask are owned by L0; the guest reads them
 * from the read shadow and writing a value different from the shadow exits. */
#define HV_CR0_OWNED CR0_NE
#define HV_CR4_OWNED CR4_VMXE

void hv_set_guest_cr0(struct hv_vcpu *v, uint64_t cr0)
{
	hv_vmwrite(v, VMCS_CR0_READ_SHADOW, cr0);
	hv_vmwrite(v, VMCS_GUEST_CR0, cr0 | CR0_NE); /* IA32_VMX_CR0_FIXED0 (App. A.7) */
}

void hv_set_guest_cr4(struct hv_vcpu *v, uint64_t cr4)
{
	hv_vmwrite(v, VMCS_CR4_READ_SHADOW, cr4);
	hv_vmwrite(v, VMCS_GUEST_CR4, cr4 | CR4_VMXE); /* IA32_VMX_CR4_FIXED0 (App. A.8) */
}

/* A control field as L0 wants it, adjusted to what the silicon allows, as KVM's
 * adjust_vmx_controls(): the capability MSR's low half holds the allowed-0 settings
 * (bits that must be 1), the high half the allowed-1 settings (SDM A.3-A.5). Fails if
 * a bit L0 requires is not allowed. */
static int adjust_controls(struct hv_vcpu *v, uint32_t cap_msr, uint32_t want, uint32_t *out)
{
	uint64_t cap = 0;
	if (!vmx_cap_msr(v->cpu, cap_msr, &cap))
		return -1;
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
	if (want & ~may1)
		return -1;
	*out = want | must1;
	return 0;
}

/* The VM-execution, exit and entry controls of vmcs01 (SDM 26.6-26.8). */
static int setup_controls(struct hv_vcpu *v)
{
	struct hv_vm *vm = v->vm;
	uint32_t pin, proc, proc2, exit, entry;
	/* NMI exiting is required by virtual NMIs, which NMI-window exiting requires
	 * (SDM 28.2.1.1); the preemption timer ends the slice (SDM 27.5.1). Every port
	 * exits (L0's devices); MSRs by the bitmap; HLT so that L0 schedules; CR8
	 * because the APIC is L0's (no TPR shadow: SDM 27.1.3). EFER, PAT, DR7 and
	 * DEBUGCTL are saved and loaded: the guest owns them (MSR bitmap pass-through),
	 * and L0 reads DR7 from the VMCS to emulate I/O breakpoints (debug.c). The
	 * preemption timer's value is saved at each exit (SDM 29.3), so a slice spans
	 * all the entries and exits in it without L0 reading the clock. */
	if (adjust_controls(v, MSR_IA32_VMX_TRUE_PINBASED_CTLS,
		PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | PIN_PREEMPTION_TIMER,
		&pin) ||
	    adjust_controls(v, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
		PROC_HLT_EXITING | PROC_UNCOND_IO_EXITING | PROC_USE_MSR_BITMAPS |
			PROC_USE_TSC_OFFSETTING | PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING |
			PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_SECONDARY_CONTROLS,
		&proc) ||
	    adjust_controls(v, MSR_IA32_VMX_PROCBASED_CTLS2,
		PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST |
			PROC2_ENABLE_RDTSCP | PROC2_ENABLE_INVPCID,
		&proc2) ||
	    adjust_controls(v, MSR_IA32_VMX_TRUE_EXIT_CTLS,
		EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_PAT |
			EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CONTROLS | EXIT_SAVE_PREEMPTION_TIMER,
		&exit) ||
	    adjust_controls(v, MSR_IA32_VMX_TRUE_ENTRY_CTLS,
		ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CONTROLS, &entry))
		return -1;
	/* CR3-load/store exiting may be 0 (TRUE controls): EPT makes them pointless. */
	hv_vmwrite(v, VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	hv_vmwrite(v, VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	v->proc = proc;
	hv_vmwrite(v, VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	hv_vmwrite(v, VMCS_VM_EXIT_CONTROLS, exit);
	hv_vmwrite(v, VMCS_VM_ENTRY_CONTROLS, entry);
	hv_vmwrite(v, VMCS_EXCEPTION_BITMAP, 0);
	hv_vmwrite(v, VMCS_CR0_GUEST_HOST_MASK, HV_CR0_OWNED);
	hv_vmwrite(v, VMCS_CR4_GUEST_HOST_MASK, HV_CR4_OWNED);
	hv_vmwrite(v, VMCS_CR3_TARGET_COUNT, 0);
	hv_vmwrite(v, VMCS_MSR_BITMAP, vm->msr_bitmap);
	hv_vmwrite(v, VMCS_EPT_POINTER, ept01_eptp(&vm->ept));
	hv_vmwrite(v, VMCS_VIRTUAL_PROCESSOR_ID, (uint64_t)v->id + 1); /* 0 is L0's */
	hv_vmwrite(v, VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	hv_vmwrite(v, VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	hv_vmwrite(v, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	return 0;
}

int hv_vcpu_setup(struct hv_vcpu *v)
{
	struct cpu *cpu = v->cpu;
	if (vmx_native_on(cpu) != VMX_SUCCEED)
		return -1;
	v->vmcs = vmcs_alloc();
	if (!v->vmcs || vmx_vmclear(cpu, v->vmcs) != VMX_SUCCEED ||
	    vmx_vmptrld(cpu, v->vmcs) != VMX_SUCCEED)
		return -1;
	v->apic_base = cpu->apic_base;
	v->tsc_offset = cpu->tsc_offset;
	uint64_t misc = 0;
	if (!vmx_cap_msr(cpu, MSR_IA32_VMX_MISC, &misc) || setup_controls(v))
		return -1;
	v->preempt_shift = (unsigned)(misc & 0x1F);
	if (v->id == 0)
		hv_state_from_cpu(v, cpu);
	else
		hv_state_init(v);
	return 0;
}

/* SDM 26.6.5: guest TSC = silicon TSC + offset; the silicon's TSC is virtual ns plus
 * its own IA32_TSC offset, the guest's is virtual ns plus v->tsc_offset. */
static void load_tsc_offset(struct hv_vcpu *v)
{
	hv_vmwrite(v, VMCS_TSC_OFFSET, v->tsc_offset - v->cpu->tsc_offset);
}

/* VMX-preemption timer (SDM 27.5.1): counts down at the TSC rate divided by 2^X,
 * X = IA32_VMX_MISC[4:0] (SDM A.6); 0 would exit before the first instruction. The
 * TSC ticks once per virtual ns (clock.h). */
static void load_preemption_timer(struct hv_vcpu *v, uint64_t slice_ns)
{
	uint64_t ticks = slice_ns >> v->preempt_shift;
	hv_vmwrite(v, VMCS_VMX_PREEMPTION_TIMER_VALUE, ticks ? (ticks > 0xFFFFFFFF ? 0xFFFFFFFF : ticks) : 1);
}

/* INIT and SIPI from the virtual LAPIC, handled by L0 (the vCPU never runs in the
 * wait-for-SIPI activity state; SDM 10.4.4 describes what it emulates). */
static void handle_init_sipi(struct hv_vcpu *v)
{
	if (v->init_pending) {
		v->init_pending = false;
		hv_state_init(v);
	}
	if (v->sipi_pending) {
		v->sipi_pending = false;
		if (v->mp == HV_MP_WAIT_SIPI)
			hv_state_sipi(v, v->sipi_vector);
	}
}

/* One VM entry and the exit that ends it. */
static enum hv_action enter_once(struct hv_vcpu *v)
{
	hv_inject_pending(v);
	v->in_guest = true;
	enum vmx_result r = v->launched ? vmx_vmresume(v->cpu) : vmx_vmlaunch(v->cpu);
	v->in_guest = false;
	hv_unkick(v);
	if (r == VMX_STOPPED) {
		/* The machine asked the silicon to stop (the vmm takes over), or the
		 * silicon could not go on (VMX abort): the guest stays in non-root
		 * operation and this VMCS must not be resumed (cpu/vmx.h). */
		v->stopped = true;
		return HV_STOPPED;
	}
	if (r != VMX_SUCCEED) {
		/* VMfail: a control or host-state check failed (SDM 28.2). L0 built the
		 * VMCS, so this is L0's bug, reported, never a crash. */
		return hv_shutdown(v, "VM entry failed (VMfail%s, VM-instruction error %llu)",
				   r == VMX_FAIL_VALID ? "Valid" : "Invalid",
				   (unsigned long long)hv_vmread(v, VMCS_VM_INSTRUCTION_ERROR));
	}
	v->launched = true;
	uint32_t reason = (uint32_t)hv_vmread(v, VMCS_VM_EXIT_REASON);
	hv_save_vectoring(v);
	return hv_handle_exit(v, reason);
}

enum hv_run hv_vcpu_run(struct hv_vm *vm, int i, uint64_t slice_ns)
{
	struct hv_vcpu *v = &vm->vcpu[i];
	if (vm->shutdown)
		return HV_RUN_SHUTDOWN;
	if (v->stopped) {
		hv_shutdown(v, "the silicon stopped this vCPU's guest; it cannot be resumed");
		return HV_RUN_SHUTDOWN;
	}
	if (vmx_vmptrst(v->cpu) != v->vmcs && vmx_vmptrld(v->cpu, v->vmcs) != VMX_SUCCEED)
		return HV_RUN_SHUTDOWN;
	handle_init_sipi(v);
	if (v->mp == HV_MP_HALTED && hv_vcpu_has_wakeup(v))
		v->mp = HV_MP_RUNNABLE;
	if (v->mp != HV_MP_RUNNABLE)
		return HV_RUN_IDLE;
	load_tsc_offset(v);
	load_preemption_timer(v, slice_ns);
	uint64_t slice_end = clock_now(vm->clock) + slice_ns;
	for (;;) {
		enum hv_action a = enter_once(v);
		if (a == HV_SHUTDOWN)
			return HV_RUN_SHUTDOWN;
		if (a == HV_STOPPED)
			return HV_RUN_STOP;
		if (v->cpu->events & CPU_EV_STOP) {
			/* A device asked the machine to stop while L0 emulated it: the
			 * request was for the vmm (as a signal interrupts KVM_RUN). */
			v->cpu->events &= ~(uint32_t)CPU_EV_STOP;
			return HV_RUN_STOP;
		}
		handle_init_sipi(v);
		if (a == HV_YIELD || v->mp != HV_MP_RUNNABLE)
			return v->mp == HV_MP_RUNNABLE ? HV_RUN_SLICE : HV_RUN_IDLE;
		/* The preemption timer counts non-root time only (SDM 27.5.1): a guest
		 * whose every entry exits at once (an emulated REP string on MMIO) would
		 * never see it expire. Virtual time still passes (the exits' charge and
		 * the instructions L0 emulates), so the slice ends by the clock too, as
		 * KVM's run loop leaves at a pending reschedule or signal. */
		if (clock_now(vm->clock) >= slice_end)
			return HV_RUN_SLICE;
	}
}
