// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev data path: round trips at random and edge offsets/lengths and
 * buffer alignments, data moving at completion (never earlier, never for a
 * request that times out, is cancelled or fails), NOP semantics and the
 * fault plan hitting exactly the requests it names.
 */
#define _GNU_SOURCE
#include <sys/utsname.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

#define PARKED_NS	(60 * NSEC_PER_SEC)
/* Bytes checked on each side of a read buffer for stray writes. */
#define CANARY		64
#define CANARY_BYTE	0xee

FIXTURE(dt) {
	int fd;
	struct aiodev_info info;
	/* Two buffers of MAX_IO + 2 pages: room to misalign and for canaries. */
	unsigned char *wbuf, *rbuf;
	size_t buflen;
};

FIXTURE_SETUP(dt)
{
	self->fd = fixture_open(_metadata, 0, &self->info);
	self->buflen = AIODEV_MAX_IO_BYTES + 2 * PAGE_SZ;
	self->wbuf = map_pages(self->buflen / PAGE_SZ, PROT_READ | PROT_WRITE);
	self->rbuf = map_pages(self->buflen / PAGE_SZ, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, self->wbuf);
	ASSERT_NE(NULL, self->rbuf);
}

FIXTURE_TEARDOWN(dt)
{
	fixture_close(_metadata, self->fd);
	munmap(self->wbuf, self->buflen);
	munmap(self->rbuf, self->buflen);
}

static long long dev_io(int fd, __u16 op, void *buf, __u64 off, __u32 len)
{
	struct aiodev_req r;

	req_init(&r, op, buf, off, len, off);
	return aio_sync(fd, &r, NULL);
}

/*
 * Write @len pattern bytes at @off from wbuf + @wmis, read them back into
 * rbuf + @rmis and compare; bytes around the read target must be untouched.
 */
static void roundtrip(struct __test_metadata *_metadata,
		      FIXTURE_DATA(dt) *self, __u64 off, __u32 len,
		      size_t wmis, size_t rmis, __u64 seed)
{
	unsigned char *w = self->wbuf + wmis, *r = self->rbuf + CANARY + rmis;
	long bad;

	fill_pattern(w, len, seed);
	ASSERT_EQ((long long)len, dev_io(self->fd, AIODEV_OP_WRITE, w, off, len))
		TH_LOG("write off %llu len %u mis %zu", off, len, wmis);
	memset(self->rbuf, CANARY_BYTE, len + rmis + 2 * CANARY);
	ASSERT_EQ((long long)len, dev_io(self->fd, AIODEV_OP_READ, r, off, len))
		TH_LOG("read off %llu len %u mis %zu", off, len, rmis);
	bad = memcmp(w, r, len);
	ASSERT_EQ(0, bad) TH_LOG("data mismatch off %llu len %u", off, len);
	ASSERT_EQ(-1L, find_not(self->rbuf, CANARY + rmis, CANARY_BYTE))
		TH_LOG("read wrote before its buffer");
	ASSERT_EQ(-1L, find_not(r + len, CANARY, CANARY_BYTE))
		TH_LOG("read wrote past its buffer");
}

TEST_F(dt, roundtrip_random)
{
	__u64 seed = now_ns(), s = seed, limit = ZERO_REGION_OFF;
	__u32 len;
	__u64 off;
	int i;

	TH_LOG("seed %llu", seed);
	for (i = 0; i < 40; i++) {
		switch (i % 3) {	/* small, around a page, large */
		case 0:
			len = 1 + rnd_next(&s) % 512;
			break;
		case 1:
			len = 1 + rnd_next(&s) % (3 * PAGE_SZ);
			break;
		default:
			len = 1 + rnd_next(&s) % AIODEV_MAX_IO_BYTES;
		}
		off = rnd_next(&s) % (limit - len + 1);
		roundtrip(_metadata, self, off, len, rnd_next(&s) % PAGE_SZ,
			  rnd_next(&s) % (PAGE_SZ - CANARY), rnd_next(&s));
	}
}

