# Build, test and demo entry points. `make demo` and `make test` install what they need.
#
# Build caches live outside the clone so that a fresh clone on the same machine builds
# warm: cargo's target directory under CACHE_DIR, Maven's jars in ~/.m2, pip's in
# ~/.cache/pip. Override CACHE_DIR to move them.

SHELL := /bin/bash
CACHE_DIR ?= $(HOME)/.cache/pravega-client-py
export CARGO_TARGET_DIR ?= $(CACHE_DIR)/cargo-target
VENV ?= .venv
PYTHON ?= python3
VENV_PY := $(VENV)/bin/python
PYPY_VENV ?= .venv-pypy
PYPY ?= pypy3
SERVER := server/pravega-standalone
PYTEST_ARGS ?=


# The C library: built by the same cargo command as setup.py runs, so that `make lib`
# and `make build` share one build of the crate.
CARGO_LIB := cargo rustc --lib --message-format=json-render-diagnostics \
	--manifest-path rust_ffi/Cargo.toml --release --crate-type staticlib,cdylib
RUST_OUT = $(CARGO_TARGET_DIR)/release
C_BUILD := build/c
PREFIX ?= /usr/local
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' rust_ffi/Cargo.toml | head -1)

.PHONY: all deps venv pypy-venv build build-pypy header lib install-lib test test-rust \
	test-c test-fuzz test-cpython test-pypy soak test-asan asan-extension bench bench-clients \
	lint demo server-start server-stop clean

all: build lib

# Debian packages come from apt when missing: cbindgen (it pins the header generator),
# the venv modules, Maven, PyPy, valgrind and pkg-config for the C tests, clang with its
# libFuzzer runtime (libclang-rt-dev, for clang's default version) for the fuzz test, and
# openssl for the TLS tests' certificates (keytool comes with java). cargo and
# java must already be on the machine.
deps: .make/deps
.make/deps:
	@missing=""; \
	command -v cbindgen >/dev/null || missing="$$missing cbindgen"; \
	$(PYTHON) -c 'import ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	command -v mvn >/dev/null || missing="$$missing maven"; \
	command -v $(PYPY) >/dev/null || missing="$$missing pypy3 pypy3-dev pypy3-venv"; \
	command -v valgrind >/dev/null || missing="$$missing valgrind"; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	command -v clang >/dev/null || missing="$$missing clang"; \
	command -v clang >/dev/null && [ -f "$$(clang -print-runtime-dir)/libclang_rt.fuzzer-$$(uname -m).a" ] \
		|| missing="$$missing libclang-rt-dev"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@command -v cargo >/dev/null || { echo "cargo is required (install Rust with rustup)"; exit 1; }
	@command -v java >/dev/null || { echo "java 11+ is required"; exit 1; }
	@mkdir -p .make && touch $@

venv: $(VENV)/.ready
$(VENV)/.ready: .make/deps requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV_PY) -m pip install -q --upgrade pip
	$(VENV_PY) -m pip install -q -r requirements-dev.txt
	@touch $@

build: venv
	$(VENV_PY) -m pip install -q --no-build-isolation .

# PyPy ships cffi built in; the same Rust staticlib is linked into its extension.
pypy-venv: $(PYPY_VENV)/.ready
$(PYPY_VENV)/.ready: .make/deps requirements-dev.txt
	$(PYPY) -m venv $(PYPY_VENV)
	$(PYPY_VENV)/bin/python -m pip install -q --upgrade pip
	$(PYPY_VENV)/bin/python -m pip install -q -r requirements-dev.txt
	@touch $@

build-pypy: pypy-venv build
	$(PYPY_VENV)/bin/python -m pip install -q --no-build-isolation .

# libpravega_client.so and .a in build/c/lib, with a pkg-config file for the built
# tree: PKG_CONFIG_PATH=build/c/lib/pkgconfig pkg-config --cflags --libs pravega_client
lib: .make/deps
	$(CARGO_LIB) >/dev/null
	mkdir -p $(C_BUILD)/lib/pkgconfig
	cp $(RUST_OUT)/libpravega_client.so $(RUST_OUT)/libpravega_client.a $(C_BUILD)/lib/
	sed -e 's|@PREFIX@|$(CURDIR)/$(C_BUILD)|' -e 's|@INCLUDEDIR@|$(CURDIR)/include|' \
		-e 's|@VERSION@|$(VERSION)|' rust_ffi/pravega_client.pc.in \
		> $(C_BUILD)/lib/pkgconfig/pravega_client.pc

install-lib: lib
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(C_BUILD)/lib/libpravega_client.so $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(C_BUILD)/lib/libpravega_client.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/pravega_client.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@INCLUDEDIR@|$${prefix}/include|' \
		-e 's|@VERSION@|$(VERSION)|' rust_ffi/pravega_client.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/pravega_client.pc

header: .make/deps
	cd rust_ffi && cbindgen --quiet --config cbindgen.toml --crate pravega_client_ffi \
		--output ../include/pravega_client.h

test: lint test-rust test-c test-fuzz test-cpython test-pypy

PY_SOURCES := pravega_client tests examples benchmarks build_ffi.py setup.py

lint: venv
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy pravega_client
	cd rust_ffi && cargo fmt --check
	cd benchmarks/rust_native && cargo fmt --check

test-rust: .make/deps
	cd rust_ffi && cargo test --release --lib --quiet

# The examples and tests in examples/c and tests/c, under valgrind, against a server of
# their own (or PRAVEGA_CONTROLLER_URI).
test-c: lib
	tests/c/run

