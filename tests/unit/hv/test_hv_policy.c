/*
 * What L1 sees of CPUID and the MSRs (L0's policy), and the MSR bitmap that decides
 * which MSR accesses exit (SDM 26.6.9, 27.1.3).
 */
#include "cpu/cpuid.h"
#include "cpu/msr.h"
#include "hv_harness.h"

static void test_cpuid(void)
{
	struct hv_vcpu *v = vcpu(0);
	uint32_t r[4];
	hv_cpuid_policy(v, 1, 0, r);
	CHECK_EQ(r[CPUID_ECX] & BIT(5), 0);       /* no VMX for L1 in this issue */
	CHECK_EQ(r[CPUID_ECX] & BIT(3), 0);       /* no MONITOR/MWAIT, as KVM */
	CHECK_EQ(r[CPUID_ECX] & BIT(31), BIT(31)); /* hypervisor present */
	CHECK_EQ(r[CPUID_EDX] & BIT(9), BIT(9));   /* APIC: IA32_APIC_BASE.EN = 1 */
	CHECK_EQ(r[CPUID_EAX], CPUID_SIGNATURE);   /* the silicon's own signature */
	hv_cpuid_policy(v, 5, 0, r); /* leaf 05H (MONITOR/MWAIT) reads 0 with it */
	CHECK(!r[CPUID_EAX] && !r[CPUID_EBX] && !r[CPUID_ECX] && !r[CPUID_EDX]);
	hv_cpuid_policy(v, 0x40000000, 0, r);
	CHECK_EQ(r[CPUID_EAX], 0x40000000);
	CHECK(!memcmp(&r[CPUID_EBX], "TurtlesL0hv", 11));
	/* Leaf 1 EBX[31:24]: the initial APIC ID is the vCPU's (SDM Vol.2 CPUID). */
	hv_cpuid_policy(vcpu(1), 1, 0, r);
	CHECK_EQ(r[CPUID_EBX] >> 24, 1);
	/* The exit: EAX=0 gives the vendor, RIP steps over CPUID (2 bytes). */
	v = vcpu(0);
	guest_flat32(v, 0x1000);
	v->cpu->gpr[RAX] = 0;
	v->cpu->gpr[RCX] = 0;
	CHECK_EQ(fake_exit(v, EXIT_REASON_CPUID, 0, 2), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x1002);
	CHECK(v->cpu->gpr[RAX] >= 1);
}

