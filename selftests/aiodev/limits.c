// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev limits, checked against the values the module was loaded with
 * (/sys/module/aiodev/parameters):
 *
 *  - max_requests: requests in flight on all devices together; one more
 *    fails with -ENOMEM through the ioctl, plain read and libaio, and
 *    changes nothing (counters, slots); a batch stops at the limit;
 *  - max_pinned_mb (0: 1/16 of RAM): user pages that requests in flight
 *    pin, all devices together; 1 MiB reads past it fail with -ENOMEM, an
 *    unaligned one counts 257 pages;
 *  - queue_depth, per open file: SUBMIT sleeps (or -EAGAIN with
 *    O_NONBLOCK), a kernel AIO request gets -EBUSY, a plain read sleeps
 *    until a slot frees;
 *  - after releasing, everything works again, as many times.
 *
 * guest.d/limits.sh reloads the module with small limits (max_requests=64
 * max_pinned_mb=1 queue_depth=32) and runs this with AIODEV_LIMITS=1.
 * Without it (the kselftests step, default limits) the max_requests cases
 * are left out when the limit is above 8192: reaching 262144 costs more
 * than it shows.
 */
#define _GNU_SOURCE
#include <libaio.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define NDEV		2
#define PARKED		(60 * NSEC_PER_SEC)
#define MIB		(1UL << 20)

static __u64 param(const char *name)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/module/aiodev/parameters/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 0);
}

/* The pinning limit in pages, as the module computes it. */
static __u64 pinned_limit_pages(void)
{
	__u64 mb = param("max_pinned_mb"), kb = 0;
	char line[128];
	FILE *f;

	if (mb)
		return mb << (20 - 12);
	f = fopen("/proc/meminfo", "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	/* totalram_pages() / 16; MemTotal is totalram_pages in kB. */
	return kb / 4 / 16;
}

FIXTURE(lim) {
	int fd[NDEV];
	__u32 depth;
	__u64 max_requests, pin_pages;
	struct aiodev_counters base[NDEV];
};

FIXTURE_SETUP(lim)
{
	struct aiodev_info info;
	int d;

	for (d = 0; d < NDEV; d++) {
		self->fd[d] = fixture_open(_metadata, d, NULL);
		self->base[d] = kaio_dev_stats(self->fd[d]);
		ASSERT_EQ(0ULL, self->base[d].in_flight)
			TH_LOG("aiodev%d has requests in flight", d);
	}
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->depth = info.queue_depth;
	ASSERT_EQ(self->depth, (__u32)param("queue_depth"));
	self->max_requests = param("max_requests");
	self->pin_pages = pinned_limit_pages();
	ASSERT_LT(0ULL, self->max_requests);
	ASSERT_LT(0ULL, self->pin_pages);
	TH_LOG("queue_depth %u, max_requests %llu, pinning limit %llu pages",
	       self->depth, self->max_requests, self->pin_pages);
}

FIXTURE_TEARDOWN(lim)
{
	struct aiodev_counters c;
	int d;

	for (d = 0; d < NDEV; d++) {
		EXPECT_EQ(0, aio_reset_config(self->fd[d]));
		/* Whatever a test left is gone with its files. */
		EXPECT_EQ(0, kaio_wait_dev_idle(self->fd[d], 0, WAIT_LONG_NS, &c))
			TH_LOG("aiodev%d: in_flight %llu", d, c.in_flight);
		EXPECT_EQ(c.submitted, counters_sum(&c));
		close(self->fd[d]);
	}
}

/*
 * One io_uring read on @fd: the result of its CQE, or a negative errno of
 * liburing (-ETIME: no CQE within 5 s).
 */
static int uring_read1(int fd, void *buf, unsigned int len, __u64 off)
{
	struct __kernel_timespec ts = { .tv_sec = 5 };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret)
		return ret;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, fd, buf, len, off);
	ret = io_uring_submit(&ring);
	if (ret == 1)
		ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
	else if (ret >= 0)
		ret = -EIO;
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ret;
}

struct uring_arg {
	int fd, ret;
	void *buf;
	unsigned int len;
};

