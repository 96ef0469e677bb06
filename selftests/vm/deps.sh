#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and the VM tests need. A fresh CI
# machine has none of them; on a prepared one this is a quick no-op.
# deps.sh --vm installs only what aiodev-vm needs.
set -euo pipefail

pkgs=(
	gcc make libc6-dev kmod
	linux-headers-amd64 linux-headers-6.12-amd64 linux-headers-6.12-rt-amd64
	qemu-system-x86 busybox-static cpio xz-utils
	# the Debian 13 root that builds for, downloads and builds from
	# source (make check-debug, check-kcsan) the 7.x kernels
	debootstrap
	libaio-dev liburing-dev fio sparse linux-source-6.12
	# host-gates.sh: DKMS builds, -m32 selftests, man pages, pkg-config,
	# checkpatch.pl and get_abi.pl (perl);
	# clang-format for the .clang-format at the root (not a gate).
	dkms gcc-multilib groff man-db pkg-config clang-format perl
)

# --vm: only what aiodev-vm needs (a CI container running users' programs).
if [[ ${1:-} == --vm ]]; then
	pkgs=(
		gcc make libc6-dev kmod
		linux-headers-amd64 linux-headers-6.12-amd64 linux-headers-6.12-rt-amd64
		qemu-system-x86 busybox-static cpio xz-utils debootstrap
		# the CLIs it puts in the VM (aiodev-aio links libaio)
		libaio-dev
	)
fi

missing=()
for p in "${pkgs[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

echo "[vm] installing: ${missing[*]}" >&2
sudo=()
((EUID == 0)) || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
