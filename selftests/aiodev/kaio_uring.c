// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev through io_uring (liburing): read/write/readv/writev round trips,
 * completion order from the device latency, timeouts and fault-plan errnos
 * as CQE results, block-device limits, results identical to libaio and to
 * plain pread/pwrite, a submit that returns at once while the latency runs
 * (the IOCB_NOWAIT inline issue does not block), eventfd notification,
 * 1024 requests in one submit, and closing the file or the ring with
 * requests in flight.
 */
#define _GNU_SOURCE
#include <libaio.h>
#include <liburing.h>
#include <sys/eventfd.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define UR_ENTRIES	128

FIXTURE(ur) {
	int fd;
	__u64 size;
	struct io_uring ring;
	bool ring_up;
};

FIXTURE_SETUP(ur)
{
	struct aiodev_info info;
	int ret;

	self->fd = fixture_open(_metadata, 0, &info);
	self->size = info.size_bytes;
	ret = io_uring_queue_init(UR_ENTRIES, &self->ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	self->ring_up = true;
}

FIXTURE_TEARDOWN(ur)
{
	if (self->ring_up)
		io_uring_queue_exit(&self->ring);
	fixture_close(_metadata, self->fd);
}

struct ur_done {
	__u64 data;
	int res;
};

/* Reap @n CQEs, or as many as come within @timeout_ns. */
static int ur_reap(struct io_uring *ring, struct ur_done *out, int n,
		   __u64 timeout_ns)
{
	__u64 deadline = now_ns() + timeout_ns;
	int got = 0;

	while (got < n) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts;
		__u64 now = now_ns(), left;
		int ret;

		if (now >= deadline)
			break;
		left = deadline - now;
		ts.tv_sec = left / NSEC_PER_SEC;
		ts.tv_nsec = left % NSEC_PER_SEC;
		ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);
		if (ret == -EINTR || ret == -ETIME)
			continue;
		if (ret < 0)
			return ret;
		out[got].data = io_uring_cqe_get_data64(cqe);
		out[got].res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		got++;
	}
	return got;
}

/* CQEs ready now. */
static int ur_ready(struct io_uring *ring)
{
	return io_uring_cq_ready(ring);
}

static struct io_uring_sqe *ur_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
	}
	return sqe;
}

static void ur_read(struct io_uring *ring, int fd, void *buf, unsigned int len,
		    __u64 off, __u64 data)
{
	struct io_uring_sqe *sqe = ur_sqe(ring);

	io_uring_prep_read(sqe, fd, buf, len, off);
	io_uring_sqe_set_data64(sqe, data);
}

static void ur_write(struct io_uring *ring, int fd, const void *buf,
		     unsigned int len, __u64 off, __u64 data)
{
	struct io_uring_sqe *sqe = ur_sqe(ring);

	io_uring_prep_write(sqe, fd, buf, len, off);
	io_uring_sqe_set_data64(sqe, data);
}

/* Submit what is queued and wait for exactly that many CQEs. */
static int ur_run(struct io_uring *ring, struct ur_done *out, int n)
{
	int ret = io_uring_submit(ring);

	if (ret != n)
		return ret < 0 ? ret : -EPROTO;
	return ur_reap(ring, out, n, WAIT_LONG_NS);
}

/* One request; its CQE result, or -ETIME/-EPROTO on trouble. */
static int ur_one(struct io_uring *ring, bool write, int fd, void *buf,
		  unsigned int len, __u64 off)
{
	struct ur_done d;
	int ret;

	if (write)
		ur_write(ring, fd, buf, len, off, 0x5157);
	else
		ur_read(ring, fd, buf, len, off, 0x5157);
	ret = ur_run(ring, &d, 1);
	if (ret != 1)
		return ret < 0 ? ret : -ETIME;
	return d.data == 0x5157 ? d.res : -EPROTO;
}