static void *uring_read1_thread(void *p)
{
	struct uring_arg *a = p;

	a->ret = uring_read1(a->fd, a->buf, a->len, 0);
	return NULL;
}

/*
 * uring_read1() on a thread of its own: tearing the ring down queues task
 * work on the thread that made it, which would end that thread's next
 * interruptible sleep (io_getevents) with -EINTR.
 */
static int uring_read1_apart(int fd, void *buf, unsigned int len)
{
	struct uring_arg a = { .fd = fd, .buf = buf, .len = len };
	pthread_t th;

	if (pthread_create(&th, NULL, uring_read1_thread, &a))
		return -EAGAIN;
	pthread_join(th, NULL);
	return a.ret;
}

/*
 * @n parked NOPs on @fd in batches; returns how many were accepted (or the
 * first error). Their ids go to @ids when given.
 */
static int park_nops_ids(int fd, int n, __u64 *ids)
{
	struct aiodev_req r[64];
	int done = 0, i, ret;

	while (done < n) {
		int want = n - done < 64 ? n - done : 64;

		for (i = 0; i < want; i++) {
			req_nop(&r[i], done + i);
			req_latency(&r[i], PARKED);
		}
		ret = aio_submit(fd, r, want);
		if (ret <= 0)
			return done ? done : ret;
		for (i = 0; ids && i < ret; i++)
			ids[done + i] = r[i].id;
		done += ret;
	}
	return done;
}

static int park_nops(int fd, int n)
{
	return park_nops_ids(fd, n, NULL);
}

static __u64 total_in_flight(int *fd)
{
	return kaio_dev_stats(fd[0]).in_flight + kaio_dev_stats(fd[1]).in_flight;
}

/*
 * Fill max_requests with parked NOPs in contexts of both devices (ctx[],
 * at most max_requests / depth + 1 of them); the ids of ctx[0]'s go to ids.
 * Returns the number of contexts.
 */
static int fill_max_requests(struct __test_metadata *_metadata,
			     FIXTURE_DATA(lim) *self, int *ctx, __u64 *ids)
{
	__u64 left = self->max_requests;
	int n = 0;

	while (left) {
		int want = left < self->depth ? left : self->depth;

		ctx[n] = aio_open(n % NDEV, O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, ctx[n]);
		ASSERT_EQ(want, park_nops_ids(ctx[n], want, n ? NULL : ids))
			TH_LOG("context %d, %llu to go", n, left);
		left -= want;
		n++;
	}
	EXPECT_EQ(self->max_requests, total_in_flight(self->fd));
	return n;
}

