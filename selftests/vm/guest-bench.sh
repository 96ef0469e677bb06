#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Payload of `make bench` (selftests/vm/bench.sh): aiodev against null_blk
# and against itself, inside one boot. Raw results go to the host's
# results directory, shared over 9p (tag benchout, mounted on /out); the
# host analyses them (selftests/bench/analyze.py). Settings come from /out/bench.conf.
#
# Sections (BENCH_SECTIONS, in this order):
#   fio    fio 4k randread/randwrite, direct, QD 1/32/128, libaio and
#          io_uring, /dev/aiodev0 vs /dev/nullb0, both completing at 0 ns,
#          interleaved (the order alternates by repetition) and repeated
#   ring   aiodev-bench ring: the ioctl API vs Linux AIO, batch 1/16/256
#   late   requested latency 100 us and 1 ms: fio clat on both devices,
#          the ioctl events' own timestamps, then one traced run each
#          (hrtimer tracepoints for both, aiodev's own tracepoints)
#   scale  aiodev-bench scale: CPU per request with 64..64k in flight
#   mem    aiodev-bench mem: slab bytes per in-flight request
#   prof   perf record -a -g of the main cases (only if perf is here)
#   tasklet  the longest run of the completion tasklet (debugfs) under fio
#          with 1 MiB and 4 KiB requests: the copying done with bottom
#          halves off in one run
#   rules  the cost of rules: CPU per request (aiodev-bench ring, libaio
#          reads) with no rule and with 64 rules that never apply (by the
#          process, by the length), alternating; and distributions: a preset
#          and an imported fio histogram, requested vs observed percentiles
#          (aiodev bench)
# shellcheck source=selftests/vm/guest-lib.sh
. /vm/guest-lib.sh

B=/vm/tests/aiodev-bench
KO=/vm/aiodev.ko

modprobe 9pnet_virtio && modprobe 9p && mkdir -p /out &&
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 benchout /out
if grep -q ' /out 9p ' /proc/mounts; then
	ok "results share mounted on /out"
else
	not_ok "results share mounted on /out"
	echo "# vm: done"
	exit 1
fi
# fio leaves <job>.prerun.txt and .postrun.txt in the working directory.
cd /tmp || exit 1
# shellcheck source=/dev/null
. /out/bench.conf
: "${BENCH_REPS:=3}" "${BENCH_FIO_SECS:=2}" "${BENCH_FIO_RAMP_MS:=500}"
: "${BENCH_RING_SECS:=2}" "${BENCH_LATE_SECS:=2}" "${BENCH_SCALE_REPS:=2}"
: "${BENCH_SCALE_TOTAL:=131072}" "${BENCH_SECTIONS:=fio ring late scale mem tasklet rules}"
mkdir -p /out/fio /out/trace /out/prof

# note TEXT: progress on the console and in the log.
note() { echo "# bench: $(cut -d' ' -f1 /proc/uptime)s $*"; }

# The busy jiffies of the whole guest, from the first line of /proc/stat
# (or of FILE, a copy of it): user nice system irq softirq steal.
busy() { stat_busy /proc/stat; }
stat_busy() { awk '/^cpu /{ print $2+$3+$4+$7+$8+$9; exit }' "$1" 2>/dev/null || echo 0; }

# snap FILE: what counters() compares.
snap() { cat /proc/stat /proc/softirqs /proc/interrupts >"$1"; }
# counters BEFORE AFTER: deltas of the guest's event counters between two
# snapshots, one "name=value" each: busy and softirq jiffies per CPU,
# context switches, interrupts, local timer interrupts (LOC), reschedule
# and function-call IPIs (RES, CAL), softirqs by kind.
counters() {
	awk 'FNR == 1 { f++ }
	function add(k, v) { if (f == 1) a[k] += v; else b[k] += v }
	/^cpu[0-9]+ / { add("busy_" $1, $2 + $3 + $4 + $7 + $8 + $9); add("sirq_" $1, $8) }
	/^ctxt / { add("ctxt", $2) }
	/^intr / { add("intr", $2) }
	/^ *(LOC|RES|CAL):/ { k = $1; sub(":", "", k); for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) add(k, $i) }
	/^ *(TIMER|NET_RX|BLOCK|TASKLET|SCHED|HRTIMER|RCU|IRQ_POLL):/ { k = $1; sub(":", "", k); for (i = 2; i <= NF; i++) add("si_" k, $i) }
	END { for (k in b) printf "%s=%d ", k, b[k] - a[k]; print "" }' "$1" "$2"
}

