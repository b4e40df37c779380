/*
 * Scaffolding for the system-instruction tests (test_sys_*.c): one CPU on a real bus
 * with RAM and the real MMU, a GDT/IDT/TSS builder, mode set-up (real, 32-bit
 * protected, 64-bit with identity paging), and run_insn(), which executes one handler
 * the way the run loop (exec.c) does: next_rip, the handler, commit, shadow countdown,
 * and on a fault cpu_deliver_fault(). Header-only: each test program is one file.
 */
#ifndef TURTLES_TESTS_SYS_HARNESS_H
#define TURTLES_TESTS_SYS_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/exec.h"
#include "cpu/seg.h"

#define UNUSED __attribute__((unused))

#define RAM_BYTES (32ULL << 20)
/* Fixed layout of the test machine's system structures. */
#define GDT_BASE 0x1000ULL
#define IDT_BASE 0x2000ULL
#define TSS_BASE 0x3000ULL
#define LDT_BASE 0x3800ULL
#define USTACK_TOP 0x8000ULL
#define KSTACK_TOP 0x9000ULL
#define ISTACK_TOP 0xA000ULL
#define PT_BASE 0x10000ULL /* identity page tables for 64-bit mode */
#define CODE_BASE 0x20000ULL
#define DATA_BASE 0x30000ULL

/* GDT selectors (index << 3). */
enum {
	SEL_CODE32 = 0x08, SEL_DATA32 = 0x10, SEL_UCODE32 = 0x1B, SEL_UDATA32 = 0x23,
	SEL_CODE64 = 0x28, SEL_UCODE64 = 0x33, SEL_TSS = 0x38, /* 16 bytes: 0x38, 0x40 */
	SEL_CODE16 = 0x48, SEL_RING1DATA = 0x51, SEL_RING1CODE = 0x59, SEL_SPARE = 0x60,
	SEL_SPARE2 = 0x68, SEL_SPARE3 = 0x70, SEL_SPARE4 = 0x78,
};

static struct bus B;
static struct clock CLK;
static struct cpu *C;
#include "check.h"

#define NO_FAULT (-1)

/* A handler call that must fault with (vector, error code). */
#define CHECK_EXC(call, vec, err)                                                \
	do {                                                                     \
		CHECK_EQ((call), (vec));                                         \
		CHECK_EQ(C->exc_error, (uint32_t)(err));                         \
	} while (0)

static UNUSED int report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/* --- memory ------------------------------------------------------------------ */

/* Unaligned views of guest RAM (TSS fields such as RSP0 at +4 are not 8-aligned). */
typedef uint64_t u64_un __attribute__((aligned(1), may_alias));
typedef uint32_t u32_un __attribute__((aligned(1), may_alias));
typedef uint16_t u16_un __attribute__((aligned(1), may_alias));
static UNUSED u64_un *ram64(gpa_t pa) { return (u64_un *)(B.ram + pa); }
static UNUSED u32_un *ram32(gpa_t pa) { return (u32_un *)(B.ram + pa); }
static UNUSED u16_un *ram16(gpa_t pa) { return (u16_un *)(B.ram + pa); }

/* --- descriptors (SDM 3.4.5 Figure 3-8, 5.8.3 Figure 5-8, 6.11 Figure 6-2) ---- */

