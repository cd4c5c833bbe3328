# mcpguard build. `make` builds everything; `sudo make run` and `sudo make test` do all set-up.
# Sources are picked up by directory so adding a file needs no Makefile edit.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
O        ?= build

PKGS     := libbpf libelf zlib libcjson libpcre2-8 libcap yaml-0.1 libutf8proc \
            libsodium libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libhs 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# Vectorscan: its scanning runtime linked in; the compiler (libhs.so.5, C++) is
# dlopen()ed by user/scan/mpm.c only when a database is not cached.
HS_LIBS    := -Wl,-Bstatic -lhs_runtime -Wl,-Bdynamic -ldl
# ICU only at build time: it turns Unicode's confusables into a table (user/tools).
ICU_FLAGS  := $(shell pkg-config --cflags --libs icu-uc icu-i18n 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 $(WARN) -D_GNU_SOURCE -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
            -I$(O)/skel -I$(O)/gen -Ibpf -Iuser -Iuser/common -Iuser/scan -Iuser/proxy $(PKG_CFLAGS)
LDLIBS   += $(PKG_LIBS) $(HS_LIBS) -lm -lpthread
# Each program maps only the libraries it calls (the proxy has no use for libbpf).
LDFLAGS  += -Wl,--as-needed

ifeq ($(SAN),1)
O        := build-san
CFLAGS   := $(filter-out -D_FORTIFY_SOURCE=2,$(CFLAGS)) -O1 -fsanitize=address,undefined \
            -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
endif

# The portable byte-at-a-time paths (what arm64 runs), for the unit tests: no SSE2.
ifeq ($(SCALAR),1)
O        := build-scalar
CFLAGS   += -U__SSE2__
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(O)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(O)/skel/%.skel.h,$(BPF_SRCS))
VMLINUX   := $(O)/vmlinux/vmlinux.h

LIB_SRCS    := $(wildcard user/common/*.c user/scan/*.c)
DAEMON_SRCS := $(wildcard user/daemon/*.c)
PROXY_SRCS  := $(wildcard user/proxy/*.c)
UNIT_SRCS   := $(wildcard tests/unit/*.c)
HELPER_SRCS := $(wildcard tests/helpers/*.c)
BENCH_SRCS  := $(wildcard bench/*.c)

LIB_OBJS    := $(patsubst %.c,$(O)/%.o,$(LIB_SRCS))
DAEMON_OBJS := $(patsubst %.c,$(O)/%.o,$(DAEMON_SRCS))
PROXY_OBJS  := $(patsubst %.c,$(O)/%.o,$(PROXY_SRCS))
UNIT_OBJS   := $(patsubst %.c,$(O)/%.o,$(UNIT_SRCS))
HELPERS     := $(patsubst tests/helpers/%.c,$(O)/tests/%,$(HELPER_SRCS))
BENCHES     := $(patsubst bench/%.c,$(O)/bench/%,$(BENCH_SRCS))

LIB      := $(O)/libmcpguard.a
BINS     := $(O)/mcpguardd $(O)/mcpguard
UNIT     := $(O)/tests/unit-tests

.PHONY: all deps run test unit hosttest vmtest e2etest bench clean format check-format san
all: $(BINS) $(UNIT) $(HELPERS) $(BENCHES)

deps:
	@sh scripts/deps.sh

# vmlinux.h: from this kernel's BTF when it has one, else the checked-in copy.
$(VMLINUX):
	@mkdir -p $(dir $@)
	@if [ -r /sys/kernel/btf/vmlinux ] && $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp 2>/dev/null; \
	then mv $@.tmp $@; else rm -f $@.tmp; cp vmlinux/vmlinux.h $@; fi

$(O)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX)
	@mkdir -p $(dir $@)
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(O)/vmlinux -Ibpf -Wall -Werror \
		-c $< -o $@.tmp && llvm-strip -g $@.tmp -o $@ 2>/dev/null || mv $@.tmp $@
	@rm -f $@.tmp

$(O)/skel/%.skel.h: $(O)/bpf/%.bpf.o
	@mkdir -p $(dir $@)
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Only code that includes skeletons waits for them (-MMD tracks later changes).
$(DAEMON_OBJS) $(PROXY_OBJS) $(UNIT_OBJS) $(HELPERS) $(BENCHES): | $(SKELS)

# Generated at build time by a host tool (never built with the sanitizers).
$(O)/gen/genconfusables: user/tools/genconfusables.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -o $@ $< $(ICU_FLAGS)

$(O)/gen/confusables.inc: $(O)/gen/genconfusables
	$< > $@.tmp && mv $@.tmp $@

$(O)/user/scan/confusable.o: $(O)/gen/confusables.inc

# .incbin is invisible to -MMD: say it here.
$(O)/user/common/default_policy.o: policy/default.yaml

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(O)/mcpguardd: $(DAEMON_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIB) $(LDLIBS)

$(O)/mcpguard: $(PROXY_OBJS) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(PROXY_OBJS) $(LIB) $(LDLIBS)

# The unit tests also link ICU: confusable skeletons are checked against it.
$(UNIT): $(UNIT_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(LIB) $(LDLIBS) $(ICU_FLAGS)

$(O)/tests/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(O)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The pipeline benchmark drives the proxy's own objects (all but its main).
PROXY_PARTS := $(filter-out $(O)/user/proxy/mcpguard.o,$(PROXY_OBJS))
$(O)/bench/pipeline_bench: bench/pipeline_bench.c $(PROXY_PARTS) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROXY_PARTS) $(LIB) $(LDLIBS)

san:
	$(MAKE) SAN=1 all

run: deps
	$(MAKE) all
	$(O)/mcpguardd --cgroup /mcp --policy policy/default.yaml

# Every test: unit (also under ASan/UBSan), host kernel, VM (BPF-LSM), end to end.
test: deps
	$(MAKE) all
	$(MAKE) SAN=1 all
	$(MAKE) SCALAR=1 build-scalar/tests/unit-tests
	sh tests/run.sh

unit: all
	sh tests/run.sh unit

hosttest: all
	sh tests/run.sh host

vmtest: all
	sh tests/run.sh vm

e2etest: all
	sh tests/run.sh e2e

bench: deps
	$(MAKE) all
	sh bench/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h' | grep -v '^vmlinux/')

clean:
	rm -rf build build-san build-scalar

-include $(shell find $(O) -name '*.d' 2>/dev/null)
