# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role release_sync's snowstorm layout (the archive handed to Snowstorm's release import folder) and a loader
handler that reads the role's facts, in real ansible-playbook runs on five local hosts against the sandbox; and the
release-set rule same_week."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time

from test_hardening import kill_tree
from test_role_release_sync import HOSTS, dir_name, role, snapshot  # noqa: F401 pylint: disable=unused-import
from test_role_sets import set_result

SNOWSTORM = {'release_sync_layout': 'snowstorm',
             # Each host's own folder beside its root (an extra var, so it is templated per host).
             'release_sync_snowstorm_path': '{{ release_sync_root | dirname }}/snowstorm'}


def folder(role, host):  # pylint: disable=redefined-outer-name
    return role.root(host).parent / 'snowstorm'


def zips(role, host):  # pylint: disable=redefined-outer-name
    """Every entry under the host's watch folder, relative to it (hidden ones included)."""
    base = folder(role, host)
    return sorted(str(path.relative_to(base)) for path in base.rglob('*') if path.is_file())


class Watcher(threading.Thread):
    """What Snowstorm's scheduler does, every few milliseconds: list every *.zip in every code system folder of
    every host, open it and read it whole. Each one must be complete: the size and SHA-256 of the release it is."""

    def __init__(self, role, expected):  # pylint: disable=redefined-outer-name
        super().__init__(daemon=True)
        self.bases = [folder(role, host) for host in HOSTS]
        self.expected = expected  # {file name: (size, sha256)}
        self.partial = []
        self.complete = set()
        self.scans = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            for base in self.bases:
                for path in (base.glob('*/*.zip') if base.is_dir() else ()):
                    try:
                        with open(path, 'rb') as handle:
                            data = handle.read()
                    except FileNotFoundError:
                        continue  # removed between the listing and the open
                    got = (len(data), hashlib.sha256(data).hexdigest())
                    if got == self.expected.get(path.name):
                        self.complete.add(str(path))
                    else:
                        self.partial.append((str(path), got))
            self.scans += 1
            time.sleep(0.003)

    def stop(self):
        self.stopping.set()
        self.join(10)
        assert not self.partial, 'the watcher saw an incomplete archive: %s' % self.partial[:5]
        assert self.scans > 20, 'the watcher hardly ran (%d scans)' % self.scans


def expected(release):
    return {release['archiveFileName']: (release['archiveFileSizeBytes'], release['archiveFileSha256'].lower())}


def test_the_snowstorm_layout_hands_off_whole_archives_named_with_their_date(role, sandbox):  # pylint: disable=redefined-outer-name
    """<path>/<code system>/<archive>.zip on every host, a hard link to the verified archive; an archive name without
    a date in its last part gets _<release date>; the result says where; reruns change nothing, check mode writes
    nothing; retention removes the hand-off of the release it removes, and nothing it did not place."""
    sandbox.add_release(25, version='11.2.0', release_date='2025-11-10', archive_file_name='dmd_bonus_11.2.0.zip',
                        size=400_000)
    clinical, bonus = sandbox.release(101), sandbox.release(25)
    releases = [{'name': 'clinical', 'item': 101, 'code_system': 'SNOMEDCT-UK', 'retain': 1},
                {'name': 'bonus', 'item': 25, 'code_system': 'UK-DMD-BONUS'}]
    check = role.run(releases, SNOWSTORM, check=True)
    assert snapshot(role.workspace) == {}
    assert all(count > 0 for count in check.changed().values())

    first = role.run(releases, SNOWSTORM)
    bonus_name = 'dmd_bonus_11.2.0_20251110.zip'  # the last part, 11.2.0, is not a date: Snowstorm would stop on it
    for host in HOSTS:
        assert zips(role, host) == ['SNOMEDCT-UK/' + clinical['archiveFileName'], 'UK-DMD-BONUS/' + bonus_name]
        handoff = folder(role, host) / 'SNOMEDCT-UK' / clinical['archiveFileName']
        archive = role.root(host) / 'clinical' / dir_name(clinical) / clinical['archiveFileName']
        assert os.path.samefile(handoff, archive), 'not a hard link to the verified archive'
        assert oct(handoff.stat().st_mode & 0o777) == '0o640'
        facts = first.facts(host)
        assert facts['clinical']['handoff'] == str(handoff) and facts['clinical']['handoff_changed'] is True
        assert facts['bonus']['handoff'] == str(folder(role, host) / 'UK-DMD-BONUS' / bonus_name)
        assert facts['clinical']['layout'] == 'snowstorm'
    before = snapshot(role.workspace)
    again = role.run(releases, SNOWSTORM)
    assert again.changed() == dict((host, 0) for host in HOSTS), again.describe()
    assert snapshot(role.workspace) == before
    assert again.facts(HOSTS[0])['clinical']['handoff_changed'] is False

    # A newer clinical release (retain 1): handed off, the old one's hand-off removed with its directory, a file
    # someone else put in the folder left alone. Check mode first changes nothing.
    foreign = folder(role, HOSTS[0]) / 'SNOMEDCT-UK' / 'uk_sct2cl_39.0.0_20250101000001Z.zip'
    foreign.write_bytes(b'not the role\'s')
    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=600_000)
    new = sandbox.release(101)
    before = snapshot(role.workspace)
    role.run(releases, SNOWSTORM, check=True)
    assert snapshot(role.workspace) == before, 'check mode wrote'
    pruned = role.run(releases, SNOWSTORM)
    for host in HOSTS:
        names = zips(role, host)
        assert 'SNOMEDCT-UK/' + new['archiveFileName'] in names
        assert 'SNOMEDCT-UK/' + clinical['archiveFileName'] not in names, names
        assert pruned.facts(host)['clinical']['pruned'] == [dir_name(clinical)]
    assert foreign.read_bytes() == b'not the role\'s'


