/*
 * debugregs - hardware breakpoints and debug exceptions (SDM Vol.3B 18.2 "Debug
 * Registers", 18.3 "Debug Exceptions"; Vol.3A 6.8.3 for MOV SS).
 *
 * Covered: DR6/DR7 fixed bits and the DR4/DR5 aliases; instruction breakpoints (a
 * fault before the instruction, RF = 1 in the IRET image resumes past it); data
 * breakpoints for writes and for reads or writes with LEN 1/2/4/8 (a trap after the
 * instruction, any byte of the access in the range, after the iteration of REP STOSB);
 * several breakpoints in one #DB; B0-B3 rewritten while BS stays set; I/O breakpoints
 * with CR4.DE = 1; general detect (DR7.GD); a MOV SS holding a data breakpoint's #DB
 * over the next instruction.
 *
 * QEMU 7.2 TCG departs from the SDM in a few places; those checks print SKIP there
 * (cpu_is_qemu_tcg()): it does not mask DRn with LEN (SDM 18.2.5), keeps DR6 bit 12
 * and DR7 bits 11-15 as written, pushes RF = 0 after a REP iteration (SDM 18.3.1.1),
 * has no DR7.GD (SDM 18.2.4), reports one breakpoint per #DB and a breakpoint and a
 * single-step as two #DBs (SDM 18.2.3: B0-B3 for every condition met), and does not
 * hold #DBs over a MOV SS (SDM 6.8.3). The
 * task-switch T flag (SDM 18.3.1.5; QEMU 7.2 ignores it) is checked by the unit test
 * tests/unit/cpu/test_debugregs.c, which needs a 32-bit task switch.
 */
#include "rt.h"

#define AT(l) ".globl " #l "\n" #l ":\n\t"

#define DR6_FIXED1 0xffff0ff0ull
#define DR6_B(n) BIT(n)
#define DR6_BD BIT(13)
#define DR6_BS BIT(14)
#define DR7_FIXED1 BIT(10)
#define DR7_GD BIT(13)
#define CR4_DE BIT(3)

enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN_1 = 0, LEN_2 = 1, LEN_8 = 2, LEN_4 = 3 };

