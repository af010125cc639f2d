# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one verified-fetch lifecycle, and the download engine under it.

verified_fetch() is what every fetch module calls with a FetchRequest: inspect the destination and its record ->
predict (check mode) or lock -> download / resume / verify -> place -> file attributes -> record -> one result
with before/after for --diff. fetch_to() is the engine: a streamed single pass that hashes while it writes a
partial file, checks the size, resumes with Range, and renames the verified file into place.

PRIVATE to this collection: it may change without notice.

Files kept beside a destination file NAME:
  .NAME.<tag>.part       the resumable partial download (mode 0600); tag identifies the expected content,
                         so a partial of other bytes (a re-issued release) is never resumed
  .NAME.verified.json    what was verified and the file's stat identity, so a no-op run reads no archive byte
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import http.client
import json
import os
import re
import time

from ansible_collections.terminology.releases.plugins.module_utils import _fs
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._hashing import CHUNK_SIZE, ParallelHashers, hash_file
from ansible_collections.terminology.releases.plugins.module_utils._http import (
    TlsError,
    TransportError,
    is_retryable_status,
    retry_after_seconds,
    transient_exceptions,
)
from ansible_collections.terminology.releases.plugins.module_utils._module import warn_numeric_modes

try:
    from urllib3.exceptions import IncompleteRead
except ImportError:  # the modules fail earlier, with requests' own message (_connection.http_client)
    IncompleteRead = None

RECORD_VERSION = 1
# The size of each of the two reused receive buffers, and of each read into them. Reads of a few hundred KiB keep
# the bytes in the CPU's cache between the socket's copy in and the write's copy out (a bare receive loop measured
# 2.2 ns a byte with 256 KiB reads, 3.0 with 1 MiB reads, curl 2.1), and a stall loses at most one read.
RECEIVE_SIZE = 4 * 1024 * 1024
RECEIVE_READ = 256 * 1024
HEX_DIGITS = {'sha256': 64, 'sha1': 40, 'md5': 32}
RECORD_MODE = 0o644


class DownloadError(ReleasesError):
    """The download could not be completed; the destination is untouched."""


class UnresumableError(DownloadError):
    """The download could not be completed from a server that does not resume: its partial is worth nothing."""


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
        for algorithm, value in self.digests.items():
            # A digest names the partial file and is compared with what arrives: only well-formed hex will do.
            if not re.match(r'^[0-9a-f]{%d}$' % HEX_DIGITS[algorithm], value):
                raise VerificationError('The expected %s %r of %s is not %d hexadecimal digits, so nothing can be '
                                        'verified against it; nothing was downloaded.'
                                        % (algorithm.upper(), value, name, HEX_DIGITS[algorithm]))
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


def directory_lock(directory, timeout=3600.0, poll=0.2):
    """Serialise runs that write into one directory; waiting too long is a DownloadError."""
    return _fs.directory_lock(directory, timeout, poll, error=DownloadError)


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
    _fs.atomic_write(record_path(dest), json.dumps(record, sort_keys=True).encode('utf-8'), RECORD_MODE)
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


# state: 'absent', 'verified' (the record vouches), 'matches' (re-hashed, matches; the record needs writing) or
# 'differs'. record: the verification record read on the way (None when there is none).
Inspection = collections.namedtuple('Inspection', 'state digests bytes_read record')


