#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Payload of `make demo`: load the module and let the CLI show what the
# device does (out-of-order completions, a timeout, a cancel).
# shellcheck source=selftests/vm/guest-lib.sh
. /vm/guest-lib.sh

check "insmod aiodev.ko" insmod /vm/aiodev.ko
echo "# vm: running: aiodev demo $AIODEV_DEMO_ARGS"
# shellcheck disable=SC2086 # AIODEV_DEMO_ARGS is a word list
aiodev demo $AIODEV_DEMO_ARGS
_rc=$?
check "aiodev demo exits 0 (rc=$_rc)" test "$_rc" -eq 0
check "rmmod aiodev" rmmod aiodev
echo "# vm: done"
