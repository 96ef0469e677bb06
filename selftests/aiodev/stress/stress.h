/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the aiodev stress test share: the run and its counters,
 * the workers and helper threads, the device layout, and each part's entry
 * points. main.c describes the whole run.
 */
#ifndef AIODEV_STRESS_H
#define AIODEV_STRESS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

#include "../kaio_util.h"

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
extern const char *const cat_name[NCAT];

enum role { R_IOCTL, R_LIBAIO, R_SYNC };
/* Rule operations of the rules thread that took effect, and checks. */
enum { RO_ADD, RO_DEL, RO_LOAD, RO_CLEAR, RO_LIST, RO_DSET, RO_DDEL,
       RO_EBADF, RO_N };
/* How the holder's requests ended, and what it did. */
enum { HW_RELEASED, HW_PARKED, HW_CANCEL_WON, HW_DEADLINE, HW_PLAIN,
       HW_CLOSED, HW_PHASES, HW_N };
enum kind { K_GETEVENTS, K_FULLSUBMIT, K_SYNCREAD, K_SYNCWRITE, K_EXIT, NKIND };

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

/* The configuration thread, the rules thread and the killer. */
struct helper {
	struct run *run;
	pthread_t thread;
	__u64 rng;
};

/*
 * Past the zero region: the rule worker's range, the holder's, and one
 * nobody touches (see rules.c and holder.c).
 */
#define PRIV_OFF	(60ULL << 20)
#define PRIV_LEN	(64U << 10)
#define HOLD_OFF	(61ULL << 20)
#define HOLD_LEN	(64U << 10)
#define NOMATCH_OFF	(62ULL << 20)
#define NOMATCH_LEN	(2U << 20)

/* The rule worker (rules.c): its longest read. */
#define RW_MAXLEN	16384U
struct rworker {
	struct run *run;
	pthread_t thread;
	__u64 rng;
	int fd[NDEV], ifd[NDEV];	/* read(2) and rule calls; SUBMIT */
	unsigned char *buf, *pat;
};

/* The holder (holder.c), and each of its requests. */
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

static inline __u64 rnd(struct worker *w)
{
	return rnd_next(&w->rng);
}

static inline bool stopping(struct run *run)
{
	return atomic_load(&run->stop) || now_ns() >= run->t_end;
}

/* main.c */
void st_fail(struct run *run, const char *fmt, ...);

/* blocks.c: blocks, patterns and buffers; shadows and the final check */
unsigned char *bufp(struct worker *w, int b);
int buf_get(struct worker *w);
void buf_put(struct worker *w, int b);
bool pick_blocks(struct worker *w, int dev, bool write, __u32 *blk,
		 __u8 *k, bool full_k);
void unpick(struct worker *w, int dev, bool write, __u32 blk, __u8 k);
void fill_write(struct worker *w, int dev, __u32 blk, __u8 k,
		__u32 gen, unsigned char *buf);
void write_done(struct worker *w, int dev, __u32 blk, __u8 k,
		__u32 gen, int how);
void verify_read(struct worker *w, int dev, __u32 blk, __u8 k,
		 __u32 roff, __u32 rlen, const unsigned char *buf,
		 const char *path);
void check_canary(struct worker *w, const unsigned char *buf,
		  __u32 rlen, const char *path, long long res);
int classify(long long res, long long want_ok, bool nop);
void count(struct run *run, int dev, int cat);
int close_locked(struct run *run, int fd);
struct aiodev_counters ctx_counters(struct run *run, int fd);
void shadow_alloc(struct worker *w);
__u64 final_verify(struct run *run, struct worker *w, int fd, int dev,
		   unsigned char *big);

/* The workers: ioctl.c, libaio.c, sync.c */
void ioctl_worker(struct worker *w);
void libaio_worker(struct worker *w);
void sync_worker(struct worker *w);

/* The other threads: config.c, rules.c, holder.c, killer.c */
void *config_main(void *arg);
void *rules_main(void *arg);
void *rworker_main(void *arg);
void *holder_main(void *arg);
void *killer_main(void *arg);

#endif /* AIODEV_STRESS_H */
