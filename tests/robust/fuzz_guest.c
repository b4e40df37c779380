/*
 * fuzz_guest: random guest code must never hurt the machine.
 *
 *   robust_fuzz_guest TURTLES [--count N] [--seed S] [--only I] [--max-insns N]
 *                     [--timeout S] [--jobs J] [--max-failures F] [--keep DIR]
 *                     [--level L] [--long] [-v]
 *
 * Writes tiny Multiboot a.out-kludge kernels whose code is mostly random bytes and runs
 * each as `TURTLES run --kernel K --deterministic --max-insns N --timeout S --stats
 * [-m M] [--smp C] --level L` (defaults N = 100000, S = 2, L = 0: bare on the silicon;
 * L = 1 runs every image as a guest of L0; J = 2 runs at a time). Random code
 * triple-faults, hangs, writes to devices, reprograms the PIC and APIC, switches modes,
 * ... The machine must survive all of it: every run must end by itself with a
 * documented status other than 2 (the images are valid) and 10, never by a signal, and
 * under the sanitizer build without a sanitizer report; a run still alive S + 30 s
 * after its start is killed and fails. A failing image is kept and the command that
 * reproduces it is printed; the test stops after F (5) failures.
 *
 * --timeout bounds the host time of a run: a REP string instruction retires once per
 * chunk of up to 4096 iterations (src/cpu/exec_string.c), so 100000 instructions can be
 * 4e8 iterations. Runs that ended with status 8 before N instructions retired (by
 * --timeout, or, with --deterministic, by virtual time spent halted) are counted in
 * the summary; they pass (status 8 is documented).
 *
 * Before the random bytes each image runs a prefix chosen by its seed, so that the
 * random code gets to run in many states (enum mode): the loader's flat 32-bit state,
 * 32-bit protected mode with an IDT (optionally paged: 4 MiB PSE pages or PAE), ring 3,
 * virtual-8086 mode, real mode, long mode (ring 0, ring 3). With an IDT, every
 * exception and interrupt enters a handler that resets the stack and jumps (or irets)
 * to another pseudo-random offset in the random code, so one image explores many
 * instruction streams; SYSCALL/SYSENTER and a call gate lead there too. Prefixes may
 * poke the devices (ports, PIC/PIT/RTC programming sequences, LAPIC/IOAPIC/testdev MMIO,
 * LAPIC timer, MSRs, INIT-SIPI to the APs) with random values, break page-table entries
 * and IDT gates, set CR4 bits, and load the general registers with random or
 * "interesting" values. The random bytes are salted with system instructions and far
 * transfers to the GDT's gates, TSS and code segments.
 *
 * Image layout (offsets from LOAD = 1 MiB, identity-mapped):
 *   0x0000 Multiboot header, then the prefix     0x4000 PML4, 0x5000 PDPT,
 *   0x1000 GDT, 0x1080 GDTR, 0x1090 IDTR,        0x6000-0x9fff four PDs (4 GiB, 2 MiB
 *          0x10a0 handler counter, 0x10b0 IVTR          pages, U/S = 1)
 *          0x10c0 far pointers                   0xa000-0xb000 ring-0 stack
 *   0x1100 TSS                                    0xb000-0xc000 ring-3 stack
 *   0x2000 IDT                                    0xc000 PAE PDPT, 0xd000 32-bit PD
 *   0x3000 handler, 0x3800 16-bit trampoline      0x10000 random code (RAND_SIZE)
 *   0x3c00 IVT image (copied to 0 for real mode)
 * The random code is also copied to physical 0x10000 (real mode, vm86, APs after SIPI).
 */
#include "robust.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define LOAD 0x100000u
#define GDT_OFF 0x1000u
#define GDTR_OFF 0x1080u
#define IDTR_OFF 0x1090u
#define CTR_OFF 0x10A0u
#define IVTR_OFF 0x10B0u
#define FARPTR_OFF 0x10C0u /* 8 far pointers (offset32, selector16), 8 bytes apart */
#define TSS_OFF 0x1100u
#define IDT_OFF 0x2000u
#define HANDLER_OFF 0x3000u
#define RM16_OFF 0x3800u
#define IVT_OFF 0x3C00u
#define PML4_OFF 0x4000u
#define PDPT_OFF 0x5000u
#define PD_OFF 0x6000u
#define STACK0_TOP 0xB000u
#define STACK3_TOP 0xC000u
#define PAE_PDPT_OFF 0xC000u
#define PD32_OFF 0xD000u
#define RAND_OFF 0x10000u
#define RAND_SIZE 0x2000u /* power of two: the handler masks with RAND_SIZE - 1 */
#define IMAGE_SIZE (RAND_OFF + RAND_SIZE)
#define LOW_COPY 0x10000u /* physical copy of the random code (segment 0x1000) */

/* GDT selectors. */
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18
#define SEL_CODE32_R3 0x23
#define SEL_DATA_R3 0x2B
#define SEL_CODE64_R3 0x33
#define SEL_TSS 0x38     /* 16 bytes in long mode */
#define SEL_CODE16 0x48
#define SEL_DATA16 0x50
#define SEL_CALLGATE 0x58 /* DPL 3 call gate to the handler, 16 bytes in long mode */
#define SEL_LDT 0x68      /* an LDT that is the GDT again, 16 bytes in long mode */
#define GDT_LIMIT 0x77

enum mode {
	M_RAW32,   /* the loader's IDTR (no IDT of ours): the first fault triple-faults */
	M_PM32,    /* 32-bit protected mode, ring 0, IDT */
	M_RING3_32,
	M_VM86,
	M_REAL,
	M_LONG64,  /* long mode, the loader's IDTR */
	M_LONG64_IDT,
	M_RING3_64,
	M_COUNT
};
static const char *const mode_names[M_COUNT] = {
	"raw32", "pm32", "ring3-32", "vm86", "real", "long64", "long64-idt", "ring3-64",
};

enum paging32 { PG_NONE, PG_PSE, PG_PAE };
static const char *const paging_names[] = { "", "+pse", "+pae" };

/* ---- A byte emitter ------------------------------------------------------------ */

struct emit {
	uint8_t *img;
	uint32_t pos; /* offset in the image */
};

static void b(struct emit *e, int n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		e->img[e->pos++] = (uint8_t)va_arg(ap, int);
	va_end(ap);
}

static void d32(struct emit *e, uint32_t v)
{
	memcpy(e->img + e->pos, &v, 4);
	e->pos += 4;
}

static void d16(struct emit *e, uint16_t v)
{
	memcpy(e->img + e->pos, &v, 2);
	e->pos += 2;
}

