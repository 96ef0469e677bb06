// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the workers' blocks and buffers, the patterns they write
 * and check, their shadows, and the final read-back of every block.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- blocks, patterns and buffers ------------------------------------ */

static __u64 pat_seed(int dev, __u32 block, __u32 gen)
{
	return ((__u64)dev << 60) ^ ((__u64)block << 28) ^ gen ^
	       0x9e3779b97f4a7c15ULL;
}

unsigned char *bufp(struct worker *w, int b)
{
	return w->pool + (size_t)b * BUFSZ;
}

int buf_get(struct worker *w)
{
	return w->nfree ? w->freebuf[--w->nfree] : -1;
}

void buf_put(struct worker *w, int b)
{
	if (b >= 0)
		w->freebuf[w->nfree++] = b;
}

/* Pick @k (random) consecutive own blocks on @dev free for the op. */
bool pick_blocks(struct worker *w, int dev, bool write, __u32 *blk,
		 __u8 *k, bool full_k)
{
	int t;

	for (t = 0; t < 8; t++) {
		__u8 kk = full_k ? MAX_K : 1 + rnd(w) % MAX_K;
		__u32 s = rnd(w) % (w->nb - kk + 1), i;
		bool ok = true;

		for (i = 0; i < kk && ok; i++)
			ok = !w->wr[dev][s + i] && (!write || !w->rd[dev][s + i]);
		if (!ok)
			continue;
		for (i = 0; i < kk; i++) {
			if (write)
				w->wr[dev][s + i] = 1;
			else
				w->rd[dev][s + i]++;
		}
		*blk = s;
		*k = kk;
		return true;
	}
	return false;
}

void unpick(struct worker *w, int dev, bool write, __u32 blk, __u8 k)
{
	__u32 i;

	for (i = 0; i < k; i++) {
		if (write)
			w->wr[dev][blk + i] = 0;
		else
			w->rd[dev][blk + i]--;
	}
}

void fill_write(struct worker *w, int dev, __u32 blk, __u8 k,
		__u32 gen, unsigned char *buf)
{
	__u32 i;

	for (i = 0; i < k; i++)
		fill_pattern(buf + i * BLK, BLK,
			     pat_seed(dev, w->first + blk + i, gen));
}

/* A write ended: @how is C_OK (landed), another cat (did not), or -1. */
void write_done(struct worker *w, int dev, __u32 blk, __u8 k,
		__u32 gen, int how)
{
	__u32 i;

	for (i = 0; i < k; i++) {
		if (how == C_OK)
			w->gen[dev][blk + i] = gen;
		else if (how < 0)
			w->gen[dev][blk + i] = GEN_UNKNOWN;
		w->wr[dev][blk + i] = 0;
	}
}

/* A successful read of [roff, roff + rlen) of blocks blk..blk+k-1. */
void verify_read(struct worker *w, int dev, __u32 blk, __u8 k,
		 __u32 roff, __u32 rlen, const unsigned char *buf,
		 const char *path)
{
	unsigned char want[BLK];
	__u32 i;

	for (i = 0; i < k; i++) {
		__u32 g = w->gen[dev][blk + i];
		__u32 lo = i * BLK, hi = lo + BLK, j;

		if (lo < roff)
			lo = roff;
		if (hi > roff + rlen)
			hi = roff + rlen;
		if (lo >= hi || !g || g == GEN_UNKNOWN)
			continue;
		fill_pattern(want, BLK, pat_seed(dev, w->first + blk + i, g));
		if (!memcmp(buf + (lo - roff), want + (lo - i * BLK), hi - lo))
			continue;
		for (j = lo; j < hi; j++)
			if (buf[j - roff] != want[j - i * BLK])
				break;
		atomic_fetch_add(&w->run->mismatches, 1);
		st_fail(w->run, "%s read: dev %d block %u (gen %u) differs at byte %u",
			path, dev, w->first + blk + i, g, j - i * BLK);
	}
	if (find_not(buf + rlen, GUARD, CANARY) >= 0)
		st_fail(w->run, "%s read of %u bytes wrote past its end", path,
			rlen);
	atomic_fetch_add(&w->run->verified_reads, 1);
}

