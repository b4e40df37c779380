/* Machine assembly and the round-robin run loop (see machine.h). */
#include "vmm/machine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu/mem.h"
#include "vmm/boot_state.h"

/* Instructions a CPU runs before the next one gets its turn and timers are checked. */
#define SLICE 4096
/* The longest a machine with every CPU halted sleeps before looking again (host time). */
#define IDLE_MAX_NS 10000000ULL
/* Level 1 without --deterministic: a vCPU's slice in host ns (the VMX-preemption timer
 * ends it), long enough that VM entries and exits stay a small part of it. */
#define L1_SLICE_NS 50000ULL

static void request_exit(void *opaque, int status)
{
	struct machine *m = opaque;
	m->exit_requested = true;
	m->exit_status = status;
	for (int i = 0; i < m->ncpus; i++)
		cpu_request_stop(m->cpus[i]);
}

/* A write to a page holding decoded code must leave every CPU's fast write path. */
static void code_page_hook(void *opaque, uint64_t pfn)
{
	struct machine *m = opaque;
	for (int i = 0; i < m->ncpus; i++)
		tlb_drop_fast_writes(m->cpus[i], pfn);
}

static int create_cpus(struct machine *m)
{
	for (int i = 0; i < m->opt.smp; i++) {
		struct cpu *cpu = calloc(1, sizeof(*cpu));
		if (!cpu)
			return -1;
		m->cpus[m->ncpus++] = cpu;
		/* cpu_init() clears the whole struct, the TLB included, so the TLB's
		 * arrays are allocated after it. */
		cpu_init(cpu, i, &m->bus, &m->clock, &m->dcache);
		cpu->nr_cpus = m->opt.smp;
		if (tlb_init(&cpu->tlb))
			return -1;
		tlb_flush_all(cpu);
	}
	m->bus.code_page_hook = code_page_hook;
	m->bus.code_page_opaque = m;
	return 0;
}

/* The bus the guest's devices and loader see: the silicon's at level 0, L0's guest
 * bus at level 1 (the devices are L0's, reached through exits). */
static struct bus *guest_bus(struct machine *m)
{
	return m->opt.level ? &m->guest_bus : &m->bus;
}

static int attach_devices(struct machine *m)
{
	struct pc_config cfg = {
		.ncpus = m->ncpus,
		.cmdline = m->boot.cmdline,
		.kernel = { m->boot.kernel_data, (uint32_t)m->boot.kernel_size, 0 },
		.initrd = { m->boot.initrd_data, (uint32_t)m->boot.initrd_size, 0 },
		.uart_in_fd = STDIN_FILENO,
		.uart_out_fd = STDOUT_FILENO,
		.request_exit = request_exit,
		.exit_opaque = m,
	};
	return pc_init(&m->pc, guest_bus(m), &m->clock, m->cpus, &cfg);
}

/* Level 1: L0 takes the silicon. The BSP's boot state, which boot_state_apply() put
 * in silicon CPU 0 as at level 0, becomes vCPU 0's guest state; each LAPIC becomes
 * its vCPU's virtual LAPIC. */
static int create_l0(struct machine *m)
{
	struct hv_vm_config cfg = {
		.silicon = &m->bus,
		.guest = &m->guest_bus,
		.clock = &m->clock,
		.cpus = m->cpus,
		.ncpus = m->ncpus,
		.guest_ram = m->opt.ram_mib << 20,
	};
	m->hv = hv_vm_create(&cfg);
	if (!m->hv)
		return -1;
	for (int i = 0; i < m->ncpus; i++)
		hv_vcpu_set_lapic(m->hv, i, pc_lapic(&m->pc, i));
	return 0;
}

