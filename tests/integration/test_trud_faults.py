# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Faults injected by the sandbox: every run either recovers with a verified file, or fails clearly and
leaves the destination untouched."""

from __future__ import annotations

import datetime
import os
import stat

from trud_itest import hash_file, ignoring_errors, names, sha256_file, tree

DROP_AT = 1_000_000  # bytes; the default newest release of item 101 has 3,000,017


def when(entry):
    return datetime.datetime.fromisoformat(entry['time'].replace('Z', '+00:00'))


def partials(dest):
    return [name for name in names(dest) if name.endswith('.part')]


def assert_good_file(dest, release, result=None):
    path = dest / release['archiveFileName']
    assert path.stat().st_size == release['archiveFileSizeBytes']
    assert sha256_file(path) == release['archiveFileSha256'].lower()
    if result is not None:
        assert result['changed'] is True
        assert result['verified'] == ['size', 'sha256', 'signature']
        assert result['sha256'] == release['archiveFileSha256'].lower()
    assert partials(dest) == [], 'a partial file was left behind after success'
    return path


def test_503_then_success(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    sandbox.add_faults({'kind': 'listing', 'type': 'status', 'status': 503},
                       {'kind': 'archive', 'type': 'status', 'status': 503})
    result = run_playbook([fetch_task(retries=2)]).result()
    assert_good_file(dest, release, result)
    assert [entry['status'] for entry in sandbox.module_requests('listing')] == [503, 200]
    assert [entry['status'] for entry in sandbox.archive_gets()] == [503, 200]


def test_429_honours_retry_after(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    # Retry-After 2 on the listing (longer than the first backoff step of 1 s), 1 on the archive.
    sandbox.add_faults({'kind': 'listing', 'type': 'status', 'status': 429, 'retry_after': 2},
                       {'kind': 'archive', 'type': 'status', 'status': 429, 'retry_after': 1})
    result = run_playbook([fetch_task(retries=1)]).result()
    assert_good_file(dest, release, result)
    listings = sandbox.module_requests('listing')
    assert [entry['status'] for entry in listings] == [429, 200]
    assert (when(listings[1]) - when(listings[0])).total_seconds() >= 1.9, 'Retry-After: 2 was not honoured'
    archives = sandbox.archive_gets()
    assert [entry['status'] for entry in archives] == [429, 200]
    assert (when(archives[1]) - when(archives[0])).total_seconds() >= 0.9


def test_status_sequence_exceeding_retries_fails_and_touches_nothing(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    path = dest / release['archiveFileName']

    sandbox.add_faults({'kind': 'archive', 'type': 'status', 'status': 503, 'times': 2})
    msg = run_playbook([fetch_task(retries=1)], expect_failure=True).failure_message()
    assert 'HTTP 503' in msg, msg
    assert [entry['status'] for entry in sandbox.archive_gets()] == [503, 503]
    assert not path.exists()
    assert names(dest) == [], 'a failure before any byte arrived left something in dest'

    # With a good file in place, a forced download that fails leaves it exactly as it was.
    run_playbook([fetch_task()])
    before = tree(dest)
    sandbox.add_faults({'kind': 'archive', 'type': 'status', 'status': 503, 'times': 2})
    msg = run_playbook([fetch_task(retries=1, force=True)], expect_failure=True).failure_message()
    assert 'HTTP 503' in msg, msg
    assert tree(dest) == before


def test_archive_404_is_not_retried(run_playbook, fetch_task, sandbox, dest):
    sandbox.add_faults({'kind': 'archive', 'type': 'status', 'status': 404})
    msg = run_playbook([fetch_task(retries=3)], expect_failure=True).failure_message()
    assert 'HTTP 404' in msg and 'archive' in msg, msg
    assert [entry['status'] for entry in sandbox.archive_gets()] == [404], 'a 404 was retried'
    assert not (dest / sandbox.release(101)['archiveFileName']).exists()


def test_dropped_connection_resumes_within_the_run(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    size = release['archiveFileSizeBytes']
    sandbox.add_faults({'kind': 'archive', 'type': 'drop_after', 'bytes': DROP_AT})
    result = run_playbook([fetch_task(retries=2)]).result()
    assert_good_file(dest, release, result)
    assert result['bytes_transferred'] == size

    first, second = sandbox.archive_gets()
    assert (first['fault'], first['range'], first['bytes_sent']) == ('drop_after', None, DROP_AT)
    assert second['range'] == 'bytes=%d-' % DROP_AT, 'the retry did not resume with Range'
    assert second['status'] == 206
    assert second['bytes_sent'] == size - DROP_AT


def test_drop_on_every_attempt_fails_then_next_run_resumes(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    size = release['archiveFileSizeBytes']
    path = dest / release['archiveFileName']
    sandbox.add_faults({'kind': 'archive', 'type': 'drop_after', 'bytes': DROP_AT, 'times': -1})

    msg = run_playbook([fetch_task(retries=1)], expect_failure=True).failure_message()
    assert 'resume' in msg, msg
    assert not path.exists()
    kept = partials(dest)
    assert len(kept) == 1, names(dest)
    partial = dest / kept[0]
    assert partial.stat().st_size == 2 * DROP_AT  # two attempts, each cut after DROP_AT bytes
    assert stat.S_IMODE(partial.stat().st_mode) == 0o600
    assert [entry['range'] for entry in sandbox.archive_gets()] == [None, 'bytes=%d-' % DROP_AT]

    sandbox.clear_faults()
    sandbox.clear_log()
    result = run_playbook([fetch_task()]).result()
    assert_good_file(dest, release, result)
    assert result['bytes_resumed'] == 2 * DROP_AT
    assert result['bytes_transferred'] == size - 2 * DROP_AT
    (entry,) = sandbox.archive_gets()
    assert entry['range'] == 'bytes=%d-' % (2 * DROP_AT)
    assert entry['bytes_sent'] == size - 2 * DROP_AT


def test_stall_longer_than_timeout_recovers(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    size = release['archiveFileSizeBytes']
    sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 3, 'after_bytes': 1_500_000})
    result = run_playbook([fetch_task(retries=2, timeout=1)]).result()
    assert_good_file(dest, release, result)

    stalled, resumed = sandbox.wait_for_archive_gets(2)
    assert stalled['fault'] == 'stall'
    assert resumed['range'] and resumed['range'].startswith('bytes='), 'the retry after the timeout did not resume'
    start = int(resumed['range'][len('bytes='):].rstrip('-'))
    assert 0 < start <= 1_500_000
    assert resumed['status'] == 206 and resumed['bytes_sent'] == size - start


def test_corrupted_byte_is_never_installed(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    path = dest / release['archiveFileName']

    sandbox.add_faults({'kind': 'archive', 'type': 'corrupt_byte', 'offset': 123_457})
    msg = run_playbook([fetch_task()], expect_failure=True).failure_message()
    assert 'failed verification' in msg and release['archiveFileSha256'].lower() in msg, msg
    assert names(dest) == [], 'a corrupted download left something in dest'
    assert not path.exists()

    # A good file in place survives a forced download that turns out corrupted.
    run_playbook([fetch_task()])
    before = tree(dest)
    sandbox.add_faults({'kind': 'archive', 'type': 'corrupt_byte', 'offset': 2_000_000})
    msg = run_playbook([fetch_task(force=True)], expect_failure=True).failure_message()
    assert 'failed verification' in msg, msg
    assert tree(dest) == before


def test_server_ignoring_range_gets_a_full_download(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    size = release['archiveFileSizeBytes']
    sandbox.add_faults({'kind': 'archive', 'type': 'drop_after', 'bytes': DROP_AT},
                       {'kind': 'archive', 'type': 'ignore_range'})
    result = run_playbook([fetch_task(retries=2)]).result()
    assert_good_file(dest, release, result)
    assert result['bytes_transferred'] == DROP_AT + size

    first, second = sandbox.archive_gets()
    assert first['bytes_sent'] == DROP_AT
    assert second['range'] == 'bytes=%d-' % DROP_AT
    assert (second['fault'], second['status'], second['bytes_sent']) == ('ignore_range', 200, size)


SIGNATURE_FAULTS = (
    # Signature and checksum faults are pinned to an item each. The public key URL belongs to no item, so the
    # wrong public key goes to the first public key request: the first task's.
    {'type': 'wrong_key_signature', 'item': 101},
    {'type': 'wrong_public_key'},
    {'type': 'wrong_key_signature', 'item': 341},
    {'type': 'tamper_checksum', 'item': 24},
)


def test_bad_signatures_are_refused_before_the_download(run_playbook, fetch_task, sandbox, workspace, dest):
    sandbox.add_faults(*SIGNATURE_FAULTS)
    before = tree(workspace)
    run = run_playbook([
        ignoring_errors(fetch_task('valid signature by an untrusted key', item=101)),
        ignoring_errors(fetch_task('signature by an unknown key', item=341)),
        ignoring_errors(fetch_task('tampered checksum file', item=24)),
    ], expect_failure=True)
    assert sandbox.faults() == [], 'not every fault was used'
    # A valid signature by a key not on the allow-list: the error names the fingerprint found.
    msg = run.failure_message('valid signature by an untrusted key')
    assert sandbox.wrong_fingerprint in msg and 'trusted_fingerprints' in msg, msg
    # Signed by a key that is not the published one: say so, and name the key found.
    msg = run.failure_message('signature by an unknown key')
    assert 'signature' in msg and sandbox.wrong_fingerprint[-16:] in msg and 'not the key published' in msg, msg
    # Signed by the published, trusted key, but the checksum file was altered: the signature does not verify.
    msg = run.failure_message('tampered checksum file')
    assert 'signature' in msg and 'does not verify' in msg and 'not the key published' not in msg, msg

    assert sandbox.module_requests('archive') == [], 'the archive was requested before the signature was checked'
    assert tree(workspace) == before


def test_broken_listings_fail_clearly(run_playbook, fetch_task, info_task, sandbox, workspace, dest):
    sandbox.add_faults({'kind': 'listing', 'type': 'malformed_json'},
                       {'kind': 'listing', 'type': 'html_error'},
                       {'kind': 'listing', 'type': 'malformed_json'},
                       {'kind': 'listing', 'type': 'html_error'})
    before = tree(workspace)
    run = run_playbook([ignoring_errors(task) for task in (
        fetch_task('malformed'), fetch_task('html'), info_task('malformed (info)'), info_task('html (info)'))],
        expect_failure=True)
    for task in ('malformed', 'malformed (info)'):
        assert 'malformed JSON' in run.failure_message(task)
    for task in ('html', 'html (info)'):
        assert 'HTML' in run.failure_message(task)
    assert tree(workspace) == before
    assert sandbox.module_requests('archive') == []


def test_release_without_sha256(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(24)
    assert 'archiveFileSha256' not in release
    path = dest / release['archiveFileName']
    run = run_playbook([
        fetch_task('auto', item=24),
        ignoring_errors(fetch_task('all', item=24, verify='all')),
        ignoring_errors(fetch_task('sha256', item=24, verify='sha256')),
        fetch_task('size', item=24, verify='size'),
    ], expect_failure=True)

    result = run.result('auto')
    assert result['changed'] is True
    assert result['verified'] == ['size', 'signature']
    assert result['signature']['fingerprint'] == sandbox.trud_fingerprint
    assert result['sha1'] == hash_file(path, 'sha1')
    assert path.stat().st_size == release['archiveFileSizeBytes']
    assert any('sha256' in warning for warning in run.warnings('auto')), run.warnings('auto')

    for task in ('all', 'sha256'):
        msg = run.failure_message(task)
        assert 'sha256' in msg and 'verify=%s' % task in msg, msg

    assert run.result('size')['changed'] is False  # the file verified by 'auto' is still vouched for
    assert any('size only' in warning for warning in run.warnings('size')), run.warnings('size')
    assert os.path.getsize(path) == release['archiveFileSizeBytes']
    assert len(sandbox.archive_gets()) == 1
