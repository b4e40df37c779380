/*
 * A vCPU's state for shutdown reports: the guest-state area of its VMCS (what the
 * guest sees: CR0/CR4 from the read shadows) and its GPRs, in the layout of the
 * silicon's cpu_dump() so that the two levels read alike.
 */
#include <inttypes.h>

#include "hv/hv_internal.h"

static const char *const gpr_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
static const char *const seg_names[8] = { "es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr" };
static const char *const mp_names[] = {
	[HV_MP_RUNNABLE] = "", [HV_MP_HALTED] = " halted", [HV_MP_WAIT_SIPI] = " wait-for-sipi",
};

void hv_vcpu_dump(struct hv_vm *vm, int i, FILE *f)
{
	struct hv_vcpu *v = &vm->vcpu[i];
	if (vmx_vmptrst(v->cpu) != v->vmcs && vmx_vmptrld(v->cpu, v->vmcs) != VMX_SUCCEED)
		return;
	bool dead = vm->shutdown && v->id == vm->shutdown_vcpu;
	fprintf(f, "cpu%d (vCPU of L0) rip=%016" PRIx64 " rflags=%08" PRIx64 "%s%s\n", i,
		hv_vmread(v, VMCS_GUEST_RIP), hv_vmread(v, VMCS_GUEST_RFLAGS), mp_names[v->mp],
		dead ? " SHUTDOWN" : "");
	for (int r = 0; r < 16; r++)
		fprintf(f, "%-3s=%016" PRIx64 "%s", gpr_names[r], hv_gpr_read(v, r),
			(r & 3) == 3 ? "\n" : " ");
	for (int i = 0; i <= HV_SEG_TR; i++) {
		struct seg s;
		hv_seg_read(v, i, &s);
		fprintf(f, "%-4s %04x base=%016" PRIx64 " limit=%08x ar=%05x\n", seg_names[i],
			s.sel, s.base, s.limit, s.ar);
	}
	fprintf(f, "gdtr base=%016" PRIx64 " limit=%04" PRIx64 "  idtr base=%016" PRIx64
		   " limit=%04" PRIx64 "\n",
		hv_vmread(v, VMCS_GUEST_GDTR_BASE), hv_vmread(v, VMCS_GUEST_GDTR_LIMIT),
		hv_vmread(v, VMCS_GUEST_IDTR_BASE), hv_vmread(v, VMCS_GUEST_IDTR_LIMIT));
	fprintf(f, "cr0=%08" PRIx64 " cr3=%016" PRIx64 " cr4=%08" PRIx64 " efer=%04" PRIx64
		   " (read shadows for CR0/CR4)\n",
		hv_vmread(v, VMCS_CR0_READ_SHADOW), hv_vmread(v, VMCS_GUEST_CR3),
		hv_vmread(v, VMCS_CR4_READ_SHADOW), hv_vmread(v, VMCS_GUEST_IA32_EFER));
	fprintf(f, "interruptibility=%" PRIx64 " intr_line=%d nmi_pending=%d\n",
		hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO), v->intr_line, v->nmi_pending);
}