{
	echo "guest_kernel=$(uname -r)"
	echo "guest_cpu=$(awk -F': ' '/model name/{ print $2; exit }' /proc/cpuinfo)"
	echo "guest_ncpu=$(grep -c '^processor' /proc/cpuinfo)"
	echo "guest_mem_kb=$(awk '/MemTotal/{ print $2 }' /proc/meminfo)"
	echo "guest_clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
	echo "fio_version=$(fio --version)"
	echo "user_hz=100"
} >/out/guest.txt

# load_aiodev PARAMS...: (re)load the module.
load_aiodev() {
	rmmod aiodev 2>/dev/null
	insmod "$KO" "$@"
}

# load_nullb NSEC: (re)load null_blk, timer completion after NSEC, one
# 1 GiB memory-backed device with a hardware queue per CPU, no scheduler.
NULLB_PARAMS="queue_mode=2 irqmode=2 memory_backed=1 hw_queue_depth=256 gb=1 bs=4096 submit_queues=2 no_sched=1 nr_devices=1"
load_nullb() {
	rmmod null_blk 2>/dev/null
	# shellcheck disable=SC2086 # a word list
	modprobe null_blk $NULLB_PARAMS completion_nsec="$1" &&
		[ -b /dev/nullb0 ]
}

devpath() {
	case $1 in
	aiodev) echo /dev/aiodev0 ;;
	nullb) echo /dev/nullb0 ;;
	zero) echo /dev/zero ;;
	esac
}

# order REP: the two devices, first one first on odd repetitions.
order() {
	if [ $(($1 % 2)) -eq 1 ]; then echo "aiodev nullb"; else echo "nullb aiodev"; fi
}

# The fio runs of a section go into one job file and one fio process, the
# jobs one after another (stonewall): Debian's fio loads the Ceph client
# libraries, which takes seconds under TCG, once instead of for every job.
# Each job records the guest's counters when it starts its I/O (ramp
# included) and when it ends, so fio's start-up is never counted.
#
# fio_begin: start a job file. fio_job NAME DEV RW ENGINE QD SECS: add a job.
# fio_go OUT: run them; OUT.json (json+: with the latency bins), and per
# job /out/fio/NAME.cpu (busy jiffies before, after; fio's exit status)
# and /out/fio/NAME.cnt (event counters, see counters()).
FIO_JOBS=/tmp/jobs.fio
fio_begin() {
	FIO_NAMES=
	cat >$FIO_JOBS <<EOF
[global]
size=64m
bs=4k
direct=1
time_based
ramp_time=${BENCH_FIO_RAMP_MS}ms
norandommap
randrepeat=0
stonewall
EOF
}
fio_job() {
	cat >>$FIO_JOBS <<EOF
[$1]
filename=$(devpath "$2")
$([ "$2" = zero ] && echo direct=0)
rw=$3
ioengine=$4
iodepth=$5
runtime=$6
exec_prerun=sh -c 'cat /proc/stat /proc/softirqs /proc/interrupts >/tmp/c-$1.pre'
exec_postrun=sh -c 'cat /proc/stat /proc/softirqs /proc/interrupts >/tmp/c-$1.post'
EOF
	FIO_NAMES="$FIO_NAMES $1"
}
fio_go() {
	_o=$1
	cp $FIO_JOBS "$_o.fio"
	timeout -s KILL 1200 fio --output-format=json+ --output="$_o.json" \
		$FIO_JOBS >/dev/null 2>"$_o.err"
	_rc=$?
	for _n in $FIO_NAMES; do
		echo "$(stat_busy "/tmp/c-$_n.pre") $(stat_busy "/tmp/c-$_n.post") $_rc" \
			>"/out/fio/$_n.cpu"
		counters "/tmp/c-$_n.pre" "/tmp/c-$_n.post" >"/out/fio/$_n.cnt"
		rm -f "/tmp/c-$_n.pre" "/tmp/c-$_n.post"
	done
	[ "$_rc" -eq 0 ] || not_ok "fio $_o exits 0 (rc=$_rc): $(head -c 300 "$_o.err")"
}

