#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# aiodev-vm-check.sh LABEL [--all]: test userspace/aiodev-vm on one kernel
# label, printing TAP lines "ok N aiodev-vm: ...". On every label: a
# dynamically linked libaio program (aiodev-vm-probe.c) under a --setup
# rule, its stdout and stderr apart, a file written into a --share. With
# --all also: a static program, the README's and Documentation's examples
# with their outputs, a chosen exit status, stdout streaming while the program
# runs, --timeout (124), a failing setup command, refused module
# parameters and a kernel splat (125), and usage errors (2).
set -uo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

label=${1:?usage: aiodev-vm-check.sh LABEL [--all]}
all=${2:-}
vm=$ROOT/userspace/aiodev-vm
n=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aiodev-vm-check.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n aiodev-vm: $desc"
	else
		echo "not ok $n aiodev-vm: $desc"
	fi
}

# run NAME ARGS...: aiodev-vm on LABEL; NAME.out, NAME.err, NAME.rc.
run() {
	local name=$1 rc=0
	shift
	"$vm" --kernel "$label" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
	echo "$rc" >"$tmp/$name.rc"
	# Shown when a check fails.
	sed "s/^/# $name stderr: /" "$tmp/$name.err" | head -n 5
}
rc_is() { [[ $(cat "$tmp/$1.rc") == "$2" ]]; }
err_has() { grep -q -- "$2" "$tmp/$1.err"; }

cc -O2 -Wall -Wextra -Werror -o "$tmp/probe" "$VM_DIR/aiodev-vm-probe.c" -laio ||
	{ echo "not ok 1 aiodev-vm: cannot build the probe"; exit 0; }
mkdir -p "$tmp/share"
run probe --share "$tmp/share" --setup "aiodev rule add --op read --short 512" \
	-- "$tmp/probe" "$tmp/share/result"
check "$label: a dynamic libaio program exits 0 (rc=$(cat "$tmp/probe.rc"))" rc_is probe 0
check "$label: stdout: the program's alone, the --setup rule in force" \
	test "$(cat "$tmp/probe.out")" = "read 512"
check "$label: its stderr on stderr, after the setup's output (the rule id)" \
	eval 'grep -xq 1 "$tmp/probe.err" && err_has probe "^probe: stderr works$"'
check "$label: --share: the file it wrote is on the host" \
	test "$(cat "$tmp/share/result" 2>/dev/null)" = "aiodev-vm share 512"

[[ $all == --all ]] || exit 0

# A static program (no libraries go along), no setup: a whole read.
if cc -static -O2 -o "$tmp/probe-static" "$VM_DIR/aiodev-vm-probe.c" -laio; then
	run static -- "$tmp/probe-static" /tmp/result
	check "a static program runs (rc=$(cat "$tmp/static.rc"))" rc_is static 0
	check "... and reads 4096 bytes" test "$(cat "$tmp/static.out")" = "read 4096"
else
	check "a static program builds" false
fi

# Documentation/aiodev-vm.md's first example, twice: the seed replays it.
if cc -O2 -Wall -Wextra -Werror -o "$tmp/epoll-libaio" \
	"$ROOT/Documentation/examples/epoll-libaio.c" -laio; then
	for i in 1 2; do
		run "example$i" --setup "aiodev rule add --op read --range 0:64k --short 512" \
			--setup "aiodev rule add --op read --prob 1% --error EIO" \
			--setup "aiodev config --seed 42" -- "$tmp/epoll-libaio"
	done
	check "the epoll + libaio example: 16 short reads (rc=$(cat "$tmp/example1.rc"))" \
		eval 'rc_is example1 0 && grep -q "^256 reads: .* 16 short" "$tmp/example1.out"'
	check "... and with the same seed the same failures" \
		cmp -s "$tmp/example1.out" "$tmp/example2.out"
else
	check "the epoll + libaio example builds" false
fi

# The README's program prints what the README says it prints.
sed -n '/^```c$/,/^```$/{/^```/d;p;}' "$ROOT/README.md" >"$tmp/reads.c"
sed -n '/-- \.\/reads 2>\/dev\/null$/,/^```$/{/reads 2>/d;/^```$/d;p;}' \
	"$ROOT/README.md" >"$tmp/reads.want"
if [[ -s $tmp/reads.want ]] && cc -O2 -o "$tmp/reads" "$tmp/reads.c" -laio; then
	run readme --setup "aiodev rule add --op read --range 0:8k --short 512" \
		--setup "aiodev rule add --op read --prob 1% --error EIO" \
		--setup "aiodev config --seed 42" -- "$tmp/reads"
	check "the README's libaio program prints what the README shows" \
		eval 'rc_is readme 0 && cmp -s "$tmp/reads.want" "$tmp/readme.out"'
else
	check "the README's libaio program and its output are there, and it builds" false
fi

run status -- sh -c 'exit 42'
check "exit status 42 comes back (rc=$(cat "$tmp/status.rc"))" rc_is status 42

# Streaming: "first" must reach us well before the VM is gone.
{
	"$vm" --kernel "$label" -- sh -c 'echo first; sleep 4; echo second' |
		while IFS= read -r l; do echo "$(date +%s.%N) $l"; done
	date +%s.%N
} >"$tmp/stream" 2>/dev/null
streamed() {
	awk 'NR == 1 && $2 == "first" { t = $1 } END { exit !(t && $1 - t >= 3) }' "$tmp/stream"
}
check "stdout streams while the program runs" streamed

run timeout --timeout 20s -- sh -c 'sleep 1000'
check "--timeout ends the run with 124 (rc=$(cat "$tmp/timeout.rc"))" rc_is timeout 124

run setup --setup "true" --setup "false" -- sh -c 'echo never'
check "a failing --setup gives 125 (rc=$(cat "$tmp/setup.rc"))" rc_is setup 125
setup_said() { err_has setup "setup command 2 failed" && [[ ! -s $tmp/setup.out ]]; }
check "... names the command, and the program never ran" setup_said

run modargs --module-args "queue_depth=65537" -- true
check "refused --module-args give 125 (rc=$(cat "$tmp/modargs.rc"))" rc_is modargs 125

run splat -- sh -c 'echo l >/proc/sysrq-trigger; sleep 1'
check "a kernel splat gives 125 (rc=$(cat "$tmp/splat.rc"))" rc_is splat 125
check "... and says so" err_has splat "the kernel logged a problem"

run badkernel --kernel 5.4 -- true
check "--kernel 5.4: exit 2 naming --kernel" \
	eval 'rc_is badkernel 2 && err_has badkernel "--kernel"'
run badtime --timeout soon -- true
check "--timeout soon: exit 2 naming --timeout" \
	eval 'rc_is badtime 2 && err_has badtime "--timeout"'
run noprog
check "no program: exit 2" rc_is noprog 2
run missing -- /nonexistent/program
check "a program that does not exist: exit 2 naming it" \
	eval 'rc_is missing 2 && err_has missing "/nonexistent/program"'
