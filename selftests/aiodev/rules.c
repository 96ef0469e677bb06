// SPDX-License-Identifier: GPL-2.0
/*
 * Rules: every action on every path (ioctl, libaio, io_uring, read/write)
 * with the exact bytes each moves, every match condition and counter, the
 * seed replaying a run, distributions, and bad input changing nothing.
 */
#include "kaio_uring_util.h"
#include "kselftest_harness.h"

/* A region only this program writes. */
#define R_OFF		(46ULL << 20)
#define R_LEN		8192U
/* The request: unaligned, inside the region. */
#define IO_OFF		(R_OFF + 100)
#define IO_LEN		3000U

enum path { P_IOCTL, P_AIO, P_URING, P_SYNC, NR_PATHS };

static const char *const path_name[] = { "ioctl", "libaio", "io_uring", "sync" };

static void rule_init(struct aiodev_rule *r)
{
	memset(r, 0, sizeof(*r));
}

static int rule_add(int fd, struct aiodev_rule *r)
{
	int ret = aio_ioctl(fd, AIODEV_IOC_RULE_ADD, r);

	return ret ? ret : (int)r->id;
}

static int rule_list(int fd, struct aiodev_rule *out, __u32 nr)
{
	struct aiodev_rule_list l = { .rules = (__u64)(uintptr_t)out, .nr = nr };

	return aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l);
}

static int rule_clear(int fd)
{
	return aio_ioctl(fd, AIODEV_IOC_RULE_CLEAR, NULL);
}

FIXTURE(rl) {
	int fd;
	io_context_t aio;
	struct io_uring ring;
	unsigned char *buf, *store;
};

FIXTURE_SETUP(rl)
{
	self->fd = kaio_paths_setup(_metadata, &self->aio, &self->ring,
				    &self->buf, &self->store, R_LEN);
}

/* Delete distribution @name; 0 or -ENOENT are both fine at teardown. */
static int dist_del(int fd, const char *name)
{
	struct aiodev_dist d = { 0 };

	snprintf(d.name, sizeof(d.name), "%s", name);
	return aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
}

FIXTURE_TEARDOWN(rl)
{
	static const char *const dists[] = { "steps", "two", "ok", "fault" };
	char name[AIODEV_NAME_LEN];
	size_t i;

	/* The next test starts with no distribution. */
	EXPECT_EQ(0, rule_clear(self->fd));
	for (i = 0; i < ARRAY_SIZE(dists); i++)
		EXPECT_NE(-EBUSY, dist_del(self->fd, dists[i]));
	for (i = 1; i < AIODEV_MAX_DISTS; i++) {
		snprintf(name, sizeof(name), "d%zu", i);
		EXPECT_NE(-EBUSY, dist_del(self->fd, name));
	}
	kaio_paths_teardown(_metadata, self->fd, self->aio, &self->ring,
			    self->buf, self->store, R_LEN);
}

static int seed(int fd, __u64 s)
{
	struct aiodev_config c;
	int ret = aio_get_config(fd, &c);

	c.seed = s;
	return ret ? ret : aio_set_config(fd, &c);
}

/*
 * One request of @len bytes at @off on path @p: its result (bytes or a
 * negative errno), or the submission's error; -ETIME if nothing came.
 */
static long long path_io(struct _test_data_rl *self, enum path p, int op,
			 void *buf, __u32 len, __u64 off)
{
	bool rd = op == AIODEV_OP_READ;
	struct timespec ts = { .tv_sec = 5 };

	switch (p) {
	case P_IOCTL: {
		struct aiodev_req r;

		req_init(&r, op, op == AIODEV_OP_NOP ? NULL : buf,
			 op == AIODEV_OP_NOP ? 0 : off,
			 op == AIODEV_OP_NOP ? 0 : len, 1);
		return aio_sync(self->fd, &r, NULL);
	}
	case P_AIO: {
		struct iocb cb, *cbs[1] = { &cb };
		struct io_event ev;
		int ret;

		if (rd)
			io_prep_pread(&cb, self->fd, buf, len, off);
		else
			io_prep_pwrite(&cb, self->fd, buf, len, off);
		ret = io_submit(self->aio, 1, cbs);
		if (ret != 1)
			return ret < 0 ? ret : -EIO;
		ret = io_getevents(self->aio, 1, 1, &ev, &ts);
		if (ret != 1)
			return ret < 0 ? ret : -ETIME;
		return (long long)ev.res;
	}
	case P_URING: {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);
		struct __kernel_timespec kts = { .tv_sec = 5 };
		struct io_uring_cqe *cqe;
		int ret;

		if (!sqe)
			return -EBUSY;
		if (rd)
			io_uring_prep_read(sqe, self->fd, buf, len, off);
		else
			io_uring_prep_write(sqe, self->fd, buf, len, off);
		ret = io_uring_submit(&self->ring);
		if (ret != 1)
			return ret < 0 ? ret : -EIO;
		ret = io_uring_wait_cqe_timeout(&self->ring, &cqe, &kts);
		if (ret)
			return ret;
		ret = cqe->res;
		io_uring_cqe_seen(&self->ring, cqe);
		return ret;
	}
	default: {
		ssize_t n = rd ? pread(self->fd, buf, len, off) :
				 pwrite(self->fd, buf, len, off);

		return n < 0 ? -errno : n;
	}
	}
}

