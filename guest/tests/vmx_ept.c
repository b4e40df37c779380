/*
 * vmx_ept - a kernel that acts as a hypervisor and runs a guest under an EPT it builds
 * (SDM Vol.3C 30.3, 30.4): EPT translation, EPT violations with their qualification
 * and addresses (SDM 29.2.1 Table 29-7) for reads, writes and fetches, execute-only
 * pages, EPT misconfigurations, the EPT accessed and dirty flags (30.3.5), and the
 * guarantees of INVEPT and INVVPID (32.3): after them the new translations are used.
 * Where the SDM only allows a stale translation, nothing is asserted.
 *
 * The guest is this kernel's own code at CPL 0, with the same GDT, IDT and page tables
 * (guest-physical = physical through an identity EPT), on its own stack; it reports
 * results in memory and ends each step with VMCALL. Test pages live at guest-physical
 * addresses above 4 GiB that only the EPT maps.
 */
#include "vmx_lib.h"

#define MSR_PAT 0x277

#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_WB (6ull << EPT_MEMTYPE_SHIFT)
#define GPA_TEST 0x100000000ull /* 4 GiB: test pages, mapped by the EPT only */
#define VA_TEST 0x5000000000ull /* where the guest sees them */

/* --- INVEPT and INVVPID with their descriptors (SDM 32.3) ------------------------------ */

static bool invept_ok(uint64_t type, uint64_t eptp)
{
	struct inv_desc d = { eptp, 0 };
	return invept(type, &d) == VMX_OK;
}

static bool invvpid_ok(uint64_t type, uint16_t vpid, uint64_t gla)
{
	struct inv_desc d = { vpid, gla };
	return invvpid(type, &d) == VMX_OK;
}

/* --- entering the guest and coming back ------------------------------------------------ */

/* The guest's general-purpose registers while the host runs (RSP is in the VMCS). */
struct gregs { uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15; };
struct gregs guest_regs;
uint8_t vm_launched;

/* vm_enter(): save the host's callee-saved registers, point HOST_RSP at them, load
 * the guest's registers and VMLAUNCH (first time) or VMRESUME. A VM exit arrives at
 * vm_exit_stub (HOST_RIP) with that RSP: store the guest's registers, restore the
 * host's, return 0. A VM-entry failure (VMfail) falls through and returns 1. */
int vm_enter(void);
void vm_exit_stub(void);
__asm__(".text\n"
	".globl vm_enter\n"
	"vm_enter:\n\t"
	"push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n\t"
	"mov $0x6c14, %rax\n\t" /* HOST_RSP */
	"vmwrite %rsp, %rax\n\t"
	"mov guest_regs+0(%rip), %rax\n\t"
	"mov guest_regs+8(%rip), %rbx\n\t"
	"mov guest_regs+16(%rip), %rcx\n\t"
	"mov guest_regs+24(%rip), %rdx\n\t"
	"mov guest_regs+32(%rip), %rsi\n\t"
	"mov guest_regs+40(%rip), %rdi\n\t"
	"mov guest_regs+48(%rip), %rbp\n\t"
	"mov guest_regs+56(%rip), %r8\n\t"
	"mov guest_regs+64(%rip), %r9\n\t"
	"mov guest_regs+72(%rip), %r10\n\t"
	"mov guest_regs+80(%rip), %r11\n\t"
	"mov guest_regs+88(%rip), %r12\n\t"
	"mov guest_regs+96(%rip), %r13\n\t"
	"mov guest_regs+104(%rip), %r14\n\t"
	"mov guest_regs+112(%rip), %r15\n\t"
	"cmpb $0, vm_launched(%rip)\n\t"
	"jne 1f\n\t"
	"vmlaunch\n\t"
	"jmp 2f\n"
	"1:\tvmresume\n"
	"2:\tmov $1, %eax\n\t"
	"jmp 3f\n"
	".globl vm_exit_stub\n"
	"vm_exit_stub:\n\t"
	"mov %rax, guest_regs+0(%rip)\n\t"
	"mov %rbx, guest_regs+8(%rip)\n\t"
	"mov %rcx, guest_regs+16(%rip)\n\t"
	"mov %rdx, guest_regs+24(%rip)\n\t"
	"mov %rsi, guest_regs+32(%rip)\n\t"
	"mov %rdi, guest_regs+40(%rip)\n\t"
	"mov %rbp, guest_regs+48(%rip)\n\t"
	"mov %r8, guest_regs+56(%rip)\n\t"
	"mov %r9, guest_regs+64(%rip)\n\t"
	"mov %r10, guest_regs+72(%rip)\n\t"
	"mov %r11, guest_regs+80(%rip)\n\t"
	"mov %r12, guest_regs+88(%rip)\n\t"
	"mov %r13, guest_regs+96(%rip)\n\t"
	"mov %r14, guest_regs+104(%rip)\n\t"
	"mov %r15, guest_regs+112(%rip)\n\t"
	"xor %eax, %eax\n"
	"3:\tpop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n\t"
	"ret\n");

