/*
 * The software TLB: allocation, stamps, flushes (SDM 4.10.4), fills and the write
 * chains for code pages. The layout and the fast path are described in tlb.h.
 */
#include "cpu/mmu.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/debug.h"
#include "cpu/vmx/ept.h"

#define ENT_BYTES ((size_t)TLB_NCTX * TLB_SIZE * sizeof(struct tlb_entry))
#define GENT_BYTES ((size_t)TLB_SIZE * sizeof(struct tlb_gentry))
#define WR_BUCKETS (1u << TLB_WR_BITS)

_Static_assert(sizeof(struct tlb_entry) == 64, "a TLB entry is one cache line");
_Static_assert(TLB_ASIDS <= 8, "tlb.live has a bit per PCID slot");

static void *zalloc_pages(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

int tlb_init(struct tlb *t)
{
	memset(t, 0, sizeof(*t));
	t->ent = zalloc_pages(ENT_BYTES);
	t->gent = zalloc_pages(GENT_BYTES);
	t->wr_head = calloc(WR_BUCKETS, sizeof(*t->wr_head));
	if (!t->ent || !t->gent || !t->wr_head) {
		tlb_destroy(t);
		return -1;
	}
	t->next_stamp = 2;
	t->stamp = 1;
	t->gstamp = 1;
	t->asid[0] = (struct tlb_asid){ .key = 0, .stamp = 1 };
	t->live = 1;
	return 0;
}

void tlb_destroy(struct tlb *t)
{
	if (t->ent)
		munmap(t->ent, ENT_BYTES);
	if (t->gent)
		munmap(t->gent, GENT_BYTES);
	free(t->wr_head);
	t->ent = NULL;
	t->gent = NULL;
	t->wr_head = NULL;
}

/* --- write chains ------------------------------------------------------------- */

static uint32_t *wr_bucket(struct tlb *t, gpa_t gpa)
{
	return &t->wr_head[(gpa >> PAGE_SHIFT) & (WR_BUCKETS - 1)];
}

static void wr_link(struct tlb *t, uint32_t i)
{
	struct tlb_entry *e = &t->ent[i];
	uint32_t *head = wr_bucket(t, e->gpa);
	e->wprev = 0;
	e->wnext = *head;
	if (*head)
		t->ent[*head - 1].wprev = i + 1;
	*head = i + 1;
	e->flags |= TLBF_LINKED;
}

static void wr_unlink(struct tlb *t, uint32_t i)
{
	struct tlb_entry *e = &t->ent[i];
	if (!(e->flags & TLBF_LINKED))
		return;
	if (e->wprev)
		t->ent[e->wprev - 1].wnext = e->wnext;
	else
		*wr_bucket(t, e->gpa) = e->wnext;
	if (e->wnext)
		t->ent[e->wnext - 1].wprev = e->wprev;
	e->flags &= ~(uint32_t)TLBF_LINKED;
}

void tlb_drop_fast_writes(struct cpu *cpu, uint64_t pfn)
{
	struct tlb *t = &cpu->tlb;
	uint32_t i = *wr_bucket(t, pfn << PAGE_SHIFT);
	while (i) {
		struct tlb_entry *e = &t->ent[i - 1];
		uint32_t next = e->wnext;
		if (e->gpa >> PAGE_SHIFT == pfn) {
			e->tag[TLB_WRITE] = 0;
			wr_unlink(t, i - 1);
		}
		i = next;
	}
}

/* --- tags ---------------------------------------------------------------------- */

/* Derive the fast-path tags of entry i from its translation, for its context. */
static void tlb_set_tags(struct cpu *cpu, uint32_t i)
{
	struct tlb *t = &cpu->tlb;
	struct tlb_entry *e = &t->ent[i];
	int ctx = (int)(i >> TLB_BITS);
	bool ram = !(e->flags & TLBF_SLOW);
	unsigned deny = tlb_ept_deny(e->flags);
	e->tag[TLB_READ] = ram && !(deny & BIT(TLB_READ)) &&
			   mmu_allows(cpu, e->flags, ACC_READ, ctx) ? e->page : 0;
	e->tag[TLB_EXEC] = ram && !(deny & BIT(TLB_EXEC)) &&
			   mmu_allows(cpu, e->flags, ACC_EXEC, ctx) ? e->page : 0;
	/* Writes need the dirty flag set (SDM 4.8) and no decoded code on the page. */
	bool w = ram && !(deny & BIT(TLB_WRITE)) && (e->flags & TLBF_D) &&
		 mmu_allows(cpu, e->flags, ACC_WRITE, ctx) &&
		 !cpu->bus->code_page[e->gpa >> PAGE_SHIFT];
	e->tag[TLB_WRITE] = w ? e->page : 0;
	if (w && !(e->flags & TLBF_LINKED))
		wr_link(t, i);
	else if (!w)
		wr_unlink(t, i);
	/* A page an armed hardware breakpoint watches stays on the slow paths (debug.h);
	 * last, so that the common case saves no registers for the call. */
	if (unlikely(cpu->dbg.armed & (DBG_EXEC | DBG_DATA)))
		debug_tlb_strip(cpu, e->page & PAGE_MASK, e->tag);
}

static bool apic_page(const struct cpu *cpu, gpa_t page)
{
	/* xAPIC mode: IA32_APIC_BASE EN (bit 11) = 1, EXTD (bit 10) = 0 (SDM 11.4.4). */
	uint64_t b = cpu->apic_base;
	return cpu->apic_ops && (b & BIT(11)) && !(b & BIT(10)) &&
	       page == (b & ((1ULL << CPU_MAXPHYADDR) - 1) & PAGE_MASK);
}

/* RAM the fast path may use, an MMIO/unbacked page, or the APIC page. */
static uint32_t phys_class(const struct cpu *cpu, gpa_t page)
{
	const struct bus *bus = cpu->bus;
	if (apic_page(cpu, page))
		return TLBF_APIC;
	if (page >= bus->ram_size || bus->ram_size - page < PAGE_SIZE)
		return TLBF_MMIO;
	if (page + PAGE_SIZE <= bus->mmio_low)
		return 0; /* below every MMIO region (bus.h) */
	for (int i = 0; i < bus->n_mmio; i++) {
		const struct bus_mmio_region *r = &bus->mmio[i];
		if (r->base < page + PAGE_SIZE && page < r->base + r->size)
			return TLBF_MMIO;
	}
	return 0;
}

static struct tlb_entry *tlb_install(struct cpu *cpu, uint32_t i, gva_t la, gpa_t gpa,
				     uint32_t flags)
{
	struct tlb *t = &cpu->tlb;
	struct tlb_entry *e = &t->ent[i];
	wr_unlink(t, i);
	e->page = (la & PAGE_MASK) | t->stamp;
	e->gpa = gpa;
	e->flags = flags & ~(uint32_t)TLBF_LINKED;
	e->addend = (flags & TLBF_SLOW) ? 0
		: (uint64_t)(uintptr_t)(cpu->bus->ram + gpa) - (la & PAGE_MASK);
	tlb_set_tags(cpu, i);
	return e;
}

static void tlb_clear(struct tlb *t, uint32_t i)
{
	struct tlb_entry *e = &t->ent[i];
	wr_unlink(t, i);
	e->page = 0;
	e->tag[TLB_READ] = e->tag[TLB_WRITE] = e->tag[TLB_EXEC] = 0;
}

/* --- stamps and flushes ----------------------------------------------------------- */

static uint64_t env_of(const struct cpu *cpu)
{
	return (cpu->cr0 & (CR0_PG | CR0_WP)) |
	       (cpu->cr4 & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCIDE | CR4_SMEP | CR4_LA57)) |
	       (cpu->efer & (EFER_NXE | EFER_LMA)) << 32;
}

