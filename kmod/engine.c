// SPDX-License-Identifier: GPL-2.0
/*
 * The request engine: one lifecycle for every request, whether it came from
 * AIODEV_IOC_SUBMIT, from kernel AIO (libaio, io_uring) or from a plain
 * read()/write().
 *
 *  submit (process context)                                       -> NEW
 *    validate, allocate from aiodev_req_cache, pin the buffer's pages as
 *    direct I/O does, give it an id in ctx->reqs, and decide its fate
 *    (fate.c): when it fires, what it moves, what it reports. A rule may
 *    refuse it instead: it is undone as if never submitted.
 *  arm, under the ctx->reqs lock                                  -> PENDING
 *    start its hrtimer at min(completion time, deadline); a request due
 *    at once (latency 0) goes straight to FIRED, without a timer. A request
 *    a rule holds goes to HELD instead, listed in dev->held, its timer at
 *    the rule's safety deadline if it has one.
 *
 *  PENDING --hrtimer fires (hard irq)-------------------------> FIRED
 *  PENDING --cancel: CANCEL ioctl, io_cancel(), a signal to a
 *            synchronous reader, or close------------------------> CANCELLED
 *  HELD    --AIODEV_IOC_RELEASE, with a result-----------------> FIRED
 *  HELD    --AIODEV_IOC_RELEASE, cancel; or any cancel above-----> CANCELLED
 *  HELD    --the safety deadline's hrtimer (-ETIMEDOUT)--------> FIRED
 *  HELD    --AIODEV_IOC_RELEASE, parked, with a result----------> PARKED
 *  PARKED  --a second release, or any cancel (which fails with
 *            -EALREADY: the completion is under way)-------------> FIRED
 *    All sides claim the request with one cmpxchg, so exactly one wins and
 *    the request completes exactly once. Cancellers claim under the
 *    ctx->reqs lock, which also covers arming, so hrtimer_try_to_cancel()
 *    is enough to keep a claimed request from firing. io_cancel() can find
 *    a kiocb before it is armed: NEW -> CANCELLED, and arming completes it.
 *    A release claims under the dev->held lock, which keeps the request
 *    alive: completion takes it out of dev->held before freeing it.
 *
 *  FIRED or CANCELLED: the winner pushes the request on the device's
 *    lock-free done_list and schedules the device's tasklet; nothing more
 *    happens in the timer callback or under a canceller's locks.
 *
 *  tasklet (softirq), the done_list in firing order, a bounded amount of
 *    data per run (the rest in the next run, bottom halves on in between):
 *    move the data its fate says (all, a part, none), then deliver the
 *    result: an event in the context's ring (ioctl), ki_complete() (AIO)
 *    or a completion the synchronous caller sleeps on. Unpin the pages and
 *    free the request. Pages of a read were dirtied at submission; if one
 *    was cleaned meanwhile, the release goes to a work item that may sleep
 *    to dirty it again, as bio_check_pages_dirty() does.
 *
 *  ioctl requests hold a slot of the context until GETEVENTS copies their
 *  event out. A closing file claims its pending requests like CANCEL, then
 *  waits on ctx->drained for the tasklet to finish the last of them; AIO
 *  and synchronous requests hold a file reference, so none is left then.
 */
#include <linux/aio.h>
#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "aiodev.h"
#include "compat.h"

#define CREATE_TRACE_POINTS
#include "aiodev_trace.h"

enum aiodev_req_state {
	AIODEV_STATE_NEW,
	AIODEV_STATE_PENDING,
	AIODEV_STATE_HELD,
	AIODEV_STATE_PARKED,
	AIODEV_STATE_FIRED,
	AIODEV_STATE_CANCELLED,
};

/* Who is told of the completion. */
enum aiodev_req_origin {
	AIODEV_ORIGIN_IOCTL,	/* an event in the context's ring */
	AIODEV_ORIGIN_AIO,	/* ki_complete() */
	AIODEV_ORIGIN_SYNC,	/* a caller sleeping in read_iter/write_iter */
};

/* A synchronous caller's wait, on its stack. */
struct aiodev_sync_wait {
	struct completion done;
	ssize_t result;
};

/* An unaligned 4 KiB buffer spans two pages. */
#define AIODEV_INLINE_BVECS	2

struct aiodev_request {
	struct hrtimer timer;
	/* On done_list, then possibly on unpin_list. */
	struct llist_node node;
	struct aiodev_context *ctx;
	atomic_t state;
	u8 op;
	u8 outcome;
	u8 origin;
	/* Pages are pinned (unpin_user_page), else referenced (put_page). */
	bool pages_pinned:1;
	/* A read into user memory: its pages must end up dirty. */
	bool dirty_pages:1;
	/* The errno its completion reports, or 0: the bytes moved. */
	int error;
	u32 len;
	/* Bytes its completion moves: len, fewer (short, torn) or none. */
	u32 data_len;
	u64 offset;
	u64 user_data;
	u64 id;
	u64 submit_ns;
	u64 expires_ns;		/* when the timer is due */
	union {
		struct eventfd_ctx *eventfd;	/* ORIGIN_IOCTL, may be NULL */
		struct kiocb *iocb;		/* ORIGIN_AIO */
		struct aiodev_sync_wait *sync;	/* ORIGIN_SYNC */
	};
	struct bio_vec *bvec;
	unsigned int nr_bvecs;
	/* Pages counted against aiodev_max_pinned_pages. */
	unsigned int nr_charged;
	/* Bytes moved so far: the tasklet may take several runs for one. */
	u32 moved;
	/* Its id in dev->held, or 0 if it was never to be held. */
	u32 hold_id;
	struct bio_vec inline_bvecs[AIODEV_INLINE_BVECS];
};

/* What the control interface knows of a held request, in dev->held. */
struct aiodev_hold {
	struct aiodev_request *req;
	struct pid *tgid;		/* who submitted it */
};

static struct kmem_cache *aiodev_req_cache;

/*
 * A request's id: a per-file sequence number in the upper half, its index
 * in ctx->reqs plus one in the lower half, so no id is ever 0. Indices
 * start at 0: while a file has a single request in flight, as a
 * synchronous read() always does, the xarray keeps it in its head and
 * allocates no node.
 */
#define AIODEV_INDEX_LIMIT	XA_LIMIT(0, U32_MAX - 1)

static u32 aiodev_index_to_id(u32 index)
{
	return index + 1;
}

static u32 aiodev_id_to_index(u64 id)
{
	return lower_32_bits(id) - 1;
}

/* Global bounds on what users can make the kernel hold (main.c sets them). */
static atomic_t aiodev_nr_requests = ATOMIC_INIT(0);
static atomic_long_t aiodev_pinned_pages = ATOMIC_LONG_INIT(0);

static bool aiodev_charge(atomic_long_t *counter, long nr, long max)
{
	if (atomic_long_add_return(nr, counter) <= max)
		return true;
	atomic_long_sub(nr, counter);
	return false;
}

static bool aiodev_req_reads(const struct aiodev_request *req)
{
	return req->op == AIODEV_OP_READ;
}

