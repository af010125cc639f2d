# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""ParallelHashers: the same digests as hashing in line, and in step with what was fed once closed."""

from __future__ import annotations

import hashlib
import random
import threading

from ansible_collections.terminology.releases.plugins.module_utils._hashing import ParallelHashers

BLOCKS = [random.Random(seed).randbytes(size) for seed, size in enumerate((1 << 20, 3, 0, 65537, 1 << 20, 12345))]


def test_digests_equal_hashing_in_line():
    hashers = [hashlib.new(name) for name in ('sha256', 'sha1', 'md5')]
    with ParallelHashers(hashers) as parallel:
        for block in BLOCKS:
            parallel.update(block)
    for hasher in hashers:
        assert hasher.hexdigest() == hashlib.new(hasher.name, b''.join(BLOCKS)).hexdigest()


def test_hashing_runs_outside_the_feeding_thread():
    seen = []

    class Recorder:
        def update(self, block):
            seen.append((threading.get_ident(), len(block)))

    with ParallelHashers([Recorder()]) as parallel:
        for block in BLOCKS:
            parallel.update(block)
    assert [size for _thread, size in seen] == [len(block) for block in BLOCKS]
    assert {thread for thread, _size in seen} != {threading.get_ident()}


def test_leaving_on_an_exception_still_hashes_everything_fed():
    hasher = hashlib.sha256()
    try:
        with ParallelHashers([hasher]) as parallel:
            for block in BLOCKS[:3]:
                parallel.update(block)
            raise ValueError('the connection broke')
    except ValueError:
        pass
    assert hasher.hexdigest() == hashlib.sha256(b''.join(BLOCKS[:3])).hexdigest()
