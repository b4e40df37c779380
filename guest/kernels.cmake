# kernels.cmake - the list of guest conformance kernels and their sources (relative to
# guest/). Included by guest/CMakeLists.txt (to build) and tests/guest/CMakeLists.txt
# (to register ctests), so the two never disagree.
set(GUEST_KERNELS hello alu exceptions paging privilege smc modes timer smp devices)

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
