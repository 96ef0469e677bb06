// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev: a request that does not succeed moves no data, on the paths the
 * other programs leave out. A write that fails, times out or is cancelled
 * never changes the store; a read that times out or is cancelled never
 * touches its buffer, not even after its original latency has passed.
 *
 *  - ioctl: requests cancelled by close(); CANCEL racing the timer on
 *    WRITEs (whichever side wins, the store matches the answer); the
 *    device's default deadline (the configuration, not the request's);
 *  - libaio: timed-out requests checked again after their latency;
 *    io_destroy() and process exit with writes in flight; io_cancel()
 *    racing completion on writes and reads;
 *  - plain write: a process SIGKILLed while its write waits.
 *
 * Everything on /dev/aiodev1, [40 MiB, 48 MiB).
 */
#define _GNU_SOURCE
#include <libaio.h>
#include <signal.h>
#include <sys/wait.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define DEV		1
#define BASE		(40ULL << 20)
#define LEN		(8 * PAGE_SZ + 123)	/* spans 9 pages */
#define SLOW		MSEC(300)

FIXTURE(in) {
	int fd;
	unsigned char *old, *neu, *rd;
};

FIXTURE_SETUP(in)
{
	self->fd = fixture_open(_metadata, DEV, NULL);
	self->old = kaio_buf(16 * LEN, 0);
	self->neu = kaio_buf(16 * LEN, 0);
	self->rd = kaio_buf(16 * LEN, 0xee);
	ASSERT_NE(NULL, self->old);
	ASSERT_NE(NULL, self->neu);
	ASSERT_NE(NULL, self->rd);
}

FIXTURE_TEARDOWN(in)
{
	fixture_close(_metadata, self->fd);
	kaio_buf_free(self->old, 16 * LEN);
	kaio_buf_free(self->neu, 16 * LEN);
	kaio_buf_free(self->rd, 16 * LEN);
}

/* Extent @i: LEN bytes at BASE + i * 64 KiB, apart from the others. */
static __u64 ext(int i)
{
	return BASE + (__u64)i * (16 * PAGE_SZ);
}

static int store(struct __test_metadata *_metadata, FIXTURE_DATA(in) *self,
		 int i, __u64 seed)
{
	fill_pattern(self->old + i * LEN, LEN, seed);
	return kaio_pwrite_all(self->fd, self->old + i * LEN, LEN, ext(i));
}

/* Does extent @i still hold pattern @seed? */
static int holds(FIXTURE_DATA(in) *self, int i, __u64 seed)
{
	return kaio_store_has(self->fd, ext(i), LEN, seed);
}

/* ---- ioctl -------------------------------------------------------------- */

/* close() cancels what is in flight: the writes never land, reads never fill. */
TEST_F(in, ioctl_close_cancels_without_moving_data)
{
	struct aiodev_stats s0, s1;
	struct aiodev_req r[8];
	int fd, i;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, store(_metadata, self, i, 100 + i));
	fd = aio_open(DEV, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, aio_get_stats(self->fd, &s0));
	for (i = 0; i < 4; i++) {
		memset(self->neu + i * LEN, 'N', LEN);
		req_init(&r[i], AIODEV_OP_WRITE, self->neu + i * LEN, ext(i),
			 LEN, i);
		req_init(&r[4 + i], AIODEV_OP_READ, self->rd + i * LEN, ext(i),
			 LEN, 4 + i);
		req_latency(&r[i], SLOW);
		req_latency(&r[4 + i], SLOW);
	}
	ASSERT_EQ(8, aio_submit(fd, r, 8));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, aio_get_stats(self->fd, &s1));
	EXPECT_EQ(s0.device.cancelled + 8, s1.device.cancelled);
	EXPECT_EQ(s0.device.completed_ok, s1.device.completed_ok);
	sleep_ns(SLOW + MSEC(100));
	EXPECT_EQ(-1L, find_not(self->rd, 4 * LEN, 0xee))
		TH_LOG("a read cancelled by close() wrote its buffer");
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(1, holds(self, i, 100 + i)) TH_LOG("extent %d", i);
	}
}

