/*
 * privilege - ring transitions (SDM Vol.3A ch.5 protection, ch.6-7 interrupts):
 * IRETQ to CPL 3, interrupt stack switch to TSS.RSP0, SYSCALL/SYSRET, SYSENTER/SYSEXIT
 * (Intel only in 64-bit mode), a 64-bit call gate with far return, SWAPGS, and I/O
 * permission via IOPL and the TSS I/O bitmap (Vol.1 20.5).
 */
#include "rt.h"

#define VEC_USER 0x45
#define GATE_IDX GDT_FIRST_FREE

extern uint64_t sc_rec[6], se_rec[4], cg_rec[6];
extern char syscall_entry[], sysenter_entry[], gate_entry[], u_syscall_ret[], u_callgate_ret[];
extern uint8_t gate_ptr[];
uint64_t u_syscall(uint64_t), u_sysenter(uint64_t), u_callgate(uint64_t);

USER_TEXT static uint64_t u_segs(uint64_t x)
{
	uint16_t cs, ss;
	__asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	return (uint64_t)cs << 16 | ss;
}

USER_TEXT static uint64_t u_int(uint64_t x)
{
	__asm__ volatile("movq %%rsp, %0; int $0x45" : "=m"(*(uint64_t *)x));
	return 0;
}

static void iret_to_user(void)
{
	uint64_t r = user_call(u_segs, 0);
	check_eq(r >> 16, SEL_UCODE64 | 3, "IRETQ to CPL 3: CS = user code, RPL 3");
	check_eq(r & 0xffff, SEL_UDATA | 3, "IRETQ to CPL 3: SS = user data, RPL 3");
	check_eq(user_call(u_segs, 0) >> 16, SEL_UCODE64 | 3, "INT 0x80 back to CPL 0 and again");

	/* 7.14.2/7.14.4: from CPL 3 the handler runs on TSS.RSP0 (aligned to 16), the
	 * frame holds the interrupted SS:RSP */
	static uint64_t user_rsp USER_DATA;
	struct fault f;
	idt_set_dpl(VEC_USER, 3);
	if (!fault_try(&f)) {
		user_call(u_int, (uintptr_t)&user_rsp);
		fault_end(&f);
	}
	check_eq(f.vector, VEC_USER, "INT n from CPL 3 delivered");
	check_eq(f.frame_addr, (tss.rsp[0] & ~15ull) - 40, "interrupt from CPL 3 uses TSS.RSP0");
	check_eq(f.rsp, user_rsp, "frame holds the CPL 3 RSP");
	check_eq(f.ss, SEL_UDATA | 3, "frame holds the CPL 3 SS");
}

/* SYSCALL/SYSRET with STAR, LSTAR, FMASK (Vol.2B SYSCALL, SYSRET) */
static void syscall_sysret(void)
{
	if (!has_feature(F_SYSCALL)) {
		skip("SYSCALL", "CPUID.80000001H:EDX[11] clear");
		return;
	}
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
	wrmsr(MSR_STAR, (uint64_t)SEL_UCODE32 << 48 | (uint64_t)SEL_KCODE64 << 32);
	wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
	wrmsr(MSR_FMASK, FL_DF | FL_TF | FL_AC | FL_IF);
	uint64_t fl = user_call(u_syscall, 0);
	check_eq(sc_rec[0], (uintptr_t)u_syscall_ret, "SYSCALL: RCX = RIP of the next instruction");
	check_eq(sc_rec[1] & FL_DF, FL_DF, "SYSCALL: R11 = RFLAGS (DF=1 from CPL 3)");
	check_eq(sc_rec[2] & FL_DF, 0, "SYSCALL: RFLAGS &= ~IA32_FMASK (DF cleared)");
	check_eq(sc_rec[3], SEL_KCODE64, "SYSCALL: CS = STAR[47:32]");
	check_eq(sc_rec[4], SEL_KDATA, "SYSCALL: SS = STAR[47:32] + 8");
	check(sc_rec[5] < user_stack_top() && sc_rec[5] > user_stack_top() - 4096,
	      "SYSCALL does not switch stacks");
	check_eq(fl & FL_DF, FL_DF, "SYSRET: RFLAGS = R11 (DF=1 again)");
	uint64_t segs = user_call(u_segs, 0);
	check_eq(segs >> 16, SEL_UCODE64 | 3, "after SYSRET: CS = STAR[63:48] + 16, RPL 3");
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SCE);
}

/* SYSENTER/SYSEXIT in 64-bit mode: valid on Intel; AMD CPUs raise #UD (AMD APM). */
static void sysenter_sysexit(void)
{
	if (!cpu_is_intel()) {
		skip("SYSENTER/SYSEXIT in 64-bit mode", "not an Intel CPU (AMD: #UD in long mode)");
		return;
	}
	if (!has_feature(F_SEP)) {
		skip("SYSENTER/SYSEXIT", "CPUID.01H:EDX[11] clear");
		return;
	}
	static uint8_t kstack[4096] __attribute__((aligned(16)));
	uint64_t top = (uintptr_t)kstack + sizeof(kstack);
	wrmsr(MSR_SYSENTER_CS, SEL_KCODE64);
	wrmsr(MSR_SYSENTER_ESP, top);
	wrmsr(MSR_SYSENTER_EIP, (uintptr_t)sysenter_entry);
	uint64_t segs = user_call(u_sysenter, 0);
	check_eq(se_rec[0], top, "SYSENTER: RSP = IA32_SYSENTER_ESP");
	check_eq(se_rec[1], SEL_KCODE64, "SYSENTER: CS = IA32_SYSENTER_CS");
	check_eq(se_rec[2], SEL_KDATA, "SYSENTER: SS = IA32_SYSENTER_CS + 8");
	check_eq(se_rec[3] & FL_IF, 0, "SYSENTER clears IF");
	check_eq(segs >> 16, SEL_UCODE64 | 3, "SYSEXIT (64-bit): CS = IA32_SYSENTER_CS + 32, RPL 3");
	check_eq(segs & 0xffff, SEL_UDATA2 | 3, "SYSEXIT (64-bit): SS = IA32_SYSENTER_CS + 40, RPL 3");
}

