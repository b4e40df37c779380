/*
 * trap.h - interrupt/exception dispatch, fault capture and IRQ handlers.
 *
 * Fault capture works like setjmp: fault_try() returns 0; if an exception (or any
 * vector without a registered handler) arrives before fault_end(), the runtime
 * records it and fault_try() returns a second time with 1, on the original stack
 * at CPL 0, via IRETQ (so interrupt state unwinds architecturally).
 *
 *	struct fault f;
 *	if (!fault_try(&f)) {
 *		asm volatile("ud2");
 *		fault_end(&f);
 *	}
 *	check_eq(f.vector, 6, "ud2 -> #UD");
 */
#ifndef RT_TRAP_H
#define RT_TRAP_H

#include <stdint.h>

/* Pushed by isr.S: GPRs, then vector and error code, then the CPU's frame. */
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define NO_FAULT (-1)

struct fault {
	int vector; /* NO_FAULT if nothing was caught */
	uint64_t error, rip, cs, rflags, rsp, ss;
	uint64_t cr2;        /* read in the handler for #PF */
	uint64_t frame_addr; /* address of the CPU-pushed frame (RIP slot) */
	uint64_t ctx[9];     /* rbx rbp r12 r13 r14 r15 rsp rip rflags */
};

int fault_try(struct fault *f) __attribute__((returns_twice));
void fault_end(struct fault *f);

typedef void (*irq_handler_t)(struct frame *f);
void irq_register(int vec, irq_handler_t h);

/* True if the vector pushes an error code (SDM Vol.3A 7.15 / Table 7-1). */
int vector_has_error(int vec);

/* Count of interrupts taken per vector (any handler), for tests. */
extern volatile uint64_t irq_count[256];

void isr_dispatch(struct frame *f);

/* internal: resume a saved context through an IRET frame */
void ctx_resume_frame(struct frame *f, uint64_t *ctx, uint64_t retval);

#endif