static uint16_t cur_pcid(const struct cpu *cpu)
{
	return (cpu->cr4 & CR4_PCIDE) ? cpu->cr3 & 0xFFF : 0;
}

/* The current address space: the PCID in the current VMX context. */
static uint64_t cur_key(const struct cpu *cpu)
{
	return cur_pcid(cpu) | cpu->tlb.vtag;
}

/* --- PCIDs with live entries --------------------------------------------------- */

static uint64_t salt_of(unsigned k)
{
	return (uint64_t)k * (TLB_SIZE / TLB_ASIDS);
}

static void asid_void_all(struct tlb *t)
{
	for (unsigned k = 0; k < TLB_ASIDS; k++)
		t->asid[k].stamp = 0;
	t->live = 0;
}

/* Every stamp used: clear the arrays and void every PCID's stamp. */
static void tlb_wipe(struct tlb *t)
{
	memset(t->ent, 0, ENT_BYTES);
	memset(t->wr_head, 0, WR_BUCKETS * sizeof(*t->wr_head));
	t->next_stamp = 1;
	asid_void_all(t);
	t->stats.wipes++;
}

static void asid_use(struct tlb *t, unsigned k)
{
	t->cur = (uint16_t)k;
	t->key = t->asid[k].key;
	t->stamp = t->asid[k].stamp;
	t->salt = salt_of(k);
	t->asid[k].used = ++t->clock;
}

