/*
 * I/O instructions in VMX non-root operation (SDM 27.1.3 "IN, INS/INSB/INSW/INSD,
 * OUT, OUTS/OUTSB/OUTSW/OUTSD", 26.6.4 I/O bitmaps) and what their exits report
 * (SDM 29.2.1 Table 29-5; guest-linear address and instruction information for
 * INS/OUTS, SDM 29.2.x).
 *
 * With "use I/O bitmaps" = 0, "unconditional I/O exiting" decides. With it = 1 that
 * control is ignored: bitmap A covers ports 0000H-7FFFH, bitmap B 8000H-FFFFH, and the
 * instruction exits if the bit of any port it accesses is 1, or if the access wraps
 * past FFFFH. The TSS permission check (CPL > IOPL) comes first (SDM 27.1.1); an
 * INS/OUTS exit comes before its segment, canonical, alignment and page faults.
 */
#include "cpu/vmx/vmx_intercept.h"

#include "cpu/io.h"
#include "cpu/sys.h"

/* SDM 27.1.3, 26.6.4: an access exits if the bit of any port it touches is set in
 * I/O bitmap A (0000H-7FFFH) or B (8000H-FFFFH). */
static bool io_bitmap_says_exit(struct cpu *cpu, uint32_t port, int size)
{
	for (uint32_t p = port; p < port + (uint32_t)size; p++) {
		if (p > 0xFFFF)
			return true; /* wraps to port 0000H (SDM 27.1.3) */
		gpa_t byte = cpu->vmx.ctl.io_bitmap[p >> 15] + ((p & 0x7FFF) >> 3);
		if (bus_read(cpu->bus, byte, 1) & (1u << (p & 7)))
			return true;
	}
	return false;
}

/* SDM 27.1.3: "use I/O bitmaps" overrides "unconditional I/O exiting". */
static bool io_exits(struct cpu *cpu, uint16_t port, int size)
{
	uint32_t proc = cpu->vmx.ctl.proc;
	if (proc & PROC_USE_IO_BITMAPS)
		return io_bitmap_says_exit(cpu, port, size);
	return proc & PROC_UNCOND_IO_EXITING;
}

/* INS writes ES:rDI, OUTS reads seg:rSI (DS or the override). */
static void string_io_info(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	bool ins = in->op == OP_INS;
	int seg = ins ? SEG_ES : in->seg;
	uint64_t off = cpu->gpr[ins ? RDI : RSI] & size_mask(in->asz);
	x->guest_linear = vmx_operand_linear(cpu, seg, off);
	x->insn_info = VMX_INFO_ASZ(in->asz) | VMX_INFO_SEG(seg);
}

bool vmx_icept_io(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x)
{
	bool string = in->op == OP_INS || in->op == OP_OUTS;
	bool dx = string || (in->flags & INSN_DX);
	uint16_t port = dx ? (uint16_t)cpu->gpr[RDX] : (uint16_t)(in->imm & 0xFF);
	int osz = in->osz > 2 ? 2 : in->osz;
	int size = 1 << osz;
	io_check_permission(cpu, port, size); /* SDM 27.1.1: this #GP first */
	x->reason = EXIT_REASON_IO_INSTRUCTION;
	/* Table 29-5: size - 1 in 2:0, IN 3, string 4, REP 5, immediate 6, port 31:16. */
	x->qualification = (uint64_t)(size - 1) | (uint64_t)port << 16 |
			   (in->op == OP_IN || in->op == OP_INS ? IOQUAL_IN : 0) |
			   (string ? IOQUAL_STRING : 0) |
			   (string && (in->flags & (INSN_REP | INSN_REPNE)) ? IOQUAL_REP : 0) |
			   (dx ? 0 : IOQUAL_IMM_OPERAND);
	if (string)
		string_io_info(cpu, in, x);
	return io_exits(cpu, port, size);
}
