// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the request and configuration ioctls, and command
 * numbers that are none of them.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- the ioctls -------------------------------------------------------- */

void fz_getter(struct th *t, int kind)
{
	static const unsigned long cmd[] = {
		[F_INFO] = AIODEV_IOC_GET_INFO,
		[F_GETCFG] = AIODEV_IOC_GET_CONFIG,
		[F_STATS] = AIODEV_IOC_GET_STATS,
	};
	static const size_t sz[] = {
		[F_INFO] = sizeof(struct aiodev_info),
		[F_GETCFG] = sizeof(struct aiodev_config),
		[F_STATS] = sizeof(struct aiodev_stats),
	};
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t);
	void *p = place(t, pk, sz[kind], t->arg, PAGE_SZ);
	long ret;

	ret = note(t, kind, do_ioctl(fd, cmd[kind], p), cmd[kind]);
	expect(t, kind, ret, P_BAD(pk) ? -EFAULT : 0, cmd[kind], pk, &sr);
	if (ret)
		return;
	if (kind == F_INFO) {
		struct aiodev_info i;

		memcpy(&i, p, sizeof(i));
		if (i.abi_version != AIODEV_ABI_VERSION || i.index >= NDEV ||
		    i.queue_depth != t->fz->depth ||
		    i.max_io_bytes != AIODEV_MAX_IO_BYTES ||
		    i.max_nsec != AIODEV_MAX_NSEC ||
		    i.size_bytes != t->fz->size || i.__reserved[0] ||
		    i.__reserved[3]) {
			t->violations++;
			report(t->fz, "GET_INFO returned inconsistent fields");
		}
	} else if (kind == F_STATS) {
		struct aiodev_stats s;

		memcpy(&s, p, sizeof(s));
		if (s.context.submitted != counters_sum(&s.context) ||
		    s.context.__reserved || s.device.__reserved) {
			t->violations++;
			report(t->fz, "GET_STATS: context counters do not add up");
		}
	} else {
		struct aiodev_config c;

		memcpy(&c, p, sizeof(c));
		if (c.flags || c.latency_nsec > AIODEV_MAX_NSEC ||
		    c.timeout_nsec > AIODEV_MAX_NSEC ||
		    c.fail_nth_errno > AIODEV_MAX_ERRNO ||
		    c.fail_range_errno > AIODEV_MAX_ERRNO) {
			t->violations++;
			report(t->fz, "GET_CONFIG returned an invalid configuration");
		}
	}
}

/* Would aiodev_check_req() refuse @r? (the header's rules) */
static bool req_invalid(const struct aiodev_req *r, __u64 size)
{
	if (r->__reserved || (r->flags & ~AIODEV_REQ_FLAGS_ALL))
		return true;
	if ((!(r->flags & AIODEV_REQ_LATENCY) && r->latency_nsec) ||
	    (!(r->flags & AIODEV_REQ_TIMEOUT) && r->timeout_nsec) ||
	    (!(r->flags & AIODEV_REQ_EVENTFD) && r->eventfd))
		return true;
	if (r->latency_nsec > AIODEV_MAX_NSEC || r->timeout_nsec > AIODEV_MAX_NSEC)
		return true;
	if (r->op == AIODEV_OP_NOP)
		return r->buf || r->offset || r->len;
	if (r->op != AIODEV_OP_READ && r->op != AIODEV_OP_WRITE)
		return true;
	return !r->len || r->len > AIODEV_MAX_IO_BYTES || r->offset > size ||
	       r->len > size - r->offset;
}

/*
 * May aiodev_submit_one() refuse the valid @r with -EBADF on A slot @slot?
 * aiodev_check_req() for the file's mode, then an eventfd other than ours
 * (closed, or never open).
 */
static bool req_ebadf(const struct aiodev_req *r, int slot, int efd)
{
	int acc = slot_mode(false, slot) & O_ACCMODE;

	return (r->op == AIODEV_OP_READ && acc == O_WRONLY) ||
	       (r->op == AIODEV_OP_WRITE && acc == O_RDONLY) ||
	       ((r->flags & AIODEV_REQ_EVENTFD) && r->eventfd != efd);
}

