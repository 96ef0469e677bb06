// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the holder (held requests released, cancelled, closed or
 * timed out) and its racer thread.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- holder: held requests released, cancelled, closed, timed out ------ */

/*
 * The holder owns [HOLD_OFF, +HOLD_LEN) of each device, holding a known
 * pattern. Each phase adds a hold rule for its own reads of the range
 * (sometimes with a safety deadline), submits a few through the ioctl and
 * libaio, and then releases some of them in a random order with random
 * results (some parked) while a racer thread CANCELs or io_cancels some,
 * or closes the ioctl file; what stays held is released at the end, or
 * times out. Each request must end exactly once: as the release that
 * returned it released it says, -ECANCELED if a cancel won, -ETIMEDOUT at
 * the deadline; a read the rule may not have held (a CLEAR or LOAD of the
 * rules thread) ends as any plain read.
 */

static unsigned char *hslot(struct holder *ho, int i)
{
	return ho->buf + i * (BLK + GUARD);
}

/* The racer: cancel some requests, or close the ioctl file under them. */
static void *hold_racer(void *arg)
{
	struct holder *ho = arg;
	int i, ret;

	while (!atomic_load(&ho->go))
		;
	if (ho->close_ifd) {
		close_locked(ho->run, ho->ifd[ho->dev]);
		return NULL;
	}
	for (i = 0; i < ho->n; i++) {
		struct hreq *q = &ho->q[i];
		struct io_event ev;

		if (rnd_next(&ho->racer_rng) % 3)
			continue;
		if (q->path == AIODEV_PATH_IOCTL) {
			ret = aio_cancel(ho->ifd[ho->dev], q->id);
			q->cancel_won = !ret;
			if (ret && ret != -EALREADY && ret != -ENOENT)
				st_fail(ho->run, "holder: CANCEL: %d", ret);
		} else {
			ret = io_cancel(ho->aio[ho->dev], &q->cb, &ev);
			q->cancel_won = ret == -EINPROGRESS;
			if (ret != -EINPROGRESS && ret != -EAGAIN && ret != -EINVAL)
				st_fail(ho->run, "holder: io_cancel: %d", ret);
		}
	}
	return NULL;
}

/* The result a release gives a read of @len bytes, and the bytes it moves. */
static long long release_result(const struct aiodev_release *r, __u32 len,
				__u32 *moved)
{
	__u32 part = r->bytes < len ? r->bytes : len;

	*moved = 0;
	switch (r->kind) {
	case AIODEV_RELEASE_OK:
		*moved = len;
		return len;
	case AIODEV_RELEASE_SHORT:
		*moved = part;
		return part;
	case AIODEV_RELEASE_TORN:
		*moved = part;
		return -r->error;
	case AIODEV_RELEASE_ERROR:
		return -r->error;
	default:	/* CANCEL */
		return -ECANCELED;
	}
}

static void hold_pick(struct holder *ho, struct aiodev_release *r,
		      struct hreq *q)
{
	__u64 x = rnd_next(&ho->rng);

	*r = (struct aiodev_release){ .hold_id = q->hold_id };
	r->kind = AIODEV_RELEASE_OK + x % 5;
	if (r->kind == AIODEV_RELEASE_SHORT || r->kind == AIODEV_RELEASE_TORN)
		r->bytes = (x >> 8) % q->len;
	if (r->kind == AIODEV_RELEASE_ERROR || r->kind == AIODEV_RELEASE_TORN)
		r->error = ENOLINK;
	if (r->kind != AIODEV_RELEASE_CANCEL && (x >> 24) % 4 == 0)
		r->flags = AIODEV_RELEASE_PARK;
}

/* Release @nr of @rel, and mark those it released (parked or not). */
static int hold_release(struct holder *ho, struct aiodev_release *rel, int nr)
{
	struct aiodev_release_list l = {
		.releases = (__u64)(uintptr_t)rel,
		.nr = nr,
	};
	int ret = aio_ioctl(ho->fd[ho->dev], AIODEV_IOC_RELEASE, &l), i, k;

	if (ret < 0 && ret != -ENOENT) {
		st_fail(ho->run, "holder: RELEASE of %d: %d", nr, ret);
		return ret;
	}
	for (i = 0; i < ret; i++) {
		for (k = 0; k < ho->n; k++) {
			struct hreq *q = &ho->q[k];

			if (q->hold_id != rel[i].hold_id)
				continue;
			/* A parked request's second release keeps its result. */
			if (!q->released || rel[i].kind != AIODEV_RELEASE_PLANNED)
				q->how = rel[i];
			q->released = true;
		}
	}
	return ret;
}

