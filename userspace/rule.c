// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev rule and aiodev scenario: the rules that decide the fate of
 * matching requests (struct aiodev_rule in <linux/aiodev.h>).
 */
#define _GNU_SOURCE	/* strerrorname_np() */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "libaiodev.h"
#include "commands.h"

const char rule_usage[] =
"usage: aiodev rule add [-d N|PATH] [MATCH...] [LATENCY] [RESULT]\n"
"       aiodev rule list [-d N|PATH]\n"
"       aiodev rule del [-d N|PATH] ID\n"
"       aiodev rule clear [-d N|PATH]\n"
"\n"
"Rules decide the fate of the requests they match, on every path (ioctl,\n"
"libaio, io_uring, read/write). The first rule, in the order added, that\n"
"matches a request and whose counters let it apply decides; a request no\n"
"rule decides gets the device's configuration. `add` prints the new\n"
"rule's id; `list` prints a header line, then one line per rule: id,\n"
"match, action, matched, applied.\n"
"\n"
"MATCH (all given must hold):\n"
"  --op read|write|nop[,...]     the request's operation\n"
"  --path ioctl|aio|sync[,...]   AIODEV_IOC_SUBMIT, libaio/io_uring, or\n"
"                                read()/write()\n"
"  --range OFF:LEN               reads and writes touching [OFF, OFF+LEN)\n"
"  --len MIN:MAX                 requests of MIN to MAX bytes\n"
"  --pid PID                     requests of process PID\n"
"  --skip N                      let the first N matching requests pass\n"
"  --every N                     then apply to every Nth\n"
"  --count N                     apply at most N times\n"
"  --prob P                      apply with probability P: 0.01 or 1%\n"
"LATENCY (default: the request's or the device's):\n"
"  --latency TIME | MIN..MAX | dist:NAME\n"
"                                fixed, uniform, or a distribution loaded\n"
"                                with `aiodev latency`\n"
"RESULT (default: success, or the device's fault plan):\n"
"  --ok                          success, whatever the fault plan says\n"
"  --error E                     fail with E, moving no data\n"
"  --short BYTES                 move only the first BYTES; the result\n"
"                                says BYTES\n"
"  --torn BYTES:E                move the first BYTES, then fail with E\n"
"  --timeout                     fail with ETIMEDOUT at the deadline (or\n"
"                                at the latency without one)\n"
"  --refuse E                    refuse at submission with E\n"
"  --hold                        park the request until `aiodev release`\n"
"                                gives it its result (the one above, or\n"
"                                another); it has no latency or deadline\n"
"  --deadline TIME               with --hold: fail it with ETIMEDOUT if\n"
"                                still held TIME after its submission\n"
"\n"
"  -d, --device N|PATH           /dev/aiodevN or a device node (default 0)\n"
"  -h, --help                    show this help\n"
"\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n"
"OFF, LEN, MIN, MAX and BYTES are bytes, with an optional k, m or g\n"
"(binary) suffix. E is an errno name (EIO) or number (5).\n";

const char scenario_usage[] =
"usage: aiodev scenario load [-d N|PATH] FILE\n"
"\n"
"Replace the device's rules with those of FILE (- for stdin), all at\n"
"once: one `aiodev rule add` option list per line, in order; blank lines\n"
"and text from # on are ignored. A bad line is reported with its number\n"
"and nothing changes. Prints the rules as `aiodev rule list` does.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

enum rule_opt {
	OPT_OP = 256,	/* past every short option character */
	OPT_PATH,
	OPT_RANGE,
	OPT_LEN,
	OPT_PID,
	OPT_SKIP,
	OPT_EVERY,
	OPT_COUNT,
	OPT_PROB,
	OPT_LATENCY,
	OPT_OK,
	OPT_ERROR,
	OPT_SHORT,
	OPT_TORN,
	OPT_TIMEOUT,
	OPT_REFUSE,
	OPT_HOLD,
	OPT_DEADLINE,
};

