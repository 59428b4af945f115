# bench: `make bench`, the performance benchmark (prints figures, never fails on them).
#
#   make bench                               full run (~13 min): BENCH_REPEAT=3, BENCH_SECONDS=10
#   make bench BENCH_QUICK=1                 smoke run: 2 s runs, one repetition
#   make bench-build                         only build the benchmark's programs
#   make bench-instructions                  instructions per request under callgrind
#
# The run script (bench/run.sh) loads `serve` and bench/floor.c side by side
# with h2load, runs the decision-core micro-benchmark, and rewrites the
# generated part of bench/results.md.

BENCH_DIR     := $(BUILD)/bench
BENCH_FLOOR   := $(BENCH_DIR)/floor
BENCH_CORE    := $(BENCH_DIR)/core-bench
BENCH_BODIES  := $(BENCH_DIR)/bodies
BENCH_REPEAT  ?= 3
BENCH_SECONDS ?= 10
BENCH_WARMUP  ?= 2
BENCH_QUICK   ?=

.PHONY: bench bench-build
bench-build: $(BIN) $(BENCH_FLOOR) $(BENCH_CORE) $(BENCH_BODIES)

$(BENCH_DIR)/floor: bench/floor.c $(WEBHOOK_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WEBHOOK_LIBS) $(LDFLAGS) $(PKG_LIBS)

$(BENCH_DIR)/core-bench: bench/core_bench.c $(WEBHOOK_LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WEBHOOK_LIBS) $(LDFLAGS) $(PKG_LIBS)

$(BENCH_DIR)/bodies: bench/bodies.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(PKG_LIBS)

bench: bench-build
	@hack/install-deps.sh build bench
	BENCH_REPEAT=$(BENCH_REPEAT) BENCH_SECONDS=$(BENCH_SECONDS) BENCH_WARMUP=$(BENCH_WARMUP) \
	  BENCH_QUICK=$(BENCH_QUICK) WEBHOOK_BIN=$(BIN) BENCH_BIN_DIR=$(BENCH_DIR) bench/run.sh

# The instruction-count mode (callgrind): repeatable on a busy machine.
.PHONY: bench-instructions
bench-instructions: bench-build
	@hack/install-deps.sh build test bench
	WEBHOOK_BIN=$(BIN) BENCH_BIN_DIR=$(BENCH_DIR) bench/instructions.sh
