/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The differences between the kernels aiodev supports (6.1 and 6.12), kept
 * in one place so the rest of the module reads as plain current kernel code.
 */
#ifndef _AIODEV_COMPAT_H
#define _AIODEV_COMPAT_H

#include <linux/eventfd.h>
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

#endif /* _AIODEV_COMPAT_H */