static const struct option rule_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "op", required_argument, NULL, OPT_OP },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "range", required_argument, NULL, OPT_RANGE },
	{ "len", required_argument, NULL, OPT_LEN },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "skip", required_argument, NULL, OPT_SKIP },
	{ "every", required_argument, NULL, OPT_EVERY },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "prob", required_argument, NULL, OPT_PROB },
	{ "latency", required_argument, NULL, OPT_LATENCY },
	{ "ok", no_argument, NULL, OPT_OK },
	{ "error", required_argument, NULL, OPT_ERROR },
	{ "short", required_argument, NULL, OPT_SHORT },
	{ "torn", required_argument, NULL, OPT_TORN },
	{ "timeout", no_argument, NULL, OPT_TIMEOUT },
	{ "refuse", required_argument, NULL, OPT_REFUSE },
	{ "hold", no_argument, NULL, OPT_HOLD },
	{ "deadline", required_argument, NULL, OPT_DEADLINE },
	{ NULL, 0, NULL, 0 }
};

static const char *const op_names[] = {
	[AIODEV_OP_NOP] = "nop",
	[AIODEV_OP_READ] = "read",
	[AIODEV_OP_WRITE] = "write",
};

static const char *const path_names[] = {
	[AIODEV_PATH_IOCTL] = "ioctl",
	[AIODEV_PATH_AIO] = "aio",
	[AIODEV_PATH_SYNC] = "sync",
};

/* A comma-separated list of @names into a bit mask. */
static bool parse_names(const char *s, const char *const *names, size_t nr,
			uint32_t *mask)
{
	const char *p = s;

	*mask = 0;
	for (;;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < nr; i++)
			if (strlen(names[i]) == len && !strncmp(p, names[i], len))
				break;
		if (i == nr)
			return false;
		*mask |= 1U << i;
		if (!p[len])
			return true;
		p += len + 1;
	}
}

/* "A:B", each parsed by @parse; B may not be below A. */
static bool parse_pair(const char *s, char sep,
		       bool (*parse)(const char *, uint64_t *),
		       uint64_t *a, uint64_t *b)
{
	const char *mid = strchr(s, sep);
	char first[32];

	if (!mid || (size_t)(mid - s) >= sizeof(first))
		return false;
	memcpy(first, s, (size_t)(mid - s));
	first[mid - s] = '\0';
	return parse(first, a) && parse(mid + 1, b) && *a <= *b;
}

/* BYTES:E */
static bool parse_torn(const char *s, uint32_t *bytes, int32_t *err)
{
	const char *colon = strrchr(s, ':');
	char num[32];
	uint64_t v;

	if (!colon || (size_t)(colon - s) >= sizeof(num))
		return false;
	memcpy(num, s, (size_t)(colon - s));
	num[colon - s] = '\0';
	if (!parse_size(num, &v) || v > UINT32_MAX)
		return false;
	*bytes = (uint32_t)v;
	return parse_errno(colon + 1, err);
}

/* A probability: a fraction (0.01) or a percentage (1%), to ppm. */
static bool parse_ppm(const char *s, uint32_t *ppm)
{
	double v;

	if (!parse_fraction(s, &v))
		return false;
	*ppm = (uint32_t)(v * AIODEV_PPM + 0.5);
	return true;
}

/* TIME, MIN..MAX or dist:NAME. */
static bool parse_latency(const char *s, struct aiodev_rule *r)
{
	uint64_t min, max;
	const char *dots;
	char first[32];

	if (!strncmp(s, "dist:", 5)) {
		size_t len = strlen(s + 5);

		if (!len || len >= sizeof(r->dist))
			return false;
		r->latency_kind = AIODEV_LATENCY_DIST;
		memcpy(r->dist, s + 5, len);
		return true;
	}
	dots = strstr(s, "..");
	if (!dots) {
		r->latency_kind = AIODEV_LATENCY_FIXED;
		if (!parse_time(s, &min))
			return false;
		r->latency_nsec = min;
		return true;
	}
	if ((size_t)(dots - s) >= sizeof(first))
		return false;
	memcpy(first, s, (size_t)(dots - s));
	first[dots - s] = '\0';
	if (!parse_time(first, &min) || !parse_time(dots + 2, &max) ||
	    min > max)
		return false;
	r->latency_kind = AIODEV_LATENCY_UNIFORM;
	r->latency_nsec = min;
	r->latency_max_nsec = max;
	return true;
}

static bool parse_pid(const char *s, int32_t *pid)
{
	uint64_t v;

	if (!parse_u64(s, &v) || !v || v > INT32_MAX)
		return false;
	*pid = (int32_t)v;
	return true;
}

