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
 *    and processes that exit with ioctl and libaio requests in flight;
 *  - a rules thread adding, deleting, loading (RULE_LOAD) and clearing rules
 *    and defining and deleting latency distributions every millisecond or
 *    so, with rules no worker's request can meet (a sleeping child's tgid,
 *    a range nobody touches, NOPs through read/write, 2 MiB requests) and
 *    any fate; checking RULE_LIST under the churn (at most 64, ids
 *    increasing, its rules as added and never matched) and -EBADF for
 *    changes through a read-only file;
 *  - a rule worker reading a private range of known data under a rule of
 *    its own (SHORT, ERROR, TORN, REFUSE, OK with skip/every/count): while
 *    the rule provably stays in force, results, bytes moved and the rule's
 *    counters are exactly the rule's; otherwise and once it is deleted, a
 *    plain read's (see rules_main());
 *  - a holder whose reads a hold rule parks, released in random orders with
 *    random results (some parked first) while a racer cancels them (CANCEL,
 *    io_cancel) or closes their file, or left to a safety deadline: each
 *    ends exactly once, as the one that won says (see holder_main()).
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
 * [KAIO_DATA_END, ZERO_REGION_OFF) as scratch and never write elsewhere;
 * the rule worker owns [PRIV_OFF, +PRIV_LEN), the holder [HOLD_OFF,
 * +HOLD_LEN), and [NOMATCH_OFF, +NOMATCH_LEN) is nobody's (all past the zero
 * region).
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
#include <sys/prctl.h>
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
/* Rule operations of the rules thread that took effect, and checks. */
enum { RO_ADD, RO_DEL, RO_LOAD, RO_CLEAR, RO_LIST, RO_DSET, RO_DDEL,
       RO_EBADF, RO_N };
/* How the holder's requests ended, and what it did. */
enum { HW_RELEASED, HW_PARKED, HW_CANCEL_WON, HW_DEADLINE, HW_PLAIN,
       HW_CLOSED, HW_PHASES, HW_N };
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
	atomic_ullong by_path[6];	/* ioctl, libaio, sync, children, rules, holder */
	atomic_ullong cancels[3];	/* won, lost, bogus -ENOENT */
	atomic_ullong io_cancels[3];	/* -EINPROGRESS, -EAGAIN, -EINVAL */
	atomic_ullong ties, nowait, abrupt, graceful, destroys, fdcloses;
	atomic_ullong kills[NKIND], kills_asleep, configs, sysfs_configs;
	atomic_ullong verified_reads, canaries, efd_reqs;
	atomic_ullong final_blocks;
	/* The rules thread and the rule worker (see rules_main()). */
	pid_t sleeper;			/* a child that only sleeps */
	atomic_int sleeper_reaped;
	atomic_uint rules_epoch;	/* odd during a CLEAR or LOAD */
	atomic_ullong rule_ops[RO_N], rules_loaded, rule_list_max;
	atomic_ullong rule_exact, rule_passed, rule_unsure, rule_counted,
		      rule_phases;
	atomic_ullong hold_stat[HW_N];	/* the holder (see holder_main()) */
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
	/*
	 * The configuration only: aio_reset_config() would clear the rules
	 * the rules thread and the rule worker may still be checking.
	 */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_config c;

		config_default(&c);
		if (fds[d] < 0 || aio_set_config(fds[d], &c))
			st_fail(run, "restoring aiodev%d's configuration", d);
		if (fds[d] >= 0)
			close_locked(run, fds[d]);
	}
	return NULL;
}

/* ---- rules changed while the others run -------------------------------- */

/*
 * The rules thread adds, deletes, loads and clears rules and defines and
 * deletes distributions on both devices while the workers run, with rules
 * no worker's request can meet: their process is a child that only
 * sleeps, their range is [NOMATCH_OFF, +NOMATCH_LEN), which nobody
 * touches, they match NOPs through AIO or read/write (a NOP only exists
 * through the ioctl), or they want 2 MiB requests. Their fates are
 * anything: errors, refusals, timeouts, an hour of latency. Each of its
 * RULE_LISTs must show its own rules as added, in order, never matched,
 * plus at most the rule worker's, with ids increasing.
 *
 * The rule worker owns [PRIV_OFF, +PRIV_LEN) of each device, holding a
 * known pattern, and reads it (read(2) and the ioctl) under a rule of its
 * own: SHORT, ERROR, TORN, REFUSE or OK, with skip, every, count and
 * certain probabilities, and a latency below any deadline the
 * configuration thread sets, so a request the rule decides ends exactly
 * as the rule says (the fault plan does not apply to it), moving exactly
 * its bytes, and the rule's counters are exactly the reads it met. Only
 * the rules thread's CLEAR and LOAD can take the rule away: they make
 * @rules_epoch odd while they run, so a read that saw the same even epoch
 * before the rule was added and after it completed had the rule in force.
 * Once that is not sure, a result may be the rule's or a plain one. With
 * no rule, results are those of any read (classify()).
 */
#define PRIV_OFF	(60ULL << 20)
#define PRIV_LEN	(64U << 10)
#define HOLD_OFF	(61ULL << 20)
#define HOLD_LEN	(64U << 10)
#define NOMATCH_OFF	(62ULL << 20)
#define NOMATCH_LEN	(2U << 20)
#define CHURN_MAX	48		/* the rules thread's own, per device */
#define NDISTS		4		/* its distributions: "st0".."st3" */
#define RW_MAXLEN	16384U

struct churn_dev {
	int wfd, rofd;
	int n;				/* own rules, in list order */
	struct aiodev_rule own[AIODEV_MAX_RULES];
	__u32 last_id, gone[8];
	unsigned int dists;		/* bit i: "st<i>" held */
};

