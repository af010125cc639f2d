#!/usr/bin/env bash
# Build the collection artifact and prove the installed copy works (make build):
#  1. export the source as a fresh clone has it and `ansible-galaxy collection build` it into .build/dist/;
#  2. install the tarball into an empty collections path (.build/installed) of a venv that holds nothing but
#     ansible-core and the collection's requirements.txt (.venv/install-<core>), as a user would;
#  3. `ansible-doc` every module and the role from that copy (JSON, no warning allowed), and check that it
#     has every module of the checkout;
#  4. start the sandbox and run terminology.releases.trud_release_info and trud_release_fetch by FQCN from
#     the installed copy (never the checkout or .build/ansible_collections): a listing, and a download verified
#     by SHA-256 and the sandbox's PGP signature.
# Other gates (galaxy-importer, docs, EE) use the tarball and the installed copy this leaves behind.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
core="${BUILD_CORE:-2.19}"
next="${core%.*}.$(( ${core#*.} + 1 ))"
venv="$repo/.venv/install-$core"
dist="$repo/.build/dist"
installed="$repo/.build/installed"
work="$(mktemp -d)"
sandbox_pid=""
cleanup() {
    if [[ -n "$sandbox_pid" ]]; then kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

"$repo/scripts/mkvenv.sh" "$venv" "ansible-core>=$core,<$next" -r "$repo/requirements.txt"
export PATH="$venv/bin:$PATH"
# Nothing but the installed copy: no ~/.ansible/collections, no collections in site-packages, no cwd lookups.
export ANSIBLE_COLLECTIONS_PATH="$installed" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false ANSIBLE_NOCOLOR=1
export ANSIBLE_DEPRECATION_WARNINGS=true ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_REMOTE_TEMP="$work/tmp"

echo "--- build"
"$repo/scripts/export.sh" "$work/src"
rm -rf "$dist" "$installed"
mkdir -p "$dist"
(cd "$work/src" && ansible-galaxy collection build --output-path "$dist")
tarball="$(ls "$dist"/terminology-releases-*.tar.gz)"
echo "built $tarball ($(tar -tzf "$tarball" | wc -l) entries)"

echo "--- install into a fresh collections path"
ansible-galaxy collection install --offline -p "$installed" "$tarball"
collection="$installed/ansible_collections/terminology/releases"
ansible-galaxy collection list terminology.releases

echo "--- ansible-doc every module and the role"
cd "$work"
expected="$(python3 -c 'import os, sys; print("\n".join(sorted(n[:-3] for n in os.listdir(sys.argv[1]) if n.endswith(".py") and not n.startswith("_"))))' "$repo/plugins/modules")"
listed="$(ansible-doc -t module -l terminology.releases --json 2>"$work/list.err" \
          | python3 -c 'import json, sys; print("\n".join(sorted(k.rsplit(".", 1)[1] for k in json.load(sys.stdin))))')"
if [[ "$listed" != "$expected" ]]; then
    echo "ERROR: the installed collection's modules differ from the checkout's:" >&2
    diff <(echo "$expected") <(echo "$listed") >&2 || true
    exit 1
fi
mapfile -t names <<<"$listed"
fqcns=("${names[@]/#/terminology.releases.}")
ansible-doc -t module --json "${fqcns[@]}" >"$work/modules.json" 2>"$work/doc.err"
ansible-doc -t role --json terminology.releases.release_sync >"$work/role.json" 2>>"$work/doc.err"
cat "$work/list.err" >>"$work/doc.err"
if [[ -s "$work/doc.err" ]]; then
    echo "ERROR: ansible-doc said something on stderr:" >&2
    cat "$work/doc.err" >&2
    exit 1
fi
python3 - "$work/modules.json" "$work/role.json" "$collection" <<'PY'
import json, os, sys
modules, role = (json.load(open(path)) for path in sys.argv[1:3])
collection = os.path.realpath(sys.argv[3])
for name, data in sorted(modules.items()):
    doc = data['doc']
    assert os.path.realpath(doc['filename']).startswith(collection + os.sep), (name, doc['filename'])
    for part in ('examples', 'return'):
        assert data.get(part), '%s has no %s' % (name, part.upper())
    attributes = doc.get('attributes') or {}
    missing = [a for a in ('check_mode', 'diff_mode', 'idempotent') if a not in attributes]
    assert not missing, '%s lacks attributes %s' % (name, missing)
    group = name.split('.')[-1].split('_')[0]
    if group in ('trud', 'mlds'):
        membership = (attributes.get('action_group') or {}).get('membership') or []
        assert 'terminology.releases.' + group in membership, '%s: action_group attribute lacks its group' % name
    print('ansible-doc %-45s OK (%d options, %d return values)' % (name, len(doc.get('options') or {}),
                                                                 len(data['return'])))
(entry,) = role.values()
assert os.path.realpath(entry['path']) == collection, entry['path']
print('ansible-doc terminology.releases.release_sync (role)  OK (entry points: %s)' % ', '.join(entry['entry_points']))
PY

echo "--- run modules by FQCN from the installed copy against the sandbox"
python3 "$repo/tests/sandbox/server.py" --state-dir "$work/sandbox" --info-file "$work/info.json" >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 150); do [[ -s "$work/info.json" ]] && break; sleep 0.2; done
[[ -s "$work/info.json" ]] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.out" >&2; exit 1; }
info() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/info.json" "$1"; }
export TRUD_API_KEY; TRUD_API_KEY="$(info api_key)"
export TRUD_BASE_URL; TRUD_BASE_URL="$(info trud_https_base_url)"
mkdir -p "$work/dest"

