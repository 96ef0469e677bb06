#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# debian13-root.sh: the Debian 13 (trixie) root that builds the module for
# the 7.x kernels. Their kbuild programs need glibc >= 2.38 and Debian 12
# has 2.36, so the build runs chrooted in $AIODEV_CACHE/debian13/root
# (debootstrap, once), which also downloads the kernel images.
#
# Every run refreshes the package lists (at most every 6 hours) and
# resolves the newest 7.x of trixie-backports: $D13_DIR/kver-7.x and
# kver-7.x-rt hold the kernel releases (e.g. 7.3.4+deb13-amd64), whose
# headers are then installed in the root. With --source it also installs
# the newest linux-source-7.x there (the kernels built from source,
# build-debug-kernel.sh) and names it in $D13_DIR/source-7.x. A new upload
# is picked up by the next run; nothing here names a version.
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

want_source=0
case ${1-} in
--source) want_source=1 ;;
"") ;;
*) die "usage: debian13-root.sh [--source]" ;;
esac
((EUID == 0)) || die "debian13-root.sh needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap missing (run selftests/vm/deps.sh)"

# The host's Debian mirror, as its apt is configured: the one serving
# the host release's main component.
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# shellcheck disable=SC2016 # apt's own $(FIELD) syntax
mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
	'Created-By: Packages' 2>/dev/null |
	awk -v c="$codename" '$2 == c && $3 == "main" { print $1; exit }')
mirror=${mirror%/}
[[ -n $mirror ]] || die "cannot find the host's Debian mirror (apt-get update?)"

mkdir -p "$D13_DIR"
exec 9>"$D13_DIR/lock"
flock 9

if [[ ! -f $D13_DIR/complete ]]; then
	log "creating the Debian 13 build root (debootstrap, about a minute)"
	rm -rf "$D13_ROOT" "$D13_ROOT.tmp"
	debootstrap --variant=minbase \
		--include=gcc,make,libc6-dev,bc,flex,bison,libelf-dev,libssl-dev,xz-utils,kmod,cpio \
		trixie "$D13_ROOT.tmp" "$mirror" >"$D13_DIR/debootstrap.log" 2>&1 ||
		die "debootstrap failed (log: $D13_DIR/debootstrap.log)"
	echo "deb $mirror trixie-backports main" \
		>"$D13_ROOT.tmp/etc/apt/sources.list.d/trixie-backports.list"
	mv "$D13_ROOT.tmp" "$D13_ROOT"
	rm -f "$D13_DIR/updated"
	touch "$D13_DIR/complete"
fi

if [[ -z $(find "$D13_DIR/updated" -mmin -360 2>/dev/null) ]]; then
	log "refreshing the Debian 13 package lists"
	in_d13 apt-get update -q >"$D13_DIR/update.log" 2>&1 ||
		die "apt-get update in the build root failed (log: $D13_DIR/update.log)"
	touch "$D13_DIR/updated"
fi

# newest FLAVOUR: the newest 7.x kernel release with headers, e.g.
# 7.3.4+deb13-amd64 for "amd64", 7.3.4+deb13-rt-amd64 for "rt-amd64".
newest() {
	in_d13 apt-cache search --names-only "^linux-headers-7\.[0-9.]+\+deb13-$1\$" |
		sed -n "s/^linux-headers-\(7[^ ]*-$1\) .*/\1/p" | sort -V | tail -n1
}

for flavour in amd64 rt-amd64; do
	kv=$(newest "$flavour")
	[[ -n $kv ]] || die "no 7.x linux-headers-*-$flavour in trixie-backports"
	label=7.x
	[[ $flavour == rt-* ]] && label=7.x-rt
	if [[ ! -d $D13_ROOT/usr/src/linux-headers-$kv ]]; then
		log "installing linux-headers-$kv in the build root"
		in_d13 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends "linux-headers-$kv" \
			>"$D13_DIR/install.log" 2>&1 ||
			die "installing linux-headers-$kv failed (log: $D13_DIR/install.log)"
	fi
	echo "$kv" >"$D13_DIR/kver-$label"
done

((want_source)) || exit 0
# The newest linux-source-7.x, e.g. linux-source-7.3.
src=$(in_d13 apt-cache search --names-only '^linux-source-7\.[0-9]+$' |
	awk '{ print $1 }' | sort -V | tail -n1)
[[ -n $src ]] || die "no linux-source-7.x in trixie-backports"
# Installed, or upgraded to a new upload; a no-op otherwise.
in_d13 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends "$src" >"$D13_DIR/install.log" 2>&1 ||
	die "installing $src failed (log: $D13_DIR/install.log)"
echo "$src" >"$D13_DIR/source-7.x"