static int rule_ioctl_list(int fd, struct aiodev_rule *out, __u32 nr)
{
	struct aiodev_rule_list l = { .rules = (__u64)(uintptr_t)out, .nr = nr };

	return aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l);
}

static int rule_ioctl_load(int fd, struct aiodev_rule *rules, __u32 nr)
{
	struct aiodev_rule_list l = { .rules = (__u64)(uintptr_t)rules, .nr = nr };

	return aio_ioctl(fd, AIODEV_IOC_RULE_LOAD, &l);
}

static int dist_ioctl(int fd, int i, struct aiodev_dist_bucket *b, __u32 nr)
{
	struct aiodev_dist d = { .buckets = (__u64)(uintptr_t)b,
				 .nr_buckets = nr };

	snprintf(d.name, sizeof(d.name), "st%d", i);
	return aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
}

/* A rule no request of the run can meet, with any fate. */
static void nomatch_rule(struct helper *h, struct churn_dev *c,
			 struct aiodev_rule *r)
{
	struct run *run = h->run;
	__u64 x = rnd_next(&h->rng), y = rnd_next(&h->rng);

	memset(r, 0, sizeof(*r));
	r->ops = x & 7;
	r->paths = (x >> 3) & 7;
	switch ((x >> 6) % 5) {
	case 0:
		r->tgid = run->sleeper;
		break;
	case 1:
		r->offset = NOMATCH_OFF + y % (NOMATCH_LEN / 2);
		r->range_len = 1 + (y >> 32) % (NOMATCH_LEN / 2);
		break;
	case 2:
		r->ops = 1U << AIODEV_OP_NOP;
		r->paths = 1U << AIODEV_PATH_AIO | 1U << AIODEV_PATH_SYNC;
		break;
	case 3:
		r->min_len = 2U << 20;
		r->max_len = (x >> 9) % 2 ? 0 : r->min_len + (y % 5);
		break;
	default:
		r->tgid = run->sleeper;
		r->offset = NOMATCH_OFF;
		r->range_len = NOMATCH_LEN;
		r->min_len = 1 + y % 4096;
		break;
	}
	if ((x >> 12) % 3 == 0) {
		r->flags = AIODEV_RULE_PROB;
		r->prob_ppm = (y >> 8) % (AIODEV_PPM + 1);
	}
	if ((x >> 14) % 3 == 0)
		r->every = (y >> 16) % 5;
	if ((x >> 16) % 3 == 0)
		r->skip = (y >> 20) % 5;
	if ((x >> 18) % 3 == 0)
		r->count = (y >> 24) % 5;
	r->latency_kind = (x >> 20) % 4;
	switch (r->latency_kind) {
	case AIODEV_LATENCY_FIXED:
		r->latency_nsec = (x >> 22) % 2 ? AIODEV_MAX_NSEC : y % MSEC(5);
		break;
	case AIODEV_LATENCY_UNIFORM:
		r->latency_nsec = y % MSEC(1);
		r->latency_max_nsec = (x >> 22) % 2 ? AIODEV_MAX_NSEC :
				      r->latency_nsec + (y >> 30) % MSEC(1);
		break;
	case AIODEV_LATENCY_DIST:
		snprintf(r->dist, sizeof(r->dist), "st%d",
			 (int)((x >> 24) % NDISTS));
		break;
	}
	r->result_kind = (x >> 28) % 7;
	switch (r->result_kind) {
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_REFUSE:
		r->error = 1 + (y >> 40) % AIODEV_MAX_ERRNO;
		break;
	case AIODEV_RESULT_TORN:
		r->error = 1 + (y >> 40) % AIODEV_MAX_ERRNO;
		/* fall through */
	case AIODEV_RESULT_SHORT:
		r->bytes = (y >> 50) % 8192;
		break;
	}
	(void)c;
}

/* Distribution @i of the rule's DIST latency, or -1. */
static int rule_dist(const struct aiodev_rule *r)
{
	return r->latency_kind == AIODEV_LATENCY_DIST ? r->dist[2] - '0' : -1;
}

static bool churn_uses(const struct churn_dev *c, int i)
{
	int k;

	for (k = 0; k < c->n; k++)
		if (rule_dist(&c->own[k]) == i)
			return true;
	return false;
}

static void churn_gone(struct churn_dev *c, __u32 id)
{
	memmove(c->gone + 1, c->gone, sizeof(c->gone) - sizeof(c->gone[0]));
	c->gone[0] = id;
}

/*
 * RULE_LIST: at most AIODEV_MAX_RULES, ids increasing; our rules all
 * there as added, in order, never matched; besides them at most the rule
 * worker's and the holder's. Through the read-only file half of the time.
 */
