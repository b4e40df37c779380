/*
 * EPT (SDM 30.3): the walk with 4-KByte, 2-MByte and 1-GByte pages, every permission
 * combination including execute-only, every misconfiguration cause, the EPT-violation
 * qualification (SDM 29.2.1 Table 29-7), accessed and dirty flags, page-modification
 * logging, EPTP validity, and the MMU in non-root operation: guest paging structures
 * and final accesses through EPT, unrestricted guest without paging, combined
 * mappings in the TLB, the decode cache's physical key, the APIC-access page.
 */
#include "ept_harness.h"

#define GPA 0x00345000ULL         /* a guest-physical page */
#define HPA 0x00A67000ULL         /* where EPT puts it */
#define GLA 0x0000000040201000ULL /* a guest-linear page */

static struct vmx_exit_info X;
static struct ept_xlate XL;

/* ept_walk for an access of kind at gpa, as the final access of linear address gla
 * (gflags: the guest translation's TLBF_*), or a paging-structure access if !final. */
static bool walk_as(gpa_t gpa, int kind, bool final, uint32_t gflags)
{
	struct ept_access a = { .kind = kind, .gla_valid = true, .final = final,
				.gla = GLA, .gflags = gflags };
	return ept_walk(C, gpa, &a, &XL, &X);
}

static bool walk(gpa_t gpa, int kind)
{
	return walk_as(gpa, kind, true, TLBF_W | TLBF_U);
}

static void setup(bool ad)
{
	mode_long64(false);
	C->vmx.ctl.eptp = ept_new(ad);
	C->vmx.ctl.proc = PROC_SECONDARY_CONTROLS;
	C->vmx.ctl.proc2 = PROC2_ENABLE_EPT;
}

/* SDM 30.3.2: 4-level walk; bit 7 of a PDPTE/PDE maps a 1-GByte/2-MByte page; the
 * address is the page frame plus the guest-physical offset within the page. */
static void test_walk_sizes(void)
{
	setup(false);
	ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	CHECK(walk(GPA + 0x123, ACC_READ));
	CHECK_EQ(XL.hpa, HPA);
	CHECK_EQ(XL.size, PAGE_SIZE);
	CHECK_EQ(XL.flags, 0);
	ept_map(C->vmx.ctl.eptp, 0x40000000ULL + 0x200000, 0x00600000, 2, EPT_RWX);
	CHECK(walk(0x40000000ULL + 0x200000 + 0x1F5123, ACC_WRITE));
	CHECK_EQ(XL.hpa, 0x00600000 + 0x1F5000);
	CHECK_EQ(XL.size, 2ULL << 20);
	ept_map(C->vmx.ctl.eptp, 0x80000000ULL, 0x40000000ULL, 3, EPT_RWX);
	CHECK(walk(0x80000000ULL + 0x12345678, ACC_EXEC));
	CHECK_EQ(XL.hpa, 0x40000000ULL + 0x12345000);
	CHECK_EQ(XL.size, 1ULL << 30);
	/* Unmapped: not present at the PML4E (bits 3-5 = 0). */
	CHECK(!walk(0x7000000000ULL, ACC_READ));
	CHECK_EQ(X.reason, EXIT_REASON_EPT_VIOLATION);
	CHECK_EQ(X.guest_physical, 0x7000000000ULL);
}

/* SDM 30.3.3.2 and Table 29-7: every leaf permission combination that is not a
 * misconfiguration (R, RW, X (execute-only, IA32_VMX_EPT_VPID_CAP bit 0), RX, RWX)
 * against reads, writes and fetches; a violation reports the access in bits 0-2 and
 * the permissions in bits 3-5, and GLA valid + final translation (bits 7, 8) with the
 * guest's U/S, R/W, XD in bits 9-11 (advanced information, cap bit 22). */
