/*
 * Intel 8254 programmable interval timer at ports 0x40-0x43, with port 0x61 (PC/AT
 * "system control port B": bit 0 = channel 2 gate, bit 1 = speaker data, bit 4 =
 * refresh toggle, bit 5 = channel 2 OUT).
 *
 * The counters are not ticked: each channel remembers when it was loaded and derives its
 * count and OUT from virtual time (clock_now) at 1.193182 MHz. Channel 0 drives ISA
 * IRQ0 through one clock timer armed at the absolute time of OUT's next rising edge.
 *
 * Reference: Intel 82C54 datasheet (order 231244), "Mode Definitions" and "Read-Back
 * Command". Differences from it are noted where they occur.
 */
#ifndef TURTLES_DEV_PIT8254_H
#define TURTLES_DEV_PIT8254_H

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "dev/irq_router.h"

#define PIT_HZ 1193182ULL /* 14.31818 MHz / 12, as QEMU's PIT_FREQ */

struct pit_channel {
	uint32_t n;         /* loaded count: 1..65536 (10000 max in BCD) */
	uint16_t cr;        /* count register being written */
	uint8_t mode, rw, bcd;
	bool loaded;        /* a count was written since the control word */
	bool triggered;     /* modes 1 and 5: a gate rising edge started the count */
	bool running;       /* counting (false while the gate holds it) */
	bool gate;
	bool null_count;    /* status bit 6 */
	bool write_hi;      /* RW=3: next write is the MSB */
	bool read_hi;       /* RW=3: next read is the MSB */
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
	uint64_t load_ns;   /* time the count (re)started */
	uint64_t base_d;    /* ticks already elapsed at load_ns (gate pauses) */
	uint64_t next_edge; /* channel 0: tick of the armed OUT rising edge */
};

struct pit {
	struct pit_channel ch[3];
	struct clock *clock;
	struct irq_line irq0;
	int timer;
	bool speaker_data;  /* port 0x61 bit 1 */
	uint8_t port61_hi;  /* bits 2-3 as written (NMI enables; no NMI sources modelled) */
};

int pit_init(struct pit *p, struct clock *clock, struct irq_line irq0);
int pit_map(struct pit *p, struct bus *bus);

/* Channel 2's OUT and gate, for the speaker / port 0x61. */
bool pit_out(struct pit *p, int ch);
void pit_set_gate(struct pit *p, int ch, bool gate);

#endif
