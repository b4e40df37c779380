/* cmos.c - MC146818 CMOS/RTC: index port 0x70 (bit 7 = NMI disable), data 0x71 */
#include "rt.h"

uint8_t cmos_read(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}
