/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the aiodev fuzzer share: the call kinds and where
 * arguments live, the devices' histories and shadows, the fuzzer threads'
 * state, and each part's functions. main.c describes the whole run.
 */
#ifndef AIODEV_FUZZ_H
#define AIODEV_FUZZ_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

#include "../kaio_util.h"

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
extern const char *const fk_name[NFK];
#define IS_IOCTL(k)	((k) <= F_BADCMD)

/* Documented errnos per call (results.c). */
extern const int allow_list[NFK][16];

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
extern const int rule_errno[];
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

static inline int slot_mode(bool b, int i)
{
	static const int m[] = { O_RDWR, O_RDWR, O_RDONLY, O_WRONLY };

	return m[i % 4] | (b ? 0 : O_NONBLOCK);
}

static inline __u64 rnd(struct th *t)
{
	return rnd_next(&t->rng);
}

static inline bool chance(struct th *t, int pct)
{
	return (int)(rnd(t) % 100) < pct;
}

/* results.c: each call's outcome against the documentation */
void report(struct fz *fz, const char *fmt, ...);
long note_win(struct th *t, int kind, long ret, unsigned long what,
	      const struct win *w);
long note(struct th *t, int kind, long ret, unsigned long what);
bool closed_under(const struct sref *r);
void expect(struct th *t, int kind, long ret, long want,
	    unsigned long what, int pk, const struct sref *r);
long do_ioctl(int fd, unsigned long cmd, void *arg);

/* hist.c: the devices' configurations and rules */
void hist_settle(struct dev_hist *h, __u64 s, bool applied);
void cfg_errs(const struct aiodev_config *c, int e[2]);
int shadow_rmask(const struct dev_hist *h);
void hist_init(struct fz *fz, int dev, const struct aiodev_config *c);
__u64 hist_begin(struct dev_hist *h, const int e[2], int rmask);
void win_begin(struct fz *fz, struct win *w, int dev);
void win_end(struct fz *fz, struct win *w);
int rule_bit(int e);
bool fault_ok(struct fz *fz, const struct win *w, int e, int kind);

/* args.c: where arguments go, and the values of their fields */
extern const __u64 kernel_ptrs[], noncanon_ptrs[];
void *place(struct th *t, int pk, size_t size, unsigned char *area,
	    size_t area_bytes);
int pick_pk(struct th *t);
__u64 data_ptr(struct th *t, __u64 len, int *pk);
__u32 pick_u32(struct th *t, __u32 depth);
__u64 pick_nsec(struct th *t);
__u32 pick_len(struct th *t);
__u64 pick_off(struct th *t, __u64 size, __u64 len);
__u64 avoid_zero(__u64 off, __u64 len);
int junk_fd(struct th *t);
int pick_fd_a(struct th *t, struct sref *r);
int pick_fd_b(struct th *t, struct sref *r);

/* The calls: ioctl.c, rules.c, rw.c, aio.c */
void fz_getter(struct th *t, int kind);
void fz_submit(struct th *t);
void fz_getevents(struct th *t);
void fz_cancel(struct th *t);
void fz_setconfig(struct th *t);
void fz_badcmd(struct th *t);
void dist_name(int i, char *name);
void check_listed(struct th *t, const struct aiodev_rule *got,
		  const struct aiodev_rule *want, int i);
void fz_rules(struct th *t);
void fz_rw(struct th *t);
void fz_lseek(struct th *t);
void fz_poll(struct th *t);
void fz_ioreap(struct th *t, long min, __u64 tmo);
void fz_iosubmit(struct th *t);

/* threads.c */
void *fuzz_main(void *arg);
void open_slot(struct fz *fz, bool b, int i);
void *closer_main(void *arg);

#endif /* AIODEV_FUZZ_H */
