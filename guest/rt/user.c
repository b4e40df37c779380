/* user.c - ring-3 entry via IRETQ and return via INT 0x80 */
#include "rt.h"

uint64_t *user_ctx_armed;
static volatile uint64_t user_ret;
static uint8_t user_stack[16384] __attribute__((section(".user.bss"), aligned(16)));

int ctx_save(uint64_t *ctx) __attribute__((returns_twice));
void user_enter(uint64_t fn, uint64_t arg, uint64_t rsp, uint64_t rflags);

uint64_t user_stack_top(void) { return (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)); }

static void user_exit_handler(struct frame *f)
{
	uint64_t *ctx = user_ctx_armed;

	if (!ctx) {
		printf("FAIL: INT 0x%x with no user_call active at RIP 0x%lx\n", VEC_USER_EXIT, f->rip);
		exit_qemu(1);
	}
	user_ctx_armed = 0;
	user_ret = f->rax;
	ctx_resume_frame(f, ctx, 1);
}

uint64_t user_call_flags(user_fn_t fn, uint64_t arg, uint64_t rflags)
{
	uint64_t ctx[9];
	uint64_t rsp = user_stack_top() - 8;

	irq_register(VEC_USER_EXIT, user_exit_handler);
	*(uint64_t *)(uintptr_t)rsp = (uint64_t)(uintptr_t)user_exit_stub;
	if (ctx_save(ctx) == 0) {
		user_ctx_armed = ctx;
		user_enter((uint64_t)(uintptr_t)fn, arg, rsp, rflags | 0x2);
	}
	__asm__ volatile("mov %0, %%ds; mov %0, %%es" ::"r"(SEL_KDATA));
	return user_ret;
}
