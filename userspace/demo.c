// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev demo: walk through the device's semantics on real requests, each
 * step narrated and checked against the ABI's promises.
 *
 * A check that fails is counted and the demo goes on; a failing system call
 * stops it, since requests may be left in flight that would confuse later
 * steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

const char demo_usage[] =
"usage: aiodev demo [-d N|PATH]\n"
"\n"
"Walk through the device's semantics on real requests and check each:\n"
"out-of-order completion, a timeout, a cancellation, data moving at\n"
"completion, an injected failure, and a seeded scenario of rules (a\n"
"short read, a torn write, 1 % of NOPs failing, replayed by the seed).\n"
"The device must have no rules; its configuration is changed for the\n"
"last two steps and restored afterwards. Exit status 0 only if every\n"
"check passed.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

/* The longest any step waits for events it expects much sooner. */
#define DEMO_WAIT_NS		(5 * NSEC_PER_SEC)
#define DEMO_IO_LEN		4096U
#define DEMO_FAIL_EVERY		3
#define DEMO_FAIL_READS		(2 * DEMO_FAIL_EVERY)
#define DEMO_SHORT_OFF		(8 * DEMO_IO_LEN)
#define DEMO_TORN_OFF		(9 * DEMO_IO_LEN)
#define DEMO_NOPS		1000U
#define DEMO_SEED		42

struct demo {
	int fd;
	const char *path;
	struct aiodev_info info;
	struct aiodev_config base;	/* the config the steps run under */
	struct aiodev_counters expect;	/* this file's counters, foreseen */
	unsigned int checks;
	unsigned int failed_checks;
};

static bool __printf(3, 4)
demo_check(struct demo *demo, bool ok, const char *fmt, ...)
{
	va_list ap;

	demo->checks++;
	if (!ok)
		demo->failed_checks++;
	printf("    %s ", ok ? "ok:  " : "FAIL:");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return ok;
}

/*
 * Pin a request's timing: exact latency and no deadline, so that whatever
 * the device's latency, jitter and timeout are, the demo's timing holds.
 */
static void demo_timing(struct aiodev_req *req, uint64_t latency_ns)
{
	aiodev_req_set_latency(req, latency_ns);
	aiodev_req_set_timeout(req, 0);
}

static int demo_submit(struct demo *demo, struct aiodev_req *reqs,
		       unsigned int nr)
{
	int err = submit_all(demo->fd, reqs, nr);

	if (err) {
		report(-err, "%s: submit", demo->path);
		return -1;
	}
	demo->expect.submitted += nr;
	return 0;
}

static int demo_reap(struct demo *demo, struct aiodev_event *events,
		     unsigned int want, uint64_t timeout_ns)
{
	char buf[FMT_LEN];
	int got = reap(demo->fd, events, want, timeout_ns);

	if (got < 0) {
		report(-got, "%s: get events", demo->path);
		return -1;
	}
	if ((unsigned int)got < want) {
		fail("%s: only %d of %u completions within %s", demo->path,
		     got, want, fmt_ns(buf, timeout_ns));
		return -1;
	}
	return 0;
}

