// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev bench: keep DEPTH requests in flight, report IOPS, latency
 * percentiles and a latency histogram.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

const char bench_usage[] =
"usage: aiodev bench [-d N|PATH] [options]\n"
"\n"
"Keep DEPTH requests in flight and report IOPS, latency percentiles and\n"
"a latency histogram, from the completions' own timestamps. Progress goes\n"
"to stderr about once a second. Exit status 1 if any request failed.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -n, --requests N      requests to complete (default 10000)\n"
"  -q, --depth N         requests in flight (default 32)\n"
"  -b, --batch N         submit up to N requests per call, reap at least\n"
"                        N per wait (default 8, at most DEPTH)\n"
"  -s, --bs BYTES        bytes per read or write (default 4096; k, m)\n"
"  -r, --rw OP           read, write or nop (default read)\n"
"  -l, --latency TIME    exact per-request latency (default: the\n"
"                        device's latency and jitter)\n"
"  -h, --help            show this help\n"
"\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n";

#define BENCH_PROGRESS_NS	NSEC_PER_SEC
#define BENCH_HIST_WIDTH	40

struct bench {
	uint64_t requests;
	unsigned int depth;
	unsigned int batch;
	uint32_t bs;
	enum aiodev_op op;
	bool fixed_latency;
	uint64_t latency_ns;
};

struct bench_results {
	uint64_t *latencies;	/* one per completion, in ns */
	uint64_t completed;
	uint64_t ok;
	uint64_t timed_out;
	uint64_t failed;
	int64_t first_error;	/* the first result that was not ok */
};

static const char *op_name(enum aiodev_op op)
{
	switch (op) {
	case AIODEV_OP_READ:
		return "read";
	case AIODEV_OP_WRITE:
		return "write";
	default:
		return "nop";
	}
}

/* Lower bound of histogram bucket @i: 1, 2, 5, 10, 20, 50, ... ns. */
static uint64_t bucket_floor(unsigned int i)
{
	static const uint64_t steps[] = { 1, 2, 5 };
	uint64_t floor = steps[i % 3];
	unsigned int decade;

	for (decade = 0; decade < i / 3; decade++)
		floor *= 10;
	return floor;
}

/* Enough 1-2-5 buckets to hold any latency up to AIODEV_MAX_NSEC. */
#define BENCH_BUCKETS		42

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int i = 0;

	while (i + 1 < BENCH_BUCKETS && ns >= bucket_floor(i + 1))
		i++;
	return i;
}

static void print_histogram(const uint64_t *sorted, uint64_t n)
{
	uint64_t counts[BENCH_BUCKETS] = { 0 };
	unsigned int i, lo, hi;
	uint64_t peak = 0, j;

	for (j = 0; j < n; j++)
		counts[bucket_of(sorted[j])]++;
	lo = bucket_of(sorted[0]);
	hi = bucket_of(sorted[n - 1]);
	for (i = lo; i <= hi; i++)
		if (counts[i] > peak)
			peak = counts[i];

	printf("\n  latency histogram\n");
	for (i = lo; i <= hi; i++) {
		char from[FMT_LEN], to[FMT_LEN], bar[BENCH_HIST_WIDTH + 1];
		/* Round up: a bucket with any completion gets a mark. */
		size_t len = (size_t)((counts[i] * BENCH_HIST_WIDTH +
				       peak - 1) / peak);

		memset(bar, '#', len);
		bar[len] = '\0';
		printf("  %8s .. %-8s |%-*s| %10" PRIu64 " %5.1f%%\n",
		       fmt_ns(from, bucket_floor(i)),
		       fmt_ns(to, bucket_floor(i + 1)), BENCH_HIST_WIDTH, bar,
		       counts[i], 100.0 * (double)counts[i] / (double)n);
	}
}

