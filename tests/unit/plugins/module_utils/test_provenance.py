# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The provenance record (_provenance): written atomically and only when it differs, read back exactly, refused
when it is not a record or would carry a credential, and checked against the archive (sizes always, SHA-256 only
when asked, reading no archive byte otherwise)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

import pytest
import yaml

from ansible_collections.terminology.releases.plugins.module_utils import _hashing, _provenance
from ansible_collections.terminology.releases.plugins.module_utils._provenance import ProvenanceError

ARCHIVE = 'uk_sct2cl_41.2.0_20260304000001Z.zip'


def make_release(directory, data=b'PK\x05\x06' + b'\0' * 18 + b'release bytes' * 100, **changes):
    """A release directory with an archive and the record that describes it; returns (record path, record)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ARCHIVE).write_bytes(data)
    record = {
        'version': 1, 'collection_version': '1.0.0', 'name': 'clinical', 'set': 'uk-edition',
        'source': {'kind': 'trud', 'item': 101, 'release_id': ARCHIVE},
        'release_id': ARCHIVE, 'release_date': '2026-03-04',
        'archive': {'name': ARCHIVE, 'size': len(data), 'sha256': hashlib.sha256(data).hexdigest(),
                    'sha1': hashlib.sha1(data).hexdigest(), 'md5': None},
        'signature': {'fingerprint': 'A' * 40, 'signed_at': '2026-03-04T00:00:00Z'},
        'verified': ['size', 'sha256', 'signature'], 'verified_at': '2026-03-05T06:00:00Z', 'unpacked': False,
    }
    record.update(changes)
    path = _provenance.record_path(str(directory))
    _provenance.write(path, record)
    return path, record


def test_write_then_read_gives_the_record_back_sorted_with_mode_0644(tmp_path):
    path, record = make_release(tmp_path / 'rel')
    assert _provenance.read(path) == record
    text = open(path, encoding='utf-8').read()
    assert list(json.loads(text)) == sorted(record) and text.endswith('\n')
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert sorted(os.listdir(tmp_path / 'rel')) == sorted([ARCHIVE, 'provenance.json'])  # no temporary file left


def test_write_changes_nothing_when_the_record_is_the_same(tmp_path):
    path, record = make_release(tmp_path / 'rel')
    inode, mtime = os.stat(path).st_ino, os.stat(path).st_mtime_ns
    assert _provenance.write(path, record) is False
    assert (os.stat(path).st_ino, os.stat(path).st_mtime_ns) == (inode, mtime)
    changed = dict(record, verified_at='2026-03-06T06:00:00Z')
    assert _provenance.write(path, changed, write_file=False) is True
    assert _provenance.read(path) == record, 'write_file=False (check mode) must not write'
    assert _provenance.write(path, changed) is True
    assert os.stat(path).st_ino != inode, 'the record is replaced by rename, not rewritten in place'
    assert _provenance.read(path)['verified_at'] == '2026-03-06T06:00:00Z'


@pytest.mark.parametrize('feed', [
    'https://user:secret@feeds.example.org/syndication.xml',
    'https://feeds.example.org/syndication.xml?api_key=abc',
    'https://feeds.example.org/feed.xml?X-Amz-Signature=abc&x=1',
    'https://feeds.example.org/feed.xml?token=abc',
])
def test_a_feed_url_with_a_credential_is_never_written(tmp_path, feed):
    source = {'kind': 'feed', 'feed': feed, 'entry_id': 'urn:uuid:1', 'identifier': 'x', 'version': '1'}
    with pytest.raises(ProvenanceError, match='feed URL cannot be recorded') as raised:
        make_release(tmp_path / 'rel', source=source)
    assert 'abc' not in str(raised.value) and 'secret' not in str(raised.value), 'the refusal must not repeat it'
    assert not (tmp_path / 'rel' / 'provenance.json').exists()


def test_a_plain_feed_url_is_recorded(tmp_path):
    source = {'kind': 'feed', 'feed': 'https://feeds.example.org/syndication.xml?page=2', 'entry_id': 'urn:uuid:1',
              'identifier': 'http://snomed.info/sct/83821000000107', 'version': '41.2.0'}
    path, record = make_release(tmp_path / 'rel', source=source)
    assert _provenance.read(path)['source'] == source


ROLE_VARS = Path(__file__).resolve().parents[4] / 'roles' / 'release_sync' / 'vars' / 'main.yml'


@pytest.mark.parametrize('feed', [
    'https://user:secret@feeds.example.org/syndication.xml',
    'https://user@feeds.example.org/syndication.xml',
    'https://feeds.example.org/syndication.xml?api_key=abc',
    'https://feeds.example.org/feed.xml?X-Amz-Signature=abc&x=1',
    'https://feeds.example.org/feed.xml?page=1;Token=abc',
    'https://feeds.example.org/syndication.xml?page=2',
    'https://feeds.example.org/key/feed.xml',
    'https://feeds.example.org/feed.xml#token=abc',
    'http://127.0.0.1:8080/syndication/feed.xml',
])
def test_the_role_refuses_exactly_the_feed_urls_a_record_refuses(feed):
    """release_sync refuses a feed URL before any run (tasks/validate.yml) with its own copy of url_problem's
    patterns, since a role cannot call module_utils: the copy must refuse the same URLs."""
    role_vars = yaml.safe_load(ROLE_VARS.read_text(encoding='utf-8'))
    refused = bool(re.match(role_vars['__release_sync_url_userinfo'], feed)
                   or re.search(role_vars['__release_sync_url_secret_query'], feed))
    assert refused is (_provenance.url_problem(feed) is not None)


@pytest.mark.parametrize('change, message', [
    ({'version': 2}, 'its version is 2, not 1'),
    ({'name': ''}, 'it has no name'),
    ({'source': {'kind': 'ftp'}}, 'its source kind is not one of trud, mlds, feed'),
    ({'archive': {'name': '../x.zip', 'size': 1, 'sha256': '0' * 64}}, 'its archive name is not a plain file name'),
    ({'archive': {'name': 'x.zip', 'size': '1', 'sha256': '0' * 64}}, 'its archive size is not a number of bytes'),
    ({'archive': {'name': 'x.zip', 'size': 1, 'sha256': 'A' * 64}}, 'its archive SHA-256 is not 64 lower-case'),
])
def test_a_record_of_another_shape_is_refused_on_write_and_on_read(tmp_path, change, message):
    with pytest.raises(ProvenanceError, match='Refusing to write .*' + message):
        make_release(tmp_path / 'rel', **change)
    path, record = make_release(tmp_path / 'other')
    with open(path, 'w', encoding='utf-8') as handle:
        json.dump(dict(record, **change), handle)
    with pytest.raises(ProvenanceError, match='is not a provenance record: ' + message):
        _provenance.read(path)


def test_read_says_why_a_record_cannot_be_read(tmp_path):
    with pytest.raises(ProvenanceError, match='There is no provenance record'):
        _provenance.read(str(tmp_path / 'provenance.json'))
    (tmp_path / 'provenance.json').write_text('{"version": 1,')
    with pytest.raises(ProvenanceError, match='is not JSON'):
        _provenance.read(str(tmp_path / 'provenance.json'))
    (tmp_path / 'provenance.json').write_text('[]')
    with pytest.raises(ProvenanceError, match='it is not a JSON object'):
        _provenance.read(str(tmp_path / 'provenance.json'))


def test_check_finds_nothing_wrong_with_an_intact_release(tmp_path):
    _path, record = make_release(tmp_path / 'rel')
    assert _provenance.check(str(tmp_path / 'rel'), record) == []
    assert _provenance.check(str(tmp_path / 'rel'), record, rehash=True) == []


def test_check_finds_a_missing_archive_and_a_directory_in_its_place(tmp_path):
    _path, record = make_release(tmp_path / 'rel')
    archive = tmp_path / 'rel' / ARCHIVE
    archive.unlink()
    assert [item['kind'] for item in _provenance.check(str(tmp_path / 'rel'), record)] == ['missing']
    archive.mkdir()
    (problem,) = _provenance.check(str(tmp_path / 'rel'), record)
    assert problem == {'kind': 'not a file', 'path': str(archive),
                       'message': 'The archive %s is not a regular file.' % archive}


def test_check_compares_sizes_always_and_reads_no_byte_without_rehash(tmp_path, monkeypatch):
    _path, record = make_release(tmp_path / 'rel')
    archive = tmp_path / 'rel' / ARCHIVE
    with open(archive, 'ab') as handle:
        handle.write(b'appended')
    (problem,) = _provenance.check(str(tmp_path / 'rel'), record)
    assert problem['kind'] == 'size'
    assert problem['message'] == 'The archive %s has %d bytes; its provenance record says %d.' % (
        archive, record['archive']['size'] + 8, record['archive']['size'])

    # Same size, other bytes: only a rehash sees it, and only a rehash reads the archive.
    data = archive.read_bytes()[:record['archive']['size']]
    archive.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    read = []
    real = _hashing.hash_file
    monkeypatch.setattr(_hashing, 'hash_file', lambda path, algorithms: read.append(path) or real(path, algorithms))
    assert _provenance.check(str(tmp_path / 'rel'), record) == []
    assert read == []
    (problem,) = _provenance.check(str(tmp_path / 'rel'), record, rehash=True)
    assert read == [str(archive)]
    assert problem['kind'] == 'sha256'
    assert problem['message'] == 'The archive %s has the SHA-256 %s; its provenance record says %s.' % (
        archive, hashlib.sha256(archive.read_bytes()).hexdigest(), record['archive']['sha256'])
