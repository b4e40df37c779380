/*
 * alu - integer instruction results and flags (SDM Vol.2 instruction reference,
 * Vol.1 3.4.3 EFLAGS and Appendix A). Only flags the SDM defines are compared.
 * Split over alu_*.c by instruction group; alu_ref.c is the reference model.
 */
#include "alu.h"

int main(void)
{
	test_arith();
	test_shift();
	test_muldiv();
	test_bits();
	test_cond();
	test_misc();
	test_string();
	return 0;
}
