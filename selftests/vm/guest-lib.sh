# SPDX-License-Identifier: GPL-2.0
# TAP helpers for guest payloads (busybox sh); sourced, never run.
# The host counts lines "ok N vm: ..." / "not ok N vm: ..." outside test
# sections, and one "# Totals:" line inside each section that run_test
# brackets with "# vm: begin NAME" / "# vm: end NAME rc=N".
# shellcheck shell=sh

VM_N=0
ok() {
	VM_N=$((VM_N + 1))
	echo "ok $VM_N vm: $*"
}
not_ok() {
	VM_N=$((VM_N + 1))
	echo "not ok $VM_N vm: $*"
}
# check DESC CMD...: passes if CMD succeeds.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else not_ok "$_d"; fi
}
# check_fails DESC CMD...: passes if CMD fails.
check_fails() {
	_d=$1
	shift
	if "$@"; then not_ok "$_d"; else ok "$_d"; fi
}

# rc_exit2 DESC WORD CMD...: CMD exits 2 (a usage error) and its message
# contains WORD (the field it names).
rc_exit2() {
	_d=$1
	_field=$2
	shift 2
	"$@" >/dev/null 2>/tmp/rc_exit2.err
	_rc=$?
	check "$_d: exit 2 (rc=$_rc)" test "$_rc" -eq 2
	check "$_d: message names $_field" grep -q -- "$_field" /tmp/rc_exit2.err
}

# run_test PROG [ARGS...]: run one kselftest_harness program under a
# timeout. A KILLed program leaves no Totals line, which the host counts
# as a failure.
run_test() {
	_name=${1##*/}
	echo "# vm: begin $_name"
	_t0=$(date +%s)
	timeout -s KILL "${AIODEV_TEST_TIMEOUT:-300}" "$@"
	_rc=$?
	echo "# vm: end $_name rc=$_rc secs=$(($(date +%s) - _t0))"
	reap_holders "$_name"
}

# holders: print the PIDs of processes that have a /dev/aiodev* node open.
holders() {
	for _fd in /proc/[0-9]*/fd/*; do
		case $(readlink "$_fd" 2>/dev/null) in
		/dev/aiodev*)
			_p=${_fd#/proc/}
			echo "${_p%%/*}"
			;;
		esac
	done | sort -u
}

# reap_holders WHO: a process left holding a device (e.g. the child of a
# KILLed harness) would fail the later rmmod for the wrong reason: report
# it against WHO and kill it.
reap_holders() {
	_pids=$(holders)
	[ -n "$_pids" ] || return 0
	not_ok "$1 left processes holding a device:" "$_pids"
	# shellcheck disable=SC2086 # a list of PIDs
	kill -KILL $_pids 2>/dev/null
	_i=0
	while [ -n "$(holders)" ] && [ $_i -lt 50 ]; do
		_i=$((_i + 1))
		sleep 0.1
	done
}

module_loaded() { [ -d /sys/module/aiodev ]; }

# wait_open PID PATH: wait (up to 10 s) until PID has PATH open on fd 0.
wait_open() {
	_i=0
	while [ "$(readlink "/proc/$1/fd/0" 2>/dev/null)" != "$2" ]; do
		_i=$((_i + 1))
		[ $_i -gt 100 ] && return 1
		sleep 0.1
	done
}

# fio for the guest.d steps. fio_terse TIMEOUT ARGS...: one fio job, terse
# output in $FIO_OUT, killed after TIMEOUT seconds. Sets fio_rc (exit
# status, 137 if killed), fio_err (fio's error field), fio_riops,
# fio_wiops and fio_secs.
FIO_OUT=/tmp/fio.out
# shellcheck disable=SC2034 # read by the guest.d steps
fio_terse() {
	_fio_tmo=$1
	shift
	_fio_t0=$(date +%s)
	timeout -s KILL "$_fio_tmo" fio --output-format=terse --name=j "$@" \
		>"$FIO_OUT" 2>&1
	fio_rc=$?
	fio_secs=$(($(date +%s) - _fio_t0))
	fio_err=$(fio_field 5)
	fio_riops=$(fio_field 8)
	fio_wiops=$(fio_field 49)
}

# fio_field N: field N of the job's terse (version 3) line.
fio_field() {
	awk -F';' -v f="$1" '$1 == "3" && $3 == "j" { print $f; exit }' "$FIO_OUT"
}

# A clean run: exit 0, fio's error field 0, no verify complaint.
fio_clean() {
	[ "$fio_rc" -eq 0 ] && [ "$fio_err" = 0 ] &&
		! grep -Eq 'verify: |bad magic|[Vv]erify failed|err=[1-9]' "$FIO_OUT"
}

# fio_caught_corruption: the run failed on a verify error.
fio_caught_corruption() {
	[ "$fio_rc" -ne 0 ] && grep -Eq 'verify: |bad magic|err=84' "$FIO_OUT"
}

# fio_show TAG: fio's non-terse output as "# TAG:" notes.
fio_show() {
	grep -v '^3;' "$FIO_OUT" | head -n 20 | sed "s/^/# $1:   /"
}
