// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs, /sys/kernel/debug/aiodev/aiodevN/:
 *  latency_histogram: how long the completions since the last reset took
 *    from submission, in power-of-two buckets;
 *  tasklet: the longest run of the completion tasklet since the last
 *    reset, in time and in data copied.
 * Writing to a file resets it.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "aiodev.h"
#include "compat.h"

static struct dentry *aiodev_debugfs_root;

static int aiodev_latency_histogram_show(struct seq_file *m, void *v)
{
	struct aiodev_device *dev = m->private;
	unsigned int i;

	seq_puts(m, "# from_ns to_ns completions\n");
	for (i = 0; i < ARRAY_SIZE(dev->latency_hist); i++) {
		s64 n = atomic64_read(&dev->latency_hist[i]);

		if (n)
			seq_printf(m, "%llu %llu %lld\n", 1ULL << i,
				   i < 63 ? (1ULL << (i + 1)) - 1 : U64_MAX, n);
	}
	return 0;
}

static ssize_t aiodev_latency_histogram_write(struct file *file,
					      const char __user *buf,
					      size_t count, loff_t *ppos)
{
	struct aiodev_device *dev = file_inode(file)->i_private;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dev->latency_hist); i++)
		atomic64_set(&dev->latency_hist[i], 0);
	return count;
}

DEFINE_SHOW_STORE_ATTRIBUTE(aiodev_latency_histogram);

static int aiodev_tasklet_show(struct seq_file *m, void *v)
{
	struct aiodev_device *dev = m->private;

	seq_printf(m, "max_run_ns %llu\nmax_run_bytes %llu\n",
		   READ_ONCE(dev->tasklet_max_ns),
		   READ_ONCE(dev->tasklet_max_bytes));
	return 0;
}

static ssize_t aiodev_tasklet_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	struct aiodev_device *dev = file_inode(file)->i_private;

	WRITE_ONCE(dev->tasklet_max_ns, 0);
	WRITE_ONCE(dev->tasklet_max_bytes, 0);
	return count;
}

DEFINE_SHOW_STORE_ATTRIBUTE(aiodev_tasklet);

void aiodev_debugfs_init(void)
{
	aiodev_debugfs_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

void aiodev_debugfs_exit(void)
{
	debugfs_remove_recursive(aiodev_debugfs_root);
}

void aiodev_debugfs_add(struct aiodev_device *dev)
{
	struct dentry *dir = debugfs_create_dir(dev->name, aiodev_debugfs_root);

	debugfs_create_file("latency_histogram", 0600, dir, dev,
			    &aiodev_latency_histogram_fops);
	debugfs_create_file("tasklet", 0600, dir, dev, &aiodev_tasklet_fops);
}
