# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh disable=SC2154 # fio_* come from fio_terse (guest-lib.sh)
# guest.d step: data integrity over the whole of /dev/aiodev0 (64 MiB)
# under fio with crc32c verification, requests completing out of order
# (device latency 20 us + U(0, 500 us) jitter, set through sysfs), libaio,
# O_DIRECT, iodepth 64:
#
#  - randrw 50/50, 4 KiB, the whole device (fio's random map: each block is
#    read or written once; every written one is verified);
#  - randwrite of the whole device in mixed block sizes (4k/16k/64k), every
#    byte verified;
#  - negative control: one block zeroed behind fio's back, --verify_only of
#    the same job must fail;
#  - deep queue: after a reload (peak_in_flight counts from zero), reads
#    submitted 64 per io_submit at a long fixed latency must reach
#    peak_in_flight >= 64.
#
# kaio-fio.sh does the smaller per-engine runs; this is the whole-device,
# deep-queue one. Needs fio (AIODEV_VM_HOST_BINS=fio). Reloads the module
# (nr_devices=2), restores the default latency/jitter and zeroes
# [56 MiB, 60 MiB) again, which the kselftest programs expect to read as
# zeros.
# Env: AIODEV_FIO_TIMEOUT (seconds per fio run, default 300);
# AIODEV_FIO_WHOLE_LATENCY_NS and AIODEV_FIO_WHOLE_JITTER_NS (20000 and
# 500000): the queue only gets deep if submitting 64 requests takes less
# than a latency, so a slow kernel (KASAN under TCG: check-debug) needs
# longer ones.

fw_dev=/dev/aiodev0
fw_sys=/sys/class/misc/aiodev0
fw_tmo=${AIODEV_FIO_TIMEOUT:-300}
fw_lat=${AIODEV_FIO_WHOLE_LATENCY_NS:-20000}
fw_jit=${AIODEV_FIO_WHOLE_JITTER_NS:-500000}

# fw_run ARGS...: one fio job over the whole device (fio_terse in
# guest-lib.sh).
fw_run() {
	fio_terse "$fw_tmo" --filename="$fw_dev" --size=64m --direct=1 \
		--ioengine=libaio --iodepth=64 --iodepth_batch_submit=16 \
		--iodepth_batch_complete_min=1 --verify=crc32c --do_verify=1 \
		--verify_fatal=1 --randseed=4242 "$@"
}

# fw_expect_clean DESC ARGS...
fw_expect_clean() {
	_fw_d=$1
	shift
	fw_run "$@"
	if fio_clean; then
		ok "fio whole device, $_fw_d: no errors, no verify mismatch"
	else
		not_ok "fio whole device, $_fw_d: no errors, no verify mismatch (rc=$fio_rc err=${fio_err:-none})"
		fio_show fio-whole
	fi
	echo "# fio-whole: $_fw_d: read IOPS=${fio_riops:-?} write IOPS=${fio_wiops:-?} (${fio_secs}s)"
}

# fw_deep: the deep-queue check. fio's slat of a request runs from its
# preparation to the return of the io_submit that carried it, so if the
# largest is below the device latency, no request of a batch can have
# completed before the whole batch was in: its 64 were in flight at once.
# That, not the host's speed, is the precondition; a slower host gets a
# 4 times longer latency, and a run in which it never held fails.
fw_deep() {
	for _fw_dlat in 100000000 400000000 1600000000; do
		if ! { rmmod aiodev && insmod "$KO" nr_devices=2 &&
			fw_cfg "$_fw_dlat" 0; }; then
			not_ok "fio whole device: reload aiodev, latency $_fw_dlat ns"
			module_loaded || insmod "$KO" nr_devices=2
			return
		fi
		fio_terse "$fw_tmo" --filename="$fw_dev" --size=1m --direct=1 \
			--ioengine=libaio --iodepth=64 --iodepth_batch_submit=64 \
			--iodepth_batch_complete_min=1 --rw=read --bs=4k
		_fw_slat=$(fio_field 11)
		_fw_peak=$(cat "$fw_sys/stats/peak_in_flight")
		echo "# fio-whole: deep queue at latency $_fw_dlat ns: slat max ${_fw_slat:-?} us, peak_in_flight $_fw_peak"
		if ! fio_clean || [ -z "$_fw_slat" ]; then
			not_ok "fio whole device: deep-queue job runs (rc=$fio_rc err=${fio_err:-none})"
			fio_show fio-whole
			return
		fi
		# slat is in us, whole numbers.
		if [ "$_fw_slat" -lt $((_fw_dlat / 1000)) ]; then
			check "fio whole device: deep queue reached (peak_in_flight $_fw_peak >= 64)" \
				test "$_fw_peak" -ge 64
			return
		fi
	done
	not_ok "fio whole device: deep queue: no io_submit of 64 took less than the latency"
}

fw_cfg() {
	echo "$1" >"$fw_sys/latency_nsec" && echo "$2" >"$fw_sys/jitter_nsec" &&
		echo 0 >"$fw_sys/timeout_nsec"
}

fw_main() {
	if ! command -v fio >/dev/null 2>&1; then
		not_ok "fio whole device: fio is in the guest (AIODEV_VM_HOST_BINS=fio)"
		return
	fi
	if ! fw_cfg "$fw_lat" "$fw_jit"; then
		not_ok "fio whole device: set latency $fw_lat ns, jitter $fw_jit ns through sysfs"
		return
	fi
	echo "# fio-whole: latency $fw_lat ns + U(0, $fw_jit ns)"
	_fw_peak0=$(cat "$fw_sys/stats/peak_in_flight")
	fw_expect_clean "randrw 4k iodepth 64 jitter" --rw=randrw --rwmixread=50 --bs=4k
	fw_expect_clean "randwrite 4k/16k/64k iodepth 64 jitter" --rw=randwrite \
		--bssplit=4k/50:16k/30:64k/20

	# Negative control: same job, one block zeroed behind fio's back.
	if fio_clean; then
		dd if=/dev/zero of="$fw_dev" bs=4096 seek=4000 count=1 conv=notrunc 2>/dev/null
		fw_run --rw=randwrite --bssplit=4k/50:16k/30:64k/20 --verify_only=1
		if fio_caught_corruption; then
			ok "fio whole device: verify catches a zeroed block (rc=$fio_rc)"
		else
			not_ok "fio whole device: verify catches a zeroed block (rc=$fio_rc err=${fio_err:-none})"
			fio_show fio-whole
		fi
	else
		# Not silently one check fewer.
		not_ok "fio whole device: verify catches a zeroed block (not run: the job before it failed)"
	fi

	check "fio whole device: nothing left in flight" \
		test "$(cat "$fw_sys/stats/in_flight")" = 0
	echo "# fio-whole: peak_in_flight before $_fw_peak0, after the verify runs $(cat "$fw_sys/stats/peak_in_flight")"
	fw_deep
	fw_cfg 10000 0
	check "fio whole device: [56 MiB, 60 MiB) zeroed again" \
		dd if=/dev/zero of="$fw_dev" bs=1048576 seek=56 count=4 conv=notrunc
	rm -f "$FIO_OUT"
}

fw_main
