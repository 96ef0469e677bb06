// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev-bench: the micro-benchmarks of `make bench` that fio cannot do.
 *
 *   aiodev-bench ring  --api ioctl|libaio [--dev PATH] [--depth D]
 *                      [--batch B] [--secs S] [--warmup S] [--op read|nop]
 *                      [--latency NS]
 *     Keep DEPTH requests in flight on one file for SECS seconds: submit
 *     in calls of at most BATCH requests, reap with min_nr = BATCH (or
 *     what is in flight). The ioctl API (AIODEV_IOC_SUBMIT/GETEVENTS) and
 *     Linux AIO (io_submit/io_getevents, O_DIRECT) run the same loop,
 *     4 KiB reads at random aligned offsets, so the two paths compare
 *     like for like. --latency (ioctl only) sets AIODEV_REQ_LATENCY on
 *     every request and adds the lateness (complete_ns - submit_ns -
 *     latency, from the events' own timestamps) to the output.
 *
 *   aiodev-bench scale --n N --latency NS [--total T] [--dev PATH]
 *     Rounds of N NOPs via the ioctl, each with latency NS so that all N
 *     are in flight together (checked: the first completion of a round
 *     comes after its last submission), until T requests have completed.
 *     Reports CPU time per request: the whole guest's busy time from
 *     /proc/stat (submit + timer + tasklet + reap) and the submitting
 *     process's own time during the submit phase.
 *
 *   aiodev-bench mem --n N [--op nop|read] [--dev PATH]
 *     Open, submit N requests of 60 s latency, and diff /proc/slabinfo
 *     (and /proc/meminfo) before the open, after the open and with all N
 *     in flight; close (which cancels them). Slab bytes per in-flight
 *     request, by cache. A read's user page is one page reused by all N:
 *     pinned user memory is not kernel memory and is not counted.
 *
 * Every result is one line "key=value key=value ..." starting with the
 * mode ("RING", "SCALE", "MEM", "SLAB"), for selftests/bench/analyze.py.
 *
 * Numbers are parsed as by the aiodev CLIs (userspace/cli.c), and a bad one
 * is a usage error: NS may have a unit (10us), S is a decimal (0.5).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libaio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/aiodev.h>

#include "cli.h"

#define BS		4096u

/* Messages "aiodev-bench: ..."; integers in decimal or 0x hex. */
const struct cli_prog cli_prog = {
	.name = "aiodev-bench",
	.help = "aiodev-bench",		/* which prints the usage */
	.hex = true,
};

static void die(const char *what, int err)
{
	report(err, "%s", what);
	exit(1);
}

/* Busy and total time of all CPUs from /proc/stat, in ns (USER_HZ units). */
struct cpu_times {
	uint64_t busy_ns, total_ns;
};

static void read_cpu(struct cpu_times *t)
{
	unsigned long long v[10] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);
	FILE *f = fopen("/proc/stat", "r");
	uint64_t total = 0;
	int i, n;

	if (!f)
		die("/proc/stat", errno);
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]);
	fclose(f);
	if (n < 8)
		die("/proc/stat: unexpected format", EINVAL);
	/* guest and guest_nice are already in user and nice. */
	for (i = 0; i < 8; i++)
		total += v[i];
	t->total_ns = total * NSEC_PER_SEC / (uint64_t)hz;
	/* idle (3) and iowait (4) are not busy. */
	t->busy_ns = (total - v[3] - v[4]) * NSEC_PER_SEC / (uint64_t)hz;
}

static uint64_t self_cpu_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
	       NSEC_PER_SEC + ((uint64_t)ru.ru_utime.tv_usec +
			       (uint64_t)ru.ru_stime.tv_usec) * 1000;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int open_dev(const char *path, int flags, struct aiodev_info *info)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		die(path, errno);
	if (info && ioctl(fd, AIODEV_IOC_GET_INFO, info))
		die("AIODEV_IOC_GET_INFO", errno);
	return fd;
}

/* ---- ring ---------------------------------------------------------------- */

