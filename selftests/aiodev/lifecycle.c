// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev request lifecycle: completion order and timing, timeouts,
 * cancellation (including against the timer), teardown with requests in
 * flight, queue-depth back-pressure, partial submission, context isolation
 * and request accounting.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

/* Longer than any test: such a request only ends by cancel or close. */
#define PARKED_NS	(60 * NSEC_PER_SEC)

FIXTURE(lc) {
	int fd;
	struct aiodev_info info;
};

FIXTURE_SETUP(lc)
{
	self->fd = fixture_open(_metadata, 0, &self->info);
}

FIXTURE_TEARDOWN(lc)
{
	fixture_close(_metadata, self->fd);
}

/*
 * Fill @fd's context with parked NOPs until it refuses (@fd must be
 * O_NONBLOCK). Returns how many were accepted, or -errno.
 */
static int fill_context(int fd, __u32 room)
{
	struct aiodev_req r[256];
	int total = 0, ret;
	__u32 i, n;

	while ((__u32)total < room) {
		n = room - total < 256 ? room - total : 256;
		for (i = 0; i < n; i++) {
			req_nop(&r[i], total + i);
			req_latency(&r[i], PARKED_NS);
		}
		ret = aio_submit(fd, r, n);
		if (ret < 0)
			return ret == -EAGAIN ? total : ret;
		total += ret;
		if ((__u32)ret < n)
			break;
	}
	return total;
}

/*
 * A batch that stops at a bad request keeps the slots of the requests it
 * accepted and no more: the file then takes exactly queue_depth minus
 * those before -EAGAIN.
 */
TEST_F(lc, refused_batch_gives_back_its_slots)
{
	__u32 qd = self->info.queue_depth;
	struct aiodev_req r[8];
	int nb, i;

	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	for (i = 0; i < 8; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], PARKED_NS);
	}
	r[3].op = 0x7f;		/* no such op: the batch stops there */
	EXPECT_EQ(3, aio_submit(nb, r, 8));
	EXPECT_EQ((int)qd - 3, fill_context(nb, qd + 5));
	close(nb);
}

TEST_F(lc, completion_order_follows_latency)
{
	const __u64 lat_ms[4] = { 40, 30, 20, 10 };
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	__u64 t0, t1;
	int i, j;

	for (i = 0; i < 4; i++) {
		req_nop(&r[i], lat_ms[i]);
		req_latency(&r[i], MSEC(lat_ms[i]));
	}
	t0 = now_ns();
	ASSERT_EQ(4, aio_submit(self->fd, r, 4));
	t1 = now_ns();
	ASSERT_EQ(4, aio_reap(self->fd, ev, 4, WAIT_LONG_NS));

	for (i = 0; i < 4; i++) {
		/*
		 * Events come in the order the requests are due: by latency
		 * when submitting took less than the 10 ms between them, and
		 * by submit_ns + latency always, however loaded the host.
		 */
		if (t1 - t0 < MSEC(10)) {
			EXPECT_EQ((__u64)(i + 1) * 10, ev[i].user_data)
				TH_LOG("event %d out of latency order", i);
		}
		if (i) {
			EXPECT_LE(ev[i - 1].submit_ns + MSEC(ev[i - 1].user_data),
				  ev[i].submit_ns + MSEC(ev[i].user_data))
				TH_LOG("event %d came before one due earlier", i);
		}
		EXPECT_EQ(0LL, ev[i].result);
		EXPECT_LE(t0, ev[i].submit_ns);
		EXPECT_GE(t1, ev[i].submit_ns);
		EXPECT_LE(MSEC(ev[i].user_data),
			  ev[i].complete_ns - ev[i].submit_ns)
			TH_LOG("completed before its latency");
		if (i) {
			EXPECT_LE(ev[i - 1].complete_ns, ev[i].complete_ns);
		}
		/* The event names the request it belongs to. */
		for (j = 0; j < 4; j++) {
			if (lat_ms[j] == ev[i].user_data) {
				EXPECT_EQ(r[j].id, ev[i].id);
			}
		}
	}
}

TEST_F(lc, latency_is_honoured)
{
	struct aiodev_event ev;
	struct aiodev_req r;
	__u64 t0, t1;

	req_nop(&r, 99);
	req_latency(&r, MSEC(200));
	t0 = now_ns();
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0))
		TH_LOG("completed immediately despite 200 ms latency");
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	t1 = now_ns();

	EXPECT_LE(t0 + MSEC(200), t1);
	EXPECT_LE(MSEC(200), ev.complete_ns - ev.submit_ns);
	EXPECT_LE(t0, ev.submit_ns);
	EXPECT_GE(t1, ev.complete_ns);
	EXPECT_EQ(99ULL, ev.user_data);
	EXPECT_EQ(r.id, ev.id);
	EXPECT_EQ(AIODEV_OP_NOP, ev.op);
	EXPECT_EQ(0, ev.__pad);
	EXPECT_EQ(0U, ev.__reserved);
	EXPECT_EQ(0LL, ev.result);
}

TEST_F(lc, config_latency_applies_to_later_requests)
{
	struct aiodev_event ev[2];
	struct aiodev_req r[2];

	/* Device latency 80 ms: the explicit 40 ms request wins. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(80), 0, 0));
	req_nop(&r[0], 1);
	req_nop(&r[1], 2);
	req_latency(&r[1], MSEC(40));
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	/* Changing it now must not affect what was already submitted. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(5), 0, 0));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(2ULL, ev[0].user_data);
	EXPECT_EQ(1ULL, ev[1].user_data);
	EXPECT_LE(MSEC(80), ev[1].complete_ns - ev[1].submit_ns);

	/* Device latency 5 ms now: the default request wins. */
	req_nop(&r[0], 1);
	req_nop(&r[1], 2);
	req_latency(&r[1], MSEC(40));
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(1ULL, ev[0].user_data);
	EXPECT_EQ(2ULL, ev[1].user_data);
	EXPECT_LE(MSEC(5), ev[0].complete_ns - ev[0].submit_ns);
}

