# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The hand-off to a loader's watch folder (_handoff): Snowstorm's date in a file name, placing by hard link or by a
checked copy under a hidden name (never the destination's name in part), knowing a placed file by its metadata only,
and removing only what was placed."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _fs, _handoff
from ansible_collections.terminology.releases.plugins.module_utils._handoff import HandoffError

DATA = os.urandom(300_000)
SHA256 = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def archive(tmp_path):
    path = tmp_path / 'releases' / 'uk_sct2cl_40.4.0_20251001000001Z.zip'
    path.parent.mkdir()
    path.write_bytes(DATA)
    return str(path)


@pytest.fixture
def folder(tmp_path):
    path = tmp_path / 'import' / 'SNOMEDCT-UK'
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize('name, date', [
    ('uk_sct2cl_40.4.0_20251001000001Z.zip', '20251001'),
    ('SnomedCT_InternationalRF2_PRODUCTION_20250701T120000Z.zip', '20250701'),
    ('nhsbsa_dmd_11.2.0_20251110000001.zip', '20251110'),
    ('20250101.zip', '20250101'),
    ('item25_1.0.0_release.zip', None),  # Snowstorm would fail on "release" and block the code system
    ('uk_sct2cl_40.4.0_2025.zip', None),
    ('uk_sct2cl_40.4.0_20251001000001Z.ZIP', None),  # Snowstorm lists .zip only (case-sensitive)
    ('uk_sct2cl_20251001_latest.zip', None),  # only the last part counts
])
def test_snowstorm_reads_the_date_from_the_last_part_of_the_name(name, date):
    assert _handoff.snowstorm_date(name) == date


def test_temporary_names_are_hidden_and_never_end_in_the_name():
    temp = _handoff.temp_path('/w/SNOMEDCT/x_20250101.zip')
    assert os.path.basename(temp).startswith('.') and not temp.endswith('.zip')
    assert temp.endswith(_handoff.TEMP_SUFFIX) and os.path.dirname(temp) == '/w/SNOMEDCT'


def test_a_hard_link_on_the_same_filesystem_is_in_place_by_its_inode(archive, folder):
    dest = str(folder / 'x_20251001.zip')
    assert _handoff.place(archive, dest) == 'link'
    assert os.path.samefile(archive, dest) and sorted(os.listdir(folder)) == ['x_20251001.zip']
    assert _handoff.reason(os.stat(archive), dest, os.lstat(dest)) is None
    assert _handoff.method_of(os.stat(archive), os.lstat(dest)) == 'link'


def test_a_copy_is_checked_fsyncd_and_known_by_size_and_mtime(archive, folder, monkeypatch):
    dest = str(folder / 'x_20251001.zip')
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, 'fsync', lambda fd: synced.append(fd) or real_fsync(fd))
    assert _handoff.place(archive, dest, link=False, sha256=SHA256, size=len(DATA)) == 'copy'
    assert synced, 'the copy was not fsynced'
    assert not os.path.samefile(archive, dest)
    with open(dest, 'rb') as handle:
        assert handle.read() == DATA
    assert os.stat(dest).st_mtime_ns == os.stat(archive).st_mtime_ns
    # Known from metadata alone: opening the archive now would fail the test.
    monkeypatch.setattr('builtins.open', lambda *args, **kwargs: pytest.fail('the archive was read'))
    assert _handoff.reason(os.stat(archive), dest, os.lstat(dest)) is None
    assert _handoff.method_of(os.stat(archive), os.lstat(dest)) == 'copy'


@pytest.mark.parametrize('code', [errno.EXDEV, errno.EPERM])
def test_a_link_refused_by_the_filesystem_becomes_a_copy(archive, folder, monkeypatch, code):
    def refuse(*_args):
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(os, 'link', refuse)
    dest = str(folder / 'x_20251001.zip')
    assert _handoff.place(archive, dest, sha256=SHA256) == 'copy'
    assert os.path.getsize(dest) == len(DATA)


