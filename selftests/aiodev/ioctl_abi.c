// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev ioctl ABI: GET_INFO, every malformed input to every ioctl, and the
 * device configuration (ioctl and sysfs). Every refused call must leave
 * the device exactly as it was: no request accepted, config unchanged.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <termios.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

/* A kernel address: never valid as a user pointer. */
#define KERNEL_PTR	0xffff888000000000ULL

FIXTURE(abi) {
	int fd;
	struct aiodev_info info;
};

FIXTURE_SETUP(abi)
{
	self->fd = fixture_open(_metadata, 0, &self->info);
}

FIXTURE_TEARDOWN(abi)
{
	fixture_close(_metadata, self->fd);
}

struct snapshot {
	struct aiodev_stats st;
	struct aiodev_config cfg;
};

static void take_snapshot(struct __test_metadata *_metadata, int fd,
			  struct snapshot *s)
{
	ASSERT_EQ(0, aio_get_stats(fd, &s->st));
	ASSERT_EQ(0, aio_get_config(fd, &s->cfg));
}

/* Nothing was accepted and the config did not move since @before. */
static void check_unchanged(struct __test_metadata *_metadata, int fd,
			    const struct snapshot *before, int line)
{
	struct snapshot now;

	take_snapshot(_metadata, fd, &now);
	EXPECT_EQ(before->st.device.submitted, now.st.device.submitted)
		TH_LOG("device.submitted moved (line %d)", line);
	EXPECT_EQ(before->st.context.submitted, now.st.context.submitted)
		TH_LOG("context.submitted moved (line %d)", line);
	EXPECT_EQ(before->st.context.in_flight, now.st.context.in_flight)
		TH_LOG("context.in_flight moved (line %d)", line);
	EXPECT_EQ(0, memcmp(&before->cfg, &now.cfg, sizeof(now.cfg)))
		TH_LOG("config changed (line %d)", line);
}

/* @r must be refused with -@err, without writing back an id. */
static void submit_refused(struct __test_metadata *_metadata, int fd,
			   struct aiodev_req *r, int err, int line)
{
	struct snapshot before;

	take_snapshot(_metadata, fd, &before);
	r->id = 0;
	EXPECT_EQ(-err, aio_submit1(fd, r))
		TH_LOG("submit: wrong result (line %d)", line);
	EXPECT_EQ(0ULL, r->id) TH_LOG("id written back (line %d)", line);
	check_unchanged(_metadata, fd, &before, line);
}
#define SUBMIT_REFUSED(fd, r, err) \
	submit_refused(_metadata, fd, r, err, __LINE__)

/* @cfg must be refused with -@err and the device config stay as it was. */
static void config_refused(struct __test_metadata *_metadata, int fd,
			   struct aiodev_config *cfg, int err, int line)
{
	struct snapshot before;

	take_snapshot(_metadata, fd, &before);
	EXPECT_EQ(-err, aio_set_config(fd, cfg))
		TH_LOG("set_config: wrong result (line %d)", line);
	check_unchanged(_metadata, fd, &before, line);
}
#define CONFIG_REFUSED(fd, cfg, err) \
	config_refused(_metadata, fd, cfg, err, __LINE__)

static void config_accepted(struct __test_metadata *_metadata, int fd,
			    struct aiodev_config *cfg, int line)
{
	struct aiodev_config got;

	EXPECT_EQ(0, aio_set_config(fd, cfg))
		TH_LOG("set_config refused (line %d)", line);
	ASSERT_EQ(0, aio_get_config(fd, &got));
	EXPECT_EQ(0, memcmp(cfg, &got, sizeof(got)))
		TH_LOG("config not stored as set (line %d)", line);
}
#define CONFIG_ACCEPTED(fd, cfg) config_accepted(_metadata, fd, cfg, __LINE__)

/* A long-latency NOP, so that it is surely still in flight. */
static void req_parked(struct aiodev_req *r, __u64 user_data)
{
	req_nop(r, user_data);
	req_latency(r, 30 * NSEC_PER_SEC);
}

TEST_F(abi, info_fields)
{
	struct aiodev_info info;
	__u64 feats = AIODEV_FEAT_NOP | AIODEV_FEAT_EVENTFD |
		      AIODEV_FEAT_JITTER | AIODEV_FEAT_FAULTS |
		      AIODEV_FEAT_CANCEL;
	int i, rofd;

	/* Poison: the kernel must fill every field, reserved ones with 0. */
	memset(&info, 0xa5, sizeof(info));
	ASSERT_EQ(0, aio_get_info(self->fd, &info));
	EXPECT_EQ((__u32)AIODEV_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0U, info.index);
	EXPECT_EQ(feats, info.features & feats);
	EXPECT_EQ(DEF_SIZE_BYTES, info.size_bytes);
	EXPECT_EQ(AIODEV_MAX_IO_BYTES, info.max_io_bytes);
	EXPECT_EQ(DEF_QUEUE_DEPTH, info.queue_depth);
	EXPECT_EQ(AIODEV_MAX_NSEC, info.max_nsec);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0ULL, info.__reserved[i]);
	}

	/* Informational: works on a read-only file too, same answer. */
	rofd = aio_open(0, O_RDONLY);
	ASSERT_LE(0, rofd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, aio_get_info(rofd, &info));
	EXPECT_EQ(0, memcmp(&info, &self->info, sizeof(info)));
	close(rofd);
}

