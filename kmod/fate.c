// SPDX-License-Identifier: GPL-2.0
/*
 * A request's fate: when it completes and how it ends, decided once, at
 * submission, for every path (ioctl, kernel AIO, read/write), from the
 * device's rules, its configuration and its pseudo-random generator.
 *
 * One spinlock covers all of it. The rules' counters and the generator
 * must advance in one order for a seed to replay a run, so a submission
 * that draws or counts takes the lock; it also makes every change of the
 * rules atomic for submissions. Nothing under it sleeps or allocates. A
 * device with no rules, jitter or every-Nth fault draws and counts
 * nothing: its submissions read the configuration under a seqcount.
 */
#include <linux/bitmap.h>
#include <linux/ctype.h>
#include <linux/math64.h>
#include <linux/pid.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "aiodev.h"

/* A distribution as sampled: cumulative weights, bucket widths. */
struct aiodev_dist_table {
	char name[AIODEV_NAME_LEN];
	unsigned int nr;
	u64 total;
	struct {
		u64 min_nsec;
		u64 span;	/* max_nsec - min_nsec */
		u64 cum;	/* weights of this bucket and those before */
	} b[];
};

/* ---- the generator ---------------------------------------------------- */

static u64 aiodev_rand64(struct aiodev_fates *fs)
{
	u64 hi = prandom_u32_state(&fs->rnd);

	return hi << 32 | prandom_u32_state(&fs->rnd);
}

/* Uniform in [0, max]; max is at most AIODEV_MAX_NSEC, so max + 1 fits. */
static u64 aiodev_rand_upto(struct aiodev_fates *fs, u64 max)
{
	return max ? mul_u64_u64_shr(aiodev_rand64(fs), max + 1, 64) : 0;
}

static void aiodev_reseed(struct aiodev_fates *fs, u64 seed)
{
	prandom_seed_state(&fs->rnd, seed);
}

static u64 aiodev_dist_sample(struct aiodev_fates *fs,
			      const struct aiodev_dist_table *t)
{
	u64 r = mul_u64_u64_shr(aiodev_rand64(fs), t->total, 64);
	unsigned int lo = 0, hi = t->nr - 1;

	/* The first bucket whose cumulative weight exceeds r. */
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (t->b[mid].cum > r)
			hi = mid;
		else
			lo = mid + 1;
	}
	return t->b[lo].min_nsec + aiodev_rand_upto(fs, t->b[lo].span);
}

/* ---- matching --------------------------------------------------------- */

/* The range and length conditions; the index took care of the others. */
static bool aiodev_rule_matches(const struct aiodev_rule_entry *e,
				const struct aiodev_fate_query *q, u64 end)
{
	return q->offset < e->range_hi && end > e->range_lo &&
	       q->len - e->min_len <= e->len_span;
}

/* The counters and the probability: does a matching rule apply this time? */
static bool aiodev_rule_applies(struct aiodev_fates *fs,
				struct aiodev_rule_entry *e)
{
	struct aiodev_rule *r = &e->rule;
	u64 nth = ++r->matched, rem = 0;

	if (nth <= r->skip)
		return false;
	if (r->every > 1)
		div64_u64_rem(nth - r->skip, r->every, &rem);
	if (rem)
		return false;
	if (r->count && r->applied >= r->count)
		return false;
	/* Drawn only when asked for: other rules don't shift the sequence. */
	if ((r->flags & AIODEV_RULE_PROB) &&
	    mul_u32_u32(prandom_u32_state(&fs->rnd), AIODEV_PPM) >> 32 >=
	    r->prob_ppm)
		return false;
	r->applied++;
	return true;
}

static u64 aiodev_slice_bytes(const struct aiodev_device *dev)
{
	return DIV_ROUND_UP_ULL(dev->store.size, AIODEV_SLICES);
}

