#!/bin/sh
# test_machine.sh - the documented ways a machine ends, from tiny guest kernels.
#
# usage: test_machine.sh TURTLES MKKERNEL [shutdown | idle_limit | fault_loop] [LEVEL]
#
# Each kernel is a Multiboot a.out-kludge image written by MKKERNEL (robust_mkkernel):
# a header and a few instructions, entered in flat 32-bit protected mode at 0x100020.
#
# shutdown (default): the exit statuses of `turtles --help`:
#   4  triple fault (IDT limit 0, then ud2 / int3 / a timer interrupt) with the
#      "triple fault" line and a register dump on stderr
#   6  cli; hlt (also with --smp 4: the APs wait for SIPI) with a dump on stderr
#   (v << 1) | 1  isa-debug-exit; 0  ACPI soft-off; 8  --max-insns and --timeout
# idle_limit: a guest that masks both 8259s and halts with interrupts enabled can never
#   be woken, and in --deterministic mode retires nothing while virtual time races on;
#   the run must still end (status 6 or 8) within seconds when --max-insns is given.
# fault_loop: a guest whose exception handler faults at its first instruction (every
#   gate points at a ud2) takes exceptions forever without retiring an instruction; the
#   run must still end with status 8 at --max-insns or --timeout.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 TURTLES MKKERNEL [shutdown | idle_limit | fault_loop]" >&2
	exit 2
fi
T=$1
MK=$2
what=${3:-shutdown}
level=${4:-0} # --level of every run: 0 = bare on the silicon, 1 = as a guest of L0
ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=66:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=66:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

