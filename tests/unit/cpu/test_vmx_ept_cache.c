/*
 * The cache of guest-physical mappings (ept_cache.h; SDM 30.4): it outlives VM exits
 * and entries (30.4.3.2) and EPT-entry changes until INVEPT single-context or
 * all-context drops it (30.4.3.1, 30.4.3.3); it is tagged by EPTRTA (30.4.1) and
 * never shared between EPTPs; EPT accessed/dirty flags and page-modification logging
 * stay exact through it (30.3.5, 30.3.6); EPT violations report the same
 * qualification as without it (29.2.1, Table 29-7).
 *
 * The guest runs without VPID, so a VM exit and entry drop its linear and combined
 * mappings (SDM 28.3.3.1, 29.5.5): what the next access finds is the guest-physical
 * mapping.
 */
#include "ept_harness.h"

#define GPA 0x00345000ULL         /* the guest's data page (guest-physical) */
#define HPA 0x00A67000ULL         /* where EPT puts it */
#define HPA2 0x00B89000ULL        /* where a remapping puts it */
#define GPA2 0x00456000ULL        /* another data page, identity-mapped by EPT */
#define GPA3 0x00567000ULL        /* a third, identity-mapped */
#define GLA 0x0000000040201000ULL /* the guest-linear page of GPA */
#define GLA3 (GLA + (1ULL << 39)) /* GPA3's, under another PML4 entry */
#define PT_COPY 0x03000000ULL     /* a copy of the guest's page tables (2 MiB) */
#define EPT_POOL_B 0x02800000ULL  /* a second EPT */

#define Q_FINAL (EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED)
#define Q_RW_PAGE BIT(10) /* the guest maps the address read/write (advanced info) */

static struct vmcs *V;
static uint64_t eptp_a;

/* --- accesses in non-root operation, and their VM exits (xrd, xwr, xfx in
 *     ept_harness.h) ------------------------------------------------------------ */

/* The value a read of la finds in non-root operation (0xDEAD if it faults or exits). */
static uint64_t nr_peek(gva_t la)
{
	uint64_t v = 0xDEAD;
	CHECK_EQ(xrd(la, &v), NO_FAULT);
	return v;
}

/* An EPT violation with this qualification, guest-physical and guest-linear address. */
#define CHECK_VIOLATION(call, qual, gpa, gla)                                      \
	do {                                                                       \
		CHECK_EQ((call), VMEXIT);                                          \
		CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_EPT_VIOLATION);  \
		CHECK_EQ(VMCS_GET(V, EXIT_QUALIFICATION), (qual));                 \
		CHECK_EQ(VMCS_GET(V, GUEST_PHYSICAL_ADDRESS), (gpa));              \
		CHECK_EQ(VMCS_GET(V, GUEST_LINEAR_ADDRESS), (gla));                \
		CHECK(!C->vmx.non_root);                                           \
	} while (0)

/* --- the guest ------------------------------------------------------------------ */

/* The next VM entry with the same controls (they stay after a VM exit). */
static void reenter(void)
{
	enter_nonroot(C->vmx.ctl.proc2, C->vmx.ctl.eptp, C->vmx.ctl.vpid);
}

/* A VM exit and the next VM entry. */
static void exit_reenter(void)
{
	exit_to_root();
	reenter();
}

/* INVEPT through the native VMM's API (SDM 32.3), in VMX root operation. */
static void invept(int type, uint64_t eptp)
{
	bool guest = C->vmx.non_root;
	if (guest)
		exit_to_root();
	CHECK_EQ(vmx_invept(C, (uint64_t)type, eptp), VMX_SUCCEED);
	if (guest)
		reenter();
}

/* 64-bit guest: GLA -> GPA (supervisor, read/write, accessed and dirty),
 * GLA + 4 KiB -> GPA2 and GLA3 -> GPA3; an EPT (eptp_a) that maps everything identically, RWX, but
 * GPA -> HPA with perm. Not yet entered. Returns GPA's EPT leaf. */
static uint64_t *guest_setup(uint64_t perm, bool ad)
{
	mode_long64(false);
	eptp_a = ept_new(ad);
	ept_identity(eptp_a);
	map64(GLA, GPA, 1, P | RW | ACC | DIRTY);
	map64(GLA + PAGE_SIZE, GPA2, 1, P | RW | ACC | DIRTY);
	map64(GLA3, GPA3, 1, P | RW | ACC | DIRTY);
	*ram64(HPA) = 0x1111;
	*ram64(HPA2) = 0x2222;
	*ram64(GPA2) = 0x3333;
	*ram64(GPA3) = 0x4444;
	return ept_map(eptp_a, GPA, HPA, 1, perm);
}

