# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""release_sync with source: feed, in real ansible-playbook runs against the sandbox's NCTS syndication feed, in host,
controller and mirror mode: the feed's release lands on the five hosts, verified by the feed's SHA-256, with a
provenance record of kind feed naming the feed; a rerun changes nothing; check mode writes nothing. Every run is
scanned for the feed credentials the role is given (the sandbox's feed needs none, so they only travel)."""

from __future__ import annotations

import json
import os
import uuid

import pytest

from test_role_drift import DriftRunner
from test_role_mirror import MirrorRunner
from test_role_release_sync import HOSTS, RoleRunner, snapshot
from test_role_sets import set_result
from trud_itest import serve_directory, sha256_file

UK_CLINICAL = 'http://snomed.info/sct/83821000000107'
UK_DRUG = 'http://snomed.info/sct/999000011000001104'
FEED_USER, FEED_PASSWORD = 'feed-reader', 'itest-feed-Pass/With=Odd 9f1&x'
SYNC_SKIPPED = 'Sync the releases not in place'


@pytest.fixture
def role(tmp_path, ansible_collections_path, sandbox):
    return RoleRunner(tmp_path, ansible_collections_path, sandbox)


def feed_vars(**extra):
    return dict({'release_sync_feed_username': FEED_USER, 'release_sync_feed_password': FEED_PASSWORD}, **extra)


def releases(sandbox, **options):
    return [dict({'name': 'uk_clinical', 'source': 'feed', 'feed': sandbox.feed_url, 'identifier': UK_CLINICAL},
                 **options)]


def entry_of(sandbox, version):
    """The sandbox feed's entry of the UK Clinical Edition with that YYYYMMDD version."""
    uri = '%s/version/%s' % (UK_CLINICAL, version)
    return [entry for entry in sandbox.feed_entries() if entry['version'] == uri][0]


def assert_on_hosts(role, sandbox, run, entry, changed):
    archive = entry['file_name']
    directory = archive[:-len('.zip')]
    for host in HOSTS:
        base = role.root(host) / 'uk_clinical'
        assert os.readlink(base / 'current') == directory
        assert sha256_file(base / directory / archive) == entry['file_sha256'] == entry['sha256']
        assert os.listdir(base / directory).count('.release_sync.' + entry['published']) == 1
        record = json.loads((base / directory / 'provenance.json').read_text())
        assert record['source'] == {'kind': 'feed', 'feed': sandbox.feed_url, 'identifier': UK_CLINICAL,
                                    'version': entry['version'],
                                    'entry_id': 'urn:uuid:%s' % uuid.uuid5(uuid.NAMESPACE_URL, entry['version'])}
        assert record['release_id'] == archive and record['release_date'] == entry['published']
        assert record['archive']['sha256'] == entry['file_sha256'] and record['archive']['size'] == entry['file_length']
        result = run.facts(host)['uk_clinical']
        assert result['source'] == 'feed' and result['changed'] is changed
        assert result['sha256'] == entry['file_sha256']


def test_host_mode_each_host_fetches_the_feed_release(role, sandbox):
    """Host mode: check mode on empty hosts writes nothing and downloads nothing; each host downloads the newest
    version from the feed; the rerun takes the no-op path and downloads nothing."""
    variables = feed_vars(release_sync_fetch_mode='host')
    newest = entry_of(sandbox, '20251001')

    check = role.run(releases(sandbox), variables, check=True, secrets=(FEED_PASSWORD,))
    assert snapshot(role.workspace) == {}, 'check mode created files'
    assert all(count > 0 for count in check.changed().values()), check.describe()
    assert sandbox.downloads('syndication_file') == []

    first = role.run(releases(sandbox), variables, secrets=(FEED_PASSWORD,))
    assert len(sandbox.downloads('syndication_file')) == len(HOSTS), 'host mode downloads once per host'
    assert_on_hosts(role, sandbox, first, newest, changed=True)
    for host in HOSTS:
        assert first.facts(host)['uk_clinical']['verified'] == ['length', 'sha256']

    sandbox.clear_log()
    before = snapshot(role.workspace)
    rerun = role.run(releases(sandbox), variables, secrets=(FEED_PASSWORD,))
    assert rerun.changed() == dict((host, 0) for host in HOSTS), rerun.describe()
    assert sorted(entry['host'] for entry in rerun.entries(SYNC_SKIPPED, 'skipped')) == HOSTS, rerun.describe()
    assert sandbox.downloads('syndication_file') == []
    assert snapshot(role.workspace) == before
    assert_on_hosts(role, sandbox, rerun, newest, changed=False)


def test_controller_mode_fetches_a_pinned_version_once(role, sandbox):
    """Controller mode with a pinned version (the older of two): check mode writes nothing; one download for five
    hosts; the rerun changes nothing; unpinned, current moves to the newest version."""
    pinned, newest = entry_of(sandbox, '20250903'), entry_of(sandbox, '20251001')
    variables = feed_vars()

    check = role.run(releases(sandbox, version='20250903'), variables, check=True, secrets=(FEED_PASSWORD,))
    assert snapshot(role.workspace) == {}, 'check mode created files'
    assert all(count > 0 for count in check.changed().values()), check.describe()
    assert sandbox.downloads('syndication_file') == []

    first = role.run(releases(sandbox, version='20250903'), variables, secrets=(FEED_PASSWORD,))
    assert len(sandbox.downloads('syndication_file')) == 1, 'controller mode downloads once'
    assert_on_hosts(role, sandbox, first, pinned, changed=True)

    sandbox.clear_log()
    before = snapshot(role.workspace)
    rerun = role.run(releases(sandbox, version='20250903'), variables, secrets=(FEED_PASSWORD,))
    assert rerun.changed() == dict((host, 0) for host in HOSTS), rerun.describe()
    assert rerun.entries('Fetch the feed release on the controller') == []
    assert sandbox.downloads('syndication_file') == [] and snapshot(role.workspace) == before

    moved = role.run(releases(sandbox), variables, secrets=(FEED_PASSWORD,))
    assert len(sandbox.downloads('syndication_file')) == 1
    assert_on_hosts(role, sandbox, moved, newest, changed=True)
    for host in HOSTS:
        assert moved.facts(host)['uk_clinical']['previous_release_id'] == pinned['file_name'][:-len('.zip')]


def test_mirror_mode_downloads_once_and_hosts_pull_from_the_mirror(tmp_path, ansible_collections_path, sandbox):
    """Mirror mode: the mirror downloads the feed's release once; the hosts pull it from the mirror's own feed; the
    rerun downloads nothing and asks the mirror for no archive."""
    runner = MirrorRunner(tmp_path, ansible_collections_path, sandbox)
    newest = entry_of(sandbox, '20251001')
    with serve_directory(runner.store) as (runner.url, served, _corrupt):
        first = runner.run(releases(sandbox), feed_vars(), secrets=(FEED_PASSWORD,))
        assert len(sandbox.downloads('syndication_file')) == 1, 'the mirror downloads once'
        stored = runner.store / 'uk_clinical' / newest['file_name'][:-len('.zip')] / newest['file_name']
        assert sha256_file(stored) == newest['file_sha256']
        assert len([path for path in served if path.endswith('/' + newest['file_name'])]) == len(HOSTS)
        assert_on_hosts(runner, sandbox, first, newest, changed=True)
        for host in HOSTS:
            record = json.loads((runner.root(host) / 'uk_clinical' / 'current' / 'provenance.json').read_text())
            assert record['mirror']['host'] == 'mirror' and record['mirror']['feed'] == runner.url + 'feed'
        for entry in first.entries('Fetch the release from the mirror'):
            arguments = entry['result']['invocation']['module_args']
            assert arguments.get('username') is None and arguments.get('password') is None, arguments

        sandbox.clear_log()
        served_before = len(served)
        rerun = runner.run(releases(sandbox), feed_vars(), secrets=(FEED_PASSWORD,))
        assert rerun.changed() == dict((host, 0) for host in HOSTS), rerun.describe()
        assert sandbox.downloads('syndication_file') == []
        assert [path for path in served[served_before:] if path.endswith('.zip')] == []


def test_a_feed_url_with_a_credential_is_refused_without_showing_it(role, sandbox):
    """A feed URL carrying a password or a token would be recorded in provenance.json: refused before anything runs,
    in a message that does not repeat it."""
    secret = 'itest-token-5e3d'
    url = sandbox.feed_url.replace('://', '://reader:%s@' % secret, 1)
    run = role.run(releases(sandbox, feed=url) + [{'name': 'other', 'source': 'feed', 'identifier': UK_CLINICAL,
                                                   'feed': sandbox.feed_url + '?access_token=' + secret}],
                   expect_failure=True, secrets=(secret,))
    message = run.failures()[0]['result']['msg']
    assert message.count('the feed URL carries a credential') == 2 and 'release_sync_feed_password' in message, message
    assert not (role.workspace / 'hosts').exists()


def test_a_version_the_feed_lacks_fails_naming_the_release_and_places_nothing(role, sandbox):
    run = role.run(releases(sandbox, version='20240101'), feed_vars(), expect_failure=True, secrets=(FEED_PASSWORD,))
    message = run.failures()[0]['result']['msg']
    assert 'Release uk_clinical (feed content item "%s", version "20240101")' % UK_CLINICAL in message, message
    assert '20251001' in message, 'the versions the feed has are listed: ' + message
    assert sandbox.downloads('syndication_file') == []
    assert not any((role.root(host) / 'uk_clinical' / 'current').exists() for host in HOSTS)


def test_report_mode_finds_the_hosts_behind_the_feed(tmp_path, ansible_collections_path, sandbox):
    """Report mode over a fleet synced to the older of two feed versions: every host is behind the feed's newest,
    named by its release directory, and nothing is written or downloaded; asked about the pinned version, the same
    fleet has no drift."""
    role = DriftRunner(tmp_path, ansible_collections_path, sandbox)
    pinned, newest = entry_of(sandbox, '20250903'), entry_of(sandbox, '20251001')
    role.run(releases(sandbox, version='20250903'), feed_vars(), secrets=(FEED_PASSWORD,))
    sandbox.clear_log()
    before = snapshot(role.workspace)

    run = role.run(releases(sandbox), feed_vars(release_sync_mode='report'), secrets=(FEED_PASSWORD,))
    assert snapshot(role.workspace) == before, 'report mode wrote something'
    assert sandbox.downloads('syndication_file') == []
    drift = role.report(run)
    newest_dir, pinned_dir = newest['file_name'][:-len('.zip')], pinned['file_name'][:-len('.zip')]
    assert drift['upstream'] == {'uk_clinical': {'release_id': newest['file_name'], 'release_date': newest['published'],
                                                 'dir': newest_dir}}, drift['upstream']
    assert drift['behind'] == [{'host': host, 'name': 'uk_clinical', 'current': pinned_dir, 'upstream': newest_dir}
                               for host in HOSTS]
    assert drift['tampered'] == [] and drift['problems'] == [] and drift['drifted'] is True

    quiet = role.run(releases(sandbox, version='20250903'), feed_vars(release_sync_mode='report'),
                     secrets=(FEED_PASSWORD,))
    assert role.report(quiet)['drifted'] is False, role.table(quiet)


def test_a_dependency_set_of_feed_releases_switches_together_or_stays(role, sandbox):
    """The feed's UK Drug Extension depends on the UK Clinical Edition of 20251001 (its first
    sct:editionDependency): with the newest clinical edition the set switches together; pinned to the older
    clinical edition, the dependency does not match, so neither member moves and the reason names both versions."""
    drug = {'name': 'uk_drug', 'source': 'feed', 'feed': sandbox.feed_url, 'identifier': UK_DRUG}
    sets = [{'name': 'uk', 'members': ['uk_clinical', 'uk_drug'], 'rule': 'dependency'}]
    newest, drug_entry = entry_of(sandbox, '20251001'), [
        entry for entry in sandbox.feed_entries() if entry['identifier'] == UK_DRUG][0]
    first = role.run(releases(sandbox) + [drug], feed_vars(release_sync_sets=sets), secrets=(FEED_PASSWORD,))
    for host in HOSTS:
        assert set_result(first, host)['uk']['switched'] is True, set_result(first, host)
        assert os.readlink(role.root(host) / 'uk_clinical' / 'current') == newest['file_name'][:-len('.zip')]
        assert os.readlink(role.root(host) / 'uk_drug' / 'current') == drug_entry['file_name'][:-len('.zip')]

    held = role.run(releases(sandbox, version='20250903') + [drug], feed_vars(release_sync_sets=sets),
                    expect_failure=True, secrets=(FEED_PASSWORD,))
    for host in HOSTS:
        result = set_result(held, host)['uk']
        assert result['switched'] is False
        assert result['reason'] == 'uk_drug depends on %s/version/20251001, which is not the version of an earlier ' \
            'member (%s/version/20250903)' % (UK_CLINICAL, UK_CLINICAL), result['reason']
        assert os.readlink(role.root(host) / 'uk_clinical' / 'current') == newest['file_name'][:-len('.zip')]
        assert os.readlink(role.root(host) / 'uk_drug' / 'current') == drug_entry['file_name'][:-len('.zip')]
