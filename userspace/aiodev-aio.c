// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev-aio - drive /dev/aiodevN through Linux kernel AIO (libaio) as a
 * storage application drives a disk: the worked example of its patterns.
 *
 *  - a request structure that embeds struct iocb first and carries its
 *    own context (label, submission time, buffer), recovered from
 *    io_event.obj with container_of();
 *  - io_set_callback(): every completion is dispatched to the callback of
 *    its request, so reaping knows nothing about request kinds;
 *  - io_set_eventfd() + epoll: sleep in epoll_wait() on an eventfd, read
 *    its counter N, reap exactly N events with io_getevents(min=N, max=N);
 *  - io_submit() in batches, io_cancel() of an in-flight request,
 *    io_destroy() as the last word on whatever is still in flight;
 *  - O_DIRECT with aligned buffers that outlive their requests.
 *
 * Every request goes through the aiodev engine: it completes after the
 * device's latency plus jitter, or fails with -ETIMEDOUT at the device's
 * deadline, and its data moves at completion.
 *
 * Exit status: 0 success, 1 runtime failure or unexpected result, 2 usage.
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libaio.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "cli.h"
#include "libaiodev.h"

/* O_DIRECT wants sector-sized transfers; buffers are page aligned. */
#define SECTOR_SIZE		512U
#define BUF_ALIGN		4096U

/* Beyond the longest latency we expect, how long a silence may last. */
#define WATCHDOG_SLACK_NS	(10 * NSEC_PER_SEC)
/* The events an eventfd announced are in the ring already: no wait. */
#define REAP_TIMEOUT_NS		(1 * NSEC_PER_SEC)

#define TIMEOUT_DEMO_LATENCY_NS	(50 * NSEC_PER_MSEC)
#define CANCEL_DEMO_LATENCY_NS	(10 * NSEC_PER_SEC)
/* Well below the latency: a cancel that did nothing shows as a timeout. */
#define CANCEL_DEMO_WAIT_NS	(5 * NSEC_PER_SEC)
/* What the demos' reads find in their buffers if they move no data. */
#define DEMO_FILLER		0xa5

/* Reports of unexpected completions beyond this are only counted. */
#define MAX_REPORTS		10

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* Messages "aiodev-aio: ..."; aiodev-aio(1) documents no hex integers. */
const struct cli_prog cli_prog = {
	.name = "aiodev-aio",
	.help = "aiodev-aio --help",
	.hex = false,
};

static const char usage[] =
"usage: aiodev-aio [options]\n"
"\n"
"Read and write /dev/aiodevN through Linux kernel AIO (libaio), O_DIRECT:\n"
"io_submit() in batches, completions announced by an eventfd watched with\n"
"epoll, reaped with io_getevents() and dispatched to per-request callbacks.\n"
"Prints IOPS and latency percentiles; exits 1 if any request ends other\n"
"than expected.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -n, --requests N      requests to complete (default 256)\n"
"  -q, --depth N         requests in flight at most (default 32)\n"
"  -b, --batch N         requests per io_submit() call (default 8, at most\n"
"                        DEPTH)\n"
"  -s, --bs BYTES        bytes per request, a multiple of 512 (default 4096;\n"
"                        k, m)\n"
"  -m, --mix PCT         percentage of writes (default 0: all reads)\n"
"  -o, --offsets MODE    seq or rand, in blocks of BYTES (default seq)\n"
"      --verify          write N blocks with a pattern, read them back and\n"
"                        compare\n"
"      --timeout-demo    one batch under a device deadline shorter than its\n"
"                        latency (--latency, default 50ms): -ETIMEDOUT\n"
"      --cancel-demo     io_cancel() a read of 10 s latency: -EINPROGRESS,\n"
"                        then its event with -ECANCELED\n"
"      --latency TIME    device latency for this run\n"
"      --jitter TIME     device jitter for this run: a random 0..TIME more,\n"
"                        so requests complete out of order\n"
"  -v, --verbose         print every completion: label, offset, result and\n"
"                        latency\n"
"  -h, --help            show this help\n"
"\n"
"--verify, --timeout-demo and --cancel-demo replace the plain workload;\n"
"several may be given and run in that order. The device's configuration\n"
"is restored on exit, also after Ctrl-C.\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n"
"\n"
"Exit status: 0 success, 1 runtime failure or unexpected result,\n"
"2 usage error.\n";

/* ---- formatting --------------------------------------------------------- */

static struct timespec ns_to_timespec(uint64_t ns)
{
	return (struct timespec) {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};
}

/*
 * Three significant digits in the largest unit that keeps the value >= 1;
 * unlike the aiodev CLI's, also from 1000 s on ("1e+03 s").
 */
static const char *fmt_ns(char *buf, uint64_t ns)
{
	if (ns < NSEC_PER_USEC)
		snprintf(buf, FMT_LEN, "%" PRIu64 " ns", ns);
	else if (ns < NSEC_PER_MSEC)
		snprintf(buf, FMT_LEN, "%.3g us", (double)ns / NSEC_PER_USEC);
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, FMT_LEN, "%.3g ms", (double)ns / NSEC_PER_MSEC);
	else
		snprintf(buf, FMT_LEN, "%.3g s", (double)ns / NSEC_PER_SEC);
	return buf;
}

/*
 * "4096" for a transfer, "-ECANCELED" for an error, followed by
 * " (Operation canceled)" if @explain.
 */
