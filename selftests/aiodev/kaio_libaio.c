// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev through kernel AIO (libaio: io_submit/io_getevents/io_cancel/
 * io_destroy): round trips, completion order from the device latency and
 * jitter, eventfd notification, timeouts and fault-plan errnos as event
 * results, data landing only at completion, O_DIRECT, io_cancel semantics,
 * teardown (close, io_destroy, exit) with requests in flight and a batch of
 * 1024 requests in one io_submit.
 *
 * libaio calls return a negative errno, not -1/errno.
 */
#define _GNU_SOURCE
#include <libaio.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/eventfd.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

FIXTURE(la) {
	int fd;
	io_context_t ctx;
	__u64 size;
};

FIXTURE_SETUP(la)
{
	struct aiodev_info info;

	self->fd = fixture_open(_metadata, 0, &info);
	self->size = info.size_bytes;
	self->ctx = 0;
	ASSERT_EQ(0, io_setup(256, &self->ctx));
}

FIXTURE_TEARDOWN(la)
{
	/* Cancels whatever a failed test left in flight. */
	if (self->ctx) {
		EXPECT_EQ(0, io_destroy(self->ctx));
	}
	fixture_close(_metadata, self->fd);
}

/*
 * Reap exactly @n events into @ev, or as many as come within @timeout_ns.
 * Returns the number reaped or a negative errno.
 */
static int la_reap(io_context_t ctx, struct io_event *ev, int n,
		   __u64 timeout_ns)
{
	__u64 deadline = now_ns() + timeout_ns;
	int got = 0;

	while (got < n) {
		__u64 now = now_ns(), left;
		struct timespec ts;
		int ret;

		if (now >= deadline)
			break;
		left = deadline - now;
		ts.tv_sec = left / NSEC_PER_SEC;
		ts.tv_nsec = left % NSEC_PER_SEC;
		ret = io_getevents(ctx, n - got, n - got, ev + got, &ts);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return ret;
		got += ret;
	}
	return got;
}

/* Events ready right now, without waiting. */
static int la_peek(io_context_t ctx, struct io_event *ev, int n)
{
	struct timespec ts = { 0, 0 };

	return io_getevents(ctx, 0, n, ev, &ts);
}

static long ev_res(const struct io_event *e)
{
	return (long)e->res;
}

static long ev_tag(const struct io_event *e)
{
	return (long)(uintptr_t)e->data;
}

static void tag(struct iocb *cb, long t)
{
	cb->data = (void *)(uintptr_t)t;
}

/* Submit @n iocbs in one call; returns io_submit's value. */
static int la_submit(io_context_t ctx, struct iocb *cbs, int n)
{
	struct iocb **pp = calloc(n, sizeof(*pp));
	int i, ret;

	if (!pp)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		pp[i] = &cbs[i];
	ret = io_submit(ctx, n, pp);
	free(pp);
	return ret;
}

/* One request, waited for; its result or a negative errno from the calls. */
static long la_one(io_context_t ctx, struct iocb *cb)
{
	struct io_event ev;
	int ret = la_submit(ctx, cb, 1);

	if (ret != 1)
		return ret < 0 ? ret : -EPROTO;
	ret = la_reap(ctx, &ev, 1, WAIT_LONG_NS);
	if (ret != 1)
		return ret < 0 ? ret : -ETIME;
	if (ev.obj != cb)
		return -EPROTO;
	return ev_res(&ev);
}

TEST_F(la, roundtrip_random_offsets)
{
	enum { N = 32, MAXLEN = 64 << 10 };
	__u64 seed = kaio_seed(), pbase = seed, off[N];
	__u32 len[N];
	struct iocb cb[N];
	struct io_event ev[N];
	unsigned char *w, *r;
	size_t stride = MAXLEN + 2 * PAGE_SZ;
	int i;

	TH_LOG("seed %llu (KAIO_SEED)", (unsigned long long)seed);
	w = kaio_buf(N * stride, 0);
	r = kaio_buf(N * stride, 0xee);
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	kaio_random_extents(&seed, N, MAXLEN, off, len);
	/* Some jitter, so the batch completes out of order. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1) / 10, MSEC(3), 0));

	for (i = 0; i < N; i++) {
		/* Misaligned buffers (0..4095) exercise page-straddling. */
		size_t mis = rnd_next(&seed) % PAGE_SZ;

		fill_pattern(w + i * stride + mis, len[i], pbase + i);
		io_prep_pwrite(&cb[i], self->fd, w + i * stride + mis, len[i],
			       off[i]);
		tag(&cb[i], i);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((long)len[ev_tag(&ev[i])], ev_res(&ev[i]));
	}

	for (i = 0; i < N; i++) {
		size_t mis = (i * 97) % PAGE_SZ;

		io_prep_pread(&cb[i], self->fd, r + i * stride + mis, len[i],
			      off[i]);
		tag(&cb[i], i);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		long t = ev_tag(&ev[i]);

		ASSERT_EQ((long)len[t], ev_res(&ev[i]));
		ASSERT_EQ(&cb[t], ev[i].obj);
	}
	for (i = 0; i < N; i++) {
		size_t mis = (i * 97) % PAGE_SZ;
		unsigned char *rp = r + i * stride + mis;

		fill_pattern(w, len[i], pbase + i);
		ASSERT_EQ(0, memcmp(w, rp, len[i]))
			TH_LOG("extent %d: off %llu len %u", i,
			       (unsigned long long)off[i], len[i]);
		/* Nothing written around the target. */
		ASSERT_EQ(-1L, find_not(r + i * stride, mis, 0xee));
		ASSERT_EQ(-1L, find_not(rp + len[i], 64, 0xee));
	}
	kaio_buf_free(w, N * stride);
	kaio_buf_free(r, N * stride);
}

