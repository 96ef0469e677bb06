#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: boot the 6.12 kernel (AIODEV_DEMO_KERNEL) with the module
# and run `aiodev demo` in the guest, its output on this terminal. The boot
# itself is quiet; the guest turns kernel messages back on before the demo.
# Exits non-zero if the demo or the module failed.
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$ROOT"
label=${AIODEV_DEMO_KERNEL:-6.12}
"$VM_DIR/deps.sh"
"$VM_DIR/fetch-kernel.sh" "$label"
kv=$(kver "$label")
if [[ ${AIODEV_SKIP_BUILD:-0} != 1 ]]; then
	"${MAKE:-make}" -C "$ROOT" userspace
fi
"$VM_DIR/build-module.sh" "$kv"
"$VM_DIR/mkinitramfs.sh" "$kv" demo "$BUILD/$kv/initramfs-demo.cpio"

clog=$LOGS/$kv-demo.log
rlog=$LOGS/$kv-demo.tap
log "booting $kv (console log: ${clog#"$ROOT"/})"
rc=0
AIODEV_VM_TIMEOUT=${AIODEV_VM_TIMEOUT:-300} \
	AIODEV_VM_APPEND="quiet ${AIODEV_VM_APPEND:-}" \
	"$VM_DIR/run-vm.sh" -i "$kv" "$BUILD/$kv/initramfs-demo.cpio" "$clog" "$rlog" || rc=$?

read -r p f < <(count_results "$rlog")
((rc == 0)) || { echo "  FAIL: VM exit status $rc (124: timeout)" >&2; f=$((f + 1)); }
scan_splats "$clog" || f=$((f + 1))
if ((f)); then
	echo "demo on $kv: FAIL ($f problems; log: ${clog#"$ROOT"/})"
	exit 1
fi
echo "demo on $kv: PASS ($p checks)"
