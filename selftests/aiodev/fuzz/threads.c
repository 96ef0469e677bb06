// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the fuzzer threads, and the closer that replaces their
 * files and buffers under them.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- threads ------------------------------------------------------------ */

void *fuzz_main(void *arg)
{
	struct th *t = arg;
	struct fz *fz = t->fz;

	if (syscall(__NR_io_setup, 64, &t->actx)) {
		report(fz, "io_setup: %s", strerror(errno));
		t->violations++;
		return NULL;
	}
	while (!atomic_load(&fz->stop)) {
		int p = rnd(t) % 100;

		if (p < 88) {
			switch (rnd(t) % 14) {
			case 0: fz_getter(t, F_INFO); break;
			case 1: case 2: case 3: fz_submit(t); break;
			case 4: case 5: fz_getevents(t); break;
			case 6: fz_cancel(t); break;
			case 7: fz_getter(t, F_GETCFG); break;
			case 8: fz_setconfig(t); break;
			case 9: fz_getter(t, F_STATS); break;
			case 10: case 11: fz_rules(t); break;
			default: fz_badcmd(t); break;
			}
		} else if (p < 91) {
			/* Few: each sleeps for the device's latency. */
			fz_rw(t);
		} else if (p < 93) {
			fz_lseek(t);
		} else if (p < 95) {
			fz_poll(t);
		} else {
			fz_iosubmit(t);
		}
	}
	/* Whatever is left: io_destroy cancels and waits. */
	fz_ioreap(t, 0, 0);
	syscall(__NR_io_destroy, t->actx);
	return NULL;
}

/* Only the closer writes a slot's generation: odd while it is closed. */
static void set_closed(atomic_uint *gen, bool closed)
{
	if ((atomic_load(gen) & 1) != closed)
		atomic_fetch_add(gen, 1);
}

void open_slot(struct fz *fz, bool b, int i)
{
	int fd = aio_open(i % NDEV, slot_mode(b, i));

	if (fd < 0)
		report(fz, "open: %s", strerror(errno));
	set_closed(b ? &fz->gen_b[i] : &fz->gen_a[i], fd < 0);
	atomic_store(b ? &fz->slot_b[i] : &fz->slot_a[i], fd);
}

/* Replaces files under the fuzzers' feet, and their buffers. */
void *closer_main(void *arg)
{
	struct fz *fz = arg;
	__u64 s = fz->seed ^ 0xc105e;

	while (!atomic_load(&fz->stop)) {
		__u64 r = rnd_next(&s);
		bool b = r % 2;
		int i = (r >> 8) % (b ? NSLOT_B : NSLOT_A);
		atomic_int *slot = b ? &fz->slot_b[i] : &fz->slot_a[i];
		atomic_uint *gen = b ? &fz->gen_b[i] : &fz->gen_a[i];
		int fd = atomic_load(slot), nfd;

		switch ((r >> 16) % 10) {
		case 0: case 1: case 2: case 3: case 4: case 5: {
			/* dup2 over it: the number never dangles. */
			nfd = aio_open(i % NDEV, slot_mode(b, i));
			if (nfd >= 0) {
				if (dup2(nfd, fd) < 0)
					report(fz, "dup2: %s", strerror(errno));
				else
					set_closed(gen, false);
				close(nfd);
				atomic_fetch_add(&fz->replaces, 1);
			}
			break;
		}
		case 6: case 7: case 8:
			/* Closed for a moment: calls on it get EBADF. */
			set_closed(gen, true);
			close(fd);
			sleep_ns(rnd_next(&s) % 200000);
			nfd = open(i % NDEV ? "/dev/aiodev1" : "/dev/aiodev0",
				   slot_mode(b, i) | O_CLOEXEC);
			if (nfd >= 0 && nfd != fd) {
				if (dup2(nfd, fd) < 0)
					fd = -1;
				close(nfd);
			}
			/* Else it stays closed, -EBADF and all. */
			if (nfd >= 0 && fd >= 0)
				set_closed(gen, false);
			else
				report(fz, "reopen: %s", strerror(errno));
			atomic_fetch_add(&fz->closes, 1);
			break;
		default: {
			/* The victim buffers go away under requests in flight. */
			__u64 off = (rnd_next(&s) % (VICTIM_BYTES / PAGE_SZ - 16)) *
				    PAGE_SZ;
			void *p = fz->victim + off;

			munmap(p, 16 * PAGE_SZ);
			sleep_ns(rnd_next(&s) % 100000);
			if (mmap(p, 16 * PAGE_SZ, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != p)
				report(fz, "remap: %s", strerror(errno));
			atomic_fetch_add(&fz->remaps, 1);
			break;
		}
		}
		sleep_ns(rnd_next(&s) % 500000);
	}
	return NULL;
}