TEST_F(lc, jitter_reorders_default_latency)
{
	struct aiodev_event ev[64];
	struct aiodev_req r[64];
	int i, inversions = 0;

	/* 1 ms + U(0, 40 ms): 64 requests in order is astronomically rare. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1), MSEC(40), 0));
	for (i = 0; i < 64; i++)
		req_nop(&r[i], i);
	ASSERT_EQ(64, aio_submit(self->fd, r, 64));
	ASSERT_EQ(64, aio_reap(self->fd, ev, 64, WAIT_LONG_NS));
	for (i = 0; i < 64; i++) {
		EXPECT_EQ(0LL, ev[i].result);
		EXPECT_LE(MSEC(1), ev[i].complete_ns - ev[i].submit_ns);
		if (i && ev[i].user_data < ev[i - 1].user_data)
			inversions++;
		if (i) {
			EXPECT_LE(ev[i - 1].complete_ns, ev[i].complete_ns);
		}
	}
	EXPECT_LT(0, inversions) TH_LOG("jitter did not reorder anything");
}

TEST_F(lc, latency_flag_ignores_jitter)
{
	struct aiodev_event ev[8];
	struct aiodev_req r[8];
	int i;

	/* Jitter up to 300 ms would scramble these if it applied. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1), MSEC(300), 0));
	for (i = 0; i < 8; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(10 + 12 * i));
	}
	ASSERT_EQ(8, aio_submit(self->fd, r, 8));
	ASSERT_EQ(8, aio_reap(self->fd, ev, 8, WAIT_LONG_NS));
	for (i = 0; i < 8; i++) {
		__u64 own = MSEC(10 + 12 * ev[i].user_data);

		/* Exactly its own latency, so due in submission order. */
		EXPECT_LE(own, ev[i].complete_ns - ev[i].submit_ns);
		if (i) {
			EXPECT_LE(ev[i - 1].submit_ns +
				  MSEC(10 + 12 * ev[i - 1].user_data),
				  ev[i].submit_ns + own);
		}
	}
}

TEST_F(lc, per_request_timeout)
{
	struct aiodev_stats st;
	struct aiodev_event ev;
	struct aiodev_req r;
	__u64 dur;

	req_nop(&r, 1);
	req_latency(&r, MSEC(300));
	req_timeout(&r, MSEC(30));
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ETIMEDOUT, ev.result);
	EXPECT_EQ(r.id, ev.id);
	dur = ev.complete_ns - ev.submit_ns;
	EXPECT_LE(MSEC(30), dur);
	EXPECT_GT(MSEC(300), dur) TH_LOG("timed out only at its latency");

	/* Exactly one event, even once the latency has passed. */
	sleep_ns(MSEC(300));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(1ULL, st.context.timed_out);
	EXPECT_EQ(0ULL, st.context.completed_ok);
	EXPECT_EQ(0ULL, st.context.in_flight);
}

TEST_F(lc, device_default_timeout)
{
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	int i;

	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(300), 0, MSEC(30)));
	req_nop(&r[0], 0);			/* both defaults: times out */
	req_nop(&r[1], 1);
	req_latency(&r[1], MSEC(80));		/* device timeout still applies */
	req_nop(&r[2], 2);
	req_latency(&r[2], MSEC(60));
	req_timeout(&r[2], 0);			/* 0: no deadline at all */
	req_nop(&r[3], 3);
	req_timeout(&r[3], MSEC(900));		/* longer than 300 ms latency */
	ASSERT_EQ(4, aio_submit(self->fd, r, 4));
	ASSERT_EQ(4, aio_reap(self->fd, ev, 4, WAIT_LONG_NS));

	/*
	 * Events come in the order the requests are due. #0 and #1, due at
	 * their 30 ms deadline, come before #2, submitted after them and
	 * due at 60 ms: at their latencies (300, 80 ms) they would not.
	 */
	EXPECT_GT(2, (int)ev[0].user_data);
	EXPECT_GT(2, (int)ev[1].user_data);
	EXPECT_EQ(2ULL, ev[2].user_data) TH_LOG("timed out only at its latency");
	for (i = 0; i < 4; i++) {
		switch (ev[i].user_data) {
		case 0:
		case 1:
			EXPECT_EQ(-ETIMEDOUT, ev[i].result)
				TH_LOG("req %llu", ev[i].user_data);
			EXPECT_LE(MSEC(30), ev[i].complete_ns - ev[i].submit_ns);
			break;
		case 2:
			EXPECT_EQ(0LL, ev[i].result);
			EXPECT_LE(MSEC(60), ev[i].complete_ns - ev[i].submit_ns);
			break;
		case 3:
			EXPECT_EQ(0LL, ev[i].result);
			EXPECT_LE(MSEC(300), ev[i].complete_ns - ev[i].submit_ns);
			break;
		default:
			EXPECT_TRUE(false) TH_LOG("bogus user_data");
		}
	}
}

TEST_F(lc, timeout_tie_is_timeout)
{
	struct aiodev_event ev[6];
	struct aiodev_req r[6];
	int i;

	/* Deadline at the very instant of completion: -ETIMEDOUT. */
	for (i = 0; i < 5; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(20 + 10 * i));
		req_timeout(&r[i], MSEC(20 + 10 * i));
	}
	/* Same through the device defaults. */
	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(25), 0, MSEC(25)));
	req_nop(&r[5], 5);
	ASSERT_EQ(6, aio_submit(self->fd, r, 6));
	ASSERT_EQ(6, aio_reap(self->fd, ev, 6, WAIT_LONG_NS));
	for (i = 0; i < 6; i++) {
		EXPECT_EQ(-ETIMEDOUT, ev[i].result)
			TH_LOG("req %llu", ev[i].user_data);
	}
}