# A libFuzzer target for the C API's calls that need no server, under ASan, UBSan and
# LeakSanitizer, in a child process for FUZZ_SECONDS (60 by default); see
# docs/c-api.md#fuzzing. Crash inputs go to build/fuzz.
FUZZ_SECONDS ?= 60
test-fuzz: lib
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run

# PYTHONFAULTHANDLER also covers the child interpreters that tests start, so that a
# crash or a watchdog timeout anywhere prints every thread's stack.
test-cpython: build
	PYTHONFAULTHANDLER=1 $(VENV)/bin/pytest $(PYTEST_ARGS)

test-pypy: build-pypy
	PYTHONFAULTHANDLER=1 $(PYPY_VENV)/bin/pytest $(PYTEST_ARGS)

# tests/test_soak.py at full scale (a million events written and read, thousands of
# create/close cycles), on CPython and then on PyPy, each against a server of its own.
# It prints the threads, descriptors and memory measured before and after. Not part
# of `make test`, which runs the same module at a small scale.
soak: build build-pypy
	PYTHONFAULTHANDLER=1 PRAVEGA_SOAK=full $(VENV)/bin/pytest -s tests/test_soak.py $(PYTEST_ARGS)
	PYTHONFAULTHANDLER=1 PRAVEGA_SOAK=full $(PYPY_VENV)/bin/pytest -s tests/test_soak.py $(PYTEST_ARGS)

# The Python suite with the cffi extension compiled under AddressSanitizer and libasan
# preloaded into CPython. Stable Rust cannot instrument the crate itself, but ASan still
# checks every malloc, free, memcpy and memmove the Rust code makes through libc, and
# every call the extension makes. Not part of `make test`: it is slow, and CPython leaks
# by design at exit, so leak checking is off. ASan's quarantine keeps freed memory, so
# the RSS-flatness test cannot hold here and is deselected.
ASAN_VENV ?= .venv-asan
ASAN_SITE = $(shell test -x $(ASAN_VENV)/bin/python && $(ASAN_VENV)/bin/python -c \
	'import sysconfig; print(sysconfig.get_paths()["purelib"])')
test-asan: build
	test -x $(ASAN_VENV)/bin/python || $(PYTHON) -m venv $(ASAN_VENV)
	$(ASAN_VENV)/bin/python -m pip install -q cffi pytest setuptools
	$(MAKE) --no-print-directory asan-extension
	cd /tmp && LD_PRELOAD=$$(gcc -print-file-name=libasan.so) \
		ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
		$(CURDIR)/$(ASAN_VENV)/bin/python -m pytest -p no:cacheprovider $(PYTEST_ARGS) \
		--rootdir=$(CURDIR) $(CURDIR)/tests --deselect \
		tests/test_stream_manager.py::test_a_thousand_managers_leave_threads_fds_and_memory_flat

# Re-run by test-asan once the venv exists, so that ASAN_SITE is known.
asan-extension:
	rm -rf $(ASAN_VENV)/ext && mkdir -p $(ASAN_VENV)/ext $(ASAN_SITE)/pravega_client
	cd $(ASAN_VENV)/ext && CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" \
		LDFLAGS="-fsanitize=address" $(CURDIR)/$(ASAN_VENV)/bin/python \
		$(CURDIR)/build_ffi.py >/dev/null
	cp pravega_client/*.py $(ASAN_VENV)/ext/pravega_client/_native.*.so \
		$(ASAN_SITE)/pravega_client/

# Every client side by side against one local server: see benchmarks/RUNNERS.md.
# Results go to benchmarks/results/. Timing never goes into `make test`.
PYO3_VENV ?= .venv-pyo3
BENCH_ARGS ?=
bench: build build-pypy lib bench-clients
	$(VENV_PY) benchmarks/run.py $(BENCH_ARGS)

bench-clients: venv
	$(VENV_PY) -m pip install -q -r requirements-bench.txt
	test -x $(PYO3_VENV)/bin/python || $(PYTHON) -m venv $(PYO3_VENV)
	$(PYO3_VENV)/bin/python -m pip install -q pravega==0.3.8
	cargo build --release --quiet --manifest-path benchmarks/rust_native/Cargo.toml
	mkdir -p build/c/bin
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -pthread benchmarks/c_abi.c \
		$$(PKG_CONFIG_PATH=build/c/lib/pkgconfig pkg-config --cflags --libs pravega_client) \
		-o build/c/bin/c_abi_bench

# `make demo DEMO_PYTHON=pypy` runs the quickstart on PyPy instead of CPython.
DEMO_PYTHON ?= cpython
ifeq ($(DEMO_PYTHON),pypy)
DEMO_BUILD := build-pypy
DEMO_PY := $(PYPY_VENV)/bin/python
else ifeq ($(DEMO_PYTHON),cpython)
DEMO_BUILD := build
DEMO_PY := $(VENV_PY)
else
$(error DEMO_PYTHON must be cpython or pypy, not $(DEMO_PYTHON))
endif

demo: $(DEMO_BUILD)
	@uri=$$($(SERVER) start) || exit 1; \
	trap '$(SERVER) stop' EXIT; \
	$(DEMO_PY) examples/quickstart.py "$$uri"

server-start: .make/deps
	$(SERVER) start

server-stop:
	$(SERVER) stop

clean:
	rm -rf build dist *.egg-info .make $(VENV) $(PYPY_VENV) pravega_client/_native.*