/* ---- pages ------------------------------------------------------------ */

/*
 * Take the iterator's pages, one bio_vec each. Page pointers are gathered
 * in the unused tail of the bio_vec array and converted in place, as
 * __bio_iov_iter_get_pages() does: bvec[i] only overwrites pages[j <= i].
 */
static int aiodev_get_pages(struct aiodev_request *req, struct iov_iter *iter,
			    gfp_t gfp)
{
	int nr = iov_iter_npages(iter, INT_MAX);
	struct bio_vec *bv = req->inline_bvecs;
	unsigned int filled = 0;
	int ret;

	if (!aiodev_charge(&aiodev_pinned_pages, nr, aiodev_max_pinned_pages))
		return -ENOMEM;
	req->nr_charged = nr;
	if (nr > ARRAY_SIZE(req->inline_bvecs)) {
		bv = kmalloc_array(nr, sizeof(*bv), gfp);
		if (!bv)
			return -ENOMEM;
	}
	req->bvec = bv;
	/* As direct I/O: kernel pages (fixed buffers, splice) stay as they are. */
	req->dirty_pages = aiodev_req_reads(req) && user_backed_iter(iter);
	BUILD_BUG_ON(sizeof(*bv) < sizeof(struct page *));

	while (iov_iter_count(iter) && filled < nr) {
		unsigned int left = nr - filled;
		struct page **pages = (struct page **)(bv + nr) - left;
		enum aiodev_page_ref ref;
		size_t offset;
		ssize_t got;
		unsigned int i;

		got = aiodev_iter_get_pages(iter, pages, iov_iter_count(iter),
					    left, &offset, &ref);
		if (got <= 0) {
			ret = got ?: -EFAULT;
			goto release;
		}
		req->pages_pinned = ref == AIODEV_PAGES_PINNED;
		for (i = 0; got; i++) {
			struct page *page = pages[i];
			size_t chunk = min_t(size_t, got, PAGE_SIZE - offset);

			/* Borrowed pages (bvec iterators) get a reference. */
			if (ref == AIODEV_PAGES_BORROWED)
				get_page(page);
			/*
			 * A read will store into the page from softirq, where
			 * the folio lock can't be taken: dirty it now, whatever
			 * the size of its folio.
			 */
			if (req->dirty_pages)
				set_page_dirty_lock(page);
			bvec_set_page(&bv[filled++], page, chunk, offset);
			got -= chunk;
			offset = 0;
		}
	}
	req->nr_bvecs = filled;
	if (iov_iter_count(iter)) {
		ret = -EFAULT;
		goto release;
	}
	return 0;

release:
	req->nr_bvecs = filled;
	return ret;
}

static void aiodev_put_pages(struct aiodev_request *req, bool dirty)
{
	unsigned int i;

	for (i = 0; i < req->nr_bvecs; i++) {
		struct page *page = req->bvec[i].bv_page;

		if (dirty)
			set_page_dirty_lock(page);
		if (req->pages_pinned)
			unpin_user_page(page);
		else
			put_page(page);
	}
	req->nr_bvecs = 0;
}

/*
 * Give back the request's share of the global limits. Completion does it
 * before delivering, so a reaper that resubmits at once never sees a
 * spurious -ENOMEM; the memory itself goes a moment later.
 */
static void aiodev_uncharge(struct aiodev_request *req)
{
	atomic_long_sub(req->nr_charged, &aiodev_pinned_pages);
	req->nr_charged = 0;
	atomic_dec(&aiodev_nr_requests);
}

static void aiodev_req_free(struct aiodev_request *req)
{
	if (req->bvec != req->inline_bvecs)
		kfree(req->bvec);
	kmem_cache_free(aiodev_req_cache, req);
}

static bool aiodev_pages_dirty(const struct aiodev_request *req)
{
	unsigned int i;

	for (i = 0; i < req->nr_bvecs; i++)
		if (!folio_test_dirty(page_folio(req->bvec[i].bv_page)))
			return false;
	return true;
}

/*
 * Tasklet: unpin now, unless a folio a read stored into lost its dirty bit
 * (written back meanwhile): as bio_check_pages_dirty(), dirty it again
 * where the folio lock may be taken.
 */
static void aiodev_req_unpin_free(struct aiodev_device *dev,
				  struct aiodev_request *req, bool data_moved)
{
	if (data_moved && req->dirty_pages && !aiodev_pages_dirty(req)) {
		if (llist_add(&req->node, &dev->unpin_list))
			schedule_work(&dev->unpin_work);
		return;
	}
	aiodev_put_pages(req, false);
	aiodev_req_free(req);
}

static void aiodev_unpin_work(struct work_struct *work)
{
	struct aiodev_device *dev =
		container_of(work, struct aiodev_device, unpin_work);
	struct llist_node *list = llist_del_all(&dev->unpin_list);
	struct aiodev_request *req, *next;

	llist_for_each_entry_safe(req, next, list, node) {
		aiodev_put_pages(req, true);
		aiodev_req_free(req);
	}
}

/* ---- holding ---------------------------------------------------------- */

/*
 * Give a request that is to be held its entry in dev->held, before it is
 * armed: it is listed and releasable once it is HELD.
 */
static int aiodev_hold_prepare(struct aiodev_request *req)
{
	struct aiodev_device *dev = req->ctx->dev;
	struct aiodev_hold *hold;
	int ret;

	if (atomic_inc_return(&dev->nr_holds) > AIODEV_MAX_HELD) {
		atomic_dec(&dev->nr_holds);
		return -EBUSY;
	}
	hold = kmalloc(sizeof(*hold), GFP_KERNEL_ACCOUNT);
	if (!hold) {
		atomic_dec(&dev->nr_holds);
		return -ENOMEM;
	}
	hold->req = req;
	hold->tgid = get_pid(task_tgid(current));
	ret = xa_alloc_cyclic_irq(&dev->held, &req->hold_id, hold,
				  XA_LIMIT(1, U32_MAX), &dev->held_next,
				  GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		put_pid(hold->tgid);
		kfree(hold);
		atomic_dec(&dev->nr_holds);
		req->hold_id = 0;
		return ret;
	}
	return 0;
}

/* Forget a request's hold entry: before it is freed. Any context. */
static void aiodev_hold_drop(struct aiodev_request *req)
{
	struct aiodev_device *dev = req->ctx->dev;
	struct aiodev_hold *hold;
	unsigned long flags;

	xa_lock_irqsave(&dev->held, flags);
	hold = __xa_erase(&dev->held, req->hold_id);
	xa_unlock_irqrestore(&dev->held, flags);
	put_pid(hold->tgid);
	kfree(hold);
	atomic_dec(&dev->nr_holds);
}

/* ---- claiming and completion ------------------------------------------ */

/*
 * Completions are deferred to the device's tasklet: this, its setup and
 * tasklet_kill() in aiodev_device_engine_exit() are the only places that
 * know, should a BH workqueue have to replace it.
 */
static void aiodev_defer_completions(struct aiodev_device *dev)
{
	tasklet_schedule(&dev->done_tasklet);
}