TEST_F_TIMEOUT(lim, max_requests_enomem, 90)
{
	int nctx = self->max_requests / self->depth + 2, n, i, round, extra;
	int *ctx = calloc(nctx, sizeof(*ctx));
	__u64 *ids = calloc(self->depth, sizeof(*ids));
	unsigned char *buf = kaio_buf(PAGE_SZ, 0x5a);
	struct aiodev_counters c0[NDEV], c1[NDEV];
	struct aiodev_req r[5];
	struct aiodev_event ev[3];
	struct iocb cb, *pp = &cb;
	struct io_event ioev;
	io_context_t actx = 0;
	int d;

	ASSERT_NE(NULL, ctx);
	ASSERT_NE(NULL, ids);
	ASSERT_NE(NULL, buf);
	ASSERT_LE(3ULL, self->max_requests);
	ASSERT_LE(5U, self->depth);
	ASSERT_EQ(0, io_setup(4, &actx));
	for (round = 0; round < 2; round++) {
		n = fill_max_requests(_metadata, self, ctx, ids);
		extra = aio_open(round % NDEV, O_RDWR | O_NONBLOCK);
		ASSERT_LE(0, extra);

		/* One more, by every path: -ENOMEM and nothing changes. */
		for (d = 0; d < NDEV; d++)
			c0[d] = kaio_dev_stats(self->fd[d]);
		for (i = 0; i <= (int)self->depth; i++) {	/* no slot leaks */
			req_nop(&r[0], i);
			EXPECT_EQ(-ENOMEM, aio_submit1(extra, &r[0]));
		}
		req_init(&r[0], AIODEV_OP_READ, buf, 0, PAGE_SZ, 2);
		EXPECT_EQ(-ENOMEM, aio_submit1(extra, &r[0]));
		EXPECT_EQ(-ENOMEM, kaio_pread(extra, buf, PAGE_SZ, 0));
		EXPECT_EQ(-ENOMEM, kaio_pwrite(extra, buf, PAGE_SZ, 0));
		io_prep_pread(&cb, extra, buf, PAGE_SZ, 0);
		EXPECT_EQ(1, io_submit(actx, 1, &pp));
		EXPECT_EQ(1, io_getevents(actx, 1, 1, &ioev, NULL));
		EXPECT_EQ(-ENOMEM, (long)ioev.res);
		EXPECT_EQ(-ENOMEM, uring_read1_apart(extra, buf, PAGE_SZ));
		EXPECT_EQ(-1L, find_not(buf, PAGE_SZ, 0x5a));
		for (d = 0; d < NDEV; d++) {
			c1[d] = kaio_dev_stats(self->fd[d]);
			EXPECT_EQ(c0[d].submitted, c1[d].submitted);
			EXPECT_EQ(c0[d].in_flight, c1[d].in_flight);
			EXPECT_EQ(c0[d].failed, c1[d].failed);
		}
		EXPECT_EQ(0ULL, kaio_ctx_stats(extra).submitted);

		/* Three cancelled and reaped: a batch of five gets three. */
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, aio_cancel(ctx[0], ids[i]));
		ASSERT_EQ(3, aio_reap(ctx[0], ev, 3, WAIT_LONG_NS));
		for (i = 0; i < 3; i++) {
			EXPECT_EQ(-ECANCELED, ev[i].result);
		}
		for (i = 0; i < 5; i++) {
			req_nop(&r[i], 10 + i);
			req_latency(&r[i], PARKED);
		}
		EXPECT_EQ(3, aio_submit(extra, r, 5));
		EXPECT_EQ(self->max_requests, total_in_flight(self->fd));
		req_nop(&r[0], 20);
		EXPECT_EQ(-ENOMEM, aio_submit1(extra, &r[0]));

		/* Everything closed: the whole allowance comes back. */
		for (i = 0; i < n; i++)
			close(ctx[i]);
		close(extra);
		for (d = 0; d < NDEV; d++) {
			ASSERT_EQ(0, kaio_wait_dev_idle(self->fd[d], 0,
							WAIT_LONG_NS, &c1[d]));
			EXPECT_EQ(c1[d].submitted, counters_sum(&c1[d]));
		}
	}
	io_destroy(actx);
	kaio_buf_free(buf, PAGE_SZ);
	free(ctx);
	free(ids);
}

/*
 * Submit @r on @fd and reap its event, which must have result @want; or,
 * refused with -ENOMEM, count that in *@enomem (and pause 1 ms) for the
 * caller, whose point is that this never happens below the limit.
 */
