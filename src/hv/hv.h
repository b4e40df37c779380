/*
 * L0, the hypervisor, as the vmm sees it (KVM's ioctl surface, as plain C calls).
 *
 * A VM is the guest's physical memory (a slot of the silicon's RAM that EPT01 maps at
 * guest-physical 0), the PC's devices on L0's own guest bus, and one vCPU per silicon
 * CPU (vCPU i always runs on silicon CPU i). The vmm builds the machine, then runs each
 * vCPU for a slice in turn with hv_vcpu_run(); the VMX-preemption timer hands the
 * silicon back to L0 at the end of the slice.
 *
 * Memory layout of the silicon's RAM at level 1:
 *   [0, guest_ram)                  the guest's RAM (EPT01: guest-physical = same)
 *   [guest_ram, guest_ram + l0_ram) L0's own pages: EPT01 paging structures, I/O and
 *                                   MSR bitmaps (the silicon walks and reads them there)
 */
#ifndef TURTLES_HV_HV_H
#define TURTLES_HV_HV_H

#include <stdio.h>

#include "cpu/bus.h"
#include "cpu/clock.h"
#include "cpu/cpu.h"
#include "dev/lapic.h"

struct hv_vm;

#define HV_MAX_VCPUS 32

/* Bytes of silicon RAM L0 reserves above the guest's RAM for a guest of guest_ram
 * bytes: EPT01 (one page per 2 MiB of guest RAM at most, plus the upper levels), the
 * bitmaps and slack. */
uint64_t hv_l0_ram_bytes(uint64_t guest_ram);

/* L0's view of the guest's physical address space (KVM's memslots plus QEMU's address
 * space): RAM [0, guest_bytes) aliases the silicon's RAM (same host pages, same
 * decoded-code tracking), and the device models map their regions here, not on the
 * silicon's bus. Never bus_destroy() it: the RAM belongs to the silicon's bus. */
void hv_guest_bus_init(struct bus *guest, struct bus *silicon, uint64_t guest_bytes);

struct hv_vm_config {
	struct bus *silicon;   /* the silicon's bus: RAM = guest RAM + L0's pages */
	struct bus *guest;     /* hv_guest_bus_init(), with the devices mapped */
	struct clock *clock;
	struct cpu **cpus;     /* the silicon's CPUs; vCPU i runs on cpus[i] */
	int ncpus;
	uint64_t guest_ram;    /* bytes, page-aligned */
	/* Called when the guest shuts the VM down (triple fault, invalid state, a vCPU
	 * L0 cannot run): after the report, the vmm stops the machine. */
};

/* Build a VM: L0's page pool, EPT01, VMX operation and a VMCS per silicon CPU. Every
 * vCPU starts in wait-for-SIPI except the BSP (vCPU 0), which starts in the state its
 * silicon CPU holds now (the vmm's boot_state_apply(), exactly as at --level 0). Prints
 * a message and returns NULL on failure. */
struct hv_vm *hv_vm_create(const struct hv_vm_config *cfg);
void hv_vm_destroy(struct hv_vm *vm);

/* Make lapic the vCPU's virtual LAPIC (KVM's in-kernel irqchip): its interrupts,
 * NMIs, INIT and SIPI reach the vCPU, and L0 serves the guest's xAPIC page, x2APIC
 * MSRs and CR8 from it. The silicon CPU keeps no APIC of its own at level 1. */
void hv_vcpu_set_lapic(struct hv_vm *vm, int i, struct lapic *lapic);

enum hv_run {
	HV_RUN_SLICE,    /* the slice ended (or the vCPU may run on) */
	HV_RUN_IDLE,     /* the vCPU is halted or waits for SIPI: nothing to run */
	HV_RUN_SHUTDOWN, /* the VM shut down (report on stderr, hv_vm_shutdown_reason) */
	HV_RUN_STOP,     /* the machine asked the silicon to stop */
};

/* Run vCPU i for about slice_ns of virtual time (until the VMX-preemption timer fires,
 * it halts, or the VM shuts down). */
enum hv_run hv_vcpu_run(struct hv_vm *vm, int i, uint64_t slice_ns);

/* Could an interrupt wake this idle vCPU (halted with RFLAGS.IF = 1)? For the vmm's
 * hang detection. */
bool hv_vcpu_wakeable(const struct hv_vm *vm, int i);

/* Why the VM shut down, NULL while it runs; whether it was a triple fault. */
const char *hv_vm_shutdown_reason(const struct hv_vm *vm);
bool hv_vm_triple_faulted(const struct hv_vm *vm);

/* vCPU i's guest state (VMCS guest-state area and GPRs) for shutdown reports; the
 * vCPU that shut the VM down is marked SHUTDOWN. */
void hv_vcpu_dump(struct hv_vm *vm, int i, FILE *f);

/* --stats: L0's exits by reason (count, host time handling them), a table for people
 * and JSON for scripts. level is the level of the guest whose exits these are. */
void hv_stats_print(const struct hv_vm *vm, int level, FILE *f);
void hv_stats_json(const struct hv_vm *vm, int level, FILE *f);

#endif
