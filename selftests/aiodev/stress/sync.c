// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the plain I/O workers (pread/pwrite/preadv/pwritev,
 * RWF_NOWAIT).
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- plain I/O worker ------------------------------------------------- */

void sync_worker(struct worker *w)
{
	int fds[NDEV], d, b = buf_get(w);
	unsigned char *buf = bufp(w, b);

	for (d = 0; d < NDEV; d++) {
		fds[d] = aio_open(d, O_RDWR);
		if (fds[d] < 0)
			st_fail(w->run, "open aiodev%d: %s", d, strerror(errno));
	}
	while (!stopping(w->run) && fds[0] >= 0 && fds[1] >= 0) {
		int dev = rnd(w) % NDEV, p = rnd(w) % 100, cat;
		bool write = p < 45, vec = rnd(w) % 3 == 0;
		__u32 blk, roff = 0, rlen;
		struct iovec iov[2];
		__u32 gen = 0;
		long long res;
		__u8 k;
		__u64 off;

		if (p >= 98) {
			if (close_locked(w->run, fds[dev]))
				st_fail(w->run, "close: %s", strerror(errno));
			fds[dev] = aio_open(dev, O_RDWR);
			if (fds[dev] < 0)
				st_fail(w->run, "reopen aiodev%d: %s", dev,
					strerror(errno));
			continue;
		}
		if (!pick_blocks(w, dev, write, &blk, &k, false))
			continue;
		rlen = k * BLK;
		if (write) {
			gen = w->next_gen++;
			fill_write(w, dev, blk, k, gen, buf);
		} else {
			if (rnd(w) % 2) {
				roff = rnd(w) % BLK;
				rlen = 1 + rnd(w) % (k * BLK - roff);
			}
			memset(buf, CANARY, rlen + GUARD);
		}
		off = (__u64)(w->first + blk) * BLK + roff;
		iov[0] = (struct iovec){ buf, rlen / 2 };
		iov[1] = (struct iovec){ buf + rlen / 2, rlen - rlen / 2 };
		if (!write && p >= 95) {
			/* RWF_NOWAIT: refused before it is a request. */
			res = preadv2(fds[dev], iov, 2, off, RWF_NOWAIT);
			if (res != -1 || errno != EAGAIN)
				st_fail(w->run, "RWF_NOWAIT read returned %lld (%s)",
					res, strerror(errno));
			check_canary(w, buf, rlen, "RWF_NOWAIT", -EAGAIN);
			unpick(w, dev, false, blk, k);
			atomic_fetch_add(&w->run->nowait, 1);
			continue;
		}
		if (write)
			res = vec ? pwritev(fds[dev], iov, 2, off) :
			      pwrite(fds[dev], buf, rlen, off);
		else
			res = vec ? preadv(fds[dev], iov, 2, off) :
			      pread(fds[dev], buf, rlen, off);
		if (res < 0)
			res = -errno;
		cat = classify(res, rlen, false);
		if (cat < 0 || cat == C_CAN) {
			st_fail(w->run, "plain %s of %u bytes returned %lld",
				write ? "write" : "read", rlen, res);
			cat = C_FAIL;
		}
		atomic_fetch_add(&w->run->accepted[dev], 1);
		atomic_fetch_add(&w->run->by_path[2], 1);
		count(w->run, dev, cat);
		if (write) {
			write_done(w, dev, blk, k, gen, cat);
		} else {
			if (cat == C_OK)
				verify_read(w, dev, blk, k, roff, rlen, buf, "plain");
			else
				check_canary(w, buf, rlen, "plain", res);
			unpick(w, dev, false, blk, k);
		}
	}
	for (d = 0; d < NDEV; d++)
		if (fds[d] >= 0)
			close_locked(w->run, fds[d]);
	buf_put(w, b);
}
