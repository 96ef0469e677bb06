#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# mutate.sh [--dry | --list] [ID...]: `make mutate`, mutation testing of
# the module. Each mutant of selftests/mutate/mutations (a small bug in
# kmod/*.c) is applied to a copy of the sources in build/mutate/ID/src
# and built on the host against the 6.12 headers; then the unmutated
# sources must pass the union of the mutants' tests (the baseline), and
# each mutant boots Debian 6.12 under QEMU through selftests/vm/check.sh
# with its own tests and steps. A mutant is killed when that run fails.
# Prints one line per mutant, then "killed K/T (P %)" and the survivors.
#
# --dry (or --list, or AIODEV_MUTATE_DRY=1): only apply and build every
# mutant on the host, no VM: checks that the list is in step with the code.
# Exit status: 0 when the run completed, survivors or not; 1 when a mutant
# is invalid (its original is not in the code exactly once, it does not
# build, or it compiles to the same object code), the baseline failed, or
# a run ended without booting.
#
# Environment: AIODEV_MUTANTS (the IDs to run, default all; also the
# arguments), AIODEV_MUTATE_KERNEL (6.12), AIODEV_MUTATE_SKIP_BASELINE=1
# (only right after a passing baseline of the same tests), AIODEV_MUTATIONS
# (the list), AIODEV_SKIP_BUILD=1 (use selftests/out and userspace/ as
# they are); for the VM AIODEV_TEST_TIMEOUT (90), AIODEV_VM_TIMEOUT (400),
# AIODEV_FIO_TIMEOUT (90) and the rest of check.sh's.
set -euo pipefail
VM_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../vm" && pwd)
# shellcheck source=selftests/vm/lib.sh
. "$VM_SRC/lib.sh"

MDIR=$ROOT/selftests/mutate
LIST=${AIODEV_MUTATIONS:-$MDIR/mutations}
PY=$MDIR/mutations.py
OUT=$BUILD/mutate
# A private copy of the VM runner and what it packs: its build/ (module,
# initramfs, logs) is then its own, so a `make check` running meanwhile
# and this never share a file, and the sources a run was given are the
# ones it boots.
VMROOT=$OUT/vmroot
LABEL=${AIODEV_MUTATE_KERNEL:-6.12}

say() { printf '[mutate] %s\n' "$*" >&2; }
fail() { printf '[mutate] error: %s\n' "$*" >&2; exit 1; }

# `make -n mutate` runs this too, as its recipe names $(MAKE): it must not
# boot anything then. MAKEFLAGS starts with the one-letter flags, if any.
flags=${MAKEFLAGS:-}
flags=${flags%% *}
if [[ $flags != -* && $flags == *n* ]]; then
	echo "bash selftests/mutate/mutate.sh $* (AIODEV_MUTANTS='${AIODEV_MUTANTS:-}')"
	exit 0
fi

dry=${AIODEV_MUTATE_DRY:-0}
ids=()
for arg in "$@"; do
	case $arg in
	--dry | --list) dry=1 ;;
	-*) fail "unknown option $arg (usage: mutate.sh [--dry] [ID...])" ;;
	*) ids+=("$arg") ;;
	esac
