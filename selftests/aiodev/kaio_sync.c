// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev through plain synchronous I/O: read/write/pread/pwrite/readv/
 * writev round trips and the file position, block-device limits at the
 * end of the device and beyond 1 MiB, llseek against the device size,
 * latency/timeout/fault plan on a sleeping caller, a signal cancelling a
 * slow read or write (EINTR without SA_RESTART, a fresh request with it),
 * RWF_NOWAIT and O_DIRECT.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

FIXTURE(sy) {
	int fd;
	__u64 size;
	unsigned char *w, *r;
	size_t buflen;
};

FIXTURE_SETUP(sy)
{
	struct aiodev_info info;

	self->fd = fixture_open(_metadata, 0, &info);
	self->size = info.size_bytes;
	self->buflen = 2 * AIODEV_MAX_IO_BYTES + 2 * PAGE_SZ;
	self->w = kaio_buf(self->buflen, 0);
	self->r = kaio_buf(self->buflen, 0xee);
	ASSERT_NE(NULL, self->w);
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(sy)
{
	alarm_ns(0);
	fixture_close(_metadata, self->fd);
	kaio_buf_free(self->w, self->buflen);
	kaio_buf_free(self->r, self->buflen);
}

TEST_F(sy, pread_pwrite_roundtrip_random)
{
	enum { N = 48, MAXLEN = 256 << 10 };
	__u64 seed = kaio_seed(), off[N];
	__u32 len[N];
	int i;

	TH_LOG("seed %llu (KAIO_SEED)", (unsigned long long)seed);
	kaio_random_extents(&seed, N, MAXLEN, off, len);
	for (i = 0; i < N; i++) {
		fill_pattern(self->w, len[i], off[i]);
		ASSERT_EQ((ssize_t)len[i],
			  kaio_pwrite(self->fd, self->w, len[i], off[i]));
	}
	for (i = 0; i < N; i++) {
		size_t mis = rnd_next(&seed) % PAGE_SZ;
		unsigned char *r = self->r + mis;

		memset(self->r, 0xee, len[i] + mis + 64);
		fill_pattern(self->w, len[i], off[i]);
		ASSERT_EQ((ssize_t)len[i],
			  kaio_pread(self->fd, r, len[i], off[i]));
		ASSERT_EQ(0, memcmp(self->w, r, len[i]))
			TH_LOG("extent %d off %llu len %u", i,
			       (unsigned long long)off[i], len[i]);
		ASSERT_EQ(-1L, find_not(self->r, mis, 0xee));
		ASSERT_EQ(-1L, find_not(r + len[i], 64, 0xee));
	}
}

TEST_F(sy, read_write_move_the_file_position)
{
	const __u64 off = (21ULL << 20) + 3;
	unsigned char *w = self->w, *r = self->r;

	fill_pattern(w, 3 * 5000, 21);
	ASSERT_EQ((off_t)off, lseek(self->fd, off, SEEK_SET));
	ASSERT_EQ(5000, write(self->fd, w, 5000));
	ASSERT_EQ(5000, write(self->fd, w + 5000, 5000));
	EXPECT_EQ((off_t)(off + 10000), lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ(5000, write(self->fd, w + 10000, 5000));

	ASSERT_EQ((off_t)off, lseek(self->fd, off, SEEK_SET));
	ASSERT_EQ(7000, read(self->fd, r, 7000));
	ASSERT_EQ(8000, read(self->fd, r + 7000, 8000));
	EXPECT_EQ((off_t)(off + 15000), lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, memcmp(w, r, 15000));
	/* pread/pwrite leave the position alone. */
	ASSERT_EQ(100, pread(self->fd, r, 100, off));
	EXPECT_EQ((off_t)(off + 15000), lseek(self->fd, 0, SEEK_CUR));
}

TEST_F(sy, readv_writev_roundtrip)
{
	static const size_t wl[4] = { 1, 4095, 8193, 700 };
	static const size_t rl[3] = { 5000, 3000, 4989 };
	const __u64 off = (22ULL << 20) + 511;
	unsigned char src[12989], dst[12989];
	struct iovec wv[4], rv[3];
	size_t i, pos;

	fill_pattern(src, sizeof(src), 22);
	for (i = 0, pos = 0; i < 4; pos += wl[i], i++) {
		wv[i].iov_base = self->w + i * 4 * PAGE_SZ + 13 * i;
		wv[i].iov_len = wl[i];
		memcpy(wv[i].iov_base, src + pos, wl[i]);
	}
	for (i = 0; i < 3; i++) {
		rv[i].iov_base = self->r + i * 4 * PAGE_SZ + 29 * i;
		rv[i].iov_len = rl[i];
	}
	ASSERT_EQ((off_t)off, lseek(self->fd, off, SEEK_SET));
	ASSERT_EQ((ssize_t)sizeof(src), writev(self->fd, wv, 4));
	EXPECT_EQ((off_t)(off + sizeof(src)), lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ((ssize_t)sizeof(src), preadv(self->fd, rv, 3, off));
	for (i = 0, pos = 0; i < 3; pos += rl[i], i++)
		memcpy(dst + pos, rv[i].iov_base, rl[i]);
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));

	/* And back the other way: pwritev, then readv at the position. */
	fill_pattern(src, sizeof(src), 23);
	for (i = 0, pos = 0; i < 4; pos += wl[i], i++)
		memcpy(wv[i].iov_base, src + pos, wl[i]);
	ASSERT_EQ((ssize_t)sizeof(src), pwritev(self->fd, wv, 4, off));
	ASSERT_EQ((off_t)off, lseek(self->fd, off, SEEK_SET));
	ASSERT_EQ((ssize_t)sizeof(src), readv(self->fd, rv, 3));
	for (i = 0, pos = 0; i < 3; pos += rl[i], i++)
		memcpy(dst + pos, rv[i].iov_base, rl[i]);
	EXPECT_EQ(0, memcmp(src, dst, sizeof(src)));
}

TEST_F(sy, end_of_device)
{
	const __u64 S = self->size;
	struct aiodev_counters c0, c1;

	fill_pattern(self->w, 4096, 24);
	/* Write crossing the end: short, only what fits. */
	EXPECT_EQ(100, kaio_pwrite(self->fd, self->w, 4096, S - 100));
	/* Read crossing the end: short, and it is the data written. */
	EXPECT_EQ(100, kaio_pread(self->fd, self->r, 4096, S - 100));
	EXPECT_EQ(0, memcmp(self->w, self->r, 100));
	EXPECT_EQ(-1L, find_not(self->r + 100, 4096 - 100, 0xee));

	c0 = kaio_ctx_stats(self->fd);
	/* Reads at or past the end: EOF. Writes there: ENOSPC. */
	EXPECT_EQ(0, kaio_pread(self->fd, self->r, 4096, S));
	EXPECT_EQ(0, kaio_pread(self->fd, self->r, 1, S + 1));
	EXPECT_EQ(0, kaio_pread(self->fd, self->r, 4096, S + (1ULL << 30)));
	EXPECT_EQ(-ENOSPC, kaio_pwrite(self->fd, self->w, 4096, S));
	EXPECT_EQ(-ENOSPC, kaio_pwrite(self->fd, self->w, 1, S + 4096));
	/* Zero-length transfers are no requests. */
	EXPECT_EQ(0, kaio_pread(self->fd, self->r, 0, 0));
	EXPECT_EQ(0, kaio_pwrite(self->fd, self->w, 0, 0));
	/* Negative offsets are refused by the VFS. */
	EXPECT_EQ(-EINVAL, kaio_pread(self->fd, self->r, 1, -1));
	EXPECT_EQ(-EINVAL, kaio_pwrite(self->fd, self->w, 1, -4096));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted, c1.submitted) TH_LOG("requests were made");

	/* read() and write() at the end through the file position. */
	ASSERT_EQ((off_t)S, lseek(self->fd, 0, SEEK_END));
	EXPECT_EQ(0, read(self->fd, self->r, 4096));
	EXPECT_EQ(-1, write(self->fd, self->w, 4096));
	EXPECT_EQ(ENOSPC, errno);
	ASSERT_EQ((off_t)(S - 10), lseek(self->fd, -10, SEEK_END));
	EXPECT_EQ(10, read(self->fd, self->r, 4096));
	EXPECT_EQ((off_t)S, lseek(self->fd, 0, SEEK_CUR));
	EXPECT_EQ(0, read(self->fd, self->r, 4096));
}