static const char *fmt_result(char *buf, long result, bool explain)
{
	const char *name = NULL;

	if (result < 0 && result >= -AIODEV_MAX_ERRNO)
		name = strerrorname_np((int)-result);
	if (name && explain)
		snprintf(buf, FMT_LEN, "-%s (%s)", name, strerror((int)-result));
	else if (name)
		snprintf(buf, FMT_LEN, "-%s", name);
	else
		snprintf(buf, FMT_LEN, "%ld", result);
	return buf;
}

/* ---- requests ----------------------------------------------------------- */

struct run;

/*
 * One request and everything its completion needs. The kernel knows a
 * request only by the address of its struct iocb, which comes back in
 * io_event.obj; embedding the iocb turns that address into the whole
 * request, with no lookup table. It comes first, so that obj is also the
 * request's own address (code that casts instead of using container_of()
 * still works); the static_assert below keeps it there.
 */
struct aio_req {
	struct iocb iocb;
	struct run *run;	/* the run whose tally the callback updates */
	char label[24];		/* "r17": op and submission number */
	uint64_t seq;		/* submission number within the phase */
	uint64_t submit_ns;	/* CLOCK_MONOTONIC, just before io_submit() */
	uint64_t offset;
	void *buf;		/* BUF_ALIGN aligned, owned by this request */
	long expect;		/* the result it must complete with */
	struct aio_req *next_free;
};

static_assert(offsetof(struct aio_req, iocb) == 0,
	      "struct iocb must be the first member of struct aio_req");

static struct aio_req *to_req(struct iocb *iocb)
{
	return container_of(iocb, struct aio_req, iocb);
}

/* What one phase counts; reset when the next begins. */
struct tally {
	uint64_t done;
	uint64_t ok;
	uint64_t unexpected;	/* wrong result, or wrong data read back */
	uint64_t out_of_order;	/* completed after a later submission */
	uint64_t max_seq;	/* highest seq completed so far, plus one */
	uint64_t *latencies;	/* of each completion, in completion order */
};

struct opts {
	struct device_arg dev;
	uint64_t requests;
	unsigned int depth;
	unsigned int batch;
	uint32_t bs;
	unsigned int mix;	/* percentage of writes */
	bool random;
	bool verify, timeout_demo, cancel_demo;
	bool set_latency, set_jitter;
	uint64_t latency_ns, jitter_ns;
	bool verbose;
};

struct phase {
	const char *name;
	uint64_t nr;		/* requests to submit and complete */
	/* Make the request with @req->seq ready for io_submit(). */
	void (*prep)(struct run *run, struct aio_req *req);
	uint64_t watchdog_ns;	/* longest silence while requests are out */
	bool show_each;		/* print each completion even without -v */
};

struct run {
	const struct opts *o;
	int fd;			/* the device, O_DIRECT */
	io_context_t ctx;
	int efd;		/* eventfd that every iocb signals */
	int sfd;		/* signalfd: SIGINT, SIGTERM, SIGHUP */
	sigset_t sigs;		/* those signals, blocked */
	int epfd;		/* watches efd and sfd */
	uint64_t blocks;	/* bs-sized blocks on the device */

	struct aiodev_config orig;	/* as found, restored on exit */
	struct aiodev_config base;	/* this run's: orig plus --latency... */
	bool config_changed;

	struct aio_req *reqs;		/* depth of them */
	struct aio_req *free_list;
	struct iocb **batch;		/* io_submit()'s argument */
	struct io_event *events;	/* depth of them: never more in flight */
	unsigned int in_flight;

	const struct phase *phase;
	uint64_t next_seq;
	uint64_t seed;			/* of the data pattern */
	uint64_t rng;			/* offsets and the read/write mix */
	struct tally t;
	uint64_t total_unexpected;
	unsigned int reports;		/* unexpected completions printed */
};

/* xorshift64*: cheap, and reproducible from the seed for --verify. */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/*
 * The data pattern: each 8-byte word depends on the run's seed and its
 * device offset, so neither stale data from an earlier run nor a block
 * read from the wrong offset can pass for it.
 */
static uint64_t pattern_word(uint64_t seed, uint64_t pos)
{
	uint64_t x = seed ^ pos;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void fill_pattern(void *buf, uint32_t len, uint64_t seed,
			 uint64_t offset)
{
	uint64_t *w = buf;
	uint32_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(seed, offset + 8ULL * i);
}

/* Byte index of the first wrong word in @buf, or -1 if all match. */
static long find_mismatch(const void *buf, uint32_t len, uint64_t seed,
			  uint64_t offset)
{
	const uint64_t *w = buf;
	uint32_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(seed, offset + 8ULL * i))
			return 8L * i;
	return -1;
}

static struct aio_req *get_req(struct run *run)
{
	struct aio_req *req = run->free_list;

	run->free_list = req->next_free;
	return req;
}

static void put_req(struct run *run, struct aio_req *req)
{
	req->next_free = run->free_list;
	run->free_list = req;
}

/* ---- completion callbacks ----------------------------------------------- */

/*
 * Book one completion: latency (submission to reap, as the application
 * sees it), order, and whether the result is the one expected. Returns
 * true if it is.
 */
