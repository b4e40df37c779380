/*
 * The register side of a VM exit: saving the guest state into the VMCS (SDM 29.3)
 * and, for a software VMM, loading the host-state area (SDM 29.5).
 *
 * Segment attributes are cached in the VMX access-rights layout (cpu.h), so they go
 * to and from the VMCS unconverted.
 *
 * Not implemented (documented limit): RF for task-switch exits is saved as the CPU
 * holds it (SDM 29.3.3 wants the old TSS's image).
 */
#include "cpu/debug.h"
#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_exit.h"

/* ES, CS, SS, DS, FS, GS, LDTR, TR follow each other in every column of
 * vmcs_fields.def (App. B), so one index reaches a segment's four fields. */
_Static_assert(VMCS_ID_GUEST_TR_SELECTOR - VMCS_ID_GUEST_ES_SELECTOR == 7, "selectors");
_Static_assert(VMCS_ID_GUEST_TR_LIMIT - VMCS_ID_GUEST_ES_LIMIT == 7, "limits");
_Static_assert(VMCS_ID_GUEST_TR_AR_BYTES - VMCS_ID_GUEST_ES_AR_BYTES == 7, "access rights");
_Static_assert(VMCS_ID_GUEST_TR_BASE - VMCS_ID_GUEST_ES_BASE == 7, "bases");
_Static_assert(VMCS_ID_HOST_GS_SELECTOR - VMCS_ID_HOST_ES_SELECTOR == 5, "host selectors");

/* Access-rights bits that exist (SDM 26.4.1 Table 26-2): 3:0, 4, 6:5, 7, 12-16. */
#define AR_DEFINED 0x1F0FFu

static void save_seg(struct vmcs *v, int i, const struct seg *s)
{
	vmcs_set(v, VMCS_ID_GUEST_ES_SELECTOR + i, s->sel);
	vmcs_set(v, VMCS_ID_GUEST_ES_LIMIT + i, s->limit);
	vmcs_set(v, VMCS_ID_GUEST_ES_AR_BYTES + i, s->ar & AR_DEFINED);
	vmcs_set(v, VMCS_ID_GUEST_ES_BASE + i, s->base);
}

