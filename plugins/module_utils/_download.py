# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Streamed single-pass download: hashes while writing, size check, resume, lock, atomic move, verified record.

PRIVATE to this collection: it may change without notice.

Files kept beside a destination file NAME:
  .NAME.<tag>.part       the resumable partial download (mode 0600); tag identifies the expected content,
                         so a partial of other bytes (a re-issued release) is never resumed
  .NAME.verified.json    what was verified and the file's stat identity, so a no-op run reads no archive byte
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import time

from ansible_collections.terminology.releases.plugins.module_utils._hashing import ParallelHashers
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    TlsError,
    TransportError,
    is_retryable_status,
    retry_after_seconds,
    transient_exceptions,
)

CHUNK_SIZE = 1024 * 1024
RECORD_VERSION = 1
# Write errors that mean no room: a full disk, a quota, a file size limit (shared with _unpack).
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DownloadError(Exception):
    """The download could not be completed; the destination is untouched."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status


class DiskFullError(DownloadError):
    """The filesystem refused the bytes (full, quota, file size limit)."""


class VerificationError(DownloadError):
    """The bytes received are not the bytes expected; nothing was installed."""


class Target:
    """What the file must be: its name in the destination directory, size and any known digests (hex)."""

    def __init__(self, name, size, sha256=None, sha1=None, md5=None, identity=None):
        self.name = name
        self.size = size
        self.digests = dict((algorithm, value.lower()) for algorithm, value in
                            (('sha256', sha256), ('sha1', sha1), ('md5', md5)) if value)
        self.identity = identity or {}

    def tag(self):
        if 'sha256' in self.digests:
            return self.digests['sha256'][:16]
        if self.digests:
            return '%s-%s' % (self.size, sorted(self.digests.values())[0][:16])
        return str(self.size)

    def mismatches(self, size, digests):
        """Human-readable differences between what arrived and what was expected."""
        problems = []
        if self.size is not None and size != self.size:
            problems.append('size %d bytes, expected %d' % (size, self.size))
        for algorithm, expected in sorted(self.digests.items()):
            actual = digests.get(algorithm)
            if actual is not None and actual != expected:
                problems.append('%s %s, expected %s' % (algorithm.upper(), actual, expected))
        return problems


def record_path(dest):
    directory, name = os.path.split(dest)
    return os.path.join(directory, '.%s.verified.json' % name)


def partial_path(dest, target):
    directory, name = os.path.split(dest)
    return os.path.join(directory, '.%s.%s.part' % (name, target.tag()))


def _stale_partials(dest, keep):
    """Partials of this file name for other content; a tag never contains a dot, so a.zip.v2's are not a.zip's."""
    directory, name = os.path.split(dest)
    prefix, suffix = '.%s.' % name, '.part'
    return [os.path.join(directory, entry) for entry in os.listdir(directory or '.')
            if entry.startswith(prefix) and entry.endswith(suffix)
            and '.' not in entry[len(prefix):-len(suffix)] and os.path.join(directory, entry) != keep]


@contextlib.contextmanager
def directory_lock(directory, timeout=3600.0, poll=0.2, error=DownloadError):
    """Serialise runs that write into one directory (flock on the directory itself: no lock file is left).

    After `timeout` seconds of waiting, raise `error` (the caller's own error class)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise error('Another run has held the lock on %s for more than %g seconds.'
                                % (directory, timeout)) from None
                time.sleep(poll)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def read_record(dest):
    try:
        with open(record_path(dest), 'r', encoding='utf-8') as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get('version') == RECORD_VERSION else None


