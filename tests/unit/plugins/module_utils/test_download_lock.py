# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""directory_lock serialises runs across processes and leaves nothing behind."""

from __future__ import annotations

import os
import time

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _unpack
from ansible_collections.terminology.releases.plugins.module_utils._download import DownloadError, directory_lock
from ansible_collections.terminology.releases.plugins.module_utils._unpack import UnpackError


def take_lock(directory, timeout):
    """What a second run does: wait for the lock, report how long that took."""
    def run():
        started = time.monotonic()
        with directory_lock(directory, timeout=timeout, poll=0.02):
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
            with directory_lock(directory, timeout=1, poll=0.05):
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


def test_lock_leaves_no_file_behind(tmp_path):
    with directory_lock(str(tmp_path)):
        pass
    assert os.listdir(str(tmp_path)) == []


def test_lock_on_a_missing_directory_fails(tmp_path):
    with pytest.raises(OSError):
        with directory_lock(str(tmp_path / 'missing')):
            pass
