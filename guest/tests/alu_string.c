/*
 * alu_string.c - MOVS STOS LODS CMPS SCAS with REP/REPE/REPNE, DF=0 and DF=1, and the
 * 0x67 address-size prefix (ESI/EDI/ECX). SDM Vol.2B "REP/REPE/REPZ/REPNE/REPNZ",
 * MOVS/STOS/LODS/CMPS/SCAS: CMPS and SCAS set flags as CMP [RSI],[RDI] / AL,[RDI].
 */
#include "alu.h"

static uint8_t src[64], dst[64];

static void fill(void)
{
	for (int i = 0; i < 64; i++)
		src[i] = (uint8_t)(i * 7 + 1), dst[i] = 0xee;
}

static void movs(void)
{
	uint64_t si = (uintptr_t)src, di = (uintptr_t)dst, c = 13;
	fill();
	__asm__ volatile("cld; rep movsb" : "+S"(si), "+D"(di), "+c"(c) :: "memory");
	check(memcmp(dst, src, 13) == 0 && dst[13] == 0xee, "rep movsb copies RCX bytes");
	check(c == 0 && si == (uintptr_t)src + 13 && di == (uintptr_t)dst + 13, "rep movsb: RCX=0, RSI/RDI advanced");

	fill();
	si = (uintptr_t)src, di = (uintptr_t)dst, c = 3;
	__asm__ volatile("cld; rep movsq" : "+S"(si), "+D"(di), "+c"(c) :: "memory");
	check(memcmp(dst, src, 24) == 0 && dst[24] == 0xee && di == (uintptr_t)dst + 24, "rep movsq copies RCX qwords");

	/* DF=1: addresses decrement; an overlapping backward copy acts like memmove */
	fill();
	memcpy(dst, src, 64);
	si = (uintptr_t)&dst[9], di = (uintptr_t)&dst[19], c = 10;
	__asm__ volatile("std; rep movsb; cld" : "+S"(si), "+D"(di), "+c"(c) :: "memory");
	check(memcmp(&dst[10], &src[0], 10) == 0 && dst[9] == src[9], "std; rep movsb copies backwards (overlap safe)");
	check(si == (uintptr_t)dst - 1 && di == (uintptr_t)&dst[9], "std; rep movsb: RSI/RDI decremented");

	fill();
	si = (uintptr_t)&src[16], di = (uintptr_t)&dst[16], c = 2;
	__asm__ volatile("std; rep movsl; cld" : "+S"(si), "+D"(di), "+c"(c) :: "memory");
	check(memcmp(&dst[12], &src[12], 8) == 0 && di == (uintptr_t)&dst[8], "std; rep movsl: two dwords downward");

	/* RCX = 0: no iteration, flags unchanged */
	uint64_t f, fin = flags_in(FL_ZF | FL_CF);
	si = (uintptr_t)src, di = (uintptr_t)dst, c = 0;
	fill();
	__asm__ volatile("pushq %4; popfq; rep movsb; pushfq; popq %3"
			 : "+S"(si), "+D"(di), "+c"(c), "=r"(f) : "r"(fin) : "memory", "cc");
	check(dst[0] == 0xee && si == (uintptr_t)src && (f & FL_ARITH) == (fin & FL_ARITH), "rep movsb with RCX=0 does nothing");
}

static void stos_lods(void)
{
	uint64_t di = (uintptr_t)dst, c = 5, a = 0x1122334455667788ull;
	fill();
	__asm__ volatile("cld; rep stosw" : "+D"(di), "+c"(c) : "a"(a) : "memory");
	check(dst[0] == 0x88 && dst[1] == 0x77 && dst[8] == 0x88 && dst[9] == 0x77 && dst[10] == 0xee, "rep stosw stores AX RCX times");
	check_eq(di, (uintptr_t)dst + 10, "rep stosw: RDI advanced by 2*count");
	di = (uintptr_t)&dst[56], c = 3;
	__asm__ volatile("std; rep stosq; cld" : "+D"(di), "+c"(c) : "a"(a) : "memory");
	uint64_t q;
	memcpy(&q, &dst[40], 8);
	check(q == a && di == (uintptr_t)&dst[32], "std; rep stosq stores downward");

	uint64_t si = (uintptr_t)src, r = ~0ull;
	fill();
	__asm__ volatile("cld; lodsb" : "+S"(si), "+a"(r) :: "memory");
	check(r == 0xffffffffffffff01ull && si == (uintptr_t)src + 1, "lodsb merges into AL, RSI+1");
	__asm__ volatile("lodsq" : "+S"(si), "+a"(r) :: "memory");
	memcpy(&q, &src[1], 8);
	check(r == q && si == (uintptr_t)src + 9, "lodsq loads RAX, RSI+8");
	__asm__ volatile("std; lodsl; cld" : "+S"(si), "+a"(r) :: "memory");
	uint32_t d;
	memcpy(&d, &src[9], 4);
	check(r == d && si == (uintptr_t)src + 5, "std; lodsl zero-extends into RAX, RSI-4");
}