static bool account(struct aio_req *req, long res)
{
	struct run *run = req->run;
	struct tally *t = &run->t;
	uint64_t lat = now_ns() - req->submit_ns;
	char rbuf[FMT_LEN], lbuf[FMT_LEN], ebuf[FMT_LEN];
	bool ok = res == req->expect;

	t->latencies[t->done++] = lat;
	if (req->seq + 1 < t->max_seq)
		t->out_of_order++;
	else
		t->max_seq = req->seq + 1;

	if (run->o->verbose || run->phase->show_each)
		printf("  %-8s offset %-10" PRIu64 " result %-11s latency %s\n",
		       req->label, req->offset, fmt_result(rbuf, res, false),
		       fmt_ns(lbuf, lat));
	if (ok) {
		t->ok++;
	} else {
		t->unexpected++;
		if (run->reports++ < MAX_REPORTS)
			fail("%s at offset %" PRIu64 ": result %s, expected %s",
			     req->label, req->offset, fmt_result(rbuf, res, true),
			     fmt_result(ebuf, req->expect, false));
	}
	return ok;
}

/*
 * An io_callback_t: what libaio's io_set_callback() stores and the reaper
 * calls. @iocb is io_event.obj, @res io_event.res: the byte count or a
 * negative errno, in an unsigned field that the cast to long restores.
 */
static void on_io_done(io_context_t ctx, struct iocb *iocb, long res,
		       long res2)
{
	(void)ctx;
	(void)res2;
	account(to_req(iocb), res);
}

/* --verify's reads: the right length is not enough, the data must be. */
static void on_read_back(io_context_t ctx, struct iocb *iocb, long res,
			 long res2)
{
	struct aio_req *req = to_req(iocb);
	struct run *run = req->run;
	long bad;

	(void)ctx;
	(void)res2;
	if (!account(req, res))
		return;
	bad = find_mismatch(req->buf, run->o->bs, run->seed, req->offset);
	if (bad < 0)
		return;
	run->t.ok--;
	run->t.unexpected++;
	if (run->reports++ < MAX_REPORTS)
		fail("%s: data at device offset %" PRIu64
		     " differs from what was written there",
		     req->label, req->offset + (uint64_t)bad);
}

/*
 * The demos' reads, which must fail (deadline, cancel): a request that
 * fails moves no data, so the buffer must still hold the filler.
 */
static void on_failed_read(io_context_t ctx, struct iocb *iocb, long res,
			   long res2)
{
	struct aio_req *req = to_req(iocb);
	const unsigned char *p = req->buf;
	uint32_t i;

	(void)ctx;
	(void)res2;
	if (!account(req, res))
		return;
	for (i = 0; i < req->run->o->bs; i++) {
		if (p[i] != DEMO_FILLER) {
			req->run->t.ok--;
			req->run->t.unexpected++;
			fail("%s: the failed read changed its buffer",
			     req->label);
			return;
		}
	}
}

/* ---- preparing requests ------------------------------------------------- */

static uint64_t next_offset(struct run *run, uint64_t seq)
{
	uint64_t block = run->o->random ? rng_next(&run->rng) % run->blocks :
					  seq % run->blocks;

	return block * run->o->bs;
}

static void prep_rw(struct run *run, struct aio_req *req, bool write,
		    uint64_t offset, io_callback_t cb)
{
	req->offset = offset;
	req->expect = (long)run->o->bs;
	snprintf(req->label, sizeof(req->label), "%c%" PRIu64,
		 write ? 'w' : 'r', req->seq);
	/* io_prep_*() clear the whole iocb: everything else comes after. */
	if (write)
		io_prep_pwrite(&req->iocb, run->fd, req->buf, run->o->bs,
			       (long long)offset);
	else
		io_prep_pread(&req->iocb, run->fd, req->buf, run->o->bs,
			      (long long)offset);
	/*
	 * The callback goes in iocb->data, the one word the kernel hands back
	 * untouched (io_event.data). That is why the request's own context
	 * cannot live there too, and rides along the iocb instead.
	 */
	io_set_callback(&req->iocb, cb);
}

/* The plain workload: reads and writes in the --mix proportion. */
static void prep_mixed(struct run *run, struct aio_req *req)
{
	bool write = rng_next(&run->rng) % 100 < run->o->mix;
	uint64_t offset = next_offset(run, req->seq);

	if (write)
		fill_pattern(req->buf, run->o->bs, run->seed, offset);
	prep_rw(run, req, write, offset, on_io_done);
}

static void prep_verify_write(struct run *run, struct aio_req *req)
{
	uint64_t offset = next_offset(run, req->seq);

	fill_pattern(req->buf, run->o->bs, run->seed, offset);
	prep_rw(run, req, true, offset, on_io_done);
}

static void prep_verify_read(struct run *run, struct aio_req *req)
{
	uint64_t offset = next_offset(run, req->seq);

	/* Not the pattern: a read that moves nothing must not pass. */
	memset(req->buf, 0, run->o->bs);
	prep_rw(run, req, false, offset, on_read_back);
}

static void prep_timeout_read(struct run *run, struct aio_req *req)
{
	prep_rw(run, req, false, next_offset(run, req->seq), on_failed_read);
	req->expect = -ETIMEDOUT;
	memset(req->buf, DEMO_FILLER, run->o->bs);
}

/* ---- submitting and reaping --------------------------------------------- */

/*
 * Keep up to --depth requests in flight, --batch per io_submit() call.
 * io_submit() may accept only the first part of a batch (it returns how
 * many); the rest is submitted again, so that a request the kernel
 * refuses is reported with its own errno.
 */