TEST_F(sy, transfers_over_1mib_are_short)
{
	const size_t big = 2 * AIODEV_MAX_IO_BYTES;
	const __u64 off = 24ULL << 20;
	struct iovec v[2];

	fill_pattern(self->w, big, 25);
	EXPECT_EQ((ssize_t)AIODEV_MAX_IO_BYTES,
		  kaio_pwrite(self->fd, self->w, big, off));
	EXPECT_EQ((ssize_t)AIODEV_MAX_IO_BYTES,
		  kaio_pread(self->fd, self->r, big, off));
	EXPECT_EQ(0, memcmp(self->w, self->r, AIODEV_MAX_IO_BYTES));
	EXPECT_EQ(-1L, find_not(self->r + AIODEV_MAX_IO_BYTES, PAGE_SZ, 0xee));
	/* Vectored too: the cut falls inside the second segment. */
	v[0].iov_base = self->r;
	v[0].iov_len = 3 * PAGE_SZ;
	v[1].iov_base = self->r + 3 * PAGE_SZ;
	v[1].iov_len = AIODEV_MAX_IO_BYTES;
	EXPECT_EQ((ssize_t)AIODEV_MAX_IO_BYTES, preadv(self->fd, v, 2, off));
	/* The short read near the end wins over the 1 MiB cap. */
	EXPECT_EQ(4096, kaio_pread(self->fd, self->r, big, self->size - 4096));
}

