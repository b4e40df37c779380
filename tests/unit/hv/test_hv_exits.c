/*
 * L0's exit handlers, fed exits through the VMCS as the silicon would report them:
 * the handler table, port I/O and MMIO dispatch to the devices of L0's guest bus
 * (through the silicon's decoder), CR0/CR4/CR8 exits, HLT and wake-up, event
 * injection with interrupt/NMI windows, INIT-SIPI, shutdown reports, statistics.
 */
#include "hv_harness.h"

/* Every exit L0's controls can cause has a handler (SDM 27.1-27.2, App. C). */
static void test_table(void)
{
	static const uint32_t needed[] = {
		EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT,
		EXIT_REASON_TRIPLE_FAULT, EXIT_REASON_INIT_SIGNAL, EXIT_REASON_SIPI_SIGNAL,
		EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_NMI_WINDOW, EXIT_REASON_CPUID,
		EXIT_REASON_HLT, EXIT_REASON_INVD, EXIT_REASON_VMCALL, EXIT_REASON_CR_ACCESS,
		EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE,
		EXIT_REASON_MWAIT_INSTRUCTION, EXIT_REASON_MONITOR_INSTRUCTION,
		EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
		EXIT_REASON_PREEMPTION_TIMER, EXIT_REASON_WBINVD, EXIT_REASON_XSETBV,
		EXIT_REASON_INVEPT, EXIT_REASON_INVVPID, EXIT_REASON_VMON,
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		CHECK(hv_exit_handlers[needed[i]] != NULL);
	/* VMCS controls as L0 asked (SDM 26.6): */
	struct hv_vcpu *v = vcpu(0);
	uint64_t proc = hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL);
	uint64_t proc2 = hv_vmread(v, VMCS_SECONDARY_VM_EXEC_CONTROL);
	uint64_t pin = hv_vmread(v, VMCS_PIN_BASED_VM_EXEC_CONTROL);
	CHECK(proc & PROC_HLT_EXITING);
	CHECK(proc & PROC_UNCOND_IO_EXITING);
	CHECK(proc & PROC_USE_MSR_BITMAPS);
	CHECK(proc & PROC_SECONDARY_CONTROLS);
	CHECK_EQ(proc2 & (PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST),
		 PROC2_ENABLE_EPT | PROC2_ENABLE_VPID | PROC2_UNRESTRICTED_GUEST);
	CHECK(pin & PIN_PREEMPTION_TIMER);
	CHECK_EQ(pin & (PIN_NMI_EXITING | PIN_VIRTUAL_NMIS), PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	CHECK_EQ(hv_vmread(v, VMCS_VIRTUAL_PROCESSOR_ID), 1); /* VPID 0 is L0's (28.2.1.1) */
	CHECK_EQ(hv_vmread(vcpu(1), VMCS_VIRTUAL_PROCESSOR_ID), 2);
	/* The AP waits for SIPI; the BSP runs from its CPU's reset state. */
	CHECK_EQ(VM->vcpu[1].mp, HV_MP_WAIT_SIPI);
	CHECK_EQ(VM->vcpu[0].mp, HV_MP_RUNNABLE);
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_GUEST_RIP), 0xFFF0);
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_GUEST_CS_BASE), 0xFFFF0000ULL);
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_GUEST_CR0) & CR0_NE, CR0_NE); /* App. A.7 */
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_CR0_READ_SHADOW) & CR0_NE, 0);
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_GUEST_CR4) & CR4_VMXE, CR4_VMXE); /* App. A.8 */
	CHECK_EQ(hv_vmread(vcpu(0), VMCS_CR4_READ_SHADOW) & CR4_VMXE, 0);
}

/* Exit qualification for I/O, SDM 29.2.1 Table 29-5. */
static uint64_t ioq(int size, bool in, bool str, bool rep, uint16_t port)
{
	return (uint64_t)(size - 1) | (in ? BIT(3) : 0) | (str ? BIT(4) : 0) |
	       (rep ? BIT(5) : 0) | ((uint64_t)port << 16);
}

