#!/usr/bin/env bash
# Installs what the tests, the demo and the benchmark need on a fresh Debian
# machine: Debian packages (only the missing ones), npm packages from the
# lockfile, and the pinned SPIRE and ghostunnel builds. Idempotent and quick
# when nothing is missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

# command -> Debian package
declare -A pkgs=(
  [openssl]=openssl
  [curl]=curl
  [ip]=iproute2
  [iptables]=iptables
  [cc]=gcc
  [kubectl]=kubectl
  [prometheus]=prometheus
  [nginx]=nginx
  [wrk]=wrk
  [h2load]=nghttp2-client
  [taskset]=util-linux
  [setpriv]=util-linux
  [pgrep]=procps
  [ip6tables]=iptables
  # the transparent-capture e2e: real PostgreSQL 15 and Redis 7 behind sidecars, and packet captures
  [psql]=postgresql
  [redis-server]=redis-server
  [redis-cli]=redis-tools
  [tcpdump]=tcpdump
)
missing=()
for cmd in "${!pkgs[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [[ -x "/usr/sbin/$cmd" ]] || missing+=("${pkgs[$cmd]}")
done
# psql alone may come from postgresql-client; the e2e test also needs the server binaries.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u | sed '/^$/d')
if ((${#missing[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    echo "install-deps: missing Debian packages: ${missing[*]} (run as root or apt-get install them)" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
command -v go >/dev/null || { echo "install-deps: the Go toolchain is required to build SPIRE (https://go.dev/doc/install)" >&2; exit 1; }

if [[ ! -x node_modules/.bin/node || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund >&2
fi
# The original-destination addon transparent mode needs (plain cc, no node-gyp).
./native/original-dst/build.sh
./test/support/install-spire.sh >/dev/null
./test/support/install-otelcol.sh >/dev/null # the OpenTelemetry Collector of the tracing e2e test (once, like SPIRE)
# ghostunnel, the Go anchor of `make bench` (built once, like SPIRE).
./bench/install-ghostunnel.sh >/dev/null
# Keycloak, the real OIDC issuer of the end-user token e2e tests (once, like SPIRE).
./test/support/install-keycloak.sh >/dev/null
# hypercorn (h2c-capable ASGI server) for the security regression tests, in .cache/venv.
./test/support/install-python-tools.sh >/dev/null