static void submit_reap_or_count(struct __test_metadata *_metadata, int fd,
				 struct aiodev_req *r, long long want,
				 int *enomem)
{
	struct aiodev_event ev;
	int ret = aio_submit1(fd, r);

	if (ret == -ENOMEM) {
		(*enomem)++;
		sleep_ns(MSEC(1));
		return;
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(1, aio_reap(fd, &ev, 1, WAIT_LONG_NS));
	ASSERT_EQ(want, ev.result);
}

/*
 * At the limit, a request that completes gives its place back by the time
 * its event can be reaped: reap and submit again, many times, and never
 * see -ENOMEM below the limit.
 */
TEST_F_TIMEOUT(lim, max_requests_freed_by_completion, 90)
{
	int nctx = self->max_requests / self->depth + 2, n, i, fd, enomem = 0;
	int *ctx = calloc(nctx, sizeof(*ctx));
	__u64 *ids = calloc(self->depth, sizeof(*ids));
	struct aiodev_event ev;
	struct aiodev_req r;

	ASSERT_NE(NULL, ctx);
	ASSERT_NE(NULL, ids);
	n = fill_max_requests(_metadata, self, ctx, ids);
	fd = aio_open(1, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, aio_cancel(ctx[0], ids[0]));
	ASSERT_EQ(1, aio_reap(ctx[0], &ev, 1, WAIT_LONG_NS));
	for (i = 0; i < 500; i++) {
		req_nop(&r, i);
		req_latency(&r, i % 2 ? 0 : 1000);
		submit_reap_or_count(_metadata, fd, &r, 0, &enomem);
	}
	EXPECT_EQ(0, enomem)
		TH_LOG("%d of 500 submissions got -ENOMEM with a place free: a completed request still counts after its event was reaped",
		       enomem);
	for (i = 0; i < n; i++)
		close(ctx[i]);
	close(fd);
	free(ctx);
	free(ids);
}

/*
 * A 1 MiB read pins 256 pages (257 when unaligned). Reads park until the
 * pinning limit is reached on both devices together; one more fails.
 */
TEST_F_TIMEOUT(lim, pinned_pages_enomem, 90)
{
	const __u64 per = MIB / PAGE_SZ;
	__u64 fit = self->pin_pages / per, left = self->pin_pages % per, k;
	unsigned char *big = mmap(NULL, 2 * MIB, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				  -1, 0);
	int ctx[NDEV], d, round;
	struct aiodev_counters c0, c1;
	struct aiodev_req r;
	struct iocb cb, *pp = &cb;
	struct io_event ioev;
	io_context_t actx = 0;

	ASSERT_NE(MAP_FAILED, big);
	ASSERT_GE(self->max_requests, fit + 4) TH_LOG("max_requests hides the pinning limit");
	ASSERT_GE((__u64)self->depth * NDEV, fit + 4) TH_LOG("queue_depth too small");
	ASSERT_EQ(0, io_setup(4, &actx));
	memset(big, 0x77, 2 * MIB);
	for (round = 0; round < 2; round++) {
		for (d = 0; d < NDEV; d++) {
			ctx[d] = aio_open(d, O_RDWR | O_NONBLOCK);
			ASSERT_LE(0, ctx[d]);
		}
		for (k = 0; k < fit; k++) {
			req_init(&r, AIODEV_OP_READ, big, k * 4096, MIB, k);
			req_latency(&r, PARKED);
			ASSERT_EQ(0, aio_submit1(ctx[k % NDEV], &r))
				TH_LOG("read %llu of %llu", k, fit);
		}
		/* Exactly full (to a 1 MiB granule): the next one fails. */
		c0 = kaio_dev_stats(self->fd[0]);
		req_init(&r, AIODEV_OP_READ, big, 0, MIB, 100);
		req_latency(&r, PARKED);
		EXPECT_EQ(-ENOMEM, aio_submit1(ctx[0], &r));
		req_init(&r, AIODEV_OP_WRITE, big, 0, MIB, 101);
		EXPECT_EQ(-ENOMEM, aio_submit1(ctx[1], &r));
		EXPECT_EQ(-ENOMEM, kaio_pread(ctx[0], big, MIB, 0));
		io_prep_pread(&cb, ctx[1], big, MIB, 0);
		EXPECT_EQ(1, io_submit(actx, 1, &pp));
		EXPECT_EQ(1, io_getevents(actx, 1, 1, &ioev, NULL));
		EXPECT_EQ(-ENOMEM, (long)ioev.res);
		/* What is left of the allowance still works, a NOP always. */
		if (left) {
			req_init(&r, AIODEV_OP_READ, big + MIB, 0, left * PAGE_SZ,
				 102);
			EXPECT_EQ((long long)(left * PAGE_SZ), aio_sync(ctx[0], &r, NULL));
		}
		req_init(&r, AIODEV_OP_READ, big + MIB, 0, (left + 1) * PAGE_SZ,
			 103);
		EXPECT_EQ(-ENOMEM, aio_submit1(ctx[0], &r));
		req_nop(&r, 104);
		EXPECT_EQ(0LL, aio_sync(ctx[0], &r, NULL));
		c1 = kaio_dev_stats(self->fd[0]);
		EXPECT_EQ(c0.submitted + !!left + 1, c1.submitted);
		EXPECT_EQ(-1L, find_not(big, MIB, 0x77))
			TH_LOG("a parked or refused read wrote to its buffer");
		for (d = 0; d < NDEV; d++)
			close(ctx[d]);
		for (d = 0; d < NDEV; d++)
			ASSERT_EQ(0, kaio_wait_dev_idle(self->fd[d], 0,
							WAIT_LONG_NS, &c1));
	}

	/* With the pins released a 1 MiB read goes through, unaligned too
	 * when the allowance has 257 pages. */
	req_init(&r, AIODEV_OP_READ, big, 0, MIB, 200);
	EXPECT_EQ((long long)MIB, aio_sync(self->fd[0], &r, NULL));
	req_init(&r, AIODEV_OP_READ, big + 100, 0, MIB, 201);
	EXPECT_EQ(self->pin_pages >= per + 1 ? (long long)MIB : -ENOMEM,
		  aio_sync(self->fd[0], &r, NULL));
	io_destroy(actx);
	munmap(big, 2 * MIB);
}

/* The same for pinned pages: a completed 1 MiB read gives its pages back. */
TEST_F_TIMEOUT(lim, pinned_pages_freed_by_completion, 90)
{
	const __u64 per = MIB / PAGE_SZ;
	__u64 fit = self->pin_pages / per, k;
	unsigned char *big = mmap(NULL, MIB, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				  -1, 0);
	struct aiodev_req r;
	int fd, pfd, i, enomem = 0;

	ASSERT_NE(MAP_FAILED, big);
	ASSERT_LE(1ULL, fit);
	ASSERT_GE((__u64)self->depth, fit);
	pfd = aio_open(0, O_RDWR | O_NONBLOCK);
	fd = aio_open(1, O_RDWR);
	ASSERT_LE(0, pfd);
	ASSERT_LE(0, fd);
	for (k = 0; k + 1 < fit; k++) {
		req_init(&r, AIODEV_OP_READ, big, 0, MIB, k);
		req_latency(&r, PARKED);
		ASSERT_EQ(0, aio_submit1(pfd, &r));
	}
	for (i = 0; i < 300; i++) {
		req_init(&r, i % 2 ? AIODEV_OP_READ : AIODEV_OP_WRITE, big,
			 (__u64)(i % 8) * MIB, MIB, i);
		req_latency(&r, 0);
		submit_reap_or_count(_metadata, fd, &r, MIB, &enomem);
	}
	EXPECT_EQ(0, enomem)
		TH_LOG("%d of 300 submissions got -ENOMEM with the allowance free: a completed request's pages still count after its event was reaped",
		       enomem);
	close(pfd);
	close(fd);
	munmap(big, MIB);
}

/* SUBMIT on a full context: sleeps, -EAGAIN non-blocking, partial batch. */
struct sub_arg {
	int fd;
	atomic_int tid;
	atomic_int done;
	long ret;
	void *buf;
};

static void *blocked_submit(void *p)
{
	struct sub_arg *a = p;
	struct aiodev_req r[2];

	req_nop(&r[0], 0xb10c);
	req_nop(&r[1], 0xb10d);
	atomic_store(&a->tid, gettid());
	a->ret = aio_submit(a->fd, r, 2);
	atomic_store(&a->done, 1);
	return NULL;
}

/* Wait up to @ns for @a to finish. */
static bool finished(struct sub_arg *a, __u64 ns)
{
	__u64 deadline = now_ns() + ns;

	while (!atomic_load(&a->done) && now_ns() < deadline)
		sleep_ns(MSEC(5));
	return atomic_load(&a->done);
}

/*
 * still_blocked: @a's thread sleeps in system call @nr and has not
 * returned, as /proc shows it: no sleep standing in for the wait.
 */
static bool still_blocked(struct sub_arg *a, long nr)
{
	while (!atomic_load(&a->tid))
		sleep_ns(MSEC(1));
	return wait_blocked_in(atomic_load(&a->tid), nr, WAIT_LONG_NS) &&
	       !atomic_load(&a->done);
}

/* event_posted: an event of @fd is ready (the file polls readable). */
static bool event_posted(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, WAIT_LONG_NS / NSEC_PER_MSEC) == 1;
}