static void test_io(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0x3000);
	v->cpu->gpr[RAX] = 0xFFFFFFFF12345678ULL;
	CHECK_EQ(fake_exit(v, EXIT_REASON_IO_INSTRUCTION, ioq(2, false, false, false, DEV_PORT), 1),
		 HV_RESUME);
	CHECK_EQ(DEV.n_out, 1);
	CHECK_EQ(DEV.port, DEV_PORT);
	CHECK_EQ(DEV.size, 2);
	CHECK_EQ(DEV.value, 0x5678); /* OUT DX, AX */
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x3001);
	/* IN AL: only AL changes (SDM Vol.2 IN). */
	CHECK_EQ(fake_exit(v, EXIT_REASON_IO_INSTRUCTION, ioq(1, true, false, false, DEV_PORT + 1), 2),
		 HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RAX], 0xFFFFFFFF123456EFULL);
	/* IN EAX zero-extends into RAX (Vol.1 3.4.1.1). */
	fake_exit(v, EXIT_REASON_IO_INSTRUCTION, ioq(4, true, false, false, DEV_PORT), 1);
	CHECK_EQ(v->cpu->gpr[RAX], 0x89ABCDEF);
	/* REP OUTSB: F3 6E at 0x4000, 3 bytes from DS:ESI = 0x5000, RCX counts to 0. */
	static const uint8_t code[] = { 0xF3, 0x6E };
	memcpy(SB.ram + 0x4000, code, sizeof(code));
	memcpy(SB.ram + 0x5000, "abc", 3);
	guest_flat32(v, 0x4000);
	v->cpu->gpr[RSI] = 0x5000;
	v->cpu->gpr[RCX] = 3;
	int before = DEV.n_out;
	CHECK_EQ(fake_exit(v, EXIT_REASON_IO_INSTRUCTION, ioq(1, false, true, true, DEV_PORT), 2),
		 HV_RESUME);
	CHECK_EQ(DEV.n_out - before, 3);
	CHECK_EQ(DEV.value, 'c');
	CHECK_EQ(v->cpu->gpr[RSI], 0x5003);
	CHECK_EQ(v->cpu->gpr[RCX], 0);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x4002);
}

