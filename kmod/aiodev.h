/* SPDX-License-Identifier: GPL-2.0 */
/*
 * aiodev internal definitions, shared by the files of the module.
 */
#ifndef _AIODEV_H
#define _AIODEV_H

#include <linux/atomic.h>
#include <linux/bvec.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/interrupt.h>
#include <linux/llist.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/prandom.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <linux/aiodev.h>

#define AIODEV_MAX_DEVICES	16
#define AIODEV_MAX_QUEUE_DEPTH	65536
#define AIODEV_MAX_SIZE_MB	(64 * 1024)
#define AIODEV_MAX_REQUESTS	(16 * 1024 * 1024)

/* Load-time parameters (main.c). */
extern unsigned int aiodev_queue_depth;
extern unsigned int aiodev_max_requests;
extern unsigned long aiodev_max_pinned_pages;

/* RAM-backed store, sparse: pages appear when first written (store.c). */
struct aiodev_store {
	struct xarray pages;
	u64 size;
};

void aiodev_store_init(struct aiodev_store *store, u64 size);
void aiodev_store_destroy(struct aiodev_store *store);
int aiodev_store_prepare_write(struct aiodev_store *store, u64 pos, u32 len,
			       gfp_t gfp);
void aiodev_store_read(struct aiodev_store *store, u64 pos, struct iov_iter *to);
void aiodev_store_write(struct aiodev_store *store, u64 pos,
			struct iov_iter *from);

/* Device counters; in_flight = submitted - the four outcomes. */
struct aiodev_dev_stats {
	atomic64_t submitted;
	atomic64_t completed_ok;
	atomic64_t timed_out;
	atomic64_t cancelled;
	atomic64_t failed;
	atomic64_t in_flight;
	atomic64_t peak_in_flight;
};

/* How a request that is not cancelled ends, for the counters. */
enum aiodev_req_outcome {
	AIODEV_OUTCOME_OK,
	AIODEV_OUTCOME_TIMEOUT,
	AIODEV_OUTCOME_FAULT,
};

/* What the fate of a request is decided on (fate.c). */
struct aiodev_fate_query {
	u8 op;			/* enum aiodev_op */
	u8 path;		/* enum aiodev_path */
	bool has_latency;	/* AIODEV_REQ_LATENCY */
	bool has_timeout;	/* AIODEV_REQ_TIMEOUT */
	u32 len;
	u64 offset;
	u64 latency_nsec;
	u64 timeout_nsec;
};

/* How a request ends if nobody cancels it. */
struct aiodev_fate {
	u64 fire_ns;		/* from submission to its timer */
	u32 data_len;		/* bytes its completion moves */
	int error;		/* the errno it reports, or 0: the bytes moved */
	u8 outcome;		/* enum aiodev_req_outcome */
	bool hold;		/* parked until released; fire_ns: safety */
	u32 rule_id;		/* the rule that decided it, or 0 */
};

/* A rule as a device holds it. */
struct aiodev_rule_entry {
	struct aiodev_rule rule;	/* as added, with its counters */
	struct pid *pid;		/* the tgid condition, or NULL */
	int dist;			/* AIODEV_LATENCY_DIST: its index */
	/* The range and length conditions, ready to compare. */
	u64 range_lo, range_hi;
	u32 min_len, len_span;
};

/* Lengths by fls(): 0, 1, 2-3, ..., up to AIODEV_MAX_IO_BYTES. */
#define AIODEV_LEN_CLASSES	22
/* The device's bytes in this many equal slices. */
#define AIODEV_SLICES		64

/*
 * Which rules may match a request, as bit masks over the rule list, from
 * its op and path, its length class, the slices of the device it touches
 * and its process. A submission then visits only the rules in all four:
 * rules that cannot match cost a few mask operations, however many.
 */
struct aiodev_rule_index {
	u64 by_op_path[3][3];		/* [enum aiodev_op][enum aiodev_path] */
	u64 by_len[AIODEV_LEN_CLASSES];
	u64 by_slice[AIODEV_SLICES];
	u64 any_pid;			/* rules without a process condition */
	unsigned int nr_pids;
	struct {
		struct pid *pid;
		u64 rules;
	} pids[AIODEV_MAX_RULES];	/* the others, by process */
};

struct aiodev_dist_table;

/* What decides a device's requests' fates (fate.c). */
struct aiodev_fates {
	/* Covers all below: submissions draw and count in one order. */
	spinlock_t lock;
	/* Lets submissions read config and nr_rules without @lock. */
	seqcount_spinlock_t seq;
	struct aiodev_config config;
	/* Requests counted by the every-Nth fault since SET_CONFIG. */
	u64 nth_seq;
	struct rnd_state rnd;
	u32 next_rule_id;
	unsigned int nr_rules;
	struct aiodev_rule_entry *rules;	/* AIODEV_MAX_RULES of them */
	struct aiodev_rule_index index;
	struct aiodev_dist_table *dists[AIODEV_MAX_DISTS];
};

struct aiodev_device {
	struct miscdevice misc;
	char name[sizeof("aiodev4294967295")];
	unsigned int index;
	struct aiodev_store store;

	/* Serialises writers of the configuration, rules, distributions. */
	struct mutex config_mutex;
	struct aiodev_fates fates;

	struct aiodev_dev_stats stats;
	/* Completions by submit-to-completion time: [2^i, 2^(i+1)) ns. */
	atomic64_t latency_hist[64];

