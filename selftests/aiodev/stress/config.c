// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev stress: the configuration thread (latency, jitter, deadline and
 * fault plan changed every few milliseconds, through ioctl and sysfs).
 */
#define AIODEV_UTIL_NO_HARNESS
#include "stress.h"

/* ---- configuration thread --------------------------------------------- */

void *config_main(void *arg)
{
	static const __u64 lat[] = { 0, 1000, 10000, 100000, 1000000, 3000000 };
	static const __u64 jit[] = { 0, 0, 100000, 2000000 };
	struct helper *h = arg;
	struct run *run = h->run;
	int fds[NDEV], d;

	for (d = 0; d < NDEV; d++)
		fds[d] = aio_open(d, O_WRONLY);
	while (!stopping(run) && fds[0] >= 0 && fds[1] >= 0) {
		struct aiodev_config c;
		__u64 r = rnd_next(&h->rng);
		int dev = r % NDEV, ret = 0;

		config_default(&c);
		c.latency_nsec = lat[(r >> 8) % ARRAY_SIZE(lat)];
		c.jitter_nsec = jit[(r >> 16) % ARRAY_SIZE(jit)];
		switch ((r >> 24) % 6) {
		case 0: c.timeout_nsec = 500000; break;
		case 1: c.timeout_nsec = 2000000; break;
		case 2: c.timeout_nsec = c.latency_nsec; break;	/* the tie */
		default: break;
		}
		if ((r >> 32) % 3 == 0) {
			c.fail_every_nth = (r >> 34) % 2 ? 5 : 17;
			c.fail_nth_errno = ERR_NTH;
		}
		if ((r >> 36) % 3 == 0) {
			c.fail_offset = (rnd_next(&h->rng) % KAIO_DATA_END) & ~511ULL;
			c.fail_len = 1 + rnd_next(&h->rng) % (256 << 10);
			c.fail_range_errno = ERR_RANGE;
		}
		if ((r >> 40) % 5 == 0) {
			char v[32];

			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.latency_nsec);
			ret = sysfs_write(dev, "latency_nsec", v);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.jitter_nsec);
			ret = ret ?: sysfs_write(dev, "jitter_nsec", v);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)c.timeout_nsec);
			ret = ret ?: sysfs_write(dev, "timeout_nsec", v);
			atomic_fetch_add(&run->sysfs_configs, 1);
		} else {
			ret = aio_set_config(fds[dev], &c);
		}
		if (ret)
			st_fail(run, "changing the configuration: %d", ret);
		atomic_fetch_add(&run->configs, 1);
		sleep_ns(MSEC(2) + rnd_next(&h->rng) % MSEC(18));
	}
	/*
	 * The configuration only: aio_reset_config() would clear the rules
	 * the rules thread and the rule worker may still be checking.
	 */
	for (d = 0; d < NDEV; d++) {
		struct aiodev_config c;

		config_default(&c);
		if (fds[d] < 0 || aio_set_config(fds[d], &c))
			st_fail(run, "restoring aiodev%d's configuration", d);
		if (fds[d] >= 0)
			close_locked(run, fds[d]);
	}
	return NULL;
}