TEST_F(sy, llseek_against_device_size)
{
	const off_t S = self->size;
	int fd = self->fd, fd2;

	EXPECT_EQ(0, lseek(fd, 0, SEEK_SET));
	EXPECT_EQ(12345, lseek(fd, 12345, SEEK_SET));
	EXPECT_EQ(S, lseek(fd, S, SEEK_SET));
	/* Beyond the end or before the start: refused, position kept. */
	EXPECT_EQ(-1, lseek(fd, S + 1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(S, lseek(fd, 0, SEEK_CUR));

	EXPECT_EQ(1000, lseek(fd, 1000, SEEK_SET));
	EXPECT_EQ(1500, lseek(fd, 500, SEEK_CUR));
	EXPECT_EQ(1200, lseek(fd, -300, SEEK_CUR));
	EXPECT_EQ(-1, lseek(fd, -1201, SEEK_CUR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, S, SEEK_CUR));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(1200, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(S, lseek(fd, S - 1200, SEEK_CUR));

	EXPECT_EQ(S, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(S - 4096, lseek(fd, -4096, SEEK_END));
	EXPECT_EQ(0, lseek(fd, -S, SEEK_END));
	EXPECT_EQ(-1, lseek(fd, 1, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, -S - 1, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));

	/* fixed_size_llseek(), as block devices: no SEEK_DATA/SEEK_HOLE. */
	EXPECT_EQ(-1, lseek(fd, 4096, SEEK_DATA));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, 4096, SEEK_HOLE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, 0, 42));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));

	/* The position is per open file. */
	fd2 = aio_open(0, O_RDONLY);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, lseek(fd2, 0, SEEK_CUR));
	EXPECT_EQ(777, lseek(fd2, 777, SEEK_SET));
	EXPECT_EQ(S, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(777, lseek(fd2, 0, SEEK_CUR));
	EXPECT_EQ(S, lseek(fd, 0, SEEK_CUR));
	close(fd2);
}

TEST_F(sy, sync_read_waits_for_latency)
{
	const __u64 off = 26ULL << 20, lat = MSEC(100);
	struct aiodev_counters c0, c1;
	__u64 t0, dt;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 8192, 26));
	fill_pattern(self->w, 8192, 26);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	t0 = now_ns();
	ASSERT_EQ(8192, kaio_pread(self->fd, self->r, 8192, off));
	dt = now_ns() - t0;
	EXPECT_LE(lat, dt);
	EXPECT_EQ(0, memcmp(self->w, self->r, 8192));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted + 1, c1.submitted);
	EXPECT_EQ(c0.completed_ok + 1, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
	EXPECT_LE(1ULL, c1.peak_in_flight);
}

