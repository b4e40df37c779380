/*
 * Port I/O protection (SDM Vol.1 19.5: IOPL, then the TSS I/O bit map), and the flag
 * and miscellaneous system instructions: PUSHF/POPF privilege masks, CLI/STI, HLT,
 * RDTSC/CR4.TSD, RDRAND, SWAPGS, RD/WR FS/GS BASE (SDM Vol.2 under each name).
 */
#include "cpu/msr.h"
#include "sys_harness.h"

static uint32_t last_port, last_value;
static int last_size;

static uint32_t io_read(void *opaque, uint16_t port, int size)
{
	(void)opaque;
	last_port = port;
	last_size = size;
	return 0xA5A5A5A5u & (size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1);
}

static void io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	(void)opaque;
	last_port = port;
	last_size = size;
	last_value = value;
}

static const struct io_ops ops = { io_read, io_write };

static int in_port(uint16_t port, int osz)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.flags = INSN_DX;
	C->gpr[RDX] = port;
	return run_insn(exec_IN, &in);
}

static int out_imm(uint8_t port, int osz, uint32_t v)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.imm = port;
	C->gpr[RAX] = v;
	return run_insn(exec_OUT, &in);
}

static void set_bitmap_bit(uint16_t port, bool on)
{
	uint8_t *b = B.ram + TSS_BASE + 0x68 + (port >> 3);
	*b = on ? (uint8_t)(*b | (1u << (port & 7))) : (uint8_t)(*b & ~(1u << (port & 7)));
}

static void test_io_bitmap(void)
{
	mode_prot32(3); /* IOPL 0 < CPL 3: the bit map decides */
	CHECK_EQ(in_port(0x60, 0), NO_FAULT);
	CHECK_EQ(C->gpr[RAX] & 0xFF, 0xA5);
	CHECK_EQ(last_port, 0x60);
	set_bitmap_bit(0x61, true);
	CHECK_EXC(in_port(0x61, 0), EXC_GP, 0);
	/* A 4-byte access at 0x5E covers 0x5E..0x61: denied by the bit of 0x61. */
	CHECK_EXC(in_port(0x5E, 2), EXC_GP, 0);
	CHECK_EQ(in_port(0x5C, 2), NO_FAULT);
	/* An access whose bits straddle two bytes: port 0x3F, 2 bytes = bits 0x3F, 0x40. */
	set_bitmap_bit(0x40, true);
	CHECK_EXC(out_imm(0x3F, 1, 0x1234), EXC_GP, 0);
	set_bitmap_bit(0x40, false);
	CHECK_EQ(out_imm(0x3F, 1, 0x1234), NO_FAULT);
	CHECK_EQ(last_value, 0x1234);
	CHECK_EQ(last_size, 2);
	/* Ports whose bit-map bytes lie beyond the TSS limit: #GP(0). */
	CHECK_EXC(in_port(0xFFF8, 0), EXC_GP, 0);
	/* IOPL = 3: no bit map check. */
	C->rflags |= RFLAGS_IOPL;
	CHECK_EQ(in_port(0x61, 0), NO_FAULT);
	CHECK_EQ(in_port(0xFFF8, 0), NO_FAULT);
	/* CPL 0: allowed; real mode: allowed; 32-bit IN zero-extends into RAX. */
	mode_prot32(0);
	set_bitmap_bit(0x61, true);
	CHECK_EQ(in_port(0x61, 0), NO_FAULT);
	mode_long64(3);
	C->gpr[RAX] = ~0ULL;
	CHECK_EQ(in_port(0x60, 2), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0xA5A5A5A5);
	mode_real();
	CHECK_EQ(in_port(0x61, 0), NO_FAULT);
}

static int popf(uint64_t v, int osz)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	uint64_t sp = C->gpr[RSP] - (1u << osz);
	*ram64(C->seg[SEG_SS].base + sp) = v;
	C->gpr[RSP] = sp;
	return run_insn(exec_POPF, &in);
}

/* SDM Vol.2 POPF "Operation". */
static void test_pushf_popf(void)
{
	mode_prot32(3);
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IF | RFLAGS_RF);
	struct insn in = insn();
	CHECK_EQ(run_insn(exec_PUSHF, &in), NO_FAULT);
	CHECK_EQ(stk32(0), RFLAGS_FIXED1 | RFLAGS_IF); /* RF, VM not in the image */
	/* CPL 3 > IOPL 0: IOPL and IF silently kept; arithmetic flags change. */
	CHECK_EQ(popf(RFLAGS_CF | RFLAGS_IOPL, 2), NO_FAULT);
	CHECK_EQ(C->rflags & (RFLAGS_CF | RFLAGS_IOPL | RFLAGS_IF), RFLAGS_CF | RFLAGS_IF);
	CHECK(!(C->rflags & RFLAGS_RF));
	/* CPL 0: IOPL changes; VM, VIF, VIP never do. */
	mode_prot32(0);
	CHECK_EQ(popf(RFLAGS_IOPL | RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_IF, 2), NO_FAULT);
	CHECK_EQ(C->rflags & (RFLAGS_IOPL | RFLAGS_VM | RFLAGS_VIF | RFLAGS_VIP | RFLAGS_IF),
		 RFLAGS_IOPL | RFLAGS_IF);
	CHECK_EQ(C->mode, MODE_PROT32);
	/* 16-bit POPF keeps the upper half. */
	C->rflags |= RFLAGS_AC;
	CHECK_EQ(popf(RFLAGS_FIXED1, 1), NO_FAULT);
	CHECK(C->rflags & RFLAGS_AC);
	CHECK(!(C->rflags & RFLAGS_IF));
}

