// SPDX-License-Identifier: GPL-2.0
/*
 * The request engine: one lifecycle for every request.
 *
 *  submit (process context)
 *    validate, reserve a slot in the context, allocate from aiodev_req_cache,
 *    pin the buffer's pages as direct I/O does, give it an id, arm its
 *    hrtimer at min(completion time, deadline)                  -> PENDING
 *
 *  PENDING --hrtimer fires (hard irq)-------------------------> FIRED
 *  PENDING --CANCEL or close (process context)----------------> CANCELLED
 *    Both sides claim the request with one atomic cmpxchg, so exactly one
 *    wins and the request completes exactly once. The canceller then calls
 *    hrtimer_cancel(), which also waits out a callback that lost the claim,
 *    so nothing touches the request after it is handed on.
 *
 *  FIRED or CANCELLED: the winner pushes the request on the device's
 *    lock-free done_list and schedules the device's tasklet; nothing more
 *    happens in the timer callback.
 *
 *  tasklet (softirq), the whole done_list in one batch:
 *    move the data if the planned outcome is success, post the event in the
 *    context's ring, wake its waiters, signal its eventfd, unpin the pages
 *    and free the request. Pages of a read were dirtied at submission; if
 *    one was cleaned meanwhile, the release goes to a work item that may
 *    sleep to dirty it again, as bio_check_pages_dirty() does.
 *
 *  GETEVENTS copies the event out: only then is the slot free again.
 *
 * A closing file claims its pending requests like CANCEL, then waits on
 * ctx->drained for the tasklet to post the last of them.
 */
#include <linux/eventfd.h>
#include <linux/highmem.h>
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

enum aiodev_req_state {
	AIODEV_REQ_PENDING,
	AIODEV_REQ_FIRED,
	AIODEV_REQ_CANCELLED,
};

/* How a request that is not cancelled will end, decided at submission. */
enum aiodev_req_outcome {
	AIODEV_OUTCOME_OK,
	AIODEV_OUTCOME_TIMEOUT,
	AIODEV_OUTCOME_FAULT,
};

/* An unaligned 4 KiB buffer spans two pages. */
#define AIODEV_INLINE_BVECS	2

struct aiodev_request {
	struct hrtimer timer;
	/* On done_list, then possibly on release_list. */
	struct llist_node node;
	struct aiodev_context *ctx;
	atomic_t state;
	u8 op;
	u8 outcome;
	/* Planned errno for TIMEOUT and FAULT, -ECANCELED once cancelled. */
	int error;
	u32 len;
	u64 offset;
	u64 user_data;
	u64 id;
	u64 submit_ns;
	struct eventfd_ctx *eventfd;
	struct bio_vec *bvec;
	unsigned int nr_bvecs;
	struct bio_vec inline_bvecs[AIODEV_INLINE_BVECS];
};

static struct kmem_cache *aiodev_req_cache;

static u32 aiodev_req_index(const struct aiodev_request *req)
{
	return lower_32_bits(req->id);
}

/* ---- pages ------------------------------------------------------------ */

static bool aiodev_req_reads(const struct aiodev_request *req)
{
	return req->op == AIODEV_OP_READ;
}

/*
 * Pin the user buffer one page per bio_vec. The page pointers are gathered
 * in the upper half of the bio_vec array first and converted in place, as
 * __bio_iov_iter_get_pages() does: bvec[i] only overwrites pages[j <= i].
 */
static int aiodev_pin_user_buf(struct aiodev_request *req, u64 uaddr)
{
	unsigned long addr = (unsigned long)u64_to_user_ptr(uaddr);
	unsigned int first = offset_in_page(addr);
	unsigned int nr = DIV_ROUND_UP(first + req->len, PAGE_SIZE);
	unsigned int gup_flags = aiodev_req_reads(req) ? FOLL_WRITE : 0;
	struct bio_vec *bv = req->inline_bvecs;
	struct page **pages;
	u32 left = req->len;
	unsigned int i;
	int pinned;

	if (nr > ARRAY_SIZE(req->inline_bvecs)) {
		bv = kmalloc_array(nr, sizeof(*bv), GFP_KERNEL);
		if (!bv)
			return -ENOMEM;
	}
	BUILD_BUG_ON(sizeof(*bv) < sizeof(*pages));
	pages = (struct page **)(bv + nr) - nr;

	pinned = pin_user_pages_fast(addr & PAGE_MASK, nr, gup_flags, pages);
	if (pinned != nr) {
		if (pinned > 0)
			unpin_user_pages(pages, pinned);
		if (bv != req->inline_bvecs)
			kfree(bv);
		return pinned < 0 ? pinned : -EFAULT;
	}

	for (i = 0; i < nr; i++) {
		struct page *page = pages[i];
		unsigned int chunk = min_t(u32, left, PAGE_SIZE - first);

		/* A read will store into the page from softirq: dirty it now. */
		if (aiodev_req_reads(req) && !PageCompound(page))
			set_page_dirty_lock(page);
		bvec_set_page(&bv[i], page, chunk, first);
		left -= chunk;
		first = 0;
	}
	req->bvec = bv;
	req->nr_bvecs = nr;
	return 0;
}

