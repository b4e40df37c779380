/*
 * CPUID: what the guest (L1) sees. The silicon's own answers for this CPU (as KVM
 * starts from the host's), with L0's policy on top:
 *   - no VMX for L1 in this issue: CPUID.1:ECX.VMX[bit 5] = 0 (nesting comes next);
 *   - CPUID.1:ECX[bit 31] = 1: running under a hypervisor, whose leaf 40000000H
 *     names it (the convention KVM, Xen and Hyper-V share);
 *   - CPUID.1:EDX.APIC[bit 9] mirrors the guest's IA32_APIC_BASE.EN (SDM Vol.2 CPUID);
 *   - no MONITOR/MWAIT, as KVM by default: CPUID.1:ECX.MONITOR[bit 3] = 0 and leaf
 *     05H reads 0; MONITOR/MWAIT exiting is set and both exits are NOPs (exit.c).
 * CPUID always exits in non-root operation (SDM 27.1.2).
 */
#include <string.h>

#include "cpu/cpuid.h"
#include "hv/hv_internal.h"

#define CPUID1_ECX_MONITOR BIT(3)
#define CPUID1_ECX_VMX BIT(5)
#define CPUID_LEAF_MWAIT 5
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUID1_EDX_APIC BIT(9)
#define HV_CPUID_LEAF 0x40000000u
#define HV_SIGNATURE "TurtlesL0hv\0" /* 12 bytes in EBX, ECX, EDX */

void hv_cpuid_policy(struct hv_vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	if (leaf == HV_CPUID_LEAF) {
		out[CPUID_EAX] = HV_CPUID_LEAF; /* highest hypervisor leaf */
		memcpy(&out[CPUID_EBX], HV_SIGNATURE, 12);
		return;
	}
	if (leaf > HV_CPUID_LEAF && leaf < 0x80000000u) {
		out[0] = out[1] = out[2] = out[3] = 0;
		return;
	}
	cpuid_query(v->cpu, leaf, subleaf, out);
	if (leaf == CPUID_LEAF_MWAIT)
		out[0] = out[1] = out[2] = out[3] = 0;
	if (leaf == 1) {
		out[CPUID_ECX] &= ~(uint32_t)(CPUID1_ECX_VMX | CPUID1_ECX_MONITOR);
		out[CPUID_ECX] |= (uint32_t)CPUID1_ECX_HYPERVISOR;
		out[CPUID_EDX] &= ~(uint32_t)CPUID1_EDX_APIC;
		if (v->apic_base & APIC_BASE_EN)
			out[CPUID_EDX] |= (uint32_t)CPUID1_EDX_APIC;
	}
}

/* CPUID (exit reason 10, no qualification): EAX the leaf, ECX the subleaf, as
 * KVM's kvm_emulate_cpuid. */
enum hv_action hv_exit_cpuid(struct hv_vcpu *v)
{
	uint32_t out[4];
	uint32_t leaf = (uint32_t)v->cpu->gpr[RAX], subleaf = (uint32_t)v->cpu->gpr[RCX];
	hv_cpuid_policy(v, leaf, subleaf, out);
	/* CPUID writes EAX, EBX, ECX, EDX and clears their upper halves in 64-bit mode
	 * (SDM Vol.2 CPUID: "the high-order 32 bits ... are cleared"). */
	v->cpu->gpr[RAX] = out[CPUID_EAX];
	v->cpu->gpr[RBX] = out[CPUID_EBX];
	v->cpu->gpr[RCX] = out[CPUID_ECX];
	v->cpu->gpr[RDX] = out[CPUID_EDX];
	hv_skip_insn(v);
	return HV_RESUME;
}