#define UNUSED __attribute__((unused))
#define DEF_DR(n)                                                                         \
	static inline UNUSED uint64_t read_dr##n(void)                                    \
	{                                                                                 \
		uint64_t v;                                                               \
		__asm__ volatile("mov %%dr" #n ", %0" : "=r"(v));                         \
		return v;                                                                 \
	}                                                                                 \
	static inline UNUSED void write_dr##n(uint64_t v)                                 \
	{                                                                                 \
		__asm__ volatile("mov %0, %%dr" #n ::"r"(v) : "memory");                  \
	}
DEF_DR(0)
DEF_DR(1)
DEF_DR(2)
DEF_DR(3)
DEF_DR(4)
DEF_DR(6)
DEF_DR(7)
#undef DEF_DR

/* DR7 enable (Ln), R/Wn and LENn of breakpoint n (SDM 18.2.4). */
static uint64_t bp(int n, unsigned rw, unsigned len)
{
	return BIT(2 * n) | ((uint64_t)rw << (16 + 4 * n)) | ((uint64_t)len << (18 + 4 * n));
}

static void write_drn(int n, uint64_t v)
{
	switch (n) {
	case 0: write_dr0(v); break;
	case 1: write_dr1(v); break;
	case 2: write_dr2(v); break;
	default: write_dr3(v); break;
	}
}

/* --- the #DB handler -------------------------------------------------------------- */

#define MAX_DB 8
static volatile int db_n;
static volatile uint64_t db_rip[MAX_DB], db_dr6[MAX_DB], db_rflags[MAX_DB], db_rcx[MAX_DB];
static volatile bool db_set_rf;

static void db_handler(struct frame *f)
{
	int i = db_n < MAX_DB ? db_n : MAX_DB - 1;
	db_rip[i] = f->rip;
	db_dr6[i] = read_dr6();
	db_rflags[i] = f->rflags;
	db_rcx[i] = f->rcx;
	if (db_set_rf)
		f->rflags |= FL_RF; /* resume past an instruction breakpoint (SDM 18.3.1.1) */
	if (++db_n >= MAX_DB) {
		/* A breakpoint that keeps firing: disarm, so that the test can fail. */
		write_dr7(DR7_FIXED1);
		f->rflags &= ~FL_TF;
	}
}

/* Start a case: no breakpoint, DR6 clear, no #DB seen. */
static void arm(int n, uint64_t addr, uint64_t dr7)
{
	write_dr7(DR7_FIXED1);
	write_dr6(0);
	db_n = 0;
	db_set_rf = false;
	if (n >= 0)
		write_drn(n, addr);
	write_dr7(DR7_FIXED1 | dr7);
}

static void disarm(void)
{
	write_dr7(DR7_FIXED1);
	for (int n = 0; n < 4; n++)
		write_drn(n, 0);
}

/* --- the registers (SDM 18.2.2-18.2.4) -------------------------------------------- */

static void registers(void)
{
	write_dr6(0);
	check_eq(read_dr6(), DR6_FIXED1, "DR6 written 0 reads FFFF0FF0H (reserved bits 1, RTM 1)");
	write_dr7(0);
	check_eq(read_dr7(), DR7_FIXED1, "DR7 written 0 reads 400H (bit 10 reads 1)");
	if (cpu_is_qemu_tcg()) {
		skip("DR6 bit 12 and DR7 bits 11, 12, 14, 15 read 0",
		     "QEMU 7.2 keeps them as written");
	} else {
		write_dr6(0xffffffff);
		check_eq(read_dr6(), 0xffffefff, "DR6 bit 12 reads 0");
		write_dr7(0xffff0000 | DR7_FIXED1 | BIT(11) | BIT(12) | BIT(14) | BIT(15));
		check_eq(read_dr7(), 0xffff0400, "DR7 bits 11, 12, 14, 15 read 0");
		write_dr7(DR7_FIXED1);
	}
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 & ~CR4_DE);
	write_dr6(DR6_BS | DR6_B(1));
	check_eq(read_dr4(), read_dr6(), "CR4.DE = 0: DR4 is DR6 (SDM 18.2.2)");
	write_cr4(cr4 | CR4_DE);
	struct fault f;
	if (!fault_try(&f)) {
		(void)read_dr4();
		fault_end(&f);
	}
	check_eq(f.vector, 6, "CR4.DE = 1: MOV from DR4 is #UD (SDM 18.2.2)");
	write_cr4(cr4);
	write_dr6(0);
}

/* --- instruction breakpoints (SDM 18.3.1.1) --------------------------------------- */

extern char ibp_at[], ibp2_at[];

static __attribute__((noinline)) uint64_t ibp_code(void)
{
	uint64_t n = 0;
	__asm__ volatile("incq %0\n\t" AT(ibp_at) "incq %0\n\t"
			 "incq %0" : "+r"(n) :: "memory");
	return n;
}

static __attribute__((noinline)) void ibp2_code(void)
{
	__asm__ volatile(AT(ibp2_at) "nop" ::: "memory");
}

static void insn_breakpoints(void)
{
	arm(0, (uintptr_t)ibp_at, bp(0, RW_EXEC, LEN_1));
	db_set_rf = true;
	uint64_t n = ibp_code();
	check_eq(db_n, 1, "instruction breakpoint: one #DB (RF = 1 in the image resumes past it)");
	check_eq(db_rip[0], (uintptr_t)ibp_at, "instruction breakpoint: fault, saved RIP = the instruction");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(0), "instruction breakpoint: DR6 = B0");
	check(!(db_rflags[0] & FL_RF), "instruction breakpoint: RF = 0 in the image (SDM 18.3.1.1)");
	check_eq(n, 3, "instruction breakpoint: the instruction runs once after the handler");

	/* A disabled breakpoint, and the global enable. */
	arm(0, (uintptr_t)ibp2_at, 0);
	ibp2_code();
	check_eq(db_n, 0, "instruction breakpoint with L0 = G0 = 0: no #DB");
	arm(0, (uintptr_t)ibp2_at, BIT(1));
	db_set_rf = true;
	ibp2_code();
	check_eq(db_n, 1, "instruction breakpoint enabled by G0");
	disarm();
}

/* --- data breakpoints (SDM 18.3.1.2, 18.2.5) -------------------------------------- */

