# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""trud_release_info against the sandbox: listing, ?latest, selection, ambiguity, no URL or key in results."""

from __future__ import annotations

import json
import re

from trud_itest import API_KEY


def snake(name):
    return re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', name).lower()


def expected(release):
    """What the module should return for a listed release: every field but the URLs, in snake_case."""
    return dict((snake(key), value) for key, value in release.items() if not key.endswith('Url'))


def assert_no_url(releases):
    for release in releases:
        assert not [key for key in release if key.endswith('_url') or key.endswith('Url')], release
        text = json.dumps(release)
        assert '://' not in text and '/keys/' not in text, release
        assert API_KEY not in text


def test_info_lists_and_selects(run_playbook, info_task, sandbox):
    listing = sandbox.listing(101)
    assert len(listing) == 3
    ods = sandbox.listing(341)
    run = run_playbook([
        info_task('all'),
        info_task('latest', latest=True),
        info_task('latest in check mode', latest=True) | {'check_mode': True},
        info_task('by id', release_id=listing[1]['id']),
        info_task('by name', release_name=listing[2]['name']),
        info_task('by date', release_date=listing[0]['releaseDate']),
        info_task('old id by file name', item=341, release_id=ods[1]['archiveFileName']),
    ])

    everything = run.result('all')
    assert everything['changed'] is False
    assert everything['item'] == 101
    assert everything['releases'] == [expected(release) for release in listing]
    dates = [release['release_date'] for release in everything['releases']]
    assert dates == sorted(dates, reverse=True), 'not newest first'

    for task in ('latest', 'latest in check mode'):
        assert run.result(task)['changed'] is False
        assert run.result(task)['releases'] == [expected(listing[0])]
    assert run.result('by id')['releases'] == [expected(listing[1])]
    assert run.result('by name')['releases'] == [expected(listing[2])]
    assert run.result('by date')['releases'] == [expected(listing[0])]
    old = run.result('old id by file name')['releases']
    assert [release['id'] for release in old] == ['ODS_1.0.0_20200131000001']
    assert old == [expected(ods[1])]

    for entry in run.results:
        assert_no_url(entry['result']['releases'])

    # One listing request per task, and only the two `latest` tasks used TRUD's ?latest form.
    listings = sandbox.module_requests('listing')
    assert len(listings) == 7
    assert [entry['path'].endswith('/releases?latest') for entry in listings] == [
        False, True, True, False, False, False, False]
    assert sandbox.module_requests('archive') == []


def test_info_release_without_sha256(run_playbook, info_task, sandbox):
    release = sandbox.release(24)
    assert 'archiveFileSha256' not in release
    result = run_playbook([info_task(item=24)]).result('info')
    assert result['releases'][0]['archive_file_sha256'] is None
    assert result['releases'][0]['id'] == release['id']


def test_info_ambiguous_name_lists_the_ids(run_playbook, info_task, sandbox):
    ods = sandbox.listing(341)
    assert ods[0]['name'] == ods[1]['name'] == 'Release 1.0.0'
    run = run_playbook([info_task(item=341, release_name='Release 1.0.0')], expect_failure=True)
    msg = run.failure_message()
    assert ods[0]['id'] in msg and ods[1]['id'] in msg, msg
    assert 'release_id' in msg, msg
