/*
 * vmx_intercept - a hypervisor kernel whose guest executes the instructions that cause
 * VM exits in VMX non-root operation (SDM 27.1.2, 27.1.3), one after the other; for
 * each exit the hypervisor checks the exit reason (App. C), the exit qualification
 * (SDM 29.2.1), the VM-exit instruction length (SDM 29.2.5), the instruction
 * information (SDM 29.2.x "instruction-information field") and the guest RIP (SDM
 * 29.3.3: fault-like exits at the instruction, TPR below threshold after it), then
 * skips the instruction and resumes. What the guest saw without exiting (CR0/CR4 read
 * shadows, the virtual TPR: SDM 27.3) it leaves in memory for the hypervisor to check.
 *
 * Everything about the processor comes from CPUID and the IA32_VMX_* MSRs (App. A),
 * so the image runs bare on the silicon (--level 0) and on L0's VMX.
 */
#include "vmx_lib.h"

/* Instruction-information fields (SDM 29.2.x). */
#define I_ASZ64 (2u << 7)
#define I_REGFORM BIT(10)
#define I_SEG(s) ((uint32_t)(s) << 15)
#define I_NOIDX BIT(22)
#define I_NOBASE BIT(27)
#define I_BASE(r) ((uint32_t)(r) << 23)
#define I_REG1(r) ((uint32_t)(r) << 3)
#define I_REG2(r) ((uint32_t)(r) << 28)
enum { R_AX, R_CX, R_DX, R_BX, R_SP, R_BP, R_SI, R_DI };
enum { S_ES, S_CS, S_SS, S_DS };

/* Results the guest stores (SDM 27.3 behaviour without exits). */
uint64_t res_cr0, res_cr4, res_cr8;
uint8_t res_buf[64] __attribute__((aligned(16)));

/* The guest: every exiting instruction has a label; the hypervisor skips it by the
 * reported length. "prep" instructions do not exit. */
extern char g_start[], g_cpuid[], g_pause[], g_hlt[], g_invlpg[], g_rdtsc[], g_rdtscp[],
	g_rdpmc[], g_cr3_from[], g_cr3_to[], g_cr0_to[], g_dr7_to[], g_dr6_from[], g_in[],
	g_outs[], g_rdmsr[], g_wrmsr[], g_wbinvd[], g_invpcid[], g_lgdt[], g_sidt[], g_sldt[],
	g_ltr[], g_vmcall[], g_vmptrst[], g_vmread[], g_vmwrite[], g_vmclear[], g_vmlaunch[],
	g_invept[], g_cr8_to[], g_cr8_after[], g_end[];
__asm__(".text\n"
	"g_start:\n"
	"g_cpuid: cpuid\n"
	"g_pause: pause\n"
	"g_hlt: hlt\n"
	"	movabs $0x12345000, %rax\n"
	"g_invlpg: invlpg 0x10(%rax)\n"
	"g_rdtsc: rdtsc\n"
	"g_rdtscp: rdtscp\n"
	"	xor %ecx, %ecx\n"
	"g_rdpmc: rdpmc\n"
	"g_cr3_from: mov %cr3, %rsi\n"
	"	mov $0x5000, %ebx\n"
	"g_cr3_to: mov %rbx, %cr3\n"
	"	mov %cr4, %rdx\n"
	"	mov %rdx, res_cr4(%rip)\n"
	"	mov %cr0, %rax\n"
	"	mov %rax, res_cr0(%rip)\n"
	"	and $~8, %rax\n"
	"g_cr0_to: mov %rax, %cr0\n"
	"g_dr7_to: mov %rax, %dr7\n"
	"g_dr6_from: mov %dr6, %rcx\n"
	"g_in: in $0x80, %al\n"
	"	mov $0x80, %edx\n"
	"	lea res_buf(%rip), %rsi\n"
	"	mov $4, %ecx\n"
	"g_outs: rep outsb\n"
	"	mov $0xc0000080, %ecx\n"
	"g_rdmsr: rdmsr\n"
	"	mov $0x10, %ecx\n"
	"g_wrmsr: wrmsr\n"
	"g_wbinvd: wbinvd\n"
	"	lea res_buf(%rip), %rax\n"
	"	mov $1, %ecx\n"
	"g_invpcid: invpcid (%rax), %rcx\n"
	"g_lgdt: lgdt 8(%rax)\n"
	"g_sidt: sidt -0x10(%rax)\n"
	"g_sldt: sldt %ecx\n"
	"g_ltr: ltr 0x10(%rbx)\n"
	"g_vmcall: vmcall\n"
	"g_vmptrst: vmptrst 0x10(%rsp)\n"
	"g_vmread: vmread %rdx, %rcx\n"
	"g_vmwrite: vmwrite res_buf(%rip), %rdx\n"
	"g_vmclear: vmclear (%rax)\n"
	"g_vmlaunch: vmlaunch\n"
	"g_invept: invept (%rax), %rcx\n"
	"	mov $1, %eax\n"
	"g_cr8_to: mov %rax, %cr8\n"
	"g_cr8_after: mov %cr8, %rdx\n"
	"	mov %rdx, res_cr8(%rip)\n"
	"g_end: hlt\n");

