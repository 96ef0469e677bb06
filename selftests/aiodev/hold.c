// SPDX-License-Identifier: GPL-2.0
/*
 * Hold and release: requests parked by a rule complete in the order and
 * with the results AIODEV_IOC_RELEASE chooses, on every path; releases
 * race cancels, closes, exits and safety deadlines and each request ends
 * exactly once; bad input changes nothing.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "kaio_uring_util.h"
#include "kselftest_harness.h"

/* A region only this program writes: three requests of LEN bytes. */
#define H_OFF		(44ULL << 20)
#define LEN		4096U
#define N		3

FIXTURE(hd) {
	int fd;
	io_context_t aio;
	struct io_uring ring;
	unsigned char *buf;	/* N * LEN */
	unsigned char *store;	/* what the region holds */
};

/* A rule holding every request (of @paths): its id, or a -errno. */
static int hold_rule(int fd, __u32 paths, __u64 deadline_ns)
{
	struct aiodev_rule r = {
		.flags = AIODEV_RULE_HOLD,
		.paths = paths,
		.hold_nsec = deadline_ns,
	};
	int ret = aio_ioctl(fd, AIODEV_IOC_RULE_ADD, &r);

	return ret ? ret : (int)r.id;
}

static int held_wait(int fd, __u32 n, __s64 timeout_ns)
{
	struct aiodev_held_wait w = { .min_nr = n, .timeout_nsec = timeout_ns };

	return aio_ioctl(fd, AIODEV_IOC_HELD_WAIT, &w);
}

static int held_list(int fd, struct aiodev_held *h, __u32 nr)
{
	struct aiodev_held_list l = { .held = (__u64)(uintptr_t)h, .nr = nr };

	return aio_ioctl(fd, AIODEV_IOC_HELD_LIST, &l);
}

static int release(int fd, const struct aiodev_release *rel, __u32 nr)
{
	struct aiodev_release_list l = {
		.releases = (__u64)(uintptr_t)rel,
		.nr = nr,
	};

	return aio_ioctl(fd, AIODEV_IOC_RELEASE, &l);
}

static int release_all(int fd)
{
	struct aiodev_release_list l = { .flags = AIODEV_RELEASE_ALL };

	return aio_ioctl(fd, AIODEV_IOC_RELEASE, &l);
}

FIXTURE_SETUP(hd)
{
	self->fd = kaio_paths_setup(_metadata, &self->aio, &self->ring,
				    &self->buf, &self->store, N * LEN);
	fill_pattern(self->store, N * LEN, 11);
	ASSERT_EQ(0, kaio_pwrite_all(self->fd, self->store, N * LEN, H_OFF));
}

FIXTURE_TEARDOWN(hd)
{
	/* Nothing may stay held: release what a failed test left. */
	EXPECT_LE(0, release_all(self->fd));
	kaio_paths_teardown(_metadata, self->fd, self->aio, &self->ring,
			    self->buf, self->store, N * LEN);
}

/* The hold id of the held request reading/writing at @off. */
static __u64 hold_id_at(struct __test_metadata *_metadata, int fd, __u64 off)
{
	struct aiodev_held h[16];
	int n = held_list(fd, h, 16), i;

	EXPECT_LE(0, n);
	for (i = 0; i < n && i < 16; i++)
		if (h[i].offset == off)
			return h[i].hold_id;
	return 0;
}

enum path { P_IOCTL, P_AIO, P_URING, P_SYNC, NR_PATHS };
static const char *const path_name[] = { "ioctl", "libaio", "io_uring", "sync" };

struct sync_read {
	int fd;
	void *buf;
	__u64 off;
	ssize_t ret;
};

static void *sync_reader(void *arg)
{
	struct sync_read *s = arg;

	s->ret = pread(s->fd, s->buf, LEN, s->off);
	if (s->ret < 0)
		s->ret = -errno;
	return NULL;
}

/*
 * Three reads held on path @p, released in the order C, A, B with results
 * short 100, ok, torn 50:EIO: they complete in that order (all but sync,
 * whose callers wake in any order) with exactly those bytes.
 */
static void permuted_release(struct __test_metadata *_metadata,
			     struct _test_data_hd *self, enum path p)
{
	static const int order[N] = { 2, 0, 1 };
	struct aiodev_release rel[N];
	struct sync_read sr[N];
	pthread_t th[N];
	long long res[N];
	int done[N], i, k;