/* The guest-physical address of la's PTE, as the walk reads it. */
static gpa_t pte_gpa(gva_t la)
{
	return (gpa_t)((uint8_t *)ent64(la, 1, 0) - B.ram);
}

/* Put a copy of the guest's page tables (the 2 MiB from PT_POOL) at PT_COPY, with
 * the PTEs of GLA and GLA3 pointing at GPA2 there, and remap PT_POOL to it in EPT (a
 * 2-MByte leaf), without INVEPT. */
static void remap_page_tables(uint64_t eptp)
{
	memcpy(B.ram + PT_COPY, B.ram + PT_POOL, 2ULL << 20);
	*ram64(PT_COPY + (pte_gpa(GLA) - PT_POOL)) = GPA2 | P | RW | ACC | DIRTY;
	*ram64(PT_COPY + (pte_gpa(GLA3) - PT_POOL)) = GPA2 | P | RW | ACC | DIRTY;
	ept_map(eptp, PT_POOL, PT_COPY, 2, EPT_RWX);
}

/* --- invalidation --------------------------------------------------------------- */

/* SDM 30.4.3.1-30.4.3.3: the guest-physical mappings of a final access and of the
 * guest's paging structures outlive a change of their EPT entries and a VM exit and
 * entry; INVEPT of type (for eptp_a) drops them and the new entries are used. */
static void check_invept(int type)
{
	uint64_t *e = guest_setup(EPT_RWX, false);
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	*e = HPA2 | EPT_RWX | EPT_WB;
	exit_reenter();
	CHECK_EQ(nr_peek(GLA), 0x1111);               /* the cached GPA -> HPA */
	invept(type, eptp_a);
	CHECK_EQ(nr_peek(GLA), 0x2222);               /* GPA -> HPA2 after INVEPT */
	/* The same for the guest's page tables, in a 2-MByte EPT page: the pages GLA's
	 * walk used, and those of GLA3's walk, not read yet but in the same 2-MByte
	 * page (cached as a whole). */
	remap_page_tables(eptp_a);
	exit_reenter();
	CHECK_EQ(nr_peek(GLA), 0x2222);               /* the cached page tables */
	CHECK_EQ(nr_peek(GLA3), 0x4444);
	invept(type, eptp_a);
	CHECK_EQ(nr_peek(GLA), 0x3333);               /* the copy's PTEs: GPA2 */
	CHECK_EQ(nr_peek(GLA3), 0x3333);
	exit_to_root();
}

static void test_invept_single_context(void)
{
	check_invept(INVEPT_SINGLE_CONTEXT);
}

static void test_invept_all_context(void)
{
	check_invept(INVEPT_ALL_CONTEXT);
}

/* SDM 30.4.1: guest-physical mappings are associated with the EPTRTA they were made
 * under: two EPTPs that map GPA differently never see each other's, each keeps its
 * own across switches, and INVEPT single-context drops only its EPTRTA's. */
static void test_eptp_tagging(void)
{
	uint64_t *ea = guest_setup(EPT_RWX, false);
	uint64_t eptp_b = ept_new_at(EPT_POOL_B, false);
	ept_identity(eptp_b);
	ept_map(eptp_b, GPA, HPA2, 1, EPT_RWX);
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	exit_to_root();
	enter_nonroot(PROC2_ENABLE_EPT, eptp_b, 0);
	CHECK_EQ(nr_peek(GLA), 0x2222);
	exit_to_root();
	*ea = GPA2 | EPT_RWX | EPT_WB;                /* no INVEPT yet */
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);               /* A's own mapping, kept */
	invept(INVEPT_SINGLE_CONTEXT, eptp_b);
	CHECK_EQ(nr_peek(GLA), 0x1111);               /* B's INVEPT leaves A's alone */
	invept(INVEPT_SINGLE_CONTEXT, eptp_a);
	CHECK_EQ(nr_peek(GLA), 0x3333);
	exit_to_root();
	enter_nonroot(PROC2_ENABLE_EPT, eptp_b, 0);
	CHECK_EQ(nr_peek(GLA), 0x2222);               /* B's still there */
	exit_to_root();
}

/* More EPTPs than the cache keeps contexts for (EPTC_CTXS), in turn, and more
 * INVEPTs than it has stamps (EPTC_STAMP_MAX): each EPTP still sees its own mapping. */