struct ring_opts {
	const char *dev;
	bool libaio;
	unsigned int depth, batch;
	double secs, warmup;
	bool nop;
	uint64_t latency_ns;
	bool fixed_latency;
};

/* Samples are kept for the measured window only, up to a bound. */
#define MAX_SAMPLES	(4u << 20)

struct ring_state {
	const struct ring_opts *o;
	uint64_t blocks;
	unsigned char *bufs;
	uint64_t *slot_submit;	/* user-side submit time per slot */
	unsigned int *free_slots;
	unsigned int nr_free;
	uint64_t *lat;		/* user-side latency samples */
	uint64_t *late;		/* ioctl: kernel-side lateness samples */
	size_t nr_lat, nr_late;
	bool measuring;
	uint64_t done;		/* completions in the measured window */
};

static void ring_sample(struct ring_state *s, unsigned int slot, uint64_t now)
{
	if (s->measuring && s->nr_lat < MAX_SAMPLES)
		s->lat[s->nr_lat++] = now - s->slot_submit[slot];
	if (s->measuring)
		s->done++;
	s->free_slots[s->nr_free++] = slot;
}

static void ring_ioctl(struct ring_state *s, int fd, uint64_t end_warm,
		       uint64_t end)
{
	const struct ring_opts *o = s->o;
	struct aiodev_req *reqs = calloc(o->batch, sizeof(*reqs));
	struct aiodev_event *ev = calloc(o->depth, sizeof(*ev));
	unsigned int i;

	if (!reqs || !ev)
		die("calloc", ENOMEM);
	for (;;) {
		uint64_t now = now_ns();
		unsigned int inflight, n;
		int got;

		if (!s->measuring && now >= end_warm)
			s->measuring = true;
		if (now >= end)
			break;
		while (s->nr_free) {
			struct aiodev_submit sub;

			n = s->nr_free < o->batch ? s->nr_free : o->batch;
			for (i = 0; i < n; i++) {
				unsigned int slot = s->free_slots[--s->nr_free];
				struct aiodev_req *r = &reqs[i];

				memset(r, 0, sizeof(*r));
				r->user_data = slot;
				if (o->nop) {
					r->op = AIODEV_OP_NOP;
				} else {
					r->op = AIODEV_OP_READ;
					r->buf = (uintptr_t)(s->bufs + (size_t)slot * BS);
					r->len = BS;
					r->offset = rnd() % s->blocks * BS;
				}
				if (o->fixed_latency) {
					r->flags = AIODEV_REQ_LATENCY;
					r->latency_nsec = o->latency_ns;
				}
				s->slot_submit[slot] = now;
			}
			sub = (struct aiodev_submit){ .reqs = (uintptr_t)reqs,
						      .nr = n };
			got = ioctl(fd, AIODEV_IOC_SUBMIT, &sub);
			if (got < 0)
				die("AIODEV_IOC_SUBMIT", errno);
			/* Give back slots of requests not accepted. */
			for (i = (unsigned int)got; i < n; i++)
				s->free_slots[s->nr_free++] = (unsigned int)reqs[i].user_data;
			if ((unsigned int)got < n)
				break;
		}
		inflight = o->depth - s->nr_free;
		{
			struct aiodev_getevents g = {
				.events = (uintptr_t)ev,
				.min_nr = inflight < o->batch ? inflight : o->batch,
				.max_nr = o->depth,
				.timeout_nsec = (int64_t)NSEC_PER_SEC,
			};

			got = ioctl(fd, AIODEV_IOC_GETEVENTS, &g);
			if (got < 0 && errno != EINTR)
				die("AIODEV_IOC_GETEVENTS", errno);
		}
		now = now_ns();
		for (i = 0; got > 0 && i < (unsigned int)got; i++) {
			if (ev[i].result != (o->nop ? 0 : (int64_t)BS)) {
				fail("event result %lld",
				     (long long)ev[i].result);
				exit(1);
			}
			if (o->fixed_latency && s->measuring &&
			    s->nr_late < MAX_SAMPLES)
				s->late[s->nr_late++] = ev[i].complete_ns -
					ev[i].submit_ns - o->latency_ns;
			ring_sample(s, (unsigned int)ev[i].user_data, now);
		}
	}
	/* Drain: closing would cancel them, which is not what we measure. */
	while (s->nr_free < o->depth) {
		struct aiodev_getevents g = {
			.events = (uintptr_t)ev, .min_nr = 1,
			.max_nr = o->depth, .timeout_nsec = -1,
		};
		int got = ioctl(fd, AIODEV_IOC_GETEVENTS, &g);

		if (got < 0)
			die("AIODEV_IOC_GETEVENTS", errno);
		s->nr_free += (unsigned int)got;
	}
	free(reqs);
	free(ev);
}

