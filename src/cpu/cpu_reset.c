/*
 * Power-on, RESET and INIT state (SDM Vol.3A 10.1.1, Table 10-1), the operating mode,
 * the device-side event lines, and the register dump.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpu/cpuid.h"
#include "cpu/debug.h"
#include "cpu/sys.h"

#define PAT_DEFAULT 0x0007040600070406ULL /* SDM 13.12.4, Table 13-12: WB WT UC- UC */
#define MTRRCAP_DEFAULT (8 | BIT(8) | BIT(10)) /* 8 variable ranges, fixed, WC */
#define APIC_BASE_DEFAULT (0xFEE00000ULL | BIT(11)) /* xAPIC enabled (SDM 11.4.4) */
#define APIC_BASE_BSP BIT(8)
/* IA32_MISC_ENABLE: fast strings on; BTS and PEBS unavailable (SDM Vol.4 Table 2-2). */
#define MISC_ENABLE_DEFAULT (BIT(0) | BIT(11) | BIT(12))

static void seg_reset(struct seg *s, uint16_t sel, uint64_t base, uint32_t ar)
{
	s->sel = sel;
	s->base = base;
	s->limit = 0xFFFF;
	s->ar = ar;
}

/* What RESET and INIT both do (Table 10-1). */
static void reset_common(struct cpu *cpu)
{
	memset(cpu->gpr, 0, sizeof(cpu->gpr));
	cpu->gpr[RDX] = CPUID_SIGNATURE; /* EDX: family, model, stepping */
	cpu->rip = cpu->next_rip = 0xFFF0;
	cpu->lf.op = 0;
	cpu->rflags = RFLAGS_FIXED1;
	/* CS F000H, base FFFF0000H, limit FFFFH, present R/W accessed; others 0. */
	seg_reset(&cpu->seg[SEG_CS], 0xF000, 0xFFFF0000ULL, 0x9B);
	for (int i = 0; i < SEG_COUNT; i++)
		if (i != SEG_CS)
			seg_reset(&cpu->seg[i], 0, 0, 0x93);
	cpu->gdtr = (struct dtr){ 0, 0xFFFF };
	cpu->idtr = (struct dtr){ 0, 0xFFFF };
	seg_reset(&cpu->ldtr, 0, 0, 0x82);  /* present, LDT */
	seg_reset(&cpu->tr, 0, 0, 0x8B);    /* present, 32-bit busy TSS */
	cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
	cpu->xcr0 = 1;
	memset(cpu->dr, 0, sizeof(cpu->dr));
	cpu->dr[6] = 0xFFFF0FF0;
	cpu->dr[7] = 0x400;
	debug_reset(cpu); /* no breakpoint armed, no #DB trap pending */
	cpu->efer = 0;
	cpu->halted = false;
	cpu->mwait = false;
	cpu->monitor_armed = false; /* INIT/RESET disarm the monitor */
	cpu->wait_for_sipi = !cpu->bsp; /* APs wait for SIPI (SDM 10.4.1) */
	cpu->shutdown = false;
	cpu->intr_shadow = 0;
	cpu->intr_shadow_kind = 0;
	cpu->nmi_blocked = false;
	cpu->tf_no_trap = false;
	cpu->delivering = -1;
	cpu->exc_vector = 0;
	cpu->exc_error = NO_ERROR_CODE;
	cpu_update_mode(cpu);
	if (cpu->tlb.ent) /* tlb_init() runs after cpu_init() (vmm/machine.c) */
		tlb_flush_all(cpu);
}

void cpu_reset(struct cpu *cpu)
{
	cpu->cr0 = CR0_CD | CR0_NW | CR0_ET;
	cpu->events = 0;
	reset_common(cpu);
	cpu->star = cpu->lstar = cpu->cstar = cpu->sfmask = 0;
	cpu->kernel_gs_base = cpu->tsc_aux = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	cpu->pat = PAT_DEFAULT;
	cpu->apic_base = APIC_BASE_DEFAULT | (cpu->bsp ? APIC_BASE_BSP : 0);
	cpu->misc_enable = MISC_ENABLE_DEFAULT;
	cpu->feature_control = 0;
	/* RESET leaves VMX operation that software entered with VMXON (there is no VMXON
	 * region or current VMCS after power-up, SDM 25.7, 32.3 VMPTRST); L0's native VMX
	 * operation belongs to the hypervisor's vCPU, not to the guest's reset. */
	if (cpu->vmx.host != VMX_HOST_NATIVE) {
		cpu->vmx.host = VMX_HOST_NONE;
		cpu->vmx.non_root = false;
		cpu->vmx.vmxon_ptr = 0;
		cpu->vmx.current = NULL;
		cpu->vmx.current_ptr = VMX_NO_VMCS;
	}
	cpu->spec_ctrl = 0;
	cpu->debugctl = 0;
	cpu->mtrr_cap = MTRRCAP_DEFAULT;
	cpu->mtrr_def_type = 0;
	memset(cpu->mtrr_fixed, 0, sizeof(cpu->mtrr_fixed));
	memset(cpu->mtrr_var, 0, sizeof(cpu->mtrr_var));
	/* The TSC restarts from 0 at RESET (Table 10-1 note; SDM 18.17). */
	cpu->tsc_offset = 0;
	cpu->tsc_offset = -cpu_read_tsc(cpu);
	if (cpu->apic_ops && cpu->apic_ops->base_changed)
		cpu->apic_ops->base_changed(cpu->apic, cpu->apic_base);
}