TEST_F(lc, timeout_longer_than_latency)
{
	struct aiodev_stats st;
	struct aiodev_event ev[5];
	struct aiodev_req r[5];
	int i;

	for (i = 0; i < 4; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(20 + 5 * i));
		req_timeout(&r[i], MSEC(60 + 5 * i));
	}
	/* Zero latency with the TIMEOUT flag at 0: no deadline, success. */
	req_nop(&r[4], 4);
	req_latency(&r[4], 0);
	req_timeout(&r[4], 0);
	ASSERT_EQ(5, aio_submit(self->fd, r, 5));
	ASSERT_EQ(5, aio_reap(self->fd, ev, 5, WAIT_LONG_NS));
	for (i = 0; i < 5; i++) {
		EXPECT_EQ(0LL, ev[i].result) TH_LOG("req %llu", ev[i].user_data);
	}
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(5ULL, st.context.completed_ok);
	EXPECT_EQ(0ULL, st.context.timed_out);
}

TEST_F(lc, cancel_before_fire)
{
	struct aiodev_stats st;
	struct aiodev_event ev;
	struct aiodev_req r;
	__u64 t0;

	req_nop(&r, 77);
	req_latency(&r, MSEC(400));
	t0 = now_ns();
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	ASSERT_NE(0ULL, r.id);
	ASSERT_EQ(0, aio_cancel(self->fd, r.id));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev.result);
	EXPECT_EQ(r.id, ev.id);
	EXPECT_EQ(77ULL, ev.user_data);
	EXPECT_GT(MSEC(400), ev.complete_ns - ev.submit_ns)
		TH_LOG("cancel waited for the timer");

	/* Exactly one event: nothing more once the latency has passed. */
	spin_until(t0 + MSEC(500));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, r.id));
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(1ULL, st.context.cancelled);
	EXPECT_EQ(0ULL, st.context.completed_ok);
	EXPECT_EQ(0ULL, st.context.in_flight);
}

TEST_F(lc, cancel_after_completion)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	struct aiodev_event ev;
	struct aiodev_req r;
	int ret;

	req_nop(&r, 5);
	req_latency(&r, MSEC(1));
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	/*
	 * Completed, event posted (the file polls readable) but not reaped:
	 * no longer in flight (-ENOENT, not -EALREADY), and the event keeps
	 * its own result.
	 */
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ret = aio_cancel(self->fd, r.id);
	EXPECT_EQ(-ENOENT, ret);
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(0LL, ev.result);
	EXPECT_EQ(r.id, ev.id);
	/* Reaped: the id is gone. */
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, r.id));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
}

/*
 * Cancel each request around the instant its timer fires. Whichever side
 * wins, there must be exactly one event, CANCEL's answer must match it, and
 * a READ must have moved data exactly when it succeeded.
 */
TEST_F_TIMEOUT(lc, cancel_races_fire, 60)
{
	const int iters = 300, len = 512;
	const __u64 lat = MSEC(2);
	unsigned char *pattern, *buf;
	int i, ret, won = 0, lost = 0;
	struct aiodev_event ev;
	struct aiodev_stats st;
	struct aiodev_req r;

	pattern = malloc(len);
	buf = malloc(len);
	ASSERT_TRUE(pattern && buf);
	fill_pattern(pattern, len, 0xc0ffee);
	req_init(&r, AIODEV_OP_WRITE, pattern, 40ULL << 20, len, 0);
	ASSERT_EQ((long long)len, aio_sync(self->fd, &r, NULL));

	for (i = 0; i < iters; i++) {
		/* Cancel 0..4 ms after submission, straddling the 2 ms fire. */
		__u64 delay = (__u64)(i % 41) * 100 * NSEC_PER_USEC;

		memset(buf, 0x5a, len);
		req_init(&r, i & 1 ? AIODEV_OP_READ : AIODEV_OP_NOP,
			 i & 1 ? buf : NULL, i & 1 ? 40ULL << 20 : 0,
			 i & 1 ? len : 0, i);
		req_latency(&r, lat);
		ret = submit_cancel_after(_metadata, self->fd, &r, delay, &ev);
		ASSERT_EQ(r.id, ev.id);
		if (ret == 0) {
			won++;
			ASSERT_EQ(-ECANCELED, ev.result) TH_LOG("iter %d", i);
			if (i & 1) {
				ASSERT_EQ(-1L, find_not(buf, len, 0x5a))
					TH_LOG("cancelled read moved data");
			}
		} else {
			/* Fired (-EALREADY) or even posted (-ENOENT). */
			lost++;
			ASSERT_TRUE(ret == -EALREADY || ret == -ENOENT)
				TH_LOG("iter %d: cancel returned %d", i, ret);
			ASSERT_EQ(i & 1 ? (long long)len : 0LL, ev.result);
			if (i & 1) {
				ASSERT_EQ(0, memcmp(buf, pattern, len));
			}
		}
		ASSERT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0))
			TH_LOG("second event for iter %d", i);
	}
	sleep_ns(MSEC(20));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ((__u64)iters + 1, st.context.submitted);
	EXPECT_EQ((__u64)won, st.context.cancelled);
	EXPECT_EQ((__u64)lost + 1, st.context.completed_ok);
	EXPECT_EQ(0ULL, st.context.in_flight);
	/* The sweep must really have hit both sides of the race. */
	EXPECT_LT(0, won);
	EXPECT_LT(0, lost);
	TH_LOG("cancel won %d, timer won %d", won, lost);
	free(pattern);
	free(buf);
}

