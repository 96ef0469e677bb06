// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev - inspect, configure, demonstrate and benchmark /dev/aiodevN.
 *
 * Exit status: 0 success, 1 runtime failure or unexpected result, 2 usage.
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
#include <strings.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "libaiodev.h"

/*
 * `config --reset` goes back to the module's load-time defaults, which its
 * parameters show; these are the documented values of those parameters.
 */
#define MODULE_PARAMS		"/sys/module/aiodev/parameters/"
#define DEFAULT_LATENCY_NS	(10 * NSEC_PER_USEC)	/* completion_nsec */
#define DEFAULT_TIMEOUT_NS	0ULL			/* timeout_nsec */

static const char main_usage[] =
"usage: aiodev <command> [options]\n"
"\n"
"Commands:\n"
"  info     show the device's ABI version, features and limits\n"
"  config   show or change latency, jitter, timeout, fault plan, seed\n"
"  stats    show the device's request counters\n"
"  demo     show out-of-order completion, timeout, cancellation, data\n"
"           movement and fault injection; exit 0 only if all behaved\n"
"  bench    measure IOPS and completion latency\n"
"  rule     add, list, delete rules deciding matching requests' fates\n"
"  scenario load a file of rules at once\n"
"  latency  define latency distributions for rules\n"
"  held     list the requests rules hold, or wait for them\n"
"  release  let held requests complete, in order, with chosen results\n"
"  help     show this help, or `aiodev help <command>`\n"
"\n"
"Every command takes -d N (/dev/aiodevN, default 0) or -d PATH.\n"
"Run `aiodev <command> --help` for its options.\n"
"\n"
"Exit status: 0 success, 1 runtime failure or unexpected result,\n"
"2 usage error.\n";

static const char info_usage[] =
"usage: aiodev info [-d N|PATH]\n"
"\n"
"Show the device's ABI version, features, size and limits.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

static const char config_usage[] =
"usage: aiodev config [-d N|PATH] [options]\n"
"\n"
"Without options, show the device's configuration. With options, read it,\n"
"change the given fields and write it back (needs write access).\n"
"\n"
"  -d, --device N|PATH       /dev/aiodevN or a device node (default 0)\n"
"      --latency TIME        default request latency\n"
"      --jitter TIME         add a random 0..TIME to the default latency\n"
"      --timeout TIME        default request deadline (0: none)\n"
"      --fail-every N        fail every Nth request submitted (0: off)\n"
"      --fail-errno E        errno of those failures\n"
"      --fail-range OFF:LEN  fail reads and writes touching [OFF, OFF+LEN)\n"
"                            (LEN 0: off)\n"
"      --fail-range-errno E  errno of those failures\n"
"      --reset               start from the module's load-time defaults\n"
"                            (its completion_nsec and timeout_nsec\n"
"                            parameters; no jitter or faults), not the\n"
"                            current configuration; the seed stays\n"
"      --seed N              seed of the device's random choices (jitter,\n"
"                            rule probabilities, distributions); every\n"
"                            change of the configuration restarts them\n"
"  -h, --help                show this help\n"
"\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n"
"E is an errno name (EIO) or number (5); a rule turned on without one\n"
"keeps the current errno, or EIO if there is none. Turning a rule off\n"
"clears its errno.\n"
"OFF and LEN are bytes, with an optional k, m or g (binary) suffix.\n";

static const char stats_usage[] =
"usage: aiodev stats [-d N|PATH]\n"
"\n"
"Show the device's request counters since the module was loaded.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

static const char demo_usage[] =
"usage: aiodev demo [-d N|PATH]\n"
"\n"
"Walk through the device's semantics on real requests and check each:\n"
"out-of-order completion, a timeout, a cancellation, data moving at\n"
"completion, an injected failure, and a seeded scenario of rules (a\n"
"short read, a torn write, 1 % of NOPs failing, replayed by the seed).\n"
"The device must have no rules; its configuration is changed for the\n"
"last two steps and restored afterwards. Exit status 0 only if every\n"
"check passed.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

static const char bench_usage[] =
"usage: aiodev bench [-d N|PATH] [options]\n"
"\n"
"Keep DEPTH requests in flight and report IOPS, latency percentiles and\n"
"a latency histogram, from the completions' own timestamps. Progress goes\n"
"to stderr about once a second. Exit status 1 if any request failed.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -n, --requests N      requests to complete (default 10000)\n"
"  -q, --depth N         requests in flight (default 32)\n"
"  -b, --batch N         submit up to N requests per call, reap at least\n"
"                        N per wait (default 8, at most DEPTH)\n"
"  -s, --bs BYTES        bytes per read or write (default 4096; k, m)\n"
"  -r, --rw OP           read, write or nop (default read)\n"
"  -l, --latency TIME    exact per-request latency (default: the\n"
"                        device's latency and jitter)\n"
"  -h, --help            show this help\n"
"\n"
"TIME is an integer with an optional unit: ns (default), us, ms, s.\n";
static int cmd_info(int argc, char **argv)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} features[] = {
		{ AIODEV_FEAT_NOP, "nop" },
		{ AIODEV_FEAT_EVENTFD, "eventfd" },
		{ AIODEV_FEAT_JITTER, "jitter" },
		{ AIODEV_FEAT_FAULTS, "faults" },
		{ AIODEV_FEAT_CANCEL, "cancel" },
		{ AIODEV_FEAT_RULES, "rules" },
		{ AIODEV_FEAT_DISTS, "distributions" },
		{ AIODEV_FEAT_HOLD, "hold" },
	};
	struct aiodev_info info;
	struct device_arg dev;
	char buf[FMT_LEN];
	uint64_t unknown;
	size_t i;
	int fd;

	fd = parse_device_opts(argc, argv, "info", info_usage, &dev);
	if (fd != OPTS_PARSED)
		return fd;

	fd = open_device(dev.path, O_RDONLY, &info);
	if (fd < 0)
		return EXIT_FAILURE;

	printf("%s\n", dev.path);
	printf("  abi_version     %u\n", info.abi_version);
	printf("  index           %u\n", info.index);
	printf("  features       ");
	unknown = info.features;
	for (i = 0; i < ARRAY_SIZE(features); i++) {
		if (info.features & features[i].bit)
			printf(" %s", features[i].name);
		unknown &= ~features[i].bit;
	}
	if (unknown)
		printf(" 0x%" PRIx64, unknown);
	printf("\n");
	printf("  size_bytes      %" PRIu64 " (%s)\n",
	       (uint64_t)info.size_bytes, fmt_bytes(buf, info.size_bytes));
	printf("  max_io_bytes    %u (%s)\n", info.max_io_bytes,
	       fmt_bytes(buf, info.max_io_bytes));
	printf("  queue_depth     %u\n", info.queue_depth);
	printf("  max_nsec        %" PRIu64 " (%s)\n", (uint64_t)info.max_nsec,
	       fmt_ns(buf, info.max_nsec));
	return close_device(fd, dev.path);
}

static void print_errno_field(const char *field, int32_t err)
{
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	if (name)
		printf("  %-18s %d (%s)\n", field, err, name);
	else
		printf("  %-18s %d\n", field, err);
}