static void put32(uint8_t *img, uint32_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static void put64(uint8_t *img, uint32_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

/* mov r32, imm32 (B8+r): the same encoding in 32- and 64-bit mode (zero-extended). */
static void mov_r32(struct emit *e, int reg, uint32_t v)
{
	b(e, 1, 0xB8 + reg);
	d32(e, v);
}

/* mov ax, sel; mov ds/es/ss(/fs/gs), ax */
static void load_data_segs(struct emit *e, uint16_t sel, bool fsgs)
{
	b(e, 2, 0x66, 0xB8);
	d16(e, sel);
	b(e, 6, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0);
	if (fsgs)
		b(e, 4, 0x8E, 0xE0, 0x8E, 0xE8);
}

/* mov ecx, msr; mov eax, lo; mov edx, hi; wrmsr */
static void wrmsr(struct emit *e, uint32_t msr, uint32_t lo, uint32_t hi)
{
	mov_r32(e, ECX, msr);
	mov_r32(e, EAX, lo);
	mov_r32(e, EDX, hi);
	b(e, 2, 0x0F, 0x30);
}

/* mov eax, crN; or eax, bits; mov crN, eax (N = 0, 3 or 4) */
static void cr_or(struct emit *e, int n, uint32_t bits)
{
	b(e, 3, 0x0F, 0x20, 0xC0 | n << 3);
	b(e, 1, 0x0D);
	d32(e, bits);
	b(e, 3, 0x0F, 0x22, 0xC0 | n << 3);
}

/* ---- Descriptor tables and page tables ---------------------------------------------- */

static uint64_t seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t lo = (limit & 0xFFFF) | ((uint64_t)(base & 0xFFFF) << 16);
	uint64_t hi = ((base >> 16) & 0xFF) | ((uint64_t)access << 8) |
		      ((uint64_t)((limit >> 16) & 0xF) << 16) | ((uint64_t)flags << 20) |
		      (base & 0xFF000000u);
	return lo | hi << 32;
}

/* A gate (call, interrupt or trap) to sel:off with type and DPL. */
static uint64_t gate_desc(uint16_t sel, uint32_t off, int type, int dpl, int ist)
{
	uint32_t lo = (off & 0xFFFF) | (uint32_t)sel << 16;
	uint32_t hi = (off & 0xFFFF0000u) | 0x8000u | (uint32_t)dpl << 13 | (uint32_t)type << 8 |
		      (uint32_t)ist;
	return lo | (uint64_t)hi << 32;
}

static void build_tables(uint8_t *img, struct rng *r, bool l64)
{
	uint64_t gdt[GDT_LIMIT / 8 + 1] = {
		0,
		seg_desc(0, 0xFFFFF, 0x9A, 0xC), /* 0x08 code32 */
		seg_desc(0, 0xFFFFF, 0x92, 0xC), /* 0x10 data */
		seg_desc(0, 0xFFFFF, 0x9A, 0xA), /* 0x18 code64 */
		seg_desc(0, 0xFFFFF, 0xFA, 0xC), /* 0x20 code32 DPL3 */
		seg_desc(0, 0xFFFFF, 0xF2, 0xC), /* 0x28 data DPL3 */
		seg_desc(0, 0xFFFFF, 0xFA, 0xA), /* 0x30 code64 DPL3 */
		seg_desc(LOAD + TSS_OFF, 103, 0x89, 0), /* 0x38 TSS (upper half 0) */
		0,
		seg_desc(LOAD, 0xFFFF, 0x9A, 0), /* 0x48 code16, based at the image */
		seg_desc(0, 0xFFFF, 0x92, 0),    /* 0x50 data16 */
		gate_desc(l64 ? SEL_CODE64 : SEL_CODE32, LOAD + HANDLER_OFF, 0xC, 3, 0), /* 0x58 */
		0,
		seg_desc(LOAD + GDT_OFF, GDT_LIMIT, 0x82, 0), /* 0x68 LDT (upper half 0) */
		0,
	};
	memcpy(img + GDT_OFF, gdt, sizeof(gdt));
	/* GDTR and IDTR (10-byte form; 32-bit lgdt/lidt read the first 6). */
	uint16_t lim = GDT_LIMIT;
	memcpy(img + GDTR_OFF, &lim, 2);
	put64(img, GDTR_OFF + 2, LOAD + GDT_OFF);
	lim = l64 ? 256 * 16 - 1 : 256 * 8 - 1;
	memcpy(img + IDTR_OFF, &lim, 2);
	put64(img, IDTR_OFF + 2, LOAD + IDT_OFF);
	lim = 0x3FF; /* real-mode IVT at 0 */
	memcpy(img + IVTR_OFF, &lim, 2);
	put64(img, IVTR_OFF + 2, 0);

	/* Far pointers for the FF /3 and FF /5 templates of the random code. */
	static const uint16_t far_sels[8] = { SEL_CALLGATE | 3, SEL_TSS, SEL_CODE32,
					      SEL_CODE64, SEL_CODE32_R3, SEL_CODE16,
					      SEL_LDT, SEL_DATA };
	for (int i = 0; i < 8; i++) {
		put32(img, FARPTR_OFF + 8 * i, LOAD + RAND_OFF + (uint32_t)rng_below(r, RAND_SIZE));
		memcpy(img + FARPTR_OFF + 8 * i + 4, &far_sels[i], 2);
	}

	/* TSS: ring-0 stack (32-bit: ESP0/SS0, also EIP/ESP/segments for a task switch
	 * into it; 64-bit: RSP0, sometimes IST1), no I/O bitmap. */
	if (l64) {
		put64(img, TSS_OFF + 4, LOAD + STACK0_TOP);
		put64(img, TSS_OFF + 0x24, LOAD + STACK0_TOP - 0x100);
	} else {
		put32(img, TSS_OFF + 4, LOAD + STACK0_TOP);
		put32(img, TSS_OFF + 8, SEL_DATA);
		put32(img, TSS_OFF + 0x20, LOAD + HANDLER_OFF);    /* EIP */
		put32(img, TSS_OFF + 0x24, 0x2);                   /* EFLAGS */
		put32(img, TSS_OFF + 0x38, LOAD + STACK0_TOP);     /* ESP */
		for (int s = 0; s < 6; s++)                         /* ES CS SS DS FS GS */
			put32(img, TSS_OFF + 0x48 + 4 * s, s == 1 ? SEL_CODE32 : SEL_DATA);
	}
	uint16_t iomap = 104;
	memcpy(img + TSS_OFF + 102, &iomap, 2);

	/* IDT: every vector to the handler; gate DPL, type and IST by seed, and a few
	 * gates broken on purpose. */
	int dpl = rng_below(r, 2) ? 3 : 0;
	int type = rng_below(r, 4) ? 0xE : 0xF; /* interrupt or trap gate */
	int ist = l64 && rng_below(r, 4) == 0 ? 1 : 0;
	for (int v = 0; v < 256; v++) {
		uint64_t g = gate_desc(l64 ? SEL_CODE64 : SEL_CODE32, LOAD + HANDLER_OFF, type,
				       dpl, ist);
		switch (rng_below(r, 64)) {
		case 0: g &= ~(1ULL << 47); break;                       /* not present */
		case 1: g ^= rng_next(r) & 0xFFFFFFFFULL; break;         /* selector, offset */
		case 2: g ^= rng_next(r) & 0xFFFFFFFF00000000ULL; break; /* type, DPL, offset */
		case 3: if (!l64) g = gate_desc(SEL_TSS, 0, 0x5, dpl, 0); break; /* task gate */
		default: break;
		}
		put64(img, IDT_OFF + (uint32_t)v * (l64 ? 16 : 8), g);
	}

	/* Page tables, user-accessible: long mode and PAE share the 2 MiB PDs (4 GiB);
	 * the 32-bit PD has 4 MiB pages. Sometimes a few entries other than the first
	 * (which maps the image) get random flag or reserved bits. */
	put64(img, PML4_OFF, (LOAD + PDPT_OFF) | 7);
	for (int i = 0; i < 4; i++) {
		put64(img, PDPT_OFF + 8 * i, (LOAD + PD_OFF + 0x1000u * i) | 7);
		put64(img, PAE_PDPT_OFF + 8 * i, (LOAD + PD_OFF + 0x1000u * i) | 1);
		for (int j = 0; j < 512; j++)
			put64(img, PD_OFF + 0x1000u * i + 8 * j,
			      ((uint64_t)i << 30 | (uint64_t)j << 21) | 0x87);
	}
	for (int j = 0; j < 1024; j++)
		put32(img, PD32_OFF + 4 * j, (uint32_t)j << 22 | 0x87);
	if (rng_below(r, 2)) {
		int n = 1 + (int)rng_below(r, 16);
		for (int k = 0; k < n; k++) {
			uint64_t bits = rng_below(r, 2) ? 1ULL << rng_below(r, 9)
				      : rng_below(r, 2) ? 1ULL << 63 : 1ULL << (13 + rng_below(r, 8));
			uint32_t j = 1 + (uint32_t)rng_below(r, 2047);
			uint64_t e;
			memcpy(&e, img + PD_OFF + 8 * j, 8);
			put64(img, PD_OFF + 8 * j, e ^ bits);
			uint32_t e32;
			memcpy(&e32, img + PD32_OFF + 4 * (j & 1023), 4);
			put32(img, PD32_OFF + 4 * (j & 1023), j & 1023 ? e32 ^ (uint32_t)bits : e32);
		}
	}

	/* Real-mode IVT image: every vector to a random offset in the code at 0x1000:0. */
	for (int v = 0; v < 256; v++)
		put32(img, IVT_OFF + 4 * v, 0x10000000u | (uint32_t)rng_below(r, RAND_SIZE));
}

/* The exception/interrupt handler: flat segments, fresh stack, counter += 1, then go to
 * RAND + (counter * golden) >> 19 & (RAND_SIZE - 1) in the image's mode. */
static void build_handler(uint8_t *img, enum mode m, uint32_t eflags3)
{
	struct emit e = { img, HANDLER_OFF };
	bool l64 = m >= M_LONG64;
	load_data_segs(&e, SEL_DATA, false);
	mov_r32(&e, ESP, LOAD + STACK0_TOP);
	if (l64) {
		b(&e, 3, 0xFF, 0x04, 0x25); /* inc dword [abs32] */
		d32(&e, LOAD + CTR_OFF);
		b(&e, 3, 0x8B, 0x04, 0x25); /* mov eax, [abs32] */
		d32(&e, LOAD + CTR_OFF);
	} else {
		b(&e, 2, 0xFF, 0x05); /* inc dword [disp32] */
		d32(&e, LOAD + CTR_OFF);
		b(&e, 1, 0xA1); /* mov eax, [disp32] */
		d32(&e, LOAD + CTR_OFF);
	}
	b(&e, 2, 0x69, 0xC0); /* imul eax, eax, imm32 */
	d32(&e, 0x9E3779B1u);
	b(&e, 3, 0xC1, 0xE8, 19); /* shr eax, 19 */
	b(&e, 1, 0x25);            /* and eax, RAND_SIZE - 1 */
	d32(&e, RAND_SIZE - 1);
	if (m == M_VM86) {
		/* iret to vm86 at 0x1000:ax: GS FS DS ES SS ESP EFLAGS CS EIP */
		b(&e, 4, 0x6A, 0x00, 0x6A, 0x00);
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 1, 0x68); d32(&e, 0x2000);
		b(&e, 1, 0x68); d32(&e, 0xFFF0);
		b(&e, 1, 0x68); d32(&e, eflags3 | (1u << 17));
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 2, 0x50, 0xCF);
		return;
	}
	b(&e, 1, 0x05); /* add eax, LOAD + RAND_OFF */
	d32(&e, LOAD + RAND_OFF);
	if (m == M_RING3_32 || m == M_RING3_64) {
		b(&e, 2, 0x6A, SEL_DATA_R3);
		b(&e, 1, 0x68); d32(&e, LOAD + STACK3_TOP);
		b(&e, 1, 0x68); d32(&e, eflags3);
		b(&e, 2, 0x6A, m == M_RING3_64 ? SEL_CODE64_R3 : SEL_CODE32_R3);
		b(&e, 1, 0x50);
		if (m == M_RING3_64)
			b(&e, 1, 0x48);
		b(&e, 1, 0xCF); /* iret / iretq */
		return;
	}
	b(&e, 2, 0xFF, 0xE0); /* jmp eax / rax */
}

