/*
 * The guest's own paging, walked by L0 (as KVM's software walker) to fetch an
 * instruction it must emulate (hv_fetch_insn, decoded by the silicon's decoder,
 * cpu/insn.h) and to move string I/O data: 32-bit paging, PAE and
 * 4-level paging (SDM 4.3, 4.4, 4.5). Guest-physical memory is read through L0's
 * guest bus (the memslot alias of the guest's RAM). Only presence is checked: L0
 * reads what the guest itself just accessed or is about to.
 */
#include <string.h>

#include "hv/hv_internal.h"

#define PTE_P BIT(0)
#define PTE_PS BIT(7)
#define ADDR_52 0x000FFFFFFFFFF000ULL

static bool read_entry(struct bus *guest, gpa_t pa, int size, uint64_t *e)
{
	uint8_t *p = bus_ram_ptr(guest, pa);
	if (!p || pa + (gpa_t)size > guest->ram_size)
		return false;
	*e = 0;
	memcpy(e, p, (size_t)size);
	return true;
}

/* 32-bit paging (SDM 4.3): 10/10/12, 4-MByte pages with CR4.PSE (bits 20:13 of the
 * PDE give physical bits 39:32, PSE-36). */
static bool walk32(struct bus *guest, uint64_t cr3, uint32_t la, bool pse, gpa_t *gpa)
{
	uint64_t pde, pte;
	if (!read_entry(guest, (cr3 & 0xFFFFF000u) + ((la >> 22) << 2), 4, &pde) ||
	    !(pde & PTE_P))
		return false;
	if (pse && (pde & PTE_PS)) {
		*gpa = (pde & 0xFFC00000u) | ((pde & 0x1FE000u) << 19) | (la & 0x3FFFFF);
		return true;
	}
	if (!read_entry(guest, (pde & 0xFFFFF000u) + (((la >> 12) & 0x3FF) << 2), 4, &pte) ||
	    !(pte & PTE_P))
		return false;
	*gpa = (pte & 0xFFFFF000u) | (la & 0xFFF);
	return true;
}

/* PAE (SDM 4.4) and 4-level (SDM 4.5) paging: 9 bits per level below the top. */
static bool walk64(struct bus *guest, gpa_t table, uint64_t la, int levels, gpa_t *gpa)
{
	for (int lvl = levels; lvl >= 1; lvl--) {
		unsigned shift = 12 + 9 * (unsigned)(lvl - 1);
		unsigned index = (unsigned)(la >> shift) & (lvl == 3 && levels == 3 ? 3 : 511);
		uint64_t e;
		if (!read_entry(guest, (table & ADDR_52) + index * 8, 8, &e) || !(e & PTE_P))
			return false;
		bool leaf = lvl == 1 || (lvl <= 3 && lvl != levels && (e & PTE_PS)) ||
			    (lvl == 2 && (e & PTE_PS));
		if (leaf) {
			uint64_t span = 1ULL << shift;
			*gpa = (e & ADDR_52 & ~(span - 1)) | (la & (span - 1));
			return true;
		}
		table = e;
	}
	return false;
}

bool hv_gwalk(struct bus *guest, const struct hv_guest_paging *pg, uint64_t la, bool write,
	      gpa_t *gpa)
{
	(void)write;
	if (!(pg->cr0 & CR0_PG)) {
		*gpa = la & 0xFFFFFFFFULL; /* paging off: linear = physical (SDM 4.1.1) */
		return true;
	}
	if (pg->efer & EFER_LMA)
		return walk64(guest, pg->cr3, la, 4, gpa);
	if (pg->cr4 & CR4_PAE)
		return walk64(guest, pg->cr3 & 0xFFFFFFE0u, (uint32_t)la, 3, gpa);
	return walk32(guest, pg->cr3, (uint32_t)la, pg->cr4 & CR4_PSE, gpa);
}

/* Copy between L0 and guest-linear memory, page by page; device pages go through the
 * guest bus byte by byte. Returns the bytes done (less on an unmapped page: the
 * caller injects #PF with CR2 = la + done). */
static int copy_linear(struct hv_vcpu *v, uint64_t la, uint8_t *buf, int n, bool write)
{
	struct hv_guest_paging pg;
	hv_guest_paging(v, &pg);
	int done = 0;
	while (done < n) {
		uint64_t a = la + (uint64_t)done;
		gpa_t pa;
		if (!hv_gwalk(v->vm->guest, &pg, a, write, &pa))
			break;
		int chunk = (int)(HV_PAGE - (a & (HV_PAGE - 1)));
		if (chunk > n - done)
			chunk = n - done;
		uint8_t *p = bus_ram_ptr(v->vm->guest, pa);
		for (int i = 0; i < chunk; i++) {
			if (p && write) {
				p[i] = buf[done + i];
				bus_note_write(v->vm->guest, (pa + (gpa_t)i) >> 12);
			} else if (p) {
				buf[done + i] = p[i];
			} else if (write) {
				bus_write(v->vm->guest, pa + (gpa_t)i, 1, buf[done + i]);
			} else {
				buf[done + i] = (uint8_t)bus_read(v->vm->guest, pa + (gpa_t)i, 1);
			}
		}
		done += chunk;
	}
	return done;
}

int hv_read_guest_linear(struct hv_vcpu *v, uint64_t la, void *dst, int n)
{
	return copy_linear(v, la, dst, n, false);
}

int hv_write_guest_linear(struct hv_vcpu *v, uint64_t la, const void *src, int n)
{
	return copy_linear(v, la, (uint8_t *)(uintptr_t)src, n, true);
}

int hv_fetch_insn(struct hv_vcpu *v, enum decode_mode dm, struct insn *in, uint64_t *la)
{
	uint64_t a = hv_vmread(v, VMCS_GUEST_CS_BASE) + hv_vmread(v, VMCS_GUEST_RIP);
	*la = dm == DMODE_64 ? a : (uint32_t)a;
	uint8_t bytes[15]; /* the longest instruction (SDM Vol.2 2.3.11) */
	int n = hv_read_guest_linear(v, *la, bytes, (int)sizeof(bytes));
	return n > 0 ? decode(bytes, n, dm, in) : DECODE_NEED_MORE;
}
