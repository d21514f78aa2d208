#!/usr/bin/env bash
# Builds the OpenTelemetry Collector of the tracing e2e test (OTLP receiver
# and file exporter only; see test/support/otelcol-build) from the Go module
# proxy into the project's cache folder, once. Prints the binary's path.
set -euo pipefail
OTELCOL_VERSION=v0.165.0
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.cache/otelcol/$OTELCOL_VERSION/bin"
if [[ -x "$bin/otelcol" ]]; then
  echo "$bin/otelcol"
  exit 0
fi
command -v go >/dev/null || { echo "install-otelcol: Go toolchain not found (needed to build the OpenTelemetry Collector $OTELCOL_VERSION)" >&2; exit 1; }
mkdir -p "$bin"
echo "install-otelcol: building the OpenTelemetry Collector $OTELCOL_VERSION into $bin (first run only)" >&2
# A plain `go build` in the pinned module: `go install pkg@version` would ask
# the proxy for version lists, which the proxy here refuses. The module's
# go.mod/go.sum pin the whole graph; -mod=readonly keeps it that way.
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"
(cd "$root/test/support/otelcol-build" && go build -trimpath -o "$bin/otelcol" .) >&2
echo "$bin/otelcol"