/* ---- Device pokes: the same encodings work in 32- and 64-bit mode --------------------- */

static const uint16_t poke_ports[] = {
	0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1,           /* 8259 pair, ELCR */
	0x40, 0x41, 0x42, 0x43, 0x61,                   /* 8254, port B */
	0x70, 0x71,                                     /* RTC/CMOS */
	0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, /* COM1 */
	0x510, 0x511,                                   /* fw_cfg */
	0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x608, /* ACPI PM */
	0x80, 0xE0, 0xE4, 0xE8,                         /* POST, pc-testdev */
	0x2000, 0x2001, 0x2002, 0x2004, 0x2008, 0x2009, 0x200C, 0x2010, 0x2017, /* testdev IRQs */
	0xCF8, 0xCFC, 0x92, 0x64, 0x60,                 /* unmapped on this board */
};

static const uint32_t poke_msrs[] = {
	0x10, 0x1B, 0x3A, 0x174, 0x175, 0x176, 0x1A0, 0x277, 0x2FF, 0x6E0,
	0x802, 0x803, 0x808, 0x80B, 0x80F, 0x830, 0x832, 0x835, 0x836, 0x837, 0x838, 0x83E,
	0xC0000080, 0xC0000081, 0xC0000082, 0xC0000084, 0xC0000100, 0xC0000101, 0xC0000102,
	0x480, 0x48D,
};

