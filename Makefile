# spiffe-sidecar: every target runs on Node 24 from node_modules (npm's
# node@24 devDependency), never the system node.
NODE := ./node_modules/.bin/node
TSC  := ./node_modules/.bin/tsc

.PHONY: all deps lint typecheck test test-unit build demo dev-agent bench bench-quick spire clean

all: lint test

## deps: Debian packages, npm packages from the lockfile, the pinned SPIRE build
deps:
	./test/support/install-deps.sh

typecheck: node_modules/.bin/tsc
	$(TSC) -p tsconfig.json --noEmit

lint: typecheck

## test: every test (unit, integration with the dev agent, e2e with real SPIRE)
test: deps lint
	$(NODE) test/support/run-tests.ts

test-unit: node_modules/.bin/tsc
	$(NODE) test/support/run-tests.ts unit

build: node_modules/.bin/tsc
	$(TSC) -p tsconfig.build.json

## demo: the main job (see README)
demo: deps
	$(NODE) sidecar/cli/main.ts demo

spire:
	./test/support/install-spire.sh

clean:
	rm -rf dist .tmp

node_modules/.bin/tsc: package-lock.json
	npm ci --no-audit --no-fund