# fio_run OUT DEV RW ENGINE QD SECS: a single job, named after OUT.
fio_run() {
	fio_begin
	fio_job "${1##*/}" "$2" "$3" "$4" "$5" "$6"
	fio_go "$1"
}

prefill() {
	for _d in aiodev nullb; do
		fio --name=fill --filename="$(devpath $_d)" --size=64m --bs=1m \
			--direct=1 --rw=write --ioengine=psync >/dev/null 2>&1 ||
			not_ok "prefill $_d"
	done
}

section() {
	case " $BENCH_SECTIONS " in *" $1 "*) return 0 ;; esac
	return 1
}

check "insmod aiodev completion_nsec=0" load_aiodev completion_nsec=0
check "modprobe null_blk completion_nsec=0" load_nullb 0

# ---- 1. fio throughput ------------------------------------------------------
if section fio; then
	note "fio: prefill both devices"
	prefill
	rep=1
	while [ $rep -le "$BENCH_REPS" ]; do
		note "fio rep $rep: 25 jobs"
		fio_begin
		for rw in randread randwrite; do
			for eng in libaio io_uring; do
				for qd in 1 32 128; do
					for dev in $(order $rep); do
						fio_job "tput-$rw-$eng-qd$qd-$dev-r$rep" \
							"$dev" "$rw" "$eng" "$qd" "$BENCH_FIO_SECS"
					done
				done
			done
		done
		# The ceiling for any device: /dev/zero reads complete inside
		# io_submit() with no device code, no pinning, no interrupt
		# (and without O_DIRECT, which it does not support).
		fio_job "tput-randread-libaio-qd32-zero-r$rep" zero randread \
			libaio 32 "$BENCH_FIO_SECS"
		fio_go "/out/fio/tput-r$rep"
		rep=$((rep + 1))
	done
fi

# ---- 2. ioctl vs libaio ------------------------------------------------------
if section ring; then
	: >/out/ring.txt
	rep=1
	while [ $rep -le "$BENCH_REPS" ]; do
		for batch in 1 16 256; do
			if [ $((rep % 2)) -eq 1 ]; then apis="ioctl libaio"; else apis="libaio ioctl"; fi
			for api in $apis; do
				note "ring rep $rep $api batch $batch"
				snap /tmp/cpu0
				_l=$("$B" ring --api "$api" --depth 256 --batch "$batch" \
					--secs "$BENCH_RING_SECS" --warmup 0.5 2>&1)
				_rc=$?
				snap /tmp/cpu1
				echo "$_l rep=$rep $(counters /tmp/cpu0 /tmp/cpu1)" >>/out/ring.txt
				[ $_rc -eq 0 ] || not_ok "aiodev-bench ring $api $batch: $_l"
			done
		done
		rep=$((rep + 1))
	done
fi

# ---- 3. timer accuracy -------------------------------------------------------
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null

ksym() { awk -v s="$1" '$3 == s { print "0x" $1; exit }' /proc/kallsyms; }

