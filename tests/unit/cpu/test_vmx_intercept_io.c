/*
 * I/O and MSR intercepts in VMX non-root operation: unconditional I/O exiting and the
 * I/O bitmaps with multi-byte accesses and the wrap at FFFFH (SDM 27.1.3, 26.6.4),
 * the I/O-permission #GP that comes first (SDM 27.1.1), the I/O qualification (SDM
 * 29.2.1 Table 29-5) with the INS/OUTS guest-linear address and instruction
 * information (SDM 29.2.x); RDMSR/WRMSR and the four MSR bitmaps (SDM 26.6.9).
 */
#include "vmx_intercept_harness.h"

/* Table 29-5: size - 1 in 2:0, IN 3, string 4, REP 5, immediate 6, port 31:16. */
#define IOQ(size, in, str, rep, imm, port)                                          \
	((uint64_t)((size) - 1) | (uint64_t)(in) << 3 | (uint64_t)(str) << 4 |      \
	 (uint64_t)(rep) << 5 | (uint64_t)(imm) << 6 | (uint64_t)(port) << 16)

static void test_unconditional_io(void)
{
	/* IN AL, 60h (E4 60): no control, no exit; "unconditional I/O exiting" exits. */
	guest64(0, 0, 0);
	CHECK_EQ(decide(0xE4, 0x60), NOEXIT);
	guest64(0, PROC_UNCOND_IO_EXITING, 0);
	CHECK_EXIT(decide(0xE4, 0x60), EXIT_REASON_IO_INSTRUCTION, IOQ(1, 1, 0, 0, 1, 0x60), 2);
	CHECK_EQ(X.insn_info, 0);
	CHECK_EQ(X.guest_linear, 0);
	/* OUT DX, EAX (EF): 4 bytes, port in DX. */
	C->gpr[RDX] = 0x12345CF8; /* only DX counts */
	CHECK_EXIT(decide(0xEF), EXIT_REASON_IO_INSTRUCTION, IOQ(4, 0, 0, 0, 0, 0x5CF8), 1);
	/* IN AX, DX (66 ED): 2 bytes. */
	CHECK_EXIT(decide(0x66, 0xED), EXIT_REASON_IO_INSTRUCTION, IOQ(2, 1, 0, 0, 0, 0x5CF8), 2);
	/* "use I/O bitmaps" = 1 overrides "unconditional I/O exiting" (SDM 27.1.3). */
	C->vmx.ctl.proc |= PROC_USE_IO_BITMAPS;
	CHECK_EQ(decide(0xEF), NOEXIT);
}

static void test_io_bitmaps(void)
{
	guest64(0, PROC_USE_IO_BITMAPS, 0);
	/* Bitmap A: ports 0000H-7FFFH; bitmap B: 8000H-FFFFH. */
	set_bit(IO_BITMAP_A, 0x60);
	CHECK_EQ(decide(0xE4, 0x60), EXIT);
	CHECK_EQ(decide(0xE4, 0x61), NOEXIT);
	set_bit(IO_BITMAP_B, 0x8000 - 0x8000);
	C->gpr[RDX] = 0x8000;
	CHECK_EQ(decide(0xEC), EXIT); /* in al, dx */
	C->gpr[RDX] = 0x0000;
	CHECK_EQ(decide(0xEC), NOEXIT); /* port 0 is bitmap A bit 0, clear */
	/* A multi-byte access exits if any of its ports' bits is set: OUT DX, AX at
	 * 7FFFH touches 7FFFH (A) and 8000H (B). */
	C->gpr[RDX] = 0x7FFF;
	CHECK_EXIT(decide(0x66, 0xEF), EXIT_REASON_IO_INSTRUCTION, IOQ(2, 0, 0, 0, 0, 0x7FFF), 2);
	CHECK_EQ(decide(0xEE), NOEXIT); /* the byte at 7FFFH alone */
	/* 4 bytes at 5EH: 5EH-61H includes 60H. */
	C->gpr[RDX] = 0x5E;
	CHECK_EQ(decide(0xED), EXIT);
	C->gpr[RDX] = 0x5C; /* 5CH-5FH: clear */
	CHECK_EQ(decide(0xED), NOEXIT);
	/* Wrap-around: an access past FFFFH exits whatever the bitmaps say. */
	guest64(0, PROC_USE_IO_BITMAPS, 0);
	C->gpr[RDX] = 0xFFFF;
	CHECK_EQ(decide(0xEE), NOEXIT); /* one byte at FFFFH does not wrap */
	CHECK_EQ(decide(0x66, 0xEF), EXIT);
	C->gpr[RDX] = 0xFFFE;
	CHECK_EQ(decide(0x66, 0xEF), NOEXIT);
	CHECK_EQ(decide(0xED), EXIT); /* FFFEH-0001H */
	C->gpr[RDX] = 0xFFFC;
	CHECK_EQ(decide(0xED), NOEXIT);
	/* Bitmap B's last bit is FFFFH. */
	set_bit(IO_BITMAP_B, 0x7FFF);
	C->gpr[RDX] = 0xFFFC;
	CHECK_EQ(decide(0xED), EXIT);
}

