/* ACPI PM1 event/control blocks and PM timer at 0x600: see acpi.h. */
#include "dev/acpi.h"

#include "dev/dev_util.h"

#define PM1_TMR_STS BIT(0)
#define PM1_STS_MASK 0x8731 /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK */
#define PM1_EN_MASK 0x0721
#define PM1_CNT_SCI_EN BIT(0)
#define PM1_CNT_SLP_EN BIT(13)

static uint64_t pm_ticks(const struct acpi_pm *pm)
{
	return muldiv64(clock_now(pm->clock), ACPI_PM_TIMER_HZ, NS_PER_SEC);
}

uint32_t acpi_pm_timer(const struct acpi_pm *pm)
{
	return pm_ticks(pm) & 0xFFFFFF;
}

/* TMR_STS is set whenever bit 23 of the timer toggles (ACPI 4.8.3.3.1); derive it. */
static uint16_t pm1_sts(const struct acpi_pm *pm)
{
	uint16_t sts = pm->pm1_sts;
	if ((pm_ticks(pm) >> 23) != pm->tmr_sts_ack)
		sts |= PM1_TMR_STS;
	return sts;
}

/* The 12-byte block as byte lanes: STS 0-1, EN 2-3, CNT 4-5, 6-7 unused, TMR 8-11. */
static uint8_t pm_read_byte(struct acpi_pm *pm, int off)
{
	uint32_t v;
	switch (off >> 1) {
	case 0: v = pm1_sts(pm); break;
	case 1: v = pm->pm1_en; break;
	case 2: v = pm->pm1_cnt | PM1_CNT_SCI_EN; break;
	case 3: return 0xFF;
	default: return (uint8_t)(acpi_pm_timer(pm) >> (8 * (off - 8)));
	}
	return (uint8_t)(v >> (8 * (off & 1)));
}

static void pm_write_byte(struct acpi_pm *pm, int off, uint8_t b)
{
	int shift = 8 * (off & 1);
	uint16_t lane = (uint16_t)(0xFF << shift), v = (uint16_t)(b << shift);
	switch (off >> 1) {
	case 0: /* write 1 to clear */
		if (v & PM1_TMR_STS)
			pm->tmr_sts_ack = pm_ticks(pm) >> 23;
		pm->pm1_sts &= ~(v & PM1_STS_MASK);
		break;
	case 1:
		pm->pm1_en = (uint16_t)((pm->pm1_en & ~lane) | (v & PM1_EN_MASK));
		break;
	case 2:
		pm->pm1_cnt = (uint16_t)((pm->pm1_cnt & ~lane) | (v & ~PM1_CNT_SLP_EN));
		/* SLP_EN with SLP_TYP = 0: soft-off, as QEMU's acpi_pm1_cnt_write. */
		if ((v & PM1_CNT_SLP_EN) && ((pm->pm1_cnt >> 10) & 7) == 0 && pm->power_off)
			pm->power_off(pm->opaque);
		break;
	default:
		break; /* the timer is read-only */
	}
}

static uint32_t pm_io_read(void *opaque, uint16_t port, int size)
{
	uint32_t v = 0;
	int off = port - ACPI_PM_BASE;
	for (int i = 0; i < size && off + i < 12; i++)
		v |= (uint32_t)pm_read_byte(opaque, off + i) << (8 * i);
	return v;
}

static void pm_io_write(void *opaque, uint16_t port, int size, uint32_t value)
{
	int off = port - ACPI_PM_BASE;
	for (int i = 0; i < size && off + i < 12; i++)
		pm_write_byte(opaque, off + i, (uint8_t)(value >> (8 * i)));
}

static const struct io_ops pm_io_ops = {
	.read = pm_io_read,
	.write = pm_io_write,
};

void acpi_pm_init(struct acpi_pm *pm, struct clock *clock, void (*power_off)(void *opaque),
		  void *opaque)
{
	*pm = (struct acpi_pm){ .clock = clock, .power_off = power_off, .opaque = opaque };
	pm->tmr_sts_ack = pm_ticks(pm) >> 23;
}

int acpi_pm_map(struct acpi_pm *pm, struct bus *bus)
{
	return bus_map_io(bus, ACPI_PM_BASE, 12, &pm_io_ops, pm);
}