TEST_F(dt, roundtrip_edges)
{
	__u64 size = self->info.size_bytes;
	const struct {
		__u64 off;
		__u32 len;
		size_t wmis, rmis;
	} c[] = {
		{ 0, 1, 0, 0 },
		{ 4095, 2, 4095, 4095 - CANARY },	/* device and buffer page cross */
		{ 4096 * 3 - 1, 4096 + 2, 4094, 1 },
		{ 8192, 4096, 0, 0 },			/* aligned page */
		{ 12345, AIODEV_MAX_IO_BYTES, 1, 3 },	/* max, unaligned */
		{ 4 << 20, AIODEV_MAX_IO_BYTES, 0, 0 },	/* max, aligned */
		{ size - 1, 1, 7, 9 },			/* last byte */
		{ size - AIODEV_MAX_IO_BYTES, AIODEV_MAX_IO_BYTES, 4095, 17 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		roundtrip(_metadata, self, c[i].off, c[i].len, c[i].wmis,
			  c[i].rmis, 0x1234 + i);
}

TEST_F(dt, overlapping_writes_compose)
{
	unsigned char *w = self->wbuf, *r = self->rbuf;
	const __u64 base = 20ULL << 20;

	/* Later writes overwrite only their own bytes. */
	memset(w, 'A', 3 * PAGE_SZ);
	ASSERT_EQ((long long)(3 * PAGE_SZ),
		  dev_io(self->fd, AIODEV_OP_WRITE, w, base, 3 * PAGE_SZ));
	memset(w, 'B', 100);
	ASSERT_EQ(100LL, dev_io(self->fd, AIODEV_OP_WRITE, w, base + 4090, 100));
	ASSERT_EQ((long long)(3 * PAGE_SZ),
		  dev_io(self->fd, AIODEV_OP_READ, r, base, 3 * PAGE_SZ));
	EXPECT_EQ(-1L, find_not(r, 4090, 'A'));
	EXPECT_EQ(-1L, find_not(r + 4090, 100, 'B'));
	EXPECT_EQ(-1L, find_not(r + 4190, 3 * PAGE_SZ - 4190, 'A'));
}

TEST_F(dt, unwritten_reads_zero)
{
	int i, fd1;

	/* Nothing ever writes ZERO_REGION, on either device. */
	memset(self->rbuf, 0xaa, self->buflen);
	ASSERT_EQ((long long)AIODEV_MAX_IO_BYTES,
		  dev_io(self->fd, AIODEV_OP_READ, self->rbuf + 5,
			 ZERO_REGION_OFF, AIODEV_MAX_IO_BYTES));
	EXPECT_EQ(-1L, find_not(self->rbuf + 5, AIODEV_MAX_IO_BYTES, 0));
	EXPECT_EQ(0xaa, self->rbuf[5 + AIODEV_MAX_IO_BYTES]);

	fd1 = aio_open(1, O_RDWR);
	ASSERT_LE(0, fd1);
	for (i = 0; i < 4; i++) {
		memset(self->rbuf, 0xaa, PAGE_SZ * 2);
		ASSERT_EQ(777LL, dev_io(fd1, AIODEV_OP_READ, self->rbuf + 3000,
					ZERO_REGION_OFF + i * (1 << 20) + 123,
					777));
		EXPECT_EQ(-1L, find_not(self->rbuf + 3000, 777, 0));
	}
	close(fd1);
}

TEST_F(dt, devices_have_separate_stores)
{
	const __u64 off = 30ULL << 20;
	unsigned char *w = self->wbuf, *r = self->rbuf;
	int fd1 = aio_open(1, O_RDWR);

	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, aio_reset_config(fd1));
	memset(w, 0x11, 4096);
	ASSERT_EQ(4096LL, dev_io(self->fd, AIODEV_OP_WRITE, w, off, 4096));
	memset(w, 0x22, 4096);
	ASSERT_EQ(4096LL, dev_io(fd1, AIODEV_OP_WRITE, w, off, 4096));
	ASSERT_EQ(4096LL, dev_io(self->fd, AIODEV_OP_READ, r, off, 4096));
	EXPECT_EQ(-1L, find_not(r, 4096, 0x11));
	ASSERT_EQ(4096LL, dev_io(fd1, AIODEV_OP_READ, r, off, 4096));
	EXPECT_EQ(-1L, find_not(r, 4096, 0x22));
	close(fd1);
}

TEST_F(dt, read_lands_at_completion)
{
	const __u64 off = 21ULL << 20;
	const __u32 len = 3 * PAGE_SZ + 100;
	unsigned char *r = self->rbuf + 50;
	struct aiodev_event ev;
	struct aiodev_req req;
	long early, later;
	int attempt, ret;

	fill_pattern(self->wbuf, len, 77);
	ASSERT_EQ((long long)len,
		  dev_io(self->fd, AIODEV_OP_WRITE, self->wbuf, off, len));
	/*
	 * The observation counts only if the event was not posted after it;
	 * on a host too slow for that, each attempt waits 4 times longer.
	 */
	for (attempt = 0; attempt < 4; attempt++) {
		memset(self->rbuf, 0xaa, len + 100);
		req_init(&req, AIODEV_OP_READ, r, off, len, attempt);
		req_latency(&req, MSEC(300) << (2 * attempt));
		ASSERT_EQ(0, aio_submit1(self->fd, &req));
		early = find_not(self->rbuf, len + 100, 0xaa);
		sleep_ns(MSEC(50));
		later = find_not(self->rbuf, len + 100, 0xaa);
		/* Only meaningful if the event was not posted yet. */
		ret = aio_getevents(self->fd, &ev, 0, 1, 0);
		ASSERT_LE(0, ret);
		if (ret) {
			TH_LOG("VM too slow to observe, retrying");
			continue;
		}
		EXPECT_EQ(-1L, early) TH_LOG("buffer written at submission");
		EXPECT_EQ(-1L, later) TH_LOG("buffer written before completion");
		ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
		EXPECT_EQ((long long)len, ev.result);
		EXPECT_EQ(0, memcmp(r, self->wbuf, len));
		EXPECT_EQ(-1L, find_not(self->rbuf, 50, 0xaa));
		EXPECT_EQ(-1L, find_not(r + len, 50, 0xaa));
		break;
	}
	ASSERT_GT(4, attempt);
}

TEST_F(dt, write_buffer_read_at_completion)
{
	const __u64 off = 22ULL << 20;
	const __u32 len = 2 * PAGE_SZ + 7;
	unsigned char *w = self->wbuf + 9;
	struct aiodev_event ev;
	struct aiodev_req req;

	memset(w, 'o', len);
	req_init(&req, AIODEV_OP_WRITE, w, off, len, 1);
	req_latency(&req, MSEC(100));
	ASSERT_EQ(0, aio_submit1(self->fd, &req));
	/* Changed after submission: the new content is what lands. */
	memset(w, 'n', len);
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ((long long)len, ev.result);
	ASSERT_EQ((long long)len,
		  dev_io(self->fd, AIODEV_OP_READ, self->rbuf, off, len));
	EXPECT_EQ(-1L, find_not(self->rbuf, len, 'n'));
}

/*
 * Writes A (60 ms) and B (20 ms) and reads R1 (10 ms) and R2 (90 ms) of one
 * page, in one batch. Data moves at completion, so each read returns what
 * the last write to complete before it stored ('x' if none): checked in
 * every attempt against the order the events actually came in, as is that
 * none completed before its latency.
 *
 * The order itself must be the latencies' (R1 B A R2) whenever each request
 * completed before the next one was due: that holds however slowly the
 * batch was submitted, unless the spread of the submissions or the timer
 * lateness ate the 10 ms between two latencies. Then the order proves
 * nothing and the next attempt scales all latencies by 4.
 */
TEST_F(dt, data_moves_in_completion_order)
{
	static const __u64 lat_ms[4] = { 60, 20, 10, 90 };
	static const __u64 want[4] = { 2, 1, 0, 3 };	/* by latency */
	const __u64 off = 23ULL << 20;
	unsigned char *a = self->wbuf, *b = self->wbuf + PAGE_SZ;
	unsigned char *rd[4] = { NULL, NULL, self->rbuf,
				 self->rbuf + PAGE_SZ };
	struct aiodev_event ev[4], *by_ud[4];
	struct aiodev_req req[4];
	int attempt, i;

	memset(a, 'a', PAGE_SZ);
	memset(b, 'b', PAGE_SZ);
	for (attempt = 0; attempt < 4; attempt++) {
		__u64 scale = 1ULL << (2 * attempt), smin = ~0ULL, smax = 0;
		unsigned char stored = 'x';
		bool ordered = true;

		memset(rd[2], 'x', PAGE_SZ);
		ASSERT_EQ(4096LL, dev_io(self->fd, AIODEV_OP_WRITE, rd[2], off,
					 PAGE_SZ));
		memset(rd[2], 0, 2 * PAGE_SZ);

		for (i = 0; i < 4; i++) {
			req_init(&req[i], i < 2 ? AIODEV_OP_WRITE : AIODEV_OP_READ,
				 i < 2 ? (i ? b : a) : rd[i], off, PAGE_SZ, i);
			req_latency(&req[i], MSEC(lat_ms[i]) * scale);
		}
		ASSERT_EQ(4, aio_submit(self->fd, req, 4));
		ASSERT_EQ(4, aio_reap(self->fd, ev, 4,
				      WAIT_LONG_NS + MSEC(90) * scale));

		memset(by_ud, 0, sizeof(by_ud));
		for (i = 0; i < 4; i++) {
			__u64 u = ev[i].user_data;

			ASSERT_GT(4ULL, u);
			ASSERT_EQ(NULL, by_ud[u]) TH_LOG("two events of %llu", u);
			by_ud[u] = &ev[i];
			EXPECT_EQ((long long)PAGE_SZ, ev[i].result);
			EXPECT_LE(ev[i].submit_ns + MSEC(lat_ms[u]) * scale,
				  ev[i].complete_ns)
				TH_LOG("request %llu completed early", u);
			if (i) {
				EXPECT_LE(ev[i - 1].complete_ns, ev[i].complete_ns)
					TH_LOG("events out of completion order");
			}
			if (u < 2) {
				stored = u ? 'b' : 'a';
			} else {
				EXPECT_EQ(-1L, find_not(rd[u], PAGE_SZ, stored))
					TH_LOG("read %llu (event %d) did not see '%c'",
					       u, i, stored);
			}
			smin = ev[i].submit_ns < smin ? ev[i].submit_ns : smin;
			smax = ev[i].submit_ns > smax ? ev[i].submit_ns : smax;
		}

		/* Each done before the next was due: the order is meaningful. */
		for (i = 0; i < 3; i++)
			ordered &= by_ud[want[i]]->complete_ns <
				   by_ud[want[i + 1]]->submit_ns +
				   MSEC(lat_ms[want[i + 1]]) * scale;
		if (ordered) {
			for (i = 0; i < 4; i++) {
				EXPECT_EQ(want[i], ev[i].user_data)
					TH_LOG("event %d", i);
			}
			EXPECT_EQ(-1L, find_not(rd[2], PAGE_SZ, 'x'));
			EXPECT_EQ(-1L, find_not(rd[3], PAGE_SZ, 'a'));
			break;
		}
		TH_LOG("attempt %d: submissions spread over %llu ns, a request completed after the next was due; retrying with 4x latencies",
		       attempt, smax - smin);
	}
	ASSERT_GT(4, attempt) TH_LOG("no attempt completed in time to check the order");
}

enum no_data_how { BY_TIMEOUT, BY_CANCEL, BY_FAULT };

/*
 * A WRITE and a READ that end without success move no data: the store
 * keeps its old content and the read buffer is never touched, not even
 * after the original latency has passed.
 */
static void no_data_moved(struct __test_metadata *_metadata,
			  FIXTURE_DATA(dt) *self, enum no_data_how how,
			  __u64 off)
{
	const __u32 len = PAGE_SZ + 333;
	unsigned char *old = self->wbuf, *neu = self->wbuf + 2 * PAGE_SZ;
	unsigned char *r = self->rbuf + 11;
	struct aiodev_config c;
	struct aiodev_event ev[2];
	struct aiodev_req req[2];
	long long want;
	int i;

	fill_pattern(old, len, off);
	ASSERT_EQ((long long)len,
		  dev_io(self->fd, AIODEV_OP_WRITE, old, off, len));
	memset(neu, 'N', len);
	memset(self->rbuf, 0xaa, len + 100);

	req_init(&req[0], AIODEV_OP_WRITE, neu, off, len, 0);
	req_init(&req[1], AIODEV_OP_READ, r, off, len, 1);
	for (i = 0; i < 2; i++)
		req_latency(&req[i], MSEC(300));
	switch (how) {
	case BY_TIMEOUT:
		for (i = 0; i < 2; i++)
			req_timeout(&req[i], MSEC(20));
		want = -ETIMEDOUT;
		break;
	case BY_CANCEL:
		want = -ECANCELED;
		break;
	default:
		ASSERT_EQ(0, aio_get_config(self->fd, &c));
		c.fail_offset = off + len - 1;	/* just the last byte */
		c.fail_len = 1;
		c.fail_range_errno = EXDEV;
		ASSERT_EQ(0, aio_set_config(self->fd, &c));
		want = -EXDEV;
	}
	ASSERT_EQ(2, aio_submit(self->fd, req, 2));
	if (how == BY_CANCEL) {
		ASSERT_EQ(0, aio_cancel(self->fd, req[0].id));
		ASSERT_EQ(0, aio_cancel(self->fd, req[1].id));
	}
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(want, ev[0].result);
	EXPECT_EQ(want, ev[1].result);

	/* Past the original latency: still nothing moved. */
	sleep_ns(MSEC(350));
	EXPECT_EQ(-1L, find_not(self->rbuf, len + 100, 0xaa))
		TH_LOG("unsuccessful read touched the buffer");
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ((long long)len,
		  dev_io(self->fd, AIODEV_OP_READ, self->rbuf, off, len));
	EXPECT_EQ(0, memcmp(self->rbuf, old, len))
		TH_LOG("unsuccessful write changed the store");
}

TEST_F(dt, timed_out_io_moves_no_data)
{
	no_data_moved(_metadata, self, BY_TIMEOUT, 24ULL << 20);
}

TEST_F(dt, cancelled_io_moves_no_data)
{
	no_data_moved(_metadata, self, BY_CANCEL, 25ULL << 20);
}

TEST_F(dt, failed_io_moves_no_data)
{
	no_data_moved(_metadata, self, BY_FAULT, 26ULL << 20);
}

TEST_F(dt, nop_semantics)
{
	struct aiodev_stats before, after;
	struct aiodev_config c;
	struct aiodev_event ev;
	struct aiodev_req r;

	/* A fault range over offset 0 does not touch a NOP. */
	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_offset = 0;
	c.fail_len = self->info.size_bytes;
	c.fail_range_errno = EIO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	ASSERT_EQ(0, aio_get_stats(self->fd, &before));

	req_nop(&r, 0x4e4f50);
	req_latency(&r, MSEC(30));
	EXPECT_EQ(0LL, aio_sync(self->fd, &r, &ev));
	EXPECT_EQ(AIODEV_OP_NOP, ev.op);
	EXPECT_EQ(0x4e4f50ULL, ev.user_data);
	EXPECT_LE(MSEC(30), ev.complete_ns - ev.submit_ns);
	ASSERT_EQ(0, aio_get_stats(self->fd, &after));
	EXPECT_EQ(before.context.completed_ok + 1, after.context.completed_ok);
	EXPECT_EQ(before.context.failed, after.context.failed);

	/* ...while any READ or WRITE now fails. */
	req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 1, 1);
	EXPECT_EQ(-EIO, aio_sync(self->fd, &r, NULL));
}

