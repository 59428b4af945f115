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

# The pure core: exactly these modules (webhook/NAME.c; names of modules
# still to come are fine). They build libwebhook-core.a, which links with
# cJSON, libyaml and libcrypto only, never libcurl or libh2o, and whose
# objects reference no I/O, clock or thread symbol (tests/purity checks
# both). Every other file but main.c is the shell, libwebhook-shell.a.
CORE_NAMES := admission awsproto awsxml base64 buf checks config config_schema config_check config_cross decide errmsg h2scan imageref \
              imagespec inject jsonout jsonpatch jsonscan k8sname kubeconfig nsanswer patch podscan policy registry \
              rules sigv4 specache specannot strlist strset target verdict wwwauth yamldoc yamlout deadline
CORE_NAMES += jwt cloudtok config_build certplan secret
CORE_SRCS  := $(wildcard $(patsubst %,webhook/%.c,$(CORE_NAMES)))
SHELL_SRCS := $(filter-out webhook/main.c $(CORE_SRCS),$(wildcard webhook/*.c))
CORE_OBJS  := $(patsubst webhook/%.c,$(BUILD)/obj/%.o,$(CORE_SRCS))
SHELL_OBJS := $(patsubst webhook/%.c,$(BUILD)/obj/%.o,$(SHELL_SRCS))
CORE_LIB   := $(BUILD)/libwebhook-core.a
SHELL_LIB  := $(BUILD)/libwebhook-shell.a
# What a program using the shell links: the shell first, it calls the core.
WEBHOOK_LIBS := $(SHELL_LIB) $(CORE_LIB)
CORE_PKGS  := libcjson yaml-0.1 libcrypto
CORE_PKG_LIBS = $(shell pkg-config --libs $(CORE_PKGS) 2>/dev/null) -lm

.PHONY: all deps test test-unit test-asan test-valgrind run format format-check clean FORCE
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

$(SHELL_LIB): $(SHELL_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/obj/main.o $(WEBHOOK_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- unit tests (Check) ---------------------------------------------------
# Two programs: unit-core runs the tests of the core modules (and of
# anything not named after a shell module), linked with the core library
# only; unit-shell runs the tests named after shell modules (test_NAME.c
# for a webhook/NAME.c outside CORE_NAMES). $(UNIT_BIN) is a small script
# that runs both and prints one "unit: N passed, M failed" line; it is what
# tests/unit/run.sh and tests/run-all.sh run.
UNIT_SRCS       := $(wildcard tests/unit/test_*.c)
SHELL_NAMES     := $(filter-out main,$(patsubst webhook/%.c,%,$(SHELL_SRCS)))
UNIT_SHELL_SRCS := $(filter $(patsubst %,tests/unit/test_%.c,$(SHELL_NAMES)),$(UNIT_SRCS))
UNIT_CORE_SRCS  := $(filter-out $(UNIT_SHELL_SRCS),$(UNIT_SRCS))
UNIT_CORE_BIN   := $(BUILD)/unit-core
UNIT_SHELL_BIN  := $(BUILD)/unit-shell
UNIT_BIN        := $(BUILD)/unit-tests
CHECK_LIBS       = $(shell pkg-config --libs check 2>/dev/null)

# suites.h: the suites of one program's test files (tests/unit/gen-suites.sh).
# The list of files is kept in a file of its own, so that a test moving from
# one program to the other regenerates both.
$(BUILD)/suites/core/files: FORCE
	@mkdir -p $(@D)
	@echo '$(UNIT_CORE_SRCS)' | cmp -s - $@ 2>/dev/null || echo '$(UNIT_CORE_SRCS)' > $@
$(BUILD)/suites/shell/files: FORCE
	@mkdir -p $(@D)
	@echo '$(UNIT_SHELL_SRCS)' | cmp -s - $@ 2>/dev/null || echo '$(UNIT_SHELL_SRCS)' > $@
$(BUILD)/suites/core/suites.h: tests/unit/gen-suites.sh $(UNIT_CORE_SRCS) $(BUILD)/suites/core/files
	@tests/unit/gen-suites.sh $(UNIT_CORE_SRCS) > $@
$(BUILD)/suites/shell/suites.h: tests/unit/gen-suites.sh $(UNIT_SHELL_SRCS) $(BUILD)/suites/shell/files
	@tests/unit/gen-suites.sh $(UNIT_SHELL_SRCS) > $@

UNIT_DEPS := tests/unit/main.c $(wildcard tests/unit/*.h)
$(UNIT_CORE_BIN): $(UNIT_DEPS) $(UNIT_CORE_SRCS) $(BUILD)/suites/core/suites.h $(CORE_LIB)
	$(CC) $(CFLAGS) -DUNIT_NAME='"unit-core"' -I$(BUILD)/suites/core -Itests/unit -o $@ \
	  tests/unit/main.c $(UNIT_CORE_SRCS) $(CORE_LIB) $(LDFLAGS) $(CHECK_LIBS) $(CORE_PKG_LIBS)

$(UNIT_SHELL_BIN): $(UNIT_DEPS) $(UNIT_SHELL_SRCS) $(BUILD)/suites/shell/suites.h $(WEBHOOK_LIBS)
	$(CC) $(CFLAGS) -DUNIT_NAME='"unit-shell"' -I$(BUILD)/suites/shell -Itests/unit -o $@ \
	  tests/unit/main.c $(UNIT_SHELL_SRCS) $(WEBHOOK_LIBS) $(LDFLAGS) $(CHECK_LIBS) $(PKG_LIBS)

$(UNIT_BIN): tests/unit/unit-tests.sh $(UNIT_CORE_BIN) $(UNIT_SHELL_BIN)
	install -m 755 $< $@

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

FORCE:

-include mk/*.mk
