/*
 * The VMX capability MSRs (SDM Appendix A) as RDMSR reports them, their consistency
 * with each other and with vmx_caps.h, and the MSRs and CPUID bits around them:
 * CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, IA32_PERF_GLOBAL_CTRL and CPUID leaf 0AH.
 */
#include "sys_harness.h"

#include "cpu/msr.h"
#include "cpu/sys.h"
#include "cpu/vmx.h"
#include "cpu/vmx/vmx_internal.h"

static uint64_t rd(uint32_t msr)
{
	uint64_t v = 0xDEAD;
	CHECK(msr_read(C, msr, &v));
	return v;
}

static uint32_t lo(uint64_t v) { return (uint32_t)v; }
static uint32_t hi(uint64_t v) { return (uint32_t)(v >> 32); }

/* SDM A.1: IA32_VMX_BASIC. */
static void test_basic(void)
{
	uint64_t b = rd(MSR_IA32_VMX_BASIC);
	CHECK_EQ(b & 0x7FFFFFFF, VMX_REVISION_ID);     /* 30:0 revision identifier */
	CHECK_EQ((b >> 31) & 1, 0);                    /* bit 31 always 0 */
	CHECK_EQ((b >> 32) & 0x1FFF, 4096);            /* 44:32 region size */
	CHECK_EQ((b >> 45) & 7, 0);                    /* 47:45 reserved */
	CHECK_EQ((b >> 48) & 1, 0);                    /* Intel 64: no 32-bit limit */
	CHECK_EQ((b >> 49) & 1, 0);                    /* no dual-monitor treatment */
	CHECK_EQ((b >> 50) & 0xF, 6);                  /* 53:50 memory type WB */
	CHECK_EQ((b >> 54) & 1, 1);                    /* INS/OUTS instruction info */
	CHECK_EQ((b >> 55) & 1, 1);                    /* TRUE_*_CTLS exist */
	CHECK_EQ(b >> 57, 0);                          /* 63:57 reserved / unsupported */
}

/* One control field's pair of MSRs (SDM A.3-A.5): the SDM's default1 class, the bits
 * vmx_caps.h says must be / may be 1. */
struct ctl_pair {
	const char *name;
	uint32_t msr, true_msr;
	uint32_t default1;   /* SDM A.2 default1 class of this field */
	uint64_t must1, allowed1;
};

static void test_ctl_pair(const struct ctl_pair *p)
{
	uint64_t v = rd(p->msr), t = rd(p->true_msr);
	/* Allowed-0 settings are a subset of allowed-1 settings (a must-be-1 bit may be
	 * 1), in both MSRs. */
	CHECK_EQ(lo(v) & ~hi(v), 0);
	CHECK_EQ(lo(t) & ~hi(t), 0);
	/* The non-TRUE MSR reports every default1 bit as must-be-1 (SDM A.2). */
	CHECK_EQ(lo(v) & p->default1, p->default1);
	/* TRUE and non-TRUE differ only in default1 bits, and only in allowed-0 (A.2). */
	CHECK_EQ(hi(v), hi(t));
	CHECK_EQ((lo(v) ^ lo(t)) & ~p->default1, 0);
	CHECK_EQ(lo(t) & ~lo(v), 0);
	/* And they are exactly vmx_caps.h. */
	CHECK_EQ(lo(t), p->must1);
	CHECK_EQ(hi(t), p->allowed1);
	CHECK_EQ(lo(v), p->must1 | p->default1);
	uint64_t api;
	CHECK(vmx_cap_msr(C, p->true_msr, &api));
	CHECK_EQ(api, t);
}