static volatile uint8_t watch[64] __attribute__((aligned(64)));
extern char st8_after[], st4_after[], st1_after[], ld4_after[], ld1_after[];

static __attribute__((noinline)) void store8(volatile void *p, uint64_t v)
{
	__asm__ volatile("movq %1, (%0)\n\t" AT(st8_after) "nop" ::"r"(p), "r"(v) : "memory");
}

static __attribute__((noinline)) void store4(volatile void *p, uint32_t v)
{
	__asm__ volatile("movl %1, (%0)\n\t" AT(st4_after) "nop" ::"r"(p), "r"(v) : "memory");
}

static __attribute__((noinline)) void store1(volatile void *p, uint8_t v)
{
	__asm__ volatile("movb %1, (%0)\n\t" AT(st1_after) "nop" ::"r"(p), "q"(v) : "memory");
}

static __attribute__((noinline)) uint32_t load4(volatile void *p)
{
	uint32_t v;
	__asm__ volatile("movl (%1), %0\n\t" AT(ld4_after) "nop" : "=r"(v) : "r"(p) : "memory");
	return v;
}

static __attribute__((noinline)) uint8_t load1(volatile void *p)
{
	uint8_t v;
	__asm__ volatile("movb (%1), %0\n\t" AT(ld1_after) "nop" : "=q"(v) : "r"(p) : "memory");
	return v;
}

/* One store of size bytes at watch + off: did it trap, right after the store? */
static bool store_traps(int off, int size)
{
	db_n = 0;
	write_dr6(0);
	const char *after;
	switch (size) {
	case 1: store1(watch + off, 0x11); after = st1_after; break;
	case 4: store4(watch + off, 0x44444444); after = st4_after; break;
	default: store8(watch + off, 0x8888888888888888ull); after = st8_after; break;
	}
	return db_n == 1 && db_rip[0] == (uintptr_t)after;
}

static void data_breakpoints(void)
{
	arm(1, (uintptr_t)(watch + 8), bp(1, RW_WRITE, LEN_4));
	(void)load4(watch + 8);
	check_eq(db_n, 0, "write breakpoint: a read does not trap");
	check(store_traps(8, 4), "write breakpoint: trap, saved RIP after the store");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(1), "write breakpoint: DR6 = B1");
	check_eq(watch[8], 0x44, "write breakpoint: the store happened before the trap");
	/* SDM 18.2.5: any byte of the access in the range. */
	check(store_traps(4, 8), "LEN 4: a quadword store overlapping the range traps");
	check(store_traps(11, 1), "LEN 4: a store to the range's last byte traps");
	check(!store_traps(12, 1), "LEN 4: a store to the byte after the range does not");
	check(!store_traps(7, 1), "LEN 4: a store to the byte before the range does not");

	arm(2, (uintptr_t)(watch + 16), bp(2, RW_WRITE, LEN_8));
	check(store_traps(23, 1), "LEN 8: a store to the range's last byte traps");
	check(!store_traps(24, 1), "LEN 8: a store after the range does not");
	arm(2, (uintptr_t)(watch + 30), bp(2, RW_WRITE, LEN_2));
	check(store_traps(31, 1), "LEN 2: a store to the range's last byte traps");
	check(!store_traps(32, 1), "LEN 2: a store after the range does not");
	arm(2, (uintptr_t)(watch + 33), bp(2, RW_WRITE, LEN_1));
	check(store_traps(33, 1), "LEN 1: a store to the byte traps");
	check(!store_traps(34, 1), "LEN 1: a store to the next byte does not");

	/* The LEN alignment masks the low bits of DRn (SDM 18.2.5). */
	if (cpu_is_qemu_tcg()) {
		skip("LEN 4 at an unaligned DRn watches the aligned dword", "QEMU 7.2 does not mask DRn");
	} else {
		arm(2, (uintptr_t)(watch + 43), bp(2, RW_WRITE, LEN_4));
		checkf(store_traps(40, 1) && !store_traps(44, 1),
		       "LEN 4 at an unaligned DRn watches the aligned dword (SDM 18.2.5)");
	}

	/* R/W = 11: reads too. */
	arm(3, (uintptr_t)(watch + 48), bp(3, RW_RW, LEN_1));
	(void)load1(watch + 48);
	check(db_n == 1 && db_rip[0] == (uintptr_t)ld1_after, "read/write breakpoint: a read traps");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(3), "read/write breakpoint: DR6 = B3");

	/* Two breakpoints met by one store: one #DB reports both (SDM 18.3.1.2, 18.2.3). */
	arm(0, (uintptr_t)(watch + 56), bp(0, RW_WRITE, LEN_4) | bp(1, RW_WRITE, LEN_4));
	write_dr1((uintptr_t)(watch + 60));
	check(store_traps(56, 8), "two breakpoints, one store: one #DB");
	if (cpu_is_qemu_tcg())
		skip("two breakpoints, one store: DR6 = B0 | B1", "QEMU 7.2 reports the first only");
	else
		check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(0) | DR6_B(1),
			 "two breakpoints, one store: DR6 = B0 | B1");

	/* B0-B3 say what this #DB reports; BS set by software stays (SDM 18.2.3; the
	 * kvm-unit-tests debug test expects the same of hardware). */
	arm(1, (uintptr_t)(watch + 8), bp(1, RW_WRITE, LEN_4));
	write_dr6(DR6_BS | DR6_B(3));
	db_n = 0;
	store4(watch + 8, 1);
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_BS | DR6_B(1), "B3 cleared, B1 set, BS kept");
	disarm();
}