TEST_F(ur, read_write_roundtrip_random)
{
	enum { N = 24, MAXLEN = 128 << 10 };
	__u64 seed = kaio_seed(), pbase = seed, off[N];
	struct ur_done d[N];
	size_t stride = MAXLEN + 2 * PAGE_SZ;
	unsigned char *w = kaio_buf(N * stride, 0);
	unsigned char *r = kaio_buf(N * stride, 0xee);
	__u32 len[N];
	int i;

	TH_LOG("seed %llu (KAIO_SEED)", (unsigned long long)seed);
	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	kaio_random_extents(&seed, N, MAXLEN, off, len);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1) / 10, MSEC(3), 0));
	for (i = 0; i < N; i++) {
		fill_pattern(w + i * stride + 3 * i, len[i], pbase + i);
		ur_write(&self->ring, self->fd, w + i * stride + 3 * i, len[i],
			 off[i], i);
	}
	ASSERT_EQ(N, ur_run(&self->ring, d, N));
	for (i = 0; i < N; i++) {
		ASSERT_GT((__u64)N, d[i].data);
		EXPECT_EQ((int)len[d[i].data], d[i].res);
	}
	for (i = 0; i < N; i++)
		ur_read(&self->ring, self->fd, r + i * stride + 5 * i, len[i],
			off[i], i);
	ASSERT_EQ(N, ur_run(&self->ring, d, N));
	for (i = 0; i < N; i++) {
		ASSERT_GT((__u64)N, d[i].data);
		EXPECT_EQ((int)len[d[i].data], d[i].res);
	}
	for (i = 0; i < N; i++) {
		unsigned char *rp = r + i * stride + 5 * i;

		fill_pattern(w, len[i], pbase + i);
		ASSERT_EQ(0, memcmp(w, rp, len[i]))
			TH_LOG("extent %d off %llu len %u", i,
			       (unsigned long long)off[i], len[i]);
		ASSERT_EQ(-1L, find_not(r + i * stride, 5 * i, 0xee));
		ASSERT_EQ(-1L, find_not(rp + len[i], 64, 0xee));
	}
	kaio_buf_free(w, N * stride);
	kaio_buf_free(r, N * stride);
}

TEST_F(ur, readv_writev_roundtrip)
{
	static const size_t wl[3] = { 4096, 1, 6000 }, rl[2] = { 5000, 5097 };
	const __u64 off = (34ULL << 20) + 777;
	unsigned char *w = kaio_buf(4 * PAGE_SZ, 0), *r = kaio_buf(4 * PAGE_SZ, 0);
	unsigned char src[10097], dst[10097];
	struct io_uring_sqe *sqe;
	struct iovec wv[3], rv[2];
	struct ur_done d;
	size_t i, pos;

	ASSERT_NE(NULL, w);
	ASSERT_NE(NULL, r);
	fill_pattern(src, sizeof(src), 37);
	for (i = 0, pos = 0; i < 3; pos += wl[i], i++) {
		wv[i].iov_base = w + pos + 8 * i;
		wv[i].iov_len = wl[i];
		memcpy(wv[i].iov_base, src + pos, wl[i]);
	}
	for (i = 0; i < 2; i++) {
		rv[i].iov_base = r + i * 2 * PAGE_SZ + 3;
		rv[i].iov_len = rl[i];
	}
	sqe = ur_sqe(&self->ring);
	io_uring_prep_writev(sqe, self->fd, wv, 3, off);
	io_uring_sqe_set_data64(sqe, 1);
	ASSERT_EQ(1, ur_run(&self->ring, &d, 1));
	EXPECT_EQ((int)sizeof(src), d.res);
	sqe = ur_sqe(&self->ring);
	io_uring_prep_readv(sqe, self->fd, rv, 2, off);
	io_uring_sqe_set_data64(sqe, 2);
	ASSERT_EQ(1, ur_run(&self->ring, &d, 1));
	EXPECT_EQ((int)sizeof(src), d.res);
	for (i = 0, pos = 0; i < 2; pos += rl[i], i++)
		memcpy(dst + pos, rv[i].iov_base, rl[i]);
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));
	kaio_buf_free(w, 4 * PAGE_SZ);
	kaio_buf_free(r, 4 * PAGE_SZ);
}