/* The device's default deadline, not the request's, also moves nothing. */
TEST_F(in, ioctl_device_deadline_moves_nothing)
{
	struct aiodev_event ev[2];
	struct aiodev_req r[2];

	ASSERT_EQ(0, store(_metadata, self, 0, 7));
	ASSERT_EQ(0, aio_set_latency(self->fd, SLOW, 0, MSEC(10)));
	memset(self->neu, 'N', LEN);
	req_init(&r[0], AIODEV_OP_WRITE, self->neu, ext(0), LEN, 0);
	req_init(&r[1], AIODEV_OP_READ, self->rd, ext(0), LEN, 1);
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(-ETIMEDOUT, ev[0].result);
	EXPECT_EQ(-ETIMEDOUT, ev[1].result);
	sleep_ns(SLOW + MSEC(50));
	EXPECT_EQ(-1L, find_not(self->rd, LEN, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, holds(self, 0, 7));
}

/*
 * CANCEL a WRITE around the instant its timer fires: when CANCEL says 0
 * the store keeps the old data, when it says -EALREADY/-ENOENT the write
 * landed; a cancelled READ leaves its buffer alone.
 */
TEST_F_TIMEOUT(in, ioctl_cancel_races_fire_on_writes, 90)
{
	const __u64 lat = MSEC(2);
	int iters = 200, won = 0, lost = 0, i;

	for (i = 0; i < iters; i++) {
		__u64 delay = (__u64)(i % 41) * 100 * NSEC_PER_USEC;
		int e = i % 4, ret;
		struct aiodev_event ev;
		struct aiodev_req r;

		ASSERT_EQ(0, store(_metadata, self, e, 1000 + i));
		fill_pattern(self->neu + e * LEN, LEN, 5000 + i);
		memset(self->rd + e * LEN, 0xee, LEN);
		if (i % 3 == 2)
			req_init(&r, AIODEV_OP_READ, self->rd + e * LEN, ext(e),
				 LEN, i);
		else
			req_init(&r, AIODEV_OP_WRITE, self->neu + e * LEN,
				 ext(e), LEN, i);
		req_latency(&r, lat);
		ret = submit_cancel_after(_metadata, self->fd, &r, delay, &ev);
		if (ret == 0) {
			won++;
			ASSERT_EQ(-ECANCELED, ev.result);
		} else {
			lost++;
			ASSERT_TRUE(ret == -EALREADY || ret == -ENOENT);
			ASSERT_EQ((long long)LEN, ev.result);
		}
		if (r.op == AIODEV_OP_WRITE) {
			ASSERT_EQ(1, holds(self, e, ret ? 5000 + i : 1000 + i))
				TH_LOG("iteration %d: CANCEL %d, store has the %s data",
				       i, ret, ret ? "old" : "new");
		} else if (ret == 0) {
			ASSERT_EQ(-1L, find_not(self->rd + e * LEN, LEN, 0xee));
		} else {
			ASSERT_EQ(0, memcmp(self->rd + e * LEN, self->old + e * LEN,
					    LEN));
		}
	}
	TH_LOG("cancel won %d, the timer won %d", won, lost);
	EXPECT_LT(0, won);
	EXPECT_LT(0, lost);
}

/* ---- libaio ------------------------------------------------------------- */

static int la_reap(io_context_t ctx, struct io_event *ev, int n)
{
	struct timespec ts = { 5, 0 };
	int got = 0, ret;

	while (got < n) {
		ret = io_getevents(ctx, n - got, n - got, ev + got, &ts);
		if (ret <= 0)
			return ret < 0 ? ret : got;
		got += ret;
	}
	return got;
}

/* Timed out: still nothing moved once the original latency is over. */
TEST_F(in, libaio_timeout_moves_nothing_even_later)
{
	struct iocb cb[2], *pp[2] = { &cb[0], &cb[1] };
	struct io_event ev[2];
	io_context_t ctx = 0;

	ASSERT_EQ(0, io_setup(4, &ctx));
	ASSERT_EQ(0, store(_metadata, self, 0, 11));
	memset(self->neu, 'N', LEN);
	ASSERT_EQ(0, aio_set_latency(self->fd, SLOW, 0, MSEC(10)));
	io_prep_pwrite(&cb[0], self->fd, self->neu, LEN, ext(0));
	io_prep_pread(&cb[1], self->fd, self->rd, LEN, ext(0));
	ASSERT_EQ(2, io_submit(ctx, 2, pp));
	ASSERT_EQ(2, la_reap(ctx, ev, 2));
	EXPECT_EQ(-ETIMEDOUT, (long)ev[0].res);
	EXPECT_EQ(-ETIMEDOUT, (long)ev[1].res);
	sleep_ns(SLOW + MSEC(50));
	EXPECT_EQ(-1L, find_not(self->rd, LEN, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, holds(self, 0, 11));
	io_destroy(ctx);
}

/* io_destroy() cancels writes and reads in flight: nothing moves. */
TEST_F(in, libaio_io_destroy_moves_nothing)
{
	struct iocb cb[8], *pp[8];
	struct aiodev_counters c0, c1;
	io_context_t ctx = 0;
	int i;

	ASSERT_EQ(0, io_setup(8, &ctx));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, store(_metadata, self, i, 20 + i));
	memset(self->neu, 'N', 4 * LEN);
	c0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, aio_set_latency(self->fd, SLOW, 0, 0));
	for (i = 0; i < 4; i++) {
		io_prep_pwrite(&cb[i], self->fd, self->neu + i * LEN, LEN, ext(i));
		io_prep_pread(&cb[4 + i], self->fd, self->rd + i * LEN, LEN,
			      ext(i));
	}
	for (i = 0; i < 8; i++)
		pp[i] = &cb[i];
	ASSERT_EQ(8, io_submit(ctx, 8, pp));
	EXPECT_EQ(0, io_destroy(ctx));
	c1 = kaio_dev_stats(self->fd);
	EXPECT_EQ(c0.cancelled + 8, c1.cancelled);
	EXPECT_EQ(c0.completed_ok, c1.completed_ok);
	sleep_ns(SLOW + MSEC(50));
	EXPECT_EQ(-1L, find_not(self->rd, 4 * LEN, 0xee));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(1, holds(self, i, 20 + i)) TH_LOG("extent %d", i);
	}
}

