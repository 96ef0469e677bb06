/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the aiodev CLI's commands share (cli.c): messages, parsing, devices.
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

/* The -d N|PATH option every command takes. */
struct device_arg {
	const char *path;
	char node[32];		/* /dev/aiodevN, when given an index */
};

/* "aiodev: <what>: <strerror(err)>" for a positive errno @err. */
void __printf(2, 3) report(int err, const char *fmt, ...);
/* "aiodev: <what>" for failures that have no errno. */
void __printf(1, 2) fail(const char *fmt, ...);
/* Point at the help of @cmd (NULL: the general help); returns EXIT_USAGE. */
int usage_hint(const char *cmd);
/* A usage message, then usage_hint(@cmd). */
int __printf(2, 3) usage_error(const char *cmd, const char *fmt, ...);
/* Report @arg as a bad value for the option getopt returned as @opt. */
int bad_value(const char *cmd, const struct option *opts, int opt,
	      const char *arg);

uint64_t now_ns(void);
const char *fmt_ns(char *buf, uint64_t ns);
const char *fmt_bytes(char *buf, uint64_t bytes);
const char *fmt_result(char *buf, int64_t result);

bool parse_u64(const char *s, uint64_t *val);
bool parse_u32(const char *s, uint32_t *val);
/* An integer with an optional unit ns, us, ms, s; at most AIODEV_MAX_NSEC. */
bool parse_time(const char *s, uint64_t *ns);
/* An integer with an optional k, m or g (binary) suffix. */
bool parse_size(const char *s, uint64_t *bytes);
/* OFF:LEN, both sizes. */
bool parse_range(const char *s, uint64_t *offset, uint64_t *len);
/* A fraction (0.01) or a percentage (1%), 0 to 1. */
bool parse_fraction(const char *s, double *v);
/* An errno name such as EIO (any case) or a number, 1..AIODEV_MAX_ERRNO. */
bool parse_errno(const char *s, int32_t *err);

void device_arg_init(struct device_arg *dev);
bool device_arg_parse(struct device_arg *dev, const char *arg);
/* Parse the options of a command that takes only -d and -h. */
int parse_device_opts(int argc, char **argv, const char *cmd,
		      const char *usage, struct device_arg *dev);
/* The same, with @nargs operands from argv[optind] on (< 0: any). */
int parse_device_opts_args(int argc, char **argv, const char *cmd,
			   const char *usage, struct device_arg *dev,
			   int nargs);
/* Open @path and check that it speaks our ABI. Returns the fd, or -1. */
int open_device(const char *path, int flags, struct aiodev_info *info);
int close_device(int fd, const char *path);

/* Submit all @nr requests, carrying on after a partial accept or EINTR. */
int submit_all(int fd, struct aiodev_req *reqs, unsigned int nr);
/* Collect @want events within @timeout_ns; how many, or a negative errno. */
int reap(int fd, struct aiodev_event *events, unsigned int want,
	 uint64_t timeout_ns);

#endif /* AIODEV_CLI_H */
