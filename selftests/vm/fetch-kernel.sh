#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# fetch-kernel.sh LABEL...: download the Debian image matching the installed
# headers of each kernel (6.1, 6.12) once, and keep in the cache only what
# the VM needs: vmlinuz and a small set of decompressed modules. The 7.x
# kernels come from trixie-backports, through the Debian 13 build root
# (debian13-root.sh), as linux-binary-unsigned + linux-modules.
#
# Cache layout, $AIODEV_CACHE/kernels/<kver>/:
#   vmlinuz, config, System.map
#   debs/*.deb                  kept so the module set can change offline
#   root/lib/modules/<kver>/    decompressed .ko subset + depmod output
#   kmods                       the module names the subset was made for
#   complete                    stamp: everything above is in place
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Modules a guest step may need later (block/fs tests); their dependencies
# come along. Absent or built-in ones are skipped.
KMODS=${AIODEV_KMODS:-null_blk 9p 9pnet_virtio virtio_pci virtio_console}

# fetch_d13_debs KVER DIR: the 7.x image and modules, downloaded in the
# root (which sees DIR at the same path).
fetch_d13_debs() {
	local kver=$1 dir=$2 tmp
	mkdir -p "$dir/debs"
	if compgen -G "$dir/debs/linux-modules-${kver}_*.deb" >/dev/null; then
		return
	fi
	log "downloading linux-binary-unsigned-$kver and linux-modules-$kver"
	tmp=$(mktemp -d "$dir/debs/.dl.XXXXXX")
	# shellcheck disable=SC2016 # expanded by the inner sh
	in_d13 sh -c 'cd "$1" && apt-get download -q -o APT::Sandbox::User=root \
		"linux-binary-unsigned-$2" "linux-modules-$2"' sh "$tmp" "$kver" >&2 ||
		die "cannot download the $kver image (is the build root's list old? rm $D13_DIR/updated)"
	mv "$tmp"/*.deb "$dir/debs/"
	rmdir "$tmp"
}

fetch_deb() {
	local kver=$1 dir=$2 pkg ver
	if in_d13_tree "$kver"; then
		fetch_d13_debs "$kver" "$dir"
		return
	fi
	pkg=linux-image-$kver
	ver=$(dpkg-query -W -f='${Version}' "linux-headers-$kver")
	mkdir -p "$dir/debs"
	if compgen -G "$dir/debs/${pkg}_*.deb" >/dev/null; then
		return
	fi
	log "downloading $pkg=$ver"
	# apt-get download writes to the current directory; use a temp dir so
	# an interrupted download never looks like a cached one.
	local tmp
	tmp=$(mktemp -d "$dir/debs/.dl.XXXXXX")
	# As root, apt would otherwise warn that its _apt sandbox user cannot
	# write into our private temp dir.
	local opts=(-q)
	((EUID != 0)) || opts+=(-o APT::Sandbox::User=root)
	if ! (cd "$tmp" && apt-get download "${opts[@]}" "$pkg=$ver"); then
		log "download failed; refreshing package lists and retrying"
		apt-get update -q >&2
		(cd "$tmp" && apt-get download "${opts[@]}" "$pkg=$ver") ||
			die "cannot download $pkg=$ver (is linux-headers-$kver outdated? apt-get install --only-upgrade the headers metapackage)"
	fi
	mv "$tmp"/*.deb "$dir/debs/"
	rmdir "$tmp"
}

# Print the transitive dependencies of module $1 (itself included) as
# paths relative to the modules dir, dependencies first.
mod_closure() {
	local moddir=$1 name=${2//-/_} line path deps d
	[[ -f $moddir/modules.dep ]] || die "no modules.dep in $moddir"
	line=$(awk -v n="$name" '{
		p = $1; sub(/:$/, "", p); b = p; sub(/.*\//, "", b)
		sub(/\.ko(\.(xz|zst|gz))?$/, "", b); gsub(/-/, "_", b)
		if (b == n) { print; exit }
	}' "$moddir/modules.dep")
	[[ -n $line ]] || return 0
	path=${line%%:*}
	deps=${line#*:}
	for d in $deps; do
		echo "$d"
	done | tac
	echo "$path"
}

extract() {
	local kver=$1 dir=$2 tmp moddir rel dst list deb vmlinuz
	tmp=$(mktemp -d "$dir/.x.XXXXXX")
	log "extracting the $kver image"
	for deb in "$dir"/debs/*.deb; do
		dpkg-deb -x "$deb" "$tmp"
	done
	# Debian 12 ships lib/modules, newer layouts usr/lib/modules.
	moddir=$(find "$tmp" -maxdepth 4 -type d -path "*/modules/$kver" | head -n1)
	[[ -n $moddir ]] || die "no modules directory for $kver in its packages"
	# boot/vmlinuz-KVER (Debian 12), or the unsigned image of 7.x.
	vmlinuz=$tmp/boot/vmlinuz-$kver
	[[ -f $vmlinuz ]] || vmlinuz=$moddir/vmlinuz.unsigned
	[[ -f $vmlinuz ]] || die "no kernel image for $kver in its packages"
	# The package leaves modules.dep to its postinst; make it ourselves.
	depmod -b "${moddir%/lib/modules/*}" "$kver"
	cp "$vmlinuz" "$dir/vmlinuz"
	cp "$tmp/boot/config-$kver" "$dir/config" 2>/dev/null ||
		cp "$(headers_dir "$kver")/.config" "$dir/config" 2>/dev/null || true
	cp "$tmp/boot/System.map-$kver" "$dir/System.map" 2>/dev/null || true

	rm -rf "$dir/root"
	local out=$dir/root/lib/modules/$kver m
	mkdir -p "$out"
	cp "$moddir"/modules.order "$moddir"/modules.builtin* "$out/" 2>/dev/null || true
	for m in $KMODS; do
		list=$(mod_closure "$moddir" "$m")
		while read -r rel; do
			[[ -n $rel ]] || continue
			dst=$out/${rel%.*}
			[[ $rel == *.ko ]] && dst=$out/$rel
			[[ -e $dst ]] && continue
			mkdir -p "$(dirname "$dst")"
			# busybox insmod/modprobe cannot read compressed modules.
			case $rel in
			*.ko.xz) xz -dc "$moddir/$rel" >"$dst" ;;
			*.ko.zst) zstd -dqc "$moddir/$rel" >"$dst" ;;
			*.ko.gz) gzip -dc "$moddir/$rel" >"$dst" ;;
			*) cp "$moddir/$rel" "$dst" ;;
			esac
		done <<<"$list"
	done
	depmod -b "$dir/root" "$kver"
	rm -rf "$tmp"
	echo "$KMODS" >"$dir/kmods"
}

# The 7.x labels are resolved in the Debian 13 build root; the kernels
# built from source need its linux-source-7.x too.
need_root=0
root_args=()
for label in "$@"; do
	case $label in
	7.x | 7.x-rt) need_root=1 ;;
	7.x-*) need_root=1 root_args=(--source) ;;
	esac
done
((!need_root)) || "$VM_DIR/debian13-root.sh" "${root_args[@]}"

for label in "$@"; do
	flavour=$(src_flavour "$label")
	if [[ -n $flavour ]]; then
		"$VM_DIR/build-debug-kernel.sh" "$flavour"
		continue
	fi
	kv=$(kver "$label")
	dir=$(kernel_cache "$kv")
	if [[ -f $dir/complete && $(cat "$dir/kmods" 2>/dev/null) == "$KMODS" ]]; then
		continue
	fi
	mkdir -p "$dir"
	rm -f "$dir/complete"
	fetch_deb "$kv" "$dir"
	extract "$kv" "$dir"
	touch "$dir/complete"
	log "kernel $kv cached in $dir"
done
