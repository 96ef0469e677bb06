// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the rule, distribution and held-request ioctls, each
 * against a shadow of the device.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- rules and distributions ----------------------------------------- */

/* Our distribution names: "fz0".."fz18" and one of 15 characters. */
void dist_name(int i, char *name)
{
	memset(name, 0, AIODEV_NAME_LEN);
	if (i == NDIST - 1)
		memcpy(name, "fz.-_ABCDEFGHIJ", AIODEV_NAME_LEN - 1);
	else
		snprintf(name, AIODEV_NAME_LEN, "fz%d", i);
}

/* The header's names: 1 to 15 characters of [A-Za-z0-9_.-], NUL-padded. */
static bool name_valid(const char *n)
{
	size_t len = strnlen(n, AIODEV_NAME_LEN), i;

	if (!len || len == AIODEV_NAME_LEN)
		return false;
	for (i = 0; i < len; i++) {
		char c = n[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	for (; i < AIODEV_NAME_LEN; i++)
		if (n[i])
			return false;
	return true;
}

/* Which of our names @n is, or -1. */
static int dist_index(const char *n)
{
	char m[AIODEV_NAME_LEN];
	int i;

	for (i = 0; i < NDIST; i++) {
		dist_name(i, m);
		if (!memcmp(m, n, AIODEV_NAME_LEN))
			return i;
	}
	return -1;
}

/*
 * A name: mostly ours, else invalid (empty, unterminated, a bad character,
 * garbage after the NUL); for a rule also a valid one no device holds.
 * A name DIST_SET may define is never a valid one not ours (the shadow
 * counts what fits), nor one with a Latin-1 letter, which is no
 * [A-Za-z0-9_.-] but which the kernel's isalnum() takes for a letter:
 * were it accepted all the same, the violation is reported and the
 * device is left with a distribution nobody deletes.
 */
enum { N_RULE, N_DELETE, N_DEFINE };

static void pick_name(struct th *t, char *n, int use)
{
	static const char bad[] = { ' ', '/', '*', '+', '\n', '\x7f', '\x80',
				    '\xa0', '\xbf', '\xd7', '\xf7',
				    /* Latin-1 letters: the last three */
				    '\xc0', '\xe9', '\xff' };
	int nbad = ARRAY_SIZE(bad) - (use == N_DEFINE ? 3 : 0);

	memset(n, 0, AIODEV_NAME_LEN);
	switch (rnd(t) % 12) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6:
		dist_name(rnd(t) % NDIST, n);
		break;
	case 7:
		if (use == N_RULE)
			memcpy(n, "nx", 2);
		else
			dist_name(rnd(t) % NDIST, n);
		break;
	case 8:
		memset(n, 'a' + rnd(t) % 26, AIODEV_NAME_LEN);
		break;
	case 9:		/* "fzN" or "fzNN", then something after the NUL */
		dist_name(rnd(t) % (NDIST - 1), n);
		n[5 + rnd(t) % (AIODEV_NAME_LEN - 5)] = 1 + rnd(t) % 255;
		break;
	case 10:
		dist_name(rnd(t) % NDIST, n);
		n[rnd(t) % 3] = bad[rnd(t) % nbad];
		break;
	default:	/* empty */
		break;
	}
}

/* Would aiodev_rule_check() refuse @r? (the header's rules) */
static bool rule_invalid(const struct aiodev_rule *r, __u64 size)
{
	static const char none[AIODEV_NAME_LEN];

	if (r->id || r->matched || r->applied || r->__pad ||
	    (r->flags & ~AIODEV_RULE_FLAGS_ALL) || r->__reserved[0] ||
	    r->__reserved[1] || r->__reserved[2])
		return true;
	/* A hold: a safety deadline only with it; no latency or refusal. */
	if ((r->flags & AIODEV_RULE_HOLD) ? r->hold_nsec > AIODEV_MAX_NSEC :
					    r->hold_nsec != 0)
		return true;
	if ((r->flags & AIODEV_RULE_HOLD) &&
	    (r->latency_kind != AIODEV_LATENCY_DEFAULT ||
	     r->result_kind == AIODEV_RESULT_REFUSE))
		return true;
	if (r->ops & ~7U || r->paths & ~7U)
		return true;
	if (r->range_len ? r->offset > size || r->range_len > size - r->offset :
			   r->offset != 0)
		return true;
	if (r->max_len && r->min_len > r->max_len)
		return true;
	if (r->tgid < 0)
		return true;
	if ((r->flags & AIODEV_RULE_PROB) ? r->prob_ppm > AIODEV_PPM :
					    r->prob_ppm != 0)
		return true;
	/* @dist: a valid name with LATENCY_DIST, otherwise all zero. */
	if (r->latency_kind == AIODEV_LATENCY_DIST ? !name_valid(r->dist) :
	    memcmp(r->dist, none, sizeof(none)) != 0)
		return true;
	switch (r->latency_kind) {
	case AIODEV_LATENCY_DEFAULT:
	case AIODEV_LATENCY_DIST:
		if (r->latency_nsec || r->latency_max_nsec)
			return true;
		break;
	case AIODEV_LATENCY_FIXED:
		if (r->latency_nsec > AIODEV_MAX_NSEC || r->latency_max_nsec)
			return true;
		break;
	case AIODEV_LATENCY_UNIFORM:
		if (r->latency_max_nsec > AIODEV_MAX_NSEC ||
		    r->latency_nsec > r->latency_max_nsec)
			return true;
		break;
	default:
		return true;
	}
	switch (r->result_kind) {
	case AIODEV_RESULT_DEFAULT:
	case AIODEV_RESULT_OK:
	case AIODEV_RESULT_TIMEOUT:
		return r->error || r->bytes;
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_REFUSE:
		return r->bytes || r->error < 1 || r->error > AIODEV_MAX_ERRNO;
	case AIODEV_RESULT_SHORT:
		return r->error != 0;
	case AIODEV_RESULT_TORN:
		return r->error < 1 || r->error > AIODEV_MAX_ERRNO;
	default:
		return true;
	}
}

/* The rule_errno[] index a valid rule fails requests with, or -1. */
static int rule_rbit(const struct aiodev_rule *r)
{
	switch (r->result_kind) {
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_TORN:
	case AIODEV_RESULT_REFUSE:
		return rule_bit(r->error);
	default:
		return -1;
	}
}

static int rule_rmask(const struct aiodev_rule *r)
{
	int b = rule_rbit(r);

	return b < 0 ? 0 : 1 << b;
}

/*
 * RULE_ADD's (and each of RULE_LOAD's) outcome for a readable @r, with
 * @h->lock held: aiodev_rule_prepare() checks, then resolves the
 * distribution, then the process.
 */
static long rule_want(const struct fz *fz, const struct dev_hist *h,
		      const struct aiodev_rule *r)
{
	int i;

	if (rule_invalid(r, fz->size))
		return -EINVAL;
	i = dist_index(r->dist);
	if (r->latency_kind == AIODEV_LATENCY_DIST &&
	    (i < 0 || !(h->dists >> i & 1)))
		return -ENOENT;
	/* pick_tgid(): a process is ours or init, anything else is none. */
	if (r->tgid > 0 && r->tgid != getpid() && r->tgid != 1)
		return -ESRCH;
	return 0;
}

static __u64 pick_count(struct th *t)
{
	static const __u64 v[] = { 1, 2, 3, 7, 1000, 0xffffffffULL, ~0ULL,
				   1ULL << 63 };

	return chance(t, 70) ? 0 : chance(t, 80) ? v[rnd(t) % ARRAY_SIZE(v)] :
	       rnd(t);
}

static __s32 pick_errno(struct th *t)
{
	static const __s32 v[] = { -1, 0, 1, ENOLINK, EREMCHG, AIODEV_MAX_ERRNO,
				   AIODEV_MAX_ERRNO + 1, 4095, 0x7fffffff,
				   (__s32)0x80000000 };

	return chance(t, 80) ? v[rnd(t) % ARRAY_SIZE(v)] : (__s32)rnd(t);
}

/* 0: any; ours; init; none (a thread of ours is no process, nor a huge pid). */
static __s32 pick_tgid(struct th *t)
{
	switch (rnd(t) % 12) {
	case 0: case 1: case 2: case 3: case 4: return 0;
	case 5: case 6: return getpid();
	case 7: return 1;
	case 8: return gettid() != getpid() ? gettid() : TGID_NONE;
	case 9: return TGID_NONE;
	case 10: return chance(t, 50) ? -1 : (__s32)0x80000000;
	default: return -(__s32)(1 + rnd(t) % 0x7fffffff);
	}
}

/*
 * A valid rule may take effect: keep it within what the result checks
 * attribute. Latencies at most SAFE_NSEC (the fuzzer never blocks long);
 * no TIMEOUT (it fires at the deadline, which the configuration may put
 * an hour away); errnos of rule_errno[] only; mostly a bounded count, so
 * that a rule failing everything of ours does not starve the rest.
 */
static void rule_tame(struct th *t, struct aiodev_rule *r)
{
	/* A hold would park our I/O until a release that never comes. */
	r->flags &= ~AIODEV_RULE_HOLD;
	r->hold_nsec = 0;
	if (r->latency_kind == AIODEV_LATENCY_FIXED) {
		r->latency_nsec %= SAFE_NSEC + 1;
	} else if (r->latency_kind == AIODEV_LATENCY_UNIFORM) {
		r->latency_nsec %= SAFE_NSEC + 1;
		r->latency_max_nsec = r->latency_nsec + r->latency_max_nsec %
				      (SAFE_NSEC + 1 - r->latency_nsec);
	}
	switch (r->result_kind) {
	case AIODEV_RESULT_TIMEOUT:
		r->result_kind = AIODEV_RESULT_OK;
		break;
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_TORN:
		if (rule_rbit(r) < 0 || !(RB_FAIL >> rule_rbit(r) & 1))
			r->error = rule_errno[rnd(t) % 2];
		break;
	case AIODEV_RESULT_REFUSE:
		if (rule_rbit(r) < 0 || !(RB_REFUSE >> rule_rbit(r) & 1))
			r->error = rule_errno[2 + rnd(t) % 2];
		break;
	}
	if (rule_rbit(r) >= 0 && !r->count && !(r->flags & AIODEV_RULE_PROB) &&
	    chance(t, 80))
		r->count = 1 + rnd(t) % 32;
}

/* Random and boundary values in every field; a valid one is tamed. */
static void rand_rule(struct th *t, struct aiodev_rule *r)
{
	static const __u32 ppm[] = { 0, 1, 500000, AIODEV_PPM - 1, AIODEV_PPM,
				     AIODEV_PPM + 1, 0xffffffff };
	struct fz *fz = t->fz;
	int p = rnd(t) % 10;

	memset(r, 0, sizeof(*r));
	if (chance(t, 3))
		r->id = rnd(t) | 1;
	r->flags = p < 6 ? 0 : p < 9 ? AIODEV_RULE_PROB : (__u32)rnd(t);
	if (chance(t, 50))
		r->ops = chance(t, 90) ? rnd(t) & 7 : (__u32)rnd(t);
	if (chance(t, 50))
		r->paths = chance(t, 90) ? rnd(t) & 7 : (__u32)rnd(t);
	if (chance(t, 40)) {
		r->range_len = chance(t, 50) ? 1 + rnd(t) % 65536 :
			       chance(t, 50) ? pick_len(t) : rnd(t);
		r->offset = pick_off(t, fz->size, r->range_len);
	} else if (chance(t, 3)) {
		r->offset = rnd(t) | 1;
	}
	if (chance(t, 30))
		r->min_len = pick_len(t);
	if (chance(t, 30))
		r->max_len = pick_len(t);
	r->tgid = pick_tgid(t);
	if ((r->flags & AIODEV_RULE_PROB) || chance(t, 5))
		r->prob_ppm = chance(t, 70) ? ppm[rnd(t) % ARRAY_SIZE(ppm)] :
			      (__u32)rnd(t);
	r->every = pick_count(t);
	r->skip = pick_count(t);
	r->count = pick_count(t);
	/* Holds only to be refused: rule_tame() takes a valid one's away. */
	if (chance(t, 5))
		r->flags |= AIODEV_RULE_HOLD;
	if (chance(t, 5))
		r->hold_nsec = chance(t, 50) ? pick_nsec(t) : rnd(t);
	r->latency_kind = chance(t, 95) ? rnd(t) % 4 : (__u16)rnd(t);
	r->result_kind = chance(t, 95) ? rnd(t) % 7 : (__u16)rnd(t);
	switch (r->latency_kind) {
	case AIODEV_LATENCY_FIXED:
		r->latency_nsec = chance(t, 80) ? rnd(t) % SAFE_NSEC :
				  pick_nsec(t);
		if (chance(t, 5))
			r->latency_max_nsec = pick_nsec(t);
		break;
	case AIODEV_LATENCY_UNIFORM:
		r->latency_nsec = chance(t, 70) ? rnd(t) % SAFE_NSEC :
				  pick_nsec(t);
		r->latency_max_nsec = chance(t, 70) ? r->latency_nsec +
				      rnd(t) % SAFE_NSEC : pick_nsec(t);
		break;
	default:
		if (chance(t, 5))
			r->latency_nsec = pick_nsec(t);
		if (chance(t, 5))
			r->latency_max_nsec = pick_nsec(t);
		break;
	}
	if (r->latency_kind == AIODEV_LATENCY_DIST || chance(t, 3))
		pick_name(t, r->dist, N_RULE);
	switch (r->result_kind) {
	case AIODEV_RESULT_ERROR:
	case AIODEV_RESULT_TORN:
		r->error = chance(t, 80) ? rule_errno[rnd(t) % 2] : pick_errno(t);
		break;
	case AIODEV_RESULT_REFUSE:
		r->error = chance(t, 80) ? rule_errno[2 + rnd(t) % 2] :
			   pick_errno(t);
		break;
	default:
		if (chance(t, 5))
			r->error = pick_errno(t);
		break;
	}
	if (r->result_kind == AIODEV_RESULT_SHORT ||
	    r->result_kind == AIODEV_RESULT_TORN)
		r->bytes = chance(t, 70) ? rnd(t) % 20000 : pick_u32(t, 0);
	else if (chance(t, 5))
		r->bytes = pick_u32(t, 0);
	if (chance(t, 3))
		r->__pad = rnd(t) | 1;
	if (chance(t, 3))
		r->matched = rnd(t) | 1;
	if (chance(t, 3))
		r->applied = rnd(t) | 1;
	if (chance(t, 3))
		r->__reserved[rnd(t) % ARRAY_SIZE(r->__reserved)] = rnd(t) | 1;
	if (!rule_invalid(r, fz->size))
		rule_tame(t, r);
}

static bool writable_slot(int slot)
{
	return slot_mode(false, slot) & (O_WRONLY | O_RDWR);
}

/* expect(), but a call that allocates may also fail with -ENOMEM. */
static void expect_alloc(struct th *t, int kind, long ret, long want,
			 unsigned long what, int pk, const struct sref *r)
{
	if (!(ret == -ENOMEM && want >= 0))
		expect(t, kind, ret, want, what, pk, r);
}

/* A new id: never one the device gave before. */
static void check_new_id(struct th *t, struct dev_hist *h, __u32 id,
			 const char *call)
{
	if (!id || id <= h->max_id) {
		t->violations++;
		report(t->fz, "%s gave rule id %u, after %u", call, id, h->max_id);
	}
	if (id > h->max_id)
		h->max_id = id;
}

static void shadow_gone(struct dev_hist *h, __u32 id)
{
	memmove(h->gone + 1, h->gone, sizeof(h->gone) - sizeof(h->gone[0]));
	h->gone[0] = id;
}

static void fz_rule_add(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t);
	struct dev_hist *h = &fz->hist[sr.dev];
	struct aiodev_rule r, *rp;
	unsigned long what;
	__u64 seq = 0;
	long ret, want;
	__u32 id;

	rand_rule(t, &r);
	rp = place(t, pk, sizeof(r), t->arg, PAGE_SZ);
	if (!P_BAD(pk))
		memcpy(rp, &r, sizeof(r));
	if (!writable_slot(sr.slot)) {
		ret = note(t, F_RULEADD, do_ioctl(fd, AIODEV_IOC_RULE_ADD, rp), 0);
		expect(t, F_RULEADD, ret, -EBADF, 0, pk, &sr);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if (P_UNREADABLE(pk))
		want = -EFAULT;
	else if (h->nrules == AIODEV_MAX_RULES)
		want = -ENOSPC;
	else if (pk == P_RO)	/* a zero rule is valid: added, id unwritable */
		want = -EFAULT;
	else
		want = rule_want(fz, h, &r);
	if (!want)
		seq = hist_begin(h, h->cfg_err, shadow_rmask(h) | rule_rmask(&r));
	memcpy(&what, r.dist, sizeof(what));	/* reports show the name */
	what = what ?: r.result_kind;
	ret = note(t, F_RULEADD, do_ioctl(fd, AIODEV_IOC_RULE_ADD, rp), what);
	if (!want)
		hist_settle(h, seq, ret == 0);
	if (!want && !ret) {
		memcpy(&id, rp, sizeof(id));	/* written back to @id */
		check_new_id(t, h, id, "RULE_ADD");
		h->rules[h->nrules].r = r;
		h->rules[h->nrules].r.id = id;
		h->rules[h->nrules++].rbit = rule_rbit(&r);
		atomic_fetch_add(&fz->r_added, 1);
	}
	pthread_mutex_unlock(&h->lock);
	expect_alloc(t, F_RULEADD, ret, want, what, pk, &sr);
}

static void fz_rule_del(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t), i, idx = -1;
	struct dev_hist *h = &fz->hist[sr.dev];
	__u32 id, *ip = place(t, pk, sizeof(id), t->arg, PAGE_SZ);
	__u64 seq = 0;
	long ret, want;

	if (!writable_slot(sr.slot)) {
		ret = note(t, F_RULEDEL, do_ioctl(fd, AIODEV_IOC_RULE_DEL, ip), 0);
		expect(t, F_RULEDEL, ret, -EBADF, 0, pk, &sr);
		return;
	}
	pthread_mutex_lock(&h->lock);
	switch (rnd(t) % 10) {
	case 0: case 1: case 2: case 3: case 4:
		id = h->nrules ? h->rules[rnd(t) % h->nrules].r.id : 0;
		break;
	case 5: case 6:
		id = h->gone[rnd(t) % ARRAY_SIZE(h->gone)];
		break;
	case 7:
		id = chance(t, 50) ? 0 : 0xffffffff;
		break;
	default:
		id = chance(t, 50) ? h->max_id + 1 + rnd(t) % 4 : (__u32)rnd(t);
		break;
	}
	if (!P_BAD(pk))
		memcpy(ip, &id, sizeof(id));
	if (pk == P_RO)		/* reads as 0: never an id */
		id = 0;
	for (i = 0; id && i < h->nrules; i++)
		if (h->rules[i].r.id == id)
			idx = i;
	want = P_UNREADABLE(pk) ? -EFAULT : idx < 0 ? -ENOENT : 0;
	if (!want) {
		int m = 0;

		for (i = 0; i < h->nrules; i++)
			if (i != idx && h->rules[i].rbit >= 0)
				m |= 1 << h->rules[i].rbit;
		seq = hist_begin(h, h->cfg_err, m);
	}
	ret = note(t, F_RULEDEL, do_ioctl(fd, AIODEV_IOC_RULE_DEL, ip), id);
	if (!want)
		hist_settle(h, seq, ret == 0);
	if (!want && !ret) {
		shadow_gone(h, id);
		h->nrules--;
		memmove(&h->rules[idx], &h->rules[idx + 1],
			(h->nrules - idx) * sizeof(h->rules[0]));
		atomic_fetch_add(&fz->r_deleted, 1);
	}
	pthread_mutex_unlock(&h->lock);
	expect(t, F_RULEDEL, ret, want, id, pk, &sr);
}

