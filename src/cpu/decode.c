/*
 * The instruction decoder: bytes -> struct insn (cpu/insn.h).
 *
 * SDM Vol.2 chapter 2 (instruction format) and Appendix A (opcode maps). This file holds
 * the map-independent parts: legacy/REX prefixes (2.1.1, 2.2.1), ModRM/SIB/displacement
 * in 16-, 32- and 64-bit addressing (2.1.5, Tables 2-1..2-3, 2.2.1.6 RIP-relative),
 * immediates, operand/address-size rules (2.2.1.2, Table 2-4 and the 64-bit-mode
 * default-64 list in Appendix A.2.5), the LOCK rule and the 15-byte limit (2.3.11).
 * The opcode tables are in decode_map1.c, decode_map0f.c, decode_map0f38.c and
 * decode_vex.c.
 */
#include <string.h>

#include "cpu/decode.h"

/* 16-bit addressing, SDM Vol.2 Table 2-1: base and index per ModRM.rm (rm 6 with mod 00
 * is disp16 alone). */
static const uint8_t base16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 }; /* BX BX BP BP SI DI BP BX */
static const uint8_t index16[8] = { 6, 7, 6, 7, REG_NONE, REG_NONE, REG_NONE, REG_NONE };

static const struct opdesc ud_row = UD_(0);

static int modrm_operand(struct dctx *c, struct insn *in, bool force_reg)
{
	uint8_t m = c->modrm, mod = m >> 6, rm = m & 7;
	uint8_t defseg = DSEG_DS;

	in->reg = (uint8_t)(((m >> 3) & 7) | (c->rexr << 3));
	if (mod == 3 || force_reg) {
		in->rm = (uint8_t)(rm | (c->rexb << 3));
		return 0;
	}
	in->flags |= INSN_MEM;
	if (c->asz == 1) {
		if (mod == 0 && rm == 6) {
			NEED(c, 2);
			in->disp = (int16_t)dfetch(c, 2);
		} else {
			in->base = base16[rm];
			in->index = index16[rm];
			if (rm == 2 || rm == 3 || rm == 6)
				defseg = DSEG_SS; /* BP-based forms */
		}
		if (mod == 1) {
			NEED(c, 1);
			in->disp = (int8_t)dfetch(c, 1);
		} else if (mod == 2) {
			NEED(c, 2);
			in->disp = (int16_t)dfetch(c, 2);
		}
	} else {
		uint8_t base = rm;
		bool nobase = false;
		if (rm == 4) {
			NEED(c, 1);
			uint8_t sib = (uint8_t)dfetch(c, 1);
			uint8_t idx = (uint8_t)(((sib >> 3) & 7) | (c->rexx << 3));
			in->scale = sib >> 6;
			if (idx != 4)
				in->index = idx; /* index 100 without REX.X: none */
			base = sib & 7;
			if (base == 5 && mod == 0)
				nobase = true; /* [scaled index] + disp32 */
		} else if (rm == 5 && mod == 0) {
			/* disp32 alone; RIP-relative in 64-bit mode (2.2.1.6) */
			NEED(c, 4);
			in->disp = (int32_t)dfetch(c, 4);
			if (c->mode == DMODE_64)
				in->base = REG_RIP;
			goto seg;
		}
		if (nobase) {
			NEED(c, 4);
			in->disp = (int32_t)dfetch(c, 4);
		} else {
			in->base = (uint8_t)(base | (c->rexb << 3));
			if (in->base == 4 || in->base == 5)
				defseg = DSEG_SS; /* rSP/rBP base (not R12/R13) */
			if (mod == 1) {
				NEED(c, 1);
				in->disp = (int8_t)dfetch(c, 1);
			} else if (mod == 2) {
				NEED(c, 4);
				in->disp = (int32_t)dfetch(c, 4);
			}
		}
	}
seg:
	if (c->seg == DSEG_NONE)
		in->seg = defseg;
	return 0;
}

