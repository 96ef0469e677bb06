// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: AIODEV_STRESS_THREADS workers (default 8) for
 * AIODEV_STRESS_SECONDS (default 10) on contexts of both devices, all at
 * once:
 *
 *  - ioctl workers: random batches through AIODEV_IOC_SUBMIT (NOP, READ,
 *    WRITE; per-request latencies of 0, 1 ns, tiny and long, deadlines equal
 *    to the latency, shorter, longer, 0; some with an eventfd), GETEVENTS
 *    with random min/max/timeouts, CANCEL by id (live, reaped and bogus
 *    ids), contexts closed with requests in flight and reopened;
 *  - libaio workers: io_submit batches of pread/pwrite/preadv/pwritev (some
 *    O_DIRECT), io_getevents, io_cancel, io_destroy and close(fd) with
 *    requests in flight;
 *  - plain I/O workers: pread/pwrite/preadv/pwritev, RWF_NOWAIT;
 *  - a configuration thread changing latency, jitter, default deadline and
 *    both fault rules every few milliseconds (ioctl and sysfs), with
 *    deadlines that collide with the latency;
 *  - a killer thread forking processes that block in GETEVENTS, in a full
 *    queue's SUBMIT, in a plain read or write, and SIGKILLing them mid-wait,
 *    and processes that exit with ioctl and libaio requests in flight.
 *
 * Checked while it runs: every event belongs to exactly one outstanding
 * request and comes once; results are the request's length, -ETIMEDOUT,
 * -ECANCELED or a fault-plan errno and agree with what CANCEL/io_cancel
 * answered; a deadline at or before the latency always wins; the event's
 * times respect the latency; a read that does not succeed leaves its buffer
 * untouched and a successful one returns the last successful write (each
 * worker owns its blocks, and keeps a shadow of the latest successful write
 * of each). At the end: per context, GET_STATS agrees with what was
 * submitted and reaped; per device, in_flight is back to where it was, the
 * outcomes add up to what was submitted and to no less than what was seen;
 * each eventfd counted exactly its requests; every block's latest
 * successful write reads back.
 *
 * Device layout: workers write only [0, KAIO_DATA_END); the children use
 * [KAIO_DATA_END, ZERO_REGION_OFF) as scratch and never write elsewhere.
 * AIODEV_STRESS_SEED makes the random choices reproducible (threads still
 * interleave differently).
 */
#define _GNU_SOURCE
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define NDEV		2
#define BLK		4096U
#define MAX_K		4			/* blocks per request */
#define GUARD		64			/* canary bytes past a read */
#define BUFSZ		(MAX_K * BLK + BLK)
#define NBUF		160
#define CANARY		0xa5
#define GEN_UNKNOWN	0xffffffffU		/* a write of unknown outcome */
#define REGION_BLOCKS	(KAIO_DATA_END / BLK)
#define SCRATCH_OFF	KAIO_DATA_END
#define SCRATCH_LEN	(ZERO_REGION_OFF - KAIO_DATA_END)

#define ERR_NTH		EIO			/* fault-plan errnos we set */
#define ERR_RANGE	EREMOTEIO

#define ICTX		4			/* contexts per ioctl worker */
#define IMAX		32			/* outstanding per context */
#define LMAX		64			/* outstanding per libaio worker */
#define LFDS		(2 * NDEV)
#define PARKED_NS	(2 * NSEC_PER_SEC)
#define DRAIN_NS	(30 * NSEC_PER_SEC)
#define NSLOTS		4096			/* children per run, at most */

enum cat { C_OK, C_TMO, C_CAN, C_FAIL, NCAT };
static const char *const cat_name[NCAT] = {
	"ok", "timed out", "cancelled", "failed"
};

enum role { R_IOCTL, R_LIBAIO, R_SYNC };
enum kind { K_GETEVENTS, K_FULLSUBMIT, K_SYNCREAD, K_SYNCWRITE, K_EXIT, NKIND };
static const char *const kind_name[NKIND] = {
	"getevents", "full-queue submit", "sync read", "sync write", "exit"
};

struct child_shm {
	atomic_ullong accepted[NSLOTS];
};

struct run {
	int nthreads, seconds;
	__u64 seed, t_end;
	__u32 depth;
	atomic_int stop;
	atomic_int errors;
	atomic_ullong mismatches;
	/* Held for writing from fork() until the child dropped our fds. */
	pthread_rwlock_t forklock;
	int shared_fd[NDEV];
	struct child_shm *shm;

