# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""syndication_fetch from a feed published with syndication_feed over TRUD releases: TRUD -> fetch -> publish ->
fetch from the published feed into another directory gives identical bytes; a rerun reads no file; check mode
writes nothing; a wrong hash in the feed fails with nothing placed; a dependency comes with its dependant."""

from __future__ import annotations

import pytest

from trud_itest import ignoring_errors, serve_directory, sha256_file, tree

FEED = 'terminology.releases.syndication_feed'
FETCH = 'terminology.releases.syndication_fetch'
EDITION = 'http://snomed.info/sct/999000021000000109'
EXTENSION = 'http://snomed.info/sct/83821000000107'


@pytest.fixture
def published(workspace):
    """(directory, base URL, served paths) of a static web server over workspace/published."""
    directory = workspace / 'published'
    directory.mkdir()
    with serve_directory(directory) as (base_url, served, _corrupt):
        yield directory, base_url, served


def publish(run_playbook, fetch_task, directory, base_url, sandbox):
    """Fetch two TRUD releases into the published directory and publish them: the older as an edition, the newer as
    an extension that depends on it."""
    old, new = sandbox.release(101, 1), sandbox.release(101, 0)
    edition_version = old['releaseDate'].replace('-', '')
    run = run_playbook([
        dict(fetch_task('edition', dest=str(directory), release_id=old['id']), register='edition'),
        dict(fetch_task('extension', dest=str(directory), release_id=new['id']), register='extension'),
        {'name': 'feed', FEED: {
            'path': str(directory / 'feed'), 'base_url': base_url, 'title': 'Published in the test',
            'id': '0c7d1c2a-1111-4e0c-9d1e-6a0e3b1f2c4d',
            'entries': [
                {'release': '{{ edition }}', 'identifier': EDITION, 'version': edition_version,
                 'title': 'UK edition-%s' % old['name']},
                {'release': '{{ extension }}', 'identifier': EXTENSION, 'version': new['releaseDate'].replace('-', ''),
                 'title': 'UK extension-%s' % new['name'],
                 'dependencies': ['%s/version/%s' % (EDITION, edition_version)]},
            ]}},
    ])
    assert run.result('feed')['changed'] is True
    return old, new


def fetch(dest, base_url, name='fetch', **options):
    args = {'url': base_url + 'feed', 'identifier': EXTENSION, 'dest': str(dest), 'timeout': 10, 'retries': 1}
    args.update(options)
    return {'name': name, FETCH: args}


def test_fetch_from_a_published_feed_gives_identical_bytes(run_playbook, fetch_task, sandbox, workspace, published):
    directory, base_url, served = published
    old, new = publish(run_playbook, fetch_task, directory, base_url, sandbox)
    host = workspace / 'host'
    host.mkdir()

    before = tree(host)
    check = run_playbook([dict(fetch(host, base_url, dependencies=True), check_mode=True, diff=True)])
    result = check.result()
    assert result['changed'] is True and result['downloaded'] is True
    assert [item['path'] for item in result['fetched']] == [str(host / old['archiveFileName']),
                                                            str(host / new['archiveFileName'])]
    assert tree(host) == before, 'check mode wrote something'
    assert [path for path in served if path.endswith('.zip')] == [], 'check mode requested a file'

    run = run_playbook([fetch(host, base_url, dependencies=True)])
    result = run.result()
    assert result['changed'] is True and result['verified'] == ['length', 'sha256']
    assert [item['identifier'] for item in result['fetched']] == [EDITION, EXTENSION], 'prerequisite first'
    for release in (old, new):
        assert (host / release['archiveFileName']).read_bytes() == (directory / release['archiveFileName']).read_bytes()
        assert sha256_file(host / release['archiveFileName']) == release['archiveFileSha256'].lower()
    assert result['sha256'] == new['archiveFileSha256'].lower()

    served.clear()
    again = run_playbook([fetch(host, base_url, dependencies=True),
                          dict(fetch(host, base_url, 'check', dependencies=True), check_mode=True)])
    for task in ('fetch', 'check'):
        assert again.result(task)['changed'] is False and again.result(task)['downloaded'] is False
    assert [path for path in served if not path.endswith('/feed')] == [], 'the rerun requested a file'


def test_a_wrong_hash_in_the_feed_places_nothing(run_playbook, fetch_task, sandbox, workspace, published):
    directory, base_url, _served = published
    _old, new = publish(run_playbook, fetch_task, directory, base_url, sandbox)
    feed = (directory / 'feed').read_text(encoding='utf-8')
    right = new['archiveFileSha256'].lower()
    assert right in feed
    (directory / 'feed').write_text(feed.replace(right, '0' * 64), encoding='utf-8')
    host = workspace / 'host'
    host.mkdir()
    run = run_playbook([ignoring_errors(fetch(host, base_url))], expect_failure=True)
    msg = run.failure_message()
    assert 'failed verification' in msg and 'SHA256' in msg, msg
    assert list(host.iterdir()) == [], 'a file that failed verification was placed'


def test_an_entry_without_a_hash_is_refused_unless_allowed(run_playbook, workspace, published):
    directory, base_url, _served = published
    (directory / 'notes.zip').write_bytes(b'PK\x05\x06' + b'\0' * 18)
    (directory / 'feed').write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:ncts="http://ns.electronichealth.net.au/ncts/syndication/asf/extensions/1.0.0">'
        '<id>urn:uuid:1b2c</id><title>t</title><updated>2026-01-01T00:00:00Z</updated>'
        '<entry><id>urn:uuid:e1</id><title>Notes-1</title><updated>2026-01-01T00:00:00Z</updated>'
        '<category term="SCT_RF2_ALL" scheme="http://ns.electronichealth.net.au/ncts/syndication/asf/scheme/1.0.0"/>'
        '<link rel="alternate" type="application/zip" href="notes.zip" length="22"/>'
        '<ncts:contentItemIdentifier>urn:notes</ncts:contentItemIdentifier>'
        '<ncts:contentItemVersion>1</ncts:contentItemVersion></entry></feed>', encoding='utf-8')
    host = workspace / 'host'
    host.mkdir()
    run = run_playbook([ignoring_errors(fetch(host, base_url, identifier='urn:notes'))], expect_failure=True)
    msg = run.failure_message()
    assert 'offers no SHA-256 and no MD5' in msg and 'allow_unverified' in msg, msg
    assert list(host.iterdir()) == []
    allowed = run_playbook([fetch(host, base_url, identifier='urn:notes', allow_unverified=True)])
    assert allowed.result()['verified'] == ['length']
    assert any('offers no hash' in warning for warning in allowed.warnings()), allowed.warnings()
    assert (host / 'notes.zip').read_bytes() == (directory / 'notes.zip').read_bytes()


def test_trud_signature_end_to_end_and_auto_on_a_host_without_gpg(run_playbook, fetch_task, sandbox, workspace,
                                                                  published):
    """A mirror keeps TRUD's signed checksum files beside the archive. signature: auto checks them where gpg is
    (signature in verified), and on a host without gpg (PATH without it) places the file verified by the feed's
    SHA-256 and length only, claiming no signature; signature: required there fails, saying gpg is missing, and
    places nothing."""
    directory, base_url, _served = published
    release = sandbox.release(101, 0)
    kept = run_playbook([
        dict(fetch_task('mirror', dest=str(directory), release_id=release['id'], keep_support_files=True),
             register='mirrored'),
        {'name': 'feed', FEED: {'path': str(directory / 'feed'), 'base_url': base_url, 'title': 'Mirror',
                                'entries': [{'release': '{{ mirrored }}', 'identifier': EXTENSION,
                                             'version': release['releaseDate'].replace('-', '')}]}},
    ])
    support = kept.result('mirror')['support_files']
    assert len(support) == 3, support
    files = dict(zip(['checksum', 'signature', 'public_key'], [base_url + path.rsplit('/', 1)[1] for path in support]))
    signed = {'signature_files': files, 'signature': 'auto', 'trusted_fingerprints': [sandbox.trud_fingerprint]}
    no_gpg = workspace / 'bin-without-gpg'
    no_gpg.mkdir()

    with_gpg = workspace / 'with-gpg'
    with_gpg.mkdir()
    result = run_playbook([fetch(with_gpg, base_url, **signed)]).result()
    assert result['verified'] == ['length', 'sha256', 'signature'], result
    assert result['signature']['fingerprint'] == sandbox.trud_fingerprint

    without = workspace / 'without-gpg'
    without.mkdir()
    task = dict(fetch(without, base_url, **signed), environment={'PATH': str(no_gpg)})
    result = run_playbook([task]).result()
    assert result['verified'] == ['length', 'sha256'] and result['signature'] is None, result
    assert sha256_file(without / release['archiveFileName']) == release['archiveFileSha256'].lower()

    refused = workspace / 'refused'
    refused.mkdir()
    task = dict(fetch(refused, base_url, **signed), environment={'PATH': str(no_gpg)})
    task[FETCH]['signature'] = 'required'
    run = run_playbook([ignoring_errors(task)], expect_failure=True)
    msg = run.failure_message()
    assert "'gpg' binary was not found" in msg and 'install GnuPG' in msg, msg
    assert list(refused.iterdir()) == [], 'a file whose signature could not be checked was placed'