static void test_many_contexts(void)
{
	enum { N = EPTC_CTXS + 2 };
	uint64_t eptp[N];
	guest_setup(EPT_RWX, false);
	for (int i = 0; i < N; i++) {
		eptp[i] = ept_new_at(EPT_POOL_B + (gpa_t)i * 0x40000, false);
		ept_identity(eptp[i]);
		ept_map(eptp[i], GPA, HPA + (gpa_t)i * PAGE_SIZE, 1, EPT_RWX);
		*ram64(HPA + (gpa_t)i * PAGE_SIZE) = 0x100 + (uint64_t)i;
	}
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < N; i++) {
			enter_nonroot(PROC2_ENABLE_EPT, eptp[i], 0);
			CHECK_EQ(nr_peek(GLA), 0x100 + (uint64_t)i);
			exit_to_root();
		}
	}
	for (unsigned i = 0; i < EPTC_STAMP_MAX + 8; i++) {
		CHECK_EQ(vmx_invept(C, INVEPT_ALL_CONTEXT, 0), VMX_SUCCEED);
		enter_nonroot(PROC2_ENABLE_EPT, eptp[i % N], 0);
		CHECK_EQ(nr_peek(GLA), 0x100 + (uint64_t)(i % N));
		exit_to_root();
	}
}

/* --- accessed and dirty flags, PML --------------------------------------------- */

/* SDM 30.3.5: an EPTP with A/D flags enabled for an EPTRTA that was used without
 * them: the first accesses set the flags (what was cached without A/D flags is not
 * used), paging-structure accesses as writes. */
static void test_ad_enable_context(void)
{
	uint64_t *e = guest_setup(EPT_RWX, false);
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	CHECK_EQ(*e & (EPT_ACCESSED | EPT_DIRTY), 0);
	exit_to_root();
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a | EPTP_AD_ENABLE, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	CHECK_EQ(*e & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	CHECK_EQ(*ept_ent(eptp_a, PT_POOL, 2) & (EPT_ACCESSED | EPT_DIRTY),
		 EPT_ACCESSED | EPT_DIRTY);
	exit_to_root();
}

/* SDM 30.3.5-30.3.6: a read caches a mapping whose EPT leaf is clean; the first write
 * through it still sets the dirty flag and logs the page once, and with a full log it
 * is a PML-full exit before the write. The page-table page is logged once. */
static void test_dirty_and_pml(void)
{
	gpa_t log = 0x00F00000;
	uint64_t *e = guest_setup(EPT_RWX, true);
	uint64_t *e2 = ept_ent(eptp_a, GPA2, 1);
	VMCS_SET(V, PML_ADDRESS, log);
	VMCS_SET(V, GUEST_PML_INDEX, 511);
	enter_nonroot(PROC2_ENABLE_EPT | PROC2_ENABLE_PML, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 510);   /* the page tables' 2 MiB */
	CHECK_EQ(*ram64(log + 8 * 511), C->cr3 & ADDR_BITS);
	CHECK_EQ(nr_peek(GLA + PAGE_SIZE), 0x3333);
	exit_reenter();
	CHECK_EQ(nr_peek(GLA), 0x1111);
	CHECK_EQ(*e & EPT_DIRTY, 0);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 510);
	CHECK_EQ(xwr(GLA, 5), NO_FAULT);
	CHECK(*e & EPT_DIRTY);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 509);
	CHECK_EQ(*ram64(log + 8 * 510), GPA);
	exit_reenter();
	CHECK_EQ(xwr(GLA + 8, 6), NO_FAULT);           /* D already 1: no log */
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 509);
	/* GPA2 was read (cached clean): with a full log its first write exits. */
	VMCS_SET(V, GUEST_PML_INDEX, 0xFFFF);
	CHECK_EQ(xwr(GLA + PAGE_SIZE, 7), VMEXIT);
	CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), EXIT_REASON_PML_FULL);
	CHECK_EQ(*e2 & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	CHECK_EQ(*ram64(GPA2), 0x3333);
	VMCS_SET(V, GUEST_PML_INDEX, 3);
	reenter();
	CHECK_EQ(xwr(GLA + PAGE_SIZE, 7), NO_FAULT);
	CHECK_EQ(*ram64(log + 8 * 3), GPA2);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 2);
	exit_to_root();
}

/* SDM 30.3.5, 30.3.6, 30.4.2: a VMM doing PML-based dirty logging clears an EPT
 * leaf's dirty flag (here without INVEPT) and resumes the guest; the guest's next
 * write to the page must set the dirty flag again and log the page again, even when
 * a read after the resume found a cached mapping made when the flag was 1 (kvm-unit-
 * tests' PML test). Without VPID (vpid 0) the exit and entry drop the linear and
 * combined mappings (SDM 28.3.3.1, 29.5.5); with VPID on they keep them, so the VMM
 * drops them with INVVPID (without it the retained combined mapping, made with the
 * flag 1, may be used: SDM 30.4.3.3). Either way the guest-physical mapping stays
 * cached (only INVEPT drops it, SDM 30.4.3.1) and the write must walk EPT again. */
