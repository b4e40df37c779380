/*
 * alu_misc.c - CMPXCHG/CMPXCHG8B/CMPXCHG16B, XADD, XCHG, partial-register writes
 * and sign extension, ENTER/LEAVE, PUSH/POP forms, LOOP/JRCXZ (SDM Vol.2).
 */
#include "alu.h"

/* CMPXCHG (Vol.2A): ZF = (accumulator == dest); other flags as CMP accumulator, dest;
 * equal: dest <- src; not equal: accumulator <- dest. */
#define DEF_CX(sfx, T, acc)                                                                 \
	static uint64_t cx_##sfx(T *m, uint64_t *a, uint64_t src)                             \
	{                                                                                   \
		uint64_t fl, ax = *a;                                                       \
		__asm__ volatile("lock cmpxchg" #sfx " %" #acc "[s], (%[m])\n\tpushfq\n\tpopq %[f]" \
				 : "+a"(ax), [f] "=r"(fl) : [s] "r"(src), [m] "r"(m) : "memory", "cc"); \
		*a = ax;                                                                    \
		return fl;                                                                  \
	}
DEF_CX(b, uint8_t, b) DEF_CX(w, uint16_t, w) DEF_CX(l, uint32_t, k) DEF_CX(q, uint64_t, q)

static void cmpxchg(void)
{
	uint8_t b = 5;
	uint16_t w = 0x8000;
	uint32_t l = 7;
	uint64_t q = 1, a, f;
	struct ref r;

	a = 5;
	f = cx_b(&b, &a, 9);
	check(b == 9 && a == 5 && (f & FL_ZF), "lock cmpxchg8 equal: dest <- src, ZF=1");
	a = 0x7fff;
	f = cx_w(&w, &a, 1);
	r = ref_sub(0x7fff, 0x8000, 0, 16);
	check(w == 0x8000 && a == 0x8000, "lock cmpxchg16 not equal: AX <- dest, dest kept");
	check_eq(f & FL_ARITH, r.flags, "lock cmpxchg16 not equal: flags as CMP AX, dest");
	a = ~0ull;
	f = cx_l(&l, &a, 3);
	check_eq(a, 7, "cmpxchg32 not equal: EAX <- dest, zero-extended into RAX");
	a = 1;
	f = cx_q(&q, &a, 0xffff0000ffff0000ull);
	check(q == 0xffff0000ffff0000ull && (f & FL_ZF), "lock cmpxchg64 equal");
}

/* CMPXCHG8B/16B (Vol.2A): compare EDX:EAX (RDX:RAX) with m64 (m128); ZF only, other
 * flags unaffected; m128 must be 16-byte aligned or #GP(0). */
static void cmpxchg_wide(void)
{
	static uint64_t m[4] __attribute__((aligned(16)));
	uint64_t lo = 0x11111111, hi = 0x22222222, f, fin = flags_in(FL_CF | FL_SF);

	m[0] = 0x2222222211111111ull;
	__asm__ volatile("pushq %[fi]; popfq; lock cmpxchg8b (%[p]); pushfq; popq %[f]"
			 : "+a"(lo), "+d"(hi), [f] "=r"(f)
			 : "b"(0x44444444ull), "c"(0x33333333ull), [p] "r"(m), [fi] "r"(fin) : "memory", "cc");
	check_eq(m[0], 0x3333333344444444ull, "cmpxchg8b equal: m64 <- ECX:EBX");
	check_eq(f & FL_ARITH, FL_ZF | FL_CF | FL_SF, "cmpxchg8b: ZF=1, other flags unaffected");
	lo = 0, hi = 0;
	__asm__ volatile("lock cmpxchg8b (%[p]); pushfq; popq %[f]"
			 : "+a"(lo), "+d"(hi), [f] "=r"(f) : "b"(0ull), "c"(0ull), [p] "r"(m) : "memory", "cc");
	check(lo == 0x44444444 && hi == 0x33333333 && !(f & FL_ZF), "cmpxchg8b not equal: EDX:EAX <- m64, ZF=0");
	if (!has_feature(F_CX16)) {
		skip("cmpxchg16b", "CPUID.01H:ECX[13] clear");
		return;
	}
	m[0] = 1, m[1] = 2, lo = 1, hi = 2;
	__asm__ volatile("lock cmpxchg16b (%[p]); pushfq; popq %[f]"
			 : "+a"(lo), "+d"(hi), [f] "=r"(f) : "b"(5ull), "c"(6ull), [p] "r"(m) : "memory", "cc");
	check(m[0] == 5 && m[1] == 6 && (f & FL_ZF), "cmpxchg16b equal: m128 <- RCX:RBX");
	struct fault ft;
	if (!fault_try(&ft)) {
		__asm__ volatile("lock cmpxchg16b (%[p])" : "+a"(lo), "+d"(hi) : "b"(0ull), "c"(0ull),
				 [p] "r"((char *)m + 8) : "memory", "cc");
		fault_end(&ft);
	}
	check_eq(ft.vector, 13, "cmpxchg16b on a misaligned m128 -> #GP(0)");
}

