#!/usr/bin/env bash
# Builds the pinned ghostunnel (the Go, SPIFFE-aware L4 anchor of `make bench`)
# from the Go module proxy into the project's cache folder, once, and prints
# the bin directory. bench/ghostunnel-build pins the version and the resolved
# module graph; its go.mod says why it is v1.11.0 and why one module is
# replaced by a local stand-in.
set -euo pipefail
GHOSTUNNEL_VERSION="${GHOSTUNNEL_VERSION:-v1.11.0}"
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/.cache/ghostunnel/$GHOSTUNNEL_VERSION/bin"
if [[ -x "$bin/ghostunnel" ]]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "install-ghostunnel: Go toolchain not found (needed to build ghostunnel $GHOSTUNNEL_VERSION)" >&2; exit 1; }
[[ "$GHOSTUNNEL_VERSION" == v1.11.0 ]] || { echo "install-ghostunnel: bench/ghostunnel-build pins v1.11.0; update its go.mod to build $GHOSTUNNEL_VERSION" >&2; exit 1; }
mkdir -p "$bin"
echo "install-ghostunnel: building ghostunnel $GHOSTUNNEL_VERSION into $bin (first run only)" >&2
# No cgo: PKCS#11 and keychain support are not needed, and a static binary
# does not depend on the C library. -X stamps the version that -buildvcs=false
# would otherwise leave as "master".
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"
tmp="$bin/.ghostunnel.tmp"
(cd "$root/bench/ghostunnel-build" && go build -trimpath \
  -ldflags "-X main.version=$GHOSTUNNEL_VERSION" -o "$tmp" github.com/ghostunnel/ghostunnel) >&2
mv "$tmp" "$bin/ghostunnel"
"$bin/ghostunnel" --version >&2 2>&1 || true
echo "$bin"
