/*
 * Differential test of the integer executor against the host CPU.
 *
 * For every template (host_diff_tmpl.c) it generates random cases with a fixed seed:
 * operand size, registers (REX or not, so AH..BH and SPL..DIL both occur), a register
 * or memory E operand (base/index/scale/disp, 64- or 32-bit addressing), immediates,
 * register values biased to edge cases, the arithmetic flags and the memory contents.
 * Each case is encoded, run natively (host_tramp.S) and in the executor on the same
 * memory buffer, and the GPRs, RFLAGS (less the flags the SDM leaves undefined for
 * that instruction: tmpl_defined_flags()), the memory and the branch outcome compared.
 *
 * Host differences: the host here is AMD (EPYC). Intel and AMD agree on every result
 * and flag the SDM defines for the templates tested, so no AMD exclusion is needed;
 * where the SDM leaves something undefined the flags are masked (tmpl_defined_flags)
 * or the inputs avoided (SHLD/SHRD counts above 16 bits, BSWAP r16, #DE inputs).
 * Not run natively: BCD (invalid in 64-bit mode), INS/OUTS (privileged), far
 * transfers; the unit tests (tests/unit/cpu/test_exec_*.c) cover them.
 *
 * The executor runs on the encoder's own struct insn, or, when built with
 * HOST_DIFF_DECODER, on decode()'s output, which is then also checked against the
 * encoder's expectation.
 *
 * Usage: host_diff [--long N] [--seed S] [--only NAME] [-v] [--strict]
 *
 * --strict also compares the flags the SDM leaves undefined, to see where the host
 * (AMD here) and our documented choices differ; it is expected to report mismatches.
 */
#define _GNU_SOURCE
#include "host_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../common/exec_harness.h"

void host_run(struct hstate *st, void *code);
extern char host_return[], host_return_taken[];

uint8_t *membuf;
uint8_t mem_init[MEMSZ];
static uint8_t mem_native[MEMSZ];
static uint8_t *codebuf;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;
static bool verbose;
static bool strict; /* --strict: compare undefined flags too (informational) */

uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

uint64_t rnd_value(void)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000,
		0xFFFFFFFF, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000, ~0ULL, 0x100, 0x10000,
		0x100000000, 0xF, 0x10, 0x9, 0x99,
	};
	switch (rndn(6)) {
	case 0: return edge[rndn(ARRAY_SIZE(edge))];
	case 1: return edge[rndn(ARRAY_SIZE(edge))] ^ (rnd() & ~0xFFFFFFFFULL);
	case 2: return rnd() & 0xFF;
	case 3: return rnd() & 0xFFFF;
	case 4: return (uint32_t)rnd();
	default: return rnd();
	}
}

/* --- encoding ----------------------------------------------------------------- */

static void put(uint8_t *b, int *n, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		b[(*n)++] = (uint8_t)(v >> (8 * i));
}

static int imm_bytes(const struct tmpl *t, const struct gen *g)
{
	switch (t->imm) {
	case I_IB: case I_UB: case I_REL8: return 1;
	case I_IW: return 2;
	case I_IZ: return g->osz == 1 ? 2 : 4;
	case I_IV: return 1 << g->osz;
	case I_REL32: return 4;
	case I_ENTER: return 3;
	case I_MOFFS: return g->asz == 2 ? 4 : 8;
	default: return 0;
	}
}

