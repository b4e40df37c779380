# host_diff: the integer executor against the host CPU (x86-64 hosts only).
# Include from tests/diff/CMakeLists.txt:  include(${CMAKE_CURRENT_SOURCE_DIR}/host_diff.cmake)
# It links the handler families and the decoder directly, not turtles_cpu:
# tests/common/exec_harness.c stands in for mem.c, exception delivery and port I/O.
# ctest runs the default pass (~75k cases, about a second); `ctest -C long` adds 20x.
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64|amd64")
  set(hd_cpu ${CMAKE_SOURCE_DIR}/src/cpu)
  file(GLOB hd_decoder CONFIGURE_DEPENDS ${hd_cpu}/decode*.c)
  add_executable(host_diff
    ${CMAKE_CURRENT_LIST_DIR}/host_diff.c ${CMAKE_CURRENT_LIST_DIR}/host_diff_tmpl.c
    ${CMAKE_CURRENT_LIST_DIR}/host_tramp.S ${CMAKE_SOURCE_DIR}/tests/common/exec_harness.c
    ${hd_cpu}/flags.c ${hd_cpu}/exec_alu.c ${hd_cpu}/exec_shift.c ${hd_cpu}/exec_muldiv.c
    ${hd_cpu}/exec_bit.c ${hd_cpu}/exec_mov.c ${hd_cpu}/exec_stack.c
    ${hd_cpu}/exec_branch.c ${hd_cpu}/exec_string.c ${hd_cpu}/exec_flags.c
    ${hd_cpu}/ops.c ${hd_decoder})
  target_compile_definitions(host_diff PRIVATE HOST_DIFF_DECODER)
  add_test(NAME diff/host COMMAND host_diff)
  add_test(NAME diff/host_long COMMAND host_diff --long 20 CONFIGURATIONS long)
endif()
