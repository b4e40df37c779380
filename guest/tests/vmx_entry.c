/*
 * vmx_entry - a hypervisor kernel that makes VM entry fail on purpose, one check at a
 * time, and checks how it fails (SDM ch.28):
 *   - checks on the VMX controls (SDM 28.2.1) and on the host-state area (28.2.2-
 *     28.2.4): VMfailValid with VM-instruction error 7 or 8 (SDM 32.4);
 *   - checks on the guest-state area (28.3.1): a VM-entry failure exit to HOST_RIP,
 *     exit reason 33 with bit 31 set, qualification 0 or 4 (VMCS link pointer, 28.8);
 *   - the VM-entry MSR-load list (28.4): exit reason 34 | bit 31, qualification the
 *     1-based index of the entry that failed (28.8);
 *   - VMLAUNCH/VMRESUME's own checks (32.3): error 4, 5, and 26 after MOV SS;
 * then enters a tiny guest that runs HLT (exit 12) and VMCALL (exit 18).
 *
 * Every case starts from a valid VMCS (this kernel's own 64-bit world as host and
 * guest state, controls from the capability MSRs) and changes one or two fields.
 * Everything comes from CPUID and the IA32_VMX_* MSRs (App. A), as in a real
 * hypervisor, so the image gives the same results at every level.
 */
#include "vmx_lib.h"

#define ENTRY_FAIL(reason) (0x80000000u | (reason)) /* SDM 26.9.1: bit 31 */

/* The guest: HLT, then VMCALL, then HLT; g_handler is the handler of every vector
 * of the guest's own IDT (event injection). */
extern char g_guest[], g_vmcall[], g_handler[];
__asm__(".text\n"
	"g_guest: hlt\n"
	"g_vmcall: vmcall\n"
	"	hlt\n"
	"g_handler: vmcall\n"
	"	hlt\n");

/* --- what the processor offers ------------------------------------------------------ */

static uint64_t misc;
static struct vmx_ctls ctls; /* the valid baseline */
static uint32_t *vmcs;
static uint8_t *guest_stack;

/* --- a valid VMCS: this kernel's own 64-bit world as host and guest (vmx_lib.h) ------ */

/* The valid VMCS every case starts from (VMCLEAR: a clear launch state). */
static void reset_vmcs(void)
{
	vmx_reset_vmcs(vmcs, &ctls, (uint64_t)(uintptr_t)g_guest, vmx_pa(guest_stack) + 4096);
}

/* --- the cases ---------------------------------------------------------------------- */

enum op_kind { NONE, SET, OR, ANDN };
struct op {
	enum op_kind kind;
	uint32_t field;
	uint64_t value;
};
/* What must happen: VMfailValid(error), or a failure exit (reason, qualification). */
enum { FAILVALID, FAILEXIT };
struct entry_case {
	const char *name; /* with the SDM section */
	struct op op[2];
	int how;
	uint64_t code, qual;
};

#define V7 FAILVALID, VMXERR_ENTRY_INVALID_CONTROL_FIELD, 0
#define V8 FAILVALID, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD, 0
#define X33(q) FAILEXIT, ENTRY_FAIL(EXIT_REASON_INVALID_STATE), (q)
#define X34(q) FAILEXIT, ENTRY_FAIL(EXIT_REASON_MSR_LOAD_FAIL), (q)
#define NC 0x0000800000000000ull /* a non-canonical address */

static uint64_t *msr_list, zero_page_pa, bad_ctl_pin, cr3_targets_over;