static uint32_t interesting_value(struct rng *r)
{
	static const uint32_t v[] = {
		0, 1, 2, 7, 0xB, 0xD, 0xFF, 0x100, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
		0x80000001, 0x80000008, 0x40000000, 0xFFFFFFFF, 0xFEE00000, 0xFEC00000,
		0xFF000000, LOAD, LOAD + RAND_OFF, 0x000C4500, 0x000C4610, 0x00004000,
		0x00020000, 0x000100FF, 0xC0000080, 0x1B, 0x6E0, 0x3F8, 0x510,
	};
	return rng_below(r, 2) ? v[rng_below(r, ARRAY_LEN(v))] : (uint32_t)rng_next(r);
}

static void out8(struct emit *e, uint16_t port, uint8_t v)
{
	mov_r32(e, EDX, port);
	b(e, 2, 0xB0, v); /* mov al, v */
	b(e, 1, 0xEE);
}

/* mov ebx, addr; mov dword [rbx], v */
static void mmio32(struct emit *e, uint32_t addr, uint32_t v)
{
	mov_r32(e, EBX, addr);
	b(e, 2, 0xC7, 0x03);
	d32(e, v);
}

static void emit_pokes(struct emit *e, struct rng *r, bool msrs_ok)
{
	int n = 4 + (int)rng_below(r, 40);
	for (int i = 0; i < n && e->pos < 0xB00; i++) {
		uint32_t v = interesting_value(r);
		uint8_t v8 = (uint8_t)rng_next(r);
		switch (rng_below(r, 24)) {
		case 0 ... 6: { /* out */
			uint32_t port = rng_below(r, 8) ? poke_ports[rng_below(r, ARRAY_LEN(poke_ports))]
						       : (uint32_t)rng_below(r, 0x10000);
			if (port == 0xF4 && rng_below(r, 4))
				port = 0x80; /* isa-debug-exit ends the run: rarely */
			mov_r32(e, EDX, port);
			mov_r32(e, EAX, v);
			switch (rng_below(r, 3)) {
			case 0: b(e, 1, 0xEE); break;
			case 1: b(e, 2, 0x66, 0xEF); break;
			default: b(e, 1, 0xEF); break;
			}
			break;
		}
		case 7 ... 8: /* in */
			mov_r32(e, EDX, poke_ports[rng_below(r, ARRAY_LEN(poke_ports))]);
			b(e, 1, rng_below(r, 2) ? 0xEC : 0xED);
			break;
		case 9 ... 11: { /* MMIO write */
			static const uint32_t base[] = { 0xFEE00000, 0xFEC00000, 0xFF000000 };
			uint32_t bi = (uint32_t)rng_below(r, 3);
			uint32_t off = bi == 0   ? (uint32_t)rng_below(r, 0x40) << 4
				       : bi == 1 ? (uint32_t)rng_below(r, 2) << 4
						 : (uint32_t)rng_below(r, 0x4000) << 2;
			mmio32(e, base[bi] + off, v);
			break;
		}
		case 12: /* MMIO read */
			mov_r32(e, EBX, 0xFEE00000u + ((uint32_t)rng_below(r, 0x40) << 4));
			b(e, 2, 0x8B, 0x03);
			break;
		case 13: /* wake the APs: INIT, then SIPI to 0x10000, all excluding self */
			mmio32(e, 0xFEE00310, 0);
			mmio32(e, 0xFEE00300, 0x000C4500);
			mmio32(e, 0xFEE00300, 0x000C4610);
			break;
		case 14: /* 8259 initialisation: ICW1-4 to a random base, random mask */
			for (int pic = 0; pic < 2; pic++) {
				uint16_t p = pic ? 0xA0 : 0x20;
				out8(e, p, rng_below(r, 4) ? 0x11 : (uint8_t)(0x10 | (v8 & 0xF)));
				out8(e, p + 1, (uint8_t)(rng_next(r) & 0xF8));
				out8(e, p + 1, pic ? 2 : 4);
				out8(e, p + 1, rng_below(r, 4) ? 1 : (uint8_t)rng_next(r));
				out8(e, p + 1, rng_below(r, 2) ? 0 : (uint8_t)rng_next(r));
			}
			break;
		case 15: { /* 8254: control word then count */
			int ch = (int)rng_below(r, 3);
			out8(e, 0x43, (uint8_t)(ch << 6 | (rng_next(r) & 0x3F)));
			out8(e, (uint16_t)(0x40 + ch), v8);
			out8(e, (uint16_t)(0x40 + ch), (uint8_t)(rng_below(r, 2) ? 0 : rng_next(r)));
			if (rng_below(r, 2))
				out8(e, 0x61, (uint8_t)rng_next(r)); /* gate of channel 2 */
			break;
		}
		case 16: { /* RTC/CMOS: index then data */
			static const uint8_t idx[] = { 0x0A, 0x0B, 0x0C, 0x0D, 0x00, 0x01, 0x04,
						       0x09, 0x32, 0x80 };
			out8(e, 0x70, rng_below(r, 2) ? idx[rng_below(r, ARRAY_LEN(idx))] : v8);
			if (rng_below(r, 4))
				out8(e, 0x71, (uint8_t)rng_next(r));
			else
				b(e, 2, 0xE4, 0x71); /* in al, 0x71 */
			break;
		}
		case 17: /* IOAPIC: select a redirection entry or register, then write it */
			mmio32(e, 0xFEC00000, rng_below(r, 4) ? 0x10 + (uint32_t)rng_below(r, 48)
							     : (uint32_t)rng_below(r, 256));
			mmio32(e, 0xFEC00010, v);
			break;
		case 18: { /* LAPIC timer: LVT, divider, initial count */
			uint32_t lvt = (uint32_t)rng_below(r, 256) | (uint32_t)rng_below(r, 4) << 17 |
				       (rng_below(r, 4) ? 0 : 1u << 16) | (rng_below(r, 8) ? 0 : 4u << 8);
			mmio32(e, 0xFEE00320, lvt);
			mmio32(e, 0xFEE003E0, (uint32_t)rng_below(r, 16));
			mmio32(e, 0xFEE00380, rng_below(r, 2) ? (uint32_t)rng_below(r, 5000) : v);
			break;
		}
		case 19: /* LAPIC: spurious vector / software enable, TPR, LINT0/1, error */
			mmio32(e, 0xFEE00000u + (uint32_t[]){ 0xF0, 0x80, 0x350, 0x360, 0x370,
							     0xB0, 0xD0, 0xE0 }[rng_below(r, 8)],
			       v);
			break;
		case 20: /* an IPI to someone: fixed, lowest, SMI, NMI, INIT, SIPI, ExtINT */
			mmio32(e, 0xFEE00310, (uint32_t)rng_below(r, 8) << 24);
			mmio32(e, 0xFEE00300, (uint32_t)rng_below(r, 256) |
						      (uint32_t)rng_below(r, 8) << 8 |
						      (uint32_t)rng_below(r, 4) << 18 |
						      (rng_below(r, 2) ? 1u << 14 : 0));
			break;
		default: /* wrmsr/rdmsr: only with an IDT to catch the #GP */
			if (!msrs_ok)
				break;
			mov_r32(e, ECX, poke_msrs[rng_below(r, ARRAY_LEN(poke_msrs))]);
			mov_r32(e, EAX, v);
			mov_r32(e, EDX, rng_below(r, 2) ? 0 : (uint32_t)rng_next(r));
			b(e, 2, 0x0F, rng_below(r, 4) ? 0x30 : 0x32);
			break;
		}
	}
}

