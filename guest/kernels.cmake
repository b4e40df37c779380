# kernels.cmake - the list of guest conformance kernels and their sources (relative to
# guest/). Included by guest/CMakeLists.txt (to build) and tests/guest/CMakeLists.txt
# (to register ctests), so the two never disagree.
set(GUEST_KERNELS hello alu exceptions paging privilege smc modes timer smp devices debugregs)

set(GUEST_SRCS_hello tests/hello.c)
set(GUEST_SRCS_alu tests/alu.c tests/alu_ref.c tests/alu_arith.c tests/alu_shift.c
	tests/alu_muldiv.c tests/alu_bits.c tests/alu_cond.c tests/alu_misc.c tests/alu_string.c)
set(GUEST_SRCS_exceptions tests/exceptions.c)
set(GUEST_SRCS_paging tests/paging.c)
set(GUEST_SRCS_privilege tests/privilege.c tests/privilege_entry.S)
set(GUEST_SRCS_smc tests/smc.c)
set(GUEST_SRCS_modes tests/modes.c tests/modes_snippets.S)
set(GUEST_SRCS_timer tests/timer.c)
set(GUEST_SRCS_smp tests/smp.c)
set(GUEST_SRCS_devices tests/devices.c)
set(GUEST_SRCS_debugregs tests/debugregs.c)

# VMX conformance kernels: hypervisors that use the VMX instructions. QEMU TCG has no
# VMX, so they run on turtles only (turtles/<name>, at each level in
# GUEST_VMX_LEVELS: tests/guest/CMakeLists.txt). They may include the data-only
# architectural header cpu/vmx/vmx_arch.h (src/ is on their include path) and
# guest/tests/vmx_lib.h (the VMX instructions with their outcomes, vmx_enter()).
# Adding one is one line: guest_vmx_kernel(<name> <sources relative to guest/>...).
macro(guest_vmx_kernel name)
	list(APPEND GUEST_VMX_KERNELS ${name})
	set(GUEST_SRCS_${name} ${ARGN})
endmacro()
# guest_vmx_kernel_smp(<name> <cpus> <sources>...) is the same for a kernel that needs
# more CPUs: it runs with --smp <cpus> (turtles/<name>-<cpus>).
macro(guest_vmx_kernel_smp name cpus)
	guest_vmx_kernel(${name} ${ARGN})
	set(GUEST_VMX_SMP_${name} ${cpus})
endmacro()
set(GUEST_VMX_KERNELS)
guest_vmx_kernel(vmx_insn tests/vmx_insn.c)
guest_vmx_kernel(vmx_intercept tests/vmx_intercept.c)
guest_vmx_kernel(vmx_ept tests/vmx_ept.c)
guest_vmx_kernel(vmx_entry tests/vmx_entry.c)
guest_vmx_kernel(vmx_events tests/vmx_events.c)
guest_vmx_kernel(vmx_exits tests/vmx_exits.c)
guest_vmx_kernel(vmx_entry_ctl tests/vmx_entry_ctl.c)
guest_vmx_kernel(vmx_entry_guest tests/vmx_entry_guest.c)
guest_vmx_kernel_smp(vmx_signals 2 tests/vmx_signals.c)
guest_vmx_kernel(vmx_apic_pml tests/vmx_apic_pml.c)