	memset(self->buf, 0xaa, N * LEN);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	for (i = 0; i < N; i++) {
		void *b = self->buf + i * LEN;
		__u64 off = H_OFF + i * LEN;

		if (p == P_IOCTL) {
			struct aiodev_req r;

			req_init(&r, AIODEV_OP_READ, b, off, LEN, i);
			ASSERT_EQ(0, aio_submit1(self->fd, &r));
		} else if (p == P_AIO) {
			struct iocb cb, *cbs[1] = { &cb };

			io_prep_pread(&cb, self->fd, b, LEN, off);
			cb.data = (void *)(uintptr_t)i;
			ASSERT_EQ(1, io_submit(self->aio, 1, cbs));
		} else if (p == P_URING) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

			io_uring_prep_read(sqe, self->fd, b, LEN, off);
			io_uring_sqe_set_data64(sqe, i);
			ASSERT_EQ(1, io_uring_submit(&self->ring));
		} else {
			sr[i] = (struct sync_read){ self->fd, b, off, 0 };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, sync_reader,
						    &sr[i]));
		}
		/* One at a time: hold ids in submission order. */
		ASSERT_EQ(i + 1, held_wait(self->fd, i + 1, WAIT_LONG_NS))
			TH_LOG("%s: request %d not held", path_name[p], i);
	}
	/* Held: nothing moved. */
	EXPECT_EQ(-1L, find_not(self->buf, N * LEN, 0xaa));

	for (k = 0; k < N; k++) {
		__u64 id = hold_id_at(_metadata, self->fd, H_OFF + order[k] * LEN);

		ASSERT_NE(0ULL, id);
		rel[k] = (struct aiodev_release){ .hold_id = id };
	}
	rel[0].kind = AIODEV_RELEASE_SHORT;
	rel[0].bytes = 100;
	rel[1].kind = AIODEV_RELEASE_OK;
	rel[2].kind = AIODEV_RELEASE_TORN;
	rel[2].bytes = 50;
	rel[2].error = EIO;
	/*
	 * One call for all three; io_uring before 6.x (6.1) posts the CQEs
	 * of completions that arrive together in its own task work order:
	 * there, one release per completion.
	 */
	if (p != P_URING)
		ASSERT_EQ(N, release(self->fd, rel, N));

	for (k = 0; k < N; k++) {
		if (p == P_URING)
			ASSERT_EQ(1, release(self->fd, &rel[k], 1));
		if (p == P_IOCTL) {
			struct aiodev_event ev;

			ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
			done[k] = (int)ev.user_data;
			res[done[k]] = ev.result;
		} else if (p == P_AIO) {
			struct timespec ts = { .tv_sec = 5 };
			struct io_event ev;

			ASSERT_EQ(1, io_getevents(self->aio, 1, 1, &ev, &ts));
			done[k] = (int)(uintptr_t)ev.data;
			res[done[k]] = (long long)ev.res;
		} else if (p == P_URING) {
			struct __kernel_timespec kts = { .tv_sec = 5 };
			struct io_uring_cqe *cqe;

			ASSERT_EQ(0, io_uring_wait_cqe_timeout(&self->ring, &cqe,
							       &kts));
			done[k] = (int)io_uring_cqe_get_data64(cqe);
			res[done[k]] = cqe->res;
			io_uring_cqe_seen(&self->ring, cqe);
		} else {
			pthread_join(th[order[k]], NULL);
			done[k] = order[k];
			res[done[k]] = sr[order[k]].ret;
		}
	}
	for (k = 0; k < N; k++) {
		EXPECT_EQ(order[k], done[k]) TH_LOG("%s: completion %d",
						    path_name[p], k);
	}
	EXPECT_EQ(LEN, res[0]) TH_LOG("%s", path_name[p]);
	EXPECT_EQ(-EIO, res[1]) TH_LOG("%s", path_name[p]);
	EXPECT_EQ(100, res[2]) TH_LOG("%s", path_name[p]);
	/* A: all; B: its first 50 bytes; C: its first 100. */
	EXPECT_EQ(0, memcmp(self->buf, self->store, LEN));
	EXPECT_EQ(0, memcmp(self->buf + LEN, self->store + LEN, 50));
	EXPECT_EQ(-1L, find_not(self->buf + LEN + 50, LEN - 50, 0xaa));
	EXPECT_EQ(0, memcmp(self->buf + 2 * LEN, self->store + 2 * LEN, 100));
	EXPECT_EQ(-1L, find_not(self->buf + 2 * LEN + 100, LEN - 100, 0xaa));
	EXPECT_EQ(0, held_list(self->fd, NULL, 0));
}

TEST_F(hd, release_order_and_results_on_every_path)
{
	int p;

	for (p = 0; p < NR_PATHS; p++)
		permuted_release(_metadata, self, p);
}

