# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""inspect(), the verified record beside a file, and Target: a no-op run reads no archive byte."""

from __future__ import annotations

import hashlib
import json
import os
import stat

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _download
from ansible_collections.terminology.releases.plugins.module_utils._download import (
    RECORD_VERSION,
    DownloadError,
    Target,
    inspect,
    read_record,
    record_path,
    write_record,
)

DATA = b'release archive bytes\n' * 1000
DIGESTS = {'sha256': hashlib.sha256(DATA).hexdigest(), 'sha1': hashlib.sha1(DATA).hexdigest()}
NAME = 'uk_sct2cl_33.0.0_20220511000001Z.zip'


def target(data=DATA, **digests):
    digests = digests or {'sha256': hashlib.sha256(data).hexdigest().upper()}
    return Target(NAME, len(data), identity={'item': 101, 'release_id': NAME}, **digests)


@pytest.fixture
def dest(tmp_path):
    path = str(tmp_path / NAME)
    with open(path, 'wb') as handle:
        handle.write(DATA)
    return path


@pytest.fixture
def no_hashing(monkeypatch):
    """Fail the test if the archive is read: hash_file is the only reader of archive bytes."""
    def refuse(path, algorithms):
        raise AssertionError('hash_file(%s) was called' % path)
    monkeypatch.setattr(_download, 'hash_file', refuse)


def set_mtime_ns(path, mtime_ns):
    os.utime(path, ns=(mtime_ns, mtime_ns))


# ---- Target ------------------------------------------------------------------------------------

def test_target_lowers_digests_and_drops_empty_ones():
    assert Target('a', 1, sha256='AB' * 32, sha1='', md5=None).digests == {'sha256': 'ab' * 32}


def test_target_tag_prefers_sha256():
    assert Target('a', 5, sha256='AB' * 32, sha1='cd' * 20).tag() == 'ab' * 8


def test_target_tag_without_sha256():
    assert Target('a', 5, sha1='CD' * 20).tag() == '5-' + 'cd' * 8
    assert Target('a', 5).tag() == '5'


def test_target_mismatches_name_every_difference():
    problems = target().mismatches(len(DATA) + 1, {'sha256': '00' * 32})
    assert problems == ['size %d bytes, expected %d' % (len(DATA) + 1, len(DATA)),
                        'SHA256 %s, expected %s' % ('00' * 32, DIGESTS['sha256'])]


def test_target_matches_its_own_bytes():
    assert target().mismatches(len(DATA), DIGESTS) == []


# ---- inspect -----------------------------------------------------------------------------------

def test_absent(tmp_path):
    assert inspect(str(tmp_path / 'missing.zip'), target(), ['sha256'])[:3] == ('absent', {}, 0)


def test_matching_file_without_a_record_is_hashed(dest):
    state, digests, read, _record = inspect(dest, target(), ['sha256', 'sha1'])
    assert state == 'matches'
    assert digests == DIGESTS
    assert read == len(DATA)


def test_different_file_differs(dest):
    state, digests, read, _record = inspect(dest, target(b'another release'), ['sha256'])
    assert state == 'differs'
    assert digests['sha256'] == DIGESTS['sha256']
    assert read == len(DATA)


def test_same_size_other_bytes_differs(dest):
    other = DATA[:-1] + b'?'
    assert inspect(dest, target(other), ['sha256'])[0] == 'differs'


def test_record_vouches_without_reading_the_file(dest, no_hashing):
    write_record(dest, target(), DIGESTS)
    state, digests, read, _record = inspect(dest, target(), ['sha256', 'sha1'])
    assert (state, digests, read) == ('verified', DIGESTS, 0)


def test_rehash_reads_the_file_despite_the_record(dest):
    write_record(dest, target(), DIGESTS)
    assert inspect(dest, target(), ['sha256'], rehash=True)[:3] == ('matches', {'sha256': DIGESTS['sha256']}, len(DATA))


def test_rehash_finds_bytes_changed_behind_the_records_back(dest):
    before = os.stat(dest)
    write_record(dest, target(), DIGESTS)
    with open(dest, 'r+b') as handle:
        handle.write(b'X')
    set_mtime_ns(dest, before.st_mtime_ns)
    assert inspect(dest, target(), ['sha256'])[0] == 'verified'
    assert inspect(dest, target(), ['sha256'], rehash=True)[0] == 'differs'


