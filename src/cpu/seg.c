/*
 * Segment registers: descriptor reads, loads with the SDM's protection checks, and the
 * segment checks of data accesses (SDM Vol.3A ch.3 "Protected-Mode Memory Management"
 * and ch.5 "Protection"; SDM Vol.2 MOV, POP, LDS/LES/LFS/LGS/LSS).
 */
#include "cpu/seg.h"

#include <string.h>

#include "cpu/sys.h"

/* Linear addresses of system structures wrap at 4 GiB outside IA-32e mode (SDM 3.4.2). */
static inline gva_t sys_la(const struct cpu *cpu, gva_t la)
{
	return cpu_is_ia32e(cpu) ? la : (uint32_t)la;
}

/* Where sel's descriptor lives: the GDT, or the LDT when TI = 1 (SDM 3.4.2). Returns
 * false if the table cannot hold it. */
static bool desc_location(const struct cpu *cpu, uint16_t sel, int bytes, gva_t *la)
{
	uint64_t base;
	uint32_t limit;
	if (sel & 4) {
		if (cpu->ldtr.ar & AR_UNUSABLE)
			return false;
		base = cpu->ldtr.base;
		limit = cpu->ldtr.limit;
	} else {
		base = cpu->gdtr.base;
		limit = cpu->gdtr.limit;
	}
	uint32_t off = sel & 0xFFF8;
	if (off + (uint32_t)bytes - 1 > limit) /* SDM 3.5.1: index * 8 + 7 <= limit */
		return false;
	*la = sys_la(cpu, base + off);
	return true;
}

/* seg_read_descriptor(), inline in seg_fetch_desc (every far transfer, event delivery
 * and IRET reads descriptors through it). */
static inline __attribute__((always_inline)) bool read_desc(struct cpu *cpu, uint16_t sel,
							    uint64_t desc[2], bool wide)
{
	gva_t la;
	if (!desc_location(cpu, sel, wide ? 16 : 8, &la))
		return false;
	/* Implicit supervisor accesses (SDM 4.6.1); the whole descriptor in one TLB hit
	 * when it can be (lin_hit), else quadword by quadword. */
	const uint8_t *p = lin_hit(cpu, la, wide ? 16 : 8, ACC_READ | ACC_IMPLICIT);
	if (p) {
		memcpy(&desc[0], p, 8);
		desc[1] = 0;
		if (wide)
			memcpy(&desc[1], p + 8, 8);
		return true;
	}
	desc[0] = lin_read(cpu, la, 3, ACC_READ | ACC_IMPLICIT);
	desc[1] = wide ? lin_read(cpu, sys_la(cpu, la + 8), 3, ACC_READ | ACC_IMPLICIT) : 0;
	return true;
}

bool seg_read_descriptor(struct cpu *cpu, uint16_t sel, uint64_t desc[2], bool wide)
{
	return read_desc(cpu, sel, desc, wide);
}

bool seg_peek_desc(struct cpu *cpu, uint16_t sel, uint64_t *d)
{
	gva_t la;
	if (!desc_location(cpu, sel, 8, &la))
		return false;
	const uint8_t *p = lin_hit(cpu, la, 8, ACC_READ | ACC_IMPLICIT);
	if (!p)
		return false;
	memcpy(d, p, 8);
	return true;
}

void seg_fetch_desc(struct cpu *cpu, uint16_t sel, uint64_t d[2], bool wide, int vector,
		    uint32_t ext)
{
	if (unlikely(!read_desc(cpu, sel, d, wide)))
		cpu_exception(cpu, vector, sel_err(sel, ext));
}

void seg_from_descriptor(struct seg *s, uint16_t sel, const uint64_t desc[2])
{
	uint64_t d = desc[0];
	uint32_t limit = (uint32_t)((d & 0xFFFF) | ((d >> 32) & 0xF0000));
	s->sel = sel;
	s->base = ((d >> 16) & 0xFFFFFF) | ((d >> 32) & 0xFF000000);
	if (!desc_s(d))
		s->base |= (desc[1] & 0xFFFFFFFF) << 32; /* 16-byte system descriptor */
	s->limit = (d & BIT(55)) ? (limit << 12) | 0xFFF : limit; /* G, SDM 3.4.5 */
	s->ar = (uint32_t)(((d >> 40) & 0xFF) | (((d >> 52) & 0xF) << 12));
}

void seg_set_accessed(struct cpu *cpu, uint16_t sel, uint64_t d)
{
	gva_t la;
	if (!desc_s(d) || (desc_type(d) & 1) || !desc_location(cpu, sel, 8, &la))
		return;
	/* SDM 3.4.5.1: the processor sets the accessed bit (byte 5, bit 0). */
	lin_write(cpu, sys_la(cpu, la + 5), 0, ((d >> 40) & 0xFF) | 1,
		  ACC_WRITE | ACC_IMPLICIT);
}

void seg_make_null(struct seg *s, uint16_t sel, unsigned dpl)
{
	/* A null selector makes the register unusable (SDM 3.4.2, VMX AR bit 16); Intel
	 * clears the base of FS/GS too (SDM Vol.2 MOV, 64-bit mode). SS keeps DPL = CPL
	 * (SDM 26.4.1 note on SS.DPL). */
	s->sel = sel;
	s->base = 0;
	s->limit = 0;
	s->ar = AR_UNUSABLE | (dpl << AR_DPL_SHIFT);
}

void seg_load_real(struct cpu *cpu, int seg, uint16_t sel)
{
	struct seg *s = &cpu->seg[seg];
	s->sel = sel;
	s->base = (uint64_t)sel << 4;
	if (cpu->mode == MODE_VM86) {
		s->limit = 0xFFFF; /* SDM 20.2.1: fixed 64 KiB, DPL 3 */
		s->ar = 0xF3;
	} else if (s->ar & AR_UNUSABLE) {
		s->ar = 0x93; /* real mode has no unusable segments */
	}
}

