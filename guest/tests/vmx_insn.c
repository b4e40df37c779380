/*
 * vmx_insn - a kernel that acts as a hypervisor and checks the VMX instructions that
 * manage VMX operation and the VMCS (SDM Vol.3C ch.32): VMXON, VMXOFF, VMCLEAR,
 * VMPTRLD, VMPTRST, VMREAD, VMWRITE, VMCALL, INVEPT, INVVPID, with their #UD/#GP
 * cases, the VMsucceed/VMfailInvalid/VMfailValid conventions (SDM 32.2) and the
 * VM-instruction error numbers (SDM 32.4).
 *
 * Everything it knows about the processor comes from CPUID and the IA32_VMX_*
 * capability MSRs (SDM App. A), as a real hypervisor's would, so the same image gives
 * the same results bare on the silicon (--level 0) and on L0's emulation of VMX
 * (--level 1). Architectural constants (encodings, error numbers, MSR indexes) come
 * from the shared data-only header cpu/vmx/vmx_arch.h, the instruction wrappers from
 * vmx_lib.h.
 */
#include "vmx_lib.h"

static void check_outcome(int got, int expected, const char *what)
{
	if (got == expected)
		checkf(true, "%s: %s", what, vmx_outcome_name(expected));
	else
		checkf(false, "%s: %s (expected %s)", what, vmx_outcome_name(got),
		       vmx_outcome_name(expected));
}

/* A VMfailValid with the given error number (SDM 32.4). */
static void check_fail_valid(int got, uint64_t err, const char *what)
{
	check_outcome(got, VMX_FAIL_VALID, what);
	check_eqf(vmx_insn_error(), err, "%s: VM-instruction error %lu", what, err);
}

/* --- what the processor offers (CPUID, App. A) ---------------------------------------- */

struct caps {
	uint32_t revision;
	unsigned maxphyaddr;
	uint64_t basic, misc, cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t proc, proc2, ept_vpid;
};
static struct caps caps;

/* One control MSR pair (SDM A.3-A.5): allowed-0 bits are allowed-1 bits; the non-TRUE
 * MSR reports the default1 class as must-be-1; the TRUE MSR (if BASIC[55]) has the
 * same allowed-1 half and at most the non-TRUE MSR's must-be-1 bits. */
static void check_ctls(const char *name, uint32_t msr, uint32_t true_msr, uint32_t default1)
{
	uint64_t v = rdmsr(msr);
	check_eqf((uint32_t)v & ~(uint32_t)(v >> 32), 0, "%s: allowed-0 within allowed-1", name);
	check_eqf((uint32_t)v & default1, default1, "%s: default1 class reads as 1 (App. A.2)", name);
	if (!(caps.basic & BIT(55)))
		return;
	uint64_t t = rdmsr(true_msr);
	check_eqf(t >> 32, v >> 32, "%s: TRUE MSR has the same allowed-1 settings", name);
	check_eqf((uint32_t)t & ~(uint32_t)v, 0, "%s: TRUE allowed-0 within non-TRUE", name);
	check_eqf(((uint32_t)t ^ (uint32_t)v) & ~default1, 0,
		  "%s: TRUE and non-TRUE differ only in default1 bits", name);
}

