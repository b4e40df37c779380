/*
 * vmx_lib.h - what a VMX conformance kernel (guest_vmx_kernel() in kernels.cmake)
 * needs to act as a hypervisor, learning everything from CPUID and the IA32_VMX_*
 * capability MSRs (no backdoor), so that a kernel gives the same results bare on the
 * silicon and on L0's emulation of VMX:
 *   - the VMX instructions as inline functions that return their SDM 32.2 outcome;
 *   - entering VMX operation with a current VMCS (vmx_prepare, vmx_enter; with the
 *     baseline controls of a 64-bit guest, vmx_enter_baseline);
 *   - checked VMCS access (vmcs_read, vmcs_write) and controls from the capability
 *     MSRs (vmx_ctl_cap, vmx_ctl_with, vmx_ctl_needed);
 *   - this kernel's own flat 64-bit world as host and guest state
 *     (vmx_write_host_state, vmx_write_guest_state; with the controls, a VMCS that
 *     VM entry accepts: vmx_reset_vmcs), and vmx_guest_run(), which enters the guest
 *     and returns at its next VM exit;
 *   - building EPT paging structures (vmx_ept_entry).
 * Header-only, one kernel per image (it defines vmx_guest_run in assembly).
 */
#ifndef GUEST_TESTS_VMX_LIB_H
#define GUEST_TESTS_VMX_LIB_H

#include "cpu/vmx/vmx_arch.h"
#include "rt.h"

#define MSR_IA32_FEATURE_CONTROL 0x3a /* SDM Vol.4 Table 2-2; bits in vmx_arch.h */

/* SDM 32.2: VMsucceed clears CF PF AF ZF SF OF; VMfailInvalid sets CF only;
 * VMfailValid sets ZF only. */
enum vmx_outcome { VMX_OK = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2, VMX_BAD_FLAGS = 3 };

static inline const char *vmx_outcome_name(int o)
{
	static const char *const names[] = { "VMsucceed", "VMfailInvalid", "VMfailValid",
					     "bad flags" };
	return names[o & 3];
}

static inline int vmx_outcome_of(uint64_t rflags)
{
	uint64_t f = rflags & FL_ARITH;
	return f == 0 ? VMX_OK : f == FL_CF ? VMX_FAIL_INVALID : f == FL_ZF ? VMX_FAIL_VALID
									       : VMX_BAD_FLAGS;
}

/* Each wrapper sets all six arithmetic flags first, so that a VMsucceed is visible. */
#define VMX_SET_ARITH "pushfq; orq $0x8d5, (%%rsp); popfq\n\t"
#define VMX_GET_FLAGS "\n\tpushfq; popq %[f]"

/* VMXON, VMCLEAR, VMPTRLD: one m64 operand, the region's physical address. */
#define VMX_M64_INSN(insn)                                                              \
	static inline int insn(uint64_t pa)                                             \
	{                                                                               \
		uint64_t f;                                                             \
		__asm__ volatile(VMX_SET_ARITH #insn " %[pa]" VMX_GET_FLAGS             \
				 : [f] "=r"(f) : [pa] "m"(pa) : "cc", "memory");        \
		return vmx_outcome_of(f);                                               \
	}
VMX_M64_INSN(vmxon)
VMX_M64_INSN(vmclear)
VMX_M64_INSN(vmptrld)
#undef VMX_M64_INSN

static inline int vmxoff(void)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmxoff" VMX_GET_FLAGS : [f] "=r"(f) : : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline uint64_t vmptrst(void)
{
	uint64_t pa = 0x1111;
	__asm__ volatile("vmptrst %[pa]" : [pa] "=m"(pa) : : "cc", "memory");
	return pa;
}

/* VMREAD to a register; *value keeps 0x5a.. if the instruction fails. */
static inline int vmread(uint64_t enc, uint64_t *value)
{
	uint64_t f, v = 0x5a5a5a5a5a5a5a5aull;
	__asm__ volatile(VMX_SET_ARITH "vmread %[enc], %[v]" VMX_GET_FLAGS
			 : [f] "=r"(f), [v] "+r"(v) : [enc] "r"(enc) : "cc");
	*value = v;
	return vmx_outcome_of(f);
}

