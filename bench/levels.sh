#!/usr/bin/env bash
# bench/levels.sh - the cost of virtualization: the same guest image bare on the
# silicon (turtles --level 0) and as a guest of L0 (--level 1), and for scale under
# QEMU TCG.
#
#   bench/levels.sh [--quick] [--only NAME] [--reps R] [--cpu-time] [--no-qemu]
#
#   --quick      small n and one repetition (checks that everything runs)
#   --only NAME  one workload (see the table below)
#   --reps R     repetitions, the median is taken (default 3)
#   --cpu-time   time by user+system CPU time instead of the wall clock
#   --no-qemu    skip the QEMU column
#
# Method as bench/run.sh (bench/README.md): every run is one whole process pinned to
# CPU 0, each workload runs at n and 2n and time(2n) - time(n) is the time of n
# iterations; level 0, level 1 and QEMU runs alternate and swap order every
# repetition. Both levels run the same n, so their checksums must be equal; QEMU gets
# its own n (far larger where its translated code is much faster) and is only there
# for scale.
#
# Two kinds of rows:
#   - workloads of the previous issue (intloop, randmem, pagefault, portio): the
#     figure is L1/L0, the slowdown a guest sees (target: within 10%);
#   - exit-cost microbenchmarks (cpuid, vmcall, portio, mmio, hltwake): at level 1 every
#     iteration is one VM exit round trip through L0, so "L1 - L0" is the cost that
#     virtualization adds to one such operation, in host ns (CPUID target: < 500 ns).
#     vmcall exists only at level 1 (bare x86 raises #UD).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$root/build}

# name        kernel     extra      n (turtles) n (QEMU)   where
workloads=(
  "intloop    intloop    -          20000000    500000000  all"
  "randmem    randmem    -          4000000     4000000    all"
  "pagefault  pagefault  -          1000000     1000000    all"
  "portio     portio     -          4000000     20000000   all"
  "cpuid      cpuid      -          2000000     50000000   all"
  "mmio       mmio       -          1000000     10000000   all"
  "hltwake    hltwake    -          200000      200000     all"
  "vmcall     vmcall     -          2000000     0          l1"
)

reps=3 quick=0 only="" clock=wall qemu=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 reps=1 ;;
    --only) only=${2:?--only needs a workload name}; shift ;;
    --reps) reps=${2:?--reps needs a number}; shift ;;
    --cpu-time) clock=cpu ;;
    --no-qemu) qemu=0 ;;
    -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "levels.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja >/dev/null
fi
if ! cmake --build "$build" --target bench-kernels turtles >"$build/bench-build.log" 2>&1; then
  tail -30 "$build/bench-build.log"
  echo "levels.sh: the build failed (full log: $build/bench-build.log)" >&2
  exit 1
fi
kdir=$build/bench

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

run() { # EMU (l0, l1, qemu) KERNEL ARGS
  local emu=$1 k=$2 args=$3 cmd
  case $emu in
    qemu) cmd=(qemu-system-x86_64 -accel tcg -machine pc -cpu max -display none -serial stdio
      -monitor none -device "isa-debug-exit,iobase=0xf4,iosize=0x04" -no-reboot -m 256
      -kernel "$kdir/$k.elf" -append "$args") ;;
    l0) cmd=("$build/turtles" run --level 0 --kernel "$kdir/$k.elf" --append "$args" -m 256) ;;
    l1) cmd=("$build/turtles" run --level 1 --kernel "$kdir/$k.elf" --append "$args" -m 256) ;;
  esac
  timed_run "$emu $k '$args'" "${cmd[@]}"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A times sums emus_of
selected=()
for w in "${workloads[@]}"; do
  read -r name kernel extra n nq where <<<"$w"
  if [ -n "$only" ] && [ "$only" != "$name" ]; then
    continue
  fi
  selected+=("$name")
  [ "$extra" = - ] && extra=""
  if [ "$quick" -eq 1 ]; then
    n=$((n / 100)) nq=$((nq / 100))
  fi
  emus="l0 l1"
  [ "$qemu" -eq 1 ] && emus+=" qemu"
  [ "$where" = l1 ] && emus="l1"
  emus_of[$name]=$emus
  echo "== $name (n: turtles $n, QEMU $nq; $reps repetition(s))" >&2
  for ((r = 0; r < reps; r++)); do
    order=$emus
    [ $((r % 2)) -eq 1 ] && order=$(echo "$emus" | tr ' ' '\n' | tac | tr '\n' ' ')
    for mult in 1 2; do
      for emu in $order; do
        ne=$n
        [ "$emu" = qemu ] && ne=$nq
        run "$emu" "$kernel" "n=$((ne * mult))${extra:+ $extra}"
        times[$name,$emu,$mult]+="$ns "
        # Both levels run the same n: their checksums (and every repetition's) agree.
        key=$name,$([ "$emu" = qemu ] && echo qemu || echo turtles),$mult
        prev=${sums[$key]:-$sum}
        if [ "$prev" != "$sum" ]; then
          echo "levels.sh: $emu $name: checksum $sum differs from $prev (another level or run)" >&2
          exit 1
        fi
        sums[$key]=$sum
        printf '   %-5s n=%-10s %8.3f s  %s\n' "$emu" "$((ne * mult))" \
          "$(awk -v t="$ns" 'BEGIN{print t/1e9}')" "$sum" >&2
      done
    done
  done
  times[$name,n]=$n times[$name,nq]=$nq
done
if [ ${#selected[@]} -eq 0 ]; then
  echo "levels.sh: no workload named '$only'" >&2
  exit 2
fi

echo
echo "host: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), pinned to CPU 0"
echo "turtles: $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?')"
[ "$qemu" -eq 1 ] && echo "qemu: $(qemu-system-x86_64 --version | head -1)"
echo "host load average: $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after"
echo "clock: $([ "$clock" = cpu ] && echo 'user+system CPU time' || echo 'wall clock');" \
  "repetitions: $reps (median); time of n iterations = time(2n) - time(n)"
echo
printf '%-10s %12s %12s %8s %12s %12s\n' workload "L0 ns/it" "L1 ns/it" "L1/L0" "L1-L0 ns" "QEMU ns/it"
for name in "${selected[@]}"; do
  declare -A pi=()
  for emu in l0 l1 qemu; do
    pi[$emu]=-
    if [[ " ${emus_of[$name]} " == *" $emu "* ]]; then
      nn=${times[$name,n]}
      [ "$emu" = qemu ] && nn=${times[$name,nq]}
      pi[$emu]=$(per_iter "${times[$name,$emu,1]}" "${times[$name,$emu,2]}" "$nn")
    fi
  done
  extra_ns=$(awk -v a="${pi[l1]}" -v b="${pi[l0]}" \
    'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f\n", a - b; else print "-" }')
  printf '%-10s %12s %12s %8s %12s %12s\n' "$name" "${pi[l0]}" "${pi[l1]}" \
    "$(ratio "${pi[l1]}" "${pi[l0]}")" "$extra_ns" "${pi[qemu]}"
done