# trace_run OUT DEV NSEC: one fio run at QD1 with the hrtimer tracepoints
# on, filtered to the device's timer callback; aiodev's own tracepoints too.
trace_run() {
	_o=$1 _dev=$2
	if [ "$_dev" = aiodev ]; then _fn=$(ksym aiodev_timer_fn); else _fn=$(ksym null_cmd_timer_expired); fi
	if [ -z "$_fn" ]; then
		not_ok "trace $_dev: timer callback not in /proc/kallsyms"
		return
	fi
	echo 0 >$T/tracing_on
	echo >$T/trace
	echo 8192 >$T/buffer_size_kb
	echo "function == $_fn" >$T/events/timer/hrtimer_start/filter
	echo "function == $_fn" >$T/events/timer/hrtimer_expire_entry/filter
	echo 1 >$T/events/timer/hrtimer_start/enable
	echo 1 >$T/events/timer/hrtimer_expire_entry/enable
	if [ "$_dev" = aiodev ]; then
		echo 1 >$T/events/aiodev/aiodev_timer_fire/enable
		echo 1 >$T/events/aiodev/aiodev_complete/enable
	fi
	echo 1 >$T/tracing_on
	fio_run "$_o" "$_dev" randread libaio 1 2
	echo 0 >$T/tracing_on
	echo 0 >$T/events/enable
	echo 0 >$T/events/timer/hrtimer_start/filter
	echo 0 >$T/events/timer/hrtimer_expire_entry/filter
	# As it is: text processing in the guest is slow under TCG.
	cat $T/trace >"$_o.trace"
	echo 1408 >$T/buffer_size_kb
}

if section late; then
	: >/out/late-ioctl.txt
	for nsec in 100000 1000000; do
		echo "$nsec" >/sys/class/misc/aiodev0/latency_nsec
		check "null_blk completion_nsec=$nsec" load_nullb "$nsec"
		note "late $nsec: fio"
		fio_begin
		rep=1
		while [ $rep -le "$BENCH_REPS" ]; do
			for dev in $(order $rep); do
				fio_job "late-$nsec-$dev-r$rep" "$dev" randread libaio 1 \
					"$BENCH_LATE_SECS"
			done
			rep=$((rep + 1))
		done
		fio_go "/out/fio/late-$nsec"
		rep=1
		while [ $rep -le "$BENCH_REPS" ]; do
			note "late $nsec rep $rep ioctl events"
			_l=$("$B" ring --api ioctl --depth 1 --batch 1 --latency "$nsec" \
				--secs "$BENCH_LATE_SECS" --warmup 0.5 2>&1)
			echo "$_l rep=$rep" >>/out/late-ioctl.txt
			rep=$((rep + 1))
		done
		for dev in aiodev nullb; do
			note "late $nsec traced $dev"
			trace_run "/out/trace/trace-$nsec-$dev" "$dev" "$nsec"
		done
	done
	echo 0 >/sys/class/misc/aiodev0/latency_nsec
	check "null_blk completion_nsec=0" load_nullb 0
fi

# ---- 4. scale and memory -----------------------------------------------------
if section scale || section mem; then
	check "insmod aiodev queue_depth=65536" \
		load_aiodev completion_nsec=0 queue_depth=65536 max_pinned_mb=512
fi
if section scale; then
	: >/out/scale.txt
	rep=1
	while [ $rep -le "$BENCH_SCALE_REPS" ]; do
		for n in 64 1024 16384 65536; do
			# Long enough for all n to be submitted before the first fires.
			lat=$((n * 40000))
			[ $lat -ge 4000000 ] || lat=4000000
			note "scale rep $rep n=$n latency=$lat"
			snap /tmp/cpu0
			_l=$("$B" scale --n $n --latency $lat --total "$BENCH_SCALE_TOTAL" 2>&1)
			_rc=$?
			snap /tmp/cpu1
			echo "$_l rep=$rep $(counters /tmp/cpu0 /tmp/cpu1)" >>/out/scale.txt
			[ $_rc -eq 0 ] || not_ok "aiodev-bench scale $n: $_l"
		done
		rep=$((rep + 1))
	done
