#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-module.sh KVER: build the module for one kernel out of tree, in
# build/<kver>/ (result: build/<kver>/kmod/aiodev.ko), with W=1; any compiler or modpost warning fails the build.
# Each kernel gets its own copy of the sources so that builds for different
# kernels never share (or clobber) objects in the source tree.
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kv=${1:?usage: build-module.sh KVER}
src=${AIODEV_SRC:-$ROOT}
hdr=$(headers_dir "$kv")
out=$BUILD/$kv
blog=$LOGS/$kv-build.log

[[ -d $hdr ]] || die "no headers for $kv in $hdr (run selftests/vm/deps.sh)"
[[ -f $src/Kbuild && -d $src/kmod ]] || die "no module sources (Kbuild, kmod/) in $src"

rm -rf "$out"
mkdir -p "$out" "$LOGS"
# Sources only: objects from an in-place build belong to another kernel.
tar -C "$src" -c \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='*.a' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='.*.d' \
	Kbuild kmod uapi | tar -C "$out" -x

log "building module for $kv"
rc=0
if in_d13_tree "$kv"; then
	# Built where its kbuild programs run: in the Debian 13 root, which
	# sees the build directory (and the cache) at the same paths.
	in_d13 make -C "${hdr#"$D13_ROOT"}" M="$out" W=1 modules >"$blog" 2>&1 || rc=$?
else
	make -C "$hdr" M="$out" W=1 modules >"$blog" 2>&1 || rc=$?
fi
if ((rc != 0)); then
	tail -n 40 "$blog" >&2
	die "module build for $kv failed (log: ${blog#"$ROOT"/})"
fi
if grep -Ei '(^|[^[:alnum:]_])warning:' "$blog" >&2; then
	die "module build for $kv has warnings (log: ${blog#"$ROOT"/})"
fi

ko=$out/kmod/aiodev.ko
[[ -f $ko ]] || die "build produced no kmod/aiodev.ko"
vm=$(modinfo -F vermagic "$ko")
[[ ${vm%% *} == "$kv" ]] || die "vermagic '$vm' of $ko does not match $kv"
