/*
 * L0's task-switch exits (exit_task.c): the silicon exits instead of switching tasks
 * (SDM 27.4.2) and L0 performs the switch on the guest's state with the silicon's
 * task.c on an emulation context. Each case feeds one exit (reason 9, qualification
 * of SDM 29.2.1 Table 29-2, IDT-vectoring information of SDM 29.2.4) to a flat 32-bit
 * guest with paging off and checks the guest state in the VMCS and the GPRs, the
 * TSSs and GDT in guest memory (SDM 8.3, Table 8-2), and that a fault of the switch is
 * injected (SDM 28.6.1) rather than stopping the VM.
 */
#include "hv_harness.h"

#include "cpu/vmx/vmx_arch.h"

#define GDT 0x1000ULL
#define IDT 0x2000ULL
#define TSS_A 0x3000ULL  /* the current task */
#define TSS_B 0x3100ULL  /* the new task */
#define STACK_B 0x8000u
#define EIP_A 0x5000u
#define EIP_B 0x9000u

enum { SEL_CODE = 0x08, SEL_DATA = 0x10, SEL_TSS_A = 0x28, SEL_TSS_B = 0x30 };
enum { SRC_CALL = 0, SRC_IRET = 1, SRC_JMP = 2, SRC_GATE = 3 };
#define QUAL(sel, src) ((uint64_t)(sel) | (uint64_t)(src) << 30)

static uint8_t *ram(uint64_t pa) { return SB.ram + pa; }
static uint32_t rd32(uint64_t pa) { uint32_t x; memcpy(&x, ram(pa), 4); return x; }
static uint16_t rd16(uint64_t pa) { uint16_t x; memcpy(&x, ram(pa), 2); return x; }
static void wr32(uint64_t pa, uint32_t x) { memcpy(ram(pa), &x, 4); }
static void wr16(uint64_t pa, uint16_t x) { memcpy(ram(pa), &x, 2); }

static uint64_t desc(uint32_t base, uint32_t limit, unsigned type, bool s, bool p, unsigned fl)
{
	return (limit & 0xFFFFULL) | ((uint64_t)(base & 0xFFFFFF) << 16) | ((uint64_t)type << 40) |
	       ((uint64_t)s << 44) | ((uint64_t)p << 47) | ((uint64_t)((limit >> 16) & 0xF) << 48) |
	       ((uint64_t)fl << 52) | ((uint64_t)(base >> 24) << 56);
}

static void gdt_set(uint16_t sel, uint64_t d) { memcpy(ram(GDT + sel), &d, 8); }
static unsigned gdt_type(uint16_t sel) { return ram(GDT + sel)[5] & 0xF; }

/* A ready 32-bit TSS (SDM 8.2.1 Figure 8-2): EIP_B, ring-0 flat segments, GPRs
 * 0xB0 + n, ESP STACK_B, cs its CS selector. */
static void tss_b(uint16_t cs)
{
	memset(ram(TSS_B), 0, 0x68);
	wr32(TSS_B + 0x20, EIP_B);
	wr32(TSS_B + 0x24, RFLAGS_FIXED1);
	for (int r = 0; r < 8; r++)
		wr32(TSS_B + 0x28 + 4 * (uint64_t)r, r == RSP ? STACK_B : 0xB0u + (unsigned)r);
	for (int s = 0; s < SEG_COUNT; s++)
		wr16(TSS_B + 0x48 + 4 * (uint64_t)s, s == SEG_CS ? cs : SEL_DATA);
}

static void put_seg(struct hv_vcpu *v, int i, uint16_t sel, uint64_t base, uint32_t limit,
		    uint32_t ar)
{
	hv_seg_write(v, i, &(struct seg){ .sel = sel, .base = base, .limit = limit, .ar = ar });
}

/* Task A runs at EIP_A with GPRs 0xA0 + n: flat 32-bit, paging off, TR = TSS_A (busy),
 * TSS_B available, both in the GDT. */