static void churn_list(struct helper *h, struct churn_dev *c, int dev)
{
	struct run *run = h->run;
	struct aiodev_rule got[AIODEV_MAX_RULES + 1], g;
	int ret, i, j = 0, other = 0, holder = 0;
	__u32 prev = 0;

	ret = rule_ioctl_list(rnd_next(&h->rng) % 2 ? c->rofd : c->wfd, got,
			      AIODEV_MAX_RULES + 1);
	atomic_fetch_add(&run->rule_ops[RO_LIST], 1);
	if (ret < 0 || ret > AIODEV_MAX_RULES) {
		st_fail(run, "RULE_LIST on aiodev%d returned %d", dev, ret);
		return;
	}
	if ((__u64)ret > atomic_load(&run->rule_list_max))
		atomic_store(&run->rule_list_max, ret);
	for (i = 0; i < ret; i++) {
		if (got[i].id <= prev)
			st_fail(run, "RULE_LIST on aiodev%d: id %u after %u", dev,
				got[i].id, prev);
		prev = got[i].id;
		if (j < c->n && got[i].id == c->own[j].id) {
			g = got[i];
			if (g.matched || g.applied)
				st_fail(run, "aiodev%d: rule %u that no request can meet matched %llu, applied %llu",
					dev, g.id, (unsigned long long)g.matched,
					(unsigned long long)g.applied);
			g.matched = g.applied = 0;
			if (memcmp(&g, &c->own[j], sizeof(g)))
				st_fail(run, "aiodev%d: rule %u listed unlike it was added (tgid %d, was %d)",
					dev, g.id, g.tgid, c->own[j].tgid);
			j++;
		} else if (got[i].offset == HOLD_OFF &&
			   got[i].range_len == HOLD_LEN &&
			   (got[i].flags & AIODEV_RULE_HOLD) && !holder++) {
			continue;	/* the holder's */
		} else if (got[i].offset != PRIV_OFF ||
			   got[i].range_len != PRIV_LEN || ++other > 1) {
			st_fail(run, "RULE_LIST on aiodev%d: rule %u at %d is none of ours",
				dev, got[i].id, i);
		}
	}
	if (j != c->n)
		st_fail(run, "RULE_LIST on aiodev%d: %d of our %d rules, in order",
			dev, j, c->n);
}

/* CLEAR and LOAD, the changes that take the rule worker's rule away. */
static int churn_replace(struct run *run, int fd, struct aiodev_rule *rules,
			 int nr)
{
	int ret;

	atomic_fetch_add(&run->rules_epoch, 1);
	ret = nr < 0 ? aio_ioctl(fd, AIODEV_IOC_RULE_CLEAR, NULL) :
		       rule_ioctl_load(fd, rules, nr);
	atomic_fetch_add(&run->rules_epoch, 1);
	return ret;
}

static void churn_one(struct helper *h, struct churn_dev *c, int dev)
{
	struct run *run = h->run;
	struct aiodev_dist_bucket b[8];
	struct aiodev_rule r, load[CHURN_MAX];
	__u64 x = rnd_next(&h->rng);
	int op = x % 100, ret, i, k, want;

	/* Mostly adds: the lists grow long between a LOAD and a CLEAR. */
	if (op < 45 && c->n >= CHURN_MAX)
		op = 50;
	if (op < 45) {
		nomatch_rule(h, c, &r);
		k = rule_dist(&r);
		want = k >= 0 && !(c->dists >> k & 1) ? -ENOENT : 0;
		ret = aio_ioctl(c->wfd, AIODEV_IOC_RULE_ADD, &r);
		if (ret != want) {
			st_fail(run, "RULE_ADD on aiodev%d: %d, expected %d", dev,
				ret, want);
		} else if (!ret) {
			/* Added one by one: ids increase. */
			if (r.id <= c->last_id)
				st_fail(run, "RULE_ADD on aiodev%d: id %u after %u",
					dev, r.id, c->last_id);
			c->last_id = r.id;
			c->own[c->n++] = r;
			atomic_fetch_add(&run->rule_ops[RO_ADD], 1);
		}
	} else if (op < 58) {
		__u32 id;

		k = c->n && (x >> 8) % 4 ? (int)((x >> 10) % c->n) : -1;
		id = k >= 0 ? c->own[k].id : c->gone[(x >> 10) % 8];
		if (!id)
			return;
		ret = aio_ioctl(c->wfd, AIODEV_IOC_RULE_DEL, &id);
		if (ret != (k >= 0 ? 0 : -ENOENT))
			st_fail(run, "RULE_DEL of %s rule %u on aiodev%d: %d",
				k >= 0 ? "our" : "a deleted", id, dev, ret);
		if (!ret && k >= 0) {
			churn_gone(c, id);
			memmove(&c->own[k], &c->own[k + 1],
				(--c->n - k) * sizeof(c->own[0]));
			atomic_fetch_add(&run->rule_ops[RO_DEL], 1);
		}
	} else if (op < 63) {
		int nr = (x >> 8) % 3 ? (x >> 10) % 9 : (x >> 10) % (CHURN_MAX + 1);

		for (i = 0, want = 0; i < nr; i++) {
			nomatch_rule(h, c, &load[i]);
			k = rule_dist(&load[i]);
			if (!want && k >= 0 && !(c->dists >> k & 1))
				want = -ENOENT;
		}
		ret = churn_replace(run, c->wfd, load, nr);
		if (want ? ret != want : ret < 0 || (nr ? !ret : ret != 0) ||
					 (nr && (__u32)ret <= c->last_id)) {
			st_fail(run, "RULE_LOAD of %d on aiodev%d: %d, expected %d (last id %u)",
				nr, dev, ret, want, c->last_id);
		} else if (!want) {
			for (i = 0; i < c->n; i++)
				churn_gone(c, c->own[i].id);
			for (i = 0; i < nr; i++) {
				c->own[i] = load[i];
				c->own[i].id = ret + i;	/* consecutive */
			}
			c->n = nr;
			if (nr)
				c->last_id = ret + nr - 1;
			atomic_fetch_add(&run->rule_ops[RO_LOAD], 1);
			atomic_fetch_add(&run->rules_loaded, nr);
		}
	} else if (op < 66) {
		ret = churn_replace(run, c->wfd, NULL, -1);
		if (ret)
			st_fail(run, "RULE_CLEAR on aiodev%d: %d", dev, ret);
		for (i = 0; i < c->n; i++)
			churn_gone(c, c->own[i].id);
		c->n = 0;
		atomic_fetch_add(&run->rule_ops[RO_CLEAR], 1);
	} else if (op < 83) {
		k = (x >> 8) % NDISTS;
		if ((x >> 12) % 3) {
			/* Any latency up to the limit: no rule meets a request. */
			int nb = 1 + (x >> 16) % 8;

			for (i = 0; i < nb; i++) {
				b[i].min_nsec = rnd_next(&h->rng) % MSEC(10);
				b[i].max_nsec = i == 0 ? AIODEV_MAX_NSEC :
						b[i].min_nsec +
						rnd_next(&h->rng) % MSEC(10);
				b[i].weight = 1 + rnd_next(&h->rng) % 0xffffffffULL;
			}
			ret = dist_ioctl(c->wfd, k, b, nb);
			if (ret)
				st_fail(run, "DIST_SET st%d on aiodev%d: %d", k,
					dev, ret);
			else
				c->dists |= 1U << k;
			atomic_fetch_add(&run->rule_ops[RO_DSET], !ret);
		} else {
			want = !(c->dists >> k & 1) ? -ENOENT :
			       churn_uses(c, k) ? -EBUSY : 0;
			ret = dist_ioctl(c->wfd, k, NULL, 0);
			if (ret != want)
				st_fail(run, "deleting st%d on aiodev%d: %d, expected %d",
					k, dev, ret, want);
			if (!ret)
				c->dists &= ~(1U << k);
			atomic_fetch_add(&run->rule_ops[RO_DDEL], !ret);
		}
	} else if (op < 98) {
		churn_list(h, c, dev);
	} else {
		/* Changes need a file opened for writing. */
		__u32 id = c->n ? c->own[0].id : 1;

		nomatch_rule(h, c, &r);
		if (aio_ioctl(c->rofd, AIODEV_IOC_RULE_ADD, &r) != -EBADF ||
		    aio_ioctl(c->rofd, AIODEV_IOC_RULE_DEL, &id) != -EBADF ||
		    aio_ioctl(c->rofd, AIODEV_IOC_RULE_CLEAR, NULL) != -EBADF ||
		    rule_ioctl_load(c->rofd, &r, 1) != -EBADF ||
		    dist_ioctl(c->rofd, 0, NULL, 0) != -EBADF)
			st_fail(run, "a rule change on a read-only file of aiodev%d did not fail with -EBADF",
				dev);
		atomic_fetch_add(&run->rule_ops[RO_EBADF], 1);
	}
}

