/*
 * Instruction exits end to end, the way L0 sees them: a 64-bit guest in RAM entered
 * with vmx_vmlaunch()/vmx_vmresume() (native VMM), the controls taken from the VMCS
 * at VM entry, the guest's code decoded and bound in non-root operation by the run
 * loop, and each exit read back from the VMCS (SDM 27.1, 27.3, 29.2).
 */
#include "vmx_harness.h"

#include "cpu/sys.h"
#include "cpu/vmx/vmx_internal.h"

#define IO_BITMAP_A 0x40000ULL
#define IO_BITMAP_B 0x41000ULL
#define MSR_BITMAP 0x42000ULL
#define VAPIC_PAGE 0x43000ULL
#define TSC_OFF 0x100000000000ULL

/* The guest: offsets from CODE_BASE. */
static const uint8_t guest_code[] = {
	0x0F, 0xA2,             /*  0: cpuid            exit 10 */
	0xF3, 0x90,             /*  2: pause            exit 40 */
	0x0F, 0x31,             /*  4: rdtsc            TSC + offset, no exit */
	0xE6, 0x80,             /*  6: out 80h, al      exit 30 (I/O bitmap A) */
	0x44, 0x0F, 0x22, 0xC0, /*  8: mov cr8, rax     VTPR, then exit 43 (trap) */
	0x0F, 0x20, 0xC3,       /* 12: mov rbx, cr0     CR0 read shadow, no exit */
	0x0F, 0x32,             /* 15: rdmsr            exit 31 (read-high bitmap) */
	0xF4,                   /* 17: hlt              exit 12 */
};

static void set_bit(gpa_t base, uint32_t bit)
{
	B.ram[base + (bit >> 3)] |= (uint8_t)(1u << (bit & 7));
}

static void setup(void)
{
	put_bytes(CODE_BASE, guest_code, sizeof(guest_code));
	memset(B.ram + IO_BITMAP_A, 0, 4 * 4096);
	set_bit(IO_BITMAP_A, 0x80);
	set_bit(MSR_BITMAP + 1024, 0x80); /* read-high: C0000080H */
	B.ram[VAPIC_PAGE + 0x80] = 0x20;  /* VTPR: not below the threshold at entry */
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL,
	   VMX_PROC_MUST1 | PROC_HLT_EXITING | PROC_PAUSE_EXITING | PROC_USE_TSC_OFFSETTING |
		   PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_TPR_SHADOW);
	vw(VMCS_IO_BITMAP_A, IO_BITMAP_A);
	vw(VMCS_IO_BITMAP_B, IO_BITMAP_B);
	vw(VMCS_MSR_BITMAP, MSR_BITMAP);
	vw(VMCS_VIRTUAL_APIC_PAGE_ADDR, VAPIC_PAGE);
	vw(VMCS_TPR_THRESHOLD, 2);
	vw(VMCS_TSC_OFFSET, TSC_OFF);
	vw(VMCS_CR0_GUEST_HOST_MASK, CR0_TS);
	vw(VMCS_CR0_READ_SHADOW, CR0_TS);
}

/* The last exit: basic reason, qualification, length, guest RIP (offset). */
static void check_exit(uint32_t reason, uint64_t qual, uint32_t len, uint64_t off)
{
	CHECK_EQ(exit_reason(), reason);
	CHECK_EQ(vr(VMCS_EXIT_QUALIFICATION), qual);
	if (len)
		CHECK_EQ(vr(VMCS_VM_EXIT_INSTRUCTION_LEN), len);
	CHECK_EQ(vr(VMCS_GUEST_RIP), CODE_BASE + off);
	CHECK(!C->vmx.non_root);
}

/* Resume after an instruction exit: the VMM skips the instruction. */
static enum vmx_result skip_and_resume(void)
{
	vw(VMCS_GUEST_RIP, vr(VMCS_GUEST_RIP) + vr(VMCS_VM_EXIT_INSTRUCTION_LEN));
	return vmx_vmresume(C);
}

/* A real-mode guest with "unrestricted guest": 16-bit addressing and operand size in
 * the instruction information (SDM 29.2.x), and the #UD that LLDT and the VMX
 * instructions other than VMCALL raise with CR0.PE = 0 before any exit (SDM 27.1.1,
 * 32.3), seen through the exception bitmap (SDM 27.2.1). */
static const uint8_t real_code[] = {
	0x0F, 0x01, 0x16, 0x00, 0x10,       /*  0: lgdt [1000h]       exit 46 */
	0x66, 0x0F, 0x01, 0x0E, 0xF0, 0x0F, /*  5: o32 sidt [0FF0h]   exit 46 */
	0x0F, 0x00, 0xD0,                   /* 11: lldt ax            #UD */
	0x0F, 0x01, 0xC1,                   /* 14: vmcall             exit 18 */
	0x0F, 0xC7, 0x36, 0x00, 0x20,       /* 17: vmptrld [2000h]    #UD */
	0xE4, 0x80,                         /* 22: in al, 80h         exit 30 */
	0xF4,                               /* 24: hlt                exit 12 */
};

/* check_exit() takes offsets from CODE_BASE; a real-mode RIP is the offset in CS,
 * whose base is CODE_BASE. */
#define IP(off) ((uint64_t)(off) - CODE_BASE)