def write_record(dest, target, digests, extra=None):
    """Record the file's stat identity with what was verified about it, atomically."""
    stat = os.stat(dest)
    record = {
        'version': RECORD_VERSION,
        'name': target.name,
        'size': stat.st_size,
        'mtime_ns': stat.st_mtime_ns,
        'inode': stat.st_ino,
        'digests': digests,
        'identity': target.identity,
        'verified_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }
    record.update(extra or {})
    path = record_path(dest)
    temp = path + '.tmp'
    with open(temp, 'w', encoding='utf-8') as handle:
        json.dump(record, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temp, 0o644)
    os.replace(temp, path)
    return record


def record_vouches(record, dest, target):
    """True when the record still describes the file (same stat identity) and its digests match the target."""
    if not record:
        return False
    try:
        stat = os.stat(dest)
    except OSError:
        return False
    if (record.get('size'), record.get('mtime_ns'), record.get('inode')) != (stat.st_size, stat.st_mtime_ns, stat.st_ino):
        return False
    if target.size is not None and stat.st_size != target.size:
        return False
    recorded = record.get('digests') or {}
    # Every digest the target knows must have been verified before, and be the same.
    return all(recorded.get(algorithm) == value for algorithm, value in target.digests.items())


def hash_file(path, algorithms):
    hashers = dict((algorithm, hashlib.new(algorithm)) for algorithm in algorithms)
    size = 0
    with open(path, 'rb') as handle, ParallelHashers(hashers.values()) as parallel:
        for block in iter(lambda: handle.read(CHUNK_SIZE), b''):
            size += len(block)
            parallel.update(block)
    return size, dict((algorithm, hasher.hexdigest()) for algorithm, hasher in hashers.items())


def inspect(dest, target, algorithms, rehash=False):
    """The state of an existing destination file, reading it only when the record cannot vouch for it.

    Returns (state, digests, bytes_read) with state 'absent', 'verified' (record current),
    'matches' (re-hashed, matches the target; the record needs writing) or 'differs'.
    """
    if not os.path.lexists(dest):
        return 'absent', {}, 0
    if not os.path.isfile(dest) or os.path.islink(dest):
        raise DownloadError('%s exists and is not a regular file; refusing to replace it.' % dest)
    record = read_record(dest)
    if not rehash and record_vouches(record, dest, target):
        return 'verified', dict(record.get('digests') or {}), 0
    wanted = sorted(set(algorithms) | set(target.digests))
    size, digests = hash_file(dest, wanted)
    state = 'differs' if target.mismatches(size, digests) else 'matches'
    return state, digests, size


class StreamResult:
    def __init__(self):
        self.bytes_transferred = 0
        self.bytes_resumed = 0
        self.attempts = 0
        self.digests = {}
        self.size = 0


def _rehash_prefix(fd, length, hashers):
    """Rebuild hash state over the bytes already in the partial file (hash objects cannot be saved)."""
    os.lseek(fd, 0, os.SEEK_SET)
    remaining = length
    with ParallelHashers(hashers) as parallel:
        while remaining:
            block = os.read(fd, min(CHUNK_SIZE, remaining))
            if not block:
                break
            remaining -= len(block)
            parallel.update(block)
    return length - remaining


def _content_range_start(header):
    # "bytes START-END/TOTAL"
    try:
        return int(header.split()[1].split('-')[0])
    except (AttributeError, IndexError, ValueError):
        return None


class Downloader:
    """Download one URL into a partial file, resuming with Range, retrying transient faults."""

    def __init__(self, http, describe_status=None):
        self.http = http
        self.policy = http.policy
        self.describe_status = describe_status or (lambda status: 'HTTP %s' % status)

    def stream(self, url, partial, size, algorithms):
        result = StreamResult()
        try:
            fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise DownloadError('Cannot write the partial file %s: %s.' % (partial, exc.strerror)) from None
        try:
            self._stream_into(fd, url, partial, size, algorithms, result)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
        return result

    def _start(self, fd, size, algorithms):
        hashers = dict((algorithm, hashlib.new(algorithm)) for algorithm in algorithms)
        have = os.fstat(fd).st_size
        if have > size:
            os.ftruncate(fd, 0)
            have = 0
        have = _rehash_prefix(fd, have, hashers.values()) if have else 0
        os.lseek(fd, have, os.SEEK_SET)
        return hashers, have

    def _restart(self, fd, algorithms):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        return dict((algorithm, hashlib.new(algorithm)) for algorithm in algorithms), 0

    def _stream_into(self, fd, url, partial, size, algorithms, result):
        sized = size is not None
        # Without a known size a partial cannot be trusted (nothing says where it ends): start from byte 0.
        hashers, have = self._start(fd, size, algorithms) if sized else self._restart(fd, algorithms)
        result.bytes_resumed = have
        attempt = 0
        complete = sized and have >= size and size > 0
        while not complete:
            if attempt > self.policy.retries:
                raise DownloadError('Gave up after %d attempts; %s.' % (result.attempts, _kept(have, size, partial)))
            result.attempts += 1
            headers = {'Range': 'bytes=%d-' % have} if sized and have else None
            try:
                response = self.http.open('GET', url, headers=headers, stream=True)
            except TransportError as exc:
                if attempt >= self.policy.retries or isinstance(exc, TlsError):
                    raise
                self.policy.wait(attempt)
                attempt += 1
                continue
            try:
                status = response.status_code
                if status == 206 and _content_range_start(response.headers.get('Content-Range')) != have:
                    # A range other than the one asked for: distrust it and start again from byte 0.
                    hashers, have = self._restart(fd, algorithms)
                    result.bytes_resumed = 0
                    attempt += 1
                    continue
                if status == 200 and have:
                    # The server ignored the Range: the body is the whole file.
                    hashers, have = self._restart(fd, algorithms)
                    result.bytes_resumed = 0
                elif status == 416:
                    hashers, have = self._restart(fd, algorithms)
                    result.bytes_resumed = 0
                    attempt += 1
                    continue
                elif status not in (200, 206):
                    if is_retryable_status(status) and attempt < self.policy.retries:
                        self.policy.wait(attempt, retry_after_seconds(response.headers.get('Retry-After')))
                        attempt += 1
                        continue
                    raise DownloadError('Download failed: %s.' % self.describe_status(status), status=status)
                have = self._copy_body(response, fd, size, have, hashers.values(), result)
            except transient_exceptions() as exc:
                # The connection broke mid-body. Each chunk is written whole before it is hashed, so the
                # hashers are in step with the file: keep both and resume from the file's end (sized only).
                if sized:
                    have = os.fstat(fd).st_size
                    os.lseek(fd, have, os.SEEK_SET)
                else:
                    hashers, have = self._restart(fd, algorithms)
                if attempt >= self.policy.retries:
                    raise DownloadError('The connection kept failing (last: %s); %s.'
                                        % (self.http.describe(exc), _kept(have, size, partial))) from None
                self.policy.wait(attempt)
                attempt += 1
                continue
            finally:
                response.close()
            # Unsized: a body read to its end without error is whole (urllib3 enforces any Content-Length).
            complete = not sized or have >= size
            if not complete:
                # The body ended early without an error: treat it like a dropped connection.
                if attempt >= self.policy.retries:
                    raise DownloadError('The server kept closing the connection early; %s.' % _kept(have, size, partial))
                self.policy.wait(attempt)
                attempt += 1
        result.digests = dict((algorithm, hasher.hexdigest()) for algorithm, hasher in hashers.items())
        result.size = have

    @staticmethod
    def _copy_body(response, fd, size, have, hashers, result):
        raw = response.raw
        # Leaving the `with` (even on an exception) waits for the hashers: they then match the file exactly,
        # since a block is handed to them only once it is written whole.
        with ParallelHashers(hashers) as parallel:
            while True:
                block = raw.read(CHUNK_SIZE, decode_content=False)
                if not block:
                    return have
                if size is not None and have + len(block) > size:
                    raise VerificationError('The server sent more bytes than the %d advertised; the download was '
                                            'discarded.' % size)
                try:
                    write_all(fd, block)
                except OSError as exc:
                    raise _write_error(exc) from None
                parallel.update(block)
                have += len(block)
                result.bytes_transferred += len(block)


def _kept(have, size, partial):
    if size is None:
        return 'the partial download was discarded: without a known size it cannot be resumed'
    if not have:
        return 'no byte of it arrived, so nothing was kept'
    return '%d of %d bytes are kept in %s for the next run to resume' % (have, size, partial)


def write_all(fd, data):
    """os.write until every byte is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_error(exc):
    if exc.errno in DISK_FULL_ERRNOS:
        return DiskFullError('No space left to write the download (%s); the partial file was removed.' % exc.strerror)
    return DownloadError('Cannot write the download: %s.' % exc.strerror)


def _remove(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


def _remove_if_empty(path):
    with contextlib.suppress(OSError):
        if os.path.getsize(path) == 0:
            os.unlink(path)


def install(partial, dest, mode=None):
    """fsync'd partial becomes dest atomically; the directory entry is made durable too."""
    if mode is not None:
        os.chmod(partial, mode)
    os.replace(partial, dest)
    directory = os.path.dirname(dest) or '.'
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def default_file_mode():
    """What a newly created file would get under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def free_bytes(directory):
    """Bytes an unprivileged writer may still use on directory's filesystem; None when statvfs cannot tell (the
    writes themselves will then)."""
    try:
        info = os.statvfs(directory)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize


def _check_free_space(partial, size):
    """Refuse before the first byte when the file cannot fit: an absurd advertised size, or a full disk, fails
    at once with the numbers instead of after a long download (the partial already there counts as written)."""
    try:
        have = os.stat(partial).st_size
    except OSError:
        have = 0
    directory = os.path.dirname(partial) or '.'
    free = free_bytes(directory)
    if free is not None and size - have > free:
        raise DiskFullError('The release is %d bytes; %d more are needed but only %d are free in %s. Nothing was '
                            'downloaded.' % (size, size - have, free, directory))


def fetch_to(http, url, dest, target, algorithms, describe_status=None):
    """Download url to dest verified against target. Call with the directory lock held.

    target.size None means the size is unknown: the body is read to its end (checked against any
    Content-Length), and an interrupted attempt starts again from byte 0 since a partial cannot be trusted.

    Returns the StreamResult. On any failure dest is untouched; the partial is kept for resumption
    unless it is known bad (wrong bytes, disk full).
    """
    partial = partial_path(dest, target)
    for stale in _stale_partials(dest, partial):
        with contextlib.suppress(OSError):
            os.unlink(stale)
    if target.size is not None:
        _check_free_space(partial, target.size)
    wanted = sorted(set(algorithms) | set(target.digests))
    downloader = Downloader(http, describe_status)
    for full_retry in (False, True):
        try:
            result = downloader.stream(url, partial, target.size, wanted)
        except (DiskFullError, VerificationError):
            # Known-bad bytes (or no room for them): nothing worth resuming.
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
        except (DownloadError, TransportError):
            if target.size is None:
                _remove(partial)  # an unsized partial can never be resumed
            else:
                _remove_if_empty(partial)
            raise
        problems = target.mismatches(result.size, result.digests)
        if not problems:
            install(partial, dest, default_file_mode())
            return result
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if result.bytes_resumed and not full_retry:
            # The kept prefix may be what went wrong: one full download before giving up.
            continue
        raise VerificationError('The downloaded file failed verification (%s); it was discarded and %s was not '
                                'touched.' % ('; '.join(problems), dest))
    raise AssertionError('unreachable')
