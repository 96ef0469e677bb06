#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# host-gates.sh: the checks of `make check` that need no VM, run on the
# host before the kernels boot. Prints one TAP line per check,
# "ok N host: ..." or "not ok N host: ...", then "# host: done";
# check.sh counts them into its totals. Each check's output goes to
# build/logs/gates/NAME.log; a failure shows the log's tail on stderr.
#
#   checkpatch   checkpatch.pl --strict --no-tree of every file of kmod/
#                and uapi/ (compat.h, the one place allowed to compare
#                LINUX_VERSION_CODE, with --ignore
#                LINUX_VERSION_CODE,CONSTANT_COMPARISON)
#   sparse       make C=2 W=1 against each kernel's headers: no warnings
#   dkms         `dkms build` against each kernel's headers, in a scratch
#                DKMS tree (--dkmstree, --sourcetree)
#   install      make install DESTDIR=...: the expected files, pkg-config
#                compiles and links libaiodev(3)'s example, the shared
#                library loads, make uninstall leaves no file behind
#   userspace32  libaiodev and the aiodev CLI build with -m32 -Werror
#   man          groff -man -ww -z of each page in Documentation/man/: no warning
#   docs         the man pages and Documentation/ABI cover every ioctl,
#                module parameter, sysfs file and CLI option; the ABI file
#                parses with the kernel's scripts/get_abi.pl
#
# checkpatch.pl (with spelling.txt and const_structs.checkpatch),
# get_abi.pl and the ioctl-number list come from Debian's linux-source-6.12
# tarball, extracted once into $AIODEV_CACHE/linux-source-6.12.
#
# Environment: AIODEV_GATES (the gates to run, default all, in the order
# above), AIODEV_GATE_KERNELS (labels for sparse and dkms, default
# "6.1 6.12", and 6.12-rt for sparse), AIODEV_CACHE.
set -uo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GATE_LOGS=$LOGS/gates
KSRC_TARBALL=/usr/src/linux-source-6.12.tar.xz
KSRC=$CACHE/linux-source-6.12
KSRC_FILES=(
	scripts/checkpatch.pl scripts/spelling.txt
	scripts/const_structs.checkpatch scripts/get_abi.pl
	Documentation/userspace-api/ioctl/ioctl-number.rst .clang-format
)

N=0
ok() {
	N=$((N + 1))
	echo "ok $N host: $*"
}
not_ok() {
	N=$((N + 1))
	echo "not ok $N host: $*"
}

# gate NAME DESC CMD...: run CMD with its output in GATE_LOGS/NAME.log.
gate() {
	local desc=$2 glog=$GATE_LOGS/$1.log t0=$SECONDS
	shift 2
	# A subshell: a check's exports and cd stay its own.
	if ("$@") >"$glog" 2>&1; then
		ok "$desc ($((SECONDS - t0)) s)"
	else
		not_ok "$desc (log: ${glog#"$ROOT"/})"
		tail -n 25 "$glog" | sed 's/^/    /' >&2
	fi
}

# A scratch directory, removed on exit.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/aiodev-gates.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

# Sources only, as in a fresh clone: no objects of in-place builds.
copy_tree() {
	mkdir -p "$1"
	tar -C "$ROOT" -c --exclude=./build --exclude=./.git \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='*.a' \
		--exclude='*.so' --exclude='*.so.*' --exclude=modules.order \
		--exclude=Module.symvers --exclude=./selftests/out \
		--exclude=./userspace/aiodev --exclude=./userspace/aiodev-aio \
		--exclude=./userspace/aiodev.pc . | tar -C "$1" -x
}

# Extract the kernel's tools once; the stamp is written last.
kernel_tools() {
	local stamp=$KSRC/.aiodev-gates tmp f
	[[ -f $stamp ]] && return 0
	[[ -r $KSRC_TARBALL ]] ||
		{ echo "$KSRC_TARBALL missing: apt-get install linux-source-6.12"; return 1; }
	mkdir -p "$CACHE"
	tmp=$(mktemp -d "$CACHE/.extract.XXXXXX") || return 1
	tar -xJf "$KSRC_TARBALL" -C "$tmp" --strip-components=1 \
		"${KSRC_FILES[@]/#/linux-source-6.12/}" || { rm -rf "$tmp"; return 1; }
	for f in "${KSRC_FILES[@]}"; do
		mkdir -p "$KSRC/$(dirname "$f")"
		mv -f "$tmp/$f" "$KSRC/$f"
	done
	rm -rf "$tmp"
	touch "$stamp"
}