/* This phase's requests the device holds (by hold id): how many. */
static int hold_list_mine(struct holder *ho, struct aiodev_held *h, int nr)
{
	struct aiodev_held all[64];
	struct aiodev_held_list l = { .held = (__u64)(uintptr_t)all, .nr = 64 };
	int ret = aio_ioctl(ho->fd[ho->dev], AIODEV_IOC_HELD_LIST, &l), i, k;
	int mine = 0;

	if (ret < 0) {
		st_fail(ho->run, "holder: HELD_LIST: %d", ret);
		return 0;
	}
	for (i = 0; i < ret && i < 64; i++) {
		if (all[i].tgid != getpid() || all[i].offset < HOLD_OFF ||
		    all[i].offset >= HOLD_OFF + HOLD_LEN)
			st_fail(ho->run, "holder: aiodev%d holds a request not its own (tgid %d, offset %llu)",
				ho->dev, all[i].tgid,
				(unsigned long long)all[i].offset);
		for (k = 0; k < ho->n; k++)
			if (ho->q[k].off == all[i].offset && mine < nr)
				h[mine++] = all[i];
	}
	return mine;
}

static bool hold_buf_ok(struct holder *ho, int i, __u32 moved)
{
	const struct hreq *q = &ho->q[i];

	return !memcmp(hslot(ho, i), ho->pat + (q->off - HOLD_OFF), moved) &&
	       find_not(hslot(ho, i) + moved, q->len - moved + GUARD,
			CANARY) < 0;
}

/* How request @i ended: the category to count, or -1 if it may not. */
static int hold_check(struct holder *ho, int i, __u64 deadline, bool sure)
{
	struct hreq *q = &ho->q[i];
	__u32 moved;
	int cat;

	if (q->released && q->cancel_won)
		return -1;
	if (q->released) {
		if (q->res != release_result(&q->how, q->len, &moved) ||
		    !hold_buf_ok(ho, i, moved))
			return -1;
		return q->res >= 0 ? C_OK : q->res == -ECANCELED ? C_CAN : C_FAIL;
	}
	if (q->cancel_won)
		return q->res == -ECANCELED && hold_buf_ok(ho, i, 0) ? C_CAN : -1;
	if (q->hold_id)	/* held, neither released nor cancelled */
		return deadline && q->res == -ETIMEDOUT &&
		       hold_buf_ok(ho, i, 0) ? C_TMO : -1;
	/* Not listed: the deadline came first, or the rule was gone. */
	if (sure && !deadline)
		return -1;
	cat = classify(q->res, q->len, false);
	if (cat < 0 || cat == C_CAN || q->res == -ERR_RANGE)
		return -1;
	return hold_buf_ok(ho, i, cat == C_OK ? q->len : 0) ? cat : -1;
}