/* MMIO: EPT violation on the device page, instruction decoded from guest memory. */
static enum hv_action ept_exit(struct hv_vcpu *v, gpa_t gpa, bool write)
{
	hv_vmwrite(v, VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
	/* Table 29-7: bit 0 read, bit 1 write; bits 3-5 clear: not present. */
	return fake_exit(v, EXIT_REASON_EPT_VIOLATION, write ? BIT(1) : BIT(0), 0);
}

static void test_mmio(void)
{
	struct hv_vcpu *v = vcpu(0);
	/* 89 03: MOV [EBX], EAX */
	static const uint8_t st[] = { 0x89, 0x03 };
	memcpy(SB.ram + 0x6000, st, sizeof(st));
	guest_flat32(v, 0x6000);
	v->cpu->gpr[RBX] = DEV_MMIO + 0x10;
	v->cpu->gpr[RAX] = 0xCAFEF00D;
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x10, true), HV_RESUME);
	CHECK_EQ(DEV.n_wr, 1);
	CHECK_EQ(DEV.off, 0x10);
	CHECK_EQ(DEV.size, 4);
	CHECK_EQ(DEV.value, 0xCAFEF00D);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x6002); /* length from the decoder */
	/* 0F B7 0B: MOVZX ECX, WORD [EBX] */
	static const uint8_t ld[] = { 0x0F, 0xB7, 0x0B };
	memcpy(SB.ram + 0x6002, ld, sizeof(ld));
	v->cpu->gpr[RCX] = ~0ULL;
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x10, false), HV_RESUME);
	CHECK_EQ(DEV.size, 2);
	CHECK_EQ(v->cpu->gpr[RCX], 0x7788);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x6005);
	/* C6 03 5A: MOV BYTE [EBX], 0x5A */
	static const uint8_t sti[] = { 0xC6, 0x03, 0x5A };
	memcpy(SB.ram + 0x6005, sti, sizeof(sti));
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x10, true), HV_RESUME);
	CHECK_EQ(DEV.size, 1);
	CHECK_EQ(DEV.value, 0x5A);
	/* The xAPIC page goes to the virtual LAPIC: MOV [EBX], EAX to TPR (0x80). */
	memcpy(SB.ram + 0x6008, st, sizeof(st));
	v->cpu->gpr[RBX] = 0xFEE00080;
	v->cpu->gpr[RAX] = 0x20;
	CHECK_EQ(ept_exit(v, 0xFEE00080, true), HV_RESUME);
	CHECK_EQ(lapic_ppr(&LAPIC[0]), 0x20);
	/* 8B 0B: MOV ECX, [EBX] reads the APIC version register (SDM 11.4.8). */
	static const uint8_t ldv[] = { 0x8B, 0x0B };
	memcpy(SB.ram + 0x600A, ldv, sizeof(ldv));
	v->cpu->gpr[RBX] = 0xFEE00030;
	CHECK_EQ(ept_exit(v, 0xFEE00030, false), HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RCX], LAPIC_VERSION);
	/* Forms beyond emulate.c's run on the emulation context (test_hv_emulate_insn);
	 * one that exits by itself (INVLPG, SDM 27.1.3) would bypass L0 there: the VM
	 * shuts down, reported. */
	static const uint8_t invlpg[] = { 0x0F, 0x01, 0x3B }; /* INVLPG [EBX] */
	memcpy(SB.ram + 0x600C, invlpg, sizeof(invlpg));
	v->cpu->gpr[RBX] = DEV_MMIO;
	CHECK_EQ(ept_exit(v, DEV_MMIO, true), HV_SHUTDOWN);
	CHECK(VM->shutdown && strstr(VM->shutdown, "INVLPG"));
	VM->shutdown = NULL;
	/* An EPT violation on guest RAM is L0's bug: reported, not emulated. */
	CHECK_EQ(ept_exit(v, 0x7000, true), HV_SHUTDOWN);
	VM->shutdown = NULL;
}

/* Read-modify-write and compare forms with the flags of SDM Vol.2 (each op's "Flags
 * Affected"): the device reads 0x...5566_7788 (low bytes 0x88, 0x7788, 0x55667788). */
static void test_mmio_alu(void)
{
	struct hv_vcpu *v = vcpu(0);
	static const uint8_t code[] = {
		0xF7, 0x03, 0x00, 0x08, 0x00, 0x00, /* TEST DWORD [EBX], 0x800 */
		0x81, 0x0B, 0x00, 0x01, 0x00, 0x00, /* OR DWORD [EBX], 0x100 */
		0x3B, 0x03,                         /* CMP EAX, [EBX] */
		0x22, 0x03,                         /* AND AL, [EBX] */
	};
	memcpy(SB.ram + 0xA000, code, sizeof(code));
	guest_flat32(v, 0xA000);
	v->cpu->gpr[RBX] = DEV_MMIO + 0x20;
	/* TEST: 0x55667788 & 0x800 = 0: ZF = 1, PF = 1 (0x00 has even parity), CF = OF = 0. */
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_CF | RFLAGS_OF | RFLAGS_IF);
	int writes = DEV.n_wr;
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x20, false), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RFLAGS),
		 RFLAGS_FIXED1 | RFLAGS_ZF | RFLAGS_PF | RFLAGS_IF);
	CHECK_EQ(DEV.n_wr, writes); /* TEST writes nothing */
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xA006);
	/* OR: writes 0x55667788 | 0x100 (bit 8 is already 1); SF = 0, ZF = 0, CF = 0. */
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x20, true), HV_RESUME);
	CHECK_EQ(DEV.n_wr, writes + 1);
	CHECK_EQ(DEV.value, 0x55667788 | 0x100);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RFLAGS) & (RFLAGS_ZF | RFLAGS_SF | RFLAGS_CF), 0);
	/* CMP EAX, [EBX] with EAX = 0x10: 0x10 - 0x55667788 borrows: CF = 1, SF = 1. */
	v->cpu->gpr[RAX] = 0x10;
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x20, false), HV_RESUME);
	uint64_t f = hv_vmread(v, VMCS_GUEST_RFLAGS);
	CHECK_EQ(f & (RFLAGS_CF | RFLAGS_SF | RFLAGS_ZF | RFLAGS_OF), RFLAGS_CF | RFLAGS_SF);
	CHECK_EQ(v->cpu->gpr[RAX], 0x10); /* CMP writes no operand */
	/* AND AL, [EBX]: 0x10 & 0x88 = 0 into AL, ZF = 1. */
	CHECK_EQ(ept_exit(v, DEV_MMIO + 0x20, false), HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RAX], 0);
	CHECK(hv_vmread(v, VMCS_GUEST_RFLAGS) & RFLAGS_ZF);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xA000 + sizeof(code));
}

