// SPDX-License-Identifier: GPL-2.0
/* aiodev stress: the ioctl workers (SUBMIT, GETEVENTS, CANCEL, closes). */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- ioctl worker ----------------------------------------------------- */

struct ireq {
	bool used, lat, tmo, tie, notmo, efd;
	__u8 op, k, cancel;		/* cancel: 1 must be -ECANCELED, 2 must not */
	__u32 blk, roff, rlen, gen;
	int buf;
	__u64 id, lat_ns, tmo_ns, t0, t1;
};

struct ictx {
	int fd, dev;
	__u32 serial;
	int nout;
	__u64 accepted, obs[NCAT], last_reaped;
	struct ireq r[IMAX];
};

static const __u64 lat_choice[] = {
	0, 1, 1000, 10000, 100000, 1000000, 5000000, 20000000,
};

static void i_open(struct worker *w, struct ictx *c, int dev)
{
	memset(c, 0, sizeof(*c));
	c->dev = dev;
	c->serial = rnd(w) & 0xffffff;
	c->fd = aio_open(dev, O_RDWR);
	if (c->fd < 0)
		st_fail(w->run, "open aiodev%d: %s", dev, strerror(errno));
}

static void i_release(struct worker *w, struct ictx *c, struct ireq *r,
		      int how)
{
	if (r->op == AIODEV_OP_READ)
		unpick(w, c->dev, false, r->blk, r->k);
	else if (r->op == AIODEV_OP_WRITE)
		write_done(w, c->dev, r->blk, r->k, r->gen, how);
	buf_put(w, r->buf);
	r->used = false;
}

static void i_submit(struct worker *w, struct ictx *c)
{
	struct aiodev_req rq[8];
	int slot[8], n, want = 1 + rnd(w) % 8, i, ret;
	__u64 t0, t1;

	for (n = 0, i = 0; i < IMAX && n < want; i++) {
		struct ireq *r = &c->r[i];
		struct aiodev_req *q = &rq[n];
		int p = rnd(w) % 100;
		bool blocks = false;

		if (r->used)
			continue;
		memset(r, 0, sizeof(*r));
		r->buf = -1;
		r->op = p < 20 ? AIODEV_OP_NOP : p < 60 ? AIODEV_OP_READ :
			AIODEV_OP_WRITE;
		if (r->op != AIODEV_OP_NOP) {
			r->buf = buf_get(w);
			if (r->buf >= 0)
				blocks = pick_blocks(w, c->dev,
						     r->op == AIODEV_OP_WRITE,
						     &r->blk, &r->k, false);
			if (!blocks) {
				buf_put(w, r->buf);
				r->buf = -1;
				r->op = AIODEV_OP_NOP;
			}
		}
		if (r->op == AIODEV_OP_NOP) {
			req_nop(q, 0);
		} else if (r->op == AIODEV_OP_WRITE) {
			r->gen = w->next_gen++;
			fill_write(w, c->dev, r->blk, r->k, r->gen, bufp(w, r->buf));
			r->rlen = r->k * BLK;
			req_init(q, AIODEV_OP_WRITE, bufp(w, r->buf),
				 (__u64)(w->first + r->blk) * BLK, r->rlen, 0);
		} else {
			if (rnd(w) % 2) {
				r->roff = rnd(w) % BLK;
				r->rlen = 1 + rnd(w) % (r->k * BLK - r->roff);
			} else {
				r->rlen = r->k * BLK;
			}
			memset(bufp(w, r->buf), CANARY, r->rlen + GUARD);
			req_init(q, AIODEV_OP_READ, bufp(w, r->buf),
				 (__u64)(w->first + r->blk) * BLK + r->roff,
				 r->rlen, 0);
		}
		q->user_data = (__u64)c->serial << 32 | i;

		/* Latencies and deadlines that collide. */
		p = rnd(w) % 100;
		if (p < 3) {
			r->lat = true;
			r->lat_ns = PARKED_NS;
		} else if (p < 70) {
			r->lat = true;
			r->lat_ns = lat_choice[rnd(w) % ARRAY_SIZE(lat_choice)];
		}
		if (r->lat)
			req_latency(q, r->lat_ns);
		p = rnd(w) % 100;
		if (p < 35) {
			__u64 base = r->lat ? r->lat_ns : 100000;

			r->tmo = true;
			switch (rnd(w) % 6) {
			case 0: r->tmo_ns = base; break;	/* the tie */
			case 1: r->tmo_ns = base / 2; break;
			case 2: r->tmo_ns = base * 2 + 1; break;
			case 3: r->tmo_ns = 0; break;
			case 4: r->tmo_ns = 1; break;
			default: r->tmo_ns = base + 1; break;
			}
			req_timeout(q, r->tmo_ns);
			r->tie = r->lat && r->tmo_ns && r->tmo_ns <= r->lat_ns;
			r->notmo = !r->tmo_ns || (r->lat && r->tmo_ns > r->lat_ns);
		}
		if (w->efd >= 0 && rnd(w) % 10 == 0) {
			r->efd = true;
			req_eventfd(q, w->efd);
		}
		slot[n++] = i;
		r->used = true;		/* reserved; confirmed below */
	}
	if (!n)
		return;
	t0 = now_ns();
	ret = aio_submit(c->fd, rq, n);
	t1 = now_ns();
	if (ret != n)
		st_fail(w->run, "SUBMIT of %d on aiodev%d returned %d", n,
			c->dev, ret);
	for (i = 0; i < n; i++) {
		struct ireq *r = &c->r[slot[i]];

		if (i >= ret) {
			r->used = false;
			if (r->op == AIODEV_OP_WRITE)
				unpick(w, c->dev, true, r->blk, r->k);
			else if (r->op == AIODEV_OP_READ)
				unpick(w, c->dev, false, r->blk, r->k);
			buf_put(w, r->buf);
			continue;
		}
		if (!rq[i].id)
			st_fail(w->run, "SUBMIT gave request id 0");
		r->id = rq[i].id;
		r->t0 = t0;
		r->t1 = t1;
		c->nout++;
		c->accepted++;
		w->efd_expected += r->efd;
		atomic_fetch_add(&w->run->accepted[c->dev], 1);
		atomic_fetch_add(&w->run->by_path[0], 1);
		atomic_fetch_add(&w->run->ties, r->tie);
		atomic_fetch_add(&w->run->efd_reqs, r->efd);
	}
}