/* Poll GET_STATS until the device has no more than @want in flight. */
static int wait_in_flight(int fd, __u64 want, struct aiodev_stats *st)
{
	__u64 deadline = now_ns() + WAIT_LONG_NS;

	do {
		if (aio_get_stats(fd, st))
			return -1;
		if (st->device.in_flight <= want)
			return 0;
		sleep_ns(MSEC(5));
	} while (now_ns() < deadline);
	return -1;
}

TEST_F_TIMEOUT(lc, close_with_thousands_in_flight, 90)
{
	const int nfds = 4;
	__u32 qd = self->info.queue_depth;
	struct aiodev_stats base, mid, end;
	struct aiodev_req r[64];
	int fds[4], i, j, n;
	size_t buflen = 64 * PAGE_SZ;
	char *buf;
	__u64 t0;

	ASSERT_EQ(0, aio_get_stats(self->fd, &base));
	for (i = 0; i < nfds; i++) {
		fds[i] = aio_open(0, O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, fds[i]);
	}

	/* Some READs hold pinned pages of a mapping we drop before close. */
	buf = map_pages(buflen / PAGE_SZ, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, buf);
	for (j = 0; j < 64; j++) {
		req_init(&r[j], AIODEV_OP_READ, buf + j * PAGE_SZ,
			 j * PAGE_SZ, PAGE_SZ, j);
		req_latency(&r[j], PARKED_NS);
	}
	ASSERT_EQ(64, aio_submit(fds[0], r, 64));
	ASSERT_EQ(0, munmap(buf, buflen));

	ASSERT_EQ((int)qd - 64, fill_context(fds[0], qd - 64));
	for (i = 1; i < nfds; i++) {
		n = fill_context(fds[i], qd + 10);
		ASSERT_EQ((int)qd, n);
	}

	ASSERT_EQ(0, aio_get_stats(self->fd, &mid));
	EXPECT_EQ(base.device.in_flight + nfds * qd, mid.device.in_flight);
	EXPECT_EQ(base.device.submitted + nfds * qd, mid.device.submitted);
	EXPECT_LE(mid.device.in_flight, mid.device.peak_in_flight);
	EXPECT_EQ(mid.device.submitted, counters_sum(&mid.device));

	t0 = now_ns();
	for (i = 0; i < nfds; i++)
		EXPECT_EQ(0, close(fds[i]));
	ASSERT_EQ(0, wait_in_flight(self->fd, base.device.in_flight, &end))
		TH_LOG("in_flight stuck at %llu", end.device.in_flight);
	TH_LOG("close of %u requests took %llu ms", nfds * qd,
	       (now_ns() - t0) / NSEC_PER_MSEC);

	EXPECT_EQ(base.device.in_flight, end.device.in_flight);
	EXPECT_EQ(base.device.cancelled + nfds * qd, end.device.cancelled);
	EXPECT_EQ(base.device.completed_ok, end.device.completed_ok);
	EXPECT_EQ(base.device.timed_out, end.device.timed_out);
	EXPECT_EQ(base.device.failed, end.device.failed);
	EXPECT_EQ(end.device.submitted, counters_sum(&end.device));
}

TEST_F_TIMEOUT(lc, exit_with_requests_in_flight, 60)
{
	__u32 qd = self->info.queue_depth;
	struct aiodev_stats base, end;
	int pfd[2], status = 0;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, aio_get_stats(self->fd, &base));
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Dies without closing: the kernel closes at exit. */
		int a = aio_open(0, O_RDWR | O_NONBLOCK);
		int b = aio_open(0, O_RDWR | O_NONBLOCK);

		c = a >= 0 && b >= 0 &&
		    fill_context(a, qd) == (int)qd &&
		    fill_context(b, qd) == (int)qd;
		if (write(pfd[1], &c, 1) != 1)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(1, read(pfd[0], &c, 1));
	ASSERT_EQ(1, c) TH_LOG("child could not fill its contexts");
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, wait_in_flight(self->fd, base.device.in_flight, &end))
		TH_LOG("in_flight stuck at %llu", end.device.in_flight);
	EXPECT_EQ(base.device.submitted + 2 * qd, end.device.submitted);
	EXPECT_EQ(base.device.cancelled + 2 * qd, end.device.cancelled);
	EXPECT_EQ(end.device.submitted, counters_sum(&end.device));
	close(pfd[0]);
}

struct blocked_submit {
	int fd;
	atomic_int tid;
	atomic_int done;
	int ret;
	int err;
};

static void *submit_thread(void *arg)
{
	struct blocked_submit *b = arg;
	struct aiodev_req r;

	req_nop(&r, 0xb10c);
	req_latency(&r, MSEC(1));
	atomic_store(&b->tid, gettid());
	b->ret = aio_submit(b->fd, &r, 1);
	atomic_store(&b->done, 1);
	return NULL;
}