TEST_F(dt, fault_every_nth)
{
	const __u64 base = 27ULL << 20;
	struct aiodev_stats before, after;
	struct aiodev_config c;
	struct aiodev_event ev[9];
	struct aiodev_req r[9];
	int i, n;

	/* Known old content, written before the plan starts counting. */
	memset(self->wbuf, 0, 9 * PAGE_SZ);
	ASSERT_EQ((long long)(9 * PAGE_SZ),
		  dev_io(self->fd, AIODEV_OP_WRITE, self->wbuf, base,
			 9 * PAGE_SZ));
	for (i = 0; i < 9; i++)
		memset(self->wbuf + i * PAGE_SZ, 'a' + i, PAGE_SZ);

	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_every_nth = 3;
	c.fail_nth_errno = ENOSPC;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	ASSERT_EQ(0, aio_get_stats(self->fd, &before));

	/* Submitted one by one: the 3rd, 6th and 9th fail. */
	for (i = 0; i < 9; i++) {
		req_init(&r[i], AIODEV_OP_WRITE, self->wbuf + i * PAGE_SZ,
			 base + i * PAGE_SZ, PAGE_SZ, i);
		req_latency(&r[i], MSEC(5));
		ASSERT_EQ(0, aio_submit1(self->fd, &r[i]));
	}
	ASSERT_EQ(9, aio_reap(self->fd, ev, 9, WAIT_LONG_NS));
	for (i = 0; i < 9; i++) {
		n = ev[i].user_data;
		EXPECT_EQ(n % 3 == 2 ? -ENOSPC : (long long)PAGE_SZ,
			  ev[i].result) TH_LOG("request #%d", n + 1);
	}
	ASSERT_EQ(0, aio_get_stats(self->fd, &after));
	EXPECT_EQ(before.context.failed + 3, after.context.failed);
	EXPECT_EQ(before.device.failed + 3, after.device.failed);

	/* Failed writes left the old (zero) pages, the others landed. */
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ((long long)(9 * PAGE_SZ),
		  dev_io(self->fd, AIODEV_OP_READ, self->rbuf, base,
			 9 * PAGE_SZ));
	for (i = 0; i < 9; i++) {
		EXPECT_EQ(-1L, find_not(self->rbuf + i * PAGE_SZ, PAGE_SZ,
					i % 3 == 2 ? 0 : 'a' + i))
			TH_LOG("page %d", i);
	}
}