static void test_permissions(void)
{
	static const uint64_t perms[] = { EPT_READ, EPT_READ | EPT_WRITE, EPT_EXEC,
					  EPT_READ | EPT_EXEC, EPT_RWX };
	static const int kinds[] = { ACC_READ, ACC_WRITE, ACC_EXEC };
	static const uint64_t need[] = { EPT_READ, EPT_WRITE, EPT_EXEC };
	for (unsigned p = 0; p < sizeof(perms) / sizeof(perms[0]); p++) {
		for (int k = 0; k < 3; k++) {
			setup(false);
			ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, perms[p]);
			bool ok = walk(GPA + 8, kinds[k]);
			CHECK_EQ(ok, (perms[p] & need[k]) != 0);
			if (ok) {
				CHECK_EQ(XL.flags, (perms[p] & EPT_READ ? 0 : TLBF_EPT_NR) |
							   (perms[p] & EPT_WRITE ? 0 : TLBF_EPT_NW) |
							   (perms[p] & EPT_EXEC ? 0 : TLBF_EPT_NX));
				continue;
			}
			CHECK_EQ(X.reason, EXIT_REASON_EPT_VIOLATION);
			CHECK_EQ(X.qualification, BIT(k) | perms[p] << 3 | EPTQUAL_GLA_VALID |
							  EPTQUAL_GLA_TRANSLATED | BIT(9) | BIT(10));
			CHECK_EQ(X.guest_physical, GPA + 8);
			CHECK_EQ(X.guest_linear, GLA);
		}
	}
	/* Bits 3-5 are the AND over every level: a PDE without X. */
	setup(false);
	ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	*ept_ent(C->vmx.ctl.eptp, GPA, 2) &= ~EPT_EXEC;
	CHECK(!walk(GPA, ACC_EXEC));
	CHECK_EQ(X.qualification & 0x3F, EPTQUAL_FETCH | EPTQUAL_READABLE | EPTQUAL_WRITABLE);
	/* Bits 9-11 copy the guest translation: a user, read-only, XD page. */
	CHECK(!walk_as(GPA, ACC_EXEC, true, TLBF_U | TLBF_XD));
	CHECK_EQ(X.qualification >> 7, 0x1 | 0x2 | 0x4 | 0x10);
	/* A not-present entry below: bits 3-5 are 0 (the AND includes it). */
	*ept_ent(C->vmx.ctl.eptp, GPA, 1) = 0;
	CHECK(!walk(GPA, ACC_WRITE));
	CHECK_EQ(X.qualification & 0x3F, EPTQUAL_WRITE);
}

/* Table 29-7 bit 8 = 0: an access to a guest paging-structure entry reports no guest
 * attributes; bit 7 = 0 (no linear address) reports neither bit 8 nor the GLA. */
static void test_paging_structure_qualification(void)
{
	setup(false);
	ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_EXEC);
	CHECK(!walk_as(GPA + 0x18, ACC_READ, false, TLBF_U | TLBF_W));
	CHECK_EQ(X.qualification, EPTQUAL_READ | EPTQUAL_EXECUTABLE | EPTQUAL_GLA_VALID);
	CHECK_EQ(X.guest_physical, GPA + 0x18);
	CHECK_EQ(X.guest_linear, GLA);
	struct ept_access pdpte_load = { .kind = ACC_READ };
	CHECK(!ept_walk(C, GPA, &pdpte_load, &XL, &X));
	CHECK_EQ(X.qualification, EPTQUAL_READ | EPTQUAL_EXECUTABLE);
	CHECK_EQ(X.guest_linear, 0);
}

/* SDM 30.3.3.1: one case per misconfiguration cause, at the levels it can occur. */
static void check_misconfig(int level, uint64_t set, uint64_t clear)
{
	setup(false);
	if (level >= 2 && (set & EPT_LARGE))
		ept_map(C->vmx.ctl.eptp, GPA & ~((1ULL << (12 + 9 * (level - 1))) - 1), 0,
			level, EPT_RWX);
	else
		ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	uint64_t *e = ept_ent(C->vmx.ctl.eptp, GPA, level);
	*e = (*e & ~clear) | set;
	CHECK(!walk(GPA, ACC_READ));
	CHECK_EQ(X.reason, EXIT_REASON_EPT_MISCONFIG);
	CHECK_EQ(X.qualification, 0);
	CHECK_EQ(X.guest_physical, GPA);
}

static void test_misconfig(void)
{
	for (int level = 1; level <= 4; level++) {
		/* Write permission without read permission. */
		check_misconfig(level, 0, EPT_READ);
		/* Bits 51:MAXPHYADDR (39). */
		check_misconfig(level, BIT(CPU_MAXPHYADDR), 0);
		check_misconfig(level, BIT(51), 0);
	}
	/* Leaf memory types 2, 3 and 7 (4-KByte, 2-MByte, 1-GByte leaves). */
	static const uint64_t bad_types[] = { 2, 3, 7 };
	for (int t = 0; t < 3; t++) {
		check_misconfig(1, bad_types[t] << EPT_MEMTYPE_SHIFT, 7ULL << EPT_MEMTYPE_SHIFT);
		check_misconfig(2, EPT_LARGE | bad_types[t] << EPT_MEMTYPE_SHIFT,
				7ULL << EPT_MEMTYPE_SHIFT);
		check_misconfig(3, EPT_LARGE | bad_types[t] << EPT_MEMTYPE_SHIFT,
				7ULL << EPT_MEMTYPE_SHIFT);
	}
	/* Reserved bits 7:3 of a PML4E, 6:3 of a non-leaf PDPTE/PDE. */
	for (int b = 3; b <= 7; b++)
		check_misconfig(4, BIT(b), 0);
	for (int b = 3; b <= 6; b++) {
		check_misconfig(3, BIT(b), 0);
		check_misconfig(2, BIT(b), 0);
	}
	/* Address bits below the alignment of a 2-MByte (20:12) or 1-GByte (29:12) page. */
	check_misconfig(2, EPT_LARGE | BIT(12), 0);
	check_misconfig(2, EPT_LARGE | BIT(20), 0);
	check_misconfig(3, EPT_LARGE | BIT(12), 0);
	check_misconfig(3, EPT_LARGE | BIT(29), 0);
	/* Not misconfigurations: execute-only, memory types 0, 1, 4, 5, 6, PTE bit 7, the
	 * ignored bits 11:10 and 63:52 (no mode-based execute, no #VE). */
	static const uint64_t fine[] = { 0, 1, 4, 5, 6 };
	for (int t = 0; t < 5; t++) {
		setup(false);
		uint64_t *e = ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_EXEC);
		*e = (*e & ~(7ULL << EPT_MEMTYPE_SHIFT)) | fine[t] << EPT_MEMTYPE_SHIFT | BIT(7) |
		     BIT(11) | BIT(62);
		CHECK(walk(GPA, ACC_EXEC));
	}
}

