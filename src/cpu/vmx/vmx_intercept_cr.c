/*
 * Control- and debug-register accesses in VMX non-root operation.
 *
 * Exits (SDM 27.1.3): CLTS, LMSW, MOV to CR0/CR4 against the guest/host masks and
 * read shadows, MOV to/from CR3 (CR3-load exiting with the CR3-target values,
 * CR3-store exiting), MOV to/from CR8 (CR8-load/store exiting), MOV DR (MOV-DR
 * exiting); qualification layouts SDM 29.2.1 Tables 29-3 and 29-4.
 *
 * Behaviour when they do not exit (SDM 27.3): MOV from CR0/CR4 and SMSW read the
 * shadow for masked bits; MOV to CR0/CR4, LMSW and CLTS leave masked bits alone and
 * respect the VMX fixed bits; MOV from/to CR8 use the virtual TPR with "use TPR
 * shadow", and a write can leave it below the TPR threshold (SDM 31.1.2).
 */
#include "cpu/vmx/vmx_intercept.h"

#include "cpu/debug.h"
#include "cpu/sys.h"

/* Offset of VTPR in the virtual-APIC page (SDM 31.1.1). */
#define VAPIC_VTPR 0x80

static void need_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0); /* privilege-based faults first (SDM 27.1.1) */
}

/* Table 29-3: CR number 3:0, access type 5:4, LMSW operand type 6, GPR 11:8, LMSW
 * source data 31:16. */
static uint64_t cr_qual(unsigned cr, unsigned type, unsigned gpr)
{
	return cr | (uint64_t)type << 4 | (uint64_t)gpr << 8;
}

/* The MOV CR operand: 64 bits in 64-bit mode, else 32 (SDM Vol.2 MOV CR). */
static uint64_t mov_cr_source(const struct cpu *cpu, const struct insn *in)
{
	return cpu_is_64(cpu) ? cpu->gpr[in->rm] : (uint32_t)cpu->gpr[in->rm];
}

/* MOV to CR3 exits unless CR3-load exiting is 0 or the value equals one of the first
 * CR3-target-count CR3-target values (SDM 27.1.3); a count of 0 always exits. */
static bool cr3_load_exits(const struct cpu *cpu, uint64_t v)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	if (!(c->proc & PROC_CR3_LOAD_EXITING))
		return false;
	uint32_t n = c->cr3_target_count < VMX_CR3_TARGETS ? c->cr3_target_count
							  : VMX_CR3_TARGETS;
	for (uint32_t i = 0; i < n; i++)
		if (c->cr3_target[i] == v)
			return false;
	return true;
}

/* SDM 27.1.3: whether MOV to CR0/CR3/CR4/CR8 exits under the current controls. */
static bool mov_to_cr_exits(struct cpu *cpu, const struct insn *in)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	uint64_t v = mov_cr_source(cpu, in);
	switch (in->reg) {
	/* MOV to CR0/CR4 exits unless the source matches the read shadow in every bit
	 * set in the guest/host mask (SDM 27.1.3). */
	case 0: return (v ^ c->cr0_shadow) & c->cr0_mask;
	case 4: return (v ^ c->cr4_shadow) & c->cr4_mask;
	case 3: return cr3_load_exits(cpu, v);
	case 8: return c->proc & PROC_CR8_LOAD_EXITING;
	default: return false; /* CR2 is never intercepted */
	}
}

/* SDM 27.1.3: MOV from CR3 and CR8 exit by control ("CR3-store", "CR8-store exiting"). */
static bool mov_from_cr_exits(const struct cpu *cpu, const struct insn *in)
{
	switch (in->reg) {
	case 3: return cpu->vmx.ctl.proc & PROC_CR3_STORE_EXITING;
	case 8: return cpu->vmx.ctl.proc & PROC_CR8_STORE_EXITING;
	default: return false; /* CR0/CR4 reads use the shadows (SDM 27.3) */
	}
}

/* LMSW exits if, for a bit of CR0[3:0] set in the mask, it would write a value other
 * than the read shadow's; since LMSW never clears PE, bit 0 counts only when the
 * source sets it and the shadow has it clear (SDM 27.1.3). The operand is fetched
 * first: its faults have priority (SDM 27.1.1). */
static bool lmsw_exits(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	need_cpl0(cpu);
	uint64_t src;
	if (in->flags & INSN_MEM) {
		uint64_t off = insn_ea(cpu, in);
		src = mem_read(cpu, in->seg, off, 1);
		x->qualification = CRQUAL_LMSW_MEM;
		x->guest_linear = vmx_operand_linear(cpu, in->seg, off); /* SDM 29.2.x */
	} else {
		src = cpu->gpr[in->rm] & 0xFFFF;
	}
	x->qualification |= cr_qual(0, CR_ACCESS_LMSW, 0) | src << 16;
	bool pe = (c->cr0_mask & CR0_PE) && (src & CR0_PE) && !(c->cr0_shadow & CR0_PE);
	return pe || ((src ^ c->cr0_shadow) & c->cr0_mask & (CR0_MP | CR0_EM | CR0_TS));
}

/* Only CR0, CR2, CR3, CR4 and CR8 exist (#UD first, SDM 27.1.1). */
static void need_cr(struct cpu *cpu, unsigned n)
{
	if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
		cpu_ud(cpu);
}