static void ring_libaio(struct ring_state *s, int fd, uint64_t end_warm,
			uint64_t end)
{
	const struct ring_opts *o = s->o;
	struct iocb *iocbs = calloc(o->depth, sizeof(*iocbs));
	struct iocb **batch = calloc(o->batch, sizeof(*batch));
	struct io_event *ev = calloc(o->depth, sizeof(*ev));
	io_context_t ctx = 0;
	unsigned int i;
	int ret;

	if (!iocbs || !batch || !ev)
		die("calloc", ENOMEM);
	ret = io_setup((int)o->depth, &ctx);
	if (ret)
		die("io_setup", -ret);
	for (;;) {
		uint64_t now = now_ns();
		unsigned int inflight, n;
		int got;

		if (!s->measuring && now >= end_warm)
			s->measuring = true;
		if (now >= end)
			break;
		while (s->nr_free) {
			n = s->nr_free < o->batch ? s->nr_free : o->batch;
			for (i = 0; i < n; i++) {
				unsigned int slot = s->free_slots[--s->nr_free];
				struct iocb *cb = &iocbs[slot];

				io_prep_pread(cb, fd, s->bufs + (size_t)slot * BS,
					      BS, (long long)(rnd() % s->blocks * BS));
				cb->data = (void *)(uintptr_t)slot;
				batch[i] = cb;
				s->slot_submit[slot] = now;
			}
			got = io_submit(ctx, (long)n, batch);
			if (got < 0)
				die("io_submit", -got);
			for (i = (unsigned int)got; i < n; i++)
				s->free_slots[s->nr_free++] =
					(unsigned int)(uintptr_t)batch[i]->data;
			if ((unsigned int)got < n)
				break;
		}
		inflight = o->depth - s->nr_free;
		{
			struct timespec ts = { 1, 0 };

			got = io_getevents(ctx, inflight < o->batch ? inflight :
					   o->batch, o->depth, ev, &ts);
			if (got < 0 && got != -EINTR)
				die("io_getevents", -got);
		}
		now = now_ns();
		for (i = 0; got > 0 && i < (unsigned int)got; i++) {
			if ((long)ev[i].res != (long)BS) {
				fail("aio result %ld", (long)ev[i].res);
				exit(1);
			}
			ring_sample(s, (unsigned int)(uintptr_t)ev[i].data, now);
		}
	}
	while (s->nr_free < o->depth) {
		int got = io_getevents(ctx, 1, o->depth, ev, NULL);

		if (got < 0)
			die("io_getevents", -got);
		s->nr_free += (unsigned int)got;
	}
	io_destroy(ctx);
	free(iocbs);
	free(batch);
	free(ev);
}