/* A held write stores what the release says: none, a torn part, all. */
TEST_F(hd, held_write_stores_what_the_release_says)
{
	struct aiodev_release rel[2] = {
		{ .kind = AIODEV_RELEASE_TORN, .bytes = 1000, .error = ENOSPC },
		{ .kind = AIODEV_RELEASE_CANCEL },
	};
	struct aiodev_event ev[2];
	struct aiodev_req r[2];
	unsigned char *back = kaio_buf(2 * LEN, 0);

	ASSERT_NE(NULL, back);
	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	fill_pattern(self->buf, 2 * LEN, 12);
	req_init(&r[0], AIODEV_OP_WRITE, self->buf, H_OFF, LEN, 0);
	req_init(&r[1], AIODEV_OP_WRITE, self->buf + LEN, H_OFF + LEN, LEN, 1);
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(2, held_wait(self->fd, 2, WAIT_LONG_NS));
	rel[0].hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	rel[1].hold_id = hold_id_at(_metadata, self->fd, H_OFF + LEN);
	ASSERT_EQ(2, release(self->fd, rel, 2));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	EXPECT_EQ(-ENOSPC, ev[0].result);
	EXPECT_EQ(-ECANCELED, ev[1].result);
	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(0, kaio_pread_all(self->fd, back, 2 * LEN, H_OFF));
	EXPECT_EQ(0, memcmp(back, self->buf, 1000));
	EXPECT_EQ(0, memcmp(back + 1000, self->store + 1000, 2 * LEN - 1000));
	kaio_buf_free(back, 2 * LEN);
}

/* The planned result: what the rule said at submission. */
TEST_F(hd, planned_result_is_the_rules)
{
	struct aiodev_rule r = {
		.flags = AIODEV_RULE_HOLD,
		.result_kind = AIODEV_RESULT_SHORT,
		.bytes = 10,
	};
	struct aiodev_event ev;
	struct aiodev_req q;

	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	req_init(&q, AIODEV_OP_READ, self->buf, H_OFF, LEN, 1);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	ASSERT_EQ(1, release_all(self->fd));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(10, ev.result);
}

/* What HELD_LIST says of a held request. */
TEST_F(hd, list_fields)
{
	struct pollfd pfd = { .events = POLLPRI };
	struct aiodev_held h[2];
	struct aiodev_event ev;
	struct aiodev_req q;
	__u64 t0 = now_ns();

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	req_init(&q, AIODEV_OP_WRITE, self->buf, H_OFF + 8, 100, 77);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	memset(h, 0xa5, sizeof(h));
	ASSERT_EQ(1, held_list(self->fd, h, 2));
	EXPECT_NE(0ULL, h[0].hold_id);
	EXPECT_EQ(q.id, h[0].id);
	EXPECT_EQ(77ULL, h[0].user_data);
	EXPECT_EQ(H_OFF + 8, h[0].offset);
	EXPECT_EQ(100U, h[0].len);
	EXPECT_EQ(AIODEV_OP_WRITE, h[0].op);
	EXPECT_EQ(AIODEV_PATH_IOCTL, h[0].path);
	EXPECT_EQ(getpid(), h[0].tgid);
	EXPECT_EQ(0U, h[0].flags);
	EXPECT_LE(t0, h[0].since_ns);
	EXPECT_GE(now_ns(), h[0].since_ns);
	/* Only one copied. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, h[1].hold_id);
	/* EPOLLPRI while held, not after. */
	pfd.fd = self->fd;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLPRI);
	ASSERT_EQ(1, release_all(self->fd));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	pfd.revents = 0;
	EXPECT_EQ(0, poll(&pfd, 1, 0));
}

/* HELD_WAIT wakes when the Nth is held, times out when none comes. */
static void *delayed_submit(void *arg)
{
	int fd = *(int *)arg;
	struct aiodev_req q;

	sleep_ns(MSEC(100));
	req_nop(&q, 5);
	aio_submit1(fd, &q);
	return NULL;
}

TEST_F(hd, wait_wakes_and_times_out)
{
	struct aiodev_event ev;
	pthread_t th;
	__u64 t0;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	t0 = now_ns();
	EXPECT_EQ(-ETIMEDOUT, held_wait(self->fd, 1, MSEC(50)));
	EXPECT_LE(MSEC(50), now_ns() - t0);
	EXPECT_EQ(-ETIMEDOUT, held_wait(self->fd, 1, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, delayed_submit, &self->fd));
	EXPECT_EQ(1, held_wait(self->fd, 1, -1));
	pthread_join(th, NULL);
	EXPECT_EQ(1, release_all(self->fd));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(0, ev.result);
}

/* The safety deadline: a request still held then times out. */
TEST_F(hd, safety_deadline)
{
	struct aiodev_release rel = { 0 };
	struct aiodev_event ev;
	struct aiodev_req q;

	ASSERT_LT(0, hold_rule(self->fd, 0, MSEC(100)));
	req_init(&q, AIODEV_OP_READ, self->buf, H_OFF, LEN, 1);
	memset(self->buf, 0xaa, LEN);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ETIMEDOUT, ev.result);
	EXPECT_LE(MSEC(100), ev.complete_ns - ev.submit_ns);
	EXPECT_EQ(-1L, find_not(self->buf, LEN, 0xaa));
	/* Gone: releasing it now finds nothing. */
	EXPECT_EQ(-ENOENT, release(self->fd, &rel, 1));
}

