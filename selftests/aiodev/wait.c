// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev waiting: GETEVENTS min_nr/max_nr/timeout semantics, signals while
 * waiting, poll/epoll readiness and eventfd notification.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/time.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

#define PARKED_NS	(60 * NSEC_PER_SEC)

FIXTURE(wt) {
	int fd;
	struct aiodev_info info;
};

FIXTURE_SETUP(wt)
{
	self->fd = fixture_open(_metadata, 0, &self->info);
}

FIXTURE_TEARDOWN(wt)
{
	fixture_close(_metadata, self->fd);
}

static short poll_events(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret = poll(&p, 1, timeout_ms);

	return ret < 0 ? -1 : p.revents;
}

TEST_F(wt, getevents_timeout_returns_fewer)
{
	struct aiodev_event ev[2];
	struct aiodev_req r[2];
	__u64 t0, el;

	req_nop(&r[0], 1);
	req_latency(&r[0], MSEC(5));
	req_nop(&r[1], 2);
	req_latency(&r[1], PARKED_NS);
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	t0 = now_ns();
	EXPECT_EQ(1, aio_getevents(self->fd, ev, 2, 2, MSEC(150)));
	el = now_ns() - t0;
	EXPECT_LE(MSEC(149), el) TH_LOG("returned early: %llu ns", el);
	EXPECT_EQ(1ULL, ev[0].user_data);

	/* Nothing ready and no waiting allowed. */
	EXPECT_EQ(0, aio_getevents(self->fd, ev, 1, 2, 0));
	/* min_nr 0 never waits, even without a time limit. */
	EXPECT_EQ(0, aio_getevents(self->fd, ev, 0, 2, -1));
	EXPECT_EQ(0, aio_cancel(self->fd, r[1].id));
	EXPECT_EQ(1, aio_getevents(self->fd, ev, 1, 2, WAIT_LONG_NS));
}

/*
 * A timeout of centuries is a long wait, not one that wraps around into
 * the past and returns at once with nothing.
 */
TEST_F(wt, getevents_huge_timeout_waits)
{
	struct aiodev_event ev[1];
	struct aiodev_req r;
	__u64 t0, el;

	req_nop(&r, 7);
	req_latency(&r, MSEC(200));
	ASSERT_EQ(1, aio_submit(self->fd, &r, 1));
	t0 = now_ns();
	EXPECT_EQ(1, aio_getevents(self->fd, ev, 1, 1, INT64_MAX));
	el = now_ns() - t0;
	EXPECT_LE(MSEC(150), el) TH_LOG("returned after %llu ns", el);
	EXPECT_EQ(7ULL, ev[0].user_data);
	/* Whatever happened above, leave nothing behind. */
	aio_getevents(self->fd, ev, 0, 1, 0);
}

/*
 * GETEVENTS with min_nr sleeps until min_nr events are ready: with three
 * due at 10/35/60 ms and no time limit it returns all three, and no
 * earlier than the last one's posting. That proves the wait only if the
 * call began before the last one was posted; on a host too slow for that,
 * the next attempt scales the latencies by 4.
 *
 * It returns once min_nr are ready, not waiting for more: with one due and
 * another parked for a minute, min_nr 1 and no time limit return the
 * first alone (a driver that waits for more hangs until the harness
 * timeout).
 */
TEST_F(wt, getevents_waits_for_min_nr)
{
	struct aiodev_event ev[8];
	struct aiodev_req r[3];
	unsigned int seen;
	__u64 t_in, t_out;
	int attempt, i;

	for (attempt = 0; attempt < 4; attempt++) {
		__u64 scale = 1ULL << (2 * attempt);

		for (i = 0; i < 3; i++) {
			req_nop(&r[i], i);
			req_latency(&r[i], MSEC(10 + 25 * i) * scale);
		}
		ASSERT_EQ(3, aio_submit(self->fd, r, 3));
		t_in = now_ns();
		ASSERT_EQ(3, aio_getevents(self->fd, ev, 3, 8, -1));
		t_out = now_ns();
		seen = 0;
		for (i = 0; i < 3; i++) {
			ASSERT_GT(3ULL, ev[i].user_data);
			seen |= 1U << ev[i].user_data;
			EXPECT_LE(ev[i].complete_ns, t_out)
				TH_LOG("event %d posted after the call returned", i);
			if (i) {
				EXPECT_LE(ev[i - 1].complete_ns, ev[i].complete_ns);
			}
		}
		EXPECT_EQ(7U, seen) TH_LOG("not one event of each request");
		if (t_in < ev[2].complete_ns)
			break;
		TH_LOG("attempt %d: all three were in before GETEVENTS was called; retrying with 4x latencies",
		       attempt);
	}
	ASSERT_GT(4, attempt) TH_LOG("GETEVENTS never had to wait");

	req_nop(&r[0], 10);
	req_latency(&r[0], MSEC(10));
	req_nop(&r[1], 11);
	req_latency(&r[1], PARKED_NS);
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	EXPECT_EQ(1, aio_getevents(self->fd, ev, 1, 8, -1));
	EXPECT_EQ(10ULL, ev[0].user_data);
	EXPECT_EQ(0, aio_cancel(self->fd, r[1].id));
	ASSERT_EQ(1, aio_getevents(self->fd, ev, 1, 8, WAIT_LONG_NS));
	EXPECT_EQ(11ULL, ev[0].user_data);
	EXPECT_EQ(-ECANCELED, ev[0].result);
}

