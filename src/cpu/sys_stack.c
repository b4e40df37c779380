/*
 * Stack frames of far transfers and event delivery, and the TSS stack pointers.
 *
 * CALL far, RET far, IRET, call gates and interrupt delivery push and pop several
 * items, possibly on a new stack. The SDM requires the instruction to fault with the
 * registers unchanged (SDM Vol.2 CALL "Operation", SDM 6.12.1), so a struct stk
 * carries the running stack pointer and the checks of the stack it describes, and the
 * caller commits RSP at the end.
 */
#include "cpu/sys.h"

void stk_current(struct cpu *cpu, struct stk *s)
{
	s->ss = cpu->seg[SEG_SS];
	s->rsp = cpu->gpr[RSP];
	s->lm64 = cpu_is_64(cpu);
	s->mask = s->lm64 ? ~0ULL : (s->ss.ar & AR_DB) ? 0xFFFFFFFFULL : 0xFFFFULL;
	s->vector = EXC_SS;
	s->err = 0;
	s->acc = 0;
}

static int log2_bytes(int bytes)
{
	return bytes == 8 ? 3 : bytes == 4 ? 2 : bytes == 2 ? 1 : 0;
}

/* Linear address of [off, off+bytes) on stack s, or the stack fault (SDM 6.12.1:
 * #SS for a stack limit violation, #SS for a non-canonical stack address). */
static gva_t stk_address(struct cpu *cpu, const struct stk *s, uint64_t off, int bytes,
			 bool write)
{
	if (s->lm64) {
		if (!is_canonical(off) || !is_canonical(off + (uint64_t)bytes - 1))
			cpu_exception(cpu, s->vector, s->err);
		return off;
	}
	if (cpu_is_prot(cpu) || cpu_is_ia32e(cpu)) {
		if (!seg_access_ok(&s->ss, off, bytes, write))
			cpu_exception(cpu, s->vector, s->err);
	} else if (off + (uint64_t)bytes - 1 > s->ss.limit) {
		cpu_exception(cpu, s->vector, s->err); /* real mode: limit only */
	}
	return (uint32_t)(s->ss.base + off);
}

void stk_push(struct cpu *cpu, struct stk *s, int bytes, uint64_t v)
{
	uint64_t off = (s->rsp - (uint64_t)bytes) & s->mask;
	/* 64-bit stack: the linear address is the offset; a TLB hit implies it is
	 * canonical, so neither #SS nor a fault of lin_write is possible (lin_hit). */
	uint8_t *p = s->lm64 ? lin_hit(cpu, off, bytes, ACC_WRITE | s->acc) : NULL;
	if (p) {
		mem_host_store(p, log2_bytes(bytes), v);
		s->rsp = off;
		return;
	}
	gva_t la = stk_address(cpu, s, off, bytes, true);
	lin_write(cpu, la, log2_bytes(bytes), v, ACC_WRITE | s->acc);
	s->rsp = (s->rsp & ~s->mask) | off;
}

void stk_push_frame(struct cpu *cpu, struct stk *s, int n, const uint64_t v[])
{
	/* The whole frame in one TLB hit: no push can fault, so one copy does what the
	 * n pushes would (v[0] at the highest address). Otherwise push one by one, so
	 * that a fault reports the first item that cannot be written. */
	uint64_t low = s->rsp - 8 * (uint64_t)n;
	uint8_t *p = s->lm64 ? lin_hit(cpu, low, 8 * n, ACC_WRITE | s->acc) : NULL;
	if (p) {
		for (int i = 0; i < n; i++)
			memcpy(p + 8 * (n - 1 - i), &v[i], 8);
		s->rsp = low;
		return;
	}
	for (int i = 0; i < n; i++)
		stk_push(cpu, s, 8, v[i]);
}

bool stk_peek(struct cpu *cpu, const struct stk *s, uint64_t off, int bytes, int n,
	      uint64_t v[])
{
	if (!s->lm64)
		return false;
	const uint8_t *p = lin_hit(cpu, s->rsp + off, bytes * n, ACC_READ | s->acc);
	if (!p)
		return false;
	if (bytes == 8) {
		for (int i = 0; i < n; i++) /* the host is little-endian like the guest */
			memcpy(&v[i], p + 8 * i, 8);
		return true;
	}
	for (int i = 0; i < n; i++)
		v[i] = mem_host_load(p + bytes * i, log2_bytes(bytes));
	return true;
}

uint64_t stk_read(struct cpu *cpu, const struct stk *s, uint64_t off, int bytes)
{
	uint64_t a = (s->rsp + off) & s->mask;
	gva_t la = stk_address(cpu, s, a, bytes, false);
	return lin_read(cpu, la, log2_bytes(bytes), ACC_READ | s->acc);
}

void stk_commit(struct cpu *cpu, const struct stk *s)
{
	cpu->gpr[RSP] = s->rsp;
}

/* --- TSS --------------------------------------------------------------------- */

static uint64_t tss_read(struct cpu *cpu, uint32_t off, int osz)
{
	gva_t la = cpu->tr.base + off;
	if (!cpu_is_ia32e(cpu))
		la = (uint32_t)la;
	return lin_read(cpu, la, osz, ACC_READ | ACC_IMPLICIT);
}

void tss_legacy_stack(struct cpu *cpu, unsigned dpl, uint16_t *ss, uint32_t *sp,
		      uint32_t ext)
{
	unsigned type = cpu->tr.ar & AR_TYPE_MASK;
	uint32_t err = sel_err(cpu->tr.sel, ext);
	if (cpu->tr.ar & AR_UNUSABLE)
		cpu_exception(cpu, EXC_TS, err);
	if (type == SYS_TSS_AVAIL || type == SYS_TSS_BUSY) {
		/* 32-bit TSS: ESPn at 4 + 8n, SSn at 8 + 8n (SDM Figure 8-2). */
		uint32_t off = (dpl << 3) + 4;
		if (off + 5 > cpu->tr.limit)
			cpu_exception(cpu, EXC_TS, err);
		*sp = (uint32_t)tss_read(cpu, off, 2);
		*ss = (uint16_t)tss_read(cpu, off + 4, 1);
	} else {
		/* 16-bit TSS: SPn at 2 + 4n, SSn at 4 + 4n (SDM Figure 8-11). */
		uint32_t off = (dpl << 2) + 2;
		if (off + 3 > cpu->tr.limit)
			cpu_exception(cpu, EXC_TS, err);
		*sp = (uint16_t)tss_read(cpu, off, 1);
		*ss = (uint16_t)tss_read(cpu, off + 2, 1);
	}
}

uint64_t tss64_stack(struct cpu *cpu, unsigned dpl, unsigned ist, uint32_t ext)
{
	/* 64-bit TSS: RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1) (SDM Figure 8-11). */
	uint32_t off = ist ? 0x24 + (ist - 1) * 8 : 4 + dpl * 8;
	if ((cpu->tr.ar & AR_UNUSABLE) || off + 7 > cpu->tr.limit)
		cpu_exception(cpu, EXC_TS, sel_err(cpu->tr.sel, ext));
	return tss_read(cpu, off, 3);
}
