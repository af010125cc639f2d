# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role release_sync in report mode (release_sync_mode: report), in real ansible-playbook runs at -vvvv on the
five local hosts of test_role_release_sync's runner, split into two inventory groups, against the sandbox's TRUD.

The hosts' release directories and provenance records are laid out by drift_itest (with the collection's record
writer), so each test decides exactly what drifted: a tampered archive, a host behind the newest upstream
release, hosts of one group on different releases. Every run is scanned for the API key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from drift_itest import make_release
from test_role_release_sync import HOSTS, RoleRunner, snapshot

GROUPS = {'london': HOSTS[:3], 'leeds': HOSTS[3:]}
SHOW = 'Show the drift'
TABLE = 'Show the drift of the fleet'
FAIL = 'Fail when the fleet drifted'


class DriftRunner(RoleRunner):
    """The role runner, with the fleet split into the groups london and leeds (every host stays in fleet)."""

    def write(self, run_dir, releases, variables, play_options=None):
        play = {'tasks': [{'name': SHOW, 'ansible.builtin.debug': {'var': 'release_sync_drift'}}]}
        play.update(play_options or {})
        super().write(run_dir, releases, variables, play)
        path = run_dir / 'inventory.json'
        inventory = json.loads(path.read_text(encoding='utf-8'))
        inventory['fleet']['children'] = dict((group, {'hosts': dict((host, {}) for host in hosts)})
                                              for group, hosts in GROUPS.items())
        path.write_text(json.dumps(inventory), encoding='utf-8')

    def report(self, run):
        """release_sync_drift, which every host has (the summary is worked out once and given to all)."""
        facts = [entry['result']['release_sync_drift'] for entry in run.entries(SHOW)]
        assert len(facts) == len(HOSTS) and all(fact == facts[0] for fact in facts), run.describe()
        return facts[0]

    def table(self, run):
        (entry,) = run.entries(TABLE)
        return entry['result']['msg']


@pytest.fixture
def role(tmp_path, ansible_collections_path, sandbox):
    return DriftRunner(tmp_path, ansible_collections_path, sandbox)


def dir_of(release):
    return release['id'][:-len('.zip')]


def lay_out(role, old, new, on_old=()):
    """clinical on every host: the old release kept, and current on the new one (on the old one for on_old)."""
    archives = {}
    for host in HOSTS:
        base = role.root(host) / 'clinical'
        make_release(base, old['id'], release_date=old['releaseDate'], set_name='uk-edition', current=False)
        archives[host] = make_release(base, new['id'], release_date=new['releaseDate'], set_name='uk-edition',
                                      current=host not in on_old)
        if host in on_old:
            (base / 'current').symlink_to(dir_of(old))
    return archives


REPORT = {'release_sync_mode': 'report'}
RELEASES = [{'name': 'clinical', 'item': 101}]
ROLE_README = Path(__file__).resolve().parents[2] / 'roles' / 'release_sync' / 'README.md'


def readme_example():
    """The releases and the variables of the role README's drift report playbook, as written there."""
    section = ROLE_README.read_text(encoding='utf-8').split('### Drift report', 1)[1]
    (play,) = yaml.safe_load(re.search(r'```yaml\n(.*?)```', section, re.S).group(1))
    variables = dict(play['roles'][0]['vars'])
    return variables.pop('release_sync_releases'), variables


