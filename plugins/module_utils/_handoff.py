# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Hand a verified archive to a loader's watch folder without it ever being visible half-written.

A loader such as Snowstorm lists its folder on a timer and reads every name ending in .zip, with no check that the
file is still growing. So the archive is placed under a hidden name that does not end in the destination's name
(a hard link to it when the folder is on the same filesystem, else a copy, fsync'd), and renamed into place.

Whether a file is in place is judged from metadata only (the same inode, or a regular file with the source's size
and modification time, which a copy is given), so a run with nothing to do reads no archive byte.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat

from ansible_collections.terminology.releases.plugins.module_utils import _fs
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError
from ansible_collections.terminology.releases.plugins.module_utils._hashing import CHUNK_SIZE

RECORD_VERSION = 1
TEMP_SUFFIX = '.handoff'
# A hard link that fails for these reasons is replaced by a copy: another filesystem, a filesystem or a policy
# (fs.protected_hardlinks) that refuses links, too many links.
LINK_FALLBACK_ERRNOS = (errno.EXDEV, errno.EPERM, errno.EACCES, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP)


# Snowstorm's release date: the first 8 characters of the file name's last "_" part, read as a number.
_SNOWSTORM_DATE = re.compile(r'(?:^|_)([0-9]{8})[^_]*$')


class HandoffError(ReleasesError):
    """The archive could not be handed off; the text says why and what to do."""


def snowstorm_date(name):
    """The YYYYMMDD Snowstorm reads from a .zip file name, or None when it cannot (it then stops importing the whole
    code system at that name)."""
    match = _SNOWSTORM_DATE.search(name[:-len('.zip')] if name.endswith('.zip') else name)
    return match.group(1) if match and name.endswith('.zip') else None


def temp_prefix(name):
    """The hidden names a run writes beside `name` start with this (and end in TEMP_SUFFIX, never in .zip)."""
    return '.%s.' % name


def temp_path(dest):
    directory, name = os.path.split(dest)
    return os.path.join(directory, '%s%d%s' % (temp_prefix(name), os.getpid(), TEMP_SUFFIX))


def remove_leftovers(dest):
    """Remove what a killed run left beside dest (its hidden temporary names); returns whether any was removed."""
    directory, name = os.path.split(dest)
    removed = False
    for entry in os.listdir(directory):
        if entry.startswith(temp_prefix(name)) and entry.endswith(TEMP_SUFFIX):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(directory, entry))
                removed = True
    return removed


def lstat_or_none(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def method_of(src_stat, dest_stat):
    """How dest holds src: 'link' (the same inode) or 'copy'."""
    return 'link' if (src_stat.st_dev, src_stat.st_ino) == (dest_stat.st_dev, dest_stat.st_ino) else 'copy'


def same_file(src_stat, dest_stat):
    """dest is src: the same inode (a hard link), or a regular file of src's size and modification time (a copy)."""
    if src_stat is None or dest_stat is None or not stat.S_ISREG(dest_stat.st_mode):
        return False
    if method_of(src_stat, dest_stat) == 'link':
        return True
    return src_stat.st_size == dest_stat.st_size and src_stat.st_mtime_ns == dest_stat.st_mtime_ns


def reason(src_stat, dest, dest_stat):
    """Why the archive must be placed at dest (absent, other file), or None when it is in place."""
    if dest_stat is None:
        return 'absent'
    if not stat.S_ISREG(dest_stat.st_mode):
        raise HandoffError('%s exists and is not a regular file (a directory or a link); refusing to replace it. '
                           'Remove it, or hand the archive off to another folder.' % dest)
    return None if same_file(src_stat, dest_stat) else 'other file'


def copy_whole(src, temp, sha256=None, size=None):
    """Copy src to the new file temp, fsync'd, checking its size and SHA-256 against those given as it is written,
    and give it src's modification time (so that a later run knows it by its metadata)."""
    digest = hashlib.sha256()
    written = 0
    with open(src, 'rb') as source:
        src_stat = os.fstat(source.fileno())
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        try:
            for block in iter(lambda: source.read(CHUNK_SIZE), b''):
                _fs.write_all(fd, block)
                digest.update(block)
                written += len(block)
            os.fsync(fd)
        except OSError as exc:
            if exc.errno in _fs.DISK_FULL_ERRNOS:
                raise HandoffError('No room to copy %s to %s: %s.' % (src, os.path.dirname(temp), exc.strerror)) from None
            raise
        finally:
            os.close(fd)
    if size is not None and written != size:
        raise HandoffError('%s has %d bytes, not the expected %d; it was not handed off.' % (src, written, size))
    if sha256 and digest.hexdigest() != sha256:
        raise HandoffError('%s has SHA-256 %s, not the expected %s; it was not handed off.'
                           % (src, digest.hexdigest(), sha256))
    os.utime(temp, ns=(src_stat.st_atime_ns, src_stat.st_mtime_ns))


def place(src, dest, link=True, sha256=None, size=None, prepare=None):
    """Make dest hold src whole, never visible in part: a hard link (link true and possible) or a checked copy
    under a hidden temporary name, prepare(temp) (owner, group, mode), then a rename over dest. Returns the method,
    'link' or 'copy'."""
    remove_leftovers(dest)
    temp = temp_path(dest)
    method = None
    try:
        if link:
            try:
                os.link(src, temp)
                method = 'link'
            except OSError as exc:
                if exc.errno not in LINK_FALLBACK_ERRNOS:
                    raise
        if method is None:
            copy_whole(src, temp, sha256, size)
            method = 'copy'
        if prepare:
            prepare(temp)
        _fs.install(temp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return method


def remove_placed(src, dest):
    """Remove dest only when it is src's hand-off (same_file); returns whether it was there and removed."""
    src_stat, dest_stat = lstat_or_none(src), lstat_or_none(dest)
    if not same_file(src_stat, dest_stat):
        return False
    os.unlink(dest)
    _fs.fsync_directory(os.path.dirname(dest))
    return True


def record_bytes(src, dest, method):
    return (json.dumps({'version': RECORD_VERSION, 'src': src, 'path': dest, 'method': method},
                       indent=2, sort_keys=True) + '\n').encode('utf-8')


def record_matches(path, src, dest, method):
    """Whether the record at path is exactly the one release_handoff writes for this hand-off."""
    try:
        with open(path, 'rb') as handle:
            return handle.read(65537) == record_bytes(src, dest, method)
    except OSError:
        return False


def read_record(path):
    """The record's path and src, or None when there is no readable record of this version."""
    try:
        with open(path, 'rb') as handle:
            record = json.loads(handle.read(65536))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get('version') != RECORD_VERSION:
        return None
    if not all(isinstance(record.get(key), str) and os.path.isabs(record[key]) for key in ('path', 'src')):
        return None
    return record
