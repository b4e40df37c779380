/*
 * CPUID (SDM Vol.2 CPUID) and its coherence with the instructions: every advertised
 * feature's instruction executes, every instruction of an absent feature is #UD.
 */
#include "sys_harness.h"

#include "cpu/msr.h"

static void q(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	cpuid_query(C, leaf, sub, r);
}

static bool bit(uint32_t leaf, uint32_t sub, int reg, int b)
{
	uint32_t r[4];
	q(leaf, sub, r);
	return (r[reg] >> b) & 1;
}

static void test_vendor_and_leaves(void)
{
	uint32_t r[4];
	char v[13] = { 0 };
	q(0, 0, r);
	memcpy(v, &r[CPUID_EBX], 4);
	memcpy(v + 4, &r[CPUID_EDX], 4);
	memcpy(v + 8, &r[CPUID_ECX], 4);
	CHECK(strcmp(v, "GenuineIntel") == 0);
	CHECK_EQ(r[CPUID_EAX], 0x1F);
	q(1, 0, r);
	CHECK_EQ((r[CPUID_EAX] >> 8) & 0xF, 6);              /* family 6 */
	q(0x80000000, 0, r);
	CHECK_EQ(r[CPUID_EAX], 0x80000008);
	q(0x80000008, 0, r);
	CHECK_EQ(r[CPUID_EAX] & 0xFF, CPU_MAXPHYADDR);
	CHECK_EQ((r[CPUID_EAX] >> 8) & 0xFF, 48);
	char brand[49] = { 0 };
	for (uint32_t l = 0; l < 3; l++) {
		q(0x80000002 + l, 0, r);
		memcpy(brand + l * 16, r, 16);
	}
	CHECK(strcmp(brand, "turtles virtual CPU") == 0);
	/* Above the highest basic leaf: the highest basic leaf's data (Intel). */
	uint32_t a[4], b[4];
	q(0x40, 0, a);
	q(0x1F, 0, b);
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	/* IA32_MISC_ENABLE.LIMIT_CPUID (bit 22) caps leaf 0 at 2 (SDM Vol.4). */
	C->misc_enable |= BIT(22);
	q(0, 0, r);
	CHECK_EQ(r[CPUID_EAX], 2);
	C->misc_enable &= ~BIT(22);
}

/* IA32_MISC_ENABLE (SDM Vol.4 Table 2-2): the R/W bits take writes (as the
 * kvm-unit-tests msr test expects), the RO bits 7/11/12 and reserved bits #GP, and
 * XD bit disable (34) hides CPUID NX and makes EFER.NXE reserved. */
static void test_misc_enable(void)
{
	uint64_t orig = C->misc_enable, v;
	uint64_t rw = BIT(0) | BIT(3) | BIT(16) | BIT(18) | BIT(22) | BIT(23) | BIT(34);
	CHECK(msr_write(C, MSR_IA32_MISC_ENABLE, orig | rw));
	CHECK(msr_read(C, MSR_IA32_MISC_ENABLE, &v));
	CHECK_EQ(v, orig | rw);
	CHECK(!bit(0x80000001, 0, CPUID_EDX, 20));         /* NX hidden */
	CHECK(!msr_write(C, MSR_IA32_EFER, C->efer | EFER_NXE));
	CHECK(msr_write(C, MSR_IA32_MISC_ENABLE, orig));
	CHECK(bit(0x80000001, 0, CPUID_EDX, 20));
	CHECK(!msr_write(C, MSR_IA32_MISC_ENABLE, orig ^ BIT(11))); /* RO */
	CHECK(!msr_write(C, MSR_IA32_MISC_ENABLE, orig | BIT(1)));  /* reserved */
	CHECK(!msr_write(C, MSR_IA32_MISC_ENABLE, orig | BIT(35)));
	CHECK_EQ(C->misc_enable, orig);
}

/* IA32_APIC_BASE mode transitions (SDM 11.12.5, Figure 11-27): disabled -> x2APIC
 * and x2APIC -> xAPIC are invalid (#GP); disabled -> xAPIC -> x2APIC -> disabled is
 * the way (kvm-unit-tests apic "disabled to x2apic enabled"). */