def test_the_snowstorm_layout_needs_a_code_system_and_a_folder(role, sandbox):  # pylint: disable=redefined-outer-name
    """A release in the snowstorm layout (here through its set) without code_system, and no folder: each problem in
    its own sentence before anything is fetched."""
    releases = [{'name': 'clinical', 'item': 101}, {'name': 'drug', 'item': 105, 'layout': 'watch'}]
    run = role.run(releases, {'release_sync_sets': [{'name': 'uk', 'members': ['clinical'], 'rule': 'same_version',
                                                     'layout': 'snowstorm'}]}, expect_failure=True, verbosity=None)
    for entry in run.failures():
        assert entry['result']['msg'] == (
            'release_sync_releases[0] (clinical): the snowstorm layout needs code_system, the short name of the '
            'Snowstorm code system the release is imported into (such as SNOMEDCT or SNOMEDCT-UK), as a plain folder '
            'name, not null. release_sync_releases[1] (drug): layout must be release_dirs or snowstorm, not "watch". '
            "release_sync_snowstorm_path must be the absolute path of Snowstorm's release import folder (its "
            'release.storage.local.path) for the releases in the snowstorm layout, not "".')
    assert sorted(entry['host'] for entry in run.failures()) == HOSTS
    assert not sandbox.archive_gets()


def test_the_watch_folder_never_shows_a_partial_archive_during_a_stalled_or_killed_download(role, sandbox):  # pylint: disable=redefined-outer-name
    """A watcher polling every folder every few milliseconds, reading every *.zip whole, sees only complete archives:
    while a download stalls and resumes (hard links), and while a run is killed mid-download and run again (copies)."""
    clinical = sandbox.release(101)
    releases = [{'name': 'clinical', 'item': 101, 'code_system': 'SNOMEDCT-UK'}]
    watcher = Watcher(role, expected(clinical))
    watcher.start()
    try:
        sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 3, 'after_bytes': 1_500_000})
        role.run(releases, dict(SNOWSTORM, release_sync_timeout=1, release_sync_retries=2))
        assert [entry['fault'] for entry in sandbox.wait_for_archive_gets(2, timeout=15)][:1] == ['stall']
        assert len(watcher.complete) == len(HOSTS), watcher.complete
    finally:
        watcher.stop()

    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=3_000_001)
    new = sandbox.release(101)
    watcher = Watcher(role, dict(expected(clinical), **expected(new)))
    watcher.start()
    try:
        sandbox.add_faults({'kind': 'archive', 'type': 'stall', 'seconds': 8, 'after_bytes': 2_500_000})
        copies = dict(SNOWSTORM, release_sync_snowstorm_link=False)
        started = role.start(releases, copies)
        process = started.process
        cache = role.cache / 'clinical' / dir_name(new)
        deadline = time.monotonic() + 180
        # The fetch writes whole 1 MiB reads: 2 MiB in its partial file means it is waiting in the stall.
        while not (cache.is_dir() and any(path.name.endswith('.part') and path.stat().st_size >= 2 * 1024 * 1024
                                          for path in cache.iterdir())):
            assert time.monotonic() < deadline and process.poll() is None, 'the download never reached the stall: %s' % (
                sorted((str(path.relative_to(role.cache)), path.stat().st_size) for path in role.cache.rglob('*')),)
            time.sleep(0.05)
        assert len(kill_tree(process.pid)) >= 2
        started.collect()  # scanned for secrets too
        sandbox.wait_for_archive_gets(1, timeout=15)
        sandbox.clear_faults()
        for host in HOSTS:
            assert zips(role, host) == ['SNOMEDCT-UK/' + clinical['archiveFileName']]
        role.run(releases, copies)
        for host in HOSTS:
            handoff = folder(role, host) / 'SNOMEDCT-UK' / new['archiveFileName']
            assert handoff.is_file() and handoff.stat().st_nlink == 1, 'a copy, not a link'
            assert zips(role, host) == sorted(['SNOMEDCT-UK/' + clinical['archiveFileName'],
                                               'SNOMEDCT-UK/' + new['archiveFileName']])
        assert len([path for path in watcher.complete if path.endswith(new['archiveFileName'])]) == len(HOSTS)
    finally:
        watcher.stop()