static int submit_some(struct run *run)
{
	const struct phase *ph = run->phase;

	while (run->free_list && run->next_seq < ph->nr) {
		unsigned int n = 0, done = 0, i;
		uint64_t now;

		while (n < run->o->batch && run->free_list &&
		       run->next_seq < ph->nr) {
			struct aio_req *req = get_req(run);

			req->seq = run->next_seq++;
			ph->prep(run, req);
			/* After the prep, which cleared the iocb's flags. */
			io_set_eventfd(&req->iocb, run->efd);
			run->batch[n++] = &req->iocb;
		}
		now = now_ns();
		for (i = 0; i < n; i++)
			to_req(run->batch[i])->submit_ns = now;

		while (done < n) {
			int ret = io_submit(run->ctx, n - done,
					    run->batch + done);

			/* libaio returns -errno, and never sets errno. */
			if (ret <= 0) {
				run->in_flight += done;
				report(ret ? -ret : EAGAIN, "io_submit %s",
				       to_req(run->batch[done])->label);
				return -1;
			}
			done += (unsigned int)ret;
		}
		run->in_flight += n;
	}
	return 0;
}

/* Collect exactly @n events from the ring into run->events. */
static int reap(struct run *run, unsigned int n)
{
	unsigned int got = 0;

	while (got < n) {
		struct timespec ts = ns_to_timespec(REAP_TIMEOUT_NS);
		int ret;

		/* min_nr = nr: exactly the events the counter announced. */
		ret = io_getevents(run->ctx, n - got, n - got,
				   run->events + got, &ts);
		if (ret == -EINTR)	/* a stop and continue, say */
			continue;
		if (ret < 0) {
			report(-ret, "io_getevents");
			return -1;
		}
		if (!ret) {
			fail("the eventfd announced %u completions, io_getevents found %u",
			     n, got);
			return -1;
		}
		got += (unsigned int)ret;
	}
	return 0;
}

/*
 * Hand each event to the callback io_set_callback() stored in its iocb,
 * then recycle the request. The buffer is free again only now: the kernel
 * writes into it until the event exists.
 */
static void dispatch(struct run *run, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct io_event *ev = &run->events[i];
		io_callback_t cb = (io_callback_t)ev->data;

		cb(run->ctx, ev->obj, (long)ev->res, (long)ev->res2);
		put_req(run, to_req(ev->obj));
	}
	run->in_flight -= n;
}

/*
 * Sleep until completions or a signal arrive, or @timeout_ns passes.
 * Returns how many completions were reaped and dispatched (0: none yet),
 * or -1 to stop the run.
 *
 * The reaping rule. The kernel adds 1 to the eventfd for each completion,
 * after the event is in the ring (aio_complete()); read() returns the sum
 * and resets it. So after reading N, N events are waiting and
 * io_getevents(min=N, max=N) returns them at once. Reap no more than N:
 * an event reaped early still has its increment on the way, so a later
 * wake-up would announce an event that is gone, and io_getevents(min=N)
 * would then sleep for one that may never come. Counter and ring stay in
 * step only if every wake-up takes exactly what it was told about.
 */
