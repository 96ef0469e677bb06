// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libaiodev - thin wrappers around the aiodev ioctl ABI. See libaiodev.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "libaiodev.h"

/* Turn a -1/errno system call result into libaio's -errno convention. */
static int result_of(int ret)
{
	return ret < 0 ? -errno : ret;
}

int aiodev_open(int index, int flags)
{
	char path[32];

	if (index < 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/dev/aiodev%d", index);
	return aiodev_open_path(path, flags);
}

int aiodev_open_path(const char *path, int flags)
{
	return result_of(open(path, flags | O_CLOEXEC));
}

int aiodev_close(int fd)
{
	return result_of(close(fd));
}

int aiodev_get_info(int fd, struct aiodev_info *info)
{
	return result_of(ioctl(fd, AIODEV_IOC_GET_INFO, info));
}

int aiodev_submit(int fd, struct aiodev_req *reqs, unsigned int nr)
{
	struct aiodev_submit submit = {
		.reqs = (uint64_t)(uintptr_t)reqs,
		.nr = nr,
	};

	/* The accepted count must fit the int that ioctl(2) returns. */
	if (nr > INT_MAX)
		return -EINVAL;
	return result_of(ioctl(fd, AIODEV_IOC_SUBMIT, &submit));
}

int aiodev_getevents(int fd, unsigned int min_nr, unsigned int max_nr,
		     struct aiodev_event *events, int64_t timeout_ns)
{
	struct aiodev_getevents getevents = {
		.events = (uint64_t)(uintptr_t)events,
		.min_nr = min_nr,
		.max_nr = max_nr,
		.timeout_nsec = timeout_ns,
	};

	if (max_nr > INT_MAX)
		return -EINVAL;
	return result_of(ioctl(fd, AIODEV_IOC_GETEVENTS, &getevents));
}

int aiodev_cancel(int fd, uint64_t id)
{
	struct aiodev_cancel cancel = { .id = id };

	return result_of(ioctl(fd, AIODEV_IOC_CANCEL, &cancel));
}

int aiodev_get_config(int fd, struct aiodev_config *cfg)
{
	return result_of(ioctl(fd, AIODEV_IOC_GET_CONFIG, cfg));
}

int aiodev_set_config(int fd, const struct aiodev_config *cfg)
{
	return result_of(ioctl(fd, AIODEV_IOC_SET_CONFIG, cfg));
}

int aiodev_get_stats(int fd, struct aiodev_stats *stats)
{
	return result_of(ioctl(fd, AIODEV_IOC_GET_STATS, stats));
}

int aiodev_rule_add(int fd, struct aiodev_rule *rule)
{
	int ret = result_of(ioctl(fd, AIODEV_IOC_RULE_ADD, rule));

	return ret ? ret : (int)rule->id;
}

int aiodev_rule_load(int fd, const struct aiodev_rule *rules, unsigned int nr)
{
	struct aiodev_rule_list list = {
		.rules = (uint64_t)(uintptr_t)rules,
		.nr = nr,
	};

	return result_of(ioctl(fd, AIODEV_IOC_RULE_LOAD, &list));
}

int aiodev_rule_del(int fd, uint32_t id)
{
	return result_of(ioctl(fd, AIODEV_IOC_RULE_DEL, &id));
}

int aiodev_rule_clear(int fd)
{
	return result_of(ioctl(fd, AIODEV_IOC_RULE_CLEAR));
}

int aiodev_rule_list(int fd, struct aiodev_rule *rules, unsigned int nr)
{
	struct aiodev_rule_list list = {
		.rules = (uint64_t)(uintptr_t)rules,
		.nr = nr,
	};

	return result_of(ioctl(fd, AIODEV_IOC_RULE_LIST, &list));
}

int aiodev_dist_set(int fd, const char *name,
		    const struct aiodev_dist_bucket *buckets, unsigned int nr)
{
	struct aiodev_dist dist = {
		.buckets = (uint64_t)(uintptr_t)buckets,
		.nr_buckets = nr,
	};

	/* The kernel wants the name NUL-padded, and says if it is too long. */
	if (strlen(name) >= sizeof(dist.name))
		return -EINVAL;
	strncpy(dist.name, name, sizeof(dist.name));
	return result_of(ioctl(fd, AIODEV_IOC_DIST_SET, &dist));
}

int aiodev_held_list(int fd, struct aiodev_held *held, unsigned int nr)
{
	struct aiodev_held_list list = {
		.held = (uint64_t)(uintptr_t)held,
		.nr = nr,
	};

	return result_of(ioctl(fd, AIODEV_IOC_HELD_LIST, &list));
}

int aiodev_held_wait(int fd, unsigned int min_nr, int64_t timeout_ns)
{
	struct aiodev_held_wait wait = {
		.min_nr = min_nr,
		.timeout_nsec = timeout_ns,
	};

	return result_of(ioctl(fd, AIODEV_IOC_HELD_WAIT, &wait));
}

int aiodev_release(int fd, const struct aiodev_release *rel, unsigned int nr)
{
	struct aiodev_release_list list = {
		.releases = (uint64_t)(uintptr_t)rel,
		.nr = nr,
	};

	return result_of(ioctl(fd, AIODEV_IOC_RELEASE, &list));
}

int aiodev_release_all(int fd)
{
	struct aiodev_release_list list = { .flags = AIODEV_RELEASE_ALL };

	return result_of(ioctl(fd, AIODEV_IOC_RELEASE, &list));
}
