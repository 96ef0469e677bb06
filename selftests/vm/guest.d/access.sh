# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: access as the README promises it. The module creates the
# nodes root-only (0600); the udev rule (here applied by hand: the guest
# has no udev) gives them to group aiodev, mode 0660. A member of the group
# who is not root can then do everything through the node, including
# SET_CONFIG; another user cannot open it; nobody but root writes the
# sysfs configuration, and the module parameters are read-only.
# Sourced by guest-check.sh (busybox sh) with the module loaded: no exit,
# names prefixed.

AC_NODE=/dev/aiodev0
AC_SYS=/sys/class/misc/aiodev0

# ac_as USER CMD: run CMD as USER (not root), with USER's groups.
ac_as() { su -s /bin/sh "$1" -c "$2"; }

check "module creates $AC_NODE root-only (0600 root:root)" \
	test "$(stat -c '%a %U %G' "$AC_NODE")" = "600 root root"
check "sysfs configuration is 0644 root" \
	test "$(stat -c '%a %U' "$AC_SYS/latency_nsec")" = "644 root"
check "module parameters are read-only (0444)" \
	test "$(stat -c '%a' /sys/module/aiodev/parameters/queue_depth)" = 444

cp /etc/passwd /tmp/access.passwd
cp /etc/group /tmp/access.group
{
	echo 'alice:x:1000:1000::/tmp:/bin/sh'
	echo 'bob:x:1001:1001::/tmp:/bin/sh'
} >>/etc/passwd
{
	echo 'alice:x:1000:'
	echo 'bob:x:1001:'
	echo 'aiodev:x:900:alice'
} >>/etc/group
# What the udev rule does.
chgrp aiodev "$AC_NODE" && chmod 0660 "$AC_NODE"

check "group member: aiodev info" ac_as alice "aiodev info -d 0 >/dev/null"
check "group member: aiodev config --latency 2ms (SET_CONFIG)" \
	ac_as alice "aiodev config -d 0 --latency 2ms >/dev/null"
check "group member's SET_CONFIG took effect" \
	test "$(cat "$AC_SYS/latency_nsec")" = 2000000
check "group member: aiodev stats" ac_as alice "aiodev stats -d 0 >/dev/null"
check "group member: aiodev-aio --verify (libaio, O_DIRECT)" \
	ac_as alice "aiodev-aio -d 0 --verify -n 64 -q 8 >/dev/null"
check "group member: aiodev config --reset" \
	ac_as alice "aiodev config -d 0 --reset >/dev/null"
check "other user: opening $AC_NODE is refused (EACCES)" \
	sh -c "su -s /bin/sh bob -c 'aiodev info -d 0' 2>&1 | grep -q 'Permission denied'"
check_fails "group member: sysfs configuration is not writable" \
	ac_as alice "echo 1 >$AC_SYS/latency_nsec"
check "latency unchanged by the refused sysfs write" \
	test "$(cat "$AC_SYS/latency_nsec")" != 1

chgrp root "$AC_NODE" && chmod 0600 "$AC_NODE"
cp /tmp/access.passwd /etc/passwd
cp /tmp/access.group /etc/group
rm -f /tmp/access.passwd /tmp/access.group