TEST_F_TIMEOUT(lim, queue_depth_ioctl, 90)
{
	__u64 *ids = calloc(self->depth, sizeof(*ids));
	struct aiodev_counters c;
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	struct sub_arg a = { 0 };
	pthread_t th;
	int fd, nb, other, i;

	ASSERT_NE(NULL, ids);
	fd = aio_open(0, O_RDWR);
	nb = aio_open(0, O_RDWR | O_NONBLOCK);
	other = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, nb);
	ASSERT_LE(0, other);

	/* Non-blocking: a batch takes the last slots, then -EAGAIN. */
	ASSERT_EQ((int)self->depth - 2, park_nops(nb, self->depth - 2));
	for (i = 0; i < 4; i++)
		req_nop(&r[i], i);
	EXPECT_EQ(2, aio_submit(nb, r, 4)) TH_LOG("partial batch");
	EXPECT_EQ(-EAGAIN, aio_submit(nb, r, 1));
	/* Completed events hold their slots until reaped. */
	ASSERT_EQ(2, aio_reap(nb, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(2, aio_submit(nb, r, 4));
	EXPECT_EQ(-EAGAIN, aio_submit(nb, r, 1));

	/* Blocking: SUBMIT sleeps until a slot is reaped, not just freed. */
	ASSERT_EQ((int)self->depth, park_nops_ids(fd, self->depth, ids));
	a.fd = fd;
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_submit, &a));
	EXPECT_TRUE(still_blocked(&a, SYS_ioctl))
		TH_LOG("SUBMIT returned %ld on a full context", a.ret);
	req_nop(&r[0], 50);
	/*
	 * nb's last two NOPs must have completed (their events unreaped): in
	 * flight they would hold 2 of the max_requests the parked ones leave.
	 */
	ASSERT_EQ(0, kaio_wait_dev_idle(other, 2ULL * self->depth - 2,
					WAIT_LONG_NS, &c));
	EXPECT_EQ(0LL, aio_sync(other, &r[0], NULL)) TH_LOG("other contexts go on");
	ASSERT_EQ(0, aio_cancel(fd, ids[0]));
	/* Its event is posted: a slot freed by that would have woken it. */
	ASSERT_TRUE(event_posted(fd));
	EXPECT_TRUE(still_blocked(&a, SYS_ioctl))
		TH_LOG("a cancelled but unreaped request freed its slot");
	ASSERT_EQ(1, aio_getevents(fd, ev, 1, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev[0].result);
	/* It gets the one slot that freed and returns with it. */
	EXPECT_TRUE(finished(&a, WAIT_LONG_NS));
	pthread_join(th, NULL);
	EXPECT_EQ(1, a.ret);
	EXPECT_EQ((__u64)self->depth + 1, kaio_ctx_stats(fd).submitted);
	close(fd);
	close(nb);
	close(other);
	free(ids);
}