TEST_F(la, readv_writev_roundtrip)
{
	static const size_t wl[3] = { 1000, 4096, 333 }, rl[3] = { 777, 4000, 652 };
	const __u64 off = (5ULL << 20) + 12345;
	unsigned char *w = kaio_buf(3 * PAGE_SZ, 0), *r = kaio_buf(3 * PAGE_SZ, 0);
	unsigned char src[5429], dst[5429];
	struct iovec wv[3], rv[3];
	struct iocb cb;
	size_t i, pos;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	fill_pattern(src, sizeof(src), 42);
	for (i = 0, pos = 0; i < 3; pos += wl[i], i++) {
		wv[i].iov_base = w + i * PAGE_SZ + 7 * i;
		wv[i].iov_len = wl[i];
		memcpy(wv[i].iov_base, src + pos, wl[i]);
		rv[i].iov_base = r + i * PAGE_SZ + 11 * i;
		rv[i].iov_len = rl[i];
	}
	io_prep_pwritev(&cb, self->fd, wv, 3, off);
	ASSERT_EQ((long)sizeof(src), la_one(self->ctx, &cb));
	io_prep_preadv(&cb, self->fd, rv, 3, off);
	ASSERT_EQ((long)sizeof(src), la_one(self->ctx, &cb));
	for (i = 0, pos = 0; i < 3; pos += rl[i], i++)
		memcpy(dst + pos, rv[i].iov_base, rl[i]);
	ASSERT_EQ(0, memcmp(src, dst, sizeof(src)));
	kaio_buf_free(w, 3 * PAGE_SZ);
	kaio_buf_free(r, 3 * PAGE_SZ);
}

/*
 * A slow batch, then the device latency is lowered and a fast batch goes
 * in: both are in flight together and the fast one completes first.
 */
TEST_F(la, slow_batch_then_fast_batch_completes_first)
{
	enum { N = 8 };
	struct iocb cb[2 * N];
	struct io_event ev[2 * N];
	unsigned char *buf = kaio_buf(2 * N * PAGE_SZ, 0);
	__u64 t0;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_SLOW_NS, 0, 0));
	for (i = 0; i < 2 * N; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      i * PAGE_SZ);
		tag(&cb[i], i);
	}
	t0 = now_ns();
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_FAST_NS, 0, 0));
	ASSERT_EQ(N, la_submit(self->ctx, cb + N, N));
	ASSERT_EQ(2 * N, la_reap(self->ctx, ev, 2 * N, WAIT_LONG_NS));
	/* A timer never fires early: the slow ones took at least their latency. */
	EXPECT_LE(t0 + KAIO_SLOW_NS, now_ns());
	for (i = 0; i < 2 * N; i++) {
		EXPECT_EQ((long)PAGE_SZ, ev_res(&ev[i]));
		if (i < N) {
			EXPECT_LE(N, ev_tag(&ev[i]))
				TH_LOG("event %d is slow request %ld", i,
				       ev_tag(&ev[i]));
		} else {
			EXPECT_GT(N, ev_tag(&ev[i]))
				TH_LOG("event %d is fast request %ld", i,
				       ev_tag(&ev[i]));
		}
	}
	kaio_buf_free(buf, 2 * N * PAGE_SZ);
}