static int wait_completions(struct run *run, uint64_t timeout_ns)
{
	struct epoll_event evs[2];
	uint64_t ms = (timeout_ns + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	int nr, i, got = 0;

	nr = epoll_wait(run->epfd, evs, ARRAY_SIZE(evs),
			ms > INT_MAX ? INT_MAX : (int)ms);
	if (nr < 0) {
		if (errno == EINTR)	/* a stop and continue, say */
			return 0;
		report(errno, "epoll_wait");
		return -1;
	}
	for (i = 0; i < nr; i++) {
		if (evs[i].data.fd == run->sfd) {
			struct signalfd_siginfo si;

			if (read(run->sfd, &si, sizeof(si)) == sizeof(si))
				fail("%s: stopping, %u requests in flight",
				     strsignal((int)si.ssi_signo),
				     run->in_flight);
			return -1;
		}
	}
	for (i = 0; i < nr; i++) {
		uint64_t count;

		if (evs[i].data.fd != run->efd)
			continue;
		/* Non-blocking: a wake-up with nothing to read is harmless. */
		if (read(run->efd, &count, sizeof(count)) != sizeof(count)) {
			if (errno == EAGAIN)
				continue;
			report(errno, "read eventfd");
			return -1;
		}
		if (count > run->in_flight) {
			fail("the eventfd announced %" PRIu64
			     " completions, only %u requests are in flight",
			     count, run->in_flight);
			return -1;
		}
		if (reap(run, (unsigned int)count))
			return -1;
		dispatch(run, (unsigned int)count);
		got += (int)count;
	}
	return got;
}

/*
 * Wait until run->t.done reaches @target. The watchdog restarts with each
 * completion: it catches a silence, not a long run.
 */
static int wait_done(struct run *run, uint64_t target, uint64_t watchdog_ns)
{
	uint64_t deadline = now_ns() + watchdog_ns;

	while (run->t.done < target) {
		uint64_t now = now_ns();
		int got;

		if (now >= deadline) {
			char buf[FMT_LEN];

			fail("%s: no completion within %s, %u requests in flight",
			     run->phase->name, fmt_ns(buf, watchdog_ns),
			     run->in_flight);
			return -1;
		}
		got = wait_completions(run, deadline - now);
		if (got < 0)
			return -1;
		if (got)
			deadline = now_ns() + watchdog_ns;
	}
	return 0;
}

static void phase_report(struct run *run, uint64_t elapsed_ns,
			 uint64_t bytes_per_req)
{
	struct tally *t = &run->t;
	double secs = (double)elapsed_ns / NSEC_PER_SEC;
	char b1[FMT_LEN], b2[FMT_LEN], b3[FMT_LEN], b4[FMT_LEN];

	qsort(t->latencies, t->done, sizeof(*t->latencies), cmp_u64);
	printf("  %" PRIu64 " completed in %s: %.0f IOPS", t->done,
	       fmt_ns(b1, elapsed_ns), (double)t->done / secs);
	if (bytes_per_req)
		printf(", %.1f MiB/s", (double)(t->ok * bytes_per_req) /
		       secs / (1 << 20));
	printf("; %" PRIu64 " as expected, %" PRIu64 " not\n", t->ok,
	       t->unexpected);
	printf("  latency (submit to reap) p50 %s, p90 %s, p99 %s, max %s\n",
	       fmt_ns(b1, percentile(t->latencies, t->done, 500)),
	       fmt_ns(b2, percentile(t->latencies, t->done, 900)),
	       fmt_ns(b3, percentile(t->latencies, t->done, 990)),
	       fmt_ns(b4, t->latencies[t->done - 1]));
	printf("  %" PRIu64 " of %" PRIu64
	       " completed before a request submitted earlier\n",
	       t->out_of_order, t->done);
}

/* Submit and complete ph->nr requests made by ph->prep. */
static int run_phase(struct run *run, const struct phase *ph,
		     uint64_t bytes_per_req)
{
	uint64_t start;

	run->phase = ph;
	run->next_seq = 0;
	/* The same offsets for --verify's writes and its reads. */
	run->rng = run->seed;
	run->t = (struct tally) { .latencies = run->t.latencies };

	start = now_ns();
	while (run->t.done < ph->nr) {
		if (submit_some(run))
			return -1;
		if (wait_done(run, run->t.done + 1, ph->watchdog_ns))
			return -1;
	}
	phase_report(run, now_ns() - start, bytes_per_req);
	run->total_unexpected += run->t.unexpected;
	return 0;
}

/* ---- device configuration ----------------------------------------------- */

static void describe_config(const struct aiodev_config *cfg)
{
	char b1[FMT_LEN], b2[FMT_LEN], b3[FMT_LEN];

	printf("latency %s, jitter %s, deadline %s",
	       fmt_ns(b1, cfg->latency_nsec),
	       cfg->jitter_nsec ? fmt_ns(b2, cfg->jitter_nsec) : "none",
	       cfg->timeout_nsec ? fmt_ns(b3, cfg->timeout_nsec) : "none");
	if (cfg->fail_every_nth || cfg->fail_len)
		printf(", fault plan on");
}

static int set_config(struct run *run, const struct aiodev_config *cfg)
{
	int err;

	/* Before the call: a failed SET_CONFIG changes nothing, but be safe. */
	run->config_changed = true;
	err = aiodev_set_config(run->fd, cfg);
	if (err) {
		report(-err, "%s: set config", run->o->dev.path);
		return -1;
	}
	return 0;
}

/* Put back the configuration found at start, and read it back. */
static int restore_config(struct run *run)
{
	struct aiodev_config now;
	int err;

	if (!run->config_changed)
		return 0;
	if (set_config(run, &run->orig))
		return -1;
	err = aiodev_get_config(run->fd, &now);
	if (err) {
		report(-err, "%s: get config", run->o->dev.path);
		return -1;
	}
	if (memcmp(&now, &run->orig, sizeof(now))) {
		fail("%s: the configuration did not come back",
		     run->o->dev.path);
		return -1;
	}
	printf("device configuration restored: ");
	describe_config(&now);
	printf("\n");
	run->config_changed = false;
	return 0;
}

/* Longest a healthy request of the base configuration can take, plus slack. */
static uint64_t base_watchdog(const struct run *run)
{
	uint64_t longest = run->base.latency_nsec + run->base.jitter_nsec;

	if (run->base.timeout_nsec && run->base.timeout_nsec < longest)
		longest = run->base.timeout_nsec;
	return longest + WATCHDOG_SLACK_NS;
}

/* ---- what the run does -------------------------------------------------- */

static int do_workload(struct run *run)
{
	const struct opts *o = run->o;
	struct phase ph = {
		.name = "workload",
		.nr = o->requests,
		.prep = prep_mixed,
		.watchdog_ns = base_watchdog(run),
	};

	printf("\n%" PRIu64 " requests of %u bytes, %u%% writes, %s offsets\n",
	       o->requests, o->bs, o->mix, o->random ? "random" : "sequential");
	return run_phase(run, &ph, o->bs);
}

static int do_verify(struct run *run)
{
	const struct opts *o = run->o;
	struct phase wr = {
		.name = "verify write",
		.nr = o->requests,
		.prep = prep_verify_write,
		.watchdog_ns = base_watchdog(run),
	};
	struct phase rd = wr;

	rd.name = "verify read";
	rd.prep = prep_verify_read;

	printf("\nverify: writing a pattern to %" PRIu64 " blocks of %u bytes at %s offsets\n",
	       o->requests, o->bs, o->random ? "random" : "sequential");
	if (run_phase(run, &wr, o->bs))
		return -1;
	printf("verify: reading them back and comparing\n");
	if (run_phase(run, &rd, o->bs))
		return -1;
	printf("verify: %" PRIu64 " of %" PRIu64 " blocks read back intact\n",
	       run->t.ok, run->t.done);
	return 0;
}

static int do_timeout_demo(struct run *run)
{
	const struct opts *o = run->o;
	struct aiodev_config cfg = run->base;
	char b1[FMT_LEN], b2[FMT_LEN];
	struct phase ph = {
		.name = "timeout demo",
		.nr = o->batch,
		.prep = prep_timeout_read,
		.show_each = true,
	};
	int ret;

	cfg.latency_nsec = o->set_latency ? o->latency_ns :
					    TIMEOUT_DEMO_LATENCY_NS;
	/* At or before the completion time, the deadline wins. */
	cfg.timeout_nsec = cfg.latency_nsec / 5;
	ph.watchdog_ns = cfg.timeout_nsec + WATCHDOG_SLACK_NS;

	printf("\ntimeout demo: device latency %s, deadline %s: one batch of %u reads,\n"
	       "each must end with -ETIMEDOUT at its deadline, having moved no data\n",
	       fmt_ns(b1, cfg.latency_nsec), fmt_ns(b2, cfg.timeout_nsec),
	       o->batch);
	if (set_config(run, &cfg))
		return -1;
	ret = run_phase(run, &ph, 0);
	/* Back to this run's configuration, whatever happened. */
	if (set_config(run, &run->base))
		ret = -1;
	return ret;
}

static int do_cancel_demo(struct run *run)
{
	struct aiodev_config cfg = run->base;
	static const struct phase ph = {
		.name = "cancel demo",
		.nr = 1,
		.show_each = true,
	};
	struct io_event unused;
	struct aio_req *req;
	char b1[FMT_LEN], b2[FMT_LEN];
	int ret;

	cfg.latency_nsec = CANCEL_DEMO_LATENCY_NS;
	cfg.jitter_nsec = 0;
	cfg.timeout_nsec = 0;
	printf("\ncancel demo: a read with a device latency of %s, cancelled right away\n",
	       fmt_ns(b1, cfg.latency_nsec));
	if (set_config(run, &cfg))
		return -1;

	run->phase = &ph;
	run->t = (struct tally) { .latencies = run->t.latencies };
	req = get_req(run);
	req->seq = 0;
	prep_rw(run, req, false, 0, on_failed_read);
	req->expect = -ECANCELED;
	memset(req->buf, DEMO_FILLER, run->o->bs);
	io_set_eventfd(&req->iocb, run->efd);
	run->batch[0] = &req->iocb;
	req->submit_ns = now_ns();
	ret = io_submit(run->ctx, 1, run->batch);
	if (ret != 1) {
		put_req(run, req);
		report(ret < 0 ? -ret : EAGAIN, "io_submit %s", req->label);
		return -1;
	}
	run->in_flight++;
	/* The engine fixed the request's latency at submission. */
	if (set_config(run, &run->base))
		return -1;

	/*
	 * io_cancel() finds the request by its iocb's address. 0 from the
	 * driver becomes -EINPROGRESS: the cancel is under way and the
	 * result comes as an ordinary event through the ring (and the
	 * eventfd); the io_event argument is no longer filled in.
	 */
	ret = io_cancel(run->ctx, &req->iocb, &unused);
	printf("  io_cancel(%s) = %s\n", req->label, fmt_result(b1, ret, true));
	if (ret != -EINPROGRESS) {
		fail("io_cancel of an in-flight request returned %s, expected -EINPROGRESS",
		     fmt_result(b1, ret, true));
		/* aiodev offers cancel only where IOCB_AIO_RW says it may. */
		if (ret == -EINVAL)
			fail("drivers can cancel AIO requests since Linux 6.8 and 6.1.80");
		return -1;	/* io_destroy() waits out its latency */
	}

	printf("  waiting for its event (at most %s, its latency is %s)\n",
	       fmt_ns(b1, CANCEL_DEMO_WAIT_NS), fmt_ns(b2, cfg.latency_nsec));
	if (wait_done(run, 1, CANCEL_DEMO_WAIT_NS))
		return -1;
	run->total_unexpected += run->t.unexpected;

	/*
	 * Completed and reaped: the kernel no longer knows the iocb (which
	 * is still ours and unused, back on the free list).
	 */
	ret = io_cancel(run->ctx, &req->iocb, &unused);
	printf("  io_cancel(%s) again, after its event = %s\n", req->label,
	       fmt_result(b1, ret, true));
	if (ret != -EINVAL) {
		fail("io_cancel of a completed request returned %s, expected -EINVAL",
		     fmt_result(b1, ret, true));
		run->total_unexpected++;
	}
	if (!run->t.unexpected && ret == -EINVAL)
		printf("  cancelled: one -ECANCELED event, buffer untouched, then -EINVAL\n");
	return 0;
}

/* ---- setup and teardown ------------------------------------------------- */

static int open_device(struct run *run, bool writable,
		       struct aiodev_info *info)
{
	const char *path = run->o->dev.path;
	int fd, err;

	/*
	 * O_DIRECT, as libaio users must on a disk: there, buffered AIO is
	 * done synchronously inside io_submit(). aiodev is asynchronous
	 * either way, but the buffers then follow the same rules.
	 */
	fd = aiodev_open_path(path, (writable ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		report(-fd, "open %s", path);
		return -1;
	}
	run->fd = fd;
	err = aiodev_get_info(fd, info);
	if (err) {
		report(-err, "%s: get info", path);
		return -1;
	}
	if (info->abi_version != AIODEV_ABI_VERSION) {
		fail("%s: ABI version %u, this tool speaks %d", path,
		     info->abi_version, AIODEV_ABI_VERSION);
		return -1;
	}
	return 0;
}

/* The AIO context, the eventfd, the signalfd and the epoll set. */
static int setup_aio(struct run *run)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	/* io_setup() wants a zeroed context: it fails with EINVAL otherwise. */
	run->ctx = 0;
	err = io_setup((int)run->o->depth, &run->ctx);
	if (err) {
		report(-err, "io_setup(%u)%s", run->o->depth, err == -EAGAIN ?
		       " (more than /proc/sys/fs/aio-max-nr?)" : "");
		return -1;
	}
	/* Non-blocking: epoll says when to read, a spurious wake-up reads 0. */
	run->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (run->efd < 0) {
		report(errno, "eventfd");
		return -1;
	}
	/* The signals main() blocked, as one more fd for epoll. */
	run->sfd = signalfd(-1, &run->sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	if (run->sfd < 0) {
		report(errno, "signalfd");
		return -1;
	}
	run->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (run->epfd < 0) {
		report(errno, "epoll_create1");
		return -1;
	}
	ev.data.fd = run->efd;
	if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, run->efd, &ev)) {
		report(errno, "epoll_ctl eventfd");
		return -1;
	}
	ev.data.fd = run->sfd;
	if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, run->sfd, &ev)) {
		report(errno, "epoll_ctl signalfd");
		return -1;
	}
	return 0;
}

