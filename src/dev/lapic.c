/*
 * Local APIC core: priorities, acceptance, acknowledge, EOI, IPIs, LINT pins, enable
 * state. Register decoding is in lapic_regs.c, the timer in lapic_timer.c.
 */
#include "dev/lapic.h"

#include "dev/lapic_priv.h"

/* LVT bits software may write, per entry (SDM Figure 11-8). */
static const uint32_t lvt_write_mask[LVT_NR] = {
	[LVT_TIMER] = 0x000700FF,            /* vector, mask, timer mode 18:17 */
	[LVT_THERMAL] = 0x000107FF,          /* vector, delivery mode, mask */
	[LVT_PERF] = 0x000107FF,
	[LVT_LINT0] = 0x0001A7FF,            /* + polarity 13, trigger 15 */
	[LVT_LINT1] = 0x0001A7FF,
	[LVT_ERROR] = 0x000100FF,
};

/* PPR (SDM 11.8.3.1): TPR if its class is at least the highest in-service class,
 * otherwise that class. */
uint32_t lapic_ppr(const struct lapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
	return (l->tpr & 0xF0) >= isr_class ? l->tpr & 0xFF : isr_class;
}

/* The vector the APIC would deliver now, or -1. */
static int lapic_deliverable(const struct lapic *l)
{
	if (!l->hw_enabled || !lapic_sw_enabled(l))
		return -1;
	int irrv = vec_highest(l->irr);
	if (irrv < 0 || ((uint32_t)irrv & 0xF0) <= (lapic_ppr(l) & 0xF0))
		return -1;
	return irrv;
}

/* Does the 8259's INTR on LINT0 reach the CPU? See lapic.h. */
static bool lapic_extint_pending(const struct lapic *l)
{
	if (!l->lint[0] || !l->extint_ack)
		return false;
	if (!l->hw_enabled || !lapic_sw_enabled(l))
		return l->bsp;
	uint32_t lvt = l->lvt[LVT_LINT0];
	return !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT;
}

void lapic_update_intr(struct lapic *l)
{
	bool line = lapic_deliverable(l) >= 0 || lapic_extint_pending(l);
	if (l->sink)
		l->sink->set_intr(l->sink_opaque, line);
	else
		cpu_set_intr(l->cpu, line);
}

void lapic_set_sink(struct lapic *l, const struct lapic_sink *sink, void *opaque)
{
	l->sink = sink;
	l->sink_opaque = opaque;
	lapic_update_intr(l);
}

static int lapic_intr_ack(void *opaque)
{
	struct lapic *l = opaque;
	int v = lapic_deliverable(l);
	if (v >= 0) {
		vec_clear(l->irr, v);
		vec_set(l->isr, v);
	} else if (lapic_extint_pending(l)) {
		v = l->extint_ack(l->extint_opaque); /* ExtINT: the 8259 supplies the vector */
	}
	lapic_update_intr(l);
	return v;
}

void lapic_error(struct lapic *l, uint32_t esr_bits)
{
	bool fresh = esr_bits & ~l->esr_pending;
	l->esr_pending |= esr_bits;
	if (fresh)
		lapic_local_intr(l, LVT_ERROR);
}

/* A fixed interrupt arrives: vectors 0-15 are illegal (SDM 11.5.3). */
void lapic_set_fixed(struct lapic *l, int vector, bool level)
{
	if (vector < 16) {
		lapic_error(l, ESR_RECV_ILLEGAL_VECTOR);
		return;
	}
	vec_set(l->irr, vector);
	if (level)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	lapic_update_intr(l);
}

/* An LVT entry fires (timer expiry, error, LINT edge). */
void lapic_local_intr(struct lapic *l, int lvt)
{
	uint32_t e = l->lvt[lvt];
	if ((e & LVT_MASKED) || !l->hw_enabled)
		return;
	int mode = (lvt == LVT_TIMER || lvt == LVT_ERROR) ? APIC_DM_FIXED : (e >> 8) & 7;
	switch (mode) {
	case APIC_DM_FIXED: lapic_set_fixed(l, e & 0xFF, false); break;
	case APIC_DM_NMI: lapic_out_signal(l, CPU_EV_NMI, 0); break;
	case APIC_DM_SMI: lapic_out_signal(l, CPU_EV_SMI, 0); break;
	case APIC_DM_INIT: lapic_out_signal(l, CPU_EV_INIT, 0); break;
	default: lapic_update_intr(l); break; /* ExtINT is level-sensed in update_intr */
	}
}

void lapic_set_lint(struct lapic *l, int pin, bool level)
{
	bool rising = level && !l->lint[pin];
	l->lint[pin] = level;
	uint32_t e = l->lvt[LVT_LINT0 + pin];
	if (((e >> 8) & 7) == APIC_DM_EXTINT || !l->hw_enabled)
		lapic_update_intr(l);
	else if (rising)
		lapic_local_intr(l, LVT_LINT0 + pin);
}