static struct entry_case cases[] = {
	/* SDM 28.2.1.1: VM-execution control fields. */
	{ "28.2.1.1 pin-based control not allowed-1",
	  { { OR, VMCS_PIN_BASED_VM_EXEC_CONTROL, 0 } }, V7 }, /* value set at run time */
	{ "28.2.1.1 CR3-target count above IA32_VMX_MISC[24:16]",
	  { { SET, VMCS_CR3_TARGET_COUNT, 0 } }, V7 },
	{ "28.2.1.1 I/O bitmap A not 4-KByte aligned",
	  { { OR, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_USE_IO_BITMAPS },
	    { SET, VMCS_IO_BITMAP_A, 0x1001 } }, V7 },
	{ "28.2.1.1 virtual NMIs without NMI exiting",
	  { { OR, VMCS_PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS } }, V7 },
	{ "28.2.1.1 NMI-window exiting without virtual NMIs",
	  { { OR, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_NMI_WINDOW_EXITING } }, V7 },
	{ "28.2.1.1 enable VPID with VPID 0",
	  { { OR, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CONTROLS },
	    { SET, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_ENABLE_VPID } }, V7 },
	{ "28.2.1.1 unrestricted guest without EPT",
	  { { OR, VMCS_CPU_BASED_VM_EXEC_CONTROL, PROC_SECONDARY_CONTROLS },
	    { SET, VMCS_SECONDARY_VM_EXEC_CONTROL, PROC2_UNRESTRICTED_GUEST } }, V7 },
	/* SDM 28.2.1.2: VM-exit control fields. */
	{ "28.2.1.2 save preemption timer without activating it",
	  { { OR, VMCS_VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER } }, V7 },
	{ "28.2.1.2 VM-exit MSR-store area not 16-byte aligned",
	  { { SET, VMCS_VM_EXIT_MSR_STORE_COUNT, 1 }, { SET, VMCS_VM_EXIT_MSR_STORE_ADDR, 0x1008 } },
	  V7 },
	/* SDM 28.2.1.3: VM-entry control fields. */
	{ "28.2.1.3 injection of reserved interruption type 1",
	  { { SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000120 } }, V7 },
	{ "28.2.1.3 #GP injected without an error code",
	  { { SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x8000030d } }, V7 },
	{ "28.2.1.3 software interrupt with instruction length 16",
	  { { SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000480 },
	    { SET, VMCS_VM_ENTRY_INSTRUCTION_LEN, 16 } }, V7 },
	{ "28.2.1.3 VM-entry MSR-load area not 16-byte aligned",
	  { { SET, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 1 }, { SET, VMCS_VM_ENTRY_MSR_LOAD_ADDR, 0x1004 } },
	  V7 },
	/* SDM 28.2.2: host control registers and MSRs. */
	{ "28.2.2 host CR0.NE = 0", { { ANDN, VMCS_HOST_CR0, CR0_NE } }, V8 },
	{ "28.2.2 host CR4.VMXE = 0", { { ANDN, VMCS_HOST_CR4, CR4_VMXE } }, V8 },
	{ "28.2.2 host CR3 beyond the physical-address width",
	  { { OR, VMCS_HOST_CR3, 1ull << 62 } }, V8 },
	{ "28.2.2 host IA32_SYSENTER_EIP not canonical",
	  { { SET, VMCS_HOST_IA32_SYSENTER_EIP, NC } }, V8 },
	/* SDM 28.2.3: host segment and descriptor-table registers. */
	{ "28.2.3 host CS selector with RPL 3", { { OR, VMCS_HOST_CS_SELECTOR, 3 } }, V8 },
	{ "28.2.3 host TR selector 0", { { SET, VMCS_HOST_TR_SELECTOR, 0 } }, V8 },
	{ "28.2.3 host GDTR base not canonical", { { SET, VMCS_HOST_GDTR_BASE, NC } }, V8 },
	/* SDM 28.2.4: address-space size. */
	{ "28.2.4 IA-32e host with host address-space size 0",
	  { { ANDN, VMCS_VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE } }, V8 },
	{ "28.2.4 64-bit host RIP not canonical", { { SET, VMCS_HOST_RIP, NC } }, V8 },
	/* SDM 28.3.1.1: guest control registers. */
	{ "28.3.1.1 guest CR0.NE = 0", { { ANDN, VMCS_GUEST_CR0, CR0_NE } }, X33(0) },
	{ "28.3.1.1 IA-32e guest with CR4.PAE = 0", { { ANDN, VMCS_GUEST_CR4, CR4_PAE } }, X33(0) },
	/* SDM 28.3.1.2: guest segment registers. */
	{ "28.3.1.2 guest TR.TI = 1", { { OR, VMCS_GUEST_TR_SELECTOR, 4 } }, X33(0) },
	{ "28.3.1.2 guest CS of data type", { { SET, VMCS_GUEST_CS_AR_BYTES, 0xa093 } }, X33(0) },
	{ "28.3.1.2 guest CS.L and CS.D both 1",
	  { { OR, VMCS_GUEST_CS_AR_BYTES, 0x4000 } }, X33(0) },
	{ "28.3.1.2 guest TR an available TSS", { { SET, VMCS_GUEST_TR_AR_BYTES, 0x89 } }, X33(0) },
	/* SDM 28.3.1.3, 28.3.1.4. */
	{ "28.3.1.3 guest GDTR limit above FFFFH", { { SET, VMCS_GUEST_GDTR_LIMIT, 0x10000 } },
	  X33(0) },
	{ "28.3.1.4 guest RIP not canonical", { { SET, VMCS_GUEST_RIP, NC } }, X33(0) },
	{ "28.3.1.4 guest RFLAGS bit 1 = 0", { { SET, VMCS_GUEST_RFLAGS, 0 } }, X33(0) },
	{ "28.3.1.4 guest RFLAGS.VM in an IA-32e guest",
	  { { SET, VMCS_GUEST_RFLAGS, 0x20002 } }, X33(0) },
	{ "28.3.1.4 external interrupt injected with RFLAGS.IF = 0",
	  { { SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000020 } }, X33(0) },
	/* SDM 28.3.1.5: non-register state. */
	{ "28.3.1.5 activity state 5", { { SET, VMCS_GUEST_ACTIVITY_STATE, 5 } }, X33(0) },
	{ "28.3.1.5 blocking by STI with RFLAGS.IF = 0",
	  { { SET, VMCS_GUEST_INTERRUPTIBILITY_INFO, 1 } }, X33(0) },
	{ "28.3.1.5 interruptibility reserved bit 5",
	  { { SET, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0x20 } }, X33(0) },
	{ "28.3.1.5 pending debug exceptions reserved bit 4",
	  { { SET, VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0x10 } }, X33(0) },
	{ "28.3.1.5 #UD injected into the HLT state",
	  { { SET, VMCS_GUEST_ACTIVITY_STATE, 1 }, { SET, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0x80000306 } },
	  X33(0) },
	{ "28.3.1.5 VMCS link pointer not 4-KByte aligned (qualification 4)",
	  { { SET, VMCS_VMCS_LINK_POINTER, 0x1234 } }, X33(4) },
	{ "28.3.1.5 VMCS link pointer to a region without the revision id (qualification 4)",
	  { { SET, VMCS_VMCS_LINK_POINTER, 0 } }, X33(4) }, /* value set at run time */
	/* SDM 28.4: the VM-entry MSR-load list (the list is set up at run time). */
	{ "28.4 MSR-load entry 2 loads IA32_FS_BASE (qualification 2)",
	  { { SET, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 2 } }, X34(2) },
	{ "28.4 MSR-load entry 3 with reserved bits 63:32 set (qualification 3)",
	  { { SET, VMCS_VM_ENTRY_MSR_LOAD_COUNT, 4 } }, X34(3) },
};