static struct aiodev_rule_entry *aiodev_rule_find(struct aiodev_device *dev,
						  const struct aiodev_fate_query *q)
{
	struct aiodev_fates *fs = &dev->fates;
	const struct aiodev_rule_index *ix = &fs->index;
	struct pid *tgid = task_tgid(current);
	DECLARE_BITMAP(cand, AIODEV_MAX_RULES);
	u64 pid_rules = ix->any_pid, slices = 0, mask;
	/* A NOP's [0, 1) meets only rules without a range (the index). */
	u64 end = q->op == AIODEV_OP_NOP ? 1 : q->offset + q->len;
	u64 slice = aiodev_slice_bytes(dev);
	unsigned int i, first = div64_u64(q->offset, slice);
	unsigned int last = div64_u64(end - 1, slice);

	for (i = first; i <= last; i++)
		slices |= ix->by_slice[i];
	for (i = 0; i < ix->nr_pids; i++)
		if (ix->pids[i].pid == tgid)
			pid_rules |= ix->pids[i].rules;
	mask = ix->by_op_path[q->op][q->path] & ix->by_len[fls(q->len)] &
	       slices & pid_rules;
	bitmap_from_u64(cand, mask);
	/* In rule order: the lowest bit is the first rule. */
	for_each_set_bit(i, cand, AIODEV_MAX_RULES) {
		struct aiodev_rule_entry *e = &fs->rules[i];

		if (aiodev_rule_matches(e, q, end) && aiodev_rule_applies(fs, e))
			return e;
	}
	return NULL;
}

/*
 * Rebuild the index after a change of the rule list; the caller holds
 * fs->lock.
 */
static void aiodev_rules_reindex(struct aiodev_device *dev)
{
	struct aiodev_fates *fs = &dev->fates;
	struct aiodev_rule_index *ix = &fs->index;
	u64 slice = aiodev_slice_bytes(dev);
	unsigned int i, j, op, path;

	memset(ix, 0, sizeof(*ix));
	for (i = 0; i < fs->nr_rules; i++) {
		const struct aiodev_rule_entry *e = &fs->rules[i];
		const struct aiodev_rule *r = &e->rule;
		u64 bit = BIT_ULL(i);

		for (op = 0; op < ARRAY_SIZE(ix->by_op_path); op++) {
			/* A NOP touches no byte: never in a range rule. */
			if ((r->ops && !(r->ops & BIT(op))) ||
			    (r->range_len && op == AIODEV_OP_NOP))
				continue;
			for (path = 0; path < ARRAY_SIZE(ix->by_op_path[0]); path++)
				if (!r->paths || (r->paths & BIT(path)))
					ix->by_op_path[op][path] |= bit;
		}
		/* Class j holds the lengths [2^(j-1), 2^j - 1], class 0 just 0. */
		for (j = 0; j < AIODEV_LEN_CLASSES; j++) {
			u64 lo = j ? 1ULL << (j - 1) : 0, hi = (1ULL << j) - 1;

			if (e->min_len <= hi &&
			    (u64)e->min_len + e->len_span >= lo)
				ix->by_len[j] |= bit;
		}
		for (j = 0; j < AIODEV_SLICES; j++)
			if (e->range_lo < (j + 1) * slice &&
			    e->range_hi > j * slice)
				ix->by_slice[j] |= bit;
		if (!e->pid) {
			ix->any_pid |= bit;
			continue;
		}
		for (j = 0; j < ix->nr_pids && ix->pids[j].pid != e->pid; j++)
			;
		if (j == ix->nr_pids) {
			ix->pids[j].pid = e->pid;
			ix->nr_pids++;
		}
		ix->pids[j].rules |= bit;
	}
}

/* ---- the decision ----------------------------------------------------- */