/* ModRM, SIB and displacement for E; regf is the ModRM.reg field. */
static void put_modrm(const struct gen *g, int regf, uint8_t *b, int *n)
{
	if (!g->mem) {
		b[(*n)++] = (uint8_t)(0xC0 | (regf & 7) << 3 | (g->rm & 7));
		return;
	}
	bool sib = g->index != REG_NONE || (g->base & 7) == 4;
	int mod = g->disp == 0 && (g->base & 7) != 5 ? 0 : (g->disp == (int8_t)g->disp ? 1 : 2);
	b[(*n)++] = (uint8_t)(mod << 6 | (regf & 7) << 3 | (sib ? 4 : (g->base & 7)));
	if (sib) {
		int idx = g->index == REG_NONE ? 4 : (g->index & 7);
		b[(*n)++] = (uint8_t)(g->scale << 6 | idx << 3 | (g->base & 7));
	}
	if (mod == 1)
		put(b, n, (uint64_t)g->disp, 1);
	else if (mod == 2)
		put(b, n, (uint64_t)g->disp, 4);
}

static bool has_modrm(const struct tmpl *t)
{
	return !(t->tf & (T_ACC | T_ZR | T_NOMODRM));
}

/* Encode the case and build the insn the decoder is expected to produce. */
static int encode(const struct tmpl *t, const struct gen *g, uint8_t *b, struct insn *in)
{
	int n = 0;
	bool modrm = has_modrm(t);
	int regf = t->ext >= 0 ? t->ext : g->reg;
	int rx = modrm && t->ext < 0 ? g->reg >> 3 : 0;
	int xx = g->mem && g->index != REG_NONE ? g->index >> 3 : 0;
	int bx = t->tf & T_ZR ? g->reg >> 3 : g->mem ? g->base >> 3 : modrm ? g->rm >> 3 : 0;
	bool w = g->osz == 3 && t->sz != S_D64 && t->sz != S_F64;
	uint8_t opc = (uint8_t)(t->opc + (t->tf & T_CC ? g->cc : 0) + (t->tf & T_ZR ? (g->reg & 7) : 0));
	memset(in, 0, sizeof(*in));

	if (g->lock) {
		b[n++] = 0xF0;
		in->flags |= INSN_LOCK;
	}
	if (g->asz == 2)
		b[n++] = 0x67;
	if (g->rep)
		b[n++] = (uint8_t)g->rep;
	if (t->tf & T_VEX) {
		int pp = t->pfx == 0x66 ? 1 : t->pfx == 0xF3 ? 2 : t->pfx == 0xF2 ? 3 : 0;
		b[n++] = 0xC4;
		b[n++] = (uint8_t)((!rx) << 7 | (!xx) << 6 | (!bx) << 5 | t->map);
		b[n++] = (uint8_t)(w << 7 | (~g->vvvv & 15) << 3 | pp);
	} else {
		if (g->osz == 1 && t->sz != S_B)
			b[n++] = 0x66;
		if (t->pfx)
			b[n++] = t->pfx;
		uint8_t rex = (uint8_t)(0x40 | w << 3 | rx << 2 | xx << 1 | bx);
		if (rex != 0x40 || g->rex_force) {
			b[n++] = rex;
			in->flags |= INSN_REX | (w ? INSN_REXW : 0);
		}
		if (t->map)
			b[n++] = 0x0F;
		if (t->map == 2)
			b[n++] = 0x38;
		if (t->map == 3)
			b[n++] = 0x3A;
	}
	b[n++] = opc;
	if (modrm)
		put_modrm(g, regf, b, &n);
	int ib = imm_bytes(t, g);
	if (t->imm == I_ENTER) {
		put(b, &n, g->imm & 0xFFFF, 2);
		put(b, &n, g->imm >> 16, 1);
	} else if (t->imm == I_MOFFS) {
		put(b, &n, g->target, ib);
	} else {
		put(b, &n, g->imm, ib);
	}

	in->op = t->op;
	in->len = (uint8_t)n;
	in->form = t->form;
	in->osz = (uint8_t)g->osz;
	in->asz = (uint8_t)g->asz;
	in->reg = (uint8_t)(t->ext >= 0 ? 0 : g->reg);
	in->rm = (uint8_t)(t->tf & T_ACC ? 0 : g->rm);
	in->base = REG_NONE;
	in->index = REG_NONE;
	in->seg = SEG_DS;
	in->cc = (uint8_t)g->cc;
	in->opc = opc;
	in->map = t->map;
	in->vvvv = (uint8_t)g->vvvv;
	if (t->tf & T_VEX)
		in->flags |= INSN_VEX | (w ? INSN_REXW : 0);
	if (g->mem) {
		in->flags |= INSN_MEM;
		in->base = (uint8_t)g->base;
		in->index = (uint8_t)g->index;
		in->scale = (uint8_t)g->scale;
		in->disp = g->disp;
		if (g->base == RSP || g->base == RBP)
			in->seg = SEG_SS;
	}
	if (t->imm == I_MOFFS) {
		in->flags |= INSN_MEM | INSN_MOFFS;
		in->imm = g->target;
	} else if (t->imm == I_ONE) {
		in->imm = 1;
	} else if (t->imm == I_IB || t->imm == I_REL8 || t->imm == I_IZ || t->imm == I_REL32) {
		in->imm = sign_extend(g->imm, ib == 1 ? 0 : ib == 2 ? 1 : 2);
	} else if (t->imm == I_ENTER) {
		in->imm = g->imm & 0xFFFF;
		in->imm2 = (uint16_t)(g->imm >> 16 & 0xFF);
	} else if (t->imm != I_NONE) { /* zero-extended from its encoded size */
		in->imm = g->imm & (ib == 8 ? ~0ULL : (1ULL << 8 * ib) - 1);
	}
	if (t->src >= 0)
		in->imm = (uint64_t)t->src;
	if (t->fam == F_CRC && t->src < 0) { /* CRC32 Gy, Ev: source Ev, destination Gy */
		in->imm = (uint64_t)g->osz;
		in->osz = g->osz == 3 ? 3 : 2;
	}
	if (t->tf & T_CL)
		in->flags |= INSN_CL;
	if (g->rep == 0xF3)
		in->flags |= INSN_REP;
	if (g->rep == 0xF2)
		in->flags |= INSN_REPNE;
	if (g->osz == 1 && t->sz != S_B)
		in->flags |= INSN_OPSIZE;
	if (g->asz == 2)
		in->flags |= INSN_ADDRSIZE;
	return n;
}

