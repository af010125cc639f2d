# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The role release_sync for real terminology servers: provenance records, release sets and loader hand-off, in real
ansible-playbook runs on five local hosts against the sandbox (the runner and helpers of test_role_release_sync)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from test_role_release_sync import HOSTS, archive_downloads, dir_name, role, snapshot  # noqa: F401 pylint: disable=unused-import
from trud_itest import sha256_file

PROVENANCE_KEYS = {'version', 'collection_version', 'name', 'set', 'source', 'release_id', 'release_date', 'archive',
                   'signature', 'verified', 'verified_at', 'unpacked'}


def provenance(role, host, name, release):  # pylint: disable=redefined-outer-name
    path = role.root(host) / name / dir_name(release) / 'provenance.json'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    text = path.read_text(encoding='utf-8')
    record = json.loads(text)
    assert text == json.dumps(record, indent=2, sort_keys=True) + '\n', 'sorted keys, as to_nice_json writes them'
    return record


# --- provenance -------------------------------------------------------------------------------------


def test_provenance_is_written_in_each_release_directory_without_a_secret(role, sandbox):  # pylint: disable=redefined-outer-name
    """Each release directory holds provenance.json as the role's result reports it: source, archive hashes,
    signature, what was verified and when; no key or URL in it (the runner scans every file for the key); a second
    run rewrites nothing, and check mode writes nothing."""
    release = sandbox.release(101)
    check = role.run([{'name': 'clinical', 'item': 101, 'unpack': True}], check=True)
    assert snapshot(role.workspace) == {}
    assert all(check.facts(host)['clinical']['changed'] for host in HOSTS)

    first = role.run([{'name': 'clinical', 'item': 101, 'unpack': True}])
    galaxy = (Path(role.collections) / 'ansible_collections' / 'terminology' / 'releases' / 'galaxy.yml').read_text()
    version = re.search(r'^version:\s*(\S+)', galaxy, re.M).group(1)
    for host in HOSTS:
        record = provenance(role, host, 'clinical', release)
        assert set(record) == PROVENANCE_KEYS
        assert record['version'] == 1 and record['collection_version'] == version
        assert record['name'] == 'clinical' and record['set'] is None
        assert record['source'] == {'kind': 'trud', 'item': 101, 'release_id': release['id']}
        assert record['release_id'] == release['id'] and record['release_date'] == release['releaseDate']
        archive = role.root(host) / 'clinical' / dir_name(release) / release['archiveFileName']
        assert record['archive'] == {'name': release['archiveFileName'], 'size': archive.stat().st_size,
                                     'sha256': sha256_file(archive), 'sha1': record['archive']['sha1'], 'md5': None}
        assert re.match('^[0-9a-f]{40}$', record['archive']['sha1'])
        assert record['signature']['fingerprint'] == sandbox.trud_fingerprint
        assert re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', record['verified_at'])
        assert record['verified'] == ['size', 'sha256', 'signature'] and record['unpacked'] is True
        assert first.facts(host)['clinical']['provenance'] == record
        text = json.dumps(record)
        assert 'http' not in text and 'key' not in text.lower()

    before = snapshot(role.workspace)
    second = role.run([{'name': 'clinical', 'item': 101, 'unpack': True}])
    assert second.changed() == dict((host, 0) for host in HOSTS), second.describe()
    assert snapshot(role.workspace) == before
    assert second.facts(HOSTS[0])['clinical']['provenance'] == provenance(role, HOSTS[0], 'clinical', release)


# --- release sets -----------------------------------------------------------------------------------

UK_SET = {'name': 'uk', 'members': ['clinical', 'drug'], 'rule': 'same_version'}
UK_RELEASES = [{'name': 'clinical', 'item': 101}, {'name': 'drug', 'item': 105}]


def set_result(run, host):
    """release_sync_set_result of a host, from the task that reported the last set (also on a failed host)."""
    entries = [entry for entry in run.results if entry['task'] == 'Report the set' and entry['host'] == host]
    assert entries, run.describe()
    return entries[-1]['result']['ansible_facts']['release_sync_set_result']