static uint8_t operand_size(const struct dctx *c, uint32_t cls, bool mem)
{
	bool m64 = c->mode == DMODE_64;
	switch (cls) {
	case SZ_B:
		return 0;
	case SZ_W:
		return 1;
	case SZ_D64:
		return m64 ? (c->opsize && !c->rexw ? 1 : 3) : c->osz_v;
	case SZ_F64:
		return m64 ? 3 : c->osz_v;
	case SZ_NAT:
		return m64 ? 3 : 2;
	case SZ_Y:
		return m64 && c->rexw ? 3 : 2;
	case SZ_Z:
		return c->osz_v == 3 ? 2 : c->osz_v;
	case SZ_MW:
		return mem ? 1 : c->osz_v;
	default:
		return c->osz_v;
	}
}

static int immediates(struct dctx *c, struct insn *in, uint32_t kind)
{
	int n;
	switch (kind) {
	case IM_NONE:
		break;
	case IM_IB:
	case IM_RB:
		NEED(c, 1);
		in->imm = (uint64_t)(int64_t)(int8_t)dfetch(c, 1);
		break;
	case IM_UB:
		NEED(c, 1);
		in->imm = dfetch(c, 1);
		break;
	case IM_IW:
		NEED(c, 2);
		in->imm = dfetch(c, 2);
		break;
	case IM_IZ:
	case IM_RZ:
		if (in->osz == 1) {
			NEED(c, 2);
			in->imm = (uint64_t)(int64_t)(int16_t)dfetch(c, 2);
		} else {
			NEED(c, 4);
			in->imm = (uint64_t)(int64_t)(int32_t)dfetch(c, 4);
		}
		break;
	case IM_IV:
		n = 1 << in->osz;
		NEED(c, n);
		in->imm = dfetch(c, n);
		break;
	case IM_AP:
		n = in->osz == 1 ? 2 : 4;
		NEED(c, n + 2);
		in->imm = dfetch(c, n);
		in->imm2 = (uint16_t)dfetch(c, 2);
		break;
	case IM_ENTER:
		NEED(c, 3);
		in->imm = dfetch(c, 2);
		in->imm2 = (uint16_t)dfetch(c, 1);
		break;
	case IM_MOFFS:
		n = 1 << in->asz;
		NEED(c, n);
		in->imm = dfetch(c, n);
		in->flags |= INSN_MEM | INSN_MOFFS;
		break;
	case IM_ONE:
		in->imm = 1;
		break;
	case IM_ID:
		NEED(c, 4);
		in->imm = dfetch(c, 4);
		break;
	}
	return 0;
}

/* R_SPEC rows: escapes whose meaning depends on the byte after the opcode. Returns the
 * length when it decoded the whole instruction, 0 with *next set to continue, or an
 * error. */
static int special(struct dctx *c, struct insn *in, uint8_t which, uint8_t opc,
		   const struct opdesc **next)
{
	uint8_t peek;

	switch (which) {
	case SP_VEX: /* 2.3.5: C4/C5 are VEX in 64-bit mode or when the next byte has mod 11 */
		NEED(c, 1);
		peek = c->b[c->pos];
		if (c->mode == DMODE_64 || peek >= 0xC0)
			return decode_vex(c, in, opc);
		*next = &decode_les_lds[opc & 1];
		return 0;
	case SP_EVEX: /* 2.7.1: likewise for 62 vs BOUND */
		NEED(c, 1);
		peek = c->b[c->pos];
		if (c->mode == DMODE_64 || peek >= 0xC0)
			return decode_evex(c, in);
		*next = &decode_bound;
		return 0;
	case SP_XOP: /* AMD XOP: 8F with a map-select field >= 8 (ModRM.reg != 0 there) */
		NEED(c, 1);
		peek = c->b[c->pos];
		if (peek & 0x18)
			return decode_xop(c, in);
		*next = &decode_grp1a_row;
		return 0;
	case SP_NOP90:
		if (c->mp == 2)
			*next = &decode_pause; /* F3 90, REX.B notwithstanding */
		else if (c->rexb)
			*next = &decode_xchg90; /* XCHG r8, rAX */
		else
			*next = &decode_nop90;
		return 0;
	}
	*next = &ud_row;
	return 0;
}

