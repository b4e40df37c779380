/*
 * The POST diagnostic port 0x80. As QEMU's pc machine (hw/i386/pc.c ioport80_read/
 * write): writes are ignored and reads return all ones. Guests use it as an I/O delay.
 */
#ifndef TURTLES_DEV_PORT80_H
#define TURTLES_DEV_PORT80_H

#include "cpu/bus.h"

struct port80 {
	uint8_t last; /* last POST code written, for debugging only; never read back */
};

int port80_map(struct port80 *p, struct bus *bus);

#endif