/* Run the guest until its next VM exit; the basic exit reason, or ~0 on VMfail. */
static uint32_t run_guest(void)
{
	if (vm_enter()) {
		printf("VM entry failed: error %lu\n", vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
		return ~0u;
	}
	vm_launched = 1;
	return (uint32_t)vmcs_read(VMCS_VM_EXIT_REASON) & 0xffff;
}

/* Step over the instruction that exited (VMCALL) before resuming. */
static void skip_insn(void)
{
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN));
}

/* --- the guest -------------------------------------------------------------------------- */

/* What the host asks the guest to do next, and what the guest saw. */
enum step { G_READ, G_WRITE, G_CALL };
static volatile int g_step;
static volatile uint64_t g_addr, g_value, g_result;

static void guest_vmcall(void) { __asm__ volatile("vmcall" ::: "memory"); }

/* The guest's main loop: one access per VM entry, then VMCALL. */
static void guest_main(void)
{
	for (;;) {
		uint64_t a = g_addr;
		if (g_step == G_READ)
			g_result = *(volatile uint64_t *)a;
		else if (g_step == G_WRITE)
			*(volatile uint64_t *)a = g_value;
		else
			g_result = ((uint64_t(*)(void))a)();
		guest_vmcall();
	}
}

/* --- the hypervisor's EPT ------------------------------------------------------------------ */

static uint64_t *ept_pml4;
static uint64_t eptp;

/* EPT entry at level for gpa, creating tables (RWX) on the way. */
static uint64_t *ept_entry(uint64_t gpa, int level)
{
	return vmx_ept_entry(ept_pml4, gpa, level, 0);
}

/* Identity map of the first 4 GiB with 1-GByte pages, or 2-MByte pages if the
 * processor has no 1-GByte EPT pages (IA32_VMX_EPT_VPID_CAP bit 17). */
static void ept_identity(uint64_t cap)
{
	for (uint64_t a = 0; a < 4 * PAGE_1G; a += (cap & BIT(17)) ? PAGE_1G : PAGE_2M) {
		int level = (cap & BIT(17)) ? 3 : 2;
		*ept_entry(a, level) = a | EPT_RWX | EPT_WB | EPT_LARGE;
	}
}

/* A test page: guest-physical GPA_TEST + n * 4K, backed by a fresh host page holding
 * `fill` in its first word, visible to the guest at VA_TEST + n * 4K. */
static uint64_t *test_page(int n, uint64_t perm, uint64_t fill, uint8_t **host)
{
	uint8_t *p = alloc_page();
	*(uint64_t *)p = fill;
	uint64_t *e = ept_entry(GPA_TEST + (uint64_t)n * PAGE_4K, 1);
	*e = vmx_pa(p) | perm | EPT_WB;
	map_page(VA_TEST + (uint64_t)n * PAGE_4K, GPA_TEST + (uint64_t)n * PAGE_4K, PTE_P | PTE_W);
	if (host)
		*host = p;
	return e;
}

/* --- the VMCS --------------------------------------------------------------------------------- */

/* A control value from the wanted bits and its capability MSR (SDM A.3-A.5); bits
 * that are not allowed-1 are dropped. */
static uint32_t ctl(uint32_t msr, uint32_t want)
{
	uint64_t cap = vmx_ctl_cap(msr);
	return (want | (uint32_t)cap) & (uint32_t)(cap >> 32);
}

static void setup_vmcs(uint32_t proc2, uint16_t vpid, void *gstack)
{
	/* Host and guest: this kernel's own 64-bit world (vmx_lib.h); exits go to
	 * vm_exit_stub, which saves the guest's registers. The guest runs guest_main. */
	vmx_write_host_state();
	vmcs_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vm_exit_stub);
	vmx_write_guest_state((uint64_t)(uintptr_t)guest_main, vmx_pa(gstack) + PAGE_4K * 4 - 8);
	vmcs_write(VMCS_GUEST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_GUEST_IA32_PAT, rdmsr(MSR_PAT));
	/* Controls (SDM 26.6-26.8) within what the capability MSRs allow. */
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, ctl(MSR_IA32_VMX_PINBASED_CTLS, 0));
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL,
		   ctl(MSR_IA32_VMX_PROCBASED_CTLS, PROC_SECONDARY_CONTROLS));
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, ctl(MSR_IA32_VMX_PROCBASED_CTLS2, proc2));
	vmcs_write(VMCS_VM_EXIT_CONTROLS,
		   ctl(MSR_IA32_VMX_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_EFER));
	vmcs_write(VMCS_VM_ENTRY_CONTROLS,
		   ctl(MSR_IA32_VMX_ENTRY_CTLS, ENTRY_IA32E_MODE | ENTRY_LOAD_EFER));
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_EPT_POINTER, eptp);
	vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, vpid);
	vm_launched = 0;
}

