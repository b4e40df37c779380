/*
 * Virtualized accesses to the APIC-access page (SDM 31.4, Dec-2024 numbering;
 * vmx_apic_access.c) with "virtualize APIC accesses" and "use TPR shadow" 1, and
 * "APIC-register virtualization" and "virtual-interrupt delivery" 0 (not offered):
 *   - 31.4.2: a read at page offset 080H of at most 32 bits returns the bytes at 080H
 *     of the virtual-APIC page without a VM exit; a larger one, one at another offset,
 *     a fetch, or one after a virtualized write in the same operation exits;
 *   - 31.4.3.1: a write at offset 080H of at most 32 bits goes to the virtual-APIC
 *     page; a larger one, one at another offset, or a second one of another size in
 *     the same operation exits;
 *   - 31.4.3.2, 31.1.2: after the operation, APIC-write emulation clears bytes 3:1 of
 *     VTPR and performs TPR virtualization: a trap-like VM exit "TPR below threshold"
 *     (reason 43, qualification 0) if VTPR[7:4] < TPR threshold[3:0]; a VM exit
 *     before the emulation cancels it;
 *   - APIC-access exits (29.2.1 Table 29-6) keep their offset and access type.
 * With EPT (the APIC-access address is then the address after EPT) and without.
 */
#include "ept_harness.h"

#define GPA 0x00345000ULL         /* the guest-physical page the guest maps */
#define HPA 0x00A67000ULL         /* where EPT puts it: the APIC-access page */
#define VAPIC 0x00B00000ULL       /* the virtual-APIC page */
#define GLA 0x0000000040201000ULL /* the guest-linear page of GPA */
#define VTPR (VAPIC + 0x80)
#define RIP 0x401234ULL

static struct vmcs *V;

/* A read or write of 1 << osz bytes at la in non-root operation (cf. xrd/xwr). */
static int rdn(gva_t la, int osz, uint64_t *v)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	*v = mem_read(C, SEG_DS, la, osz);
	return NO_FAULT;
}

static int wrn(gva_t la, int osz, uint64_t v)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	mem_write(C, SEG_DS, la, osz, v);
	return NO_FAULT;
}

/* An APIC-access VM exit with this qualification (offset | access type << 12). */
#define CHECK_APIC_EXIT(call, qual)                                              \
	do {                                                                     \
		CHECK_EQ((call), VMEXIT);                                        \
		CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_APIC_ACCESS);  \
		CHECK_EQ(VMCS_GET(V, EXIT_QUALIFICATION), (qual));               \
		CHECK(!C->vmx.non_root);                                         \
		CHECK_EQ(C->vmx.apic_write_size, 0);                             \
	} while (0)

/* Non-root operation as VM entry leaves it: APIC-access page at HPA (after EPT) or
 * at GPA (without EPT), "use TPR shadow" = tpr, TPR threshold 3. */
static bool ept_on;

static void enter(bool tpr)
{
	uint32_t proc2 = PROC2_VIRTUALIZE_APIC_ACCESSES | (ept_on ? PROC2_ENABLE_EPT : 0);
	enter_nonroot(proc2, ept_on ? C->vmx.ctl.eptp : 0, 1);
	C->vmx.ctl.proc |= tpr ? PROC_TPR_SHADOW : 0;
	C->vmx.ctl.apic_access_page = ept_on ? HPA : GPA;
	C->vmx.ctl.virtual_apic_page = VAPIC;
	C->vmx.ctl.tpr_threshold = 3;
	C->rip = RIP;
	C->run_left = 100;
}

static void setup(bool ept)
{
	mode_long64(false);
	ept_on = ept;
	if (ept) {
		uint64_t eptp = ept_new(false);
		ept_identity(eptp);
		ept_map(eptp, GPA, HPA, 1, EPT_RWX);
		C->vmx.ctl.eptp = eptp;
	}
	map64(GLA, GPA, 1, P | RW | ACC | DIRTY);
	*ram64(VTPR) = 0x1122334455667740ULL;
	*ram64(HPA + 0x80) = 0xAAAA;
	*ram64(GPA + 0x80) = 0xBBBB;
}

/* The instruction boundary after the access: APIC-write emulation, if pending, in
 * vmx_handle_events(). True if a VM exit happened (native VMM: exit_pending). */
static bool boundary(void)
{
	cpu_handle_events(C);
	bool exited = C->vmx.exit_pending;
	C->events &= ~(uint32_t)CPU_EV_VMEXIT;
	C->vmx.exit_pending = false;
	return exited;
}

/* SDM 31.4.2: reads of VTPR of 1, 2 and 4 bytes are virtualized; 8 bytes, another
 * offset, a fetch, and "use TPR shadow" 0 exit with the offset and type. */
