#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# mkinitramfs.sh KVER PAYLOAD OUT: pack the test VM's root filesystem into
# an uncompressed cpio (the kernel unpacks it faster than it could inflate
# one, and the host skips compressing). PAYLOAD is the guest script /init
# runs: check (guest-check.sh), demo (guest-demo.sh) or run (guest-run.sh,
# for aiodev-vm).
#
# Guest layout:
#   /init                  guest-init.sh
#   /vm/config             settings for the guest scripts (from the env)
#   /vm/guest-*.sh         payloads and their TAP helpers
#   /vm/guest.d/*.sh       extra check steps (selftests/vm/guest.d)
#   /vm/aiodev.ko          the module built for KVER
#   /vm/tests/             every executable of selftests/out/
#   /vm/tests.expected     the programs the guest must run: selftests/out/
#                          expected-programs (the Makefile's list)
#   /usr/bin/              every program in userspace/ (the aiodev CLI),
#                          plus $AIODEV_VM_HOST_BINS (e.g. "fio")
#   /lib/modules/KVER/     the cached kernel modules (null_blk, 9p, ...)
#   /vm/run/, /vm/host/    aiodev-vm only: AIODEV_VM_EXTRA_ROOT's files, and
#                          AIODEV_VM_HOST_PROGS under /vm/host/<host path>
# AIODEV_KO names another module file than build/KVER/kmod/aiodev.ko.
# Dynamically linked programs bring their ldd closure along.
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kv=${1:?usage: mkinitramfs.sh KVER PAYLOAD OUT}
payload=${2:?usage: mkinitramfs.sh KVER PAYLOAD OUT}
out=${3:?usage: mkinitramfs.sh KVER PAYLOAD OUT}
tests_dir=${AIODEV_TESTS_DIR:-$ROOT/selftests/out}
user_dir=${AIODEV_USERSPACE_DIR:-$ROOT/userspace}
ko=${AIODEV_KO:-$BUILD/$kv/kmod/aiodev.ko}
kcache=$(kernel_cache "$kv")

[[ -f $VM_DIR/guest-$payload.sh ]] || die "no guest payload guest-$payload.sh"
[[ -f $ko ]] || die "no module for $kv at $ko (run build-module.sh $kv)"

stage=$BUILD/$kv/initramfs-$payload
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,vm/tests,vm/guest.d}

# copy_prog SRC DST: install a program and, if it is dynamically linked,
# the shared libraries ldd resolves for it (same paths as on the host).
copy_prog() {
	local src=$1 dst=$2 lib
	install -D -m 0755 "$src" "$stage$dst"
	# ldd fails on static binaries and scripts: nothing more to copy then.
	while read -r lib; do
		[[ -e $stage$lib ]] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done < <(ldd "$src" 2>/dev/null |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
}

# busybox provides the shell, insmod/rmmod, timeout, poweroff, ...
bb=$(command -v busybox) || die "busybox not found (install busybox-static)"
copy_prog "$bb" /bin/busybox
while read -r applet; do
	[[ $applet == bin/busybox || -e $stage/$applet ]] && continue
	ln -s /bin/busybox "$stage/$applet"
done < <("$bb" --list-full)

install -m 0755 "$VM_DIR/guest-init.sh" "$stage/init"
install -m 0644 "$VM_DIR"/guest-*.sh "$stage/vm/"
if compgen -G "$VM_DIR/guest.d/*.sh" >/dev/null; then
	install -m 0644 "$VM_DIR"/guest.d/*.sh "$stage/vm/guest.d/"
fi
install -m 0644 "$ko" "$stage/vm/aiodev.ko"

# %q quoting is bash-only; values are plain words and numbers, so a
# single-quoted form that busybox sh reads back safely is enough.
q() { printf "'%s'" "${1//\'/}"; }
{
	echo "AIODEV_PAYLOAD=$(q "guest-$payload.sh")"
	echo "AIODEV_TEST_TIMEOUT=$(q "${AIODEV_TEST_TIMEOUT:-300}")"
	echo "AIODEV_HUNG_TASK_SECS=$(q "${AIODEV_HUNG_TASK_SECS:-60}")"
	echo "AIODEV_STEPS=$(q "${AIODEV_STEPS:-}")"
	echo "AIODEV_TESTS=$(q "${AIODEV_TESTS:-}")"
	echo "AIODEV_DEMO_ARGS=$(q "${AIODEV_DEMO_ARGS:-}")"
	# Exported to the tests only when set, so that the programs' own
	# defaults apply otherwise. AIODEV_KMEMLEAK=1 (check-debug) makes the
	# kmemleak steps fail if the kernel has no kmemleak.
	for v in AIODEV_STRESS_SECONDS AIODEV_STRESS_THREADS AIODEV_FUZZ_CALLS \
		AIODEV_URING_STRESS_SECONDS \
		AIODEV_FIO_TIMEOUT AIODEV_FIO_SIZE AIODEV_FIO_WHOLE_LATENCY_NS \
		AIODEV_FIO_WHOLE_JITTER_NS AIODEV_KMEMLEAK; do
		[[ -z ${!v:-} ]] || echo "export $v=$(q "${!v}")"
	done
} >"$stage/vm/config"

printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"

if [[ -d $tests_dir ]]; then
	for f in "$tests_dir"/*; do
		if [[ -f $f && -x $f ]]; then
			copy_prog "$f" "/vm/tests/${f##*/}"
		fi
	done
fi
# The programs the guest must run (guest-check.sh): the selftests
# Makefile's list, or for another AIODEV_TESTS_DIR what is in it.
if [[ -f $tests_dir/expected-programs ]]; then
	cp "$tests_dir/expected-programs" "$stage/vm/tests.expected"
elif [[ -n ${AIODEV_TESTS_DIR:-} && -d $tests_dir ]]; then
	find "$tests_dir" -maxdepth 1 -type f -perm -u+x -printf '%f\n' | sort \
		>"$stage/vm/tests.expected"
fi
if [[ -d $user_dir ]]; then
	for f in "$user_dir"/*; do
		# Programs only: the shared library is executable too.
		if [[ -f $f && -x $f && $f != *.so && $f != *.so.* &&
			${f##*/} != aiodev-vm ]]; then
			copy_prog "$f" "/usr/bin/${f##*/}"
		fi
	done
fi
for p in ${AIODEV_VM_HOST_BINS:-}; do
	path=$(command -v "$p") || die "AIODEV_VM_HOST_BINS: $p not found"
	copy_prog "$path" "/usr/bin/${p##*/}"
done
# aiodev-vm: the user's programs under /vm/host (guest-run.sh puts them
# at their own paths once /tmp and the shares are mounted), and the run's
# files (/vm/run).
for p in ${AIODEV_VM_HOST_PROGS:-}; do
	copy_prog "$p" "/vm/host$p"
done
if [[ -n ${AIODEV_VM_EXTRA_ROOT:-} ]]; then
	cp -a "$AIODEV_VM_EXTRA_ROOT/." "$stage/"
fi

if [[ -d $kcache/root/lib/modules ]]; then
	mkdir -p "$stage/lib"
	cp -a "$kcache/root/lib/modules" "$stage/lib/"
fi

# The kernel opens /dev/console before /init runs; /init copes without it
# (it mounts devtmpfs first), but the node avoids a boot-time complaint.
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
