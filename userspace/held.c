// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev held and aiodev release: the requests rules hold (--hold), and
 * letting them go, in the order and with the results a test chooses.
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

const char held_usage[] =
"usage: aiodev held [-d N|PATH] [--wait N] [--timeout TIME]\n"
"\n"
"List the requests the device holds (rules with --hold), of every file,\n"
"oldest first: a header line, then per request its id (for aiodev\n"
"release), path, op, offset and length in bytes, process, when it was\n"
"submitted (CLOCK_MONOTONIC ns), its request id, and its state: held, or\n"
"parked (released with --park, completing).\n"
"\n"
"  -w, --wait N          first wait until the device holds at least N\n"
"  -t, --timeout TIME    give up waiting after TIME (exit 1); default: no\n"
"                        limit\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

const char release_usage[] =
"usage: aiodev release [-d N|PATH] [--park] all|ID[:RESULT] [ID[:RESULT]...]\n"
"\n"
"Release held requests, in the order given: they complete in that order\n"
"on every path. RESULT (default: the one planned at submission):\n"
"  ok                    success, all bytes\n"
"  E                     fail with errno E (a name like EIO, or a number)\n"
"  short:BYTES           succeed with only the first BYTES moved\n"
"  torn:BYTES:E          move the first BYTES, then fail with E\n"
"  cancel                cancel it: ECANCELED\n"
"`all` releases every held request with its planned result. Stops at an\n"
"ID the device does not hold (exit 1); prints how many were released.\n"
"\n"
"  -p, --park            release, but park each completion: the request\n"
"                        is \"already completing\" (a CANCEL gets\n"
"                        EALREADY) until any cancel, a close, or a second\n"
"                        release delivers it (not with cancel or all)\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

static const char *const op_names[] = { "nop", "read", "write" };
static const char *const path_names[] = { "ioctl", "aio", "sync" };

static int print_held(int fd, const char *path)
{
	struct aiodev_held *held;
	int nr, i;

	nr = aiodev_held_list(fd, NULL, 0);
	if (nr < 0) {
		report(-nr, "%s: list held requests", path);
		return EXIT_FAILURE;
	}
	/* Room for more: some may be held between the two calls. */
	held = calloc((size_t)nr + 64, sizeof(*held));
	if (!held) {
		report(ENOMEM, "list held requests");
		return EXIT_FAILURE;
	}
	nr = aiodev_held_list(fd, held, (unsigned int)nr + 64);
	if (nr < 0) {
		report(-nr, "%s: list held requests", path);
		free(held);
		return EXIT_FAILURE;
	}
	printf("id path op offset length pid since_ns request state\n");
	for (i = 0; i < nr && i < nr + 64; i++) {
		const struct aiodev_held *h = &held[i];

		printf("%" PRIu64 " %s %s %" PRIu64 " %u %d %" PRIu64 " %" PRIu64
		       " %s\n", (uint64_t)h->hold_id,
		       h->path < ARRAY_SIZE(path_names) ? path_names[h->path] : "?",
		       h->op < ARRAY_SIZE(op_names) ? op_names[h->op] : "?",
		       (uint64_t)h->offset, h->len, h->tgid,
		       (uint64_t)h->since_ns, (uint64_t)h->id,
		       h->flags & AIODEV_HELD_PARKED ? "parked" : "held");
	}
	free(held);
	return EXIT_SUCCESS;
}

