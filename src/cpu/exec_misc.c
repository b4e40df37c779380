/*
 * Miscellaneous system instructions (SDM Vol.2 under each name): UD NOP PAUSE, the
 * absent x87/SSE units, HLT, RDTSC RDTSCP RDPMC RDRAND RDSEED RDPID, INVD WBINVD,
 * CLFLUSH(OPT), fences, MONITOR/MWAIT, SWAPGS, RD/WR FS/GS BASE, XGETBV/XSETBV,
 * GETSEC, RSM. Feature checks follow CPUID (cpuid.h): what is not advertised is #UD.
 */
#include "cpu/cpuid.h"
#include "cpu/sys.h"
#include "cpu/vmx/vmx_intercept.h"

void exec_UD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_NOP(struct cpu *cpu, const struct insn *in)
{
	(void)cpu, (void)in;
}

void exec_PAUSE(struct cpu *cpu, const struct insn *in)
{
	(void)cpu, (void)in;
}

void exec_FENCE(struct cpu *cpu, const struct insn *in)
{
	(void)cpu, (void)in; /* one host thread, sequential consistency: nothing to order */
}

/*
 * x87 escape (D8-DF). No x87 FPU is present (CPUID.1:EDX.FPU = 0). SDM Vol.3A 2.5
 * Table 2-2: CR0.EM = 1 or CR0.TS = 1 raise #NM (EM = 1 is how software says "no
 * FPU, emulate it"). With EM = TS = 0 an FPU-less processor has nothing to run the
 * instruction: the silicon raises #UD (decision: a loud failure rather than the
 * undefined behaviour of an absent coprocessor).
 */
void exec_FPU(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_exception(cpu, EXC_NM, NO_ERROR_CODE);
	cpu_ud(cpu);
}

/* WAIT/FWAIT: #NM if CR0.MP and CR0.TS are both set (Table 2-2), else a no-op (there
 * are never pending x87 exceptions). */
void exec_FWAIT(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		cpu_exception(cpu, EXC_NM, NO_ERROR_CODE);
}

/*
 * SSE/MMX/XSAVE encodings. SDM Vol.3A 13.1.3 / Vol.2 Table 2-18: CR0.EM = 1 is #UD,
 * CR4.OSFXSR = 0 is #UD, CR0.TS = 1 is #NM. The silicon has no SSE, so OSFXSR can
 * never be set (MOV CR4 #GP) and the result is always #UD; the order is kept so that
 * the rule reads as the SDM's.
 */
void exec_SSE(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if ((cpu->cr0 & CR0_EM) || !(cpu->cr4 & CR4_OSFXSR))
		cpu_ud(cpu);
	if (cpu->cr0 & CR0_TS)
		cpu_exception(cpu, EXC_NM, NO_ERROR_CODE);
	cpu_ud(cpu);
}

void exec_HLT(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	cpu->halted = true; /* RIP moves past HLT; an event resumes after it */
	cpu->mwait = false;
}

/* --- time stamp counter ------------------------------------------------------ */

static void tsc_check(struct cpu *cpu)
{
	if ((cpu->cr4 & CR4_TSD) && cpu->cpl > 0 && cpu_is_prot(cpu))
		cpu_gp(cpu, 0); /* SDM Vol.2 RDTSC: CR4.TSD = 1 and CPL > 0 */
}

void exec_RDTSC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	tsc_check(cpu);
	uint64_t t = cpu_read_tsc(cpu);
	if (unlikely(cpu->vmx.non_root))
		t = vmx_guest_tsc(cpu, t); /* SDM 27.3 RDTSC: TSC offsetting */
	cpu->gpr[RAX] = (uint32_t)t;
	cpu->gpr[RDX] = t >> 32;
}

void exec_RDTSCP(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_RDTSCP))
		cpu_ud(cpu);
	exec_RDTSC(cpu, in);
	cpu->gpr[RCX] = (uint32_t)cpu->tsc_aux;
}

/* No performance counters (CPUID leaf 0AH = 0): every ECX is invalid, #GP(0). */
void exec_RDPMC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_gp(cpu, 0);
}

void exec_RDPID(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_RDPID))
		cpu_ud(cpu);
	if (unlikely(cpu->vmx.non_root) && !(vmx_proc2(cpu) & PROC2_ENABLE_RDTSCP))
		cpu_ud(cpu); /* SDM 27.3 RDPID: #UD unless "enable RDTSCP" */
	cpu->gpr[in->rm] = cpu_is_64(cpu) ? cpu->tsc_aux : (uint32_t)cpu->tsc_aux;
}

/* --- random numbers ------------------------------------------------------------ */

