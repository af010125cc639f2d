# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""trud_release_fetch against the sandbox: first fetch and no-op, HTTPS, check and diff mode, re-issued releases."""

from __future__ import annotations

import datetime
import os

from trud_itest import hash_file, names, sha256_file, tree

SYSTEM_CA_BUNDLES = ('/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem')


def system_ca_bundle():
    for path in SYSTEM_CA_BUNDLES:
        if os.path.isfile(path):
            return path
    import certifi  # pylint: disable=import-outside-toplevel
    return certifi.where()


def assert_fetched(result, release, dest, sandbox):
    """The archive is at dest, exactly as the listing describes it, and the result says so."""
    path = dest / release['archiveFileName']
    assert result['path'] == str(path)
    assert path.is_file()
    assert path.stat().st_size == release['archiveFileSizeBytes']
    assert sha256_file(path) == release['archiveFileSha256'].lower()
    assert result['size'] == release['archiveFileSizeBytes']
    assert result['sha256'] == release['archiveFileSha256'].lower()
    assert result['sha1'] == hash_file(path, 'sha1')
    assert result['verified'] == ['size', 'sha256', 'signature']
    assert result['signature']['fingerprint'] == sandbox.trud_fingerprint
    assert result['signature']['primary_fingerprint'] == sandbox.trud_fingerprint
    assert result['release']['id'] == release['id']
    return path


def test_fetch_over_http_then_no_op(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)

    first = run_playbook([fetch_task()]).result()
    assert first['changed'] is True
    assert first['downloaded'] is True
    assert first['bytes_transferred'] == release['archiveFileSizeBytes']
    assert first['bytes_resumed'] == 0
    path = assert_fetched(first, release, dest, sandbox)
    # Only the archive and its verification record are left: no partial, no lock file.
    assert names(dest) == sorted([release['archiveFileName'], '.%s.verified.json' % release['archiveFileName']])
    assert len(sandbox.archive_gets()) == 1
    assert {entry['scheme'] for entry in sandbox.module_requests()} == {'http'}
    before = tree(dest)

    sandbox.clear_log()
    second = run_playbook([fetch_task()]).result()
    assert second['changed'] is False
    assert second['downloaded'] is False
    assert second['bytes_transferred'] == 0
    assert second['path'] == str(path)
    assert second['sha256'] == release['archiveFileSha256'].lower()
    assert second['verified'] == ['size', 'sha256', 'signature']
    assert sandbox.module_requests('archive') == [], 'the no-op run requested the archive'
    assert sandbox.module_requests('listing'), 'the second run did not even ask for the listing'
    assert tree(dest) == before, 'the no-op run wrote something'


def test_fetch_over_https_with_ca_path(run_playbook, fetch_task, info_task, sandbox, dest):
    release = sandbox.release(101)
    https = {'base_url': sandbox.trud_https_base_url, 'ca_path': sandbox.ca_path}
    no_ca_bundle = {'REQUESTS_CA_BUNDLE': None, 'CURL_CA_BUNDLE': None}

    run = run_playbook([info_task(latest=True, **https), fetch_task(**https)], env=no_ca_bundle)
    assert run.result('info')['releases'][0]['id'] == release['id']
    assert run.result()['changed'] is True
    assert_fetched(run.result(), release, dest, sandbox)
    assert sandbox.module_requests() and {entry['scheme'] for entry in sandbox.module_requests()} == {'https'}
    assert run.warnings() == []

    # Second run, like over HTTP: nothing to do. Then a forced download, so that the archive request too goes
    # through TLS. REQUESTS_CA_BUNDLE points at the system store, which must not override ca_path (requests
    # lets it replace a session-level verify setting, which once silently dropped the user's CA).
    sandbox.clear_log()
    bundle = system_ca_bundle()
    run = run_playbook([fetch_task('again', **https), fetch_task('forced', force=True, **https)],
                       env={'REQUESTS_CA_BUNDLE': bundle, 'CURL_CA_BUNDLE': bundle})
    assert run.result('again')['changed'] is False
    assert run.result('forced')['changed'] is True
    assert_fetched(run.result('forced'), release, dest, sandbox)
    assert len(sandbox.archive_gets()) == 1
    assert {entry['scheme'] for entry in sandbox.module_requests()} == {'https'}