/* The region back to the pattern of @s (no rule may be in force). */
static int store_region(struct _test_data_rl *self, __u64 s)
{
	fill_pattern(self->store, R_LEN, s);
	return kaio_pwrite_all(self->fd, self->store, R_LEN, R_OFF);
}

/*
 * Each action, for a read and a write, on path @p: the result, and exactly
 * the first @moved bytes transferred, none past them.
 */
struct action_case {
	const char *name;
	__u16 result_kind;
	__s32 error;
	__u32 bytes;
	long long want;		/* the result */
	__u32 moved;		/* bytes that move */
};

static const struct action_case actions[] = {
	{ "error", AIODEV_RESULT_ERROR, EIO, 0, -EIO, 0 },
	{ "short", AIODEV_RESULT_SHORT, 0, 1000, 1000, 1000 },
	{ "short past the end", AIODEV_RESULT_SHORT, 0, 5000, IO_LEN, IO_LEN },
	{ "short 0", AIODEV_RESULT_SHORT, 0, 0, 0, 0 },
	{ "torn", AIODEV_RESULT_TORN, ENOSPC, 1500, -ENOSPC, 1500 },
	{ "timeout", AIODEV_RESULT_TIMEOUT, 0, 0, -ETIMEDOUT, 0 },
	{ "refuse", AIODEV_RESULT_REFUSE, EPERM, 0, -EPERM, 0 },
	{ "ok over the fault plan", AIODEV_RESULT_OK, 0, 0, IO_LEN, IO_LEN },
};

static void check_action(struct __test_metadata *_metadata,
			 struct _test_data_rl *self, enum path p, int op,
			 const struct action_case *a)
{
	bool rd = op == AIODEV_OP_READ;
	struct aiodev_counters before, after;
	struct aiodev_rule r;
	long long res;

	ASSERT_EQ(0, aio_reset_config(self->fd));
	ASSERT_EQ(0, store_region(self, 1));
	if (a->result_kind == AIODEV_RESULT_OK)
		ASSERT_EQ(0, kaio_set_fail_nth(self->fd, 1, EIO));
	rule_init(&r);
	r.ops = 1U << op;
	r.offset = R_OFF;
	r.range_len = R_LEN;
	r.result_kind = a->result_kind;
	r.error = a->error;
	r.bytes = a->bytes;
	ASSERT_LT(0, rule_add(self->fd, &r));

	if (rd)
		memset(self->buf, 0xaa, R_LEN);
	else
		fill_pattern(self->buf, R_LEN, 2);
	before = kaio_dev_stats(self->fd);
	res = path_io(self, p, op, self->buf, IO_LEN, IO_OFF);
	EXPECT_EQ(a->want, res) TH_LOG("%s %s, %s", path_name[p],
				       rd ? "read" : "write", a->name);
	after = kaio_dev_stats(self->fd);
	/* A refused request never existed. */
	EXPECT_EQ(a->result_kind == AIODEV_RESULT_REFUSE ? 0ULL : 1ULL,
		  after.submitted - before.submitted) TH_LOG("%s %s",
							     path_name[p], a->name);

	ASSERT_EQ(0, rule_clear(self->fd));
	ASSERT_EQ(0, aio_reset_config(self->fd));
	if (rd) {
		EXPECT_EQ(0, memcmp(self->buf, self->store + 100, a->moved))
			TH_LOG("%s read, %s: wrong bytes", path_name[p], a->name);
		EXPECT_EQ(-1L, find_not(self->buf + a->moved, R_LEN - a->moved,
					0xaa))
			TH_LOG("%s read, %s: bytes past %u moved", path_name[p],
			       a->name, a->moved);
	} else {
		unsigned char *back = kaio_buf(R_LEN, 0);

		ASSERT_NE(NULL, back);
		ASSERT_EQ(0, kaio_pread_all(self->fd, back, R_LEN, R_OFF));
		/* Before the request, the first moved bytes, then the old. */
		EXPECT_EQ(0, memcmp(back, self->store, 100));
		EXPECT_EQ(0, memcmp(back + 100, self->buf, a->moved))
			TH_LOG("%s write, %s: wrong bytes", path_name[p], a->name);
		EXPECT_EQ(0, memcmp(back + 100 + a->moved,
				    self->store + 100 + a->moved,
				    R_LEN - 100 - a->moved))
			TH_LOG("%s write, %s: bytes past %u moved", path_name[p],
			       a->name, a->moved);
		kaio_buf_free(back, R_LEN);
	}
}

TEST_F(rl, every_action_on_every_path)
{
	int p, op;
	size_t i;

	for (p = 0; p < NR_PATHS; p++)
		for (op = AIODEV_OP_READ; op <= AIODEV_OP_WRITE; op++)
			for (i = 0; i < ARRAY_SIZE(actions); i++)
				check_action(_metadata, self, p, op, &actions[i]);
}

/* A rule's latency replaces the device's, on every path. */
TEST_F(rl, latency_on_every_path)
{
	struct aiodev_rule r;
	int p;

	rule_init(&r);
	r.latency_kind = AIODEV_LATENCY_FIXED;
	r.latency_nsec = MSEC(150);
	r.ops = 1U << AIODEV_OP_READ;
	ASSERT_LT(0, rule_add(self->fd, &r));
	for (p = 0; p < NR_PATHS; p++) {
		__u64 t0 = now_ns();

		EXPECT_EQ(512, path_io(self, p, AIODEV_OP_READ, self->buf, 512,
				       R_OFF));
		EXPECT_LE(MSEC(150), now_ns() - t0) TH_LOG("%s", path_name[p]);
	}
	/* A write is not matched: the device's 10 us. */
	fill_pattern(self->buf, 512, 3);
	EXPECT_EQ(512, path_io(self, P_SYNC, AIODEV_OP_WRITE, self->buf, 512,
			       R_OFF));
}