/* --- REP string (SDM 18.3.1.2: the trap follows the iteration) -------------------- */

extern char rep_at[];

static __attribute__((noinline)) uint64_t rep_stosb(volatile void *p, uint64_t n)
{
	__asm__ volatile(AT(rep_at) "rep stosb" : "+D"(p), "+c"(n) : "a"(0x5a) : "memory");
	return n;
}

static void rep_string(void)
{
	for (int i = 0; i < 64; i++)
		watch[i] = 0;
	arm(2, (uintptr_t)(watch + 5), bp(2, RW_WRITE, LEN_1));
	uint64_t left = rep_stosb(watch, 16);
	check_eq(db_n, 1, "REP STOSB: one #DB");
	check_eq(db_rip[0], (uintptr_t)rep_at, "REP STOSB: saved RIP = the REP instruction");
	check_eq(db_rcx[0], 10, "REP STOSB: RCX as after the iteration that hit");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(2), "REP STOSB: DR6 = B2");
	check(left == 0 && watch[15] == 0x5a, "REP STOSB: completes after the handler");
	if (cpu_is_qemu_tcg())
		skip("REP STOSB: RF = 1 in the image", "QEMU 7.2 pushes RF = 0");
	else
		check(db_rflags[0] & FL_RF, "REP STOSB: RF = 1 in the image (not the last iteration)");
	disarm();
}

/* --- I/O breakpoints (SDM 18.2.4: R/W = 10 with CR4.DE = 1) ----------------------- */

extern char out80_after[], in83_after[];

static __attribute__((noinline)) void out80(void)
{
	__asm__ volatile("outb %%al, $0x80\n\t" AT(out80_after) "nop" ::"a"(0) : "memory");
}

static __attribute__((noinline)) void in83(void)
{
	__asm__ volatile("inb $0x83, %%al\n\t" AT(in83_after) "nop" ::: "rax", "memory");
}

static __attribute__((noinline)) void in84(void)
{
	__asm__ volatile("inb $0x84, %%al" ::: "rax", "memory");
}

static void io_breakpoints(void)
{
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_DE);
	arm(3, 0x80, bp(3, RW_IO, LEN_1));
	out80();
	check(db_n == 1 && db_rip[0] == (uintptr_t)out80_after, "I/O breakpoint on OUT 80H: trap after it");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(3), "I/O breakpoint: DR6 = B3");
	arm(0, 0x80, bp(0, RW_IO, LEN_4));
	in83();
	check(db_n == 1 && db_rip[0] == (uintptr_t)in83_after, "I/O breakpoint LEN 4: IN 83H traps");
	db_n = 0;
	in84();
	check_eq(db_n, 0, "I/O breakpoint LEN 4: IN 84H does not");
	disarm();
	write_cr4(cr4);
}

/* --- general detect (SDM 18.2.4 GD; 18.3.1.3) ------------------------------------- */

extern char gd_at[];

