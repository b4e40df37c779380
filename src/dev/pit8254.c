/* Intel 8254 PIT: see pit8254.h. */
#include "dev/pit8254.h"

#include "dev/dev_util.h"

static uint64_t ch_ticks(const struct pit *p, const struct pit_channel *c)
{
	if (!c->running)
		return c->base_d;
	return c->base_d + muldiv64(clock_now(p->clock) - c->load_ns, PIT_HZ, NS_PER_SEC);
}

static bool ch_active(const struct pit_channel *c)
{
	return c->loaded && (c->triggered || (c->mode != 1 && c->mode != 5));
}

/* OUT as a function of the ticks d since the count was loaded (datasheet modes 0-5).
 * Mode 3 with an odd count is high for (N+1)/2 and low for (N-1)/2 ticks. */
static bool ch_out_at(const struct pit_channel *c, uint64_t d)
{
	if (!ch_active(c))
		return c->mode != 0; /* mode 0 OUT goes low on the control word */
	uint64_t n = c->n;
	switch (c->mode) {
	case 0: case 1: return d >= n;
	case 2: return n < 2 || d % n != n - 1;   /* low for the tick CE = 1 */
	case 3: return d % n < (n + 1) / 2;
	default: return d != n;                   /* 4, 5: one-tick strobe at CE = 0 */
	}
}

bool pit_out(struct pit *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return true; /* gate low forces OUT high in modes 2 and 3 */
	return ch_out_at(c, ch_ticks(p, c));
}

/* The counting element: wraps through 0 in modes 0, 1, 4, 5; reloads in 2, 3. */
static uint16_t ch_count(struct pit *p, struct pit_channel *c)
{
	if (!ch_active(c))
		return c->n & 0xFFFF;
	uint64_t d = ch_ticks(p, c), n = c->n, v;
	uint64_t wrap = c->bcd ? 10000 : 65536;

	if (c->mode == 2)
		v = n - d % n;
	else if (c->mode == 3)
		v = n - (2 * d) % n; /* counts down by two, as QEMU's i8254 */
	else
		v = (n + wrap - d % wrap) % wrap;
	if (c->bcd)
		return (uint16_t)(to_bcd(v / 100 % 100) << 8 | to_bcd(v % 100));
	return v & 0xFFFF;
}

/* First tick after d at which OUT rises, or UINT64_MAX. */
static uint64_t ch_next_rise(const struct pit_channel *c, uint64_t d)
{
	if (!ch_active(c))
		return UINT64_MAX;
	uint64_t n = c->n;
	switch (c->mode) {
	case 0: case 1: return d < n ? n : UINT64_MAX;
	case 2: case 3: return (d / n + 1) * n;
	default: return d <= n ? n + 1 : UINT64_MAX;
	}
}

/* Arm channel 0's timer for the next rising edge of OUT (absolute deadline). */
static void pit_arm(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t d = ch_ticks(p, c);
	c->next_edge = ch_next_rise(c, d);
	if (c->next_edge == UINT64_MAX || !c->running) {
		clock_timer_cancel(p->clock, p->timer);
		return;
	}
	uint64_t t = c->load_ns + muldiv64_ceil(c->next_edge - c->base_d, NS_PER_SEC, PIT_HZ);
	clock_timer_arm(p->clock, p->timer, t);
}

/* Channel 0 reached an OUT rising edge: signal IRQ0 and arm the next one. Missed
 * periods (host lag) are coalesced into one edge, as on a late-serviced PIC. */
static void pit_timer_fire(void *opaque, uint64_t now)
{
	struct pit *p = opaque;
	(void)now;
	if (p->ch[0].mode != 0)
		irq_set(&p->irq0, 0); /* the low phase before the edge, collapsed */
	irq_set(&p->irq0, 1);
	pit_arm(p);
}

/* OUT may have changed because of a register write: drive IRQ0 and re-arm. */
static void ch0_changed(struct pit *p)
{
	irq_set(&p->irq0, pit_out(p, 0));
	pit_arm(p);
}

static void ch_start(struct pit *p, struct pit_channel *c)
{
	c->load_ns = clock_now(p->clock);
	c->base_d = 0;
	c->running = c->gate || c->mode == 1 || c->mode == 5;
	c->null_count = false;
}

static void ch_load(struct pit *p, struct pit_channel *c, uint16_t v)
{
	uint32_t n = c->bcd ? from_bcd(v >> 8) * 100 + from_bcd(v & 0xFF) : v;
	c->n = n ? n : c->bcd ? 10000 : 65536;
	c->loaded = true;
	c->null_count = true;
	/* Modes 1 and 5 wait for a gate trigger; the others start at once. Modes 2 and 3
	 * reload immediately on a rewrite (as QEMU), not at the end of the period. */
	if (c->mode == 1 || c->mode == 5)
		c->triggered = false;
	else
		ch_start(p, c);
}

void pit_set_gate(struct pit *p, int ch, bool gate)
{
	struct pit_channel *c = &p->ch[ch];
	if (gate == c->gate)
		return;
	if (gate) {
		if (c->mode == 0 || c->mode == 4) {
			c->load_ns = clock_now(p->clock); /* resume where it paused */
			c->running = true;
		} else if (c->loaded) {
			ch_start(p, c);   /* modes 1, 5 trigger; 2, 3 reload */
			c->triggered = true;
		}
	} else if (c->mode != 1 && c->mode != 5) {
		c->base_d = ch_ticks(p, c); /* gate low suspends counting */
		c->running = false;
	}
	c->gate = gate;
	if (ch == 0)
		ch0_changed(p);
}

