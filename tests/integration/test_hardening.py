# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hardening suite: faults during TRUD and MLDS fetches, hostile input, concurrency and TLS, each scenario a
real ansible-playbook run judged by the rules in hardening.py, with a scenario -> outcome table at the end
(the same table is in docs/docsite/rst/guide_security.rst; test_the_docs_table_lists_every_scenario keeps
them together)."""

from __future__ import annotations

import datetime
import os
import re
import resource
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from ansible_collections.terminology.releases.plugins.module_utils._download import RECEIVE_READ

from conftest import SandboxHelper, _load_sandbox_control
from hardening import (
    ITEM,
    SCENARIOS,
    Hardening,
    fetch_good_copy,
    read_only,
    record,
    scenario,
    short,
)
from mlds_itest import PASSWORD_PREFIX, MldsSandbox, package_seed
from trud_itest import API_KEY, names, tree

REPO_ROOT = Path(__file__).resolve().parents[2]
SIZE = 3_000_017  # ITEM's newest release
MLDS_ARCHIVE = 'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip'
MLDS_SIZE = 1_310_731


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope='module')
def sandbox(tmp_path_factory):
    """One sandbox for the suite, with the TRUD key and the distinctive MLDS passwords the scans look for."""
    control = _load_sandbox_control()
    started = control.Sandbox.start(state_dir=str(tmp_path_factory.mktemp('hardening-sandbox')), api_keys=[API_KEY],
                                    extra_args=('--mlds-password-prefix', PASSWORD_PREFIX))
    try:
        yield SandboxHelper(started)
    finally:
        started.stop()


@pytest.fixture(scope='module')
def mlds_view(sandbox):  # pylint: disable=redefined-outer-name
    return MldsSandbox(sandbox.sandbox)


@pytest.fixture(scope='module')
def good(sandbox, tmp_path_factory):  # pylint: disable=redefined-outer-name
    sandbox.reset()
    return fetch_good_copy(sandbox, tmp_path_factory.mktemp('good-copy'))


@pytest.fixture
def h(runner, sandbox, mlds_view, good):  # pylint: disable=redefined-outer-name
    sandbox.mlds_reset()
    return Hardening(runner, sandbox, mlds_view, good)


def test_the_docs_table_lists_every_scenario():
    page = (REPO_ROOT / 'docs' / 'docsite' / 'rst' / 'guide_security.rst').read_text(encoding='utf-8')
    documented = set()
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip().strip('|').split('|')] if line.strip().startswith('|') else []
        if len(cells) >= 3 and cells[0].startswith('``') and cells[0].endswith('``'):
            documented.add((cells[0].strip('`'), cells[2]))
    registered = set((case.name, case.expect) for case in SCENARIOS)
    assert documented == registered, 'guide_security.rst and the suite differ: only in the docs %s; only here %s' % (
        sorted(documented - registered), sorted(registered - documented))


# --- TRUD: transport faults that a run recovers from -------------------------------------------------


def _recover_from(h, *faults, **options):  # pylint: disable=invalid-name
    h.sandbox.add_faults(*faults)
    dest = h.workspace / 'dest'
    dest.mkdir()
    result = h.run([h.fetch_task('fetch', dest, **options)]).result('fetch')
    h.recovered(result, dest)
    return result


def _resumed_at(h, offset):  # pylint: disable=invalid-name
    gets = h.sandbox.archive_gets()
    assert [entry['range'] for entry in gets] == [None, 'bytes=%d-' % offset], gets
    assert gets[1]['status'] == 206 and gets[1]['bytes_sent'] == SIZE - offset
    return 'resumed with Range bytes=%d- (206, %d bytes)' % (offset, gets[1]['bytes_sent'])


@scenario('trud-drop-early', 'TRUD fetch', 'connection dropped after 10% of the archive', 'recovers')
def drop_early(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': 300_000}, retries=2)
    return _resumed_at(h, 300_000)


@scenario('trud-drop-half', 'TRUD fetch', 'connection dropped at 50%', 'recovers')
def drop_half(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': 1_500_008}, retries=2)
    return _resumed_at(h, 1_500_008)


@scenario('trud-drop-late', 'TRUD fetch', 'connection dropped at 99%', 'recovers')
def drop_late(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': 2_970_000}, retries=2)
    return _resumed_at(h, 2_970_000)


@scenario('trud-drop-headers', 'TRUD fetch', 'connection closed after the headers, before any body byte',
          'recovers')
def drop_headers(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': 0}, retries=2)
    gets = h.sandbox.archive_gets()
    assert [entry['range'] for entry in gets] == [None, None], gets
    return 'retried from byte 0 (nothing to resume), %d GETs' % len(gets)


@scenario('trud-truncated', 'TRUD fetch', 'body one byte short of its Content-Length', 'recovers')
def truncated(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': SIZE - 1}, retries=2)
    return _resumed_at(h, SIZE - 1)


@scenario('trud-stall', 'TRUD fetch', 'stall of 3 s mid-body, timeout 1 s', 'recovers')
def stall(h):
    _recover_from(h, {'kind': 'archive', 'type': 'stall', 'seconds': 3, 'after_bytes': 1_500_000}, retries=2, timeout=1)
    stalled, resumed = h.sandbox.wait_for_archive_gets(2)
    assert stalled['fault'] == 'stall' and resumed['range'].startswith('bytes='), (stalled, resumed)
    return 'timed out, then resumed with Range %s' % resumed['range']


@scenario('trud-5xx-burst', 'TRUD fetch', '503 on the listing, then 502 and 503 on the archive', 'recovers')
def burst(h):
    _recover_from(h, {'kind': 'listing', 'type': 'status', 'status': 503},
                  {'kind': 'archive', 'type': 'status', 'status': 502},
                  {'kind': 'archive', 'type': 'status', 'status': 503}, retries=2)
    statuses = [entry['status'] for entry in h.sandbox.archive_gets()]
    assert statuses == [502, 503, 200], statuses
    return 'listing 503 -> 200; archive %s' % ' -> '.join(map(str, statuses))


@scenario('trud-429', 'TRUD fetch', '429 with Retry-After: 2 on the listing', 'recovers')
def too_many(h):
    _recover_from(h, {'kind': 'listing', 'type': 'status', 'status': 429, 'retry_after': 2}, retries=1)
    listings = h.sandbox.module_requests('listing')
    assert [entry['status'] for entry in listings] == [429, 200]
    waited = (_when(listings[1]) - _when(listings[0])).total_seconds()
    assert waited >= 1.9, 'Retry-After was not honoured (%.2f s)' % waited
    return 'waited %.1f s as asked, then 200' % waited


@scenario('trud-ignored-range', 'TRUD fetch', 'drop, then the server ignores Range on the retry', 'recovers')
def ignored_range(h):
    _recover_from(h, {'kind': 'archive', 'type': 'drop_after', 'bytes': 1_000_000},
                  {'kind': 'archive', 'type': 'ignore_range'}, retries=2)
    second = h.sandbox.archive_gets()[1]
    assert (second['range'], second['status'], second['bytes_sent']) == ('bytes=1000000-', 200, SIZE)
    return 'answered 200 to Range: restarted from byte 0, whole file verified'


def kill_tree(pid):
    """SIGKILL pid and every descendant (found through /proc), deepest first; returns the pids killed."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry, encoding='utf-8') as handle:
                    parent = int(handle.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    order, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        order.append(current)
        queue.extend(children.get(current, []))
    for victim in reversed(order):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return order


def _when(entry):
    return datetime.datetime.fromisoformat(entry['time'].replace('Z', '+00:00'))


# --- TRUD: faults that end a run, and what the next run does -----------------------------------------


def _refuse(h, faults, pattern, resumable=False, **options):  # pylint: disable=invalid-name
    """Both refusing tasks under persistent faults; returns (message, empty dest, kept dest)."""
    h.sandbox.add_faults(*[dict(fault, times=-1) for fault in faults])
    empty, kept = h.destinations()
    before = tree(kept)
    run = h.run(h.refusing_tasks(empty, kept, **options), expect_failure=True)
    msg = h.refused(run, 'first fetch', pattern, empty, resumable=resumable)
    h.refused(run, 'forced over a good file', pattern, kept, kept_before=before, resumable=resumable)
    return msg, empty, kept


@scenario('trud-drops-exhaust', 'TRUD fetch', 'connection dropped on every attempt (retries 1)', 'refused')
def drops_exhaust(h):
    msg, empty, _kept = _refuse(h, [{'kind': 'archive', 'type': 'drop_after', 'bytes': 1_000_000}],
                                r'kept in .*\.part for the next run to resume', resumable=True)
    return '%s; %s' % (msg, h.resumes(empty, 2_000_000))


@scenario('trud-stalls-exhaust', 'TRUD fetch', 'stalls beyond the timeout on every attempt (retries 0)', 'refused')
def stalls_exhaust(h):
    # Past the first 1 MiB read, so that one whole chunk is written before the stall.
    msg, empty, _kept = _refuse(h, [{'kind': 'archive', 'type': 'stall', 'seconds': 4, 'after_bytes': 1_600_000}],
                                r'(?i)timed out.*kept in .*\.part for the next run', resumable=True, retries=0,
                                timeout=1)
    assert len(h.sandbox.wait_for_archive_gets(2, timeout=15)) == 2  # both stalled requests logged
    kept_bytes = os.path.getsize(empty / [name for name in names(empty) if name.endswith('.part')][0])
    return '%s; %s' % (msg, h.resumes(empty, kept_bytes))


@scenario('trud-5xx-exhaust', 'TRUD fetch', '503 on every attempt', 'refused')
def errors_exhaust(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'archive', 'type': 'status', 'status': 503}], r'HTTP 503')
    return msg


