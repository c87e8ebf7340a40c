# texporter — see README.md. `make help` lists the targets.

VERSION  := $(shell cat VERSION)
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   ?= build

CFLAGS   ?= -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS  ?= -Wl,-z,relro,-z,now
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE \
	    -Ibpf -I$(BUILD) -DTEXPORTER_VERSION='"$(VERSION)"' \
	    -DTEXPORTER_REVISION='"$(REVISION)"'
LDLIBS_LOADER := -lbpf -lelf -lz -lcjson
LDLIBS_READER := -lbpf -lelf -lz
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -Ibpf -I/usr/include/$(shell uname -m)-linux-gnu

COMMON_SRC := bpf/log.c
LOADER_SRC := $(wildcard loader/*.c)
READER_SRC := $(wildcard reader/*.c)
HEADERS    := $(wildcard bpf/*.h loader/*.h reader/*.h)

LOADER := $(BUILD)/texporter-load
READER := $(BUILD)/texporter-read
SKEL   := $(BUILD)/texporter.skel.h

.PHONY: all clean help
include scripts/install.mk
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
## check-kernels  build, then run the core tests in QEMU on Debian's kernels: bullseye (5.10),
##          bookworm (6.1), trixie (6.12), sid (root; KERNELS="bullseye sid" to choose)

## run      load on IFACE (default: a demo veth pair) with the bundled config, print metrics (root)
## run-stop detach what `make run` loaded
.PHONY: run run-stop
run: all
	BUILD=$(BUILD) scripts/run-demo start
run-stop:
	BUILD=$(BUILD) scripts/run-demo stop

# Sanitizer and fuzzing builds use clang with ASan+UBSan.
SAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := config_fuzz $(if $(wildcard tests/fuzz/http_fuzz.c),http_fuzz)
FUZZ_SRC_config_fuzz := loader/config.c
FUZZ_LIBS_config_fuzz := -lcjson -lbpf
FUZZ_SRC_http_fuzz := $(filter-out reader/main.c,$(READER_SRC))
FUZZ_LIBS_http_fuzz := -lbpf -lelf -lz

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LOADER_SRC) $(READER_SRC) $(COMMON_SRC) $(HEADERS) $(SKEL)
	mkdir -p $(dir $@)
	$(CLANG) $(filter-out -O2,$(CFLAGS)) -Iloader -Ireader $(SAN_FLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_SRC_$*) $(COMMON_SRC) $(FUZZ_LIBS_$*)

## fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
.PHONY: fuzz check-asan
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%_fuzz}; mkdir -p $(BUILD)/fuzz/corpus-$$name tests/fuzz/crashes; \
		echo "== $$t for $(FUZZ_SECONDS)s"; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/crashes/$$name- \
			-print_final_stats=1 $(BUILD)/fuzz/corpus-$$name tests/fuzz/corpus/$$name 2>&1 | \
			grep -E '^#|stat::number_of_executed_units|ERROR|SUMMARY|Done' | tail -4 || exit 1; \
	done

## lint     cppcheck over the user-space sources (warnings are errors)
.PHONY: lint
lint: $(SKEL)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		-D_GNU_SOURCE -Ibpf -I$(BUILD) -Iloader -Ireader --suppress=missingIncludeSystem \
		"-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }" \
		$(LOADER_SRC) $(READER_SRC) $(COMMON_SRC)

## check-asan  build both tools with ASan+UBSan into build/asan and run the suite with them
check-asan:
	$(MAKE) BUILD=$(BUILD)/asan CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" all
	BUILD=$(BUILD)/asan ASAN_OPTIONS=detect_leaks=1 tests/run $(ASAN_TESTS)
include tests/bench/bench.mk
include tests/kernels/kernels.mk