TEST_F(la, jitter_completes_out_of_order)
{
	enum { N = 64 };
	struct iocb cb[N];
	struct io_event ev[N];
	unsigned char *buf = kaio_buf(N * 512, 0);
	int i, inversions = 0;

	ASSERT_NE(NULL, buf);
	/* 1 ms + U(0, 40 ms): 64 in submission order is astronomically rare. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1), MSEC(40), 0));
	for (i = 0; i < N; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * 512, 512, i * 512);
		tag(&cb[i], i);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ(512L, ev_res(&ev[i]));
		if (i && ev_tag(&ev[i]) < ev_tag(&ev[i - 1]))
			inversions++;
	}
	TH_LOG("%d inversions in %d completions", inversions, N);
	EXPECT_LT(0, inversions);
	kaio_buf_free(buf, N * 512);
}

static __u64 efd_take(int efd)
{
	__u64 v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

/* Collect eventfd counts until @want or @timeout_ns; returns the total. */
static __u64 efd_collect(int efd, __u64 want, __u64 timeout_ns)
{
	__u64 deadline = now_ns() + timeout_ns, total = 0;

	while (total < want && now_ns() < deadline) {
		struct pollfd p = { .fd = efd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0)
			total += efd_take(efd);
	}
	return total;
}

TEST_F(la, eventfd_counts_completions)
{
	enum { NF = 16, NU = 4, N = NF + NU };
	struct iocb cb[N];
	struct io_event ev[N];
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0xee);
	int efd, i, ready;
	__u64 v;

	ASSERT_NE(NULL, buf);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);

	/* Phase 1: successes. Only the NF flagged iocbs signal. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(200), 0, 0));
	for (i = 0; i < N; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      i * PAGE_SZ);
		if (i < NF)
			io_set_eventfd(&cb[i], efd);
		tag(&cb[i], i);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	EXPECT_EQ(-1, read(efd, &v, sizeof(v)));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("eventfd signalled before completion");
	EXPECT_EQ((__u64)NF, efd_collect(efd, NF, WAIT_LONG_NS));
	/* The signal follows the event: that many are ready now. */
	ready = la_peek(self->ctx, ev, N);
	EXPECT_LE(NF, ready);
	ASSERT_EQ(N - ready, la_reap(self->ctx, ev + ready, N - ready,
				     WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((long)PAGE_SZ, ev_res(&ev[i]));
	}
	EXPECT_EQ(0ULL, efd_collect(efd, 1, MSEC(50))) TH_LOG("extra signals");

	/* Phase 2: timeouts and faults signal too, once per completion. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(100), 0, MSEC(20)));
	for (i = 0; i < 8; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      i * PAGE_SZ);
		io_set_eventfd(&cb[i], efd);
	}
	ASSERT_EQ(8, la_submit(self->ctx, cb, 8));
	ASSERT_EQ(8, la_reap(self->ctx, ev, 8, WAIT_LONG_NS));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(-ETIMEDOUT, ev_res(&ev[i]));
	}
	EXPECT_EQ(8ULL, efd_collect(efd, 8, WAIT_LONG_NS));

	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 1, EIO));
	for (i = 0; i < 4; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      i * PAGE_SZ);
		io_set_eventfd(&cb[i], efd);
	}
	ASSERT_EQ(4, la_submit(self->ctx, cb, 4));
	ASSERT_EQ(4, la_reap(self->ctx, ev, 4, WAIT_LONG_NS));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-EIO, ev_res(&ev[i]));
	}
	EXPECT_EQ(4ULL, efd_collect(efd, 4, WAIT_LONG_NS));
	EXPECT_EQ(0ULL, efd_collect(efd, 1, MSEC(50))) TH_LOG("extra signals");
	close(efd);
	kaio_buf_free(buf, N * PAGE_SZ);
}

TEST_F(la, timeout_is_etimedout)
{
	const __u64 off = 6ULL << 20;
	struct aiodev_counters c0, c1;
	unsigned char *rb = kaio_buf(4 * PAGE_SZ, 0xee);
	unsigned char *wb = kaio_buf(4 * PAGE_SZ, 0);
	struct iocb cb[8];
	struct io_event ev[8];
	int i;

	ASSERT_NE(NULL, rb);
	ASSERT_NE(NULL, wb);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4 * PAGE_SZ, 7));
	fill_pattern(wb, 4 * PAGE_SZ, 8);
	c0 = kaio_ctx_stats(self->fd);

	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, MSEC(30)));
	for (i = 0; i < 4; i++) {
		io_prep_pread(&cb[i], self->fd, rb + i * PAGE_SZ, PAGE_SZ,
			      off + i * PAGE_SZ);
		io_prep_pwrite(&cb[4 + i], self->fd, wb + i * PAGE_SZ, PAGE_SZ,
			       off + i * PAGE_SZ);
	}
	ASSERT_EQ(8, la_submit(self->ctx, cb, 8));
	ASSERT_EQ(8, la_reap(self->ctx, ev, 8, WAIT_LONG_NS));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(-ETIMEDOUT, ev_res(&ev[i]));
	}
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.timed_out + 8, c1.timed_out);
	EXPECT_EQ(c0.completed_ok, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
	/* A timed-out read never touches its buffer, a write the store. */
	EXPECT_EQ(-1L, find_not(rb, 4 * PAGE_SZ, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 4 * PAGE_SZ, 7));

	/* A deadline after the latency does not fire. */
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_FAST_NS, 0, MSEC(500)));
	io_prep_pread(&cb[0], self->fd, rb, PAGE_SZ, off);
	EXPECT_EQ((long)PAGE_SZ, la_one(self->ctx, &cb[0]));
	kaio_buf_free(rb, 4 * PAGE_SZ);
	kaio_buf_free(wb, 4 * PAGE_SZ);
}

/*
 * RWF_NOWAIT through libaio: an asynchronous request never waits in the
 * submitter, so it is queued like any other and completes at its latency
 * (only a synchronous read or write gets -EAGAIN: kaio_sync.c).
 */
TEST_F(la, rwf_nowait_is_queued)
{
	const __u64 off = 7ULL << 20;
	unsigned char *rb = kaio_buf(PAGE_SZ, 0xee);
	unsigned char *wb = kaio_buf(PAGE_SZ, 0);
	struct aiodev_counters c0, c1;
	struct iocb cb;

	ASSERT_NE(NULL, rb);
	ASSERT_NE(NULL, wb);
	fill_pattern(wb, PAGE_SZ, 0x77);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(50), 0, 0));
	io_prep_pwrite(&cb, self->fd, wb, PAGE_SZ, off);
	cb.aio_rw_flags = RWF_NOWAIT;
	EXPECT_EQ((long)PAGE_SZ, la_one(self->ctx, &cb));
	io_prep_pread(&cb, self->fd, rb, PAGE_SZ, off);
	cb.aio_rw_flags = RWF_NOWAIT;
	EXPECT_EQ((long)PAGE_SZ, la_one(self->ctx, &cb));
	EXPECT_EQ(0, memcmp(rb, wb, PAGE_SZ));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.completed_ok + 2, c1.completed_ok);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	kaio_buf_free(rb, PAGE_SZ);
	kaio_buf_free(wb, PAGE_SZ);
}

