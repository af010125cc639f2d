# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How MLDS objects are shown in module results: snake_case keys, ids in order, credentials masked in URLs.

PRIVATE to this collection: it may change without notice.
"""

from __future__ import annotations

import re

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

_URL_USERINFO_RE = re.compile(r'^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@')


# ---- output --------------------------------------------------------------------------------------

def mask_url_credentials(value):
    """A URL with user:password@ in it keeps the host and path but loses the credentials."""
    if isinstance(value, str) and '://' in value:
        return _URL_USERINFO_RE.sub(r'\1********@', value)
    return value


def sort_key(item, key):
    value = item.get(key) if isinstance(item, dict) else None
    return (value is None, value if isinstance(value, int) else 0, str(value))


def sort_package(package):
    """A copy of a package with its versions and their files in a stable order (by id)."""
    package = dict(package)
    versions = []
    for version in package.get('releaseVersions') or []:
        version = dict(version)
        version['releaseFiles'] = sorted(version.get('releaseFiles') or [], key=lambda f: sort_key(f, 'releaseFileId'))
        versions.append(version)
    if 'releaseVersions' in package:
        package['releaseVersions'] = sorted(versions, key=lambda v: sort_key(v, 'releaseVersionId'))
    return package


def to_output(value):
    """A server object as modules return it: snake_case keys (core's rule), stable order, URL credentials masked."""
    return camel_dict_to_snake_dict(_ordered_and_masked(value))


def _ordered_and_masked(value):
    if isinstance(value, dict):
        if 'releaseVersions' in value:
            value = sort_package(value)
        elif 'releaseFiles' in value:
            value = dict(value)
            value['releaseFiles'] = sorted(value.get('releaseFiles') or [], key=lambda f: sort_key(f, 'releaseFileId'))
        return dict((key, _ordered_and_masked(item)) for key, item in value.items())
    if isinstance(value, list):
        return [_ordered_and_masked(item) for item in value]
    return mask_url_credentials(value)