static u64 aiodev_rule_latency(struct aiodev_fates *fs,
			       const struct aiodev_rule_entry *e)
{
	const struct aiodev_rule *r = &e->rule;

	switch (r->latency_kind) {
	case AIODEV_LATENCY_FIXED:
		return r->latency_nsec;
	case AIODEV_LATENCY_UNIFORM:
		return r->latency_nsec +
		       aiodev_rand_upto(fs, r->latency_max_nsec - r->latency_nsec);
	default:
		return aiodev_dist_sample(fs, fs->dists[e->dist]);
	}
}

static int aiodev_range_fault(const struct aiodev_config *cfg,
			      const struct aiodev_fate_query *q)
{
	if (cfg->fail_len && q->op != AIODEV_OP_NOP &&
	    q->offset < cfg->fail_offset + cfg->fail_len &&
	    cfg->fail_offset < q->offset + q->len)
		return cfg->fail_range_errno;
	return 0;
}

/* The device's fault plan, for a request whose result no rule decided. */
static int aiodev_config_fault(struct aiodev_fates *fs,
			       const struct aiodev_fate_query *q)
{
	const struct aiodev_config *cfg = &fs->config;
	int fault = 0;
	u32 rem;

	if (cfg->fail_every_nth) {
		div_u64_rem(++fs->nth_seq, cfg->fail_every_nth, &rem);
		if (!rem)
			fault = cfg->fail_nth_errno;
	}
	return aiodev_range_fault(cfg, q) ?: fault;
}

/* A request's own deadline, else the device's. */
static u64 aiodev_deadline(const struct aiodev_config *cfg,
			   const struct aiodev_fate_query *q)
{
	return q->has_timeout ? q->timeout_nsec : cfg->timeout_nsec;
}

/*
 * Without rules, jitter or an every-Nth fault nothing is drawn or counted:
 * the configuration is read under the seqcount alone, and submissions
 * don't contend for the lock. False if the lock is needed.
 */
static bool aiodev_fate_plain(struct aiodev_fates *fs,
			      const struct aiodev_fate_query *q, u64 *latency,
			      u64 *timeout, int *fault)
{
	const struct aiodev_config *cfg = &fs->config;
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&fs->seq);
		if (fs->nr_rules || cfg->jitter_nsec || cfg->fail_every_nth)
			return false;
		*latency = q->has_latency ? q->latency_nsec : cfg->latency_nsec;
		*timeout = aiodev_deadline(cfg, q);
		*fault = aiodev_range_fault(cfg, q);
	} while (read_seqcount_retry(&fs->seq, seq));
	return true;
}

/* Sets @f from the rule's result; returns the errno of a refusal. */
static int aiodev_rule_result(const struct aiodev_rule *r,
			      const struct aiodev_fate_query *q,
			      struct aiodev_fate *f)
{
	switch (r->result_kind) {
	case AIODEV_RESULT_ERROR:
		f->outcome = AIODEV_OUTCOME_FAULT;
		f->error = -r->error;
		f->data_len = 0;
		break;
	case AIODEV_RESULT_SHORT:
		f->data_len = min(r->bytes, q->len);
		break;
	case AIODEV_RESULT_TORN:
		f->outcome = AIODEV_OUTCOME_FAULT;
		f->error = -r->error;
		f->data_len = min(r->bytes, q->len);
		break;
	case AIODEV_RESULT_TIMEOUT:
		f->outcome = AIODEV_OUTCOME_TIMEOUT;
		f->error = -ETIMEDOUT;
		f->data_len = 0;
		break;
	case AIODEV_RESULT_REFUSE:
		return -r->error;
	}
	return 0;
}

/**
 * aiodev_fate_decide - decide how a request ends if nobody cancels it
 * @dev: the device.
 * @q: what the request is.
 * @f: output: when it fires, what it moves and the result it reports.
 *
 * Called once per request, in process context, when it is accepted.
 * Returns 0, or the negative errno a rule refuses the request with.
 */