static void shadow_clear(struct dev_hist *h)
{
	int i;

	for (i = 0; i < h->nrules && i < (int)ARRAY_SIZE(h->gone); i++)
		shadow_gone(h, h->rules[i].r.id);
	h->nrules = 0;
}

static void fz_rule_clear(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t);
	struct dev_hist *h = &fz->hist[sr.dev];
	/* _IO: the argument means nothing, wherever it points. */
	void *p = place(t, pk, 8, t->arg, PAGE_SZ);
	__u64 seq;
	long ret;
	if (!writable_slot(sr.slot)) {
		ret = note(t, F_RULECLEAR, do_ioctl(fd, AIODEV_IOC_RULE_CLEAR, p), 0);
		expect(t, F_RULECLEAR, ret, -EBADF, 0, pk, &sr);
		return;
	}
	pthread_mutex_lock(&h->lock);
	seq = hist_begin(h, h->cfg_err, 0);
	ret = note(t, F_RULECLEAR, do_ioctl(fd, AIODEV_IOC_RULE_CLEAR, p), 0);
	hist_settle(h, seq, ret == 0);
	if (!ret) {
		shadow_clear(h);
		atomic_fetch_add(&fz->r_clears, 1);
	}
	pthread_mutex_unlock(&h->lock);
	expect(t, F_RULECLEAR, ret, 0, 0, pk, &sr);
}

