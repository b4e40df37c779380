/*
 * The specialised handlers of exec_fast.c against the generic ones: for each encoding
 * that exec_select() specialises, random register, flag and memory states are run
 * through both, and every GPR, RFLAGS (materialised), RIP and the memory operand must
 * agree. The generic handlers are the oracle: tests/diff/host_diff checks them
 * against the host CPU.
 */
#include "sys_harness.h"

#include "cpu/exec_fast.h"
#include "cpu/flags.h"

#define STATES 400
#define MEM_AT (DATA_BASE + 0x100)

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Edge values half of the time: flags live at the boundaries. */
static uint64_t rnd_val(void)
{
	static const uint64_t edge[] = { 0, 1, 0x7F, 0x80, 0xFF, 0x7FFFFFFF, 0x80000000,
					 0xFFFFFFFF, 0x7FFFFFFFFFFFFFFFULL, ~0ULL };
	uint64_t r = rnd();
	return (r & 1) ? edge[(r >> 1) % ARRAY_SIZE(edge)] : rnd();
}

/* A consistent lazy-flags state as some earlier instruction would have left it. */
static void random_flags(void)
{
	static const uint8_t ops[] = { LF_NONE, LF_ADD, LF_SUB, LF_LOGIC, LF_INC, LF_DEC,
				       LF_SHL, LF_ADC };
	uint8_t op = ops[rnd() % ARRAY_SIZE(ops)];
	int osz = (int)(rnd() % 4);
	uint64_t m = size_mask(osz), a = rnd_val() & m, b = rnd_val() & m, r;
	cpu_set_rflags(C, RFLAGS_FIXED1 | (rnd() & RFLAGS_ARITH));
	switch (op) {
	case LF_NONE: return;
	case LF_ADD: r = a + b; break;
	case LF_ADC: r = a + b + (C->rflags & RFLAGS_CF); break;
	case LF_SUB: r = a - b; break;
	case LF_LOGIC: r = a & b; break;
	case LF_INC: b = 1; r = a + 1; break;
	case LF_DEC: b = 1; r = a - 1; break;
	default: b = 1 + rnd() % ((8u << osz) - 1); r = a << b; break; /* LF_SHL */
	}
	flags_record(C, op, osz, r & m, a, b);
}

struct snap {
	uint64_t gpr[16], rip, flags, mem, stack;
};

static void take(struct snap *s)
{
	memcpy(s->gpr, C->gpr, sizeof(s->gpr));
	s->rip = C->next_rip;
	s->flags = cpu_get_rflags(C);
	s->mem = *ram64(MEM_AT);
	s->stack = *ram64(KSTACK_TOP - 8) ^ *ram64(KSTACK_TOP - 16);
}

static void run(exec_fn fn, const struct insn *in)
{
	C->next_rip = C->rip + in->len;
	if (setjmp(C->fault_jmp) == 0)
		fn(C, in);
}

/* One encoding: decode, and if specialised compare on STATES random states. */
static void check_encoding(const uint8_t *bytes, int n, enum decode_mode dm)
{
	struct insn in;
	if (decode(bytes, n, dm, &in) <= 0)
		return;
	exec_fn fast = exec_select(&in), slow = exec_generic(in.op);
	if (fast == slow)
		return;
	int bad = 0;
	for (int k = 0; k < STATES && !bad; k++) {
		uint64_t gpr[16], mem = rnd_val();
		for (int r = 0; r < 16; r++)
			gpr[r] = rnd_val();
		if (in.flags & INSN_MEM) { /* the base register points at MEM_AT */
			if (in.base < 16)
				gpr[in.base] = MEM_AT - (uint64_t)(int64_t)in.disp;
			if (in.index < 16)
				gpr[in.index] = 0;
		}
		gpr[RSP] = KSTACK_TOP - 8 * (rnd() & 1);
		*ram64(KSTACK_TOP - 8) = rnd_val();
		*ram64(KSTACK_TOP) = rnd_val();
		random_flags();
		struct lazy_flags lf = C->lf;
		uint64_t rf = C->rflags;
		struct snap a, b;
		memcpy(C->gpr, gpr, sizeof(gpr));
		*ram64(MEM_AT) = mem;
		run(slow, &in);
		take(&a);
		memcpy(C->gpr, gpr, sizeof(gpr));
		*ram64(MEM_AT) = mem;
		C->lf = lf;
		C->rflags = rf;
		run(fast, &in);
		take(&b);
		bad = memcmp(&a, &b, sizeof(a)) != 0;
	}
	CHECK(!bad);
	if (bad) {
		fprintf(stderr, "  mismatch for %s:", op_name(in.op));
		for (int i = 0; i < n; i++)
			fprintf(stderr, " %02x", bytes[i]);
		fprintf(stderr, "\n");
	}
}

