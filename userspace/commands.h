/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The aiodev CLI's commands, each in its own file, dispatched by aiodev.c,
 * and what they share beyond cli.h (commands.c).
 */
#ifndef AIODEV_COMMANDS_H
#define AIODEV_COMMANDS_H

#include <stddef.h>
#include <stdint.h>
#include <linux/aiodev.h>

/* config.c */
extern const char info_usage[];
extern const char config_usage[];
extern const char stats_usage[];
int cmd_info(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_stats(int argc, char **argv);

/* demo.c */
extern const char demo_usage[];
int cmd_demo(int argc, char **argv);

/* bench.c */
extern const char bench_usage[];
int cmd_bench(int argc, char **argv);

/* rule.c */
extern const char rule_usage[];
extern const char scenario_usage[];
int cmd_rule(int argc, char **argv);
int cmd_scenario(int argc, char **argv);

/* latency.c */
extern const char latency_usage[];
int cmd_latency(int argc, char **argv);

/* held.c */
extern const char held_usage[];
extern const char release_usage[];
int cmd_held(int argc, char **argv);
int cmd_release(int argc, char **argv);

/* commands.c: FMT_LEN bytes at @buf, returned. */
const char *fmt_ns(char *buf, uint64_t ns);
const char *fmt_bytes(char *buf, uint64_t bytes);
const char *fmt_result(char *buf, int64_t result);

/* Open @path and check that it speaks our ABI. Returns the fd, or -1. */
int open_device(const char *path, int flags, struct aiodev_info *info);
int close_device(int fd, const char *path);

/* Submit all @nr requests, carrying on after a partial accept or EINTR. */
int submit_all(int fd, struct aiodev_req *reqs, unsigned int nr);
/* Collect @want events within @timeout_ns; how many, or a negative errno. */
int reap(int fd, struct aiodev_event *events, unsigned int want,
	 uint64_t timeout_ns);

void print_counters(const struct aiodev_counters *c);
/* From submission to completion, by the event's own timestamps. */
uint64_t event_latency(const struct aiodev_event *ev);
/* Bytes no two calls with different seeds agree on at any position. */
void fill_pattern(unsigned char *buf, size_t len, uint64_t seed);

#endif /* AIODEV_COMMANDS_H */
