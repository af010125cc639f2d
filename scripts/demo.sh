#!/usr/bin/env bash
# The README demo: start the local sandbox, run playbooks/demo.yml twice against it, show that the
# second run changes nothing, stop the sandbox, and summarise what is where on each host. Builds its own
# venv and staged collection first. The result stays in .demo/ (DEMO_DIR) for inspection, until the next demo.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
core="${CORE:-2.19}"
venv="${VENV:-$repo/.venv/core-$core}"
"$repo/scripts/venv.sh" "$core"
"$repo/scripts/stage.sh"

work="${DEMO_DIR:-$repo/.demo}"
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$work"  # it holds the sandbox's keys and passwords (vars.json, info.json)
sandbox_pid=""
feed_pid=""
cleanup() {
    if [[ -n "$sandbox_pid" ]]; then kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null; fi
    if [[ -n "$feed_pid" ]]; then kill "$feed_pid" 2>/dev/null && { wait "$feed_pid" 2>/dev/null || true; }; fi
    return 0
}
trap cleanup EXIT

python3 "$repo/tests/sandbox/server.py" --state-dir "$work/sandbox" --info-file "$work/info.json" >"$work/sandbox.out" 2>&1 &
sandbox_pid=$!
for _ in $(seq 1 150); do [[ -s "$work/info.json" ]] && break; sleep 0.2; done
[[ -s "$work/info.json" ]] || { echo "the sandbox did not start:" >&2; cat "$work/sandbox.out" >&2; exit 1; }
info() { python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/info.json" "$1"; }

# The key and the URL reach the modules through their documented environment fallbacks.
export TRUD_API_KEY; TRUD_API_KEY="$(info api_key)"
export TRUD_BASE_URL; TRUD_BASE_URL="$(info trud_https_base_url)"
export ANSIBLE_COLLECTIONS_PATH="$repo/.build" ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false
# Show what changes (and any failure), not every task that had nothing to do; each run's full log is kept.
export ANSIBLE_DISPLAY_OK_HOSTS=false ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
echo "sandbox: $(info https_url) (TRUD API at $TRUD_BASE_URL)"

# The MLDS accounts and a storage object for the published file travel in a 0600 vars file, not on the
# command line, where any local user could read the passwords.
python3 - "$work" <<'PY'
import json, os, sys, urllib.request
work = sys.argv[1]
info = json.load(open(os.path.join(work, 'info.json')))
request = urllib.request.Request(info['url'] + '/_sandbox/mlds/storage', method='POST',
                                 data=json.dumps({'name': 'se/SnomedCT_DemoExtension_20261101.zip', 'size': 2000003, 'seed': 7}).encode(),
                                 headers={'Content-Type': 'application/json'})
storage = json.load(urllib.request.urlopen(request))
users = info['mlds']['users']
demo_vars = {'demo_root': os.path.join(work, 'root'), 'demo_ca_path': info['ca_path'],
             'demo_trusted_fingerprint': info['trud_fingerprint'], 'demo_mlds_url': info['mlds']['https_url'],
             'demo_mlds_staff': {'username': users['staff_se']['username'], 'password': users['staff_se']['password']},
             'demo_mlds_affiliate': {'username': users['affiliate']['username'], 'password': users['affiliate']['password']},
             'demo_mlds_object': {'url': storage['https_url'], 'md5': storage['md5'], 'size': storage['size']}}
path = os.path.join(work, 'vars.json')
with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'w') as handle:
    json.dump(demo_vars, handle)
PY
# A plain static web server over the published directory (an operator would use nginx or Apache; see the syndication
# guide), on a free port of the loopback interface.
mkdir -p "$work/root/published"
python3 -m http.server --bind 127.0.0.1 --directory "$work/root/published" 0 >"$work/feed-server.out" 2>&1 &
feed_pid=$!
for _ in $(seq 1 50); do grep -q ' port ' "$work/feed-server.out" && break; sleep 0.1; done
feed_port="$(sed -n 's/.* port \([0-9]*\).*/\1/p' "$work/feed-server.out" | head -1)"
[[ -n "$feed_port" ]] || { echo "the feed's web server did not start:" >&2; cat "$work/feed-server.out" >&2; exit 1; }
python3 - "$work/vars.json" "http://127.0.0.1:$feed_port/" <<'PY'
import json, sys
with open(sys.argv[1]) as handle:
    demo_vars = json.load(handle)
demo_vars['demo_feed_base_url'] = sys.argv[2]
with open(sys.argv[1], 'w') as handle:
    json.dump(demo_vars, handle)
PY
echo "MLDS: $(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['mlds']['https_url'])" "$work/info.json")"

# Three terminology servers, each with its own root (local connections: this is a demo).
{
    echo "[demo_fleet]"
    for host in server1 server2 server3; do
        echo "$host ansible_connection=local ansible_python_interpreter=$venv/bin/python demo_host_root=$work/hosts/$host"
    done
} >"$work/inventory.ini"

for run in first second; do
    echo
    echo "==== demo: $run run ===="
    ANSIBLE_LOG_PATH="$work/$run.log" "$venv/bin/ansible-playbook" -i "$work/inventory.ini" terminology.releases.demo \
        -e "@$work/vars.json" | tee "$work/$run.out"
done

recap="$(sed -n '/^PLAY RECAP/,$p' "$work/second.out" | grep -E ' : ok=')"
if grep -v -q 'changed=0 ' <<<"$recap" || grep -v -q 'failed=0 ' <<<"$recap"; then
    echo "demo FAILED: the second run was not a no-op:" >&2
    echo "$recap" >&2
    exit 1
fi
echo
echo "demo OK: the second run changed nothing on any host. What is where:"
for host_dir in "$work"/hosts/*; do
    echo "  $(basename "$host_dir"):"
    for base in "$host_dir"/*; do
        current="$(readlink "$base/current")"
        archive="$(find "$base/$current" -maxdepth 1 -type f -not -name '.*' -printf '%f (%s bytes)')"
        unpacked=""
        [[ -d "$base/$current/unpacked" ]] && unpacked=", unpacked in $current/unpacked/"
        echo "    ${base#"$work"/}/current -> $current: $archive$unpacked"
    done
done
echo "  feed: ${work#"$repo"/}/root/published/feed (served at http://127.0.0.1:$feed_port/feed) lists" \
     "$(find "$work/root/published" -maxdepth 1 -name '*.zip' -printf '%f ')"
echo "  feed reader: $(find "$work/root/feed-reader" -maxdepth 1 -type f -not -name '.*' -printf '%f (%s bytes) ')" \
     "fetched from the feed, verified by its SHA-256"
echo "controller cache: ${work#"$repo"/}/root/controller-cache; logs: ${work#"$repo"/}/first.log, second.log"
echo "(kept for inspection in $work until the next demo)"