	atomic_ullong accepted[NDEV];
	atomic_ullong observed[NDEV][NCAT];
	atomic_ullong by_path[4];	/* ioctl, libaio, sync, children */
	atomic_ullong cancels[3];	/* won, lost, bogus -ENOENT */
	atomic_ullong io_cancels[3];	/* -EINPROGRESS, -EAGAIN, -EINVAL */
	atomic_ullong ties, nowait, abrupt, graceful, destroys, fdcloses;
	atomic_ullong kills[NKIND], kills_asleep, configs, sysfs_configs;
	atomic_ullong verified_reads, canaries, efd_reqs;
	atomic_ullong final_blocks;
};

struct worker {
	struct run *run;
	pthread_t thread;
	int idx, role;
	__u64 rng;
	__u32 first, nb;		/* own blocks, same on each device */
	__u32 *gen[NDEV];
	__u8 *wr[NDEV], *rd[NDEV];
	__u32 next_gen;
	unsigned char *pool;
	int freebuf[NBUF], nfree;
	int efd;
	__u64 efd_expected;
};

static void st_fail(struct run *run, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (atomic_fetch_add(&run->errors, 1) >= 25)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# stress: ERROR: %s\n", msg);
	fflush(stdout);
}

static __u64 rnd(struct worker *w)
{
	return rnd_next(&w->rng);
}

static bool stopping(struct run *run)
{
	return atomic_load(&run->stop) || now_ns() >= run->t_end;
}

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, NULL, 0);
	return v < lo ? lo : v > hi ? hi : (int)v;
}

/* ---- blocks, patterns and buffers ------------------------------------ */

static __u64 pat_seed(int dev, __u32 block, __u32 gen)
{
	return ((__u64)dev << 60) ^ ((__u64)block << 28) ^ gen ^
	       0x9e3779b97f4a7c15ULL;
}

static unsigned char *bufp(struct worker *w, int b)
{
	return w->pool + (size_t)b * BUFSZ;
}

static int buf_get(struct worker *w)
{
	return w->nfree ? w->freebuf[--w->nfree] : -1;
}

static void buf_put(struct worker *w, int b)
{
	if (b >= 0)
		w->freebuf[w->nfree++] = b;
}

/* Pick @k (random) consecutive own blocks on @dev free for the op. */
static bool pick_blocks(struct worker *w, int dev, bool write, __u32 *blk,
			__u8 *k, bool full_k)
{
	int t;

	for (t = 0; t < 8; t++) {
		__u8 kk = full_k ? MAX_K : 1 + rnd(w) % MAX_K;
		__u32 s = rnd(w) % (w->nb - kk + 1), i;
		bool ok = true;

		for (i = 0; i < kk && ok; i++)
			ok = !w->wr[dev][s + i] && (!write || !w->rd[dev][s + i]);
		if (!ok)
			continue;
		for (i = 0; i < kk; i++) {
			if (write)
				w->wr[dev][s + i] = 1;
			else
				w->rd[dev][s + i]++;
		}
		*blk = s;
		*k = kk;
		return true;
	}
	return false;
}

static void unpick(struct worker *w, int dev, bool write, __u32 blk, __u8 k)
{
	__u32 i;

	for (i = 0; i < k; i++) {
		if (write)
			w->wr[dev][blk + i] = 0;
		else
			w->rd[dev][blk + i]--;
	}
}

static void fill_write(struct worker *w, int dev, __u32 blk, __u8 k,
		       __u32 gen, unsigned char *buf)
{
	__u32 i;

	for (i = 0; i < k; i++)
		fill_pattern(buf + i * BLK, BLK,
			     pat_seed(dev, w->first + blk + i, gen));
}

/* A write ended: @how is C_OK (landed), another cat (did not), or -1. */
static void write_done(struct worker *w, int dev, __u32 blk, __u8 k,
		       __u32 gen, int how)
{
	__u32 i;

	for (i = 0; i < k; i++) {
		if (how == C_OK)
			w->gen[dev][blk + i] = gen;
		else if (how < 0)
			w->gen[dev][blk + i] = GEN_UNKNOWN;
		w->wr[dev][blk + i] = 0;
	}
}

