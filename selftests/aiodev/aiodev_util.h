/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the aiodev selftests. Thin ioctl wrappers return the
 * ioctl's value or -errno so tests can compare errnos directly.
 *
 * The device and its configuration are shared by every test (the runner
 * loads the module once with nr_devices=2), so fixtures reset the config
 * to the module defaults before and after each test.
 */
#ifndef AIODEV_UTIL_H
#define AIODEV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/aiodev.h>

#ifndef AIODEV_UTIL_NO_HARNESS
/*
 * kselftest_harness.h is written for the kselftest -Wall build: under
 * -Wextra its TEST()/TEST_F() expansions trip -Wunused-parameter (unused
 * variant/ucontext) and -Wclobbered (its setjmp around inlined test
 * bodies). Silence just those two for the rest of each test file.
 *
 * Loop and if bodies holding an EXPECT_*()/ASSERT_*() keep their braces even
 * for one statement: each expands to two (the check, then a for loop that
 * runs the optional TH_LOG), and only braces keep both in the body.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wclobbered"

/*
 * Every user of this header is a kselftest_harness program: the fixture
 * helpers below take the harness's _metadata and check with its
 * ASSERT_*()/EXPECT_*() (an ASSERT in a helper ends the test as in the
 * caller, by longjmp), so the harness comes in here, after the pragmas.
 */
#include "kselftest_harness.h"
#else
/*
 * The files of a program built from a directory (aiodev/NAME/) other than
 * its main.c define AIODEV_UTIL_NO_HARNESS before including this header:
 * the harness goes into one file of a program only, as it defines
 * functions and objects of its own (__run_test(), __wait_for_test(),
 * __active_test) and registers the tests of the file it is in. Such a
 * file gets the harness's ARRAY_SIZE() and none of the helpers below that
 * take its _metadata.
 */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(arr)	(sizeof(arr) / sizeof((arr)[0]))
#endif
#endif /* AIODEV_UTIL_NO_HARNESS */

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL
#define MSEC(x)		((__u64)(x) * NSEC_PER_MSEC)

/* Module parameter defaults (the runner only changes nr_devices). */
#define DEF_LATENCY_NSEC	10000ULL
#define DEF_SIZE_BYTES		(64ULL << 20)
#define DEF_QUEUE_DEPTH		1024U

/* Generous bound for "this must have happened by now" waits under TCG. */
#define WAIT_LONG_NS	((__s64)(5 * NSEC_PER_SEC))

/*
 * No test ever writes this range of either device, so reads of it must
 * return zeros however many tests ran before.
 */
#define ZERO_REGION_OFF	(56ULL << 20)
#define ZERO_REGION_LEN	(4ULL << 20)

#define PAGE_SZ		4096UL

/* ABI layout as documented: identical on 32 and 64-bit userspace. */
_Static_assert(sizeof(struct aiodev_req) == 64, "aiodev_req size");
_Static_assert(sizeof(struct aiodev_submit) == 16, "aiodev_submit size");
_Static_assert(sizeof(struct aiodev_event) == 48, "aiodev_event size");
_Static_assert(sizeof(struct aiodev_getevents) == 32, "getevents size");
_Static_assert(sizeof(struct aiodev_cancel) == 16, "aiodev_cancel size");
_Static_assert(sizeof(struct aiodev_config) == 88, "aiodev_config size");
_Static_assert(sizeof(struct aiodev_info) == 72, "aiodev_info size");
_Static_assert(sizeof(struct aiodev_stats) == 128, "aiodev_stats size");
_Static_assert(sizeof(struct aiodev_rule) == 168, "aiodev_rule size");
_Static_assert(sizeof(struct aiodev_rule_list) == 16, "rule_list size");
_Static_assert(sizeof(struct aiodev_dist_bucket) == 24, "dist_bucket size");
_Static_assert(sizeof(struct aiodev_dist) == 48, "aiodev_dist size");