static bool parse_bytes32(const char *s, uint64_t *v)
{
	return parse_size(s, v) && *v <= UINT32_MAX;
}

/* One option of a rule into @r; false if its value is bad. */
static bool rule_opt(struct aiodev_rule *r, int opt, const char *arg)
{
	uint64_t a, b;

	switch (opt) {
	case OPT_OP:
		return parse_names(arg, op_names, ARRAY_SIZE(op_names), &r->ops);
	case OPT_PATH:
		return parse_names(arg, path_names, ARRAY_SIZE(path_names),
				   &r->paths);
	case OPT_RANGE:
		if (!parse_range(arg, &a, &b) || !b)
			return false;
		r->offset = a;
		r->range_len = b;
		return true;
	case OPT_LEN:
		if (!parse_pair(arg, ':', parse_bytes32, &a, &b) || !b)
			return false;
		r->min_len = (uint32_t)a;
		r->max_len = (uint32_t)b;
		return true;
	case OPT_PID:
		return parse_pid(arg, &r->tgid);
	case OPT_SKIP:
		if (!parse_u64(arg, &a))
			return false;
		r->skip = a;
		return true;
	case OPT_EVERY:
		if (!parse_u64(arg, &a) || !a)
			return false;
		r->every = a;
		return true;
	case OPT_COUNT:
		if (!parse_u64(arg, &a) || !a)
			return false;
		r->count = a;
		return true;
	case OPT_PROB:
		r->flags |= AIODEV_RULE_PROB;
		return parse_ppm(arg, &r->prob_ppm);
	case OPT_LATENCY:
		return parse_latency(arg, r);
	case OPT_OK:
		r->result_kind = AIODEV_RESULT_OK;
		return true;
	case OPT_ERROR:
		r->result_kind = AIODEV_RESULT_ERROR;
		return parse_errno(arg, &r->error);
	case OPT_SHORT:
		r->result_kind = AIODEV_RESULT_SHORT;
		if (!parse_bytes32(arg, &a))
			return false;
		r->bytes = (uint32_t)a;
		return true;
	case OPT_TORN:
		r->result_kind = AIODEV_RESULT_TORN;
		return parse_torn(arg, &r->bytes, &r->error);
	case OPT_TIMEOUT:
		r->result_kind = AIODEV_RESULT_TIMEOUT;
		return true;
	case OPT_REFUSE:
		r->result_kind = AIODEV_RESULT_REFUSE;
		return parse_errno(arg, &r->error);
	case OPT_HOLD:
		r->flags |= AIODEV_RULE_HOLD;
		return true;
	case OPT_DEADLINE:
		if (!parse_time(arg, &a) || !a)
			return false;
		r->hold_nsec = a;
		return true;
	}
	return false;
}

static bool is_result_opt(int opt)
{
	return opt >= OPT_OK && opt <= OPT_REFUSE;
}

/*
 * Parse a rule's options from @argv into @r (and -d into @dev, if given).
 * @cmd names the command in messages, @where prefixes them (a scenario's
 * line). Returns OPTS_PARSED or the exit status to end with.
 */
static int parse_rule(int argc, char **argv, const char *cmd,
		      const char *where, struct aiodev_rule *r,
		      struct device_arg *dev)
{
	int opt, result_opt = 0, latency_seen = 0;

	memset(r, 0, sizeof(*r));
	optind = 0;	/* also resets GNU getopt for the next line */
	while ((opt = getopt_long(argc, argv, dev ? "+d:h" : "+", rule_opts,
				  NULL)) != -1) {
		if (opt == 'd' && dev) {
			if (!device_arg_parse(dev, optarg))
				return bad_value(cmd, rule_opts, opt, optarg);
			continue;
		}
		if (opt == 'h' && dev) {
			fputs(rule_usage, stdout);
			return EXIT_SUCCESS;
		}
		/* getopt_long() said what is wrong, after argv[0]. */
		if (opt < OPT_OP)
			return usage_hint(cmd);
		if (is_result_opt(opt)) {
			if (result_opt)
				return usage_error(cmd, "%sonly one result option may be given",
						   where);
			result_opt = opt;
		}
		if (opt == OPT_LATENCY && latency_seen++)
			return usage_error(cmd, "%s--latency given twice", where);
		if (!rule_opt(r, opt, optarg)) {
			const struct option *o = rule_opts;

			while (o->val != opt)
				o++;
			return usage_error(cmd, "%sbad value '%s' for --%s",
					   where, optarg, o->name);
		}
	}
	if (optind < argc)
		return usage_error(cmd, "%sunexpected argument '%s'", where,
				   argv[optind]);
	if (r->hold_nsec && !(r->flags & AIODEV_RULE_HOLD))
		return usage_error(cmd, "%s--deadline needs --hold", where);
	if ((r->flags & AIODEV_RULE_HOLD) &&
	    r->result_kind == AIODEV_RESULT_REFUSE)
		return usage_error(cmd, "%s--hold and --refuse exclude each other",
				   where);
	if ((r->flags & AIODEV_RULE_HOLD) && latency_seen)
		return usage_error(cmd, "%s--hold and --latency exclude each other",
				   where);
	return OPTS_PARSED;
}