TEST_F(la, fault_every_nth_errno)
{
	enum { N = 12 };
	const __u64 off = 7ULL << 20;
	struct aiodev_counters c0, c1;
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0xee);
	struct iocb cb[N];
	struct io_event ev[N];
	int i;

	ASSERT_NE(NULL, buf);
	/* Reads: 3rd, 6th, 9th, 12th fail with EIO, in submission order. */
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 3, EIO));
	for (i = 0; i < N; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      off + i * PAGE_SZ);
		tag(&cb[i], i + 1);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		long t = ev_tag(&ev[i]);

		EXPECT_EQ(t % 3 ? (long)PAGE_SZ : -EIO, ev_res(&ev[i]))
			TH_LOG("request %ld", t);
		if (!(t % 3)) {
			EXPECT_EQ(-1L, find_not(buf + (t - 1) * PAGE_SZ,
						PAGE_SZ, 0xee));
		}
	}
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.failed + 4, c1.failed);
	EXPECT_EQ(c0.completed_ok + 8, c1.completed_ok);

	/* Writes: every 2nd fails with EILSEQ and leaves the store alone. */
	ASSERT_EQ(0, aio_reset_config(self->fd));
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(0, kaio_store_pattern(self->fd, off + i * PAGE_SZ,
						PAGE_SZ, 100 + i));
	}
	ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 2, EILSEQ));
	for (i = 0; i < 6; i++) {
		fill_pattern(buf + i * PAGE_SZ, PAGE_SZ, 200 + i);
		io_prep_pwrite(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			       off + i * PAGE_SZ);
		tag(&cb[i], i + 1);
	}
	ASSERT_EQ(6, la_submit(self->ctx, cb, 6));
	ASSERT_EQ(6, la_reap(self->ctx, ev, 6, WAIT_LONG_NS));
	for (i = 0; i < 6; i++) {
		long t = ev_tag(&ev[i]);

		EXPECT_EQ(t % 2 ? (long)PAGE_SZ : -EILSEQ, ev_res(&ev[i]));
	}
	ASSERT_EQ(0, aio_reset_config(self->fd));
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(1, kaio_store_has(self->fd, off + i * PAGE_SZ,
					    PAGE_SZ, i % 2 ? 100 + i : 200 + i))
			TH_LOG("block %d", i);
	}
	kaio_buf_free(buf, N * PAGE_SZ);
}

TEST_F(la, fault_offset_range_errno)
{
	const __u64 R = 9ULL << 20, L = 8192;
	static const struct { __s64 d; __u32 len; bool hit; } c[] = {
		{ -4096, 4096, false },	/* ends exactly at the range */
		{ -1, 2, true },	/* last byte before + first byte */
		{ 100, 100, true },	/* inside */
		{ 8191, 1, true },	/* last byte of the range */
		{ 8192, 4096, false },	/* starts exactly after */
		{ -4096, 16384, true },	/* covers it */
	};
	enum { N = sizeof(c) / sizeof(c[0]) };
	unsigned char *buf = kaio_buf(N * 4 * PAGE_SZ, 0xee);
	unsigned char want[16384], got[8192];
	struct iocb cb[N];
	struct io_event ev[N];
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, R - 4096, 16384, 5));
	ASSERT_EQ(0, kaio_set_fail_range(self->fd, R, L, ENODATA));
	for (i = 0; i < N; i++) {
		io_prep_pread(&cb[i], self->fd, buf + i * 4 * PAGE_SZ,
			      c[i].len, R + c[i].d);
		tag(&cb[i], i);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		long t = ev_tag(&ev[i]);

		EXPECT_EQ(c[t].hit ? -ENODATA : (long)c[t].len, ev_res(&ev[i]))
			TH_LOG("case %ld: off R%+lld len %u", t,
			       (long long)c[t].d, c[t].len);
	}

	/* A write into the range fails and moves nothing; one outside works. */
	fill_pattern(buf, 2 * PAGE_SZ, 6);
	io_prep_pwrite(&cb[0], self->fd, buf, 2 * PAGE_SZ, R);
	EXPECT_EQ(-ENODATA, la_one(self->ctx, &cb[0]));
	io_prep_pwrite(&cb[0], self->fd, buf, PAGE_SZ, R - 4096);
	EXPECT_EQ((long)PAGE_SZ, la_one(self->ctx, &cb[0]));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	/* [R, R + 8 KiB) still holds pattern 5 (bytes 4096.. of it). */
	fill_pattern(want, sizeof(want), 5);
	ASSERT_EQ(8192, kaio_pread(self->fd, got, 8192, R));
	EXPECT_EQ(0, memcmp(want + 4096, got, 8192));
	kaio_buf_free(buf, N * 4 * PAGE_SZ);
}

TEST_F(la, read_lands_only_at_completion)
{
	const __u64 off = 10ULL << 20;
	const size_t len = 16 * PAGE_SZ;
	unsigned char *buf = kaio_buf(len, 0xee), *want = malloc(len);
	struct io_event ev;
	struct iocb cb;
	__u64 t0;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, len, 11));
	fill_pattern(want, len, 11);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1000), 0, 0));
	io_prep_pread(&cb, self->fd, buf, len, off);
	t0 = now_ns();
	ASSERT_EQ(1, la_submit(self->ctx, &cb, 1));
	sleep_ns(MSEC(100));
	/* Still in flight (checked after looking at the buffer). */
	EXPECT_EQ(-1L, find_not(buf, len, 0xee))
		TH_LOG("buffer written while the read is in flight");
	EXPECT_EQ(0, la_peek(self->ctx, &ev, 1));
	EXPECT_EQ(1ULL, kaio_ctx_stats(self->fd).in_flight);
	ASSERT_EQ(1, la_reap(self->ctx, &ev, 1, WAIT_LONG_NS));
	EXPECT_LE(t0 + MSEC(1000), now_ns());
	EXPECT_EQ((long)len, ev_res(&ev));
	EXPECT_EQ(0, memcmp(want, buf, len));
	free(want);
	kaio_buf_free(buf, len);
}

TEST_F(la, odirect_aligned_io)
{
	const __u64 off = 11ULL << 20;
	const size_t len = 64 << 10;
	unsigned char *w = kaio_buf(len, 0), *r = kaio_buf(len, 0xee);
	struct iovec iov[2];
	struct iocb cb;
	int fd, fl;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	fd = aio_open(0, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd) TH_LOG("O_DIRECT open: %s", strerror(errno));
	fl = fcntl(fd, F_GETFL);
	EXPECT_TRUE(fl & O_DIRECT);

	fill_pattern(w, len, 12);
	io_prep_pwrite(&cb, fd, w, len, off);
	ASSERT_EQ((long)len, la_one(self->ctx, &cb));
	io_prep_pread(&cb, fd, r, len, off);
	ASSERT_EQ((long)len, la_one(self->ctx, &cb));
	EXPECT_EQ(0, memcmp(w, r, len));

	/* Vectored, two aligned halves in swapped order. */
	memset(r, 0xee, len);
	iov[0].iov_base = r + len / 2;
	iov[0].iov_len = len / 2;
	iov[1].iov_base = r;
	iov[1].iov_len = len / 2;
	io_prep_preadv(&cb, fd, iov, 2, off);
	ASSERT_EQ((long)len, la_one(self->ctx, &cb));
	EXPECT_EQ(0, memcmp(w, r + len / 2, len / 2));
	EXPECT_EQ(0, memcmp(w + len / 2, r, len / 2));
	close(fd);
	kaio_buf_free(w, len);
	kaio_buf_free(r, len);
}

