# SPDX-License-Identifier: GPL-2.0
# Common helpers for the VM test scripts; sourced, never run.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the sourcing scripts

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$VM_DIR/../.." && pwd)
BUILD=$ROOT/build
LOGS=$BUILD/logs
CACHE=${AIODEV_CACHE:-$HOME/.cache/aiodev}

log() { printf '[vm] %s\n' "$*" >&2; }
die() { printf '[vm] error: %s\n' "$*" >&2; exit 1; }

# Headers metapackage that pins each test kernel: its dependency names the
# exact ABI, so the module's vermagic and the booted image always agree.
headers_meta() {
	case $1 in
	6.1) echo linux-headers-amd64 ;;
	6.12) echo linux-headers-6.12-amd64 ;;
	6.12-rt) echo linux-headers-6.12-rt-amd64 ;;
	*) die "unknown kernel label '$1' (known: 6.1 6.12 6.12-rt 7.x 7.x-rt 6.12-debug, or a full version with /usr/src/linux-headers-VER)" ;;
	esac
}

# The Debian 13 build root of the 7.x kernels (debian13-root.sh): labels
# 7.x and 7.x-rt are the newest 7.x of trixie-backports, resolved there.
D13_DIR=$CACHE/debian13
D13_ROOT=$D13_DIR/root

# in_d13 CMD...: run CMD chrooted in the build root, with a /proc of its
# own that goes away with it.
in_d13() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m --propagation private -- \
		sh -c 'mount -t proc proc "$1/proc" && shift && exec chroot "$@"' \
		sh "$D13_ROOT" "$D13_ROOT" "$@"
}

# d13_kernel KVER: true if KVER's headers live in the build root only.
d13_kernel() {
	[[ ! -d /usr/src/linux-headers-$1 && -d $D13_ROOT/usr/src/linux-headers-$1 ]]
}

# kver LABEL: print the kernel release (uname -r) for a label like 6.12.
# A full release (e.g. 6.12.117+deb12-amd64) whose headers are installed,
# here or in the build root, is accepted as is.
kver() {
	local meta dep
	if [[ -d /usr/src/linux-headers-$1 || -d $D13_ROOT/usr/src/linux-headers-$1 ]]; then
		echo "$1"
		return
	fi
	if [[ $1 == 7.x || $1 == 7.x-rt ]]; then
		[[ -s $D13_DIR/kver-$1 ]] ||
			die "kernel $1 not resolved yet (run selftests/vm/debian13-root.sh)"
		cat "$D13_DIR/kver-$1"
		return
	fi
	if [[ $1 == 6.12-debug ]]; then
		dep=$(debug_dir)
		[[ -f $dep/complete ]] ||
			die "the debug kernel is not built (run selftests/vm/build-debug-kernel.sh)"
		cat "$dep/kernelrelease"
		return
	fi
	meta=$(headers_meta "$1")
	dep=$(dpkg-query -W -f='${Depends}' "$meta" 2>/dev/null) ||
		die "$meta is not installed (run selftests/vm/deps.sh)"
	dep=$(grep -o 'linux-headers-[^ ,]*' <<<"$dep" | head -n1)
	[[ -n $dep ]] || die "cannot find the headers package $meta depends on"
	echo "${dep#linux-headers-}"
}

# The debug kernel (label 6.12-debug, `make check-debug`) is built from
# Debian's linux-source-6.12 by build-debug-kernel.sh with the fragment
# debug.config, into $CACHE/debug-<key>/: its build tree src/ stands in
# for the headers and the directory itself for the kernel cache.
DEBUG_CONFIG=$VM_DIR/debug.config
DEBUG_LOCALVERSION=-aiodev-debug

# debug_dir: that directory. The key hashes the fragment, the source
# package's version and the compiler, so a change to any rebuilds it.
debug_dir() {
	local ver key
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
		die "linux-source-6.12 is not installed (run selftests/vm/deps.sh)"
	key=$({
		cat "$DEBUG_CONFIG"
		echo "linux-source-6.12 $ver"
		"${CC:-gcc}" --version | head -n1
	} | sha256sum | cut -c1-16)
	echo "$CACHE/debug-$key"
}

headers_dir() {
	case $1 in
	*"$DEBUG_LOCALVERSION") echo "$(debug_dir)/src" ;;
	*) if d13_kernel "$1"; then
		echo "$D13_ROOT/usr/src/linux-headers-$1"
	else
		echo "/usr/src/linux-headers-$1"
	fi ;;
	esac
}
kernel_cache() {
	case $1 in
	*"$DEBUG_LOCALVERSION") debug_dir ;;
	*) echo "$CACHE/kernels/$1" ;;
	esac
}

