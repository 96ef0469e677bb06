// SPDX-License-Identifier: GPL-2.0
/*
 * What the aiodev CLI's commands share beyond cli.c: formatting, opening a
 * device, submitting and reaping, and bits that two commands use.
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

/* Three significant digits in the largest unit that keeps the value >= 1. */
const char *fmt_ns(char *buf, uint64_t ns)
{
	if (ns < NSEC_PER_USEC)
		snprintf(buf, FMT_LEN, "%" PRIu64 " ns", ns);
	else if (ns < NSEC_PER_MSEC)
		snprintf(buf, FMT_LEN, "%.3g us", (double)ns / NSEC_PER_USEC);
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, FMT_LEN, "%.3g ms", (double)ns / NSEC_PER_MSEC);
	else if (ns < 1000 * NSEC_PER_SEC)
		snprintf(buf, FMT_LEN, "%.3g s", (double)ns / NSEC_PER_SEC);
	else
		snprintf(buf, FMT_LEN, "%.0f s", (double)ns / NSEC_PER_SEC);
	return buf;
}

const char *fmt_bytes(char *buf, uint64_t bytes)
{
	if (bytes && !(bytes % (1ULL << 30)))
		snprintf(buf, FMT_LEN, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes && !(bytes % (1ULL << 20)))
		snprintf(buf, FMT_LEN, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes && !(bytes % (1ULL << 10)))
		snprintf(buf, FMT_LEN, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buf, FMT_LEN, "%" PRIu64 " bytes", bytes);
	return buf;
}

/* "4096" for a transfer, "-EIO (Input/output error)" for an error. */
const char *fmt_result(char *buf, int64_t result)
{
	const char *name = NULL;

	if (result < 0 && result >= -AIODEV_MAX_ERRNO)
		name = strerrorname_np((int)-result);
	if (name)
		snprintf(buf, FMT_LEN, "-%s (%s)", name,
			 strerror((int)-result));
	else
		snprintf(buf, FMT_LEN, "%" PRId64, result);
	return buf;
}

/* Open @path and check that it speaks our ABI. Returns the fd, or -1. */
int open_device(const char *path, int flags, struct aiodev_info *info)
{
	int fd, err;

	fd = aiodev_open_path(path, flags);
	if (fd < 0) {
		report(-fd, "open %s", path);
		return -1;
	}
	err = aiodev_get_info(fd, info);
	if (err) {
		report(-err, "%s: get info", path);
		goto err_close;
	}
	if (info->abi_version != AIODEV_ABI_VERSION) {
		fail("%s: ABI version %u, this tool speaks %d", path,
		     info->abi_version, AIODEV_ABI_VERSION);
		goto err_close;
	}
	return fd;

err_close:
	aiodev_close(fd);	/* already failing; the first error matters */
	return -1;
}

int close_device(int fd, const char *path)
{
	int err = aiodev_close(fd);

	if (err) {
		report(-err, "close %s", path);
		return EXIT_FAILURE;
	}
	return EXIT_SUCCESS;
}

/* Submit all @nr requests, carrying on after a partial accept or EINTR. */
int submit_all(int fd, struct aiodev_req *reqs, unsigned int nr)
{
	unsigned int done = 0;

	while (done < nr) {
		int ret = aiodev_submit(fd, reqs + done, nr - done);

		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return ret;
		done += (unsigned int)ret;
	}
	return 0;
}

/*
 * Collect @want events within @timeout_ns, riding out EINTR (a stopped and
 * continued process sees it without any signal handler).
 * Returns how many arrived, or a negative errno.
 */
int reap(int fd, struct aiodev_event *events, unsigned int want,
	 uint64_t timeout_ns)
{
	uint64_t deadline = now_ns() + timeout_ns;
	unsigned int got = 0;

	while (got < want) {
		uint64_t now = now_ns();
		int ret;

		if (now >= deadline)
			break;
		ret = aiodev_getevents(fd, want - got, want - got,
				       events + got, (int64_t)(deadline - now));
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return ret;
		got += (unsigned int)ret;
	}
	return (int)got;
}

void print_counters(const struct aiodev_counters *c)
{
	printf("  submitted        %" PRIu64 "\n", (uint64_t)c->submitted);
	printf("  completed_ok     %" PRIu64 "\n", (uint64_t)c->completed_ok);
	printf("  timed_out        %" PRIu64 "\n", (uint64_t)c->timed_out);
	printf("  cancelled        %" PRIu64 "\n", (uint64_t)c->cancelled);
	printf("  failed           %" PRIu64 "\n", (uint64_t)c->failed);
	printf("  in_flight        %" PRIu64 "\n", (uint64_t)c->in_flight);
	printf("  peak_in_flight   %" PRIu64 "\n",
	       (uint64_t)c->peak_in_flight);
}

uint64_t event_latency(const struct aiodev_event *ev)
{
	return ev->complete_ns - ev->submit_ns;
}

/* Bytes no two calls with different seeds agree on at any position. */
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 131);
}
