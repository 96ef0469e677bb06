// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the libaio workers (io_submit, io_getevents, io_cancel,
 * io_destroy and closes with requests in flight).
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- libaio worker ---------------------------------------------------- */

struct lreq {
	bool used;
	__u8 op, k, cancel;
	int dev, buf;
	__u32 blk, roff, rlen, gen;
	struct iovec iov[2];
	struct iocb cb;
};

struct lfd {
	int fd, dev;
	bool direct;
	__u64 accepted;
};

struct lw {
	io_context_t ctx;
	struct lfd fds[LFDS];
	struct lreq r[LMAX];
	int nout;
};

static void l_open(struct worker *w, struct lfd *f, int dev, bool direct)
{
	f->dev = dev;
	f->direct = direct;
	f->accepted = 0;
	f->fd = aio_open(dev, O_RDWR | (direct ? O_DIRECT : 0));
	if (f->fd < 0)
		st_fail(w->run, "open aiodev%d: %s", dev, strerror(errno));
}

static void l_close(struct worker *w, struct lfd *f)
{
	struct aiodev_counters s;

	if (f->fd < 0)
		return;
	s = ctx_counters(w->run, f->fd);
	if (s.submitted != f->accepted)
		st_fail(w->run, "libaio fd: context submitted %llu, io_submit accepted %llu",
			(unsigned long long)s.submitted,
			(unsigned long long)f->accepted);
	if (s.submitted != counters_sum(&s))
		st_fail(w->run, "libaio fd: context counters do not add up");
	atomic_fetch_add(&w->run->fdcloses, 1);
	if (close_locked(w->run, f->fd))
		st_fail(w->run, "close: %s", strerror(errno));
	f->fd = -1;
}

static void l_release(struct worker *w, struct lreq *r, int how)
{
	if (r->op == AIODEV_OP_READ)
		unpick(w, r->dev, false, r->blk, r->k);
	else
		write_done(w, r->dev, r->blk, r->k, r->gen, how);
	buf_put(w, r->buf);
	r->used = false;
}

static void l_submit(struct worker *w, struct lw *l)
{
	struct iocb *pp[8];
	int idx[8], n = 0, want = 1 + rnd(w) % 8, i, ret;

	for (i = 0; i < LMAX && n < want; i++) {
		struct lreq *r = &l->r[i];
		int fi = rnd(w) % LFDS;
		struct lfd *f = &l->fds[fi];
		unsigned char *b;
		__u64 off;

		if (r->used || f->fd < 0)
			continue;
		memset(r, 0, sizeof(*r));
		r->dev = f->dev;
		r->op = rnd(w) % 2 ? AIODEV_OP_READ : AIODEV_OP_WRITE;
		r->buf = buf_get(w);
		if (r->buf < 0)
			break;
		if (!pick_blocks(w, r->dev, r->op == AIODEV_OP_WRITE, &r->blk,
				 &r->k, false)) {
			buf_put(w, r->buf);
			continue;
		}
		b = bufp(w, r->buf);
		r->rlen = r->k * BLK;
		if (r->op == AIODEV_OP_WRITE) {
			r->gen = w->next_gen++;
			fill_write(w, r->dev, r->blk, r->k, r->gen, b);
		} else {
			if (!f->direct && rnd(w) % 2) {
				r->roff = rnd(w) % BLK;
				r->rlen = 1 + rnd(w) % (r->k * BLK - r->roff);
			}
			memset(b, CANARY, r->rlen + GUARD);
		}
		off = (__u64)(w->first + r->blk) * BLK + r->roff;
		if (rnd(w) % 3 == 0 && r->rlen >= 2) {
			/* Vectored, in two pieces (block-aligned for O_DIRECT). */
			__u32 cut = 1 + rnd(w) % (r->rlen - 1);

			if (f->direct)
				cut = r->k > 1 ? BLK * (1 + rnd(w) % (r->k - 1)) : 0;
			if (!cut) {
				r->iov[0] = (struct iovec){ b, r->rlen };
			} else {
				r->iov[0] = (struct iovec){ b, cut };
				r->iov[1] = (struct iovec){ b + cut, r->rlen - cut };
			}
			if (r->op == AIODEV_OP_READ)
				io_prep_preadv(&r->cb, f->fd, r->iov, cut ? 2 : 1,
					       off);
			else
				io_prep_pwritev(&r->cb, f->fd, r->iov, cut ? 2 : 1,
						off);
		} else if (r->op == AIODEV_OP_READ) {
			io_prep_pread(&r->cb, f->fd, b, r->rlen, off);
		} else {
			io_prep_pwrite(&r->cb, f->fd, b, r->rlen, off);
		}
		r->cb.data = (void *)(uintptr_t)fi;
		r->used = true;
		pp[n] = &r->cb;
		idx[n++] = i;
	}
	if (!n)
		return;
	ret = io_submit(l->ctx, n, pp);
	if (ret != n)
		st_fail(w->run, "io_submit of %d returned %d", n, ret);
	for (i = 0; i < n; i++) {
		struct lreq *r = &l->r[idx[i]];

		if (i >= ret) {
			unpick(w, r->dev, r->op == AIODEV_OP_WRITE, r->blk, r->k);
			buf_put(w, r->buf);
			r->used = false;
			continue;
		}
		l->nout++;
		l->fds[(uintptr_t)r->cb.data].accepted++;
		atomic_fetch_add(&w->run->accepted[r->dev], 1);
		atomic_fetch_add(&w->run->by_path[1], 1);
	}
}