static bool read_caps(void)
{
	struct cpuid c = cpuid(1, 0);
	check(c.c & BIT(5), "CPUID.1:ECX.VMX[bit 5] = 1 (SDM 25.6)");
	if (!(c.c & BIT(5)))
		return false;
	caps.maxphyaddr = cpuid(0x80000008, 0).a & 0xff;
	caps.basic = rdmsr(MSR_IA32_VMX_BASIC);
	caps.revision = caps.basic & 0x7fffffff;
	check_eq((caps.basic >> 31) & 1, 0, "IA32_VMX_BASIC[31] = 0 (App. A.1)");
	uint64_t size = (caps.basic >> 32) & 0x1fff;
	check(size > 0 && size <= 4096, "IA32_VMX_BASIC[44:32]: region size in 1..4096");
	check_eq((caps.basic >> 48) & 1, 0, "IA32_VMX_BASIC[48] = 0 on Intel 64 (App. A.1)");
	uint64_t memtype = (caps.basic >> 50) & 0xf;
	check(memtype == 0 || memtype == 6, "IA32_VMX_BASIC[53:50]: UC or WB");
	check_ctls("pin-based", MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS, 0x16);
	check_ctls("primary processor-based", MSR_IA32_VMX_PROCBASED_CTLS,
		   MSR_IA32_VMX_TRUE_PROCBASED_CTLS, 0x0401e172);
	check_ctls("VM-exit", MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS, 0x00036dff);
	check_ctls("VM-entry", MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x000011ff);
	caps.proc = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS);
	if (caps.proc & BIT(63)) { /* secondary controls may be used (App. A.3.3) */
		caps.proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (caps.proc2 & (BIT(32 + 1) | BIT(32 + 5))) /* EPT or VPID (App. A.10) */
			caps.ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	caps.misc = rdmsr(MSR_IA32_VMX_MISC);
	caps.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	caps.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	caps.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	caps.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	check_eq(caps.cr0_fixed0 & ~caps.cr0_fixed1, 0, "CR0 FIXED0 bits are FIXED1 bits (A.7)");
	check_eq(caps.cr4_fixed0 & ~caps.cr4_fixed1, 0, "CR4 FIXED0 bits are FIXED1 bits (A.8)");
	check(caps.cr4_fixed0 & CR4_VMXE, "CR4.VMXE fixed to 1 in VMX operation (A.8)");
	uint64_t e = rdmsr(MSR_IA32_VMX_VMCS_ENUM);
	check(((e >> 1) & 0x1ff) != 0, "IA32_VMX_VMCS_ENUM[9:1]: highest index non-zero (A.9)");
	printf("VMX: revision 0x%x, MAXPHYADDR %u, misc 0x%lx, ept/vpid 0x%lx\n", caps.revision,
	       caps.maxphyaddr, caps.misc, caps.ept_vpid);
	return true;
}

/* --- entering VMX operation (SDM 25.7, 32.3 VMXON) -------------------------------------- */

static int fault_vmxon(uint64_t pa)
{
	struct fault f;
	if (!fault_try(&f)) {
		vmxon(pa);
		fault_end(&f);
	}
	return f.vector;
}

/* VMXON's #UD and #GP(0) cases that can be produced before VMX is enabled, then the
 * set-up: CR4.VMXE, IA32_FEATURE_CONTROL, the fixed CR0/CR4 bits. */
static bool enable_vmx(uint64_t vmxon_pa)
{
	write_cr4(read_cr4() & ~CR4_VMXE);
	check_eq(fault_vmxon(vmxon_pa), 6, "VMXON with CR4.VMXE = 0: #UD");
	uint64_t cr0 = (read_cr0() | caps.cr0_fixed0) & caps.cr0_fixed1;
	write_cr0(cr0);
	write_cr4(((read_cr4() | caps.cr4_fixed0) & caps.cr4_fixed1) | CR4_VMXE);
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		check_eq(fault_vmxon(vmxon_pa), 13, "VMXON with IA32_FEATURE_CONTROL unlocked: #GP");
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
		struct fault f;
		if (!fault_try(&f)) {
			wrmsr(MSR_IA32_FEATURE_CONTROL, 0);
			fault_end(&f);
		}
		check_eq(f.vector, 13, "WRMSR to a locked IA32_FEATURE_CONTROL: #GP (SDM 25.7)");
	} else {
		skip("VMXON with IA32_FEATURE_CONTROL unlocked", "locked by firmware");
	}
	check(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX, "VMX enabled outside SMX");
	return fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX;
}

/* Each VMXON failure first, then success (SDM 32.3 VMXON: bad pointer or revision ->
 * VMfailInvalid; in VMX root operation -> VMfail(15)). */
static void test_vmxon(uint64_t vmxon_pa, uint32_t *vmxon_page)
{
	check_outcome(vmxon(vmxon_pa + 0x800), VMX_FAIL_INVALID, "VMXON misaligned pointer");
	check_outcome(vmxon(vmxon_pa | (1ull << caps.maxphyaddr)), VMX_FAIL_INVALID,
		      "VMXON pointer beyond MAXPHYADDR");
	vmxon_page[0] = caps.revision ^ 1;
	check_outcome(vmxon(vmxon_pa), VMX_FAIL_INVALID, "VMXON wrong revision identifier");
	vmxon_page[0] = caps.revision | BIT(31);
	check_outcome(vmxon(vmxon_pa), VMX_FAIL_INVALID, "VMXON revision with bit 31 set");
	vmxon_page[0] = caps.revision;
	check_outcome(vmxon(vmxon_pa), VMX_OK, "VMXON");
	check_eq(vmptrst(), ~0ull, "VMPTRST after VMXON: FFFFFFFF_FFFFFFFFH");
	check_outcome(vmxon(vmxon_pa), VMX_FAIL_INVALID, "VMXON in root operation, no current VMCS");
}