static void test_io_priority(void)
{
	/* CPL 3 > IOPL 0: the TSS bit map decides first (SDM 27.1.1). The harness TSS
	 * has its bit map at 68H, all zero (allowed) up to the limit. */
	guest64(3, PROC_UNCOND_IO_EXITING, 0);
	CHECK_EQ(decide(0xE4, 0x60), EXIT);
	*(B.ram + TSS_BASE + 0x68 + (0x60 >> 3)) |= 1u << (0x60 & 7);
	CHECK_EQ(decide(0xE4, 0x60), FAULT(EXC_GP));
	/* With IOPL 3 the bit map is not consulted. */
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_IOPL);
	CHECK_EQ(decide(0xE4, 0x60), EXIT);
	*(B.ram + TSS_BASE + 0x68 + (0x60 >> 3)) = 0;
}

static void test_string_io(void)
{
	/* REP INSB (F3 6C): string and REP bits; guest-linear address ES:RDI; instruction
	 * information: address size 9:7, segment 17:15 (ES for INS) (SDM 29.2.x). */
	guest64(0, PROC_UNCOND_IO_EXITING, 0);
	C->gpr[RDX] = 0x3F8;
	C->gpr[RDI] = 0x123456789AULL;
	CHECK_EXIT(decide(0xF3, 0x6C), EXIT_REASON_IO_INSTRUCTION, IOQ(1, 1, 1, 1, 0, 0x3F8), 2);
	CHECK_EQ(X.guest_linear, 0x123456789AULL);
	CHECK_EQ(X.insn_info, (2u << 7) | (SEG_ES << 15));
	/* OUTSD with FS override (64 6F): FS base + RSI, segment FS. */
	C->seg[SEG_FS].base = 0x10000;
	C->gpr[RSI] = 0x20;
	CHECK_EXIT(decide(0x64, 0x6F), EXIT_REASON_IO_INSTRUCTION, IOQ(4, 0, 1, 0, 0, 0x3F8), 2);
	CHECK_EQ(X.guest_linear, 0x10020);
	CHECK_EQ(X.insn_info, (2u << 7) | (SEG_FS << 15));
	/* 32-bit address size (64 67 66 6F: OUTSW FS:[ESI]): RSI truncated. */
	C->gpr[RSI] = 0xFFFFFFFF00000040ULL;
	CHECK_EXIT(decide(0x64, 0x67, 0x66, 0x6F), EXIT_REASON_IO_INSTRUCTION,
		   IOQ(2, 0, 1, 0, 0, 0x3F8), 4);
	CHECK_EQ(X.guest_linear, 0x10040);
	CHECK_EQ(X.insn_info, (1u << 7) | (SEG_FS << 15));
	/* The exit comes before the memory operand's faults: a non-canonical RDI. */
	C->gpr[RDI] = 0x8000000000000000ULL;
	CHECK_EQ(decide(0x6C), EXIT);
	/* 32-bit mode: ES base + EDI, bits 63:32 clear. */
	guest32(0, PROC_UNCOND_IO_EXITING, 0);
	C->seg[SEG_ES].base = 0x1000;
	C->gpr[RDI] = 0x2000;
	C->gpr[RDX] = 0x80;
	CHECK_EXIT(decide(0x6D), EXIT_REASON_IO_INSTRUCTION, IOQ(4, 1, 1, 0, 0, 0x80), 1);
	CHECK_EQ(X.guest_linear, 0x3000);
	CHECK_EQ(X.insn_info, (1u << 7) | (SEG_ES << 15));
}