/* Kernel AIO on a full context: the request completes with -EBUSY. */
TEST_F_TIMEOUT(lim, queue_depth_libaio, 90)
{
	unsigned char *buf = kaio_buf(PAGE_SZ, 0x33);
	struct iocb *cbs = calloc(self->depth + 2, sizeof(*cbs)), **pp;
	struct io_event *ev = calloc(self->depth + 2, sizeof(*ev));
	struct aiodev_counters c0, c1;
	struct aiodev_req r;
	io_context_t actx = 0;
	struct timespec ts = { 5, 0 };
	int fd, fd2, i;

	pp = calloc(self->depth + 2, sizeof(*pp));
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, cbs);
	ASSERT_NE(NULL, ev);
	ASSERT_NE(NULL, pp);
	ASSERT_EQ(0, io_setup(self->depth + 8, &actx));
	fd = aio_open(1, O_RDWR);
	fd2 = aio_open(1, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, aio_set_latency(self->fd[1], PARKED, 0, 0));
	c0 = kaio_dev_stats(self->fd[1]);

	/* depth - 1 parked reads, one ioctl request unreaped: full. */
	for (i = 0; i < (int)self->depth - 1; i++) {
		io_prep_pread(&cbs[i], fd, buf, 512, i * 512);
		pp[i] = &cbs[i];
	}
	ASSERT_EQ((int)self->depth - 1, io_submit(actx, self->depth - 1, pp));
	req_nop(&r, 1);
	req_latency(&r, 0);
	ASSERT_EQ(0, aio_submit1(fd, &r));
	io_prep_pread(&cbs[self->depth], fd, buf, 512, 0);
	pp[0] = &cbs[self->depth];
	ASSERT_EQ(1, io_submit(actx, 1, pp));
	ASSERT_EQ(1, io_getevents(actx, 1, 1, ev, &ts));
	EXPECT_EQ(&cbs[self->depth], ev[0].obj);
	EXPECT_EQ(-EBUSY, (long)ev[0].res);
	/* io_uring too: -EBUSY, not -EAGAIN, which would make it wait. */
	EXPECT_EQ(-EBUSY, uring_read1_apart(fd, buf, 512));
	/* Another file of the same device has room. */
	io_prep_pread(&cbs[self->depth + 1], fd2, buf, 512, 0);
	pp[0] = &cbs[self->depth + 1];
	ASSERT_EQ(1, io_submit(actx, 1, pp));
	/* Reaping the ioctl event frees a slot for one more AIO read. */
	ASSERT_EQ(1, aio_reap(fd, (struct aiodev_event *)ev, 1, WAIT_LONG_NS));
	pp[0] = &cbs[self->depth];
	io_prep_pread(&cbs[self->depth], fd, buf, 512, 0);
	ASSERT_EQ(1, io_submit(actx, 1, pp));
	ts.tv_sec = 0;
	ts.tv_nsec = 200000000;
	EXPECT_EQ(0, io_getevents(actx, 1, 1, ev, &ts)) TH_LOG("not parked: %ld", (long)ev[0].res);
	c1 = kaio_dev_stats(self->fd[1]);
	/* depth - 1 reads, the NOP, the other file's read, the last read. */
	EXPECT_EQ(c0.submitted + self->depth + 2, c1.submitted);
	EXPECT_EQ(-1L, find_not(buf, PAGE_SZ, 0x33));
	/* io_destroy cancels them all and waits. */
	EXPECT_EQ(0, io_destroy(actx));
	c1 = kaio_dev_stats(self->fd[1]);
	EXPECT_EQ(c0.in_flight, c1.in_flight);
	EXPECT_EQ(c0.cancelled + self->depth + 1, c1.cancelled);
	close(fd);
	close(fd2);
	free(cbs);
	free(ev);
	free(pp);
	kaio_buf_free(buf, PAGE_SZ);
}

