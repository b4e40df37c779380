/*
 * Hardware breakpoints and debug exceptions through the run loop (SDM Vol.3B 18.2
 * "Debug Registers", 18.3 "Debug Exceptions"; Vol.3A 6.8.3 and Table 6-2 for timing):
 *   - instruction breakpoints: fault-class #DB before the instruction, also in the
 *     middle of a decoded block; RF suppresses them, set directly or by IRETQ, and is
 *     cleared after one instruction; none after MOV SS;
 *   - data breakpoints: write (R/W = 01) and read/write (11), LEN 1/2/4/8 with the
 *     LEN alignment of SDM 18.2.5, trap-class #DB after the instruction, after the
 *     iteration for REP STOS (RF = 1 pushed, RCX/RDI of that iteration), several
 *     breakpoints and single-step in one #DB, implicit accesses, nothing for an
 *     instruction that faults, 32-bit protected mode;
 *   - I/O breakpoints (R/W = 10) with CR4.DE = 1 only;
 *   - general detect (DR7.GD): fault-class #DB, DR6.BD, RF = 1 pushed, GD cleared;
 *   - the T flag of a 32-bit TSS: #DB with DR6.BT before the new task's first
 *     instruction, for JMP and for INT n through a task gate;
 *   - DR6/DR7 fixed bits, B0-B3 rewritten and BD/BS/BT kept by each #DB;
 *   - MOV SS holds a data breakpoint over the next instruction; INT1 reports it;
 *   - pages with armed breakpoints leave the TLB fast path and get it back when the
 *     breakpoints are disarmed.
 */
#include "sys_harness.h"

#include "cpu/dcache.h"
#include "cpu/debug.h"
#include "cpu/sys.h"

#define H_BASE 0x5000ULL          /* vector v: a HLT at H_BASE + 16 v */
#define H_IRET 0x5800ULL          /* #DB: count, IRETQ */
#define H_IRET_RF 0x5900ULL       /* #DB: count, set RF in the frame, IRETQ */
#define COUNTER (DATA_BASE + 0x800)
#define UNMAPPED 0x8000000ULL     /* beyond the 64 MiB identity map */
#define TSS_B 0x4000ULL
#define SEL_TSS_B 0x80
#define NEW_EIP 0x21000ULL

/* DR7 fields (SDM 18.2.4). */
enum { RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2, RW_RW = 3 };
enum { LEN_1 = 0, LEN_2 = 1, LEN_8 = 2, LEN_4 = 3 };

static struct dcache DC;

static uint64_t bp(int n, unsigned rw, unsigned len)
{
	return BIT(2 * n) | ((uint64_t)rw << (16 + 4 * n)) | ((uint64_t)len << (18 + 4 * n));
}

static uint64_t handler(int vec)
{
	return H_BASE + 16 * (uint64_t)vec;
}

/* --- code ------------------------------------------------------------------------- */

struct code {
	uint8_t b[128];
	int n;
};

static void put(struct code *c, const uint8_t *b, int n)
{
	memcpy(c->b + c->n, b, (size_t)n);
	c->n += n;
}

#define E(c, ...)                                            \
	do {                                                 \
		const uint8_t b_[] = { __VA_ARGS__ };        \
		put((c), b_, (int)sizeof(b_));               \
	} while (0)

static void d32(struct code *c, uint64_t v)
{
	uint32_t x = (uint32_t)v;
	put(c, (const uint8_t *)&x, 4);
}

/* 64-bit forms with a [disp32] operand (ModRM 04, SIB 25). */
static void mov_m32_eax(struct code *c, uint64_t a) { E(c, 0x89, 0x04, 0x25); d32(c, a); }
static void mov_m64_rax(struct code *c, uint64_t a) { E(c, 0x48, 0x89, 0x04, 0x25); d32(c, a); }
static void mov_m8_al(struct code *c, uint64_t a) { E(c, 0x88, 0x04, 0x25); d32(c, a); }
static void mov_eax_m32(struct code *c, uint64_t a) { E(c, 0x8B, 0x04, 0x25); d32(c, a); }
static void mov_ss_m16(struct code *c, uint64_t a) { E(c, 0x8E, 0x14, 0x25); d32(c, a); }
static void inc_eax(struct code *c) { E(c, 0xFF, 0xC0); }
static void hlt(struct code *c) { E(c, 0xF4); }