TEST_F(ur, slow_batch_then_fast_batch_completes_first)
{
	enum { N = 8 };
	unsigned char *buf = kaio_buf(2 * N * PAGE_SZ, 0);
	struct ur_done d[2 * N];
	__u64 t0;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_SLOW_NS, 0, 0));
	for (i = 0; i < N; i++)
		ur_read(&self->ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			i * PAGE_SZ, i);
	t0 = now_ns();
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	ASSERT_EQ(0, aio_set_latency(self->fd, KAIO_FAST_NS, 0, 0));
	for (i = N; i < 2 * N; i++)
		ur_read(&self->ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			i * PAGE_SZ, i);
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	ASSERT_EQ(2 * N, ur_reap(&self->ring, d, 2 * N, WAIT_LONG_NS));
	EXPECT_LE(t0 + KAIO_SLOW_NS, now_ns());
	for (i = 0; i < 2 * N; i++) {
		EXPECT_EQ((int)PAGE_SZ, d[i].res);
		if (i < N) {
			EXPECT_LE((__u64)N, d[i].data)
				TH_LOG("CQE %d is slow request %llu", i,
				       (unsigned long long)d[i].data);
		} else {
			EXPECT_GT((__u64)N, d[i].data)
				TH_LOG("CQE %d is fast request %llu", i,
				       (unsigned long long)d[i].data);
		}
	}
	kaio_buf_free(buf, 2 * N * PAGE_SZ);
}

TEST_F(ur, timeout_is_etimedout)
{
	const __u64 off = 35ULL << 20;
	unsigned char *rb = kaio_buf(4 * PAGE_SZ, 0xee);
	unsigned char *wb = kaio_buf(4 * PAGE_SZ, 0);
	struct aiodev_counters c0, c1;
	struct ur_done d[8];
	int i;

	ASSERT_NE(NULL, rb);
	ASSERT_NE(NULL, wb);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4 * PAGE_SZ, 38));
	fill_pattern(wb, 4 * PAGE_SZ, 39);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, MSEC(30)));
	for (i = 0; i < 4; i++) {
		ur_read(&self->ring, self->fd, rb + i * PAGE_SZ, PAGE_SZ,
			off + i * PAGE_SZ, i);
		ur_write(&self->ring, self->fd, wb + i * PAGE_SZ, PAGE_SZ,
			 off + i * PAGE_SZ, 4 + i);
	}
	ASSERT_EQ(8, ur_run(&self->ring, d, 8));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(-ETIMEDOUT, d[i].res);
	}
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.timed_out + 8, c1.timed_out);
	EXPECT_EQ(0ULL, c1.in_flight);
	EXPECT_EQ(-1L, find_not(rb, 4 * PAGE_SZ, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 4 * PAGE_SZ, 38));
	kaio_buf_free(rb, 4 * PAGE_SZ);
	kaio_buf_free(wb, 4 * PAGE_SZ);
}

TEST_F(ur, fault_errnos)
{
	enum { N = 10 };
	const __u64 off = 36ULL << 20;
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0xee);
	struct aiodev_counters c0, c1;
	struct ur_done d[N];
	int i;

	ASSERT_NE(NULL, buf);
	c0 = kaio_ctx_stats(self->fd);
	/* Every 5th, in submission order. */
	ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 5, EPROTO));
	for (i = 0; i < N; i++)
		ur_read(&self->ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			off + i * PAGE_SZ, i + 1);
	ASSERT_EQ(N, ur_run(&self->ring, d, N));
	for (i = 0; i < N; i++) {
		EXPECT_EQ(d[i].data % 5 ? (int)PAGE_SZ : -EPROTO, d[i].res)
			TH_LOG("request %llu", (unsigned long long)d[i].data);
	}
	EXPECT_EQ(-1L, find_not(buf + 4 * PAGE_SZ, PAGE_SZ, 0xee));
	EXPECT_EQ(-1L, find_not(buf + 9 * PAGE_SZ, PAGE_SZ, 0xee));

	/* Offset range, reads and writes. */
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4 * PAGE_SZ, 40));
	ASSERT_EQ(0, kaio_set_fail_range(self->fd, off + PAGE_SZ, 2 * PAGE_SZ,
					 EHWPOISON));
	EXPECT_EQ((int)PAGE_SZ, ur_one(&self->ring, false, self->fd, buf,
				       PAGE_SZ, off));
	EXPECT_EQ(-EHWPOISON, ur_one(&self->ring, false, self->fd, buf,
				     PAGE_SZ + 1, off));
	EXPECT_EQ(-EHWPOISON, ur_one(&self->ring, true, self->fd, buf,
				     PAGE_SZ, off + 2 * PAGE_SZ));
	EXPECT_EQ((int)PAGE_SZ, ur_one(&self->ring, false, self->fd, buf,
				       PAGE_SZ, off + 3 * PAGE_SZ));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.failed + 2 + 2, c1.failed);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 4 * PAGE_SZ, 40));
	kaio_buf_free(buf, N * PAGE_SZ);
}

