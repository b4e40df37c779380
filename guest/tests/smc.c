/*
 * smc - self-modifying code. SDM Vol.3A 10.6 "Self-Modifying Code" and 10.1.3
 * "Handling Self- and Cross-Modifying Code": a write to a code location that is
 * then executed must take effect; detection is by physical address, so writes
 * through another linear alias count as well. Covers: patching an immediate right
 * before it executes, patching code that ran many times, instructions that straddle
 * a page boundary, and writes through an alias mapping.
 */
#include "rt.h"

#define ALIAS_VA 0x4000000000ull

/* uint32_t smc_inline(uint32_t v): stores v into the next instruction's imm32,
 * then executes it (no jump or serialising instruction in between). */
__asm__(".text\n"
	".globl smc_inline\n"
	"smc_inline:\n\t"
	"movl %edi, 1f+1(%rip)\n"
	"1:\tmovl $0, %eax\n\t"
	"ret\n");
uint32_t smc_inline(uint32_t v);

/* A loop whose body patches its own immediate for the next iteration: returns the
 * sum of the values the mov produced (0 + 1 + ... + n-1 if every patch is seen). */
__asm__(".text\n"
	".globl smc_loop\n"
	"smc_loop:\n\t"
	"xorl %eax, %eax\n\t"
	"xorl %ecx, %ecx\n"
	"2:\tmovl %ecx, 1f+1(%rip)\n"
	"1:\tmovl $0, %edx\n\t"
	"addl %edx, %eax\n\t"
	"incl %ecx\n\t"
	"cmpl %edi, %ecx\n\t"
	"jb 2b\n\t"
	"ret\n");
uint32_t smc_loop(uint32_t n);

typedef uint64_t (*code_fn)(void);

/* B8 id / 48 B8 io: mov imm to EAX/RAX, then C3 ret */
static void emit_mov32(uint8_t *p, uint32_t imm)
{
	p[0] = 0xb8;
	memcpy(p + 1, &imm, 4);
	p[5] = 0xc3;
}

static void emit_mov64(uint8_t *p, uint64_t imm)
{
	p[0] = 0x48;
	p[1] = 0xb8;
	memcpy(p + 2, &imm, 8);
	p[10] = 0xc3;
}

static void immediate(void)
{
	check_eq(smc_inline(0x1234), 0x1234, "patch the next instruction's imm32, then run it");
	check_eq(smc_inline(0xabcdef), 0xabcdef, "patch it again");
	check_eq(smc_loop(100), 4950, "loop patching its own immediate every iteration");

	uint8_t *page = alloc_page();
	code_fn fn = (code_fn)page;
	emit_mov32(page, 1);
	uint64_t sum = 0;
	for (int i = 0; i < 1000; i++)
		sum += fn();
	check_eq(sum, 1000, "generated code run 1000 times");
	emit_mov32(page, 2);
	check_eq(fn(), 2, "rewritten after many runs: new immediate seen");
	page[0] = 0x31, page[1] = 0xc0, page[2] = 0xc3; /* xor eax,eax; ret */
	check_eq(fn() & 0xffffffff, 0, "rewritten to a different instruction");
}

/* An instruction spanning two pages; modify only the bytes in the second page. */
static void cross_page(void)
{
	uint8_t *pages = alloc_pages(2);
	uint8_t *insn = pages + 4096 - 4; /* 48 B8 + 2 imm bytes | 6 imm bytes + ret */
	code_fn fn = (code_fn)insn;

	emit_mov64(insn, 0x1111111111111111ull);
	check_eq(fn(), 0x1111111111111111ull, "page-straddling movabs executes");
	uint64_t imm = 0x2222222222221111ull;
	memcpy(insn + 2, &imm, 8); /* bytes 0-1 unchanged (first page), 2-7 in page two */
	check_eq(fn(), 0x2222222222221111ull, "write to the second page of a straddling instruction");
	insn[2] = 0x33; /* first page only */
	check_eq(fn(), 0x2222222222221133ull, "write to the first page of a straddling instruction");
}

/* Code written through a second linear mapping of the same frame (10.6: the check
 * is based on the physical address). */
static void alias(void)
{
	uint8_t *page = alloc_page();
	code_fn fn = (code_fn)page;

	map_page(ALIAS_VA, (uintptr_t)page, PTE_P | PTE_W);
	emit_mov32(page, 5);
	check_eq(fn(), 5, "code page executes via identity mapping");
	emit_mov32((uint8_t *)ALIAS_VA, 6);
	check_eq(fn(), 6, "write through an alias mapping is seen by execution");
	for (int i = 0; i < 100; i++)
		(void)fn();
	*(volatile uint8_t *)(ALIAS_VA + 1) = 7;
	check_eq(fn(), 7, "alias write after many executions");
	/* execute via the alias, modify via the identity mapping */
	code_fn afn = (code_fn)ALIAS_VA;
	check_eq(afn(), 7, "same code executes via the alias");
	page[1] = 8;
	check_eq(afn(), 8, "identity write seen when executing via the alias");
	unmap_page(ALIAS_VA);
}

int main(void)
{
	immediate();
	cross_page();
	alias();
	return 0;
}