static __attribute__((noinline)) uint64_t gd_code(void)
{
	uint64_t v;
	__asm__ volatile(AT(gd_at) "mov %%dr0, %0" : "=r"(v) :: "memory");
	return v;
}

static void general_detect(void)
{
	if (cpu_is_qemu_tcg()) {
		skip("DR7.GD: #DB before a MOV DR", "QEMU 7.2 does not implement DR7.GD");
		return;
	}
	arm(0, 0x1234, DR7_GD);
	uint64_t v = gd_code();
	check_eq(db_n, 1, "DR7.GD: MOV from DR0 raises one #DB");
	check_eq(db_rip[0], (uintptr_t)gd_at, "DR7.GD: fault, saved RIP = the MOV");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_BD, "DR7.GD: DR6 = BD");
	check(!(read_dr7() & DR7_GD), "DR7.GD is cleared on entry to the handler");
	check_eq(v, 0x1234, "DR7.GD: the MOV runs after the handler");
	check(db_rflags[0] & FL_RF, "DR7.GD: RF = 1 in the image (fault class, SDM 18.3.1.1)");
	disarm();
}

/* --- MOV SS (SDM 6.8.3: #DB held over the next instruction) ----------------------- */

static volatile uint16_t ss_value __attribute__((aligned(8)));
extern char movss_next[], movss_after[];

static __attribute__((noinline)) void movss_code(void)
{
	__asm__ volatile("movw %0, %%ss\n\t" AT(movss_next) "nop\n\t" AT(movss_after) "nop"
			 :: "m"(ss_value) : "memory");
}

static void movss(void)
{
	if (cpu_is_qemu_tcg()) {
		skip("MOV SS holds a data breakpoint's #DB over the next instruction",
		     "QEMU 7.2 delivers it right after MOV SS");
		return;
	}
	ss_value = read_ss();
	arm(0, (uintptr_t)&ss_value, bp(0, RW_RW, LEN_2));
	movss_code();
	check_eq(db_n, 1, "MOV SS reading a breakpoint: one #DB");
	check_eq(db_rip[0], (uintptr_t)movss_after, "MOV SS: the #DB comes after the next instruction");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_B(0), "MOV SS: DR6 = B0");
	disarm();
}

/* --- single-step with a data breakpoint (SDM 18.3.1.4, 18.2.3) -------------------- */

extern char ss_store_after[];

static __attribute__((noinline)) void tf_store(volatile void *p)
{
	/* pushf; set TF; popf; store (traps with BS and B1); clear TF. */
	__asm__ volatile("pushfq\n\t"
			 "orq $0x100, (%%rsp)\n\t"
			 "popfq\n\t"
			 "movl $1, (%0)\n\t" AT(ss_store_after)
			 "pushfq\n\t"
			 "andq $~0x100, (%%rsp)\n\t"
			 "popfq" ::"r"(p) : "memory", "cc");
}

static void step_and_data(void)
{
	if (cpu_is_qemu_tcg()) {
		skip("TF + write breakpoint: one #DB with BS | B1",
		     "QEMU 7.2 delivers the breakpoint and the single-step as two #DBs");
		return;
	}
	arm(1, (uintptr_t)(watch + 8), bp(1, RW_WRITE, LEN_4));
	tf_store(watch + 8);
	/* #DBs after the store (single-step and the breakpoint together), then after
	 * PUSHFQ (single-step only: B0-B3 rewritten), ANDQ and the POPFQ that clears TF. */
	check(db_n >= 1 && db_rip[0] == (uintptr_t)ss_store_after,
	      "TF + write breakpoint: the first #DB follows the store");
	check_eq(db_dr6[0], DR6_FIXED1 | DR6_BS | DR6_B(1), "TF + write breakpoint: DR6 = BS | B1");
	check_eq(db_n, 4, "TF: one #DB after each instruction up to the POPF that clears TF");
	check_eq(db_dr6[1], DR6_FIXED1 | DR6_BS, "single-step #DB after it: DR6 = BS, B1 cleared");
	disarm();
}

int main(void)
{
	irq_register(1, db_handler);
	registers();
	insn_breakpoints();
	data_breakpoints();
	rep_string();
	io_breakpoints();
	general_detect();
	movss();
	step_and_data();
	return 0;
}