/*
 * io_uring issues with IOCB_NOWAIT first; the device queues the request
 * and returns, so io_uring_submit() comes back long before the latency.
 */
TEST_F(ur, submit_returns_before_completion)
{
	enum { N = 4 };
	const __u64 off = 37ULL << 20, lat = MSEC(1000);
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0xee), *want = malloc(N * PAGE_SZ);
	struct aiodev_counters c1;
	struct ur_done d[N];
	__u64 t0, t1, t2;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, N * PAGE_SZ, 41));
	fill_pattern(want, N * PAGE_SZ, 41);
	ASSERT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	for (i = 0; i < N; i++)
		ur_read(&self->ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			off + i * PAGE_SZ, i);
	t0 = now_ns();
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	t1 = now_ns();
	TH_LOG("io_uring_submit took %llu us",
	       (unsigned long long)(t1 - t0) / NSEC_PER_USEC);
	EXPECT_GT(lat / 2, t1 - t0) TH_LOG("submit blocked for the latency");
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(0, ur_ready(&self->ring));
	EXPECT_EQ((__u64)N, c1.in_flight);
	EXPECT_EQ(-1L, find_not(buf, N * PAGE_SZ, 0xee));
	ASSERT_EQ(N, ur_reap(&self->ring, d, N, WAIT_LONG_NS));
	t2 = now_ns();
	EXPECT_LE(t0 + lat, t2);
	for (i = 0; i < N; i++) {
		EXPECT_EQ((int)PAGE_SZ, d[i].res);
	}
	EXPECT_EQ(0, memcmp(want, buf, N * PAGE_SZ));
	free(want);
	kaio_buf_free(buf, N * PAGE_SZ);
}

/* RWF_NOWAIT on io_uring: queued like any request, not -EAGAIN. */
TEST_F(ur, rwf_nowait_is_queued)
{
	unsigned char *buf = kaio_buf(PAGE_SZ, 0);
	struct io_uring_sqe *sqe;
	struct ur_done d;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(50), 0, 0));
	sqe = ur_sqe(&self->ring);
	io_uring_prep_read(sqe, self->fd, buf, PAGE_SZ, 0);
	sqe->rw_flags = RWF_NOWAIT;
	io_uring_sqe_set_data64(sqe, 9);
	ASSERT_EQ(1, ur_run(&self->ring, &d, 1));
	EXPECT_EQ((int)PAGE_SZ, d.res);
	kaio_buf_free(buf, PAGE_SZ);
}

TEST_F(ur, end_of_device_and_max_io)
{
	const __u64 S = self->size;
	const size_t big = 2 * AIODEV_MAX_IO_BYTES;
	unsigned char *buf = kaio_buf(big, 0);
	const struct {
		bool write;
		__u64 off;
		size_t len;
		int res;
	} c[] = {
		{ false, S - 100, 4096, 100 },
		{ false, S, 4096, 0 },
		{ false, S + 4096, 4096, 0 },
		{ true, S, 4096, -ENOSPC },
		{ true, S + 8192, 512, -ENOSPC },
		{ true, S - 100, 4096, 100 },
		{ false, 0, big, AIODEV_MAX_IO_BYTES },
		{ true, 38ULL << 20, big, AIODEV_MAX_IO_BYTES },
	};
	enum { N = sizeof(c) / sizeof(c[0]) };
	struct ur_done d[N];
	int i;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < N; i++) {
		if (c[i].write)
			ur_write(&self->ring, self->fd, buf, c[i].len, c[i].off, i);
		else
			ur_read(&self->ring, self->fd, buf, c[i].len, c[i].off, i);
	}
	ASSERT_EQ(N, ur_run(&self->ring, d, N));
	for (i = 0; i < N; i++) {
		__u64 t = d[i].data;

		ASSERT_GT((__u64)N, t);
		EXPECT_EQ(c[t].res, d[i].res)
			TH_LOG("case %llu: %s off %llu len %zu",
			       (unsigned long long)t,
			       c[t].write ? "write" : "read",
			       (unsigned long long)c[t].off, c[t].len);
	}
	kaio_buf_free(buf, big);
}