TEST_F(sy, sync_timeout_etimedout)
{
	const __u64 off = 27ULL << 20;
	struct aiodev_counters c0, c1;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4096, 27));
	fill_pattern(self->w, 4096, 28);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(200), 0, MSEC(20)));
	EXPECT_EQ(-ETIMEDOUT, kaio_pread(self->fd, self->r, 4096, off));
	EXPECT_EQ(-1L, find_not(self->r, 4096, 0xee));
	EXPECT_EQ(-ETIMEDOUT, kaio_pwrite(self->fd, self->w, 4096, off));
	/* The position does not move on an error. */
	ASSERT_EQ((off_t)off, lseek(self->fd, off, SEEK_SET));
	EXPECT_EQ(-1, read(self->fd, self->r, 4096));
	EXPECT_EQ(ETIMEDOUT, errno);
	EXPECT_EQ((off_t)off, lseek(self->fd, 0, SEEK_CUR));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.timed_out + 3, c1.timed_out);
	EXPECT_EQ(c0.completed_ok, c1.completed_ok);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 4096, 27));
}

TEST_F(sy, sync_fault_errnos)
{
	const __u64 off = 28ULL << 20;
	struct aiodev_counters c0, c1;
	int i;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 8 * PAGE_SZ, 29));
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 4, EIO));
	for (i = 1; i <= 8; i++) {
		EXPECT_EQ(i % 4 ? 4096 : -EIO,
			  kaio_pread(self->fd, self->r, 4096, off))
			TH_LOG("read %d", i);
	}
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(0, kaio_set_fail_range(self->fd, off + PAGE_SZ, PAGE_SZ,
					 EREMOTEIO));
	EXPECT_EQ(4096, kaio_pread(self->fd, self->r, 4096, off));
	EXPECT_EQ(-EREMOTEIO, kaio_pread(self->fd, self->r, 4097, off));
	EXPECT_EQ(-EREMOTEIO, kaio_pread(self->fd, self->r, 1, off + 8191));
	EXPECT_EQ(4096, kaio_pread(self->fd, self->r, 4096, off + 8192));
	memset(self->w, 0x5a, 4096);
	EXPECT_EQ(-EREMOTEIO, kaio_pwrite(self->fd, self->w, 4096,
					  off + PAGE_SZ));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.failed + 2 + 3, c1.failed);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 8 * PAGE_SZ, 29));
}

/*
 * SIGALRM (no SA_RESTART) during a slow read: -1/EINTR right away, the
 * request is cancelled, the buffer untouched.
 */
TEST_F(sy, signal_interrupts_slow_read)
{
	const __u64 off = 29ULL << 20;
	struct aiodev_counters c0, c1;
	ssize_t n;
	__u64 t0, dt;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4096, 30));
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, 20 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, 0));
	alarm_ns(MSEC(200));
	t0 = now_ns();
	n = pread(self->fd, self->r, 4096, off);
	dt = now_ns() - t0;
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINTR, errno);
	TH_LOG("interrupted after %llu ms",
	       (unsigned long long)dt / NSEC_PER_MSEC);
	EXPECT_GT(5 * NSEC_PER_SEC, dt) TH_LOG("the signal did not end the wait");
	EXPECT_EQ(-1L, find_not(self->r, 4096, 0xee));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted + 1, c1.submitted);
	EXPECT_EQ(c0.cancelled + 1, c1.cancelled);
	EXPECT_EQ(c0.completed_ok, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
}