TEST_F_TIMEOUT(lc, full_queue_blocks_until_reap, 60)
{
	struct blocked_submit b = { .fd = self->fd };
	__u32 qd = self->info.queue_depth;
	struct aiodev_event *ev;
	struct aiodev_req *r;
	struct timespec ts;
	struct aiodev_stats st;
	pthread_t th;
	__u32 i;

	ev = calloc(qd + 1, sizeof(*ev));
	r = calloc(qd, sizeof(*r));
	ASSERT_TRUE(ev && r);
	/* Fill with requests that complete at once but stay unreaped. */
	for (i = 0; i < qd; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(1));
	}
	ASSERT_EQ((int)qd, aio_submit(self->fd, r, qd));
	ASSERT_EQ(0, wait_completed(self->fd));
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(0ULL, st.context.in_flight);

	/* Completed-but-unreaped events still hold their slots. */
	ASSERT_EQ(0, pthread_create(&th, NULL, submit_thread, &b));
	while (!atomic_load(&b.tid))
		sleep_ns(MSEC(1));
	EXPECT_TRUE(wait_blocked_in(atomic_load(&b.tid), SYS_ioctl,
				    WAIT_LONG_NS));
	EXPECT_EQ(0, atomic_load(&b.done)) TH_LOG("submit did not block");

	/* One reap frees one slot and must wake the submitter. */
	ASSERT_EQ(1, aio_getevents(self->fd, ev, 1, 1, 0));
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	ASSERT_EQ(0, pthread_timedjoin_np(th, NULL, &ts))
		TH_LOG("submitter never woke up after a reap");
	EXPECT_EQ(1, b.ret);

	ASSERT_EQ((int)qd, aio_reap(self->fd, ev, qd, WAIT_LONG_NS));
	EXPECT_EQ(0xb10cULL, ev[qd - 1].user_data);
	free(ev);
	free(r);
}

TEST_F(lc, full_queue_nonblock_eagain)
{
	__u32 qd = self->info.queue_depth;
	struct aiodev_stats before, after;
	struct aiodev_event ev;
	struct pollfd pfd = { .events = POLLIN };
	struct aiodev_req first, r;
	int nb;

	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	pfd.fd = nb;
	req_nop(&first, 0xf1);
	req_latency(&first, PARKED_NS);
	ASSERT_EQ(0, aio_submit1(nb, &first));
	ASSERT_EQ((int)qd - 1, fill_context(nb, qd + 5));

	ASSERT_EQ(0, aio_get_stats(nb, &before));
	EXPECT_EQ((__u64)qd, before.context.in_flight);
	req_nop(&r, 1);
	EXPECT_EQ(-EAGAIN, aio_submit1(nb, &r));
	EXPECT_EQ(0ULL, r.id);
	ASSERT_EQ(0, aio_get_stats(nb, &after));
	EXPECT_EQ(before.context.submitted, after.context.submitted);
	EXPECT_EQ(before.device.submitted, after.device.submitted);

	/* A cancelled-but-unreaped request still holds its slot... */
	ASSERT_EQ(0, aio_cancel(nb, first.id));
	ASSERT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no event for the cancel");
	EXPECT_EQ(-EAGAIN, aio_submit1(nb, &r));
	/* ...until its event is reaped. */
	ASSERT_EQ(1, aio_getevents(nb, &ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(first.id, ev.id);
	EXPECT_EQ(-ECANCELED, ev.result);
	EXPECT_EQ(0, aio_submit1(nb, &r));
	EXPECT_EQ(-EAGAIN, aio_submit1(nb, &r));
	close(nb);
}

TEST_F(lc, partial_submission_nonblock)
{
	__u32 qd = self->info.queue_depth;
	const __u64 poison = 0xdeadbeefcafeULL;
	struct aiodev_stats before, after;
	struct aiodev_req r[10];
	int nb, i, j;

	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	ASSERT_EQ((int)qd - 4, fill_context(nb, qd - 4));
	ASSERT_EQ(0, aio_get_stats(nb, &before));
	for (i = 0; i < 10; i++) {
		req_nop(&r[i], 1000 + i);
		req_latency(&r[i], PARKED_NS);
		r[i].id = poison;
	}
	/* Four slots left: four accepted, in order, and the count returned. */
	EXPECT_EQ(4, aio_submit(nb, r, 10));
	for (i = 0; i < 4; i++) {
		EXPECT_NE(poison, r[i].id);
		EXPECT_NE(0ULL, r[i].id);
		for (j = 0; j < i; j++) {
			EXPECT_NE(r[j].id, r[i].id);
		}
	}
	for (i = 4; i < 10; i++) {
		EXPECT_EQ(poison, r[i].id) TH_LOG("refused req %d got an id", i);
	}
	ASSERT_EQ(0, aio_get_stats(nb, &after));
	EXPECT_EQ(before.context.submitted + 4, after.context.submitted);
	EXPECT_EQ((__u64)qd, after.context.in_flight);
	/* Now full: the first is refused, so the error comes back. */
	EXPECT_EQ(-EAGAIN, aio_submit(nb, &r[4], 6));
	close(nb);
}

TEST_F(lc, partial_submission_stops_at_bad_request)
{
	const __u64 poison = 0x5050505050ULL;
	struct aiodev_stats before, after;
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	int i;

	for (i = 0; i < 4; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(5));
		r[i].id = poison;
	}
	r[2].op = 9;
	ASSERT_EQ(0, aio_get_stats(self->fd, &before));
	EXPECT_EQ(2, aio_submit(self->fd, r, 4));
	EXPECT_NE(poison, r[0].id);
	EXPECT_NE(poison, r[1].id);
	EXPECT_EQ(poison, r[2].id);
	EXPECT_EQ(poison, r[3].id);
	ASSERT_EQ(0, aio_get_stats(self->fd, &after));
	EXPECT_EQ(before.context.submitted + 2, after.context.submitted);

	/* Exactly the two accepted requests complete. */
	EXPECT_EQ(2, aio_reap(self->fd, ev, 4, MSEC(300)));
	EXPECT_EQ(0ULL, ev[0].user_data);
	EXPECT_EQ(1ULL, ev[1].user_data);

	/* A refused first request reports its own error. */
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, &r[2], 2));
	EXPECT_EQ(poison, r[3].id);
}

