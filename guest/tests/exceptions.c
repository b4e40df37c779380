/*
 * exceptions - vectors, error codes and saved RIP of exceptions and INT n.
 * SDM Vol.3A ch.7 (7.3 Table 7-1 vectors, 7.5 fault vs trap RIP, 7.13 error code,
 * 7.15 per-exception reference) and Vol.3A 4.7 (page-fault error code).
 */
#include "rt.h"

#define TEST_VA 0x4000000000ull
#define SEL_TEST (GDT_FIRST_FREE * 8)
#define VEC_NP 0x41  /* gate marked not present */
#define VEC_DPL0 0x42
#define VEC_DPL3 0x43
#define VEC_IST 0x44

/* Faulting instructions carry global labels so the expected RIP is exact. */
#define AT(l) ".globl " #l "\n" #l ":\n\t"
extern char de_div0[], de_ovf[], ud_ud2[], ud_lock[], ud_into[], bp_int3_after[],
	bp_int_3_after[], gp_nc[], gp_sel[], gp_hlt[], gp_cli[], gp_movcr[], np_int[];

#define ANY_ERR (~0ull)

static void expect(struct fault *f, int vec, uint64_t err, const void *rip, const char *name)
{
	check_eqf(f->vector, vec, "%s: vector %d", name, vec);
	if (vector_has_error(vec) && err != ANY_ERR)
		check_eqf(f->error, err, "%s: error code", name);
	if (rip)
		check_eqf(f->rip, (uintptr_t)rip, "%s: saved RIP", name);
}

/* An error code naming an IDT gate: index field = vector, IDT bit (bit 1) set, EXT
 * clear for INT n (7.13, Figure 7-7). */
static void check_idt_error(struct fault *f, int vec, const char *name)
{
	if (cpu_is_qemu_tcg())
		skipf("QEMU 7.2 TCG reports vector*16+2", "%s: error code vector*8+2", name);
	else
		check_eqf(f->error, vec * 8 + 2, "%s: error code vector*8+2", name);
}

/* 7.15 #DE: fault, RIP -> DIV; both divide by zero and quotient too large */
static void test_de(void)
{
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile("xorl %%ecx, %%ecx\n\t" AT(de_div0) "divl %%ecx" ::: "rax", "rcx", "rdx");
		fault_end(&f);
	}
	expect(&f, 0, 0, de_div0, "#DE divide by zero");
	if (!fault_try(&f)) {
		__asm__ volatile("movl $1, %%ecx; movl $2, %%edx; xorl %%eax, %%eax\n\t" AT(de_ovf) "divl %%ecx"
				 ::: "rax", "rcx", "rdx");
		fault_end(&f);
	}
	expect(&f, 0, 0, de_ovf, "#DE quotient overflow");
}

/* #UD: UD2; LOCK with a register destination (Vol.2A 2.1.1: #UD if LOCK is used with
 * a non-lockable instruction or form); INTO is invalid in 64-bit mode. */
static void test_ud(void)
{
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile(AT(ud_ud2) "ud2");
		fault_end(&f);
	}
	expect(&f, 6, 0, ud_ud2, "#UD ud2");
	if (!fault_try(&f)) {
		__asm__ volatile(AT(ud_lock) ".byte 0xf0; addl %%eax, %%ebx" ::: "rbx", "cc");
		fault_end(&f);
	}
	expect(&f, 6, 0, ud_lock, "#UD lock add reg,reg");
	if (!fault_try(&f)) {
		__asm__ volatile(AT(ud_into) ".byte 0xce");
		fault_end(&f);
	}
	expect(&f, 6, 0, ud_into, "#UD INTO in 64-bit mode");
}

/* #BP is a trap: saved RIP points after INT3 (1 byte) or INT 3 (2 bytes). */
static void test_bp(void)
{
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile("int3\n\t" AT(bp_int3_after) "nop");
		fault_end(&f);
	}
	expect(&f, 3, 0, bp_int3_after, "#BP int3");
	if (!fault_try(&f)) {
		__asm__ volatile(".byte 0xcd, 0x03\n\t" AT(bp_int_3_after) "nop");
		fault_end(&f);
	}
	expect(&f, 3, 0, bp_int_3_after, "#BP int $3");
}

