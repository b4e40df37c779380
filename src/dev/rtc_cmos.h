/*
 * Motorola MC146818A real-time clock and CMOS RAM at ports 0x70 (index; bit 7 = NMI
 * disable) and 0x71 (data), interrupting on ISA IRQ8.
 *
 * The time is a count of seconds (base_sec) at a virtual time (base_ns); the time
 * registers are computed from clock_now() when read. Interrupt flags (UF, AF, PF) are
 * collected from elapsed virtual time whenever register C is read or the timer fires,
 * so polling works without a timer; the timer is armed only for enabled interrupts.
 *
 * Reference: MC146818A datasheet (Motorola, rev. 1984), "Registers" and "Interrupts";
 * QEMU hw/rtc/mc146818rtc.c for the UIP window and power-on register values.
 */
#ifndef TURTLES_DEV_RTC_CMOS_H
#define TURTLES_DEV_RTC_CMOS_H

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "dev/irq_router.h"

#define RTC_REG_A 0x0A
#define RTC_REG_B 0x0B
#define RTC_REG_C 0x0C
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32   /* as QEMU and the ACPI FADT CENTURY field say */
#define RTC_DETERMINISTIC_EPOCH 946684800LL /* 2000-01-01 00:00:00 UTC */

struct rtc {
	uint8_t cmos[128];
	uint8_t index;
	bool nmi_disabled;     /* port 0x70 bit 7, for whoever raises external NMIs */
	bool frozen;           /* SET or divider held: time lives in cmos[0..9] */
	int64_t base_sec;      /* RTC time (seconds since 1970, UTC) at base_ns */
	uint64_t base_ns;
	int64_t flags_sec;     /* last second whose update (UF/AF) was collected */
	uint64_t flags_tick;   /* last 32.768 kHz tick whose PF was collected */
	struct clock *clock;
	struct irq_line irq;
	int timer;
};

/* epoch: the time at power-on, seconds since 1970 (the board decides: host wall clock,
 * or RTC_DETERMINISTIC_EPOCH in deterministic mode). */
int rtc_init(struct rtc *r, struct clock *clock, struct irq_line irq, int64_t epoch);
int rtc_map(struct rtc *r, struct bus *bus);

/* Board setup of CMOS RAM bytes (memory sizes and so on). */
void rtc_cmos_set(struct rtc *r, int index, uint8_t value);

/* Current RTC time in seconds since 1970 (what the registers would show). */
int64_t rtc_time(struct rtc *r);

#endif
