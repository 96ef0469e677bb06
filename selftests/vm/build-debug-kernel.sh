#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# build-debug-kernel.sh FLAVOUR: build, once, a kernel from source: debug
# (label 7.x-debug, `make check-debug`) or kcsan (7.x-kcsan, `make
# check-kcsan`). Debian's newest linux-source-7.x in the Debian 13 build
# root (debian13-root.sh --source, whose compiler and glibc the 7.x kbuild
# needs), `make tinyconfig`, base.config and FLAVOUR.config merged over
# it, `make olddefconfig`, then a check that every option of both
# fragments came out as written. A quick no-op when the cache is complete.
#
# Cache layout, $AIODEV_CACHE/FLAVOUR-<key>/ (key: src_kernel_dir in lib.sh):
#   src/                      the configured, fully built kernel tree; the
#                             module builds against it (KDIR, in the root)
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
flavour=${1:?usage: build-debug-kernel.sh debug|kcsan}
[[ " $SRC_FLAVOURS " == *" $flavour "* ]] ||
	die "unknown flavour '$flavour' (known: $SRC_FLAVOURS)"
fragments=("$VM_DIR/base.config" "$VM_DIR/$flavour.config")
jobs=${AIODEV_DEBUG_JOBS:-$(nproc)}
dir=$(src_kernel_dir "$flavour")

[[ -f $dir/complete ]] && exit 0
pkg=$(cat "$D13_DIR/source-7.x")
tarball=$D13_ROOT/usr/src/$pkg.tar.xz
[[ -r $tarball ]] || die "$tarball missing (run selftests/vm/debian13-root.sh --source)"

# One build per key at a time: a second `make check-debug` waits for the
# first one's kernel instead of building it again beside it.
mkdir -p "$CACHE"
exec 9>"$dir.lock"
if ! flock -n 9; then
	log "waiting for another build of ${dir##*/}"
	flock 9
fi
[[ -f $dir/complete ]] && exit 0

# verify_config CONFIG: every line of the fragments holds in CONFIG.
verify_config() {
	local cfg=$1 line sym bad=0
	while read -r line; do
		if [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
			sym=${BASH_REMATCH[1]}
			if grep -q "^$sym=" "$cfg"; then
				log "$flavour: wanted '$line', got '$(grep "^$sym=" "$cfg")'"
				bad=1
			fi
		elif [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)= ]]; then
			sym=${BASH_REMATCH[1]}
			if ! grep -qxF "$line" "$cfg"; then
				log "$flavour: wanted '$line', got '$(grep -E "^$sym=|^# $sym is not set" "$cfg" || echo "(absent: a dependency is missing)")'"
				bad=1
			fi
		fi
	done < <(cat "${fragments[@]}")
	return "$bad"
}

t0=$SECONDS
# Kernels of this flavour built from older fragments or sources: a
# gigabyte or two each, never booted again.
for old in "$CACHE/$flavour"-*; do
	[[ -d $old && $old != "$dir" ]] || continue
	log "removing the outdated ${old##*/}"
	rm -rf "$old" "$old.lock"
done
rm -rf "$dir"
mkdir -p "$dir"
blog=$dir/build.log
log "building the $flavour kernel from $pkg into $dir (make -j$jobs; log: $blog)"
tar -xJf "$tarball" -C "$dir"
mv "$dir/$pkg" "$dir/src"
src=$dir/src

# kmake ARGS...: make in the kernel tree, in the build root, output to
# the log. The root sees $dir at the same path.
kmake() {
	if ! in_d13 make -C "$src" "$@" >>"$blog" 2>&1; then
		tail -n 40 "$blog" >&2
		die "kernel make $* failed (log: $blog)"
	fi
}
kmake tinyconfig
# The root sees the cache, not this tree: the fragments go along.
cp "${fragments[@]}" "$dir/"
# shellcheck disable=SC2016 # expanded by the inner sh
in_d13 sh -c 'cd "$1" && shift && scripts/kconfig/merge_config.sh -m .config "$@"' \
	sh "$src" "$dir/base.config" "$dir/$flavour.config" >>"$blog" 2>&1 ||
	die "merge_config.sh failed (log: $blog)"
kmake olddefconfig
verify_config "$src/.config" ||
	die "the $flavour kernel's config lacks options of its fragments (see above)"

kmake -j"$jobs" bzImage modules
kv=$(in_d13 make -s -C "$src" kernelrelease)
[[ $kv == *-aiodev-$flavour ]] || die "unexpected kernel release '$kv'"
kmake INSTALL_MOD_PATH="$dir/root" modules_install
# Links back into the tree; the initramfs doesn't want them.
rm -f "$dir/root/lib/modules/$kv/build" "$dir/root/lib/modules/$kv/source"

cp "$src/arch/x86/boot/bzImage" "$dir/vmlinuz"
cp "$src/.config" "$dir/config"
cp "$src/System.map" "$dir/System.map"
echo "$kv" >"$dir/kernelrelease"
touch "$dir/complete"
log "$flavour kernel $kv built in $((SECONDS - t0)) s"