static int cmd_ring(struct ring_opts *o)
{
	struct ring_state s = { .o = o };
	struct aiodev_info info;
	struct cpu_times c0, c1;
	uint64_t t0, t1, self0, self1, start;
	double secs;
	unsigned int i;
	int fd, err;

	if (o->batch > o->depth)
		die("--batch exceeds --depth", EINVAL);
	if (o->libaio && (o->nop || o->fixed_latency))
		die("libaio: --op nop and --latency are ioctl-only", EINVAL);
	fd = open_dev(o->dev, O_RDONLY | (o->libaio ? O_DIRECT : 0), &info);
	if (o->depth > info.queue_depth)
		die("--depth exceeds the module's queue_depth", EINVAL);
	s.blocks = info.size_bytes / BS;
	err = posix_memalign((void **)&s.bufs, 4096, (size_t)o->depth * BS);
	if (err)
		die("posix_memalign", err);
	memset(s.bufs, 0xa5, (size_t)o->depth * BS);
	s.slot_submit = calloc(o->depth, sizeof(*s.slot_submit));
	s.free_slots = calloc(o->depth, sizeof(*s.free_slots));
	s.lat = malloc(MAX_SAMPLES * sizeof(*s.lat));
	s.late = o->fixed_latency ? malloc(MAX_SAMPLES * sizeof(*s.late)) : NULL;
	if (!s.slot_submit || !s.free_slots || !s.lat ||
	    (o->fixed_latency && !s.late))
		die("malloc", ENOMEM);
	for (i = 0; i < o->depth; i++)
		s.free_slots[s.nr_free++] = o->depth - 1 - i;

	/*
	 * The CPU window is the whole run; the warm-up share is small and
	 * the same for both APIs. IOPS and latencies come from the measured
	 * window only.
	 */
	start = now_ns();
	read_cpu(&c0);
	self0 = self_cpu_ns();
	t0 = start + (uint64_t)(o->warmup * 1e9);
	if (o->libaio)
		ring_libaio(&s, fd, t0, t0 + (uint64_t)(o->secs * 1e9));
	else
		ring_ioctl(&s, fd, t0, t0 + (uint64_t)(o->secs * 1e9));
	t1 = now_ns();
	read_cpu(&c1);
	self1 = self_cpu_ns();
	close(fd);

	secs = o->secs;
	qsort(s.lat, s.nr_lat, sizeof(*s.lat), cmp_u64);
	printf("RING api=%s op=%s depth=%u batch=%u secs=%.3f ops=%" PRIu64
	       " iops=%.0f lat_p50_ns=%" PRIu64 " lat_p99_ns=%" PRIu64
	       " lat_max_ns=%" PRIu64,
	       o->libaio ? "libaio" : "ioctl", o->nop ? "nop" : "read",
	       o->depth, o->batch, secs, s.done, (double)s.done / secs,
	       percentile(s.lat, s.nr_lat, 500),
	       percentile(s.lat, s.nr_lat, 990),
	       s.nr_lat ? s.lat[s.nr_lat - 1] : 0);
	/* Per completed request over the whole run, warm-up included. */
	{
		double all = (double)s.done * ((double)(t1 - start) /
					       (o->secs * 1e9));

		printf(" busy_ns_per_op=%.0f self_ns_per_op=%.0f",
		       (double)(c1.busy_ns - c0.busy_ns) / all,
		       (double)(self1 - self0) / all);
	}
	if (o->fixed_latency) {
		qsort(s.late, s.nr_late, sizeof(*s.late), cmp_u64);
		printf(" latency_ns=%" PRIu64 " late_n=%zu late_p50_ns=%" PRIu64
		       " late_p99_ns=%" PRIu64 " late_max_ns=%" PRIu64,
		       o->latency_ns, s.nr_late,
		       percentile(s.late, s.nr_late, 500),
		       percentile(s.late, s.nr_late, 990),
		       s.nr_late ? s.late[s.nr_late - 1] : 0);
	}
	printf("\n");
	free(s.bufs);
	free(s.slot_submit);
	free(s.free_slots);
	free(s.lat);
	free(s.late);
	return 0;
}

/* ---- scale --------------------------------------------------------------- */

#define SCALE_BATCH	256u