static void test_controls(void)
{
	/* Default1 classes from SDM A.3.1 (pin 1, 2, 4), A.3.2 (proc 1, 4-6, 8, 13-16,
	 * 26), A.4.1 (exit 0-8, 10, 11, 13, 14, 16, 17), A.5 (entry 0-8, 12). */
	const struct ctl_pair pairs[] = {
		{ "pin", MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x16,
		  VMX_PIN_MUST1, VMX_PIN_ALLOWED1 },
		{ "proc", MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
		  0x0401E172, VMX_PROC_MUST1, VMX_PROC_ALLOWED1 },
		{ "exit", MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x00036DFF,
		  VMX_EXIT_MUST1, VMX_EXIT_ALLOWED1 },
		{ "entry", MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x000011FF,
		  VMX_ENTRY_MUST1, VMX_ENTRY_ALLOWED1 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(pairs); i++)
		test_ctl_pair(&pairs[i]);
	/* The TRUE MSRs let the documented default1 bits be 0 (SDM A.3.2: CR3-load and
	 * CR3-store exiting; A.4.1 save debug controls; A.5 load debug controls). */
	CHECK_EQ(lo(rd(MSR_IA32_VMX_TRUE_PROCBASED_CTLS)) & (BIT(15) | BIT(16)), 0);
	CHECK_EQ(lo(rd(MSR_IA32_VMX_TRUE_EXIT_CTLS)) & BIT(2), 0);
	CHECK_EQ(lo(rd(MSR_IA32_VMX_TRUE_ENTRY_CTLS)) & BIT(2), 0);
	/* Secondary controls (SDM A.3.3): exist because primary bit 31 may be 1; no
	 * allowed-0 bit; VM functions (13) and VMCS shadowing (14) not allowed. */
	CHECK_EQ(hi(rd(MSR_IA32_VMX_PROCBASED_CTLS)) >> 31, 1);
	uint64_t c2 = rd(MSR_IA32_VMX_PROCBASED_CTLS2);
	CHECK_EQ(lo(c2), 0);
	CHECK_EQ(hi(c2), VMX_PROC2_ALLOWED1);
	CHECK_EQ(hi(c2) & (PROC2_ENABLE_VMFUNC | PROC2_SHADOW_VMCS), 0);
	/* No SMM: entry to SMM (10) and deactivate dual-monitor (11) must be 0. */
	CHECK_EQ(hi(rd(MSR_IA32_VMX_TRUE_ENTRY_CTLS)) & (BIT(10) | BIT(11)), 0);
	/* No tertiary controls (primary bit 17 may not be 1), so 0x492 does not exist. */
	CHECK_EQ(hi(rd(MSR_IA32_VMX_PROCBASED_CTLS)) & PROC_TERTIARY_CONTROLS, 0);
}

/* SDM A.6 IA32_VMX_MISC. */
static void test_misc(void)
{
	uint64_t m = rd(MSR_IA32_VMX_MISC);
	CHECK_EQ(m, VMX_MISC_VALUE);
	CHECK_EQ(m & 0x1F, 5);                /* timer rate */
	CHECK_EQ((m >> 5) & 1, 1);            /* exits store EFER.LMA */
	CHECK_EQ((m >> 6) & 1, 1);            /* HLT activity state */
	CHECK_EQ((m >> 9) & 0x1F, 0);         /* 13:9 reserved */
	CHECK_EQ((m >> 16) & 0x1FF, 4);       /* CR3-target values */
	CHECK_EQ((m >> 25) & 7, 0);           /* 512 MSRs per list */
	CHECK_EQ((m >> 29) & 1, 1);           /* VMWRITE to any field */
	CHECK_EQ((m >> 31) & 1, 0);           /* reserved */
	CHECK_EQ(m >> 32, 0);                 /* MSEG revision identifier */
}

/* SDM A.7, A.8: fixed bits; a FIXED0 bit is also a FIXED1 bit. */
static void test_fixed(void)
{
	uint64_t c0f0 = rd(MSR_IA32_VMX_CR0_FIXED0), c0f1 = rd(MSR_IA32_VMX_CR0_FIXED1);
	uint64_t c4f0 = rd(MSR_IA32_VMX_CR4_FIXED0), c4f1 = rd(MSR_IA32_VMX_CR4_FIXED1);
	CHECK_EQ(c0f0, CR0_PE | CR0_NE | CR0_PG);
	CHECK_EQ(c0f1, 0xFFFFFFFF);
	CHECK_EQ(c0f0 & ~c0f1, 0);
	CHECK_EQ(c4f0, CR4_VMXE);
	CHECK_EQ(c4f0 & ~c4f1, 0);
	/* FIXED1 is what MOV to CR4 accepts: unsupported features are fixed to 0. */
	CHECK_EQ(c4f1, cpu_cr4_allowed(C));
	CHECK_EQ(c4f1 & (CR4_OSFXSR | CR4_OSXSAVE | CR4_LA57 | CR4_SMXE | CR4_VME), 0);
	CHECK_EQ(c4f1 & (CR4_PAE | CR4_PGE | CR4_VMXE), CR4_PAE | CR4_PGE | CR4_VMXE);
}

/* SDM A.9: bits 9:1 = highest index of any supported encoding (index = bits 9:1). */
static void test_vmcs_enum(void)
{
	unsigned max = 0;
	for (int i = 0; i < VMCS_FIELD_COUNT; i++) {
		unsigned idx = (vmcs_field_table[i].encoding >> 1) & 0x1FF;
		if (idx > max)
			max = idx;
	}
	uint64_t e = rd(MSR_IA32_VMX_VMCS_ENUM);
	CHECK_EQ((e >> 1) & 0x1FF, max);
	CHECK_EQ(e & ~0x3FEULL, 0);
	CHECK(max >= 0x10); /* at least the guest-state natural-width fields' indexes */
}

/* SDM A.10, and INVEPT/INVVPID types: the EPT/VPID MSR exists since EPT and VPID
 * may be enabled; every advertised INVEPT/INVVPID type implies the instruction. */
static void test_ept_vpid(void)
{
	uint64_t c = rd(MSR_IA32_VMX_EPT_VPID_CAP);
	CHECK_EQ(c, VMX_EPT_VPID_CAP_VALUE);
	uint64_t c2 = hi(rd(MSR_IA32_VMX_PROCBASED_CTLS2));
	CHECK(c2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID));
	if (c & (BIT(25) | BIT(26)))
		CHECK(c & BIT(20));
	if (c & (0xFULL << 40))
		CHECK(c & BIT(32));
	CHECK((c & BIT(8)) || (c & BIT(14))); /* some EPT memory type */
	CHECK(c & BIT(6));                    /* 4-level walk */
	/* EPTP validity follows the MSR (SDM 28.2.1.1). */
	CHECK(vmx_eptp_valid(0x1000 | 0x1E));         /* WB, 4-level */
	CHECK(vmx_eptp_valid(0x1000 | 0x18));         /* UC, 4-level */
	CHECK(vmx_eptp_valid(0x1000 | 0x5E));         /* A/D flags */
	CHECK(!vmx_eptp_valid(0x1000 | 0x19));        /* memory type 1 */
	CHECK(!vmx_eptp_valid(0x1000 | 0x26));        /* 5-level not supported */
	CHECK(!vmx_eptp_valid(0x1000 | 0x16));        /* 3-level */
	CHECK(!vmx_eptp_valid(0x1000 | 0x9E));        /* bit 7: no shadow-stack control */
	CHECK(!vmx_eptp_valid(0x1000 | 0x11E));       /* bit 8 reserved */
	CHECK(!vmx_eptp_valid((1ULL << CPU_MAXPHYADDR) | 0x1E));
}