static void *rules_main(void *arg)
{
	struct helper *h = arg;
	struct run *run = h->run;
	struct churn_dev *cd = calloc(NDEV, sizeof(*cd));
	struct aiodev_rule r, got[AIODEV_MAX_RULES + 1];
	int d, i, k, status, ret;

	if (!cd) {
		st_fail(run, "calloc");
		return NULL;
	}
	for (d = 0; d < NDEV; d++) {
		cd[d].wfd = aio_open(d, O_WRONLY);
		cd[d].rofd = aio_open(d, O_RDONLY);
		if (cd[d].wfd < 0 || cd[d].rofd < 0)
			st_fail(run, "open aiodev%d: %s", d, strerror(errno));
		for (k = 0; k < NDISTS; k++)
			dist_ioctl(cd[d].wfd, k, NULL, 0);
	}
	while (!stopping(run) && cd[0].wfd >= 0 && cd[1].wfd >= 0 &&
	       cd[0].rofd >= 0 && cd[1].rofd >= 0) {
		d = rnd_next(&h->rng) % NDEV;
		churn_one(h, &cd[d], d);
		sleep_ns(MSEC(1) / 5 + rnd_next(&h->rng) % MSEC(2));
	}

	/*
	 * A rule for a process that is gone lists tgid 0: once the sleeper
	 * is reaped, ours show 0.
	 */
	memset(&r, 0, sizeof(r));
	r.tgid = run->sleeper;
	r.result_kind = AIODEV_RESULT_REFUSE;
	r.error = EPERM;
	ret = cd[0].wfd >= 0 ? aio_ioctl(cd[0].wfd, AIODEV_IOC_RULE_ADD, &r) :
			       -EBADF;
	if (ret)
		st_fail(run, "RULE_ADD for the sleeping child: %d", ret);
	kill(run->sleeper, SIGKILL);
	if (waitpid(run->sleeper, &status, 0) == run->sleeper)
		atomic_store(&run->sleeper_reaped, 1);
	else
		st_fail(run, "waitpid of the sleeping child: %s", strerror(errno));
	ret = cd[0].wfd >= 0 ? rule_ioctl_list(cd[0].wfd, got, AIODEV_MAX_RULES + 1) :
			       -EBADF;
	for (i = 0; i < ret && i <= AIODEV_MAX_RULES; i++)
		if (got[i].id == r.id && got[i].tgid != 0)
			st_fail(run, "rule %u of a reaped process lists tgid %d",
				r.id, got[i].tgid);
	for (i = 0, k = 0; i < ret && i <= AIODEV_MAX_RULES; i++)
		k += got[i].id == r.id;
	if (!k)
		st_fail(run, "rule %u of the sleeping child is not listed (RULE_LIST %d, last id %u)",
			r.id, ret, ret > 0 ? got[(ret < AIODEV_MAX_RULES ? ret : AIODEV_MAX_RULES) - 1].id : 0);

	/* Nothing stays behind: no rule, none of our distributions. */
	for (d = 0; d < NDEV; d++) {
		if (cd[d].wfd < 0)
			continue;
		if (churn_replace(run, cd[d].wfd, NULL, -1) ||
		    rule_ioctl_list(cd[d].rofd, got, 1) != 0)
			st_fail(run, "clearing aiodev%d's rules", d);
		for (k = 0; k < NDISTS; k++)
			if (dist_ioctl(cd[d].wfd, k, NULL, 0) !=
			    (cd[d].dists >> k & 1 ? 0 : -ENOENT))
				st_fail(run, "deleting st%d of aiodev%d", k, d);
		close_locked(run, cd[d].wfd);
		close_locked(run, cd[d].rofd);
	}
	free(cd);
	return NULL;
}