/* The live slot of address space key, or TLB_ASIDS. */
static unsigned asid_find(const struct tlb *t, uint64_t key)
{
	for (unsigned k = 0; k < TLB_ASIDS; k++)
		if (t->asid[k].stamp && t->asid[k].key == key)
			return k;
	return TLB_ASIDS;
}

/* A slot for a PCID that has none: a free one, else the least recently used. */
static unsigned asid_victim(const struct tlb *t)
{
	unsigned best = 0;
	for (unsigned k = 0; k < TLB_ASIDS; k++) {
		if (!t->asid[k].stamp)
			return k;
		if (t->asid[k].used < t->asid[best].used)
			best = k;
	}
	return best;
}

/* Make address space key current with a new stamp: none of its non-global entries
 * match any more. Its entries will be made under t->env. */
static void tlb_fresh_pcid(struct tlb *t, uint64_t key)
{
	if (t->next_stamp > TLB_STAMP_MAX)
		tlb_wipe(t);
	unsigned k = asid_find(t, key);
	if (k == TLB_ASIDS)
		k = asid_victim(t);
	t->asid[k] = (struct tlb_asid){ .key = key, .env = t->env,
					.stamp = t->next_stamp++ };
	t->live |= (uint8_t)(1u << k);
	asid_use(t, k);
}

/* Make address space key current keeping its entries if it has any that were made
 * under the current CR0/CR4/EFER bits (another VMX context may have other ones). */
static void tlb_switch_pcid(struct tlb *t, uint64_t key)
{
	unsigned k = asid_find(t, key);
	if (k < TLB_ASIDS && t->asid[k].env == t->env)
		asid_use(t, k);
	else
		tlb_fresh_pcid(t, key);
}

void tlb_flush_all(struct cpu *cpu)
{
	struct tlb *t = &cpu->tlb;
	if (++t->gstamp > TLB_STAMP_MAX) {
		memset(t->gent, 0, GENT_BYTES);
		t->gstamp = 1;
	}
	asid_void_all(t);
	t->env = env_of(cpu);
	t->env_apic = cpu->apic_base;
	tlb_fresh_pcid(t, cur_key(cpu));
	t->large_mask[0] = t->large_mask[1] = 0;
	t->stats.flushes++;
}

/* Non-global flush of the PCID in CR3, which becomes current. Called for MOV to CR3,
 * so the PDPTE registers are reloaded too unless mmu_load_pdptrs() follows. */
void tlb_flush_nonglobal(struct cpu *cpu)
{
	tlb_fresh_pcid(&cpu->tlb, cur_key(cpu));
	cpu->tlb.pdpte_cr3 = 0;
}

/* SDM 4.10.4.1 MOV to CR3: with CR4.PCIDE = 1 and bit 63 set nothing is invalidated;
 * otherwise the new PCID's non-global entries are. Either way it becomes current. */
void tlb_cr3_written(struct cpu *cpu, bool noflush)
{
	if (noflush && (cpu->cr4 & CR4_PCIDE)) {
		tlb_switch_pcid(&cpu->tlb, cur_key(cpu));
		cpu->tlb.pdpte_cr3 = 0;
	} else {
		tlb_flush_nonglobal(cpu);
	}
}

/* SDM 4.10.4.1 MOV to CR0/CR4: changes of PG, PGE, PCIDE, PAE, SMEP need (at least)
 * flushes; WP, NXE, PSE and LA57 are folded into our tags, and a moved or re-enabled
 * APIC page must leave the fast path: all of them flush everything (always allowed). */
void tlb_ctl_written(struct cpu *cpu)
{
	struct tlb *t = &cpu->tlb;
	if (t->env != env_of(cpu) || t->env_apic != cpu->apic_base)
		tlb_flush_all(cpu);
}

