#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: install dependencies, fetch the test kernels, build the
# module for each, the userspace programs and the selftests, then boot each
# kernel under QEMU and run guest-check.sh. Prints one line per kernel and
# finally "N passed, N failed"; exits non-zero on any failure.
#
# Environment (all optional): AIODEV_KERNELS ("6.1 6.12 6.12-rt 7.x 7.x-rt"), AIODEV_VM_MEM,
# AIODEV_VM_SMP, AIODEV_VM_TIMEOUT, AIODEV_VM_APPEND, AIODEV_VM_QEMU_ARGS,
# AIODEV_VM_VERBOSE (run-vm.sh); AIODEV_TEST_TIMEOUT, AIODEV_STEPS,
# AIODEV_TESTS, AIODEV_VM_HOST_BINS ("fio"; guest side, mkinitramfs.sh);
# AIODEV_CACHE, AIODEV_KMODS (fetch-kernel.sh); AIODEV_SRC (module tree),
# AIODEV_TESTS_DIR, AIODEV_USERSPACE_DIR, and AIODEV_SKIP_BUILD=1 to use
# them as they are instead of running make for userspace and selftests;
# AIODEV_SKIP_AIODEV_VM=1 leaves out the aiodev-vm checks (make mutate).
set -euo pipefail
# shellcheck source=selftests/vm/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

passed=0
failed=0
summary_printed=0

summary() {
	echo "$passed passed, $failed failed"
	summary_printed=1
}
# An unexpected error still ends with a summary line, counted as a failure.
on_exit() {
	local rc=$?
	if ((!summary_printed)); then
		((rc == 0)) || failed=$((failed + 1))
		summary
	fi
}
trap on_exit EXIT

# run_kernel LABEL: build, boot and count one kernel; adds to the totals.
run_kernel() {
	local label=$1 kv clog rlog t0 secs rc=0 p f attempt
	kv=$(kver "$label")
	clog=$LOGS/$kv.log
	rlog=$LOGS/$kv.tap
	rm -f "$clog" "$rlog"
	if ! "$VM_DIR/build-module.sh" "$kv"; then
		failed=$((failed + 1))
		echo "kernel $kv: FAIL (module build)"
		return
	fi
	"$VM_DIR/mkinitramfs.sh" "$kv" check "$BUILD/$kv/initramfs-check.cpio"

	log "booting $kv"
	t0=$SECONDS
	for attempt in 1 2 3; do
		rc=0
		"$VM_DIR/run-vm.sh" "$kv" "$BUILD/$kv/initramfs-check.cpio" "$clog" "$rlog" || rc=$?
		# A guest that died before its payload wrote a line died while
		# booting, before aiodev was loaded: QEMU 7.2's TCG now and
		# then runs a stale copy of code the kernel patches at boot
		# (an int3 oops after "sched_clock: Marking stable", about one
		# boot in 20). That boot is tried again, and says so.
		[[ -s $rlog ]] && break
		echo "  boot $attempt of $kv died before the payload started (QEMU exit $rc):" >&2
		splat_lines "$clog" | head -n 3 | sed 's/^/    /' >&2
	done
	secs=$((SECONDS - t0))

	read -r p f < <(count_results "$rlog")
	if ((rc == 124)); then
		echo "  FAIL: VM timed out after ${AIODEV_VM_TIMEOUT:-600} s" >&2
		f=$((f + 1))
	elif ((rc != 0)); then
		echo "  FAIL: QEMU exited with status $rc" >&2
		f=$((f + 1))
	fi
	if ! scan_splats "$clog"; then
		f=$((f + 1))
	fi
	# aiodev-vm on this kernel (all of its checks on the first label).
	if [[ -z $(src_flavour "$label") && ${AIODEV_SKIP_AIODEV_VM:-0} != 1 ]]; then
		"$VM_DIR/aiodev-vm-check.sh" "$label" \
			"$([[ $label == "${labels[0]}" ]] && echo --all)" \
			>"$LOGS/$kv-aiodev-vm.tap" 2>&1
		p=$((p + $(grep -c '^ok ' "$LOGS/$kv-aiodev-vm.tap" || true)))
		f=$((f + $(grep -c '^not ok ' "$LOGS/$kv-aiodev-vm.tap" || true)))
		{ grep -B5 '^not ok ' "$LOGS/$kv-aiodev-vm.tap" || true; } |
			sed 's/^/  /' >&2
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if ((f)); then
		echo "kernel $kv: FAIL, pass $p, fail $f, VM ${secs} s (log: ${clog#"$ROOT"/})"
		print_figures "$rlog" "$clog"
		echo "---- last 60 lines of ${clog#"$ROOT"/} ----"
		tail -n 60 "$clog" | tr -d '\r'
		echo "----"
	else
		echo "kernel $kv: PASS, pass $p, fail 0, VM ${secs} s"
		print_figures "$rlog" "$clog"
	fi
}

# run_host_gates: host-gates.sh (checkpatch, sparse, DKMS, make install,
# man pages, ABI docs), counted like the checks in the VMs. Its TAP goes
# to build/logs/host-gates.tap; a failing gate shows its log's tail.
# AIODEV_SKIP_GATES=1 leaves them out.
run_host_gates() {
	local tap=$LOGS/host-gates.tap t0=$SECONDS p f
	[[ ${AIODEV_SKIP_GATES:-0} == 1 ]] && return
	"$VM_DIR/host-gates.sh" >"$tap" || true
	p=$(grep -c '^ok [0-9]* host: ' "$tap" || true)
	f=$(grep -c '^not ok [0-9]* host: ' "$tap" || true)
	sed -n 's/^not ok /  FAIL: /p' "$tap" >&2
	if ! grep -q '^# host: done' "$tap"; then
		echo "  FAIL: host-gates.sh stopped early" >&2
		f=$((f + 1))
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	echo "host gates: $( ((f)) && echo FAIL || echo PASS), pass $p, fail $f, $((SECONDS - t0)) s"
}

# guest.d/kaio-fio.sh drives Debian's fio in the guest; set
# AIODEV_VM_HOST_BINS= (empty) to leave it out.
export AIODEV_VM_HOST_BINS=${AIODEV_VM_HOST_BINS-fio}

cd "$ROOT"
mkdir -p "$LOGS"
"$VM_DIR/deps.sh"
run_host_gates
read -ra labels <<<"$(kernel_labels)"
"$VM_DIR/fetch-kernel.sh" "${labels[@]}"

if [[ ${AIODEV_SKIP_BUILD:-0} != 1 ]]; then
	# Failures here are counted, not fatal: the VM still runs what built.
	if ! "${MAKE:-make}" -C "$ROOT" userspace; then
		echo "  FAIL: userspace build" >&2
		failed=$((failed + 1))
	fi
	if ! "${MAKE:-make}" -C "$ROOT" selftests; then
		echo "  FAIL: selftests build" >&2
		failed=$((failed + 1))
	fi
fi

for label in "${labels[@]}"; do
	run_kernel "$label"
done

summary
((failed == 0))
