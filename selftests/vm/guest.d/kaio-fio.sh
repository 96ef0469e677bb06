# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154 # fio_* come from fio_terse (guest-lib.sh)
# Guest step (sourced by guest-check.sh's step_guest_d, guest-lib.sh loaded,
# module loaded with nr_devices=2): Debian's fio against /dev/aiodev0.
#
#  - randwrite + crc32c verify, 16 MiB of 4 KiB blocks, once per ioengine
#    (libaio and io_uring at iodepth 16, psync at 1), O_DIRECT;
#  - randrw + verify with latency jitter on, so completions come out of
#    order (libaio, io_uring);
#  - negative controls, so that a pass above means something: a block
#    corrupted behind fio's back must fail --verify_only, and a device
#    that times every request out must make fio report an error.
#
# One TAP line per run; fio's IOPS are printed as "# kaio-fio:" notes,
# never asserted. Needs fio in the initramfs (AIODEV_VM_HOST_BINS=fio).
# Leaves the device at the module defaults (latency 10000, jitter 0,
# timeout 0). Env: AIODEV_FIO_TIMEOUT (seconds per fio run, default 300),
# AIODEV_FIO_SIZE (default 16m).

kf_dev=/dev/aiodev0
kf_sys=/sys/class/misc/aiodev0
kf_tmo=${AIODEV_FIO_TIMEOUT:-300}
kf_size=${AIODEV_FIO_SIZE:-16m}

# kf_cfg LATENCY JITTER TIMEOUT (ns), through sysfs.
kf_cfg() {
	echo "$1" >"$kf_sys/latency_nsec" &&
		echo "$2" >"$kf_sys/jitter_nsec" &&
		echo "$3" >"$kf_sys/timeout_nsec"
}

kf_defaults() { kf_cfg 10000 0 0; }

kf_is_default() {
	[ "$(cat "$kf_sys/latency_nsec")" = 10000 ] &&
		[ "$(cat "$kf_sys/jitter_nsec")" = 0 ] &&
		[ "$(cat "$kf_sys/timeout_nsec")" = 0 ]
}

# kf_run ARGS...: one fio job on $kf_dev, 4 KiB blocks, O_DIRECT, crc32c
# verify after writing, ARGS added (fio_terse in guest-lib.sh).
kf_run() {
	fio_terse "$kf_tmo" --filename="$kf_dev" --bs=4k --direct=1 \
		--verify=crc32c --do_verify=1 --verify_fatal=1 "$@"
}

# kf_expect_clean DESC ARGS...: run fio, one TAP line, IOPS as a note.
kf_expect_clean() {
	_kf_d=$1
	shift
	kf_run "$@"
	if fio_clean; then
		ok "fio $_kf_d: no errors"
	else
		not_ok "fio $_kf_d: no errors (rc=$fio_rc err=${fio_err:-none})"
		fio_show kaio-fio
	fi
	echo "# kaio-fio: $_kf_d: read IOPS=${fio_riops:-?} write IOPS=${fio_wiops:-?} (${fio_secs}s)"
}

kf_main() {
	if ! command -v fio >/dev/null 2>&1; then
		not_ok "fio is in the guest (build the initramfs with AIODEV_VM_HOST_BINS=fio)"
		return
	fi
	echo "# kaio-fio: $(fio --version)"
	if ! [ -c "$kf_dev" ] || ! kf_defaults; then
		not_ok "fio: $kf_dev present and configurable through sysfs"
		return
	fi

	for _kf_e in libaio io_uring psync; do
		_kf_q=16
		[ "$_kf_e" = psync ] && _kf_q=1
		kf_expect_clean "randwrite verify ioengine=$_kf_e iodepth=$_kf_q size=$kf_size" \
			--size="$kf_size" --rw=randwrite \
			--ioengine="$_kf_e" --iodepth="$_kf_q"
	done

	# 20 us + U(0, 200 us): requests overtake each other.
	if kf_cfg 20000 200000 0; then
		for _kf_e in libaio io_uring; do
			kf_expect_clean "randrw verify jitter ioengine=$_kf_e iodepth=16 size=4m" \
				--size=4m --rw=randrw \
				--ioengine="$_kf_e" --iodepth=16
		done
	else
		not_ok "fio: set latency 20000 jitter 200000 through sysfs"
	fi
	kf_defaults

	# Negative control 1: fio's verify sees a block corrupted behind its
	# back (same job, same random sequence, --verify_only).
	kf_run --size=1m --rw=randwrite --ioengine=psync --iodepth=1
	if fio_clean; then
		dd if=/dev/zero of="$kf_dev" bs=4096 seek=100 count=1 conv=notrunc 2>/dev/null
		kf_run --size=1m --rw=randwrite --ioengine=psync \
			--iodepth=1 --verify_only=1
		if fio_caught_corruption; then
			ok "fio verify catches a corrupted block (rc=$fio_rc)"
		else
			not_ok "fio verify catches a corrupted block (rc=$fio_rc err=${fio_err:-none})"
			fio_show kaio-fio
		fi
	else
		not_ok "fio verify catches a corrupted block (setup write failed, rc=$fio_rc)"
		fio_show kaio-fio
	fi

	# Negative control 2: every request times out (deadline 5 us before
	# the 20 us latency): fio must report ETIMEDOUT, not pass.
	if kf_cfg 20000 0 5000; then
		kf_run --size=1m --rw=randwrite --ioengine=libaio --iodepth=4
		# Exactly ETIMEDOUT: any other error would be a different bug.
		if [ "$fio_rc" -ne 0 ] && [ "${fio_err:-0}" = 110 ]; then
			ok "fio reports device timeouts as ETIMEDOUT (rc=$fio_rc err=$fio_err)"
		else
			not_ok "fio reports device timeouts as ETIMEDOUT (rc=$fio_rc err=${fio_err:-none})"
			fio_show kaio-fio
		fi
	else
		not_ok "fio: set timeout 5000 through sysfs"
	fi

	kf_defaults
	check "fio: device back at default latency/jitter/timeout" kf_is_default
	check "fio: nothing left in flight on aiodev0" \
		test "$(cat "$kf_sys/stats/in_flight")" = 0
	rm -f "$FIO_OUT"
}

kf_main