int cmd_held(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'w' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t timeout = 0;
	bool has_timeout = false;
	struct aiodev_info info;
	struct device_arg dev;
	uint32_t want = 0;
	int opt, fd, ret;

	device_arg_init(&dev);
	while ((opt = getopt_long(argc, argv, "d:w:t:h", opts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'd':
			ok = device_arg_parse(&dev, optarg);
			break;
		case 'w':
			ok = parse_u32(optarg, &want) && want &&
			     want <= AIODEV_MAX_HELD;
			break;
		case 't':
			ok = parse_time(optarg, &timeout);
			has_timeout = true;
			break;
		case 'h':
			fputs(held_usage, stdout);
			return EXIT_SUCCESS;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("held");
		}
		if (!ok)
			return bad_value("held", opts, opt, optarg);
	}
	if (optind < argc)
		return usage_error("held", "unexpected argument '%s'",
				   argv[optind]);
	if (has_timeout && !want)
		return usage_error("held", "--timeout needs --wait N");

	fd = open_device(dev.path, O_RDONLY, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	ret = EXIT_SUCCESS;
	if (want) {
		int n;

		do {
			n = aiodev_held_wait(fd, want, has_timeout ?
					     (int64_t)timeout : AIODEV_WAIT_FOREVER);
		} while (n == -EINTR && !has_timeout);
		if (n == -ETIMEDOUT) {
			char buf[FMT_LEN];

			fail("%s: fewer than %u requests held after %s",
			     dev.path, want, fmt_ns(buf, timeout));
			ret = EXIT_FAILURE;
		} else if (n < 0) {
			report(-n, "%s: wait for held requests", dev.path);
			ret = EXIT_FAILURE;
		}
	}
	if (ret == EXIT_SUCCESS)
		ret = print_held(fd, dev.path);
	if (close_device(fd, dev.path) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

/* ID[:RESULT] */
static bool parse_release(const char *s, struct aiodev_release *rel)
{
	const char *colon = strchr(s, ':');
	char num[32];
	uint64_t id, bytes;

	memset(rel, 0, sizeof(*rel));
	if (!colon)
		colon = s + strlen(s);
	if ((size_t)(colon - s) >= sizeof(num))
		return false;
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	if (!parse_u64(num, &id) || !id)
		return false;
	rel->hold_id = id;
	if (!*colon)
		return true;
	s = colon + 1;
	if (!strcmp(s, "ok")) {
		rel->kind = AIODEV_RELEASE_OK;
		return true;
	}
	if (!strcmp(s, "cancel")) {
		rel->kind = AIODEV_RELEASE_CANCEL;
		return true;
	}
	if (!strncmp(s, "short:", 6)) {
		rel->kind = AIODEV_RELEASE_SHORT;
		if (!parse_size(s + 6, &bytes) || bytes > UINT32_MAX)
			return false;
		rel->bytes = (uint32_t)bytes;
		return true;
	}
	if (!strncmp(s, "torn:", 5)) {
		const char *c = strchr(s + 5, ':');

		if (!c || (size_t)(c - (s + 5)) >= sizeof(num))
			return false;
		memcpy(num, s + 5, (size_t)(c - (s + 5)));
		num[c - (s + 5)] = '\0';
		rel->kind = AIODEV_RELEASE_TORN;
		if (!parse_size(num, &bytes) || bytes > UINT32_MAX)
			return false;
		rel->bytes = (uint32_t)bytes;
		return parse_errno(c + 1, &rel->error);
	}
	rel->kind = AIODEV_RELEASE_ERROR;
	return parse_errno(s, &rel->error);
}

static int parse_release_opts(int argc, char **argv, struct device_arg *dev,
			      bool *park)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "park", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	device_arg_init(dev);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:ph", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (!device_arg_parse(dev, optarg))
				return bad_value("release", opts, opt, optarg);
			break;
		case 'p':
			*park = true;
			break;
		case 'h':
			fputs(release_usage, stdout);
			return EXIT_SUCCESS;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("release");
		}
	}
	return OPTS_PARSED;
}

int cmd_release(int argc, char **argv)
{
	struct aiodev_release *rel = NULL;
	struct aiodev_info info;
	struct device_arg dev;
	int ret, fd, n, i, nr;
	bool all, park = false;

	ret = parse_release_opts(argc, argv, &dev, &park);
	if (ret != OPTS_PARSED)
		return ret;
	nr = argc - optind;
	if (!nr)
		return usage_error("release", "missing argument: all or IDs");
	all = !strcmp(argv[optind], "all");
	if (all && nr > 1)
		return usage_error("release", "unexpected argument '%s' after all",
				   argv[optind + 1]);
	if (all && park)
		return usage_error("release", "--park needs IDs, not all");
	if (!all) {
		if (nr > AIODEV_MAX_HELD)
			return usage_error("release", "more than %d requests",
					   AIODEV_MAX_HELD);
		rel = calloc((size_t)nr, sizeof(*rel));
		if (!rel) {
			report(ENOMEM, "release");
			return EXIT_FAILURE;
		}
		for (i = 0; i < nr; i++) {
			if (!parse_release(argv[optind + i], &rel[i])) {
				free(rel);
				return usage_error("release",
						   "bad request '%s': ID[:ok|E|short:BYTES|torn:BYTES:E|cancel]",
						   argv[optind + i]);
			}
			if (park && rel[i].kind == AIODEV_RELEASE_CANCEL) {
				free(rel);
				return usage_error("release",
						   "--park and '%s': a cancel is no completion",
						   argv[optind + i]);
			}
			if (park)
				rel[i].flags = AIODEV_RELEASE_PARK;
		}
	}

	fd = open_device(dev.path, O_RDWR, &info);
	if (fd < 0) {
		free(rel);
		return EXIT_FAILURE;
	}
	n = all ? aiodev_release_all(fd) : aiodev_release(fd, rel, (unsigned int)nr);
	ret = EXIT_SUCCESS;
	if (n == -ENOENT || (n >= 0 && !all && n < nr)) {
		if (n > 0)
			printf("released %d\n", n);
		fail("%s: request %" PRIu64 " is not held (never, or not any more)",
		     dev.path, (uint64_t)rel[n < 0 ? 0 : n].hold_id);
		ret = EXIT_FAILURE;
	} else if (n < 0) {
		report(-n, "%s: release", dev.path);
		ret = EXIT_FAILURE;
	} else {
		printf("released %d\n", n);
	}
	free(rel);
	if (close_device(fd, dev.path) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}
