#!/usr/bin/env bash
# Installs what building and testing turtles needs, from Debian 12 packages, if missing.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cmake || need+=(cmake)
have ninja || need+=(ninja-build)
have gcc || need+=(gcc)
have clang || need+=(clang)
have ld || need+=(binutils)
have qemu-system-x86_64 || need+=(qemu-system-x86)
[ -f /usr/include/Zydis/Zydis.h ] || need+=(libzydis-dev)
# clang's sanitizer runtime
ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.asan-x86_64.a >/dev/null 2>&1 \
  || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
