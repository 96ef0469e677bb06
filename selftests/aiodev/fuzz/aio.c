// SPDX-License-Identifier: GPL-2.0
/* aiodev fuzzer: kernel AIO (io_submit, io_getevents, io_cancel). */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- kernel AIO --------------------------------------------------------- */

static long sys_io_submit(aio_context_t c, long n, struct iocb **p)
{
	long r = syscall(__NR_io_submit, c, n, p);

	return r < 0 ? -errno : r;
}

static long sys_io_getevents(aio_context_t c, long min, long max,
			     struct io_event *ev, struct timespec *ts)
{
	long r = syscall(__NR_io_getevents, c, min, max, ev, ts);

	return r < 0 ? -errno : r;
}

static long sys_io_cancel(aio_context_t c, struct iocb *cb,
			  struct io_event *ev)
{
	long r = syscall(__NR_io_cancel, c, cb, ev);

	return r < 0 ? -errno : r;
}

/* Reap what is ready and check every result. */
void fz_ioreap(struct th *t, long min, __u64 tmo)
{
	struct io_event ev[64];
	struct timespec ts = { tmo / NSEC_PER_SEC, tmo % NSEC_PER_SEC };
	long ret, i;

	ret = note(t, F_IOGETEV, sys_io_getevents(t->actx, min, 64, ev, &ts), 0);
	for (i = 0; i < ret; i++) {
		__u64 off = ev[i].obj - (uintptr_t)t->cbs;
		__u64 k = off / sizeof(struct iocb);
		bool ours = k < NCB && !(off % sizeof(struct iocb));

		if ((long long)ev[i].res < 0)
			note_win(t, F_IOEVENT, (long long)ev[i].res, ev[i].obj,
				 ours ? &t->cbw[k] : NULL);
		if (ours)
			t->busy &= ~(1ULL << k);
	}
}

static int nbusy(struct th *t)
{
	return __builtin_popcountll(t->busy);
}