/* SDM 30.3.5: with EPTP bit 6, A is set in every entry used, D in the leaf for a
 * write; nothing is written without it, nor on a violation. */
static void test_accessed_dirty(void)
{
	setup(true);
	uint64_t *pte = ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	uint64_t *pde = ept_ent(C->vmx.ctl.eptp, GPA, 2);
	uint64_t *pml4e = ept_ent(C->vmx.ctl.eptp, GPA, 4);
	CHECK(walk(GPA, ACC_READ));
	CHECK_EQ(*pte & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	CHECK(*pde & EPT_ACCESSED);
	CHECK(*pml4e & EPT_ACCESSED);
	CHECK_EQ(XL.flags, TLBF_EPT_CLEAN);        /* a write must come back to set D */
	CHECK(walk(GPA, ACC_WRITE));
	CHECK(*pte & EPT_DIRTY);
	CHECK(!(*pde & EPT_DIRTY));                /* D only in the leaf */
	CHECK_EQ(XL.flags, 0);
	/* Violations set nothing. */
	uint64_t *pte2 = ept_map(C->vmx.ctl.eptp, GPA + PAGE_SIZE, HPA, 1, EPT_READ);
	CHECK(!walk(GPA + PAGE_SIZE, ACC_WRITE));
	CHECK_EQ(*pte2 & (EPT_ACCESSED | EPT_DIRTY), 0);
	/* A 2-MByte leaf gets D. */
	uint64_t *big = ept_map(C->vmx.ctl.eptp, 0x00800000, 0x00C00000, 2, EPT_RWX);
	CHECK(walk(0x00812345, ACC_WRITE));
	CHECK_EQ(*big & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED | EPT_DIRTY);
	/* Without EPTP bit 6 the flags are ignored and never written. */
	setup(false);
	pte = ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	CHECK(walk(GPA, ACC_WRITE));
	CHECK_EQ(*pte & (EPT_ACCESSED | EPT_DIRTY), 0);
}

/* SDM 30.3.6: PML logs the page-aligned guest-physical address when a dirty flag goes
 * from 0 to 1 and decrements the index; an index outside 0-511 is a PML-full exit
 * before the access (the dirty flag stays 0). */
static void test_pml(void)
{
	struct vmcs *v = vmcs_alloc();
	CHECK(v != NULL);
	C->vmx.current = v;
	setup(true);
	C->vmx.ctl.proc2 |= PROC2_ENABLE_PML;
	gpa_t log = 0x00F00000;
	memset(B.ram + log, 0, PAGE_SIZE);
	VMCS_SET(v, PML_ADDRESS, log);
	VMCS_SET(v, GUEST_PML_INDEX, 1);
	uint64_t *p1 = ept_map(C->vmx.ctl.eptp, GPA, HPA, 1, EPT_RWX);
	uint64_t *p2 = ept_map(C->vmx.ctl.eptp, GPA + PAGE_SIZE, HPA, 1, EPT_RWX);
	uint64_t *p3 = ept_map(C->vmx.ctl.eptp, GPA + 2 * PAGE_SIZE, HPA, 1, EPT_RWX);
	CHECK(walk(GPA + 0x567, ACC_READ));        /* reads log nothing */
	CHECK_EQ(VMCS_GET(v, GUEST_PML_INDEX), 1);
	CHECK(walk(GPA + 0x567, ACC_WRITE));
	CHECK_EQ(*ram64(log + 8), GPA);
	CHECK_EQ(VMCS_GET(v, GUEST_PML_INDEX), 0);
	CHECK(walk(GPA + 0x10, ACC_WRITE));        /* D already 1: not logged again */
	CHECK_EQ(VMCS_GET(v, GUEST_PML_INDEX), 0);
	CHECK(walk(GPA + PAGE_SIZE, ACC_WRITE));
	CHECK_EQ(*ram64(log), GPA + PAGE_SIZE);
	CHECK_EQ(VMCS_GET(v, GUEST_PML_INDEX), 0xFFFF);
	CHECK(!walk(GPA + 2 * PAGE_SIZE + 8, ACC_WRITE));
	CHECK_EQ(X.reason, EXIT_REASON_PML_FULL);
	CHECK_EQ(X.qualification, 0);
	CHECK_EQ(*p3 & EPT_DIRTY, 0);
	CHECK(*p1 & EPT_DIRTY);
	CHECK(*p2 & EPT_DIRTY);
	/* Without "enable PML" nothing is logged. */
	C->vmx.ctl.proc2 &= ~PROC2_ENABLE_PML;
	CHECK(walk(GPA + 2 * PAGE_SIZE, ACC_WRITE));
	CHECK(*p3 & EPT_DIRTY);
	C->vmx.current = NULL;
	vmcs_free(v);
}

/* SDM 28.2.1.1: the EPTP checks against IA32_VMX_EPT_VPID_CAP. */
static void test_eptp_valid(void)
{
	CHECK(vmx_eptp_valid(0x1000 | EPTP_FLAGS(false)));
	CHECK(vmx_eptp_valid(0x1000 | EPTP_FLAGS(true)));
	CHECK(vmx_eptp_valid(0x1000 | 3ULL << EPTP_WALK_LENGTH_SHIFT));        /* UC */
	CHECK(!vmx_eptp_valid(0x1000 | 1 | 3ULL << EPTP_WALK_LENGTH_SHIFT));   /* WC */
	CHECK(!vmx_eptp_valid(0x1000 | 4 | 3ULL << EPTP_WALK_LENGTH_SHIFT));   /* WT */
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_MEMTYPE_WB | 4ULL << EPTP_WALK_LENGTH_SHIFT));
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_MEMTYPE_WB | 2ULL << EPTP_WALK_LENGTH_SHIFT));
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_FLAGS(false) | BIT(7)));
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_FLAGS(false) | BIT(11)));
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_FLAGS(false) | BIT(CPU_MAXPHYADDR)));
	CHECK(!vmx_eptp_valid(0x1000 | EPTP_FLAGS(false) | BIT(63)));
}