/*
 * A request takes the configuration in force when it is submitted (the
 * man page): a fault plan or a deadline set or cleared while it is in
 * flight changes nothing for it, only for the requests after it.
 */
TEST_F(dt, config_applies_at_submission)
{
	const __u64 base = 29ULL << 20;
	struct aiodev_event ev[2];
	struct aiodev_config c;
	struct aiodev_req r[2];
	int i;

	/* Planned to fail; the plan is cleared before they complete. */
	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_every_nth = 1;
	c.fail_nth_errno = EIO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	for (i = 0; i < 2; i++) {
		req_init(&r[i], AIODEV_OP_READ, self->rbuf + i * PAGE_SZ,
			 base + i * PAGE_SZ, PAGE_SZ, i);
		req_latency(&r[i], MSEC(100));
	}
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(-EIO, ev[i].result);

	/* Planned to succeed; a plan failing everything comes meanwhile. */
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	for (i = 0; i < 2; i++)
		EXPECT_EQ((long long)PAGE_SZ, ev[i].result);
	ASSERT_EQ(0, aio_reset_config(self->fd));

	/* Default deadline 20 ms, latency 200 ms: a timeout, kept... */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(200), 0, MSEC(20)));
	req_init(&r[0], AIODEV_OP_READ, self->rbuf, base, PAGE_SZ, 0);
	ASSERT_EQ(0, aio_submit1(self->fd, &r[0]));
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(200), 0, 0));
	ASSERT_EQ(1, aio_reap(self->fd, ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ETIMEDOUT, ev[0].result);
	/* ...and none for one submitted without a deadline, set later. */
	ASSERT_EQ(0, aio_submit1(self->fd, &r[0]));
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(200), 0, MSEC(20)));
	ASSERT_EQ(1, aio_reap(self->fd, ev, 1, WAIT_LONG_NS));
	EXPECT_EQ((long long)PAGE_SZ, ev[0].result);
	ASSERT_EQ(0, aio_reset_config(self->fd));
}

