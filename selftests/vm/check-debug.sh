#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# check-debug.sh [debug|kcsan]: check.sh on a kernel built from Debian's
# newest linux-source-7.x (build-debug-kernel.sh, once, cached):
#   debug  `make check-debug`, label 7.x-debug: KASAN, slab debugging,
#          lockdep, DEBUG_OBJECTS, kmemleak, UBSAN, DEBUG_LIST and the
#          lockup detectors (base.config, debug.config); after the unload a
#          kmemleak scan.
#   kcsan  `make check-kcsan`, label 7.x-kcsan: KCSAN in strict mode
#          (kcsan.config); a race with an access in aiodev's code fails
#          the run.
# The same guest steps run as in `make check`, the stress test for
# AIODEV_STRESS_SECONDS (60), the fuzzer for AIODEV_FUZZ_CALLS (200000);
# any report of a detector in the console fails the run.
# Ends with "N passed, N failed".
#
# The defaults below suit TCG with the sanitizers (everything runs several
# times slower than in `make check`); each can be overridden from the
# environment or on the make command line.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")

case ${1:-debug} in
debug)
	export AIODEV_KERNELS=7.x-debug
	export AIODEV_KMEMLEAK=1
	;;
kcsan) export AIODEV_KERNELS=7.x-kcsan ;;
*)
	echo "usage: check-debug.sh [debug|kcsan]" >&2
	exit 2
	;;
esac
# KASAN's shadow takes an eighth of the memory, kmemleak and lockdep more.
export AIODEV_VM_MEM=${AIODEV_VM_MEM:-3G}
export AIODEV_VM_TIMEOUT=${AIODEV_VM_TIMEOUT:-2700}
export AIODEV_TEST_TIMEOUT=${AIODEV_TEST_TIMEOUT:-900}
export AIODEV_HUNG_TASK_SECS=${AIODEV_HUNG_TASK_SECS:-120}
export AIODEV_FIO_TIMEOUT=${AIODEV_FIO_TIMEOUT:-600}
export AIODEV_STRESS_SECONDS=${AIODEV_STRESS_SECONDS:-60}
export AIODEV_URING_STRESS_SECONDS=${AIODEV_URING_STRESS_SECONDS:-120}
# 1,000,000 calls (make check's) take over 5 minutes under KASAN in TCG.
export AIODEV_FUZZ_CALLS=${AIODEV_FUZZ_CALLS:-200000}
# Submitting fio's 64 requests takes ~20 ms there: latencies that let
# the whole-device run's queue get deep, still jittered out of order.
export AIODEV_FIO_WHOLE_LATENCY_NS=${AIODEV_FIO_WHOLE_LATENCY_NS:-20000000}
export AIODEV_FIO_WHOLE_JITTER_NS=${AIODEV_FIO_WHOLE_JITTER_NS:-20000000}
# The host gates (checkpatch, sparse, DKMS, ...) belong to `make check`.
export AIODEV_SKIP_GATES=${AIODEV_SKIP_GATES:-1}

exec bash "$here/check.sh"