static int demo_out_of_order(struct demo *demo)
{
	static const char *const labels[] = { "A", "B", "C", "D" };
	const unsigned int nr = ARRAY_SIZE(labels);
	struct aiodev_event events[ARRAY_SIZE(labels)];
	struct aiodev_req reqs[ARRAY_SIZE(labels)];
	bool reversed = true, results_ok = true, on_time = true;
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	unsigned int i;

	printf("\n[1/6] Out-of-order completion\n");
	printf("    One submit call, four NOPs, longest latency first:\n");
	for (i = 0; i < nr; i++) {
		uint64_t latency = (nr - i) * 10 * NSEC_PER_MSEC;

		aiodev_prep_nop(&reqs[i], i);
		demo_timing(&reqs[i], latency);
		printf("      %u. %s  latency %s\n", i + 1, labels[i],
		       fmt_ns(lat, latency));
	}
	if (demo_submit(demo, reqs, nr))
		return -1;
	demo->expect.completed_ok += nr;
	if (demo_reap(demo, events, nr, DEMO_WAIT_NS))
		return -1;

	printf("    Completion order:\n");
	for (i = 0; i < nr; i++) {
		const struct aiodev_event *ev = &events[i];
		uint64_t tag = ev->user_data;

		if (tag >= nr) {
			demo_check(demo, false, "event with unknown user_data %"
				   PRIu64, tag);
			return -1;
		}
		printf("      %u. %s  latency %s, measured %s, result %s\n",
		       i + 1, labels[tag],
		       fmt_ns(lat, reqs[tag].latency_nsec),
		       fmt_ns(measured, event_latency(ev)),
		       fmt_result(res, ev->result));
		reversed &= tag == nr - 1 - i;
		results_ok &= ev->result == 0;
		on_time &= event_latency(ev) >= reqs[tag].latency_nsec;
	}
	printf("    They complete by latency, not in the order submitted.\n");
	demo_check(demo, reversed,
		   "completed D, C, B, A: the reverse of submission");
	demo_check(demo, results_ok, "every NOP completed with result 0");
	demo_check(demo, on_time, "none completed before its latency");
	return 0;
}

