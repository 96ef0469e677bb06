/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libaiodev - thin wrappers around the aiodev ioctl ABI (<linux/aiodev.h>).
 *
 * Every call is one system call on the file descriptor it is given: no
 * threads, no global state, no retries. Like libaio, functions return a
 * negative errno on failure; errno is not part of the interface. After
 * -EINTR the caller may simply call again.
 */
#ifndef LIBAIODEV_H
#define LIBAIODEV_H

#include <stdint.h>
#include <string.h>
#include <linux/aiodev.h>

#ifdef __cplusplus
extern "C" {
#endif

/* aiodev_getevents() @timeout_ns that waits for @min_nr without limit. */
#define AIODEV_WAIT_FOREVER	(-1LL)

/*
 * Open /dev/aiodev<index> with open(2) @flags (O_RDONLY, O_WRONLY, O_RDWR,
 * optionally O_NONBLOCK); O_CLOEXEC is always added. READ requests need a
 * file opened for reading, WRITE requests and aiodev_set_config() one
 * opened for writing. Each open is an independent context.
 * Returns the file descriptor, or -EINVAL for a negative @index, or the
 * negative errno of open(2).
 */
int aiodev_open(int index, int flags);

/* As aiodev_open(), for a device node given by @path. */
int aiodev_open_path(const char *path, int flags);

/*
 * Close the context. Requests still in flight are the kernel's to clean up.
 * Returns 0 or the negative errno of close(2).
 */
int aiodev_close(int fd);

/* Fill @info (AIODEV_IOC_GET_INFO). Returns 0 or a negative errno. */
int aiodev_get_info(int fd, struct aiodev_info *info);

/*
 * Submit @nr requests (AIODEV_IOC_SUBMIT), 1 to queue_depth, accepted in
 * order; each accepted request gets its id written to @reqs[i].id.
 * Returns how many were accepted (1..@nr; fewer when the context fills up
 * or a later request is refused), or, when the first was refused, its
 * negative errno: -EINVAL (bad descriptor or @nr), -EBADF (the file's mode
 * does not allow the op), -EFAULT, -EAGAIN (context full and O_NONBLOCK),
 * -EINTR (signal while waiting for a free slot). A full context frees
 * slots only as aiodev_getevents() reaps: a single-threaded caller that
 * keeps queue_depth requests unreaped and submits again waits forever.
 */
int aiodev_submit(int fd, struct aiodev_req *reqs, unsigned int nr);

/*
 * Copy up to @max_nr completion events into @events, in completion order
 * (AIODEV_IOC_GETEVENTS), waiting until @min_nr are ready or @timeout_ns
 * passes (negative, e.g. AIODEV_WAIT_FOREVER: no limit; 0: don't wait).
 * Returns the number of events copied (fewer than @min_nr on timeout), or
 * -EINVAL (@max_nr is 0, below @min_nr or above INT_MAX, @min_nr above
 * queue_depth), -EFAULT, -EINTR. No event is lost on an error.
 */
int aiodev_getevents(int fd, unsigned int min_nr, unsigned int max_nr,
		     struct aiodev_event *events, int64_t timeout_ns);

/*
 * Cancel the request with @id submitted through @fd (AIODEV_IOC_CANCEL).
 * Returns 0 when it will complete with -ECANCELED, -EALREADY when it is
 * already completing with its own result, -ENOENT when no such request is
 * in flight on @fd.
 */
int aiodev_cancel(int fd, uint64_t id);

/* Fill @cfg (AIODEV_IOC_GET_CONFIG). Returns 0 or a negative errno. */
int aiodev_get_config(int fd, struct aiodev_config *cfg);

/*
 * Replace every field of the device's configuration with @cfg
 * (AIODEV_IOC_SET_CONFIG): read it with aiodev_get_config(), modify, write.
 * Returns 0, -EBADF (@fd not opened for writing), -EINVAL (a value out of
 * range, a nonzero flags or reserved field, a rule that is on with a zero
 * errno, or a fail range outside the device) or another negative errno.
 */
int aiodev_set_config(int fd, const struct aiodev_config *cfg);

/*
 * Rules (AIODEV_IOC_RULE_*): decide the fate of matching requests; see
 * struct aiodev_rule in <linux/aiodev.h>. Changing them needs a file opened
 * for writing.
 *
 * aiodev_rule_add() returns the new rule's id (> 0) or a negative errno.
 * aiodev_rule_load() replaces all rules with @nr new ones at once and
 * returns the first new id (0 for none) or a negative errno.
 * aiodev_rule_del() and aiodev_rule_clear() return 0 or a negative errno.
 * aiodev_rule_list() copies up to @nr rules with their counters and returns
 * how many the device holds, or a negative errno.
 */
int aiodev_rule_add(int fd, struct aiodev_rule *rule);
int aiodev_rule_load(int fd, const struct aiodev_rule *rules, unsigned int nr);
int aiodev_rule_del(int fd, uint32_t id);
int aiodev_rule_clear(int fd);
int aiodev_rule_list(int fd, struct aiodev_rule *rules, unsigned int nr);

/*
 * Define or replace the latency distribution @name from @nr buckets, or
 * delete it when @nr is 0 (AIODEV_IOC_DIST_SET). Returns 0 or a negative
 * errno.
 */
int aiodev_dist_set(int fd, const char *name,
		    const struct aiodev_dist_bucket *buckets, unsigned int nr);

/*
 * Held requests (rules with AIODEV_RULE_HOLD), of any file of the device.
 *
 * aiodev_held_list() copies up to @nr of them and returns how many the
 * device holds, or a negative errno. aiodev_held_wait() waits until the
 * device holds at least @min_nr (timeout as for aiodev_getevents(); 0: don't
 * wait) and returns how many, or -ETIMEDOUT, -EINTR or another negative
 * errno. aiodev_release() releases @nr requests in that order (each with its
 * result, see struct aiodev_release) and returns how many were released, or
 * a negative errno; aiodev_release_all() releases every held request with
 * its planned result and returns how many. Releasing needs a file opened
 * for writing.
 */
int aiodev_held_list(int fd, struct aiodev_held *held, unsigned int nr);
int aiodev_held_wait(int fd, unsigned int min_nr, int64_t timeout_ns);
int aiodev_release(int fd, const struct aiodev_release *rel, unsigned int nr);
int aiodev_release_all(int fd);

/*
 * Fill @stats with the device's and this context's counters
 * (AIODEV_IOC_GET_STATS). Returns 0 or a negative errno.
 */
int aiodev_get_stats(int fd, struct aiodev_stats *stats);

/*
 * Request preparation, in the manner of libaio's io_prep_*(): each prep
 * function clears the whole descriptor (flags, padding and reserved fields
 * must be zero), so call it before the aiodev_req_set_*() modifiers.
 */
static inline void aiodev_prep_nop(struct aiodev_req *req, uint64_t user_data)
{
	memset(req, 0, sizeof(*req));
	req->user_data = user_data;
	req->op = AIODEV_OP_NOP;
}

/* Read @len bytes of the device at @offset into @buf, at completion. */
static inline void aiodev_prep_read(struct aiodev_req *req, void *buf,
				    uint32_t len, uint64_t offset,
				    uint64_t user_data)
{
	memset(req, 0, sizeof(*req));
	req->user_data = user_data;
	req->buf = (uint64_t)(uintptr_t)buf;
	req->offset = offset;
	req->len = len;
	req->op = AIODEV_OP_READ;
}

/* Write @len bytes of @buf, as they are at completion, to @offset. */
static inline void aiodev_prep_write(struct aiodev_req *req, const void *buf,
				     uint32_t len, uint64_t offset,
				     uint64_t user_data)
{
	memset(req, 0, sizeof(*req));
	req->user_data = user_data;
	req->buf = (uint64_t)(uintptr_t)buf;
	req->offset = offset;
	req->len = len;
	req->op = AIODEV_OP_WRITE;
}

/* Complete exactly @latency_ns after submission, instead of the default. */
static inline void aiodev_req_set_latency(struct aiodev_req *req,
					  uint64_t latency_ns)
{
	req->flags |= AIODEV_REQ_LATENCY;
	req->latency_nsec = latency_ns;
}

/* Use deadline @timeout_ns after submission (0: none), not the default. */
static inline void aiodev_req_set_timeout(struct aiodev_req *req,
					  uint64_t timeout_ns)
{
	req->flags |= AIODEV_REQ_TIMEOUT;
	req->timeout_nsec = timeout_ns;
}

/* Increment eventfd @efd by one when the request completes. */
static inline void aiodev_req_set_eventfd(struct aiodev_req *req, int efd)
{
	req->flags |= AIODEV_REQ_EVENTFD;
	req->eventfd = efd;
}

#ifdef __cplusplus
}
#endif

#endif /* LIBAIODEV_H */