/* ---- the same request through every path ---------------------------- */

enum kaio_cfg { CFG_NONE, CFG_TIMEOUT, CFG_RANGE, CFG_NTH };

static int apply_cfg(int fd, enum kaio_cfg cfg, __u64 off)
{
	int ret = aio_reset_config(fd);

	if (ret)
		return ret;
	switch (cfg) {
	case CFG_TIMEOUT:
		return aio_set_latency(fd, MSEC(60), 0, MSEC(10));
	case CFG_RANGE:
		return kaio_set_fail_range(fd, off, PAGE_SZ, EIO);
	case CFG_NTH:
		return kaio_set_fail_nth(fd, 1, EBADMSG);
	default:
		return 0;
	}
}

static long via_sync(int fd, bool write, void *buf, size_t len, __u64 off)
{
	return write ? kaio_pwrite(fd, buf, len, off) :
		       kaio_pread(fd, buf, len, off);
}

static long via_libaio(io_context_t ctx, int fd, bool write, void *buf,
		       size_t len, __u64 off)
{
	struct iocb cb, *p = &cb;
	struct io_event ev;
	struct timespec ts = { 5, 0 };
	int ret;

	if (write)
		io_prep_pwrite(&cb, fd, buf, len, off);
	else
		io_prep_pread(&cb, fd, buf, len, off);
	ret = io_submit(ctx, 1, &p);
	if (ret != 1)
		return ret < 0 ? ret : -EPROTO;
	ret = io_getevents(ctx, 1, 1, &ev, &ts);
	if (ret != 1)
		return ret < 0 ? ret : -ETIME;
	return (long)ev.res;
}

TEST_F(ur, results_match_libaio_and_sync)
{
	const __u64 S = self->size, A = 39ULL << 20;
	const size_t big = 2 * AIODEV_MAX_IO_BYTES;
	const struct {
		const char *name;
		bool write;
		__u64 off;
		size_t len;
		enum kaio_cfg cfg;
		long res;
	} c[] = {
		{ "read", false, A, 4096, CFG_NONE, 4096 },
		{ "write", true, A, 4096, CFG_NONE, 4096 },
		{ "read crossing end", false, S - 100, 4096, CFG_NONE, 100 },
		{ "write crossing end", true, S - 100, 4096, CFG_NONE, 100 },
		{ "read at end", false, S, 4096, CFG_NONE, 0 },
		{ "read past end", false, S + 4096, 4096, CFG_NONE, 0 },
		{ "write at end", true, S, 4096, CFG_NONE, -ENOSPC },
		{ "write past end", true, S + 4096, 4096, CFG_NONE, -ENOSPC },
		{ "read 2 MiB", false, A, big, CFG_NONE, AIODEV_MAX_IO_BYTES },
		{ "write 2 MiB", true, A, big, CFG_NONE, AIODEV_MAX_IO_BYTES },
		{ "read timeout", false, A, 4096, CFG_TIMEOUT, -ETIMEDOUT },
		{ "write timeout", true, A, 4096, CFG_TIMEOUT, -ETIMEDOUT },
		{ "read fault range", false, A, 4096, CFG_RANGE, -EIO },
		{ "write fault range", true, A, 4096, CFG_RANGE, -EIO },
		{ "read fault nth", false, A, 4096, CFG_NTH, -EBADMSG },
		{ "write fault nth", true, A, 4096, CFG_NTH, -EBADMSG },
	};
	unsigned char *buf = kaio_buf(big, 0);
	io_context_t ctx = 0;
	unsigned int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_setup(4, &ctx));
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		long s, a, u;

		ASSERT_EQ(0, apply_cfg(self->fd, c[i].cfg, A));
		s = via_sync(self->fd, c[i].write, buf, c[i].len, c[i].off);
		a = via_libaio(ctx, self->fd, c[i].write, buf, c[i].len,
			       c[i].off);
		u = ur_one(&self->ring, c[i].write, self->fd, buf, c[i].len,
			   c[i].off);
		EXPECT_EQ(c[i].res, s) TH_LOG("%s: sync", c[i].name);
		EXPECT_EQ(c[i].res, a) TH_LOG("%s: libaio", c[i].name);
		EXPECT_EQ(c[i].res, u) TH_LOG("%s: io_uring", c[i].name);
	}
	EXPECT_EQ(0, io_destroy(ctx));
	kaio_buf_free(buf, big);
}

