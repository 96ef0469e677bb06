// SPDX-License-Identifier: GPL-2.0
/*
 * What aiodev, aiodev-aio and aiodev-bench share: messages, and the parsing
 * of counts, times, sizes, errnos, fractions and devices. No libaiodev.
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli.h"

static void vreport(int err, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cli_prog.name);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

/* "<name>: <what>: <strerror(err)>" for a positive errno @err. */
void __printf(2, 3)
report(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(err, fmt, ap);
	va_end(ap);
}

/* "<name>: <what>" for failures that have no errno. */
void __printf(1, 2)
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
}

/* Point at the help of @cmd, or at the general help if it is NULL. */
int usage_hint(const char *cmd)
{
	if (cmd)
		fprintf(stderr, "Try '%s %s --help'.\n", cli_prog.name, cmd);
	else
		fprintf(stderr, "Try '%s'.\n", cli_prog.help);
	return EXIT_USAGE;
}

int __printf(2, 3)
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
	return usage_hint(cmd);
}

/* Report @arg as a bad value for the option that getopt returned as @opt. */
int bad_value(const char *cmd, const struct option *opts, int opt,
	      const char *arg)
{
	while (opts->val != opt)
		opts++;
	return usage_error(cmd, "bad value '%s' for --%s", arg, opts->name);
}

uint64_t now_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC is the clock of the events' timestamps. */
	if (clock_gettime(CLOCK_MONOTONIC, &ts)) {
		report(errno, "clock_gettime");
		exit(EXIT_FAILURE);
	}
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v, or 0 if @v is empty. */
uint64_t percentile(const uint64_t *v, uint64_t n, unsigned int permille)
{
	uint64_t rank = (n * permille + 999) / 1000;

	return n ? v[rank ? rank - 1 : 0] : 0;
}

struct unit {
	const char *suffix;
	uint64_t scale;
};

static const struct unit time_units[] = {
	{ "", 1 },
	{ "ns", 1 },
	{ "us", NSEC_PER_USEC },
	{ "ms", NSEC_PER_MSEC },
	{ "s", NSEC_PER_SEC },
};

static const struct unit size_units[] = {
	{ "", 1 },
	{ "k", 1ULL << 10 },
	{ "m", 1ULL << 20 },
	{ "g", 1ULL << 30 },
};

/*
 * Parse a decimal (or, if the program takes hex, 0x-prefixed) integer
 * followed by one of @units. strtoull() alone would accept signs, spaces
 * and an empty string.
 */
static bool parse_scaled(const char *s, const struct unit *units,
			 size_t nr_units, uint64_t *val)
{
	int base = 10;
	uint64_t num;
	char *end;
	size_t i;

	if (!isdigit((unsigned char)s[0]))
		return false;
	if (cli_prog.hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	errno = 0;
	num = strtoull(s, &end, base);
	if (errno)
		return false;
	for (i = 0; i < nr_units; i++) {
		if (strcasecmp(end, units[i].suffix))
			continue;
		if (num > UINT64_MAX / units[i].scale)
			return false;
		*val = num * units[i].scale;
		return true;
	}
	return false;
}

bool parse_u64(const char *s, uint64_t *val)
{
	static const struct unit none = { "", 1 };

	return parse_scaled(s, &none, 1, val);
}

bool parse_u32(const char *s, uint32_t *val)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > UINT32_MAX)
		return false;
	*val = (uint32_t)v;
	return true;
}

bool parse_time(const char *s, uint64_t *ns)
{
	return parse_scaled(s, time_units, ARRAY_SIZE(time_units), ns) &&
	       *ns <= AIODEV_MAX_NSEC;
}

bool parse_size(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, size_units, ARRAY_SIZE(size_units), bytes);
}

/* OFF:LEN, both sizes. */
bool parse_range(const char *s, uint64_t *offset, uint64_t *len)
{
	const char *colon = strchr(s, ':');
	char off[32];

	if (!colon || (size_t)(colon - s) >= sizeof(off))
		return false;
	memcpy(off, s, (size_t)(colon - s));
	off[colon - s] = '\0';
	return parse_size(off, offset) && parse_size(colon + 1, len);
}

/* A decimal number filling @len bytes at @s; no sign, space, inf or nan. */
static bool parse_decimal_len(const char *s, size_t len, double *v)
{
	char *end;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return false;
	errno = 0;
	*v = strtod(s, &end);
	return !errno && end == s + len;
}

bool parse_decimal(const char *s, double *v)
{
	return parse_decimal_len(s, strlen(s), v);
}

/* A fraction (0.01) or a percentage (1%), 0 to 1. */
bool parse_fraction(const char *s, double *v)
{
	size_t len = strlen(s);
	bool percent = len && s[len - 1] == '%';

	if (!parse_decimal_len(s, len - percent, v))
		return false;
	if (percent)
		*v /= 100;
	return *v >= 0 && *v <= 1;
}

/* An errno name such as EIO (any case) or a number, 1..AIODEV_MAX_ERRNO. */
bool parse_errno(const char *s, int32_t *err)
{
	uint64_t num;
	int i;

	if (isdigit((unsigned char)s[0])) {
		if (!parse_u64(s, &num) || num < 1 || num > AIODEV_MAX_ERRNO)
			return false;
		*err = (int32_t)num;
		return true;
	}
	for (i = 1; i <= AIODEV_MAX_ERRNO; i++) {
		const char *name = strerrorname_np(i);

		if (name && !strcasecmp(name, s)) {
			*err = i;
			return true;
		}
	}
	return false;
}

void device_arg_init(struct device_arg *dev)
{
	snprintf(dev->node, sizeof(dev->node), "/dev/aiodev0");
	dev->path = dev->node;
}

bool device_arg_parse(struct device_arg *dev, const char *arg)
{
	uint64_t index;

	if (arg[0] == '/') {
		dev->path = arg;
		return true;
	}
	if (!parse_u64(arg, &index) || index > INT_MAX)
		return false;
	snprintf(dev->node, sizeof(dev->node), "/dev/aiodev%" PRIu64, index);
	dev->path = dev->node;
	return true;
}

/*
 * Parse the options of a command that takes only -d and -h, and exactly
 * @nargs operands (argv[optind] on). Returns OPTS_PARSED, or the exit
 * status to end the command with.
 */
int parse_device_opts_args(int argc, char **argv, const char *cmd,
			   const char *usage, struct device_arg *dev,
			   int nargs)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int opt;

	device_arg_init(dev);
	optind = 0;
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (!device_arg_parse(dev, optarg))
				return bad_value(cmd, opts, opt, optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_SUCCESS;
		default:	/* getopt_long() said what is wrong */
			return usage_hint(cmd);
		}
	}
	/* nargs < 0: the caller checks the operands. */
	if (nargs < 0)
		return OPTS_PARSED;
	if (argc - optind < nargs)
		return usage_error(cmd, "missing argument");
	if (argc - optind > nargs)
		return usage_error(cmd, "unexpected argument '%s'",
				   argv[optind + nargs]);
	return OPTS_PARSED;
}

int parse_device_opts(int argc, char **argv, const char *cmd,
		      const char *usage, struct device_arg *dev)
{
	return parse_device_opts_args(argc, argv, cmd, usage, dev, 0);
}
