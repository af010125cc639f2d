# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a host already holds a release exactly as expected: current points at its directory, the provenance
record says what is expected, the archive was not touched since the record was written, and every file and
directory has the expected owner, group and mode. This is the role release_sync's no-op test: a name found in
place needs no task at all; any difference sends it through the role's full path, which decides what to change.

Only stat calls and small files (the records) are read: never an archive byte.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat

from ansible_collections.terminology.releases.plugins.module_utils import _handoff, _provenance, _unpack
from ansible_collections.terminology.releases.plugins.module_utils._errors import InputError

CURRENT = 'current'
UNPACKED = 'unpacked'


class Attributes(object):
    """The owner, group and modes every expected path must have (None: any)."""

    def __init__(self, owner=None, group=None, mode=None, directory_mode=None):
        self.uid = _user_id(owner) if owner else None
        self.gid = _group_id(group) if group else None
        self.mode = _mode(mode, 'mode')
        self.directory_mode = _mode(directory_mode, 'directory_mode')

    def problems(self, path, kind):
        """How path differs from a kind ('file', 'directory' or 'link') with these attributes; empty when it does not."""
        try:
            info = os.lstat(path)
        except OSError:
            return ['%s is missing' % path]
        test, mode = {'file': (stat.S_ISREG, self.mode), 'directory': (stat.S_ISDIR, self.directory_mode),
                      'link': (stat.S_ISLNK, None)}[kind]
        if not test(info.st_mode):
            return ['%s is not a %s' % (path, kind)]
        found = []
        for what, have, want in (('uid', info.st_uid, self.uid), ('gid', info.st_gid, self.gid)):
            if want is not None and have != want:
                found.append('%s has %s %s, not %s' % (path, what, have, want))
        if mode is not None and stat.S_IMODE(info.st_mode) != mode:
            found.append('%s has mode %04o, not %04o' % (path, stat.S_IMODE(info.st_mode), mode))
        return found


def _account_id(value, lookup, option, what):
    """The numeric id of a user or group given by name or number, as ansible.builtin.file takes them."""
    value = str(value)
    if value.isdigit():
        return int(value)
    try:
        return lookup(value)
    except KeyError:
        raise InputError('%s: there is no %s %s on this host.' % (option, what, value)) from None


def _user_id(owner):
    return _account_id(owner, lambda name: pwd.getpwnam(name).pw_uid, 'owner', 'user')


def _group_id(group):
    return _account_id(group, lambda name: grp.getgrnam(name).gr_gid, 'group', 'group')


def _mode(value, option):
    if value is None or value == '':
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise InputError('%s: %s is not an octal mode such as "0644".' % (option, value)) from None


def _same(found, wanted):
    """Whether a record value is the expected one: a mapping matches key by key (keys not expected are free),
    anything else by value, or by its text (a number templated as text is the same number)."""
    if isinstance(wanted, dict):
        return isinstance(found, dict) and all(_same(found.get(key), value) for key, value in wanted.items())
    if found == wanted:
        return True
    return found is not None and wanted is not None and str(found) == str(wanted)


def record_problems(record, wanted, prefix='the provenance record'):
    """The fields of record that are not as wanted."""
    return ['%s has %s %s, not %s' % (prefix, key, _provenance_value(record.get(key)), _provenance_value(value))
            for key, value in sorted(wanted.items()) if not _same(record.get(key), value)]


def _provenance_value(value):
    return 'null' if value is None else repr(value) if isinstance(value, str) else str(value)


def release_dirs(base):
    """The release directories of a name: real directories, not hidden (temporary ones are), not current."""
    with os.scandir(base) as entries:
        return sorted(entry.name for entry in entries
                      if not entry.name.startswith('.') and entry.name != CURRENT and entry.is_dir(follow_symlinks=False))


def _unpacked_problems(directory, sha256, attributes):
    tree = os.path.join(directory, UNPACKED)
    marker = _unpack.read_marker(tree) if os.path.isdir(tree) else None
    reason, damage = _unpack.tree_state(tree, marker, sha256)
    if reason == 'no record':
        return ['%s is not an unpacked tree' % tree]
    if reason == 'archive changed':
        return ['%s was unpacked from another archive' % tree]
    if damage:
        return ['%s: %s' % (tree, problem) for problem in damage]
    found = []
    directories, files = _unpack.marker_paths(tree, marker)
    for path in directories:
        found.extend(attributes.problems(path, 'directory'))
    for path in files:
        found.extend(attributes.problems(path, 'file'))
    return found


def _handoff_problems(archive, handoff, attributes):
    """How a hand-off of the archive (release_handoff's dest and record) differs from what release_handoff leaves."""
    path, record_path = handoff['path'], handoff.get('record')
    archive_stat, placed = _handoff.lstat_or_none(archive), _handoff.lstat_or_none(path)
    if not _handoff.same_file(archive_stat, placed):
        return ['%s is not the archive handed off' % path]
    found = attributes.problems(path, 'file')
    if record_path:
        same = _handoff.record_matches(record_path, archive, path, _handoff.method_of(archive_stat, placed))
        found += attributes.problems(record_path, 'file') if same else ['%s does not record this hand-off' % record_path]
    return found


def problems(root, expected, attributes, current, record):
    """Why the release expected (an entry of release_drift_info's expect) is not in place under root; empty when
    it is. current and record are what release_drift_info found for the name (the current directory's name and its
    record, or None)."""
    base = os.path.join(root, expected['name'])
    wanted_dir = expected['release_dir']
    found = attributes.problems(root, 'directory') + attributes.problems(base, 'directory')
    if current != wanted_dir:
        return found + ['current is %s, not %s' % (current or 'missing', wanted_dir)]
    directory = os.path.join(base, wanted_dir)
    if record is None:
        return found + ['%s has no readable provenance record' % directory]
    found += attributes.problems(os.path.join(base, CURRENT), 'link')
    found += attributes.problems(directory, 'directory')
    found += record_problems(record, expected.get('record') or {})
    record_path = _provenance.record_path(directory)
    archive = os.path.join(directory, record['archive']['name'])
    found += attributes.problems(record_path, 'file') + attributes.problems(archive, 'file')
    found += [problem['message'] for problem in _provenance.check(directory, record)]
    try:
        # The role writes the record after placing the archive: an archive changed since is not the one recorded.
        if os.lstat(archive).st_mtime_ns > os.lstat(record_path).st_mtime_ns:
            found.append('%s changed after its provenance record was written' % archive)
    except OSError:
        pass  # reported above as missing
    for name in expected.get('files') or []:
        found += attributes.problems(os.path.join(directory, name), 'file')
    if expected.get('unpacked'):
        found += _unpacked_problems(directory, record['archive']['sha256'], attributes)
    if expected.get('handoff'):
        found += _handoff_problems(archive, expected['handoff'], attributes)
    keep = expected.get('keep')
    if keep is not None:
        kept = release_dirs(base)
        if len(kept) > keep:
            found.append('%s holds %d release directories, more than %d' % (base, len(kept), keep))
    return found
