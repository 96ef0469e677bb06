#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make bench`: boot Debian's 6.12 kernel once under QEMU/TCG (-smp 2) and
# measure aiodev against null_blk and against itself (guest-bench.sh):
# fio throughput and latency, the ioctl API vs Linux AIO, timer lateness,
# CPU per request with up to 64k in flight, slab bytes per request.
# Results go to build/bench/<timestamp>/ (build/bench/latest points at
# the last run): table.txt (printed at the end), results.json and
# results.csv, bench.png (latency CDFs, IOPS vs QD), raw/ (fio JSON,
# traces, the guest's lines) and host.txt (CPU, QEMU, kernel, load).
#
# Everything runs in one VM, interleaved (aiodev, null_blk, aiodev, ...;
# the order alternates between repetitions) and repeated, and is compared
# as ratios: under TCG, and with other VMs sharing the host, absolute
# numbers mean little and noise is large. The table shows the median of
# the repetitions and their min..max spread.
#
# By default the guest runs on an instruction-count clock (QEMU -icount,
# see below): results are then reproducible to about 1% on a loaded host.
#
# Environment: AIODEV_BENCH_CLOCK (icount, or real for plain TCG),
# AIODEV_BENCH_ICOUNT_SHIFT (3: 8 ns per instruction), AIODEV_BENCH_REPS
# (3), AIODEV_BENCH_FIO_SECS (2),
# AIODEV_BENCH_SECTIONS ("fio ring late scale mem tasklet rules"; add "prof" for perf
# profiles, which needs linux-perf on the host), AIODEV_BENCH_KERNEL
# (6.12), AIODEV_BENCH_OUT (results directory), AIODEV_VM_MEM (2G),
# AIODEV_VM_TIMEOUT (2400), plus those of run-vm.sh and mkinitramfs.sh.
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$ROOT"
label=${AIODEV_BENCH_KERNEL:-6.12}
sections=${AIODEV_BENCH_SECTIONS:-fio ring late scale mem tasklet rules}

"$VM_DIR/deps.sh"
# Only the benchmark needs these: the plot and the analysis.
extra=()
for p in gnuplot-nox python3; do
	[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true) == "install ok installed" ]] ||
		extra+=("$p")
done
if [[ " $sections " == *" prof "* ]] && ! command -v perf >/dev/null; then
	extra+=(linux-perf)
fi
if ((${#extra[@]})); then
	log "installing: ${extra[*]}"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "${extra[@]}" ||
		{ "${sudo[@]}" apt-get update -q && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -q --no-install-recommends "${extra[@]}"; }
fi

"$VM_DIR/fetch-kernel.sh" "$label"
kv=$(kver "$label")
if [[ ${AIODEV_SKIP_BUILD:-0} != 1 ]]; then
	"${MAKE:-make}" -C "$ROOT" userspace
fi
"${MAKE:-make}" -C "$ROOT/selftests/bench" OUT="$BUILD/bench/bin"
"$VM_DIR/build-module.sh" "$kv"

# The guest's clock. icount (default): virtual time advances by 2^shift ns
# per guest instruction and jumps over idle periods, so every duration the
# guest measures is an instruction count, the same from run to run and
# whatever else the host is doing. real: plain TCG, guest time is host
# time, and other load on the host shows up as noise.
clock=${AIODEV_BENCH_CLOCK:-icount}
shift_=${AIODEV_BENCH_ICOUNT_SHIFT:-3}
case $clock in
icount) qemu_clock="-icount shift=$shift_,sleep=off,align=off" ;;
real) qemu_clock= ;;
*) die "AIODEV_BENCH_CLOCK=$clock: icount or real" ;;
esac

res=${AIODEV_BENCH_OUT:-$BUILD/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$res/raw"
res=$(cd "$res" && pwd)
{
	echo "BENCH_SECTIONS='$sections'"
	echo "BENCH_REPS=${AIODEV_BENCH_REPS:-3}"
	echo "BENCH_FIO_SECS=${AIODEV_BENCH_FIO_SECS:-2}"
	echo "BENCH_FIO_RAMP_MS=${AIODEV_BENCH_FIO_RAMP_MS:-500}"
	echo "BENCH_RING_SECS=${AIODEV_BENCH_RING_SECS:-2}"
	echo "BENCH_LATE_SECS=${AIODEV_BENCH_LATE_SECS:-2}"
	echo "BENCH_SCALE_REPS=${AIODEV_BENCH_SCALE_REPS:-2}"
	echo "BENCH_SCALE_TOTAL=${AIODEV_BENCH_SCALE_TOTAL:-131072}"
} >"$res/raw/bench.conf"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
{
	echo "date=$(date -Is)"
	echo "host_cpu=$(awk -F': ' '/model name/{ print $2; exit }' /proc/cpuinfo)"
	echo "host_ncpu=$(nproc)"
	echo "host_kernel=$(uname -r)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n1)"
	echo "vm_cpu=$(vm_cpu)"
	echo "guest_kernel_pkg=$kv"
	echo "vm_smp=${AIODEV_VM_SMP:-2}"
	echo "vm_mem=${AIODEV_VM_MEM:-2G}"
	echo "clock=$clock"
	[[ $clock != icount ]] || echo "icount_shift=$shift_"
	echo "git=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "loadavg_start=$(loadavg)"
} >"$res/host.txt"

bins=fio
if [[ " $sections " == *" prof "* ]] && command -v perf >/dev/null; then
	bins="fio perf"
fi
initrd=$BUILD/$kv/initramfs-bench.cpio
AIODEV_TESTS_DIR=$BUILD/bench/bin AIODEV_VM_HOST_BINS=$bins \
	"$VM_DIR/mkinitramfs.sh" "$kv" bench "$initrd"

log "booting $kv for the benchmark, clock $clock (results: ${res#"$ROOT"/}; about 10 minutes)"
t0=$SECONDS
rc=0
# The results directory is the guest's /out, over virtio-9p.
AIODEV_VM_MEM=${AIODEV_VM_MEM:-2G} AIODEV_VM_SMP=${AIODEV_VM_SMP:-2} \
	AIODEV_VM_TIMEOUT=${AIODEV_VM_TIMEOUT:-2400} \
	AIODEV_VM_QEMU_ARGS="$qemu_clock -virtfs local,path=$res/raw,mount_tag=benchout,security_model=none ${AIODEV_VM_QEMU_ARGS:-}" \
	"$VM_DIR/run-vm.sh" "$kv" "$initrd" "$res/console.log" "$res/guest.log" || rc=$?
echo "vm_secs=$((SECONDS - t0))" >>"$res/host.txt"
echo "loadavg_end=$(loadavg)" >>"$res/host.txt"

fail=0
((rc == 0)) || { echo "  FAIL: VM exit status $rc (124: timeout)" >&2; fail=1; }
read -r _ f < <(count_results "$res/guest.log")
((f == 0)) || fail=1
scan_splats "$res/console.log" || fail=1

python3 "$ROOT/selftests/bench/analyze.py" "$res" || fail=1
if [[ -f $res/plot.gp ]]; then
	(cd "$res" && gnuplot plot.gp) || { echo "  FAIL: gnuplot" >&2; fail=1; }
fi
if [[ $(dirname "$res") == "$BUILD/bench" ]]; then
	ln -sfn "$(basename "$res")" "$BUILD/bench/latest"
fi
[[ -f $res/table.txt ]] && cat "$res/table.txt"
echo "results: ${res#"$ROOT"/} (table.txt, results.json, results.csv, bench.png)"
exit "$fail"