/* flags: bits 52-55 of the descriptor as a nibble: AVL 1, L 2, D/B 4, G 8. */
static UNUSED uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned type, bool s,
			      unsigned dpl, bool p, unsigned flags)
{
	return (limit & 0xFFFFULL) | ((uint64_t)(base & 0xFFFFFF) << 16) |
	       ((uint64_t)type << 40) | ((uint64_t)s << 44) | ((uint64_t)dpl << 45) |
	       ((uint64_t)p << 47) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

#define F_L 2
#define F_DB 4
#define F_G 8

static UNUSED void gdt_set(uint16_t sel, uint64_t d)
{
	*ram64(GDT_BASE + (sel & 0xFFF8)) = d;
}

/* An 8-byte gate (legacy) or the low half of a 16-byte one. */
static UNUSED uint64_t mkgate(uint16_t sel, uint64_t off, unsigned type, unsigned dpl,
			      bool p, unsigned extra)
{
	return (off & 0xFFFF) | ((uint64_t)sel << 16) | ((uint64_t)extra << 32) |
	       ((uint64_t)type << 40) | ((uint64_t)dpl << 45) | ((uint64_t)p << 47) |
	       (((off >> 16) & 0xFFFF) << 48);
}

static UNUSED void idt32_set(int vec, uint64_t gate)
{
	*ram64(IDT_BASE + (uint64_t)vec * 8) = gate;
}

static UNUSED void idt64_set(int vec, uint16_t sel, uint64_t off, unsigned type,
			     unsigned dpl, unsigned ist)
{
	*ram64(IDT_BASE + (uint64_t)vec * 16) = mkgate(sel, off, type, dpl, true, ist);
	*ram64(IDT_BASE + (uint64_t)vec * 16 + 8) = off >> 32;
}

/* Load a segment register straight from the GDT (test set-up, no checks). */
static UNUSED void load_seg(struct seg *s, uint16_t sel)
{
	uint64_t d[2] = { *ram64(GDT_BASE + (sel & 0xFFF8)), 0 };
	if (!((d[0] >> 44) & 1))
		d[1] = *ram64(GDT_BASE + (sel & 0xFFF8) + 8);
	seg_from_descriptor(s, sel, d);
}

static UNUSED void build_gdt(void)
{
	memset(B.ram + GDT_BASE, 0, 0x1000);
	gdt_set(SEL_CODE32, mkdesc(0, 0xFFFFF, 0xB, true, 0, true, F_DB | F_G));
	gdt_set(SEL_DATA32, mkdesc(0, 0xFFFFF, 0x3, true, 0, true, F_DB | F_G));
	gdt_set(SEL_UCODE32, mkdesc(0, 0xFFFFF, 0xB, true, 3, true, F_DB | F_G));
	gdt_set(SEL_UDATA32, mkdesc(0, 0xFFFFF, 0x3, true, 3, true, F_DB | F_G));
	gdt_set(SEL_CODE64, mkdesc(0, 0xFFFFF, 0xB, true, 0, true, F_L | F_G));
	gdt_set(SEL_UCODE64, mkdesc(0, 0xFFFFF, 0xB, true, 3, true, F_L | F_G));
	gdt_set(SEL_CODE16, mkdesc(0, 0xFFFF, 0xB, true, 0, true, 0));
	gdt_set(SEL_RING1DATA, mkdesc(0, 0xFFFFF, 0x3, true, 1, true, F_DB | F_G));
	gdt_set(SEL_RING1CODE, mkdesc(0, 0xFFFFF, 0xB, true, 1, true, F_DB | F_G));
	C->gdtr = (struct dtr){ GDT_BASE, 0x7F };
	memset(B.ram + IDT_BASE, 0, 0x1000);
	memset(B.ram + TSS_BASE, 0, 0x800);
}

/* TSS: 32-bit (type 9) or 64-bit, with ring-0 stack KSTACK_TOP, loaded busy in TR. */
static UNUSED void build_tss(bool wide)
{
	gdt_set(SEL_TSS, mkdesc((uint32_t)TSS_BASE, 0x67 + 0x2000 / 8 + 1, 0xB, false, 0, true, 0));
	if (wide)
		*ram64(GDT_BASE + SEL_TSS + 8) = 0;
	if (wide) {
		*ram64(TSS_BASE + 4) = KSTACK_TOP;        /* RSP0 */
		*ram64(TSS_BASE + 0x24) = ISTACK_TOP;     /* IST1 */
	} else {
		*ram32(TSS_BASE + 4) = KSTACK_TOP;        /* ESP0 */
		*ram32(TSS_BASE + 8) = SEL_DATA32;        /* SS0 */
		*ram32(TSS_BASE + 12) = KSTACK_TOP - 0x400; /* ESP1 */
		*ram32(TSS_BASE + 16) = SEL_RING1DATA;    /* SS1 */
	}
	*ram16(TSS_BASE + 0x66) = 0x68; /* I/O bit map right after the TSS */
	load_seg(&C->tr, SEL_TSS);
}

/* --- modes ------------------------------------------------------------------- */

static UNUSED void set_cpl_segs(unsigned cpl, uint16_t cs, uint16_t ds)
{
	load_seg(&C->seg[SEG_CS], cs);
	for (int i = 0; i < SEG_COUNT; i++)
		if (i != SEG_CS)
			load_seg(&C->seg[i], ds);
	(void)cpl;
	cpu_update_mode(C);
}

/* 32-bit protected mode, no paging, flat segments at the given CPL (0 or 3). */
static UNUSED void mode_prot32(unsigned cpl)
{
	build_gdt();
	C->cr0 = CR0_PE | CR0_ET;
	C->cr4 = 0;
	C->efer = 0;
	cpu_set_rflags(C, RFLAGS_FIXED1);
	set_cpl_segs(cpl, cpl ? SEL_UCODE32 : SEL_CODE32, cpl ? SEL_UDATA32 : SEL_DATA32);
	build_tss(false);
	C->idtr = (struct dtr){ IDT_BASE, 0x7FF };
	C->gpr[RSP] = cpl ? USTACK_TOP : KSTACK_TOP;
	C->rip = CODE_BASE;
	tlb_flush_all(C);
}

/* Identity map of the first 64 MiB with 2 MiB pages, user-accessible. */
static UNUSED void build_identity_pt(void)
{
	memset(B.ram + PT_BASE, 0, 3 * PAGE_SIZE);
	*ram64(PT_BASE) = (PT_BASE + 0x1000) | 7;
	*ram64(PT_BASE + 0x1000) = (PT_BASE + 0x2000) | 7;
	for (uint64_t i = 0; i < 32; i++)
		*ram64(PT_BASE + 0x2000 + i * 8) = (i << 21) | 0x87; /* P RW US PS */
}

/* 64-bit mode with identity paging, CPL 0 or 3, 64-bit TSS and IDT. */
static UNUSED void mode_long64(unsigned cpl)
{
	build_gdt();
	build_identity_pt();
	C->cr0 = CR0_PE | CR0_ET | CR0_PG;
	C->cr4 = CR4_PAE;
	C->cr3 = PT_BASE;
	C->efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NXE;
	cpu_set_rflags(C, RFLAGS_FIXED1);
	set_cpl_segs(cpl, cpl ? SEL_UCODE64 : SEL_CODE64, cpl ? SEL_UDATA32 : SEL_DATA32);
	build_tss(true);
	C->idtr = (struct dtr){ IDT_BASE, 0xFFF };
	C->gpr[RSP] = cpl ? USTACK_TOP : KSTACK_TOP;
	C->rip = CODE_BASE;
	tlb_flush_all(C);
}

/* Real mode as after RESET but with CS at 0 (IVT at 0, stack at 0:USTACK_TOP). */
static UNUSED void mode_real(void)
{
	cpu_reset(C);
	C->wait_for_sipi = false;
	seg_load_real(C, SEG_CS, 0);
	C->idtr = (struct dtr){ 0, 0x3FF };
	C->gpr[RSP] = USTACK_TOP;
	C->rip = 0x1000;
}

/* --- the machine --------------------------------------------------------------- */

static void code_hook(void *opaque, uint64_t pfn)
{
	tlb_drop_fast_writes(opaque, pfn);
}

static UNUSED void sys_init(void)
{
	clock_init(&CLK, true);
	if (bus_init(&B, RAM_BYTES) || !(C = calloc(1, sizeof(*C)))) {
		fprintf(stderr, "cannot set up the test machine\n");
		exit(2);
	}
	cpu_init(C, 0, &B, &CLK, NULL);
	if (tlb_init(&C->tlb)) {
		fprintf(stderr, "cannot set up the TLB\n");
		exit(2);
	}
	B.code_page_hook = code_hook;
	B.code_page_opaque = C;
	tlb_flush_all(C);
}

/* --- running handlers --------------------------------------------------------- */

/* An instruction of length 2 (the length only matters for next_rip). */
static UNUSED struct insn insn(void)
{
	struct insn in;
	memset(&in, 0, sizeof(in));
	in.len = 2;
	in.osz = 2;
	in.asz = 2;
	in.base = REG_NONE;
	in.index = REG_NONE;
	in.seg = SEG_DS;
	return in;
}

static UNUSED struct insn insn_mem(int osz, uint64_t addr)
{
	struct insn in = insn();
	in.osz = (uint8_t)osz;
	in.asz = C->mode == MODE_LONG64 ? 3 : 2;
	in.flags = INSN_MEM;
	in.disp = (int32_t)addr;
	return in;
}

/* Run a handler as the run loop does. Returns NO_FAULT, or the vector it raised
 * (left undelivered: cpu->exc_* say what it was, RIP is at the instruction). */
static UNUSED int run_insn(exec_fn fn, const struct insn *in)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	C->next_rip = C->rip + in->len;
	/* An STI/MOV-SS shadow covers only the boundary before this instruction
	 * (SDM 6.8.3); the run loop clears it as the instruction starts. */
	C->intr_shadow = 0;
	fn(C, in);
	C->rip = C->next_rip;
	return NO_FAULT;
}

