# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS objects as the modules see them: the comparable fields, value checks, and the lookups of packages,
versions and files by id, name or label, with the request bodies that PUT them back whole.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re

from ansible_collections.terminology.releases.plugins.module_utils import _download
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError
from ansible_collections.terminology.releases.plugins.module_utils._mlds_output import sort_package
from ansible_collections.terminology.releases.plugins.module_utils._state import Field

RELEASE_TYPES = ('online', 'offline', 'alpha/beta')
ONLINE = 'online'
OFFLINE = 'offline'
PACKAGE_TYPES = ('SCT_RF2_ALL', 'SCT_RF2_SNAPSHOT', 'SCT_RF2_FULL', 'OTHER')
_MD5_RE = re.compile(r'^[0-9A-Fa-f]{32}$')
_DATE_RE = re.compile(r'^\d{4}-\d{2}-\d{2}$')

# Comparable options: module option name, MLDS JSON key, comparison kind (see _state).
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


def describe_package(package):
    return 'release package %s (%r, member %s)' % (package.get('releasePackageId'), package.get('name'),
                                                   member_key(package))


def describe_version(version):
    return 'version %s (%r)' % (version.get('releaseVersionId'), version.get('name'))


def sentence(text):
    """text with its first letter in upper case (str.capitalize would lower-case the rest, names included)."""
    return text[:1].upper() + text[1:]


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
    if not isinstance(name, str) or not name.strip():
        raise MldsError('The %s is empty, so it cannot name the downloaded file; set file_name.' % source)
    bad = ('/' in name or '\\' in name or name in ('.', '..') or name.startswith('.')
           or any(ord(char) < 32 or ord(char) == 127 for char in name) or len(name.encode('utf-8')) > 255
           or name != name.strip())
    if bad:
        raise MldsError('Refusing the %s %r as a file name: it is not a plain file name (path separators, a '
                        'leading dot, surrounding spaces, control characters or over 255 bytes). Set file_name to '
                        'choose a name.' % (source, name))
    return name


def guess_content_type(path):
    kind, _encoding = mimetypes.guess_type(path)
    return kind or 'application/octet-stream'


def file_digest(path, chunk_size=_download.CHUNK_SIZE):
    """(md5 hex, size) of a local file, streamed."""
    md5 = hashlib.md5()
    size = 0
    try:
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(chunk_size), b''):
                md5.update(block)
                size += len(block)
    except OSError as exc:
        raise MldsError('Cannot read %s: %s.' % (path, exc.strerror or exc)) from None
    return md5.hexdigest(), size


# ---- lookups shared by the modules ---------------------------------------------------------------

def find_packages(packages, name=None, member=None):
    """Packages with this name (exact) and member key (case-insensitive), either filter optional."""
    found = []
    for package in packages:
        if name is not None and package.get('name') != name:
            continue
        if member is not None and (member_key(package) or '').lower() != member.lower():
            continue
        found.append(package)
    return found


def one_package(packages, name, member=None):
    """The single package with this name (and member), None if there is none; MldsError if ambiguous."""
    found = find_packages(packages, name=name, member=member)
    if len(found) > 1:
        listed = ', '.join('%s (member %s)' % (item.get('releasePackageId'), member_key(item)) for item in found)
        raise MldsError('%d release packages are named %r%s: ids %s. Choose one by id%s.'
                        % (len(found), name, ' in member %s' % member if member else '', listed,
                           '' if member else ' or by member'))
    return found[0] if found else None


def resolve_package(client, package, member=None):
    """A package given as an id (digits, tried first) or a name (+ member). MldsError if not found."""
    text = str(package)
    if text.isdigit():
        found = client.package(int(text), missing_ok=True)
        if found is not None:
            if member is not None and (member_key(found) or '').lower() != member.lower():
                raise MldsError('Release package %s belongs to member %s, not %s.' % (text, member_key(found), member))
            return found
    found = one_package(client.packages(), text, member)
    if found is None:
        raise MldsError('MLDS has no release package %s%r%s visible to this account. Affiliates and anonymous '
                        'callers see only packages with an online (or alpha/beta) version.'
                        % ('with id or name ' if text.isdigit() else 'named ', text,
                           ' in member %s' % member if member else ''))
    return found


def find_versions(package, version_id=None, name=None):
    found = []
    for version in package.get('releaseVersions') or []:
        if version_id is not None and str(version.get('releaseVersionId')) != str(version_id):
            continue
        if name is not None and version.get('name') != name:
            continue
        found.append(version)
    return found


def one_version(package, version_id=None, name=None):
    """The version of package with this id or name, None if absent; MldsError if the name is ambiguous."""
    found = find_versions(package, version_id=version_id, name=name)
    if len(found) > 1:
        raise MldsError('%s has %d versions named %r: ids %s. Choose one by id.'
                        % (sentence(describe_package(package)), len(found), name,
                           ', '.join(str(item.get('releaseVersionId')) for item in found)))
    return found[0] if found else None


def resolve_version(package, version):
    """A version given as an id (digits, tried first) or a name. MldsError if not found."""
    text = str(version)
    found = one_version(package, version_id=int(text)) if text.isdigit() else None
    if found is None:
        found = one_version(package, name=text)
    if found is None:
        names = ', '.join('%s (%r, %s)' % (item.get('releaseVersionId'), item.get('name'), item.get('releaseType'))
                          for item in sort_package(package).get('releaseVersions') or []) or 'none'
        raise MldsError('%s has no version %s%r visible to this account (affiliates see only online and alpha/beta '
                        'versions). Versions: %s.'
                        % (sentence(describe_package(package)), 'with id or name ' if text.isdigit() else 'named ',
                           text, names))
    return found


def one_file(version, file_id=None, label=None):
    found = []
    for release_file in version.get('releaseFiles') or []:
        if file_id is not None and str(release_file.get('releaseFileId')) != str(file_id):
            continue
        if label is not None and release_file.get('label') != label:
            continue
        found.append(release_file)
    if len(found) > 1:
        raise MldsError('%s has %d files labelled %r: ids %s. Choose one by id.'
                        % (sentence(describe_version(version)), len(found), label,
                           ', '.join(str(item.get('releaseFileId')) for item in found)))
    return found[0] if found else None


def default_file(version):
    """The version's primary file, or its only file, for a fetch that names no file."""
    files = version.get('releaseFiles') or []
    primary = [item for item in files if item.get('primaryFile') is True]
    if len(primary) == 1:
        return primary[0]
    if len(files) == 1:
        return files[0]
    listed = ', '.join('%s (%r%s)' % (item.get('releaseFileId'), item.get('label'),
                                      ', primary' if item.get('primaryFile') else '') for item in files) or 'none'
    raise MldsError('%s has %s; choose one with label or file_id. Files: %s.'
                    % (sentence(describe_version(version)),
                       'no files' if not files else 'no single primary file', listed))


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