/* A uniform range is honoured at both ends; the deadline still wins. */
TEST_F(rl, uniform_latency_and_deadline)
{
	struct aiodev_event ev[8];
	struct aiodev_req req[8];
	struct aiodev_rule r;
	int i;

	rule_init(&r);
	r.latency_kind = AIODEV_LATENCY_UNIFORM;
	r.latency_nsec = MSEC(100);
	r.latency_max_nsec = MSEC(200);
	ASSERT_LT(0, rule_add(self->fd, &r));
	for (i = 0; i < 8; i++)
		req_nop(&req[i], i);
	ASSERT_EQ(8, aio_submit(self->fd, req, 8));
	ASSERT_EQ(8, aio_reap(self->fd, ev, 8, WAIT_LONG_NS));
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0, ev[i].result);
		EXPECT_LE(MSEC(100), ev[i].complete_ns - ev[i].submit_ns);
	}
	/* A deadline before the rule's latency: -ETIMEDOUT at the deadline. */
	req_nop(&req[0], 9);
	req_timeout(&req[0], MSEC(20));
	EXPECT_EQ(-ETIMEDOUT, aio_sync(self->fd, &req[0], &ev[0]));
	EXPECT_GT(MSEC(100), ev[0].complete_ns - ev[0].submit_ns);
}

/* --timeout without a deadline fails at the latency, with one at it. */
TEST_F(rl, timeout_action_fires_at_the_deadline)
{
	struct aiodev_event ev = { 0 };
	struct aiodev_req req;
	struct aiodev_rule r;

	rule_init(&r);
	r.result_kind = AIODEV_RESULT_TIMEOUT;
	r.latency_kind = AIODEV_LATENCY_FIXED;
	r.latency_nsec = MSEC(10);
	ASSERT_LT(0, rule_add(self->fd, &r));
	req_nop(&req, 1);
	req_timeout(&req, MSEC(250));
	EXPECT_EQ(-ETIMEDOUT, aio_sync(self->fd, &req, &ev));
	/* Not at the 10 ms latency: a device that never answers. */
	EXPECT_LE(MSEC(250), ev.complete_ns - ev.submit_ns);
	req_nop(&req, 2);
	EXPECT_EQ(-ETIMEDOUT, aio_sync(self->fd, &req, &ev));
	EXPECT_LE(MSEC(10), ev.complete_ns - ev.submit_ns);
}

/* NOP results under each action: no bytes to shorten or tear. */
TEST_F(rl, nop_results)
{
	struct aiodev_rule r;

	rule_init(&r);
	r.result_kind = AIODEV_RESULT_SHORT;
	r.bytes = 10;
	ASSERT_LT(0, rule_add(self->fd, &r));
	EXPECT_EQ(0, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
	ASSERT_EQ(0, rule_clear(self->fd));
	/* The id the kernel wrote back must not go in again. */
	r.id = 0;
	r.result_kind = AIODEV_RESULT_TORN;
	r.error = EIO;
	ASSERT_LT(0, rule_add(self->fd, &r));
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
}

static void add_error_rule(struct __test_metadata *_metadata, int fd,
			   struct aiodev_rule *r)
{
	r->id = 0;
	r->result_kind = AIODEV_RESULT_ERROR;
	r->error = EIO;
	ASSERT_LT(0, rule_add(fd, r));
}

TEST_F(rl, match_op)
{
	struct aiodev_rule r;

	rule_init(&r);
	r.ops = 1U << AIODEV_OP_WRITE | 1U << AIODEV_OP_NOP;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(512, path_io(self, P_SYNC, AIODEV_OP_READ, self->buf, 512,
			       R_OFF));
	EXPECT_EQ(-EIO, path_io(self, P_SYNC, AIODEV_OP_WRITE, self->buf, 512,
				R_OFF));
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
}

TEST_F(rl, match_path)
{
	static const struct {
		__u32 paths;
		bool fails[NR_PATHS];	/* ioctl, libaio, io_uring, sync */
	} cases[] = {
		{ 1U << AIODEV_PATH_IOCTL, { true, false, false, false } },
		{ 1U << AIODEV_PATH_AIO, { false, true, true, false } },
		{ 1U << AIODEV_PATH_SYNC, { false, false, false, true } },
		{ 1U << AIODEV_PATH_IOCTL | 1U << AIODEV_PATH_SYNC,
		  { true, false, false, true } },
	};
	struct aiodev_rule r;
	size_t i;
	int p;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, rule_clear(self->fd));
		rule_init(&r);
		r.paths = cases[i].paths;
		add_error_rule(_metadata, self->fd, &r);
		for (p = 0; p < NR_PATHS; p++) {
			EXPECT_EQ(cases[i].fails[p] ? -EIO : 512,
				  path_io(self, p, AIODEV_OP_READ, self->buf, 512,
					  R_OFF))
				TH_LOG("paths %#x, %s", cases[i].paths,
				       path_name[p]);
		}
	}
}

