# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Safe, idempotent zip extraction: refuse path traversal and zip bombs, extract beside, rename into place.

PRIVATE to this collection: it may change without notice.

The archive is judged from its central directory before a single byte is extracted (member names,
member types, sizes, compression ratios, overlapping members), and the limits are enforced again
while the bytes are inflated, counting what really comes out, because a central directory can lie.
Members are inflated by this code (stored and deflate only), not by zipfile's extract(), so every
byte written is counted and every path is built from validated components.

Files kept beside a destination directory NAME (in its parent):
  .NAME.<random>.unpacking   the extraction in progress (removed on failure and by the next run)
  .NAME.<random>.old         a replaced tree, between the swap and its removal
Inside NAME:
  .release_unpack.json       what was unpacked: the archive's SHA-256 and the list of members
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import struct
import tempfile
import time
import zipfile
import zlib

from ansible_collections.terminology.releases.plugins.module_utils import _fs
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._hashing import CHUNK_SIZE, hash_file

MARKER = '.release_unpack.json'
MARKER_VERSION = 1
# A member smaller than this cannot make a bomb on its own: it is exempt from the per-member ratio
# check (it still counts towards the total size and the whole archive's ratio).
RATIO_EXEMPT_SIZE = 1024 * 1024
TEMP_SUFFIX = '.unpacking'
OLD_SUFFIX = '.old'
_LOCAL_HEADER = struct.Struct('<4sHHHHHIIIHH')
_LOCAL_SIGNATURE = b'PK\x03\x04'
_METHODS = {zipfile.ZIP_STORED: 'stored', zipfile.ZIP_DEFLATED: 'deflate'}
_DRIVE = re.compile(r'^[A-Za-z]:')


class UnpackError(ReleasesError):
    """The archive could not be unpacked; the destination is untouched."""


class UnsafeArchiveError(UnpackError):
    """The archive was refused: a member escapes the destination, or it exceeds a limit."""


class Limits:
    def __init__(self, max_size, max_ratio, max_files):
        self.max_size = max_size
        self.max_ratio = max_ratio
        self.max_files = max_files

    def as_dict(self):
        return {'max_size': self.max_size, 'max_ratio': self.max_ratio, 'max_files': self.max_files}


class Member:
    """One file or directory of the archive, validated."""

    def __init__(self, info, parts, is_dir):
        self.info = info
        self.name = info.filename
        self.parts = parts
        self.path = '/'.join(parts)
        self.is_dir = is_dir
        self.file_size = info.file_size
        self.compress_size = info.compress_size
        self.data_offset = None


class Plan:
    """What extracting the archive would create."""

    def __init__(self, files, directories, total_size, compressed_size, archive_size):
        self.files = files
        self.directories = directories
        self.total_size = total_size
        self.compressed_size = compressed_size
        self.archive_size = archive_size

    @property
    def ratio(self):
        return round(float(self.total_size) / max(self.compressed_size, 1), 2)


def _human(size):
    value = float(size)
    for unit in ('bytes', 'KiB', 'MiB', 'GiB', 'TiB'):
        if value < 1024 or unit == 'TiB':
            return '%d bytes' % size if unit == 'bytes' else '%.1f %s' % (value, unit)
        value /= 1024
    return '%d bytes' % size


def member_parts(name):
    """The validated path components of a member name; raises UnsafeArchiveError for names that could escape."""
    shown = repr(name)
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise UnsafeArchiveError('Member %s has control characters in its name.' % shown)
    if '\\' in name:
        raise UnsafeArchiveError('Member %s has a backslash in its name (a Windows path separator).' % shown)
    if name.startswith('/') or _DRIVE.match(name):
        raise UnsafeArchiveError('Member %s has an absolute path.' % shown)
    parts = [part for part in name.split('/') if part not in ('', '.')]
    if '..' in parts:
        raise UnsafeArchiveError('Member %s has a parent directory (..) component: it would be written outside '
                                 'the destination (zip slip).' % shown)
    if not parts:
        raise UnsafeArchiveError('Member %s has an empty name.' % shown)
    if any(len(part.encode('utf-8', 'surrogateescape')) > 255 for part in parts):
        raise UnsafeArchiveError('Member %s has a path component longer than 255 bytes.' % shown)
    if parts == [MARKER]:
        raise UnsafeArchiveError('Member %s has the name of the unpack record this module keeps.' % shown)
    return tuple(parts)


