/*
 * vmx_signals - a hypervisor kernel on the BSP whose guest receives INIT and SIPI
 * from the other processor (run with --smp 2): the VM exits they cause in VMX
 * non-root operation (SDM 27.2, "other causes of VM exits"):
 *   - INIT signal (exit 3): an INIT sent to a logical processor in VMX non-root
 *     operation causes a VM exit (SDM 27.2.1); qualification 0 (SDM 29.2.1);
 *   - start-up IPI (exit 4): a SIPI arriving while the guest is in the wait-for-SIPI
 *     activity state causes a VM exit whose qualification holds the SIPI vector in bits
 *     7:0 (SDM 27.2.1, 29.2.1 Table 29-1); the activity state saved is still
 *     wait-for-SIPI (SDM 29.3.4).
 * The AP (started by INIT-SIPI-SIPI, smp_start_aps) waits for a command and sends the
 * IPI to the BSP's local APIC (SDM 12.6.1). Wait-for-SIPI support comes from
 * IA32_VMX_MISC[8] (App. A.6).
 */
#include "vmx_lib.h"

#define SIPI_VECTOR 0x5a
#define ICR_INIT (0x500u | BIT(14))  /* INIT, assert, edge (SDM 12.6.1 Figure 12-12) */
#define ICR_SIPI(v) (0x600u | BIT(14) | (v))

enum { CMD_IDLE, CMD_INIT, CMD_INIT_SENT, CMD_SIPI, CMD_STOP };
volatile uint32_t sig_cmd;
static volatile uint32_t bsp_apic, ap_running;

/* The guest: asks for the INIT itself (so that it arrives in non-root operation),
 * then spins. */
extern char g_init[], g_spin[], g_sipi[];
__asm__(".text\n"
	"g_init: movl $1, sig_cmd(%rip)\n" /* CMD_INIT */
	"g_spin: jmp g_spin\n"
	"g_sipi: hlt\n");

static void ap_main(int idx)
{
	(void)idx;
	apic_enable();
	ap_running = 1;
	for (;;) {
		uint32_t c = sig_cmd;
		if (c == CMD_INIT) {
			apic_icr(bsp_apic, ICR_INIT);
			sig_cmd = CMD_INIT_SENT;
		} else if (c == CMD_SIPI) {
			/* SIPIs outside the wait-for-SIPI state are dropped: repeat. */
			apic_icr(bsp_apic, ICR_SIPI(SIPI_VECTOR));
			for (int i = 0; i < 2000; i++)
				pause();
		} else if (c == CMD_STOP) {
			break;
		} else {
			pause();
		}
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

static uint32_t pin_ctl, proc_ctl, exit_ctl, entry_ctl;

static bool setup(uint32_t **vmcs)
{
	*vmcs = vmx_enter_baseline(&pin_ctl, &proc_ctl, &exit_ctl, &entry_ctl);
	return *vmcs != NULL;
}

static void reset_vmcs(uint32_t *vmcs, const char *rip, void *stack)
{
	struct vmx_ctls c = { pin_ctl, proc_ctl, 0, exit_ctl, entry_ctl };
	vmx_reset_vmcs(vmcs, &c, (uint64_t)(uintptr_t)rip, vmx_pa(stack) + 4096);
}

static void init_exit(uint32_t *vmcs, void *stack)
{
	reset_vmcs(vmcs, g_init, stack);
	int r = vmx_guest_run(VMX_LAUNCH);
	if (r) {
		checkf(false, "INIT: VM entry: %s, error %lu", vmx_outcome_name(r), vmx_insn_error());
		return;
	}
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_INIT_SIGNAL, "INIT: exit reason 3");
	check_eq(vmcs_read(VMCS_GUEST_RIP), (uint64_t)(uintptr_t)g_spin,
		 "INIT: guest RIP in the guest's loop");
	check_eq(vmcs_read(VMCS_EXIT_QUALIFICATION), 0, "INIT: exit qualification 0");
	for (int i = 0; i < 1000000 && sig_cmd != CMD_INIT_SENT; i++)
		pause();
	check_eq(sig_cmd, CMD_INIT_SENT, "INIT: sent by the AP");
}

static void sipi_exit(uint32_t *vmcs, void *stack)
{
	if (!(rdmsr(MSR_IA32_VMX_MISC) & BIT(8))) {
		skip("SIPI exit", "IA32_VMX_MISC[8]: no wait-for-SIPI activity state");
		return;
	}
	reset_vmcs(vmcs, g_sipi, stack);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 3); /* wait-for-SIPI (SDM 26.4.2 Table 26-3) */
	sig_cmd = CMD_SIPI;
	int r = vmx_guest_run(VMX_LAUNCH);
	sig_cmd = CMD_IDLE;
	if (r) {
		checkf(false, "SIPI: VM entry: %s, error %lu", vmx_outcome_name(r), vmx_insn_error());
		return;
	}
	check_eq(vmcs_read(VMCS_VM_EXIT_REASON), EXIT_REASON_SIPI_SIGNAL, "SIPI: exit reason 4");
	check_eq(vmcs_read(VMCS_EXIT_QUALIFICATION), SIPI_VECTOR,
		 "SIPI: exit qualification = the SIPI vector");
	check_eq(vmcs_read(VMCS_GUEST_RIP), (uint64_t)(uintptr_t)g_sipi,
		 "SIPI: guest RIP unchanged");
	check_eq(vmcs_read(VMCS_GUEST_ACTIVITY_STATE), 3, "SIPI: activity state wait-for-SIPI saved");
}

int main(void)
{
	if (!(cpuid(1, 0).c & BIT(5))) {
		skip("vmx_signals", "CPUID.1:ECX.VMX = 0");
		return 0;
	}
	if (cpu_count() < 2) {
		skip("vmx_signals", "needs a second CPU (--smp 2)");
		return 0;
	}
	__asm__ volatile("cli");
	apic_enable();
	bsp_apic = apic_id();
	sig_cmd = CMD_IDLE;
	if (smp_start_aps(ap_main, 1) < 1 || !ap_running) {
		check(false, "AP started");
		return 0;
	}
	void *stack = alloc_page();
	uint32_t *vmcs;
	if (!setup(&vmcs))
		return 0;
	init_exit(vmcs, stack);
	sipi_exit(vmcs, stack);
	sig_cmd = CMD_STOP;
	check_eq(read_cr4() & CR4_VMXE, CR4_VMXE, "host CR4 after the exits");
	return 0;
}
