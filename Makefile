# texporter — see README.md. `make help` lists the targets.
#
# Sources: lib/ (linked into both tools), loader/, reader/, bpf/ (the data
# plane). Every object lands under $(BUILD) beside a -MMD dependency file,
# so a change to a header rebuilds exactly the objects that include it.

VERSION  := $(shell cat VERSION)
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= bpftool
BUILD   ?= build

CFLAGS   ?= -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS  ?= -Wl,-z,relro,-z,now
# Each function in its own section, and the linker drops those no one
# calls: a tool carries only the shared code it uses.
override CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -D_GNU_SOURCE \
	    -ffunction-sections -fdata-sections -Ilib -Ibpf -I$(BUILD)
override LDFLAGS += -Wl,--gc-sections
DEPFLAGS := -MMD -MP
LDLIBS_LOADER := -lbpf -lelf -lz -lcjson
# The reader's web configuration: libyaml, OpenSSL's libssl, libcrypt (bcrypt).
LDLIBS_READER := -lbpf -lelf -lz -lyaml -lssl -lcrypto -lcrypt

# `make static` builds the tools again in $(BUILD)/static with
# LINK_STATIC=1: linked statically against Debian's static libraries and
# glibc, so they run where none of those is installed (Alpine, RHEL, a
# FROM scratch image). Debian ships no libcjson.a: it is built from
# Debian's cjson source package (scripts/static/build-cjson). The link map
# says which packages' code went into the binaries; their copyright files
# travel with them (scripts/static/licenses).
ifeq ($(LINK_STATIC),1)
CJSON_DIR := $(BUILD)/cjson
override CFLAGS += -DTEXPORTER_STATIC -I$(CJSON_DIR)/include
override LDFLAGS += -static -L$(CJSON_DIR) -Wl,-Map=$@.map
LINK_DEPS := $(CJSON_DIR)/libcjson.a
endif
# <asm/types.h> lives under the host's multiarch directory (Debian, Ubuntu);
# the compiler knows which it is.
MULTIARCH  := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_CFLAGS := -O2 -g -Wall -Werror -target bpf -Ibpf $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