def member_kind(info):
    """'file', 'dir', 'symlink' or 'special', from the Unix mode when the archive records one."""
    kind = stat.S_IFMT(info.external_attr >> 16) if info.create_system == 3 else 0
    if kind == stat.S_IFLNK:
        return 'symlink'
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return 'special'
    if info.filename.endswith('/') or kind == stat.S_IFDIR or info.external_attr & 0x10:
        return 'dir'
    return 'file'


def _local_data_offset(handle, info):
    """Where the member's data starts, from its local header, which must agree with the central directory."""
    handle.seek(info.header_offset)
    header = handle.read(_LOCAL_HEADER.size)
    if len(header) != _LOCAL_HEADER.size or header[:4] != _LOCAL_SIGNATURE:
        raise UnsafeArchiveError('Member %r has no valid local header at offset %d.' % (info.filename, info.header_offset))
    fields = _LOCAL_HEADER.unpack(header)
    flags, name_length, extra_length = fields[2], fields[9], fields[10]
    raw_name = handle.read(name_length)
    name = raw_name.decode('utf-8' if flags & 0x800 else 'cp437', 'replace')
    if name != info.orig_filename:
        raise UnsafeArchiveError('Member %r is named %r in its local header: the archive is inconsistent.'
                                 % (info.orig_filename, name))
    return info.header_offset + _LOCAL_HEADER.size + name_length + extra_length


def plan(src, limits):
    """Judge the archive from its central directory (and local headers); nothing is extracted."""
    try:
        archive_size = os.path.getsize(src)
        with zipfile.ZipFile(src) as archive:
            infos = archive.infolist()
            directory_start = getattr(archive, 'start_dir', archive_size)
    except zipfile.BadZipFile as exc:
        raise UnpackError('%s is not a valid zip archive: %s.' % (src, exc)) from None
    except OSError as exc:
        raise UnpackError('Cannot read %s: %s.' % (src, exc.strerror or exc)) from None
    if len(infos) > limits.max_files:
        raise UnsafeArchiveError('The archive has %d members, more than max_files (%d).' % (len(infos), limits.max_files))
    members = []
    seen = set()
    for info in infos:
        kind = member_kind(info)
        if kind == 'symlink':
            raise UnsafeArchiveError('Member %r is a symbolic link; links are refused, since one could point outside '
                                     'the destination.' % info.filename)
        if kind == 'special':
            raise UnsafeArchiveError('Member %r is a device, pipe or socket, not a file or directory.' % info.filename)
        parts = member_parts(info.filename)
        if info.flag_bits & 0x1:
            raise UnsafeArchiveError('Member %r is encrypted.' % info.filename)
        member = Member(info, parts, kind == 'dir')
        if member.path in seen:
            raise UnsafeArchiveError('Member %r appears more than once in the archive.' % info.filename)
        seen.add(member.path)
        if not member.is_dir and info.compress_type not in _METHODS:
            raise UnpackError('Member %r uses compression method %d; only stored and deflate are supported.'
                              % (info.filename, info.compress_type))
        members.append(member)
    files = [member for member in members if not member.is_dir]
    implied = set()
    for member in members:
        parents = member.parts if member.is_dir else member.parts[:-1]
        for depth in range(1, len(parents) + 1):
            implied.add('/'.join(parents[:depth]))
    for member in files:
        if member.path in implied:
            raise UnsafeArchiveError('Member %r is a file, but other members put files inside it.' % member.name)
    total = sum(member.file_size for member in files)
    compressed = sum(member.compress_size for member in files)
    if total > limits.max_size:
        raise UnsafeArchiveError('The archive would unpack to %s (%d bytes), more than max_size (%d bytes); it was '
                                 'refused before extracting anything.' % (_human(total), total, limits.max_size))
    for member in files:
        if member.file_size >= RATIO_EXEMPT_SIZE and member.file_size > limits.max_ratio * max(member.compress_size, 1):
            raise UnsafeArchiveError('Member %r would unpack to %d bytes from %d (ratio %.0f:1), more than max_ratio '
                                     '(%g:1): a zip bomb; it was refused before extracting anything.'
                                     % (member.name, member.file_size, member.compress_size,
                                        member.file_size / float(max(member.compress_size, 1)), limits.max_ratio))
    if total >= RATIO_EXEMPT_SIZE and total > limits.max_ratio * max(compressed, 1):
        raise UnsafeArchiveError('The archive would unpack to %d bytes from %d (ratio %.0f:1), more than max_ratio '
                                 '(%g:1): a zip bomb; it was refused before extracting anything.'
                                 % (total, compressed, total / float(max(compressed, 1)), limits.max_ratio))
    _check_layout(src, files, directory_start)
    directories = sorted(implied, key=lambda path: (path.count('/'), path))
    return Plan(files, directories, total, compressed, archive_size)