/* 64-bit call gate, DPL 3, to a CPL 0 code segment: stack switch to RSP0, the old
 * SS:RSP and CS:RIP pushed as qwords (5.8.6); LRET returns to CPL 3. */
static void call_gate(void)
{
	uint16_t sel = GATE_IDX * 8 | 3;
	gdt_set_call_gate(GATE_IDX, SEL_KCODE64, (uintptr_t)gate_entry, 3);
	memcpy(gate_ptr + 8, &sel, 2);
	uint64_t segs = user_call(u_callgate, 0);
	check_eq(cg_rec[0], tss.rsp[0] - 32, "call gate to CPL 0: stack switched to TSS.RSP0");
	check_eq(cg_rec[1], SEL_KCODE64, "call gate: CS = gate's selector");
	check_eq(cg_rec[2], (uintptr_t)u_callgate_ret, "call gate: pushed RIP = return address");
	check_eq(cg_rec[3], SEL_UCODE64 | 3, "call gate: pushed CS = caller CS");
	check(cg_rec[4] < user_stack_top() && cg_rec[4] > user_stack_top() - 4096,
	      "call gate: pushed RSP = caller RSP");
	check_eq(cg_rec[5], SEL_UDATA | 3, "call gate: pushed SS = caller SS");
	check_eq(segs >> 16, SEL_UCODE64 | 3, "far return to CPL 3: CS restored");
	check_eq(segs & 0xffff, SEL_UDATA | 3, "far return to CPL 3: SS restored");
}

/* SWAPGS exchanges IA32_GS_BASE and IA32_KERNEL_GS_BASE (Vol.2B SWAPGS) */
static void swapgs(void)
{
	wrmsr(MSR_GS_BASE, 0x1111000);
	wrmsr(MSR_KERNEL_GS_BASE, 0x2222000);
	__asm__ volatile("swapgs");
	check(rdmsr(MSR_GS_BASE) == 0x2222000 && rdmsr(MSR_KERNEL_GS_BASE) == 0x1111000,
	      "SWAPGS exchanges GS base and KERNEL_GS_BASE");
	__asm__ volatile("swapgs");
	wrmsr(MSR_GS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
}

/* I/O at CPL 3: allowed if CPL <= IOPL, else only if every bit for the accessed
 * ports in the TSS I/O bitmap is 0 (Vol.1 20.5.2); otherwise #GP(0). */
USER_TEXT static uint64_t u_inb(uint64_t port)
{
	uint8_t v;
	__asm__ volatile("inb %w1, %0" : "=a"(v) : "d"(port));
	return v;
}

USER_TEXT static uint64_t u_inw(uint64_t port)
{
	uint16_t v;
	__asm__ volatile("inw %w1, %0" : "=a"(v) : "d"(port));
	return v;
}

USER_TEXT static uint64_t u_cli(uint64_t x) { __asm__ volatile("cli; sti"); return 0; }

static int io_try(user_fn_t fn, uint64_t port, uint64_t rflags)
{
	struct fault f;
	if (!fault_try(&f)) {
		user_call_flags(fn, port, rflags);
		fault_end(&f);
	}
	return f.vector;
}

static void io_perm(void)
{
	tss_io_deny(0x80, 1);
	tss_io_deny(0x81, 1);
	check_eq(io_try(u_inb, 0x80, 0), 13, "IN from CPL 3, IOPL 0, bitmap denies -> #GP");
	tss_io_deny(0x80, 0);
	check_eq(io_try(u_inb, 0x80, 0), NO_FAULT, "IN from CPL 3, IOPL 0, bitmap allows");
	check_eq(io_try(u_inw, 0x80, 0), 13, "16-bit IN needs both ports' bits clear");
	tss_io_deny(0x81, 0);
	check_eq(io_try(u_inw, 0x80, 0), NO_FAULT, "16-bit IN with both bits clear");
	tss_io_deny(0x80, 1);
	tss_io_deny(0x81, 1);
	check_eq(io_try(u_inb, 0x80, FL_IOPL(3)), NO_FAULT, "IN from CPL 3 with IOPL 3 ignores the bitmap");
	check_eq(io_try(u_cli, 0, 0), 13, "CLI at CPL 3 with IOPL 0 -> #GP");
	check_eq(io_try(u_cli, 0, FL_IOPL(3)), NO_FAULT, "CLI at CPL 3 with IOPL 3 allowed");
}

int main(void)
{
	iret_to_user();
	syscall_sysret();
	sysenter_sysexit();
	call_gate();
	swapgs();
	io_perm();
	return 0;
}