/* Random or interesting values in the general registers other than ESP. */
static void emit_regs(struct emit *e, struct rng *r)
{
	for (int reg = EAX; reg <= EDI; reg++)
		if (reg != ESP)
			mov_r32(e, reg, interesting_value(r));
}

/* ---- The random code ---------------------------------------------------------------- */

/* System instructions that random bytes rarely form on their own (length, bytes). */
static const uint8_t sys_ops[][4] = {
	{ 2, 0x0F, 0x01 }, { 2, 0x0F, 0x00 }, { 2, 0x0F, 0x22 }, { 2, 0x0F, 0x20 },
	{ 2, 0x0F, 0x23 }, { 2, 0x0F, 0x30 }, { 2, 0x0F, 0x32 }, { 2, 0x0F, 0x05 },
	{ 2, 0x0F, 0x07 }, { 2, 0x0F, 0x34 }, { 2, 0x0F, 0x35 }, { 1, 0xCF },
	{ 1, 0xCD },       { 1, 0xE6 },       { 1, 0xEE },       { 1, 0xEF },
	{ 1, 0xEC },       { 1, 0xF4 },       { 1, 0xFB },       { 1, 0x9D },
	{ 1, 0x8E },       { 1, 0xEA },       { 1, 0x9A },       { 1, 0xCB },
	{ 2, 0x0F, 0xA2 }, { 2, 0x0F, 0x31 }, { 2, 0xF3, 0xA4 }, { 2, 0xF3, 0xAB },
	{ 2, 0x0F, 0x0B }, { 1, 0xC4 },       { 1, 0xC5 },       { 2, 0x0F, 0xAE },
	{ 2, 0x0F, 0x78 }, { 2, 0x0F, 0xC7 }, { 2, 0x0F, 0x02 }, { 2, 0x0F, 0x03 },
	{ 2, 0xF0, 0x0F }, { 1, 0x62 },       { 1, 0xCC },       { 1, 0xCE },
	{ 1, 0x17 },       { 1, 0x1F },       { 2, 0x0F, 0xA1 }, { 2, 0x0F, 0xB2 },
	{ 3, 0x0F, 0x01, 0xF8 }, /* swapgs */ { 3, 0x0F, 0x01, 0xF9 }, /* rdtscp */
	{ 3, 0x0F, 0x01, 0xC1 }, /* vmcall */ { 3, 0x0F, 0x01, 0xD0 }, /* xgetbv */
	{ 2, 0x0F, 0x06 }, /* clts */          { 2, 0x0F, 0x09 }, /* wbinvd */
	{ 3, 0x0F, 0x00, 0xD8 }, /* ltr ax */ { 3, 0x0F, 0x00, 0xD0 }, /* lldt ax */
	{ 3, 0x0F, 0x01, 0x38 }, /* invlpg */ { 3, 0x0F, 0x01, 0xCA }, /* clac */
	{ 2, 0x0F, 0xBC }, /* bsf */           { 3, 0xF3, 0x0F, 0xB8 }, /* popcnt */
	{ 2, 0x0F, 0xA3 }, /* bt */            { 2, 0x0F, 0xBA }, /* bt imm */
};

/* A far transfer through the GDT: to a call gate, the TSS (task switch), code segments
 * of every size and privilege, the LDT selector, a data segment. */
static uint32_t far_transfer(uint8_t *p, struct rng *r, bool l64)
{
	static const uint16_t sels[] = { SEL_CALLGATE | 3, SEL_CALLGATE, SEL_TSS, SEL_CODE32,
					 SEL_CODE64, SEL_CODE32_R3, SEL_CODE16, SEL_LDT,
					 SEL_DATA, 0x04, 0x0C };
	uint16_t sel = sels[rng_below(r, ARRAY_LEN(sels))];
	uint32_t target = LOAD + RAND_OFF + (uint32_t)rng_below(r, RAND_SIZE);
	uint32_t ptr = LOAD + FARPTR_OFF + 8 * (uint32_t)rng_below(r, 8);
	switch (rng_below(r, 3)) {
	case 0: /* jmp/call far ptr16:32 (invalid in 64-bit mode) */
		p[0] = rng_below(r, 2) ? 0xEA : 0x9A;
		memcpy(p + 1, &target, 4);
		memcpy(p + 5, &sel, 2);
		return 7;
	case 1: /* call/jmp far [ptr] */
		p[0] = 0xFF;
		if (l64) {
			p[1] = rng_below(r, 2) ? 0x1C : 0x2C;
			p[2] = 0x25;
			memcpy(p + 3, &ptr, 4);
			return 7;
		}
		p[1] = rng_below(r, 2) ? 0x1D : 0x2D;
		memcpy(p + 2, &ptr, 4);
		return 6;
	default: /* mov ax, sel; a segment register or ltr/lldt/verr/lar on it */
		p[0] = 0x66;
		p[1] = 0xB8;
		memcpy(p + 2, &sel, 2);
		static const uint8_t use[][3] = {
			{ 2, 0x8E, 0xD8 }, { 2, 0x8E, 0xE0 }, { 2, 0x8E, 0xD0 }, { 3, 0x0F, 0x00, },
			{ 3, 0x0F, 0x02 }, { 3, 0x0F, 0x03 },
		};
		const uint8_t *u = use[rng_below(r, ARRAY_LEN(use))];
		p[4] = u[1];
		p[5] = u[2];
		if (u[0] == 2)
			return 6;
		p[6] = u[1] == 0x0F && u[2] == 0x00 ? (uint8_t)(0xC0 | rng_below(r, 6) << 3)
						    : 0xC0; /* sldt str lldt ltr verr verw / lar */
		return 7;
	}
}