/* xorshift64*: deterministic per CPU under --deterministic (seeded by cpu_init). */
static uint64_t rng_next(struct cpu *cpu)
{
	uint64_t x = cpu->rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	cpu->rng_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* RDRAND r16/32/64: always succeeds: CF = 1, OF SF ZF AF PF = 0 (SDM Vol.2 RDRAND). */
void exec_RDRAND(struct cpu *cpu, const struct insn *in)
{
	if (!cpu_has_feature(cpu, FEAT_RDRAND) || (in->flags & INSN_MEM))
		cpu_ud(cpu);
	reg_write(cpu, in->rm, in->osz, false, rng_next(cpu));
	flags_set_arith(cpu, RFLAGS_CF);
}

void exec_RDSEED(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu); /* CPUID.7.EBX.RDSEED = 0 */
}

/* --- caches -------------------------------------------------------------------- */

void exec_INVD(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
}

void exec_WBINVD(struct cpu *cpu, const struct insn *in)
{
	exec_INVD(cpu, in);
}

/* CLFLUSH/CLFLUSHOPT m8: checked like a one-byte read (SDM Vol.2 CLFLUSH: "treated as
 * a byte load" for #GP/#SS/#PF), no cache to flush. */
void exec_CLFLUSH(struct cpu *cpu, const struct insn *in)
{
	int feat = (in->flags & INSN_OPSIZE) ? FEAT_CLFLUSHOPT : FEAT_CLFSH;
	if (!cpu_has_feature(cpu, feat) || !(in->flags & INSN_MEM))
		cpu_ud(cpu);
	mem_read(cpu, in->seg, insn_ea(cpu, in), 0);
}

/* MONITOR/MWAIT (SDM Vol.2 MONITOR, MWAIT; CPUID.01H:ECX.MONITOR[bit 3] = 1): #UD in
 * virtual-8086 mode and at CPL > 0 (the "#UD If current privilege level is not 0"
 * rows; no IA32_MISC_ENABLE ring-3 option here). */
static void monitor_mwait_check(struct cpu *cpu)
{
	if (!cpu_has_feature(cpu, FEAT_MONITOR) || cpu->cpl != 0 || cpu->mode == MODE_VM86)
		cpu_ud(cpu);
}

/* MONITOR: arms the monitor on the 64-byte line (CPUID.05H:EAX = EBX = 64) holding
 * the linear address DS:rAX (segment override allowed; RAX/EAX/AX by address size).
 * The address is checked as a byte load (#GP/#SS/#PF, SDM Vol.2 MONITOR "treated as
 * a read"); ECX != 0 (no extensions defined) is #GP(0); EDX hints are ignored.
 * Implementation: a snapshot of the line in RAM; a store that changes it triggers the
 * monitor (cpu_mwait_check). Limits: a store of the same bytes is not seen, and a line
 * outside RAM (MMIO) is not armed, so MWAIT on it returns at once (SDM: MWAIT may
 * return for implementation-specific events). */
void exec_MONITOR(struct cpu *cpu, const struct insn *in)
{
	monitor_mwait_check(cpu);
	if ((uint32_t)cpu->gpr[RCX] != 0)
		cpu_gp(cpu, 0); /* SDM Vol.2 MONITOR: #GP(0) "If ECX != 0" */
	uint64_t off = cpu->gpr[RAX] & size_mask(in->asz);
	mem_read(cpu, in->seg, off, 0);
	/* The linear address as the load formed it: in 64-bit mode only FS/GS bases. */
	gva_t la = (cpu->mode == MODE_LONG64 && in->seg < SEG_FS) ? off : off + cpu->seg[in->seg].base;
	if (cpu->mode != MODE_LONG64)
		la = (uint32_t)la;
	gpa_t gpa;
	uint32_t pfec;
	cpu->monitor_armed = false;
	if (!mmu_translate(cpu, la, ACC_READ, cpu->cpl, &gpa, &pfec))
		return; /* not reached: the load above took the fault */
	gpa &= ~(gpa_t)(CPU_MONITOR_LINE - 1);
	const uint8_t *p = bus_ram_ptr(cpu->bus, gpa);
	if (!p)
		return;
	memcpy(cpu->monitor_line, p, CPU_MONITOR_LINE);
	cpu->monitor_pa = gpa;
	cpu->monitor_armed = true;
}

/* The armed line differs from MONITOR's snapshot: a store triggered the monitor. */
static bool monitor_triggered(struct cpu *cpu)
{
	const uint8_t *p = bus_ram_ptr(cpu->bus, cpu->monitor_pa);
	return !p || memcmp(p, cpu->monitor_line, CPU_MONITOR_LINE) != 0;
}