@scenario('trud-404', 'TRUD fetch', 'the archive answers 404 (never retried)', 'refused')
def archive_404(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'archive', 'type': 'status', 'status': 404}], r'HTTP 404 for the archive',
                                 retries=3)
    assert [entry['status'] for entry in h.sandbox.archive_gets()] == [404, 404], 'a 404 was retried'
    return msg + ' (one GET per task: not retried)'


@scenario('trud-corrupt', 'TRUD fetch', 'one byte of the archive flipped in transit', 'refused')
def corrupt(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'archive', 'type': 'corrupt_byte', 'offset': 1_234_567}],
                                 r'failed verification \(.*(SHA1|sha256).*\); it was discarded')
    return msg


@scenario('trud-untrusted-key', 'TRUD fetch', 'checksum signed by a key not on the allow-list', 'refused')
def untrusted_key(h):
    msg, _empty, _kept = _refuse(h, [{'type': 'wrong_key_signature', 'item': ITEM}, {'type': 'wrong_public_key'}],
                                 h.sandbox.wrong_fingerprint + r'.*trusted_fingerprints')
    assert h.sandbox.module_requests('archive') == [], 'the archive was requested before the signature was checked'
    return msg


@scenario('trud-unknown-key', 'TRUD fetch', 'checksum signed by a key other than the published one', 'refused')
def unknown_key(h):
    msg, _empty, _kept = _refuse(h, [{'type': 'wrong_key_signature', 'item': ITEM}],
                                 h.sandbox.wrong_fingerprint[-16:] + r'.*not the key published')
    assert h.sandbox.module_requests('archive') == []
    return msg