void fz_iosubmit(struct th *t)
{
	static const __u16 ops[] = {
		IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_CMD_PREADV,
		IOCB_CMD_PWRITEV, IOCB_CMD_POLL, IOCB_CMD_FSYNC,
		IOCB_CMD_FDSYNC, IOCB_CMD_NOOP, 9, 0xffff,
	};
	static const int rwf[] = { 0, RWF_NOWAIT, RWF_HIPRI, RWF_DSYNC,
				   RWF_SYNC, RWF_APPEND, 0x40, 0x80000000 };
	struct fz *fz = t->fz;
	struct iocb **pp = (struct iocb **)(t->arr + PAGE_SZ);
	struct iovec *iov = (struct iovec *)t->arr;
	int n = 1 + rnd(t) % 8, i, pk, idx[8], dev[8];
	__u64 free;
	struct win w[NDEV];
	struct sref sr;
	long ret;

	if (nbusy(t) + n > 48) {
		fz_ioreap(t, 0, 0);
		if (nbusy(t) + n > 48) {
			/* Polls that never fire: cancel everything, start over. */
			syscall(__NR_io_destroy, t->actx);
			t->actx = 0;
			t->busy = 0;
			if (syscall(__NR_io_setup, 64, &t->actx))
				return;
		}
	}
	/* Iocbs not in flight: an event finds its submission's window. */
	free = ~t->busy;
	for (i = 0; i < n; i++) {
		struct iocb *cb;
		__u64 len = chance(t, 80) ? rnd(t) % 16384 : pick_len(t);

		idx[i] = __builtin_ctzll(free);
		free &= free - 1;
		cb = &t->cbs[idx[i]];
		memset(cb, 0, sizeof(*cb));
		cb->aio_data = rnd(t);
		cb->aio_lio_opcode = chance(t, 80) ? ops[rnd(t) % 4] :
				     ops[rnd(t) % ARRAY_SIZE(ops)];
		if (chance(t, 80)) {
			cb->aio_fildes = pick_fd_b(t, &sr);
			dev[i] = sr.dev;
		} else if (chance(t, 50)) {
			cb->aio_fildes = pick_fd_a(t, &sr);
			dev[i] = sr.dev;
		} else {
			cb->aio_fildes = junk_fd(t);
			dev[i] = -1;
		}
		cb->aio_buf = data_ptr(t, len, &pk);
		cb->aio_nbytes = len;
		cb->aio_offset = pick_off(t, fz->size, len);
		if (cb->aio_lio_opcode == IOCB_CMD_PWRITE ||
		    cb->aio_lio_opcode == IOCB_CMD_PWRITEV)
			cb->aio_offset = avoid_zero(cb->aio_offset % fz->size,
						    len);
		if (cb->aio_lio_opcode == IOCB_CMD_PREADV ||
		    cb->aio_lio_opcode == IOCB_CMD_PWRITEV) {
			iov[i] = (struct iovec){ (void *)(uintptr_t)cb->aio_buf,
						 len };
			cb->aio_buf = (__u64)(uintptr_t)&iov[i];
			cb->aio_nbytes = chance(t, 90) ? 1 : pick_u32(t, 1024);
			if (cb->aio_nbytes > 1)
				cb->aio_buf = (__u64)(uintptr_t)(t->arr +
						ARG_BYTES - 16);
		}
		if (cb->aio_lio_opcode == IOCB_CMD_POLL) {
			cb->aio_buf = chance(t, 80) ? POLLOUT : rnd(t);
			cb->aio_nbytes = chance(t, 80) ? 0 : rnd(t);
			cb->aio_offset = chance(t, 80) ? 0 : rnd(t);
		}
		if (chance(t, 20))
			cb->aio_rw_flags = rwf[rnd(t) % ARRAY_SIZE(rwf)];
		if (chance(t, 5)) {
			cb->aio_flags = IOCB_FLAG_RESFD;
			cb->aio_resfd = junk_fd(t);
		}
		if (chance(t, 5))
			cb->aio_flags |= IOCB_FLAG_IOPRIO;
		if (chance(t, 5))
			cb->aio_reqprio = rnd(t);
		if (chance(t, 3))
			cb->aio_reserved2 = rnd(t);
		pp[i] = cb;
	}
	for (i = 0; i < NDEV; i++)
		win_begin(fz, &w[i], i);
	switch (rnd(t) % 20) {
	case 0:
		ret = sys_io_submit(rnd(t) % 2 ? 0 : rnd(t), n, pp);
		break;
	case 1:
		ret = sys_io_submit(t->actx, chance(t, 50) ? -1 : 0, pp);
		break;
	case 2:
		ret = sys_io_submit(t->actx, n,
				    (struct iocb **)(uintptr_t)kernel_ptrs[0]);
		break;
	case 3:
		pp[rnd(t) % n] = (struct iocb *)(uintptr_t)
				 noncanon_ptrs[rnd(t) % 4];
		ret = sys_io_submit(t->actx, n, pp);
		break;
	default:
		ret = sys_io_submit(t->actx, n, pp);
		break;
	}
	for (i = 0; i < NDEV; i++)
		win_end(fz, &w[i]);
	note(t, F_IOSUBMIT, ret, n);
	/* The first @ret are in flight; a device took its configuration then. */
	for (i = 0; i < ret && i < n; i++) {
		t->busy |= 1ULL << idx[i];
		t->cbw[idx[i]] = dev[i] < 0 ? (struct win){ .dev = -1 } :
						w[dev[i]];
	}
	if (ret > n) {
		t->violations++;
		report(fz, "io_submit of %d returned %ld", n, ret);
	}
	if (chance(t, 30)) {
		struct io_event e;
		long r = sys_io_cancel(chance(t, 90) ? t->actx : 0,
				       &t->cbs[rnd(t) % NCB], &e);

		note(t, F_IOCANCEL, r, 0);
		if (r >= 0) {
			t->violations++;
			report(fz, "io_cancel returned %ld", r);
		}
	}
	fz_ioreap(t, 0, chance(t, 10) ? 100000 : 0);
}