/* Absent MSRs raise #GP(0) on RDMSR; all of them are read-only (WRMSR #GP(0)). */
static void test_absent_and_readonly(void)
{
	uint64_t v;
	CHECK(!msr_read(C, MSR_IA32_VMX_VMFUNC, &v)); /* SDM A.11: no VM functions */
	CHECK(!msr_read(C, 0x492, &v));                /* no tertiary controls */
	CHECK(!msr_read(C, 0x493, &v));                /* no secondary exit controls */
	for (uint32_t m = MSR_IA32_VMX_BASIC; m <= MSR_IA32_VMX_TRUE_ENTRY_CTLS; m++) {
		CHECK(msr_read(C, m, &v));
		CHECK(!msr_write(C, m, v));
	}
	/* RDMSR through the instruction: #GP(0) for VMFUNC. */
	mode_long64(0);
	struct insn in = insn();
	C->gpr[RCX] = MSR_IA32_VMX_VMFUNC;
	CHECK_EXC(run_insn(exec_RDMSR, &in), EXC_GP, 0);
	C->gpr[RCX] = MSR_IA32_VMX_BASIC;
	CHECK_EQ(run_insn(exec_RDMSR, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], VMX_REVISION_ID);
	CHECK_EQ(C->gpr[RDX], (4096 | (6 << 18) | (1 << 22) | (1 << 23)));
}