TEST(info_index_per_device)
{
	struct aiodev_info i0, i1;
	int fd0 = aio_open(0, O_RDONLY), fd1 = aio_open(1, O_RDONLY);

	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fd1) TH_LOG("runner loads nr_devices=2: /dev/aiodev1");
	ASSERT_EQ(0, aio_get_info(fd0, &i0));
	ASSERT_EQ(0, aio_get_info(fd1, &i1));
	EXPECT_EQ(0U, i0.index);
	EXPECT_EQ(1U, i1.index);
	EXPECT_EQ(i0.size_bytes, i1.size_bytes);
	close(fd0);
	close(fd1);
}

TEST_F(abi, unknown_ioctl_enotty)
{
	/*
	 * The command encodes size and direction, so a known number with
	 * the wrong size or direction is a different, unknown ioctl.
	 */
	unsigned long cmds[] = {
		_IO(AIODEV_IOC_MAGIC, 0x07),
		_IOWR(AIODEV_IOC_MAGIC, 0x1f, struct aiodev_info),
		_IO(AIODEV_IOC_MAGIC, 0x00),
		_IOR(AIODEV_IOC_MAGIC, 0x00, __u64),
		_IOW(AIODEV_IOC_MAGIC, 0x00, struct aiodev_info),
		_IOWR(AIODEV_IOC_MAGIC, 0x01, struct aiodev_submit),
		_IOW('x', 0x01, struct aiodev_submit),
		TCGETS,
	};
	struct snapshot before;
	char arg[256];
	unsigned int i;

	take_snapshot(_metadata, self->fd, &before);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		memset(arg, 0, sizeof(arg));
		EXPECT_EQ(-ENOTTY, aio_ioctl(self->fd, cmds[i], arg))
			TH_LOG("cmd %#lx", cmds[i]);
	}
	check_unchanged(_metadata, self->fd, &before, __LINE__);
}

TEST_F(abi, ioctl_bad_arg_pointer)
{
	unsigned long cmds[] = {
		AIODEV_IOC_GET_INFO, AIODEV_IOC_SUBMIT, AIODEV_IOC_GETEVENTS,
		AIODEV_IOC_CANCEL, AIODEV_IOC_GET_CONFIG,
		AIODEV_IOC_SET_CONFIG, AIODEV_IOC_GET_STATS,
	};
	void *bad[] = { NULL, unmapped_addr(), (void *)(uintptr_t)KERNEL_PTR };
	struct snapshot before;
	unsigned int i, j;
	char *hole;
	void *ro;

	take_snapshot(_metadata, self->fd, &before);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			EXPECT_EQ(-EFAULT, aio_ioctl(self->fd, cmds[i], bad[j]))
				TH_LOG("cmd %#lx arg %p", cmds[i], bad[j]);
		}
	}

	/* Output-only ioctls must not write into a read-only mapping. */
	ro = map_pages(1, PROT_READ);
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(-EFAULT, aio_get_info(self->fd, ro));
	EXPECT_EQ(-EFAULT, aio_get_config(self->fd, ro));
	EXPECT_EQ(-EFAULT, aio_get_stats(self->fd, ro));
	/* The struct straddling into an inaccessible page. */
	hole = map_with_hole(1);
	ASSERT_NE(NULL, hole);
	EXPECT_EQ(-EFAULT, aio_get_stats(self->fd,
			(struct aiodev_stats *)(hole + PAGE_SZ - 8)));
	check_unchanged(_metadata, self->fd, &before, __LINE__);
	munmap(ro, PAGE_SZ);
	munmap(hole, 2 * PAGE_SZ);
}

TEST_F(abi, submit_reserved_nonzero)
{
	struct aiodev_req r;
	int bit;

	for (bit = 0; bit < 32; bit += 7) {
		req_nop(&r, 1);
		r.__reserved = 1U << bit;
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
	}
}

TEST_F(abi, submit_unknown_flags)
{
	struct aiodev_req r;
	int bit;

	for (bit = 3; bit < 16; bit++) {
		req_nop(&r, 1);
		r.flags = 1U << bit;
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		/* Also when combined with valid flags. */
		req_nop(&r, 1);
		req_latency(&r, MSEC(1));
		r.flags |= 1U << bit;
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
	}
}

TEST_F(abi, submit_bad_op)
{
	static char buf[64];
	__u16 ops[] = { 3, 4, 0x100, 0xffff };
	struct aiodev_req r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		req_init(&r, ops[i], buf, 0, sizeof(buf), 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_nop(&r, 1);
		r.op = ops[i];
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
	}
}

