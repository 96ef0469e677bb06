# SPDX-License-Identifier: GPL-2.0
# aiodev top-level Makefile.
#   make                build the module in place against KDIR, and the
#                       userspace library and CLI
#   make KDIR=/usr/src/linux-headers-<ver>    ... against other headers
#   make selftests      static kselftest programs into selftests/out/
#   make check          everything, then boot Debian 6.1 and 6.12 under
#                       QEMU and run the tests (selftests/vm/check.sh)
#   make demo           boot 6.12 and run `aiodev demo` in the guest
# The module itself is described by ./Kbuild.

KDIR ?= /lib/modules/$(shell uname -r)/build

.PHONY: all modules userspace selftests check demo clean

all: modules userspace

modules:
	@test -d "$(KDIR)" || { echo "KDIR=$(KDIR) does not exist: install the headers or pass KDIR=/usr/src/linux-headers-<ver>" >&2; exit 1; }
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules

userspace:
	$(MAKE) -C userspace

selftests:
	$(MAKE) -C selftests

# The scripts install packages and fetch kernels themselves, so that a
# fresh machine (CI) needs nothing but this repository.
check:
	MAKE='$(MAKE)' bash selftests/vm/check.sh

demo:
	MAKE='$(MAKE)' bash selftests/vm/demo.sh

# In-place kbuild products are removed by hand: `make clean` must work
# without KDIR's headers installed.
clean:
	rm -f Module.symvers modules.order .*.cmd .module-common.o
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/.*.d
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build
