/* Internal interface between lapic.c, lapic_regs.c and lapic_timer.c. */
#ifndef TURTLES_DEV_LAPIC_PRIV_H
#define TURTLES_DEV_LAPIC_PRIV_H

#include "dev/lapic.h"

#define SVR_ENABLE BIT(8)

static inline bool lapic_sw_enabled(const struct lapic *l)
{
	return l->svr & SVR_ENABLE;
}

static inline bool vec_test(const uint32_t *r, int v)
{
	return r[v >> 5] & (1u << (v & 31));
}

static inline void vec_set(uint32_t *r, int v)
{
	r[v >> 5] |= 1u << (v & 31);
}

static inline void vec_clear(uint32_t *r, int v)
{
	r[v >> 5] &= ~(1u << (v & 31));
}

/* Highest set vector in a 256-bit register, or -1. */
static inline int vec_highest(const uint32_t *r)
{
	for (int i = 7; i >= 0; i--)
		if (r[i])
			return i * 32 + 31 - __builtin_clz(r[i]);
	return -1;
}

/* The APIC's outputs: the silicon CPU, or the sink the layer above installed. */
static inline void lapic_out_signal(struct lapic *l, uint32_t event, uint8_t vector)
{
	if (l->sink)
		l->sink->signal(l->sink_opaque, event, vector);
	else
		cpu_signal(l->cpu, event, vector);
}

static inline uint64_t lapic_tsc_offset(const struct lapic *l)
{
	return l->sink ? l->sink->tsc_offset(l->sink_opaque) : l->cpu->tsc_offset;
}

/* lapic.c */
void lapic_update_intr(struct lapic *l);
void lapic_local_intr(struct lapic *l, int lvt);
void lapic_error(struct lapic *l, uint32_t esr_bits);
void lapic_eoi(struct lapic *l);
void lapic_send_ipi(struct lapic *l);
void lapic_set_fixed(struct lapic *l, int vector, bool level);
uint32_t lapic_x2apic_ldr(uint32_t id);
void lapic_write_svr(struct lapic *l, uint32_t v);
void lapic_write_lvt(struct lapic *l, int lvt, uint32_t v);

/* lapic_timer.c */
int lapic_timer_mode(const struct lapic *l);
uint32_t lapic_timer_current(struct lapic *l);
void lapic_timer_write_initial(struct lapic *l, uint32_t v);
void lapic_timer_write_dcr(struct lapic *l, uint32_t v);
void lapic_timer_lvt_changed(struct lapic *l, int old_mode);
void lapic_timer_reset(struct lapic *l);
void lapic_timer_fire(void *opaque, uint64_t now);

#endif
