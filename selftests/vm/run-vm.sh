#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# run-vm.sh [-i] KVER INITRD CONSOLE_LOG RESULTS_LOG: boot the cached
# Debian kernel KVER with INITRD under QEMU/TCG, bounded by a host timeout.
# The console (ttyS0) is logged to CONSOLE_LOG, the guest's results port
# (ttyS1) to RESULTS_LOG. The console is shown on stdout only with -i
# (interactive: the terminal is attached, Ctrl-A x quits) or
# AIODEV_VM_VERBOSE=1. Exit status: QEMU's, 124 on timeout.
#
# Environment: AIODEV_VM_MEM (1G), AIODEV_VM_SMP (2), AIODEV_VM_TIMEOUT
# (seconds, 600), AIODEV_VM_APPEND (extra kernel command line),
# AIODEV_VM_QEMU_ARGS (extra QEMU arguments, word-split), AIODEV_VM_QEMU_ARGV
# (a file of more, NUL-separated), AIODEV_VM_CPU
# (the -cpu model; see vm_cpu in lib.sh).
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

interactive=0
if [[ ${1:-} == -i ]]; then
	interactive=1
	shift
fi
(($# == 4)) || die "usage: run-vm.sh [-i] KVER INITRD CONSOLE_LOG RESULTS_LOG"
kv=$1 initrd=$2 clog=$3 rlog=$4
kernel=$(kernel_cache "$kv")/vmlinuz
[[ -f $kernel ]] || die "no cached kernel $kernel (run fetch-kernel.sh)"

mkdir -p "$(dirname "$clog")" "$(dirname "$rlog")"
: >"$clog"
: >"$rlog"

# KVM guests hang on this infrastructure: always TCG. oops=panic plus
# panic=-1 and -no-reboot turn an oops into an immediate QEMU exit rather
# than a hang until the timeout; hung-task reports still come through.
# qboot (from qemu-system-data) boots the kernel directly and, unlike
# SeaBIOS without a VGA card, writes nothing to the serial console.
append="console=ttyS0 panic=-1 oops=panic edd=off ${AIODEV_VM_APPEND:-}"
read -ra extra <<<"${AIODEV_VM_QEMU_ARGS:-}"
# Arguments that may hold spaces (aiodev-vm's paths): NUL-separated.
if [[ -n ${AIODEV_VM_QEMU_ARGV:-} ]]; then
	mapfile -d '' -O "${#extra[@]}" extra <"$AIODEV_VM_QEMU_ARGV"
fi
# shellcheck disable=SC2054 # commas are QEMU option syntax
qemu=(
	qemu-system-x86_64 -accel tcg -cpu "$(vm_cpu)"
	-smp "${AIODEV_VM_SMP:-2}" -m "${AIODEV_VM_MEM:-1G}"
	-nographic -nodefaults -no-user-config -no-reboot
	-bios qboot.rom
	-kernel "$kernel" -initrd "$initrd" -append "$append"
	-chardev "stdio,id=con,mux=on,logfile=$clog"
	-serial chardev:con -mon chardev=con,mode=readline
	-serial "file:$rlog"
	"${extra[@]}"
)

# --foreground: QEMU may read the terminal (interactive demo) and gets
# Ctrl-C; -k: a QEMU that ignores SIGTERM is killed 10 s later.
tmo=(timeout --foreground -k 10 "${AIODEV_VM_TIMEOUT:-600}")
rc=0
if ((interactive)); then
	"${tmo[@]}" "${qemu[@]}" || rc=$?
elif [[ ${AIODEV_VM_VERBOSE:-0} == 1 ]]; then
	"${tmo[@]}" "${qemu[@]}" </dev/null || rc=$?
else
	"${tmo[@]}" "${qemu[@]}" </dev/null >/dev/null || rc=$?
fi
exit "$rc"