static const char *errno_name(char *buf, int32_t err)
{
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(buf, FMT_LEN, "%d", err);
	return buf;
}

/* Append ",fmt" (or "fmt" first) to @buf of @size. */
static void __printf(3, 4) add(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len && len + 1 < size)
		buf[len++] = ',';
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void add_names(char *buf, size_t size, const char *key, uint32_t mask,
		      const char *const *names, size_t nr)
{
	char list[64] = "";
	size_t i;

	for (i = 0; i < nr; i++)
		if (mask & (1U << i))
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", list[0] ? "+" : "", names[i]);
	add(buf, size, "%s=%s", key, list);
}

static void format_match(const struct aiodev_rule *r, char *buf, size_t size)
{
	buf[0] = '\0';
	if (r->ops)
		add_names(buf, size, "op", r->ops, op_names,
			  ARRAY_SIZE(op_names));
	if (r->paths)
		add_names(buf, size, "path", r->paths, path_names,
			  ARRAY_SIZE(path_names));
	if (r->range_len)
		add(buf, size, "range=%" PRIu64 ":%" PRIu64,
		    (uint64_t)r->offset, (uint64_t)r->range_len);
	if (r->min_len || r->max_len)
		add(buf, size, "len=%u:%u", r->min_len,
		    r->max_len ? r->max_len : UINT32_MAX);
	if (r->tgid)
		add(buf, size, "pid=%d", r->tgid);
	if (r->skip)
		add(buf, size, "skip=%" PRIu64, (uint64_t)r->skip);
	if (r->every > 1)
		add(buf, size, "every=%" PRIu64, (uint64_t)r->every);
	if (r->count)
		add(buf, size, "count=%" PRIu64, (uint64_t)r->count);
	if (r->flags & AIODEV_RULE_PROB)
		add(buf, size, "ppm=%u", r->prob_ppm);
	if (!buf[0])
		snprintf(buf, size, "any");
}

static void format_action(const struct aiodev_rule *r, char *buf, size_t size)
{
	char e[FMT_LEN];

	buf[0] = '\0';
	switch (r->latency_kind) {
	case AIODEV_LATENCY_FIXED:
		add(buf, size, "latency=%" PRIu64, (uint64_t)r->latency_nsec);
		break;
	case AIODEV_LATENCY_UNIFORM:
		add(buf, size, "latency=%" PRIu64 "..%" PRIu64,
		    (uint64_t)r->latency_nsec, (uint64_t)r->latency_max_nsec);
		break;
	case AIODEV_LATENCY_DIST:
		add(buf, size, "latency=dist:%.*s", (int)sizeof(r->dist),
		    r->dist);
		break;
	}
	switch (r->result_kind) {
	case AIODEV_RESULT_OK:
		add(buf, size, "ok");
		break;
	case AIODEV_RESULT_ERROR:
		add(buf, size, "error=%s", errno_name(e, r->error));
		break;
	case AIODEV_RESULT_SHORT:
		add(buf, size, "short=%u", r->bytes);
		break;
	case AIODEV_RESULT_TORN:
		add(buf, size, "torn=%u:%s", r->bytes, errno_name(e, r->error));
		break;
	case AIODEV_RESULT_TIMEOUT:
		add(buf, size, "timeout");
		break;
	case AIODEV_RESULT_REFUSE:
		add(buf, size, "refuse=%s", errno_name(e, r->error));
		break;
	}
	if (r->flags & AIODEV_RULE_HOLD) {
		if (r->hold_nsec)
			add(buf, size, "hold=%" PRIu64, (uint64_t)r->hold_nsec);
		else
			add(buf, size, "hold");
	}
	if (!buf[0])
		snprintf(buf, size, "default");
}

