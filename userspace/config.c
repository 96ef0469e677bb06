// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev info, config and stats: the device's features and limits, its
 * configuration (latency, jitter, timeout, fault plan, seed), its counters.
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

/*
 * `config --reset` goes back to the module's load-time defaults, which its
 * parameters show; these are the documented values of those parameters.
 */
#define MODULE_PARAMS		"/sys/module/aiodev/parameters/"
#define DEFAULT_LATENCY_NS	(10 * NSEC_PER_USEC)	/* completion_nsec */
#define DEFAULT_TIMEOUT_NS	0ULL			/* timeout_nsec */

const char info_usage[] =
"usage: aiodev info [-d N|PATH]\n"
"\n"
"Show the device's ABI version, features, size and limits.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

const char config_usage[] =
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

const char stats_usage[] =
"usage: aiodev stats [-d N|PATH]\n"
"\n"
"Show the device's request counters since the module was loaded.\n"
"\n"
"  -d, --device N|PATH   /dev/aiodevN or a device node (default 0)\n"
"  -h, --help            show this help\n";

int cmd_info(int argc, char **argv)
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

int cmd_config(int argc, char **argv)
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

int cmd_stats(int argc, char **argv)
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