/* CPUID.1:ECX.VMX[5] = 1 (SDM 25.6); leaf 0AH perfmon version 2 with no counters,
 * and IA32_PERF_GLOBAL_CTRL all reserved (SDM Vol.4 Table 2-2, 20.2.2). */
static void test_cpuid_perf(void)
{
	uint32_t r[4];
	cpuid_query(C, 1, 0, r);
	CHECK_EQ((r[CPUID_ECX] >> 5) & 1, 1);
	cpuid_query(C, 0xA, 0, r);
	CHECK_EQ(r[CPUID_EAX] & 0xFF, 2);        /* version 2 */
	CHECK_EQ((r[CPUID_EAX] >> 8) & 0xFF, 0); /* no GP counters */
	CHECK_EQ(r[CPUID_EDX] & 0x1F, 0);        /* no fixed counters */
	CHECK_EQ(rd(MSR_IA32_PERF_GLOBAL_CTRL), 0);
	CHECK(msr_write(C, MSR_IA32_PERF_GLOBAL_CTRL, 0));
	CHECK(!msr_write(C, MSR_IA32_PERF_GLOBAL_CTRL, 1));
	CHECK(!msr_write(C, MSR_IA32_PERF_GLOBAL_CTRL, BIT(32)));
}

/* IA32_FEATURE_CONTROL (SDM 25.7): writable until locked; bit 1 (VMX inside SMX) is
 * reserved without SMX; once locked any WRMSR is #GP(0). */
static void test_feature_control(void)
{
	C->feature_control = 0;
	CHECK(!msr_write(C, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX_INSIDE_SMX));
	CHECK(!msr_write(C, MSR_IA32_FEATURE_CONTROL, BIT(3)));
	CHECK(msr_write(C, MSR_IA32_FEATURE_CONTROL, FEATURE_CONTROL_VMX_OUTSIDE_SMX));
	CHECK_EQ(rd(MSR_IA32_FEATURE_CONTROL), FEATURE_CONTROL_VMX_OUTSIDE_SMX);
	CHECK(msr_write(C, MSR_IA32_FEATURE_CONTROL,
			FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX));
	CHECK_EQ(rd(MSR_IA32_FEATURE_CONTROL), 5);
	CHECK(!msr_write(C, MSR_IA32_FEATURE_CONTROL, 0));
	CHECK(!msr_write(C, MSR_IA32_FEATURE_CONTROL, 5));
	CHECK_EQ(rd(MSR_IA32_FEATURE_CONTROL), 5);
	/* INIT keeps it (SDM 10.1.1: INIT leaves MSRs unchanged); RESET clears it. */
	cpu_do_init(C);
	CHECK_EQ(rd(MSR_IA32_FEATURE_CONTROL), 5);
	cpu_reset(C);
	CHECK_EQ(rd(MSR_IA32_FEATURE_CONTROL), 0);
}

int main(void)
{
	sys_init();
	test_basic();
	test_controls();
	test_misc();
	test_fixed();
	test_vmcs_enum();
	test_ept_vpid();
	test_absent_and_readonly();
	test_cpuid_perf();
	test_feature_control();
	return report("vmx_caps");
}