/* An event delivery that touches an unassigned page (SDM 29.2.4: IDT-vectoring
 * information valid) gets L0's scratch page there and is re-delivered; into a device
 * page it cannot be completed: the VM shuts down. */
static void test_delivery_fault(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0xC000);
	hpa_t hpa;
	uint64_t perm;
	CHECK(!ept01_lookup(&VM->ept, 0xE0000000ULL, &hpa, &perm));
	hv_vmwrite(v, VMCS_GUEST_PHYSICAL_ADDRESS, 0xE0000FFCULL);
	hv_vmwrite(v, VMCS_VM_EXIT_REASON, EXIT_REASON_EPT_VIOLATION);
	hv_vmwrite(v, VMCS_EXIT_QUALIFICATION, BIT(1));
	hv_vmwrite(v, VMCS_IDT_VECTORING_INFO_FIELD, EXC_UD | (3u << 8) | BIT(31));
	hv_save_vectoring(v);
	CHECK_EQ(hv_handle_exit(v, EXIT_REASON_EPT_VIOLATION), HV_RESUME);
	CHECK(ept01_lookup(&VM->ept, 0xE0000000ULL, &hpa, &perm));
	CHECK_EQ(hpa, VM->scratch_page);
	CHECK_EQ(perm, EPT_READ | EPT_WRITE); /* never executable */
	CHECK(hpa >= GUEST_RAM);             /* L0's page, not guest RAM */
	CHECK_EQ(v->reinject_info, EXC_UD | (3u << 8) | BIT(31)); /* re-delivered */
	v->reinject_info = 0;
	hv_vmwrite(v, VMCS_GUEST_PHYSICAL_ADDRESS, DEV_MMIO);
	CHECK_EQ(hv_handle_exit(v, EXIT_REASON_EPT_VIOLATION), HV_SHUTDOWN);
	VM->shutdown = NULL;
	hv_vmwrite(v, VMCS_IDT_VECTORING_INFO_FIELD, 0);
}

static uint64_t crq(int cr, int type, int gpr)
{
	return (uint64_t)cr | ((uint64_t)type << 4) | ((uint64_t)gpr << 8); /* Table 29-3 */
}

