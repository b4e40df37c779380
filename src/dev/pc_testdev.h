/*
 * QEMU's pc-testdev (hw/misc/pc-testdev.c), used by kvm-unit-tests:
 *   0xe0-0xe3   a 32-bit register read back at any width and byte offset
 *   0xe4        "flush page": a 4-byte write names a guest-physical page
 *   0xe8-0xeb   the same register as 0xe0, accessed a byte at a time
 *   0x2000-0x2017  writing byte d to 0x2000+n drives ISA IRQ / GSI line n to !!d
 *   0xff000000  64 KiB of MMIO-trapped memory that reads back what was written
 * QEMU's flush page re-protects the host mapping to force the next access to fault; the
 * silicon's equivalent is to drop decoded code for that page (bus_note_write).
 */
#ifndef TURTLES_DEV_PC_TESTDEV_H
#define TURTLES_DEV_PC_TESTDEV_H

#include "cpu/bus.h"
#include "dev/irq_router.h"

#define TESTDEV_IOMEM_BASE 0xFF000000ULL
#define TESTDEV_IOMEM_SIZE 0x10000
#define TESTDEV_IRQ_PORT 0x2000
#define TESTDEV_NR_IRQ 24

struct pc_testdev {
	uint32_t data;         /* the 0xe0 / 0xe8 register */
	struct bus *bus;
	struct irq_line irq[TESTDEV_NR_IRQ];
	uint8_t iomem[TESTDEV_IOMEM_SIZE];
};

void pc_testdev_init(struct pc_testdev *t, struct irq_router *router);
int pc_testdev_map(struct pc_testdev *t, struct bus *bus);

#endif