/* SDM 29.3.1, 29.3.2: control, debug and segment registers, descriptor tables, MSRs. */
static void save_registers(struct cpu *cpu, struct vmcs *v, uint32_t exit_ctl)
{
	VMCS_SET(v, GUEST_CR0, cpu->cr0);
	VMCS_SET(v, GUEST_CR3, cpu->cr3);
	VMCS_SET(v, GUEST_CR4, cpu->cr4);
	if (exit_ctl & EXIT_SAVE_DEBUG_CONTROLS) { /* DR7 and IA32_DEBUGCTL */
		VMCS_SET(v, GUEST_DR7, cpu->dr[7]);
		VMCS_SET(v, GUEST_IA32_DEBUGCTL, cpu->debugctl);
	}
	VMCS_SET(v, GUEST_SYSENTER_CS, cpu->sysenter_cs);
	VMCS_SET(v, GUEST_SYSENTER_ESP, cpu->sysenter_esp);
	VMCS_SET(v, GUEST_SYSENTER_EIP, cpu->sysenter_eip);
	if (exit_ctl & EXIT_SAVE_PAT)
		VMCS_SET(v, GUEST_IA32_PAT, cpu->pat);
	if (exit_ctl & EXIT_SAVE_EFER)
		VMCS_SET(v, GUEST_IA32_EFER, cpu->efer);
	/* IA32_VMX_MISC[5]: every exit stores EFER.LMA in "IA-32e mode guest". */
	uint64_t entry = VMCS_GET(v, VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE;
	VMCS_SET(v, VM_ENTRY_CONTROLS, entry | ((cpu->efer & EFER_LMA) ? ENTRY_IA32E_MODE : 0));
	for (int s = 0; s < SEG_COUNT; s++)
		save_seg(v, s, &cpu->seg[s]);
	save_seg(v, 6, &cpu->ldtr);
	save_seg(v, 7, &cpu->tr);
	VMCS_SET(v, GUEST_GDTR_BASE, cpu->gdtr.base);
	VMCS_SET(v, GUEST_GDTR_LIMIT, cpu->gdtr.limit);
	VMCS_SET(v, GUEST_IDTR_BASE, cpu->idtr.base);
	VMCS_SET(v, GUEST_IDTR_LIMIT, cpu->idtr.limit);
}

static bool fault_class(unsigned vector)
{
	return vector < 32 && vector != EXC_DB && vector != EXC_NMI && vector != EXC_BP &&
	       vector != EXC_OF && vector != EXC_DF && vector != EXC_MC;
}

/* SDM 29.3.3: RF as the interrupted event would have pushed it during delivery (1
 * for a fault-class hardware exception); 1 for APIC-access exits, EPT violations and
 * misconfigurations outside delivery; RF as it is otherwise (0 for instruction
 * exits: the run loop clears RF as an instruction starts). An exception exit sets it
 * itself before exiting (vmx_events.c). */
static uint64_t saved_rflags(struct cpu *cpu, const struct vmx_exit_info *info)
{
	uint64_t f = cpu_get_rflags(cpu);
	uint32_t vec = cpu->vmx.vectoring_info;
	uint32_t basic = info->reason & 0xFFFF;
	if (vec & INTR_INFO_VALID) {
		if (((vec & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT) ==
			    INTR_TYPE_HW_EXCEPTION &&
		    fault_class(vec & INTR_INFO_VECTOR_MASK))
			f |= RFLAGS_RF;
	} else if (basic == EXIT_REASON_EPT_VIOLATION || basic == EXIT_REASON_EPT_MISCONFIG ||
		   basic == EXIT_REASON_APIC_ACCESS) {
		f |= RFLAGS_RF;
	}
	return f;
}

/* SDM 29.3.4: blocking by STI / MOV SS. An exit that interrupts an instruction
 * reports the blocking that instruction started in: the run loop clears intr_shadow
 * as the instruction starts but leaves intr_shadow_kind until it completes (exec.c
 * run_single), and the kind is 0 for instructions outside a shadow. */
static uint32_t saved_shadow(const struct cpu *cpu, bool in_insn)
{
	uint8_t kind = (cpu->intr_shadow || in_insn) ? cpu->intr_shadow_kind : 0;
	uint32_t s = 0;
	if (kind & SHADOW_STI)
		s |= INTERRUPTIBILITY_STI;
	if (kind & SHADOW_MOVSS)
		s |= INTERRUPTIBILITY_MOV_SS;
	return s;
}

/* SDM 29.3.4: pending debug exceptions (Table 26-4): the #DB traps not delivered
 * yet move into the VMCS (VM entry delivers them again); B0-B3 and BS, and bit 12
 * when one of B0-B3 is an enabled breakpoint. */
static uint64_t take_pending_debug(struct cpu *cpu)
{
	uint32_t bits = cpu->dbg.hits | cpu->dbg.pending;
	cpu->dbg.hits = cpu->dbg.pending = 0;
	cpu->events &= ~CPU_EV_DBTRAP;
	uint64_t p = bits & PENDING_DBG_B0_B3;
	if (bits & DR6_BS)
		p |= PENDING_DBG_BS;
	for (int n = 0; n < 4; n++)
		if ((bits & DR6_B(n)) && (cpu->dr[7] & (3ULL << (2 * n))))
			p |= PENDING_DBG_ENABLED_BP;
	return p;
}

/* SDM 29.3.4: activity state, interruptibility, pending debug exceptions, the
 * preemption timer, and the PDPTEs. */
static void save_non_register(struct cpu *cpu, struct vmcs *v, uint32_t exit_ctl, bool in_insn)
{
	enum activity_state act = ACTIVITY_ACTIVE;
	if (cpu->wait_for_sipi)
		act = ACTIVITY_WAIT_SIPI;
	else if (cpu->halted)
		act = ACTIVITY_HLT;
	VMCS_SET(v, GUEST_ACTIVITY_STATE, act);
	/* Blocking by NMI, which with "virtual NMIs" is virtual-NMI blocking (SDM 26.4.2
	 * Table 26-3). */
	uint32_t intr = saved_shadow(cpu, in_insn);
	bool nmi = (cpu->vmx.ctl.pin & PIN_VIRTUAL_NMIS) ? cpu->vmx.virtual_nmi_blocked
						       : cpu->nmi_blocked;
	if (nmi)
		intr |= INTERRUPTIBILITY_NMI;
	VMCS_SET(v, GUEST_INTERRUPTIBILITY_INFO, intr);
	VMCS_SET(v, GUEST_PENDING_DBG_EXCEPTIONS, take_pending_debug(cpu));
	if (exit_ctl & EXIT_SAVE_PREEMPTION_TIMER)
		VMCS_SET(v, VMX_PREEMPTION_TIMER_VALUE, vmx_preempt_value(cpu));
	/* With "enable EPT" and PAE paging outside IA-32e mode, the PDPTE registers in
	 * use (tlb.h: loaded by VM entry or the guest's last CR write) go to the guest
	 * PDPTE fields; otherwise those fields are left as they were. */
	if ((cpu->vmx.ctl.proc2 & PROC2_ENABLE_EPT) && (cpu->cr0 & CR0_PG) &&
	    (cpu->cr4 & CR4_PAE) && !(cpu->efer & EFER_LMA))
		for (int i = 0; i < 4; i++)
			vmcs_set(v, VMCS_ID_GUEST_PDPTR0 + i, cpu->tlb.pdpte[i]);
}

void vmx_save_guest_state_at(struct cpu *cpu, struct vmcs *v, const struct vmx_exit_info *info,
			     bool in_insn)
{
	uint32_t exit_ctl = (uint32_t)VMCS_GET(v, VM_EXIT_CONTROLS);
	save_registers(cpu, v, exit_ctl);
	/* SDM 29.3.3: RIP is the instruction for fault-like exits and the next one for
	 * trap-like exits; the caller left cpu->rip accordingly. */
	VMCS_SET(v, GUEST_RIP, cpu->rip);
	VMCS_SET(v, GUEST_RSP, cpu->gpr[RSP]);
	VMCS_SET(v, GUEST_RFLAGS, saved_rflags(cpu, info));
	save_non_register(cpu, v, exit_ctl, in_insn);
}

void vmx_save_guest_state(struct cpu *cpu, struct vmcs *v, const struct vmx_exit_info *info)
{
	vmx_save_guest_state_at(cpu, v, info, false);
}

/* --- loading the host state (SDM 29.5) ------------------------------------------- */

/* SDM 29.5.1: CR0 bits a VM exit loads; ET, NW, CD, bits 63:32, 28:19, 17 and 15:6
 * keep their value, and the bits fixed to 1 in VMX operation (PE, NE, PG: SDM 25.8)
 * are 1 in the VMM even if an unrestricted guest cleared PE or PG. */
#define CR0_HOST_LOADED (CR0_MP | CR0_EM | CR0_TS | CR0_WP | CR0_AM)

static void load_host_controls(struct cpu *cpu, struct vmcs *v, bool lm)
{
	cpu->cr0 = (cpu->cr0 & ~(uint64_t)CR0_HOST_LOADED) |
		   (VMCS_GET(v, HOST_CR0) & CR0_HOST_LOADED) | VMX_CR0_FIXED0;
	uint64_t cr4 = VMCS_GET(v, HOST_CR4) | VMX_CR4_FIXED0;
	if (lm)
		cr4 |= CR4_PAE; /* SDM 29.5.1: CR4.PAE = 1 with "host address-space size" */
	else
		cr4 &= ~(uint64_t)CR4_PCIDE; /* ... and CR4.PCIDE = 0 without it */
	cpu->cr4 = cr4;
	cpu->cr3 = VMCS_GET(v, HOST_CR3);
	cpu->dr[7] = DR7_FIXED1; /* SDM 29.5.1: DR7 = 400H, IA32_DEBUGCTL = 0 */
	cpu->debugctl = 0;
	debug_update(cpu);
	cpu->sysenter_cs = VMCS_GET(v, HOST_IA32_SYSENTER_CS);
	cpu->sysenter_esp = VMCS_GET(v, HOST_IA32_SYSENTER_ESP);
	cpu->sysenter_eip = VMCS_GET(v, HOST_IA32_SYSENTER_EIP);
}

/* SDM 29.5.1: EFER.LMA/LME from "host address-space size", or the whole of IA32_EFER
 * with "load IA32_EFER"; PAT and PERF_GLOBAL_CTRL with their controls. */
static void load_host_msrs_fields(struct cpu *cpu, struct vmcs *v, uint32_t exit_ctl, bool lm)
{
	uint64_t efer = cpu->efer;
	if (exit_ctl & EXIT_LOAD_EFER)
		efer = VMCS_GET(v, HOST_IA32_EFER);
	efer &= ~(uint64_t)(EFER_LMA | EFER_LME);
	cpu->efer = efer | (lm ? EFER_LMA | EFER_LME : 0);
	if (exit_ctl & EXIT_LOAD_PAT)
		cpu->pat = VMCS_GET(v, HOST_IA32_PAT);
	if (exit_ctl & EXIT_LOAD_PERF_GLOBAL_CTRL) /* value checked at VM entry (28.2.2) */
		(void)msr_write(cpu, MSR_IA32_PERF_GLOBAL_CTRL,
				VMCS_GET(v, HOST_IA32_PERF_GLOBAL_CTRL));
}

/* SDM 29.5.2: the fixed attributes of host segments. */
#define AR_HOST_CODE (0xB | AR_S | AR_P | AR_G)        /* execute/read, accessed */
#define AR_HOST_DATA (0x3 | AR_S | AR_P | AR_DB | AR_G) /* read/write, accessed */
#define AR_HOST_TR (0xB | AR_P)                         /* busy 32/64-bit TSS */

static void load_host_segments(struct cpu *cpu, struct vmcs *v, bool lm)
{
	for (int s = 0; s < SEG_COUNT; s++) {
		struct seg *sg = &cpu->seg[s];
		uint16_t sel = (uint16_t)vmcs_get(v, VMCS_ID_HOST_ES_SELECTOR + s);
		if (s != SEG_CS && sel == 0) {
			seg_make_null(sg, 0, 0); /* unusable; FS/GS keep their base below */
		} else {
			sg->sel = sel;
			sg->base = 0;
			sg->limit = 0xFFFFFFFF;
			sg->ar = s == SEG_CS ? AR_HOST_CODE | (lm ? AR_L : AR_DB) : AR_HOST_DATA;
		}
	}
	cpu->seg[SEG_FS].base = VMCS_GET(v, HOST_FS_BASE);
	cpu->seg[SEG_GS].base = VMCS_GET(v, HOST_GS_BASE);
	cpu->tr = (struct seg){ .sel = (uint16_t)VMCS_GET(v, HOST_TR_SELECTOR),
				.ar = AR_HOST_TR, .limit = 0x67,
				.base = VMCS_GET(v, HOST_TR_BASE) };
	seg_make_null(&cpu->ldtr, 0, 0); /* LDTR: selector 0, unusable */
	cpu->gdtr = (struct dtr){ VMCS_GET(v, HOST_GDTR_BASE), 0xFFFF };
	cpu->idtr = (struct dtr){ VMCS_GET(v, HOST_IDTR_BASE), 0xFFFF };
}

uint32_t vmx_load_host_state(struct cpu *cpu, struct vmcs *v)
{
	uint32_t exit_ctl = (uint32_t)VMCS_GET(v, VM_EXIT_CONTROLS);
	bool lm = exit_ctl & EXIT_HOST_ADDR_SPACE_SIZE;
	load_host_controls(cpu, v, lm);
	load_host_msrs_fields(cpu, v, exit_ctl, lm);
	load_host_segments(cpu, v, lm);
	/* SDM 29.5.3: RIP and RSP from the host-state area, RFLAGS = 2. */
	cpu->rip = cpu->next_rip = VMCS_GET(v, HOST_RIP);
	cpu->gpr[RSP] = VMCS_GET(v, HOST_RSP);
	cpu_set_rflags(cpu, RFLAGS_FIXED1);
	/* SDM 29.5 (non-register state): the VMM runs active, without a shadow. */
	cpu->halted = false;
	cpu->wait_for_sipi = false;
	cpu->intr_shadow = 0;
	cpu_update_mode(cpu);
	vmx_tlb_transition(cpu);
	/* SDM 29.5.4: PAE paging outside IA-32e mode loads the PDPTEs from CR3. */
	if (!lm && (cpu->cr0 & CR0_PG) && (cpu->cr4 & CR4_PAE) && !mmu_load_pdptrs(cpu))
		return VMX_ABORT_HOST_PDPTE;
	return 0;
}

bool vmx_host_nmi_blocking(const struct vmx_exit_info *info, bool blocked)
{
	/* An NMI that caused the exit leaves NMIs blocked in the VMM (SDM 27.2.1 NMI
	 * exiting; the VMM unblocks them with IRET). Otherwise the physical blocking
	 * carries over (virtual-NMI blocking is the guest's only). */
	unsigned type = (info->intr_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	if (!(info->reason & EXIT_REASON_ENTRY_FAILURE) &&
	    (info->reason & 0xFFFF) == EXIT_REASON_EXCEPTION_NMI &&
	    (info->intr_info & INTR_INFO_VALID) && type == INTR_TYPE_NMI)
		return true;
	return blocked;
}
