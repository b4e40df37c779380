/*
 * vmcall - the cost of a hypercall: VMCALL in VMX non-root operation always exits
 * (SDM 27.1.2); L0 answers an unknown hypercall number the way KVM does, with
 * -KVM_ENOSYS (-1000) in RAX, and resumes the guest after the instruction. Outside
 * VMX non-root operation VMCALL raises #UD (SDM 32.3 VMCALL), so this workload only
 * runs on a hypervisor (turtles --level 1): bare, it reports a failure.
 */
#include "bench.h"

#define INSNS_PER_ITER 5
#define HYPERCALL_UNKNOWN 0x7475ULL

int main(void)
{
	uint64_t n = bench_iterations();
	uint64_t sum = 0, i = n;
	struct fault f;

	if (!fault_try(&f)) {
		uint64_t rax = HYPERCALL_UNKNOWN;
		__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
		fault_end(&f);
	}
	if (f.vector != NO_FAULT)
		bench_fail("vmcall", "VMCALL faulted: not running on a hypervisor (use --level 1)");
	__asm__ volatile("1:\n\t"
			 "mov  %[nr], %%eax\n\t"   /* 1: hypercall number   */
			 "vmcall\n\t"              /* 2                     */
			 "add  %%rax, %[sum]\n\t"  /* 3: sum += -1000       */
			 "dec  %[i]\n\t"           /* 4                     */
			 "jnz  1b"                 /* 5                     */
			 : [sum] "+r"(sum), [i] "+r"(i)
			 : [nr] "i"(HYPERCALL_UNKNOWN)
			 : "rax", "cc", "memory");
	bench_done("vmcall", n, INSNS_PER_ITER, sum);
}
