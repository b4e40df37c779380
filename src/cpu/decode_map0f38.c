/*
 * The three-byte opcode maps 0F 38 xx and 0F 3A xx: SDM Vol.2 Appendix A, Tables A-4
 * and A-5 (legacy encodings only; VEX forms are in decode_vex.c).
 *
 * Every opcode in these maps has a ModRM byte and every 0F 3A opcode an imm8; decode.c
 * adds those, so undefined rows (OP_UD) still get their length right.
 */
#include "cpu/decode.h"

static const struct opdesc op_f0[4] = {
	[0] = I(MOVBE, GE, Mv),                   /* NP 0F 38 F0 MOVBE Gv, Mv */
	[1] = I(MOVBE, GE, Mv),                   /* 66: MOVBE Gw, Mw */
	[3] = IX(CRC32, GE, Eb, FX_CRC8),         /* F2 0F 38 F0 CRC32 Gy, Eb */
};

static const struct opdesc op_f1[4] = {
	[0] = I(MOVBE, EG, Mv),                   /* NP 0F 38 F1 MOVBE Mv, Gv */
	[1] = I(MOVBE, EG, Mv),                   /* 66: MOVBE Mw, Gw */
	[3] = IX(CRC32, GE, Ev, FX_CRCV),         /* F2 0F 38 F1 CRC32 Gy, Ev */
};

static const struct opdesc op_80[4] = {
	[1] = I(INVEPT, GE, Gy_M),                /* 66 0F 38 80 INVEPT Gy, Mdq */
};
static const struct opdesc op_81[4] = {
	[1] = I(INVVPID, GE, Gy_M),               /* 66 0F 38 81 INVVPID Gy, Mdq */
};
static const struct opdesc op_82[4] = {
	[1] = I(INVPCID, GE, Gy_M),               /* 66 0F 38 82 INVPCID Gy, Mdq */
};

const struct opdesc decode_map0f38[256] = {
	[0x00] = SSE(SAN, SAN, S__, S__, 0),      /* PSHUFB */
	[0x01] = SSE(SAN, SAN, S__, S__, 0),      /* PHADDW */
	[0x02] = SSE(SAN, SAN, S__, S__, 0),      /* PHADDD */
	[0x03] = SSE(SAN, SAN, S__, S__, 0),      /* PHADDSW */
	[0x04] = SSE(SAN, SAN, S__, S__, 0),      /* PMADDUBSW */
	[0x05] = SSE(SAN, SAN, S__, S__, 0),      /* PHSUBW */
	[0x06] = SSE(SAN, SAN, S__, S__, 0),      /* PHSUBD */
	[0x07] = SSE(SAN, SAN, S__, S__, 0),      /* PHSUBSW */
	[0x08] = SSE(SAN, SAN, S__, S__, 0),      /* PSIGNB */
	[0x09] = SSE(SAN, SAN, S__, S__, 0),      /* PSIGNW */
	[0x0A] = SSE(SAN, SAN, S__, S__, 0),      /* PSIGND */
	[0x0B] = SSE(SAN, SAN, S__, S__, 0),      /* PMULHRSW */
	[0x10] = SSE(S__, SAN, S__, S__, 0),      /* 66: PBLENDVB */
	[0x14] = SSE(S__, SAN, S__, S__, 0),      /* 66: BLENDVPS */
	[0x15] = SSE(S__, SAN, S__, S__, 0),      /* 66: BLENDVPD */
	[0x17] = SSE(S__, SAN, S__, S__, 0),      /* 66: PTEST */
	[0x1C] = SSE(SAN, SAN, S__, S__, 0),      /* PABSB */
	[0x1D] = SSE(SAN, SAN, S__, S__, 0),      /* PABSW */
	[0x1E] = SSE(SAN, SAN, S__, S__, 0),      /* PABSD */
	[0x20] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXBW */
	[0x21] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXBD */
	[0x22] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXBQ */
	[0x23] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXWD */
	[0x24] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXWQ */
	[0x25] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVSXDQ */
	[0x28] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMULDQ */
	[0x29] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPEQQ */
	[0x2A] = SSE(S__, SMM, S__, S__, 0),      /* 66: MOVNTDQA V, M */
	[0x2B] = SSE(S__, SAN, S__, S__, 0),      /* 66: PACKUSDW */
	[0x30] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXBW */
	[0x31] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXBD */
	[0x32] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXBQ */
	[0x33] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXWD */
	[0x34] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXWQ */
	[0x35] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMOVZXDQ */
	[0x37] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPGTQ */
	[0x38] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMINSB */
	[0x39] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMINSD */
	[0x3A] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMINUW */
	[0x3B] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMINUD */
	[0x3C] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMAXSB */
	[0x3D] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMAXSD */
	[0x3E] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMAXUW */
	[0x3F] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMAXUD */
	[0x40] = SSE(S__, SAN, S__, S__, 0),      /* 66: PMULLD */
	[0x41] = SSE(S__, SAN, S__, S__, 0),      /* 66: PHMINPOSUW */
	[0x80] = PFX(op_80, 0),                   /* 66: INVEPT Gy, Mdq */
	[0x81] = PFX(op_81, 0),                   /* 66: INVVPID Gy, Mdq */
	[0x82] = PFX(op_82, 0),                   /* 66: INVPCID Gy, Mdq */
	[0xC8] = SSE(SAN, S__, S__, S__, 0),      /* SHA1NEXTE */
	[0xC9] = SSE(SAN, S__, S__, S__, 0),      /* SHA1MSG1 */
	[0xCA] = SSE(SAN, S__, S__, S__, 0),      /* SHA1MSG2 */
	[0xCB] = SSE(SAN, S__, S__, S__, 0),      /* SHA256RNDS2 */
	[0xCC] = SSE(SAN, S__, S__, S__, 0),      /* SHA256MSG1 */
	[0xCD] = SSE(SAN, S__, S__, S__, 0),      /* SHA256MSG2 */
	[0xCF] = SSE(S__, SAN, S__, S__, 0),      /* 66: GF2P8MULB */
	[0xDB] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESIMC */
	[0xDC] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESENC */
	[0xDD] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESENCLAST */
	[0xDE] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESDEC */
	[0xDF] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESDECLAST */
	[0xF0] = PFX(op_f0, 0),                   /* MOVBE Gv, Mv; F2: CRC32 Gy, Eb */
	[0xF1] = PFX(op_f1, 0),                   /* MOVBE Mv, Gv; F2: CRC32 Gy, Ev */
	/* F5/F6/F8/F9...: WRUSS, WRSS, ADCX, ADOX, MOVDIR64B, ENQCMD, MOVDIRI: #UD */
};

