// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: AIODEV_FUZZ_CALLS ioctl calls in total (default 1000000)
 * from AIODEV_FUZZ_THREADS threads (default 6: they often sleep in plain
 * I/O for the device's latency) on files of both devices
 * that a closer thread keeps replacing (dup2 over them, close, reopen) and
 * whose buffers it unmaps and maps again, mixed with read/write/pread/
 * pwrite/readv/preadv2/pwritev2/lseek/poll and io_submit/io_getevents/
 * io_cancel with random arguments:
 *
 *  - every command, every other number of magic 0xA9 and the thirteen
 *    numbers with the wrong size or direction, random command numbers;
 *  - the rules and distributions (RULE_ADD/DEL/CLEAR/LIST/LOAD, DIST_SET):
 *    random and boundary values in every field of aiodev_rule,
 *    aiodev_rule_list, aiodev_dist and the buckets (unknown flags, ops,
 *    paths and kinds, ranges at and past the end, errnos 0, 511, 512,
 *    latencies past AIODEV_MAX_NSEC, bad and unknown names, counts 0, 64,
 *    65, 256, 257, 2^32 - 1, reserved and padding fields, nonzero outputs),
 *    rule and bucket arrays cut by a guard page, read-only files;
 *  - argument structures at valid, misaligned, NULL, PROT_NONE, read-only,
 *    half-unmapped (straddling a guard page), kernel and non-canonical
 *    addresses; random and boundary values in every field (counts 0, 1,
 *    queue_depth, queue_depth + 1, 2^32 - 1; lengths 0, 1 MiB, 1 MiB + 1;
 *    offsets at and past the end, overflowing; times at and past
 *    AIODEV_MAX_NSEC; errnos 0, 511, 512; unknown flags; reserved fields).
 *
 * Each call may only fail with an errno its documentation names (the
 * allow-lists below cite uapi/linux/aiodev.h, README.md and the system
 * calls' manual pages), or, for a read, write or AIO result, with a fault
 * errno of a configuration that may have been in force when it was
 * submitted; and where the outcome follows from the arguments alone (a bad
 * pointer, an invalid field, an unknown command) it must be exactly that
 * one, or -EBADF if the closer had the file closed meanwhile. Every rule
 * and distribution change on a writable file runs under its device's
 * lock against a shadow of the device's rules and distributions, so its
 * outcome is exact too (-ENOSPC, -ENOENT, -EBUSY, -ESRCH, the ids), and
 * RULE_LIST must return the shadow. The rules that may take effect are
 * tame: latencies of at most SAFE_NSEC, results DEFAULT, OK, SHORT, or
 * ERROR/TORN/REFUSE with an errno of rule_errno[], which a read, write,
 * io_event or SUBMIT may then end with only while such a rule may have
 * been in force on its device (the same history as the configurations).
 * TIMEOUT (a request without a deadline of its own would wait for the
 * device's, up to an hour) and other errnos appear only in invalid rules.
 * Anything
 * else is counted, the first ones printed, and fails the test. Afterwards
 * the devices must still work (round trips through the ioctl, pread/pwrite
 * and libaio) and their counters add up with nothing left in flight.
 *
 * Writes stay out of [ZERO_REGION_OFF, + ZERO_REGION_LEN), which other
 * programs expect to read as zeros. Nothing blocks for long: the files are
 * O_NONBLOCK, waits are at most 1 ms, and a configuration with a long
 * latency always comes with a deadline of at most 1 us. AIODEV_FUZZ_SEED
 * makes the argument choices reproducible.
 */
#define _GNU_SOURCE
#include <linux/aio_abi.h>
#include <linux/fiemap.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "kaio_util.h"
#include "kselftest_harness.h"

#define NDEV		2
#define NSLOT_A		8	/* ioctl files: O_NONBLOCK, never plain I/O */
#define NSLOT_B		6	/* plain I/O and AIO files: no ioctl SUBMIT */
#define ERRMAX		600	/* errnos counted one by one; above: one bucket */
#define ARG_BYTES	(17 * PAGE_SZ)	/* >= queue_depth * sizeof(aiodev_req) */
#define VICTIM_BYTES	(4UL << 20)	/* where the kernel may write data */
#define MAX_EVENTS	1024
#define HIST		4096	/* configurations remembered per device */
#define NCB		64	/* iocbs per thread */

#define NDIST		20	/* our distribution names: more than fit */
#define SAFE_NSEC	50000ULL	/* longest latency a valid rule brings */
#define TGID_NONE	0x3fffffff	/* above PID_MAX_LIMIT: never a process */

enum fk {
	F_INFO, F_SUBMIT, F_GETEV, F_CANCEL, F_GETCFG, F_SETCFG, F_STATS,
	F_RULEADD, F_RULEDEL, F_RULECLEAR, F_RULELIST, F_RULELOAD, F_DISTSET,
	F_HELDLIST, F_HELDWAIT, F_RELEASE, F_BADCMD, F_READ, F_WRITE, F_LSEEK, F_POLL, F_IOSUBMIT, F_IOEVENT,
	F_IOGETEV, F_IOCANCEL, NFK
};
static const char *const fk_name[NFK] = {
	"GET_INFO", "SUBMIT", "GETEVENTS", "CANCEL", "GET_CONFIG",
	"SET_CONFIG", "GET_STATS", "RULE_ADD", "RULE_DEL", "RULE_CLEAR",
	"RULE_LIST", "RULE_LOAD", "DIST_SET", "HELD_LIST", "HELD_WAIT",
	"RELEASE", "other cmd", "read*", "write*",
	"lseek", "poll", "io_submit", "io_event.res", "io_getevents",
	"io_cancel",
};
#define IS_IOCTL(k)	((k) <= F_BADCMD)

/*
 * Documented errnos per call. EBADF everywhere: a racing close leaves the
 * fd number unused (close(2), ioctl(2), read(2)...).
 */
static const int allow_list[NFK][16] = {
	/* header: GET_INFO/GET_CONFIG/GET_STATS are output-only copies */
	[F_INFO] = { EFAULT, EBADF },
	[F_GETCFG] = { EFAULT, EBADF },
	[F_STATS] = { EFAULT, EBADF },
	/* header: aiodev_req/aiodev_submit; README: limits -ENOMEM */
	[F_SUBMIT] = { EFAULT, EINVAL, EBADF, EAGAIN, EINTR, ENOMEM },
	/* header: aiodev_getevents */
	[F_GETEV] = { EFAULT, EINVAL, EBADF, EINTR },
	/* header: aiodev_cancel */
	[F_CANCEL] = { EFAULT, EINVAL, EBADF, EALREADY, ENOENT },
	/* header: aiodev_config; -EBADF without FMODE_WRITE */
	[F_SETCFG] = { EFAULT, EINVAL, EBADF },
	/*
	 * header: aiodev_rule, the RULE_* comment (EBADF without FMODE_WRITE,
	 * ENOSPC, ENOENT), @tgid (ESRCH), @dist (ENOENT); aiodev(4) ENOMEM
	 */
	[F_RULEADD] = { EFAULT, EINVAL, EBADF, ENOSPC, ENOENT, ESRCH, ENOMEM },
	[F_RULEDEL] = { EFAULT, EBADF, ENOENT },
	[F_RULECLEAR] = { EBADF },
	/* header: aiodev_rule_list; works on a read-only file */
	[F_RULELIST] = { EFAULT, EINVAL, EBADF, ENOMEM },
	/* header: aiodev_rule_list: "checked as RULE_ADD checks one" */
	[F_RULELOAD] = { EFAULT, EINVAL, EBADF, ENOENT, ESRCH, ENOMEM },
	/* header: aiodev_dist: EBUSY, ENOENT, ENOSPC */
	[F_DISTSET] = { EFAULT, EINVAL, EBADF, ENOENT, EBUSY, ENOSPC, ENOMEM },
	/* header: aiodev_held_list, aiodev_held_wait, aiodev_release_list */
	[F_HELDLIST] = { EFAULT, EINVAL, EBADF, ENOMEM },
	[F_HELDWAIT] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR },
	[F_RELEASE] = { EFAULT, EINVAL, EBADF, ENOENT, ENOMEM },
	/* README: unknown commands give -ENOTTY */
	[F_BADCMD] = { ENOTTY, EBADF },
	/* README "Through read/write": device limits, deadline, fault plan,
	 * RWF_NOWAIT; read(2)/preadv2(2) for EFAULT, EINVAL, EOPNOTSUPP */
	[F_READ] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR, EAGAIN, ENOMEM,
		     EOPNOTSUPP },
	[F_WRITE] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR, EAGAIN, ENOMEM,
		      EOPNOTSUPP, ENOSPC },
	/* lseek(2): ENXIO for SEEK_DATA/SEEK_HOLE past the end */
	[F_LSEEK] = { EINVAL, ENXIO, EBADF },
	[F_POLL] = { EFAULT, EINVAL },
	/* io_submit(2) */
	[F_IOSUBMIT] = { EINVAL, EFAULT, EBADF, EAGAIN, ENOMEM, EOPNOTSUPP },
	/* README: kernel AIO gets the device's results, -EBUSY when full */
	[F_IOEVENT] = { ETIMEDOUT, ECANCELED, EBUSY, ENOMEM, EFAULT, EINVAL,
			EINTR, EAGAIN, ENOSPC, EOPNOTSUPP },
	/* io_getevents(2), io_cancel(2) */
	[F_IOGETEV] = { EINVAL, EFAULT, EINTR },
	[F_IOCANCEL] = { EINPROGRESS, EAGAIN, EINVAL, EFAULT },
};

