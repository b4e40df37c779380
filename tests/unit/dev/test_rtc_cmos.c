/*
 * MC146818A RTC/CMOS through ports 0x70/0x71. Expected values from the MC146818A
 * datasheet (register formats, Table 5 periodic rates, interrupt flags) and QEMU's
 * mc146818rtc power-on values (A = 0x26, B = 0x02, D = 0x80; UIP 244 us before an
 * update). The deterministic epoch is 2000-01-01 00:00:00, a Saturday (day 7).
 */
#include "dev/rtc_cmos.h"
#include "test_util.h"

#define SEC 1000000000ULL

static struct bus bus;
static struct clock clk;
static struct rtc rtc;
static struct irq_router router;

static uint8_t rd(uint8_t idx)
{
	outb(&bus, 0x70, idx);
	return inb(&bus, 0x71);
}

static void wr(uint8_t idx, uint8_t v)
{
	outb(&bus, 0x70, idx);
	outb(&bus, 0x71, v);
}

static bool irq8(void)
{
	return router.level & (1u << 8);
}

static void test_power_on(void)
{
	CHECK_EQ(rd(0x0A), 0x26, "register A at power-on");
	CHECK_EQ(rd(0x0B), 0x02, "register B: 24-hour, BCD");
	CHECK_EQ(rd(0x0D), 0x80, "register D: VRT");
	CHECK_EQ(rd(0x00), 0x00, "seconds 00");
	CHECK_EQ(rd(0x04), 0x00, "hours 00");
	CHECK_EQ(rd(0x06), 0x07, "day of week: Saturday = 7");
	CHECK_EQ(rd(0x07), 0x01, "date 01");
	CHECK_EQ(rd(0x08), 0x01, "month 01");
	CHECK_EQ(rd(0x09), 0x00, "year 00");
	CHECK_EQ(rd(0x32), 0x20, "century 20 (BCD)");
	outb(&bus, 0x70, 0x8F);
	CHECK(rtc.nmi_disabled, "port 0x70 bit 7 disables NMI");
	CHECK_EQ(rtc.index, 0x0F, "index is bits 6:0");
	outb(&bus, 0x70, 0x0F);
	CHECK(!rtc.nmi_disabled, "bit 7 clear enables NMI");
	CHECK_EQ(inb(&bus, 0x70), 0xFF, "index port reads 0xff (QEMU)");
}

static void test_time_formats(void)
{
	clock_set(&clk, 3723 * SEC + SEC / 2); /* 01:02:03.5 */
	CHECK_EQ(rd(0x00), 0x03, "BCD seconds after 1h2m3s");
	CHECK_EQ(rd(0x02), 0x02, "BCD minutes");
	CHECK_EQ(rd(0x04), 0x01, "BCD hours");
	wr(0x0B, 0x06); /* binary, 24h */
	CHECK_EQ(rd(0x00), 3, "binary seconds");
	clock_set(&clk, 13 * 3600 * SEC + 59 * 60 * SEC); /* 13:59:00 */
	CHECK_EQ(rd(0x02), 59, "binary minutes 59");
	wr(0x0B, 0x04); /* binary, 12h */
	CHECK_EQ(rd(0x04), 0x81, "12-hour binary: 1 PM = 0x81");
	wr(0x0B, 0x00); /* BCD, 12h */
	CHECK_EQ(rd(0x04), 0x81, "12-hour BCD: 1 PM = 0x81");
	wr(0x0B, 0x02);
	CHECK_EQ(rd(0x04), 0x13, "24-hour BCD: 13");

	uint64_t boundary = 14 * 3600 * SEC;
	clock_set(&clk, boundary - 100000); /* 100 us before an update */
	CHECK_EQ(rd(0x0A) & 0x80, 0x80, "UIP set in the last 244 us of a second");
	CHECK_EQ(rd(0x00), 0x59, "old second still shown during UIP");
	clock_set(&clk, boundary + 300000);
	CHECK_EQ(rd(0x0A) & 0x80, 0, "UIP clear after the update");
	CHECK_EQ(rd(0x04), 0x14, "hour rolled to 14");
}

