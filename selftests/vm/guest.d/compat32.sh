# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
# The *_m32 programs of /vm/tests are i386 builds of the ioctl-ABI and
# plain-I/O kselftests (selftests/Makefile); step_kselftests has run them
# under this 64-bit kernel, through compat_ioctl. They need the kernel's
# IA32 emulation: Debian's 6.1 and 6.12 kernels have it on (6.7+ would
# turn it off with ia32_emulation=0 on the command line). If it is off,
# this check says so, which explains their failures.
_c32_prog=
for _c32_p in /vm/tests/*_m32; do
	[ -x "$_c32_p" ] && _c32_prog=$_c32_p && break
done
if [ -n "$_c32_prog" ]; then
	# kselftest_harness: -l lists the tests and exits with KSFT_SKIP (4).
	"$_c32_prog" -l >/dev/null 2>&1
	_c32_rc=$?
	check "32-bit (i386) programs run: IA32 emulation is on (rc $_c32_rc)" \
		test "$_c32_rc" -eq 4
else
	not_ok "32-bit kselftests (*_m32) are in /vm/tests"
fi