/*
 * Where an array of @size-byte elements goes for @pk: returns it and how
 * many whole elements can be accessed there (@room). STRADDLE puts a few
 * whole ones before the guard page and cuts the next one in half.
 */
static unsigned char *place_array(struct th *t, int pk, size_t size,
				  __u32 want, __u32 *room)
{
	__u32 j;

	switch (pk) {
	case P_OK:
		*room = ARG_BYTES / size;
		return t->arr;
	case P_MISALIGNED:
		*room = ARG_BYTES / size - 1;
		return t->arr + 1 + rnd(t) % 7;
	case P_STRADDLE:
		j = want ? rnd(t) % (want < 8 ? want : 8) : 0;
		*room = j;
		return t->arr + ARG_BYTES - size / 2 - j * size;
	case P_RO:	/* all zero: readable, not writable */
		*room = ARG_BYTES / size;
		return t->fz->ro;
	default:
		*room = 0;
		return place(t, pk, size, t->arr, ARG_BYTES);
	}
}

/* A listed rule against the shadow's: the same, counters consistent. */
void check_listed(struct th *t, const struct aiodev_rule *got,
		  const struct aiodev_rule *want, int i)
{
	struct aiodev_rule g = *got;

	if (g.applied > g.matched || (g.count && g.applied > g.count)) {
		t->violations++;
		report(t->fz, "RULE_LIST: rule %u matched %llu, applied %llu, count %llu",
		       g.id, (unsigned long long)g.matched,
		       (unsigned long long)g.applied,
		       (unsigned long long)g.count);
	}
	g.matched = g.applied = 0;
	if (memcmp(&g, want, sizeof(g))) {
		t->violations++;
		report(t->fz, "RULE_LIST: rule %d is id %u (tgid %d, result %u), the device was given id %u (tgid %d, result %u)",
		       i, got->id, got->tgid, got->result_kind, want->id,
		       want->tgid, want->result_kind);
	}
}