static void print_config(const char *path, const struct aiodev_config *cfg)
{
	char buf[FMT_LEN];

	printf("%s configuration\n", path);
	printf("  %-18s %" PRIu64 " (%s)\n", "latency_nsec",
	       (uint64_t)cfg->latency_nsec, fmt_ns(buf, cfg->latency_nsec));
	printf("  %-18s %" PRIu64 " (%s)\n", "jitter_nsec",
	       (uint64_t)cfg->jitter_nsec,
	       cfg->jitter_nsec ? fmt_ns(buf, cfg->jitter_nsec) : "none");
	printf("  %-18s %" PRIu64 " (%s)\n", "timeout_nsec",
	       (uint64_t)cfg->timeout_nsec,
	       cfg->timeout_nsec ? fmt_ns(buf, cfg->timeout_nsec) : "none");
	printf("  %-18s %u%s\n", "fail_every_nth", cfg->fail_every_nth,
	       cfg->fail_every_nth ? "" : " (off)");
	print_errno_field("fail_nth_errno", cfg->fail_nth_errno);
	printf("  %-18s %" PRIu64 "\n", "fail_offset",
	       (uint64_t)cfg->fail_offset);
	printf("  %-18s %" PRIu64 "%s\n", "fail_len", (uint64_t)cfg->fail_len,
	       cfg->fail_len ? "" : " (off)");
	print_errno_field("fail_range_errno", cfg->fail_range_errno);
	printf("  %-18s %" PRIu64 "\n", "seed", (uint64_t)cfg->seed);
}

enum config_opt {
	OPT_LATENCY = 256,	/* past every short option character */
	OPT_JITTER,
	OPT_TIMEOUT,
	OPT_FAIL_EVERY,
	OPT_FAIL_ERRNO,
	OPT_FAIL_RANGE,
	OPT_FAIL_RANGE_ERRNO,
	OPT_RESET,
	OPT_SEED,
};

/* What `config` was asked to change; the rest keeps its current value. */
struct config_change {
	bool reset;
	uint64_t reset_latency_ns, reset_timeout_ns;	/* with reset */
	bool set_latency, set_jitter, set_timeout;
	bool set_fail_every, set_fail_errno;
	bool set_fail_range, set_fail_range_errno;
	bool set_seed;
	uint64_t seed;
	uint64_t latency_ns, jitter_ns, timeout_ns;
	uint32_t fail_every_nth;
	int32_t fail_nth_errno;
	uint64_t fail_offset, fail_len;
	int32_t fail_range_errno;
};

static bool config_change_any(const struct config_change *chg)
{
	return chg->reset || chg->set_latency || chg->set_jitter ||
	       chg->set_timeout || chg->set_fail_every ||
	       chg->set_fail_errno || chg->set_fail_range ||
	       chg->set_fail_range_errno || chg->set_seed;
}

static void config_apply(struct aiodev_config *cfg,
			 const struct config_change *chg)
{
	if (chg->reset) {
		/* The seed is no setting to undo: a run is replayed with it. */
		uint64_t seed = cfg->seed;

		memset(cfg, 0, sizeof(*cfg));
		cfg->latency_nsec = chg->reset_latency_ns;
		cfg->timeout_nsec = chg->reset_timeout_ns;
		cfg->seed = seed;
	}
	if (chg->set_seed)
		cfg->seed = chg->seed;
	if (chg->set_latency)
		cfg->latency_nsec = chg->latency_ns;
	if (chg->set_jitter)
		cfg->jitter_nsec = chg->jitter_ns;
	if (chg->set_timeout)
		cfg->timeout_nsec = chg->timeout_ns;
	if (chg->set_fail_every)
		cfg->fail_every_nth = chg->fail_every_nth;
	if (chg->set_fail_errno)
		cfg->fail_nth_errno = chg->fail_nth_errno;
	if (chg->set_fail_range) {
		cfg->fail_offset = chg->fail_offset;
		cfg->fail_len = chg->fail_len;
	}
	if (chg->set_fail_range_errno)
		cfg->fail_range_errno = chg->fail_range_errno;
	/* The device takes an errno exactly when its rule is on. */
	if (!cfg->fail_every_nth)
		cfg->fail_nth_errno = 0;
	else if (!cfg->fail_nth_errno)
		cfg->fail_nth_errno = EIO;
	/* ... and an offset only with a length. */
	if (!cfg->fail_len) {
		cfg->fail_offset = 0;
		cfg->fail_range_errno = 0;
	} else if (!cfg->fail_range_errno) {
		cfg->fail_range_errno = EIO;
	}
}

/*
 * Read the module parameter @name, a time in ns, into @ns; else take
 * @fallback and say so, since the result may not be what the module was
 * loaded with.
 */
static void read_param_ns(const char *name, uint64_t fallback, uint64_t *ns)
{
	char path[128], buf[32];
	const char *why = "it holds no time";
	FILE *f;

	snprintf(path, sizeof(path), MODULE_PARAMS "%s", name);
	f = fopen(path, "re");
	if (!f) {
		why = strerror(errno);
	} else {
		bool got = fgets(buf, sizeof(buf), f);

		fclose(f);
		buf[got ? strcspn(buf, "\n") : 0] = '\0';
		/* Plain nanoseconds, as the module prints them. */
		if (got && parse_time(buf, ns))
			return;
	}
	*ns = fallback;
	fprintf(stderr, "aiodev: note: %s: %s; using the documented default of %" PRIu64 " ns\n",
		path, why, fallback);
}