int aiodev_fate_decide(struct aiodev_device *dev,
		       const struct aiodev_fate_query *q, struct aiodev_fate *f)
{
	struct aiodev_fates *fs = &dev->fates;
	const struct aiodev_config *cfg = &fs->config;
	const struct aiodev_rule_entry *e;
	u64 latency, timeout;
	int ret = 0, fault;

	*f = (struct aiodev_fate) {
		.outcome = AIODEV_OUTCOME_OK,
		.data_len = q->len,
	};

	if (aiodev_fate_plain(fs, q, &latency, &timeout, &fault)) {
		if (fault) {
			f->outcome = AIODEV_OUTCOME_FAULT;
			f->error = -fault;
			f->data_len = 0;
		}
		goto deadline;
	}

	spin_lock(&fs->lock);
	e = fs->nr_rules ? aiodev_rule_find(dev, q) : NULL;
	if (e)
		f->rule_id = e->rule.id;

	if (e && e->rule.latency_kind != AIODEV_LATENCY_DEFAULT)
		latency = aiodev_rule_latency(fs, e);
	else if (q->has_latency)
		latency = q->latency_nsec;
	else
		latency = cfg->latency_nsec +
			  aiodev_rand_upto(fs, cfg->jitter_nsec);
	timeout = aiodev_deadline(cfg, q);

	if (e && e->rule.result_kind != AIODEV_RESULT_DEFAULT) {
		ret = aiodev_rule_result(&e->rule, q, f);
	} else {
		fault = aiodev_config_fault(fs, q);
		if (fault) {
			f->outcome = AIODEV_OUTCOME_FAULT;
			f->error = -fault;
			f->data_len = 0;
		}
	}
	/* Held: no latency, no deadline but the rule's safety one. */
	if (e && (e->rule.flags & AIODEV_RULE_HOLD)) {
		f->hold = true;
		f->fire_ns = e->rule.hold_nsec;
	}
	/* Past this, @e may be gone: a RULE_LOAD frees the old list. */
	spin_unlock(&fs->lock);
	if (ret || f->hold)
		return ret;

deadline:
	/* The deadline wins a tie: completion must come strictly before. */
	if (timeout && (timeout <= latency ||
			f->outcome == AIODEV_OUTCOME_TIMEOUT)) {
		f->outcome = AIODEV_OUTCOME_TIMEOUT;
		f->error = -ETIMEDOUT;
		f->data_len = 0;
		f->fire_ns = timeout;
	} else {
		f->fire_ns = latency;
	}
	return 0;
}

/* ---- configuration ---------------------------------------------------- */

/* An errno may be set while its rule is off: sysfs sets one field at a time. */
static bool aiodev_errno_ok(bool on, s32 err)
{
	return err >= !!on && err <= AIODEV_MAX_ERRNO;
}

int aiodev_config_check(struct aiodev_device *dev,
			const struct aiodev_config *cfg)
{
	u64 size = dev->store.size;

	if (cfg->flags || memchr_inv(cfg->__reserved, 0,
				     sizeof(cfg->__reserved)))
		return -EINVAL;
	if (cfg->latency_nsec > AIODEV_MAX_NSEC ||
	    cfg->jitter_nsec > AIODEV_MAX_NSEC ||
	    cfg->latency_nsec + cfg->jitter_nsec > AIODEV_MAX_NSEC ||
	    cfg->timeout_nsec > AIODEV_MAX_NSEC)
		return -EINVAL;
	if (!aiodev_errno_ok(cfg->fail_every_nth, cfg->fail_nth_errno))
		return -EINVAL;
	if (!aiodev_errno_ok(cfg->fail_len, cfg->fail_range_errno))
		return -EINVAL;
	if (cfg->fail_offset > size || cfg->fail_len > size - cfg->fail_offset)
		return -EINVAL;
	return 0;
}

/*
 * The caller holds dev->config_mutex and has checked @cfg. The every-Nth
 * count and the generator restart: a run can be replayed from here.
 */