# checkpatch FILE [OPTIONS]: clean means no error, warning or check.
checkpatch() {
	local f=$1 out
	shift
	out=$(cd "$ROOT" && perl "$KSRC/scripts/checkpatch.pl" --strict \
		--no-tree --no-summary --terse --show-types "$@" -f "$f")
	local rc=$?
	[[ -n $out ]] && echo "$out"
	[[ $rc == 0 && -z $out ]]
}

gate_checkpatch() {
	local f files=()
	for f in "$ROOT"/kmod/*.c "$ROOT"/kmod/*.h "$ROOT"/uapi/linux/*.h; do
		[[ $f == *.mod.c ]] && continue
		files+=("${f#"$ROOT"/}")
	done
	for f in "${files[@]}"; do
		if [[ $f == kmod/compat.h ]]; then
			# compat.h is where 6.1 and 6.12 differ: its version
			# tests are the point of it. Every other file must pass
			# without any --ignore.
			gate "checkpatch-compat.h" \
				"checkpatch --strict $f (--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON)" \
				checkpatch "$f" --ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON
		else
			gate "checkpatch-${f##*/}" "checkpatch --strict $f" checkpatch "$f"
		fi
	done
}

# sparse_build KVER: the module under sparse (C=2 checks every file) and
# W=1; any warning or error fails.
sparse_build() {
	local kv=$1 dir=$SCRATCH/sparse-$1 rc=0
	mkdir -p "$dir"
	tar -C "$ROOT" -c --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' Kbuild kmod uapi |
		tar -C "$dir" -x
	command -v sparse >/dev/null || { echo "sparse not installed"; return 1; }
	make -j"$(nproc)" -C "$(headers_dir "$kv")" M="$dir" C=2 W=1 modules 2>&1 |
		tee "$dir/log" || rc=1
	grep -q '  CHECK ' "$dir/log" || { echo "sparse did not run"; return 1; }
	# The findings again, last, where a failure's tail shows them.
	if grep -Ei '(^|[^[:alnum:]_])(warning|error):' "$dir/log"; then
		return 1
	fi
	((rc == 0))
}

# dkms_build KVER: dkms add + build in a scratch tree. DKMS signs what it
# builds and makes itself a key in /var/lib/dkms if there is none: in a
# private mount namespace that directory is a scratch one too.
dkms_build() {
	local kv=$1 dir=$SCRATCH/dkms-$1 ver ko hdr cmd
	ver=$(cat "$ROOT/VERSION")
	hdr=$(headers_dir "$kv")
	command -v dkms >/dev/null || { echo "dkms not installed"; return 1; }
	make -s -C "$ROOT" dkms-source DESTDIR="$dir/stage" || return 1
	mkdir -p "$dir/tree" "$dir/var"
	cmd="dkms add -m aiodev -v $ver --sourcetree $dir/stage/usr/src --dkmstree $dir/tree &&
		dkms build -m aiodev -v $ver -k $kv --sourcetree $dir/stage/usr/src --dkmstree $dir/tree --kernelsourcedir $hdr"
	if unshare -m --propagation private true 2>/dev/null; then
		unshare -m --propagation private bash -c \
			"mount --bind '$dir/var' /var/lib/dkms && $cmd" || return 1
	else
		echo "# no mount namespace: DKMS may create its key in /var/lib/dkms"
		bash -c "$cmd" || return 1
	fi
	ko=$(compgen -G "$dir/tree/aiodev/$ver/$kv/*/module/aiodev.ko*" | head -n1)
	[[ -n $ko ]] || { echo "dkms built no aiodev.ko"; return 1; }
	modinfo -F vermagic "$ko"
	[[ $(modinfo -F vermagic "$ko") == "$kv "* ]]
}

gate_sparse() {
	local label kv
	# PREEMPT_RT's spinlocks are other types: sparse sees other code.
	for label in ${AIODEV_GATE_KERNELS:-6.1 6.12 6.12-rt}; do
		kv=$(kver "$label")
		gate "sparse-$kv" "sparse (make C=2 W=1) against $kv: no warnings" \
			sparse_build "$kv"
	done
}