static void test_msr_policy(void)
{
	struct hv_vcpu *v = vcpu(0);
	uint64_t val = 0;
	/* IA32_FEATURE_CONTROL: locked, VMX off (SDM 24.7: VMXON would #GP). */
	CHECK(hv_msr_read(v, MSR_IA32_FEATURE_CONTROL, &val));
	CHECK_EQ(val, FEATURE_CONTROL_LOCKED);
	CHECK(!hv_msr_write(v, MSR_IA32_FEATURE_CONTROL, 5));
	/* VMX capability MSRs: #GP without VMX (SDM App. A: only if CPUID.1:ECX.VMX). */
	CHECK(!hv_msr_read(v, MSR_IA32_VMX_BASIC, &val));
	CHECK(!hv_msr_read(v, MSR_IA32_VMX_EPT_VPID_CAP, &val));
	/* IA32_APIC_BASE: BSP flag, enabled, default base (SDM 11.4.4). */
	CHECK(hv_msr_read(v, MSR_IA32_APIC_BASE, &val));
	CHECK_EQ(val, 0xFEE00000ULL | BIT(11) | BIT(8));
	CHECK(!hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(10))); /* EXTD w/o EN */
	CHECK(!hv_msr_write(v, MSR_IA32_APIC_BASE, BIT(63) | BIT(11)));       /* reserved */
	/* x2APIC registers only in x2APIC mode (SDM 11.12.1.2). */
	CHECK(!hv_msr_read(v, 0x802, &val));
	CHECK(hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(11) | BIT(10) | BIT(8)));
	CHECK(hv_msr_read(v, 0x802, &val)); /* x2APIC ID register */
	CHECK_EQ(val, 0);
	CHECK(!hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(11) | BIT(8))); /* x2->x */
	CHECK(hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(8)));
	/* SDM 11.12.5 Table 11-5: disabled -> x2APIC directly is invalid (via xAPIC
	 * only); the BSP flag is read-only. */
	CHECK(!hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(11) | BIT(10) | BIT(8)));
	CHECK(!hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(11)));
	CHECK(hv_msr_write(v, MSR_IA32_APIC_BASE, 0xFEE00000ULL | BIT(11) | BIT(8)));
	/* TSC: a write sets the offset; reads follow virtual time (SDM 17.17, 26.6.5). */
	CHECK(hv_msr_write(v, MSR_IA32_TSC, 1000000));
	CHECK(hv_msr_read(v, MSR_IA32_TSC, &val));
	CHECK(val >= 1000000 && val < 1000000 + 1000);
	CHECK_EQ(hv_vmread(v, VMCS_TSC_OFFSET), v->tsc_offset - v->cpu->tsc_offset);
	/* EFER through the VMCS: LMA is not writable; reserved bits #GP. */
	CHECK(hv_msr_write(v, MSR_IA32_EFER, EFER_SCE | EFER_LMA));
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_IA32_EFER), EFER_SCE);
	CHECK(!hv_msr_write(v, MSR_IA32_EFER, BIT(1)));
	/* Unknown MSRs are #GP(0). */
	CHECK(!hv_msr_read(v, 0x12345678, &val));
	CHECK(!hv_msr_write(v, 0x4B564D00, 1));
	/* The exit: WRMSR to an unknown MSR injects #GP(0) and does not step. */
	guest_flat32(v, 0x2000);
	v->cpu->gpr[RCX] = 0x12345678;
	CHECK_EQ(fake_exit(v, EXIT_REASON_MSR_WRITE, 0, 2), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x2000);
	CHECK_EQ(v->reinject_info, EXC_GP | (3u << 8) | BIT(11) | BIT(31)); /* Table 26-17 */
	v->reinject_info = 0;
	/* RDMSR of LSTAR (the guest's own register) returns EDX:EAX. */
	v->cpu->lstar = 0x1122334455667788ULL;
	v->cpu->gpr[RCX] = MSR_IA32_LSTAR;
	CHECK_EQ(fake_exit(v, EXIT_REASON_MSR_READ, 0, 2), HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RAX], 0x55667788);
	CHECK_EQ(v->cpu->gpr[RDX], 0x11223344);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x2002);
}

/* SDM 26.6.9: read-low at 0, read-high at 1024, write-low 2048, write-high 3072. */
static bool bitmap_bit(uint32_t msr, bool write)
{
	const uint8_t *bm = SB.ram + VM->msr_bitmap;
	uint32_t off = (msr >= 0xC0000000u ? 1024 : 0) + (write ? 2048 : 0), bit = msr & 0x1FFF;
	return bm[off + bit / 8] & (1u << (bit % 8));
}

static void test_msr_bitmap(void)
{
	CHECK(VM->msr_bitmap >= GUEST_RAM);
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_MSR_BITMAP), VM->msr_bitmap);
	CHECK(!bitmap_bit(MSR_IA32_LSTAR, false));
	CHECK(!bitmap_bit(MSR_IA32_LSTAR, true));
	CHECK(!bitmap_bit(MSR_IA32_SYSENTER_EIP, true));
	CHECK(!bitmap_bit(MSR_IA32_EFER, true));
	CHECK(!bitmap_bit(MSR_IA32_KERNEL_GS_BASE, false));
	CHECK(bitmap_bit(MSR_IA32_APIC_BASE, false));
	CHECK(bitmap_bit(MSR_IA32_APIC_BASE, true));
	CHECK(bitmap_bit(MSR_IA32_TSC, true));
	CHECK(bitmap_bit(MSR_IA32_TSC_DEADLINE, true));
	CHECK(bitmap_bit(0x830, true)); /* x2APIC ICR */
	CHECK(bitmap_bit(MSR_IA32_FEATURE_CONTROL, false));
	CHECK(bitmap_bit(MSR_IA32_VMX_BASIC, false));
	CHECK(bitmap_bit(0xC0001FFF, false));
}

int main(void)
{
	hv_setup(2);
	test_cpuid();
	test_msr_policy();
	test_msr_bitmap();
	hv_teardown(2);
	return report("hv/policy");
}