static void *blocked_read(void *p)
{
	struct sub_arg *a = p;

	atomic_store(&a->tid, gettid());
	a->ret = kaio_pread(a->fd, a->buf, PAGE_SZ, 5 * MIB);
	atomic_store(&a->done, 1);
	return NULL;
}

/*
 * A slot freed by a completion, not by a reap: a kernel AIO request gives
 * its slot back when it completes, and that must wake a read sleeping for
 * one.
 */
TEST_F_TIMEOUT(lim, aio_completion_wakes_slot_sleeper, 60)
{
	unsigned char *buf = kaio_buf(PAGE_SZ, 0), *rbuf = kaio_buf(PAGE_SZ, 0);
	struct sub_arg a = { 0 };
	struct iocb cb, *pp = &cb;
	struct io_event ioev;
	io_context_t actx = 0;
	pthread_t th;
	int fd;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, rbuf);
	ASSERT_EQ(0, catch_signal(SIGUSR1, 0));	/* no SA_RESTART */
	fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, io_setup(2, &actx));
	ASSERT_EQ((int)self->depth - 1, park_nops(fd, self->depth - 1));
	/* The last slot: an AIO read due in 300 ms. */
	ASSERT_EQ(0, aio_set_latency(self->fd[0], MSEC(300), 0, 0));
	io_prep_pread(&cb, fd, buf, PAGE_SZ, 0);
	ASSERT_EQ(1, io_submit(actx, 1, &pp));
	a = (struct sub_arg){ .fd = fd, .buf = rbuf };
	ASSERT_EQ(0, pthread_create(&th, NULL, blocked_read, &a));
	EXPECT_TRUE(still_blocked(&a, SYS_pread64));
	/* The AIO read completes: its slot goes to the sleeping read. */
	ASSERT_EQ(1, io_getevents(actx, 1, 1, &ioev, NULL));
	EXPECT_EQ((long)PAGE_SZ, (long)ioev.res);
	EXPECT_TRUE(finished(&a, WAIT_LONG_NS))
		TH_LOG("the read was not woken by the completion");
	/* Not woken: end its sleep (-EINTR) rather than hang the test. */
	if (!atomic_load(&a.done))
		pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	EXPECT_EQ((long)PAGE_SZ, a.ret);
	io_destroy(actx);
	close(fd);
	kaio_buf_free(buf, PAGE_SZ);
	kaio_buf_free(rbuf, PAGE_SZ);
}

