/*
 * Differential test of the decoder (src/cpu/decode*.c) against Zydis 4.0.
 *
 *   decode_zydis [COUNT] [--long] [--seed N] [--verbose]
 *   decode_zydis --show {16|32|64} HEX...      (print both decodings of byte strings)
 *
 * Inputs, in each of 16-, 32- and 64-bit mode:
 *   - COUNT random 15-byte strings (default 2,000,000; fixed seed), half of them
 *     uniformly random, half built from random prefixes + an escape + random bytes;
 *   - structured strings: every opcode of the one-byte, 0F, 0F 38 and 0F 3A maps with a
 *     set of prefix combinations and every ModRM byte (random SIB/displacement/
 *     immediate tail), plus VEX/EVEX/XOP forms; --long adds more prefix combinations
 *     and every SIB byte.
 *
 * Compared: validity, length, operand and address size, the op against Zydis' mnemonic
 * (condition codes included), register operands in order, the memory operand (base,
 * index, scale, displacement, segment), immediates and far pointers, and the string
 * source segment. Zydis is configured for Intel: AMD branch mode off (its default),
 * MPX, CET and CLDEMOTE modes off (those encodings are NOP hints on a CPU without
 * them), KNC off.
 *
 * Accepted divergence classes (counted, printed, never failures) are listed in
 * class_reason[] with the reason. Anything else is a mismatch: the first few are
 * printed with their bytes, and the exit status is 1.
 */
#include <Zydis/Zydis.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/insn.h"

static ZydisDecoder zdec[3];
static const ZydisMachineMode zmode[3] = { ZYDIS_MACHINE_MODE_LEGACY_16,
					   ZYDIS_MACHINE_MODE_LEGACY_32,
					   ZYDIS_MACHINE_MODE_LONG_64 };
static const ZydisStackWidth zstack[3] = { ZYDIS_STACK_WIDTH_16, ZYDIS_STACK_WIDTH_32,
					   ZYDIS_STACK_WIDTH_64 };
static const int mode_bits[3] = { 16, 32, 64 };

/* ---- accepted divergence classes ---- */
enum dclass {
	DC_NONINTEL,   /* AMD/VIA-only encodings */
	DC_NOTIMPL,    /* Intel extensions the silicon does not implement */
	DC_VEXNOTIMPL, /* VEX/EVEX/MVEX encodings other than BMI */
	DC_SYSCALL,    /* SYSCALL/SYSRET outside 64-bit mode */
	DC_X87,        /* reserved x87 escape encodings */
	DC_UDN,        /* UD0/UD1/UD2 */
	DC_ZYR13,      /* Zydis bug: [r13d] for SIB no-base with 67 + REX.B */
	DC_KNC,        /* Xeon Phi encodings */
	DC_COUNT
};

static const char *const class_reason[DC_COUNT] = {
	[DC_NONINTEL] = "non-Intel encoding (AMD 3DNow!/XOP/SSE4a/SVM/TBM/FMA4/CLZERO/"
			"MONITORX/RDPRU/INVLPGB/SNP/MCOMMIT, VIA PadLock): #UD on the "
			"Intel silicon; lengths compared",
	[DC_NOTIMPL] = "Intel extension not implemented by the silicon (RTM, CET, SGX, "
		       "ADX, WAITPKG, UINTR, SERIALIZE, PKU, PT, MOVDIR, ENQCMD, KL, "
		       "CLWB, PCONFIG, TSXLDTRK, HRESET, TDX...): #UD by design (CPUID "
		       "does not advertise them); lengths compared",
	[DC_VEXNOTIMPL] = "VEX/EVEX encoding other than BMI1/BMI2 (AVX, AVX2, AVX-512, "
			  "AMX, FMA, F16C, VAES, ...): #UD, no AVX; lengths compared",
	[DC_SYSCALL] = "SYSCALL/SYSRET outside 64-bit mode: #UD on Intel (SDM: invalid "
		       "in compatibility/legacy mode); Zydis decodes them as AMD does",
	[DC_X87] = "x87 escape encoding Zydis calls reserved: with no x87 the whole "
		   "D8-DF space is OP_FPU (#NM/#UD by CR0.EM/TS); lengths compared "
		   "where defined",
	[DC_ZYR13] = "Zydis 4.0 bug: with 67 in 64-bit mode, REX.B and SIB base 101, mod 00 "
		     "it reports base r13d though it reads the disp32 (SDM Vol.2 Table 2-5: "
		     "REX.B is ignored there; no base register); counted per operand",
	[DC_KNC] = "Xeon Phi (KNC) VEX encodings Zydis decodes with KNC mode off (JKZD/"
		   "JKNZD): not x86-64 CPUs; ours OP_UD with the VEX ModRM length",
	[DC_UDN] = "UD0/UD1/UD2: Zydis calls them valid instructions, they are defined "
		   "to raise #UD, ours OP_UD; lengths compared",
};
static uint64_t class_count[DC_COUNT];

static uint64_t n_compared, n_mismatch, n_both_invalid, n_both_valid;
static uint64_t op_seen[OP_COUNT]; /* both valid and matching, per op */
static int verbose;

/* ---- random numbers ---- */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* ---- helpers ---- */
static char why[512];
#define FAIL(...)                                        \
	do {                                             \
		snprintf(why, sizeof(why), __VA_ARGS__); \
		return 1;                                \
	} while (0)