/* A successful read of [roff, roff + rlen) of blocks blk..blk+k-1. */
static void verify_read(struct worker *w, int dev, __u32 blk, __u8 k,
			__u32 roff, __u32 rlen, const unsigned char *buf,
			const char *path)
{
	unsigned char want[BLK];
	__u32 i;

	for (i = 0; i < k; i++) {
		__u32 g = w->gen[dev][blk + i];
		__u32 lo = i * BLK, hi = lo + BLK, j;

		if (lo < roff)
			lo = roff;
		if (hi > roff + rlen)
			hi = roff + rlen;
		if (lo >= hi || !g || g == GEN_UNKNOWN)
			continue;
		fill_pattern(want, BLK, pat_seed(dev, w->first + blk + i, g));
		if (!memcmp(buf + (lo - roff), want + (lo - i * BLK), hi - lo))
			continue;
		for (j = lo; j < hi; j++)
			if (buf[j - roff] != want[j - i * BLK])
				break;
		atomic_fetch_add(&w->run->mismatches, 1);
		st_fail(w->run, "%s read: dev %d block %u (gen %u) differs at byte %u",
			path, dev, w->first + blk + i, g, j - i * BLK);
	}
	if (find_not(buf + rlen, GUARD, CANARY) >= 0)
		st_fail(w->run, "%s read of %u bytes wrote past its end", path,
			rlen);
	atomic_fetch_add(&w->run->verified_reads, 1);
}

static void check_canary(struct worker *w, const unsigned char *buf,
			 __u32 rlen, const char *path, long long res)
{
	long at = find_not(buf, rlen + GUARD, CANARY);

	if (at >= 0)
		st_fail(w->run, "%s read ending %lld touched its buffer at byte %ld",
			path, res, at);
	atomic_fetch_add(&w->run->canaries, 1);
}

/* Classify a result; -1 if it is none of those a request may end with. */
static int classify(long long res, long long want_ok, bool nop)
{
	if (res == want_ok)
		return C_OK;
	if (res == -ETIMEDOUT)
		return C_TMO;
	if (res == -ECANCELED)
		return C_CAN;
	if (res == -ERR_NTH || (!nop && res == -ERR_RANGE))
		return C_FAIL;
	return -1;
}

static void count(struct run *run, int dev, int cat)
{
	atomic_fetch_add(&run->observed[dev][cat], 1);
}

/* Close an fd while no fork() is in progress (see the killer). */
static int close_locked(struct run *run, int fd)
{
	int ret;

	pthread_rwlock_rdlock(&run->forklock);
	ret = close(fd);
	pthread_rwlock_unlock(&run->forklock);
	return ret;
}

static struct aiodev_counters ctx_counters(struct run *run, int fd)
{
	struct aiodev_stats st;

	if (aio_get_stats(fd, &st)) {
		st_fail(run, "GET_STATS: %s", strerror(errno));
		memset(&st, 0, sizeof(st));
	}
	return st.context;
}

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

static void ioctl_worker(struct worker *w)
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

static void libaio_worker(struct worker *w)
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

/* ---- plain I/O worker ------------------------------------------------- */

static void sync_worker(struct worker *w)
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

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->role == R_IOCTL)
		ioctl_worker(w);
	else if (w->role == R_LIBAIO)
		libaio_worker(w);
	else
		sync_worker(w);
	return NULL;
}

/* ---- configuration thread --------------------------------------------- */

struct helper {
	struct run *run;
	pthread_t thread;
	__u64 rng;
};

static void *config_main(void *arg)
{
	static const __u64 lat[] = { 0, 1000, 10000, 100000, 1000000, 3000000 };
	static const __u64 jit[] = { 0, 0, 100000, 2000000 };
	struct helper *h = arg;
	struct run *run = h->run;
	int fds[NDEV], d;

	for (d = 0; d < NDEV; d++)
		fds[d] = aio_open(d, O_WRONLY);
	while (!stopping(run) && fds[0] >= 0 && fds[1] >= 0) {
		struct aiodev_config c;
		__u64 r = rnd_next(&h->rng);
		int dev = r % NDEV, ret = 0;

		config_default(&c);
		c.latency_nsec = lat[(r >> 8) % ARRAY_SIZE(lat)];
		c.jitter_nsec = jit[(r >> 16) % ARRAY_SIZE(jit)];
		switch ((r >> 24) % 6) {
		case 0: c.timeout_nsec = 500000; break;
		case 1: c.timeout_nsec = 2000000; break;
		case 2: c.timeout_nsec = c.latency_nsec; break;	/* the tie */
		default: break;
		}
		if ((r >> 32) % 3 == 0) {
			c.fail_every_nth = (r >> 34) % 2 ? 5 : 17;
			c.fail_nth_errno = ERR_NTH;
		}
		if ((r >> 36) % 3 == 0) {
			c.fail_offset = (rnd_next(&h->rng) % KAIO_DATA_END) & ~511ULL;
			c.fail_len = 1 + rnd_next(&h->rng) % (256 << 10);
			c.fail_range_errno = ERR_RANGE;
		}
		if ((r >> 40) % 5 == 0) {
			char v[32];

			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.latency_nsec);
			ret = sysfs_write(dev, "latency_nsec", v);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.jitter_nsec);
			ret = ret ?: sysfs_write(dev, "jitter_nsec", v);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.timeout_nsec);
			ret = ret ?: sysfs_write(dev, "timeout_nsec", v);
			atomic_fetch_add(&run->sysfs_configs, 1);
		} else {
			ret = aio_set_config(fds[dev], &c);
		}
		if (ret)
			st_fail(run, "changing the configuration: %d", ret);
		atomic_fetch_add(&run->configs, 1);
		sleep_ns(MSEC(2) + rnd_next(&h->rng) % MSEC(18));
	}
	for (d = 0; d < NDEV; d++) {
		if (fds[d] < 0 || aio_reset_config(fds[d]))
			st_fail(run, "restoring aiodev%d's configuration", d);
		if (fds[d] >= 0)
			close_locked(run, fds[d]);
	}
	return NULL;
}