@scenario('trud-tampered-checksum', 'TRUD fetch', 'checksum XML altered after signing', 'refused')
def tampered(h):
    msg, _empty, _kept = _refuse(h, [{'type': 'tamper_checksum', 'item': ITEM}], r'signature.*does not verify')
    assert h.sandbox.module_requests('archive') == []
    return msg


@scenario('trud-no-sha256', 'TRUD fetch', 'release without archiveFileSha256, verify: sha256', 'refused')
def no_sha256(h):
    h.sandbox.add_release(ITEM, size=1_000_003, sha256='omit')
    empty = h.workspace / 'empty'
    empty.mkdir()
    run = h.run([dict(h.fetch_task('first fetch', empty, verify='sha256'), ignore_errors=True),
                 h.fetch_task('auto', empty)], expect_failure=True)
    msg = run.failure_message('first fetch')
    assert 'sha256' in msg and 'verify=sha256' in msg, msg
    auto = run.result('auto')
    assert auto['changed'] is True and auto['verified'] == ['size', 'signature'], auto
    assert any('sha256' in str(warning) for warning in auto.get('warnings') or []), auto
    return '%s; with verify: auto it is verified by size and signature, with a warning' % msg


@scenario('trud-html-listing', 'TRUD fetch', 'an HTML page instead of the JSON listing', 'refused')
def html_listing(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'listing', 'type': 'html_error'}], r'an HTML page instead of a JSON')
    return msg


@scenario('trud-malformed-json', 'TRUD fetch', 'listing cut off mid-JSON', 'refused')
def malformed(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'listing', 'type': 'malformed_json'}], r'malformed JSON')
    return msg