/*
 * The recipes. Cancel wins: CANCEL of a held request succeeds, its event
 * says -ECANCELED, and a release finds nothing. Completion wins: released
 * first, a CANCEL finds nothing in flight.
 */
TEST_F(hd, recipe_cancel_wins_and_completion_wins)
{
	struct aiodev_release rel = { .kind = AIODEV_RELEASE_OK };
	struct aiodev_event ev;
	struct aiodev_req q;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	req_init(&q, AIODEV_OP_READ, self->buf, H_OFF, LEN, 1);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	EXPECT_EQ(0, aio_cancel(self->fd, q.id));
	EXPECT_EQ(-ENOENT, release(self->fd, &rel, 1));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev.result);

	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	EXPECT_EQ(1, release(self->fd, &rel, 1));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(LEN, ev.result);
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, q.id));
}

/*
 * A write completing after its timeout (liburing #178): the first write
 * is held past its caller's deadline, the caller gives up (its io_uring
 * link timeout, here io_cancel()'s -EINPROGRESS), writes again; then the
 * first is released: it lands after the second.
 */
TEST_F(hd, recipe_write_completes_after_its_timeout)
{
	struct aiodev_release rel = { .kind = AIODEV_RELEASE_OK };
	struct iocb cb1, cb2, *cbs[1];
	struct timespec ts = { .tv_sec = 5 };
	struct io_event ev;
	unsigned char *back = kaio_buf(LEN, 0);
	struct aiodev_rule r = {
		.flags = AIODEV_RULE_HOLD,
		.count = 1,
	};

	ASSERT_NE(NULL, back);
	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	memset(self->buf, '1', LEN);
	memset(self->buf + LEN, '2', LEN);
	io_prep_pwrite(&cb1, self->fd, self->buf, LEN, H_OFF);
	cbs[0] = &cb1;
	ASSERT_EQ(1, io_submit(self->aio, 1, cbs));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	/* The caller's deadline passes: nothing came. */
	EXPECT_EQ(0, io_getevents(self->aio, 1, 1, &ev,
				  &(struct timespec){ .tv_nsec = 20000000 }));
	io_prep_pwrite(&cb2, self->fd, self->buf + LEN, LEN, H_OFF);
	cbs[0] = &cb2;
	ASSERT_EQ(1, io_submit(self->aio, 1, cbs));
	ASSERT_EQ(1, io_getevents(self->aio, 1, 1, &ev, &ts));
	EXPECT_EQ(&cb2, ev.obj);
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	EXPECT_EQ(1, release(self->fd, &rel, 1));
	ASSERT_EQ(1, io_getevents(self->aio, 1, 1, &ev, &ts));
	EXPECT_EQ(&cb1, ev.obj);
	ASSERT_EQ(0, kaio_pread_all(self->fd, back, LEN, H_OFF));
	/* The stale write won: the device holds '1's. */
	EXPECT_EQ(-1L, find_not(back, LEN, '1'));
	kaio_buf_free(back, LEN);
}

/*
 * The request is already completing: released parked, a CANCEL finds it
 * under way (-EALREADY) and its event follows with the release's result;
 * so does io_cancel() (-EAGAIN), and a second release, and a close.
 */
