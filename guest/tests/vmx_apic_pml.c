/*
 * vmx_apic_pml - a hypervisor kernel whose guest touches the APIC-access page and
 * fills the page-modification log, and checks the exits (App. C) with their fields:
 *   - APIC-access VM exits (44) with "virtualize APIC accesses" and no EPT (SDM 31.4):
 *     the qualification gives the page offset in bits 11:0 and the access type in
 *     bits 15:12, 0 linear read, 1 linear write, 2 linear instruction fetch, 3 linear
 *     access during event delivery (SDM 29.2.1 Table 29-6), the IDT-vectoring
 *     information valid for type 3 only (29.2.1, 29.2.4) with the instruction length
 *     of a software interrupt (29.2.5); the exits are fault-like (RIP at the access,
 *     SDM 29.3.3);
 *     the guest reaches the APIC-access page through a 4-KByte translation;
 *   - a page-modification-log-full VM exit (62): with EPT A/D flags and "enable PML",
 *     the first write to a clean page logs its guest-physical address at the PML
 *     index and decrements it; the next such write with the index out of 0-511
 *     exits instead of writing (SDM 30.3.6); qualification 0 (SDM 29.2.1);
 *   - EPT violations (48) on an execute-only page (IA32_VMX_EPT_VPID_CAP[0]) and on a
 *     read/execute page with EPT A/D flags on: the qualification (SDM 29.2.1 Table
 *     29-7) gives the access (bits 2:0), the leaf's permissions (5:3), a guest-linear
 *     address translated to the final page (7, 8) and, with advanced information
 *     (IA32_VMX_EPT_VPID_CAP[22]), the guest paging's U/S, R/W, XD (9-11).
 * Capabilities come from the IA32_VMX_* MSRs (App. A).
 */
#include "vmx_lib.h"

#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_WB (6ull << EPT_MEMTYPE_SHIFT)
#define GPA_A 0x100000000ull /* PML test pages: guest-physical, mapped by the EPT only */
#define GPA_B 0x100001000ull
#define VA_A 0x5000000000ull
#define VA_B 0x5000001000ull
#define GPA_C 0x100002000ull /* execute-only */
#define GPA_D 0x100003000ull /* read/execute */
#define VA_C 0x5000002000ull
#define VA_D 0x5000003000ull
#define VA_APIC 0x5000100000ull /* the APIC-access page, through a 4-KByte mapping */

uint64_t apic_va;
uint32_t tpr_seen; /* what the guest's read of offset 080H returned */

/* The guest: each step reloads its registers (vmx_guest_run does not keep them). */
extern char g_rd[], g_rd_insn[], g_wr[], g_wr_insn[], g_fetch[], g_int[],
	g_pml[], g_pml_b[], g_pml_end[], g_wc[], g_wc_insn[], g_rc[], g_rc_insn[],
	g_wd[], g_wd_insn[], g_tr[], g_tr_hlt[], g_tw[], g_tw_next[];
__asm__(".text\n"
	"g_rd: mov apic_va(%rip), %rbx\n"
	"g_rd_insn: mov 0x20(%rbx), %eax\n"
	"	hlt\n"
	"g_wr: mov apic_va(%rip), %rbx\n"
	"g_wr_insn: mov %eax, 0x300(%rbx)\n"
	"	hlt\n"
	"g_int: int $0x10\n"
	"	hlt\n"
	"g_fetch: mov apic_va(%rip), %rbx\n"
	"	lea 0x10(%rbx), %rax\n"
	"	jmp *%rax\n"
	"g_pml: movabs $0x5000000000, %rdi\n"
	"	movabs $0x5000001000, %rsi\n"
	"	movq $1, (%rdi)\n"
	"g_pml_b: movq $2, (%rsi)\n"
	"g_pml_end: hlt\n"
	"g_wc: movabs $0x5000002000, %rdi\n"
	"g_wc_insn: movq $3, (%rdi)\n"
	"	hlt\n"
	"g_rc: movabs $0x5000002000, %rdi\n"
	"g_rc_insn: mov (%rdi), %rax\n"
	"	hlt\n"
	"g_wd: movabs $0x5000003000, %rdi\n"
	"g_wd_insn: movq $4, (%rdi)\n"
	"	hlt\n"
	"g_tr: mov apic_va(%rip), %rbx\n"
	"	mov 0x80(%rbx), %eax\n"
	"	mov %eax, tpr_seen(%rip)\n"
	"g_tr_hlt: hlt\n"
	"g_tw: mov apic_va(%rip), %rbx\n"
	"	movl $0x20, 0x80(%rbx)\n"
	"g_tw_next: hlt\n");