/*
 * min_nr may be as large as the queue: the caller sleeps until the very
 * last slot's event is in, then gets them all; one more is -EINVAL.
 */
TEST_F_TIMEOUT(wt, getevents_min_nr_whole_queue, 60)
{
	__u32 qd = self->info.queue_depth, i, got;
	struct aiodev_event *ev = calloc(qd + 1, sizeof(*ev));
	struct aiodev_req *r = calloc(qd, sizeof(*r));

	ASSERT_TRUE(ev && r);
	EXPECT_EQ(-EINVAL, aio_getevents(self->fd, ev, qd + 1, qd + 1, 0));
	for (i = 0; i < qd; i++) {
		req_nop(&r[i], i);
		/* The last one is due well after all the others. */
		req_latency(&r[i], i == qd - 1 ? MSEC(200) : MSEC(1));
	}
	for (i = 0; i < qd; i += got) {
		got = aio_submit(self->fd, r + i, qd - i < 256 ? qd - i : 256);
		ASSERT_LT(0, (int)got);
	}
	ASSERT_EQ((int)qd, aio_getevents(self->fd, ev, qd, qd, -1));
	EXPECT_EQ((__u64)qd - 1, ev[qd - 1].user_data);
	EXPECT_LE(ev[qd - 1].submit_ns + MSEC(200), ev[qd - 1].complete_ns);
	free(ev);
	free(r);
}

TEST_F(wt, getevents_max_nr_limits)
{
	struct aiodev_event ev[8];
	struct aiodev_req r[8];
	int i;

	for (i = 0; i < 8; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(10 + 10 * i));
	}
	ASSERT_EQ(8, aio_submit(self->fd, r, 8));
	sleep_ns(MSEC(200));
	memset(ev, 0xff, sizeof(ev));
	ASSERT_EQ(3, aio_getevents(self->fd, ev, 0, 3, 0));
	/* Nothing written past max_nr. */
	EXPECT_EQ(~0ULL, ev[3].user_data);
	ASSERT_EQ(3, aio_getevents(self->fd, ev + 3, 1, 3, 0));
	ASSERT_EQ(2, aio_getevents(self->fd, ev + 6, 2, 3, WAIT_LONG_NS));
	EXPECT_EQ(0, aio_getevents(self->fd, ev, 0, 8, 0));
	/* Oldest first, across calls. */
	for (i = 0; i < 8; i++) {
		EXPECT_EQ((__u64)i, ev[i].user_data);
	}
}

TEST_F(wt, sigalrm_interrupts_getevents)
{
	struct aiodev_event ev;
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	struct aiodev_req r;
	__u64 t0;

	ASSERT_EQ(0, catch_signal(SIGALRM, 0));
	req_nop(&r, 1);
	req_latency(&r, PARKED_NS);
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	t0 = now_ns();
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, aio_getevents(self->fd, &ev, 1, 1, -1));
	EXPECT_LE(t0 + MSEC(45), now_ns());
	/* The request is unaffected by the interrupted wait. */
	EXPECT_EQ(0, aio_cancel(self->fd, r.id));
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev.result);
}

struct kicker {
	pthread_t target;
	__u64 delay;
	volatile int stop;
};

/*
 * Signal the target every @delay until it says it returned: one signal
 * could land before the target is asleep, or, on a loaded host, after all
 * events are ready.
 */
static void *kick_thread(void *arg)
{
	struct kicker *k = arg;
	__u64 give_up = now_ns() + WAIT_LONG_NS;

	while (!k->stop && now_ns() < give_up) {
		sleep_ns(k->delay);
		pthread_kill(k->target, SIGUSR1);
	}
	return NULL;
}