/* --- the checks ------------------------------------------------------------------------------ */

/* Have the guest do one access; the exit reason it ends with. */
static uint32_t guest_do(int step, uint64_t addr, uint64_t value)
{
	g_step = step;
	g_addr = addr;
	g_value = value;
	g_result = 0xdead;
	return run_guest();
}

/* An EPT violation of the access at va (guest-physical gpa): reason 48, the
 * qualification's access and permission bits, bits 7 and 8 set (final translation of
 * a linear address), the guest-physical and guest-linear addresses (SDM 29.2.1). */
static void expect_violation(uint32_t reason, uint64_t access, uint64_t perm, uint64_t gpa,
			     uint64_t va, const char *what)
{
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_eqf(reason, EXIT_REASON_EPT_VIOLATION, "%s: EPT violation (48)", what);
	check_eqf(q & 7, access, "%s: qualification bits 2:0 (access)", what);
	check_eqf((q >> 3) & 7, perm, "%s: qualification bits 5:3 (permissions)", what);
	check_eqf(q & (EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED),
		  EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED, "%s: bits 7, 8 (final access)", what);
	check_eqf(vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), gpa, "%s: guest-physical address", what);
	check_eqf(vmcs_read(VMCS_GUEST_LINEAR_ADDRESS), va, "%s: guest-linear address", what);
}

static void expect_vmcall(uint32_t reason, const char *what)
{
	check_eqf(reason, EXIT_REASON_VMCALL, "%s: completes (VMCALL exit)", what);
	if (reason == EXIT_REASON_VMCALL)
		skip_insn();
}

/* Reads, writes and fetches against the EPT permissions (SDM 30.3.3.2). */
static void permissions(void)
{
	uint8_t *host;
	uint64_t va = VA_TEST, gpa = GPA_TEST;
	uint64_t *e = test_page(0, EPT_READ, 0x1111, &host);
	expect_vmcall(guest_do(G_READ, va, 0), "read of an R page");
	check_eq(g_result, 0x1111, "the guest reads the page the EPT maps");
	uint32_t r = guest_do(G_WRITE, va + 8, 0x2222);
	expect_violation(r, EPTQUAL_WRITE, EPT_READ, gpa + 8, va + 8, "write to an R page");
	/* The VMM grants write access and resumes: the write completes. */
	*e |= EPT_WRITE;
	check(invept_ok(INVEPT_SINGLE_CONTEXT, eptp), "INVEPT single-context: VMsucceed");
	expect_vmcall(run_guest(), "write after INVEPT");
	check_eq(*(uint64_t *)(host + 8), 0x2222, "the write reached the host page");
	/* Fetch from a non-executable page; then execute-only (cap bit 0). */
	static const uint8_t code[] = { 0xb8, 0x2a, 0, 0, 0, 0xc3 }; /* mov eax, 42; ret */
	memcpy(host + 0x100, code, sizeof(code));
	r = guest_do(G_CALL, va + 0x100, 0);
	expect_violation(r, EPTQUAL_FETCH, EPT_READ | EPT_WRITE, gpa + 0x100, va + 0x100,
			 "fetch from an RW page");
	*e = (*e & ~(uint64_t)EPT_RWX) | EPT_EXEC;
	invept_ok(INVEPT_SINGLE_CONTEXT, eptp);
	expect_vmcall(run_guest(), "fetch from an execute-only page");
	check_eq(g_result, 42, "the guest ran code from the execute-only page");
	r = guest_do(G_READ, va + 0x10, 0);
	expect_violation(r, EPTQUAL_READ, EPT_EXEC, gpa + 0x10, va + 0x10, "read of an X page");
	*e |= EPT_READ;
	invept_ok(INVEPT_SINGLE_CONTEXT, eptp);
	expect_vmcall(run_guest(), "read after granting R");
	/* Not present in the EPT (the guest maps it): the permission bits are 0. */
	map_page(va + PAGE_4K * 7, gpa + PAGE_4K * 7, PTE_P | PTE_W);
	r = guest_do(G_READ, va + PAGE_4K * 7, 0);
	expect_violation(r, EPTQUAL_READ, 0, gpa + PAGE_4K * 7, va + PAGE_4K * 7,
			 "read of an unmapped guest-physical page");
	test_page(7, EPT_READ, 0x7777, NULL);
	expect_vmcall(run_guest(), "read after mapping it");
	check_eq(g_result, 0x7777, "the new mapping is used");
}