static void load(uint64_t at, const struct code *c)
{
	memcpy(B.ram + at, c->b, (size_t)c->n);
	bus_note_write(&B, at >> PAGE_SHIFT); /* forget decoded blocks of the old bytes */
}

/* The handlers: a HLT per vector; H_IRET: inc qword [COUNTER]; iretq; H_IRET_RF:
 * inc qword [COUNTER]; or dword [rsp+16], 10000H; iretq. */
static void load_handlers(void)
{
	for (int v = 0; v < 32; v++)
		B.ram[handler(v)] = 0xF4;
	struct code c = { .n = 0 };
	E(&c, 0x48, 0xFF, 0x04, 0x25);
	d32(&c, COUNTER);
	E(&c, 0x48, 0xCF);
	load(H_IRET, &c);
	c.n = 0;
	E(&c, 0x48, 0xFF, 0x04, 0x25);
	d32(&c, COUNTER);
	E(&c, 0x81, 0x4C, 0x24, 0x10, 0x00, 0x00, 0x01, 0x00);
	E(&c, 0x48, 0xCF);
	load(H_IRET_RF, &c);
	*ram64(COUNTER) = 0;
}

/* --- machine state ---------------------------------------------------------------- */

/* MOV DRn, RAX as the guest executes it (so that breakpoints are armed); RIP and RAX
 * (for a write) are left as they were. */
static int mov_dr(unsigned n, uint64_t v, bool to)
{
	struct insn in = insn();
	in.reg = (uint8_t)n;
	in.rm = RAX;
	uint64_t save = C->gpr[RAX], rip = C->rip;
	C->gpr[RAX] = v;
	int r = run_insn(to ? exec_MOV_TO_DR : exec_MOV_FROM_DR, &in);
	if (to)
		C->gpr[RAX] = save;
	C->rip = rip;
	return r;
}

static void set_dr(unsigned n, uint64_t v)
{
	CHECK_EQ(mov_dr(n, v, true), NO_FAULT);
}

static uint64_t get_dr(unsigned n)
{
	CHECK_EQ(mov_dr(n, 0, false), NO_FAULT);
	return C->gpr[RAX];
}

static void clear_drs(void)
{
	set_dr(7, DR7_FIXED1);
	for (unsigned n = 0; n < 4; n++)
		set_dr(n, 0);
	set_dr(6, 0);
}

/* 64-bit mode at CPL 0, every exception to its HLT, #DB to db_handler. */
static void setup64(uint64_t db_handler)
{
	mode_long64(0);
	for (int v = 0; v < 32; v++)
		idt64_set(v, SEL_CODE64, handler(v), 0xE, 0, 0);
	idt64_set(EXC_DB, SEL_CODE64, db_handler, 0xE, 0, 0);
	load_handlers();
	memset(B.ram + DATA_BASE, 0, 0x100);
	clear_drs();
	for (int i = 0; i < 16; i++)
		C->gpr[i] = 0;
	C->gpr[RSP] = KSTACK_TOP;
	C->rip = CODE_BASE;
	C->events = 0;
	C->dbg.hits = C->dbg.pending = 0;
}

static enum cpu_exit run(uint64_t budget)
{
	C->halted = false;
	return cpu_run(C, budget);
}

/* After a run that ended in a HLT handler: which vector, and the frame. */
static bool stopped_in(uint64_t h)
{
	return C->halted && C->rip == h + 1;
}

static uint64_t frame_rip(void) { return stk64(0); }
static uint64_t frame_rflags(void) { return stk64(16); }

/* --- instruction breakpoints (SDM 18.3.1.1) --------------------------------------- */

