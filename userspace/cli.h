/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What aiodev, aiodev-aio and aiodev-bench share (cli.c): messages, and the
 * parsing of counts, times, sizes, errnos, fractions and devices.
 */
#ifndef AIODEV_CLI_H
#define AIODEV_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <linux/aiodev.h>

#define EXIT_USAGE		2

#define NSEC_PER_USEC		1000ULL
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL

/* Room for one fmt_*() result. */
#define FMT_LEN			64

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)		__attribute__((format(printf, a, b)))

/* Returned by option parsers when the command is to go on. */
#define OPTS_PARSED		(-1)

/*
 * The program cli.c works for, which each defines: its messages and
 * integer syntax stay its own, as its scripts and manual page expect.
 */
struct cli_prog {
	const char *name;	/* messages read "<name>: <what>" */
	const char *help;	/* what shows the general help: "aiodev help" */
	bool hex;		/* integers may be written 0x... */
};

extern const struct cli_prog cli_prog;

/* The -d N|PATH option. */
struct device_arg {
	const char *path;
	char node[32];		/* /dev/aiodevN, when given an index */
};

/* "<name>: <what>: <strerror(err)>" for a positive errno @err. */
void __printf(2, 3) report(int err, const char *fmt, ...);
/* "<name>: <what>" for failures that have no errno. */
void __printf(1, 2) fail(const char *fmt, ...);
/* Point at the help of @cmd (NULL: the general help); returns EXIT_USAGE. */
int usage_hint(const char *cmd);
/* A usage message, then usage_hint(@cmd). */
int __printf(2, 3) usage_error(const char *cmd, const char *fmt, ...);
/* Report @arg as a bad value for the option getopt returned as @opt. */
int bad_value(const char *cmd, const struct option *opts, int opt,
	      const char *arg);

/* CLOCK_MONOTONIC, the clock of the events' timestamps, in ns. */
uint64_t now_ns(void);

/* For qsort() of uint64_t. */
int cmp_u64(const void *a, const void *b);
/* Nearest-rank percentile of sorted @v, @permille in thousandths. */
uint64_t percentile(const uint64_t *v, uint64_t n, unsigned int permille);

bool parse_u64(const char *s, uint64_t *val);
bool parse_u32(const char *s, uint32_t *val);
/* An integer with an optional unit ns, us, ms, s; at most AIODEV_MAX_NSEC. */
bool parse_time(const char *s, uint64_t *ns);
/* An integer with an optional k, m or g (binary) suffix. */
bool parse_size(const char *s, uint64_t *bytes);
/* OFF:LEN, both sizes. */
bool parse_range(const char *s, uint64_t *offset, uint64_t *len);
/* A decimal number, 0 or more: 3, 0.5, .5. */
bool parse_decimal(const char *s, double *v);
/* A fraction (0.01) or a percentage (1%), 0 to 1. */
bool parse_fraction(const char *s, double *v);
/* An errno name such as EIO (any case) or a number, 1..AIODEV_MAX_ERRNO. */
bool parse_errno(const char *s, int32_t *err);

void device_arg_init(struct device_arg *dev);
/* N (/dev/aiodevN) or an absolute PATH. */
bool device_arg_parse(struct device_arg *dev, const char *arg);
/* Parse the options of a command that takes only -d and -h. */
int parse_device_opts(int argc, char **argv, const char *cmd,
		      const char *usage, struct device_arg *dev);
/* The same, with @nargs operands from argv[optind] on (< 0: any). */
int parse_device_opts_args(int argc, char **argv, const char *cmd,
			   const char *usage, struct device_arg *dev,
			   int nargs);

#endif /* AIODEV_CLI_H */