static void aiodev_queue_done(struct aiodev_request *req)
{
	struct aiodev_device *dev = req->ctx->dev;

	/* The request may be freed as soon as it is on the list. */
	if (llist_add(&req->node, &dev->done_list))
		aiodev_defer_completions(dev);
}

/*
 * A result other than the planned one, for a request claimed by a release
 * or by its safety deadline (the claim makes the caller its only writer).
 */
static void aiodev_req_set_result(struct aiodev_request *req, u16 kind,
				  s32 error, u32 bytes)
{
	switch (kind) {
	case AIODEV_RELEASE_OK:
		req->outcome = AIODEV_OUTCOME_OK;
		req->error = 0;
		req->data_len = req->len;
		break;
	case AIODEV_RELEASE_ERROR:
		req->outcome = AIODEV_OUTCOME_FAULT;
		req->error = -error;
		req->data_len = 0;
		break;
	case AIODEV_RELEASE_SHORT:
		req->outcome = AIODEV_OUTCOME_OK;
		req->error = 0;
		req->data_len = min(bytes, req->len);
		break;
	case AIODEV_RELEASE_TORN:
		req->outcome = AIODEV_OUTCOME_FAULT;
		req->error = -error;
		req->data_len = min(bytes, req->len);
		break;
	}
}

static enum hrtimer_restart aiodev_timer_fn(struct hrtimer *timer)
{
	struct aiodev_request *req =
		container_of(timer, struct aiodev_request, timer);
	int old = atomic_read(&req->state);

	do {
		if (old != AIODEV_STATE_PENDING && old != AIODEV_STATE_HELD)
			return HRTIMER_NORESTART;
	} while (!atomic_try_cmpxchg(&req->state, &old, AIODEV_STATE_FIRED));
	/* A held request's safety deadline: it times out, as any would. */
	if (old == AIODEV_STATE_HELD) {
		atomic_dec(&req->ctx->dev->nr_held);
		aiodev_req_set_result(req, AIODEV_RELEASE_ERROR, ETIMEDOUT, 0);
		req->outcome = AIODEV_OUTCOME_TIMEOUT;
	}
	if (trace_aiodev_timer_fire_enabled())
		trace_aiodev_timer_fire(req->ctx->dev->index, req->id,
					ktime_get_ns() - req->expires_ns);
	aiodev_queue_done(req);
	return HRTIMER_NORESTART;
}

/*
 * Cancel a request; the caller holds the ctx->reqs lock, which orders this
 * against aiodev_req_arm(). -EALREADY: it fired or was cancelled already.
 * Any context, never sleeps. A request not armed yet is completed by
 * aiodev_req_arm(); a timer callback running now lost the claim, and the
 * tasklet waits it out before freeing the request.
 */
static int aiodev_cancel_locked(struct aiodev_request *req)
{
	int old = atomic_read(&req->state);

	/* Already completing: the cancel lets it complete, and fails. */
	if (old == AIODEV_STATE_PARKED) {
		if (atomic_try_cmpxchg(&req->state, &old, AIODEV_STATE_FIRED))
			aiodev_queue_done(req);
		return -EALREADY;
	}
	do {
		if (old != AIODEV_STATE_NEW && old != AIODEV_STATE_PENDING &&
		    old != AIODEV_STATE_HELD)
			return -EALREADY;
	} while (!atomic_try_cmpxchg(&req->state, &old,
				     AIODEV_STATE_CANCELLED));

	trace_aiodev_cancel(req->ctx->dev->index, req->id,
			    old != AIODEV_STATE_NEW);
	if (old == AIODEV_STATE_HELD)
		atomic_dec(&req->ctx->dev->nr_held);
	if (old != AIODEV_STATE_NEW) {
		hrtimer_try_to_cancel(&req->timer);
		aiodev_queue_done(req);
	}
	return 0;
}

/*
 * Moves up to @budget more bytes of @req's data between its pages and the
 * store; true once it has moved all it will.
 */
static bool aiodev_transfer(struct aiodev_request *req, u32 budget)
{
	struct aiodev_store *store = &req->ctx->dev->store;
	u32 chunk = min(req->data_len - req->moved, budget);
	struct iov_iter iter;
	u64 pos = req->offset + req->moved;

	iov_iter_bvec(&iter, aiodev_req_reads(req) ? ITER_DEST : ITER_SOURCE,
		      req->bvec, req->nr_bvecs, req->len);
	iov_iter_advance(&iter, req->moved);
	iov_iter_truncate(&iter, chunk);
	if (aiodev_req_reads(req))
		aiodev_store_read(store, pos, &iter);
	else
		aiodev_store_write(store, pos, &iter);
	req->moved += chunk - iov_iter_count(&iter);
	/* A short copy ends the request short. */
	return iov_iter_count(&iter) || req->moved == req->data_len;
}

/* Count how @req ended, in its file's counters @c and its device's @d. */
static void aiodev_count_outcome(struct aiodev_counters *c,
				 struct aiodev_dev_stats *d,
				 const struct aiodev_request *req, bool cancelled)
{
	if (cancelled) {
		c->cancelled++;
		atomic64_inc(&d->cancelled);
	} else if (req->outcome == AIODEV_OUTCOME_TIMEOUT) {
		c->timed_out++;
		atomic64_inc(&d->timed_out);
	} else if (req->outcome == AIODEV_OUTCOME_FAULT) {
		c->failed++;
		atomic64_inc(&d->failed);
	} else {
		c->completed_ok++;
		atomic64_inc(&d->completed_ok);
	}
	c->in_flight--;
	atomic64_dec(&d->in_flight);
}

static void aiodev_post_event(struct aiodev_context *ctx,
			      const struct aiodev_request *req, s64 result,
			      u64 now)
{
	u32 tail = ctx->ring_head + ctx->nr_events;

	if (tail >= ctx->depth)
		tail -= ctx->depth;
	ctx->ring[tail] = (struct aiodev_event) {
		.user_data = req->user_data,
		.id = req->id,
		.result = result,
		.submit_ns = req->submit_ns,
		.complete_ns = now,
		.op = req->op,
	};
	/* Slots bound the unreaped events, so the ring never overflows. */
	WRITE_ONCE(ctx->nr_events, ctx->nr_events + 1);
	wake_up(&ctx->event_wq);
}

/* Completion moves what its fate says, unless it was cancelled. */
static bool aiodev_moves_data(const struct aiodev_request *req)
{
	return req->data_len &&
	       atomic_read(&req->state) != AIODEV_STATE_CANCELLED;
}

