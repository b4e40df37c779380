/* The PC board: see pc.h. */
#include "dev/pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dev/bios.h"

#define MiB (1024ULL * 1024)
#define GiB (1024 * MiB)

/* The 8259's INTR output drives the BSP's LINT0 (MP spec 1.4, virtual wire mode). */
static void pc_pic_intr(void *opaque, bool level)
{
	struct pc *pc = opaque;
	lapic_set_lint(&pc->lapics[pc->bsp], 0, level);
}

static uint8_t pc_pic_ack(void *opaque)
{
	return pic_intack(&((struct pc *)opaque)->pic);
}

static void pc_power_off(void *opaque)
{
	struct pc *pc = opaque;
	if (pc->cfg.request_exit)
		pc->cfg.request_exit(pc->cfg.exit_opaque, 0);
}

/* RAM below and above 4 GiB as QEMU's pc_piix splits it (default max-ram-below-4g
 * 0xE0000000, gigabyte-aligned to 3 GiB when RAM reaches it). */
static void pc_ram_split(uint64_t ram, uint64_t *below, uint64_t *above)
{
	*below = ram >= 0xE0000000ULL ? 3 * GiB : ram;
	*above = ram - *below;
}

/* CMOS memory-size bytes as QEMU's pc_cmos_init_late / x86 CMOS setup. */
static void pc_cmos_memory(struct pc *pc)
{
	uint64_t below, above, v;
	pc_ram_split(pc->cfg.ram_size, &below, &above);

	v = below / 1024 < 640 ? below / 1024 : 640;           /* base memory, KiB */
	rtc_cmos_set(&pc->rtc, 0x15, (uint8_t)v);
	rtc_cmos_set(&pc->rtc, 0x16, (uint8_t)(v >> 8));
	v = below > MiB ? (below - MiB) / 1024 : 0;             /* 1 MiB .. 64 MiB, KiB */
	v = v > 65535 ? 65535 : v;
	rtc_cmos_set(&pc->rtc, 0x17, (uint8_t)v);
	rtc_cmos_set(&pc->rtc, 0x18, (uint8_t)(v >> 8));
	rtc_cmos_set(&pc->rtc, 0x30, (uint8_t)v);
	rtc_cmos_set(&pc->rtc, 0x31, (uint8_t)(v >> 8));
	v = below > 16 * MiB ? (below - 16 * MiB) / (64 * 1024) : 0; /* 16M..4G, 64K */
	v = v > 65535 ? 65535 : v;
	rtc_cmos_set(&pc->rtc, 0x34, (uint8_t)v);
	rtc_cmos_set(&pc->rtc, 0x35, (uint8_t)(v >> 8));
	v = above / (64 * 1024);                                 /* above 4G, 64K */
	rtc_cmos_set(&pc->rtc, 0x5B, (uint8_t)v);
	rtc_cmos_set(&pc->rtc, 0x5C, (uint8_t)(v >> 8));
	rtc_cmos_set(&pc->rtc, 0x5D, (uint8_t)(v >> 16));
	rtc_cmos_set(&pc->rtc, 0x14, 0x06); /* equipment: FPU, PS/2 mouse (as QEMU) */
}

static int pc_fw_cfg_blob(struct fw_cfg *f, const struct pc_blob *b, uint16_t addr_key,
			  uint16_t size_key, uint16_t data_key)
{
	if (!b->data)
		return 0;
	if (fw_cfg_add_i32(f, addr_key, b->addr) < 0 || fw_cfg_add_i32(f, size_key, b->size) < 0 ||
	    fw_cfg_add_bytes(f, data_key, b->data, b->size) < 0)
		return -1;
	return 0;
}

static int pc_fw_cfg(struct pc *pc)
{
	struct fw_cfg *f = &pc->fw_cfg;
	const struct pc_config *c = &pc->cfg;
	int err = 0;

	fw_cfg_init(f);
	err |= fw_cfg_add_bytes(f, FW_CFG_UUID, pc->uuid, sizeof(pc->uuid));
	err |= fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, c->ram_size);
	err |= fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, 1);
	err |= fw_cfg_add_i16(f, FW_CFG_NB_CPUS, (uint16_t)c->ncpus);
	err |= fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, (uint16_t)c->ncpus); /* APIC IDs 0..n-1 */
	err |= fw_cfg_add_i32(f, FW_CFG_IRQ0_OVERRIDE, 1);
	err |= pc_fw_cfg_blob(f, &c->kernel, FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE,
			      FW_CFG_KERNEL_DATA);
	err |= pc_fw_cfg_blob(f, &c->initrd, FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE,
			      FW_CFG_INITRD_DATA);
	if (c->cmdline) {
		uint32_t len = (uint32_t)strlen(c->cmdline) + 1; /* with the NUL, as QEMU */
		err |= fw_cfg_add_i32(f, FW_CFG_CMDLINE_SIZE, len);
		err |= fw_cfg_add_bytes(f, FW_CFG_CMDLINE_DATA, c->cmdline, len);
		if (c->cmdline_addr)
			err |= fw_cfg_add_i32(f, FW_CFG_CMDLINE_ADDR, c->cmdline_addr);
	}
	return err ? -1 : 0;
}

