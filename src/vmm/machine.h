/*
 * A machine: RAM and buses, the clock, the CPUs and the PC's devices, plus the loop
 * that runs the CPUs round-robin on one host thread (docs/architecture.md says why).
 */
#ifndef TURTLES_VMM_MACHINE_H
#define TURTLES_VMM_MACHINE_H

#include "cpu/cpu.h"
#include "cpu/dcache.h"
#include "dev/pc.h"
#include "vmm/loader.h"
#include "vmm/options.h"

struct machine {
	struct vmm_options opt;
	struct bus bus;
	struct clock clock;
	struct dcache dcache;
	struct cpu *cpus[VMM_MAX_CPUS];
	int ncpus;
	struct pc pc;
	struct boot_info boot;
	bool exit_requested;
	int exit_status;
	uint64_t host_start_ns;
};

/* Build, load, run and tear down a machine for opt; returns the process exit status
 * (enum vmm_status, or the isa-debug-exit status). */
int machine_main(const struct vmm_options *opt);

int machine_create(struct machine *m, const struct vmm_options *opt);
int machine_run(struct machine *m);
void machine_destroy(struct machine *m);

#endif