/* VMREAD to a memory destination. */
static inline int vmread_mem(uint64_t enc, uint64_t *dst)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmread %[enc], %[d]" VMX_GET_FLAGS
			 : [f] "=r"(f), [d] "=m"(*dst) : [enc] "r"(enc) : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int vmwrite(uint64_t enc, uint64_t value)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmwrite %[v], %[enc]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [enc] "r"(enc), [v] "r"(value) : "cc", "memory");
	return vmx_outcome_of(f);
}

/* VMWRITE from a memory source. */
static inline int vmwrite_mem(uint64_t enc, const uint64_t *src)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmwrite %[s], %[enc]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [enc] "r"(enc), [s] "m"(*src) : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int vmcall(void)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmcall" VMX_GET_FLAGS : [f] "=r"(f) : : "cc", "memory");
	return vmx_outcome_of(f);
}

struct inv_desc {
	uint64_t lo, hi;
};

/* INVEPT, INVVPID: the type in a register, the 128-bit descriptor in memory. */
#define VMX_INV_INSN(insn)                                                              \
	static inline int insn(uint64_t type, const struct inv_desc *d)                 \
	{                                                                               \
		uint64_t f;                                                             \
		__asm__ volatile(VMX_SET_ARITH #insn " %[d], %[t]" VMX_GET_FLAGS        \
				 : [f] "=r"(f) : [t] "r"(type), [d] "m"(*d) : "cc", "memory"); \
		return vmx_outcome_of(f);                                               \
	}
VMX_INV_INSN(invept)
VMX_INV_INSN(invvpid)
#undef VMX_INV_INSN

/* The VM-instruction error field (SDM 32.4) of the current VMCS. */
static inline uint64_t vmx_insn_error(void)
{
	uint64_t e = ~0ull;
	vmread(VMCS_VM_INSTRUCTION_ERROR, &e);
	return e;
}

/* A 4-KByte VMXON or VMCS region with the revision identifier of IA32_VMX_BASIC
 * written as software must (SDM 26.2); identity-mapped, so its address is physical. */
static inline uint32_t *vmx_region(void)
{
	uint32_t *p = alloc_page();
	p[0] = (uint32_t)rdmsr(MSR_IA32_VMX_BASIC) & 0x7fffffff;
	return p;
}

static inline uint64_t vmx_pa(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* Get ready for VMXON (SDM 25.7, 32.3 VMXON): CPUID.1:ECX.VMX, CR0 and CR4 within
 * IA32_VMX_CR0/CR4_FIXED0/1 with CR4.VMXE, IA32_FEATURE_CONTROL locked with VMX
 * enabled outside SMX (set here if firmware left it unlocked). False if VMX cannot
 * be used. */
static inline bool vmx_prepare(void)
{
	if (!(cpuid(1, 0).c & BIT(5)))
		return false;
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(((read_cr4() | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) & rdmsr(MSR_IA32_VMX_CR4_FIXED1)) |
		  CR4_VMXE);
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		fc |= FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	}
	return fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
}

/* vmx_prepare(), VMXON on a fresh region, then a fresh VMCS cleared and made current.
 * Returns the VMCS region (NULL on any failure). */
static inline uint32_t *vmx_enter(void)
{
	if (!vmx_prepare() || vmxon(vmx_pa(vmx_region())) != VMX_OK)
		return NULL;
	uint32_t *vmcs = vmx_region();
	if (vmclear(vmx_pa(vmcs)) != VMX_OK || vmptrld(vmx_pa(vmcs)) != VMX_OK)
		return NULL;
	return vmcs;
}

/* --- the VMCS of a kernel that checks every access ----------------------------------- */

/* VMREAD of a field this kernel knows exists: its value (0 if VMREAD fails). */
static inline uint64_t vmcs_read(uint64_t enc)
{
	uint64_t v = 0;
	vmread(enc, &v);
	return v;
}

