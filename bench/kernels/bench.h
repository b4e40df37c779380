/*
 * bench.h - what the workload kernels share: reading parameters from the Multiboot
 * command line and printing the one result line that bench/run.sh parses.
 *
 * Every workload reads its iteration count from `n=N` (the loader passes the command
 * line as "KERNEL ARGS", so `--append "n=1000"` / `-append "n=1000"`), runs, prints
 *
 *	bench: name=NAME n=N insns_per_iter=K checksum=0xHEX
 *
 * (insns_per_iter=0 when the count per iteration is not fixed) and exits through
 * isa-debug-exit with 0 (process status 1), or with 1 after a "FAIL:" line.
 */
#ifndef BENCH_H
#define BENCH_H

#include "rt.h"

/* Value of `key=V` on the command line (decimal, or hex with 0x; a k, m or g suffix
 * multiplies by 2^10, 2^20, 2^30), else def. */
uint64_t bench_arg(const char *key, uint64_t def);
/* n=N, at least 1. */
uint64_t bench_iterations(void);
/* Prints the result line and exits with 0. */
__attribute__((noreturn)) void bench_done(const char *name, uint64_t n, unsigned insns_per_iter,
					  uint64_t checksum);
/* Prints "FAIL: name: why" and exits with 1. */
__attribute__((noreturn)) void bench_fail(const char *name, const char *why);

#endif
