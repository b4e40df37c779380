#!/bin/sh
# run-kernel.sh - run one guest conformance kernel and judge its output.
#
# usage: run-kernel.sh <qemu | path/to/turtles> <kernel.elf> [--smp N] [--timeout S] [extra args...]
#
# "qemu" runs qemu-system-x86_64 (TCG, pc machine, isa-debug-exit at 0xf4); anything
# else is taken as our emulator and run as `turtles run --kernel K --deterministic`.
# Both report the guest's isa-debug-exit write of code C as exit status (C << 1) | 1.
# The run passes iff: exit status is 1 (code 0), at least one "PASS:" line, no "FAIL:"
# line, and a "SUMMARY:" line.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 <qemu|turtles-binary> <kernel.elf> [--smp N] [--timeout S] [extra args...]" >&2
	exit 2
fi
emu=$1
kernel=$2
shift 2
smp=""
timeout_s=${GUEST_TIMEOUT:-60}
while [ $# -gt 0 ]; do
	case $1 in
	--smp) smp=$2; shift 2 ;;
	--timeout) timeout_s=$2; shift 2 ;;
	*) break ;;
	esac
done

if [ ! -f "$kernel" ]; then
	echo "run-kernel: no such kernel: $kernel" >&2
	exit 2
fi

log=$(mktemp "${TMPDIR:-/tmp}/guest-log.XXXXXX")
trap 'rm -f "$log"' EXIT

if [ "$emu" = qemu ]; then
	timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -machine pc -cpu max -m 128 \
		-smp "${smp:-1}" -display none -serial stdio -monitor none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot \
		-kernel "$kernel" "$@" </dev/null >"$log" 2>&1
	status=$?
else
	if [ -n "$smp" ]; then
		set -- --smp "$smp" "$@"
	fi
	timeout -k 5 "$timeout_s" "$emu" run --kernel "$kernel" --deterministic "$@" \
		</dev/null >"$log" 2>&1
	status=$?
fi

cat "$log"
pass=$(grep -c '^PASS: ' "$log")
fail=$(grep -c '^FAIL: ' "$log")
summary=$(grep -c '^SUMMARY: ' "$log")

verdict=ok
[ "$status" -eq 1 ] || { echo "run-kernel: exit status $status, expected 1 (guest exit code 0)"; verdict=bad; }
[ "$status" -ne 124 ] || echo "run-kernel: timed out after ${timeout_s}s"
[ "$pass" -gt 0 ] || { echo "run-kernel: no PASS line"; verdict=bad; }
[ "$fail" -eq 0 ] || { echo "run-kernel: $fail FAIL line(s)"; verdict=bad; }
[ "$summary" -gt 0 ] || { echo "run-kernel: no SUMMARY line"; verdict=bad; }
[ "$verdict" = ok ] && exit 0
exit 1
