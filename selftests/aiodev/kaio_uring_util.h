/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fixture helpers of the selftests that drive every path, libaio and io_uring
 * included (hold.c, rules.c): apart from kaio_util.h as only they link both.
 */
#ifndef KAIO_URING_UTIL_H
#define KAIO_URING_UTIL_H

#include <libaio.h>
#include <liburing.h>

#include "kaio_util.h"

/* Entries of the fixture's libaio context and of its io_uring. */
#define KAIO_PATHS_ENTRIES	64

/*
 * Setup: /dev/aiodev0 as fixture_open() leaves it, a libaio context in
 * *@aio, an io_uring in *@ring and two page-aligned buffers of @len zero
 * bytes in *@buf and *@store. Returns the fd; a failure ASSERTs.
 */
static inline int kaio_paths_setup(struct __test_metadata *_metadata,
				   io_context_t *aio, struct io_uring *ring,
				   unsigned char **buf, unsigned char **store,
				   size_t len)
{
	int fd = fixture_open(_metadata, 0, NULL);
	int ret;

	memset(aio, 0, sizeof(*aio));
	ASSERT_EQ(0, io_setup(KAIO_PATHS_ENTRIES, aio));
	ret = io_uring_queue_init(KAIO_PATHS_ENTRIES, ring, 0);
	ASSERT_EQ(0, ret) TH_LOG("io_uring_queue_init: %s", strerror(-ret));
	*buf = kaio_buf(len, 0);
	*store = kaio_buf(len, 0);
	ASSERT_NE(NULL, *buf);
	ASSERT_NE(NULL, *store);
	return fd;
}

/* Teardown: all that kaio_paths_setup() made, config back to defaults. */
static inline void kaio_paths_teardown(struct __test_metadata *_metadata,
				       int fd, io_context_t aio,
				       struct io_uring *ring,
				       unsigned char *buf, unsigned char *store,
				       size_t len)
{
	io_uring_queue_exit(ring);
	io_destroy(aio);
	kaio_buf_free(buf, len);
	kaio_buf_free(store, len);
	fixture_close(_metadata, fd);
}

#endif /* KAIO_URING_UTIL_H */
