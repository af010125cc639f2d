# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bad input gets a clear error and loses nothing: keys, items, selections, destinations, hostile names, trust."""

from __future__ import annotations

import socket

import pytest

from trud_itest import DISABLED_KEY, OMIT, TRUD_REAL_FINGERPRINT, ignoring_errors, tree

INVALID_KEY = 'itest-invalid/Key+0=9 zz'
REDACTED = '********'


def closed_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return probe.getsockname()[1]


def test_key_item_and_release_errors(run_playbook, fetch_task, info_task, sandbox, workspace, dest):
    listing = sandbox.listing(101)
    nowhere = 'http://127.0.0.1:%d/trud/api/v1' % closed_port()
    before = tree(workspace)
    run = run_playbook([ignoring_errors(task) for task in (
        fetch_task('invalid key', api_key=INVALID_KEY),
        info_task('invalid key (info)', api_key=INVALID_KEY),
        fetch_task('disabled key', api_key=DISABLED_KEY),
        info_task('disabled key (info)', api_key=DISABLED_KEY),
        fetch_task('unknown item', item=4242),
        info_task('unknown item (info)', item=4242),
        fetch_task('item without releases', item=21),
        info_task('item without releases (info)', item=21),
        fetch_task('unknown release id', release_id='uk_sct2cl_99.0.0_20990101000001Z.zip'),
        info_task('unknown release date (info)', release_date='1999-01-01'),
        fetch_task('connection refused', base_url=nowhere, retries=0),
    )], expect_failure=True, secrets=[INVALID_KEY, DISABLED_KEY])
    assert len(run.results) == 11
    assert all(entry['status'] == 'failed' for entry in run.results), run.describe()

    for task in ('invalid key', 'invalid key (info)'):
        msg = run.failure_message(task)
        assert 'HTTP 400' in msg and 'api_key' in msg, msg

    for task in ('disabled key', 'disabled key (info)'):
        msg = run.failure_message(task)
        assert 'HTTP 401' in msg and 'disabled' in msg, msg

    for task, item in (('unknown item', 4242), ('unknown item (info)', 4242), ('item without releases', 21),
                       ('item without releases (info)', 21)):
        msg = run.failure_message(task)
        assert 'HTTP 404' in msg and 'item %s' % item in msg and 'subscribed' in msg, msg
        # TRUD's own 404 message names the key: it must be there, redacted.
        assert 'No releases found for API key %s, item %s' % (REDACTED, item) in msg, msg

    msg = run.failure_message('unknown release id')
    assert 'uk_sct2cl_99.0.0_20990101000001Z.zip' in msg, msg
    for release in listing:
        assert release['id'] in msg, 'the error should list the newest releases: ' + msg
    msg = run.failure_message('unknown release date (info)')
    assert '1999-01-01' in msg and listing[0]['id'] in msg, msg

    # The connection error of the HTTP library embeds the URL: it must be there, with the key redacted.
    msg = run.failure_message('connection refused')
    assert nowhere in msg and '/keys/%s/items/101/' % REDACTED in msg, msg

    # One listing request per task that reached the sandbox: 400, 401 and 404 are never retried.
    assert len(sandbox.module_requests('listing')) == 10
    assert tree(workspace) == before
    assert sandbox.module_requests('archive') == []


def test_dest_must_be_an_existing_directory(run_playbook, fetch_task, sandbox, workspace):
    a_file = workspace / 'a-file'
    a_file.write_bytes(b'not a directory\n')
    before = tree(workspace)
    run = run_playbook([
        ignoring_errors(fetch_task('dest is a file', dest=str(a_file))),
        ignoring_errors(fetch_task('dest is missing', dest=str(workspace / 'missing'))),
    ], expect_failure=True)
    for task, path in (('dest is a file', a_file), ('dest is missing', workspace / 'missing')):
        msg = run.failure_message(task)
        assert str(path) in msg and 'not an existing directory' in msg, msg
    assert tree(workspace) == before
    assert sandbox.module_requests('archive') == []


def test_hostile_file_name_is_refused(run_playbook, fetch_task, sandbox, workspace):
    release = sandbox.release(666)
    assert release['archiveFileName'] == '../../evil.zip'
    # dest/../../evil.zip would be workspace/outer/evil.zip: watch the whole workspace, parents included.
    dest = workspace / 'outer' / 'inner' / 'dest'
    dest.mkdir(parents=True)
    before = tree(workspace)
    run = run_playbook([
        ignoring_errors(fetch_task('hostile', item=666, dest=str(dest))),
        ignoring_errors(fetch_task('hostile (check mode)', item=666, dest=str(dest)) | {'check_mode': True}),
        ignoring_errors(fetch_task('hostile (size only)', item=666, dest=str(dest), verify='size')),
    ], expect_failure=True)
    for task in ('hostile', 'hostile (check mode)', 'hostile (size only)'):
        msg = run.failure_message(task)
        assert 'Refusing' in msg and '../../evil.zip' in msg, msg
    assert tree(workspace) == before
    assert not (workspace / 'outer' / 'evil.zip').exists()
    assert sandbox.module_requests('archive') == []


def test_default_allow_list_rejects_the_sandbox_signature(run_playbook, fetch_task, sandbox, workspace, dest):
    before = tree(workspace)
    run = run_playbook([fetch_task(trusted_fingerprints=OMIT)], expect_failure=True)
    msg = run.failure_message()
    assert sandbox.trud_fingerprint in msg, 'the error should name the fingerprint found: ' + msg
    assert TRUD_REAL_FINGERPRINT in msg and 'trusted_fingerprints' in msg, msg
    assert tree(workspace) == before
    assert sandbox.module_requests('archive') == [], 'the archive was requested although the signature is untrusted'


def test_secret_scan_catches_a_leak(run_playbook, workspace):
    """The harness itself: a playbook that leaks the key must fail the secret scan, whatever the form."""
    leak = workspace / 'leak.txt'
    with pytest.raises(AssertionError, match='secret leaked') as caught:
        run_playbook([
            {'name': 'print it URL-encoded', 'ansible.builtin.debug': {'msg': "{{ trud_api_key | urlencode }}"}},
            {'name': 'write it in base64', 'ansible.builtin.copy': {
                'content': "{{ trud_api_key | b64encode }}", 'dest': str(leak), 'mode': '0600'}},
        ])
    report = str(caught.value)
    assert 'stdout contains ' in report, report
    assert '%s contains' % leak in report, report
