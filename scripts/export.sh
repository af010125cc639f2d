#!/usr/bin/env bash
# Copy the collection's source files (what a fresh clone has) to DEST, which is emptied first.
# Usage: scripts/export.sh DEST
# In a git work tree: tracked plus untracked-but-not-ignored files, skipping ones deleted in the work tree,
# so nothing a test run left behind (.venv, .build, caches, tests/output) is copied. Otherwise the tree
# minus those.
set -euo pipefail

dest="${1:?usage: $0 DEST}"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
rm -rf "$dest"
mkdir -p "$dest"

cd "$repo"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard \
        | while IFS= read -r -d '' f; do [[ -e "$f" || -L "$f" ]] && printf '%s\0' "$f"; done \
        | tar -c --null --no-recursion -T - -f - | tar -x -C "$dest" -f -
else
    tar -c --exclude=./.git --exclude=./.build --exclude=./.venv --exclude=./tests/output \
        --exclude=__pycache__ --exclude='*.pyc' -f - . | tar -x -C "$dest" -f -
fi