/* The rule worker's rule, and what it makes of the reads it meets. */
struct rw_rule {
	struct aiodev_rule r;
	__u64 matched, applied;
};

static bool rw_matches(const struct aiodev_rule *r, int path)
{
	return !r->paths || (r->paths >> path & 1);
}

/* The counters and the probability, as aiodev_rule_applies() does them. */
static bool rw_applies(struct rw_rule *x)
{
	const struct aiodev_rule *r = &x->r;
	__u64 nth = ++x->matched;

	if (nth <= r->skip)
		return false;
	if (r->every > 1 && (nth - r->skip) % r->every)
		return false;
	if (r->count && x->applied >= r->count)
		return false;
	/* Probabilities of 0 or AIODEV_PPM only: no draw decides. */
	if ((r->flags & AIODEV_RULE_PROB) && r->prob_ppm < AIODEV_PPM)
		return false;
	x->applied++;
	return true;
}

struct rworker {
	struct run *run;
	pthread_t thread;
	__u64 rng;
	int fd[NDEV], ifd[NDEV];	/* read(2) and rule calls; SUBMIT */
	unsigned char *buf, *pat;
};

/*
 * One read of @len bytes at @off of the private range: through read(2) or
 * SUBMIT. Returns its result, and whether a request came to exist.
 */
static long long rw_read(struct rworker *rw, int dev, int path, __u64 off,
			 __u32 len, bool *accepted)
{
	struct aiodev_event ev;
	struct aiodev_req q;
	long long res;
	int ret;

	memset(rw->buf, CANARY, len + GUARD);
	if (path == AIODEV_PATH_SYNC) {
		res = pread(rw->fd[dev], rw->buf, len, off);
		res = res < 0 ? -errno : res;
		*accepted = res != -EREMCHG;
		return res;
	}
	req_init(&q, AIODEV_OP_READ, rw->buf, off, len, 0x5eed);
	ret = aio_submit(rw->ifd[dev], &q, 1);
	*accepted = ret == 1;
	if (ret != 1)
		return ret == 0 ? -EPROTO : ret;
	ret = aio_reap(rw->ifd[dev], &ev, 1, WAIT_LONG_NS);
	if (ret != 1 || ev.id != q.id || ev.user_data != 0x5eed) {
		st_fail(rw->run, "rule worker: no event for its read (%d)", ret);
		return -ETIME;
	}
	return ev.result;
}

/* Does the buffer hold the pattern's first @moved of @len bytes, the rest untouched? */
static bool rw_buf_ok(struct rworker *rw, __u64 off, __u32 len, __u32 moved)
{
	return !memcmp(rw->buf, rw->pat + (off - PRIV_OFF), moved) &&
	       find_not(rw->buf + moved, len - moved + GUARD, CANARY) < 0;
}

/*
 * The result of a read the rule decided (@decided), or not: exactly the
 * rule's, or any plain read's (classify(): whole, timed out, the fault
 * plan's EIO). Returns the category to count, or -1 if it is neither.
 */
static int rw_check(struct rworker *rw, const struct aiodev_rule *r,
		    bool decided, long long res, __u64 off, __u32 len)
{
	__u32 part = r->bytes < len ? r->bytes : len;
	int cat;

	if (!decided) {
		/* No fault range of the configuration thread reaches here. */
		cat = res == -ERR_RANGE ? -1 : classify(res, len, false);
		if (cat == C_OK && !rw_buf_ok(rw, off, len, len))
			return -1;
		if (cat != C_OK && !rw_buf_ok(rw, off, len, 0))
			return -1;
		return cat == C_CAN ? -1 : cat;
	}
	switch (r->result_kind) {
	case AIODEV_RESULT_OK:
		return res == len && rw_buf_ok(rw, off, len, len) ? C_OK : -1;
	case AIODEV_RESULT_SHORT:
		return res == part && rw_buf_ok(rw, off, len, part) ? C_OK : -1;
	case AIODEV_RESULT_ERROR:
		return res == -r->error && rw_buf_ok(rw, off, len, 0) ? C_FAIL : -1;
	case AIODEV_RESULT_TORN:
		return res == -r->error && rw_buf_ok(rw, off, len, part) ? C_FAIL : -1;
	default:	/* REFUSE: never a request */
		return res == -r->error && rw_buf_ok(rw, off, len, 0) ? NCAT : -1;
	}
}

