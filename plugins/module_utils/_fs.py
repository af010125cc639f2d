# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File-system steps every writer of this collection shares: durable atomic writes and installs, the directory
lock, free space, and the check that a name from a server is a plain file name.

Downloads (_download), unpacking (_unpack), verification records and support files all write through here, so
"written" always means written whole, fsync'd, renamed into place and the directory entry made durable.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time

from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError

# Write errors that mean no room: a full disk, a quota, a file size limit.
DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
MAX_NAME_BYTES = 255


def write_all(fd, data):
    """os.write until every byte is written (a write may take only part)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def fsync_directory(path):
    """Make the directory's entries (a rename, a new file) durable."""
    fd = os.open(path or '.', os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def default_file_mode():
    """What a newly created file would get under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def install(path, dest, mode=None):
    """An fsync'd file (or tree) at path becomes dest atomically; the directory entry is made durable too."""
    if mode is not None:
        os.chmod(path, mode)
    os.replace(path, dest)
    fsync_directory(os.path.dirname(dest))


def atomic_write(path, data, mode=None):
    """Write bytes to path whole or not at all: a temporary file beside it, fsync, rename, directory fsync.

    mode None gives what a new file gets under the umask."""
    temp = '%s.%d.tmp' % (path, os.getpid())
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, 'O_NOFOLLOW', 0), 0o600)
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        install(temp, path, default_file_mode() if mode is None else mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def write_if_different(path, data, write=True, mode=None):
    """atomic_write unless path already holds exactly data; returns whether it (would have) changed."""
    try:
        with open(path, 'rb') as handle:
            if handle.read(len(data) + 1) == data:
                return False
    except OSError:
        pass
    if write:
        atomic_write(path, data, mode)
    return True


@contextlib.contextmanager
def directory_lock(directory, timeout=3600.0, poll=0.2, error=ReleasesError):
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


def free_bytes(directory):
    """Bytes an unprivileged writer may still use on directory's filesystem; None when statvfs cannot tell (the
    writes themselves will then)."""
    try:
        info = os.statvfs(directory)
    except OSError:
        return None
    return info.f_bavail * info.f_frsize


def plain_file_name_problem(name, strip=False):
    """Why name is not a plain file name that stays inside its directory, or None when it is.

    strip: also refuse surrounding white space (names typed by people, such as MLDS labels)."""
    if not isinstance(name, str):
        return 'it is not text'
    if not name.strip():
        return 'it is empty'
    if '/' in name or '\\' in name or name in ('.', '..'):
        return 'it has path separators'
    if name.startswith('.'):
        return 'it starts with a dot'
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        return 'it has control characters'
    if len(name.encode('utf-8')) > MAX_NAME_BYTES:
        return 'it is over %d bytes' % MAX_NAME_BYTES
    if strip and name != name.strip():
        return 'it has surrounding spaces'
    return None


def safe_file_name(name, source, error=ReleasesError, strip=False, hint=''):
    """name if it is a plain file name that cannot leave the destination directory; else error naming the source."""
    problem = plain_file_name_problem(name, strip)
    if problem:
        raise error('Refusing the %s %r as a file name: it is not a plain file name (%s).%s'
                    % (source, name, problem, hint and ' ' + hint))
    return name


def require_directory(path, option, error=ReleasesError, purpose='the archive'):
    """Refuse an option naming something that is not an existing directory, saying which case it is and what to do."""
    if os.path.isdir(path):
        return path
    if os.path.lexists(path):
        raise error('%s %s is not an existing directory: it is a file. %s names the directory to put %s in; the '
                    'file name itself comes from the release.' % (option, path, option, purpose))
    raise error('%s %s is not an existing directory: it does not exist. Create it first, for example with '
                'ansible.builtin.file and state: directory.' % (option, path))