TEST_F(lc, blocked_submit_interrupted_by_signal)
{
	__u32 qd = self->info.queue_depth;
	struct aiodev_stats before, after;
	struct aiodev_event ev;
	struct aiodev_req first, r[3];
	__u64 t0;
	int nb, i;

	/* Fill through a non-blocking fd, then block on the same file. */
	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	req_nop(&first, 1);
	req_latency(&first, PARKED_NS);
	ASSERT_EQ(0, aio_submit1(nb, &first));
	ASSERT_EQ((int)qd - 1, fill_context(nb, qd));
	ASSERT_EQ(0, fcntl(nb, F_SETFL, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, 0));

	ASSERT_EQ(0, aio_get_stats(nb, &before));
	for (i = 0; i < 3; i++) {
		req_nop(&r[i], 10 + i);
		req_latency(&r[i], PARKED_NS);
	}
	t0 = now_ns();
	alarm_ns(MSEC(100));
	EXPECT_EQ(-EINTR, aio_submit(nb, r, 3));
	EXPECT_LE(t0 + MSEC(90), now_ns()) TH_LOG("did not sleep");
	ASSERT_EQ(0, aio_get_stats(nb, &after));
	EXPECT_EQ(before.context.submitted, after.context.submitted);

	/*
	 * One slot free: one accepted, and then the full context ends the
	 * call with that count at once; it does not sleep (the alarm is
	 * only a safety net).
	 */
	ASSERT_EQ(0, aio_cancel(nb, first.id));
	ASSERT_EQ(1, aio_getevents(nb, &ev, 1, 1, WAIT_LONG_NS));
	t0 = now_ns();
	alarm_ns(2 * NSEC_PER_SEC);
	EXPECT_EQ(1, aio_submit(nb, r, 3));
	EXPECT_GT(t0 + NSEC_PER_SEC, now_ns()) TH_LOG("slept after accepting");
	alarm_ns(0);
	ASSERT_EQ(0, aio_get_stats(nb, &after));
	EXPECT_EQ(before.context.submitted + 1, after.context.submitted);
	close(nb);
}

TEST_F(lc, blocked_submit_restarts_under_sa_restart)
{
	struct delayed_reap d = { .delay = MSEC(300) };
	__u32 qd = self->info.queue_depth;
	struct aiodev_req first, r;
	pthread_t th;
	__u64 t0;
	int nb;

	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	d.fd = nb;
	req_nop(&first, 1);
	req_latency(&first, PARKED_NS);
	ASSERT_EQ(0, aio_submit1(nb, &first));
	ASSERT_EQ((int)qd - 1, fill_context(nb, qd));
	ASSERT_EQ(0, fcntl(nb, F_SETFL, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, SA_RESTART));
	/* Free a slot only at 300 ms; the alarm at 100 ms must not end it. */
	ASSERT_EQ(0, aio_cancel(nb, first.id));
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_reap_thread, &d));
	req_nop(&r, 2);
	req_latency(&r, PARKED_NS);
	t0 = now_ns();
	alarm_ns(MSEC(100));
	EXPECT_EQ(1, aio_submit(nb, &r, 1));
	EXPECT_LE(t0 + MSEC(250), now_ns()) TH_LOG("returned before the reap");
	pthread_join(th, NULL);
	EXPECT_EQ(1, d.ret);
	EXPECT_NE(0ULL, r.id);
	close(nb);
}

TEST_F(lc, partial_submission_blocking_returns_count)
{
	__u32 qd = self->info.queue_depth;
	struct aiodev_req r[10];
	int nb, i;
	__u64 t0;

	/* Blocking file, 4 slots left: 4 accepted, then no sleep. */
	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	ASSERT_EQ((int)qd - 4, fill_context(nb, qd - 4));
	ASSERT_EQ(0, fcntl(nb, F_SETFL, 0));
	ASSERT_EQ(0, catch_signal(SIGALRM, 0));
	for (i = 0; i < 10; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], PARKED_NS);
	}
	t0 = now_ns();
	alarm_ns(2 * NSEC_PER_SEC);		/* safety net only */
	EXPECT_EQ(4, aio_submit(nb, r, 10));
	EXPECT_GT(t0 + NSEC_PER_SEC, now_ns()) TH_LOG("slept after accepting");
	alarm_ns(0);
	EXPECT_EQ(0ULL, r[4].id);
	close(nb);
}

TEST_F(lc, ids_unique_and_events_echo_requests)
{
	const int n = 200;
	struct aiodev_event *ev;
	struct aiodev_req *r;
	unsigned char *seen;
	static char buf[64];
	int i, j;

	ev = calloc(n, sizeof(*ev));
	r = calloc(n, sizeof(*r));
	seen = calloc(n, 1);
	ASSERT_TRUE(ev && r && seen);
	for (i = 0; i < n; i++) {
		switch (i % 3) {
		case 0:
			req_nop(&r[i], ~(__u64)i);
			break;
		case 1:
			req_init(&r[i], AIODEV_OP_READ, buf, 0, sizeof(buf),
				 ~(__u64)i);
			break;
		default:
			req_init(&r[i], AIODEV_OP_WRITE, buf,
				 ZERO_REGION_OFF - 4096, sizeof(buf),
				 ~(__u64)i);
		}
		req_latency(&r[i], MSEC(1 + i % 7));
	}
	ASSERT_EQ(n, aio_submit(self->fd, r, n));
	for (i = 0; i < n; i++) {
		ASSERT_NE(0ULL, r[i].id);
		for (j = 0; j < i; j++) {
			ASSERT_NE(r[j].id, r[i].id);
		}
	}
	ASSERT_EQ(n, aio_reap(self->fd, ev, n, WAIT_LONG_NS));
	for (i = 0; i < n; i++) {
		j = (int)~ev[i].user_data;
		ASSERT_TRUE(j >= 0 && j < n) TH_LOG("user_data mangled");
		EXPECT_EQ(0, seen[j]) TH_LOG("two events for req %d", j);
		seen[j] = 1;
		EXPECT_EQ(r[j].id, ev[i].id);
		EXPECT_EQ(r[j].op, ev[i].op);
		EXPECT_EQ(r[j].op == AIODEV_OP_NOP ? 0LL : (long long)sizeof(buf),
			  ev[i].result);
		EXPECT_EQ(0, ev[i].__pad);
		EXPECT_EQ(0U, ev[i].__reserved);
		EXPECT_LE(ev[i].submit_ns, ev[i].complete_ns);
	}
	free(ev);
	free(r);
	free(seen);
}

