# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: the module's limits hold. Reloads aiodev with small limits
# (max_requests=64 max_pinned_mb=1 queue_depth=32), runs the limits
# kselftest program with AIODEV_LIMITS=1 (all its cases, against these
# values: -ENOMEM past max_requests and past the pinning limit through the
# ioctl, plain I/O and libaio, nothing counted or leaked; per-file
# queue_depth for SUBMIT, kernel AIO and plain reads; everything back after
# release), then reloads the module as guest-check.sh loaded it.
# Sourced by guest-check.sh (busybox sh): no exit, names prefixed.

lim_args="max_requests=64 max_pinned_mb=1 queue_depth=32"

# lim_params_are: the loaded module's parameters are the small ones.
lim_params_are() {
	_lim_p=/sys/module/aiodev/parameters
	[ "$(cat $_lim_p/max_requests)" = 64 ] &&
		[ "$(cat $_lim_p/max_pinned_mb)" = 1 ] &&
		[ "$(cat $_lim_p/queue_depth)" = 32 ]
}

# shellcheck disable=SC2086 # the parameters are separate words
if [ ! -x "$TESTS/limits" ]; then
	not_ok "limits: test program $TESTS/limits exists"
elif rmmod aiodev && insmod "$KO" nr_devices=2 $lim_args; then
	check "limits: aiodev reloaded with $lim_args" lim_params_are
	AIODEV_LIMITS=1
	export AIODEV_LIMITS
	run_test "$TESTS/limits"
	unset AIODEV_LIMITS
else
	not_ok "limits: reload aiodev with $lim_args"
fi
module_loaded && rmmod aiodev
check "limits: reload aiodev nr_devices=2 afterwards" insmod "$KO" nr_devices=2
