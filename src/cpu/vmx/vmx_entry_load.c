/*
 * VM entry: loading the guest state (SDM 28.3.2), the VM-entry MSR-load list (28.4),
 * and the state VM entry establishes after it: interruptibility (28.7.1), activity
 * (28.7.2), pending debug exceptions (28.7.3), the VMX-preemption timer (28.7.4) and
 * a pending MTF VM exit (28.6.2). Everything here runs after the checks passed
 * (vmx_entry_*.c), so the values are consistent.
 */
#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_entry.h"

/* CR0 bits VM entry loads; ET, NW, CD and the reserved bits are never modified
 * (SDM 28.3.2.1). */
#define CR0_LOADED (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_NE | CR0_WP | CR0_AM | CR0_PG)
/* DR7 as loaded: bits 15:14 and 12 are 0, bit 10 is 1 (SDM 28.3.2.1). */
#define DR7_LOAD_ZERO (BIT(12) | BIT(14) | BIT(15))

/* SDM 28.3.2.1: control registers, debug registers and MSRs. */
static void load_guest_regs(struct cpu *cpu, const struct vmcs *v)
{
	uint32_t entry = (uint32_t)VMCS_GET(v, VM_ENTRY_CONTROLS);
	cpu->cr0 = (cpu->cr0 & ~(uint64_t)CR0_LOADED) | (VMCS_GET(v, GUEST_CR0) & CR0_LOADED);
	cpu->cr3 = VMCS_GET(v, GUEST_CR3);
	cpu->cr4 = VMCS_GET(v, GUEST_CR4);
	if (entry & ENTRY_LOAD_DEBUG_CONTROLS) {
		cpu->dr[7] = (VMCS_GET(v, GUEST_DR7) & ~(uint64_t)DR7_LOAD_ZERO) | DR7_FIXED1;
		cpu->debugctl = VMCS_GET(v, GUEST_IA32_DEBUGCTL);
	}
	cpu->sysenter_cs = (uint32_t)VMCS_GET(v, GUEST_SYSENTER_CS);
	cpu->sysenter_esp = VMCS_GET(v, GUEST_SYSENTER_ESP);
	cpu->sysenter_eip = VMCS_GET(v, GUEST_SYSENTER_EIP);
	/* IA32_PERF_GLOBAL_CTRL: checked to be 0; the silicon has no counters. */
	if (entry & ENTRY_LOAD_PAT)
		cpu->pat = VMCS_GET(v, GUEST_IA32_PAT);
	if (entry & ENTRY_LOAD_EFER) {
		cpu->efer = VMCS_GET(v, GUEST_IA32_EFER);
	} else {
		/* LMA and LME each take the value of "IA-32e mode guest". */
		cpu->efer &= ~(uint64_t)(EFER_LMA | EFER_LME);
		if (entry & ENTRY_IA32E_MODE)
			cpu->efer |= EFER_LMA | EFER_LME;
	}
}

/* SDM 28.3.2.2: a segment register. Unusable segments keep their selector and access
 * rights (the rest is undefined, except that FS and GS load their base, and bits
 * 63:32 of the SS, DS and ES bases are cleared; LDTR's base becomes canonical). */
static void load_guest_seg(struct seg *dst, const struct vmcs *v, int which)
{
	*dst = vmx_guest_seg(v, which);
	if (!(dst->ar & AR_UNUSABLE))
		return;
	if (which == SEG_SS || which == SEG_DS || which == SEG_ES)
		dst->base = (uint32_t)dst->base;
	else if (which == VSEG_LDTR)
		dst->base = 0;
}

/* SDM 28.3.2.2, 28.3.2.3: segments, descriptor tables, RIP, RSP, RFLAGS. */
static void load_guest_segs_and_rip(struct cpu *cpu, const struct vmcs *v)
{
	for (int i = 0; i < SEG_COUNT; i++)
		load_guest_seg(&cpu->seg[i], v, i);
	load_guest_seg(&cpu->ldtr, v, VSEG_LDTR);
	load_guest_seg(&cpu->tr, v, VSEG_TR);
	cpu->gdtr = (struct dtr){ VMCS_GET(v, GUEST_GDTR_BASE),
				  (uint32_t)VMCS_GET(v, GUEST_GDTR_LIMIT) };
	cpu->idtr = (struct dtr){ VMCS_GET(v, GUEST_IDTR_BASE),
				  (uint32_t)VMCS_GET(v, GUEST_IDTR_LIMIT) };
	cpu->gpr[RSP] = VMCS_GET(v, GUEST_RSP);
	cpu->rip = cpu->next_rip = VMCS_GET(v, GUEST_RIP);
	cpu_set_rflags(cpu, VMCS_GET(v, GUEST_RFLAGS));
}

void vmx_load_guest_state(struct cpu *cpu, const struct vmcs *v)
{
	load_guest_regs(cpu, v);
	load_guest_segs_and_rip(cpu, v);
	cpu_update_mode(cpu);
	debug_update(cpu); /* DR7 and CR4.DE may have changed (debug.h) */
}