static void rw_phase(struct rworker *rw)
{
	static const __u16 fates[] = { AIODEV_RESULT_OK, AIODEV_RESULT_SHORT,
				       AIODEV_RESULT_ERROR, AIODEV_RESULT_TORN,
				       AIODEV_RESULT_REFUSE };
	struct run *run = rw->run;
	__u64 x = rnd_next(&rw->rng);
	int dev = x % NDEV, i, n, cat, ret;
	struct rw_rule rr = { 0 };
	struct aiodev_rule *r = &rr.r, got[AIODEV_MAX_RULES + 1];
	unsigned int e0, e1;
	bool sure;

	r->ops = (x >> 1) % 2 ? 1U << AIODEV_OP_READ : 0;
	r->paths = (x >> 2) % 4 == 0 ? 1U << AIODEV_PATH_SYNC :
		   (x >> 2) % 4 == 1 ? 1U << AIODEV_PATH_IOCTL :
		   (x >> 2) % 4 == 2 ? 1U << AIODEV_PATH_SYNC |
				       1U << AIODEV_PATH_IOCTL : 0;
	r->offset = PRIV_OFF;
	r->range_len = PRIV_LEN;
	r->tgid = (x >> 4) % 2 ? getpid() : 0;
	if ((x >> 5) % 4 == 0) {
		r->flags = AIODEV_RULE_PROB;
		r->prob_ppm = (x >> 7) % 2 ? AIODEV_PPM : 0;
	}
	r->skip = (x >> 8) % 3 == 0 ? (x >> 10) % 4 : 0;
	r->every = (x >> 12) % 3 == 0 ? (x >> 14) % 4 : 0;
	r->count = (x >> 16) % 3 == 0 ? (x >> 18) % 5 : 0;
	/* Below 1 us: no deadline of the configuration thread comes first. */
	r->latency_kind = AIODEV_LATENCY_FIXED;
	r->latency_nsec = (x >> 20) % 999;
	r->result_kind = fates[(x >> 30) % ARRAY_SIZE(fates)];
	if (r->result_kind == AIODEV_RESULT_SHORT ||
	    r->result_kind == AIODEV_RESULT_TORN)
		r->bytes = (x >> 34) % (RW_MAXLEN + 512);
	if (r->result_kind == AIODEV_RESULT_ERROR ||
	    r->result_kind == AIODEV_RESULT_TORN)
		r->error = ENOLINK;
	else if (r->result_kind == AIODEV_RESULT_REFUSE)
		r->error = EREMCHG;

	e0 = atomic_load(&run->rules_epoch);
	ret = aio_ioctl(rw->fd[dev], AIODEV_IOC_RULE_ADD, r);
	if (ret) {
		st_fail(run, "rule worker: RULE_ADD on aiodev%d: %d", dev, ret);
		return;
	}
	sure = !(e0 & 1);
	n = 4 + (x >> 44) % 9;
	for (i = 0; i < n; i++) {
		__u64 y = rnd_next(&rw->rng);
		int path = y % 2 ? AIODEV_PATH_SYNC : AIODEV_PATH_IOCTL;
		__u32 len = 1 + (y >> 8) % RW_MAXLEN;
		__u64 off = PRIV_OFF + (y >> 32) % (PRIV_LEN - len + 1);
		bool decided = false, acc;
		long long res;

		if (rw_matches(r, path))
			decided = rw_applies(&rr);
		res = rw_read(rw, dev, path, off, len, &acc);
		e1 = atomic_load(&run->rules_epoch);
		sure = sure && e1 == e0;
		if (sure) {
			cat = rw_check(rw, r, decided, res, off, len);
			atomic_fetch_add(decided ? &run->rule_exact :
					 &run->rule_passed, 1);
		} else {
			/* The rule may be gone: its outcome, or a plain one. */
			cat = rw_check(rw, r, true, res, off, len);
			if (cat < 0)
				cat = rw_check(rw, r, false, res, off, len);
			atomic_fetch_add(&run->rule_unsure, 1);
		}
		if (cat < 0 || acc != (cat != NCAT))
			st_fail(run, "rule worker: %s read of %u at +%llu on aiodev%d under rule %u (result %u, bytes %u, skip %llu, every %llu, count %llu, prob %u/%u): %lld, %s",
				path == AIODEV_PATH_SYNC ? "plain" : "ioctl", len,
				(unsigned long long)(off - PRIV_OFF), dev, r->id,
				r->result_kind, r->bytes,
				(unsigned long long)r->skip,
				(unsigned long long)r->every,
				(unsigned long long)r->count, r->flags, r->prob_ppm,
				res, !sure ? "maybe removed" :
				decided ? "decided by the rule" : "not decided by it");
		if (acc) {
			atomic_fetch_add(&run->accepted[dev], 1);
			atomic_fetch_add(&run->by_path[4], 1);
			if (cat >= 0 && cat < NCAT)
				count(run, dev, cat);
		}
	}

	/* Still in force: its counters are exactly the reads it met. */
	ret = rule_ioctl_list(rw->fd[dev], got, AIODEV_MAX_RULES + 1);
	if (sure && atomic_load(&run->rules_epoch) == e0) {
		for (i = 0; i < ret && i <= AIODEV_MAX_RULES; i++)
			if (got[i].id == r->id)
				break;
		if (i >= ret || i > AIODEV_MAX_RULES)
			st_fail(run, "rule worker: rule %u not listed on aiodev%d (RULE_LIST %d, epoch %u)",
				r->id, dev, ret, e0);
		else if (got[i].matched != rr.matched ||
			 got[i].applied != rr.applied)
			st_fail(run, "rule worker: rule %u matched %llu, applied %llu; we counted %llu, %llu",
				r->id, (unsigned long long)got[i].matched,
				(unsigned long long)got[i].applied,
				(unsigned long long)rr.matched,
				(unsigned long long)rr.applied);
		else
			atomic_fetch_add(&run->rule_counted, 1);
	}
	ret = aio_ioctl(rw->fd[dev], AIODEV_IOC_RULE_DEL, &r->id);
	sure = sure && atomic_load(&run->rules_epoch) == e0;
	if (ret && (sure || ret != -ENOENT))
		st_fail(run, "rule worker: RULE_DEL of %u: %d", r->id, ret);

	/* Gone: whole reads again (or a plain failure). */
	for (i = 0; i < 2; i++) {
		__u64 y = rnd_next(&rw->rng);
		int path = y % 2 ? AIODEV_PATH_SYNC : AIODEV_PATH_IOCTL;
		__u32 len = 1 + (y >> 8) % RW_MAXLEN;
		__u64 off = PRIV_OFF + (y >> 32) % (PRIV_LEN - len + 1);
		long long res;
		bool acc;

		res = rw_read(rw, dev, path, off, len, &acc);
		cat = rw_check(rw, r, false, res, off, len);
		if (cat < 0 || !acc)
			st_fail(run, "rule worker: %s read of %u with no rule in force: %lld",
				path == AIODEV_PATH_SYNC ? "plain" : "ioctl", len,
				res);
		if (acc) {
			atomic_fetch_add(&run->accepted[dev], 1);
			atomic_fetch_add(&run->by_path[4], 1);
			if (cat >= 0)
				count(run, dev, cat);
		}
		atomic_fetch_add(&run->rule_passed, 1);
	}
	atomic_fetch_add(&run->rule_phases, 1);
}

