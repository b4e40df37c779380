/*
 * modes - leave 64-bit mode and come back (SDM Vol.3A 10.8.5.4, 10.9.2): 32-bit
 * protected mode with paging off, hardware task switches there (SDM Vol.3A 8.3),
 * real mode with a BIOS-less IVT handler and segment arithmetic, and compatibility
 * mode (a 32-bit code segment in IA-32e mode).
 */
#include "rt.h"

void pm32_snippet(void), compat_snippet(void);
extern char rm_snippet[], rm_snippet_end[], rm_after_int[];

static void pm32(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_pm32(pm32_snippet, &r);
	check_eq(r.eax & (CR0_PE | CR0_PG), CR0_PE, "protected mode: CR0.PE=1, CR0.PG=0");
	check_eq(r.ebx & (EFER_LME | EFER_LMA), 0, "protected mode: EFER.LME=LMA=0");
	check_eq(r.ecx, SEL_KCODE32, "protected mode: CS = 32-bit code selector");
	check_eq(r.edx, 1, "protected mode: 32-bit add wraps");
	check_eq(r.esi, 0x5a5a1234, "protected mode: 32-bit stack push/pop");
	check(rdmsr(MSR_EFER) & EFER_LMA, "back in IA-32e mode after protected mode");
	check_eq(read_cs(), SEL_KCODE64, "back in 64-bit code segment");
}

/* --- task switching (task_snippet in modes_snippets.S) ---------------------------- */

/* 32-bit TSS, SDM Vol.3A 8.2.1 Figure 8-2. */
struct tss32 {
	uint16_t link, rsv0;
	uint32_t esp0, ss0, esp1, ss1, esp2, ss2;
	uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
} __attribute__((packed));
_Static_assert(sizeof(struct tss32) == 0x68, "32-bit TSS is 104 bytes");

/* GDT slots for tasks A-D (the same in modes_snippets.S). */
#define SEL_TSS_A (GDT_FIRST_FREE * 8)
#define SEL_TSS_B (SEL_TSS_A + 8)
#define SEL_TSS_C (SEL_TSS_A + 16)
#define SEL_TSS_D (SEL_TSS_A + 24)
#define TASK_STACK 4096

void task_snippet(void), task_b_entry(void), task_c_entry(void), task_d_entry(void);
extern char task_gp_fault[];
struct tss32 task_tss[4] __attribute__((aligned(128))); /* A, B, C, D */
uint32_t task_out[16];
uint64_t task_idt[0x42];
struct {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed)) task_idtr;
static uint8_t task_stacks[3][TASK_STACK] __attribute__((aligned(16)));

static uint32_t task_stack_top(int i)
{
	return (uint32_t)(uintptr_t)(task_stacks[i] + TASK_STACK);
}

static void task_init(struct tss32 *t, void (*entry)(void), uint32_t esp)
{
	memset(t, 0, sizeof(*t));
	t->eip = (uint32_t)(uintptr_t)entry;
	t->eflags = 0x2;
	t->esp = esp;
	t->cs = SEL_KCODE32;
	t->ss = t->ds = t->es = SEL_KDATA;
	t->iomap = sizeof(*t); /* no I/O bit map */
}

/* Available 32-bit TSS descriptor (type 9) and task gate (type 5), SDM 8.2.2, 8.2.5. */
static void gdt_tss32(uint16_t sel, struct tss32 *t)
{
	gdt[sel / 8] = seg_desc((uint32_t)(uintptr_t)t, sizeof(*t) - 1, 0x89, 0);
}

static uint64_t task_gate(uint16_t tss_sel)
{
	return ((uint64_t)tss_sel << 16) | (0x85ull << 40);
}

static unsigned gdt_type(uint16_t sel)
{
	return (gdt[sel / 8] >> 40) & 0xf;
}

