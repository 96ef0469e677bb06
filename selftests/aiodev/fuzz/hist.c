// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the history of each device's configurations and rules,
 * which tells the fault and rule errnos a request may end with.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- the devices' configurations and rules ---------------------------- */

/* The errnos a valid rule of ours fails requests with (see fuzz.h). */
const int rule_errno[] = { ENOLINK, AIODEV_MAX_ERRNO, EREMCHG, EPERM };

static void hist_put(struct dev_hist *h, __u64 s, int e0, int e1, int rmask)
{
	struct cfg_ent *x = &h->ent[s % HIST];

	atomic_store(&x->seq, ~0ULL);
	atomic_store(&x->state, CFG_PENDING);
	atomic_store(&x->err[0], e0);
	atomic_store(&x->err[1], e1);
	atomic_store(&x->rmask, rmask);
	atomic_store(&x->seq, s);
}

void hist_settle(struct dev_hist *h, __u64 s, bool applied)
{
	struct cfg_ent *x = &h->ent[s % HIST];
	int i, e;

	for (i = 0; applied && i < 2; i++) {
		e = atomic_load(&x->err[i]);
		if (e > 0 && e <= AIODEV_MAX_ERRNO)
			atomic_fetch_or(&h->ever[e / 64], 1ULL << (e % 64));
	}
	if (applied)
		atomic_fetch_or(&h->rever, atomic_load(&x->rmask));
	atomic_store(&x->state, applied ? CFG_APPLIED : CFG_REFUSED);
	if (applied)
		atomic_store(&h->cur, s);
}

/* aiodev_config_fault(): a fault errno is used only while its rule is on. */
void cfg_errs(const struct aiodev_config *c, int e[2])
{
	e[0] = c->fail_every_nth ? c->fail_nth_errno : 0;
	e[1] = c->fail_len ? c->fail_range_errno : 0;
}

/* The rule errnos of the rules @h holds (lock held). */
int shadow_rmask(const struct dev_hist *h)
{
	int i, m = 0;

	for (i = 0; i < h->nrules; i++)
		if (h->rules[i].rbit >= 0)
			m |= 1 << h->rules[i].rbit;
	return m;
}

/* The state before the fuzzers start (no rules), number 0. */
void hist_init(struct fz *fz, int dev, const struct aiodev_config *c)
{
	struct dev_hist *h = &fz->hist[dev];

	pthread_mutex_init(&h->lock, NULL);
	cfg_errs(c, h->cfg_err);
	hist_put(h, 0, h->cfg_err[0], h->cfg_err[1], 0);
	hist_settle(h, 0, true);
}

/*
 * With @h->lock held, before a change that may succeed: record the state
 * it brings (@e: fault errnos, @rmask: rule errnos). Numbers follow the
 * order in which the kernel applies the changes.
 */
__u64 hist_begin(struct dev_hist *h, const int e[2], int rmask)
{
	__u64 s = atomic_load(&h->started) + 1;

	hist_put(h, s, e[0], e[1], rmask);
	atomic_store(&h->started, s);
	return s;
}

void win_begin(struct fz *fz, struct win *w, int dev)
{
	w->dev = dev;
	w->lo = dev < 0 ? 0 : atomic_load(&fz->hist[dev].cur);
}

void win_end(struct fz *fz, struct win *w)
{
	w->hi = w->dev < 0 ? 0 : atomic_load(&fz->hist[w->dev].started);
}

int rule_bit(int e)
{
	int i;

	for (i = 0; i < (int)ARRAY_SIZE(rule_errno); i++)
		if (rule_errno[i] == e)
			return i;
	return -1;
}

/*
 * Could a state of @w have failed a call of @kind with @e? A fault plan
 * fails requests at completion (read, write, io_event); a rule of ours at
 * completion or, REFUSE, at submission (SUBMIT too).
 */
bool fault_ok(struct fz *fz, const struct win *w, int e, int kind)
{
	bool cfg = kind != F_SUBMIT;
	int bit = rule_bit(e), rb = 0;
	struct dev_hist *h;
	__u64 s, first;
	bool lost;

	if (!w || w->dev < 0 || e < 1 || e > AIODEV_MAX_ERRNO)
		return false;
	if (bit >= 0 && (cfg || (RB_REFUSE >> bit & 1)))
		rb = 1 << bit;
	if (!cfg && !rb)
		return false;
	h = &fz->hist[w->dev];
	first = w->hi - w->lo < HIST ? w->lo : w->hi - HIST + 1;
	lost = first != w->lo;
	for (s = first; s <= w->hi; s++) {
		struct cfg_ent *x = &h->ent[s % HIST];
		bool hit = (cfg && (atomic_load(&x->err[0]) == e ||
				    atomic_load(&x->err[1]) == e)) ||
			   (atomic_load(&x->rmask) & rb);
		bool refused = atomic_load(&x->state) == CFG_REFUSED;

		/* Checked last: what was read above belongs to @s. */
		if (atomic_load(&x->seq) != s)
			lost = true;
		else if (hit && !refused)
			return true;
	}
	/* Entries gone from the ring were settled before they went. */
	return lost && ((cfg && (atomic_load(&h->ever[e / 64]) >> (e % 64) & 1)) ||
			(atomic_load(&h->rever) & rb));
}