/* --- VMCS pointers (SDM 32.3 VMCLEAR, VMPTRLD, VMPTRST) ---------------------------------- */

static void test_pointers(uint64_t vmxon_pa, uint64_t a, uint64_t b, uint32_t *b_page)
{
	/* Without a current VMCS every VMfail is VMfailInvalid. */
	check_outcome(vmclear(a + 8), VMX_FAIL_INVALID, "VMCLEAR misaligned, no current VMCS");
	check_outcome(vmptrld(vmxon_pa), VMX_FAIL_INVALID, "VMPTRLD VMXON pointer, no current VMCS");
	check_outcome(vmclear(a), VMX_OK, "VMCLEAR A");
	check_outcome(vmclear(b), VMX_OK, "VMCLEAR B");
	check_outcome(vmptrld(a), VMX_OK, "VMPTRLD A");
	check_eq(vmptrst(), a, "VMPTRST = A");
	/* With one, VMfailValid and the error number (SDM 32.4). */
	check_fail_valid(vmxon(vmxon_pa), VMXERR_VMXON_IN_VMX_ROOT_OPERATION,
			 "VMXON in root operation");
	check_fail_valid(vmclear(b | 0x10), VMXERR_VMCLEAR_INVALID_ADDRESS, "VMCLEAR misaligned");
	check_fail_valid(vmclear(1ull << caps.maxphyaddr), VMXERR_VMCLEAR_INVALID_ADDRESS,
			 "VMCLEAR beyond MAXPHYADDR");
	check_fail_valid(vmclear(vmxon_pa), VMXERR_VMCLEAR_VMXON_POINTER, "VMCLEAR VMXON pointer");
	check_fail_valid(vmptrld(b + 0x800), VMXERR_VMPTRLD_INVALID_ADDRESS, "VMPTRLD misaligned");
	check_fail_valid(vmptrld(vmxon_pa), VMXERR_VMPTRLD_VMXON_POINTER, "VMPTRLD VMXON pointer");
	b_page[0] = caps.revision ^ 2;
	check_fail_valid(vmptrld(b), VMXERR_VMPTRLD_INCORRECT_REVISION_ID,
			 "VMPTRLD wrong revision identifier");
	b_page[0] = caps.revision | BIT(31);
	check_fail_valid(vmptrld(b), VMXERR_VMPTRLD_INCORRECT_REVISION_ID,
			 "VMPTRLD shadow-VMCS indicator without VMCS shadowing");
	check_eq(vmptrst(), a, "failed VMPTRLDs keep A current");
	b_page[0] = caps.revision;
	check_outcome(vmptrld(b), VMX_OK, "VMPTRLD B");
	check_eq(vmptrst(), b, "VMPTRST = B");
	check_outcome(vmclear(b), VMX_OK, "VMCLEAR the current VMCS");
	check_eq(vmptrst(), ~0ull, "VMCLEAR of the current VMCS makes it not current");
	check_outcome(vmptrld(a), VMX_OK, "VMPTRLD A again");
}

/* --- VMREAD, VMWRITE (SDM 32.3, 26.11.2) ------------------------------------------------ */