void tlb_flush_pcid(struct cpu *cpu, uint16_t pcid, bool keep_global)
{
	struct tlb *t = &cpu->tlb;
	uint64_t key = (pcid & 0xFFFu) | t->vtag;
	if (!keep_global) {
		tlb_flush_all(cpu);
	} else if (key == t->key) {
		tlb_fresh_pcid(t, key);
	} else {
		unsigned k = asid_find(t, key);
		if (k < TLB_ASIDS) {
			t->asid[k].stamp = 0;
			t->live &= (uint8_t)~(1u << k);
		}
	}
	/* A MOV to CR3 may report itself this way: follow CR3 to its PCID. */
	if (t->key != cur_key(cpu))
		tlb_switch_pcid(t, cur_key(cpu));
}

/* Invalidate la's 4 KiB page in every context of every live PCID (copies of a
 * global translation may sit in any of them) and in the global table. */
static void tlb_drop_page(struct tlb *t, gva_t la)
{
	gva_t page = la & PAGE_MASK;
	for (unsigned m = t->live; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m);
		/* The context-major layout: ctx's slot is TLB_SIZE entries after ctx-1's. */
		uint32_t i = (uint32_t)tlb_slot(0, la, salt_of(k));
		for (int ctx = 0; ctx < TLB_NCTX; ctx++, i += TLB_SIZE)
			if ((t->ent[i].page & PAGE_MASK) == page)
				tlb_clear(t, i);
	}
	struct tlb_gentry *g = &t->gent[(la >> PAGE_SHIFT) & (TLB_SIZE - 1)];
	if ((g->page & PAGE_MASK) == page)
		g->page = 0;
}

void tlb_retag_page(struct cpu *cpu, gva_t la)
{
	struct tlb *t = &cpu->tlb;
	gva_t page = la & PAGE_MASK;
	for (unsigned m = t->live; m; m &= m - 1) {
		unsigned k = (unsigned)__builtin_ctz(m);
		uint32_t i = (uint32_t)tlb_slot(0, la, salt_of(k));
		for (int ctx = 0; ctx < TLB_NCTX; ctx++, i += TLB_SIZE)
			if (t->ent[i].page && (t->ent[i].page & PAGE_MASK) == page)
				tlb_set_tags(cpu, i);
	}
}

static bool in_large(const struct tlb *t, gva_t la)
{
	int h = (int)(la >> 63);
	return t->large_mask[h] && !((la ^ t->large_base[h]) & t->large_mask[h]);
}

/* Grow the range of half h to cover the page of size at la (like QEMU's
 * tlb_add_large_page): INVLPG inside it flushes all, since the page's other 4 KiB
 * pieces sit in other slots. */
static void note_large(struct tlb *t, gva_t la, uint64_t size)
{
	int h = (int)(la >> 63);
	gva_t mask = ~(size - 1);
	if (t->large_mask[h])
		mask &= t->large_mask[h];
	while ((t->large_base[h] ^ la) & mask && t->large_mask[h])
		mask <<= 1;
	t->large_mask[h] = mask;
	t->large_base[h] = la & mask;
}

/* SDM 4.10.4.1 INVLPG: the page's entries for the current PCID and its global
 * entries (ours go for every PCID: allowed). */
void tlb_flush_page(struct cpu *cpu, gva_t la)
{
	struct tlb *t = &cpu->tlb;
	if (in_large(t, la))
		tlb_flush_all(cpu);
	else
		tlb_drop_page(t, la);
}

/* --- lookup and fill ---------------------------------------------------------------- */

static bool usable(const struct cpu *cpu, uint32_t flags, int kind, int ctx)
{
	return mmu_allows(cpu, flags, kind, ctx) && (kind != ACC_WRITE || (flags & TLBF_D)) &&
	       !(tlb_ept_deny(flags) & BIT(kind));
}