void check_canary(struct worker *w, const unsigned char *buf,
		  __u32 rlen, const char *path, long long res)
{
	long at = find_not(buf, rlen + GUARD, CANARY);

	if (at >= 0)
		st_fail(w->run, "%s read ending %lld touched its buffer at byte %ld",
			path, res, at);
	atomic_fetch_add(&w->run->canaries, 1);
}

/* Classify a result; -1 if it is none of those a request may end with. */
int classify(long long res, long long want_ok, bool nop)
{
	if (res == want_ok)
		return C_OK;
	if (res == -ETIMEDOUT)
		return C_TMO;
	if (res == -ECANCELED)
		return C_CAN;
	if (res == -ERR_NTH || (!nop && res == -ERR_RANGE))
		return C_FAIL;
	return -1;
}

void count(struct run *run, int dev, int cat)
{
	atomic_fetch_add(&run->observed[dev][cat], 1);
}

/* Close an fd while no fork() is in progress (see the killer). */
int close_locked(struct run *run, int fd)
{
	int ret;

	pthread_rwlock_rdlock(&run->forklock);
	ret = close(fd);
	pthread_rwlock_unlock(&run->forklock);
	return ret;
}

struct aiodev_counters ctx_counters(struct run *run, int fd)
{
	struct aiodev_stats st;

	if (aio_get_stats(fd, &st)) {
		st_fail(run, "GET_STATS: %s", strerror(errno));
		memset(&st, 0, sizeof(st));
	}
	return st.context;
}

/* ---- shadows and the final check ------------------------------------- */

void shadow_alloc(struct worker *w)
{
	int d;

	for (d = 0; d < NDEV; d++) {
		w->gen[d] = calloc(w->nb, sizeof(__u32));
		w->wr[d] = calloc(w->nb, 1);
		w->rd[d] = calloc(w->nb, 1);
	}
	/* Not inherited by fork(): a pinned page never becomes shared. */
	w->pool = mmap(NULL, (size_t)NBUF * BUFSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (w->pool == MAP_FAILED)
		w->pool = NULL;
	else
		madvise(w->pool, (size_t)NBUF * BUFSZ, MADV_DONTFORK);
	for (w->nfree = 0; w->nfree < NBUF; w->nfree++)
		w->freebuf[w->nfree] = w->nfree;
}

/* Read every block with a known latest write back; count mismatches. */
__u64 final_verify(struct run *run, struct worker *w, int fd, int dev,
		   unsigned char *big)
{
	unsigned char want[BLK];
	__u64 bad = 0;
	__u32 b = 0;

	while (b < w->nb) {
		__u32 n = 0, i;
		ssize_t got;

		while (b < w->nb && (!w->gen[dev][b] ||
				     w->gen[dev][b] == GEN_UNKNOWN))
			b++;
		while (b + n < w->nb && n < 256 && w->gen[dev][b + n] &&
		       w->gen[dev][b + n] != GEN_UNKNOWN)
			n++;
		if (!n)
			break;
		got = pread(fd, big, (size_t)n * BLK,
			    (__u64)(w->first + b) * BLK);
		if (got != (ssize_t)n * BLK) {
			st_fail(run, "final read of aiodev%d block %u: %zd (%s)",
				dev, w->first + b, got, strerror(errno));
			return bad + n;
		}
		for (i = 0; i < n; i++) {
			fill_pattern(want, BLK, pat_seed(dev, w->first + b + i,
							 w->gen[dev][b + i]));
			if (memcmp(big + (size_t)i * BLK, want, BLK)) {
				if (!bad)
					st_fail(run, "aiodev%d block %u does not hold its last successful write (gen %u)",
						dev, w->first + b + i,
						w->gen[dev][b + i]);
				bad++;
			}
		}
		atomic_fetch_add(&run->final_blocks, n);
		b += n;
	}
	return bad;
}
