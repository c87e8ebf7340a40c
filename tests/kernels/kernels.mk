# `make check-kernels`: the core of the Bats suite on Debian's kernels of
# bullseye (5.10), bookworm (6.1), trixie (6.12) and sid, each booted in QEMU
# (TCG) by tests/kernels/vm; see the header of tests/kernels/run. Included
# from the top-level Makefile.
#
# What must stay true: it builds first (the guests run build/ as it is on
# the host); it prints "N passed, N failed, N skipped" last and exits non-zero
# on any failure, like `make check`; KERNELS="bullseye bookworm" picks kernels.

.PHONY: check-kernels
check-kernels: all
	BUILD=$(BUILD) tests/kernels/run $(KERNELS)