static void test_fields(void)
{
	uint64_t v, m;
	check_outcome(vmwrite(VMCS_GUEST_RIP, 0xffff800012345678ull), VMX_OK, "VMWRITE guest RIP");
	check_outcome(vmread(VMCS_GUEST_RIP, &v), VMX_OK, "VMREAD guest RIP");
	check_eq(v, 0xffff800012345678ull, "guest RIP round trip");
	check_outcome(vmread_mem(VMCS_GUEST_RIP, &m), VMX_OK, "VMREAD to memory");
	check_eq(m, 0xffff800012345678ull, "VMREAD to memory value");
	m = 0x2000;
	check_outcome(vmwrite_mem(VMCS_GUEST_RSP, &m), VMX_OK, "VMWRITE from memory");
	vmread(VMCS_GUEST_RSP, &v);
	check_eq(v, 0x2000, "VMWRITE from memory value");
	/* A 16-bit field keeps 16 bits; a 32-bit field 32 (SDM 32.3 VMWRITE). */
	vmwrite(VMCS_GUEST_ES_SELECTOR, 0xabcd1234);
	vmread(VMCS_GUEST_ES_SELECTOR, &v);
	check_eq(v, 0x1234, "16-bit field truncates");
	vmwrite(VMCS_GUEST_ES_LIMIT, 0x1122334455667788ull);
	vmread(VMCS_GUEST_ES_LIMIT, &v);
	check_eq(v, 0x55667788, "32-bit field truncates");
	/* The high half of a 64-bit field (access type 1, SDM 26.11.2). */
	vmwrite(VMCS_IO_BITMAP_A, 0x1111222233334000ull);
	vmwrite(VMCS_IO_BITMAP_A | 1, 0x55556666);
	vmread(VMCS_IO_BITMAP_A, &v);
	check_eq(v, 0x5555666633334000ull, "VMWRITE high half of a 64-bit field");
	vmread(VMCS_IO_BITMAP_A | 1, &v);
	check_eq(v, 0x55556666, "VMREAD high half of a 64-bit field");
	/* Unsupported components: error 12 (SDM 32.3, 26.11.2: bits 31:15 reserved; only
	 * 64-bit fields have a high half; bits 63:32 of the register in 64-bit mode). */
	check_fail_valid(vmread(VMCS_GUEST_RIP | BIT(15), &v),
			 VMXERR_UNSUPPORTED_VMCS_COMPONENT, "VMREAD encoding bit 15 set");
	check_fail_valid(vmread(VMCS_GUEST_RIP | 1, &v), VMXERR_UNSUPPORTED_VMCS_COMPONENT,
			 "VMREAD high half of a natural-width field");
	check_fail_valid(vmread(VMCS_GUEST_RIP | BIT(32), &v), VMXERR_UNSUPPORTED_VMCS_COMPONENT,
			 "VMREAD encoding bit 32 set");
	check_fail_valid(vmwrite(VMCS_GUEST_RIP | BIT(31), 0), VMXERR_UNSUPPORTED_VMCS_COMPONENT,
			 "VMWRITE encoding bit 31 set");
	/* A read-only (VM-exit information) field: writable iff IA32_VMX_MISC[29]. */
	if (caps.misc & BIT(29)) {
		check_outcome(vmwrite(VMCS_VM_EXIT_REASON, 12), VMX_OK,
			      "VMWRITE exit reason with IA32_VMX_MISC[29] = 1");
		vmread(VMCS_VM_EXIT_REASON, &v);
		check_eq(v, 12, "VMWRITE of a read-only field took effect");
	} else {
		check_fail_valid(vmwrite(VMCS_VM_EXIT_REASON, 12),
				 VMXERR_VMWRITE_READ_ONLY_VMCS_COMPONENT, "VMWRITE read-only field");
	}
	/* VMCALL in VMX root operation: VMfail(1) (SDM 32.3 VMCALL, no SMM monitor). */
	check_fail_valid(vmcall(), VMXERR_VMCALL_IN_ROOT, "VMCALL in root operation");
}

/* --- INVEPT, INVVPID (SDM 32.3; types from IA32_VMX_EPT_VPID_CAP, App. A.10) ---------- */

static void test_inv(void)
{
	struct inv_desc d = { 0, 0 };
	if (caps.ept_vpid & BIT(20)) {
		check_fail_valid(invept(0, &d), VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
				 "INVEPT type 0");
		if (caps.ept_vpid & BIT(26))
			check_outcome(invept(INVEPT_ALL_CONTEXT, &d), VMX_OK, "INVEPT all-context");
		if (caps.ept_vpid & BIT(25)) {
			d.lo = 0x1000 | 0x1f00; /* reserved EPTP bits 11:8 */
			check_fail_valid(invept(INVEPT_SINGLE_CONTEXT, &d),
					 VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID, "INVEPT bad EPTP");
		}
	} else {
		skip("INVEPT", "not supported (IA32_VMX_EPT_VPID_CAP[20] = 0)");
	}
	if (caps.ept_vpid & BIT(32)) {
		d.lo = 0;
		if (caps.ept_vpid & BIT(41))
			check_fail_valid(invvpid(INVVPID_SINGLE_CONTEXT, &d),
					 VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
					 "INVVPID single-context VPID 0");
		d.lo = BIT(16) | 1;
		if (caps.ept_vpid & BIT(42))
			check_fail_valid(invvpid(INVVPID_ALL_CONTEXT, &d),
					 VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
					 "INVVPID descriptor bits 63:16 set");
		d.lo = 0;
		if (caps.ept_vpid & BIT(42))
			check_outcome(invvpid(INVVPID_ALL_CONTEXT, &d), VMX_OK, "INVVPID all-context");
		check_fail_valid(invvpid(4, &d), VMXERR_INVALID_OPERAND_TO_INVEPT_INVVPID,
				 "INVVPID type 4");
	} else {
		skip("INVVPID", "not supported (IA32_VMX_EPT_VPID_CAP[32] = 0)");
	}
}

