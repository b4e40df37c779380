/*
 * Port I/O: the protection check (SDM Vol.1 19.5 "Protected-Mode I/O": IOPL, then the
 * I/O permission bit map of the TSS, 19.5.2) and IN/OUT (SDM Vol.2 IN, OUT).
 * INS/OUTS (exec_string.c) use io_in/io_out too.
 */
#include "cpu/io.h"

#include "cpu/debug.h"
#include "cpu/sys.h"

/* SDM 19.5.2: the bit map starts at the 16-bit offset at TSS+66H; every bit for the
 * size bytes of the access must be clear, and the bytes holding them must lie within
 * the TSS limit, else #GP(0). A 16-bit TSS has no bit map. */
static bool bitmap_allows(struct cpu *cpu, uint16_t port, int size)
{
	const struct seg *tr = &cpu->tr;
	unsigned type = tr->ar & AR_TYPE_MASK;
	if ((tr->ar & AR_UNUSABLE) || (type != SYS_TSS_AVAIL && type != SYS_TSS_BUSY) ||
	    tr->limit < 0x67)
		return false;
	gva_t base = tr->base;
	if (!cpu_is_ia32e(cpu))
		base = (uint32_t)base;
	uint32_t map = (uint32_t)lin_read(cpu, base + 0x66, 1, ACC_READ | ACC_IMPLICIT);
	uint32_t off = map + (port >> 3);
	if (off + 1 > tr->limit) /* the two bytes read must be inside the TSS */
		return false;
	uint32_t bits = (uint32_t)lin_read(cpu, base + off, 1, ACC_READ | ACC_IMPLICIT);
	uint32_t want = ((1u << size) - 1) << (port & 7);
	return (bits & want) == 0;
}

void io_check_permission(struct cpu *cpu, uint16_t port, int size)
{
	/* Real mode: always allowed. Protected mode: CPL <= IOPL, else the bit map;
	 * virtual-8086 mode: always the bit map (SDM 19.5). */
	if (cpu->mode == MODE_REAL)
		return;
	if (cpu->mode != MODE_VM86 && cpu->cpl <= cpu_iopl(cpu))
		return;
	if (!bitmap_allows(cpu, port, size))
		cpu_gp(cpu, 0);
}

uint32_t io_in(struct cpu *cpu, uint16_t port, int size)
{
	io_check_permission(cpu, port, size);
	/* I/O breakpoints (SDM 18.3.1.2): noted now, reported by a #DB trap after the
	 * instruction; before the access, so that it stays a tail call. */
	if (unlikely(cpu->dbg.armed & DBG_IO))
		debug_io(cpu, port, size);
	return bus_in(cpu->bus, port, size);
}

void io_out(struct cpu *cpu, uint16_t port, int size, uint32_t value)
{
	io_check_permission(cpu, port, size);
	if (unlikely(cpu->dbg.armed & DBG_IO))
		debug_io(cpu, port, size);
	bus_out(cpu->bus, port, size, value);
}

static uint16_t io_port(const struct cpu *cpu, const struct insn *in)
{
	return (in->flags & INSN_DX) ? (uint16_t)cpu->gpr[RDX] : (uint16_t)(in->imm & 0xFF);
}

/* IN AL/AX/EAX: a 32-bit result zero-extends into RAX (SDM Vol.1 3.4.1.1). */
void exec_IN(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz > 2 ? 2 : in->osz;
	uint32_t v = io_in(cpu, io_port(cpu, in), 1 << osz);
	reg_write(cpu, RAX, osz, false, v);
}

void exec_OUT(struct cpu *cpu, const struct insn *in)
{
	int osz = in->osz > 2 ? 2 : in->osz;
	io_out(cpu, io_port(cpu, in), 1 << osz, (uint32_t)(cpu->gpr[RAX] & size_mask(osz)));
}
