/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels aiodev supports (6.1 to 7.x), kept
 * in one place so the rest of the module reads as plain current kernel code.
 */
#ifndef _AIODEV_COMPAT_H
#define _AIODEV_COMPAT_H

#include <linux/eventfd.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/seq_file.h>
#include <linux/uio.h>
#include <linux/version.h>

/* 6.8 dropped eventfd_signal()'s count argument: it is always 1. */
static inline void aiodev_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx, 1);
#else
	eventfd_signal(ctx);
#endif
}

/*
 * hrtimer_setup() appeared in 6.13 and hrtimer_init() went away in 6.15;
 * the callback is __private since, set only by the setup call.
 */
static inline void aiodev_hrtimer_setup(struct hrtimer *timer,
					enum hrtimer_restart (*fn)(struct hrtimer *),
					clockid_t clock_id, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
	hrtimer_init(timer, clock_id, mode);
	timer->function = fn;
#else
	hrtimer_setup(timer, fn, clock_id, mode);
#endif
}

/* DEFINE_SHOW_STORE_ATTRIBUTE() appeared in 6.4: the same, before. */
#ifndef DEFINE_SHOW_STORE_ATTRIBUTE
#define DEFINE_SHOW_STORE_ATTRIBUTE(__name)				\
static int __name ## _open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, __name ## _show, inode->i_private);	\
}									\
									\
static const struct file_operations __name ## _fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= __name ## _open,				\
	.read		= seq_read,					\
	.write		= __name ## _write,				\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}
#endif

/* How aiodev_iter_get_pages() holds the pages it returns. */
enum aiodev_page_ref {
	AIODEV_PAGES_PINNED,		/* FOLL_PIN: unpin_user_page() */
	AIODEV_PAGES_REFERENCED,	/* FOLL_GET: put_page() */
	AIODEV_PAGES_BORROWED,		/* none: the iterator's owner keeps them */
};

/* Take pages from @i and advance it, as direct I/O does on each kernel. */
static inline ssize_t aiodev_iter_get_pages(struct iov_iter *i,
					    struct page **pages,
					    size_t maxsize,
					    unsigned int maxpages,
					    size_t *offset,
					    enum aiodev_page_ref *ref)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	*ref = iov_iter_extract_will_pin(i) ? AIODEV_PAGES_PINNED :
					      AIODEV_PAGES_BORROWED;
	return iov_iter_extract_pages(i, &pages, maxsize, maxpages, 0, offset);
#else
	/* No iov_iter_extract_pages() yet: direct I/O took references. */
	*ref = AIODEV_PAGES_REFERENCED;
	return iov_iter_get_pages2(i, pages, maxsize, maxpages, offset);
#endif
}

/*
 * kiocb_set_cancel_fn() is only safe for kiocbs of fs/aio.c. IOCB_AIO_RW
 * marks them since 6.8 and 6.1.80; older kernels cannot tell, so there
 * io_cancel() is not offered at all.
 */
static inline bool aiodev_kiocb_is_aio(const struct kiocb *iocb)
{
#ifdef IOCB_AIO_RW
	return iocb->ki_flags & IOCB_AIO_RW;
#else
	return false;
#endif
}

#endif /* _AIODEV_COMPAT_H */