def test_record_is_invalidated_by_a_new_mtime(dest):
    write_record(dest, target(), DIGESTS)
    set_mtime_ns(dest, os.stat(dest).st_mtime_ns + 1000000000)
    state, _digests, read, _record = inspect(dest, target(), ['sha256'])
    assert (state, read) == ('matches', len(DATA))


def test_record_is_invalidated_by_a_new_size(dest):
    mtime = os.stat(dest).st_mtime_ns
    write_record(dest, target(), DIGESTS)
    with open(dest, 'ab') as handle:
        handle.write(b'more')
    set_mtime_ns(dest, mtime)
    state, _digests, read, _record = inspect(dest, target(), ['sha256'])
    assert (state, read) == ('differs', len(DATA) + 4)


def test_record_is_invalidated_by_a_replaced_file(dest):
    write_record(dest, target(), DIGESTS)
    stat_before = os.stat(dest)
    replacement = dest + '.new'
    with open(replacement, 'wb') as handle:
        handle.write(DATA)
    os.utime(replacement, ns=(stat_before.st_atime_ns, stat_before.st_mtime_ns))
    os.replace(replacement, dest)
    assert os.stat(dest).st_ino != stat_before.st_ino
    assert inspect(dest, target(), ['sha256'])[2] == len(DATA)


def test_record_for_another_release_does_not_vouch(dest):
    write_record(dest, target(), DIGESTS)
    reissued = Target(NAME, len(DATA), sha256='ab' * 32)
    state, _digests, read, _record = inspect(dest, reissued, ['sha256'])
    assert (state, read) == ('differs', len(DATA))


def test_record_without_a_digest_the_target_now_knows_does_not_vouch(dest):
    write_record(dest, target(), {'sha256': DIGESTS['sha256']})
    state, digests, read, _record = inspect(dest, target(sha256=DIGESTS['sha256'], sha1=DIGESTS['sha1']), ['sha256', 'sha1'])
    assert (state, digests, read) == ('matches', DIGESTS, len(DATA))


def test_corrupt_record_is_ignored(dest):
    with open(record_path(dest), 'w', encoding='utf-8') as handle:
        handle.write('{"version": 1, "size": ')
    assert read_record(dest) is None
    assert inspect(dest, target(), ['sha256'])[0] == 'matches'


def test_record_of_another_version_is_ignored(dest):
    write_record(dest, target(), DIGESTS, extra={'version': RECORD_VERSION + 1})
    assert read_record(dest) is None


def test_directory_at_the_destination_is_refused(tmp_path):
    path = tmp_path / NAME
    path.mkdir()
    with pytest.raises(DownloadError, match='exists and is not a regular file'):
        inspect(str(path), target(), ['sha256'])


def test_symlink_at_the_destination_is_refused(tmp_path, dest):
    link = str(tmp_path / 'link.zip')
    os.symlink(dest, link)
    with pytest.raises(DownloadError, match='exists and is not a regular file'):
        inspect(link, target(), ['sha256'])


def test_dangling_symlink_at_the_destination_is_refused(tmp_path):
    link = str(tmp_path / 'dangling.zip')
    os.symlink(str(tmp_path / 'nowhere'), link)
    with pytest.raises(DownloadError, match='exists and is not a regular file'):
        inspect(link, target(), ['sha256'])


# ---- the record file ---------------------------------------------------------------------------

def test_record_sits_beside_the_file_as_a_dot_file(dest):
    assert record_path(dest) == os.path.join(os.path.dirname(dest), '.%s.verified.json' % NAME)


def test_record_describes_the_file_and_what_was_verified(dest):
    record = write_record(dest, target(), DIGESTS, extra={'signature': {'fingerprint': 'F' * 40}})
    on_disk = read_record(dest)
    assert on_disk == record
    info = os.stat(dest)
    assert (on_disk['size'], on_disk['mtime_ns'], on_disk['inode']) == (info.st_size, info.st_mtime_ns, info.st_ino)
    assert on_disk['digests'] == DIGESTS
    assert on_disk['identity'] == {'item': 101, 'release_id': NAME}
    assert on_disk['signature'] == {'fingerprint': 'F' * 40}
    assert on_disk['name'] == NAME


def test_record_is_written_atomically_and_readable(dest):
    write_record(dest, target(), DIGESTS)
    directory = os.path.dirname(dest)
    assert sorted(os.listdir(directory)) == sorted([NAME, os.path.basename(record_path(dest))])
    assert stat.S_IMODE(os.stat(record_path(dest)).st_mode) == 0o644
    with open(record_path(dest), 'r', encoding='utf-8') as handle:
        assert json.load(handle)['version'] == RECORD_VERSION