TEST_F(la, cancel_in_flight_einprogress_then_ecanceled)
{
	const __u64 off = 12ULL << 20;
	struct aiodev_counters c0, c1;
	unsigned char *rb = kaio_buf(PAGE_SZ, 0xee), *wb = kaio_buf(PAGE_SZ, 0);
	struct io_event ev[2], dummy;
	struct iocb cb[2];
	__u64 t0;
	int i;

	ASSERT_NE(NULL, rb);
	ASSERT_NE(NULL, wb);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, PAGE_SZ, 13));
	fill_pattern(wb, PAGE_SZ, 14);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_PARKED_NS, 0, 0));
	io_prep_pread(&cb[0], self->fd, rb, PAGE_SZ, off);
	io_prep_pwrite(&cb[1], self->fd, wb, PAGE_SZ, off);
	ASSERT_EQ(2, la_submit(self->ctx, cb, 2));

	t0 = now_ns();
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-EINPROGRESS, io_cancel(self->ctx, &cb[i], &dummy));
	}
	ASSERT_EQ(2, la_reap(self->ctx, ev, 2, WAIT_LONG_NS));
	TH_LOG("cancelled events after %llu ms",
	       (unsigned long long)(now_ns() - t0) / NSEC_PER_MSEC);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(-ECANCELED, ev_res(&ev[i]));
	}
	/* Gone from fs/aio's list: a second cancel finds nothing. */
	EXPECT_EQ(-EINVAL, io_cancel(self->ctx, &cb[0], &dummy));
	EXPECT_EQ(0, la_peek(self->ctx, ev, 2)) TH_LOG("a second event");

	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.cancelled + 2, c1.cancelled);
	EXPECT_EQ(c0.submitted + 2, c1.submitted);
	EXPECT_EQ(0ULL, c1.in_flight);
	EXPECT_EQ(-1L, find_not(rb, PAGE_SZ, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, PAGE_SZ, 13));
	kaio_buf_free(rb, PAGE_SZ);
	kaio_buf_free(wb, PAGE_SZ);
}

TEST_F(la, cancel_after_completion_einval)
{
	unsigned char *buf = kaio_buf(PAGE_SZ, 0);
	struct io_event dummy;
	struct iocb cb;

	ASSERT_NE(NULL, buf);
	io_prep_pread(&cb, self->fd, buf, PAGE_SZ, 0);
	ASSERT_EQ((long)PAGE_SZ, la_one(self->ctx, &cb));
	EXPECT_EQ(-EINVAL, io_cancel(self->ctx, &cb, &dummy));
	kaio_buf_free(buf, PAGE_SZ);
}

/*
 * io_cancel racing the timer: whichever way it goes, exactly one event
 * comes, and its result matches what io_cancel said.
 */
TEST_F_TIMEOUT(la, cancel_races_completion, 120)
{
	enum { ITER = 200 };
	const __u64 lat = MSEC(2);
	unsigned char *buf = kaio_buf(PAGE_SZ, 0);
	struct aiodev_counters c0, c1;
	int n_inprog = 0, n_again = 0, n_inval = 0, i;
	__u64 seed = kaio_seed();
	struct io_event ev[2], dummy;
	struct iocb cb;

	ASSERT_NE(NULL, buf);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	for (i = 0; i < ITER; i++) {
		__u64 t0;
		int ret;

		io_prep_pread(&cb, self->fd, buf, PAGE_SZ, 0);
		t0 = now_ns();
		ASSERT_EQ(1, la_submit(self->ctx, &cb, 1));
		spin_until(t0 + rnd_next(&seed) % (2 * lat));
		ret = io_cancel(self->ctx, &cb, &dummy);
		ASSERT_EQ(1, la_reap(self->ctx, ev, 1, WAIT_LONG_NS));
		switch (ret) {
		case -EINPROGRESS:
			n_inprog++;
			ASSERT_EQ(-ECANCELED, ev_res(&ev[0]));
			break;
		case -EAGAIN:
			n_again++;
			ASSERT_EQ((long)PAGE_SZ, ev_res(&ev[0]));
			break;
		case -EINVAL:
			n_inval++;
			ASSERT_EQ((long)PAGE_SZ, ev_res(&ev[0]));
			break;
		default:
			ASSERT_EQ(-EINPROGRESS, ret) TH_LOG("unexpected");
		}
		ASSERT_EQ(0, la_peek(self->ctx, ev, 2)) TH_LOG("a second event");
	}
	TH_LOG("io_cancel: %d -EINPROGRESS, %d -EAGAIN, %d -EINVAL",
	       n_inprog, n_again, n_inval);
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted + ITER, c1.submitted);
	EXPECT_EQ(c0.cancelled + n_inprog, c1.cancelled);
	EXPECT_EQ(c0.completed_ok + n_again + n_inval, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
	kaio_buf_free(buf, PAGE_SZ);
}

struct cancel_racer {
	io_context_t ctx;
	struct iocb *target;
	atomic_int stop;
	int ret;
};