static void ch_latch_count(struct pit *p, struct pit_channel *c)
{
	if (!c->count_latched) {
		c->latch = ch_count(p, c);
		c->count_latched = true;
	}
}

static void ch_latch_status(struct pit *p, struct pit_channel *c, int idx)
{
	if (!c->status_latched) {
		c->status = (uint8_t)(pit_out(p, idx) << 7 | c->null_count << 6 | c->rw << 4 |
				      c->mode << 1 | c->bcd);
		c->status_latched = true;
	}
}

static void pit_readback(struct pit *p, uint8_t v)
{
	for (int i = 0; i < 3; i++) {
		if (!(v & (2 << i)))
			continue;
		if (!(v & 0x20))
			ch_latch_count(p, &p->ch[i]);
		if (!(v & 0x10))
			ch_latch_status(p, &p->ch[i], i);
	}
}

static void pit_control(struct pit *p, uint8_t v)
{
	int sc = v >> 6;
	if (sc == 3) {
		pit_readback(p, v);
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	int rw = (v >> 4) & 3;
	if (rw == 0) {
		ch_latch_count(p, c); /* counter latch command */
		return;
	}
	c->rw = rw;
	c->mode = (v >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 110b and 111b are modes 2 and 3 */
	c->bcd = v & 1;
	c->loaded = c->triggered = false;
	c->count_latched = c->status_latched = false;
	c->write_hi = c->read_hi = false;
	c->null_count = true;
	if (sc == 0)
		ch0_changed(p);
}

static void ch_write(struct pit *p, int idx, uint8_t v)
{
	struct pit_channel *c = &p->ch[idx];
	switch (c->rw) {
	case 1: ch_load(p, c, v); break;
	case 2: ch_load(p, c, (uint16_t)(v << 8)); break;
	default:
		if (!c->write_hi) {
			c->cr = v;
			c->write_hi = true;
			if (c->mode == 0)
				c->loaded = false; /* the first byte stops a mode 0 count */
			if (idx == 0)
				ch0_changed(p);
			return;
		}
		c->write_hi = false;
		ch_load(p, c, (uint16_t)(c->cr | v << 8));
		break;
	}
	if (idx == 0)
		ch0_changed(p);
}

static uint8_t ch_read(struct pit *p, struct pit_channel *c)
{
	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	uint16_t v = c->count_latched ? c->latch : ch_count(p, c);
	bool hi = c->rw == 2 || (c->rw == 3 && c->read_hi);
	if (c->rw == 3)
		c->read_hi = !c->read_hi;
	if (c->rw != 3 || !c->read_hi)
		c->count_latched = false; /* the latch is released once fully read */
	return hi ? v >> 8 : v & 0xFF;
}

/* Port 0x61: refresh toggles every 15.085 us (the DRAM refresh period of a PC/AT). */
static uint8_t port61_read(struct pit *p)
{
	uint64_t refresh = (clock_now(p->clock) / 15085) & 1;
	return (uint8_t)(p->ch[2].gate | p->speaker_data << 1 | p->port61_hi |
			 refresh << 4 | pit_out(p, 2) << 5);
}

static uint32_t pit_io_read(void *opaque, uint16_t port, int size)
{
	struct pit *p = opaque;
	(void)size;
	if (port == 0x61)
		return port61_read(p);
	if (port == 0x43)
		return 0xFF; /* the control word register is write-only */
	return ch_read(p, &p->ch[port - 0x40]);
}

static void pit_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct pit *p = opaque;
	(void)size;
	if (port == 0x61) {
		p->speaker_data = value & 2;
		p->port61_hi = value & 0x0C;
		pit_set_gate(p, 2, value & 1);
	} else if (port == 0x43) {
		pit_control(p, (uint8_t)value);
	} else {
		ch_write(p, port - 0x40, (uint8_t)value);
	}
}

static const struct io_ops pit_io_ops = {
	.read = pit_io_read,
	.write = pit_io_write,
};

int pit_init(struct pit *p, struct clock *clock, struct irq_line irq0)
{
	*p = (struct pit){ .clock = clock, .irq0 = irq0 };
	for (int i = 0; i < 3; i++) {
		p->ch[i].n = 65536;
		p->ch[i].rw = 3;
		/* Power-on state is undefined (datasheet); pick mode 3 with OUT high so that a
		 * BIOS programming mode 2 or 3 does not see a spurious first edge. */
		p->ch[i].mode = 3;
		p->ch[i].gate = i != 2; /* channels 0 and 1 have their gate tied high */
	}
	p->timer = clock_timer_new(clock, pit_timer_fire, p);
	if (p->timer < 0)
		return -1;
	irq_set(&p->irq0, 1);
	return 0;
}

int pit_map(struct pit *p, struct bus *bus)
{
	if (bus_map_io(bus, 0x40, 4, &pit_io_ops, p) < 0 ||
	    bus_map_io(bus, 0x61, 1, &pit_io_ops, p) < 0)
		return -1;
	return 0;
}
