/*
 * vmx_exits - a hypervisor kernel whose guest runs into VM exits that the other VMX
 * kernels do not reach, and checks each exit's reason (App. C), qualification (SDM
 * 29.2.1), interruption information (29.2.2), instruction length (29.2.5),
 * instruction information (29.2.5) and saved guest RIP (29.3.3):
 *   - instructions that exit unconditionally (SDM 27.1.2): INVD (13) and the VMX
 *     instructions in VMX non-root operation: VMXON (27), VMXOFF (26), VMPTRLD (21),
 *     VMRESUME (24), INVVPID (53);
 *   - RDRAND with "RDRAND exiting" (27.1.3, exit 57);
 *   - the monitor trap flag (27.5.2, exit 37);
 *   - a triple fault in the guest (27.2.1, exit 2);
 *   - an external interrupt with "external-interrupt exiting" (27.2.1, exit 1), with
 *     and without "acknowledge interrupt on exit" (29.2.2);
 *   - XSETBV (55, unconditional), MONITOR (39) and MWAIT (36) by control, where
 *     CPUID reports the instructions; an NMI the guest sends itself with "NMI
 *     exiting" (27.2.1, exit 0 with NMI interruption information, 29.2.2).
 * Everything about the processor comes from CPUID and the IA32_VMX_* MSRs.
 */
#include "vmx_lib.h"

/* Instruction-information fields (SDM 29.2.5, Tables 29-9 to 29-15). */
#define I_ASZ64 (2u << 7)
#define I_SEG(s) ((uint32_t)(s) << 15)
#define I_NOIDX BIT(22)
#define I_BASE(r) ((uint32_t)(r) << 23)
#define I_REG2(r) ((uint32_t)(r) << 28)
/* The defined bits of the VMCLEAR/VMPTRLD/VMPTRST/VMXON format (Table 29-13) and of
 * the INVEPT/INVPCID/INVVPID format (Table 29-11); the others are undefined. */
#define I_MASK_M64 0x0fff8783u
#define I_MASK_INV 0xffff8383u
/* RDRAND/RDSEED format (Table 29-15): destination register 6:3, operand size 12:11. */
#define I_MASK_RDRAND 0x1878u
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };
enum { S_ES, S_CS, S_SS, S_DS };

#define VEC_EXT 0x41 /* the external interrupt (a self-IPI) */

uint8_t g_buf[64] __attribute__((aligned(16)));
uint64_t nmi_apic;
uint32_t nmi_dest;

extern char g_invd[], g_rdrand[], g_vmxon[], g_vmxoff[], g_vmptrld[], g_vmresume[],
	g_invvpid[], g_vmxon_prep[], g_invvpid_prep[], g_mtf[], g_mtf2[], g_mtf3[], g_ud[], g_loop[], g_xsetbv[], g_xsetbv_insn[],
	g_monitor[], g_monitor_insn[], g_mwait[], g_mwait_insn[], g_nmi[], g_nmi_spin[];
__asm__(".text\n"
	"g_invd: invd\n"
	"	hlt\n"
	"g_rdrand: rdrand %rbx\n"
	"	hlt\n"
	"g_vmxon_prep: lea g_buf(%rip), %rax\n"
	"g_vmxon: vmxon 8(%rax)\n"
	"g_vmxoff: vmxoff\n"
	"g_vmptrld: vmptrld 0x10(%rsp)\n"
	"g_vmresume: vmresume\n"
	"g_invvpid_prep: lea g_buf(%rip), %rax\n"
	"	mov $2, %ecx\n"
	"g_invvpid: invvpid (%rax), %rcx\n"
	"	hlt\n"
	"g_mtf: nop\n"
	"g_mtf2: mov $5, %eax\n"
	"g_mtf3: hlt\n"
	"g_xsetbv: xor %ecx, %ecx\n"
	"	mov $1, %eax\n"
	"	xor %edx, %edx\n"
	"g_xsetbv_insn: xsetbv\n"
	"	hlt\n"
	"g_monitor: lea g_buf(%rip), %rax\n"
	"	xor %ecx, %ecx\n"
	"	xor %edx, %edx\n"
	"g_monitor_insn: monitor\n"
	"g_mwait: xor %eax, %eax\n"
	"	xor %ecx, %ecx\n"
	"g_mwait_insn: mwait\n"
	"	hlt\n"
	"g_nmi: mov nmi_apic(%rip), %rbx\n"
	"	mov nmi_dest(%rip), %eax\n"
	"	mov %eax, 0x310(%rbx)\n"
	"	movl $0x4400, 0x300(%rbx)\n" /* NMI, assert, edge, physical */
	"g_nmi_spin: jmp g_nmi_spin\n"
	"g_ud: ud2\n"
	"g_loop: jmp g_loop\n");

