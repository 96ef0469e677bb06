// SPDX-License-Identifier: GPL-2.0
/*
 * Not a test of aiodev: a test of the CPU the test kernel runs on.
 *
 * QEMU 7.2's TCG (Debian 12's) computes the flags of LOCK CMPXCHG16B from
 * a stale record of the previous flag-setting instruction: when the
 * translation block began right after an IRET or POPF, the RFLAGS it
 * leaves are the operand of the last ADD or SUB, TF, DF, AC and all. The
 * kernel's SLUB allocator executes that instruction on every lockless
 * allocation and free; an interrupt taken right after it pushes those
 * flags and IRET loads them, so the interrupted code single-steps (#DB),
 * runs its string instructions backwards over the stack and slab
 * freelists (DF), and the kernel dies far from the cause. That was
 * issue 11. selftests/vm/run-vm.sh therefore hides CMPXCHG16B from the
 * guest on such a QEMU; this program checks that the guest either lacks
 * the instruction or gets its flags right, so a test kernel never runs on
 * the broken one unnoticed.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <stdint.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

/* Arithmetic flags, which CMPXCHG16B may set, and IF plus reserved bit 1. */
#define ARITH_FLAGS	0x8d5ULL
#define ALWAYS_FLAGS	0x202ULL

static bool has_cx16(void)
{
	unsigned int a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_CMPXCHG16B);
}

/*
 * POPF, then a jump so that the next instruction starts a new translation
 * block, an ADD of @marker, LOCK CMPXCHG16B (which succeeds), PUSHF.
 * Returns the flags PUSHF saw.
 */
static uint64_t flags_after_cmpxchg16b(uint64_t marker)
{
	static unsigned __int128 mem __attribute__((aligned(16)));
	uint64_t flags, acc = 0;

	mem = 0;
	asm volatile("pushfq\n\t"
		     "popfq\n\t"
		     "jmp 1f\n"
		     "1:\n\t"
		     "xor %%eax, %%eax\n\t"
		     "xor %%edx, %%edx\n\t"
		     "mov $1, %%ebx\n\t"
		     "xor %%ecx, %%ecx\n\t"
		     "add %[marker], %[acc]\n\t"
		     "lock cmpxchg16b %[mem]\n\t"
		     "pushfq\n\t"
		     "popq %[flags]\n\t"
		     : [flags] "=r"(flags), [acc] "+r"(acc), [mem] "+m"(mem)
		     : [marker] "r"(marker)
		     : "rax", "rbx", "rcx", "rdx", "cc", "memory");
	return flags;
}

TEST(rflags_after_lock_cmpxchg16b)
{
	/* DF and high bits: what would hurt most if it leaked. */
	const uint64_t marker = 0x12345400ULL;
	uint64_t flags, bad = 0;
	int i;

	if (!has_cx16()) {
		TH_LOG("the CPU does not offer CMPXCHG16B: the kernel does without it");
		return;
	}
	for (i = 0; i < 1000; i++) {
		flags = flags_after_cmpxchg16b(marker);
		if (flags & ~(ARITH_FLAGS | ALWAYS_FLAGS))
			bad++;
	}
	EXPECT_EQ(0ULL, (unsigned long long)bad)
		TH_LOG("%llu of 1000: RFLAGS %#llx after LOCK CMPXCHG16B: this emulator breaks the kernel's SLUB; hide the instruction (-cpu ...,-cx16, selftests/vm/run-vm.sh)",
		       (unsigned long long)bad, (unsigned long long)flags);
}

TEST_HARNESS_MAIN
