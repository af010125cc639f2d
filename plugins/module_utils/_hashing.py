# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hash a stream or a file once for several algorithms, each hasher in its own thread.

hashlib releases the GIL while it hashes a block larger than 2 KiB, so on two or more cores the digests are
computed beside the reads and writes that produce the blocks instead of after them: one pass over a 1 GiB
archive costs about the time of its slowest part rather than the sum of all of them.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import hashlib
import queue
import threading

# Bytes read at a time from a file or a socket.
CHUNK_SIZE = 1024 * 1024
# Blocks waiting per hasher: enough to ride out a slow moment, small enough to keep memory flat (1 MiB blocks).
QUEUE_DEPTH = 4


class ParallelHashers:
    """update(block) hands a block to every hasher; wait() and close() (or leaving the `with`) return once all
    blocks given so far are hashed, so the hashers are then in step with what was fed. A block must not change
    until then: a caller that reuses a buffer calls wait() before it hands over the next one (double buffering)."""

    def __init__(self, hashers):
        self._queues = []
        self._threads = []
        for hasher in hashers:
            blocks = queue.Queue(QUEUE_DEPTH)
            thread = threading.Thread(target=_consume, args=(hasher.update, blocks), daemon=True)
            thread.start()
            self._queues.append(blocks)
            self._threads.append(thread)

    def update(self, block):
        for blocks in self._queues:
            blocks.put(block)

    def wait(self):
        for blocks in self._queues:
            blocks.join()

    def close(self):
        for blocks in self._queues:
            blocks.put(None)
        for thread in self._threads:
            thread.join()
        self._queues, self._threads = [], []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _consume(update, blocks):
    while True:
        block = blocks.get()
        try:
            if block is None:
                return
            update(block)
        finally:
            blocks.task_done()


def hash_file(path, algorithms, chunk_size=CHUNK_SIZE):
    """(size, {algorithm: hex digest}) of a file, read once with the digests computed beside the reads."""
    hashers = dict((algorithm, hashlib.new(algorithm)) for algorithm in algorithms)
    size = 0
    with open(path, 'rb') as handle, ParallelHashers(hashers.values()) as parallel:
        for block in iter(lambda: handle.read(chunk_size), b''):
            size += len(block)
            parallel.update(block)
    return size, dict((algorithm, hasher.hexdigest()) for algorithm, hasher in hashers.items())
