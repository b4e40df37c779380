/* MC146818A RTC / CMOS: see rtc_cmos.h. */
#include "dev/rtc_cmos.h"

#include "dev/dev_util.h"

#define REG_A_UIP 0x80
#define REG_B_SET 0x80
#define REG_B_PIE 0x40
#define REG_B_AIE 0x20
#define REG_B_UIE 0x10
#define REG_B_DM 0x04     /* 1 = binary */
#define REG_B_24H 0x02
#define REG_C_IRQF 0x80
#define REG_C_PF 0x40
#define REG_C_AF 0x20
#define REG_C_UF 0x10
#define RTC_HZ 32768ULL
/* UIP is set for 244 us before each update (datasheet "Update Cycle"; QEMU's
 * UIP_HOLD_LENGTH = 8 periods of 32.768 kHz). */
#define UIP_HOLD_NS (8 * NS_PER_SEC / RTC_HZ)

/* Days since 1970-01-01 from a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM) ? (uint8_t)v : to_bcd(v);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	return (r->cmos[RTC_REG_B] & REG_B_DM) ? v : from_bcd(v);
}

/* Hours register: 0-23, or 1-12 with bit 7 = PM in 12-hour mode. */
static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(enc(r, h12) | (h >= 12 ? 0x80 : 0));
}

static unsigned dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[RTC_REG_B] & REG_B_24H)
		return dec(r, v);
	return dec(r, v & 0x7F) % 12 + ((v & 0x80) ? 12 : 0);
}

static bool rtc_running(const struct rtc *r)
{
	/* QEMU's rule: counting unless SET, or the divider bits are 11x / other resets. */
	return !(r->cmos[RTC_REG_B] & REG_B_SET) && (r->cmos[RTC_REG_A] & 0x70) <= 0x20;
}

static uint64_t since_base(const struct rtc *r)
{
	return clock_now(r->clock) - r->base_ns;
}

static int64_t rtc_load_time(const struct rtc *r);

int64_t rtc_time(struct rtc *r)
{
	if (r->frozen)
		return rtc_load_time(r);
	return r->base_sec + (int64_t)(since_base(r) / NS_PER_SEC);
}

/* Write the time t into the time registers in the current format. */
static void rtc_store_time(struct rtc *r, int64_t t)
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400, year;
	unsigned mon, mday;

	civil_from_days(days, &year, &mon, &mday);
	r->cmos[0x00] = enc(r, (unsigned)(secs % 60));
	r->cmos[0x02] = enc(r, (unsigned)(secs / 60 % 60));
	r->cmos[0x04] = enc_hour(r, (unsigned)(secs / 3600));
	r->cmos[0x06] = enc(r, (unsigned)((days % 7 + 11) % 7 + 1)); /* 1970-01-01: Thu */
	r->cmos[0x07] = enc(r, mday);
	r->cmos[0x08] = enc(r, mon);
	r->cmos[0x09] = enc(r, (unsigned)(year % 100));
	r->cmos[RTC_CENTURY] = enc(r, (unsigned)(year / 100));
}

static int64_t rtc_load_time(const struct rtc *r)
{
	int64_t year = dec(r, r->cmos[RTC_CENTURY]) * 100 + dec(r, r->cmos[0x09]);
	unsigned mon = dec(r, r->cmos[0x08]), mday = dec(r, r->cmos[0x07]);
	int64_t t = days_from_civil(year, mon ? mon : 1, mday) * 86400;
	return t + dec_hour(r, r->cmos[0x04]) * 3600 + dec(r, r->cmos[0x02]) * 60 +
	       dec(r, r->cmos[0x00]);
}

/* Re-base the running clock on the registers; the next update is one second away
 * (or 500 ms after a divider reset ends, datasheet "Divider Control"). */
static void rtc_rebase(struct rtc *r, uint64_t phase_ns)
{
	r->base_sec = rtc_load_time(r);
	r->base_ns = clock_now(r->clock) - phase_ns;
	r->flags_sec = r->base_sec;
}

static bool alarm_field_matches(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xC0) == 0xC0 || alarm == now; /* 11xxxxxx = "don't care" */
}