/* inc eax x3; hlt, with the breakpoint on the third INC: the block around it is
 * decoded as one, so this checks the page runs instruction by instruction. */
static void code_incs(void)
{
	struct code c = { .n = 0 };
	inc_eax(&c);
	inc_eax(&c);
	inc_eax(&c);
	hlt(&c);
	load(CODE_BASE, &c);
}

static void test_insn_bp(void)
{
	setup64(handler(EXC_DB));
	code_incs();
	/* Warm the decoded-block cache and the TLB with the breakpoint disarmed. */
	run(10);
	CHECK_EQ(C->gpr[RAX], 3);
	C->rip = CODE_BASE;
	C->gpr[RAX] = 0;
	set_dr(0, CODE_BASE + 4);
	set_dr(7, DR7_FIXED1 | bp(0, RW_EXEC, LEN_1));
	run(10);
	/* Fault: the saved RIP is the instruction's, which has not run; DR6.B0 (18.2.3);
	 * RF = 0 in the image (the one fault whose RF is not set, 18.3.1.1). */
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 4);
	CHECK_EQ(C->gpr[RAX], 2);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0));
	CHECK(!(frame_rflags() & RFLAGS_RF));

	/* RF = 1: the breakpoint is ignored for one instruction, then RF is cleared
	 * (18.3.1.1: "cleared at the start of the instruction after the check"). */
	C->rip = CODE_BASE + 4;
	C->gpr[RSP] = KSTACK_TOP;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_RF);
	run(10);
	CHECK(stopped_in(CODE_BASE + 6));
	CHECK_EQ(C->gpr[RAX], 3);
	CHECK(!(C->rflags & RFLAGS_RF));

	/* A disabled breakpoint (L0 = G0 = 0) does nothing; G0 enables like L0. */
	set_dr(7, DR7_FIXED1 | (bp(0, RW_EXEC, LEN_1) & ~1ULL));
	C->rip = CODE_BASE;
	C->gpr[RAX] = 0;
	run(10);
	CHECK(stopped_in(CODE_BASE + 6));
	set_dr(7, DR7_FIXED1 | BIT(1));
	C->rip = CODE_BASE;
	C->gpr[RAX] = 0;
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 4);
}

/* The handler returns with RF set in the image (the Linux/kvm-unit-tests idiom):
 * IRETQ loads RF, the instruction runs once, and RF is clear afterwards. */
static void test_insn_bp_iret_rf(void)
{
	setup64(H_IRET_RF);
	code_incs();
	set_dr(0, CODE_BASE + 2);
	set_dr(7, DR7_FIXED1 | bp(0, RW_EXEC, LEN_1));
	run(20);
	CHECK(stopped_in(CODE_BASE + 6));
	CHECK_EQ(*ram64(COUNTER), 1);
	CHECK_EQ(C->gpr[RAX], 3);
	CHECK(!(C->rflags & RFLAGS_RF));
}

/* SDM 18.3.1.1: a breakpoint on the instruction after MOV SS "may not be
 * triggered"; here it is not (the shadow suppresses it, SDM 6.8.3). */
static void test_insn_bp_movss(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	E(&c, 0x8E, 0xD0); /* mov ss, ax */
	inc_eax(&c);
	hlt(&c);
	load(CODE_BASE, &c);
	C->gpr[RAX] = SEL_DATA32;
	set_dr(0, CODE_BASE + 2);
	set_dr(7, DR7_FIXED1 | bp(0, RW_EXEC, LEN_1));
	run(10);
	CHECK(stopped_in(CODE_BASE + 4));
	CHECK_EQ(C->gpr[RAX], SEL_DATA32 + 1);
}

/* --- data breakpoints (SDM 18.3.1.2, 18.2.5) -------------------------------------- */

/* A single store of size bytes (1, 4 or 8) at a, then hlt; returns the trap's
 * expected saved RIP (the next instruction). */