TEST_F(ur, eventfd_counts_completions)
{
	enum { N = 12 };
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0);
	struct ur_done d[N];
	__u64 total = 0, deadline, v;
	int efd, i;

	ASSERT_NE(NULL, buf);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, io_uring_register_eventfd(&self->ring, efd));
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(100), 0, 0));
	for (i = 0; i < N; i++)
		ur_read(&self->ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			i * PAGE_SZ, i);
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	EXPECT_EQ(-1, read(efd, &v, sizeof(v)));
	EXPECT_EQ(EAGAIN, errno);
	/* Each signal follows at least one CQE; all arrive. */
	deadline = now_ns() + WAIT_LONG_NS;
	while ((unsigned int)ur_ready(&self->ring) < N && now_ns() < deadline) {
		struct pollfd p = { .fd = efd, .events = POLLIN };

		if (poll(&p, 1, 50) > 0 && read(efd, &v, sizeof(v)) == sizeof(v))
			total += v;
	}
	if (read(efd, &v, sizeof(v)) == sizeof(v))
		total += v;
	EXPECT_EQ(N, ur_ready(&self->ring));
	EXPECT_LE(1ULL, total);
	EXPECT_GE((__u64)N, total);
	TH_LOG("%llu eventfd signals for %d CQEs", (unsigned long long)total, N);
	ASSERT_EQ(N, ur_reap(&self->ring, d, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((int)PAGE_SZ, d[i].res);
	}
	EXPECT_EQ(0, io_uring_unregister_eventfd(&self->ring));
	close(efd);
	kaio_buf_free(buf, N * PAGE_SZ);
}

enum { BATCH_N = 1024 };

struct batch {
	struct io_uring ring;
	__u64 off;
	unsigned char *buf, *want;
	struct ur_done *d;
};

/*
 * One batch of BATCH_N page reads due after @lat. Returns whether they
 * were all in flight together when the first could fire (checked then),
 * which shows only if submitting them took less than @lat.
 */
static bool batch_attempt(struct __test_metadata *_metadata,
			  FIXTURE_DATA(ur) *self, struct batch *b, __u64 lat)
{
	const size_t len = (size_t)BATCH_N * PAGE_SZ;
	struct aiodev_counters c0, c1, c2;
	int i, bad = 0;
	__u64 t0, t1;

	memset(b->buf, 0xee, len);
	c0 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	for (i = 0; i < BATCH_N; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&b->ring);

		if (!sqe)
			break;
		io_uring_prep_read(sqe, self->fd, b->buf + (size_t)i * PAGE_SZ,
				   PAGE_SZ, b->off + (__u64)i * PAGE_SZ);
		io_uring_sqe_set_data64(sqe, i);
	}
	EXPECT_EQ(BATCH_N, i);
	t0 = now_ns();
	EXPECT_EQ(BATCH_N, io_uring_submit(&b->ring));
	t1 = now_ns();
	c1 = kaio_ctx_stats(self->fd);
	TH_LOG("io_uring_submit of %d took %llu ms", BATCH_N,
	       (unsigned long long)(t1 - t0) / NSEC_PER_MSEC);
	EXPECT_EQ(c0.submitted + BATCH_N, c1.submitted);
	EXPECT_EQ(BATCH_N, ur_reap(&b->ring, b->d, BATCH_N, 30 * NSEC_PER_SEC));
	for (i = 0; i < BATCH_N; i++)
		if (b->d[i].res != (int)PAGE_SZ)
			bad++;
	EXPECT_EQ(0, bad);
	EXPECT_LE(t0 + lat, now_ns());
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