static void check_reads(bool ept)
{
	uint64_t v = 0;
	setup(ept);
	enter(true);
	CHECK_EQ(rdn(GLA + 0x80, 2, &v), NO_FAULT);
	CHECK_EQ(v, 0x55667740);
	CHECK_EQ(rdn(GLA + 0x80, 1, &v), NO_FAULT);
	CHECK_EQ(v, 0x7740);
	CHECK_EQ(rdn(GLA + 0x80, 0, &v), NO_FAULT);
	CHECK_EQ(v, 0x40);
	CHECK(C->vmx.non_root);
	CHECK(!boundary()); /* reads need no emulation */
	CHECK_APIC_EXIT(rdn(GLA + 0x80, 3, &v), 0x080);
	enter(true);
	CHECK_APIC_EXIT(rdn(GLA + 0x81, 0, &v), 0x081);
	enter(true);
	CHECK_APIC_EXIT(rdn(GLA + 0x84, 2, &v), 0x084);
	enter(true);
	CHECK_APIC_EXIT(rdn(GLA + 0x7E, 2, &v), 0x07E);
	enter(true);
	CHECK_APIC_EXIT(xfx(GLA + 0x80), 0x2080);
	enter(false);
	CHECK_APIC_EXIT(rdn(GLA + 0x80, 2, &v), 0x080);
}

/* SDM 31.4.3.1-31.4.3.2: a 32-bit write of VTPR goes to the virtual-APIC page; at the
 * boundary bytes 3:1 are cleared; VTPR[7:4] = 5 >= threshold 3: no exit. */
static void check_write_above_threshold(void)
{
	CHECK_EQ(wrn(GLA + 0x80, 2, 0x12345650), NO_FAULT);
	CHECK_EQ(*ram64(VTPR), 0x1122334412345650ULL);
	CHECK_EQ(C->vmx.apic_write_size, 4);
	CHECK(C->events & CPU_EV_VMX); /* the block ends after the instruction */
	CHECK(!boundary());
	CHECK(C->vmx.non_root);
	CHECK_EQ(*ram64(VTPR), 0x1122334400000050ULL);
	CHECK_EQ(C->vmx.apic_write_size, 0);
	CHECK(!boundary()); /* emulated once */
}

/* SDM 31.1.2, 29.2.1: VTPR[7:4] = 2 < 3: exit 43 at the boundary, trap-like (RIP of
 * the next instruction), qualification 0. A 1-byte write of offset 080H counts too. */
static void check_write_below_threshold(void)
{
	VMCS_SET(V, EXIT_QUALIFICATION, 0xDEAD);
	CHECK_EQ(wrn(GLA + 0x80, 0, 0x2F), NO_FAULT);
	CHECK_EQ(*ram64(VTPR), 0x112233440000002FULL);
	CHECK_EQ(C->vmx.apic_write_size, 1);
	CHECK(boundary());
	CHECK(!C->vmx.non_root);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_TPR_BELOW_THRESHOLD);
	CHECK_EQ(VMCS_GET(V, EXIT_QUALIFICATION), 0);
	CHECK_EQ(VMCS_GET(V, GUEST_RIP), RIP);
	CHECK_EQ(C->vmx.apic_write_size, 0);
}

/* SDM 31.4.3.1 exits: 8 bytes, another offset, "use TPR shadow" 0; a second write of
 * another size in the same operation; SDM 31.4.2: a read after a virtualized write.
 * An exit cancels the pending APIC-write emulation (SDM 31.4.3.2). */
static void check_write_exits(void)
{
	uint64_t v;
	CHECK_APIC_EXIT(wrn(GLA + 0x80, 3, 0x10), 0x1080);
	CHECK_EQ(*ram64(VTPR), 0x112233440000002FULL);
	enter(true);
	CHECK_APIC_EXIT(wrn(GLA + 0x82, 1, 0x10), 0x1082);
	enter(false);
	CHECK_APIC_EXIT(wrn(GLA + 0x80, 2, 0x10), 0x1080);
	CHECK_EQ(*ram64(HPA + 0x80), 0xAAAA); /* nothing reached either page */
	CHECK_EQ(*ram64(GPA + 0x80), 0xBBBB);
	enter(true);
	CHECK_EQ(wrn(GLA + 0x80, 0, 0x60), NO_FAULT);
	CHECK_APIC_EXIT(wrn(GLA + 0x80, 1, 0x60), 0x1080);
	enter(true);
	CHECK_EQ(wrn(GLA + 0x80, 2, 0x10), NO_FAULT);   /* would exit at the boundary */
	CHECK_APIC_EXIT(rdn(GLA + 0x80, 2, &v), 0x080);
	enter(true);
	CHECK(!boundary());
	CHECK(C->vmx.non_root);
	CHECK_EQ(wrn(GLA + 0x80, 0, 0x40), NO_FAULT);
	CHECK_APIC_EXIT(wrn(GLA + 0x300, 2, 1), 0x1300);
}

static void check_writes(bool ept)
{
	setup(ept);
	enter(true);
	check_write_above_threshold();
	check_write_below_threshold();
	enter(true);
	check_write_exits();
}

int main(void)
{
	mt_init();
	V = vmcs_alloc();
	if (!V || vmx_native_on(C) != VMX_SUCCEED || vmx_vmptrld(C, V) != VMX_SUCCEED) {
		CHECK(false);
		return report("vmx_apic_access");
	}
	for (int ept = 0; ept < 2; ept++) {
		check_reads(ept);
		check_writes(ept);
	}
	return report("vmx_apic_access");
}
