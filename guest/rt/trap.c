/* trap.c - C side of interrupt dispatch: handlers, fault capture, unexpected traps */
#include "rt.h"

extern struct fault *fault_armed;
extern char isr_stubs[], ctx_resume[];
extern uint64_t *user_ctx_armed; /* user.c */

_Static_assert(offsetof(struct fault, ctx) == 72, "isr.S fault_try uses this offset");
_Static_assert(sizeof(struct frame) == 22 * 8, "isr.S frame layout");

static irq_handler_t handlers[256];
volatile uint64_t irq_count[256];

uint64_t isr_stub(int vec) { return (uint64_t)(uintptr_t)isr_stubs + 16 * vec; }

int vector_has_error(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

void irq_register(int vec, irq_handler_t h) { handlers[vec] = h; }

void fault_end(struct fault *f)
{
	(void)f;
	fault_armed = 0;
}

/* Make the IRETQ at the end of isr_common land in ctx_resume at CPL 0 on the
 * saved stack, so the interrupted instruction stream is abandoned. */
void ctx_resume_frame(struct frame *f, uint64_t *ctx, uint64_t retval)
{
	f->rip = (uint64_t)(uintptr_t)ctx_resume;
	f->cs = SEL_KCODE64;
	f->ss = SEL_KDATA;
	f->rsp = ctx[6];
	f->rflags = ctx[8];
	f->rdi = (uint64_t)(uintptr_t)ctx;
	f->rax = retval;
}

static void capture(struct frame *f, struct fault *t)
{
	t->vector = (int)f->vector;
	t->error = f->error;
	t->rip = f->rip;
	t->cs = f->cs;
	t->rflags = f->rflags;
	t->rsp = f->rsp;
	t->ss = f->ss;
	t->cr2 = f->vector == 14 ? read_cr2() : 0;
	t->frame_addr = (uint64_t)(uintptr_t)&f->rip;
	fault_armed = 0;
	user_ctx_armed = 0; /* a fault inside a ring-3 call abandons that call too */
	ctx_resume_frame(f, t->ctx, 1);
}

static __attribute__((noreturn)) void unexpected(struct frame *f)
{
	printf("FAIL: unexpected exception vector %lu at RIP 0x%lx (error 0x%lx, cs 0x%lx, "
	       "rsp 0x%lx, cr2 0x%lx)\n",
	       f->vector, f->rip, f->error, f->cs, f->rsp, read_cr2());
	exit_qemu(1);
}

void isr_dispatch(struct frame *f)
{
	int v = (int)f->vector;

	irq_count[v]++;
	if (handlers[v]) {
		handlers[v](f);
		return;
	}
	if (v == VEC_USER_EXIT && user_ctx_armed) {
		uint64_t *ctx = user_ctx_armed;
		user_ctx_armed = 0;
		ctx_resume_frame(f, ctx, f->rax);
		return;
	}
	if (fault_armed) {
		capture(f, fault_armed);
		return;
	}
	unexpected(f);
}