def inspect(dest, target, algorithms, rehash=False):
    """The state of an existing destination file, reading it only when the record cannot vouch for it."""
    if not os.path.lexists(dest):
        return Inspection('absent', {}, 0, None)
    if not os.path.isfile(dest) or os.path.islink(dest):
        raise DownloadError('%s exists and is not a regular file; refusing to replace it.' % dest)
    record = read_record(dest)
    if not rehash and record_vouches(record, dest, target):
        return Inspection('verified', dict(record.get('digests') or {}), 0, record)
    wanted = sorted(set(algorithms) | set(target.digests))
    size, digests = hash_file(dest, wanted)
    state = 'differs' if target.mismatches(size, digests) else 'matches'
    return Inspection(state, digests, size, record)


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
        self.ranges_ignored = False  # set by _stream_into

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

    def _gave_up(self, why, have, size, partial):
        """The error to give up with: what went wrong, and what became of the partial download."""
        if self.ranges_ignored and have:
            return UnresumableError('%s; the partial download was discarded: the server answered a request to resume '
                                    'with the whole file, so it cannot be resumed.' % why)
        return DownloadError('%s; %s.' % (why, _kept(have, size, partial)))

    def _stream_into(self, fd, url, partial, size, algorithms, result):
        sized = size is not None
        # Without a known size a partial cannot be trusted (nothing says where it ends): start from byte 0.
        hashers, have = self._start(fd, size, algorithms) if sized else self._restart(fd, algorithms)
        result.bytes_resumed = have
        attempt = 0
        # Set once the server answers a Range request with the whole file: a partial is then worth nothing.
        self.ranges_ignored = False
        complete = sized and have >= size and size > 0
        while not complete:
            if attempt > self.policy.retries:
                raise self._gave_up('Gave up after %d attempts' % result.attempts, have, size, partial)
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
                    self.ranges_ignored = True
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
                    raise self._gave_up('The connection kept failing (last: %s)' % self.http.describe(exc),
                                        have, size, partial) from None
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
                    raise self._gave_up('The server kept closing the connection early', have, size, partial)
                self.policy.wait(attempt)
                attempt += 1
        result.digests = dict((algorithm, hasher.hexdigest()) for algorithm, hasher in hashers.items())
        result.size = have

    @staticmethod
    def _copy_body(response, fd, size, have, hashers, result):
        receive = _body_receiver(response)
        if receive is None:
            return _copy_blocks(response, fd, size, have, hashers, result)
        # Two reused buffers: the connection fills one, a read at a time, each read written to the file at once
        # (a stall loses at most the read under way), while the hashers, off the GIL, read the other whole. No
        # byte is copied in user space between the socket, the file and the hashers.
        buffers = [memoryview(bytearray(RECEIVE_SIZE)) for _turn in range(2)]
        # Leaving the `with` (even on an exception) waits for the hashers: they then match the file exactly,
        # since every byte written is handed to them, and only once it is written.
        with ParallelHashers(hashers) as parallel:
            turn, filled = 0, 0
            try:
                while True:
                    piece = buffers[turn][filled:filled + RECEIVE_READ]
                    count = receive(piece)
                    if count:
                        have = _write_block(fd, piece[:count], size, have, result)
                        filled += count
                    if filled and (filled == RECEIVE_SIZE or not count):
                        parallel.wait()  # the other buffer is hashed: it may be received into next
                        parallel.update(buffers[turn][:filled])
                        turn, filled = 1 - turn, 0
                    if not count:
                        return have
            finally:
                if filled:  # written, but the buffer was cut short by an error
                    parallel.update(buffers[turn][:filled])
        raise AssertionError('unreachable')


def _body_receiver(response):
    """receive(buffer) -> bytes of the body put into buffer (0 at its end), straight from the connection.

    http.client's readinto hands a large buffer to the socket's recv_into (its own buffer holds at most the few
    KiB read with the headers), handles chunked bodies and TLS, and stops at Content-Length; urllib3's read()
    would allocate and copy every block once more. urllib3's error catcher still maps the failures (timeouts,
    broken connections) to the exceptions the retries expect, and a body that ends before its Content-Length is
    an IncompleteRead, as urllib3 makes it. None (use urllib3's read) when urllib3 has already read some of the
    body or is not the urllib3 this knows."""
    raw = response.raw
    body = getattr(raw, '_fp', None)
    catcher = getattr(raw, '_error_catcher', None)
    if not isinstance(body, http.client.HTTPResponse) or catcher is None or not callable(getattr(raw, 'tell', None)):
        return None
    if raw.tell() or len(getattr(raw, '_decoded_buffer', None) or b''):
        return None
    expected = body.length  # None: chunked, or up to the connection's end

    def receive(buffer):
        with catcher():
            count = body.readinto(buffer)
            if not count and body.length:
                raise IncompleteRead(expected - body.length, body.length)
        return count
    return receive


def _copy_blocks(response, fd, size, have, hashers, result):
    """The body as urllib3 reads it, block by block (each a new immutable bytes)."""
    raw = response.raw
    with ParallelHashers(hashers) as parallel:
        while True:
            block = raw.read(CHUNK_SIZE, decode_content=False)
            if not block:
                return have
            have = _write_block(fd, block, size, have, result)
            parallel.update(block)


def _write_block(fd, block, size, have, result):
    """Write a received block whole after checking it fits the advertised size; returns the new length."""
    if size is not None and have + len(block) > size:
        raise VerificationError('The server sent more bytes than the %d advertised; the download was '
                                'discarded.' % size)
    try:
        _fs.write_all(fd, block)
    except OSError as exc:
        raise _write_error(exc) from None
    result.bytes_transferred += len(block)
    return have + len(block)


def _kept(have, size, partial):
    if size is None:
        return 'the partial download was discarded: without a known size it cannot be resumed'
    if not have:
        return 'no byte of it arrived, so nothing was kept'
    return '%d of %d bytes are kept in %s for the next run to resume' % (have, size, partial)


def _write_error(exc):
    if exc.errno in _fs.DISK_FULL_ERRNOS:
        return DiskFullError('No space left to write the download (%s); the partial file was removed.' % exc.strerror)
    return DownloadError('Cannot write the download: %s.' % exc.strerror)


def _remove(path):
    with contextlib.suppress(OSError):
        os.unlink(path)


def _remove_if_empty(path):
    with contextlib.suppress(OSError):
        if os.path.getsize(path) == 0:
            os.unlink(path)