static int demo_timeout(struct demo *demo)
{
	const uint64_t latency = 50 * NSEC_PER_MSEC;
	const uint64_t timeout = 10 * NSEC_PER_MSEC;
	char lat[FMT_LEN], tmo[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	struct aiodev_event ev;
	struct aiodev_req req;

	printf("\n[2/6] Timeout\n");
	printf("    A NOP with latency %s and timeout %s: the deadline comes first.\n",
	       fmt_ns(lat, latency), fmt_ns(tmo, timeout));
	aiodev_prep_nop(&req, 0);
	aiodev_req_set_latency(&req, latency);
	aiodev_req_set_timeout(&req, timeout);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.timed_out++;
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    result %s after %s\n", fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	printf("    The deadline passed before the latency did, so the request failed.\n");
	demo_check(demo, ev.result == -ETIMEDOUT,
		   "it failed with -ETIMEDOUT");
	return 0;
}

static int demo_cancel(struct demo *demo)
{
	const uint64_t latency = 5 * NSEC_PER_SEC;
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	struct aiodev_event ev;
	struct aiodev_req req;
	int ret;

	printf("\n[3/6] Cancellation\n");
	aiodev_prep_nop(&req, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	printf("    A NOP with latency %s got id %" PRIu64
	       "; cancelling it by id.\n", fmt_ns(lat, latency),
	       (uint64_t)req.id);
	demo_check(demo, req.id != 0, "the kernel wrote back a nonzero id");

	ret = aiodev_cancel(demo->fd, req.id);
	printf("    cancel returned %s\n", fmt_result(res, ret));
	if (!demo_check(demo, ret == 0, "the cancel was accepted"))
		return -1;	/* it stays in flight for seconds */
	demo->expect.cancelled++;

	/* Far less than its latency: a cancel that did nothing shows here. */
	if (demo_reap(demo, &ev, 1, latency / 2))
		return -1;
	printf("    id %" PRIu64 " completed with %s after %s\n",
	       (uint64_t)ev.id, fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	printf("    A cancelled request still completes, exactly once, with -ECANCELED.\n");
	demo_check(demo, ev.id == req.id && ev.result == -ECANCELED,
		   "it completed with -ECANCELED, long before its latency");

	ret = aiodev_cancel(demo->fd, req.id);
	printf("    cancelling it again returned %s\n", fmt_result(res, ret));
	demo_check(demo, ret == -ENOENT,
		   "-ENOENT: it is no longer in flight");
	return 0;
}

static bool all_bytes(const unsigned char *buf, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != c)
			return false;
	return true;
}

static int demo_data(struct demo *demo)
{
	const uint64_t latency = 100 * NSEC_PER_MSEC;
	const unsigned char filler = 0x5a;
	unsigned char wbuf[DEMO_IO_LEN], rbuf[DEMO_IO_LEN];
	unsigned char first[DEMO_IO_LEN], second[DEMO_IO_LEN];
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	uint64_t seed = now_ns(), changed_ns, checked_ns;
	bool changed_in_time, checked_in_time, untouched;
	struct aiodev_event ev;
	struct aiodev_req req;

	printf("\n[4/6] Data moves at completion, as with DMA\n");
	/* A fresh seed, so data left by an earlier run cannot pass. */
	fill_pattern(first, sizeof(first), seed);
	fill_pattern(second, sizeof(second), seed + 1);

	memcpy(wbuf, first, sizeof(wbuf));
	aiodev_prep_write(&req, wbuf, sizeof(wbuf), 0, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.completed_ok++;
	memcpy(wbuf, second, sizeof(wbuf));
	changed_ns = now_ns();
	printf("    Wrote %u bytes at offset 0 with latency %s from a buffer holding pattern 1,\n"
	       "    and filled the buffer with pattern 2 right after submitting.\n",
	       DEMO_IO_LEN, fmt_ns(lat, latency));
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    write completed with %s after %s\n",
	       fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	demo_check(demo, ev.result == DEMO_IO_LEN,
		   "the write transferred %u bytes", DEMO_IO_LEN);
	/* Only a change made well before completion must have been seen. */
	changed_in_time = changed_ns < ev.submit_ns + latency / 2;

	memset(rbuf, filler, sizeof(rbuf));
	aiodev_prep_read(&req, rbuf, sizeof(rbuf), 0, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.completed_ok++;
	untouched = all_bytes(rbuf, sizeof(rbuf), filler);
	checked_ns = now_ns();
	printf("    Reading it back with latency %s into a buffer of 0x%02x bytes.\n",
	       fmt_ns(lat, latency), (unsigned int)filler);
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    read completed with %s after %s\n",
	       fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	checked_in_time = checked_ns < ev.submit_ns + latency / 2;
	printf("    Like DMA, a write takes its data and a read delivers it only at completion.\n");
	if (checked_in_time)
		demo_check(demo, untouched,
			   "the read buffer was untouched while the read was in flight");
	else
		printf("    note: too slow to look at the read buffer before completion\n");
	demo_check(demo, ev.result == DEMO_IO_LEN,
		   "the read transferred %u bytes", DEMO_IO_LEN);
	if (changed_in_time) {
		demo_check(demo, !memcmp(rbuf, second, sizeof(rbuf)),
			   "the device holds pattern 2: the write read its buffer at completion");
	} else {
		printf("    note: too slow to change the write buffer before completion\n");
		demo_check(demo, !memcmp(rbuf, first, sizeof(rbuf)) ||
			   !memcmp(rbuf, second, sizeof(rbuf)),
			   "the data read back is the data written");
	}
	return 0;
}

static int demo_set_config(struct demo *demo, const struct aiodev_config *cfg)
{
	int err = aiodev_set_config(demo->fd, cfg);

	if (err) {
		report(-err, "%s: set config", demo->path);
		return -1;
	}
	return 0;
}

/* Set @cfg and read it back, so a restore is known to have happened. */
static int demo_restore_config(struct demo *demo,
			       const struct aiodev_config *cfg)
{
	struct aiodev_config now;
	int err;

	if (demo_set_config(demo, cfg))
		return -1;
	err = aiodev_get_config(demo->fd, &now);
	if (err) {
		report(-err, "%s: get config", demo->path);
		return -1;
	}
	demo_check(demo, !memcmp(&now, cfg, sizeof(now)),
		   "the previous configuration is back");
	return 0;
}

static int demo_faults(struct demo *demo)
{
	const uint64_t latency = 1 * NSEC_PER_MSEC;
	const unsigned char filler = 0xa5;
	unsigned char bufs[DEMO_FAIL_READS][DEMO_IO_LEN];
	struct aiodev_event events[DEMO_FAIL_READS];
	struct aiodev_req reqs[DEMO_FAIL_READS];
	int64_t results[DEMO_FAIL_READS];
	bool pattern_ok = true, untouched = true;
	struct aiodev_config cfg = demo->base;
	char res[FMT_LEN];
	unsigned int i;
	int ret = 0;

	printf("\n[5/6] Fault injection\n");
	printf("    Setting fail_every_nth=%d and fail_nth_errno=EIO, then submitting\n"
	       "    %d reads of %u bytes at once.\n",
	       DEMO_FAIL_EVERY, DEMO_FAIL_READS, DEMO_IO_LEN);
	cfg.fail_every_nth = DEMO_FAIL_EVERY;
	cfg.fail_nth_errno = EIO;
	if (demo_set_config(demo, &cfg))
		return -1;

	for (i = 0; i < DEMO_FAIL_READS; i++) {
		memset(bufs[i], filler, DEMO_IO_LEN);
		aiodev_prep_read(&reqs[i], bufs[i], DEMO_IO_LEN,
				 (uint64_t)i * DEMO_IO_LEN, i);
		demo_timing(&reqs[i], latency);
	}
	if (demo_submit(demo, reqs, DEMO_FAIL_READS) ||
	    demo_reap(demo, events, DEMO_FAIL_READS, DEMO_WAIT_NS)) {
		ret = -1;
		goto restore;
	}
	demo->expect.failed += DEMO_FAIL_READS / DEMO_FAIL_EVERY;
	demo->expect.completed_ok += DEMO_FAIL_READS -
				     DEMO_FAIL_READS / DEMO_FAIL_EVERY;

	for (i = 0; i < DEMO_FAIL_READS; i++)
		results[i] = INT64_MIN;	/* no event seen */
	for (i = 0; i < DEMO_FAIL_READS; i++) {
		if (events[i].user_data >= DEMO_FAIL_READS) {
			demo_check(demo, false, "event with unknown user_data %"
				   PRIu64, (uint64_t)events[i].user_data);
			ret = -1;
			goto restore;
		}
		results[events[i].user_data] = events[i].result;
	}
	printf("    The plan counts the device's requests from the moment it is set:\n"
	       "    one in every %d fails.\n", DEMO_FAIL_EVERY);
	for (i = 0; i < DEMO_FAIL_READS; i++) {
		bool nth = (i + 1) % DEMO_FAIL_EVERY == 0;

		printf("      read %u: %s%s\n", i + 1,
		       fmt_result(res, results[i]), nth ? "  <- injected" : "");
		pattern_ok &= results[i] == (nth ? -EIO : (int64_t)DEMO_IO_LEN);
		if (nth)
			untouched &= all_bytes(bufs[i], DEMO_IO_LEN, filler);
	}
	demo_check(demo, pattern_ok,
		   "reads %d and %d failed with -EIO, the others transferred %u bytes",
		   DEMO_FAIL_EVERY, 2 * DEMO_FAIL_EVERY, DEMO_IO_LEN);
	demo_check(demo, untouched,
		   "the failed reads left their buffers untouched");

restore:
	printf("    Restoring the configuration.\n");
	if (demo_restore_config(demo, &demo->base))
		ret = -1;
	return ret;
}

/*
 * One request through the ioctl at once (latency 0), its result in
 * @result; counted in demo->expect.
 */
static int demo_io(struct demo *demo, int op, void *buf, uint64_t off,
		   int64_t *result)
{
	struct aiodev_event ev;
	struct aiodev_req req;

	if (op == AIODEV_OP_READ)
		aiodev_prep_read(&req, buf, DEMO_IO_LEN, off, 0);
	else
		aiodev_prep_write(&req, buf, DEMO_IO_LEN, off, 0);
	demo_timing(&req, 0);
	if (demo_submit(demo, &req, 1) ||
	    demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	*result = ev.result;
	if (ev.result < 0)
		demo->expect.failed++;
	else
		demo->expect.completed_ok++;
	return 0;
}

/* Which of DEMO_NOPS NOPs fail under the 1 % rule, from seed @seed. */
static int demo_nops(struct demo *demo, uint64_t seed, bool *failed,
		     unsigned int *nr_failed)
{
	struct aiodev_config cfg = demo->base;
	struct aiodev_event *events;
	struct aiodev_req *reqs;
	unsigned int i;
	int ret = -1;

	/* Setting the seed restarts the generator: a run is replayed. */
	cfg.seed = seed;
	if (demo_set_config(demo, &cfg))
		return -1;
	reqs = calloc(DEMO_NOPS, sizeof(*reqs));
	events = calloc(DEMO_NOPS, sizeof(*events));
	if (!reqs || !events) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < DEMO_NOPS; i++) {
		aiodev_prep_nop(&reqs[i], i);
		demo_timing(&reqs[i], 0);
	}
	if (demo_submit(demo, reqs, DEMO_NOPS) ||
	    demo_reap(demo, events, DEMO_NOPS, DEMO_WAIT_NS))
		goto out;
	*nr_failed = 0;
	memset(failed, 0, DEMO_NOPS * sizeof(*failed));
	for (i = 0; i < DEMO_NOPS; i++) {
		if (events[i].user_data >= DEMO_NOPS)
			goto out;
		if (events[i].result) {
			failed[events[i].user_data] = true;
			(*nr_failed)++;
		}
	}
	demo->expect.failed += *nr_failed;
	demo->expect.completed_ok += DEMO_NOPS - *nr_failed;
	ret = 0;
out:
	free(reqs);
	free(events);
	return ret;
}

static void demo_print_failed(const bool *failed)
{
	unsigned int i;

	printf("     ");
	for (i = 0; i < DEMO_NOPS; i++)
		if (failed[i])
			printf(" %u", i + 1);
	printf("\n");
}

static int demo_scenario(struct demo *demo)
{
	static const char *const text[] = {
		"--op read --range 32k:4k --short 512",
		"--op write --range 36k:4k --torn 1000:EIO",
		"--op nop --prob 1% --error EIO",
	};
	struct aiodev_rule rules[3] = {
		{ .ops = 1U << AIODEV_OP_READ, .offset = DEMO_SHORT_OFF,
		  .range_len = DEMO_IO_LEN, .result_kind = AIODEV_RESULT_SHORT,
		  .bytes = 512 },
		{ .ops = 1U << AIODEV_OP_WRITE, .offset = DEMO_TORN_OFF,
		  .range_len = DEMO_IO_LEN, .result_kind = AIODEV_RESULT_TORN,
		  .bytes = 1000, .error = EIO },
		{ .ops = 1U << AIODEV_OP_NOP, .flags = AIODEV_RULE_PROB,
		  .prob_ppm = AIODEV_PPM / 100, .result_kind = AIODEV_RESULT_ERROR,
		  .error = EIO },
	};
	static unsigned char buf[DEMO_IO_LEN], back[DEMO_IO_LEN];
	bool first[DEMO_NOPS], again[DEMO_NOPS];
	unsigned int nr_first = 0, nr_again = 0;
	char res[FMT_LEN];
	int64_t result;
	unsigned int i;
	int err, ret = -1;

	printf("\n[6/6] A seeded scenario: rules decide requests' fates\n");
	printf("    Three rules (`aiodev scenario load`, one per line):\n");
	for (i = 0; i < ARRAY_SIZE(text); i++)
		printf("      %s\n", text[i]);
	/* Known bytes in both ranges, to see which ones each request moves. */
	memset(buf, 's', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_SHORT_OFF, &result))
		return -1;
	memset(buf, 'o', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_TORN_OFF, &result))
		return -1;
	err = aiodev_rule_load(demo->fd, rules, ARRAY_SIZE(rules));
	if (err < 0) {
		report(-err, "%s: load rules", demo->path);
		return -1;
	}

	memset(buf, 'r', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_READ, buf, DEMO_SHORT_OFF, &result))
		goto out;
	printf("    A read of %u bytes in the first range: %s.\n", DEMO_IO_LEN,
	       fmt_result(res, result));
	demo_check(demo, result == 512 && all_bytes(buf, 512, 's') &&
		   all_bytes(buf + 512, DEMO_IO_LEN - 512, 'r'),
		   "a short read: 512 bytes came, the rest of the buffer is untouched");

	memset(buf, 'n', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_TORN_OFF, &result))
		goto out;
	printf("    A write of %u bytes in the second range: %s.\n", DEMO_IO_LEN,
	       fmt_result(res, result));
	if (aiodev_rule_clear(demo->fd))
		goto out;
	if (demo_io(demo, AIODEV_OP_READ, back, DEMO_TORN_OFF, &result))
		goto out;
	demo_check(demo, result == DEMO_IO_LEN && all_bytes(back, 1000, 'n') &&
		   all_bytes(back + 1000, DEMO_IO_LEN - 1000, 'o'),
		   "a torn write: it failed, yet its first 1000 bytes were stored");
	/* Only the NOP rule from here on. */
	err = aiodev_rule_load(demo->fd, &rules[2], 1);
	if (err < 0) {
		report(-err, "%s: load rules", demo->path);
		goto out;
	}

	printf("    %u NOPs with seed %d; these failed:\n", DEMO_NOPS, DEMO_SEED);
	if (demo_nops(demo, DEMO_SEED, first, &nr_first))
		goto out;
	demo_print_failed(first);
	printf("    Seed %d again, the same %u NOPs; these failed:\n", DEMO_SEED,
	       DEMO_NOPS);
	if (demo_nops(demo, DEMO_SEED, again, &nr_again))
		goto out;
	demo_print_failed(again);
	demo_check(demo, nr_first && nr_first < DEMO_NOPS / 20,
		   "%u of %u failed, about 1 %%", nr_first, DEMO_NOPS);
	demo_check(demo, !memcmp(first, again, sizeof(first)),
		   "the same seed failed the same requests: a run can be replayed");
	ret = 0;
out:
	printf("    Removing the rules and restoring the configuration.\n");
	err = aiodev_rule_clear(demo->fd);
	if (err) {
		report(-err, "%s: clear rules", demo->path);
		ret = -1;
	}
	if (demo_restore_config(demo, &demo->base))
		ret = -1;
	return ret;
}

