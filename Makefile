# hyperstack-rpc: `make demo` runs the main job, `make test` runs every test.
# Both install what a fresh Debian machine lacks first.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SWIFT ?= swift
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_INSTALL := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends
RPC_BIN := .build/debug/hyperstack-rpc
SANDBOX_BIN := .build/debug/hyperstack-sandbox

.PHONY: release demo test check build fuzz fuzz-short sanitizers sanitizers-short soak system-deps test-deps unit-tests e2e-tests daemon-tests client-tests bench bench-smoke clean

## The main job: a scripted session against the embedded sandbox.
demo: system-deps build
	$(PYTHON) clients/python/examples/demo.py --binary $(RPC_BIN)

## Every test: Swift units, end-to-end over pipes and HTTP, the clients, the bench harness.
test: system-deps test-deps build
	$(MAKE) --no-print-directory unit-tests e2e-tests client-tests fuzz-short sanitizers-short bench-smoke

## The edit loop: build, the Swift unit tests and a quick end-to-end subset (a few minutes
## on an incremental build). `make test` stays the full suite that CI runs.
CHECK_E2E := Tests/EndToEnd/test_jsonrpc_spec.py Tests/EndToEnd/test_lifecycle.py \
	Tests/EndToEnd/test_framing.py Tests/EndToEnd/test_api_keys_lifecycle.py Tests/EndToEnd/test_mcp_protocol.py
check: system-deps test-deps build
	$(MAKE) --no-print-directory unit-tests
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) HYPERSTACK_SANDBOX_BIN=$(CURDIR)/$(SANDBOX_BIN) \
		$(PYTHON) -m pytest -q -x --timeout 120 $(CHECK_E2E)

build: system-deps
	$(SWIFT) build

## The binaries as we ship them: optimised, with the Swift runtime linked in statically, and
## linked by the toolchain's lld with packed relative relocations (RELR): still position-
## independent, with a tenth of the start-up relocation work. --no-export-dynamic keeps our
## ~31,000 symbols out of the dynamic symbol table, which SwiftPM fills for testable
## executables: the runtime's dladdr at start walks that table, and it grew with every symbol
## (a start-up cost of ~1M instructions, 13%; callgrind.py measures it). Nothing looks our
## symbols up at run time. Benchmarks/run.sh builds this way.
RELEASE_FLAGS := -c release --static-swift-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
	-Xlinker --no-export-dynamic
release: system-deps
	$(SWIFT) build $(RELEASE_FLAGS)

## Build dependencies: Jansson and pkg-config, installed only when missing.
system-deps:
	@missing=""; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	{ command -v pkg-config >/dev/null 2>&1 && pkg-config --exists jansson; } || missing="$$missing libjansson-dev"; \
	command -v $(PYTHON) >/dev/null 2>&1 || missing="$$missing python3 python3-pip"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(APT_INSTALL) $$missing; \
	fi

## Test-only tools: jq and Neovim from Debian, pytest, jsonschema, mcp and fastmcp from PyPI.
test-deps: system-deps
	@missing=""; \
	command -v jq >/dev/null 2>&1 || missing="$$missing jq"; \
	command -v nvim >/dev/null 2>&1 || missing="$$missing neovim"; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc libc6-dev"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(APT_INSTALL) $$missing; \
	fi
	@command -v node >/dev/null 2>&1 || { echo "Node.js >= 18 is required for the Node client's tests"; exit 1; }
	@$(PYTHON) -c 'import pytest, pytest_timeout, jsonschema, mcp, fastmcp' 2>/dev/null || \
		$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/EndToEnd/requirements.txt || \
		$(PYTHON) -m pip install -q --disable-pip-version-check --break-system-packages -r Tests/EndToEnd/requirements.txt

unit-tests:
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Every Tests/EndToEnd/test_*.py, the shared daemon's test_daemon_*.py included.
e2e-tests:
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) HYPERSTACK_SANDBOX_BIN=$(CURDIR)/$(SANDBOX_BIN) \
		$(PYTHON) -m pytest -q --timeout 300 Tests/EndToEnd

## The shared daemon's end-to-end suites alone (issue 12; e2e-tests runs them too), about 4 minutes.
## They need root for the other-uid and foreign-owner cases (skipped otherwise).
DAEMON_E2E := $(sort $(wildcard Tests/EndToEnd/test_daemon_*.py))
daemon-tests: build
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) HYPERSTACK_SANDBOX_BIN=$(CURDIR)/$(SANDBOX_BIN) \
		$(PYTHON) -m pytest -q --timeout 300 $(DAEMON_E2E)

client-tests:
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) HYPERSTACK_SANDBOX_BIN=$(CURDIR)/$(SANDBOX_BIN) \
		$(PYTHON) -m pytest -q --timeout 300 clients/python/tests
	cd clients/node && HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) node --test
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) bash clients/shell/test_shell.sh
	HYPERSTACK_RPC_BIN=$(CURDIR)/$(RPC_BIN) bash clients/neovim/test/run.sh

## Longer runs of the reliability suites (documented in the README's Reliability section).
soak: system-deps test-deps release
	Tests/Reliability/run_long.sh

fuzz: system-deps
	Tests/Fuzz/run.sh $(or $(FUZZ_SECONDS),600)

sanitizers: system-deps
	Tests/Fuzz/sanitizers.sh all

## In `make test`: the seed corpus replayed, 30 s of libFuzzer, and the JSON, JSON-RPC and
## key-store suites under ThreadSanitizer and AddressSanitizer (each a build of its own).
fuzz-short:
	.build/debug/hyperstack-rpc-fuzz Tests/Fuzz/corpus Tests/Fuzz/regressions
	Tests/Fuzz/run.sh 30

sanitizers-short:
	Tests/Fuzz/sanitizers.sh all

## The benchmark table (release build, peers from PyPI); the smoke mode only checks the harness runs.
bench: system-deps
	Benchmarks/run.sh

bench-smoke:
	HYPERSTACK_BENCH_BUILD=debug Benchmarks/run.sh --smoke

clean:
	rm -rf .build