/* Does the alarm match second-of-day sod? Compared as encoded bytes (datasheet). */
static bool alarm_matches(const struct rtc *r, unsigned sod)
{
	return alarm_field_matches(r->cmos[0x01], enc(r, sod % 60)) &&
	       alarm_field_matches(r->cmos[0x03], enc(r, sod / 60 % 60)) &&
	       alarm_field_matches(r->cmos[0x05], enc_hour(r, sod / 3600));
}

static uint64_t rtc_period_ticks(const struct rtc *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & 0x0F;
	if (rs == 0)
		return 0;
	if (rs <= 2)
		rs += 7; /* rates 1 and 2 give 256 Hz and 128 Hz (datasheet Table 5) */
	return 1ULL << (rs - 1);
}

static uint64_t rtc_now_tick(const struct rtc *r)
{
	return muldiv64(clock_now(r->clock), RTC_HZ, NS_PER_SEC);
}

/* Set UF, AF and PF for every update and periodic tick since the last collection. The
 * flags are set whether or not their interrupts are enabled (datasheet "Register C"). */
static void rtc_collect_flags(struct rtc *r)
{
	uint64_t tick = rtc_now_tick(r), period = rtc_period_ticks(r);
	if (period && tick / period != r->flags_tick / period)
		r->cmos[RTC_REG_C] |= REG_C_PF;
	r->flags_tick = tick;

	if (r->frozen)
		return;
	int64_t now = rtc_time(r), s = r->flags_sec;
	if (now - s > 86400)
		s = now - 86400; /* alarms repeat at most daily */
	for (s++; s <= now; s++) {
		r->cmos[RTC_REG_C] |= REG_C_UF;
		if (alarm_matches(r, (unsigned)(((s % 86400) + 86400) % 86400)))
			r->cmos[RTC_REG_C] |= REG_C_AF;
	}
	r->flags_sec = now;
}

static void rtc_update_irq(struct rtc *r)
{
	uint8_t *c = &r->cmos[RTC_REG_C];
	if (*c & r->cmos[RTC_REG_B] & (REG_C_PF | REG_C_AF | REG_C_UF))
		*c |= REG_C_IRQF;
	irq_set(&r->irq, *c & REG_C_IRQF);
}

/* Arm the timer for the next event whose interrupt is enabled. */
static void rtc_arm(struct rtc *r)
{
	uint8_t b = r->cmos[RTC_REG_B];
	uint64_t deadline = CLOCK_NEVER, period = rtc_period_ticks(r);

	if ((b & REG_B_PIE) && period) {
		uint64_t next = (rtc_now_tick(r) / period + 1) * period;
		deadline = muldiv64_ceil(next, NS_PER_SEC, RTC_HZ);
	}
	if ((b & (REG_B_UIE | REG_B_AIE)) && !r->frozen) {
		uint64_t next = r->base_ns + (since_base(r) / NS_PER_SEC + 1) * NS_PER_SEC;
		deadline = next < deadline ? next : deadline;
	}
	if (deadline == CLOCK_NEVER)
		clock_timer_cancel(r->clock, r->timer);
	else
		clock_timer_arm(r->clock, r->timer, deadline);
}

static void rtc_timer_fire(void *opaque, uint64_t now)
{
	struct rtc *r = opaque;
	(void)now;
	rtc_collect_flags(r);
	rtc_update_irq(r);
	rtc_arm(r);
}

/* Stop or start the clock after a write to register A or B. */
static void rtc_run_state(struct rtc *r, uint8_t old_a)
{
	bool run = rtc_running(r);
	if (!run && !r->frozen) {
		rtc_collect_flags(r);
		rtc_store_time(r, rtc_time(r));
		r->frozen = true;
	} else if (run && r->frozen) {
		r->frozen = false;
		bool divider_reset = (old_a & 0x60) == 0x60;
		rtc_rebase(r, divider_reset ? NS_PER_SEC / 2 : 0);
	}
}