static void *rworker_main(void *arg)
{
	struct rworker *rw = arg;
	struct run *run = rw->run;
	int d, tries;

	for (d = 0; d < NDEV; d++) {
		rw->fd[d] = aio_open(d, O_RDWR);
		rw->ifd[d] = aio_open(d, O_RDWR);
		if (rw->fd[d] < 0 || rw->ifd[d] < 0) {
			st_fail(run, "rule worker: open aiodev%d: %s", d,
				strerror(errno));
			return NULL;
		}
		/* The pattern, through any fault or deadline in force. */
		for (tries = 0; tries < 1000; tries++) {
			ssize_t got = pwrite(rw->fd[d], rw->pat, PRIV_LEN, PRIV_OFF);

			if (got != -1 || errno != EREMCHG) {
				atomic_fetch_add(&run->accepted[d], 1);
				atomic_fetch_add(&run->by_path[4], 1);
			}
			if (got == PRIV_LEN)
				break;
		}
		if (tries == 1000)
			st_fail(run, "rule worker: cannot write its pattern");
	}
	while (!stopping(run))
		rw_phase(rw);
	for (d = 0; d < NDEV; d++) {
		close_locked(run, rw->fd[d]);
		close_locked(run, rw->ifd[d]);
	}
	return NULL;
}

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
#define HOLD_MAX	8			/* requests per phase */


struct hreq {
	int path;			/* AIODEV_PATH_IOCTL or _AIO */
	__u64 id;			/* ioctl request id */
	struct iocb cb;
	__u64 off;
	__u32 len;
	__u64 hold_id;			/* 0 if not listed as held */
	bool released, cancel_won;
	struct aiodev_release how;	/* the release that ended it */
	long long res;
	bool seen;
};

struct holder {
	struct run *run;
	pthread_t thread;
	__u64 rng;
	int fd[NDEV], ifd[NDEV];	/* rules, libaio and control; SUBMIT */
	io_context_t aio[NDEV];
	unsigned char *buf, *pat;	/* HOLD_MAX * BLK + GUARD each slot */
	/* The phase, shared with its racer. */
	int dev, n;
	struct hreq q[HOLD_MAX];
	atomic_int go;
	bool close_ifd;
	__u64 racer_rng;
};

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
	ret = aio_ioctl(ho->fd[dev], AIODEV_IOC_RULE_DEL, &r.id);
	if (ret && (sure || ret != -ENOENT))
		st_fail(run, "holder: RULE_DEL of %u: %d", r.id, ret);
	atomic_fetch_add(&stat[HW_PHASES], 1);
}

static void *holder_main(void *arg)
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
	struct helper cfg, killer, rules;
	struct rworker rw;
	struct holder ho;
	struct aiodev_counters base[NDEV];
	int fd[NDEV];
};

FIXTURE_SETUP(st)
{
	struct aiodev_info info;
	int d;

	self->run = calloc(1, sizeof(*self->run));
	ASSERT_NE(NULL, self->run);
	for (d = 0; d < NDEV; d++)
		self->fd[d] = fixture_open(_metadata, d, NULL);
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->run->depth = info.queue_depth;
}