static void test_cr(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0x8000);
	/* MOV CR0, EAX clearing NE: the shadow takes it, the guest CR0 keeps NE. */
	v->cpu->gpr[RAX] = CR0_PE | CR0_ET;
	CHECK_EQ(fake_exit(v, EXIT_REASON_CR_ACCESS, crq(0, CR_ACCESS_MOV_TO, RAX), 3), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_CR0_READ_SHADOW), CR0_PE | CR0_ET);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_CR0), CR0_PE | CR0_ET | CR0_NE);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x8003);
	/* PG without PE: #GP(0) (SDM Vol.2 MOV CR), RIP unchanged. */
	v->cpu->gpr[RAX] = CR0_PG | CR0_ET;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(0, CR_ACCESS_MOV_TO, RAX), 3);
	CHECK_EQ(v->reinject_info & 0xFF, EXC_GP);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x8003);
	v->reinject_info = 0;
	/* Paging on with EFER.LME and CR4.PAE activates IA-32e mode (SDM 10.8.5). */
	hv_vmwrite(v, VMCS_GUEST_IA32_EFER, EFER_LME);
	hv_set_guest_cr4(v, CR4_PAE);
	v->cpu->gpr[RAX] = CR0_PG | CR0_PE | CR0_ET | CR0_NE;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(0, CR_ACCESS_MOV_TO, RAX), 3);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
	CHECK(hv_vmread(v, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE);
	/* PG is not owned (guest/host mask = NE): the read shadow's PG is stale after a
	 * MOV to CR0 that did not exit. Clearing PG with an NE change (an exit) in
	 * compatibility mode must still leave IA-32e mode (SDM 10.8.5, 26.6.6). */
	hv_vmwrite(v, VMCS_CR0_READ_SHADOW, CR0_PE | CR0_ET); /* stale: PG = 0 */
	v->cpu->gpr[RAX] = CR0_PE | CR0_ET; /* PG off, NE off */
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(0, CR_ACCESS_MOV_TO, RAX), 3);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_IA32_EFER), EFER_LME);
	CHECK(!(hv_vmread(v, VMCS_VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE));
	/* CR4.VMXE: #GP, no VMX for L1. */
	v->cpu->gpr[RDX] = CR4_PAE | CR4_VMXE;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(4, CR_ACCESS_MOV_TO, RDX), 3);
	CHECK_EQ(v->reinject_info & 0xFF, EXC_GP);
	v->reinject_info = 0;
	/* CR8 is the virtual LAPIC's TPR[7:4] (SDM 11.8.6). */
	v->cpu->gpr[RBX] = 0x9;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(8, CR_ACCESS_MOV_TO, RBX), 4);
	CHECK_EQ(lapic_ppr(&LAPIC[0]) & 0xF0, 0x90);
	v->cpu->gpr[RSI] = 0;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(8, CR_ACCESS_MOV_FROM, RSI), 4);
	CHECK_EQ(v->cpu->gpr[RSI], 0x9);
	v->cpu->gpr[RBX] = 0;
	fake_exit(v, EXIT_REASON_CR_ACCESS, crq(8, CR_ACCESS_MOV_TO, RBX), 4);
	/* Back to a 32-bit guest for the other tests. */
	hv_vmwrite(v, VMCS_GUEST_IA32_EFER, 0);
	hv_vmwrite(v, VMCS_VM_ENTRY_CONTROLS,
		   hv_vmread(v, VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)ENTRY_IA32E_MODE);
	hv_set_guest_cr4(v, 0);
}

/* HLT exits (SDM 27.1.3) and L0 halts the vCPU until an interrupt can wake it. */
static void test_hlt(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0x9000);
	lapic_ops.mmio_write(&LAPIC[0], 0xF0, 0x1FF); /* software-enable the LAPIC */
	/* HLT with IF = 1 and nothing pending: the vCPU halts, the slice ends. */
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	CHECK_EQ(fake_exit(v, EXIT_REASON_HLT, 0, 1), HV_YIELD);
	CHECK_EQ(v->mp, HV_MP_HALTED);
	CHECK(hv_vcpu_wakeable(VM, 0));
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0x9001);
	CHECK(!hv_vcpu_has_wakeup(v));
	/* An interrupt arrives: the sink raises the vCPU's INTR line; it can wake. */
	raise_vector(0, 0x41);
	CHECK(v->intr_line);
	CHECK(hv_vcpu_has_wakeup(v));
	v->mp = HV_MP_RUNNABLE;
}

/* Injection before entry (SDM 28.6.1) of the interrupt test_hlt left pending, and the
 * interrupt window when the guest cannot take one (SDM 27.2). */
