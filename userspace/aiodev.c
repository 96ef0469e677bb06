// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev - inspect, configure, demonstrate and benchmark /dev/aiodevN:
 * main() and the table of commands, each in its own file (commands.h).
 *
 * Exit status: 0 success, 1 runtime failure or unexpected result, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"

/* Messages "aiodev: ...", integers in decimal or 0x hex (aiodev(1)). */
const struct cli_prog cli_prog = {
	.name = "aiodev",
	.help = "aiodev help",
	.hex = true,
};

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
