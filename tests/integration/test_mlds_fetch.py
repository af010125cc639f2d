# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""mlds_release_fetch as an affiliate: a verified, idempotent download through MLDS's proxy; check mode that
requests no download; an affiliate whose application is not approved (MLDS answers 500) gets a clear error."""

from __future__ import annotations

import hashlib

import pytest

from mlds_itest import mlds, package_seed, sandbox  # noqa: F401 pylint: disable=unused-import
from trud_itest import ignoring_errors, names, tree

ARCHIVE = 'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip'
SIZE = 1_310_731


@pytest.fixture
def published(sandbox):  # pylint: disable=redefined-outer-name
    """An SE package with an online version holding the archive (served from S3: chunked, no Content-Length)."""
    seeded = sandbox.mlds_seed({'packages': [package_seed('SNOMED CT Swedish Extension', versions=[{
        'name': '2026-03-01', 'releaseType': 'online',
        'files': [
            {'label': ARCHIVE, 'primaryFile': True,
             'storage': {'name': 'se/' + ARCHIVE, 'size': SIZE, 'seed': 4711, 'url_style': 's3'}},
            {'label': 'Release notes.pdf', 'primaryFile': False,
             'storage': {'name': 'se/notes.pdf', 'size': 3000, 'seed': 4712, 'url_style': 'http'}},
        ]}])]})
    package = seeded['packages'][0]
    version = package['releaseVersions'][0]
    archive = [item for item in version['releaseFiles'] if item['label'] == ARCHIVE][0]
    return package, version, archive


def test_affiliate_fetch_is_verified_and_idempotent(mlds, sandbox, published, workspace):  # pylint: disable=redefined-outer-name
    package, version, archive = published
    dest = workspace / 'dest'
    dest.mkdir()
    expected_md5 = sandbox.mlds_storage('se/' + ARCHIVE, SIZE, seed=4711)['md5']
    assert archive['md5Hash'] == expected_md5 and archive['fileSize'] == str(SIZE)

    def fetch(title, **options):
        return mlds.task('mlds_release_fetch', title, user='affiliate', package='SNOMED CT Swedish Extension',
                         member='SE', version='2026-03-01', dest=str(dest), **options)

    first = mlds.run([
        dict(fetch('check'), check_mode=True, diff=True),
        fetch('fetch'),
    ])
    check = first.result('check')
    assert check['changed'] is True and check['downloaded'] is True and check['bytes_transferred'] == 0
    assert check['diff']['before']['exists'] is False and check['diff']['after']['md5'] == expected_md5
    result = first.result('fetch')
    assert result['changed'] is True and result['downloaded'] is True
    assert result['verified'] == ['size', 'md5']
    assert result['md5'] == expected_md5 and result['size'] == SIZE and result['bytes_transferred'] == SIZE
    assert result['path'] == str(dest / ARCHIVE)
    assert result['file']['release_file_id'] == archive['releaseFileId']
    assert 'download_url' not in result['file'], 'an affiliate cannot see the storage address'
    assert result['package_id'] == package['releasePackageId']
    assert result['version_id'] == version['releaseVersionId']
    data = (dest / ARCHIVE).read_bytes()
    assert len(data) == SIZE and hashlib.md5(data).hexdigest() == expected_md5
    assert result['sha256'] == hashlib.sha256(data).hexdigest()
    assert names(dest) == sorted([ARCHIVE, '.%s.verified.json' % ARCHIVE])

    # Check mode requested no download: the one download in the log is the real run's, as the affiliate.
    downloads = sandbox.download_requests()
    assert [(entry['method'], entry['status'], entry['auth_user']) for entry in downloads] == [
        ('GET', 200, 'affiliate@example.org')], downloads
    assert downloads[0]['path'] == archive['clientDownloadUrl']
    assert sandbox.mlds_state()['download_counts'][str(archive['releaseFileId'])] == 1
    assert sandbox.writes() == []

    before = tree(dest)
    sandbox.clear_log()
    again = mlds.run([fetch('again', file_id=archive['releaseFileId']), dict(fetch('again (check)'), check_mode=True)])
    for task in ('again', 'again (check)'):
        assert again.result(task)['changed'] is False, again.describe()
        assert again.result(task)['downloaded'] is False
        assert again.result(task)['md5'] == expected_md5
    assert sandbox.download_requests() == [], 'the rerun downloaded again'
    assert sandbox.module_requests(), 'the rerun did not even read the package'
    assert tree(dest) == before
    assert sandbox.mlds_state()['download_counts'][str(archive['releaseFileId'])] == 1


def test_diff_shows_a_mode_change(mlds, sandbox, published, workspace):  # pylint: disable=redefined-outer-name
    """Like the TRUD fetch: a run that only changes the file's mode shows it in --diff (check mode and real)."""
    dest = workspace / 'dest'
    dest.mkdir()

    def fetch(title, mode, **task):
        return dict(mlds.task('mlds_release_fetch', title, user='affiliate', package='SNOMED CT Swedish Extension',
                              version='2026-03-01', dest=str(dest), mode=mode), diff=True, **task)

    run = mlds.run([fetch('0644', '0644'), fetch('0600 (check)', '0600', check_mode=True), fetch('0600', '0600')])
    for task in ('0600 (check)', '0600'):
        result = run.result(task)
        assert result['changed'] is True and result['downloaded'] is False, run.describe()
        assert result['diff']['before']['mode'] == '0644' and result['diff']['after']['mode'] == '0600', result['diff']
        assert result['diff']['before']['md5'] == result['diff']['after']['md5']
    assert oct((dest / ARCHIVE).stat().st_mode & 0o777) == oct(0o600)
    assert len(sandbox.download_requests()) == 1, 'changing the mode downloaded again'