def _check_free_space(partial, size):
    """Refuse before the first byte when the file cannot fit: an absurd advertised size, or a full disk, fails
    at once with the numbers instead of after a long download (the partial already there counts as written)."""
    try:
        have = os.stat(partial).st_size
    except OSError:
        have = 0
    directory = os.path.dirname(partial) or '.'
    free = _fs.free_bytes(directory)
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
        except (DownloadError, TransportError) as exc:
            if target.size is None or isinstance(exc, UnresumableError):
                _remove(partial)  # an unsized partial, or one from a server that does not resume, is worth nothing
            else:
                _remove_if_empty(partial)
            raise
        problems = target.mismatches(result.size, result.digests)
        if not problems:
            _fs.install(partial, dest, _fs.default_file_mode())
            return result
        with contextlib.suppress(OSError):
            os.unlink(partial)
        if result.bytes_resumed and not full_retry:
            # The kept prefix may be what went wrong: one full download before giving up.
            continue
        raise VerificationError('The downloaded file failed verification (%s); it was discarded and %s was not '
                                'touched.' % ('; '.join(problems), dest))
    raise AssertionError('unreachable')


# ---- the lifecycle every fetch module runs ---------------------------------------------------------------------

class FetchRequest:
    """What a fetch module asks for: a verified file in a directory, and how to get it.

    url: where the bytes come from (never shown: it may carry a key). algorithms: digests to compute while
    downloading. report: digests returned in the result; shown: digests (and identity_key, a key of
    target.identity) shown in the --diff before/after. record_extra: more facts for the verification record.
    before_download(): called just before the archive is requested (warnings). side_files(write): keeps small files
    beside the archive inside the lock; returns (result fields, changed); write=False only predicts the change.
    """

    def __init__(self, dest_dir, target, url, algorithms, http, describe_status=None, report=('sha256',),
                 shown=('sha256',), identity_key=None, record_extra=None, before_download=None, side_files=None):
        self.dest_dir = dest_dir
        self.dest = os.path.join(dest_dir, target.name)
        self.target = target
        self.url = url
        self.algorithms = list(algorithms)
        self.http = http
        self.describe_status = describe_status
        self.report = report
        self.shown = shown
        self.identity_key = identity_key
        self.record_extra = record_extra or {}
        self.before_download = before_download
        self.side_files = side_files or (lambda write: ({}, False))


def verified_fetch(module, request):
    """Run the lifecycle for a module with the options force, rehash, lock_timeout and the file attributes.

    Returns the result: changed, downloaded, bytes_transferred, bytes_resumed, path, size, the reported digests,
    the side files' fields, and diff (before/after, file attributes included) when the task runs with --diff."""
    params = module.params
    warn_numeric_modes(module, 'mode')
    if module.check_mode:
        outcome = _plan(request, params, download=False)
        fields, side_changed = request.side_files(False)
    else:
        with directory_lock(request.dest_dir, params['lock_timeout']):
            outcome = _plan(request, params, download=True)
            fields, side_changed = request.side_files(True)
    before = outcome.pop('before')
    outcome.update(fields)
    diff = {'before': before, 'after': _identity(request, True, outcome['size'], outcome, request.target.identity),
            'before_header': request.dest, 'after_header': request.dest}
    changed = outcome['changed'] or side_changed
    if os.path.exists(request.dest):  # not in check mode before a first download
        # set_fs_attributes_if_different adds mode/owner/group before and after to the diff it is given.
        file_args = module.load_file_common_arguments(params, path=request.dest)
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=diff)
    outcome.update(changed=changed, path=request.dest)
    if module._diff:
        outcome['diff'] = diff
    return outcome


def _identity(request, exists, size, digests, identity):
    """What --diff shows of the destination file."""
    shown = {'path': request.dest, 'exists': exists, 'size': size if exists else None}
    shown.update((algorithm, digests.get(algorithm) if exists else None) for algorithm in request.shown)
    if request.identity_key:
        shown[request.identity_key] = (identity or {}).get(request.identity_key) if exists else None
    return shown


def _plan(request, params, download):
    """Inspect the destination; then predict (download=False, check mode) or make it so (download=True)."""
    target = request.target
    found = inspect(request.dest, target, request.algorithms, params['rehash'])
    exists = found.state != 'absent'
    size = os.path.getsize(request.dest) if exists else None
    before = _identity(request, exists, size, found.digests, (found.record or {}).get('identity'))
    outcome = {'changed': False, 'downloaded': False, 'bytes_transferred': 0, 'bytes_resumed': 0, 'size': size,
               'before': before}
    if found.state in ('verified', 'matches') and not params['force']:
        if found.state == 'matches' and download:
            # Right bytes but no current record (a copy made by hand, or rehash): record them, change nothing.
            write_record(request.dest, target, found.digests, request.record_extra)
        outcome.update((algorithm, found.digests.get(algorithm)) for algorithm in request.report)
        return outcome
    outcome.update(changed=True, downloaded=True, size=target.size)
    if not download:
        outcome.update((algorithm, target.digests.get(algorithm)) for algorithm in request.report)
        return outcome
    if request.before_download:
        request.before_download()
    result = fetch_to(request.http, request.url, request.dest, target, request.algorithms, request.describe_status)
    write_record(request.dest, target, result.digests, request.record_extra)
    outcome.update(bytes_transferred=result.bytes_transferred, bytes_resumed=result.bytes_resumed, size=result.size)
    outcome.update((algorithm, result.digests.get(algorithm)) for algorithm in request.report)
    return outcome