/* SDM 28.3.1.6, 28.3.2.4: with PAE paging outside IA-32e mode, the PDPTE registers
 * come from the guest PDPTE fields with EPT, else from the table at CR3 (already
 * checked: the load cannot fail). */
static void load_guest_pdptes(struct cpu *cpu, const struct vmcs *v)
{
	if (!(cpu->cr0 & CR0_PG) || !(cpu->cr4 & CR4_PAE) || (cpu->efer & EFER_LMA))
		return;
	if (vmx_proc2_of(v) & PROC2_ENABLE_EPT) {
		for (int i = 0; i < 4; i++)
			cpu->tlb.pdpte[i] = vmcs_get(v, (enum vmcs_id)(VMCS_ID_GUEST_PDPTR0 + i));
		cpu->tlb.pdpte_cr3 = cpu->cr3 | 1;
	} else {
		mmu_load_pdptrs(cpu);
	}
}

/* MSRs that the MSR-load list may not load (SDM 28.4): FS.base and GS.base, the
 * x2APIC range (bits 31:8 = 000008H), IA32_SMM_MONITOR_CTL (writable only in SMM),
 * and, for model-specific reasons (as on Intel parts), the microcode-update MSRs
 * IA32_BIOS_UPDT_TRIG (79H) and IA32_BIOS_SIGN_ID (8BH). */
static bool msr_loadable(uint32_t index)
{
	return index != MSR_IA32_FS_BASE && index != MSR_IA32_GS_BASE &&
	       (index >> 8) != 0x8 && index != 0x9B && index != 0x79 &&
	       index != MSR_IA32_BIOS_SIGN_ID;
}

/* Entry i of the VM-entry MSR-load list at list: checked, then loaded (SDM 28.4).
 * Layout (SDM 26.8.2, Table 26-15): index 31:0, reserved 63:32, data 127:64. */
static bool load_entry_msr(struct cpu *cpu, uint64_t list, uint32_t i)
{
	/* The recommended maximum (IA32_VMX_MISC bits 27:25, SDM A.6): beyond it this
	 * silicon fails the entry at the first extra entry. */
	ENTRY_CHECK(cpu, i < VMX_MSR_LIST_MAX);
	uint64_t head = bus_read(cpu->bus, list + 16ULL * i, 8);
	uint64_t data = bus_read(cpu->bus, list + 16ULL * i + 8, 8);
	uint32_t index = (uint32_t)head;
	ENTRY_CHECK(cpu, !(head >> 32));
	ENTRY_CHECK(cpu, msr_loadable(index));
	ENTRY_CHECK(cpu, msr_write(cpu, index, data));
	return true;
}

uint32_t vmx_load_entry_msrs(struct cpu *cpu, const struct vmcs *v)
{
	uint64_t list = VMCS_GET(v, VM_ENTRY_MSR_LOAD_ADDR);
	uint32_t count = (uint32_t)VMCS_GET(v, VM_ENTRY_MSR_LOAD_COUNT);
	for (uint32_t i = 0; i < count; i++)
		if (!load_entry_msr(cpu, list, i))
			return i + 1; /* SDM 28.8: the 1-based index of the failed entry */
	return 0;
}

void vmx_cache_controls(struct cpu *cpu, const struct vmcs *v)
{
	struct vmx_controls *c = &cpu->vmx.ctl;
	c->pin = (uint32_t)VMCS_GET(v, PIN_BASED_VM_EXEC_CONTROL);
	c->proc = (uint32_t)VMCS_GET(v, CPU_BASED_VM_EXEC_CONTROL);
	c->proc2 = vmx_proc2_of(v);
	c->exit = (uint32_t)VMCS_GET(v, VM_EXIT_CONTROLS);
	c->entry = (uint32_t)VMCS_GET(v, VM_ENTRY_CONTROLS);
	c->exception_bitmap = (uint32_t)VMCS_GET(v, EXCEPTION_BITMAP);
	c->pfec_mask = (uint32_t)VMCS_GET(v, PAGE_FAULT_ERROR_CODE_MASK);
	c->pfec_match = (uint32_t)VMCS_GET(v, PAGE_FAULT_ERROR_CODE_MATCH);
	c->cr0_mask = VMCS_GET(v, CR0_GUEST_HOST_MASK);
	c->cr4_mask = VMCS_GET(v, CR4_GUEST_HOST_MASK);
	c->cr0_shadow = VMCS_GET(v, CR0_READ_SHADOW);
	c->cr4_shadow = VMCS_GET(v, CR4_READ_SHADOW);
	c->cr3_target_count = (uint32_t)VMCS_GET(v, CR3_TARGET_COUNT);
	for (int i = 0; i < VMX_CR3_TARGETS; i++)
		c->cr3_target[i] = vmcs_get(v, (enum vmcs_id)(VMCS_ID_CR3_TARGET_VALUE0 + i));
	c->tsc_offset = VMCS_GET(v, TSC_OFFSET);
	c->io_bitmap[0] = VMCS_GET(v, IO_BITMAP_A);
	c->io_bitmap[1] = VMCS_GET(v, IO_BITMAP_B);
	c->msr_bitmap = VMCS_GET(v, MSR_BITMAP);
	c->eptp = VMCS_GET(v, EPT_POINTER);
	c->vpid = (uint16_t)VMCS_GET(v, VIRTUAL_PROCESSOR_ID);
	c->tpr_threshold = (uint32_t)VMCS_GET(v, TPR_THRESHOLD);
	c->virtual_apic_page = VMCS_GET(v, VIRTUAL_APIC_PAGE_ADDR);
	c->apic_access_page = VMCS_GET(v, APIC_ACCESS_ADDR);
}

