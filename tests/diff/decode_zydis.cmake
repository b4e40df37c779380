# decode_zydis: differential test of the decoder against Zydis (Debian libzydis-dev 4.0).
# Include from tests/diff/CMakeLists.txt:  include(${CMAKE_CURRENT_SOURCE_DIR}/decode_zydis.cmake)
# ctest runs the default pass (~25M comparisons, seconds); `ctest -C long` adds the long one.
find_path(ZYDIS_INCLUDE_DIR Zydis/Zydis.h)
find_library(ZYDIS_LIBRARY Zydis)
if(ZYDIS_INCLUDE_DIR AND ZYDIS_LIBRARY)
  add_executable(decode_zydis ${CMAKE_CURRENT_LIST_DIR}/decode_zydis.c)
  target_include_directories(decode_zydis PRIVATE ${ZYDIS_INCLUDE_DIR})
  target_link_libraries(decode_zydis PRIVATE turtles_cpu ${ZYDIS_LIBRARY})
  add_test(NAME diff/decode_zydis COMMAND decode_zydis)
  add_test(NAME diff/decode_zydis_long COMMAND decode_zydis --long CONFIGURATIONS long)
else()
  message(FATAL_ERROR "Zydis (libzydis-dev) is needed by the decoder test: run scripts/deps.sh")
endif()
