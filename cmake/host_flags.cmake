# Flags for host code only: call turtles_host_flags() at the top of a host directory.
macro(turtles_host_flags)
  include_directories(${CMAKE_SOURCE_DIR}/src)
  if(TURTLES_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=address,undefined)
  endif()
endmacro()
