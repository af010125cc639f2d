# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who may do what on MLDS, and how refusals read: another member's staff (MLDS answers 500), a wrong password
(401), deleting what is online, what each kind of account sees, and the secret scan itself."""

from __future__ import annotations

import base64

import pytest

from mlds_itest import mlds, package_seed, sandbox  # noqa: F401 pylint: disable=unused-import
from trud_itest import ignoring_errors, secret_forms


def se_package(sandbox, name, versions):  # pylint: disable=redefined-outer-name
    return sandbox.mlds_seed({'packages': [package_seed(name, versions=versions, description='<p>Original</p>')]})[
        'packages'][0]


def test_staff_of_another_member_gets_a_clear_error(mlds, sandbox):  # pylint: disable=redefined-outer-name
    package = se_package(sandbox, 'Owned by SE', [
        {'name': 'v1', 'releaseType': 'offline', 'summary': 'Original summary',
         'files': [{'label': 'owned.zip', 'storage': {'name': 'se/owned.zip', 'size': 4096, 'seed': 5}}]}])
    package_id = package['releasePackageId']
    before = sandbox.state_package(package_id)

    def as_dk(module, title, **options):
        return ignoring_errors(mlds.task(module, title, user='staff_dk', **options))

    run = mlds.run([
        as_dk('mlds_release_package', 'package', id=package_id, description='<p>Taken over by DK</p>'),
        as_dk('mlds_release_version', 'version', package=str(package_id), name='v1', summary='DK summary'),
        as_dk('mlds_release_file', 'file', package=str(package_id), version='v1', label='owned.zip',
              md5_hash='0' * 32),
        as_dk('mlds_release_version', 'new version', package=str(package_id), name='v2'),
        as_dk('mlds_release_package', 'delete', id=package_id, state='absent'),
    ], expect_failure=True)
    assert len(run.results) == 5 and all(entry['status'] == 'failed' for entry in run.results), run.describe()
    for task in ('package', 'version', 'file', 'new version', 'delete'):
        msg = run.failure_message(task)
        assert 'HTTP 500' in msg, msg
        assert 'MLDS reports permission failures as HTTP 500' in msg, msg
        assert "staff of this package's member" in msg, msg
        assert 'Traceback' not in msg

    # Every refused write was tried once (a 500 on a write is never retried) and changed nothing.
    writes = sandbox.writes()
    assert [status for _method, _path, status in writes] == [500] * 5, writes
    assert [method for method, _path, _status in writes] == ['PUT', 'PUT', 'PUT', 'POST', 'DELETE'], writes
    assert {entry['auth_user'] for entry in sandbox.module_requests()} == {'staff-dk'}
    assert sandbox.state_package(package_id) == before


def test_wrong_password_is_a_clear_401(mlds, sandbox, workspace):  # pylint: disable=redefined-outer-name
    dest = workspace / 'dest'
    dest.mkdir()
    wrong = {'password': '{{ mlds_wrong_password }}'}
    run = mlds.run([ignoring_errors(task) for task in (
        mlds.task('mlds_release_info', 'info', **wrong),
        mlds.task('mlds_release_package', 'package', name='Never created', member='SE', **wrong),
        mlds.task('mlds_release_fetch', 'fetch', user='affiliate', package='1001', version='1002', dest=str(dest),
                  **wrong),
    )], expect_failure=True)
    assert all(entry['status'] == 'failed' for entry in run.results) and len(run.results) == 3, run.describe()
    for task in ('info', 'package', 'fetch'):
        msg = run.failure_message(task)
        assert 'HTTP 401' in msg and 'refused the credentials' in msg and 'check username and password' in msg, msg
    entries = sandbox.module_requests()
    # One request per task: a 401 is never retried, and nothing is tried after it.
    assert [(entry['status'], entry['auth_failed']) for entry in entries] == [
        (401, 'staff-se'), (401, 'staff-se'), (401, 'affiliate@example.org')], entries
    assert sandbox.writes() == []
    assert list(dest.iterdir()) == []
    assert [package['name'] for package in sandbox.mlds_state()['packages']] == ['SNOMED CT International Edition']


def test_deleting_what_is_online(mlds, sandbox):  # pylint: disable=redefined-outer-name
    package = se_package(sandbox, 'Published', [
        {'name': 'v1', 'releaseType': 'online'},
        {'name': 'v2', 'releaseType': 'offline'},
        {'name': 'v3', 'releaseType': 'ONLINE'},  # MLDS compares releaseType case-insensitively
    ])
    package_id = package['releasePackageId']
    versions = dict((version['name'], version['releaseVersionId']) for version in package['releaseVersions'])
    run = mlds.run([
        ignoring_errors(mlds.task('mlds_release_package', 'absent', id=package_id, state='absent')),
        ignoring_errors(mlds.task('mlds_release_version', 'version absent', package=str(package_id), name='v1',
                                  state='absent')),
    ], expect_failure=True)
    msg = run.failure_message('absent')
    assert 'has online versions' in msg and 'take_offline: true' in msg, msg
    assert "version %d ('v1')" % versions['v1'] in msg and "version %d ('v3')" % versions['v3'] in msg, msg
    assert "'v2'" not in msg, msg
    msg = run.failure_message('version absent')
    assert "Version %d ('v1') is online" % versions['v1'] in msg and 'take_offline: true' in msg, msg
    assert sandbox.writes() == [], 'a refused delete wrote something'

    run = mlds.run([
        dict(mlds.task('mlds_release_package', 'absent (check)', id=package_id, state='absent', take_offline=True),
             check_mode=True),
        mlds.task('mlds_release_package', 'absent', id=package_id, state='absent', take_offline=True),
        mlds.task('mlds_release_package', 'absent again', id=package_id, state='absent', take_offline=True),
    ])
    assert run.result('absent (check)')['changed'] is True
    assert run.result('absent')['changed'] is True and run.result('absent')['package'] is None
    assert run.result('absent again')['changed'] is False
    assert run.result('absent')['actions'] == ['take version %d offline' % versions['v1'],
                                               'take version %d offline' % versions['v3'],
                                               'delete package %d' % package_id]
    base = '/api/releasePackages/%d' % package_id
    assert sandbox.writes() == [('PUT', '%s/releaseVersions/%d' % (base, versions['v1']), 200),
                                ('PUT', '%s/releaseVersions/%d' % (base, versions['v3']), 200),
                                ('DELETE', base, 200)]
    held = sandbox.state_package(package_id)
    assert held['deleted'] is True
    assert dict((version['name'], version['releaseType']) for version in held['releaseVersions']) == {
        'v1': 'offline', 'v2': 'offline', 'v3': 'offline'}
    assert sandbox.api_get('/releasePackages/%d' % package_id, role='staff_se')[0] == 404


def test_what_each_account_sees(mlds, sandbox):  # pylint: disable=redefined-outer-name
    se_package(sandbox, 'SE published', [
        {'name': 'se-online', 'releaseType': 'online',
         'files': [{'label': 'se.zip', 'storage': {'name': 'se/visible.zip', 'size': 2048, 'seed': 3,
                                                   'url_style': 's3'}}]},
        {'name': 'se-offline', 'releaseType': 'offline'}])
    se_package(sandbox, 'SE staging only', [{'name': 'staging', 'releaseType': 'offline'}])

    run = mlds.run([
        mlds.task('mlds_release_info', 'anonymous', user=None),
        mlds.task('mlds_release_info', 'affiliate', user='affiliate'),
        mlds.task('mlds_release_info', 'staff', user='staff_se'),
        mlds.task('mlds_release_info', 'staff of another member', user='staff_dk'),
        mlds.task('mlds_release_info', 'member', user='member'),
    ])
    admin_view = dict((package['name'], package) for package in sandbox.mlds_state()['packages'])
    raw_urls = {}
    for package in admin_view.values():
        for version in package['releaseVersions']:
            for item in version['releaseFiles']:
                raw_urls[item['releaseFileId']] = item['downloadUrl']
    assert len(raw_urls) == 4

    def view(task):
        result = run.result(task)
        assert result['changed'] is False
        ids = [package['release_package_id'] for package in result['packages']]
        assert ids == sorted(ids)
        return dict((package['name'], [version['name'] for version in package['release_versions']])
                    for package in result['packages'])

    def files(task):
        return [item for package in run.result(task)['packages'] for version in package['release_versions']
                for item in version['release_files']]

    public = {'SNOMED CT International Edition': ['International Edition 2025-01-01'],
              'SE published': ['se-online']}
    assert view('anonymous') == public
    assert view('affiliate') == {'SNOMED CT International Edition': ['International Edition 2025-01-01',
                                                                     'International Edition 2025-02-01 (beta)'],
                                 'SE published': ['se-online']}
    everything = {'SNOMED CT International Edition': ['International Edition 2025-01-01',
                                                      'International Edition 2025-02-01 (beta)',
                                                      'International Edition 2025-03-01'],
                  'SE published': ['se-online', 'se-offline'], 'SE staging only': ['staging']}
    for task in ('staff', 'staff of another member', 'member'):
        assert view(task) == everything, task

    for task in ('anonymous', 'affiliate', 'member'):
        assert files(task), task
        for item in files(task):
            assert 'download_url' not in item, '%s sees the storage address: %s' % (task, item)
            assert item['client_download_url'].endswith('/releaseFiles/%d/download' % item['release_file_id'])
    for task in ('staff', 'staff of another member'):
        found = files(task)
        assert len(found) == 4, task
        for item in found:
            assert item['download_url'] == raw_urls[item['release_file_id']], (task, item)
    assert sandbox.writes() == []


def test_the_secret_scan_finds_each_form(mlds, sandbox):  # pylint: disable=redefined-outer-name
    """The scan every run goes through must catch a password in any form, in any place it looks."""
    username, password = sandbox.users['staff_se']
    basic = base64.b64encode(('%s:%s' % (username, password)).encode()).decode()
    leak = mlds.workspace / 'leak'
    leak.mkdir()
    tasks = [
        {'name': 'raw', 'ansible.builtin.debug': {'msg': 'pw={{ mlds_users.staff_se.password }}'}},
        {'name': 'url-encoded', 'ansible.builtin.debug': {'msg': '{{ mlds_users.affiliate.password | urlencode }}'}},
        {'name': 'basic header', 'ansible.builtin.copy': {
            'dest': str(leak / 'headers.txt'), 'mode': '0600',
            'content': "Authorization: Basic {{ (mlds_users.staff_se.username ~ ':' ~ mlds_users.staff_se.password)"
                       " | b64encode }}\n"}},
    ]
    with pytest.raises(AssertionError) as caught:
        mlds.run(tasks)
    report = str(caught.value).split('\n--- results ---', maxsplit=1)[0]
    assert report.startswith('secret leaked:'), report
    assert "stdout contains %r" % password in report, report
    assert 'contains %r' % basic in report and 'headers.txt' in report, report
    affiliate = sandbox.users['affiliate'][1]
    url_forms = [form for form in secret_forms(affiliate) if '%C3%B8' in form.upper()]
    assert any('stdout contains %r' % form in report for form in url_forms), report


def test_an_mlds_url_ending_in_api_is_refused_clearly(mlds, sandbox):  # pylint: disable=redefined-outer-name
    run = mlds.run([ignoring_errors(mlds.task('mlds_release_info', 'info', url=sandbox.mlds_url.rstrip('/') + '/api'))],
                   expect_failure=True)
    msg = run.failure_message('info')
    assert 'ends in /api' in msg and 'site root' in msg, msg
    assert sandbox.module_requests() == [], 'a request went out with the wrong url'
