#!/usr/bin/env bash
# galaxy-importer on the built artifact (make importer; run make build first), as Galaxy and Automation Hub
# run it on upload, with the settings in scripts/galaxy-importer.cfg. Passes only with no error and no warning.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
tools="${TOOLS_VENV:-$repo/.venv/tools}"
tarball="$(ls "$repo"/.build/dist/terminology-releases-*.tar.gz 2>/dev/null || true)"
[[ -f "$tarball" ]] || { echo "no artifact in .build/dist: run make build first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# ansible-doc and ansible-lint come from the tools venv (galaxy-importer looks them up on PATH).
export PATH="$tools/bin:$PATH"
export GALAXY_IMPORTER_CONFIG="$repo/scripts/galaxy-importer.cfg"
export GALAXY_IMPORTER_ANSIBLE_LOCAL_TMP="$work/ansible-tmp" GALAXY_IMPORTER_TMP_ROOT_DIR="$work"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
cd "$work"  # it writes importer_result.json to the current directory
rc=0
python -m galaxy_importer.main "$tarball" >"$work/importer.log" 2>&1 || rc=$?
cat "$work/importer.log"
problems="$(grep -E '^(WARNING|ERROR)' "$work/importer.log" || true)"
if (( rc != 0 )) || [[ -n "$problems" ]] || ! grep -q '^Importer processing completed successfully' "$work/importer.log"; then
    echo "galaxy-importer FAILED (exit code $rc); errors and warnings:" >&2
    echo "${problems:-none printed}" >&2
    exit 1
fi

# What Galaxy would show: every module and the role, each with its docs.
python3 - "$work/importer_result.json" "$repo/plugins/modules" <<'PY'
import json, os, sys
result = json.load(open(sys.argv[1]))
expected = sorted(name[:-3] for name in os.listdir(sys.argv[2]) if name.endswith('.py') and not name.startswith('_'))
contents = dict(((item['content_type'], item['name']), item) for item in result['contents'])
modules = sorted(name for kind, name in contents if kind == 'module')
assert modules == expected, 'galaxy-importer found modules %s, the checkout has %s' % (modules, expected)
assert ('role', 'release_sync') in contents, 'galaxy-importer did not find the role release_sync'
docs = dict(((item['content_type'], item['content_name']), item) for item in result['docs_blob']['contents'])
for name in modules:
    doc = docs[('module', name)]['doc_strings']
    assert doc and doc.get('doc') and doc.get('examples') and doc.get('return'), 'no docs for module %s' % name
assert docs[('role', 'release_sync')].get('readme_html'), 'no README for the role release_sync'
print('galaxy-importer OK: %d modules and the role release_sync, documented; requires_ansible %s'
      % (len(modules), result['requires_ansible']))
PY