static void aiodev_req_free(struct aiodev_request *req)
{
	if (req->bvec != req->inline_bvecs)
		kfree(req->bvec);
	kmem_cache_free(aiodev_req_cache, req);
}

static void aiodev_unpin(struct aiodev_request *req, bool dirty)
{
	unsigned int i;

	for (i = 0; i < req->nr_bvecs; i++) {
		struct page *page = req->bvec[i].bv_page;

		if (dirty && !PageCompound(page))
			set_page_dirty_lock(page);
		unpin_user_page(page);
	}
}

static bool aiodev_pages_dirty(const struct aiodev_request *req)
{
	unsigned int i;

	for (i = 0; i < req->nr_bvecs; i++) {
		struct page *page = req->bvec[i].bv_page;

		if (!PageDirty(page) && !PageCompound(page))
			return false;
	}
	return true;
}

/* Tasklet: unpin now, unless a read's page lost its dirty bit. */
static void aiodev_release(struct aiodev_device *dev,
			   struct aiodev_request *req, bool data_moved)
{
	if (data_moved && aiodev_req_reads(req) && !aiodev_pages_dirty(req)) {
		if (llist_add(&req->node, &dev->release_list))
			schedule_work(&dev->release_work);
		return;
	}
	aiodev_unpin(req, false);
	aiodev_req_free(req);
}

static void aiodev_release_work(struct work_struct *work)
{
	struct aiodev_device *dev =
		container_of(work, struct aiodev_device, release_work);
	struct llist_node *list = llist_del_all(&dev->release_list);
	struct aiodev_request *req, *next;

	llist_for_each_entry_safe(req, next, list, node) {
		aiodev_unpin(req, true);
		aiodev_req_free(req);
	}
}

/* ---- completion ------------------------------------------------------- */

static void aiodev_queue_done(struct aiodev_request *req)
{
	struct aiodev_device *dev = req->ctx->dev;

	/* The request may be freed as soon as it is on the list. */
	if (llist_add(&req->node, &dev->done_list))
		tasklet_schedule(&dev->done_tasklet);
}

static enum hrtimer_restart aiodev_timer_fn(struct hrtimer *timer)
{
	struct aiodev_request *req =
		container_of(timer, struct aiodev_request, timer);

	if (atomic_cmpxchg(&req->state, AIODEV_REQ_PENDING,
			   AIODEV_REQ_FIRED) == AIODEV_REQ_PENDING)
		aiodev_queue_done(req);
	return HRTIMER_NORESTART;
}

/* The request must already be claimed (CANCELLED) by the caller. */
static void aiodev_cancel_claimed(struct aiodev_request *req)
{
	hrtimer_cancel(&req->timer);
	req->error = -ECANCELED;
	aiodev_queue_done(req);
}

static s64 aiodev_transfer(struct aiodev_request *req)
{
	struct aiodev_store *store = &req->ctx->dev->store;
	struct iov_iter iter;

	if (req->op == AIODEV_OP_NOP)
		return 0;
	iov_iter_bvec(&iter, aiodev_req_reads(req) ? ITER_DEST : ITER_SOURCE,
		      req->bvec, req->nr_bvecs, req->len);
	if (aiodev_req_reads(req))
		aiodev_store_read(store, req->offset, &iter);
	else
		aiodev_store_write(store, req->offset, &iter);
	return req->len - iov_iter_count(&iter);
}