static void i_event(struct worker *w, struct ictx *c,
		    const struct aiodev_event *ev, __u64 reap_t)
{
	__u32 slot = ev->user_data & 0xffffffff;
	struct ireq *r;
	long long want;
	int cat;

	if ((ev->user_data >> 32) != c->serial || slot >= IMAX ||
	    !c->r[slot].used || c->r[slot].id != ev->id) {
		st_fail(w->run, "event for no outstanding request: user_data %#llx id %#llx result %lld",
			(unsigned long long)ev->user_data,
			(unsigned long long)ev->id, (long long)ev->result);
		return;
	}
	r = &c->r[slot];
	want = r->op == AIODEV_OP_NOP ? 0 : r->rlen;
	cat = classify(ev->result, want, r->op == AIODEV_OP_NOP);
	if (cat < 0) {
		st_fail(w->run, "op %u len %u ended with %lld", r->op, r->rlen,
			(long long)ev->result);
		cat = C_FAIL;
	}
	if (ev->op != r->op)
		st_fail(w->run, "event op %u for a request of op %u", ev->op,
			r->op);
	if (r->cancel == 1 && cat != C_CAN)
		st_fail(w->run, "CANCEL returned 0 but the event has %lld",
			(long long)ev->result);
	if (r->cancel == 2 && cat == C_CAN)
		st_fail(w->run, "CANCEL refused but the event is -ECANCELED");
	if (r->tie && cat != C_TMO && !(cat == C_CAN && r->cancel == 1))
		st_fail(w->run, "deadline %llu <= latency %llu, result %lld",
			(unsigned long long)r->tmo_ns,
			(unsigned long long)r->lat_ns, (long long)ev->result);
	if (r->notmo && cat == C_TMO)
		st_fail(w->run, "-ETIMEDOUT with deadline %llu, latency %llu",
			(unsigned long long)r->tmo_ns,
			(unsigned long long)r->lat_ns);
	if (ev->submit_ns < r->t0 || ev->submit_ns > r->t1 ||
	    ev->complete_ns < ev->submit_ns || ev->complete_ns > reap_t)
		st_fail(w->run, "event times out of order: submit %llu in [%llu, %llu], complete %llu, reaped %llu",
			(unsigned long long)ev->submit_ns,
			(unsigned long long)r->t0, (unsigned long long)r->t1,
			(unsigned long long)ev->complete_ns,
			(unsigned long long)reap_t);
	if (cat != C_CAN) {
		__u64 lb = 0;

		if (cat == C_TMO && r->tmo)
			lb = r->tmo_ns;
		else if (cat != C_TMO && r->lat)
			lb = r->lat_ns;
		if (ev->complete_ns - ev->submit_ns < lb)
			st_fail(w->run, "completed %llu ns after submission, before its %llu ns",
				(unsigned long long)(ev->complete_ns - ev->submit_ns),
				(unsigned long long)lb);
	}
	if (r->op == AIODEV_OP_READ) {
		if (cat == C_OK)
			verify_read(w, c->dev, r->blk, r->k, r->roff, r->rlen,
				    bufp(w, r->buf), "ioctl");
		else
			check_canary(w, bufp(w, r->buf), r->rlen, "ioctl",
				     ev->result);
	}
	c->obs[cat]++;
	count(w->run, c->dev, cat);
	c->nout--;
	c->last_reaped = r->id;
	i_release(w, c, r, cat);
}