static void cmps_scas(void)
{
	uint64_t si = (uintptr_t)src, di = (uintptr_t)dst, c = 20, f;
	fill();
	memcpy(dst, src, 64);
	dst[7] = 0xff;
	__asm__ volatile("cld; repe cmpsb; pushfq; popq %3" : "+S"(si), "+D"(di), "+c"(c), "=r"(f) :: "memory", "cc");
	check(c == 12 && si == (uintptr_t)&src[8] && di == (uintptr_t)&dst[8], "repe cmpsb stops after first mismatch (index 7)");
	check_eq(f & FL_ARITH, ref_sub(src[7], 0xff, 0, 8).flags, "repe cmpsb flags = CMP [RSI], [RDI] of the mismatch");

	si = (uintptr_t)src, di = (uintptr_t)dst, c = 5;
	__asm__ volatile("cld; repe cmpsq; pushfq; popq %3" : "+S"(si), "+D"(di), "+c"(c), "=r"(f) :: "memory", "cc");
	check(c == 4 && (f & FL_ZF) == 0, "repe cmpsq stops at first differing qword");

	di = (uintptr_t)src, c = 64;
	__asm__ volatile("cld; repne scasb; pushfq; popq %2" : "+D"(di), "+c"(c), "=r"(f) : "a"((uint64_t)src[30]) : "memory", "cc");
	check(di == (uintptr_t)&src[31] && c == 33 && (f & FL_ZF), "repne scasb finds AL, RDI one past the match");
	di = (uintptr_t)src, c = 4;
	__asm__ volatile("cld; repne scasb; pushfq; popq %2" : "+D"(di), "+c"(c), "=r"(f) : "a"(0x100ull) : "memory", "cc");
	check(c == 0 && !(f & FL_ZF) && di == (uintptr_t)src + 4, "repne scasb exhausts RCX when absent");
	check_eq(f & FL_ARITH, ref_sub(0, src[3], 0, 8).flags, "scasb flags = CMP AL, [RDI] of the last byte");
	di = (uintptr_t)&src[20], c = 8;
	__asm__ volatile("std; repe scasb; cld; pushfq; popq %2" : "+D"(di), "+c"(c), "=r"(f) : "a"((uint64_t)src[20]) : "memory", "cc");
	check(c == 6 && di == (uintptr_t)&src[18], "std; repe scasb walks down, stops after first mismatch");
}

/* 0x67: ESI/EDI/ECX are the registers used (Vol.2B MOVS "address-size attribute"). */
static void addr32(void)
{
	uint64_t si = (uintptr_t)src, di = (uintptr_t)dst, c = 0x100000003ull;
	fill();
	__asm__ volatile("cld; addr32 rep movsb" : "+S"(si), "+D"(di), "+c"(c) :: "memory");
	check(memcmp(dst, src, 3) == 0 && dst[3] == 0xee, "addr32 rep movsb counts ECX only (3 bytes)");
	check((uint32_t)c == 0 && (uint32_t)si == (uint32_t)(uintptr_t)src + 3 &&
	      (uint32_t)di == (uint32_t)(uintptr_t)dst + 3, "addr32 rep movsb: ECX=0, ESI/EDI advanced");
	di = (uintptr_t)dst, c = 0x100000002ull;
	__asm__ volatile("cld; addr32 rep stosb" : "+D"(di), "+c"(c) : "a"(0x55ull) : "memory");
	check(dst[0] == 0x55 && dst[1] == 0x55 && dst[2] == src[2], "addr32 rep stosb counts ECX only");
}

void test_string(void)
{
	movs();
	stos_lods();
	cmps_scas();
	addr32();
}