static void aiodev_count(struct aiodev_counters *c, struct aiodev_dev_stats *d,
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
			      const struct aiodev_request *req, s64 result)
{
	u32 tail = ctx->ring_head + ctx->nr_events;
	struct aiodev_event *ev;

	if (tail >= ctx->depth)
		tail -= ctx->depth;
	ev = &ctx->ring[tail];
	*ev = (struct aiodev_event) {
		.user_data = req->user_data,
		.id = req->id,
		.result = result,
		.submit_ns = req->submit_ns,
		.complete_ns = ktime_get_ns(),
		.op = req->op,
	};
	/* Slots bound the unreaped events, so the ring never overflows. */
	ctx->nr_events++;
}

static void aiodev_complete(struct aiodev_request *req)
{
	struct aiodev_context *ctx = req->ctx;
	struct aiodev_device *dev = ctx->dev;
	bool cancelled = atomic_read(&req->state) == AIODEV_REQ_CANCELLED;
	bool moved = !cancelled && req->outcome == AIODEV_OUTCOME_OK;
	s64 result = moved ? aiodev_transfer(req) : req->error;
	bool last;

	xa_erase(&ctx->reqs, aiodev_req_index(req));

	spin_lock(&ctx->lock);
	aiodev_count(&ctx->stats, &dev->stats, req, cancelled);
	if (!ctx->closing) {
		aiodev_post_event(ctx, req, result);
		wake_up(&ctx->event_wq);
	}
	last = !--ctx->nr_inflight && ctx->closing;
	spin_unlock(&ctx->lock);

	if (req->eventfd) {
		aiodev_eventfd_signal(req->eventfd);
		eventfd_ctx_put(req->eventfd);
	}
	aiodev_release(dev, req, moved);
	/* Past this a closing context may be freed: touch nothing after. */
	if (last)
		complete(&ctx->drained);
}