static struct tlb_entry *fill_by_walk(struct cpu *cpu, uint32_t i, gva_t la, int ctx,
				      int kind)
{
	struct tlb *t = &cpu->tlb;
	struct mmu_xlate x;
	uint32_t pfec;
	if (!mmu_walk(cpu, la, kind, ctx, &x, &pfec)) {
		/* SDM 4.10.4.1: a page fault invalidates the faulting address's entries. */
		tlb_drop_page(t, la);
		cpu_page_fault(cpu, la, pfec);
	}
	uint32_t flags = x.flags | phys_class(cpu, x.gpa);
	if (x.size > PAGE_SIZE)
		note_large(t, la, x.size);
	if (flags & TLBF_G) {
		struct tlb_gentry *g = &t->gent[(la >> PAGE_SHIFT) & (TLB_SIZE - 1)];
		g->page = (la & PAGE_MASK) | t->gstamp;
		g->gpa = x.gpa;
		g->vtag = t->vtag;
		g->flags = flags;
	}
	return tlb_install(cpu, i, la, x.gpa, flags);
}

static struct tlb_entry *lookup_or_fill(struct cpu *cpu, gva_t la, int ctx, int kind)
{
	struct tlb *t = &cpu->tlb;
	t->stats.slow++;
	/* Defence in depth: a CR0/CR4/EFER/APIC-base, PCID or VMX-mode change nobody
	 * reported (VM entry and exit report theirs with tlb_vmx_switch). */
	if (unlikely(cpu->vmx.non_root != (t->vtag != 0)))
		tlb_vmx_switch(cpu, vmx_tlb_vtag(cpu), true);
	if (unlikely(t->env != env_of(cpu) || t->env_apic != cpu->apic_base))
		tlb_flush_all(cpu);
	else if (unlikely(t->key != cur_key(cpu)))
		tlb_switch_pcid(t, cur_key(cpu));
	uint32_t i = (uint32_t)(tlb_entry_of(t, ctx, la) - t->ent);
	struct tlb_entry *e = &t->ent[i];
	if (e->page == ((la & PAGE_MASK) | t->stamp) && usable(cpu, e->flags, kind, ctx)) {
		if (kind == ACC_WRITE && !e->tag[TLB_WRITE])
			tlb_set_tags(cpu, i); /* the page may have stopped holding code */
		return e;
	}
	const struct tlb_gentry *g = &t->gent[(la >> PAGE_SHIFT) & (TLB_SIZE - 1)];
	if (g->page == ((la & PAGE_MASK) | t->gstamp) && g->vtag == t->vtag &&
	    usable(cpu, g->flags, kind, ctx)) {
		t->stats.gfills++;
		return tlb_install(cpu, i, la, g->gpa, g->flags);
	}
	return fill_by_walk(cpu, i, la, ctx, kind);
}

struct tlb_entry *tlb_fill(struct cpu *cpu, gva_t la, int ctx, int kind)
{
	struct tlb_entry *e = lookup_or_fill(cpu, la, ctx, kind);
	/* SDM 31.4 (APIC-access page): a linear access that reaches it exits, unless it
	 * may be a virtualized TPR access (the physical side completes it, mem.c). */
	if (unlikely(e->flags & TLBF_VAPIC))
		vmx_apic_access_linear(cpu, e->gpa | (la & ~PAGE_MASK), kind);
	return e;
}

/* --- VMX contexts (SDM 30.4) ------------------------------------------------------ */

void tlb_vmx_switch(struct cpu *cpu, uint64_t vtag, bool flush)
{
	struct tlb *t = &cpu->tlb;
	t->vtag = vtag;
	if (flush || t->env_apic != cpu->apic_base) {
		tlb_flush_all(cpu);
		return;
	}
	t->env = env_of(cpu);
	tlb_switch_pcid(t, cur_key(cpu));
}

void tlb_flush_vmx(struct cpu *cpu, uint64_t mask, uint64_t match, bool keep_global)
{
	struct tlb *t = &cpu->tlb;
	for (unsigned k = 0; k < TLB_ASIDS; k++) {
		if (!t->asid[k].stamp || (t->asid[k].key & mask) != match || k == t->cur)
			continue;
		t->asid[k].stamp = 0;
		t->live &= (uint8_t)~(1u << k);
	}
	if ((t->key & mask) == match)
		tlb_fresh_pcid(t, t->key);
	/* Global entries of the contexts: the global table has one stamp for all
	 * contexts, so they all go (invalidating more is always allowed). */
	if (!keep_global && ++t->gstamp > TLB_STAMP_MAX) {
		memset(t->gent, 0, GENT_BYTES);
		t->gstamp = 1;
	}
}
