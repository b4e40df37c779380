/*
 * L0 completing what its MMIO forms (emulate.c) do not cover by running the guest's
 * instruction on the emulation context (src/hv/emulate_insn.c), as KVM's x86 emulator
 * would: ADC with a device register (SDM Vol.2 ADC), SGDT to it, a fetch from unassigned memory
 * (EPT violation with qualification bit 2, SDM 30.3.3.2) whose #UD is delivered as at
 * level 0, and a REP STOS into a device page, whose one-exit-per-chunk storm must still
 * end the vmm's slice (the preemption timer counts non-root time only, SDM 27.5.1).
 * Each case failed before: the VM shut down ("L0 cannot emulate ...") or never
 * returned to the vmm.
 */
#include "hv_harness.h"

static void load_flat32(struct hv_vcpu *v, uint32_t at, const uint8_t *code, size_t n)
{
	memcpy(SB.ram + at, code, n);
	guest_flat32(v, at);
	for (int s = 0; s < SEG_COUNT; s++) /* flat: G = 1 with a 4-GByte limit */
		hv_vmwrite(v, VMCS_GUEST_ES_LIMIT + 2 * (uint32_t)s, 0xFFFFFFFF);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	v->mp = HV_MP_RUNNABLE; /* out of the previous test's HLT */
}

/* ADC [ebx], imm8 on the device: read, add with CF, write back (SDM Vol.2 ADC). */
static void test_adc_on_mmio(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xBB, 0x10, 0x00, 0xD0, 0xFE, /* mov ebx, 0xFED00010 */
		0xF9,                         /* stc */
		0x83, 0x13, 0x05,             /* adc dword [ebx], 5 */
		0xF4,                         /* hlt */
	};
	load_flat32(v, 0x8000, code, sizeof(code));
	DEV.n_wr = 0;
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK(VM->shutdown == NULL);
	CHECK_EQ(DEV.n_wr, 1);
	CHECK_EQ(DEV.off, 0x10);
	CHECK_EQ(DEV.size, 4);
	CHECK_EQ(DEV.value, 0x55667788u + 5 + 1);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x8000 + sizeof(code)); /* past HLT */
}

/* SGDT to the device (SDM Vol.2 SGDT: 2 bytes of limit, 4 of base): no exit by
 * itself, descriptor-table exiting is clear (SDM 26.6.2), so it runs on the context. */
static void test_sgdt_on_mmio(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xBB, 0x20, 0x00, 0xD0, 0xFE, /* mov ebx, 0xFED00020 */
		0x0F, 0x01, 0x03,             /* sgdt [ebx] */
		0xF4,                         /* hlt */
	};
	load_flat32(v, 0x8800, code, sizeof(code));
	hv_vmwrite(v, VMCS_GUEST_GDTR_BASE, 0x12345678);
	hv_vmwrite(v, VMCS_GUEST_GDTR_LIMIT, 0xABCD);
	DEV.n_wr = 0;
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK(VM->shutdown == NULL);
	CHECK(DEV.n_wr >= 2);
	CHECK_EQ(DEV.value, DEV.size == 1 ? 0x12 : 0x12345678); /* the base, written last */
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x8800 + sizeof(code));
}

/* REP STOSB into the device page, 2^31 bytes: the vmm gets its slice back. */
static void test_rep_stos_storm_ends_slice(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xBF, 0x00, 0x00, 0xD0, 0xFE, /* mov edi, 0xFED00000 */
		0xB9, 0x00, 0x00, 0x00, 0x80, /* mov ecx, 0x80000000 */
		0xFC,                         /* cld */
		0xF3, 0xAA,                   /* rep stosb */
		0xF4,                         /* hlt */
	};
	load_flat32(v, 0x9000, code, sizeof(code));
	uint64_t before = VM->stats[EXIT_REASON_EPT_VIOLATION].count;
	CHECK_EQ(hv_vcpu_run(VM, 0, 20000), HV_RUN_SLICE);
	CHECK(VM->shutdown == NULL);
	uint64_t exits = VM->stats[EXIT_REASON_EPT_VIOLATION].count - before;
	CHECK(exits >= 1 && exits <= 100);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x9000 + 11); /* still at the REP STOS */
	CHECK(v->cpu->gpr[RCX] < 0x80000000u);
}

/* A jump to unassigned memory (above guest RAM, no device): the bytes float, the
 * fetch decodes to an invalid FF /7 and raises #UD; with an empty IDT that is a
 * triple fault (SDM 6.15), as on the bare silicon, not an L0 failure. */
static void test_fetch_from_unassigned(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xB8, 0x00, 0x00, 0x00, 0x20, /* mov eax, 0x20000000 */
		0xFF, 0xE0,                   /* jmp eax */
	};
	load_flat32(v, 0xA000, code, sizeof(code));
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, 0);
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_SHUTDOWN);
	CHECK(hv_vm_triple_faulted(VM));
}

int main(void)
{
	hv_setup(1);
	test_adc_on_mmio();
	test_sgdt_on_mmio();
	test_rep_stos_storm_ends_slice();
	test_fetch_from_unassigned(); /* last: the VM is shut down */
	hv_teardown(1);
	return report("hv/emulate_insn");
}