/* Values only known at run time. */
static void patch_cases(void)
{
	uint32_t may1 = (uint32_t)(vmx_ctl_cap(MSR_IA32_VMX_PINBASED_CTLS) >> 32);
	for (bad_ctl_pin = 1; bad_ctl_pin && (may1 & bad_ctl_pin); bad_ctl_pin <<= 1)
		;
	cr3_targets_over = ((misc >> 16) & 0x1ff) + 1;
	uint64_t *zero = alloc_page();
	memset(zero, 0, 4096);
	zero_page_pa = vmx_pa(zero);
	/* MSR-load list (SDM 26.8.2 Table 26-15): index, reserved, data. */
	msr_list = alloc_page();
	memset(msr_list, 0, 4096);
	msr_list[0] = MSR_SYSENTER_CS;
	msr_list[1] = rdmsr(MSR_SYSENTER_CS);
	msr_list[2] = MSR_FS_BASE;
	msr_list[3] = 0;
	cases[0].op[0].value = bad_ctl_pin;
	cases[1].op[0].value = cr3_targets_over;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].op[0].field == VMCS_VMCS_LINK_POINTER && !cases[i].op[0].value)
			cases[i].op[0].value = zero_page_pa;
		if (cases[i].op[0].field == VMCS_VM_ENTRY_MSR_LOAD_COUNT && cases[i].op[1].kind == NONE)
			cases[i].op[1] = (struct op){ SET, VMCS_VM_ENTRY_MSR_LOAD_ADDR,
						      vmx_pa(msr_list) };
	}
}

