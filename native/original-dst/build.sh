#!/bin/sh
# Builds the original-destination Node-API addon (native/original-dst/original_dst.c)
# into build/native/original_dst.node, where sidecar/transparent/original-destination.ts
# looks for it. Needs only a C compiler and libc headers (no node-gyp, no Node headers:
# the C file declares the Node-API functions it uses). Linux only; elsewhere it says so
# and succeeds, since only transparent mode needs the addon.
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
src="$root/native/original-dst/original_dst.c"
out="$root/build/native/original_dst.node"
if [ "$(uname -s)" != Linux ]; then
  echo "original-dst: not Linux; transparent mode will be unavailable" >&2
  exit 0
fi
cc="${CC:-cc}"
mkdir -p "$(dirname "$out")"
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then exit 0; fi
# -fvisibility=hidden: only the two entry points marked EXPORT are visible.
"$cc" -shared -fPIC -O2 -Wall -Wextra -Werror -fvisibility=hidden -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
echo "original-dst: built $out" >&2