static ZydisRegister gpr(unsigned n, unsigned osz, bool rex)
{
	switch (osz) {
	case 0:
		if (!rex || n < 4)
			return (ZydisRegister)(ZYDIS_REGISTER_AL + n);
		if (n < 8)
			return (ZydisRegister)(ZYDIS_REGISTER_SPL + (n - 4));
		return (ZydisRegister)(ZYDIS_REGISTER_R8B + (n - 8));
	case 1:
		return (ZydisRegister)(ZYDIS_REGISTER_AX + n);
	case 2:
		return (ZydisRegister)(ZYDIS_REGISTER_EAX + n);
	default:
		return (ZydisRegister)(ZYDIS_REGISTER_RAX + n);
	}
}

static const char *zreg(ZydisRegister r)
{
	const char *s = ZydisRegisterGetString(r);
	return s ? s : "none";
}

static void hex(const uint8_t *b, int n, char *out)
{
	for (int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* ---- op <-> Zydis mnemonic ---- */
static const char *const ccname[16] = { "o", "no", "b", "nb", "z", "nz", "be", "nbe",
					"s", "ns", "p", "np", "l", "nl", "le", "nle" };

static bool prefix_of(const char *p, const char *s)
{
	return strncmp(p, s, strlen(p)) == 0;
}

static bool any_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

#define ANY(...) any_of(zm, (const char *const[]){ __VA_ARGS__, NULL })

static bool mnemonic_ok(const struct insn *in, const char *zm)
{
	char buf[64];
	switch (in->op) {
	case OP_IMUL1:
	case OP_IMUL2:
	case OP_IMUL3:
		return !strcmp(zm, "imul");
	case OP_JMP_IND:
	case OP_JMP_FAR:
		return !strcmp(zm, "jmp");
	case OP_CALL_IND:
	case OP_CALL_FAR:
		return !strcmp(zm, "call");
	case OP_RET_FAR:
		return !strcmp(zm, "ret");
	case OP_MOV_TO_SEG:
	case OP_MOV_FROM_SEG:
	case OP_MOV_TO_CR:
	case OP_MOV_FROM_CR:
	case OP_MOV_TO_DR:
	case OP_MOV_FROM_DR:
		return !strcmp(zm, "mov");
	case OP_PUSH_SEG:
		return !strcmp(zm, "push");
	case OP_POP_SEG:
		return !strcmp(zm, "pop");
	case OP_JCC:
		snprintf(buf, sizeof(buf), "j%s", ccname[in->cc & 15]);
		return !strcmp(zm, buf);
	case OP_SETCC:
		snprintf(buf, sizeof(buf), "set%s", ccname[in->cc & 15]);
		return !strcmp(zm, buf);
	case OP_CMOVCC:
		snprintf(buf, sizeof(buf), "cmov%s", ccname[in->cc & 15]);
		return !strcmp(zm, buf);
	case OP_FENCE:
		return ANY("lfence", "mfence", "sfence");
	case OP_NOP:
		return !strcmp(zm, "nop") || prefix_of("prefetch", zm);
	case OP_IRET:
		return ANY("iret", "iretd", "iretq");
	case OP_CBW:
		return ANY("cbw", "cwde", "cdqe");
	case OP_CWD:
		return ANY("cwd", "cdq", "cqo");
	case OP_MOVS:
		return ANY("movsb", "movsw", "movsd", "movsq");
	case OP_CMPS:
		return ANY("cmpsb", "cmpsw", "cmpsd", "cmpsq");
	case OP_STOS:
		return ANY("stosb", "stosw", "stosd", "stosq");
	case OP_LODS:
		return ANY("lodsb", "lodsw", "lodsd", "lodsq");
	case OP_SCAS:
		return ANY("scasb", "scasw", "scasd", "scasq");
	case OP_INS:
		return ANY("insb", "insw", "insd");
	case OP_OUTS:
		return ANY("outsb", "outsw", "outsd");
	case OP_MOVSX:
		return ANY("movsx", "movsxd");
	case OP_CMPXCHG8B:
		return ANY("cmpxchg8b", "cmpxchg16b");
	case OP_PUSHF:
		return ANY("pushf", "pushfd", "pushfq");
	case OP_POPF:
		return ANY("popf", "popfd", "popfq");
	case OP_PUSHA:
		return ANY("pusha", "pushad");
	case OP_POPA:
		return ANY("popa", "popad");
	case OP_JCXZ:
		return ANY("jcxz", "jecxz", "jrcxz");
	case OP_SHL:
		return ANY("shl", "sal");
	case OP_CLFLUSH:
		return ANY("clflush", "clflushopt");
	case OP_XLAT:
		return ANY("xlat", "xlatb");
	case OP_FWAIT:
		return ANY("fwait", "wait");
	default:
		break;
	}
	const char *on = op_name((enum op)in->op);
	size_t i;
	for (i = 0; on[i] && i + 1 < sizeof(buf); i++)
		buf[i] = (char)tolower((unsigned char)on[i]);
	buf[i] = 0;
	return !strcmp(buf, zm);
}

static const ZydisISAExt isa_nonintel[] = {
	ZYDIS_ISA_EXT_AMD3DNOW, ZYDIS_ISA_EXT_AMD_INVLPGB, ZYDIS_ISA_EXT_CLZERO,
	ZYDIS_ISA_EXT_FMA4,     ZYDIS_ISA_EXT_MCOMMIT,     ZYDIS_ISA_EXT_MONITORX,
	ZYDIS_ISA_EXT_RDPRU,    ZYDIS_ISA_EXT_SNP,         ZYDIS_ISA_EXT_SSE4A,
	ZYDIS_ISA_EXT_SVM,      ZYDIS_ISA_EXT_TBM,         ZYDIS_ISA_EXT_XOP,
	ZYDIS_ISA_EXT_PADLOCK,
};
static const ZydisISAExt isa_notimpl[] = {
	ZYDIS_ISA_EXT_ADOX_ADCX, ZYDIS_ISA_EXT_AMX_BF16,  ZYDIS_ISA_EXT_AMX_INT8,
	ZYDIS_ISA_EXT_AMX_TILE,  ZYDIS_ISA_EXT_CET,       ZYDIS_ISA_EXT_CLDEMOTE,
	ZYDIS_ISA_EXT_CLWB,      ZYDIS_ISA_EXT_ENQCMD,    ZYDIS_ISA_EXT_HRESET,
	ZYDIS_ISA_EXT_KEYLOCKER, ZYDIS_ISA_EXT_KEYLOCKER_WIDE, ZYDIS_ISA_EXT_MOVDIR,
	ZYDIS_ISA_EXT_MPX,       ZYDIS_ISA_EXT_PCONFIG,   ZYDIS_ISA_EXT_PKU,
	ZYDIS_ISA_EXT_PT,        ZYDIS_ISA_EXT_RTM,       ZYDIS_ISA_EXT_SERIALIZE,
	ZYDIS_ISA_EXT_SGX,       ZYDIS_ISA_EXT_SGX_ENCLV, ZYDIS_ISA_EXT_TDX,
	ZYDIS_ISA_EXT_TSX_LDTRK, ZYDIS_ISA_EXT_UINTR,     ZYDIS_ISA_EXT_WAITPKG,
};

static bool isa_in(ZydisISAExt e, const ZydisISAExt *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == e)
			return true;
	return false;
}

/* Ours is #UD, Zydis decodes it: an accepted class, or -1. */
static int accepted_ud(const ZydisDecodedInstruction *zi, int mode)
{
	ZydisISAExt e = zi->meta.isa_ext;

	if (zi->mnemonic == ZYDIS_MNEMONIC_UD0 || zi->mnemonic == ZYDIS_MNEMONIC_UD1 ||
	    zi->mnemonic == ZYDIS_MNEMONIC_UD2)
		return DC_UDN;
	if (isa_in(e, isa_nonintel, sizeof(isa_nonintel) / sizeof(isa_nonintel[0])))
		return DC_NONINTEL;
	if (e == ZYDIS_ISA_EXT_BMI1 || e == ZYDIS_ISA_EXT_BMI2)
		return -1; /* implemented: must match */
	if (zi->encoding == ZYDIS_INSTRUCTION_ENCODING_VEX ||
	    zi->encoding == ZYDIS_INSTRUCTION_ENCODING_EVEX ||
	    zi->encoding == ZYDIS_INSTRUCTION_ENCODING_MVEX)
		return DC_VEXNOTIMPL;
	if (isa_in(e, isa_notimpl, sizeof(isa_notimpl) / sizeof(isa_notimpl[0])))
		return DC_NOTIMPL;
	if ((zi->mnemonic == ZYDIS_MNEMONIC_SYSCALL || zi->mnemonic == ZYDIS_MNEMONIC_SYSRET) &&
	    mode != DMODE_64)
		return DC_SYSCALL;
	return -1;
}

/* ---- operands ---- */
enum { XR = 1, XM, XI, XP };
struct xop {
	int kind;
	ZydisRegister reg;
	uint64_t imm;
};

static void push_reg(struct xop *x, int *n, ZydisRegister r)
{
	x[*n].kind = XR;
	x[*n].reg = r;
	(*n)++;
}

static void push_imm(struct xop *x, int *n, uint64_t v)
{
	x[*n].kind = XI;
	x[*n].imm = v;
	(*n)++;
}

static bool rexb8(const struct insn *in)
{
	return in->flags & INSN_REX;
}

static void push_e(const struct insn *in, struct xop *x, int *n, unsigned w)
{
	if (in->flags & INSN_MEM) {
		x[*n].kind = XM;
		(*n)++;
	} else {
		push_reg(x, n, gpr(in->rm, w, rexb8(in)));
	}
}

/* Our operand list in Zydis' (Intel syntax) order; -1 to skip the comparison. */
static int expected_operands(const struct insn *in, struct xop *x)
{
	int n = 0;
	unsigned w = in->osz, we = in->osz;
	bool rex = rexb8(in);
	ZydisRegister g = gpr(in->reg, w, rex);

	switch (in->op) {
	case OP_NOP:
	case OP_PAUSE:
	case OP_SSE:
	case OP_FPU:
	case OP_UD:
		return -1;
	case OP_MOVZX:
	case OP_MOVSX:
	case OP_CRC32:
		we = (unsigned)in->imm;
		push_reg(x, &n, g);
		push_e(in, x, &n, we);
		return n;
	case OP_MOV_FROM_SEG:
		push_e(in, x, &n, w);
		push_reg(x, &n, (ZydisRegister)(ZYDIS_REGISTER_ES + in->reg));
		return n;
	case OP_MOV_TO_SEG:
		push_reg(x, &n, (ZydisRegister)(ZYDIS_REGISTER_ES + in->reg));
		push_e(in, x, &n, w);
		return n;
	case OP_PUSH_SEG:
	case OP_POP_SEG:
		push_reg(x, &n, (ZydisRegister)(ZYDIS_REGISTER_ES + in->reg));
		return n;
	case OP_MOV_FROM_CR:
	case OP_MOV_TO_CR:
	case OP_MOV_FROM_DR:
	case OP_MOV_TO_DR: {
		ZydisRegister s = (ZydisRegister)((in->op == OP_MOV_FROM_CR || in->op == OP_MOV_TO_CR ?
						   ZYDIS_REGISTER_CR0 : ZYDIS_REGISTER_DR0) + in->reg);
		ZydisRegister r = gpr(in->rm, w, rex);
		if (in->op == OP_MOV_FROM_CR || in->op == OP_MOV_FROM_DR) {
			push_reg(x, &n, r);
			push_reg(x, &n, s);
		} else {
			push_reg(x, &n, s);
			push_reg(x, &n, r);
		}
		return n;
	}
	case OP_XCHG:
		if (!(in->flags & INSN_MEM) && in->map == MAP_PRIMARY && in->opc >= 0x90 &&
		    in->opc <= 0x97) {
			push_reg(x, &n, g);
			push_reg(x, &n, gpr(0, w, rex));
			return n;
		}
		break;
	case OP_IN:
	case OP_OUT: {
		ZydisRegister acc = gpr(0, w, false);
		bool out = in->op == OP_OUT;
		if (out) {
			if (in->flags & INSN_DX)
				push_reg(x, &n, ZYDIS_REGISTER_DX);
			else
				push_imm(x, &n, in->imm);
		}
		push_reg(x, &n, acc);
		if (!out) {
			if (in->flags & INSN_DX)
				push_reg(x, &n, ZYDIS_REGISTER_DX);
			else
				push_imm(x, &n, in->imm);
		}
		return n;
	}
	case OP_ANDN:
	case OP_PDEP:
	case OP_PEXT:
	case OP_MULX:
		push_reg(x, &n, g);
		push_reg(x, &n, gpr(in->vvvv, w, false));
		push_e(in, x, &n, w);
		return n;
	case OP_BEXTR:
	case OP_BZHI:
	case OP_SARX:
	case OP_SHLX:
	case OP_SHRX:
		push_reg(x, &n, g);
		push_e(in, x, &n, w);
		push_reg(x, &n, gpr(in->vvvv, w, false));
		return n;
	case OP_LAR:
	case OP_LSL:
		/* SDM: LSL r64, r32/m16 with REX.W; Zydis names LAR's source r64 (only bits
		 * 15:0 of it are used) */
		push_reg(x, &n, g);
		push_e(in, x, &n, w == 3 && in->op == OP_LSL ? 2 : w);
		return n;
	case OP_ARPL:
		push_e(in, x, &n, 1);
		push_reg(x, &n, gpr(in->reg, 1, rex));
		return n;
	case OP_ENTER:
		push_imm(x, &n, in->imm);
		push_imm(x, &n, in->imm2);
		return n;
	default:
		break;
	}

	switch (in->form) {
	case FORM_NONE:
		break;
	case FORM_E:
		push_e(in, x, &n, we);
		break;
	case FORM_EG:
		push_e(in, x, &n, we);
		push_reg(x, &n, g);
		if (in->op == OP_SHLD || in->op == OP_SHRD) {
			if (in->flags & INSN_CL)
				push_reg(x, &n, ZYDIS_REGISTER_CL);
			else
				push_imm(x, &n, in->imm);
		}
		break;
	case FORM_GE:
		push_reg(x, &n, g);
		push_e(in, x, &n, we);
		break;
	case FORM_EI:
		push_e(in, x, &n, we);
		if (in->flags & INSN_CL)
			push_reg(x, &n, ZYDIS_REGISTER_CL);
		else
			push_imm(x, &n, in->imm);
		break;
	case FORM_GEI:
		push_reg(x, &n, g);
		push_e(in, x, &n, we);
		push_imm(x, &n, in->imm);
		break;
	case FORM_G:
		push_reg(x, &n, g);
		break;
	case FORM_GI:
		push_reg(x, &n, g);
		push_imm(x, &n, in->imm);
		break;
	case FORM_I:
		if ((in->flags & INSN_FAR) && in->op != OP_RET_FAR) {
			x[n].kind = XP;
			x[n].imm = in->imm | (uint64_t)in->imm2 << 32;
			n++;
		} else {
			push_imm(x, &n, in->imm);
		}
		break;
	case FORM_VE:
		push_reg(x, &n, gpr(in->vvvv, w, false));
		push_e(in, x, &n, we);
		break;
	default:
		return -1;
	}
	return n;
}

static ZydisRegister addr_reg(uint8_t r, uint8_t asz)
{
	if (r == REG_NONE)
		return ZYDIS_REGISTER_NONE;
	if (r == REG_RIP)
		return asz == 3 ? ZYDIS_REGISTER_RIP : ZYDIS_REGISTER_EIP;
	return gpr(r, asz, false);
}

static int compare_mem(const struct insn *in, const ZydisDecodedOperand *o, int mode)
{
	uint64_t amask = in->asz == 3 ? ~0ULL : in->asz == 2 ? 0xFFFFFFFFULL : 0xFFFF;
	ZydisRegister base = addr_reg(in->base, in->asz), index = addr_reg(in->index, in->asz);
	bool zbug = false;
	if (o->mem.base != base && in->base == REG_NONE && o->mem.base == ZYDIS_REGISTER_R13D &&
	    mode == DMODE_64 && in->asz == 2) {
		/* Zydis 4.0: 67 + REX.B + SIB base 101 with mod 00 reports r13d and drops the
		 * disp32 it reads; SDM Vol.2 Table 2-5: REX.B is ignored there, no base. */
		class_count[DC_ZYR13]++;
		base = o->mem.base;
		zbug = true;
	}
	if (o->mem.base != base)
		FAIL("mem base ours %s zydis %s", zreg(base), zreg(o->mem.base));
	if (o->mem.index != index)
		FAIL("mem index ours %s zydis %s", zreg(index), zreg(o->mem.index));
	if (in->index != REG_NONE && o->mem.scale != (1u << in->scale))
		FAIL("mem scale ours %u zydis %u", 1u << in->scale, o->mem.scale);
	uint64_t disp = (in->flags & INSN_MOFFS) ? in->imm : (uint64_t)(int64_t)in->disp;
	if (!zbug && ((uint64_t)o->mem.disp.value ^ disp) & amask)
		FAIL("mem disp ours %#" PRIx64 " zydis %#" PRIx64, disp,
		     (uint64_t)o->mem.disp.value);
	if (o->mem.type != ZYDIS_MEMOP_TYPE_AGEN &&
	    o->mem.segment != (ZydisRegister)(ZYDIS_REGISTER_ES + in->seg))
		FAIL("mem seg ours %s zydis %s", zreg((ZydisRegister)(ZYDIS_REGISTER_ES + in->seg)),
		     zreg(o->mem.segment));
	return 0;
}

static const ZydisDecodedOperand *first_mem(const ZydisDecodedInstruction *zi,
					    const ZydisDecodedOperand *zo)
{
	for (int i = 0; i < zi->operand_count; i++)
		if (zo[i].visibility != ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
		    zo[i].type == ZYDIS_OPERAND_TYPE_MEMORY)
			return &zo[i];
	return NULL;
}

/*
 * Operand size Zydis reports for our decoding, or 0 to skip. Zydis' operand_width is the
 * prefix-derived effective operand size; where the SDM fixes the operand size (Ew/Mw
 * operands, m8/m64 operands, BMI's 32/64, CRC32's source) ours is the real size and
 * the register operands (compared below) carry the check instead.
 */
static const uint16_t width_skip[] = {
	OP_NOP, OP_PAUSE, OP_SSE, OP_FPU, OP_UD, OP_XLAT, OP_CRC32, OP_MOV_TO_SEG,
	OP_MOV_FROM_SEG, OP_ARPL, OP_VERR, OP_VERW, OP_LTR, OP_LLDT, OP_LMSW, OP_SMSW,
	OP_SLDT, OP_STR, OP_INVLPG, OP_CLFLUSH, OP_VMCLEAR, OP_VMPTRLD, OP_VMPTRST, OP_VMXON,
	OP_RDPID, OP_RDFSBASE, OP_RDGSBASE, OP_WRFSBASE, OP_WRGSBASE, OP_ANDN, OP_BEXTR,
	OP_BLSI, OP_BLSMSK, OP_BLSR, OP_BZHI, OP_MULX, OP_PDEP, OP_PEXT, OP_RORX, OP_SARX,
	OP_SHLX, OP_SHRX,
};

static unsigned expected_width(const struct insn *in)
{
	for (size_t i = 0; i < sizeof(width_skip) / sizeof(width_skip[0]); i++)
		if (in->op == width_skip[i])
			return 0;
	/* Zydis reports 64 with REX.W for insd/outsd; port I/O has no 64-bit form */
	if ((in->op == OP_INS || in->op == OP_OUTS) && (in->flags & INSN_REXW))
		return 0;
	return 8u << in->osz;
}

static int compare(const uint8_t *b, int mode)
{
	struct insn in;
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	int n = decode(b, 15, (enum decode_mode)mode, &in);
	ZyanStatus st = ZydisDecoderDecodeFull(&zdec[mode], b, 15, &zi, zo);
	bool zok = ZYAN_SUCCESS(st);

	n_compared++;
	if (n < 0) {
		if (n != DECODE_TOO_LONG)
			FAIL("decode returned %d", n);
		for (int k = 0; k < 15; k++) {
			struct insn t;
			int r = decode(b, k, (enum decode_mode)mode, &t);
			if (r != DECODE_NEED_MORE && r != DECODE_TOO_LONG)
				FAIL("too long with 15 bytes but %d with %d", r, k);
		}
		if (zok)
			FAIL("ours: too long; Zydis: %s, length %d",
			     ZydisMnemonicGetString(zi.mnemonic), zi.length);
		n_both_invalid++;
		return 0;
	}
	if (n != in.len)
		FAIL("return %d but len %d", n, in.len);
	/* Self-consistency: every shorter buffer asks for more bytes, the exact one gives
	 * the same decoding. */
	for (int k = 0; k <= n; k++) {
		struct insn t;
		int r = decode(b, k, (enum decode_mode)mode, &t);
		if (k < n && r != DECODE_NEED_MORE)
			FAIL("avail %d of %d: returned %d, not NEED_MORE", k, n, r);
		if (k == n && (r != n || memcmp(&t, &in, sizeof(t))))
			FAIL("avail = length %d: different decoding", n);
	}
	if (!zok) {
		if (in.op == OP_UD) {
			n_both_invalid++;
			return 0;
		}
		if (in.op == OP_FPU) {
			class_count[DC_X87]++;
			return 0;
		}
		FAIL("ours: %s, Zydis: invalid (status %#x)", op_name((enum op)in.op), (unsigned)st);
	}
	if (in.op == OP_UD && (zi.meta.isa_ext == ZYDIS_ISA_EXT_KNC ||
				zi.meta.isa_ext == ZYDIS_ISA_EXT_KNCE ||
				zi.meta.isa_ext == ZYDIS_ISA_EXT_KNCV)) {
		class_count[DC_KNC]++;
		return 0;
	}
	if (in.len != zi.length)
		FAIL("length ours %d zydis %d (ours %s, Zydis %s)", in.len, zi.length,
		     op_name((enum op)in.op), ZydisMnemonicGetString(zi.mnemonic));
	if (in.op == OP_UD) {
		int c = accepted_ud(&zi, mode);
		if (c < 0)
			FAIL("ours: #UD, Zydis: %s [%s]", ZydisMnemonicGetString(zi.mnemonic),
			     ZydisISAExtGetString(zi.meta.isa_ext));
		class_count[c]++;
		return 0;
	}
	n_both_valid++;

	const char *zm = ZydisMnemonicGetString(zi.mnemonic);
	if (in.op != OP_SSE && in.op != OP_FPU && !mnemonic_ok(&in, zm))
		FAIL("op ours %s (cc %d) Zydis %s", op_name((enum op)in.op), in.cc, zm);
	if (in.op == OP_SSE && zi.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY)
		FAIL("ours SSE, Zydis %s (encoding %d)", zm, zi.encoding);
	if (in.op == OP_FPU && !(zi.opcode_map == ZYDIS_OPCODE_MAP_DEFAULT && zi.opcode >= 0xD8 &&
				 zi.opcode <= 0xDF))
		FAIL("ours FPU, Zydis %s", zm);

	if ((8u << in.asz) != zi.address_width)
		FAIL("address size ours %u zydis %u", 8u << in.asz, zi.address_width);
	unsigned ew = expected_width(&in);
	if (ew && ew != zi.operand_width)
		FAIL("operand size ours %u zydis %u (%s)", ew, zi.operand_width, zm);

	/* Memory operand (also for ops whose other operands are not compared). */
	const ZydisDecodedOperand *zmem = first_mem(&zi, zo);
	if (in.flags & INSN_MEM) {
		if (!zmem)
			FAIL("ours has a memory operand, Zydis none");
		if (compare_mem(&in, zmem, mode))
			return 1;
	} else if (zmem && in.op != OP_NOP) {
		FAIL("Zydis has a memory operand, ours none");
	}

	/* String source segment. */
	if (in.op == OP_MOVS || in.op == OP_CMPS || in.op == OP_LODS || in.op == OP_OUTS) {
		for (int i = 0; i < zi.operand_count; i++) {
			const ZydisDecodedOperand *o = &zo[i];
			if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
				continue;
			if (o->mem.base != ZYDIS_REGISTER_SI && o->mem.base != ZYDIS_REGISTER_ESI &&
			    o->mem.base != ZYDIS_REGISTER_RSI)
				continue;
			if (o->mem.segment != (ZydisRegister)(ZYDIS_REGISTER_ES + in.seg))
				FAIL("string source seg ours %d zydis %s", in.seg, zreg(o->mem.segment));
		}
	}

	/* Explicit and implicit operands in order. */
	struct xop x[8];
	int nx = expected_operands(&in, x);
	if (nx < 0) {
		op_seen[in.op]++;
		return 0;
	}
	int k = 0;
	for (int i = 0; i < zi.operand_count; i++) {
		const ZydisDecodedOperand *o = &zo[i];
		if (o->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		if (k >= nx)
			FAIL("Zydis has more operands (%d+) than ours (%d)", k + 1, nx);
		switch (x[k].kind) {
		case XR:
			if (o->type != ZYDIS_OPERAND_TYPE_REGISTER)
				FAIL("operand %d: ours register %s, Zydis type %d", k, zreg(x[k].reg),
				     o->type);
			if (o->reg.value != x[k].reg)
				FAIL("operand %d: ours %s, Zydis %s", k, zreg(x[k].reg),
				     zreg(o->reg.value));
			break;
		case XM:
			if (o->type != ZYDIS_OPERAND_TYPE_MEMORY)
				FAIL("operand %d: ours memory, Zydis type %d", k, o->type);
			break;
		case XI: {
			if (o->type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
				FAIL("operand %d: ours immediate, Zydis type %d", k, o->type);
			uint64_t m = o->size >= 64 ? ~0ULL : (1ULL << o->size) - 1;
			if ((o->imm.value.u ^ x[k].imm) & m)
				FAIL("operand %d: imm ours %#" PRIx64 " Zydis %#" PRIx64, k, x[k].imm,
				     o->imm.value.u);
			break;
		}
		case XP:
			if (o->type != ZYDIS_OPERAND_TYPE_POINTER)
				FAIL("operand %d: ours pointer, Zydis type %d", k, o->type);
			if (o->ptr.segment != (x[k].imm >> 32) ||
			    o->ptr.offset != (uint32_t)x[k].imm)
				FAIL("far pointer ours %04x:%x Zydis %04x:%x", (unsigned)(x[k].imm >> 32),
				     (uint32_t)x[k].imm, o->ptr.segment, o->ptr.offset);
			break;
		}
		k++;
	}
	if (k != nx)
		FAIL("operand count ours %d Zydis %d", nx, k);
	op_seen[in.op]++;
	return 0;
}

/* ---- driving ---- */
static int shown;

static void run(const uint8_t *b, int mode)
{
	if (!compare(b, mode))
		return;
	n_mismatch++;
	if (shown < 40 || verbose) {
		char h[64];
		struct insn in;
		decode(b, 15, (enum decode_mode)mode, &in);
		hex(b, in.len > 0 && in.len <= 15 ? in.len : 15, h);
		printf("MISMATCH %d-bit %s: %s\n", mode_bits[mode], h, why);
		shown++;
	}
}

static const uint8_t legacy_pfx[] = { 0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x36, 0x3E,
				      0x26, 0x64, 0x65 };

static void random_string(uint8_t *b, int mode)
{
	for (int i = 0; i < 16; i++)
		b[i] = (uint8_t)rnd();
	if (rnd() & 1)
		return; /* uniformly random */
	/* Some prefixes, maybe a REX, an escape, then random bytes. */
	int p = 0, np = (int)(rnd() % 4);
	for (int i = 0; i < np; i++)
		b[p++] = legacy_pfx[rnd() % sizeof(legacy_pfx)];
	if (mode == DMODE_64 && (rnd() & 1))
		b[p++] = (uint8_t)(0x40 | (rnd() & 15));
	switch (rnd() % 4) {
	case 0:
		break;
	case 1:
		b[p++] = 0x0F;
		break;
	case 2:
		b[p++] = 0x0F;
		b[p++] = 0x38;
		break;
	case 3:
		b[p++] = 0x0F;
		b[p++] = 0x3A;
		break;
	}
}

/* Prefix combinations for the structured sweep (the last of F2/F3 wins). */
static const char *const pfx_short[] = {
	"", "66", "F2", "F3", "67", "F0", "66F2", "F266", "F3F2", "F2F3", "2E", "64", NULL,
};
static const char *const pfx_long[] = {
	"", "66", "F2", "F3", "67", "F0", "66F2", "F266", "F3F2", "F2F3", "2E", "64", "36",
	"F066", "F0F3", "6667", "26", "65", "3E", "F366", "F0F2", NULL,
};
static const char *const rex_short[] = { "", "48", "41", "44", "4F", NULL };
static const char *const rex_long[] = { "", "40", "48", "41", "42", "44", "4F", "47", "49",
					"4C", NULL };

static int parse_hex(const char *s, uint8_t *out)
{
	int n = 0;
	while (s[0] && s[1]) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void structured(int mode, bool longrun)
{
	const char *const *pl = longrun ? pfx_long : pfx_short;
	const char *const *rl = longrun ? rex_long : rex_short;
	static const uint8_t esc[4][2] = { { 0 }, { 0x0F }, { 0x0F, 0x38 }, { 0x0F, 0x3A } };
	static const int esclen[4] = { 0, 1, 2, 2 };

	for (int pi = 0; pl[pi]; pi++) {
		for (int ri = 0; rl[ri]; ri++) {
			if (mode != DMODE_64 && ri > 0)
				break;
			uint8_t pre[8];
			int np = parse_hex(pl[pi], pre);
			np += parse_hex(rl[ri], pre + np);
			for (int map = 0; map < 4; map++) {
				for (int opc = 0; opc < 256; opc++) {
					for (int m = 0; m < 256; m++) {
						int sibs = longrun && (m & 0xC7) == 0x04 ? 256 : 1;
						for (int s = 0; s < sibs; s++) {
							uint8_t b[16];
							int p = 0;
							for (int i = 0; i < 16; i++)
								b[i] = (uint8_t)rnd();
							memcpy(b, pre, (size_t)np);
							p = np;
							memcpy(b + p, esc[map], (size_t)esclen[map]);
							p += esclen[map];
							b[p++] = (uint8_t)opc;
							b[p++] = (uint8_t)m;
							if (sibs > 1)
								b[p] = (uint8_t)s;
							run(b, mode);
						}
					}
				}
			}
		}
	}

	/* VEX3 and VEX2: every map, opcode and W/vvvv/L/pp byte; EVEX and XOP: every
	 * opcode with random payloads. Outside 64-bit mode R/X (VEX3) or R and vvvv[3]
	 * (VEX2) alternate between VEX and LES/LDS. */
	for (int opc = 0; opc < 256; opc++) {
		for (int v = 0; v < 256; v++) {
			uint8_t b[16];
			for (int map = 1; map <= 3; map++) {
				for (int i = 0; i < 16; i++)
					b[i] = (uint8_t)rnd();
				b[0] = 0xC4;
				b[1] = (uint8_t)((rnd() & 0xE0) | map);
				if (mode != DMODE_64 && (rnd() & 3))
					b[1] |= 0xC0;
				b[2] = (uint8_t)v;
				b[3] = (uint8_t)opc;
				run(b, mode);
			}
			for (int i = 0; i < 16; i++)
				b[i] = (uint8_t)rnd();
			b[0] = 0xC5;
			b[1] = (uint8_t)v;
			b[2] = (uint8_t)opc;
			run(b, mode);
		}
		for (int v = 0; v < (longrun ? 256 : 32); v++) {
			uint8_t b[16];
			for (int i = 0; i < 16; i++)
				b[i] = (uint8_t)rnd();
			b[0] = 0x62;
			b[1] = (uint8_t)((rnd() & 0xF0) | (mode != DMODE_64 ? 0xC0 : 0) | (v % 7));
			b[2] = (uint8_t)(rnd() | 0x04);
			b[4] = (uint8_t)opc;
			run(b, mode);
			for (int i = 0; i < 16; i++)
				b[i] = (uint8_t)rnd();
			b[0] = 0x8F;
			b[1] = (uint8_t)((rnd() & 0xE0) | (8 + v % 3));
			b[3] = (uint8_t)opc;
			run(b, mode);
		}
	}
}

static void show(int mode, const char *h)
{
	uint8_t b[16] = { 0 };
	int n = parse_hex(h, b);
	struct insn in;
	int r = decode(b, n, (enum decode_mode)mode, &in);
	printf("%s (%d-bit): ", h, mode_bits[mode]);
	if (r < 0) {
		printf("ours error %d\n", r);
	} else {
		printf("ours %s len %d form %d osz %d asz %d reg %d rm %d base %d index %d scale "
		       "%d seg %d flags %#x cc %d disp %d imm %#" PRIx64 " imm2 %#x vvvv %d map %d\n",
		       op_name((enum op)in.op), in.len, in.form, in.osz, in.asz, in.reg, in.rm,
		       in.base, in.index, in.scale, in.seg, in.flags, in.cc, in.disp, in.imm,
		       in.imm2, in.vvvv, in.map);
	}
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	ZyanStatus st = ZydisDecoderDecodeFull(&zdec[mode], b, (ZyanUSize)n, &zi, zo);
	if (!ZYAN_SUCCESS(st)) {
		printf("  zydis invalid (%#x)\n", (unsigned)st);
	} else {
		ZydisFormatter f;
		char s[256];
		ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
		ZydisFormatterFormatInstruction(&f, &zi, zo, zi.operand_count_visible, s, sizeof(s),
						0, NULL);
		printf("  zydis: %s  len %d osz %d asz %d [%s]\n", s, zi.length, zi.operand_width,
		       zi.address_width, ZydisISAExtGetString(zi.meta.isa_ext));
	}
	if (r > 0 && n >= 15) {
		if (compare(b, mode))
			printf("  MISMATCH: %s\n", why);
		else
			printf("  ok\n");
	}
}

int main(int argc, char **argv)
{
	uint64_t count = 2000000;
	bool longrun = false;

	for (int m = 0; m < 3; m++) {
		ZydisDecoderInit(&zdec[m], zmode[m], zstack[m]);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_AMD_BRANCHES, ZYAN_FALSE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_KNC, ZYAN_FALSE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_MPX, ZYAN_FALSE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_CET, ZYAN_FALSE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_CLDEMOTE, ZYAN_FALSE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_LZCNT, ZYAN_TRUE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_TZCNT, ZYAN_TRUE);
		ZydisDecoderEnableMode(&zdec[m], ZYDIS_DECODER_MODE_WBNOINVD, ZYAN_FALSE);
	}

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--show") && i + 2 < argc) {
			int bits = atoi(argv[i + 1]);
			int mode = bits == 16 ? DMODE_16 : bits == 32 ? DMODE_32 : DMODE_64;
			for (int j = i + 2; j < argc; j++)
				show(mode, argv[j]);
			return 0;
		} else if (!strcmp(argv[i], "--long")) {
			longrun = true;
			count = 50000000;
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			rng_state = strtoull(argv[++i], NULL, 0) | 1;
		} else if (!strcmp(argv[i], "--verbose")) {
			verbose = 1;
		} else {
			count = strtoull(argv[i], NULL, 0);
		}
	}

	for (int mode = 0; mode < 3; mode++) {
		uint8_t b[16];
		for (uint64_t i = 0; i < count / 3 + 1; i++) {
			random_string(b, mode);
			run(b, mode);
		}
		structured(mode, longrun);
	}

	printf("decode_zydis: ops never matched against a valid Zydis decoding:");
	for (int op = 0; op < OP_COUNT; op++)
		if (!op_seen[op])
			printf(" %s", op_name((enum op)op));
	printf("\n");
	printf("decode_zydis: both valid %" PRIu64 ", both invalid %" PRIu64 "\n", n_both_valid,
	       n_both_invalid);
	for (int c = 0; c < DC_COUNT; c++)
		printf("  accepted %-10" PRIu64 " %s\n", class_count[c], class_reason[c]);
	printf("decode_zydis: %" PRIu64 " compared, %" PRIu64 " mismatches\n", n_compared,
	       n_mismatch);
	return n_mismatch ? 1 : 0;
}