static void aiodev_complete(struct aiodev_request *req)
{
	struct aiodev_context *ctx = req->ctx;
	struct aiodev_device *dev = ctx->dev;
	bool cancelled = atomic_read(&req->state) == AIODEV_STATE_CANCELLED;
	bool moved = req->moved;
	s64 result;
	bool last;
	u64 now;

	/* Wait out a timer callback that lost the claim. */
	if (cancelled || req->hold_id)
		hrtimer_cancel(&req->timer);
	if (req->hold_id)
		aiodev_hold_drop(req);
	if (cancelled) {
		result = -ECANCELED;
	} else {
		/* Not a ?: : u32 and int would meet as unsigned. */
		if (req->error)
			result = req->error;
		else
			result = req->moved;
		if (req->outcome == AIODEV_OUTCOME_TIMEOUT)
			trace_aiodev_timeout(dev->index, req->id,
					     req->expires_ns - req->submit_ns);
	}
	now = ktime_get_ns();
	atomic64_inc(&dev->latency_hist[ilog2((now - req->submit_ns) | 1)]);
	trace_aiodev_complete(dev->index, req->id, req->op, result,
			      now - req->submit_ns, now - req->expires_ns);

	xa_lock_irq(&ctx->reqs);
	__xa_erase(&ctx->reqs, aiodev_id_to_index(req->id));
	xa_unlock_irq(&ctx->reqs);
	aiodev_uncharge(req);

	spin_lock(&ctx->lock);
	aiodev_count_outcome(&ctx->stats, &dev->stats, req, cancelled);
	if (req->origin != AIODEV_ORIGIN_IOCTL) {
		/* Its slot: an ioctl request's is freed by GETEVENTS instead. */
		WRITE_ONCE(ctx->nr_outstanding, ctx->nr_outstanding - 1);
		wake_up(&ctx->slot_wq);
	} else if (!ctx->closing) {
		aiodev_post_event(ctx, req, result, now);
	}
	last = !--ctx->nr_inflight && ctx->closing;
	spin_unlock(&ctx->lock);

	switch (req->origin) {
	case AIODEV_ORIGIN_IOCTL:
		if (req->eventfd) {
			aiodev_eventfd_signal(req->eventfd);
			eventfd_ctx_put(req->eventfd);
		}
		break;
	case AIODEV_ORIGIN_AIO:
		if (result > 0)
			req->iocb->ki_pos += result;
		req->iocb->ki_complete(req->iocb, result);
		break;
	case AIODEV_ORIGIN_SYNC:
		/* The caller's stack frame may be gone right after this. */
		req->sync->result = result;
		complete(&req->sync->done);
		break;
	}
	aiodev_req_unpin_free(dev, req, moved);
	/* Past this a closing context may be freed: touch nothing after. */
	if (last)
		complete(&ctx->drained);
}

/*
 * The data one tasklet run may copy: a user can make thousands of 1 MiB
 * requests complete at once, and bottom halves stay off while it runs.
 * A request larger than what is left is copied over several runs.
 */
#define AIODEV_TASKLET_BYTES	(128U << 10)

static void aiodev_done_tasklet(struct tasklet_struct *t)
{
	struct aiodev_device *dev = from_tasklet(dev, t, done_tasklet);
	struct llist_node *list = dev->done_backlog;
	u32 budget = AIODEV_TASKLET_BYTES;
	u64 start = ktime_get_ns(), ns;

	for (;;) {
		struct aiodev_request *req;
		u32 before;

		if (!list) {
			/* llist is LIFO: restore firing order. */
			list = llist_reverse_order(llist_del_all(&dev->done_list));
			if (!list)
				break;
		}
		req = llist_entry(list, struct aiodev_request, node);
		if (aiodev_moves_data(req)) {
			before = req->moved;
			if (!aiodev_transfer(req, budget))
				break;
			budget -= req->moved - before;
		}
		/* Completing may put the node on unpin_list. */
		list = list->next;
		aiodev_complete(req);
	}
	/* Older than anything on done_list: it goes first next time. */
	dev->done_backlog = list;
	if (list)
		aiodev_defer_completions(dev);

	ns = ktime_get_ns() - start;
	if (ns > dev->tasklet_max_ns)
		WRITE_ONCE(dev->tasklet_max_ns, ns);
	if (AIODEV_TASKLET_BYTES - budget > dev->tasklet_max_bytes)
		WRITE_ONCE(dev->tasklet_max_bytes, AIODEV_TASKLET_BYTES - budget);
}

/* ---- submission ------------------------------------------------------- */

static int aiodev_check_req(const struct aiodev_context *ctx,
			    const struct aiodev_req *r)
{
	u64 size = ctx->dev->store.size;

	if (r->__reserved || (r->flags & ~AIODEV_REQ_FLAGS_ALL))
		return -EINVAL;
	if (!(r->flags & AIODEV_REQ_LATENCY) && r->latency_nsec)
		return -EINVAL;
	if (!(r->flags & AIODEV_REQ_TIMEOUT) && r->timeout_nsec)
		return -EINVAL;
	if (!(r->flags & AIODEV_REQ_EVENTFD) && r->eventfd)
		return -EINVAL;
	if (r->latency_nsec > AIODEV_MAX_NSEC ||
	    r->timeout_nsec > AIODEV_MAX_NSEC)
		return -EINVAL;

	switch (r->op) {
	case AIODEV_OP_NOP:
		if (r->buf || r->offset || r->len)
			return -EINVAL;
		return 0;
	case AIODEV_OP_READ:
	case AIODEV_OP_WRITE:
		if (!r->len || r->len > AIODEV_MAX_IO_BYTES)
			return -EINVAL;
		if (r->offset > size || r->len > size - r->offset)
			return -EINVAL;
		if (r->op == AIODEV_OP_READ ? !ctx->can_read : !ctx->can_write)
			return -EBADF;
		return 0;
	default:
		return -EINVAL;
	}
}

static void aiodev_account_submit(struct aiodev_context *ctx)
{
	struct aiodev_dev_stats *d = &ctx->dev->stats;
	s64 in_flight, peak;

	spin_lock_bh(&ctx->lock);
	ctx->nr_inflight++;
	ctx->stats.submitted++;
	ctx->stats.in_flight++;
	ctx->stats.peak_in_flight = max(ctx->stats.peak_in_flight,
					ctx->stats.in_flight);
	spin_unlock_bh(&ctx->lock);

	atomic64_inc(&d->submitted);
	in_flight = atomic64_inc_return(&d->in_flight);
	peak = atomic64_read(&d->peak_in_flight);
	while (in_flight > peak &&
	       !atomic64_try_cmpxchg(&d->peak_in_flight, &peak, in_flight))
		;
}

/*
 * Allocate a request and take its pages (@iter is NULL for a NOP). The
 * request gets an id but cannot be claimed or fire until aiodev_req_arm().
 */