static void test_apic_base_transitions(void)
{
	uint64_t orig = C->apic_base, base = orig & ~(BIT(10) | BIT(11));
	CHECK(msr_write(C, MSR_IA32_APIC_BASE, base));                     /* disable */
	CHECK(!msr_write(C, MSR_IA32_APIC_BASE, base | BIT(11) | BIT(10))); /* -> x2APIC */
	CHECK(msr_write(C, MSR_IA32_APIC_BASE, base | BIT(11)));           /* -> xAPIC */
	CHECK(msr_write(C, MSR_IA32_APIC_BASE, base | BIT(11) | BIT(10))); /* -> x2APIC */
	CHECK(!msr_write(C, MSR_IA32_APIC_BASE, base | BIT(11)));          /* -> xAPIC */
	CHECK(msr_write(C, MSR_IA32_APIC_BASE, base));                     /* disable */
	CHECK(msr_write(C, MSR_IA32_APIC_BASE, orig));
}

/* The signature is also EDX after RESET (SDM 10.1.1 Table 10-1 note). */
static void test_reset_signature(void)
{
	uint32_t r[4];
	cpu_reset(C);
	q(1, 0, r);
	CHECK_EQ(C->gpr[RDX], r[CPUID_EAX]);
	CHECK_EQ(C->rip, 0xFFF0);
	CHECK_EQ(C->seg[SEG_CS].base, 0xFFFF0000);
	CHECK_EQ(C->seg[SEG_CS].sel, 0xF000);
	CHECK_EQ(C->cr0, 0x60000010);
	CHECK_EQ(C->mode, MODE_REAL);
	CHECK_EQ(C->dr[7], 0x400);
	CHECK_EQ(C->pat, 0x0007040600070406ULL);
	CHECK(C->bsp && !C->wait_for_sipi);
}

static void test_feature_bits(void)
{
	CHECK(!bit(1, 0, CPUID_EDX, 0));  /* FPU: no x87 */
	CHECK(!bit(1, 0, CPUID_EDX, 23)); /* MMX */
	CHECK(!bit(1, 0, CPUID_EDX, 25)); /* SSE */
	CHECK(!bit(1, 0, CPUID_EDX, 26)); /* SSE2 */
	CHECK(!bit(1, 0, CPUID_ECX, 20)); /* SSE4.2 */
	CHECK(!bit(1, 0, CPUID_ECX, 26)); /* XSAVE */
	CHECK(bit(1, 0, CPUID_ECX, 3));   /* MONITOR/MWAIT (test_sys_monitor.c) */
	CHECK(bit(1, 0, CPUID_EDX, 4));   /* TSC */
	CHECK(bit(1, 0, CPUID_EDX, 6));   /* PAE */
	CHECK(bit(1, 0, CPUID_EDX, 9));   /* APIC (IA32_APIC_BASE.EN = 1) */
	CHECK(bit(1, 0, CPUID_EDX, 11));  /* SEP */
	CHECK(bit(1, 0, CPUID_ECX, 21));  /* x2APIC */
	CHECK(bit(1, 0, CPUID_ECX, 24));  /* TSC deadline */
	CHECK(bit(1, 0, CPUID_ECX, 30));  /* RDRAND */
	CHECK(bit(7, 0, CPUID_EBX, 0));   /* FSGSBASE */
	CHECK(bit(7, 0, CPUID_EBX, 3));   /* BMI1 */
	CHECK(bit(7, 0, CPUID_EBX, 20));  /* SMAP */
	CHECK(bit(7, 0, CPUID_ECX, 2));   /* UMIP */
	CHECK(bit(0x80000001, 0, CPUID_EDX, 29)); /* LM */
	CHECK(bit(0x80000001, 0, CPUID_EDX, 20)); /* NX */
	CHECK(bit(0x80000001, 0, CPUID_EDX, 27)); /* RDTSCP */
	/* Dynamic bits: APIC follows IA32_APIC_BASE.EN, OSXSAVE follows CR4. */
	C->apic_base &= ~BIT(11);
	CHECK(!bit(1, 0, CPUID_EDX, 9));
	C->apic_base |= BIT(11);
	CHECK(!bit(1, 0, CPUID_ECX, 27));
	CHECK(!cpu_has_feature(C, FEAT_SSE4_2));
	CHECK(cpu_has_feature(C, FEAT_POPCNT));
}

