/*
 * Scaffolding for the L0 tests: a silicon bus with RAM for a 16 MiB guest plus L0's
 * pages, L0's guest bus aliasing it with a recording test device (ports 0x500-0x503,
 * MMIO page 0xFED00000), a clock, ncpus silicon CPUs with a LAPIC each on an APIC bus,
 * and a VM on top (hv_vm_create, hv_vcpu_set_lapic). Exits are fed to L0 by writing
 * the exit-information fields (VMWRITE may write them: IA32_VMX_MISC bit 29, SDM A.6)
 * and calling hv_handle_exit(), as if the silicon had just exited. Header-only.
 */
#ifndef TURTLES_TESTS_HV_HARNESS_H
#define TURTLES_TESTS_HV_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/dcache.h"
#include "cpu/mmu.h"
#include "dev/apic_bus.h"
#include "hv/hv_internal.h"

#define UNUSED __attribute__((unused))
#define GUEST_RAM (16ULL << 20)
#define DEV_PORT 0x500
#define DEV_MMIO 0xFED00000ULL
#define MAXC 4

static struct bus SB, GB; /* silicon bus, L0's guest bus */
static struct clock CLK;
static struct dcache DC;
static struct cpu *CPU[MAXC];
static struct apic_bus ABUS;
static struct lapic LAPIC[MAXC];
static struct hv_vm *VM;

/* The test device: remembers the last access, reads return a fixed pattern. */
static struct {
	int n_out, n_in, n_wr, n_rd;
	uint16_t port;
	int size;
	uint64_t off, value;
} DEV;

static uint32_t dev_in(void *o, uint16_t port, int size)
{
	(void)o;
	DEV.n_in++;
	DEV.port = port;
	DEV.size = size;
	return 0x89ABCDEFu & (uint32_t)((1ULL << (8 * size)) - 1);
}

static void dev_out(void *o, uint16_t port, int size, uint32_t v)
{
	(void)o;
	DEV.n_out++;
	DEV.port = port;
	DEV.size = size;
	DEV.value = v;
}

static uint64_t dev_read(void *o, uint64_t off, int size)
{
	(void)o;
	DEV.n_rd++;
	DEV.off = off;
	DEV.size = size;
	return 0x1122334455667788ULL & (size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1);
}

static void dev_write(void *o, uint64_t off, int size, uint64_t v)
{
	(void)o;
	DEV.n_wr++;
	DEV.off = off;
	DEV.size = size;
	DEV.value = v;
}

static const struct io_ops DEV_IO = { dev_in, dev_out };
static const struct mmio_ops DEV_MMIO_OPS = { dev_read, dev_write };

static UNUSED int report(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, n_pass, n_fail);
	return n_fail ? 1 : 0;
}

static UNUSED void die(const char *what)
{
	fprintf(stderr, "harness: %s\n", what);
	exit(2);
}

/* Build the machine and the VM; vCPU 0 starts from CPU 0's reset state. */
static UNUSED void hv_setup(int ncpus)
{
	if (bus_init(&SB, GUEST_RAM + hv_l0_ram_bytes(GUEST_RAM)) || dcache_init(&DC, 10))
		die("out of memory");
	clock_init(&CLK, true);
	hv_guest_bus_init(&GB, &SB, GUEST_RAM);
	if (bus_map_io(&GB, DEV_PORT, 4, &DEV_IO, NULL) ||
	    bus_map_mmio(&GB, DEV_MMIO, 0x1000, &DEV_MMIO_OPS, NULL))
		die("cannot map the test device");
	apic_bus_init(&ABUS);
	for (int i = 0; i < ncpus; i++) {
		CPU[i] = calloc(1, sizeof(struct cpu));
		if (!CPU[i])
			die("out of memory");
		cpu_init(CPU[i], i, &SB, &CLK, &DC);
		CPU[i]->nr_cpus = ncpus;
		if (tlb_init(&CPU[i]->tlb))
			die("out of memory");
		tlb_flush_all(CPU[i]);
		if (lapic_init(&LAPIC[i], CPU[i], &ABUS, &CLK))
			die("lapic_init");
	}
	struct hv_vm_config cfg = { .silicon = &SB, .guest = &GB, .clock = &CLK, .cpus = CPU,
				    .ncpus = ncpus, .guest_ram = GUEST_RAM };
	VM = hv_vm_create(&cfg);
	if (!VM)
		die("hv_vm_create failed");
	for (int i = 0; i < ncpus; i++)
		hv_vcpu_set_lapic(VM, i, &LAPIC[i]);
}

static UNUSED void hv_teardown(int ncpus)
{
	hv_vm_destroy(VM);
	for (int i = 0; i < ncpus; i++) {
		tlb_destroy(&CPU[i]->tlb);
		free(CPU[i]);
	}
	dcache_destroy(&DC);
	bus_destroy(&SB);
}

static UNUSED struct hv_vcpu *vcpu(int i)
{
	struct hv_vcpu *v = &VM->vcpu[i];
	if (vmx_vmptrst(v->cpu) != v->vmcs)
		vmx_vmptrld(v->cpu, v->vmcs);
	return v;
}

/* Flat 32-bit protected mode, paging off, RIP = rip (an identity-mapped guest). */
static UNUSED void guest_flat32(struct hv_vcpu *v, uint64_t rip)
{
	for (int s = 0; s < SEG_COUNT; s++) {
		hv_vmwrite(v, VMCS_GUEST_ES_BASE + 2 * (uint32_t)s, 0);
		hv_vmwrite(v, VMCS_GUEST_ES_AR_BYTES + 2 * (uint32_t)s,
			   (s == SEG_CS ? 0xB : 0x3) | AR_S | AR_P | AR_DB | AR_G);
	}
	hv_vmwrite(v, VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
	hv_vmwrite(v, VMCS_CR0_READ_SHADOW, CR0_PE | CR0_ET);
	hv_vmwrite(v, VMCS_GUEST_RIP, rip);
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
}

/* A fixed interrupt through vCPU i's LAPIC (SDM 11.6.1), as the IOAPIC would send it. */
static UNUSED void raise_vector(int i, uint8_t vector)
{
	struct apic_msg m = { .dest = (uint32_t)i, .vector = vector, .delivery = APIC_DM_FIXED };
	lapic_accept(&LAPIC[i], &m);
}

/* Pretend the silicon exited: the exit-information fields, then L0's dispatch. */
static UNUSED enum hv_action fake_exit(struct hv_vcpu *v, uint32_t reason, uint64_t qual,
				       uint32_t insn_len)
{
	hv_vmwrite(v, VMCS_VM_EXIT_REASON, reason);
	hv_vmwrite(v, VMCS_EXIT_QUALIFICATION, qual);
	hv_vmwrite(v, VMCS_VM_EXIT_INSTRUCTION_LEN, insn_len);
	hv_vmwrite(v, VMCS_IDT_VECTORING_INFO_FIELD, 0);
	return hv_handle_exit(v, reason);
}

#endif