static uint32_t pin_ctl, proc_ctl, exit_ctl, entry_ctl;
static uint32_t *vmcs;
static uint8_t *gstack;

static uint64_t va(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static void reset_vmcs(const char *rip)
{
	struct vmx_ctls c = { pin_ctl, proc_ctl, 0, exit_ctl, entry_ctl };
	vmx_reset_vmcs(vmcs, &c, va(rip), vmx_pa(gstack) + 4096);
	vmcs_write(VMCS_TPR_THRESHOLD, 0);
}

static bool enter(const char *what)
{
	int r = vmx_guest_run(VMX_LAUNCH);
	if (r)
		checkf(false, "%s: VM entry: %s, error %lu", what, vmx_outcome_name(r),
		       vmx_insn_error());
	return r == 0;
}

static void expect_exit(const char *what, uint32_t reason, uint64_t rip, uint64_t qual)
{
	uint64_t got = vmcs_read(VMCS_VM_EXIT_REASON);
	if (got != reason) {
		checkf(false, "%s: exit reason %lu (expected %u), guest RIP %lx", what, got, reason,
		       vmcs_read(VMCS_GUEST_RIP));
		return;
	}
	check_eqf(vmcs_read(VMCS_GUEST_RIP), rip, "%s: exit reason %u, guest RIP", what, reason);
	check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), qual, "%s: exit qualification", what);
}

/* With "use TPR shadow" = 1 (and no APIC-register virtualization or virtual-interrupt
 * delivery), accesses to offset 080H are virtualized on the virtual-APIC page: a
 * 32-bit read returns VTPR without an exit (SDM 31.4.2); a 32-bit write stores VTPR,
 * and APIC-write emulation then clears bytes 3:1 and, VTPR[7:4] being below the TPR
 * threshold, takes a trap-like TPR-below-threshold exit (reason 43, qualification 0,
 * RIP past the write: SDM 31.4.3, 31.1.2). */
static void tpr_access(uint8_t *page, uint32_t proc2)
{
	uint32_t proc;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_SECONDARY_CONTROLS |
			    PROC_TPR_SHADOW, &proc, "primary with TPR shadow"))
		return;
	uint32_t *vapic = alloc_page();
	const char *start[] = { g_tr, g_tw };
	for (int i = 0; i < 2; i++) {
		memset(vapic, 0, 4096);
		vapic[0x80 / 4] = 0x50;
		tpr_seen = 0;
		reset_vmcs(start[i]);
		vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
		vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
		vmcs_write(VMCS_APIC_ACCESS_ADDR, vmx_pa(page));
		vmcs_write(VMCS_VIRTUAL_APIC_PAGE_ADDR, vmx_pa(vapic));
		vmcs_write(VMCS_TPR_THRESHOLD, 3);
		if (!enter(i ? "TPR shadow: write of offset 080H" : "TPR shadow: read of offset 080H"))
			continue;
		if (i == 0) {
			expect_exit("TPR shadow: read of offset 080H", EXIT_REASON_HLT, va(g_tr_hlt), 0);
			check_eq(tpr_seen, 0x50, "TPR shadow: the read of offset 080H returned VTPR");
			continue;
		}
		expect_exit("TPR shadow: write of offset 080H below the threshold",
			    EXIT_REASON_TPR_BELOW_THRESHOLD, va(g_tw_next), 0);
		check_eq(vapic[0x80 / 4], 0x20, "TPR shadow: the write of offset 080H set VTPR");
	}
}