/* Privileged instructions at CPL 3: #GP(0) (5.9; CLI: IOPL < CPL) */
USER_TEXT static uint64_t u_hlt(uint64_t x) { __asm__ volatile(AT(gp_hlt) "hlt"); return 0; }
USER_TEXT static uint64_t u_cli(uint64_t x) { __asm__ volatile(AT(gp_cli) "cli"); return 0; }
USER_TEXT static uint64_t u_movcr(uint64_t x)
{
	uint64_t v;
	__asm__ volatile(AT(gp_movcr) "movq %%cr0, %0" : "=r"(v));
	return v;
}

static void gp_user(user_fn_t fn, const char *name)
{
	struct fault f;
	if (!fault_try(&f)) {
		user_call(fn, 0);
		fault_end(&f);
	}
	const void *rip = fn == u_hlt ? gp_hlt : fn == u_cli ? gp_cli : gp_movcr;
	expect(&f, 13, 0, rip, name);
}

/* #GP(0) for a non-canonical address (3.3.7.1), #GP(selector) for bad segment
 * loads (MOV Sreg: index beyond limit, system descriptor, code into SS). */
static void test_gp(void)
{
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile(AT(gp_nc) "movq (%0), %%rax" ::"r"(0x8000000000000000ull) : "rax");
		fault_end(&f);
	}
	expect(&f, 13, 0, gp_nc, "#GP(0) non-canonical load");
	if (!fault_try(&f)) {
		__asm__ volatile(AT(gp_sel) "movw %w0, %%ds" ::"r"(0xfff8));
		fault_end(&f);
	}
	expect(&f, 13, 0xfff8, gp_sel, "#GP(sel) selector beyond GDT limit");
	if (!fault_try(&f)) {
		__asm__ volatile("movw %w0, %%ds" ::"r"(SEL_TSS));
		fault_end(&f);
	}
	expect(&f, 13, SEL_TSS, 0, "#GP(sel) TSS selector into DS");
	if (!fault_try(&f)) {
		__asm__ volatile("movw %w0, %%ss" ::"r"(SEL_KCODE64));
		fault_end(&f);
	}
	expect(&f, 13, SEL_KCODE64, 0, "#GP(sel) code selector into SS");
	__asm__ volatile("movw %w0, %%ds" ::"r"(SEL_KDATA));
	gp_user(u_hlt, "#GP(0) HLT at CPL 3");
	gp_user(u_cli, "#GP(0) CLI at CPL 3 with IOPL 0");
	gp_user(u_movcr, "#GP(0) MOV from CR0 at CPL 3");
}

/* Not-present descriptors: MOV SS -> #SS(sel), MOV DS -> #NP(sel) (MOV Sreg
 * exceptions); a not-present IDT gate -> #NP(vector*8+2), IDT bit set (7.13.1). */
static void test_ss_np(void)
{
	struct fault f;

	gdt[GDT_FIRST_FREE] = seg_desc(0, 0xfffff, 0x12, 0xc); /* data RW, P=0 */
	if (!fault_try(&f)) {
		__asm__ volatile("movw %w0, %%ss" ::"r"(SEL_TEST));
		fault_end(&f);
	}
	expect(&f, 12, SEL_TEST, 0, "#SS(sel) not-present SS load");
	if (!fault_try(&f)) {
		__asm__ volatile("movw %w0, %%ds" ::"r"(SEL_TEST));
		fault_end(&f);
	}
	expect(&f, 11, SEL_TEST, 0, "#NP(sel) not-present DS load");
	__asm__ volatile("movw %w0, %%ds" ::"r"(SEL_KDATA));

	idt_set_present(VEC_NP, 0);
	if (!fault_try(&f)) {
		__asm__ volatile(AT(np_int) "int $0x41");
		fault_end(&f);
	}
	expect(&f, 11, ANY_ERR, np_int, "#NP not-present IDT gate");
	check_idt_error(&f, VEC_NP, "#NP not-present IDT gate");
	idt_set_present(VEC_NP, 1);

	/* 7.15 #SS: a non-canonical address referencing the SS segment (RBP base) */
	if (cpu_is_qemu_tcg()) {
		skip("#SS(0) non-canonical RBP-based access", "QEMU TCG raises #GP(0) here");
		return;
	}
	if (!fault_try(&f)) {
		__asm__ volatile("pushq %%rbp; movq %0, %%rbp; movq (%%rbp), %%rax; popq %%rbp" ::"r"(
					 0x8000000000000000ull) : "rax");
		fault_end(&f);
	}
	if (f.vector == 12)
		__asm__ volatile("" ::: "memory"); /* RBP restored by the fault path */
	expect(&f, 12, 0, 0, "#SS(0) non-canonical RBP-based access");
}

