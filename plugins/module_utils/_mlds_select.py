# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Finding MLDS objects the way the modules name them: a package by id or name (and member), a version by id or
name, a file by id, label or as the version's primary file. One rule for every module and the role.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError
from ansible_collections.terminology.releases.plugins.module_utils._mlds_fields import member_key
from ansible_collections.terminology.releases.plugins.module_utils._mlds_output import sort_package


def describe_package(package):
    return 'release package %s (%r, member %s)' % (package.get('releasePackageId'), package.get('name'),
                                                   member_key(package))


def describe_version(version):
    return 'version %s (%r)' % (version.get('releaseVersionId'), version.get('name'))


def sentence(text):
    """text with its first letter in upper case (str.capitalize would lower-case the rest, names included)."""
    return text[:1].upper() + text[1:]


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


def select_file(package, version, file_id=None, label=None):
    """The file a fetch means: by id, by label, else the primary (or only) file. MldsError naming the files if
    there is no such file."""
    if file_id is not None:
        found, asked = one_file(version, file_id=file_id), 'with id %s' % file_id
    elif label is not None:
        found, asked = one_file(version, label=label), 'labelled %r' % label
    else:
        return default_file(version)
    if found is None:
        labels = ', '.join('%s (%r)' % (item.get('releaseFileId'), item.get('label'))
                           for item in version.get('releaseFiles') or []) or 'none'
        raise MldsError('%s of %s has no file %s. Files: %s.'
                        % (sentence(describe_version(version)), describe_package(package), asked, labels))
    return found