/* A process exits with kernel AIO writes in flight: they never land. */
TEST_F(in, libaio_exit_moves_nothing)
{
	struct aiodev_counters c0, c1;
	int pfd[2], status = 0, i;
	char c = 0;
	pid_t pid;

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, store(_metadata, self, i, 30 + i));
	memset(self->neu, 'N', 4 * LEN);
	ASSERT_EQ(0, aio_set_latency(self->fd, SLOW, 0, 0));
	c0 = kaio_dev_stats(self->fd);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct iocb cb[4], *pp[4];
		io_context_t ctx = 0;
		int fd = aio_open(DEV, O_RDWR);

		if (fd < 0 || io_setup(4, &ctx))
			_exit(1);
		for (i = 0; i < 4; i++) {
			io_prep_pwrite(&cb[i], fd, self->neu + i * LEN, LEN, ext(i));
			pp[i] = &cb[i];
		}
		c = io_submit(ctx, 4, pp) == 4;
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(1, c);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, status);
	close(pfd[0]);
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, c0.in_flight, WAIT_LONG_NS, &c1));
	EXPECT_EQ(c0.cancelled + 4, c1.cancelled);
	sleep_ns(SLOW + MSEC(50));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(1, holds(self, i, 30 + i)) TH_LOG("extent %d", i);
	}
}

/*
 * io_cancel() racing completion: -EINPROGRESS means the event is
 * -ECANCELED and nothing moved; otherwise the request moved its data.
 */