TEST_F(hd, recipe_already_completing)
{
	struct aiodev_release rel = {
		.kind = AIODEV_RELEASE_SHORT,
		.bytes = 7,
		.flags = AIODEV_RELEASE_PARK,
	};
	struct timespec ts = { .tv_sec = 5 };
	struct iocb cb, *cbs[1] = { &cb };
	struct aiodev_event ev;
	struct io_event iev;
	struct aiodev_held h;
	struct aiodev_req q;
	int fd2;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	req_init(&q, AIODEV_OP_READ, self->buf, H_OFF, LEN, 1);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	ASSERT_EQ(1, release(self->fd, &rel, 1));
	/* Parked: listed as such, not counted as held, no event yet. */
	ASSERT_EQ(1, held_list(self->fd, &h, 1));
	EXPECT_EQ(AIODEV_HELD_PARKED, h.flags);
	EXPECT_EQ(-ETIMEDOUT, held_wait(self->fd, 1, 0));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, MSEC(20)));
	/* A parked request cannot be parked or cancelled by a release. */
	EXPECT_EQ(-ENOENT, release(self->fd, &rel, 1));
	EXPECT_EQ(-EALREADY, aio_cancel(self->fd, q.id));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(7, ev.result);
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, q.id));

	/* libaio: io_cancel() says -EAGAIN, the event follows. */
	io_prep_pread(&cb, self->fd, self->buf, LEN, H_OFF);
	ASSERT_EQ(1, io_submit(self->aio, 1, cbs));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	rel.kind = AIODEV_RELEASE_OK;
	rel.bytes = 0;
	ASSERT_EQ(1, release(self->fd, &rel, 1));
	EXPECT_EQ(-EAGAIN, io_cancel(self->aio, &cb, &iev));
	ASSERT_EQ(1, io_getevents(self->aio, 1, 1, &iev, &ts));
	EXPECT_EQ(LEN, (long long)iev.res);

	/* A second release delivers it, with the first release's result. */
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
	rel.kind = AIODEV_RELEASE_ERROR;
	rel.error = ENODATA;
	ASSERT_EQ(1, release(self->fd, &rel, 1));
	rel.kind = AIODEV_RELEASE_PLANNED;
	rel.error = 0;
	rel.flags = 0;
	ASSERT_EQ(1, release(self->fd, &rel, 1));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ENODATA, ev.result);

	/* A close delivers what it parked: nothing waits for ever. */
	fd2 = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd2);
	req_nop(&q, 2);
	ASSERT_EQ(0, aio_submit1(fd2, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	ASSERT_EQ(1, held_list(self->fd, &h, 1));
	rel = (struct aiodev_release){ .hold_id = h.hold_id,
				       .flags = AIODEV_RELEASE_PARK };
	ASSERT_EQ(1, release(self->fd, &rel, 1));
	close(fd2);
	EXPECT_EQ(0, held_list(self->fd, NULL, 0));
}

/* Release against CANCEL, many times: each request ends exactly once. */
struct racer {
	int fd;
	__u64 id;
	__u64 hold_id;
	int ret;
	atomic_int *go;
};

static void *cancel_racer(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(r->go))
		;
	r->ret = aio_cancel(r->fd, r->id);
	return NULL;
}

TEST_F(hd, release_races_cancel)
{
	int i, cancel_won = 0, release_won = 0;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	for (i = 0; i < 200; i++) {
		struct aiodev_release rel = { .kind = AIODEV_RELEASE_OK };
		atomic_int go = 0;
		struct aiodev_event ev;
		struct aiodev_held h;
		struct aiodev_req q;
		struct racer rc;
		pthread_t th;
		int rret;

		req_nop(&q, i);
		ASSERT_EQ(0, aio_submit1(self->fd, &q));
		ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
		ASSERT_EQ(1, held_list(self->fd, &h, 1));
		rel.hold_id = h.hold_id;
		rc = (struct racer){ self->fd, q.id, rel.hold_id, 0, &go };
		ASSERT_EQ(0, pthread_create(&th, NULL, cancel_racer, &rc));
		atomic_store(&go, 1);
		/* Later and later: the racer starts its syscall late. */
		spin_until(now_ns() + (__u64)(i % 40) * 5000);
		rret = release(self->fd, &rel, 1);
		pthread_join(th, NULL);
		ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
		/* Exactly one event, and it says who won. */
		EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
		if (ev.result == -ECANCELED) {
			EXPECT_EQ(0, rc.ret);
			EXPECT_EQ(-ENOENT, rret);
			cancel_won++;
		} else {
			EXPECT_EQ(0, ev.result);
			EXPECT_EQ(1, rret);
			EXPECT_TRUE(rc.ret == -EALREADY || rc.ret == -ENOENT)
				TH_LOG("cancel after the release: %d", rc.ret);
			release_won++;
		}
	}
	TH_LOG("cancel won %d, release won %d", cancel_won, release_won);
	EXPECT_EQ(200, cancel_won + release_won);
}

/* Release against io_cancel (libaio): one event, and it says who won. */
struct aio_racer {
	io_context_t aio;
	struct iocb *cb;
	int ret;
	atomic_int *go;
};

static void *io_cancel_racer(void *arg)
{
	struct aio_racer *r = arg;
	struct io_event ev;

	while (!atomic_load(r->go))
		;
	r->ret = io_cancel(r->aio, r->cb, &ev);
	return NULL;
}

