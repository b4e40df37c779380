/*
 * Single-step traps through the run loop (SDM 17.3.1.4, 6.8.3): MOV SS suppresses the
 * #DB trap at the boundary right after itself, and only there; the instruction after
 * it traps normally.
 */
#include "sys_harness.h"

#define HANDLER 0x5000ULL

int main(void)
{
	sys_init();
	mode_prot32(0);
	idt32_set(EXC_DB, mkgate(SEL_CODE32, HANDLER, 0xE, 0, true, 0));
	/* mov ss, ax; nop; nop */
	static const uint8_t code[] = { 0x8E, 0xD0, 0x90, 0x90 };
	memcpy(B.ram + CODE_BASE, code, sizeof(code));
	B.ram[HANDLER] = 0xF4; /* hlt */
	C->gpr[RAX] = SEL_DATA32;
	C->rip = CODE_BASE;
	cpu_set_rflags(C, RFLAGS_FIXED1 | RFLAGS_TF);
	/* Two instructions: MOV SS (no trap after it), then NOP (trap after it). */
	cpu_run(C, 2);
	CHECK_EQ(C->rip, HANDLER);
	CHECK_EQ(stk32(0), CODE_BASE + 3); /* the #DB's return EIP: after the first NOP */
	CHECK(C->dr[6] & BIT(14));          /* DR6.BS */
	return report("sys_step");
}