/* XADD (Vol.2B): TEMP <- SRC + DEST; SRC <- DEST; DEST <- TEMP; flags as ADD.
 * XCHG with memory is locked implicitly; XCHG EAX,EAX (87 C0) zero-extends, 90 is NOP. */
static void xadd_xchg(void)
{
	uint32_t m = 0xfffffff0;
	uint64_t s = 0x20, f, r;
	__asm__ volatile("lock xaddl %k[s], %[m]; pushfq; popq %[f]" : [s] "+r"(s), [m] "+m"(m), [f] "=r"(f) :: "cc");
	check(m == 0x10 && s == 0xfffffff0, "lock xadd m32, r32 exchanges and adds");
	check_eq(f & FL_ARITH, ref_add(0xfffffff0, 0x20, 0, 32).flags, "xadd flags as ADD");
	uint16_t mw = 0x1234;
	r = 0xffffffffffff5678ull;
	__asm__ volatile("xchgw %w0, %1" : "+r"(r), "+m"(mw));
	check(mw == 0x5678 && r == 0xffffffffffff1234ull, "xchg r16, m16 (upper register bits kept)");
	r = ~0ull;
	__asm__ volatile(".byte 0x87, 0xc0" : "+a"(r)); /* xchg eax, eax */
	check_eq(r, 0xffffffff, "xchg eax, eax (87 C0) zero-extends RAX");
	r = ~0ull;
	__asm__ volatile(".byte 0x90" : "+a"(r)); /* NOP, not xchg eax, eax */
	check_eq(r, ~0ull, "opcode 90 is NOP in 64-bit mode (RAX unchanged)");
	uint64_t r8v;
	r = ~0ull;
	__asm__ volatile("movq $7, %%r8\n\t.byte 0x41, 0x90\n\tmovq %%r8, %1" /* REX.B 90 */
			 : "+a"(r), "=r"(r8v) :: "r8");
	check(r == 7 && r8v == 0xffffffff, "REX.B 90 is XCHG R8D, EAX (both zero-extended), not NOP");
}

/* 64-bit mode register write rules (Vol.1 3.4.1.1): 8/16-bit results merge, 32-bit
 * results zero-extend. Sign extensions CBW/CWDE/CDQE/CWD/CDQ/CQO, MOVSX/MOVZX/MOVSXD. */