@scenario('trud-oversized-json', 'TRUD fetch', 'an 80 MiB JSON listing', 'refused')
def oversized(h):
    msg, _empty, _kept = _refuse(h, [{'kind': 'listing', 'type': 'oversized_json'}], r'larger than 33554432 bytes')
    sent = max(entry['bytes_sent'] for entry in h.sandbox.module_requests('listing'))
    assert sent < 48 * 1024 * 1024, 'the module read %d bytes of the listing' % sent
    return '%s (at most %.1f MiB of 80 sent before the module hung up)' % (msg, sent / 1048576)


@scenario('trud-disk-full', 'TRUD fetch', 'disk full mid-download (file size limit 1.5 MB)', 'refused')
def disk_full(h):
    limit = 1_500_000

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    empty, kept = h.destinations()
    before = tree(kept)
    run = h.start(h.refusing_tasks(empty, kept), expect_failure=True, preexec_fn=limited).wait()
    msg = h.refused(run, 'first fetch', r'No space left to write the download', empty)
    h.refused(run, 'forced over a good file', r'No space left', kept, kept_before=before)
    return msg


@scenario('trud-read-only-dest', 'TRUD fetch', 'destination directory is read-only', 'refused')
def read_only_dest(h):
    empty, kept = h.destinations()
    before_empty, before_kept = tree(empty), tree(kept)
    with read_only(empty) as how_empty, read_only(kept):
        run = h.run(h.refusing_tasks(empty, kept), expect_failure=True)
    msg = h.refused(run, 'first fetch', r'(?i)read-only|permission denied|not writable', empty)
    h.refused(run, 'forced over a good file', r'(?i)read-only|permission denied|not writable', kept,
              kept_before=before_kept)
    assert tree(empty) == before_empty
    return '%s (%s)' % (msg, how_empty)


@scenario('trud-kill-9', 'TRUD fetch', 'the run killed with SIGKILL mid-download, then run again', 'recovers')
def killed(h):
    dest = h.workspace / 'dest'
    dest.mkdir()
    # The module writes each whole read (RECEIVE_READ bytes) as it arrives: stalling after 2.5 MB leaves it holding
    # the whole reads before the stall on disk, waiting for the rest of the next one.
    kept = 2_500_000 // RECEIVE_READ * RECEIVE_READ
    h.sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 6, 'after_bytes': 2_500_000})
    pending = h.start([h.fetch_task('fetch', dest)])
    deadline = time.monotonic() + 60
    partial = None
    while time.monotonic() < deadline and pending.process.poll() is None:
        parts = [name for name in names(dest) if name.endswith('.part')]
        if parts and os.path.getsize(dest / parts[0]) >= kept:
            partial = dest / parts[0]
            break
        time.sleep(0.05)
    assert partial is not None, 'the download never reached the stall: dest holds %s' % names(dest)
    # Ansible's workers start their own sessions, so the module is not in the playbook's process group: kill
    # the whole tree, module first, as an OOM killer or a power cut would stop it.
    killed_pids = kill_tree(pending.process.pid)
    pending.collect(*pending.process.communicate(timeout=60))  # the killed run is scanned for secrets too
    assert len(killed_pids) >= 2, 'only %s killed' % killed_pids
    # The sandbox logs the stalled request once its stall ends: wait for it, so that it cannot land in the log
    # of the next run.
    assert [entry['fault'] for entry in h.sandbox.wait_for_archive_gets(1, timeout=15)] == ['stall']
    assert names(dest) == [partial.name], 'after SIGKILL dest holds %s' % names(dest)
    assert partial.stat().st_size == kept
    h.assert_prefix(partial)
    return 'killed with %d bytes in the partial and nothing installed; %s' % (kept, h.resumes(dest, kept))


# --- concurrency ------------------------------------------------------------------------------------


@scenario('trud-concurrent', 'TRUD fetch', 'two playbooks fetch the same release into one directory at once',
          'recovers')
