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
