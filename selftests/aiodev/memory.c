// SPDX-License-Identifier: GPL-2.0
/*
 * What requests cost and where their data lands: the memory a user makes
 * aiodev hold (contexts, event rings, requests) is charged to the user's
 * memory cgroup, and reads into buffers backed by large folios (anonymous
 * THP, a memfd) deliver their data.
 */
#define _GNU_SOURCE
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define NFILES		16
#define PER_FILE	1024

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static long long read_ll(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoll(buf) : -1;
}

/* cgroup v2 with the memory controller, mounted here if it is not. */
static int cgroup_ready(void)
{
	char buf[256] = "";
	int fd;

	if (access(CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("none", CG_ROOT, "cgroup2", 0, NULL))
		return -errno;
	fd = open(CG_ROOT "/cgroup.controllers", O_RDONLY);
	if (fd < 0)
		return -errno;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	if (!strstr(buf, "memory"))
		return -ENOENT;
	return write_str(CG_ROOT "/cgroup.subtree_control", "+memory");
}

/*
 * A child in a cgroup of its own holds NFILES x PER_FILE requests in
 * flight; memory.current must grow by at least half of what the requests
 * alone take (192 bytes each), the event rings come on top.
 */
TEST(requests_are_charged_to_the_memcg)
{
	char cg[64], procs[96], current[96];
	long long before = 0, after = 0;
	int p[2], st, ret;
	pid_t pid;

	ret = cgroup_ready();
	ASSERT_EQ(0, ret) TH_LOG("cgroup v2 memory controller: %s", strerror(-ret));
	snprintf(cg, sizeof(cg), CG_ROOT "/aiodev-memory-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
	snprintf(current, sizeof(current), "%s/memory.current", cg);
	ASSERT_EQ(0, pipe(p));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static struct aiodev_req r[PER_FILE];
		long long v[2];
		int fd[NFILES], f, i;

		if (write_str(procs, "0"))
			_exit(2);
		for (i = 0; i < PER_FILE; i++) {
			req_nop(&r[i], i);
			req_latency(&r[i], 60 * NSEC_PER_SEC);
		}
		v[0] = read_ll(current);
		for (f = 0; f < NFILES; f++) {
			fd[f] = aio_open(0, O_RDWR);
			if (fd[f] < 0 || aio_submit(fd[f], r, PER_FILE) != PER_FILE)
				_exit(3);
		}
		v[1] = read_ll(current);
		if (write(p[1], v, sizeof(v)) != sizeof(v))
			_exit(4);
		/* Closing the files cancels the requests. */
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], &before, sizeof(before)) == sizeof(before))
		ASSERT_EQ((ssize_t)sizeof(after),
			  read(p[0], &after, sizeof(after)));
	close(p[0]);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && !WEXITSTATUS(st))
		TH_LOG("child status %#x", st);
	EXPECT_EQ(0, rmdir(cg)) TH_LOG("rmdir %s: %s", cg, strerror(errno));
	TH_LOG("memory.current %lld -> %lld with %d requests in flight",
	       before, after, NFILES * PER_FILE);
	EXPECT_LE(before + NFILES * PER_FILE * 192LL / 2, after);
}

/* Read a written pattern back through read() and readv() into @buf. */
static void read_back(struct __test_metadata *_metadata, int fd,
		      unsigned char *buf, size_t len, __u64 off,
		      const unsigned char *want)
{
	struct iovec iov[2] = {
		{ buf, len / 2 },
		{ buf + len / 2, len - len / 2 },
	};

	memset(buf, 0, len);
	ASSERT_EQ((ssize_t)len, pread(fd, buf, len, off));
	EXPECT_EQ(0, memcmp(buf, want, len));
	memset(buf, 0, len);
	ASSERT_EQ((ssize_t)len, preadv(fd, iov, 2, off));
	EXPECT_EQ(0, memcmp(buf, want, len));
}

#define BIG	(2UL << 20)
#define BIG_OFF	(30ULL << 20)

TEST(reads_into_large_folios)
{
	unsigned char *want, *raw, *thp, *shm;
	int fd, mfd;

	fd = aio_open(0, O_RDWR);
	ASSERT_LE(0, fd);
	want = malloc(BIG);
	ASSERT_NE(NULL, want);
	fill_pattern(want, BIG, BIG_OFF);
	/* 1 MiB per request at most: two writes. */
	ASSERT_EQ((ssize_t)BIG / 2, pwrite(fd, want, BIG / 2, BIG_OFF));
	ASSERT_EQ((ssize_t)BIG / 2,
		  pwrite(fd, want + BIG / 2, BIG / 2, BIG_OFF + BIG / 2));

	/* Anonymous memory, 2 MiB aligned, asking for a huge page. */
	raw = mmap(NULL, 2 * BIG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, raw);
	thp = (unsigned char *)(((uintptr_t)raw + BIG - 1) & ~(BIG - 1));
	madvise(thp, BIG, MADV_HUGEPAGE);
	memset(thp, 1, BIG);
	read_back(_metadata, fd, thp, BIG / 2, BIG_OFF, want);
	read_back(_metadata, fd, thp + BIG / 2, BIG / 2, BIG_OFF + BIG / 2,
		  want + BIG / 2);

	/* A memfd, shared: page cache folios. */
	mfd = memfd_create("aiodev-memory", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, BIG));
	shm = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, shm);
	read_back(_metadata, fd, shm, BIG / 2, BIG_OFF, want);
	/* What the read stored is in the file, not only in the mapping. */
	memset(want + BIG / 2, 0, BIG / 2);
	ASSERT_EQ((ssize_t)BIG / 2, pread(mfd, want + BIG / 2, BIG / 2, 0));
	EXPECT_EQ(0, memcmp(want + BIG / 2, want, BIG / 2));

	munmap(shm, BIG);
	close(mfd);
	munmap(raw, 2 * BIG);
	free(want);
	close(fd);
}

TEST_HARNESS_MAIN
