#!/bin/sh
# stats_json.sh TURTLES KERNEL - `--level 1 --stats-json FILE` writes valid JSON whose
# level-1 exits name the reasons (vmx_exit_reason_name) with counts, and `--stats`
# prints the same table to stderr.
set -u
T=$1
K=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/turtles-stats.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
"$T" run --kernel "$K" --deterministic --level 1 --stats --stats-json "$dir/s.json" \
	>"$dir/out" 2>"$dir/err"
status=$?
fails=0
check() { if eval "$1"; then echo "PASS: $2"; else echo "FAIL: $2"; fails=$((fails + 1)); fi; }
check '[ "$status" -eq 1 ]' "the kernel passes at level 1 (status $status)"
check 'grep -q "level 1 exits (handled by L0)" "$dir/err"' "--stats prints the level-1 exit table"
check 'grep -q "io_instruction" "$dir/err"' "--stats names io_instruction exits"
if command -v python3 >/dev/null 2>&1; then
	check 'python3 - "$dir/s.json" <<PY
import json, sys
d = json.load(open(sys.argv[1]))
lv = d["levels"][0]
ex = {e["reason"]: e for e in lv["exits"]}
assert d["level"] == 1 and lv["level"] == 1
assert ex["io_instruction"]["count"] > 0 and ex["io_instruction"]["number"] == 30
assert ex["cpuid"]["number"] == 10 and ex["io_instruction"]["host_ns"] >= 0
PY' "--stats-json is valid JSON with io_instruction (30) and cpuid (10) counts"
else
	check 'grep -q "\"reason\": \"io_instruction\"" "$dir/s.json"' "--stats-json names io_instruction"
fi
echo "SUMMARY: $fails failed"
[ "$fails" -eq 0 ]
