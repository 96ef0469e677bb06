# SPDX-License-Identifier: GPL-2.0
# aiodev top-level Makefile.
#   make                build the module in place against KDIR, and the
#                       userspace library and CLI
#   make KDIR=/usr/src/linux-headers-<ver>    ... against other headers
#   make selftests      static kselftest programs into selftests/out/
#   make check          everything, then boot Debian 6.1, 6.12, 6.12-rt, and
#                       the newest 7.x and 7.x-rt of trixie-backports
#                       under QEMU and run the tests (selftests/vm/check.sh)
#   make check-debug    the same tests, a 60 s stress run and a kmemleak scan
#                       on a 7.x debug kernel (KASAN, lockdep, kmemleak,
#                       UBSAN, ...) built once from Debian's newest
#                       linux-source-7.x (selftests/vm/check-debug.sh,
#                       base.config, debug.config)
#   make check-kcsan    the same on a 7.x KCSAN kernel (kcsan.config)
#   make mutate         mutation testing of kmod/*.c on 6.12 (selftests/mutate/README.md)
#   make demo           boot 6.12 and run `aiodev demo` in the guest
#   make bench          boot 6.12 once and benchmark aiodev against null_blk
#                       and itself; results in build/bench/<timestamp>/
#                       (selftests/vm/bench.sh; README.md, Performance)
#   make install        the module (modules_install, then depmod), the uapi
#                       header, libaiodev (static, shared, aiodev.pc,
#                       libaiodev.h), aiodev and aiodev-aio, the man pages
#                       and the udev rule; DESTDIR and PREFIX (/usr/local)
#                       are respected. install-module and install-userspace
#                       do one half. `make uninstall` removes it all again.
#   make dkms-install   the module's sources to /usr/src/aiodev-VERSION,
#                       then dkms add, build and install for KERNELRELEASE
#                       (the running kernel); `make dkms-remove` undoes it
# The module itself is described by ./Kbuild, its DKMS packaging by
# ./dkms.conf; the version is in ./VERSION.

