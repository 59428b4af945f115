# fuzz: libFuzzer targets (tests/fuzz/fuzz_*.c) built with clang and
# ASan + UBSan against the core library compiled the same way in
# build-fuzz/ (its own directory: the main build is untouched). The targets
# link the core only (with cJSON, libyaml, libcrypto), never the shell,
# libcurl or libh2o: tests/purity checks it.
#
#   make fuzz                 every target for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_TARGETS=imageref FUZZ_SECONDS=600
#   make fuzz-build           only build build-fuzz/fuzz_<target>
#
# New inputs go to build-fuzz/corpus/<target>/ (the committed seeds under
# tests/fuzz/corpus/<target>/ are only read); crashes to
# build-fuzz/artifacts/. A crash input belongs in the seed corpus once
# fixed: tests/fuzz/run.sh replays every seed on each `make test`.

FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS   = $(filter-out -O2,$(CFLAGS_BASE)) -O1 -Wno-error=unused-command-line-argument \
                $(FUZZ_SANFLAGS) $(PKG_CFLAGS)

# wwwauth.c is fuzzed only once its header exists.
FUZZ_ALL_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
ifeq ($(wildcard webhook/wwwauth.h),)
FUZZ_ALL_TARGETS := $(filter-out wwwauth,$(FUZZ_ALL_TARGETS))
endif
FUZZ_TARGETS ?= $(FUZZ_ALL_TARGETS)
FUZZ_BINS    := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_TARGETS))
FUZZ_OBJS    := $(patsubst webhook/%.c,$(FUZZ_BUILD)/obj/%.o,$(CORE_SRCS))
FUZZ_DEPS    := $(FUZZ_BUILD)/.deps-fuzz

.PHONY: fuzz fuzz-build
$(FUZZ_DEPS): hack/install-deps.sh
	@hack/install-deps.sh build fuzz
	@mkdir -p $(@D) && touch $@

$(FUZZ_BUILD)/obj/%.o: webhook/%.c $(wildcard webhook/*.h) | $(FUZZ_DEPS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

FUZZ_CORE_LIB := $(FUZZ_BUILD)/libwebhook-core.a
$(FUZZ_CORE_LIB): $(FUZZ_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzzutil.h $(FUZZ_CORE_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(FUZZ_CORE_LIB) \
	  $(CORE_PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)