def test_a_set_switches_together_and_stays_whole_when_a_member_fails(role, sandbox):  # pylint: disable=redefined-outer-name
    """Two TRUD items of the same version switch together; when one member of the next version fails verification
    (a byte flipped in every download), no member moves on any host, the result and the failure say why, and once
    the fault is gone both switch; reruns change nothing and check mode writes nothing."""
    sandbox.add_release(105, version='40.4.0', release_date='2025-10-08', size=900_000)
    clinical, drug = sandbox.release(101), sandbox.release(105)
    variables = {'release_sync_sets': [UK_SET]}

    first = role.run(UK_RELEASES, variables)
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'clinical' / 'current') == dir_name(clinical)
        assert os.readlink(role.root(host) / 'drug' / 'current') == dir_name(drug)
        sets = first.facts(host) and set_result(first, host)
        assert sets['uk']['switched'] is True and sets['uk']['reason'] is None and sets['uk']['changed'] is True
        assert sets['uk']['current'] == {'clinical': dir_name(clinical), 'drug': dir_name(drug)}
        assert provenance(role, host, 'drug', drug)['set'] == 'uk'
        assert first.facts(host)['drug']['set'] == 'uk' and first.facts(host)['drug']['error'] is None
    before = snapshot(role.workspace)
    again = role.run(UK_RELEASES, variables)
    assert again.changed() == dict((host, 0) for host in HOSTS), again.describe()
    assert snapshot(role.workspace) == before

    # Version 41.0.0 of both; every download of the drug archive has a byte flipped.
    sandbox.add_release(101, version='41.0.0', release_date='2026-03-04', size=1_100_000)
    sandbox.add_release(105, version='41.0.0', release_date='2026-03-04', size=800_000)
    new_clinical, new_drug = sandbox.release(101), sandbox.release(105)
    sandbox.add_faults({'kind': 'archive', 'item': 105, 'type': 'corrupt_byte', 'offset': 4321, 'times': -1})
    failed = role.run(UK_RELEASES, variables, expect_failure=True)
    assert sorted(entry['host'] for entry in failed.failures() if entry['task'] ==
                  'Fail for the release sets left on their previous releases') == HOSTS, failed.describe()
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'clinical' / 'current') == dir_name(clinical), host
        assert os.readlink(role.root(host) / 'drug' / 'current') == dir_name(drug), host
        assert (role.root(host) / 'clinical' / dir_name(new_clinical) / new_clinical['archiveFileName']).is_file()
        sets = set_result(failed, host)
        assert sets['uk']['switched'] is False and 'drug failed' in sets['uk']['reason'], sets
        assert 'verification' in sets['uk']['reason']
        assert sets['uk']['current'] == {'clinical': dir_name(clinical), 'drug': dir_name(drug)}
    message = [entry for entry in failed.failures() if entry['host'] == HOSTS[0]][-1]['result']['msg']
    assert message.startswith('Release set uk was not switched on this host and stays on its previous releases'), message

    sandbox.clear_faults()
    before = snapshot(role.workspace)
    check = role.run(UK_RELEASES, variables, check=True)
    assert snapshot(role.workspace) == before, 'check mode wrote'
    assert all(count > 0 for count in check.changed().values())
    fixed = role.run(UK_RELEASES, variables)
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'clinical' / 'current') == dir_name(new_clinical)
        assert os.readlink(role.root(host) / 'drug' / 'current') == dir_name(new_drug)
        assert set_result(fixed, host)['uk']['switched'] is True
        assert fixed.facts(host)['drug']['previous_release_id'] == dir_name(drug)


def test_a_set_whose_members_differ_in_version_is_not_switched(role, sandbox):  # pylint: disable=redefined-outer-name
    """The drug extension is one version ahead of the clinical edition: the rule same_version keeps the set off
    (nothing was current yet, so no current link is made) and says which versions differ."""
    sandbox.add_release(105, version='41.0.0', release_date='2025-10-08', size=700_000)
    run = role.run(UK_RELEASES, {'release_sync_sets': [UK_SET]}, expect_failure=True)
    for host in HOSTS:
        assert not os.path.lexists(role.root(host) / 'clinical' / 'current')
        assert not os.path.lexists(role.root(host) / 'drug' / 'current')
        reason = set_result(run, host)['uk']['reason']
        assert reason == 'the members are not of the same version (clinical 40.4.0, drug 41.0.0)', reason


def test_a_dependency_is_fetched_before_its_dependant(role, sandbox):  # pylint: disable=redefined-outer-name
    """An MLDS extension and the International Edition it depends on (its versionDependentURI is the edition's
    versionURI): listed extension first, the edition is downloaded first, and both switch together."""
    sandbox.mlds_reset()
    username, password = sandbox.mlds_user('affiliate')
    edition_uri = 'http://snomed.info/sct/900000000000207008/version/20260201'

    def package(member, name, version, uri, depends, archive, seed):
        return {'member': member, 'name': name, 'versions': [{
            'name': version, 'releaseType': 'online', 'publishedAt': version, 'versionURI': uri,
            'versionDependentURI': depends, 'files': [{'label': archive, 'primaryFile': True, 'storage': {
                'name': '%s/%s' % (member, archive), 'size': 200_000, 'seed': seed, 'url_style': 's3'}}]}]}

    seeded = sandbox.mlds_seed({'packages': [
        package('IHTSDO', 'Test International Edition', '2026-02-01', edition_uri, None,
                'SnomedCT_InternationalRF2_PRODUCTION_20260201T120000Z.zip', 11),
        package('SE', 'SNOMED CT Swedish Extension', '2026-03-01',
                'http://snomed.info/sct/45991000052106/version/20260301', edition_uri,
                'SnomedCT_ManagedServiceSE_PRODUCTION_SE1000052_20260301T120000Z.zip', 12)]})
    releases = [{'name': 'se', 'source': 'mlds', 'package': 'SNOMED CT Swedish Extension', 'version': '2026-03-01'},
                {'name': 'international', 'source': 'mlds', 'package': 'Test International Edition',
                 'version': '2026-02-01'}]
    variables = {'release_sync_mlds_url': sandbox.mlds_url, 'release_sync_mlds_username': username,
                 'release_sync_mlds_password': password, 'release_sync_fetch_mode': 'host',
                 'release_sync_sets': [{'name': 'se-on-international', 'members': ['international', 'se'],
                                        'rule': 'dependency'}]}
    run = role.run(releases, variables, secrets=(password,))
    downloads = [entry['path'] for entry in archive_downloads(sandbox, 'mlds_download')]
    assert len(downloads) == 2 * len(HOSTS), downloads
    for host in HOSTS:
        assert os.readlink(role.root(host) / 'se' / 'current') == '2026-03-01'
        assert os.readlink(role.root(host) / 'international' / 'current') == '2026-02-01'
        assert set_result(run, host)['se-on-international']['switched'] is True
    # Each host downloads the edition before the extension (forks interleave hosts, never a host's own order).
    log = [entry for entry in sandbox.log() if entry['kind'] == 'mlds_download' and entry['method'] == 'GET']
    extension = '/releasePackages/%s/' % seeded['packages'][1]['releasePackageId']
    first_extension = min(index for index, entry in enumerate(log) if extension in entry['path'])
    assert first_extension >= len(HOSTS), [entry['path'] for entry in log]
