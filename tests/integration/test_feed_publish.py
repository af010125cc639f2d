# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""syndication_feed over releases fetched from the TRUD sandbox: fetch and publish in two tasks, a no-op rerun that
leaves the file untouched, check mode and diff, removal, and the refusals."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from urllib.parse import quote

from trud_itest import ignoring_errors, sha256_file

FEED = 'terminology.releases.syndication_feed'
BASE_URL = 'https://terminology.example.org/syndication/'
ATOM = '{http://www.w3.org/2005/Atom}'
NCTS = '{http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0}'
UK_CLINICAL = 'http://snomed.info/sct/999000021000000109'


def feed_task(dest, name='feed', **options):
    args = {'path': str(dest / 'feed'), 'base_url': BASE_URL, 'id': '6f1c1d3e-4b8a-4e0c-9d1e-6a0e3b1f2c4d',
            'title': 'Integration test releases'}
    args.update(options)
    return {'name': name, FEED: args}


def feed_entries(path):
    """{content item version: facts} of the feed file, read with the standard library (not the module's reader)."""
    root = ET.parse(path).getroot()
    found = {}
    for entry in root.findall(ATOM + 'entry'):
        links = entry.findall(ATOM + 'link')
        assert len(links) == 1 and len(entry.findall(ATOM + 'category')) == 1
        found[entry.findtext(NCTS + 'contentItemVersion')] = {
            'identifier': entry.findtext(NCTS + 'contentItemIdentifier'), 'title': entry.findtext(ATOM + 'title'),
            'updated': entry.findtext(ATOM + 'updated'), 'href': links[0].get('href'),
            'type': links[0].get('type'), 'length': int(links[0].get('length')),
            'sha256': links[0].get(NCTS + 'sha256Hash'), 'term': entry.find(ATOM + 'category').get('term')}
    return root, found


def stat_of(path):
    stat = os.stat(path)
    return stat.st_mtime_ns, stat.st_ino, stat.st_mode & 0o7777, path.read_bytes()


def test_fetch_then_publish_in_two_tasks_and_rerun_is_a_no_op(run_playbook, fetch_task, sandbox, dest):
    release = sandbox.release(101)
    tasks = [dict(fetch_task(), register='fetched'), feed_task(dest, releases=['{{ fetched }}'])]

    run = run_playbook(tasks)
    result = run.result('feed')
    version = release['releaseDate'].replace('-', '')
    assert result['changed'] is True
    assert result['added'] == [version] and result['removed'] == [] and result['updated'] == []
    assert result['url'] == BASE_URL + 'feed'
    feed = dest / 'feed'
    root, entries = feed_entries(feed)
    assert root.findtext(ATOM + 'updated') == release['releaseDate'] + 'T00:00:00Z'
    archive = dest / release['archiveFileName']
    assert entries == {version: {
        'identifier': 'urn:trud:item:101', 'title': 'TRUD item 101-%s' % release['name'],
        'updated': release['releaseDate'] + 'T00:00:00Z', 'href': BASE_URL + quote(release['archiveFileName']),
        'type': 'application/zip', 'length': archive.stat().st_size, 'sha256': sha256_file(archive),
        'term': 'SCT_RF2_ALL'}}
    assert release['archiveFileSha256'].lower() == entries[version]['sha256']
    assert result['entries'][0]['sha256'] == entries[version]['sha256']
    assert os.stat(feed).st_mode & 0o7777 == 0o644
    before = stat_of(feed)

    rerun = run_playbook(tasks)
    assert rerun.result('fetch')['changed'] is False
    assert rerun.result('feed')['changed'] is False
    assert rerun.result('feed')['added'] == [] and rerun.result('feed')['updated'] == []
    assert stat_of(feed) == before, 'the no-op run rewrote the feed'


