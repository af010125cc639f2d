# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The provenance record of a release directory (provenance.json): what the release is, where it came from, what
was verified about its archive and when. The role release_sync writes it, release_drift_info reads it and checks
the files against it.

One record per release directory, JSON with sorted keys, mode 0644, written atomically. It never holds a secret:
a feed URL with credentials in it is refused.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import json
import os
import re
import stat

from ansible_collections.terminology.releases.plugins.module_utils import _fs, _hashing
from ansible_collections.terminology.releases.plugins.module_utils._errors import ReleasesError

RECORD_NAME = 'provenance.json'
RECORD_VERSION = 1
RECORD_MODE = 0o644
SOURCE_KINDS = ('trud', 'mlds', 'feed')
# The most bytes of a record read: records are a few hundred bytes; anything larger is not one.
MAX_RECORD_BYTES = 1 << 20
_HEX64 = re.compile(r'^[0-9a-f]{64}$')
_URL_USERINFO = re.compile(r'^[A-Za-z][A-Za-z0-9+.-]*://[^/@?#]*@')
# Query parameters that carry a credential (a TRUD-style key in the URL, a token, a signed URL's signature).
_SECRET_QUERY = re.compile(r'[?&;](?:[^=&;#]*(?:key|token|password|passwd|secret|signature|sig|auth)[^=&;#]*)=',
                           re.IGNORECASE)


class ProvenanceError(ReleasesError):
    """A record that cannot be written or read as one."""


def record_path(release_dir):
    return os.path.join(release_dir, RECORD_NAME)


def url_problem(url):
    """Why url must not go into a record (it carries a credential), or None."""
    if not isinstance(url, str):
        return 'it is not text'
    if _URL_USERINFO.match(url):
        return 'it has a user name or password in it'
    if _SECRET_QUERY.search(url):
        return 'it has a key, token or signature in its query'
    return None


def shape_problems(record):
    """What makes record something other than a version 1 provenance record (empty when it is one)."""
    if not isinstance(record, dict):
        return ['it is not a JSON object']
    problems = []
    if record.get('version') != RECORD_VERSION:
        problems.append('its version is %s, not %d' % (json.dumps(record.get('version')), RECORD_VERSION))
    if not isinstance(record.get('name'), str) or not record.get('name'):
        problems.append('it has no name')
    source = record.get('source')
    if not isinstance(source, dict) or source.get('kind') not in SOURCE_KINDS:
        problems.append('its source kind is not one of %s' % ', '.join(SOURCE_KINDS))
    elif source['kind'] == 'feed':
        problem = url_problem(source.get('feed'))
        if problem:
            problems.append('its feed URL cannot be recorded: %s' % problem)
    archive = record.get('archive')
    if not isinstance(archive, dict):
        problems.append('it has no archive')
    else:
        name_problem = _fs.plain_file_name_problem(archive.get('name'))
        if name_problem:
            problems.append('its archive name is not a plain file name (%s)' % name_problem)
        size = archive.get('size')
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            problems.append('its archive size is not a number of bytes')
        if not isinstance(archive.get('sha256'), str) or not _HEX64.match(archive['sha256']):
            problems.append('its archive SHA-256 is not 64 lower-case hexadecimal digits')
    return problems


def dumps(record):
    """The bytes of a record as written: JSON, sorted keys, indented for people, newline-terminated."""
    return (json.dumps(record, sort_keys=True, indent=2) + '\n').encode('utf-8')


def write(path, record, mode=RECORD_MODE, write_file=True):
    """Write record to path atomically unless path already holds exactly it; whether it (would have) changed.

    A record that is not one (see shape_problems), or that would carry a credential, is refused."""
    problems = shape_problems(record)
    if problems:
        raise ProvenanceError('Refusing to write the provenance record %s: %s.' % (path, '; '.join(problems)))
    return _fs.write_if_different(path, dumps(record), write_file, mode)


def read(path):
    """The record at path; ProvenanceError saying why when it is missing, unreadable or not a record."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read(MAX_RECORD_BYTES + 1)
    except FileNotFoundError:
        raise ProvenanceError('There is no provenance record %s.' % path) from None
    except OSError as exc:
        raise ProvenanceError('The provenance record %s cannot be read: %s.' % (path, exc.strerror or exc)) from None
    if len(data) > MAX_RECORD_BYTES:
        raise ProvenanceError('The provenance record %s is over %d bytes: it is not a record.' % (path, MAX_RECORD_BYTES))
    try:
        record = json.loads(data.decode('utf-8'))
    except ValueError as exc:
        raise ProvenanceError('The provenance record %s is not JSON: %s.' % (path, exc)) from None
    problems = shape_problems(record)
    if problems:
        raise ProvenanceError('The provenance record %s is not a provenance record: %s.' % (path, '; '.join(problems)))
    return record


def problem(kind, path, message):
    return {'kind': kind, 'path': path, 'message': message}


def check(release_dir, record, rehash=False):
    """The ways the archive in release_dir differs from its record: a list of {kind, path, message}, empty when
    none. kind: missing, not a file, size, sha256. Sizes are always compared (one stat); the archive is read, for
    its SHA-256, only when rehash is true and the size matches."""
    archive = record['archive']
    path = os.path.join(release_dir, archive['name'])
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return [problem('missing', path, 'The archive %s is missing.' % path)]
    if not stat.S_ISREG(info.st_mode):
        return [problem('not a file', path, 'The archive %s is not a regular file.' % path)]
    if info.st_size != archive['size']:
        return [problem('size', path, 'The archive %s has %d bytes; its provenance record says %d.'
                        % (path, info.st_size, archive['size']))]
    if rehash:
        _size, digests = _hashing.hash_file(path, ['sha256'])
        if digests['sha256'] != archive['sha256']:
            return [problem('sha256', path, 'The archive %s has the SHA-256 %s; its provenance record says %s.'
                            % (path, digests['sha256'], archive['sha256']))]
    return []