/*
 * The FOLL_PIN counters of /proc/vmstat, folded exactly (stat_refresh):
 * @acq pins taken, @rel pins released since boot.
 */
static int pin_counts(long long *acq, long long *rel)
{
	char line[128];
	FILE *f;
	int fd, found = 0;

	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	f = fopen("/proc/vmstat", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		found += sscanf(line, "nr_foll_pin_acquired %lld", acq) == 1;
		found += sscanf(line, "nr_foll_pin_released %lld", rel) == 1;
	}
	fclose(f);
	return found == 2 ? 0 : -1;
}

/* Kernels since 6.3 pin user pages (iov_iter_extract_pages()). */
static bool kernel_pins(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return true;
	return major > 6 || (major == 6 && minor >= 3);
}

/*
 * Every page pinned for a request is unpinned once it completes: pins
 * taken and released grow by the same amount (the tests run alone). Older
 * kernels take page references instead, and pin nothing.
 */
TEST_F(dt, pins_are_released)
{
	const __u32 len = 16 * PAGE_SZ;
	long long acq0, rel0, acq1 = 0, rel1 = 0;
	struct aiodev_event ev[16];
	struct aiodev_req r[16];
	__u64 deadline;
	int i;

	ASSERT_EQ(0, pin_counts(&acq0, &rel0));
	for (i = 0; i < 16; i++) {
		req_init(&r[i], i % 2 ? AIODEV_OP_READ : AIODEV_OP_WRITE,
			 (i % 2 ? self->rbuf : self->wbuf) + (i / 2) * len,
			 (30ULL << 20) + (__u64)i * len, len, i);
		req_latency(&r[i], MSEC(1));
	}
	ASSERT_EQ(16, aio_submit(self->fd, r, 16));
	ASSERT_EQ(16, aio_reap(self->fd, ev, 16, WAIT_LONG_NS));
	for (i = 0; i < 16; i++)
		EXPECT_EQ((long long)len, ev[i].result);
	/* Unpinning may follow the event by a moment. */
	deadline = now_ns() + WAIT_LONG_NS;
	do {
		ASSERT_EQ(0, pin_counts(&acq1, &rel1));
		if (acq1 - acq0 == rel1 - rel0)
			break;
		sleep_ns(MSEC(10));
	} while (now_ns() < deadline);
	if (kernel_pins()) {
		EXPECT_LE(16LL * 16, acq1 - acq0)
			TH_LOG("the requests pinned nothing");
	} else {
		EXPECT_EQ(0LL, acq1 - acq0);
	}
	EXPECT_EQ(acq1 - acq0, rel1 - rel0) TH_LOG("pins left behind");
}