HANDLER_TASKS = [
    {'name': 'Note what the loader gets', 'listen': 'load terminology', 'ansible.builtin.copy': {
        'dest': '{{ release_sync_root | dirname }}/loader.json', 'mode': '0644',
        'content': '{{ {"changed": release_sync_changed, "handoffs": release_sync_changed | map("extract", release_sync_result)'
                   ' | map(attribute="handoff") | list, "sets": release_sync_set_result} | to_json }}'}},
]


def test_a_handler_gets_the_facts_once_after_the_role(role, sandbox):  # pylint: disable=redefined-outer-name
    """release_sync_notify triggers the play's handler once per host, after the role; it sees the changed names,
    their hand-off paths and the sets. A run with nothing changed does not trigger it."""
    sandbox.add_release(105, version='40.4.0', release_date='2025-10-08', size=300_000)
    releases = [{'name': 'clinical', 'item': 101, 'code_system': 'SNOMEDCT-UK'},
                {'name': 'drug', 'item': 105, 'code_system': 'SNOMEDCT-UK-DRUG'}]
    variables = dict(SNOWSTORM, release_sync_notify=['load terminology'],
                     release_sync_sets=[{'name': 'uk', 'members': ['clinical', 'drug'], 'rule': 'same_version'}])
    play = {'handlers': HANDLER_TASKS}
    role.run(releases, variables, play=play)
    for host in HOSTS:
        got = json.loads((role.root(host).parent / 'loader.json').read_text())
        assert got['changed'] == ['clinical', 'drug']
        assert got['handoffs'] == [str(folder(role, host) / 'SNOMEDCT-UK' / sandbox.release(101)['archiveFileName']),
                                   str(folder(role, host) / 'SNOMEDCT-UK-DRUG' / sandbox.release(105)['archiveFileName'])]
        assert got['sets']['uk']['switched'] is True
        (role.root(host).parent / 'loader.json').unlink()
    again = role.run(releases, variables, play=play)
    assert not again.entries('Note what the loader gets'), 'the handler ran with nothing changed'


# --- the release-set rule same_week -----------------------------------------------------------------


def test_a_same_week_set_switches_only_when_its_members_are_of_one_iso_week(role, sandbox):  # pylint: disable=redefined-outer-name
    """dm+d (item 24, released Monday 2025-11-10) and its bonus files: released the Thursday of that ISO week they
    switch together; released the next Monday (another ISO week), neither moves and the result says which weeks."""
    dmd = sandbox.release(24)
    sandbox.add_release(25, version='11.2.0', release_date='2025-11-13', size=200_000)
    bonus = sandbox.release(25)
    releases = [{'name': 'dmd', 'item': 24}, {'name': 'bonus', 'item': 25}]
    variables = {'release_sync_sets': [{'name': 'dmd-week', 'members': ['dmd', 'bonus'], 'rule': 'same_week'}]}
    run = role.run(releases, variables)
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'dmd' / 'current') == dir_name(dmd)
        assert os.readlink(role.root(host) / 'bonus' / 'current') == dir_name(bonus)
        assert set_result(run, host)['dmd-week']['switched'] is True

    # The next bonus release comes a week later than the next dm+d release.
    sandbox.add_release(24, version='11.3.0', release_date='2025-11-17', size=300_000)
    sandbox.add_release(25, version='11.3.0', release_date='2025-11-24', size=200_000)
    held = role.run(releases, variables, expect_failure=True)
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'dmd' / 'current') == dir_name(dmd), host
        assert os.readlink(role.root(host) / 'bonus' / 'current') == dir_name(bonus), host
        sets = set_result(held, host)['dmd-week']
        assert sets['switched'] is False
        assert sets['reason'] == 'the members were not released in the same week (dmd 2025-W47, bonus 2025-W48)', sets
