// SPDX-License-Identifier: GPL-2.0
/*
 * The aiodev tracepoints: enable them in tracefs, run requests whose ids we
 * know, and check each event appears for the right request with the right
 * fields; also the debugfs latency histogram.
 */
#define _GNU_SOURCE	/* strchrnul */
#include <limits.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "aiodev_util.h"
#include "kselftest_harness.h"

#define TRACEFS		"/sys/kernel/tracing"

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

/* The whole file, NUL-terminated; NULL on error. */
static char *read_file(const char *path)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (!buf || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *more = realloc(buf, cap * 2);

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

/* The trace line of @event for request @id, or NULL. */
static const char *find_event(const char *trace, const char *event, __u64 id)
{
	char key[64], idstr[40];
	const char *p = trace;

	snprintf(key, sizeof(key), " %s: ", event);
	snprintf(idstr, sizeof(idstr), " id=%#llx ", (unsigned long long)id);
	while ((p = strstr(p, key))) {
		const char *eol = strchrnul(p, '\n');
		const char *hit = strstr(p, idstr);

		if (hit && hit < eol)
			return p;
		p = eol;
	}
	return NULL;
}

/* Does the line at @line (up to its newline) contain @field? */
static bool line_has(const char *line, const char *field)
{
	const char *eol = strchrnul(line, '\n');
	const char *hit = strstr(line, field);

	return hit && hit < eol;
}

/* The number after @field (e.g. " delay_ns=") on the line at @line. */
static long long line_num(const char *line, const char *field)
{
	const char *eol = strchrnul(line, '\n');
	const char *hit = strstr(line, field);

	if (!hit || hit > eol)
		return LLONG_MIN;
	return strtoll(hit + strlen(field), NULL, 0);
}

FIXTURE(tr) {
	int fd;
};

FIXTURE_SETUP(tr)
{
	struct stat st;

	/* busybox init mounts no tracefs; the kernel has it built in. */
	if (stat(TRACEFS "/events", &st))
		ASSERT_EQ(0, mount("tracefs", TRACEFS, "tracefs", 0, NULL));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "0"));
	ASSERT_EQ(0, write_file(TRACEFS "/trace", ""));
	/*
	 * Without this, enabling an event also hooks sched_wakeup and
	 * sched_switch to record command names, so the scheduler's text is
	 * live-patched under every CPU: under TCG that once ended in an
	 * "Oops: int3" in ttwu_do_activate(). Only aiodev's sites change now.
	 */
	ASSERT_EQ(0, write_file(TRACEFS "/options/record-cmd", "0"));
	self->fd = fixture_open(_metadata, 0, NULL);
}

FIXTURE_TEARDOWN(tr)
{
	write_file(TRACEFS "/events/aiodev/enable", "0");
	write_file(TRACEFS "/options/record-cmd", "1");
	write_file(TRACEFS "/trace", "");
	if (self->fd >= 0) {
		aio_reset_config(self->fd);
		close(self->fd);
	}
}

TEST_F(tr, every_event_with_its_fields)
{
	static char buf[4096];
	struct aiodev_req r[3];
	struct aiodev_event ev[3];
	const char *line;
	char *trace;

	ASSERT_EQ(0, write_file(TRACEFS "/events/aiodev/enable", "1"));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "1"));

	/* A read that completes, a NOP that times out, a NOP we cancel. */
	req_init(&r[0], AIODEV_OP_READ, buf, 8192, 512, 1);
	req_latency(&r[0], MSEC(2));
	req_nop(&r[1], 2);
	req_latency(&r[1], MSEC(50));
	req_timeout(&r[1], MSEC(3));
	req_nop(&r[2], 3);
	req_latency(&r[2], 10 * NSEC_PER_SEC);
	ASSERT_EQ(3, aio_submit(self->fd, r, 3));
	ASSERT_EQ(0, aio_cancel(self->fd, r[2].id));
	ASSERT_EQ(3, aio_reap(self->fd, ev, 3, WAIT_LONG_NS));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "0"));

	trace = read_file(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);

	line = find_event(trace, "aiodev_submit", r[0].id);
	ASSERT_NE(NULL, line) TH_LOG("no submit for the read:\n%s", trace);
	EXPECT_TRUE(line_has(line, " op=read "));
	EXPECT_TRUE(line_has(line, " offset=8192 "));
	EXPECT_TRUE(line_has(line, " len=512 "));
	EXPECT_TRUE(line_has(line, " delay_ns=2000000 "));
	EXPECT_TRUE(line_has(line, " will_time_out=0"));
	EXPECT_NE(NULL, find_event(trace, "aiodev_timer_fire", r[0].id));
	line = find_event(trace, "aiodev_complete", r[0].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " op=read "));
	EXPECT_TRUE(line_has(line, " result=512 "));
	EXPECT_EQ(NULL, find_event(trace, "aiodev_timeout", r[0].id));
	EXPECT_EQ(NULL, find_event(trace, "aiodev_cancel", r[0].id));

	line = find_event(trace, "aiodev_submit", r[1].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " op=nop "));
	EXPECT_TRUE(line_has(line, " delay_ns=3000000 "));
	EXPECT_TRUE(line_has(line, " will_time_out=1"));
	line = find_event(trace, "aiodev_timeout", r[1].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " deadline_ns=3000000"));
	line = find_event(trace, "aiodev_complete", r[1].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " result=-110 "));

	line = find_event(trace, "aiodev_cancel", r[2].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " armed=1"));
	EXPECT_EQ(NULL, find_event(trace, "aiodev_timer_fire", r[2].id));
	line = find_event(trace, "aiodev_complete", r[2].id);
	ASSERT_NE(NULL, line);
	EXPECT_TRUE(line_has(line, " result=-125 "));
	free(trace);
}