def concurrent(h):
    dest = h.workspace / 'dest'
    dest.mkdir()
    # A slow first response keeps the first run inside the download while the second one starts.
    h.sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 2, 'after_bytes': 1_000_000})
    first = h.start([h.fetch_task('fetch', dest)])
    second = h.start([h.fetch_task('fetch', dest)])
    results = [first.wait().result('fetch'), second.wait().result('fetch')]
    assert sorted(result['changed'] for result in results) == [False, True], results
    h.recovered([result for result in results if result['changed']][0], dest)
    gets = h.sandbox.wait_for_archive_gets(1)
    assert len(gets) == 1, 'the archive was downloaded %d times' % len(gets)
    return 'one download; the other run waited for the lock and found the file verified (changed: false)'


# --- hostile input --------------------------------------------------------------------------------------


def _refuse_release(h, pattern, item=ITEM, **release):  # pylint: disable=invalid-name
    if release:
        h.sandbox.add_release(item, **release)
    empty = h.workspace / 'empty'
    empty.mkdir()
    before = tree(h.workspace)
    run = h.run([h.fetch_task('first fetch', empty, item=item)], expect_failure=True)
    msg = run.failure_message('first fetch')
    assert re.search(pattern, msg), msg
    assert tree(h.workspace) == before, 'a refused release changed the workspace'
    assert h.sandbox.module_requests('archive') == [], 'the archive of a refused release was requested'
    return msg


@scenario('hostile-path-traversal', 'hostile input', 'archiveFileName ../../evil.zip', 'refused')
def traversal(h):
    msg = _refuse_release(h, r'(?i)file name', item=666)
    assert not list(h.runner.tmp_path.rglob('evil.zip'))
    return msg


@scenario('hostile-negative-size', 'hostile input', 'archiveFileSizeBytes -5', 'refused')
def negative_size(h):
    return _refuse_release(h, r'invalid archiveFileSizeBytes -5', size_bytes=-5)


@scenario('hostile-absurd-size', 'hostile input', 'archiveFileSizeBytes of 1 EB', 'refused')
def absurd_size(h):
    return _refuse_release(h, r'The release is 1000000000000000000 bytes; .* only \d+ are free',
                           size_bytes=10 ** 18)


@scenario('hostile-non-hex-sha256', 'hostile input', 'archiveFileSha256 that is not hex', 'refused')
def non_hex(h):
    return _refuse_release(h, r'not 64 hex digits', sha256='z' * 64)


@scenario('hostile-xml-entities', 'hostile input', 'signed checksum XML with an entity-expansion bomb', 'refused')
def xml_bomb(h):
    return _refuse_release(h, r'(?i)DTD|entit', checksum_style='entities')


@scenario('hostile-xml-external-entity', 'hostile input', 'signed checksum XML with an external entity', 'refused')
def xml_external(h):
    return _refuse_release(h, r'(?i)DTD|entit', checksum_style='external_entity')


def _unpack_refused(h, item, pattern, **unpack):  # pylint: disable=invalid-name
    dest = h.workspace / 'dest'
    dest.mkdir()
    release = h.sandbox.release(item)
    tasks = [h.fetch_task('fetch', dest, item=item),
             {'name': 'unpack', 'terminology.releases.release_unpack': dict(
                 src=str(dest / release['archiveFileName']), dest=str(dest / 'unpacked'), **unpack),
              'ignore_errors': True}]
    run = h.run(tasks, expect_failure=True)
    msg = run.failure_message('unpack')
    assert re.search(pattern, msg), msg
    assert sorted(names(dest)) == sorted([release['archiveFileName'], '.%s.verified.json' % release['archiveFileName']])
    return msg


@scenario('hostile-zip-slip', 'hostile input', 'archive member ../../evil.txt (the role\'s unpack step)', 'refused')
def zip_slip(h):
    msg = _unpack_refused(h, 900, r'zip slip')
    assert not list(h.runner.tmp_path.rglob('evil.txt'))
    return msg


@scenario('hostile-zip-bomb', 'hostile input', '200 kB inflating to 200 MiB (the role\'s unpack step)', 'refused')
def zip_bomb(h):
    msg = _unpack_refused(h, 901, r'more than max_size', max_size='64M')
    assert not list(h.runner.tmp_path.rglob('bomb.bin'))
    return msg


# --- TLS --------------------------------------------------------------------------------------------------


@scenario('tls-untrusted', 'TLS', 'HTTPS with a certificate from an unknown CA', 'refused')
def tls_untrusted(h):
    dest = h.workspace / 'dest'
    dest.mkdir()
    run = h.run([h.fetch_task('first fetch', dest, base_url=h.sandbox.trud_https_base_url)], expect_failure=True)
    msg = run.failure_message('first fetch')
    assert 'TLS verification failed' in msg and 'ca_path' in msg, msg
    assert names(dest) == []
    assert h.sandbox.module_requests() == [], 'a request got through without a trusted certificate'
    return msg