def test_report_finds_a_tampered_archive_a_host_behind_and_a_split_and_fails_only_when_asked(role, sandbox):
    """host5 is on the release before the newest (behind; leeds and fleet split, london not), host2's archive grew
    (a size check sees it), host3's has other bytes of the same size (only a rehash sees it). The report changes
    nothing, shows one table, sets the same fact on every host, and fails the play only with
    release_sync_fail_on_drift; with the drift repaired, the same run passes."""
    old = sandbox.release(101)
    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=200_000)
    new = sandbox.release(101)
    archives = lay_out(role, old, new, on_old=['host5'])
    with open(archives['host2'], 'ab') as handle:
        handle.write(b'tampered')
    data = bytearray(archives['host3'].read_bytes())
    data[-1] ^= 1
    archives['host3'].write_bytes(bytes(data))
    before = snapshot(role.workspace)

    run = role.run(RELEASES, REPORT)
    assert snapshot(role.workspace) == before, 'report mode wrote something'
    assert run.changed() == dict((host, 0) for host in HOSTS), run.describe()
    assert run.entries(FAIL, 'skipped'), run.describe()
    drift = role.report(run)
    assert drift['drifted'] is True and drift['rehashed'] is False
    assert drift['upstream'] == {'clinical': {'release_id': new['id'], 'release_date': new['releaseDate'],
                                              'dir': dir_of(new)}}
    assert drift['behind'] == [{'host': 'host5', 'name': 'clinical', 'current': dir_of(old), 'upstream': dir_of(new)}]
    assert [(item['host'], item['kind']) for item in drift['tampered']] == [('host2', 'size')]
    assert drift['tampered'][0]['path'] == str(archives['host2'])
    assert drift['problems'] == []
    assert sorted((item['group'], item['name'], item['set']) for item in drift['split']) == [
        ('fleet', 'clinical', 'uk-edition'), ('leeds', 'clinical', 'uk-edition')]
    leeds = [item for item in drift['split'] if item['group'] == 'leeds'][0]
    assert leeds['releases'] == {dir_of(new): ['host4'], dir_of(old): ['host5']}
    assert drift['hosts']['host1']['clinical'] == {'current': dir_of(new), 'release_id': new['id'], 'set': 'uk-edition',
                                                   'upstream': dir_of(new), 'behind': False, 'problems': []}

    table = role.table(run)
    assert table[0].split() == ['HOST', 'NAME', 'CURRENT', 'UPSTREAM', 'STATE']
    rows = dict((line.split()[0], line.split(None, 4)[2:]) for line in table[1:len(HOSTS) + 1])
    assert rows['host1'] == [dir_of(new), dir_of(new), 'ok']
    assert rows['host2'] == [dir_of(new), dir_of(new), 'size']
    assert rows['host5'] == [dir_of(old), dir_of(new), 'behind']
    assert 'split: group leeds, clinical (set uk-edition): %s on host4; %s on host5' % (dir_of(new), dir_of(old)) \
        in table
    assert table[-1] == 'DRIFT: 1 behind, 1 tampered, 0 other problems, 2 split'

    # Monitoring, as the README's example does it: rehash finds host3's altered bytes too, and the play fails,
    # after the summary.
    releases, variables = readme_example()
    assert releases == RELEASES and variables == dict(REPORT, release_sync_drift_rehash=True,
                                                      release_sync_fail_on_drift=True)
    failed = role.run(releases, variables, expect_failure=True)
    assert snapshot(role.workspace) == before
    (failure,) = failed.failures()
    assert failure['task'] == FAIL
    assert failure['result']['msg'].startswith('The fleet drifted: 1 behind, 2 tampered, 0 other problems, 2 split')
    (table_entry,) = failed.entries(TABLE)
    assert [line for line in table_entry['result']['msg'] if line.startswith('host3 ')][0].split()[-1] == 'sha256'

    # Repaired: every host on the newest release with intact archives. The same monitoring run passes.
    archives = lay_out(role, old, new)
    quiet = role.run(releases, variables)
    drift = role.report(quiet)
    assert drift['drifted'] is False, role.table(quiet)
    assert (drift['behind'], drift['tampered'], drift['problems'], drift['split']) == ([], [], [], [])
    assert role.table(quiet)[-1] == 'no drift: 0 behind, 0 tampered, 0 other problems, 0 split'


def test_report_without_records_or_upstream_says_what_is_missing(role, sandbox):
    """Hosts that have never been synced and one whose record was removed: each is a problem of its own kind, the
    upstream is not asked (release_sync_drift_upstream: false), so nobody is behind, and a wrong key never shows."""
    release = sandbox.release(101)
    make_release(role.root('host1') / 'clinical', release['id'])
    make_release(role.root('host2') / 'clinical', release['id'])
    (role.root('host2') / 'clinical' / dir_of(release) / 'provenance.json').unlink()
    before = snapshot(role.workspace)
    run = role.run(RELEASES, dict(REPORT, release_sync_drift_upstream=False,
                                  release_sync_trud_api_key='itest-unused-Key+Odd/1'),
                   secrets=('itest-unused-Key+Odd/1',))
    assert snapshot(role.workspace) == before
    drift = role.report(run)
    assert drift['upstream'] == {} and drift['behind'] == [] and drift['tampered'] == []
    kinds = sorted((item['host'], item['kind']) for item in drift['problems'])
    assert kinds == [('host2', 'no record')] + [(host, 'absent') for host in HOSTS[2:]]
    assert drift['drifted'] is True and drift['split'] == []