/* The TLB entry of a data access at GLA (supervisor, SMAP off). */
static const struct tlb_entry *entry_of(gva_t la)
{
	return tlb_entry_of(&C->tlb, TLB_CTX_SUP, la);
}

/* Reads: the combined mapping (silicon-physical page) is cached and the next access
 * is a fast-path hit; the guest's and the EPT's accessed flags are set, and the guest
 * page table's EPT leaf is dirty (SDM 30.3.5). */
static void check_nonroot_reads(uint64_t eptp, const uint64_t *ept_pte, const uint64_t *gpte)
{
	CHECK_EQ(peek(GLA), 0x1122334455667788ULL);
	CHECK_EQ(entry_of(GLA)->gpa, HPA);               /* combined: silicon-physical */
	CHECK_EQ(*gpte & (ACC | DIRTY), ACC);             /* guest A set, at GPA = HPA */
	CHECK_EQ(*ept_pte & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	/* The guest page table (identity, 2 MiB leaf above 16 MiB) was accessed as a
	 * write for EPT A/D purposes (SDM 30.3.5): its EPT leaf is dirty. */
	CHECK_EQ(*ept_ent(eptp, PT_POOL, 2) & (EPT_ACCESSED | EPT_DIRTY),
		 EPT_ACCESSED | EPT_DIRTY);
	uint64_t slow = C->tlb.stats.slow;
	CHECK_EQ(peek(GLA + 8), 0);
	CHECK_EQ(C->tlb.stats.slow, slow);                /* a fast-path hit */
}

/* The first write walks again (EPT D = 0) and sets both dirty flags; then fast. */
static void check_nonroot_writes(const uint64_t *ept_pte, const uint64_t *gpte)
{
	CHECK_EQ(wr8(GLA, 0x55), NO_FAULT);
	CHECK_EQ(*ram64(HPA), 0x55);
	CHECK(*ept_pte & EPT_DIRTY);
	CHECK(*gpte & DIRTY);
	uint64_t slow = C->tlb.stats.slow;
	CHECK_EQ(wr8(GLA + 16, 0x66), NO_FAULT);
	CHECK_EQ(C->tlb.stats.slow, slow);
	CHECK_EQ(*ram64(HPA + 16), 0x66);
}

/* Instruction fetch: the decode cache gets the silicon-physical address; a guest
 * write to that page bumps its generation (self-modifying code, bus.h). */
static void check_nonroot_fetch(void)
{
	const uint8_t *code;
	int avail;
	gpa_t pa;
	CHECK_EQ(fetch(GLA + 0x40, &code, &avail, &pa), NO_FAULT);
	CHECK_EQ(pa, HPA + 0x40);
	CHECK_EQ(avail, PAGE_SIZE - 0x40);
	bus_mark_code_page(&B, HPA >> PAGE_SHIFT);
	uint32_t gen = B.page_gen[HPA >> PAGE_SHIFT];
	CHECK_EQ(wr8(GLA + 0x40, 0x90), NO_FAULT);
	CHECK_EQ(B.page_gen[HPA >> PAGE_SHIFT], gen + 1);
}

/* Guests without paging (unrestricted guest): their addresses still go through EPT. */
static void check_nonroot_unpaged(uint64_t eptp)
{
	/* Unrestricted guest, CR0.PG = 0 (SDM 28.3.1.1): the linear address is the
	 * guest-physical address, still translated by EPT. */
	C->cr0 &= ~CR0_PG;
	C->cr4 &= ~CR4_PAE;
	C->efer &= ~(EFER_LMA | EFER_LME);
	C->mode = MODE_PROT32;
	tlb_ctl_written(C);
	CHECK_EQ(peek(GPA + 16), 0x66);
	CHECK_EQ(entry_of(GPA)->gpa, HPA);
	/* CR0.PE = 0 as well (real mode, SDM 28.3.1.1): segment base + offset is the
	 * guest-physical address, through EPT. */
	ept_map(eptp, 0x5000, HPA, 1, EPT_RWX);
	C->cr0 &= ~CR0_PE;
	C->mode = MODE_REAL;
	for (int i = 0; i < SEG_COUNT; i++)
		C->seg[i] = (struct seg){ .sel = 0x400, .base = 0x4000, .limit = 0xFFFF,
					  .ar = 3 | AR_S | AR_P };
	tlb_ctl_written(C);
	uint64_t v = 0;
	CHECK_EQ(rd(SEG_DS, 0x1010, 3, &v), NO_FAULT);
	CHECK_EQ(v, 0x66);
	C->cr0 |= CR0_PE;
	C->mode = MODE_PROT32;
	flat_segs(AR_DB);
}

/* SDM 30.3 with 28.3.1.1/30.3.5: in non-root operation with EPT, the guest's
 * paging-structure entries and its final addresses are guest-physical and go through
 * EPT; the TLB caches the combined mapping (silicon-physical page) so that the next
 * access is a fast-path hit; EPT A/D flags count paging-structure accesses as writes. */
static void test_mmu_nonroot(void)
{
	mode_long64(false);
	uint64_t eptp = ept_new(true);
	ept_identity(eptp);
	uint64_t *ept_pte = ept_map(eptp, GPA, HPA, 1, EPT_RWX);
	*ram64(HPA) = 0x1122334455667788ULL;
	*ram64(GPA) = 0xBAD;
	uint64_t *gpte = map64(GLA, GPA, 1, P | RW);
	enter_nonroot(PROC2_ENABLE_EPT, eptp, 1);
	check_nonroot_reads(eptp, ept_pte, gpte);
	check_nonroot_writes(ept_pte, gpte);
	check_nonroot_fetch();
	check_nonroot_unpaged(eptp);
	exit_to_root();
	CHECK_EQ(peek(GPA + 16), *ram64(GPA + 16));       /* root: no EPT */
	C->vmx.ctl = (struct vmx_controls){ 0 };
}

/* --- accesses that end in a VM exit (native VMM: the exit returns here; xrd, xwr,
 *     xfx in ept_harness.h) ---------------------------------------------------- */


static struct vmcs *V;

/* The VM exit of call: reason, qualification, and what SDM 29.2.1 defines for it:
 * the guest-physical address for EPT violations and misconfigurations, the
 * guest-linear address for EPT violations with qualification bit 7. */
#define CHECK_EXIT(call, reason, qual, gpa, gla)                                  \
	do {                                                                      \
		CHECK_EQ((call), VMEXIT);                                         \
		CHECK_EQ(VMCS_GET(V, VM_EXIT_REASON), (reason));                  \
		CHECK_EQ(VMCS_GET(V, EXIT_QUALIFICATION), (qual));                \
		if ((reason) == EXIT_REASON_EPT_VIOLATION ||                      \
		    (reason) == EXIT_REASON_EPT_MISCONFIG)                        \
			CHECK_EQ(VMCS_GET(V, GUEST_PHYSICAL_ADDRESS), (gpa));     \
		if ((reason) == EXIT_REASON_EPT_VIOLATION &&                      \
		    ((qual) & EPTQUAL_GLA_VALID))                                 \
			CHECK_EQ(VMCS_GET(V, GUEST_LINEAR_ADDRESS), (gla));       \
		CHECK(!C->vmx.non_root);                                          \
	} while (0)

#define Q_FINAL (EPTQUAL_GLA_VALID | EPTQUAL_GLA_TRANSLATED)
#define Q_RW_PAGE BIT(10) /* the guest maps the address read/write (advanced info) */

static uint64_t eptp_nr;

/* Guest: GLA -> GPA (supervisor, read/write), EPT identity except GPA -> HPA with
 * perm; in non-root operation with EPT (+ extra secondary controls). */
static uint64_t *nr_setup(uint64_t perm, bool ad, uint32_t proc2)
{
	mode_long64(false);
	eptp_nr = ept_new(ad);
	ept_identity(eptp_nr);
	uint64_t *e = ept_map(eptp_nr, GPA, HPA, 1, perm);
	map64(GLA, GPA, 1, P | RW);
	enter_nonroot(PROC2_ENABLE_EPT | proc2, eptp_nr, 1);
	return e;
}

static void reenter(void)
{
	enter_nonroot(C->vmx.ctl.proc2, C->vmx.ctl.eptp, C->vmx.ctl.vpid);
}

/* SDM 30.3.3.2 with Table 29-7, through the MMU: final accesses (bits 7 and 8). */
static void test_exit_final(void)
{
	uint64_t v;
	uint64_t *e = nr_setup(EPT_READ, false, 0);
	CHECK_EQ(xrd(GLA + 0x28, &v), NO_FAULT);
	CHECK_EXIT(xwr(GLA + 0x30, 1), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA + 0x30, GLA + 0x30);
	reenter();
	CHECK_EXIT(xfx(GLA + 0x40), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_FETCH | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA + 0x40, GLA + 0x40);
	/* Execute-only (IA32_VMX_EPT_VPID_CAP bit 0): fetches work, reads exit. */
	*e = HPA | EPT_EXEC | EPT_WB;
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	reenter();
	CHECK_EQ(xfx(GLA + 0x40), NO_FAULT);
	CHECK_EXIT(xrd(GLA + 8, &v), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_READ | EPTQUAL_EXECUTABLE | Q_FINAL | Q_RW_PAGE, GPA + 8, GLA + 8);
	/* Not present: bits 3-5 are 0. */
	*e = 0;
	ept_invalidate(C, INVEPT_SINGLE_CONTEXT, eptp_nr);
	reenter();
	CHECK_EXIT(xrd(GLA + 8, &v), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_READ | Q_FINAL | Q_RW_PAGE, GPA + 8, GLA + 8);
	/* Misconfigured leaf (memory type 2): reason 49, no qualification. */
	*e = HPA | EPT_RWX | 2ULL << EPT_MEMTYPE_SHIFT;
	reenter();
	CHECK_EXIT(xrd(GLA + 8, &v), EXIT_REASON_EPT_MISCONFIG, 0, GPA + 8, GLA + 8);
	/* The permissions held in the TLB (combined mapping) until INVEPT: a read-only
	 * page read first, then written, still exits (TLBF_EPT_NW). */
	*e = HPA | EPT_READ | EPT_WB;
	reenter();
	CHECK_EQ(xrd(GLA, &v), NO_FAULT);
	CHECK_EXIT(xwr(GLA, 1), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA, GLA);
	/* Unrestricted guest with CR0.PG = 0 (SDM 28.3.1.1): linear = guest-physical;
	 * no guest attributes (bits 9-11 = 0). */
	reenter();
	C->cr0 &= ~CR0_PG;
	C->cr4 &= ~CR4_PAE;
	C->efer &= ~(EFER_LMA | EFER_LME);
	C->mode = MODE_PROT32;
	C->vmx.ctl.proc2 |= PROC2_UNRESTRICTED_GUEST;
	tlb_ctl_written(C);
	CHECK_EXIT(xwr(GPA + 0x10, 1), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL, GPA + 0x10, GPA + 0x10);
}

/* The fast path honours the EPT part of a combined mapping (tlb.h TLBF_EPT_*): with
 * the guest's dirty flag already set, a read fills an entry the guest would let be
 * written; EPT read-only must still make the write exit, EPT no-execute the fetch,
 * and a clean EPT leaf (A/D on) must make the first write set its dirty flag. */
static void test_exit_fast_path(void)
{
	uint64_t v;
	uint64_t *e = nr_setup(EPT_READ, false, 0);
	*ent64(GLA, 1, 0) |= ACC | DIRTY;
	CHECK_EQ(xrd(GLA, &v), NO_FAULT);
	CHECK_EQ(xrd(GLA, &v), NO_FAULT);
	CHECK_EXIT(xwr(GLA, 1), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA, GLA);
	reenter();
	CHECK_EXIT(xfx(GLA), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_FETCH | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA, GLA);
	exit_to_root();
	e = nr_setup(EPT_RWX, true, 0);
	*ent64(GLA, 1, 0) |= ACC | DIRTY;
	CHECK_EQ(xrd(GLA, &v), NO_FAULT);
	CHECK_EQ(*e & EPT_DIRTY, 0);
	CHECK_EQ(xwr(GLA, 5), NO_FAULT);
	CHECK(*e & EPT_DIRTY);
	exit_to_root();
}

/* Table 29-7 bit 8 = 0: the guest's paging-structure accesses. Without EPT A/D the
 * walk reads (bit 0) and setting a guest accessed flag writes (bit 1); with EPT A/D
 * every such access is a write (SDM 30.3.5), and a violation it causes sets both
 * bit 0 and bit 1 (SDM 29.2.1, Table 29-7 note 1 to bit 0). */
static void test_exit_paging_structures(void)
{
	uint64_t v;
	nr_setup(EPT_RWX, false, 0);
	gpa_t pml4e = (C->cr3 & ADDR_BITS) + 8 * ((GLA >> 39) & 511);
	uint64_t *pt_leaf = ept_ent(eptp_nr, PT_POOL, 2); /* 2 MiB leaf over the tables */
	uint64_t saved = *pt_leaf;
	*pt_leaf = 0;
	CHECK_EXIT(xrd(GLA, &v), EXIT_REASON_EPT_VIOLATION, EPTQUAL_READ | EPTQUAL_GLA_VALID,
		   pml4e, GLA);
	/* Read-only tables: the walk reads them, the accessed-flag update exits. */
	*pt_leaf = (saved & ~(uint64_t)EPT_RWX) | EPT_READ;
	reenter();
	CHECK_EXIT(xrd(GLA, &v), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_GLA_VALID, pml4e, GLA);
	CHECK_EQ(*ram64(pml4e) & ACC, 0);           /* nothing written */
	/* With EPT A/D flags the read itself is a write: reported as read and write
	 * (0x8B; SDM 29.2.1 Table 29-7 note 1), on read-only and on absent tables. */
	exit_to_root();
	uint64_t *data = nr_setup(EPT_RWX, true, 0);
	pt_leaf = ept_ent(eptp_nr, PT_POOL, 2);
	saved = *pt_leaf;
	*pt_leaf = (saved & ~(uint64_t)EPT_RWX) | EPT_READ;
	CHECK_EXIT(xrd(GLA, &v), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_READ | EPTQUAL_WRITE | EPTQUAL_READABLE | EPTQUAL_GLA_VALID, pml4e,
		   GLA);
	*pt_leaf = 0;
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	reenter();
	CHECK_EXIT(xrd(GLA, &v), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_READ | EPTQUAL_WRITE | EPTQUAL_GLA_VALID, pml4e, GLA);
	/* The final access is no paging-structure access: a write is bit 1 alone. */
	*pt_leaf = saved;
	*data = (*data & ~(uint64_t)EPT_RWX) | EPT_READ;
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	reenter();
	CHECK_EXIT(xwr(GLA, 1), EXIT_REASON_EPT_VIOLATION,
		   EPTQUAL_WRITE | EPTQUAL_READABLE | Q_FINAL | Q_RW_PAGE, GPA, GLA);
}

static int xload_pdptrs(void)
{
	int r = setjmp(C->fault_jmp);
	if (r)
		return nonroot_unwound(r);
	return mmu_load_pdptrs(C) ? NO_FAULT : EXC_GP;
}

/* PAE paging in the guest: the PDPTE loads of MOV to CR3 read guest-physical memory
 * through EPT; a violation there has no linear address (bit 7 = 0, SDM 29.2.1). */
static void test_exit_pdpte_load(void)
{
	mode_prot32(true, CR4_PAE);
	uint64_t eptp = ept_new(false);
	ept_identity(eptp);
	gpa_t pdpt = C->cr3 & ~0x1FULL;
	uint64_t *leaf = ept_ent(eptp, pdpt, 2);      /* 2 MiB leaf over the tables */
	uint64_t saved = *leaf;
	*leaf = 0;
	enter_nonroot(PROC2_ENABLE_EPT | PROC2_UNRESTRICTED_GUEST, eptp, 1);
	CHECK_EXIT(xload_pdptrs(), EXIT_REASON_EPT_VIOLATION, EPTQUAL_READ, pdpt, 0);
	*leaf = saved;
	ept_invalidate(C, INVEPT_ALL_CONTEXT, 0);
	reenter();
	map_pae(GLA & 0xFFFFFFFF, GPA, 1, P | RW);
	CHECK_EQ(xload_pdptrs(), NO_FAULT);
	uint64_t v;
	*ram64(GPA) = 0x4242;
	CHECK_EQ(xrd(GLA & 0xFFFFFFFF, &v), NO_FAULT);
	CHECK_EQ(v, 0x4242);
	exit_to_root();
}

/* SDM 30.3.6 with 30.3.5, through the MMU: the guest's page walk is a write for EPT
 * A/D, so with a full log it exits (reason 62) before anything is written; with room,
 * the page-table page is logged once (its EPT leaf becomes dirty); the first write to
 * the data page with a full log exits without writing. */
static void test_exit_pml_full(void)
{
	uint64_t v;
	uint64_t *e = nr_setup(EPT_RWX, true, PROC2_ENABLE_PML);
	gpa_t log = 0x00F00000;
	VMCS_SET(V, PML_ADDRESS, log);
	VMCS_SET(V, GUEST_PML_INDEX, 0xFFFF);
	*ram64(HPA) = 7;
	gpa_t pml4 = C->cr3 & ADDR_BITS;
	CHECK_EXIT(xrd(GLA, &v), EXIT_REASON_PML_FULL, 0, 0, 0);
	CHECK_EQ(*ram64(pml4 + 8 * ((GLA >> 39) & 511)) & ACC, 0);
	CHECK_EQ(*ept_ent(eptp_nr, PT_POOL, 2) & EPT_DIRTY, 0);
	VMCS_SET(V, GUEST_PML_INDEX, 511);
	reenter();
	CHECK_EQ(xrd(GLA, &v), NO_FAULT);
	CHECK_EQ(v, 7);
	CHECK_EQ(VMCS_GET(V, GUEST_PML_INDEX), 510);
	CHECK_EQ(*ram64(log + 8 * 511), pml4);
	CHECK_EQ(*e & (EPT_ACCESSED | EPT_DIRTY), EPT_ACCESSED);
	VMCS_SET(V, GUEST_PML_INDEX, 0xFFFF);
	CHECK_EXIT(xwr(GLA, 9), EXIT_REASON_PML_FULL, 0, 0, 0);
	CHECK_EQ(*ram64(HPA), 7);
	CHECK_EQ(*e & EPT_DIRTY, 0);
}

/* SDM 31.4, Table 29-6: linear accesses to the APIC-access page (a physical address:
 * after EPT) exit with the offset and the access type; with and without EPT. */
static void test_exit_apic_access(void)
{
	uint64_t v;
	nr_setup(EPT_RWX, false, PROC2_VIRTUALIZE_APIC_ACCESSES);
	C->vmx.ctl.apic_access_page = HPA;
	CHECK_EXIT(xrd(GLA + 0x80, &v), EXIT_REASON_APIC_ACCESS, 0x080, 0, 0);
	reenter();
	CHECK_EXIT(xwr(GLA + 0x300, 1), EXIT_REASON_APIC_ACCESS, 0x1300, 0, 0);
	reenter();
	CHECK_EXIT(xfx(GLA + 0x10), EXIT_REASON_APIC_ACCESS, 0x2010, 0, 0);
	/* The guest-physical page (identity-mapped elsewhere) is not the page. */
	reenter();
	C->vmx.ctl.apic_access_page = GPA;
	CHECK_EQ(xrd(GLA + 0x80, &v), NO_FAULT);
	/* SDM 31.4.6.1: a guest-physical access (here the walk's read of the PML4E)
	 * to the page exits too, access type 15 (during instruction execution), or 10
	 * while an event is being delivered. */
	C->vmx.ctl.apic_access_page = C->cr3 & ADDR_BITS;
	CHECK_EXIT(xrd(GLA + 0x2000, &v), EXIT_REASON_APIC_ACCESS, 0xF000, 0, 0);
	reenter();
	C->vmx.vectoring_info = INTR_INFO_VALID | 14;
	CHECK_EXIT(xrd(GLA + 0x2000, &v), EXIT_REASON_APIC_ACCESS, 0xA000, 0, 0);
	/* A linear access during event delivery: type 3. */
	reenter();
	C->vmx.ctl.apic_access_page = HPA;
	C->vmx.vectoring_info = INTR_INFO_VALID | 14;
	CHECK_EXIT(xwr(GLA + 0x18, 1), EXIT_REASON_APIC_ACCESS, 0x3018, 0, 0);
	C->vmx.vectoring_info = 0;
	reenter();
	C->vmx.ctl.apic_access_page = GPA;
	/* Without EPT the physical address is the guest's. */
	mode_long64(false);
	map64(GLA, GPA, 1, P | RW);
	enter_nonroot(PROC2_VIRTUALIZE_APIC_ACCESSES, 0, 2);
	C->vmx.ctl.apic_access_page = GPA;
	CHECK_EXIT(xwr(GLA + 0x44, 1), EXIT_REASON_APIC_ACCESS, 0x1044, 0, 0);
}

static void test_mmu_exits(void)
{
	V = vmcs_alloc();
	if (!V || vmx_native_on(C) != VMX_SUCCEED || vmx_vmptrld(C, V) != VMX_SUCCEED) {
		CHECK(false);
		return;
	}
	test_exit_final();
	test_exit_fast_path();
	test_exit_paging_structures();
	test_exit_pdpte_load();
	test_exit_pml_full();
	test_exit_apic_access();
	C->vmx.non_root = false;
	C->vmx.ctl = (struct vmx_controls){ 0 };
	vmx_tlb_transition(C);
}

int main(void)
{
	mt_init();
	test_walk_sizes();
	test_permissions();
	test_paging_structure_qualification();
	test_misconfig();
	test_accessed_dirty();
	test_pml();
	test_eptp_valid();
	test_mmu_nonroot();
	test_mmu_exits();
	return report("vmx_ept");
}