def test_a_copy_that_does_not_match_leaves_nothing(archive, folder):
    dest = str(folder / 'x_20251001.zip')
    with pytest.raises(HandoffError, match='not the expected'):
        _handoff.place(archive, dest, link=False, sha256='0' * 64)
    with pytest.raises(HandoffError, match='not the expected 5;'):
        _handoff.place(archive, dest, link=False, size=5)
    assert os.listdir(folder) == []


def test_a_failed_copy_is_never_visible_under_the_name(archive, folder, monkeypatch):
    """While the copy is written, only the hidden name exists; a failure mid-copy removes it."""
    dest = str(folder / 'x_20251001.zip')
    seen = []
    real_write_all = _fs.write_all

    def write_then_fail(fd, data):
        seen.append(sorted(os.listdir(folder)))
        real_write_all(fd, data[:10])
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(_fs, 'write_all', write_then_fail)
    with pytest.raises(HandoffError, match='No room'):
        _handoff.place(archive, dest, link=False)
    assert seen and all(name.startswith('.') and not name.endswith('.zip') for names in seen for name in names), seen
    assert os.listdir(folder) == []


def test_a_new_archive_replaces_another_file_and_leftovers_go(archive, folder):
    dest = folder / 'x_20251001.zip'
    dest.write_bytes(b'an older file')
    leftover = folder / '.x_20251001.zip.999999.handoff'
    leftover.write_bytes(b'part')
    assert _handoff.reason(os.stat(archive), str(dest), os.lstat(str(dest))) == 'other file'
    _handoff.place(archive, str(dest))
    assert sorted(os.listdir(folder)) == ['x_20251001.zip'] and dest.read_bytes() == DATA


def test_a_directory_or_link_at_the_name_is_refused(archive, folder):
    (folder / 'dir.zip').mkdir()
    os.symlink(archive, str(folder / 'link.zip'))
    for name in ('dir.zip', 'link.zip'):
        path = str(folder / name)
        with pytest.raises(HandoffError, match='not a regular file'):
            _handoff.reason(os.stat(archive), path, os.lstat(path))


def test_only_the_placed_file_is_removed(archive, folder):
    placed, other = str(folder / 'a_20251001.zip'), folder / 'b_20251001.zip'
    _handoff.place(archive, placed, link=False)
    other.write_bytes(DATA)  # same bytes, another mtime: not ours
    os.utime(str(other), ns=(1, 1))
    assert _handoff.remove_placed(archive, str(other)) is False and other.exists()
    assert _handoff.remove_placed(archive, placed) is True and not os.path.exists(placed)
    assert _handoff.remove_placed(archive, placed) is False


def test_the_record_round_trips_and_a_foreign_one_is_ignored(tmp_path):
    record = tmp_path / '.handoff.json'
    record.write_bytes(_handoff.record_bytes('/r/a.zip', '/w/S/a.zip', 'link'))
    assert _handoff.read_record(str(record)) == {'version': 1, 'src': '/r/a.zip', 'path': '/w/S/a.zip', 'method': 'link'}
    for text in ('not json', '[]', '{"version": 2, "src": "/a", "path": "/b"}', '{"version": 1, "src": "a", "path": "/b"}'):
        record.write_text(text)
        assert _handoff.read_record(str(record)) is None
    assert _handoff.read_record(str(tmp_path / 'missing')) is None


def test_a_record_matches_only_the_hand_off_it_was_written_for(tmp_path):
    record = tmp_path / '.handoff.json'
    assert _handoff.record_matches(str(record), '/r/a.zip', '/w/S/a.zip', 'link') is False, 'no record'
    record.write_bytes(_handoff.record_bytes('/r/a.zip', '/w/S/a.zip', 'link'))
    assert _handoff.record_matches(str(record), '/r/a.zip', '/w/S/a.zip', 'link') is True
    assert _handoff.record_matches(str(record), '/r/a.zip', '/w/S/a.zip', 'copy') is False
    assert _handoff.record_matches(str(record), '/r/b.zip', '/w/S/a.zip', 'link') is False
    record.write_bytes(_handoff.record_bytes('/r/a.zip', '/w/S/a.zip', 'link') + b' ')
    assert _handoff.record_matches(str(record), '/r/a.zip', '/w/S/a.zip', 'link') is False