static void hold_phase(struct holder *ho)
{
	struct run *run = ho->run;
	atomic_ullong *stat = run->hold_stat;
	__u64 x = rnd_next(&ho->rng), deadline;
	struct aiodev_rule r = { 0 };
	struct aiodev_release rel[HOLD_MAX];
	struct aiodev_held h[HOLD_MAX];
	struct iocb *cbs[HOLD_MAX];
	struct io_event ioev[HOLD_MAX];
	struct aiodev_event ev[HOLD_MAX];
	int dev = x % NDEV, i, k, n, nioctl = 0, naio = 0, ret, held, tries;
	unsigned int e0;
	pthread_t th;
	bool sure;

	ho->dev = dev;
	ho->n = n = 2 + (x >> 1) % (HOLD_MAX - 1);
	deadline = (x >> 4) % 3 == 0 ? 200000 + (x >> 8) % MSEC(5) : 0;
	r.flags = AIODEV_RULE_HOLD;
	r.hold_nsec = deadline;
	r.ops = 1U << AIODEV_OP_READ;
	r.paths = 1U << AIODEV_PATH_IOCTL | 1U << AIODEV_PATH_AIO;
	r.offset = HOLD_OFF;
	r.range_len = HOLD_LEN;
	r.tgid = getpid();
	e0 = atomic_load(&run->rules_epoch);
	ret = aio_ioctl(ho->fd[dev], AIODEV_IOC_RULE_ADD, &r);
	if (ret) {
		st_fail(run, "holder: RULE_ADD on aiodev%d: %d", dev, ret);
		return;
	}

	/* Distinct blocks of the range, half through each path. */
	k = (x >> 20) % (HOLD_LEN / BLK);
	for (i = 0; i < n; i++) {
		struct hreq *q = &ho->q[i];
		__u64 y = rnd_next(&ho->rng);

		memset(q, 0, sizeof(*q));
		q->path = y % 2 ? AIODEV_PATH_AIO : AIODEV_PATH_IOCTL;
		q->len = 1 + (y >> 8) % BLK;
		q->off = HOLD_OFF + (__u64)((k + i) % (HOLD_LEN / BLK)) * BLK;
		memset(hslot(ho, i), CANARY, BLK + GUARD);
		if (q->path == AIODEV_PATH_IOCTL) {
			struct aiodev_req rq;

			req_init(&rq, AIODEV_OP_READ, hslot(ho, i), q->off,
				 q->len, i);
			ret = aio_submit1(ho->ifd[dev], &rq);
			q->id = rq.id;
			nioctl++;
		} else {
			cbs[0] = &q->cb;
			io_prep_pread(&q->cb, ho->fd[dev], hslot(ho, i), q->len,
				      q->off);
			q->cb.data = (void *)(uintptr_t)i;
			ret = io_submit(ho->aio[dev], 1, cbs) == 1 ? 0 : -EIO;
			naio++;
		}
		if (ret) {
			st_fail(run, "holder: submit on aiodev%d: %d", dev, ret);
			ho->n = n = i;
			break;
		}
		atomic_fetch_add(&run->accepted[dev], 1);
		atomic_fetch_add(&run->by_path[5], 1);
	}
	/* Held from submission on: list them. */
	held = hold_list_mine(ho, h, HOLD_MAX);
	sure = !(e0 & 1) && atomic_load(&run->rules_epoch) == e0;
	if (sure && !deadline && held != n)
		st_fail(run, "holder: %d of %d reads held under its rule", held,
			n);
	for (i = 0; i < held; i++)
		for (k = 0; k < n; k++)
			if (ho->q[k].off == h[i].offset)
				ho->q[k].hold_id = h[i].hold_id;

	/* Release some, in a random order, while the racer cancels. */
	ho->close_ifd = (x >> 40) % 16 == 0 && nioctl;
	ho->racer_rng = rnd_next(&ho->rng) | 1;
	atomic_store(&ho->go, 0);
	if (pthread_create(&th, NULL, hold_racer, ho)) {
		st_fail(run, "holder: pthread_create");
		return;
	}
	for (i = 0, k = 0; i < held; i++) {
		int j = rnd_next(&ho->rng) % (i + 1);

		h[k] = h[i];
		if (j != i) {
			struct aiodev_held t = h[j];

			h[j] = h[k];
			h[k] = t;
		}
		k++;
	}
	k = held ? rnd_next(&ho->rng) % (held + 1) : 0;
	for (i = 0; i < k; i++) {
		int m;

		for (m = 0; m < n && ho->q[m].hold_id != h[i].hold_id; m++)
			;
		hold_pick(ho, &rel[i], &ho->q[m]);
	}
	atomic_store(&ho->go, 1);
	if (k)
		hold_release(ho, rel, k);
	pthread_join(th, NULL);

	/* Sometimes let the safety deadline end what is still held. */
	if (deadline && (x >> 44) % 2)
		sleep_ns(deadline + MSEC(1));
	/* Release what is still held (parked ones as parked). */
	for (tries = 0; tries < 100; tries++) {
		int m = hold_list_mine(ho, h, HOLD_MAX);

		if (!m)
			break;
		for (i = 0; i < m; i++) {
			rel[i] = (struct aiodev_release){ .hold_id = h[i].hold_id };
			rel[i].kind = h[i].flags & AIODEV_HELD_PARKED ?
				      AIODEV_RELEASE_PLANNED : AIODEV_RELEASE_OK;
			if (h[i].flags & AIODEV_HELD_PARKED)
				atomic_fetch_add(&stat[HW_PARKED], 1);
		}
		hold_release(ho, rel, m);
	}
	if (tries == 100)
		st_fail(run, "holder: aiodev%d still holds its requests", dev);

	/* Reap: exactly one event each. */
	if (ho->close_ifd) {
		atomic_fetch_add(&stat[HW_CLOSED], 1);
		ho->ifd[dev] = aio_open(dev, O_RDWR);
		if (ho->ifd[dev] < 0)
			st_fail(run, "holder: reopen aiodev%d", dev);
	} else if (nioctl) {
		ret = aio_reap(ho->ifd[dev], ev, nioctl, DRAIN_NS);
		for (i = 0; i < ret; i++) {
			struct hreq *q = &ho->q[ev[i].user_data % HOLD_MAX];

			if (ev[i].user_data >= (__u64)n || q->seen ||
			    q->path != AIODEV_PATH_IOCTL || ev[i].id != q->id)
				st_fail(run, "holder: stray event %llu",
					(unsigned long long)ev[i].user_data);
			q->seen = true;
			q->res = ev[i].result;
		}
		if (ret != nioctl)
			st_fail(run, "holder: %d of %d ioctl events", ret, nioctl);
	}
	if (naio) {
		ret = io_getevents(ho->aio[dev], naio, HOLD_MAX, ioev,
				   &(struct timespec){ .tv_sec = 30 });
		for (i = 0; i < ret; i++) {
			struct hreq *q = &ho->q[(uintptr_t)ioev[i].data % HOLD_MAX];

			if (q->seen || q->path != AIODEV_PATH_AIO ||
			    ioev[i].obj != &q->cb)
				st_fail(run, "holder: stray libaio event");
			q->seen = true;
			q->res = (long)ioev[i].res;
		}
		if (ret != naio)
			st_fail(run, "holder: %d of %d libaio events", ret, naio);
	}
	if (ho->close_ifd)
		nioctl = 0;
	ret = aio_getevents(ho->ifd[dev], ev, 0, HOLD_MAX, 0);
	if (ret > 0 && !ho->close_ifd)
		st_fail(run, "holder: %d ioctl events too many", ret);
	if (io_getevents(ho->aio[dev], 0, HOLD_MAX, ioev,
			 &(struct timespec){ 0 }) != 0)
		st_fail(run, "holder: libaio events too many");

	sure = sure && atomic_load(&run->rules_epoch) == e0;
	for (i = 0; i < n; i++) {
		struct hreq *q = &ho->q[i];
		int cat;

		if (!q->seen)
			continue;
		cat = hold_check(ho, i, deadline, sure);
		if (cat < 0) {
			st_fail(run, "holder: %s read of %u at +%llu on aiodev%d (held %d, released %d kind %u bytes %u park %u, cancel won %d, deadline %llu): %lld",
				q->path == AIODEV_PATH_AIO ? "libaio" : "ioctl",
				q->len, (unsigned long long)(q->off - HOLD_OFF),
				dev, !!q->hold_id, q->released, q->how.kind,
				q->how.bytes, q->how.flags, q->cancel_won,
				(unsigned long long)deadline, q->res);
			continue;
		}
		count(run, dev, cat);
		atomic_fetch_add(&stat[q->released ? HW_RELEASED :
				       q->cancel_won ? HW_CANCEL_WON :
				       cat == C_TMO ? HW_DEADLINE : HW_PLAIN], 1);
	}
	/* A CLEAR or LOAD under the DEL moves the epoch before it runs. */
	ret = aio_ioctl(ho->fd[dev], AIODEV_IOC_RULE_DEL, &r.id);
	sure = sure && atomic_load(&run->rules_epoch) == e0;
	if (ret && (sure || ret != -ENOENT))
		st_fail(run, "holder: RULE_DEL of %u: %d", r.id, ret);
	atomic_fetch_add(&stat[HW_PHASES], 1);
}

