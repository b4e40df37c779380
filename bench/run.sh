#!/usr/bin/env bash
# bench/run.sh - time the workload kernels under turtles and under QEMU TCG.
#
#   bench/run.sh [--quick] [--only NAME] [--reps R] [--qemu-only] [--cpu-time]
#
#   --quick      small n and one repetition: checks that everything runs (the times
#                are then mostly noise)
#   --only NAME  one workload (intloop, randmem, randmem-tight, randmem-128m,
#                pagefault, portio); `randmem` runs all three randmem rows
#   --reps R     repetitions, the median is taken (default 3)
#   --qemu-only  skip turtles (e.g. while it cannot boot kernels yet)
#   --cpu-time   time by the process's user+system CPU time instead of the wall
#                clock: steadier when other work shares the machine
#
# Environment: BUILD_DIR (default <repo>/build), TURTLES_FLAGS (extra `turtles run`
# options, e.g. --deterministic).
#
# Method. Each run is one whole emulator process, pinned to CPU 0 with taskset, timed
# by the wall clock around it (or by its CPU time, --cpu-time). Boot and shutdown cost the same at any n, so every
# workload runs at n and at 2n and time(2n) - time(n), from the medians over the
# repetitions, is the time of n iterations. turtles and QEMU runs alternate (and swap
# order every repetition) so that drift in the host affects both alike. The two
# emulators get different n, each big enough that its difference is well above the
# noise (QEMU's JIT is far faster on straight-line code); so the checksums are
# compared on extra, untimed QEMU runs at turtles' n and 2n.
#
# Exits non-zero if a run fails (exit status other than 1, i.e. isa-debug-exit(0), or
# no checksum line) or if the checksums of the two emulators differ.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}
turtles_flags=${TURTLES_FLAGS:-}

# n is chosen so that n iterations take roughly 0.3-1 s on each emulator (turtles as
# of late 2026-11); the checksums do not depend on the choice.
# name           kernel     extra args  n (turtles)  n (QEMU)
workloads=(
  "intloop       intloop    -           20000000     500000000"
  "randmem       randmem    -           4000000      4000000"
  "randmem-tight randmem    size=4k     20000000     200000000"
  "randmem-128m  randmem    size=128m   4000000      4000000"
  "pagefault     pagefault  -           1000000      1000000"
  "portio        portio     -           30000000     20000000"
)

reps=3 quick=0 only="" qemu_only=0 clock=wall
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 reps=1 ;;
    --only) only=${2:?--only needs a workload name}; shift ;;
    --reps) reps=${2:?--reps needs a number}; shift ;;
    --qemu-only) qemu_only=1 ;;
    --cpu-time) clock=cpu ;;
    -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
emus="turtles qemu"
[ "$qemu_only" -eq 1 ] && emus="qemu"

# --- build ---------------------------------------------------------------------------
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
fi
targets=(bench-kernels)
[ "$qemu_only" -eq 0 ] && targets+=(turtles)
if ! cmake --build "$build" --target "${targets[@]}" >"$build/bench-build.log" 2>&1; then
  tail -30 "$build/bench-build.log"
  echo "run.sh: the build failed (full log: $build/bench-build.log)" >&2
  [ "$qemu_only" -eq 0 ] && echo "run.sh: if only turtles fails to build, try --qemu-only" >&2
  exit 1
fi
turtles=$build/turtles
kdir=$build/bench

# --- one run -------------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

# run EMU KERNEL ARGS: one pinned, timed run (lib.sh's timed_run) of QEMU or turtles.
run() {
  local emu=$1 k=$2 args=$3 cmd
  if [ "$emu" = qemu ]; then
    cmd=(qemu-system-x86_64 -accel tcg -machine pc -cpu max -display none -serial stdio
      -monitor none -device "isa-debug-exit,iobase=0xf4,iosize=0x04" -no-reboot -m 256
      -kernel "$kdir/$k.elf" -append "$args")
  else
    # shellcheck disable=SC2206 # TURTLES_FLAGS is a list of options
    # Level 0 (bare on the silicon) unless TURTLES_FLAGS says otherwise: the figure
    # of the silicon against QEMU. bench/levels.sh compares the levels.
    cmd=("$turtles" run --level 0 --kernel "$kdir/$k.elf" --append "$args" -m 256 $turtles_flags)
  fi
  timed_run "$emu $k '$args'" "${cmd[@]}"
}

