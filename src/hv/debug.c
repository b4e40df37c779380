/*
 * The debug traps of an instruction L0 completed itself (KVM does the same after
 * emulating): a single-step trap if RFLAGS.TF was 1 (SDM 18.3.1.4), and I/O
 * breakpoints on the port it accessed (SDM 18.2.4, R/W = 10B with CR4.DE = 1). They
 * become pending debug exceptions in the guest-state area (SDM 26.4.2 Table 26-4),
 * which VM entry delivers as a #DB trap before the next guest instruction (28.7.3).
 *
 * DR0-DR3 are not in the VMCS: like the GPRs they stay in the silicon's registers
 * across entries and exits, so L0 reads them from struct cpu (KVM's vcpu->arch.db).
 */
#include "hv/hv_internal.h"

#define DR7_RW(dr7, n) (((dr7) >> (16 + 4 * (n))) & 3)
#define DR7_LEN(dr7, n) (((dr7) >> (18 + 4 * (n))) & 3)
#define DR7_ENABLED(dr7, n) (((dr7) >> (2 * (n))) & 3) /* Ln or Gn */
#define DR7_RW_IO 2

static void add_pending(struct hv_vcpu *v, uint64_t bits)
{
	uint64_t p = hv_vmread(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS);
	hv_vmwrite(v, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, p | bits);
}

void hv_single_step_trap(struct hv_vcpu *v)
{
	if (hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_TF)
		add_pending(v, PENDING_DBG_BS);
}

/* Breakpoint lengths (SDM 18.2.5 Table 18-2): 00 1 byte, 01 2, 11 4, 10 8 bytes; the
 * address's low bits are ignored to its length. */
static uint64_t bp_len(unsigned len)
{
	static const uint64_t bytes[4] = { 1, 2, 8, 4 };
	return bytes[len & 3];
}

void hv_io_breakpoints(struct hv_vcpu *v, uint16_t port, int size)
{
	if (!(hv_vmread(v, VMCS_GUEST_CR4) & CR4_DE))
		return;
	uint64_t dr7 = hv_vmread(v, VMCS_GUEST_DR7), hit = 0;
	for (int n = 0; n < 4; n++) {
		if (!DR7_ENABLED(dr7, n) || DR7_RW(dr7, n) != DR7_RW_IO)
			continue;
		uint64_t len = bp_len((unsigned)DR7_LEN(dr7, n));
		uint64_t start = v->cpu->dr[n] & ~(len - 1) & 0xFFFF;
		if (start < (uint64_t)port + (uint64_t)size && port < start + len)
			hit |= BIT(n);
	}
	if (hit)
		add_pending(v, hit | PENDING_DBG_ENABLED_BP);
}