static void rtc_write_reg(struct rtc *r, uint8_t idx, uint8_t v)
{
	uint8_t old_a = r->cmos[RTC_REG_A];

	switch (idx) {
	case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09:
	case RTC_CENTURY:
		if (r->frozen) {
			r->cmos[idx] = v;
			return;
		}
		/* A running clock takes the new field at once (as QEMU). */
		rtc_collect_flags(r);
		rtc_store_time(r, rtc_time(r));
		r->cmos[idx] = v;
		rtc_rebase(r, 0);
		break;
	case RTC_REG_A:
		rtc_collect_flags(r);
		r->cmos[idx] = (v & ~REG_A_UIP);
		r->flags_tick = rtc_now_tick(r);
		rtc_run_state(r, old_a);
		break;
	case RTC_REG_B: {
		int64_t t = rtc_time(r);
		if (v & REG_B_SET)
			v &= ~REG_B_UIE; /* datasheet: SET clears UIE */
		r->cmos[idx] = v;
		/* A running clock's registers follow the new format; frozen ones keep the
		 * bytes software wrote (the chip does not convert them). */
		if (!r->frozen)
			rtc_store_time(r, t);
		rtc_run_state(r, old_a);
		break;
	}
	case RTC_REG_C: case RTC_REG_D:
		return; /* read-only */
	default:
		r->cmos[idx] = v;
		return;
	}
	rtc_update_irq(r);
	rtc_arm(r);
}

static uint8_t rtc_read_reg(struct rtc *r, uint8_t idx)
{
	switch (idx) {
	case 0x00: case 0x02: case 0x04: case 0x06: case 0x07: case 0x08: case 0x09:
	case RTC_CENTURY:
		if (!r->frozen)
			rtc_store_time(r, rtc_time(r));
		return r->cmos[idx];
	case RTC_REG_A: {
		uint8_t a = r->cmos[RTC_REG_A];
		if (!r->frozen && since_base(r) % NS_PER_SEC >= NS_PER_SEC - UIP_HOLD_NS)
			a |= REG_A_UIP;
		return a;
	}
	case RTC_REG_C: {
		rtc_collect_flags(r);
		rtc_update_irq(r);
		uint8_t c = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0; /* reading C clears every flag and the IRQ */
		irq_set(&r->irq, 0);
		rtc_arm(r);
		return c;
	}
	default:
		return r->cmos[idx];
	}
}

static uint32_t rtc_io_read(void *opaque, uint16_t port, int size)
{
	struct rtc *r = opaque;
	(void)size;
	if (port == 0x70)
		return 0xFF; /* the index register is write-only (QEMU reads 0xff) */
	return rtc_read_reg(r, r->index);
}

static void rtc_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	struct rtc *r = opaque;
	(void)size;
	if (port == 0x70) {
		r->index = value & 0x7F;
		r->nmi_disabled = value & 0x80;
	} else {
		rtc_write_reg(r, r->index, (uint8_t)value);
	}
}

static const struct io_ops rtc_io_ops = {
	.read = rtc_io_read,
	.write = rtc_io_write,
};

void rtc_cmos_set(struct rtc *r, int index, uint8_t value)
{
	if (index >= 0 && index < 128)
		r->cmos[index] = value;
}

int rtc_init(struct rtc *r, struct clock *clock, struct irq_line irq, int64_t epoch)
{
	*r = (struct rtc){ .clock = clock, .irq = irq };
	/* Power-on values as QEMU's mc146818rtc: 32.768 kHz divider with 1024 Hz periodic
	 * rate, 24-hour BCD, valid RAM and time (VRT). */
	r->cmos[RTC_REG_A] = 0x26;
	r->cmos[RTC_REG_B] = REG_B_24H;
	r->cmos[RTC_REG_D] = 0x80;
	r->base_sec = epoch;
	r->base_ns = clock_now(clock);
	r->flags_sec = epoch;
	r->flags_tick = rtc_now_tick(r);
	rtc_store_time(r, epoch);
	r->timer = clock_timer_new(clock, rtc_timer_fire, r);
	return r->timer < 0 ? -1 : 0;
}

int rtc_map(struct rtc *r, struct bus *bus)
{
	return bus_map_io(bus, 0x70, 2, &rtc_io_ops, r);
}
