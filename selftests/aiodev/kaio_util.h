/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the kaio_* selftests: the kernel I/O paths of aiodev, i.e.
 * read()/write() and friends, libaio and io_uring, which all reach the
 * module through read_iter/write_iter and take the device's configuration
 * (latency, jitter, timeout, fault plan) instead of per-request settings.
 *
 * Builds on aiodev_util.h (ioctl wrappers, config, stats, sysfs, patterns).
 *
 * Device layout used by these tests (device 0, 64 MiB): data tests write
 * below KAIO_DATA_END only, so ZERO_REGION_OFF.. stays zero for the ioctl
 * tests, and the tail of the device is used for end-of-device cases.
 */
#ifndef KAIO_UTIL_H
#define KAIO_UTIL_H

#include <poll.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "aiodev_util.h"

/* Random-offset data tests stay in [0, KAIO_DATA_END). */
#define KAIO_DATA_END		(48ULL << 20)

/* Comfortably longer than any test: only a cancel or a close ends it. */
#define KAIO_PARKED_NS		(30 * NSEC_PER_SEC)

/* Latencies: short ones that still order reliably, long ones to observe. */
#define KAIO_FAST_NS		MSEC(5)
#define KAIO_SLOW_NS		MSEC(400)

/* The context (per open file) counters of @fd, or zeros on failure. */
static inline struct aiodev_counters kaio_ctx_stats(int fd)
{
	struct aiodev_stats st;

	if (aio_get_stats(fd, &st))
		memset(&st, 0, sizeof(st));
	return st.context;
}

static inline struct aiodev_counters kaio_dev_stats(int fd)
{
	struct aiodev_stats st;

	if (aio_get_stats(fd, &st))
		memset(&st, 0, sizeof(st));
	return st.device;
}

/*
 * Wait (polling) until the device's in_flight is at most @want, up to
 * @timeout_ns. Returns 0 or -ETIME; @out gets the last counters read.
 */
static inline int kaio_wait_dev_idle(int fd, __u64 want, __u64 timeout_ns,
				     struct aiodev_counters *out)
{
	__u64 deadline = now_ns() + timeout_ns;

	for (;;) {
		*out = kaio_dev_stats(fd);
		if (out->in_flight <= want)
			return 0;
		if (now_ns() >= deadline)
			return -ETIME;
		sleep_ns(MSEC(5));
	}
}

/* Same for the context of @fd. */
static inline int kaio_wait_ctx_idle(int fd, __u64 timeout_ns,
				     struct aiodev_counters *out)
{
	__u64 deadline = now_ns() + timeout_ns;

	for (;;) {
		*out = kaio_ctx_stats(fd);
		if (!out->in_flight)
			return 0;
		if (now_ns() >= deadline)
			return -ETIME;
		sleep_ns(MSEC(5));
	}
}

/* Fault plan: every @nth request fails with @nth_errno (0: off). */
static inline int kaio_set_fail_nth(int fd, __u32 nth, int nth_errno)
{
	struct aiodev_config c;
	int ret = aio_get_config(fd, &c);

	if (ret)
		return ret;
	c.fail_every_nth = nth;
	c.fail_nth_errno = nth ? nth_errno : 0;
	return aio_set_config(fd, &c);
}

/* Fault plan: requests touching [@off, @off + @len) fail with @err. */
static inline int kaio_set_fail_range(int fd, __u64 off, __u64 len, int err)
{
	struct aiodev_config c;
	int ret = aio_get_config(fd, &c);

	if (ret)
		return ret;
	c.fail_offset = len ? off : 0;
	c.fail_len = len;
	c.fail_range_errno = len ? err : 0;
	return aio_set_config(fd, &c);
}

/*
 * Synchronous helpers to set up and check the store. They go through the
 * same engine (device latency applies), so callers set a short latency.
 * Return bytes transferred or -errno.
 */
