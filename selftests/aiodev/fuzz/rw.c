// SPDX-License-Identifier: GPL-2.0
/* aiodev fuzzer: plain I/O, lseek and poll. */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- plain I/O, lseek, poll ------------------------------------------- */

void fz_rw(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_b(t, &sr), pk, kind, cnt, i;
	bool wr = chance(t, 40);
	struct win w;
	struct iovec *iov = (struct iovec *)t->arr;
	__u64 len = chance(t, 80) ? pick_len(t) : rnd(t);
	__s64 off = (__s64)pick_off(t, fz->size, len);
	__u64 buf = data_ptr(t, len, &pk);
	long ret;

	kind = wr ? F_WRITE : F_READ;
	if (wr) {
		/* Positional only, never at the shared file position. */
		if (off < 0 || chance(t, 50))
			off = rnd(t) % fz->size;
		off = avoid_zero(off, len);
	}
	win_begin(fz, &w, sr.dev);
	switch (wr ? 1 + rnd(t) % 4 : rnd(t) % 5) {
	case 0:
		if (lseek(fd, off, SEEK_SET) < 0)
			off = 0;
		ret = wr ? write(fd, (void *)(uintptr_t)buf, len) :
			      read(fd, (void *)(uintptr_t)buf, len);
		break;
	case 1:
		ret = wr ? pwrite(fd, (void *)(uintptr_t)buf, len, off) :
			      pread(fd, (void *)(uintptr_t)buf, len, off);
		break;
	default:
		cnt = 1 + rnd(t) % 4;
		if (chance(t, 20))
			cnt = rnd(t) % 3 == 0 ? 1025 : rnd(t) % 2 ? 0 : -1;
		for (i = 0; i < 4; i++) {
			__u64 l = len / 4;

			iov[i].iov_base = (void *)(uintptr_t)(buf + i * l);
			iov[i].iov_len = i == 3 ? len - 3 * l : l;
		}
		if (cnt > 4)	/* the rest of the array: zero-length */
			memset(iov + 4, 0, (cnt - 4) * sizeof(*iov));
		{
			static const int fl[] = { 0, RWF_NOWAIT, RWF_HIPRI,
						  RWF_DSYNC, RWF_SYNC,
						  RWF_APPEND, 0x40, 0x80000000 };
			int flags = chance(t, 60) ? 0 : fl[rnd(t) % 8];

			ret = wr ? pwritev2(fd, iov, cnt, off, flags) :
				      preadv2(fd, iov, cnt, off, flags);
		}
		break;
	}
	if (ret < 0)
		ret = -errno;
	win_end(fz, &w);
	note_win(t, kind, ret, len, &w);
	if (ret > (long)AIODEV_MAX_IO_BYTES) {
		t->violations++;
		report(fz, "a plain transfer returned %ld > 1 MiB", ret);
	}
	/* A SHORT rule moves less, never more. */
	if (ret > 0 && (__u64)ret > len) {
		t->violations++;
		report(fz, "a plain transfer of %llu bytes returned %ld",
		       (unsigned long long)len, ret);
	}
}

void fz_lseek(struct th *t)
{
	struct sref sr;
	int fd = pick_fd_b(t, &sr), whence = chance(t, 90) ? rnd(t) % 5 : rnd(t);
	__s64 off = (__s64)pick_off(t, t->fz->size, 0);
	off_t ret;

	if (chance(t, 30))
		off = -(off & 0xffff);
	ret = lseek(fd, off, whence);
	note(t, F_LSEEK, ret < 0 ? -errno : 0, whence);
	if (ret > (off_t)t->fz->size) {
		t->violations++;
		report(t->fz, "lseek beyond the device: %lld", (long long)ret);
	}
}

void fz_poll(struct th *t)
{
	struct pollfd p[2];
	struct sref sa, sb;
	int ret;

	p[0] = (struct pollfd){ .fd = pick_fd_a(t, &sa),
				.events = POLLIN | POLLOUT };
	p[1] = (struct pollfd){ .fd = pick_fd_b(t, &sb), .events = rnd(t) };
	ret = poll(p, 2, 0);
	note(t, F_POLL, ret < 0 ? -errno : 0, 0);
}
