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
	# Every program the build promised (mkinitramfs.sh): one that is
	# missing fails instead of silently running one test fewer.
	if [ -n "$AIODEV_TESTS" ]; then
		_list=$AIODEV_TESTS
	elif [ -s /vm/tests.expected ]; then
		_list=$(cat /vm/tests.expected)
	else
		not_ok "the list of expected test programs is in the initramfs"
		_list=$(ls "$TESTS" 2>/dev/null)
	fi
	_list=$(for _t in $_list; do echo "$TESTS/$_t"; done)
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

# kmemleak, in the check-debug kernel: step kmemleak_start forgets what was
# suspected before the module was first loaded; step kmemleak, after the
# unload, scans twice (an object is only reported once it is 5 s old and
# stayed unreferenced for two scans) and fails on any report. In a kernel
# without kmemleak both only say so, unless AIODEV_KMEMLEAK=1 requires it.
KMEMLEAK=/sys/kernel/debug/kmemleak
kmemleak_on() {
	[ -e "$KMEMLEAK" ] && return 0
	if [ "${AIODEV_KMEMLEAK:-0}" = 1 ]; then
		not_ok "kmemleak is available ($KMEMLEAK)"
	else
		echo "# vm: no kmemleak in this kernel"
	fi
	return 1
}

step_kmemleak_start() {
	kmemleak_on || return 0
	if echo scan >"$KMEMLEAK"; then
		_n=$(grep -c '^unreferenced object' "$KMEMLEAK")
		echo "# vm: kmemleak: $_n suspects before the module, cleared"
		check "kmemleak: clear" sh -c "echo clear >$KMEMLEAK"
	else
		not_ok "kmemleak: scan (is kmemleak disabled? see the console)"
	fi
}

step_kmemleak() {
	kmemleak_on || return 0
	if echo scan >"$KMEMLEAK" && sleep 6 && echo scan >"$KMEMLEAK"; then
		cat "$KMEMLEAK" >/tmp/kmemleak.txt
		_n=$(grep -c '^unreferenced object' /tmp/kmemleak.txt)
		echo "# vm: kmemleak: $_n unreferenced objects after rmmod aiodev (two scans)"
		if [ "$_n" -eq 0 ]; then
			ok "kmemleak: no leak after rmmod aiodev"
		else
			not_ok "kmemleak: no leak after rmmod aiodev ($_n reported)"
			head -n 200 /tmp/kmemleak.txt | sed 's/^/# kmemleak: /'
		fi
	else
		not_ok "kmemleak: scan (is kmemleak disabled? see the console)"
	fi
}

step_taint() {
	_new=$(($(cat /proc/sys/kernel/tainted) & ~TAINT0 & ~(4096 | 8192)))
	check "kernel not tainted by a warning or oops (new taint $_new)" \
		test "$_new" -eq 0
}

for _step in ${AIODEV_STEPS:-kmemleak_start bad_params load busy_rmmod kselftests guest_d unload kmemleak taint}; do
	echo "# vm: step $_step"
	"step_$_step"
done
echo "# vm: done"