void cpu_do_init(struct cpu *cpu)
{
	/* INIT keeps CR0.CD/NW, the MSRs (but EFER), MTRRs, PAT and the TSC; the rest is
	 * as after RESET (Table 10-1). */
	cpu->cr0 = (cpu->cr0 & (CR0_CD | CR0_NW)) | CR0_ET;
	reset_common(cpu);
}

void cpu_init(struct cpu *cpu, int id, struct bus *bus, struct clock *clock,
	      struct dcache *dcache)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->id = id;
	cpu->bsp = id == 0;
	cpu->nr_cpus = 1;
	cpu->bus = bus;
	cpu->clock = clock;
	cpu->dcache = dcache;
	/* RDRAND: a fixed seed per CPU under --deterministic, else from host time. */
	uint64_t seed = clock->deterministic ? 0x7475727465737321ULL : clock_host_ns();
	cpu->rng_state = (seed ^ ((uint64_t)(id + 1) * 0x9E3779B97F4A7C15ULL)) | 1;
	cpu_reset(cpu);
}

void cpu_update_mode(struct cpu *cpu)
{
	uint32_t cs = cpu->seg[SEG_CS].ar;
	if (!(cpu->cr0 & CR0_PE)) {
		cpu->mode = MODE_REAL;
		cpu->cpl = 0;
		return;
	}
	if (cpu->rflags & RFLAGS_VM) {
		cpu->mode = MODE_VM86;
		cpu->cpl = 3;
		return;
	}
	if (cpu->efer & EFER_LMA) /* SDM 2.2: IA-32e, CS.L selects 64-bit mode */
		cpu->mode = (cs & AR_L) ? MODE_LONG64 : (cs & AR_DB) ? MODE_COMPAT32 : MODE_COMPAT16;
	else
		cpu->mode = (cs & AR_DB) ? MODE_PROT32 : MODE_PROT16;
	/* CPL = SS.DPL = CS.RPL (SDM 5.5; SS.DPL is what VMX saves, SDM 26.4.1). */
	cpu->cpl = (cpu->seg[SEG_SS].ar & AR_DPL_MASK) >> AR_DPL_SHIFT;
}

void cpu_set_intr(struct cpu *cpu, bool asserted)
{
	if (asserted)
		cpu->events |= CPU_EV_INTR;
	else
		cpu->events &= ~CPU_EV_INTR;
}

void cpu_signal(struct cpu *cpu, uint32_t event, uint8_t sipi_vector)
{
	/* INIT resets the CPU: a SIPI that arrived before it is void (SDM 10.4.2). */
	if (event & CPU_EV_INIT)
		cpu->events &= ~CPU_EV_SIPI;
	if (event & CPU_EV_SIPI)
		cpu->sipi_vector = sipi_vector;
	cpu->events |= event;
}

void cpu_request_stop(struct cpu *cpu)
{
	cpu->events |= CPU_EV_STOP;
}

static const char *const mode_names[] = {
	[MODE_REAL] = "real", [MODE_VM86] = "vm86", [MODE_PROT16] = "prot16",
	[MODE_PROT32] = "prot32", [MODE_COMPAT16] = "compat16",
	[MODE_COMPAT32] = "compat32", [MODE_LONG64] = "long64",
};

static void dump_seg(FILE *f, const char *name, const struct seg *s)
{
	fprintf(f, "%-4s %04x base=%016" PRIx64 " limit=%08x ar=%05x\n", name, s->sel,
		s->base, s->limit, s->ar);
}

void cpu_dump(const struct cpu *cpu_c, void *file)
{
	static const char *const gpr_names[16] = {
		"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	};
	static const char *const seg_names[SEG_COUNT] = { "es", "cs", "ss", "ds", "fs", "gs" };
	FILE *f = file;
	/* Materialising the lazy flags changes no architectural state. */
	uint64_t rflags = cpu_get_rflags((struct cpu *)cpu_c);
	const struct cpu *cpu = cpu_c;
	fprintf(f, "cpu%d %s cpl=%u rip=%016" PRIx64 " rflags=%08" PRIx64 "%s%s%s\n", cpu->id,
		mode_names[cpu->mode], cpu->cpl, cpu->rip, rflags, cpu->halted ? " halted" : "",
		cpu->wait_for_sipi ? " wait-for-sipi" : "", cpu->shutdown ? " SHUTDOWN" : "");
	for (int i = 0; i < 16; i++)
		fprintf(f, "%-3s=%016" PRIx64 "%s", gpr_names[i], cpu->gpr[i],
			(i & 3) == 3 ? "\n" : " ");
	for (int i = 0; i < SEG_COUNT; i++)
		dump_seg(f, seg_names[i], &cpu->seg[i]);
	dump_seg(f, "ldtr", &cpu->ldtr);
	dump_seg(f, "tr", &cpu->tr);
	fprintf(f, "gdtr base=%016" PRIx64 " limit=%04x  idtr base=%016" PRIx64 " limit=%04x\n",
		cpu->gdtr.base, cpu->gdtr.limit, cpu->idtr.base, cpu->idtr.limit);
	fprintf(f, "cr0=%08" PRIx64 " cr2=%016" PRIx64 " cr3=%016" PRIx64 " cr4=%08" PRIx64
		" efer=%04" PRIx64 "\n", cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4, cpu->efer);
	fprintf(f, "dr6=%08" PRIx64 " dr7=%08" PRIx64 " events=%x nmi_blocked=%d shadow=%u\n",
		cpu->dr[6], cpu->dr[7], cpu->events, cpu->nmi_blocked, cpu->intr_shadow);
	fprintf(f, "last exception: vector %u error %08x%s (delivering %d)\n", cpu->exc_vector,
		cpu->exc_error, cpu->exc_error == NO_ERROR_CODE ? " (none)" : "",
		cpu->delivering);
}