/* Leaves 1, 4, 0BH and 1FH describe the same topology (SDM 9.9.1). */
static void test_topology(void)
{
	uint32_t r[4];
	C->nr_cpus = 4;
	C->id = 2;
	q(1, 0, r);
	CHECK_EQ(r[CPUID_EBX] >> 24, 2);
	CHECK_EQ((r[CPUID_EBX] >> 16) & 0xFF, 4);
	q(0xB, 0, r);
	CHECK_EQ(r[CPUID_EBX], 1);
	CHECK_EQ((r[CPUID_ECX] >> 8) & 0xFF, 1); /* SMT level */
	CHECK_EQ(r[CPUID_EDX], 2);
	q(0xB, 1, r);
	CHECK_EQ(r[CPUID_EAX], 2);               /* shift: 4 cores */
	CHECK_EQ(r[CPUID_EBX], 4);
	CHECK_EQ((r[CPUID_ECX] >> 8) & 0xFF, 2); /* core level */
	q(0xB, 2, r);
	CHECK_EQ((r[CPUID_ECX] >> 8) & 0xFF, 0); /* invalid level ends the list */
	q(0x1F, 1, r);
	CHECK_EQ(r[CPUID_EBX], 4);
	q(4, 0, r);
	CHECK_EQ(r[CPUID_EAX] >> 26, 3);         /* cores per package - 1 */
	q(4, 3, r);
	CHECK_EQ((r[CPUID_EAX] >> 14) & 0xFFF, 3); /* L3 shared by 4 */
	q(0x15, 0, r);
	CHECK_EQ((uint64_t)r[CPUID_ECX] * r[CPUID_EBX] / r[CPUID_EAX], CLOCK_TSC_HZ);
	C->nr_cpus = 1;
	C->id = 0;
}

static void test_cpuid_insn(void)
{
	mode_prot32(3);
	struct insn in = insn();
	C->gpr[RAX] = 0x80000008;
	C->gpr[RCX] = 0;
	C->gpr[RBX] = ~0ULL;
	CHECK_EQ(run_insn(exec_CPUID, &in), NO_FAULT); /* CPUID works at CPL 3 */
	CHECK_EQ(C->gpr[RAX] & 0xFF, CPU_MAXPHYADDR);
	CHECK_EQ(C->gpr[RBX], 0); /* zero-extended */
}

/* --- coherence: advertised executes, absent is #UD ---------------------------- */

static int reg_op(exec_fn fn, int osz)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.rm = RBX;
	in.reg = RCX;
	in.vvvv = RDX;
	return run_insn(fn, &in);
}