/* --- case generation ----------------------------------------------------------- */

static int pick_osz(const struct tmpl *t)
{
	switch (t->sz) {
	case S_B: return 0;
	case S_Y: return 2 + (int)rndn(2);
	case S_D64: return rndn(4) ? 3 : 1;
	case S_F64: return 3;
	case S_W16: return 1;
	default: return 1 + (int)rndn(3);
	}
}

/* A memory operand at a random data address: base (and maybe index) chosen and set so
 * that base + index * scale + disp (truncated to the address size) is the target. */
static void gen_mem(struct gen *g, struct hstate *st, uint16_t avoid, uint64_t align)
{
	g->target = (uint64_t)(membuf + DATA_LO + rndn(DATA_HI - DATA_LO - 16)) & ~(align - 1);
	do
		g->base = (int)rndn(16);
	while (avoid >> g->base & 1);
	g->index = REG_NONE;
	g->scale = 0;
	if (rndn(2)) {
		do
			g->index = (int)rndn(16);
		while (g->index == RSP || g->index == g->base || (avoid >> g->index & 1));
		g->scale = (int)rndn(4);
	}
	switch (rndn(3)) {
	case 0: g->disp = 0; break;
	case 1: g->disp = (int8_t)rnd(); break;
	default: g->disp = (int32_t)(rndn(512)) - 256; break;
	}
	uint64_t idx = 0;
	if (g->index != REG_NONE) {
		idx = rndn(16);
		st->gpr[g->index] = g->asz == 2 ? (rnd() << 32) | idx : idx;
	}
	uint64_t b = g->target - (uint64_t)(int64_t)g->disp - (idx << g->scale);
	/* 32-bit addressing ignores the upper halves: fill them with garbage, except in
	 * rSP, which stack instructions also use as a 64-bit pointer. */
	st->gpr[g->base] = g->asz == 2 && g->base != RSP ? (rnd() << 32) | (uint32_t)b : b;
}