void *holder_main(void *arg)
{
	struct holder *ho = arg;
	struct run *run = ho->run;
	int d, tries;

	for (d = 0; d < NDEV; d++) {
		ho->fd[d] = aio_open(d, O_RDWR);
		ho->ifd[d] = aio_open(d, O_RDWR);
		if (ho->fd[d] < 0 || ho->ifd[d] < 0 ||
		    io_setup(2 * HOLD_MAX, &ho->aio[d])) {
			st_fail(run, "holder: set up aiodev%d: %s", d,
				strerror(errno));
			return NULL;
		}
		/* The pattern, through any fault or deadline in force. */
		for (tries = 0; tries < 1000; tries++) {
			ssize_t got = pwrite(ho->fd[d], ho->pat, HOLD_LEN, HOLD_OFF);

			atomic_fetch_add(&run->accepted[d], 1);
			atomic_fetch_add(&run->by_path[5], 1);
			if (got == HOLD_LEN)
				break;
		}
		if (tries == 1000)
			st_fail(run, "holder: cannot write its pattern");
	}
	while (!stopping(run) && ho->ifd[0] >= 0 && ho->ifd[1] >= 0)
		hold_phase(ho);
	for (d = 0; d < NDEV; d++) {
		io_destroy(ho->aio[d]);
		close_locked(run, ho->fd[d]);
		if (ho->ifd[d] >= 0)
			close_locked(run, ho->ifd[d]);
	}
	return NULL;
}