static void rand_req(struct th *t, struct aiodev_req *r, int afd)
{
	struct fz *fz = t->fz;
	int pk, p = rnd(t) % 100;

	memset(r, 0, sizeof(*r));
	r->user_data = rnd(t);
	r->id = rnd(t);
	r->op = p < 30 ? AIODEV_OP_NOP : p < 60 ? AIODEV_OP_READ :
		p < 90 ? AIODEV_OP_WRITE : (__u16)rnd(t);
	if (chance(t, 60))
		r->flags = rnd(t) & AIODEV_REQ_FLAGS_ALL;
	else if (chance(t, 25))
		r->flags = rnd(t);
	if (r->op == AIODEV_OP_NOP && chance(t, 80)) {
		r->len = 0;
	} else {
		r->len = pick_len(t);
		r->offset = pick_off(t, fz->size, r->len);
		if (r->op == AIODEV_OP_WRITE)
			r->offset = avoid_zero(r->offset, r->len);
		r->buf = data_ptr(t, r->len, &pk);
	}
	if ((r->flags & AIODEV_REQ_LATENCY) || chance(t, 5))
		r->latency_nsec = chance(t, 85) ? rnd(t) % 200000 : pick_nsec(t);
	if ((r->flags & AIODEV_REQ_TIMEOUT) || chance(t, 5))
		r->timeout_nsec = chance(t, 50) ? rnd(t) % 100000 : pick_nsec(t);
	if ((r->flags & AIODEV_REQ_EVENTFD) || chance(t, 5)) {
		switch (rnd(t) % 5) {
		case 0: case 1: r->eventfd = fz->efd; break;
		case 2: r->eventfd = afd; break;	/* not an eventfd */
		case 3: r->eventfd = -1; break;
		default: r->eventfd = rnd(t); break;
		}
	}
	if (chance(t, 5))
		r->__reserved = rnd(t) | 1;
}

void fz_submit(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), spk = pick_pk(t), apk = pick_pk(t);
	struct aiodev_submit s = { 0 }, *sp;
	struct aiodev_req *reqs;
	struct win w;
	__u32 i, n;
	long ret, want;

	/*
	 * The array: at most a full queue, so the kernel reads only ours.
	 * A large valid count mostly gets a short array before the guard.
	 */
	s.nr = chance(t, 70) ? 1 + rnd(t) % 8 : pick_u32(t, fz->depth);
	n = s.nr < fz->depth ? s.nr : fz->depth;
	if (n > 64 && (apk == P_OK || apk == P_MISALIGNED) && !chance(t, 3))
		apk = P_STRADDLE;
	if (apk == P_STRADDLE)
		n = n > 16 ? 1 + rnd(t) % 16 : n > 1 ? n / 2 : 1;
	reqs = place(t, apk, (size_t)n * sizeof(*reqs), t->arr, ARG_BYTES);
	if ((apk == P_OK || apk == P_MISALIGNED) && s.nr <= fz->depth)
		for (i = 0; i < n; i++)
			rand_req(t, &reqs[i], fd);
	if (apk == P_STRADDLE) {
		/* n - 1 whole requests, then one cut in half by the guard. */
		reqs = (struct aiodev_req *)(t->arr + ARG_BYTES -
					     sizeof(*reqs) / 2) - (n - 1);
		for (i = 0; i + 1 < n; i++)
			rand_req(t, &reqs[i], fd);
		memset(&reqs[n - 1], 0, sizeof(*reqs) / 2);
	}
	if (chance(t, 5))
		s.flags = rnd(t) | 1;
	s.reqs = (__u64)(uintptr_t)reqs;
	sp = place(t, spk, sizeof(s), t->arg, PAGE_SZ);
	if (!P_BAD(spk))
		memcpy(sp, &s, sizeof(s));
	win_begin(fz, &w, sr.dev);
	ret = do_ioctl(fd, AIODEV_IOC_SUBMIT, sp);
	win_end(fz, &w);
	/* A rule of ours in force may refuse the first request. */
	ret = note_win(t, F_SUBMIT, ret, s.nr, &w);
	if (P_UNREADABLE(spk)) {
		expect(t, F_SUBMIT, ret, -EFAULT, 0, spk, &sr);
		return;
	}
	if (spk == P_RO) {	/* nr 0 */
		expect(t, F_SUBMIT, ret, -EINVAL, 0, spk, &sr);
		return;
	}
	if (s.flags || !s.nr || s.nr > fz->depth) {
		expect(t, F_SUBMIT, ret, -EINVAL, s.nr, spk, &sr);
		return;
	}
	if (ret > (long)s.nr) {
		t->violations++;
		report(fz, "SUBMIT of %u accepted %ld", s.nr, ret);
	}
	/* One request, in place: its own errors are determined. */
	if (s.nr != 1 || ret == -EAGAIN || ret == -ENOMEM)
		return;
	if (P_BAD(apk) && apk != P_RO) {
		expect(t, F_SUBMIT, ret, -EFAULT, 1, apk, &sr);
		return;
	}
	if (apk == P_RO) {
		/*
		 * A zero request is a valid NOP; its id cannot be written,
		 * unless a rule refuses it first.
		 */
		if (!(ret < 0 && rule_bit(-ret) >= 0 &&
		      fault_ok(fz, &w, -ret, F_SUBMIT)))
			expect(t, F_SUBMIT, ret, -EFAULT, 1, apk, &sr);
		return;
	}
	if (req_invalid(&reqs[0], fz->size)) {
		expect(t, F_SUBMIT, ret, -EINVAL, reqs[0].op, apk, &sr);
		return;
	}
	if (ret == -EBADF && !req_ebadf(&reqs[0], sr.slot, fz->efd) &&
	    !closed_under(&sr)) {
		t->violations++;
		report(fz, "SUBMIT of a valid request (op %u) returned -EBADF",
		       reqs[0].op);
	}
	want = ret;
	if (ret == 1) {
		t->ids[rnd(t) % 16] = reqs[0].id;
		if (!reqs[0].id) {
			t->violations++;
			report(fz, "SUBMIT accepted a request with id 0");
		}
	}
	(void)want;
}