static int alloc_requests(struct run *run)
{
	const struct opts *o = run->o;
	uint64_t most = o->requests > o->batch ? o->requests : o->batch;
	unsigned int i;
	int err;

	run->reqs = calloc(o->depth, sizeof(*run->reqs));
	run->batch = calloc(o->batch, sizeof(*run->batch));
	run->events = calloc(o->depth, sizeof(*run->events));
	run->t.latencies = calloc(most, sizeof(*run->t.latencies));
	if (!run->reqs || !run->batch || !run->events || !run->t.latencies) {
		report(ENOMEM, "allocate %u requests", o->depth);
		return -1;
	}
	for (i = 0; i < o->depth; i++) {
		struct aio_req *req = &run->reqs[i];

		/* O_DIRECT: the buffer's address and length both aligned. */
		err = posix_memalign(&req->buf, BUF_ALIGN, o->bs);
		if (err) {
			report(err, "allocate a buffer of %u bytes", o->bs);
			return -1;
		}
		req->run = run;
		put_req(run, req);
	}
	return 0;
}

/*
 * io_destroy() cancels what is still in flight and waits for all of it to
 * complete, so only after it may the buffers go: the kernel writes into a
 * read's buffer until its completion.
 */
static int teardown(struct run *run)
{
	int ret = 0, err;
	unsigned int i;

	if (run->ctx) {
		err = io_destroy(run->ctx);
		if (err) {
			report(-err, "io_destroy");
			ret = -1;
		}
	}
	if (run->fd >= 0 && restore_config(run))
		ret = -1;
	if (run->reqs)
		for (i = 0; i < run->o->depth; i++)
			free(run->reqs[i].buf);
	free(run->reqs);
	free(run->batch);
	free(run->events);
	free(run->t.latencies);
	if (run->epfd >= 0)
		close(run->epfd);
	if (run->sfd >= 0)
		close(run->sfd);
	if (run->efd >= 0)
		close(run->efd);
	if (run->fd >= 0) {
		err = aiodev_close(run->fd);
		if (err) {
			report(-err, "close %s", run->o->dev.path);
			ret = -1;
		}
	}
	return ret;
}