static void l_event(struct worker *w, struct lw *l, const struct io_event *ev)
{
	struct lreq *r = (struct lreq *)((char *)ev->obj -
					 offsetof(struct lreq, cb));
	long long res = (long)ev->res;
	int cat;

	if (r < l->r || r >= l->r + LMAX || !r->used) {
		st_fail(w->run, "io_event for no outstanding iocb (res %lld)", res);
		return;
	}
	cat = classify(res, r->rlen, false);
	if (cat < 0) {
		st_fail(w->run, "libaio %s of %u bytes ended with %lld",
			r->op == AIODEV_OP_READ ? "read" : "write", r->rlen, res);
		cat = C_FAIL;
	}
	if (r->cancel == 1 && cat != C_CAN)
		st_fail(w->run, "io_cancel said -EINPROGRESS, event has %lld", res);
	if (r->cancel == 2 && cat == C_CAN)
		st_fail(w->run, "io_cancel refused, event is -ECANCELED");
	if (r->op == AIODEV_OP_READ) {
		if (cat == C_OK)
			verify_read(w, r->dev, r->blk, r->k, r->roff, r->rlen,
				    bufp(w, r->buf), "libaio");
		else
			check_canary(w, bufp(w, r->buf), r->rlen, "libaio", res);
	}
	count(w->run, r->dev, cat);
	l->nout--;
	l_release(w, r, cat);
}

static int l_reap(struct worker *w, struct lw *l, long min, long max,
		  __u64 tmo)
{
	struct timespec ts = { tmo / NSEC_PER_SEC, tmo % NSEC_PER_SEC };
	struct io_event ev[64];
	int ret, i;

	if (max > 64)
		max = 64;
	ret = io_getevents(l->ctx, min, max, ev, &ts);
	if (ret < 0) {
		st_fail(w->run, "io_getevents: %d", ret);
		return ret;
	}
	for (i = 0; i < ret; i++)
		l_event(w, l, &ev[i]);
	return ret;
}

static void l_cancel(struct worker *w, struct lw *l, struct lreq *r)
{
	struct io_event dummy;
	int ret = io_cancel(l->ctx, &r->cb, &dummy);

	if (ret == -EINPROGRESS) {
		if (r->cancel == 1)
			st_fail(w->run, "io_cancel of one iocb -EINPROGRESS twice");
		r->cancel = 1;
		atomic_fetch_add(&w->run->io_cancels[0], 1);
	} else if (ret == -EAGAIN || ret == -EINVAL) {
		if (!r->cancel)
			r->cancel = 2;
		atomic_fetch_add(&w->run->io_cancels[ret == -EAGAIN ? 1 : 2], 1);
	} else {
		st_fail(w->run, "io_cancel returned %d", ret);
	}
}

/* io_destroy() with requests in flight: it cancels and waits for them. */
static void l_destroy(struct worker *w, struct lw *l, bool final)
{
	int i, ret;

	ret = io_destroy(l->ctx);
	if (ret)
		st_fail(w->run, "io_destroy: %d", ret);
	for (i = 0; i < LMAX; i++)
		if (l->r[i].used)
			l_release(w, &l->r[i], -1);
	l->nout = 0;
	l->ctx = 0;
	atomic_fetch_add(&w->run->destroys, !final);
	if (!final && io_setup(128, &l->ctx))
		st_fail(w->run, "io_setup failed");
}

void libaio_worker(struct worker *w)
{
	struct lw *l = calloc(1, sizeof(*l));
	__u64 deadline;
	int i;

	if (!l || io_setup(128, &l->ctx)) {
		st_fail(w->run, "libaio setup failed");
		free(l);
		return;
	}
	for (i = 0; i < LFDS; i++)
		l_open(w, &l->fds[i], i % NDEV, i >= NDEV);
	while (!stopping(w->run)) {
		int p = rnd(w) % 1000;

		if (p < 450) {
			l_submit(w, l);
		} else if (p < 850) {
			long min = l->nout ? rnd(w) % (l->nout + 1) : 0;
			static const __u64 tmo[] = { 0, 0, 100000, 2000000 };

			l_reap(w, l, min, min + 1 + rnd(w) % 8,
			       tmo[rnd(w) % ARRAY_SIZE(tmo)]);
		} else if (p < 990) {
			struct lreq *r = &l->r[rnd(w) % LMAX];

			if (r->used)
				l_cancel(w, l, r);
		} else if (p < 995) {
			l_destroy(w, l, false);
		} else {
			/* close(fd) with requests in flight: they go on. */
			struct lfd *f = &l->fds[rnd(w) % LFDS];

			l_close(w, f);
			l_open(w, f, f->dev, f->direct);
		}
	}
	/* Cancel the rest, reap everything, then the fds' accounting. */
	for (i = 0; i < LMAX; i++)
		if (l->r[i].used && l->r[i].cancel != 1)
			l_cancel(w, l, &l->r[i]);
	deadline = now_ns() + DRAIN_NS;
	while (l->nout && now_ns() < deadline)
		if (l_reap(w, l, l->nout, 64, NSEC_PER_SEC) < 0)
			break;
	if (l->nout)
		st_fail(w->run, "%d libaio requests never completed", l->nout);
	for (i = 0; i < LFDS; i++)
		l_close(w, &l->fds[i]);
	l_destroy(w, l, true);
	free(l);
}