void fz_getevents(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), gpk = pick_pk(t), epk = pick_pk(t);
	struct aiodev_getevents g = { 0 }, *gp;
	bool invalid;
	long ret;

	g.min_nr = chance(t, 50) ? rnd(t) % 4 : pick_u32(t, fz->depth);
	g.max_nr = chance(t, 50) ? 1 + rnd(t) % 64 : pick_u32(t, fz->depth);
	g.timeout_nsec = chance(t, 50) ? 0 : (__s64)pick_nsec(t);
	if (chance(t, 5))
		g.flags = rnd(t) | 1;
	if (chance(t, 5))
		g.__reserved = rnd(t) | 1;
	invalid = g.flags || g.__reserved || !g.max_nr || g.min_nr > g.max_nr ||
		  g.min_nr > fz->depth;
	/* Never wait long: a valid call waits at most 1 ms, mostly 10 us. */
	if (!invalid && g.min_nr && (g.timeout_nsec < 0 ||
				     g.timeout_nsec > 10000))
		g.timeout_nsec = chance(t, 5) ? 1 + rnd(t) % 1000000 :
				 1 + rnd(t) % 10000;
	if (epk == P_OK || epk == P_MISALIGNED)
		g.events = (__u64)(uintptr_t)(t->arr + (epk == P_MISALIGNED));
	else if (epk == P_STRADDLE)	/* room for 3 events, then the guard */
		g.events = (__u64)(uintptr_t)(t->arr + ARG_BYTES -
					      3 * sizeof(struct aiodev_event));
	else
		g.events = (__u64)(uintptr_t)place(t, epk, 48, t->arr, ARG_BYTES);
	gp = place(t, gpk, sizeof(g), t->arg, PAGE_SZ);
	if (!P_BAD(gpk))
		memcpy(gp, &g, sizeof(g));
	ret = note(t, F_GETEV, do_ioctl(fd, AIODEV_IOC_GETEVENTS, gp), g.max_nr);
	if (P_UNREADABLE(gpk))
		expect(t, F_GETEV, ret, -EFAULT, 0, gpk, &sr);
	else if (gpk == P_RO)	/* max_nr 0 */
		expect(t, F_GETEV, ret, -EINVAL, 0, gpk, &sr);
	else if (invalid)
		expect(t, F_GETEV, ret, -EINVAL, g.max_nr, gpk, &sr);
	else if (ret > (long)g.max_nr || ret > MAX_EVENTS)
		expect(t, F_GETEV, ret, g.max_nr, g.max_nr, gpk, &sr);
	else if (ret > 0 && P_BAD(epk) && epk != P_STRADDLE)
		expect(t, F_GETEV, ret, -EFAULT, g.max_nr, epk, &sr);
}