/* #PF error code bits and CR2, SDM Vol.3A 4.7 */
static struct fault pf_access(uint64_t va, bool write)
{
	struct fault f;
	if (!fault_try(&f)) {
		if (write)
			*(volatile uint64_t *)va = 1;
		else
			(void)*(volatile uint64_t *)va;
		fault_end(&f);
	}
	return f;
}

static void pf_case(uint64_t va, bool write, uint64_t err, const char *name)
{
	struct fault f = pf_access(va, write);
	expect(&f, 14, err, 0, name);
	check_eqf(f.cr2, va, "%s: CR2", name);
}

/* RSVD implies P (4.7: reserved bits are only checked in present entries) */
static void pf_rsvd_case(uint64_t va, bool write, const char *name)
{
	struct fault f = pf_access(va, write);
	uint64_t want = PF_RSVD | (write ? PF_W : 0);
	check_eqf(f.vector, 14, "%s: vector 14", name);
	check_eqf(f.error & ~PF_P, want, "%s: error code RSVD/W/U bits", name);
	check_eqf(f.cr2, va, "%s: CR2", name);
	if (cpu_is_qemu_tcg())
		skipf("QEMU 7.2 TCG clears P with RSVD", "%s: error code P bit", name);
	else
		check_eqf(f.error & PF_P, PF_P, "%s: error code P bit", name);
}

USER_TEXT static uint64_t u_read(uint64_t va) { return *(volatile uint64_t *)va; }
USER_TEXT static uint64_t u_write(uint64_t va) { *(volatile uint64_t *)va = 2; return 0; }

static void pf_user(user_fn_t fn, uint64_t va, uint64_t err, const char *name)
{
	struct fault f;
	if (!fault_try(&f)) {
		user_call(fn, va);
		fault_end(&f);
	}
	expect(&f, 14, err, 0, name);
	check_eqf(f.cr2, va, "%s: CR2", name);
	check_eqf(f.cs, SEL_UCODE64 | 3, "%s: CS is ring-3 code", name);
}

static void test_pf(void)
{
	uint64_t pa = (uintptr_t)alloc_page();
	uint64_t va = TEST_VA;

	unmap_page(va);
	pf_case(va + 8, false, 0, "#PF read not-present");
	pf_case(va + 8, true, PF_W, "#PF write not-present");
	map_page(va, pa, PTE_P);
	pf_case(va + 16, true, PF_P | PF_W, "#PF supervisor write read-only (CR0.WP=1)");
	map_page(va, pa, PTE_P | PTE_W);
	pf_user(u_read, va, PF_P | PF_U, "#PF user read supervisor page");
	map_page(va, pa, PTE_P | PTE_U);
	pf_user(u_write, va + 24, PF_P | PF_W | PF_U, "#PF user write read-only user page");
	unmap_page(va);
	pf_user(u_read, va, PF_U, "#PF user read not-present");

	int maxphy = cpu_maxphyaddr();
	if (maxphy < 52) { /* bits maxphy..51 of a PTE are reserved (4.5, Table 4-19) */
		map_page(va, pa | BIT(51), PTE_P | PTE_W);
		pf_rsvd_case(va, false, "#PF reserved bit 51 in PTE (read)");
		pf_rsvd_case(va, true, "#PF reserved bit 51 in PTE (write)");
	} else {
		skip("#PF reserved bit in PTE", "MAXPHYADDR is 52");
	}

	/* Instruction fetches: I/D is set when EFER.NXE=1 (4.7) */
	*(volatile uint8_t *)pa = 0xc3; /* ret */
	map_page(va, pa, PTE_P | PTE_W | PTE_NX);
	struct fault f;
	if (!(rdmsr(MSR_EFER) & EFER_NXE)) {
		skip("#PF fetch from NX page", "no NX");
	} else {
		if (!fault_try(&f)) {
			((void (*)(void))va)();
			fault_end(&f);
		}
		expect(&f, 14, PF_P | PF_I, (void *)va, "#PF fetch from NX page");
		check_eq(f.cr2, va, "#PF fetch from NX page: CR2");
		unmap_page(va);
		if (!fault_try(&f)) {
			((void (*)(void))(va + 0x10))();
			fault_end(&f);
		}
		expect(&f, 14, PF_I, (void *)(va + 0x10), "#PF fetch not-present");
	}
	unmap_page(va);
}