/* --- CPL 3 in VMX root operation: #GP(0) (SDM 32.3, each instruction) ------------- */

USER_TEXT static uint64_t u_vmread(uint64_t enc)
{
	uint64_t v = 0;
	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"(enc) : "cc");
	return v;
}

USER_TEXT static uint64_t u_vmcall(uint64_t arg)
{
	__asm__ volatile("vmcall" ::: "cc", "memory");
	return arg;
}

USER_TEXT static uint64_t u_vmxoff(uint64_t arg)
{
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	return arg;
}

static void check_cpl3_gp(user_fn_t fn, const char *name)
{
	struct fault f;
	if (!fault_try(&f)) {
		user_call(fn, VMCS_GUEST_RIP);
		fault_end(&f);
	}
	check_eqf(f.vector, 13, "%s at CPL 3 in VMX root operation: #GP", name);
	check_eqf(f.error, 0, "%s at CPL 3: error code 0", name);
}

static void test_cpl3(uint64_t current)
{
	check_cpl3_gp(u_vmread, "VMREAD");
	check_cpl3_gp(u_vmcall, "VMCALL");
	check_cpl3_gp(u_vmxoff, "VMXOFF");
	check_eq(vmptrst(), current, "still in VMX root operation with the same current VMCS");
}

/* --- VMX operation restrictions and leaving it (SDM 25.8, 32.3 VMXOFF) -------------- */

static int fault_write_cr(int n, uint64_t v)
{
	struct fault f;
	if (!fault_try(&f)) {
		if (n == 0)
			write_cr0(v);
		else
			write_cr4(v);
		fault_end(&f);
	}
	return f.vector;
}

static void test_leave(void)
{
	check_eq(fault_write_cr(4, read_cr4() & ~CR4_VMXE), 13,
		 "MOV CR4 clearing VMXE in VMX operation: #GP");
	if (caps.cr0_fixed0 & CR0_NE)
		check_eq(fault_write_cr(0, read_cr0() & ~CR0_NE), 13,
			 "MOV CR0 clearing a FIXED0 bit (NE) in VMX operation: #GP");
	check_outcome(vmxoff(), VMX_OK, "VMXOFF");
	struct fault f;
	if (!fault_try(&f)) {
		vmxoff();
		fault_end(&f);
	}
	check_eq(f.vector, 6, "VMXOFF outside VMX operation: #UD");
	uint64_t v;
	if (!fault_try(&f)) {
		vmread(VMCS_GUEST_RIP, &v);
		fault_end(&f);
	}
	check_eq(f.vector, 6, "VMREAD outside VMX operation: #UD");
	check_eq(fault_write_cr(4, read_cr4() & ~CR4_VMXE), NO_FAULT,
		 "CR4.VMXE can be cleared after VMXOFF");
}

int main(void)
{
	if (!read_caps())
		return 0;
	uint32_t *vmxon_page = vmx_region();
	uint32_t *a_page = vmx_region();
	uint32_t *b_page = vmx_region();
	uint64_t vmxon_pa = vmx_pa(vmxon_page);
	if (!enable_vmx(vmxon_pa))
		return 0;
	test_vmxon(vmxon_pa, vmxon_page);
	test_pointers(vmxon_pa, vmx_pa(a_page), vmx_pa(b_page), b_page);
	test_fields();
	test_inv();
	test_cpl3(vmx_pa(a_page));
	test_leave();
	return 0;
}