static void fill_random(uint8_t *code, struct rng *r, bool l64)
{
	for (uint32_t i = 0; i < RAND_SIZE; i += 8) {
		uint64_t v = rng_next(r);
		memcpy(code + i, &v, 8);
	}
	int density = (int)rng_below(r, 4); /* 0: pure random bytes */
	for (uint32_t i = 0; density && i < RAND_SIZE - 8; i += 8 + (uint32_t)rng_below(r, 56 >> density)) {
		if (rng_below(r, 6) == 0) {
			far_transfer(code + i, r, l64);
			continue;
		}
		const uint8_t *op = sys_ops[rng_below(r, ARRAY_LEN(sys_ops))];
		memcpy(code + i, op + 1, op[0]);
	}
}

/* ---- One image ------------------------------------------------------------------------ */

struct image_cfg {
	enum mode mode;
	enum paging32 paging;
	int smp;
	unsigned ram_mib;
	bool pokes;
};

static void build_image(uint8_t *img, uint64_t seed, uint64_t index, struct image_cfg *cfg)
{
	struct rng r = rng_seeded(seed, index);
	memset(img, 0, IMAGE_SIZE);
	mb_aout_header(img, LOAD);
	static const unsigned ram[] = { 2, 3, 4, 8, 16, 64 };
	static const int smp[] = { 1, 1, 1, 2, 3, 4 };
	cfg->mode = (enum mode)rng_below(&r, M_COUNT);
	cfg->ram_mib = ram[rng_below(&r, ARRAY_LEN(ram))];
	cfg->smp = smp[rng_below(&r, ARRAY_LEN(smp))];
	cfg->pokes = rng_below(&r, 2);
	enum mode m = cfg->mode;
	bool l64 = m >= M_LONG64, idt = m != M_RAW32 && m != M_LONG64 && m != M_REAL;
	cfg->paging = m == M_PM32 || m == M_RING3_32 || m == M_VM86 ? (enum paging32)rng_below(&r, 3)
								    : PG_NONE;
	bool sti = rng_below(&r, 2);
	uint32_t eflags3 = 0x2 | (sti ? 0x200u : 0) | (rng_below(&r, 2) ? 0x3000u : 0) |
			   (rng_below(&r, 8) ? 0 : 0x100u /* TF */) |
			   (rng_below(&r, 8) ? 0 : 0x40000u /* AC */);

	build_tables(img, &r, l64);
	build_handler(img, m, eflags3);
	fill_random(img + RAND_OFF, &r, l64);

	struct emit e = { img, MB_HDR_SIZE };
	b(&e, 2, 0xFA, 0xFC); /* cli; cld */
	b(&e, 3, 0x0F, 0x01, 0x15); d32(&e, LOAD + GDTR_OFF); /* lgdt */
	b(&e, 1, 0xEA); d32(&e, LOAD + e.pos + 6); d16(&e, SEL_CODE32); /* reload CS */
	load_data_segs(&e, SEL_DATA, true);
	mov_r32(&e, ESP, LOAD + STACK0_TOP);
	/* Copy the random code to 0x10000 for real mode, vm86 and the APs. */
	mov_r32(&e, ESI, LOAD + RAND_OFF);
	mov_r32(&e, EDI, LOW_COPY);
	mov_r32(&e, ECX, RAND_SIZE / 4);
	b(&e, 2, 0xF3, 0xA5); /* rep movsd */

	if (l64) {
		cr_or(&e, 4, 0x20); /* PAE */
		mov_r32(&e, EAX, LOAD + PML4_OFF); b(&e, 3, 0x0F, 0x22, 0xD8);
		mov_r32(&e, ECX, 0xC0000080); b(&e, 2, 0x0F, 0x32);
		b(&e, 1, 0x0D); d32(&e, 0x100 | (rng_below(&r, 2) ? 0x801 : 0)); /* LME, SCE NXE */
		b(&e, 2, 0x0F, 0x30);
		cr_or(&e, 0, 0x80000001u);
		b(&e, 1, 0xEA); d32(&e, LOAD + e.pos + 6); d16(&e, SEL_CODE64);
		/* now 64-bit code */
		load_data_segs(&e, SEL_DATA, false);
		mov_r32(&e, ESP, LOAD + STACK0_TOP);
		if (idt) {
			b(&e, 4, 0x0F, 0x01, 0x1C, 0x25); d32(&e, LOAD + IDTR_OFF); /* lidt [abs] */
		}
	} else if (idt) {
		b(&e, 3, 0x0F, 0x01, 0x1D); d32(&e, LOAD + IDTR_OFF); /* lidt */
	}
	if (idt) {
		mov_r32(&e, EAX, SEL_TSS);
		b(&e, 3, 0x0F, 0x00, 0xD8); /* ltr ax */
		if (rng_below(&r, 4) == 0) {
			mov_r32(&e, EAX, SEL_LDT);
			b(&e, 3, 0x0F, 0x00, 0xD0); /* lldt ax */
		}
		/* SYSCALL to the handler (STAR: kernel CS 0x18, user base 0x20), SYSENTER
		 * likewise. */
		if (rng_below(&r, 2)) {
			wrmsr(&e, 0xC0000081, 0, 0x00200018);
			wrmsr(&e, 0xC0000082, LOAD + HANDLER_OFF, 0);
			wrmsr(&e, 0xC0000083, LOAD + HANDLER_OFF, 0);
			wrmsr(&e, 0xC0000084, rng_below(&r, 2) ? 0x200 : 0x4700, 0);
			wrmsr(&e, 0x174, SEL_CODE32, 0);
			wrmsr(&e, 0x175, LOAD + STACK0_TOP, 0);
			wrmsr(&e, 0x176, LOAD + HANDLER_OFF, 0);
		}
		/* CR4 extras (SMEP, SMAP, PGE, UMIP, FSGSBASE, OSXSAVE, ...): supported bits
		 * take effect, the others #GP into the handler. */
		if (rng_below(&r, 8) == 0) {
			static const uint32_t bits[] = { 0x80, 0x100000, 0x200000, 0x800, 0x10000,
							 0x40000, 0x200, 0x400, 0x4, 0x8, 0x2000 };
			cr_or(&e, 4, bits[rng_below(&r, ARRAY_LEN(bits))]);
		}
	}
	if (cfg->paging == PG_PSE) {
		cr_or(&e, 4, 0x10);
		mov_r32(&e, EAX, LOAD + PD32_OFF); b(&e, 3, 0x0F, 0x22, 0xD8);
		cr_or(&e, 0, 0x80000000u);
	} else if (cfg->paging == PG_PAE) {
		cr_or(&e, 4, 0x20);
		mov_r32(&e, EAX, LOAD + PAE_PDPT_OFF); b(&e, 3, 0x0F, 0x22, 0xD8);
		cr_or(&e, 0, 0x80000000u);
	}
	if (cfg->pokes)
		emit_pokes(&e, &r, idt);
	emit_regs(&e, &r);

	switch (m) {
	case M_RING3_32:
	case M_RING3_64:
		b(&e, 2, 0x6A, SEL_DATA_R3);
		b(&e, 1, 0x68); d32(&e, LOAD + STACK3_TOP);
		b(&e, 1, 0x68); d32(&e, eflags3);
		b(&e, 2, 0x6A, m == M_RING3_64 ? SEL_CODE64_R3 : SEL_CODE32_R3);
		b(&e, 1, 0x68); d32(&e, LOAD + RAND_OFF);
		if (m == M_RING3_64)
			b(&e, 1, 0x48);
		b(&e, 1, 0xCF);
		break;
	case M_VM86:
		b(&e, 4, 0x6A, 0x00, 0x6A, 0x00);
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 1, 0x68); d32(&e, 0x2000);
		b(&e, 1, 0x68); d32(&e, 0xFFF0);
		b(&e, 1, 0x68); d32(&e, eflags3 | (1u << 17));
		b(&e, 1, 0x68); d32(&e, 0x1000);
		b(&e, 1, 0x68); d32(&e, 0);
		b(&e, 1, 0xCF);
		break;
	case M_REAL: {
		/* IVT image to 0, IDTR = the IVT, then 16-bit PM, PE off, jmp 0x1000:0. */
		b(&e, 3, 0x56, 0x57, 0x51); /* push esi, edi, ecx around the copy */
		mov_r32(&e, ESI, LOAD + IVT_OFF);
		mov_r32(&e, EDI, 0);
		mov_r32(&e, ECX, 256);
		b(&e, 2, 0xF3, 0xA5);
		b(&e, 3, 0x59, 0x5F, 0x5E);
		b(&e, 3, 0x0F, 0x01, 0x1D); d32(&e, LOAD + IVTR_OFF);
		b(&e, 1, 0xEA); d32(&e, RM16_OFF); d16(&e, SEL_CODE16);
		struct emit t = { img, RM16_OFF }; /* 16-bit protected mode, CS base = LOAD */
		b(&t, 3, 0xB8, SEL_DATA16, 0x00); /* mov ax, SEL_DATA16 */
		b(&t, 10, 0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0, 0x8E, 0xE0, 0x8E, 0xE8);
		b(&t, 3, 0x0F, 0x20, 0xC0); /* mov eax, cr0 */
		b(&t, 2, 0x24, 0xFE);       /* and al, ~PE */
		b(&t, 3, 0x0F, 0x22, 0xC0); /* mov cr0, eax */
		b(&t, 2, 0x66, 0xB8);       /* mov eax, random */
		d32(&t, interesting_value(&r));
		if (sti)
			b(&t, 1, 0xFB);
		b(&t, 5, 0xEA, 0x00, 0x00, 0x00, 0x10); /* jmp 0x1000:0 */
		break;
	}
	default:
		if (sti)
			b(&e, 1, 0xFB);
		b(&e, 1, 0x68); d32(&e, LOAD + RAND_OFF); /* push target; ret */
		b(&e, 1, 0xC3);
		break;
	}
	if (e.pos > GDT_OFF) {
		fprintf(stderr, "fuzz_guest: prefix overflows (%u bytes)\n", e.pos);
		exit(2);
	}
}

