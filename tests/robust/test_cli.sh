#!/bin/sh
# test_cli.sh - the command line refuses bad input cleanly.
#
# usage: test_cli.sh TURTLES MKKERNEL GOOD_KERNEL
#
# Every bad option or image must give exit status 2, exactly one line on stderr that
# starts with "turtles: " and names the problem (a keyword checked per case), and
# nothing on stdout. --help and --version print to stdout and exit 0. A kernel that
# loads beyond the RAM given with -m is refused (status 2) and runs when given enough
# RAM. MKKERNEL is robust_mkkernel (writes Multiboot a.out-kludge images), GOOD_KERNEL
# a valid kernel of the build (guest/hello.elf).
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 TURTLES MKKERNEL GOOD_KERNEL" >&2
	exit 2
fi
T=$1
MK=$2
GOOD=$3
ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=66:detect_leaks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=66:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

dir=$(mktemp -d "${TMPDIR:-/tmp}/turtles-cli.XXXXXX") || exit 2
trap 'rm -rf "$dir"' EXIT
out=$dir/stdout
err=$dir/stderr
fails=0
checks=0

fail() {
	echo "FAIL: $name: $*"
	echo "  command: turtles $cmd"
	sed -n '1,8s/^/  stdout| /p' "$out"
	sed -n '1,8s/^/  stderr| /p' "$err"
	fails=$((fails + 1))
}

# run NAME ARGS...: run turtles with a 60 s safety limit; sets $status.
run() {
	name=$1
	shift
	cmd="$*"
	checks=$((checks + 1))
	timeout -k 5 60 "$T" "$@" </dev/null >"$out" 2>"$err"
	status=$?
}

# bad NAME KEYWORD ARGS...: status 2, one "turtles: " line on stderr naming KEYWORD,
# empty stdout.
bad() {
	name=$1
	keyword=$2
	shift 2
	run "$name" "$@"
	lines=$(wc -l <"$err")
	if [ "$status" -ne 2 ]; then
		fail "exit status $status, expected 2"
	elif [ -s "$out" ]; then
		fail "stdout is not empty"
	elif [ "$lines" -ne 1 ]; then
		fail "$lines lines on stderr, expected one"
	elif ! grep -q '^turtles: ' "$err"; then
		fail "the message does not start with 'turtles: '"
	elif ! grep -qF -- "$keyword" "$err"; then
		fail "the message does not name '$keyword'"
	else
		echo "PASS: $name"
	fi
}

# good NAME STATUS ARGS...: exit with STATUS (a guest outcome) and no sanitizer report.
good() {
	name=$1
	want=$2
	shift 2
	run "$name" "$@"
	if [ "$status" -ne "$want" ]; then
		fail "exit status $status, expected $want"
	elif grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err"; then
		fail "sanitizer report"
	else
		echo "PASS: $name"
	fi
}

# Images: a valid one-instruction kernel (cli; hlt) at 1 MiB, the same at 16 MiB, an
# empty file, garbage, a directory.
"$MK" "$dir/k1m.elf" 0x100000 "fa f4" || exit 2
"$MK" "$dir/k16m.elf" 0x1000000 "fa f4" || exit 2
: >"$dir/empty.elf"
printf 'This is not a kernel.\n%0500d\n' 0 >"$dir/garbage.elf"
mkdir "$dir/adir"
head -c 3145728 /dev/zero >"$dir/big.mod"
K=$dir/k1m.elf

# Options.
bad "no command" "unknown command" bogus
bad "missing --kernel" "--kernel" run
bad "missing --kernel with options" "--kernel" run -m 16 --smp 2
bad "unknown option" "--bogus" run --kernel "$K" --bogus
bad "unknown short option" "-q" run --kernel "$K" -q
bad "missing argument (--kernel)" "--kernel" run --kernel
bad "missing argument (-m)" "-m" run --kernel "$K" -m
bad "missing argument (--smp)" "--smp" run --kernel "$K" --smp
bad "-m 0" "-m" run --kernel "$K" -m 0
bad "-m 1" "'1'" run --kernel "$K" -m 1
bad "-m 99999" "99999" run --kernel "$K" -m 99999
bad "-m abc" "abc" run --kernel "$K" -m abc
bad "-m empty" "-m" run --kernel "$K" -m ""
bad "-m -16" "-16" run --kernel "$K" -m -16
bad "-m 16x" "16x" run --kernel "$K" -m 16x
bad "-m 2^64+16" "18446744073709551632" run --kernel "$K" -m 18446744073709551632
bad "--smp 0" "--smp" run --kernel "$K" --smp 0
bad "--smp 33" "33" run --kernel "$K" --smp 33
bad "--smp x" "'x'" run --kernel "$K" --smp x
bad "--level 2" "--level" run --kernel "$K" --level 2
bad "--level x" "--level" run --kernel "$K" --level x
bad "--max-insns 0" "--max-insns" run --kernel "$K" --max-insns 0
bad "--max-insns -1" "--max-insns" run --kernel "$K" --max-insns -1
bad "--timeout 0" "--timeout" run --kernel "$K" --timeout 0
bad "--timeout 1.5" "1.5" run --kernel "$K" --timeout 1.5
bad "--timeout 86401" "86401" run --kernel "$K" --timeout 86401
bad "extra argument" "extra" run --kernel "$K" extra
bad "extra arguments after --" "more" run --kernel "$K" -- more

