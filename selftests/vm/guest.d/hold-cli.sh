# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: holding and releasing from the CLI (`aiodev rule add
# --hold`, `aiodev held`, `aiodev release`): a write and a read held from
# two processes, listed, released in the chosen order with chosen results;
# bad input exiting 2.
# Sourced by guest-check.sh (busybox sh): no exit, names prefixed.

HC_OUT=/tmp/hold-cli.out
HC_A=/tmp/hold-cli.a
HC_B=/tmp/hold-cli.b

aiodev rule clear
_id=$(aiodev rule add --path sync --hold --deadline 20s)
check "rule add --hold --deadline 20s ($_id)" test "$_id" -gt 0 2>/dev/null
check "rule list shows the hold and its deadline" \
	sh -c "aiodev rule list | grep -q '^$_id path=sync hold=20000000000 0 0$'"

# A write of 'A's at 1 MiB and a read at 2 MiB, each held.
dd if=/dev/zero bs=4096 count=1 2>/dev/null | tr '\0' 'A' >"$HC_A"
dd if="$HC_A" of=/dev/aiodev0 bs=4096 seek=256 count=1 conv=notrunc 2>/dev/null &
_w=$!
dd if=/dev/aiodev0 of="$HC_B" bs=4096 skip=512 count=1 2>/dev/null &
_r=$!
aiodev held --wait 2 --timeout 10s >"$HC_OUT"
check "held --wait 2 exits 0" test $? -eq 0
cat "$HC_OUT"
check "held: a header not starting with a digit, then 2 lines" \
	sh -c "head -n 1 $HC_OUT | grep -qv '^[0-9]' && test \$(wc -l <$HC_OUT) -eq 3"
_wid=$(awk '$3 == "write" && $4 == 1048576 && $5 == 4096 { print $1 }' "$HC_OUT")
_rid=$(awk '$3 == "read" && $4 == 2097152 && $5 == 4096 { print $1 }' "$HC_OUT")
check "held: the write (id $_wid) and the read (id $_rid), sync, in bytes" \
	sh -c "test -n '$_wid' && test -n '$_rid' && grep -q ' sync write 1048576 4096 $_w ' $HC_OUT"
check "both writers still wait" sh -c "kill -0 $_w && kill -0 $_r"

# The read first, short; then the write, torn after 100 bytes.
aiodev release "$_rid:short:512" "$_wid:torn:100:EIO" >"$HC_OUT"
check "release 2 exits 0 and says so" grep -qx 'released 2' "$HC_OUT"
wait $_r
check "the held read returned 512 bytes" test "$(wc -c <"$HC_B")" -eq 512
wait $_w
_rc=$?
check "the held write failed (dd exit $_rc)" test "$_rc" -ne 0
aiodev rule clear
check "the torn write stored its first 100 bytes" \
	test "$(dd if=/dev/aiodev0 bs=4096 skip=256 count=1 2>/dev/null | head -c 100 | tr -d A | wc -c)" -eq 0
check "and no more" \
	test "$(dd if=/dev/aiodev0 bs=4096 skip=256 count=1 2>/dev/null | tail -c 3996 | tr -d A | wc -c)" -eq 3996

# Nothing held: release of a gone id fails, all releases none.
aiodev release "$_rid" >/dev/null 2>"$HC_OUT"
check "release of a released id: exit 1" test $? -eq 1
check "it says the request is not held" grep -q "is not held" "$HC_OUT"
check "release all with none held: released 0" \
	sh -c "aiodev release all | grep -qx 'released 0'"
aiodev held --wait 1 --timeout 50ms >/dev/null 2>"$HC_OUT"
check "held --wait 1 --timeout 50ms with none: exit 1" test $? -eq 1
check "it says fewer were held" grep -q "fewer than 1" "$HC_OUT"

# Parked: released but still completing, until a second release.
aiodev rule add --path sync --op read --hold >/dev/null
dd if=/dev/aiodev0 of="$HC_B" bs=512 skip=10 count=1 2>/dev/null &
_r=$!
aiodev held --wait 1 --timeout 10s >"$HC_OUT"
_hid=$(awk 'NR == 2 { print $1 }' "$HC_OUT")
check "release --park $_hid:short:100" \
	sh -c "aiodev release --park $_hid:short:100 | grep -qx 'released 1'"
check "held lists it as parked" sh -c "aiodev held | grep -q '^$_hid .* parked\$'"
check "the parked reader still waits" kill -0 "$_r"
check "a second release delivers it" \
	sh -c "aiodev release $_hid | grep -qx 'released 1'"
wait "$_r"
check "the reader got the first release's 100 bytes" \
	test "$(wc -c <"$HC_B")" -eq 100
aiodev rule clear

# Bad input: exit 2, the field named.
rc_exit2 "release 5:bogus" "5:bogus" aiodev release 5:bogus
rc_exit2 "release all 3" "after all" aiodev release all 3
rc_exit2 "release 0" "'0'" aiodev release 0
rc_exit2 "held --wait 0" --wait aiodev held --wait 0
rc_exit2 "held --timeout without --wait" "--timeout needs" aiodev held --timeout 1s
rc_exit2 "rule add --deadline without --hold" "--deadline needs" \
	aiodev rule add --deadline 1s
rc_exit2 "rule add --hold --latency 1ms" "exclude" \
	aiodev rule add --hold --latency 1ms
rc_exit2 "release --park all" "--park" aiodev release --park all
rm -f "$HC_OUT" "$HC_A" "$HC_B"