def _check_layout(src, files, directory_start):
    """Each member's data lies inside the archive and overlaps no other member (overlap is how bombs multiply)."""
    spans = []
    with open(src, 'rb') as handle:
        for member in files:
            member.data_offset = _local_data_offset(handle, member.info)
            spans.append((member.info.header_offset, member.data_offset + member.compress_size, member.name))
    spans.sort()
    for index, (start, end, name) in enumerate(spans):
        limit = spans[index + 1][0] if index + 1 < len(spans) else directory_start
        if end > limit:
            raise UnsafeArchiveError('Member %r overlaps the next member or the central directory: overlapping members '
                                     'are a zip bomb technique; the archive was refused.' % name)


def sha256_file(path):
    return hash_file(path, ['sha256'])[1]['sha256']


# --- the record of what was unpacked ----------------------------------------------------------------


def read_marker(dest):
    path = os.path.join(dest, MARKER)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        with open(path, 'r', encoding='utf-8') as handle:
            marker = json.load(handle)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get('version') == MARKER_VERSION else None


def marker_for(src, sha256, plan_, limits):
    return {
        'version': MARKER_VERSION,
        'archive': {'name': os.path.basename(src), 'sha256': sha256, 'size': plan_.archive_size},
        'total_size': plan_.total_size,
        'compressed_size': plan_.compressed_size,
        'limits': limits.as_dict(),
        'files': [[member.path, member.file_size] for member in plan_.files],
        'directories': plan_.directories,
        'unpacked_at': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
    }


def tree_problems(dest, marker):
    """What differs between the tree and its record (missing or resized files); empty when intact."""
    problems = []
    for path in marker.get('directories') or []:
        try:
            if not stat.S_ISDIR(os.lstat(os.path.join(dest, path)).st_mode):
                problems.append('%s is not a directory' % path)
        except OSError:
            problems.append('%s is missing' % path)
    for path, size in marker.get('files') or []:
        try:
            info = os.lstat(os.path.join(dest, path))
        except OSError:
            problems.append('%s is missing' % path)
            continue
        if not stat.S_ISREG(info.st_mode):
            problems.append('%s is not a regular file' % path)
        elif info.st_size != size:
            problems.append('%s has %d bytes, not %d' % (path, info.st_size, size))
    return problems


def tree_state(dest, marker, sha256):
    """(reason, problems) of a tree with that record against the archive with that SHA-256: (None, []) when the
    tree is what release_unpack made of it, else 'no record', 'archive changed' or 'tree damaged' (with the
    tree_problems that show the damage). The one rule of release_unpack's rerun and the role's no-op check."""
    if not marker:
        return 'no record', []
    if (marker.get('archive') or {}).get('sha256') != sha256:
        return 'archive changed', []
    problems = tree_problems(dest, marker)
    return ('tree damaged' if problems else None), problems


def marker_paths(dest, marker):
    """(directories, files) of a recorded tree as absolute paths, the tree's root and the record included."""
    directories = [dest] + [os.path.join(dest, path) for path in marker.get('directories') or []]
    files = [os.path.join(dest, MARKER)] + [os.path.join(dest, path) for path, _size in marker.get('files') or []]
    return directories, files


# --- extraction -------------------------------------------------------------------------------------


def directory_lock(directory, timeout=3600.0):
    """Serialise runs on one parent directory (the same lock as downloads), failing with UnpackError."""
    return _fs.directory_lock(directory, timeout, error=UnpackError)


def remove_leftovers(dest):
    """Remove what an interrupted earlier run left beside dest."""
    parent, name = os.path.split(dest)
    prefix = '.%s.' % name
    for entry in os.listdir(parent):
        if entry.startswith(prefix) and (entry.endswith(TEMP_SUFFIX) or entry.endswith(OLD_SUFFIX)):
            path = os.path.join(parent, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)


def check_free_space(directory, needed):
    available = _fs.free_bytes(directory)
    if available is not None and needed > available:
        raise UnpackError('Unpacking needs %s (%d bytes) in %s, but only %s is available; nothing was extracted.'
                          % (_human(needed), needed, directory, _human(available)))