int machine_create(struct machine *m, const struct vmm_options *opt)
{
	memset(m, 0, sizeof(*m));
	m->opt = *opt;
	uint64_t guest_ram = opt->ram_mib << 20;
	uint64_t silicon_ram = guest_ram + (opt->level ? hv_l0_ram_bytes(guest_ram) : 0);
	if (bus_init(&m->bus, silicon_ram)) {
		fprintf(stderr, "turtles: cannot allocate %llu MiB of guest RAM\n",
			(unsigned long long)opt->ram_mib);
		return VMM_STATUS_INTERNAL;
	}
	clock_init(&m->clock, opt->deterministic);
	if (dcache_init(&m->dcache, 14) || create_cpus(m)) {
		fprintf(stderr, "turtles: out of host memory\n");
		return VMM_STATUS_INTERNAL;
	}
	if (opt->level)
		hv_guest_bus_init(&m->guest_bus, &m->bus, guest_ram);
	if (loader_load(guest_bus(m), opt, &m->boot))
		return VMM_STATUS_USAGE;
	if (attach_devices(m)) {
		fprintf(stderr, "turtles: cannot build the PC's devices\n");
		return VMM_STATUS_INTERNAL;
	}
	boot_state_apply(m->cpus[0], &m->boot);
	if (opt->level && create_l0(m))
		return VMM_STATUS_INTERNAL;
	return 0;
}

static void report_shutdown(struct machine *m, struct cpu *cpu, const char *why)
{
	fflush(stdout);
	fprintf(stderr, "turtles: %s on CPU %d after %llu instructions\n", why, cpu->id,
		(unsigned long long)m->clock.retired);
	for (int i = 0; i < m->ncpus; i++) {
		if (m->hv)
			hv_vcpu_dump(m->hv, i, stderr); /* the guest's state, from L0 */
		else
			cpu_dump(m->cpus[i], stderr);
	}
}

/* True if no CPU can ever run again: all halted or waiting for SIPI, and no timer or
 * halted CPU with interrupts enabled (or in MWAIT with interrupts as break events,
 * ECX[0] = 1) that an event could wake. A guest halted in VMX
 * non-root operation (a hypervisor running bare at level 0) with the VMX-preemption
 * timer counting wakes by itself: the timer keeps counting in the HLT activity state
 * and its expiry is a VM exit (SDM 27.5.1). */
static bool machine_hung(struct machine *m)
{
	bool wakeable = false;
	for (int i = 0; i < m->ncpus; i++) {
		const struct cpu *cpu = m->cpus[i];
		if (!m->hv && cpu->vmx.non_root && cpu->vmx.preempt_active)
			return false;
		if (m->hv ? hv_vcpu_wakeable(m->hv, i)
			  : cpu->halted && ((cpu->rflags & RFLAGS_IF) ||
					    (cpu->mwait && cpu->mwait_intr_break)))
			wakeable = true;
	}
	return !wakeable || m->clock.next_deadline == CLOCK_NEVER;
}

/* --max-insns bounds the work done; with --deterministic it bounds virtual time, so
 * that time skipped while every CPU is halted counts too and an idle guest whose
 * timers keep firing still stops. */
static bool limits_reached(struct machine *m)
{
	uint64_t done = clock_retired(&m->clock);
	if (m->opt.deterministic)
		done += m->clock.skipped_ns;
	if (m->opt.max_insns && done >= m->opt.max_insns)
		return true;
	return m->opt.timeout_s > 0 &&
	       (double)(clock_host_ns() - m->host_start_ns) / 1e9 >= m->opt.timeout_s;
}

/* Level 1: vCPU i runs a slice of virtual time under L0 (in deterministic mode a
 * slice of SLICE instructions is SLICE ns; otherwise the slice is host time).
 * Returns -1 to go on, or the exit status; clears *all_idle if the vCPU ran. */