TEST_F_TIMEOUT(in, libaio_cancel_races_completion, 90)
{
	int iters = 200, won = 0, lost = 0, i;
	io_context_t ctx = 0;

	ASSERT_EQ(0, io_setup(4, &ctx));
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(2), 0, 0));
	for (i = 0; i < iters; i++) {
		__u64 delay = (__u64)(i % 41) * 100 * NSEC_PER_USEC, t0;
		int e = i % 4, ret;
		struct iocb cb, *pp = &cb;
		struct io_event ev, dummy;

		ASSERT_EQ(0, aio_reset_config(self->fd));
		ASSERT_EQ(0, store(_metadata, self, e, 2000 + i));
		ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(2), 0, 0));
		fill_pattern(self->neu + e * LEN, LEN, 7000 + i);
		memset(self->rd + e * LEN, 0xee, LEN);
		if (i % 3 == 2)
			io_prep_pread(&cb, self->fd, self->rd + e * LEN, LEN, ext(e));
		else
			io_prep_pwrite(&cb, self->fd, self->neu + e * LEN, LEN,
				       ext(e));
		t0 = now_ns();
		ASSERT_EQ(1, io_submit(ctx, 1, &pp));
		spin_until(t0 + delay);
		ret = io_cancel(ctx, &cb, &dummy);
		ASSERT_EQ(1, la_reap(ctx, &ev, 1));
		if (ret == -EINPROGRESS) {
			won++;
			ASSERT_EQ(-ECANCELED, (long)ev.res);
		} else {
			lost++;
			ASSERT_TRUE(ret == -EAGAIN || ret == -EINVAL) TH_LOG("%d", ret);
			ASSERT_EQ((long)LEN, (long)ev.res);
		}
		ASSERT_EQ(0, aio_reset_config(self->fd));
		if (cb.aio_lio_opcode == IO_CMD_PWRITE) {
			ASSERT_EQ(1, holds(self, e, ret == -EINPROGRESS ?
					   2000 + i : 7000 + i))
				TH_LOG("iteration %d: io_cancel %d", i, ret);
		} else if (ret == -EINPROGRESS) {
			ASSERT_EQ(-1L, find_not(self->rd + e * LEN, LEN, 0xee));
		} else {
			ASSERT_EQ(0, memcmp(self->rd + e * LEN, self->old + e * LEN,
					    LEN));
		}
	}
	TH_LOG("io_cancel won %d, completion won %d", won, lost);
	EXPECT_LT(0, won);
	EXPECT_LT(0, lost);
	io_destroy(ctx);
}

/* ---- plain write ---------------------------------------------------------- */

/* SIGKILL while a write waits for its latency: the write never lands. */
TEST_F(in, sync_write_killed_moves_nothing)
{
	struct aiodev_counters c0, c1;
	int status = 0;
	pid_t pid;

	ASSERT_EQ(0, store(_metadata, self, 0, 40));
	memset(self->neu, 'N', LEN);
	ASSERT_EQ(0, aio_set_latency(self->fd, 20 * NSEC_PER_SEC, 0, 0));
	c0 = kaio_dev_stats(self->fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		int fd = aio_open(DEV, O_RDWR);

		_exit(fd < 0 || pwrite(fd, self->neu, LEN, ext(0)) < 0 ? 1 : 0);
	}
	/* Until it waits (the request is in flight), then kill it. */
	{
		__u64 deadline = now_ns() + WAIT_LONG_NS;

		while (kaio_dev_stats(self->fd).in_flight == c0.in_flight &&
		       now_ns() < deadline)
			sleep_ns(MSEC(5));
	}
	EXPECT_EQ(c0.in_flight + 1, kaio_dev_stats(self->fd).in_flight);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, c0.in_flight, WAIT_LONG_NS, &c1));
	EXPECT_EQ(c0.cancelled + 1, c1.cancelled);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	EXPECT_EQ(1, holds(self, 0, 40));
}

TEST_HARNESS_MAIN
