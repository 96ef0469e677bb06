/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * aiodev - a character device that completes asynchronous I/O requests after
 * a programmable latency, times them out, fails them on a fault plan, and lets
 * them be cancelled.
 *
 * ioctl magic 0xA9, numbers 0x00-0x1F: free in
 * Documentation/userspace-api/ioctl/ioctl-number.rst (Linux 6.12).
 *
 * Rules for every structure below (Documentation/process/botching-up-ioctls.rst):
 * fixed-width types, user pointers carried in __u64, natural alignment with
 * explicit padding (identical layout for 32-bit and 64-bit userspace), and
 * every flags, padding and reserved field must be zero on input or the call
 * fails with -EINVAL. Times are CLOCK_MONOTONIC nanoseconds.
 */
#ifndef _UAPI_LINUX_AIODEV_H
#define _UAPI_LINUX_AIODEV_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#define AIODEV_ABI_VERSION	1

/* Largest data transfer of one request, in bytes. */
#define AIODEV_MAX_IO_BYTES	_BITUL(20)
/* Largest latency, jitter or timeout a request or the device may ask for. */
#define AIODEV_MAX_NSEC		(3600ULL * 1000000000ULL)
/* Largest errno the fault plan may inject (larger ones are kernel-internal). */
#define AIODEV_MAX_ERRNO	511

/* Bits of aiodev_info.features. */
#define AIODEV_FEAT_NOP		_BITULL(0)	/* AIODEV_OP_NOP */
#define AIODEV_FEAT_EVENTFD	_BITULL(1)	/* AIODEV_REQ_EVENTFD */
#define AIODEV_FEAT_JITTER	_BITULL(2)	/* aiodev_config.jitter_nsec */
#define AIODEV_FEAT_FAULTS	_BITULL(3)	/* aiodev_config.fail_* */
#define AIODEV_FEAT_CANCEL	_BITULL(4)	/* AIODEV_IOC_CANCEL */
#define AIODEV_FEAT_RULES	_BITULL(5)	/* AIODEV_IOC_RULE_*, aiodev_config.seed */
#define AIODEV_FEAT_DISTS	_BITULL(6)	/* AIODEV_IOC_DIST_SET, AIODEV_LATENCY_DIST */
#define AIODEV_FEAT_HOLD	_BITULL(7)	/* AIODEV_RULE_HOLD, AIODEV_IOC_HELD_*, _RELEASE */

/**
 * enum aiodev_op - what a request does when it completes successfully
 * @AIODEV_OP_NOP: nothing; @buf, @offset and @len must be zero. Result 0.
 * @AIODEV_OP_READ: copy @len bytes of the device at @offset into @buf.
 *	Result: @len. Needs a file opened for reading.
 * @AIODEV_OP_WRITE: copy @len bytes from @buf into the device at @offset.
 *	Result: @len. Needs a file opened for writing.
 *
 * Data moves at completion, not at submission, the way DMA hardware does it:
 * a read leaves @buf untouched until its event is posted, a write reads @buf
 * when it completes. A request that times out, is cancelled or fails moves
 * no data at all.
 */
enum aiodev_op {
	AIODEV_OP_NOP = 0,
	AIODEV_OP_READ = 1,
	AIODEV_OP_WRITE = 2,
};

/* Bits of aiodev_req.flags. */
#define AIODEV_REQ_LATENCY	_BITUL(0)  /* use latency_nsec, no jitter */
#define AIODEV_REQ_TIMEOUT	_BITUL(1)  /* use timeout_nsec (0: none) */
#define AIODEV_REQ_EVENTFD	_BITUL(2)  /* signal eventfd on completion */
#define AIODEV_REQ_FLAGS_ALL	(AIODEV_REQ_LATENCY | AIODEV_REQ_TIMEOUT | \
				 AIODEV_REQ_EVENTFD)

