// SPDX-License-Identifier: GPL-2.0
/*
 * sysfs view of each device, in /sys/class/misc/aiodevN/: the configuration
 * (read-write, the same values as AIODEV_IOC_GET/SET_CONFIG), the rules'
 * counters (rules, read-only) and, in stats/, the device's counters
 * (read-only).
 */
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>

#include "aiodev.h"

static struct aiodev_device *aiodev_from_dev(struct device *dev)
{
	/* misc_register() makes the miscdevice the class device's drvdata. */
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct aiodev_device, misc);
}

/* A configuration field: where it is in struct aiodev_config, and its width. */
struct aiodev_config_attr {
	struct device_attribute attr;
	size_t offset;
	bool is_u64;
	bool is_signed;
};

#define to_config_attr(a) container_of(a, struct aiodev_config_attr, attr)

static ssize_t aiodev_config_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	const struct aiodev_config_attr *ca = to_config_attr(attr);
	struct aiodev_config cfg;
	void *field = (void *)&cfg + ca->offset;

	aiodev_config_get(aiodev_from_dev(dev), &cfg);
	if (ca->is_u64)
		return sysfs_emit(buf, "%llu\n", *(u64 *)field);
	if (ca->is_signed)
		return sysfs_emit(buf, "%d\n", *(s32 *)field);
	return sysfs_emit(buf, "%u\n", *(u32 *)field);
}

static ssize_t aiodev_config_store(struct device *dev,
				   struct device_attribute *attr,
				   const char *buf, size_t count)
{
	const struct aiodev_config_attr *ca = to_config_attr(attr);
	struct aiodev_device *adev = aiodev_from_dev(dev);
	struct aiodev_config cfg;
	void *field = (void *)&cfg + ca->offset;
	int ret;

	/* Read-modify-write of the whole config, one writer at a time. */
	mutex_lock(&adev->config_mutex);
	aiodev_config_get(adev, &cfg);
	if (ca->is_u64)
		ret = kstrtou64(buf, 0, field);
	else if (ca->is_signed)
		ret = kstrtos32(buf, 0, field);
	else
		ret = kstrtou32(buf, 0, field);
	if (!ret)
		ret = aiodev_config_check(adev, &cfg);
	if (!ret)
		aiodev_config_set(adev, &cfg);
	mutex_unlock(&adev->config_mutex);
	return ret ?: count;
}

#define AIODEV_CONFIG_ATTR(_field, _u64, _signed)			\
	struct aiodev_config_attr dev_attr_##_field = {			\
		.attr = {						\
			.attr = { .name = #_field, .mode = 0644 },	\
			.show = aiodev_config_show,			\
			.store = aiodev_config_store,			\
		},							\
		.offset = offsetof(struct aiodev_config, _field),	\
		.is_u64 = _u64,						\
		.is_signed = _signed,					\
	}

static AIODEV_CONFIG_ATTR(latency_nsec, true, false);
static AIODEV_CONFIG_ATTR(jitter_nsec, true, false);
static AIODEV_CONFIG_ATTR(timeout_nsec, true, false);
static AIODEV_CONFIG_ATTR(fail_every_nth, false, false);
static AIODEV_CONFIG_ATTR(fail_nth_errno, false, true);
static AIODEV_CONFIG_ATTR(fail_offset, true, false);
static AIODEV_CONFIG_ATTR(fail_len, true, false);
static AIODEV_CONFIG_ATTR(fail_range_errno, false, true);
static AIODEV_CONFIG_ATTR(seed, true, false);

/* One line per rule, in order: its id, then how often it matched, applied. */
static ssize_t rules_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct aiodev_rule *rules;
	unsigned int i, nr;
	ssize_t len = 0;

	rules = kcalloc(AIODEV_MAX_RULES, sizeof(*rules), GFP_KERNEL);
	if (!rules)
		return -ENOMEM;
	nr = aiodev_rule_list(aiodev_from_dev(dev), rules, AIODEV_MAX_RULES);
	for (i = 0; i < nr; i++)
		len += sysfs_emit_at(buf, len, "%u %llu %llu\n", rules[i].id,
				     rules[i].matched, rules[i].applied);
	kfree(rules);
	return len;
}
static DEVICE_ATTR_RO(rules);

static struct attribute *aiodev_config_attrs[] = {
	&dev_attr_latency_nsec.attr.attr,
	&dev_attr_jitter_nsec.attr.attr,
	&dev_attr_timeout_nsec.attr.attr,
	&dev_attr_fail_every_nth.attr.attr,
	&dev_attr_fail_nth_errno.attr.attr,
	&dev_attr_fail_offset.attr.attr,
	&dev_attr_fail_len.attr.attr,
	&dev_attr_fail_range_errno.attr.attr,
	&dev_attr_seed.attr.attr,
	&dev_attr_rules.attr,
	NULL,
};

static const struct attribute_group aiodev_config_group = {
	.attrs = aiodev_config_attrs,
};

/* A counter: where it is in struct aiodev_counters. */
struct aiodev_stat_attr {
	struct device_attribute attr;
	size_t offset;
};

static ssize_t aiodev_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	const struct aiodev_stat_attr *sa =
		container_of(attr, struct aiodev_stat_attr, attr);
	struct aiodev_counters c;

	aiodev_device_stats(aiodev_from_dev(dev), &c);
	return sysfs_emit(buf, "%llu\n", *(u64 *)((void *)&c + sa->offset));
}

#define AIODEV_STAT_ATTR(_field)					\
	struct aiodev_stat_attr dev_attr_##_field = {			\
		.attr = {						\
			.attr = { .name = #_field, .mode = 0444 },	\
			.show = aiodev_stat_show,			\
		},							\
		.offset = offsetof(struct aiodev_counters, _field),	\
	}

static AIODEV_STAT_ATTR(submitted);
static AIODEV_STAT_ATTR(completed_ok);
static AIODEV_STAT_ATTR(timed_out);
static AIODEV_STAT_ATTR(cancelled);
static AIODEV_STAT_ATTR(failed);
static AIODEV_STAT_ATTR(in_flight);
static AIODEV_STAT_ATTR(peak_in_flight);

static struct attribute *aiodev_stat_attrs[] = {
	&dev_attr_submitted.attr.attr,
	&dev_attr_completed_ok.attr.attr,
	&dev_attr_timed_out.attr.attr,
	&dev_attr_cancelled.attr.attr,
	&dev_attr_failed.attr.attr,
	&dev_attr_in_flight.attr.attr,
	&dev_attr_peak_in_flight.attr.attr,
	NULL,
};

static const struct attribute_group aiodev_stats_group = {
	.name = "stats",
	.attrs = aiodev_stat_attrs,
};

const struct attribute_group *aiodev_attr_groups[] = {
	&aiodev_config_group,
	&aiodev_stats_group,
	NULL,
};
