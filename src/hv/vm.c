/*
 * A VM: L0's guest bus alias, its page pool and EPT01, the MSR bitmap, and one vCPU
 * (with its vmcs01) per silicon CPU.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu/msr.h"
#include "hv/hv_internal.h"

#define SIZE_2M (1ULL << 21)

uint64_t hv_l0_ram_bytes(uint64_t guest_ram)
{
	/* EPT01: one PT per 2 MiB that cannot use a large page (at most the edges and
	 * holes), one PD per GiB, the PDPT and PML4; plus bitmaps; 1 MiB of slack. */
	uint64_t pages = 16 + 2 * (guest_ram >> 30) + 64;
	return pages * HV_PAGE + (1ULL << 20);
}

void hv_guest_bus_init(struct bus *guest, struct bus *silicon, uint64_t guest_bytes)
{
	memset(guest, 0, sizeof(*guest));
	guest->ram = silicon->ram;
	guest->ram_size = guest_bytes;
	guest->ram_pages = guest_bytes >> 12;
	/* Same per-page arrays: a device's DMA into guest RAM invalidates the silicon's
	 * decoded code exactly as a CPU write does. */
	guest->page_gen = silicon->page_gen;
	guest->code_page = silicon->code_page;
	guest->code_page_hook = silicon->code_page_hook;
	guest->code_page_opaque = silicon->code_page_opaque;
	guest->mmio_low = UINT64_MAX;
}

/* The MSR bitmap (SDM 26.6.9): read-low at 0, read-high at 1024, write-low at 2048,
 * write-high at 3072; a 1 bit makes the access exit. Everything exits except the
 * MSRs the guest owns outright (hv_msr_passthrough). */
static void msr_bitmap_clear(uint8_t *bm, uint32_t msr)
{
	uint32_t off = msr >= 0xC0000000u ? 1024 : 0, bit = msr & 0x1FFF;
	bm[off + bit / 8] &= (uint8_t)~(1u << (bit % 8));
	bm[off + 2048 + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

static int build_msr_bitmap(struct hv_vm *vm)
{
	vm->msr_bitmap = hv_pool_alloc(&vm->pool);
	if (!vm->msr_bitmap)
		return -1;
	uint8_t *bm = hv_pool_ptr(&vm->pool, vm->msr_bitmap);
	memset(bm, 0xFF, HV_PAGE);
	for (uint32_t m = 0; m < 0x2000; m++) {
		if (hv_msr_passthrough(m))
			msr_bitmap_clear(bm, m);
		if (hv_msr_passthrough(0xC0000000u + m))
			msr_bitmap_clear(bm, 0xC0000000u + m);
	}
	return 0;
}

struct hv_vm *hv_vm_create(const struct hv_vm_config *cfg)
{
	if (cfg->ncpus < 1 || cfg->ncpus > HV_MAX_VCPUS) {
		fprintf(stderr, "hv: %d vCPUs requested, 1..%d supported\n", cfg->ncpus,
			HV_MAX_VCPUS);
		return NULL;
	}
	struct hv_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	vm->silicon = cfg->silicon;
	vm->guest = cfg->guest;
	vm->clock = cfg->clock;
	vm->guest_ram = cfg->guest_ram;
	vm->ncpus = cfg->ncpus;
	hv_stats_start(vm);
	uint64_t l0 = cfg->silicon->ram_size - cfg->guest_ram;
	if (cfg->guest_ram > cfg->silicon->ram_size ||
	    hv_pool_init(&vm->pool, cfg->silicon, cfg->guest_ram, l0) ||
	    ept01_init(&vm->ept, &vm->pool) ||
	    ept01_map_guest_ram(&vm->ept, vm->guest, vm->guest_ram) ||
	    build_msr_bitmap(vm) || !(vm->scratch_page = hv_pool_alloc(&vm->pool))) {
		fprintf(stderr, "hv: cannot build EPT01 and bitmaps in L0's %llu KiB\n",
			(unsigned long long)(l0 >> 10));
		free(vm);
		return NULL;
	}
	for (int i = 0; i < vm->ncpus; i++) {
		struct hv_vcpu *v = &vm->vcpu[i];
		*v = (struct hv_vcpu){ .vm = vm, .id = i, .cpu = cfg->cpus[i] };
		if (hv_vcpu_setup(v)) {
			fprintf(stderr, "hv: cannot set up vCPU %d (VMX operation, VMCS)\n", i);
			hv_vm_destroy(vm);
			return NULL;
		}
	}
	return vm;
}

void hv_vm_destroy(struct hv_vm *vm)
{
	if (!vm)
		return;
	for (int i = 0; i < vm->ncpus; i++) {
		struct hv_vcpu *v = &vm->vcpu[i];
		if (!v->cpu)
			continue;
		if (v->lapic)
			lapic_set_sink(v->lapic, NULL, NULL);
		if (v->vmcs) {
			vmx_vmclear(v->cpu, v->vmcs);
			vmcs_free(v->vmcs);
		}
		vmx_native_off(v->cpu);
	}
	hv_task_emu_free(vm);
	free(vm);
}

void hv_vcpu_set_lapic(struct hv_vm *vm, int i, struct lapic *lapic)
{
	struct hv_vcpu *v = &vm->vcpu[i];
	v->lapic = lapic;
	/* At level 1 the silicon CPU has no APIC: its xAPIC page, x2APIC MSRs and CR8
	 * would otherwise bypass L0. The guest reaches this LAPIC through exits only. */
	v->cpu->apic_ops = NULL;
	v->cpu->apic = NULL;
	lapic_set_sink(lapic, &hv_lapic_sink, v);
}

const char *hv_vm_shutdown_reason(const struct hv_vm *vm)
{
	return vm->shutdown;
}

bool hv_vm_triple_faulted(const struct hv_vm *vm)
{
	return vm->triple_fault;
}

bool hv_vcpu_wakeable(const struct hv_vm *vm, int i)
{
	const struct hv_vcpu *v = &vm->vcpu[i];
	return v->mp == HV_MP_HALTED && v->halted_if;
}