/* Every specialised family: ALU (EG, GE, imm), MOV (reg, imm, load, store), shifts by
 * imm, INC/DEC, LEA, Jcc; with and without REX.W/REX.R/REX.B, through random ModRM. */
static void sweep(enum decode_mode dm)
{
	static const uint8_t alu[] = { 0x01, 0x03, 0x09, 0x0B, 0x21, 0x23, 0x29, 0x2B,
				       0x31, 0x33, 0x39, 0x3B, 0x85, 0x89, 0x8B, 0x8D };
	static const uint8_t rex[] = { 0x00, 0x48, 0x4C, 0x49, 0x4D, 0x40 };
	int nrex = dm == DMODE_64 ? (int)ARRAY_SIZE(rex) : 1;
	for (int x = 0; x < nrex; x++) {
		for (size_t o = 0; o < ARRAY_SIZE(alu); o++)
			for (int i = 0; i < 24; i++) {
				uint8_t modrm = (uint8_t)rnd();
				if ((modrm & 7) == 4 || ((modrm >> 6) == 0 && (modrm & 7) == 5))
					modrm = (uint8_t)((modrm & ~7) | 3); /* no SIB, no RIP */
				uint8_t b[8] = { rex[x], alu[o], modrm, (uint8_t)rnd(), 0, 0, 0, 0 };
				check_encoding(rex[x] ? b : b + 1, rex[x] ? 4 : 3, dm);
			}
		for (int reg = 0; reg < 8; reg++) {
			uint8_t r = (uint8_t)(0xC0 | (reg << 3) | (rnd() & 7));
			uint8_t g81[] = { rex[x], 0x81, r, 0x78, 0x56, 0x34, 0x92 };
			uint8_t g83[] = { rex[x], 0x83, r, (uint8_t)rnd() };
			uint8_t gc1[] = { rex[x], 0xC1, r, (uint8_t)rnd() };
			uint8_t gff[] = { rex[x], 0xFF, (uint8_t)(0xC0 | ((reg & 1) << 3) | (reg & 7)) };
			uint8_t mov[] = { rex[x], (uint8_t)(0xB8 + reg), 1, 2, 3, 0x84, 5, 6, 7, 0x88 };
			uint8_t c7[] = { rex[x], 0xC7, (uint8_t)(0xC0 | reg), 0xF0, 0xFF, 0xFF, 0xFF };
			int s = rex[x] ? 0 : 1;
			check_encoding(g81 + s, (int)sizeof(g81) - s, dm);
			check_encoding(g83 + s, (int)sizeof(g83) - s, dm);
			check_encoding(gc1 + s, (int)sizeof(gc1) - s, dm);
			check_encoding(gff + s, (int)sizeof(gff) - s, dm);
			check_encoding(mov + s, (int)sizeof(mov) - s, dm);
			check_encoding(c7 + s, (int)sizeof(c7) - s, dm);
		}
	}
	for (int cc = 0; cc < 16; cc++) {
		uint8_t jcc[] = { (uint8_t)(0x70 + cc), 0x10 };
		for (int i = 0; i < 8; i++)
			check_encoding(jcc, 2, dm);
	}
	for (int r = 0; r < 16 && dm == DMODE_64; r++) { /* PUSH/POP r64, CALL, RET */
		uint8_t push[] = { 0x41, (uint8_t)(0x50 + (r & 7)) };
		uint8_t pop[] = { 0x41, (uint8_t)(0x58 + (r & 7)) };
		int s = r < 8;
		check_encoding(push + s, 2 - s, dm);
		check_encoding(pop + s, 2 - s, dm);
	}
	if (dm == DMODE_64) {
		uint8_t call[] = { 0xE8, 0x00, 0x01, 0x00, 0x00 }, ret[] = { 0xC3 };
		check_encoding(call, 5, dm);
		check_encoding(ret, 1, dm);
	}
	for (int r = 0; r < 8 && dm != DMODE_64; r++) {
		uint8_t incdec[] = { (uint8_t)(0x40 + r) }, dec[] = { (uint8_t)(0x48 + r) };
		check_encoding(incdec, 1, dm);
		check_encoding(dec, 1, dm);
	}
}

int main(void)
{
	sys_init();
	mode_long64(0);
	sweep(DMODE_64);
	mode_prot32(0);
	sweep(DMODE_32);
	return report("exec_fast");
}