TEST_F(rl, match_range)
{
	const __u64 at = R_OFF + 4096;
	struct aiodev_rule r;

	rule_init(&r);
	r.offset = at;
	r.range_len = 100;
	add_error_rule(_metadata, self->fd, &r);
	/* Ends right before the range, touches its first byte, its last. */
	EXPECT_EQ(100, path_io(self, P_IOCTL, AIODEV_OP_READ, self->buf, 100,
			       at - 100));
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_READ, self->buf, 101,
				at - 100));
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_READ, self->buf, 1,
				at + 99));
	EXPECT_EQ(50, path_io(self, P_IOCTL, AIODEV_OP_READ, self->buf, 50,
			      at + 100));
	/* A NOP touches no byte, not even of a range at the device's start. */
	EXPECT_EQ(0, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
	ASSERT_EQ(0, rule_clear(self->fd));
	rule_init(&r);
	r.range_len = 100;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_READ, self->buf, 1, 99));
	EXPECT_EQ(0, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
}

TEST_F(rl, match_len)
{
	struct aiodev_rule r;

	rule_init(&r);
	r.min_len = 512;
	r.max_len = 1024;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(511, path_io(self, P_AIO, AIODEV_OP_READ, self->buf, 511,
			       R_OFF));
	EXPECT_EQ(-EIO, path_io(self, P_AIO, AIODEV_OP_READ, self->buf, 512,
				R_OFF));
	EXPECT_EQ(-EIO, path_io(self, P_AIO, AIODEV_OP_READ, self->buf, 1024,
				R_OFF));
	EXPECT_EQ(1025, path_io(self, P_AIO, AIODEV_OP_READ, self->buf, 1025,
				R_OFF));
	/* No upper bound: at least 2000. */
	ASSERT_EQ(0, rule_clear(self->fd));
	rule_init(&r);
	r.min_len = 2000;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(1999, path_io(self, P_SYNC, AIODEV_OP_READ, self->buf, 1999,
				R_OFF));
	EXPECT_EQ(-EIO, path_io(self, P_SYNC, AIODEV_OP_READ, self->buf,
				R_LEN, R_OFF));
}

/* Only the given process's requests, whichever file they come through. */
TEST_F(rl, match_pid)
{
	int go[2], status;
	struct aiodev_rule r, got;
	pid_t child;
	char c = 0;

	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		int fd = aio_open(0, O_RDWR);
		char b[64];

		/* Wait for the rule, then read once: fails, exit 0. */
		if (fd < 0 || read(go[0], &c, 1) != 1)
			_exit(2);
		_exit(pread(fd, b, sizeof(b), R_OFF) < 0 && errno == EIO ? 0 : 1);
	}
	rule_init(&r);
	r.tgid = child;
	add_error_rule(_metadata, self->fd, &r);
	ASSERT_EQ(1, rule_list(self->fd, &got, 1));
	EXPECT_EQ(child, got.tgid);
	EXPECT_EQ(512, path_io(self, P_SYNC, AIODEV_OP_READ, self->buf, 512,
			       R_OFF));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the child's read was not failed by its rule");
	close(go[0]);
	close(go[1]);

	/* Gone: listed as 0; and no rule for a process that does not exist. */
	ASSERT_EQ(1, rule_list(self->fd, &got, 1));
	EXPECT_EQ(0, got.tgid);
	rule_init(&r);
	r.tgid = child;
	r.result_kind = AIODEV_RESULT_ERROR;
	r.error = EIO;
	EXPECT_EQ(-ESRCH, rule_add(self->fd, &r));
}

/* skip 2, every 3, count 2: of 12 matching requests the 5th and 8th. */
TEST_F(rl, skip_every_count)
{
	struct aiodev_rule r, got;
	char line[128];
	int i, fd;
	ssize_t n;

	rule_init(&r);
	r.skip = 2;
	r.every = 3;
	r.count = 2;
	add_error_rule(_metadata, self->fd, &r);
	for (i = 1; i <= 12; i++) {
		EXPECT_EQ(i == 5 || i == 8 ? -EIO : 0,
			  path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0))
			TH_LOG("request %d", i);
	}
	ASSERT_EQ(1, rule_list(self->fd, &got, 1));
	EXPECT_EQ(12ULL, got.matched);
	EXPECT_EQ(2ULL, got.applied);
	EXPECT_EQ(r.id, got.id);

	/* sysfs says the same: "id matched applied". */
	fd = open("/sys/class/misc/aiodev0/rules", O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, line, sizeof(line) - 1);
	close(fd);
	ASSERT_LT(0, n);
	line[n] = '\0';
	snprintf((char *)self->buf, 64, "%u 12 2\n", r.id);
	EXPECT_STREQ((char *)self->buf, line);
}

