# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: every module parameter at its limit loads, one past it is
# refused with the kernel-log message naming the parameter and its range,
# and leaves nothing loaded. Runs with the module unloaded, then loads it
# back as guest-check.sh did (nr_devices=2).
# Sourced by guest-check.sh (busybox sh): no exit, names prefixed.

MP_MAX_NSEC=3600000000000

# mp_refused MESSAGE ARGS...: insmod ARGS fails and says MESSAGE.
mp_refused() {
	_mp_msg=$1
	shift
	dmesg -c >/dev/null
	if insmod "$KO" "$@" 2>/dev/null; then
		not_ok "insmod $* is refused"
		rmmod aiodev
		return
	fi
	check "insmod $* is refused with 'aiodev: $_mp_msg'" \
		sh -c "dmesg | grep -qF 'aiodev: $_mp_msg'"
	check_fails "insmod $*: nothing loaded" module_loaded
}

# mp_loads CHECK ARGS...: insmod ARGS works and sh -c CHECK holds.
mp_loads() {
	_mp_check=$1
	shift
	if insmod "$KO" "$@"; then
		check "insmod $*: $_mp_check" sh -c "$_mp_check"
		check "rmmod after insmod $*" rmmod aiodev
	else
		not_ok "insmod $* loads"
	fi
}

# The counters start from zero at every load (checked after the reload):
# four reads so that there is something to forget.
dd if=/dev/aiodev0 of=/dev/null bs=4096 count=4 2>/dev/null
_mp_before=$(cat /sys/class/misc/aiodev0/stats/submitted 2>/dev/null || echo 0)
if module_loaded && ! rmmod aiodev; then
	not_ok "rmmod aiodev before the parameter checks"
else
	mp_refused "nr_devices=0: must be 1 to 16" nr_devices=0
	mp_refused "nr_devices=17: must be 1 to 16" nr_devices=17
	mp_loads "test -c /dev/aiodev15 && test ! -e /dev/aiodev16" nr_devices=16
	mp_refused "queue_depth=0: must be 1 to 65536" queue_depth=0
	mp_refused "queue_depth=65537: must be 1 to 65536" queue_depth=65537
	mp_loads "test \$(cat /sys/module/aiodev/parameters/queue_depth) = 65536" \
		queue_depth=65536
	mp_refused "size_mb=0: must be 1 to 65536" size_mb=0
	mp_refused "size_mb=65537: must be 1 to 65536" size_mb=65537
	mp_loads "aiodev info | grep -q '^  size_bytes *68719476736 '" size_mb=65536
	mp_refused "completion_nsec=$((MP_MAX_NSEC + 1)): must be at most $MP_MAX_NSEC" \
		completion_nsec=$((MP_MAX_NSEC + 1))
	mp_loads "test \$(cat /sys/class/misc/aiodev0/latency_nsec) = $MP_MAX_NSEC" \
		completion_nsec=$MP_MAX_NSEC
	mp_refused "timeout_nsec=$((MP_MAX_NSEC + 1)): must be at most $MP_MAX_NSEC" \
		timeout_nsec=$((MP_MAX_NSEC + 1))
	mp_loads "test \$(cat /sys/class/misc/aiodev0/timeout_nsec) = $MP_MAX_NSEC" \
		timeout_nsec=$MP_MAX_NSEC
	mp_refused "max_requests=0: must be 1 to 16777216" max_requests=0
	mp_refused "max_requests=16777217: must be 1 to 16777216" \
		max_requests=16777217
	mp_loads "test \$(cat /sys/module/aiodev/parameters/max_requests) = 16777216" \
		max_requests=16777216
	# MemTotal is a little below the RAM the check counts: twice it is
	# more than the RAM on any guest.
	_mp_mb=$(($(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 512))
	mp_refused "max_pinned_mb=$_mp_mb: more than the RAM" \
		max_pinned_mb=$_mp_mb
	mp_loads "test \$(cat /sys/module/aiodev/parameters/max_pinned_mb) = 1" \
		max_pinned_mb=1
fi
module_loaded || check "reload aiodev nr_devices=2 after the parameter checks" \
	insmod "$KO" nr_devices=2
check "counters start from zero at load ($_mp_before submitted before)" \
	test "$_mp_before" -gt 0 -a \
	"$(cat /sys/class/misc/aiodev0/stats/submitted)" = 0 -a \
	"$(cat /sys/class/misc/aiodev0/stats/completed_ok)" = 0