static void tasks(void)
{
	memset(task_tss, 0, sizeof(task_tss));
	task_tss[0].iomap = sizeof(struct tss32);
	task_init(&task_tss[1], task_b_entry, task_stack_top(0));
	task_tss[1].ebx = 0x0b0b0b0b;
	task_init(&task_tss[2], task_c_entry, task_stack_top(1));
	task_init(&task_tss[3], task_d_entry, task_stack_top(2));
	for (int i = 0; i < 4; i++)
		gdt_tss32(SEL_TSS_A + 8 * i, &task_tss[i]);
	memset(task_idt, 0, sizeof(task_idt));
	task_idt[13] = task_gate(SEL_TSS_D);
	task_idt[0x41] = task_gate(SEL_TSS_C);
	task_idtr.limit = sizeof(task_idt) - 1;
	task_idtr.base = (uint32_t)(uintptr_t)task_idt;
	memset(task_out, 0, sizeof(task_out));

	struct rm_regs r = { .eflags = 0x2 };
	run_pm32(task_snippet, &r);
	/* CALL to a TSS descriptor, IRET back (SDM 8.3, Table 8-2). */
	check_eq(task_out[0], SEL_TSS_B, "task switch: CALL to a TSS loads TR");
	check_eq(task_out[1] & FL_NT, FL_NT, "task switch: CALL sets NT in the new task");
	check_eq(task_out[3] & CR0_TS, CR0_TS, "task switch: CR0.TS is set");
	check_eq(task_out[4], 0x0b0b0b0b, "task switch: GPRs come from the new TSS");
	check_eq(task_tss[1].link, SEL_TSS_A, "task switch: CALL writes the back link");
	check_eq(task_out[5], SEL_TSS_A, "task switch: IRET with NT=1 returns to the back link");
	check_eq(task_out[6] & FL_NT, 0, "task switch: NT clear again in the old task");
	check_eq(task_out[7], 0x12345678, "task switch: the old task's registers come back");
	check_eq(task_tss[1].ebx, 0xdeadbeef, "task switch: IRET saves the task it leaves");
	check_eq(gdt_type(SEL_TSS_B), 9, "task switch: IRET leaves the TSS available");
	check_eq(gdt_type(SEL_TSS_A), 0xb, "task switch: the returned-to TSS stays busy");
	/* Task gates in the IDT (SDM 6.12.2). */
	check_eq(task_out[8], SEL_TSS_C, "task switch: INT n through a task gate");
	check_eq(task_out[9], task_stack_top(1), "task switch: INT n pushes no error code");
	check_eq(task_out[10], 0x100, "task switch: #GP through a task gate pushes its error code");
	check_eq(task_out[11], task_stack_top(2) - 4, "task switch: error code on the new stack");
	check_eq(task_out[13], (uint32_t)(uintptr_t)task_gp_fault,
		 "task switch: a fault saves the faulting EIP");
	check_eq(gdt_type(SEL_TSS_D), 9, "task switch: handler task available after IRET");
	check_eq(str(), SEL_TSS, "TR is the 64-bit TSS again");
}

static void real(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_real(rm_snippet, rm_snippet_end - rm_snippet, &r);
	check_eq(r.eax & 1, 0, "real mode: CR0.PE=0 (SMSW)");
	check_eq(r.ebx & 0xffff, rm_after_int - rm_snippet, "real mode INT pushes IP of the next instruction");
	check_eq(r.edx & 0xffff, 0xbeef, "real mode INT 0x60 ran the IVT handler");
	check_eq((r.esi - r.edi) & 0xffff, 0, "real mode IRET restores SP");
	check_eq(r.ecx & 0xffff, 0x7e57, "real mode segment arithmetic: 2000:0010 == 2001:0000");
	check_eq(*(volatile uint16_t *)phys_ptr(0x20010), 0x7e57, "real mode write landed at physical 0x20010");
	check_eq(r.ds, 0x2001, "real mode DS returned");
	check_eq(r.ebp, 0xfffffffe, "real mode 32-bit operand-size prefix arithmetic");
	check(rdmsr(MSR_EFER) & EFER_LMA, "back in IA-32e mode after real mode");
	/* runtime still works: an exception is caught normally */
	struct fault f;
	if (!fault_try(&f)) {
		__asm__ volatile("ud2");
		fault_end(&f);
	}
	check_eq(f.vector, 6, "IDT works again after the round trip");
}

static void compat(void)
{
	struct rm_regs r = { .eflags = 0x2 };
	run_compat(compat_snippet, &r);
	check_eq(r.eax, 2, "compatibility mode: 0x40 decodes as INC EAX");
	check_eq(r.ebx & EFER_LMA, EFER_LMA, "compatibility mode: EFER.LMA=1");
	check_eq(r.ecx, SEL_KCODE32, "compatibility mode: CS = 32-bit code selector");
	check_eq(r.edx & CR0_PG, CR0_PG, "compatibility mode: paging on");
}

int main(void)
{
	pm32();
	tasks();
	real();
	compat();
	return 0;
}
