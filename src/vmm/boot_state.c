/*
 * The BSP's register state at a kernel's entry point.
 *
 * Multiboot (spec 3.2): flat 32-bit protected mode, paging off, EAX = 0x2BADB002,
 * EBX = the information structure, IF = 0. BOOT_LONG64: the same registers in 64-bit
 * mode with the loader's identity map (SDM 10.8.5 lists the state long mode needs).
 */
#include "vmm/boot_state.h"

#include "cpu/exec.h"

#define AR_CODE32 (0xB | AR_S | AR_P | AR_DB | AR_G) /* execute/read, accessed */
#define AR_DATA32 (0x3 | AR_S | AR_P | AR_DB | AR_G) /* read/write, accessed */
#define AR_CODE64 (0xB | AR_S | AR_P | AR_L | AR_G)

static void flat(struct seg *s, uint16_t sel, uint32_t ar)
{
	*s = (struct seg){ .sel = sel, .ar = ar, .limit = 0xFFFFFFFF, .base = 0 };
}

void boot_state_apply(struct cpu *cpu, const struct boot_info *bi)
{
	bool long64 = bi->kind == BOOT_LONG64;
	for (int i = 0; i < SEG_COUNT; i++)
		flat(&cpu->seg[i], 0x10, AR_DATA32);
	flat(&cpu->seg[SEG_CS], long64 ? 0x18 : 0x08, long64 ? AR_CODE64 : AR_CODE32);
	cpu->gdtr = (struct dtr){ .base = bi->gdt, .limit = 4 * 8 - 1 };
	cpu->gpr[RAX] = 0x2BADB002;
	cpu->gpr[RBX] = bi->mbi;
	cpu->rip = bi->entry;
	cpu_set_rflags(cpu, RFLAGS_FIXED1);
	cpu->cr0 = CR0_PE | CR0_ET;
	if (long64) {
		cpu->cr3 = bi->cr3;
		cpu->cr4 = CR4_PAE;
		cpu->efer = EFER_LME | EFER_LMA;
		cpu->cr0 |= CR0_PG;
	}
	cpu_update_mode(cpu);
	tlb_flush_all(cpu);
}
