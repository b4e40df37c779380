/*
 * vmx_lib.h - what a VMX conformance kernel (guest_vmx_kernel() in kernels.cmake)
 * needs to act as a hypervisor: the VMX instructions as inline functions that return
 * their SDM 32.2 outcome, and entering VMX operation the way a real hypervisor does,
 * from CPUID and the IA32_VMX_* capability MSRs only (no backdoor), so that a kernel
 * gives the same results bare on the silicon and on L0's emulation of VMX.
 * Header-only; include after cpu/vmx/vmx_arch.h and rt.h.
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

static inline int vmxon(uint64_t pa)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmxon %[pa]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [pa] "m"(pa) : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int vmxoff(void)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmxoff" VMX_GET_FLAGS : [f] "=r"(f) : : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int vmclear(uint64_t pa)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmclear %[pa]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [pa] "m"(pa) : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int vmptrld(uint64_t pa)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "vmptrld %[pa]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [pa] "m"(pa) : "cc", "memory");
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

static inline int invept(uint64_t type, const struct inv_desc *d)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "invept %[d], %[t]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [t] "r"(type), [d] "m"(*d) : "cc", "memory");
	return vmx_outcome_of(f);
}

static inline int invvpid(uint64_t type, const struct inv_desc *d)
{
	uint64_t f;
	__asm__ volatile(VMX_SET_ARITH "invvpid %[d], %[t]" VMX_GET_FLAGS
			 : [f] "=r"(f) : [t] "r"(type), [d] "m"(*d) : "cc", "memory");
	return vmx_outcome_of(f);
}

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

#endif
