#!/usr/bin/env bash
# Downloads the pinned Keycloak server distribution from Maven Central (with
# mvn, the registry's ordinary client), unpacks it into the project's cache
# folder and builds ("augments") the server image for the tests' options,
# once. Prints the Keycloak home folder (the one holding bin/kc.sh) as its
# last line. Quick when it is already there.
#
# Why a prebuilt image and `start --optimized` rather than `start-dev`: the
# build takes most of a minute and `start-dev` cannot be prebuilt (Keycloak
# refuses `build` in the dev profile), so every fresh cache would pay it inside
# the test's bounded start-up wait. test/support/keycloak.ts passes only
# runtime options; the build-time ones live here, in KEYCLOAK_BUILD_OPTIONS.
#
# Keycloak 26 runs on Java 21 or newer; the machine's default Java is older,
# so the tests run kc.sh with JAVA_HOME set to KEYCLOAK_JAVA_HOME (default:
# the Temurin 25 JDK). This script checks that JDK up front so a missing one
# is reported here, not as a Keycloak start-up failure.
set -euo pipefail
KEYCLOAK_VERSION="${KEYCLOAK_VERSION:-26.7.3}"
KEYCLOAK_JAVA_HOME="${KEYCLOAK_JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
dest="$root/.cache/keycloak/$KEYCLOAK_VERSION"
home="$dest/keycloak-$KEYCLOAK_VERSION"
# Build-time options (Keycloak's "build options"): an in-memory H2 database
# that vanishes with the process, health endpoints on the main
# HTTP port (no separate management listener), no metrics, and the preview
# `spiffe` identity provider (JWT-SVID client authentication, used by the
# token-exchange e2e test).
KEYCLOAK_BUILD_OPTIONS=(--db=dev-mem --health-enabled=true --http-management-health-enabled=false --metrics-enabled=false --features=spiffe)
marker=".spiffe-sidecar-build"
build_id="$KEYCLOAK_VERSION ${KEYCLOAK_BUILD_OPTIONS[*]}"

# Runs `kc.sh build` in the Keycloak home $1 and records the options used.
build() {
  echo "install-keycloak: building the server image in $1 (${KEYCLOAK_BUILD_OPTIONS[*]})" >&2
  JAVA_HOME="$KEYCLOAK_JAVA_HOME" "$1/bin/kc.sh" build "${KEYCLOAK_BUILD_OPTIONS[@]}" >&2
  printf '%s\n' "$build_id" > "$1/$marker"
}

[[ -x "$KEYCLOAK_JAVA_HOME/bin/java" ]] || {
  echo "install-keycloak: no JDK at $KEYCLOAK_JAVA_HOME (Keycloak $KEYCLOAK_VERSION needs Java 21+; install one and set KEYCLOAK_JAVA_HOME)" >&2
  exit 1
}
if [[ -x "$home/bin/kc.sh" ]]; then
  # Already unpacked: rebuild only when the build options changed.
  [[ "$(cat "$home/$marker" 2>/dev/null)" == "$build_id" ]] || build "$home"
  echo "$home"
  exit 0
fi
command -v mvn >/dev/null || { echo "install-keycloak: mvn not found (needed to download Keycloak $KEYCLOAK_VERSION from Maven Central)" >&2; exit 1; }
command -v unzip >/dev/null || { echo "install-keycloak: unzip not found (apt-get install unzip)" >&2; exit 1; }

mkdir -p "$dest"
# Unpack into a scratch folder beside the target and rename at the end, so
# an interrupted run never leaves a half-unpacked home that looks complete.
work="$(mktemp -d "$dest/.partial.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "install-keycloak: downloading org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip (first run only)" >&2
mvn -q -B dependency:copy \
  "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
  "-DoutputDirectory=$work" -Dmdep.overWriteIfNewer=true >&2
zip="$work/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
[[ -f "$zip" ]] || { echo "install-keycloak: mvn finished but $zip is missing" >&2; exit 1; }
echo "install-keycloak: downloaded $(du -h "$zip" | cut -f1) ($(stat -c %s "$zip") bytes)" >&2
unzip -q "$zip" -d "$work"
[[ -x "$work/keycloak-$KEYCLOAK_VERSION/bin/kc.sh" ]] || { echo "install-keycloak: the archive has no keycloak-$KEYCLOAK_VERSION/bin/kc.sh" >&2; exit 1; }
build "$work/keycloak-$KEYCLOAK_VERSION"
rm -rf "$home"
mv "$work/keycloak-$KEYCLOAK_VERSION" "$home"
echo "$home"