static struct hv_vcpu *in_task_a(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, EIP_A);
	for (int s = 0; s < SEG_COUNT; s++)
		put_seg(v, s, s == SEG_CS ? SEL_CODE : SEL_DATA, 0, 0xFFFFFFFF,
			(s == SEG_CS ? 0xB : 0x3) | AR_S | AR_P | AR_DB | AR_G);
	put_seg(v, HV_SEG_LDTR, 0, 0, 0, AR_UNUSABLE);
	put_seg(v, HV_SEG_TR, SEL_TSS_A, TSS_A, 0x67, 0xB | AR_P);
	hv_vmwrite(v, VMCS_GUEST_GDTR_BASE, GDT);
	hv_vmwrite(v, VMCS_GUEST_GDTR_LIMIT, 0x3F);
	hv_vmwrite(v, VMCS_GUEST_IDTR_BASE, IDT);
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, 0x7FF);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	memset(ram(GDT), 0, 0x40);
	gdt_set(SEL_CODE, desc(0, 0xFFFFF, 0xB, true, true, 0xC));
	gdt_set(SEL_DATA, desc(0, 0xFFFFF, 0x3, true, true, 0xC));
	gdt_set(SEL_TSS_A, desc((uint32_t)TSS_A, 0x67, 0xB, false, true, 0));
	gdt_set(SEL_TSS_B, desc((uint32_t)TSS_B, 0x67, 0x9, false, true, 0));
	memset(ram(TSS_A), 0, 0x68);
	tss_b(SEL_CODE);
	for (int r = 0; r < 8; r++)
		hv_gpr_write(v, r, r == RSP ? 0x7000u : 0xA0u + (unsigned)r);
	v->reinject_info = 0;
	return v;
}

/* The silicon's exit: qualification, length, IDT-vectoring information (saved for
 * re-injection as after every exit, vcpu.c), then L0's dispatch. */
static enum hv_action task_exit(struct hv_vcpu *v, uint64_t qual, uint32_t len,
				uint32_t vectoring, uint32_t vec_err)
{
	hv_vmwrite(v, VMCS_VM_EXIT_REASON, EXIT_REASON_TASK_SWITCH);
	hv_vmwrite(v, VMCS_EXIT_QUALIFICATION, qual);
	hv_vmwrite(v, VMCS_VM_EXIT_INSTRUCTION_LEN, len);
	hv_vmwrite(v, VMCS_IDT_VECTORING_INFO_FIELD, vectoring);
	hv_vmwrite(v, VMCS_IDT_VECTORING_ERROR_CODE, vec_err);
	hv_save_vectoring(v);
	return hv_handle_exit(v, EXIT_REASON_TASK_SWITCH);
}

/* The new task runs: TR, RIP, GPRs, segments from TSS_B, CR0.TS (SDM 8.3 steps 11-13). */
static void check_in_task_b(struct hv_vcpu *v, uint32_t esp)
{
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_SELECTOR), SEL_TSS_B);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_BASE), TSS_B);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_AR_BYTES) & 0xF, 0xB);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), EIP_B);
	CHECK_EQ(hv_gpr_read(v, RAX), 0xB0);
	CHECK_EQ(hv_gpr_read(v, RDI), 0xB7);
	CHECK_EQ(hv_gpr_read(v, RSP), esp);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_CS_SELECTOR), SEL_CODE);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_SS_SELECTOR), SEL_DATA);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_DS_AR_BYTES) & AR_UNUSABLE, 0);
	CHECK(hv_vmread(v, VMCS_CR0_READ_SHADOW) & CR0_TS);
	CHECK(hv_vmread(v, VMCS_GUEST_CR0) & CR0_TS);
	CHECK_EQ(gdt_type(SEL_TSS_B), 0xB);
	CHECK_EQ(VM->shutdown, NULL);
}

static void test_call_and_iret(void)
{
	/* CALL (source 0, length 7): the old TSS saves EIP past the CALL and task A's
	 * GPRs; the back link and NT nest the new task (Table 8-2). */
	struct hv_vcpu *v = in_task_a();
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_CALL), 7, 0, 0), HV_RESUME);
	check_in_task_b(v, STACK_B);
	CHECK(hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_NT);
	CHECK_EQ(rd32(TSS_A + 0x20), EIP_A + 7);
	CHECK_EQ(rd32(TSS_A + 0x28), 0xA0);
	CHECK_EQ(rd32(TSS_A + 0x38), 0x7000); /* ESP */
	CHECK_EQ(rd16(TSS_A + 0x4C), SEL_CODE);
	CHECK_EQ(rd16(TSS_B), SEL_TSS_A);
	CHECK_EQ(gdt_type(SEL_TSS_A), 0xB);
	CHECK_EQ(v->reinject_info, 0);
	/* IRET with NT (source 1): back to task A at EIP_A + 7 with its GPRs; B becomes
	 * available, NT is clear, and the IRET ends NMI blocking (SDM 6.7.1). */
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
	hv_gpr_write(v, RAX, 0xBEEF);
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_A, SRC_IRET), 1, 0, 0), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_SELECTOR), SEL_TSS_A);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), EIP_A + 7);
	CHECK_EQ(hv_gpr_read(v, RAX), 0xA0);
	CHECK_EQ(hv_gpr_read(v, RSP), 0x7000);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_NT, 0);
	CHECK_EQ(rd32(TSS_B + 0x28), 0xBEEF);
	CHECK_EQ(rd32(TSS_B + 0x20), EIP_B + 1);
	CHECK_EQ(gdt_type(SEL_TSS_B), 0x9);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_NMI, 0);
}

