// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring against aiodev the way io_uring's own test programs drive a
 * file, all at once for AIODEV_URING_STRESS_SECONDS (default 20):
 *
 *  - shared SQPOLL: four rings attached to one SQPOLL thread, each reading
 *    the same 64 blocks into the same 64 buffers (read, readv and
 *    read_fixed), so several requests in flight pin and fill one page;
 *    every buffer is checked against the block it was read from;
 *  - a ring used only through a duplicate of its fd, with a registered
 *    buffer at an odd offset: write_fixed and read_fixed of odd lengths
 *    that cross page boundaries, read back and compared with a shadow;
 *  - teardown in flight: children that set up a ring (plain, SQPOLL,
 *    DEFER_TASKRUN, duplicated fd), submit 64 reads and then exit, close
 *    everything, execve() or get SIGKILLed while they are in flight;
 *  - 32 KiB readv into an unaligned buffer as 1 or 16 iovecs, inline or
 *    through io-wq, buffered and O_DIRECT, the iovecs cleared right after
 *    the submit, while another thread makes syscalls nonstop.
 *
 * Each request completes from aiodev's hrtimer and tasklet 10-30 us later,
 * so timer interrupts and completions land all over the submitters' slab
 * allocations. This is the workload that crashed the kernel in issue 11;
 * the cause was the emulator (see emulator.c), and this test
 * is what would notice it, or a real bug of that class, again.
 */
#define _GNU_SOURCE
#include <liburing.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define BLK		4096U
#define NBUF		64
#define NRINGS		4
/* Device regions (inside the data area of kaio_util.h). */
#define SHARED_OFF	(40ULL << 20)		/* NBUF blocks */
#define ODD_OFF		(44ULL << 20)		/* ODD_SLOTS slots */
#define ODD_SLOTS	32
#define ODD_SLOT	(16U << 10)
#define TEAR_OFF	(46ULL << 20)
#define ODD_BUF_LEN	(96U << 10)
#define ODD_BUF_SHIFT	123			/* registered buffer offset */

#define NR_WORKERS	4

/* What each worker did, in memory shared with the parent. */
struct counts {
	atomic_ullong rounds[NR_WORKERS];
	atomic_ullong requests[NR_WORKERS];
	atomic_ullong mismatches;
	atomic_ullong errors;
	char what[256];		/* the first error, for the log */
};

static struct counts *counts;

static void fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&counts->errors, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(counts->what, sizeof(counts->what), fmt, ap);
		va_end(ap);
	}
}

/* Record the error and leave the worker. */
#define bail(...)			\
	do {				\
		fail(__VA_ARGS__);	\
		return;			\
	} while (0)

static int env_seconds(void)
{
	const char *s = getenv("AIODEV_URING_STRESS_SECONDS");
	long v = s && *s ? strtol(s, NULL, 0) : 20;

	return v < 1 ? 1 : v > 3600 ? 3600 : (int)v;
}

static __u64 block_seed(__u64 off, __u64 gen)
{
	return off * 0x9e3779b97f4a7c15ULL ^ gen;
}

/*
 * Hand @n new SQEs to the kernel. With SQPOLL, io_uring_submit() returns
 * how many of them the SQ thread had not yet consumed when it looked, 0 to
 * @n (liburing's __io_uring_flush_sq()); their CQEs prove the submission.
 */
static bool submit_n(struct io_uring *ring, int n)
{
	int ret = io_uring_submit(ring);

	if (ring->flags & IORING_SETUP_SQPOLL)
		return ret >= 0 && ret <= n;
	return ret == n;
}

/* Wait for @n CQEs on @ring; each must carry @want. Returns how many came. */
static int reap(struct io_uring *ring, int n, int want, const char *who)
{
	int got = 0;

	while (got < n) {
		struct __kernel_timespec ts = { .tv_sec = 10 };
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe_timeout(ring, &cqe, &ts);

		if (ret == -EINTR)
			continue;
		if (ret) {
			fail("%s: waiting for CQE %d of %d: %s", who, got + 1, n,
			     strerror(-ret));
			return got;
		}
		if (cqe->res != want)
			fail("%s: CQE %llu: res %d, expected %d", who,
			     (unsigned long long)cqe->user_data, cqe->res, want);
		io_uring_cqe_seen(ring, cqe);
		got++;
	}
	return got;
}

/* ---- shared SQPOLL, shared buffers ------------------------------------ */