static uint32_t pin_ctl, proc_ctl, proc2_ctl, exit_ctl, entry_ctl;
static uint32_t *vmcs;
static uint8_t *gstack;

static uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* A fresh VMCS: this kernel's world as host and guest, the baseline controls. */
static void reset_vmcs(const char *rip)
{
	struct vmx_ctls c = { pin_ctl, proc_ctl, proc2_ctl, exit_ctl, entry_ctl };
	vmx_reset_vmcs(vmcs, &c, va(rip), vmx_pa(gstack) + 4096);
}

/* Enter (launch) and report a VMfail as a failed check. */
static bool enter(const char *what, int how)
{
	int r = vmx_guest_run(how);
	if (r)
		checkf(false, "%s: VM entry: %s, error %lu", what, vmx_outcome_name(r),
		       vmx_insn_error());
	return r == 0;
}

struct insn_exit {
	const char *name;
	const char *at;
	uint32_t reason;
	uint64_t qual;
	uint32_t len;
	uint32_t info, info_mask; /* mask 0: no instruction information */
};

/* Check an instruction's exit: fault-like, RIP at the instruction (SDM 29.3.3). */
static bool check_insn_exit(const struct insn_exit *e)
{
	uint64_t reason = vmcs_read(VMCS_VM_EXIT_REASON);
	if (reason != e->reason) {
		checkf(false, "%s: exit reason %lu (expected %u), guest RIP %lx (expected %lx)",
		       e->name, reason, e->reason, vmcs_read(VMCS_GUEST_RIP), va(e->at));
		return false;
	}
	check_eqf(vmcs_read(VMCS_GUEST_RIP), va(e->at), "%s: exit reason %u, guest RIP", e->name,
		  e->reason);
	check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), e->qual, "%s: exit qualification", e->name);
	check_eqf(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), e->len, "%s: instruction length",
		  e->name);
	if (e->info_mask)
		check_eqf(vmcs_read(VMCS_VMX_INSTRUCTION_INFO) & e->info_mask, e->info,
			  "%s: instruction information", e->name);
	return true;
}

/* SDM 27.1.2: INVD and, in VMX non-root operation, VMXON, VMXOFF, VMPTRLD, VMRESUME
 * and INVVPID exit unconditionally (SDM 32.3: each checks non-root operation right
 * after its #UD conditions). Qualification: the displacement of a memory operand
 * (SDM 29.2.1), 0 for the others. */