static void fz_rule_list(struct th *t)
{
	static const __u32 nrs[] = { 0, 1, 2, 63, 64, 65, 0x7fffffff,
				     0xffffffff };
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), lpk = pick_pk(t), apk = pick_pk(t), i;
	struct dev_hist *h = &fz->hist[sr.dev];
	struct aiodev_rule_list l = { 0 }, *lp;
	/* Locked: the exact count and rules; else racing the changes. */
	bool locked = chance(t, 70);
	unsigned char *rules;
	__u32 room, n, copied;
	long ret, want;

	l.nr = chance(t, 60) ? rnd(t) % 9 : nrs[rnd(t) % ARRAY_SIZE(nrs)];
	if (chance(t, 5))
		l.flags = rnd(t) | 1;
	n = l.nr < AIODEV_MAX_RULES ? l.nr : AIODEV_MAX_RULES;
	rules = place_array(t, apk, sizeof(struct aiodev_rule), n, &room);
	if (apk == P_RO)
		room = 0;	/* RULE_LIST writes there */
	l.rules = (__u64)(uintptr_t)rules;
	lp = place(t, lpk, sizeof(l), t->arg, PAGE_SZ);
	if (!P_BAD(lpk))
		memcpy(lp, &l, sizeof(l));
	else	/* a zero list, or none */
		n = l.flags = 0;
	if (locked)
		pthread_mutex_lock(&h->lock);
	ret = note(t, F_RULELIST, do_ioctl(fd, AIODEV_IOC_RULE_LIST, lp), l.nr);
	copied = ret >= 0 && (__u32)ret < n ? (__u32)ret : n;
	if (P_UNREADABLE(lpk))
		want = -EFAULT;
	else if (l.flags)
		want = -EINVAL;
	else if (locked)	/* copies min(nr, held), returns held */
		want = ((__u32)h->nrules < n ? (__u32)h->nrules : n) > room ?
		       -EFAULT : h->nrules;
	else if (ret == -EFAULT)	/* possible only if nr > room */
		want = n > room ? -EFAULT : 0;
	else	/* at most AIODEV_MAX_RULES; too many copied: -EFAULT */
		want = ret > AIODEV_MAX_RULES ? AIODEV_MAX_RULES :
		       copied > room ? -EFAULT : ret;
	if (ret >= 0 && ret == want) {
		struct aiodev_rule got;
		__u32 prev = 0;

		for (i = 0; i < (int)copied; i++) {
			memcpy(&got, rules + i * sizeof(got), sizeof(got));
			if (locked) {
				check_listed(t, &got, &h->rules[i].r, i);
			} else if (got.id <= prev) {
				t->violations++;
				report(fz, "RULE_LIST: rule %d has id %u after %u",
				       i, got.id, prev);
			}
			prev = got.id;
		}
		if (locked && copied == (__u32)h->nrules)
			atomic_fetch_add(&fz->r_full, 1);
	}
	if (locked)
		pthread_mutex_unlock(&h->lock);
	atomic_fetch_add(&fz->r_lists, 1);
	expect_alloc(t, F_RULELIST, ret, want, l.nr, apk, &sr);
}