void lapic_set_extint(struct lapic *l, uint8_t (*ack)(void *opaque), void *opaque)
{
	l->extint_ack = ack;
	l->extint_opaque = opaque;
	lapic_update_intr(l);
}

/* EOI (SDM 11.8.5): retire the highest in-service vector; level-triggered ones are
 * broadcast to the IOAPIC. */
void lapic_eoi(struct lapic *l)
{
	int v = vec_highest(l->isr);
	if (v < 0)
		return;
	vec_clear(l->isr, v);
	if (vec_test(l->tmr, v))
		apic_bus_eoi(l->bus, (uint8_t)v);
	lapic_update_intr(l);
}

uint32_t lapic_x2apic_ldr(uint32_t id)
{
	/* SDM 11.12.10.2: cluster ID = id[19:4] in bits 31:16, bit id[3:0] set below. */
	return ((id >> 4) << 16) | (1u << (id & 0xF));
}

/* Logical destination match for an xAPIC (SDM 11.6.2.2): flat model ANDs the 8-bit
 * MDA with LDR[31:24]; cluster model compares the cluster in bits 7:4 and ANDs 3:0. */
static bool xapic_logical_match(const struct lapic *l, uint8_t mda)
{
	uint8_t ldr = l->ldr >> 24;
	if (mda == 0xFF)
		return true;
	if ((l->dfr >> 28) == 0xF)
		return mda & ldr;
	return (mda >> 4) == (ldr >> 4) && (mda & ldr & 0xF);
}

static bool x2apic_logical_match(const struct lapic *l, uint32_t mda)
{
	uint32_t ldr = lapic_x2apic_ldr(l->id);
	if (mda == 0xFFFFFFFF)
		return true;
	return (mda >> 16) == (ldr >> 16) && (mda & ldr & 0xFFFF);
}

bool lapic_match_dest(const struct lapic *l, const struct apic_msg *m)
{
	switch (m->shorthand) {
	case APIC_SH_SELF: return l == m->src;
	case APIC_SH_ALL: return true;
	case APIC_SH_OTHERS: return l != m->src;
	default: break;
	}
	if (!m->logical) {
		uint32_t bcast = m->x2apic ? 0xFFFFFFFF : 0xFF;
		return m->dest == bcast || m->dest == (l->x2apic ? l->id : (l->id & 0xFF));
	}
	if (l->x2apic)
		return x2apic_logical_match(l, m->dest);
	return xapic_logical_match(l, (uint8_t)m->dest);
}

/* Accept a message from the APIC bus (SDM 11.6.1 delivery modes). */
void lapic_accept(struct lapic *l, const struct apic_msg *m)
{
	if (!l->hw_enabled)
		return;
	switch (m->delivery) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		lapic_set_fixed(l, m->vector, m->level);
		break;
	case APIC_DM_SMI: lapic_out_signal(l, CPU_EV_SMI, 0); break;
	case APIC_DM_NMI: lapic_out_signal(l, CPU_EV_NMI, 0); break;
	case APIC_DM_INIT:
		if (m->level && !m->assert)
			break; /* INIT level de-assert only synchronises arbitration IDs */
		lapic_reset(l);
		lapic_out_signal(l, CPU_EV_INIT, 0);
		break;
	case APIC_DM_STARTUP: lapic_out_signal(l, CPU_EV_SIPI, m->vector); break;
	default: break; /* ExtINT messages (IOAPIC virtual wire B) are not modelled */
	}
}

/* ICR write (SDM 11.6.1): send the IPI it describes. Delivery is immediate, so the
 * delivery-status bit always reads idle. */