static void unconditional(void)
{
	bool vpid = vmx_ctl_cap(MSR_IA32_VMX_PROCBASED_CTLS2) & ((uint64_t)PROC2_ENABLE_VPID << 32);
	const struct insn_exit seq[] = {
		{ "INVD", g_invd, EXIT_REASON_INVD, 0, 2, 0, 0 },
		{ "VMXON 8(RAX)", g_vmxon, EXIT_REASON_VMON, 8, 5,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX), I_MASK_M64 },
		{ "VMXOFF", g_vmxoff, EXIT_REASON_VMOFF, 0, 3, 0, 0 },
		{ "VMPTRLD 10h(RSP)", g_vmptrld, EXIT_REASON_VMPTRLD, 0x10, 5,
		  I_ASZ64 | I_SEG(S_SS) | I_NOIDX | I_BASE(R_SP), I_MASK_M64 },
		{ "VMRESUME", g_vmresume, EXIT_REASON_VMRESUME, 0, 3, 0, 0 },
		{ "INVVPID RCX, (RAX)", g_invvpid, EXIT_REASON_INVVPID, 0, 5,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX) | I_REG2(R_CX), I_MASK_INV },
	};
	reset_vmcs(g_invd);
	if (!enter("INVD", VMX_LAUNCH) || !check_insn_exit(&seq[0]))
		return;
	vmcs_write(VMCS_GUEST_RIP, va(g_vmxon_prep));
	for (size_t i = 1; i < ARRAY_SIZE(seq); i++) {
		if (seq[i].reason == EXIT_REASON_INVVPID) {
			/* INVVPID is #UD unless "enable VPID" may be 1 (SDM 32.3 INVVPID). */
			if (!vpid) {
				skip("INVVPID exit", "enable VPID not supported");
				return;
			}
			vmcs_write(VMCS_GUEST_RIP, va(g_invvpid_prep));
		}
		if (!enter(seq[i].name, VMX_RESUME) || !check_insn_exit(&seq[i]))
			return;
		vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + seq[i].len);
	}
}

/* SDM 27.1.3: RDRAND exiting (secondary control bit 11); CPUID.1:ECX.RDRAND[30]. */
static void rdrand_exit(void)
{
	if (!(cpuid(1, 0).c & BIT(30))) {
		skip("RDRAND exit", "CPUID.1:ECX.RDRAND = 0");
		return;
	}
	uint32_t p2;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY_CONTROLS | proc_ctl,
			    &proc_ctl, "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_RDRAND_EXITING, &p2, "secondary"))
		return;
	reset_vmcs(g_rdrand);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, p2);
	const struct insn_exit e = { "RDRAND RBX", g_rdrand, EXIT_REASON_RDRAND, 0, 4,
				     (uint32_t)R_BX << 3 | 2u << 11, I_MASK_RDRAND };
	if (enter(e.name, VMX_LAUNCH))
		check_insn_exit(&e);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2_ctl);
}

/* SDM 27.5.2: with the monitor trap flag, a VM exit (37) is pending after each
 * instruction the guest executes; it is trap-like (RIP after the instruction, SDM
 * 29.3.3) and its qualification is 0 (SDM 29.2.1, "for all other VM exits"). */
static void mtf(void)
{
	uint32_t proc;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_MONITOR_TRAP_FLAG, &proc,
			    "primary"))
		return;
	reset_vmcs(g_mtf);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	const char *after[] = { g_mtf2, g_mtf3 };
	for (int i = 0; i < 2; i++) {
		if (!enter("MTF", i ? VMX_RESUME : VMX_LAUNCH))
			return;
		check_eqf(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_MONITOR_TRAP_FLAG,
			  "MTF after instruction %d: exit reason 37", i + 1);
		check_eqf(vmcs_read(VMCS_GUEST_RIP), va(after[i]),
			  "MTF after instruction %d: guest RIP after it", i + 1);
		check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), 0,
			  "MTF after instruction %d: exit qualification", i + 1);
	}
	/* HLT exiting takes priority: the HLT exits (12) without executing. */
	if (enter("MTF, HLT", VMX_RESUME)) {
		check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_HLT,
			 "MTF then HLT with HLT exiting: exit reason 12");
		check_eq(vmcs_read(VMCS_GUEST_RIP), va(g_mtf3), "MTF then HLT: guest RIP at HLT");
	}
}

/* SDM 27.2.1: a triple fault in the guest is a VM exit (2). The guest's IDT has
 * limit 0, so UD2's #UD, the #GP of its delivery and the #DF all find no gate (SDM
 * 6.15: a fault while delivering #DF is a triple fault). */