/* ---- Driver ---------------------------------------------------------------------------- */

/* True if the --stats line "turtles: N instructions in ..." shows N < limit (the run
 * was stopped by --timeout rather than by --max-insns). */
static bool retired_below(const char *err_path, uint64_t limit)
{
	FILE *f = fopen(err_path, "r");
	if (!f)
		return false;
	char line[1024];
	unsigned long long n;
	bool below = false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "turtles: %llu instructions in", &n) == 1)
			below = n < limit;
	fclose(f);
	return below;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s TURTLES [--count N] [--seed S] [--only I] [--max-insns N]\n"
		"          [--timeout SECONDS] [--jobs J] [--max-failures F] [--keep DIR]\n"
		"          [--long] [-v]\n",
		argv0);
	exit(2);
}

#define MAX_JOBS 16
/* Seconds a run may outlive its --timeout before the test kills it and fails. */
#define KILL_GRACE 30

/* What the driver keeps per running image. */
struct slot {
	long index;
	struct image_cfg cfg;
	char img_path[600], err_path[600];
};

struct totals {
	int failures, host_limited, histogram[256], by_mode[M_COUNT];
	double slowest;
};

/* Judge one finished run; prints and keeps the image if it failed. */
static void judge(const struct slot *sl, const struct run_result *res, const char *turtles,
		  const char *argv0, uint64_t seed, long max_insns, long timeout_s,
		  const char *level, const char *keep_dir, bool verbose, struct totals *t)
{
	if (res->seconds > t->slowest)
		t->slowest = res->seconds;
	const char *why = NULL;
	if (res->timed_out)
		why = "did not exit by itself (killed by the test's timer): neither "
		      "--max-insns nor --timeout stopped it";
	else if (!res->exited)
		why = "killed by a signal";
	else if (file_has_sanitizer_report(sl->err_path) || res->status == 66)
		why = "sanitizer report";
	else if (res->status == 2)
		why = "a valid image was refused (status 2)";
	else if (res->status == 10)
		why = "host failure (status 10)";
	else if (!documented_status(res->status))
		why = "undocumented exit status";
	if (res->exited)
		t->histogram[res->status & 0xFF]++;
	if (res->exited && res->status == 8 && retired_below(sl->err_path, (uint64_t)max_insns))
		t->host_limited++;
	if (verbose || why)
		printf("%s image %ld (%s%s, -m %u, --smp %d): %s %d in %.2f s%s%s\n",
		       why ? "FAIL:" : "ok:", sl->index, mode_names[sl->cfg.mode],
		       paging_names[sl->cfg.paging], sl->cfg.ram_mib,
		       sl->cfg.smp, res->exited ? "status" : "signal",
		       res->exited ? res->status : res->signal, res->seconds, why ? " - " : "",
		       why ? why : "");
	if (!why)
		return;
	t->failures++;
	print_head(sl->err_path, 30);
	char saved[700];
	snprintf(saved, sizeof(saved), "%s/crash-%016llx-%ld.elf", keep_dir,
		 (unsigned long long)seed, sl->index);
	if (rename(sl->img_path, saved) == 0)
		printf("  image saved as %s\n", saved);
	printf("  reproduce: %s run --kernel %s --deterministic --max-insns %ld "
	       "--timeout %ld -m %u --smp %d --level %s </dev/null\n"
	       "  or:        %s %s --seed 0x%llx --only %ld --level %s -v\n",
	       turtles, saved, max_insns, timeout_s, sl->cfg.ram_mib, sl->cfg.smp, level, argv0,
	       turtles, (unsigned long long)seed, sl->index, level);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage(argv[0]);
	const char *turtles = argv[1];
	uint64_t seed = 0x7475727446757A7AULL; /* fixed: the test must repeat exactly */
	long count = 300, only = -1, max_insns = 100000, timeout_s = 2, jobs = 2;
	int max_failures = 5;
	const char *keep = NULL, *level = "0";
	bool verbose = false;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--count") && v) count = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--seed") && v) seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "--only") && v) only = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--max-insns") && v) max_insns = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--timeout") && v) timeout_s = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--jobs") && v) jobs = strtol(v, NULL, 0), i++;
		else if (!strcmp(a, "--max-failures") && v) max_failures = atoi(v), i++;
		else if (!strcmp(a, "--keep") && v) keep = v, i++;
		else if (!strcmp(a, "--level") && v) level = v, i++;
		else if (!strcmp(a, "--long")) count = 5000;
		else if (!strcmp(a, "-v")) verbose = true;
		else usage(argv[0]);
	}
	if (count <= 0 || max_insns <= 0 || timeout_s <= 0 || jobs < 1 || jobs > MAX_JOBS ||
	    max_failures < 1)
		usage(argv[0]);
	if (access(turtles, X_OK)) {
		fprintf(stderr, "fuzz_guest: %s: not executable\n", turtles);
		return 2;
	}
	/* A sanitizer report must not pass for a guest exit status (ASan's default exit
	 * code 1 is odd): give reports a status no run may end with. */
	setenv("ASAN_OPTIONS", "exitcode=66:detect_leaks=1", 0);
	setenv("UBSAN_OPTIONS", "exitcode=66:print_stacktrace=1", 0);

	const char *dir = make_work_dir("fuzz-guest");
	static struct slot slots[MAX_JOBS];
	struct job running[MAX_JOBS] = { { 0 } };
	for (int j = 0; j < jobs; j++) {
		snprintf(slots[j].img_path, sizeof(slots[j].img_path), "%s/image%d.elf", dir, j);
		snprintf(slots[j].err_path, sizeof(slots[j].err_path), "%s/stderr%d", dir, j);
	}
	uint8_t *img = malloc(IMAGE_SIZE);
	if (!img)
		return 10;

	long first = only >= 0 ? only : 0, last = only >= 0 ? only + 1 : count, next = first;
	long started = 0;
	static struct totals t;
	double t0 = mono_s();
	for (;;) {
		/* Fill the free slots, then wait for one run to end. */
		for (int j = 0; j < jobs && next < last && t.failures < max_failures; j++) {
			if (running[j].pid)
				continue;
			struct slot *sl = &slots[j];
			sl->index = next++;
			started++;
			build_image(img, seed, (uint64_t)sl->index, &sl->cfg);
			t.by_mode[sl->cfg.mode]++;
			if (write_file(sl->img_path, img, IMAGE_SIZE)) {
				perror(sl->img_path);
				return 2;
			}
			char insns[32], tmo[32], ram[16], smp[16];
			snprintf(insns, sizeof(insns), "%ld", max_insns);
			snprintf(tmo, sizeof(tmo), "%ld", timeout_s);
			snprintf(ram, sizeof(ram), "%u", sl->cfg.ram_mib);
			snprintf(smp, sizeof(smp), "%d", sl->cfg.smp);
			char *args[] = { (char *)turtles, "run", "--kernel", sl->img_path,
					 "--deterministic", "--max-insns", insns, "--timeout", tmo,
					 "-m", ram, "--smp", smp, "--stats", "--level",
					 (char *)level, NULL };
			/* The guest's serial output goes nowhere: REP OUTSB can write
			 * gigabytes. */
			if (start_job(&running[j], args, NULL, sl->err_path)) {
				perror("fork");
				return 10;
			}
		}
		struct run_result res;
		int j = wait_job(running, (int)jobs, (double)timeout_s + KILL_GRACE, &res);
		if (j < 0)
			break;
		judge(&slots[j], &res, turtles, argv[0], seed, max_insns, timeout_s, level,
		      keep ? keep : dir, verbose, &t);
		if (t.failures >= max_failures && next < last) {
			printf("FAIL: stopping after %d failures\n", t.failures);
			next = last;
		}
	}
	printf("fuzz_guest: %ld images, seed 0x%llx, %ld jobs, %.1f s (slowest run %.2f s)\n",
	       started, (unsigned long long)seed, jobs, mono_s() - t0, t.slowest);
	printf("  modes:");
	for (int m = 0; m < M_COUNT; m++)
		printf(" %s=%d", mode_names[m], t.by_mode[m]);
	printf("\n  exit statuses:");
	for (int s = 0; s < 256; s++)
		if (t.histogram[s])
			printf(" %d:%d", s, t.histogram[s]);
	printf("\n  status 8 with fewer than %ld instructions retired (--timeout %ld, or halted "
	       "time): %d\n", max_insns, timeout_s, t.host_limited);
	printf("%s: %d failure(s)\n", t.failures ? "FAIL" : "PASS", t.failures);
	for (int j = 0; j < jobs; j++) {
		unlink(slots[j].img_path);
		unlink(slots[j].err_path);
	}
	if (!t.failures)
		rmdir(dir);
	free(img);
	return t.failures ? 1 : 0;
}