static int i_reap(struct worker *w, struct ictx *c, __u32 min_nr,
		  __u32 max_nr, __s64 tmo)
{
	struct aiodev_event ev[64];
	int ret, i;
	__u64 t;

	ret = aio_getevents(c->fd, ev, min_nr, max_nr, tmo);
	t = now_ns();
	if (ret < 0) {
		st_fail(w->run, "GETEVENTS(%u, %u, %lld): %d", min_nr, max_nr,
			(long long)tmo, ret);
		return ret;
	}
	if ((__u32)ret > max_nr)
		st_fail(w->run, "GETEVENTS returned %d > max_nr %u", ret, max_nr);
	for (i = 0; i < ret; i++)
		i_event(w, c, &ev[i], t);
	return ret;
}

static void i_cancel(struct worker *w, struct ictx *c)
{
	int i = rnd(w) % IMAX, ret;
	struct ireq *r;

	if (rnd(w) % 8 == 0) {
		/* A reaped id, or one that never existed. */
		__u64 id = rnd(w) % 2 ? c->last_reaped : rnd(w) | 1ULL << 63;

		if (!id)
			return;
		ret = aio_cancel(c->fd, id);
		if (ret != -ENOENT)
			st_fail(w->run, "CANCEL of dead id %#llx: %d",
				(unsigned long long)id, ret);
		atomic_fetch_add(&w->run->cancels[2], 1);
		return;
	}
	for (; i < IMAX && !c->r[i].used; i++)
		;
	if (i == IMAX)
		return;
	r = &c->r[i];
	ret = aio_cancel(c->fd, r->id);
	if (ret == 0) {
		if (r->cancel == 1)
			st_fail(w->run, "CANCEL of the same request returned 0 twice");
		r->cancel = 1;
		atomic_fetch_add(&w->run->cancels[0], 1);
	} else if (ret == -EALREADY || ret == -ENOENT) {
		if (!r->cancel)
			r->cancel = 2;
		atomic_fetch_add(&w->run->cancels[1], 1);
	} else {
		st_fail(w->run, "CANCEL returned %d", ret);
	}
}