/* Interrupt controllers: APIC bus, LAPICs, IOAPIC, 8259s and the router between. */
static int pc_interrupts(struct pc *pc)
{
	apic_bus_init(&pc->apic_bus);
	ioapic_init(&pc->ioapic, &pc->apic_bus, 0);
	if (ioapic_map(&pc->ioapic, pc->bus, IOAPIC_DEFAULT_BASE) < 0)
		return -1;

	pc->bsp = 0;
	for (int i = 0; i < pc->ncpus; i++)
		if (pc->cpus[i]->bsp) {
			pc->bsp = i;
			break;
		}
	for (int i = 0; i < pc->ncpus; i++) {
		if (lapic_init(&pc->lapics[i], pc->cpus[i], &pc->apic_bus, pc->clock) < 0)
			return -1;
	}
	struct lapic *bsp = &pc->lapics[pc->bsp];
	if (!bsp->bsp) { /* the core did not mark it: the board knows which one boots */
		bsp->bsp = true;
		lapic_reset(bsp);
	}
	pic_init(&pc->pic, pc_pic_intr, pc);
	lapic_set_extint(bsp, pc_pic_ack, pc);
	irq_router_init(&pc->router, &pc->pic, &pc->ioapic);
	return pic_map(&pc->pic, pc->bus);
}

static int64_t pc_rtc_epoch(const struct pc *pc)
{
	if (pc->cfg.rtc_epoch)
		return pc->cfg.rtc_epoch;
	if (pc->clock->deterministic)
		return RTC_DETERMINISTIC_EPOCH;
	return (int64_t)time(NULL); /* host wall clock, read once at power-on */
}

static int pc_devices(struct pc *pc)
{
	struct irq_router *r = &pc->router;
	const struct pc_config *c = &pc->cfg;

	if (pit_init(&pc->pit, pc->clock, irq_router_line(r, 0)) < 0 ||
	    pit_map(&pc->pit, pc->bus) < 0)
		return -1;
	if (rtc_init(&pc->rtc, pc->clock, irq_router_line(r, PC_RTC_IRQ), pc_rtc_epoch(pc)) < 0 ||
	    rtc_map(&pc->rtc, pc->bus) < 0)
		return -1;
	if (uart_init(&pc->com1, pc->clock, irq_router_line(r, PC_COM1_IRQ), c->uart_in_fd,
		      c->uart_out_fd) < 0 ||
	    uart_map(&pc->com1, pc->bus, PC_COM1_BASE) < 0)
		return -1;
	debug_exit_init(&pc->debug_exit, c->request_exit, c->exit_opaque);
	pc_testdev_init(pc->testdev, r);
	acpi_pm_init(&pc->acpi_pm, pc->clock, pc_power_off, pc);
	if (debug_exit_map(&pc->debug_exit, pc->bus) < 0 ||
	    pc_testdev_map(pc->testdev, pc->bus) < 0 || port80_map(&pc->port80, pc->bus) < 0 ||
	    acpi_pm_map(&pc->acpi_pm, pc->bus) < 0)
		return -1;
	if (pc_fw_cfg(pc) < 0 || fw_cfg_map(&pc->fw_cfg, pc->bus) < 0)
		return -1;
	pc_cmos_memory(pc);
	return 0;
}

static int pc_check_config(const struct pc *pc)
{
	if (pc->cfg.ncpus < 1 || pc->cfg.ncpus > PC_MAX_CPUS) {
		fprintf(stderr, "pc: %d CPUs requested, 1..%d supported\n", pc->cfg.ncpus,
			PC_MAX_CPUS);
		return -1;
	}
	if (pc->cfg.ram_size < MiB || pc->cfg.ram_size > pc->bus->ram_size) {
		fprintf(stderr, "pc: RAM size %llu must be at least 1 MiB and fit the bus\n",
			(unsigned long long)pc->cfg.ram_size);
		return -1;
	}
	return 0;
}

int pc_init(struct pc *pc, struct bus *bus, struct clock *clock, struct cpu **cpus,
	    const struct pc_config *cfg)
{
	memset(pc, 0, sizeof(*pc));
	pc->bus = bus;
	pc->clock = clock;
	pc->cpus = cpus;
	pc->cfg = *cfg;
	pc->ncpus = cfg->ncpus;
	if (!pc->cfg.ram_size)
		pc->cfg.ram_size = bus->ram_size;
	if (pc_check_config(pc) < 0)
		return -1;

	pc->lapics = calloc((size_t)pc->ncpus, sizeof(*pc->lapics));
	pc->testdev = calloc(1, sizeof(*pc->testdev));
	if (!pc->lapics || !pc->testdev)
		goto fail;
	if (pc_interrupts(pc) < 0 || pc_devices(pc) < 0)
		goto fail;
	pc->rsdp = acpi_build_tables(bus, ACPI_TABLES_BASE, pc->ncpus);
	if (!pc->rsdp || bios_setup(bus, &pc->lapics[pc->bsp]) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "pc: cannot build the board (out of memory, I/O regions or timers)\n");
	pc_destroy(pc);
	return -1;
}

void pc_destroy(struct pc *pc)
{
	/* Detach the CPUs from the LAPICs about to be freed. Bus regions and clock timers
	 * cannot be unregistered: destroy the bus and clock with the board. */
	for (int i = 0; pc->lapics && i < pc->ncpus; i++)
		if (pc->cpus[i]->apic == &pc->lapics[i]) {
			pc->cpus[i]->apic = NULL;
			pc->cpus[i]->apic_ops = NULL;
		}
	free(pc->lapics);
	free(pc->testdev);
	pc->lapics = NULL;
	pc->testdev = NULL;
}
