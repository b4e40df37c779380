/*
 * Software interrupts and BOUND (SDM Vol.2 INT n/INTO/INT3/INT1, BOUND). Delivery is
 * cpu_deliver_event() (idt.c), which pushes next_rip as the return address for these
 * event types and checks the gate DPL for INT n, INT3 and INTO (not INT1).
 */
#include "cpu/sys.h"

/* Virtual-8086 mode with IOPL < 3 would #GP(0) (no VME); the silicon never enters it. */
static void vm86_iopl_check(struct cpu *cpu)
{
	if (cpu->mode == MODE_VM86 && cpu_iopl(cpu) < 3)
		cpu_gp(cpu, 0);
}

void exec_INT(struct cpu *cpu, const struct insn *in)
{
	vm86_iopl_check(cpu);
	cpu_deliver_event(cpu, (int)(in->imm & 0xFF), EVENT_SW_INT, NO_ERROR_CODE);
}

void exec_INT3(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_deliver_event(cpu, EXC_BP, EVENT_SW_EXC, NO_ERROR_CODE);
}

void exec_INTO(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu_is_64(cpu))
		cpu_ud(cpu);
	if (cpu_get_rflags(cpu) & RFLAGS_OF)
		cpu_deliver_event(cpu, EXC_OF, EVENT_SW_EXC, NO_ERROR_CODE);
}

/* INT1 (ICEBP, F1): a #DB delivered as a privileged software exception: no gate DPL
 * check, EXT = 1 in error codes (SDM Vol.2 INT1; SDM 26.8.3 type 5). */
void exec_INT1(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_deliver_event(cpu, EXC_DB, EVENT_PRIV_SW_EXC, NO_ERROR_CODE);
}

/* BOUND r16/32, m16&16/m32&32: #BR (a fault) if the signed index is outside
 * [lower, upper]; #UD with a register operand or in 64-bit mode. */
void exec_BOUND(struct cpu *cpu, const struct insn *in)
{
	if (!(in->flags & INSN_MEM) || cpu_is_64(cpu))
		cpu_ud(cpu);
	uint64_t ea = insn_ea(cpu, in);
	int sz = 1 << in->osz;
	int64_t lo = (int64_t)sign_extend(mem_read(cpu, in->seg, ea, in->osz), in->osz);
	int64_t hi = (int64_t)sign_extend(
		mem_read(cpu, in->seg, (ea + (uint64_t)sz) & size_mask(in->asz), in->osz), in->osz);
	int64_t idx = (int64_t)sign_extend(opG_read(cpu, in), in->osz);
	if (idx < lo || idx > hi)
		cpu_exception(cpu, EXC_BR, NO_ERROR_CODE);
}
