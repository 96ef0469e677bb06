// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the arguments of the calls, where they are placed and the
 * values of their fields.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- argument placement ----------------------------------------------- */

const __u64 kernel_ptrs[] = {
	0xffffffff81000000ULL, 0xffff888000000000ULL, 0xfffffffffffff000ULL,
	0xffffffffffffffffULL,
};
const __u64 noncanon_ptrs[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0x00007ffffffff000ULL,
	0x00dead0000000000ULL,
};

/* A structure of @size bytes in this thread's argument page. */
void *place(struct th *t, int pk, size_t size, unsigned char *area,
	    size_t area_bytes)
{
	switch (pk) {
	case P_OK:
		return area;
	case P_MISALIGNED:
		return area + 1 + rnd(t) % 7;
	case P_NULL:
		return NULL;
	case P_GUARD:
		return t->fz->guard + rnd(t) % 64;
	case P_RO:
		return t->fz->ro;
	case P_STRADDLE:
		return area + area_bytes - (size > 1 ? size / 2 : 1);
	case P_KERNEL:
		return (void *)(uintptr_t)kernel_ptrs[rnd(t) % 4];
	default:
		return (void *)(uintptr_t)noncanon_ptrs[rnd(t) % 4];
	}
}

int pick_pk(struct th *t)
{
	return chance(t, 70) ? (chance(t, 80) ? P_OK : P_MISALIGNED) :
	       (int)(P_NULL + rnd(t) % (NPK - P_NULL));
}

/*
 * A data buffer of @len bytes: in the victim area (the only memory the
 * kernel may write data into), or somewhere it cannot be used.
 */
__u64 data_ptr(struct th *t, __u64 len, int *pk)
{
	struct fz *fz = t->fz;
	int k = chance(t, 75) ? P_OK : (int)(P_NULL + rnd(t) % (NPK - P_NULL));

	*pk = k;
	if (k == P_OK) {
		__u64 room = len < VICTIM_BYTES ? VICTIM_BYTES - len : 0;

		if (len <= VICTIM_BYTES && chance(t, 10))	/* into the guard */
			return (__u64)(uintptr_t)fz->victim + VICTIM_BYTES -
			       (len > 1 ? len / 2 : 1);
		return (__u64)(uintptr_t)fz->victim +
		       (room ? rnd(t) % room : 0);
	}
	if (k == P_RO)
		return (__u64)(uintptr_t)fz->ro;
	if (k == P_STRADDLE)
		return (__u64)(uintptr_t)fz->ro + PAGE_SZ - 1;
	return (__u64)(uintptr_t)place(t, k, len, t->arg, PAGE_SZ);
}

/* ---- field values ------------------------------------------------------ */

__u32 pick_u32(struct th *t, __u32 depth)
{
	static const __u32 v[] = { 0, 1, 2, 7, 64, 0x7fffffff, 0x80000000,
				   0xffffffff };

	switch (rnd(t) % 4) {
	case 0: return v[rnd(t) % ARRAY_SIZE(v)];
	case 1: return depth + (int)(rnd(t) % 3) - 1;
	case 2: return rnd(t);
	default: return rnd(t) % 16;
	}
}

__u64 pick_nsec(struct th *t)
{
	static const __u64 v[] = {
		0, 1, 1000, 100000, 1000000, AIODEV_MAX_NSEC - 1,
		AIODEV_MAX_NSEC, AIODEV_MAX_NSEC + 1, ~0ULL, 1ULL << 63,
	};

	return chance(t, 80) ? v[rnd(t) % ARRAY_SIZE(v)] : rnd(t);
}

/*
 * Mostly short: a 1 MiB transfer costs milliseconds of page pinning and
 * copying under TCG, and the boundaries need no repetition.
 */
__u32 pick_len(struct th *t)
{
	static const __u32 v[] = { 0, 1, 511, 512, 4096, 4097, 65536,
				   0xffffffff };
	static const __u32 big[] = { AIODEV_MAX_IO_BYTES - 1,
				     AIODEV_MAX_IO_BYTES,
				     AIODEV_MAX_IO_BYTES + 1 };

	switch (rnd(t) % 20) {
	case 0:
		return big[rnd(t) % ARRAY_SIZE(big)];
	case 1:
		return 1 + rnd(t) % AIODEV_MAX_IO_BYTES;
	case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		return v[rnd(t) % ARRAY_SIZE(v)];
	default:
		return 1 + rnd(t) % 8192;
	}
}

__u64 pick_off(struct th *t, __u64 size, __u64 len)
{
	switch (rnd(t) % 10) {
	case 0: return 0;
	case 1: return size;
	case 2: return size - 1;
	case 3: return size + 1;
	case 4: return size > len ? size - len : 0;
	case 5: return ~0ULL - (len ? len - 2 : 0);	/* off + len wraps */
	case 6: return 1ULL << 63;
	case 7: return rnd(t);
	default: return rnd(t) % size;
	}
}

/*
 * Keep data out of the range other programs expect to stay zero: a write
 * moves at most AIODEV_MAX_IO_BYTES (longer ones are short or refused).
 */
__u64 avoid_zero(__u64 off, __u64 len)
{
	if (len > AIODEV_MAX_IO_BYTES)
		len = AIODEV_MAX_IO_BYTES;
	if (off >= ZERO_REGION_OFF + ZERO_REGION_LEN ||
	    off + len <= ZERO_REGION_OFF || off + len < off)
		return off;
	return off % (ZERO_REGION_OFF - len);
}

/* An fd number that is none of ours (so never the console). */
int junk_fd(struct th *t)
{
	switch (rnd(t) % 3) {
	case 0: return -1;
	case 1: return t->fz->efd;
	default: return 100000 + rnd(t) % 1000;
	}
}

static int pick_slot(struct fz *fz, bool b, int i, struct sref *r)
{
	r->slot = i;
	r->dev = i % NDEV;
	r->genp = b ? &fz->gen_b[i] : &fz->gen_a[i];
	r->gen = atomic_load(r->genp);
	r->fd = atomic_load(b ? &fz->slot_b[i] : &fz->slot_a[i]);
	return r->fd;
}

int pick_fd_a(struct th *t, struct sref *r)
{
	return pick_slot(t->fz, false, rnd(t) % NSLOT_A, r);
}

int pick_fd_b(struct th *t, struct sref *r)
{
	return pick_slot(t->fz, true, rnd(t) % NSLOT_B, r);
}