static void fz_rule_load(struct th *t)
{
	static const __u32 nrs[] = { 0, 1, 63, 64, 65, 0x80000000,
				     0xffffffff };
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), lpk = pick_pk(t), apk = pick_pk(t), i, bad;
	struct dev_hist *h = &fz->hist[sr.dev];
	struct aiodev_rule_list l = { 0 }, *lp;
	unsigned char *rules;
	__u32 room, n, nr;
	__u64 seq = 0;
	long ret, want;
	int m = 0;

	l.nr = chance(t, 70) ? rnd(t) % 9 : chance(t, 60) ?
	       nrs[rnd(t) % ARRAY_SIZE(nrs)] : pick_u32(t, AIODEV_MAX_RULES);
	if (chance(t, 5))
		l.flags = rnd(t) | 1;
	n = l.nr < AIODEV_MAX_RULES ? l.nr : AIODEV_MAX_RULES;
	rules = place_array(t, apk, sizeof(struct aiodev_rule), n, &room);
	/*
	 * Mostly rules that all load (a process and a distribution are
	 * checked under the lock below), or with one random one among them.
	 */
	bad = n && chance(t, 40) ? (int)(rnd(t) % n) : -1;
	for (i = 0; i < (int)n; i++) {
		do {
			rand_rule(t, &t->rl[i]);
		} while (i != bad && (rule_invalid(&t->rl[i], fz->size) ||
				      (t->rl[i].tgid > 0 &&
				       t->rl[i].tgid != getpid() &&
				       t->rl[i].tgid != 1)));
		if (i < (int)room && apk != P_RO)
			memcpy(rules + i * sizeof(t->rl[i]), &t->rl[i],
			       sizeof(t->rl[i]));
	}
	if (apk == P_RO)	/* zero rules: valid, match all, do nothing */
		memset(t->rl, 0, n * sizeof(t->rl[0]));
	l.rules = (__u64)(uintptr_t)rules;
	lp = place(t, lpk, sizeof(l), t->arg, PAGE_SZ);
	if (!P_BAD(lpk))
		memcpy(lp, &l, sizeof(l));
	if (!writable_slot(sr.slot)) {
		ret = note(t, F_RULELOAD, do_ioctl(fd, AIODEV_IOC_RULE_LOAD, lp), 0);
		expect(t, F_RULELOAD, ret, -EBADF, 0, lpk, &sr);
		return;
	}
	if (P_BAD(lpk))		/* a zero list, or none */
		l.nr = l.flags = 0;
	nr = l.nr;
	pthread_mutex_lock(&h->lock);
	if (P_UNREADABLE(lpk))
		want = -EFAULT;
	else if (l.flags || l.nr > AIODEV_MAX_RULES)
		want = -EINVAL;
	else if (nr > room)	/* the whole array is read before any check */
		want = -EFAULT;
	else
		for (i = 0, want = 0; i < (int)nr && !want; i++)
			want = rule_want(fz, h, &t->rl[i]);
	if (!want) {
		for (i = 0; i < (int)nr; i++)
			m |= rule_rmask(&t->rl[i]);
		seq = hist_begin(h, h->cfg_err, m);
	}
	ret = note(t, F_RULELOAD, do_ioctl(fd, AIODEV_IOC_RULE_LOAD, lp), nr);
	if (!want)
		hist_settle(h, seq, ret >= 0);
	if (!want && ret >= 0) {
		/* The first id (0 for none); the others follow it. */
		if (nr) {
			check_new_id(t, h, ret, "RULE_LOAD");
			want = ret;
		}
		shadow_clear(h);
		for (i = 0; i < (int)nr; i++) {
			h->rules[i].r = t->rl[i];
			h->rules[i].r.id = ret + i;
			h->rules[i].rbit = rule_rbit(&t->rl[i]);
		}
		h->nrules = nr;
		if (nr && ret + nr - 1 > h->max_id)
			h->max_id = ret + nr - 1;
		atomic_fetch_add(&fz->r_loads, 1);
		atomic_fetch_add(&fz->r_loaded, nr);
	}
	pthread_mutex_unlock(&h->lock);
	expect_alloc(t, F_RULELOAD, ret, want, nr, apk, &sr);
}