/* MWAIT: ECX[0] = treat interrupts as break events even if masked (CPUID.05H:ECX[1]
 * = 1); other ECX bits are reserved: #GP(0). EAX hints (target C-state) are accepted
 * and ignored: every wait is the same C1-like state. Not armed, or triggered since
 * MONITOR: a no-op. Otherwise the CPU waits as in HLT (halted, RIP past MWAIT) and
 * wakes on a store to the line, NMI, INIT, SMI, an unmasked interrupt, or with ECX[0]
 * an interrupt even with IF = 0 (taken only once IF = 1). The wait consumes the
 * arming: MONITOR must arm again before the next MWAIT waits. */
void exec_MWAIT(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	monitor_mwait_check(cpu);
	uint32_t ecx = (uint32_t)cpu->gpr[RCX];
	if (ecx & ~1u)
		cpu_gp(cpu, 0);
	if (!cpu->monitor_armed)
		return;
	cpu->monitor_armed = false;
	if (monitor_triggered(cpu))
		return;
	cpu->mwait_intr_break = ecx & 1;
	cpu->mwait = true;
	cpu->halted = true;
}

/* Called by the run loop for a CPU halted by MWAIT: wakes it (RIP is already past
 * MWAIT) if the line changed, or on a pending interrupt with ECX[0] = 1 even while
 * IF = 0 (SDM Vol.2 MWAIT "Interrupts as break events"); the interrupt itself waits
 * for IF = 1. Other break events clear halted through cpu_handle_events. */
bool cpu_mwait_check(struct cpu *cpu)
{
	if (!monitor_triggered(cpu) && !(cpu->mwait_intr_break && (cpu->events & CPU_EV_INTR)))
		return false;
	cpu->mwait = false;
	cpu->halted = false;
	return true;
}

/* --- 64-bit segment bases ------------------------------------------------------- */

/* SWAPGS: 64-bit mode only (#UD elsewhere), CPL 0 (SDM Vol.2 SWAPGS). */
void exec_SWAPGS(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	if (!cpu_is_64(cpu))
		cpu_ud(cpu);
	if (cpu->cpl != 0)
		cpu_gp(cpu, 0);
	uint64_t t = cpu->seg[SEG_GS].base;
	cpu->seg[SEG_GS].base = cpu->kernel_gs_base;
	cpu->kernel_gs_base = t;
}

/* RD/WR FS/GS BASE: #UD outside 64-bit mode or with CR4.FSGSBASE = 0; 32-bit forms
 * read the low half and write a zero-extended base; a non-canonical 64-bit base #GP. */
static struct seg *fsgs(struct cpu *cpu, int seg)
{
	if (!cpu_is_64(cpu) || !(cpu->cr4 & CR4_FSGSBASE) || !cpu_has_feature(cpu, FEAT_FSGSBASE))
		cpu_ud(cpu);
	return &cpu->seg[seg];
}

static void rd_base(struct cpu *cpu, const struct insn *in, int seg)
{
	uint64_t b = fsgs(cpu, seg)->base;
	cpu->gpr[in->rm] = in->osz == 3 ? b : (uint32_t)b;
}

static void wr_base(struct cpu *cpu, const struct insn *in, int seg)
{
	struct seg *s = fsgs(cpu, seg);
	uint64_t b = in->osz == 3 ? cpu->gpr[in->rm] : (uint32_t)cpu->gpr[in->rm];
	if (!is_canonical(b))
		cpu_gp(cpu, 0);
	s->base = b;
}

void exec_RDFSBASE(struct cpu *cpu, const struct insn *in) { rd_base(cpu, in, SEG_FS); }
void exec_RDGSBASE(struct cpu *cpu, const struct insn *in) { rd_base(cpu, in, SEG_GS); }
void exec_WRFSBASE(struct cpu *cpu, const struct insn *in) { wr_base(cpu, in, SEG_FS); }
void exec_WRGSBASE(struct cpu *cpu, const struct insn *in) { wr_base(cpu, in, SEG_GS); }

/* --- absent features ------------------------------------------------------------- */

/* XGETBV/XSETBV: #UD because CPUID.1:ECX.XSAVE = 0 (CR4.OSXSAVE cannot be set). */
void exec_XGETBV(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_XSETBV(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

/* GETSEC: #UD with CR4.SMXE = 0 (SMX is not present). RSM: #UD outside SMM. */
void exec_GETSEC(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}

void exec_RSM(struct cpu *cpu, const struct insn *in)
{
	(void)in;
	cpu_ud(cpu);
}