void lapic_send_ipi(struct lapic *l)
{
	uint32_t lo = l->icr_lo;
	struct apic_msg m = {
		.vector = lo & 0xFF,
		.delivery = (lo >> 8) & 7,
		.logical = lo & BIT(11),
		.assert = lo & BIT(14),
		.level = lo & BIT(15),
		.shorthand = (lo >> 18) & 3,
		.x2apic = l->x2apic,
		.dest = l->x2apic ? l->icr_hi : l->icr_hi >> 24,
		.src = l,
	};
	if ((m.delivery == APIC_DM_FIXED || m.delivery == APIC_DM_LOWEST) && m.vector < 16) {
		lapic_error(l, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	if (m.delivery == 3 || (m.delivery == APIC_DM_STARTUP && m.shorthand == APIC_SH_SELF))
		return; /* reserved combinations */
	apic_bus_deliver(l->bus, &m);
}

/* SVR write: clearing the enable bit masks every LVT entry (SDM 11.4.7.2). */
void lapic_write_svr(struct lapic *l, uint32_t v)
{
	l->svr = v & 0x3FF; /* vector, APIC enable, focus check; no EOI suppression */
	if (!lapic_sw_enabled(l))
		for (int i = 0; i < LVT_NR; i++)
			l->lvt[i] |= LVT_MASKED;
	lapic_update_intr(l);
}

void lapic_write_lvt(struct lapic *l, int lvt, uint32_t v)
{
	int old_mode = lapic_timer_mode(l);
	v &= lvt_write_mask[lvt];
	if (!lapic_sw_enabled(l))
		v |= LVT_MASKED; /* masks cannot be cleared while software-disabled */
	l->lvt[lvt] = (l->lvt[lvt] & ~lvt_write_mask[lvt]) | v;
	if (lvt == LVT_TIMER)
		lapic_timer_lvt_changed(l, old_mode);
	lapic_update_intr(l);
}

void lapic_reset(struct lapic *l)
{
	l->tpr = 0;
	l->svr = 0xFF;
	l->ldr = l->x2apic ? lapic_x2apic_ldr(l->id) : 0;
	l->dfr = 0xFFFFFFFF;
	l->esr = l->esr_pending = 0;
	l->icr_lo = l->icr_hi = 0;
	for (int i = 0; i < 8; i++)
		l->irr[i] = l->isr[i] = l->tmr[i] = 0;
	for (int i = 0; i < LVT_NR; i++)
		l->lvt[i] = LVT_MASKED;
	if (l->bsp)
		l->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8; /* as QEMU's apic_reset_common */
	lapic_timer_reset(l);
	lapic_update_intr(l);
}

/* IA32_APIC_BASE changed; the core already refused invalid transitions with #GP
 * (SDM 11.12.5, Figure 11-27). */
static void lapic_base_changed(void *opaque, uint64_t base)
{
	struct lapic *l = opaque;
	bool en = base & APIC_BASE_EN, extd = en && (base & APIC_BASE_EXTD);

	l->bsp = (base & APIC_BASE_BSP) || l->cpu->bsp;
	if (!en && l->hw_enabled) {
		l->hw_enabled = l->x2apic = false;
		lapic_reset(l); /* hardware disable loses all state (SDM 11.4.3) */
		l->id = (uint32_t)l->cpu->id; /* the ID too: re-enabled, it is the reset one */
	} else if (extd && !l->x2apic) {
		/* xAPIC -> x2APIC: the x2APIC ID is the initial APIC ID whatever was written
		 * to the xAPIC ID register, and the LDR becomes derived (SDM 11.12.5.1). */
		l->x2apic = true;
		l->id = (uint32_t)l->cpu->id;
		l->ldr = lapic_x2apic_ldr(l->id);
	}
	l->hw_enabled = en;
	lapic_update_intr(l);
}

/* CR8 <-> TPR (SDM 11.8.6.1). get_tpr/set_tpr carry the whole 8-bit TPR: the core
 * reads CR8 as get_tpr() >> 4 and writes it as set_tpr(cr8 << 4). */
static uint8_t lapic_get_tpr(void *opaque)
{
	return ((struct lapic *)opaque)->tpr & 0xFF;
}

static void lapic_set_tpr(void *opaque, uint8_t tpr)
{
	struct lapic *l = opaque;
	l->tpr = tpr;
	lapic_update_intr(l);
}

uint32_t lapic_mmio_read(void *opaque, uint32_t offset);
void lapic_mmio_write(void *opaque, uint32_t offset, uint32_t value);
bool lapic_msr_read(void *opaque, uint32_t msr, uint64_t *value);
bool lapic_msr_write(void *opaque, uint32_t msr, uint64_t value);

static uint64_t lapic_tsc_deadline_rd(void *opaque)
{
	return lapic_tsc_deadline_read(opaque);
}

static void lapic_tsc_deadline_wr(void *opaque, uint64_t tsc)
{
	lapic_tsc_deadline_write(opaque, tsc);
}

const struct cpu_apic_ops lapic_ops = {
	.mmio_read = lapic_mmio_read,
	.mmio_write = lapic_mmio_write,
	.msr_read = lapic_msr_read,
	.msr_write = lapic_msr_write,
	.intr_ack = lapic_intr_ack,
	.get_tpr = lapic_get_tpr,
	.set_tpr = lapic_set_tpr,
	.base_changed = lapic_base_changed,
	.tsc_deadline_read = lapic_tsc_deadline_rd,
	.tsc_deadline_write = lapic_tsc_deadline_wr,
};

int lapic_init(struct lapic *l, struct cpu *cpu, struct apic_bus *bus, struct clock *clock)
{
	*l = (struct lapic){ .cpu = cpu, .bus = bus, .clock = clock, .id = (uint32_t)cpu->id };
	l->timer = clock_timer_new(clock, lapic_timer_fire, l);
	if (l->timer < 0 || apic_bus_add_lapic(bus, l) < 0)
		return -1;
	cpu->apic_ops = &lapic_ops;
	cpu->apic = l;
	l->bsp = (cpu->apic_base & APIC_BASE_BSP) || cpu->bsp;
	l->hw_enabled = cpu->apic_base & APIC_BASE_EN;
	l->x2apic = l->hw_enabled && (cpu->apic_base & APIC_BASE_EXTD);
	lapic_reset(l);
	return 0;
}