static struct aiodev_request *
aiodev_req_create(struct aiodev_context *ctx, const struct aiodev_req *r,
		  struct iov_iter *iter, enum aiodev_req_origin origin,
		  gfp_t gfp)
{
	struct aiodev_request *req;
	u32 index;
	int ret;

	if (atomic_inc_return(&aiodev_nr_requests) > aiodev_max_requests) {
		atomic_dec(&aiodev_nr_requests);
		return ERR_PTR(-ENOMEM);
	}
	req = kmem_cache_alloc(aiodev_req_cache, gfp);
	if (!req) {
		atomic_dec(&aiodev_nr_requests);
		return ERR_PTR(-ENOMEM);
	}
	*req = (struct aiodev_request) {
		.ctx = ctx,
		.state = ATOMIC_INIT(AIODEV_STATE_NEW),
		.op = r->op,
		.origin = origin,
		.len = r->len,
		.offset = r->offset,
		.user_data = r->user_data,
		.bvec = req->inline_bvecs,
	};
	aiodev_hrtimer_setup(&req->timer, aiodev_timer_fn, CLOCK_MONOTONIC,
			     HRTIMER_MODE_ABS);

	if (iter) {
		ret = aiodev_get_pages(req, iter, gfp);
		if (ret)
			goto put_pages;
	}
	if (r->op == AIODEV_OP_WRITE) {
		ret = aiodev_store_prepare_write(&ctx->dev->store, r->offset,
						 r->len, gfp);
		if (ret)
			goto put_pages;
	}
	/*
	 * Lookups hold the lock: setting the id before dropping it publishes
	 * the request only with its id set. The upper half makes a recycled
	 * index a different id.
	 */
	xa_lock_irq(&ctx->reqs);
	ret = __xa_alloc(&ctx->reqs, &index, req, AIODEV_INDEX_LIMIT, gfp);
	if (!ret)
		req->id = (u64)(u32)atomic_inc_return(&ctx->id_seq) << 32 |
			  aiodev_index_to_id(index);
	xa_unlock_irq(&ctx->reqs);
	if (ret)
		goto put_pages;
	return req;

put_pages:
	aiodev_put_pages(req, false);
	aiodev_uncharge(req);
	aiodev_req_free(req);
	return ERR_PTR(ret);
}

/* Undo aiodev_req_create() of a request that was never armed. */
static void aiodev_req_destroy(struct aiodev_request *req)
{
	if (req->hold_id)
		aiodev_hold_drop(req);
	xa_erase_irq(&req->ctx->reqs, aiodev_id_to_index(req->id));
	aiodev_put_pages(req, false);
	aiodev_uncharge(req);
	aiodev_req_free(req);
}

/* Decide the request's fate; a refusal undoes aiodev_req_create(). */
static int aiodev_req_decide(struct aiodev_request *req,
			     const struct aiodev_req *r, enum aiodev_path path,
			     struct aiodev_fate *fate)
{
	struct aiodev_fate_query q = {
		.op = r->op,
		.path = path,
		.has_latency = r->flags & AIODEV_REQ_LATENCY,
		.has_timeout = r->flags & AIODEV_REQ_TIMEOUT,
		.len = r->len,
		.offset = r->offset,
		.latency_nsec = r->latency_nsec,
		.timeout_nsec = r->timeout_nsec,
	};
	int ret;

	ret = aiodev_fate_decide(req->ctx->dev, &q, fate);
	if (!ret && fate->hold)
		ret = aiodev_hold_prepare(req);
	if (ret) {
		aiodev_req_destroy(req);
		return ret;
	}
	req->outcome = fate->outcome;
	req->error = fate->error;
	req->data_len = fate->data_len;
	return 0;
}

static void aiodev_req_arm(struct aiodev_request *req,
			   const struct aiodev_fate *fate)
{
	struct aiodev_context *ctx = req->ctx;
	u64 fire_ns = fate->fire_ns;
	int state;

	aiodev_account_submit(ctx);
	req->submit_ns = ktime_get_ns();
	req->expires_ns = req->submit_ns + fire_ns;
	trace_aiodev_submit(ctx->dev->index, req->id, req->op, req->offset,
			    req->len, fire_ns,
			    req->outcome == AIODEV_OUTCOME_TIMEOUT);

	/*
	 * Cancellers claim under this lock: a PENDING request is armed. One
	 * due now (latency 0) skips the timer and its interrupt: it is
	 * claimed as its callback would, and with bottom halves off here the
	 * tasklet runs at local_bh_enable() rather than in ksoftirqd.
	 */
	if (fate->hold)
		state = AIODEV_STATE_HELD;
	else
		state = fire_ns ? AIODEV_STATE_PENDING : AIODEV_STATE_FIRED;
	local_bh_disable();
	xa_lock_irq(&ctx->reqs);
	if (atomic_cmpxchg(&req->state, AIODEV_STATE_NEW, state) !=
	    AIODEV_STATE_NEW) {
		/* io_cancel() found the kiocb before we got here */
		aiodev_queue_done(req);
	} else if (fate->hold) {
		/* Parked: only a release, a cancel or its safety deadline end it. */
		atomic_inc(&ctx->dev->nr_held);
		wake_up(&ctx->dev->held_wq);
		if (fire_ns)
			hrtimer_start(&req->timer, ns_to_ktime(req->expires_ns),
				      HRTIMER_MODE_ABS);
	} else if (fire_ns) {
		hrtimer_start(&req->timer, ns_to_ktime(req->expires_ns),
			      HRTIMER_MODE_ABS);
	} else {
		trace_aiodev_timer_fire(ctx->dev->index, req->id, 0);
		aiodev_queue_done(req);
	}
	xa_unlock_irq(&ctx->reqs);
	local_bh_enable();
}

static int aiodev_submit_one(struct aiodev_context *ctx,
			     const struct aiodev_req *r, u64 __user *uid)
{
	struct eventfd_ctx *eventfd = NULL;
	struct aiodev_request *req;
	struct aiodev_fate fate;
	struct iov_iter iter;
	int ret;

	ret = aiodev_check_req(ctx, r);
	if (ret)
		return ret;
	if (r->op != AIODEV_OP_NOP) {
		void __user *buf = u64_to_user_ptr(r->buf);

		if (!access_ok(buf, r->len))
			return -EFAULT;
		iov_iter_ubuf(&iter, r->op == AIODEV_OP_READ ? ITER_DEST :
			      ITER_SOURCE, buf, r->len);
	}
	if (r->flags & AIODEV_REQ_EVENTFD) {
		eventfd = eventfd_ctx_fdget(r->eventfd);
		if (IS_ERR(eventfd))
			return PTR_ERR(eventfd);
	}

	req = aiodev_req_create(ctx, r, r->op == AIODEV_OP_NOP ? NULL : &iter,
				AIODEV_ORIGIN_IOCTL, GFP_KERNEL_ACCOUNT);
	if (IS_ERR(req)) {
		ret = PTR_ERR(req);
		goto put_eventfd;
	}
	/* A refused request never exists: no id goes back for it. */
	ret = aiodev_req_decide(req, r, AIODEV_PATH_IOCTL, &fate);
	if (ret)
		goto put_eventfd;
	if (put_user(req->id, uid)) {
		aiodev_req_destroy(req);
		ret = -EFAULT;
		goto put_eventfd;
	}
	req->eventfd = eventfd;
	aiodev_req_arm(req, &fate);
	return 0;

put_eventfd:
	if (eventfd)
		eventfd_ctx_put(eventfd);
	return ret;
}

