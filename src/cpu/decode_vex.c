/*
 * VEX (C4/C5, SDM Vol.2 2.3), EVEX (62, 2.7) and AMD XOP (8F) encodings.
 *
 * The silicon implements only the general-purpose VEX instructions of BMI1/BMI2 (Tables
 * rows marked v with VEX.LZ); every other VEX, EVEX or XOP encoding decodes to
 * OP_UD with its full length. A VEX/EVEX prefix after 66, F2, F3, LOCK or REX is #UD
 * (2.3.2). VEX.W selects 64-bit operands only in 64-bit mode; VEX.L must be 0 (LZ).
 */
#include "cpu/decode.h"

/* VEX.0F38 F3: group 17 by ModRM.reg (pp = none). */
static const struct opdesc grp17[8] = {
	[1] = I(BLSR, VE, 0),                     /* BLSR By, Ey */
	[2] = I(BLSMSK, VE, 0),                   /* BLSMSK By, Ey */
	[3] = I(BLSI, VE, 0),                     /* BLSI By, Ey */
};

/* By VEX.pp: 0 none, 1 66, 2 F3, 3 F2. */
static const struct opdesc v38_f2[4] = {
	[0] = I(ANDN, GEV, 0),                    /* VEX.LZ.0F38 F2 ANDN Gy, By, Ey */
};
static const struct opdesc v38_f3[4] = {
	[0] = GRP(grp17, 0),                      /* VEX.LZ.0F38 F3 Grp17 */
};
static const struct opdesc v38_f5[4] = {
	[0] = I(BZHI, GEV, 0),                    /* VEX.LZ.0F38 F5 BZHI Gy, Ey, By */
	[2] = I(PEXT, GEV, 0),                    /* VEX.LZ.F3.0F38 F5 PEXT Gy, By, Ey */
	[3] = I(PDEP, GEV, 0),                    /* VEX.LZ.F2.0F38 F5 PDEP Gy, By, Ey */
};
static const struct opdesc v38_f6[4] = {
	[3] = I(MULX, GEV, 0),                    /* VEX.LZ.F2.0F38 F6 MULX Gy, By, Ey */
};
static const struct opdesc v38_f7[4] = {
	[0] = I(BEXTR, GEV, 0),                   /* VEX.LZ.0F38 F7 BEXTR Gy, Ey, By */
	[1] = I(SHLX, GEV, 0),                    /* VEX.LZ.66.0F38 F7 SHLX Gy, Ey, By */
	[2] = I(SARX, GEV, 0),                    /* VEX.LZ.F3.0F38 F7 SARX Gy, Ey, By */
	[3] = I(SHRX, GEV, 0),                    /* VEX.LZ.F2.0F38 F7 SHRX Gy, Ey, By */
};
static const struct opdesc v3a_f0[4] = {
	[3] = I(RORX, GEI, IM_UB),                /* VEX.LZ.F2.0F3A F0 RORX Gy, Ey, Ib */
};

static const struct opdesc ud_row = UD_(0);

/* The BMI rows of the VEX 0F38/0F3A maps; the rest of the VEX space is #UD. */
static const struct opdesc *vex_row(uint8_t map, uint8_t opc)
{
	static const struct opdesc bmi38[] = {
		PFX(v38_f2, 0), PFX(v38_f3, 0), UD_(0), PFX(v38_f5, 0), PFX(v38_f6, 0),
		PFX(v38_f7, 0),
	};
	static const struct opdesc bmi3a = PFX(v3a_f0, 0);

	if (map == 2 && opc >= 0xF2 && opc <= 0xF7)
		return &bmi38[opc - 0xF2];
	if (map == 3 && opc == 0xF0)
		return &bmi3a;
	return &ud_row;
}

/* VEX/EVEX map 1 (0F) opcodes with an imm8: 70-73, C2, C4-C6 (Table A-3). */
static bool map1_has_imm8(uint8_t opc)
{
	return (opc >= 0x70 && opc <= 0x73) || opc == 0xC2 || (opc >= 0xC4 && opc <= 0xC6);
}