bool vmx_icept_cr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	x->reason = EXIT_REASON_CR_ACCESS;
	switch (in->op) {
	case OP_CLTS:
		/* CLTS exits if TS is set in both the mask and the shadow (SDM 27.1.3). */
		need_cpl0(cpu);
		x->qualification = cr_qual(0, CR_ACCESS_CLTS, 0);
		return c->cr0_mask & c->cr0_shadow & CR0_TS;
	case OP_LMSW:
		return lmsw_exits(cpu, in, x);
	case OP_MOV_TO_CR:
		need_cr(cpu, in->reg);
		need_cpl0(cpu);
		x->qualification = cr_qual(in->reg, CR_ACCESS_MOV_TO, in->rm);
		return mov_to_cr_exits(cpu, in);
	default: /* OP_MOV_FROM_CR */
		need_cr(cpu, in->reg);
		need_cpl0(cpu);
		x->qualification = cr_qual(in->reg, CR_ACCESS_MOV_FROM, in->rm);
		return mov_from_cr_exits(cpu, in);
	}
}

/* MOV DR exits with "MOV-DR exiting" (SDM 27.1.3), after the #UD for DR4/DR5 with
 * CR4.DE and the CPL check (SDM 27.1.1), and before the general-detect #DB (DR7.GD is
 * the VMM's to emulate, as KVM's MOV-DR exit handler does). Table 29-4: DR number
 * 2:0 as encoded, direction 4 (1 = from DR), GPR 11:8. */
bool vmx_icept_dr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	unsigned n = in->reg;
	if (n > 7 || ((n == 4 || n == 5) && (cpu->cr4 & CR4_DE)))
		cpu_ud(cpu);
	need_cpl0(cpu);
	x->reason = EXIT_REASON_DR_ACCESS;
	x->qualification = n | (in->op == OP_MOV_FROM_DR ? DRQUAL_FROM_DR : 0) |
			   (uint64_t)in->rm << 8;
	return cpu->vmx.ctl.proc & PROC_MOV_DR_EXITING;
}

/* --- SDM 27.3: instructions that do not exit ----------------------------------------- */

static uint64_t shadowed(uint64_t value, uint64_t mask, uint64_t shadow)
{
	return (value & ~mask) | (shadow & mask);
}

/* SDM 27.3 MOV to CR0/CR4 (and LMSW, which writes CR0 through the same path): bits
 * set in the guest/host mask are left unmodified. The fixed bits of VMX operation
 * (CR0.PE/PG exempt with "unrestricted guest", CR4.VMXE) are then checked with the
 * ordinary ones in cpu_write_cr0()/cpu_write_cr4() (vmx_cr0_allowed, SDM 27.3). */
uint64_t vmx_cr_guest_write(struct cpu *cpu, unsigned cr, uint64_t value)
{
	switch (cr) {
	case 0: return shadowed(value, cpu->vmx.ctl.cr0_mask, cpu->cr0);
	case 4: return shadowed(value, cpu->vmx.ctl.cr4_mask, cpu->cr4);
	default: return value;
	}
}

/* SDM 27.3 CLTS: with TS set in the mask (and clear in the shadow, else it exited),
 * CLTS does not change CR0.TS. */
bool vmx_clts_keeps_ts(const struct cpu *cpu)
{
	return cpu->vmx.ctl.cr0_mask & CR0_TS;
}

/* --- TPR shadow (SDM 27.3 MOV from/to CR8, 31.1.1, 31.1.2) ------------------------- */

static gpa_t vtpr_addr(const struct cpu *cpu)
{
	return cpu->vmx.ctl.virtual_apic_page + VAPIC_VTPR;
}

/* SDM 27.3 MOV from CR0/CR4: masked bits from the read shadow. MOV from CR8 with
 * "use TPR shadow": VTPR[7:4] into bits 3:0, bits 63:4 cleared. */
uint64_t vmx_cr_guest_read(struct cpu *cpu, unsigned cr, uint64_t value)
{
	const struct vmx_controls *c = &cpu->vmx.ctl;
	switch (cr) {
	case 0: return shadowed(value, c->cr0_mask, c->cr0_shadow);
	case 4: return shadowed(value, c->cr4_mask, c->cr4_shadow);
	case 8:
		if (c->proc & PROC_TPR_SHADOW)
			return (bus_read(cpu->bus, vtpr_addr(cpu), 1) >> 4) & 0xF;
		return value;
	default: return value;
	}
}

/* MOV to CR8: bits 3:0 of the source into VTPR[7:4]; VTPR[3:0] and bytes 1-3 of the
 * VTPR field are cleared. */
bool vmx_cr8_write(struct cpu *cpu, uint64_t value)
{
	if (!(cpu->vmx.ctl.proc & PROC_TPR_SHADOW))
		return false;
	bus_write(cpu->bus, vtpr_addr(cpu), 4, (value & 0xF) << 4);
	return true;
}

/* TPR virtualization without virtual-interrupt delivery (not supported here): a VM
 * exit "TPR below threshold" if VTPR[7:4] < TPR threshold[3:0], trap-like: RIP past
 * the instruction, no qualification or length (SDM 31.1.2, 29.2.1). */
void vmx_tpr_threshold_check(struct cpu *cpu)
{
	uint32_t vtpr = (uint32_t)bus_read(cpu->bus, vtpr_addr(cpu), 1);
	if (((vtpr >> 4) & 0xF) >= (cpu->vmx.ctl.tpr_threshold & 0xF))
		return;
	struct vmx_exit_info x = { .reason = EXIT_REASON_TPR_BELOW_THRESHOLD };
	/* The instruction completed: the #DB traps it met (data breakpoints, and the
	 * single step if RFLAGS.TF, which MOV CR8 does not change) stay pending and are
	 * saved in the pending-debug-exceptions field (SDM 29.3.4). */
	cpu->dbg.pending |= cpu->dbg.hits | ((cpu->rflags & RFLAGS_TF) ? DR6_BS : 0);
	cpu->dbg.hits = 0;
	cpu->rip = cpu->next_rip;
	vmx_exit_unwind(cpu, &x);
}