static void bench_report(const struct bench *b, struct bench_results *r,
			 uint64_t elapsed_ns)
{
	static const struct {
		const char *name;
		unsigned int permille;
	} points[] = {
		{ "p50", 500 }, { "p90", 900 }, { "p99", 990 },
		{ "p99.9", 999 },
	};
	double secs = (double)elapsed_ns / NSEC_PER_SEC;
	char buf[FMT_LEN];
	size_t i;

	printf("  completed    %" PRIu64 " in %s: %.0f IOPS", r->completed,
	       fmt_ns(buf, elapsed_ns), (double)r->completed / secs);
	if (b->op != AIODEV_OP_NOP)
		printf(", %.1f MiB/s", (double)r->ok * b->bs / secs /
		       (1 << 20));
	printf("\n  results      %" PRIu64 " ok, %" PRIu64 " timed out, %"
	       PRIu64 " failed\n", r->ok, r->timed_out, r->failed);

	qsort(r->latencies, r->completed, sizeof(*r->latencies), cmp_u64);
	printf("\n  latency %9s", "min");
	for (i = 0; i < ARRAY_SIZE(points); i++)
		printf(" %9s", points[i].name);
	printf(" %9s\n          %9s", "max", fmt_ns(buf, r->latencies[0]));
	for (i = 0; i < ARRAY_SIZE(points); i++)
		printf(" %9s", fmt_ns(buf, percentile(r->latencies,
						      r->completed,
						      points[i].permille)));
	printf(" %9s\n", fmt_ns(buf, r->latencies[r->completed - 1]));
	print_histogram(r->latencies, r->completed);
}

static void bench_account(const struct bench *b, struct bench_results *r,
			  const struct aiodev_event *ev)
{
	int64_t expected = b->op == AIODEV_OP_NOP ? 0 : (int64_t)b->bs;

	r->latencies[r->completed++] = event_latency(ev);
	if (ev->result == expected) {
		r->ok++;
		return;
	}
	if (ev->result == -ETIMEDOUT)
		r->timed_out++;
	else
		r->failed++;
	if (r->timed_out + r->failed == 1)
		r->first_error = ev->result;
}

static void bench_progress(const struct bench *b, uint64_t done,
			   uint64_t done_before, uint64_t interval_ns,
			   unsigned int in_flight)
{
	double iops = (double)(done - done_before) * NSEC_PER_SEC /
		      (double)interval_ns;

	fprintf(stderr, "bench: %" PRIu64 "/%" PRIu64 " done, %.0f IOPS, %u in flight\n",
		done, b->requests, iops, in_flight);
}

/* The requests in flight: slot i owns buffer i and is user_data i. */
struct bench_queue {
	int fd;
	const char *path;
	unsigned char *bufs;
	struct aiodev_req *reqs;	/* one batch */
	struct aiodev_event *events;	/* b->depth of them */
	unsigned int *free_slots;
	unsigned int nr_free;
	uint64_t blocks;		/* b->bs blocks on the device */
	uint64_t submitted;
};

/*
 * Fill the queue up to b->depth, at most b->batch requests per call. It
 * never holds more than the context's queue_depth, so submit never waits
 * for a slot that only our own reaping could free.
 */
static int bench_submit(struct bench_queue *q, const struct bench *b)
{
	while (q->nr_free && q->submitted < b->requests) {
		unsigned int n = b->batch, i;
		int err;

		if (n > q->nr_free)
			n = q->nr_free;
		if (n > b->requests - q->submitted)
			n = (unsigned int)(b->requests - q->submitted);
		for (i = 0; i < n; i++) {
			struct aiodev_req *req = &q->reqs[i];
			unsigned int slot = q->free_slots[--q->nr_free];

			if (b->op == AIODEV_OP_NOP) {
				aiodev_prep_nop(req, slot);
			} else {
				unsigned char *buf = q->bufs +
						     (size_t)slot * b->bs;
				uint64_t offset = (q->submitted + i) %
						  q->blocks * b->bs;

				if (b->op == AIODEV_OP_READ)
					aiodev_prep_read(req, buf, b->bs,
							 offset, slot);
				else
					aiodev_prep_write(req, buf, b->bs,
							  offset, slot);
			}
			if (b->fixed_latency)
				aiodev_req_set_latency(req, b->latency_ns);
		}
		err = submit_all(q->fd, q->reqs, n);
		if (err) {
			report(-err, "%s: submit", q->path);
			return -1;
		}
		q->submitted += n;
	}
	return 0;
}