static inline __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static inline void sleep_ns(__u64 ns)
{
	struct timespec ts = {
		.tv_sec = ns / NSEC_PER_SEC,
		.tv_nsec = ns % NSEC_PER_SEC,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Busy-wait: nanosleep overshoots far too much under TCG for races. */
static inline void spin_until(__u64 t)
{
	while (now_ns() < t)
		;
}

/*
 * task_blocked_in: whether thread @tid of this process is asleep inside
 * system call @nr, from /proc: the real state, where a test would
 * otherwise sleep for "long enough" and hope.
 */
static inline bool task_blocked_in(pid_t tid, long nr)
{
	char path[64], buf[512], *p;
	long cur = -1;
	FILE *f;
	bool asleep;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	/* "pid (comm) S ...": the name may hold anything, even ") ". */
	asleep = p && (p[2] == 'S' || p[2] == 'D');
	if (!asleep)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fscanf(f, "%ld", &cur) != 1)
		cur = -1;
	fclose(f);
	return cur == nr;
}

/* wait_blocked_in: task_blocked_in() within @ns; false at the timeout. */
static inline bool wait_blocked_in(pid_t tid, long nr, __u64 ns)
{
	__u64 deadline = now_ns() + ns;

	while (!task_blocked_in(tid, nr)) {
		if (now_ns() > deadline)
			return false;
		sleep_ns(MSEC(1));
	}
	return true;
}

static inline void on_signal(int sig)
{
	(void)sig;
}

/*
 * Catch @sig with an empty handler, so that it only interrupts: with
 * @flags 0 a blocking call ends with -EINTR, with SA_RESTART it restarts.
 */
static inline int catch_signal(int sig, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

/* One SIGALRM after @ns (0 disarms). */
static inline void alarm_ns(__u64 ns)
{
	struct itimerval it = {
		.it_value = {
			.tv_sec = ns / NSEC_PER_SEC,
			.tv_usec = (ns % NSEC_PER_SEC) / NSEC_PER_USEC,
		},
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

static inline int aio_open(int idx, int flags)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/aiodev%d", idx);
	return open(path, flags | O_CLOEXEC);
}

static inline int aio_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

static inline void req_init(struct aiodev_req *r, __u16 op, const void *buf,
			    __u64 offset, __u32 len, __u64 user_data)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->buf = (__u64)(uintptr_t)buf;
	r->offset = offset;
	r->len = len;
	r->user_data = user_data;
}

static inline void req_nop(struct aiodev_req *r, __u64 user_data)
{
	req_init(r, AIODEV_OP_NOP, NULL, 0, 0, user_data);
}

static inline void req_latency(struct aiodev_req *r, __u64 ns)
{
	r->flags |= AIODEV_REQ_LATENCY;
	r->latency_nsec = ns;
}

static inline void req_timeout(struct aiodev_req *r, __u64 ns)
{
	r->flags |= AIODEV_REQ_TIMEOUT;
	r->timeout_nsec = ns;
}

static inline void req_eventfd(struct aiodev_req *r, int efd)
{
	r->flags |= AIODEV_REQ_EVENTFD;
	r->eventfd = efd;
}

static inline int aio_submit_flags(int fd, struct aiodev_req *reqs, __u32 nr,
				   __u32 flags)
{
	struct aiodev_submit s = {
		.reqs = (__u64)(uintptr_t)reqs,
		.nr = nr,
		.flags = flags,
	};

	return aio_ioctl(fd, AIODEV_IOC_SUBMIT, &s);
}

static inline int aio_submit(int fd, struct aiodev_req *reqs, __u32 nr)
{
	return aio_submit_flags(fd, reqs, nr, 0);
}

/* 0 when accepted, else -errno. */
static inline int aio_submit1(int fd, struct aiodev_req *r)
{
	int ret = aio_submit(fd, r, 1);

	return ret == 1 ? 0 : (ret == 0 ? -EPROTO : ret);
}

static inline int aio_getevents(int fd, struct aiodev_event *ev, __u32 min_nr,
				__u32 max_nr, __s64 timeout_ns)
{
	struct aiodev_getevents g = {
		.events = (__u64)(uintptr_t)ev,
		.min_nr = min_nr,
		.max_nr = max_nr,
		.timeout_nsec = timeout_ns,
	};

	return aio_ioctl(fd, AIODEV_IOC_GETEVENTS, &g);
}

/*
 * Reap exactly @nr events, or as many as arrive within @timeout_ns overall.
 * Returns the count reaped or -errno.
 */
static inline int aio_reap(int fd, struct aiodev_event *ev, int nr,
			   __s64 timeout_ns)
{
	__u64 deadline = now_ns() + timeout_ns;
	int got = 0;

	while (got < nr) {
		__u64 now = now_ns();
		int ret;

		if (now >= deadline)
			break;
		ret = aio_getevents(fd, ev + got, nr - got, nr - got,
				    deadline - now);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return ret;
		got += ret;
	}
	return got;
}

static inline int aio_cancel(int fd, __u64 id)
{
	struct aiodev_cancel c = { .id = id };

	return aio_ioctl(fd, AIODEV_IOC_CANCEL, &c);
}

/*
 * A thread that frees a slot later: after @delay ns it reaps one event of
 * @fd (waiting up to WAIT_LONG_NS), GETEVENTS' answer in @ret.
 */
struct delayed_reap {
	int fd;
	__u64 delay;
	int ret;
};

static inline void *delayed_reap_thread(void *arg)
{
	struct delayed_reap *d = arg;
	struct aiodev_event ev;

	sleep_ns(d->delay);
	d->ret = aio_getevents(d->fd, &ev, 1, 1, WAIT_LONG_NS);
	return NULL;
}

#ifndef AIODEV_UTIL_NO_HARNESS
/*
 * Submit @r on @fd, CANCEL it @delay ns after the submission began (spun,
 * to race its timer closely) and reap its one event into @ev. Returns
 * CANCEL's answer: 0 if it won, else the timer did.
 */
static inline int submit_cancel_after(struct __test_metadata *_metadata,
				      int fd, struct aiodev_req *r, __u64 delay,
				      struct aiodev_event *ev)
{
	__u64 t0 = now_ns();
	int ret;

	ASSERT_EQ(0, aio_submit1(fd, r));
	spin_until(t0 + delay);
	ret = aio_cancel(fd, r->id);
	ASSERT_EQ(1, aio_reap(fd, ev, 1, WAIT_LONG_NS));
	return ret;
}
#endif

static inline int aio_get_info(int fd, struct aiodev_info *info)
{
	return aio_ioctl(fd, AIODEV_IOC_GET_INFO, info);
}

static inline int aio_get_config(int fd, struct aiodev_config *cfg)
{
	return aio_ioctl(fd, AIODEV_IOC_GET_CONFIG, cfg);
}

static inline int aio_set_config(int fd, struct aiodev_config *cfg)
{
	return aio_ioctl(fd, AIODEV_IOC_SET_CONFIG, cfg);
}

static inline int aio_get_stats(int fd, struct aiodev_stats *st)
{
	return aio_ioctl(fd, AIODEV_IOC_GET_STATS, st);
}

/*
 * wait_completed: until nothing submitted through @fd is in flight, i.e.
 * every event is posted (or the request's fate otherwise settled); 0,
 * or -1 after WAIT_LONG_NS.
 */
static inline int wait_completed(int fd)
{
	__u64 deadline = now_ns() + WAIT_LONG_NS;
	struct aiodev_stats st;

	do {
		if (aio_get_stats(fd, &st))
			return -1;
		if (!st.context.in_flight)
			return 0;
		sleep_ns(MSEC(1));
	} while (now_ns() < deadline);
	return -1;
}

static inline void config_default(struct aiodev_config *c)
{
	memset(c, 0, sizeof(*c));
	c->latency_nsec = DEF_LATENCY_NSEC;
}

/*
 * Submit one request and wait up to WAIT_LONG_NS for its event. Returns the
 * event's result, the submit's -errno, or -ETIME when no event came.
 */
static inline long long aio_sync(int fd, struct aiodev_req *r,
				 struct aiodev_event *out)
{
	struct aiodev_event ev;
	int ret = aio_submit1(fd, r);

	if (ret)
		return ret;
	ret = aio_reap(fd, &ev, 1, WAIT_LONG_NS);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return -ETIME;
	if (out)
		*out = ev;
	return ev.result;
}

/* Put a device back to the module defaults and no rules, through any writable fd. */
static inline int aio_reset_config(int fd)
{
	struct aiodev_config c;
	int ret = aio_ioctl(fd, AIODEV_IOC_RULE_CLEAR, NULL);

	config_default(&c);
	return ret ? ret : aio_set_config(fd, &c);
}

#ifndef AIODEV_UTIL_NO_HARNESS
/*
 * The start of nearly every fixture: device @idx opened read-write and put
 * back to the module defaults, its GET_INFO in *@info unless that is NULL.
 * Returns the fd; a failure ASSERTs, which ends the setup.
 */
static inline int fixture_open(struct __test_metadata *_metadata, int idx,
			       struct aiodev_info *info)
{
	int fd = aio_open(idx, O_RDWR);

	ASSERT_LE(0, fd) TH_LOG("open /dev/aiodev%d: %s", idx, strerror(errno));
	ASSERT_EQ(0, aio_reset_config(fd));
	if (info) {
		ASSERT_EQ(0, aio_get_info(fd, info));
	}
	return fd;
}

/* The end of such a fixture: defaults again for the next test, fd closed. */
static inline void fixture_close(struct __test_metadata *_metadata, int fd)
{
	EXPECT_EQ(0, aio_reset_config(fd));
	close(fd);
}
#endif

/* Read-modify-write of the device config, as the header asks. */
static inline int aio_set_latency(int fd, __u64 latency, __u64 jitter,
				  __u64 timeout)
{
	struct aiodev_config c;
	int ret = aio_get_config(fd, &c);

	if (ret)
		return ret;
	c.latency_nsec = latency;
	c.jitter_nsec = jitter;
	c.timeout_nsec = timeout;
	return aio_set_config(fd, &c);
}

static inline __u64 counters_sum(const struct aiodev_counters *c)
{
	return c->completed_ok + c->timed_out + c->cancelled + c->failed +
	       c->in_flight;
}

/* sysfs: /sys/class/misc/aiodevN/[stats/]attr */
static inline int sysfs_path(char *buf, size_t sz, int idx, const char *attr)
{
	return snprintf(buf, sz, "/sys/class/misc/aiodev%d/%s", idx, attr);
}

/*
 * The number in a sysfs attribute, into *@sval (strtoll) or, when @sval is
 * NULL, into *@uval (strtoull): each keeps its own range check. 0 or -errno.
 */
static inline int sysfs_read_num(int idx, const char *attr, long long *sval,
				 __u64 *uval)
{
	char path[128], buf[64];
	ssize_t n;
	int fd;

	sysfs_path(path, sizeof(path), idx, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENODATA;
	buf[n] = 0;
	errno = 0;
	if (sval)
		*sval = strtoll(buf, NULL, 0);
	else
		*uval = strtoull(buf, NULL, 0);
	return errno ? -errno : 0;
}

static inline int sysfs_read_s64(int idx, const char *attr, long long *val)
{
	return sysfs_read_num(idx, attr, val, NULL);
}

static inline int sysfs_read_u64(int idx, const char *attr, __u64 *val)
{
	return sysfs_read_num(idx, attr, NULL, val);
}

static inline int sysfs_write(int idx, const char *attr, const char *val)
{
	char path[128];
	ssize_t n;
	int fd, ret = 0;

	sysfs_path(path, sizeof(path), idx, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	else if ((size_t)n != strlen(val))
		ret = -EIO;
	close(fd);
	return ret;
}

/* mmap'd so tests can place buffers against guard pages. */
static inline void *map_pages(size_t npages, int prot)
{
	void *p = mmap(NULL, npages * PAGE_SZ, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * An address no access can succeed on: a PROT_NONE page kept mapped for the
 * life of the process, so later mmaps cannot land on it by chance.
 */
static inline void *unmapped_addr(void)
{
	static void *guard;

	if (!guard) {
		guard = mmap(NULL, PAGE_SZ, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (guard == MAP_FAILED)
			guard = NULL;
	}
	return guard;
}

/*
 * @npages accessible pages followed by one PROT_NONE page: the last bytes
 * before the hole are the place for "straddles the end" pointers.
 */
static inline char *map_with_hole(size_t npages)
{
	char *p = mmap(NULL, (npages + 1) * PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + npages * PAGE_SZ, PAGE_SZ, PROT_NONE)) {
		munmap(p, (npages + 1) * PAGE_SZ);
		return NULL;
	}
	return p;
}

/* xorshift64*: reproducible pseudo-random data and offsets. */
static inline __u64 rnd_next(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline void fill_pattern(void *buf, size_t len, __u64 seed)
{
	unsigned char *p = buf;
	__u64 s = seed | 1, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i & 7))
			v = rnd_next(&s);
		p[i] = v >> ((i & 7) * 8);
	}
}

/* Index of the first byte that differs from @c, or -1. */
static inline long find_not(const void *buf, size_t len, unsigned char c)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return i;
	return -1;
}

#endif /* AIODEV_UTIL_H */
