/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The aiodev CLI's commands, each in its own file, dispatched by aiodev.c.
 */
#ifndef AIODEV_COMMANDS_H
#define AIODEV_COMMANDS_H

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

#endif /* AIODEV_COMMANDS_H */