/* Take up to @want slots; sleep for one unless @nonblock. */
static long aiodev_reserve_slots(struct aiodev_context *ctx, u32 want,
				 bool nonblock)
{
	u32 got;

	for (;;) {
		spin_lock_bh(&ctx->lock);
		got = min(want, ctx->depth - ctx->nr_outstanding);
		WRITE_ONCE(ctx->nr_outstanding, ctx->nr_outstanding + got);
		spin_unlock_bh(&ctx->lock);
		if (got)
			return got;
		if (nonblock)
			return -EAGAIN;
		if (wait_event_interruptible(ctx->slot_wq,
					     READ_ONCE(ctx->nr_outstanding) <
					     ctx->depth))
			return -ERESTARTSYS;
	}
}

static void aiodev_release_slots(struct aiodev_context *ctx, u32 nr)
{
	spin_lock_bh(&ctx->lock);
	WRITE_ONCE(ctx->nr_outstanding, ctx->nr_outstanding - nr);
	spin_unlock_bh(&ctx->lock);
	wake_up(&ctx->slot_wq);
}

long aiodev_submit(struct aiodev_context *ctx,
		   struct aiodev_req __user *ureqs, u32 nr, bool nonblock)
{
	u32 accepted = 0, reserved = 0;
	long ret = 0;

	while (accepted < nr) {
		struct aiodev_req r;

		if (!reserved) {
			/*
			 * Sleep only while nothing is accepted: slots free up
			 * when the caller reaps, which it cannot do from here.
			 */
			ret = aiodev_reserve_slots(ctx, nr - accepted,
						   nonblock || accepted);
			if (ret < 0)
				break;
			reserved = ret;
			ret = 0;
		}
		if (copy_from_user(&r, &ureqs[accepted], sizeof(r))) {
			ret = -EFAULT;
			break;
		}
		ret = aiodev_submit_one(ctx, &r, &ureqs[accepted].id);
		if (ret)
			break;
		accepted++;
		reserved--;
	}
	if (reserved)
		aiodev_release_slots(ctx, reserved);
	return accepted ? accepted : ret;
}

/* ---- the kernel AIO path: read_iter and write_iter --------------------- */

/*
 * libaio's io_cancel(), under the AIO context's lock with interrupts off;
 * the request completes with -ECANCELED through the tasklet. It is alive:
 * our ki_complete() call, which comes before the free, takes the AIO lock
 * to unlink the kiocb this was found on.
 */
static int aiodev_aio_cancel(struct kiocb *iocb)
{
	struct aiodev_request *req = iocb->private;
	struct aiodev_context *ctx = req->ctx;
	unsigned long flags;
	int ret;

	xa_lock_irqsave(&ctx->reqs, flags);
	ret = aiodev_cancel_locked(req);
	xa_unlock_irqrestore(&ctx->reqs, flags);
	return ret ? -EAGAIN : 0;
}

ssize_t aiodev_submit_kiocb(struct aiodev_context *ctx, struct kiocb *iocb,
			    struct iov_iter *iter, enum aiodev_op op)
{
	bool nowait = iocb->ki_flags & IOCB_NOWAIT;
	struct aiodev_req r = {
		.op = op,
		.offset = iocb->ki_pos,
		.len = iov_iter_count(iter),
	};
	bool sync_kiocb = is_sync_kiocb(iocb);
	struct aiodev_sync_wait sync;
	struct aiodev_request *req;
	struct aiodev_fate fate;
	u64 id;
	long ret;

	/* A synchronous caller can only wait for the latency. */
	if (nowait && sync_kiocb)
		return -EAGAIN;
	/* The retry of a refused attempt, or another request: ready no more. */
	if (READ_ONCE(ctx->nowait_refused))
		WRITE_ONCE(ctx->nowait_refused, false);

	/*
	 * A slot, as for the ioctl. Only a synchronous caller sleeps for one;
	 * a full context fails an async kiocb with -EBUSY: -EAGAIN would make
	 * io_uring wait for EPOLLIN, which means ioctl events here.
	 */
	ret = aiodev_reserve_slots(ctx, 1, !sync_kiocb);
	if (ret < 0)
		return ret == -EAGAIN ? -EBUSY : ret;

	/*
	 * IOCB_NOWAIT means "do not wait for the device", as for block
	 * direct I/O, which allocates its bio with GFP_KERNEL all the same:
	 * a GFP_NOWAIT failure would end the I/O with a spurious -ENOMEM.
	 */
	req = aiodev_req_create(ctx, &r, iter,
				sync_kiocb ? AIODEV_ORIGIN_SYNC :
					     AIODEV_ORIGIN_AIO,
				GFP_KERNEL_ACCOUNT);
	if (IS_ERR(req)) {
		aiodev_release_slots(ctx, 1);
		return PTR_ERR(req);
	}
	ret = aiodev_req_decide(req, &r, sync_kiocb ? AIODEV_PATH_SYNC :
						      AIODEV_PATH_AIO, &fate);
	if (ret) {
		aiodev_release_slots(ctx, 1);
		/*
		 * Refused: the iterator goes back as it came, for a retry
		 * (io_uring retries -EAGAIN with the same one).
		 */
		iov_iter_revert(iter, r.len);
		if (ret == -EAGAIN && nowait)
			WRITE_ONCE(ctx->nowait_refused, true);
		return ret;
	}

	if (!sync_kiocb) {
		req->iocb = iocb;
		iocb->private = req;
		/* Before arming: the kiocb must not complete first. */
		if (aiodev_kiocb_is_aio(iocb))
			kiocb_set_cancel_fn(iocb, aiodev_aio_cancel);
		aiodev_req_arm(req, &fate);
		return -EIOCBQUEUED;
	}

	init_completion(&sync.done);
	req->sync = &sync;
	/* Once armed, the request may be freed at any moment. */
	id = req->id;
	aiodev_req_arm(req, &fate);
	if (wait_for_completion_interruptible(&sync.done)) {
		/* A signal: cancel, unless the completion won the race. */
		aiodev_cancel(ctx, id);
		wait_for_completion(&sync.done);
		/* Nothing moved: the call may restart from scratch. */
		if (sync.result == -ECANCELED)
			return -ERESTARTSYS;
	}
	if (sync.result > 0)
		iocb->ki_pos += sync.result;
	return sync.result;
}

/* ---- reaping, cancel, poll -------------------------------------------- */

static long aiodev_reap(struct aiodev_context *ctx,
			struct aiodev_event __user *uevents, u32 max_nr)
{
	struct aiodev_event batch[8];
	u32 done = 0;
	long ret = 0;

	if (mutex_lock_interruptible(&ctx->reap_mutex))
		return -EINTR;
	/* An epoll user woken by a refusal (nowait_refused) found no event. */
	if (READ_ONCE(ctx->nowait_refused))
		WRITE_ONCE(ctx->nowait_refused, false);
	while (done < max_nr) {
		u32 n, i, head;

		spin_lock_bh(&ctx->lock);
		n = min3(ctx->nr_events, max_nr - done, (u32)ARRAY_SIZE(batch));
		head = ctx->ring_head;
		for (i = 0; i < n; i++) {
			batch[i] = ctx->ring[head];
			if (++head == ctx->depth)
				head = 0;
		}
		spin_unlock_bh(&ctx->lock);
		if (!n)
			break;

		/* Consume only what reached the user: a fault loses nothing. */
		if (copy_to_user(uevents + done, batch, n * sizeof(*batch))) {
			ret = -EFAULT;
			break;
		}
		spin_lock_bh(&ctx->lock);
		ctx->ring_head = head;
		WRITE_ONCE(ctx->nr_events, ctx->nr_events - n);
		WRITE_ONCE(ctx->nr_outstanding, ctx->nr_outstanding - n);
		spin_unlock_bh(&ctx->lock);
		wake_up(&ctx->slot_wq);
		done += n;
	}
	mutex_unlock(&ctx->reap_mutex);
	return done ? done : ret;
}