/* Where an argument lives. */
enum pk {
	P_OK, P_MISALIGNED, P_NULL, P_GUARD, P_RO, P_STRADDLE, P_KERNEL,
	P_NONCANON, NPK
};
#define P_BAD(p)	((p) >= P_NULL)
/* Input structures: a read-only page reads fine (as zeros). */
#define P_UNREADABLE(p)	(P_BAD(p) && (p) != P_RO)

/*
 * The errnos a valid rule of ours fails requests with: bits 0-1 at
 * completion (ERROR, TORN), bits 2-3 at submission (REFUSE). Nothing else
 * produces them but a configuration's fault plan, which fault_ok() also
 * knows; none is a refusal, so SUBMIT may only return the REFUSE ones.
 */
static const int rule_errno[] = { ENOLINK, AIODEV_MAX_ERRNO, EREMCHG, EPERM };
#define RB_FAIL		0x3
#define RB_REFUSE	0xc

/*
 * A change that may take effect: a SET_CONFIG, or a rule change. Each
 * entry holds the whole state after it: the configuration's fault errnos
 * and the rule errnos (rule_errno[] bits) of the rules then held.
 */
enum { CFG_PENDING, CFG_APPLIED, CFG_REFUSED };
struct cfg_ent {
	atomic_ullong seq;		/* its number; ~0 while rewritten */
	atomic_int state;
	atomic_int err[2];		/* 0: none */
	atomic_int rmask;		/* rule_errno[] bits */
};

/* A rule the device holds, as added (id set, counters zero). */
struct sh_rule {
	struct aiodev_rule r;
	int rbit;			/* its rule_errno[] index, or -1 */
};

/*
 * The configurations and rules of one device, to tell which fault and
 * rule errnos a request may end with. The fuzzers issue every SET_CONFIG
 * that may succeed and every rule change of a writable file under @lock,
 * those that may succeed numbered (@started) before the ioctl: numbers
 * follow the order in which the kernel applies them. A call reads @cur
 * before it and @started after it: the state it ran with is one of
 * [cur, started] that was not refused. The ring keeps the last HIST of
 * them; older ones are settled, and count by @ever and @rever, which are
 * still only what the device actually applied. SET_CONFIGs bound to fail
 * run without the lock: if one succeeds all the same, expect() reports it.
 */
struct dev_hist {
	pthread_mutex_t lock;
	atomic_ullong started;		/* the newest recorded */
	atomic_ullong cur;		/* the newest applied */
	atomic_ullong ever[AIODEV_MAX_ERRNO / 64 + 1];
	atomic_int rever;		/* rule_errno[] bits ever applied */
	struct cfg_ent ent[HIST];
	/*
	 * Under @lock: the device as the fuzzers made it. Every change that
	 * may succeed is made under @lock, so this is exact.
	 */
	int cfg_err[2];			/* of the configuration in force */
	int nrules;
	struct sh_rule rules[AIODEV_MAX_RULES];
	__u32 max_id;			/* the highest rule id seen */
	__u32 gone[16];			/* ids of rules deleted */
	__u32 dists;			/* bit i: dist_name(i) is held */
	int dist_cap;			/* how many of ours fit */
};

/* The configurations of @dev (-1: none) a call may have run with. */
struct win {
	int dev;
	__u64 lo, hi;
};

/*
 * A file slot as a call picked it. The closer makes @genp odd while the
 * number is closed: -EBADF is due only if it was odd or moved meanwhile.
 */
struct sref {
	int fd, slot, dev;
	unsigned int gen;
	atomic_uint *genp;
};

struct fz;

struct th {
	struct fz *fz;
	pthread_t thread;
	int idx;
	__u64 rng;
	unsigned char *arg, *arr;	/* each followed by a PROT_NONE page */
	aio_context_t actx;
	struct iocb cbs[NCB];
	struct win cbw[NCB];		/* of each iocb's submission */
	__u64 busy;			/* iocbs in flight */
	__u64 ids[16];
	__u64 count[NFK][ERRMAX + 1];
	__u64 calls, other, violations, rule_results;
	struct aiodev_rule rl[AIODEV_MAX_RULES];	/* a RULE_LOAD's */
};