/* The context's counters must account for every request the demo made. */
static int demo_final_checks(struct demo *demo)
{
	const struct aiodev_counters *want = &demo->expect;
	const struct aiodev_counters *got;
	struct aiodev_stats stats;
	struct aiodev_event ev;
	int ret;

	printf("\nThis file's counters (AIODEV_IOC_GET_STATS):\n");
	ret = aiodev_get_stats(demo->fd, &stats);
	if (ret) {
		report(-ret, "%s: get stats", demo->path);
		return -1;
	}
	got = &stats.context;
	print_counters(got);
	demo_check(demo, got->submitted == want->submitted &&
		   got->completed_ok == want->completed_ok &&
		   got->timed_out == want->timed_out &&
		   got->cancelled == want->cancelled &&
		   got->failed == want->failed && got->in_flight == 0,
		   "they match: %" PRIu64 " submitted, %" PRIu64 " ok, %"
		   PRIu64 " timed out, %" PRIu64 " cancelled, %" PRIu64
		   " failed, none in flight",
		   (uint64_t)want->submitted, (uint64_t)want->completed_ok,
		   (uint64_t)want->timed_out, (uint64_t)want->cancelled,
		   (uint64_t)want->failed);

	ret = aiodev_getevents(demo->fd, 0, 1, &ev, 0);
	if (ret < 0) {
		report(-ret, "%s: get events", demo->path);
		return -1;
	}
	demo_check(demo, ret == 0, "no stray completion is left");
	return 0;
}