/* SDM 31.4, 29.2.1 Table 29-6. */
static void apic_access(void)
{
	uint32_t proc2;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_SECONDARY_CONTROLS,
			    &proc_ctl, "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_VIRTUALIZE_APIC_ACCESSES, &proc2,
			    "secondary"))
		return;
	uint8_t *page = alloc_page();
	map_page(VA_APIC, vmx_pa(page), PTE_P | PTE_W);
	apic_va = VA_APIC;
	const struct {
		const char *name, *start;
		uint64_t rip, qual;
	} acc[] = {
		{ "APIC access: read of offset 020H", g_rd, va(g_rd_insn), 0x020 },
		{ "APIC access: write of offset 300H", g_wr, va(g_wr_insn), 0x1300 },
		{ "APIC access: fetch at offset 010H", g_fetch, VA_APIC + 0x10, 0x2010 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(acc); i++) {
		reset_vmcs(acc[i].start);
		vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
		vmcs_write(VMCS_APIC_ACCESS_ADDR, vmx_pa(page));
		if (!enter(acc[i].name))
			continue;
		expect_exit(acc[i].name, EXIT_REASON_APIC_ACCESS, acc[i].rip, acc[i].qual);
		check_eqf(vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD) & INTR_INFO_VALID, 0,
			  "%s: IDT-vectoring information invalid", acc[i].name);
	}
	/* Type 3: the guest's IDT is on the APIC-access page; INT 10H reads its gate at
	 * offset 100H while being delivered. */
	reset_vmcs(g_int);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VMCS_APIC_ACCESS_ADDR, vmx_pa(page));
	vmcs_write(VMCS_GUEST_IDTR_BASE, VA_APIC);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xfff);
	if (enter("APIC access: IDT gate read delivering INT 10H")) {
		expect_exit("APIC access: IDT gate read delivering INT 10H", EXIT_REASON_APIC_ACCESS,
			    va(g_int), 0x3100);
		check_eq(vmcs_read(VMCS_IDT_VECTORING_INFO_FIELD), INTR_INFO_VALID | 4u << 8 | 0x10,
			 "APIC access during INT 10H: IDT-vectoring = valid, software interrupt 10H");
		check_eq(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), 2,
			 "APIC access during INT 10H: instruction length 2");
	}
	tpr_access(page, proc2);
}

/* --- the page-modification log (SDM 30.3.6) ---------------------------------------- */

static uint64_t *ept_pml4;

/* EPT entry at level for gpa, creating tables (RWX, accessed) on the way. */
static uint64_t *ept_entry(uint64_t gpa, int level)
{
	return vmx_ept_entry(ept_pml4, gpa, level, EPT_ACCESSED);
}

static void pml_full(void)
{
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	uint32_t proc, proc2;
	if (!(cap & BIT(21)) || !(cap & BIT(6)) || !(cap & BIT(14))) {
		skip("PML full", "no EPT A/D flags, 4-level walk or WB EPT structures");
		return;
	}
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_SECONDARY_CONTROLS, &proc,
			    "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_ENABLE_EPT | PROC2_ENABLE_PML,
			    &proc2, "secondary"))
		return;
	/* Identity map of 4 GiB, accessed and dirty already so that nothing but the test
	 * pages is logged; A and B clean. */
	ept_pml4 = alloc_page();
	bool gb = cap & BIT(17);
	for (uint64_t a = 0; a < 4 * PAGE_1G; a += gb ? PAGE_1G : PAGE_2M)
		*ept_entry(a, gb ? 3 : 2) =
			a | EPT_RWX | EPT_WB | EPT_LARGE | EPT_ACCESSED | EPT_DIRTY;
	uint8_t *pa = alloc_page(), *pb = alloc_page();
	uint64_t *ea = ept_entry(GPA_A, 1), *eb = ept_entry(GPA_B, 1);
	*ea = vmx_pa(pa) | EPT_RWX | EPT_WB;
	*eb = vmx_pa(pb) | EPT_RWX | EPT_WB;
	map_page(VA_A, GPA_A, PTE_P | PTE_W);
	map_page(VA_B, GPA_B, PTE_P | PTE_W);
	uint64_t *log = alloc_page();
	memset(log, 0, 4096);
	reset_vmcs(g_pml);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VMCS_EPT_POINTER, vmx_pa(ept_pml4) | 6 | (3 << 3) | EPTP_AD_ENABLE);
	vmcs_write(VMCS_PML_ADDRESS, vmx_pa(log));
	vmcs_write(VMCS_GUEST_PML_INDEX, 0);
	struct inv_desc d = { 0, 0 };
	invept(2, &d); /* all-context: nothing cached from earlier EPTs */
	if (!enter("PML full"))
		return;
	expect_exit("PML full", EXIT_REASON_PML_FULL, va(g_pml_b), 0);
	check_eq(log[0], GPA_A, "PML: the write to page A logged its guest-physical address");
	check_eq(vmcs_read(VMCS_GUEST_PML_INDEX), 0xffff, "PML: index decremented to FFFFH");
	check(*ea & EPT_DIRTY, "PML: page A's EPT dirty flag set");
	check(!(*eb & EPT_DIRTY), "PML: page B's EPT dirty flag still clear (no write)");
	check_eq(*(volatile uint64_t *)pb, 0, "PML: the write to page B did not happen");
	check_eq(*(volatile uint64_t *)pa, 1, "PML: the write to page A happened");
	/* The hypervisor empties the log; the write is then logged and done. The guest
	 * starts over (its registers are not kept): A is dirty now, not logged again. */
	vmcs_write(VMCS_GUEST_PML_INDEX, 511);
	vmcs_write(VMCS_GUEST_RIP, va(g_pml));
	if (vmx_guest_run(VMX_RESUME) == 0) {
		expect_exit("PML resumed", EXIT_REASON_HLT, va(g_pml_end), 0);
		check_eq(log[511], GPA_B, "PML: page B logged at index 511");
		check_eq(vmcs_read(VMCS_GUEST_PML_INDEX), 510, "PML: index 510 after the write");
		check_eq(*(volatile uint64_t *)pb, 2, "PML: the write to page B happened");
		check(*eb & EPT_DIRTY, "PML: page B's EPT dirty flag set");
	} else {
		check(false, "PML: VMRESUME after emptying the log");
	}
}