static void gen_case(const struct tmpl *t, struct gen *g, struct hstate *st)
{
	memset(g, 0, sizeof(*g));
	for (int i = 0; i < 16; i++)
		st->gpr[i] = rnd_value();
	st->gpr[RSP] = (uint64_t)(membuf + STACK_MID - rndn(64));
	st->rflags = 0x202 | (rnd() & RFLAGS_ARITH);
	st->taken = 0;
	for (int i = 0; i < MEMSZ; i += 8) {
		uint64_t v = rnd_value();
		memcpy(mem_init + i, &v, 8);
	}
	g->osz = pick_osz(t);
	g->asz = 3;
	g->rex_force = rndn(2);
	g->reg = (int)rndn(16);
	g->rm = (int)rndn(16);
	g->vvvv = t->form == FORM_GEI ? 0 : (int)rndn(16); /* RORX: VEX.vvvv must be 1111b */
	g->cc = t->tf & T_CC ? (int)rndn(16) : 0;
	g->imm = rnd_value();
	if ((t->tf & T_ACC) && (t->tf & T_ZR) && g->reg == 0)
		g->reg = 1 + (int)rndn(15); /* 90 is NOP, not XCHG rAX, rAX */
	g->mem = t->memo == M_MEM || (t->memo == M_BOTH && rndn(2));
	if (t->tf & (T_ACC | T_NOMODRM))
		g->mem = false;
	if (g->mem || t->imm == I_MOFFS || (t->tf & T_REP))
		g->asz = rndn(4) ? 3 : 2;
	if (g->mem)
		gen_mem(g, st, tmpl_avoid(t, g), t->fam == F_CX8 && g->osz == 3 ? 16 : 1);
	g->lock = g->mem && (t->tf & T_LOCK) && rndn(2);
	if (t->imm == I_MOFFS)
		g->target = (uint64_t)(membuf + DATA_LO + rndn(DATA_HI - DATA_LO - 16));
}

/* --- running and comparing ----------------------------------------------------- */

static void put_stub(uint8_t *p, const void *dest)
{
	p[0] = 0xFF; /* jmp *0(%rip) followed by the absolute address */
	p[1] = 0x25;
	memset(p + 2, 0, 4);
	uint64_t a = (uint64_t)dest;
	memcpy(p + 6, &a, 8);
}

#define STUB_LEN 14

static uint64_t emu_run(const struct insn *in, struct hstate *st, int *vec)
{
	static struct cpu cpu;
	harness_cpu_long64(&cpu);
	memcpy(cpu.gpr, st->gpr, sizeof(cpu.gpr));
	cpu_set_rflags(&cpu, st->rflags);
	cpu.rip = (uint64_t)codebuf;
	*vec = harness_exec(&cpu, in);
	memcpy(st->gpr, cpu.gpr, sizeof(cpu.gpr));
	st->rflags = cpu_get_rflags(&cpu);
	return cpu.rip;
}