fi
if section mem; then
	: >/out/mem.txt
	{
		echo "# aiodev_request: object_size $(cat /sys/kernel/slab/aiodev_request/object_size 2>/dev/null)" \
			"slab_size $(cat /sys/kernel/slab/aiodev_request/slab_size 2>/dev/null)" \
			"aliases $(cat /sys/kernel/slab/aiodev_request/aliases 2>/dev/null)" \
			"-> $(readlink /sys/kernel/slab/aiodev_request 2>/dev/null)"
	} >>/out/mem.txt
	for op in nop read; do
		for n in 64 1024 16384 65536; do
			note "mem $op n=$n"
			"$B" mem --n $n --op $op >>/out/mem.txt 2>&1 ||
				not_ok "aiodev-bench mem $op $n"
		done
	done
fi

# ---- profiles ----------------------------------------------------------------
# prof_run NAME CMD...: perf record of the whole guest while CMD runs.
prof_run() {
	_n=/out/prof/$1
	shift
	note "perf ${_n##*/}"
	perf record -a -g -F 999 -o /tmp/perf.data -- "$@" >/dev/null 2>"$_n.err"
	{
		perf report -i /tmp/perf.data --stdio --no-children --sort dso \
			-g none >"$_n.dso.txt"
		perf report -i /tmp/perf.data --stdio --no-children --sort sym \
			--percent-limit 0.1 -g none >"$_n.flat.txt"
		# Inclusive: the share of each path (device code and below).
		perf report -i /tmp/perf.data --stdio --children --sort sym \
			--percent-limit 0.5 -g none >"$_n.children.txt"
		perf report -i /tmp/perf.data --stdio --no-children --sort sym \
			--percent-limit 2 -g caller,0.5,callee --max-stack 12 \
			>"$_n.callers.txt"
	} 2>>"$_n.err"
	rm -f /tmp/perf.data
}
if section prof && command -v perf >/dev/null 2>&1; then
	check "insmod aiodev completion_nsec=0 (profiles)" load_aiodev completion_nsec=0 queue_depth=65536
	check "null_blk completion_nsec=0 (profiles)" load_nullb 0
	prefill
	for dev in aiodev nullb; do
		prof_run "fio-libaio-randread-qd32-$dev" fio --name=j \
			--filename="$(devpath $dev)" --size=64m --bs=4k --direct=1 \
			--rw=randread --ioengine=libaio --iodepth=32 --time_based \
			--runtime=4 --norandommap --randrepeat=0
	done
	prof_run ring-ioctl-b256 "$B" ring --api ioctl --depth 256 --batch 256 --secs 4
	prof_run ring-libaio-b256 "$B" ring --api libaio --depth 256 --batch 256 --secs 4
	prof_run scale-64 "$B" scale --n 64 --latency 4000000 --total 65536
	prof_run scale-65536 "$B" scale --n 65536 --latency 2621440000 --total 65536
fi

# ---- 6. tasklet work per run ------------------------------------------------
# The tasklet copies at most 128 KiB per run and reschedules itself for
# the rest (engine.c): its longest run, in time and bytes, under the
# workloads that copy the most, after a reset of the debugfs counters.
# fio stays on CPU 0, where its requests' timers fire and the tasklet runs:
# under -icount the vCPUs take turns and the guest clock counts every
# instruction of both, so work on the other CPU would inflate the run.
if section tasklet; then
	check "insmod aiodev completion_nsec=0 (tasklet)" load_aiodev completion_nsec=0
	TF=/sys/kernel/debug/aiodev/aiodev0/tasklet
	: >/out/tasklet.txt
	for _c in randread:1m:64:libaio randread:1m:64:io_uring \
		randwrite:1m:64:libaio randread:4k:128:libaio; do
		IFS=: read -r _rw _bs _qd _eng <<EOT
