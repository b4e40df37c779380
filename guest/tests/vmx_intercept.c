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
#include "cpu/vmx/vmx_arch.h"
#include "rt.h"

#define MSR_IA32_FEATURE_CONTROL 0x3a

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

/* Enter the guest (VMLAUNCH if !resume, else VMRESUME) and come back at the next VM
 * exit (0), or fail (1 VMfailInvalid, 2 VMfailValid). Callee-saved registers and
 * RFLAGS are kept on the host stack, whose pointer becomes HOST_RSP; the exit lands
 * on vmx_exit_stub (HOST_RIP), which restores them (SDM 29.5: RFLAGS is cleared and
 * only RSP/RIP come from the host-state area). */
int vmx_run(int resume);
void vmx_exit_stub(void);
__asm__(".text\n"
	".globl vmx_run\n"
	"vmx_run:\n"
	"	pushfq\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov $0x6c14, %eax\n" /* HOST_RSP */
	"	vmwrite %rsp, %rax\n"
	"	test %edi, %edi\n"
	"	jnz 1f\n"
	"	vmlaunch\n"
	"	jmp 2f\n"
	"1:	vmresume\n"
	"2:	mov $1, %eax\n"
	"	jc 3f\n"
	"	mov $2, %eax\n"
	"3:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	ret\n"
	".globl vmx_exit_stub\n"
	"vmx_exit_stub:\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	xor %eax, %eax\n"
	"	ret\n");

static uint64_t vmread(uint64_t enc)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(enc) : "cc");
	return v;
}

static void vmwrite(uint64_t enc, uint64_t v)
{
	__asm__ volatile("vmwrite %1, %0" : : "r"(enc), "r"(v) : "cc", "memory");
}

static bool vmx_insn_ok(const char *what, uint64_t pa, int op)
{
	uint64_t f;
	if (op == 0)
		__asm__ volatile("vmxon %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
	else if (op == 1)
		__asm__ volatile("vmclear %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
	else
		__asm__ volatile("vmptrld %1; pushfq; popq %0" : "=r"(f) : "m"(pa) : "cc", "memory");
	check(!(f & (FL_CF | FL_ZF)), what);
	return !(f & (FL_CF | FL_ZF));
}

/* --- controls (App. A.3-A.5): must-be-1 bits from the low half, allowed-1 high ---- */

static uint64_t basic;

static uint32_t ctls_msr(uint32_t msr, uint32_t true_msr)
{
	return (basic & BIT(55)) ? true_msr : msr;
}

/* The control value with the wanted bits, or false if one is not allowed. */
static bool adjust(uint32_t msr, uint32_t want, uint32_t *out, const char *name)
{
	uint64_t cap = rdmsr(msr);
	uint32_t must1 = (uint32_t)cap, may1 = (uint32_t)(cap >> 32);
	if (want & ~may1) {
		skipf("control not supported", "%s: bits 0x%x", name, want & ~may1);
		return false;
	}
	*out = want | must1;
	return true;
}

/* --- VMX operation and the VMCS ----------------------------------------------------- */

static bool enter_vmx(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_intercept", "CPUID.1:ECX.VMX = 0");
		return false;
	}
	basic = rdmsr(MSR_IA32_VMX_BASIC);
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1));
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	uint32_t *vmxon = alloc_page(), *vmcs = alloc_page();
	memset(vmxon, 0, 4096);
	memset(vmcs, 0, 4096);
	vmxon[0] = vmcs[0] = (uint32_t)basic & 0x7fffffff;
	return vmx_insn_ok("VMXON", (uint64_t)(uintptr_t)vmxon, 0) &&
	       vmx_insn_ok("VMCLEAR", (uint64_t)(uintptr_t)vmcs, 1) &&
	       vmx_insn_ok("VMPTRLD", (uint64_t)(uintptr_t)vmcs, 2);
}

struct dtr { uint16_t limit; uint64_t base; } __attribute__((packed));

static uint16_t sel_of(int n)
{
	uint16_t v = 0;
	switch (n) {
	case S_ES: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case S_SS: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case S_DS: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case 4: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	case 5: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	}
	return v;
}