/* Post-decode adjustments for rows with a fix field; returns true for #UD. */
static bool fixup(struct dctx *c, struct insn *in, uint8_t which, uint8_t opc)
{
	uint8_t sreg = (c->modrm >> 3) & 7;

	switch (which) {
	case FX_SRC8:
		in->imm = 0;
		break;
	case FX_SRC16:
		in->imm = 1;
		break;
	case FX_MOVSXD:
		in->imm = in->osz == 3 ? 2 : in->osz;
		break;
	case FX_CRC8:
		in->imm = 0;
		in->osz = operand_size(c, SZ_Y, false);
		break;
	case FX_CRCV:
		in->imm = c->osz_v;
		in->osz = operand_size(c, SZ_Y, false);
		break;
	case FX_CR: /* SDM MOV-to/from-CR: CR1, CR5-7, CR9-15 are #UD */
		return !(in->reg == 0 || in->reg == 2 || in->reg == 3 || in->reg == 4 ||
			 in->reg == 8);
	case FX_DR: /* DR8-15 (REX.R) are #UD */
		return in->reg > 7;
	case FX_SREG_SRC:
		in->reg = sreg;
		return sreg > DSEG_GS;
	case FX_SREG_DST: /* MOV CS, r/m is #UD */
		in->reg = sreg;
		return sreg > DSEG_GS || sreg == DSEG_CS;
	case FX_SREG_OPC:
		in->reg = (opc >> 3) & 7;
		break;
	case FX_CX8:
		in->osz = c->rexw ? 3 : 2;
		break;
	}
	return false;
}

int decode_finish(struct dctx *c, struct insn *in, const struct opdesc *d, uint32_t attr,
		  uint8_t opc, bool ud)
{
	bool grp = false;

	/* Resolve groups and splits down to the instruction's row. */
	for (;;) {
		uint32_t r = d->attr & R_MASK;
		attr |= d->attr & A_INHERIT;
		if (r == R_NONE)
			break;
		if (r == R_PFX) {
			d = &d->sub[c->mp];
			continue;
		}
		if (r == R_M64) {
			d = &d->sub[c->mode == DMODE_64];
			continue;
		}
		if (r == R_SPEC) {
			const struct opdesc *next = d;
			int ret = special(c, in, d->fix, opc, &next);
			if (ret)
				return ret;
			d = next;
			continue;
		}
		if (!c->has_modrm) {
			NEED(c, 1);
			c->modrm = (uint8_t)dfetch(c, 1);
			c->has_modrm = 1;
		}
		if (r == R_GRP) {
			d = &d->sub[(c->modrm >> 3) & 7];
			grp = true;
		} else if (r == R_MOD)
			d = &d->sub[c->modrm >= 0xC0];
		else
			d = &d->sub[c->modrm & 7];
	}

	in->op = d->op;
	in->form = d->form;
	in->opc = opc;
	in->seg = c->seg == DSEG_NONE ? DSEG_DS : c->seg;

	if ((attr & A_MODRM) && !c->has_modrm) {
		NEED(c, 1);
		c->modrm = (uint8_t)dfetch(c, 1);
		c->has_modrm = 1;
	}
	if (c->has_modrm) {
		int err = modrm_operand(c, in, attr & A_MODREG);
		if (err)
			return err;
		if (grp)
			in->cc = (c->modrm >> 3) & 7; /* the group's sub-operation */
	}
	bool mem = in->flags & INSN_MEM;
	in->osz = operand_size(c, attr & SZ_MASK, mem);

	int err = immediates(c, in, attr & IM_MASK);
	if (err)
		return err;
	mem = in->flags & INSN_MEM;

	if (attr & A_ZR)
		in->reg = (uint8_t)((opc & 7) | (c->rexb << 3));
	if (attr & A_ACC)
		in->rm = 0;
	if (attr & A_CC)
		in->cc = opc & 15;
	if (attr & A_CL)
		in->flags |= INSN_CL;
	if (attr & A_DX)
		in->flags |= INSN_DX;
	if (attr & A_FAR)
		in->flags |= INSN_FAR;

	/* Validity. */
	if (d->op == OP_SSE) {
		unsigned col = (d->sse >> (2 * c->mp)) & 3;
		if (col == S__ || (col == SMM && !mem) || (col == SRR && mem))
			ud = true;
	}
	if ((attr & A_MEM) && !mem)
		ud = true;
	if ((attr & A_REG) && mem)
		ud = true;
	if ((attr & A_I64) && c->mode == DMODE_64)
		ud = true;
	if ((attr & A_O64) && c->mode != DMODE_64)
		ud = true;
	if ((attr & A_NP) && (c->opsize || c->rep))
		ud = true;
	if (c->lock) {
		if (!(attr & A_LK) || !mem)
			ud = true; /* SDM Vol.2 LOCK: #UD unless a listed op with memory dest */
		in->flags |= INSN_LOCK;
	}
	if (d->fix && fixup(c, in, d->fix, opc))
		ud = true;

	if (ud)
		in->op = OP_UD;
	in->len = (uint8_t)c->pos;
	return c->pos;
}