/*
 * Exact, not only lower, bounds: with latency L and jitter J each
 * request's planned delay (the submit event's delay_ns) lies in
 * [L, L + J]; a request with its own latency gets exactly it, jitter or
 * not. The complete event's latency_ns is the event's complete_ns -
 * submit_ns, and latency_ns - lateness_ns is the planned delay, to the
 * nanosecond.
 */
TEST_F(tr, jitter_bounds_and_latency_fields)
{
	const __u64 lat = MSEC(1), jit = MSEC(20);
	struct aiodev_event ev[33];
	struct aiodev_req r[33];
	long long delay, latency, lateness, first = -1;
	bool varied = false;
	const char *line;
	char *trace;
	int i, k;

	ASSERT_EQ(0, aio_set_latency(self->fd, lat, jit, 0));
	ASSERT_EQ(0, write_file(TRACEFS "/events/aiodev/enable", "1"));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "1"));
	for (i = 0; i < 33; i++)
		req_nop(&r[i], i);
	req_latency(&r[32], MSEC(5));
	ASSERT_EQ(33, aio_submit(self->fd, r, 33));
	ASSERT_EQ(33, aio_reap(self->fd, ev, 33, WAIT_LONG_NS));
	ASSERT_EQ(0, write_file(TRACEFS "/tracing_on", "0"));
	trace = read_file(TRACEFS "/trace");
	ASSERT_NE(NULL, trace);

	for (k = 0; k < 33; k++) {
		i = ev[k].user_data;
		line = find_event(trace, "aiodev_submit", r[i].id);
		ASSERT_NE(NULL, line) TH_LOG("no submit event for #%d", i);
		delay = line_num(line, " delay_ns=");
		if (i == 32) {
			EXPECT_EQ((long long)MSEC(5), delay);
		} else {
			EXPECT_LE((long long)lat, delay) TH_LOG("#%d", i);
			EXPECT_GE((long long)(lat + jit), delay) TH_LOG("#%d", i);
			if (first < 0)
				first = delay;
			varied |= delay != first;
		}
		line = find_event(trace, "aiodev_complete", r[i].id);
		ASSERT_NE(NULL, line) TH_LOG("no complete event for #%d", i);
		latency = line_num(line, " latency_ns=");
		lateness = line_num(line, " lateness_ns=");
		EXPECT_EQ((long long)(ev[k].complete_ns - ev[k].submit_ns),
			  latency) TH_LOG("#%d", i);
		EXPECT_EQ(delay, latency - lateness) TH_LOG("#%d", i);
		EXPECT_LE(0LL, lateness) TH_LOG("#%d completed early", i);
	}
	EXPECT_TRUE(varied) TH_LOG("32 delays drawn from U(0, 20 ms) all equal");
	free(trace);
}