static void test_injection(void)
{
	struct hv_vcpu *v = vcpu(0);
	/* Injection: ext. interrupt 0x41 (SDM 26.8.3 Table 26-17), acknowledged. */
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x41 | BIT(31));
	CHECK(!v->intr_line); /* INTA moved it to ISR */
	CHECK_EQ(hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & PROC_INTR_WINDOW_EXITING, 0);
	/* The entry delivered it; the next exit clears the valid bit (SDM 29.2). */
	hv_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	/* IF = 0: no injection, an interrupt-window exit is requested (SDM 27.2). */
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1);
	lapic_ops.mmio_write(&LAPIC[0], 0xB0, 0); /* EOI */
	raise_vector(0, 0x42);
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	CHECK(hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & PROC_INTR_WINDOW_EXITING);
	/* Blocking by STI also holds it (Table 26-3). */
	hv_vmwrite(v, VMCS_GUEST_RFLAGS, RFLAGS_FIXED1 | RFLAGS_IF);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI);
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	/* The window opens: the next entry injects 0x42. */
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	CHECK_EQ(fake_exit(v, EXIT_REASON_INTERRUPT_WINDOW, 0, 0), HV_RESUME);
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x42 | BIT(31));
	lapic_ops.mmio_write(&LAPIC[0], 0xB0, 0);
}

/* NMIs (injected as type 2, SDM 26.8.3) and re-injection of an interrupted delivery. */
static void test_nmi_and_reinjection(void)
{
	struct hv_vcpu *v = vcpu(0);
	/* NMI: type 2, vector 2; under blocking by NMI, an NMI-window exit instead. */
	hv_lapic_sink.signal(v, CPU_EV_NMI, 0);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI);
	hv_inject_pending(v);
	CHECK(hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & PROC_NMI_WINDOW_EXITING);
	hv_vmwrite(v, VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 2 | (2u << 8) | BIT(31));
	CHECK(!v->nmi_pending);
	/* An event whose delivery was interrupted is re-injected (SDM 29.2.4). */
	hv_vmwrite(v, VMCS_IDT_VECTORING_INFO_FIELD, 0x30 | BIT(31));
	hv_save_vectoring(v);
	hv_inject_pending(v);
	CHECK_EQ(hv_vmread(v, VMCS_VM_ENTRY_INTR_INFO_FIELD), 0x30 | BIT(31));
	hv_vmwrite(v, VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
}

static void test_init_sipi(void)
{
	struct hv_vcpu *ap = vcpu(1);
	CHECK_EQ(hv_vcpu_run(VM, 1, 1000), HV_RUN_IDLE); /* waits for SIPI: never entered */
	hv_lapic_sink.signal(ap, CPU_EV_INIT, 0);
	hv_lapic_sink.signal(ap, CPU_EV_SIPI, 0x9A);
	CHECK(ap->init_pending && ap->sipi_pending);
	/* hv_vcpu_run handles them before entering; emulate that step here. */
	ap->init_pending = false;
	hv_state_init(ap);
	CHECK_EQ(ap->mp, HV_MP_WAIT_SIPI);
	ap->sipi_pending = false;
	hv_state_sipi(ap, 0x9A);
	/* SDM 10.4.4.1 / 28.3.1.2: real mode, CS = vector << 8, base vector << 12, IP 0. */
	CHECK_EQ(ap->mp, HV_MP_RUNNABLE);
	CHECK_EQ(hv_vmread(ap, VMCS_GUEST_CS_SELECTOR), 0x9A00);
	CHECK_EQ(hv_vmread(ap, VMCS_GUEST_CS_BASE), 0x9A000);
	CHECK_EQ(hv_vmread(ap, VMCS_GUEST_RIP), 0);
	CHECK_EQ(hv_vmread(ap, VMCS_CR0_READ_SHADOW) & CR0_PE, 0);
	CHECK_EQ(hv_vmread(ap, VMCS_GUEST_ACTIVITY_STATE), ACTIVITY_ACTIVE);
}