TEST_F(abi, submit_bad_len)
{
	size_t sz = AIODEV_MAX_IO_BYTES + 2 * PAGE_SZ;
	char *buf = map_pages(sz / PAGE_SZ, PROT_READ | PROT_WRITE);
	struct aiodev_req r;
	__u16 op;

	ASSERT_NE(NULL, buf);
	for (op = AIODEV_OP_READ; op <= AIODEV_OP_WRITE; op++) {
		req_init(&r, op, buf, 0, 0, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_init(&r, op, buf, 0, AIODEV_MAX_IO_BYTES + 1, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_init(&r, op, buf, 0, UINT32_MAX, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
	}
	/* The limit itself is valid. */
	req_init(&r, AIODEV_OP_READ, buf, 0, AIODEV_MAX_IO_BYTES, 1);
	EXPECT_EQ((long long)AIODEV_MAX_IO_BYTES,
		  aio_sync(self->fd, &r, NULL));
	munmap(buf, sz);
}

TEST_F(abi, submit_range_beyond_device)
{
	__u64 size = self->info.size_bytes;
	static char buf[8192];
	struct aiodev_req r;
	__u16 op;

	for (op = AIODEV_OP_READ; op <= AIODEV_OP_WRITE; op++) {
		req_init(&r, op, buf, size - 1, 2, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_init(&r, op, buf, size, 1, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_init(&r, op, buf, size - 4096, 8192, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
		req_init(&r, op, buf, size + 4096, 4096, 1);
		SUBMIT_REFUSED(self->fd, &r, EINVAL);
	}
	/* Ending exactly at the end of the device is fine. */
	req_init(&r, AIODEV_OP_READ, buf, size - 8192, 8192, 1);
	EXPECT_EQ(8192LL, aio_sync(self->fd, &r, NULL));
}

TEST_F(abi, submit_offset_overflow)
{
	static char buf[4096];
	__u64 offs[] = { UINT64_MAX, UINT64_MAX - 100, UINT64_MAX - 4095,
			 1ULL << 63, (1ULL << 63) - 1 };
	struct aiodev_req r;
	unsigned int i;
	__u16 op;

	/* offset + len wraps around: must not pass a naive range check. */
	for (op = AIODEV_OP_READ; op <= AIODEV_OP_WRITE; op++) {
		for (i = 0; i < ARRAY_SIZE(offs); i++) {
			req_init(&r, op, buf, offs[i], sizeof(buf), 1);
			SUBMIT_REFUSED(self->fd, &r, EINVAL);
		}
	}
}

TEST_F(abi, nop_with_data_fields)
{
	static char buf[64];
	struct aiodev_req r;

	req_nop(&r, 1);
	r.buf = (__u64)(uintptr_t)buf;
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	r.offset = 4096;
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	r.len = 64;
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
}

TEST_F(abi, fields_without_flag)
{
	struct aiodev_req r;
	int efd = eventfd(0, EFD_CLOEXEC);

	ASSERT_LE(0, efd);
	req_nop(&r, 1);
	r.latency_nsec = MSEC(1);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	r.timeout_nsec = MSEC(1);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	/* A valid eventfd does not help: the flag is what makes it used. */
	req_nop(&r, 1);
	r.eventfd = efd;
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	/* The other flag does not license the field. */
	req_nop(&r, 1);
	req_timeout(&r, MSEC(100));
	r.latency_nsec = MSEC(1);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	req_latency(&r, MSEC(1));
	r.timeout_nsec = MSEC(100);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	close(efd);
}

TEST_F(abi, times_over_max)
{
	struct aiodev_event ev;
	struct aiodev_req r;

	req_nop(&r, 1);
	req_latency(&r, AIODEV_MAX_NSEC + 1);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	req_latency(&r, UINT64_MAX);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	req_timeout(&r, AIODEV_MAX_NSEC + 1);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	req_timeout(&r, UINT64_MAX);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);

	/* Exactly the maximum is accepted (then cancelled). */
	req_nop(&r, 7);
	req_latency(&r, AIODEV_MAX_NSEC);
	req_timeout(&r, AIODEV_MAX_NSEC);
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	ASSERT_EQ(0, aio_cancel(self->fd, r.id));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev.result);
	EXPECT_EQ(7ULL, ev.user_data);
}

TEST_F(abi, submit_struct_flags_nonzero)
{
	struct snapshot before;
	struct aiodev_req r;
	int bit;

	take_snapshot(_metadata, self->fd, &before);
	for (bit = 0; bit < 32; bit += 5) {
		req_nop(&r, 1);
		EXPECT_EQ(-EINVAL, aio_submit_flags(self->fd, &r, 1, 1U << bit));
		EXPECT_EQ(0ULL, r.id);
	}
	check_unchanged(_metadata, self->fd, &before, __LINE__);
}

TEST_F(abi, submit_nr_zero)
{
	struct snapshot before;
	struct aiodev_req r;

	req_nop(&r, 1);
	take_snapshot(_metadata, self->fd, &before);
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, &r, 0));
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, NULL, 0));
	check_unchanged(_metadata, self->fd, &before, __LINE__);
}

TEST_F(abi, submit_nr_over_queue_depth)
{
	__u32 qd = self->info.queue_depth, i;
	struct snapshot before;
	struct aiodev_req *r;

	/* nr is 1 to queue_depth: a valid array one too long is refused. */
	r = calloc(qd + 1, sizeof(*r));
	ASSERT_NE(NULL, r);
	for (i = 0; i <= qd; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], 30 * NSEC_PER_SEC);
	}
	take_snapshot(_metadata, self->fd, &before);
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, r, qd + 1));
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, r, UINT32_MAX));
	EXPECT_EQ(-EINVAL, aio_submit(self->fd, r, 1U << 31));
	EXPECT_EQ(0ULL, r[0].id);
	check_unchanged(_metadata, self->fd, &before, __LINE__);
	free(r);
}

TEST_F(abi, submit_reqs_bad_pointer)
{
	struct snapshot before;
	struct aiodev_req *r;
	char *page;

	take_snapshot(_metadata, self->fd, &before);
	EXPECT_EQ(-EFAULT, aio_submit(self->fd, NULL, 1));
	EXPECT_EQ(-EFAULT, aio_submit(self->fd, unmapped_addr(), 1));
	EXPECT_EQ(-EFAULT, aio_submit(self->fd,
			(void *)(uintptr_t)KERNEL_PTR, 1));
	/* A descriptor straddling into an unmapped page. */
	page = map_with_hole(1);
	ASSERT_NE(NULL, page);
	r = (struct aiodev_req *)(page + PAGE_SZ - 32);
	EXPECT_EQ(-EFAULT, aio_submit(self->fd, r, 1));
	check_unchanged(_metadata, self->fd, &before, __LINE__);

	/* First descriptor fine, second unreadable: count so far. */
	r = (struct aiodev_req *)(page + PAGE_SZ - sizeof(*r));
	req_parked(r, 1);
	EXPECT_EQ(1, aio_submit(self->fd, r, 2));
	EXPECT_NE(0ULL, r->id);
	munmap(page, 2 * PAGE_SZ);
}

