#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# /init of the test VM (busybox sh, PID 1). Mounts the basics, runs the
# payload named in /vm/config and powers off. The payload's output goes to
# the console (ttyS0, the human-readable log, where kernel messages land
# too) and, through tee, to ttyS1: a clean channel that no kernel message
# can interleave with, which the host parses for results.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
ip link set lo up 2>/dev/null

# shellcheck source=/dev/null
. /vm/config
export AIODEV_TEST_TIMEOUT AIODEV_STEPS AIODEV_TESTS AIODEV_DEMO_ARGS
# A quiet boot (make demo) still shows what the module logs from here on.
echo 7 >/proc/sys/kernel/printk
# Report tasks stuck in D state well before the host's VM timeout.
echo "$AIODEV_HUNG_TASK_SECS" >/proc/sys/kernel/hung_task_timeout_secs 2>/dev/null

echo "# vm: kernel $(uname -r), payload $AIODEV_PAYLOAD"
# Through a FIFO rather than a pipeline so that init, not tee's EOF,
# decides when the run is over: a stray background process the payload
# left behind would otherwise hold the pipe open and hang the VM.
mkfifo /tmp/out
tee /dev/ttyS1 </tmp/out &
tee_pid=$!
cd /vm && sh "/vm/$AIODEV_PAYLOAD" >/tmp/out 2>&1
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	# Kernel threads have no exe; spare them, ourselves and tee.
	if [ "$p" != 1 ] && [ "$p" != "$tee_pid" ] && [ -e "$d/exe" ]; then
		echo "# vm: killing stray process $p"
		kill -KILL "$p" 2>/dev/null
	fi
done
wait "$tee_pid"
sync
# QEMU runs with -no-reboot: a reset ends it, with or without ACPI.
reboot -f
