#!/usr/bin/env bash
# Execution-environment gate (make ee; run make build first). No container engine here, so the image is not
# built; what ansible-builder would build it from is checked instead:
#  1. the artifact's meta/execution-environment.yml names dependency files that exist, and ansible-builder's
#     introspection of the installed collection yields its Python libraries and gpg;
#  2. the EE definition shown in docs/docsite/rst/guide_scaling.rst, with the collection taken from the built
#     tarball instead of Galaxy, makes a valid build context with `ansible-builder create`: a Containerfile
#     from that base image that installs the tarball, runs the introspection and installs the dependencies,
#     with every file it copies present in the context;
#  3. the introspection script inside that context, run on the installed collection as the builder stage
#     would, yields the same dependencies, and the Python ones resolve on PyPI (pip --dry-run).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
tools="${TOOLS_VENV:-$repo/.venv/tools}"
installed="$repo/.build/installed"
collection="$installed/ansible_collections/terminology/releases"
tarball="$(ls "$repo"/.build/dist/terminology-releases-*.tar.gz 2>/dev/null || true)"
[[ -d "$collection" && -f "$tarball" ]] || { echo "no built and installed collection: run make build first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$tools/bin:$PATH"

echo "--- meta/execution-environment.yml and introspection"
ansible-builder introspect --sanitize --write-pip "$work/pip.txt" --write-bindep "$work/bindep.txt" "$installed"
python3 - "$collection" "$work/pip.txt" "$work/bindep.txt" <<'PY'
import os, sys, yaml
collection, pip, bindep = sys.argv[1:4]
ee = yaml.safe_load(open(os.path.join(collection, 'meta', 'execution-environment.yml')))
assert ee.get('version') == 1, ee
deps = ee['dependencies']
for kind in ('python', 'system'):
    assert os.path.isfile(os.path.join(collection, deps[kind])), '%s dependency file %s is missing' % (kind, deps[kind])
pip_lines = open(pip).read()
bindep_lines = open(bindep).read()
for wanted in ('requests', 'python-gnupg'):
    assert wanted in pip_lines and 'from collection terminology.releases' in pip_lines, (wanted, pip_lines)
for wanted in ('gnupg [platform:dpkg]', 'gnupg2 [platform:rpm]'):
    assert wanted in bindep_lines, (wanted, bindep_lines)
print('meta/execution-environment.yml OK: python %s, system %s' % (deps['python'], deps['system']))
PY

echo "--- ansible-builder create (the definition from guide_scaling.rst, collection from the tarball)"
python3 - "$repo/docs/docsite/rst/guide_scaling.rst" "$tarball" "$work/execution-environment.yml" <<'PY'
import os, re, sys, yaml
rst, tarball, output = sys.argv[1:4]
blocks = re.findall(r'\.\. code-block:: yaml\n\n((?:  .*\n|\n)+)', open(rst).read())
definitions = [yaml.safe_load('\n'.join(line[2:] for line in block.splitlines()))
               for block in blocks if block.strip().startswith('---\n  version: 3') or '\n  version: 3' in block]
assert len(definitions) == 1, 'expected one EE definition (version: 3) in %s, found %d' % (rst, len(definitions))
definition = definitions[0]
collections = definition['dependencies']['galaxy']['collections']
assert [entry['name'] for entry in collections] == ['terminology.releases'], collections
name = os.path.basename(tarball)
definition['dependencies']['galaxy']['collections'] = [{'name': 'collections/' + name, 'type': 'file'}]
definition['additional_build_files'] = [{'src': tarball, 'dest': 'collections'}]
with open(output, 'w') as handle:
    yaml.safe_dump(definition, handle, sort_keys=False)
print('EE definition: base image %s, %s' % (definition['images']['base_image']['name'],
                                             definition['dependencies']['ansible_core']['package_pip']))
PY
(cd "$work" && ansible-builder create --file execution-environment.yml --context context \
    --output-filename Containerfile -v 2)
python3 - "$work/context" "$(basename "$tarball")" <<'PY'
import os, re, sys, yaml
context, tarball = sys.argv[1:3]
containerfile = open(os.path.join(context, 'Containerfile')).read()
build = os.path.join(context, '_build')
requirements = yaml.safe_load(open(os.path.join(build, 'requirements.yml')))
assert requirements['collections'] == [{'name': 'collections/' + tarball, 'type': 'file'}], requirements
assert os.path.isfile(os.path.join(build, 'collections', tarball)), 'the tarball is not in the build context'
for needed in ('ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"', 'COPY _build /build', 'WORKDIR /build',
               'ansible-galaxy collection install', 'introspect.py introspect', '/output/scripts/assemble',
               '/output/scripts/install-from-bindep'):
    assert needed in containerfile, 'the Containerfile lacks %r' % needed
# Every COPY source of the Containerfile exists in the context.
for source in re.findall(r'^COPY (?!--from)(\S+) ', containerfile, re.M):
    assert os.path.exists(os.path.join(context, source)), 'COPY source %s is not in the context' % source
for script in ('introspect.py', 'assemble', 'install-from-bindep', 'entrypoint'):
    assert os.path.isfile(os.path.join(build, 'scripts', script)), 'the context lacks scripts/%s' % script
print('build context OK: %s (%d lines), requirements.yml, the tarball, %d scripts'
      % (os.path.join(context, 'Containerfile'), len(containerfile.splitlines()),
         len(os.listdir(os.path.join(build, 'scripts')))))
PY

echo "--- the context's introspection, as the builder stage runs it"
python3 "$work/context/_build/scripts/introspect.py" introspect --sanitize \
    --write-pip "$work/ctx-pip.txt" --write-bindep "$work/ctx-bindep.txt" "$installed" >/dev/null
cmp "$work/pip.txt" "$work/ctx-pip.txt" && cmp "$work/bindep.txt" "$work/ctx-bindep.txt"
sed 's/ *#.*//' "$work/ctx-pip.txt" > "$work/pip-plain.txt"
python -m pip install --dry-run -qq --disable-pip-version-check --ignore-installed -r "$work/pip-plain.txt"
echo "ee OK: the context's introspection gives $(paste -sd, "$work/pip-plain.txt") and $(grep -c . "$work/ctx-bindep.txt") system packages"