struct fz {
	int nthreads;
	__u64 target, seed;
	__u32 depth;
	__u64 size;
	atomic_ullong calls;
	atomic_int stop;
	atomic_int slot_a[NSLOT_A], slot_b[NSLOT_B];
	atomic_uint gen_a[NSLOT_A], gen_b[NSLOT_B];
	struct dev_hist hist[NDEV];
	atomic_int reports;
	int efd;
	unsigned char *ro, *guard, *victim;
	bool allow[NFK][ERRMAX + 1];
	struct th *th;
	atomic_ullong remaps, replaces, closes;
	/* Rule changes that took effect, RULE_LISTs checked exactly. */
	atomic_ullong r_added, r_deleted, r_loads, r_loaded, r_clears,
		      r_lists, r_full, d_set, d_deleted;
};

static int slot_mode(bool b, int i)
{
	static const int m[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };

	return m[i % 4] | (b ? 0 : O_NONBLOCK);
}

static void report(struct fz *fz, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (atomic_fetch_add(&fz->reports, 1) >= 30)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# fuzz: %s\n", msg);
	fflush(stdout);
}

static __u64 rnd(struct th *t)
{
	return rnd_next(&t->rng);
}

static bool chance(struct th *t, int pct)
{
	return (int)(rnd(t) % 100) < pct;
}

/* ---- the devices' configurations and rules ---------------------------- */

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

static void hist_settle(struct dev_hist *h, __u64 s, bool applied)
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
static void cfg_errs(const struct aiodev_config *c, int e[2])
{
	e[0] = c->fail_every_nth ? c->fail_nth_errno : 0;
	e[1] = c->fail_len ? c->fail_range_errno : 0;
}

/* The rule errnos of the rules @h holds (lock held). */
static int shadow_rmask(const struct dev_hist *h)
{
	int i, m = 0;

	for (i = 0; i < h->nrules; i++)
		if (h->rules[i].rbit >= 0)
			m |= 1 << h->rules[i].rbit;
	return m;
}

/* The state before the fuzzers start (no rules), number 0. */
static void hist_init(struct fz *fz, int dev, const struct aiodev_config *c)
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
static __u64 hist_begin(struct dev_hist *h, const int e[2], int rmask)
{
	__u64 s = atomic_load(&h->started) + 1;

	hist_put(h, s, e[0], e[1], rmask);
	atomic_store(&h->started, s);
	return s;
}

static void win_begin(struct fz *fz, struct win *w, int dev)
{
	w->dev = dev;
	w->lo = dev < 0 ? 0 : atomic_load(&fz->hist[dev].cur);
}

static void win_end(struct fz *fz, struct win *w)
{
	w->hi = w->dev < 0 ? 0 : atomic_load(&fz->hist[w->dev].started);
}

static int rule_bit(int e)
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
static bool fault_ok(struct fz *fz, const struct win *w, int e, int kind)
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

/* ---- results ----------------------------------------------------------- */

/*
 * Count one result (a negative errno or not) and check it is documented;
 * a read, write or io_event may also carry a fault errno of @w, and they
 * and SUBMIT a rule errno of @w.
 */
static long note_win(struct th *t, int kind, long ret, unsigned long what,
		     const struct win *w)
{
	struct fz *fz = t->fz;
	int e = ret < 0 ? (int)-ret : 0;

	if (IS_IOCTL(kind)) {
		t->calls++;
		if (atomic_fetch_add(&fz->calls, 1) + 1 >= fz->target)
			atomic_store(&fz->stop, 1);
	} else {
		t->other++;
	}
	if (ret >= 0)
		return ret;
	t->count[kind][e < ERRMAX ? e : ERRMAX]++;
	if (e < ERRMAX && fz->allow[kind][e])
		return ret;
	if ((kind == F_READ || kind == F_WRITE || kind == F_IOEVENT ||
	     kind == F_SUBMIT) && fault_ok(fz, w, e, kind)) {
		t->rule_results += rule_bit(e) >= 0;
		return ret;
	}
	t->violations++;
	report(fz, "%s (%#lx) failed with errno %d (%s), which it does not document",
	       fk_name[kind], what, e, strerror(e));
	return ret;
}

static long note(struct th *t, int kind, long ret, unsigned long what)
{
	return note_win(t, kind, ret, what, NULL);
}

/* Did the closer have @r's number closed at some point since the pick? */
static bool closed_under(const struct sref *r)
{
	return (r->gen & 1) || atomic_load(r->genp) != r->gen;
}

/*
 * Where the outcome is determined, it must be exactly @want, or -EBADF if
 * the file was closed under the call.
 */
static void expect(struct th *t, int kind, long ret, long want,
		   unsigned long what, int pk, const struct sref *r)
{
	if (ret == want || (ret == -EBADF && closed_under(r)))
		return;
	t->violations++;
	report(t->fz, "%s (%#lx, pointer kind %d) returned %ld, expected %ld",
	       fk_name[kind], what, pk, ret, want);
}