/* --- VMX operation and the VMCS ----------------------------------------------------- */

/* Into VMX operation with a current VMCS, each step a check (SDM 32.3). */
static bool vmx_step(const char *what, int outcome)
{
	check(outcome == VMX_OK, what);
	return outcome == VMX_OK;
}

static bool enter_vmx(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_intercept", "CPUID.1:ECX.VMX = 0");
		return false;
	}
	vmx_prepare();
	uint32_t *vmcs = vmx_region();
	return vmx_step("VMXON", vmxon(vmx_pa(vmx_region()))) &&
	       vmx_step("VMCLEAR", vmclear(vmx_pa(vmcs))) &&
	       vmx_step("VMPTRLD", vmptrld(vmx_pa(vmcs)));
}

/* The exiting controls under test. */
static bool setup_controls(void)
{
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t want = PROC_HLT_EXITING | PROC_INVLPG_EXITING | PROC_RDPMC_EXITING |
			PROC_RDTSC_EXITING | PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING |
			PROC_MOV_DR_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS |
			PROC_PAUSE_EXITING | PROC_TPR_SHADOW | PROC_SECONDARY_CONTROLS;
	uint32_t want2 = PROC2_DESC_TABLE_EXITING | PROC2_ENABLE_RDTSCP |
			 PROC2_WBINVD_EXITING | PROC2_ENABLE_INVPCID;
	if (!vmx_ctl_needed(MSR_IA32_VMX_PINBASED_CTLS, 0, &pin, "pin") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, want, &proc, "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS2, want2, &proc2, "secondary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE, &exit, "exit") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_ENTRY_CTLS, ENTRY_IA32E_MODE, &entry, "entry"))
		return false;
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, exit);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, entry);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	/* CR0.TS and CR4.VMXE owned by the hypervisor: the guest reads TS = 1 and
	 * VMXE = 0 (SDM 27.3). */
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmcs_write(VMCS_CR0_READ_SHADOW, CR0_TS);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmcs_write(VMCS_CR4_READ_SHADOW, 0);
	/* I/O bitmaps: port 80H only; MSR bitmaps: read EFER, write 10H (TSC). */
	uint8_t *io = alloc_pages(2), *msr = alloc_page(), *vapic = alloc_page();
	memset(io, 0, 8192);
	memset(msr, 0, 4096);
	memset(vapic, 0, 4096);
	io[0x80 >> 3] |= 1 << (0x80 & 7);
	msr[1024 + (0x80 >> 3)] |= 1 << (0x80 & 7);
	msr[2048 + (0x10 >> 3)] |= 1 << (0x10 & 7);
	vapic[0x80] = 0x20; /* VTPR 2 >= threshold 2 at entry (SDM 28.2.1.1) */
	vmcs_write(VMCS_IO_BITMAP_A, (uint64_t)(uintptr_t)io);
	vmcs_write(VMCS_IO_BITMAP_B, (uint64_t)(uintptr_t)io + 4096);
	vmcs_write(VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)msr);
	vmcs_write(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uint64_t)(uintptr_t)vapic);
	vmcs_write(VMCS_TPR_THRESHOLD, 2);
	return true;
}

/* --- the expected exits, in guest order ---------------------------------------------- */

#define ANY_INFO 0xffffffffu
struct expect {
	const char *name;
	const char *at;      /* the instruction (the guest RIP saved at the exit) */
	uint32_t reason;
	uint64_t qual;
	uint32_t len;        /* 0: not reported (trap-like exit) */
	uint32_t info;       /* ANY_INFO: undefined for this exit, not checked */
	const char *rip;     /* trap-like: the RIP saved; NULL = at */
};