int decode_vex(struct dctx *c, struct insn *in, uint8_t escape)
{
	bool ud = c->opsize || c->rep || c->lock || c->rex;
	uint8_t p1, p2, r, x, b, map, w, vvvv, l, pp;
	bool m64 = c->mode == DMODE_64;

	if (escape == 0xC5) {
		NEED(c, 1);
		p1 = (uint8_t)dfetch(c, 1);
		r = !(p1 & 0x80);
		x = b = w = 0;
		map = 1;
		p2 = p1;
	} else {
		NEED(c, 2);
		p1 = (uint8_t)dfetch(c, 1);
		p2 = (uint8_t)dfetch(c, 1);
		r = !(p1 & 0x80);
		x = !(p1 & 0x40);
		b = !(p1 & 0x20);
		map = p1 & 0x1F;
		w = p2 >> 7;
	}
	vvvv = (uint8_t)(~p2 >> 3) & 15;
	uint8_t vvvv4 = vvvv;
	l = (p2 >> 2) & 1;
	pp = p2 & 3;
	if (!m64) {
		/* Outside 64-bit mode R/X are 1 by construction (mod = 11), B and W are
		 * ignored and vvvv is 3 bits (2.3.5.6). */
		r = x = b = w = 0;
		vvvv &= 7;
	}

	NEED(c, 1);
	uint8_t opc = (uint8_t)dfetch(c, 1);
	c->rex = 0;
	c->rexr = r;
	c->rexx = x;
	c->rexb = b;
	c->rexw = w;
	c->mp = pp;
	c->opsize = 0;
	c->rep = 0;
	c->lock = 0;
	in->flags = (uint16_t)((in->flags & ~(INSN_REX | INSN_REXW | INSN_REP | INSN_REPNE)) |
			       INSN_VEX);
	in->vvvv = vvvv;
	in->map = map == 2 ? MAP_0F38 : map == 3 ? MAP_0F3A : MAP_0F;

	uint32_t attr = A_MODRM;
	if (map == 1 && opc == 0x77)
		attr = 0; /* VZEROUPPER/VZEROALL */
	else if (map == 3 || (map == 1 && map1_has_imm8(opc)))
		attr |= IM_UB;
	if (map < 1 || map > 3)
		ud = true;

	const struct opdesc *d = vex_row(map, opc);
	if (d != &ud_row) {
		attr |= SZ_Y; /* BMI: 32, or 64 with VEX.W in 64-bit mode */
		if (l)
			ud = true;
		if (map == 3 && vvvv4)
			ud = true; /* RORX: VEX.vvvv is reserved, must be 1111b */
	}
	return decode_finish(c, in, d, attr, opc, ud || d == &ud_row);
}

/* EVEX and XOP carry inverted R, X, B in bits 7:5 of their first payload byte (only
 * meaningful in 64-bit mode) and replace REX; both are #UD here, decoded for length. */
static void vex_like_prefix(struct dctx *c, struct insn *in, uint8_t p0)
{
	bool m64 = c->mode == DMODE_64;
	c->rexr = m64 && !(p0 & 0x80);
	c->rexx = m64 && !(p0 & 0x40);
	c->rexb = m64 && !(p0 & 0x20);
	c->rex = 0;
	c->rexw = 0;
	c->lock = 0;
	in->flags = (uint16_t)((in->flags & ~(INSN_REX | INSN_REXW)) | INSN_VEX);
}

int decode_evex(struct dctx *c, struct insn *in)
{
	/* 62 P0 P1 P2 opcode ModRM: P0 = R X B R' 0 m m m, P1 = W vvvv 1 pp. */
	NEED(c, 4);
	uint8_t p0 = (uint8_t)dfetch(c, 1);
	(void)dfetch(c, 2);
	uint8_t opc = (uint8_t)dfetch(c, 1);
	uint8_t map = p0 & 7;

	vex_like_prefix(c, in, p0);

	uint32_t attr = A_MODRM;
	if (map == 3 || (map == 1 && map1_has_imm8(opc)))
		attr |= IM_UB;
	in->map = map == 2 ? MAP_0F38 : map == 3 ? MAP_0F3A : MAP_0F;
	return decode_finish(c, in, &ud_row, attr, opc, true);
}

int decode_xop(struct dctx *c, struct insn *in)
{
	/* 8F P0 P1 opcode ModRM: P0 = R X B m-mmmm (8, 9 or 10), P1 = W vvvv L pp. Map 8
	 * has an imm8, map 10 an imm32. */
	NEED(c, 3);
	uint8_t p0 = (uint8_t)dfetch(c, 1);
	(void)dfetch(c, 1);
	uint8_t opc = (uint8_t)dfetch(c, 1);
	uint8_t map = p0 & 0x1F;

	vex_like_prefix(c, in, p0);

	uint32_t attr = A_MODRM;
	if (map == 8)
		attr |= IM_UB;
	else if (map == 10)
		attr |= IM_ID;
	return decode_finish(c, in, &ud_row, attr, opc, true);
}