FIXTURE_TEARDOWN(st)
{
	int d;

	for (d = 0; d < NDEV; d++) {
		if (self->fd[d] >= 0)
			fixture_close(_metadata, self->fd[d]);
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
	/* The process of the rules no request meets: it only sleeps. */
	run->sleeper = fork();
	ASSERT_LE(0, run->sleeper);
	if (!run->sleeper) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
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
	self->rules = (struct helper){ .run = run, .rng = run->seed ^ 0x7a1e5 };
	self->rw = (struct rworker){ .run = run, .rng = (run->seed ^ 0x7a1e6) | 1,
				     .buf = kaio_buf(RW_MAXLEN + GUARD, 0),
				     .pat = kaio_buf(PRIV_LEN, 0) };
	ASSERT_NE(NULL, self->rw.buf);
	ASSERT_NE(NULL, self->rw.pat);
	/* As the workers' pools: pinned pages stay out of the children. */
	madvise(self->rw.buf, RW_MAXLEN + GUARD, MADV_DONTFORK);
	madvise(self->rw.pat, PRIV_LEN, MADV_DONTFORK);
	fill_pattern(self->rw.pat, PRIV_LEN, run->seed ^ 0x9a7);
	self->ho = (struct holder){ .run = run, .rng = (run->seed ^ 0x401d) | 1,
				    .buf = kaio_buf(HOLD_MAX * (BLK + GUARD), 0),
				    .pat = kaio_buf(HOLD_LEN, 0) };
	ASSERT_NE(NULL, self->ho.buf);
	ASSERT_NE(NULL, self->ho.pat);
	madvise(self->ho.buf, HOLD_MAX * (BLK + GUARD), MADV_DONTFORK);
	madvise(self->ho.pat, HOLD_LEN, MADV_DONTFORK);
	fill_pattern(self->ho.pat, HOLD_LEN, run->seed ^ 0x401e);

	t0 = now_ns();
	run->t_end = t0 + (__u64)run->seconds * NSEC_PER_SEC;
	for (i = 0; i < run->nthreads; i++)
		ASSERT_EQ(0, pthread_create(&self->w[i].thread, NULL,
					    worker_main, &self->w[i]));
	ASSERT_EQ(0, pthread_create(&self->cfg.thread, NULL, config_main,
				    &self->cfg));
	ASSERT_EQ(0, pthread_create(&self->killer.thread, NULL, killer_main,
				    &self->killer));
	ASSERT_EQ(0, pthread_create(&self->rules.thread, NULL, rules_main,
				    &self->rules));
	ASSERT_EQ(0, pthread_create(&self->rw.thread, NULL, rworker_main,
				    &self->rw));
	ASSERT_EQ(0, pthread_create(&self->ho.thread, NULL, holder_main,
				    &self->ho));
	for (i = 0; i < run->nthreads; i++)
		pthread_join(self->w[i].thread, NULL);
	atomic_store(&run->stop, 1);
	pthread_join(self->cfg.thread, NULL);
	pthread_join(self->killer.thread, NULL);
	pthread_join(self->rules.thread, NULL);
	pthread_join(self->rw.thread, NULL);
	pthread_join(self->ho.thread, NULL);
	if (!atomic_load(&run->sleeper_reaped)) {
		kill(run->sleeper, SIGKILL);
		waitpid(run->sleeper, NULL, 0);
	}
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

	printf("# stress: %d threads x %d s (seed %llu): %llu requests (ioctl %llu, libaio %llu, plain %llu, children %llu, rule worker %llu, holder %llu): ok %llu, timed out %llu, cancelled %llu, failed %llu seen, %llu unseen (cancelled by close/exit/io_destroy)\n",
	       run->nthreads, run->seconds, (unsigned long long)run->seed,
	       tot_acc, S(&run->by_path[0]), S(&run->by_path[1]),
	       S(&run->by_path[2]), S(&run->by_path[3]), S(&run->by_path[4]),
	       S(&run->by_path[5]),
	       tot_obs[C_OK],
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
	printf("# stress: rules changed while running: added %llu, deleted %llu, loaded %llu times (%llu rules), cleared %llu, distributions defined %llu, deleted %llu; RULE_LISTs checked %llu (up to %llu rules); read-only -EBADF rounds %llu\n",
	       S(&run->rule_ops[RO_ADD]), S(&run->rule_ops[RO_DEL]),
	       S(&run->rule_ops[RO_LOAD]), S(&run->rules_loaded),
	       S(&run->rule_ops[RO_CLEAR]), S(&run->rule_ops[RO_DSET]),
	       S(&run->rule_ops[RO_DDEL]), S(&run->rule_ops[RO_LIST]),
	       S(&run->rule_list_max), S(&run->rule_ops[RO_EBADF]));
	printf("# stress: rule worker: %llu rules, reads decided by a rule in force %llu (exact), reads it let pass or with no rule %llu, reads with the rule maybe cleared %llu; counters checked exactly %llu\n",
	       S(&run->rule_phases), S(&run->rule_exact), S(&run->rule_passed),
	       S(&run->rule_unsure), S(&run->rule_counted));
	printf("# stress: holder: %llu phases; requests released %llu (%llu parked first), cancel won the race %llu, safety deadline %llu, not held %llu; ioctl files closed under held requests %llu\n",
	       S(&run->hold_stat[HW_PHASES]), S(&run->hold_stat[HW_RELEASED]),
	       S(&run->hold_stat[HW_PARKED]), S(&run->hold_stat[HW_CANCEL_WON]),
	       S(&run->hold_stat[HW_DEADLINE]), S(&run->hold_stat[HW_PLAIN]),
	       S(&run->hold_stat[HW_CLOSED]));
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
	/* Rules changed under the workers, and a rule decided reads. */
	EXPECT_LT(0ULL, S(&run->rule_ops[RO_ADD]) + S(&run->rule_ops[RO_LOAD]))
		TH_LOG("scenario never happened: rules changed while stress runs");
	EXPECT_LT(0ULL, S(&run->rule_exact))
		TH_LOG("scenario never happened: reads decided by a rule in force");
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
		NEED(rule_ops[RO_ADD], "rules added");
		NEED(rule_ops[RO_DEL], "rules deleted");
		NEED(rule_ops[RO_LOAD], "rules loaded");
		NEED(rule_ops[RO_CLEAR], "rules cleared");
		NEED(rule_ops[RO_LIST], "RULE_LIST under churn");
		NEED(rule_ops[RO_DSET], "distributions defined");
		NEED(rule_ops[RO_DDEL], "distributions deleted");
		NEED(rule_ops[RO_EBADF], "rule changes on read-only files");
		NEED(rule_passed, "reads a rule let pass or with no rule");
		NEED(rule_unsure, "reads with the rule maybe cleared");
		NEED(rule_counted, "rule counters checked");
		NEED(hold_stat[HW_RELEASED], "held requests released");
		NEED(hold_stat[HW_PARKED], "released requests parked");
		NEED(hold_stat[HW_CANCEL_WON], "cancels winning over a release");
		NEED(hold_stat[HW_DEADLINE], "held requests timed out");
		NEED(hold_stat[HW_CLOSED], "files closed under held requests");
#undef NEED
	}
	kaio_buf_free(self->rw.buf, RW_MAXLEN + GUARD);
	kaio_buf_free(self->rw.pat, PRIV_LEN);
	kaio_buf_free(self->ho.buf, HOLD_MAX * (BLK + GUARD));
	kaio_buf_free(self->ho.pat, HOLD_LEN);
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