static const struct expect *expected(size_t *n)
{
	static struct expect e[] = {
		/* SDM 27.1.2 unconditional, then 27.1.3 by control. */
		{ "CPUID", g_cpuid, EXIT_REASON_CPUID, 0, 2, ANY_INFO, 0 },
		{ "PAUSE", g_pause, EXIT_REASON_PAUSE_INSTRUCTION, 0, 2, ANY_INFO, 0 },
		{ "HLT", g_hlt, EXIT_REASON_HLT, 0, 1, ANY_INFO, 0 },
		{ "INVLPG 10h(rax)", g_invlpg, EXIT_REASON_INVLPG, 0x12345010, 4, ANY_INFO, 0 },
		{ "RDTSC", g_rdtsc, EXIT_REASON_RDTSC, 0, 2, ANY_INFO, 0 },
		{ "RDTSCP", g_rdtscp, EXIT_REASON_RDTSCP, 0, 3, ANY_INFO, 0 },
		{ "RDPMC", g_rdpmc, EXIT_REASON_RDPMC, 0, 2, ANY_INFO, 0 },
		/* Table 29-3: CR 3:0, type 5:4, GPR 11:8. */
		{ "MOV RSI, CR3", g_cr3_from, EXIT_REASON_CR_ACCESS, 3 | 1 << 4 | R_SI << 8, 3,
		  ANY_INFO, 0 },
		{ "MOV CR3, RBX", g_cr3_to, EXIT_REASON_CR_ACCESS, 3 | R_BX << 8, 3, ANY_INFO, 0 },
		{ "MOV CR0, RAX (TS vs shadow)", g_cr0_to, EXIT_REASON_CR_ACCESS, 0, 3, ANY_INFO, 0 },
		/* Table 29-4: DR 2:0, direction 4, GPR 11:8. */
		{ "MOV DR7, RAX", g_dr7_to, EXIT_REASON_DR_ACCESS, 7, 3, ANY_INFO, 0 },
		{ "MOV RCX, DR6", g_dr6_from, EXIT_REASON_DR_ACCESS, 6 | 1 << 4 | R_CX << 8, 3,
		  ANY_INFO, 0 },
		/* Table 29-5: size-1 2:0, IN 3, string 4, REP 5, immediate 6, port 31:16. */
		{ "IN AL, 80h", g_in, EXIT_REASON_IO_INSTRUCTION, 1 << 3 | 1 << 6 | 0x80 << 16, 2,
		  ANY_INFO, 0 },
		{ "REP OUTSB", g_outs, EXIT_REASON_IO_INSTRUCTION, 1 << 4 | 1 << 5 | 0x80 << 16, 2,
		  I_ASZ64 | I_SEG(S_DS), 0 },
		{ "RDMSR EFER", g_rdmsr, EXIT_REASON_MSR_READ, 0, 2, ANY_INFO, 0 },
		{ "WRMSR TSC", g_wrmsr, EXIT_REASON_MSR_WRITE, 0, 2, ANY_INFO, 0 },
		{ "WBINVD", g_wbinvd, EXIT_REASON_WBINVD, 0, 2, ANY_INFO, 0 },
		/* Displacement qualification and memory-operand information. */
		{ "INVPCID RCX, (RAX)", g_invpcid, EXIT_REASON_INVPCID, 0, 5,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX) | I_REG2(R_CX), 0 },
		{ "LGDT 8(RAX)", g_lgdt, EXIT_REASON_GDTR_IDTR, 8, 4,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX) | 2u << 28, 0 },
		{ "SIDT -10h(RAX)", g_sidt, EXIT_REASON_GDTR_IDTR, (uint64_t)-0x10, 4,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX) | 1u << 28, 0 },
		{ "SLDT ECX", g_sldt, EXIT_REASON_LDTR_TR, 0, 3, I_REGFORM | I_REG1(R_CX), 0 },
		{ "LTR 10h(RBX)", g_ltr, EXIT_REASON_LDTR_TR, 0x10, 4,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_BX) | 3u << 28, 0 },
		{ "VMCALL", g_vmcall, EXIT_REASON_VMCALL, 0, 3, ANY_INFO, 0 },
		{ "VMPTRST 10h(RSP)", g_vmptrst, EXIT_REASON_VMPTRST, 0x10, 5,
		  I_ASZ64 | I_SEG(S_SS) | I_NOIDX | I_BASE(R_SP), 0 },
		{ "VMREAD RCX, RDX", g_vmread, EXIT_REASON_VMREAD, 0, 3,
		  I_REGFORM | I_REG1(R_CX) | I_REG2(R_DX), 0 },
		/* RIP-relative: qualification = displacement + next RIP = the address. */
		{ "VMWRITE RDX, res_buf(RIP)", g_vmwrite, EXIT_REASON_VMWRITE, 0, 7,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_NOBASE | I_REG2(R_DX), 0 },
		{ "VMCLEAR (RAX)", g_vmclear, EXIT_REASON_VMCLEAR, 0, 4,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX), 0 },
		{ "VMLAUNCH", g_vmlaunch, EXIT_REASON_VMLAUNCH, 0, 3, ANY_INFO, 0 },
		{ "INVEPT RCX, (RAX)", g_invept, EXIT_REASON_INVEPT, 0, 5,
		  I_ASZ64 | I_SEG(S_DS) | I_NOIDX | I_BASE(R_AX) | I_REG2(R_CX), 0 },
		/* Trap-like: after MOV CR8 left VTPR (10H) below the threshold (2). */
		{ "MOV CR8 below TPR threshold", g_cr8_to, EXIT_REASON_TPR_BELOW_THRESHOLD, 0, 0,
		  ANY_INFO, g_cr8_after },
		{ "HLT (end)", g_end, EXIT_REASON_HLT, 0, 1, ANY_INFO, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		if (e[i].at == g_vmwrite)
			e[i].qual = (uint64_t)(uintptr_t)res_buf;
	*n = ARRAY_SIZE(e);
	return e;
}