static bool faults_on(const struct aiodev_config *cfg)
{
	return cfg->fail_every_nth || cfg->fail_len;
}

/* Rules off, with the zero errnos and offset the device then insists on. */
static void faults_off(struct aiodev_config *cfg)
{
	cfg->fail_every_nth = 0;
	cfg->fail_nth_errno = 0;
	cfg->fail_offset = 0;
	cfg->fail_len = 0;
	cfg->fail_range_errno = 0;
}

int cmd_demo(int argc, char **argv)
{
	static int (*const steps[])(struct demo *) = {
		demo_out_of_order,
		demo_timeout,
		demo_cancel,
		demo_data,
		demo_faults,
		demo_scenario,
		demo_final_checks,
	};
	static const uint64_t needed = AIODEV_FEAT_NOP | AIODEV_FEAT_FAULTS |
				       AIODEV_FEAT_CANCEL | AIODEV_FEAT_RULES;
	struct demo demo = { 0 };
	struct aiodev_config orig;
	struct device_arg dev;
	char size[FMT_LEN];
	bool stopped = false;
	size_t i;
	int err;

	err = parse_device_opts(argc, argv, "demo", demo_usage, &dev);
	if (err != OPTS_PARSED)
		return err;

	demo.path = dev.path;
	demo.fd = open_device(dev.path, O_RDWR, &demo.info);
	if (demo.fd < 0)
		return EXIT_FAILURE;
	if ((demo.info.features & needed) != needed) {
		fail("%s: the demo needs the nop, faults, cancel and rules features (have 0x%" PRIx64 ")",
		     dev.path, (uint64_t)demo.info.features);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	if (demo.info.size_bytes < DEMO_TORN_OFF + DEMO_IO_LEN) {
		fail("%s: the demo needs a device of at least %u bytes",
		     dev.path, DEMO_TORN_OFF + DEMO_IO_LEN);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	err = aiodev_rule_list(demo.fd, NULL, 0);
	if (err) {
		if (err < 0)
			report(-err, "%s: list rules", dev.path);
		else
			fail("%s: the device has %d rules, the demo needs none (aiodev rule list, aiodev rule clear)",
			     dev.path, err);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	err = aiodev_get_config(demo.fd, &orig);
	if (err) {
		report(-err, "%s: get config", dev.path);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}

	printf("aiodev demo on %s: ABI %u, %s, queue depth %u\n", dev.path,
	       demo.info.abi_version, fmt_bytes(size, demo.info.size_bytes),
	       demo.info.queue_depth);
	printf("Every request sets its own latency and no deadline, so the device's\n"
	       "latency, jitter and timeout settings do not matter.\n");
	demo.base = orig;
	if (faults_on(&orig)) {
		printf("The device has a fault plan: it is off during the demo\n"
		       "and restored afterwards.\n");
		faults_off(&demo.base);
		stopped = demo_set_config(&demo, &demo.base) != 0;
	}

	for (i = 0; i < ARRAY_SIZE(steps) && !stopped; i++)
		stopped = steps[i](&demo) != 0;

	if (faults_on(&orig)) {
		printf("\nRestoring the device's fault plan.\n");
		if (demo_restore_config(&demo, &orig))
			stopped = true;
	}
	if (close_device(demo.fd, dev.path) != EXIT_SUCCESS)
		stopped = true;

	if (stopped) {
		fail("demo: stopped early, %u of %u checks failed so far",
		     demo.failed_checks, demo.checks);
		return EXIT_FAILURE;
	}
	if (demo.failed_checks) {
		fail("demo: %u of %u checks failed", demo.failed_checks,
		     demo.checks);
		return EXIT_FAILURE;
	}
	printf("\ndemo: all %u checks passed\n", demo.checks);
	return EXIT_SUCCESS;
}