done
if ((${#ids[@]} == 0)) && [[ -n ${AIODEV_MUTANTS:-} ]]; then
	read -ra ids <<<"$AIODEV_MUTANTS"
fi

mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -n 9 || fail "another mutate run holds ${OUT#"$ROOT"/}/.lock"

kv=$(kver "$LABEL")
hdr=$(headers_dir "$kv")
[[ -d $hdr ]] || fail "no headers for $kv in $hdr (run selftests/vm/deps.sh)"

# The sources as they are now: every mutant, and the baseline, start from
# this copy, whatever happens to kmod/ during the run.
PRISTINE=$OUT/pristine
rm -rf "$PRISTINE"
mkdir -p "$PRISTINE"
tar -C "$ROOT" -c \
	--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='*.a' --exclude='modules.order' \
	--exclude='Module.symvers' --exclude='.*.d' \
	Kbuild kmod uapi | tar -C "$PRISTINE" -x

# The list must match the code before anything is built.
python3 "$PY" check "$LIST" "$PRISTINE" ||
	fail "${LIST#"$ROOT"/} is out of step with the code (above)"
declare -A M_FILE M_TESTS M_STEPS M_WHAT M_SURVIVES
order=()
# Empty fields come as "-": tabs are IFS white space, runs of them one.
while IFS=$'\t' read -r id file tests steps what survives; do
	[[ $tests != - ]] || tests=
	[[ $survives != - ]] || survives=
	order+=("$id")
	M_FILE[$id]=$file M_TESTS[$id]=$tests M_STEPS[$id]=$steps
	M_WHAT[$id]=$what M_SURVIVES[$id]=$survives
done < <(python3 "$PY" table "$LIST" "${ids[@]}")
((${#order[@]})) || fail "no mutants selected"

# host_build DIR LOG: build the module in DIR for $kv as build-module.sh
# does (W=1), but with __FILE__ relative, so that the objects of two trees
# can be compared. Warnings are allowed here; the caller counts them.
host_build() {
	local dir=$1 log=$2
	local args=(M="$dir" W=1 KCFLAGS="-fmacro-prefix-map=$dir/=" -j2 modules)
	if in_d13_tree "$kv"; then
		in_d13 make -C "${hdr#"$D13_ROOT"}" "${args[@]}" >"$log" 2>&1
	else
		make -C "$hdr" "${args[@]}" >"$log" 2>&1
	fi
}

warnings() { grep -Eic '(^|[^[:alnum:]_])warning:' "$1" || true; }

# same_code A B: the two objects are the same but for debug info and notes.
same_code() {
	local a b rc=1
	a=$(mktemp)
	b=$(mktemp)
	if objcopy --strip-debug -R .comment -R .note.gnu.build-id "$1" "$a" &&
		objcopy --strip-debug -R .comment -R .note.gnu.build-id "$2" "$b" &&
		cmp -s "$a" "$b"; then
		rc=0
	fi
	rm -f "$a" "$b"
	return "$rc"
}

drop_objects() {
	find "$1" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name 'modules.order' -o -name 'Module.symvers' \) \
		-delete
}

say "building the unmutated module for $kv on the host"
REF=$OUT/reference
rm -rf "$REF"
cp -a "$PRISTINE" "$REF"
host_build "$REF" "$OUT/reference-build.log" ||
	fail "the unmutated module does not build (${OUT#"$ROOT"/}/reference-build.log)"

# prepare ID: apply and host-build mutant ID in $OUT/ID; sets status
# (ok, warns, invalid) and note.
prepare() {
	local id=$1 d=$OUT/$1 n
	rm -rf "$d"
	mkdir -p "$d"
	cp -a "$PRISTINE" "$d/src"
	if ! python3 "$PY" apply "$LIST" "$id" "$d/src" 2>"$d/apply.log"; then
		status=invalid note="does not apply: $(head -n1 "$d/apply.log")"
		return
	fi
	diff -u --label "a/${M_FILE[$id]}" --label "b/${M_FILE[$id]}" \
		"$PRISTINE/${M_FILE[$id]}" "$d/src/${M_FILE[$id]}" >"$d/mutation.diff" || true
	if ! host_build "$d/src" "$d/host-build.log"; then
		status=invalid
		note="does not build: $(grep -m1 -E 'error:' "$d/host-build.log" || tail -n1 "$d/host-build.log")"
	elif same_code "$d/src/kmod/aiodev.o" "$REF/kmod/aiodev.o"; then
		status=invalid note="equivalent: the same object code as the unmutated module"
	else
		n=$(warnings "$d/host-build.log")
		if ((n)); then
			status=warns note="$n W=1 warning(s), which make check's build refuses"
		else
			status=ok note=""
		fi
	fi
	drop_objects "$d/src"
}

declare -A STATUS NOTE
n_invalid=0
for id in "${order[@]}"; do
	prepare "$id"
	STATUS[$id]=$status NOTE[$id]=$note
	if [[ $status == invalid ]]; then
		n_invalid=$((n_invalid + 1))
		echo "INVALID $id: $note"
	elif ((dry)); then
		echo "$status $id: ${M_WHAT[$id]}${note:+ ($note)}"
	fi
done
if ((dry)); then
	echo "${#order[@]} mutants, $n_invalid invalid (against $kv)"
	((n_invalid == 0))
	exit
fi

# ---- the VM runs ----------------------------------------------------------

export AIODEV_TEST_TIMEOUT=${AIODEV_TEST_TIMEOUT:-90}
export AIODEV_VM_TIMEOUT=${AIODEV_VM_TIMEOUT:-400}
export AIODEV_FIO_TIMEOUT=${AIODEV_FIO_TIMEOUT:-90}
# A task stuck in D state (a lost completion) or a CPU spinning in the
# module ends the VM at once instead of at the VM timeout.
export AIODEV_VM_APPEND="${AIODEV_VM_APPEND:+$AIODEV_VM_APPEND }hung_task_panic=1 softlockup_panic=1"
# aiodev-vm's checks test the runner, not the module, and need the whole
# tree: the private runner copy leaves them out.
export AIODEV_SKIP_AIODEV_VM=1

"$VM_SRC/deps.sh"
"$VM_SRC/fetch-kernel.sh" "$LABEL"
if [[ ${AIODEV_SKIP_BUILD:-0} != 1 ]]; then
	"${MAKE:-make}" -C "$ROOT" userspace selftests >&2
fi

# The runner's copy; programs and tests as built now.
rm -rf "$VMROOT"
mkdir -p "$VMROOT/selftests/out" "$VMROOT/userspace"
cp -a "$VM_SRC" "$VMROOT/selftests/vm"
find "$ROOT/selftests/out" -maxdepth 1 -type f \( -perm -u+x -o -name expected-programs \) \
	-exec cp -a {} "$VMROOT/selftests/out/" \;
find "$ROOT/userspace" -maxdepth 1 -type f -perm -u+x -exec cp -a {} "$VMROOT/userspace/" \;

# run_vm DIR SRC TESTS STEPS: check.sh on SRC, its output and logs into
# DIR. Sets vm_verdict (pass, fail, error), vm_reason and vm_secs.
run_vm() {
	local dir=$1 src=$2 tests=$3 steps=$4 out=$1/check.out kline f t0=$SECONDS
	local built=$VMROOT/build/$kv
	rm -f "$VMROOT/build/logs/$kv".{log,tap} "$VMROOT/build/logs/$kv-build.log"
	AIODEV_SRC=$src AIODEV_KERNELS=$LABEL AIODEV_SKIP_GATES=1 AIODEV_SKIP_BUILD=1 \
		AIODEV_TESTS=$tests AIODEV_STEPS=$steps \
		AIODEV_TESTS_DIR=$VMROOT/selftests/out \
		AIODEV_USERSPACE_DIR=$VMROOT/userspace \
		bash "$VMROOT/selftests/vm/check.sh" >"$out" 2>&1 || true
	vm_secs=$((SECONDS - t0))
	for f in log tap; do
		[[ ! -f $VMROOT/build/logs/$kv.$f ]] || cp "$VMROOT/build/logs/$kv.$f" "$dir/vm.$f"
	done
	[[ ! -f $VMROOT/build/logs/$kv-build.log ]] || cp "$VMROOT/build/logs/$kv-build.log" "$dir/vm-build.log"
	# A release has dots and a "+": matched as a fixed string.
	kline=$(grep -F "kernel $kv: " "$out" | grep -m1 -E '^kernel [^ ]+: (PASS|FAIL)' || true)
	vm_verdict=error
	if [[ -z $kline ]]; then
		vm_reason="check.sh ended before the kernel line: $(tail -n1 "$out")"
		return
	fi
	if [[ $kline == *"(module build)"* ]]; then
		vm_reason="the module build in the VM runner failed (${dir#"$ROOT"/}/vm-build.log)"
		return
	fi
	# What was booted must be what was given: the sources build-module.sh
	# copied, and the module mkinitramfs.sh packed.
	while read -r f; do
		if ! cmp -s "$src/$f" "$built/$f"; then
			vm_reason="the runner built another $f than ${src#"$ROOT"/}/$f"
			return
		fi
	done < <(cd "$src" && find Kbuild kmod uapi -type f)
	if ! cmp -s "$built/kmod/aiodev.ko" "$built/initramfs-check/vm/aiodev.ko"; then
		vm_reason="the initramfs holds another aiodev.ko than the one built"
		return
	fi
	if [[ $kline == *": PASS,"* ]] && grep -qx '[0-9]* passed, 0 failed' "$out"; then
		vm_verdict=pass
		return
	fi
	vm_verdict=fail
	# The first failure (for a splat, with its first line) and the count.
	vm_reason=$(awk '
		/^  FAIL: / && first == "" {
			sub(/^  FAIL: /, ""); first = $0; splat = /kernel splat/; next
		}
		splat { sub(/^ +/, ""); first = first " " $0; splat = 0 }
		/^  FAIL: / { more++ }
		END { print first (more ? " (and " more " more)" : "") }' "$out" | cut -c1-220)
	f=$(sed -n 's/.*: FAIL, pass [0-9]*, fail \([0-9]*\),.*/\1/p' <<<"$kline")
	vm_reason="${f:-?} failed: ${vm_reason:-see check.out}"
}

{
	read -r u_tests
	read -r u_steps
} < <(python3 "$PY" union "$LIST" "${order[@]}")
if [[ ${AIODEV_MUTATE_SKIP_BASELINE:-0} != 1 ]]; then
	say "baseline: the unmutated module, tests '$u_tests', steps '$u_steps'"
	mkdir -p "$OUT/baseline"
	run_vm "$OUT/baseline" "$PRISTINE" "$u_tests" "$u_steps"
	if [[ $vm_verdict != pass ]]; then
		tail -n 40 "$OUT/baseline/check.out"
		echo "baseline: FAIL ($vm_reason): a mutant is only killed by tests that pass without it"
		exit 1
	fi
	echo "baseline: PASS, $vm_secs s"
fi

killed=0 total=0 errors=0 i=0
survivors=()
for id in "${order[@]}"; do
	i=$((i + 1))
	case ${STATUS[$id]} in
	invalid) continue ;;
	warns)
		total=$((total + 1)) killed=$((killed + 1))
		echo "killed $id: ${NOTE[$id]}, not booted"
		continue
		;;
	esac
	say "$i/${#order[@]} $id: ${M_TESTS[$id]:-(no tests)}; steps ${M_STEPS[$id]}"
	run_vm "$OUT/$id" "$OUT/$id/src" "${M_TESTS[$id]}" "${M_STEPS[$id]}"
	case $vm_verdict in
	fail)
		total=$((total + 1)) killed=$((killed + 1))
		echo "killed $id: $vm_reason ($vm_secs s)"
		;;
	pass)
		total=$((total + 1))
		survivors+=("$id")
		echo "SURVIVED $id: ${M_WHAT[$id]} ($vm_secs s)"
		;;
	*)
		errors=$((errors + 1))
		echo "ERROR $id: $vm_reason (${OUT#"$ROOT"/}/$id/check.out)"
		break
		;;
	esac
done

if ((total)); then
	echo "killed $killed/$total ($(awk -v k="$killed" -v t="$total" 'BEGIN { printf "%.1f", 100 * k / t }') %)"
else
	echo "killed 0/0"
fi
if ((${#survivors[@]})); then
	echo "survivors:"
	for id in "${survivors[@]}"; do
		echo "  $id (${M_FILE[$id]}): ${M_WHAT[$id]}"
		[[ -z ${M_SURVIVES[$id]} ]] || echo "    survives: ${M_SURVIVES[$id]}"
	done
fi
((n_invalid == 0)) || echo "$n_invalid invalid mutant(s) not run: fix ${LIST#"$ROOT"/}"
((errors == 0)) || echo "stopped at a run that did not boot: see its check.out"
((n_invalid == 0 && errors == 0))