@scenario('tls-ca-path', 'TLS', 'HTTPS with ca_path naming the CA', 'recovers')
def tls_ca_path(h):
    dest = h.workspace / 'dest'
    dest.mkdir()
    result = h.run([h.fetch_task('fetch', dest, base_url=h.sandbox.trud_https_base_url,
                                 ca_path=h.sandbox.ca_path)]).result('fetch')
    h.recovered(result, dest)
    assert {entry['scheme'] for entry in h.sandbox.module_requests()} == {'https'}
    return 'fetched and verified over HTTPS'


@scenario('tls-no-validation', 'TLS', 'HTTPS with validate_certs: false', 'recovers')
def tls_no_validation(h):
    dest = h.workspace / 'dest'
    dest.mkdir()
    run = h.run([h.fetch_task('fetch', dest, base_url=h.sandbox.trud_https_base_url, validate_certs=False)])
    result = run.result('fetch')
    h.recovered(result, dest)
    warnings = [str(warning) for warning in result.get('warnings') or []]
    assert any('validate_certs is false' in warning for warning in warnings), warnings
    assert 'InsecureRequestWarning' not in run.output, 'urllib3 warned on top of the module'
    return 'fetched, with the warning: %s' % warnings[0]


# --- MLDS fetch as an affiliate ------------------------------------------------------------------------


def _mlds_fetch(h, name, dest, **options):  # pylint: disable=invalid-name
    args = {'url': h.sandbox.mlds_url, 'username': '{{ mlds_users.affiliate.username }}',
            'password': '{{ mlds_users.affiliate.password }}', 'package': 'SNOMED CT Swedish Extension',
            'member': 'SE', 'version': '2026-03-01', 'dest': str(dest), 'timeout': 10, 'retries': 2}
    args.update(options)
    return {'name': name, 'terminology.releases.mlds_release_fetch': args}


def _mlds_published(h):  # pylint: disable=invalid-name
    h.sandbox.mlds_seed({'packages': [package_seed('SNOMED CT Swedish Extension', versions=[{
        'name': '2026-03-01', 'releaseType': 'online',
        'files': [{'label': MLDS_ARCHIVE, 'primaryFile': True,
                   'storage': {'name': 'se/' + MLDS_ARCHIVE, 'size': MLDS_SIZE, 'seed': 4711, 'url_style': 's3'}}],
    }])]})
    return h.sandbox.mlds_storage('se/' + MLDS_ARCHIVE, MLDS_SIZE, seed=4711)['md5']


def _mlds_downloads(h):  # pylint: disable=invalid-name
    return [entry for entry in h.sandbox.log() if entry['path'].split('?')[0].endswith('/download')]


def _mlds_recovers(h, *faults, **options):  # pylint: disable=invalid-name
    md5 = _mlds_published(h)
    h.sandbox.add_faults(*faults)
    dest = h.workspace / 'dest'
    dest.mkdir()
    result = h.run([_mlds_fetch(h, 'fetch', dest, **options)]).result('fetch')
    assert result['changed'] is True and result['md5'] == md5 and result['verified'] == ['size', 'md5'], result
    assert names(dest) == sorted([MLDS_ARCHIVE, '.%s.verified.json' % MLDS_ARCHIVE])
    return [entry['status'] for entry in _mlds_downloads(h)]


def _mlds_refused(h, faults, pattern, **options):  # pylint: disable=invalid-name
    _mlds_published(h)
    return _refused(h, faults, pattern, lambda dest: _mlds_fetch(h, 'fetch', dest, **options))


def _refused(h, faults, pattern, fetch_task, partial_of=None):  # pylint: disable=invalid-name
    """The faults (on every request) make the fetch task fail clearly, with nothing under the file's name; with
    partial_of (the file's URL), a partial download of the right bytes may stay, for a later run to resume."""
    h.sandbox.add_faults(*[dict(fault, times=-1) for fault in faults])
    dest = h.workspace / 'dest'
    dest.mkdir()
    run = h.run([dict(fetch_task(dest), ignore_errors=True)], expect_failure=True)
    msg = run.failure_message('fetch')
    assert re.search(pattern, msg), msg
    assert 'Traceback' not in msg and 'Unexpected' not in msg, msg
    left = names(dest)
    if partial_of:
        assert all(name.endswith('.part') for name in left), 'a refused download left %s' % left
        for name in left:
            data = (dest / name).read_bytes()
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(partial_of, timeout=30) as response:
                assert data == response.read()[:len(data)], 'the kept partial is not a prefix of the file'
    else:
        assert left == [], 'a refused download left %s' % left
    return msg


