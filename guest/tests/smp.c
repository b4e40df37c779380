/*
 * smp - multiprocessor start-up and atomics. The BSP learns the CPU count from QEMU's
 * fw_cfg (key 0x05) and the ACPI MADT, starts every AP with INIT-SIPI-SIPI (SDM Vol.3A
 * 11.4.4), each AP switches itself to 64-bit mode and adds to a shared counter with
 * LOCK XADD (Vol.3A 10.1.2.2 locked operations are atomic); the total must be exact.
 */
#include "rt.h"

#define ITER 50000
#define MAX_CPUS 64

static volatile uint32_t counter;
static volatile int done;
static volatile uint32_t ap_apic_id[MAX_CPUS];
static volatile uint64_t ap_efer[MAX_CPUS];

static void add_many(void)
{
	for (int i = 0; i < ITER; i++) {
		uint32_t one = 1;
		__asm__ volatile("lock xaddl %0, %1" : "+r"(one), "+m"(counter) :: "memory");
	}
}

static void ap_main(int idx)
{
	if (idx < MAX_CPUS) {
		ap_apic_id[idx] = apic_id();
		ap_efer[idx] = rdmsr(MSR_EFER);
	}
	add_many();
	__atomic_add_fetch(&done, 1, __ATOMIC_SEQ_CST);
	for (;;)
		__asm__ volatile("cli; hlt");
}

int main(void)
{
	int n = cpu_count(), madt = acpi_madt_cpus();

	printf("CPUs: fw_cfg/count %d, MADT %d\n", n, madt);
	check(n >= 1 && n <= MAX_CPUS, "CPU count in range");
	if (madt > 0)
		check_eq(madt, n, "MADT enabled local APICs match the CPU count");
	else
		skip("MADT CPU count", "no ACPI MADT");
	if (n == 1) {
		add_many();
		check_eq(counter, ITER, "LOCK XADD total on a single CPU");
		skip("AP start-up", "only one CPU");
		return 0;
	}
	int started = smp_start_aps(ap_main, n - 1);
	check_eq(started, n - 1, "all APs started (INIT-SIPI-SIPI)");
	add_many();
	for (int i = 0; i < 20000 && done < started; i++)
		udelay(100);
	check_eq(done, started, "all APs finished");
	check_eq(counter, (uint32_t)ITER * (started + 1), "LOCK XADD total over all CPUs");

	bool ids_ok = true, lma_ok = true;
	uint32_t bsp = apic_id();
	for (int i = 1; i < started + 1 && i < MAX_CPUS; i++) {
		lma_ok &= (ap_efer[i] & EFER_LMA) != 0;
		ids_ok &= ap_apic_id[i] != bsp;
		for (int j = 1; j < i; j++)
			ids_ok &= ap_apic_id[i] != ap_apic_id[j];
	}
	check(ids_ok, "APs report distinct APIC IDs, none equal to the BSP's");
	check(lma_ok, "every AP runs in IA-32e mode");
	return 0;
}
