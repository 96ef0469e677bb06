// SPDX-License-Identifier: GPL-2.0
/*
 * epoll-libaio: the completion path of an event loop, on aiodev. 256 reads
 * of 4 KiB go out in one io_submit(), each signalling an eventfd
 * (io_set_eventfd) that epoll watches; on each wakeup the loop reaps what
 * completed and tallies how each read ended. Under a scenario it shows
 * what the rules did, and with the same seed the same reads fail on every
 * run (Documentation/aiodev-vm.md):
 *
 *   cc -O2 -o epoll-libaio epoll-libaio.c -laio
 *   aiodev-vm --setup "aiodev rule add --op read --range 0:64k --short 512" \
 *             --setup "aiodev rule add --op read --prob 1% --error EIO" \
 *             --setup "aiodev config --seed 42" -- ./epoll-libaio
 */
#include <fcntl.h>
#include <libaio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NR	256
#define LEN	4096

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/aiodev0";
	static struct iocb cbs[NR];
	static long result[NR];
	struct epoll_event ee = { .events = EPOLLIN };
	struct iocb *ptrs[NR];
	struct io_event ev[NR];
	io_context_t ctx = 0;
	int fd, efd, ep, i, done = 0, whole = 0, part = 0, failed = 0;
	char *buf;

	fd = open(path, O_RDONLY);
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	buf = malloc((size_t)NR * LEN);
	if (fd < 0 || efd < 0 || ep < 0 || !buf || io_setup(NR, &ctx) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ee)) {
		perror(path);
		return 1;
	}
	for (i = 0; i < NR; i++) {
		io_prep_pread(&cbs[i], fd, buf + (size_t)i * LEN, LEN,
			      (long long)i * LEN);
		io_set_eventfd(&cbs[i], efd);
		cbs[i].data = (void *)(intptr_t)i;
		ptrs[i] = &cbs[i];
	}
	if (io_submit(ctx, NR, ptrs) != NR) {
		fprintf(stderr, "io_submit: not all %d reads went out\n", NR);
		return 1;
	}
	while (done < NR) {
		struct timespec zero = { 0, 0 };
		uint64_t count;
		int got;

		/* The eventfd counts completions; the events say which. */
		if (epoll_wait(ep, &ee, 1, -1) != 1 ||
		    read(efd, &count, sizeof(count)) != sizeof(count))
			continue;
		got = io_getevents(ctx, 0, NR, ev, &zero);
		for (i = 0; i < got; i++)
			result[(intptr_t)ev[i].data] = (long)ev[i].res;
		done += got > 0 ? got : 0;
	}
	/* By read, not by completion: the same seed prints the same lines. */
	for (i = 0; i < NR; i++) {
		if (result[i] == LEN) {
			whole++;
		} else if (result[i] >= 0) {
			part++;
		} else {
			failed++;
			printf("read %d (offset %d KiB): %s\n", i, i * LEN / 1024,
			       strerror((int)-result[i]));
		}
	}
	printf("%d reads: %d whole, %d short, %d failed\n", NR, whole, part,
	       failed);
	return 0;
}