static void test_msr(void)
{
	/* Without MSR bitmaps every RDMSR/WRMSR exits (SDM 27.1.3). */
	guest64(0, 0, 0);
	C->gpr[RCX] = 0x10;
	CHECK_EXIT(decide(0x0F, 0x32), EXIT_REASON_MSR_READ, 0, 2);
	CHECK_EXIT(decide(0x0F, 0x30), EXIT_REASON_MSR_WRITE, 0, 2);
	/* CPL 3: #GP(0) first (SDM 27.1.1 gives this very example). */
	guest64(3, 0, 0);
	CHECK_EQ(decide(0x0F, 0x32), FAULT(EXC_GP));
	/* Bitmaps: read-low at 0, read-high at 1024, write-low 2048, write-high 3072. */
	guest64(0, PROC_USE_MSR_BITMAPS, 0);
	C->gpr[RCX] = 0x10;
	CHECK_EQ(decide(0x0F, 0x32), NOEXIT);
	set_bit(MSR_BITMAP + 2048, 0x10);
	CHECK_EQ(decide(0x0F, 0x32), NOEXIT);
	CHECK_EQ(decide(0x0F, 0x30), EXIT);
	set_bit(MSR_BITMAP, 0x10);
	CHECK_EQ(decide(0x0F, 0x32), EXIT);
	/* High range: C0000080H (EFER) is bit 80H of read-high; RCX[63:32] ignored. */
	C->gpr[RCX] = 0xFFFFFFFFC0000080ULL;
	CHECK_EQ(decide(0x0F, 0x32), NOEXIT);
	set_bit(MSR_BITMAP + 1024, 0x80);
	CHECK_EXIT(decide(0x0F, 0x32), EXIT_REASON_MSR_READ, 0, 2);
	CHECK_EQ(decide(0x0F, 0x30), NOEXIT);
	set_bit(MSR_BITMAP + 3072, 0x80);
	CHECK_EQ(decide(0x0F, 0x30), EXIT);
	/* The last MSR of each range, and just past each: outside both ranges always
	 * exits. */
	C->gpr[RCX] = 0x1FFF;
	CHECK_EQ(decide(0x0F, 0x32), NOEXIT);
	set_bit(MSR_BITMAP, 0x1FFF);
	CHECK_EQ(decide(0x0F, 0x32), EXIT);
	CHECK_EQ(decide(0x0F, 0x30), NOEXIT);
	C->gpr[RCX] = 0x2000;
	CHECK_EQ(decide(0x0F, 0x32), EXIT);
	C->gpr[RCX] = 0xC0001FFF;
	CHECK_EQ(decide(0x0F, 0x30), NOEXIT);
	C->gpr[RCX] = 0xC0002000;
	CHECK_EQ(decide(0x0F, 0x30), EXIT);
	C->gpr[RCX] = 0x40000000;
	CHECK_EQ(decide(0x0F, 0x32), EXIT);
	/* An unknown MSR that the bitmap lets through: the ordinary #GP(0), not an exit. */
	C->gpr[RCX] = 0x1234;
	CHECK_EQ(decide(0x0F, 0x32), NOEXIT);
	CHECK_EQ(run(0x0F, 0x32), EXC_GP);
	/* A write that goes through changes the MSR (IA32_SYSENTER_CS, 174H). */
	C->gpr[RCX] = 0x174;
	C->gpr[RAX] = 0x10;
	C->gpr[RDX] = 0;
	CHECK_EQ(run(0x0F, 0x30), NO_FAULT);
	CHECK_EQ(C->sysenter_cs, 0x10);
}

/* Through the binding and the real exit: REP OUTSB reports the guest-linear address
 * and instruction information in the VMCS (SDM 29.2.x); nothing is output. */
static void test_exits_taken(void)
{
	guest64(0, PROC_USE_IO_BITMAPS, 0);
	set_bit(IO_BITMAP_A, 0x80);
	C->gpr[RDX] = 0x80;
	C->gpr[RSI] = DATA_BASE;
	C->gpr[RCX] = 5;
	C->rip = CODE_BASE;
	run(0xF3, 0x6E);
	CHECK_VMCS_EXIT(EXIT_REASON_IO_INSTRUCTION, IOQ(1, 0, 1, 1, 0, 0x80), 2,
			(2u << 7) | (SEG_DS << 15), CODE_BASE);
	CHECK_EQ(vr(VMCS_GUEST_LINEAR_ADDRESS), DATA_BASE);
	CHECK_EQ(C->gpr[RCX], 5);
	CHECK_EQ(C->gpr[RSI], DATA_BASE);
	/* WRMSR through a set write-high bit. */
	guest64(0, PROC_USE_MSR_BITMAPS, 0);
	set_bit(MSR_BITMAP + 3072, 0x80);
	C->gpr[RCX] = 0xC0000080;
	C->rip = CODE_BASE;
	uint64_t efer = C->efer;
	C->gpr[RAX] = 0;
	C->gpr[RDX] = 0;
	run(0x0F, 0x30);
	CHECK_VMCS_EXIT(EXIT_REASON_MSR_WRITE, 0, 2, 0, CODE_BASE);
	CHECK_EQ(C->efer, efer);
}

int main(void)
{
	vmx_init();
	test_unconditional_io();
	test_io_bitmaps();
	test_io_priority();
	test_string_io();
	test_msr();
	test_exits_taken();
	C->vmx.non_root = false;
	return report("vmx_intercept_io");
}