/* SDM 28.7.1: blocking by STI/MOV SS (none after a vectoring entry) and by NMI
 * (virtual-NMI blocking with "virtual NMIs"; NMIs are then not blocked). */
static void load_interruptibility(struct cpu *cpu, const struct vmcs *v, bool vectoring)
{
	uint32_t intr = (uint32_t)VMCS_GET(v, GUEST_INTERRUPTIBILITY_INFO);
	cpu->intr_shadow = 0;
	cpu->intr_shadow_kind = 0;
	if (!vectoring && (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))) {
		cpu->intr_shadow = 1;
		cpu->intr_shadow_kind =
			(intr & INTERRUPTIBILITY_STI) ? SHADOW_STI : SHADOW_MOVSS;
	}
	bool nmi = intr & INTERRUPTIBILITY_NMI;
	if (cpu->vmx.ctl.pin & PIN_VIRTUAL_NMIS) {
		cpu->vmx.virtual_nmi_blocked = nmi;
		cpu->nmi_blocked = false;
	} else {
		cpu->vmx.virtual_nmi_blocked = false;
		cpu->nmi_blocked = nmi;
	}
}

/* SDM 28.7.3: pending debug exceptions. They are valid if BS (bit 14) or the
 * enabled-breakpoint bit (12) is set, and are ignored by a vectoring entry and by an
 * entry into wait-for-SIPI (or shutdown). Valid ones become a #DB trap before the
 * first guest instruction (priority of "traps on the previous instruction"), held
 * over it with blocking by MOV SS, through the run loop's trap mechanism (debug.h)
 * with B0-B3 and BS as the DR6 bits to report. */
static void load_pending_dbg(struct cpu *cpu, const struct vmcs *v, bool vectoring)
{
	uint64_t pend = VMCS_GET(v, GUEST_PENDING_DBG_EXCEPTIONS);
	bool valid = (pend & (PENDING_DBG_BS | PENDING_DBG_ENABLED_BP)) && !vectoring &&
		     VMCS_GET(v, GUEST_ACTIVITY_STATE) != ACTIVITY_WAIT_SIPI;
	cpu->dbg.hits = 0;
	cpu->dbg.pending = 0;
	cpu->events &= ~CPU_EV_DBTRAP;
	if (valid) {
		cpu->dbg.pending = (uint32_t)(pend & (PENDING_DBG_B0_B3 | PENDING_DBG_BS));
		cpu->events |= CPU_EV_DBTRAP;
	}
}

void vmx_load_event_state(struct cpu *cpu, const struct vmcs *v)
{
	bool vectoring = vmx_entry_vectoring(v);
	uint64_t activity = VMCS_GET(v, GUEST_ACTIVITY_STATE);
	load_guest_pdptes(cpu, v);
	vmx_tlb_transition(cpu); /* SDM 28.3.3.1: VPID 0 mappings; the guest's context */
	load_interruptibility(cpu, v, vectoring);
	/* SDM 28.7.2: a vectoring entry leaves the processor active. */
	cpu->halted = !vectoring && activity == ACTIVITY_HLT;
	cpu->mwait = false;
	cpu->wait_for_sipi = !vectoring && activity == ACTIVITY_WAIT_SIPI;
	load_pending_dbg(cpu, v, vectoring);
	/* SDM 28.7.4: the VMX-preemption timer counts down from its field at the rate
	 * of IA32_VMX_MISC bits 4:0 (one tick per 2^5 TSC ticks). */
	cpu->vmx.preempt_active = cpu->vmx.ctl.pin & PIN_PREEMPTION_TIMER;
	if (cpu->vmx.preempt_active)
		cpu->vmx.preempt_deadline =
			cpu_read_tsc(cpu) +
			(VMCS_GET(v, VMX_PREEMPTION_TIMER_VALUE) << VMX_MISC_PREEMPT_RATE);
	/* SDM 28.6.2: "other event" with vector 0 makes an MTF VM exit pending. */
	uint32_t info = (uint32_t)VMCS_GET(v, VM_ENTRY_INTR_INFO_FIELD);
	cpu->vmx.mtf_pending = (info & INTR_INFO_VALID) &&
			       vmx_entry_intr_type(v) == INTR_TYPE_OTHER_EVENT;
	/* Boundary work for vmx_events.c: a pending MTF exit, the timer, the windows. */
	if (cpu->vmx.mtf_pending || cpu->vmx.preempt_active ||
	    (cpu->vmx.ctl.proc & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING |
				  PROC_MONITOR_TRAP_FLAG)))
		cpu->events |= CPU_EV_VMX;
}