TEST_F(lc, contexts_are_isolated)
{
	struct aiodev_event ev;
	struct aiodev_stats st;
	struct aiodev_req parked, fast;
	int other;

	other = aio_open(0, O_RDWR);
	ASSERT_LE(0, other);
	req_nop(&parked, 1);
	req_latency(&parked, PARKED_NS);
	req_nop(&fast, 2);
	req_latency(&fast, MSEC(1));
	ASSERT_EQ(0, aio_submit1(self->fd, &parked));
	ASSERT_EQ(0, aio_submit1(self->fd, &fast));

	/* Another open file can neither cancel nor reap them. */
	EXPECT_EQ(-ENOENT, aio_cancel(other, parked.id));
	EXPECT_EQ(-ENOENT, aio_cancel(other, fast.id));
	EXPECT_EQ(0, aio_getevents(other, &ev, 1, 1, MSEC(100)));
	ASSERT_EQ(0, aio_get_stats(other, &st));
	EXPECT_EQ(0ULL, st.context.submitted);
	EXPECT_EQ(0ULL, st.context.in_flight);
	EXPECT_LE(2ULL, st.device.submitted);

	/* The owner still has both, untouched. */
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(fast.id, ev.id);
	EXPECT_EQ(0LL, ev.result);
	EXPECT_EQ(0, aio_cancel(self->fd, parked.id));
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(parked.id, ev.id);
	EXPECT_EQ(-ECANCELED, ev.result);

	/* Closing the other file leaves this one working. */
	close(other);
	req_nop(&fast, 3);
	EXPECT_EQ(0LL, aio_sync(self->fd, &fast, NULL));
}

TEST(devices_are_isolated)
{
	struct aiodev_stats s0, s1, e0, e1;
	struct aiodev_event ev[8];
	struct aiodev_req r[8];
	int fd0 = aio_open(0, O_RDWR), fd1 = aio_open(1, O_RDWR);
	int i;

	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, aio_reset_config(fd0));
	ASSERT_EQ(0, aio_reset_config(fd1));
	ASSERT_EQ(0, aio_get_stats(fd0, &s0));
	ASSERT_EQ(0, aio_get_stats(fd1, &s1));
	for (i = 0; i < 8; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(1));
	}
	ASSERT_EQ(8, aio_submit(fd0, r, 8));
	ASSERT_EQ(8, aio_reap(fd0, ev, 8, WAIT_LONG_NS));
	/* A dev0 id means nothing to dev1. */
	EXPECT_EQ(-ENOENT, aio_cancel(fd1, r[0].id));
	ASSERT_EQ(0, aio_get_stats(fd0, &e0));
	ASSERT_EQ(0, aio_get_stats(fd1, &e1));
	EXPECT_EQ(s0.device.submitted + 8, e0.device.submitted);
	EXPECT_EQ(s0.device.completed_ok + 8, e0.device.completed_ok);
	EXPECT_EQ(0, memcmp(&s1.device, &e1.device, sizeof(e1.device)));
	close(fd0);
	close(fd1);
}

TEST_F(lc, stats_add_up)
{
	struct aiodev_stats base, st;
	struct aiodev_config c;
	struct aiodev_event ev[12];
	struct aiodev_req r[12];
	static char buf[512];
	int i, n = 0;

	/* Writes to [1 MiB, 1 MiB + 4 KiB) fail with EIO. */
	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_offset = 1ULL << 20;
	c.fail_len = 4096;
	c.fail_range_errno = EIO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	ASSERT_EQ(0, aio_get_stats(self->fd, &base));

	/* Long-lived ones first, so that all 12 are in flight at once. */
	for (i = 0; i < 3; i++, n++) {		/* stay in flight */
		req_nop(&r[n], n);
		req_latency(&r[n], PARKED_NS);
	}
	for (i = 0; i < 2; i++, n++) {		/* will be cancelled */
		req_nop(&r[n], n);
		req_latency(&r[n], PARKED_NS);
	}
	for (i = 0; i < 2; i++, n++) {		/* time out */
		req_nop(&r[n], n);
		req_latency(&r[n], MSEC(400));
		req_timeout(&r[n], MSEC(40));
	}
	for (i = 0; i < 2; i++, n++) {		/* fail */
		req_init(&r[n], AIODEV_OP_WRITE, buf, (1ULL << 20) + 512 * i,
			 sizeof(buf), n);
		req_latency(&r[n], MSEC(20));
	}
	for (i = 0; i < 3; i++, n++) {		/* succeed */
		req_nop(&r[n], n);
		req_latency(&r[n], MSEC(20));
	}
	ASSERT_EQ(12, aio_submit(self->fd, r, 12));
	ASSERT_EQ(0, aio_cancel(self->fd, r[3].id));
	ASSERT_EQ(0, aio_cancel(self->fd, r[4].id));
	ASSERT_EQ(9, aio_reap(self->fd, ev, 9, WAIT_LONG_NS));

	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(12ULL, st.context.submitted);
	EXPECT_EQ(3ULL, st.context.completed_ok);
	EXPECT_EQ(2ULL, st.context.timed_out);
	EXPECT_EQ(2ULL, st.context.cancelled);
	EXPECT_EQ(2ULL, st.context.failed);
	EXPECT_EQ(3ULL, st.context.in_flight);
	EXPECT_LE(7ULL, st.context.peak_in_flight);
	EXPECT_GE(12ULL, st.context.peak_in_flight);
	EXPECT_EQ(st.context.submitted, counters_sum(&st.context));

	EXPECT_EQ(base.device.submitted + 12, st.device.submitted);
	EXPECT_EQ(base.device.completed_ok + 3, st.device.completed_ok);
	EXPECT_EQ(base.device.timed_out + 2, st.device.timed_out);
	EXPECT_EQ(base.device.cancelled + 2, st.device.cancelled);
	EXPECT_EQ(base.device.failed + 2, st.device.failed);
	EXPECT_EQ(base.device.in_flight + 3, st.device.in_flight);
	EXPECT_EQ(st.device.submitted, counters_sum(&st.device));
	EXPECT_LE(st.context.peak_in_flight, st.device.peak_in_flight);
	for (i = 0; i < 9; i++) {
		long long want;

		switch (ev[i].user_data) {
		case 3 ... 4:
			want = -ECANCELED;
			break;
		case 5 ... 6:
			want = -ETIMEDOUT;
			break;
		case 7 ... 8:
			want = -EIO;
			break;
		case 9 ... 11:
			want = 0;
			break;
		default:
			want = 1;	/* a parked request must not complete */
		}
		EXPECT_EQ(want, ev[i].result) TH_LOG("req %llu", ev[i].user_data);
	}
}

