// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev: a character device that completes asynchronous I/O requests after
 * a programmable latency, for testing the event loops that wait for them.
 *
 * This file: module parameters, the /dev/aiodevN misc devices, and the file
 * operations that turn ioctls into calls of the request engine (engine.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "aiodev.h"

static unsigned int nr_devices = 1;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of /dev/aiodevN devices, 1 to 16 (default: 1)");

static unsigned int size_mb = 64;
module_param(size_mb, uint, 0444);
MODULE_PARM_DESC(size_mb, "Capacity of each device's RAM store in MiB, 1 to 65536 (default: 64)");

static unsigned long completion_nsec = 10000;
module_param(completion_nsec, ulong, 0444);
MODULE_PARM_DESC(completion_nsec, "Initial default request latency in ns (default: 10000)");

static unsigned long timeout_nsec;
module_param(timeout_nsec, ulong, 0444);
MODULE_PARM_DESC(timeout_nsec, "Initial default request deadline in ns, 0 for none (default: 0)");

unsigned int aiodev_queue_depth = 1024;
module_param_named(queue_depth, aiodev_queue_depth, uint, 0444);
MODULE_PARM_DESC(queue_depth, "Requests an open file may hold unreaped, 1 to 65536 (default: 1024)");

unsigned int aiodev_max_requests = 262144;
module_param_named(max_requests, aiodev_max_requests, uint, 0444);
MODULE_PARM_DESC(max_requests, "Requests in flight on all devices together, 1 to 16777216 (default: 262144)");

static unsigned int max_pinned_mb;
module_param(max_pinned_mb, uint, 0444);
MODULE_PARM_DESC(max_pinned_mb, "User memory in MiB that requests in flight may pin, all devices together; 0 for 1/16 of RAM (default: 0)");
unsigned long aiodev_max_pinned_pages;

static struct aiodev_device *aiodev_devices;
/*
 * Set once every device is registered. A node is visible from its
 * misc_register() on, and a failing init frees what an open file would
 * point to: until then, open fails.
 */
static bool aiodev_ready;

static struct aiodev_device *aiodev_from_misc(struct file *file)
{
	return container_of(file->private_data, struct aiodev_device, misc);
}

static int aiodev_open(struct inode *inode, struct file *file)
{
	/* misc_open() left our miscdevice in private_data. */
	struct aiodev_device *dev = aiodev_from_misc(file);
	struct aiodev_context *ctx;

	/* Pairs with the release at the end of aiodev_init(). */
	if (!smp_load_acquire(&aiodev_ready))
		return -ENODEV;
	ctx = aiodev_context_create(dev, file->f_mode & FMODE_READ,
				    file->f_mode & FMODE_WRITE);
	if (!ctx)
		return -ENOMEM;
	file->private_data = ctx;
	/* Like a block device: io_uring may issue inline, O_DIRECT is fine. */
	file->f_mode |= FMODE_NOWAIT | FMODE_CAN_ODIRECT;
	return 0;
}

static int aiodev_file_release(struct inode *inode, struct file *file)
{
	aiodev_context_destroy(file->private_data);
	return 0;
}

static __poll_t aiodev_poll(struct file *file, poll_table *wait)
{
	struct aiodev_context *ctx = file->private_data;

	poll_wait(file, &ctx->event_wq, wait);
	poll_wait(file, &ctx->slot_wq, wait);
	poll_wait(file, &ctx->dev->held_wq, wait);
	return aiodev_context_poll(ctx);
}

/*
 * read(), write(), libaio and io_uring: the same requests as the ioctl, with
 * the device's latency, deadline and fault plan, and block-device limits:
 * a read at or past the end returns 0, a write there -ENOSPC, and a
 * transfer crossing the end (or longer than one request) is short.
 */
static ssize_t aiodev_rw_iter(struct kiocb *iocb, struct iov_iter *iter,
			      enum aiodev_op op)
{
	struct aiodev_context *ctx = iocb->ki_filp->private_data;
	u64 size = ctx->dev->store.size;
	loff_t pos = iocb->ki_pos;

	if (pos < 0)
		return -EINVAL;
	if (pos >= size)
		return op == AIODEV_OP_READ ? 0 : -ENOSPC;
	iov_iter_truncate(iter, min_t(u64, size - pos, AIODEV_MAX_IO_BYTES));
	if (!iov_iter_count(iter))
		return 0;
	return aiodev_submit_kiocb(ctx, iocb, iter, op);
}

static ssize_t aiodev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	return aiodev_rw_iter(iocb, to, AIODEV_OP_READ);
}