LIB_SRC    := $(wildcard lib/*.c)
LOADER_SRC := $(wildcard loader/*.c)
READER_SRC := $(wildcard reader/*.c)
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/%.o)
LOADER_OBJ := $(LOADER_SRC:%.c=$(BUILD)/%.o)
READER_OBJ := $(READER_SRC:%.c=$(BUILD)/%.o)

LOADER := $(BUILD)/texporter-load
READER := $(BUILD)/texporter-read
SKEL   := $(BUILD)/texporter.skel.h

# Test programs the Bats suite runs; built here so check-asan builds them
# with the sanitizers too.
TEST_TOOLS := $(BUILD)/tests/trie_test $(BUILD)/tests/config_test \
	      $(BUILD)/tests/texporter-fixture

# STATIC=1: check, check-kernels, install and the packages take the tools
# of `make static` from $(BUILD)/static instead of those in $(BUILD).
STATIC_BUILD := $(BUILD)/static
BIN_DIR := $(if $(filter 1,$(STATIC)),$(STATIC_BUILD),$(BUILD))

.DELETE_ON_ERROR:
.PHONY: all clean help test-tools static

## all      build build/texporter-load and build/texporter-read (default)
all: $(LOADER) $(READER)

## test-tools  build the programs the test suite runs (trie, config, pin fixture)
test-tools: $(TEST_TOOLS)

## static   build $(BUILD)/static/texporter-load and texporter-read, statically linked
##          (and the test programs, for make check STATIC=1)
static:
	$(MAKE) --no-print-directory BUILD=$(STATIC_BUILD) LINK_STATIC=1 STATIC= all test-tools \
		$(STATIC_BUILD)/licenses/packages

$(BUILD)/%.o: %.c | $(LINK_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# The loader embeds the BPF object through its skeleton.
$(BUILD)/loader/load.o $(BUILD)/loader/unmatched.o: $(SKEL)

# Only version.o sees the revision; it is rebuilt when that changes.
$(BUILD)/lib/version.o: lib/version.c $(BUILD)/version.txt
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(DEPFLAGS) -DTEXPORTER_VERSION='"$(VERSION)"' \
		-DTEXPORTER_REVISION='"$(REVISION)"' -c $< -o $@
$(BUILD)/version.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(VERSION) $(REVISION)' | cmp -s - $@ || echo '$(VERSION) $(REVISION)' > $@
.PHONY: FORCE
FORCE:

$(BUILD)/texporter.bpf.o: bpf/texporter.bpf.c
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(SKEL): $(BUILD)/texporter.bpf.o
	$(BPFTOOL) gen skeleton $< name texporter_bpf > $@.tmp && mv $@.tmp $@

$(LOADER): $(LOADER_OBJ) $(LIB_OBJ) $(LINK_DEPS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS_LOADER)

$(READER): $(READER_OBJ) $(LIB_OBJ) $(LINK_DEPS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS_READER)

$(BUILD)/cjson/libcjson.a:
	scripts/static/build-cjson $(@D) $(CC)

$(BUILD)/licenses/packages: $(LOADER) $(READER) scripts/static/licenses
	scripts/static/licenses $(@D) $(CJSON_DIR) $(LOADER).map $(READER).map

$(BUILD)/tests/trie_test: $(BUILD)/tests/unit/trie_test.o $(BUILD)/loader/trie.o \
			  $(BUILD)/loader/trie_walk.o $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LOADER)

$(BUILD)/tests/config_test: $(BUILD)/tests/unit/config_test.o \
			    $(filter $(BUILD)/loader/config%,$(LOADER_OBJ)) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_LOADER)

$(BUILD)/tests/texporter-fixture: $(BUILD)/tests/reader/texporter-fixture.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lbpf -lelf -lz

$(BUILD)/tests/unit/%.o: override CFLAGS += -Iloader

-include $(patsubst %.o,%.d,$(LIB_OBJ) $(LOADER_OBJ) $(READER_OBJ) $(BUILD)/texporter.bpf.o \
	$(addprefix $(BUILD)/tests/,unit/trie_test.o unit/config_test.o reader/texporter-fixture.o))

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
check: $(if $(filter 1,$(STATIC)),static,all test-tools)
	BUILD=$(BIN_DIR) tests/run
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
FUZZ_TARGETS := config_fuzz http_fuzz webconfig_fuzz tls_fuzz
FUZZ_SRC_config_fuzz := $(wildcard loader/config*.c)
FUZZ_LIBS_config_fuzz := -lcjson -lbpf
# The reader's targets link all of it but main.c.
$(foreach t,http_fuzz webconfig_fuzz tls_fuzz,\
	$(eval FUZZ_SRC_$(t) := $(filter-out reader/main.c,$(READER_SRC)))\
	$(eval FUZZ_LIBS_$(t) := $(LDLIBS_READER)))
# Seeds: the config test files for the config parser, corpora for the
# others (HTTP requests also seed the TLS path: they are sent through a
# session; a seed starting with 0x16 is a raw ClientHello).
FUZZ_SEEDS_config_fuzz := tests/data/config
FUZZ_SEEDS_http_fuzz := tests/fuzz/corpus/http
FUZZ_SEEDS_webconfig_fuzz := tests/fuzz/corpus/webconfig
FUZZ_SEEDS_tls_fuzz := tests/fuzz/corpus/tls

$(BUILD)/fuzz/%: tests/fuzz/%.c $(LOADER_SRC) $(READER_SRC) $(LIB_SRC) $(wildcard lib/*.h loader/*.h reader/*.h bpf/*.h)
	mkdir -p $(dir $@)
	$(CLANG) $(filter-out -O2,$(CFLAGS)) -Iloader -Ireader $(SAN_FLAGS) -fsanitize=fuzzer \
		-o $@ $< $(FUZZ_SRC_$*) $(LIB_SRC) $(FUZZ_LIBS_$*)

## fuzz     build the libFuzzer targets and run each for FUZZ_SECONDS (default 60)
.PHONY: fuzz check-asan
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))
	@for pair in $(foreach t,$(FUZZ_TARGETS),$(t):$(FUZZ_SEEDS_$(t))); do \
		t=$${pair%%:*}; seeds=$${pair#*:}; name=$${t%_fuzz}; mkdir -p $(BUILD)/fuzz/corpus-$$name tests/fuzz/crashes; \
		echo "== $$t for $(FUZZ_SECONDS)s"; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/crashes/$$name- \
			-print_final_stats=1 $(BUILD)/fuzz/corpus-$$name $$seeds 2>&1 | \
			grep -E '^#|stat::number_of_executed_units|ERROR|SUMMARY|Done' | tail -4 || exit 1; \
	done

## lint     cppcheck over the user-space sources (warnings are errors), then format-check
.PHONY: lint format-check
lint: $(SKEL) format-check
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c11 \
		-D_GNU_SOURCE -Ilib -Ibpf -I$(BUILD) -Iloader -Ireader --suppress=missingIncludeSystem \
		"-DLIBBPF_OPTS(TYPE,NAME,...)=struct TYPE NAME = { .sz = sizeof(struct TYPE), __VA_ARGS__ }" \
		$(LIB_SRC) $(LOADER_SRC) $(READER_SRC)

# .clang-format (reader/.clang-format: 80 columns) is the style of new code.
# lib/ follows it; loader/ and reader/ were formatted by hand before it and
# would change in some 400 lines, so they are not checked yet.
FORMAT_SRC := $(wildcard lib/*.c lib/*.h)

## format-check  clang-format --dry-run over the files that follow .clang-format
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

## check-asan  build both tools and the test programs with ASan+UBSan into build/asan, run the suite
check-asan:
	$(MAKE) BUILD=$(BUILD)/asan CC=$(CLANG) CFLAGS="$(SAN_FLAGS)" all test-tools
	BUILD=$(BUILD)/asan ASAN_OPTIONS=detect_leaks=1 tests/run $(ASAN_TESTS)

include scripts/install.mk
include scripts/image/image.mk
include tests/bench/bench.mk
include tests/kernels/kernels.mk
-include scripts/rpm/rpm.mk
-include scripts/apk/apk.mk