TEST_F(wt, signal_does_not_lose_ready_events)
{
	struct kicker k = { .target = pthread_self(), .delay = MSEC(50) };
	struct aiodev_event ev[3];
	struct aiodev_req r[3];
	pthread_t th;
	int i;

	/* Two events soon ready, the third far off: min_nr 3 is not met. */
	ASSERT_EQ(0, catch_signal(SIGUSR1, 0));
	for (i = 0; i < 3; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], i < 2 ? MSEC(10 + 20 * i) :
				   60 * NSEC_PER_SEC);
	}
	ASSERT_EQ(3, aio_submit(self->fd, r, 3));
	ASSERT_EQ(0, pthread_create(&th, NULL, kick_thread, &k));
	EXPECT_EQ(-EINTR, aio_getevents(self->fd, ev, 3, 3, -1));
	k.stop = 1;
	pthread_join(th, NULL);

	/* The two ready ones are still there, in order... */
	memset(ev, 0, sizeof(ev));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	for (i = 0; i < 2; i++) {
		EXPECT_EQ((__u64)i, ev[i].user_data);
		EXPECT_EQ(r[i].id, ev[i].id);
		EXPECT_EQ(0LL, ev[i].result);
	}
	/* ...and the third is still in flight, once. */
	ASSERT_EQ(0, aio_cancel(self->fd, r[2].id));
	ASSERT_EQ(1, aio_reap(self->fd, ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(r[2].id, ev[0].id);
	EXPECT_EQ(-ECANCELED, ev[0].result);
	EXPECT_EQ(0, aio_getevents(self->fd, ev, 0, 3, 0));
}

TEST_F(wt, poll_in_only_when_ready)
{
	struct aiodev_event ev;
	struct aiodev_req r;
	__u64 t0;
	short re;

	EXPECT_EQ(POLLOUT, poll_events(self->fd, POLLIN | POLLOUT, 0));
	req_nop(&r, 1);
	req_latency(&r, MSEC(150));
	t0 = now_ns();
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	/* In flight is not ready. */
	EXPECT_EQ(POLLOUT, poll_events(self->fd, POLLIN | POLLOUT, 0));
	re = poll_events(self->fd, POLLIN, 5000);
	EXPECT_EQ(POLLIN, re);
	EXPECT_LE(t0 + MSEC(150), now_ns()) TH_LOG("POLLIN before completion");
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 0, 1, 0));
	/* Reaped: no longer readable. */
	EXPECT_EQ(POLLOUT, poll_events(self->fd, POLLIN | POLLOUT, 0));
}

TEST_F(wt, epoll_in_only_when_ready)
{
	struct epoll_event ee = { .events = EPOLLIN | EPOLLOUT };
	struct aiodev_event ev;
	struct aiodev_req r[2];
	int ep, i;
	__u64 t0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ee));
	ASSERT_EQ(1, epoll_wait(ep, &ee, 1, 0));
	EXPECT_EQ((__u32)EPOLLOUT, ee.events);

	/* Only EPOLLIN from now on, so epoll_wait blocks until ready. */
	ee.events = EPOLLIN;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ee));
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	for (i = 0; i < 2; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(100 + 150 * i));
	}
	t0 = now_ns();
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ee, 1, 5000));
	EXPECT_EQ((__u32)EPOLLIN, ee.events);
	EXPECT_LE(t0 + MSEC(100), now_ns());
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 0, 2, 0))
		TH_LOG("EPOLLIN but no event, or the 250 ms one came early");
	/* Level-triggered: not ready again until the second completes. */
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	ASSERT_EQ(1, epoll_wait(ep, &ee, 1, 5000));
	EXPECT_LE(t0 + MSEC(250), now_ns());
	ASSERT_EQ(1, aio_getevents(self->fd, &ev, 0, 2, 0));
	EXPECT_EQ(0, epoll_wait(ep, &ee, 1, 0));
	close(ep);
}

TEST_F(wt, poll_out_only_when_room)
{
	__u32 qd = self->info.queue_depth;
	struct delayed_reap rp = { .delay = MSEC(150) };
	struct aiodev_req *r;
	struct aiodev_event ev;
	pthread_t th;
	int nb;
	__u32 i;
	__u64 t0;

	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nb);
	rp.fd = nb;
	r = calloc(qd, sizeof(*r));
	ASSERT_NE(NULL, r);
	for (i = 0; i < qd; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], PARKED_NS);
	}
	ASSERT_EQ((int)qd - 1, aio_submit(nb, r, qd - 1));
	EXPECT_EQ(POLLOUT, poll_events(nb, POLLIN | POLLOUT, 0));
	/* The last slot: now full, neither readable nor writable. */
	ASSERT_EQ(1, aio_submit(nb, &r[qd - 1], 1));
	EXPECT_EQ(0, poll_events(nb, POLLIN | POLLOUT, 0));

	/* A posted but unreaped event: readable, still no room. */
	ASSERT_EQ(0, aio_cancel(nb, r[0].id));
	EXPECT_EQ(POLLIN, poll_events(nb, POLLIN | POLLOUT, 5000));
	EXPECT_EQ(0, poll_events(nb, POLLOUT, 0));

	/* A reap in another thread wakes a POLLOUT waiter. */
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_reap_thread, &rp));
	t0 = now_ns();
	EXPECT_EQ(POLLOUT, poll_events(nb, POLLOUT, 5000));
	EXPECT_LE(t0 + MSEC(100), now_ns()) TH_LOG("POLLOUT before the reap");
	pthread_join(th, NULL);
	EXPECT_EQ(1, rp.ret);
	EXPECT_EQ(0, aio_getevents(nb, &ev, 0, 1, 0));
	free(r);
	close(nb);
}