static ssize_t aiodev_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return aiodev_rw_iter(iocb, from, AIODEV_OP_WRITE);
}

static loff_t aiodev_llseek(struct file *file, loff_t offset, int whence)
{
	struct aiodev_context *ctx = file->private_data;

	return fixed_size_llseek(file, offset, whence, ctx->dev->store.size);
}

static long aiodev_ioctl_info(struct aiodev_context *ctx, void __user *arg)
{
	struct aiodev_device *dev = ctx->dev;
	struct aiodev_info info = {
		.abi_version = AIODEV_ABI_VERSION,
		.index = dev->index,
		.features = AIODEV_FEAT_NOP | AIODEV_FEAT_EVENTFD |
			    AIODEV_FEAT_JITTER | AIODEV_FEAT_FAULTS |
			    AIODEV_FEAT_CANCEL | AIODEV_FEAT_RULES |
			    AIODEV_FEAT_DISTS | AIODEV_FEAT_HOLD,
		.size_bytes = dev->store.size,
		.max_io_bytes = AIODEV_MAX_IO_BYTES,
		.queue_depth = ctx->depth,
		.max_nsec = AIODEV_MAX_NSEC,
	};

	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long aiodev_ioctl_submit(struct file *file, void __user *arg)
{
	struct aiodev_context *ctx = file->private_data;
	struct aiodev_submit s;

	if (copy_from_user(&s, arg, sizeof(s)))
		return -EFAULT;
	if (s.flags || !s.nr || s.nr > ctx->depth)
		return -EINVAL;
	return aiodev_submit(ctx, u64_to_user_ptr(s.reqs), s.nr,
			     file->f_flags & O_NONBLOCK);
}

static long aiodev_ioctl_getevents(struct aiodev_context *ctx,
				   void __user *arg)
{
	struct aiodev_getevents g;

	if (copy_from_user(&g, arg, sizeof(g)))
		return -EFAULT;
	if (g.flags || g.__reserved || !g.max_nr || g.min_nr > g.max_nr ||
	    g.min_nr > ctx->depth)
		return -EINVAL;
	return aiodev_getevents(ctx, u64_to_user_ptr(g.events), g.min_nr,
				g.max_nr, g.timeout_nsec);
}

static long aiodev_ioctl_cancel(struct aiodev_context *ctx, void __user *arg)
{
	struct aiodev_cancel c;

	if (copy_from_user(&c, arg, sizeof(c)))
		return -EFAULT;
	if (c.flags || c.__reserved)
		return -EINVAL;
	return aiodev_cancel(ctx, c.id);
}

static long aiodev_ioctl_set_config(struct file *file, void __user *arg)
{
	struct aiodev_context *ctx = file->private_data;
	struct aiodev_config cfg;
	int ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&cfg, arg, sizeof(cfg)))
		return -EFAULT;
	mutex_lock(&ctx->dev->config_mutex);
	ret = aiodev_config_check(ctx->dev, &cfg);
	if (!ret)
		aiodev_config_set(ctx->dev, &cfg);
	mutex_unlock(&ctx->dev->config_mutex);
	return ret;
}

static long aiodev_ioctl_rule_list(struct aiodev_context *ctx,
				   void __user *arg)
{
	struct aiodev_rule_list l;
	struct aiodev_rule *rules;
	unsigned int nr;
	long ret = 0;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	if (l.flags)
		return -EINVAL;
	l.nr = min_t(u32, l.nr, AIODEV_MAX_RULES);
	rules = kcalloc(max(l.nr, 1U), sizeof(*rules), GFP_KERNEL);
	if (!rules)
		return -ENOMEM;
	nr = aiodev_rule_list(ctx->dev, rules, l.nr);
	if (copy_to_user(u64_to_user_ptr(l.rules), rules,
			 min(nr, l.nr) * sizeof(*rules)))
		ret = -EFAULT;
	kfree(rules);
	return ret ?: nr;
}