/* The first rule that applies decides; one whose count is spent passes on. */
TEST_F(rl, first_applying_rule_decides)
{
	struct aiodev_rule r, got[2];

	rule_init(&r);
	r.count = 1;
	r.result_kind = AIODEV_RESULT_ERROR;
	r.error = EIO;
	ASSERT_LT(0, rule_add(self->fd, &r));
	rule_init(&r);
	r.result_kind = AIODEV_RESULT_ERROR;
	r.error = ENODATA;
	ASSERT_LT(0, rule_add(self->fd, &r));
	EXPECT_EQ(-EIO, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
	EXPECT_EQ(-ENODATA, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
	EXPECT_EQ(-ENODATA, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));
	ASSERT_EQ(2, rule_list(self->fd, got, 2));
	EXPECT_EQ(3ULL, got[0].matched);
	EXPECT_EQ(1ULL, got[0].applied);
	/* Not consulted while the first applied. */
	EXPECT_EQ(2ULL, got[1].matched);
	EXPECT_EQ(2ULL, got[1].applied);
}

/* Fail @n NOPs' worth of requests through one batch; count the failures. */
static int count_failures(struct __test_metadata *_metadata, int fd, int n)
{
	struct aiodev_event ev[256];
	struct aiodev_req req[256];
	int i, failed = 0, done = 0;

	while (done < n) {
		int batch = n - done > 256 ? 256 : n - done;

		for (i = 0; i < batch; i++)
			req_nop(&req[i], done + i);
		EXPECT_EQ(batch, aio_submit(fd, req, batch));
		EXPECT_EQ(batch, aio_reap(fd, ev, batch, WAIT_LONG_NS));
		for (i = 0; i < batch; i++)
			failed += ev[i].result == -EIO;
		done += batch;
	}
	return failed;
}

TEST_F(rl, probability)
{
	struct aiodev_rule r;
	int failed;

	rule_init(&r);
	r.flags = AIODEV_RULE_PROB;
	r.prob_ppm = 0;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(0, count_failures(_metadata, self->fd, 500));

	ASSERT_EQ(0, rule_clear(self->fd));
	r.prob_ppm = AIODEV_PPM;
	add_error_rule(_metadata, self->fd, &r);
	EXPECT_EQ(500, count_failures(_metadata, self->fd, 500));

	/* 30 % of 2000: 600, sd 20.5; 6 sd either side. */
	ASSERT_EQ(0, rule_clear(self->fd));
	r.prob_ppm = 300000;
	add_error_rule(_metadata, self->fd, &r);
	failed = count_failures(_metadata, self->fd, 2000);
	EXPECT_LE(477, failed);
	EXPECT_GE(723, failed);
}

/*
 * What a seeded run decides for 40 NOPs: which fail (probability 1/2) and
 * which of four latencies 100 ms apart each drew, from the completion
 * times. A timer is never 100 ms late here, so the class is exact.
 */
#define REPLAY_N	40

static void replay_run(struct __test_metadata *_metadata, int fd, __u64 s,
		       char *out)
{
	static const struct aiodev_dist_bucket steps[] = {
		{ MSEC(10), MSEC(10), 1 }, { MSEC(110), MSEC(110), 1 },
		{ MSEC(210), MSEC(210), 1 }, { MSEC(310), MSEC(310), 1 },
	};
	struct aiodev_dist d = {
		.name = "steps",
		.buckets = (__u64)(uintptr_t)steps,
		.nr_buckets = ARRAY_SIZE(steps),
	};
	struct aiodev_event ev[REPLAY_N];
	struct aiodev_req req[REPLAY_N];
	struct aiodev_rule r;
	int i;

	ASSERT_EQ(0, rule_clear(fd));
	ASSERT_EQ(0, aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d));
	rule_init(&r);
	r.flags = AIODEV_RULE_PROB;
	r.prob_ppm = AIODEV_PPM / 2;
	r.latency_kind = AIODEV_LATENCY_DIST;
	strcpy(r.dist, "steps");
	add_error_rule(_metadata, fd, &r);
	/* No rule for the rest: their latency comes from the same stream. */
	ASSERT_EQ(0, seed(fd, s));
	for (i = 0; i < REPLAY_N; i++)
		req_nop(&req[i], i);
	ASSERT_EQ(REPLAY_N, aio_submit(fd, req, REPLAY_N));
	ASSERT_EQ(REPLAY_N, aio_reap(fd, ev, REPLAY_N, WAIT_LONG_NS));
	memset(out, '?', REPLAY_N);
	for (i = 0; i < REPLAY_N; i++) {
		__u64 lat = ev[i].complete_ns - ev[i].submit_ns;
		int k = (int)ev[i].user_data;

		ASSERT_GT(REPLAY_N, k);
		if (ev[i].result == -EIO)
			out[k] = 'a' + (lat - MSEC(10)) / MSEC(100);
		else
			out[k] = ev[i].result == 0 ? '.' : '!';
	}
	out[REPLAY_N] = '\0';
}

TEST_F(rl, seed_replays_a_run)
{
	char a[REPLAY_N + 1], b[REPLAY_N + 1], c[REPLAY_N + 1];
	struct aiodev_config cfg;

	replay_run(_metadata, self->fd, 42, a);
	replay_run(_metadata, self->fd, 42, b);
	replay_run(_metadata, self->fd, 43, c);
	TH_LOG("seed 42: %s, again: %s, seed 43: %s", a, b, c);
	EXPECT_STREQ(a, b);
	EXPECT_STRNE(a, c);
	EXPECT_EQ(NULL, strchr(a, '!'));
	/* The seed shows in the configuration. */
	ASSERT_EQ(0, aio_get_config(self->fd, &cfg));
	EXPECT_EQ(43ULL, cfg.seed);
}

/* Jitter draws from the same seeded stream: same seed, same latencies. */
static void jitter_run(struct __test_metadata *_metadata, int fd, __u64 s,
		       __u64 *lat)
{
	struct aiodev_event ev[16];
	struct aiodev_req req[16];
	struct aiodev_config c;
	int i;

	config_default(&c);
	c.latency_nsec = 0;
	c.jitter_nsec = MSEC(500);
	c.seed = s;
	ASSERT_EQ(0, aio_set_config(fd, &c));
	for (i = 0; i < 16; i++)
		req_nop(&req[i], i);
	ASSERT_EQ(16, aio_submit(fd, req, 16));
	ASSERT_EQ(16, aio_reap(fd, ev, 16, WAIT_LONG_NS));
	for (i = 0; i < 16; i++)
		lat[ev[i].user_data] = ev[i].complete_ns - ev[i].submit_ns;
}

