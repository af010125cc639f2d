# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The file-system steps every writer shares (_fs): atomic writes and installs, the directory lock (it serialises
runs across processes, leaves nothing behind and raises the caller's error class), free space, and the plain file
name check."""

from __future__ import annotations

import errno
import os
import stat
import time

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _download, _fs, _unpack
from ansible_collections.terminology.releases.plugins.module_utils._download import DownloadError
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError, ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._fs import directory_lock
from ansible_collections.terminology.releases.plugins.module_utils._unpack import UnpackError


# ---- the directory lock --------------------------------------------------------------------------


def take_lock(directory, timeout):
    """What a second run does: wait for the lock, report how long that took."""
    def run():
        started = time.monotonic()
        with directory_lock(directory, timeout=timeout, poll=0.02, error=DownloadError):
            return round(time.monotonic() - started, 3)
    return run


def test_second_process_cannot_take_a_held_lock(tmp_path, fork_child):
    directory = str(tmp_path)
    with directory_lock(directory):
        outcome = fork_child(take_lock(directory, timeout=0.3)).result()
    assert outcome['raised'] == 'DownloadError'
    assert outcome['message'].startswith('Another run has held the lock on %s for more than ' % directory)


def test_second_process_gets_the_lock_after_release(tmp_path, fork_child):
    directory = str(tmp_path)
    with directory_lock(directory):
        child = fork_child(take_lock(directory, timeout=10))
        time.sleep(0.3)
    waited = child.result()['returned']
    assert 0.2 <= waited < 5


def test_free_lock_is_taken_at_once(tmp_path, fork_child):
    assert fork_child(take_lock(str(tmp_path), timeout=0)).result()['returned'] < 0.5


def test_lock_is_released_when_the_body_fails(tmp_path, fork_child):
    directory = str(tmp_path)
    with pytest.raises(RuntimeError):
        with directory_lock(directory):
            raise RuntimeError('the download failed')
    assert 'returned' in fork_child(take_lock(directory, timeout=0)).result()


def test_lock_held_by_a_process_that_died_is_free(tmp_path, fork_child):
    directory = str(tmp_path)

    def die_holding_the_lock():
        with directory_lock(directory):
            os.kill(os.getpid(), 9)

    with pytest.raises(AssertionError, match='died without a result'):
        fork_child(die_holding_the_lock).result()
    assert 'returned' in fork_child(take_lock(directory, timeout=2)).result()


def test_timeout_message_names_the_directory_and_seconds(tmp_path):
    directory = str(tmp_path)
    with directory_lock(directory):
        started = time.monotonic()
        with pytest.raises(DownloadError) as caught:
            # A second descriptor in this process conflicts too: flock locks belong to the open file.
            with directory_lock(directory, timeout=1, poll=0.05, error=DownloadError):
                pass
        assert time.monotonic() - started >= 1
    assert str(caught.value) == 'Another run has held the lock on %s for more than 1 seconds.' % directory


def test_release_unpack_shares_the_lock_and_fails_with_its_own_error(tmp_path):
    directory = str(tmp_path)
    with directory_lock(directory):
        with pytest.raises(UnpackError) as caught:
            with _unpack.directory_lock(directory, timeout=0.2):
                pass
    assert str(caught.value) == 'Another run has held the lock on %s for more than 0.2 seconds.' % directory


def test_release_fetch_shares_the_lock_and_fails_with_its_own_error(tmp_path):
    directory = str(tmp_path)
    with directory_lock(directory):
        with pytest.raises(DownloadError) as caught:
            with _download.directory_lock(directory, timeout=0.2):
                pass
    assert str(caught.value) == 'Another run has held the lock on %s for more than 0.2 seconds.' % directory


def test_lock_fails_with_releases_error_unless_told(tmp_path):
    directory = str(tmp_path)
    with directory_lock(directory):
        with pytest.raises(ReleasesError) as caught:
            with directory_lock(directory, timeout=0):
                pass
    assert not isinstance(caught.value, (DownloadError, UnpackError))  # the default class, no subclass


def test_lock_leaves_no_file_behind(tmp_path):
    with directory_lock(str(tmp_path)):
        pass
    assert os.listdir(str(tmp_path)) == []


def test_lock_on_a_missing_directory_fails(tmp_path):
    with pytest.raises(OSError):
        with directory_lock(str(tmp_path / 'missing')):
            pass


# ---- writes and installs -------------------------------------------------------------------------

def test_write_all_loops_over_partial_writes(tmp_path, monkeypatch):
    real_write = os.write
    sizes = []

    def short_write(fd, data):
        sizes.append(len(data))
        return real_write(fd, bytes(data[:3]))  # a write may take only part

    monkeypatch.setattr(os, 'write', short_write)
    fd = os.open(str(tmp_path / 'f'), os.O_WRONLY | os.O_CREAT)
    try:
        _fs.write_all(fd, b'0123456789')
    finally:
        os.close(fd)
    assert (tmp_path / 'f').read_bytes() == b'0123456789'
    assert sizes == [10, 7, 4, 1]


def test_default_file_mode_follows_the_umask():
    previous = os.umask(0o027)
    try:
        assert _fs.default_file_mode() == 0o640
        assert os.umask(0o027) == 0o027  # asking did not change it
    finally:
        os.umask(previous)


def test_atomic_write_replaces_the_whole_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / 'record.json'
    path.write_bytes(b'a much longer previous content that must not survive in part')
    _fs.atomic_write(str(path), b'new')
    assert path.read_bytes() == b'new'
    assert os.listdir(str(tmp_path)) == ['record.json']
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == _fs.default_file_mode()


def test_atomic_write_sets_the_mode_asked_for(tmp_path):
    path = tmp_path / 'f'
    _fs.atomic_write(str(path), b'x', mode=0o600)
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o600


def test_a_failed_atomic_write_keeps_the_old_file_and_removes_its_temp_file(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'old')
    with pytest.raises(TypeError):
        _fs.atomic_write(str(path), 'text is not bytes')
    assert path.read_bytes() == b'old'
    assert os.listdir(str(tmp_path)) == ['f']


def test_atomic_write_does_not_follow_a_symlink_at_its_temp_name(tmp_path):
    target = tmp_path / 'elsewhere'
    target.write_bytes(b'untouched')
    path = tmp_path / 'f'
    os.symlink(str(target), '%s.%d.tmp' % (path, os.getpid()))
    with pytest.raises(OSError) as caught:
        _fs.atomic_write(str(path), b'new')
    assert caught.value.errno == errno.ELOOP
    assert target.read_bytes() == b'untouched'


def test_write_if_different_does_not_write_equal_content(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'same')
    before = os.stat(str(path))
    assert _fs.write_if_different(str(path), b'same') is False
    after = os.stat(str(path))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not even rewritten in place


@pytest.mark.parametrize('current', [b'other', b'sam', b'same plus more', None])
def test_write_if_different_writes_other_content(tmp_path, current):
    path = tmp_path / 'f'
    if current is not None:
        path.write_bytes(current)
    assert _fs.write_if_different(str(path), b'same') is True
    assert path.read_bytes() == b'same'


def test_write_if_different_without_write_only_tells(tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'old')
    assert _fs.write_if_different(str(path), b'new', write=False) is True
    assert path.read_bytes() == b'old'
    assert _fs.write_if_different(str(tmp_path / 'missing'), b'new', write=False) is True
    assert not (tmp_path / 'missing').exists()


def test_install_moves_a_file_into_place_with_its_mode(tmp_path):
    source = tmp_path / 'part'
    source.write_bytes(b'new')
    dest = tmp_path / 'final'
    dest.write_bytes(b'old')
    _fs.install(str(source), str(dest), 0o640)
    assert dest.read_bytes() == b'new'
    assert not source.exists()
    assert stat.S_IMODE(os.stat(str(dest)).st_mode) == 0o640


def test_install_moves_a_tree_and_keeps_the_mode_when_none_is_given(tmp_path):
    tree = tmp_path / 'unpacking'
    tree.mkdir()
    (tree / 'a.txt').write_bytes(b'a')
    os.chmod(str(tree), 0o751)
    _fs.install(str(tree), str(tmp_path / 'release'))
    assert (tmp_path / 'release' / 'a.txt').read_bytes() == b'a'
    assert stat.S_IMODE(os.stat(str(tmp_path / 'release')).st_mode) == 0o751
    assert not tree.exists()


# ---- free space ----------------------------------------------------------------------------------

def test_free_bytes_is_what_an_unprivileged_writer_may_use(tmp_path):
    info = os.statvfs(str(tmp_path))
    free = _fs.free_bytes(str(tmp_path))
    assert isinstance(free, int) and free > 0
    # Other writers on the machine change it between the two calls, but not by much.
    assert abs(free - info.f_bavail * info.f_frsize) < 1024 ** 3


def test_free_bytes_is_none_when_statvfs_cannot_tell(tmp_path):
    assert _fs.free_bytes(str(tmp_path / 'missing')) is None


# ---- plain file names ----------------------------------------------------------------------------

@pytest.mark.parametrize('name, problem', [
    (None, 'it is not text'),
    (b'x.zip', 'it is not text'),
    ('', 'it is empty'),
    ('  ', 'it is empty'),
    ('a/b.zip', 'it has path separators'),
    ('../b.zip', 'it has path separators'),
    ('a\\b.zip', 'it has path separators'),
    ('.', 'it has path separators'),
    ('..', 'it has path separators'),
    ('.hidden', 'it starts with a dot'),
    ('x\n.zip', 'it has control characters'),
    ('x\x7f.zip', 'it has control characters'),
    ('\u00e9' * 128, 'it is over 255 bytes'),  # 128 characters, 256 bytes in UTF-8
])
def test_plain_file_name_problem_names_each_refusal(name, problem):
    assert _fs.plain_file_name_problem(name) == problem
    assert _fs.plain_file_name_problem(name, strip=True) == problem


def test_surrounding_spaces_are_refused_only_when_asked():
    assert _fs.plain_file_name_problem(' x.zip ') is None
    assert _fs.plain_file_name_problem(' x.zip', strip=True) == 'it has surrounding spaces'
    assert _fs.plain_file_name_problem('x.zip ', strip=True) == 'it has surrounding spaces'


@pytest.mark.parametrize('name', ['x.zip', 'RF2 zip (final).zip', 'a..b', '\u00e9' * 127, 'x' * 255])
def test_plain_file_names_pass(name):
    assert _fs.plain_file_name_problem(name, strip=True) is None
    assert _fs.safe_file_name(name, 'name') == name


def test_safe_file_name_refuses_with_the_source_the_problem_and_the_hint():
    with pytest.raises(ReleasesError) as caught:
        _fs.safe_file_name('../x.zip', 'archive file name from TRUD')
    assert str(caught.value) == ("Refusing the archive file name from TRUD '../x.zip' as a file name: it is not a "
                                 "plain file name (it has path separators).")
    with pytest.raises(InputError) as caught:
        _fs.safe_file_name(' x.zip', 'label of file 7', InputError, strip=True, hint='Set file_name.')
    assert str(caught.value) == ("Refusing the label of file 7 ' x.zip' as a file name: it is not a plain file name "
                                 "(it has surrounding spaces). Set file_name.")


# ---- required directories ------------------------------------------------------------------------

def test_require_directory_returns_an_existing_directory(tmp_path):
    assert _fs.require_directory(str(tmp_path), 'dest') == str(tmp_path)


def test_require_directory_says_when_the_path_is_a_file(tmp_path):
    path = tmp_path / 'archive.zip'
    path.write_bytes(b'')
    with pytest.raises(InputError) as caught:
        _fs.require_directory(str(path), 'dest', InputError, purpose='the file')
    assert str(caught.value) == ('dest %s is not an existing directory: it is a file. dest names the directory to put '
                                 'the file in; the file name itself comes from the release.' % path)


def test_require_directory_says_when_the_path_does_not_exist(tmp_path):
    path = tmp_path / 'missing'
    with pytest.raises(ReleasesError) as caught:
        _fs.require_directory(str(path), 'dest')
    assert str(caught.value) == ('dest %s is not an existing directory: it does not exist. Create it first, for '
                                 'example with ansible.builtin.file and state: directory.' % path)


def test_require_directory_refuses_a_dangling_symlink_as_a_file(tmp_path):
    link = tmp_path / 'link'
    os.symlink(str(tmp_path / 'gone'), str(link))
    with pytest.raises(ReleasesError, match='it is a file. dest names the directory to put the archive in'):
        _fs.require_directory(str(link), 'dest')