static void check_ud_exit(uint64_t off)
{
	CHECK_EQ(exit_reason(), EXIT_REASON_EXCEPTION_NMI);
	CHECK_EQ(vr(VMCS_VM_EXIT_INTR_INFO),
		 INTR_INFO_VALID | (INTR_TYPE_HW_EXCEPTION << INTR_INFO_TYPE_SHIFT) | EXC_UD);
	CHECK_EQ(vr(VMCS_GUEST_RIP), off);
}

static void test_real_mode(void)
{
	vmcs_clear_fields();
	vmcs_setup_guest_real();
	put_bytes(CODE_BASE, real_code, sizeof(real_code));
	vw(VMCS_CPU_BASED_VM_EXEC_CONTROL, VMX_PROC_MUST1 | PROC_HLT_EXITING |
					   PROC_UNCOND_IO_EXITING | PROC_SECONDARY_CONTROLS);
	vw(VMCS_SECONDARY_VM_EXEC_CONTROL,
	   PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_DESC_TABLE_EXITING);
	vw(VMCS_EXCEPTION_BITMAP, 1u << EXC_UD);
	/* LGDT m16&32 with 16-bit addressing: address size 0, DS, no base or index,
	 * operand size 16 (bit 11 = 0), identity LGDT; the displacement. */
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	check_exit(EXIT_REASON_GDTR_IDTR, 0x1000, 5, IP(0));
	CHECK_EQ(vr(VMCS_VMX_INSTRUCTION_INFO),
		 (3u << 15) | BIT(22) | BIT(27) | (2u << 28));
	/* O32 SIDT: bit 11 = 1, identity SIDT. */
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_exit(EXIT_REASON_GDTR_IDTR, 0xFF0, 6, IP(5));
	CHECK_EQ(vr(VMCS_VMX_INSTRUCTION_INFO),
		 (3u << 15) | BIT(22) | BIT(27) | BIT(11) | (1u << 28));
	/* LLDT in real mode: #UD, not a descriptor-table exit. */
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_ud_exit(11);
	/* VMCALL exits in any mode; VMPTRLD with CR0.PE = 0 is #UD. */
	vw(VMCS_GUEST_RIP, 14);
	CHECK_EQ(vmx_vmresume(C), VMX_SUCCEED);
	check_exit(EXIT_REASON_VMCALL, 0, 3, IP(14));
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_ud_exit(17);
	/* IN AL, 80h: I/O exits the same in real mode (no IOPL check there). */
	vw(VMCS_GUEST_RIP, 22);
	CHECK_EQ(vmx_vmresume(C), VMX_SUCCEED);
	check_exit(EXIT_REASON_IO_INSTRUCTION, BIT(3) | BIT(6) | 0x80ULL << 16, 2, IP(22));
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_exit(EXIT_REASON_HLT, 0, 1, IP(24));
}

int main(void)
{
	vmx_init();
	setup();
	/* SDM 27.1.2: CPUID exits, fault-like (RIP at the instruction, SDM 29.3.3). */
	CHECK_EQ(vmx_vmlaunch(C), VMX_SUCCEED);
	check_exit(EXIT_REASON_CPUID, 0, 2, 0);
	/* SDM 27.1.3: PAUSE exiting. */
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_exit(EXIT_REASON_PAUSE_INSTRUCTION, 0, 2, 2);
	/* RDTSC runs with the offset (SDM 27.3), then OUT 80h exits through bitmap A:
	 * 1 byte, OUT, immediate port (SDM 29.2.1 Table 29-5). */
	uint64_t before = cpu_read_tsc(C);
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	uint64_t after = cpu_read_tsc(C);
	check_exit(EXIT_REASON_IO_INSTRUCTION, BIT(6) | 0x80ULL << 16, 2, 6);
	uint64_t guest_tsc = C->gpr[RDX] << 32 | (uint32_t)C->gpr[RAX];
	CHECK(guest_tsc - TSC_OFF >= before && guest_tsc - TSC_OFF <= after);
	/* MOV CR8 with the TPR shadow: VTPR = 10H < threshold 2 -> trap-like exit 43
	 * after the instruction, no qualification (SDM 31.1.2, 29.2.1). */
	C->gpr[RAX] = 1;
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_exit(EXIT_REASON_TPR_BELOW_THRESHOLD, 0, 0, 12);
	CHECK_EQ(B.ram[VAPIC_PAGE + 0x80], 0x10);
	/* VM entry now fails with VMfailValid(7): threshold above VTPR[7:4] (SDM
	 * 28.2.1.1); the VMM lowers the threshold. */
	CHECK_EQ(vmx_vmresume(C), VMX_FAIL_VALID);
	CHECK_EQ(vr(VMCS_VM_INSTRUCTION_ERROR), VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	vw(VMCS_TPR_THRESHOLD, 1);
	/* MOV from CR0 reads the shadow's TS (SDM 27.3); RDMSR EFER exits. */
	C->gpr[RCX] = 0xC0000080;
	CHECK_EQ(vmx_vmresume(C), VMX_SUCCEED);
	check_exit(EXIT_REASON_MSR_READ, 0, 2, 15);
	CHECK(C->gpr[RBX] & CR0_TS);
	CHECK(!(vr(VMCS_GUEST_CR0) & CR0_TS));
	/* HLT exiting. */
	CHECK_EQ(skip_and_resume(), VMX_SUCCEED);
	check_exit(EXIT_REASON_HLT, 0, 1, 17);
	test_real_mode();
	return report("vmx_intercept_run");
}