static void test_cli_sti_hlt(void)
{
	mode_prot32(3);
	struct insn in = insn();
	CHECK_EXC(run_insn(exec_CLI, &in), EXC_GP, 0); /* IOPL 0 < CPL 3 */
	CHECK_EXC(run_insn(exec_STI, &in), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_HLT, &in), EXC_GP, 0);
	C->rflags |= RFLAGS_IOPL;
	CHECK_EQ(run_insn(exec_STI, &in), NO_FAULT);
	CHECK(C->rflags & RFLAGS_IF);
	CHECK_EQ(C->intr_shadow, 1);
	CHECK(C->intr_shadow_kind & SHADOW_STI);
	CHECK_EQ(run_insn(exec_CLI, &in), NO_FAULT);
	CHECK(!(C->rflags & RFLAGS_IF));
	/* CLAC/STAC at CPL 3: #UD. */
	CHECK_EQ(run_insn(exec_STAC, &in), EXC_UD);
	mode_real();
	CHECK_EQ(run_insn(exec_CLI, &in), NO_FAULT);
}

static void test_time_and_random(void)
{
	mode_prot32(3);
	struct insn in = insn();
	CHECK_EQ(run_insn(exec_RDTSC, &in), NO_FAULT);
	uint64_t t0 = (C->gpr[RDX] << 32) | C->gpr[RAX];
	CLK.retired += 1000; /* deterministic time: 1 instruction = 1 ns = 1 tick */
	CHECK_EQ(run_insn(exec_RDTSC, &in), NO_FAULT);
	uint64_t t1 = (C->gpr[RDX] << 32) | C->gpr[RAX];
	CHECK_EQ(t1 - t0, 1000);
	C->cr4 |= CR4_TSD;
	CHECK_EXC(run_insn(exec_RDTSC, &in), EXC_GP, 0);
	CHECK_EXC(run_insn(exec_RDPMC, &in), EXC_GP, 0);
	C->tsc_aux = 7;
	C->cr4 &= ~CR4_TSD;
	CHECK_EQ(run_insn(exec_RDTSCP, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RCX], 7);
	/* RDRAND: CF = 1, the other arithmetic flags 0, a repeatable sequence. */
	in.rm = RBX;
	in.osz = 2;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_OF);
	uint64_t seed = C->rng_state;
	CHECK_EQ(run_insn(exec_RDRAND, &in), NO_FAULT);
	CHECK_EQ(cpu_get_rflags(C) & RFLAGS_ARITH, RFLAGS_CF);
	uint64_t first = C->gpr[RBX];
	C->rng_state = seed;
	CHECK_EQ(run_insn(exec_RDRAND, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RBX], first);
	CHECK(first >> 32 == 0); /* 32-bit destination zero-extends */
}

static void test_fsgs(void)
{
	mode_long64(0);
	struct insn in = insn();
	C->seg[SEG_GS].base = 0x1111;
	C->kernel_gs_base = 0x2222;
	CHECK_EQ(run_insn(exec_SWAPGS, &in), NO_FAULT);
	CHECK_EQ(C->seg[SEG_GS].base, 0x2222);
	CHECK_EQ(C->kernel_gs_base, 0x1111);
	in.rm = RAX;
	in.osz = 3;
	CHECK_EQ(run_insn(exec_RDFSBASE, &in), EXC_UD); /* CR4.FSGSBASE = 0 */
	C->cr4 |= CR4_FSGSBASE;
	C->gpr[RAX] = 0x0000800000000000ULL;
	CHECK_EXC(run_insn(exec_WRFSBASE, &in), EXC_GP, 0);
	C->gpr[RAX] = 0xFFFF800000000000ULL;
	CHECK_EQ(run_insn(exec_WRFSBASE, &in), NO_FAULT);
	CHECK_EQ(C->seg[SEG_FS].base, 0xFFFF800000000000ULL);
	in.osz = 2;
	CHECK_EQ(run_insn(exec_RDFSBASE, &in), NO_FAULT);
	CHECK_EQ(C->gpr[RAX], 0);
	mode_long64(3);
	CHECK_EXC(run_insn(exec_SWAPGS, &in), EXC_GP, 0);
	mode_prot32(0);
	CHECK_EQ(run_insn(exec_SWAPGS, &in), EXC_UD);
}

int main(void)
{
	sys_init();
	if (bus_map_io(&B, 0, 0xFFFF, &ops, NULL)) {
		fprintf(stderr, "cannot map ports\n");
		return 2;
	}
	test_io_bitmap();
	test_pushf_popf();
	test_cli_sti_hlt();
	test_time_and_random();
	test_fsgs();
	return report("sys_io");
}
