/*
 * Instruction VM exits in VMX non-root operation (SDM 27.1) and the changed behaviour
 * of instructions that do not exit (SDM 27.3), private to the silicon.
 *
 *   vmx_intercept.c     dispatch by intercept class; the simple classes (CPUID, HLT,
 *                       INVD, INVLPG/INVPCID, RDPMC, RDTSC(P), RDRAND/RDSEED, MONITOR,
 *                       MWAIT, PAUSE, WBINVD, XSETBV, GETSEC, the VMX instructions)
 *   vmx_intercept_cr.c  MOV CR, CLTS, LMSW, MOV DR exits; CR0/CR4 shadows; TPR shadow
 *   vmx_intercept_io.c  IN/OUT/INS/OUTS and the I/O bitmaps
 *   vmx_intercept_msr.c RDMSR/WRMSR and the MSR bitmaps; TSC offsetting
 *   vmx_intercept_dtr.c descriptor-table exits
 *   vmx_insn_info.c     the VM-exit instruction-information field and the
 *                       displacement qualification (SDM 29.2.x)
 *
 * The class checks decide; they never take the exit themselves, so that the decision
 * can be tested on its own. A check raises, through cpu_exception(), the faults that
 * have priority over the exit (SDM 27.1.1: #UD, privilege-based faults, #GP from the
 * TSS I/O permission bit map, and faults fetching an operand the exit depends on).
 */
#ifndef TURTLES_CPU_VMX_VMX_INTERCEPT_H
#define TURTLES_CPU_VMX_VMX_INTERCEPT_H

#include "cpu/vmx/vmx_internal.h"

/* The decision for one class: true (with *x filled: reason, qualification,
 * instruction information, guest-linear address) if the instruction exits. x arrives
 * zeroed with insn_len set. */
typedef bool (*vmx_intercept_fn)(struct cpu *cpu, const struct insn *in,
				 struct vmx_exit_info *x);

/* The whole decision for a decoded instruction in non-root operation. */
bool vmx_insn_exits(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);

/* Class checks by file. */
bool vmx_icept_cr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_dr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_io(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_rdmsr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_wrmsr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_dtr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);
bool vmx_icept_ldtr_tr(struct cpu *cpu, const struct insn *in, struct vmx_exit_info *x);

/* The secondary controls in force: all 0 unless "activate secondary controls" is 1
 * (SDM 26.6.2). */
static inline uint32_t vmx_proc2(const struct cpu *cpu)
{
	return (cpu->vmx.ctl.proc & PROC_SECONDARY_CONTROLS) ? cpu->vmx.ctl.proc2 : 0;
}

/* --- instruction information (vmx_insn_info.c, SDM 29.2.x) -------------------------- */

/* The memory-operand fields shared by every layout that has them: scaling 1:0,
 * address size 9:7, segment 17:15, index 21:18 / invalid 22, base 26:23 / invalid 27;
 * for a register operand bit 10 = 1 and Reg1 in 6:3. */
uint32_t vmx_info_operand(const struct insn *in);
/* The exit qualification of the instructions with a memory operand (SDM 29.2.1):
 * the displacement sign-extended to 64 bits, plus the next RIP when RIP-relative;
 * 0 for a register operand. */
uint64_t vmx_info_displacement(const struct cpu *cpu, const struct insn *in);
/* The linear address of seg:offset as the exit reports it (INVLPG qualification, LMSW
 * and INS/OUTS guest-linear address): in 64-bit mode only FS and GS have a base,
 * elsewhere bits 63:32 are 0 (SDM 29.2.1, 29.2.x "guest-linear address"). */
uint64_t vmx_operand_linear(const struct cpu *cpu, int seg, uint64_t offset);
/* Bit fields of the layouts. */
#define VMX_INFO_REG1(r) ((uint32_t)(r) << 3)
#define VMX_INFO_ASZ(asz) ((uint32_t)((asz) - 1) << 7)
#define VMX_INFO_REGFORM BIT(10)
#define VMX_INFO_OSZ32 BIT(11)            /* LGDT/LIDT/SGDT/SIDT: 32-bit operand */
#define VMX_INFO_SEG(s) ((uint32_t)(s) << 15)
#define VMX_INFO_INDEX(r) ((uint32_t)(r) << 18)
#define VMX_INFO_NO_INDEX BIT(22)
#define VMX_INFO_BASE(r) ((uint32_t)(r) << 23)
#define VMX_INFO_NO_BASE BIT(27)
#define VMX_INFO_IDENTITY(i) ((uint32_t)(i) << 28) /* descriptor-table exits */
#define VMX_INFO_REG2(r) ((uint32_t)(r) << 28)     /* VMREAD/VMWRITE, INVEPT/INVPCID/INVVPID */
#define VMX_INFO_RDRAND_OSZ(osz) ((uint32_t)((osz) - 1) << 11)

/* --- SDM 27.3 hooks in the ordinary handlers (only called in non-root operation) --- */

/* MOV from CR0/CR4 and SMSW: bits set in the guest/host mask come from the read
 * shadow; MOV from CR8 with "use TPR shadow": VTPR[7:4]. Other CRs: value as is. */
uint64_t vmx_cr_guest_read(struct cpu *cpu, unsigned cr, uint64_t value);
/* MOV to CR0/CR4 and LMSW that do not exit: the bits set in the mask keep their
 * current value. Returns the value to load (the VMX fixed bits are checked by
 * cpu_write_cr0/4). */
uint64_t vmx_cr_guest_write(struct cpu *cpu, unsigned cr, uint64_t value);
/* CLTS that does not exit: true if CR0.TS is owned by the VMM (left unchanged). */
bool vmx_clts_keeps_ts(const struct cpu *cpu);
/* MOV to CR8 with "use TPR shadow": writes the virtual TPR and returns true. */
bool vmx_cr8_write(struct cpu *cpu, uint64_t value);
/* After a MOV to CR8 that wrote the virtual TPR: the "TPR below threshold" trap
 * (SDM 31.1.2) as a VM exit after the instruction. */
void vmx_tpr_threshold_check(struct cpu *cpu);
/* RDTSC, RDTSCP, RDMSR(IA32_TSC): the TSC as the guest reads it (SDM 27.3, 26.6.5). */
uint64_t vmx_guest_tsc(const struct cpu *cpu, uint64_t tsc);

#endif
