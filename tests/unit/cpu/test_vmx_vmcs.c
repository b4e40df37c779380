#include "vmx_harness.h"
int main(void){ vmx_init(); CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE); uint64_t x; CHECK_EQ(vmx_vmread(C, 0x1234, &x), VMX_FAIL_VALID); CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), 12); return report("vmx_smoke"); }