static int print_rules(int fd, const char *path)
{
	struct aiodev_rule rules[AIODEV_MAX_RULES];
	int nr, i;

	nr = aiodev_rule_list(fd, rules, AIODEV_MAX_RULES);
	if (nr < 0) {
		report(-nr, "%s: list rules", path);
		return EXIT_FAILURE;
	}
	printf("id match action matched applied\n");
	for (i = 0; i < nr && i < AIODEV_MAX_RULES; i++) {
		char match[256], action[128];

		format_match(&rules[i], match, sizeof(match));
		format_action(&rules[i], action, sizeof(action));
		printf("%u %s %s %" PRIu64 " %" PRIu64 "\n", rules[i].id, match,
		       action, (uint64_t)rules[i].matched,
		       (uint64_t)rules[i].applied);
	}
	return EXIT_SUCCESS;
}

/* The kernel's word on a rule, in the user's terms. */
static void report_rule_error(int err, const char *path, const char *what,
			      const struct aiodev_rule *r)
{
	if (err == -ENOENT && r && r->latency_kind == AIODEV_LATENCY_DIST)
		fail("%s: %s: no distribution '%.*s' (see aiodev latency)",
		     path, what, (int)sizeof(r->dist), r->dist);
	else if (err == -ESRCH)
		fail("%s: %s: no process %d", path, what, r ? r->tgid : 0);
	else if (err == -ENOSPC)
		fail("%s: %s: the device holds %d rules already", path, what,
		     AIODEV_MAX_RULES);
	else
		report(-err, "%s: %s", path, what);
}

