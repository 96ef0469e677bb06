#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Payload of aiodev-vm: load the module, mount the shared directories, run
# the setup commands and then the user's program, its stdout and stderr
# on the virtio-serial ports aiodev.stdout and aiodev.stderr (byte streams;
# more ISA serial ports would share IRQs and stall), and report on this
# payload's own output (the results port, ttyS1) the line
#   aiodev-vm-status: STAGE RC
# STAGE: ports, module, share, setup, program or unload. /vm/run holds:
#   env     AIODEV_RUN_MODARGS, AIODEV_RUN_CWD (sourced)
#   shares  one directory per line; tag share<N> for line N (from 0)
#   setup   one shell command per line
#   cmd     the program and its arguments, as a shell command line
# and /vm/host/PATH each host program to put at PATH.
# shellcheck source=/dev/null
. /vm/run/env

status() {
	echo "aiodev-vm-status: $1 $2"
}
# vport NAME: the virtio-serial port the host named NAME.
vport() {
	for d in /sys/class/virtio-ports/*; do
		if [ "$(cat "$d/name" 2>/dev/null)" = "$1" ]; then
			echo "/dev/${d##*/}"
			return
		fi
	done
}
modprobe virtio_pci 2>/dev/null
modprobe virtio_console 2>/dev/null
tries=0
while :; do
	out=$(vport aiodev.stdout)
	err=$(vport aiodev.stderr)
	[ -c "$out" ] && [ -c "$err" ] && break
	tries=$((tries + 1))
	if [ "$tries" -gt 100 ]; then
		echo "# aiodev-vm: no virtio-serial ports for the program's output"
		status ports 125
		exit 0
	fi
	sleep 0.05
done

# A failure of aiodev-vm itself: on the program's stderr and in the log.
say() {
	echo "aiodev-vm: $*" >"$err"
	echo "# aiodev-vm: $*"
}

# What the program left running holds the device: end it before the
# unload. Those processes came after this shell (init's tee came before),
# and kernel threads have no exe.
kill_strays() {
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		if [ "$p" -gt $$ ] && [ -e "$d/exe" ]; then
			kill -KILL "$p" 2>/dev/null
		fi
	done
	sleep 0.2
}

# shellcheck disable=SC2086 # AIODEV_RUN_MODARGS is a word list
if ! insmod /vm/aiodev.ko $AIODEV_RUN_MODARGS; then
	say "cannot load the module with module arguments '$AIODEV_RUN_MODARGS' (see the kernel log)"
	status module 125
	exit 0
fi
echo "# vm: aiodev loaded ($AIODEV_RUN_MODARGS)"

n=0
while IFS= read -r dir; do
	if [ "$n" = 0 ]; then
		modprobe 9pnet_virtio && modprobe 9p
	fi
	if ! mkdir -p "$dir" ||
		! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 \
			"share$n" "$dir"; then
		say "cannot mount the shared directory $dir"
		status share 125
		exit 0
	fi
	n=$((n + 1))
done </vm/run/shares

# The host's programs, at their own paths (unless a share has them).
for f in $(cd /vm/host 2>/dev/null && find . -type f); do
	f=${f#.}
	if [ ! -e "$f" ]; then
		mkdir -p "${f%/*}" && cp -p "/vm/host$f" "$f"
	fi
done

cd "$AIODEV_RUN_CWD" 2>/dev/null || cd /tmp || exit 0
export HOME=/root

n=0
while IFS= read -r cmd; do
	n=$((n + 1))
	# Their output on stderr: stdout is the program's alone.
	sh -c "$cmd" </dev/null >"$err" 2>&1
	rc=$?
	if [ "$rc" != 0 ]; then
		say "setup command $n failed with exit status $rc: $cmd"
		status setup 125
		exit 0
	fi
done </vm/run/setup

echo "# vm: program starts"
sh /vm/run/cmd </dev/null >"$out" 2>"$err"
rc=$?
echo "# vm: program ended"
status program "$rc"

kill_strays
cd /
# The module must unload: nothing may stay pinned or in flight.
if ! rmmod aiodev; then
	say "rmmod aiodev failed after the program"
	status unload 125
fi
echo "# vm: done"
