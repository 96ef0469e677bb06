#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-debug-kernel.sh: build, once, the kernel of `make check-debug`
# (label 6.12-debug): Debian's linux-source-6.12, `make tinyconfig`, the
# fragment debug.config merged over it, `make olddefconfig`, then a check
# that every option of the fragment came out as written. A quick no-op when
# the cache is complete.
#
# Cache layout, $AIODEV_CACHE/debug-<key>/ (key: see debug_dir in lib.sh):
#   src/                      the configured, fully built kernel tree; the
#                             module builds against it (KDIR)
#   vmlinuz, config, System.map, kernelrelease
#   root/lib/modules/<kver>/  modules_install output (null_blk, configfs)
#   build.log                 the kernel build's output
#   complete                  stamp: everything above is in place
# Environment: AIODEV_CACHE, AIODEV_DEBUG_JOBS (make -j, default nproc).
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The kernel build is its own: no flags (-n, -k, a jobserver) from a make
# that runs us.
unset MAKEFLAGS MFLAGS MAKELEVEL
tarball=/usr/src/linux-source-6.12.tar.xz
jobs=${AIODEV_DEBUG_JOBS:-$(nproc)}
dir=$(debug_dir)

[[ -f $dir/complete ]] && exit 0
[[ -r $tarball ]] || die "$tarball missing (run selftests/vm/deps.sh)"
for t in flex bison bc; do
	command -v "$t" >/dev/null || die "$t missing (run selftests/vm/deps.sh)"
done

# One build per key at a time: a second `make check-debug` waits for the
# first one's kernel instead of building it again beside it.
mkdir -p "$CACHE"
exec 9>"$dir.lock"
if ! flock -n 9; then
	log "waiting for another build of ${dir##*/}"
	flock 9
fi
[[ -f $dir/complete ]] && exit 0

# verify_config CONFIG: every line of the fragment holds in CONFIG.
verify_config() {
	local cfg=$1 line sym bad=0
	while read -r line; do
		if [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -q "^$sym=" "$cfg"; then
				log "debug.config: wanted '$line', got '$(grep "^$sym=" "$cfg")'"
				bad=1
			fi
		elif [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
			sym=${BASH_REMATCH[1]}
			if ! grep -qxF "$line" "$cfg"; then
				log "debug.config: wanted '$line', got '$(grep -E "^$sym=|^# $sym is not set" "$cfg" || echo "(absent: a dependency is missing)")'"
				bad=1
			fi
		fi
	done <"$DEBUG_CONFIG"
	return "$bad"
}

t0=$SECONDS
rm -rf "$dir"
mkdir -p "$dir"
blog=$dir/build.log
ver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
log "building the debug kernel from linux-source-6.12 $ver into $dir (make -j$jobs; log: $blog)"
tar -xJf "$tarball" -C "$dir"
mv "$dir/linux-source-6.12" "$dir/src"
src=$dir/src

# kmake ARGS...: make in the kernel tree, output to the log.
kmake() {
	if ! make -C "$src" "$@" >>"$blog" 2>&1; then
		tail -n 40 "$blog" >&2
		die "kernel make $* failed (log: $blog)"
	fi
}
kmake tinyconfig
(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$DEBUG_CONFIG") >>"$blog" 2>&1 ||
	die "merge_config.sh failed (log: $blog)"
kmake olddefconfig
verify_config "$src/.config" ||
	die "the debug kernel's config lacks options of debug.config (see above)"

kmake -j"$jobs" bzImage modules
kv=$(make -s -C "$src" kernelrelease)
[[ $kv == *"$DEBUG_LOCALVERSION" ]] || die "unexpected kernel release '$kv'"
kmake INSTALL_MOD_PATH="$dir/root" modules_install
# Links back into the tree; the initramfs doesn't want them.
rm -f "$dir/root/lib/modules/$kv/build" "$dir/root/lib/modules/$kv/source"

cp "$src/arch/x86/boot/bzImage" "$dir/vmlinuz"
cp "$src/.config" "$dir/config"
cp "$src/System.map" "$dir/System.map"
echo "$kv" >"$dir/kernelrelease"
touch "$dir/complete"
log "debug kernel $kv built in $((SECONDS - t0)) s"
