/*
 * Scaffolding for the MMU/TLB tests (test_mmu_*.c): one CPU on a real bus with RAM,
 * page-table builders for every paging mode, and access helpers that catch the
 * exception cpu_exception() unwinds with (setjmp on cpu->fault_jmp). Header-only so
 * that each test program is one file; it links the real silicon (turtles_cpu).
 */
#ifndef TURTLES_TESTS_MMU_HARNESS_H
#define TURTLES_TESTS_MMU_HARNESS_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/exception.h"
#include "cpu/mem.h"

#define UNUSED __attribute__((unused))

/* Paging-structure entry bits (SDM 4.3-4.5 tables). */
#define P BIT(0)
#define RW BIT(1)
#define US BIT(2)
#define ACC BIT(5)
#define DIRTY BIT(6)
#define PS BIT(7)
#define GLB BIT(8)
#define XD BIT(63)
#define ADDR_BITS 0x000FFFFFFFFFF000ULL

#define RAM_BYTES (64ULL << 20)
#define PT_POOL 0x01000000ULL /* page tables live from 16 MiB up */

static struct bus B;
static struct cpu *C;
static gpa_t pt_next;
#include "check.h"

/* An access that must raise #PF with this error code and CR2. */
#define CHECK_PF(call, err, cr2)                                                 \
	do {                                                                     \
		CHECK_EQ((call), EXC_PF);                                        \
		CHECK_EQ(C->exc_error, (err));                                   \
		CHECK_EQ(C->exc_cr2, (cr2));                                     \
	} while (0)

/* Any other exception, with its error code. */
#define CHECK_EXC(call, vec, err)                                                \
	do {                                                                     \
		CHECK_EQ((call), (vec));                                         \
		CHECK_EQ(C->exc_error, (err));                                   \
	} while (0)

#define NO_FAULT (-1)

static UNUSED int report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, n_pass, n_fail);
	return n_fail ? 1 : 0;
}

/* --- the machine --------------------------------------------------------------- */

static void code_hook(void *opaque, uint64_t pfn)
{
	tlb_drop_fast_writes(opaque, pfn);
}

static UNUSED void mt_init(void)
{
	if (bus_init(&B, RAM_BYTES) || !(C = calloc(1, sizeof(*C))) || tlb_init(&C->tlb)) {
		fprintf(stderr, "cannot set up the test machine\n");
		exit(2);
	}
	C->bus = &B;
	B.code_page_hook = code_hook;
	B.code_page_opaque = C;
}

static UNUSED gpa_t pt_alloc(void)
{
	gpa_t p = pt_next;
	pt_next += PAGE_SIZE;
	memset(B.ram + p, 0, PAGE_SIZE);
	return p;
}

static UNUSED uint64_t *ram64(gpa_t pa) { return (uint64_t *)(B.ram + pa); }
static UNUSED uint32_t *ram32(gpa_t pa) { return (uint32_t *)(B.ram + pa); }

static void flat_segs(uint32_t extra_ar)
{
	for (int i = 0; i < SEG_COUNT; i++)
		C->seg[i] = (struct seg){ .sel = 0x10, .limit = 0xFFFFFFFF, .base = 0,
					  .ar = 3 | AR_S | AR_P | AR_G | extra_ar };
}

/* A CPU in 64-bit mode at CPL 0 with 4-level (or 5-level) paging and an empty PML4. */
static UNUSED void mode_long64(bool la57)
{
	pt_next = PT_POOL;
	C->cr0 = CR0_PE | CR0_ET | CR0_PG;
	C->cr4 = CR4_PAE | (la57 ? CR4_LA57 : 0);
	C->efer = EFER_LME | EFER_LMA | EFER_NXE;
	C->cr3 = pt_alloc();
	C->rflags = RFLAGS_FIXED1;
	C->mode = MODE_LONG64;
	C->cpl = 0;
	flat_segs(AR_L);
	tlb_flush_all(C);
}

/* 32-bit protected mode, flat segments; paging per cr4 (PAE or not), or none. */
static UNUSED void mode_prot32(bool paging, uint64_t cr4)
{
	pt_next = PT_POOL;
	C->cr0 = CR0_PE | CR0_ET | (paging ? CR0_PG : 0);
	C->cr4 = cr4;
	C->efer = 0;
	C->cr3 = pt_alloc();
	C->rflags = RFLAGS_FIXED1;
	C->mode = MODE_PROT32;
	C->cpl = 0;
	flat_segs(AR_DB);
	tlb_flush_all(C);
}

/* --- page-table builders --------------------------------------------------------- */

/* 4/5-level: the entry at level (1 = PTE) for la, creating tables on the way with
 * flags `upper`. */
