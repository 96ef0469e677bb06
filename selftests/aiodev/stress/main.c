// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: AIODEV_STRESS_THREADS workers (default 8) for
 * AIODEV_STRESS_SECONDS (default 10) on contexts of both devices, all at
 * once:
 *
 *  - ioctl workers: random batches through AIODEV_IOC_SUBMIT (NOP, READ,
 *    WRITE; per-request latencies of 0, 1 ns, tiny and long, deadlines equal
 *    to the latency, shorter, longer, 0; some with an eventfd), GETEVENTS
 *    with random min/max/timeouts, CANCEL by id (live, reaped and bogus
 *    ids), contexts closed with requests in flight and reopened;
 *  - libaio workers: io_submit batches of pread/pwrite/preadv/pwritev (some
 *    O_DIRECT), io_getevents, io_cancel, io_destroy and close(fd) with
 *    requests in flight;
 *  - plain I/O workers: pread/pwrite/preadv/pwritev, RWF_NOWAIT;
 *  - a configuration thread changing latency, jitter, default deadline and
 *    both fault rules every few milliseconds (ioctl and sysfs), with
 *    deadlines that collide with the latency;
 *  - a killer thread forking processes that block in GETEVENTS, in a full
 *    queue's SUBMIT, in a plain read or write, and SIGKILLing them mid-wait,
 *    and processes that exit with ioctl and libaio requests in flight;
 *  - a rules thread adding, deleting, loading (RULE_LOAD) and clearing rules
 *    and defining and deleting latency distributions every millisecond or
 *    so, with rules no worker's request can meet (a sleeping child's tgid,
 *    a range nobody touches, NOPs through read/write, 2 MiB requests) and
 *    any fate; checking RULE_LIST under the churn (at most 64, ids
 *    increasing, its rules as added and never matched) and -EBADF for
 *    changes through a read-only file;
 *  - a rule worker reading a private range of known data under a rule of
 *    its own (SHORT, ERROR, TORN, REFUSE, OK with skip/every/count): while
 *    the rule provably stays in force, results, bytes moved and the rule's
 *    counters are exactly the rule's; otherwise and once it is deleted, a
 *    plain read's (see rules_main());
 *  - a holder whose reads a hold rule parks, released in random orders with
 *    random results (some parked first) while a racer cancels them (CANCEL,
 *    io_cancel) or closes their file, or left to a safety deadline: each
 *    ends exactly once, as the one that won says (see holder_main()).
 *
 * Checked while it runs: every event belongs to exactly one outstanding
 * request and comes once; results are the request's length, -ETIMEDOUT,
 * -ECANCELED or a fault-plan errno and agree with what CANCEL/io_cancel
 * answered; a deadline at or before the latency always wins; the event's
 * times respect the latency; a read that does not succeed leaves its buffer
 * untouched and a successful one returns the last successful write (each
 * worker owns its blocks, and keeps a shadow of the latest successful write
 * of each). At the end: per context, GET_STATS agrees with what was
 * submitted and reaped; per device, in_flight is back to where it was, the
 * outcomes add up to what was submitted and to no less than what was seen;
 * each eventfd counted exactly its requests; every block's latest
 * successful write reads back.
 *
 * Device layout: workers write only [0, KAIO_DATA_END); the children use
 * [KAIO_DATA_END, ZERO_REGION_OFF) as scratch and never write elsewhere;
 * the rule worker owns [PRIV_OFF, +PRIV_LEN), the holder [HOLD_OFF,
 * +HOLD_LEN), and [NOMATCH_OFF, +NOMATCH_LEN) is nobody's (all past the zero
 * region).
 * AIODEV_STRESS_SEED makes the random choices reproducible (threads still
 * interleave differently).
 *
 * This file holds the test, its summary and main(); each part of the run
 * has a file of its own in this directory (see stress.h).
 */
#include "stress.h"
#include "kselftest_harness.h"

const char *const cat_name[NCAT] = {
	"ok", "timed out", "cancelled", "failed"
};

void st_fail(struct run *run, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (atomic_fetch_add(&run->errors, 1) >= 25)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# stress: ERROR: %s\n", msg);
	fflush(stdout);
}

static int env_int(const char *name, int def, int lo, int hi)
{
	const char *s = getenv(name);
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, NULL, 0);
	return v < lo ? lo : v > hi ? hi : (int)v;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (w->role == R_IOCTL)
		ioctl_worker(w);
	else if (w->role == R_LIBAIO)
		libaio_worker(w);
	else
		sync_worker(w);
	return NULL;
}