TEST_F(dt, fault_every_nth_counts_from_set_config)
{
	struct aiodev_config c;
	struct aiodev_req r;
	int i, other;

	other = aio_open(0, O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_every_nth = 3;
	c.fail_nth_errno = AIODEV_MAX_ERRNO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));

	/* Two requests, then the same config again: counting restarts. */
	for (i = 0; i < 2; i++) {
		req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, i);
		EXPECT_EQ(64LL, aio_sync(self->fd, &r, NULL));
	}
	ASSERT_EQ(0, aio_set_config(self->fd, &c));

	/* Counted per device, whichever file submits. */
	req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, 10);
	EXPECT_EQ(64LL, aio_sync(other, &r, NULL));
	req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, 11);
	EXPECT_EQ(64LL, aio_sync(self->fd, &r, NULL));
	req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, 12);
	EXPECT_EQ(-(long long)AIODEV_MAX_ERRNO, aio_sync(other, &r, NULL));
	req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, 13);
	EXPECT_EQ(64LL, aio_sync(self->fd, &r, NULL));

	/* Every 1st: all fail. */
	c.fail_every_nth = 1;
	c.fail_nth_errno = EPERM;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	for (i = 0; i < 3; i++) {
		req_init(&r, AIODEV_OP_READ, self->rbuf, 0, 64, 20 + i);
		EXPECT_EQ(-EPERM, aio_sync(self->fd, &r, NULL));
	}
	close(other);
}