static inline ssize_t kaio_pwrite(int fd, const void *buf, size_t len,
				  __u64 off)
{
	ssize_t n = pwrite(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

static inline ssize_t kaio_pread(int fd, void *buf, size_t len, __u64 off)
{
	ssize_t n = pread(fd, buf, len, off);

	return n < 0 ? -errno : n;
}

/*
 * Write/read all of [@off, @off + @len) in requests of at most
 * AIODEV_MAX_IO_BYTES (a longer one is short). 0 or -errno (-EIO: short).
 */
static inline int kaio_pwrite_all(int fd, const void *buf, size_t len,
				  __u64 off)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < AIODEV_MAX_IO_BYTES ?
			       len - done : AIODEV_MAX_IO_BYTES;
		ssize_t n = kaio_pwrite(fd, (const char *)buf + done, chunk,
					off + done);

		if (n != (ssize_t)chunk)
			return n < 0 ? (int)n : -EIO;
		done += chunk;
	}
	return 0;
}

static inline int kaio_pread_all(int fd, void *buf, size_t len, __u64 off)
{
	size_t done = 0;

	while (done < len) {
		size_t chunk = len - done < AIODEV_MAX_IO_BYTES ?
			       len - done : AIODEV_MAX_IO_BYTES;
		ssize_t n = kaio_pread(fd, (char *)buf + done, chunk,
				       off + done);

		if (n != (ssize_t)chunk)
			return n < 0 ? (int)n : -EIO;
		done += chunk;
	}
	return 0;
}

/* Write @len bytes of pattern @seed at @off through a fresh buffer. */
static inline int kaio_store_pattern(int fd, __u64 off, size_t len,
				     __u64 seed)
{
	void *p = malloc(len);
	int ret;

	if (!p)
		return -ENOMEM;
	fill_pattern(p, len, seed);
	ret = kaio_pwrite_all(fd, p, len, off);
	free(p);
	return ret;
}

/*
 * Does the store hold pattern @seed at [@off, @off + @len)? 1 yes, 0 no,
 * -errno if it cannot be read.
 */
static inline int kaio_store_has(int fd, __u64 off, size_t len, __u64 seed)
{
	unsigned char *want = malloc(len), *got = malloc(len);
	int ret;

	if (!want || !got) {
		free(want);
		free(got);
		return -ENOMEM;
	}
	fill_pattern(want, len, seed);
	ret = kaio_pread_all(fd, got, len, off);
	if (!ret)
		ret = !memcmp(want, got, len);
	free(want);
	free(got);
	return ret;
}

/* A page-aligned buffer of @len bytes (rounded up), filled with @c. */
static inline unsigned char *kaio_buf(size_t len, int c)
{
	size_t n = (len + PAGE_SZ - 1) / PAGE_SZ;
	unsigned char *p = map_pages(n ? n : 1, PROT_READ | PROT_WRITE);

	if (p)
		memset(p, c, n * PAGE_SZ);
	return p;
}

static inline void kaio_buf_free(void *p, size_t len)
{
	size_t n = (len + PAGE_SZ - 1) / PAGE_SZ;

	if (p)
		munmap(p, (n ? n : 1) * PAGE_SZ);
}

/* Seed from the clock unless KAIO_SEED is set, so failures reproduce. */
static inline __u64 kaio_seed(void)
{
	const char *s = getenv("KAIO_SEED");

	return s ? strtoull(s, NULL, 0) : (now_ns() ^ ((__u64)getpid() << 32));
}

/*
 * @n non-overlapping extents in [0, KAIO_DATA_END): extent i lies in slot i
 * (KAIO_DATA_END / @n bytes), at a random offset, 1 to @maxlen bytes long.
 */
static inline void kaio_random_extents(__u64 *seed, int n, __u32 maxlen,
				       __u64 *off, __u32 *len)
{
	__u64 slot = KAIO_DATA_END / n;
	int i;

	for (i = 0; i < n; i++) {
		__u32 l = 1 + rnd_next(seed) % maxlen;

		if (l > slot)
			l = slot;
		len[i] = l;
		off[i] = i * slot + rnd_next(seed) % (slot - l + 1);
	}
}

#endif /* KAIO_UTIL_H */