static void shared_sqpoll(__u64 t_end)
{
	struct io_uring rings[NRINGS];
	struct iovec iov[NBUF];
	unsigned char *bufs, *want;
	int fd, wfd, r, i, ret;
	__u64 gen = 0;

	bufs = map_pages(NBUF, PROT_READ | PROT_WRITE);
	want = malloc(NBUF * BLK);
	if (!bufs || !want)
		bail("shared: no memory");
	for (i = 0; i < NBUF; i++)
		iov[i] = (struct iovec){ bufs + i * BLK, BLK };
	fd = aio_open(0, O_RDONLY | O_DIRECT);
	wfd = aio_open(0, O_WRONLY);
	if (fd < 0 || wfd < 0)
		bail("shared: open: %s", strerror(errno));

	for (r = 0; r < NRINGS; r++) {
		struct io_uring_params p = {
			.flags = IORING_SETUP_SQPOLL,
			.sq_thread_idle = 50,
		};

		if (r) {
			p.flags |= IORING_SETUP_ATTACH_WQ;
			p.wq_fd = rings[0].ring_fd;
		}
		ret = io_uring_queue_init_params(NBUF, &rings[r], &p);
		if (ret)
			bail("shared: ring %d: %s", r, strerror(-ret));
		/* Every ring registers the same pages. */
		ret = io_uring_register_buffers(&rings[r], iov, NBUF);
		if (ret)
			bail("shared: register buffers: %s", strerror(-ret));
	}

	while (now_ns() < t_end) {
		/* New contents for the blocks, through the sync write path. */
		for (i = 0; i < NBUF; i++) {
			__u64 off = SHARED_OFF + i * BLK;

			fill_pattern(want + i * BLK, BLK, block_seed(off, gen));
			if (pwrite(wfd, want + i * BLK, BLK, off) != BLK)
				bail("shared: pwrite: %s", strerror(errno));
		}
		memset(bufs, 0xa5, NBUF * BLK);
		for (r = 0; r < NRINGS; r++) {
			for (i = 0; i < NBUF; i++) {
				struct io_uring_sqe *sqe = io_uring_get_sqe(&rings[r]);
				__u64 off = SHARED_OFF + i * BLK;

				switch ((gen + r + i) % 3) {
				case 0:
					io_uring_prep_read(sqe, fd, iov[i].iov_base,
							   BLK, off);
					break;
				case 1:
					io_uring_prep_readv(sqe, fd, &iov[i], 1, off);
					break;
				default:
					io_uring_prep_read_fixed(sqe, fd,
								 iov[i].iov_base,
								 BLK, off, i);
				}
				sqe->user_data = i;
			}
			if (!submit_n(&rings[r], NBUF))
				bail("shared: submit of %d failed", NBUF);
		}
		for (r = 0; r < NRINGS; r++)
			if (reap(&rings[r], NBUF, BLK, "shared") != NBUF)
				return;
		/* All four rings read block i into buffer i. */
		for (i = 0; i < NBUF; i++) {
			if (memcmp(bufs + i * BLK, want + i * BLK, BLK)) {
				atomic_fetch_add(&counts->mismatches, 1);
				fail("shared: buffer %d does not hold block %d", i, i);
			}
		}
		atomic_fetch_add(&counts->rounds[0], 1);
		atomic_fetch_add(&counts->requests[0], NRINGS * NBUF);
		gen++;
	}
	for (r = 0; r < NRINGS; r++)
		io_uring_queue_exit(&rings[r]);
	close(fd);
	close(wfd);
}

/* ---- a duplicated ring fd, a registered buffer at an odd offset ------- */