void aiodev_config_set(struct aiodev_device *dev,
		       const struct aiodev_config *cfg)
{
	struct aiodev_fates *fs = &dev->fates;

	spin_lock(&fs->lock);
	write_seqcount_begin(&fs->seq);
	fs->config = *cfg;
	write_seqcount_end(&fs->seq);
	fs->nth_seq = 0;
	aiodev_reseed(fs, cfg->seed);
	spin_unlock(&fs->lock);
}

void aiodev_config_get(struct aiodev_device *dev, struct aiodev_config *cfg)
{
	spin_lock(&dev->fates.lock);
	*cfg = dev->fates.config;
	spin_unlock(&dev->fates.lock);
}

/* ---- rules ------------------------------------------------------------ */

static bool aiodev_name_ok(const char *name)
{
	size_t len = strnlen(name, AIODEV_NAME_LEN);
	size_t i;

	if (!len || len == AIODEV_NAME_LEN)
		return false;
	/* The kernel's isalnum() takes Latin-1 letters too: ASCII only. */
	for (i = 0; i < len; i++)
		if (!isascii(name[i]) ||
		    (!isalnum(name[i]) && !strchr("_.-", name[i])))
			return false;
	/* NUL-padded: nothing hides after the terminator. */
	return !memchr_inv(name + len, 0, AIODEV_NAME_LEN - len);
}

static int aiodev_dist_find(struct aiodev_fates *fs, const char *name)
{
	int i;

	for (i = 0; i < AIODEV_MAX_DISTS; i++)
		if (fs->dists[i] &&
		    !strncmp(fs->dists[i]->name, name, AIODEV_NAME_LEN))
			return i;
	return -ENOENT;
}