TEST_F(rl, seed_replays_jitter)
{
	__u64 a[16], b[16], c[16];
	int i, differ = 0;

	jitter_run(_metadata, self->fd, 7, a);
	jitter_run(_metadata, self->fd, 7, b);
	jitter_run(_metadata, self->fd, 8, c);
	for (i = 0; i < 16; i++) {
		__u64 d = a[i] > b[i] ? a[i] - b[i] : b[i] - a[i];

		/* Timer lateness only: far below the 500 ms spread. */
		EXPECT_GT(MSEC(60), d) TH_LOG("request %d: %llu vs %llu ns", i,
					      (unsigned long long)a[i],
					      (unsigned long long)b[i]);
		differ += (a[i] > c[i] ? a[i] - c[i] : c[i] - a[i]) > MSEC(60);
	}
	EXPECT_LT(0, differ);
}

/* A distribution: its samples lie in its buckets, weights respected. */
TEST_F(rl, distribution_samples)
{
	static const struct aiodev_dist_bucket b[] = {
		{ MSEC(20), MSEC(30), 9 },	/* 90 % */
		{ MSEC(300), MSEC(300), 1 },	/* 10 % */
	};
	struct aiodev_dist d = {
		.name = "two",
		.buckets = (__u64)(uintptr_t)b,
		.nr_buckets = ARRAY_SIZE(b),
	};
	struct aiodev_event ev[100];
	struct aiodev_req req[100];
	struct aiodev_rule r;
	int i, slow = 0;

	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	rule_init(&r);
	r.latency_kind = AIODEV_LATENCY_DIST;
	strcpy(r.dist, "two");
	ASSERT_LT(0, rule_add(self->fd, &r));
	for (i = 0; i < 100; i++)
		req_nop(&req[i], i);
	ASSERT_EQ(100, aio_submit(self->fd, req, 100));
	ASSERT_EQ(100, aio_reap(self->fd, ev, 100, WAIT_LONG_NS));
	for (i = 0; i < 100; i++) {
		__u64 lat = ev[i].complete_ns - ev[i].submit_ns;

		EXPECT_LE(MSEC(20), lat);
		slow += lat >= MSEC(300);
	}
	/* Binomial(100, 0.1): 1..30 is beyond 6 sd on either side... */
	EXPECT_LE(1, slow);
	EXPECT_GE(30, slow);

	/* In use: cannot go; replaced: the rule samples the new one. */
	d.nr_buckets = 0;
	EXPECT_EQ(-EBUSY, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.nr_buckets = 1;
	d.buckets = (__u64)(uintptr_t)&b[1];
	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	req_nop(&req[0], 1);
	EXPECT_EQ(0, aio_sync(self->fd, &req[0], &ev[0]));
	EXPECT_LE(MSEC(300), ev[0].complete_ns - ev[0].submit_ns);
	ASSERT_EQ(0, rule_clear(self->fd));
	d.nr_buckets = 0;
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	EXPECT_EQ(-ENOENT, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
}

/* SUBMIT stops at a refused request: the count so far, or its errno. */
TEST_F(rl, refusal_ends_a_batch)
{
	struct aiodev_event ev[8];
	struct aiodev_req req[5];
	struct aiodev_rule r;
	int i;

	rule_init(&r);
	r.skip = 2;
	r.count = 1;
	r.result_kind = AIODEV_RESULT_REFUSE;
	r.error = EAGAIN;
	ASSERT_LT(0, rule_add(self->fd, &r));
	for (i = 0; i < 5; i++) {
		req_nop(&req[i], i);
		req[i].id = 0;
	}
	EXPECT_EQ(2, aio_submit(self->fd, req, 5));
	/* No id went back for the refused one. */
	EXPECT_EQ(0ULL, req[2].id);
	EXPECT_EQ(3, aio_submit(self->fd, req + 2, 3));
	EXPECT_EQ(5, aio_reap(self->fd, ev, 5, WAIT_LONG_NS));

	/* Refused first: the errno. */
	ASSERT_EQ(0, rule_clear(self->fd));
	r.skip = 0;
	r.id = 0;
	ASSERT_LT(0, rule_add(self->fd, &r));
	EXPECT_EQ(-EAGAIN, aio_submit(self->fd, req, 5));
	EXPECT_EQ(5, aio_submit(self->fd, req, 5));
	EXPECT_EQ(5, aio_reap(self->fd, ev, 5, WAIT_LONG_NS));
}

/*
 * io_uring: a read or write refused with EAGAIN on its NOWAIT attempt is
 * retried by io_uring once the file polls ready (nowait_refused), with
 * the same iterator, and the retry, no longer matched (count 1), goes
 * through.
 */
static void uring_retry(struct __test_metadata *_metadata,
			struct _test_data_rl *self, int op)
{
	struct aiodev_rule r, got;

	rule_init(&r);
	r.count = 1;
	r.paths = 1U << AIODEV_PATH_AIO;
	r.result_kind = AIODEV_RESULT_REFUSE;
	r.error = EAGAIN;
	ASSERT_LT(0, rule_add(self->fd, &r));
	fill_pattern(self->buf, 512, 5);
	EXPECT_EQ(512, path_io(self, P_URING, op, self->buf, 512, R_OFF));
	ASSERT_EQ(1, rule_list(self->fd, &got, 1));
	EXPECT_EQ(1ULL, got.applied);
	EXPECT_LE(2ULL, got.matched);
}

TEST_F(rl, uring_retries_a_refused_nowait_write)
{
	uring_retry(_metadata, self, AIODEV_OP_WRITE);
}

TEST_F(rl, uring_retries_a_refused_nowait_read)
{
	uring_retry(_metadata, self, AIODEV_OP_READ);
}

/* RULE_LOAD replaces every rule at once; ids are consecutive. */
TEST_F(rl, load_replaces_all)
{
	struct aiodev_rule rules[3], got[4];
	struct aiodev_rule_list l = {
		.rules = (__u64)(uintptr_t)rules,
		.nr = 3,
	};
	int first, i;

	rule_init(&rules[0]);
	add_error_rule(_metadata, self->fd, &rules[0]);
	for (i = 0; i < 3; i++) {
		rule_init(&rules[i]);
		rules[i].ops = 1U << AIODEV_OP_READ;
		rules[i].result_kind = AIODEV_RESULT_SHORT;
		rules[i].bytes = 100 + i;
	}
	first = aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l);
	ASSERT_LT(0, first);
	ASSERT_EQ(3, rule_list(self->fd, got, 4));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ((__u32)first + i, got[i].id);
		EXPECT_EQ(100U + i, got[i].bytes);
	}
	EXPECT_EQ(100, path_io(self, P_SYNC, AIODEV_OP_READ, self->buf, 512,
			       R_OFF));
	/* The old error rule is gone. */
	EXPECT_EQ(0, path_io(self, P_IOCTL, AIODEV_OP_NOP, NULL, 0, 0));

	/* One bad rule: nothing changes. */
	rules[2].error = EIO;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l));
	EXPECT_EQ(3, rule_list(self->fd, got, 4));
	EXPECT_EQ((__u32)first, got[0].id);
	l.nr = 0;
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l));
	EXPECT_EQ(0, rule_list(self->fd, NULL, 0));
}