$_c
EOT
		note "tasklet: fio $_rw bs=$_bs QD$_qd $_eng"
		echo 0 >$TF
		if fio --name=t --filename="$(devpath aiodev)" --size=64m --bs="$_bs" \
			--direct=1 --rw="$_rw" --ioengine="$_eng" --iodepth="$_qd" \
			--cpus_allowed=0 --time_based --runtime="$BENCH_FIO_SECS" --norandommap \
			--randrepeat=0 >/tmp/tasklet-fio.txt 2>&1; then
			echo "TASKLET case=$_rw-$_bs-qd$_qd-$_eng $(awk '{ printf "%s=%s ", $1, $2 }' $TF)" \
				>>/out/tasklet.txt
		else
			not_ok "tasklet: fio $_c"
			sed 's/^/# /' /tmp/tasklet-fio.txt
		fi
	done
fi

# ---- 7. rules ---------------------------------------------------------------
# 64 rules that never apply to the ring's requests, two ways: they differ
# from them in the process only (pid), or in the length only (len), each
# rule otherwise matching in op, path and range; alternating with none.
if section rules; then
	check "insmod aiodev completion_nsec=0 (rules)" load_aiodev completion_nsec=0
	: >/out/rules.txt
	rep=1
	while [ $rep -le "$BENCH_REPS" ]; do
		if [ $((rep % 2)) -eq 1 ]; then sets="none pid len"; else sets="len pid none"; fi
		for _set in $sets; do
			aiodev rule clear
			_i=0
			while [ $_set != none ] && [ $_i -lt 64 ]; do
				if [ $_set = pid ]; then
					aiodev rule add --op read --path aio --range 0:64m --pid 1
				else
					aiodev rule add --op read --path aio --range 0:64m --len 8k:1m
				fi >/dev/null || not_ok "rules: rule add"
				_i=$((_i + 1))
			done
			note "rules rep $rep: 64 rules failing at $_set"
			_l=$("$B" ring --api libaio --op read --depth 64 --batch 16 \
				--secs "$BENCH_RING_SECS" --warmup 0.5 2>&1)
			[ $? -eq 0 ] || not_ok "rules: aiodev-bench ring, rules $_set: $_l"
			echo "$_l rules=$_set rep=$rep" >>/out/rules.txt
		done
		rep=$((rep + 1))
	done
	aiodev rule clear

	# Distributions: what was asked for, what the completions took
	# (aiodev bench's percentiles, from the events' own timestamps).
	: >/out/dist.txt
	cat >/tmp/fio-clat.json <<'EOF'
{ "jobs" : [ { "read" : { "clat_ns" : { "min" : 150000, "max" : 20000000,
  "N" : 100000, "percentile" : { "10.000000" : 200000, "50.000000" : 300000,
  "90.000000" : 600000, "99.000000" : 2000000, "99.900000" : 8000000 } } } } ] }
EOF
	for _d in "ht preset ht heavy-tail median=400us tail=1% alpha=1.5 max=50ms" \
		"fio import fio /tmp/fio-clat.json"; do
		# shellcheck disable=SC2086 # a word list
		set -- $_d
		_name=$1
		shift
		if aiodev latency "$@" >/tmp/dist-req.txt; then
			aiodev rule clear
			aiodev rule add --latency "dist:$_name" >/dev/null
			aiodev bench -n 20000 -q 64 -b 16 -r nop >/tmp/dist-obs.txt 2>/dev/null ||
				not_ok "rules: aiodev bench with dist $_name"
			echo "DIST name=$_name $(awk '/_ns / { printf "req_%s=%s ", $1, $2 }' /tmp/dist-req.txt)$(awk '/latency +min/ { getline; printf "obs_p50=%s%s obs_p90=%s%s obs_p99=%s%s obs_p99.9=%s%s", $3, $4, $5, $6, $7, $8, $9, $10 }' /tmp/dist-obs.txt)" \
				>>/out/dist.txt
			aiodev rule clear
			aiodev latency delete "$_name"
		else
			not_ok "rules: aiodev latency $*"
		fi
	done
fi

rmmod aiodev
rmmod null_blk
sync
umount /out
echo "# vm: done"
