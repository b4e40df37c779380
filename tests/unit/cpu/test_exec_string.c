/*
 * String instructions: what the host cannot show (SDM Vol.2 "REP/REPE/REPZ/REPNE/
 * REPNZ" and the MOVS ... OUTS pages).
 *   - a long REP runs in bounded chunks: RIP stays at the instruction, rCX/rSI/rDI are
 *     updated ("interrupted REP"), and the next execution resumes;
 *   - a fault in the middle leaves the registers as of the completed iterations;
 *   - 16-bit addressing wraps SI/DI/CX at 64K and leaves the upper halves alone;
 *   - REPE/REPNE termination; INS/OUTS through the bus and the I/O permission check.
 */
#include "sys_harness.h"

static struct insn str(int osz, int asz, uint16_t rep)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.asz = (uint8_t)asz;
	in.flags = rep;
	in.len = 2;
	return in;
}

/* Run until RIP moves past the instruction (each call is one "execution"). */
static int run_to_end(exec_fn fn, const struct insn *in, int *calls)
{
	uint64_t rip = C->rip;
	*calls = 0;
	for (;;) {
		int v = run_insn(fn, in);
		(*calls)++;
		if (v != NO_FAULT || C->rip != rip || *calls > 1000)
			return v;
	}
}

/* A long REP MOVSB forwards (fast path) or backwards (DF = 1, element by element). */
static void rep_chunks(bool df, uint64_t count)
{
	mode_long64(3);
	uint64_t src = DATA_BASE, dst = DATA_BASE + 0x100000;
	for (uint64_t i = 0; i < count; i++)
		B.ram[src + i] = (uint8_t)(i * 7 + (i >> 8));
	memset(B.ram + dst, 0, count);
	cpu_set_rflags(C, RFLAGS_FIXED1 | (df ? RFLAGS_DF : 0));
	C->gpr[RSI] = df ? src + count - 1 : src;
	C->gpr[RDI] = df ? dst + count - 1 : dst;
	C->gpr[RCX] = count;
	struct insn in = str(0, 3, INSN_REP);
	uint64_t rip = C->rip;
	/* First execution: not finished, RIP unchanged, registers show the progress. */
	CHECK_EQ(run_insn(exec_MOVS, &in), NO_FAULT);
	CHECK_EQ(C->rip, rip);
	uint64_t done = count - C->gpr[RCX];
	CHECK(C->gpr[RCX] < count && C->gpr[RCX] > 0);
	CHECK_EQ(C->gpr[RSI], df ? src + count - 1 - done : src + done);
	CHECK_EQ(C->gpr[RDI], df ? dst + count - 1 - done : dst + done);
	int calls;
	CHECK_EQ(run_to_end(exec_MOVS, &in, &calls), NO_FAULT);
	CHECK_EQ(C->rip, rip + 2);
	CHECK_EQ(C->gpr[RCX], 0);
	CHECK_EQ(C->gpr[RSI], df ? src - 1 : src + count);
	CHECK(calls >= 2);
	/* The fast path counts 1/16 per iteration: far fewer executions forwards. */
	CHECK(df ? (uint64_t)calls >= count / 4096 : (uint64_t)calls < count / 4096);
	CHECK(memcmp(B.ram + src, B.ram + dst, count) == 0);
}

static void test_rep_chunks(void)
{
	rep_chunks(false, 1 << 20);
	rep_chunks(true, 10000);
}

/* REP STOSD across into a not-present 2 MiB page: #PF at the first byte of it, with
 * rCX/rDI as of the two completed stores and RIP at the instruction. */
static void test_rep_fault(void)
{
	mode_long64(3);
	uint64_t hole = 10ULL << 20;
	*ram64(PT_BASE + 0x2000 + 5 * 8) = 0; /* 10-12 MiB not present */
	tlb_flush_all(C);
	C->gpr[RAX] = 0xA5A5A5A5;
	C->gpr[RDI] = hole - 8;
	C->gpr[RCX] = 10;
	struct insn in = str(2, 3, INSN_REP);
	uint64_t rip = C->rip;
	CHECK_EQ(run_insn(exec_STOS, &in), EXC_PF);
	CHECK_EQ(C->exc_cr2, hole);
	CHECK(C->exc_error & PFEC_W);
	CHECK_EQ(C->gpr[RCX], 8);
	CHECK_EQ(C->gpr[RDI], hole);
	CHECK_EQ(C->rip, rip);
	CHECK_EQ(*ram32(hole - 8), 0xA5A5A5A5);
	CHECK_EQ(*ram32(hole - 4), 0xA5A5A5A5);
	build_identity_pt();
	tlb_flush_all(C);
}

