# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS objects' fields: the comparable fields of packages, versions and files, value checks, and the request
bodies that PUT them back whole. Finding an object by id, name or label is _mlds_select's.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import mimetypes
import re

from ansible_collections.terminology.releases.plugins.module_utils import _fs
from ansible_collections.terminology.releases.plugins.module_utils._hashing import CHUNK_SIZE, hash_file
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError
from ansible_collections.terminology.releases.plugins.module_utils._mlds_state import Field

RELEASE_TYPES = ('online', 'offline', 'alpha/beta')
ONLINE = 'online'
OFFLINE = 'offline'
PACKAGE_TYPES = ('SCT_RF2_ALL', 'SCT_RF2_SNAPSHOT', 'SCT_RF2_FULL', 'OTHER')
_MD5_RE = re.compile(r'^[0-9A-Fa-f]{32}$')
_DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')

# Comparable options: module option name, MLDS JSON key, comparison kind (see _mlds_state).
PACKAGE_FIELDS = (
    Field('name', 'name'),
    Field('description', 'description'),
    Field('copyrights', 'copyrights'),
    Field('release_package_uri', 'releasePackageURI'),
    Field('member', 'member', 'member'),
    Field('priority', 'priority', 'priority'),
)
VERSION_FIELDS = (
    Field('name', 'name'),
    Field('description', 'description'),
    Field('summary', 'summary'),
    Field('release_type', 'releaseType'),
    Field('published_at', 'publishedAt'),
    Field('version_uri', 'versionURI'),
    Field('version_dependent_uri', 'versionDependentURI'),
    Field('version_dependent_derivative_uri', 'versionDependentDerivativeURI'),
    Field('package_type', 'packageType'),
    Field('archived', 'archive', 'bool'),
)
# The fields a version PUT copies from its body (a missing one becomes null; a missing releaseType is a 500).
VERSION_PUT_FIELDS = ('name', 'description', 'releaseType', 'publishedAt', 'summary', 'versionURI',
                      'versionDependentURI', 'versionDependentDerivativeURI', 'packageType')
FILE_FIELDS = (
    Field('label', 'label'),
    Field('download_url', 'downloadUrl'),
    Field('md5_hash', 'md5Hash'),
    Field('file_size', 'fileSize', 'size'),
    Field('primary_file', 'primaryFile', 'bool'),
)
FILE_PUT_FIELDS = ('releaseFileId', 'label', 'downloadUrl', 'md5Hash', 'fileSize', 'primaryFile')


# ---- helpers on server objects -------------------------------------------------------------------

def is_online(version):
    """releaseType "online", compared case-insensitively as MLDS does."""
    value = version.get('releaseType') if version else None
    return isinstance(value, str) and value.lower() == ONLINE


def member_key(package):
    member = package.get('member') if package else None
    return member.get('key') if isinstance(member, dict) else None


def member_ref(member):
    """The member reference MLDS needs in a body: id and key, as GET /api/members gives them."""
    return {'memberId': member.get('memberId'), 'key': member.get('key')}


def file_size_value(value):
    """fileSize as an int, or None when absent or not a whole number ("123" and 123 both give 123)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def valid_md5(value):
    return isinstance(value, str) and bool(_MD5_RE.match(value.strip()))


def valid_date(value):
    return isinstance(value, str) and bool(_DATE_RE.match(value))


def safe_file_name(name, source):
    """name if it is a plain file name that cannot leave the destination directory; else MldsError."""
    return _fs.safe_file_name(name, source, MldsError, strip=True, hint='Set file_name to choose a name.')


def guess_content_type(path):
    kind, _encoding = mimetypes.guess_type(path)
    return kind or 'application/octet-stream'


def file_digest(path, chunk_size=CHUNK_SIZE):
    """(md5 hex, size) of a local file, streamed."""
    try:
        size, digests = hash_file(path, ['md5'], chunk_size)
    except OSError as exc:
        raise MldsError('Cannot read %s: %s.' % (path, exc.strerror or exc)) from None
    return digests['md5'], size


# ---- request bodies ------------------------------------------------------------------------------

def package_put_body(current, member, priority):
    """The whole package for a PUT: every field as read, the member as {memberId, key}, and a priority (MLDS
    moves a package sent without one to the bottom). Versions are managed by their own endpoints."""
    body = dict((key, value) for key, value in current.items() if key != 'releaseVersions')
    body['member'] = member_ref(member)
    body['priority'] = priority
    return body


def version_put_body(current):
    """The whole version for a PUT, without the legacy `online` boolean (MLDS 5.2 guards package deletes with
    it, and a PUT never clears it) and without the files (managed by their own endpoints)."""
    body = dict((key, value) for key, value in current.items() if key not in ('online', 'releaseFiles'))
    for key in VERSION_PUT_FIELDS:
        body.setdefault(key, None)
    if not body.get('releaseType'):
        body['releaseType'] = OFFLINE  # null would be a 500 (NPE) on 5.2
    return body


def file_put_body(current):
    """The file for a PUT on the collection URL: the copied fields, with releaseFileId."""
    return dict((key, current.get(key)) for key in FILE_PUT_FIELDS)
