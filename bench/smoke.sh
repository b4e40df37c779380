#!/usr/bin/env bash
# smoke.sh - run every benchmark kernel once with a small n and check that it exits
# through isa-debug-exit with 0 (process status 1) and prints the expected checksum.
# No timing: that is run.sh's job.
#
#   bench/smoke.sh qemu    /usr/bin/qemu-system-x86_64 build/bench
#   bench/smoke.sh turtles build/turtles                build/bench [LEVEL]
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 qemu|turtles EMULATOR KERNEL_DIR [LEVEL]" >&2
  exit 2
fi
emu=$1 bin=$2 dir=$3 level=${4:-0}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# kernel, arguments, expected checksum (the same under every correct x86-64: the
# workloads are deterministic; change these only together with the kernels).
cases=(
  "intloop   n=1000                      0x37035afda5476ffb"
  "randmem   n=1000                      0x0e79e794424b565a"
  "randmem   n=1000,size=4k              0xafa8bc8fe309e9fa"
  "randmem   n=1000,size=128m            0xdbcce5d8464b565a"
  "pagefault n=100                       0xcdab8c75b9187850"
  "portio    n=1000                      0x000000000007a314"
  "cpuid     n=1000                      0x000000000007a314"
  "mmio      n=1000                      0x0000000000880020"
  "hltwake   n=1000                      0x00000000000003e8"
)
# vmcall needs a hypervisor underneath (it is #UD on bare x86): level 1 only. L0
# answers an unknown hypercall with -KVM_ENOSYS (-1000) as KVM does: 1000 x -1000.
if [ "$emu" = turtles ] && [ "$level" -ge 1 ]; then
  cases+=("vmcall    n=1000                      0xfffffffffff0bdc0")
fi

run() { # kernel args -> exit status of the emulator, output in $out
  local k=$1 args=$2 rc=0
  if [ "$emu" = qemu ]; then
    timeout 60 "$bin" -accel tcg -machine pc -cpu max -display none -serial stdio \
      -monitor none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot -m 256 \
      -kernel "$dir/$k.elf" -append "$args" </dev/null >"$out" 2>&1 || rc=$?
  else
    timeout 120 "$bin" run --level "$level" --kernel "$dir/$k.elf" --append "$args" -m 256 --deterministic \
      </dev/null >"$out" 2>&1 || rc=$?
  fi
  return "$rc"
}

passed=0 failed=0
for c in "${cases[@]}"; do
  read -r k args want <<<"$c"
  args=${args//,/ }
  rc=0
  run "$k" "$args" || rc=$?
  got=$(grep -ao 'checksum=0x[0-9a-f]*' "$out" | head -1 | cut -d= -f2 || true)
  if [ "$rc" -eq 1 ] && [ "$got" = "$want" ]; then
    echo "PASS: $emu $k $args ($got)"
    passed=$((passed + 1))
  else
    echo "FAIL: $emu $k $args: exit status $rc (want 1), checksum '${got:-none}' (want $want)"
    sed 's/^/    | /' "$out" | tail -20
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