VERSION := $(shell cat $(dir $(lastword $(MAKEFILE_LIST)))VERSION)
KERNELRELEASE ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KERNELRELEASE)/build

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
# udev reads rules from /usr/local/lib/udev/rules.d too; an admin's own
# copy in /etc/udev/rules.d overrides a file of the same name.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
# aiodev-vm's runner and the module sources it builds for each kernel.
AIODEV_VM_DATADIR ?= $(PREFIX)/share/aiodev
AIODEV_VM_FILES := Kbuild kmod/Kbuild $(sort $(wildcard kmod/*.c kmod/*.h)) \
	uapi/linux/aiodev.h $(addprefix selftests/vm/,lib.sh deps.sh \
	fetch-kernel.sh debian13-root.sh build-module.sh mkinitramfs.sh \
	run-vm.sh guest-init.sh guest-run.sh)
# Under /lib/modules/<release>/, where modules_install puts the module.
INSTALL_MOD_DIR ?= extra
INSTALL ?= install
DEPMOD ?= depmod
DKMS ?= dkms

# The release of the kernel KDIR's headers are for: where the module goes.
KDIR_RELEASE = $(shell cat "$(KDIR)/include/config/kernel.release")
MODULE_DEST = $(DESTDIR)/lib/modules/$(KDIR_RELEASE)/$(INSTALL_MOD_DIR)

# What DKMS gets: enough to build the module, nothing else.
DKMS_FILES := Kbuild kmod/Kbuild Makefile VERSION dkms.conf \
	uapi/linux/aiodev.h \
	$(filter-out kmod/%.mod.c,$(wildcard kmod/*.c kmod/*.h))
DKMS_SRC := /usr/src/aiodev-$(VERSION)

USERSPACE_VARS = PREFIX="$(PREFIX)" BINDIR="$(BINDIR)" LIBDIR="$(LIBDIR)" \
	INCLUDEDIR="$(INCLUDEDIR)" VERSION="$(VERSION)"

.PHONY: all modules userspace selftests check demo bench clean modules-clean \
	install install-module install-userspace uninstall uninstall-module \
	uninstall-userspace dkms-source dkms-install dkms-remove

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

.PHONY: check-debug check-kcsan
check-debug:
	MAKE='$(MAKE)' bash selftests/vm/check-debug.sh debug

check-kcsan:
	MAKE='$(MAKE)' bash selftests/vm/check-debug.sh kcsan

# Not part of `make check`: a VM boot per mutant. MUTANTS="ID ..." runs
# some, AIODEV_MUTATE_DRY=1 only applies and builds them all, no VM.
.PHONY: mutate
mutate:
	MAKE='$(MAKE)' AIODEV_MUTANTS='$(or $(MUTANTS),$(AIODEV_MUTANTS))' \
		bash selftests/mutate/mutate.sh

demo:
	MAKE='$(MAKE)' bash selftests/vm/demo.sh

bench:
	MAKE='$(MAKE)' bash selftests/vm/bench.sh

install: install-module install-userspace

# Debian's headers have no System.map, so kbuild skips depmod: run it here,
# unless the files go to a staging DESTDIR.
install-module: modules
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" INSTALL_MOD_PATH="$(DESTDIR)" \
		INSTALL_MOD_DIR="$(INSTALL_MOD_DIR)" modules_install
	$(if $(DESTDIR),,$(DEPMOD) -a "$(KDIR_RELEASE)")

install-userspace:
	$(MAKE) -C userspace install $(USERSPACE_VARS)
	$(INSTALL) -D -m 0644 uapi/linux/aiodev.h \
		"$(DESTDIR)$(INCLUDEDIR)/linux/aiodev.h"
	$(INSTALL) -d "$(DESTDIR)$(MANDIR)/man1" "$(DESTDIR)$(MANDIR)/man3" \
		"$(DESTDIR)$(MANDIR)/man4"
	$(INSTALL) -m 0644 Documentation/man/aiodev.1 Documentation/man/aiodev-aio.1 Documentation/man/aiodev-vm.1 \
		"$(DESTDIR)$(MANDIR)/man1/"
	$(INSTALL) -m 0644 Documentation/man/libaiodev.3 "$(DESTDIR)$(MANDIR)/man3/"
	$(INSTALL) -m 0644 Documentation/man/aiodev.4 "$(DESTDIR)$(MANDIR)/man4/"
	$(INSTALL) -D -m 0644 userspace/60-aiodev.rules \
		"$(DESTDIR)$(UDEVRULESDIR)/60-aiodev.rules"
	$(INSTALL) -D -m 0755 userspace/aiodev-vm "$(DESTDIR)$(BINDIR)/aiodev-vm"
	for f in $(AIODEV_VM_FILES); do \
		mode=0644; case $$f in *.sh) mode=0755;; esac; \
		$(INSTALL) -D -m $$mode "$$f" "$(DESTDIR)$(AIODEV_VM_DATADIR)/$$f" || exit 1; \
	done
	$(if $(DESTDIR),,ldconfig)

uninstall: uninstall-module uninstall-userspace

# The module's file name depends on the kernel's compression (.ko, .ko.xz).
uninstall-module:
	rm -f "$(MODULE_DEST)"/kmod/aiodev.ko*
	rmdir "$(MODULE_DEST)/kmod" 2>/dev/null || true
	$(if $(DESTDIR),,$(DEPMOD) -a "$(KDIR_RELEASE)")

uninstall-userspace:
	$(MAKE) -C userspace uninstall $(USERSPACE_VARS)
	rm -f "$(DESTDIR)$(INCLUDEDIR)/linux/aiodev.h" \
		"$(DESTDIR)$(MANDIR)/man1/aiodev.1" \
		"$(DESTDIR)$(MANDIR)/man1/aiodev-aio.1" \
		"$(DESTDIR)$(MANDIR)/man1/aiodev-vm.1" \
		"$(DESTDIR)$(BINDIR)/aiodev-vm" \
		"$(DESTDIR)$(MANDIR)/man3/libaiodev.3" \
		"$(DESTDIR)$(MANDIR)/man4/aiodev.4" \
		"$(DESTDIR)$(UDEVRULESDIR)/60-aiodev.rules"
	rm -rf "$(DESTDIR)$(AIODEV_VM_DATADIR)"
	$(if $(DESTDIR),,ldconfig)

# The module's sources as DKMS wants them, in DKMS_SRC.
dkms-source:
	rm -rf "$(DESTDIR)$(DKMS_SRC)"
	for f in $(DKMS_FILES); do \
		$(INSTALL) -D -m 0644 "$$f" "$(DESTDIR)$(DKMS_SRC)/$$f" || exit; \
	done

# Replaces an earlier dkms-install of the same version.
dkms-install:
	@command -v $(DKMS) >/dev/null || { echo "dkms not found: apt-get install dkms" >&2; exit 1; }
	if [ -n "$$($(DKMS) status -m aiodev -v $(VERSION))" ]; then \
		$(DKMS) remove -m aiodev -v $(VERSION) --all; fi
	$(MAKE) dkms-source DESTDIR=
	$(DKMS) add -m aiodev -v $(VERSION)
	$(DKMS) build -m aiodev -v $(VERSION) -k "$(KERNELRELEASE)"
	$(DKMS) install -m aiodev -v $(VERSION) -k "$(KERNELRELEASE)"

dkms-remove:
	if [ -n "$$($(DKMS) status -m aiodev -v $(VERSION))" ]; then \
		$(DKMS) remove -m aiodev -v $(VERSION) --all; fi
	rm -rf "$(DKMS_SRC)"

# In-place kbuild products are removed by hand: `make clean` must work
# without KDIR's headers installed.
modules-clean:
	rm -f Module.symvers modules.order .*.cmd .module-common.o
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/.*.d

clean: modules-clean
	$(MAKE) -C userspace clean
	$(MAKE) -C selftests clean
	rm -rf build
