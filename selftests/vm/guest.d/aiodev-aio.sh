# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: the libaio client, userspace/aiodev-aio, on /dev/aiodev0.
# Each run is one check on its exit status, which is 0 only if every
# request ended as the ABI promises: a verbose mixed workload, --verify
# with jitter (completions out of order, data read back intact),
# --timeout-demo (-ETIMEDOUT) and --cancel-demo (io_cancel() -EINPROGRESS,
# then -ECANCELED). Each run must also leave the device's configuration
# as it found it, even one stopped by a signal with requests in flight.
# Sourced by guest-check.sh (busybox sh) with the module loaded: no exit,
# and every name carries an aio prefix to stay out of the payload's way.

AIO_DEV=/sys/class/misc/aiodev0
AIO_OUT=/tmp/aiodev-aio.out

aio_config() {
	cat "$AIO_DEV/latency_nsec" "$AIO_DEV/jitter_nsec" \
		"$AIO_DEV/timeout_nsec" "$AIO_DEV/fail_every_nth" \
		"$AIO_DEV/fail_len" | tr '\n' ' '
}

# aio_run DESC ARGS...: run aiodev-aio ARGS under the test timeout; its
# output is shown and kept in $AIO_OUT.
aio_run() {
	_aio_desc=$1
	shift
	_aio_before=$(aio_config)
	echo "# vm: running: aiodev-aio $*"
	timeout -s KILL "${AIODEV_TEST_TIMEOUT:-300}" aiodev-aio "$@" >"$AIO_OUT" 2>&1
	_aio_rc=$?
	cat "$AIO_OUT"
	check "aiodev-aio $_aio_desc exits 0 (rc=$_aio_rc)" test "$_aio_rc" -eq 0
	check "aiodev-aio $_aio_desc leaves the device configuration as it was" \
		test "$(aio_config)" = "$_aio_before"
}

if command -v aiodev-aio >/dev/null 2>&1; then
	aio_run "-v, half writes, random offsets, jitter" -d 0 -v -n 16 -q 8 \
		-b 4 -m 50 -o rand --latency 1ms --jitter 5ms
	aio_run "--verify with jitter" -d 0 --verify -o rand -n 512 -q 64 \
		-b 16 --latency 1ms --jitter 4ms
	# "N of M completed before a request submitted earlier", N > 0.
	check "aiodev-aio --verify: jitter made completions come out of order" \
		grep -q '^  [1-9][0-9]* of [0-9]* completed before' "$AIO_OUT"
	# Negative control: on a device that fails every 4th request the
	# promise aiodev-aio checks is broken; it must say so and exit 1.
	check "negative control setup: fail every 4th request with EIO" \
		sh -c "echo 5 >$AIO_DEV/fail_nth_errno && echo 4 >$AIO_DEV/fail_every_nth"
	timeout -s KILL "${AIODEV_TEST_TIMEOUT:-300}" aiodev-aio -d 0 -n 32 \
		-q 8 -b 4 -m 50 >"$AIO_OUT" 2>&1
	_aio_rc=$?
	echo 0 >"$AIO_DEV/fail_every_nth"
	echo 0 >"$AIO_DEV/fail_nth_errno"
	cat "$AIO_OUT"
	check "aiodev-aio on a device failing every 4th request exits 1 (rc=$_aio_rc)" \
		test "$_aio_rc" -eq 1
	check "aiodev-aio on a device failing every 4th request names a failed request" \
		grep -q 'expected' "$AIO_OUT"
	aio_run "--timeout-demo" -d 0 --timeout-demo
	aio_run "--cancel-demo" -d 0 --cancel-demo

	# SIGTERM once it has set its 1 s latency: it must stop, cancel what
	# is in flight (io_destroy) and restore the configuration.
	_aio_before=$(aio_config)
	aiodev-aio -d 0 -n 64 --latency 1s >"$AIO_OUT" 2>&1 &
	_aio_pid=$!
	_aio_i=0
	while [ "$(cat "$AIO_DEV/latency_nsec")" != 1000000000 ] &&
		[ $_aio_i -lt 100 ]; do
		_aio_i=$((_aio_i + 1))
		sleep 0.1
	done
	kill -TERM "$_aio_pid"
	wait "$_aio_pid"
	_aio_rc=$?
	cat "$AIO_OUT"
	check "aiodev-aio stopped by SIGTERM exits 1 (rc=$_aio_rc)" \
		test "$_aio_rc" -eq 1
	check "aiodev-aio stopped by SIGTERM restores the device configuration" \
		test "$(aio_config)" = "$_aio_before"
	rm -f "$AIO_OUT"
	reap_holders aiodev-aio
else
	not_ok "aiodev-aio is in the initramfs (make -C userspace)"
fi
