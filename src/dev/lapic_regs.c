/*
 * Local APIC register interface: xAPIC MMIO offsets (SDM Table 11-1) and x2APIC MSRs
 * 0x800 + offset/16 (SDM Table 11-6, with the #GP rules of 11.12.1.2).
 */
#include "dev/lapic.h"

#include "dev/lapic_priv.h"

enum {
	REG_ID = 0x020, REG_VER = 0x030, REG_TPR = 0x080, REG_APR = 0x090, REG_PPR = 0x0A0,
	REG_EOI = 0x0B0, REG_RRD = 0x0C0, REG_LDR = 0x0D0, REG_DFR = 0x0E0, REG_SVR = 0x0F0,
	REG_ISR = 0x100, REG_TMR = 0x180, REG_IRR = 0x200, REG_ESR = 0x280,
	REG_ICR_LO = 0x300, REG_ICR_HI = 0x310, REG_LVT = 0x320, REG_LVT_END = 0x370,
	REG_TIMER_ICR = 0x380, REG_TIMER_CCR = 0x390, REG_TIMER_DCR = 0x3E0,
	REG_SELF_IPI = 0x3F0,
};

/* Read a register by xAPIC offset; false if no such register. ID and LDR differ
 * between the modes and are handled by the callers. */
static bool reg_read(struct lapic *l, uint32_t off, uint32_t *v)
{
	switch (off) {
	case REG_VER: *v = LAPIC_VERSION; return true;
	case REG_TPR: *v = l->tpr; return true;
	case REG_PPR: *v = lapic_ppr(l); return true;
	case REG_SVR: *v = l->svr; return true;
	case REG_ESR: *v = l->esr; return true;
	case REG_ICR_LO: *v = l->icr_lo; return true;
	case REG_TIMER_ICR: *v = l->initial_count; return true;
	case REG_TIMER_CCR: *v = lapic_timer_current(l); return true;
	case REG_TIMER_DCR: *v = l->dcr; return true;
	default: break;
	}
	if (off >= REG_ISR && off < REG_ISR + 0x80) {
		*v = l->isr[(off - REG_ISR) >> 4];
	} else if (off >= REG_TMR && off < REG_TMR + 0x80) {
		*v = l->tmr[(off - REG_TMR) >> 4];
	} else if (off >= REG_IRR && off < REG_IRR + 0x80) {
		*v = l->irr[(off - REG_IRR) >> 4];
	} else if (off >= REG_LVT && off <= REG_LVT_END) {
		*v = l->lvt[(off - REG_LVT) >> 4];
	} else {
		return false;
	}
	return true;
}

/* Write a register common to both modes; false if not writable here. */
static bool reg_write(struct lapic *l, uint32_t off, uint32_t v)
{
	switch (off) {
	case REG_TPR: l->tpr = v & 0xFF; lapic_update_intr(l); return true;
	case REG_EOI: lapic_eoi(l); return true;
	case REG_SVR: lapic_write_svr(l, v); return true;
	case REG_ESR: /* latch errors since the last write (SDM 11.5.3) */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return true;
	case REG_TIMER_ICR: lapic_timer_write_initial(l, v); return true;
	case REG_TIMER_DCR: lapic_timer_write_dcr(l, v); return true;
	default: break;
	}
	if (off >= REG_LVT && off <= REG_LVT_END) {
		lapic_write_lvt(l, (off - REG_LVT) >> 4, v);
		return true;
	}
	return false;
}

/* xAPIC page. In x2APIC mode or hardware-disabled the page is not decoded by the
 * APIC (SDM 11.12.1.2): reads 0, writes dropped. */
uint32_t lapic_mmio_read(void *opaque, uint32_t offset)
{
	struct lapic *l = opaque;
	uint32_t off = offset & 0xFF0, v = 0;
	if (!l->hw_enabled || l->x2apic)
		return 0;
	switch (off) {
	case REG_ID: return l->id << 24;
	case REG_LDR: return l->ldr;
	case REG_DFR: return l->dfr;
	case REG_ICR_HI: return l->icr_hi;
	case REG_APR: case REG_EOI: case REG_RRD: return 0;
	default: break;
	}
	if (!reg_read(l, off, &v))
		lapic_error(l, ESR_ILLEGAL_REGISTER);
	return v;
}

void lapic_mmio_write(void *opaque, uint32_t offset, uint32_t value)
{
	struct lapic *l = opaque;
	uint32_t off = offset & 0xFF0;
	if (!l->hw_enabled || l->x2apic)
		return;
	switch (off) {
	case REG_ID: l->id = value >> 24; return;
	case REG_LDR: l->ldr = value & 0xFF000000; return;
	case REG_DFR: l->dfr = value | 0x0FFFFFFF; return;
	case REG_ICR_HI: l->icr_hi = value & 0xFF000000; return;
	case REG_ICR_LO:
		l->icr_lo = value & ~(uint32_t)BIT(12); /* delivery status is read-only: always idle */
		lapic_send_ipi(l);
		return;
	default: break;
	}
	if (reg_write(l, off, value))
		return;
	bool read_only = off == REG_VER || off == REG_PPR || off == REG_TIMER_CCR ||
			 off == REG_APR || off == REG_RRD || (off >= REG_ISR && off < REG_ESR);
	if (!read_only)
		lapic_error(l, ESR_ILLEGAL_REGISTER);
}

bool lapic_msr_read(void *opaque, uint32_t msr, uint64_t *value)
{
	struct lapic *l = opaque;
	uint32_t off = (msr - 0x800) << 4, v;
	if (!l->x2apic || msr < 0x800 || msr > 0x8FF)
		return false;
	switch (off) {
	case REG_ID: *value = l->id; return true;
	case REG_LDR: *value = l->ldr; return true;
	case REG_ICR_LO: *value = (uint64_t)l->icr_hi << 32 | l->icr_lo; return true;
	default: break;
	}
	if (!reg_read(l, off, &v))
		return false; /* EOI, SELF IPI, DFR, APR, RRD, ICR high, reserved: #GP */
	*value = v;
	return true;
}

bool lapic_msr_write(void *opaque, uint32_t msr, uint64_t value)
{
	struct lapic *l = opaque;
	uint32_t off = (msr - 0x800) << 4;
	if (!l->x2apic || msr < 0x800 || msr > 0x8FF)
		return false;
	if (off == REG_ICR_LO) { /* one 64-bit write sends: destination in 63:32 */
		l->icr_hi = value >> 32;
		l->icr_lo = (uint32_t)value & ~(uint32_t)BIT(12);
		lapic_send_ipi(l);
		return true;
	}
	if (value >> 32)
		return false; /* bits 63:32 are reserved in every other x2APIC register */
	if ((off == REG_EOI || off == REG_ESR) && value)
		return false; /* SDM 11.12.1.2: non-zero EOI/ESR writes #GP */
	if (off == REG_SELF_IPI) {
		if (value & ~0xFFull)
			return false;
		lapic_set_fixed(l, (int)value, false); /* self IPI: fixed, edge (11.12.11) */
		return true;
	}
	return reg_write(l, off, (uint32_t)value);
}