TEST_F(abi, submit_reqs_readonly)
{
	struct aiodev_req *r, marker;
	struct snapshot before;
	struct aiodev_event ev;

	/* The kernel writes back ->id, so the array must be writable. */
	r = map_pages(1, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, r);
	req_nop(r, 1);
	req_latency(r, MSEC(1));
	ASSERT_EQ(0, mprotect(r, PAGE_SZ, PROT_READ));

	take_snapshot(_metadata, self->fd, &before);
	EXPECT_EQ(-EFAULT, aio_submit(self->fd, r, 1));
	check_unchanged(_metadata, self->fd, &before, __LINE__);
	/*
	 * And no stray completion of a half-accepted request either: one
	 * would have fired before a marker submitted after it with the same
	 * latency, so the marker's event must be the only one.
	 */
	munmap(r, PAGE_SZ);
	req_nop(&marker, 2);
	req_latency(&marker, MSEC(1));
	ASSERT_EQ(0, aio_submit1(self->fd, &marker));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(marker.id, ev.id);
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));
}

TEST_F(abi, submit_buf_bad_pointer)
{
	char *ro, *page;
	struct aiodev_req r;
	__u16 op;

	page = map_with_hole(1);
	ASSERT_NE(NULL, page);
	for (op = AIODEV_OP_READ; op <= AIODEV_OP_WRITE; op++) {
		req_init(&r, op, NULL, 0, 512, 1);
		SUBMIT_REFUSED(self->fd, &r, EFAULT);
		req_init(&r, op, unmapped_addr(), 0, 512, 1);
		SUBMIT_REFUSED(self->fd, &r, EFAULT);
		req_init(&r, op, (void *)(uintptr_t)KERNEL_PTR, 0, 512, 1);
		SUBMIT_REFUSED(self->fd, &r, EFAULT);
		/* Mapped start, unmapped tail: all pages are pinned. */
		req_init(&r, op, page + PAGE_SZ - 100, 0, 200, 1);
		SUBMIT_REFUSED(self->fd, &r, EFAULT);
	}

	/* READ writes the buffer, so a read-only mapping cannot take it. */
	ro = map_pages(1, PROT_READ);
	ASSERT_NE(NULL, ro);
	req_init(&r, AIODEV_OP_READ, ro, 0, 512, 1);
	SUBMIT_REFUSED(self->fd, &r, EFAULT);
	/* ...but WRITE only reads it. */
	req_init(&r, AIODEV_OP_WRITE, ro, ZERO_REGION_OFF - 512, 512, 2);
	EXPECT_EQ(512LL, aio_sync(self->fd, &r, NULL));
	munmap(ro, PAGE_SZ);
	munmap(page, 2 * PAGE_SZ);
}

TEST_F(abi, submit_bad_eventfd)
{
	int closed_fd, pfd[2];
	struct aiodev_req r;

	ASSERT_EQ(0, pipe(pfd));
	/* A high number nothing else will take in the meantime. */
	closed_fd = fcntl(0, F_DUPFD_CLOEXEC, 900);
	ASSERT_LE(900, closed_fd);
	close(closed_fd);

	req_nop(&r, 1);
	req_eventfd(&r, -1);
	SUBMIT_REFUSED(self->fd, &r, EBADF);
	req_nop(&r, 1);
	req_eventfd(&r, closed_fd);
	SUBMIT_REFUSED(self->fd, &r, EBADF);
	req_nop(&r, 1);
	req_eventfd(&r, INT_MAX);
	SUBMIT_REFUSED(self->fd, &r, EBADF);
	/* Open files that are not eventfds. */
	req_nop(&r, 1);
	req_eventfd(&r, pfd[0]);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	req_nop(&r, 1);
	req_eventfd(&r, self->fd);
	SUBMIT_REFUSED(self->fd, &r, EINVAL);
	close(pfd[0]);
	close(pfd[1]);
}

TEST(submit_wrong_open_mode)
{
	static char buf[512];
	struct aiodev_stats before, after;
	struct aiodev_req r;
	int rofd, wofd;

	rofd = aio_open(0, O_RDONLY);
	wofd = aio_open(0, O_WRONLY);
	ASSERT_LE(0, rofd);
	ASSERT_LE(0, wofd);
	ASSERT_EQ(0, aio_reset_config(wofd));

	ASSERT_EQ(0, aio_get_stats(rofd, &before));
	req_init(&r, AIODEV_OP_WRITE, buf, ZERO_REGION_OFF - 512, 512, 1);
	EXPECT_EQ(-EBADF, aio_submit1(rofd, &r));
	ASSERT_EQ(0, aio_get_stats(rofd, &after));
	EXPECT_EQ(before.device.submitted, after.device.submitted);

	ASSERT_EQ(0, aio_get_stats(wofd, &before));
	req_init(&r, AIODEV_OP_READ, buf, 0, 512, 1);
	EXPECT_EQ(-EBADF, aio_submit1(wofd, &r));
	ASSERT_EQ(0, aio_get_stats(wofd, &after));
	EXPECT_EQ(before.device.submitted, after.device.submitted);

	/* The permitted direction works on each, and NOP on both. */
	req_init(&r, AIODEV_OP_READ, buf, 0, 512, 1);
	EXPECT_EQ(512LL, aio_sync(rofd, &r, NULL));
	req_init(&r, AIODEV_OP_WRITE, buf, ZERO_REGION_OFF - 512, 512, 1);
	EXPECT_EQ(512LL, aio_sync(wofd, &r, NULL));
	req_nop(&r, 1);
	EXPECT_EQ(0LL, aio_sync(rofd, &r, NULL));
	req_nop(&r, 1);
	EXPECT_EQ(0LL, aio_sync(wofd, &r, NULL));
	close(rofd);
	close(wofd);
}