static bool aiodev_events_ready(struct aiodev_context *ctx, u32 min_nr)
{
	return READ_ONCE(ctx->nr_events) >= min_nr;
}

/* A GETEVENTS caller on ctx->event_wq, woken once min_nr events are in. */
struct aiodev_events_wait {
	struct wait_queue_entry wq;
	struct aiodev_context *ctx;
	u32 min_nr;
};

/*
 * Every event posted wakes ctx->event_wq. A reaper waiting for a batch
 * would wake, find too few and sleep again, once per event: filter here,
 * under the wait queue's lock, as io_uring's io_wake_function() does.
 * Pollers keep their own wake function and see every event.
 */
static int aiodev_events_wake(struct wait_queue_entry *wq, unsigned int mode,
			      int sync, void *key)
{
	struct aiodev_events_wait *w =
		container_of(wq, struct aiodev_events_wait, wq);

	if (!aiodev_events_ready(w->ctx, w->min_nr))
		return 0;
	return autoremove_wake_function(wq, mode, sync, key);
}

/* Wait for @min_nr events; @timeout_nsec < 0: no timeout. */
static int aiodev_wait_events(struct aiodev_context *ctx, u32 min_nr,
			      s64 timeout_nsec)
{
	struct aiodev_events_wait w = { .ctx = ctx, .min_nr = min_nr };
	ktime_t expires = 0;
	int ret = 0;

	/* A timeout of years must not wrap around into the past. */
	if (timeout_nsec > 0)
		expires = ktime_add_safe(ktime_get(), ns_to_ktime(timeout_nsec));
	init_wait(&w.wq);
	w.wq.func = aiodev_events_wake;
	for (;;) {
		long intr = prepare_to_wait_event(&ctx->event_wq, &w.wq,
						  TASK_INTERRUPTIBLE);

		if (aiodev_events_ready(ctx, min_nr))
			break;
		/* A relative timeout must not restart from scratch: like aio. */
		if (intr) {
			ret = -EINTR;
			break;
		}
		if (timeout_nsec < 0)
			schedule();
		else if (!schedule_hrtimeout_range(&expires,
						   current->timer_slack_ns,
						   HRTIMER_MODE_ABS))
			break;
	}
	finish_wait(&ctx->event_wq, &w.wq);
	return ret;
}

long aiodev_getevents(struct aiodev_context *ctx,
		      struct aiodev_event __user *uevents,
		      u32 min_nr, u32 max_nr, s64 timeout_nsec)
{
	if (min_nr && timeout_nsec &&
	    aiodev_wait_events(ctx, min_nr, timeout_nsec))
		return -EINTR;
	return aiodev_reap(ctx, uevents, max_nr);
}

int aiodev_cancel(struct aiodev_context *ctx, u64 id)
{
	struct aiodev_request *req;
	int ret;

	xa_lock_irq(&ctx->reqs);
	req = xa_load(&ctx->reqs, aiodev_id_to_index(id));
	/*
	 * Until it is armed, a request's submission may still fail (its id
	 * written back to a bad pointer): it does not exist yet.
	 */
	if (!req || req->id != id ||
	    atomic_read(&req->state) == AIODEV_STATE_NEW)
		ret = -ENOENT;
	else
		ret = aiodev_cancel_locked(req);
	xa_unlock_irq(&ctx->reqs);
	return ret;
}

__poll_t aiodev_context_poll(struct aiodev_context *ctx)
{
	__poll_t mask = 0;

	if (READ_ONCE(ctx->nr_events))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(ctx->nr_outstanding) < ctx->depth)
		mask |= EPOLLOUT | EPOLLWRNORM;
	if (READ_ONCE(ctx->nowait_refused))
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
	if (atomic_read(&ctx->dev->nr_held))
		mask |= EPOLLPRI;
	return mask;
}

/* ---- the control interface of held requests --------------------------- */

static enum aiodev_path aiodev_req_path(const struct aiodev_request *req)
{
	switch (req->origin) {
	case AIODEV_ORIGIN_IOCTL:
		return AIODEV_PATH_IOCTL;
	case AIODEV_ORIGIN_AIO:
		return AIODEV_PATH_AIO;
	default:
		return AIODEV_PATH_SYNC;
	}
}

long aiodev_held_list(struct aiodev_device *dev,
		      struct aiodev_held __user *uheld, u32 nr)
{
	struct aiodev_held *out = NULL;
	struct aiodev_hold *hold;
	unsigned long index;
	u32 n = 0, total = 0;
	long ret = 0;

	nr = min_t(u32, nr, AIODEV_MAX_HELD);
	if (nr) {
		out = kvcalloc(nr, sizeof(*out), GFP_KERNEL);
		if (!out)
			return -ENOMEM;
	}
	xa_lock_irq(&dev->held);
	xa_for_each(&dev->held, index, hold) {
		struct aiodev_request *req = hold->req;

		int state = atomic_read(&req->state);

		/* Entries of requests being armed or completed are no holds. */
		if (state != AIODEV_STATE_HELD && state != AIODEV_STATE_PARKED)
			continue;
		total++;
		if (n == nr)
			continue;
		out[n++] = (struct aiodev_held) {
			.hold_id = req->hold_id,
			.id = req->id,
			.user_data = req->origin == AIODEV_ORIGIN_IOCTL ?
				     req->user_data : 0,
			.offset = req->offset,
			.len = req->len,
			.op = req->op,
			.path = aiodev_req_path(req),
			.tgid = pid_vnr(hold->tgid),
			.flags = state == AIODEV_STATE_PARKED ?
				 AIODEV_HELD_PARKED : 0,
			.since_ns = req->submit_ns,
		};
	}
	xa_unlock_irq(&dev->held);
	if (n && copy_to_user(uheld, out, n * sizeof(*out)))
		ret = -EFAULT;
	kvfree(out);
	return ret ?: total;
}

long aiodev_held_wait(struct aiodev_device *dev, u32 min_nr,
		      s64 timeout_nsec)
{
	long ret;

	if (timeout_nsec < 0)
		ret = wait_event_interruptible(dev->held_wq,
					       atomic_read(&dev->nr_held) >= min_nr);
	else if (timeout_nsec)
		ret = wait_event_interruptible_hrtimeout(dev->held_wq,
							 atomic_read(&dev->nr_held) >= min_nr,
							 ns_to_ktime(timeout_nsec));
	else
		ret = atomic_read(&dev->nr_held) >= min_nr ? 0 : -ETIME;
	/* A relative timeout must not restart from scratch: like GETEVENTS. */
	if (ret == -ERESTARTSYS)
		return -EINTR;
	if (ret == -ETIME)
		return -ETIMEDOUT;
	return ret ?: atomic_read(&dev->nr_held);
}