static void triple_fault(void)
{
	reset_vmcs(g_ud);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);
	if (!enter("triple fault", VMX_LAUNCH))
		return;
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_TRIPLE_FAULT,
		 "triple fault: exit reason 2");
	check_eq(vmcs_read(VMCS_EXIT_QUALIFICATION), 0, "triple fault: exit qualification 0");
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO) & INTR_INFO_VALID, 0,
		 "triple fault: VM-exit interruption information invalid (SDM 29.2.2)");
}

static bool apic_bit(uint32_t base, int vec)
{
	return apic_read(base + 0x10 * (vec / 32)) & BIT(vec % 32);
}

/* SDM 27.2.1 (external-interrupt exiting: any unmasked external interrupt exits,
 * whatever the guest's RFLAGS.IF, SDM 26.6.1 Table 26-5), 29.2.2: with "acknowledge
 * interrupt on exit" the processor acknowledges the interrupt controller and the
 * VM-exit interruption information holds the vector, type 0 (external interrupt),
 * valid; without it the interrupt stays pending (IRR) and the field is invalid. The
 * guest spins with IF = 0; the host holds a self-IPI pending with its own IF = 0. */
static void external_interrupt(void)
{
	uint32_t pin, ex;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PINBASED_CTLS, pin_ctl | PIN_EXT_INTR_EXITING, &pin,
			    "pin"))
		return;
	__asm__ volatile("cli");
	apic_enable();
	apic_icr(0, (1u << 18) | VEC_EXT); /* self, fixed, edge (SDM 12.6.1) */
	if (!apic_bit(APIC_IRR, VEC_EXT)) {
		check(false, "self-IPI pending in the IRR before VM entry");
		return;
	}
	reset_vmcs(g_loop);
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	if (!enter("external interrupt, no acknowledge", VMX_LAUNCH))
		return;
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_EXTERNAL_INTERRUPT,
		 "external interrupt, no acknowledge: exit reason 1");
	check_eq(vmcs_read(VMCS_GUEST_RIP), va(g_loop),
		 "external interrupt, no acknowledge: guest RIP (nothing executed)");
	check_eq(vmcs_read(VMCS_EXIT_QUALIFICATION), 0,
		 "external interrupt, no acknowledge: exit qualification 0");
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO) & INTR_INFO_VALID, 0,
		 "external interrupt, no acknowledge: interruption information invalid");
	check(apic_bit(APIC_IRR, VEC_EXT) && !apic_bit(APIC_ISR, VEC_EXT),
	      "external interrupt, no acknowledge: still pending in the IRR, not in service");
	if (!vmx_ctl_needed(MSR_IA32_VMX_EXIT_CTLS, exit_ctl | EXIT_ACK_INTR_ON_EXIT, &ex, "exit"))
		return;
	vmcs_write(VMCS_VM_EXIT_CONTROLS, ex);
	if (!enter("external interrupt, acknowledge", VMX_RESUME))
		return;
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_EXTERNAL_INTERRUPT,
		 "external interrupt, acknowledge: exit reason 1");
	check_eq(vmcs_read(VMCS_GUEST_RIP), va(g_loop), "external interrupt, acknowledge: guest RIP");
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | VEC_EXT,
		 "external interrupt, acknowledge: information = valid, type 0, vector 41H");
	check(!apic_bit(APIC_IRR, VEC_EXT) && apic_bit(APIC_ISR, VEC_EXT),
	      "external interrupt, acknowledge: acknowledged (in service, not requested)");
	apic_eoi();
	check(!apic_bit(APIC_ISR, VEC_EXT), "external interrupt: EOI after the exit");
}

/* SDM 27.1.2: XSETBV exits unconditionally; its #UD (CR4.OSXSAVE = 0) comes first
 * (27.1.1), so the guest runs with CR4.OSXSAVE where CPUID.1:ECX.XSAVE[26] says it
 * exists and IA32_VMX_CR4_FIXED1 allows it. */