static uint64_t code_store(uint64_t a, int size)
{
	struct code c = { .n = 0 };
	if (size == 1)
		mov_m8_al(&c, a);
	else if (size == 4)
		mov_m32_eax(&c, a);
	else
		mov_m64_rax(&c, a);
	uint64_t next = CODE_BASE + (uint64_t)c.n;
	hlt(&c);
	load(CODE_BASE, &c);
	return next;
}

/* Does a store of size bytes at a hit? Runs it from CODE_BASE. */
static bool store_hits(uint64_t a, int size)
{
	uint64_t next = code_store(a, size);
	C->rip = CODE_BASE;
	C->gpr[RSP] = KSTACK_TOP;
	run(10);
	if (stopped_in(handler(EXC_DB)))
		return frame_rip() == next;
	return false;
}

static void test_data_write(void)
{
	setup64(handler(EXC_DB));
	/* A cached translation with fast tags before the breakpoint is armed. */
	C->gpr[RAX] = 0x11223344;
	CHECK(!store_hits(DATA_BASE + 8, 4));
	set_dr(1, DATA_BASE + 8);
	set_dr(7, DR7_FIXED1 | bp(1, RW_WRITE, LEN_4));
	/* A read does not hit a write breakpoint. */
	struct code c = { .n = 0 };
	mov_eax_m32(&c, DATA_BASE + 8);
	hlt(&c);
	load(CODE_BASE, &c);
	C->rip = CODE_BASE;
	run(10);
	CHECK(stopped_in(CODE_BASE + 7));
	CHECK_EQ(C->gpr[RAX], 0x11223344);
	/* The write: a trap after it (saved RIP = next instruction), the data written,
	 * DR6 = fixed bits | B1. */
	C->gpr[RAX] = 0x55667788;
	CHECK(store_hits(DATA_BASE + 8, 4));
	CHECK_EQ(*ram32(DATA_BASE + 8), 0x55667788);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(1));
	CHECK(!(frame_rflags() & RFLAGS_RF));
	/* Any byte of the access in the range (18.2.5): a quadword store at +4 covers
	 * +8..+11; a byte at +12 is outside. */
	CHECK(store_hits(DATA_BASE + 4, 8));
	CHECK(!store_hits(DATA_BASE + 12, 1));
	CHECK(store_hits(DATA_BASE + 11, 1));
}

/* LEN masks the low bits of DRn (18.2.5): DR2 = base + 13H with LEN 4 watches
 * base + 10H..13H; with LEN 8, DR2 = base + 27H watches 20H..27H; LEN 2 at 31H
 * watches 30H..31H. */
static void test_data_len(void)
{
	setup64(handler(EXC_DB));
	set_dr(2, DATA_BASE + 0x13);
	set_dr(7, DR7_FIXED1 | bp(2, RW_WRITE, LEN_4));
	CHECK(store_hits(DATA_BASE + 0x10, 1));
	CHECK(!store_hits(DATA_BASE + 0x14, 1));
	CHECK(!store_hits(DATA_BASE + 0x0F, 1));
	set_dr(2, DATA_BASE + 0x27);
	set_dr(7, DR7_FIXED1 | bp(2, RW_WRITE, LEN_8));
	CHECK(store_hits(DATA_BASE + 0x20, 1));
	CHECK(!store_hits(DATA_BASE + 0x28, 1));
	CHECK(!store_hits(DATA_BASE + 0x1F, 1));
	set_dr(2, DATA_BASE + 0x31);
	set_dr(7, DR7_FIXED1 | bp(2, RW_WRITE, LEN_2));
	CHECK(store_hits(DATA_BASE + 0x30, 1));
	CHECK(!store_hits(DATA_BASE + 0x32, 1));
	CHECK(store_hits(DATA_BASE + 0x2C, 8));
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(2));
}

/* R/W = 11 also breaks on reads; one instruction matching two breakpoints reports
 * both in one #DB (B0 | B3); single-step and a data breakpoint give BS | Bn. */