/**
 * struct aiodev_req - one request descriptor of AIODEV_IOC_SUBMIT
 * @user_data: opaque cookie, returned untouched in the completion event.
 * @buf: user address of the data buffer (READ, WRITE); its pages are pinned
 *	from submission to completion.
 * @offset: byte offset into the device; @offset + @len must not exceed
 *	the device size (else -EINVAL).
 * @len: bytes to transfer, 1 to AIODEV_MAX_IO_BYTES (READ, WRITE).
 * @op: an &enum aiodev_op.
 * @flags: AIODEV_REQ_* bits.
 * @latency_nsec: with AIODEV_REQ_LATENCY, the exact time from submission
 *	to completion; otherwise ignored and must be zero, and the device's
 *	latency plus a uniform random jitter applies. At most AIODEV_MAX_NSEC.
 * @timeout_nsec: with AIODEV_REQ_TIMEOUT, the deadline relative to
 *	submission (0: none); otherwise ignored and must be zero, and the
 *	device's default timeout applies. A request whose deadline comes
 *	before or at the same instant as its completion fails with -ETIMEDOUT.
 *	At most AIODEV_MAX_NSEC.
 * @eventfd: with AIODEV_REQ_EVENTFD, an eventfd that is incremented by one
 *	when the request completes; otherwise must be zero.
 * @__reserved: must be zero.
 * @id: output: the id the kernel gave the request, for AIODEV_IOC_CANCEL;
 *	written back when the request is accepted. Never zero.
 */
struct aiodev_req {
	__u64 user_data;
	__u64 buf;
	__u64 offset;
	__u32 len;
	__u16 op;
	__u16 flags;
	__u64 latency_nsec;
	__u64 timeout_nsec;
	__s32 eventfd;
	__u32 __reserved;
	__u64 id;
};

/**
 * struct aiodev_submit - argument of AIODEV_IOC_SUBMIT
 * @reqs: user address of an array of @nr &struct aiodev_req.
 * @nr: number of descriptors, 1 to the context's queue_depth.
 * @flags: must be zero.
 *
 * Requests are accepted in order. The call returns how many were accepted;
 * if the first is refused it returns that request's error instead
 * (io_submit(2) semantics). A context holds at most queue_depth requests
 * that have not been reaped by AIODEV_IOC_GETEVENTS. When it is full
 * before any request of the call is accepted, the call sleeps until a slot
 * frees (a signal ends the sleep with -EINTR, or restarts the call under
 * SA_RESTART), or with O_NONBLOCK fails with -EAGAIN. Once some requests
 * are accepted, a full context ends the call with their count: only the
 * caller's reaping frees slots.
 */
struct aiodev_submit {
	__u64 reqs;
	__u32 nr;
	__u32 flags;
};

/**
 * struct aiodev_event - a completion, as returned by AIODEV_IOC_GETEVENTS
 * @user_data: the request's cookie.
 * @id: the request's id.
 * @result: bytes transferred (READ, WRITE), 0 (NOP), or a negative errno:
 *	-ETIMEDOUT (deadline passed), -ECANCELED (cancelled), or the fault
 *	plan's errno.
 * @submit_ns: when the request was accepted (CLOCK_MONOTONIC).
 * @complete_ns: when its completion was posted (CLOCK_MONOTONIC).
 * @op: the request's &enum aiodev_op.
 * @__pad: zero.
 * @__reserved: zero.
 */
struct aiodev_event {
	__u64 user_data;
	__u64 id;
	__s64 result;
	__u64 submit_ns;
	__u64 complete_ns;
	__u16 op;
	__u16 __pad;
	__u32 __reserved;
};

/**
 * struct aiodev_getevents - argument of AIODEV_IOC_GETEVENTS
 * @events: user address of an array of @max_nr &struct aiodev_event.
 * @min_nr: wait until at least this many events are ready (0: don't wait);
 *	at most the context's queue_depth.
 * @max_nr: copy out at most this many, at least 1 and at least @min_nr.
 * @timeout_nsec: longest wait; negative: no limit; 0: don't wait.
 * @flags: must be zero.
 * @__reserved: must be zero.
 *
 * Returns the number of events copied (possibly fewer than @min_nr when
 * the timeout expires), in completion order. A signal ends the wait with
 * -EINTR; events are removed from the context only once copied to the
 * user, so neither a signal nor a fault loses one.
 */