@scenario('mlds-drop', 'MLDS fetch', 'connection dropped mid-download (MLDS serves no ranges)', 'recovers')
def mlds_drop(h):
    statuses = _mlds_recovers(h, {'kind': 'mlds_download', 'type': 'drop_after', 'bytes': 600_000})
    return 'restarted from byte 0 (the proxy has no Range); downloads: %s' % statuses


@scenario('mlds-stall', 'MLDS fetch', 'stall beyond the timeout mid-download', 'recovers')
def mlds_stall(h):
    _mlds_recovers(h, {'kind': 'mlds_download', 'type': 'stall', 'seconds': 3, 'after_bytes': 500_000}, timeout=1)
    deadline = time.monotonic() + 15  # the stalled download is logged when its stall ends
    while len(_mlds_downloads(h)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    downloads = _mlds_downloads(h)
    assert sorted(entry['fault'] or '' for entry in downloads) == ['', 'stall'], downloads
    return 'timed out, restarted from byte 0; downloads: %s' % [entry['status'] for entry in downloads]


@scenario('mlds-5xx-burst', 'MLDS fetch', '503 twice on the download', 'recovers')
def mlds_burst(h):
    statuses = _mlds_recovers(h, {'kind': 'mlds_download', 'type': 'status', 'status': 503, 'times': 2})
    assert statuses == [503, 503, 200], statuses
    return 'downloads: %s' % ' -> '.join(map(str, statuses))


@scenario('mlds-429', 'MLDS fetch', '429 with Retry-After on the API', 'recovers')
def mlds_429(h):
    _mlds_recovers(h, {'kind': 'mlds_api', 'type': 'status', 'status': 429, 'retry_after': 1})
    return 'waited, then read the package and downloaded once'


@scenario('mlds-corrupt', 'MLDS fetch', 'one byte flipped in the download', 'refused')
def mlds_corrupt(h):
    return _mlds_refused(h, [{'kind': 'mlds_download', 'type': 'corrupt_byte', 'offset': 777_777}], r'(?i)md5')


@scenario('mlds-drops-exhaust', 'MLDS fetch', 'connection dropped on every attempt', 'refused')
def mlds_drops(h):
    return _mlds_refused(h, [{'kind': 'mlds_download', 'type': 'drop_after', 'bytes': 600_000}],
                         r'(?i)discarded|connection')


@scenario('mlds-html', 'MLDS fetch', 'an HTML page instead of JSON from the API', 'refused')
def mlds_html(h):
    return _mlds_refused(h, [{'kind': 'mlds_api', 'type': 'html_error'}], r'an HTML page instead of JSON')


@scenario('mlds-malformed-json', 'MLDS fetch', 'JSON cut off mid-body from the API', 'refused')
def mlds_malformed(h):
    return _mlds_refused(h, [{'kind': 'mlds_api', 'type': 'status', 'status': 200, 'body': '[{"id": 1, "na',
                              'content_type': 'application/json'}], r'malformed JSON')


@scenario('mlds-oversized-json', 'MLDS fetch', 'an 80 MiB JSON answer from the API', 'refused')
def mlds_oversized(h):
    return _mlds_refused(h, [{'kind': 'mlds_api', 'type': 'oversized_json'}], r'more than 67108864 bytes')


# --- syndication feeds: syndication_fetch from the sandbox's NCTS feed ---------------------------------------

FEED_IDENTIFIER = 'http://snomed.info/sct/83821000000107'  # the UK Clinical Edition in the sandbox's NCTS feed
FEED_VERSION = FEED_IDENTIFIER + '/version/20251001'
FEED_FILE = 'uk_sct2cl_40.4.0_20251001000001Z.zip'


def _feed_fetch(h, name, dest, **options):  # pylint: disable=invalid-name
    args = {'url': h.sandbox.feed_url, 'version_uri': FEED_VERSION, 'dest': str(dest), 'timeout': 5, 'retries': 2}
    args.update(options)
    return {'name': name, 'terminology.releases.syndication_fetch': args}


def _feed_files(h):  # pylint: disable=invalid-name
    return [entry for entry in h.sandbox.log() if entry.get('kind') == 'syndication_file']


def _feed_refused(h, faults, pattern, resumable=False):  # pylint: disable=invalid-name
    """Refused clearly, nothing under the file's name; with resumable, a partial of the right bytes may stay."""
    url = h.sandbox.feed_url.rsplit('/', 1)[0] + '/files/' + FEED_FILE
    return _refused(h, faults, pattern, lambda dest: _feed_fetch(h, 'fetch', dest), url if resumable else None)


@scenario('feed-drop', 'Feed fetch', 'connection dropped mid-download of a feed file', 'recovers')
def feed_drop(h):
    h.sandbox.add_faults({'kind': 'syndication_file', 'type': 'drop_after', 'bytes': 1_000_000})
    dest = h.workspace / 'dest'
    dest.mkdir()
    result = h.run([_feed_fetch(h, 'fetch', dest)]).result('fetch')
    assert result['changed'] is True and result['verified'] == ['length', 'sha256'], result
    assert result['bytes_resumed'] == 0 and result['size'] == os.path.getsize(dest / FEED_FILE)
    assert names(dest) == sorted([FEED_FILE, '.%s.verified.json' % FEED_FILE])
    ranges = [(entry.get('headers') or {}).get('Range') for entry in _feed_files(h)]
    assert ranges[0] is None and ranges[-1] == 'bytes=1000000-', ranges
    return 'resumed from byte 1000000 with Range; requests: %s' % ranges


@scenario('feed-wrong-hash', 'Feed fetch', 'the feed gives a wrong SHA-256 for a good file', 'refused')
def feed_wrong_hash(h):
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'wrong_hash'}], r'failed verification.*SHA256')


