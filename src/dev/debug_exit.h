/*
 * QEMU's isa-debug-exit device (hw/misc/debugexit.c), as configured by
 * "-device isa-debug-exit,iobase=0xf4,iosize=0x04": a write of value v of any size
 * (1, 2 or 4 bytes) to any of its ports ends the machine with exit status (v << 1) | 1.
 * The device never exits the host process: it asks the board through request_exit.
 */
#ifndef TURTLES_DEV_DEBUG_EXIT_H
#define TURTLES_DEV_DEBUG_EXIT_H

#include "cpu/bus.h"

#define DEBUG_EXIT_PORT 0xF4
#define DEBUG_EXIT_SIZE 4

struct debug_exit {
	void (*request_exit)(void *opaque, int status);
	void *opaque;
};

void debug_exit_init(struct debug_exit *d, void (*request_exit)(void *opaque, int status),
		     void *opaque);
int debug_exit_map(struct debug_exit *d, struct bus *bus);

/* The status a write of value makes (QEMU: exit((val << 1) | 1), truncated to int). */
static inline int debug_exit_status(uint32_t value)
{
	return (int)(uint32_t)(((uint64_t)value << 1) | 1);
}

#endif