/* Every malformed GETEVENTS is refused and consumes no event. */
TEST_F(abi, getevents_bad_args)
{
	struct aiodev_getevents g;
	struct aiodev_event ev[4];
	struct aiodev_req r;

	req_nop(&r, 42);
	req_latency(&r, MSEC(1));
	ASSERT_EQ(0, aio_submit1(self->fd, &r));
	ASSERT_EQ(0, wait_completed(self->fd));

#define GE(_min, _max, _flags, _res) ((struct aiodev_getevents){	\
	.events = (__u64)(uintptr_t)ev, .min_nr = (_min), .max_nr = (_max), \
	.timeout_nsec = 0, .flags = (_flags), .__reserved = (_res) })
	g = GE(0, 4, 1, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(0, 4, 0x80000000, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(0, 4, 0, 1);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(2, 1, 0, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(0, 0, 0, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(1, 0, 0, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(self->info.queue_depth + 1, self->info.queue_depth + 1, 0, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
	g = GE(UINT32_MAX, UINT32_MAX, 0, 0);
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_GETEVENTS, &g));
#undef GE

	/* The event is still there, intact. */
	memset(ev, 0, sizeof(ev));
	ASSERT_EQ(1, aio_getevents(self->fd, ev, 1, 4, WAIT_LONG_NS));
	EXPECT_EQ(42ULL, ev[0].user_data);
	EXPECT_EQ(r.id, ev[0].id);
	EXPECT_EQ(0, aio_getevents(self->fd, ev, 0, 4, 0));
}

TEST_F(abi, getevents_bad_buffer_keeps_events)
{
	struct aiodev_event ev[2], *ro, *edge;
	struct aiodev_req r[2];
	char *page;
	int ret, got;

	req_nop(&r[0], 1);
	req_nop(&r[1], 2);
	req_latency(&r[0], MSEC(1));
	req_latency(&r[1], MSEC(2));
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(0, wait_completed(self->fd));

	EXPECT_EQ(-EFAULT, aio_getevents(self->fd, NULL, 1, 2, 0));
	EXPECT_EQ(-EFAULT, aio_getevents(self->fd, unmapped_addr(), 1, 2, 0));
	EXPECT_EQ(-EFAULT, aio_getevents(self->fd,
			(void *)(uintptr_t)KERNEL_PTR, 1, 2, 0));
	ro = map_pages(1, PROT_READ);
	ASSERT_NE(NULL, ro);
	EXPECT_EQ(-EFAULT, aio_getevents(self->fd, ro, 1, 2, 0));
	munmap(ro, PAGE_SZ);

	/*
	 * Room for exactly one event before an unmapped page: either one is
	 * copied (and only it consumed) or the call faults and none is.
	 */
	page = map_with_hole(1);
	ASSERT_NE(NULL, page);
	edge = (struct aiodev_event *)(page + PAGE_SZ - sizeof(*edge));
	ret = aio_getevents(self->fd, edge, 2, 2, 0);
	EXPECT_TRUE(ret == 1 || ret == -EFAULT) TH_LOG("ret %d", ret);
	got = ret == 1 ? 1 : 0;
	if (ret == 1) {
		EXPECT_EQ(1ULL, edge->user_data);
	}
	munmap(page, 2 * PAGE_SZ);

	memset(ev, 0, sizeof(ev));
	ret = aio_getevents(self->fd, ev, 0, 2, 0);
	ASSERT_EQ(2 - got, ret);
	if (!got) {
		EXPECT_EQ(1ULL, ev[0].user_data);
	}
	EXPECT_EQ(2ULL, ev[ret - 1].user_data);
}

TEST_F(abi, cancel_bad_args)
{
	struct aiodev_cancel c;
	struct aiodev_event ev;
	struct aiodev_req r;

	req_parked(&r, 5);
	ASSERT_EQ(0, aio_submit1(self->fd, &r));

	/* Malformed cancels of a real id must not cancel it. */
	c = (struct aiodev_cancel){ .id = r.id, .flags = 1 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_CANCEL, &c));
	c = (struct aiodev_cancel){ .id = r.id, .flags = 0x80000000 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_CANCEL, &c));
	c = (struct aiodev_cancel){ .id = r.id, .__reserved = 1 };
	EXPECT_EQ(-EINVAL, aio_ioctl(self->fd, AIODEV_IOC_CANCEL, &c));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));

	/* Ids that were never handed out. */
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, 0));
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, r.id + 1000003));
	EXPECT_EQ(-ENOENT, aio_cancel(self->fd, ~r.id));
	EXPECT_EQ(0, aio_getevents(self->fd, &ev, 0, 1, 0));

	/* Still cancellable: nothing above touched it. */
	EXPECT_EQ(0, aio_cancel(self->fd, r.id));
	ASSERT_EQ(1, aio_reap(self->fd, &ev, 1, WAIT_LONG_NS));
	EXPECT_EQ(-ECANCELED, ev.result);
}