# vm_cpu: the guest CPU model for QEMU's -cpu. QEMU before 8.1 (Debian
# 12 has 7.2) computes RFLAGS after LOCK CMPXCHG16B from stale state
# (selftests/aiodev/emulator.c): SLUB runs that instruction on every
# lockless allocation, and the garbage flags (TF, DF, ...) that an
# interrupt then saves and restores crash the guest kernel at random, as
# in issue 11. Such a QEMU gets a CPU without CMPXCHG16B, which the kernel
# does without. AIODEV_VM_CPU overrides the choice.
vm_cpu() {
	local ver
	if [[ -n ${AIODEV_VM_CPU:-} ]]; then
		echo "$AIODEV_VM_CPU"
		return
	fi
	ver=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p')
	if [[ -z $ver ]] || ((${ver%%.*} < 8 || (${ver%%.*} == 8 && ${ver#*.} < 1))); then
		echo qemu64,-cx16
	else
		echo qemu64
	fi
}

# Labels of the kernels to test, in order.
kernel_labels() { echo "${AIODEV_KERNELS:-6.1 6.12 6.12-rt 7.x 7.x-rt}"; }

# Console lines that mean the module (or the kernel under it) misbehaved.
# kmemleak only by its reports: the debug kernel names it at every boot.
SPLAT_RE='WARNING:|BUG:|Oops|Call Trace|general protection fault|KASAN|UBSAN|kernel BUG|blocked for more than|soft lockup|rcu_sched detected stall|rcu_preempt detected stall|RCU stall|detected stalls on CPU|list_add corruption|list_del corruption|list_add double add|refcount_t:|suspected memory leak|memory leak detector disabled|possible circular locking|inconsistent lock state|lockdep is turned off|sleeping function called from invalid context|DEBUG_LOCKS_WARN_ON|ODEBUG|Kernel panic'

# count_results RESULTS_LOG: print "PASS FAIL", and the reasons for
# failures on stderr. Lines "ok N vm: ..." are shell checks; each section
# "# vm: begin NAME" .. "# vm: end NAME rc=N" is one kselftest program,
# counted by its "# Totals:" line.
count_results() {
	tr -d '\r' <"$1" | awk '
	function bad(msg) { f++; print "  FAIL: " msg > "/dev/stderr" }
	/^# vm: begin / { sec = $4; tot = 0; sf = 0; next }
	/^# vm: end / {
		rc = $5; sub(/^rc=/, "", rc)
		if (!tot) bad(sec ": no Totals line (crashed, killed or timed out, rc=" rc ")")
		else if (rc != 0 && !sf) bad(sec ": exit status " rc " despite clean Totals")
		sec = ""; next
	}
	sec != "" && /^# Totals: / {
		tot = 1
		for (i = 3; i <= NF; i++) {
			split($i, kv, ":"); n = kv[2] + 0
			if (kv[1] == "pass" || kv[1] == "xfail") p += n
			else if (n) { f += n; sf += n; print "  FAIL: " sec ": " n " " kv[1] > "/dev/stderr" }
		}
		next
	}
	sec != "" && /^not ok / { print "  " sec ": " $0 > "/dev/stderr"; next }
	sec == "" && /^ok [0-9]+ vm: / { p++; next }
	sec == "" && /^not ok [0-9]+ vm: / { bad($0); next }
	/^# vm: done/ { done = 1 }
	END {
		if (sec != "") bad(sec ": the guest stopped while it ran")
		if (!done) bad("the guest did not finish (no \"# vm: done\")")
		print p + 0, f + 0
	}'
}

# splat_lines CONSOLE_LOG: the console lines in which the kernel
# complained. Only printk lines (they carry a timestamp, also when one
# lands in the middle of a userspace line), so test output can't trip this.
splat_lines() {
	tr -d '\r' <"$1" | grep -E "\[ *[0-9]+\.[0-9]+\] .*($SPLAT_RE)" || true
}

# scan_splats CONSOLE_LOG: fail, and show the evidence, if the kernel
# complained about anything.
scan_splats() {
	local hits
	hits=$(splat_lines "$1")
	[[ -z $hits ]] && return 0
	echo "  FAIL: kernel splat in ${1#"$ROOT"/}:" >&2
	head -n 20 <<<"$hits" | sed 's/^/    /' >&2
	return 1
}

# print_figures RESULTS_LOG CONSOLE_LOG: the run's reliability figures
# (stress, fuzz, whole-device fio, kmemleak) and its splat count.
print_figures() {
	# A run of a subset may have none of them: not an error.
	{ grep -hE '^# (stress: ([0-9]+ threads|reads verified)|fuzz: [0-9]+ ioctl calls|fio-whole: |uring_stress: |vm: kmemleak: )' "$1" || true; } |
		sed 's/^# /  /'
	echo "  splats in the console: $(splat_lines "$2" | wc -l)"
}