TEST_F(dt, fault_range_hits_only_overlaps)
{
	const __u64 fo = 28ULL << 20, fl = 64 << 10;
	struct aiodev_stats before, after;
	struct aiodev_config c;
	const struct {
		__u16 op;
		__u64 off;
		__u32 len;
		bool fails;
	} t[] = {
		{ AIODEV_OP_WRITE, fo - 4096, 4096, false },	/* ends at start */
		{ AIODEV_OP_WRITE, fo - 1, 2, true },		/* first byte */
		{ AIODEV_OP_WRITE, fo + fl - 1, 1, true },	/* last byte */
		{ AIODEV_OP_WRITE, fo + fl, 4096, false },	/* starts at end */
		{ AIODEV_OP_WRITE, fo - 4096, fl + 8192, true },/* covers it */
		{ AIODEV_OP_WRITE, fo + 100, 100, true },	/* inside */
		{ AIODEV_OP_READ, fo + fl - 10, 20, true },
		{ AIODEV_OP_READ, fo - 10, 10, false },
		{ AIODEV_OP_READ, fo + fl, 1, false },
		{ AIODEV_OP_NOP, 0, 0, false },
	};
	struct aiodev_event ev[ARRAY_SIZE(t)];
	struct aiodev_req r[ARRAY_SIZE(t)];
	unsigned int i, nfail = 0;

	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_offset = fo;
	c.fail_len = fl;
	c.fail_range_errno = EREMOTEIO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	ASSERT_EQ(0, aio_get_stats(self->fd, &before));

	for (i = 0; i < ARRAY_SIZE(t); i++) {
		req_init(&r[i], t[i].op,
			 t[i].op == AIODEV_OP_NOP ? NULL : self->wbuf,
			 t[i].off, t[i].len, i);
		req_latency(&r[i], MSEC(5));
		nfail += t[i].fails;
	}
	ASSERT_EQ((int)ARRAY_SIZE(t), aio_submit(self->fd, r, ARRAY_SIZE(t)));
	ASSERT_EQ((int)ARRAY_SIZE(t),
		  aio_reap(self->fd, ev, ARRAY_SIZE(t), WAIT_LONG_NS));
	for (i = 0; i < ARRAY_SIZE(t); i++) {
		unsigned int k = ev[i].user_data;

		ASSERT_GT(ARRAY_SIZE(t), k);
		EXPECT_EQ(t[k].fails ? -EREMOTEIO : (long long)t[k].len,
			  ev[i].result)
			TH_LOG("op %u off %+lld len %u", t[k].op,
			       (long long)(t[k].off - fo), t[k].len);
	}
	ASSERT_EQ(0, aio_get_stats(self->fd, &after));
	EXPECT_EQ(before.context.failed + nfail, after.context.failed);
	EXPECT_EQ(before.device.failed + nfail, after.device.failed);
}

TEST_HARNESS_MAIN