/* Table 29-7 bit 8 = 0: a guest page table whose guest-physical page the EPT does not
 * map. The walk's access to its entry exits with bit 7 = 1 (a linear address was being
 * translated) and bit 8 = 0; with EPT A/D flags on it counts as a write (SDM 30.3.5),
 * reported as a read and a write: bits 0 and 1 (SDM 29.2.1, Table 29-7 note 1). */
static void paging_structure(bool ad)
{
	uint64_t va = VA_TEST + 64 * PAGE_2M; /* a 2 MiB region of its own */
	uint64_t pt_gpa = GPA_TEST + 8 * PAGE_4K;
	uint64_t *pt = alloc_page();
	uint8_t *data;
	test_page(9, EPT_RWX, 0x9999, &data);
	pt[0] = (GPA_TEST + 9 * PAGE_4K) | PTE_P | PTE_W;
	*pte_get(va, 2) = pt_gpa | PTE_P | PTE_W; /* the guest's PDE: guest-physical */
	uint32_t r = guest_do(G_READ, va, 0);
	uint64_t q = vmcs_read(VMCS_EXIT_QUALIFICATION);
	check_eq(r, EXIT_REASON_EPT_VIOLATION, "page-table access: EPT violation (48)");
	check_eq(q & 7, ad ? EPTQUAL_READ | EPTQUAL_WRITE : EPTQUAL_READ,
		 "page-table access: bits 2:0 (read and write with EPT A/D, SDM 29.2.1)");
	check_eq((q >> 3) & 7, 0, "page-table access: bits 5:3 = 0 (not present)");
	check_eq(q & (EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED), EPTQUAL_GLA_VALID,
		 "page-table access: bit 7 = 1, bit 8 = 0");
	check_eq(vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), pt_gpa,
		 "page-table access: guest-physical address of the PTE");
	check_eq(vmcs_read(VMCS_GUEST_LINEAR_ADDRESS), va, "page-table access: guest-linear address");
	*ept_entry(pt_gpa, 1) = vmx_pa(pt) | EPT_RWX | EPT_WB;
	expect_vmcall(run_guest(), "read after mapping the page table");
	check_eq(g_result, 0x9999, "the walk used the page table the EPT maps");
	check(pt[0] & PTE_A, "the guest's accessed flag is set in the EPT-mapped table");
}

/* SDM 30.3.3.1: write without read is a misconfiguration: reason 49, the
 * guest-physical address reported. */
static void misconfiguration(void)
{
	uint64_t *e = test_page(2, EPT_WRITE, 0, NULL);
	uint32_t r = guest_do(G_READ, VA_TEST + 2 * PAGE_4K + 0x18, 0);
	check_eq(r, EXIT_REASON_EPT_MISCONFIG, "W-only EPT entry: EPT misconfiguration (49)");
	check_eq(vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS), GPA_TEST + 2 * PAGE_4K + 0x18,
		 "misconfiguration: guest-physical address");
	*e |= EPT_READ;
	invept_ok(INVEPT_ALL_CONTEXT, 0);
	expect_vmcall(run_guest(), "read after fixing the entry");
}

/* SDM 30.3.5: with EPTP bit 6, the processor sets A in the entries it uses and D in
 * the leaf when writing. */
static void accessed_dirty(uint64_t cap)
{
	if (!(cap & BIT(21))) {
		skip("EPT A/D flags", "IA32_VMX_EPT_VPID_CAP[21] = 0");
		return;
	}
	uint64_t *e = test_page(3, EPT_RWX, 0x3333, NULL);
	expect_vmcall(guest_do(G_READ, VA_TEST + 3 * PAGE_4K, 0), "read with EPT A/D");
	check(*e & EPT_ACCESSED, "EPT A/D: read sets the accessed flag");
	check(!(*e & EPT_DIRTY), "EPT A/D: read leaves the dirty flag clear");
	expect_vmcall(guest_do(G_WRITE, VA_TEST + 3 * PAGE_4K, 1), "write with EPT A/D");
	check(*e & EPT_DIRTY, "EPT A/D: write sets the dirty flag");
}

/* SDM 32.3 INVEPT / INVVPID: after them, changed EPT entries and guest page tables
 * are used (what the guest may have seen before is not asserted). */