/*
 * Release one held request with @rel's result; -ENOENT if the device holds
 * no request by that id (any more). The caller holds the dev->held lock.
 */
static int aiodev_release_one(struct aiodev_device *dev,
			      struct aiodev_hold *hold,
			      const struct aiodev_release *rel)
{
	struct aiodev_request *req = hold->req;
	bool park = rel->flags & AIODEV_RELEASE_PARK;
	int old = AIODEV_STATE_HELD, to;

	if (rel->kind == AIODEV_RELEASE_CANCEL)
		to = AIODEV_STATE_CANCELLED;
	else
		to = park ? AIODEV_STATE_PARKED : AIODEV_STATE_FIRED;
	/* Against a cancel or the safety deadline: exactly one claims it. */
	if (!atomic_try_cmpxchg(&req->state, &old, to)) {
		/* A parked one: released again (not cancelled), it completes. */
		if (old != AIODEV_STATE_PARKED || to != AIODEV_STATE_FIRED ||
		    !atomic_try_cmpxchg(&req->state, &old, to))
			return -ENOENT;
	} else {
		atomic_dec(&dev->nr_held);
		hrtimer_try_to_cancel(&req->timer);
	}
	if (to == AIODEV_STATE_CANCELLED)
		trace_aiodev_cancel(dev->index, req->id, true);
	else
		aiodev_req_set_result(req, rel->kind, rel->error, rel->bytes);
	/* In release order: the tasklet takes done_list first in, first out. */
	if (to != AIODEV_STATE_PARKED)
		aiodev_queue_done(req);
	return 0;
}

long aiodev_release_held(struct aiodev_device *dev,
			 const struct aiodev_release *rel, u32 nr, bool all)
{
	static const struct aiodev_release planned;
	struct aiodev_hold *hold;
	unsigned long index;
	u32 done = 0, i;
	int ret = 0;

	/* Bottom halves off: the tasklet runs once, for all, at the end. */
	local_bh_disable();
	xa_lock_irq(&dev->held);
	if (all) {
		xa_for_each(&dev->held, index, hold)
			if (!aiodev_release_one(dev, hold, &planned))
				done++;
	}
	for (i = 0; i < nr; i++) {
		hold = xa_load(&dev->held, rel[i].hold_id);
		ret = hold ? aiodev_release_one(dev, hold, &rel[i]) : -ENOENT;
		if (ret)
			break;
		done++;
	}
	xa_unlock_irq(&dev->held);
	local_bh_enable();
	return done || all ? done : ret;
}

/* ---- contexts --------------------------------------------------------- */

struct aiodev_context *aiodev_context_create(struct aiodev_device *dev,
					     bool can_read, bool can_write)
{
	struct aiodev_context *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);

	if (!ctx)
		return NULL;
	ctx->depth = aiodev_queue_depth;
	ctx->ring = kvcalloc(ctx->depth, sizeof(*ctx->ring), GFP_KERNEL_ACCOUNT);
	if (!ctx->ring) {
		kfree(ctx);
		return NULL;
	}
	ctx->dev = dev;
	ctx->can_read = can_read;
	ctx->can_write = can_write;
	/* Irq-safe: io_cancel() claims requests with interrupts off. */
	xa_init_flags(&ctx->reqs, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_IRQ);
	spin_lock_init(&ctx->lock);
	init_waitqueue_head(&ctx->event_wq);
	init_waitqueue_head(&ctx->slot_wq);
	init_completion(&ctx->drained);
	mutex_init(&ctx->reap_mutex);
	return ctx;
}

/* Called on the last close: no submitter, reaper or poller is left. */
void aiodev_context_destroy(struct aiodev_context *ctx)
{
	struct aiodev_request *req;
	unsigned long index;
	bool wait;

	spin_lock_bh(&ctx->lock);
	ctx->closing = true;
	wait = ctx->nr_inflight;
	spin_unlock_bh(&ctx->lock);

	/*
	 * The tasklet frees requests under us: only the index is stable, so
	 * look each one up again under the lock, one at a time to keep
	 * interrupts off briefly even with tens of thousands in flight.
	 */
	xa_for_each(&ctx->reqs, index, req) {
		xa_lock_irq(&ctx->reqs);
		req = xa_load(&ctx->reqs, index);
		if (req)
			aiodev_cancel_locked(req);
		xa_unlock_irq(&ctx->reqs);
	}

	if (wait)
		wait_for_completion(&ctx->drained);
	WARN_ON_ONCE(!xa_empty(&ctx->reqs));
	xa_destroy(&ctx->reqs);
	mutex_destroy(&ctx->reap_mutex);
	kvfree(ctx->ring);
	kfree(ctx);
}

void aiodev_context_stats(struct aiodev_context *ctx,
			  struct aiodev_counters *out)
{
	spin_lock_bh(&ctx->lock);
	*out = ctx->stats;
	spin_unlock_bh(&ctx->lock);
}

void aiodev_device_stats(struct aiodev_device *dev,
			 struct aiodev_counters *out)
{
	struct aiodev_dev_stats *d = &dev->stats;

	/* Each counter is exact; they add up once submission and completion rest. */
	*out = (struct aiodev_counters) {
		.in_flight = atomic64_read(&d->in_flight),
		.peak_in_flight = atomic64_read(&d->peak_in_flight),
		.completed_ok = atomic64_read(&d->completed_ok),
		.timed_out = atomic64_read(&d->timed_out),
		.cancelled = atomic64_read(&d->cancelled),
		.failed = atomic64_read(&d->failed),
		.submitted = atomic64_read(&d->submitted),
	};
}

/* ---- setup ------------------------------------------------------------ */

void aiodev_device_engine_init(struct aiodev_device *dev)
{
	init_llist_head(&dev->done_list);
	tasklet_setup(&dev->done_tasklet, aiodev_done_tasklet);
	init_llist_head(&dev->unpin_list);
	INIT_WORK(&dev->unpin_work, aiodev_unpin_work);
	/* Irq-safe: completions drop their hold from the tasklet. */
	xa_init_flags(&dev->held, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
	init_waitqueue_head(&dev->held_wq);
}

/* All files are closed: nothing can queue more work. */
void aiodev_device_engine_exit(struct aiodev_device *dev)
{
	tasklet_kill(&dev->done_tasklet);
	flush_work(&dev->unpin_work);
	WARN_ON_ONCE(!xa_empty(&dev->held));
	xa_destroy(&dev->held);
}

int aiodev_engine_init(void)
{
	/* Requests, like everything a user makes us hold, count in its memcg. */
	aiodev_req_cache = KMEM_CACHE(aiodev_request, SLAB_ACCOUNT);
	return aiodev_req_cache ? 0 : -ENOMEM;
}

void aiodev_engine_exit(void)
{
	kmem_cache_destroy(aiodev_req_cache);
}