static void dup_fd_fixed(__u64 t_end)
{
	static unsigned char shadow[ODD_SLOTS * ODD_SLOT];
	unsigned int len[ODD_SLOTS], at[ODD_SLOTS];
	struct io_uring_params p = {
		.flags = IORING_SETUP_SQPOLL,
		.sq_thread_idle = 50,
	};
	struct io_uring ring;
	unsigned char *map, *buf;
	__u64 seed = 0x5eed ^ getpid();
	struct iovec iov;
	int fd, dfd, i, ret;

	map = map_pages(ODD_BUF_LEN / PAGE_SZ + 1, PROT_READ | PROT_WRITE);
	fd = aio_open(0, O_RDWR);
	if (!map || fd < 0)
		bail("dup: setup: %s", strerror(errno));
	buf = map + ODD_BUF_SHIFT;
	iov = (struct iovec){ buf, ODD_BUF_LEN };
	ret = io_uring_queue_init_params(2 * ODD_SLOTS, &ring, &p);
	if (ret)
		bail("dup: ring: %s", strerror(-ret));
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (ret)
		bail("dup: register buffers: %s", strerror(-ret));
	/* From here on the ring is reached only through the duplicate. */
	dfd = dup(ring.ring_fd);
	if (dfd < 0)
		bail("dup: dup: %s", strerror(errno));
	close(ring.ring_fd);
	ring.ring_fd = dfd;
	ring.enter_ring_fd = dfd;

	while (now_ns() < t_end) {
		/* Odd lengths at odd places of the buffer, one per slot. */
		for (i = 0; i < ODD_SLOTS; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			__u64 off = ODD_OFF + (__u64)i * ODD_SLOT;

			len[i] = 1 + rnd_next(&seed) % ODD_SLOT;
			at[i] = rnd_next(&seed) % (ODD_BUF_LEN / 2 - ODD_SLOT);
			fill_pattern(buf + at[i], len[i], rnd_next(&seed));
			io_uring_prep_write_fixed(sqe, fd, buf + at[i], len[i],
						  off, 0);
			sqe->user_data = i;
		}
		/*
		 * Sources overlap, and a write takes its data at completion:
		 * what each one writes is what its range holds once all are
		 * filled.
		 */
		for (i = 0; i < ODD_SLOTS; i++)
			memcpy(shadow + i * ODD_SLOT, buf + at[i], len[i]);
		/* Each write gets its own CQE res; check them one by one. */
		if (!submit_n(&ring, ODD_SLOTS))
			bail("dup: submit of %d writes failed", ODD_SLOTS);
		for (i = 0; i < ODD_SLOTS; i++) {
			struct __kernel_timespec ts = { .tv_sec = 10 };
			struct io_uring_cqe *cqe;

			ret = io_uring_wait_cqe_timeout(&ring, &cqe, &ts);
			if (ret)
				bail("dup: write CQE: %s", strerror(-ret));
			if (cqe->res != (int)len[cqe->user_data])
				fail("dup: write %llu: res %d, expected %u",
				     (unsigned long long)cqe->user_data, cqe->res,
				     len[cqe->user_data]);
			io_uring_cqe_seen(&ring, cqe);
		}
		/* Read back into the other half of the registered buffer. */
		memset(buf + ODD_BUF_LEN / 2, 0x5a, ODD_BUF_LEN / 2);
		for (i = 0; i < ODD_SLOTS; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

			at[i] = ODD_BUF_LEN / 2 +
				rnd_next(&seed) % (ODD_BUF_LEN / 2 - ODD_SLOT);
			io_uring_prep_read_fixed(sqe, fd, buf + at[i], len[i],
						 ODD_OFF + (__u64)i * ODD_SLOT, 0);
			sqe->user_data = i;
			if (!submit_n(&ring, 1))
				bail("dup: submit read failed");
			/* Reads land in overlapping places: one at a time. */
			if (reap(&ring, 1, len[i], "dup read") != 1)
				return;
			if (memcmp(buf + at[i], shadow + i * ODD_SLOT, len[i])) {
				atomic_fetch_add(&counts->mismatches, 1);
				fail("dup: slot %d (%u bytes at buffer offset %u) differs",
				     i, len[i], at[i]);
			}
		}
		atomic_fetch_add(&counts->rounds[1], 1);
		atomic_fetch_add(&counts->requests[1], 2 * ODD_SLOTS);
	}
	io_uring_queue_exit(&ring);
	close(fd);
}

/* ---- split readv, io-wq, and a thread making syscalls ----------------- */

#define SPLIT_LEN	(32U << 10)
#define SPLIT_OFF	(47ULL << 20)

static atomic_bool split_stop;

/* Like io_uring's submit-reuse test: syscalls and timer wakeups nonstop. */
static void *fadvise_loop(void *arg)
{
	int fd = *(int *)arg;

	while (!atomic_load(&split_stop)) {
		posix_fadvise(fd, 0, SPLIT_LEN, POSIX_FADV_DONTNEED);
		usleep(10);
	}
	return NULL;
}