static int run_vcpu(struct machine *m, int i, uint64_t slice, bool *all_idle)
{
	if (!m->opt.deterministic) {
		uint64_t now = clock_now(&m->clock), next = m->clock.next_deadline;
		slice = L1_SLICE_NS;
		if (next > now && next - now < slice)
			slice = next - now;
	}
	enum hv_run r = hv_vcpu_run(m->hv, i, slice ? slice : 1);
	if (r == HV_RUN_SHUTDOWN) {
		/* The same status as a triple fault at level 0: the guest is dead. */
		report_shutdown(m, m->cpus[i], hv_vm_triple_faulted(m->hv)
						       ? "triple fault: shutdown"
						       : "L0 shut the VM down");
		return VMM_STATUS_TRIPLE_FAULT;
	}
	if (r != HV_RUN_IDLE)
		*all_idle = false;
	if (m->exit_requested)
		return m->exit_status;
	/* A timer that fires may wake a halted vCPU: then the round was not idle. */
	if (clock_run_timers(&m->clock))
		*all_idle = false;
	return -1;
}

/* One round: every CPU runs a slice. Returns -1 to go on, or the exit status. */
static int run_round(struct machine *m, bool *all_idle)
{
	*all_idle = true;
	for (int i = 0; i < m->ncpus; i++) {
		struct cpu *cpu = m->cpus[i];
		uint64_t slice = SLICE;
		uint64_t now = clock_now(&m->clock);
		if (m->opt.deterministic && m->clock.next_deadline > now &&
		    m->clock.next_deadline - now < slice)
			slice = m->clock.next_deadline - now;
		if (m->hv) {
			int status = run_vcpu(m, i, slice, all_idle);
			if (status >= 0)
				return status;
			continue;
		}
		enum cpu_exit why = cpu_run(cpu, slice ? slice : 1);
		if (m->exit_requested)
			return m->exit_status;
		if (why == CPU_EXIT_SHUTDOWN) {
			report_shutdown(m, cpu, "triple fault: shutdown");
			return VMM_STATUS_TRIPLE_FAULT;
		}
		if (why != CPU_EXIT_HALTED)
			*all_idle = false;
		/* A timer that fires may wake a CPU that just halted (a LAPIC timer armed
		 * right before HLT): the machine must not then sleep as if idle. */
		if (clock_run_timers(&m->clock))
			*all_idle = false;
	}
	return -1;
}

int machine_run(struct machine *m)
{
	m->host_start_ns = clock_host_ns();
	for (;;) {
		bool all_idle;
		int status = run_round(m, &all_idle);
		if (status >= 0)
			return status;
		if (limits_reached(m)) {
			fflush(stdout);
			fprintf(stderr, "turtles: instruction or time limit reached\n");
			return VMM_STATUS_LIMIT;
		}
		if (!all_idle)
			continue;
		if (machine_hung(m)) {
			report_shutdown(m, m->cpus[0], "every CPU is halted with nothing to wake it");
			return VMM_STATUS_HANG;
		}
		clock_idle(&m->clock, IDLE_MAX_NS);
		clock_run_timers(&m->clock);
	}
}

void machine_destroy(struct machine *m)
{
	hv_vm_destroy(m->hv); /* first: it detaches the LAPICs pc_destroy frees */
	m->hv = NULL;
	pc_destroy(&m->pc);
	for (int i = 0; i < m->ncpus; i++) {
		tlb_destroy(&m->cpus[i]->tlb);
		free(m->cpus[i]);
	}
	dcache_destroy(&m->dcache);
	bus_destroy(&m->bus);
	loader_free(&m->boot);
}

int machine_main(const struct vmm_options *opt)
{
	struct machine *m = calloc(1, sizeof(*m));
	if (!m)
		return VMM_STATUS_INTERNAL;
	int status = machine_create(m, opt);
	if (status == 0) {
		status = machine_run(m);
		if (opt->stats)
			vmm_stats_print(m, stderr);
		if (opt->stats_json && vmm_stats_json(m, opt->stats_json) && status == 0)
			status = VMM_STATUS_INTERNAL;
	}
	fflush(stdout);
	machine_destroy(m);
	free(m);
	return status;
}
