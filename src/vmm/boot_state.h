#ifndef TURTLES_VMM_BOOT_STATE_H
#define TURTLES_VMM_BOOT_STATE_H

#include "cpu/cpu.h"
#include "vmm/loader.h"

/* Put the BSP in the state the boot protocol of bi promises at the entry point. */
void boot_state_apply(struct cpu *cpu, const struct boot_info *bi);

#endif