/* aiodev_dist_set()'s outcome before it looks at the device's distributions. */
static long dist_want_args(const struct aiodev_dist *d,
			   const struct aiodev_dist_bucket *b, __u32 room)
{
	__u64 total = 0;
	__u32 i;

	if (d->flags || d->__reserved[0] || d->__reserved[1] ||
	    !name_valid(d->name) || d->nr_buckets > AIODEV_MAX_DIST_BUCKETS)
		return -EINVAL;
	/* Each bucket is read, then checked; the weights must not all be 0. */
	for (i = 0; i < d->nr_buckets; i++) {
		if (i >= room)
			return -EFAULT;
		if (b[i].min_nsec > b[i].max_nsec ||
		    b[i].max_nsec > AIODEV_MAX_NSEC || b[i].weight > 0xffffffffULL)
			return -EINVAL;
		total += b[i].weight;
	}
	return d->nr_buckets && !total ? -EINVAL : 0;
}

static void fz_dist_set(struct th *t)
{
	static const __u32 nrs[] = { 1, 2, 255, 256, 257, 0x80000000,
				     0xffffffff };
	static const __u64 wts[] = { 0, 1, 0xffffffffULL, 0x100000000ULL,
				     ~0ULL };
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), dpk = pick_pk(t), bpk = pick_pk(t), i, idx;
	struct dev_hist *h = &fz->hist[sr.dev];
	struct aiodev_dist_bucket b[AIODEV_MAX_DIST_BUCKETS] = { { 0 } };
	struct aiodev_dist d = { 0 }, *dp;
	unsigned long what;
	bool odd;
	unsigned char *arr;
	__u32 room, n;
	long ret, want;

	d.nr_buckets = chance(t, 30) ? 0 : chance(t, 80) ? 1 + rnd(t) % 8 :
		       nrs[rnd(t) % ARRAY_SIZE(nrs)];
	pick_name(t, d.name, d.nr_buckets ? N_DEFINE : N_DELETE);
	if (chance(t, 3))
		d.flags = rnd(t) | 1;
	if (chance(t, 3))
		d.__reserved[rnd(t) % 2] = rnd(t) | 1;
	n = d.nr_buckets < AIODEV_MAX_DIST_BUCKETS ? d.nr_buckets :
	    AIODEV_MAX_DIST_BUCKETS;
	arr = place_array(t, bpk, sizeof(b[0]), n, &room);
	/* Mostly all valid (some weights 0), else any field may be off. */
	odd = chance(t, 30);
	for (i = 0; i < (int)n && bpk != P_RO; i++) {
		b[i].min_nsec = !odd || chance(t, 90) ? rnd(t) % SAFE_NSEC :
				pick_nsec(t);
		b[i].max_nsec = !odd || chance(t, 90) ?
				b[i].min_nsec + rnd(t) % SAFE_NSEC : pick_nsec(t);
		b[i].weight = !odd || chance(t, 90) ?
			      (chance(t, 90) ? 1 + rnd(t) % 100 : 0) :
			      chance(t, 70) ? wts[rnd(t) % ARRAY_SIZE(wts)] :
			      rnd(t);
	}
	want = dist_want_args(&d, b, room);
	/* One that may be defined samples at most SAFE_NSEC. */
	for (i = 0; !want && i < (int)n; i++) {
		b[i].min_nsec %= SAFE_NSEC + 1;
		b[i].max_nsec = b[i].min_nsec + b[i].max_nsec %
				(SAFE_NSEC + 1 - b[i].min_nsec);
	}
	if (bpk != P_RO)
		for (i = 0; i < (int)n && i < (int)room; i++)
			memcpy(arr + i * sizeof(b[0]), &b[i], sizeof(b[0]));
	d.buckets = (__u64)(uintptr_t)arr;
	dp = place(t, dpk, sizeof(d), t->arg, PAGE_SZ);
	if (!P_BAD(dpk))
		memcpy(dp, &d, sizeof(d));
	if (!writable_slot(sr.slot)) {
		ret = note(t, F_DISTSET, do_ioctl(fd, AIODEV_IOC_DIST_SET, dp), 0);
		expect(t, F_DISTSET, ret, -EBADF, 0, dpk, &sr);
		return;
	}
	if (P_UNREADABLE(dpk))
		want = -EFAULT;
	else if (dpk == P_RO)	/* an empty name */
		want = -EINVAL;
	pthread_mutex_lock(&h->lock);
	idx = dist_index(d.name);
	if (!want && idx < 0) {
		/* A valid name not ours: pick_name() never makes one. */
		t->violations++;
		report(fz, "fuzzer bug: distribution name %.16s", d.name);
	} else if (!want && !d.nr_buckets) {
		want = !(h->dists >> idx & 1) ? -ENOENT : 0;
		for (i = 0; !want && i < h->nrules; i++)
			if (h->rules[i].r.latency_kind == AIODEV_LATENCY_DIST &&
			    dist_index(h->rules[i].r.dist) == idx)
				want = -EBUSY;
	} else if (!want && !(h->dists >> idx & 1) &&
		   __builtin_popcount(h->dists) >= h->dist_cap) {
		want = -ENOSPC;
	}
	memcpy(&what, d.name, sizeof(what));	/* reports show the name */
	ret = note(t, F_DISTSET, do_ioctl(fd, AIODEV_IOC_DIST_SET, dp), what);
	if (!want && !ret) {
		if (d.nr_buckets) {
			h->dists |= 1U << idx;
			atomic_fetch_add(&fz->d_set, 1);
		} else {
			h->dists &= ~(1U << idx);
			atomic_fetch_add(&fz->d_deleted, 1);
		}
	}
	pthread_mutex_unlock(&h->lock);
	expect_alloc(t, F_DISTSET, ret, want, what, dpk, &sr);
}