/* The same, and a fault is then delivered through the IDT (cpu_deliver_fault). */
static UNUSED int run_deliver(exec_fn fn, const struct insn *in)
{
	int v = run_insn(fn, in);
	if (v != NO_FAULT) {
		if (setjmp(C->fault_jmp) == 0)
			cpu_deliver_fault(C);
	}
	return v;
}

/* Call any function under a fault guard (e.g. seg_load, cpu_deliver_event). */
#define GUARD(stmt)                                          \
	({                                                   \
		volatile int v_ = NO_FAULT;                        \
		if (setjmp(C->fault_jmp))                    \
			v_ = C->exc_vector;                  \
		else {                                       \
			stmt;                                \
		}                                            \
		v_;                                          \
	})

/* Read the stack at RSP + off (linear = physical in these tests). */
static UNUSED uint64_t stk64(uint64_t off) { return *ram64(C->seg[SEG_SS].base + C->gpr[RSP] + off); }
static UNUSED uint32_t stk32(uint64_t off) { return *ram32(C->seg[SEG_SS].base + (uint32_t)C->gpr[RSP] + off); }
static UNUSED uint16_t stk16(uint64_t off)
{
	return *ram16(C->seg[SEG_SS].base + (uint16_t)C->gpr[RSP] + off);
}

#endif