int decode(const uint8_t *bytes, int avail, enum decode_mode mode, struct insn *in)
{
	struct dctx cx = { .b = bytes, .avail = avail, .mode = (uint8_t)mode, .seg = DSEG_NONE };
	struct dctx *c = &cx;

	memset(in, 0, sizeof(*in));
	in->base = REG_NONE;
	in->index = REG_NONE;

	/* Legacy prefixes (2.1.1) in any order; a REX counts only directly before the
	 * opcode (2.2.1: a REX followed by a legacy prefix is ignored). */
	for (;;) {
		NEED(c, 1);
		uint8_t x = bytes[c->pos];
		switch (x) {
		case 0xF0:
			c->lock = 1;
			break;
		case 0xF2:
		case 0xF3:
			c->rep = x;
			break;
		case 0x66:
			c->opsize = 1;
			break;
		case 0x67:
			c->addrsize = 1;
			break;
		case 0x26:
		case 0x2E:
		case 0x36:
		case 0x3E:
			/* ES/CS/SS/DS overrides are ignored in 64-bit mode (3.3.7.1 Vol.1) */
			if (mode != DMODE_64)
				c->seg = (x >> 3) & 3;
			break;
		case 0x64:
		case 0x65:
			c->seg = (uint8_t)(DSEG_FS + (x - 0x64));
			break;
		default:
			if (mode == DMODE_64 && (x & 0xF0) == 0x40) {
				c->rex = x;
				c->pos++;
				continue;
			}
			goto opcode;
		}
		c->rex = 0;
		c->pos++;
	}

opcode:
	if (c->rex) {
		c->rexw = (c->rex >> 3) & 1;
		c->rexr = (c->rex >> 2) & 1;
		c->rexx = (c->rex >> 1) & 1;
		c->rexb = c->rex & 1;
		in->flags |= INSN_REX;
		if (c->rexw)
			in->flags |= INSN_REXW;
	}
	/* The last of F2/F3 is the mandatory prefix; 66 only without either. */
	c->mp = c->rep == 0xF3 ? 2 : c->rep == 0xF2 ? 3 : c->opsize ? 1 : 0;
	if (c->rep)
		in->flags |= c->rep == 0xF3 ? INSN_REP : INSN_REPNE;
	if (c->opsize)
		in->flags |= INSN_OPSIZE;
	if (c->addrsize)
		in->flags |= INSN_ADDRSIZE;
	if (c->seg != DSEG_NONE)
		in->flags |= INSN_SEGOVR;

	switch (mode) {
	case DMODE_64:
		c->osz_v = c->rexw ? 3 : c->opsize ? 1 : 2;
		c->asz = c->addrsize ? 2 : 3;
		break;
	case DMODE_32:
		c->osz_v = c->opsize ? 1 : 2;
		c->asz = c->addrsize ? 1 : 2;
		break;
	default:
		c->osz_v = c->opsize ? 2 : 1;
		c->asz = c->addrsize ? 2 : 1;
		break;
	}
	in->asz = c->asz;

	uint8_t opc = bytes[c->pos++];
	if (opc != 0x0F) {
		in->map = MAP_PRIMARY;
		return decode_finish(c, in, &decode_map1[opc], 0, opc, false);
	}
	NEED(c, 1);
	opc = bytes[c->pos++];
	if (opc == 0x38 || opc == 0x3A) {
		/* Every 0F 38 opcode has a ModRM byte, every 0F 3A one an imm8 too. */
		bool m3a = opc == 0x3A;
		NEED(c, 1);
		opc = bytes[c->pos++];
		in->map = m3a ? MAP_0F3A : MAP_0F38;
		return decode_finish(c, in, m3a ? &decode_map0f3a[opc] : &decode_map0f38[opc],
				     m3a ? A_MODRM | IM_UB : A_MODRM, opc, false);
	}
	in->map = MAP_0F;
	return decode_finish(c, in, &decode_map0f[opc], 0, opc, false);
}