static __u64 efd_read(int efd)
{
	__u64 v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return ~0ULL;
	return v;
}

TEST_F(wt, eventfd_counts_completions)
{
	struct aiodev_event ev[15];
	struct aiodev_req r[15];
	int efd, i;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	for (i = 0; i < 15; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(150 + i));
		if (i < 10)
			req_eventfd(&r[i], efd);
	}
	ASSERT_EQ(15, aio_submit(self->fd, r, 15));
	/* Incremented at completion, not at submission. */
	EXPECT_EQ(~0ULL, efd_read(efd));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(15, aio_reap(self->fd, ev, 15, WAIT_LONG_NS));
	EXPECT_EQ(10ULL, efd_read(efd));
	close(efd);
}

TEST_F(wt, eventfd_counts_every_kind_of_completion)
{
	struct aiodev_config c;
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	static char buf[512];
	int efd, i;

	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	c.fail_offset = 2ULL << 20;
	c.fail_len = 4096;
	c.fail_range_errno = EIO;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);

	req_nop(&r[0], 0);			/* succeeds */
	req_latency(&r[0], MSEC(10));
	req_nop(&r[1], 1);			/* times out */
	req_latency(&r[1], MSEC(500));
	req_timeout(&r[1], MSEC(20));
	req_nop(&r[2], 2);			/* cancelled */
	req_latency(&r[2], PARKED_NS);
	req_init(&r[3], AIODEV_OP_WRITE, buf, 2ULL << 20, sizeof(buf), 3);
	req_latency(&r[3], MSEC(10));		/* fails */
	for (i = 0; i < 4; i++)
		req_eventfd(&r[i], efd);
	ASSERT_EQ(4, aio_submit(self->fd, r, 4));
	ASSERT_EQ(0, aio_cancel(self->fd, r[2].id));
	ASSERT_EQ(4, aio_reap(self->fd, ev, 4, WAIT_LONG_NS));
	for (i = 0; i < 4; i++) {
		long long want[4] = { 0, -ETIMEDOUT, -ECANCELED, -EIO };

		EXPECT_EQ(want[ev[i].user_data & 3], ev[i].result);
	}
	EXPECT_EQ(4ULL, efd_read(efd));
	close(efd);
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Whoever wakes on the eventfd must find the event ready. The timer is
 * armed on the submitting CPU, so wait on another one: there the wakeup
 * can overtake a completion that signals first and posts afterwards.
 */
TEST_F(wt, eventfd_signalled_after_event_is_posted)
{
	bool smp = sysconf(_SC_NPROCESSORS_ONLN) > 1;
	struct aiodev_event ev;
	struct aiodev_req r;
	int efd, i;

	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	for (i = 0; i < 40; i++) {
		if (smp)
			pin_to_cpu(0);
		req_nop(&r, i);
		req_latency(&r, MSEC(2));
		req_eventfd(&r, efd);
		ASSERT_EQ(0, aio_submit1(self->fd, &r));
		if (smp)
			pin_to_cpu(1);
		ASSERT_EQ(POLLIN, poll_events(efd, POLLIN, 5000));
		ASSERT_EQ(1, aio_getevents(self->fd, &ev, 0, 1, 0))
			TH_LOG("eventfd fired before the event was posted");
		ASSERT_EQ(1ULL, efd_read(efd));
		ASSERT_EQ((__u64)i, ev.user_data);
	}
	close(efd);
}

TEST_F(wt, eventfd_closed_before_completion)
{
	struct aiodev_event ev;
	struct aiodev_req r;
	int efd, keep, nul;

	/* The eventfd is bound at submission: closing that fd is fine. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	keep = dup(efd);
	ASSERT_LE(0, keep);
	req_nop(&r, 1);
	req_latency(&r, MSEC(50));
	req_eventfd(&r, efd);
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	close(efd);
	/* Reuse the number for something else entirely. */
	nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, nul);
	ASSERT_EQ(efd, dup2(nul, efd));
	close(nul);
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(0LL, ev.result);
	EXPECT_EQ(1ULL, efd_read(keep));
	close(efd);
	close(keep);
}

TEST_HARNESS_MAIN
