# SPDX-License-Identifier: Apache-2.0
# Custos top-level build. `make` builds everything into build/, `make test`
# runs the whole suite (unit tests plain and with ASan+UBSan, fuzz smoke
# runs), `make deps` installs the Debian packages it needs (as root),
# `make install` honours PREFIX, DESTDIR, SYSCONFDIR (/etc) and UNITDIR
# (/lib/systemd/system).

PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
BUILD ?= build
CC ?= gcc
CLANG ?= clang
FUZZ_SECONDS ?= 15

# Runtime and build dependencies, one list for `make deps` and the README.
DEB_PACKAGES := build-essential clang llvm libclang-rt-14-dev pkg-config \
	libbpf-dev bpftool libelf-dev libdw-dev libsodium-dev zlib1g-dev libcbor-dev \
	libsqlite3-dev libyaml-dev libjansson-dev libcmocka-dev iproute2 procps python3
DEB_PACKAGES += dpkg-dev libcap2-bin	# make deb (dpkg-shlibdeps), test_packages (capsh)
DEB_PACKAGES += tcpdump	# test_triage_scenarios: the packet-capture scenario

WARN := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fstack-clash-protection \
	-fcf-protection -fPIE
BASE_CFLAGS := -std=gnu11 -g $(WARN) -Icommon -MMD -MP
LIBS := -lsodium -lcbor -lz -ljansson

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
AGENT_SRCS := $(sort $(wildcard agent/*.c))
BPF_SRCS := $(sort $(wildcard bpf/*.bpf.c))
COLLECTOR_SRCS := $(sort $(wildcard collector/*.c))

REL_LIB := $(BUILD)/libcustos.a
SAN_LIB := $(BUILD)/asan/libcustos.a
REL_TESTS := $(addprefix $(BUILD)/tests/,$(UNIT_NAMES))
SAN_TESTS := $(addprefix $(BUILD)/asan/tests/,$(UNIT_NAMES))
FUZZERS := $(addprefix $(BUILD)/fuzz/,$(FUZZ_NAMES))
TOOL_BINS := $(addprefix $(BUILD)/,$(TOOLS))
AGENT := $(BUILD)/custos-agent
AGENT_OBJS := $(patsubst agent/%.c,$(BUILD)/agent/%.o,$(AGENT_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.skel.h,$(BPF_SRCS))
COLLECTOR := $(BUILD)/custos-collector
COLLECTOR_OBJS := $(patsubst collector/%.c,$(BUILD)/collector/%.o,$(COLLECTOR_SRCS))

.PHONY: all test unit fuzz deps install clean demo
all: $(REL_LIB) $(TOOL_BINS) $(REL_TESTS) $(AGENT) $(COLLECTOR)

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

# test_decode also links the agent's decoder (agent/decode.c, bpf/events.h).
$(BUILD)/tests/test_decode: tests/unit/test_decode.c agent/decode.c tests/unit/testutil.h \
		$(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) -Itests/unit -Iagent -Ibpf $< agent/decode.c -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(LIBS) -lcmocka
$(BUILD)/asan/tests/test_decode: tests/unit/test_decode.c agent/decode.c tests/unit/testutil.h \
		$(SAN_LIB) | $(BUILD)/asan/tests
	$(CC) $(SAN_CFLAGS) -Itests/unit -Iagent -Ibpf $< agent/decode.c -o $@ $(SAN_LDFLAGS) \
		$(SAN_LIB) $(LIBS) -lcmocka

# test_verify_compare links custos-verify's comparison and report lines.
VERIFY_CMP_SRCS := verify/compare.c verify/checks.c
$(BUILD)/tests/test_verify_compare: tests/unit/test_verify_compare.c $(VERIFY_CMP_SRCS) \
		verify/verify.h tests/unit/testutil.h $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) -Itests/unit -Iverify $< $(VERIFY_CMP_SRCS) -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(LIBS) -lcmocka
$(BUILD)/asan/tests/test_verify_compare: tests/unit/test_verify_compare.c $(VERIFY_CMP_SRCS) \
		verify/verify.h tests/unit/testutil.h $(SAN_LIB) | $(BUILD)/asan/tests
	$(CC) $(SAN_CFLAGS) -Itests/unit -Iverify $< $(VERIFY_CMP_SRCS) -o $@ $(SAN_LDFLAGS) \
		$(SAN_LIB) $(LIBS) -lcmocka

# Issue 4's unit tests link the agent's pipeline modules (no eBPF needed).
AGENT_PIPE_SRCS := agent/config.c agent/clock.c agent/spool.c agent/batcher.c agent/outfile.c \
	agent/snapshot.c agent/exehash.c agent/spool_io.c \
	agent/forward.c agent/hashq.c agent/proctab.c
AGENT_PIPE_TESTS := $(filter $(UNIT_NAMES),test_config test_clock test_spool test_batcher \
	test_snapshot test_exehash test_forward test_hashq test_proctab)
AGENT_PIPE_LIBS := -lyaml -lelf -lpthread -lcmocka
$(addprefix $(BUILD)/tests/,$(AGENT_PIPE_TESTS)): $(BUILD)/tests/%: tests/unit/%.c \
		$(AGENT_PIPE_SRCS) tests/unit/testutil.h $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) -Itests/unit -Iagent $< $(AGENT_PIPE_SRCS) -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(LIBS) $(AGENT_PIPE_LIBS)
$(addprefix $(BUILD)/asan/tests/,$(AGENT_PIPE_TESTS)): $(BUILD)/asan/tests/%: tests/unit/%.c \
		$(AGENT_PIPE_SRCS) tests/unit/testutil.h $(SAN_LIB) | $(BUILD)/asan/tests
	$(CC) $(SAN_CFLAGS) -Itests/unit -Iagent $< $(AGENT_PIPE_SRCS) -o $@ $(SAN_LDFLAGS) \
		$(SAN_LIB) $(LIBS) $(AGENT_PIPE_LIBS)

# Issue 4's benchmark: the agent pipeline after decode on one thread
# (`make bench`, pin it with taskset; results in docs/agent.md).
BENCH_PIPELINE := $(BUILD)/bench/bench_pipeline
all: $(BENCH_PIPELINE)
BENCH_PIPELINE_SRCS := agent/batcher.c agent/spool.c agent/spool_io.c agent/clock.c
$(BENCH_PIPELINE): bench/bench_pipeline.c $(BENCH_PIPELINE_SRCS) $(REL_LIB)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Iagent $< $(BENCH_PIPELINE_SRCS) -o $@ \
		$(REL_LDFLAGS) $(REL_LIB) $(LIBS) -lpthread
# Issue 3's benchmark: what the capture costs the processes it watches
# (as root; results and method in docs/performance.md).
BENCH_CAPTURE := $(BUILD)/bench/bench_capture
all: $(BENCH_CAPTURE)
$(BENCH_CAPTURE): bench/bench_capture.c bench/bench_run.c bench/bench_floor.c bench/bench_run.h \
		bench/bench_floor.h $(BPF_SKELS)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Ibench -I$(BUILD)/bpf bench/bench_capture.c bench/bench_run.c \
		bench/bench_floor.c -o $@ $(REL_LDFLAGS) -lbpf -lelf -lz
.PHONY: bench
bench: $(BENCH_PIPELINE) $(BENCH_CAPTURE) $(AGENT)
	taskset -c 0 $(BENCH_PIPELINE) 2000000
	$(BENCH_CAPTURE) --agent $(AGENT)

# The agent's e2e tests check its output with a stand-in collector.
all: $(BUILD)/tests/custos_peer
$(BUILD)/tests/custos_peer: tests/e2e/custos_peer.c $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) $< -o $@ $(REL_LDFLAGS) $(REL_LIB) $(LIBS)

# --- libFuzzer targets (clang, ASan+UBSan) ---------------------------------
$(BUILD)/fuzz/%: tests/fuzz/%.c $(COMMON_SRCS) | $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$< $(COMMON_SRCS) -o $@ $(LIBS)

# --- eBPF programs (CO-RE) and their skeletons -----------------------------
# vmlinux.h comes from the BTF of the kernel we build on; CO-RE relocations
# let the objects load on other kernels with BTF.
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Wextra -Werror \
	-Wno-unused-parameter -I$(BUILD)/bpf -Ibpf -MMD -MP

$(BUILD)/bpf/vmlinux.h: | $(BUILD)/bpf
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	mv $@.tmp $@
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/bpf/vmlinux.h | $(BUILD)/bpf
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
.PRECIOUS: $(BUILD)/bpf/%.bpf.o $(BUILD)/bpf/%.skel.h
$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name custos_$* > $@.tmp
	mv $@.tmp $@

# --- agent -----------------------------------------------------------------
AGENT_LIBS := -lbpf -lelf -lz -ljansson -lsodium -lcbor
AGENT_LIBS += -lyaml -lpthread	# issue 4: configuration, forwarder thread

$(BUILD)/agent/%.o: agent/%.c $(BPF_SKELS) | $(BUILD)/agent
	$(CC) $(REL_CFLAGS) -Iagent -Ibpf -I$(BUILD)/bpf -c $< -o $@
$(AGENT): $(AGENT_OBJS) $(REL_LIB)
	$(CC) $(REL_CFLAGS) $(AGENT_OBJS) -o $@ $(REL_LDFLAGS) $(REL_LIB) $(AGENT_LIBS)

# fuzz_decode fuzzes the agent's decoder of ring-buffer records.
$(BUILD)/fuzz/fuzz_decode: tests/fuzz/fuzz_decode.c agent/decode.c $(COMMON_SRCS) | $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -Iagent -Ibpf -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$< agent/decode.c $(COMMON_SRCS) -o $@ $(LIBS)

# fuzz_sigma fuzzes the collector's Sigma rule loader and condition parser.
SIGMA_SRCS := $(sort $(wildcard collector/sigma_*.c))
$(BUILD)/fuzz/fuzz_sigma: tests/fuzz/fuzz_sigma.c $(SIGMA_SRCS) $(COMMON_SRCS) | $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -Icollector -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< $(SIGMA_SRCS) $(COMMON_SRCS) -o $@ $(LIBS) -lyaml
# fuzz_corr fuzzes the threshold and sequence rule loader (issue 6).
$(BUILD)/fuzz/fuzz_corr: tests/fuzz/fuzz_corr.c collector/corr_load.c $(SIGMA_SRCS) $(COMMON_SRCS) \
		| $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -Icollector -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< collector/corr_load.c $(SIGMA_SRCS) $(COMMON_SRCS) -o $@ \
		$(LIBS) -lyaml

# --- collector ---------------------------------------------------------------
# Unit tests of collector modules (tests/unit/test_<module>.c for the
# modules below) link every collector source but main.c.
COLLECTOR_LIBS := -lsodium -lcbor -lz -ljansson -lsqlite3
COLLECTOR_LIBS += -lyaml	# issue 6: Sigma rules (collector/sigma_*.c)
COLLECTOR_MODS := $(filter-out collector/main.c,$(COLLECTOR_SRCS))
COLLECTOR_UNIT := test_custody test_ingest test_store
COLLECTOR_UNIT += test_sigma test_triage test_sigma_pack test_corr
COLLECTOR_UNIT += test_sigma_index	# the rule index (collector/sigma_index.c)
COLLECTOR_UNIT += test_incident	# incidents (collector/incident.c)
COLLECTOR_UNIT += test_pseudo	# CSIRT pseudonyms (collector/pseudo.c)
COLLECTOR_UNIT += test_export_obs	# export observables (collector/export_obs.c)
COLLECTOR_UNIT += test_corr_auth	# auth records in threshold rules (collector/corr_event.c)
COLLECTOR_UNIT += test_store_procs	# process starts (collector/store_procs.c)
COLLECTOR_UNIT += test_enroll_list	# enroll --list (collector/enroll_list.c)
$(BUILD)/collector/%.o: collector/%.c | $(BUILD)/collector
	$(CC) $(REL_CFLAGS) -Icollector -c $< -o $@
$(COLLECTOR): $(COLLECTOR_OBJS) $(REL_LIB)
	$(CC) $(REL_CFLAGS) $(COLLECTOR_OBJS) -o $@ $(REL_LDFLAGS) $(REL_LIB) $(COLLECTOR_LIBS)
$(addprefix $(BUILD)/tests/,$(COLLECTOR_UNIT)): $(BUILD)/tests/%: tests/unit/%.c \
		$(COLLECTOR_MODS) collector/*.h tests/unit/testutil.h $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) -Itests/unit -Icollector $< $(COLLECTOR_MODS) -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(COLLECTOR_LIBS) -lcmocka
$(addprefix $(BUILD)/asan/tests/,$(COLLECTOR_UNIT)): $(BUILD)/asan/tests/%: tests/unit/%.c \
		$(COLLECTOR_MODS) collector/*.h tests/unit/testutil.h $(SAN_LIB) | $(BUILD)/asan/tests
	$(CC) $(SAN_CFLAGS) -Itests/unit -Icollector $< $(COLLECTOR_MODS) -o $@ $(SAN_LDFLAGS) \
		$(SAN_LIB) $(COLLECTOR_LIBS) -lcmocka
# The Sigma tests' shared helpers (tests/unit/sigma_testutil.h).
$(addprefix $(BUILD)/tests/,$(COLLECTOR_UNIT)) $(addprefix $(BUILD)/asan/tests/,$(COLLECTOR_UNIT)): \
	tests/unit/sigma_testutil.h

# Issue 5's benchmark (and issue 6's triage cost): collector ingest and
# timeline queries on one core (`make bench`; docs/performance.md).
BENCH_COLLECTOR := $(BUILD)/bench/bench_collector
BENCH_COLLECTOR_SRCS := $(filter-out collector/export% collector/incident_cli.c,$(COLLECTOR_MODS))
all: $(BENCH_COLLECTOR)
$(BENCH_COLLECTOR): bench/bench_collector.c bench/bench_mix.c bench/bench_mix.h $(BENCH_COLLECTOR_SRCS) \
		collector/*.h $(REL_LIB)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Icollector -Ibench $< bench/bench_mix.c $(BENCH_COLLECTOR_SRCS) -o $@ \
		$(REL_LDFLAGS) \
		$(REL_LIB) $(COLLECTOR_LIBS)
.PHONY: bench-collector
bench: bench-collector
bench-collector: $(BENCH_COLLECTOR)
	taskset -c 0 $(BENCH_COLLECTOR) --rules collector/rules

# Ingest over TCP with thousands of agents: the real serve (CPU 0) against
# simulated agents (CPU 1), `import` of the same batches as the baseline
# (`make bench`, as root for the open-file limit; docs/performance.md).
BENCH_SERVE := $(BUILD)/bench/bench_serve
BENCH_SERVE_OBJS := $(filter-out $(BUILD)/collector/main.o,$(COLLECTOR_OBJS))
all: $(BENCH_SERVE)
BENCH_SERVE_SRCS := bench/bench_serve.c bench/bench_serve_load.c bench/bench_serve_base.c bench/bench_mix.c
$(BENCH_SERVE): $(BENCH_SERVE_SRCS) bench/bench_serve.h bench/bench_mix.h $(BENCH_SERVE_OBJS) $(REL_LIB)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Icollector -Ibench $(BENCH_SERVE_SRCS) $(BENCH_SERVE_OBJS) -o $@ \
		$(REL_LDFLAGS) $(REL_LIB) $(COLLECTOR_LIBS)
.PHONY: bench-serve
bench: bench-serve
bench-serve: $(BENCH_SERVE) $(COLLECTOR)
	$(BENCH_SERVE) --collector $(COLLECTOR)

# Issue 6's benchmark: rules evaluated per second (SigmaHQ's linux set read
# from ../shared/sigma, and our pack) against decoding the same records
# alone (`make bench`; docs/performance.md).
BENCH_TRIAGE := $(BUILD)/bench/bench_triage
all: $(BENCH_TRIAGE)
$(BENCH_TRIAGE): bench/bench_triage.c $(COLLECTOR_MODS) collector/*.h $(REL_LIB)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Icollector $< $(COLLECTOR_MODS) -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(COLLECTOR_LIBS)
.PHONY: bench-triage
bench: bench-triage
bench-triage: $(BENCH_TRIAGE)
	taskset -c 0 $(BENCH_TRIAGE) --sigma ../shared/sigma --rules collector/rules

# The agent side of the collector's e2e tests (tests/e2e/test_collector_*.sh).
COLLECTOR_PEER := $(BUILD)/tests/collector_peer
all: $(COLLECTOR_PEER)
$(COLLECTOR_PEER): tests/e2e/collector_peer.c $(REL_LIB) | $(BUILD)/tests
	$(CC) $(REL_CFLAGS) $< -o $@ $(REL_LDFLAGS) $(REL_LIB) $(LIBS)

# --- custos-verify (issue 7): the offline bundle verifier, common/ only ------
VERIFY := $(BUILD)/custos-verify
VERIFY_SRCS := $(sort $(wildcard verify/*.c))
all: $(VERIFY)
$(VERIFY): $(VERIFY_SRCS) verify/verify.h $(REL_LIB)
	$(CC) $(REL_CFLAGS) -Iverify $(VERIFY_SRCS) -o $@ $(REL_LDFLAGS) $(REL_LIB) $(LIBS)

# fuzz_tar fuzzes custos-verify's tar reader (verify/tar.c).
$(BUILD)/fuzz/fuzz_tar: tests/fuzz/fuzz_tar.c verify/tar.c verify/verify.h $(COMMON_SRCS) | $(BUILD)/fuzz
	$(CLANG) -std=gnu11 -g -O1 -Icommon -Iverify -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all $< verify/tar.c $(COMMON_SRCS) -o $@ $(LIBS)

# Issue 7's benchmark: export and custos-verify of one million records on
# one core (`make bench`; docs/performance.md).
BENCH_EXPORT := $(BUILD)/bench/bench_export
BENCH_EXPORT_OBJS := $(filter-out $(BUILD)/collector/main.o,$(COLLECTOR_OBJS))
all: $(BENCH_EXPORT)
$(BENCH_EXPORT): bench/bench_export.c $(BENCH_EXPORT_OBJS) $(REL_LIB)
	mkdir -p $(BUILD)/bench
	$(CC) $(REL_CFLAGS) -Icollector $< $(BENCH_EXPORT_OBJS) -o $@ $(REL_LDFLAGS) \
		$(REL_LIB) $(COLLECTOR_LIBS)
.PHONY: bench-export
bench: bench-export
bench-export: $(BENCH_EXPORT) $(VERIFY)
	taskset -c 0 $(BENCH_EXPORT) 1000000

$(BUILD)/common $(BUILD)/asan/common $(BUILD)/tests $(BUILD)/asan/tests $(BUILD)/fuzz \
$(BUILD)/bpf $(BUILD)/agent $(BUILD)/collector:
	mkdir -p $@

# --- test suite ------------------------------------------------------------
test: all $(SAN_TESTS) $(FUZZERS)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) BUILD=$(BUILD) tests/run-tests.sh \
		$(REL_TESTS) $(SAN_TESTS) -- $(FUZZERS) -- $(E2E_SCRIPTS)

# --- set-up ----------------------------------------------------------------
deps:
	@packaging/install-deps.sh $(DEB_PACKAGES)

# The main job: a collector and an agent on this host, the host's timeline
# live until Ctrl-C (or DEMO_SECONDS), throwaway keys in a temporary dir.
DEMO_SECONDS ?= 0
demo: all
	@packaging/demo.sh $(BUILD) $(DEMO_SECONDS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/include/custos
	install -m 0755 $(AGENT) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(COLLECTOR) $(DESTDIR)$(PREFIX)/sbin/
	install -m 0755 $(VERIFY) $(DESTDIR)$(PREFIX)/bin/
	$(if $(TOOL_BINS),install -m 0755 $(TOOL_BINS) $(DESTDIR)$(PREFIX)/bin/)
	install -m 0644 $(REL_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 common/*.h $(DESTDIR)$(PREFIX)/include/custos/
	packaging/install-files.sh "$(DESTDIR)" $(PREFIX) $(SYSCONFDIR) $(UNITDIR)

# Debian packages custos-agent and custos-collector in $(BUILD)/deb
# (dpkg-deb; custos-verify goes into custos-collector when built).
DEB_VERSION ?= 0.1.0
.PHONY: deb
deb: all
	packaging/deb/build-deb.sh $(BUILD) $(BUILD)/deb $(DEB_VERSION)

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