void fz_cancel(struct th *t)
{
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t);
	struct aiodev_cancel c = { 0 }, *cp;
	long ret;

	c.id = chance(t, 50) ? t->ids[rnd(t) % 16] : chance(t, 50) ? rnd(t) :
	       rnd(t) % 4096;
	if (chance(t, 5))
		c.flags = rnd(t) | 1;
	if (chance(t, 5))
		c.__reserved = rnd(t) | 1;
	cp = place(t, pk, sizeof(c), t->arg, PAGE_SZ);
	if (!P_BAD(pk))
		memcpy(cp, &c, sizeof(c));
	ret = note(t, F_CANCEL, do_ioctl(fd, AIODEV_IOC_CANCEL, cp), c.id);
	if (P_UNREADABLE(pk))
		expect(t, F_CANCEL, ret, -EFAULT, 0, pk, &sr);
	else if (pk == P_RO)	/* id 0: never a request's */
		expect(t, F_CANCEL, ret, -ENOENT, 0, pk, &sr);
	else if (c.flags || c.__reserved)
		expect(t, F_CANCEL, ret, -EINVAL, c.flags, pk, &sr);
	else if (ret != 0 && ret != -EALREADY && ret != -ENOENT)
		expect(t, F_CANCEL, ret, -ENOENT, c.id, pk, &sr);
}

/* Would aiodev_config_check() refuse @c? (the header's rules) */
static bool config_invalid(const struct aiodev_config *c, __u64 size)
{
	if (c->flags || c->__reserved[0] || c->__reserved[1] ||
	    c->__reserved[2])
		return true;
	if (c->latency_nsec > AIODEV_MAX_NSEC || c->jitter_nsec > AIODEV_MAX_NSEC ||
	    c->latency_nsec + c->jitter_nsec > AIODEV_MAX_NSEC ||
	    c->timeout_nsec > AIODEV_MAX_NSEC)
		return true;
	if (c->fail_nth_errno < !!c->fail_every_nth ||
	    c->fail_nth_errno > AIODEV_MAX_ERRNO)
		return true;
	if (c->fail_range_errno < !!c->fail_len ||
	    c->fail_range_errno > AIODEV_MAX_ERRNO)
		return true;
	return c->fail_offset > size || c->fail_len > size - c->fail_offset;
}

void fz_setconfig(struct th *t)
{
	static const __s32 errnos[] = { -1, 0, 1, EIO, 255, 511, 512, 4095,
					0x7fffffff };
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_a(t, &sr), pk = pick_pk(t);
	struct aiodev_config c, *cp, zero = { 0 };
	const struct aiodev_config *use = NULL;
	struct dev_hist *h = &fz->hist[sr.dev];
	bool invalid, writable;
	__u64 seq = 0;
	int e[2];
	long ret;

	config_default(&c);
	if (chance(t, 50))
		c.latency_nsec = chance(t, 70) ? rnd(t) % 100000 : pick_nsec(t);
	if (chance(t, 30))
		c.jitter_nsec = chance(t, 70) ? rnd(t) % 100000 : pick_nsec(t);
	if (chance(t, 30))
		c.timeout_nsec = chance(t, 70) ? rnd(t) % 100000 : pick_nsec(t);
	if (chance(t, 20)) {
		c.fail_every_nth = chance(t, 50) ? 1 + rnd(t) % 10 : pick_u32(t, 0);
		c.fail_nth_errno = chance(t, 50) ? errnos[rnd(t) % ARRAY_SIZE(errnos)] :
				   (__s32)(1 + rnd(t) % 511);
	}
	if (chance(t, 20)) {
		c.fail_len = chance(t, 50) ? rnd(t) % 65536 : rnd(t);
		c.fail_offset = pick_off(t, fz->size, c.fail_len);
		c.fail_range_errno = chance(t, 50) ?
				     errnos[rnd(t) % ARRAY_SIZE(errnos)] :
				     (__s32)(1 + rnd(t) % 511);
	}
	if (chance(t, 30))	/* any seed is valid */
		c.seed = chance(t, 50) ? rnd(t) : rnd(t) % 2 ? ~0ULL : 0;
	if (chance(t, 3))
		c.flags = rnd(t) | 1;
	if (chance(t, 3))
		c.__reserved[rnd(t) % ARRAY_SIZE(c.__reserved)] = rnd(t) | 1;
	invalid = config_invalid(&c, fz->size);
	/* A valid configuration never makes anyone wait for long. */
	if (!invalid && c.latency_nsec + c.jitter_nsec > 1000000 &&
	    (!c.timeout_nsec || c.timeout_nsec > 1000))
		c.timeout_nsec = 1 + rnd(t) % 1000;
	cp = place(t, pk, sizeof(c), t->arg, PAGE_SZ);
	if (!P_BAD(pk))
		memcpy(cp, &c, sizeof(c));
	/* One that may take effect goes into the device's history. */
	writable = slot_mode(false, sr.slot) & (O_WRONLY | O_RDWR);
	if (writable && pk == P_RO)
		use = &zero;
	else if (writable && !P_BAD(pk) && !invalid)
		use = &c;
	if (use) {
		pthread_mutex_lock(&h->lock);
		cfg_errs(use, e);
		seq = hist_begin(h, e, shadow_rmask(h));
	}
	ret = note(t, F_SETCFG, do_ioctl(fd, AIODEV_IOC_SET_CONFIG, cp), 0);
	if (use) {
		hist_settle(h, seq, ret == 0);
		if (!ret)
			memcpy(h->cfg_err, e, sizeof(e));
		pthread_mutex_unlock(&h->lock);
	}
	if (!writable)
		expect(t, F_SETCFG, ret, -EBADF, 0, pk, &sr);
	else if (pk == P_RO)	/* reads as all zero: latency 0, valid */
		expect(t, F_SETCFG, ret, 0, 0, pk, &sr);
	else if (P_BAD(pk))
		expect(t, F_SETCFG, ret, -EFAULT, 0, pk, &sr);
	else
		expect(t, F_SETCFG, ret, invalid ? -EINVAL : 0, c.latency_nsec,
		       pk, &sr);
}

