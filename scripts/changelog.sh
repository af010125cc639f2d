#!/usr/bin/env bash
# Changelog gate (make changelog):
#  1. antsibull-changelog lint: config, fragments and changelogs/changelog.yaml;
#  2. the release notes of the version in galaxy.yml, generated in a TEMPORARY copy of the collection (never
#     in the repo): `antsibull-changelog release` while that version is unreleased (`generate` once it is),
#     which must give no warning, a valid changelog.yaml and a CHANGELOG.rst with every module and the role.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
tools="${TOOLS_VENV:-$repo/.venv/tools}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$tools/bin:$PATH" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

# The copy sits in an ansible_collections/<namespace>/<name> tree, so that antsibull-changelog's ansible-doc
# finds the collection's plugins (for the "New Modules" and "New Roles" sections).
copy="$work/ansible_collections/terminology/releases"
"$repo/scripts/export.sh" "$copy"
cd "$copy"

echo "--- antsibull-changelog lint"
antsibull-changelog lint
echo "lint OK ($(find changelogs/fragments -name '*.y*ml' | wc -l) fragments)"

version="$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')"
released="$(python -c 'import sys, yaml; print(sys.argv[1] in (yaml.safe_load(open("changelogs/changelog.yaml")).get("releases") or {}))' "$version")"
if [[ "$released" == "True" ]]; then
    echo "--- antsibull-changelog generate (version $version is released)"
    antsibull-changelog generate 2>&1 | tee "$work/changelog.log"
else
    echo "--- antsibull-changelog release --version $version (in a temporary copy)"
    antsibull-changelog release --version "$version" 2>&1 | tee "$work/changelog.log"
fi
if grep -E -i 'warning|error' "$work/changelog.log"; then
    echo "antsibull-changelog said something above that needs fixing" >&2
    exit 1
fi
antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
python - "$version" "$repo/plugins/modules" <<'PY'
import os, sys
version, modules_dir = sys.argv[1:3]
text = open('CHANGELOG.rst').read()
assert 'v%s\n' % version in text, 'CHANGELOG.rst has no section for %s' % version
modules = sorted(name[:-3] for name in os.listdir(modules_dir) if name.endswith('.py') and not name.startswith('_'))
missing = [name for name in modules if 'terminology.releases.%s - ' % name not in text]
assert not missing, 'CHANGELOG.rst does not list the new modules %s' % missing
assert 'terminology.releases.release_sync - ' in text, 'CHANGELOG.rst does not list the new role release_sync'
print('release notes OK: CHANGELOG.rst for %s (%d lines): %d new modules, 1 new role'
      % (version, len(text.splitlines()), len(modules)))
print('\n'.join(text.splitlines()[:12]))
PY