/*
 * Held requests: the fuzzer's rules never hold one (rule_tame()), so each
 * outcome is exact: an empty list, a wait that times out (at most 1 ms:
 * nothing blocks for long), nothing to release.
 */
static void fz_held(struct th *t)
{
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t), epk = pick_pk(t);
	unsigned char *area = t->arg;
	long ret, want;

	switch (rnd(t) % 3) {
	case 0: {
		struct aiodev_held_list l = {
			.held = (__u64)(uintptr_t)place(t, epk, 64, t->arr,
							PAGE_SZ),
			.nr = chance(t, 50) ? rnd(t) % 8 : (__u32)rnd(t),
			.flags = chance(t, 10) ? (__u32)rnd(t) | 1 : 0,
		}, *lp = place(t, pk, sizeof(l), area, PAGE_SZ);

		if (!P_BAD(pk))
			memcpy(lp, &l, sizeof(l));
		ret = note(t, F_HELDLIST, do_ioctl(fd, AIODEV_IOC_HELD_LIST, lp),
			   l.flags);
		/* Read-only: zeros, a count. Nothing held: nothing copied. */
		want = P_UNREADABLE(pk) ? -EFAULT :
		       pk != P_RO && l.flags ? -EINVAL : 0;
		expect_alloc(t, F_HELDLIST, ret, want, l.flags, pk, &sr);
		break;
	}
	case 1: {
		struct aiodev_held_wait w = {
			.min_nr = chance(t, 80) ? 1 + rnd(t) % 8 :
				  chance(t, 50) ? AIODEV_MAX_HELD + 1 : 0,
			.flags = chance(t, 10) ? (__u32)rnd(t) | 1 : 0,
		}, *wp = place(t, pk, sizeof(w), area, PAGE_SZ);
		bool invalid = !w.min_nr || w.min_nr > AIODEV_MAX_HELD ||
			       w.flags;

		/* A valid wait is short; an invalid one may ask for any. */
		w.timeout_nsec = invalid && chance(t, 50) ? (__s64)rnd(t) :
				 (__s64)(rnd(t) % (NSEC_PER_MSEC + 1));
		if (!P_BAD(pk))
			memcpy(wp, &w, sizeof(w));
		ret = note(t, F_HELDWAIT, do_ioctl(fd, AIODEV_IOC_HELD_WAIT, wp),
			   w.min_nr);
		want = P_UNREADABLE(pk) ? -EFAULT :
		       pk == P_RO || invalid ? -EINVAL : -ETIMEDOUT;
		expect(t, F_HELDWAIT, ret, want, w.min_nr, pk, &sr);
		break;
	}
	default: {
		struct aiodev_release *rel = (struct aiodev_release *)t->arr;
		struct aiodev_release_list l = {
			.nr = chance(t, 70) ? 1 + rnd(t) % 4 :
			      chance(t, 50) ? 0 : AIODEV_MAX_HELD + 1,
			.flags = chance(t, 20) ? AIODEV_RELEASE_ALL :
				 chance(t, 5) ? (__u32)rnd(t) : 0,
		}, *lp = place(t, pk, sizeof(l), area, PAGE_SZ);
		bool bad_entry = false, all = l.flags & AIODEV_RELEASE_ALL;
		__u32 i;

		for (i = 0; i < 4; i++) {
			rel[i] = (struct aiodev_release){
				.hold_id = chance(t, 50) ? 1 + rnd(t) % 64 : rnd(t),
				.kind = chance(t, 90) ? rnd(t) % 6 : (__u16)rnd(t),
			};
			if (rel[i].kind == AIODEV_RELEASE_ERROR ||
			    rel[i].kind == AIODEV_RELEASE_TORN || chance(t, 5))
				rel[i].error = chance(t, 90) ?
					       (__s32)(1 + rnd(t) % 511) :
					       (__s32)rnd(t);
			if (rel[i].kind == AIODEV_RELEASE_SHORT ||
			    rel[i].kind == AIODEV_RELEASE_TORN || chance(t, 5))
				rel[i].bytes = (__u32)rnd(t);
			if (chance(t, 5))
				rel[i].flags = chance(t, 50) ? AIODEV_RELEASE_PARK :
					       (__u16)rnd(t);
			if (chance(t, 3))
				rel[i].__reserved = 1;
		}
		for (i = 0; i < l.nr && i < 4; i++) {
			const struct aiodev_release *r = &rel[i];
			bool err = r->kind == AIODEV_RELEASE_ERROR ||
				   r->kind == AIODEV_RELEASE_TORN;
			bool bytes = r->kind == AIODEV_RELEASE_SHORT ||
				     r->kind == AIODEV_RELEASE_TORN;

			bad_entry |= r->kind > AIODEV_RELEASE_CANCEL ||
				     (r->flags & ~AIODEV_RELEASE_PARK) ||
				     (r->flags &&
				      r->kind == AIODEV_RELEASE_CANCEL) ||
				     r->__reserved || (!bytes && r->bytes) ||
				     (err ? r->error < 1 ||
					    r->error > AIODEV_MAX_ERRNO : r->error);
		}
		/* Entries past the four: a bad pointer, or zeros. */
		l.releases = (__u64)(uintptr_t)(l.nr > 4 && !all ?
			     place(t, P_GUARD, 0, NULL, 0) : rel);
		if (!P_BAD(pk))
			memcpy(lp, &l, sizeof(l));
		ret = note(t, F_RELEASE, do_ioctl(fd, AIODEV_IOC_RELEASE, lp),
			   l.nr);
		if (!writable_slot(sr.slot))
			want = -EBADF;
		else if (P_UNREADABLE(pk))
			want = -EFAULT;
		else if (pk == P_RO || (l.flags & ~AIODEV_RELEASE_ALL) ||
			 (all ? l.nr != 0 : !l.nr) || l.nr > AIODEV_MAX_HELD)
			want = -EINVAL;
		else if (all)
			want = 0;
		else if (l.nr > 4)
			want = -EFAULT;
		else
			want = bad_entry ? -EINVAL : -ENOENT;
		expect_alloc(t, F_RELEASE, ret, want, l.nr, pk, &sr);
		break;
	}
	}
}

void fz_rules(struct th *t)
{
	int p = rnd(t) % 100;

	if (p < 10) {
		fz_held(t);
		return;
	}

	if (p < 30)
		fz_rule_add(t);
	else if (p < 45)
		fz_rule_del(t);
	else if (p < 60)
		fz_rule_list(t);
	else if (p < 72)
		fz_rule_load(t);
	else if (p < 77)
		fz_rule_clear(t);
	else
		fz_dist_set(t);
}