static void test_data_rw_and_combined(void)
{
	setup64(handler(EXC_DB));
	set_dr(3, DATA_BASE + 0x40);
	set_dr(7, DR7_FIXED1 | bp(3, RW_RW, LEN_4));
	struct code c = { .n = 0 };
	mov_eax_m32(&c, DATA_BASE + 0x40);
	hlt(&c);
	load(CODE_BASE, &c);
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 7);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(3));

	set_dr(0, DATA_BASE + 0x44);
	set_dr(7, DR7_FIXED1 | bp(3, RW_RW, LEN_4) | bp(0, RW_WRITE, LEN_4));
	CHECK(store_hits(DATA_BASE + 0x40, 8));
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0) | DR6_B(3));

	/* TF: the single-step trap and the breakpoint are one #DB (18.3.1.4). */
	code_store(DATA_BASE + 0x44, 4);
	C->rip = CODE_BASE;
	C->gpr[RSP] = KSTACK_TOP;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 7);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_BS | DR6_B(0));
}

/* SDM 18.2.3: B0-B3 say which breakpoints this #DB reports; BD, BS, BT are never
 * cleared by the processor (the kvm-unit-tests debug test checks the same). */
static void test_dr6_sticky(void)
{
	setup64(handler(EXC_DB));
	set_dr(6, DR6_BS | DR6_B(3));
	CHECK_EQ(get_dr(6), DR6_FIXED1 | DR6_BS | DR6_B(3));
	set_dr(1, DATA_BASE + 8);
	set_dr(7, DR7_FIXED1 | bp(1, RW_WRITE, LEN_4));
	CHECK(store_hits(DATA_BASE + 8, 4));
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_BS | DR6_B(1));
	/* Fixed bits: DR6 bits 4-11, 16-31 read 1 and bit 12 0 (18.2.3; RTM, bit 16,
	 * reads 1 without RTM); DR7 bit 10 reads 1, bits 11, 12, 14, 15 read 0 (18.2.4). */
	set_dr(6, 0xFFFFFFFF);
	CHECK_EQ(get_dr(6), 0xFFFFEFFF);
	set_dr(6, 0);
	CHECK_EQ(get_dr(6), DR6_FIXED1);
	set_dr(7, 0);
	CHECK_EQ(get_dr(7), DR7_FIXED1);
	set_dr(7, 0xFFFFDFFF);
	CHECK_EQ(get_dr(7), 0xFFFF07FF);
	set_dr(7, DR7_FIXED1);
}

/* 18.3.1.2: after the iteration of a REP string instruction that hits; the saved
 * RIP is the REP instruction itself, RCX/RDI as after that iteration, and RF = 1 in
 * the image (18.3.1.1: a trap on an iteration other than the last). */
static void test_rep_string(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	E(&c, 0xF3, 0xAA); /* rep stosb */
	hlt(&c);
	load(CODE_BASE, &c);
	set_dr(2, DATA_BASE + 0x45);
	set_dr(7, DR7_FIXED1 | bp(2, RW_WRITE, LEN_1));
	C->gpr[RAX] = 0x5A;
	C->gpr[RCX] = 16;
	C->gpr[RDI] = DATA_BASE + 0x40;
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE);
	CHECK_EQ(C->gpr[RCX], 10);
	CHECK_EQ(C->gpr[RDI], DATA_BASE + 0x46);
	CHECK_EQ(B.ram[DATA_BASE + 0x45], 0x5A);
	CHECK_EQ(B.ram[DATA_BASE + 0x46], 0);
	CHECK(frame_rflags() & RFLAGS_RF);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(2));

	/* Returning with IRETQ (RF = 1 from the image) finishes the instruction. */
	setup64(H_IRET);
	load(CODE_BASE, &c);
	set_dr(2, DATA_BASE + 0x45);
	set_dr(7, DR7_FIXED1 | bp(2, RW_WRITE, LEN_1));
	C->gpr[RAX] = 0x5A;
	C->gpr[RCX] = 16;
	C->gpr[RDI] = DATA_BASE + 0x40;
	run(100);
	CHECK(stopped_in(CODE_BASE + 2));
	CHECK_EQ(*ram64(COUNTER), 1);
	CHECK_EQ(C->gpr[RCX], 0);
	CHECK_EQ(B.ram[DATA_BASE + 0x4F], 0x5A);
	CHECK(!(C->rflags & RFLAGS_RF));
}