adhoc() {  # adhoc NAME MODULE ARGS_JSON: one ad-hoc run (-vvv, to see which module file ran)
    local log="$work/$1.log"
    ansible localhost -c local -i localhost, -e "ansible_python_interpreter=$venv/bin/python" -vvv \
        -m "terminology.releases.$2" -a "$3" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    grep -q "Using module file $collection/plugins/modules/$2.py" "$log" \
        || { echo "ERROR: $2 did not run from $collection:" >&2; cat "$log" >&2; return 1; }
}
adhoc info trud_release_info "{\"item\": 101, \"latest\": true, \"ca_path\": \"$(info ca_path)\"}"
adhoc fetch trud_release_fetch "{\"item\": 101, \"dest\": \"$work/dest\", \"ca_path\": \"$(info ca_path)\",
    \"trusted_fingerprints\": [\"$(info trud_fingerprint)\"], \"maintenance_window_warning\": false}"
python3 - "$work" "$TRUD_API_KEY" <<'PY'
import hashlib, json, os, sys
work, key = sys.argv[1:3]

def result(name):
    text = open(os.path.join(work, name + '.log'), encoding='utf-8').read()
    assert key not in text, 'the API key appears in the %s output' % name
    start = text.index('localhost | ') + len('localhost | ')
    status, _, rest = text[start:].partition(' => ')
    return status, json.JSONDecoder().raw_decode(rest)[0]

status, info = result('info')
assert status == 'SUCCESS' and not info.get('changed') and len(info['releases']) == 1, (status, info)
release = info['releases'][0]
status, fetch = result('fetch')
assert status == 'CHANGED' and fetch['downloaded'] and fetch['release']['id'] == release['id'], (status, fetch)
assert fetch['verified'] == ['size', 'sha256', 'signature'], fetch['verified']
with open(fetch['path'], 'rb') as handle:
    assert hashlib.sha256(handle.read()).hexdigest() == release['archive_file_sha256'].lower()
print('trud_release_info  OK: newest release of item 101 is %s (%s)' % (release['id'], release['release_date']))
print('trud_release_fetch OK: %s, %d bytes, verified %s, signed by %s'
      % (os.path.basename(fetch['path']), fetch['size'], ', '.join(fetch['verified']), fetch['signature']['fingerprint']))
PY
echo "build OK: $tarball installed at $collection"