/* io_cancel() the target until fs/aio knows it (-EINVAL before that). */
static void *cancel_racer_fn(void *arg)
{
	struct cancel_racer *r = arg;
	struct io_event dummy;

	r->ret = -EINVAL;
	while (!atomic_load(&r->stop)) {
		r->ret = io_cancel(r->ctx, r->target, &dummy);
		if (r->ret != -EINVAL)
			break;
	}
	return NULL;
}

/*
 * io_cancel() from another thread while io_submit() is still setting the
 * request up. Nothing can be completing before its 2 s latency, so once
 * fs/aio lists the kiocb, io_cancel must say -EINPROGRESS and the event
 * must be -ECANCELED; an -EAGAIN would leave a request that nothing can
 * cancel any more (io_destroy and exit would wait out its whole latency).
 *
 * That holds for a round whose cancels all returned before the latency
 * had passed since it began: none was due yet, so each must have worked.
 * A round whose events were all reaped within the latency also shows
 * that the cancels took effect at once, not at the requests' due time.
 * A stalled host may make a round slower than that: then a request may
 * have completed first, and its event must agree with what io_cancel
 * said. At least one round must have been quick.
 */
TEST_F_TIMEOUT(la, cancel_racing_submit_is_einprogress, 120)
{
	enum { N = 8, ITER = 300 };
	const __u64 lat = 2 * NSEC_PER_SEC;
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0);
	int i, it, found = 0, again = 0, quick = 0, other = 0;
	__u64 budget = now_ns() + 40 * NSEC_PER_SEC;
	struct io_event ev[N], dummy;
	struct iocb cb[N];

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	for (it = 0; it < ITER && now_ns() < budget; it++) {
		struct cancel_racer r = { .ctx = self->ctx, .target = &cb[0] };
		int got, ret[N];
		__u64 t0, start;
		pthread_t th;

		for (i = 0; i < N; i++) {
			io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ,
				      PAGE_SZ, i * PAGE_SZ);
			tag(&cb[i], i);
		}
		atomic_init(&r.stop, 0);
		ASSERT_EQ(0, pthread_create(&th, NULL, cancel_racer_fn, &r));
		start = now_ns();
		ASSERT_EQ(N, la_submit(self->ctx, cb, N));
		/* The racer finds cb[0] within moments of the submit. */
		t0 = now_ns();
		while (r.ret == -EINVAL && now_ns() < t0 + MSEC(500))
			sched_yield();
		atomic_store(&r.stop, 1);
		pthread_join(th, NULL);
		if (r.ret == -EINVAL) {
			/* Not seen in time: cancel it ourselves. */
			r.ret = io_cancel(self->ctx, &cb[0], &dummy);
		}
		ret[0] = r.ret;
		for (i = 1; i < N; i++)
			ret[i] = io_cancel(self->ctx, &cb[i], &dummy);
		/* Every request was submitted after start: none was due yet. */
		if (now_ns() - start < lat) {
			found++;
			if (ret[0] == -EAGAIN)
				again++;
			else if (ret[0] != -EINPROGRESS)
				other++;
			for (i = 1; i < N; i++) {
				EXPECT_EQ(-EINPROGRESS, ret[i]) TH_LOG("cb[%d]", i);
			}
		}
		got = la_reap(self->ctx, ev, N, 3 * lat);
		ASSERT_EQ(N, got);
		if (now_ns() - start < lat)
			quick++;
		for (i = 0; i < N; i++) {
			long t = ev_tag(&ev[i]);

			ASSERT_TRUE(t >= 0 && t < N);
			if (ret[t] == -EINPROGRESS) {
				EXPECT_EQ(-ECANCELED, ev_res(&ev[i]))
					TH_LOG("cb[%ld]", t);
			} else {
				/* Cancelled too late: it had completed. */
				EXPECT_TRUE(ret[t] == -EAGAIN || ret[t] == -EINVAL)
					TH_LOG("cb[%ld]: io_cancel %d", t, ret[t]);
				EXPECT_EQ((long)PAGE_SZ, ev_res(&ev[i]))
					TH_LOG("cb[%ld]", t);
			}
		}
	}
	TH_LOG("%d rounds, %d cancelled within the latency: io_cancel of a "
	       "request being submitted gave -EAGAIN %d times (%d other); "
	       "%d reaped within the latency", it, found, again, other, quick);
	EXPECT_EQ(0, other);
	EXPECT_EQ(0, again) TH_LOG("io_cancel said -EAGAIN for a request that was not completing");
	EXPECT_LT(0, quick) TH_LOG("no round's cancels took effect within the latency");
	kaio_buf_free(buf, N * PAGE_SZ);
}

/* A buffer that cannot be pinned: -EFAULT as the event, no request made. */
TEST_F(la, bad_buffer_efault)
{
	char *p = map_with_hole(1);
	struct aiodev_counters c0, c1;
	struct iocb cb;

	ASSERT_NE(NULL, p);
	memset(p, 0xee, PAGE_SZ);
	c0 = kaio_ctx_stats(self->fd);
	io_prep_pread(&cb, self->fd, unmapped_addr(), PAGE_SZ, 0);
	EXPECT_EQ(-EFAULT, la_one(self->ctx, &cb));
	/* Half valid: nothing lands in the valid half either. */
	io_prep_pread(&cb, self->fd, p + PAGE_SZ / 2, PAGE_SZ, 0);
	EXPECT_EQ(-EFAULT, la_one(self->ctx, &cb));
	EXPECT_EQ(-1L, find_not(p, PAGE_SZ, 0xee));
	io_prep_pwrite(&cb, self->fd, p + PAGE_SZ / 2, PAGE_SZ, 0);
	EXPECT_EQ(-EFAULT, la_one(self->ctx, &cb));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted, c1.submitted);
	EXPECT_EQ(0ULL, c1.in_flight);
	munmap(p, 2 * PAGE_SZ);
}