static void test_coherence_system(void)
{
	mode_long64(0);
	struct insn in = insn();
	/* Advertised (CPUID says so) and executed. */
	CHECK_EQ(reg_op(exec_RDTSCP, 2), NO_FAULT);
	CHECK_EQ(reg_op(exec_RDPID, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_RDRAND, 3), NO_FAULT);
	CHECK_EQ(run_insn(exec_CLAC, &in), NO_FAULT);
	CHECK_EQ(run_insn(exec_STAC, &in), NO_FAULT);
	CHECK_EQ(run_insn(exec_SYSCALL, &in), NO_FAULT); /* EFER.SCE = 1 */
	mode_long64(0);
	C->cr4 |= CR4_FSGSBASE;
	CHECK_EQ(reg_op(exec_RDFSBASE, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_WRGSBASE, 3), NO_FAULT);
	struct insn m = insn_mem(0, DATA_BASE);
	CHECK_EQ(run_insn(exec_CLFLUSH, &m), NO_FAULT);
	m.flags |= INSN_OPSIZE; /* CLFLUSHOPT */
	CHECK_EQ(run_insn(exec_CLFLUSH, &m), NO_FAULT);
	struct insn ip = insn_mem(3, DATA_BASE);
	ip.reg = RCX;
	C->gpr[RCX] = 2;
	memset(B.ram + DATA_BASE, 0, 16);
	CHECK_EQ(run_insn(exec_INVPCID, &ip), NO_FAULT);
	/* Not advertised: #UD. */
	CHECK_EQ(run_insn(exec_XGETBV, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_XSETBV, &in), EXC_UD);
	CHECK_EQ(reg_op(exec_RDSEED, 3), EXC_UD);
	CHECK_EQ(run_insn(exec_GETSEC, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_SSE, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_FPU, &in), EXC_UD); /* CR0.EM = TS = 0, no x87 */
	CHECK_EQ(run_insn(exec_VMXON, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_VMCALL, &in), EXC_UD);
	CHECK_EQ(run_insn(exec_VMFUNC, &in), EXC_UD);
	/* x87 with CR0.EM or TS: #NM (SDM 2.5 Table 2-2); SSE with TS and no OSFXSR: #UD. */
	C->cr0 |= CR0_TS;
	CHECK_EQ(run_insn(exec_FPU, &in), EXC_NM);
	CHECK_EQ(run_insn(exec_SSE, &in), EXC_UD);
	C->cr0 |= CR0_MP;
	CHECK_EQ(run_insn(exec_FWAIT, &in), EXC_NM);
	C->cr0 &= ~(CR0_TS | CR0_MP);
	CHECK_EQ(run_insn(exec_FWAIT, &in), NO_FAULT);
	/* CR4 bits of absent features are reserved: OSFXSR, OSXSAVE, VME. VMX is
	 * advertised (CPUID.1:ECX.VMX), so CR4.VMXE may be set (SDM 25.7). */
	struct insn cr = insn();
	cr.reg = 4;
	cr.rm = RAX;
	C->gpr[RAX] = C->cr4 | CR4_VMXE;
	CHECK_EQ(run_insn(exec_MOV_TO_CR, &cr), NO_FAULT);
	C->gpr[RAX] = C->cr4 & ~CR4_VMXE;
	CHECK_EQ(run_insn(exec_MOV_TO_CR, &cr), NO_FAULT);
	uint64_t bad[] = { CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, CR4_VME,
			   CR4_PVI, CR4_LA57, CR4_PKE, CR4_SMXE };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		C->gpr[RAX] = C->cr4 | bad[i];
		CHECK_EXC(run_insn(exec_MOV_TO_CR, &cr), EXC_GP, 0);
	}
}

/* The integer executor's ops: advertised features must not #UD. CRC32 belongs to
 * SSE4.2, which is not advertised: it should #UD (reported, not failed, until the
 * executor checks FEAT_SSE4_2). */
static void test_coherence_integer(void)
{
	mode_long64(0);
	CHECK_EQ(reg_op(exec_POPCNT, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_LZCNT, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_TZCNT, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_ANDN, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_BZHI, 3), NO_FAULT);
	CHECK_EQ(reg_op(exec_PDEP, 3), NO_FAULT);
	struct insn m = insn_mem(3, DATA_BASE);
	m.reg = RCX;
	m.form = FORM_GE;
	CHECK_EQ(run_insn(exec_MOVBE, &m), NO_FAULT);
	struct insn c = insn();
	c.osz = 2;
	c.reg = RCX;
	c.rm = RBX;
	c.imm = 2;
	if (run_insn(exec_CRC32, &c) != EXC_UD)
		fprintf(stderr, "WARN: CRC32 executes although CPUID.1:ECX.SSE4_2 = 0\n");
}

int main(void)
{
	sys_init();
	test_vendor_and_leaves();
	test_misc_enable();
	test_apic_base_transitions();
	test_reset_signature();
	test_feature_bits();
	test_topology();
	test_cpuid_insn();
	test_coherence_system();
	test_coherence_integer();
	return report("sys_cpuid");
}