/* Per-context accounting, before its close. @exact: everything reaped. */
static void i_check_ctx(struct worker *w, struct ictx *c, bool exact)
{
	struct aiodev_counters s = ctx_counters(w->run, c->fd);
	__u64 have[NCAT] = { s.completed_ok, s.timed_out, s.cancelled,
			     s.failed };
	int k;

	if (s.submitted != c->accepted)
		st_fail(w->run, "context submitted %llu, we had %llu accepted",
			(unsigned long long)s.submitted,
			(unsigned long long)c->accepted);
	if (s.submitted != counters_sum(&s))
		st_fail(w->run, "context counters do not add up");
	for (k = 0; k < NCAT; k++) {
		if (exact ? have[k] != c->obs[k] : have[k] < c->obs[k])
			st_fail(w->run, "context %s %llu, events seen %llu",
				cat_name[k], (unsigned long long)have[k],
				(unsigned long long)c->obs[k]);
	}
	if (exact && s.in_flight)
		st_fail(w->run, "context in_flight %llu after reaping all",
			(unsigned long long)s.in_flight);
}

/* Cancel what is outstanding and reap all of it, within DRAIN_NS. */
static void i_drain(struct worker *w, struct ictx *c)
{
	__u64 deadline = now_ns() + DRAIN_NS;
	struct aiodev_event ev;
	int i;

	for (i = 0; i < IMAX; i++) {
		struct ireq *r = &c->r[i];
		int ret;

		if (!r->used || r->cancel == 1)
			continue;
		ret = aio_cancel(c->fd, r->id);
		if (ret == 0)
			r->cancel = 1;
		else if (ret == -EALREADY || ret == -ENOENT)
			r->cancel = r->cancel ?: 2;
		else
			st_fail(w->run, "CANCEL (drain) returned %d", ret);
	}
	while (c->nout && now_ns() < deadline)
		if (i_reap(w, c, c->nout > 64 ? 64 : c->nout, 64,
			   NSEC_PER_SEC) < 0)
			break;
	if (c->nout)
		st_fail(w->run, "%d requests never completed (aiodev%d)",
			c->nout, c->dev);
	else if (aio_getevents(c->fd, &ev, 0, 1, 0) != 0)
		st_fail(w->run, "an event after all requests were reaped");
}

/* Close: gracefully (drain, exact counters) or with requests in flight. */
static void i_close(struct worker *w, struct ictx *c, bool graceful)
{
	int i;

	if (c->fd < 0)
		return;
	if (graceful)
		i_drain(w, c);
	i_check_ctx(w, c, !c->nout);
	if (c->nout)
		atomic_fetch_add(&w->run->abrupt, 1);
	else
		atomic_fetch_add(&w->run->graceful, 1);
	if (close_locked(w->run, c->fd))
		st_fail(w->run, "close: %s", strerror(errno));
	/* Closed: everything in flight is done (cancelled or completed). */
	for (i = 0; i < IMAX; i++)
		if (c->r[i].used)
			i_release(w, c, &c->r[i], -1);
	c->fd = -1;
}

void ioctl_worker(struct worker *w)
{
	struct ictx *ctx = calloc(ICTX, sizeof(*ctx));
	int i;

	if (!ctx) {
		st_fail(w->run, "calloc");
		return;
	}
	for (i = 0; i < ICTX; i++)
		i_open(w, &ctx[i], i % NDEV);
	while (!stopping(w->run)) {
		struct ictx *c = &ctx[rnd(w) % ICTX];
		int p = rnd(w) % 1000;

		if (c->fd < 0)
			break;
		if (p < 450) {
			i_submit(w, c);
		} else if (p < 850) {
			__u32 min = c->nout ? rnd(w) % (c->nout + 1) : 0;
			static const __s64 tmo[] = { 0, 0, 100000, 2000000 };

			i_reap(w, c, min, min + 1 + rnd(w) % 8,
			       tmo[rnd(w) % ARRAY_SIZE(tmo)]);
		} else if (p < 990) {
			i_cancel(w, c);
		} else {
			int dev = c->dev;

			i_close(w, c, p < 995);
			i_open(w, c, dev);
		}
	}
	for (i = 0; i < ICTX; i++)
		i_close(w, &ctx[i], true);
	free(ctx);
}
