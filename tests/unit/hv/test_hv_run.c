/*
 * L0 running real guests on the silicon through hv_vcpu_run(): a real-mode guest
 * (unrestricted guest, SDM 28.3.1.1) that does port I/O, CPUID and HLT; wake-up from
 * HLT by an interrupt from the virtual LAPIC, injected through the VMCS and delivered
 * through the guest's IVT (SDM 28.6.1, 21.1.4); the VMX-preemption timer ending a
 * slice (SDM 27.5.1); a triple fault shutting the VM down (SDM 29: exit reason 2).
 */
#include "hv_harness.h"

static uint32_t outs[16];
static int n_outs;

static void record_out(void *o, uint16_t port, int size, uint32_t v)
{
	(void)o;
	(void)port;
	(void)size;
	if (n_outs < 16)
		outs[n_outs++] = v;
}

static uint32_t no_in(void *o, uint16_t port, int size)
{
	(void)o;
	(void)port;
	(void)size;
	return 0;
}

static const struct io_ops REC_IO = { no_in, record_out };

/* Real mode at CS:IP = (base >> 4):0 running code. */
static void load_real(struct hv_vcpu *v, uint32_t base, const uint8_t *code, size_t n)
{
	memcpy(SB.ram + base, code, n);
	hv_state_sipi(v, (uint8_t)(base >> 12));
}

static void test_io_cpuid_hlt(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xB0, 0x42,             /* mov al, 0x42 */
		0xBA, 0x08, 0x05,       /* mov dx, 0x508 */
		0xEE,                   /* out dx, al */
		0x66, 0x31, 0xC0,       /* xor eax, eax */
		0x0F, 0xA2,             /* cpuid */
		0xFA,                   /* cli */
		0xF4,                   /* hlt */
	};
	load_real(v, 0x8000, code, sizeof(code));
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK_EQ(n_outs, 1);
	CHECK_EQ(outs[0], 0x42);
	CHECK(v->cpu->gpr[RAX] >= 1); /* CPUID leaf 0: the highest leaf */
	CHECK_EQ(VM->stats[EXIT_REASON_CPUID].count, 1);
	CHECK_EQ(VM->stats[EXIT_REASON_IO_INSTRUCTION].count, 1);
	CHECK_EQ(VM->stats[EXIT_REASON_HLT].count, 1);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), sizeof(code)); /* past HLT */
	CHECK(!hv_vcpu_wakeable(VM, 0)); /* halted with IF = 0: a hang */
}

static void test_interrupt_wakeup(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t handler[] = { 0xB0, 0x77, 0xEE, 0xCF }; /* mov al,0x77; out; iret */
	static const uint8_t code[] = {
		0xBA, 0x08, 0x05, /* mov dx, 0x508 */
		0xFB,             /* sti */
		0xF4,             /* hlt */
		0xB0, 0x55,       /* mov al, 0x55 */
		0xEE,             /* out dx, al */
		0xFA, 0xF4,       /* cli; hlt */
	};
	memcpy(SB.ram + 0x9000, handler, sizeof(handler));
	static const uint8_t ivt_entry[4] = { 0x00, 0x90, 0x00, 0x00 }; /* 0000:9000 */
	memcpy(SB.ram + 0x41 * 4, ivt_entry, 4);
	load_real(v, 0xA000, code, sizeof(code));
	n_outs = 0;
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK(hv_vcpu_wakeable(VM, 0)); /* HLT with IF = 1 */
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE); /* nothing pending: stays */
	CHECK_EQ(n_outs, 0);
	lapic_ops.mmio_write(&LAPIC[0], 0xF0, 0x1FF); /* software-enable the LAPIC */
	raise_vector(0, 0x41);
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000000), HV_RUN_IDLE);
	CHECK_EQ(n_outs, 2);
	CHECK_EQ(outs[0], 0x77); /* the handler ran first (SDM 28.6.1 injection) */
	CHECK_EQ(outs[1], 0x55); /* then the code after HLT */
	CHECK_EQ(lapic_ops.mmio_read(&LAPIC[0], 0x100 + 0x20) & 2, 2); /* 0x41 in service */
	lapic_ops.mmio_write(&LAPIC[0], 0xB0, 0);
}

static void test_preemption(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t spin[] = { 0xEB, 0xFE }; /* jmp $ */
	load_real(v, 0xB000, spin, sizeof(spin));
	uint64_t before = VM->stats[EXIT_REASON_PREEMPTION_TIMER].count;
	uint64_t t0 = clock_now(&CLK);
	CHECK_EQ(hv_vcpu_run(VM, 0, 20000), HV_RUN_SLICE);
	CHECK_EQ(VM->stats[EXIT_REASON_PREEMPTION_TIMER].count, before + 1);
	uint64_t ran = clock_now(&CLK) - t0;
	CHECK(ran >= 20000 - 64 && ran <= 20000 + 4096); /* timer rate: TSC >> 5 (A.6) */
}

static void test_triple_fault(void)
{
	struct hv_vcpu *v = vcpu(0);
	/* An IVT limit of 0: INT3 cannot be delivered, nor #GP, nor #DF (SDM 21.1.4,
	 * 6.15): shutdown. */
	static const uint8_t code[] = { 0xCC };
	load_real(v, 0xC000, code, sizeof(code));
	hv_vmwrite(v, VMCS_GUEST_IDTR_LIMIT, 0);
	CHECK_EQ(hv_vcpu_run(VM, 0, 100000), HV_RUN_SHUTDOWN);
	CHECK(hv_vm_triple_faulted(VM));
	CHECK_EQ(VM->stats[EXIT_REASON_TRIPLE_FAULT].count, 1);
}

int main(void)
{
	hv_setup(1);
	if (bus_map_io(&GB, 0x508, 1, &REC_IO, NULL))
		die("cannot map the recording port");
	test_io_cpuid_hlt();
	test_interrupt_wakeup();
	test_preemption();
	test_triple_fault();
	hv_teardown(1);
	return report("hv/run");
}