/* ---- options -------------------------------------------------------------- */

enum {
	OPT_VERIFY = 256,	/* past every short option character */
	OPT_TIMEOUT_DEMO,
	OPT_CANCEL_DEMO,
	OPT_LATENCY,
	OPT_JITTER,
};

static const struct option long_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "requests", required_argument, NULL, 'n' },
	{ "depth", required_argument, NULL, 'q' },
	{ "batch", required_argument, NULL, 'b' },
	{ "bs", required_argument, NULL, 's' },
	{ "mix", required_argument, NULL, 'm' },
	{ "offsets", required_argument, NULL, 'o' },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "timeout-demo", no_argument, NULL, OPT_TIMEOUT_DEMO },
	{ "cancel-demo", no_argument, NULL, OPT_CANCEL_DEMO },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Returns OPTS_PARSED to go on, or the exit status to end with. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	bool batch_given = false, mix_given = false;
	uint64_t val = 0;
	int opt;

	*o = (struct opts) {
		.requests = 256,
		.depth = 32,
		.bs = 4096,
	};
	device_arg_init(&o->dev);
	while ((opt = getopt_long(argc, argv, "d:n:q:b:s:m:o:vh", long_opts,
				  NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'd':
			ok = device_arg_parse(&o->dev, optarg);
			break;
		case 'n':
			ok = parse_u64(optarg, &o->requests) && o->requests &&
			     o->requests <= UINT32_MAX;
			break;
		case 'q':
			/* io_setup()'s limit is the system's aio-max-nr. */
			ok = parse_u64(optarg, &val) && val && val <= 65536;
			o->depth = (unsigned int)val;
			break;
		case 'b':
			ok = parse_u64(optarg, &val) && val && val <= 65536;
			o->batch = (unsigned int)val;
			batch_given = true;
			break;
		case 's':
			/* A g suffix is past AIODEV_MAX_IO_BYTES anyway. */
			ok = parse_size(optarg, &val) &&
			     val && !(val % SECTOR_SIZE) &&
			     val <= AIODEV_MAX_IO_BYTES;
			o->bs = (uint32_t)val;
			break;
		case 'm':
			ok = parse_u64(optarg, &val) && val <= 100;
			o->mix = (unsigned int)val;
			mix_given = true;
			break;
		case 'o':
			if (!strcmp(optarg, "seq"))
				o->random = false;
			else if (!strcmp(optarg, "rand"))
				o->random = true;
			else
				ok = false;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		case OPT_TIMEOUT_DEMO:
			o->timeout_demo = true;
			break;
		case OPT_CANCEL_DEMO:
			o->cancel_demo = true;
			break;
		case OPT_LATENCY:
			o->set_latency = true;
			ok = parse_time(optarg, &o->latency_ns);
			break;
		case OPT_JITTER:
			o->set_jitter = true;
			ok = parse_time(optarg, &o->jitter_ns);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_SUCCESS;
		default:	/* getopt_long() said what is wrong */
			return usage_hint(NULL);
		}
		if (!ok)
			return bad_value(NULL, long_opts, opt, optarg);
	}
	if (optind < argc)
		return usage_error(NULL, "unexpected argument '%s'",
				   argv[optind]);
	if (!batch_given)
		o->batch = o->depth < 8 ? o->depth : 8;
	if (o->batch > o->depth)
		return usage_error(NULL, "batch %u exceeds depth %u", o->batch,
				   o->depth);
	if (mix_given && o->verify)
		return usage_error(NULL, "--verify writes, then reads: --mix does not apply");
	if (o->timeout_demo && o->set_latency && o->latency_ns < NSEC_PER_USEC)
		return usage_error(NULL, "--timeout-demo needs a latency of at least 1us");
	return OPTS_PARSED;
}

