# imagebuilder-webhook: build, test and run.
#
#   make            build bin/imagebuilder-webhook
#   make test       every test: unit (Check), golden, integration, deployment checks
#   make run        run the webhook locally with development certificates
#   make test-asan  the unit and golden tests under AddressSanitizer + UBSan
#   make format     clang-format every C file
#
# Areas with their own targets (bench, fuzz, deploy checks, ...) live in mk/*.mk.

BUILD   ?= build
BIN     := bin/imagebuilder-webhook
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

PKGS    := libh2o-evloop openssl libcjson yaml-0.1 libcurl
CC      ?= cc
OPT     ?= -O2
SAN     ?=
CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DH2O_USE_LIBUV=0 \
               -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -g $(OPT) \
               -DWH_VERSION='"$(VERSION)"' -Iwebhook
ifeq ($(SAN),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS     += -fsanitize=address,undefined
endif
DEPS_STAMP := $(BUILD)/.deps-build

# pkg-config is evaluated lazily (after the dependencies are installed).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lssl -lcrypto -lpthread -lm
CFLAGS     = $(CFLAGS_BASE) $(PKG_CFLAGS) $(EXTRA_CFLAGS)

CORE_SRCS := $(filter-out webhook/main.c,$(wildcard webhook/*.c))
CORE_OBJS := $(patsubst webhook/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
CORE_LIB  := $(BUILD)/libwebhook.a

.PHONY: all deps test test-unit test-asan test-valgrind run format format-check clean
all: $(BIN)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): hack/install-deps.sh
	@hack/install-deps.sh build
	@mkdir -p $(@D) && touch $@

$(BUILD)/obj/%.o: webhook/%.c $(wildcard webhook/*.h) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(CORE_LIB): $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(CORE_LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- unit tests (Check) ---------------------------------------------------
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(BUILD)/unit-tests
$(BUILD)/suites.h: $(UNIT_SRCS)
	@mkdir -p $(@D)
	@sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void).*/\1/p' $(UNIT_SRCS) | sort -u | \
	  awk '{d = d "Suite *" $$1 "(void);\n"; l = l "    " $$1 ",\n"} \
	       END {printf "%s#define ALL_SUITES \\\n%s", d, ""; n = split(l, a, "\n"); \
	            for (i = 1; i < n; i++) printf "%s \\\n", a[i]; print ""}' > $@

$(UNIT_BIN): tests/unit/main.c $(UNIT_SRCS) $(wildcard tests/unit/*.h) $(BUILD)/suites.h $(CORE_LIB)
	$(CC) $(CFLAGS) -I$(BUILD) -Itests/unit -o $@ tests/unit/main.c $(UNIT_SRCS) $(CORE_LIB) \
	  $(LDFLAGS) $(shell pkg-config --libs check 2>/dev/null) $(PKG_LIBS)

test-unit: $(UNIT_BIN)
	$(UNIT_BIN)

# The README's test command: every test, then one closing summary line.
test: $(BIN) $(UNIT_BIN)
	@hack/install-deps.sh build test
	@tests/run-all.sh

test-asan:
	$(MAKE) BUILD=build-asan SAN=1 OPT=-O1 BIN=build-asan/imagebuilder-webhook build-asan/unit-tests build-asan/imagebuilder-webhook
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan-h2o.supp \
	  WEBHOOK_BIN=build-asan/imagebuilder-webhook UNIT_BIN=build-asan/unit-tests tests/run-all.sh --quick

# The integration suite with every server under valgrind (memcheck, full
# leak check): any error or definite leak fails it. Its time bounds stretch.
test-valgrind: $(BIN)
	@hack/install-deps.sh build test
	tests/integration/run.sh -valgrind tests/valgrind.supp

format:
	clang-format -i webhook/*.[ch] tests/unit/*.[ch] $(wildcard bench/*.c tests/fuzz/*.[ch] tests/live/*.c)

format-check:
	tests/style/run.sh

clean:
	rm -rf build build-asan bin

-include mk/*.mk