const struct opdesc decode_map0f3a[256] = {
	[0x08] = SSE(S__, SAN, S__, S__, 0),      /* 66: ROUNDPS */
	[0x09] = SSE(S__, SAN, S__, S__, 0),      /* 66: ROUNDPD */
	[0x0A] = SSE(S__, SAN, S__, S__, 0),      /* 66: ROUNDSS */
	[0x0B] = SSE(S__, SAN, S__, S__, 0),      /* 66: ROUNDSD */
	[0x0C] = SSE(S__, SAN, S__, S__, 0),      /* 66: BLENDPS */
	[0x0D] = SSE(S__, SAN, S__, S__, 0),      /* 66: BLENDPD */
	[0x0E] = SSE(S__, SAN, S__, S__, 0),      /* 66: PBLENDW */
	[0x0F] = SSE(SAN, SAN, S__, S__, 0),      /* PALIGNR */
	[0x14] = SSE(S__, SAN, S__, S__, 0),      /* 66: PEXTRB */
	[0x15] = SSE(S__, SAN, S__, S__, 0),      /* 66: PEXTRW */
	[0x16] = SSE(S__, SAN, S__, S__, 0),      /* 66: PEXTRD/Q */
	[0x17] = SSE(S__, SAN, S__, S__, 0),      /* 66: EXTRACTPS */
	[0x20] = SSE(S__, SAN, S__, S__, 0),      /* 66: PINSRB */
	[0x21] = SSE(S__, SAN, S__, S__, 0),      /* 66: INSERTPS */
	[0x22] = SSE(S__, SAN, S__, S__, 0),      /* 66: PINSRD/Q */
	[0x40] = SSE(S__, SAN, S__, S__, 0),      /* 66: DPPS */
	[0x41] = SSE(S__, SAN, S__, S__, 0),      /* 66: DPPD */
	[0x42] = SSE(S__, SAN, S__, S__, 0),      /* 66: MPSADBW */
	[0x44] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCLMULQDQ */
	[0x60] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPESTRM */
	[0x61] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPESTRI */
	[0x62] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPISTRM */
	[0x63] = SSE(S__, SAN, S__, S__, 0),      /* 66: PCMPISTRI */
	[0xCC] = SSE(SAN, S__, S__, S__, 0),      /* SHA1RNDS4 */
	[0xCE] = SSE(S__, SAN, S__, S__, 0),      /* 66: GF2P8AFFINEQB */
	[0xCF] = SSE(S__, SAN, S__, S__, 0),      /* 66: GF2P8AFFINEINVQB */
	[0xDF] = SSE(S__, SAN, S__, S__, 0),      /* 66: AESKEYGENASSIST */
};