/* VMWRITE that must succeed; a failure is a failed check naming the field. */
static inline void vmcs_write(uint64_t enc, uint64_t v)
{
	if (vmwrite(enc, v) != VMX_OK)
		checkf(false, "VMWRITE %lx", enc);
}

/* --- controls from the capability MSRs (App. A.3-A.5) ------------------------------- */

/* The capability MSR of the pin-based, primary processor-based, VM-exit or VM-entry
 * controls: its TRUE form when IA32_VMX_BASIC[55] says it exists (App. A.1; each
 * TRUE MSR is 0CH above the other). The secondary controls have no TRUE MSR. */
static inline uint64_t vmx_ctl_cap(uint32_t msr)
{
	bool has_true = rdmsr(MSR_IA32_VMX_BASIC) & BIT(55);
	if (has_true && msr != MSR_IA32_VMX_PROCBASED_CTLS2)
		msr += MSR_IA32_VMX_TRUE_PINBASED_CTLS - MSR_IA32_VMX_PINBASED_CTLS;
	return rdmsr(msr);
}

/* The control value: the must-be-1 bits (low half) plus want, or false if a wanted
 * bit is not allowed-1 (high half). */
static inline bool vmx_ctl_with(uint32_t msr, uint32_t want, uint32_t *out)
{
	uint64_t cap = vmx_ctl_cap(msr);
	if (want & ~(uint32_t)(cap >> 32))
		return false;
	*out = (uint32_t)cap | want;
	return true;
}

/* vmx_ctl_with() for a control the kernel cannot do without: a missing one is
 * reported as a skip naming the controls (name) and the bits. */
static inline bool vmx_ctl_needed(uint32_t msr, uint32_t want, uint32_t *out, const char *name)
{
	if (vmx_ctl_with(msr, want, out))
		return true;
	skipf("control not supported", "%s: bits 0x%x", name,
	      want & ~(uint32_t)(vmx_ctl_cap(msr) >> 32));
	return false;
}

/* vmx_enter(), then the baseline controls of a guest in this kernel's 64-bit world:
 * the must-be-1 bits plus HLT exiting, "host address-space size" and "IA-32e mode
 * guest". The VMCS region, or NULL after a failed check (VMX operation) or a skip
 * (a control not allowed). */
static inline uint32_t *vmx_enter_baseline(uint32_t *pin, uint32_t *proc, uint32_t *exit,
					   uint32_t *entry)
{
	uint32_t *vmcs = vmx_enter();
	if (!vmcs) {
		check(false, "VMXON, VMCLEAR, VMPTRLD");
		return NULL;
	}
	if (!vmx_ctl_needed(MSR_IA32_VMX_PINBASED_CTLS, 0, pin, "pin") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_PROCBASED_CTLS, PROC_HLT_EXITING, proc, "primary") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_EXIT_CTLS, EXIT_HOST_ADDR_SPACE_SIZE, exit, "exit") ||
	    !vmx_ctl_needed(MSR_IA32_VMX_ENTRY_CTLS, ENTRY_IA32E_MODE, entry, "entry"))
		return NULL;
	return vmcs;
}

/* --- entering the guest and coming back ---------------------------------------------- */

enum vmx_guest_run_how { VMX_LAUNCH = 0, VMX_RESUME = 1, VMX_LAUNCH_AFTER_MOV_SS = 2 };

/* Enter the guest and come back at its next VM exit (0), or VMfail (VMX_FAIL_INVALID,
 * VMX_FAIL_VALID). how: VMLAUNCH, VMRESUME, or MOV SS then VMLAUNCH (events blocked by
 * MOV SS, SDM 32.3). The host's callee-saved registers and RFLAGS stay on its stack,
 * whose pointer becomes HOST_RSP; an exit lands on vmx_guest_exited (HOST_RIP), which
 * restores them (SDM 29.5: only RSP and RIP come from the host-state area). The
 * guest's general-purpose registers are not saved. */
