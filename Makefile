# texporter — see README.md. `make help` lists the targets.

VERSION  := $(shell cat VERSION)
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   ?= build

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE \
	    -Ibpf -I$(BUILD) -DTEXPORTER_VERSION='"$(VERSION)"' \
	    -DTEXPORTER_REVISION='"$(REVISION)"'
LDLIBS_LOADER := -lbpf -lelf -lz -lcjson
LDLIBS_READER := -lbpf -lelf -lz
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -Ibpf -I/usr/include/$(shell $(CC) -dumpmachine)

COMMON_SRC := bpf/log.c
LOADER_SRC := $(wildcard loader/*.c)
READER_SRC := $(wildcard reader/*.c)
HEADERS    := $(wildcard bpf/*.h loader/*.h reader/*.h)

LOADER := $(BUILD)/texporter-load
READER := $(BUILD)/texporter-read
SKEL   := $(BUILD)/texporter.skel.h

.PHONY: all clean help
## all      build build/texporter-load and build/texporter-read (default)
all: $(LOADER) $(READER)

$(BUILD):
	mkdir -p $@

$(BUILD)/texporter.bpf.o: bpf/texporter.bpf.c bpf/texporter.h | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BUILD)/texporter.bpf.o
	$(BPFTOOL) gen skeleton $< name texporter_bpf > $@.tmp && mv $@.tmp $@

$(LOADER): $(LOADER_SRC) $(COMMON_SRC) $(HEADERS) $(SKEL) | $(BUILD)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(LOADER_SRC) $(COMMON_SRC) $(LDLIBS_LOADER)

$(READER): $(READER_SRC) $(COMMON_SRC) $(HEADERS) | $(BUILD)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(READER_SRC) $(COMMON_SRC) $(LDLIBS_READER)

## clean    remove build outputs
clean:
	rm -rf $(BUILD)

help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## deps     install build and test dependencies from Debian (root)
.PHONY: deps check
deps:
	scripts/install-deps.sh

## check    build, then run the Bats suite as root (prints "N passed, N failed, N skipped")
check: all
	tests/run

## run      load on IFACE (default: a demo veth pair) with the bundled config, print metrics (root)
## run-stop detach what `make run` loaded
.PHONY: run run-stop
run: all
	BUILD=$(BUILD) scripts/run-demo start
run-stop:
	BUILD=$(BUILD) scripts/run-demo stop