/* #AC(0): CPL 3, CR0.AM=1, EFLAGS.AC=1 and a misaligned access (7.15 vector 17). */
USER_TEXT static uint64_t u_misaligned(uint64_t va)
{
	return *(volatile uint32_t *)(va + 1);
}

static void test_ac(void)
{
	static uint64_t buf[2] USER_DATA;
	struct fault f;

	if (cpu_is_qemu_tcg()) {
		skip("#AC misaligned access at CPL 3", "QEMU TCG does not implement alignment checking");
		return;
	}
	write_cr0(read_cr0() | CR0_AM);
	if (!fault_try(&f)) {
		user_call_flags(u_misaligned, (uintptr_t)buf, FL_AC);
		fault_end(&f);
	}
	write_cr0(read_cr0() & ~CR0_AM);
	expect(&f, 17, 0, 0, "#AC misaligned access at CPL 3");
	/* Same access at CPL 3 without EFLAGS.AC: no exception */
	write_cr0(read_cr0() | CR0_AM);
	if (!fault_try(&f)) {
		user_call(u_misaligned, (uintptr_t)buf);
		fault_end(&f);
	}
	write_cr0(read_cr0() & ~CR0_AM);
	check_eq(f.vector, NO_FAULT, "no #AC with EFLAGS.AC=0");
}

/* #DF: #GP is contributory; its delivery hits a not-present gate (#NP, also
 * contributory) -> double fault, error code 0 (7.15 vector 8, Table 7-5), on IST1. */
static void test_df(void)
{
	struct fault f;

	idt_set_present(13, 0);
	if (!fault_try(&f)) {
		__asm__ volatile("movq (%0), %%rax" ::"r"(0x8000000000000000ull) : "rax");
		fault_end(&f);
	}
	idt_set_present(13, 1);
	expect(&f, 8, 0, 0, "#DF from #NP while delivering #GP");
	check_eq(f.frame_addr, tss.ist[IST_DF] - 40, "#DF frame on IST1 stack");
}

/* INT n: gate DPL < CPL -> #GP(vector*8+2) (7.12.1.1); IST switch (7.14.5). */
USER_TEXT static uint64_t u_int_dpl0(uint64_t x) { __asm__ volatile("int $0x42"); return 0; }
USER_TEXT static uint64_t u_int_dpl3(uint64_t x) { __asm__ volatile("int $0x43"); return 0; }

static void test_int(void)
{
	struct fault f;

	if (!fault_try(&f)) {
		user_call(u_int_dpl0, 0);
		fault_end(&f);
	}
	expect(&f, 13, ANY_ERR, 0, "INT to DPL0 gate from CPL3 -> #GP");
	check_idt_error(&f, VEC_DPL0, "INT to DPL0 gate from CPL3 -> #GP");
	idt_set_dpl(VEC_DPL3, 3);
	if (!fault_try(&f)) {
		user_call(u_int_dpl3, 0);
		fault_end(&f);
	}
	check_eq(f.vector, VEC_DPL3, "INT to DPL3 gate from CPL3 delivered");
	check_eq(f.cs, SEL_UCODE64 | 3, "INT from CPL3: saved CS has RPL 3");
	check_eq(f.frame_addr, tss.rsp[0] - 40, "INT from CPL3: frame on TSS.RSP0 stack");

	idt_set_ist(VEC_IST, IST_TEST);
	static uint64_t rsp;
	if (!fault_try(&f)) {
		__asm__ volatile("movq %%rsp, %0; int $0x44" : "=m"(rsp));
		fault_end(&f);
	}
	check_eq(f.vector, VEC_IST, "INT to IST gate delivered");
	check_eq(f.frame_addr, tss.ist[IST_TEST] - 40, "IST3 gate: frame at top of IST3 stack");
	check_eq(f.rsp, rsp, "IST3 gate: saved RSP is the interrupted RSP");
}

int main(void)
{
	test_de();
	test_ud();
	test_bp();
	test_gp();
	test_ss_np();
	test_pf();
	test_ac();
	test_df();
	test_int();
	return 0;
}