/* fs/aio holds the file: the requests complete normally after close(). */
TEST_F(la, close_fd_with_requests_in_flight)
{
	enum { N = 16 };
	struct aiodev_counters d0, d1;
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0);
	struct iocb cb[N];
	struct io_event ev[N];
	__u64 t0;
	int fd, i;

	ASSERT_NE(NULL, buf);
	fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	d0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, 0));
	for (i = 0; i < N; i++) {
		if (i % 2)
			io_prep_pread(&cb[i], fd, buf + i * PAGE_SZ, PAGE_SZ,
				      (13ULL << 20) + i * PAGE_SZ);
		else
			io_prep_pwrite(&cb[i], fd, buf + i * PAGE_SZ, PAGE_SZ,
				       (13ULL << 20) + i * PAGE_SZ);
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	t0 = now_ns();
	EXPECT_EQ(0, close(fd));
	TH_LOG("close took %llu ms",
	       (unsigned long long)(now_ns() - t0) / NSEC_PER_MSEC);
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((long)PAGE_SZ, ev_res(&ev[i]));
	}
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, d0.in_flight, WAIT_LONG_NS,
					&d1)) TH_LOG("in_flight %llu",
						     d1.in_flight);
	EXPECT_EQ(d0.submitted + N, d1.submitted);
	EXPECT_EQ(d0.completed_ok + N, d1.completed_ok);
	EXPECT_EQ(d0.cancelled, d1.cancelled);
	EXPECT_EQ(d1.submitted, counters_sum(&d1));
	kaio_buf_free(buf, N * PAGE_SZ);
}

/* io_destroy cancels what is in flight and returns once all completed. */
TEST_F(la, io_destroy_with_requests_in_flight)
{
	enum { N = 64 };
	struct aiodev_counters d0, d1;
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0xee);
	io_context_t ctx = 0;
	struct iocb cb[N];
	__u64 t0, dt;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_setup(N, &ctx));
	d0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_PARKED_NS, 0, 0));
	for (i = 0; i < N; i++)
		io_prep_pread(&cb[i], self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			      i * PAGE_SZ);
	ASSERT_EQ(N, la_submit(ctx, cb, N));
	EXPECT_EQ(d0.in_flight + N, kaio_dev_stats(self->fd).in_flight);
	t0 = now_ns();
	EXPECT_EQ(0, io_destroy(ctx));
	dt = now_ns() - t0;
	TH_LOG("io_destroy took %llu ms", (unsigned long long)dt / NSEC_PER_MSEC);
	/* Far below the parked latency: it cancelled rather than waited. */
	EXPECT_GT(KAIO_PARKED_NS / 3, dt);
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, d0.in_flight, WAIT_LONG_NS,
					&d1)) TH_LOG("in_flight %llu",
						     d1.in_flight);
	EXPECT_EQ(d0.cancelled + N, d1.cancelled);
	EXPECT_EQ(d0.completed_ok, d1.completed_ok);
	EXPECT_EQ(d1.submitted, counters_sum(&d1));
	EXPECT_EQ(-1L, find_not(buf, N * PAGE_SZ, 0xee));
	kaio_buf_free(buf, N * PAGE_SZ);
}

/* A process exiting with requests in flight: exit_aio cancels them. */
TEST_F(la, exit_with_requests_in_flight)
{
	enum { N = 64 };
	struct aiodev_counters d0, d1;
	int pfd[2], status = 0;
	__u64 deadline;
	pid_t pid, w;
	char c = 0;

	ASSERT_EQ(0, pipe(pfd));
	d0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_PARKED_NS, 0, 0));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static unsigned char buf[N * 4096];
		struct iocb cb[N];
		io_context_t ctx = 0;
		int fd = aio_open(0, O_RDWR), i;

		if (fd < 0 || io_setup(N, &ctx))
			_exit(1);
		for (i = 0; i < N; i++)
			io_prep_pread(&cb[i], fd, buf + i * 4096, 4096,
				      i * 4096);
		if (la_submit(ctx, cb, N) != N)
			_exit(2);
		if (write(pfd[1], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1)) TH_LOG("child did not submit");
	close(pfd[0]);
	deadline = now_ns() + 10 * NSEC_PER_SEC;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ns() < deadline)
		sleep_ns(MSEC(10));
	if (w != pid)
		kill(pid, SIGKILL);
	ASSERT_EQ(pid, w) TH_LOG("child did not exit within 10 s");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, d0.in_flight, WAIT_LONG_NS,
					&d1)) TH_LOG("in_flight %llu",
						     d1.in_flight);
	EXPECT_EQ(d0.submitted + N, d1.submitted);
	EXPECT_EQ(d0.cancelled + N, d1.cancelled);
	EXPECT_EQ(d1.submitted, counters_sum(&d1));
}

enum { BATCH_N = 1024 };

struct batch {
	io_context_t ctx;
	__u64 off;
	unsigned char *buf, *want;
	struct io_event *ev;
	struct iocb *cb;
};

/*
 * One batch of BATCH_N page reads due after @lat. Returns whether they
 * were all in flight together when the first could fire (checked then),
 * which shows only if submitting them took less than @lat.
 */