static void test_jmp(void)
{
	/* JMP (source 2): the old TSS becomes available, no back link, no NT. */
	struct hv_vcpu *v = in_task_a();
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_JMP), 7, 0, 0), HV_RESUME);
	check_in_task_b(v, STACK_B);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_NT, 0);
	CHECK_EQ(gdt_type(SEL_TSS_A), 0x9);
	CHECK_EQ(rd16(TSS_B), 0);
	CHECK_EQ(rd32(TSS_A + 0x20), EIP_A + 7);
}

static void test_idt_gate(void)
{
	/* #GP(1234H) through a task gate (source 3): the return EIP is the faulting
	 * instruction, the error code goes on the new stack, the event is consumed (not
	 * re-injected). */
	struct hv_vcpu *v = in_task_a();
	uint32_t gp = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | INTR_INFO_DELIVER_CODE | EXC_GP;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 0, gp, 0x1234), HV_RESUME);
	check_in_task_b(v, STACK_B - 4);
	CHECK_EQ(rd32(STACK_B - 4), 0x1234);
	CHECK_EQ(rd32(TSS_A + 0x20), EIP_A);
	CHECK_EQ(rd16(TSS_B), SEL_TSS_A);
	CHECK(hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_NT);
	CHECK_EQ(v->reinject_info, 0);
	/* INT 41H (software interrupt): returns past the INT (length 2), no error code. */
	v = in_task_a();
	uint32_t sw = INTR_INFO_VALID | INTR_TYPE_SW_INTR << 8 | 0x41;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 2, sw, 0), HV_RESUME);
	check_in_task_b(v, STACK_B);
	CHECK_EQ(rd32(TSS_A + 0x20), EIP_A + 2);
	CHECK_EQ(v->reinject_info, 0);
	/* An NMI through a task gate blocks NMIs (SDM 6.7.1). */
	v = in_task_a();
	uint32_t nmi = INTR_INFO_VALID | INTR_TYPE_NMI << 8 | EXC_NMI;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 0, nmi, 0), HV_RESUME);
	check_in_task_b(v, STACK_B);
	CHECK(hv_vmread(v, VMCS_GUEST_INTERRUPTIBILITY_INFO) & INTERRUPTIBILITY_NMI);
	CHECK_EQ(v->reinject_info, 0);
}

#define HW_EXC_CODE(v) (INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | INTR_INFO_DELIVER_CODE | (v))

static void test_faults(void)
{
	/* After the commit point: the new task's CS is a data segment, #TS(CS) (SDM 8.3
	 * Table 8-1) in the new task, injected at the next entry; the VM goes on. */
	struct hv_vcpu *v = in_task_a();
	tss_b(SEL_DATA);
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_CALL), 7, 0, 0), HV_RESUME);
	CHECK_EQ(VM->shutdown, NULL);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_TS));
	CHECK_EQ(v->reinject_error, SEL_DATA);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_SELECTOR), SEL_TSS_B);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), EIP_B);
	/* CS holds a usable code cache for VM entry (exit_task.c limits). */
	uint64_t cs_ar = hv_vmread(v, VMCS_GUEST_CS_AR_BYTES);
	CHECK_EQ(cs_ar & AR_UNUSABLE, 0);
	CHECK_EQ(cs_ar & 0x1F, 0x1B);
	/* Before it: the TSS descriptor lost its P flag since the exit, #NP(TSS) with
	 * task A's state untouched (RIP at the CALL). */
	v = in_task_a();
	gdt_set(SEL_TSS_B, desc((uint32_t)TSS_B, 0x67, 0x9, false, false, 0));
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_CALL), 7, 0, 0), HV_RESUME);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_NP));
	CHECK_EQ(v->reinject_error, SEL_TSS_B);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_SELECTOR), SEL_TSS_A);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), EIP_A);
	CHECK_EQ(hv_gpr_read(v, RAX), 0xA0);
	CHECK_EQ(rd32(TSS_A + 0x20), 0);
	/* IRET to a back link that is not busy: #TS(link) (SDM 6.15 Table 6-6). */
	v = in_task_a();
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_IRET), 1, 0, 0), HV_RESUME);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_TS));
	CHECK_EQ(v->reinject_error, SEL_TSS_B);
	/* The new task's SS not present: #SS(SS) (Table 8-1). */
	v = in_task_a();
	gdt_set(0x18, desc(0, 0xFFFFF, 0x3, true, false, 0xC));
	wr16(TSS_B + 0x50, 0x18);
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_JMP), 7, 0, 0), HV_RESUME);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_SS));
	CHECK_EQ(v->reinject_error, 0x18);
	CHECK_EQ(VM->shutdown, NULL);
}