TEST_F(hd, release_races_io_cancel)
{
	int i, cancel_won = 0, release_won = 0;

	ASSERT_LT(0, hold_rule(self->fd, 1U << AIODEV_PATH_AIO, 0));
	for (i = 0; i < 200; i++) {
		struct aiodev_release rel = { .kind = AIODEV_RELEASE_OK };
		struct iocb cb, *cbs[1] = { &cb };
		struct timespec zero = { 0 };
		struct io_event ev[2];
		struct aio_racer rc;
		atomic_int go = 0;
		pthread_t th;
		int rret;

		memset(self->buf, 0xaa, LEN);
		io_prep_pread(&cb, self->fd, self->buf, LEN, H_OFF);
		cb.data = (void *)(uintptr_t)i;
		ASSERT_EQ(1, io_submit(self->aio, 1, cbs));
		ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
		rel.hold_id = hold_id_at(_metadata, self->fd, H_OFF);
		ASSERT_NE(0ULL, rel.hold_id);
		rc = (struct aio_racer){ self->aio, &cb, 0, &go };
		ASSERT_EQ(0, pthread_create(&th, NULL, io_cancel_racer, &rc));
		atomic_store(&go, 1);
		/* Later and later: the racer starts its syscall late. */
		spin_until(now_ns() + (__u64)(i % 40) * 5000);
		rret = release(self->fd, &rel, 1);
		pthread_join(th, NULL);
		ASSERT_EQ(1, io_getevents(self->aio, 1, 1, ev, NULL));
		EXPECT_EQ(0, io_getevents(self->aio, 0, 2, ev + 1, &zero));
		EXPECT_EQ(&cb, ev[0].obj);
		if ((long)ev[0].res == -ECANCELED) {
			/* Cancelled: the release found nothing, no data moved. */
			EXPECT_EQ(-EINPROGRESS, rc.ret);
			EXPECT_EQ(-ENOENT, rret);
			EXPECT_EQ(-1L, find_not(self->buf, LEN, 0xaa));
			cancel_won++;
		} else {
			/* Released: io_cancel came too late, all bytes moved. */
			EXPECT_EQ(LEN, ev[0].res);
			EXPECT_EQ(1, rret);
			EXPECT_TRUE(rc.ret == -EAGAIN || rc.ret == -EINVAL)
				TH_LOG("io_cancel after the release: %d", rc.ret);
			EXPECT_EQ(0, memcmp(self->buf, self->store, LEN));
			release_won++;
		}
	}
	TH_LOG("io_cancel won %d, release won %d", cancel_won, release_won);
	EXPECT_EQ(200, cancel_won + release_won);
}

/*
 * Release against the safety deadline, the release aimed anywhere from
 * 500 us before to 500 us after it: the event says who won, and the
 * release's answer agrees.
 */
TEST_F(hd, release_races_safety_deadline)
{
	int i, deadline_won = 0, release_won = 0;

	ASSERT_LT(0, hold_rule(self->fd, 0, MSEC(2)));
	for (i = 0; i < 100; i++) {
		struct aiodev_release rel = { .kind = AIODEV_RELEASE_OK };
		__s64 aim = MSEC(2) - 500000 + (__s64)10000 * i;
		struct aiodev_event ev;
		struct aiodev_held h;
		struct aiodev_req q;
		int rret;

		memset(self->buf, 0xaa, LEN);
		req_init(&q, AIODEV_OP_READ, self->buf, H_OFF, LEN, i);
		ASSERT_EQ(0, aio_submit1(self->fd, &q));
		/* Held from SUBMIT on; timed out already on a slow machine. */
		if (held_list(self->fd, &h, 1) != 1) {
			ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
			EXPECT_EQ(-ETIMEDOUT, ev.result);
			continue;
		}
		rel.hold_id = h.hold_id;
		while ((__s64)(now_ns() - h.since_ns) < aim)
			;
		rret = release(self->fd, &rel, 1);
		ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
		EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
		if (ev.result == -ETIMEDOUT) {
			EXPECT_EQ(-ENOENT, rret);
			EXPECT_LE(MSEC(2), ev.complete_ns - ev.submit_ns);
			EXPECT_EQ(-1L, find_not(self->buf, LEN, 0xaa));
			deadline_won++;
		} else {
			EXPECT_EQ(LEN, ev.result);
			EXPECT_EQ(1, rret);
			EXPECT_EQ(0, memcmp(self->buf, self->store, LEN));
			release_won++;
		}
	}
	TH_LOG("deadline won %d, release won %d", deadline_won, release_won);
}

/*
 * Release against close and against process exit, with eight requests
 * held: each ends exactly once, completed by the release (the count it
 * returns) or cancelled by the close or the exit (the others).
 */
struct closer {
	int fd;
	atomic_int *go;
};

static void *close_racer(void *arg)
{
	struct closer *c = arg;

	while (!atomic_load(c->go))
		;
	close(c->fd);
	return NULL;
}

#define RACE_N	8

static int release_listed(int fd)
{
	struct aiodev_release rel[RACE_N] = { 0 };
	struct aiodev_held h[RACE_N];
	int n = held_list(fd, h, RACE_N), i;

	if (n != RACE_N)
		return n < 0 ? n : -EPROTO;
	for (i = 0; i < RACE_N; i++) {
		rel[i].hold_id = h[i].hold_id;
		rel[i].kind = AIODEV_RELEASE_OK;
	}
	return release(fd, rel, RACE_N);
}

static int submit_nops(int fd)
{
	struct aiodev_req q[RACE_N];
	int i;

	for (i = 0; i < RACE_N; i++)
		req_nop(&q[i], i);
	return aio_submit(fd, q, RACE_N);
}