struct churn {
	int fd;
	int cpu;
	atomic_int stop;
	long rounds;
	int err;
};

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Submit and reap short NOPs on its own file until told to stop. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	struct aiodev_event ev[16];
	struct aiodev_req r[16];
	int i, ret;

	if (c->cpu >= 0)
		pin_to_cpu(c->cpu);
	while (!atomic_load(&c->stop)) {
		for (i = 0; i < 16; i++) {
			req_nop(&r[i], i);
			req_latency(&r[i], (__u64)i * 10 * NSEC_PER_USEC);
		}
		ret = aio_submit(c->fd, r, 16);
		if (ret != 16 ||
		    aio_reap(c->fd, ev, 16, WAIT_LONG_NS) != 16) {
			c->err = ret < 0 ? -ret : EPROTO;
			break;
		}
		c->rounds++;
	}
	return NULL;
}

/*
 * A context's counters add up in every snapshot, even while its timers
 * fire and another CPU submits and completes on the same device; the
 * device's add up once that activity has stopped.
 */
TEST_F_TIMEOUT(lc, stats_consistent_under_load, 60)
{
	const int n = 400;
	struct churn c = { .cpu = -1 };
	struct aiodev_event ev[64];
	struct aiodev_stats st;
	struct aiodev_req *r;
	__u64 max_ctx = 0, max_dev = 0, end;
	int i, got = 0, ret, samples = 0, bad_dev = 0, bad_ctx = 0;
	pthread_t th;

	r = calloc(n, sizeof(*r));
	ASSERT_NE(NULL, r);
	c.fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, c.fd);
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		pin_to_cpu(0);
		c.cpu = 1;
	}
	ASSERT_EQ(0, pthread_create(&th, NULL, churn_thread, &c));

	ASSERT_EQ(0, aio_set_latency(self->fd, MSEC(1), MSEC(50), 0));
	for (i = 0; i < n; i++)
		req_nop(&r[i], i);
	ASSERT_EQ(n, aio_submit(self->fd, r, n));

	end = now_ns() + NSEC_PER_SEC;
	while ((got < n || now_ns() < end) && now_ns() < end + WAIT_LONG_NS) {
		ASSERT_EQ(0, aio_get_stats(self->fd, &st));
		samples++;
		/* Not a failure: the device only adds up at rest. */
		if (st.device.submitted != counters_sum(&st.device))
			bad_dev++;
		if (st.context.submitted != counters_sum(&st.context))
			bad_ctx++;
		EXPECT_LE(st.device.in_flight, st.device.peak_in_flight);
		EXPECT_LE(st.context.in_flight, st.context.peak_in_flight);
		if (st.context.in_flight > max_ctx)
			max_ctx = st.context.in_flight;
		if (st.device.in_flight > max_dev)
			max_dev = st.device.in_flight;
		ret = aio_getevents(self->fd, ev, 0, 64, 0);
		ASSERT_LE(0, ret);
		got += ret;
	}
	atomic_store(&c.stop, 1);
	pthread_join(th, NULL);
	close(c.fd);

	TH_LOG("%d snapshots, %ld churn rounds, %d/%d inconsistent (dev/ctx)",
	       samples, c.rounds, bad_dev, bad_ctx);
	EXPECT_EQ(0, c.err);
	EXPECT_EQ(0, bad_ctx);
	ASSERT_EQ(n, got);
	ASSERT_EQ(0, aio_get_stats(self->fd, &st));
	EXPECT_EQ(st.device.submitted, counters_sum(&st.device));
	EXPECT_EQ(st.context.submitted, counters_sum(&st.context));
	EXPECT_EQ(0ULL, st.context.in_flight);
	EXPECT_EQ((__u64)n, st.context.completed_ok);
	EXPECT_LE(max_ctx, st.context.peak_in_flight);
	EXPECT_LE(max_dev, st.device.peak_in_flight);
	free(r);
}

TEST_HARNESS_MAIN