# --- measure -------------------------------------------------------------------------
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A times sums nper ipis
selected=()
for w in "${workloads[@]}"; do
  read -r name kernel extra nt nq <<<"$w"
  if [ -n "$only" ] && [ "$only" != "$name" ] && [ "$only" != "$kernel" ]; then
    continue
  fi
  selected+=("$name")
  [ "$extra" = - ] && extra=""
  if [ "$quick" -eq 1 ]; then
    nt=$((nt / 100)) nq=$((nq / 100))
  fi
  nper[$name,turtles]=$nt nper[$name,qemu]=$nq
  echo "== $name (n: turtles $nt, QEMU $nq; $reps repetition(s))" >&2
  for ((r = 0; r < reps; r++)); do
    order=$emus
    [ $((r % 2)) -eq 1 ] && [ "$qemu_only" -eq 0 ] && order="qemu turtles"
    for mult in 1 2; do
      for emu in $order; do
        n=$((nper[$name,$emu] * mult))
        run "$emu" "$kernel" "n=$n${extra:+ $extra}"
        times[$name,$emu,$mult]+="$ns "
        ipis[$name]=$ipi
        # every repetition must print the same checksum
        prev=${sums[$name,$emu,$n]:-$sum}
        if [ "$prev" != "$sum" ]; then
          echo "run.sh: $emu $name n=$n: checksum $sum differs from an earlier run's $prev" >&2
          exit 1
        fi
        sums[$name,$emu,$n]=$sum
        printf '   %-7s n=%-10s %8.3f s  %s\n' "$emu" "$n" "$(awk -v t="$ns" 'BEGIN{print t/1e9}')" "$sum" >&2
      done
    done
  done
  if [ "$qemu_only" -eq 0 ]; then # reference checksums at turtles' n, untimed
    for mult in 1 2; do
      n=$((nt * mult))
      [ -n "${sums[$name,qemu,$n]:-}" ] && continue
      run qemu "$kernel" "n=$n${extra:+ $extra}"
      sums[$name,qemu,$n]=$sum
    done
  fi
done
if [ ${#selected[@]} -eq 0 ]; then
  echo "run.sh: no workload named '$only'" >&2
  exit 2
fi

# --- report --------------------------------------------------------------------------
echo
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), pinned to CPU 0"
echo "qemu: $(qemu-system-x86_64 --version | head -1)"
[ "$qemu_only" -eq 0 ] && echo "turtles: $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?') ${turtles_flags}"
echo "host load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
echo "clock: $([ "$clock" = cpu ] && echo 'user+system CPU time' || echo 'wall clock');" \
  "repetitions: $reps (median); time of n iterations = time(2n) - time(n)"
echo
printf '%-14s %14s %14s %14s %12s %12s\n' workload "turtles ns/it" "QEMU ns/it" "turtles/QEMU" \
  "turtles MIPS" "QEMU MIPS"
mips() { # ns/iteration, instructions/iteration -> guest MIPS
  awk -v t="$1" -v k="$2" 'BEGIN { if (t + 0 > 0 && k > 0) printf "%.0f\n", k * 1000 / t; else print "-" }'
}
declare -A pi
for name in "${selected[@]}"; do
  for emu in turtles qemu; do
    pi[$name,$emu]=-
    if [[ " $emus " == *" $emu "* ]]; then
      pi[$name,$emu]=$(per_iter "${times[$name,$emu,1]}" "${times[$name,$emu,2]}" "${nper[$name,$emu]}")
    fi
  done
  ratio=$(awk -v a="${pi[$name,turtles]}" -v b="${pi[$name,qemu]}" \
    'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f\n", a / b; else print "-" }')
  printf '%-14s %14s %14s %14s %12s %12s\n' "$name" "${pi[$name,turtles]}" "${pi[$name,qemu]}" \
    "$ratio" "$(mips "${pi[$name,turtles]}" "${ipis[$name]}")" "$(mips "${pi[$name,qemu]}" "${ipis[$name]}")"
done
# random over tight: what translation misses (and host cache misses) add
blank=1
for big in randmem randmem-128m; do
  if [ -z "${pi[$big,qemu]:-}" ] || [ -z "${pi[randmem-tight,qemu]:-}" ]; then
    continue
  fi
  if [ "$blank" -eq 1 ]; then
    echo
    blank=0
  fi
  printf '%-30s' "$big / randmem-tight:"
  for emu in turtles qemu; do
    printf ' %s %6s' "$emu" "$(awk -v a="${pi[$big,$emu]}" -v b="${pi[randmem-tight,$emu]}" \
      'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "-" }')"
  done
  echo
done

echo
echo "checksums:"
status=0
for name in "${selected[@]}"; do
  for mult in 1 2; do
    if [ "$qemu_only" -eq 1 ]; then
      n=$((nper[$name,qemu] * mult))
      printf '  %-14s n=%-10s qemu %s\n' "$name" "$n" "${sums[$name,qemu,$n]}"
      continue
    fi
    n=$((nper[$name,turtles] * mult))
    t=${sums[$name,turtles,$n]} q=${sums[$name,qemu,$n]}
    verdict=same
    if [ "$t" != "$q" ]; then
      verdict="DIFFERENT"
      status=1
    fi
    printf '  %-14s n=%-10s turtles %s  qemu %s  %s\n' "$name" "$n" "$t" "$q" "$verdict"
  done
done
[ "$status" -eq 0 ] || echo "run.sh: turtles and QEMU disagree on a checksum" >&2
exit "$status"