int vmx_guest_run(int how);
void vmx_guest_exited(void);
__asm__(".text\n"
	".globl vmx_guest_run\n"
	"vmx_guest_run:\n"
	"	pushfq\n"
	"	push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
	"	mov $0x6c14, %eax\n" /* VMCS_HOST_RSP */
	"	vmwrite %rsp, %rax\n"
	"	cmp $1, %edi\n"
	"	je 1f\n"
	"	jg 4f\n"
	"	vmlaunch\n"
	"	jmp 2f\n"
	"1:	vmresume\n"
	"	jmp 2f\n"
	"4:	mov %ss, %ax\n"
	"	mov %ax, %ss\n"
	"	vmlaunch\n"
	"2:	mov $1, %eax\n"
	"	jc 3f\n"
	"	mov $2, %eax\n"
	"3:	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	ret\n"
	".globl vmx_guest_exited\n"
	"vmx_guest_exited:\n"
	"	pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
	"	popfq\n"
	"	xor %eax, %eax\n"
	"	ret\n");

/* --- host and guest state: this kernel as it runs (SDM 28.2.2-28.2.4, 28.3.1) ------- */

enum vmx_seg { VMX_ES, VMX_CS, VMX_SS, VMX_DS, VMX_FS, VMX_GS }; /* App. B order */

struct vmx_dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* The selector this kernel has in segment register s. */
static inline uint16_t vmx_selector(int s)
{
	uint16_t v = 0;
	switch (s) {
	case VMX_ES: __asm__ volatile("mov %%es, %0" : "=r"(v)); break;
	case VMX_SS: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case VMX_DS: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	case VMX_FS: __asm__ volatile("mov %%fs, %0" : "=r"(v)); break;
	case VMX_GS: __asm__ volatile("mov %%gs, %0" : "=r"(v)); break;
	default: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	}
	return v;
}

/* Host state: this kernel's 64-bit world, exits landing on vmx_guest_exited (SDM
 * 28.2.2, 28.2.3). The exit controls need "host address-space size". */
static inline void vmx_write_host_state(void)
{
	struct vmx_dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	for (int s = VMX_ES; s <= VMX_GS; s++)
		vmcs_write(VMCS_HOST_ES_SELECTOR + 2 * s, vmx_selector(s) & 0xf8);
	vmcs_write(VMCS_HOST_TR_SELECTOR, str());
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(VMCS_HOST_TR_BASE, vmx_pa(&tss));
	vmcs_write(VMCS_HOST_GDTR_BASE, g.base);
	vmcs_write(VMCS_HOST_IDTR_BASE, i.base);
	vmcs_write(VMCS_HOST_IA32_SYSENTER_CS, rdmsr(MSR_SYSENTER_CS));
	vmcs_write(VMCS_HOST_IA32_SYSENTER_ESP, rdmsr(MSR_SYSENTER_ESP));
	vmcs_write(VMCS_HOST_IA32_SYSENTER_EIP, rdmsr(MSR_SYSENTER_EIP));
	vmcs_write(VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_guest_exited);
}

/* Guest state: the same flat 64-bit world at CPL 0 (SDM 28.3.1), active, nothing
 * blocked, starting at rip on the stack rsp with RFLAGS = 2 (IF = 0). The entry
 * controls need "IA-32e mode guest". */
