/*
 * The silicon's VMX, as a C API for native code (L0 in src/hv).
 *
 * These functions mirror the VMX instructions (SDM ch.32) and share one
 * implementation with them: the instructions executed by software on the silicon
 * (--level 0) and these calls end in the same VMCS access, VM-entry and VM-exit code.
 * The differences are only who the VMM is:
 *   - the VMCS lives in host memory (vmcs_alloc), not in guest-physical memory;
 *   - a VM exit saves the guest state and the exit information into the VMCS and
 *     returns from vmx_vmlaunch()/vmx_vmresume() instead of loading the host-state
 *     area, which native code does not need (the host-state checks are skipped too);
 *   - outcomes are return values instead of RFLAGS (SDM 32.2 conventions: VMsucceed,
 *     VMfailInvalid, VMfailValid with the error number in the VM-instruction error
 *     field, readable by vmx_vmread(VMCS_VM_INSTRUCTION_ERROR)).
 * Field encodings, exit reasons, control bits: cpu/vmx/vmx_arch.h.
 */
#ifndef TURTLES_CPU_VMX_H
#define TURTLES_CPU_VMX_H

#include "cpu/cpu.h"
#include "cpu/vmx/vmx_arch.h"

enum vmx_result {
	VMX_SUCCEED = 0,
	VMX_FAIL_INVALID, /* no current VMCS (or the operation has none to report to) */
	VMX_FAIL_VALID,   /* error number in the current VMCS's VM-instruction error */
	VMX_STOPPED,      /* not architectural: the machine asked the CPU to stop (exit
			     requested, --timeout) while the guest ran; the guest stays
			     in non-root operation and must not be resumed */
};

/* A VMCS region in host memory, 4 KiB, zeroed, with the revision identifier written
 * as software must before VMPTRLD (SDM 26.2). NULL if out of memory. */
struct vmcs *vmcs_alloc(void);
void vmcs_free(struct vmcs *vmcs);

/* Enter and leave VMX operation with native code as the VMM (the C API's VMXON and
 * VMXOFF). Fails if the CPU is already in VMX operation. */
enum vmx_result vmx_native_on(struct cpu *cpu);
enum vmx_result vmx_native_off(struct cpu *cpu);

enum vmx_result vmx_vmclear(struct cpu *cpu, struct vmcs *vmcs);
enum vmx_result vmx_vmptrld(struct cpu *cpu, struct vmcs *vmcs);
struct vmcs *vmx_vmptrst(const struct cpu *cpu); /* NULL if no current VMCS */
enum vmx_result vmx_vmread(struct cpu *cpu, uint32_t field, uint64_t *value);
enum vmx_result vmx_vmwrite(struct cpu *cpu, uint32_t field, uint64_t value);

/* VM entry with the current VMCS, then guest execution until the next VM exit
 * (VMX_SUCCEED; read VMCS_VM_EXIT_REASON and the exit-information fields), or a
 * VMfail without entering (VMX_FAIL_*), or VMX_STOPPED. A VM-entry failure due to
 * invalid guest state or MSR loading (SDM 28.8) is a VM exit with bit 31 of the exit
 * reason set, so it returns VMX_SUCCEED like any exit. */
enum vmx_result vmx_vmlaunch(struct cpu *cpu);
enum vmx_result vmx_vmresume(struct cpu *cpu);

/* TLB maintenance (SDM 32.3 INVEPT, INVVPID). */
enum vmx_result vmx_invept(struct cpu *cpu, uint64_t type, uint64_t eptp);
enum vmx_result vmx_invvpid(struct cpu *cpu, uint64_t type, uint16_t vpid, uint64_t gla);

/* The IA32_VMX_* capability MSRs as RDMSR returns them (also for L0's own policy). */
bool vmx_cap_msr(const struct cpu *cpu, uint32_t msr, uint64_t *value);

#endif