static void split_readv(__u64 t_end)
{
	/* Unaligned static buffers: 9 and 24 pages' worth of bio_vecs. */
	static char dst[2][SPLIT_LEN] __attribute__((aligned(32)));
	struct io_uring ring;
	unsigned char *want;
	pthread_t thread;
	int fd[2], wfd, i, ret;
	unsigned int n = 0;

	want = malloc(SPLIT_LEN);
	fd[0] = aio_open(0, O_RDONLY);
	fd[1] = aio_open(0, O_RDONLY | O_DIRECT);
	wfd = aio_open(0, O_WRONLY);
	if (!want || fd[0] < 0 || fd[1] < 0 || wfd < 0)
		bail("split: setup: %s", strerror(errno));
	fill_pattern(want, SPLIT_LEN, SPLIT_OFF);
	if (pwrite(wfd, want, SPLIT_LEN, SPLIT_OFF) != SPLIT_LEN)
		bail("split: pwrite: %s", strerror(errno));
	ret = io_uring_queue_init(32, &ring, 0);
	if (ret)
		bail("split: ring: %s", strerror(-ret));
	if (pthread_create(&thread, NULL, fadvise_loop, &fd[0]))
		bail("split: pthread_create");

	while (now_ns() < t_end) {
		bool split = n & 1, async = n & 2;

		for (i = 0; i < 2; i++) {
			struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
			struct iovec iov[16];
			int k, nr = split ? 16 : 1;

			for (k = 0; k < nr; k++) {
				iov[k].iov_base = dst[i] + k * (SPLIT_LEN / nr);
				iov[k].iov_len = SPLIT_LEN / nr;
			}
			memset(dst[i], 0x3c, SPLIT_LEN);
			io_uring_prep_readv(sqe, fd[i], iov, nr, SPLIT_OFF);
			if (async)
				sqe->flags |= IOSQE_ASYNC;
			sqe->user_data = i;
			ret = io_uring_submit(&ring);
			if (ret != 1)
				bail("split: submit: %d", ret);
			/* The kernel has its own copy of the iovecs now. */
			for (k = 0; k < nr; k++)
				iov[k].iov_base = NULL;
		}
		if (reap(&ring, 2, SPLIT_LEN, "split") != 2)
			break;
		for (i = 0; i < 2; i++) {
			if (memcmp(dst[i], want, SPLIT_LEN)) {
				atomic_fetch_add(&counts->mismatches, 1);
				fail("split: read %d (%s%s) differs", i,
				     split ? "16 iovecs" : "1 iovec",
				     async ? ", io-wq" : "");
			}
		}
		atomic_fetch_add(&counts->rounds[3], 1);
		atomic_fetch_add(&counts->requests[3], 2);
		n++;
	}
	atomic_store(&split_stop, true);
	pthread_join(thread, NULL);
	io_uring_queue_exit(&ring);
	close(fd[0]);
	close(fd[1]);
	close(wfd);
}

/* ---- teardown with requests in flight --------------------------------- */

enum { END_EXIT, END_CLOSE, END_KILL, END_EXEC, NR_ENDS };

static const char *const end_names[NR_ENDS] = {
	"exit", "close", "SIGKILL", "execve",
};

/* A child: a ring of some @kind, 64 reads in flight, then @end. */
static void tear_child(int kind, int end, int ready)
{
	struct io_uring_params p = { 0 };
	struct io_uring ring;
	unsigned char *buf;
	int fd, i, ret;

	if (kind == 1) {
		p.flags = IORING_SETUP_SQPOLL;
		p.sq_thread_idle = 20;
	} else if (kind == 2) {
		p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	}
	buf = map_pages(NBUF, PROT_READ | PROT_WRITE);
	fd = aio_open(0, O_RDONLY | O_DIRECT);
	if (!buf || fd < 0)
		_exit(10);
	ret = io_uring_queue_init_params(NBUF, &ring, &p);
	if (ret == -EINVAL && kind == 2)	/* no DEFER_TASKRUN here */
		ret = io_uring_queue_init(NBUF, &ring, 0);
	if (ret)
		_exit(11);
	if (kind == 3) {
		int dfd = dup(ring.ring_fd);

		if (dfd < 0)
			_exit(12);
		close(ring.ring_fd);
		ring.ring_fd = dfd;
		ring.enter_ring_fd = dfd;
	}
	for (i = 0; i < NBUF; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

		io_uring_prep_read(sqe, fd, buf + i * BLK, BLK,
				   TEAR_OFF + i * BLK);
	}
	if (!submit_n(&ring, NBUF))
		_exit(13);
	if (write(ready, "r", 1) != 1)
		_exit(14);
	switch (end) {
	case END_CLOSE:
		close(fd);
		io_uring_queue_exit(&ring);
		break;
	case END_KILL:
		for (;;)
			pause();
	case END_EXEC: {
		/* The old mm goes away with the pages of reads in flight. */
		char *argv[] = { "/bin/true", NULL };

		execv(argv[0], argv);
		_exit(15);
	}
	}
	_exit(0);
}