static void partial(void)
{
	uint64_t r, d;
	__asm__("movb $1, %b0" : "=r"(r) : "0"(~0ull));
	check_eq(r, 0xffffffffffffff01ull, "mov r8 merges");
	__asm__("movb $1, %%ah" : "=a"(r) : "0"(~0ull));
	check_eq(r, 0xffffffffffff01ffull, "mov AH merges bits 15:8");
	__asm__("movw $1, %w0" : "=r"(r) : "0"(~0ull));
	check_eq(r, 0xffffffffffff0001ull, "mov r16 merges");
	__asm__("addl $0, %k0" : "=r"(r) : "0"(~0ull) : "cc");
	check_eq(r, 0xffffffff, "add r32 zero-extends");
	__asm__("cbw" : "=a"(r) : "0"(0xffffffffffff0080ull));
	check_eq(r, 0xffffffffffffff80ull, "cbw");
	__asm__("cwde" : "=a"(r) : "0"(0xffffffffffff8000ull));
	check_eq(r, 0xffff8000, "cwde (zero-extends to RAX)");
	__asm__("cdqe" : "=a"(r) : "0"(0x80000000ull));
	check_eq(r, 0xffffffff80000000ull, "cdqe");
	__asm__("cwd" : "=d"(d) : "a"(0x8000ull), "0"(0x1234567812345678ull));
	check_eq(d, 0x123456781234ffffull, "cwd sets DX only");
	__asm__("cdq" : "=d"(d) : "a"(0x80000000ull), "0"(~0ull));
	check_eq(d, 0xffffffff, "cdq sets EDX, zero-extended");
	__asm__("cqo" : "=d"(d) : "a"(0x8000000000000000ull), "0"(0ull));
	check_eq(d, ~0ull, "cqo");
	__asm__("movsbq %b1, %0" : "=r"(r) : "q"(0x80ull));
	check_eq(r, 0xffffffffffffff80ull, "movsx r64, r8");
	__asm__("movzwl %w1, %k0" : "=r"(r) : "r"(0xffffull), "0"(~0ull));
	check_eq(r, 0xffff, "movzx r32, r16 zero-extends");
	__asm__("movslq %k1, %0" : "=r"(r) : "r"(0x80000000ull));
	check_eq(r, 0xffffffff80000000ull, "movsxd r64, r32");
	__asm__("leal -1(%1), %k0" : "=r"(r) : "r"(0x100000000ull));
	check_eq(r, 0xffffffff, "lea r32 truncates the address to 32 bits");
	__asm__("addq $-1, %0" : "=r"(r) : "0"(5ull) : "cc");
	check_eq(r, 4, "add r64, imm8 sign-extends the immediate");
	__asm__("andq $-0x80000000, %0" : "=r"(r) : "0"(~0ull) : "cc");
	check_eq(r, 0xffffffff80000000ull, "and r64, imm32 sign-extends the immediate");
}

/* ENTER/LEAVE (Vol.2A ENTER pseudo-code) on a private stack: enter $24, $3 with RBP=R
 * pushes R, copies and, pushes the frame pointer, allocates 24 bytes. */
static void enter_leave(void)
{
	static uint64_t stk[32], outer[4];
	uint64_t *top = &stk[32], *R = &outer[3];
	uint64_t o_rsp, o_rbp, l_rsp, l_rbp;

	outer[2] = 0xaaaa, outer[1] = 0xbbbb;
	__asm__ volatile("movq %%rsp, %%r8; movq %%rbp, %%r9\n\t"
			 "movq %[top], %%rsp; movq %[R], %%rbp\n\t"
			 "enter $24, $3\n\t"
			 "movq %%rsp, %[ors]; movq %%rbp, %[orb]\n\t"
			 "leave\n\t"
			 "movq %%rsp, %[lrs]; movq %%rbp, %[lrb]\n\t"
			 "movq %%r8, %%rsp; movq %%r9, %%rbp"
			 : [ors] "=&r"(o_rsp), [orb] "=&r"(o_rbp), [lrs] "=&r"(l_rsp), [lrb] "=&r"(l_rbp)
			 : [top] "r"(top), [R] "r"(R)
			 : "r8", "r9", "memory");
	uint64_t T = (uintptr_t)top;
	check_eq(o_rbp, T - 8, "enter $24,$3: RBP = frame temp");
	check_eq(o_rsp, T - 56, "enter $24,$3: RSP = T - 8*4 - 24");
	check(stk[31] == (uintptr_t)R && stk[30] == 0xaaaa && stk[29] == 0xbbbb && stk[28] == T - 8,
	      "enter $24,$3: pushed RBP, two outer frame pointers, frame temp");
	check(l_rsp == T && l_rbp == (uintptr_t)R, "leave restores RSP and RBP");
}