/* ---- killer thread and its children ------------------------------------ */

#define CH_READY	1000
#define CH_SHARED	1001
#define CH_EVENTS	1024
/* Generous: a debug kernel under TCG takes seconds to fill a queue. */
#define CH_READY_MS	60000

static unsigned char child_buf[64 * 4096] __attribute__((aligned(4096)));
static struct aiodev_event child_ev[CH_EVENTS];

/* In a child of a multithreaded process: system calls only. */
static void __attribute__((noreturn))
child_main(struct run *run, int kind, int dev, int slot, __u64 seed)
{
	struct aiodev_req rq[64];
	__u64 s = seed | 1, acc = 0;
	char c = 'c';
	int fd, i, n, ret;

	close_range(3, CH_READY - 1, 0);
	close_range(CH_SHARED + 1, ~0U, 0);
	if (write(CH_READY, &c, 1) != 1)
		_exit(10);

	if (kind == K_SYNCREAD || kind == K_SYNCWRITE) {
		c = 'r';
		if (write(CH_READY, &c, 1) != 1)
			_exit(11);
		for (;;) {
			__u64 off = SCRATCH_OFF +
				    (rnd_next(&s) % (SCRATCH_LEN / 4096)) * 4096;

			if (kind == K_SYNCREAD)
				ret = pread(CH_SHARED, child_buf, 4096, off);
			else
				ret = pwrite(CH_SHARED, child_buf, 4096, off);
			(void)ret;
		}
	}
	fd = open(dev ? "/dev/aiodev1" : "/dev/aiodev0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(12);
	if (kind == K_FULLSUBMIT) {
		/* Fill every slot with unreaped events, then block. */
		for (i = 0; i < 64; i++) {
			req_nop(&rq[i], i);
			req_latency(&rq[i], 0);
		}
		while (acc < run->depth) {
			n = run->depth - acc < 64 ? run->depth - acc : 64;
			ret = aio_submit(fd, rq, n);
			if (ret <= 0)
				_exit(13);
			acc += ret;
			/* Counted as we go: a kill before 'r' loses nothing. */
			atomic_store(&run->shm->accepted[slot], acc);
		}
	} else {
		n = 1 + rnd_next(&s) % 64;
		for (i = 0; i < n; i++) {
			if (rnd_next(&s) % 2)
				req_init(&rq[i], AIODEV_OP_READ, child_buf + i * 4096,
					 SCRATCH_OFF + rnd_next(&s) % (SCRATCH_LEN - 4096),
					 1 + rnd_next(&s) % 4096, i);
			else
				req_nop(&rq[i], i);
			req_latency(&rq[i], rnd_next(&s) % 2 ? PARKED_NS / 2 :
				    rnd_next(&s) % MSEC(2));
		}
		ret = aio_submit(fd, rq, n);
		if (ret < 0)
			_exit(14);
		acc = ret;
		atomic_store(&run->shm->accepted[slot], acc);
	}
	if (kind == K_EXIT) {
		/* And kernel AIO requests, then exit without cleaning up. */
		struct iocb cbs[16], *pp[16];
		io_context_t ctx = 0;

		if (io_setup(16, &ctx))
			_exit(15);
		for (i = 0; i < 16; i++) {
			io_prep_pread(&cbs[i], fd, child_buf + i * 4096, 4096,
				      SCRATCH_OFF + i * 4096);
			pp[i] = &cbs[i];
		}
		ret = io_submit(ctx, 16, pp);
		if (ret < 0)
			_exit(16);
		acc += ret;
	}
	atomic_store(&run->shm->accepted[slot], acc);
	c = 'r';
	if (write(CH_READY, &c, 1) != 1)
		_exit(17);
	if (kind == K_EXIT)
		_exit(0);
	if (kind == K_FULLSUBMIT) {
		/* Full and nobody reaps: sleeps until killed. */
		aio_submit(fd, rq, 1);
		_exit(18);
	}
	for (;;)
		aio_getevents(fd, child_ev, run->depth, CH_EVENTS < run->depth ?
			      CH_EVENTS : run->depth, -1);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* Wait for @pid, at most @ns; 0 and its status, or -1. */
static int wait_child(pid_t pid, int *status, __u64 ns)
{
	__u64 deadline = now_ns() + ns;

	do {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0)
			return -1;
		sleep_ns(MSEC(1));
	} while (now_ns() < deadline);
	return -1;
}

/* Add the requests a dead child had accepted to the totals. */
static void count_child(struct run *run, int kind, int dev, int slot)
{
	__u64 n;

	if (kind == K_SYNCREAD || kind == K_SYNCWRITE)
		return;
	n = atomic_load(&run->shm->accepted[slot]);
	atomic_fetch_add(&run->accepted[dev], n);
	atomic_fetch_add(&run->by_path[3], n);
}

static void one_child(struct helper *h, int slot)
{
	struct run *run = h->run;
	__u64 r = rnd_next(&h->rng);
	int kind = r % NKIND, dev = (r >> 8) % NDEV, pfd[2], status = 0;
	struct pollfd pf;
	char c = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		st_fail(run, "pipe: %s", strerror(errno));
		return;
	}
	pthread_rwlock_wrlock(&run->forklock);
	pid = fork();
	if (pid == 0) {
		if (dup2(pfd[1], CH_READY) < 0 ||
		    dup2(run->shared_fd[dev], CH_SHARED) < 0)
			_exit(9);
		child_main(run, kind, dev, slot, r);
	}
	close(pfd[1]);
	pf = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	/* The child holds none of our fds once it wrote 'c'. */
	if (pid > 0 && (poll(&pf, 1, CH_READY_MS) != 1 || read(pfd[0], &c, 1) != 1 ||
			c != 'c'))
		c = 0;
	pthread_rwlock_unlock(&run->forklock);
	if (pid < 0) {
		st_fail(run, "fork: %s", strerror(errno));
		close(pfd[0]);
		return;
	}
	if (c == 'c' && (poll(&pf, 1, CH_READY_MS) != 1 || read(pfd[0], &c, 1) != 1))
		c = 0;
	close(pfd[0]);
	if (c != 'r') {
		kill(pid, SIGKILL);
		wait_child(pid, &status, 20 * NSEC_PER_SEC);
		st_fail(run, "%s child did not get ready (status %#x)",
			kind_name[kind], status);
		count_child(run, kind, dev, slot);
		return;
	}
	if (kind != K_EXIT) {
		/* Let it fall asleep, then kill it mid-wait. */
		sleep_ns(rnd_next(&h->rng) % MSEC(10));
		if (proc_state(pid) == 'S')
			atomic_fetch_add(&run->kills_asleep, 1);
		kill(pid, SIGKILL);
	}
	if (wait_child(pid, &status, 20 * NSEC_PER_SEC)) {
		st_fail(run, "%s child (pid %d) not gone 20 s after %s",
			kind_name[kind], pid, kind == K_EXIT ? "its exit" : "SIGKILL");
		return;
	}
	if (kind == K_EXIT ? !WIFEXITED(status) || WEXITSTATUS(status) :
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		st_fail(run, "%s child ended with status %#x", kind_name[kind],
			status);
	atomic_fetch_add(&run->kills[kind], 1);
	count_child(run, kind, dev, slot);
}

static void *killer_main(void *arg)
{
	struct helper *h = arg;
	int slot = 0;

	while (!stopping(h->run) && slot < NSLOTS) {
		sleep_ns(MSEC(10) + rnd_next(&h->rng) % MSEC(50));
		if (!stopping(h->run))
			one_child(h, slot++);
	}
	return NULL;
}

/* ---- the test --------------------------------------------------------- */

static void shadow_alloc(struct worker *w)
{
	int d;

	for (d = 0; d < NDEV; d++) {
		w->gen[d] = calloc(w->nb, sizeof(__u32));
		w->wr[d] = calloc(w->nb, 1);
		w->rd[d] = calloc(w->nb, 1);
	}
	/* Not inherited by fork(): a pinned page never becomes shared. */
	w->pool = mmap(NULL, (size_t)NBUF * BUFSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (w->pool == MAP_FAILED)
		w->pool = NULL;
	else
		madvise(w->pool, (size_t)NBUF * BUFSZ, MADV_DONTFORK);
	for (w->nfree = 0; w->nfree < NBUF; w->nfree++)
		w->freebuf[w->nfree] = w->nfree;
}

/* Read every block with a known latest write back; count mismatches. */
static __u64 final_verify(struct run *run, struct worker *w, int fd, int dev,
			  unsigned char *big)
{
	unsigned char want[BLK];
	__u64 bad = 0;
	__u32 b = 0;

	while (b < w->nb) {
		__u32 n = 0, i;
		ssize_t got;

		while (b < w->nb && (!w->gen[dev][b] ||
				     w->gen[dev][b] == GEN_UNKNOWN))
			b++;
		while (b + n < w->nb && n < 256 && w->gen[dev][b + n] &&
		       w->gen[dev][b + n] != GEN_UNKNOWN)
			n++;
		if (!n)
			break;
		got = pread(fd, big, (size_t)n * BLK,
			    (__u64)(w->first + b) * BLK);
		if (got != (ssize_t)n * BLK) {
			st_fail(run, "final read of aiodev%d block %u: %zd (%s)",
				dev, w->first + b, got, strerror(errno));
			return bad + n;
		}
		for (i = 0; i < n; i++) {
			fill_pattern(want, BLK, pat_seed(dev, w->first + b + i,
							 w->gen[dev][b + i]));
			if (memcmp(big + (size_t)i * BLK, want, BLK)) {
				if (!bad)
					st_fail(run, "aiodev%d block %u does not hold its last successful write (gen %u)",
						dev, w->first + b + i,
						w->gen[dev][b + i]);
				bad++;
			}
		}
		atomic_fetch_add(&run->final_blocks, n);
		b += n;
	}
	return bad;
}

static __u64 S(atomic_ullong *a)
{
	return atomic_load(a);
}

FIXTURE(st) {
	struct run *run;
	struct worker *w;
	struct helper cfg, killer;
	struct aiodev_counters base[NDEV];
	int fd[NDEV];
};

FIXTURE_SETUP(st)
{
	struct aiodev_info info;
	int d;

	self->run = calloc(1, sizeof(*self->run));
	ASSERT_NE(NULL, self->run);
	for (d = 0; d < NDEV; d++) {
		self->fd[d] = aio_open(d, O_RDWR);
		ASSERT_LE(0, self->fd[d]) TH_LOG("open aiodev%d: %s", d,
						  strerror(errno));
		ASSERT_EQ(0, aio_reset_config(self->fd[d]));
	}
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->run->depth = info.queue_depth;
}

FIXTURE_TEARDOWN(st)
{
	int d;

	for (d = 0; d < NDEV; d++) {
		if (self->fd[d] >= 0) {
			EXPECT_EQ(0, aio_reset_config(self->fd[d]));
			close(self->fd[d]);
		}
	}
}

TEST_F_TIMEOUT(st, storm, 120)
{
	struct run *run = self->run;
	unsigned char *big;
	__u64 mism = 0, tot_acc = 0, tot_obs[NCAT] = { 0 }, t0;
	int i, d, k;

	run->nthreads = env_int("AIODEV_STRESS_THREADS", 8, 1, 64);
	run->seconds = env_int("AIODEV_STRESS_SECONDS", 10, 1, 3600);
	run->seed = getenv("AIODEV_STRESS_SEED") ?
		    strtoull(getenv("AIODEV_STRESS_SEED"), NULL, 0) : kaio_seed();
	TH_LOG("seed %llu (AIODEV_STRESS_SEED), %d threads, %d s, queue depth %u",
	       (unsigned long long)run->seed, run->nthreads, run->seconds,
	       run->depth);
	ASSERT_EQ(0, pthread_rwlock_init(&run->forklock, NULL));
	run->shm = mmap(NULL, sizeof(*run->shm), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, run->shm);
	big = malloc(256 * BLK);
	ASSERT_NE(NULL, big);
	for (d = 0; d < NDEV; d++) {
		/* Not O_CLOEXEC: the sync children share this context. */
		run->shared_fd[d] = open(d ? "/dev/aiodev1" : "/dev/aiodev0",
					 O_RDWR);
		ASSERT_LE(0, run->shared_fd[d]);
		self->base[d] = kaio_dev_stats(self->fd[d]);
		EXPECT_EQ(0ULL, self->base[d].in_flight)
			TH_LOG("aiodev%d has requests in flight before the run", d);
	}

	self->w = calloc(run->nthreads, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	for (i = 0; i < run->nthreads; i++) {
		struct worker *w = &self->w[i];

		w->run = run;
		w->idx = i;
		w->role = i % 3;
		w->rng = (run->seed ^ (0x9e3779b97f4a7c15ULL * (i + 1))) | 1;
		w->nb = REGION_BLOCKS / run->nthreads;
		w->first = i * w->nb;
		w->next_gen = 1;
		w->efd = w->role == R_IOCTL ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
		shadow_alloc(w);
		ASSERT_NE(NULL, w->pool);
		ASSERT_NE(NULL, w->gen[1]);
	}
	self->cfg = (struct helper){ .run = run, .rng = run->seed ^ 0xc0f1 };
	self->killer = (struct helper){ .run = run, .rng = run->seed ^ 0x6b11 };

	t0 = now_ns();
	run->t_end = t0 + (__u64)run->seconds * NSEC_PER_SEC;
	for (i = 0; i < run->nthreads; i++)
		ASSERT_EQ(0, pthread_create(&self->w[i].thread, NULL,
					    worker_main, &self->w[i]));
	ASSERT_EQ(0, pthread_create(&self->cfg.thread, NULL, config_main,
				    &self->cfg));
	ASSERT_EQ(0, pthread_create(&self->killer.thread, NULL, killer_main,
				    &self->killer));
	for (i = 0; i < run->nthreads; i++)
		pthread_join(self->w[i].thread, NULL);
	atomic_store(&run->stop, 1);
	pthread_join(self->cfg.thread, NULL);
	pthread_join(self->killer.thread, NULL);
	TH_LOG("workload %llu ms, drained and joined",
	       (unsigned long long)(now_ns() - t0) / NSEC_PER_MSEC);

	/* The shared contexts: whatever the killed children submitted. */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_counters s;

		EXPECT_EQ(0, kaio_wait_ctx_idle(run->shared_fd[d], DRAIN_NS, &s));
		atomic_fetch_add(&run->accepted[d], s.submitted);
		atomic_fetch_add(&run->by_path[3], s.submitted);
		EXPECT_EQ(s.submitted, counters_sum(&s));
		close(run->shared_fd[d]);
	}

	/* Device accounting at rest. */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_counters b = self->base[d], e;
		__u64 dx[NCAT];

		EXPECT_EQ(0, kaio_wait_dev_idle(self->fd[d], b.in_flight,
						DRAIN_NS, &e))
			TH_LOG("aiodev%d: in_flight stuck at %llu", d, e.in_flight);
		dx[C_OK] = e.completed_ok - b.completed_ok;
		dx[C_TMO] = e.timed_out - b.timed_out;
		dx[C_CAN] = e.cancelled - b.cancelled;
		dx[C_FAIL] = e.failed - b.failed;
		EXPECT_EQ(b.in_flight, e.in_flight);
		EXPECT_EQ(e.submitted, counters_sum(&e));
		EXPECT_EQ(S(&run->accepted[d]), e.submitted - b.submitted)
			TH_LOG("aiodev%d: device counted %llu submissions, we %llu",
			       d, e.submitted - b.submitted,
			       S(&run->accepted[d]));
		EXPECT_EQ(e.submitted - b.submitted,
			  dx[C_OK] + dx[C_TMO] + dx[C_CAN] + dx[C_FAIL]);
		for (k = 0; k < NCAT; k++) {
			EXPECT_LE(S(&run->observed[d][k]), dx[k])
				TH_LOG("aiodev%d: %s: device %llu, seen %llu", d,
				       cat_name[k], dx[k], S(&run->observed[d][k]));
			tot_obs[k] += S(&run->observed[d][k]);
		}
		EXPECT_LE(e.in_flight, e.peak_in_flight);
		tot_acc += S(&run->accepted[d]);
	}

	/* eventfds: one count per request that asked for it, however it ended. */
	for (i = 0; i < run->nthreads; i++) {
		struct worker *w = &self->w[i];
		eventfd_t v = 0;

		if (w->efd < 0)
			continue;
		if (eventfd_read(w->efd, &v))
			v = 0;
		EXPECT_EQ(w->efd_expected, (__u64)v) TH_LOG("worker %d eventfd", i);
		close(w->efd);
	}

	/* Every block's latest successful write reads back. */
	for (d = 0; d < NDEV; d++) {
		for (i = 0; i < run->nthreads; i++)
			mism += final_verify(run, &self->w[i], self->fd[d], d, big);
	}
	mism += S(&run->mismatches);

	printf("# stress: %d threads x %d s (seed %llu): %llu requests (ioctl %llu, libaio %llu, plain %llu, children %llu): ok %llu, timed out %llu, cancelled %llu, failed %llu seen, %llu unseen (cancelled by close/exit/io_destroy)\n",
	       run->nthreads, run->seconds, (unsigned long long)run->seed,
	       tot_acc, S(&run->by_path[0]), S(&run->by_path[1]),
	       S(&run->by_path[2]), S(&run->by_path[3]), tot_obs[C_OK],
	       tot_obs[C_TMO], tot_obs[C_CAN], tot_obs[C_FAIL],
	       tot_acc - tot_obs[0] - tot_obs[1] - tot_obs[2] - tot_obs[3]);
	printf("# stress: CANCEL won %llu, lost %llu, dead ids %llu; io_cancel -EINPROGRESS %llu, -EAGAIN %llu, -EINVAL %llu; deadline ties %llu; RWF_NOWAIT %llu\n",
	       S(&run->cancels[0]), S(&run->cancels[1]), S(&run->cancels[2]),
	       S(&run->io_cancels[0]), S(&run->io_cancels[1]),
	       S(&run->io_cancels[2]), S(&run->ties), S(&run->nowait));
	printf("# stress: closes with requests in flight %llu, drained closes %llu, io_destroy in flight %llu, libaio fd closes %llu; config changes %llu (%llu via sysfs); eventfd requests %llu\n",
	       S(&run->abrupt), S(&run->graceful), S(&run->destroys),
	       S(&run->fdcloses), S(&run->configs), S(&run->sysfs_configs),
	       S(&run->efd_reqs));
	printf("# stress: children SIGKILLed: %llu in GETEVENTS, %llu in full-queue SUBMIT, %llu in read, %llu in write (%llu seen asleep); %llu exited with requests in flight\n",
	       S(&run->kills[K_GETEVENTS]), S(&run->kills[K_FULLSUBMIT]),
	       S(&run->kills[K_SYNCREAD]), S(&run->kills[K_SYNCWRITE]),
	       S(&run->kills_asleep), S(&run->kills[K_EXIT]));
	printf("# stress: reads verified %llu, failed reads with buffer intact %llu, blocks read back at the end %llu, mismatches %llu, errors %d\n",
	       S(&run->verified_reads), S(&run->canaries),
	       S(&run->final_blocks), (unsigned long long)mism,
	       atomic_load(&run->errors));
	fflush(stdout);

	EXPECT_EQ(0ULL, mism);
	EXPECT_EQ(0, atomic_load(&run->errors));
	/* The run must really have exercised what it claims to. */
	EXPECT_LT(0ULL, S(&run->by_path[0]));
	EXPECT_LT(0ULL, S(&run->final_blocks));
	EXPECT_LT(0ULL, S(&run->canaries));
	EXPECT_LT(0ULL, S(&run->configs));
	if (run->nthreads >= 3) {
		EXPECT_LT(0ULL, S(&run->by_path[1]));
		EXPECT_LT(0ULL, S(&run->by_path[2]));
	}
	/*
	 * Every scenario the header promises must have happened: in 10 s
	 * each one occurs tens to thousands of times.
	 */
	if (run->seconds >= 5 && run->nthreads >= 3) {
#define NEED(field, what)						\
	EXPECT_LT(0ULL, S(&run->field))					\
		TH_LOG("scenario never happened: %s", what)
		NEED(cancels[0], "CANCEL won");
		NEED(cancels[1], "CANCEL lost");
		NEED(io_cancels[0], "io_cancel -EINPROGRESS");
		NEED(ties, "deadline ties");
		NEED(nowait, "RWF_NOWAIT");
		NEED(abrupt, "closes with requests in flight");
		NEED(graceful, "drained closes");
		NEED(destroys, "io_destroy in flight");
		NEED(fdcloses, "libaio fd closes");
		NEED(configs, "config changes");
		NEED(sysfs_configs, "config changes via sysfs");
		NEED(efd_reqs, "eventfd requests");
		NEED(kills[K_GETEVENTS], "SIGKILL in GETEVENTS");
		NEED(kills[K_FULLSUBMIT], "SIGKILL in full-queue SUBMIT");
		NEED(kills[K_SYNCREAD], "SIGKILL in read");
		NEED(kills[K_SYNCWRITE], "SIGKILL in write");
		NEED(kills_asleep, "SIGKILL seen asleep");
		NEED(kills[K_EXIT], "exits with requests in flight");
		NEED(verified_reads, "reads verified");
#undef NEED
	}
	free(big);
}

/* The harness timeout follows AIODEV_STRESS_SECONDS. */
int main(int argc, char **argv)
{
	int secs = env_int("AIODEV_STRESS_SECONDS", 10, 1, 3600);
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout = 3 * secs + 150;
	return test_harness_run(argc, argv);
}