static long aiodev_ioctl_held_list(struct aiodev_context *ctx,
				   void __user *arg)
{
	struct aiodev_held_list l;

	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	if (l.flags)
		return -EINVAL;
	return aiodev_held_list(ctx->dev, u64_to_user_ptr(l.held), l.nr);
}

static long aiodev_ioctl_held_wait(struct aiodev_context *ctx,
				   void __user *arg)
{
	struct aiodev_held_wait w;

	if (copy_from_user(&w, arg, sizeof(w)))
		return -EFAULT;
	if (w.flags || !w.min_nr || w.min_nr > AIODEV_MAX_HELD)
		return -EINVAL;
	return aiodev_held_wait(ctx->dev, w.min_nr, w.timeout_nsec);
}

static bool aiodev_release_ok(const struct aiodev_release *r)
{
	bool err = r->kind == AIODEV_RELEASE_ERROR ||
		   r->kind == AIODEV_RELEASE_TORN;
	bool bytes = r->kind == AIODEV_RELEASE_SHORT ||
		     r->kind == AIODEV_RELEASE_TORN;

	if (r->kind > AIODEV_RELEASE_CANCEL || r->__reserved ||
	    (r->flags & ~AIODEV_RELEASE_PARK) ||
	    (r->flags && r->kind == AIODEV_RELEASE_CANCEL))
		return false;
	if (err ? r->error < 1 || r->error > AIODEV_MAX_ERRNO : r->error)
		return false;
	return bytes || !r->bytes;
}

static long aiodev_ioctl_release(struct file *file, void __user *arg)
{
	struct aiodev_context *ctx = file->private_data;
	struct aiodev_release *rel = NULL;
	struct aiodev_release_list l;
	bool all;
	long ret;
	u32 i;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	if (copy_from_user(&l, arg, sizeof(l)))
		return -EFAULT;
	all = l.flags & AIODEV_RELEASE_ALL;
	if ((l.flags & ~AIODEV_RELEASE_ALL) || (all ? l.nr : !l.nr) ||
	    l.nr > AIODEV_MAX_HELD)
		return -EINVAL;
	if (l.nr) {
		rel = vmemdup_array_user(u64_to_user_ptr(l.releases), l.nr,
					 sizeof(*rel));
		if (IS_ERR(rel))
			return PTR_ERR(rel);
	}
	/* Every entry checked before any is released. */
	for (i = 0; i < l.nr; i++) {
		if (!aiodev_release_ok(&rel[i])) {
			kvfree(rel);
			return -EINVAL;
		}
	}
	ret = aiodev_release_held(ctx->dev, rel, l.nr, all);
	kvfree(rel);
	return ret;
}

/* Changes of the rules and distributions, one writer at a time. */
static long aiodev_ioctl_rules(struct file *file, unsigned int cmd,
			       void __user *arg)
{
	struct aiodev_context *ctx = file->private_data;
	struct aiodev_device *dev = ctx->dev;
	struct aiodev_rule *rules = NULL;
	struct aiodev_rule_list list;
	struct aiodev_rule rule;
	struct aiodev_dist dist;
	u32 id;
	long ret;

	if (!(file->f_mode & FMODE_WRITE))
		return -EBADF;
	switch (cmd) {
	case AIODEV_IOC_RULE_LOAD:
		if (copy_from_user(&list, arg, sizeof(list)))
			return -EFAULT;
		if (list.flags || list.nr > AIODEV_MAX_RULES)
			return -EINVAL;
		rules = memdup_array_user(u64_to_user_ptr(list.rules), list.nr,
					  sizeof(*rules));
		if (IS_ERR(rules))
			return PTR_ERR(rules);
		break;
	case AIODEV_IOC_RULE_ADD:
		if (copy_from_user(&rule, arg, sizeof(rule)))
			return -EFAULT;
		break;
	case AIODEV_IOC_RULE_DEL:
		if (get_user(id, (u32 __user *)arg))
			return -EFAULT;
		break;
	case AIODEV_IOC_DIST_SET:
		if (copy_from_user(&dist, arg, sizeof(dist)))
			return -EFAULT;
		break;
	}

	mutex_lock(&dev->config_mutex);
	switch (cmd) {
	case AIODEV_IOC_RULE_ADD:
		ret = aiodev_rule_add(dev, &rule);
		/* Taken back if the id can't reach the caller. */
		if (!ret && put_user(rule.id, (u32 __user *)arg)) {
			aiodev_rule_del(dev, rule.id);
			ret = -EFAULT;
		}
		break;
	case AIODEV_IOC_RULE_DEL:
		ret = aiodev_rule_del(dev, id);
		break;
	case AIODEV_IOC_RULE_CLEAR:
		aiodev_rule_clear(dev);
		ret = 0;
		break;
	case AIODEV_IOC_RULE_LOAD:
		ret = aiodev_rule_load(dev, rules, list.nr);
		break;
	default:
		ret = aiodev_dist_set(dev, &dist);
		break;
	}
	mutex_unlock(&dev->config_mutex);
	kfree(rules);
	return ret;
}

