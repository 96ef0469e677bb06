// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev fuzzer: the results of the calls, counted and checked against
 * the errnos the documentation names, and the reports of violations.
 */
#define AIODEV_UTIL_NO_HARNESS
#include "fuzz.h"

/* ---- results ----------------------------------------------------------- */

const char *const fk_name[NFK] = {
	"GET_INFO", "SUBMIT", "GETEVENTS", "CANCEL", "GET_CONFIG",
	"SET_CONFIG", "GET_STATS", "RULE_ADD", "RULE_DEL", "RULE_CLEAR",
	"RULE_LIST", "RULE_LOAD", "DIST_SET", "HELD_LIST", "HELD_WAIT",
	"RELEASE", "other cmd", "read*", "write*",
	"lseek", "poll", "io_submit", "io_event.res", "io_getevents",
	"io_cancel",
};

/*
 * Documented errnos per call. EBADF everywhere: a racing close leaves the
 * fd number unused (close(2), ioctl(2), read(2)...).
 */
const int allow_list[NFK][16] = {
	/* header: GET_INFO/GET_CONFIG/GET_STATS are output-only copies */
	[F_INFO] = { EFAULT, EBADF },
	[F_GETCFG] = { EFAULT, EBADF },
	[F_STATS] = { EFAULT, EBADF },
	/* header: aiodev_req/aiodev_submit; README: limits -ENOMEM */
	[F_SUBMIT] = { EFAULT, EINVAL, EBADF, EAGAIN, EINTR, ENOMEM },
	/* header: aiodev_getevents */
	[F_GETEV] = { EFAULT, EINVAL, EBADF, EINTR },
	/* header: aiodev_cancel */
	[F_CANCEL] = { EFAULT, EINVAL, EBADF, EALREADY, ENOENT },
	/* header: aiodev_config; -EBADF without FMODE_WRITE */
	[F_SETCFG] = { EFAULT, EINVAL, EBADF },
	/*
	 * header: aiodev_rule, the RULE_* comment (EBADF without FMODE_WRITE,
	 * ENOSPC, ENOENT), @tgid (ESRCH), @dist (ENOENT); aiodev(4) ENOMEM
	 */
	[F_RULEADD] = { EFAULT, EINVAL, EBADF, ENOSPC, ENOENT, ESRCH, ENOMEM },
	[F_RULEDEL] = { EFAULT, EBADF, ENOENT },
	[F_RULECLEAR] = { EBADF },
	/* header: aiodev_rule_list; works on a read-only file */
	[F_RULELIST] = { EFAULT, EINVAL, EBADF, ENOMEM },
	/* header: aiodev_rule_list: "checked as RULE_ADD checks one" */
	[F_RULELOAD] = { EFAULT, EINVAL, EBADF, ENOENT, ESRCH, ENOMEM },
	/* header: aiodev_dist: EBUSY, ENOENT, ENOSPC */
	[F_DISTSET] = { EFAULT, EINVAL, EBADF, ENOENT, EBUSY, ENOSPC, ENOMEM },
	/* header: aiodev_held_list, aiodev_held_wait, aiodev_release_list */
	[F_HELDLIST] = { EFAULT, EINVAL, EBADF, ENOMEM },
	[F_HELDWAIT] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR },
	[F_RELEASE] = { EFAULT, EINVAL, EBADF, ENOENT, ENOMEM },
	/* README: unknown commands give -ENOTTY */
	[F_BADCMD] = { ENOTTY, EBADF },
	/* README "Through read/write": device limits, deadline, fault plan,
	 * RWF_NOWAIT; read(2)/preadv2(2) for EFAULT, EINVAL, EOPNOTSUPP */
	[F_READ] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR, EAGAIN, ENOMEM,
		     EOPNOTSUPP },
	[F_WRITE] = { EFAULT, EINVAL, EBADF, ETIMEDOUT, EINTR, EAGAIN, ENOMEM,
		      EOPNOTSUPP, ENOSPC },
	/* lseek(2): ENXIO for SEEK_DATA/SEEK_HOLE past the end */
	[F_LSEEK] = { EINVAL, ENXIO, EBADF },
	[F_POLL] = { EFAULT, EINVAL },
	/* io_submit(2) */
	[F_IOSUBMIT] = { EINVAL, EFAULT, EBADF, EAGAIN, ENOMEM, EOPNOTSUPP },
	/* README: kernel AIO gets the device's results, -EBUSY when full */
	[F_IOEVENT] = { ETIMEDOUT, ECANCELED, EBUSY, ENOMEM, EFAULT, EINVAL,
			EINTR, EAGAIN, ENOSPC, EOPNOTSUPP },
	/* io_getevents(2), io_cancel(2) */
	[F_IOGETEV] = { EINVAL, EFAULT, EINTR },
	[F_IOCANCEL] = { EINPROGRESS, EAGAIN, EINVAL, EFAULT },
};

void report(struct fz *fz, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	if (atomic_fetch_add(&fz->reports, 1) >= 30)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# fuzz: %s\n", msg);
	fflush(stdout);
}

/*
 * Count one result (a negative errno or not) and check it is documented;
 * a read, write or io_event may also carry a fault errno of @w, and they
 * and SUBMIT a rule errno of @w.
 */
long note_win(struct th *t, int kind, long ret, unsigned long what,
	      const struct win *w)
{
	struct fz *fz = t->fz;
	int e = ret < 0 ? (int)-ret : 0;

	if (IS_IOCTL(kind)) {
		t->calls++;
		if (atomic_fetch_add(&fz->calls, 1) + 1 >= fz->target)
			atomic_store(&fz->stop, 1);
	} else {
		t->other++;
	}
	if (ret >= 0)
		return ret;
	t->count[kind][e < ERRMAX ? e : ERRMAX]++;
	if (e < ERRMAX && fz->allow[kind][e])
		return ret;
	if ((kind == F_READ || kind == F_WRITE || kind == F_IOEVENT ||
	     kind == F_SUBMIT) && fault_ok(fz, w, e, kind)) {
		t->rule_results += rule_bit(e) >= 0;
		return ret;
	}
	t->violations++;
	report(fz, "%s (%#lx) failed with errno %d (%s), which it does not document",
	       fk_name[kind], what, e, strerror(e));
	return ret;
}

long note(struct th *t, int kind, long ret, unsigned long what)
{
	return note_win(t, kind, ret, what, NULL);
}

/* Did the closer have @r's number closed at some point since the pick? */
bool closed_under(const struct sref *r)
{
	return (r->gen & 1) || atomic_load(r->genp) != r->gen;
}

/*
 * Where the outcome is determined, it must be exactly @want, or -EBADF if
 * the file was closed under the call.
 */
void expect(struct th *t, int kind, long ret, long want,
	    unsigned long what, int pk, const struct sref *r)
{
	if (ret == want || (ret == -EBADF && closed_under(r)))
		return;
	t->violations++;
	report(t->fz, "%s (%#lx, pointer kind %d) returned %ld, expected %ld",
	       fk_name[kind], what, pk, ret, want);
}

long do_ioctl(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}