/* REPE CMPSB stops after the first difference; REPNE SCASB after the first match. */
static void test_rep_conditions(void)
{
	mode_long64(3);
	memcpy(B.ram + DATA_BASE, "abcdefgh", 8);
	memcpy(B.ram + DATA_BASE + 0x100, "abcXefgh", 8);
	C->gpr[RSI] = DATA_BASE;
	C->gpr[RDI] = DATA_BASE + 0x100;
	C->gpr[RCX] = 8;
	struct insn in = str(0, 3, INSN_REP);
	CHECK_EQ(run_insn(exec_CMPS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RCX], 4);            /* a b c X: 4 iterations */
	CHECK_EQ(C->gpr[RSI], DATA_BASE + 4);
	CHECK(!cpu_cond(C, 4));              /* ZF = 0 */
	CHECK_EQ(cpu_cond(C, 2), 'd' < 'X'); /* CF of 'd' - 'X' */

	C->gpr[RAX] = 'f';
	C->gpr[RDI] = DATA_BASE;
	C->gpr[RCX] = 100;
	in = str(0, 3, INSN_REPNE);
	CHECK_EQ(run_insn(exec_SCAS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RDI], DATA_BASE + 6); /* one past the match */
	CHECK_EQ(C->gpr[RCX], 94);
	CHECK(cpu_cond(C, 4));               /* ZF = 1 */

	/* Count 0: no access at all, flags untouched. */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF);
	C->gpr[RCX] = 0;
	C->gpr[RDI] = 1ULL << 60;            /* non-canonical: would fault if touched */
	CHECK_EQ(run_insn(exec_SCAS, &in), NO_FAULT);
	CHECK(cpu_cond(C, 4));
}

/* Real mode, 16-bit addressing: SI/DI wrap at 64K, the upper halves of ESI/EDI/ECX
 * are neither used nor changed; DF = 1 steps down. */
static void test_wrap16(void)
{
	mode_real();
	C->seg[SEG_DS].base = 0x20000;
	C->seg[SEG_ES].base = 0x40000;
	B.ram[0x20000 + 0xFFFF] = 0x11;
	B.ram[0x20000] = 0x22;
	C->gpr[RSI] = 0x1234FFFF;
	C->gpr[RDI] = 0x5678FFFF;
	C->gpr[RCX] = 0xABCD0002;
	struct insn in = str(0, 1, INSN_REP);
	in.seg = SEG_DS;
	CHECK_EQ(run_insn(exec_MOVS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RSI], 0x12340001);
	CHECK_EQ(C->gpr[RDI], 0x56780001);
	CHECK_EQ(C->gpr[RCX], 0xABCD0000);
	CHECK_EQ(B.ram[0x40000 + 0xFFFF], 0x11);
	CHECK_EQ(B.ram[0x40000], 0x22);
	/* CX = 0 with ECX != 0: no iteration. */
	C->gpr[RCX] = 0x00010000;
	CHECK_EQ(run_insn(exec_MOVS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RSI], 0x12340001);
	/* DF = 1, word size, wrapping downwards through 0. */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_DF);
	C->gpr[RDI] = 0x0000;
	C->gpr[RAX] = 0xBEEF;
	in = str(1, 1, 0);
	CHECK_EQ(run_insn(exec_STOS, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RDI], 0xFFFE);
	CHECK_EQ(*ram16(0x40000), 0xBEEF);
}

/* A port region that counts accesses. */
static uint32_t port_next = 0x100;
static int port_writes;
static uint32_t port_last;
static uint32_t port_read(void *o, uint16_t port, int size)
{
	(void)o; (void)port; (void)size;
	return port_next++;
}
static void port_write(void *o, uint16_t port, int size, uint32_t v)
{
	(void)o; (void)port; (void)size;
	port_writes++;
	port_last = v;
}
static const struct io_ops port_ops = { port_read, port_write };

static void test_ins_outs(void)
{
	mode_long64(0);
	bus_map_io(&B, 0x300, 4, &port_ops, NULL);
	C->gpr[RDX] = 0x300;
	C->gpr[RDI] = DATA_BASE;
	C->gpr[RCX] = 3;
	struct insn in = str(1, 3, INSN_REP);
	in.flags |= INSN_DX;
	CHECK_EQ(run_insn(exec_INS, &in), NO_FAULT);
	CHECK_EQ(*ram16(DATA_BASE), 0x100);
	CHECK_EQ(*ram16(DATA_BASE + 4), 0x102);
	CHECK_EQ(C->gpr[RDI], DATA_BASE + 6);
	C->gpr[RSI] = DATA_BASE;
	C->gpr[RCX] = 3;
	CHECK_EQ(run_insn(exec_OUTS, &in), NO_FAULT);
	CHECK_EQ(port_writes, 3);
	CHECK_EQ(port_last, 0x102);
	CHECK_EQ(C->gpr[RSI], DATA_BASE + 6);

	/* CPL 3 with IOPL 0 and the port denied in the TSS bitmap: #GP(0) before any
	 * access (SDM Vol.1 19.5.2), nothing changed. */
	mode_long64(3);
	B.ram[TSS_BASE + 0x68 + 0x300 / 8] |= 1;
	C->gpr[RDX] = 0x300;
	C->gpr[RDI] = DATA_BASE;
	C->gpr[RCX] = 3;
	int before = port_writes;
	uint32_t next = port_next;
	CHECK_EQ(run_insn(exec_INS, &in), EXC_GP);
	CHECK_EQ(C->exc_error, 0);
	CHECK_EQ(C->gpr[RCX], 3);
	CHECK_EQ(port_next, next);
	CHECK_EQ(run_insn(exec_OUTS, &in), EXC_GP);
	CHECK_EQ(port_writes, before);
	B.ram[TSS_BASE + 0x68 + 0x300 / 8] &= ~1;
}