gate_dkms() {
	local label kv
	for label in ${AIODEV_GATE_KERNELS:-6.1 6.12}; do
		kv=$(kver "$label")
		gate "dkms-$kv" "dkms build against $kv" dkms_build "$kv"
	done
}

# The files `make install` must create under DESTDIR, module aside.
INSTALLED=(
	usr/local/bin/aiodev
	usr/local/bin/aiodev-aio
	usr/local/bin/aiodev-vm
	usr/local/include/libaiodev.h
	usr/local/include/linux/aiodev.h
	usr/local/lib/libaiodev.a
	usr/local/lib/libaiodev.so
	usr/local/lib/libaiodev.so.1
	usr/local/lib/libaiodev.so.1.0.0
	usr/local/lib/pkgconfig/aiodev.pc
	usr/local/lib/udev/rules.d/60-aiodev.rules
	usr/local/share/man/man1/aiodev-aio.1
	usr/local/share/man/man1/aiodev-vm.1
	usr/local/share/man/man1/aiodev.1
	usr/local/share/man/man3/libaiodev.3
	usr/local/share/man/man4/aiodev.4
)

# A program that needs libaiodev.so.1 at run time and the installed
# headers at compile time.
LIBCHECK_C='#include <errno.h>
#include <fcntl.h>
#include <libaiodev.h>

int main(void)
{
	struct aiodev_req req;

	aiodev_prep_nop(&req, 1);
	if (aiodev_open(-1, O_RDWR) != -EINVAL)
		return 1;
	if (aiodev_open_path("/nonexistent/aiodev", O_RDWR) != -ENOENT)
		return 2;
	return sizeof(req) == 64 && AIODEV_IOC_MAGIC == 0xA9 ? 0 : 3;
}'