int main(int argc, char **argv)
{
	struct run run = { .fd = -1, .efd = -1, .sfd = -1, .epfd = -1 };
	struct aiodev_info info;
	struct opts o;
	bool writable;
	int ret, err;

	/* Keep the narrative in order with stderr when piped to a log. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	ret = parse_opts(argc, argv, &o);
	if (ret != OPTS_PARSED)
		return ret;
	run.o = &o;
	run.seed = now_ns() | 1;	/* xorshift's state must not be 0 */

	/*
	 * Before the device's configuration changes: Ctrl-C must not kill
	 * the process, but reach the event loop (through a signalfd), which
	 * stops where it stands and still restores the configuration.
	 */
	sigemptyset(&run.sigs);
	sigaddset(&run.sigs, SIGINT);
	sigaddset(&run.sigs, SIGTERM);
	sigaddset(&run.sigs, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &run.sigs, NULL)) {
		report(errno, "sigprocmask");
		return EXIT_FAILURE;
	}

	writable = o.mix || o.verify || o.timeout_demo || o.cancel_demo ||
		   o.set_latency || o.set_jitter;
	ret = EXIT_FAILURE;
	if (open_device(&run, writable, &info))
		goto out;
	if (o.bs > info.max_io_bytes || o.bs > info.size_bytes) {
		ret = usage_error(NULL,
				  "block size %u exceeds the device's limit",
				  o.bs);
		goto out;
	}
	run.blocks = info.size_bytes / o.bs;

	err = aiodev_get_config(run.fd, &run.orig);
	if (err) {
		report(-err, "%s: get config", o.dev.path);
		goto out;
	}
	run.base = run.orig;
	if (o.set_latency)
		run.base.latency_nsec = o.latency_ns;
	if (o.set_jitter)
		run.base.jitter_nsec = o.jitter_ns;
	if ((o.set_latency || o.set_jitter) && set_config(&run, &run.base))
		goto out;

	printf("aiodev-aio: %s, O_DIRECT, AIO depth %u, batch %u\n",
	       o.dev.path, o.depth, o.batch);
	printf("device ");
	describe_config(&run.base);
	printf("%s\n", run.config_changed ? " (for this run)" : "");

	if (setup_aio(&run) || alloc_requests(&run))
		goto out;

	if (!o.verify && !o.timeout_demo && !o.cancel_demo) {
		if (do_workload(&run))
			goto out;
	}
	if (o.verify && do_verify(&run))
		goto out;
	if (o.timeout_demo && do_timeout_demo(&run))
		goto out;
	if (o.cancel_demo && do_cancel_demo(&run))
		goto out;
	ret = run.total_unexpected ? EXIT_FAILURE : EXIT_SUCCESS;
out:
	if (teardown(&run))
		ret = EXIT_FAILURE;
	if (ret == EXIT_FAILURE && run.total_unexpected)
		fail("%" PRIu64 " requests ended other than expected",
		     run.total_unexpected);
	else if (ret == EXIT_SUCCESS)
		printf("\naiodev-aio: every request ended as expected\n");
	return ret;
}