static void invalidation(bool vpid)
{
	uint8_t *a, *b;
	uint64_t *e = test_page(4, EPT_RWX, 0xaaaa, &a);
	test_page(5, EPT_RWX, 0xbbbb, &b);
	expect_vmcall(guest_do(G_READ, VA_TEST + 4 * PAGE_4K, 0), "read before remapping");
	check_eq(g_result, 0xaaaa, "guest reads page A");
	*e = vmx_pa(b) | EPT_RWX | EPT_WB;
	check(invept_ok(INVEPT_ALL_CONTEXT, 0), "INVEPT all-context: VMsucceed");
	expect_vmcall(guest_do(G_READ, VA_TEST + 4 * PAGE_4K, 0), "read after INVEPT");
	check_eq(g_result, 0xbbbb, "after INVEPT the new EPT mapping is used");
	if (!vpid)
		return;
	/* Back to page A, then change a guest page-table entry: VA 5 to guest-physical
	 * page 4 (SDM 30.4.3.1: INVVPID invalidates the linear and combined mappings). */
	*e = vmx_pa(a) | EPT_RWX | EPT_WB;
	invept_ok(INVEPT_ALL_CONTEXT, 0);
	expect_vmcall(guest_do(G_READ, VA_TEST + 5 * PAGE_4K, 0), "read through VA 5");
	check_eq(g_result, 0xbbbb, "VA 5 maps page B");
	map_page(VA_TEST + 5 * PAGE_4K, GPA_TEST + 4 * PAGE_4K, PTE_P | PTE_W);
	check(invvpid_ok(INVVPID_INDIVIDUAL_ADDRESS, 1, VA_TEST + 5 * PAGE_4K),
	      "INVVPID individual-address: VMsucceed");
	expect_vmcall(guest_do(G_READ, VA_TEST + 5 * PAGE_4K, 0), "read after INVVPID");
	check_eq(g_result, 0xaaaa, "after INVVPID individual-address the new mapping is used");
	map_page(VA_TEST + 5 * PAGE_4K, GPA_TEST + 5 * PAGE_4K, PTE_P | PTE_W);
	check(invvpid_ok(INVVPID_SINGLE_CONTEXT, 1, 0), "INVVPID single-context: VMsucceed");
	expect_vmcall(guest_do(G_READ, VA_TEST + 5 * PAGE_4K, 0), "read after INVVPID 1");
	check_eq(g_result, 0xbbbb, "after INVVPID single-context the new mapping is used");
	check(invvpid_ok(INVVPID_ALL_CONTEXT, 0, 0), "INVVPID all-context: VMsucceed");
	check(invvpid_ok(INVVPID_SINGLE_CONTEXT_RETAINING_GLOBALS, 1, 0),
	      "INVVPID single-context-retaining-globals: VMsucceed");
}

int main(void)
{
	struct cpuid c = cpuid(1, 0);
	if (!(c.c & BIT(5))) {
		skip("vmx_ept", "no VMX (CPUID.1:ECX[5])");
		return 0;
	}
	uint64_t proc2_cap = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2) >> 32;
	if (!(rdmsr(MSR_IA32_VMX_PROCBASED_CTLS) & BIT(63)) || !(proc2_cap & PROC2_ENABLE_EPT)) {
		skip("vmx_ept", "no EPT");
		return 0;
	}
	uint64_t cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	check(cap & BIT(0), "IA32_VMX_EPT_VPID_CAP[0]: execute-only EPT pages");
	uint32_t *vmxon_region = vmx_region(), *vmcs = vmx_region();
	vmx_prepare();
	if (vmxon(vmx_pa(vmxon_region)) != VMX_OK) {
		check(false, "VMXON");
		return 0;
	}
	ept_pml4 = alloc_page();
	bool ad = cap & BIT(21);
	eptp = vmx_pa(ept_pml4) | EPTP_MEMTYPE_WB | 3ull << EPTP_WALK_LENGTH_SHIFT |
	       (ad ? EPTP_AD_ENABLE : 0);
	ept_identity(cap);
	bool vpid = proc2_cap & PROC2_ENABLE_VPID;
	check(vmclear(vmx_pa(vmcs)) == VMX_OK && vmptrld(vmx_pa(vmcs)) == VMX_OK, "VMCLEAR, VMPTRLD");
	setup_vmcs(PROC2_ENABLE_EPT | (vpid ? PROC2_ENABLE_VPID : 0), vpid ? 1 : 0,
		   alloc_pages(4));
	permissions();
	paging_structure(ad);
	misconfiguration();
	accessed_dirty(cap);
	invalidation(vpid);
	return 0;
}
