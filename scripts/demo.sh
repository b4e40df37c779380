#!/usr/bin/env bash
# The demo: installs dependencies, builds turtles and its guest kernels, and boots the
# 'hello' conformance kernel as a guest of L0, the hypervisor (--level 1, the default),
# with every VM exit counted (--stats). Pass --level 0 to run it bare on the silicon.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_C_COMPILER=gcc >/dev/null
cmake --build build -j"$(nproc)"
set +e
./build/turtles run --kernel build/guest/hello.elf --append "demo" --smp 2 --stats "$@"
status=$?
echo "turtles exited with status $status (1 = the kernel reported success)"
exit $(( status == 1 ? 0 : 1 ))