static void apply(const struct op *op)
{
	switch (op->kind) {
	case SET: vmcs_write(op->field, op->value); break;
	case OR: vmcs_write(op->field, vmcs_read(op->field) | op->value); break;
	case ANDN: vmcs_write(op->field, vmcs_read(op->field) & ~op->value); break;
	default: break;
	}
}

static void run_case(const struct entry_case *c)
{
	reset_vmcs();
	/* The MSR-list cases use two lists: entries 1-2 (FS_BASE second) or 1-4 with
	 * entry 3 carrying reserved bits (entry 2 valid then). */
	if (c->how == FAILEXIT && c->code == ENTRY_FAIL(EXIT_REASON_MSR_LOAD_FAIL)) {
		bool reserved = c->qual == 3;
		msr_list[2] = reserved ? MSR_SYSENTER_CS : MSR_FS_BASE;
		msr_list[3] = rdmsr(MSR_SYSENTER_CS);
		msr_list[4] = MSR_SYSENTER_CS | (1ull << 32);
		msr_list[5] = rdmsr(MSR_SYSENTER_CS);
	}
	apply(&c->op[0]);
	apply(&c->op[1]);
	vmcs_write(VMCS_VM_EXIT_REASON, 0);
	int r = vmx_guest_run(VMX_LAUNCH);
	if (c->how == FAILVALID) {
		if (r != VMX_FAIL_VALID) {
			checkf(false, "%s: %s (expected VMfailValid(%lu)); exit reason %lx", c->name,
			       r ? vmx_outcome_name(r) : "entered", c->code, vmcs_read(VMCS_VM_EXIT_REASON));
			return;
		}
		check_eqf(vmx_insn_error(), c->code, "%s: VMfailValid, error", c->name);
		return;
	}
	if (r != 0) {
		checkf(false, "%s: %s, error %lu (expected exit %lx)", c->name, vmx_outcome_name(r),
		       vmx_insn_error(), c->code);
		return;
	}
	check_eqf(vmcs_read(VMCS_VM_EXIT_REASON), c->code, "%s: exit reason", c->name);
	check_eqf(vmcs_read(VMCS_EXIT_QUALIFICATION), c->qual, "%s: exit qualification", c->name);
}

/* SDM 32.3: VMLAUNCH/VMRESUME's own checks and a successful entry. */
static void run_success(void)
{
	reset_vmcs();
	int r = vmx_guest_run(VMX_RESUME);
	checkf(r == VMX_FAIL_VALID && vmx_insn_error() == VMXERR_VMRESUME_NONLAUNCHED_VMCS,
	       "32.3 VMRESUME of a clear VMCS: VMfailValid(5) (got %d, error %lu)", r,
	       vmx_insn_error());
	r = vmx_guest_run(VMX_LAUNCH_AFTER_MOV_SS);
	checkf(r == VMX_FAIL_VALID && vmx_insn_error() == VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS,
	       "32.3 VMLAUNCH after MOV SS: VMfailValid(26) (got %d, error %lu)", r,
	       vmx_insn_error());
	/* The tiny guest: HLT (HLT exiting, reason 12), then VMCALL (reason 18). */
	r = vmx_guest_run(VMX_LAUNCH);
	if (r) {
		checkf(false, "VMLAUNCH of the valid VMCS: %s, error %lu", vmx_outcome_name(r),
		       vmx_insn_error());
		return;
	}
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_HLT, "guest HLT: exit reason 12");
	check_eq(vmcs_read(VMCS_GUEST_RIP), (uint64_t)(uintptr_t)g_guest, "guest HLT: guest RIP");
	check_eq(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), 1, "guest HLT: instruction length");
	r = vmx_guest_run(VMX_LAUNCH);
	checkf(r == VMX_FAIL_VALID && vmx_insn_error() == VMXERR_VMLAUNCH_NONCLEAR_VMCS,
	       "32.3 VMLAUNCH of a launched VMCS: VMfailValid(4) (got %d, error %lu)", r,
	       vmx_insn_error());
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + 1);
	r = vmx_guest_run(VMX_RESUME);
	check_eq(r, 0, "VMRESUME after the HLT exit");
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_VMCALL, "guest VMCALL: exit reason 18");
	check_eq(vmcs_read(VMCS_GUEST_RIP), (uint64_t)(uintptr_t)g_vmcall, "guest VMCALL: guest RIP");
	check_eq(vmcs_read(VMCS_VM_EXIT_INSTRUCTION_LEN), 3, "guest VMCALL: instruction length");
}