TEST_F(hd, release_races_close_and_exit)
{
	int i, round, released[2] = { 0 }, whole[2] = { 0 };

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	for (round = 0; round < 80; round++) {
		struct aiodev_counters before, after;
		bool by_exit = round % 2;
		atomic_int go = 0;
		int ret = 0, pfd[2], st;
		struct closer c;
		pthread_t th;
		pid_t child;
		char ch;

		before = kaio_dev_stats(self->fd);
		if (by_exit) {
			ASSERT_EQ(0, pipe(pfd));
			child = fork();
			ASSERT_LE(0, child);
			if (!child) {
				int fd2 = aio_open(0, O_RDWR);

				if (fd2 < 0 || submit_nops(fd2) != RACE_N)
					_exit(1);
				/* Parent: release now. */
				if (write(pfd[1], "r", 1) != 1)
					_exit(2);
				_exit(0);
			}
			close(pfd[1]);
			ASSERT_EQ(1, read(pfd[0], &ch, 1));
			close(pfd[0]);
			ret = release_listed(self->fd);
			ASSERT_EQ(child, waitpid(child, &st, 0));
			ASSERT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st));
		} else {
			c.fd = aio_open(0, O_RDWR);
			c.go = &go;
			ASSERT_LE(0, c.fd);
			ASSERT_EQ(RACE_N, submit_nops(c.fd));
			ASSERT_EQ(RACE_N, held_wait(self->fd, RACE_N,
						    WAIT_LONG_NS));
			ASSERT_EQ(0, pthread_create(&th, NULL, close_racer, &c));
			atomic_store(&go, 1);
			ret = release_listed(self->fd);
			pthread_join(th, NULL);
		}
		/* The exit may come before the list: then none are listed. */
		ASSERT_TRUE(ret == -ENOENT || ret == -EPROTO ||
			    (ret >= 1 && ret <= RACE_N))
			TH_LOG("round %d: release: %d", round, ret);
		if (ret < 0)
			ret = 0;
		ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, 0, WAIT_LONG_NS,
						&after));
		EXPECT_EQ(0, held_list(self->fd, NULL, 0));
		EXPECT_EQ(before.submitted + RACE_N, after.submitted);
		EXPECT_EQ(before.completed_ok + ret, after.completed_ok)
			TH_LOG("round %d (%s): released %d", round,
			       by_exit ? "exit" : "close", ret);
		EXPECT_EQ(before.cancelled + RACE_N - ret, after.cancelled);
		EXPECT_EQ(before.failed, after.failed);
		EXPECT_EQ(before.timed_out, after.timed_out);
		released[by_exit] += ret;
		whole[by_exit] += ret == RACE_N;
	}
	for (i = 0; i < 2; i++)
		TH_LOG("%s: %d requests released, %d rounds wholly",
		       i ? "exit" : "close", released[i], whole[i]);
}

/* Close with held requests: they are cancelled; a release finds none. */
TEST_F(hd, close_and_exit_end_held_requests)
{
	struct aiodev_counters before, after;
	struct aiodev_req q[2];
	int fd2, status;
	pid_t child;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	before = kaio_dev_stats(self->fd);
	fd2 = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd2);
	req_nop(&q[0], 1);
	req_nop(&q[1], 2);
	ASSERT_EQ(2, aio_submit(fd2, q, 2));
	ASSERT_EQ(2, held_wait(self->fd, 2, WAIT_LONG_NS));
	close(fd2);
	EXPECT_EQ(0, held_list(self->fd, NULL, 0));

	/* A synchronous reader held, then SIGKILLed. */
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		char b[64];

		pread(self->fd, b, sizeof(b), H_OFF);
		_exit(1);
	}
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	kill(child, SIGKILL);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, held_list(self->fd, NULL, 0));
	ASSERT_EQ(0, kaio_wait_dev_idle(self->fd, 0, WAIT_LONG_NS, &after));
	EXPECT_EQ(before.cancelled + 3, after.cancelled);
}