static bool batch_attempt(struct __test_metadata *_metadata,
			  FIXTURE_DATA(la) *self, struct batch *b, __u64 lat)
{
	const size_t len = (size_t)BATCH_N * PAGE_SZ;
	struct aiodev_counters c0, c1, c2;
	int i, bad = 0;
	__u64 t0, t1;

	memset(b->buf, 0xee, len);
	c0 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	/* Every page its own request. */
	for (i = 0; i < BATCH_N; i++) {
		io_prep_pread(&b->cb[i], self->fd, b->buf + (size_t)i * PAGE_SZ,
			      PAGE_SZ, b->off + (__u64)i * PAGE_SZ);
		tag(&b->cb[i], i);
	}
	t0 = now_ns();
	EXPECT_EQ(BATCH_N, la_submit(b->ctx, b->cb, BATCH_N));
	t1 = now_ns();
	c1 = kaio_ctx_stats(self->fd);
	TH_LOG("io_submit of %d took %llu ms", BATCH_N,
	       (unsigned long long)(t1 - t0) / NSEC_PER_MSEC);
	EXPECT_EQ(c0.submitted + BATCH_N, c1.submitted);
	EXPECT_EQ(BATCH_N, la_reap(b->ctx, b->ev, BATCH_N, 30 * NSEC_PER_SEC));
	/* Nothing completes before its latency. */
	EXPECT_LE(t0 + lat, now_ns());
	for (i = 0; i < BATCH_N; i++)
		if (ev_res(&b->ev[i]) != (long)PAGE_SZ)
			bad++;
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, memcmp(b->want, b->buf, len));
	c2 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.completed_ok + BATCH_N, c2.completed_ok);
	EXPECT_EQ(0ULL, c2.in_flight);
	if (t1 - t0 >= lat)
		return false;
	EXPECT_EQ((__u64)BATCH_N, c1.in_flight);
	EXPECT_LE((__u64)BATCH_N, c2.peak_in_flight);
	return true;
}

TEST_F_TIMEOUT(la, batch_of_1024_in_one_submit, 120)
{
	const size_t len = (size_t)BATCH_N * PAGE_SZ;
	struct batch b = {
		.off = 16ULL << 20,
		.buf = kaio_buf(len, 0xee),
		.want = malloc(len),
		.ev = calloc(BATCH_N, sizeof(*b.ev)),
		.cb = calloc(BATCH_N, sizeof(*b.cb)),
	};
	int attempt;

	ASSERT_NE(NULL, b.buf);
	ASSERT_NE(NULL, b.want);
	ASSERT_NE(NULL, b.ev);
	ASSERT_NE(NULL, b.cb);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, b.off, len, 16));
	fill_pattern(b.want, len, 16);
	ASSERT_EQ(0, io_setup(BATCH_N, &b.ctx));
	/* A host too slow to submit within the latency: 4 times longer. */
	for (attempt = 0; attempt < 3; attempt++) {
		if (batch_attempt(_metadata, self, &b, MSEC(1500) << (2 * attempt)))
			break;
		TH_LOG("submission outlasted the latency: again, longer");
	}
	EXPECT_GT(3, attempt) TH_LOG("never all in flight at once");
	EXPECT_EQ(0, io_destroy(b.ctx));
	free(b.ev);
	free(b.cb);
	free(b.want);
	kaio_buf_free(b.buf, len);
}

/* Block-device limits, as event results. */
TEST_F(la, end_of_device_and_max_io)
{
	const __u64 S = self->size;
	const size_t big = 2 * AIODEV_MAX_IO_BYTES;
	unsigned char *buf = kaio_buf(big, 0);
	struct aiodev_counters c0, c1;
	struct {
		bool write;
		__u64 off;
		size_t len;
		long res;
	} c[] = {
		{ false, S - 100, 4096, 100 },	/* crossing the end: short */
		{ false, S, 4096, 0 },		/* at the end: EOF */
		{ false, S + 4096, 4096, 0 },	/* past the end: EOF */
		{ true, S, 4096, -ENOSPC },	/* write at the end */
		{ true, S + 8192, 512, -ENOSPC },	/* write past the end */
		{ true, S - 100, 4096, 100 },	/* write crossing: short */
		{ false, 0, big, AIODEV_MAX_IO_BYTES },	/* > 1 MiB: short */
		{ true, 20ULL << 20, big, AIODEV_MAX_IO_BYTES },
	};
	enum { N = sizeof(c) / sizeof(c[0]) };
	struct iocb cb[N];
	struct io_event ev[N];
	int i, engine = 0;

	ASSERT_NE(NULL, buf);
	c0 = kaio_ctx_stats(self->fd);
	for (i = 0; i < N; i++) {
		if (c[i].write)
			io_prep_pwrite(&cb[i], self->fd, buf, c[i].len, c[i].off);
		else
			io_prep_pread(&cb[i], self->fd, buf, c[i].len, c[i].off);
		tag(&cb[i], i);
		engine += c[i].res > 0;
	}
	ASSERT_EQ(N, la_submit(self->ctx, cb, N));
	ASSERT_EQ(N, la_reap(self->ctx, ev, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		long t = ev_tag(&ev[i]);

		EXPECT_EQ(c[t].res, ev_res(&ev[i]))
			TH_LOG("case %ld: %s off %llu len %zu", t,
			       c[t].write ? "write" : "read",
			       (unsigned long long)c[t].off, c[t].len);
	}
	/* Only the transfers reached the engine. */
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted + engine, c1.submitted);
	kaio_buf_free(buf, big);
}

TEST(wrong_open_mode_ebadf)
{
	unsigned char buf[512];
	io_context_t ctx = 0;
	struct iocb cb, *p = &cb;
	int ro, wo;

	ro = aio_open(0, O_RDONLY);
	wo = aio_open(0, O_WRONLY);
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	ASSERT_EQ(0, io_setup(4, &ctx));
	io_prep_pwrite(&cb, ro, buf, sizeof(buf), 0);
	EXPECT_EQ(-EBADF, io_submit(ctx, 1, &p));
	io_prep_pread(&cb, wo, buf, sizeof(buf), 0);
	EXPECT_EQ(-EBADF, io_submit(ctx, 1, &p));
	EXPECT_EQ(0, io_destroy(ctx));
	close(ro);
	close(wo);
}

TEST_HARNESS_MAIN
