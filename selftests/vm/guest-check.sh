#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Payload of `make check`, run by /init in the VM. Each step prints TAP
# lines through guest-lib.sh. To add a check, either drop an executable
# into selftests/out/ (run by step_kselftests) or a script into
# selftests/vm/guest.d/ (sourced by step_guest_d while the module is
# loaded with nr_devices=2; it must leave it loaded and close what it opens).
# AIODEV_STEPS overrides the step list, AIODEV_TESTS the programs to run.
# shellcheck source=selftests/vm/guest-lib.sh
. /vm/guest-lib.sh

KO=/vm/aiodev.ko
TESTS=/vm/tests

# Taint bits other than O (out-of-tree, 4096) and E (unsigned, 8192) that
# appear while we run mean a WARN, an oops or worse.
TAINT0=$(cat /proc/sys/kernel/tainted)

# Invalid parameters must make init fail and leave nothing loaded.
insmod_refused() {
	if insmod "$KO" "$@"; then
		not_ok "insmod $* is refused"
		rmmod aiodev
	else
		ok "insmod $* is refused"
	fi
}

step_bad_params() {
	insmod_refused nr_devices=99
	insmod_refused queue_depth=0
	check_fails "module not loaded after refused insmods" module_loaded
}

step_load() {
	check "insmod nr_devices=2" insmod "$KO" nr_devices=2
	check "/dev/aiodev0 and /dev/aiodev1 exist" \
		test -c /dev/aiodev0 -a -c /dev/aiodev1
	check_fails "no /dev/aiodev2" test -e /dev/aiodev2
}

# An open file pins the module: rmmod must fail, not pull the code away.
step_busy_rmmod() {
	# shellcheck disable=SC2217 # the open is the point, not the input
	sleep 60 </dev/aiodev0 &
	_pid=$!
	if ! wait_open "$_pid" /dev/aiodev0; then
		not_ok "open /dev/aiodev0 in the background"
	fi
	if rmmod aiodev; then
		not_ok "rmmod refused while /dev/aiodev0 is open"
		insmod "$KO" nr_devices=2	# so that the rest still runs
	else
		ok "rmmod refused while /dev/aiodev0 is open"
	fi
	kill "$_pid" 2>/dev/null
	wait "$_pid" 2>/dev/null
	check "module loaded after refused rmmod" module_loaded
}

step_kselftests() {
	if [ -n "$AIODEV_TESTS" ]; then
		_list=$(for _t in $AIODEV_TESTS; do echo "$TESTS/$_t"; done)
	else
		_list=$(ls -d "$TESTS"/* 2>/dev/null)
	fi
	[ -n "$_list" ] || echo "# vm: no test programs in $TESTS"
	cd "$TESTS" || return
	for _t in $_list; do
		if [ -f "$_t" ] && [ -x "$_t" ]; then
			run_test "$_t"
		else
			not_ok "test program $_t exists"
		fi
	done
	cd /vm || return
}

step_guest_d() {
	for _s in /vm/guest.d/*.sh; do
		[ -f "$_s" ] || continue
		echo "# vm: step ${_s##*/}"
		# shellcheck source=/dev/null
		. "$_s"
	done
}

step_unload() {
	check "rmmod aiodev" rmmod aiodev
	check_fails "/dev/aiodev0 is gone" test -e /dev/aiodev0
	check_fails "module is gone" module_loaded
}

step_taint() {
	_new=$(($(cat /proc/sys/kernel/tainted) & ~TAINT0 & ~(4096 | 8192)))
	check "kernel not tainted by a warning or oops (new taint $_new)" \
		test "$_new" -eq 0
}

for _step in ${AIODEV_STEPS:-bad_params load busy_rmmod kselftests guest_d unload taint}; do
	echo "# vm: step $_step"
	"step_$_step"
done
echo "# vm: done"