def test_https_without_ca_path_fails_clearly(run_playbook, fetch_task, workspace, sandbox, dest):
    before = tree(workspace)
    run = run_playbook([fetch_task(base_url=sandbox.trud_https_base_url, retries=0)],
                       env={'REQUESTS_CA_BUNDLE': None, 'CURL_CA_BUNDLE': None}, expect_failure=True)
    msg = run.failure_message()
    assert 'TLS' in msg and 'ca_path' in msg, msg
    assert tree(workspace) == before
    assert sandbox.module_requests() == [], 'a request got through without a trusted certificate'


def test_https_without_certificate_validation_warns(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    run = run_playbook([fetch_task(base_url=sandbox.trud_https_base_url, validate_certs=False)],
                       env={'REQUESTS_CA_BUNDLE': None, 'CURL_CA_BUNDLE': None})
    assert_fetched(run.result(), release, dest, sandbox)
    assert any('validate_certs is false' in warning for warning in run.warnings()), run.warnings()
    assert '[WARNING]: validate_certs is false' in run.output
    assert 'InsecureRequestWarning' not in run.output


def test_check_mode_reads_only(run_playbook, fetch_task, sandbox, workspace, dest):
    release = sandbox.release(101)
    before = tree(workspace)

    result = run_playbook([fetch_task()], check=True).result()
    assert result['changed'] is True
    assert result['downloaded'] is True
    assert result['bytes_transferred'] == 0
    assert result['sha256'] == release['archiveFileSha256'].lower()
    assert result['verified'] == ['size', 'sha256', 'signature']
    assert tree(workspace) == before, 'check mode wrote something'
    assert sandbox.module_requests('archive') == [], 'check mode requested the archive'
    assert sandbox.module_requests('signature'), 'check mode should still check the signature'

    assert run_playbook([fetch_task()]).result()['changed'] is True
    fetched = tree(workspace)
    sandbox.clear_log()
    result = run_playbook([fetch_task()], check=True).result()
    assert result['changed'] is False
    assert result['downloaded'] is False
    assert tree(workspace) == fetched
    assert sandbox.module_requests('archive') == []


def test_diff_mode(run_playbook, fetch_task, sandbox, workspace, dest):
    release = sandbox.release(101)
    path = str(dest / release['archiveFileName'])
    after = {'path': path, 'exists': True, 'size': release['archiveFileSizeBytes'],
             'sha256': release['archiveFileSha256'].lower(), 'release_id': release['id']}
    absent = {'path': path, 'exists': False, 'size': None, 'sha256': None, 'release_id': None}

    # check + diff: the diff a real run would make, and nothing written.
    before = tree(workspace)
    run = run_playbook([fetch_task()], check=True, diff=True)
    assert run.result()['diff']['before'] == absent
    assert run.result()['diff']['after'] == after
    assert tree(workspace) == before
    assert sandbox.module_requests('archive') == []

    # diff: the same diff, shown by the default callback.
    run = run_playbook([fetch_task()], diff=True)
    assert run.result()['changed'] is True
    assert run.result()['diff']['before'] == absent
    assert run.result()['diff']['after'] == after
    assert '--- before: %s' % path in run.stdout
    assert '+++ after: %s' % path in run.stdout
    assert '-    "exists": false,' in run.stdout
    assert '+    "exists": true,' in run.stdout
    assert '+    "sha256": "%s"' % after['sha256'] in run.stdout

    # check + diff after the fetch: nothing to change, before == after.
    run = run_playbook([fetch_task()], check=True, diff=True)
    assert run.result()['changed'] is False
    assert run.result()['diff']['before'] == after
    assert run.result()['diff']['after'] == after


def test_reissued_release_is_fetched_beside_the_old_one(run_playbook, fetch_task, sandbox, dest):
    old = sandbox.release(101)
    run_playbook([fetch_task()])
    old_path = dest / old['archiveFileName']
    old_state = tree(dest)[old['archiveFileName']]

    today = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')
    sandbox.add_release(101, version='40.5.0', release_date=today, size=1_234_567)
    new = sandbox.release(101)
    assert new['id'] != old['id']
    sandbox.clear_log()

    result = run_playbook([fetch_task()]).result()
    assert result['changed'] is True
    assert result['downloaded'] is True
    assert_fetched(result, new, dest, sandbox)
    assert [entry['path'].rsplit('/', 1)[-1] for entry in sandbox.archive_gets()] == [new['archiveFileName']]
    assert tree(dest)[old['archiveFileName']] == old_state, 'the old release file was touched'
    assert old_path.is_file()