/* A plain read on a full context sleeps for a slot; a signal ends it. */
TEST_F_TIMEOUT(lim, queue_depth_sync_sleeps, 90)
{
	unsigned char *buf = kaio_buf(PAGE_SZ, 0xee), *want = kaio_buf(PAGE_SZ, 0);
	struct aiodev_counters c0, c1;
	struct sub_arg a = { 0 };
	struct aiodev_event ev;
	pthread_t th;
	int fd, i;

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, want);
	ASSERT_EQ(0, catch_signal(SIGUSR1, 0));	/* no SA_RESTART */
	fill_pattern(want, PAGE_SZ, 0x5150);
	ASSERT_EQ((long)PAGE_SZ, kaio_pwrite(self->fd[0], want, PAGE_SZ, 5 * MIB));
	fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	for (i = 0; i < 2; i++) {
		/* Full of completed, unreaped events. */
		struct aiodev_req r;
		int n = i ? 1 : self->depth, k;

		for (k = 0; k < n; k++) {
			req_nop(&r, k);
			req_latency(&r, 0);
			ASSERT_EQ(0, aio_submit1(fd, &r));
		}
		c0 = kaio_ctx_stats(fd);
		memset(buf, 0xee, PAGE_SZ);
		a = (struct sub_arg){ .fd = fd, .buf = buf };
		ASSERT_EQ(0, pthread_create(&th, NULL, blocked_read, &a));
		EXPECT_TRUE(still_blocked(&a, SYS_pread64))
			TH_LOG("read on a full context returned %ld", a.ret);
		EXPECT_EQ(-1L, find_not(buf, PAGE_SZ, 0xee));
		if (!i) {
			/* A reaped event frees the slot: the read goes through. */
			ASSERT_EQ(1, aio_getevents(fd, &ev, 1, 1, WAIT_LONG_NS));
			EXPECT_TRUE(finished(&a, WAIT_LONG_NS));
			pthread_join(th, NULL);
			EXPECT_EQ((long)PAGE_SZ, a.ret);
			EXPECT_EQ(0, memcmp(buf, want, PAGE_SZ));
			c1 = kaio_ctx_stats(fd);
			EXPECT_EQ(c0.submitted + 1, c1.submitted);
		} else {
			/* A signal ends the sleep: -EINTR, nothing submitted. */
			pthread_kill(th, SIGUSR1);
			EXPECT_TRUE(finished(&a, WAIT_LONG_NS));
			pthread_join(th, NULL);
			EXPECT_EQ(-EINTR, a.ret);
			EXPECT_EQ(-1L, find_not(buf, PAGE_SZ, 0xee));
			c1 = kaio_ctx_stats(fd);
			EXPECT_EQ(c0.submitted, c1.submitted);
		}
	}
	close(fd);
	kaio_buf_free(buf, PAGE_SZ);
	kaio_buf_free(want, PAGE_SZ);
}

/* Without AIODEV_LIMITS=1, leave out what costs in proportion to a large limit. */
int main(int argc, char **argv)
{
	char *args[] = { argv[0], "-T", "max_requests_enomem", "-T",
			 "max_requests_freed_by_completion", NULL };
	const char *e = getenv("AIODEV_LIMITS");

	if ((!e || strcmp(e, "1")) && param("max_requests") > 8192 && argc == 1) {
		printf("# limits: max_requests=%llu: the max_requests_* cases run in guest.d/limits.sh (AIODEV_LIMITS=1, small limits)\n",
		       param("max_requests"));
		return test_harness_run(5, args);
	}
	return test_harness_run(argc, argv);
}