struct aiodev_getevents {
	__u64 events;
	__u32 min_nr;
	__u32 max_nr;
	__s64 timeout_nsec;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct aiodev_cancel - argument of AIODEV_IOC_CANCEL
 * @id: the id of a request submitted through this file.
 * @flags: must be zero.
 * @__reserved: must be zero.
 *
 * On success (0) the request completes exactly once, with -ECANCELED, and
 * moves no data. -EALREADY: the request's time has come and its
 * completion is under way; its event follows with its own result.
 * -ENOENT: no request with that id is in flight on this file: there never
 * was one, or its event is already posted.
 */
struct aiodev_cancel {
	__u64 id;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct aiodev_config - per-device behaviour (AIODEV_IOC_GET/SET_CONFIG)
 * @latency_nsec: fixed part of the default latency.
 * @jitter_nsec: a uniform random 0..@jitter_nsec is added to the default
 *	latency, so requests complete out of order.
 * @timeout_nsec: default deadline (0: none).
 * @fail_every_nth: fail every Nth request submitted to the device, counted
 *	from this SET_CONFIG (0: off).
 * @fail_nth_errno: the positive errno those requests fail with.
 * @fail_offset: fail READ and WRITE requests touching the byte range
 *	[@fail_offset, @fail_offset + @fail_len).
 * @fail_len: length of that range (0: off).
 * @fail_range_errno: the positive errno those requests fail with.
 * @flags: must be zero.
 * @seed: seeds the device's pseudo-random generator, the source of every
 *	random choice: jitter, rule probabilities, distribution samples.
 *	Every SET_CONFIG restarts the sequence from @seed, so the same seed,
 *	rules and submission order give the same choices. A device starts
 *	with a random seed, shown here.
 * @__reserved: must be zero.
 *
 * A request that a rule decides (AIODEV_IOC_RULE_ADD) gets from the rule
 * what the rule sets and from here the rest; the every-Nth fault counts
 * only the requests whose result no rule decided.
 *
 * Times, and latency plus jitter, are at most AIODEV_MAX_NSEC. An errno
 * is 0 to AIODEV_MAX_ERRNO, and not 0 while its rule is on; the range
 * (even an empty one) lies within the device. Anything else fails with
 * -EINVAL and changes nothing. The
 * settings apply to requests submitted afterwards. SET_CONFIG needs a file
 * opened for writing (else -EBADF) and replaces every field: read, modify,
 * write.
 */
struct aiodev_config {
	__u64 latency_nsec;
	__u64 jitter_nsec;
	__u64 timeout_nsec;
	__u32 fail_every_nth;
	__s32 fail_nth_errno;
	__u64 fail_offset;
	__u64 fail_len;
	__s32 fail_range_errno;
	__u32 flags;
	__u64 seed;
	__u64 __reserved[3];
};

/* Rules and distributions a device may hold. */
#define AIODEV_MAX_RULES	64
#define AIODEV_MAX_DISTS	16
#define AIODEV_MAX_DIST_BUCKETS	256
#define AIODEV_NAME_LEN		16
/* Probabilities are in parts per million. */
#define AIODEV_PPM		1000000

/**
 * enum aiodev_path - how a request reached the device
 * @AIODEV_PATH_IOCTL: AIODEV_IOC_SUBMIT.
 * @AIODEV_PATH_AIO: an asynchronous kiocb: io_submit(2), io_uring.
 * @AIODEV_PATH_SYNC: read(2), write(2), preadv2(2) and the like.
 */
enum aiodev_path {
	AIODEV_PATH_IOCTL = 0,
	AIODEV_PATH_AIO = 1,
	AIODEV_PATH_SYNC = 2,
};

/**
 * enum aiodev_latency_kind - where a rule takes a request's latency from
 * @AIODEV_LATENCY_DEFAULT: as without the rule: the request's own
 *	AIODEV_REQ_LATENCY, else the device's latency plus jitter.
 * @AIODEV_LATENCY_FIXED: exactly @latency_nsec.
 * @AIODEV_LATENCY_UNIFORM: uniform in [@latency_nsec, @latency_max_nsec].
 * @AIODEV_LATENCY_DIST: a sample of the distribution named @dist.
 */
enum aiodev_latency_kind {
	AIODEV_LATENCY_DEFAULT = 0,
	AIODEV_LATENCY_FIXED = 1,
	AIODEV_LATENCY_UNIFORM = 2,
	AIODEV_LATENCY_DIST = 3,
};

/**
 * enum aiodev_result_kind - how a request a rule decides ends
 * @AIODEV_RESULT_DEFAULT: as without the rule: success, or the device's
 *	fault plan.
 * @AIODEV_RESULT_OK: success, whatever the fault plan says.
 * @AIODEV_RESULT_ERROR: fails with -@error, moving no data.
 * @AIODEV_RESULT_SHORT: succeeds with at most @bytes transferred: the first
 *	@bytes move and the result is their count.
 * @AIODEV_RESULT_TORN: the first @bytes move (a write stores them, a read
 *	delivers them), then the request fails with -@error.
 * @AIODEV_RESULT_TIMEOUT: fails with -ETIMEDOUT at its deadline, or at its
 *	latency if it has no deadline; moves no data.
 * @AIODEV_RESULT_REFUSE: refused at submission with -@error: the request
 *	never exists. AIODEV_IOC_SUBMIT stops at it and returns the count
 *	accepted before it, or -@error if it was the first; read_iter and
 *	write_iter return -@error at once (an immediate event for libaio, a
 *	completion for io_uring, the syscall's error for read/write).
 *
 * A request whose deadline comes first still fails with -ETIMEDOUT, except
 * one refused at submission, or held (AIODEV_RULE_HOLD): a held request has
 * no latency and no deadline of its own, only the rule's @hold_nsec; it
 * ends when released (AIODEV_IOC_RELEASE) with this result or another,
 * cancelled, or at @hold_nsec.
 */
enum aiodev_result_kind {
	AIODEV_RESULT_DEFAULT = 0,
	AIODEV_RESULT_OK = 1,
	AIODEV_RESULT_ERROR = 2,
	AIODEV_RESULT_SHORT = 3,
	AIODEV_RESULT_TORN = 4,
	AIODEV_RESULT_TIMEOUT = 5,
	AIODEV_RESULT_REFUSE = 6,
};

/* Bits of aiodev_rule.flags. */
#define AIODEV_RULE_PROB	_BITUL(0)	/* @prob_ppm is a condition */
#define AIODEV_RULE_HOLD	_BITUL(1)	/* park the request: AIODEV_IOC_RELEASE */
#define AIODEV_RULE_FLAGS_ALL	(AIODEV_RULE_PROB | AIODEV_RULE_HOLD)

/**
 * struct aiodev_rule - a rule: which requests it matches and their fate
 * @id: output: the rule's id, unique on the device until the module is
 *	unloaded; must be zero on input.
 * @flags: AIODEV_RULE_* bits.
 * @ops: bit (1 << op) for each &enum aiodev_op matched; 0: any.
 * @paths: bit (1 << path) for each &enum aiodev_path matched; 0: any.
 * @offset: with @range_len, match READ and WRITE requests touching the byte
 *	range [@offset, @offset + @range_len), which lies within the device.
 * @range_len: 0: no range condition (and @offset must be zero).
 * @min_len: match requests of at least @min_len bytes...
 * @max_len: ...and at most @max_len (0: no upper bound).
 * @tgid: match requests submitted by this process (0: any), a pid in the
 *	caller's pid namespace; it must exist (else -ESRCH). Listed as seen
 *	from the lister's namespace, 0 once the process is gone from it.
 * @prob_ppm: with AIODEV_RULE_PROB, apply with this probability, drawn from
 *	the device's generator; 0 to AIODEV_PPM.
 * @every: apply to every Nth request that meets the other conditions (0 and
 *	1: each).
 * @skip: let the first @skip requests that meet the conditions pass.
 * @count: apply at most @count times (0: no limit).
 * @latency_kind: an &enum aiodev_latency_kind.
 * @result_kind: an &enum aiodev_result_kind.
 * @latency_nsec: AIODEV_LATENCY_FIXED: the latency; AIODEV_LATENCY_UNIFORM:
 *	the lowest. Otherwise zero.
 * @latency_max_nsec: AIODEV_LATENCY_UNIFORM: the highest, at least
 *	@latency_nsec, at most AIODEV_MAX_NSEC. Otherwise zero.
 * @error: positive errno, 1 to AIODEV_MAX_ERRNO, for AIODEV_RESULT_ERROR,
 *	_TORN and _REFUSE; otherwise zero.
 * @bytes: AIODEV_RESULT_SHORT and _TORN: the bytes that move (a request
 *	of fewer bytes moves all of its own); otherwise zero.
 * @__pad: must be zero.
 * @dist: AIODEV_LATENCY_DIST: the name of a distribution the device holds
 *	(AIODEV_IOC_DIST_SET), NUL-terminated; otherwise all zero.
 * @matched: output: requests that met every condition before the counters
 *	and the probability (@skip, @every, @count, @prob_ppm) were applied.
 * @applied: output: requests whose fate the rule decided.
 * @hold_nsec: with AIODEV_RULE_HOLD, a safety deadline (0: none): a request
 *	still held that long after its submission fails with -ETIMEDOUT.
 *	At most AIODEV_MAX_NSEC; zero without AIODEV_RULE_HOLD.
 * @__reserved: must be zero.
 *
 * A device holds up to AIODEV_MAX_RULES rules, in the order they were
 * added. At submission, the first rule that matches a request and whose
 * counters and probability let it apply decides its fate; the others are
 * not consulted. A request no rule decides gets the device's configuration.
 * Counters start at zero when the rule is added.
 */
struct aiodev_rule {
	__u32 id;
	__u32 flags;
	__u32 ops;
	__u32 paths;
	__u64 offset;
	__u64 range_len;
	__u32 min_len;
	__u32 max_len;
	__s32 tgid;
	__u32 prob_ppm;
	__u64 every;
	__u64 skip;
	__u64 count;
	__u16 latency_kind;
	__u16 result_kind;
	__s32 error;
	__u64 latency_nsec;
	__u64 latency_max_nsec;
	__u32 bytes;
	__u32 __pad;
	char dist[AIODEV_NAME_LEN];
	__u64 matched;
	__u64 applied;
	__u64 hold_nsec;
	__u64 __reserved[3];
};

/**
 * struct aiodev_rule_list - argument of AIODEV_IOC_RULE_LIST and _RULE_LOAD
 * @rules: user address of an array of @nr &struct aiodev_rule.
 * @nr: RULE_LIST: room in @rules (0: just count); RULE_LOAD: the number of
 *	rules, 0 to AIODEV_MAX_RULES.
 * @flags: must be zero.
 *
 * RULE_LIST copies the device's rules, in order, with their counters, and
 * returns how many the device holds (which may exceed @nr: only @nr are
 * copied). RULE_LOAD replaces all the device's rules with @rules at once,
 * checked as RULE_ADD checks one (any error changes nothing); the new
 * rules get consecutive ids, and the call returns the first (0 if @nr is 0).
 */
struct aiodev_rule_list {
	__u64 rules;
	__u32 nr;
	__u32 flags;
};

/**
 * struct aiodev_dist_bucket - one bucket of a latency distribution
 * @min_nsec: the bucket's lowest latency...
 * @max_nsec: ...and its highest, at least @min_nsec, at most AIODEV_MAX_NSEC;
 *	a sample is uniform between them.
 * @weight: how often the bucket is drawn, relative to the others; at most
 *	2^32 - 1.
 */
struct aiodev_dist_bucket {
	__u64 min_nsec;
	__u64 max_nsec;
	__u64 weight;
};

/**
 * struct aiodev_dist - argument of AIODEV_IOC_DIST_SET
 * @name: the distribution's name, 1 to AIODEV_NAME_LEN - 1 characters of
 *	[A-Za-z0-9_.-], NUL-padded.
 * @buckets: user address of an array of @nr_buckets &struct aiodev_dist_bucket.
 * @nr_buckets: 1 to AIODEV_MAX_DIST_BUCKETS: define or replace the
 *	distribution (rules using it sample the new one from then on);
 *	0: delete it (-EBUSY while a rule uses it, -ENOENT if there is none).
 * @flags: must be zero.
 * @__reserved: must be zero.
 *
 * Not every weight may be zero. A device holds up to AIODEV_MAX_DISTS
 * distributions (-ENOSPC beyond).
 */
struct aiodev_dist {
	char name[AIODEV_NAME_LEN];
	__u64 buckets;
	__u32 nr_buckets;
	__u32 flags;
	__u64 __reserved[2];
};

/* Requests a device may hold at once; a hold past it refuses with -EBUSY. */
#define AIODEV_MAX_HELD		4096

/**
 * struct aiodev_held - a held request, as AIODEV_IOC_HELD_LIST reports it
 * @hold_id: the device-wide id AIODEV_IOC_RELEASE takes; never zero.
 * @id: the request's own id (for its file: CANCEL, events).
 * @user_data: the request's cookie (AIODEV_PATH_IOCTL; 0 for the others).
 * @offset: where it reads or writes.
 * @len: how many bytes.
 * @op: an &enum aiodev_op.
 * @path: an &enum aiodev_path.
 * @tgid: the process that submitted it, as the caller sees it (0 if not
 *	visible from the caller's pid namespace).
 * @flags: AIODEV_HELD_PARKED: released with AIODEV_RELEASE_PARK, its
 *	completion waits for a second release (or any cancel).
 * @since_ns: when it was submitted, and held (CLOCK_MONOTONIC).
 */
struct aiodev_held {
	__u64 hold_id;
	__u64 id;
	__u64 user_data;
	__u64 offset;
	__u32 len;
	__u16 op;
	__u16 path;
	__s32 tgid;
	__u32 flags;
	__u64 since_ns;
};

#define AIODEV_HELD_PARKED	_BITUL(0)

/**
 * struct aiodev_held_list - argument of AIODEV_IOC_HELD_LIST
 * @held: user address of an array of @nr &struct aiodev_held.
 * @nr: room in @held (0: just count).
 * @flags: must be zero.
 *
 * Copies the device's held requests, oldest hold first, and returns how
 * many the device holds (only @nr are copied).
 */
struct aiodev_held_list {
	__u64 held;
	__u32 nr;
	__u32 flags;
};

/**
 * struct aiodev_held_wait - argument of AIODEV_IOC_HELD_WAIT
 * @min_nr: wait until the device holds at least this many requests,
 *	1 to AIODEV_MAX_HELD.
 * @flags: must be zero.
 * @timeout_nsec: longest wait; negative: no limit; 0: don't wait.
 *
 * Returns how many requests the device holds, at least @min_nr; or
 * -ETIMEDOUT when the timeout passes first, -EINTR on a signal. poll(2)
 * reports EPOLLPRI while the device holds any request.
 */
struct aiodev_held_wait {
	__u32 min_nr;
	__u32 flags;
	__s64 timeout_nsec;
};

/**
 * enum aiodev_release_kind - how a released request ends
 * @AIODEV_RELEASE_PLANNED: as decided at submission (its rule's result, or
 *	the device's fault plan, or success).
 * @AIODEV_RELEASE_OK: success: all its bytes move.
 * @AIODEV_RELEASE_ERROR: fails with -@error, moving no data.
 * @AIODEV_RELEASE_SHORT: succeeds with its first @bytes moved.
 * @AIODEV_RELEASE_TORN: its first @bytes move, then it fails with -@error.
 * @AIODEV_RELEASE_CANCEL: cancelled: -ECANCELED, no data, counted cancelled.
 */
enum aiodev_release_kind {
	AIODEV_RELEASE_PLANNED = 0,
	AIODEV_RELEASE_OK = 1,
	AIODEV_RELEASE_ERROR = 2,
	AIODEV_RELEASE_SHORT = 3,
	AIODEV_RELEASE_TORN = 4,
	AIODEV_RELEASE_CANCEL = 5,
};

/**
 * struct aiodev_release - one request to release
 * @hold_id: from AIODEV_IOC_HELD_LIST.
 * @kind: an &enum aiodev_release_kind.
 * @flags: AIODEV_RELEASE_PARK (not with AIODEV_RELEASE_CANCEL): the
 *	request is released, its result set, but its completion is parked:
 *	it is "already completing", and a cancel of any kind (CANCEL, which
 *	then returns -EALREADY, io_cancel, a signal, close) or a second
 *	release (AIODEV_RELEASE_PLANNED keeps the result set here) delivers
 *	it. It stays listed, with AIODEV_HELD_PARKED.
 * @error: positive errno, 1 to AIODEV_MAX_ERRNO, for _ERROR and _TORN;
 *	otherwise zero.
 * @bytes: for _SHORT and _TORN; otherwise zero.
 * @__reserved: must be zero.
 */
struct aiodev_release {
	__u64 hold_id;
	__u16 kind;
	__u16 flags;
	__s32 error;
	__u32 bytes;
	__u32 __reserved;
};

/* Bits of aiodev_release.flags. */
#define AIODEV_RELEASE_PARK	_BITUL(0)

/* Bits of aiodev_release_list.flags. */
#define AIODEV_RELEASE_ALL	_BITUL(0)	/* every held request, planned */

/**
 * struct aiodev_release_list - argument of AIODEV_IOC_RELEASE
 * @releases: user address of an array of @nr &struct aiodev_release.
 * @nr: 1 to AIODEV_MAX_HELD; 0 with AIODEV_RELEASE_ALL.
 * @flags: AIODEV_RELEASE_ALL, or zero.
 *
 * Every entry is checked first (-EINVAL changes nothing). Then the
 * requests are released in the given order, and complete in that order on
 * every path. The call stops at a hold id the device does not hold (never
 * held, released or cancelled already, or timed out) and returns how many
 * were released, or -ENOENT if that was the first. With AIODEV_RELEASE_ALL
 * every held request is released, oldest hold first, and the count
 * returned.
 */
struct aiodev_release_list {
	__u64 releases;
	__u32 nr;
	__u32 flags;
};

/**
 * struct aiodev_info - argument of AIODEV_IOC_GET_INFO (output only)
 * @abi_version: AIODEV_ABI_VERSION of the running module.
 * @index: N of /dev/aiodevN.
 * @features: AIODEV_FEAT_* bits.
 * @size_bytes: capacity of the device's RAM-backed store.
 * @max_io_bytes: largest @len of one request.
 * @queue_depth: requests one open file may hold unreaped.
 * @max_nsec: AIODEV_MAX_NSEC.
 * @__reserved: zero.
 */
struct aiodev_info {
	__u32 abi_version;
	__u32 index;
	__u64 features;
	__u64 size_bytes;
	__u32 max_io_bytes;
	__u32 queue_depth;
	__u64 max_nsec;
	__u64 __reserved[4];
};

/**
 * struct aiodev_counters - request accounting
 * @submitted: requests accepted.
 * @completed_ok: completed with a non-negative result.
 * @timed_out: completed with -ETIMEDOUT.
 * @cancelled: completed with -ECANCELED.
 * @failed: completed with a fault-plan errno.
 * @in_flight: accepted and not yet completed. @submitted = @completed_ok +
 *	@timed_out + @cancelled + @failed + @in_flight, at every instant for
 *	a context and whenever no request is being submitted or completed
 *	for the device.
 * @peak_in_flight: highest @in_flight seen.
 * @__reserved: zero.
 */
struct aiodev_counters {
	__u64 submitted;
	__u64 completed_ok;
	__u64 timed_out;
	__u64 cancelled;
	__u64 failed;
	__u64 in_flight;
	__u64 peak_in_flight;
	__u64 __reserved;
};

/**
 * struct aiodev_stats - argument of AIODEV_IOC_GET_STATS (output only)
 * @device: all requests of the device since the module was loaded.
 * @context: the requests of the calling open file.
 */
struct aiodev_stats {
	struct aiodev_counters device;
	struct aiodev_counters context;
};

#define AIODEV_IOC_MAGIC	0xA9

#define AIODEV_IOC_GET_INFO	_IOR(AIODEV_IOC_MAGIC, 0x00, struct aiodev_info)
#define AIODEV_IOC_SUBMIT	_IOW(AIODEV_IOC_MAGIC, 0x01, struct aiodev_submit)
#define AIODEV_IOC_GETEVENTS	_IOW(AIODEV_IOC_MAGIC, 0x02, struct aiodev_getevents)
#define AIODEV_IOC_CANCEL	_IOW(AIODEV_IOC_MAGIC, 0x03, struct aiodev_cancel)
#define AIODEV_IOC_GET_CONFIG	_IOR(AIODEV_IOC_MAGIC, 0x04, struct aiodev_config)
#define AIODEV_IOC_SET_CONFIG	_IOW(AIODEV_IOC_MAGIC, 0x05, struct aiodev_config)
#define AIODEV_IOC_GET_STATS	_IOR(AIODEV_IOC_MAGIC, 0x06, struct aiodev_stats)
/*
 * Rules and distributions. Changing them needs a file opened for writing
 * (else -EBADF); a submission sees the rules before a change or after it,
 * never half of one. RULE_ADD: -ENOSPC when AIODEV_MAX_RULES are held.
 * RULE_DEL: the rule with that id (-ENOENT if there is none). RULE_CLEAR:
 * every rule. RULE_LOAD: see &struct aiodev_rule_list.
 */
#define AIODEV_IOC_RULE_ADD	_IOWR(AIODEV_IOC_MAGIC, 0x07, struct aiodev_rule)
#define AIODEV_IOC_RULE_DEL	_IOW(AIODEV_IOC_MAGIC, 0x08, __u32)
#define AIODEV_IOC_RULE_CLEAR	_IO(AIODEV_IOC_MAGIC, 0x09)
#define AIODEV_IOC_RULE_LIST	_IOW(AIODEV_IOC_MAGIC, 0x0A, struct aiodev_rule_list)
#define AIODEV_IOC_DIST_SET	_IOW(AIODEV_IOC_MAGIC, 0x0B, struct aiodev_dist)
#define AIODEV_IOC_RULE_LOAD	_IOW(AIODEV_IOC_MAGIC, 0x0C, struct aiodev_rule_list)
/*
 * Held requests, of any file of the device. HELD_LIST and HELD_WAIT on any
 * file; RELEASE needs one opened for writing (else -EBADF).
 */
#define AIODEV_IOC_HELD_LIST	_IOW(AIODEV_IOC_MAGIC, 0x0D, struct aiodev_held_list)
#define AIODEV_IOC_HELD_WAIT	_IOW(AIODEV_IOC_MAGIC, 0x0E, struct aiodev_held_wait)
#define AIODEV_IOC_RELEASE	_IOW(AIODEV_IOC_MAGIC, 0x0F, struct aiodev_release_list)

#endif /* _UAPI_LINUX_AIODEV_H */
