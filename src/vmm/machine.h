/*
 * A machine: RAM and buses, the clock, the CPUs and the PC's devices, plus the loop
 * that runs the CPUs round-robin on one host thread (docs/architecture.md says why).
 */
#ifndef TURTLES_VMM_MACHINE_H
#define TURTLES_VMM_MACHINE_H

#include <stdio.h>

#include "cpu/cpu.h"
#include "cpu/dcache.h"
#include "dev/pc.h"
#include "hv/hv.h"
#include "vmm/loader.h"
#include "vmm/options.h"

struct machine {
	struct vmm_options opt;
	struct bus bus;         /* the silicon's bus (at level 1: RAM only, guest + L0) */
	struct bus guest_bus;   /* level 1: L0's view of the guest (RAM alias + devices) */
	struct hv_vm *hv;       /* level 1: L0's VM, NULL at level 0 */
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

/* Run statistics (stats.c): --stats to a stream, --stats-json to a file (returns -1
 * with a message if the file cannot be written). */
void vmm_stats_print(const struct machine *m, FILE *f);
int vmm_stats_json(const struct machine *m, const char *path);

#endif
