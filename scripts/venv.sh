#!/usr/bin/env bash
# Create or update the cached test venv .venv/core-<X.Y> for one ansible-core minor version.
# Usage: scripts/venv.sh [X.Y]   (default 2.19; 2.18 works too)
# Reruns are cheap: pip runs only when the stamp (hash of everything that decides the
# install) differs from the one recorded after the last successful install.
set -euo pipefail

core="${1:-2.19}"
[[ "$core" =~ ^[0-9]+\.[0-9]+$ ]] || { echo "usage: $0 [X.Y]  (an ansible-core minor, e.g. 2.18)" >&2; exit 2; }
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
venv="$repo/.venv/core-$core"
python="${PYTHON:-python3}"

# "2.19" -> "ansible-core>=2.19,<2.20": newest patch release of exactly that minor.
next="${core%.*}.$(( ${core#*.} + 1 ))"
core_req="ansible-core>=$core,<$next"

stamp="$( { "$python" -VV; echo "$core_req"; cat "$repo/requirements.txt" "$repo/tests/requirements.txt"; } \
          | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && "$(cat "$venv/.stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "venv $venv is up to date"
    exit 0
fi

echo "building venv $venv ($core_req)"
rm -f "$venv/.stamp"
"$python" -m venv "$venv"
# -qq: errors only (this machine's pip config adds warnings for every package).
"$venv/bin/python" -m pip install -qq --disable-pip-version-check \
    "$core_req" -r "$repo/tests/requirements.txt"
echo "$stamp" > "$venv/.stamp"
version="$("$venv/bin/ansible" --version)"  # (not piped into head: ansible dies of SIGPIPE)
echo "venv $venv ready: ${version%%$'\n'*}"