/* Reap at least a batch, or what has completed by @timeout_ns. */
static int bench_reap(struct bench_queue *q, const struct bench *b,
		      struct bench_results *r, uint64_t timeout_ns)
{
	unsigned int in_flight = b->depth - q->nr_free;
	int got, i;

	got = aiodev_getevents(q->fd, in_flight < b->batch ?
			       in_flight : b->batch, b->depth, q->events,
			       (int64_t)timeout_ns);
	if (got == -EINTR)
		return 0;
	if (got < 0) {
		report(-got, "%s: get events", q->path);
		return -1;
	}
	for (i = 0; i < got; i++) {
		const struct aiodev_event *ev = &q->events[i];

		if (ev->user_data >= b->depth || q->nr_free >= b->depth ||
		    ev->complete_ns < ev->submit_ns) {
			fail("%s: bogus event: user_data %" PRIu64
			     ", submit_ns %" PRIu64 ", complete_ns %" PRIu64,
			     q->path, (uint64_t)ev->user_data,
			     (uint64_t)ev->submit_ns,
			     (uint64_t)ev->complete_ns);
			return -1;
		}
		q->free_slots[q->nr_free++] = (unsigned int)ev->user_data;
		bench_account(b, r, ev);
	}
	return 0;
}

static int bench_run(int fd, const char *path, const struct bench *b,
		     uint64_t size_bytes, struct bench_results *r)
{
	struct bench_queue q = {
		.fd = fd,
		.path = path,
		.nr_free = b->depth,
		.blocks = size_bytes / b->bs,
	};
	uint64_t start, last_ns, last_done = 0;
	unsigned int i;
	int ret = -1, err;

	q.reqs = calloc(b->batch, sizeof(*q.reqs));
	q.events = calloc(b->depth, sizeof(*q.events));
	q.free_slots = calloc(b->depth, sizeof(*q.free_slots));
	if (!q.reqs || !q.events || !q.free_slots) {
		report(ENOMEM, "bench: allocate the queue");
		goto out;
	}
	if (b->op != AIODEV_OP_NOP) {
		err = posix_memalign((void **)&q.bufs, 4096,
				     (size_t)b->depth * b->bs);
		if (err) {
			report(err, "bench: allocate %u buffers of %u bytes",
			       b->depth, b->bs);
			goto out;
		}
		fill_pattern(q.bufs, (size_t)b->depth * b->bs, 0);
	}
	for (i = 0; i < b->depth; i++)
		q.free_slots[i] = i;

	start = now_ns();
	last_ns = start;
	while (r->completed < b->requests) {
		uint64_t now, next = last_ns + BENCH_PROGRESS_NS;

		if (bench_submit(&q, b))
			goto out;
		now = now_ns();
		if (now >= next) {
			bench_progress(b, r->completed, last_done,
				       now - last_ns, b->depth - q.nr_free);
			last_ns = now;
			last_done = r->completed;
			next = now + BENCH_PROGRESS_NS;
		}
		/* Wake up for the next progress report at the latest. */
		if (bench_reap(&q, b, r, next - now))
			goto out;
	}
	bench_report(b, r, now_ns() - start);
	ret = 0;
out:
	free(q.bufs);
	free(q.free_slots);
	free(q.events);
	free(q.reqs);
	return ret;
}