dir=$(mktemp -d "${TMPDIR:-/tmp}/turtles-machine.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
out=$dir/stdout
err=$dir/stderr
fails=0
checks=0

# expect NAME STATUSES SECONDS CODE_HEX [turtles run options...]
#   Build a kernel from CODE_HEX, run it (killed after SECONDS), and require one of the
#   space-separated STATUSES. Sets $status for further checks.
expect() {
	name=$1
	want=$2
	limit=$3
	code=$4
	shift 4
	checks=$((checks + 1))
	k=$dir/kernel.elf
	"$MK" "$k" 0x100000 "$code" || exit 2
	timeout -k 2 "$limit" "$T" run --kernel "$k" --level "$level" "$@" </dev/null >"$out" 2>"$err"
	status=$?
	for w in $want; do
		if [ "$status" -eq "$w" ]; then
			if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err"; then
				fail "sanitizer report"
				return 1
			fi
			return 0
		fi
	done
	if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
		fail "still running after $limit s (killed), expected status $want"
	else
		fail "exit status $status, expected $want"
	fi
	return 1
}

fail() {
	echo "FAIL: $name: $*"
	echo "  kernel code: $code"
	sed -n '1,6s/^/  stdout| /p' "$out"
	sed -n '1,12s/^/  stderr| /p' "$err"
	fails=$((fails + 1))
}

pass() {
	echo "PASS: $name"
}

# The dump of src/cpu/cpu_reset.c: cpu_dump() (rip, control registers, last exception).
has_dump() {
	grep -q 'rip=' "$err" && grep -q 'cr0=' "$err" && grep -q 'idtr' "$err"
}

if [ "$what" = fault_loop ]; then
	# lidt [IDTR]; ud2 -- every exception gate (0-31) points at the ud2 itself, so each
	# #UD delivery succeeds and raises the next #UD: no instruction ever retires.
	gates=""
	i=0
	while [ $i -lt 32 ]; do
		gates="$gates 2700080000 8e1000" # 0x08:0x100027, present DPL0 interrupt gate
		i=$((i + 1))
	done
	#      lidt [0x100030] ud2  pad             IDTR: limit 0xff, base 0x100040 pad
	code="0f011d30001000 0f0b 00000000000000 ff00 40001000 0000000000000000 0000 $gates"
	if expect "#UD storm, --deterministic --max-insns" 8 10 "$code" \
		--deterministic --max-insns 100000; then
		pass
	fi
	if expect "#UD storm, --timeout 1" 8 10 "$code" --timeout 1; then
		pass
	fi
	echo "SUMMARY: $((checks - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
	exit
fi

if [ "$what" = idle_limit ]; then
	# mov al, 0xff; out 0x21, al; out 0xa1, al; sti; hlt; jmp $-3
	if expect "masked PICs, sti; hlt, --deterministic --max-insns" "6 8" 10 \
		"b0ff e621 e6a1 fb f4 ebfd" --deterministic --max-insns 100000; then
		pass
	fi
	# The same without any limit but --timeout: must stop by host time (status 8).
	if expect "masked PICs, sti; hlt, --timeout 1" 8 20 \
		"b0ff e621 e6a1 fb f4 ebfd" --timeout 1; then
		pass
	fi
	echo "SUMMARY: $((checks - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
	exit
fi

# Triple faults: lidt with limit 0 (the 6-byte IDTR follows the code), then a fault.
#   0f 01 1d ADDR   lidt [ADDR]
for f in "ud2:0f0b:29" "int3:cc:28" "int 0x80:cd80:29" "divide by zero:31c9f7f1:2b"; do
	fname=${f%%:*}
	rest=${f#*:}
	insn=${rest%%:*}
	addr=${rest#*:}
	if expect "triple fault ($fname)" 4 30 "0f011d${addr}001000 $insn 000000000000" \
		--deterministic; then
		if ! grep -q 'triple fault' "$err"; then
			fail "no 'triple fault' line on stderr"
		elif ! has_dump; then
			fail "no register dump on stderr"
		elif ! grep -q 'SHUTDOWN' "$err"; then
			fail "the dump does not show the CPU in shutdown"
		else
			pass
		fi
	fi
done
# The BIOS leaves the PIT ticking into IRQ0: sti; hlt with IDT limit 0 shuts down on
# the first timer interrupt.
if expect "triple fault (timer interrupt)" 4 30 "0f011d2b001000 fb f4 ebfd 000000000000" \
	--deterministic; then
	if has_dump; then pass; else fail "no register dump on stderr"; fi
fi

# Hangs: every CPU halted with interrupts disabled.
if expect "cli; hlt" 6 30 "fa f4" --deterministic; then
	if has_dump && grep -q 'halted' "$err"; then pass; else fail "no dump of the halted CPU"; fi
fi
if expect "cli; hlt without --deterministic" 6 30 "fa f4"; then pass; fi
if expect "cli; hlt, --smp 4" 6 30 "fa f4" --smp 4 --deterministic; then
	if [ "$(grep -c '^cpu[0-9]' "$err")" -eq 4 ]; then pass; else fail "not 4 CPUs in the dump"; fi
fi

# isa-debug-exit: mov al, v; out 0xf4, al; cli; hlt -> (v << 1) | 1.
if expect "isa-debug-exit 0" 1 30 "b000 e6f4 fa f4" --deterministic; then pass; fi
if expect "isa-debug-exit 0x21" 67 30 "b021 e6f4 fa f4" --deterministic; then pass; fi
if expect "isa-debug-exit 0x7f" 255 30 "b07f e6f4 fa f4" --deterministic; then pass; fi

# ACPI soft-off: mov dx, 0x604; mov ax, SLP_EN; out dx, ax; cli; hlt -> 0.
if expect "ACPI soft-off" 0 30 "66ba0406 66b80020 66ef fa f4" --deterministic; then pass; fi

# Limits: jmp $ until --max-insns or --timeout.
if expect "--max-insns" 8 30 "ebfe" --deterministic --max-insns 10000; then
	if grep -q 'limit' "$err"; then pass; else fail "no limit message on stderr"; fi
fi
if expect "--timeout" 8 30 "ebfe" --timeout 1; then pass; fi
if expect "--max-insns --smp 3" 8 30 "ebfe" --deterministic --max-insns 10000 --smp 3; then pass; fi

echo "SUMMARY: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