def test_unapproved_affiliate_is_refused_clearly(mlds, sandbox, published, workspace):  # pylint: disable=redefined-outer-name
    _package, _version, archive = published
    dest = workspace / 'dest'
    dest.mkdir()
    run = mlds.run([
        dict(mlds.task('mlds_release_fetch', 'check', user='pending', package='SNOMED CT Swedish Extension',
                       version='2026-03-01', dest=str(dest)), check_mode=True),
        ignoring_errors(mlds.task('mlds_release_fetch', 'fetch', user='pending', package='SNOMED CT Swedish Extension',
                                  version='2026-03-01', dest=str(dest))),
    ], expect_failure=True)
    # Check mode cannot know (it never asks for the file): it reports the download it would try.
    assert run.result('check')['changed'] is True
    msg = run.failure_message('fetch')
    assert 'HTTP 500' in msg, msg
    assert 'MLDS reports permission failures as HTTP 500' in msg and 'not approved' in msg, msg
    assert 'It was not retried' in msg, msg
    assert list(dest.iterdir()) == [], 'a refused download left something in dest: %s' % names(dest)
    # One attempt (a 500 on a download is never retried), as the pending affiliate, refused by MLDS.
    downloads = sandbox.download_requests()
    assert [(entry['method'], entry['status'], entry['auth_user']) for entry in downloads] == [
        ('GET', 500, 'pending@example.org')], downloads
    assert 'checkCanDownloadReleaseVersion' in (downloads[0].get('mlds_reason') or '')
    state = sandbox.mlds_state()
    assert state['download_counts'][str(archive['releaseFileId'])] == 0
    assert not [item for item in state['downloads'] if item['status'] == 200]
    assert sandbox.writes() == []


def test_fetch_from_the_mlds_feed_as_an_affiliate(mlds, sandbox, workspace):  # pylint: disable=redefined-outer-name
    """syndication_fetch from MLDS's anonymous feed, downloading through MLDS's proxy with the affiliate's account:
    verified by the feed's length and MD5, a rerun requests no file, a wrong MD5 in the feed places nothing."""
    international = 'http://snomed.info/sct/900000000000207008'
    dest = workspace / 'dest'
    dest.mkdir()

    def fetch(title, **options):
        return mlds.task('syndication_fetch', title, user='affiliate', url=sandbox.mlds_feed_url,
                         identifier=international, dest=str(dest), **options)

    run = mlds.run([fetch('fetch')])
    result = run.result('fetch')
    assert result['changed'] is True and result['downloaded'] is True
    assert result['verified'] == ['length', 'md5'] and result['entry']['identifier'] == international
    data = open(result['path'], 'rb').read()
    assert len(data) == result['size'] == result['entry']['length']
    assert hashlib.md5(data).hexdigest() == result['md5'] == result['entry']['md5']
    assert result['path'].endswith('.zip') and '/download' not in result['path']
    downloads = sandbox.download_requests()
    assert [(entry['status'], entry['auth_user']) for entry in downloads] == [(200, 'affiliate@example.org')]

    before = tree(dest)
    sandbox.clear_log()
    again = mlds.run([fetch('again'), dict(fetch('again (check)'), check_mode=True)])
    for task in ('again', 'again (check)'):
        assert again.result(task)['changed'] is False and again.result(task)['downloaded'] is False
    assert sandbox.download_requests() == [], 'the rerun downloaded again'
    assert tree(dest) == before

    other = workspace / 'other'
    other.mkdir()
    sandbox.add_faults({'type': 'wrong_hash', 'kind': 'mlds_feed'})
    wrong = mlds.run([ignoring_errors(mlds.task('syndication_fetch', 'wrong md5', user='affiliate',
                                                url=sandbox.mlds_feed_url, identifier=international,
                                                dest=str(other)))], expect_failure=True)
    msg = wrong.failure_message('wrong md5')
    assert 'failed verification' in msg and 'MD5' in msg, msg
    assert list(other.iterdir()) == [], 'a file that failed verification was placed'