static inline void vmx_write_guest_state(uint64_t rip, uint64_t rsp)
{
	struct vmx_dtr g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	vmcs_write(VMCS_GUEST_CR0, read_cr0());
	vmcs_write(VMCS_GUEST_CR3, read_cr3());
	vmcs_write(VMCS_GUEST_CR4, read_cr4());
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	for (int s = VMX_ES; s <= VMX_GS; s++) {
		uint16_t sel = vmx_selector(s);
		uint32_t ar = s == VMX_CS ? 0xa09b  /* 64-bit code, P, S, execute/read, accessed */
					  : 0xc093; /* flat read/write data, accessed */
		vmcs_write(VMCS_GUEST_ES_SELECTOR + 2 * s, sel);
		vmcs_write(VMCS_GUEST_ES_AR_BYTES + 2 * s, sel ? ar : 0x10000); /* null: unusable */
		vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * s, 0xffffffff);
		vmcs_write(VMCS_GUEST_ES_BASE + 2 * s, 0);
	}
	vmcs_write(VMCS_GUEST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_GUEST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(VMCS_GUEST_LDTR_SELECTOR, 0);
	vmcs_write(VMCS_GUEST_LDTR_AR_BYTES, 0x10000);
	uint64_t d = gdt[SEL_TSS >> 3];
	vmcs_write(VMCS_GUEST_TR_SELECTOR, SEL_TSS);
	vmcs_write(VMCS_GUEST_TR_AR_BYTES, 0x8b); /* busy 64-bit TSS, P */
	vmcs_write(VMCS_GUEST_TR_LIMIT, (d & 0xffff) | ((d >> 32) & 0xf0000));
	vmcs_write(VMCS_GUEST_TR_BASE, vmx_pa(&tss));
	vmcs_write(VMCS_GUEST_GDTR_BASE, g.base);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, g.limit);
	vmcs_write(VMCS_GUEST_IDTR_BASE, i.base);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, i.limit);
	vmcs_write(VMCS_GUEST_RSP, rsp);
	vmcs_write(VMCS_GUEST_RIP, rip);
	vmcs_write(VMCS_GUEST_RFLAGS, 2);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(VMCS_VMCS_LINK_POINTER, ~0ull);
}

/* The EPT entry at level (1 = PTE ... 4 = PML4E) that maps gpa under the EPT PML4 at
 * pml4, creating the tables on the way (read/write/execute, plus table_flags) from
 * fresh pages (SDM 30.3.2). Identity-mapped, so physical = virtual here. */
static inline uint64_t *vmx_ept_entry(uint64_t *pml4, uint64_t gpa, int level,
				      uint64_t table_flags)
{
	const uint64_t rwx = EPT_READ | EPT_WRITE | EPT_EXEC;
	uint64_t *table = pml4;
	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[(gpa >> (12 + 9 * (l - 1))) & 511];
		if (!(*e & rwx))
			*e = vmx_pa(alloc_page()) | rwx | table_flags;
		table = phys_ptr(*e & PTE_ADDR);
	}
	return &table[(gpa >> (12 + 9 * (level - 1))) & 511];
}

/* The control fields a kernel runs its guests with (values for vmx_ctl_with()). */
struct vmx_ctls {
	uint32_t pin, proc, proc2, exit, entry;
};

/* A VMCS that VM entry accepts, from scratch: VMCLEAR and VMPTRLD of vmcs (a clear
 * launch state, for VMLAUNCH), this kernel's host and guest state with the guest at
 * rip on the stack rsp, the controls c, and zero in the fields that an earlier use
 * of the VMCS may have left set: exception bitmap, CR3-target count, CR0/CR4
 * guest/host masks, the MSR-list counts, VM-entry interruption information, VPID. */
static inline void vmx_reset_vmcs(uint32_t *vmcs, const struct vmx_ctls *c, uint64_t rip,
				  uint64_t rsp)
{
	vmclear(vmx_pa(vmcs));
	vmptrld(vmx_pa(vmcs));
	vmx_write_host_state();
	vmx_write_guest_state(rip, rsp);
	vmcs_write(VMCS_PIN_BASED_VM_EXEC_CONTROL, c->pin);
	vmcs_write(VMCS_CPU_BASED_VM_EXEC_CONTROL, c->proc);
	vmcs_write(VMCS_SECONDARY_VM_EXEC_CONTROL, c->proc2);
	vmcs_write(VMCS_VM_EXIT_CONTROLS, c->exit);
	vmcs_write(VMCS_VM_ENTRY_CONTROLS, c->entry);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0);
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_CR0_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_CR4_GUEST_HOST_MASK, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(VMCS_VIRTUAL_PROCESSOR_ID, 0);
}

#endif