static int aiodev_rule_check_action(const struct aiodev_rule *r)
{
	static const char no_dist[AIODEV_NAME_LEN];
	bool dist = r->latency_kind == AIODEV_LATENCY_DIST;

	if (!dist && memcmp(r->dist, no_dist, sizeof(no_dist)))
		return -EINVAL;
	switch (r->latency_kind) {
	case AIODEV_LATENCY_DEFAULT:
	case AIODEV_LATENCY_DIST:
		if (r->latency_nsec || r->latency_max_nsec)
			return -EINVAL;
		if (dist && !aiodev_name_ok(r->dist))
			return -EINVAL;
		break;
	case AIODEV_LATENCY_FIXED:
		if (r->latency_nsec > AIODEV_MAX_NSEC || r->latency_max_nsec)
			return -EINVAL;
		break;
	case AIODEV_LATENCY_UNIFORM:
		if (r->latency_max_nsec > AIODEV_MAX_NSEC ||
		    r->latency_nsec > r->latency_max_nsec)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}

	switch (r->result_kind) {
	case AIODEV_RESULT_DEFAULT:
	case AIODEV_RESULT_OK:
	case AIODEV_RESULT_TIMEOUT:
		return r->error || r->bytes ? -EINVAL : 0;
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_REFUSE:
		return r->bytes || !aiodev_errno_ok(true, r->error) ? -EINVAL : 0;
	case AIODEV_RESULT_SHORT:
		return r->error ? -EINVAL : 0;
	case AIODEV_RESULT_TORN:
		return aiodev_errno_ok(true, r->error) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static int aiodev_rule_check(struct aiodev_device *dev,
			     const struct aiodev_rule *r)
{
	u64 size = dev->store.size;

	if (r->id || r->matched || r->applied || r->__pad ||
	    (r->flags & ~AIODEV_RULE_FLAGS_ALL) ||
	    memchr_inv(r->__reserved, 0, sizeof(r->__reserved)))
		return -EINVAL;
	if (r->ops & ~(BIT(AIODEV_OP_NOP) | BIT(AIODEV_OP_READ) |
		       BIT(AIODEV_OP_WRITE)))
		return -EINVAL;
	if (r->paths & ~(BIT(AIODEV_PATH_IOCTL) | BIT(AIODEV_PATH_AIO) |
			 BIT(AIODEV_PATH_SYNC)))
		return -EINVAL;
	if (r->range_len ? r->offset > size || r->range_len > size - r->offset :
			   r->offset)
		return -EINVAL;
	if (r->max_len && r->min_len > r->max_len)
		return -EINVAL;
	if (r->tgid < 0)
		return -EINVAL;
	if ((r->flags & AIODEV_RULE_PROB) ? r->prob_ppm > AIODEV_PPM :
					    r->prob_ppm)
		return -EINVAL;
	if ((r->flags & AIODEV_RULE_HOLD) ? r->hold_nsec > AIODEV_MAX_NSEC :
					    r->hold_nsec)
		return -EINVAL;
	/* A held request gets its time from the release: no latency. */
	if ((r->flags & AIODEV_RULE_HOLD) &&
	    (r->latency_kind != AIODEV_LATENCY_DEFAULT ||
	     r->result_kind == AIODEV_RESULT_REFUSE))
		return -EINVAL;
	return aiodev_rule_check_action(r);
}

/* Under fs->lock: lockless readers see rules appear and go (fate_plain). */
static void aiodev_set_nr_rules(struct aiodev_fates *fs, unsigned int nr)
{
	write_seqcount_begin(&fs->seq);
	fs->nr_rules = nr;
	write_seqcount_end(&fs->seq);
}

/* Check @r and resolve its pid and distribution; config_mutex is held. */
static int aiodev_rule_prepare(struct aiodev_device *dev,
			       const struct aiodev_rule *r,
			       struct aiodev_rule_entry *e)
{
	struct aiodev_fates *fs = &dev->fates;
	int ret;

	ret = aiodev_rule_check(dev, r);
	if (ret)
		return ret;
	*e = (struct aiodev_rule_entry) {
		.rule = *r,
		.range_lo = r->offset,
		.range_hi = r->range_len ? r->offset + r->range_len : U64_MAX,
		.min_len = r->min_len,
		.len_span = (r->max_len ?: U32_MAX) - r->min_len,
	};
	/* Distributions change only under config_mutex: no lock needed. */
	if (r->latency_kind == AIODEV_LATENCY_DIST) {
		e->dist = aiodev_dist_find(fs, r->dist);
		if (e->dist < 0)
			return e->dist;
	}
	if (r->tgid) {
		e->pid = find_get_pid(r->tgid);
		if (!e->pid || !pid_has_task(e->pid, PIDTYPE_TGID)) {
			put_pid(e->pid);
			return -ESRCH;
		}
	}
	return 0;
}

static void aiodev_rule_put(struct aiodev_rule_entry *rules, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		put_pid(rules[i].pid);
}

/* The caller holds dev->config_mutex; @r->id is set on success. */
int aiodev_rule_add(struct aiodev_device *dev, struct aiodev_rule *r)
{
	struct aiodev_fates *fs = &dev->fates;
	struct aiodev_rule_entry e, *rules;
	int ret;

	if (fs->nr_rules == AIODEV_MAX_RULES)
		return -ENOSPC;
	if (!fs->rules) {
		/* Most devices never get a rule: allocated on the first. */
		rules = kcalloc(AIODEV_MAX_RULES, sizeof(*rules),
				GFP_KERNEL_ACCOUNT);
		if (!rules)
			return -ENOMEM;
		spin_lock(&fs->lock);
		fs->rules = rules;
		spin_unlock(&fs->lock);
	}
	ret = aiodev_rule_prepare(dev, r, &e);
	if (ret)
		return ret;

	spin_lock(&fs->lock);
	e.rule.id = ++fs->next_rule_id;
	fs->rules[fs->nr_rules] = e;
	aiodev_set_nr_rules(fs, fs->nr_rules + 1);
	aiodev_rules_reindex(dev);
	r->id = e.rule.id;
	spin_unlock(&fs->lock);
	return 0;
}

/*
 * Replace every rule with @nr new ones at once: a submission sees the old
 * list or the new one. Returns the first new id (0 for none) or an errno.
 * The caller holds dev->config_mutex.
 */
int aiodev_rule_load(struct aiodev_device *dev, const struct aiodev_rule *r,
		     unsigned int nr)
{
	struct aiodev_fates *fs = &dev->fates;
	struct aiodev_rule_entry *rules;
	unsigned int i, old_nr;
	int ret = 0;

	if (nr > AIODEV_MAX_RULES)
		return -EINVAL;
	rules = kcalloc(AIODEV_MAX_RULES, sizeof(*rules), GFP_KERNEL_ACCOUNT);
	if (!rules)
		return -ENOMEM;
	for (i = 0; i < nr && !ret; i++)
		ret = aiodev_rule_prepare(dev, &r[i], &rules[i]);
	if (ret) {
		/* The failed one holds nothing. */
		aiodev_rule_put(rules, i - 1);
		kfree(rules);
		return ret;
	}

	spin_lock(&fs->lock);
	for (i = 0; i < nr; i++)
		rules[i].rule.id = ++fs->next_rule_id;
	swap(fs->rules, rules);
	old_nr = fs->nr_rules;
	aiodev_set_nr_rules(fs, nr);
	aiodev_rules_reindex(dev);
	spin_unlock(&fs->lock);
	/* The old list: nothing reads it outside the lock. */
	if (rules)
		aiodev_rule_put(rules, old_nr);
	kfree(rules);
	return nr ? fs->rules[0].rule.id : 0;
}

/* The caller holds dev->config_mutex. */
int aiodev_rule_del(struct aiodev_device *dev, u32 id)
{
	struct aiodev_fates *fs = &dev->fates;
	struct pid *pid = NULL;
	unsigned int i;
	int ret = -ENOENT;

	spin_lock(&fs->lock);
	for (i = 0; i < fs->nr_rules; i++) {
		if (fs->rules[i].rule.id != id)
			continue;
		pid = fs->rules[i].pid;
		memmove(&fs->rules[i], &fs->rules[i + 1],
			(fs->nr_rules - i - 1) * sizeof(fs->rules[0]));
		aiodev_set_nr_rules(fs, fs->nr_rules - 1);
		aiodev_rules_reindex(dev);
		ret = 0;
		break;
	}
	spin_unlock(&fs->lock);
	put_pid(pid);
	return ret;
}

/* The caller holds dev->config_mutex. */
void aiodev_rule_clear(struct aiodev_device *dev)
{
	struct aiodev_fates *fs = &dev->fates;
	unsigned int nr;

	spin_lock(&fs->lock);
	nr = fs->nr_rules;
	aiodev_set_nr_rules(fs, 0);
	aiodev_rules_reindex(dev);
	spin_unlock(&fs->lock);
	/* Entries past nr_rules are not read: the pids can go unlocked. */
	aiodev_rule_put(fs->rules, nr);
}

/* The tgid condition as the caller sees it; 0 once the process is gone. */
static pid_t aiodev_rule_tgid(const struct aiodev_rule_entry *e)
{
	if (!e->pid || !pid_has_task(e->pid, PIDTYPE_TGID))
		return 0;
	return pid_vnr(e->pid);
}

/*
 * Copies up to @max rules, with their counters, into @out; returns how
 * many the device holds. Tgids are as seen from the caller's namespace.
 */
unsigned int aiodev_rule_list(struct aiodev_device *dev,
			      struct aiodev_rule *out, unsigned int max)
{
	struct aiodev_fates *fs = &dev->fates;
	unsigned int i, nr;

	spin_lock(&fs->lock);
	nr = fs->nr_rules;
	for (i = 0; i < min(nr, max); i++) {
		out[i] = fs->rules[i].rule;
		out[i].tgid = aiodev_rule_tgid(&fs->rules[i]);
	}
	spin_unlock(&fs->lock);
	return nr;
}

/* ---- distributions ---------------------------------------------------- */

static struct aiodev_dist_table *
aiodev_dist_build(const struct aiodev_dist *d,
		  const struct aiodev_dist_bucket __user *ubuckets)
{
	struct aiodev_dist_table *t;
	unsigned int i;
	u64 total = 0;

	t = kzalloc(struct_size(t, b, d->nr_buckets), GFP_KERNEL_ACCOUNT);
	if (!t)
		return ERR_PTR(-ENOMEM);
	memcpy(t->name, d->name, sizeof(t->name));
	t->nr = d->nr_buckets;
	for (i = 0; i < t->nr; i++) {
		struct aiodev_dist_bucket b;

		if (copy_from_user(&b, &ubuckets[i], sizeof(b))) {
			kfree(t);
			return ERR_PTR(-EFAULT);
		}
		if (b.min_nsec > b.max_nsec || b.max_nsec > AIODEV_MAX_NSEC ||
		    b.weight > U32_MAX) {
			kfree(t);
			return ERR_PTR(-EINVAL);
		}
		total += b.weight;
		t->b[i].min_nsec = b.min_nsec;
		t->b[i].span = b.max_nsec - b.min_nsec;
		t->b[i].cum = total;
	}
	if (!total) {
		kfree(t);
		return ERR_PTR(-EINVAL);
	}
	t->total = total;
	return t;
}

static bool aiodev_dist_in_use(struct aiodev_fates *fs, int index)
{
	unsigned int i;

	for (i = 0; i < fs->nr_rules; i++)
		if (fs->rules[i].rule.latency_kind == AIODEV_LATENCY_DIST &&
		    fs->rules[i].dist == index)
			return true;
	return false;
}

/* The caller holds dev->config_mutex. */
int aiodev_dist_set(struct aiodev_device *dev, const struct aiodev_dist *d)
{
	struct aiodev_fates *fs = &dev->fates;
	struct aiodev_dist_table *t = NULL, *old = NULL;
	int index, ret = 0;

	if (d->flags || memchr_inv(d->__reserved, 0, sizeof(d->__reserved)) ||
	    !aiodev_name_ok(d->name) || d->nr_buckets > AIODEV_MAX_DIST_BUCKETS)
		return -EINVAL;
	if (d->nr_buckets) {
		t = aiodev_dist_build(d, u64_to_user_ptr(d->buckets));
		if (IS_ERR(t))
			return PTR_ERR(t);
	}

	spin_lock(&fs->lock);
	index = aiodev_dist_find(fs, d->name);
	if (!t) {
		/* Delete. */
		if (index < 0)
			ret = index;
		else if (aiodev_dist_in_use(fs, index))
			ret = -EBUSY;
		else
			swap(old, fs->dists[index]);
	} else {
		if (index < 0) {
			for (index = 0; index < AIODEV_MAX_DISTS; index++)
				if (!fs->dists[index])
					break;
		}
		if (index == AIODEV_MAX_DISTS) {
			ret = -ENOSPC;
			old = t;
		} else {
			old = fs->dists[index];
			fs->dists[index] = t;
		}
	}
	spin_unlock(&fs->lock);
	kfree(old);
	return ret;
}

/* ---- setup ------------------------------------------------------------ */

void aiodev_fates_init(struct aiodev_fates *fs,
		       const struct aiodev_config *cfg)
{
	spin_lock_init(&fs->lock);
	seqcount_spinlock_init(&fs->seq, &fs->lock);
	fs->config = *cfg;
	/* A run nobody seeded can still be replayed: the seed is shown. */
	fs->config.seed = get_random_u64();
	aiodev_reseed(fs, fs->config.seed);
}

void aiodev_fates_exit(struct aiodev_fates *fs)
{
	unsigned int i;

	if (fs->rules)
		aiodev_rule_put(fs->rules, fs->nr_rules);
	kfree(fs->rules);
	for (i = 0; i < AIODEV_MAX_DISTS; i++)
		kfree(fs->dists[i]);
}
