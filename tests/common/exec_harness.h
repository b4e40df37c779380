/*
 * Test scaffolding for the executor: a struct cpu with a flat, window-mapped memory
 * and the few cpu/ services the integer handlers call (mem_*, cpu_exception, io_*),
 * so that handlers can be run one instruction at a time without the MMU, the
 * exception-delivery code or the run loop. Tests only; never linked into the silicon.
 *
 * Memory: linear address = segment base + offset (limit-checked outside 64-bit mode,
 * #GP(0), or #SS(0) for SS). A linear address outside every mapped window is a #PF
 * with CR2 = the address, which is what tests of fault atomicity look for.
 */
#ifndef TURTLES_TESTS_EXEC_HARNESS_H
#define TURTLES_TESTS_EXEC_HARNESS_H

#include "cpu/exec.h"

struct hwin {
	uint64_t base; /* linear address */
	uint8_t *host;
	uint64_t size;
	bool readonly; /* writes fault with #PF (P|W) */
};

#define HARNESS_MAX_WIN 8
#define HARNESS_MAX_IO 64

struct harness {
	struct hwin win[HARNESS_MAX_WIN];
	int nwin;
	/* Port I/O: reads return io_in_value++ (per access); writes are logged. */
	bool io_deny;              /* io_check_permission raises #GP(0) */
	uint32_t io_in_value;
	int n_io_out;
	struct { uint16_t port; int size; uint32_t value; } io_out_log[HARNESS_MAX_IO];
	int n_io_in;
	uint64_t check_writes;     /* mem_check_write calls */
};

extern struct harness harness;

/* A CPU in 64-bit mode (CPL 3, flat segments), or in 16/32-bit protected or real mode
 * with flat 4 GiB (or 64 KiB for real mode) segments. */
void harness_cpu_long64(struct cpu *cpu);
void harness_cpu_legacy(struct cpu *cpu, enum cpu_mode mode);

void harness_reset(void);
void harness_map(uint64_t base, void *host, uint64_t size, bool readonly);

/* Run one handler on a decoded instruction at cpu->rip: next_rip = rip + len, call,
 * commit rip. Returns -1 on success or the exception vector it raised (then rip is
 * unchanged and cpu->exc_error/exc_cr2 hold the details). */
int harness_exec(struct cpu *cpu, const struct insn *in);

/* The handler of an op (integer families only; NULL for others). */
exec_fn harness_handler(enum op op);

#endif