static int cmd_config(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "latency", required_argument, NULL, OPT_LATENCY },
		{ "jitter", required_argument, NULL, OPT_JITTER },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "fail-every", required_argument, NULL, OPT_FAIL_EVERY },
		{ "fail-errno", required_argument, NULL, OPT_FAIL_ERRNO },
		{ "fail-range", required_argument, NULL, OPT_FAIL_RANGE },
		{ "fail-range-errno", required_argument, NULL,
		  OPT_FAIL_RANGE_ERRNO },
		{ "reset", no_argument, NULL, OPT_RESET },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ NULL, 0, NULL, 0 }
	};
	struct config_change chg = { 0 };
	struct aiodev_config cfg;
	struct aiodev_info info;
	struct device_arg dev;
	int opt, fd, err, ret;

	device_arg_init(&dev);
	while ((opt = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'd':
			ok = device_arg_parse(&dev, optarg);
			break;
		case 'h':
			fputs(config_usage, stdout);
			return EXIT_SUCCESS;
		case OPT_LATENCY:
			chg.set_latency = true;
			ok = parse_time(optarg, &chg.latency_ns);
			break;
		case OPT_JITTER:
			chg.set_jitter = true;
			ok = parse_time(optarg, &chg.jitter_ns);
			break;
		case OPT_TIMEOUT:
			chg.set_timeout = true;
			ok = parse_time(optarg, &chg.timeout_ns);
			break;
		case OPT_FAIL_EVERY:
			chg.set_fail_every = true;
			ok = parse_u32(optarg, &chg.fail_every_nth);
			break;
		case OPT_FAIL_ERRNO:
			chg.set_fail_errno = true;
			ok = parse_errno(optarg, &chg.fail_nth_errno);
			break;
		case OPT_FAIL_RANGE:
			chg.set_fail_range = true;
			ok = parse_range(optarg, &chg.fail_offset,
					 &chg.fail_len);
			break;
		case OPT_FAIL_RANGE_ERRNO:
			chg.set_fail_range_errno = true;
			ok = parse_errno(optarg, &chg.fail_range_errno);
			break;
		case OPT_RESET:
			chg.reset = true;
			break;
		case OPT_SEED:
			chg.set_seed = true;
			ok = parse_u64(optarg, &chg.seed);
			break;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("config");
		}
		if (!ok)
			return bad_value("config", opts, opt, optarg);
	}
	if (optind < argc)
		return usage_error("config", "unexpected argument '%s'",
				   argv[optind]);

	if (!config_change_any(&chg)) {
		fd = open_device(dev.path, O_RDONLY, &info);
		if (fd < 0)
			return EXIT_FAILURE;
		err = aiodev_get_config(fd, &cfg);
		if (err) {
			report(-err, "%s: get config", dev.path);
			close_device(fd, dev.path);
			return EXIT_FAILURE;
		}
		print_config(dev.path, &cfg);
		return close_device(fd, dev.path);
	}

	fd = open_device(dev.path, O_RDWR, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	ret = EXIT_FAILURE;
	if (chg.set_fail_range &&
	    (chg.fail_offset > info.size_bytes ||
	     chg.fail_len > info.size_bytes - chg.fail_offset)) {
		char buf[FMT_LEN];

		ret = usage_error("config",
				  "fail range lies outside the %s device",
				  fmt_bytes(buf, info.size_bytes));
		goto out;
	}
	/* Once the device is open: its module, and so these files, exist. */
	if (chg.reset) {
		read_param_ns("completion_nsec", DEFAULT_LATENCY_NS,
			      &chg.reset_latency_ns);
		read_param_ns("timeout_nsec", DEFAULT_TIMEOUT_NS,
			      &chg.reset_timeout_ns);
	}
	err = aiodev_get_config(fd, &cfg);
	if (err) {
		report(-err, "%s: get config", dev.path);
		goto out;
	}
	config_apply(&cfg, &chg);
	if (chg.set_fail_errno && !cfg.fail_every_nth) {
		ret = usage_error("config",
				  "--fail-errno needs --fail-every N");
		goto out;
	}
	if (chg.set_fail_range_errno && !cfg.fail_len) {
		ret = usage_error("config",
				  "--fail-range-errno needs --fail-range OFF:LEN");
		goto out;
	}
	err = aiodev_set_config(fd, &cfg);
	if (err) {
		report(-err, "%s: set config", dev.path);
		goto out;
	}
	err = aiodev_get_config(fd, &cfg);
	if (err) {
		report(-err, "%s: get config", dev.path);
		goto out;
	}
	print_config(dev.path, &cfg);
	ret = EXIT_SUCCESS;
out:
	if (close_device(fd, dev.path) != EXIT_SUCCESS && ret == EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

static void print_counters(const struct aiodev_counters *c)
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

static int cmd_stats(int argc, char **argv)
{
	struct aiodev_stats stats;
	struct aiodev_info info;
	struct device_arg dev;
	int fd, err;

	fd = parse_device_opts(argc, argv, "stats", stats_usage, &dev);
	if (fd != OPTS_PARSED)
		return fd;

	fd = open_device(dev.path, O_RDONLY, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	err = aiodev_get_stats(fd, &stats);
	if (err) {
		report(-err, "%s: get stats", dev.path);
		close_device(fd, dev.path);
		return EXIT_FAILURE;
	}
	/* Only the device's counters: this fresh open has submitted none. */
	printf("%s counters since the module was loaded\n", dev.path);
	print_counters(&stats.device);
	return close_device(fd, dev.path);
}

/*
 * demo: every step submits real requests, narrates what happened and checks
 * it against the ABI's promises. A check that fails is counted and the demo
 * goes on; a failing system call stops it, since requests may be left in
 * flight that would confuse later steps.
 */

/* The longest any step waits for events it expects much sooner. */
#define DEMO_WAIT_NS		(5 * NSEC_PER_SEC)
#define DEMO_IO_LEN		4096U
#define DEMO_FAIL_EVERY		3
#define DEMO_FAIL_READS		(2 * DEMO_FAIL_EVERY)
#define DEMO_SHORT_OFF		(8 * DEMO_IO_LEN)
#define DEMO_TORN_OFF		(9 * DEMO_IO_LEN)
#define DEMO_NOPS		1000U
#define DEMO_SEED		42

struct demo {
	int fd;
	const char *path;
	struct aiodev_info info;
	struct aiodev_config base;	/* the config the steps run under */
	struct aiodev_counters expect;	/* this file's counters, foreseen */
	unsigned int checks;
	unsigned int failed_checks;
};

static bool __printf(3, 4)
demo_check(struct demo *demo, bool ok, const char *fmt, ...)
{
	va_list ap;

	demo->checks++;
	if (!ok)
		demo->failed_checks++;
	printf("    %s ", ok ? "ok:  " : "FAIL:");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return ok;
}

/*
 * Pin a request's timing: exact latency and no deadline, so that whatever
 * the device's latency, jitter and timeout are, the demo's timing holds.
 */
static void demo_timing(struct aiodev_req *req, uint64_t latency_ns)
{
	aiodev_req_set_latency(req, latency_ns);
	aiodev_req_set_timeout(req, 0);
}

static int demo_submit(struct demo *demo, struct aiodev_req *reqs,
		       unsigned int nr)
{
	int err = submit_all(demo->fd, reqs, nr);

	if (err) {
		report(-err, "%s: submit", demo->path);
		return -1;
	}
	demo->expect.submitted += nr;
	return 0;
}

static int demo_reap(struct demo *demo, struct aiodev_event *events,
		     unsigned int want, uint64_t timeout_ns)
{
	char buf[FMT_LEN];
	int got = reap(demo->fd, events, want, timeout_ns);

	if (got < 0) {
		report(-got, "%s: get events", demo->path);
		return -1;
	}
	if ((unsigned int)got < want) {
		fail("%s: only %d of %u completions within %s", demo->path,
		     got, want, fmt_ns(buf, timeout_ns));
		return -1;
	}
	return 0;
}

static uint64_t event_latency(const struct aiodev_event *ev)
{
	return ev->complete_ns - ev->submit_ns;
}

static int demo_out_of_order(struct demo *demo)
{
	static const char *const labels[] = { "A", "B", "C", "D" };
	const unsigned int nr = ARRAY_SIZE(labels);
	struct aiodev_event events[ARRAY_SIZE(labels)];
	struct aiodev_req reqs[ARRAY_SIZE(labels)];
	bool reversed = true, results_ok = true, on_time = true;
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	unsigned int i;

	printf("\n[1/6] Out-of-order completion\n");
	printf("    One submit call, four NOPs, longest latency first:\n");
	for (i = 0; i < nr; i++) {
		uint64_t latency = (nr - i) * 10 * NSEC_PER_MSEC;

		aiodev_prep_nop(&reqs[i], i);
		demo_timing(&reqs[i], latency);
		printf("      %u. %s  latency %s\n", i + 1, labels[i],
		       fmt_ns(lat, latency));
	}
	if (demo_submit(demo, reqs, nr))
		return -1;
	demo->expect.completed_ok += nr;
	if (demo_reap(demo, events, nr, DEMO_WAIT_NS))
		return -1;

	printf("    Completion order:\n");
	for (i = 0; i < nr; i++) {
		const struct aiodev_event *ev = &events[i];
		uint64_t tag = ev->user_data;

		if (tag >= nr) {
			demo_check(demo, false, "event with unknown user_data %"
				   PRIu64, tag);
			return -1;
		}
		printf("      %u. %s  latency %s, measured %s, result %s\n",
		       i + 1, labels[tag],
		       fmt_ns(lat, reqs[tag].latency_nsec),
		       fmt_ns(measured, event_latency(ev)),
		       fmt_result(res, ev->result));
		reversed &= tag == nr - 1 - i;
		results_ok &= ev->result == 0;
		on_time &= event_latency(ev) >= reqs[tag].latency_nsec;
	}
	printf("    They complete by latency, not in the order submitted.\n");
	demo_check(demo, reversed,
		   "completed D, C, B, A: the reverse of submission");
	demo_check(demo, results_ok, "every NOP completed with result 0");
	demo_check(demo, on_time, "none completed before its latency");
	return 0;
}

static int demo_timeout(struct demo *demo)
{
	const uint64_t latency = 50 * NSEC_PER_MSEC;
	const uint64_t timeout = 10 * NSEC_PER_MSEC;
	char lat[FMT_LEN], tmo[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	struct aiodev_event ev;
	struct aiodev_req req;

	printf("\n[2/6] Timeout\n");
	printf("    A NOP with latency %s and timeout %s: the deadline comes first.\n",
	       fmt_ns(lat, latency), fmt_ns(tmo, timeout));
	aiodev_prep_nop(&req, 0);
	aiodev_req_set_latency(&req, latency);
	aiodev_req_set_timeout(&req, timeout);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.timed_out++;
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    result %s after %s\n", fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	printf("    The deadline passed before the latency did, so the request failed.\n");
	demo_check(demo, ev.result == -ETIMEDOUT,
		   "it failed with -ETIMEDOUT");
	return 0;
}

static int demo_cancel(struct demo *demo)
{
	const uint64_t latency = 5 * NSEC_PER_SEC;
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	struct aiodev_event ev;
	struct aiodev_req req;
	int ret;

	printf("\n[3/6] Cancellation\n");
	aiodev_prep_nop(&req, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	printf("    A NOP with latency %s got id %" PRIu64
	       "; cancelling it by id.\n", fmt_ns(lat, latency),
	       (uint64_t)req.id);
	demo_check(demo, req.id != 0, "the kernel wrote back a nonzero id");

	ret = aiodev_cancel(demo->fd, req.id);
	printf("    cancel returned %s\n", fmt_result(res, ret));
	if (!demo_check(demo, ret == 0, "the cancel was accepted"))
		return -1;	/* it stays in flight for seconds */
	demo->expect.cancelled++;

	/* Far less than its latency: a cancel that did nothing shows here. */
	if (demo_reap(demo, &ev, 1, latency / 2))
		return -1;
	printf("    id %" PRIu64 " completed with %s after %s\n",
	       (uint64_t)ev.id, fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	printf("    A cancelled request still completes, exactly once, with -ECANCELED.\n");
	demo_check(demo, ev.id == req.id && ev.result == -ECANCELED,
		   "it completed with -ECANCELED, long before its latency");

	ret = aiodev_cancel(demo->fd, req.id);
	printf("    cancelling it again returned %s\n", fmt_result(res, ret));
	demo_check(demo, ret == -ENOENT,
		   "-ENOENT: it is no longer in flight");
	return 0;
}

/* Bytes no two calls with different seeds agree on at any position. */
static void fill_pattern(unsigned char *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 131);
}

static bool all_bytes(const unsigned char *buf, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != c)
			return false;
	return true;
}

static int demo_data(struct demo *demo)
{
	const uint64_t latency = 100 * NSEC_PER_MSEC;
	const unsigned char filler = 0x5a;
	unsigned char wbuf[DEMO_IO_LEN], rbuf[DEMO_IO_LEN];
	unsigned char first[DEMO_IO_LEN], second[DEMO_IO_LEN];
	char lat[FMT_LEN], measured[FMT_LEN], res[FMT_LEN];
	uint64_t seed = now_ns(), changed_ns, checked_ns;
	bool changed_in_time, checked_in_time, untouched;
	struct aiodev_event ev;
	struct aiodev_req req;

	printf("\n[4/6] Data moves at completion, as with DMA\n");
	/* A fresh seed, so data left by an earlier run cannot pass. */
	fill_pattern(first, sizeof(first), seed);
	fill_pattern(second, sizeof(second), seed + 1);

	memcpy(wbuf, first, sizeof(wbuf));
	aiodev_prep_write(&req, wbuf, sizeof(wbuf), 0, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.completed_ok++;
	memcpy(wbuf, second, sizeof(wbuf));
	changed_ns = now_ns();
	printf("    Wrote %u bytes at offset 0 with latency %s from a buffer holding pattern 1,\n"
	       "    and filled the buffer with pattern 2 right after submitting.\n",
	       DEMO_IO_LEN, fmt_ns(lat, latency));
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    write completed with %s after %s\n",
	       fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	demo_check(demo, ev.result == DEMO_IO_LEN,
		   "the write transferred %u bytes", DEMO_IO_LEN);
	/* Only a change made well before completion must have been seen. */
	changed_in_time = changed_ns < ev.submit_ns + latency / 2;

	memset(rbuf, filler, sizeof(rbuf));
	aiodev_prep_read(&req, rbuf, sizeof(rbuf), 0, 0);
	demo_timing(&req, latency);
	if (demo_submit(demo, &req, 1))
		return -1;
	demo->expect.completed_ok++;
	untouched = all_bytes(rbuf, sizeof(rbuf), filler);
	checked_ns = now_ns();
	printf("    Reading it back with latency %s into a buffer of 0x%02x bytes.\n",
	       fmt_ns(lat, latency), (unsigned int)filler);
	if (demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	printf("    read completed with %s after %s\n",
	       fmt_result(res, ev.result),
	       fmt_ns(measured, event_latency(&ev)));
	checked_in_time = checked_ns < ev.submit_ns + latency / 2;
	printf("    Like DMA, a write takes its data and a read delivers it only at completion.\n");
	if (checked_in_time)
		demo_check(demo, untouched,
			   "the read buffer was untouched while the read was in flight");
	else
		printf("    note: too slow to look at the read buffer before completion\n");
	demo_check(demo, ev.result == DEMO_IO_LEN,
		   "the read transferred %u bytes", DEMO_IO_LEN);
	if (changed_in_time) {
		demo_check(demo, !memcmp(rbuf, second, sizeof(rbuf)),
			   "the device holds pattern 2: the write read its buffer at completion");
	} else {
		printf("    note: too slow to change the write buffer before completion\n");
		demo_check(demo, !memcmp(rbuf, first, sizeof(rbuf)) ||
			   !memcmp(rbuf, second, sizeof(rbuf)),
			   "the data read back is the data written");
	}
	return 0;
}

static int demo_set_config(struct demo *demo, const struct aiodev_config *cfg)
{
	int err = aiodev_set_config(demo->fd, cfg);

	if (err) {
		report(-err, "%s: set config", demo->path);
		return -1;
	}
	return 0;
}

/* Set @cfg and read it back, so a restore is known to have happened. */
static int demo_restore_config(struct demo *demo,
			       const struct aiodev_config *cfg)
{
	struct aiodev_config now;
	int err;

	if (demo_set_config(demo, cfg))
		return -1;
	err = aiodev_get_config(demo->fd, &now);
	if (err) {
		report(-err, "%s: get config", demo->path);
		return -1;
	}
	demo_check(demo, !memcmp(&now, cfg, sizeof(now)),
		   "the previous configuration is back");
	return 0;
}

static int demo_faults(struct demo *demo)
{
	const uint64_t latency = 1 * NSEC_PER_MSEC;
	const unsigned char filler = 0xa5;
	unsigned char bufs[DEMO_FAIL_READS][DEMO_IO_LEN];
	struct aiodev_event events[DEMO_FAIL_READS];
	struct aiodev_req reqs[DEMO_FAIL_READS];
	int64_t results[DEMO_FAIL_READS];
	bool pattern_ok = true, untouched = true;
	struct aiodev_config cfg = demo->base;
	char res[FMT_LEN];
	unsigned int i;
	int ret = 0;

	printf("\n[5/6] Fault injection\n");
	printf("    Setting fail_every_nth=%d and fail_nth_errno=EIO, then submitting\n"
	       "    %d reads of %u bytes at once.\n",
	       DEMO_FAIL_EVERY, DEMO_FAIL_READS, DEMO_IO_LEN);
	cfg.fail_every_nth = DEMO_FAIL_EVERY;
	cfg.fail_nth_errno = EIO;
	if (demo_set_config(demo, &cfg))
		return -1;

	for (i = 0; i < DEMO_FAIL_READS; i++) {
		memset(bufs[i], filler, DEMO_IO_LEN);
		aiodev_prep_read(&reqs[i], bufs[i], DEMO_IO_LEN,
				 (uint64_t)i * DEMO_IO_LEN, i);
		demo_timing(&reqs[i], latency);
	}
	if (demo_submit(demo, reqs, DEMO_FAIL_READS) ||
	    demo_reap(demo, events, DEMO_FAIL_READS, DEMO_WAIT_NS)) {
		ret = -1;
		goto restore;
	}
	demo->expect.failed += DEMO_FAIL_READS / DEMO_FAIL_EVERY;
	demo->expect.completed_ok += DEMO_FAIL_READS -
				     DEMO_FAIL_READS / DEMO_FAIL_EVERY;

	for (i = 0; i < DEMO_FAIL_READS; i++)
		results[i] = INT64_MIN;	/* no event seen */
	for (i = 0; i < DEMO_FAIL_READS; i++) {
		if (events[i].user_data >= DEMO_FAIL_READS) {
			demo_check(demo, false, "event with unknown user_data %"
				   PRIu64, (uint64_t)events[i].user_data);
			ret = -1;
			goto restore;
		}
		results[events[i].user_data] = events[i].result;
	}
	printf("    The plan counts the device's requests from the moment it is set:\n"
	       "    one in every %d fails.\n", DEMO_FAIL_EVERY);
	for (i = 0; i < DEMO_FAIL_READS; i++) {
		bool nth = (i + 1) % DEMO_FAIL_EVERY == 0;

		printf("      read %u: %s%s\n", i + 1,
		       fmt_result(res, results[i]), nth ? "  <- injected" : "");
		pattern_ok &= results[i] == (nth ? -EIO : (int64_t)DEMO_IO_LEN);
		if (nth)
			untouched &= all_bytes(bufs[i], DEMO_IO_LEN, filler);
	}
	demo_check(demo, pattern_ok,
		   "reads %d and %d failed with -EIO, the others transferred %u bytes",
		   DEMO_FAIL_EVERY, 2 * DEMO_FAIL_EVERY, DEMO_IO_LEN);
	demo_check(demo, untouched,
		   "the failed reads left their buffers untouched");

restore:
	printf("    Restoring the configuration.\n");
	if (demo_restore_config(demo, &demo->base))
		ret = -1;
	return ret;
}

/* The context's counters must account for every request the demo made. */
/*
 * One request through the ioctl at once (latency 0), its result in
 * @result; counted in demo->expect.
 */
static int demo_io(struct demo *demo, int op, void *buf, uint64_t off,
		   int64_t *result)
{
	struct aiodev_event ev;
	struct aiodev_req req;

	if (op == AIODEV_OP_READ)
		aiodev_prep_read(&req, buf, DEMO_IO_LEN, off, 0);
	else
		aiodev_prep_write(&req, buf, DEMO_IO_LEN, off, 0);
	demo_timing(&req, 0);
	if (demo_submit(demo, &req, 1) ||
	    demo_reap(demo, &ev, 1, DEMO_WAIT_NS))
		return -1;
	*result = ev.result;
	if (ev.result < 0)
		demo->expect.failed++;
	else
		demo->expect.completed_ok++;
	return 0;
}

/* Which of DEMO_NOPS NOPs fail under the 1 % rule, from seed @seed. */
static int demo_nops(struct demo *demo, uint64_t seed, bool *failed,
		     unsigned int *nr_failed)
{
	struct aiodev_config cfg = demo->base;
	struct aiodev_event *events;
	struct aiodev_req *reqs;
	unsigned int i;
	int ret = -1;

	/* Setting the seed restarts the generator: a run is replayed. */
	cfg.seed = seed;
	if (demo_set_config(demo, &cfg))
		return -1;
	reqs = calloc(DEMO_NOPS, sizeof(*reqs));
	events = calloc(DEMO_NOPS, sizeof(*events));
	if (!reqs || !events) {
		fail("out of memory");
		goto out;
	}
	for (i = 0; i < DEMO_NOPS; i++) {
		aiodev_prep_nop(&reqs[i], i);
		demo_timing(&reqs[i], 0);
	}
	if (demo_submit(demo, reqs, DEMO_NOPS) ||
	    demo_reap(demo, events, DEMO_NOPS, DEMO_WAIT_NS))
		goto out;
	*nr_failed = 0;
	memset(failed, 0, DEMO_NOPS * sizeof(*failed));
	for (i = 0; i < DEMO_NOPS; i++) {
		if (events[i].user_data >= DEMO_NOPS)
			goto out;
		if (events[i].result) {
			failed[events[i].user_data] = true;
			(*nr_failed)++;
		}
	}
	demo->expect.failed += *nr_failed;
	demo->expect.completed_ok += DEMO_NOPS - *nr_failed;
	ret = 0;
out:
	free(reqs);
	free(events);
	return ret;
}

static void demo_print_failed(const bool *failed)
{
	unsigned int i;

	printf("     ");
	for (i = 0; i < DEMO_NOPS; i++)
		if (failed[i])
			printf(" %u", i + 1);
	printf("\n");
}

static int demo_scenario(struct demo *demo)
{
	static const char *const text[] = {
		"--op read --range 32k:4k --short 512",
		"--op write --range 36k:4k --torn 1000:EIO",
		"--op nop --prob 1% --error EIO",
	};
	struct aiodev_rule rules[3] = {
		{ .ops = 1U << AIODEV_OP_READ, .offset = DEMO_SHORT_OFF,
		  .range_len = DEMO_IO_LEN, .result_kind = AIODEV_RESULT_SHORT,
		  .bytes = 512 },
		{ .ops = 1U << AIODEV_OP_WRITE, .offset = DEMO_TORN_OFF,
		  .range_len = DEMO_IO_LEN, .result_kind = AIODEV_RESULT_TORN,
		  .bytes = 1000, .error = EIO },
		{ .ops = 1U << AIODEV_OP_NOP, .flags = AIODEV_RULE_PROB,
		  .prob_ppm = AIODEV_PPM / 100, .result_kind = AIODEV_RESULT_ERROR,
		  .error = EIO },
	};
	static unsigned char buf[DEMO_IO_LEN], back[DEMO_IO_LEN];
	bool first[DEMO_NOPS], again[DEMO_NOPS];
	unsigned int nr_first = 0, nr_again = 0;
	char res[FMT_LEN];
	int64_t result;
	unsigned int i;
	int err, ret = -1;

	printf("\n[6/6] A seeded scenario: rules decide requests' fates\n");
	printf("    Three rules (`aiodev scenario load`, one per line):\n");
	for (i = 0; i < ARRAY_SIZE(text); i++)
		printf("      %s\n", text[i]);
	/* Known bytes in both ranges, to see which ones each request moves. */
	memset(buf, 's', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_SHORT_OFF, &result))
		return -1;
	memset(buf, 'o', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_TORN_OFF, &result))
		return -1;
	err = aiodev_rule_load(demo->fd, rules, ARRAY_SIZE(rules));
	if (err < 0) {
		report(-err, "%s: load rules", demo->path);
		return -1;
	}

	memset(buf, 'r', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_READ, buf, DEMO_SHORT_OFF, &result))
		goto out;
	printf("    A read of %u bytes in the first range: %s.\n", DEMO_IO_LEN,
	       fmt_result(res, result));
	demo_check(demo, result == 512 && all_bytes(buf, 512, 's') &&
		   all_bytes(buf + 512, DEMO_IO_LEN - 512, 'r'),
		   "a short read: 512 bytes came, the rest of the buffer is untouched");

	memset(buf, 'n', sizeof(buf));
	if (demo_io(demo, AIODEV_OP_WRITE, buf, DEMO_TORN_OFF, &result))
		goto out;
	printf("    A write of %u bytes in the second range: %s.\n", DEMO_IO_LEN,
	       fmt_result(res, result));
	if (aiodev_rule_clear(demo->fd))
		goto out;
	if (demo_io(demo, AIODEV_OP_READ, back, DEMO_TORN_OFF, &result))
		goto out;
	demo_check(demo, result == DEMO_IO_LEN && all_bytes(back, 1000, 'n') &&
		   all_bytes(back + 1000, DEMO_IO_LEN - 1000, 'o'),
		   "a torn write: it failed, yet its first 1000 bytes were stored");
	/* Only the NOP rule from here on. */
	err = aiodev_rule_load(demo->fd, &rules[2], 1);
	if (err < 0) {
		report(-err, "%s: load rules", demo->path);
		goto out;
	}

	printf("    %u NOPs with seed %d; these failed:\n", DEMO_NOPS, DEMO_SEED);
	if (demo_nops(demo, DEMO_SEED, first, &nr_first))
		goto out;
	demo_print_failed(first);
	printf("    Seed %d again, the same %u NOPs; these failed:\n", DEMO_SEED,
	       DEMO_NOPS);
	if (demo_nops(demo, DEMO_SEED, again, &nr_again))
		goto out;
	demo_print_failed(again);
	demo_check(demo, nr_first && nr_first < DEMO_NOPS / 20,
		   "%u of %u failed, about 1 %%", nr_first, DEMO_NOPS);
	demo_check(demo, !memcmp(first, again, sizeof(first)),
		   "the same seed failed the same requests: a run can be replayed");
	ret = 0;
out:
	printf("    Removing the rules and restoring the configuration.\n");
	err = aiodev_rule_clear(demo->fd);
	if (err) {
		report(-err, "%s: clear rules", demo->path);
		ret = -1;
	}
	if (demo_restore_config(demo, &demo->base))
		ret = -1;
	return ret;
}

static int demo_final_checks(struct demo *demo)
{
	const struct aiodev_counters *want = &demo->expect;
	const struct aiodev_counters *got;
	struct aiodev_stats stats;
	struct aiodev_event ev;
	int ret;

	printf("\nThis file's counters (AIODEV_IOC_GET_STATS):\n");
	ret = aiodev_get_stats(demo->fd, &stats);
	if (ret) {
		report(-ret, "%s: get stats", demo->path);
		return -1;
	}
	got = &stats.context;
	print_counters(got);
	demo_check(demo, got->submitted == want->submitted &&
		   got->completed_ok == want->completed_ok &&
		   got->timed_out == want->timed_out &&
		   got->cancelled == want->cancelled &&
		   got->failed == want->failed && got->in_flight == 0,
		   "they match: %" PRIu64 " submitted, %" PRIu64 " ok, %"
		   PRIu64 " timed out, %" PRIu64 " cancelled, %" PRIu64
		   " failed, none in flight",
		   (uint64_t)want->submitted, (uint64_t)want->completed_ok,
		   (uint64_t)want->timed_out, (uint64_t)want->cancelled,
		   (uint64_t)want->failed);

	ret = aiodev_getevents(demo->fd, 0, 1, &ev, 0);
	if (ret < 0) {
		report(-ret, "%s: get events", demo->path);
		return -1;
	}
	demo_check(demo, ret == 0, "no stray completion is left");
	return 0;
}

static bool faults_on(const struct aiodev_config *cfg)
{
	return cfg->fail_every_nth || cfg->fail_len;
}

/* Rules off, with the zero errnos and offset the device then insists on. */
static void faults_off(struct aiodev_config *cfg)
{
	cfg->fail_every_nth = 0;
	cfg->fail_nth_errno = 0;
	cfg->fail_offset = 0;
	cfg->fail_len = 0;
	cfg->fail_range_errno = 0;
}

static int cmd_demo(int argc, char **argv)
{
	static int (*const steps[])(struct demo *) = {
		demo_out_of_order,
		demo_timeout,
		demo_cancel,
		demo_data,
		demo_faults,
		demo_scenario,
		demo_final_checks,
	};
	static const uint64_t needed = AIODEV_FEAT_NOP | AIODEV_FEAT_FAULTS |
				       AIODEV_FEAT_CANCEL | AIODEV_FEAT_RULES;
	struct demo demo = { 0 };
	struct aiodev_config orig;
	struct device_arg dev;
	char size[FMT_LEN];
	bool stopped = false;
	size_t i;
	int err;

	err = parse_device_opts(argc, argv, "demo", demo_usage, &dev);
	if (err != OPTS_PARSED)
		return err;

	demo.path = dev.path;
	demo.fd = open_device(dev.path, O_RDWR, &demo.info);
	if (demo.fd < 0)
		return EXIT_FAILURE;
	if ((demo.info.features & needed) != needed) {
		fail("%s: the demo needs the nop, faults, cancel and rules features (have 0x%" PRIx64 ")",
		     dev.path, (uint64_t)demo.info.features);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	if (demo.info.size_bytes < DEMO_TORN_OFF + DEMO_IO_LEN) {
		fail("%s: the demo needs a device of at least %u bytes",
		     dev.path, DEMO_TORN_OFF + DEMO_IO_LEN);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	err = aiodev_rule_list(demo.fd, NULL, 0);
	if (err) {
		if (err < 0)
			report(-err, "%s: list rules", dev.path);
		else
			fail("%s: the device has %d rules, the demo needs none (aiodev rule list, aiodev rule clear)",
			     dev.path, err);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}
	err = aiodev_get_config(demo.fd, &orig);
	if (err) {
		report(-err, "%s: get config", dev.path);
		close_device(demo.fd, dev.path);
		return EXIT_FAILURE;
	}

	printf("aiodev demo on %s: ABI %u, %s, queue depth %u\n", dev.path,
	       demo.info.abi_version, fmt_bytes(size, demo.info.size_bytes),
	       demo.info.queue_depth);
	printf("Every request sets its own latency and no deadline, so the device's\n"
	       "latency, jitter and timeout settings do not matter.\n");
	demo.base = orig;
	if (faults_on(&orig)) {
		printf("The device has a fault plan: it is off during the demo\n"
		       "and restored afterwards.\n");
		faults_off(&demo.base);
		stopped = demo_set_config(&demo, &demo.base) != 0;
	}

	for (i = 0; i < ARRAY_SIZE(steps) && !stopped; i++)
		stopped = steps[i](&demo) != 0;

	if (faults_on(&orig)) {
		printf("\nRestoring the device's fault plan.\n");
		if (demo_restore_config(&demo, &orig))
			stopped = true;
	}
	if (close_device(demo.fd, dev.path) != EXIT_SUCCESS)
		stopped = true;

	if (stopped) {
		fail("demo: stopped early, %u of %u checks failed so far",
		     demo.failed_checks, demo.checks);
		return EXIT_FAILURE;
	}
	if (demo.failed_checks) {
		fail("demo: %u of %u checks failed", demo.failed_checks,
		     demo.checks);
		return EXIT_FAILURE;
	}
	printf("\ndemo: all %u checks passed\n", demo.checks);
	return EXIT_SUCCESS;
}

/* bench */

#define BENCH_PROGRESS_NS	NSEC_PER_SEC
#define BENCH_HIST_WIDTH	40

struct bench {
	uint64_t requests;
	unsigned int depth;
	unsigned int batch;
	uint32_t bs;
	enum aiodev_op op;
	bool fixed_latency;
	uint64_t latency_ns;
};

struct bench_results {
	uint64_t *latencies;	/* one per completion, in ns */
	uint64_t completed;
	uint64_t ok;
	uint64_t timed_out;
	uint64_t failed;
	int64_t first_error;	/* the first result that was not ok */
};

static const char *op_name(enum aiodev_op op)
{
	switch (op) {
	case AIODEV_OP_READ:
		return "read";
	case AIODEV_OP_WRITE:
		return "write";
	default:
		return "nop";
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v, @permille in thousandths. */
static uint64_t percentile(const uint64_t *v, uint64_t n, unsigned int permille)
{
	uint64_t rank = (n * permille + 999) / 1000;

	return v[rank ? rank - 1 : 0];
}

/* Lower bound of histogram bucket @i: 1, 2, 5, 10, 20, 50, ... ns. */
static uint64_t bucket_floor(unsigned int i)
{
	static const uint64_t steps[] = { 1, 2, 5 };
	uint64_t floor = steps[i % 3];
	unsigned int decade;

	for (decade = 0; decade < i / 3; decade++)
		floor *= 10;
	return floor;
}

/* Enough 1-2-5 buckets to hold any latency up to AIODEV_MAX_NSEC. */
#define BENCH_BUCKETS		42

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int i = 0;

	while (i + 1 < BENCH_BUCKETS && ns >= bucket_floor(i + 1))
		i++;
	return i;
}

static void print_histogram(const uint64_t *sorted, uint64_t n)
{
	uint64_t counts[BENCH_BUCKETS] = { 0 };
	unsigned int i, lo, hi;
	uint64_t peak = 0, j;

	for (j = 0; j < n; j++)
		counts[bucket_of(sorted[j])]++;
	lo = bucket_of(sorted[0]);
	hi = bucket_of(sorted[n - 1]);
	for (i = lo; i <= hi; i++)
		if (counts[i] > peak)
			peak = counts[i];

	printf("\n  latency histogram\n");
	for (i = lo; i <= hi; i++) {
		char from[FMT_LEN], to[FMT_LEN], bar[BENCH_HIST_WIDTH + 1];
		/* Round up: a bucket with any completion gets a mark. */
		size_t len = (size_t)((counts[i] * BENCH_HIST_WIDTH +
				       peak - 1) / peak);

		memset(bar, '#', len);
		bar[len] = '\0';
		printf("  %8s .. %-8s |%-*s| %10" PRIu64 " %5.1f%%\n",
		       fmt_ns(from, bucket_floor(i)),
		       fmt_ns(to, bucket_floor(i + 1)), BENCH_HIST_WIDTH, bar,
		       counts[i], 100.0 * (double)counts[i] / (double)n);
	}
}

static void bench_report(const struct bench *b, struct bench_results *r,
			 uint64_t elapsed_ns)
{
	static const struct {
		const char *name;
		unsigned int permille;
	} points[] = {
		{ "p50", 500 }, { "p90", 900 }, { "p99", 990 },
		{ "p99.9", 999 },
	};
	double secs = (double)elapsed_ns / NSEC_PER_SEC;
	char buf[FMT_LEN];
	size_t i;

	printf("  completed    %" PRIu64 " in %s: %.0f IOPS", r->completed,
	       fmt_ns(buf, elapsed_ns), (double)r->completed / secs);
	if (b->op != AIODEV_OP_NOP)
		printf(", %.1f MiB/s", (double)r->ok * b->bs / secs /
		       (1 << 20));
	printf("\n  results      %" PRIu64 " ok, %" PRIu64 " timed out, %"
	       PRIu64 " failed\n", r->ok, r->timed_out, r->failed);

	qsort(r->latencies, r->completed, sizeof(*r->latencies), cmp_u64);
	printf("\n  latency %9s", "min");
	for (i = 0; i < ARRAY_SIZE(points); i++)
		printf(" %9s", points[i].name);
	printf(" %9s\n          %9s", "max", fmt_ns(buf, r->latencies[0]));
	for (i = 0; i < ARRAY_SIZE(points); i++)
		printf(" %9s", fmt_ns(buf, percentile(r->latencies,
						      r->completed,
						      points[i].permille)));
	printf(" %9s\n", fmt_ns(buf, r->latencies[r->completed - 1]));
	print_histogram(r->latencies, r->completed);
}

static void bench_account(const struct bench *b, struct bench_results *r,
			  const struct aiodev_event *ev)
{
	int64_t expected = b->op == AIODEV_OP_NOP ? 0 : (int64_t)b->bs;

	r->latencies[r->completed++] = event_latency(ev);
	if (ev->result == expected) {
		r->ok++;
		return;
	}
	if (ev->result == -ETIMEDOUT)
		r->timed_out++;
	else
		r->failed++;
	if (r->timed_out + r->failed == 1)
		r->first_error = ev->result;
}

static void bench_progress(const struct bench *b, uint64_t done,
			   uint64_t done_before, uint64_t interval_ns,
			   unsigned int in_flight)
{
	double iops = (double)(done - done_before) * NSEC_PER_SEC /
		      (double)interval_ns;

	fprintf(stderr, "bench: %" PRIu64 "/%" PRIu64 " done, %.0f IOPS, %u in flight\n",
		done, b->requests, iops, in_flight);
}

/* The requests in flight: slot i owns buffer i and is user_data i. */
struct bench_queue {
	int fd;
	const char *path;
	unsigned char *bufs;
	struct aiodev_req *reqs;	/* one batch */
	struct aiodev_event *events;	/* b->depth of them */
	unsigned int *free_slots;
	unsigned int nr_free;
	uint64_t blocks;		/* b->bs blocks on the device */
	uint64_t submitted;
};

/*
 * Fill the queue up to b->depth, at most b->batch requests per call. It
 * never holds more than the context's queue_depth, so submit never waits
 * for a slot that only our own reaping could free.
 */
static int bench_submit(struct bench_queue *q, const struct bench *b)
{
	while (q->nr_free && q->submitted < b->requests) {
		unsigned int n = b->batch, i;
		int err;

		if (n > q->nr_free)
			n = q->nr_free;
		if (n > b->requests - q->submitted)
			n = (unsigned int)(b->requests - q->submitted);
		for (i = 0; i < n; i++) {
			struct aiodev_req *req = &q->reqs[i];
			unsigned int slot = q->free_slots[--q->nr_free];

			if (b->op == AIODEV_OP_NOP) {
				aiodev_prep_nop(req, slot);
			} else {
				unsigned char *buf = q->bufs +
						     (size_t)slot * b->bs;
				uint64_t offset = (q->submitted + i) %
						  q->blocks * b->bs;

				if (b->op == AIODEV_OP_READ)
					aiodev_prep_read(req, buf, b->bs,
							 offset, slot);
				else
					aiodev_prep_write(req, buf, b->bs,
							  offset, slot);
			}
			if (b->fixed_latency)
				aiodev_req_set_latency(req, b->latency_ns);
		}
		err = submit_all(q->fd, q->reqs, n);
		if (err) {
			report(-err, "%s: submit", q->path);
			return -1;
		}
		q->submitted += n;
	}
	return 0;
}

/* Reap at least a batch, or what has completed by @timeout_ns. */
static int bench_reap(struct bench_queue *q, const struct bench *b,
		      struct bench_results *r, uint64_t timeout_ns)
{
	unsigned int in_flight = b->depth - q->nr_free;
	int got, i;

	got = aiodev_getevents(q->fd, in_flight < b->batch ?
			       in_flight : b->batch, b->depth, q->events,
			       (int64_t)timeout_ns);
	if (got == -EINTR)
		return 0;
	if (got < 0) {
		report(-got, "%s: get events", q->path);
		return -1;
	}
	for (i = 0; i < got; i++) {
		const struct aiodev_event *ev = &q->events[i];

		if (ev->user_data >= b->depth || q->nr_free >= b->depth ||
		    ev->complete_ns < ev->submit_ns) {
			fail("%s: bogus event: user_data %" PRIu64
			     ", submit_ns %" PRIu64 ", complete_ns %" PRIu64,
			     q->path, (uint64_t)ev->user_data,
			     (uint64_t)ev->submit_ns,
			     (uint64_t)ev->complete_ns);
			return -1;
		}
		q->free_slots[q->nr_free++] = (unsigned int)ev->user_data;
		bench_account(b, r, ev);
	}
	return 0;
}

static int bench_run(int fd, const char *path, const struct bench *b,
		     uint64_t size_bytes, struct bench_results *r)
{
	struct bench_queue q = {
		.fd = fd,
		.path = path,
		.nr_free = b->depth,
		.blocks = size_bytes / b->bs,
	};
	uint64_t start, last_ns, last_done = 0;
	unsigned int i;
	int ret = -1, err;

	q.reqs = calloc(b->batch, sizeof(*q.reqs));
	q.events = calloc(b->depth, sizeof(*q.events));
	q.free_slots = calloc(b->depth, sizeof(*q.free_slots));
	if (!q.reqs || !q.events || !q.free_slots) {
		report(ENOMEM, "bench: allocate the queue");
		goto out;
	}
	if (b->op != AIODEV_OP_NOP) {
		err = posix_memalign((void **)&q.bufs, 4096,
				     (size_t)b->depth * b->bs);
		if (err) {
			report(err, "bench: allocate %u buffers of %u bytes",
			       b->depth, b->bs);
			goto out;
		}
		fill_pattern(q.bufs, (size_t)b->depth * b->bs, 0);
	}
	for (i = 0; i < b->depth; i++)
		q.free_slots[i] = i;

	start = now_ns();
	last_ns = start;
	while (r->completed < b->requests) {
		uint64_t now, next = last_ns + BENCH_PROGRESS_NS;

		if (bench_submit(&q, b))
			goto out;
		now = now_ns();
		if (now >= next) {
			bench_progress(b, r->completed, last_done,
				       now - last_ns, b->depth - q.nr_free);
			last_ns = now;
			last_done = r->completed;
			next = now + BENCH_PROGRESS_NS;
		}
		/* Wake up for the next progress report at the latest. */
		if (bench_reap(&q, b, r, next - now))
			goto out;
	}
	bench_report(b, r, now_ns() - start);
	ret = 0;
out:
	free(q.bufs);
	free(q.free_slots);
	free(q.events);
	free(q.reqs);
	return ret;
}

static int cmd_bench(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "requests", required_argument, NULL, 'n' },
		{ "depth", required_argument, NULL, 'q' },
		{ "batch", required_argument, NULL, 'b' },
		{ "bs", required_argument, NULL, 's' },
		{ "rw", required_argument, NULL, 'r' },
		{ "latency", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench b = {
		.requests = 10000,
		.depth = 32,
		.bs = 4096,
		.op = AIODEV_OP_READ,
	};
	struct bench_results r = { 0 };
	bool batch_given = false, bs_given = false;
	struct aiodev_info info;
	struct device_arg dev;
	char buf[FMT_LEN];
	uint64_t val;
	int opt, fd, flags, ret;

	device_arg_init(&dev);
	while ((opt = getopt_long(argc, argv, "d:hn:q:b:s:r:l:", opts,
				  NULL)) != -1) {
		bool ok = true;

		switch (opt) {
		case 'd':
			ok = device_arg_parse(&dev, optarg);
			break;
		case 'h':
			fputs(bench_usage, stdout);
			return EXIT_SUCCESS;
		case 'n':
			/* Bounded for the percentile math and the malloc. */
			ok = parse_u64(optarg, &b.requests) && b.requests &&
			     b.requests <= UINT32_MAX &&
			     b.requests <= SIZE_MAX / sizeof(uint64_t);
			break;
		case 'q':
			ok = parse_u64(optarg, &val) && val && val <= INT_MAX;
			b.depth = (unsigned int)val;
			break;
		case 'b':
			ok = parse_u64(optarg, &val) && val && val <= INT_MAX;
			b.batch = (unsigned int)val;
			batch_given = true;
			break;
		case 's':
			ok = parse_size(optarg, &val) && val &&
			     val <= AIODEV_MAX_IO_BYTES;
			b.bs = (uint32_t)val;
			bs_given = true;
			break;
		case 'r':
			if (!strcmp(optarg, "read"))
				b.op = AIODEV_OP_READ;
			else if (!strcmp(optarg, "write"))
				b.op = AIODEV_OP_WRITE;
			else if (!strcmp(optarg, "nop"))
				b.op = AIODEV_OP_NOP;
			else
				ok = false;
			break;
		case 'l':
			b.fixed_latency = true;
			ok = parse_time(optarg, &b.latency_ns);
			break;
		default:	/* getopt_long() said what is wrong */
			return usage_hint("bench");
		}
		if (!ok)
			return bad_value("bench", opts, opt, optarg);
	}
	if (optind < argc)
		return usage_error("bench", "unexpected argument '%s'",
				   argv[optind]);
	if (!batch_given)
		b.batch = b.depth < 8 ? b.depth : 8;
	if (b.batch > b.depth)
		return usage_error("bench", "batch %u exceeds depth %u",
				   b.batch, b.depth);
	if (bs_given && b.op == AIODEV_OP_NOP)
		return usage_error("bench", "--bs is meaningless for nop");

	flags = b.op == AIODEV_OP_WRITE ? O_WRONLY : O_RDONLY;
	fd = open_device(dev.path, flags, &info);
	if (fd < 0)
		return EXIT_FAILURE;
	ret = EXIT_USAGE;
	if (b.depth > info.queue_depth) {
		usage_error("bench", "depth %u exceeds the queue depth %u",
			    b.depth, info.queue_depth);
		goto out;
	}
	if (b.op != AIODEV_OP_NOP &&
	    (b.bs > info.max_io_bytes || b.bs > info.size_bytes)) {
		usage_error("bench", "block size %u exceeds the device's limit",
			    b.bs);
		goto out;
	}

	ret = EXIT_FAILURE;
	r.latencies = malloc(b.requests * sizeof(*r.latencies));
	if (!r.latencies) {
		report(ENOMEM, "bench: allocate %" PRIu64 " latencies",
		       b.requests);
		goto out;
	}
	printf("bench: %s, %" PRIu64 " %s requests", dev.path, b.requests,
	       op_name(b.op));
	if (b.op != AIODEV_OP_NOP)
		printf(" of %u bytes", b.bs);
	printf(", depth %u, batch %u, latency %s\n", b.depth, b.batch,
	       b.fixed_latency ? fmt_ns(buf, b.latency_ns) :
	       "device default");

	if (bench_run(fd, dev.path, &b, info.size_bytes, &r))
		goto out;
	if (r.ok != r.completed) {
		char res[FMT_LEN];

		fail("bench: %" PRIu64 " of %" PRIu64 " requests failed, the first with %s",
		     r.completed - r.ok, r.completed,
		     fmt_result(res, r.first_error));
		goto out;
	}
	ret = EXIT_SUCCESS;
out:
	free(r.latencies);
	if (close_device(fd, dev.path) != EXIT_SUCCESS && ret == EXIT_SUCCESS)
		ret = EXIT_FAILURE;
	return ret;
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{ "info", cmd_info, info_usage },
	{ "config", cmd_config, config_usage },
	{ "stats", cmd_stats, stats_usage },
	{ "demo", cmd_demo, demo_usage },
	{ "bench", cmd_bench, bench_usage },
	{ "rule", cmd_rule, rule_usage },
	{ "scenario", cmd_scenario, scenario_usage },
	{ "latency", cmd_latency, latency_usage },
	{ "held", cmd_held, held_usage },
	{ "release", cmd_release, release_usage },
};

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static char prog[32];
	const struct command *cmd;

	/* Keep the narrative in order with stderr when piped to a log. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc < 2) {
		fputs(main_usage, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "-h")) {
		if (argc == 2) {
			fputs(main_usage, stdout);
			return EXIT_SUCCESS;
		}
		if (argc > 3)
			return usage_error(NULL, "unexpected argument '%s'",
					   argv[3]);
		cmd = find_command(argv[2]);
		if (!cmd)
			return usage_error(NULL, "no help for '%s'", argv[2]);
		fputs(cmd->usage, stdout);
		return EXIT_SUCCESS;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[1]);

	/* getopt_long() prefixes its messages with argv[0]. */
	snprintf(prog, sizeof(prog), "aiodev %s", cmd->name);
	argv[1] = prog;
	return cmd->run(argc - 1, argv + 1);
}