static int cmd_scale(const char *dev, unsigned int n, uint64_t latency_ns,
		     uint64_t total)
{
	struct aiodev_req *reqs = calloc(SCALE_BATCH, sizeof(*reqs));
	struct aiodev_event *ev = calloc(n, sizeof(*ev));
	uint64_t done = 0, rounds = 0, submit_self = 0, submit_wall = 0;
	uint64_t wall0, piled = 0, peak_min = UINT64_MAX;
	struct cpu_times c0, c1;
	struct aiodev_info info;
	unsigned int i;
	int fd;

	if (!reqs || !ev)
		die("calloc", ENOMEM);
	fd = open_dev(dev, O_RDONLY, &info);
	if (n > info.queue_depth)
		die("--n exceeds the module's queue_depth", EINVAL);
	for (i = 0; i < SCALE_BATCH; i++)
		reqs[i] = (struct aiodev_req){ .op = AIODEV_OP_NOP,
					       .flags = AIODEV_REQ_LATENCY,
					       .latency_nsec = latency_ns };

	wall0 = now_ns();
	read_cpu(&c0);
	while (done < total) {
		uint64_t last_submit = 0, first_complete = UINT64_MAX;
		uint64_t s0 = self_cpu_ns(), w0 = now_ns();
		unsigned int sent = 0, reaped = 0;

		while (sent < n) {
			unsigned int k = n - sent < SCALE_BATCH ? n - sent :
					 SCALE_BATCH;
			struct aiodev_submit sub = { .reqs = (uintptr_t)reqs,
						     .nr = k };
			int got = ioctl(fd, AIODEV_IOC_SUBMIT, &sub);

			if (got < 0)
				die("AIODEV_IOC_SUBMIT", errno);
			sent += (unsigned int)got;
		}
		submit_self += self_cpu_ns() - s0;
		submit_wall += now_ns() - w0;
		while (reaped < n) {
			unsigned int want = n - reaped;
			struct aiodev_getevents g = {
				.events = (uintptr_t)ev,
				.min_nr = want < SCALE_BATCH ? want : SCALE_BATCH,
				.max_nr = want,
				.timeout_nsec = -1,
			};
			int got = ioctl(fd, AIODEV_IOC_GETEVENTS, &g);

			if (got < 0) {
				if (errno == EINTR)
					continue;
				die("AIODEV_IOC_GETEVENTS", errno);
			}
			for (i = 0; i < (unsigned int)got; i++) {
				if (ev[i].submit_ns > last_submit)
					last_submit = ev[i].submit_ns;
				if (ev[i].complete_ns < first_complete)
					first_complete = ev[i].complete_ns;
			}
			reaped += (unsigned int)got;
		}
		if (first_complete > last_submit)
			piled++;
		/* Margin between the last submission and the first completion. */
		if (first_complete - last_submit < peak_min &&
		    first_complete > last_submit)
			peak_min = first_complete - last_submit;
		done += n;
		rounds++;
	}
	read_cpu(&c1);
	printf("SCALE n=%u latency_ns=%" PRIu64 " rounds=%" PRIu64
	       " requests=%" PRIu64 " piled_rounds=%" PRIu64
	       " busy_ns_per_req=%.0f submit_self_ns_per_req=%.0f"
	       " submit_wall_ns_per_req=%.0f min_margin_ns=%" PRIu64
	       " wall_s=%.3f\n",
	       n, latency_ns, rounds, done, piled,
	       (double)(c1.busy_ns - c0.busy_ns) / (double)done,
	       (double)submit_self / (double)done,
	       (double)submit_wall / (double)done,
	       peak_min == UINT64_MAX ? 0 : peak_min,
	       (double)(now_ns() - wall0) / 1e9);
	close(fd);
	free(reqs);
	free(ev);
	return 0;
}

/* ---- mem ----------------------------------------------------------------- */

#define MAX_CACHES	512

struct slab_row {
	char name[64];
	long active, total, objsize, slabs, pages_per_slab;
};

struct slab_snap {
	struct slab_row row[MAX_CACHES];
	int n;
	long meminfo_slab_kb, meminfo_vmalloc_kb;
};