/* Host state: this kernel as it runs now (SDM 28.2.3 checks). */
static void setup_host(void)
{
	struct dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	vmwrite(VMCS_HOST_CR0, read_cr0());
	vmwrite(VMCS_HOST_CR3, read_cr3());
	vmwrite(VMCS_HOST_CR4, read_cr4());
	for (int s = 0; s < 6; s++)
		vmwrite(VMCS_HOST_ES_SELECTOR + 2 * s, sel_of(s) & 0xf8);
	vmwrite(VMCS_HOST_TR_SELECTOR, str());
	vmwrite(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)&tss);
	vmwrite(VMCS_HOST_GDTR_BASE, g.base);
	vmwrite(VMCS_HOST_IDTR_BASE, i.base);
	vmwrite(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmwrite(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmwrite(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmwrite(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_stub);
}

static void guest_seg(int s, uint16_t sel, uint32_t ar, uint32_t limit, uint64_t base)
{
	vmwrite(VMCS_GUEST_ES_SELECTOR + 2 * s, sel);
	vmwrite(VMCS_GUEST_ES_AR_BYTES + 2 * s, sel ? ar : 0x10000); /* null: unusable */
	vmwrite(VMCS_GUEST_ES_LIMIT + 2 * s, limit);
	vmwrite(VMCS_GUEST_ES_BASE + 2 * s, base);
}

/* Guest state: the same flat 64-bit world at CPL 0 (SDM 28.3.1 checks), on its own
 * stack, starting at g_start with interrupts off. */
static void setup_guest(void)
{
	struct dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	vmwrite(VMCS_GUEST_CR0, read_cr0());
	vmwrite(VMCS_GUEST_CR3, read_cr3());
	vmwrite(VMCS_GUEST_CR4, read_cr4());
	vmwrite(VMCS_GUEST_DR7, 0x400);
	guest_seg(S_CS, sel_of(S_CS), 0xa09b, 0xffffffff, 0); /* 64-bit code, P, S, ER-A */
	for (int s = 0; s < 6; s++)
		if (s != S_CS)
			guest_seg(s, sel_of(s), 0xc093, 0xffffffff, 0); /* flat RW-A data */
	vmwrite(VMCS_GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmwrite(VMCS_GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmwrite(VMCS_GUEST_LDTR_AR_BYTES, 0x10000);
	uint64_t d = gdt[SEL_TSS >> 3];
	vmwrite(VMCS_GUEST_TR_SELECTOR, SEL_TSS);
	vmwrite(VMCS_GUEST_TR_AR_BYTES, 0x8b); /* busy 64-bit TSS, P */
	vmwrite(VMCS_GUEST_TR_LIMIT, (d & 0xffff) | ((d >> 32) & 0xf0000));
	vmwrite(VMCS_GUEST_TR_BASE, (uint64_t)(uintptr_t)&tss);
	vmwrite(VMCS_GUEST_GDTR_BASE, g.base);
	vmwrite(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmwrite(VMCS_GUEST_IDTR_BASE, i.base);
	vmwrite(VMCS_GUEST_IDTR_LIMIT, i.limit);
	vmwrite(VMCS_GUEST_RSP, (uint64_t)(uintptr_t)alloc_page() + 4096);
	vmwrite(VMCS_GUEST_RIP, (uint64_t)(uintptr_t)g_start);
	vmwrite(VMCS_GUEST_RFLAGS, 2);
	vmwrite(VMCS_VMCS_LINK_POINTER, ~0ull);
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
	if (!adjust(ctls_msr(MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS), 0,
		    &pin, "pin") ||
	    !adjust(ctls_msr(MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS), want,
		    &proc, "primary") ||
	    !adjust(MSR_IA32_VMX_PROCBASED_CTLS2, want2, &proc2, "secondary") ||
	    !adjust(ctls_msr(MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS),
		    EXIT_HOST_ADDR_SPACE_SIZE, &exit, "exit") ||
	    !adjust(ctls_msr(MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS),
		    ENTRY_IA32E_MODE, &entry, "entry"))
		return false;
	vmwrite(VMCS_PIN_BASED_VM_EXEC_CONTROL, pin);
	vmwrite(VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
	vmwrite(VMCS_SECONDARY_VM_EXEC_CONTROL, proc2);
	vmwrite(VMCS_VM_EXIT_CONTROLS, exit);
	vmwrite(VMCS_VM_ENTRY_CONTROLS, entry);
	vmwrite(VMCS_CR3_TARGET_COUNT, 0);
	/* CR0.TS and CR4.VMXE owned by the hypervisor: the guest reads TS = 1 and
	 * VMXE = 0 (SDM 27.3). */
	vmwrite(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vmwrite(VMCS_CR0_READ_SHADOW, CR0_TS);
	vmwrite(VMCS_CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmwrite(VMCS_CR4_READ_SHADOW, 0);
	/* I/O bitmaps: port 80H only; MSR bitmaps: read EFER, write 10H (TSC). */
	uint8_t *io = alloc_pages(2), *msr = alloc_page(), *vapic = alloc_page();
	memset(io, 0, 8192);
	memset(msr, 0, 4096);
	memset(vapic, 0, 4096);
	io[0x80 >> 3] |= 1 << (0x80 & 7);
	msr[1024 + (0x80 >> 3)] |= 1 << (0x80 & 7);
	msr[2048 + (0x10 >> 3)] |= 1 << (0x10 & 7);
	vapic[0x80] = 0x20; /* VTPR 2 >= threshold 2 at entry (SDM 28.2.1.1) */
	vmwrite(VMCS_IO_BITMAP_A, (uint64_t)(uintptr_t)io);
	vmwrite(VMCS_IO_BITMAP_B, (uint64_t)(uintptr_t)io + 4096);
	vmwrite(VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)msr);
	vmwrite(VMCS_VIRTUAL_APIC_PAGE_ADDR, (uint64_t)(uintptr_t)vapic);
	vmwrite(VMCS_TPR_THRESHOLD, 2);
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
	uint64_t reason = vmread(VMCS_VM_EXIT_REASON);
	uint64_t rip = vmread(VMCS_GUEST_RIP);
	const char *want_rip = e->rip ? e->rip : e->at;
	if (reason != e->reason) {
		checkf(false, "%s: exit reason %lu (expected %u), guest RIP %lx (expected %lx)",
		       e->name, reason, e->reason, rip, (uint64_t)(uintptr_t)want_rip);
		return false;
	}
	check_eqf(rip, (uint64_t)(uintptr_t)want_rip, "%s: reason %u, guest RIP", e->name,
		  e->reason);
	check_eqf(vmread(VMCS_EXIT_QUALIFICATION), e->qual, "%s: exit qualification", e->name);
	if (e->len)
		check_eqf(vmread(VMCS_VM_EXIT_INSTRUCTION_LEN), e->len, "%s: instruction length",
			  e->name);
	/* LGDT/LIDT/SGDT/SIDT bit 11 (operand size) is undefined in 64-bit mode. */
	uint64_t undefined = e->reason == EXIT_REASON_GDTR_IDTR ? BIT(11) : 0;
	if (e->info != ANY_INFO)
		check_eqf(vmread(VMCS_VMX_INSTRUCTION_INFO) & ~undefined, e->info,
			  "%s: instruction information", e->name);
	if (e->at == g_outs)
		check_eqf(vmread(VMCS_GUEST_LINEAR_ADDRESS), (uint64_t)(uintptr_t)res_buf,
			  "%s: guest-linear address", e->name);
	return true;
}

static void run_guest(void)
{
	size_t n;
	const struct expect *e = expected(&n);
	int r = vmx_run(0);
	for (size_t i = 0; i < n; i++) {
		if (r != 0) {
			checkf(false, "VM entry before %s: VMfail (%d), error %lu", e[i].name, r,
			       vmread(VMCS_VM_INSTRUCTION_ERROR));
			return;
		}
		if (!check_exit(&e[i]))
			return;
		if (e[i].len)
			vmwrite(VMCS_GUEST_RIP, vmread(VMCS_GUEST_RIP) + e[i].len);
		else
			vmwrite(VMCS_TPR_THRESHOLD, 0); /* else VM entry fails (SDM 28.2.1.1) */
		if (i + 1 < n)
			r = vmx_run(1);
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
	setup_host();
	setup_guest();
	if (!setup_controls())
		return 0;
	run_guest();
	return 0;
}