/* An instruction that faults after its access matched did not complete: the #PF is
 * delivered and no #DB trap follows. movsb reads the breakpoint, the write faults. */
static void test_fault_drops_hit(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	E(&c, 0xA4); /* movsb */
	hlt(&c);
	load(CODE_BASE, &c);
	set_dr(0, DATA_BASE + 0x60);
	set_dr(7, DR7_FIXED1 | bp(0, RW_RW, LEN_1));
	C->gpr[RSI] = DATA_BASE + 0x60;
	C->gpr[RDI] = UNMAPPED;
	run(10);
	CHECK(stopped_in(handler(EXC_PF)));
	CHECK_EQ(C->dr[6], DR6_FIXED1);
	CHECK_EQ(C->dbg.hits | C->dbg.pending, 0);
	CHECK(!(C->events & CPU_EV_DBTRAP));
}

/* Data breakpoints match implicit accesses too: a descriptor read by MOV DS. */
static void test_implicit_access(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	E(&c, 0x8E, 0xD8); /* mov ds, ax */
	hlt(&c);
	load(CODE_BASE, &c);
	set_dr(0, GDT_BASE + SEL_DATA32);
	set_dr(7, DR7_FIXED1 | bp(0, RW_RW, LEN_8));
	C->gpr[RAX] = SEL_DATA32;
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 2);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0));
}

/* SDM 6.8.3: MOV SS holds a data breakpoint's #DB over the next instruction. */
static void test_movss_data(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	mov_ss_m16(&c, DATA_BASE + 0x50);
	inc_eax(&c);
	inc_eax(&c);
	hlt(&c);
	load(CODE_BASE, &c);
	*ram16(DATA_BASE + 0x50) = SEL_DATA32;
	set_dr(0, DATA_BASE + 0x50);
	set_dr(7, DR7_FIXED1 | bp(0, RW_RW, LEN_2));
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE + 9); /* after the first INC */
	CHECK_EQ(C->gpr[RAX], 1);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0));

	/* INT1 after it: one #DB, which reports the breakpoint (kvm-unit-tests "MOV SS +
	 * watchpoint + ICEBP"). */
	setup64(H_IRET);
	c.n = 0;
	mov_ss_m16(&c, DATA_BASE + 0x50);
	E(&c, 0xF1); /* int1 */
	inc_eax(&c);
	hlt(&c);
	load(CODE_BASE, &c);
	*ram16(DATA_BASE + 0x50) = SEL_DATA32;
	set_dr(0, DATA_BASE + 0x50);
	set_dr(7, DR7_FIXED1 | bp(0, RW_RW, LEN_2));
	run(20);
	CHECK(stopped_in(CODE_BASE + 10));
	CHECK_EQ(*ram64(COUNTER), 1);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0));
	CHECK(!(C->events & CPU_EV_DBTRAP));
}

/* --- I/O breakpoints (SDM 18.2.4 R/W = 10, 18.3.1.2) ------------------------------ */

static bool io_hits(const uint8_t *insn, int len)
{
	struct code c = { .n = 0 };
	put(&c, insn, len);
	hlt(&c);
	load(CODE_BASE, &c);
	C->rip = CODE_BASE;
	C->gpr[RSP] = KSTACK_TOP;
	run(10);
	return stopped_in(handler(EXC_DB)) && frame_rip() == CODE_BASE + (uint64_t)len;
}