@scenario('feed-wrong-length', 'Feed fetch', 'the feed gives a wrong length for a good file', 'refused')
def feed_wrong_length(h):
    # The server sends the real file, one byte short of what the feed says: what arrived is kept to resume.
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'wrong_length'}], r'closing the connection early',
                         resumable=True)


@scenario('feed-corrupt-file', 'Feed fetch', 'one byte flipped in the file, the feed right', 'refused')
def feed_corrupt(h):
    return _feed_refused(h, [{'kind': 'syndication_file', 'type': 'corrupt_byte', 'offset': 123_457}],
                         r'failed verification.*SHA256')


@scenario('feed-html', 'Feed fetch', 'an HTML page instead of the feed', 'refused')
def feed_html(h):
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'html_error'}], r'HTML page.*not an Atom feed')


@scenario('feed-entity-bomb', 'Feed fetch', 'a feed declaring an entity-expansion bomb', 'refused')
def feed_entities(h):
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'xml_entities'}], r'entity declaration')


@scenario('feed-external-entity', 'Feed fetch', 'a feed declaring an external entity (file:///etc/passwd)', 'refused')
def feed_external(h):
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'xml_external_entity'}], r'entity declaration')


@scenario('feed-oversized', 'Feed fetch', 'a 17 MiB feed', 'refused')
def feed_oversized(h):
    return _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'oversized_feed'}], r'16777216')


@scenario('feed-hostile-link', 'Feed fetch', 'a link whose file name is ../NAME', 'refused')
def feed_hostile(h):
    msg = _feed_refused(h, [{'kind': 'syndication_feed', 'type': 'hostile_link'}], r'not a plain file name')
    assert not (h.workspace / FEED_FILE).exists(), 'the traversal wrote outside dest'
    return msg


# --- the suite: every scenario registered above --------------------------------------------------------


@pytest.mark.parametrize('case', SCENARIOS, ids=[case.name for case in SCENARIOS])
def test_scenario(case, h):  # pylint: disable=redefined-outer-name
    try:
        evidence = case.function(h)
    except BaseException as exc:
        if not isinstance(exc, pytest.skip.Exception):
            record(case, SCENARIOS.index(case), len(SCENARIOS), 'FAILED', short('%s: %s' % (type(exc).__name__, exc)))
        raise
    record(case, SCENARIOS.index(case), len(SCENARIOS), case.expect, short(evidence, 600))