static void test_set_time(void)
{
	wr(0x0B, 0x82); /* SET: freeze, BCD 24h */
	wr(0x00, 0x59); wr(0x02, 0x59); wr(0x04, 0x23);
	wr(0x07, 0x28); wr(0x08, 0x02); wr(0x09, 0x00); wr(0x32, 0x20); /* 2000-02-28 */
	uint64_t t = clock_now(&clk);
	clock_set(&clk, t + 5 * SEC);
	CHECK_EQ(rd(0x00), 0x59, "SET holds the time");
	wr(0x0B, 0x02); /* release: counting resumes, next update in 1 s */
	clock_set(&clk, clock_now(&clk) + SEC);
	CHECK_EQ(rd(0x07), 0x29, "2000 is a leap year: Feb 29");
	CHECK_EQ(rd(0x04), 0x00, "midnight");
	CHECK_EQ(rd(0x06), 0x03, "2000-02-29 is a Tuesday (3)");
	CHECK_EQ(rtc_time(&rtc), 951782400, "UNIX time of 2000-02-29 00:00:00");
}

static void test_interrupts(void)
{
	rd(0x0C);
	uint64_t t0 = clock_now(&clk);
	wr(0x0B, 0x42); /* PIE, rate 6 = 1024 Hz: period 32 ticks of 32768 Hz */
	uint64_t fired = clock_step(&clk, t0 + SEC);
	uint64_t tick = (t0 * 32768 / SEC / 32 + 1) * 32;
	CHECK_EQ(fired, (tick * SEC + 32767) / 32768, "periodic interrupt on the 976.5625 us grid");
	CHECK(irq8(), "IRQ8 raised");
	CHECK_EQ(rd(0x0C), 0xC0, "register C: IRQF | PF");
	CHECK(!irq8(), "reading C lowers IRQ8");
	CHECK_EQ(rd(0x0C), 0x00, "and clears the flags");
	uint64_t next = clock_step(&clk, t0 + SEC);
	CHECK(next - fired == 976562 || next - fired == 976563,
	      "next periodic interrupt 976.5625 us later (%llu ns)",
	      (unsigned long long)(next - fired));
	rd(0x0C);

	wr(0x0B, 0x12); /* UIE only */
	uint64_t t = clock_step(&clk, clock_now(&clk) + 2 * SEC);
	CHECK_EQ(t % SEC, rtc.base_ns % SEC, "update interrupt at the second boundary");
	/* PF latches too: the 1024 Hz rate still runs without PIE (datasheet). */
	CHECK_EQ(rd(0x0C) & 0xB0, 0x90, "register C: IRQF | UF, no AF");

	wr(0x0B, 0x02);
	int64_t now = rtc_time(&rtc);
	unsigned s = (unsigned)((now + 3) % 60);
	wr(0x01, (uint8_t)((s / 10) << 4 | s % 10)); /* alarm seconds, BCD */
	wr(0x03, 0xC0); wr(0x05, 0xC0);              /* don't care minutes and hours */
	wr(0x0B, 0x22);                              /* AIE */
	rd(0x0C);
	t = clock_now(&clk);
	while (!irq8() && clock_now(&clk) < t + 5 * SEC)
		clock_step(&clk, t + 5 * SEC);
	CHECK_EQ(rtc_time(&rtc), now + 3, "alarm fires when the seconds match");
	CHECK_EQ(rd(0x0C) & 0xA0, 0xA0, "register C: IRQF | AF");

	wr(0x0B, 0x02); /* no interrupts enabled: flags still latch (datasheet) */
	rd(0x0C);
	clock_set(&clk, clock_now(&clk) + 2 * SEC);
	CHECK_EQ(rd(0x0C), 0x50, "polled: PF and UF set, IRQF clear");
}

static void test_cmos_ram(void)
{
	rtc_cmos_set(&rtc, 0x34, 0x5A);
	CHECK_EQ(rd(0x34), 0x5A, "board-set CMOS byte reads back");
	wr(0x40, 0xA5);
	CHECK_EQ(rd(0x40), 0xA5, "CMOS RAM is read/write");
	wr(0x0C, 0xFF);
	wr(0x0D, 0x00);
	CHECK_EQ(rd(0x0D), 0x80, "register D is read-only");
}

int main(void)
{
	if (bus_init(&bus, 1 << 20) < 0)
		return 1;
	clock_init(&clk, true);
	irq_router_init(&router, NULL, NULL);
	if (rtc_init(&rtc, &clk, irq_router_line(&router, 8), RTC_DETERMINISTIC_EPOCH) < 0 ||
	    rtc_map(&rtc, &bus) < 0)
		return 1;
	test_power_on();
	test_time_formats();
	test_set_time();
	test_interrupts();
	test_cmos_ram();
	bus_destroy(&bus);
	return test_done();
}