static void teardown_in_flight(__u64 t_end)
{
	unsigned int n = 0;

	while (now_ns() < t_end) {
		int kind = n % 4, end = (n / 4) % NR_ENDS, st, pfd[2];
		pid_t pid;
		char c;

		if (pipe(pfd))
			bail("teardown: pipe: %s", strerror(errno));
		pid = fork();
		if (pid < 0)
			bail("teardown: fork: %s", strerror(errno));
		if (!pid) {
			close(pfd[0]);
			tear_child(kind, end, pfd[1]);
		}
		close(pfd[1]);
		if (read(pfd[0], &c, 1) == 1 && end == END_KILL)
			kill(pid, SIGKILL);
		close(pfd[0]);
		if (waitpid(pid, &st, 0) != pid)
			bail("teardown: waitpid: %s", strerror(errno));
		if (end == END_KILL ? !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL :
				      !WIFEXITED(st) || WEXITSTATUS(st)) {
			fail("teardown: child (ring kind %d, %s) ended with status %#x",
			     kind, end_names[end], st);
			return;
		}
		atomic_fetch_add(&counts->rounds[2], 1);
		atomic_fetch_add(&counts->requests[2], NBUF);
		n++;
	}
}

/* ---- the test ---------------------------------------------------------- */

FIXTURE(ur) {
	int fd;
};

FIXTURE_SETUP(ur)
{
	self->fd = fixture_open(_metadata, 0, NULL);
	/* 10-30 us: every completion comes from a timer interrupt. */
	ASSERT_EQ(0, aio_set_latency(self->fd, 10000, 20000, 0));
}

FIXTURE_TEARDOWN(ur)
{
	fixture_close(_metadata, self->fd);
}

TEST_F_TIMEOUT(ur, stress, 3700)
{
	static const char *const names[NR_WORKERS] = {
		"shared SQPOLL", "dup fd + fixed", "teardown", "split readv",
	};
	void (*const workers[NR_WORKERS])(__u64) = {
		shared_sqpoll, dup_fd_fixed, teardown_in_flight, split_readv,
	};
	int seconds = env_seconds(), i, st;
	struct aiodev_counters idle;
	__u64 t_end;
	pid_t pid[NR_WORKERS];

	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, counts);
	t_end = now_ns() + seconds * NSEC_PER_SEC;
	for (i = 0; i < NR_WORKERS; i++) {
		pid[i] = fork();
		ASSERT_LE(0, pid[i]);
		if (!pid[i]) {
			workers[i](t_end);
			_exit(0);
		}
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
			TH_LOG("worker %s ended with status %#x", names[i], st);
	}
	/* Every reader, writer and torn-down ring is done with the device. */
	EXPECT_EQ(0, kaio_wait_dev_idle(self->fd, 0, 10 * NSEC_PER_SEC, &idle))
		TH_LOG("%llu requests still in flight",
		       (unsigned long long)idle.in_flight);

	for (i = 0; i < NR_WORKERS; i++) {
		printf("# uring_stress: %s: %llu rounds, %llu requests\n",
		       names[i], (unsigned long long)counts->rounds[i],
		       (unsigned long long)counts->requests[i]);
		EXPECT_LT(0ULL, (unsigned long long)counts->rounds[i])
			TH_LOG("worker %s never completed a round", names[i]);
	}
	printf("# uring_stress: %d s, %llu mismatches, %llu errors\n", seconds,
	       (unsigned long long)counts->mismatches,
	       (unsigned long long)counts->errors);
	/* In the summary line's format, so that CI output shows it. */
	if (counts->errors)
		printf("# uring_stress: first error: %s\n", counts->what);
	EXPECT_EQ(0ULL, (unsigned long long)counts->errors)
		TH_LOG("first error: %s", counts->what);
	EXPECT_EQ(0ULL, (unsigned long long)counts->mismatches);
}

TEST_HARNESS_MAIN