TEST_F_TIMEOUT(ur, batch_of_1024_in_one_submit, 120)
{
	const size_t len = (size_t)BATCH_N * PAGE_SZ;
	struct batch b = {
		.off = 40ULL << 20,
		.buf = kaio_buf(len, 0xee),
		.want = malloc(len),
		.d = calloc(BATCH_N, sizeof(*b.d)),
	};
	int attempt, ret;

	ASSERT_NE(NULL, b.buf);
	ASSERT_NE(NULL, b.want);
	ASSERT_NE(NULL, b.d);
	ASSERT_EQ(0, kaio_store_pattern(self->fd, b.off, len, 42));
	fill_pattern(b.want, len, 42);
	ret = io_uring_queue_init(BATCH_N, &b.ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("queue_init(%d): %s", BATCH_N, strerror(-ret));
	/* A host too slow to submit within the latency: 4 times longer. */
	for (attempt = 0; attempt < 3; attempt++) {
		if (batch_attempt(_metadata, self, &b, MSEC(1500) << (2 * attempt)))
			break;
		TH_LOG("submission outlasted the latency: again, longer");
	}
	EXPECT_GT(3, attempt) TH_LOG("never all in flight at once");
	io_uring_queue_exit(&b.ring);
	free(b.d);
	free(b.want);
	kaio_buf_free(b.buf, len);
}

/* io_uring holds the file: requests complete normally after close(). */
TEST_F(ur, close_fd_with_requests_in_flight)
{
	enum { N = 16 };
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0);
	struct aiodev_counters d0, d1;
	struct ur_done d[N];
	int fd, i;

	ASSERT_NE(NULL, buf);
	fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	d0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, 0));
	for (i = 0; i < N; i++) {
		if (i % 2)
			ur_read(&self->ring, fd, buf + i * PAGE_SZ, PAGE_SZ,
				(41ULL << 20) + i * PAGE_SZ, i);
		else
			ur_write(&self->ring, fd, buf + i * PAGE_SZ, PAGE_SZ,
				 (41ULL << 20) + i * PAGE_SZ, i);
	}
	ASSERT_EQ(N, io_uring_submit(&self->ring));
	EXPECT_EQ(0, close(fd));
	ASSERT_EQ(N, ur_reap(&self->ring, d, N, WAIT_LONG_NS));
	for (i = 0; i < N; i++) {
		EXPECT_EQ((int)PAGE_SZ, d[i].res);
	}
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, d0.in_flight, WAIT_LONG_NS,
					&d1)) TH_LOG("in_flight %llu",
						     d1.in_flight);
	EXPECT_EQ(d0.completed_ok + N, d1.completed_ok);
	EXPECT_EQ(d1.submitted, counters_sum(&d1));
	kaio_buf_free(buf, N * PAGE_SZ);
}

/*
 * Tearing the ring down with requests in flight: no hang; the requests
 * still complete (io_uring cannot cancel a queued read_iter) and the
 * device's accounting returns to rest.
 */
TEST_F(ur, ring_exit_with_requests_in_flight)
{
	enum { N = 16 };
	unsigned char *buf = kaio_buf(N * PAGE_SZ, 0);
	struct aiodev_counters d0, d1;
	struct io_uring ring;
	__u64 t0;
	int i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, io_uring_queue_init(N, &ring, 0));
	d0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, 0));
	for (i = 0; i < N; i++)
		ur_read(&ring, self->fd, buf + i * PAGE_SZ, PAGE_SZ,
			i * PAGE_SZ, i);
	ASSERT_EQ(N, io_uring_submit(&ring));
	t0 = now_ns();
	io_uring_queue_exit(&ring);
	TH_LOG("io_uring_queue_exit took %llu ms",
	       (unsigned long long)(now_ns() - t0) / NSEC_PER_MSEC);
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, d0.in_flight, WAIT_LONG_NS,
					&d1)) TH_LOG("in_flight %llu",
						     d1.in_flight);
	EXPECT_EQ(d0.submitted + N, d1.submitted);
	EXPECT_EQ(d0.completed_ok + d0.cancelled + N,
		  d1.completed_ok + d1.cancelled);
	EXPECT_EQ(d1.submitted, counters_sum(&d1));
	kaio_buf_free(buf, N * PAGE_SZ);
}

TEST_HARNESS_MAIN