/*
 * The @i-th bad rule: sets @r, @what and the errno it must get; false past
 * the last.
 */
static bool bad_rule(int i, struct aiodev_rule *r, const char **what,
		     int *err)
{
	int n = 0;

#define BAD(w, e, body) do {					\
		if (i == n++) {					\
			*what = w;				\
			*err = e;				\
			body;					\
			return true;				\
		}						\
	} while (0)
	BAD("id", -EINVAL, r->id = 1);
	BAD("flags", -EINVAL, r->flags = 4);
	BAD("ops", -EINVAL, r->ops = 8);
	BAD("paths", -EINVAL, r->paths = 8);
	BAD("offset without range", -EINVAL, r->offset = 1);
	BAD("range past the end", -EINVAL,
	    (r->offset = DEF_SIZE_BYTES - 10, r->range_len = 11));
	BAD("range offset past the end", -EINVAL,
	    (r->offset = DEF_SIZE_BYTES + 1, r->range_len = 1));
	BAD("min over max", -EINVAL, (r->min_len = 10, r->max_len = 9));
	BAD("tgid", -EINVAL, r->tgid = -1);
	BAD("prob without flag", -EINVAL, r->prob_ppm = 1);
	BAD("prob over 1", -EINVAL,
	    (r->flags = AIODEV_RULE_PROB, r->prob_ppm = AIODEV_PPM + 1));
	BAD("matched", -EINVAL, r->matched = 1);
	BAD("applied", -EINVAL, r->applied = 1);
	BAD("pad", -EINVAL, r->__pad = 1);
	BAD("reserved", -EINVAL, r->__reserved[2] = 1);
	BAD("hold deadline without hold", -EINVAL, r->hold_nsec = 1);
	BAD("latency kind", -EINVAL, r->latency_kind = 4);
	BAD("latency without kind", -EINVAL, r->latency_nsec = 1);
	BAD("fixed too long", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_FIXED,
	     r->latency_nsec = AIODEV_MAX_NSEC + 1));
	BAD("fixed with max", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_FIXED, r->latency_max_nsec = 1));
	BAD("uniform upside down", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_UNIFORM, r->latency_nsec = 2,
	     r->latency_max_nsec = 1));
	BAD("uniform too long", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_UNIFORM,
	     r->latency_max_nsec = AIODEV_MAX_NSEC + 1));
	BAD("dist name without kind", -EINVAL, strcpy(r->dist, "x"));
	BAD("dist unknown", -ENOENT,
	    (r->latency_kind = AIODEV_LATENCY_DIST, strcpy(r->dist, "nosuch")));
	BAD("dist empty name", -EINVAL, r->latency_kind = AIODEV_LATENCY_DIST);
	BAD("dist bad name", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_DIST, strcpy(r->dist, "a b")));
	BAD("dist Latin-1 name", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_DIST, strcpy(r->dist, "f\xe9")));
	BAD("dist unterminated", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_DIST,
	     memset(r->dist, 'a', sizeof(r->dist))));
	BAD("dist junk after NUL", -EINVAL,
	    (r->latency_kind = AIODEV_LATENCY_DIST, strcpy(r->dist, "x"),
	     r->dist[5] = 'y'));
	BAD("result kind", -EINVAL, r->result_kind = 7);
	BAD("error without kind", -EINVAL, r->error = EIO);
	BAD("bytes without kind", -EINVAL, r->bytes = 1);
	BAD("error 0", -EINVAL, r->result_kind = AIODEV_RESULT_ERROR);
	BAD("error 512", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_ERROR, r->error = 512));
	BAD("error negative", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_ERROR, r->error = -5));
	BAD("refuse 0", -EINVAL, r->result_kind = AIODEV_RESULT_REFUSE);
	BAD("refuse with bytes", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_REFUSE, r->error = EIO,
	     r->bytes = 1));
	BAD("torn 0", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_TORN, r->bytes = 1));
	BAD("short with error", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_SHORT, r->error = EIO));
	BAD("timeout with error", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_TIMEOUT, r->error = EIO));
	BAD("ok with bytes", -EINVAL,
	    (r->result_kind = AIODEV_RESULT_OK, r->bytes = 1));
