# SPDX-License-Identifier: Apache-2.0
# Custos top-level build. `make` builds everything into build/, `make test`
# runs the whole suite (unit tests plain and with ASan+UBSan, fuzz smoke
# runs), `make deps` installs the Debian packages it needs (as root),
# `make install` honours PREFIX and DESTDIR.

PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build
CC ?= gcc
CLANG ?= clang
FUZZ_SECONDS ?= 15

# Runtime and build dependencies, one list for `make deps` and the README.
DEB_PACKAGES := build-essential clang llvm libclang-rt-14-dev pkg-config \
	libbpf-dev bpftool libelf-dev libdw-dev libsodium-dev zlib1g-dev libcbor-dev \
	libsqlite3-dev libyaml-dev libjansson-dev libcmocka-dev iproute2 procps

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
BASE_CFLAGS := -std=gnu11 -g $(WARN) -Icommon -MMD -MP
LIBS := -lsodium -lcbor -lz

REL_CFLAGS := $(BASE_CFLAGS) -O2 $(HARDEN) $(CFLAGS)
REL_LDFLAGS := -pie -Wl,-z,relro,-z,now -Wl,-z,noexecstack $(LDFLAGS)
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN) -fPIE
SAN_LDFLAGS := -pie $(SAN)

COMMON_SRCS := $(sort $(wildcard common/*.c))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_NAMES := $(patsubst tests/unit/%.c,%,$(UNIT_SRCS))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(patsubst tests/fuzz/%.c,%,$(FUZZ_SRCS))
E2E_SCRIPTS := $(sort $(wildcard tests/e2e/test_*.sh))
TOOLS :=

REL_LIB := $(BUILD)/libcustos.a
SAN_LIB := $(BUILD)/asan/libcustos.a
REL_TESTS := $(addprefix $(BUILD)/tests/,$(UNIT_NAMES))
SAN_TESTS := $(addprefix $(BUILD)/asan/tests/,$(UNIT_NAMES))
FUZZERS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))

.PHONY: all test unit fuzz deps install clean demo
all: $(REL_LIB) $(TOOL_BINS) $(REL_TESTS)

# --- libcustos -------------------------------------------------------------
$(BUILD)/common/%.o: common/%.c | $(BUILD)/common
	$(CC) $(REL_CFLAGS) -c $< -o $@
$(BUILD)/asan/common/%.o: common/%.c | $(BUILD)/asan/common
	$(CC) $(SAN_CFLAGS) -c $< -o $@
$(REL_LIB): $(patsubst common/%.c,$(BUILD)/common/%.o,$(COMMON_SRCS))
	ar rcs $@ $^
$(SAN_LIB): $(patsubst common/%.c,$(BUILD)/asan/common/%.o,$(COMMON_SRCS))
	ar rcs $@ $^

# --- unit tests (cmocka), plain and sanitized ------------------------------
$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) -Itests/unit $< -o $@ $(REL_LDFLAGS) $(REL_LIB) $(LIBS) -lcmocka
$(BUILD)/asan/tests/%: tests/unit/%.c tests/unit/testutil.h $(SAN_LIB) | $(BUILD)/asan/tests
	$(CC) $(SAN_CFLAGS) -Itests/unit $< -o $@ $(SAN_LDFLAGS) $(SAN_LIB) $(LIBS) -lcmocka

# --- libFuzzer targets (clang, ASan+UBSan) ---------------------------------
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRCS) | $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -fsanitize=fuzzer,address,undefined \
		$< $(COMMON_SRCS) -o $@ $(LIBS)

$(BUILD)/common $(BUILD)/asan/common $(BUILD)/tests $(BUILD)/asan/tests $(BUILD)/fuzz:
	mkdir -p $@

# --- test suite ------------------------------------------------------------
test: all $(SAN_TESTS) $(FUZZERS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) tests/run-tests.sh \
		$(REL_TESTS) $(SAN_TESTS) -- $(FUZZERS) -- $(E2E_SCRIPTS)

# --- set-up ----------------------------------------------------------------
deps:
	@packaging/install-deps.sh $(DEB_PACKAGES)

demo: all
	@tools/demo.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/custos
	install -m 0755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(REL_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 common/*.h $(DESTDIR)$(PREFIX)/include/custos/

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
