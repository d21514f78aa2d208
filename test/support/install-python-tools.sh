#!/usr/bin/env bash
# Installs the Python servers the security regression tests start as real
# backends into a project-local virtual environment (.cache/venv), from
# PyPI with pip, pinned: hypercorn, an ASGI server that speaks HTTP/1.1,
# h2c (prior knowledge and the RFC 7540 §3.2 Upgrade) and HTTP/2.
# Prints the venv's bin folder as its last line. Quick when it is already
# there; reinstalls when the pins change.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/.cache/venv"
python="${PYTHON:-python3}"
# hypercorn and every package it pulls in on Python 3.11+, pinned so that a
# fresh clone tests against the same servers.
pins=(hypercorn==0.18.0 h11==0.16.0 h2==4.4.1 hpack==4.2.0 hyperframe==6.1.0 priority==2.0.0 wsproto==1.3.2)
marker="$venv/.spiffe-sidecar-pins"

if [[ -x "$venv/bin/hypercorn" && -f "$marker" && "$(cat "$marker")" == "${pins[*]}" ]]; then
  echo "$venv/bin"
  exit 0
fi

command -v "$python" >/dev/null || { echo "install-python-tools: $python not found (Debian: apt-get install python3 python3-venv)" >&2; exit 1; }
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  # Debian splits venv's pip bootstrap into python3-venv.
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    echo "install-python-tools: apt-get install python3-venv" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >&2
  else
    echo "install-python-tools: $python has no venv/ensurepip (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi

echo "install-python-tools: creating $venv with ${pins[*]}" >&2
rm -rf "$venv"
"$python" -m venv "$venv" >&2
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "${pins[@]}" >&2
printf '%s\n' "${pins[*]}" > "$marker"
echo "$venv/bin"
