# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: `aiodev config --reset` returns to the module's load-time
# defaults, its completion_nsec and timeout_nsec parameters, not to
# built-in numbers. Reloads the module with non-default parameters for the
# check, then as guest-check.sh loaded it (nr_devices=2).
# Sourced by guest-check.sh (busybox sh): no exit, names prefixed.

AIO_RESET_ERR=/tmp/aiodev-reset.err

if rmmod aiodev && insmod "$KO" nr_devices=2 completion_nsec=20000 \
	timeout_nsec=7000000; then
	# The starting point must differ from what --reset should restore,
	# or the checks below would pass with a --reset that does nothing.
	check "aiodev config --latency 1ms --jitter 1ms --timeout 0 (setup)" \
		aiodev config --latency 1ms --jitter 1ms --timeout 0
	check "setup: latency 1000000, jitter 1000000, deadline 0" test \
		"$(cat /sys/class/misc/aiodev0/latency_nsec /sys/class/misc/aiodev0/jitter_nsec /sys/class/misc/aiodev0/timeout_nsec | tr '\n' ' ')" = \
		"1000000 1000000 0 "
	aiodev config --reset >/dev/null 2>"$AIO_RESET_ERR"
	_aio_rc=$?
	cat "$AIO_RESET_ERR"
	check "aiodev config --reset exits 0 (rc=$_aio_rc)" test "$_aio_rc" -eq 0
	check "aiodev config --reset: latency back to completion_nsec=20000" \
		test "$(cat /sys/class/misc/aiodev0/latency_nsec)" = 20000
	check "aiodev config --reset: deadline back to timeout_nsec=7000000" \
		test "$(cat /sys/class/misc/aiodev0/timeout_nsec)" = 7000000
	check "aiodev config --reset: no jitter" \
		test "$(cat /sys/class/misc/aiodev0/jitter_nsec)" = 0
	check "aiodev config --reset read the parameters (no note)" \
		test ! -s "$AIO_RESET_ERR"
	rm -f "$AIO_RESET_ERR"
else
	not_ok "reload aiodev with completion_nsec=20000 timeout_nsec=7000000"
fi
module_loaded && rmmod aiodev
check "reload aiodev nr_devices=2 after the --reset check" \
	insmod "$KO" nr_devices=2