#undef BAD
	return false;
}

/* Every bad field: its errno, and no rule added. */
TEST_F(rl, bad_rules_change_nothing)
{
	const char *what;
	int i, err;
	struct aiodev_rule r;
	int ro;

	for (i = 0;; i++) {
		rule_init(&r);
		if (!bad_rule(i, &r, &what, &err))
			break;
		EXPECT_EQ(err, rule_add(self->fd, &r)) TH_LOG("%s", what);
	}
	EXPECT_LE(41, i);
	EXPECT_EQ(0, rule_list(self->fd, NULL, 0));

	/* A file not open for writing may list, not change. */
	ro = aio_open(0, O_RDONLY);
	ASSERT_LE(0, ro);
	rule_init(&r);
	EXPECT_EQ(-EBADF, rule_add(ro, &r));
	EXPECT_EQ(-EBADF, rule_clear(ro));
	EXPECT_EQ(0, rule_list(ro, NULL, 0));
	close(ro);
}

TEST_F(rl, limits_and_unknown_ids)
{
	struct aiodev_rule_list l = { .flags = 1 };
	struct aiodev_rule r;
	__u32 id;
	int i, first = 0;

	for (i = 0; i < AIODEV_MAX_RULES; i++) {
		rule_init(&r);
		ASSERT_LT(0, rule_add(self->fd, &r));
		if (!i)
			first = r.id;
	}
	rule_init(&r);
	EXPECT_EQ(-ENOSPC, rule_add(self->fd, &r));
	EXPECT_EQ(AIODEV_MAX_RULES, rule_list(self->fd, NULL, 0));
	id = first;
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_DEL, &id));
	EXPECT_EQ(-ENOENT, aio_ioctl(self->fd, AIODEV_IOC_RULE_DEL, &id));
	id = 0;
	EXPECT_EQ(-ENOENT, aio_ioctl(self->fd, AIODEV_IOC_RULE_DEL, &id));
	EXPECT_EQ(AIODEV_MAX_RULES - 1, rule_list(self->fd, NULL, 0));
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_RULE_DEL, NULL));
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	l.flags = 0;
	l.nr = AIODEV_MAX_RULES + 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l));
	/* A list into a bad pointer: -EFAULT. */
	l.nr = 2;
	l.rules = (__u64)(uintptr_t)unmapped_addr();
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l));
	EXPECT_EQ(AIODEV_MAX_RULES - 1, rule_list(self->fd, NULL, 0));
}

TEST_F(rl, bad_distributions)
{
	struct aiodev_dist_bucket b[AIODEV_MAX_DIST_BUCKETS + 1] = {
		{ 1, 2, 1 },
	};
	struct aiodev_dist d = {
		.name = "ok",
		.buckets = (__u64)(uintptr_t)b,
		.nr_buckets = 1,
	};
	int i;

	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.flags = 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.flags = 0;
	d.__reserved[1] = 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.__reserved[1] = 0;
	d.nr_buckets = AIODEV_MAX_DIST_BUCKETS + 1;
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.nr_buckets = 1;
	b[0] = (struct aiodev_dist_bucket){ 3, 2, 1 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	b[0] = (struct aiodev_dist_bucket){ 1, AIODEV_MAX_NSEC + 1, 1 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	b[0] = (struct aiodev_dist_bucket){ 1, 2, 0 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	b[0] = (struct aiodev_dist_bucket){ 1, 2, 1ULL << 32 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	b[0] = (struct aiodev_dist_bucket){ 1, 2, 1 };
	strcpy(d.name, "bad/name");
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	/* Latin-1 letters are letters to the kernel's isalnum(), not here. */
	memset(d.name, 0, sizeof(d.name));
	strcpy(d.name, "f\xe9" "1");
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	memset(d.name, 0, sizeof(d.name));
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.buckets = (__u64)(uintptr_t)unmapped_addr();
	strcpy(d.name, "fault");
	EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	d.buckets = (__u64)(uintptr_t)b;

	/* "ok" is there; 15 more fill the device, the 17th does not fit. */
	for (i = 1; i < AIODEV_MAX_DISTS; i++) {
		memset(d.name, 0, sizeof(d.name));
		snprintf(d.name, sizeof(d.name), "d%d", i);
		EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	}
	memset(d.name, 0, sizeof(d.name));
	strcpy(d.name, "one-more");
	EXPECT_EQ(-ENOSPC, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
}

TEST_HARNESS_MAIN
