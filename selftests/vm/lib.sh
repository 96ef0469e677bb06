# SPDX-License-Identifier: GPL-2.0
# Common helpers for the VM test scripts; sourced, never run.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are for the sourcing scripts

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$VM_DIR/../.." && pwd)
BUILD=${AIODEV_BUILD:-$ROOT/build}
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
	*) die "unknown kernel label '$1' (known: 6.1 6.12 6.12-rt 7.x 7.x-rt 7.x-debug 7.x-kcsan, or a full version with /usr/src/linux-headers-VER)" ;;
	esac
}

# The Debian 13 build root (debian13-root.sh): labels 7.x and 7.x-rt are
# the newest 7.x of trixie-backports, resolved there; their modules, and
# the kernels built from source, are built there.
D13_DIR=$CACHE/debian13
D13_ROOT=$D13_DIR/root

# in_d13 CMD...: run CMD chrooted in the build root, with a /proc of its
# own and the cache and build directories at the same paths as outside;
# the mounts go away with it.
in_d13() {
	local d
	for d in "$CACHE" "$BUILD"; do
		mkdir -p "$d" "$D13_ROOT$d"
	done
	# shellcheck disable=SC2016 # expanded by the inner sh
	unshare -m --propagation private -- sh -c '
		root=$1 cache=$2 build=$3
		shift 3
		mount -t proc proc "$root/proc" &&
			mount --bind "$cache" "$root$cache" &&
			mount --bind "$build" "$root$build" &&
			exec chroot "$root" "$@"' \
		sh "$D13_ROOT" "$CACHE" "$BUILD" "$@"
}

# Kernels built from Debian's linux-source-7.x in the build root, each
# with tinyconfig, base.config and its own fragment (build-debug-kernel.sh):
#   7.x-debug   debug.config: KASAN, slab debugging, lockdep, kmemleak, ...
#   7.x-kcsan   kcsan.config: KCSAN (it cannot share a kernel with KASAN)
# The kernel release ends in -aiodev-FLAVOUR.
SRC_FLAVOURS="debug kcsan"

# src_flavour LABEL_OR_KVER: the flavour of a kernel built from source,
# or nothing.
src_flavour() {
	local f
	for f in $SRC_FLAVOURS; do
		if [[ $1 == 7.x-$f || $1 == *-aiodev-$f ]]; then
			echo "$f"
			return
		fi
	done
}

# src_kernel_dir FLAVOUR: $CACHE/FLAVOUR-<key>, where that kernel is
# built and cached. The key hashes the fragments, the source package and
# the build root's compiler, so a change to any of them rebuilds it.
src_kernel_dir() {
	local pkg key admin=$D13_ROOT/var/lib/dpkg
	[[ -s $D13_DIR/source-7.x ]] ||
		die "no linux-source-7.x in the build root yet (run selftests/vm/debian13-root.sh --source)"
	pkg=$(cat "$D13_DIR/source-7.x")
	key=$({
		cat "$VM_DIR/base.config" "$VM_DIR/$1.config"
		dpkg-query --admindir="$admin" -W -f='${Package} ${Version}\n' "$pkg" gcc
	} | sha256sum | cut -c1-16) || die "cannot key the $1 kernel"
	echo "$CACHE/$1-$key"
}

# d13_headers KVER: true if KVER's headers live in the build root only.
d13_headers() {
	[[ ! -d /usr/src/linux-headers-$1 && -d $D13_ROOT/usr/src/linux-headers-$1 ]]
}

# in_d13_tree KVER: true if KVER's module is built in the build root.
in_d13_tree() {
	[[ -n $(src_flavour "$1") ]] || d13_headers "$1"
}

# kver LABEL: print the kernel release (uname -r) for a label like 6.12.
# A full release (e.g. 6.12.117+deb12-amd64) whose headers are installed,
# here or in the build root, is accepted as is.
kver() {
	local meta dep flavour
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
	flavour=$(src_flavour "$1")
	if [[ -n $flavour ]]; then
		dep=$(src_kernel_dir "$flavour")
		[[ -f $dep/complete ]] ||
			die "the $1 kernel is not built (run selftests/vm/build-debug-kernel.sh $flavour)"
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

# headers_dir KVER: the tree a module for KVER is built against, as the
# host sees it; kernel_cache KVER: where its image and modules are.
headers_dir() {
	local flavour
	flavour=$(src_flavour "$1")
	if [[ -n $flavour ]]; then
		echo "$(src_kernel_dir "$flavour")/src"
	elif d13_headers "$1"; then
		echo "$D13_ROOT/usr/src/linux-headers-$1"
	else
		echo "/usr/src/linux-headers-$1"
	fi
}
kernel_cache() {
	local flavour
	flavour=$(src_flavour "$1")
	if [[ -n $flavour ]]; then
		src_kernel_dir "$flavour"
	else
		echo "$CACHE/kernels/$1"
	fi
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
# Not kmemleak's "new suspected memory leaks" line: a scan prints it for
# what the boot itself leaked too, and the guest's kmemleak steps judge
# leaks, counting only those from after the module's first load.
SPLAT_RE='WARNING:|BUG:|BUG [^ ]+ \(|Oops|Call Trace|general protection fault|invalid opcode:|stack segment:|KASAN|UBSAN|kernel BUG|blocked for more than|soft lockup|hard LOCKUP|rcu_sched detected stall|rcu_preempt detected stall|RCU stall|detected stalls on CPU|self-detected stall|detected expedited stalls|rcu_tasks.*stall|list_add corruption|list_del corruption|list_add double add|refcount_t:|memory leak detector disabled|possible circular locking|inconsistent lock state|lockdep is turned off|trying to register non-static key|sleeping function called from invalid context|DEBUG_LOCKS_WARN_ON|ODEBUG|debugfs: (Directory|File) .* already present|debugfs: .* already exists in|Kernel panic'

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

# kcsan_split [foreign]: filter a console log on stdin. KCSAN (7.x-kcsan)
# checks the whole kernel by the memory model's strict rules, and the core
# kernel has races of its own there, some reached through aiodev (its
# tasklet calling ki_complete() races io_uring's and fs/aio.c's own
# bookkeeping). A report ("BUG: KCSAN: ..." up to its closing "=====" line)
# is aiodev's if one of the two racing accesses is in aiodev's code: the
# "BUG: KCSAN: data-race in A / B" line names their functions, a module's
# as "func [aiodev]". Other reports are dropped, or with the argument
# "foreign", are the only thing printed.
kcsan_split() {
	awk -v want="${1:-own}" '
	function flush() {
		if ((head ~ /\[aiodev\]/) == (want == "own")) printf "%s", buf
		buf = ""; head = ""; inrep = 0
	}
	/BUG: KCSAN: / { if (inrep) flush(); inrep = 1; head = $0 }
	inrep { buf = buf $0 "\n"; if ($0 ~ /==========/) flush(); next }
	want == "own" { print }
	END { if (inrep) flush() }'
}

# splat_lines CONSOLE_LOG: the console lines in which the kernel
# complained. Only printk lines (they carry a timestamp, also when one
# lands in the middle of a userspace line), so test output can't trip this.
splat_lines() {
	tr -d '\r' <"$1" | kcsan_split | grep -E "\[ *[0-9]+\.[0-9]+\] .*($SPLAT_RE)" || true
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
	if grep -q 'BUG: KCSAN: ' "$2"; then
		echo "  KCSAN reports of races outside aiodev's code (not counted): $(tr -d '\r' <"$2" | kcsan_split foreign | grep -c 'BUG: KCSAN: ')"
	fi
}
