/*
 * The software TLB (owned by mmu/tlb.c). Placeholder layout: the MMU engineer replaces
 * the body of struct tlb with the real design.
 */
#ifndef TURTLES_CPU_TLB_H
#define TURTLES_CPU_TLB_H

#include "cpu/types.h"

struct tlb {
	uint32_t placeholder;
};

#endif
