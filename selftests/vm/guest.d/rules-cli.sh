# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# guest.d step: the CLI of rules and scenarios (`aiodev rule`, `aiodev
# scenario load`, `aiodev config --seed`): ids printed, the listing's
# columns, the rules acting on plain I/O, bad input exiting 2 and changing
# nothing on the device.
# Sourced by guest-check.sh (busybox sh): no exit, names prefixed.

RC_OUT=/tmp/rules-cli.out
RC_SC=/tmp/rules-cli.scenario
RC_SYS=/sys/class/misc/aiodev0

aiodev rule clear
_id=$(aiodev rule add --op read --range 4096:4096 --short 100)
check "rule add prints a positive id ($_id)" test "$_id" -gt 0 2>/dev/null
# A read of the range comes back short; one beside it does not.
_n=$(dd if=/dev/aiodev0 bs=4096 skip=1 count=1 2>/dev/null | wc -c)
check "a read in the rule's range is short: $_n bytes" test "$_n" -eq 100
_n=$(dd if=/dev/aiodev0 bs=4096 skip=3 count=1 2>/dev/null | wc -c)
check "a read outside it is whole: $_n bytes" test "$_n" -eq 4096

_id2=$(aiodev rule add --op write --prob 100% --error EROFS --count 1)
check "a second rule gets the next id" test "$_id2" -eq $((_id + 1))
check_fails "a write fails by the second rule" \
	dd if=/dev/zero of=/dev/aiodev0 bs=512 seek=100 count=1 conv=notrunc
check "its count is spent: the next write succeeds" \
	dd if=/dev/zero of=/dev/aiodev0 bs=512 seek=100 count=1 conv=notrunc

aiodev rule list >"$RC_OUT"
cat "$RC_OUT"
check "rule list: a header line not starting with a digit" \
	sh -c "head -n 1 $RC_OUT | grep -qv '^[0-9]'"
check "rule list: rule $_id: match, action, matched 1, applied 1" \
	grep -qx "$_id op=read,range=4096:4096 short=100 1 1" "$RC_OUT"
check "rule list: rule $_id2: prob and count in the match, applied 1" \
	grep -qx "$_id2 op=write,count=1,ppm=1000000 error=EROFS 2 1" "$RC_OUT"
check "sysfs rules: the same counters" \
	test "$(cat $RC_SYS/rules | tr '\n' ' ')" = "$_id 1 1 $_id2 2 1 "

check "rule del $_id" aiodev rule del "$_id"
check_fails "rule del $_id again fails" aiodev rule del "$_id"
check "one rule left" test "$(cat $RC_SYS/rules | wc -l)" -eq 1

# Bad input: exit 2, the field named, nothing added.
rc_exit2 "rule add --op bogus" --op aiodev rule add --op bogus
rc_exit2 "rule add --prob 2" --prob aiodev rule add --prob 2
rc_exit2 "rule add --latency 2ms..1ms" --latency aiodev rule add --latency 2ms..1ms
rc_exit2 "rule add --torn 10" --torn aiodev rule add --torn 10
rc_exit2 "rule add --error EIO --short 1" "only one result" \
	aiodev rule add --error EIO --short 1
rc_exit2 "rule add --range 0:0" --range aiodev rule add --range 0:0
rc_exit2 "rule add --range past the end" --range aiodev rule add --range 64m:1
rc_exit2 "rule add --len 9:8" --len aiodev rule add --len 9:8
rc_exit2 "rule del x" "rule id" aiodev rule del x
check "bad input added no rule" test "$(cat $RC_SYS/rules | wc -l)" -eq 1

# A scenario replaces the rules; a bad line changes nothing.
cat >"$RC_SC" <<'EOF'
# two rules
--op read --len 1:1000 --latency 1ms..2ms --torn 10:EIO   # comment

--path sync --op write --refuse ENOSPC --skip 1
EOF
check "scenario load" aiodev scenario load "$RC_SC"
check "scenario: 2 rules" test "$(cat $RC_SYS/rules | wc -l)" -eq 2
aiodev rule list >"$RC_OUT"
check "scenario: the torn rule as written" \
	grep -q " op=read,len=1:1000 latency=1000000..2000000,torn=10:EIO 0 0$" "$RC_OUT"
check "scenario: the refusal rule as written" \
	grep -q " op=write,path=sync,skip=1 refuse=ENOSPC 0 0$" "$RC_OUT"
printf -- '--op read --short 1\n--op write --frob\n' >"$RC_SC"
rc_exit2 "scenario with a bad line" "$RC_SC:2" aiodev scenario load "$RC_SC"
check "the bad scenario changed nothing" \
	test "$(cat $RC_SYS/rules | wc -l)" -eq 2
check "rule clear" aiodev rule clear
check "no rule left" test -z "$(cat $RC_SYS/rules)"

# The seed shows and is set.
check "config --seed 12345" aiodev config --seed 12345
check "the seed shows in config" sh -c "aiodev config | grep -qE '^ +seed +12345$'"
check "sysfs seed" test "$(cat $RC_SYS/seed)" = 12345
rc_exit2 "config --seed x" --seed aiodev config --seed x
aiodev config --reset >/dev/null
check "config --reset keeps the seed" test "$(cat $RC_SYS/seed)" = 12345

# Distributions: a fio JSON import, a preset, in use by a rule.
cat >"$RC_SC" <<'EOF2'
{ "jobs" : [ { "read" : { "clat_ns" : { "min" : 20000, "max" : 900000,
  "N" : 100, "percentile" : { "50.000000" : 60000, "90.000000" : 120000,
  "99.000000" : 800000 } } } } ] }
EOF2
aiodev latency import fio1 "$RC_SC" >"$RC_OUT"
check "latency import of fio JSON (exit $?)" test $? -eq 0
check "latency import: p50 and p90 as in the file" \
	sh -c "grep -qx 'p50_ns 60000' $RC_OUT && grep -qx 'p90_ns 120000' $RC_OUT"
check "latency preset heavy-tail" \
	sh -c "aiodev latency preset tail heavy-tail median=100us tail=1% >/dev/null"
_id=$(aiodev rule add --latency dist:tail --op read)
check "rule add --latency dist:tail ($_id)" test "$_id" -gt 0 2>/dev/null
check "rule list shows the distribution" \
	sh -c "aiodev rule list | grep -q '^$_id op=read latency=dist:tail 0 0$'"
check_fails "latency delete of a distribution in use fails" \
	aiodev latency delete tail
aiodev rule add --latency dist:nosuch >/dev/null 2>"$RC_OUT"
check "rule add --latency dist:nosuch: exit 1, says no such distribution" \
	sh -c "test $? -eq 1 && grep -q \"no distribution 'nosuch'\" $RC_OUT"
rc_exit2 "latency preset bad parameter" "frob=1" \
	aiodev latency preset x heavy-tail median=1ms frob=1
rc_exit2 "latency import of an unrecognised file" "$RC_OUT" \
	aiodev latency import x "$RC_OUT"
aiodev rule clear
check "latency delete tail" aiodev latency delete tail
check "latency delete fio1" aiodev latency delete fio1
check_fails "latency delete fio1 again fails" aiodev latency delete fio1
rm -f "$RC_OUT" "$RC_SC"
