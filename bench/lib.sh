# bench/lib.sh - what bench/run.sh and bench/levels.sh share: one pinned, timed run
# of an emulator process, and the n-vs-2n arithmetic. Sourced, not run.
#
# Needs: $clock (wall or cpu). Sets after timed_run: ns, sum, ipi.

log=$(mktemp) tlog=$(mktemp)
trap 'rm -f "$log" "$tlog"' EXIT
TIMEFORMAT='%3U %3S'

# timed_run LABEL CMD...: run CMD pinned to CPU 0, timed by the wall clock around it
# (or with clock=cpu its user+system CPU time, all threads). Sets ns, sum (the
# checksum it printed) and ipi (instructions per iteration, 0 if not fixed); exits the
# script if the run fails (exit status other than 1 = isa-debug-exit(0), or no
# checksum line).
timed_run() {
  local label=$1 rc=0 t0 t1
  shift
  t0=$(date +%s%N)
  { time taskset -c 0 timeout 900 "$@" </dev/null >"$log" 2>&1 || rc=$?; } 2>"$tlog"
  t1=$(date +%s%N)
  if [ "$clock" = cpu ]; then # bash's time: "user sys" in seconds, 3 decimals
    ns=$(awk '{ printf "%.0f\n", ($1 + $2) * 1e9 }' "$tlog")
  else
    ns=$((t1 - t0))
  fi
  sum=$(grep -ao 'checksum=0x[0-9a-f]*' "$log" | head -1 | cut -d= -f2 || true)
  ipi=$(grep -ao 'insns_per_iter=[0-9]*' "$log" | head -1 | cut -d= -f2 || true)
  if [ "$rc" -ne 1 ] || [ -z "$sum" ]; then
    echo "$0: $label failed: exit status $rc (want 1)${sum:+, }${sum:-, no checksum line}" >&2
    tail -20 "$log" | sed 's/^/    | /' >&2
    exit 1
  fi
}

median() { # numbers... -> median (integer)
  printf '%s\n' "$@" | sort -n |
    awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2];
                              else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ns/iteration from the median times at n and 2n; "n/a" if noise swamped the difference
per_iter() { # times_n times_2n n
  local t1 t2
  # shellcheck disable=SC2086 # the times are a space-separated list: split them
  t1=$(median $1) t2=$(median $2)
  awk -v a="$t1" -v b="$t2" -v n="$3" \
    'BEGIN { if (b > a) printf "%.2f\n", (b - a) / n; else print "n/a" }'
}

ratio() { # a b -> a/b with two decimals, "-" if either is not a number
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f\n", a / b; else print "-" }'
}