/* A command number that is not one of the sixteen. */
void fz_badcmd(struct th *t)
{
	static const unsigned long good[] = {
		AIODEV_IOC_GET_INFO, AIODEV_IOC_SUBMIT, AIODEV_IOC_GETEVENTS,
		AIODEV_IOC_CANCEL, AIODEV_IOC_GET_CONFIG, AIODEV_IOC_SET_CONFIG,
		AIODEV_IOC_GET_STATS, AIODEV_IOC_RULE_ADD, AIODEV_IOC_RULE_DEL,
		AIODEV_IOC_RULE_CLEAR, AIODEV_IOC_RULE_LIST,
		AIODEV_IOC_DIST_SET, AIODEV_IOC_RULE_LOAD, AIODEV_IOC_HELD_LIST,
		AIODEV_IOC_HELD_WAIT, AIODEV_IOC_RELEASE,
	};
	/* Handled by the VFS before the driver (fs/ioctl.c do_vfs_ioctl). */
	static const unsigned long vfs[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE,
		FITHAW, FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE,
		FIDEDUPERANGE, FIONREAD, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS,
		FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR, 0x80111500 /* GETFSUUID */,
		0x80811501 /* GETFSSYSFSPATH */,
	};
	/* Every argument size of ours: 4 (a rule id), 168 (a rule)... */
	static const unsigned int sizes[] = { 0, 4, 8, 16, 32, 48, 64, 72, 88,
					      128, 168, 0x3fff };
	struct sref sr;
	int fd = pick_fd_a(t, &sr);
	unsigned long cmd;
	unsigned int i;
	long ret;

	switch (rnd(t) % 4) {
	case 0:		/* a known number with the wrong size or direction */
		cmd = good[rnd(t) % ARRAY_SIZE(good)];
		cmd = _IOC(rnd(t) % 4, AIODEV_IOC_MAGIC, _IOC_NR(cmd),
			   sizes[rnd(t) % ARRAY_SIZE(sizes)]);
		break;
	case 1:		/* the other numbers of our magic */
		cmd = _IOC(rnd(t) % 4, AIODEV_IOC_MAGIC, rnd(t) % 256,
			   sizes[rnd(t) % ARRAY_SIZE(sizes)]);
		break;
	case 2:		/* neighbouring magics */
		cmd = _IOC(rnd(t) % 4, AIODEV_IOC_MAGIC + (int)(rnd(t) % 5) - 2,
			   rnd(t) % 16, sizes[rnd(t) % ARRAY_SIZE(sizes)]);
		break;
	default:
		cmd = (__u32)rnd(t);
		break;
	}
	for (i = 0; i < ARRAY_SIZE(good); i++)
		if (cmd == good[i])
			return;
	for (i = 0; i < ARRAY_SIZE(vfs); i++)
		if (cmd == vfs[i])
			return;
	if (_IOC_TYPE(cmd) == 'T' || _IOC_TYPE(cmd) == 'f' ||
	    _IOC_TYPE(cmd) == 'X' || _IOC_TYPE(cmd) == 0x94 ||
	    _IOC_TYPE(cmd) == 0x15)
		return;
	ret = note(t, F_BADCMD, do_ioctl(fd, cmd, place(t, pick_pk(t), 64,
							 t->arg, PAGE_SZ)),
		   cmd);
	expect(t, F_BADCMD, ret, -ENOTTY, cmd, 0, &sr);
}