TEST_F(abi, config_bad_values)
{
	__u64 size = self->info.size_bytes;
	struct aiodev_config c;
	int i;

	config_default(&c);
	c.flags = 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	for (i = 0; i < (int)ARRAY_SIZE(c.__reserved); i++) {
		config_default(&c);
		c.__reserved[i] = 1;
		CONFIG_REFUSED(self->fd, &c, EINVAL);
	}

	config_default(&c);
	c.latency_nsec = AIODEV_MAX_NSEC + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	config_default(&c);
	c.jitter_nsec = AIODEV_MAX_NSEC + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	config_default(&c);
	c.timeout_nsec = AIODEV_MAX_NSEC + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	/* Each within bounds but the sum is not. */
	config_default(&c);
	c.latency_nsec = AIODEV_MAX_NSEC;
	c.jitter_nsec = 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.latency_nsec = AIODEV_MAX_NSEC / 2 + 1;
	c.jitter_nsec = AIODEV_MAX_NSEC / 2 + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);

	/* Every-Nth rule on with a bad errno. */
	config_default(&c);
	c.fail_every_nth = 2;
	c.fail_nth_errno = 0;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_nth_errno = -EIO;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_nth_errno = AIODEV_MAX_ERRNO + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_nth_errno = INT32_MIN;
	CONFIG_REFUSED(self->fd, &c, EINVAL);

	/* Range rule on with a bad errno. */
	config_default(&c);
	c.fail_offset = 0;
	c.fail_len = 4096;
	c.fail_range_errno = 0;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_range_errno = -EIO;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_range_errno = AIODEV_MAX_ERRNO + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);

	/* A rule that is off still needs an errno in 0..MAX... */
	config_default(&c);
	c.fail_nth_errno = -1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_nth_errno = AIODEV_MAX_ERRNO + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	config_default(&c);
	c.fail_range_errno = -EIO;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_range_errno = AIODEV_MAX_ERRNO + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	/* ...and an empty range within the device. */
	config_default(&c);
	c.fail_offset = size + 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_offset = UINT64_MAX;
	CONFIG_REFUSED(self->fd, &c, EINVAL);

	/* Range outside the device, or wrapping around. */
	config_default(&c);
	c.fail_range_errno = EIO;
	c.fail_offset = size - 100;
	c.fail_len = 4096;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_offset = size;
	c.fail_len = 1;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_offset = UINT64_MAX - 10;
	c.fail_len = 4096;
	CONFIG_REFUSED(self->fd, &c, EINVAL);
	c.fail_offset = 4096;
	c.fail_len = UINT64_MAX;
	CONFIG_REFUSED(self->fd, &c, EINVAL);

	/* The limits themselves are valid. */
	config_default(&c);
	c.latency_nsec = AIODEV_MAX_NSEC;
	CONFIG_ACCEPTED(self->fd, &c);
	config_default(&c);
	c.latency_nsec = 0;
	c.jitter_nsec = AIODEV_MAX_NSEC;
	CONFIG_ACCEPTED(self->fd, &c);
	config_default(&c);
	c.latency_nsec = AIODEV_MAX_NSEC / 2;
	c.jitter_nsec = AIODEV_MAX_NSEC - AIODEV_MAX_NSEC / 2;
	CONFIG_ACCEPTED(self->fd, &c);
	config_default(&c);
	c.timeout_nsec = AIODEV_MAX_NSEC;
	c.fail_every_nth = UINT32_MAX;
	c.fail_nth_errno = AIODEV_MAX_ERRNO;
	c.fail_offset = size - 4096;
	c.fail_len = 4096;
	c.fail_range_errno = 1;
	CONFIG_ACCEPTED(self->fd, &c);
	/* Rules off may keep their errno and an empty range's offset. */
	config_default(&c);
	c.fail_nth_errno = EIO;
	c.fail_range_errno = AIODEV_MAX_ERRNO;
	c.fail_offset = size;
	CONFIG_ACCEPTED(self->fd, &c);
}

TEST(config_needs_writable_fd)
{
	struct aiodev_config before, c, after;
	int rofd = aio_open(0, O_RDONLY), wofd = aio_open(0, O_WRONLY);

	ASSERT_LE(0, rofd);
	ASSERT_LE(0, wofd);
	ASSERT_EQ(0, aio_reset_config(wofd));
	ASSERT_EQ(0, aio_get_config(rofd, &before));
	c = before;
	c.latency_nsec = MSEC(3);
	EXPECT_EQ(-EBADF, aio_set_config(rofd, &c));
	ASSERT_EQ(0, aio_get_config(rofd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(after)));
	/* Write-only is enough. */
	EXPECT_EQ(0, aio_set_config(wofd, &c));
	ASSERT_EQ(0, aio_get_config(rofd, &after));
	EXPECT_EQ(MSEC(3), after.latency_nsec);
	EXPECT_EQ(0, aio_reset_config(wofd));
	close(rofd);
	close(wofd);
}

TEST_F(abi, config_roundtrip)
{
	struct aiodev_config c, got;

	ASSERT_EQ(0, aio_get_config(self->fd, &got));
	config_default(&c);
	EXPECT_EQ(0, memcmp(&c, &got, sizeof(c))) TH_LOG("defaults differ");

	c.latency_nsec = 123456789;
	c.jitter_nsec = 98765;
	c.timeout_nsec = 5 * NSEC_PER_SEC;
	c.fail_every_nth = 1000000;
	c.fail_nth_errno = EIO;
	c.fail_offset = 12345;
	c.fail_len = 678;
	c.fail_range_errno = ENOSPC;
	CONFIG_ACCEPTED(self->fd, &c);

	/* SET_CONFIG replaces every field: turning rules off sticks. */
	config_default(&c);
	CONFIG_ACCEPTED(self->fd, &c);
}

static const char * const cfg_attrs[] = {
	"latency_nsec", "jitter_nsec", "timeout_nsec", "fail_every_nth",
	"fail_nth_errno", "fail_offset", "fail_len", "fail_range_errno",
};

