#!/usr/bin/env bash
# Builds the pinned SPIRE server and agent, and SPIRE's OIDC Discovery
# Provider (support/oidc-discovery-provider, same module and tag), from the Go
# module proxy into the project's cache folder, once. cgo is required: SPIRE's
# sqlite datastore is behind a `cgo` build tag and fails at runtime without it.
set -euo pipefail
SPIRE_VERSION="${SPIRE_VERSION:-v1.15.3}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$root/.cache/spire/$SPIRE_VERSION/bin"
if [[ -x "$bin/spire-server" && -x "$bin/spire-agent" && -x "$bin/oidc-discovery-provider" ]]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "install-spire: Go toolchain not found (needed to build SPIRE $SPIRE_VERSION)" >&2; exit 1; }
command -v cc >/dev/null || { echo "install-spire: C compiler not found (SPIRE's sqlite needs cgo)" >&2; exit 1; }
mkdir -p "$bin"
echo "install-spire: building SPIRE $SPIRE_VERSION into $bin (first run only)" >&2
# `go install pkg@version` asks the proxy for the module's version list (to
# check deprecation), which the proxy here refuses, and one optional SPIRE
# dependency is not served at its pinned version. spire-config/build is a
# tiny module that requires SPIRE at the tag and pins the resolved graph in
# its go.sum; see its go.mod for the one replace and why.
export CGO_ENABLED=1 GOFLAGS="-buildvcs=false -mod=readonly"
[[ "$SPIRE_VERSION" == v1.15.3 ]] || { echo "install-spire: spire-config/build pins v1.15.3; update its go.mod to build $SPIRE_VERSION" >&2; exit 1; }
(cd "$root/spire-config/build" && go build -trimpath -o "$bin/" \
  github.com/spiffe/spire/cmd/spire-server github.com/spiffe/spire/cmd/spire-agent \
  github.com/spiffe/spire/support/oidc-discovery-provider) >&2
"$bin/spire-server" --version >&2 2>&1 || true
echo "$bin"
