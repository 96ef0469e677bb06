// SPDX-License-Identifier: GPL-2.0
/*
 * The RAM-backed store of a device, as in brd: an xarray of pages indexed by
 * page number, allocated on first write and freed when the device goes away.
 * Unwritten ranges read as zeros, so a 64 MiB device costs nothing until used.
 *
 * Pages for a write are allocated at submission (process context);
 * the data itself is copied at completion, from the tasklet, where only
 * lookups happen. Pages are never removed while the device exists, so a
 * lookup needs no reference.
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/uio.h>

#include "aiodev.h"

void aiodev_store_init(struct aiodev_store *store, u64 size)
{
	xa_init(&store->pages);
	store->size = size;
}

void aiodev_store_destroy(struct aiodev_store *store)
{
	struct page *page;
	unsigned long index;

	xa_for_each(&store->pages, index, page)
		__free_page(page);
	xa_destroy(&store->pages);
}

int aiodev_store_prepare_write(struct aiodev_store *store, u64 pos, u32 len,
			       gfp_t gfp)
{
	pgoff_t index = pos >> PAGE_SHIFT;
	pgoff_t last = (pos + len - 1) >> PAGE_SHIFT;

	for (; index <= last; index++) {
		struct page *page, *old;

		if (xa_load(&store->pages, index))
			continue;
		page = alloc_page(gfp | __GFP_ZERO);
		if (!page)
			return -ENOMEM;
		/* A concurrent submitter may have raced us to this index. */
		old = xa_cmpxchg(&store->pages, index, NULL, page, gfp);
		if (old) {
			__free_page(page);
			if (xa_is_err(old))
				return xa_err(old);
		}
	}
	return 0;
}

void aiodev_store_read(struct aiodev_store *store, u64 pos,
		       struct iov_iter *to)
{
	while (iov_iter_count(to)) {
		size_t off = offset_in_page(pos);
		size_t chunk = min_t(size_t, PAGE_SIZE - off, iov_iter_count(to));
		struct page *page = xa_load(&store->pages, pos >> PAGE_SHIFT);

		size_t copied;

		if (page)
			copied = copy_page_to_iter(page, off, chunk, to);
		else
			copied = iov_iter_zero(chunk, to);
		if (!copied)
			return;
		pos += copied;
	}
}

void aiodev_store_write(struct aiodev_store *store, u64 pos,
			struct iov_iter *from)
{
	while (iov_iter_count(from)) {
		size_t off = offset_in_page(pos);
		size_t chunk = min_t(size_t, PAGE_SIZE - off,
				     iov_iter_count(from));
		struct page *page = xa_load(&store->pages, pos >> PAGE_SHIFT);
		size_t copied;

		/* Allocated by aiodev_store_prepare_write() at submission. */
		if (WARN_ON_ONCE(!page))
			return;
		copied = copy_page_from_iter(page, off, chunk, from);
		if (!copied)
			return;
		pos += copied;
	}
}
