/*
 * 8254 PIT through ports 0x40-0x43 and 0x61, with channel 0 wired through the router to
 * an 8259 so IRQ0 edges are counted as INTA cycles. Expected values from the 82C54
 * datasheet ("Mode Definitions", "Read-Back Command", "Counter Latch Command"); one
 * PIT tick is 1e9 / 1193182 ns (~838.1 ns).
 */
#include "dev/pic8259.h"
#include "dev/pit8254.h"
#include "test_util.h"

static struct bus bus;
static struct clock clk;
static struct pic pic;
static struct pit pit;
static struct irq_router router;
static bool intr;

static void on_intr(void *opaque, bool level)
{
	(void)opaque;
	intr = level;
}

/* The first ns at which `ticks` PIT ticks have elapsed since t0. */
static uint64_t tick_ns(uint64_t t0, uint64_t ticks)
{
	return t0 + (ticks * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

static uint16_t read_count0(void)
{
	outb(&bus, 0x43, 0x00); /* counter latch, channel 0 */
	uint8_t lo = inb(&bus, 0x40);
	return (uint16_t)(lo | inb(&bus, 0x40) << 8);
}

/* Run until the next IRQ0 edge is acknowledged; returns its time. */
static uint64_t next_irq0(uint64_t limit)
{
	while (!intr) {
		if (clock_step(&clk, limit) == CLOCK_NEVER)
			return CLOCK_NEVER;
	}
	uint8_t v = pic_intack(&pic);
	outb(&bus, 0x20, 0x20);
	return v == 0x08 ? clock_now(&clk) : CLOCK_NEVER - 1;
}

static void program(int ch, uint8_t mode_bits, uint16_t count)
{
	outb(&bus, 0x43, (uint8_t)(ch << 6 | 0x30 | mode_bits));
	outb(&bus, 0x40 + ch, count & 0xFF);
	outb(&bus, 0x40 + ch, count >> 8);
}

static void test_mode2(void)
{
	uint64_t t0 = clock_now(&clk);
	program(0, 0x04, 1193); /* mode 2, ~1 kHz */
	CHECK(!intr, "programming mode 2 raises no immediate IRQ0");
	CHECK_EQ(read_count0(), 1193, "mode 2 count right after load");
	clock_advance_to(&clk, t0 + 500000);
	/* d = floor(500000 * 1193182 / 1e9) = 596 ticks -> 1193 - 596 */
	CHECK_EQ(read_count0(), 597, "mode 2 count after 500 us");
	for (int k = 1; k <= 3; k++) {
		uint64_t t = next_irq0(t0 + 10000000);
		CHECK_EQ(t, tick_ns(t0, 1193ULL * k), "mode 2 IRQ0 edge at k * 1193 ticks");
	}
	clock_set(&clk, tick_ns(t0, 3 * 1193 + 1192));
	CHECK_EQ(read_count0(), 1, "mode 2 count reaches 1, never 0");
	/* Periodic edges stay on the absolute grid: the 100th at exactly 100 * 1193. */
	for (int k = 4; k <= 100; k++)
		next_irq0(t0 + 200000000);
	CHECK_EQ(clock_now(&clk), tick_ns(t0, 119300), "100th edge at 119300 ticks: no drift");
}

static void test_mode3_and_mode0(void)
{
	uint64_t t0 = clock_now(&clk);
	program(0, 0x06, 100); /* mode 3 square wave */
	uint64_t t1 = next_irq0(t0 + 1000000), t2 = next_irq0(t0 + 1000000);
	CHECK_EQ(t1, tick_ns(t0, 100), "mode 3 first rising edge after N ticks");
	CHECK_EQ(t2, tick_ns(t0, 200), "mode 3 period N ticks");

	t0 = clock_now(&clk);
	program(0, 0x00, 1000); /* mode 0: interrupt on terminal count */
	outb(&bus, 0x43, 0xE2);  /* read-back: status of channel 0 only */
	CHECK_EQ(inb(&bus, 0x40), 0x30, "mode 0 status: OUT low, RW=3, mode 0");
	CHECK_EQ(next_irq0(t0 + 5000000), tick_ns(t0, 1000), "mode 0 IRQ0 at terminal count");
	CHECK_EQ(next_irq0(t0 + 5000000), CLOCK_NEVER, "mode 0 interrupts only once");
	outb(&bus, 0x43, 0xE2);
	CHECK_EQ(inb(&bus, 0x40) & 0x80, 0x80, "mode 0 OUT high after terminal count");
	/* The counter keeps counting down through zero: 1000 - d mod 65536. */
	uint64_t d = (clock_now(&clk) - t0) * PIT_HZ / 1000000000ULL;
	CHECK_EQ(read_count0(), (uint16_t)(1000 - d), "mode 0 count wraps after terminal count");
}

static void test_latch_readback_bcd(void)
{
	uint64_t t0 = clock_now(&clk);
	program(0, 0x04, 0x4000);
	outb(&bus, 0x43, 0x00);                    /* latch now */
	clock_set(&clk, t0 + 100000);
	uint16_t v = (uint16_t)(inb(&bus, 0x40) | inb(&bus, 0x40) << 8);
	CHECK_EQ(v, 0x4000, "latched count is frozen until read");
	outb(&bus, 0x43, 0xC2);                    /* read-back: count and status, ch 0 */
	CHECK_EQ(inb(&bus, 0x40), 0xB4, "read-back status: OUT 1, RW 3, mode 2, binary");
	v = (uint16_t)(inb(&bus, 0x40) | inb(&bus, 0x40) << 8);
	CHECK_EQ(v, 0x4000 - 119, "read-back count (100 us = 119 ticks)");

	t0 = clock_now(&clk);
	outb(&bus, 0x43, 0x31);                    /* ch 0, lo/hi, mode 0, BCD */
	outb(&bus, 0x40, 0x34);
	outb(&bus, 0x40, 0x12);                    /* 1234 decimal */
	clock_set(&clk, t0 + 28500);               /* 34 ticks */
	CHECK_EQ(read_count0(), 0x1200, "BCD count 1234 - 34 reads 0x1200");

	outb(&bus, 0x43, 0x10 | 0x04);             /* ch 0, LSB only, mode 2 */
	outb(&bus, 0x40, 0x10);
	CHECK_EQ(inb(&bus, 0x40), 0x10, "LSB-only access: count 16");
	outb(&bus, 0x43, 0x20 | 0x04);             /* ch 0, MSB only, mode 2 */
	outb(&bus, 0x40, 0x02);
	CHECK_EQ(inb(&bus, 0x40), 0x02, "MSB-only access: count 0x200 reads MSB 2");
}

static void test_channel2_gate(void)
{
	uint64_t t0 = clock_now(&clk);
	outb(&bus, 0x61, 0x00);                    /* gate 2 low */
	program(2, 0x00, 1000);                    /* mode 0 */
	clock_set(&clk, t0 + 2000000);
	CHECK_EQ(inb(&bus, 0x61) & 0x20, 0, "ch2 OUT low: gate low holds mode 0 count");
	t0 = clock_now(&clk);
	outb(&bus, 0x61, 0x01);                    /* gate high: counting starts */
	clock_set(&clk, tick_ns(t0, 999));
	CHECK_EQ(inb(&bus, 0x61) & 0x21, 0x01, "ch2 OUT still low at 999 ticks, gate reads 1");
	clock_set(&clk, tick_ns(t0, 1000));
	CHECK_EQ(inb(&bus, 0x61) & 0x20, 0x20, "ch2 OUT high at 1000 ticks (port 0x61 bit 5)");

	program(2, 0x06, 100);                     /* mode 3, gate high */
	t0 = clock_now(&clk);
	clock_set(&clk, tick_ns(t0, 10));
	CHECK_EQ(inb(&bus, 0x61) & 0x20, 0x20, "mode 3 OUT high in first half");
	clock_set(&clk, tick_ns(t0, 60));
	CHECK_EQ(inb(&bus, 0x61) & 0x20, 0, "mode 3 OUT low in second half");
	clock_set(&clk, tick_ns(t0, 100));
	CHECK_EQ(inb(&bus, 0x61) & 0x20, 0x20, "mode 3 OUT high again after N");

	uint64_t t = (clock_now(&clk) / 15085 + 1) * 15085;
	uint8_t before = inb(&bus, 0x61) & 0x10;
	clock_set(&clk, t);
	CHECK((inb(&bus, 0x61) & 0x10) != before, "port 0x61 refresh bit toggles every 15.085 us");
}

int main(void)
{
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	clock_init(&clk, true);
	pic_init(&pic, on_intr, NULL);
	irq_router_init(&router, &pic, NULL);
	if (pic_map(&pic, &bus) < 0 || pit_init(&pit, &clk, irq_router_line(&router, 0)) < 0 ||
	    pit_map(&pit, &bus) < 0)
		return 1;
	/* PIC: base 0x08 as a BIOS leaves it, everything unmasked. */
	outb(&bus, 0x20, 0x11); outb(&bus, 0x21, 0x08); outb(&bus, 0x21, 0x04);
	outb(&bus, 0x21, 0x01); outb(&bus, 0x21, 0x00);
	test_mode2();
	test_mode3_and_mode0();
	test_latch_readback_bcd();
	test_channel2_gate();
	bus_destroy(&bus);
	return test_done();
}
