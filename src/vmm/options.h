/* Command-line options of `turtles run` (see vmm_usage() for the text). */
#ifndef TURTLES_VMM_OPTIONS_H
#define TURTLES_VMM_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_MAX_CPUS 32

struct vmm_options {
	const char *kernel;      /* --kernel IMAGE (required) */
	const char *append;      /* --append ARGS, "" if absent */
	const char *initrd;      /* --initrd 'file args,file args' or NULL */
	uint64_t ram_mib;        /* -m MiB */
	int smp;                 /* --smp N */
	int level;               /* --level 0 (bare silicon) or 1 (a guest of L0) */
	bool deterministic;      /* --deterministic */
	uint64_t max_insns;      /* --max-insns N: stop (status 8) after N instructions */
	double timeout_s;        /* --timeout SECONDS of host time, 0 = none */
	bool stats;              /* --stats */
	const char *stats_json;  /* --stats-json FILE, NULL if absent */
};

/* Exit statuses of the turtles process (also in --help and the README). */
enum vmm_status {
	VMM_STATUS_POWEROFF = 0,   /* the guest powered the machine off */
	VMM_STATUS_USAGE = 2,      /* bad options, bad image, too little memory */
	VMM_STATUS_TRIPLE_FAULT = 4,
	VMM_STATUS_HANG = 6,       /* every CPU halted with no event that can wake it */
	VMM_STATUS_LIMIT = 8,      /* --max-insns or --timeout reached */
	VMM_STATUS_INTERNAL = 10,  /* a host resource failed (out of memory ...) */
	/* odd statuses: isa-debug-exit wrote v, the status is (v << 1) | 1 */
};

/* Parse argv of `turtles run`. Returns 0, or prints a clear message to stderr and
 * returns -1. */
int vmm_parse_run_options(int argc, char **argv, struct vmm_options *opt);
void vmm_usage(void *file);

#endif