TEST_F(tr, latency_histogram_counts_completions)
{
	const char *path = "/sys/kernel/debug/aiodev/aiodev0/latency_histogram";
	struct aiodev_req r[8];
	struct aiodev_event ev[8];
	unsigned long long from, to, n, total = 0;
	char *hist, *line;
	int i;

	ASSERT_EQ(0, write_file(path, "0"));
	for (i = 0; i < 8; i++) {
		req_nop(&r[i], i);
		req_latency(&r[i], MSEC(20));
	}
	ASSERT_EQ(8, aio_submit(self->fd, r, 8));
	ASSERT_EQ(8, aio_reap(self->fd, ev, 8, WAIT_LONG_NS));

	hist = read_file(path);
	ASSERT_NE(NULL, hist);
	for (line = strtok(hist, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			continue;
		ASSERT_EQ(3, sscanf(line, "%llu %llu %llu", &from, &to, &n))
			TH_LOG("bad line '%s'", line);
		total += n;
		EXPECT_LE(from, to);
		/* Each took at least its 20 ms: no bucket ends below that. */
		EXPECT_LE(MSEC(20), to);
	}
	free(hist);
	/* Other tests do not run meanwhile: exactly our eight. */
	EXPECT_EQ(8ULL, total);
}

/*
 * 64 reads of 64 KiB due at the same instant: a single tasklet run would
 * copy all 4 MiB with bottom halves off. Runs copy at most 128 KiB.
 */
TEST_F(tr, tasklet_runs_are_bounded)
{
	const char *path = "/sys/kernel/debug/aiodev/aiodev0/tasklet";
	unsigned long long max_ns = 0, max_bytes = 0;
	struct aiodev_event ev[64];
	struct aiodev_req r[64];
	char *text;
	void *buf;
	int i;

	buf = malloc(64 << 16);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < 64; i++) {
		req_init(&r[i], AIODEV_OP_READ, (char *)buf + (i << 16),
			 (__u64)i << 16, 1 << 16, i);
		req_latency(&r[i], MSEC(50));
	}
	ASSERT_EQ(0, write_file(path, "0"));
	ASSERT_EQ(64, aio_submit(self->fd, r, 64));
	ASSERT_EQ(64, aio_reap(self->fd, ev, 64, WAIT_LONG_NS));
	for (i = 0; i < 64; i++)
		EXPECT_EQ(1LL << 16, ev[i].result);

	text = read_file(path);
	ASSERT_NE(NULL, text);
	ASSERT_EQ(2, sscanf(text, "max_run_ns %llu max_run_bytes %llu",
			    &max_ns, &max_bytes)) TH_LOG("'%s'", text);
	free(text);
	free(buf);
	TH_LOG("longest run: %llu ns, %llu bytes", max_ns, max_bytes);
	EXPECT_LT(0ULL, max_ns);
	EXPECT_LE(1ULL << 16, max_bytes);
	EXPECT_GE(128ULL << 10, max_bytes);
}

/* tasklet_max_bytes: the longest run's bytes since the last reset. */
static unsigned long long tasklet_max_bytes(struct __test_metadata *_metadata)
{
	unsigned long long max_ns, max_bytes;
	char *text = read_file("/sys/kernel/debug/aiodev/aiodev0/tasklet");

	if (!text)
		return ~0ULL;
	if (sscanf(text, "max_run_ns %llu max_run_bytes %llu",
		   &max_ns, &max_bytes) != 2) {
		TH_LOG("'%s'", text);
		max_bytes = ~0ULL;
	}
	free(text);
	return max_bytes;
}

/*
 * Requests of 1 MiB, larger than one run may copy, due together: each is
 * copied over several runs, and the data arrives whole and in place.
 */
TEST_F(tr, tasklet_splits_large_requests)
{
	const __u32 len = 1 << 20;
	struct aiodev_event ev[4];
	struct aiodev_req r[4];
	unsigned char *out, *in;
	int i;

	out = malloc(2 * len);
	in = malloc(2 * len);
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, in);
	for (i = 0; i < 2 * (int)len; i++)
		out[i] = (unsigned char)(i * 7 + (i >> 12));
	memset(in, 0, 2 * len);

	ASSERT_EQ(0, write_file("/sys/kernel/debug/aiodev/aiodev0/tasklet", "0"));
	for (i = 0; i < 2; i++) {
		req_init(&r[i], AIODEV_OP_WRITE, out + i * len, (__u64)i * len,
			 len, i);
		req_latency(&r[i], MSEC(50));
	}
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	for (i = 0; i < 2; i++) {
		req_init(&r[i], AIODEV_OP_READ, in + i * len, (__u64)i * len,
			 len, i);
		req_latency(&r[i], MSEC(50));
	}
	ASSERT_EQ(2, aio_submit(self->fd, r, 2));
	ASSERT_EQ(2, aio_reap(self->fd, ev, 2, WAIT_LONG_NS));
	for (i = 0; i < 2; i++)
		EXPECT_EQ((__s64)len, ev[i].result);
	EXPECT_EQ(0, memcmp(out, in, 2 * len));
	EXPECT_GE(128ULL << 10, tasklet_max_bytes(_metadata));
	free(out);
	free(in);
}

TEST_HARNESS_MAIN