/* SDM 29.2.1 Table 29-7, 30.3.3: violations on the EPT built by pml_full(), with
 * EPT A/D flags on and PML off. */
static void ept_violations(void)
{
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	uint32_t proc, proc2;
	if (!ept_pml4) {
		skip("EPT violations", "no EPT (see PML full)");
		return;
	}
	if (!vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, proc_ctl | PROC_SECONDARY_CONTROLS, &proc,
			    "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS2, PROC2_ENABLE_EPT, &proc2, "secondary"))
		return;
	/* Bits 9-11 are defined only with advanced information; the test pages are
	 * supervisor, read/write, executable in the guest's paging (map_page). */
	uint64_t adv = cap & BIT(22) ? BIT(10) : 0, mask = cap & BIT(22) ? 0x1fff : 0x11ff;
	uint64_t fin = EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED;
	bool xo = cap & BIT(0);
	*ept_entry(GPA_C, 1) = vmx_pa(alloc_page()) | EPT_EXEC | EPT_WB;
	*ept_entry(GPA_D, 1) = vmx_pa(alloc_page()) | EPT_READ | EPT_EXEC | EPT_WB;
	map_page(VA_C, GPA_C, PTE_P | PTE_W);
	map_page(VA_D, GPA_D, PTE_P | PTE_W);
	const struct {
		const char *name, *start, *at;
		uint64_t gpa, va, qual;
		bool need_xo;
	} v[] = {
		{ "EPT violation: write to an execute-only page", g_wc, g_wc_insn, GPA_C, VA_C,
		  EPTQUAL_WRITE | EPTQUAL_EXECUTABLE | fin | adv, true },
		{ "EPT violation: read of an execute-only page", g_rc, g_rc_insn, GPA_C, VA_C,
		  EPTQUAL_READ | EPTQUAL_EXECUTABLE | fin | adv, true },
		{ "EPT violation: write to a read/execute page, A/D on", g_wd, g_wd_insn, GPA_D, VA_D,
		  EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_EXECUTABLE | fin | adv, false },
	};
	for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
		if (v[i].need_xo && !xo) {
			skip(v[i].name, "IA32_VMX_EPT_VPID_CAP[0]: no execute-only pages");
			continue;
		}
		reset_vmcs(v[i].start);
		vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
		vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
		vmcs_write(VMCS_EPT_POINTER, vmx_pa(ept_pml4) | 6 | (3 << 3) | EPTP_AD_ENABLE);
		struct inv_desc d = { 0, 0 };
		invept(2, &d);
		if (!enter(v[i].name))
			continue;
		uint64_t got = vmcs_read(VMCS_VM_EXIT_REASON);
		if (got != EXIT_REASON_EPT_VIOLATION) {
			checkf(false, "%s: exit reason %lu (expected 48)", v[i].name, got);
			continue;
		}
		check_eqf(vmcs_read(VMCS_GUEST_RIP), va(v[i].at), "%s: exit reason 48, guest RIP",
			  v[i].name);
		check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION) & mask, v[i].qual,
			  "%s: exit qualification", v[i].name);
		check_eqf(vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), v[i].gpa,
			  "%s: guest-physical address", v[i].name);
		check_eqf(vmcs_read(VMCS_GUEST_LINEAR_ADDRESS), v[i].va, "%s: guest-linear address",
			  v[i].name);
	}
}

int main(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_apic_pml", "CPUID.1:ECX.VMX = 0");
		return 0;
	}
	gstack = alloc_page();
	vmcs = vmx_enter_baseline(&pin_ctl, &proc_ctl, &exit_ctl, &entry_ctl);
	if (!vmcs)
		return 0;
	apic_access();
	pml_full();
	ept_violations();
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the exits");
	return 0;
}