static void snap_slab(struct slab_snap *s)
{
	FILE *f = fopen("/proc/slabinfo", "r");
	char line[512];

	if (!f)
		die("/proc/slabinfo", errno);
	s->n = 0;
	while (fgets(line, sizeof(line), f) && s->n < MAX_CACHES) {
		struct slab_row *r = &s->row[s->n];
		long objperslab, tl, lim, sc, sl;

		if (line[0] == '#' || !strncmp(line, "slabinfo", 8))
			continue;
		/* name active_objs num_objs objsize objperslab pagesperslab
		 * : tunables l b s : slabdata active_slabs num_slabs shared */
		if (sscanf(line, "%63s %ld %ld %ld %ld %ld : tunables %ld %ld %ld : slabdata %ld %ld",
			   r->name, &r->active, &r->total, &r->objsize,
			   &objperslab, &r->pages_per_slab, &tl, &lim, &sc,
			   &sl, &r->slabs) == 11)
			s->n++;
	}
	fclose(f);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		die("/proc/meminfo", errno);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Slab: %ld kB", &s->meminfo_slab_kb);
		sscanf(line, "VmallocUsed: %ld kB", &s->meminfo_vmalloc_kb);
	}
	fclose(f);
}

static const struct slab_row *find_row(const struct slab_snap *s,
				       const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->row[i].name, name))
			return &s->row[i];
	return NULL;
}

/* Print per-cache deltas b - a above a noise floor; return the sums. */
static void diff_slab(const char *phase, const char *op,
		      const struct slab_snap *a, const struct slab_snap *b,
		      unsigned int n, long *obj_bytes, long *slab_bytes)
{
	int i;

	*obj_bytes = *slab_bytes = 0;
	for (i = 0; i < b->n; i++) {
		const struct slab_row *rb = &b->row[i];
		const struct slab_row *ra = find_row(a, rb->name);
		long dobj = rb->active - (ra ? ra->active : 0);
		long dslab = rb->slabs - (ra ? ra->slabs : 0);
		long ob = dobj * rb->objsize;
		long sb = dslab * rb->pages_per_slab * 4096;

		*obj_bytes += ob;
		*slab_bytes += sb;
		/* Only caches that moved by more than noise. */
		if (labs(ob) >= 8192 || labs(sb) >= 16384)
			printf("SLAB phase=%s op=%s n=%u cache=%s objsize=%ld d_objs=%ld d_obj_bytes=%ld d_slab_bytes=%ld\n",
			       phase, op, n, rb->name, rb->objsize, dobj, ob,
			       sb);
	}
}