static void check_dirty_cleared(uint16_t vpid)
{
	gpa_t log = 0x00F00000;
	uint32_t proc2 = PROC2_ENABLE_EPT | PROC2_ENABLE_PML | (vpid ? PROC2_ENABLE_VPID : 0);
	uint64_t *e = guest_setup(EPT_RWX, true);
	VMCS_SET(V, PML_ADDRESS, log);
	VMCS_SET(V, GUEST_PML_INDEX, 511);
	enter_nonroot(proc2, eptp_a, vpid);
	CHECK_EQ(nr_peek(GLA + PAGE_SIZE), 0x3333);    /* logs the page tables' 2 MiB */
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 510);
	CHECK_EQ(xwr(GLA, 5), NO_FAULT);
	CHECK(*e & EPT_DIRTY);
	CHECK_EQ(*ram64(log + 8 * 510), GPA);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 509);
	exit_to_root();
	*e &= ~(uint64_t)EPT_DIRTY;                    /* the VMM harvests the page */
	if (vpid)
		CHECK_EQ(vmx_invvpid(C, INVVPID_SINGLE_CONTEXT, vpid, 0), VMX_SUCCEED);
	reenter();
	CHECK_EQ(nr_peek(GLA), 5);
	CHECK_EQ(*e & EPT_DIRTY, 0);
	CHECK_EQ(xwr(GLA, 6), NO_FAULT);
	CHECK(*e & EPT_DIRTY);
	CHECK_EQ(*ram64(log + 8 * 509), GPA);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 508);
	CHECK_EQ(*ram64(HPA), 6);
	exit_to_root();
}

static void test_dirty_cleared_by_vmm(void)
{
	check_dirty_cleared(0);
	check_dirty_cleared(7);
}

/* --- EPT violations -------------------------------------------------------------- */

/* SDM 29.2.1 Table 29-7: an access the cached rights do not allow reports what it
 * would without the cache: read-only and execute-only pages, a not-present page after
 * INVEPT, and a guest paging-structure entry that needs its dirty flag written
 * through a read-only EPT mapping (bit 8 = 0). */
static void test_violations(void)
{
	uint64_t v;
	uint64_t *e = guest_setup(EPT_READ, false);
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(nr_peek(GLA + 0x20), 0);
		CHECK_VIOLATION(xwr(GLA + 0x28, 1),
				EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE,
				GPA + 0x28, GLA + 0x28);
		reenter();
	}
	*e = HPA | EPT_EXEC | EPT_WB;
	invept(INVEPT_SINGLE_CONTEXT, eptp_a);
	CHECK_EQ(xfx(GLA + 0x40), NO_FAULT);
	CHECK_VIOLATION(xrd(GLA + 0x48, &v),
			EPTQUAL_READ | EPTQUAL_EXECUTABLE | Q_FINAL | Q_RW_PAGE,
			GPA + 0x48, GLA + 0x48);
	reenter();
	*e = 0;
	invept(INVEPT_ALL_CONTEXT, 0);
	CHECK_VIOLATION(xfx(GLA + 0x40), EPTQUAL_FETCH | Q_FINAL | Q_RW_PAGE, GPA + 0x40,
			GLA + 0x40);
	exit_to_root();
	/* Read-only page tables, guest A flags set: reads walk (and are cached); a write
	 * whose PTE has D = 0 must write the PTE through EPT. */
	guest_setup(EPT_RWX, false);
	*ent64(GLA, 1, 0) &= ~(uint64_t)DIRTY;
	uint64_t *pt = ept_ent(eptp_a, PT_POOL, 2);
	*pt = (*pt & ~(uint64_t)EPT_RWX) | EPT_READ;
	for (int l = 2; l <= 4; l++)
		*ent64(GLA, l, 0) |= ACC;
	enter_nonroot(PROC2_ENABLE_EPT, eptp_a, 0);
	CHECK_EQ(nr_peek(GLA), 0x1111);
	CHECK_VIOLATION(xwr(GLA, 1), EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_GLA_VALID,
			pte_gpa(GLA), GLA);
	CHECK_EQ(*ent64(GLA, 1, 0) & DIRTY, 0);
}

int main(void)
{
	mt_init();
	V = vmcs_alloc();
	if (!V || vmx_native_on(C) != VMX_SUCCEED || vmx_vmptrld(C, V) != VMX_SUCCEED) {
		CHECK(false);
		return report("vmx_ept_cache");
	}
	test_invept_single_context();
	test_invept_all_context();
	test_eptp_tagging();
	test_many_contexts();
	test_ad_enable_context();
	test_dirty_and_pml();
	test_dirty_cleared_by_vmm();
	test_violations();
	return report("vmx_ept_cache");
}