/* ---- the test --------------------------------------------------------- */

static __u64 S(atomic_ullong *a)
{
	return atomic_load(a);
}

FIXTURE(st) {
	struct run *run;
	struct worker *w;
	struct helper cfg, killer, rules;
	struct rworker rw;
	struct holder ho;
	struct aiodev_counters base[NDEV];
	int fd[NDEV];
};

FIXTURE_SETUP(st)
{
	struct aiodev_info info;
	int d;

	self->run = calloc(1, sizeof(*self->run));
	ASSERT_NE(NULL, self->run);
	for (d = 0; d < NDEV; d++)
		self->fd[d] = fixture_open(_metadata, d, NULL);
	ASSERT_EQ(0, aio_get_info(self->fd[0], &info));
	self->run->depth = info.queue_depth;
}

FIXTURE_TEARDOWN(st)
{
	int d;

	for (d = 0; d < NDEV; d++) {
		if (self->fd[d] >= 0)
			fixture_close(_metadata, self->fd[d]);
	}
}

TEST_F_TIMEOUT(st, storm, 120)
{
	struct run *run = self->run;
	unsigned char *big;
	__u64 mism = 0, tot_acc = 0, tot_obs[NCAT] = { 0 }, t0;
	int i, d, k;

	run->nthreads = env_int("AIODEV_STRESS_THREADS", 8, 1, 64);
	run->seconds = env_int("AIODEV_STRESS_SECONDS", 10, 1, 3600);
	run->seed = getenv("AIODEV_STRESS_SEED") ?
		    strtoull(getenv("AIODEV_STRESS_SEED"), NULL, 0) : kaio_seed();
	TH_LOG("seed %llu (AIODEV_STRESS_SEED), %d threads, %d s, queue depth %u",
	       (unsigned long long)run->seed, run->nthreads, run->seconds,
	       run->depth);
	ASSERT_EQ(0, pthread_rwlock_init(&run->forklock, NULL));
	run->shm = mmap(NULL, sizeof(*run->shm), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, run->shm);
	big = malloc(256 * BLK);
	ASSERT_NE(NULL, big);
	/* The process of the rules no request meets: it only sleeps. */
	run->sleeper = fork();
	ASSERT_LE(0, run->sleeper);
	if (!run->sleeper) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	for (d = 0; d < NDEV; d++) {
		/* Not O_CLOEXEC: the sync children share this context. */
		run->shared_fd[d] = open(d ? "/dev/aiodev1" : "/dev/aiodev0",
					 O_RDWR);
		ASSERT_LE(0, run->shared_fd[d]);
		self->base[d] = kaio_dev_stats(self->fd[d]);
		EXPECT_EQ(0ULL, self->base[d].in_flight)
			TH_LOG("aiodev%d has requests in flight before the run", d);
	}

	self->w = calloc(run->nthreads, sizeof(*self->w));
	ASSERT_NE(NULL, self->w);
	for (i = 0; i < run->nthreads; i++) {
		struct worker *w = &self->w[i];

		w->run = run;
		w->idx = i;
		w->role = i % 3;
		w->rng = (run->seed ^ (0x9e3779b97f4a7c15ULL * (i + 1))) | 1;
		w->nb = REGION_BLOCKS / run->nthreads;
		w->first = i * w->nb;
		w->next_gen = 1;
		w->efd = w->role == R_IOCTL ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) : -1;
		shadow_alloc(w);
		ASSERT_NE(NULL, w->pool);
		ASSERT_NE(NULL, w->gen[1]);
	}
	self->cfg = (struct helper){ .run = run, .rng = run->seed ^ 0xc0f1 };
	self->killer = (struct helper){ .run = run, .rng = run->seed ^ 0x6b11 };
	self->rules = (struct helper){ .run = run, .rng = run->seed ^ 0x7a1e5 };
	self->rw = (struct rworker){ .run = run, .rng = (run->seed ^ 0x7a1e6) | 1,
				     .buf = kaio_buf(RW_MAXLEN + GUARD, 0),
				     .pat = kaio_buf(PRIV_LEN, 0) };
	ASSERT_NE(NULL, self->rw.buf);
	ASSERT_NE(NULL, self->rw.pat);
	/* As the workers' pools: pinned pages stay out of the children. */
	madvise(self->rw.buf, RW_MAXLEN + GUARD, MADV_DONTFORK);
	madvise(self->rw.pat, PRIV_LEN, MADV_DONTFORK);
	fill_pattern(self->rw.pat, PRIV_LEN, run->seed ^ 0x9a7);
	self->ho = (struct holder){ .run = run, .rng = (run->seed ^ 0x401d) | 1,
				    .buf = kaio_buf(HOLD_MAX * (BLK + GUARD), 0),
				    .pat = kaio_buf(HOLD_LEN, 0) };
	ASSERT_NE(NULL, self->ho.buf);
	ASSERT_NE(NULL, self->ho.pat);
	madvise(self->ho.buf, HOLD_MAX * (BLK + GUARD), MADV_DONTFORK);
	madvise(self->ho.pat, HOLD_LEN, MADV_DONTFORK);
	fill_pattern(self->ho.pat, HOLD_LEN, run->seed ^ 0x401e);

	t0 = now_ns();
	run->t_end = t0 + (__u64)run->seconds * NSEC_PER_SEC;
	for (i = 0; i < run->nthreads; i++)
		ASSERT_EQ(0, pthread_create(&self->w[i].thread, NULL,
					    worker_main, &self->w[i]));
	ASSERT_EQ(0, pthread_create(&self->cfg.thread, NULL, config_main,
				    &self->cfg));
	ASSERT_EQ(0, pthread_create(&self->killer.thread, NULL, killer_main,
				    &self->killer));
	ASSERT_EQ(0, pthread_create(&self->rules.thread, NULL, rules_main,
				    &self->rules));
	ASSERT_EQ(0, pthread_create(&self->rw.thread, NULL, rworker_main,
				    &self->rw));
	ASSERT_EQ(0, pthread_create(&self->ho.thread, NULL, holder_main,
				    &self->ho));
	for (i = 0; i < run->nthreads; i++)
		pthread_join(self->w[i].thread, NULL);
	atomic_store(&run->stop, 1);
	pthread_join(self->cfg.thread, NULL);
	pthread_join(self->killer.thread, NULL);
	pthread_join(self->rules.thread, NULL);
	pthread_join(self->rw.thread, NULL);
	pthread_join(self->ho.thread, NULL);
	if (!atomic_load(&run->sleeper_reaped)) {
		kill(run->sleeper, SIGKILL);
		waitpid(run->sleeper, NULL, 0);
	}
	TH_LOG("workload %llu ms, drained and joined",
	       (unsigned long long)(now_ns() - t0) / NSEC_PER_MSEC);

	/* The shared contexts: whatever the killed children submitted. */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_counters s;

		EXPECT_EQ(0, kaio_wait_ctx_idle(run->shared_fd[d], DRAIN_NS, &s));
		atomic_fetch_add(&run->accepted[d], s.submitted);
		atomic_fetch_add(&run->by_path[3], s.submitted);
		EXPECT_EQ(s.submitted, counters_sum(&s));
		close(run->shared_fd[d]);
	}

	/* Device accounting at rest. */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_counters b = self->base[d], e;
		__u64 dx[NCAT];

		EXPECT_EQ(0, kaio_wait_dev_idle(self->fd[d], b.in_flight,
						DRAIN_NS, &e))
			TH_LOG("aiodev%d: in_flight stuck at %llu", d, e.in_flight);
		dx[C_OK] = e.completed_ok - b.completed_ok;
		dx[C_TMO] = e.timed_out - b.timed_out;
		dx[C_CAN] = e.cancelled - b.cancelled;
		dx[C_FAIL] = e.failed - b.failed;
		EXPECT_EQ(b.in_flight, e.in_flight);
		EXPECT_EQ(e.submitted, counters_sum(&e));
		EXPECT_EQ(S(&run->accepted[d]), e.submitted - b.submitted)
			TH_LOG("aiodev%d: device counted %llu submissions, we %llu",
			       d, e.submitted - b.submitted,
			       S(&run->accepted[d]));
		EXPECT_EQ(e.submitted - b.submitted,
			  dx[C_OK] + dx[C_TMO] + dx[C_CAN] + dx[C_FAIL]);
		for (k = 0; k < NCAT; k++) {
			EXPECT_LE(S(&run->observed[d][k]), dx[k])
				TH_LOG("aiodev%d: %s: device %llu, seen %llu", d,
				       cat_name[k], dx[k], S(&run->observed[d][k]));
			tot_obs[k] += S(&run->observed[d][k]);
		}
		EXPECT_LE(e.in_flight, e.peak_in_flight);
		tot_acc += S(&run->accepted[d]);
	}

	/* eventfds: one count per request that asked for it, however it ended. */
	for (i = 0; i < run->nthreads; i++) {
		struct worker *w = &self->w[i];
		eventfd_t v = 0;

		if (w->efd < 0)
			continue;
		if (eventfd_read(w->efd, &v))
			v = 0;
		EXPECT_EQ(w->efd_expected, (__u64)v) TH_LOG("worker %d eventfd", i);
		close(w->efd);
	}

	/* Every block's latest successful write reads back. */
	for (d = 0; d < NDEV; d++) {
		for (i = 0; i < run->nthreads; i++)
			mism += final_verify(run, &self->w[i], self->fd[d], d, big);
	}
	mism += S(&run->mismatches);

	printf("# stress: %d threads x %d s (seed %llu): %llu requests (ioctl %llu, libaio %llu, plain %llu, children %llu, rule worker %llu, holder %llu): ok %llu, timed out %llu, cancelled %llu, failed %llu seen, %llu unseen (cancelled by close/exit/io_destroy)\n",
	       run->nthreads, run->seconds, (unsigned long long)run->seed,
	       tot_acc, S(&run->by_path[0]), S(&run->by_path[1]),
	       S(&run->by_path[2]), S(&run->by_path[3]), S(&run->by_path[4]),
	       S(&run->by_path[5]),
	       tot_obs[C_OK],
	       tot_obs[C_TMO], tot_obs[C_CAN], tot_obs[C_FAIL],
	       tot_acc - tot_obs[0] - tot_obs[1] - tot_obs[2] - tot_obs[3]);
	printf("# stress: CANCEL won %llu, lost %llu, dead ids %llu; io_cancel -EINPROGRESS %llu, -EAGAIN %llu, -EINVAL %llu; deadline ties %llu; RWF_NOWAIT %llu\n",
	       S(&run->cancels[0]), S(&run->cancels[1]), S(&run->cancels[2]),
	       S(&run->io_cancels[0]), S(&run->io_cancels[1]),
	       S(&run->io_cancels[2]), S(&run->ties), S(&run->nowait));
	printf("# stress: closes with requests in flight %llu, drained closes %llu, io_destroy in flight %llu, libaio fd closes %llu; config changes %llu (%llu via sysfs); eventfd requests %llu\n",
	       S(&run->abrupt), S(&run->graceful), S(&run->destroys),
	       S(&run->fdcloses), S(&run->configs), S(&run->sysfs_configs),
	       S(&run->efd_reqs));
	printf("# stress: children SIGKILLed: %llu in GETEVENTS, %llu in full-queue SUBMIT, %llu in read, %llu in write (%llu seen asleep); %llu exited with requests in flight\n",
	       S(&run->kills[K_GETEVENTS]), S(&run->kills[K_FULLSUBMIT]),
	       S(&run->kills[K_SYNCREAD]), S(&run->kills[K_SYNCWRITE]),
	       S(&run->kills_asleep), S(&run->kills[K_EXIT]));
	printf("# stress: rules changed while running: added %llu, deleted %llu, loaded %llu times (%llu rules), cleared %llu, distributions defined %llu, deleted %llu; RULE_LISTs checked %llu (up to %llu rules); read-only -EBADF rounds %llu\n",
	       S(&run->rule_ops[RO_ADD]), S(&run->rule_ops[RO_DEL]),
	       S(&run->rule_ops[RO_LOAD]), S(&run->rules_loaded),
	       S(&run->rule_ops[RO_CLEAR]), S(&run->rule_ops[RO_DSET]),
	       S(&run->rule_ops[RO_DDEL]), S(&run->rule_ops[RO_LIST]),
	       S(&run->rule_list_max), S(&run->rule_ops[RO_EBADF]));
	printf("# stress: rule worker: %llu rules, reads decided by a rule in force %llu (exact), reads it let pass or with no rule %llu, reads with the rule maybe cleared %llu; counters checked exactly %llu\n",
	       S(&run->rule_phases), S(&run->rule_exact), S(&run->rule_passed),
	       S(&run->rule_unsure), S(&run->rule_counted));
	printf("# stress: holder: %llu phases; requests released %llu (%llu parked first), cancel won the race %llu, safety deadline %llu, not held %llu; ioctl files closed under held requests %llu\n",
	       S(&run->hold_stat[HW_PHASES]), S(&run->hold_stat[HW_RELEASED]),
	       S(&run->hold_stat[HW_PARKED]), S(&run->hold_stat[HW_CANCEL_WON]),
	       S(&run->hold_stat[HW_DEADLINE]), S(&run->hold_stat[HW_PLAIN]),
	       S(&run->hold_stat[HW_CLOSED]));
	printf("# stress: reads verified %llu, failed reads with buffer intact %llu, blocks read back at the end %llu, mismatches %llu, errors %d\n",
	       S(&run->verified_reads), S(&run->canaries),
	       S(&run->final_blocks), (unsigned long long)mism,
	       atomic_load(&run->errors));
	fflush(stdout);

	EXPECT_EQ(0ULL, mism);
	EXPECT_EQ(0, atomic_load(&run->errors));
	/* The run must really have exercised what it claims to. */
	EXPECT_LT(0ULL, S(&run->by_path[0]));
	EXPECT_LT(0ULL, S(&run->final_blocks));
	EXPECT_LT(0ULL, S(&run->canaries));
	EXPECT_LT(0ULL, S(&run->configs));
	/* Rules changed under the workers, and a rule decided reads. */
	EXPECT_LT(0ULL, S(&run->rule_ops[RO_ADD]) + S(&run->rule_ops[RO_LOAD]))
		TH_LOG("scenario never happened: rules changed while stress runs");
	EXPECT_LT(0ULL, S(&run->rule_exact))
		TH_LOG("scenario never happened: reads decided by a rule in force");
	if (run->nthreads >= 3) {
		EXPECT_LT(0ULL, S(&run->by_path[1]));
		EXPECT_LT(0ULL, S(&run->by_path[2]));
	}
	/*
	 * Every scenario the header promises must have happened: in 10 s
	 * each one occurs tens to thousands of times.
	 */
	if (run->seconds >= 5 && run->nthreads >= 3) {
#define NEED(field, what)						\
	EXPECT_LT(0ULL, S(&run->field))					\
		TH_LOG("scenario never happened: %s", what)
		NEED(cancels[0], "CANCEL won");
		NEED(cancels[1], "CANCEL lost");
		NEED(io_cancels[0], "io_cancel -EINPROGRESS");
		NEED(ties, "deadline ties");
		NEED(nowait, "RWF_NOWAIT");
		NEED(abrupt, "closes with requests in flight");
		NEED(graceful, "drained closes");
		NEED(destroys, "io_destroy in flight");
		NEED(fdcloses, "libaio fd closes");
		NEED(configs, "config changes");
		NEED(sysfs_configs, "config changes via sysfs");
		NEED(efd_reqs, "eventfd requests");
		NEED(kills[K_GETEVENTS], "SIGKILL in GETEVENTS");
		NEED(kills[K_FULLSUBMIT], "SIGKILL in full-queue SUBMIT");
		NEED(kills[K_SYNCREAD], "SIGKILL in read");
		NEED(kills[K_SYNCWRITE], "SIGKILL in write");
		NEED(kills_asleep, "SIGKILL seen asleep");
		NEED(kills[K_EXIT], "exits with requests in flight");
		NEED(verified_reads, "reads verified");
		NEED(rule_ops[RO_ADD], "rules added");
		NEED(rule_ops[RO_DEL], "rules deleted");
		NEED(rule_ops[RO_LOAD], "rules loaded");
		NEED(rule_ops[RO_CLEAR], "rules cleared");
		NEED(rule_ops[RO_LIST], "RULE_LIST under churn");
		NEED(rule_ops[RO_DSET], "distributions defined");
		NEED(rule_ops[RO_DDEL], "distributions deleted");
		NEED(rule_ops[RO_EBADF], "rule changes on read-only files");
		NEED(rule_passed, "reads a rule let pass or with no rule");
		NEED(rule_unsure, "reads with the rule maybe cleared");
		NEED(rule_counted, "rule counters checked");
		NEED(hold_stat[HW_RELEASED], "held requests released");
		NEED(hold_stat[HW_PARKED], "released requests parked");
		NEED(hold_stat[HW_CANCEL_WON], "cancels winning over a release");
		NEED(hold_stat[HW_DEADLINE], "held requests timed out");
		NEED(hold_stat[HW_CLOSED], "files closed under held requests");
#undef NEED
	}
	kaio_buf_free(self->rw.buf, RW_MAXLEN + GUARD);
	kaio_buf_free(self->rw.pat, PRIV_LEN);
	kaio_buf_free(self->ho.buf, HOLD_MAX * (BLK + GUARD));
	kaio_buf_free(self->ho.pat, HOLD_LEN);
	free(big);
}

/* The harness timeout follows AIODEV_STRESS_SECONDS. */
int main(int argc, char **argv)
{
	int secs = env_int("AIODEV_STRESS_SECONDS", 10, 1, 3600);
	struct __fixture_metadata *f;
	struct __test_metadata *t;

	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout = 3 * secs + 150;
	return test_harness_run(argc, argv);
}