TEST_F(sy, signal_interrupts_slow_write)
{
	const __u64 off = 30ULL << 20;
	struct aiodev_counters c0, c1;
	struct iovec v[2];
	ssize_t n;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 8192, 31));
	fill_pattern(self->w, 8192, 32);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, 20 * NSEC_PER_SEC, 0, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, 0));
	alarm_ns(MSEC(200));
	v[0].iov_base = self->w;
	v[0].iov_len = 4096;
	v[1].iov_base = self->w + 4096;
	v[1].iov_len = 4096;
	n = pwritev(self->fd, v, 2, off);
	EXPECT_EQ(-1, n);
	EXPECT_EQ(EINTR, errno);
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.cancelled + 1, c1.cancelled);
	EXPECT_EQ(0ULL, c1.in_flight);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 8192, 31));
}

/*
 * With SA_RESTART the cancelled read or write is restarted from scratch:
 * the caller sees its data (a read) or the store holds it (a write), the
 * stats a cancel and a second request.
 */
static void sa_restart(struct __test_metadata *_metadata,
		       FIXTURE_DATA(sy) *self, bool write, __u64 off)
{
	const __u64 lat = MSEC(500);
	struct aiodev_counters c0, c1;
	ssize_t n;
	__u64 t0, dt;

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4096, 33));
	fill_pattern(self->w, 4096, write ? 34 : 33);
	c0 = kaio_ctx_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, lat, 0, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, SA_RESTART));
	/* Before arming: the alarm may fire right after alarm_ns() returns. */
	t0 = now_ns();
	alarm_ns(MSEC(100));
	if (write)
		n = pwrite(self->fd, self->w, 4096, off);
	else
		n = pread(self->fd, self->r, 4096, off);
	dt = now_ns() - t0;
	ASSERT_EQ(4096, n) TH_LOG("errno %d", errno);
	/* At least the signal's delay plus one full latency. */
	EXPECT_LE(MSEC(100) + lat, dt);
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted + 2, c1.submitted);
	EXPECT_EQ(c0.cancelled + 1, c1.cancelled);
	EXPECT_EQ(c0.completed_ok + 1, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	if (write) {
		EXPECT_EQ(1, kaio_store_has(self->fd, off, 4096, 34));
	} else {
		EXPECT_EQ(0, memcmp(self->w, self->r, 4096));
	}
}

TEST_F(sy, signal_with_sa_restart_restarts_read)
{
	sa_restart(_metadata, self, false, 31ULL << 20);
}

TEST_F(sy, signal_with_sa_restart_restarts_write)
{
	sa_restart(_metadata, self, true, 33ULL << 20);
}

