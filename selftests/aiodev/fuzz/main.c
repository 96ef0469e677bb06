// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: AIODEV_FUZZ_CALLS ioctl calls in total (default 1000000)
 * from AIODEV_FUZZ_THREADS threads (default 6: they often sleep in plain
 * I/O for the device's latency) on files of both devices
 * that a closer thread keeps replacing (dup2 over them, close, reopen) and
 * whose buffers it unmaps and maps again, mixed with read/write/pread/
 * pwrite/readv/preadv2/pwritev2/lseek/poll and io_submit/io_getevents/
 * io_cancel with random arguments:
 *
 *  - every command, every other number of magic 0xA9 and the thirteen
 *    numbers with the wrong size or direction, random command numbers;
 *  - the rules and distributions (RULE_ADD/DEL/CLEAR/LIST/LOAD, DIST_SET):
 *    random and boundary values in every field of aiodev_rule,
 *    aiodev_rule_list, aiodev_dist and the buckets (unknown flags, ops,
 *    paths and kinds, ranges at and past the end, errnos 0, 511, 512,
 *    latencies past AIODEV_MAX_NSEC, bad and unknown names, counts 0, 64,
 *    65, 256, 257, 2^32 - 1, reserved and padding fields, nonzero outputs),
 *    rule and bucket arrays cut by a guard page, read-only files;
 *  - argument structures at valid, misaligned, NULL, PROT_NONE, read-only,
 *    half-unmapped (straddling a guard page), kernel and non-canonical
 *    addresses; random and boundary values in every field (counts 0, 1,
 *    queue_depth, queue_depth + 1, 2^32 - 1; lengths 0, 1 MiB, 1 MiB + 1;
 *    offsets at and past the end, overflowing; times at and past
 *    AIODEV_MAX_NSEC; errnos 0, 511, 512; unknown flags; reserved fields).
 *
 * Each call may only fail with an errno its documentation names (the
 * allow-lists below cite uapi/linux/aiodev.h, README.md and the system
 * calls' manual pages), or, for a read, write or AIO result, with a fault
 * errno of a configuration that may have been in force when it was
 * submitted; and where the outcome follows from the arguments alone (a bad
 * pointer, an invalid field, an unknown command) it must be exactly that
 * one, or -EBADF if the closer had the file closed meanwhile. Every rule
 * and distribution change on a writable file runs under its device's
 * lock against a shadow of the device's rules and distributions, so its
 * outcome is exact too (-ENOSPC, -ENOENT, -EBUSY, -ESRCH, the ids), and
 * RULE_LIST must return the shadow. The rules that may take effect are
 * tame: latencies of at most SAFE_NSEC, results DEFAULT, OK, SHORT, or
 * ERROR/TORN/REFUSE with an errno of rule_errno[], which a read, write,
 * io_event or SUBMIT may then end with only while such a rule may have
 * been in force on its device (the same history as the configurations).
 * TIMEOUT (a request without a deadline of its own would wait for the
 * device's, up to an hour) and other errnos appear only in invalid rules.
 * Anything
 * else is counted, the first ones printed, and fails the test. Afterwards
 * the devices must still work (round trips through the ioctl, pread/pwrite
 * and libaio) and their counters add up with nothing left in flight.
 *
 * Writes stay out of [ZERO_REGION_OFF, + ZERO_REGION_LEN), which other
 * programs expect to read as zeros. Nothing blocks for long: the files are
 * O_NONBLOCK, waits are at most 1 ms, and a configuration with a long
 * latency always comes with a deadline of at most 1 us. AIODEV_FUZZ_SEED
 * makes the argument choices reproducible.
 *
 * This file holds the test, its checks at rest and its summary; each part
 * of the run has a file of its own in this directory (see fuzz.h).
 */
#include "fuzz.h"
#include "kselftest_harness.h"

/* ---- the test ------------------------------------------------------------ */

static void *map_guarded(size_t bytes)
{
	unsigned char *p = mmap(NULL, bytes + PAGE_SZ, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + bytes, PAGE_SZ, PROT_NONE))
		return NULL;
	return p;
}

/* Round trips on a fresh file of each device: it still works. */
static int roundtrip(struct __test_metadata *_metadata, int dev)
{
	const __u64 off = 3ULL << 20;
	unsigned char *w = kaio_buf(65536, 0), *r = kaio_buf(65536, 0);
	struct aiodev_req q;
	struct aiodev_event ev;
	int fd = aio_open(dev, O_RDWR);

	if (fd < 0 || !w || !r)
		return -1;
	EXPECT_EQ(0, aio_reset_config(fd));
	fill_pattern(w, 65536, 0xf022 + dev);
	req_init(&q, AIODEV_OP_WRITE, w, off, 65536, 1);
	EXPECT_EQ(65536LL, aio_sync(fd, &q, &ev));
	req_init(&q, AIODEV_OP_READ, r, off, 65536, 2);
	EXPECT_EQ(65536LL, aio_sync(fd, &q, &ev));
	EXPECT_EQ(0, memcmp(w, r, 65536));
	memset(r, 0, 65536);
	EXPECT_EQ(65536, kaio_pread(fd, r, 65536, off));
	EXPECT_EQ(0, memcmp(w, r, 65536));
	EXPECT_EQ(65536, kaio_pwrite(fd, r, 65536, off + 65536));
	req_nop(&q, 3);
	req_latency(&q, MSEC(1));
	req_timeout(&q, MSEC(1));
	EXPECT_EQ(-ETIMEDOUT, aio_sync(fd, &q, NULL));
	/* The range other programs rely on still reads as zeros. */
	EXPECT_EQ(0, kaio_pread_all(fd, w, 65536, ZERO_REGION_OFF));
	EXPECT_EQ(-1L, find_not(w, 65536, 0));
	EXPECT_EQ(0, kaio_pread_all(fd, w, 65536,
				    ZERO_REGION_OFF + ZERO_REGION_LEN - 65536));
	EXPECT_EQ(-1L, find_not(w, 65536, 0));
	close(fd);
	kaio_buf_free(w, 65536);
	kaio_buf_free(r, 65536);
	return 0;
}

/*
 * How many of our distributions fit beside the ones the device holds:
 * none of ours held afterwards, or -1.
 */
static int dist_room(int fd)
{
	struct aiodev_dist_bucket b = { 0, 1000, 1 };
	struct aiodev_dist d = { .buckets = (__u64)(uintptr_t)&b };
	int i, n, ret;

	for (i = 0; i < NDIST; i++) {
		dist_name(i, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);	/* nr 0 */
		if (ret && ret != -ENOENT)
			return -1;
	}
	d.nr_buckets = 1;
	for (n = 0; n < NDIST; n++) {
		dist_name(n, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
		if (ret == -ENOSPC)
			break;
		if (ret)
			return -1;
	}
	d.nr_buckets = 0;
	for (i = 0; i < n; i++) {
		dist_name(i, d.name);
		if (aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d))
			return -1;
	}
	return n;
}

/*
 * After the run: RULE_LIST must hold exactly the shadow's rules; then none
 * of the fuzzers' rules and distributions stay behind. Returns the
 * mismatches.
 */
static int rules_at_rest(struct th *t, int fd, int dev)
{
	struct dev_hist *h = &t->fz->hist[dev];
	struct aiodev_rule_list l = { .rules = (__u64)(uintptr_t)t->rl,
				      .nr = AIODEV_MAX_RULES };
	__u64 before = t->violations;
	struct aiodev_dist d = { 0 };
	int i, ret, bad = 0;

	ret = aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l);
	if (ret != h->nrules) {
		report(t->fz, "aiodev%d at rest: RULE_LIST returned %d, the fuzzers left %d rules",
		       dev, ret, h->nrules);
		bad++;
	}
	for (i = 0; i < ret && i < h->nrules; i++)
		check_listed(t, &t->rl[i], &h->rules[i].r, i);
	if (aio_ioctl(fd, AIODEV_IOC_RULE_CLEAR, NULL) ||
	    aio_ioctl(fd, AIODEV_IOC_RULE_LIST, &l) != 0) {
		report(t->fz, "aiodev%d: RULE_CLEAR left rules", dev);
		bad++;
	}
	for (i = 0; i < NDIST; i++) {
		dist_name(i, d.name);
		ret = aio_ioctl(fd, AIODEV_IOC_DIST_SET, &d);
		if (ret != (h->dists >> i & 1 ? 0 : -ENOENT)) {
			report(t->fz, "aiodev%d at rest: deleting %s: %d, expected %d",
			       dev, d.name, ret, h->dists >> i & 1 ? 0 : -ENOENT);
			bad++;
		}
	}
	return bad + (int)(t->violations - before);
}

FIXTURE(fz) {
	struct fz *fz;
	int fd[NDEV];
};

FIXTURE_SETUP(fz)
{
	struct aiodev_info info;
	int d;

	for (d = 0; d < NDEV; d++)
		self->fd[d] = fixture_open(_metadata, d, NULL);
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->fz = calloc(1, sizeof(*self->fz));
	ASSERT_NE(NULL, self->fz);
	self->fz->depth = info.queue_depth;
	self->fz->size = info.size_bytes;
}

FIXTURE_TEARDOWN(fz)
{
	int d;

	for (d = 0; d < NDEV; d++)
		fixture_close(_metadata, self->fd[d]);
}

TEST_F_TIMEOUT(fz, million_calls, 290)
{
	struct fz *fz = self->fz;
	const char *s = getenv("AIODEV_FUZZ_CALLS");
	__u64 calls = 0, other = 0, viol = 0, kinds_seen = 0, t0, secs_ms;
	__u64 rule_results = 0;
	struct aiodev_counters e[NDEV];
	struct aiodev_config cfg;
	struct aiodev_stats st;
	pthread_t closer;
	char line[1024], acct[512];
	int i, k, n, d, a;

	fz->target = s ? strtoull(s, NULL, 0) : 1000000;
	s = getenv("AIODEV_FUZZ_THREADS");
	fz->nthreads = s ? atoi(s) : 6;
	if (fz->nthreads < 1 || fz->nthreads > 32)
		fz->nthreads = 6;
	s = getenv("AIODEV_FUZZ_SEED");
	fz->seed = s ? strtoull(s, NULL, 0) : kaio_seed();
	TH_LOG("seed %llu (AIODEV_FUZZ_SEED), %llu calls, %d threads",
	       (unsigned long long)fz->seed, (unsigned long long)fz->target,
	       fz->nthreads);
	for (k = 0; k < NFK; k++)
		for (i = 0; allow_list[k][i]; i++)
			fz->allow[k][allow_list[k][i]] = true;
	for (d = 0; d < NDEV; d++) {
		ASSERT_EQ(0, aio_get_config(self->fd[d], &cfg));
		hist_init(fz, d, &cfg);
		fz->hist[d].dist_cap = dist_room(self->fd[d]);
		ASSERT_LE(0, fz->hist[d].dist_cap);
	}

	fz->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, fz->efd);
	fz->guard = mmap(NULL, PAGE_SZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	ASSERT_NE(MAP_FAILED, fz->guard);
	fz->ro = map_guarded(ARG_BYTES);
	ASSERT_NE(NULL, fz->ro);
	ASSERT_EQ(0, mprotect(fz->ro, ARG_BYTES, PROT_READ));
	fz->victim = map_guarded(VICTIM_BYTES);
	ASSERT_NE(NULL, fz->victim);
	for (i = 0; i < NSLOT_A; i++)
		open_slot(fz, false, i);
	for (i = 0; i < NSLOT_B; i++)
		open_slot(fz, true, i);
	fz->th = calloc(fz->nthreads, sizeof(*fz->th));
	ASSERT_NE(NULL, fz->th);

	t0 = now_ns();
	for (i = 0; i < fz->nthreads; i++) {
		struct th *t = &fz->th[i];

		t->fz = fz;
		t->idx = i;
		t->rng = (fz->seed ^ (0x9e3779b97f4a7c15ULL * (i + 1))) | 1;
		t->arg = map_guarded(PAGE_SZ);
		t->arr = map_guarded(ARG_BYTES);
		ASSERT_NE(NULL, t->arg);
		ASSERT_NE(NULL, t->arr);
		ASSERT_EQ(0, pthread_create(&t->thread, NULL, fuzz_main, t));
	}
	ASSERT_EQ(0, pthread_create(&closer, NULL, closer_main, fz));
	for (i = 0; i < fz->nthreads; i++)
		pthread_join(fz->th[i].thread, NULL);
	atomic_store(&fz->stop, 1);
	pthread_join(closer, NULL);
	secs_ms = (now_ns() - t0) / NSEC_PER_MSEC;
	for (i = 0; i < NSLOT_A; i++)
		close(atomic_load(&fz->slot_a[i]));
	for (i = 0; i < NSLOT_B; i++)
		close(atomic_load(&fz->slot_b[i]));

	/* Totals, and every errno seen per call. */
	for (k = 0; k < NFK; k++) {
		__u64 per[ERRMAX + 1] = { 0 };

		for (i = 0; i < fz->nthreads; i++)
			for (n = 0; n <= ERRMAX; n++)
				per[n] += fz->th[i].count[k][n];
		line[0] = 0;
		for (n = 1, d = 0; n <= ERRMAX; n++) {
			if (!per[n])
				continue;
			d += snprintf(line + d, sizeof(line) - d > 0 ?
				      sizeof(line) - d : 0, " %s:%llu",
				      n == ERRMAX ? ">=600" : strerrorname_np(n) ?: "?",
				      (unsigned long long)per[n]);
			kinds_seen++;
		}
		if (line[0])
			printf("# fuzz: %-12s%s\n", fk_name[k], line);
	}
	for (i = 0; i < fz->nthreads; i++) {
		calls += fz->th[i].calls;
		other += fz->th[i].other;
		viol += fz->th[i].violations;
		rule_results += fz->th[i].rule_results;
	}
	/* The rules and distributions the fuzzers left: as they think. */
	for (d = 0; d < NDEV; d++)
		viol += rules_at_rest(&fz->th[0], self->fd[d], d);
	printf("# fuzz: rules added %llu, deleted %llu, loaded %llu times (%llu rules), cleared %llu; RULE_LISTs %llu (%llu compared whole); distributions defined %llu, deleted %llu; results with a rule's errno %llu\n",
	       (unsigned long long)atomic_load(&fz->r_added),
	       (unsigned long long)atomic_load(&fz->r_deleted),
	       (unsigned long long)atomic_load(&fz->r_loads),
	       (unsigned long long)atomic_load(&fz->r_loaded),
	       (unsigned long long)atomic_load(&fz->r_clears),
	       (unsigned long long)atomic_load(&fz->r_lists),
	       (unsigned long long)atomic_load(&fz->r_full),
	       (unsigned long long)atomic_load(&fz->d_set),
	       (unsigned long long)atomic_load(&fz->d_deleted),
	       (unsigned long long)rule_results);

	/* The devices at rest: nothing in flight, counters add up. */
	for (d = 0, a = 0; d < NDEV; d++) {
		bool idle = !kaio_wait_dev_idle(self->fd[d], 0,
						30 * NSEC_PER_SEC, &e[d]);
		bool stats = !aio_get_stats(self->fd[d], &st);
		__u64 sum = counters_sum(&e[d]);

		EXPECT_TRUE(stats);
		EXPECT_TRUE(idle)
			TH_LOG("aiodev%d: in_flight stuck at %llu", d,
			       e[d].in_flight);
		EXPECT_EQ(e[d].submitted, sum);
		/* What the figure line says instead of "all accounted". */
		if (!stats)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: GET_STATS failed",
				      a ? ", " : "", d);
		if (stats && !idle)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: %llu still in flight",
				      a ? ", " : "", d, e[d].in_flight);
		if (stats && e[d].submitted != sum)
			a += snprintf(acct + a, sizeof(acct) - a,
				      "%saiodev%d: %llu submitted, %llu accounted",
				      a ? ", " : "", d, e[d].submitted, sum);
	}
	if (!a)
		snprintf(acct, sizeof(acct), "all accounted, none in flight");
	printf("# fuzz: %llu ioctl calls + %llu other calls in %llu.%03llu s by %d threads (%llu calls/s); %llu (call, errno) pairs seen, %llu undocumented or unexpected; files replaced %llu, closed %llu, buffers remapped %llu; devices: %llu and %llu requests, %s\n",
	       (unsigned long long)calls, (unsigned long long)other,
	       (unsigned long long)secs_ms / 1000,
	       (unsigned long long)secs_ms % 1000, fz->nthreads,
	       (unsigned long long)(secs_ms ? (calls + other) * 1000 / secs_ms : 0),
	       (unsigned long long)kinds_seen, (unsigned long long)viol,
	       (unsigned long long)atomic_load(&fz->replaces),
	       (unsigned long long)atomic_load(&fz->closes),
	       (unsigned long long)atomic_load(&fz->remaps),
	       (unsigned long long)e[0].submitted,
	       (unsigned long long)e[1].submitted, acct);
	fflush(stdout);
	EXPECT_EQ(0ULL, viol);
	EXPECT_LE(fz->target, calls);
	/* Enough calls to have changed rules each way. */
	if (fz->target >= 20000) {
		EXPECT_LT(0ULL, atomic_load(&fz->r_added));
		EXPECT_LT(0ULL, atomic_load(&fz->r_deleted));
		EXPECT_LT(0ULL, atomic_load(&fz->r_loaded));
		EXPECT_LT(0ULL, atomic_load(&fz->r_full));
		EXPECT_LT(0ULL, atomic_load(&fz->d_set));
	}
	for (d = 0; d < NDEV; d++)
		EXPECT_EQ(0, roundtrip(_metadata, d));
	close(fz->efd);
}

TEST_HARNESS_MAIN
