# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""release_sync in mirror mode, in real ansible-playbook runs: an inventory host "mirror" (local connection) keeps the
store, which a static web server started by the test serves to the five hosts; TRUD is the sandbox.

Three runs started together with disjoint --limit (as AWX job slices run) and a run with serial: 2 cause exactly one
upstream archive download; every host gets identical bytes, checked against TRUD's signature end to end; a rerun
changes nothing and asks the mirror for no archive; check mode changes nothing; a mirror serving a corrupted file or
a mirror that is down fails clearly with nothing placed and current kept. Every run is at -vvvv and scanned for the
key, which the hosts never get.
"""

from __future__ import annotations

import json
import socket
import sys
import time

import pytest

from test_role_drift import DriftRunner
from test_role_release_sync import HOSTS, MLDS_ARCHIVE, RoleRunner, dir_name, seed_mlds_extension, snapshot
from test_role_sets import UK_RELEASES, UK_SET, set_result
from trud_itest import serve_directory, sha256_file

ITEM = 101
PULL = 'Fetch the release from the mirror'


class MirrorRunner(RoleRunner):
    """The fleet, plus the inventory host "mirror" whose store the test serves over HTTP."""

    def __init__(self, tmp_path, collections, sandbox):
        super().__init__(tmp_path, collections, sandbox)
        self.store = self.workspace / 'mirror-store'  # in the workspace: scanned for secrets with the hosts
        self.store.mkdir()
        self.url = None

    def inventory(self):
        inventory = super().inventory()
        inventory['mirrors'] = {'hosts': {'mirror': {'ansible_connection': 'local',
                                                     'ansible_python_interpreter': sys.executable}}}
        return inventory

    def base_vars(self):
        variables = super().base_vars()
        variables.update({'release_sync_fetch_mode': 'mirror', 'release_sync_mirror_host': 'mirror',
                          'release_sync_mirror_store': str(self.store), 'release_sync_mirror_url': self.url,
                          'release_sync_mirror_lock_timeout': 120, 'release_sync_mirror_pull_throttle': 2,
                          'release_sync_mirror_signature': 'required'})
        return variables


@pytest.fixture
def mirror(tmp_path, ansible_collections_path, sandbox):
    """(runner, served paths, paths to serve corrupted) with the store served over HTTP."""
    runner = MirrorRunner(tmp_path, ansible_collections_path, sandbox)
    with serve_directory(runner.store) as (runner.url, served, corrupt):
        yield runner, served, corrupt


def releases(**options):
    return [dict({'name': 'uk_clinical', 'item': ITEM}, **options)]


def archives_on_hosts(runner, release):
    return dict((host, runner.root(host) / 'uk_clinical' / dir_name(release) / release['archiveFileName'])
                for host in HOSTS)


def archive_requests(served, release):
    return [path for path in served if path.endswith('/' + release['archiveFileName'])]


def test_three_slices_download_once_and_hosts_verify_trud_signature(mirror, sandbox):
    runner, served, _corrupt = mirror
    release = sandbox.release(ITEM)
    slices = [runner.start(releases(), limit=limit) for limit in ('host1,host2', 'host3,host4', 'host5')]
    runs = [started.wait() for started in slices]
    assert len(sandbox.downloads('archive')) == 1, [entry['path'] for entry in sandbox.downloads('archive')]

    # The store: the archive, TRUD's signed checksum files beside it, the feed; the hosts: identical, verified bytes.
    store_dir = runner.store / 'uk_clinical' / dir_name(release)
    assert sha256_file(store_dir / release['archiveFileName']) == release['archiveFileSha256'].lower()
    assert len([path for path in store_dir.iterdir() if not path.name.startswith('.')]) == 4
    assert (runner.store / 'feed').is_file()
    digests = set(sha256_file(path) for path in archives_on_hosts(runner, release).values())
    assert digests == {release['archiveFileSha256'].lower()}
    assert len(archive_requests(served, release)) == len(HOSTS)
    for run in runs:
        for entry in run.entries(PULL):
            assert entry['result']['verified'] == ['length', 'sha256', 'signature']
            assert entry['result']['signature']['fingerprint'] == sandbox.trud_fingerprint
            # The hosts get no credential: the pull's arguments hold none, and it is not hidden.
            assert 'api_key' not in entry['result']['invocation']['module_args']
    for host in HOSTS:
        record = json.loads((runner.root(host) / 'uk_clinical' / 'current' / 'provenance.json').read_text())
        assert record['source'] == {'kind': 'trud', 'item': ITEM, 'release_id': release['id']}
        assert record['mirror']['host'] == 'mirror' and record['mirror']['feed'] == runner.url + 'feed'
        assert record['verified'] == ['length', 'sha256', 'signature']

    # A rerun over the whole fleet changes nothing, downloads nothing and asks the mirror for no archive.
    before, served_before = snapshot(runner.workspace / 'hosts'), len(served)
    rerun = runner.run(releases())
    assert rerun.changed() == dict((host, 0) for host in HOSTS), rerun.describe()
    assert len(sandbox.downloads('archive')) == 1
    assert archive_requests(served[served_before:], release) == []
    assert snapshot(runner.workspace / 'hosts') == before

    # Check mode changes nothing anywhere, the store included.
    store_before = snapshot(runner.store)
    checked = runner.run(releases(), check=True)
    assert checked.changed() == dict((host, 0) for host in HOSTS), checked.describe()
    assert snapshot(runner.workspace / 'hosts') == before and snapshot(runner.store) == store_before


def test_serial_batches_download_once(mirror, sandbox):
    runner, served, _corrupt = mirror
    release = sandbox.release(ITEM)
    run = runner.run(releases(), play={'serial': 2})
    assert len(sandbox.downloads('archive')) == 1
    assert len(archive_requests(served, release)) == len(HOSTS)
    assert set(sha256_file(path) for path in archives_on_hosts(runner, release).values()) == {
        release['archiveFileSha256'].lower()}
    assert all(run.facts(host)['uk_clinical']['changed'] for host in HOSTS)


def test_check_mode_on_an_empty_store_changes_nothing(mirror, sandbox):
    runner, served, _corrupt = mirror
    run = runner.run(releases(), check=True)
    assert all(count > 0 for count in run.changed().values())
    assert list(runner.store.iterdir()) == [] and not (runner.workspace / 'hosts').exists()
    assert sandbox.downloads('archive') == [] and served == []


def test_a_corrupted_file_on_the_mirror_is_refused(mirror, sandbox):
    runner, _served, corrupt = mirror
    release = sandbox.release(ITEM)
    corrupt.add('/uk_clinical/%s/%s' % (dir_name(release), release['archiveFileName']))
    run = runner.run(releases(), expect_failure=True)
    message = ' '.join(entry['result']['msg'] for entry in run.failures())
    assert 'could not be fetched from the mirror' in message and 'SHA' in message, message
    for path in archives_on_hosts(runner, release).values():
        assert not path.parent.exists() or [item.name for item in path.parent.iterdir()
                                            if not item.name.startswith('.')] == []
        assert not (path.parent.parent / 'current').exists()


def test_a_mirror_that_is_down_fails_clearly_and_keeps_current(mirror, sandbox):
    runner, _served, _corrupt = mirror
    older, newest = sandbox.release(ITEM, 1), sandbox.release(ITEM, 0)
    runner.run(releases(release_id=older['id']))
    with socket.socket() as unused:
        unused.bind(('127.0.0.1', 0))
        port = unused.getsockname()[1]
    run = runner.run(releases(), variables={'release_sync_mirror_url': 'http://127.0.0.1:%d/' % port},
                     expect_failure=True)
    message = ' '.join(entry['result']['msg'] for entry in run.failures())
    assert 'could not be fetched from the mirror http://127.0.0.1:%d/' % port in message, message
    for host in HOSTS:
        current = runner.root(host) / 'uk_clinical' / 'current'
        assert current.resolve().name == dir_name(older)
        assert not (runner.root(host) / 'uk_clinical' / dir_name(newest) / newest['archiveFileName']).exists()


def test_overlapping_schedules_download_once_and_an_impatient_run_says_what_to_do(mirror, sandbox):
    """A run starts while another is still downloading the release into the store (a stalled upstream): it waits on
    the store's lock and reuses the result, so TRUD sees one download; a run whose lock timeout is shorter than the
    download fails with a message naming the lock and what to do, and places nothing."""
    runner, _served, _corrupt = mirror
    release = sandbox.release(ITEM)
    sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 30, 'after_bytes': 4096})
    patient = {'release_sync_timeout': 60}  # the stall is not a dead connection here
    first = runner.start(releases(), patient, limit='host1,host2')
    store_dir = runner.store / 'uk_clinical' / dir_name(release)
    deadline = time.monotonic() + 60
    while not (store_dir.is_dir() and any(path.name.endswith('.part') for path in store_dir.iterdir())):
        assert time.monotonic() < deadline, 'the first run never started its download'
        time.sleep(0.1)
    second = runner.start(releases(), patient, limit='host3,host4')
    impatient = runner.start(releases(), limit='host5', variables={'release_sync_mirror_lock_timeout': 1})
    refused = impatient.wait(expect_failure=True)
    first.wait()
    second.wait()
    assert len(sandbox.downloads('archive')) == 1, [entry['path'] for entry in sandbox.downloads('archive')]
    message = ' '.join(entry['result']['msg'] for entry in refused.failures())
    assert 'release_sync_mirror_lock_timeout' in message and str(store_dir) in message, message
    assert not (runner.root('host5') / 'uk_clinical' / 'current').exists()
    assert set(sha256_file(path) for host, path in archives_on_hosts(runner, release).items() if host != 'host5') == {
        release['archiveFileSha256'].lower()}


def test_an_mlds_release_goes_through_the_mirror_once_and_the_hosts_get_no_password(mirror, sandbox):
    """An MLDS release in mirror mode: the mirror downloads it once as the affiliate; the hosts pull it from the
    mirror's feed, verified by the feed's SHA-256 (MLDS gives MD5 only), with no MLDS credential; rerun no-op."""
    runner, served, _corrupt = mirror
    releases_, variables, password, archive, release_id = seed_mlds_extension(sandbox)
    first = runner.run(releases_, variables, secrets=(password,))
    assert len(sandbox.downloads('mlds_download')) == 1
    stored = runner.store / 'se-extension' / release_id / MLDS_ARCHIVE
    assert stored.is_file() and stored.stat().st_size == 1_200_000
    for host in HOSTS:
        path = runner.root(host) / 'se-extension' / 'current' / MLDS_ARCHIVE
        assert sha256_file(path) == sha256_file(stored)
        record = json.loads((path.parent / 'provenance.json').read_text())
        assert record['source']['kind'] == 'mlds' and record['source']['file_id'] == archive['releaseFileId']
    pulls = first.entries(PULL)
    assert len(pulls) == len(HOSTS)
    for entry in pulls:
        arguments = entry['result']['invocation']['module_args']
        assert arguments.get('username') is None and arguments.get('password') is None, arguments
    sandbox.clear_log()
    served_before = len(served)
    rerun = runner.run(releases_, variables, secrets=(password,))
    assert rerun.changed() == dict((host, 0) for host in HOSTS), rerun.describe()
    assert sandbox.downloads('mlds_download') == [] and served[served_before:] == []


class MirrorDriftRunner(MirrorRunner, DriftRunner):
    """The mirror runner whose play also shows release_sync_drift (the fleet split into london and leeds)."""


def test_a_set_and_the_drift_report_work_the_same_through_the_mirror(tmp_path, ansible_collections_path, sandbox):
    """Mirror mode with a release set of two TRUD items: both are fetched once on the mirror and switch together on
    every host; when only the clinical edition moves on, report mode (selecting on the mirror, where the key is)
    finds every host behind on it without writing or downloading anything, and a sync holds the set, since its
    members would differ in version, keeping both current on every host."""
    runner = MirrorDriftRunner(tmp_path, ansible_collections_path, sandbox)
    sandbox.add_release(105, version='40.4.0', release_date='2025-10-08', size=900_000)
    clinical, drug = sandbox.release(101), sandbox.release(105)
    variables = {'release_sync_sets': [UK_SET]}
    with serve_directory(runner.store) as (runner.url, _served, _corrupt):
        first = runner.run(UK_RELEASES, variables)
        assert len(sandbox.downloads('archive')) == 2, 'one upstream download per release'
        for host in HOSTS:
            assert set_result(first, host)['uk']['switched'] is True
            assert set_result(first, host)['uk']['current'] == {'clinical': dir_name(clinical), 'drug': dir_name(drug)}
            record = json.loads((runner.root(host) / 'drug' / 'current' / 'provenance.json').read_text())
            assert record['set'] == 'uk' and record['mirror']['host'] == 'mirror'

        sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=1_100_000)
        newer = sandbox.release(101)
        before, store_before = snapshot(runner.workspace / 'hosts'), snapshot(runner.store)
        report = runner.run(UK_RELEASES, dict(variables, release_sync_mode='report'))
        assert snapshot(runner.workspace / 'hosts') == before and snapshot(runner.store) == store_before
        assert len(sandbox.downloads('archive')) == 2, 'report mode downloaded'
        drift = runner.report(report)
        assert drift['behind'] == [{'host': host, 'name': 'clinical', 'current': dir_name(clinical),
                                    'upstream': dir_name(newer)} for host in HOSTS], drift['behind']
        assert drift['tampered'] == [] and drift['problems'] == [] and drift['split'] == []

        held = runner.run(UK_RELEASES, variables, expect_failure=True)
        for host in HOSTS:
            result = set_result(held, host)['uk']
            assert result['switched'] is False and 'not of the same version' in result['reason'], result
            assert runner.root(host).joinpath('clinical', 'current').resolve().name == dir_name(clinical)
            assert runner.root(host).joinpath('drug', 'current').resolve().name == dir_name(drug)