class _Counter:
    """Counts every byte written against the limits, while extracting."""

    def __init__(self, limits):
        self.limits = limits
        self.total = 0

    def add(self, member, written, consumed, length):
        self.total += length
        if written > member.file_size:
            raise UnsafeArchiveError('Member %r inflates to more than the %d bytes the central directory declares; '
                                     'extraction was stopped and nothing was kept.' % (member.name, member.file_size))
        if self.total > self.limits.max_size:
            raise UnsafeArchiveError('Extraction passed max_size (%d bytes); it was stopped and nothing was kept.'
                                     % self.limits.max_size)
        if written > RATIO_EXEMPT_SIZE + self.limits.max_ratio * max(consumed, 1):
            raise UnsafeArchiveError('Member %r inflates at more than max_ratio (%g:1); extraction was stopped and '
                                     'nothing was kept.' % (member.name, self.limits.max_ratio))


def _inflate(handle, member, fd, counter):
    """Copy one member's data into fd, counting and checking as it goes."""
    handle.seek(member.data_offset)
    remaining = member.compress_size
    written = consumed = 0
    crc = 0
    method = member.info.compress_type
    inflater = zlib.decompressobj(-15) if method == zipfile.ZIP_DEFLATED else None
    while True:
        if remaining:
            block = handle.read(min(CHUNK_SIZE, remaining))
            if not block:
                raise UnpackError('The archive ends inside member %r.' % member.name)
            remaining -= len(block)
            consumed += len(block)
        else:
            block = b''
        pending = block
        while True:
            if inflater is None:
                out, pending = pending, b''
            else:
                try:
                    out = inflater.decompress(pending, CHUNK_SIZE)
                except zlib.error as exc:
                    raise UnpackError('Member %r is corrupt: %s.' % (member.name, exc)) from None
                pending = inflater.unconsumed_tail
            if out:
                written += len(out)
                counter.add(member, written, consumed, len(out))
                crc = zlib.crc32(out, crc)
                try:
                    _fs.write_all(fd, out)
                except OSError as exc:
                    if exc.errno in _fs.DISK_FULL_ERRNOS:
                        raise UnpackError('No space left while unpacking (%s); nothing was kept.' % exc.strerror) from None
                    raise
            if not pending and (not out or inflater is None):
                break
        if not remaining and not block:
            break
    if inflater is not None and not inflater.eof and member.compress_size:
        raise UnpackError('Member %r is truncated: its deflate stream does not end.' % member.name)
    if written != member.file_size:
        raise UnsafeArchiveError('Member %r inflates to %d bytes, not the %d the central directory declares.'
                                 % (member.name, written, member.file_size))
    if crc & 0xFFFFFFFF != member.info.CRC:
        raise UnpackError('Member %r fails its CRC-32 check: the archive is corrupt.' % member.name)


def extract(src, plan_, root, limits):
    """Extract into root (a new, empty directory that this run created). Paths come from validated parts only."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0) | getattr(os, 'O_CLOEXEC', 0)
    for path in plan_.directories:
        os.mkdir(os.path.join(root, path), 0o700)
    counter = _Counter(limits)
    with open(src, 'rb') as handle:
        for member in plan_.files:
            target = os.path.join(root, *member.parts)
            fd = os.open(target, flags, 0o600)
            try:
                _inflate(handle, member, fd, counter)
                os.fsync(fd)
            finally:
                os.close(fd)


def write_marker(root, marker):
    _fs.atomic_write(os.path.join(root, MARKER), json.dumps(marker, sort_keys=True, indent=1).encode('utf-8'), 0o600)


def make_temp(dest):
    parent, name = os.path.split(dest)
    return tempfile.mkdtemp(prefix='.%s.' % name, suffix=TEMP_SUFFIX, dir=parent)


def install(temp, dest):
    """Put the finished tree at dest: a rename, or two when an old tree is there (it is then removed)."""
    parent, name = os.path.split(dest)
    old = None
    if os.path.lexists(dest):
        old = tempfile.mkdtemp(prefix='.%s.' % name, suffix=OLD_SUFFIX, dir=parent)
        os.rmdir(old)
        os.rename(dest, old)
    os.rename(temp, dest)
    _fs.fsync_directory(parent)
    if old:
        shutil.rmtree(old, ignore_errors=True)