static void aiodev_done_tasklet(struct tasklet_struct *t)
{
	struct aiodev_device *dev = from_tasklet(dev, t, done_tasklet);
	struct llist_node *list = llist_del_all(&dev->done_list);
	struct aiodev_request *req, *next;

	/* llist is LIFO: restore firing order. */
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(req, next, list, node)
		aiodev_complete(req);
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

static u64 aiodev_jitter(u64 max)
{
	return max ? mul_u64_u64_shr(get_random_u64(), max + 1, 64) : 0;
}

/* Decide when the request fires and how it ends if nobody cancels it. */
static u64 aiodev_plan(struct aiodev_request *req, const struct aiodev_req *r,
		       const struct aiodev_config *cfg)
{
	struct aiodev_device *dev = req->ctx->dev;
	u64 latency, timeout;
	int fault = 0;

	latency = (r->flags & AIODEV_REQ_LATENCY) ? r->latency_nsec :
		  cfg->latency_nsec + aiodev_jitter(cfg->jitter_nsec);
	timeout = (r->flags & AIODEV_REQ_TIMEOUT) ? r->timeout_nsec :
		  cfg->timeout_nsec;

	/* Every request counts towards every-Nth, whatever else happens. */
	if (cfg->fail_every_nth &&
	    !(atomic64_inc_return(&dev->fault_seq) % cfg->fail_every_nth))
		fault = cfg->fail_nth_errno;
	if (cfg->fail_len && r->op != AIODEV_OP_NOP &&
	    r->offset < cfg->fail_offset + cfg->fail_len &&
	    cfg->fail_offset < r->offset + r->len)
		fault = cfg->fail_range_errno;

	/* The deadline wins a tie: completion must come strictly before. */
	if (timeout && timeout <= latency) {
		req->outcome = AIODEV_OUTCOME_TIMEOUT;
		req->error = -ETIMEDOUT;
		return timeout;
	}
	if (fault) {
		req->outcome = AIODEV_OUTCOME_FAULT;
		req->error = -fault;
	}
	return latency;
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

static int aiodev_submit_one(struct aiodev_context *ctx,
			     const struct aiodev_config *cfg,
			     const struct aiodev_req *r, u64 __user *uid)
{
	struct aiodev_request *req;
	u32 index;
	u64 fire_ns;
	int ret;

	ret = aiodev_check_req(ctx, r);
	if (ret)
		return ret;

	req = kmem_cache_alloc(aiodev_req_cache, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	*req = (struct aiodev_request) {
		.ctx = ctx,
		.state = ATOMIC_INIT(AIODEV_REQ_PENDING),
		.op = r->op,
		.len = r->len,
		.offset = r->offset,
		.user_data = r->user_data,
		.bvec = req->inline_bvecs,
	};
	hrtimer_init(&req->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	req->timer.function = aiodev_timer_fn;

	if (r->flags & AIODEV_REQ_EVENTFD) {
		req->eventfd = eventfd_ctx_fdget(r->eventfd);
		if (IS_ERR(req->eventfd)) {
			ret = PTR_ERR(req->eventfd);
			req->eventfd = NULL;
			goto free;
		}
	}
	if (r->op != AIODEV_OP_NOP) {
		ret = aiodev_pin_user_buf(req, r->buf);
		if (ret)
			goto put_eventfd;
	}
	if (r->op == AIODEV_OP_WRITE) {
		ret = aiodev_store_prepare_write(&ctx->dev->store, r->offset,
						 r->len);
		if (ret)
			goto unpin;
	}

	/* Reserve the index; the request is published only once armed. */
	ret = xa_alloc_bh(&ctx->reqs, &index, NULL, xa_limit_32b, GFP_KERNEL);
	if (ret)
		goto unpin;
	/* The upper half makes a recycled index a different id. */
	req->id = (u64)(u32)atomic_inc_return(&ctx->id_seq) << 32 | index;
	if (put_user(req->id, uid)) {
		ret = -EFAULT;
		goto erase;
	}

	aiodev_account_submit(ctx);
	fire_ns = aiodev_plan(req, r, cfg);
	req->submit_ns = ktime_get_ns();

	/*
	 * Publish and arm under the xarray lock: CANCEL and close look the
	 * request up under it, so they never see one whose timer is unarmed.
	 */
	xa_lock_bh(&ctx->reqs);
	__xa_store(&ctx->reqs, index, req, GFP_NOWAIT);
	hrtimer_start(&req->timer, ns_to_ktime(req->submit_ns + fire_ns),
		      HRTIMER_MODE_ABS);
	xa_unlock_bh(&ctx->reqs);
	return 0;

erase:
	xa_erase_bh(&ctx->reqs, index);
unpin:
	aiodev_unpin(req, false);
put_eventfd:
	if (req->eventfd)
		eventfd_ctx_put(req->eventfd);
free:
	aiodev_req_free(req);
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
		ctx->nr_outstanding += got;
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
	ctx->nr_outstanding -= nr;
	spin_unlock_bh(&ctx->lock);
	wake_up(&ctx->slot_wq);
}

long aiodev_submit(struct aiodev_context *ctx,
		   struct aiodev_req __user *ureqs, u32 nr, bool nonblock)
{
	struct aiodev_config cfg;
	u32 accepted = 0, reserved = 0;
	long ret = 0;

	aiodev_config_get(ctx->dev, &cfg);
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
		ret = aiodev_submit_one(ctx, &cfg, &r, &ureqs[accepted].id);
		if (ret)
			break;
		accepted++;
		reserved--;
	}
	if (reserved)
		aiodev_release_slots(ctx, reserved);
	return accepted ? accepted : ret;
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
		ctx->nr_events -= n;
		ctx->nr_outstanding -= n;
		spin_unlock_bh(&ctx->lock);
		wake_up(&ctx->slot_wq);
		done += n;
	}
	mutex_unlock(&ctx->reap_mutex);
	return done ? done : ret;
}

long aiodev_getevents(struct aiodev_context *ctx,
		      struct aiodev_event __user *uevents,
		      u32 min_nr, u32 max_nr, s64 timeout_nsec)
{
	int ret = 0;

	if (min_nr && timeout_nsec < 0)
		ret = wait_event_interruptible(ctx->event_wq,
					       READ_ONCE(ctx->nr_events) >= min_nr);
	else if (min_nr && timeout_nsec > 0)
		ret = wait_event_interruptible_hrtimeout(ctx->event_wq,
					READ_ONCE(ctx->nr_events) >= min_nr,
					ns_to_ktime(timeout_nsec));
	/* A relative timeout must not restart from scratch: like aio, -EINTR. */
	if (ret == -ERESTARTSYS)
		return -EINTR;
	return aiodev_reap(ctx, uevents, max_nr);
}

int aiodev_cancel(struct aiodev_context *ctx, u64 id)
{
	struct aiodev_request *req;
	int ret;

	xa_lock_bh(&ctx->reqs);
	req = xa_load(&ctx->reqs, lower_32_bits(id));
	if (!req || req->id != id)
		ret = -ENOENT;
	else if (atomic_cmpxchg(&req->state, AIODEV_REQ_PENDING,
				AIODEV_REQ_CANCELLED) != AIODEV_REQ_PENDING)
		ret = -EALREADY;
	else
		ret = 0;
	xa_unlock_bh(&ctx->reqs);

	if (!ret)
		aiodev_cancel_claimed(req);
	return ret;
}

__poll_t aiodev_context_poll(struct aiodev_context *ctx)
{
	__poll_t mask = 0;

	if (READ_ONCE(ctx->nr_events))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (READ_ONCE(ctx->nr_outstanding) < ctx->depth)
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* ---- contexts --------------------------------------------------------- */

struct aiodev_context *aiodev_context_create(struct aiodev_device *dev,
					     bool can_read, bool can_write)
{
	struct aiodev_context *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return NULL;
	ctx->depth = aiodev_queue_depth;
	ctx->ring = kvcalloc(ctx->depth, sizeof(*ctx->ring), GFP_KERNEL);
	if (!ctx->ring) {
		kfree(ctx);
		return NULL;
	}
	ctx->dev = dev;
	ctx->can_read = can_read;
	ctx->can_write = can_write;
	xa_init_flags(&ctx->reqs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
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
	struct llist_node *claimed = NULL, *pos, *next;
	struct aiodev_request *req;
	unsigned long index;
	bool wait;

	spin_lock_bh(&ctx->lock);
	ctx->closing = true;
	wait = ctx->nr_inflight;
	spin_unlock_bh(&ctx->lock);

	xa_lock_bh(&ctx->reqs);
	xa_for_each(&ctx->reqs, index, req) {
		if (atomic_cmpxchg(&req->state, AIODEV_REQ_PENDING,
				   AIODEV_REQ_CANCELLED) != AIODEV_REQ_PENDING)
			continue;
		req->node.next = claimed;
		claimed = &req->node;
	}
	xa_unlock_bh(&ctx->reqs);

	llist_for_each_safe(pos, next, claimed)
		aiodev_cancel_claimed(llist_entry(pos, struct aiodev_request,
						  node));

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

/* ---- configuration ---------------------------------------------------- */

static bool aiodev_errno_ok(bool on, s32 err)
{
	return on ? err >= 1 && err <= AIODEV_MAX_ERRNO : !err;
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
	if (!cfg->fail_len && cfg->fail_offset)
		return -EINVAL;
	if (cfg->fail_offset > size || cfg->fail_len > size - cfg->fail_offset)
		return -EINVAL;
	return 0;
}

/* The caller holds dev->config_mutex and has checked @cfg. */
void aiodev_config_set(struct aiodev_device *dev,
		       const struct aiodev_config *cfg)
{
	spin_lock(&dev->config_lock);
	dev->config = *cfg;
	atomic64_set(&dev->fault_seq, 0);
	spin_unlock(&dev->config_lock);
}

void aiodev_config_get(struct aiodev_device *dev, struct aiodev_config *cfg)
{
	spin_lock(&dev->config_lock);
	*cfg = dev->config;
	spin_unlock(&dev->config_lock);
}

/* ---- setup ------------------------------------------------------------ */

void aiodev_device_engine_init(struct aiodev_device *dev)
{
	init_llist_head(&dev->done_list);
	tasklet_setup(&dev->done_tasklet, aiodev_done_tasklet);
	init_llist_head(&dev->release_list);
	INIT_WORK(&dev->release_work, aiodev_release_work);
}

/* All files are closed: nothing can queue more work. */
void aiodev_device_engine_exit(struct aiodev_device *dev)
{
	tasklet_kill(&dev->done_tasklet);
	flush_work(&dev->release_work);
}

int aiodev_engine_init(void)
{
	aiodev_req_cache = KMEM_CACHE(aiodev_request, 0);
	return aiodev_req_cache ? 0 : -ENOMEM;
}

void aiodev_engine_exit(void)
{
	kmem_cache_destroy(aiodev_req_cache);
}