static const char *const reg_names[16] = {
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

static void print_case(const struct tmpl *t, const uint8_t *code, int len,
		       const struct hstate *init)
{
	printf("  %s:", t->name);
	for (int i = 0; i < len; i++)
		printf(" %02x", code[i]);
	printf("\n  before: rflags=%03llx", (unsigned long long)init->rflags);
	for (int i = 0; i < 16; i++)
		printf("%s%s=%llx", i % 4 ? " " : "\n   ", reg_names[i],
		       (unsigned long long)init->gpr[i]);
	printf("\n");
}

/* Compare native and emulated results; print the differences. */
static bool compare(const struct tmpl *t, const struct gen *g, const struct hstate *nat,
		    const struct hstate *emu, uint64_t emu_rip, uint64_t fall, uint64_t taken,
		    bool print)
{
	bool bad = false;
	for (int i = 0; i < 16; i++) {
		if (nat->gpr[i] != emu->gpr[i]) {
			bad = true;
			if (print)
				printf("  %s: host %llx, ours %llx\n", reg_names[i],
				       (unsigned long long)nat->gpr[i],
				       (unsigned long long)emu->gpr[i]);
		}
	}
	uint64_t mask = strict ? ~0ULL : tmpl_defined_flags(t, g) | ~RFLAGS_ARITH;
	if ((nat->rflags ^ emu->rflags) & mask) {
		bad = true;
		if (print)
			printf("  rflags: host %03llx, ours %03llx (compared %03llx)\n",
			       (unsigned long long)nat->rflags, (unsigned long long)emu->rflags,
			       (unsigned long long)(mask & 0xFFF));
	}
	for (int i = 0; i < MEMSZ; i++) {
		if (mem_native[i] != membuf[i]) {
			bad = true;
			if (print)
				printf("  mem[+%d]: host %02x, ours %02x\n", i, mem_native[i],
				       membuf[i]);
			break;
		}
	}
	uint64_t want_rip = nat->taken ? taken : fall;
	if (emu_rip != want_rip) {
		bad = true;
		if (print)
			printf("  rip: host %s, ours %+lld from the instruction\n",
			       nat->taken ? "branched" : "fell through",
			       (long long)(emu_rip - (uint64_t)codebuf));
	}
	return bad;
}

#ifdef HOST_DIFF_DECODER
/* The decoder must agree with the encoder's expectation on every field a handler
 * reads. */
static bool decode_agrees(const struct tmpl *t, const uint8_t *code, int len,
			  const struct insn *want, struct insn *got)
{
	int r = decode(code, len + STUB_LEN, DMODE_64, got);
	/* REP/REPNE matter to string ops only (elsewhere F2/F3 are mandatory prefixes). */
	const uint16_t fl = INSN_MEM | INSN_REX | INSN_CL | INSN_MOFFS | INSN_LOCK |
			    (t->tf & T_REP ? INSN_REP | INSN_REPNE : 0);
	bool ok = r == len && got->op == want->op && got->len == want->len &&
		  (got->osz == want->osz || (t->tf & T_ANYOSZ)) && got->asz == want->asz &&
		  (got->flags & fl) == (want->flags & fl);
	if (ok && !(t->tf & T_ANYFORM))
		ok = got->form == want->form;
	if (ok && (want->flags & INSN_MEM) && !(want->flags & INSN_MOFFS))
		ok = got->base == want->base && got->index == want->index &&
		     (want->index == REG_NONE || got->scale == want->scale) &&
		     got->disp == want->disp && got->seg == want->seg;
	if (ok && !(want->flags & INSN_MEM) && (has_modrm(t) || (t->tf & T_ACC)))
		ok = got->rm == want->rm;
	if (ok && ((has_modrm(t) && t->ext < 0) || (t->tf & T_ZR)))
		ok = got->reg == want->reg;
	if (ok && (t->tf & T_VEX))
		ok = got->vvvv == want->vvvv;
	if (ok && (t->tf & T_CC))
		ok = got->cc == want->cc;
	if (ok && (t->imm != I_NONE || t->src >= 0))
		ok = got->imm == want->imm;
	if (!ok) {
		printf("  decode disagrees (ret %d): op %s/%s form %u/%u osz %u/%u asz %u/%u "
		       "flags %x/%x reg %u/%u rm %u/%u imm %llx/%llx\n",
		       r, op_name(got->op), op_name(want->op), got->form, want->form,
		       got->osz, want->osz, got->asz, want->asz, got->flags, want->flags,
		       got->reg, want->reg, got->rm, want->rm,
		       (unsigned long long)got->imm, (unsigned long long)want->imm);
	}
	return ok;
}
#endif

/* One case; returns 1 on a mismatch, 0 if equal, -1 if discarded. */
static int run_case(const struct tmpl *t, bool print)
{
	struct gen g;
	struct hstate init, nat, emu;
	struct insn in;
	uint8_t code[32];
	gen_case(t, &g, &init);
	/* Encode once for the length and REX, set up, encode again: the set-up changes
	 * only values, address size and prefixes that the branch families do not have. */
	int len = encode(t, &g, code, &in);
	if (!tmpl_prepare(t, &g, &init, &in, (uint64_t)codebuf + (uint64_t)len + STUB_LEN))
		return -1;
	int len2 = encode(t, &g, code, &in);
	if ((t->tf & T_BRANCH) && len2 != len && t->fam != F_LOOP)
		abort();
	len = len2;
	memcpy(codebuf, code, (size_t)len);
	put_stub(codebuf + len, host_return);
	put_stub(codebuf + len + STUB_LEN, host_return_taken);
	uint64_t fall = (uint64_t)codebuf + (uint64_t)len;
	uint64_t taken = fall + STUB_LEN;
	if (t->fam == F_RET) /* the return address points at the taken stub */
		memcpy(mem_init + (init.gpr[RSP] - (uint64_t)membuf), &taken, 8);

	const struct insn *run = &in;
#ifdef HOST_DIFF_DECODER
	struct insn dec;
	if (!decode_agrees(t, codebuf, len, &in, &dec)) {
		print_case(t, code, len, &init);
		return 1;
	}
	run = &dec;
#endif
	memcpy(membuf, mem_init, MEMSZ);
	nat = init;
	host_run(&nat, codebuf);
	memcpy(mem_native, membuf, MEMSZ);

	memcpy(membuf, mem_init, MEMSZ);
	emu = init;
	int vec;
	uint64_t rip = emu_run(run, &emu, &vec);
	if (vec >= 0) {
		if (print) {
			printf("MISMATCH: ours raised vector %d\n", vec);
			print_case(t, code, len, &init);
		}
		return 1;
	}
	if (!compare(t, &g, &nat, &emu, rip, fall, taken, false))
		return 0;
	if (print) {
		printf("MISMATCH:\n");
		print_case(t, code, len, &init);
		compare(t, &g, &nat, &emu, rip, fall, taken, true);
	}
	return 1;
}

int main(int argc, char **argv)
{
	long mult = 1;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--long") && i + 1 < argc)
			mult = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng = strtoull(argv[++i], NULL, 0) | 1;
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else if (!strcmp(argv[i], "-v"))
			verbose = true;
		else if (!strcmp(argv[i], "--strict"))
			strict = true;
		else {
			fprintf(stderr, "usage: %s [--long N] [--seed S] [--only NAME] [-v] [--strict]\n",
				argv[0]);
			return 2;
		}
	}
	membuf = mmap(NULL, MEMSZ, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	codebuf = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (membuf == MAP_FAILED || codebuf == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	harness_reset();
	harness_map((uint64_t)membuf, membuf, MEMSZ, false);

	long compared = 0, mismatches = 0;
	for (int k = 0; k < host_n_tmpls; k++) {
		const struct tmpl *t = &host_tmpls[k];
		if (only && strncmp(only, t->name, strlen(only)))
			continue;
		long n = 300 * mult, bad = 0, done = 0;
		for (long i = 0; i < n; i++) {
			int r = run_case(t, bad < 3);
			if (r < 0)
				continue;
			done++;
			bad += r;
		}
		compared += done;
		mismatches += bad;
		if (verbose || bad)
			printf("%-14s %6ld cases, %ld mismatches\n", t->name, done, bad);
	}
	printf("host_diff: %ld compared, %ld mismatches\n", compared, mismatches);
	return mismatches ? 1 : 0;
}
