// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the rules thread (rule and distribution churn) and the
 * rule worker (reads under a rule of its own).
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

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
#define CHURN_MAX	48		/* the rules thread's own, per device */
#define NDISTS		4		/* its distributions: "st0".."st3" */

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

void *rules_main(void *arg)
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

void *rworker_main(void *arg)
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