/* Bad input: unknown ids, twice, results out of range; nothing changes. */
TEST_F(hd, bad_releases_change_nothing)
{
	struct aiodev_release_list l = { 0 };
	struct aiodev_held_list hl = { .flags = 1 };
	struct aiodev_release rel[2] = { 0 };
	struct aiodev_held_wait w = { 0 };
	struct aiodev_event ev;
	struct aiodev_held h;
	struct aiodev_req q;
	int ro;

	ASSERT_LT(0, hold_rule(self->fd, 0, 0));
	req_nop(&q, 1);
	ASSERT_EQ(0, aio_submit1(self->fd, &q));
	ASSERT_EQ(1, held_wait(self->fd, 1, WAIT_LONG_NS));
	ASSERT_EQ(1, held_list(self->fd, &h, 1));
	rel[0].hold_id = h.hold_id;
	rel[1] = rel[0];
	/* Each bad field: -EINVAL, still held. */
	rel[1].kind = AIODEV_RELEASE_CANCEL + 1;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1].kind = AIODEV_RELEASE_ERROR;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));	/* errno 0 */
	rel[1].error = AIODEV_MAX_ERRNO + 1;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1] = rel[0];
	rel[1].bytes = 1;				/* planned: no bytes */
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1] = rel[0];
	rel[1].flags = 2;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1] = rel[0];
	rel[1].kind = AIODEV_RELEASE_CANCEL;
	rel[1].flags = AIODEV_RELEASE_PARK;		/* parked and cancelled */
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1] = rel[0];
	rel[1].__reserved = 1;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	rel[1] = rel[0];
	rel[1].kind = AIODEV_RELEASE_OK;
	rel[1].error = EIO;
	EXPECT_EQ(-EINVAL, release(self->fd, rel, 2));
	EXPECT_EQ(1, held_list(self->fd, NULL, 0));
	/* The list itself. */
	l.flags = 2;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RELEASE, &l));
	l.flags = AIODEV_RELEASE_ALL;
	l.nr = 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RELEASE, &l));
	l.flags = 0;
	l.nr = 0;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RELEASE, &l));
	l.nr = AIODEV_MAX_HELD + 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RELEASE, &l));
	l.nr = 1;
	l.releases = (__u64)(uintptr_t)unmapped_addr();
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_RELEASE, &l));
	w.min_nr = 0;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_HELD_WAIT, &w));
	w.min_nr = AIODEV_MAX_HELD + 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_HELD_WAIT, &w));
	w.min_nr = 1;
	w.flags = 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_HELD_WAIT, &w));
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_HELD_LIST, &hl));
	hl.flags = 0;
	hl.nr = 1;
	hl.held = (__u64)(uintptr_t)unmapped_addr();
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_HELD_LIST, &hl));
	/* Not open for writing: may look, not release. */
	ro = aio_open(0, O_RDONLY);
	ASSERT_LE(0, ro);
	EXPECT_EQ(-EBADF, release(ro, rel, 1));
	EXPECT_EQ(1, held_list(ro, NULL, 0));
	EXPECT_EQ(1, held_wait(ro, 1, 0));
	close(ro);
	EXPECT_EQ(1, held_list(self->fd, NULL, 0));

	/* Unknown id first: -ENOENT; then the good one, then twice. */
	rel[1] = rel[0];
	rel[0].hold_id = rel[1].hold_id + 1000;
	EXPECT_EQ(-ENOENT, release(self->fd, rel, 2));
	EXPECT_EQ(1, held_list(self->fd, NULL, 0));
	rel[0] = rel[1];
	EXPECT_EQ(1, release(self->fd, rel, 2));	/* stops at the second */
	EXPECT_EQ(-ENOENT, release(self->fd, rel, 1));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(0, ev.result);
}

/* Another device's hold ids are not this one's. */
TEST_F(hd, ids_of_another_device)
{
	struct aiodev_release rel = { 0 };
	struct aiodev_held h;
	struct aiodev_req q;
	struct aiodev_event ev;
	int fd1 = aio_open(1, O_RDWR);

	ASSERT_LE(0, fd1) TH_LOG("the runner loads nr_devices=2");
	ASSERT_LT(0, hold_rule(fd1, 0, 0));
	req_nop(&q, 1);
	ASSERT_EQ(0, aio_submit1(fd1, &q));
	ASSERT_EQ(1, held_wait(fd1, 1, WAIT_LONG_NS));
	ASSERT_EQ(1, held_list(fd1, &h, 1));
	rel.hold_id = h.hold_id;
	EXPECT_EQ(-ENOENT, release(self->fd, &rel, 1));
	EXPECT_EQ(0, held_list(self->fd, NULL, 0));
	EXPECT_EQ(1, release(fd1, &rel, 1));
	ASSERT_EQ(1, aio_reap(fd1, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(0, aio_reset_config(fd1));
	close(fd1);
}

/* Rules: a hold takes no latency and no refusal; a deadline needs hold. */
TEST_F(hd, bad_hold_rules)
{
	struct aiodev_rule r = { .hold_nsec = 1 };

	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	r = (struct aiodev_rule){ .flags = AIODEV_RULE_HOLD,
				  .hold_nsec = AIODEV_MAX_NSEC + 1 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	r = (struct aiodev_rule){ .flags = AIODEV_RULE_HOLD,
				  .latency_kind = AIODEV_LATENCY_FIXED };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	r = (struct aiodev_rule){ .flags = AIODEV_RULE_HOLD,
				  .result_kind = AIODEV_RESULT_REFUSE,
				  .error = EIO };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST,
			       &(struct aiodev_rule_list){ 0 }));
}

TEST_HARNESS_MAIN