static long do_ioctl(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

/* ---- argument placement ----------------------------------------------- */

static const __u64 kernel_ptrs[] = {
	0xffffffff81000000ULL, 0xffff888000000000ULL, 0xfffffffffffff000ULL,
	0xffffffffffffffffULL,
};
static const __u64 noncanon_ptrs[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0x00007ffffffff000ULL,
	0x00dead0000000000ULL,
};

/* A structure of @size bytes in this thread's argument page. */
static void *place(struct th *t, int pk, size_t size, unsigned char *area,
		   size_t area_bytes)
{
	switch (pk) {
	case P_OK:
		return area;
	case P_MISALIGNED:
		return area + 1 + rnd(t) % 7;
	case P_NULL:
		return NULL;
	case P_GUARD:
		return t->fz->guard + rnd(t) % 64;
	case P_RO:
		return t->fz->ro;
	case P_STRADDLE:
		return area + area_bytes - (size > 1 ? size / 2 : 1);
	case P_KERNEL:
		return (void *)(uintptr_t)kernel_ptrs[rnd(t) % 4];
	default:
		return (void *)(uintptr_t)noncanon_ptrs[rnd(t) % 4];
	}
}

static int pick_pk(struct th *t)
{
	return chance(t, 70) ? (chance(t, 80) ? P_OK : P_MISALIGNED) :
	       (int)(P_NULL + rnd(t) % (NPK - P_NULL));
}

/*
 * A data buffer of @len bytes: in the victim area (the only memory the
 * kernel may write data into), or somewhere it cannot be used.
 */
static __u64 data_ptr(struct th *t, __u64 len, int *pk)
{
	struct fz *fz = t->fz;
	int k = chance(t, 75) ? P_OK : (int)(P_NULL + rnd(t) % (NPK - P_NULL));

	*pk = k;
	if (k == P_OK) {
		__u64 room = len < VICTIM_BYTES ? VICTIM_BYTES - len : 0;

		if (len <= VICTIM_BYTES && chance(t, 10))	/* into the guard */
			return (__u64)(uintptr_t)fz->victim + VICTIM_BYTES -
			       (len > 1 ? len / 2 : 1);
		return (__u64)(uintptr_t)fz->victim +
		       (room ? rnd(t) % room : 0);
	}
	if (k == P_RO)
		return (__u64)(uintptr_t)fz->ro;
	if (k == P_STRADDLE)
		return (__u64)(uintptr_t)fz->ro + PAGE_SZ - 1;
	return (__u64)(uintptr_t)place(t, k, len, t->arg, PAGE_SZ);
}

/* ---- field values ------------------------------------------------------ */

static __u32 pick_u32(struct th *t, __u32 depth)
{
	static const __u32 v[] = { 0, 1, 2, 7, 64, 0x7fffffff, 0x80000000,
				   0xffffffff };

	switch (rnd(t) % 4) {
	case 0: return v[rnd(t) % ARRAY_SIZE(v)];
	case 1: return depth + (int)(rnd(t) % 3) - 1;
	case 2: return rnd(t);
	default: return rnd(t) % 16;
	}
}

static __u64 pick_nsec(struct th *t)
{
	static const __u64 v[] = {
		0, 1, 1000, 100000, 1000000, AIODEV_MAX_NSEC - 1,
		AIODEV_MAX_NSEC, AIODEV_MAX_NSEC + 1, ~0ULL, 1ULL << 63,
	};

	return chance(t, 80) ? v[rnd(t) % ARRAY_SIZE(v)] : rnd(t);
}

/*
 * Mostly short: a 1 MiB transfer costs milliseconds of page pinning and
 * copying under TCG, and the boundaries need no repetition.
 */
static __u32 pick_len(struct th *t)
{
	static const __u32 v[] = { 0, 1, 511, 512, 4096, 4097, 65536,
				   0xffffffff };
	static const __u32 big[] = { AIODEV_MAX_IO_BYTES - 1,
				     AIODEV_MAX_IO_BYTES,
				     AIODEV_MAX_IO_BYTES + 1 };

	switch (rnd(t) % 20) {
	case 0:
		return big[rnd(t) % ARRAY_SIZE(big)];
	case 1:
		return 1 + rnd(t) % AIODEV_MAX_IO_BYTES;
	case 2: case 3: case 4: case 5: case 6: case 7: case 8:
		return v[rnd(t) % ARRAY_SIZE(v)];
	default:
		return 1 + rnd(t) % 8192;
	}
}

static __u64 pick_off(struct th *t, __u64 size, __u64 len)
{
	switch (rnd(t) % 10) {
	case 0: return 0;
	case 1: return size;
	case 2: return size - 1;
	case 3: return size + 1;
	case 4: return size > len ? size - len : 0;
	case 5: return ~0ULL - (len ? len - 2 : 0);	/* off + len wraps */
	case 6: return 1ULL << 63;
	case 7: return rnd(t);
	default: return rnd(t) % size;
	}
}

/*
 * Keep data out of the range other programs expect to stay zero: a write
 * moves at most AIODEV_MAX_IO_BYTES (longer ones are short or refused).
 */
static __u64 avoid_zero(__u64 off, __u64 len)
{
	if (len > AIODEV_MAX_IO_BYTES)
		len = AIODEV_MAX_IO_BYTES;
	if (off >= ZERO_REGION_OFF + ZERO_REGION_LEN ||
	    off + len <= ZERO_REGION_OFF || off + len < off)
		return off;
	return off % (ZERO_REGION_OFF - len);
}

/* An fd number that is none of ours (so never the console). */
static int junk_fd(struct th *t)
{
	switch (rnd(t) % 3) {
	case 0: return -1;
	case 1: return t->fz->efd;
	default: return 100000 + rnd(t) % 1000;
	}
}

static int pick_slot(struct fz *fz, bool b, int i, struct sref *r)
{
	r->slot = i;
	r->dev = i % NDEV;
	r->genp = b ? &fz->gen_b[i] : &fz->gen_a[i];
	r->gen = atomic_load(r->genp);
	r->fd = atomic_load(b ? &fz->slot_b[i] : &fz->slot_a[i]);
	return r->fd;
}

static int pick_fd_a(struct th *t, struct sref *r)
{
	return pick_slot(t->fz, false, rnd(t) % NSLOT_A, r);
}

static int pick_fd_b(struct th *t, struct sref *r)
{
	return pick_slot(t->fz, true, rnd(t) % NSLOT_B, r);
}

/* ---- the ioctls -------------------------------------------------------- */

static void fz_getter(struct th *t, int kind)
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

static void fz_submit(struct th *t)
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

static void fz_getevents(struct th *t)
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

static void fz_cancel(struct th *t)
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

static void fz_setconfig(struct th *t)
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

/* ---- rules and distributions ----------------------------------------- */

/* Our distribution names: "fz0".."fz18" and one of 15 characters. */
static void dist_name(int i, char *name)
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
static void check_listed(struct th *t, const struct aiodev_rule *got,
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

static void fz_rules(struct th *t)
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

/* A command number that is not one of the sixteen. */
static void fz_badcmd(struct th *t)
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

/* ---- plain I/O, lseek, poll ------------------------------------------- */

static void fz_rw(struct th *t)
{
	struct fz *fz = t->fz;
	struct sref sr;
	int fd = pick_fd_b(t, &sr), pk, kind, cnt, i;
	bool wr = chance(t, 40);
	struct win w;
	struct iovec *iov = (struct iovec *)t->arr;
	__u64 len = chance(t, 80) ? pick_len(t) : rnd(t);
	__s64 off = (__s64)pick_off(t, fz->size, len);
	__u64 buf = data_ptr(t, len, &pk);
	long ret;

	kind = wr ? F_WRITE : F_READ;
	if (wr) {
		/* Positional only, never at the shared file position. */
		if (off < 0 || chance(t, 50))
			off = rnd(t) % fz->size;
		off = avoid_zero(off, len);
	}
	win_begin(fz, &w, sr.dev);
	switch (wr ? 1 + rnd(t) % 4 : rnd(t) % 5) {
	case 0:
		if (lseek(fd, off, SEEK_SET) < 0)
			off = 0;
		ret = wr ? write(fd, (void *)(uintptr_t)buf, len) :
			      read(fd, (void *)(uintptr_t)buf, len);
		break;
	case 1:
		ret = wr ? pwrite(fd, (void *)(uintptr_t)buf, len, off) :
			      pread(fd, (void *)(uintptr_t)buf, len, off);
		break;
	default:
		cnt = 1 + rnd(t) % 4;
		if (chance(t, 20))
			cnt = rnd(t) % 3 == 0 ? 1025 : rnd(t) % 2 ? 0 : -1;
		for (i = 0; i < 4; i++) {
			__u64 l = len / 4;

			iov[i].iov_base = (void *)(uintptr_t)(buf + i * l);
			iov[i].iov_len = i == 3 ? len - 3 * l : l;
		}
		if (cnt > 4)	/* the rest of the array: zero-length */
			memset(iov + 4, 0, (cnt - 4) * sizeof(*iov));
		{
			static const int fl[] = { 0, RWF_NOWAIT, RWF_HIPRI,
						  RWF_DSYNC, RWF_SYNC,
						  RWF_APPEND, 0x40, 0x80000000 };
			int flags = chance(t, 60) ? 0 : fl[rnd(t) % 8];

			ret = wr ? pwritev2(fd, iov, cnt, off, flags) :
				      preadv2(fd, iov, cnt, off, flags);
		}
		break;
	}
	if (ret < 0)
		ret = -errno;
	win_end(fz, &w);
	note_win(t, kind, ret, len, &w);
	if (ret > (long)AIODEV_MAX_IO_BYTES) {
		t->violations++;
		report(fz, "a plain transfer returned %ld > 1 MiB", ret);
	}
	/* A SHORT rule moves less, never more. */
	if (ret > 0 && (__u64)ret > len) {
		t->violations++;
		report(fz, "a plain transfer of %llu bytes returned %ld",
		       (unsigned long long)len, ret);
	}
}

static void fz_lseek(struct th *t)
{
	struct sref sr;
	int fd = pick_fd_b(t, &sr), whence = chance(t, 90) ? rnd(t) % 5 : rnd(t);
	__s64 off = (__s64)pick_off(t, t->fz->size, 0);
	off_t ret;

	if (chance(t, 30))
		off = -(off & 0xffff);
	ret = lseek(fd, off, whence);
	note(t, F_LSEEK, ret < 0 ? -errno : 0, whence);
	if (ret > (off_t)t->fz->size) {
		t->violations++;
		report(t->fz, "lseek beyond the device: %lld", (long long)ret);
	}
}

static void fz_poll(struct th *t)
{
	struct pollfd p[2];
	struct sref sa, sb;
	int ret;

	p[0] = (struct pollfd){ .fd = pick_fd_a(t, &sa),
				.events = POLLIN | POLLOUT };
	p[1] = (struct pollfd){ .fd = pick_fd_b(t, &sb), .events = rnd(t) };
	ret = poll(p, 2, 0);
	note(t, F_POLL, ret < 0 ? -errno : 0, 0);
}

/* ---- kernel AIO --------------------------------------------------------- */

static long sys_io_submit(aio_context_t c, long n, struct iocb **p)
{
	long r = syscall(__NR_io_submit, c, n, p);

	return r < 0 ? -errno : r;
}

static long sys_io_getevents(aio_context_t c, long min, long max,
			     struct io_event *ev, struct timespec *ts)
{
	long r = syscall(__NR_io_getevents, c, min, max, ev, ts);

	return r < 0 ? -errno : r;
}

static long sys_io_cancel(aio_context_t c, struct iocb *cb,
			  struct io_event *ev)
{
	long r = syscall(__NR_io_cancel, c, cb, ev);

	return r < 0 ? -errno : r;
}

/* Reap what is ready and check every result. */
static void fz_ioreap(struct th *t, long min, __u64 tmo)
{
	struct io_event ev[64];
	struct timespec ts = { tmo / NSEC_PER_SEC, tmo % NSEC_PER_SEC };
	long ret, i;

	ret = note(t, F_IOGETEV, sys_io_getevents(t->actx, min, 64, ev, &ts), 0);
	for (i = 0; i < ret; i++) {
		__u64 off = ev[i].obj - (uintptr_t)t->cbs;
		__u64 k = off / sizeof(struct iocb);
		bool ours = k < NCB && !(off % sizeof(struct iocb));

		if ((long long)ev[i].res < 0)
			note_win(t, F_IOEVENT, (long long)ev[i].res, ev[i].obj,
				 ours ? &t->cbw[k] : NULL);
		if (ours)
			t->busy &= ~(1ULL << k);
	}
}

static int nbusy(struct th *t)
{
	return __builtin_popcountll(t->busy);
}

static void fz_iosubmit(struct th *t)
{
	static const __u16 ops[] = {
		IOCB_CMD_PREAD, IOCB_CMD_PWRITE, IOCB_CMD_PREADV,
		IOCB_CMD_PWRITEV, IOCB_CMD_POLL, IOCB_CMD_FSYNC,
		IOCB_CMD_FDSYNC, IOCB_CMD_NOOP, 9, 0xffff,
	};
	static const int rwf[] = { 0, RWF_NOWAIT, RWF_HIPRI, RWF_DSYNC,
				   RWF_SYNC, RWF_APPEND, 0x40, 0x80000000 };
	struct fz *fz = t->fz;
	struct iocb **pp = (struct iocb **)(t->arr + PAGE_SZ);
	struct iovec *iov = (struct iovec *)t->arr;
	int n = 1 + rnd(t) % 8, i, pk, idx[8], dev[8];
	__u64 free;
	struct win w[NDEV];
	struct sref sr;
	long ret;

	if (nbusy(t) + n > 48) {
		fz_ioreap(t, 0, 0);
		if (nbusy(t) + n > 48) {
			/* Polls that never fire: cancel everything, start over. */
			syscall(__NR_io_destroy, t->actx);
			t->actx = 0;
			t->busy = 0;
			if (syscall(__NR_io_setup, 64, &t->actx))
				return;
		}
	}
	/* Iocbs not in flight: an event finds its submission's window. */
	free = ~t->busy;
	for (i = 0; i < n; i++) {
		struct iocb *cb;
		__u64 len = chance(t, 80) ? rnd(t) % 16384 : pick_len(t);

		idx[i] = __builtin_ctzll(free);
		free &= free - 1;
		cb = &t->cbs[idx[i]];
		memset(cb, 0, sizeof(*cb));
		cb->aio_data = rnd(t);
		cb->aio_lio_opcode = chance(t, 80) ? ops[rnd(t) % 4] :
				     ops[rnd(t) % ARRAY_SIZE(ops)];
		if (chance(t, 80)) {
			cb->aio_fildes = pick_fd_b(t, &sr);
			dev[i] = sr.dev;
		} else if (chance(t, 50)) {
			cb->aio_fildes = pick_fd_a(t, &sr);
			dev[i] = sr.dev;
		} else {
			cb->aio_fildes = junk_fd(t);
			dev[i] = -1;
		}
		cb->aio_buf = data_ptr(t, len, &pk);
		cb->aio_nbytes = len;
		cb->aio_offset = pick_off(t, fz->size, len);
		if (cb->aio_lio_opcode == IOCB_CMD_PWRITE ||
		    cb->aio_lio_opcode == IOCB_CMD_PWRITEV)
			cb->aio_offset = avoid_zero(cb->aio_offset % fz->size,
						    len);
		if (cb->aio_lio_opcode == IOCB_CMD_PREADV ||
		    cb->aio_lio_opcode == IOCB_CMD_PWRITEV) {
			iov[i] = (struct iovec){ (void *)(uintptr_t)cb->aio_buf,
						 len };
			cb->aio_buf = (__u64)(uintptr_t)&iov[i];
			cb->aio_nbytes = chance(t, 90) ? 1 : pick_u32(t, 1024);
			if (cb->aio_nbytes > 1)
				cb->aio_buf = (__u64)(uintptr_t)(t->arr +
						ARG_BYTES - 16);
		}
		if (cb->aio_lio_opcode == IOCB_CMD_POLL) {
			cb->aio_buf = chance(t, 80) ? POLLOUT : rnd(t);
			cb->aio_nbytes = chance(t, 80) ? 0 : rnd(t);
			cb->aio_offset = chance(t, 80) ? 0 : rnd(t);
		}
		if (chance(t, 20))
			cb->aio_rw_flags = rwf[rnd(t) % ARRAY_SIZE(rwf)];
		if (chance(t, 5)) {
			cb->aio_flags = IOCB_FLAG_RESFD;
			cb->aio_resfd = junk_fd(t);
		}
		if (chance(t, 5))
			cb->aio_flags |= IOCB_FLAG_IOPRIO;
		if (chance(t, 5))
			cb->aio_reqprio = rnd(t);
		if (chance(t, 3))
			cb->aio_reserved2 = rnd(t);
		pp[i] = cb;
	}
	for (i = 0; i < NDEV; i++)
		win_begin(fz, &w[i], i);
	switch (rnd(t) % 20) {
	case 0:
		ret = sys_io_submit(rnd(t) % 2 ? 0 : rnd(t), n, pp);
		break;
	case 1:
		ret = sys_io_submit(t->actx, chance(t, 50) ? -1 : 0, pp);
		break;
	case 2:
		ret = sys_io_submit(t->actx, n,
				    (struct iocb **)(uintptr_t)kernel_ptrs[0]);
		break;
	case 3:
		pp[rnd(t) % n] = (struct iocb *)(uintptr_t)
				 noncanon_ptrs[rnd(t) % 4];
		ret = sys_io_submit(t->actx, n, pp);
		break;
	default:
		ret = sys_io_submit(t->actx, n, pp);
		break;
	}
	for (i = 0; i < NDEV; i++)
		win_end(fz, &w[i]);
	note(t, F_IOSUBMIT, ret, n);
	/* The first @ret are in flight; a device took its configuration then. */
	for (i = 0; i < ret && i < n; i++) {
		t->busy |= 1ULL << idx[i];
		t->cbw[idx[i]] = dev[i] < 0 ? (struct win){ .dev = -1 } :
						w[dev[i]];
	}
	if (ret > n) {
		t->violations++;
		report(fz, "io_submit of %d returned %ld", n, ret);
	}
	if (chance(t, 30)) {
		struct io_event e;
		long r = sys_io_cancel(chance(t, 90) ? t->actx : 0,
				       &t->cbs[rnd(t) % NCB], &e);

		note(t, F_IOCANCEL, r, 0);
		if (r >= 0) {
			t->violations++;
			report(fz, "io_cancel returned %ld", r);
		}
	}
	fz_ioreap(t, 0, chance(t, 10) ? 100000 : 0);
}

/* ---- threads ------------------------------------------------------------ */

static void *fuzz_main(void *arg)
{
	struct th *t = arg;
	struct fz *fz = t->fz;

	if (syscall(__NR_io_setup, 64, &t->actx)) {
		report(fz, "io_setup: %s", strerror(errno));
		t->violations++;
		return NULL;
	}
	while (!atomic_load(&fz->stop)) {
		int p = rnd(t) % 100;

		if (p < 88) {
			switch (rnd(t) % 14) {
			case 0: fz_getter(t, F_INFO); break;
			case 1: case 2: case 3: fz_submit(t); break;
			case 4: case 5: fz_getevents(t); break;
			case 6: fz_cancel(t); break;
			case 7: fz_getter(t, F_GETCFG); break;
			case 8: fz_setconfig(t); break;
			case 9: fz_getter(t, F_STATS); break;
			case 10: case 11: fz_rules(t); break;
			default: fz_badcmd(t); break;
			}
		} else if (p < 91) {
			/* Few: each sleeps for the device's latency. */
			fz_rw(t);
		} else if (p < 93) {
			fz_lseek(t);
		} else if (p < 95) {
			fz_poll(t);
		} else {
			fz_iosubmit(t);
		}
	}
	/* Whatever is left: io_destroy cancels and waits. */
	fz_ioreap(t, 0, 0);
	syscall(__NR_io_destroy, t->actx);
	return NULL;
}

/* Only the closer writes a slot's generation: odd while it is closed. */
static void set_closed(atomic_uint *gen, bool closed)
{
	if ((atomic_load(gen) & 1) != closed)
		atomic_fetch_add(gen, 1);
}

static void open_slot(struct fz *fz, bool b, int i)
{
	int fd = aio_open(i % NDEV, slot_mode(b, i));

	if (fd < 0)
		report(fz, "open: %s", strerror(errno));
	set_closed(b ? &fz->gen_b[i] : &fz->gen_a[i], fd < 0);
	atomic_store(b ? &fz->slot_b[i] : &fz->slot_a[i], fd);
}

/* Replaces files under the fuzzers' feet, and their buffers. */
static void *closer_main(void *arg)
{
	struct fz *fz = arg;
	__u64 s = fz->seed ^ 0xc105e;

	while (!atomic_load(&fz->stop)) {
		__u64 r = rnd_next(&s);
		bool b = r % 2;
		int i = (r >> 8) % (b ? NSLOT_B : NSLOT_A);
		atomic_int *slot = b ? &fz->slot_b[i] : &fz->slot_a[i];
		atomic_uint *gen = b ? &fz->gen_b[i] : &fz->gen_a[i];
		int fd = atomic_load(slot), nfd;

		switch ((r >> 16) % 10) {
		case 0: case 1: case 2: case 3: case 4: case 5: {
			/* dup2 over it: the number never dangles. */
			nfd = aio_open(i % NDEV, slot_mode(b, i));
			if (nfd >= 0) {
				if (dup2(nfd, fd) < 0)
					report(fz, "dup2: %s", strerror(errno));
				else
					set_closed(gen, false);
				close(nfd);
				atomic_fetch_add(&fz->replaces, 1);
			}
			break;
		}
		case 6: case 7: case 8:
			/* Closed for a moment: calls on it get EBADF. */
			set_closed(gen, true);
			close(fd);
			sleep_ns(rnd_next(&s) % 200000);
			nfd = open(i % NDEV ? "/dev/aiodev1" : "/dev/aiodev0",
				   slot_mode(b, i) | O_CLOEXEC);
			if (nfd >= 0 && nfd != fd) {
				if (dup2(nfd, fd) < 0)
					fd = -1;
				close(nfd);
			}
			/* Else it stays closed, -EBADF and all. */
			if (nfd >= 0 && fd >= 0)
				set_closed(gen, false);
			else
				report(fz, "reopen: %s", strerror(errno));
			atomic_fetch_add(&fz->closes, 1);
			break;
		default: {
			/* The victim buffers go away under requests in flight. */
			__u64 off = (rnd_next(&s) % (VICTIM_BYTES / PAGE_SZ - 16)) *
				    PAGE_SZ;
			void *p = fz->victim + off;

			munmap(p, 16 * PAGE_SZ);
			sleep_ns(rnd_next(&s) % 100000);
			if (mmap(p, 16 * PAGE_SZ, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
				report(fz, "remap: %s", strerror(errno));
			atomic_fetch_add(&fz->remaps, 1);
			break;
		}
		}
		sleep_ns(rnd_next(&s) % 500000);
	}
	return NULL;
}

/* ---- the test ------------------------------------------------------------ */

static void *map_guarded(size_t bytes)
{
	unsigned char *p = mmap(NULL, bytes + PAGE_SZ, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + bytes, PAGE_SZ, PROT_NONE))
		return NULL;
	return p;
}

/* Round trips on a fresh file of each device: it still works. */
static int roundtrip(struct __test_metadata *_metadata, int dev)
{
	const __u64 off = 3ULL << 20;
	unsigned char *w = kaio_buf(65536, 0), *r = kaio_buf(65536, 0);
	struct aiodev_req q;
	struct aiodev_event ev;
	int fd = aio_open(dev, O_RDWR);

	if (fd < 0 || !w || !r)
		return -1;
	EXPECT_EQ(0, aio_reset_config(fd));
	fill_pattern(w, 65536, 0xf022 + dev);
	req_init(&q, AIODEV_OP_WRITE, w, off, 65536, 1);
	EXPECT_EQ(65536LL, aio_sync(fd, &q, &ev));
	req_init(&q, AIODEV_OP_READ, r, off, 65536, 2);
	EXPECT_EQ(65536LL, aio_sync(fd, &q, &ev));
	EXPECT_EQ(0, memcmp(w, r, 65536));
	memset(r, 0, 65536);
	EXPECT_EQ(65536, kaio_pread(fd, r, 65536, off));
	EXPECT_EQ(0, memcmp(w, r, 65536));
	EXPECT_EQ(65536, kaio_pwrite(fd, r, 65536, off + 65536));
	req_nop(&q, 3);
	req_latency(&q, MSEC(1));
	req_timeout(&q, MSEC(1));
	EXPECT_EQ(-ETIMEDOUT, aio_sync(fd, &q, NULL));
	/* The range other programs rely on still reads as zeros. */
	EXPECT_EQ(0, kaio_pread_all(fd, w, 65536, ZERO_REGION_OFF));
	EXPECT_EQ(-1L, find_not(w, 65536, 0));
	EXPECT_EQ(0, kaio_pread_all(fd, w, 65536,
				    ZERO_REGION_OFF + ZERO_REGION_LEN - 65536));
	EXPECT_EQ(-1L, find_not(w, 65536, 0));
	close(fd);
	kaio_buf_free(w, 65536);
	kaio_buf_free(r, 65536);
	return 0;
}

/*
 * How many of our distributions fit beside the ones the device holds:
 * none of ours held afterwards, or -1.
 */
static int dist_room(int fd)
{
	struct aiodev_dist_bucket b = { 0, 1000, 1 };
	struct aiodev_dist d = { .buckets = (__u64)(uintptr_t)&b };
	int i, n, ret;

	for (i = 0; i < NDIST; i++) {
		dist_name(i, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);	/* nr 0 */
		if (ret && ret != -ENOENT)
			return -1;
	}
	d.nr_buckets = 1;
	for (n = 0; n < NDIST; n++) {
		dist_name(n, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
		if (ret == -ENOSPC)
			break;
		if (ret)
			return -1;
	}
	d.nr_buckets = 0;
	for (i = 0; i < n; i++) {
		dist_name(i, d.name);
		if (aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d))
			return -1;
	}
	return n;
}

/*
 * After the run: RULE_LIST must hold exactly the shadow's rules; then none
 * of the fuzzers' rules and distributions stay behind. Returns the
 * mismatches.
 */
static int rules_at_rest(struct th *t, int fd, int dev)
{
	struct dev_hist *h = &t->fz->hist[dev];
	struct aiodev_rule_list l = { .rules = (__u64)(uintptr_t)t->rl,
				      .nr = AIODEV_MAX_RULES };
	__u64 before = t->violations;
	struct aiodev_dist d = { 0 };
	int i, ret, bad = 0;

	ret = aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l);
	if (ret != h->nrules) {
		report(t->fz, "aiodev%d at rest: RULE_LIST returned %d, the fuzzers left %d rules",
		       dev, ret, h->nrules);
		bad++;
	}
	for (i = 0; i < ret && i < h->nrules; i++)
		check_listed(t, &t->rl[i], &h->rules[i].r, i);
	if (aio_ioctl(fd, AIODEV_IOC_RULE_CLEAR, NULL) ||
	    aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l) != 0) {
		report(t->fz, "aiodev%d: RULE_CLEAR left rules", dev);
		bad++;
	}
	for (i = 0; i < NDIST; i++) {
		dist_name(i, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
		if (ret != (h->dists >> i & 1 ? 0 : -ENOENT)) {
			report(t->fz, "aiodev%d at rest: deleting %s: %d, expected %d",
			       dev, d.name, ret, h->dists >> i & 1 ? 0 : -ENOENT);
			bad++;
		}
	}
	return bad + (int)(t->violations - before);
}

FIXTURE(fz) {
	struct fz *fz;
	int fd[NDEV];
};

FIXTURE_SETUP(fz)
{
	struct aiodev_info info;
	int d;

	for (d = 0; d < NDEV; d++)
		self->fd[d] = fixture_open(_metadata, d, NULL);
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->fz = calloc(1, sizeof(*self->fz));
	ASSERT_NE(NULL, self->fz);
	self->fz->depth = info.queue_depth;
	self->fz->size = info.size_bytes;
}

FIXTURE_TEARDOWN(fz)
{
	int d;

	for (d = 0; d < NDEV; d++)
		fixture_close(_metadata, self->fd[d]);
}

TEST_F_TIMEOUT(fz, million_calls, 290)
{
	struct fz *fz = self->fz;
	const char *s = getenv("AIODEV_FUZZ_CALLS");
	__u64 calls = 0, other = 0, viol = 0, kinds_seen = 0, t0, secs_ms;
	__u64 rule_results = 0;
	struct aiodev_counters e[NDEV];
	struct aiodev_config cfg;
	struct aiodev_stats st;
	pthread_t closer;
	char line[1024], acct[512];
	int i, k, n, d, a;

	fz->target = s ? strtoull(s, NULL, 0) : 1000000;
	s = getenv("AIODEV_FUZZ_THREADS");
	fz->nthreads = s ? atoi(s) : 6;
	if (fz->nthreads < 1 || fz->nthreads > 32)
		fz->nthreads = 6;
	s = getenv("AIODEV_FUZZ_SEED");
	fz->seed = s ? strtoull(s, NULL, 0) : kaio_seed();
	TH_LOG("seed %llu (AIODEV_FUZZ_SEED), %llu calls, %d threads",
	       (unsigned long long)fz->seed, (unsigned long long)fz->target,
	       fz->nthreads);
	for (k = 0; k < NFK; k++)
		for (i = 0; allow_list[k][i]; i++)
			fz->allow[k][allow_list[k][i]] = true;
	for (d = 0; d < NDEV; d++) {
		ASSERT_EQ(0, aio_get_config(self->fd[d], &cfg));
		hist_init(fz, d, &cfg);
		fz->hist[d].dist_cap = dist_room(self->fd[d]);
		ASSERT_LE(0, fz->hist[d].dist_cap);
	}

	fz->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, fz->efd);
	fz->guard = mmap(NULL, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, fz->guard);
	fz->ro = map_guarded(ARG_BYTES);
	ASSERT_NE(NULL, fz->ro);
	ASSERT_EQ(0, mprotect(fz->ro, ARG_BYTES, PROT_READ));
	fz->victim = map_guarded(VICTIM_BYTES);
	ASSERT_NE(NULL, fz->victim);
	for (i = 0; i < NSLOT_A; i++)
		open_slot(fz, false, i);
	for (i = 0; i < NSLOT_B; i++)
		open_slot(fz, true, i);
	fz->th = calloc(fz->nthreads, sizeof(*fz->th));
	ASSERT_NE(NULL, fz->th);

	t0 = now_ns();
	for (i = 0; i < fz->nthreads; i++) {
		struct th *t = &fz->th[i];

		t->fz = fz;
		t->idx = i;
		t->rng = (fz->seed ^ (0x9e3779b97f4a7c15ULL * (i + 1))) | 1;
		t->arg = map_guarded(PAGE_SZ);
		t->arr = map_guarded(ARG_BYTES);
		ASSERT_NE(NULL, t->arg);
		ASSERT_NE(NULL, t->arr);
		ASSERT_EQ(0, pthread_create(&t->thread, NULL, fuzz_main, t));
	}
	ASSERT_EQ(0, pthread_create(&closer, NULL, closer_main, fz));
	for (i = 0; i < fz->nthreads; i++)
		pthread_join(fz->th[i].thread, NULL);
	atomic_store(&fz->stop, 1);
	pthread_join(closer, NULL);
	secs_ms = (now_ns() - t0) / NSEC_PER_MSEC;
	for (i = 0; i < NSLOT_A; i++)
		close(atomic_load(&fz->slot_a[i]));
	for (i = 0; i < NSLOT_B; i++)
		close(atomic_load(&fz->slot_b[i]));

	/* Totals, and every errno seen per call. */
	for (k = 0; k < NFK; k++) {
		__u64 per[ERRMAX + 1] = { 0 };

		for (i = 0; i < fz->nthreads; i++)
			for (n = 0; n <= ERRMAX; n++)
				per[n] += fz->th[i].count[k][n];
		line[0] = 0;
		for (n = 1, d = 0; n <= ERRMAX; n++) {
			if (!per[n])
				continue;
			d += snprintf(line + d, sizeof(line) - d > 0 ?
				      sizeof(line) - d : 0, " %s:%llu",
				      n == ERRMAX ? ">=600" : strerrorname_np(n) ?: "?",
				      (unsigned long long)per[n]);
			kinds_seen++;
		}
		if (line[0])
			printf("# fuzz: %-12s%s\n", fk_name[k], line);
	}
	for (i = 0; i < fz->nthreads; i++) {
		calls += fz->th[i].calls;
		other += fz->th[i].other;
		viol += fz->th[i].violations;
		rule_results += fz->th[i].rule_results;
	}
	/* The rules and distributions the fuzzers left: as they think. */
	for (d = 0; d < NDEV; d++)
		viol += rules_at_rest(&fz->th[0], self->fd[d], d);
	printf("# fuzz: rules added %llu, deleted %llu, loaded %llu times (%llu rules), cleared %llu; RULE_LISTs %llu (%llu compared whole); distributions defined %llu, deleted %llu; results with a rule's errno %llu\n",
	       (unsigned long long)atomic_load(&fz->r_added),
	       (unsigned long long)atomic_load(&fz->r_deleted),
	       (unsigned long long)atomic_load(&fz->r_loads),
	       (unsigned long long)atomic_load(&fz->r_loaded),
	       (unsigned long long)atomic_load(&fz->r_clears),
	       (unsigned long long)atomic_load(&fz->r_lists),
	       (unsigned long long)atomic_load(&fz->r_full),
	       (unsigned long long)atomic_load(&fz->d_set),
	       (unsigned long long)atomic_load(&fz->d_deleted),
	       (unsigned long long)rule_results);

	/* The devices at rest: nothing in flight, counters add up. */
	for (d = 0, a = 0; d < NDEV; d++) {
		bool idle = !kaio_wait_dev_idle(self->fd[d], 0,
						30 * NSEC_PER_SEC, &e[d]);
		bool stats = !aio_get_stats(self->fd[d], &st);
		__u64 sum = counters_sum(&e[d]);

		EXPECT_TRUE(stats);
		EXPECT_TRUE(idle)
			TH_LOG("aiodev%d: in_flight stuck at %llu", d,
			       e[d].in_flight);
		EXPECT_EQ(e[d].submitted, sum);
		/* What the figure line says instead of "all accounted". */
		if (!stats)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: GET_STATS failed",
				      a ? ", " : "", d);
		if (stats && !idle)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: %llu still in flight",
				      a ? ", " : "", d, e[d].in_flight);
		if (stats && e[d].submitted != sum)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: %llu submitted, %llu accounted",
				      a ? ", " : "", d, e[d].submitted, sum);
	}
	if (!a)
		snprintf(acct, sizeof(acct), "all accounted, none in flight");
	printf("# fuzz: %llu ioctl calls + %llu other calls in %llu.%03llu s by %d threads (%llu calls/s); %llu (call, errno) pairs seen, %llu undocumented or unexpected; files replaced %llu, closed %llu, buffers remapped %llu; devices: %llu and %llu requests, %s\n",
	       (unsigned long long)calls, (unsigned long long)other,
	       (unsigned long long)secs_ms / 1000,
	       (unsigned long long)secs_ms % 1000, fz->nthreads,
	       (unsigned long long)(secs_ms ? (calls + other) * 1000 / secs_ms : 0),
	       (unsigned long long)kinds_seen, (unsigned long long)viol,
	       (unsigned long long)atomic_load(&fz->replaces),
	       (unsigned long long)atomic_load(&fz->closes),
	       (unsigned long long)atomic_load(&fz->remaps),
	       (unsigned long long)e[0].submitted,
	       (unsigned long long)e[1].submitted, acct);
	fflush(stdout);
	EXPECT_EQ(0ULL, viol);
	EXPECT_LE(fz->target, calls);
	/* Enough calls to have changed rules each way. */
	if (fz->target >= 20000) {
		EXPECT_LT(0ULL, atomic_load(&fz->r_added));
		EXPECT_LT(0ULL, atomic_load(&fz->r_deleted));
		EXPECT_LT(0ULL, atomic_load(&fz->r_loaded));
		EXPECT_LT(0ULL, atomic_load(&fz->r_full));
		EXPECT_LT(0ULL, atomic_load(&fz->d_set));
	}
	for (d = 0; d < NDEV; d++)
		EXPECT_EQ(0, roundtrip(_metadata, d));
	close(fz->efd);
}

TEST_HARNESS_MAIN
