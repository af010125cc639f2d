#!/usr/bin/env bash
# Create or update a cached venv with the given pip requirements.
# Usage: scripts/mkvenv.sh DIR PIP_INSTALL_ARGS...   e.g. scripts/mkvenv.sh .venv/tools -r tests/requirements-tools.txt
# Like scripts/venv.sh: pip runs only when the stamp (the interpreter, the arguments and the content of every
# -r file they name) differs from the one recorded after the last successful install.
set -euo pipefail

venv="${1:?usage: $0 DIR PIP_INSTALL_ARGS...}"
shift
(( $# )) || { echo "usage: $0 DIR PIP_INSTALL_ARGS..." >&2; exit 2; }
python="${PYTHON:-python3}"

stamp="$( {
    "$python" -VV
    printf '%s\n' "$@"
    prev=""
    for arg in "$@"; do
        [[ "$prev" == "-r" ]] && cat "$arg"
        prev="$arg"
    done
} | sha256sum | cut -d' ' -f1)"
if [[ -x "$venv/bin/python" && "$(cat "$venv/.stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "venv $venv is up to date"
    exit 0
fi

echo "building venv $venv"
rm -rf "$venv"
"$python" -m venv "$venv"
# -qq: errors only (this machine's pip config adds warnings for every package).
"$venv/bin/python" -m pip install -qq --disable-pip-version-check "$@"
echo "$stamp" > "$venv/.stamp"
echo "venv $venv ready"
