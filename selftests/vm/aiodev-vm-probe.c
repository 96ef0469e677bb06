// SPDX-License-Identifier: GPL-2.0
/*
 * aiodev-vm-check.sh's program: dynamically linked against libaio, it
 * reads 4096 bytes of /dev/aiodev0 through io_submit, prints the result
 * on stdout, a line on stderr, and writes the result to the file named by
 * its argument (in a directory shared with the host).
 */
#include <fcntl.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[4096] __attribute__((aligned(4096)));
	struct iocb cb, *cbs[1] = { &cb };
	io_context_t ctx = 0;
	struct io_event ev;
	FILE *f;
	int fd;

	if (argc != 2)
		return 2;
	fd = open("/dev/aiodev0", O_RDONLY);
	if (fd < 0 || io_setup(1, &ctx))
		return 3;
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	if (io_submit(ctx, 1, cbs) != 1 || io_getevents(ctx, 1, 1, &ev, NULL) != 1)
		return 4;
	printf("read %ld\n", (long)ev.res);
	fprintf(stderr, "probe: stderr works\n");
	f = fopen(argv[1], "w");
	if (!f || fprintf(f, "aiodev-vm share %ld\n", (long)ev.res) < 0 || fclose(f))
		return 5;
	return 0;
}