/* The page-at-a-time fast path (64-bit mode, DF = 0): results equal the element-by-
 * element definition, including overlapping copies and segment bases. */
static void test_fast_path(void)
{
	mode_long64(3);
	/* REP STOSQ over three pages, unaligned start. */
	memset(B.ram + DATA_BASE, 0, 0x4000);
	C->gpr[RAX] = 0x0102030405060708ULL;
	C->gpr[RDI] = DATA_BASE + 4;
	C->gpr[RCX] = 1500;
	struct insn in = str(3, 3, INSN_REP);
	int calls;
	CHECK_EQ(run_to_end(exec_STOS, &in, &calls), NO_FAULT);
	CHECK_EQ(C->gpr[RDI], DATA_BASE + 4 + 1500 * 8);
	CHECK_EQ(*ram64(DATA_BASE + 4), 0x0102030405060708ULL);
	CHECK_EQ(*ram64(DATA_BASE + 4 + 1499 * 8), 0x0102030405060708ULL);
	CHECK_EQ(*ram32(DATA_BASE), 0);
	CHECK_EQ(*ram32(DATA_BASE + 4 + 1500 * 8), 0);
	bool all = true;
	for (int i = 0; i < 1500; i++)
		all &= *ram64(DATA_BASE + 4 + i * 8ULL) == 0x0102030405060708ULL;
	CHECK(all);
	/* Overlapping REP MOVSB with the destination one byte up replicates the first
	 * byte (forward element order), which a memmove would not. */
	for (int i = 0; i < 64; i++)
		B.ram[DATA_BASE + 0x5000 + i] = (uint8_t)i;
	C->gpr[RSI] = DATA_BASE + 0x5000;
	C->gpr[RDI] = DATA_BASE + 0x5001;
	C->gpr[RCX] = 32;
	in = str(0, 3, INSN_REP);
	CHECK_EQ(run_to_end(exec_MOVS, &in, &calls), NO_FAULT);
	for (int i = 0; i <= 32; i++)
		CHECK_EQ(B.ram[DATA_BASE + 0x5000 + i], 0);
	CHECK_EQ(B.ram[DATA_BASE + 0x5000 + 33], 33);
	/* Destination below the source: a plain forward copy. */
	for (int i = 0; i < 64; i++)
		B.ram[DATA_BASE + 0x5000 + i] = (uint8_t)i;
	C->gpr[RSI] = DATA_BASE + 0x5004;
	C->gpr[RDI] = DATA_BASE + 0x5000;
	C->gpr[RCX] = 16;
	in = str(1, 3, INSN_REP);
	CHECK_EQ(run_to_end(exec_MOVS, &in, &calls), NO_FAULT);
	CHECK_EQ(B.ram[DATA_BASE + 0x5000], 4);
	CHECK_EQ(B.ram[DATA_BASE + 0x5000 + 31], 35);
	CHECK_EQ(B.ram[DATA_BASE + 0x5000 + 32], 32);
	/* FS-relative source (the base applies in 64-bit mode). */
	C->seg[SEG_FS].base = 0x100000;
	memcpy(B.ram + 0x100000 + 0x40, "turtles!", 8);
	C->gpr[RSI] = 0x40;
	C->gpr[RDI] = DATA_BASE + 0x6000;
	C->gpr[RCX] = 8;
	in = str(0, 3, INSN_REP);
	in.seg = SEG_FS;
	CHECK_EQ(run_to_end(exec_MOVS, &in, &calls), NO_FAULT);
	CHECK(memcmp(B.ram + DATA_BASE + 0x6000, "turtles!", 8) == 0);
	C->seg[SEG_FS].base = 0;
}

int main(void)
{
	sys_init();
	test_rep_chunks();
	test_rep_fault();
	test_rep_conditions();
	test_wrap16();
	test_ins_outs();
	test_fast_path();
	return report("test_exec_string");
}