static void cfg_values(const struct aiodev_config *c, long long v[8])
{
	v[0] = c->latency_nsec;
	v[1] = c->jitter_nsec;
	v[2] = c->timeout_nsec;
	v[3] = c->fail_every_nth;
	v[4] = c->fail_nth_errno;
	v[5] = c->fail_offset;
	v[6] = c->fail_len;
	v[7] = c->fail_range_errno;
}

TEST_F(abi, sysfs_config_mirrors_ioctl)
{
	struct aiodev_config c, got;
	long long want[8], val = 0;
	unsigned int i;

	config_default(&c);
	c.latency_nsec = 2222222;
	c.jitter_nsec = 3333;
	c.timeout_nsec = 444444444;
	c.fail_every_nth = 555;
	c.fail_nth_errno = EREMOTEIO;
	c.fail_offset = 8192;
	c.fail_len = 4096;
	c.fail_range_errno = ENOSPC;
	ASSERT_EQ(0, aio_set_config(self->fd, &c));
	cfg_values(&c, want);
	for (i = 0; i < ARRAY_SIZE(cfg_attrs); i++) {
		ASSERT_EQ(0, sysfs_read_s64(0, cfg_attrs[i], &val))
			TH_LOG("%s", cfg_attrs[i]);
		EXPECT_EQ(want[i], val) TH_LOG("%s", cfg_attrs[i]);
	}

	/* And the other way round. */
	EXPECT_EQ(0, sysfs_write(0, "latency_nsec", "7777777\n"));
	EXPECT_EQ(0, sysfs_write(0, "fail_nth_errno", "61"));
	EXPECT_EQ(0, sysfs_write(0, "fail_len", "8192"));
	ASSERT_EQ(0, aio_get_config(self->fd, &got));
	EXPECT_EQ(7777777ULL, got.latency_nsec);
	EXPECT_EQ(61, got.fail_nth_errno);
	EXPECT_EQ(8192ULL, got.fail_len);
	EXPECT_EQ(c.jitter_nsec, got.jitter_nsec);
	EXPECT_EQ(c.fail_every_nth, got.fail_every_nth);
}

/*
 * sysfs writes one field at a time: a fault rule must be switchable on
 * (errno first, then the trigger) and off (trigger to 0) that way, its
 * errno staying set while it is off.
 */
TEST_F(abi, sysfs_switches_fault_rules)
{
	struct aiodev_config c;
	static char buf[64];
	struct aiodev_req r;

	/* Every-Nth on, then off. */
	ASSERT_EQ(0, sysfs_write(0, "fail_nth_errno", "71"));
	ASSERT_EQ(0, sysfs_write(0, "fail_every_nth", "1"));
	req_init(&r, AIODEV_OP_READ, buf, 8192, sizeof(buf), 1);
	EXPECT_EQ(-71LL, aio_sync(self->fd, &r, NULL));
	ASSERT_EQ(0, sysfs_write(0, "fail_every_nth", "0"));

	/* Range on, then off. */
	ASSERT_EQ(0, sysfs_write(0, "fail_range_errno", "72"));
	ASSERT_EQ(0, sysfs_write(0, "fail_offset", "8192"));
	ASSERT_EQ(0, sysfs_write(0, "fail_len", "4096"));
	req_init(&r, AIODEV_OP_READ, buf, 8192, sizeof(buf), 2);
	EXPECT_EQ(-72LL, aio_sync(self->fd, &r, NULL));
	ASSERT_EQ(0, sysfs_write(0, "fail_len", "0"));

	req_init(&r, AIODEV_OP_READ, buf, 8192, sizeof(buf), 3);
	EXPECT_EQ((long long)sizeof(buf), aio_sync(self->fd, &r, NULL));
	ASSERT_EQ(0, aio_get_config(self->fd, &c));
	EXPECT_EQ(0U, c.fail_every_nth);
	EXPECT_EQ(0ULL, c.fail_len);
	EXPECT_EQ(8192ULL, c.fail_offset);
	EXPECT_EQ(71, c.fail_nth_errno);
	EXPECT_EQ(72, c.fail_range_errno);
}

TEST_F(abi, sysfs_config_rejects_bad_values)
{
	struct aiodev_config before, after;
	char big[32];

	ASSERT_EQ(0, aio_get_config(self->fd, &before));
	snprintf(big, sizeof(big), "%llu", AIODEV_MAX_NSEC + 1);
	EXPECT_EQ(-EINVAL, sysfs_write(0, "latency_nsec", "garbage"));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "latency_nsec", "-1"));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "latency_nsec", big));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "timeout_nsec", big));
	/* The same whole-config rules as SET_CONFIG. */
	EXPECT_EQ(-EINVAL, sysfs_write(0, "fail_nth_errno", "512"));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "fail_range_errno", "-5"));
	/* Rule on while its errno is 0. */
	EXPECT_EQ(-EINVAL, sysfs_write(0, "fail_len", "4096"));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "fail_every_nth", "2"));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "fail_offset", "99999999999"));
	ASSERT_EQ(0, aio_get_config(self->fd, &after));
	EXPECT_EQ(0, memcmp(&before, &after, sizeof(after)));
	/* latency + jitter > AIODEV_MAX_NSEC, one field at a time. */
	snprintf(big, sizeof(big), "%llu", AIODEV_MAX_NSEC);
	ASSERT_EQ(0, sysfs_write(0, "latency_nsec", big));
	EXPECT_EQ(-EINVAL, sysfs_write(0, "jitter_nsec", "1"));
	ASSERT_EQ(0, aio_get_config(self->fd, &after));
	EXPECT_EQ(AIODEV_MAX_NSEC, after.latency_nsec);
	EXPECT_EQ(0ULL, after.jitter_nsec);
}