static bool check_exit(const struct expect *e)
{
	uint64_t reason = vmcs_read(VMCS_VM_EXIT_REASON);
	uint64_t rip = vmcs_read(VMCS_GUEST_RIP);
	const char *want_rip = e->rip ? e->rip : e->at;
	if (reason != e->reason) {
		checkf(false, "%s: exit reason %lu (expected %u), guest RIP %lx (expected %lx)",
		       e->name, reason, e->reason, rip, (uint64_t)(uintptr_t)want_rip);
		return false;
	}
	check_eqf(rip, (uint64_t)(uintptr_t)want_rip, "%s: reason %u, guest RIP", e->name,
		  e->reason);
	check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), e->qual, "%s: exit qualification", e->name);
	if (e->len)
		check_eqf(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), e->len, "%s: instruction length",
			  e->name);
	/* LGDT/LIDT/SGDT/SIDT bit 11 (operand size) is undefined in 64-bit mode. */
	uint64_t undefined = e->reason == EXIT_REASON_GDTR_IDTR ? BIT(11) : 0;
	if (e->info != ANY_INFO)
		check_eqf(vmcs_read(VMCS_VMX_INSTRUCTION_INFO) & ~undefined, e->info,
			  "%s: instruction information", e->name);
	if (e->at == g_outs)
		check_eqf(vmcs_read(VMCS_GUEST_LINEAR_ADDRESS), (uint64_t)(uintptr_t)res_buf,
			  "%s: guest-linear address", e->name);
	return true;
}

static void run_guest(void)
{
	size_t n;
	const struct expect *e = expected(&n);
	int r = vmx_guest_run(VMX_LAUNCH);
	for (size_t i = 0; i < n; i++) {
		if (r != 0) {
			checkf(false, "VM entry before %s: VMfail (%d), error %lu", e[i].name, r,
			       vmcs_read(VMCS_VM_INSTRUCTION_ERROR));
			return;
		}
		if (!check_exit(&e[i]))
			return;
		if (e[i].len)
			vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + e[i].len);
		else
			vmcs_write(VMCS_TPR_THRESHOLD, 0); /* else VM entry fails (SDM 28.2.1.1) */
		if (i + 1 < n)
			r = vmx_guest_run(VMX_RESUME);
	}
	/* SDM 27.3: what the guest read without exiting. */
	check_eq(res_cr0 & CR0_TS, CR0_TS, "MOV from CR0: TS from the read shadow");
	check_eq(res_cr4 & CR4_VMXE, 0, "MOV from CR4: VMXE from the read shadow");
	check_eq(res_cr8, 1, "MOV from CR8: the virtual TPR written by MOV to CR8");
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the exits");
}

int main(void)
{
	if (!enter_vmx())
		return 0;
	/* This kernel's own 64-bit world as host and guest, the guest at g_start. */
	vmx_write_host_state();
	vmx_write_guest_state((uint64_t)(uintptr_t)g_start, vmx_pa(alloc_page()) + 4096);
	if (!setup_controls())
		return 0;
	run_guest();
	return 0;
}
