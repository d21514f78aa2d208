# spiffe-sidecar: every target runs on Node 24 from node_modules (npm's
# node@24 devDependency), never the system node.
NODE := ./node_modules/.bin/node
TSC  := ./node_modules/.bin/tsc

.PHONY: all deps lint typecheck test test-fast test-unit test-integration test-e2e build demo dev-agent bench bench-quick spire clean

all: lint test

## deps: Debian packages, npm packages from the lockfile, the pinned SPIRE build
deps:
	./test/support/install-deps.sh

typecheck: node_modules/.bin/tsc
	$(TSC) -p tsconfig.json --noEmit

## lint: types, plus the module map (folders import inward, only through index.ts)
lint: typecheck
	$(NODE) --test --disable-warning=ExperimentalWarning test/unit/architecture.test.ts

## test: everything CI runs: unit, integration with the dev agent, e2e with real SPIRE (root),
## then the quick benchmark on its own (test/bench)
test: deps lint
	$(NODE) test/support/run-tests.ts ci

## test-fast: the inner loop, as `npm test`: unit + integration (no root, no SPIRE, no benchmark)
test-fast: node_modules/.bin/tsc
	$(NODE) test/support/run-tests.ts fast

## test-unit / test-integration / test-e2e: one folder of test/ (e2e needs `make deps` and root)
test-unit: node_modules/.bin/tsc
	$(NODE) test/support/run-tests.ts unit

test-integration: node_modules/.bin/tsc
	$(NODE) test/support/run-tests.ts integration

test-e2e: node_modules/.bin/tsc
	$(NODE) test/support/run-tests.ts e2e

build: node_modules/.bin/tsc
	$(NODE) bin/build.js

## demo: the main job (see README)
# The demo needs only Node and the npm packages (no SPIRE, no root).
demo: node_modules/.bin/tsc
	$(NODE) sidecar/cli/main.ts demo

spire:
	./test/support/install-spire.sh

clean:
	rm -rf dist .tmp

node_modules/.bin/tsc: package-lock.json
	npm ci --no-audit --no-fund

## ---------------------------------------------------------------------------
## Kubernetes (docs/kubernetes.md). kind-* targets need Docker and kind; they
## stop at once with a clear message where either is missing (as in this
## project's CI, which validates the manifests with k8s-validate instead).
.PHONY: kind-up kind-load deploy kind-e2e kind-down k8s-validate require-kind

KIND ?= kind
KIND_CLUSTER ?= spiffe-sidecar
# Native sidecars need Kubernetes >= 1.29.
KIND_NODE_IMAGE ?= kindest/node:v1.33.1
SIDECAR_IMAGE ?= spiffe-sidecar:$(shell $(NODE) -p "require('./package.json').version" 2>/dev/null || echo 0.1.0)

require-kind:
	@command -v docker >/dev/null 2>&1 || { echo "make: docker is not installed; the kind targets need Docker and kind (see docs/kubernetes.md)" >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make: no Docker engine answers (docker info failed); start Docker first" >&2; exit 1; }
	@command -v $(KIND) >/dev/null 2>&1 || { echo "make: kind is not installed (https://kind.sigs.k8s.io); needed for $(MAKECMDGOALS)" >&2; exit 1; }
	@command -v kubectl >/dev/null 2>&1 || { echo "make: kubectl is not installed" >&2; exit 1; }

## kind-up: a two-node kind cluster named $(KIND_CLUSTER)
kind-up: require-kind
	@if $(KIND) get clusters 2>/dev/null | grep -qx '$(KIND_CLUSTER)'; then \
	  echo "kind cluster $(KIND_CLUSTER) already exists"; \
	else \
	  $(KIND) create cluster --name $(KIND_CLUSTER) --image $(KIND_NODE_IMAGE) --config k8s/overlays/kind/kind-cluster.yaml; \
	fi

## kind-load: build the image and load it into the kind nodes
kind-load: require-kind
	docker build -t $(SIDECAR_IMAGE) .
	$(KIND) load docker-image --name $(KIND_CLUSTER) $(SIDECAR_IMAGE)

## deploy: SPIRE, CSI driver, injector, demo apps and Prometheus on kind
deploy: require-kind
	kubectl config use-context kind-$(KIND_CLUSTER)
	./k8s/overlays/kind/deploy.sh

## kind-e2e: cluster, image, deploy, then the end-to-end checks
kind-e2e: kind-up kind-load deploy
	./k8s/overlays/kind/e2e.sh

kind-down: require-kind
	$(KIND) delete cluster --name $(KIND_CLUSTER)

## k8s-validate: render the kustomizations and validate every object (no cluster needed)
k8s-validate: node_modules/.bin/tsc
	@command -v kubectl >/dev/null 2>&1 || { echo "make: kubectl is needed to render k8s/ (apt-get install kubectl)" >&2; exit 1; }
	kubectl kustomize k8s/overlays/kind >/dev/null
	$(NODE) --test --disable-warning=ExperimentalWarning test/unit/k8s/*.test.ts test/integration/k8s/*.test.ts

## bench: the sidecar pair against direct, an nginx pair and a ghostunnel pair, side by side
## (~10 min; markdown table on stdout, JSON and CPU profiles in bench/results/; docs/benchmarks.md)
bench: deps node_modules/.bin/tsc
	$(TSC) -p tsconfig.build.json || echo "bench: 'make build' failed; the compiled start-up row is left out" >&2
	$(NODE) bench/bench.ts

## bench-quick: the same scenarios for a few seconds each (CI runs it through test/bench/bench-quick.test.ts)
bench-quick: deps
	$(NODE) bench/bench.ts --quick