static UNUSED uint64_t *ent64(gva_t la, int level, uint64_t upper)
{
	int levels = (C->cr4 & CR4_LA57) ? 5 : 4;
	gpa_t table = C->cr3 & ADDR_BITS;
	for (int l = levels; l > level; l--) {
		uint64_t *e = ram64(table + 8 * ((la >> (12 + 9 * (l - 1))) & 511));
		if (!(*e & P))
			*e = pt_alloc() | upper;
		table = *e & ADDR_BITS;
	}
	return ram64(table + 8 * ((la >> (12 + 9 * (level - 1))) & 511));
}

/* Map la to pa with a leaf at level (1: 4 KiB, 2: 2 MiB, 3: 1 GiB). */
static UNUSED uint64_t *map64(gva_t la, gpa_t pa, int level, uint64_t leaf)
{
	uint64_t *e = ent64(la, level, P | RW | US);
	*e = pa | leaf | (level > 1 ? PS : 0);
	return e;
}

/* 32-bit paging: PDE for la (creating nothing). */
static UNUSED uint32_t *pde32(gva_t la)
{
	return ram32((C->cr3 & 0xFFFFF000) + 4 * ((la >> 22) & 0x3FF));
}

static UNUSED uint32_t *map32(gva_t la, gpa_t pa, uint32_t pde_flags, uint32_t pte_flags)
{
	uint32_t *pde = pde32(la);
	if (!(*pde & P))
		*pde = (uint32_t)pt_alloc() | pde_flags;
	uint32_t *pte = ram32((*pde & 0xFFFFF000) + 4 * ((la >> 12) & 0x3FF));
	*pte = (uint32_t)pa | pte_flags;
	return pte;
}

/* PAE: CR3 points at a 32-byte PDPT (here: the first 32 bytes of a page). */
static UNUSED uint64_t *pdpte_pae(gva_t la)
{
	return ram64((C->cr3 & 0xFFFFFFE0) + 8 * ((la >> 30) & 3));
}

static UNUSED uint64_t *map_pae(gva_t la, gpa_t pa, int level, uint64_t leaf)
{
	uint64_t *pdpte = pdpte_pae(la);
	if (!(*pdpte & P))
		*pdpte = pt_alloc() | P;
	uint64_t *pde = ram64((*pdpte & ADDR_BITS) + 8 * ((la >> 21) & 511));
	if (level == 2) {
		*pde = pa | leaf | PS;
		return pde;
	}
	if (!(*pde & P))
		*pde = pt_alloc() | P | RW | US;
	uint64_t *pte = ram64((*pde & ADDR_BITS) + 8 * ((la >> 12) & 511));
	*pte = pa | leaf;
	return pte;
}

/* --- accesses that may fault: NO_FAULT or the vector -------------------------------- */

static UNUSED int rd(int seg, uint64_t off, int osz, uint64_t *v)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	*v = mem_read(C, seg, off, osz);
	return NO_FAULT;
}

static UNUSED int wr(int seg, uint64_t off, int osz, uint64_t v)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	mem_write(C, seg, off, osz, v);
	return NO_FAULT;
}

static UNUSED int chkw(int seg, uint64_t off, int size)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	mem_check_write(C, seg, off, size);
	return NO_FAULT;
}

static UNUSED int lrd(gva_t la, int osz, unsigned acc, uint64_t *v)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	*v = lin_read(C, la, osz, acc);
	return NO_FAULT;
}

static UNUSED int lwr(gva_t la, int osz, uint64_t v, unsigned acc)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	lin_write(C, la, osz, v, acc);
	return NO_FAULT;
}

static UNUSED int fetch(gva_t la, const uint8_t **p, int *avail, gpa_t *gpa)
{
	if (setjmp(C->fault_jmp))
		return C->exc_vector;
	*p = mem_fetch(C, la, avail, gpa);
	return NO_FAULT;
}

/* Shorthands on DS (flat): read/write or fault. */
static UNUSED int rd8(uint64_t la, uint64_t *v) { return rd(SEG_DS, la, 3, v); }
static UNUSED int wr8(uint64_t la, uint64_t v) { return wr(SEG_DS, la, 3, v); }
static UNUSED int rd1(uint64_t la) { uint64_t v; return rd(SEG_DS, la, 0, &v); }
static UNUSED int wr1(uint64_t la) { return wr(SEG_DS, la, 0, 0x5A); }
static UNUSED int fx(uint64_t la) { const uint8_t *p; int a; gpa_t g; return fetch(la, &p, &a, &g); }

/* Read 8 bytes expecting no fault. */
static UNUSED uint64_t peek(uint64_t la)
{
	uint64_t v = 0xDEAD;
	CHECK_EQ(rd8(la, &v), NO_FAULT);
	return v;
}

#endif
