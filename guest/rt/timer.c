/* timer.c - 8259A PIC and 8254 PIT */
#include "rt.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1

/* ICW1 (edge, cascade, ICW4 needed), ICW2 vector base, ICW3 cascade wiring on IRQ2,
 * ICW4 8086 mode (Intel 8259A data sheet). */
void pic_init(void)
{
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_BASE);
	outb(PIC2_DATA, PIC_BASE + 8);
	outb(PIC1_DATA, 0x04);
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	outb(PIC1_DATA, 0xfb); /* all masked but the cascade line */
	outb(PIC2_DATA, 0xff);
}

void pic_mask(int irq, int masked)
{
	uint16_t port = irq < 8 ? PIC1_DATA : PIC2_DATA;
	uint8_t bit = 1u << (irq & 7);
	uint8_t v = inb(port);
	outb(port, masked ? (v | bit) : (v & ~bit));
}

void pic_eoi(int irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

/* Control word: channel 0, lobyte/hibyte, mode 2, binary. */
void pit_periodic(uint16_t divisor)
{
	outb(0x43, 0x34);
	outb(0x40, divisor & 0xff);
	outb(0x40, divisor >> 8);
}

/* Mode 0 with a zero count is armed but we mask IRQ0 anyway; reprogramming
 * channel 0 in mode 0 stops the periodic output. */
void pit_stop(void)
{
	outb(0x43, 0x30);
	outb(0x40, 0xff);
	outb(0x40, 0xff);
}

/* Channel 2, mode 0 (interrupt on terminal count): OUT2 is visible in port 0x61
 * bit 5 and goes high when the count expires. Gate is port 0x61 bit 0. */
static void pit_wait_ticks(uint16_t ticks)
{
	uint8_t p = inb(0x61);
	outb(0x61, (p & ~0x03) | 0x01);
	outb(0x43, 0xb0);
	outb(0x42, ticks & 0xff);
	outb(0x42, ticks >> 8);
	while (!(inb(0x61) & 0x20))
		pause();
	outb(0x61, p);
}

void udelay(uint32_t us)
{
	while (us) {
		uint32_t chunk = us > 50000 ? 50000 : us;
		pit_wait_ticks((uint16_t)((uint64_t)chunk * PIT_HZ / 1000000 + 1));
		us -= chunk;
	}
}