int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "requests", required_argument, NULL, 'n' },
		{ "depth", required_argument, NULL, 'q' },
		{ "batch", required_argument, NULL, 'b' },
		{ "bs", required_argument, NULL, 's' },
		{ "rw", required_argument, NULL, 'r' },
		{ "latency", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench b = {
		.requests = 10000,
		.depth = 32,
		.bs = 4096,
		.op = AIODEV_OP_READ,
	};
	struct bench_results r = { 0 };
	bool batch_given = false, bs_given = false;
	struct aiodev_info info;
	struct device_arg dev;
	char buf[FMT_LEN];
	uint64_t val;
	int opt, fd, flags, ret;

	device_arg_init(&dev);
	while ((opt = getopt_long(argc, argv, "d:hn:q:b:s:r:l:", opts,
				  NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'd':
			ok = device_arg_parse(&dev, optarg);
			break;
		case 'h':
			fputs(bench_usage, stdout);
			return EXIT_SUCCESS;
		case 'n':
			/* Bounded for the percentile math and the malloc. */
			ok = parse_u64(optarg, &b.requests) && b.requests &&
			     b.requests <= UINT32_MAX &&
			     b.requests <= SIZE_MAX / sizeof(uint64_t);
			break;
		case 'q':
			ok = parse_u64(optarg, &val) && val && val <= INT_MAX;
			b.depth = (unsigned int)val;
			break;
		case 'b':
			ok = parse_u64(optarg, &val) && val && val <= INT_MAX;
			b.batch = (unsigned int)val;
			batch_given = true;
			break;
		case 's':
			ok = parse_size(optarg, &val) && val &&
			     val <= AIODEV_MAX_IO_BYTES;
			b.bs = (uint32_t)val;
			bs_given = true;
			break;
		case 'r':
			if (!strcmp(optarg, "read"))
				b.op = AIODEV_OP_READ;
			else if (!strcmp(optarg, "write"))
				b.op = AIODEV_OP_WRITE;
			else if (!strcmp(optarg, "nop"))
				b.op = AIODEV_OP_NOP;
			else
				ok = false;
			break;
		case 'l':
			b.fixed_latency = true;
			ok = parse_time(optarg, &b.latency_ns);
			break;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("bench");
		}
		if (!ok)
			return bad_value("bench", opts, opt, optarg);
	}
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'",
				   argv[optind]);
	if (!batch_given)
		b.batch = b.depth < 8 ? b.depth : 8;
	if (b.batch > b.depth)
		return usage_error("bench", "batch %u exceeds depth %u",
				   b.batch, b.depth);
	if (bs_given && b.op == AIODEV_OP_NOP)
		return usage_error("bench", "--bs is meaningless for nop");

	flags = b.op == AIODEV_OP_WRITE ? O_WRONLY : O_RDONLY;
	fd = open_device(dev.path, flags, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	ret = EXIT_USAGE;
	if (b.depth > info.queue_depth) {
		usage_error("bench", "depth %u exceeds the queue depth %u",
			    b.depth, info.queue_depth);
		goto out;
	}
	if (b.op != AIODEV_OP_NOP &&
	    (b.bs > info.max_io_bytes || b.bs > info.size_bytes)) {
		usage_error("bench", "block size %u exceeds the device's limit",
			    b.bs);
		goto out;
	}

	ret = EXIT_FAILURE;
	r.latencies = malloc(b.requests * sizeof(*r.latencies));
	if (!r.latencies) {
		report(ENOMEM, "bench: allocate %" PRIu64 " latencies",
		       b.requests);
		goto out;
	}
	printf("bench: %s, %" PRIu64 " %s requests", dev.path, b.requests,
	       op_name(b.op));
	if (b.op != AIODEV_OP_NOP)
		printf(" of %u bytes", b.bs);
	printf(", depth %u, batch %u, latency %s\n", b.depth, b.batch,
	       b.fixed_latency ? fmt_ns(buf, b.latency_ns) :
	       "device default");

	if (bench_run(fd, dev.path, &b, info.size_bytes, &r))
		goto out;
	if (r.ok != r.completed) {
		char res[FMT_LEN];

		fail("bench: %" PRIu64 " of %" PRIu64 " requests failed, the first with %s",
		     r.completed - r.ok, r.completed,
		     fmt_result(res, r.first_error));
		goto out;
	}
	ret = EXIT_SUCCESS;
out:
	free(r.latencies);
	if (close_device(fd, dev.path) != EXIT_SUCCESS && ret == EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}