/* SDM Vol.2 MOV "IF SS is loaded": checks for a non-null SS selector. */
static void check_ss_desc(struct cpu *cpu, uint16_t sel, const uint64_t d[2])
{
	unsigned cpl = cpu->cpl;
	if ((sel & 3) != cpl || !desc_writable_data(d[0]) || desc_dpl(d[0]) != cpl)
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_SS, sel_err(sel, 0));
}

/* SDM Vol.2 MOV "IF DS, ES, FS, or GS is loaded with non-NULL selector". */
static void check_data_desc(struct cpu *cpu, uint16_t sel, const uint64_t d[2])
{
	unsigned dpl = desc_dpl(d[0]);
	if (!desc_readable(d[0]))
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_conforming(d[0]) && ((sel & 3) > dpl || cpu->cpl > dpl))
		cpu_gp(cpu, sel_err(sel, 0));
	if (!desc_p(d[0]))
		cpu_exception(cpu, EXC_NP, sel_err(sel, 0));
}

void seg_load(struct cpu *cpu, int seg, uint16_t sel)
{
	if (!cpu_is_prot(cpu)) {
		seg_load_real(cpu, seg, sel);
		return;
	}
	if ((sel & 0xFFFC) == 0) {
		if (seg == SEG_SS) {
			/* Null SS: #GP(0), except in 64-bit mode at CPL < 3 with RPL = CPL. */
			if (!cpu_is_64(cpu) || cpu->cpl == 3 || (sel & 3) != cpu->cpl)
				cpu_gp(cpu, 0);
			seg_make_null(&cpu->seg[seg], sel, cpu->cpl);
		} else {
			seg_make_null(&cpu->seg[seg], sel, 0);
		}
		return;
	}
	uint64_t d[2];
	seg_fetch_desc(cpu, sel, d, false, EXC_GP, 0);
	if (seg == SEG_SS)
		check_ss_desc(cpu, sel, d);
	else
		check_data_desc(cpu, sel, d);
	seg_set_accessed(cpu, sel, d[0]);
	d[0] |= BIT(40);
	seg_from_descriptor(&cpu->seg[seg], sel, d);
}

void seg_load_cs(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl)
{
	uint64_t a[2] = { d[0] | BIT(40), 0 };
	seg_from_descriptor(&cpu->seg[SEG_CS], (uint16_t)((sel & 0xFFFC) | cpl), a);
	cpu_update_mode(cpu);
}

void seg_load_ss(struct cpu *cpu, uint16_t sel, const uint64_t d[2], unsigned cpl)
{
	uint64_t a[2] = { d[0] | BIT(40), 0 };
	seg_from_descriptor(&cpu->seg[SEG_SS], (uint16_t)((sel & 0xFFFC) | cpl), a);
	cpu_update_mode(cpu);
}

void seg_null_outer(struct cpu *cpu)
{
	static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
	for (unsigned i = 0; i < ARRAY_SIZE(segs); i++) {
		struct seg *s = &cpu->seg[segs[i]];
		unsigned dpl = (s->ar & AR_DPL_MASK) >> AR_DPL_SHIFT;
		bool conforming_code = (s->ar & 0xC) == 0xC;
		/* "IF segment register points to data or non-conforming code segment AND
		 * CPL > segment descriptor DPL THEN SegmentSelector := 0" (the base stays). */
		if (!(s->ar & AR_UNUSABLE) && !conforming_code && cpu->cpl > dpl) {
			s->sel = 0;
			s->ar |= AR_UNUSABLE;
		}
	}
}

bool code_desc_long_ok(const struct cpu *cpu, uint64_t d)
{
	/* SDM 5.2.1: in IA-32e mode L = 1 with D = 1 is reserved (#GP(selector)). */
	return !cpu_is_ia32e(cpu) || !(desc_l(d) && desc_db(d));
}

bool seg_access_ok(const struct seg *s, uint64_t off, int size, bool write)
{
	unsigned type = s->ar & AR_TYPE_MASK;
	uint64_t last = off + (uint64_t)size - 1;
	if (s->ar & AR_UNUSABLE)
		return false;
	if (type & 8) {
		if (write || !(type & 2)) /* code: never writable, readable if R */
			return false;
	} else if (write && !(type & 2)) {
		return false;
	}
	if (!(type & 8) && (type & 4)) {
		/* Expand-down: valid offsets are limit+1 .. 0xFFFF or 0xFFFFFFFF (SDM 3.4.5.1). */
		uint64_t upper = (s->ar & AR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
		return off > s->limit && last <= upper;
	}
	return last <= s->limit;
}

bool seg_check_access(struct cpu *cpu, int seg, uint64_t off, int size, bool write)
{
	const struct seg *s = &cpu->seg[seg];
	if (cpu->mode == MODE_LONG64)
		return true; /* SDM 3.2.4: no limit or type checks in 64-bit mode */
	if (!cpu_is_prot(cpu)) {
		/* Real and virtual-8086 mode: limit only (SDM 20.1.3). */
		if (off + (uint64_t)size - 1 <= s->limit)
			return true;
	} else if (likely(seg_access_ok(s, off, size, write))) {
		return true;
	}
	if (seg == SEG_SS)
		cpu_exception(cpu, EXC_SS, 0);
	cpu_gp(cpu, 0);
}

void seg_set_flat(struct seg *s, uint16_t sel, unsigned type, unsigned dpl, bool code64)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xFFFFFFFF;
	s->ar = type | AR_S | (dpl << AR_DPL_SHIFT) | AR_P | AR_G | (code64 ? AR_L : AR_DB);
}