static int cmd_mem(const char *dev, unsigned int n, bool read_op)
{
	static struct slab_snap s0, s1, s2, s3;
	struct aiodev_req *reqs = calloc(SCALE_BATCH, sizeof(*reqs));
	const char *op = read_op ? "read" : "nop";
	struct aiodev_info info;
	long ob_open, sb_open, ob_req, sb_req, ob_close, sb_close;
	unsigned char *buf;
	unsigned int sent = 0, i;
	int fd, err;

	err = posix_memalign((void **)&buf, 4096, BS);
	if (err || !reqs)
		die("malloc", ENOMEM);
	memset(buf, 0, BS);
	/* Fault in our own memory before the first snapshot. */
	snap_slab(&s0);
	snap_slab(&s1);
	snap_slab(&s2);
	snap_slab(&s3);

	snap_slab(&s0);
	fd = open_dev(dev, O_RDONLY, &info);
	if (n > info.queue_depth)
		die("--n exceeds the module's queue_depth", EINVAL);
	snap_slab(&s1);
	for (i = 0; i < SCALE_BATCH; i++) {
		reqs[i] = (struct aiodev_req){
			.op = read_op ? AIODEV_OP_READ : AIODEV_OP_NOP,
			.flags = AIODEV_REQ_LATENCY,
			.latency_nsec = 60 * NSEC_PER_SEC,
		};
		if (read_op) {
			reqs[i].buf = (uintptr_t)buf;
			reqs[i].len = BS;
			reqs[i].offset = (uint64_t)i * BS;
		}
	}
	while (sent < n) {
		unsigned int k = n - sent < SCALE_BATCH ? n - sent : SCALE_BATCH;
		struct aiodev_submit sub = { .reqs = (uintptr_t)reqs, .nr = k };
		int got = ioctl(fd, AIODEV_IOC_SUBMIT, &sub);

		if (got < 0)
			die("AIODEV_IOC_SUBMIT", errno);
		sent += (unsigned int)got;
	}
	snap_slab(&s2);
	close(fd);
	/* Close cancels them; the tasklet frees them shortly after. */
	usleep(500000);
	snap_slab(&s3);

	diff_slab("open", op, &s0, &s1, n, &ob_open, &sb_open);
	diff_slab("inflight", op, &s1, &s2, n, &ob_req, &sb_req);
	diff_slab("after_close", op, &s0, &s3, n, &ob_close, &sb_close);
	printf("MEM n=%u op=%s open_obj_bytes=%ld open_vmalloc_kb=%ld"
	       " inflight_obj_bytes=%ld inflight_slab_bytes=%ld"
	       " obj_bytes_per_req=%.1f slab_bytes_per_req=%.1f"
	       " meminfo_slab_bytes_per_req=%.1f leftover_obj_bytes=%ld\n",
	       n, op, ob_open,
	       s1.meminfo_vmalloc_kb - s0.meminfo_vmalloc_kb, ob_req, sb_req,
	       (double)ob_req / n, (double)sb_req / n,
	       (double)(s2.meminfo_slab_kb - s1.meminfo_slab_kb) * 1024 / n,
	       ob_close);
	free(reqs);
	free(buf);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(void)
{
	fputs("usage: aiodev-bench ring --api ioctl|libaio [--dev PATH] [--depth D] [--batch B]\n"
	      "                         [--secs S] [--warmup S] [--op read|nop] [--latency NS]\n"
	      "       aiodev-bench scale --n N --latency NS [--total T] [--dev PATH]\n"
	      "       aiodev-bench mem --n N [--op nop|read] [--dev PATH]\n", stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api", required_argument, NULL, 'a' },
		{ "dev", required_argument, NULL, 'd' },
		{ "depth", required_argument, NULL, 'q' },
		{ "batch", required_argument, NULL, 'b' },
		{ "secs", required_argument, NULL, 's' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "op", required_argument, NULL, 'o' },
		{ "latency", required_argument, NULL, 'l' },
		{ "n", required_argument, NULL, 'n' },
		{ "total", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	struct ring_opts o = {
		.dev = "/dev/aiodev0", .depth = 256, .batch = 16,
		.secs = 3, .warmup = 0.5,
	};
	unsigned int n = 0;
	uint64_t total = 0;
	bool op_read = false;	/* mem: --op read given */
	const char *mode;
	int opt;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'a':
			if (!strcmp(optarg, "libaio"))
				o.libaio = true;
			else if (strcmp(optarg, "ioctl"))
				ok = false;
			break;
		case 'd':
			o.dev = optarg;
			break;
		case 'q':
			ok = parse_u32(optarg, &o.depth);
			break;
		case 'b':
			ok = parse_u32(optarg, &o.batch);
			break;
		case 's':
			ok = parse_decimal(optarg, &o.secs);
			break;
		case 'w':
			ok = parse_decimal(optarg, &o.warmup);
			break;
		case 'o':
			if (!strcmp(optarg, "nop"))
				o.nop = true;
			else if (!strcmp(optarg, "read"))
				op_read = true;
			else
				ok = false;
			break;
		case 'l':
			ok = parse_time(optarg, &o.latency_ns);
			o.fixed_latency = true;
			break;
		case 'n':
			ok = parse_u32(optarg, &n);
			break;
		case 't':
			ok = parse_u64(optarg, &total);
			break;
		default:
			usage();
		}
		if (!ok)
			usage();
	}
	if (!strcmp(mode, "ring")) {
		if (!o.depth || !o.batch || o.secs <= 0)
			usage();
		return cmd_ring(&o);
	}
	if (!strcmp(mode, "scale")) {
		if (!n || !o.fixed_latency)
			usage();
		return cmd_scale(o.dev, n, o.latency_ns, total ? total : n);
	}
	if (!strcmp(mode, "mem")) {
		if (!n)
			usage();
		return cmd_mem(o.dev, n, op_read);
	}
	usage();
	return 2;
}