# Images.
bad "nonexistent kernel" "$dir/nonexistent.elf" run --kernel "$dir/nonexistent.elf"
bad "directory as kernel" "$dir/adir" run --kernel "$dir/adir"
bad "character device as kernel" "/dev/null" run --kernel /dev/null
bad "empty kernel" "$dir/empty.elf" run --kernel "$dir/empty.elf"
bad "garbage kernel" "$dir/garbage.elf" run --kernel "$dir/garbage.elf"
bad "kernel at 16 MiB with -m 2" "-m" run --kernel "$dir/k16m.elf" -m 2
bad "kernel at 16 MiB with -m 16" "$dir/k16m.elf" run --kernel "$dir/k16m.elf" -m 16
bad "nonexistent module" "$dir/nonexistent.mod" run --kernel "$K" --initrd "$dir/nonexistent.mod"
bad "directory as module" "$dir/adir" run --kernel "$K" --initrd "$dir/adir arg"
bad "module larger than RAM" "$dir/big.mod" run --kernel "$K" -m 2 --initrd "$dir/big.mod"
bad "module entry without a file" "--initrd" run --kernel "$K" --initrd "$dir/k1m.elf, arg"
mods64=$K
i=1
while [ $i -lt 64 ]; do
	mods64="$mods64,$K m$i"
	i=$((i + 1))
done
bad "65 modules" "--initrd" run --kernel "$K" --initrd "$mods64,$K"

# Positive controls: the same images run when they fit (cli; hlt: status 6).
good "kernel at 1 MiB with -m 2" 6 run --kernel "$K" -m 2
good "kernel at 16 MiB with -m 17" 6 run --kernel "$dir/k16m.elf" -m 17
good "module that fits" 6 run --kernel "$K" -m 8 --initrd "$dir/big.mod arg"
good "64 modules" 6 run --kernel "$K" --initrd "$mods64"
good "--smp 32 -m 3072" 6 run --kernel "$K" --smp 32 -m 3072

# Help and version.
for h in --help -h "run --help" "run -h"; do
	# shellcheck disable=SC2086 # split "run --help" on purpose
	run "$h" $h
	if [ "$status" -ne 0 ]; then
		fail "exit status $status, expected 0"
	elif [ -s "$err" ]; then
		fail "stderr is not empty"
	elif ! grep -q '^usage: turtles run --kernel IMAGE' "$out" || ! grep -q 'Exit status' "$out"; then
		fail "the usage is not on stdout"
	else
		echo "PASS: $h"
	fi
done
run "no arguments"
if [ "$status" -ne 2 ] || [ -s "$out" ] || ! grep -q '^usage: ' "$err"; then
	fail "expected status 2 and the usage on stderr"
else
	echo "PASS: no arguments"
fi
run "--version" --version
if [ "$status" -ne 0 ] || [ -s "$err" ] || [ "$(wc -l <"$out")" -ne 1 ] ||
	! grep -qE '^turtles [0-9]+\.[0-9]+' "$out"; then
	fail "expected status 0 and one line 'turtles X.Y' on stdout"
else
	echo "PASS: --version"
fi

# The good kernel of the build still loads (its own verdict is tests/guest's business):
# any guest status, but not 2 or 10.
run "build kernel loads" run --kernel "$GOOD" --deterministic --max-insns 2000000
if [ "$status" -eq 2 ] || [ "$status" -eq 10 ] || [ "$status" -gt 128 ]; then
	fail "exit status $status"
else
	echo "PASS: build kernel loads (status $status)"
fi

echo "SUMMARY: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
