#!/usr/bin/env bash
# Copy the collection to .build/ansible_collections/terminology/releases/.
# ansible-test only works inside an ansible_collections/<ns>/<name>/ tree and resolves
# symlinks (os.getcwd), so this is a real copy, made fresh on every run so that deleted
# files do not linger. Integration tests use it via ANSIBLE_COLLECTIONS_PATH=<repo>/.build.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
dest="$repo/.build/ansible_collections/terminology/releases"

# Keep ansible-test's own venv (tests/output/.tmp/delegation, made by --venv) across
# restaging: rebuilding it costs a pip bootstrap and install on every run.
keep="$repo/.build/.delegation"
rm -rf "$keep"
[[ -d "$dest/tests/output/.tmp/delegation" ]] && mv "$dest/tests/output/.tmp/delegation" "$keep"
"$repo/scripts/export.sh" "$dest"

if [[ -d "$keep" ]]; then
    mkdir -p "$dest/tests/output/.tmp"
    mv "$keep" "$dest/tests/output/.tmp/delegation"
fi
echo "staged $(find "$dest" -type f -not -path '*/tests/output/*' | wc -l) files in $dest"
