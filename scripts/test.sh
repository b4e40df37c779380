#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds with gcc (warnings as errors) and
# with clang + ASan/UBSan, runs every test in both builds, and prints 'N passed, N failed'.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh || exit 1
jobs=$(nproc)
passed=0
failed=0

run_suite() { # name, build dir, ctest args...
  local name=$1 dir=$2
  shift 2
  local log="$dir/ctest.log"
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 300 "$@") 2>&1 | tee "$log"
  local p f
  p=$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$log" | tail -1 | awk '{print $NF}')
  f=$(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed' "$log" | tail -1 | awk '{print $4}')
  if [ -z "$p" ]; then
    echo "test: $name: no ctest result"
    failed=$((failed + 1))
    return
  fi
  passed=$((passed + p - f))
  failed=$((failed + f))
}

build() { # dir, cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -G Ninja -DTURTLES_WERROR=ON "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs"
}

if build build -DCMAKE_C_COMPILER=gcc; then
  run_suite gcc build
else
  echo "test: the gcc build failed"
  failed=$((failed + 1))
fi
if build build-san -DCMAKE_C_COMPILER=clang -DTURTLES_SANITIZE=ON; then
  # The QEMU reference runs do not involve our code: run them once, in the gcc build.
  run_suite clang-asan-ubsan build-san -LE qemu
else
  echo "test: the clang sanitizer build failed"
  failed=$((failed + 1))
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
