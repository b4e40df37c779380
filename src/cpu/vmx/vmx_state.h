/*
 * The silicon's VMX state inside struct cpu (cpu.h embeds it as cpu->vmx).
 *
 * Whether the logical processor is in VMX operation, root or non-root, which VMCS is
 * current, and what the silicon caches from that VMCS while the guest runs. A real
 * processor may cache the current VMCS on chip (SDM 26.11.1); this one reads the
 * controls once at VM entry into the fields below, because nothing can change them
 * during non-root operation (VMWRITE in non-root operation is a VM exit).
 */
#ifndef TURTLES_CPU_VMX_VMX_STATE_H
#define TURTLES_CPU_VMX_VMX_STATE_H

#include "cpu/types.h"
#include "cpu/vmx/ept_cache.h"

struct vmcs; /* the VMCS layout, private to cpu/vmx (vmx_internal.h) */

#define VMX_NO_VMCS UINT64_MAX /* current-VMCS pointer when none (SDM 32.3 VMPTRST) */

/* Who is the VMM: software running on the silicon (VMXON instruction, VMCS regions in
 * guest-physical memory, VM exits load the VMCS host-state area), or native code
 * through the C API (cpu/vmx.h: VM exits return to the caller, the host-state area is
 * not used). */
enum vmx_host { VMX_HOST_NONE, VMX_HOST_SOFTWARE, VMX_HOST_NATIVE };

/* The VM-exit controls and VM-execution controls of the running guest, read at VM
 * entry (SDM 28.3.2 ... ), consulted by the intercept checks. */
struct vmx_controls {
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t exception_bitmap, pfec_mask, pfec_match;
	uint64_t cr0_mask, cr4_mask, cr0_shadow, cr4_shadow;
	uint32_t cr3_target_count;
	uint64_t cr3_target[4];
	uint64_t tsc_offset;
	uint64_t io_bitmap[2], msr_bitmap;  /* guest-physical addresses (root view) */
	uint64_t eptp;
	uint16_t vpid;
	uint32_t tpr_threshold;
	uint64_t virtual_apic_page, apic_access_page;
};

struct cpu_vmx {
	enum vmx_host host;     /* VMX_HOST_NONE: not in VMX operation */
	bool non_root;          /* in VMX non-root operation */
	gpa_t vmxon_ptr;        /* software host: the VMXON region */
	gpa_t current_ptr;      /* software host: current-VMCS pointer, VMX_NO_VMCS if none */
	struct vmcs *current;   /* the current VMCS in host memory, NULL if none */
	struct vmx_controls ctl; /* valid while non_root */
	/* The VM-entry consistency check that failed last ("file:line: condition"),
	 * NULL if none: explains a VMfailValid(7/8) or a failure exit 33 (vmx_entry.h). */
	const char *entry_failed_check;

	/* Non-root operation. */
	bool virtual_nmi_blocked; /* "blocking by NMI" with virtual NMIs (SDM 27.2) */
	bool mtf_pending;        /* monitor trap flag: exit at the next instruction boundary
				    (set after the first boundary, or by VM entry when it
				    injects an event: SDM 27.5.2) */
	bool preempt_active;     /* VMX-preemption timer counting */
	uint64_t preempt_deadline; /* TSC value at which the timer reaches 0 */
	int preempt_timer;       /* clock timer (id + 1, 0 until first needed) that wakes a
				    guest halted in non-root operation at the expiry */
	bool preempt_timer_armed;
	uint8_t apic_write_size; /* a write to the APIC-access page was virtualized: its
				    size, until APIC-write emulation at the next boundary
				    (0: none; vmx_apic_access.c, SDM 31.4.3.2) */
	bool iret_unblocking;    /* the IRET running found (virtual-)NMI blocking: an exit
				    for one of its faults reports "NMI unblocking due to
				    IRET" (SDM 29.2.2, vmx_events.c) */

	/* Native host: a VM exit happened; the run loop returns to vmx_vmlaunch(). */
	bool exit_pending;
	/* The event being delivered when the exit happened (IDT-vectoring info). */
	uint32_t vectoring_info, vectoring_error;

	/* Guest-physical mappings (SDM 30.4.1): they survive VM entries and exits
	 * (30.4.3.2) and go with INVEPT (ept_cache.h). */
	struct ept_cache eptc;
};

#endif
