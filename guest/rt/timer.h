/* timer.h - 8259 PIC, 8254 PIT and local APIC helpers */
#ifndef RT_TIMER_H
#define RT_TIMER_H

#include <stdint.h>

/* 8259A: ICW1-4 remap master to base, slave to base+8; all lines masked. */
#define PIC_BASE 0x20
void pic_init(void);
void pic_mask(int irq, int masked);
void pic_eoi(int irq);

/* 8254 PIT, input clock 1.193182 MHz */
#define PIT_HZ 1193182u
void pit_periodic(uint16_t divisor); /* channel 0, mode 2 (rate generator) */
void pit_stop(void);
/* Busy-wait using channel 2 (gate via port 0x61), independent of interrupts. */
void udelay(uint32_t us);

/* Local APIC, xAPIC MMIO (SDM Vol.3A 12.4.1, Table 12-1) */
#define APIC_ID 0x20
#define APIC_VER 0x30
#define APIC_TPR 0x80
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_ISR 0x100
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT 0x380
#define APIC_TMCCT 0x390
#define APIC_TDCR 0x3e0

#define APIC_LVT_MASKED (1u << 16)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_DEADLINE (2u << 17)

uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);
void apic_enable(void); /* software-enable via SVR, spurious vector 0xff */
void apic_eoi(void);
uint32_t apic_id(void);
/* Send an IPI: ICR high = destination, low = command; waits for delivery status. */
void apic_icr(uint32_t dest, uint32_t lo);

#endif
