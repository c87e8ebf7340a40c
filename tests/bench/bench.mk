# `make bench`: texporter's benchmark (root, about 3 minutes). Included from
# the Makefile; uses its CC, CLANG, CFLAGS, BPF_CFLAGS, BUILD, LOADER, READER.
# tests/bench/run does the work; docs/performance.md explains the figures.

BENCH_OUT     := $(BUILD)/bench
BENCH_BIN     := $(BENCH_OUT)/bench
BENCH_OBJS    := $(BENCH_OUT)/floor.bpf.o $(BENCH_OUT)/lpm.bpf.o $(BENCH_OUT)/counters.bpf.o
PUBLIC_RANGES ?= ../shared/data/public-ranges.json

.PHONY: bench
## bench    measure data plane, loader and reader; prints one table (root; PUBLIC_RANGES=FILE)
bench: $(LOADER) $(BENCH_BIN) $(BENCH_OBJS)
	@$(MAKE) --no-print-directory $(READER) $(BUILD)/tests/texporter-fixture >/dev/null 2>&1 || \
		echo "bench: $(READER) does not build yet; its figures will be skipped"
	BUILD=$(BUILD) PUBLIC_RANGES=$(PUBLIC_RANGES) tests/bench/run

$(BENCH_OUT):
	mkdir -p $@

$(BENCH_OUT)/%.bpf.o: tests/bench/%.bpf.c bpf/texporter.h | $(BENCH_OUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BENCH_BIN): tests/bench/bench.c loader/trie_walk.c loader/trie_walk.h bpf/texporter.h | $(BENCH_OUT)
	$(CC) $(CFLAGS) -Iloader $(LDFLAGS) -o $@ tests/bench/bench.c loader/trie_walk.c -lbpf -lelf -lz -lcjson -lpthread -lm
