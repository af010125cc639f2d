# -*- coding: utf-8 -*-
# Copyright: terminology.releases contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""MLDS objects' fields (_mlds_fields): the PUT bodies sent back whole, value checks, file names, digests and
content types."""

from __future__ import annotations

import hashlib
import os

import pytest

from ansible_collections.terminology.releases.plugins.module_utils import _mlds_fields
from ansible_collections.terminology.releases.plugins.module_utils._mlds import MldsError

from mlds_utest import MEMBERS, PACKAGE


def test_package_put_body_is_whole_with_member_and_priority():
    body = _mlds_fields.package_put_body(PACKAGE, MEMBERS[1], 2)
    assert 'releaseVersions' not in body
    assert body['member'] == {'memberId': 7, 'key': 'SE'}
    assert body['priority'] == 2
    for key in ('releasePackageId', 'name', 'description', 'copyrights', 'releasePackageURI', 'createdAt'):
        assert body[key] == PACKAGE[key]


def test_version_put_body_never_sends_online_and_always_sends_release_type():
    version = dict(PACKAGE['releaseVersions'][1], online=True)
    body = _mlds_fields.version_put_body(version)
    assert 'online' not in body and 'releaseFiles' not in body
    assert body['releaseType'] == 'online'
    sparse = _mlds_fields.version_put_body({'releaseVersionId': 4107, 'name': 'x', 'releaseType': None})
    assert sparse['releaseType'] == 'offline'
    for key in _mlds_fields.VERSION_PUT_FIELDS:
        assert key in sparse


@pytest.mark.parametrize('value, size', [('123', 123), (123, 123), (' 9 ', 9), ('', None), (None, None),
                                         ('12a', None), (-1, None), (True, None), (5.0, 5)])
def test_file_size_value(value, size):
    assert _mlds_fields.file_size_value(value) == size


@pytest.mark.parametrize('name', ['../x.zip', 'a/b.zip', 'a\\b.zip', '.hidden', '..', '', ' x.zip', 'x\n.zip',
                                  'x' * 256])
def test_unsafe_file_names_are_refused(name):
    with pytest.raises(MldsError):
        _mlds_fields.safe_file_name(name, 'label of file 1')


def test_plain_file_names_are_kept():
    assert _mlds_fields.safe_file_name('RF2 zip (final).zip', 'label') == 'RF2 zip (final).zip'


def test_file_digest_streams_md5_and_size(tmp_path):
    path = tmp_path / 'f.bin'
    data = os.urandom(3 * 1024 + 5)
    path.write_bytes(data)
    assert _mlds_fields.file_digest(str(path), chunk_size=1024) == (hashlib.md5(data).hexdigest(), len(data))
    with pytest.raises(MldsError, match='Cannot read'):
        _mlds_fields.file_digest(str(tmp_path / 'missing'))


def test_guess_content_type():
    assert _mlds_fields.guess_content_type('/x/licence.pdf') == 'application/pdf'
    assert _mlds_fields.guess_content_type('/x/licence') == 'application/octet-stream'