install_check() {
	local tree=$SCRATCH/install-tree root=$SCRATCH/install-root
	local kv hdr want got pc
	local labels=${AIODEV_GATE_KERNELS:-6.1 6.12}
	kv=$(kver "${labels##* }") || return 1
	hdr=$(headers_dir "$kv")
	copy_tree "$tree"
	mkdir -p "$root"
	make -j"$(nproc)" -C "$tree" install DESTDIR="$root" KDIR="$hdr" || return 1

	# aiodev-vm's runner: the module sources and the VM scripts.
	local runner=()
	mapfile -t runner < <(cd "$ROOT" &&
		printf 'usr/local/share/aiodev/%s\n' Kbuild kmod/Kbuild \
			kmod/*.[ch] uapi/linux/aiodev.h &&
		printf 'usr/local/share/aiodev/selftests/vm/%s.sh\n' lib deps \
			fetch-kernel debian13-root build-module mkinitramfs \
			run-vm guest-init guest-run)
	want=$(printf '%s\n' "${INSTALLED[@]}" "${runner[@]}" \
		"lib/modules/$kv/extra/kmod/aiodev.ko$(
			[[ -f $root/lib/modules/$kv/extra/kmod/aiodev.ko.xz ]] && echo .xz)" | sort)
	got=$(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort)
	if [[ $want != "$got" ]]; then
		echo "installed files differ from the expected list:"
		diff <(echo "$want") <(echo "$got")
		return 1
	fi
	echo "installed, as expected:"
	echo "$got"
	[[ $(readlink "$root/usr/local/lib/libaiodev.so.1") == libaiodev.so.1.0.0 ]] ||
		{ echo "libaiodev.so.1 is not a link to libaiodev.so.1.0.0"; return 1; }
	readelf -d "$root/usr/local/lib/libaiodev.so.1.0.0" | grep -q 'SONAME.*\[libaiodev\.so\.1\]' ||
		{ echo "libaiodev.so.1.0.0 lacks the soname libaiodev.so.1"; return 1; }

	# pkg-config against the staging tree, as a sysroot.
	export PKG_CONFIG_LIBDIR=$root/usr/local/lib/pkgconfig
	export PKG_CONFIG_SYSROOT_DIR=$root
	pc=$(pkg-config --cflags --libs aiodev) || return 1
	echo "pkg-config --cflags --libs aiodev: $pc"
	[[ $(pkg-config --modversion aiodev) == "$(cat "$ROOT/VERSION")" ]] ||
		{ echo "aiodev.pc has the wrong version"; return 1; }
	echo "$LIBCHECK_C" >"$SCRATCH/libcheck.c"
	# shellcheck disable=SC2046 # pkg-config's words
	cc -Wall -Wextra -Werror -o "$SCRATCH/libcheck" "$SCRATCH/libcheck.c" \
		$(pkg-config --cflags --libs aiodev) || return 1
	readelf -d "$SCRATCH/libcheck" | grep -q 'NEEDED.*\[libaiodev\.so\.1\]' ||
		{ echo "libcheck does not need libaiodev.so.1"; return 1; }
	LD_LIBRARY_PATH=$root/usr/local/lib "$SCRATCH/libcheck" ||
		{ echo "libcheck against the installed libaiodev.so.1 failed: $?"; return 1; }
	# libaiodev(3)'s example, linked statically (libaiodev.a).
	sed -n '/^\.SH EXAMPLES/,/^\.SH SEE ALSO/p' "$ROOT/Documentation/man/libaiodev.3" |
		sed -n '/^\.EX/,/^\.EE/{/^\.E[XE]/d;p;}' | sed -n '1,/^}/p' |
		sed -e 's/\\e/\\/g' -e 's/\\-/-/g' >"$SCRATCH/example.c"
	# shellcheck disable=SC2046 # pkg-config's words
	cc -static -Wall -Wextra -Werror -o "$SCRATCH/example" \
		"$SCRATCH/example.c" $(pkg-config --static --cflags --libs aiodev) ||
		{ echo "libaiodev(3)'s example does not build"; return 1; }
	echo "libaiodev(3) example and libcheck built and ran"

	make -C "$tree" uninstall DESTDIR="$root" KDIR="$hdr" || return 1
	got=$(cd "$root" && find . \( -type f -o -type l \))
	[[ -z $got ]] || { echo "left behind by make uninstall:"; echo "$got"; return 1; }
	echo "make uninstall removed every file"
}

gate_install() {
	gate install "make install DESTDIR=: files, pkg-config, libaiodev.so.1, make uninstall" \
		install_check
}

userspace32() {
	local tree=$SCRATCH/userspace32
	copy_tree "$tree"
	make -j"$(nproc)" -C "$tree/userspace" CC="${CC:-gcc} -m32" \
		libaiodev.a libaiodev.so aiodev &&
		readelf -h "$tree/userspace/aiodev" | grep -q 'Class: *ELF32'
}

gate_userspace32() {
	gate userspace32 "libaiodev and aiodev build with -m32 -Wall -Wextra -Werror" \
		userspace32
}

# groff prints nothing for a clean page; -ww enables every warning.
man_check() {
	local out
	out=$(groff -man -ww -z "$1" 2>&1) || { echo "$out"; return 1; }
	[[ -z $out ]] || { echo "$out"; return 1; }
}

gate_man() {
	local page
	for page in "$ROOT"/Documentation/man/*.[1-8]; do
		gate "man-${page##*/}" "groff -man -ww ${page#"$ROOT"/}: no warnings" \
			man_check "$page"
	done
}

# covers FILE WHAT WORD...: every WORD appears in FILE (as a word).
covers() {
	local file=$1 what=$2 w missing=()
	shift 2
	for w in "$@"; do
		grep -qw -- "$w" "$file" || missing+=("$w")
	done
	((${#missing[@]} == 0)) && { echo "${file#"$ROOT"/}: every $what ($#)"; return 0; }
	echo "${file#"$ROOT"/} lacks $what: ${missing[*]}"
	return 1
}

# The names, from the code: ioctls, module parameters, sysfs attributes,
# CLI long options (roff writes - as \-).
docs_check() {
	local ioctls params attrs opts abi=$ROOT/Documentation/ABI/testing/sysfs-class-aiodev rc=0
	read -ra ioctls < <(grep -o '^#define AIODEV_IOC_[A-Z_]*' "$ROOT/uapi/linux/aiodev.h" |
		awk '$2 != "AIODEV_IOC_MAGIC" { printf "%s ", $2 }')
	read -ra params < <(sed -n 's/^module_param(\([a-z_]*\),.*/\1/p; s/^module_param_named(\([a-z_]*\),.*/\1/p' \
		"$ROOT"/kmod/*.c | tr '\n' ' ')
	read -ra attrs < <(sed -n 's/^static AIODEV_\(CONFIG\|STAT\)_ATTR(\([a-z_]*\).*/\2/p;
		s/^static DEVICE_ATTR_R[OW](\([a-z_]*\)).*/\1/p' \
		"$ROOT/kmod/sysfs.c" | tr '\n' ' ')
	((${#ioctls[@]} && ${#params[@]} && ${#attrs[@]})) ||
		{ echo "found no ioctls, parameters or attributes in the code"; return 1; }
	covers "$ROOT/Documentation/man/aiodev.4" ioctl "${ioctls[@]}" || rc=1
	covers "$ROOT/Documentation/man/aiodev.4" "module parameter" "${params[@]}" || rc=1
	covers "$ROOT/Documentation/man/aiodev.4" "sysfs attribute" "${attrs[@]}" || rc=1
	covers "$abi" "module parameter" "${params[@]/#//sys/module/aiodev/parameters/}" || rc=1
	covers "$abi" "sysfs attribute" "${attrs[@]}" || rc=1
	for prog in aiodev aiodev-aio aiodev-vm; do
		# The aiodev CLI is every file but the library and the client.
		local srcs=("$ROOT/userspace/$prog.c")
		[[ $prog == aiodev-aio ]] || mapfile -t srcs < <(ls "$ROOT"/userspace/*.c |
			grep -v -e '/aiodev-aio\.c$' -e '/libaiodev\.c$')
		if [[ $prog == aiodev-vm ]]; then
			# A script: the options its argument loop knows.
			read -ra opts < <(sed -n '/^while ((\$#)); do/,/^done/p' \
				"$ROOT/userspace/aiodev-vm" | grep -o -- '--[a-z][a-z-]*' |
				sed 's/-/\\-/g' | sort -u | tr '\n' ' ')
		else
			read -ra opts < <(grep -ho '{ "[a-z][a-z-]*", [a-z_]*_argument' \
				"${srcs[@]}" | sed 's/{ "\([a-z-]*\)".*/--\1/; s/-/\\-/g' |
				sort -u | tr '\n' ' ')
		fi
		((${#opts[@]})) || { echo "found no options for $prog in userspace/"; rc=1; }
		local o missing=()
		for o in "${opts[@]}"; do
			grep -qF -- "$o" "$ROOT/Documentation/man/$prog.1" || missing+=("$o")
		done
		if ((${#missing[@]})); then
			echo "Documentation/man/$prog.1 lacks options: ${missing[*]}"
			rc=1
		else
			echo "Documentation/man/$prog.1: every long option (${#opts[@]})"
		fi
	done
	# The kernel's own parser: `rest` renders every entry, `validate`
	# checks the fields.
	local out
	out=$(perl "$KSRC/scripts/get_abi.pl" --dir "$ROOT/Documentation/ABI" validate 2>&1) ||
		{ echo "$out"; rc=1; }
	[[ -z $out ]] || { echo "get_abi.pl validate: $out"; rc=1; }
	out=$(perl "$KSRC/scripts/get_abi.pl" --dir "$ROOT/Documentation/ABI" rest 2>&1 >/dev/null)
	[[ -z $out ]] || { echo "get_abi.pl rest: $out"; rc=1; }
	return $rc
}

gate_docs() {
	gate docs "man pages and Documentation/ABI cover every ioctl, parameter, sysfs file and option" \
		docs_check
}

mkdir -p "$GATE_LOGS"
cd "$ROOT" || exit 1
t0=$SECONDS
tools_ok=1
if ! kernel_tools >"$GATE_LOGS/kernel-tools.log" 2>&1; then
	tools_ok=0
	not_ok "extract checkpatch.pl and get_abi.pl from $KSRC_TARBALL"
	cat "$GATE_LOGS/kernel-tools.log" >&2
fi
for g in ${AIODEV_GATES:-checkpatch sparse dkms install userspace32 man docs}; do
	if [[ $g == checkpatch || $g == docs ]] && ((!tools_ok)); then
		not_ok "$g: no kernel tools"
		continue
	fi
	log "host gate: $g"
	"gate_$g"
done
echo "# host: done in $((SECONDS - t0)) s"