static void xsetbv_exit(void)
{
	if (!(cpuid(1, 0).c & BIT(26)) || !(rdmsr(MSR_IA32_VMX_CR4_FIXED1) & BIT(18))) {
		skip("XSETBV exit", "no XSAVE (CPUID.1:ECX[26]) or CR4.OSXSAVE not allowed");
		return;
	}
	reset_vmcs(g_xsetbv);
	vmcs_write(VMCS_GUEST_CR4, vmcs_read(VMCS_GUEST_CR4) | BIT(18));
	const struct insn_exit e = { "XSETBV", g_xsetbv_insn, EXIT_REASON_XSETBV, 0, 3, 0, 0 };
	if (enter(e.name, VMX_LAUNCH))
		check_insn_exit(&e);
}

/* SDM 27.1.3: MONITOR exiting, MWAIT exiting (CPUID.1:ECX.MONITOR[3]). The MWAIT
 * qualification is 1 if address-range monitoring hardware is armed, else 0 (SDM
 * 29.2.1): 1 after the guest's MONITOR ran (without MONITOR exiting). */
static void monitor_mwait(void)
{
	uint32_t pm, pw;
	if (!(cpuid(1, 0).c & BIT(3))) {
		skip("MONITOR/MWAIT exits", "CPUID.1:ECX.MONITOR = 0");
		return;
	}
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_MONITOR_EXITING, &pm,
			    "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_MWAIT_EXITING, &pw,
			    "primary"))
		return;
	reset_vmcs(g_monitor);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, pm | PROC_MWAIT_EXITING);
	const struct insn_exit m = { "MONITOR", g_monitor_insn, EXIT_REASON_MONITOR_INSTRUCTION, 0,
				     3, 0, 0 };
	if (!enter(m.name, VMX_LAUNCH) || !check_insn_exit(&m))
		return;
	/* Armed: the guest's MONITOR runs, then its MWAIT exits. */
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, pw);
	vmcs_write(VMCS_GUEST_RIP, va(g_monitor));
	const struct insn_exit w = { "MWAIT after MONITOR (armed)", g_mwait_insn,
				     EXIT_REASON_MWAIT_INSTRUCTION, 1, 3, 0, 0 };
	if (enter(w.name, VMX_RESUME))
		check_insn_exit(&w);
}

/* SDM 27.2.1: with "NMI exiting" an NMI causes a VM exit (reason 0) with the
 * interruption information valid, type 2 (NMI), vector 2 (SDM 29.2.2), exit
 * qualification 0. The guest sends itself the NMI through its local APIC's ICR
 * (physical destination, SDM 12.6.1), then spins. */
static void nmi_exit(void)
{
	uint32_t pin;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PINBASED_CTLS, pin_ctl | PIN_NMI_EXITING, &pin, "pin"))
		return;
	apic_enable();
	nmi_apic = rdmsr(MSR_APIC_BASE) & 0xfffff000ull;
	nmi_dest = apic_id() << 24;
	reset_vmcs(g_nmi);
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	if (!enter("NMI", VMX_LAUNCH))
		return;
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_EXCEPTION_NMI, "NMI: exit reason 0");
	check_eq(vmcs_read(VMCS_VM_EXIT_INTR_INFO), INTR_INFO_VALID | 2u << 8 | 2,
		 "NMI: interruption information = valid, type 2, vector 2");
	check_eq(vmcs_read(VMCS_GUEST_RIP), va(g_nmi_spin), "NMI: guest RIP after the ICR write");
	check_eq(vmcs_read(VMCS_EXIT_QUALIFICATION), 0, "NMI: exit qualification 0");
}

int main(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_exits", "CPUID.1:ECX.VMX = 0");
		return 0;
	}
	gstack = alloc_page();
	memset(g_buf, 0, sizeof(g_buf));
	vmcs = vmx_enter_baseline(&pin_ctl, &proc_ctl, &exit_ctl, &entry_ctl);
	if (!vmcs)
		return 0;
	unconditional();
	rdrand_exit();
	mtf();
	triple_fault();
	external_interrupt();
	xsetbv_exit();
	monitor_mwait();
	nmi_exit();
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the exits");
	return 0;
}