/* End to end through hv_vcpu_run(): the guest's JMP to TSS_B exits (SDM 27.4.2), L0
 * switches, the new task's DS is not present (#NP(DS), Table 8-1, after CS and SS were
 * loaded), and the next VM entry delivers the #NP through the guest's IDT in the new
 * task: its handler pops the error code and writes it to the test port. */
static void test_run(void)
{
	struct hv_vcpu *v = in_task_a();
	static const uint8_t jmp[] = { 0xEA, 0, 0, 0, 0, SEL_TSS_B, 0 }; /* jmp 30h:0 */
	static const uint8_t handler[] = {
		0x58,                         /* pop eax */
		0xBA, 0x00, 0x05, 0x00, 0x00, /* mov edx, 0x500 */
		0xEE,                         /* out dx, al */
		0xF4,                         /* hlt */
	};
	memcpy(ram(EIP_A), jmp, sizeof(jmp));
	memcpy(ram(0x6000), handler, sizeof(handler));
	memset(ram(IDT), 0, 0x800);
	uint64_t gate = 0x6000 | (uint64_t)SEL_CODE << 16 | 0xEULL << 40 | 1ULL << 47;
	memcpy(ram(IDT + 8 * EXC_NP), &gate, 8);
	gdt_set(0x18, desc(0, 0xFFFFF, 0x3, true, false, 0xC));
	wr16(TSS_B + 0x54, 0x18); /* DS */
	DEV.n_out = 0;
	uint64_t switches = VM->stats[EXIT_REASON_TASK_SWITCH].count;
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK_EQ(VM->shutdown, NULL);
	CHECK_EQ(VM->stats[EXIT_REASON_TASK_SWITCH].count, switches + 1);
	CHECK_EQ(DEV.n_out, 1);
	CHECK_EQ(DEV.value, 0x18);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_TR_SELECTOR), SEL_TSS_B);
	CHECK_EQ(rd32(TSS_A + 0x20), EIP_A + sizeof(jmp));
}

/* SDM 6.15 Table 6-5: the switch faults while a #GP is delivered through the task
 * gate: contributory after contributory is #DF(0); during a #DF it is a triple fault,
 * which shuts the VM down (last: the VM is dead afterwards). */
static void test_double_fault(void)
{
	struct hv_vcpu *v = in_task_a();
	tss_b(SEL_DATA);
	uint32_t gp = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | INTR_INFO_DELIVER_CODE | EXC_GP;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 0, gp, 0), HV_RESUME);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_DF));
	CHECK_EQ(v->reinject_error, 0);
	/* A benign event first (an external interrupt): the #TS alone. */
	v = in_task_a();
	tss_b(SEL_DATA);
	uint32_t ext = INTR_INFO_VALID | INTR_TYPE_EXT_INTR << 8 | 0x30;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 0, ext, 0), HV_RESUME);
	CHECK_EQ(v->reinject_info, HW_EXC_CODE(EXC_TS));
	CHECK_EQ(v->reinject_error, SEL_DATA | 1); /* EXT: an external event (SDM 6.13) */
	v = in_task_a();
	tss_b(SEL_DATA);
	uint32_t df = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION << 8 | INTR_INFO_DELIVER_CODE | EXC_DF;
	CHECK_EQ(task_exit(v, QUAL(SEL_TSS_B, SRC_GATE), 0, df, 0), HV_SHUTDOWN);
	CHECK(VM->triple_fault);
}

int main(void)
{
	hv_setup(1);
	test_call_and_iret();
	test_jmp();
	test_idt_gate();
	test_faults();
	test_run();
	test_double_fault();
	hv_teardown(1);
	return report("hv_taskswitch");
}