static void test_io(void)
{
	static const uint8_t out80[] = { 0xE6, 0x80 }, in72[] = { 0xE4, 0x72 },
			     in74[] = { 0xE4, 0x74 };
	setup64(handler(EXC_DB));
	set_dr(3, 0x80);
	set_dr(7, DR7_FIXED1 | bp(3, RW_IO, LEN_1));
	/* CR4.DE = 0: R/W = 10 is undefined; no breakpoint here. */
	CHECK(!io_hits(out80, 2));
	CHECK_EQ(GUARD(cpu_write_cr4(C, C->cr4 | CR4_DE)), NO_FAULT);
	CHECK(io_hits(out80, 2));
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(3));
	/* LEN 4 from port 71H watches 70H-73H. */
	set_dr(3, 0x71);
	set_dr(7, DR7_FIXED1 | bp(3, RW_IO, LEN_4));
	CHECK(io_hits(in72, 2));
	CHECK(!io_hits(in74, 2));
	CHECK_EQ(GUARD(cpu_write_cr4(C, C->cr4 & ~CR4_DE)), NO_FAULT);
	CHECK(!io_hits(in72, 2));
}

/* --- general detect (SDM 18.2.4 GD, 18.3.1.3) ------------------------------------- */

static void test_general_detect(void)
{
	setup64(handler(EXC_DB));
	struct code c = { .n = 0 };
	E(&c, 0x0F, 0x21, 0xC0); /* mov rax, dr0 */
	hlt(&c);
	load(CODE_BASE, &c);
	set_dr(0, 0x1234);
	set_dr(7, DR7_FIXED1 | DR7_GD);
	C->gpr[RAX] = 0;
	run(10);
	/* A fault before the access: RIP of the MOV, RAX unchanged, DR6.BD, GD cleared
	 * so the handler can use the registers, and RF = 1 in the image (18.3.1.1: every
	 * fault-class exception but an instruction breakpoint). */
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(frame_rip(), CODE_BASE);
	CHECK_EQ(C->gpr[RAX], 0);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_BD);
	CHECK(!(C->dr[7] & DR7_GD));
	CHECK(frame_rflags() & RFLAGS_RF);
	CHECK(!(C->rflags & RFLAGS_RF)); /* cleared on entry to the handler (6.12.1.3) */
	/* Now the MOV runs. */
	C->rip = CODE_BASE;
	run(10);
	CHECK(stopped_in(CODE_BASE + 3));
	CHECK_EQ(C->gpr[RAX], 0x1234);
}

/* --- the TLB fast path ------------------------------------------------------------ */

static uint64_t outline_of_store(uint64_t a)
{
	uint64_t before = C->tlb.stats.outline;
	code_store(a, 4);
	C->rip = CODE_BASE;
	run(10);
	return C->tlb.stats.outline - before;
}

/* An armed data breakpoint keeps its page off the fast path (every access to it is
 * checked), and disarming gives the page its fast tags back (no lasting cost). */
static void test_fast_path(void)
{
	setup64(handler(EXC_DB));
	outline_of_store(DATA_BASE + 0x100); /* warm: D bit, decoded block */
	uint64_t fast = outline_of_store(DATA_BASE + 0x100);
	set_dr(1, DATA_BASE + 8);
	set_dr(7, DR7_FIXED1 | bp(1, RW_WRITE, LEN_4));
	CHECK(outline_of_store(DATA_BASE + 0x100) > fast);
	CHECK(!stopped_in(handler(EXC_DB)));
	set_dr(7, DR7_FIXED1);
	CHECK_EQ(outline_of_store(DATA_BASE + 0x100), fast);
}

/* --- 32-bit protected mode: data breakpoint, task-switch T flag ------------------- */

static void setup32(void)
{
	mode_prot32(0);
	for (int v = 0; v < 32; v++)
		idt32_set(v, mkgate(SEL_CODE32, handler(v), 0xE, 0, true, 0));
	for (int v = 0; v < 32; v++)
		B.ram[handler(v)] = 0xF4;
	clear_drs();
	C->gpr[RAX] = 0;
	C->events = 0;
	C->dbg.hits = C->dbg.pending = 0;
}