static long aiodev_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct aiodev_context *ctx = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct aiodev_config cfg;
	struct aiodev_stats stats;

	switch (cmd) {
	case AIODEV_IOC_GET_INFO:
		return aiodev_ioctl_info(ctx, uarg);
	case AIODEV_IOC_SUBMIT:
		return aiodev_ioctl_submit(file, uarg);
	case AIODEV_IOC_GETEVENTS:
		return aiodev_ioctl_getevents(ctx, uarg);
	case AIODEV_IOC_CANCEL:
		return aiodev_ioctl_cancel(ctx, uarg);
	case AIODEV_IOC_GET_CONFIG:
		aiodev_config_get(ctx->dev, &cfg);
		return copy_to_user(uarg, &cfg, sizeof(cfg)) ? -EFAULT : 0;
	case AIODEV_IOC_SET_CONFIG:
		return aiodev_ioctl_set_config(file, uarg);
	case AIODEV_IOC_GET_STATS:
		aiodev_device_stats(ctx->dev, &stats.device);
		aiodev_context_stats(ctx, &stats.context);
		return copy_to_user(uarg, &stats, sizeof(stats)) ? -EFAULT : 0;
	case AIODEV_IOC_RULE_ADD:
	case AIODEV_IOC_RULE_DEL:
	case AIODEV_IOC_RULE_CLEAR:
	case AIODEV_IOC_RULE_LOAD:
	case AIODEV_IOC_DIST_SET:
		return aiodev_ioctl_rules(file, cmd, uarg);
	case AIODEV_IOC_RULE_LIST:
		return aiodev_ioctl_rule_list(ctx, uarg);
	case AIODEV_IOC_HELD_LIST:
		return aiodev_ioctl_held_list(ctx, uarg);
	case AIODEV_IOC_HELD_WAIT:
		return aiodev_ioctl_held_wait(ctx, uarg);
	case AIODEV_IOC_RELEASE:
		return aiodev_ioctl_release(file, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations aiodev_fops = {
	.owner = THIS_MODULE,
	.open = aiodev_open,
	.release = aiodev_file_release,
	.llseek = aiodev_llseek,
	.read_iter = aiodev_read_iter,
	.write_iter = aiodev_write_iter,
	.poll = aiodev_poll,
	.unlocked_ioctl = aiodev_ioctl,
	/* Every argument has one layout for 32-bit and 64-bit callers. */
	.compat_ioctl = compat_ptr_ioctl,
};

static int aiodev_check_params(void)
{
	if (!nr_devices || nr_devices > AIODEV_MAX_DEVICES) {
		pr_err("nr_devices=%u: must be 1 to %u\n", nr_devices,
		       AIODEV_MAX_DEVICES);
		return -EINVAL;
	}
	if (!size_mb || size_mb > AIODEV_MAX_SIZE_MB) {
		pr_err("size_mb=%u: must be 1 to %u\n", size_mb,
		       AIODEV_MAX_SIZE_MB);
		return -EINVAL;
	}
	if (completion_nsec > AIODEV_MAX_NSEC) {
		pr_err("completion_nsec=%lu: must be at most %llu\n",
		       completion_nsec, AIODEV_MAX_NSEC);
		return -EINVAL;
	}
	if (timeout_nsec > AIODEV_MAX_NSEC) {
		pr_err("timeout_nsec=%lu: must be at most %llu\n",
		       timeout_nsec, AIODEV_MAX_NSEC);
		return -EINVAL;
	}
	if (!aiodev_queue_depth || aiodev_queue_depth > AIODEV_MAX_QUEUE_DEPTH) {
		pr_err("queue_depth=%u: must be 1 to %u\n", aiodev_queue_depth,
		       AIODEV_MAX_QUEUE_DEPTH);
		return -EINVAL;
	}
	if (!aiodev_max_requests ||
	    aiodev_max_requests > AIODEV_MAX_REQUESTS) {
		pr_err("max_requests=%u: must be 1 to %u\n",
		       aiodev_max_requests, AIODEV_MAX_REQUESTS);
		return -EINVAL;
	}
	if (max_pinned_mb > totalram_pages() >> (20 - PAGE_SHIFT)) {
		pr_err("max_pinned_mb=%u: more than the RAM\n", max_pinned_mb);
		return -EINVAL;
	}
	aiodev_max_pinned_pages = max_pinned_mb ?
		(unsigned long)max_pinned_mb << (20 - PAGE_SHIFT) :
		totalram_pages() / 16;
	return 0;
}

static void aiodev_device_init(struct aiodev_device *dev, unsigned int index)
{
	struct aiodev_config cfg = {
		.latency_nsec = completion_nsec,
		.timeout_nsec = timeout_nsec,
	};

	dev->index = index;
	snprintf(dev->name, sizeof(dev->name), "aiodev%u", index);
	aiodev_store_init(&dev->store, (u64)size_mb << 20);
	mutex_init(&dev->config_mutex);
	aiodev_fates_init(&dev->fates, &cfg);
	aiodev_device_engine_init(dev);

	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = dev->name;
	dev->misc.fops = &aiodev_fops;
	dev->misc.groups = aiodev_attr_groups;
}

static void aiodev_device_teardown(struct aiodev_device *dev)
{
	aiodev_device_engine_exit(dev);
	aiodev_fates_exit(&dev->fates);
	aiodev_store_destroy(&dev->store);
	mutex_destroy(&dev->config_mutex);
}

/* Only once no file is open: the module reference guarantees it. */
static void aiodev_device_exit(struct aiodev_device *dev)
{
	misc_deregister(&dev->misc);
	aiodev_device_teardown(dev);
}

static int __init aiodev_init(void)
{
	unsigned int i;
	int ret;

	ret = aiodev_check_params();
	if (ret)
		return ret;
	ret = aiodev_engine_init();
	if (ret)
		return ret;
	aiodev_debugfs_init();

	aiodev_devices = kcalloc(nr_devices, sizeof(*aiodev_devices),
				 GFP_KERNEL);
	if (!aiodev_devices) {
		ret = -ENOMEM;
		goto engine_exit;
	}
	for (i = 0; i < nr_devices; i++) {
		aiodev_device_init(&aiodev_devices[i], i);
		ret = misc_register(&aiodev_devices[i].misc);
		if (ret) {
			pr_err("registering aiodev%u failed: %d\n", i, ret);
			aiodev_device_teardown(&aiodev_devices[i]);
			goto unregister;
		}
		aiodev_debugfs_add(&aiodev_devices[i]);
	}
	/* Every device is set up: open may use them from now on. */
	smp_store_release(&aiodev_ready, true);
	pr_info("%u device(s) of %u MiB, latency %lu ns, queue depth %u, at most %u requests and %lu MiB pinned\n",
		nr_devices, size_mb, completion_nsec, aiodev_queue_depth,
		aiodev_max_requests,
		aiodev_max_pinned_pages >> (20 - PAGE_SHIFT));
	return 0;

unregister:
	while (i--)
		aiodev_device_exit(&aiodev_devices[i]);
	kfree(aiodev_devices);
engine_exit:
	aiodev_debugfs_exit();
	aiodev_engine_exit();
	return ret;
}

static void __exit aiodev_exit(void)
{
	unsigned int i;

	/* First: no histogram reader may outlive its device. */
	aiodev_debugfs_exit();
	for (i = 0; i < nr_devices; i++)
		aiodev_device_exit(&aiodev_devices[i]);
	kfree(aiodev_devices);
	aiodev_engine_exit();
}

module_init(aiodev_init);
module_exit(aiodev_exit);

MODULE_DESCRIPTION("Asynchronous I/O test device with programmable latency, timeouts, faults and cancellation");
MODULE_AUTHOR("The aiodev developers");
MODULE_LICENSE("GPL");