def test_check_mode_diff_update_and_removal(run_playbook, fetch_task, sandbox, dest):
    newest, older = sandbox.release(101, 0), sandbox.release(101, 1)
    run_playbook([dict(fetch_task(), register='fetched'), dict(fetch_task('older', release_id=older['id']),
                                                               register='older'),
                  feed_task(dest, releases=['{{ fetched }}'])])
    feed = dest / 'feed'
    before = stat_of(feed)
    older_version = '%s/version/%s' % (UK_CLINICAL, older['releaseDate'].replace('-', ''))
    add_older = [dict(fetch_task('older', release_id=older['id']), register='older'),
                 feed_task(dest, entries=[{'release': '{{ older }}', 'identifier': UK_CLINICAL,
                                           'title': 'SNOMED CT UK Clinical Edition-{{ older.release.name }}'}])]

    # Check mode with diff: the change is predicted and shown, nothing is written.
    checked = run_playbook(add_older, check=True, diff=True)
    result = checked.result('feed')
    assert result['changed'] is True and result['added'] == [older_version]
    assert older_version not in result['diff']['before'] and older_version in result['diff']['after']
    assert 'SNOMED CT UK Clinical Edition-%s' % older['name'] in result['diff']['after']
    assert stat_of(feed) == before, 'check mode wrote the feed'

    # The same for real: the older release is added beside the newest, which is kept (not mentioned, not exclusive).
    real = run_playbook(add_older, diff=True)
    assert real.result('feed')['changed'] is True and real.result('feed')['added'] == [older_version]
    _root, entries = feed_entries(feed)
    assert sorted(entries) == sorted([newest['releaseDate'].replace('-', ''), older_version])
    assert entries[older_version]['identifier'] == UK_CLINICAL
    assert entries[older_version]['sha256'] == older['archiveFileSha256'].lower()
    assert run_playbook(add_older).result('feed')['changed'] is False

    # A changed title is an update of that entry only.
    retitled = run_playbook([add_older[0], feed_task(dest, entries=[
        {'release': '{{ older }}', 'identifier': UK_CLINICAL, 'title': 'UK Clinical-renamed'}])])
    assert retitled.result('feed')['updated'] == [older_version] and retitled.result('feed')['added'] == []

    # state: absent removes it (the archive stays); the other entry is untouched.
    removed = run_playbook([feed_task(dest, entries=[{'version_uri': older_version, 'state': 'absent'}])])
    assert removed.result('feed')['changed'] is True and removed.result('feed')['removed'] == [older_version]
    _root, entries = feed_entries(feed)
    assert list(entries) == [newest['releaseDate'].replace('-', '')]
    assert (dest / older['archiveFileName']).is_file()
    assert run_playbook([feed_task(dest, entries=[{'version_uri': older_version, 'state': 'absent'}])]).result(
        'feed')['changed'] is False

    # exclusive: only what this run lists stays.
    only = run_playbook([add_older[0], feed_task(dest, exclusive=True, entries=[
        {'release': '{{ older }}', 'identifier': UK_CLINICAL}])])
    assert only.result('feed')['added'] == [older_version]
    assert only.result('feed')['removed'] == [newest['releaseDate'].replace('-', '')]


def test_refusals(run_playbook, fetch_task, dest, workspace):
    elsewhere = workspace / 'elsewhere'
    elsewhere.mkdir()
    (elsewhere / 'outside.zip').write_bytes(b'PK\x05\x06' + b'\0' * 18)
    tasks = [
        ignoring_errors(feed_task(dest, 'outside', entries=[
            {'file': str(elsewhere / 'outside.zip'), 'identifier': 'urn:x', 'version': '1'}])),
        ignoring_errors(feed_task(dest, 'missing', entries=[
            {'file': 'missing.zip', 'identifier': 'urn:x', 'version': '1'}])),
        ignoring_errors(feed_task(dest, 'dotted', entries=[
            {'file': '../elsewhere/outside.zip', 'identifier': 'urn:x', 'version': '1'}])),
        ignoring_errors(feed_task(dest, 'not a release', releases=[{'changed': False, 'msg': 'hello'}])),
    ]
    run = run_playbook(tasks, expect_failure=True)
    assert "is not in the feed's directory" in run.failure_message('outside')
    assert 'does not exist; fetch it into' in run.failure_message('missing')
    assert 'not a plain file name' in run.failure_message('dotted')
    assert 'not a registered result of trud_release_fetch' in run.failure_message('not a release')
    assert not (dest / 'feed').exists()


def test_a_file_without_record_is_hashed(run_playbook, dest):
    data = os.urandom(70_001)
    (dest / 'local release.zip').write_bytes(data)
    run = run_playbook([feed_task(dest, entries=[
        {'file': str(dest / 'local release.zip'), 'identifier': UK_CLINICAL, 'version': '20240101',
         'dependencies': ['http://snomed.info/sct/900000000000207008/version/20231201']}])])
    entry = run.result('feed')['entries'][0]
    assert entry['file_url'] == BASE_URL + 'local%20release.zip'
    assert entry['sha256'] == sha256_file(dest / 'local release.zip') and entry['length'] == len(data)
    assert entry['version_uri'] == UK_CLINICAL + '/version/20240101'
    assert [dependency['version_uri'] for dependency in entry['dependencies']] == [
        'http://snomed.info/sct/900000000000207008/version/20231201']