static void test_data_prot32(void)
{
	setup32();
	struct code c = { .n = 0 };
	E(&c, 0x89, 0x05); /* mov [disp32], eax */
	d32(&c, DATA_BASE + 8);
	hlt(&c);
	load(CODE_BASE, &c);
	set_dr(0, DATA_BASE + 8);
	set_dr(7, DR7_FIXED1 | bp(0, RW_WRITE, LEN_4));
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(stk32(0), CODE_BASE + 6);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_B(0));
}

/* A 32-bit TSS for task B: EIP NEW_EIP (inc eax; hlt), flat ring-0 segments, T as
 * given (byte 64H bit 0, SDM 8.2.1). */
static void tss_b(bool trap)
{
	C->gdtr.limit = 0xFF;
	gdt_set(SEL_TSS_B, mkdesc((uint32_t)TSS_B, 0x67, 9, false, 0, true, 0));
	memset(B.ram + TSS_B, 0, 0x68);
	*ram32(TSS_B + 0x20) = NEW_EIP;
	*ram32(TSS_B + 0x24) = RFLAGS_FIXED1;
	*ram32(TSS_B + 0x28) = 0x100; /* EAX */
	*ram32(TSS_B + 0x38) = 0x7000; /* ESP */
	for (int i = 0; i < SEG_COUNT; i++)
		*ram16(TSS_B + 0x48 + 4 * (uint64_t)i) = SEL_DATA32;
	*ram16(TSS_B + 0x4C) = SEL_CODE32;
	*ram16(TSS_B + 0x64) = trap;
	*ram16(TSS_B + 0x66) = 0x68;
	struct code c = { .n = 0 };
	inc_eax(&c);
	hlt(&c);
	load(NEW_EIP, &c);
}

/* SDM 18.3.1.5: with T set, a #DB after the switch, before the new task's first
 * instruction (saved EIP = its EIP), DR6.BT. */
static void test_task_trap(void)
{
	struct code jmp = { .n = 0 };
	E(&jmp, 0xEA, 0, 0, 0, 0, SEL_TSS_B, 0); /* jmp far SEL_TSS_B:0 */
	for (int trap = 0; trap < 2; trap++) {
		setup32();
		tss_b(trap);
		load(CODE_BASE, &jmp);
		run(10);
		if (trap) {
			CHECK(stopped_in(handler(EXC_DB)));
			CHECK_EQ(stk32(0), NEW_EIP);
			CHECK_EQ(C->gpr[RAX], 0x100);
			CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_BT);
		} else {
			CHECK(stopped_in(NEW_EIP + 2));
			CHECK_EQ(C->gpr[RAX], 0x101);
			CHECK_EQ(C->dr[6], DR6_FIXED1);
		}
	}
	/* INT n through a task gate (SDM 6.12.2). */
	setup32();
	tss_b(true);
	idt32_set(0x40, mkgate(SEL_TSS_B, 0, 5, 0, true, 0));
	struct code c = { .n = 0 };
	E(&c, 0xCD, 0x40);
	load(CODE_BASE, &c);
	run(10);
	CHECK(stopped_in(handler(EXC_DB)));
	CHECK_EQ(stk32(0), NEW_EIP);
	CHECK_EQ(C->dr[6], DR6_FIXED1 | DR6_BT);
}

int main(void)
{
	sys_init();
	if (dcache_init(&DC, 8)) {
		fprintf(stderr, "cannot set up the decoded-instruction cache\n");
		return 2;
	}
	C->dcache = &DC;
	test_insn_bp();
	test_insn_bp_iret_rf();
	test_insn_bp_movss();
	test_data_write();
	test_data_len();
	test_data_rw_and_combined();
	test_dr6_sticky();
	test_rep_string();
	test_fault_drops_hit();
	test_implicit_access();
	test_movss_data();
	test_io();
	test_general_detect();
	test_fast_path();
	test_data_prot32();
	test_task_trap();
	return report("debugregs");
}