TEST(config_is_per_device)
{
	struct aiodev_config c0, c1;
	int fd0 = aio_open(0, O_RDWR), fd1 = aio_open(1, O_RDWR);
	long long val = -1;

	ASSERT_LE(0, fd0);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, aio_reset_config(fd0));
	ASSERT_EQ(0, aio_reset_config(fd1));
	ASSERT_EQ(0, aio_set_latency(fd1, MSEC(5), 0, MSEC(70)));
	ASSERT_EQ(0, aio_get_config(fd0, &c0));
	ASSERT_EQ(0, aio_get_config(fd1, &c1));
	EXPECT_EQ(DEF_LATENCY_NSEC, c0.latency_nsec);
	EXPECT_EQ(0ULL, c0.timeout_nsec);
	EXPECT_EQ(MSEC(5), c1.latency_nsec);
	EXPECT_EQ(MSEC(70), c1.timeout_nsec);
	ASSERT_EQ(0, sysfs_read_s64(0, "timeout_nsec", &val));
	EXPECT_EQ(0, val);
	ASSERT_EQ(0, sysfs_read_s64(1, "timeout_nsec", &val));
	EXPECT_EQ((long long)MSEC(70), val);
	EXPECT_EQ(0, aio_reset_config(fd1));
	close(fd0);
	close(fd1);
}

static const char * const stat_attrs[] = {
	"stats/submitted", "stats/completed_ok", "stats/timed_out",
	"stats/cancelled", "stats/failed", "stats/in_flight",
	"stats/peak_in_flight",
};

TEST_F(abi, sysfs_stats_mirror_ioctl)
{
	struct aiodev_stats a, b;
	struct aiodev_event ev[3];
	struct aiodev_req r[3];
	__u64 want[7], val = 0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(1));
	}
	ASSERT_EQ(3, aio_submit(self->fd, r, 3));
	ASSERT_EQ(3, aio_reap(self->fd, ev, 3, WAIT_LONG_NS));

	/* Quiescent device: both reads of the ioctl agree, so must sysfs. */
	ASSERT_EQ(0, aio_get_stats(self->fd, &a));
	want[0] = a.device.submitted;
	want[1] = a.device.completed_ok;
	want[2] = a.device.timed_out;
	want[3] = a.device.cancelled;
	want[4] = a.device.failed;
	want[5] = a.device.in_flight;
	want[6] = a.device.peak_in_flight;
	for (i = 0; i < ARRAY_SIZE(stat_attrs); i++) {
		ASSERT_EQ(0, sysfs_read_u64(0, stat_attrs[i], &val))
			TH_LOG("%s", stat_attrs[i]);
		EXPECT_EQ(want[i], val) TH_LOG("%s", stat_attrs[i]);
	}
	ASSERT_EQ(0, aio_get_stats(self->fd, &b));
	EXPECT_EQ(0, memcmp(&a.device, &b.device, sizeof(b.device)));
	EXPECT_LE(3ULL, a.device.submitted);
	EXPECT_EQ(0ULL, a.device.__reserved);
	EXPECT_EQ(0ULL, a.context.__reserved);
}

/*
 * Every field of a rule and a distribution crosses the ABI as it was
 * written, in the 64-bit build and through compat_ioctl in the 32-bit one.
 */
TEST_F(abi, rule_fields_round_trip)
{
	struct aiodev_dist_bucket b[2] = {
		{ 1000, 2000, 3 }, { 5000, 5000, 1 },
	};
	struct aiodev_dist d = {
		.name = "abi-rt",
		.buckets = (__u64)(uintptr_t)b,
		.nr_buckets = 2,
	};
	struct aiodev_rule r = {
		.flags = AIODEV_RULE_PROB,
		.ops = 1U << AIODEV_OP_READ | 1U << AIODEV_OP_WRITE,
		.paths = 1U << AIODEV_PATH_SYNC,
		.offset = 4096,
		.range_len = 8192,
		.min_len = 512,
		.max_len = 65536,
		.prob_ppm = 123456,
		.every = 3,
		.skip = 2,
		.count = 7,
		.latency_kind = AIODEV_LATENCY_DIST,
		.result_kind = AIODEV_RESULT_TORN,
		.error = EIO,
		.bytes = 100,
		.dist = "abi-rt",
	};
	struct aiodev_rule got[2], want;
	struct aiodev_rule_list l = {
		.rules = (__u64)(uintptr_t)got,
		.nr = 2,
	};
	__u32 id;

	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
	want = r;
	ASSERT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_ADD, &r));
	ASSERT_NE(0U, r.id);
	memset(got, 0xa5, sizeof(got));
	ASSERT_EQ(1, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	want.id = r.id;
	EXPECT_EQ(0, memcmp(&want, &got[0], sizeof(want)))
		TH_LOG("the listed rule differs from the one added");
	/* Only one was copied: the second stays as it was. */
	EXPECT_EQ(0xa5a5a5a5U, got[1].id);

	id = r.id;
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_DEL, &id));
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	/* A rule loaded among others, then all gone. */
	want.id = 0;
	got[0] = want;
	got[1] = want;
	memset(got[1].dist, 0, sizeof(got[1].dist));
	got[1].latency_kind = AIODEV_LATENCY_DEFAULT;
	ASSERT_LT(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_LOAD, &l));
	EXPECT_EQ(2, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_CLEAR, NULL));
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_RULE_LIST, &l));
	d.nr_buckets = 0;
	EXPECT_EQ(0, aio_ioctl(self->fd, AIODEV_IOC_DIST_SET, &d));
}

TEST_HARNESS_MAIN