/* SDM 28.6: event injection through the guest's IDT (64-bit interrupt gates to
 * g_handler, a VMCALL): the frame the guest's handler finds, RIP + VM-entry
 * instruction length for software interrupts, the error code of #GP. After the VMCALL
 * exit, the valid bit of the VM-entry interruption information is clear (SDM 29.2). */
struct inj_case {
	const char *name;
	uint32_t info, err, len;
	uint64_t rflags;
	uint64_t ret_off; /* return address - g_guest */
	bool code;        /* an error code below the return address */
};

static void run_injection(void)
{
	static const struct inj_case inj[] = {
		{ "28.6.1 external interrupt 40H", 0x80000040, 0, 0, 0x202, 0, false },
		{ "28.6.1 software interrupt 81H, length 2", 0x80000481, 0, 2, 0x2, 2, false },
		{ "28.6.1 software exception #BP, length 1", 0x80000603, 0, 1, 0x2, 1, false },
		{ "28.6.1 #GP with error code 10H", 0x80000b0d, 0x10, 0, 0x2, 0, true },
	};
	uint64_t *idt = alloc_page(), *stack = alloc_page();
	uint16_t cs = vmx_selector(VMX_CS);
	uint64_t h = (uint64_t)(uintptr_t)g_handler;
	for (int v = 0; v < 256; v++) { /* 64-bit interrupt gate, DPL 3, P (SDM 6.14.1) */
		idt[2 * v] = (h & 0xffff) | ((uint64_t)cs << 16) | (0xeeull << 40) |
			     ((h >> 16) << 48);
		idt[2 * v + 1] = h >> 32;
	}
	for (size_t i = 0; i < ARRAY_SIZE(inj); i++) {
		const struct inj_case *c = &inj[i];
		reset_vmcs();
		vmcs_write(VMCS_GUEST_IDTR_BASE, vmx_pa(idt));
		vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0xfff);
		vmcs_write(VMCS_GUEST_RSP, vmx_pa(stack) + 4096);
		vmcs_write(VMCS_GUEST_RFLAGS, c->rflags);
		vmcs_write(VMCS_VM_ENTRY_INTR_INFO_FIELD, c->info);
		vmcs_write(VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, c->err);
		vmcs_write(VMCS_VM_ENTRY_INSTRUCTION_LEN, c->len);
		int r = vmx_guest_run(VMX_LAUNCH);
		if (r || vmcs_read(VMCS_VM_EXIT_REASON) != EXIT_REASON_VMCALL) {
			checkf(false, "%s: %s, exit reason %lu (expected VMCALL in the handler)",
			       c->name, r ? vmx_outcome_name(r) : "entered", vmcs_read(VMCS_VM_EXIT_REASON));
			continue;
		}
		check_eqf(vmcs_read(VMCS_GUEST_RIP), h, "%s: delivered to the handler", c->name);
		const uint64_t *frame = (const uint64_t *)(uintptr_t)vmcs_read(VMCS_GUEST_RSP);
		if (c->code)
			check_eqf(*frame++, c->err, "%s: error code pushed", c->name);
		check_eqf(frame[0], (uint64_t)(uintptr_t)g_guest + c->ret_off,
			  "%s: return address", c->name);
		check_eqf(frame[1], cs, "%s: CS pushed", c->name);
		check_eqf(frame[2] & ~BIT(16), c->rflags, "%s: RFLAGS pushed (but RF)", c->name);
		check_eqf(frame[3], vmx_pa(stack) + 4096, "%s: RSP pushed", c->name);
		check_eqf(vmcs_read(VMCS_VM_ENTRY_INTR_INFO_FIELD) & 0x80000000u, 0,
			  "%s: VM-entry interruption information invalid after the exit",
			  c->name);
	}
}

int main(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_entry", "CPUID.1:ECX.VMX = 0");
		return 0;
	}
	misc = rdmsr(MSR_IA32_VMX_MISC);
	guest_stack = alloc_page();
	vmcs = vmx_enter_baseline(&ctls.pin, &ctls.proc, &ctls.exit, &ctls.entry);
	if (!vmcs)
		return 0;
	patch_cases();
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	run_success();
	run_injection();
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the exits");
	return 0;
}