/* PUSH/POP forms on a private stack (Vol.2B PUSH, POP): 16-bit push/pop, imm8
 * sign extension, PUSH RSP pushes the old value, POP m with an RSP base computes the
 * address after the increment, PUSH m reads before the decrement. */
static void push_pop(void)
{
	static uint64_t stk[8];
	uint64_t T = (uintptr_t)&stk[8], s1, s3, imm, dx = ~0ull;

	__asm__ volatile("movq %%rsp, %%r8; movq %[top], %%rsp\n\t"
			 "pushw $0x1234; movq %%rsp, %[s1]\n\t"
			 "popw %%dx\n\t"
			 "pushq $-2; movq (%%rsp), %[imm]\n\t"
			 "pushq %%rsp\n\t"
			 "popq (%%rsp)\n\t"
			 "pushq (%%rsp)\n\t"
			 "movq %%rsp, %[s3]; movq %%r8, %%rsp"
			 : [s1] "=&r"(s1), [s3] "=&r"(s3), [imm] "=&r"(imm), "+d"(dx)
			 : [top] "r"(T)
			 : "r8", "memory");
	check_eq(s1, T - 2, "pushw imm16 decrements RSP by 2");
	check_eq(dx, 0xffffffffffff1234ull, "popw r16 pops the pushed word, merges into RDX");
	check_eq(imm, 0xfffffffffffffffeull, "pushq imm8 sign-extends to 64 bits");
	check_eq(stk[7], T - 8, "push rsp pushes the old RSP; pop [rsp] addresses after increment");
	check_eq(stk[6], T - 8, "push [rsp] reads its operand before decrementing");
	check_eq(s3, T - 16, "final RSP after push/pop sequence");
}

/* LOOP/LOOPcc/JRCXZ/JECXZ (Vol.2A): count in RCX (ECX with 0x67); flags untouched. */
static void loops(void)
{
	uint64_t c = 5, n = 0, f;
	__asm__ volatile("stc; 1: incl %k1; loop 1b; pushfq; popq %2" : "+c"(c), "+r"(n), "=r"(f));
	check(c == 0 && n == 5 && (f & FL_CF), "loop runs RCX times, RCX=0 after, flags untouched");
	c = 10, n = 0;
	__asm__ volatile("1: incl %k1; cmpl $3, %k1; loopne 1b" : "+c"(c), "+r"(n) :: "cc");
	check(c == 7 && n == 3, "loopne stops when ZF=1");
	c = 10, n = 0;
	__asm__ volatile("1: incl %k1; cmpl $3, %k1; loope 1b" : "+c"(c), "+r"(n) :: "cc");
	check(c == 9 && n == 1, "loope stops when ZF=0");
	c = 0x100000000ull;
	__asm__ volatile("movl $0, %k0; jrcxz 1f; movl $1, %k0; 1:" : "=&r"(n) : "c"(c));
	check_eq(n, 1, "jrcxz not taken when only RCX[32] is set");
	__asm__ volatile("movl $0, %k0; jecxz 1f; movl $1, %k0; 1:" : "=&r"(n) : "c"(c));
	check_eq(n, 0, "jecxz (67 E3) taken when ECX = 0");
	c = 0x100000002ull, n = 0;
	__asm__ volatile("1: incl %k1; addr32 loop 1b" : "+c"(c), "+r"(n));
	check(n == 2 && (uint32_t)c == 0, "loop with 0x67 counts ECX only");
}

void test_misc(void)
{
	cmpxchg();
	cmpxchg_wide();
	xadd_xchg();
	partial();
	enter_leave();
	push_pop();
	loops();
}
