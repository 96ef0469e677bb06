// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the killer thread and its children (SIGKILLed while
 * blocked, or exiting with requests in flight).
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- killer thread and its children ------------------------------------ */

static const char *const kind_name[NKIND] = {
	"getevents", "full-queue submit", "sync read", "sync write", "exit"
};

#define CH_READY	1000
#define CH_SHARED	1001
#define CH_EVENTS	1024
/* Generous: a debug kernel under TCG takes seconds to fill a queue. */
#define CH_READY_MS	60000

static unsigned char child_buf[64 * 4096] __attribute__((aligned(4096)));
static struct aiodev_event child_ev[CH_EVENTS];

/* In a child of a multithreaded process: system calls only. */
static void __attribute__((noreturn))
child_main(struct run *run, int kind, int dev, int slot, __u64 seed)
{
	struct aiodev_req rq[64];
	__u64 s = seed | 1, acc = 0;
	char c = 'c';
	int fd, i, n, ret;

	close_range(3, CH_READY - 1, 0);
	close_range(CH_SHARED + 1, ~0U, 0);
	if (write(CH_READY, &c, 1) != 1)
		_exit(10);

	if (kind == K_SYNCREAD || kind == K_SYNCWRITE) {
		c = 'r';
		if (write(CH_READY, &c, 1) != 1)
			_exit(11);
		for (;;) {
			__u64 off = SCRATCH_OFF +
				    (rnd_next(&s) % (SCRATCH_LEN / 4096)) * 4096;

			if (kind == K_SYNCREAD)
				ret = pread(CH_SHARED, child_buf, 4096, off);
			else
				ret = pwrite(CH_SHARED, child_buf, 4096, off);
			(void)ret;
		}
	}
	fd = open(dev ? "/dev/aiodev1" : "/dev/aiodev0", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(12);
	if (kind == K_FULLSUBMIT) {
		/* Fill every slot with unreaped events, then block. */
		for (i = 0; i < 64; i++) {
			req_nop(&rq[i], i);
			req_latency(&rq[i], 0);
		}
		while (acc < run->depth) {
			n = run->depth - acc < 64 ? run->depth - acc : 64;
			ret = aio_submit(fd, rq, n);
			if (ret <= 0)
				_exit(13);
			acc += ret;
			/* Counted as we go: a kill before 'r' loses nothing. */
			atomic_store(&run->shm->accepted[slot], acc);
		}
	} else {
		n = 1 + rnd_next(&s) % 64;
		for (i = 0; i < n; i++) {
			if (rnd_next(&s) % 2)
				req_init(&rq[i], AIODEV_OP_READ, child_buf + i * 4096,
					 SCRATCH_OFF + rnd_next(&s) % (SCRATCH_LEN - 4096),
					 1 + rnd_next(&s) % 4096, i);
			else
				req_nop(&rq[i], i);
			req_latency(&rq[i], rnd_next(&s) % 2 ? PARKED_NS / 2 :
				    rnd_next(&s) % MSEC(2));
		}
		ret = aio_submit(fd, rq, n);
		if (ret < 0)
			_exit(14);
		acc = ret;
		atomic_store(&run->shm->accepted[slot], acc);
	}
	if (kind == K_EXIT) {
		/* And kernel AIO requests, then exit without cleaning up. */
		struct iocb cbs[16], *pp[16];
		io_context_t ctx = 0;

		if (io_setup(16, &ctx))
			_exit(15);
		for (i = 0; i < 16; i++) {
			io_prep_pread(&cbs[i], fd, child_buf + i * 4096, 4096,
				      SCRATCH_OFF + i * 4096);
			pp[i] = &cbs[i];
		}
		ret = io_submit(ctx, 16, pp);
		if (ret < 0)
			_exit(16);
		acc += ret;
	}
	atomic_store(&run->shm->accepted[slot], acc);
	c = 'r';
	if (write(CH_READY, &c, 1) != 1)
		_exit(17);
	if (kind == K_EXIT)
		_exit(0);
	if (kind == K_FULLSUBMIT) {
		/* Full and nobody reaps: sleeps until killed. */
		aio_submit(fd, rq, 1);
		_exit(18);
	}
	for (;;)
		aio_getevents(fd, child_ev, run->depth, CH_EVENTS < run->depth ?
			      CH_EVENTS : run->depth, -1);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* Wait for @pid, at most @ns; 0 and its status, or -1. */
static int wait_child(pid_t pid, int *status, __u64 ns)
{
	__u64 deadline = now_ns() + ns;

	do {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 0;
		if (r < 0)
			return -1;
		sleep_ns(MSEC(1));
	} while (now_ns() < deadline);
	return -1;
}

/* Add the requests a dead child had accepted to the totals. */
static void count_child(struct run *run, int kind, int dev, int slot)
{
	__u64 n;

	if (kind == K_SYNCREAD || kind == K_SYNCWRITE)
		return;
	n = atomic_load(&run->shm->accepted[slot]);
	atomic_fetch_add(&run->accepted[dev], n);
	atomic_fetch_add(&run->by_path[3], n);
}

static void one_child(struct helper *h, int slot)
{
	struct run *run = h->run;
	__u64 r = rnd_next(&h->rng);
	int kind = r % NKIND, dev = (r >> 8) % NDEV, pfd[2], status = 0;
	struct pollfd pf;
	char c = 0;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		st_fail(run, "pipe: %s", strerror(errno));
		return;
	}
	pthread_rwlock_wrlock(&run->forklock);
	pid = fork();
	if (pid == 0) {
		if (dup2(pfd[1], CH_READY) < 0 ||
		    dup2(run->shared_fd[dev], CH_SHARED) < 0)
			_exit(9);
		child_main(run, kind, dev, slot, r);
	}
	close(pfd[1]);
	pf = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	/* The child holds none of our fds once it wrote 'c'. */
	if (pid > 0 && (poll(&pf, 1, CH_READY_MS) != 1 || read(pfd[0], &c, 1) != 1 ||
			c != 'c'))
		c = 0;
	pthread_rwlock_unlock(&run->forklock);
	if (pid < 0) {
		st_fail(run, "fork: %s", strerror(errno));
		close(pfd[0]);
		return;
	}
	if (c == 'c' && (poll(&pf, 1, CH_READY_MS) != 1 || read(pfd[0], &c, 1) != 1))
		c = 0;
	close(pfd[0]);
	if (c != 'r') {
		kill(pid, SIGKILL);
		wait_child(pid, &status, 20 * NSEC_PER_SEC);
		st_fail(run, "%s child did not get ready (status %#x)",
			kind_name[kind], status);
		count_child(run, kind, dev, slot);
		return;
	}
	if (kind != K_EXIT) {
		/* Let it fall asleep, then kill it mid-wait. */
		sleep_ns(rnd_next(&h->rng) % MSEC(10));
		if (proc_state(pid) == 'S')
			atomic_fetch_add(&run->kills_asleep, 1);
		kill(pid, SIGKILL);
	}
	if (wait_child(pid, &status, 20 * NSEC_PER_SEC)) {
		st_fail(run, "%s child (pid %d) not gone 20 s after %s",
			kind_name[kind], pid, kind == K_EXIT ? "its exit" : "SIGKILL");
		return;
	}
	if (kind == K_EXIT ? !WIFEXITED(status) || WEXITSTATUS(status) :
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		st_fail(run, "%s child ended with status %#x", kind_name[kind],
			status);
	atomic_fetch_add(&run->kills[kind], 1);
	count_child(run, kind, dev, slot);
}

void *killer_main(void *arg)
{
	struct helper *h = arg;
	int slot = 0;

	while (!stopping(h->run) && slot < NSLOTS) {
		sleep_ns(MSEC(10) + rnd_next(&h->rng) % MSEC(50));
		if (!stopping(h->run))
			one_child(h, slot++);
	}
	return NULL;
}