	/* Requests whose timer fired or that were cancelled, for the tasklet. */
	struct llist_head done_list;
	/* Taken off done_list, in firing order, left for the next run. */
	struct llist_node *done_backlog;
	struct tasklet_struct done_tasklet;
	/* The longest tasklet run: its time and the data it copied. */
	u64 tasklet_max_ns;
	u64 tasklet_max_bytes;

	/* Completed reads whose pages must be dirtied where sleeping is ok. */
	struct llist_head unpin_list;
	struct work_struct unpin_work;

	/* Held requests by hold id (struct aiodev_hold), of every file. */
	struct xarray held;
	u32 held_next;
	atomic_t nr_holds;		/* entries: at most AIODEV_MAX_HELD */
	atomic_t nr_held;		/* in the HELD state */
	wait_queue_head_t held_wq;	/* HELD_WAIT and EPOLLPRI */
};

/* Per open file: its requests, completion ring and wait queues. */
struct aiodev_context {
	struct aiodev_device *dev;
	bool can_read;
	bool can_write;

	/* Live requests by the low half of their id, for CANCEL and close. */
	struct xarray reqs;
	atomic_t id_seq;

	/* Protects everything below. Never taken in hard-irq context. */
	spinlock_t lock;
	/*
	 * Slots bound the requests of a file: an ioctl request holds one
	 * until its event is reaped, a read/write/AIO one until it completes.
	 */
	u32 depth;
	u32 nr_outstanding;	/* slots in use */
	u32 nr_inflight;	/* accepted, completion not yet posted */
	u32 ring_head;		/* oldest unreaped event */
	u32 nr_events;		/* events in the ring */
	struct aiodev_event *ring;
	struct aiodev_counters stats;
	bool closing;
	/*
	 * A rule refused a non-blocking read or write with -EAGAIN: the file
	 * polls ready until the retry (or a reap), as io_uring, which waits
	 * for readiness before retrying, needs.
	 */
	bool nowait_refused;

	wait_queue_head_t event_wq;	/* GETEVENTS and EPOLLIN */
	wait_queue_head_t slot_wq;	/* SUBMIT on a full context, EPOLLOUT */
	struct completion drained;	/* last in-flight request of a closing file */
	/* One reaper at a time: events are consumed only once copied out. */
	struct mutex reap_mutex;
};

/* engine.c */
int aiodev_engine_init(void);
void aiodev_engine_exit(void);
void aiodev_device_engine_init(struct aiodev_device *dev);
void aiodev_device_engine_exit(struct aiodev_device *dev);
struct aiodev_context *aiodev_context_create(struct aiodev_device *dev,
					     bool can_read, bool can_write);
void aiodev_context_destroy(struct aiodev_context *ctx);
long aiodev_submit(struct aiodev_context *ctx,
		   struct aiodev_req __user *ureqs, u32 nr, bool nonblock);
ssize_t aiodev_submit_kiocb(struct aiodev_context *ctx, struct kiocb *iocb,
			    struct iov_iter *iter, enum aiodev_op op);
long aiodev_getevents(struct aiodev_context *ctx,
		      struct aiodev_event __user *uevents,
		      u32 min_nr, u32 max_nr, s64 timeout_nsec);
int aiodev_cancel(struct aiodev_context *ctx, u64 id);
long aiodev_held_list(struct aiodev_device *dev,
		      struct aiodev_held __user *uheld, u32 nr);
long aiodev_held_wait(struct aiodev_device *dev, u32 min_nr,
		      s64 timeout_nsec);
long aiodev_release_held(struct aiodev_device *dev,
			 const struct aiodev_release *rel, u32 nr, bool all);
__poll_t aiodev_context_poll(struct aiodev_context *ctx);
void aiodev_context_stats(struct aiodev_context *ctx,
			  struct aiodev_counters *out);
void aiodev_device_stats(struct aiodev_device *dev,
			 struct aiodev_counters *out);

/* fate.c */
int aiodev_fate_decide(struct aiodev_device *dev,
		       const struct aiodev_fate_query *q, struct aiodev_fate *f);
int aiodev_config_check(struct aiodev_device *dev,
			const struct aiodev_config *cfg);
void aiodev_config_set(struct aiodev_device *dev,
		       const struct aiodev_config *cfg);
void aiodev_config_get(struct aiodev_device *dev, struct aiodev_config *cfg);
int aiodev_rule_add(struct aiodev_device *dev, struct aiodev_rule *r);
int aiodev_rule_load(struct aiodev_device *dev, const struct aiodev_rule *r,
		     unsigned int nr);
int aiodev_rule_del(struct aiodev_device *dev, u32 id);
void aiodev_rule_clear(struct aiodev_device *dev);
unsigned int aiodev_rule_list(struct aiodev_device *dev,
			      struct aiodev_rule *out, unsigned int max);
int aiodev_dist_set(struct aiodev_device *dev, const struct aiodev_dist *d);
void aiodev_fates_init(struct aiodev_fates *fs,
		       const struct aiodev_config *cfg);
void aiodev_fates_exit(struct aiodev_fates *fs);

/* sysfs.c */
extern const struct attribute_group *aiodev_attr_groups[];

/* debugfs.c */
void aiodev_debugfs_init(void);
void aiodev_debugfs_exit(void);
void aiodev_debugfs_add(struct aiodev_device *dev);

#endif /* _AIODEV_H */