TEST_F(sy, rwf_nowait_eagain)
{
	const __u64 off = 32ULL << 20;
	struct aiodev_counters c0, c1;
	struct iovec v = { .iov_base = self->r, .iov_len = 4096 };
	struct iovec wv = { .iov_base = self->w, .iov_len = 4096 };

	ASSERT_EQ(0, kaio_store_pattern(self->fd, off, 4096, 34));
	fill_pattern(self->w, 4096, 35);
	c0 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(-1, preadv2(self->fd, &v, 1, off, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1L, find_not(self->r, 4096, 0xee));
	EXPECT_EQ(-1, pwritev2(self->fd, &wv, 1, off, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted, c1.submitted) TH_LOG("NOWAIT made a request");
	EXPECT_EQ(1, kaio_store_has(self->fd, off, 4096, 34));
	/* Without the flag the same call works. */
	EXPECT_EQ(4096, preadv2(self->fd, &v, 1, off, 0));
}

TEST_F(sy, odirect_aligned_io)
{
	const __u64 off = 33ULL << 20;
	const size_t len = 128 << 10;
	int fd = aio_open(0, O_RDWR | O_DIRECT);

	ASSERT_LE(0, fd) TH_LOG("O_DIRECT open: %s", strerror(errno));
	EXPECT_TRUE(fcntl(fd, F_GETFL) & O_DIRECT);
	fill_pattern(self->w, len, 36);
	EXPECT_EQ((ssize_t)len, kaio_pwrite(fd, self->w, len, off));
	EXPECT_EQ((ssize_t)len, kaio_pread(fd, self->r, len, off));
	EXPECT_EQ(0, memcmp(self->w, self->r, len));
	/* Visible through a buffered open of the same device. */
	memset(self->r, 0, len);
	EXPECT_EQ((ssize_t)len, kaio_pread(self->fd, self->r, len, off));
	EXPECT_EQ(0, memcmp(self->w, self->r, len));
	close(fd);
}

TEST_F(sy, bad_buffer_efault)
{
	char *p = map_with_hole(1);
	struct aiodev_counters c0, c1;

	ASSERT_NE(NULL, p);
	memset(p, 0xee, PAGE_SZ);
	c0 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(-EFAULT, kaio_pread(self->fd, unmapped_addr(), 4096, 0));
	EXPECT_EQ(-EFAULT, kaio_pwrite(self->fd, unmapped_addr(), 4096, 0));
	EXPECT_EQ(-EFAULT, kaio_pread(self->fd, p + 100, PAGE_SZ, 0));
	EXPECT_EQ(-1L, find_not(p, PAGE_SZ, 0xee));
	c1 = kaio_ctx_stats(self->fd);
	EXPECT_EQ(c0.submitted, c1.submitted);
	munmap(p, 2 * PAGE_SZ);
}

struct rt_thread {
	int fd;
	int idx;
	int iters;
	int errors;
	__u64 seed;
};

/* Each thread owns 1 MiB: write random extents, read them back. */
static void *rt_thread_fn(void *arg)
{
	struct rt_thread *t = arg;
	const __u64 base = (42ULL << 20) + (__u64)t->idx * (1 << 20);
	unsigned char *w = malloc(64 << 10), *r = malloc(64 << 10);
	int i;

	if (!w || !r) {
		t->errors++;
		goto out;
	}
	for (i = 0; i < t->iters; i++) {
		__u32 len = 1 + rnd_next(&t->seed) % (64 << 10);
		__u64 off = base + rnd_next(&t->seed) % ((1 << 20) - len + 1);

		fill_pattern(w, len, t->seed);
		if (kaio_pwrite(t->fd, w, len, off) != (ssize_t)len ||
		    kaio_pread(t->fd, r, len, off) != (ssize_t)len ||
		    memcmp(w, r, len))
			t->errors++;
	}
out:
	free(w);
	free(r);
	return NULL;
}

/* Sleeping readers and writers on one file and on two, concurrently. */
TEST_F_TIMEOUT(sy, concurrent_threads_roundtrip, 90)
{
	enum { T = 4, ITERS = 60 };
	struct aiodev_counters c0, c1, o0, o1;
	struct rt_thread t[T];
	pthread_t th[T];
	__u64 seed = kaio_seed();
	int fd2, i, errors = 0;

	TH_LOG("seed %llu (KAIO_SEED)", (unsigned long long)seed);
	fd2 = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1) / 20, MSEC(1), 0));
	c0 = kaio_ctx_stats(self->fd);
	o0 = kaio_ctx_stats(fd2);
	for (i = 0; i < T; i++) {
		t[i] = (struct rt_thread) {
			.fd = i % 2 ? fd2 : self->fd, .idx = i, .iters = ITERS,
			.seed = seed + i,
		};
		ASSERT_EQ(0, pthread_create(&th[i], NULL, rt_thread_fn, &t[i]));
	}
	for (i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		errors += t[i].errors;
	}
	EXPECT_EQ(0, errors);
	c1 = kaio_ctx_stats(self->fd);
	o1 = kaio_ctx_stats(fd2);
	EXPECT_EQ(c0.submitted + T / 2 * ITERS * 2, c1.submitted);
	EXPECT_EQ(o0.submitted + T / 2 * ITERS * 2, o1.submitted);
	EXPECT_EQ(c0.completed_ok + T / 2 * ITERS * 2, c1.completed_ok);
	EXPECT_EQ(0ULL, c1.in_flight);
	EXPECT_EQ(0ULL, o1.in_flight);
	close(fd2);
}

TEST(wrong_open_mode_ebadf)
{
	char buf[16] = { 0 };
	int ro = aio_open(0, O_RDONLY), wo = aio_open(0, O_WRONLY);

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	EXPECT_EQ(-1, write(ro, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, read(wo, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
	close(ro);
	close(wo);
}

TEST_HARNESS_MAIN