static int rule_add(int argc, char **argv)
{
	struct aiodev_info info;
	struct aiodev_rule r;
	struct device_arg dev;
	int ret, fd, id;

	device_arg_init(&dev);
	ret = parse_rule(argc, argv, "rule", "", &r, &dev);
	if (ret != OPTS_PARSED)
		return ret;
	fd = open_device(dev.path, O_RDWR, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	if (r.range_len && (r.offset > info.size_bytes ||
			    r.range_len > info.size_bytes - r.offset)) {
		close_device(fd, dev.path);
		return usage_error("rule", "--range lies outside the device");
	}
	id = aiodev_rule_add(fd, &r);
	if (id < 0) {
		report_rule_error(id, dev.path, "add rule", &r);
		close_device(fd, dev.path);
		return EXIT_FAILURE;
	}
	printf("%d\n", id);
	return close_device(fd, dev.path);
}

/* list, clear and del: -d and at most one ID. */
static int rule_simple(int argc, char **argv, const char *sub)
{
	bool del = !strcmp(sub, "del");
	struct aiodev_info info;
	struct device_arg dev;
	uint32_t id = 0;
	int ret, fd, err;

	ret = parse_device_opts_args(argc, argv, "rule", rule_usage, &dev,
				     del ? 1 : 0);
	if (ret != OPTS_PARSED)
		return ret;
	if (del && (!parse_u32(argv[optind], &id) || !id))
		return usage_error("rule", "bad rule id '%s'", argv[optind]);

	fd = open_device(dev.path, strcmp(sub, "list") ? O_RDWR : O_RDONLY,
			 &info);
	if (fd < 0)
		return EXIT_FAILURE;
	if (!strcmp(sub, "list")) {
		ret = print_rules(fd, dev.path);
	} else {
		err = del ? aiodev_rule_del(fd, id) : aiodev_rule_clear(fd);
		ret = EXIT_SUCCESS;
		if (err == -ENOENT) {
			fail("%s: no rule %u", dev.path, id);
			ret = EXIT_FAILURE;
		} else if (err) {
			report(-err, "%s: %s rule", dev.path, sub);
			ret = EXIT_FAILURE;
		}
	}
	if (close_device(fd, dev.path) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

/* getopt_long() prefixes its messages with argv[0]: name the subcommand. */
static char **name_subcommand(char **argv, const char *cmd)
{
	static char prog[64];

	snprintf(prog, sizeof(prog), "aiodev %s %s", cmd, argv[1]);
	argv[1] = prog;
	return argv + 1;
}

int cmd_rule(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return usage_error("rule", "missing subcommand: add, list, del or clear");
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(rule_usage, stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(sub, "add"))
		return rule_add(argc - 1, name_subcommand(argv, "rule"));
	if (!strcmp(sub, "list") || !strcmp(sub, "del") ||
	    !strcmp(sub, "clear"))
		return rule_simple(argc - 1, name_subcommand(argv, "rule"),
				   sub);
	return usage_error("rule", "unknown subcommand '%s'", sub);
}

/* ---- scenario --------------------------------------------------------- */

#define SCENARIO_MAX_WORDS	64

/* Split @line into words at blanks, up to a '#'; returns how many. */
static int split_words(char *line, char **words, int max)
{
	char *hash = strchr(line, '#');
	int n = 0;

	if (hash)
		*hash = '\0';
	for (char *w = strtok(line, " \t\r\n"); w; w = strtok(NULL, " \t\r\n")) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

/* Parse FILE into @rules; returns how many, or -1 after reporting why. */
static int scenario_parse(FILE *f, const char *name, struct aiodev_rule *rules)
{
	char line[1024], where[256], prog[256];
	unsigned int lineno = 0;
	int nr = 0;

	while (fgets(line, sizeof(line), f)) {
		char *words[SCENARIO_MAX_WORDS + 1] = { prog };
		int n, ret;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u: ", name, lineno);
		/* What getopt_long() prefixes its own messages with. */
		snprintf(prog, sizeof(prog), "aiodev scenario: %s:%u", name,
			 lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			usage_error("scenario", "%sline too long", where);
			return -1;
		}
		n = split_words(line, words + 1, SCENARIO_MAX_WORDS);
		if (n < 0) {
			usage_error("scenario", "%stoo many words", where);
			return -1;
		}
		if (!n)
			continue;
		if (nr == AIODEV_MAX_RULES) {
			usage_error("scenario", "%smore than %d rules", where,
				    AIODEV_MAX_RULES);
			return -1;
		}
		ret = parse_rule(n + 1, words, "scenario", where, &rules[nr],
				 NULL);
		if (ret != OPTS_PARSED)
			return -1;
		nr++;
	}
	if (ferror(f)) {
		report(errno, "read %s", name);
		return -2;
	}
	return nr;
}

static int scenario_load(int argc, char **argv)
{
	struct aiodev_rule rules[AIODEV_MAX_RULES];
	struct aiodev_info info;
	struct device_arg dev;
	const char *file;
	int ret, fd, nr, i;
	FILE *f;

	ret = parse_device_opts_args(argc, argv, "scenario", scenario_usage,
				     &dev, 1);
	if (ret != OPTS_PARSED)
		return ret;
	file = argv[optind];
	f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	if (!f) {
		report(errno, "open %s", file);
		return EXIT_FAILURE;
	}
	nr = scenario_parse(f, file, rules);
	if (f != stdin)
		fclose(f);
	if (nr < 0)
		return nr == -1 ? EXIT_USAGE : EXIT_FAILURE;

	fd = open_device(dev.path, O_RDWR, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	for (i = 0; i < nr; i++) {
		if (rules[i].range_len &&
		    (rules[i].offset > info.size_bytes ||
		     rules[i].range_len > info.size_bytes - rules[i].offset)) {
			close_device(fd, dev.path);
			return usage_error("scenario",
					   "rule %d: --range lies outside the device",
					   i + 1);
		}
	}
	ret = aiodev_rule_load(fd, rules, (unsigned int)nr);
	if (ret < 0) {
		report_rule_error(ret, dev.path, "load scenario", NULL);
		close_device(fd, dev.path);
		return EXIT_FAILURE;
	}
	ret = print_rules(fd, dev.path);
	if (close_device(fd, dev.path) != EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

int cmd_scenario(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return usage_error("scenario", "missing subcommand: load");
	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		fputs(scenario_usage, stdout);
		return EXIT_SUCCESS;
	}
	if (!strcmp(sub, "load"))
		return scenario_load(argc - 1, name_subcommand(argv, "scenario"));
	return usage_error("scenario", "unknown subcommand '%s'", sub);
}
