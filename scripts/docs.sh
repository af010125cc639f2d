#!/usr/bin/env bash
# Documentation gate (make docs; run make build first): on the installed copy of the built artifact,
#  1. antsibull-docs lint-collection-docs --plugin-docs: the docsite (docs/docsite), every plugin's and the
#     role's docs (schema, semantic markup, RST), and every reference in them to this collection and to
#     ansible.builtin;
#  2. the HTML docsite, as the Ansible docsite builds it: `antsibull-docs sphinx-init` generates the Sphinx
#     project, and Sphinx builds it with -W (any warning fails). Offline: intersphinx reads a local inventory
#     (scripts/docs_inventory.py) instead of docs.ansible.com, so links to the Ansible docs keep their real
#     addresses and any other unresolved reference is still an error.
# The site is left in .build/docsite/build/html.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
tools="${TOOLS_VENV:-$repo/.venv/tools}"
installed="$repo/.build/installed"
collection="$installed/ansible_collections/terminology/releases"
site="$repo/.build/docsite"
[[ -d "$collection" ]] || { echo "no installed collection in $installed: run make build first" >&2; exit 1; }

export PATH="$tools/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

echo "--- antsibull-docs lint-collection-docs"
# On a copy outside this git work tree: antsibull-docs copies a collection that lies in a git work tree with
# `git ls-files`, which lists nothing under the ignored .build/ (so it would find no plugins at all).
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ansible_collections/terminology"
cp -a "$collection" "$work/ansible_collections/terminology/releases"
ANSIBLE_COLLECTIONS_PATH="$work" antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs \
    --validate-collection-refs dependent --disallow-unknown-collection-refs "$work/ansible_collections/terminology/releases"
echo "lint-collection-docs OK"

echo "--- docsite (antsibull-docs sphinx-init + sphinx-build -W)"
rm -rf "$site"
mkdir -p "$(dirname "$site")"
mkdir -m 700 "$site"  # antsibull-docs wants its destination writable by its owner only
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" \
    --project terminology.releases --title 'terminology.releases' terminology.releases >/dev/null
"$tools/bin/python" "$repo/scripts/docs_inventory.py" "$site/ansible_devel.inv"
cat >>"$site/conf.py" <<EOF

# Offline build (scripts/docs.sh): only the Ansible docs, from a local inventory (scripts/docs_inventory.py);
# links keep their docs.ansible.com addresses. Python and Jinja are not referenced.
intersphinx_mapping = {
    'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/', '$site/ansible_devel.inv'),
}
EOF
rc=0
"$site/build.sh" >"$site/build.log" 2>&1 || rc=$?
if (( rc != 0 )) || grep -E -i '(WARNING|ERROR)' "$site/build.log"; then
    echo "docsite build FAILED (exit code $rc):" >&2
    tail -n 40 "$site/build.log" >&2
    exit 1
fi
html="$site/build/html/collections/terminology/releases"
for page in index trud_release_fetch_module mlds_release_package_module release_sync_role docsite/guide_quickstart \
            docsite/guide_trud docsite/guide_mlds docsite/guide_scaling docsite/guide_security docsite/guide_performance docsite/guide_testing; do
    [[ -s "$html/$page.html" ]] || { echo "docsite lacks $html/$page.html" >&2; exit 1; }
done
echo "docsite OK: $(find "$site/build/html" -name '*.html' | wc -l) pages in $site/build/html (no warnings)"