/* VMCALL: KVM's answer to an unknown hypercall, -KVM_ENOSYS; -KVM_EPERM from CPL 3. */
static void test_vmcall(void)
{
	struct hv_vcpu *v = vcpu(0);
	guest_flat32(v, 0xB000);
	v->cpu->gpr[RAX] = 0x7475;
	CHECK_EQ(fake_exit(v, EXIT_REASON_VMCALL, 0, 3), HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RAX], (uint32_t)-1000); /* 32-bit guest: EAX */
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xB003);
	hv_vmwrite(v, VMCS_GUEST_SS_AR_BYTES, 0x3 | AR_S | AR_P | AR_DB | AR_G | (3u << AR_DPL_SHIFT));
	CHECK_EQ(fake_exit(v, EXIT_REASON_VMCALL, 0, 3), HV_RESUME);
	CHECK_EQ(v->cpu->gpr[RAX], (uint32_t)-1);
	guest_flat32(v, 0xB000);
	/* MONITOR (39) and MWAIT (36), exiting by L0's controls (SDM 27.1.3): NOPs as in
	 * KVM, RIP steps over the 3 bytes, nothing injected. */
	CHECK(hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & PROC_MONITOR_EXITING);
	CHECK(hv_vmread(v, VMCS_CPU_BASED_VM_EXEC_CONTROL) & PROC_MWAIT_EXITING);
	CHECK_EQ(fake_exit(v, EXIT_REASON_MONITOR_INSTRUCTION, 0, 3), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xB003);
	CHECK_EQ(fake_exit(v, EXIT_REASON_MWAIT_INSTRUCTION, 1, 3), HV_RESUME);
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xB006);
	CHECK_EQ(v->reinject_info, 0);
	guest_flat32(v, 0xB000);
	/* VMXON: #UD (CPUID.1:ECX.VMX = 0 for L1), RIP stays. */
	CHECK_EQ(fake_exit(v, EXIT_REASON_VMON, 0, 4), HV_RESUME);
	CHECK_EQ(v->reinject_info, EXC_UD | (3u << 8) | BIT(31));
	CHECK_EQ(hv_vmread(v, VMCS_GUEST_RIP), 0xB000);
	v->reinject_info = 0;
}

static void test_shutdown_and_stats(void)
{
	struct hv_vcpu *v = vcpu(0);
	uint64_t cpuid_before = VM->stats[EXIT_REASON_CPUID].count;
	CHECK_EQ(fake_exit(v, EXIT_REASON_TRIPLE_FAULT, 0, 0), HV_SHUTDOWN);
	CHECK(VM->shutdown && strstr(VM->shutdown, "triple fault"));
	CHECK_EQ(hv_vcpu_run(VM, 0, 1000), HV_RUN_SHUTDOWN); /* the VM stays down */
	VM->shutdown = NULL;
	/* VM-entry failure: invalid guest state (SDM 28.8, exit reason 33 | bit 31). */
	CHECK_EQ(fake_exit(v, EXIT_REASON_INVALID_STATE | EXIT_REASON_ENTRY_FAILURE, 0, 0),
		 HV_SHUTDOWN);
	CHECK(VM->shutdown && strstr(VM->shutdown, "invalid_state"));
	CHECK_EQ(VM->stats[EXIT_REASON_MAX].count, 1);
	VM->shutdown = NULL;
	/* A reason L0 never enables is reported, not crashed on. */
	CHECK_EQ(fake_exit(v, EXIT_REASON_GETSEC, 0, 0), HV_SHUTDOWN);
	CHECK_EQ(fake_exit(v, 0xFFFF, 0, 0), HV_SHUTDOWN);
	VM->shutdown = NULL;
	CHECK_EQ(VM->stats[EXIT_REASON_CPUID].count, cpuid_before);
	CHECK_EQ(VM->stats[EXIT_REASON_TRIPLE_FAULT].count, 1);
	CHECK(VM->stats[EXIT_REASON_IO_INSTRUCTION].count >= 4);
	char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	hv_stats_json(VM, 1, f);
	fclose(f);
	CHECK(strstr(buf, "\"reason\": \"io_instruction\"") != NULL);
	CHECK(strstr(buf, "\"reason\": \"vm_entry_failure\"") != NULL);
	f = fmemopen(buf, sizeof(buf), "w");
	hv_stats_print(VM, 1, f);
	fclose(f);
	CHECK(strstr(buf, "ept_violation") != NULL);
}

int main(void)
{
	hv_setup(2);
	test_table();
	test_io();
	test_mmio();
	test_mmio_alu();
	test_delivery_fault();
	test_cr();
	test_hlt();
	test_injection();
	test_nmi_and_reinjection();
	test_init_sipi();
	test_vmcall();
	test_shutdown_and_stats();
	hv_teardown(2);
	return report("hv/exits");
}
